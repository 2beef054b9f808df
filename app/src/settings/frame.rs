//! The frame around every settings page: title, tabs, the note for
//! non-admins, and how errors are shown.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_location;

use crate::auth::Role;
use crate::components::layout::IfRole;
use crate::error::AppError;

const SECTIONS: &[(&str, &str)] = &[
    ("/settings", "Users"),
    ("/settings/keys", "API keys"),
    ("/settings/audit", "Audit log"),
    ("/settings/privacy", "Privacy"),
    ("/settings/retention", "Retention"),
];

#[component]
pub fn SettingsFrame(title: &'static str, children: Children) -> impl IntoView {
    let location = use_location();
    view! {
        <Title text=title />
        <header class="page-header">
            <h1>"Settings"</h1>
        </header>
        <nav class="tabs" aria-label="Settings">
            {SECTIONS
                .iter()
                .map(|(href, label)| {
                    let href = *href;
                    view! {
                        <a href=href aria-current=move || (location.pathname.get() == href).then_some("page")>
                            {*label}
                        </a>
                    }
                })
                .collect_view()}
        </nav>
        <IfRole role=Role::Admin invert=true>
            <p class="panel muted" role="note">"Settings are for administrators."</p>
        </IfRole>
        {children()}
    }
}

/// An error as the settings pages show it.
pub fn error_view(e: &AppError) -> impl IntoView + use<> {
    let text = match e {
        AppError::Forbidden(_) => "Only administrators can see this.".to_owned(),
        other => other.to_string(),
    };
    view! { <p class="error-text" role="alert">{text}</p> }
}

/// A loading placeholder for tables.
pub fn loading() -> impl IntoView {
    view! { <p class="muted">"Loading…"</p> }
}
