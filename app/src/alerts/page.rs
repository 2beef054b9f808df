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
use super::server_fns::{AlertsOverview, get_alerts_overview};
use crate::auth::Role;
use crate::components::layout::IfRole;
use crate::error::AppError;
use crate::lang::{Locale, t, t_string, td_string, tf, use_i18n, use_locale};
use crate::resource::{JsonResource, resource};

type Overview = JsonResource<Result<AlertsOverview, AppError>>;

fn error_text(l: Locale, e: &AppError) -> String {
    match e {
        AppError::Forbidden(_) => td_string!(l, settings.forbidden).to_owned(),
        other => crate::error::describe(l, other),
    }
}

fn loading() -> impl IntoView {
    let i18n = use_i18n();
    view! { <p class="muted">{t!(i18n, common.loading)}</p> }
}

/// One section's table once the overview is there.
fn section_body<V: IntoView + 'static>(
    overview: Overview,
    body: impl Fn(AlertsOverview) -> V + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let l = use_locale();
    view! {
        <Transition fallback=loading>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(o) => body(o).into_any(),
                    Err(e) => view! { <p class="error-text" role="alert">{error_text(l, &e)}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
pub fn AlertsPage() -> impl IntoView {
    let i18n = use_i18n();
    let ops = Ops::new();
    let refresh = RwSignal::new(0u32);
    Effect::new(move |_| {
        if ops.succeeded() == Some(true) {
            refresh.update(|n| *n += 1);
        }
    });
    let overview: Overview = resource(move || refresh.get(), |_| get_alerts_overview());
    view! {
        <Title text=t_string!(i18n, nav.alerts) />
        <header class="page-header">
            <h1>{t!(i18n, nav.alerts)}</h1>
        </header>
        <IfRole role=Role::Admin invert=true>
            <p class="panel muted" role="note">{t!(i18n, alerts.admins_only)}</p>
        </IfRole>
        <IfRole role=Role::Admin>
            <section class="panel" aria-labelledby="rules-title">
                <h2 id="rules-title">{t!(i18n, alerts.rules)}</h2>
                {section_body(overview, move |o| view! { <RulesTable rules=o.rules channels=o.channels ops /> })}
                {rule_notices(ops)}
                <RuleForm ops overview />
            </section>
            <section class="panel" aria-labelledby="channels-title">
                <h2 id="channels-title">{t!(i18n, alerts.channels)}</h2>
                {section_body(overview, move |o| view! { <ChannelsTable channels=o.channels ops /> })}
                <ChannelNotices ops />
                <ChannelForm ops />
            </section>
            <section class="panel" aria-labelledby="subscriptions-title">
                <h2 id="subscriptions-title">{t!(i18n, alerts.subscriptions)}</h2>
                <p class="small muted">{t!(i18n, alerts.subscriptions_intro)}</p>
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
    let i18n = use_i18n();
    let l = use_locale();
    view! {
        <section class="panel" aria-labelledby="dead-letters-title">
            <div class="panel-header">
                <Transition fallback=move || view! { <h2 id="dead-letters-title">{t!(i18n, slo.dead_letters)}</h2> }>
                    {move || Suspend::new(async move {
                        let total = overview.await.map(|o| o.dead_total).unwrap_or(0);
                        view! {
                            <h2 id="dead-letters-title">{format!("{} ({total})", td_string!(l, slo.dead_letters))}</h2>
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
                        <p class="small muted">{tf!(l, alerts.pending, count = o.pending)}</p>
                    })}
                    <DeadLettersTable letters=o.dead_letters ops />
                    {(o.dead_total > shown).then(|| view! {
                        <p class="small muted">{tf!(l, alerts.newest_shown, shown = shown, total = o.dead_total)}</p>
                    })}
                }
            })}
        </section>
    }
}

/// The dashboard's line on deliveries: how many are dead letters.
/// Rendered on the server only (`dashboard::figures`).
#[cfg(feature = "ssr")]
#[component]
pub fn DeadLetterStrip(count: i64) -> impl IntoView {
    let l = use_locale();
    view! {
        <a class="panel now-strip" href="/alerts" data-testid="dead-letter-strip">
            <strong>{td_string!(l, alerts.deliveries)}</strong>
            {if count > 0 {
                let text = tf!(l, alerts.n_dead_letters, count = count);
                view! { <span class="badge warn">{text}</span> }.into_any()
            } else {
                view! { <span class="badge ok">{td_string!(l, alerts.no_dead_letters)}</span> }.into_any()
            }}
        </a>
    }
}
