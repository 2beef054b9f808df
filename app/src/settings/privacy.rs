//! Settings → Privacy: look up what is stored about one user reference,
//! export it, or erase it.

use leptos::prelude::*;

use super::frame::{SettingsFrame, error_view};
use crate::lang::{t, td_string, tf, use_i18n, use_locale};
use crate::privacy::server_fns::{EraseUserEvents, count_user_events};
use crate::resource::resource;

#[component]
pub fn PrivacyPage() -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let user = RwSignal::new(String::new());
    let looked_up = RwSignal::new(String::new());
    let erase = ServerAction::<EraseUserEvents>::new();
    let count = resource(
        move || (looked_up.get(), erase.version().get()),
        |(u, _)| async move {
            if u.is_empty() {
                Ok(None)
            } else {
                count_user_events(u).await.map(Some)
            }
        },
    );
    let look_up = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        looked_up.set(user.get_untracked().trim().to_owned());
    };
    view! {
        <SettingsFrame title=td_string!(l, settings.privacy)>
            <section class="panel">
                <h2>{t!(i18n, privacy.title)}</h2>
                <p class="muted">
                    {t!(i18n, privacy.intro_1)} " " <code>"user"</code>
                    ". " {t!(i18n, privacy.intro_2)}
                </p>
                <form class="form-grid" on:submit=look_up>
                    <label>
                        <span>{t!(i18n, privacy.reference)}</span>
                        <input type="text" required prop:value=move || user.get() on:input=move |ev| user.set(event_target_value(&ev)) />
                    </label>
                    <div><button class="btn" type="submit">{t!(i18n, privacy.look_up)}</button></div>
                </form>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match count.await {
                            Ok(Some(n)) => view! { <UserData count=n looked_up erase /> }.into_any(),
                            Ok(None) => ().into_any(),
                            Err(e) => error_view(&e).into_any(),
                        }
                    })}
                </Suspense>
                {move || match erase.value().get() {
                    Some(Ok(n)) => Some(view! { <p class="ok-text" role="status">{tf!(l, privacy.erased, count = crate::components::format::count(l, n as i64))}</p> }.into_any()),
                    Some(Err(e)) => Some(error_view(&e).into_any()),
                    None => None,
                }}
            </section>
        </SettingsFrame>
    }
}

/// What is stored about the looked-up reference, with export and erase.
#[component]
fn UserData(
    count: u64,
    looked_up: RwSignal<String>,
    erase: ServerAction<EraseUserEvents>,
) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let user = looked_up.get_untracked();
    let confirm = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        erase.dispatch(EraseUserEvents {
            user: looked_up.get_untracked(),
            confirm: confirm.get_untracked(),
        });
    };
    view! {
        <div class="privacy-result" data-testid="privacy-result">
            <p>{tf!(l, privacy.stored, count = crate::components::format::count(l, count as i64), user = user.clone())}</p>
            <p>
                <a class="btn" href=format!("/privacy/export?user={}", crate::events::encode(&user)) download>
                    {t!(i18n, privacy.export)}
                </a>
            </p>
            <form class="form-grid" on:submit=submit>
                <label>
                    <span>{tf!(l, privacy.type_to_erase, user = user.clone())}</span>
                    <input type="text" prop:value=move || confirm.get() on:input=move |ev| confirm.set(event_target_value(&ev)) />
                </label>
                <div>
                    <button class="btn danger" type="submit" disabled=move || confirm.get().trim() != looked_up.get().trim()>
                        {t!(i18n, privacy.erase)}
                    </button>
                </div>
            </form>
        </div>
    }
}
