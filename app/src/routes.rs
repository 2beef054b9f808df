//! Every page but the Dashboard is a lazy route: in the browser its code is
//! fetched when the page is first shown, so the first load carries only the
//! shell and the Dashboard. On the server the pages render as usual.
//!
//! The lazy code is split by section, not by page: the pages of a section
//! (the settings pages, say) share one lazy function, so they share their
//! code's chunks. Split per page, the 17 pages' code was spread over 189
//! modules (one for every set of pages that shares some code), and a page's
//! first load fetched and instantiated up to 57 of them; by section, 56 and
//! at most 32.
//!
//! The sections' lazy functions are written out one by one: each split
//! point is named after the place it is written, which a macro would share.
//! A route only says which page of which section it shows.

use leptos::lazy;
use leptos::prelude::*;
use leptos_router::LazyRoute;

use crate::alerts::page::AlertsPage;
use crate::auth::page::{LoginPage, SetupPage};
use crate::backups::page::BackupsPage;
use crate::error_groups::page::{ErrorDetailPage, ErrorsPage, ReleasesPage};
use crate::events::page::{EventDetailPage, EventsPage};
use crate::probes::page::{PublicStatusPage, ServiceDetailPage, ServicesPage};
use crate::settings::{AuditPage, KeysPage, PrivacyPage, RetentionPage, UsersPage};

/// Signing in and the first set-up.
#[derive(Clone, Copy)]
pub enum SignInSection {
    Login,
    Setup,
}

#[lazy]
fn sign_in_section(page: SignInSection) -> AnyView {
    match page {
        SignInSection::Login => view! { <LoginPage /> }.into_any(),
        SignInSection::Setup => view! { <SetupPage /> }.into_any(),
    }
}

/// Services, one service, and the public status page.
#[derive(Clone, Copy)]
pub enum ServicesSection {
    List,
    Detail,
    PublicStatus,
}

#[lazy]
fn services_section(page: ServicesSection) -> AnyView {
    match page {
        ServicesSection::List => view! { <ServicesPage /> }.into_any(),
        ServicesSection::Detail => view! { <ServiceDetailPage /> }.into_any(),
        ServicesSection::PublicStatus => view! { <PublicStatusPage /> }.into_any(),
    }
}

/// The event explorer and one event.
#[derive(Clone, Copy)]
pub enum EventsSection {
    List,
    Detail,
}

#[lazy]
fn events_section(page: EventsSection) -> AnyView {
    match page {
        EventsSection::List => view! { <EventsPage /> }.into_any(),
        EventsSection::Detail => view! { <EventDetailPage /> }.into_any(),
    }
}

/// Error groups, releases, and one error group.
#[derive(Clone, Copy)]
pub enum ErrorsSection {
    List,
    Releases,
    Detail,
}

#[lazy]
fn errors_section(page: ErrorsSection) -> AnyView {
    match page {
        ErrorsSection::List => view! { <ErrorsPage /> }.into_any(),
        ErrorsSection::Releases => view! { <ReleasesPage /> }.into_any(),
        ErrorsSection::Detail => view! { <ErrorDetailPage /> }.into_any(),
    }
}

/// Backups (one page).
#[lazy]
fn backups_section() -> AnyView {
    view! { <BackupsPage /> }.into_any()
}

/// Alerts (one page).
#[lazy]
fn alerts_section() -> AnyView {
    view! { <AlertsPage /> }.into_any()
}

/// The settings pages.
#[derive(Clone, Copy)]
pub enum SettingsSection {
    Users,
    Keys,
    Audit,
    Privacy,
    Retention,
}

#[lazy]
fn settings_section(page: SettingsSection) -> AnyView {
    match page {
        SettingsSection::Users => view! { <UsersPage /> }.into_any(),
        SettingsSection::Keys => view! { <KeysPage /> }.into_any(),
        SettingsSection::Audit => view! { <AuditPage /> }.into_any(),
        SettingsSection::Privacy => view! { <PrivacyPage /> }.into_any(),
        SettingsSection::Retention => view! { <RetentionPage /> }.into_any(),
    }
}

/// A route showing one page of a section: its view awaits the section's
/// code; preloading (a link's hover, say) fetches it.
macro_rules! section_route {
    ($route:ident => $section:ident($($page:expr)?), $preload:ident) => {
        pub struct $route;

        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            async fn view(_this: Self) -> AnyView {
                $section($($page)?).await
            }

            async fn preload() {
                #[cfg(target_arch = "wasm32")]
                $preload().await;
            }
        }
    };
}

section_route!(LoginRoute => sign_in_section(SignInSection::Login), __preload_sign_in_section);
section_route!(SetupRoute => sign_in_section(SignInSection::Setup), __preload_sign_in_section);
section_route!(ServicesRoute => services_section(ServicesSection::List), __preload_services_section);
section_route!(ServiceDetailRoute => services_section(ServicesSection::Detail), __preload_services_section);
section_route!(PublicStatusRoute => services_section(ServicesSection::PublicStatus), __preload_services_section);
section_route!(EventsRoute => events_section(EventsSection::List), __preload_events_section);
section_route!(EventDetailRoute => events_section(EventsSection::Detail), __preload_events_section);
section_route!(ErrorsRoute => errors_section(ErrorsSection::List), __preload_errors_section);
section_route!(ReleasesRoute => errors_section(ErrorsSection::Releases), __preload_errors_section);
section_route!(ErrorDetailRoute => errors_section(ErrorsSection::Detail), __preload_errors_section);
section_route!(BackupsRoute => backups_section(), __preload_backups_section);
section_route!(AlertsRoute => alerts_section(), __preload_alerts_section);
section_route!(UsersRoute => settings_section(SettingsSection::Users), __preload_settings_section);
section_route!(KeysRoute => settings_section(SettingsSection::Keys), __preload_settings_section);
section_route!(AuditRoute => settings_section(SettingsSection::Audit), __preload_settings_section);
section_route!(PrivacyRoute => settings_section(SettingsSection::Privacy), __preload_settings_section);
section_route!(RetentionRoute => settings_section(SettingsSection::Retention), __preload_settings_section);
