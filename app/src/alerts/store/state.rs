//! What each rule knows per service, and the decision it takes on each
//! observation: send now, hold back for the cooldown (counting), resolve.
//! The decision is a pure function ([`decide`]); [`observe`] applies it
//! under the state row's lock and queues the notice to every channel of
//! the rule in the same transaction.

use chrono::{DateTime, Duration, Utc};
use sqlx::PgConnection;

use super::deliveries::{self, Source};
use super::rules::Rule;
use crate::alerts::types::{Notice, NoticeState};
use crate::error::AppResult;

/// A rule's memory for one service (or for Leitstand itself).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleState {
    pub firing: bool,
    pub since: Option<DateTime<Utc>>,
    pub last_event_at: Option<DateTime<Utc>>,
    pub last_sent_at: Option<DateTime<Utc>>,
    pub suppressed: i32,
}

/// What was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// Something happened (a new error group, a critical event).
    Occurred,
    /// The condition holds.
    Active,
    /// The condition does not hold.
    Clear,
    /// The scheduler's tick for occurrences: send what the cooldown held
    /// back, and resolve after a cooldown without a new occurrence.
    Tick,
    /// The scheduler's tick for conditions: send what the cooldown held
    /// back (the condition itself says when it clears).
    Flush,
}

/// What to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Send this notice, mentioning `held` occurrences held back before it.
    Send {
        state: NoticeState,
        held: i32,
    },
    /// Held back by the cooldown (counted).
    Hold,
    Nothing,
}

/// The cooldown as a duration.
fn cooldown(seconds: i32) -> Duration {
    Duration::seconds(i64::from(seconds.max(0)))
}

/// Whether the cooldown since the last message has passed.
fn may_send(s: &RuleState, cool: Duration, now: DateTime<Utc>) -> bool {
    s.last_sent_at.is_none_or(|t| now - t >= cool)
}

/// Applies one observation to a rule's state: one message per rule and
/// service per cooldown, the rest counted; "resolved" when the condition
/// clears (conditions) or after a cooldown without a new occurrence
/// (occurrences).
pub fn decide(
    s: &mut RuleState,
    seen: Seen,
    cooldown_seconds: i32,
    now: DateTime<Utc>,
) -> Decision {
    let cool = cooldown(cooldown_seconds);
    let send = |s: &mut RuleState, state| {
        let held = s.suppressed;
        s.suppressed = 0;
        s.last_sent_at = Some(now);
        Decision::Send { state, held }
    };
    match seen {
        Seen::Occurred => {
            s.last_event_at = Some(now);
            // Without a cooldown every occurrence is its own message, and
            // there is nothing to resolve.
            if cooldown_seconds <= 0 {
                return send(s, NoticeState::Firing);
            }
            if !s.firing {
                s.firing = true;
                s.since = Some(now);
            }
            if may_send(s, cool, now) {
                send(s, NoticeState::Firing)
            } else {
                s.suppressed += 1;
                Decision::Hold
            }
        }
        Seen::Active => {
            s.last_event_at = Some(now);
            if s.firing {
                return Decision::Nothing;
            }
            s.firing = true;
            s.since = Some(now);
            if may_send(s, cool, now) {
                send(s, NoticeState::Firing)
            } else {
                s.suppressed += 1;
                Decision::Hold
            }
        }
        Seen::Clear => {
            if !s.firing {
                return Decision::Nothing;
            }
            s.firing = false;
            // A resolution is always news, cooldown or not.
            send(s, NoticeState::Resolved)
        }
        Seen::Tick | Seen::Flush => {
            if s.suppressed > 0 && may_send(s, cool, now) {
                // What the cooldown held back, in one message.
                return send(s, NoticeState::Firing);
            }
            let quiet = s.last_event_at.is_none_or(|t| now - t >= cool);
            if seen == Seen::Tick && s.firing && quiet {
                s.firing = false;
                return send(s, NoticeState::Resolved);
            }
            Decision::Nothing
        }
    }
}

/// What a rule saw, ready to be put into words.
#[derive(Debug, Clone)]
pub struct Observation {
    pub seen: Seen,
    pub title: String,
    pub detail: String,
    pub value: Option<f64>,
    pub threshold: Option<f64>,
    pub unit: &'static str,
    /// Path of the page in Leitstand, e.g. `/services/shop`.
    pub path: String,
}

/// Where notices are sent from.
#[derive(Debug, Clone)]
pub struct Dispatch {
    /// Base URL of links (`--public-url`).
    pub base_url: String,
    /// Delay of the first attempt (the schedule's first step).
    pub first_delay: Duration,
    /// The language notices are written in (`--default-language`).
    pub language: crate::lang::Locale,
}

/// Applies `obs` to `rule`'s state for `service` (None: Leitstand
/// itself) and queues the notice it decides on to every channel of the
/// rule. Returns the decision.
pub async fn observe(
    tx: &mut PgConnection,
    rule: &Rule,
    service: Option<(i64, &str)>,
    obs: &Observation,
    dispatch: &Dispatch,
    now: DateTime<Utc>,
) -> AppResult<Decision> {
    let key = service.map_or(0, |(id, _)| id);
    sqlx::query!(
        "insert into alert_states (rule_id, service_key) values ($1, $2) on conflict do nothing",
        rule.id,
        key
    )
    .execute(&mut *tx)
    .await?;
    let row = sqlx::query!(
        "select firing, since, last_event_at, last_sent_at, suppressed from alert_states
         where rule_id = $1 and service_key = $2 for update",
        rule.id,
        key
    )
    .fetch_one(&mut *tx)
    .await?;
    let mut state = RuleState {
        firing: row.firing,
        since: row.since,
        last_event_at: row.last_event_at,
        last_sent_at: row.last_sent_at,
        suppressed: row.suppressed,
    };
    let before = state.clone();
    let decision = decide(&mut state, obs.seen, rule.cooldown_seconds, now);
    if state != before || obs.value.is_some() {
        sqlx::query!(
            "update alert_states set firing = $3, since = $4, last_event_at = $5, last_sent_at = $6,
                    suppressed = $7, value = $8, detail = $9
             where rule_id = $1 and service_key = $2",
            rule.id,
            key,
            state.firing,
            state.since,
            state.last_event_at,
            state.last_sent_at,
            state.suppressed,
            obs.value,
            obs.detail
        )
        .execute(&mut *tx)
        .await?;
    }
    if let Decision::Send { state: ns, held } = decision {
        let notice = Notice {
            state: ns,
            rule_id: Some(rule.id),
            rule: rule.name.clone(),
            kind: Some(rule.kind),
            service: service.map(|(_, slug)| slug.to_owned()),
            title: obs.title.clone(),
            detail: obs.detail.clone(),
            since: state.since.or(before.since).unwrap_or(now).to_rfc3339(),
            value: obs.value,
            threshold: obs.threshold,
            unit: obs.unit.to_owned(),
            suppressed: held,
            link: format!("{}{}", dispatch.base_url.trim_end_matches('/'), obs.path),
            at: now.to_rfc3339(),
        };
        queue_notice(tx, &rule.channels, &notice, dispatch.first_delay).await?;
    }
    Ok(decision)
}

/// Queues `notice` to each of `channels` that is enabled.
pub async fn queue_notice(
    tx: &mut PgConnection,
    channels: &[i64],
    notice: &Notice,
    delay: Duration,
) -> AppResult<usize> {
    let targets = sqlx::query!(
        "select id, kind, config from alert_channels where id = any($1) and disabled_at is null",
        channels
    )
    .fetch_all(&mut *tx)
    .await?;
    let purpose = match notice.state {
        NoticeState::Firing => "alert",
        NoticeState::Resolved => "resolved",
        NoticeState::Test => "test",
    };
    let payload = notice.webhook();
    for t in &targets {
        let destination = match t.kind.as_str() {
            "email" => t.config["to"]
                .as_array()
                .map(|to| {
                    to.iter()
                        .filter_map(|a| a.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default(),
            "slack" => t.config["host"].as_str().unwrap_or_default().to_owned(),
            _ => t.config["url"]
                .as_str()
                .and_then(|u| crate::alerts::types::http_url_host(u).ok())
                .unwrap_or_default(),
        };
        deliveries::enqueue(
            tx,
            Source::Channel(t.id),
            &destination,
            purpose,
            &payload,
            delay,
        )
        .await?;
    }
    if !targets.is_empty() {
        deliveries::notify_workers(tx).await?;
    }
    Ok(targets.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).expect("time")
    }

    #[test]
    fn occurrences_send_once_per_cooldown_count_the_rest_and_resolve_when_quiet() {
        let mut s = RuleState::default();
        assert_eq!(
            decide(&mut s, Seen::Occurred, 300, t(0)),
            Decision::Send {
                state: NoticeState::Firing,
                held: 0
            }
        );
        assert_eq!(decide(&mut s, Seen::Occurred, 300, t(10)), Decision::Hold);
        assert_eq!(decide(&mut s, Seen::Occurred, 300, t(20)), Decision::Hold);
        // The tick before the cooldown passes: nothing yet.
        assert_eq!(decide(&mut s, Seen::Tick, 300, t(200)), Decision::Nothing);
        // After it: one message with what was held back.
        assert_eq!(
            decide(&mut s, Seen::Tick, 300, t(301)),
            Decision::Send {
                state: NoticeState::Firing,
                held: 2
            }
        );
        assert!(s.firing);
        // Quiet for a cooldown after the last occurrence (t=20): resolved.
        assert_eq!(
            decide(&mut s, Seen::Tick, 300, t(310)),
            Decision::Nothing,
            "last sent at 301"
        );
        assert_eq!(
            decide(&mut s, Seen::Tick, 300, t(330)),
            Decision::Send {
                state: NoticeState::Resolved,
                held: 0
            }
        );
        assert!(!s.firing);
        assert_eq!(decide(&mut s, Seen::Tick, 300, t(900)), Decision::Nothing);
    }

    #[test]
    fn conditions_fire_once_and_resolve_when_they_clear() {
        let mut s = RuleState::default();
        assert_eq!(decide(&mut s, Seen::Clear, 300, t(0)), Decision::Nothing);
        assert_eq!(
            decide(&mut s, Seen::Active, 300, t(1)),
            Decision::Send {
                state: NoticeState::Firing,
                held: 0
            }
        );
        assert_eq!(
            decide(&mut s, Seen::Active, 300, t(30)),
            Decision::Nothing,
            "still the same outage"
        );
        assert_eq!(s.since, Some(t(1)));
        assert_eq!(
            decide(&mut s, Seen::Clear, 300, t(60)),
            Decision::Send {
                state: NoticeState::Resolved,
                held: 0
            }
        );
        // Flapping within the cooldown: the second firing is held, and
        // sent by the tick once the cooldown has passed.
        assert_eq!(decide(&mut s, Seen::Active, 300, t(90)), Decision::Hold);
        assert_eq!(decide(&mut s, Seen::Flush, 300, t(200)), Decision::Nothing);
        assert_eq!(
            decide(&mut s, Seen::Flush, 300, t(400)),
            Decision::Send {
                state: NoticeState::Firing,
                held: 1
            }
        );
        // A condition is not resolved by quiet, only by clearing.
        assert_eq!(decide(&mut s, Seen::Flush, 300, t(5000)), Decision::Nothing);
        assert!(s.firing);
    }

    #[test]
    fn a_zero_cooldown_sends_every_occurrence() {
        let mut s = RuleState::default();
        for i in 0..3 {
            assert_eq!(
                decide(&mut s, Seen::Occurred, 0, t(i)),
                Decision::Send {
                    state: NoticeState::Firing,
                    held: 0
                }
            );
        }
        assert!(!s.firing);
        assert_eq!(decide(&mut s, Seen::Tick, 0, t(10)), Decision::Nothing);
    }
}
