//! Dead letters: deliveries that used up their attempts, each with every
//! attempt on request, to replay (one or all) or discard.

use leptos::prelude::*;

use super::{ConfirmButton, Op, OpButton, Ops, row_error, said};
use crate::alerts::types::{Attempt, DeadLetter};
use crate::components::format::{decimal, timestamp};
use crate::lang::{Locale, t, td_string, tf, use_i18n, use_locale};

fn mine(op: &Op) -> bool {
    matches!(op, Op::Replay(_) | Op::Discard(_))
}

/// To the second: attempts are often seconds apart.
/// A time to the second: `2026-11-22 10:55:26` / `22.11.2026 10:55:26`.
fn seconds(l: Locale, rfc3339: &str) -> String {
    format!(
        "{}{}",
        timestamp(l, rfc3339),
        rfc3339.get(16..19).unwrap_or_default()
    )
}

fn last_result(d: &DeadLetter) -> String {
    match (d.last_status, d.last_error.as_deref()) {
        (Some(s), Some(e)) => format!("HTTP {s}: {e}"),
        (Some(s), None) => format!("HTTP {s}"),
        (None, Some(e)) => e.to_owned(),
        (None, None) => "–".into(),
    }
}

/// "Replay all", for the section's header.
#[component]
pub fn ReplayAll(ops: Ops) -> impl IntoView {
    let l = use_locale();
    view! {
        <OpButton label=td_string!(l, dead.replay_all) ops op=Op::Replay(None) />
    }
}

/// What the last replay or discard came to.
pub fn dead_letter_notices(ops: Ops) -> impl IntoView {
    view! {
        {said(ops, mine)}
        {row_error(ops, |op| matches!(op, Op::Replay(None)))}
    }
}

#[component]
pub fn DeadLettersTable(letters: Vec<DeadLetter>, ops: Ops) -> impl IntoView {
    let i18n = use_i18n();
    if letters.is_empty() {
        return view! { <p class="muted">{t!(i18n, dead.none)}</p> }.into_any();
    }
    view! {
        <div class="table-wrap" tabindex="0">
            <table data-testid="dead-letters-table">
                <thead>
                    <tr>
                        <th class="hide-sm">{t!(i18n, dead.created)}</th>
                        <th>{t!(i18n, dead.from_to)}</th>
                        <th>{t!(i18n, dead.what)}</th>
                        <th class="num hide-sm">{t!(i18n, dead.attempts)}</th>
                        <th class="hide-sm">{t!(i18n, dead.last_result)}</th>
                        <th>{t!(i18n, common.actions)}</th>
                    </tr>
                </thead>
                {letters.into_iter().map(|d| view! { <DeadLetterRows d ops /> }).collect_view()}
            </table>
        </div>
    }
    .into_any()
}

/// One dead letter: its row, and its attempts below when opened.
#[component]
fn DeadLetterRows(d: DeadLetter, ops: Ops) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let open = RwSignal::new(false);
    let id = StoredValue::new(d.id.clone());
    let tries = StoredValue::new(d.tries.clone());
    let created = timestamp(l, &d.created_at);
    let last = last_result(&d);
    view! {
        <tbody data-testid="dead-letter">
            <tr>
                <td class="hide-sm nowrap small">{created.clone()}</td>
                <td class="wrap-anywhere">
                    <div>{d.source.clone()}</div>
                    <div class="small muted">{format!("→ {}", d.destination)}</div>
                </td>
                <td class="wrap-anywhere">
                    <div>{d.summary.clone()}</div>
                    <div class="sm-line small muted">{created}</div>
                    <div class="sm-line small error-text">{last.clone()}</div>
                </td>
                <td class="num hide-sm">{d.attempts}</td>
                <td class="hide-sm wrap-anywhere small error-text">{last}</td>
                <td class="actions">
                    <button class="btn small" type="button" aria-expanded=move || open.get().to_string()
                        on:click=move |_| open.update(|o| *o = !*o)>
                        <span class="disclosure" aria-hidden="true">{move || if open.get() { "▾" } else { "▸" }}</span>
                        {t!(i18n, dead.attempts)}
                    </button>
                    <OpButton label=td_string!(l, dead.replay) ops op=Op::Replay(Some(d.id.clone())) />
                    <ConfirmButton label=td_string!(l, dead.discard) ask=td_string!(l, dead.really_discard) ops op=Op::Discard(d.id.clone()) />
                    {row_error(ops, move |op| id.with_value(|i| op.dead_letter() == Some(i.as_str())))}
                </td>
            </tr>
            <Show when=move || open.get()>
                <tr class="attempts-row">
                    <td colspan="6">
                        <Attempts tries=tries.get_value() />
                    </td>
                </tr>
            </Show>
        </tbody>
    }
}

/// Every attempt, oldest first: a line of facts, then what came back.
#[component]
fn Attempts(tries: Vec<Attempt>) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    if tries.is_empty() {
        return view! { <p class="small muted">{t!(i18n, dead.no_attempts)}</p> }.into_any();
    }
    view! {
        <ol class="attempt-list" data-testid="attempts">
            {tries.into_iter().map(|a| {
                let status = a.status.map_or_else(|| td_string!(l, dead.no_status).to_owned(), |s| format!("HTTP {s}"));
                view! {
                    <li>
                        <div class="attempt-facts">
                            <span>{tf!(l, dead.round, n = a.round)}</span>
                            <span>{tf!(l, dead.attempt, n = a.attempt)}</span>
                            <span class="nowrap">{seconds(l, &a.at)}</span>
                            <span>{format!("{}\u{a0}ms", decimal(l, a.duration_ms, 0))}</span>
                            <span>{status}</span>
                        </div>
                        {a.error.map(|e| view! { <div class="error-text wrap-anywhere">{tf!(l, dead.error, error = e)}</div> })}
                        {a.response.map(|r| view! { <pre tabindex="0" class="output">{r}</pre> })}
                    </li>
                }
            }).collect_view()}
        </ol>
    }
    .into_any()
}
