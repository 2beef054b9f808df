//! The HTML shell, the router and the page layout.

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::alerts::page::AlertsPage;
use crate::auth::page::{LoginPage, SetupPage};
use crate::backups::page::BackupsPage;
use crate::components::layout::Layout;
use crate::dashboard::page::DashboardPage;
use crate::error_groups::page::{ErrorDetailPage, ErrorsPage, ReleasesPage};
use crate::events::page::{EventDetailPage, EventsPage};
use crate::lang::i18n::I18nLocaleTrait as _;
use crate::pages::NotFound;
use crate::probes::page::{PublicStatusPage, ServiceDetailPage, ServicesPage};
use crate::settings::{AuditPage, KeysPage, PrivacyPage, RetentionPage, UsersPage};

/// The document around the app; rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_page_csp();
    #[cfg(feature = "ssr")]
    let locale = crate::lang::shell_locale();
    #[cfg(not(feature = "ssr"))]
    let locale = crate::lang::Locale::default();
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
                // Service worker, update notice, install button (public/pwa.js).
                <script src="/pwa.js" defer></script>
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
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
    // Marks the page as interactive once the WebAssembly has taken over
    // (tests and users of assistive tech can rely on it).
    #[cfg(feature = "hydrate")]
    Effect::new(|| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "");
        }
    });
    view! {
        <Stylesheet id="leptos" href="/pkg/leitstand.css" />
        <Title formatter=|page: String| {
            if page.is_empty() { "Leitstand".to_owned() } else { format!("{page} · Leitstand") }
        } />
        <Router>
            <Layout>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=DashboardPage />
                    <Route path=path!("/login") view=LoginPage />
                    <Route path=path!("/setup") view=SetupPage />
                    <Route path=path!("/services") view=ServicesPage />
                    <Route path=path!("/services/:slug") view=ServiceDetailPage />
                    <Route path=path!("/status") view=PublicStatusPage />
                    <Route path=path!("/events") view=EventsPage />
                    <Route path=path!("/events/:id") view=EventDetailPage />
                    <Route path=path!("/errors") view=ErrorsPage />
                    <Route path=path!("/errors/releases") view=ReleasesPage />
                    <Route path=path!("/errors/:id") view=ErrorDetailPage />
                    <Route path=path!("/backups") view=BackupsPage />
                    <Route path=path!("/alerts") view=AlertsPage />
                    <Route path=path!("/settings") view=UsersPage />
                    <Route path=path!("/settings/keys") view=KeysPage />
                    <Route path=path!("/settings/audit") view=AuditPage />
                    <Route path=path!("/settings/privacy") view=PrivacyPage />
                    <Route path=path!("/settings/retention") view=RetentionPage />
                </Routes>
            </Layout>
        </Router>
    }
}
