//! The language of the request being served (server only).

use axum::http::{HeaderMap, HeaderValue, header};
use leptos::prelude::use_context;

use super::Locale;
use super::choice::{Asked, choose, from_query};
use super::i18n::I18nLocaleTrait as _;

/// The instance default: `--default-language`, English without a state.
fn instance_default() -> Locale {
    use_context::<crate::state::AppState>()
        .map(|s| s.default_language)
        .unwrap_or_default()
}

fn header(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The language for a render or server function of the current request.
pub fn request_locale() -> Locale {
    let default = instance_default();
    let Some(parts) = use_context::<axum::http::request::Parts>() else {
        return default;
    };
    let asked = Asked {
        query: parts.uri.query(),
        cookie: header(&parts.headers, header::COOKIE),
        accept_language: header(&parts.headers, header::ACCEPT_LANGUAGE),
    };
    choose(asked, default)
}

/// The language of the page being rendered. A `?lang=` on the URL is also
/// remembered (the `lang` cookie), so the next page keeps it.
pub fn shell_locale() -> Locale {
    let locale = request_locale();
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return locale;
    };
    // The same URL reads differently per language: caches must know.
    response.append_header(
        header::VARY,
        HeaderValue::from_static("Accept-Language, Cookie"),
    );
    let from_url = use_context::<axum::http::request::Parts>()
        .and_then(|p| p.uri.query().and_then(from_query));
    if let Some(chosen) = from_url {
        let cookie = format!(
            "{}={}; Path=/; Max-Age=31536000; SameSite=Lax",
            super::COOKIE,
            chosen.as_str()
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.append_header(header::SET_COOKIE, value);
        }
    }
    locale
}
