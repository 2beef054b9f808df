//! Settings → Retention: how many days each class of data is kept, and a
//! dry run or a real run now, with its report.

use leptos::prelude::*;

use super::frame::{SettingsFrame, error_view, loading};
use crate::auth::Role;
use crate::components::layout::IfRole;
use crate::error::AppError;
use crate::retention::server_fns::{RetentionSettings, RunRetention, SaveRetention, get_retention};
use crate::retention::{MAX_DAYS, Policy, Report};

#[component]
pub fn RetentionPage() -> impl IntoView {
    let settings = Resource::new(|| (), |_| get_retention());
    let run = ServerAction::<RunRetention>::new();
    view! {
        <SettingsFrame title="Retention">
            <section class="panel">
                <h2>"How long data is kept"</h2>
                <p class="muted">
                    "Older data is removed once a day, whole months at a time where possible. \
                     KPIs read rollups, which are kept, so they do not change."
                </p>
                <Transition fallback=loading>
                    {move || Suspend::new(async move {
                        match settings.await {
                            Err(e) => error_view(&e).into_any(),
                            Ok(s) => view! { <PolicyForm s /> }.into_any(),
                        }
                    })}
                </Transition>
            </section>
            <IfRole role=Role::Admin>
                <RunPanel run />
            </IfRole>
        </SettingsFrame>
    }
}

/// One day count: (field, label, lowest allowed).
const FIELDS: [(&str, &str, u32); 4] = [
    ("events_days", "Events (days)", 1),
    ("probe_results_days", "Probe results (days)", 1),
    ("deliveries_days", "Finished deliveries (days)", 1),
    ("audit_days", "Audit log (days)", 7),
];

fn days_of(p: &Policy, field: &str) -> u32 {
    match field {
        "events_days" => p.events_days,
        "probe_results_days" => p.probe_results_days,
        "deliveries_days" => p.deliveries_days,
        _ => p.audit_days,
    }
}

#[component]
fn PolicyForm(s: RetentionSettings) -> impl IntoView {
    let save = ServerAction::<SaveRetention>::new();
    let values = FIELDS.map(|(field, _, _)| RwSignal::new(days_of(&s.policy, field).to_string()));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // Not a whole number: 0, which the bounds refuse with their message.
        let day = |i: usize| values[i].get_untracked().trim().parse().unwrap_or(0);
        save.dispatch(SaveRetention {
            policy: Policy {
                events_days: day(0),
                probe_results_days: day(1),
                deliveries_days: day(2),
                audit_days: day(3),
            },
        });
    };
    let error_for = move |field: &'static str| {
        move || match save.value().get() {
            Some(Err(AppError::Validation { field: f, message })) if f == field => {
                Some(view! { <span class="field-error" role="alert">{message}</span> })
            }
            _ => None,
        }
    };
    let defaults = s.defaults;
    view! {
        <form class="form-grid" novalidate on:submit=submit data-testid="retention-form">
            {FIELDS.into_iter().zip(values).map(|((field, label, min), value)| view! {
                <label>
                    <span>{label}</span>
                    <input type="number" inputmode="numeric" min=min max=MAX_DAYS step="1"
                        prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev)) />
                    <span class="small muted">{format!("{min} to {MAX_DAYS}; default {}", days_of(&defaults, field))}</span>
                    {error_for(field)}
                </label>
            }).collect_view()}
            <IfRole role=Role::Admin>
                <div><button class="btn primary" type="submit" disabled=move || save.pending().get()>"Save"</button></div>
            </IfRole>
        </form>
        {move || match save.value().get() {
            Some(Ok(_)) => Some(view! { <p class="ok-text" role="status">"Saved. The next run keeps data this long."</p> }.into_any()),
            Some(Err(AppError::Validation { field, .. })) if FIELDS.iter().any(|(f, _, _)| *f == field) => None,
            Some(Err(e)) => Some(error_view(&e).into_any()),
            None => None,
        }}
    }
}

/// Dry run and run now, with the report of the last one.
#[component]
fn RunPanel(run: ServerAction<RunRetention>) -> impl IntoView {
    let armed = RwSignal::new(false);
    view! {
        <section class="panel">
            <h2>"Run retention now"</h2>
            <p class="muted">"A dry run counts what would go and removes nothing. A run is recorded in the audit log."</p>
            <div class="button-row">
                <button class="btn" type="button" disabled=move || run.pending().get()
                    on:click=move |_| { run.dispatch(RunRetention { dry_run: true }); }>"Dry run"</button>
                <button class="btn danger" type="button" disabled=move || run.pending().get()
                    on:click=move |_| {
                        if armed.get_untracked() {
                            armed.set(false);
                            run.dispatch(RunRetention { dry_run: false });
                        } else {
                            armed.set(true);
                        }
                    }
                    on:blur=move |_| armed.set(false)>
                    {move || if armed.get() { "Really remove old data now?" } else { "Run now" }}
                </button>
            </div>
            {move || run.pending().get().then(|| view! { <p class="muted" role="status">"Running…"</p> })}
            {move || match run.value().get() {
                Some(Ok(report)) => Some(view! { <ReportView report /> }.into_any()),
                Some(Err(e)) => Some(error_view(&e).into_any()),
                None => None,
            }}
        </section>
    }
}

#[component]
fn ReportView(report: Report) -> impl IntoView {
    let title = if report.dry_run {
        format!(
            "Dry run: {} rows would be removed. Nothing was removed.",
            report.total_rows()
        )
    } else {
        format!(
            "Removed {} rows in {:.1} s.",
            report.total_rows(),
            report.seconds
        )
    };
    view! {
        <div class="report" role="status" data-testid="retention-report">
            <p><strong>{title}</strong></p>
            <ul class="report-lines">
                {report.lines().into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}
            </ul>
        </div>
    }
}
