//! Dead letters: deliveries that used up their attempts, each with every
//! attempt on request, to replay (one or all) or discard.

use leptos::prelude::*;

use super::{ConfirmButton, Op, OpButton, Ops, row_error, said};
use crate::alerts::types::{Attempt, DeadLetter};
use crate::components::format::timestamp;

fn mine(op: &Op) -> bool {
    matches!(op, Op::Replay(_) | Op::Discard(_))
}

/// To the second: attempts are often seconds apart.
fn seconds(rfc3339: &str) -> String {
    rfc3339.get(..19).unwrap_or(rfc3339).replace('T', " ")
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
    view! {
        <OpButton label="Replay all" ops op=Op::Replay(None) />
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
    if letters.is_empty() {
        return view! { <p class="muted">"No dead letters: everything was delivered or is still being tried."</p> }
            .into_any();
    }
    view! {
        <div class="table-wrap" tabindex="0">
            <table data-testid="dead-letters-table">
                <thead>
                    <tr>
                        <th class="hide-sm">"Created"</th>
                        <th>"From → to"</th>
                        <th>"What"</th>
                        <th class="num hide-sm">"Attempts"</th>
                        <th class="hide-sm">"Last result"</th>
                        <th>"Actions"</th>
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
    let open = RwSignal::new(false);
    let id = StoredValue::new(d.id.clone());
    let tries = StoredValue::new(d.tries.clone());
    let created = timestamp(&d.created_at);
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
                        "Attempts"
                    </button>
                    <OpButton label="Replay" ops op=Op::Replay(Some(d.id.clone())) />
                    <ConfirmButton label="Discard" ask="Really discard?" ops op=Op::Discard(d.id.clone()) />
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
    if tries.is_empty() {
        return view! { <p class="small muted">"No attempts recorded."</p> }.into_any();
    }
    view! {
        <ol class="attempt-list" data-testid="attempts">
            {tries.into_iter().map(|a| {
                let status = a.status.map_or_else(|| "no status".to_owned(), |s| format!("HTTP {s}"));
                view! {
                    <li>
                        <div class="attempt-facts">
                            <span>{format!("Round {}", a.round)}</span>
                            <span>{format!("attempt {}", a.attempt)}</span>
                            <span class="nowrap">{seconds(&a.at)}</span>
                            <span>{format!("{:.0} ms", a.duration_ms)}</span>
                            <span>{status}</span>
                        </div>
                        {a.error.map(|e| view! { <div class="error-text wrap-anywhere">{format!("Error: {e}")}</div> })}
                        {a.response.map(|r| view! { <pre tabindex="0" class="output">{r}</pre> })}
                    </li>
                }
            }).collect_view()}
        </ol>
    }
    .into_any()
}
