//! The Backups page and the dashboard's backup-health widget.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::server_fns::{
    CreateBackup, DeleteBackup, RestoreBackup, VerifyBackup, get_backup_health, list_backups,
};
use super::types::{BackupHealth, BackupInfo};
use crate::auth::Role;
use crate::components::deferred::hydrate_later;
use crate::components::format::{bytes, count, duration, timestamp as when};
use crate::components::layout::{IfRole, use_user};
use crate::error::AppError;
use crate::lang::{Locale, t, td_string, tf, use_i18n, use_locale};
use crate::resource::resource;

fn error_text(l: Locale, e: &AppError) -> String {
    match e {
        AppError::Validation { message, .. } => crate::lang::messages::detail(l, message),
        AppError::Forbidden(_) => td_string!(l, error.forbidden).into(),
        AppError::TooManyRequests { retry_after } => {
            tf!(l, backups.too_many_restores, seconds = *retry_after)
        }
        other => crate::error::describe(l, other),
    }
}

/// A backup kind (`manual`, `scheduled`, …) in words.
fn kind_label(l: Locale, kind: &str) -> String {
    match kind {
        "manual" => td_string!(l, backups.kind_manual).into(),
        "scheduled" => td_string!(l, backups.kind_scheduled).into(),
        "safety" => td_string!(l, backups.kind_safety).into(),
        "upload" | "uploaded" => td_string!(l, backups.kind_upload).into(),
        other => other.to_owned(),
    }
}

/// A health status (`healthy`, `warning`, `critical`) in words.
fn health_label(l: Locale, status: &str) -> String {
    match status {
        "healthy" => td_string!(l, backups.healthy).into(),
        "warning" => td_string!(l, backups.warning).into(),
        "critical" => td_string!(l, backups.critical).into(),
        other => other.to_owned(),
    }
}

#[component]
pub fn BackupsPage() -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let create = ServerAction::<CreateBackup>::new();
    let verify = ServerAction::<VerifyBackup>::new();
    let delete = ServerAction::<DeleteBackup>::new();
    let restore = ServerAction::<RestoreBackup>::new();
    let poll = RwSignal::new(0u64);
    let backups = resource(
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
    let health = resource(
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
        <Title text=crate::lang::t_string!(i18n, nav.backups) />
        <header class="page-header">
            <h1>{t!(i18n, nav.backups)}</h1>
            <IfRole role=Role::Operator>
                <button class="btn primary" data-testid="create-backup"
                    disabled=move || create.pending().get()
                    on:click=move |_| { create.dispatch(CreateBackup {}); }>
                    {move || if create.pending().get() { td_string!(l, backups.creating) } else { td_string!(l, backups.create) }}
                </button>
            </IfRole>
        </header>
        <Notices create verify delete restore />
        // The summary and the table each hydrate in a task of their own
        // (components::deferred).
        {hydrate_later(view! {
        <section class="panel backup-summary">
            <Transition fallback=loading>
                {move || Suspend::new(async move {
                    health.await.map(|h| view! { <HealthLine h /> })
                })}
            </Transition>
        </section>
        })}
        <RestoreDialog restore confirm_for confirm_text />
        {move || restore.pending().get().then(|| view! {
            <p class="panel notice" role="status">{t!(i18n, backups.restoring)}</p>
        })}
        {hydrate_later(view! {
        <section class="panel">
            <h2>{t!(i18n, backups.all)}</h2>
            <Transition fallback=loading>
                {move || Suspend::new(async move {
                    match backups.await {
                        Err(e) => view! { <p class="error-text" role="alert">{error_text(l, &e)}</p> }.into_any(),
                        Ok(list) => {
                            running.set(list.iter().any(|b| b.status == "running"));
                            view! { <BackupsTable list actions /> }.into_any()
                        }
                    }
                })}
            </Transition>
        </section>
        })}
        <IfRole role=Role::Admin>
            <UploadForm />
        </IfRole>
    }
}

fn loading() -> impl IntoView {
    let i18n = use_i18n();
    view! { <p class="muted">{t!(i18n, common.loading)}</p> }
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
    let l = use_locale();
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
                (Some(name), _) => Some(ok("restore-result", tf!(
                    l,
                    backups.restored_upload,
                    name = name,
                    rows = q.get("rows").unwrap_or_default()
                ))),
                (None, Some(e)) => Some(bad("restore-error", tf!(l, backups.nothing_changed, reason = crate::lang::messages::detail(l, &e)))),
                (None, None) => None,
            }
        }}
        {move || create.value().get().map(|r| match r {
            Ok(b) if b.status == "running" => view! {
                <p class="panel notice" role="status">{tf!(l, backups.still_writing, name = b.name.clone())}</p>
            }.into_any(),
            Ok(b) => ok("create-result", tf!(
                l,
                backups.written,
                name = b.name.clone(),
                size = b.size.map(|s| bytes(l, s)).unwrap_or_default(),
                rows = count(l, b.total_rows())
            )),
            Err(e) => bad("create-error", error_text(l, &e)),
        })}
        {move || verify.value().get().map(|r| match r {
            Ok(v) if v.ok => ok("verify-result", tf!(l, backups.verified, message = crate::lang::messages::detail(l, &v.message))),
            Ok(v) => bad("verify-result", tf!(l, backups.verify_failed, message = crate::lang::messages::detail(l, &v.message))),
            Err(e) => bad("verify-error", error_text(l, &e)),
        })}
        {move || restore.value().get().map(|r| match r {
            Ok(rep) => ok("restore-result", tf!(
                l,
                backups.restored,
                name = rep.restored.clone(),
                rows = count(l, rep.rows as i64),
                events = count(l, rep.events as i64),
                seconds = crate::components::format::decimal(l, rep.seconds, 1),
                safety = rep.safety_backup.name.clone()
            )),
            Err(e) => bad("restore-error", tf!(l, backups.nothing_changed, reason = error_text(l, &e))),
        })}
        {move || delete.value().get().and_then(|r| r.err()).map(|e| bad("delete-error", error_text(l, &e)))}
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
    let i18n = use_i18n();
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    let input = NodeRef::<leptos::html::Input>::new();
    // The form is always in the dialog (only the name in it changes), so the
    // field exists when the dialog opens and takes the focus at once — an
    // element rendered after `showModal()` would miss it.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let open = confirm_for.get().is_some();
        if let Some(d) = dialog.get() {
            if open && !d.open() {
                let _ = d.show_modal();
                if let Some(i) = input.get_untracked() {
                    let _ = i.focus();
                }
            } else if !open && d.open() {
                d.close();
            }
        }
    });
    // `close` arrives as a task of its own after the dialog closed (Escape):
    // a quick keyboard user may have opened it again by then, so only a
    // dialog that is still closed clears the choice.
    let on_close = move |_| {
        if !dialog.get_untracked().is_some_and(|d| d.open()) {
            confirm_for.set(None);
        }
    };
    let name = move || confirm_for.with(|c| c.as_ref().map(|(_, n)| n.clone()).unwrap_or_default());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Some((id, _)) = confirm_for.get_untracked() {
            restore.dispatch(RestoreBackup {
                id,
                confirm: confirm_text.get_untracked(),
            });
        }
        confirm_for.set(None);
    };
    view! {
        <dialog class="panel restore-confirm" node_ref=dialog aria-labelledby="restore-title"
            data-testid="restore-dialog" on:close=on_close>
            <h2 id="restore-title">{t!(i18n, backups.restore_title)} " " <span class="mono">{name}</span></h2>
            <p>{t!(i18n, backups.restore_explained)}</p>
            <form class="form-grid" on:submit=submit>
                <label>
                    <span>{t!(i18n, backups.type_name)}</span>
                    <input type="text" autocomplete="off" spellcheck="false" data-testid="restore-confirm"
                        node_ref=input
                        autofocus
                        placeholder=name
                        prop:value=move || confirm_text.get()
                        on:input=move |ev| confirm_text.set(event_target_value(&ev)) />
                </label>
                <div class="actions">
                    <button class="btn danger" type="submit" data-testid="restore-submit"
                        disabled=move || confirm_for.get().is_none() || confirm_text.get().trim() != name()>{t!(i18n, backups.restore)}</button>
                    <button class="btn" type="button" on:click=move |_| confirm_for.set(None)>{t!(i18n, common.cancel)}</button>
                </div>
            </form>
        </dialog>
    }
}

#[component]
fn BackupsTable(list: Vec<BackupInfo>, actions: Actions) -> impl IntoView {
    let i18n = use_i18n();
    if list.is_empty() {
        return view! {
            <p class="muted" data-testid="no-backups">
                {t!(i18n, backups.none)}
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
                        <th>{t!(i18n, backups.backup)}</th>
                        <th>{t!(i18n, probe_form.kind)}</th>
                        <th class="hide-sm">{t!(i18n, backups.size)}</th>
                        <th class="hide-sm">{t!(i18n, maturity.events)}</th>
                        <th>{t!(i18n, slo.status)}</th>
                        <th>{t!(i18n, common.actions)}</th>
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
    let i18n = use_i18n();
    view! {
        <section class="panel">
            <h2>{t!(i18n, backups.upload_title)}</h2>
            <p class="muted">{t!(i18n, backups.upload_explained)}</p>
            <form class="form-grid" method="post" action="/backups/upload" enctype="multipart/form-data" data-testid="upload-form">
                <label><span>{t!(i18n, backups.file)}</span><input type="file" name="file" required accept=".lsbackup,application/octet-stream" /></label>
                <label><span>{t!(i18n, backups.type_file_name)}</span><input type="text" name="confirm" required autocomplete="off" spellcheck="false" /></label>
                <div><button class="btn danger" type="submit">{t!(i18n, backups.upload)}</button></div>
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
    let i18n = use_i18n();
    let l = use_locale();
    let id = b.id;
    let can = move |r: Role| role.is_some_and(|have| have.allows(r));
    let ok = b.status == "ok";
    let status = match (b.status.as_str(), b.verified_ok) {
        ("ok", Some(true)) => ("ok", td_string!(l, backups.ok_verified).to_owned()),
        ("ok", Some(false)) => ("bad", td_string!(l, backups.damaged).to_owned()),
        ("ok", None) => ("ok", td_string!(l, backups.ok).to_owned()),
        ("running", _) => ("warn", td_string!(l, backups.running).to_owned()),
        ("failed", _) => ("bad", td_string!(l, backups.failed).to_owned()),
        (other, _) => ("bad", other.to_owned()),
    };
    let name = b.name.clone();
    let title = b.error.clone().unwrap_or_else(|| {
        b.rows
            .iter()
            .map(|(t, n)| format!("{t}: {}", count(l, *n)))
            .collect::<Vec<_>>()
            .join("\n")
    });
    view! {
        <tr data-testid="backup-row" data-name=b.name.clone()>
            <td>
                <div class="mono small">{b.name.clone()}</div>
                <div class="muted small">{when(l, &b.created_at)}{b.created_by.clone().map(|c| format!(" · {c}"))}</div>
            </td>
            <td><span class=format!("badge kind-{}", b.kind)>{kind_label(l, &b.kind)}</span></td>
            <td class="hide-sm num">{b.size.map(|s| bytes(l, s)).unwrap_or_else(|| "–".into())}</td>
            <td class="hide-sm num" title=title.clone()>{count(l, b.events())}</td>
            <td><span class=format!("badge {}", status.0) title=title>{status.1}</span></td>
            <td class="actions">
                {(ok && can(Role::Operator)).then(|| view! {
                    <button class="btn small" data-testid="verify" disabled=move || verify.pending().get()
                        on:click=move |_| { verify.dispatch(VerifyBackup { id }); }>{t!(i18n, backups.verify)}</button>
                })}
                {(ok && can(Role::Admin)).then(|| view! {
                    <a class="btn small" href=format!("/backups/{id}/download") download="" rel="external">{t!(i18n, backups.download)}</a>
                    <button class="btn small danger" data-testid="restore"
                        on:click={
                            let name = name.clone();
                            move |_| { confirm_text.set(String::new()); confirm_for.set(Some((id, name.clone()))); }
                        }>{t!(i18n, backups.restore)}</button>
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
                        {move || if delete_armed.get() == Some(id) { td_string!(l, common.really_delete) } else { td_string!(l, common.delete) }}
                    </button>
                })}
            </td>
        </tr>
    }
}

#[component]
fn HealthLine(h: BackupHealth) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let age = h
        .age_seconds
        .map(|s| tf!(l, time.ago, time = duration(l, s as f64)))
        .unwrap_or_else(|| td_string!(l, backups.never).into());
    view! {
        <div class="backup-health" data-status=h.status.as_str()>
            <span class=format!("badge health-{}", h.status.as_str()) data-testid="backup-health">{health_label(l, h.status.as_str())}</span>
            <span>{t!(i18n, backups.last_good)} " " <strong>{age}</strong></span>
            <span class="muted">
                {match &h.next_run {
                    Some(t) => tf!(l, backups.next, when = when(l, t), schedule = h.schedule.clone()),
                    None => td_string!(l, backups.schedule_off).to_owned(),
                }}
            </span>
            {h.last_failed.then(|| view! { <span class="badge bad">{t!(i18n, backups.last_failed)}</span> })}
        </div>
    }
}

/// The dashboard's widget: healthy / warning / critical, the age of the
/// last good backup and the next scheduled run. Rendered on the server
/// only (`dashboard::figures`).
#[cfg(feature = "ssr")]
#[component]
pub fn BackupHealthWidget(health: Result<BackupHealth, AppError>) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    view! {
        <section class="panel backup-widget" aria-labelledby="backup-widget-title">
            <h2 id="backup-widget-title"><a href="/backups">{t!(i18n, nav.backups)}</a></h2>
            {match health {
                Ok(h) => view! { <HealthLine h /> }.into_any(),
                Err(e) => view! { <p class="error-text">{error_text(l, &e)}</p> }.into_any(),
            }}
        </section>
    }
}
