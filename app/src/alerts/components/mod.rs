//! Parts of the Alerts page: one file per section, and what they share —
//! the page's one action ([`Ops`]) through which every button and form
//! runs its server function, and the helpers that show an outcome next to
//! what caused it.

pub mod channels;
pub mod dead_letters;
pub mod rules;
pub mod subscriptions;

use leptos::prelude::*;

use super::server_fns::{
    CreatedEndpoint, SubscriptionForm, create_alert_channel, create_alert_rule,
    create_event_subscription, delete_alert_channel, delete_alert_rule, delete_event_subscription,
    discard_dead_letter, replay_dead_letters, rotate_alert_channel_secret,
    rotate_event_subscription_secret, send_alert_test, set_alert_channel_enabled,
    set_alert_rule_enabled, set_event_subscription_enabled,
};
use super::types::{ChannelSpec, RuleSpec};
use crate::error::AppError;
use crate::lang::{Locale, t, td_string, tf, use_i18n, use_locale};

/// Something an admin does on the page. Names ride along for the messages.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    CreateChannel(ChannelSpec),
    DeleteChannel(i64),
    RotateChannel(i64, String),
    ChannelEnabled(i64, bool),
    SendTest(i64, String),
    CreateRule(RuleSpec),
    RuleEnabled(i64, bool),
    DeleteRule(i64),
    CreateSubscription(SubscriptionForm),
    DeleteSubscription(i64),
    RotateSubscription(i64, String),
    SubscriptionEnabled(i64, bool),
    /// One dead letter, or all with None.
    Replay(Option<String>),
    Discard(String),
}

/// What came of an [`Op`].
#[derive(Debug, Clone, PartialEq)]
pub enum Done {
    /// Nothing to say beyond the refreshed lists.
    Changed,
    /// A signing secret, shown this once.
    Secret(String),
    /// What happened, in a sentence.
    Said(String),
}

fn secret_of(c: CreatedEndpoint, added: &str) -> Done {
    match c.secret {
        Some(s) => Done::Secret(s),
        None => Done::Said(added.to_owned()),
    }
}

impl Op {
    /// Runs the op; what it says is in `l`.
    async fn run(self, l: Locale) -> Result<Done, AppError> {
        Ok(match self {
            Op::CreateChannel(spec) => secret_of(
                create_alert_channel(spec).await?,
                td_string!(l, alerts.channel_added),
            ),
            Op::DeleteChannel(id) => delete_alert_channel(id).await.map(|()| Done::Changed)?,
            Op::RotateChannel(id, _) => Done::Secret(rotate_alert_channel_secret(id).await?),
            Op::ChannelEnabled(id, on) => set_alert_channel_enabled(id, on)
                .await
                .map(|()| Done::Changed)?,
            Op::SendTest(id, name) => {
                send_alert_test(id).await?;
                Done::Said(tf!(l, alerts.test_queued, name = name))
            }
            Op::CreateRule(spec) => {
                create_alert_rule(spec).await?;
                Done::Said(td_string!(l, alerts.rule_added).into())
            }
            Op::RuleEnabled(id, on) => set_alert_rule_enabled(id, on)
                .await
                .map(|()| Done::Changed)?,
            Op::DeleteRule(id) => delete_alert_rule(id).await.map(|()| Done::Changed)?,
            Op::CreateSubscription(form) => secret_of(
                create_event_subscription(form).await?,
                td_string!(l, alerts.subscription_added),
            ),
            Op::DeleteSubscription(id) => delete_event_subscription(id)
                .await
                .map(|()| Done::Changed)?,
            Op::RotateSubscription(id, _) => {
                Done::Secret(rotate_event_subscription_secret(id).await?)
            }
            Op::SubscriptionEnabled(id, on) => set_event_subscription_enabled(id, on)
                .await
                .map(|()| Done::Changed)?,
            Op::Replay(id) => {
                let n = replay_dead_letters(id).await?;
                Done::Said(tf!(l, alerts.n_requeued, count = n))
            }
            Op::Discard(id) => {
                discard_dead_letter(id).await?;
                Done::Said(td_string!(l, alerts.discarded).into())
            }
        })
    }

    /// The channel a row button acts on.
    pub fn channel(&self) -> Option<i64> {
        match self {
            Op::DeleteChannel(id)
            | Op::RotateChannel(id, _)
            | Op::ChannelEnabled(id, _)
            | Op::SendTest(id, _) => Some(*id),
            _ => None,
        }
    }

    pub fn rule(&self) -> Option<i64> {
        match self {
            Op::RuleEnabled(id, _) | Op::DeleteRule(id) => Some(*id),
            _ => None,
        }
    }

    pub fn subscription(&self) -> Option<i64> {
        match self {
            Op::DeleteSubscription(id)
            | Op::RotateSubscription(id, _)
            | Op::SubscriptionEnabled(id, _) => Some(*id),
            _ => None,
        }
    }

    /// The dead letter a row button acts on (None: not one of those).
    pub fn dead_letter(&self) -> Option<&str> {
        match self {
            Op::Replay(Some(id)) | Op::Discard(id) => Some(id),
            _ => None,
        }
    }
}

/// The page's action: every change goes through it, so the page refreshes
/// after each success in one place, and each part of the page finds the
/// outcome of what it started.
#[derive(Clone, Copy)]
pub struct Ops(Action<Op, (Op, Result<Done, AppError>)>);

impl Ops {
    pub fn new() -> Self {
        let l = use_locale();
        Self(Action::new(move |op: &Op| {
            let op = op.clone();
            async move {
                let result = op.clone().run(l).await;
                (op, result)
            }
        }))
    }

    pub fn dispatch(&self, op: Op) {
        self.0.dispatch(op);
    }

    /// Whether `op` is under way (its button waits).
    pub fn busy(&self, op: &Op) -> bool {
        self.0.input().get().as_ref() == Some(op)
    }

    /// Whether an op `which` claims is under way (its form waits).
    pub fn busy_with(&self, which: impl Fn(&Op) -> bool) -> bool {
        self.0.input().get().as_ref().is_some_and(which)
    }

    /// Whether the last op succeeded; None before the first.
    pub fn succeeded(&self) -> Option<bool> {
        self.0.value().with(|v| v.as_ref().map(|(_, r)| r.is_ok()))
    }

    /// The last outcome, if `which` says its op belongs to the asker.
    pub fn outcome(&self, which: impl Fn(&Op) -> bool) -> Option<(Op, Result<Done, AppError>)> {
        self.0
            .value()
            .with(|v| v.as_ref().filter(|(op, _)| which(op)).cloned())
    }

    pub fn error(&self, which: impl Fn(&Op) -> bool) -> Option<AppError> {
        self.outcome(which).and_then(|(_, r)| r.err())
    }
}

/// A form's validation message for one of its fields.
pub fn field_error(ops: Ops, form: fn(&Op) -> bool, field: &'static str) -> impl IntoView {
    let l = use_locale();
    move || match ops.error(form) {
        Some(AppError::Validation { field: f, message }) if f == field => Some(
            view! { <span class="field-error" role="alert">{crate::lang::messages::detail(l, &message)}</span> },
        ),
        _ => None,
    }
}

/// A form's error that belongs to none of its `fields`.
pub fn form_error(
    ops: Ops,
    form: fn(&Op) -> bool,
    fields: &'static [&'static str],
) -> impl IntoView {
    let l = use_locale();
    move || {
        ops.error(form)
            .filter(|e| !matches!(e, AppError::Validation { field, .. } if fields.contains(&field.as_str())))
            .map(|e| view! { <p class="error-text" role="alert">{crate::error::describe(l, &e)}</p> })
    }
}

/// The error of the last button pressed in one table row.
pub fn row_error(ops: Ops, mine: impl Fn(&Op) -> bool + Send + Sync + 'static) -> impl IntoView {
    let l = use_locale();
    move || {
        ops.error(&mine)
            .map(|e| view! { <div class="error-text small" role="alert">{crate::error::describe(l, &e)}</div> })
    }
}

/// What a section's last success said.
pub fn said(ops: Ops, mine: fn(&Op) -> bool) -> impl IntoView {
    move || match ops.outcome(mine) {
        Some((_, Ok(Done::Said(text)))) => {
            Some(view! { <p class="ok-text" role="status">{text}</p> })
        }
        _ => None,
    }
}

/// A label, its input, and the input's validation message.
#[component]
pub fn Field(
    label: &'static str,
    ops: Ops,
    form: fn(&Op) -> bool,
    field: &'static str,
    children: Children,
) -> impl IntoView {
    view! {
        <label>
            <span>{label}</span>
            {children()}
            {field_error(ops, form, field)}
        </label>
    }
}

/// A text input bound to `value`.
pub fn text(
    value: RwSignal<String>,
    kind: &'static str,
    placeholder: &'static str,
) -> impl IntoView {
    view! {
        <input type=kind placeholder=placeholder autocomplete="off" prop:value=move || value.get()
            on:input=move |ev| value.set(event_target_value(&ev)) />
    }
}

/// A whole number typed into a form; -1 (which every check refuses) when it
/// is not one, so the server's message says what is expected.
pub fn whole(value: RwSignal<String>) -> i32 {
    value.get_untracked().trim().parse().unwrap_or(-1)
}

/// A button that asks once more before it acts.
#[component]
pub fn ConfirmButton(label: &'static str, ask: &'static str, ops: Ops, op: Op) -> impl IntoView {
    let armed = RwSignal::new(false);
    let op = StoredValue::new(op);
    view! {
        <button class="btn small danger" type="button"
            disabled=move || op.with_value(|o| ops.busy(o))
            on:click=move |_| {
                if armed.get_untracked() {
                    armed.set(false);
                    ops.dispatch(op.get_value());
                } else {
                    armed.set(true);
                }
            }
            on:blur=move |_| armed.set(false)>
            {move || if armed.get() { ask } else { label }}
        </button>
    }
}

/// A button that runs `op`, and waits while it runs.
#[component]
pub fn OpButton(label: &'static str, ops: Ops, op: Op) -> impl IntoView {
    let op = StoredValue::new(op);
    view! {
        <button class="btn small" type="button"
            disabled=move || op.with_value(|o| ops.busy(o))
            on:click=move |_| ops.dispatch(op.get_value())>
            {label}
        </button>
    }
}

/// A signing secret, shown this once, with a copy button.
#[component]
pub fn SecretOnce(title: String, secret: String) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let copied = RwSignal::new(false);
    let value = secret.clone();
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let _ = window().navigator().clipboard().write_text(&value);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &value;
        copied.set(true);
    };
    view! {
        <div class="secret-box" role="status" data-testid="signing-secret">
            <p>
                <strong>{title}</strong>
                " " {t!(i18n, alerts.secret_copy)} " "
                <code>"webhook-signature"</code> {t!(i18n, alerts.secret_header)}
            </p>
            <div class="secret-row">
                <code>{secret}</code>
                <button class="btn small" type="button" on:click=copy>
                    {move || if copied.get() { td_string!(l, keys.copied) } else { td_string!(l, keys.copy) }}
                </button>
            </div>
        </div>
    }
}

/// The secret of the last create or rotate op that `mine` claims.
pub fn secret_view(ops: Ops, mine: fn(&Op) -> bool) -> impl IntoView {
    let l = use_locale();
    move || match ops.outcome(mine) {
        Some((op, Ok(Done::Secret(secret)))) => {
            let title = match op {
                Op::CreateChannel(spec) => {
                    tf!(l, alerts.channel_named_added, name = spec.name)
                }
                Op::CreateSubscription(form) => {
                    tf!(l, alerts.subscription_named_added, name = form.name)
                }
                Op::RotateChannel(_, name) | Op::RotateSubscription(_, name) => {
                    tf!(l, alerts.new_secret, name = name)
                }
                _ => String::new(),
            };
            Some(view! { <SecretOnce title secret /> })
        }
        _ => None,
    }
}

/// "active", or why not, in a warning style.
#[component]
pub fn EndpointState(disabled_reason: Option<String>, disabled: bool) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    if !disabled {
        return view! { <span class="badge ok">{t!(i18n, users.active)}</span> }.into_any();
    }
    let reason = disabled_reason.unwrap_or_else(|| td_string!(l, alerts.no_reason).into());
    let gone = reason.contains("410");
    view! {
        <div class="endpoint-disabled" role="status">
            <span class="badge warn">{t!(i18n, users.disabled)}</span>
            <div class="small">{format!("{}: {}", td_string!(l, users.disabled), crate::lang::messages::detail(l, &reason))}</div>
            {gone.then(|| view! {
                <div class="small muted">{t!(i18n, alerts.gone)}</div>
            })}
        </div>
    }
    .into_any()
}
