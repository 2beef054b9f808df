//! Settings → API keys: creating a key (its secret shown once), the list,
//! and revoking.

use leptos::prelude::*;

use super::frame::{SettingsFrame, error_view, loading};
use crate::auth::Role;
use crate::components::format::timestamp;
use crate::components::layout::IfRole;
use crate::keys::server_fns::{CreateKey, RevokeKey, list_keys};
use crate::keys::{ApiKeyInfo, CreatedKey, Scope};

#[component]
pub fn KeysPage() -> impl IntoView {
    let create = ServerAction::<CreateKey>::new();
    let revoke = ServerAction::<RevokeKey>::new();
    let keys = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_keys(),
    );
    view! {
        <SettingsFrame title="API keys">
            <IfRole role=Role::Admin>
                <CreateKeyForm create />
            </IfRole>
            <section class="panel">
                <h2>"Keys"</h2>
                <Transition fallback=loading>
                    {move || Suspend::new(async move {
                        match keys.await {
                            Err(e) => error_view(&e).into_any(),
                            Ok(list) if list.is_empty() => view! { <p class="muted">"No keys yet."</p> }.into_any(),
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
            <h2>"Create a key"</h2>
            <form class="form-grid" on:submit=submit>
                <label>
                    <span>"Name"</span>
                    <input type="text" required placeholder="shop backend"
                        prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
                </label>
                <fieldset class="scopes">
                    <legend>"Scopes"</legend>
                    {Scope::ALL.into_iter().map(|s| view! {
                        <label class="check">
                            <input type="checkbox" prop:checked=move || scopes.get().contains(&s) on:change=move |_| toggle(s) />
                            <span>{s.as_str()}</span>
                        </label>
                    }).collect_view()}
                </fieldset>
                <label>
                    <span>"Only for service (optional)"</span>
                    <input type="text" placeholder="shop"
                        prop:value=move || service.get() on:input=move |ev| service.set(event_target_value(&ev)) />
                </label>
                <div><button class="btn primary" type="submit">"Create key"</button></div>
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
                <strong>{format!("Key {} created.", created.info.prefix)}</strong>
                " Copy it now: it is shown this once."
            </p>
            <div class="secret-row">
                <code data-testid="new-key">{created.secret.clone()}</code>
                <button class="btn small" type="button" on:click=copy>
                    {move || if copied.get() { "Copied" } else { "Copy" }}
                </button>
            </div>
        </div>
    }
}

#[component]
fn KeysTable(list: Vec<ApiKeyInfo>, revoke: ServerAction<RevokeKey>) -> impl IntoView {
    view! {
        <div class="table-wrap" tabindex="0">
            <table data-testid="keys-table">
                <thead>
                    <tr>
                        <th>"Name"</th>
                        <th>"Key"</th>
                        <th>"Scopes"</th>
                        <th class="hide-sm">"Service"</th>
                        <th class="hide-sm">"Last used"</th>
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
        .map(timestamp)
        .unwrap_or_else(|| "never".into());
    view! {
        <tr class:revoked=revoked>
            <td>{key.name.clone()}</td>
            <td class="mono small">{format!("{}_…", key.prefix)}</td>
            <td>{scopes}</td>
            <td class="hide-sm">{key.service.clone().unwrap_or_else(|| "all".into())}</td>
            <td class="hide-sm small muted">{last_used}</td>
            <td>
                {if revoked {
                    view! { <span class="badge bad">"revoked"</span> }.into_any()
                } else {
                    view! {
                        <button class="btn small danger" on:click=move |_| {
                            revoke.dispatch(RevokeKey { prefix: prefix.clone() });
                        }>"Revoke"</button>
                    }.into_any()
                }}
            </td>
        </tr>
    }
}
