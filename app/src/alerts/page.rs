//! The Alerts page (admin): rules, channels, event subscriptions and dead
//! letters, each section with its table and form; and the dashboard's
//! dead-letter line.

use leptos::prelude::*;
use leptos_meta::Title;

use super::components::Ops;
use super::components::channels::{ChannelForm, ChannelNotices, ChannelsTable};
use super::components::dead_letters::{DeadLettersTable, ReplayAll, dead_letter_notices};
use super::components::rules::{RuleForm, RulesTable, rule_notices};
use super::components::subscriptions::{SubscriptionForm, SubscriptionNotices, SubscriptionsTable};
use super::server_fns::{AlertsOverview, dead_letter_count, get_alerts_overview};
use crate::auth::Role;
use crate::components::layout::IfRole;
use crate::error::AppError;

type Overview = Resource<Result<AlertsOverview, AppError>>;

fn error_text(e: &AppError) -> String {
    match e {
        AppError::Forbidden(_) => "Only administrators can see this.".to_owned(),
        other => other.to_string(),
    }
}

fn loading() -> impl IntoView {
    view! { <p class="muted">"Loading…"</p> }
}

/// One section's table once the overview is there.
fn section_body<V: IntoView + 'static>(
    overview: Overview,
    body: impl Fn(AlertsOverview) -> V + Copy + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <Transition fallback=loading>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(o) => body(o).into_any(),
                    Err(e) => view! { <p class="error-text" role="alert">{error_text(&e)}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
pub fn AlertsPage() -> impl IntoView {
    let ops = Ops::new();
    let refresh = RwSignal::new(0u32);
    Effect::new(move |_| {
        if ops.succeeded() == Some(true) {
            refresh.update(|n| *n += 1);
        }
    });
    let overview: Overview = Resource::new(move || refresh.get(), |_| get_alerts_overview());
    view! {
        <Title text="Alerts" />
        <header class="page-header">
            <h1>"Alerts"</h1>
        </header>
        <IfRole role=Role::Admin invert=true>
            <p class="panel muted" role="note">"Alerts are for administrators."</p>
        </IfRole>
        <IfRole role=Role::Admin>
            <section class="panel" aria-labelledby="rules-title">
                <h2 id="rules-title">"Rules"</h2>
                {section_body(overview, move |o| view! { <RulesTable rules=o.rules channels=o.channels ops /> })}
                {rule_notices(ops)}
                <RuleForm ops overview />
            </section>
            <section class="panel" aria-labelledby="channels-title">
                <h2 id="channels-title">"Channels"</h2>
                {section_body(overview, move |o| view! { <ChannelsTable channels=o.channels ops /> })}
                <ChannelNotices ops />
                <ChannelForm ops />
            </section>
            <section class="panel" aria-labelledby="subscriptions-title">
                <h2 id="subscriptions-title">"Event subscriptions"</h2>
                <p class="small muted">
                    "Every matching event goes to the URL as signed JSON, in batches of up to 100."
                </p>
                {section_body(overview, move |o| view! { <SubscriptionsTable subscriptions=o.subscriptions ops /> })}
                <SubscriptionNotices ops />
                <SubscriptionForm ops overview />
            </section>
            <DeadLettersSection overview ops />
        </IfRole>
    }
}

#[component]
fn DeadLettersSection(overview: Overview, ops: Ops) -> impl IntoView {
    view! {
        <section class="panel" aria-labelledby="dead-letters-title">
            <div class="panel-header">
                <Transition fallback=|| view! { <h2 id="dead-letters-title">"Dead letters"</h2> }>
                    {move || Suspend::new(async move {
                        let total = overview.await.map(|o| o.dead_total).unwrap_or(0);
                        view! {
                            <h2 id="dead-letters-title">{format!("Dead letters ({total})")}</h2>
                            {(total > 0).then(|| view! { <ReplayAll ops /> })}
                        }
                    })}
                </Transition>
            </div>
            {dead_letter_notices(ops)}
            {section_body(overview, move |o| {
                let shown = o.dead_letters.len() as i64;
                view! {
                    {(o.pending > 0).then(|| view! {
                        <p class="small muted">{format!("{} waiting for their next attempt.", o.pending)}</p>
                    })}
                    <DeadLettersTable letters=o.dead_letters ops />
                    {(o.dead_total > shown).then(|| view! {
                        <p class="small muted">{format!("The newest {shown} of {} are shown.", o.dead_total)}</p>
                    })}
                }
            })}
        </section>
    }
}

/// The dashboard's line on deliveries: how many are dead letters.
#[component]
pub fn DeadLetterStrip(#[prop(into)] tick: Signal<u64>) -> impl IntoView {
    let count = Resource::new(move || tick.get(), |_| dead_letter_count());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                count.await.ok().map(|n| view! {
                    <a class="panel now-strip" href="/alerts" data-testid="dead-letter-strip">
                        <strong>"Deliveries"</strong>
                        {if n > 0 {
                            view! { <span class="badge warn">{format!("{n} dead letter{}", if n == 1 { "" } else { "s" })}</span> }.into_any()
                        } else {
                            view! { <span class="badge ok">"no dead letters"</span> }.into_any()
                        }}
                    </a>
                })
            })}
        </Transition>
    }
}
