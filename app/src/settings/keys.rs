//! Settings → API keys: creating a key (its secret shown once), the list,
//! and revoking.

use leptos::prelude::*;

use super::frame::{SettingsFrame, error_view, loading};
use crate::auth::Role;
use crate::components::format::timestamp;
use crate::components::layout::IfRole;
use crate::keys::server_fns::{CreateKey, RevokeKey, list_keys};
use crate::keys::{ApiKeyInfo, CreatedKey, Scope};
use crate::lang::{t, td_string, tf, use_i18n, use_locale};
use crate::resource::resource;

#[component]
pub fn KeysPage() -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let create = ServerAction::<CreateKey>::new();
    let revoke = ServerAction::<RevokeKey>::new();
    let keys = resource(
        move || (create.version().get(), revoke.version().get()),
        |_| list_keys(),
    );
    view! {
        <SettingsFrame title=td_string!(l, settings.keys)>
            <IfRole role=Role::Admin>
                <CreateKeyForm create />
            </IfRole>
            <section class="panel">
                <h2>{t!(i18n, keys.keys)}</h2>
                <Transition fallback=loading>
                    {move || Suspend::new(async move {
                        match keys.await {
                            Err(e) => error_view(&e).into_any(),
                            Ok(list) if list.is_empty() => view! { <p class="muted">{t!(i18n, keys.none)}</p> }.into_any(),
                            Ok(list) => view! { <KeysTable list revoke /> }.into_any(),
                        }
                    })}
                </Transition>
            </section>
        </SettingsFrame>
    }
}

#[component]
fn CreateKeyForm(create: ServerAction<CreateKey>) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let name = RwSignal::new(String::new());
    let service = RwSignal::new(String::new());
    let scopes = RwSignal::new(vec![Scope::Ingest]);
    let toggle = move |s: Scope| {
        scopes.update(|list| {
            if let Some(i) = list.iter().position(|x| *x == s) {
                list.remove(i);
            } else {
                list.push(s);
            }
        })
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let service = service.get_untracked();
        create.dispatch(CreateKey {
            name: name.get_untracked(),
            scopes: scopes.get_untracked(),
            service: (!service.trim().is_empty()).then_some(service),
        });
    };
    view! {
        <section class="panel">
            <h2>{t!(i18n, keys.create_title)}</h2>
            <form class="form-grid" on:submit=submit>
                <label>
                    <span>{t!(i18n, auth.name)}</span>
                    <input type="text" required placeholder=td_string!(l, keys.name_placeholder)
                        prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
                </label>
                <fieldset class="scopes">
                    <legend>{t!(i18n, keys.scopes)}</legend>
                    {Scope::ALL.into_iter().map(|s| view! {
                        <label class="check">
                            <input type="checkbox" prop:checked=move || scopes.get().contains(&s) on:change=move |_| toggle(s) />
                            <span>{s.as_str()}</span>
                        </label>
                    }).collect_view()}
                </fieldset>
                <label>
                    <span>{t!(i18n, keys.only_service)}</span>
                    <input type="text" placeholder="shop"
                        prop:value=move || service.get() on:input=move |ev| service.set(event_target_value(&ev)) />
                </label>
                <div><button class="btn primary" type="submit">{t!(i18n, keys.create)}</button></div>
            </form>
            {move || match create.value().get() {
                Some(Ok(created)) => Some(view! { <NewKey created /> }.into_any()),
                Some(Err(e)) => Some(error_view(&e).into_any()),
                None => None,
            }}
        </section>
    }
}

/// A new key's secret, shown this once, with a copy button.
#[component]
fn NewKey(created: CreatedKey) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let copied = RwSignal::new(false);
    let secret = created.secret.clone();
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let clipboard = window().navigator().clipboard();
            let _ = clipboard.write_text(&secret);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &secret;
        copied.set(true);
    };
    view! {
        <div class="secret-box" role="status">
            <p>
                <strong>{tf!(l, keys.created, prefix = created.info.prefix.clone())}</strong>
                " " {t!(i18n, keys.copy_now)}
            </p>
            <div class="secret-row">
                <code data-testid="new-key">{created.secret.clone()}</code>
                <button class="btn small" type="button" on:click=copy>
                    {move || if copied.get() { td_string!(l, keys.copied) } else { td_string!(l, keys.copy) }}
                </button>
            </div>
        </div>
    }
}

#[component]
fn KeysTable(list: Vec<ApiKeyInfo>, revoke: ServerAction<RevokeKey>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="table-wrap" tabindex="0">
            <table data-testid="keys-table">
                <thead>
                    <tr>
                        <th>{t!(i18n, auth.name)}</th>
                        <th>{t!(i18n, keys.key)}</th>
                        <th>{t!(i18n, keys.scopes)}</th>
                        <th class="hide-sm">{t!(i18n, dash.service)}</th>
                        <th class="hide-sm">{t!(i18n, keys.last_used)}</th>
                        <th></th>
                    </tr>
                </thead>
                <tbody>
                    {list.into_iter().map(|key| view! { <KeyRow key revoke /> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn KeyRow(key: ApiKeyInfo, revoke: ServerAction<RevokeKey>) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let prefix = key.prefix.clone();
    let revoked = key.revoked_at.is_some();
    let scopes = key
        .scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let last_used = key
        .last_used_at
        .as_deref()
        .map(|t| timestamp(l, t))
        .unwrap_or_else(|| td_string!(l, backups.never).into());
    view! {
        <tr class:revoked=revoked>
            <td>{key.name.clone()}</td>
            <td class="mono small">{format!("{}_…", key.prefix)}</td>
            <td>{scopes}</td>
            <td class="hide-sm">{key.service.clone().unwrap_or_else(|| td_string!(l, keys.all_services).into())}</td>
            <td class="hide-sm small muted">{last_used}</td>
            <td>
                {if revoked {
                    view! { <span class="badge bad">{t!(i18n, keys.revoked)}</span> }.into_any()
                } else {
                    view! {
                        <button class="btn small danger" on:click=move |_| {
                            revoke.dispatch(RevokeKey { prefix: prefix.clone() });
                        }>{t!(i18n, keys.revoke)}</button>
                    }.into_any()
                }}
            </td>
        </tr>
    }
}
