//! Light, dark or the system's setting: a cookie the server reads to
//! render `<html data-theme>` (so the first paint is already right) and a
//! switch in the top bar that changes it in place.

use leptos::prelude::*;

use crate::lang::{t_string, use_i18n};

/// The cookie that remembers the choice (a display preference, not a secret).
pub const COOKIE: &str = "leitstand_theme";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    System,
    Light,
    Dark,
}

impl Theme {
    pub fn parse(s: &str) -> Self {
        match s.trim() {
            "light" => Self::Light,
            "dark" => Self::Dark,
            _ => Self::System,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::Light => "light",
            Self::Dark => "dark",
        }
    }

    /// The next one the switch offers.
    pub fn next(self) -> Self {
        match self {
            Self::System => Self::Light,
            Self::Light => Self::Dark,
            Self::Dark => Self::System,
        }
    }
}

/// The theme named in a `Cookie` header.
pub fn from_cookie_header(header: &str) -> Theme {
    header
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| name.trim() == COOKIE)
        .map_or(Theme::System, |(_, value)| Theme::parse(value))
}

/// The theme of the request being rendered (server) or of the page (browser).
pub fn current() -> Theme {
    #[cfg(feature = "ssr")]
    {
        use_context::<axum::http::request::Parts>()
            .and_then(|parts| {
                parts
                    .headers
                    .get(axum::http::header::COOKIE)
                    .and_then(|v| v.to_str().ok())
                    .map(from_cookie_header)
            })
            .unwrap_or(Theme::System)
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        document()
            .document_element()
            .and_then(|e| e.get_attribute("data-theme"))
            .map_or(Theme::System, |v| Theme::parse(&v))
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        Theme::System
    }
}

/// The `data-theme` attribute of `<html>`: none for the system's setting.
pub fn html_attribute() -> Option<&'static str> {
    match current() {
        Theme::System => None,
        other => Some(other.as_str()),
    }
}

/// A button that cycles system → light → dark; the choice is kept a year.
#[component]
pub fn ThemeSwitch() -> impl IntoView {
    let i18n = use_i18n();
    let theme = RwSignal::new(current());
    let label = move || match theme.get() {
        Theme::System => t_string!(i18n, theme.system),
        Theme::Light => t_string!(i18n, theme.light),
        Theme::Dark => t_string!(i18n, theme.dark),
    };
    let short = move || match theme.get() {
        Theme::System => t_string!(i18n, theme.system_short),
        Theme::Light => t_string!(i18n, theme.light_short),
        Theme::Dark => t_string!(i18n, theme.dark_short),
    };
    let choose = move |_| {
        let next = theme.get_untracked().next();
        theme.set(next);
        #[cfg(feature = "hydrate")]
        apply(next);
    };
    view! {
        <button type="button" class="btn small theme-switch" data-testid="theme-switch"
            aria-label=label title=label
            data-theme=move || theme.get().as_str()
            on:click=choose>
            <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true">
                <circle cx="12" cy="12" r="8" fill="none" stroke="currentColor" stroke-width="2" />
                <path d="M12 4a8 8 0 0 1 0 16z" fill="currentColor" />
            </svg>
            <span class="theme-name" aria-hidden="true">{short}</span>
        </button>
    }
}

#[cfg(feature = "hydrate")]
fn apply(theme: Theme) {
    use wasm_bindgen::JsCast;
    let doc = document();
    if let Some(root) = doc.document_element() {
        let _ = match theme {
            Theme::System => root.remove_attribute("data-theme"),
            other => root.set_attribute("data-theme", other.as_str()),
        };
    }
    if let Ok(html) = doc.dyn_into::<web_sys::HtmlDocument>() {
        let _ = html.set_cookie(&format!(
            "{COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
            theme.as_str()
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_header_names_the_theme() {
        assert_eq!(from_cookie_header("a=1; leitstand_theme=dark"), Theme::Dark);
        assert_eq!(
            from_cookie_header("leitstand_theme=light;x=y"),
            Theme::Light
        );
        assert_eq!(from_cookie_header("leitstand_theme=purple"), Theme::System);
        assert_eq!(from_cookie_header("other_theme=dark"), Theme::System);
        assert_eq!(from_cookie_header(""), Theme::System);
    }

    #[test]
    fn the_switch_cycles_through_all_three() {
        let mut t = Theme::System;
        let mut seen = vec![];
        for _ in 0..3 {
            t = t.next();
            seen.push(t);
        }
        assert_eq!(seen, [Theme::Light, Theme::Dark, Theme::System]);
    }
}
