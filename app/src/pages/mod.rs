//! Small pages that need no feature module of their own.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found" />
        <header class="page-header">
            <h1>"Page not found"</h1>
        </header>
        <section class="panel empty-state">
            <p>"There is no page at this address. " <a href="/">"Back to the dashboard"</a></p>
        </section>
    }
}
