//! The frame around every settings page: title, tabs, the note for
//! non-admins, and how errors are shown.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_location;

use crate::auth::Role;
use crate::components::layout::IfRole;
use crate::error::AppError;
use crate::lang::{Label, t, t_string, td_string, use_i18n, use_locale};

/// The sections: their address and their name.
const SECTIONS: &[(&str, Label)] = &[
    ("/settings", |l| td_string!(l, settings.users)),
    ("/settings/keys", |l| td_string!(l, settings.keys)),
    ("/settings/audit", |l| td_string!(l, settings.audit)),
    ("/settings/privacy", |l| td_string!(l, settings.privacy)),
    ("/settings/retention", |l| td_string!(l, settings.retention)),
];

#[component]
pub fn SettingsFrame(
    /// The section's name, in the page's language.
    title: &'static str,
    children: Children,
) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let location = use_location();
    view! {
        <Title text=title />
        <header class="page-header">
            <h1>{t!(i18n, nav.settings)}</h1>
        </header>
        <nav class="tabs" aria-label=t_string!(i18n, nav.settings)>
            {SECTIONS
                .iter()
                .map(|(href, label)| {
                    let href = *href;
                    view! {
                        <a href=href aria-current=move || (location.pathname.get() == href).then_some("page")>
                            {label(l)}
                        </a>
                    }
                })
                .collect_view()}
        </nav>
        <IfRole role=Role::Admin invert=true>
            <p class="panel muted" role="note">{t!(i18n, settings.admins_only)}</p>
        </IfRole>
        {children()}
    }
}

/// An error as the settings pages show it.
pub fn error_view(e: &AppError) -> impl IntoView + use<> {
    let l = use_locale();
    let text = match e {
        AppError::Forbidden(_) => td_string!(l, settings.forbidden).to_owned(),
        other => crate::error::describe(l, other),
    };
    view! { <p class="error-text" role="alert">{text}</p> }
}

/// A loading placeholder for tables.
pub fn loading() -> impl IntoView {
    let i18n = use_i18n();
    view! { <p class="muted">{t!(i18n, common.loading)}</p> }
}
