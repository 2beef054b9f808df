//! Sign-in and first-run setup pages. Both work without WebAssembly too:
//! they are plain forms posting to their server function.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::server_fns::{Login, Setup};
use crate::error::AppError;
use crate::lang::{LangSwitch, Locale, t, t_string, td_string, tf, use_i18n, use_locale};

fn message(locale: Locale, e: &AppError) -> String {
    match e {
        AppError::Unauthorized => td_string!(locale, auth.wrong_credentials).into(),
        AppError::TooManyRequests { retry_after } => {
            tf!(locale, auth.too_many_attempts, seconds = *retry_after)
        }
        other => crate::error::describe(locale, other),
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let next = move || query.get().get("next").unwrap_or_else(|| "/".into());
    let i18n = use_i18n();
    let locale = use_locale();
    let login = ServerAction::<Login>::new();
    let error = move || {
        login
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| message(locale, &e))
    };
    view! {
        <Title text=t_string!(i18n, auth.sign_in_title) />
        <main class="auth-page">
            <LangSwitch />
            <section class="panel auth-card">
                <h1>{t!(i18n, auth.sign_in_heading)}</h1>
                <ActionForm action=login>
                    <input type="hidden" name="next" value=next />
                    <label>
                        <span>{t!(i18n, auth.email)}</span>
                        <input type="email" name="email" autocomplete="username" required autofocus />
                    </label>
                    <label>
                        <span>{t!(i18n, auth.password)}</span>
                        <input type="password" name="password" autocomplete="current-password" required />
                    </label>
                    {move || error().map(|m| view! { <p class="error-text" role="alert">{m}</p> })}
                    <button type="submit" class="btn primary wide" disabled=move || login.pending().get()>
                        {t!(i18n, auth.sign_in)}
                    </button>
                </ActionForm>
            </section>
        </main>
    }
}

#[component]
pub fn SetupPage() -> impl IntoView {
    let i18n = use_i18n();
    let locale = use_locale();
    let setup = ServerAction::<Setup>::new();
    let error = move || {
        setup
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| message(locale, &e))
    };
    view! {
        <Title text=t_string!(i18n, auth.setup_title) />
        <main class="auth-page">
            <LangSwitch />
            <section class="panel auth-card">
                <h1>{t!(i18n, auth.welcome)}</h1>
                <p class="muted">{t!(i18n, auth.setup_intro)}</p>
                <ActionForm action=setup>
                    <label>
                        <span>{t!(i18n, auth.email)}</span>
                        <input type="email" name="email" autocomplete="username" required autofocus />
                    </label>
                    <label>
                        <span>{t!(i18n, auth.name)}</span>
                        <input type="text" name="name" autocomplete="name" />
                    </label>
                    <label>
                        <span>{t!(i18n, auth.new_password)}</span>
                        <input type="password" name="password" autocomplete="new-password" minlength="10" required />
                    </label>
                    {move || error().map(|m| view! { <p class="error-text" role="alert">{m}</p> })}
                    <button type="submit" class="btn primary wide" disabled=move || setup.pending().get()>
                        {t!(i18n, auth.create_admin)}
                    </button>
                </ActionForm>
            </section>
        </main>
    }
}
