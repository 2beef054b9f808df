//! Sign-in and first-run setup pages. Both work without WebAssembly too:
//! they are plain forms posting to their server function.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::server_fns::{Login, Setup};
use crate::error::AppError;

fn message(e: &AppError) -> String {
    match e {
        AppError::Unauthorized => "E-mail or password is wrong.".into(),
        AppError::TooManyRequests { retry_after } => {
            format!("Too many failed attempts. Try again in {retry_after} seconds.")
        }
        AppError::Validation { field, message } => format!("The {field} {message}."),
        other => other.to_string(),
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let next = move || query.get().get("next").unwrap_or_else(|| "/".into());
    let login = ServerAction::<Login>::new();
    let error = move || {
        login
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| message(&e))
    };
    view! {
        <Title text="Sign in" />
        <main class="auth-page">
            <section class="panel auth-card">
                <h1>"Sign in to Leitstand"</h1>
                <ActionForm action=login>
                    <input type="hidden" name="next" value=next />
                    <label>
                        <span>"E-mail"</span>
                        <input type="email" name="email" autocomplete="username" required autofocus />
                    </label>
                    <label>
                        <span>"Password"</span>
                        <input type="password" name="password" autocomplete="current-password" required />
                    </label>
                    {move || error().map(|m| view! { <p class="error-text" role="alert">{m}</p> })}
                    <button type="submit" class="btn primary wide" disabled=move || login.pending().get()>
                        "Sign in"
                    </button>
                </ActionForm>
            </section>
        </main>
    }
}

#[component]
pub fn SetupPage() -> impl IntoView {
    let setup = ServerAction::<Setup>::new();
    let error = move || {
        setup
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| message(&e))
    };
    view! {
        <Title text="Set up" />
        <main class="auth-page">
            <section class="panel auth-card">
                <h1>"Welcome to Leitstand"</h1>
                <p class="muted">"Create the first administrator. You can add more people, with other roles, later."</p>
                <ActionForm action=setup>
                    <label>
                        <span>"E-mail"</span>
                        <input type="email" name="email" autocomplete="username" required autofocus />
                    </label>
                    <label>
                        <span>"Name"</span>
                        <input type="text" name="name" autocomplete="name" />
                    </label>
                    <label>
                        <span>"Password (at least 10 characters)"</span>
                        <input type="password" name="password" autocomplete="new-password" minlength="10" required />
                    </label>
                    {move || error().map(|m| view! { <p class="error-text" role="alert">{m}</p> })}
                    <button type="submit" class="btn primary wide" disabled=move || setup.pending().get()>
                        "Create administrator"
                    </button>
                </ActionForm>
            </section>
        </main>
    }
}
