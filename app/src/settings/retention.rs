//! Settings → Retention: how many days each class of data is kept, and a
//! dry run or a real run now, with its report.

use leptos::prelude::*;

use super::frame::{SettingsFrame, error_view, loading};
use crate::auth::Role;
use crate::components::layout::IfRole;
use crate::error::AppError;
use crate::lang::{Label, t, td_string, tf, use_i18n, use_locale};
use crate::resource::resource;
use crate::retention::server_fns::{RetentionSettings, RunRetention, SaveRetention, get_retention};
use crate::retention::{MAX_DAYS, Policy, Report};

#[component]
pub fn RetentionPage() -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let settings = resource(|| (), |_| get_retention());
    let run = ServerAction::<RunRetention>::new();
    view! {
        <SettingsFrame title=td_string!(l, settings.retention)>
            <section class="panel">
                <h2>{t!(i18n, retention.title)}</h2>
                <p class="muted">{t!(i18n, retention.intro)}</p>
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
const FIELDS: [(&str, Label, u32); 4] = [
    ("events_days", |l| td_string!(l, retention.events), 1),
    (
        "probe_results_days",
        |l| td_string!(l, retention.probe_results),
        1,
    ),
    (
        "deliveries_days",
        |l| td_string!(l, retention.deliveries),
        1,
    ),
    ("audit_days", |l| td_string!(l, retention.audit), 7),
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
    let i18n = use_i18n();
    let l = use_locale();
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
            Some(Err(AppError::Validation { field: f, message })) if f == field => Some(
                view! { <span class="field-error" role="alert">{crate::lang::messages::detail(l, &message)}</span> },
            ),
            _ => None,
        }
    };
    let defaults = s.defaults;
    view! {
        <form class="form-grid" novalidate on:submit=submit data-testid="retention-form">
            {FIELDS.into_iter().zip(values).map(|((field, label, min), value)| view! {
                <label>
                    <span>{label(l)}</span>
                    <input type="number" inputmode="numeric" min=min max=MAX_DAYS step="1"
                        prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev)) />
                    <span class="small muted">{tf!(l, retention.range, min = min, max = MAX_DAYS, default = days_of(&defaults, field))}</span>
                    {error_for(field)}
                </label>
            }).collect_view()}
            <IfRole role=Role::Admin>
                <div><button class="btn primary" type="submit" disabled=move || save.pending().get()>{t!(i18n, common.save)}</button></div>
            </IfRole>
        </form>
        {move || match save.value().get() {
            Some(Ok(_)) => Some(view! { <p class="ok-text" role="status">{t!(i18n, retention.saved)}</p> }.into_any()),
            Some(Err(AppError::Validation { field, .. })) if FIELDS.iter().any(|(f, _, _)| *f == field) => None,
            Some(Err(e)) => Some(error_view(&e).into_any()),
            None => None,
        }}
    }
}

/// Dry run and run now, with the report of the last one.
#[component]
fn RunPanel(run: ServerAction<RunRetention>) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let armed = RwSignal::new(false);
    view! {
        <section class="panel">
            <h2>{t!(i18n, retention.run_title)}</h2>
            <p class="muted">{t!(i18n, retention.run_intro)}</p>
            <div class="button-row">
                <button class="btn" type="button" disabled=move || run.pending().get()
                    on:click=move |_| { run.dispatch(RunRetention { dry_run: true }); }>{t!(i18n, retention.dry_run)}</button>
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
                    {move || if armed.get() { td_string!(l, retention.really) } else { td_string!(l, retention.run_now) }}
                </button>
            </div>
            {move || run.pending().get().then(|| view! { <p class="muted" role="status">{t!(i18n, retention.running)}</p> })}
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
    let l = use_locale();
    let rows = crate::components::format::count(l, report.total_rows());
    let title = if report.dry_run {
        tf!(l, retention.dry_report, rows = rows)
    } else {
        tf!(
            l,
            retention.report,
            rows = rows,
            seconds = crate::components::format::decimal(l, report.seconds, 1)
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
