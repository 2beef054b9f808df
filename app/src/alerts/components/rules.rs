//! Rules: the table (what fires where, through which channels, on/off,
//! delete) and the form to add one, whose fields follow the kind.

use leptos::prelude::*;

use super::{ConfirmButton, Field, Op, OpButton, Ops, form_error, row_error, said, text, whole};
use crate::alerts::server_fns::AlertsOverview;
use crate::alerts::types::{
    BURN_RATE_THRESHOLD, ChannelInfo, ERROR_RATE_MIN_EVENTS, ERROR_RATE_THRESHOLD,
    ERROR_RATE_WINDOW, RuleInfo, RuleKind, RuleSpec,
};
use crate::components::format::duration;
use crate::error::AppError;
use crate::lang::{Locale, t, td_string, tf, use_i18n, use_locale};
use crate::resource::JsonResource;

fn create(op: &Op) -> bool {
    matches!(op, Op::CreateRule(_))
}

fn mine(op: &Op) -> bool {
    create(op) || op.rule().is_some()
}

const FIELDS: &[&str] = &[
    "name",
    "kind",
    "service",
    "channels",
    "cooldown_seconds",
    "threshold",
    "window_seconds",
    "min_events",
];

/// The settings that make a rule differ from its kind's plain meaning.
fn tuning(l: Locale, r: &RuleInfo) -> Option<String> {
    // Thresholds as given (`0.5`), with the language's decimal separator.
    let number = |v: f64| match l {
        Locale::de => v.to_string().replace('.', ","),
        Locale::en => v.to_string(),
    };
    match r.kind {
        RuleKind::ErrorRate => Some(tf!(
            l,
            rules.error_rate_tuning,
            threshold = number(r.threshold.unwrap_or(ERROR_RATE_THRESHOLD)),
            window = duration(l, f64::from(r.window_seconds.unwrap_or(ERROR_RATE_WINDOW))),
            events = r.min_events.unwrap_or(ERROR_RATE_MIN_EVENTS)
        )),
        RuleKind::SloBurn => Some(tf!(
            l,
            rules.burn_tuning,
            rate = number(r.threshold.unwrap_or(BURN_RATE_THRESHOLD))
        )),
        _ => None,
    }
}

#[component]
pub fn RulesTable(rules: Vec<RuleInfo>, channels: Vec<ChannelInfo>, ops: Ops) -> impl IntoView {
    let i18n = use_i18n();
    if rules.is_empty() {
        return view! { <p class="muted">{t!(i18n, rules.none)}</p> }.into_any();
    }
    let channels = StoredValue::new(channels);
    view! {
        <div class="table-wrap" tabindex="0">
            <table data-testid="rules-table">
                <thead>
                    <tr>
                        <th>{t!(i18n, rules.rule)}</th>
                        <th class="hide-sm">{t!(i18n, dash.service)}</th>
                        <th class="hide-sm">{t!(i18n, alerts.channels)}</th>
                        <th class="hide-sm">{t!(i18n, rules.cooldown)}</th>
                        <th>{t!(i18n, services.state)}</th>
                        <th>{t!(i18n, common.actions)}</th>
                    </tr>
                </thead>
                <tbody>
                    {rules.into_iter().map(|r| {
                        let names = channels.with_value(|all| {
                            r.channels
                                .iter()
                                .map(|id| all.iter().find(|c| c.id == *id).map_or_else(|| format!("#{id}"), |c| c.name.clone()))
                                .collect::<Vec<_>>()
                                .join(", ")
                        });
                        view! { <RuleRow r names ops /> }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn RuleRow(r: RuleInfo, names: String, ops: Ops) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let id = r.id;
    let service = if r.kind.instance_wide() {
        td_string!(l, rules.itself).to_owned()
    } else {
        r.service
            .clone()
            .unwrap_or_else(|| td_string!(l, services.all_services_badge).into())
    };
    let state = if !r.enabled {
        view! { <span class="badge">{t!(i18n, rules.off)}</span> }.into_any()
    } else if r.firing.is_empty() {
        view! { <span class="badge ok">{t!(i18n, rules.quiet)}</span> }.into_any()
    } else {
        view! { <span class="badge bad">{tf!(l, rules.firing, services = r.firing.join(", "))}</span> }
            .into_any()
    };
    view! {
        <tr data-testid=format!("rule-{}", r.name)>
            <td class="wrap-anywhere">
                <div>{r.name.clone()}</div>
                <div class="small muted">{r.kind.label_in(l)}</div>
                {tuning(l, &r).map(|t| view! { <div class="small muted">{t}</div> })}
                <div class="sm-line small muted">{format!("{service} → {names}")}</div>
            </td>
            <td class="hide-sm">{service.clone()}</td>
            <td class="hide-sm wrap-anywhere">{names.clone()}</td>
            <td class="hide-sm nowrap">{duration(l, f64::from(r.cooldown_seconds))}</td>
            <td>{state}</td>
            <td class="actions">
                {if r.enabled {
                    view! { <OpButton label=td_string!(l, users.disable) ops op=Op::RuleEnabled(id, false) /> }.into_any()
                } else {
                    view! { <OpButton label=td_string!(l, users.enable) ops op=Op::RuleEnabled(id, true) /> }.into_any()
                }}
                <ConfirmButton label=td_string!(l, common.delete) ask=td_string!(l, common.really_delete) ops op=Op::DeleteRule(id) />
                {row_error(ops, move |op| op.rule() == Some(id))}
            </td>
        </tr>
    }
}

/// What happened to the last rule added.
pub fn rule_notices(ops: Ops) -> impl IntoView {
    said(ops, mine)
}

fn number(s: RwSignal<String>) -> Option<f64> {
    let v = s.get_untracked().trim().replace(',', ".");
    // Not a number: a value every check refuses, so the message says why.
    (!v.is_empty()).then(|| v.parse().unwrap_or(-1.0))
}

#[component]
pub fn RuleForm(
    ops: Ops,
    overview: JsonResource<Result<AlertsOverview, AppError>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let kind = RwSignal::new(RuleKind::CriticalEvent);
    let name = RwSignal::new(String::new());
    let service = RwSignal::new(String::new());
    let chosen = RwSignal::new(Vec::<i64>::new());
    let cooldown = RwSignal::new("300".to_owned());
    let threshold = RwSignal::new(String::new());
    let window = RwSignal::new(String::new());
    let min_events = RwSignal::new(String::new());
    Effect::new(move |_| {
        if matches!(ops.outcome(create), Some((_, Ok(_)))) {
            name.set(String::new());
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let k = kind.get_untracked();
        let tuned = matches!(k, RuleKind::ErrorRate | RuleKind::SloBurn);
        let rate = k == RuleKind::ErrorRate;
        let int =
            |s: RwSignal<String>| (rate && !s.get_untracked().trim().is_empty()).then(|| whole(s));
        let svc = service.get_untracked();
        ops.dispatch(Op::CreateRule(RuleSpec {
            name: name.get_untracked(),
            kind: k,
            service: (!k.instance_wide() && !svc.is_empty()).then_some(svc),
            channels: chosen.get_untracked(),
            cooldown_seconds: whole(cooldown),
            threshold: if tuned { number(threshold) } else { None },
            window_seconds: int(window),
            min_events: int(min_events),
            enabled: true,
        }));
    };
    let threshold_label = move || match kind.get() {
        RuleKind::SloBurn => td_string!(l, rules.burn_above),
        _ => td_string!(l, rules.rate_above),
    };
    view! {
        <details class="form-box">
            <summary>{t!(i18n, rules.add_title)}</summary>
            <form class="form-grid" novalidate on:submit=submit data-testid="rule-form">
                <Field label=td_string!(l, auth.name) ops form=create field="name">{text(name, "text", td_string!(l, rules.name_placeholder))}</Field>
                <Field label=td_string!(l, rules.when) ops form=create field="kind">
                    <select on:change=move |ev| {
                        if let Some(k) = RuleKind::parse(&event_target_value(&ev)) {
                            kind.set(k);
                        }
                    }>
                        {RuleKind::ALL.into_iter().map(|k| view! {
                            <option value=k.as_str() selected=move || kind.get() == k>{k.label_in(l)}</option>
                        }).collect_view()}
                    </select>
                </Field>
                <Show when=move || !kind.get().instance_wide()>
                    <Field label=td_string!(l, dash.service) ops form=create field="service">
                        <ServiceSelect overview value=service all=td_string!(l, dash.all_services) />
                    </Field>
                </Show>
                <Show when=move || matches!(kind.get(), RuleKind::ErrorRate | RuleKind::SloBurn)>
                    <label>
                        <span>{threshold_label}</span>
                        <input type="text" inputmode="decimal" autocomplete="off"
                            placeholder=move || if kind.get() == RuleKind::SloBurn { BURN_RATE_THRESHOLD.to_string() } else { ERROR_RATE_THRESHOLD.to_string() }
                            prop:value=move || threshold.get() on:input=move |ev| threshold.set(event_target_value(&ev)) />
                        {super::field_error(ops, create, "threshold")}
                    </label>
                </Show>
                <Show when=move || kind.get() == RuleKind::ErrorRate>
                    <Field label=td_string!(l, rules.window) ops form=create field="window_seconds">
                        {text(window, "number", "300")}
                    </Field>
                    <Field label=td_string!(l, rules.min_events) ops form=create field="min_events">
                        {text(min_events, "number", "20")}
                    </Field>
                </Show>
                <Field label=td_string!(l, rules.cooldown_label) ops form=create field="cooldown_seconds">
                    {text(cooldown, "number", "300")}
                </Field>
                <fieldset class="choices">
                    <legend>{t!(i18n, rules.notify_through)}</legend>
                    <ChannelChoices overview chosen />
                    {super::field_error(ops, create, "channels")}
                </fieldset>
                <div><button class="btn primary" type="submit" disabled=move || ops.busy_with(create)>{t!(i18n, rules.add)}</button></div>
            </form>
            {form_error(ops, create, FIELDS)}
        </details>
    }
}

/// A checkbox per channel.
#[component]
fn ChannelChoices(
    overview: JsonResource<Result<AlertsOverview, AppError>>,
    chosen: RwSignal<Vec<i64>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let toggle = move |id: i64| {
        chosen.update(|list| {
            if let Some(i) = list.iter().position(|x| *x == id) {
                list.remove(i);
            } else {
                list.push(id);
            }
        })
    };
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let channels = overview.await.map(|o| o.channels).unwrap_or_default();
                if channels.is_empty() {
                    return view! { <span class="small muted">{t!(i18n, rules.channel_first)}</span> }.into_any();
                }
                channels.into_iter().map(|c| {
                    let id = c.id;
                    view! {
                        <label class="check">
                            <input type="checkbox" prop:checked=move || chosen.get().contains(&id) on:change=move |_| toggle(id) />
                            <span>{c.name}</span>
                        </label>
                    }
                }).collect_view().into_any()
            })}
        </Transition>
    }
}

/// A choice of service, or every service.
#[component]
pub fn ServiceSelect(
    overview: JsonResource<Result<AlertsOverview, AppError>>,
    value: RwSignal<String>,
    all: &'static str,
) -> impl IntoView {
    view! {
        <Transition fallback=move || view! { <select disabled><option>{all}</option></select> }>
            {move || Suspend::new(async move {
                let services = overview.await.map(|o| o.services).unwrap_or_default();
                view! {
                    <select on:change=move |ev| value.set(event_target_value(&ev))>
                        <option value="" selected=move || value.get().is_empty()>{all}</option>
                        {services.into_iter().map(|slug| {
                            let (is, label) = (slug.clone(), slug.clone());
                            view! { <option value=slug selected=move || value.get() == is>{label}</option> }
                        }).collect_view()}
                    </select>
                }
            })}
        </Transition>
    }
}
