//! Every page but the Dashboard is a lazy route: in the browser its code is
//! a separate WebAssembly chunk, fetched when the page is first shown, so the
//! first load carries only the shell and the Dashboard. On the server the
//! pages render as usual.
//!
//! The blocks are written out one by one: each split point is named after
//! the place it is written, which a macro would share.

use leptos::prelude::*;
use leptos_router::{LazyRoute, lazy_route};

use crate::alerts::page::AlertsPage;
use crate::auth::page::{LoginPage, SetupPage};
use crate::backups::page::BackupsPage;
use crate::error_groups::page::{ErrorDetailPage, ErrorsPage, ReleasesPage};
use crate::events::page::{EventDetailPage, EventsPage};
use crate::probes::page::{PublicStatusPage, ServiceDetailPage, ServicesPage};
use crate::settings::{AuditPage, KeysPage, PrivacyPage, RetentionPage, UsersPage};

pub struct LoginRoute;

#[lazy_route]
impl LazyRoute for LoginRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <LoginPage /> }.into_any()
    }
}

pub struct SetupRoute;

#[lazy_route]
impl LazyRoute for SetupRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <SetupPage /> }.into_any()
    }
}

pub struct ServicesRoute;

#[lazy_route]
impl LazyRoute for ServicesRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <ServicesPage /> }.into_any()
    }
}

pub struct ServiceDetailRoute;

#[lazy_route]
impl LazyRoute for ServiceDetailRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <ServiceDetailPage /> }.into_any()
    }
}

pub struct PublicStatusRoute;

#[lazy_route]
impl LazyRoute for PublicStatusRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <PublicStatusPage /> }.into_any()
    }
}

pub struct EventsRoute;

#[lazy_route]
impl LazyRoute for EventsRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <EventsPage /> }.into_any()
    }
}

pub struct EventDetailRoute;

#[lazy_route]
impl LazyRoute for EventDetailRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <EventDetailPage /> }.into_any()
    }
}

pub struct ErrorsRoute;

#[lazy_route]
impl LazyRoute for ErrorsRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <ErrorsPage /> }.into_any()
    }
}

pub struct ReleasesRoute;

#[lazy_route]
impl LazyRoute for ReleasesRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <ReleasesPage /> }.into_any()
    }
}

pub struct ErrorDetailRoute;

#[lazy_route]
impl LazyRoute for ErrorDetailRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <ErrorDetailPage /> }.into_any()
    }
}

pub struct BackupsRoute;

#[lazy_route]
impl LazyRoute for BackupsRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <BackupsPage /> }.into_any()
    }
}

pub struct AlertsRoute;

#[lazy_route]
impl LazyRoute for AlertsRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <AlertsPage /> }.into_any()
    }
}

pub struct UsersRoute;

#[lazy_route]
impl LazyRoute for UsersRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <UsersPage /> }.into_any()
    }
}

pub struct KeysRoute;

#[lazy_route]
impl LazyRoute for KeysRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <KeysPage /> }.into_any()
    }
}

pub struct AuditRoute;

#[lazy_route]
impl LazyRoute for AuditRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <AuditPage /> }.into_any()
    }
}

pub struct PrivacyRoute;

#[lazy_route]
impl LazyRoute for PrivacyRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <PrivacyPage /> }.into_any()
    }
}

pub struct RetentionRoute;

#[lazy_route]
impl LazyRoute for RetentionRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <RetentionPage /> }.into_any()
    }
}
