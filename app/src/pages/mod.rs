//! Small pages that need no feature module of their own.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    let i18n = crate::lang::use_i18n();
    view! {
        <Title text=crate::lang::t_string!(i18n, not_found.title) />
        <header class="page-header">
            <h1>{crate::lang::t!(i18n, not_found.heading)}</h1>
        </header>
        <section class="panel empty-state">
            <p>{crate::lang::t!(i18n, not_found.text)} " " <a href="/">{crate::lang::t!(i18n, not_found.back)}</a></p>
        </section>
    }
}
