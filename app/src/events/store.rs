//! SQL of events: the ingest transaction and event queries.
//!
//! `write_batch` stores a batch of validated events in the caller's
//! transaction: idempotency ids, hourly and daily rollups, error groups and
//! their resolutions, then the events themselves. Rollup and group rows are
//! upserted in sorted key order so concurrent writers never deadlock, and
//! the events take their stream cursor (`seq`) under an advisory lock held
//! until commit, so cursors become visible in order.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::RwLock;

use chrono::{DateTime, Datelike, DurationRound, NaiveDate, TimeDelta, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::types::{Level, NewEvent, is_deploy_kind, is_fix_kind};
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

/// What a batch write did.
#[derive(Debug, Default)]
pub struct BatchResult {
    /// Per input event: stored now (`true`) or a duplicate (`false`).
    pub stored: Vec<bool>,
    /// Services seen for the first time by this process: add to the cache after commit.
    pub services: Vec<(String, i64)>,
    /// Highest stream cursor assigned, when anything was stored.
    pub max_seq: Option<i64>,
}

#[derive(Default, Clone, Copy)]
pub(crate) struct Counts {
    events: i64,
    by_level: [i64; 5],
    fixes: i64,
    deploys: i64,
}

impl Counts {
    /// Subtracts one event of this level and kind (erasure).
    pub(crate) fn remove(&mut self, level: Level, kind: &str) {
        self.events -= 1;
        self.by_level[level as usize] -= 1;
        if is_fix_kind(kind) {
            self.fixes -= 1;
        }
        if is_deploy_kind(kind) {
            self.deploys -= 1;
        }
    }

    fn add(&mut self, e: &NewEvent) {
        self.events += 1;
        self.by_level[e.level as usize] += 1;
        if is_fix_kind(&e.kind) {
            self.fixes += 1;
        }
        if is_deploy_kind(&e.kind) {
            self.deploys += 1;
        }
    }
}

struct GroupDelta {
    feature: String,
    kind: String,
    level: i16,
    message: String,
    first: DateTime<Utc>,
    last: DateTime<Utc>,
    count: i64,
    users: HashSet<String>,
}

struct FixDelta {
    at: DateTime<Utc>,
    release: Option<String>,
    times: Vec<DateTime<Utc>>,
    releases: Vec<Option<String>>,
}

pub(crate) fn hour_of(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::hours(1)).unwrap_or(t)
}

/// Makes sure the monthly partitions for these events exist.
async fn ensure_partitions(
    conn: &mut PgConnection,
    events: &[&NewEvent],
    cache: &PartitionCache,
) -> AppResult<()> {
    let mut missing: Vec<(i32, u32)> = Vec::new();
    {
        let known = cache.months.read().map(|m| m.clone()).unwrap_or_default();
        for e in events {
            let key = (e.occurred_at.year(), e.occurred_at.month());
            if !known.contains(&key) && !missing.contains(&key) {
                missing.push(key);
            }
        }
    }
    for (y, m) in &missing {
        let Some(start) = NaiveDate::from_ymd_opt(*y, *m, 1).and_then(|d| d.and_hms_opt(0, 0, 0))
        else {
            continue;
        };
        let start = start.and_utc();
        sqlx::query!("select leitstand_ensure_event_partitions($1, $1)", start)
            .fetch_one(&mut *conn)
            .await?;
    }
    if !missing.is_empty()
        && let Ok(mut known) = cache.months.write()
    {
        known.extend(missing);
    }
    Ok(())
}

/// Stores a batch in the caller's transaction (see the module docs).
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
    if events.is_empty() {
        return Ok(result);
    }

    // 1. Duplicates inside the batch: the first occurrence wins.
    let mut seen = HashSet::with_capacity(events.len());
    let candidates: Vec<usize> = (0..events.len())
        .filter(|&i| seen.insert(events[i].id))
        .collect();

    // 2. Duplicates of earlier requests: event_ids is the arbiter.
    let ids: Vec<Uuid> = candidates.iter().map(|&i| events[i].id).collect();
    let times: Vec<DateTime<Utc>> = candidates.iter().map(|&i| events[i].occurred_at).collect();
    let fresh: HashSet<Uuid> = sqlx::query_scalar!(
        r#"insert into event_ids (id, occurred_at)
           select * from unnest($1::uuid[], $2::timestamptz[])
           on conflict (id) do nothing
           returning id"#,
        &ids,
        &times
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .collect();
    let new_idx: Vec<usize> = candidates
        .into_iter()
        .filter(|&i| fresh.contains(&events[i].id))
        .collect();
    for &i in &new_idx {
        result.stored[i] = true;
    }
    if new_idx.is_empty() {
        return Ok(result);
    }
    let new_events: Vec<&NewEvent> = new_idx.iter().map(|&i| &events[i]).collect();

    ensure_partitions(conn, &new_events, partitions).await?;

    // 3. Services, created on first sight.
    let mut service_ids: HashMap<&str, i64> = HashMap::new();
    for e in &new_events {
        if service_ids.contains_key(e.service.as_str()) {
            continue;
        }
        let id = match services_cache.get(&e.service) {
            Some(id) => id,
            None => {
                let id = services::ensure(&mut *conn, &e.service).await?;
                result.services.push((e.service.clone(), id));
                id
            }
        };
        service_ids.insert(e.service.as_str(), id);
    }
    let sid = |e: &NewEvent| {
        service_ids
            .get(e.service.as_str())
            .copied()
            .unwrap_or_default()
    };

    // 4. Rollups, aggregated here, upserted in key order.
    let mut hourly: BTreeMap<(DateTime<Utc>, i64, &str), Counts> = BTreeMap::new();
    let mut daily: BTreeMap<(NaiveDate, i64, &str), Counts> = BTreeMap::new();
    for e in &new_events {
        hourly
            .entry((hour_of(e.occurred_at), sid(e), e.feature.as_str()))
            .or_default()
            .add(e);
        daily
            .entry((e.occurred_at.date_naive(), sid(e), e.feature.as_str()))
            .or_default()
            .add(e);
    }
    upsert_hourly(conn, &hourly).await?;
    upsert_daily(conn, &daily).await?;

    // 5. Error groups and fixes.
    let mut groups: BTreeMap<(i64, &str), GroupDelta> = BTreeMap::new();
    let mut fixes: BTreeMap<(i64, &str), FixDelta> = BTreeMap::new();
    for e in &new_events {
        let Some(fp) = e.fingerprint.as_deref() else {
            continue;
        };
        if e.level.is_error() {
            let g = groups.entry((sid(e), fp)).or_insert_with(|| GroupDelta {
                feature: e.feature.clone(),
                kind: e.kind.clone(),
                level: e.level.as_i16(),
                message: e.message.clone(),
                first: e.occurred_at,
                last: e.occurred_at,
                count: 0,
                users: HashSet::new(),
            });
            g.count += 1;
            g.first = g.first.min(e.occurred_at);
            if e.occurred_at >= g.last {
                g.last = e.occurred_at;
                g.message = e.message.clone();
                g.feature = e.feature.clone();
                g.kind = e.kind.clone();
            }
            g.level = g.level.max(e.level.as_i16());
            if let Some(u) = &e.user {
                g.users.insert(u.clone());
            }
        } else if is_fix_kind(&e.kind) {
            let f = fixes.entry((sid(e), fp)).or_insert_with(|| FixDelta {
                at: e.occurred_at,
                release: e.release.clone(),
                times: Vec::new(),
                releases: Vec::new(),
            });
            if e.occurred_at >= f.at {
                f.at = e.occurred_at;
                f.release = e.release.clone();
            }
            f.times.push(e.occurred_at);
            f.releases.push(e.release.clone());
        }
    }
    if !groups.is_empty() {
        upsert_groups(conn, &groups).await?;
    }
    if !fixes.is_empty() {
        apply_fixes(conn, &fixes).await?;
    }

    // 6. The events, with cursors taken in commit order.
    sqlx::query!("select pg_advisory_xact_lock($1)", SEQ_LOCK_KEY)
        .fetch_one(&mut *conn)
        .await?;
    let n = new_events.len();
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
    for e in &new_events {
        c_time.push(e.occurred_at);
        c_id.push(e.id);
        c_service.push(sid(e));
        c_feature.push(e.feature.clone());
        c_kind.push(e.kind.clone());
        c_level.push(e.level.as_i16());
        c_message.push(e.message.clone());
        c_fp.push(e.fingerprint.clone());
        c_release.push(e.release.clone());
        c_env.push(e.environment.clone());
        c_user.push(e.user.clone());
        c_attrs.push(e.attributes.clone());
    }
    let max_seq = sqlx::query_scalar!(
        r#"with ins as (
               insert into events (occurred_at, id, seq, service_id, feature, kind, level, message,
                                   fingerprint, release, environment, user_ref, attributes)
               select t.o, t.i, nextval('events_seq'), t.s, t.f, t.k, t.l, t.m, t.fp, t.r, t.e, t.u, t.a
               from unnest($1::timestamptz[], $2::uuid[], $3::int8[], $4::text[], $5::text[],
                           $6::int2[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[],
                           $12::jsonb[]) as t(o, i, s, f, k, l, m, fp, r, e, u, a)
               returning seq)
           select max(seq) from ins"#,
        &c_time,
        &c_id,
        &c_service,
        &c_feature,
        &c_kind,
        &c_level,
        &c_message,
        &c_fp as &[Option<String>],
        &c_release as &[Option<String>],
        &c_env as &[Option<String>],
        &c_user as &[Option<String>],
        &c_attrs,
    )
    .fetch_one(&mut *conn)
    .await?;
    if let Some(max) = max_seq {
        sqlx::query!("select pg_notify($1, $2)", EVENTS_CHANNEL, max.to_string())
            .fetch_one(&mut *conn)
            .await?;
    }
    result.max_seq = max_seq;
    Ok(result)
}

macro_rules! count_columns {
    ($map:expr) => {{
        let mut events = Vec::with_capacity($map.len());
        let mut debug = Vec::with_capacity($map.len());
        let mut info = Vec::with_capacity($map.len());
        let mut warning = Vec::with_capacity($map.len());
        let mut error = Vec::with_capacity($map.len());
        let mut critical = Vec::with_capacity($map.len());
        let mut fixes = Vec::with_capacity($map.len());
        let mut deploys = Vec::with_capacity($map.len());
        for c in $map.values() {
            events.push(c.events);
            debug.push(c.by_level[Level::Debug as usize]);
            info.push(c.by_level[Level::Info as usize]);
            warning.push(c.by_level[Level::Warning as usize]);
            error.push(c.by_level[Level::Error as usize]);
            critical.push(c.by_level[Level::Critical as usize]);
            fixes.push(c.fixes);
            deploys.push(c.deploys);
        }
        (
            events, debug, info, warning, error, critical, fixes, deploys,
        )
    }};
}

pub(crate) async fn upsert_hourly(
    conn: &mut PgConnection,
    map: &BTreeMap<(DateTime<Utc>, i64, &str), Counts>,
) -> AppResult<()> {
    let buckets: Vec<DateTime<Utc>> = map.keys().map(|k| k.0).collect();
    let services: Vec<i64> = map.keys().map(|k| k.1).collect();
    let features: Vec<String> = map.keys().map(|k| k.2.to_owned()).collect();
    let (events, debug, info, warning, error, critical, fixes, deploys) = count_columns!(map);
    sqlx::query!(
        r#"insert into event_rollups as r
               (bucket, service_id, feature, events, debug, info, warning, error, critical, fixes, deploys)
           select * from unnest($1::timestamptz[], $2::int8[], $3::text[], $4::int8[], $5::int8[],
                                $6::int8[], $7::int8[], $8::int8[], $9::int8[], $10::int8[], $11::int8[])
           on conflict (bucket, service_id, feature) do update set
               events = r.events + excluded.events, debug = r.debug + excluded.debug,
               info = r.info + excluded.info, warning = r.warning + excluded.warning,
               error = r.error + excluded.error, critical = r.critical + excluded.critical,
               fixes = r.fixes + excluded.fixes, deploys = r.deploys + excluded.deploys"#,
        &buckets,
        &services,
        &features,
        &events,
        &debug,
        &info,
        &warning,
        &error,
        &critical,
        &fixes,
        &deploys
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) async fn upsert_daily(
    conn: &mut PgConnection,
    map: &BTreeMap<(NaiveDate, i64, &str), Counts>,
) -> AppResult<()> {
    let days: Vec<NaiveDate> = map.keys().map(|k| k.0).collect();
    let services: Vec<i64> = map.keys().map(|k| k.1).collect();
    let features: Vec<String> = map.keys().map(|k| k.2.to_owned()).collect();
    let (events, debug, info, warning, error, critical, fixes, deploys) = count_columns!(map);
    sqlx::query!(
        r#"insert into event_rollups_daily as r
               (day, service_id, feature, events, debug, info, warning, error, critical, fixes, deploys)
           select * from unnest($1::date[], $2::int8[], $3::text[], $4::int8[], $5::int8[],
                                $6::int8[], $7::int8[], $8::int8[], $9::int8[], $10::int8[], $11::int8[])
           on conflict (day, service_id, feature) do update set
               events = r.events + excluded.events, debug = r.debug + excluded.debug,
               info = r.info + excluded.info, warning = r.warning + excluded.warning,
               error = r.error + excluded.error, critical = r.critical + excluded.critical,
               fixes = r.fixes + excluded.fixes, deploys = r.deploys + excluded.deploys"#,
        &days,
        &services,
        &features,
        &events,
        &debug,
        &info,
        &warning,
        &error,
        &critical,
        &fixes,
        &deploys
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn upsert_groups(
    conn: &mut PgConnection,
    groups: &BTreeMap<(i64, &str), GroupDelta>,
) -> AppResult<()> {
    let services: Vec<i64> = groups.keys().map(|k| k.0).collect();
    let fps: Vec<String> = groups.keys().map(|k| k.1.to_owned()).collect();
    let features: Vec<String> = groups.values().map(|g| g.feature.clone()).collect();
    let kinds: Vec<String> = groups.values().map(|g| g.kind.clone()).collect();
    let levels: Vec<i16> = groups.values().map(|g| g.level).collect();
    let messages: Vec<String> = groups.values().map(|g| g.message.clone()).collect();
    let firsts: Vec<DateTime<Utc>> = groups.values().map(|g| g.first).collect();
    let lasts: Vec<DateTime<Utc>> = groups.values().map(|g| g.last).collect();
    let counts: Vec<i64> = groups.values().map(|g| g.count).collect();
    let rows = sqlx::query!(
        r#"insert into error_groups as g
               (service_id, fingerprint, feature, kind, level, message, first_seen, last_seen, event_count)
           select * from unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::int2[],
                                $6::text[], $7::timestamptz[], $8::timestamptz[], $9::int8[])
           on conflict (service_id, fingerprint) do update set
               first_seen = least(coalesce(g.first_seen, excluded.first_seen), excluded.first_seen),
               last_seen = greatest(coalesce(g.last_seen, excluded.last_seen), excluded.last_seen),
               event_count = g.event_count + excluded.event_count,
               level = greatest(g.level, excluded.level),
               message = case when g.last_seen is null or excluded.last_seen >= g.last_seen
                              then excluded.message else g.message end,
               feature = case when g.last_seen is null or excluded.last_seen >= g.last_seen
                              then excluded.feature else g.feature end,
               kind = case when g.last_seen is null or excluded.last_seen >= g.last_seen
                           then excluded.kind else g.kind end
           returning id, service_id, fingerprint"#,
        &services,
        &fps,
        &features,
        &kinds,
        &levels,
        &messages,
        &firsts,
        &lasts,
        &counts
    )
    .fetch_all(&mut *conn)
    .await?;

    // Users affected: count each (group, user) pair once.
    let mut pair_group = Vec::new();
    let mut pair_user = Vec::new();
    for row in rows {
        let Some(g) = groups.get(&(row.service_id, row.fingerprint.as_str())) else {
            continue;
        };
        let mut users: Vec<&String> = g.users.iter().collect();
        users.sort();
        for u in users {
            pair_group.push(row.id);
            pair_user.push(u.clone());
        }
    }
    if !pair_group.is_empty() {
        sqlx::query!(
            r#"with new_pairs as (
                   insert into error_group_users (group_id, user_ref)
                   select * from unnest($1::int8[], $2::text[])
                   on conflict do nothing
                   returning group_id),
               per_group as (select group_id, count(*) as n from new_pairs group by group_id)
               update error_groups g set users_affected = g.users_affected + p.n
               from per_group p where g.id = p.group_id"#,
            &pair_group,
            &pair_user
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn apply_fixes(
    conn: &mut PgConnection,
    fixes: &BTreeMap<(i64, &str), FixDelta>,
) -> AppResult<()> {
    let services: Vec<i64> = fixes.keys().map(|k| k.0).collect();
    let fps: Vec<String> = fixes.keys().map(|k| k.1.to_owned()).collect();
    let ats: Vec<DateTime<Utc>> = fixes.values().map(|f| f.at).collect();
    let releases: Vec<Option<String>> = fixes.values().map(|f| f.release.clone()).collect();
    // A fix may arrive before its errors (clocks, queues): the group is
    // created empty so the later errors find it resolved or reopen it.
    let rows = sqlx::query!(
        r#"insert into error_groups as g (service_id, fingerprint, resolved_at, resolved_in)
           select * from unnest($1::int8[], $2::text[], $3::timestamptz[], $4::text[])
           on conflict (service_id, fingerprint) do update set
               resolved_at = greatest(g.resolved_at, excluded.resolved_at),
               resolved_in = case when g.resolved_at is null or excluded.resolved_at >= g.resolved_at
                                  then excluded.resolved_in else g.resolved_in end
           returning id, service_id, fingerprint"#,
        &services,
        &fps,
        &ats,
        &releases as &[Option<String>]
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut r_group = Vec::new();
    let mut r_at = Vec::new();
    let mut r_release = Vec::new();
    for row in rows {
        let Some(f) = fixes.get(&(row.service_id, row.fingerprint.as_str())) else {
            continue;
        };
        for (t, rel) in f.times.iter().zip(&f.releases) {
            r_group.push(row.id);
            r_at.push(*t);
            r_release.push(rel.clone());
        }
    }
    sqlx::query!(
        r#"insert into error_resolutions (group_id, resolved_at, source, release)
           select g, t, 'fix_event', r from unnest($1::int8[], $2::timestamptz[], $3::text[]) as u(g, t, r)"#,
        &r_group,
        &r_at,
        &r_release as &[Option<String>]
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Total number of stored events (from the daily rollups: cheap at any size).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn total_events(db: impl sqlx::PgExecutor<'_>) -> AppResult<i64> {
    Ok(sqlx::query_scalar!(
        r#"select coalesce(sum(events), 0)::int8 as "n!" from event_rollups_daily"#
    )
    .fetch_one(db)
    .await?)
}

/// Escapes `%`, `_` and `\` for a LIKE pattern, then appends `%`.
pub fn like_prefix(prefix: &str) -> String {
    let mut out = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// `%text%` for ILIKE, escaped.
pub fn like_contains(text: &str) -> String {
    format!("%{}", like_prefix(text))
}

/// Highest stream cursor committed so far.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn max_seq(db: impl sqlx::PgExecutor<'_>) -> AppResult<i64> {
    Ok(
        sqlx::query_scalar!(r#"select coalesce(max(seq), 0)::int8 as "seq!" from events"#)
            .fetch_one(db)
            .await?,
    )
}

struct EventRow {
    seq: i64,
    id: Uuid,
    occurred_at: DateTime<Utc>,
    received_at: DateTime<Utc>,
    service: String,
    feature: String,
    kind: String,
    level: i16,
    message: String,
    fingerprint: Option<String>,
    release: Option<String>,
    environment: Option<String>,
    user_ref: Option<String>,
    attributes: serde_json::Value,
}

impl From<EventRow> for super::types::EventView {
    fn from(r: EventRow) -> Self {
        Self {
            id: r.id,
            seq: r.seq,
            occurred_at: r.occurred_at,
            received_at: r.received_at,
            service: r.service,
            feature: r.feature,
            kind: r.kind,
            level: Level::from_i16(r.level),
            message: r.message,
            fingerprint: r.fingerprint,
            release: r.release,
            environment: r.environment,
            user: r.user_ref,
            attributes: r.attributes,
        }
    }
}

/// Events after cursor `after`, in cursor order, matching `filter`; with
/// `until`, only up to that cursor.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn events_after(
    db: impl sqlx::PgExecutor<'_>,
    after: i64,
    limit: i64,
    filter: &super::live::StreamFilter,
    until: Option<i64>,
) -> AppResult<Vec<super::types::EventView>> {
    let kind = filter.kind_prefix.as_deref().map(like_prefix);
    let rows = sqlx::query_as!(
        EventRow,
        r#"select e.seq, e.id, e.occurred_at, e.received_at, s.slug as service, e.feature, e.kind,
                  e.level, e.message, e.fingerprint, e.release, e.environment, e.user_ref, e.attributes
           from events e join services s on s.id = e.service_id
           where e.seq > $1
             and ($3::int8 is null or e.seq <= $3)
             and ($4::text is null or s.slug = $4)
             and e.level >= $5
             and ($6::text is null or e.kind like $6)
           order by e.seq
           limit $2"#,
        after,
        limit,
        until,
        filter.service,
        filter.min_level.map(Level::as_i16).unwrap_or(0),
        kind
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// The explorer's query: newest first, keyset-paginated on (time, id).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn search(
    db: &sqlx::PgPool,
    q: &super::types::EventQuery,
    now: DateTime<Utc>,
) -> AppResult<super::types::EventPage> {
    use super::types::{EventPage, PAGE_SIZE};
    let (from, to) = q.window(now);
    let cursor = q.cursor.as_deref().and_then(super::types::parse_cursor);
    let kind = q.kind.as_deref().filter(|s| !s.is_empty()).map(like_prefix);
    let text = q.q.as_deref().filter(|s| !s.is_empty()).map(like_contains);
    let stream_cursor = max_seq(db).await?;
    let mut tx = db.begin().await?;
    // A free-text search over a long range must not hold a connection forever.
    sqlx::query!("set local statement_timeout = '5s'")
        .execute(&mut *tx)
        .await?;
    let rows = sqlx::query_as!(
        EventRow,
        r#"select e.seq, e.id, e.occurred_at, e.received_at, s.slug as service, e.feature, e.kind,
                  e.level, e.message, e.fingerprint, e.release, e.environment, e.user_ref, e.attributes
           from events e join services s on s.id = e.service_id
           where e.occurred_at >= $1 and e.occurred_at < $2
             and ($3::timestamptz is null or (e.occurred_at, e.id) < ($3, $4::uuid))
             and ($5::text is null or s.slug = $5)
             and ($6::text is null or e.feature = $6)
             and e.level >= $7
             and ($8::text is null or e.kind like $8)
             and ($9::text is null or e.message ilike $9)
           order by e.occurred_at desc, e.id desc
           limit $10"#,
        from,
        to,
        cursor.map(|c| c.0),
        cursor.map(|c| c.1),
        q.service.as_deref().filter(|s| !s.is_empty()),
        q.feature.as_deref().filter(|s| !s.is_empty()),
        q.level.map(Level::as_i16).unwrap_or(0),
        kind,
        text,
        PAGE_SIZE + 1,
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(d) if d.code().as_deref() == Some("57014") => {
            crate::error::AppError::validation("q", "the search took too long; narrow the time range or the filters")
        }
        _ => e.into(),
    })?;
    tx.commit().await?;
    let mut events: Vec<super::types::EventView> = rows.into_iter().map(Into::into).collect();
    let more = events.len() as i64 > PAGE_SIZE;
    events.truncate(PAGE_SIZE as usize);
    let next = if more {
        events
            .last()
            .map(|e| super::types::format_cursor(e.occurred_at, e.id))
    } else {
        None
    };
    Ok(EventPage {
        events,
        next,
        cursor: stream_cursor,
    })
}

/// One event by id.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn get(db: impl sqlx::PgExecutor<'_>, id: Uuid) -> AppResult<super::types::EventView> {
    let row = sqlx::query_as!(
        EventRow,
        r#"select e.seq, e.id, e.occurred_at, e.received_at, s.slug as service, e.feature, e.kind,
                  e.level, e.message, e.fingerprint, e.release, e.environment, e.user_ref, e.attributes
           from event_ids i
           join events e on e.occurred_at = i.occurred_at and e.id = i.id
           join services s on s.id = e.service_id
           where i.id = $1"#,
        id
    )
    .fetch_optional(db)
    .await?;
    row.map(Into::into)
        .ok_or_else(|| crate::error::AppError::NotFound(format!("event {id}")))
}

/// The newest `limit` events (optionally of one service), newest first,
/// with the cursor to resume a live stream from.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn recent(
    db: &sqlx::PgPool,
    service: Option<&str>,
    limit: i64,
) -> AppResult<super::types::LiveSnapshot> {
    let mut tx = db.begin().await?;
    // One snapshot for both reads: the cursor matches the list.
    sqlx::query!("set transaction isolation level repeatable read, read only")
        .execute(&mut *tx)
        .await?;
    let cursor = max_seq(&mut *tx).await?;
    let rows = sqlx::query_as!(
        EventRow,
        r#"select e.seq, e.id, e.occurred_at, e.received_at, s.slug as service, e.feature, e.kind,
                  e.level, e.message, e.fingerprint, e.release, e.environment, e.user_ref, e.attributes
           from events e join services s on s.id = e.service_id
           where $1::text is null or s.slug = $1
           order by e.seq desc
           limit $2"#,
        service,
        limit
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(super::types::LiveSnapshot {
        events: rows.into_iter().map(Into::into).collect(),
        cursor,
    })
}

/// Services and features seen in the last 30 days (from the daily rollups).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn facets(db: impl sqlx::PgExecutor<'_>) -> AppResult<super::types::Facets> {
    let rows = sqlx::query!(
        r#"select s.slug, r.feature
           from (select distinct service_id, feature from event_rollups_daily
                 where day >= current_date - 30) r
           join services s on s.id = r.service_id
           order by 1, 2"#
    )
    .fetch_all(db)
    .await?;
    let mut services: Vec<String> = rows.iter().map(|r| r.slug.clone()).collect();
    services.dedup();
    let mut features: Vec<String> = rows
        .into_iter()
        .map(|r| r.feature)
        .filter(|f| !f.is_empty())
        .collect();
    features.sort();
    features.dedup();
    Ok(super::types::Facets { services, features })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_prefix("payment."), "payment.%");
        assert_eq!(like_prefix("50%_off\\"), "50\\%\\_off\\\\%");
        assert_eq!(like_contains("a_b"), "%a\\_b%");
    }
}
