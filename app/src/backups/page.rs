//! The Backups page and the dashboard's backup-health widget.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::server_fns::{
    CreateBackup, DeleteBackup, RestoreBackup, VerifyBackup, get_backup_health, list_backups,
};
use super::types::{BackupHealth, BackupInfo};
use crate::auth::Role;
use crate::components::format::{bytes, count, duration, timestamp as when};
use crate::components::layout::{IfRole, use_user};
use crate::error::AppError;

fn error_text(e: &AppError) -> String {
    match e {
        AppError::Validation { message, .. } => message.clone(),
        AppError::Forbidden(_) => "You may not do this with your role.".into(),
        AppError::TooManyRequests { retry_after } => {
            format!("Too many restores in the last minute; try again in {retry_after} s.")
        }
        other => other.to_string(),
    }
}

#[component]
pub fn BackupsPage() -> impl IntoView {
    let create = ServerAction::<CreateBackup>::new();
    let verify = ServerAction::<VerifyBackup>::new();
    let delete = ServerAction::<DeleteBackup>::new();
    let restore = ServerAction::<RestoreBackup>::new();
    let poll = RwSignal::new(0u64);
    let backups = Resource::new(
        move || {
            (
                create.version().get(),
                verify.version().get(),
                delete.version().get(),
                restore.version().get(),
                poll.get(),
            )
        },
        |_| list_backups(),
    );
    let health = Resource::new(
        move || (create.version().get(), restore.version().get(), poll.get()),
        |_| get_backup_health(),
    );
    let running = RwSignal::new(false);
    // While a backup is being written, look again every 3 s.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let interval = gloo_timers::callback::Interval::new(3000, move || {
            if running.get_untracked() {
                poll.update(|p| *p += 1);
            }
        });
        let interval = send_wrapper::SendWrapper::new(interval);
        on_cleanup(move || drop(interval));
    });

    let confirm_for = RwSignal::new(None::<(i64, String)>);
    let confirm_text = RwSignal::new(String::new());
    let delete_armed = RwSignal::new(None::<i64>);
    let actions = Actions {
        verify,
        delete,
        confirm_for,
        confirm_text,
        delete_armed,
    };

    view! {
        <Title text="Backups" />
        <header class="page-header">
            <h1>"Backups"</h1>
            <IfRole role=Role::Operator>
                <button class="btn primary" data-testid="create-backup"
                    disabled=move || create.pending().get()
                    on:click=move |_| { create.dispatch(CreateBackup {}); }>
                    {move || if create.pending().get() { "Creating…" } else { "Create backup" }}
                </button>
            </IfRole>
        </header>
        <Notices create verify delete restore />
        <section class="panel backup-summary">
            <Transition fallback=loading>
                {move || Suspend::new(async move {
                    health.await.map(|h| view! { <HealthLine h /> })
                })}
            </Transition>
        </section>
        <RestoreDialog restore confirm_for confirm_text />
        {move || restore.pending().get().then(|| view! {
            <p class="panel notice" role="status">"Restoring… validating the file, taking a safety backup, replacing the data."</p>
        })}
        <section class="panel">
            <h2>"All backups"</h2>
            <Transition fallback=loading>
                {move || Suspend::new(async move {
                    match backups.await {
                        Err(e) => view! { <p class="error-text" role="alert">{error_text(&e)}</p> }.into_any(),
                        Ok(list) => {
                            running.set(list.iter().any(|b| b.status == "running"));
                            view! { <BackupsTable list actions /> }.into_any()
                        }
                    }
                })}
            </Transition>
        </section>
        <IfRole role=Role::Admin>
            <UploadForm />
        </IfRole>
    }
}

fn loading() -> impl IntoView {
    view! { <p class="muted">"Loading…"</p> }
}

/// What the table's buttons act through.
#[derive(Clone, Copy)]
struct Actions {
    verify: ServerAction<VerifyBackup>,
    delete: ServerAction<DeleteBackup>,
    /// The backup whose restore dialog is open.
    confirm_for: RwSignal<Option<(i64, String)>>,
    confirm_text: RwSignal<String>,
    /// The backup whose delete button asks for a second click.
    delete_armed: RwSignal<Option<i64>>,
}

/// The outcome of the last action, and of an upload (from the URL).
#[component]
fn Notices(
    create: ServerAction<CreateBackup>,
    verify: ServerAction<VerifyBackup>,
    delete: ServerAction<DeleteBackup>,
    restore: ServerAction<RestoreBackup>,
) -> impl IntoView {
    let query = use_query_map();
    let ok = |testid: &'static str, text: String| {
        view! { <p class="panel notice ok" role="status" data-testid=testid>{text}</p> }.into_any()
    };
    let bad = |testid: &'static str, text: String| {
        view! { <p class="panel notice bad" role="alert" data-testid=testid>{text}</p> }.into_any()
    };
    view! {
        {move || {
            let q = query.get();
            match (q.get("restored"), q.get("error")) {
                (Some(name), _) => Some(ok("restore-result", format!(
                    "Restored {name}: {} rows. A safety backup of the data before was taken first.",
                    q.get("rows").unwrap_or_default()
                ))),
                (None, Some(e)) => Some(bad("restore-error", format!("Nothing was changed: {e}"))),
                (None, None) => None,
            }
        }}
        {move || create.value().get().map(|r| match r {
            Ok(b) if b.status == "running" => view! {
                <p class="panel notice" role="status">{format!("{} is still being written; this list updates by itself.", b.name)}</p>
            }.into_any(),
            Ok(b) => ok("create-result", format!(
                "Backup {} written: {}, {} rows.",
                b.name,
                b.size.map(bytes).unwrap_or_default(),
                count(b.total_rows())
            )),
            Err(e) => bad("create-error", error_text(&e)),
        })}
        {move || verify.value().get().map(|r| match r {
            Ok(v) if v.ok => ok("verify-result", format!("Backup verified: {}", v.message)),
            Ok(v) => bad("verify-result", format!("Verification failed: {}", v.message)),
            Err(e) => bad("verify-error", error_text(&e)),
        })}
        {move || restore.value().get().map(|r| match r {
            Ok(rep) => ok("restore-result", format!(
                "Restored {}: {} rows ({} events) in {:.1} s. Safety backup taken first: {}.",
                rep.restored,
                count(rep.rows as i64),
                count(rep.events as i64),
                rep.seconds,
                rep.safety_backup.name
            )),
            Err(e) => bad("restore-error", format!("Nothing was changed: {}", error_text(&e))),
        })}
        {move || delete.value().get().and_then(|r| r.err()).map(|e| bad("delete-error", error_text(&e)))}
    }
}

/// Asks for the backup's name before a restore from the list: a modal
/// dialog (focus stays inside, Escape cancels, focus returns to the button
/// that opened it).
#[component]
fn RestoreDialog(
    restore: ServerAction<RestoreBackup>,
    confirm_for: RwSignal<Option<(i64, String)>>,
    confirm_text: RwSignal<String>,
) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let open = confirm_for.get().is_some();
        if let Some(d) = dialog.get() {
            if open && !d.open() {
                let _ = d.show_modal();
            } else if !open && d.open() {
                d.close();
            }
        }
    });
    view! {
        <dialog class="panel restore-confirm" node_ref=dialog aria-labelledby="restore-title"
            data-testid="restore-dialog" on:close=move |_| confirm_for.set(None)>
            {move || confirm_for.get().map(|(id, name)| {
                let expected = name.clone();
                let submit = move |ev: leptos::ev::SubmitEvent| {
                    ev.prevent_default();
                    restore.dispatch(RestoreBackup { id, confirm: confirm_text.get_untracked() });
                    confirm_for.set(None);
                };
                view! {
                    <h2 id="restore-title">"Restore " <span class="mono">{name.clone()}</span></h2>
                    <p>
                        "All current data is replaced by the backup's. A safety backup of the current data \
                         is taken first, and if anything fails nothing changes. Nothing that tightened access \
                         since the backup is undone: revoked keys stay revoked, disabled users stay disabled, \
                         passwords stay as they are now, roles stay as low as they are now, and erased user \
                         data stays erased."
                    </p>
                    <form class="form-grid" on:submit=submit>
                        <label>
                            <span>"Type the backup's name to confirm"</span>
                            <input type="text" autocomplete="off" spellcheck="false" data-testid="restore-confirm"
                                autofocus
                                placeholder=name.clone()
                                prop:value=move || confirm_text.get()
                                on:input=move |ev| confirm_text.set(event_target_value(&ev)) />
                        </label>
                        <div class="actions">
                            <button class="btn danger" type="submit" data-testid="restore-submit"
                                disabled=move || confirm_text.get().trim() != expected>"Restore"</button>
                            <button class="btn" type="button" on:click=move |_| confirm_for.set(None)>"Cancel"</button>
                        </div>
                    </form>
                }
            })}
        </dialog>
    }
}

#[component]
fn BackupsTable(list: Vec<BackupInfo>, actions: Actions) -> impl IntoView {
    if list.is_empty() {
        return view! {
            <p class="muted" data-testid="no-backups">
                "No backups yet. Scheduled backups run by themselves; operators can create one now."
            </p>
        }
        .into_any();
    }
    let role = use_user().get().map(|u| u.role);
    let Actions {
        verify,
        delete,
        confirm_for,
        confirm_text,
        delete_armed,
    } = actions;
    view! {
        <div class="table-wrap" tabindex="0">
            <table data-testid="backups-table" class="backups">
                <thead>
                    <tr>
                        <th>"Backup"</th>
                        <th>"Kind"</th>
                        <th class="hide-sm">"Size"</th>
                        <th class="hide-sm">"Events"</th>
                        <th>"Status"</th>
                        <th>"Actions"</th>
                    </tr>
                </thead>
                <tbody>
                    {list.into_iter().map(|b| view! {
                        <BackupRow b role verify delete_armed confirm_for confirm_text delete />
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

/// Restore from an uploaded file (a plain form: works before the page is interactive).
#[component]
fn UploadForm() -> impl IntoView {
    view! {
        <section class="panel">
            <h2>"Restore from a file"</h2>
            <p class="muted">
                "Upload a Leitstand backup file (.lsbackup). It is checked completely before anything \
                 changes, and a safety backup is taken first."
            </p>
            <form class="form-grid" method="post" action="/backups/upload" enctype="multipart/form-data" data-testid="upload-form">
                <label><span>"Backup file"</span><input type="file" name="file" required accept=".lsbackup,application/octet-stream" /></label>
                <label><span>"Type the file's name to confirm"</span><input type="text" name="confirm" required autocomplete="off" spellcheck="false" /></label>
                <div><button class="btn danger" type="submit">"Upload and restore"</button></div>
            </form>
        </section>
    }
}

#[component]
fn BackupRow(
    b: BackupInfo,
    role: Option<Role>,
    verify: ServerAction<VerifyBackup>,
    delete: ServerAction<DeleteBackup>,
    delete_armed: RwSignal<Option<i64>>,
    confirm_for: RwSignal<Option<(i64, String)>>,
    confirm_text: RwSignal<String>,
) -> impl IntoView {
    let id = b.id;
    let can = move |r: Role| role.is_some_and(|have| have.allows(r));
    let ok = b.status == "ok";
    let status = match (b.status.as_str(), b.verified_ok) {
        ("ok", Some(true)) => ("ok", "ok · verified".to_owned()),
        ("ok", Some(false)) => ("bad", "damaged".to_owned()),
        ("ok", None) => ("ok", "ok".to_owned()),
        ("running", _) => ("warn", "running…".to_owned()),
        (other, _) => ("bad", other.to_owned()),
    };
    let name = b.name.clone();
    let title = b.error.clone().unwrap_or_else(|| {
        b.rows
            .iter()
            .map(|(t, n)| format!("{t}: {n}"))
            .collect::<Vec<_>>()
            .join("\n")
    });
    view! {
        <tr data-testid="backup-row" data-name=b.name.clone()>
            <td>
                <div class="mono small">{b.name.clone()}</div>
                <div class="muted small">{when(&b.created_at)}{b.created_by.clone().map(|c| format!(" · {c}"))}</div>
            </td>
            <td><span class=format!("badge kind-{}", b.kind)>{b.kind.clone()}</span></td>
            <td class="hide-sm num">{b.size.map(bytes).unwrap_or_else(|| "–".into())}</td>
            <td class="hide-sm num" title=title.clone()>{count(b.events())}</td>
            <td><span class=format!("badge {}", status.0) title=title>{status.1}</span></td>
            <td class="actions">
                {(ok && can(Role::Operator)).then(|| view! {
                    <button class="btn small" data-testid="verify" disabled=move || verify.pending().get()
                        on:click=move |_| { verify.dispatch(VerifyBackup { id }); }>"Verify"</button>
                })}
                {(ok && can(Role::Admin)).then(|| view! {
                    <a class="btn small" href=format!("/backups/{id}/download") download="" rel="external">"Download"</a>
                    <button class="btn small danger" data-testid="restore"
                        on:click={
                            let name = name.clone();
                            move |_| { confirm_text.set(String::new()); confirm_for.set(Some((id, name.clone()))); }
                        }>"Restore"</button>
                })}
                {(b.status != "running" && can(Role::Admin)).then(|| view! {
                    <button class="btn small danger" data-testid="delete"
                        on:click=move |_| {
                            if delete_armed.get_untracked() == Some(id) {
                                delete_armed.set(None);
                                delete.dispatch(DeleteBackup { id });
                            } else {
                                delete_armed.set(Some(id));
                            }
                        }>
                        {move || if delete_armed.get() == Some(id) { "Really delete?" } else { "Delete" }}
                    </button>
                })}
            </td>
        </tr>
    }
}

#[component]
fn HealthLine(h: BackupHealth) -> impl IntoView {
    let age = h
        .age_seconds
        .map(|s| format!("{} ago", duration(s as f64)))
        .unwrap_or_else(|| "never".into());
    view! {
        <div class="backup-health" data-status=h.status.as_str()>
            <span class=format!("badge health-{}", h.status.as_str()) data-testid="backup-health">{h.status.as_str()}</span>
            <span>"Last good backup: " <strong>{age}</strong></span>
            <span class="muted">
                {match &h.next_run {
                    Some(t) => format!("Next scheduled: {} UTC ({})", when(t), h.schedule),
                    None => "Scheduled backups are off".to_owned(),
                }}
            </span>
            {h.last_failed.then(|| view! { <span class="badge bad">"last backup failed"</span> })}
        </div>
    }
}

/// The dashboard's widget: healthy / warning / critical, the age of the
/// last good backup and the next scheduled run.
#[component]
pub fn BackupHealthWidget(#[prop(into)] tick: Signal<u64>) -> impl IntoView {
    let health = Resource::new(move || tick.get(), |_| get_backup_health());
    view! {
        <section class="panel backup-widget" aria-labelledby="backup-widget-title">
            <h2 id="backup-widget-title"><a href="/backups">"Backups"</a></h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match health.await {
                        Ok(h) => view! { <HealthLine h /> }.into_any(),
                        Err(e) => view! { <p class="error-text">{error_text(&e)}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
