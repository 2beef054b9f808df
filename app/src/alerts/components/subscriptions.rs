//! Event subscriptions: the table (filter, state, secret rotation, on/off,
//! delete) and the form to add one.

use leptos::prelude::*;

use super::rules::ServiceSelect;
use super::{
    ConfirmButton, EndpointState, Field, Op, OpButton, Ops, form_error, row_error, said,
    secret_view, text,
};
use crate::alerts::server_fns::{AlertsOverview, SubscriptionForm as Form};
use crate::alerts::types::SubscriptionInfo;
use crate::error::AppError;
use crate::events::Level;

fn create(op: &Op) -> bool {
    matches!(op, Op::CreateSubscription(_))
}

fn mine(op: &Op) -> bool {
    create(op) || op.subscription().is_some()
}

const FIELDS: &[&str] = &["name", "url", "service", "min_level", "kind_prefix"];

#[component]
pub fn SubscriptionsTable(subscriptions: Vec<SubscriptionInfo>, ops: Ops) -> impl IntoView {
    if subscriptions.is_empty() {
        return view! { <p class="muted">"No subscriptions: events go nowhere else."</p> }
            .into_any();
    }
    view! {
        <div class="table-wrap" tabindex="0">
            <table data-testid="subscriptions-table">
                <thead>
                    <tr>
                        <th>"Name"</th>
                        <th class="hide-sm">"URL"</th>
                        <th class="hide-sm">"Events"</th>
                        <th>"State"</th>
                        <th>"Actions"</th>
                    </tr>
                </thead>
                <tbody>
                    {subscriptions.into_iter().map(|s| view! { <SubscriptionRow s ops /> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn SubscriptionRow(s: SubscriptionInfo, ops: Ops) -> impl IntoView {
    let id = s.id;
    let disabled = s.disabled_at.is_some();
    let mut filter = vec![s.service.clone().unwrap_or_else(|| "all services".into())];
    if s.min_level != Level::Debug.as_str() {
        filter.push(format!("{} and above", s.min_level));
    }
    if !s.kind_prefix.is_empty() {
        filter.push(format!("type {}…", s.kind_prefix));
    }
    let filter = filter.join(" · ");
    view! {
        <tr data-testid=format!("subscription-{}", s.name)>
            <td class="wrap-anywhere">
                <div>{s.name.clone()}</div>
                <div class="sm-line small mono">{s.url.clone()}</div>
                <div class="sm-line small muted">{filter.clone()}</div>
            </td>
            <td class="hide-sm wrap-anywhere small mono">{s.url.clone()}</td>
            <td class="hide-sm small">{filter}</td>
            <td><EndpointState disabled disabled_reason=s.disabled_reason.clone() /></td>
            <td class="actions">
                <OpButton label="Rotate secret" ops op=Op::RotateSubscription(id, s.name.clone()) />
                {if disabled {
                    view! { <OpButton label="Enable" ops op=Op::SubscriptionEnabled(id, true) /> }.into_any()
                } else {
                    view! { <OpButton label="Disable" ops op=Op::SubscriptionEnabled(id, false) /> }.into_any()
                }}
                <ConfirmButton label="Delete" ask="Really delete?" ops op=Op::DeleteSubscription(id) />
                {row_error(ops, move |op| op.subscription() == Some(id))}
            </td>
        </tr>
    }
}

/// The secret of a new or rotated subscription (once), or what happened.
#[component]
pub fn SubscriptionNotices(ops: Ops) -> impl IntoView {
    view! {
        {secret_view(ops, mine)}
        {said(ops, mine)}
    }
}

#[component]
pub fn SubscriptionForm(
    ops: Ops,
    overview: Resource<Result<AlertsOverview, AppError>>,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let url = RwSignal::new(String::new());
    let service = RwSignal::new(String::new());
    let level = RwSignal::new(String::new());
    let prefix = RwSignal::new(String::new());
    Effect::new(move |_| {
        if matches!(ops.outcome(create), Some((_, Ok(_)))) {
            name.set(String::new());
            url.set(String::new());
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let svc = service.get_untracked();
        let p = prefix.get_untracked().trim().to_owned();
        ops.dispatch(Op::CreateSubscription(Form {
            name: name.get_untracked(),
            url: url.get_untracked(),
            service: (!svc.is_empty()).then_some(svc),
            min_level: Level::parse(&level.get_untracked()),
            kind_prefix: (!p.is_empty()).then_some(p),
        }));
    };
    view! {
        <details class="form-box">
            <summary>"Add a subscription"</summary>
            <form class="form-grid" novalidate on:submit=submit data-testid="subscription-form">
                <Field label="Name" ops form=create field="name">{text(name, "text", "warehouse feed")}</Field>
                <Field label="URL" ops form=create field="url">{text(url, "url", "https://ingest.example.org/leitstand")}</Field>
                <Field label="Service" ops form=create field="service">
                    <ServiceSelect overview value=service all="All services" />
                </Field>
                <Field label="Lowest level" ops form=create field="min_level">
                    <select on:change=move |ev| level.set(event_target_value(&ev))>
                        <option value="">"Every level"</option>
                        {Level::ALL.into_iter().skip(1).map(|l| view! {
                            <option value=l.as_str()>{format!("{} and above", l.as_str())}</option>
                        }).collect_view()}
                    </select>
                </Field>
                <Field label="Type starts with (optional)" ops form=create field="kind_prefix">
                    {text(prefix, "text", "order.")}
                </Field>
                <div><button class="btn primary" type="submit" disabled=move || ops.busy_with(create)>"Add subscription"</button></div>
            </form>
            {form_error(ops, create, FIELDS)}
        </details>
    }
}
