//! Shown instead of zeros on an installation that has no events yet: how
//! to send the first event (with a ready-to-paste curl command), or load
//! demo data.

use leptos::prelude::*;

use crate::dashboard::server_fns::{CreateFirstKey, LoadDemo, onboarding_info};
use crate::lang::{t, use_i18n, use_locale};
use crate::resource::resource;

#[component]
pub fn Onboarding(
    /// Bumped when demo data was loaded, so the dashboard refreshes.
    on_loaded: Callback<()>,
) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let info = resource(|| (), |_| onboarding_info());
    let create_key = ServerAction::<CreateFirstKey>::new();
    let load_demo = ServerAction::<LoadDemo>::new();
    Effect::new(move |_| {
        if let Some(Ok(_)) = load_demo.value().get() {
            on_loaded.run(());
        }
    });
    let user = crate::components::layout::use_user();
    let is_admin = move || user.get().is_some_and(|u| u.can(crate::auth::Role::Admin));
    let key = move || match create_key.value().get() {
        Some(Ok(secret)) => Some(secret),
        _ => None,
    };
    view! {
        <section class="panel onboarding" aria-labelledby="onboarding-title" data-testid="onboarding">
            <h2 id="onboarding-title">{t!(i18n, onboarding.title)}</h2>
            <p class="muted">
                {t!(i18n, onboarding.intro)}
            </p>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let info = info.await.ok()?;
                    let origin = info.origin.clone();
                    Some(view! {
                        <ol class="steps">
                            <li>
                                <strong>{t!(i18n, onboarding.step_key)}</strong>
                                {if info.keys_exist || !is_admin() {
                                    view! {
                                        <p>{t!(i18n, onboarding.admin_creates)}</p>
                                        <pre tabindex="0"><code>"leitstand key create --name my-app --scopes ingest"</code></pre>
                                    }.into_any()
                                } else {
                                    view! {
                                        <p>{t!(i18n, onboarding.shown_once)} " " <code>"leitstand key create --name my-app --scopes ingest"</code></p>
                                        <ActionForm action=create_key>
                                            <button class="btn primary" type="submit" disabled=move || create_key.pending().get() || key().is_some()>
                                                {t!(i18n, onboarding.create_key)}
                                            </button>
                                        </ActionForm>
                                        {move || match create_key.value().get() {
                                            Some(Err(e)) => Some(view! { <p class="error-text" role="alert">{crate::error::describe(l, &e)}</p> }),
                                            _ => None,
                                        }}
                                    }.into_any()
                                }}
                            </li>
                            <li>
                                <strong>{t!(i18n, onboarding.step_send)}</strong>
                                <pre tabindex="0" data-testid="curl-example"><code>{move || curl(&origin, key().as_deref())}</code></pre>
                            </li>
                        </ol>
                    })
                })}
            </Suspense>
            <Show when=is_admin>
            <div class="onboarding-demo">
                <ActionForm action=load_demo>
                    <button class="btn" type="submit" disabled=move || load_demo.pending().get()>
                        {move || if load_demo.pending().get() { t!(i18n, onboarding.loading_demo).into_any() } else { t!(i18n, onboarding.load_demo).into_any() }}
                    </button>
                </ActionForm>
                <span class="muted small">{t!(i18n, onboarding.demo_hint)}</span>
                {move || match load_demo.value().get() {
                    Some(Err(e)) => Some(view! { <p class="error-text" role="alert">{crate::error::describe(l, &e)}</p> }),
                    _ => None,
                }}
            </div>
            </Show>
        </section>
    }
}

fn curl(origin: &str, key: Option<&str>) -> String {
    format!(
        "curl -X POST {origin}/api/v1/events \\\n  -H 'Authorization: Bearer {}' \\\n  -H 'Content-Type: application/json' \\\n  -d '{{\"service\": \"shop\", \"feature\": \"checkout\", \"type\": \"order.placed\", \"level\": \"info\", \"message\": \"Order placed\"}}'",
        key.unwrap_or("YOUR_INGEST_KEY")
    )
}
