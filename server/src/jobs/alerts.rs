//! The alert worker of a process: turns signals (state changes written by
//! ingest, probes, backups and deliveries in their own transactions) into
//! rule decisions and queued notices, woken by `NOTIFY`; and on a tick
//! evaluates the conditions that are read from rollups (error rate, SLOs,
//! burn rate, backup age, dead letters) and sends what cooldowns held back.
//! Every decision happens under the rule state's row lock, so processes
//! running this side by side never send the same notice twice.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use app::alerts::store::{self as alerts, Decision, Dispatch, Observation, Rule, Seen, Signal};
use app::alerts::texts::Texts;
use app::alerts::types::RuleKind;
use app::error::AppResult;
use chrono::{DateTime, Duration, Utc};
use sqlx::{PgConnection, PgPool};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// How often conditions are evaluated.
pub const TICK: StdDuration = StdDuration::from_secs(15);
/// Advisory lock making one process evaluate the tick at a time.
const TICK_LOCK: i64 = 0x4c53_414c_5254;

pub struct AlertWorker {
    pub pool: PgPool,
    pub dispatch: Dispatch,
    /// Backups older than this are stale (the backup-health warning).
    pub backup_warning: Duration,
    pub tick: StdDuration,
    /// The process's status document (SLOs are read from it, not
    /// recomputed per rule and service).
    pub status: Arc<app::probes::status::StatusCache>,
    pub started_at: DateTime<Utc>,
}

/// What a signal means for the rules of one kind.
struct Reading {
    kind: RuleKind,
    obs: Observation,
}

fn obs(seen: Seen, title: String, detail: String, path: String) -> Observation {
    Observation {
        seen,
        title,
        detail,
        value: None,
        threshold: None,
        unit: "",
        path,
    }
}

impl AlertWorker {
    /// The words of notices (`--default-language`).
    fn texts(&self) -> Texts {
        Texts(self.dispatch.language)
    }
}

fn text(v: &serde_json::Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_default()
        .chars()
        .take(300)
        .collect()
}

impl AlertWorker {
    /// Runs until `shutdown`: signals as they come, conditions every tick.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let wake = Arc::new(Notify::new());
        tokio::spawn(super::listen(
            self.pool.clone(),
            alerts::SIGNALS_CHANNEL,
            wake.clone(),
            shutdown.clone(),
        ));
        let mut last_tick = tokio::time::Instant::now() - self.tick;
        loop {
            if let Err(e) = self.process_signals().await {
                tracing::warn!(error = ?e, "processing alert signals failed");
            }
            if last_tick.elapsed() >= self.tick {
                last_tick = tokio::time::Instant::now();
                if let Err(e) = self.evaluate().await {
                    tracing::warn!(error = ?e, "evaluating alert rules failed");
                }
            }
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(StdDuration::from_secs(1)) => {}
                () = shutdown.cancelled() => return,
            }
        }
    }

    /// Takes waiting signals (skipping those another process holds),
    /// applies the rules and deletes them, in one transaction per batch.
    pub async fn process_signals(&self) -> AppResult<usize> {
        let mut done = 0;
        loop {
            let mut tx = self.pool.begin().await?;
            let signals = alerts::take_signals(&mut tx, 100).await?;
            if signals.is_empty() {
                return Ok(done);
            }
            let now = Utc::now();
            for s in &signals {
                self.apply_signal(&mut tx, s, now).await?;
            }
            let ids: Vec<i64> = signals.iter().map(|s| s.id).collect();
            alerts::delete_signals(&mut tx, &ids).await?;
            tx.commit().await?;
            done += signals.len();
        }
    }

    async fn apply_signal(
        &self,
        tx: &mut PgConnection,
        s: &Signal,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        let words = self.texts();
        let service = match s.service_id {
            Some(id) => sqlx::query_scalar!("select slug from services where id = $1", id)
                .fetch_optional(&mut *tx)
                .await?
                .map(|slug| (id, slug)),
            None => None,
        };
        let slug = service.as_ref().map(|(_, s)| s.clone()).unwrap_or_default();
        let events_link = |level: &str| {
            format!(
                "/events?service={}&level={level}&range=24h",
                app::events::encode(&slug)
            )
        };
        let reading = match s.kind.as_str() {
            alerts::kind::NEW_ERROR_GROUP => Reading {
                kind: RuleKind::NewErrorGroup,
                obs: obs(
                    Seen::Occurred,
                    words.new_error(&text(&s.detail, "message")),
                    words.type_and_fingerprint(
                        &text(&s.detail, "type"),
                        &text(&s.detail, "fingerprint"),
                    ),
                    events_link("error"),
                ),
            },
            alerts::kind::REGRESSION => Reading {
                kind: RuleKind::Regression,
                obs: obs(
                    Seen::Occurred,
                    words.regression(&text(&s.detail, "message")),
                    words.resolved_and_fingerprint(
                        &text(&s.detail, "resolved_at"),
                        &text(&s.detail, "fingerprint"),
                    ),
                    events_link("error"),
                ),
            },
            alerts::kind::CRITICAL_EVENT => {
                let count = s.detail["count"].as_i64().unwrap_or(1);
                let mut o = obs(
                    Seen::Occurred,
                    words.critical_events(count, &text(&s.detail, "message")),
                    words.of_type(&text(&s.detail, "type")),
                    events_link("critical"),
                );
                o.value = Some(count as f64);
                Reading {
                    kind: RuleKind::CriticalEvent,
                    obs: o,
                }
            }
            alerts::kind::PROBE_DOWN | alerts::kind::PROBE_UP => {
                let Some((id, _)) = &service else {
                    return Ok(());
                };
                let down = sqlx::query!(
                    "select name, last_error from probes
                     where service_id = $1 and enabled and state = 'down' order by id",
                    id
                )
                .fetch_all(&mut *tx)
                .await?;
                let path = format!("/services/{}", app::events::encode(&slug));
                let o = if down.is_empty() {
                    obs(Seen::Clear, words.probes_up(), String::new(), path)
                } else {
                    let names: Vec<&str> = down.iter().map(|p| p.name.as_str()).collect();
                    obs(
                        Seen::Active,
                        words.probe_down(&names.join(", ")),
                        down[0].last_error.clone().unwrap_or_default(),
                        path,
                    )
                };
                Reading {
                    kind: RuleKind::ProbeDown,
                    obs: o,
                }
            }
            alerts::kind::BACKUP_FAILED => Reading {
                kind: RuleKind::BackupStale,
                obs: obs(
                    Seen::Active,
                    words.backup_failed(),
                    text(&s.detail, "error"),
                    "/backups".into(),
                ),
            },
            alerts::kind::DEAD_LETTER => {
                let n = alerts::dead_count(&mut *tx).await?;
                let mut o = obs(
                    if n > 0 { Seen::Active } else { Seen::Clear },
                    words.dead_letters(n),
                    words.ran_out(&text(&s.detail, "destination")),
                    "/alerts#dead-letters".into(),
                );
                o.value = Some(n as f64);
                o.threshold = Some(0.0);
                Reading {
                    kind: RuleKind::DeadLetters,
                    obs: o,
                }
            }
            other => {
                tracing::warn!(kind = other, "unknown alert signal");
                return Ok(());
            }
        };
        let rules = alerts::rules_for(&mut *tx, &[reading.kind], s.service_id).await?;
        let service_ref = service.as_ref().map(|(id, slug)| (*id, slug.as_str()));
        for rule in &rules {
            let target = if rule.kind.instance_wide() {
                None
            } else {
                service_ref
            };
            alerts::observe(tx, rule, target, &reading.obs, &self.dispatch, now).await?;
        }
        Ok(())
    }

    /// The tick: conditions from rollups, then what cooldowns held back
    /// and occurrences gone quiet. One process at a time.
    pub async fn evaluate(&self) -> AppResult<()> {
        let mut tx = self.pool.begin().await?;
        let locked = sqlx::query_scalar!(
            r#"select pg_try_advisory_xact_lock($1) as "ok!""#,
            TICK_LOCK
        )
        .fetch_one(&mut *tx)
        .await?;
        if !locked {
            return Ok(());
        }
        // Groups waiting for "the next release" that has now been seen.
        app::error_groups::store::resolve_released(&mut tx).await?;
        let now = Utc::now();
        let rules = alerts::rules_for(&mut *tx, &RuleKind::ALL, None).await?;
        for rule in &rules {
            match rule.kind {
                RuleKind::ErrorRate => self.error_rate(&mut tx, rule, now).await?,
                RuleKind::SloMissed => self.slo_missed(&mut tx, rule, now).await?,
                RuleKind::SloBurn => self.slo_burn(&mut tx, rule, now).await?,
                RuleKind::BackupStale => self.backup_stale(&mut tx, rule, now).await?,
                RuleKind::DeadLetters => {
                    let n = alerts::dead_count(&mut *tx).await?;
                    let mut o = obs(
                        if n > 0 { Seen::Active } else { Seen::Clear },
                        self.texts().dead_letters(n),
                        String::new(),
                        "/alerts#dead-letters".into(),
                    );
                    o.value = Some(n as f64);
                    o.threshold = Some(0.0);
                    self.observe_if_needed(&mut tx, rule, None, &o, now).await?;
                }
                _ => {}
            }
            self.tick_states(&mut tx, rule, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Observes `o`, but a clear condition only where the rule has state
    /// (so quiet services cost no rows).
    async fn observe_if_needed(
        &self,
        tx: &mut PgConnection,
        rule: &Rule,
        service: Option<(i64, &str)>,
        o: &Observation,
        now: DateTime<Utc>,
    ) -> AppResult<Decision> {
        if o.seen == Seen::Clear {
            let key = service.map_or(0, |(id, _)| id);
            let firing = sqlx::query_scalar!(
                "select firing from alert_states where rule_id = $1 and service_key = $2",
                rule.id,
                key
            )
            .fetch_optional(&mut *tx)
            .await?
            .unwrap_or(false);
            if !firing {
                return Ok(Decision::Nothing);
            }
        }
        alerts::observe(tx, rule, service, o, &self.dispatch, now).await
    }

    /// The services a rule looks at: its own, or all.
    async fn services(tx: &mut PgConnection, rule: &Rule) -> AppResult<Vec<(i64, String)>> {
        let rows = sqlx::query!(
            "select id, slug from services where $1::int8 is null or id = $1 order by id",
            rule.service_id
        )
        .fetch_all(&mut *tx)
        .await?;
        Ok(rows.into_iter().map(|r| (r.id, r.slug)).collect())
    }

    /// Error rate over the rule's window, from minute rollups (hourly ones
    /// for windows over two days).
    async fn error_rate(
        &self,
        tx: &mut PgConnection,
        rule: &Rule,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        let window = Duration::seconds(i64::from(rule.window_seconds.unwrap_or(300)));
        let threshold = rule.threshold.unwrap_or(app::alerts::ERROR_RATE_THRESHOLD);
        let min_events = i64::from(rule.min_events.unwrap_or(0));
        let from = now - window;
        let counts = if window <= Duration::days(app::retention::store::MINUTE_ROLLUP_DAYS) {
            sqlx::query!(
                r#"select service_id, sum(events)::int8 as "events!", sum(errors)::int8 as "errors!"
                   from event_rollups_minute where bucket >= date_trunc('minute', $1::timestamptz)
                     and ($2::int8 is null or service_id = $2)
                   group by service_id"#,
                from,
                rule.service_id
            )
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .map(|r| (r.service_id, r.events, r.errors))
            .collect::<Vec<_>>()
        } else {
            sqlx::query!(
                r#"select service_id, sum(events)::int8 as "events!", sum(error + critical)::int8 as "errors!"
                   from event_rollups where bucket >= date_trunc('hour', $1::timestamptz)
                     and ($2::int8 is null or service_id = $2)
                   group by service_id"#,
                from,
                rule.service_id
            )
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .map(|r| (r.service_id, r.events, r.errors))
            .collect()
        };
        let minutes = window.num_minutes();
        for (id, slug) in Self::services(tx, rule).await? {
            let (events, errors) = counts
                .iter()
                .find(|c| c.0 == id)
                .map_or((0, 0), |c| (c.1, c.2));
            let rate = if events > 0 {
                errors as f64 / events as f64 * 100.0
            } else {
                0.0
            };
            let active = events >= min_events.max(1) && rate > threshold;
            let mut o = obs(
                if active { Seen::Active } else { Seen::Clear },
                self.texts().error_rate(active, rate, minutes),
                self.texts().errors_in_events(errors, events),
                format!("/?service={}", app::events::encode(&slug)),
            );
            o.value = Some(rate);
            o.threshold = Some(threshold);
            o.unit = " %";
            self.observe_if_needed(tx, rule, Some((id, &slug)), &o, now)
                .await?;
        }
        Ok(())
    }

    /// SLOs of the last 30 days, from the status document (at most 5 s old,
    /// shared with the API and pages).
    async fn slo_missed(
        &self,
        tx: &mut PgConnection,
        rule: &Rule,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        let doc = app::probes::status::current(&self.pool, &self.status, self.started_at).await?;
        for (id, slug) in Self::services(tx, rule).await? {
            let Some(status) = doc.services.iter().find(|s| s.slug == slug) else {
                continue;
            };
            let missed: Vec<String> = status
                .slos
                .iter()
                .filter(|s| !s.met)
                .map(|s| self.texts().slo_entry(&s.name, s.value, s.target))
                .collect();
            let o = obs(
                if missed.is_empty() {
                    Seen::Clear
                } else {
                    Seen::Active
                },
                self.texts().slos(&missed),
                self.texts().last_30_days(),
                format!("/services/{}", app::events::encode(&slug)),
            );
            self.observe_if_needed(tx, rule, Some((id, &slug)), &o, now)
                .await?;
        }
        Ok(())
    }

    /// Fast burn: the last hour spends the error budget `threshold` times
    /// faster than the SLO allows (uptime from probe rollups, error rate
    /// from minute rollups).
    async fn slo_burn(
        &self,
        tx: &mut PgConnection,
        rule: &Rule,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        let factor = rule.threshold.unwrap_or(app::alerts::BURN_RATE_THRESHOLD);
        let hour_ago = now - Duration::hours(1);
        for (id, slug) in Self::services(tx, rule).await? {
            let t = sqlx::query!(
                "select slo_uptime_percent, slo_error_rate_percent from services where id = $1",
                id
            )
            .fetch_one(&mut *tx)
            .await?;
            let (checks, failures) =
                app::probes::store::uptime_counts(&mut *tx, Some(id), hour_ago, now).await?;
            let ev = sqlx::query!(
                r#"select coalesce(sum(events), 0)::int8 as "events!", coalesce(sum(errors), 0)::int8 as "errors!"
                   from event_rollups_minute where service_id = $1 and bucket >= date_trunc('minute', $2::timestamptz)"#,
                id,
                hour_ago
            )
            .fetch_one(&mut *tx)
            .await?;
            let uptime_budget = (100.0 - t.slo_uptime_percent) / 100.0;
            let uptime_burn = (checks > 0 && uptime_budget > 0.0)
                .then(|| failures as f64 / checks as f64 / uptime_budget);
            let error_budget = t.slo_error_rate_percent / 100.0;
            let error_burn = (ev.events > 0 && error_budget > 0.0)
                .then(|| ev.errors as f64 / ev.events as f64 / error_budget);
            let burn = uptime_burn
                .into_iter()
                .chain(error_burn)
                .fold(0.0, f64::max);
            let which = self
                .texts()
                .budget(uptime_burn.unwrap_or(0.0) >= error_burn.unwrap_or(0.0));
            let active = burn >= factor;
            let mut o = obs(
                if active { Seen::Active } else { Seen::Clear },
                self.texts().burn(active, which, burn),
                self.texts()
                    .burn_detail(failures, checks, ev.errors, ev.events),
                format!("/services/{}", app::events::encode(&slug)),
            );
            o.value = Some(burn);
            o.threshold = Some(factor);
            o.unit = "×";
            self.observe_if_needed(tx, rule, Some((id, &slug)), &o, now)
                .await?;
        }
        Ok(())
    }

    /// The last backup failed, or the last good one is older than the
    /// backup-health warning (or there is none).
    async fn backup_stale(
        &self,
        tx: &mut PgConnection,
        rule: &Rule,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        let r = sqlx::query!(
            r#"select (select max(finished_at) from backups where status = 'ok') as last_ok,
                      (select status from backups where kind <> 'safety' and status <> 'running'
                       order by created_at desc limit 1) as last_status,
                      (select error from backups where kind <> 'safety' and status = 'failed'
                       order by created_at desc limit 1) as last_error"#
        )
        .fetch_one(&mut *tx)
        .await?;
        let failed = r.last_status.as_deref() == Some("failed");
        let age = r.last_ok.map(|t| now - t);
        let stale = age.is_none_or(|a| a > self.backup_warning);
        let (seen, title) = if failed {
            (Seen::Active, self.texts().last_backup_failed())
        } else if stale {
            (
                Seen::Active,
                self.texts().backup_age(age.map(|a| a.num_hours())),
            )
        } else {
            (Seen::Clear, self.texts().backups_fresh())
        };
        let mut o = obs(
            seen,
            title,
            if failed {
                r.last_error.unwrap_or_default()
            } else {
                String::new()
            },
            "/backups".into(),
        );
        o.value = age.map(|a| a.num_minutes() as f64 / 60.0);
        o.threshold = Some(self.backup_warning.num_minutes() as f64 / 60.0);
        o.unit = " h";
        self.observe_if_needed(tx, rule, None, &o, now).await?;
        Ok(())
    }

    /// Sends what cooldowns held back; resolves occurrences gone quiet.
    async fn tick_states(
        &self,
        tx: &mut PgConnection,
        rule: &Rule,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        let keys = sqlx::query!(
            r#"select st.service_key, s.slug as "slug?", st.detail, st.value from alert_states st
               left join services s on s.id = st.service_key
               where st.rule_id = $1 and (st.firing or st.suppressed > 0)"#,
            rule.id
        )
        .fetch_all(&mut *tx)
        .await?;
        for k in keys {
            let service = k.slug.as_deref().map(|slug| (k.service_key, slug));
            let seen = if rule.kind.occurrence() {
                Seen::Tick
            } else {
                Seen::Flush
            };
            let path = match (rule.kind, &k.slug) {
                (RuleKind::CriticalEvent, Some(s)) => format!(
                    "/events?service={}&level=critical&range=24h",
                    app::events::encode(s)
                ),
                (k, Some(s)) if k.occurrence() => format!(
                    "/events?service={}&level=error&range=24h",
                    app::events::encode(s)
                ),
                (_, Some(s)) => format!("/services/{}", app::events::encode(s)),
                _ => "/".into(),
            };
            let title = match seen {
                Seen::Tick => self.texts().quiet_for(
                    rule.kind.label_in(self.dispatch.language),
                    (rule.cooldown_seconds.max(60) + 59) / 60,
                ),
                _ => rule.kind.label_in(self.dispatch.language).to_owned(),
            };
            let mut o = obs(seen, title, k.detail.unwrap_or_default(), path);
            o.value = k.value;
            alerts::observe(tx, rule, service, &o, &self.dispatch, now).await?;
        }
        Ok(())
    }
}
