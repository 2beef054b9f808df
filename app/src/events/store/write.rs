//! The ingest write path: `write_batch` stores a batch of validated events
//! with one statement: idempotency ids, hourly and daily rollups, error
//! groups, their users and resolutions, then the events themselves. Rollup
//! and group rows are upserted in sorted key order so concurrent writers
//! never deadlock, and the events take their stream cursor (`seq`) under an
//! advisory lock held until commit, so cursors become visible in order.

use std::collections::{HashMap, HashSet};
use std::sync::RwLock;

use chrono::{DateTime, Datelike, DurationRound, NaiveDate, TimeDelta, Utc};
use sqlx::{Connection, PgConnection};

use super::super::types::{NewEvent, is_deploy_kind, is_fix_kind};
use crate::error::AppResult;
use crate::services::store as services;

/// Advisory lock key serialising the assignment of stream cursors.
pub const SEQ_LOCK_KEY: i64 = 0x4c53_5345_5101;
/// Channel on which every committed batch announces its highest cursor.
pub const EVENTS_CHANNEL: &str = "leitstand_events";

/// Slug → id of services already known to exist.
#[derive(Default)]
pub struct ServiceCache {
    map: RwLock<HashMap<String, i64>>,
}

impl ServiceCache {
    pub fn get(&self, slug: &str) -> Option<i64> {
        self.map.read().ok()?.get(slug).copied()
    }

    pub fn insert_all(&self, created: impl IntoIterator<Item = (String, i64)>) {
        if let Ok(mut map) = self.map.write() {
            map.extend(created);
        }
    }

    pub fn clear(&self) {
        if let Ok(mut map) = self.map.write() {
            map.clear();
        }
    }
}

/// Months (year, month) whose `events` partition is known to exist.
#[derive(Default)]
pub struct PartitionCache {
    months: RwLock<HashSet<(i32, u32)>>,
}

impl PartitionCache {
    /// The months of these events not known to have a partition.
    fn missing<'a>(&self, events: impl Iterator<Item = &'a NewEvent>) -> Vec<(i32, u32)> {
        let known = self.months.read().unwrap_or_else(|e| e.into_inner());
        let mut missing = Vec::new();
        for e in events {
            let key = (e.occurred_at.year(), e.occurred_at.month());
            if !known.contains(&key) && !missing.contains(&key) {
                missing.push(key);
            }
        }
        missing
    }

    /// Records months whose partitions now exist (after the commit).
    fn remember(&self, months: Vec<(i32, u32)>) {
        if let Ok(mut known) = self.months.write() {
            known.extend(months);
        }
    }
}

/// What a batch write did.
#[derive(Debug, Default)]
pub struct BatchResult {
    /// Per input event: stored now (`true`) or a duplicate (`false`).
    pub stored: Vec<bool>,
    /// Services seen for the first time by this process: add to the cache after commit.
    pub services: Vec<(String, i64)>,
}

/// The hour an event's hourly rollup counts it in.
fn hour_of(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::hours(1)).unwrap_or(t)
}

/// Creates the monthly partitions of `events` for these (year, month)s.
async fn create_partitions(conn: &mut PgConnection, months: &[(i32, u32)]) -> AppResult<()> {
    for (y, m) in months {
        let Some(start) = NaiveDate::from_ymd_opt(*y, *m, 1).and_then(|d| d.and_hms_opt(0, 0, 0))
        else {
            continue;
        };
        let start = start.and_utc();
        sqlx::query!("select leitstand_ensure_event_partitions($1, $1)", start)
            .fetch_one(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Stores a batch (see the module docs).
///
/// On a plain connection the whole batch is one statement, and so one
/// transaction and one round trip; only when a service or a month partition
/// has to be created first do those and the statement share an explicit
/// transaction. Inside a caller's transaction it joins that transaction.
#[tracing::instrument(skip_all, err(level = "debug"), fields(events = events.len()))]
pub async fn write_batch(
    conn: &mut PgConnection,
    events: &[NewEvent],
    services_cache: &ServiceCache,
    partitions: &PartitionCache,
) -> AppResult<BatchResult> {
    let mut result = BatchResult {
        stored: vec![false; events.len()],
        ..BatchResult::default()
    };
    // Duplicates inside the batch: the first occurrence wins.
    let mut seen = HashSet::with_capacity(events.len());
    let candidates: Vec<usize> = (0..events.len())
        .filter(|&i| seen.insert(events[i].id))
        .collect();
    if candidates.is_empty() {
        return Ok(result);
    }

    let months = partitions.missing(candidates.iter().map(|&i| &events[i]));
    let mut service_ids: HashMap<&str, i64> = HashMap::new();
    let mut unknown: Vec<&str> = Vec::new();
    for &i in &candidates {
        let slug = events[i].service.as_str();
        if service_ids.contains_key(slug) || unknown.contains(&slug) {
            continue;
        }
        match services_cache.get(slug) {
            Some(id) => {
                service_ids.insert(slug, id);
            }
            None => unknown.push(slug),
        }
    }

    let stored_now = if months.is_empty() && unknown.is_empty() {
        insert_batch(conn, events, &candidates, &service_ids).await?
    } else {
        let mut tx = conn.begin().await?;
        create_partitions(&mut tx, &months).await?;
        // Services are created on first sight, in the batch's transaction.
        for slug in unknown {
            let id = services::ensure(&mut *tx, slug).await?;
            result.services.push((slug.to_owned(), id));
            service_ids.insert(slug, id);
        }
        let stored_now = insert_batch(&mut tx, events, &candidates, &service_ids).await?;
        tx.commit().await?;
        partitions.remember(months);
        stored_now
    };
    for i in stored_now {
        if let Some(s) = usize::try_from(i)
            .ok()
            .and_then(|i| result.stored.get_mut(i))
        {
            *s = true;
        }
    }
    Ok(result)
}

/// The ingest statement: idempotency ids, rollups, error groups, their
/// users and resolutions, then the events, all from one set of arrays.
/// Returns the indexes (into `events`) of the events stored now.
///
/// Only events whose id is new in `event_ids` count anywhere. Right after
/// the ids, the statement takes the cursor's advisory lock, and only then
/// upserts rollup and group rows, each step after the previous one (the
/// `(select count(*) from <step>) >= 0` guards) and in key order (bytewise,
/// as erasure does): writers meet at the lock before they touch a shared
/// row, so they cannot deadlock, and the events insert, which reads every
/// step's result, comes last. (Measured: 6.7 k single events/s, against
/// 5.4 k with the lock taken after the rollups.)
async fn insert_batch(
    conn: &mut PgConnection,
    events: &[NewEvent],
    candidates: &[usize],
    service_ids: &HashMap<&str, i64>,
) -> AppResult<Vec<i32>> {
    let n = candidates.len();
    let mut c_idx = Vec::with_capacity(n);
    let mut c_time = Vec::with_capacity(n);
    let mut c_id = Vec::with_capacity(n);
    let mut c_service = Vec::with_capacity(n);
    let mut c_feature = Vec::with_capacity(n);
    let mut c_kind = Vec::with_capacity(n);
    let mut c_level = Vec::with_capacity(n);
    let mut c_message = Vec::with_capacity(n);
    let mut c_fp = Vec::with_capacity(n);
    let mut c_release = Vec::with_capacity(n);
    let mut c_env = Vec::with_capacity(n);
    let mut c_user = Vec::with_capacity(n);
    let mut c_attrs = Vec::with_capacity(n);
    let mut c_hour = Vec::with_capacity(n);
    let mut c_day = Vec::with_capacity(n);
    let mut c_fix = Vec::with_capacity(n);
    let mut c_deploy = Vec::with_capacity(n);
    let mut c_payload: Vec<Option<&[u8]>> = Vec::with_capacity(n);
    for &i in candidates {
        let e = &events[i];
        c_idx.push(i32::try_from(i).unwrap_or(i32::MAX));
        c_time.push(e.occurred_at);
        c_id.push(e.id);
        c_service.push(
            service_ids
                .get(e.service.as_str())
                .copied()
                .unwrap_or_default(),
        );
        c_feature.push(e.feature.as_str());
        c_kind.push(e.kind.as_str());
        c_level.push(e.level.as_i16());
        c_message.push(e.message.as_str());
        c_fp.push(e.fingerprint.as_deref());
        c_release.push(e.release.as_deref());
        c_env.push(e.environment.as_deref());
        c_user.push(e.user.as_deref());
        c_attrs.push(&e.attributes);
        c_hour.push(hour_of(e.occurred_at));
        c_day.push(e.occurred_at.date_naive());
        c_fix.push(is_fix_kind(&e.kind));
        c_deploy.push(is_deploy_kind(&e.kind));
        c_payload.push(e.payload.as_deref());
    }
    let row = sqlx::query!(
        r#"with input as (
               select * from unnest($1::int4[], $2::timestamptz[], $3::uuid[], $4::int8[], $5::text[],
                                    $6::text[], $7::int2[], $8::text[], $9::text[], $10::text[],
                                    $11::text[], $12::text[], $13::jsonb[], $14::timestamptz[],
                                    $15::date[], $16::bool[], $17::bool[], $21::bytea[])
                   as t(n, o, i, s, f, k, l, m, fp, r, e, u, a, hr, dy, fix, dep, pl)),
           fresh as (
               insert into event_ids (id, occurred_at)
               select i, o from input order by i
               on conflict (id) do nothing
               returning id),
           new as (
               select * from input where i in (select id from fresh)),
           seq_lock as materialized (
               select pg_advisory_xact_lock($18) from (select count(*) from new) n),
           hourly as (
               insert into event_rollups as r
                   (bucket, service_id, feature, events, debug, info, warning, error, critical, fixes, deploys)
               select hr, s, f, count(*), count(*) filter (where l = 0), count(*) filter (where l = 1),
                      count(*) filter (where l = 2), count(*) filter (where l = 3),
                      count(*) filter (where l = 4), count(*) filter (where fix), count(*) filter (where dep)
               from new where (select count(*) from seq_lock) >= 0
               group by hr, s, f order by hr, s, f collate "C"
               on conflict (bucket, service_id, feature) do update set
                   events = r.events + excluded.events, debug = r.debug + excluded.debug,
                   info = r.info + excluded.info, warning = r.warning + excluded.warning,
                   error = r.error + excluded.error, critical = r.critical + excluded.critical,
                   fixes = r.fixes + excluded.fixes, deploys = r.deploys + excluded.deploys
               returning 1),
           daily as (
               insert into event_rollups_daily as r
                   (day, service_id, feature, events, debug, info, warning, error, critical, fixes, deploys)
               select dy, s, f, count(*), count(*) filter (where l = 0), count(*) filter (where l = 1),
                      count(*) filter (where l = 2), count(*) filter (where l = 3),
                      count(*) filter (where l = 4), count(*) filter (where fix), count(*) filter (where dep)
               from new where (select count(*) from hourly) >= 0
               group by dy, s, f order by dy, s, f collate "C"
               on conflict (day, service_id, feature) do update set
                   events = r.events + excluded.events, debug = r.debug + excluded.debug,
                   info = r.info + excluded.info, warning = r.warning + excluded.warning,
                   error = r.error + excluded.error, critical = r.critical + excluded.critical,
                   fixes = r.fixes + excluded.fixes, deploys = r.deploys + excluded.deploys
               returning 1),
           -- Per minute and service, for error-rate alert rules.
           minutes as (
               insert into event_rollups_minute as r (bucket, service_id, events, errors)
               select date_trunc('minute', o), s, count(*), count(*) filter (where l >= 3)
               from new where (select count(*) from daily) >= 0
               group by 1, 2 order by 1, 2
               on conflict (bucket, service_id) do update set
                   events = r.events + excluded.events, errors = r.errors + excluded.errors
               returning 1),
           -- Per service and release: first and last seen, events and errors.
           releases as (
               insert into releases as rl (service_id, version, first_seen, last_seen, events, errors)
               select s, r, min(o), max(o), count(*), count(*) filter (where l >= 3)
               from new where r is not null and (select count(*) from minutes) >= 0
               group by s, r order by s, r collate "C"
               on conflict (service_id, version) do update set
                   first_seen = least(rl.first_seen, excluded.first_seen),
                   last_seen = greatest(rl.last_seen, excluded.last_seen),
                   events = rl.events + excluded.events, errors = rl.errors + excluded.errors
               returning 1),
           -- The groups these errors touch as they were before this
           -- statement (every part of it sees the same snapshot): what
           -- tells a regression from a repeat.
           prior as materialized (
               select g.id, g.first_seen, g.last_seen, g.resolved_at, g.ignored
               from error_groups g
               where (g.service_id, g.fingerprint) in (select s, fp from new where fp is not null and l >= 3)),
           -- Errors count into their group; a fix (not itself an error)
           -- resolves it. A fix may arrive before its errors (clocks,
           -- queues): the group is then created empty, so the later errors
           -- find it resolved or reopen it.
           groups as (
               insert into error_groups as g
                   (service_id, fingerprint, feature, kind, level, message, first_seen, last_seen,
                    event_count, resolved_at, resolved_in, culprit, first_release, last_release,
                    environments)
               select s, fp,
                      coalesce((array_agg(f order by o desc, n desc) filter (where l >= 3))[1], ''),
                      coalesce((array_agg(k order by o desc, n desc) filter (where l >= 3))[1], ''),
                      coalesce(max(l) filter (where l >= 3), 3),
                      coalesce((array_agg(m order by o desc, n desc) filter (where l >= 3))[1], ''),
                      min(o) filter (where l >= 3), max(o) filter (where l >= 3),
                      count(*) filter (where l >= 3),
                      max(o) filter (where l < 3 and fix),
                      (array_agg(r order by o desc, n desc) filter (where l < 3 and fix))[1],
                      coalesce((array_agg(a->>'culprit' order by o desc, n desc)
                                filter (where l >= 3 and a ? 'culprit'))[1], ''),
                      (array_agg(r order by o, n) filter (where l >= 3))[1],
                      (array_agg(r order by o desc, n desc) filter (where l >= 3))[1],
                      coalesce(array_agg(distinct e order by e) filter (where l >= 3 and e is not null), '{}')
               from new
               where fp is not null and (l >= 3 or fix) and (select count(*) from releases) >= 0
                 and (select count(*) from prior) >= 0
               group by s, fp order by s, fp collate "C"
               on conflict (service_id, fingerprint) do update set
                   first_seen = least(g.first_seen, excluded.first_seen),
                   last_seen = greatest(g.last_seen, excluded.last_seen),
                   event_count = g.event_count + excluded.event_count,
                   level = greatest(g.level, excluded.level),
                   message = case when excluded.last_seen >= coalesce(g.last_seen, excluded.last_seen)
                                  then excluded.message else g.message end,
                   feature = case when excluded.last_seen >= coalesce(g.last_seen, excluded.last_seen)
                                  then excluded.feature else g.feature end,
                   kind = case when excluded.last_seen >= coalesce(g.last_seen, excluded.last_seen)
                               then excluded.kind else g.kind end,
                   culprit = case when excluded.last_seen >= coalesce(g.last_seen, excluded.last_seen)
                                  then excluded.culprit else g.culprit end,
                   last_release = case when excluded.last_seen >= coalesce(g.last_seen, excluded.last_seen)
                                       then excluded.last_release else g.last_release end,
                   first_release = case when g.first_seen is null
                                             or excluded.first_seen < g.first_seen
                                        then excluded.first_release else g.first_release end,
                   environments = case when excluded.environments <@ g.environments then g.environments
                                       else array(select distinct x from unnest(g.environments || excluded.environments) x
                                                  order by 1 limit 50) end,
                   resolved_at = greatest(g.resolved_at, excluded.resolved_at),
                   resolved_in = case when excluded.resolved_at >= coalesce(g.resolved_at, excluded.resolved_at)
                                      then excluded.resolved_in else g.resolved_in end
               returning id, service_id, fingerprint, message, kind, feature, event_count, last_seen,
                         resolved_at, (xmax = 0) as inserted),
           -- What alert rules listen to, only where an enabled rule does:
           -- a new group, a resolved group that is back, critical events.
           signals as (
               insert into alert_signals (kind, service_id, detail)
               select x.kind, x.service_id, x.detail from (
                   select 'new_error_group' as kind, g.service_id,
                          jsonb_build_object('group_id', g.id, 'fingerprint', g.fingerprint, 'message', g.message,
                                             'type', g.kind, 'feature', g.feature) as detail
                   from groups g left join prior p on p.id = g.id
                   where g.event_count > 0 and (g.inserted or p.first_seen is null)
                   union all
                   select 'regression', g.service_id,
                          jsonb_build_object('group_id', g.id, 'fingerprint', g.fingerprint, 'message', g.message,
                                             'type', g.kind, 'feature', g.feature, 'resolved_at', p.resolved_at)
                   from groups g join prior p on p.id = g.id
                   where p.resolved_at is not null and p.resolved_at >= coalesce(p.last_seen, p.resolved_at)
                     and not p.ignored and g.last_seen > g.resolved_at
                   union all
                   select 'critical_event', s,
                          jsonb_build_object('count', count(*), 'message', (array_agg(m order by o desc))[1],
                                             'type', (array_agg(k order by o desc))[1])
                   from new where l = 4 group by s
               ) x
               where exists (select 1 from alert_rules r
                             where r.enabled and r.kind = x.kind
                               and (r.service_id is null or r.service_id = x.service_id))
               returning 1),
           -- users_affected follows by trigger (migration 0009).
           users as (
               insert into error_group_users (group_id, user_ref)
               select distinct g.id, n.u from new n
               join groups g on g.service_id = n.s and g.fingerprint = n.fp
               where n.l >= 3 and n.u is not null
               order by 1, 2
               on conflict do nothing
               returning 1),
           group_hours as (
               insert into error_group_hourly as h (group_id, bucket, events)
               select g.id, n.hr, count(*) from new n
               join groups g on g.service_id = n.s and g.fingerprint = n.fp
               where n.l >= 3
               group by 1, 2 order by 1, 2
               on conflict (group_id, bucket) do update set events = h.events + excluded.events
               returning 1),
           resolutions as (
               insert into error_resolutions (group_id, resolved_at, source, release)
               select g.id, n.o, 'fix_event', n.r from new n
               join groups g on g.service_id = n.s and g.fingerprint = n.fp
               where n.l < 3 and n.fix
               returning 1),
           done as (
               select 1 from (select count(*) from users) u, (select count(*) from resolutions) r,
                             (select count(*) from group_hours) gh),
           -- The cursors are drawn under the lock, whatever path led here:
           -- the gate is a one-time filter, evaluated before the first row.
           -- (Reached only through `done`, a batch without error events
           -- skipped the lock's guard in `groups` and drew its cursors
           -- before taking it, so a later cursor could commit first and a
           -- live stream skip the earlier one.)
           ins as (
               insert into events (occurred_at, id, seq, service_id, feature, kind, level, message,
                                   fingerprint, release, environment, user_ref, attributes, payload)
               select n.o, n.i, nextval('events_seq'), n.s, n.f, n.k, n.l, n.m, n.fp, n.r, n.e, n.u, n.a, n.pl
               from new n, done
               where (select count(*) from seq_lock) >= 0
               order by n.n
               returning seq),
           top as (select max(seq) as max_seq from ins)
           select (select coalesce(array_agg(n), '{}') from new) as "stored!: Vec<i32>",
                  (select count(*) from (select pg_notify($19, top.max_seq::text)
                                         where top.max_seq is not null) p) as "notified!",
                  (select count(*) from (select pg_notify($20, '')
                                         where exists (select 1 from signals)) q) as "signalled!"
           from top"#,
        &c_idx,
        &c_time,
        &c_id,
        &c_service,
        &c_feature as &[&str],
        &c_kind as &[&str],
        &c_level,
        &c_message as &[&str],
        &c_fp as &[Option<&str>],
        &c_release as &[Option<&str>],
        &c_env as &[Option<&str>],
        &c_user as &[Option<&str>],
        &c_attrs as &[&serde_json::Value],
        &c_hour,
        &c_day,
        &c_fix,
        &c_deploy,
        SEQ_LOCK_KEY,
        EVENTS_CHANNEL,
        crate::alerts::store::SIGNALS_CHANNEL,
        &c_payload as &[Option<&[u8]>],
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.stored)
}
