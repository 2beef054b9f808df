//! The language switch: German | English, keeping the page.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use super::i18n::I18nLocaleTrait as _;
use super::{Locale, t_string, use_i18n, use_locale};

/// The current URL with `lang` set to `locale` (what the switch links to:
/// it works before the WebAssembly has loaded, and without it).
fn href_for(path: &str, search: &str, locale: Locale) -> String {
    let mut params: Vec<&str> = search
        .trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("lang="))
        .collect();
    let lang = format!("lang={}", locale.as_str());
    params.push(&lang);
    format!("{path}?{}", params.join("&"))
}

/// Links to the page in each language; the current one is marked. In the
/// browser a click stores the choice and reloads the same URL.
#[component]
pub fn LangSwitch() -> impl IntoView {
    let i18n = use_i18n();
    let current = use_locale();
    let location = use_location();
    let entries = [(Locale::de, "DE", "Deutsch"), (Locale::en, "EN", "English")];
    view! {
        <nav class="lang-switch" aria-label=t_string!(i18n, lang.switch)>
            {entries
                .into_iter()
                .map(|(locale, short, name)| {
                    let href = move || {
                        href_for(&location.pathname.get(), &location.search.get(), locale)
                    };
                    view! {
                        <a
                            href=href
                            rel="external"
                            hreflang=locale.as_str()
                            lang=locale.as_str()
                            title=name
                            aria-current=(locale == current).then_some("true")
                            on:click=move |ev| switch_to(ev, locale)
                        >
                            // The visible code and the spoken name (an
                            // aria-label would hide the visible text).
                            <span aria-hidden="true">{short}</span>
                            <span class="visually-hidden">{name}</span>
                        </a>
                    }
                })
                .collect_view()}
        </nav>
    }
}

/// Stores the choice in the `lang` cookie and shows the same URL again; a
/// `lang` on the URL would win over the cookie, so then it is replaced.
#[cfg(feature = "hydrate")]
fn switch_to(ev: leptos::ev::MouseEvent, locale: Locale) {
    use wasm_bindgen::JsCast;
    let Some(doc) = document().dyn_into::<web_sys::HtmlDocument>().ok() else {
        return;
    };
    ev.prevent_default();
    let _ = doc.set_cookie(&format!(
        "{}={}; Path=/; Max-Age=31536000; SameSite=Lax",
        super::COOKIE,
        locale.as_str()
    ));
    let location = window().location();
    let search = location.search().unwrap_or_default();
    if super::choice::from_query(search.trim_start_matches('?')).is_some() {
        let path = location.pathname().unwrap_or_default();
        let _ = location.set_href(&href_for(&path, &search, locale));
    } else {
        let _ = location.reload();
    }
}

#[cfg(not(feature = "hydrate"))]
fn switch_to(_ev: leptos::ev::MouseEvent, _locale: Locale) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switch_links_keep_the_path_and_other_parameters() {
        assert_eq!(href_for("/errors", "", Locale::de), "/errors?lang=de");
        assert_eq!(
            href_for("/events", "?service=a&lang=de", Locale::en),
            "/events?service=a&lang=en"
        );
    }
}
