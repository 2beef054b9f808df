//! Settings pages (admin): users, API keys, the audit log, privacy.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_location, use_query_map};

use crate::audit::server_fns::audit_entries;
use crate::audit::types::AuditQuery;
use crate::auth::Role;
use crate::auth::server_fns::{AddUser, ChangeUser, UserChange, list_users};
use crate::components::format::timestamp;
use crate::components::layout::{IfRole, use_user};
use crate::keys::Scope;
use crate::keys::server_fns::{CreateKey, RevokeKey, list_keys};

const SECTIONS: &[(&str, &str)] = &[
    ("/settings", "Users"),
    ("/settings/keys", "API keys"),
    ("/settings/audit", "Audit log"),
    ("/settings/privacy", "Privacy"),
];

#[component]
fn SettingsFrame(title: &'static str, children: Children) -> impl IntoView {
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

fn error_view(e: &crate::error::AppError) -> impl IntoView + use<> {
    let text = match e {
        crate::error::AppError::Forbidden(_) => "Only administrators can see this.".to_owned(),
        other => other.to_string(),
    };
    view! { <p class="error-text" role="alert">{text}</p> }
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let add = ServerAction::<AddUser>::new();
    let change = ServerAction::<ChangeUser>::new();
    let users = Resource::new(
        move || (add.version().get(), change.version().get()),
        |_| list_users(),
    );
    let me = use_user();
    view! {
        <SettingsFrame title="Users">
            <section class="panel">
                <h2>"People"</h2>
                {move || change.value().get().and_then(|r| r.err()).map(|e| error_view(&e))}
                <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match users.await {
                            Err(e) => error_view(&e).into_any(),
                            Ok(list) => view! {
                                <div class="table-wrap">
                                    <table data-testid="users-table">
                                        <thead><tr><th>"E-mail"</th><th>"Name"</th><th>"Role"</th><th>"Status"</th><th class="hide-sm">"Last sign-in"</th><th>"Actions"</th></tr></thead>
                                        <tbody>
                                            {list.into_iter().map(|u| {
                                                let id = u.id;
                                                let own = me.get_untracked().is_some_and(|m| m.id == id);
                                                let disabled = u.disabled;
                                                let reset = RwSignal::new(String::new());
                                                view! {
                                                    <tr>
                                                        <td>{u.email.clone()}</td>
                                                        <td>{u.name.clone()}</td>
                                                        <td>
                                                            <select
                                                                aria-label=format!("Role of {}", u.email)
                                                                on:change=move |ev| {
                                                                    if let Some(role) = Role::parse(&event_target_value(&ev)) {
                                                                        change.dispatch(ChangeUser { id, change: UserChange::Role(role) });
                                                                    }
                                                                }
                                                            >
                                                                {Role::ALL.into_iter().map(|r| view! {
                                                                    <option value=r.as_str() selected=r == u.role>{r.as_str()}</option>
                                                                }).collect_view()}
                                                            </select>
                                                        </td>
                                                        <td>{if disabled { view! { <span class="badge bad">"disabled"</span> } } else { view! { <span class="badge ok">"active"</span> } }}</td>
                                                        <td class="hide-sm small muted">{u.last_login_at.clone().map(|t| timestamp(&t)).unwrap_or_else(|| "never".into())}</td>
                                                        <td class="actions">
                                                            {(!own).then(|| view! {
                                                                <button class="btn small" on:click=move |_| {
                                                                    change.dispatch(ChangeUser { id, change: UserChange::Disabled(!disabled) });
                                                                }>{if disabled { "Enable" } else { "Disable" }}</button>
                                                            })}
                                                            <form class="inline-form" on:submit=move |ev| {
                                                                ev.prevent_default();
                                                                change.dispatch(ChangeUser { id, change: UserChange::Password(reset.get_untracked()) });
                                                                reset.set(String::new());
                                                            }>
                                                                <input type="password" placeholder="new password" aria-label=format!("New password for {}", u.email)
                                                                    autocomplete="new-password" prop:value=move || reset.get() on:input=move |ev| reset.set(event_target_value(&ev)) />
                                                                <button class="btn small" type="submit">"Reset"</button>
                                                            </form>
                                                        </td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                            }.into_any(),
                        }
                    })}
                </Transition>
            </section>
            <IfRole role=Role::Admin>
            <section class="panel">
                <h2>"Add a user"</h2>
                <ActionForm action=add attr:class="form-grid">
                    <label><span>"E-mail"</span><input type="email" name="email" required /></label>
                    <label><span>"Name"</span><input type="text" name="name" /></label>
                    <label><span>"Password"</span><input type="password" name="password" minlength="10" required autocomplete="new-password" /></label>
                    <label>
                        <span>"Role"</span>
                        <select name="role">
                            <option value="viewer">"viewer — reads everything"</option>
                            <option value="operator">"operator — also resolves errors, creates backups"</option>
                            <option value="admin">"admin — also restores, manages users, keys, settings"</option>
                        </select>
                    </label>
                    <div><button class="btn primary" type="submit">"Add user"</button></div>
                </ActionForm>
                {move || match add.value().get() {
                    Some(Ok(u)) => Some(view! { <p class="ok-text" role="status">{format!("Added {} as {}.", u.email, u.role)}</p> }.into_any()),
                    Some(Err(e)) => Some(error_view(&e).into_any()),
                    None => None,
                }}
            </section>
            </IfRole>
        </SettingsFrame>
    }
}

#[component]
pub fn KeysPage() -> impl IntoView {
    let create = ServerAction::<CreateKey>::new();
    let revoke = ServerAction::<RevokeKey>::new();
    let keys = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_keys(),
    );
    let name = RwSignal::new(String::new());
    let service = RwSignal::new(String::new());
    let scopes = RwSignal::new(vec![Scope::Ingest]);
    let copied = RwSignal::new(false);
    let toggle = move |s: Scope| {
        scopes.update(|list| {
            if let Some(i) = list.iter().position(|x| *x == s) {
                list.remove(i);
            } else {
                list.push(s);
            }
        })
    };
    view! {
        <SettingsFrame title="API keys">
            <IfRole role=Role::Admin>
            <section class="panel">
                <h2>"Create a key"</h2>
                <form class="form-grid" on:submit=move |ev| {
                    ev.prevent_default();
                    copied.set(false);
                    let service = service.get_untracked();
                    create.dispatch(CreateKey {
                        name: name.get_untracked(),
                        scopes: scopes.get_untracked(),
                        service: (!service.trim().is_empty()).then_some(service),
                    });
                }>
                    <label><span>"Name"</span><input type="text" required placeholder="shop backend" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) /></label>
                    <fieldset class="scopes">
                        <legend>"Scopes"</legend>
                        {Scope::ALL.into_iter().map(|s| view! {
                            <label class="check">
                                <input type="checkbox" prop:checked=move || scopes.get().contains(&s) on:change=move |_| toggle(s) />
                                <span>{s.as_str()}</span>
                            </label>
                        }).collect_view()}
                    </fieldset>
                    <label><span>"Only for service (optional)"</span><input type="text" placeholder="shop" prop:value=move || service.get() on:input=move |ev| service.set(event_target_value(&ev)) /></label>
                    <div><button class="btn primary" type="submit">"Create key"</button></div>
                </form>
                {move || match create.value().get() {
                    Some(Ok(created)) => {
                        let secret = created.secret.clone();
                        Some(view! {
                            <div class="secret-box" role="status">
                                <p><strong>{format!("Key {} created.", created.info.prefix)}</strong>" Copy it now: it is shown this once."</p>
                                <div class="secret-row">
                                    <code data-testid="new-key">{created.secret.clone()}</code>
                                    <button class="btn small" type="button" on:click=move |_| {
                                        #[cfg(feature = "hydrate")]
                                        {
                                            let clipboard = window().navigator().clipboard();
                                            let _ = clipboard.write_text(&secret);
                                        }
                                        #[cfg(not(feature = "hydrate"))]
                                        let _ = &secret;
                                        copied.set(true);
                                    }>{move || if copied.get() { "Copied" } else { "Copy" }}</button>
                                </div>
                            </div>
                        }.into_any())
                    }
                    Some(Err(e)) => Some(error_view(&e).into_any()),
                    None => None,
                }}
            </section>
            </IfRole>
            <section class="panel">
                <h2>"Keys"</h2>
                <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match keys.await {
                            Err(e) => error_view(&e).into_any(),
                            Ok(list) if list.is_empty() => view! { <p class="muted">"No keys yet."</p> }.into_any(),
                            Ok(list) => view! {
                                <div class="table-wrap">
                                    <table data-testid="keys-table">
                                        <thead><tr><th>"Name"</th><th>"Key"</th><th>"Scopes"</th><th class="hide-sm">"Service"</th><th class="hide-sm">"Last used"</th><th></th></tr></thead>
                                        <tbody>
                                            {list.into_iter().map(|k| {
                                                let prefix = k.prefix.clone();
                                                let revoked = k.revoked_at.is_some();
                                                view! {
                                                    <tr class:revoked=revoked>
                                                        <td>{k.name.clone()}</td>
                                                        <td class="mono small">{format!("{}_…", k.prefix)}</td>
                                                        <td>{k.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")}</td>
                                                        <td class="hide-sm">{k.service.clone().unwrap_or_else(|| "all".into())}</td>
                                                        <td class="hide-sm small muted">{k.last_used_at.clone().map(|t| timestamp(&t)).unwrap_or_else(|| "never".into())}</td>
                                                        <td>
                                                            {if revoked {
                                                                view! { <span class="badge bad">"revoked"</span> }.into_any()
                                                            } else {
                                                                view! { <button class="btn small danger" on:click=move |_| { revoke.dispatch(RevokeKey { prefix: prefix.clone() }); }>"Revoke"</button> }.into_any()
                                                            }}
                                                        </td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                            }.into_any(),
                        }
                    })}
                </Transition>
            </section>
        </SettingsFrame>
    }
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let query_map = use_query_map();
    let query = Memo::new(move |_| {
        let q = query_map.get();
        AuditQuery {
            actor: q.get("actor").unwrap_or_default(),
            action: q.get("action").unwrap_or_default(),
            range: q.get("range").unwrap_or_default(),
            before: q.get("before").and_then(|b| b.parse().ok()),
        }
    });
    let entries = Resource::new(move || query.get(), audit_entries);
    view! {
        <SettingsFrame title="Audit log">
            <section class="panel">
                <leptos_router::components::Form method="GET" action="/settings/audit">
                    <div class="filters">
                        <label><span>"Actor contains"</span><input type="text" name="actor" value=move || query.get().actor /></label>
                        <label><span>"Action starts with"</span><input type="text" name="action" placeholder="auth." value=move || query.get().action /></label>
                        <label>
                            <span>"Time"</span>
                            <select name="range">
                                {[("24h", "last 24 hours"), ("7d", "last 7 days"), ("30d", "last 30 days"), ("365d", "last year")].into_iter().map(|(v, l)| {
                                    view! { <option value=v selected=move || query.get().range == v || (query.get().range.is_empty() && v == "30d")>{l}</option> }
                                }).collect_view()}
                            </select>
                        </label>
                        <div class="filter-actions"><button class="btn primary" type="submit">"Apply"</button></div>
                    </div>
                </leptos_router::components::Form>
            </section>
            <section class="panel">
                <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match entries.await {
                            Err(e) => error_view(&e).into_any(),
                            Ok(list) => {
                                let older = (list.len() as i64 == crate::audit::types::AUDIT_PAGE).then(|| {
                                    let q = query.get_untracked();
                                    format!("/settings/audit?actor={}&action={}&range={}&before={}", crate::events::encode(&q.actor), crate::events::encode(&q.action), q.range, list.last().map(|e| e.id).unwrap_or_default())
                                });
                                view! {
                                    <div class="table-wrap">
                                        <table data-testid="audit-table">
                                            <thead><tr><th>"Time (UTC)"</th><th>"Actor"</th><th>"Action"</th><th>"Target"</th><th class="hide-sm">"From"</th><th class="hide-sm">"Details"</th></tr></thead>
                                            <tbody>
                                                {list.into_iter().map(|e| view! {
                                                    <tr>
                                                        <td class="nowrap small mono">{e.at.get(..19).unwrap_or_default().replace('T', " ")}</td>
                                                        <td>{e.actor}</td>
                                                        <td class="mono small">{e.action}</td>
                                                        <td>{e.target.unwrap_or_default()}</td>
                                                        <td class="hide-sm mono small">{e.ip.unwrap_or_default()}</td>
                                                        <td class="hide-sm mono small">{if e.details == serde_json::json!({}) { String::new() } else { e.details.to_string() }}</td>
                                                    </tr>
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                    </div>
                                    {older.map(|href| view! { <nav class="pager"><a class="btn" rel="next" href=href>"Older →"</a></nav> })}
                                }.into_any()
                            }
                        }
                    })}
                </Transition>
            </section>
        </SettingsFrame>
    }
}

#[component]
pub fn PrivacyPage() -> impl IntoView {
    use crate::privacy::server_fns::{EraseUserEvents, count_user_events};
    let user = RwSignal::new(String::new());
    let looked_up = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let erase = ServerAction::<EraseUserEvents>::new();
    let count = Resource::new(
        move || (looked_up.get(), erase.version().get()),
        |(u, _)| async move {
            if u.is_empty() {
                Ok(None)
            } else {
                count_user_events(u).await.map(Some)
            }
        },
    );
    view! {
        <SettingsFrame title="Privacy">
            <section class="panel">
                <h2>"Data about one user"</h2>
                <p class="muted">"Events carry the user reference your applications send in " <code>"user"</code> ". Export them as JSON, or erase them: rollups, KPIs and error groups are adjusted in the same transaction. Both are recorded in the audit log."</p>
                <form class="form-grid" on:submit=move |ev| { ev.prevent_default(); looked_up.set(user.get_untracked().trim().to_owned()); }>
                    <label><span>"User reference"</span><input type="text" required prop:value=move || user.get() on:input=move |ev| user.set(event_target_value(&ev)) /></label>
                    <div><button class="btn" type="submit">"Look up"</button></div>
                </form>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let u = looked_up.get_untracked();
                        match count.await {
                            Ok(Some(n)) => view! {
                                <div class="privacy-result" data-testid="privacy-result">
                                    <p>{format!("{n} events stored for “{u}”.")}</p>
                                    <p><a class="btn" href=format!("/privacy/export?user={}", crate::events::encode(&u)) download>"Export as JSON"</a></p>
                                    <form class="form-grid" on:submit=move |ev| {
                                        ev.prevent_default();
                                        erase.dispatch(EraseUserEvents { user: looked_up.get_untracked(), confirm: confirm.get_untracked() });
                                    }>
                                        <label><span>{format!("Type “{u}” to erase these events")}</span>
                                            <input type="text" prop:value=move || confirm.get() on:input=move |ev| confirm.set(event_target_value(&ev)) /></label>
                                        <div><button class="btn danger" type="submit" disabled=move || confirm.get().trim() != looked_up.get().trim()>"Erase events"</button></div>
                                    </form>
                                </div>
                            }.into_any(),
                            Ok(None) => ().into_any(),
                            Err(e) => error_view(&e).into_any(),
                        }
                    })}
                </Suspense>
                {move || match erase.value().get() {
                    Some(Ok(n)) => Some(view! { <p class="ok-text" role="status">{format!("Erased {n} events.")}</p> }.into_any()),
                    Some(Err(e)) => Some(error_view(&e).into_any()),
                    None => None,
                }}
            </section>
        </SettingsFrame>
    }
}
