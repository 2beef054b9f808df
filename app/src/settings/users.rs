//! Settings → Users: everyone with a role and status, role changes,
//! enabling/disabling, password resets, and adding a user.

use leptos::prelude::*;

use super::frame::{SettingsFrame, error_view, loading};
use crate::auth::Role;
use crate::auth::server_fns::{AddUser, ChangeUser, UserChange, list_users};
use crate::auth::types::UserInfo;
use crate::components::format::timestamp;
use crate::components::layout::{IfRole, use_user};

#[component]
pub fn UsersPage() -> impl IntoView {
    let add = ServerAction::<AddUser>::new();
    let change = ServerAction::<ChangeUser>::new();
    let users = Resource::new(
        move || (add.version().get(), change.version().get()),
        |_| list_users(),
    );
    view! {
        <SettingsFrame title="Users">
            <section class="panel">
                <h2>"People"</h2>
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
    view! {
        <div class="table-wrap" tabindex="0">
            <table data-testid="users-table">
                <thead>
                    <tr>
                        <th>"E-mail"</th>
                        <th>"Name"</th>
                        <th>"Role"</th>
                        <th>"Status"</th>
                        <th class="hide-sm">"Last sign-in"</th>
                        <th>"Actions"</th>
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
        .map(timestamp)
        .unwrap_or_else(|| "never".into());
    view! {
        <tr>
            <td>{user.email.clone()}</td>
            <td>{user.name.clone()}</td>
            <td>
                <select aria-label=format!("Role of {}", user.email) on:change=set_role>
                    {Role::ALL
                        .into_iter()
                        .map(|r| view! { <option value=r.as_str() selected=r == user.role>{r.as_str()}</option> })
                        .collect_view()}
                </select>
            </td>
            <td>
                {if disabled {
                    view! { <span class="badge bad">"disabled"</span> }
                } else {
                    view! { <span class="badge ok">"active"</span> }
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
                        {if disabled { "Enable" } else { "Disable" }}
                    </button>
                })}
                <form class="inline-form" on:submit=reset_password>
                    <input
                        type="password"
                        placeholder="new password"
                        aria-label=format!("New password for {}", user.email)
                        autocomplete="new-password"
                        prop:value=move || reset.get()
                        on:input=move |ev| reset.set(event_target_value(&ev))
                    />
                    <button class="btn small" type="submit">"Reset"</button>
                </form>
            </td>
        </tr>
    }
}

#[component]
fn AddUserForm(add: ServerAction<AddUser>) -> impl IntoView {
    view! {
        <section class="panel">
            <h2>"Add a user"</h2>
            <ActionForm action=add attr:class="form-grid">
                <label><span>"E-mail"</span><input type="email" name="email" required /></label>
                <label><span>"Name"</span><input type="text" name="name" /></label>
                <label>
                    <span>"Password"</span>
                    <input type="password" name="password" minlength="10" required autocomplete="new-password" />
                </label>
                <label>
                    <span>"Role"</span>
                    <select name="role">
                        <option value="viewer">"viewer — reads every page"</option>
                        <option value="operator">"operator — also creates and verifies backups"</option>
                        <option value="admin">"admin — also users, keys, privacy, restores"</option>
                    </select>
                </label>
                <div><button class="btn primary" type="submit">"Add user"</button></div>
            </ActionForm>
            {move || match add.value().get() {
                Some(Ok(u)) => Some(view! {
                    <p class="ok-text" role="status">{format!("Added {} as {}.", u.email, u.role)}</p>
                }.into_any()),
                Some(Err(e)) => Some(error_view(&e).into_any()),
                None => None,
            }}
        </section>
    }
}
