//! Realistic demo traffic: five services with features of different
//! maturity, a day/night rhythm, quieter weekends, incidents with error
//! bursts and critical events, fixes released after most incidents (some
//! stay open), and deploys. Seeded, so the same seed gives the same data.

use chrono::{DateTime, Datelike, Duration, Timelike, Utc, Weekday};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

use crate::error::AppResult;
use crate::events::types::{Level, NewEvent};
use crate::events::writer::IngestWriter;

struct Feature {
    service: &'static str,
    name: &'static str,
    /// Share of traffic (relative).
    weight: f64,
    /// Background error probability.
    error_rate: f64,
    kinds: &'static [&'static str],
    errors: &'static [&'static str],
}

const FEATURES: &[Feature] = &[
    Feature {
        service: "shop",
        name: "checkout",
        weight: 22.0,
        error_rate: 0.003,
        kinds: &["order.placed", "payment.authorized", "cart.converted"],
        errors: &[
            "payment gateway timeout after 30 s",
            "card declined (code 51)",
        ],
    },
    Feature {
        service: "shop",
        name: "search",
        weight: 18.0,
        error_rate: 0.002,
        kinds: &["search.query", "search.suggest"],
        errors: &["search index shard 3 unavailable"],
    },
    Feature {
        service: "shop",
        name: "cart",
        weight: 12.0,
        error_rate: 0.006,
        kinds: &["cart.item_added", "cart.item_removed"],
        errors: &["cart 4711 not found", "price mismatch for sku 1002"],
    },
    Feature {
        service: "shop",
        name: "wishlist",
        weight: 1.2,
        error_rate: 0.045,
        kinds: &["wishlist.saved"],
        errors: &["wishlist sync failed for user 12"],
    },
    Feature {
        service: "booking",
        name: "reservation",
        weight: 9.0,
        error_rate: 0.012,
        kinds: &["booking.created", "booking.confirmed", "booking.cancelled"],
        errors: &[
            "double booking detected for slot 1430",
            "provider API returned 502",
        ],
    },
    Feature {
        service: "booking",
        name: "calendar",
        weight: 5.0,
        error_rate: 0.008,
        kinds: &["calendar.viewed", "calendar.synced"],
        errors: &["ical export failed: 500"],
    },
    Feature {
        service: "booking",
        name: "vouchers",
        weight: 3.0,
        error_rate: 0.02,
        kinds: &["voucher.booked", "voucher.redeemed"],
        errors: &["voucher code 88231 already redeemed"],
    },
    Feature {
        service: "crm",
        name: "contacts",
        weight: 4.5,
        error_rate: 0.004,
        kinds: &["contact.created", "contact.updated"],
        errors: &["duplicate contact 5521"],
    },
    Feature {
        service: "crm",
        name: "import",
        weight: 0.8,
        error_rate: 0.09,
        kinds: &["import.row"],
        errors: &["CSV row 118 has 7 columns, expected 9"],
    },
    Feature {
        service: "crm",
        name: "segments",
        weight: 1.3,
        error_rate: 0.03,
        kinds: &["segment.computed"],
        errors: &["segment query exceeded 5000 ms"],
    },
    Feature {
        service: "billing",
        name: "invoices",
        weight: 3.5,
        error_rate: 0.005,
        kinds: &["invoice.created", "invoice.sent"],
        errors: &["PDF renderer crashed on invoice 2024"],
    },
    Feature {
        service: "billing",
        name: "payments",
        weight: 2.8,
        error_rate: 0.009,
        kinds: &["payment.received", "payment.refunded"],
        errors: &["SEPA mandate 77 missing"],
    },
    Feature {
        service: "billing",
        name: "dunning",
        weight: 0.4,
        error_rate: 0.07,
        kinds: &["dunning.reminder"],
        errors: &["reminder template 3 not found"],
    },
    Feature {
        service: "notify",
        name: "email",
        weight: 3.8,
        error_rate: 0.005,
        kinds: &["email.sent", "email.opened"],
        errors: &["SMTP 421 from mx 2"],
    },
    Feature {
        service: "notify",
        name: "sms",
        weight: 1.1,
        error_rate: 0.025,
        kinds: &["sms.sent"],
        errors: &["SMS provider quota exceeded (limit 1000)"],
    },
    Feature {
        service: "notify",
        name: "webhooks",
        weight: 2.0,
        error_rate: 0.03,
        kinds: &["webhook.delivered", "webhook.retried"],
        errors: &["webhook endpoint returned 503 after 3 attempts"],
    },
];

const SERVICES: &[&str] = &["shop", "booking", "crm", "billing", "notify"];

struct Incident {
    feature: usize,
    start: DateTime<Utc>,
    hours: i64,
    message: String,
    fixed: bool,
}

/// Generates demo events for the 30 days before `now`.
pub struct DemoGenerator {
    rng: StdRng,
    now: DateTime<Utc>,
    cumulative: Vec<f64>,
    special: Vec<NewEvent>,
}

impl DemoGenerator {
    /// `total` is the number of events the back-fill will produce.
    pub fn new(seed: u64, now: DateTime<Utc>, total: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut acc = 0.0;
        let cumulative = FEATURES
            .iter()
            .map(|f| {
                acc += f.weight;
                acc
            })
            .collect();
        let mut generator = Self {
            rng: StdRng::seed_from_u64(seed ^ 0x5eed),
            now,
            cumulative,
            special: Vec::new(),
        };
        let incidents = plan_incidents(&mut rng, now);
        generator.special = special_events(&mut rng, now, &incidents, total);
        generator
    }

    fn id(&mut self) -> Uuid {
        uuid::Builder::from_random_bytes(self.rng.random()).into_uuid()
    }

    fn pick_feature(&mut self) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let x = self.rng.random::<f64>() * total;
        self.cumulative.iter().position(|c| x < *c).unwrap_or(0)
    }

    /// A time in the last 30 days, denser in working hours and on weekdays.
    fn pick_time(&mut self) -> DateTime<Utc> {
        loop {
            let back = self.rng.random_range(0..30 * 24 * 3600);
            let t = self.now - Duration::seconds(back);
            if self.rng.random::<f64>() < traffic_shape(t) {
                return t;
            }
        }
    }

    fn background_event(&mut self, at: DateTime<Utc>) -> NewEvent {
        let fi = self.pick_feature();
        let f = &FEATURES[fi];
        let roll: f64 = self.rng.random();
        let level = if roll < f.error_rate {
            Level::Error
        } else if roll < f.error_rate + 0.03 {
            Level::Warning
        } else if roll < f.error_rate + 0.08 {
            Level::Debug
        } else {
            Level::Info
        };
        let kind = if level.is_error() {
            format!("{}.failed", f.name)
        } else {
            f.kinds[self.rng.random_range(0..f.kinds.len())].to_owned()
        };
        let message = if level.is_error() {
            vary(
                f.errors[self.rng.random_range(0..f.errors.len())],
                &mut self.rng,
            )
        } else {
            format!("{} ok", kind)
        };
        let user = Some(format!("u-{}", self.rng.random_range(1..600)));
        let id = self.id();
        let duration_ms = self.rng.random_range(8..400);
        NewEvent {
            id,
            occurred_at: at,
            service: f.service.to_owned(),
            feature: f.name.to_owned(),
            kind,
            level,
            fingerprint: level.is_error().then(|| {
                crate::events::fingerprint::default_fingerprint(
                    f.service,
                    f.name,
                    &format!("{}.failed", f.name),
                    &message,
                )
            }),
            message,
            release: Some(release_at(at)),
            environment: Some("production".to_owned()),
            user,
            attributes: serde_json::json!({ "duration_ms": duration_ms }),
            payload: None,
        }
    }

    /// The next `n` back-fill events (special events are spread among them).
    pub fn batch(&mut self, n: usize) -> Vec<NewEvent> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            // Interleave the planned events evenly with the background.
            if !self.special.is_empty()
                && self.rng.random::<f64>() < 0.02
                && let Some(e) = self.special.pop()
            {
                out.push(e);
                continue;
            }
            let at = self.pick_time();
            out.push(self.background_event(at));
        }
        out
    }

    /// Planned events not yet handed out by `batch`.
    pub fn drain_special(&mut self) -> Vec<NewEvent> {
        std::mem::take(&mut self.special)
    }

    /// One live event at `at`.
    pub fn live_event(&mut self, at: DateTime<Utc>) -> NewEvent {
        self.background_event(at)
    }
}

/// Relative traffic at `t`: a day/night curve (UTC), quieter weekends.
fn traffic_shape(t: DateTime<Utc>) -> f64 {
    let hour = t.hour() as f64 + t.minute() as f64 / 60.0;
    let day = 0.15 + 0.85 * (((hour - 14.0) / 24.0 * std::f64::consts::TAU).cos() * 0.5 + 0.5);
    let weekend = matches!(t.weekday(), Weekday::Sat | Weekday::Sun);
    if weekend { day * 0.55 } else { day }
}

/// Replaces the digits in a message template with fresh ones.
fn vary(template: &str, rng: &mut StdRng) -> String {
    template
        .split(' ')
        .map(|w| {
            if w.chars().all(|c| c.is_ascii_digit()) && !w.is_empty() {
                rng.random_range(1..9999).to_string()
            } else {
                w.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn release_at(t: DateTime<Utc>) -> String {
    format!("2026.{}.{}", t.month(), t.day() / 7 + 1)
}

fn plan_incidents(rng: &mut StdRng, now: DateTime<Utc>) -> Vec<Incident> {
    let messages = [
        "database connection pool exhausted (32 of 32 in use)",
        "upstream payment provider returned 503",
        "out of memory in worker 3",
        "TLS handshake with partner API failed",
        "queue consumer lag above 10000 messages",
        "disk full on /var/lib/app (100 %)",
        "deadlock detected in order 7 update",
    ];
    (0..7)
        .map(|i| {
            let feature = rng.random_range(0..FEATURES.len());
            let back_hours = rng.random_range(6..29 * 24);
            let start = super::dashboard::window::floor_hour(now - Duration::hours(back_hours))
                + Duration::minutes(rng.random_range(0..60));
            Incident {
                feature,
                start,
                hours: rng.random_range(1..5),
                message: messages[i % messages.len()].to_owned(),
                // Most incidents get fixed; a couple stay open.
                fixed: i % 3 != 2,
            }
        })
        .collect()
}

fn special_events(
    rng: &mut StdRng,
    now: DateTime<Utc>,
    incidents: &[Incident],
    total: u64,
) -> Vec<NewEvent> {
    let mut out = Vec::new();
    let id = |rng: &mut StdRng| uuid::Builder::from_random_bytes(rng.random()).into_uuid();
    let per_incident = ((total as f64) * 0.001).clamp(8.0, 20_000.0) as usize;
    for inc in incidents {
        let f = &FEATURES[inc.feature];
        let kind = format!("{}.failed", f.name);
        let fingerprint =
            crate::events::fingerprint::default_fingerprint(f.service, f.name, &kind, &inc.message);
        let span = inc.hours * 3600;
        for k in 0..per_incident {
            let at = inc.start + Duration::seconds(rng.random_range(0..span));
            if at >= now {
                continue;
            }
            let level = if k % 25 == 0 {
                Level::Critical
            } else {
                Level::Error
            };
            out.push(NewEvent {
                id: id(rng),
                occurred_at: at,
                service: f.service.to_owned(),
                feature: f.name.to_owned(),
                kind: kind.clone(),
                level,
                message: inc.message.clone(),
                fingerprint: Some(fingerprint.clone()),
                release: Some(release_at(at)),
                environment: Some("production".to_owned()),
                user: Some(format!("u-{}", rng.random_range(1..600))),
                attributes: serde_json::json!({ "incident": true }),
                payload: None,
            });
        }
        if inc.fixed {
            let at = inc.start
                + Duration::hours(inc.hours)
                + Duration::minutes(rng.random_range(10..240));
            if at < now {
                out.push(NewEvent {
                    id: id(rng),
                    occurred_at: at,
                    service: f.service.to_owned(),
                    feature: f.name.to_owned(),
                    kind: "fix".to_owned(),
                    level: Level::Info,
                    message: format!("Fixed: {}", inc.message),
                    fingerprint: Some(fingerprint.clone()),
                    release: Some(format!("{}-hotfix", release_at(at))),
                    environment: Some("production".to_owned()),
                    user: None,
                    attributes: serde_json::json!({}),
                    payload: None,
                });
            }
        }
    }
    // Deploys: each service about once per working day.
    for day in 0..30 {
        for (i, service) in SERVICES.iter().enumerate() {
            let at = super::dashboard::window::floor_hour(now - Duration::days(day))
                - Duration::hours(i as i64 * 2 + 1)
                + Duration::minutes(rng.random_range(0..60));
            if matches!(at.weekday(), Weekday::Sat | Weekday::Sun) || rng.random::<f64>() < 0.3 {
                continue;
            }
            let feature = FEATURES
                .iter()
                .find(|f| f.service == *service)
                .map(|f| f.name)
                .unwrap_or("");
            out.push(NewEvent {
                id: id(rng),
                occurred_at: at,
                service: (*service).to_owned(),
                feature: feature.to_owned(),
                kind: "deploy".to_owned(),
                level: Level::Info,
                message: format!("Deployed {}", release_at(at)),
                fingerprint: None,
                release: Some(release_at(at)),
                environment: Some("production".to_owned()),
                user: None,
                attributes: serde_json::json!({}),
                payload: None,
            });
        }
    }
    // Handed out from the end: shuffle so each batch gets a mix.
    for i in (1..out.len()).rev() {
        let j = rng.random_range(0..=i);
        out.swap(i, j);
    }
    out
}

/// Back-fills `total` demo events through the writer; returns how many were
/// stored. Several batches are in flight at once to keep the writers busy.
pub async fn backfill(
    writer: &IngestWriter,
    total: u64,
    seed: u64,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    backfill_with_progress(writer, total, seed, now, |_| {}).await
}

pub async fn backfill_with_progress(
    writer: &IngestWriter,
    total: u64,
    seed: u64,
    now: DateTime<Utc>,
    mut progress: impl FnMut(u64),
) -> AppResult<u64> {
    use futures::StreamExt;
    const BATCH: usize = 1000;
    let mut generator = DemoGenerator::new(seed, now, total);
    let mut remaining = total;
    let mut batches = Vec::new();
    let mut stored = 0u64;
    loop {
        while batches.len() < 4 && remaining > 0 {
            let n = remaining.min(BATCH as u64) as usize;
            remaining -= n as u64;
            let mut events = generator.batch(n);
            if remaining == 0 {
                events.extend(generator.drain_special());
            }
            batches.push(events);
        }
        if batches.is_empty() {
            break;
        }
        let results: Vec<_> = futures::stream::iter(batches.drain(..).map(|b| writer.submit(b)))
            .buffer_unordered(4)
            .collect()
            .await;
        for r in results {
            stored += r?.accepted;
        }
        progress(stored);
    }
    Ok(stored)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-22T12:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn the_same_seed_gives_the_same_events() {
        let a = DemoGenerator::new(1, now(), 1000).batch(50);
        let b = DemoGenerator::new(1, now(), 1000).batch(50);
        assert_eq!(a, b);
    }

    #[test]
    fn events_cover_all_services_in_the_last_30_days() {
        let mut g = DemoGenerator::new(3, now(), 5000);
        let mut events = g.batch(5000);
        events.extend(g.drain_special());
        for s in SERVICES {
            assert!(events.iter().any(|e| e.service == *s), "{s} missing");
        }
        assert!(
            events
                .iter()
                .all(|e| e.occurred_at <= now() && e.occurred_at > now() - Duration::days(31))
        );
        assert!(events.iter().any(|e| e.level == Level::Critical));
        assert!(events.iter().any(|e| e.kind == "fix"));
        assert!(events.iter().any(|e| e.kind == "deploy"));
        let errors = events.iter().filter(|e| e.level.is_error()).count();
        assert!(errors > 20 && errors < 1000, "{errors} errors");
    }
}
