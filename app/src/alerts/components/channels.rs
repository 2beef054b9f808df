//! Channels: the table (state, test, secret rotation, on/off, delete) and
//! the form to add one, whose fields follow the kind.

use std::collections::BTreeMap;

use leptos::prelude::*;

use super::{
    ConfirmButton, EndpointState, Field, Op, OpButton, Ops, form_error, row_error, said,
    secret_view, text,
};
use crate::alerts::types::{ChannelInfo, ChannelKind, ChannelSpec, SmtpTls};
use crate::lang::{t, td_string, tf, use_i18n, use_locale};

fn mine(op: &Op) -> bool {
    matches!(op, Op::CreateChannel(_)) || op.channel().is_some()
}

fn create(op: &Op) -> bool {
    matches!(op, Op::CreateChannel(_))
}

const FIELDS: &[&str] = &[
    "kind", "name", "url", "headers", "host", "port", "tls", "username", "password", "from", "to",
];

#[component]
pub fn ChannelsTable(channels: Vec<ChannelInfo>, ops: Ops) -> impl IntoView {
    let i18n = use_i18n();
    if channels.is_empty() {
        return view! {
            <p class="muted">{t!(i18n, channels.none)}</p>
        }
        .into_any();
    }
    view! {
        <div class="table-wrap" tabindex="0">
            <table data-testid="channels-table">
                <thead>
                    <tr>
                        <th>{t!(i18n, auth.name)}</th>
                        <th class="hide-sm">{t!(i18n, probe_form.kind)}</th>
                        <th class="hide-sm">{t!(i18n, channels.destination)}</th>
                        <th>{t!(i18n, services.state)}</th>
                        <th>{t!(i18n, common.actions)}</th>
                    </tr>
                </thead>
                <tbody>
                    {channels.into_iter().map(|c| view! { <ChannelRow c ops /> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn ChannelRow(c: ChannelInfo, ops: Ops) -> impl IntoView {
    let l = use_locale();
    let id = c.id;
    let disabled = c.disabled_at.is_some();
    let url = (c.kind == ChannelKind::Webhook)
        .then(|| c.config["url"].as_str().map(str::to_owned))
        .flatten();
    view! {
        <tr data-testid=format!("channel-{}", c.name)>
            <td class="wrap-anywhere">
                <div>{c.name.clone()}</div>
                <div class="sm-line small muted">{format!("{} · {}", c.kind.label_in(l), c.destination)}</div>
            </td>
            <td class="hide-sm">{c.kind.label_in(l)}</td>
            <td class="hide-sm wrap-anywhere">
                {match url {
                    Some(u) => view! { <div class="small mono">{u}</div> }.into_any(),
                    None => view! { <div>{c.destination.clone()}</div> }.into_any(),
                }}
                {c.previous_until.as_deref().map(|t| view! {
                    <div class="small muted">{tf!(l, channels.old_secret, until = crate::components::format::timestamp(l, t))}</div>
                })}
            </td>
            <td><EndpointState disabled disabled_reason=c.disabled_reason.clone() /></td>
            <td class="actions">
                {(!disabled).then(|| view! { <OpButton label=td_string!(l, channels.send_test) ops op=Op::SendTest(id, c.name.clone()) /> })}
                {(c.kind == ChannelKind::Webhook).then(|| view! {
                    <OpButton label=td_string!(l, channels.rotate) ops op=Op::RotateChannel(id, c.name.clone()) />
                })}
                {if disabled {
                    view! { <OpButton label=td_string!(l, users.enable) ops op=Op::ChannelEnabled(id, true) /> }.into_any()
                } else {
                    view! { <OpButton label=td_string!(l, users.disable) ops op=Op::ChannelEnabled(id, false) /> }.into_any()
                }}
                <ConfirmButton label=td_string!(l, common.delete) ask=td_string!(l, common.really_delete) ops op=Op::DeleteChannel(id) />
                {row_error(ops, move |op| op.channel() == Some(id))}
            </td>
        </tr>
    }
}

/// What a section shows after an action on channels: the secret (once)
/// or what happened.
#[component]
pub fn ChannelNotices(ops: Ops) -> impl IntoView {
    view! {
        {secret_view(ops, mine)}
        {said(ops, mine)}
    }
}

/// `Name: value` lines into headers; a line without a colon is a name
/// without a value, which the server judges.
fn headers(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once(':') {
            Some((n, v)) => (n.trim().to_owned(), v.trim().to_owned()),
            None => (l.to_owned(), String::new()),
        })
        .collect()
}

fn opt(s: RwSignal<String>) -> Option<String> {
    Some(s.get_untracked().trim().to_owned()).filter(|v| !v.is_empty())
}

#[component]
pub fn ChannelForm(ops: Ops) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let kind = RwSignal::new(ChannelKind::Webhook);
    let name = RwSignal::new(String::new());
    let url = RwSignal::new(String::new());
    let extra = RwSignal::new(String::new());
    let host = RwSignal::new(String::new());
    let port = RwSignal::new(String::new());
    let tls = RwSignal::new(SmtpTls::Starttls);
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    Effect::new(move |_| {
        if matches!(ops.outcome(create), Some((_, Ok(_)))) {
            for s in [name, url, extra, password] {
                s.set(String::new());
            }
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let k = kind.get_untracked();
        let mut spec = ChannelSpec {
            kind: Some(k),
            name: name.get_untracked(),
            ..ChannelSpec::default()
        };
        match k {
            ChannelKind::Webhook => {
                spec.url = Some(url.get_untracked());
                spec.headers = headers(&extra.get_untracked());
            }
            ChannelKind::Slack => spec.url = Some(url.get_untracked()),
            ChannelKind::Email => {
                spec.host = opt(host);
                // Not a port number: 0, which the check refuses with its message.
                spec.port = opt(port).map(|p| p.parse().unwrap_or(0));
                spec.tls = Some(tls.get_untracked());
                spec.username = opt(username);
                spec.password = opt(password);
                spec.from = opt(from);
                spec.to = to
                    .get_untracked()
                    .split([',', ';', '\n'])
                    .map(|a| a.trim().to_owned())
                    .filter(|a| !a.is_empty())
                    .collect();
            }
        }
        ops.dispatch(Op::CreateChannel(spec));
    };
    let tls_options = [
        (
            SmtpTls::Starttls,
            "starttls",
            td_string!(l, channels.starttls),
        ),
        (SmtpTls::Tls, "tls", td_string!(l, channels.tls)),
        (SmtpTls::None, "none", td_string!(l, channels.no_tls)),
    ];
    view! {
        <details class="form-box">
            <summary>{t!(i18n, channels.add_title)}</summary>
            <form class="form-grid" novalidate on:submit=submit data-testid="channel-form">
                <Field label=td_string!(l, probe_form.kind) ops form=create field="kind">
                    <select on:change=move |ev| {
                        if let Some(k) = ChannelKind::parse(&event_target_value(&ev)) {
                            kind.set(k);
                        }
                    }>
                        <option value="webhook">{t!(i18n, channels.webhook_option)}</option>
                        <option value="slack">{t!(i18n, channels.slack_option)}</option>
                        <option value="email">{t!(i18n, channel_kind.email)}</option>
                    </select>
                </Field>
                <Field label=td_string!(l, auth.name) ops form=create field="name">{text(name, "text", td_string!(l, channels.name_placeholder))}</Field>
                <Show when=move || kind.get() != ChannelKind::Email>
                    <Field label="URL" ops form=create field="url">{text(url, "url", "https://hooks.example.org/leitstand")}</Field>
                </Show>
                <Show when=move || kind.get() == ChannelKind::Webhook>
                    <Field label=td_string!(l, channels.headers) ops form=create field="headers">
                        <textarea rows="2" placeholder="Authorization: Bearer …" prop:value=move || extra.get()
                            on:input=move |ev| extra.set(event_target_value(&ev))></textarea>
                    </Field>
                </Show>
                <Show when=move || kind.get() == ChannelKind::Email>
                    <Field label=td_string!(l, channels.smtp) ops form=create field="host">{text(host, "text", "smtp.example.org")}</Field>
                    <Field label=td_string!(l, channels.port) ops form=create field="port">{text(port, "number", "587")}</Field>
                    <Field label=td_string!(l, channels.encryption) ops form=create field="tls">
                        <select on:change=move |ev| {
                            let v = event_target_value(&ev);
                            if let Some((t, _, _)) = tls_options.iter().find(|(_, s, _)| *s == v) {
                                tls.set(*t);
                            }
                        }>
                            {tls_options.iter().map(|(_, value, label)| view! { <option value=*value>{*label}</option> }).collect_view()}
                        </select>
                    </Field>
                    <Field label=td_string!(l, channels.username) ops form=create field="username">{text(username, "text", "")}</Field>
                    <Field label=td_string!(l, channels.password) ops form=create field="password">{text(password, "password", "")}</Field>
                    <Field label=td_string!(l, channels.from) ops form=create field="from">{text(from, "email", "leitstand@example.org")}</Field>
                    <Field label=td_string!(l, channels.to) ops form=create field="to">{text(to, "text", "ops@example.org")}</Field>
                </Show>
                <div><button class="btn primary" type="submit" disabled=move || ops.busy_with(create)>{t!(i18n, channels.add)}</button></div>
            </form>
            {form_error(ops, create, FIELDS)}
        </details>
    }
}
