//! Settings → Users: everyone with a role and status, role changes,
//! enabling/disabling, password resets, and adding a user.

use leptos::prelude::*;

use super::frame::{SettingsFrame, error_view, loading};
use crate::auth::Role;
use crate::auth::server_fns::{AddUser, ChangeUser, UserChange, list_users};
use crate::auth::types::UserInfo;
use crate::components::format::timestamp;
use crate::components::layout::{IfRole, role_label, use_user};
use crate::lang::{t, td_string, tf, use_i18n, use_locale};
use crate::resource::resource;

#[component]
pub fn UsersPage() -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let add = ServerAction::<AddUser>::new();
    let change = ServerAction::<ChangeUser>::new();
    let users = resource(
        move || (add.version().get(), change.version().get()),
        |_| list_users(),
    );
    view! {
        <SettingsFrame title=td_string!(l, settings.users)>
            <section class="panel">
                <h2>{t!(i18n, users.people)}</h2>
                {move || change.value().get().and_then(|r| r.err()).map(|e| error_view(&e))}
                <Transition fallback=loading>
                    {move || Suspend::new(async move {
                        match users.await {
                            Err(e) => error_view(&e).into_any(),
                            Ok(list) => view! { <UsersTable list change /> }.into_any(),
                        }
                    })}
                </Transition>
            </section>
            <IfRole role=Role::Admin>
                <AddUserForm add />
            </IfRole>
        </SettingsFrame>
    }
}

#[component]
fn UsersTable(list: Vec<UserInfo>, change: ServerAction<ChangeUser>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="table-wrap" tabindex="0">
            <table data-testid="users-table">
                <thead>
                    <tr>
                        <th>{t!(i18n, auth.email)}</th>
                        <th>{t!(i18n, auth.name)}</th>
                        <th>{t!(i18n, users.role)}</th>
                        <th>{t!(i18n, slo.status)}</th>
                        <th class="hide-sm">{t!(i18n, users.last_sign_in)}</th>
                        <th>{t!(i18n, common.actions)}</th>
                    </tr>
                </thead>
                <tbody>
                    {list.into_iter().map(|user| view! { <UserRow user change /> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn UserRow(user: UserInfo, change: ServerAction<ChangeUser>) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let id = user.id;
    let own = use_user().get_untracked().is_some_and(|m| m.id == id);
    let disabled = user.disabled;
    let reset = RwSignal::new(String::new());
    let set_role = move |ev| {
        if let Some(role) = Role::parse(&event_target_value(&ev)) {
            change.dispatch(ChangeUser {
                id,
                change: UserChange::Role(role),
            });
        }
    };
    let reset_password = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        change.dispatch(ChangeUser {
            id,
            change: UserChange::Password(reset.get_untracked()),
        });
        reset.set(String::new());
    };
    let last_sign_in = user
        .last_login_at
        .as_deref()
        .map(|t| timestamp(l, t))
        .unwrap_or_else(|| td_string!(l, backups.never).into());
    view! {
        <tr>
            <td>{user.email.clone()}</td>
            <td>{user.name.clone()}</td>
            <td>
                <select aria-label=tf!(l, users.role_of, email = user.email.clone()) on:change=set_role>
                    {Role::ALL
                        .into_iter()
                        .map(|r| view! { <option value=r.as_str() selected=r == user.role>{role_label(l, r)}</option> })
                        .collect_view()}
                </select>
            </td>
            <td>
                {if disabled {
                    view! { <span class="badge bad">{t!(i18n, users.disabled)}</span> }.into_any()
                } else {
                    view! { <span class="badge ok">{t!(i18n, users.active)}</span> }.into_any()
                }}
            </td>
            <td class="hide-sm small muted">{last_sign_in}</td>
            <td class="actions">
                {(!own).then(|| view! {
                    <button
                        class="btn small"
                        on:click=move |_| {
                            change.dispatch(ChangeUser { id, change: UserChange::Disabled(!disabled) });
                        }
                    >
                        {if disabled { td_string!(l, users.enable) } else { td_string!(l, users.disable) }}
                    </button>
                })}
                <form class="inline-form" on:submit=reset_password>
                    <input
                        type="password"
                        placeholder=td_string!(l, users.new_password)
                        aria-label=tf!(l, users.new_password_for, email = user.email.clone())
                        autocomplete="new-password"
                        prop:value=move || reset.get()
                        on:input=move |ev| reset.set(event_target_value(&ev))
                    />
                    <button class="btn small" type="submit">{t!(i18n, users.reset)}</button>
                </form>
            </td>
        </tr>
    }
}

#[component]
fn AddUserForm(add: ServerAction<AddUser>) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    view! {
        <section class="panel">
            <h2>{t!(i18n, users.add_title)}</h2>
            <ActionForm action=add attr:class="form-grid">
                <label><span>{t!(i18n, auth.email)}</span><input type="email" name="email" required /></label>
                <label><span>{t!(i18n, auth.name)}</span><input type="text" name="name" /></label>
                <label>
                    <span>{t!(i18n, auth.password)}</span>
                    <input type="password" name="password" minlength="10" required autocomplete="new-password" />
                </label>
                <label>
                    <span>{t!(i18n, users.role)}</span>
                    <select name="role">
                        <option value="viewer">{t!(i18n, users.viewer_does)}</option>
                        <option value="operator">{t!(i18n, users.operator_does)}</option>
                        <option value="admin">{t!(i18n, users.admin_does)}</option>
                    </select>
                </label>
                <div><button class="btn primary" type="submit">{t!(i18n, users.add)}</button></div>
            </ActionForm>
            {move || match add.value().get() {
                Some(Ok(u)) => Some(view! {
                    <p class="ok-text" role="status">{tf!(l, users.added, email = u.email.clone(), role = role_label(l, u.role))}</p>
                }.into_any()),
                Some(Err(e)) => Some(error_view(&e).into_any()),
                None => None,
            }}
        </section>
    }
}
