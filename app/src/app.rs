//! The HTML shell, the router and the page layout.

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{Lazy, SsrMode, path};

use crate::components::layout::Layout;
use crate::dashboard::page::DashboardPage;
use crate::lang::i18n::I18nLocaleTrait as _;
use crate::pages::NotFound;
use crate::routes::*;

/// The document around the app; rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_page_csp();
    #[cfg(feature = "ssr")]
    let locale = crate::lang::shell_locale();
    #[cfg(not(feature = "ssr"))]
    let locale = crate::lang::Locale::default();
    #[cfg(feature = "ssr")]
    let boot = view! { <crate::components::boot::Boot options=options.clone() /> };
    #[cfg(not(feature = "ssr"))]
    let boot = ();
    view! {
        <!DOCTYPE html>
        <html lang=locale.as_str() data-theme=crate::components::theme::html_attribute()>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover" />
                <meta name="color-scheme" content="light dark" />
                <meta name="theme-color" content="#0f172a" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <link rel="manifest" href="/manifest.webmanifest" />
                <link rel="apple-touch-icon" href="/icons/icon-192.png" />
                // In the shell, not a hydrated meta component: nothing to
                // match up in the browser, and it loads before the body.
                <link id="leptos" rel="stylesheet" href="/pkg/leitstand.css" />
                // Service worker, update notice, install button (public/pwa.js).
                <script src="/pwa.js" defer></script>
                <AutoReload options=options.clone() />
                <MetaTags />
            </head>
            <body>
                <App />
                // The WebAssembly is fetched after the first paint and
                // hydrates the page then (components::boot).
                {boot}
            </body>
        </html>
    }
}

/// The page's Content-Security-Policy names this render's script nonce, so
/// the hydration script runs and nothing else inline does.
#[cfg(feature = "ssr")]
fn set_page_csp() {
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
         font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
         frame-ancestors 'none'; manifest-src 'self'; worker-src 'self'"
    );
    if let Ok(value) = axum::http::HeaderValue::from_str(&policy) {
        response.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, value);
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    #[cfg(feature = "ssr")]
    let locale = crate::lang::request_locale();
    #[cfg(feature = "hydrate")]
    let locale = crate::lang::document_locale();
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    let locale = crate::lang::Locale::default();
    crate::lang::provide(locale);
    view! {
        <Title formatter=|page: String| {
            if page.is_empty() { "Leitstand".to_owned() } else { format!("{page} · Leitstand") }
        } />
        <Router>
            <Layout>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=DashboardPage ssr=SsrMode::Async />
                    <Route path=path!("/login") view={Lazy::<LoginRoute>::new()} />
                    <Route path=path!("/setup") view={Lazy::<SetupRoute>::new()} />
                    <Route path=path!("/services") view={Lazy::<ServicesRoute>::new()} />
                    <Route path=path!("/services/:slug") view={Lazy::<ServiceDetailRoute>::new()} />
                    <Route path=path!("/status") view={Lazy::<PublicStatusRoute>::new()} />
                    <Route path=path!("/events") view={Lazy::<EventsRoute>::new()} />
                    <Route path=path!("/events/:id") view={Lazy::<EventDetailRoute>::new()} />
                    <Route path=path!("/errors") view={Lazy::<ErrorsRoute>::new()} />
                    <Route path=path!("/errors/releases") view={Lazy::<ReleasesRoute>::new()} />
                    <Route path=path!("/errors/:id") view={Lazy::<ErrorDetailRoute>::new()} />
                    <Route path=path!("/backups") view={Lazy::<BackupsRoute>::new()} />
                    <Route path=path!("/alerts") view={Lazy::<AlertsRoute>::new()} />
                    <Route path=path!("/settings") view={Lazy::<UsersRoute>::new()} />
                    <Route path=path!("/settings/keys") view={Lazy::<KeysRoute>::new()} />
                    <Route path=path!("/settings/audit") view={Lazy::<AuditRoute>::new()} />
                    <Route path=path!("/settings/privacy") view={Lazy::<PrivacyRoute>::new()} />
                    <Route path=path!("/settings/retention") view={Lazy::<RetentionRoute>::new()} />
                </Routes>
            </Layout>
        </Router>
    }
}
