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
use crate::lang::{t, td_string, tf, use_i18n, use_locale};
use crate::resource::JsonResource;

fn create(op: &Op) -> bool {
    matches!(op, Op::CreateSubscription(_))
}

fn mine(op: &Op) -> bool {
    create(op) || op.subscription().is_some()
}

const FIELDS: &[&str] = &["name", "url", "service", "min_level", "kind_prefix"];

#[component]
pub fn SubscriptionsTable(subscriptions: Vec<SubscriptionInfo>, ops: Ops) -> impl IntoView {
    let i18n = use_i18n();
    if subscriptions.is_empty() {
        return view! { <p class="muted">{t!(i18n, subs.none)}</p> }.into_any();
    }
    view! {
        <div class="table-wrap" tabindex="0">
            <table data-testid="subscriptions-table">
                <thead>
                    <tr>
                        <th>{t!(i18n, auth.name)}</th>
                        <th class="hide-sm">"URL"</th>
                        <th class="hide-sm">{t!(i18n, maturity.events)}</th>
                        <th>{t!(i18n, services.state)}</th>
                        <th>{t!(i18n, common.actions)}</th>
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
    let l = use_locale();
    let id = s.id;
    let disabled = s.disabled_at.is_some();
    let mut filter = vec![
        s.service
            .clone()
            .unwrap_or_else(|| td_string!(l, services.all_services_badge).into()),
    ];
    if s.min_level != Level::Debug.as_str() {
        filter.push(tf!(l, subs.and_above, level = s.min_level.clone()));
    }
    if !s.kind_prefix.is_empty() {
        filter.push(tf!(l, subs.type_prefix, prefix = s.kind_prefix.clone()));
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
                <OpButton label=td_string!(l, channels.rotate) ops op=Op::RotateSubscription(id, s.name.clone()) />
                {if disabled {
                    view! { <OpButton label=td_string!(l, users.enable) ops op=Op::SubscriptionEnabled(id, true) /> }.into_any()
                } else {
                    view! { <OpButton label=td_string!(l, users.disable) ops op=Op::SubscriptionEnabled(id, false) /> }.into_any()
                }}
                <ConfirmButton label=td_string!(l, common.delete) ask=td_string!(l, common.really_delete) ops op=Op::DeleteSubscription(id) />
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
    overview: JsonResource<Result<AlertsOverview, AppError>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
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
            <summary>{t!(i18n, subs.add_title)}</summary>
            <form class="form-grid" novalidate on:submit=submit data-testid="subscription-form">
                <Field label=td_string!(l, auth.name) ops form=create field="name">{text(name, "text", td_string!(l, subs.name_placeholder))}</Field>
                <Field label="URL" ops form=create field="url">{text(url, "url", "https://ingest.example.org/leitstand")}</Field>
                <Field label=td_string!(l, dash.service) ops form=create field="service">
                    <ServiceSelect overview value=service all=td_string!(l, dash.all_services) />
                </Field>
                <Field label=td_string!(l, subs.lowest_level) ops form=create field="min_level">
                    <select on:change=move |ev| level.set(event_target_value(&ev))>
                        <option value="">{t!(i18n, subs.every_level)}</option>
                        {Level::ALL.into_iter().skip(1).map(|lv| view! {
                            <option value=lv.as_str()>{tf!(l, subs.and_above, level = lv.as_str())}</option>
                        }).collect_view()}
                    </select>
                </Field>
                <Field label=td_string!(l, subs.type_starts) ops form=create field="kind_prefix">
                    {text(prefix, "text", "order.")}
                </Field>
                <div><button class="btn primary" type="submit" disabled=move || ops.busy_with(create)>{t!(i18n, subs.add)}</button></div>
            </form>
            {form_error(ops, create, FIELDS)}
        </details>
    }
}
