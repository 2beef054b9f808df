//! The "Live" widget: the newest events, pushed by the server the moment
//! they are committed. Server-rendered with the last 20 events, then kept
//! current by an `EventSource` that reconnects with exponential back-off and
//! resumes from the last event it received.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use crate::components::deferred::hydrate_later;

use super::server_fns::recent_events;
use super::types::{EventView, LIVE_SHOWN as SHOWN, Level, LiveConnection as Connection};
use crate::lang::{Locale, t, td_string, tf, use_i18n, use_locale};
use crate::resource::resource;

pub fn level_class(level: Level) -> &'static str {
    match level {
        Level::Debug => "lvl lvl-debug",
        Level::Info => "lvl lvl-info",
        Level::Warning => "lvl lvl-warning",
        Level::Error => "lvl lvl-error",
        Level::Critical => "lvl lvl-critical",
    }
}

/// "12 s ago", "5 min ago", "3 h ago" / "vor 12 s", …, else the date.
pub fn relative(locale: Locale, t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let s = (now - t).num_seconds();
    let ago = |n: i64, unit: &str| tf!(locale, time.ago, time = format!("{n}\u{a0}{unit}"));
    match s {
        ..=-1 => td_string!(locale, time.future).into(),
        0..=4 => td_string!(locale, time.just_now).into(),
        5..=59 => ago(s, "s"),
        60..=3599 => ago(s / 60, "min"),
        3600..=86_399 => ago(s / 3600, "h"),
        _ => crate::components::format::date(locale, t),
    }
}

/// Adds `new` (oldest first) on top of `list` (newest first), keeping `SHOWN`.
pub fn push_newest(list: &mut Vec<EventView>, new: Vec<EventView>) {
    for e in new {
        if list.iter().any(|x| x.seq == e.seq) {
            continue;
        }
        list.insert(0, e);
    }
    list.sort_by_key(|e| std::cmp::Reverse(e.seq));
    list.truncate(SHOWN);
}

#[component]
pub fn LiveWidget(#[prop(into)] service: Signal<Option<String>>) -> impl IntoView {
    let l = use_locale();
    let initial = resource(move || service.get(), recent_events);
    // Hydrates in a task of its own (components::deferred).
    hydrate_later(view! {
        <section class="panel live" aria-labelledby="live-title">
            <Suspense fallback=|| view! { <div class="panel-header"><h2 id="live-title">"Live"</h2></div> }>
                {move || Suspend::new(async move {
                    match initial.await {
                        Ok(recent) => view! { <LiveList recent service=service.get_untracked() /> }.into_any(),
                        Err(e) => view! {
                            <div class="panel-header"><h2 id="live-title">"Live"</h2></div>
                            <p class="error-text">{crate::error::describe(l, &e)}</p>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    })
}

#[component]
fn LiveList(recent: super::types::LiveSnapshot, service: Option<String>) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let events = RwSignal::new(recent.events);
    let paused = RwSignal::new(false);
    let held = RwSignal::new(Vec::<EventView>::new());
    let connection = RwSignal::new(Connection::Connecting);
    // None until hydrated: the server renders clock times, the browser
    // switches to relative ones (no time-dependent server output).
    let now = RwSignal::new(None::<DateTime<Utc>>);

    #[cfg(feature = "hydrate")]
    {
        let mut params = String::new();
        if let Some(s) = &service {
            params = format!("service={}", super::types::encode(s));
        }
        super::live_client::connect(params, recent.cursor, connection, move |event| {
            if paused.get_untracked() {
                held.update(|h| {
                    h.insert(0, event);
                    h.truncate(200);
                });
            } else {
                events.update(|list| push_newest(list, vec![event]));
            }
        });
        super::live_client::tick(now);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (&service, recent.cursor, now, connection);

    let toggle = move |_| {
        if paused.get_untracked() {
            let mut buffered = held.get_untracked();
            buffered.reverse();
            events.update(|list| push_newest(list, buffered));
            held.set(Vec::new());
            paused.set(false);
        } else {
            paused.set(true);
        }
    };
    let status = move || match (paused.get(), connection.get()) {
        (true, _) => ("status paused", td_string!(l, live.paused)),
        (false, Connection::Live) => ("status live", td_string!(l, live.live)),
        (false, Connection::Reconnecting) => {
            ("status reconnecting", td_string!(l, live.reconnecting))
        }
        (false, Connection::Connecting) => ("status connecting", td_string!(l, live.connecting)),
    };
    view! {
        <div class="panel-header">
            <h2 id="live-title">"Live"</h2>
            <span class=move || status().0 role="status" data-testid="live-status">
                <span class="dot" aria-hidden="true"></span>
                {move || status().1}
            </span>
            <button class="btn small" on:click=toggle aria-pressed=move || paused.get().to_string() data-testid="live-toggle">
                {move || if paused.get() { td_string!(l, live.resume) } else { td_string!(l, live.pause) }}
            </button>
        </div>
        <Show when=move || paused.get() && !held.get().is_empty()>
            <p class="muted small" data-testid="live-held">{move || tf!(l, live.held, count = held.get().len())}</p>
        </Show>
        <ol class="live-list" data-testid="live-list" aria-live="polite">
            <For each=move || events.get() key=|e| e.seq let:e>
                <li data-seq=e.seq>
                    <span class=level_class(e.level)>{e.level.as_str()}</span>
                    <span class="live-what">
                        <a href=format!("/events/{}", e.id) class="live-service">{e.service.clone()}</a>
                        {(!e.feature.is_empty()).then(|| view! { <span class="muted">" · " {e.feature.clone()}</span> })}
                        <span class="live-kind mono">{e.kind.clone()}</span>
                        <span class="live-message">{e.message.clone()}</span>
                    </span>
                    <time datetime=e.occurred_at.to_rfc3339() class="muted small">
                        {move || match now.get() {
                            Some(n) => relative(l, e.occurred_at, n),
                            None => crate::components::format::clock(e.occurred_at, true),
                        }}
                    </time>
                </li>
            </For>
        </ol>
        <Show when=move || events.get().is_empty()>
            <p class="muted">{t!(i18n, live.empty)}</p>
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(seq: i64) -> EventView {
        EventView {
            id: uuid::Uuid::nil(),
            seq,
            occurred_at: DateTime::default(),
            received_at: DateTime::default(),
            service: "s".into(),
            feature: String::new(),
            kind: "k".into(),
            level: Level::Info,
            message: String::new(),
            fingerprint: None,
            release: None,
            environment: None,
            user: None,
            attributes: serde_json::json!({}),
        }
    }

    #[test]
    fn newest_events_go_on_top_and_the_list_stays_at_20() {
        let mut list: Vec<EventView> = (1..=20).rev().map(ev).collect();
        push_newest(&mut list, vec![ev(21), ev(22), ev(20)]);
        assert_eq!(list.len(), SHOWN);
        assert_eq!(list[0].seq, 22);
        assert_eq!(list[1].seq, 21);
        assert_eq!(list.last().map(|e| e.seq), Some(3));
    }

    #[test]
    fn relative_times_read_naturally() {
        let now = DateTime::parse_from_rfc3339("2026-11-22T12:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        let en = |t| relative(Locale::en, t, now).replace('\u{a0}', " ");
        let de = |t| relative(Locale::de, t, now).replace('\u{a0}', " ");
        assert_eq!(en(now), "just now");
        assert_eq!(de(now), "gerade eben");
        assert_eq!(en(now - chrono::Duration::seconds(12)), "12 s ago");
        assert_eq!(de(now - chrono::Duration::seconds(12)), "vor 12 s");
        assert_eq!(en(now - chrono::Duration::minutes(5)), "5 min ago");
        assert_eq!(en(now - chrono::Duration::hours(3)), "3 h ago");
        assert_eq!(en(now - chrono::Duration::days(3)), "2026-11-19");
        assert_eq!(de(now - chrono::Duration::days(3)), "19.11.2026");
    }
}
