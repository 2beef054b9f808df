//! Upgrades: migrations run once however many processes start together; an
//! older binary refuses a schema a newer one migrated, and changes nothing.

use sqlx::{Connection, Executor};

use crate::helpers::{
    TestApp, admin_url, db_url, drop_database_blocking, run_cli_code, spawn_app, spawn_app_on,
};

/// `leitstand <args>` from a plain (not async) test.
fn cli_blocking(url: &str, args: &[&str]) -> (i32, String, String) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(run_cli_code(url, args))
}

/// A database with nothing in it (not the migrated test template).
fn empty_database() -> String {
    let name = format!("leitstand_test_{}", uuid::Uuid::new_v4().simple());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let mut admin = sqlx::PgConnection::connect(&admin_url())
            .await
            .expect("admin connection");
        admin
            .execute(sqlx::AssertSqlSafe(format!("create database {name}")))
            .await
            .expect("create database");
    });
    name
}

#[test]
fn processes_starting_together_migrate_once() {
    let db = empty_database();
    let url = db_url(&db);
    let runs: Vec<_> = (0..3)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || cli_blocking(&url, &["migrate"]))
        })
        .collect();
    for r in runs {
        let (code, _, stderr) = r.join().expect("thread");
        assert_eq!(code, 0, "{stderr}");
    }
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (applied, distinct): (i64, i64) = rt.block_on(async {
        let pool = sqlx::PgPool::connect(&url).await.expect("pool");
        let row = sqlx::query_as("select count(*), count(distinct version) from _sqlx_migrations")
            .fetch_one(&pool)
            .await
            .expect("count");
        pool.close().await;
        row
    });
    assert_eq!(applied, distinct, "each migration applied once");
    assert_eq!(applied, server::database::MIGRATOR.iter().count() as i64);
    drop_database_blocking(db);
}

#[test]
fn an_older_binary_refuses_a_newer_schema_and_changes_nothing() {
    let db = empty_database();
    let url = db_url(&db);
    let (code, _, stderr) = cli_blocking(&url, &["migrate"]);
    assert_eq!(code, 0, "{stderr}");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let newer = server::database::latest_migration() + 1;
    let snapshot = |pool: &sqlx::PgPool| {
        let pool = pool.clone();
        async move {
            let tables: Vec<String> = sqlx::query_scalar(
                "select tablename::text from pg_tables where schemaname = 'public' order by 1",
            )
            .fetch_all(&pool)
            .await
            .expect("tables");
            let migrations: i64 = sqlx::query_scalar("select count(*) from _sqlx_migrations")
                .fetch_one(&pool)
                .await
                .expect("count");
            (tables, migrations)
        }
    };
    let pool = rt.block_on(sqlx::PgPool::connect(&url)).expect("pool");
    // What a newer release would have recorded.
    rt.block_on(
        sqlx::query(
            "insert into _sqlx_migrations (version, description, success, checksum, execution_time)
             values ($1, 'from a newer release', true, '\\x00'::bytea, 1)",
        )
        .bind(newer)
        .execute(&pool),
    )
    .expect("newer migration recorded");
    let before = rt.block_on(snapshot(&pool));

    for command in [&["migrate"][..], &["serve"][..]] {
        let (code, _, stderr) = cli_blocking(&url, command);
        assert_ne!(code, 0, "{command:?} refuses");
        assert!(
            stderr.contains(&format!("schema is at migration {newer}"))
                && stderr.contains("newer release"),
            "{command:?}: {stderr}"
        );
    }
    assert_eq!(rt.block_on(snapshot(&pool)), before, "nothing changed");
    rt.block_on(pool.close());
    drop_database_blocking(db);
}

/// The schema an upgrade starts from: migration 0007, the last before the
/// events table's key was rebuilt (0008), so every later migration — the
/// key rebuild, the group-user trigger, probes, alerts, Sentry and the
/// backfill — runs over stored data.
const PREVIOUS_SCHEMA: i64 = 7;

/// Applies the migrations up to `version` from the repository's files.
async fn migrate_to(pool: &sqlx::PgPool, version: i64) {
    let dir = tempfile::tempdir().expect("dir");
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    for entry in std::fs::read_dir(&source).expect("migrations") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let number: i64 = name
            .split('_')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(i64::MAX);
        if number <= version {
            std::fs::copy(&path, dir.path().join(&name)).expect("copy migration");
        }
    }
    sqlx::migrate::Migrator::new(dir.path())
        .await
        .expect("migrator")
        .run(pool)
        .await
        .expect("older migrations apply");
}

/// Eight days of traffic from two services: requests at every level, errors
/// in four groups with users, releases and environments, deploys and fixes —
/// clear of the dashboard's window edges (24 h, 7 days), so two reads a
/// moment apart see the same windows.
fn traffic(now: chrono::DateTime<chrono::Utc>) -> Vec<serde_json::Value> {
    let levels = [
        "debug", "info", "info", "warning", "error", "info", "critical", "info",
    ];
    let features = ["checkout", "search", ""];
    let mut out = Vec::new();
    let mut minute: i64 = 20;
    let mut i: u64 = 0;
    while minute < 8 * 24 * 60 - 20 {
        let near_edge = [24 * 60, 7 * 24 * 60]
            .iter()
            .any(|e| (minute - e).abs() < 20);
        if !near_edge {
            let service = if i.is_multiple_of(3) {
                "billing"
            } else {
                "shop"
            };
            let level = levels[(i % 8) as usize];
            let release = format!("1.{}", 4 - minute / (2 * 24 * 60));
            let mut kind = "request";
            let mut fingerprint = None;
            if matches!(level, "error" | "critical") {
                kind = "exception";
                fingerprint = Some(format!("fp-{}", i % 4));
            } else if i.is_multiple_of(97) {
                kind = "deploy";
            } else if i.is_multiple_of(89) {
                kind = "fix";
                fingerprint = Some(format!("fp-{}", i % 4));
            }
            let mut event = serde_json::json!({
                "id": uuid::Uuid::from_u128(0x1e17_5a4d_0000_0000_0000_0000_0000_0000 + i as u128),
                "timestamp": (now - chrono::Duration::minutes(minute)).to_rfc3339(),
                "service": service,
                "feature": features[(i % 3) as usize],
                "type": kind,
                "level": level,
                "message": format!("{kind} {}", i % 5),
                "release": release,
                "environment": if i.is_multiple_of(5) { "staging" } else { "production" },
            });
            if let Some(fp) = fingerprint {
                event["fingerprint"] = fp.into();
            }
            if i % 7 < 3 {
                event["user"] = format!("u{}", i % 11).into();
            }
            out.push(event);
            i += 1;
        }
        minute += 17;
    }
    out
}

/// Fills a database at schema 0007 as the ingest of that schema did: events
/// and their ids, hourly and daily rollups, error groups (with their users
/// counted) and fix resolutions.
async fn fill_previous_schema(pool: &sqlx::PgPool, events: &[serde_json::Value]) {
    let level = |name: &str| match name {
        "debug" => 0,
        "info" => 1,
        "warning" => 2,
        "error" => 3,
        _ => 4,
    };
    let rows: Vec<serde_json::Value> = events
        .iter()
        .map(|e| {
            serde_json::json!({
                "o": e["timestamp"], "i": e["id"], "s": e["service"], "f": e["feature"],
                "k": e["type"], "l": level(e["level"].as_str().unwrap_or_default()),
                "m": e["message"], "fp": e["fingerprint"], "r": e["release"],
                "e": e["environment"], "u": e["user"],
            })
        })
        .collect();
    let mut tx = pool.begin().await.expect("tx");
    let fix = "(kind = 'fix' or kind like 'fix.%')";
    let deploy = "(kind = 'deploy' or kind like 'deploy.%')";
    let counts = format!(
        "count(*), count(*) filter (where level = 0), count(*) filter (where level = 1),
         count(*) filter (where level = 2), count(*) filter (where level = 3),
         count(*) filter (where level = 4), count(*) filter (where {fix}),
         count(*) filter (where {deploy})"
    );
    let statements = [
        "set local time zone 'UTC'".to_owned(),
        "insert into services (slug, name)
         select distinct s, s from jsonb_to_recordset($1) as t(s text) order by 1"
            .to_owned(),
        "insert into events (occurred_at, id, seq, service_id, feature, kind, level, message,
                             fingerprint, release, environment, user_ref)
         select t.o, t.i, nextval('events_seq'), s.id, t.f, t.k, t.l, t.m, t.fp, t.r, t.e, t.u
         from jsonb_to_recordset($1) as t(o timestamptz, i uuid, s text, f text, k text, l int2,
                                          m text, fp text, r text, e text, u text)
         join services s on s.slug = t.s
         order by t.o"
            .to_owned(),
        "insert into event_ids (id, occurred_at) select id, occurred_at from events".to_owned(),
        format!(
            "insert into event_rollups (bucket, service_id, feature, events, debug, info, warning,
                                        error, critical, fixes, deploys)
             select date_trunc('hour', occurred_at), service_id, feature, {counts}
             from events group by 1, 2, 3"
        ),
        format!(
            "insert into event_rollups_daily (day, service_id, feature, events, debug, info,
                                              warning, error, critical, fixes, deploys)
             select occurred_at::date, service_id, feature, {counts}
             from events group by 1, 2, 3"
        ),
        format!(
            "insert into error_groups (service_id, fingerprint, feature, kind, level, message,
                                       first_seen, last_seen, event_count, users_affected,
                                       resolved_at, resolved_in)
             select service_id, fingerprint,
                    coalesce((array_agg(feature order by occurred_at desc) filter (where level >= 3))[1], ''),
                    coalesce((array_agg(kind order by occurred_at desc) filter (where level >= 3))[1], ''),
                    coalesce(max(level) filter (where level >= 3), 3),
                    coalesce((array_agg(message order by occurred_at desc) filter (where level >= 3))[1], ''),
                    min(occurred_at) filter (where level >= 3), max(occurred_at) filter (where level >= 3),
                    count(*) filter (where level >= 3),
                    count(distinct user_ref) filter (where level >= 3),
                    max(occurred_at) filter (where level < 3 and {fix}),
                    (array_agg(release order by occurred_at desc) filter (where level < 3 and {fix}))[1]
             from events
             where fingerprint is not null and (level >= 3 or {fix})
             group by service_id, fingerprint"
        ),
        "insert into error_group_users (group_id, user_ref)
         select distinct g.id, e.user_ref from events e
         join error_groups g on g.service_id = e.service_id and g.fingerprint = e.fingerprint
         where e.level >= 3 and e.user_ref is not null"
            .to_owned(),
        "insert into error_resolutions (group_id, resolved_at, source, release)
             select g.id, e.occurred_at, 'fix_event', e.release from events e
             join error_groups g on g.service_id = e.service_id and g.fingerprint = e.fingerprint
             where e.level < 3 and (e.kind = 'fix' or e.kind like 'fix.%')"
            .to_owned(),
    ];
    let rows = serde_json::Value::Array(rows);
    for sql in statements {
        let query = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
        let query = if sql.contains("$1") {
            query.bind(&rows)
        } else {
            query
        };
        query
            .execute(&mut *tx)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    tx.commit().await.expect("commit");
}

/// What the pages show, without the ids each database numbers itself.
async fn figures(app: &TestApp, key: &str) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    for range in ["24h", "7d", "30d"] {
        let d = app.get_dashboard(key, &format!("?range={range}")).await;
        out.insert(format!("kpis {range}"), d["kpis"].clone());
        out.insert(format!("previous {range}"), d["previous"].clone());
        out.insert(format!("timeline {range}"), d["timeline"].clone());
    }
    let mut groups = app.get_json("/api/v1/error-groups?status=all", key).await;
    strip_ids(&mut groups);
    out.insert("error groups".into(), groups);
    let tables: Vec<(String,)> = sqlx::query_as(
        "select coalesce(json_agg(x order by x::text), '[]')::text from (
             select s.slug, r.version, r.first_seen, r.last_seen, r.events, r.errors
             from releases r join services s on s.id = r.service_id) x
         union all
         select coalesce(json_agg(x order by x::text), '[]')::text from (
             select g.fingerprint, h.bucket, h.events
             from error_group_hourly h join error_groups g on g.id = h.group_id) x
         union all
         select coalesce(json_agg(x order by x::text), '[]')::text from (
             select g.fingerprint, g.first_release, g.last_release, g.environments,
                    g.users_affected, g.event_count, g.resolved_at, g.resolved_in
             from error_groups g) x
         union all
         select coalesce(json_agg(x order by x::text), '[]')::text from (
             select m.bucket, s.slug, m.events, m.errors
             from event_rollups_minute m join services s on s.id = m.service_id
             where m.bucket >= now() - interval '23 hours') x",
    )
    .fetch_all(&app.pool)
    .await
    .expect("derived tables");
    for (name, (json,)) in ["releases", "group hours", "groups", "minute rollups"]
        .iter()
        .zip(tables)
    {
        out.insert((*name).into(), serde_json::from_str(&json).expect("json"));
    }
    serde_json::Value::Object(out)
}

fn strip_ids(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            map.retain(|k, _| k != "id" && !k.ends_with("_id"));
            map.values_mut().for_each(strip_ids);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_ids),
        _ => {}
    }
}

#[tokio::test]
async fn an_upgrade_from_the_previous_schema_keeps_every_figure() {
    // Whole seconds: PostgreSQL rounds a timestamp's nanoseconds to
    // microseconds where the ingest parser truncates them.
    let now = chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 0);
    let events = traffic(now);

    // The previous schema, filled as its ingest filled it.
    let old_db = tokio::task::spawn_blocking(empty_database)
        .await
        .expect("database");
    let old_url = db_url(&old_db);
    let pool = sqlx::PgPool::connect(&old_url).await.expect("pool");
    migrate_to(&pool, PREVIOUS_SCHEMA).await;
    fill_previous_schema(&pool, &events).await;
    pool.close().await;

    // Upgraded by starting the current binary on it.
    let upgraded = spawn_app_on(&old_url, old_db, |_| {}).await;
    let applied: i64 = sqlx::query_scalar("select max(version) from _sqlx_migrations")
        .fetch_one(&upgraded.pool)
        .await
        .expect("version");
    assert_eq!(applied, server::database::latest_migration());

    // The same traffic sent to a fresh install through the API.
    let fresh = spawn_app().await;
    let fresh_key = fresh.ingest_key().await;
    for chunk in events.chunks(500) {
        let res = fresh
            .post_events(&fresh_key, &serde_json::Value::Array(chunk.to_vec()))
            .await;
        assert_eq!(
            res.status(),
            202,
            "{}",
            res.text().await.unwrap_or_default()
        );
    }
    let upgraded_key = upgraded.ingest_key().await;

    // Read both between two reads of the upgraded one, so that an hour
    // turning in between (which moves the windows) shows and is retried.
    let mut attempts = 0;
    let (before, fresh_figures) = loop {
        let before = figures(&upgraded, &upgraded_key).await;
        let fresh_figures = figures(&fresh, &fresh_key).await;
        let after = figures(&upgraded, &upgraded_key).await;
        attempts += 1;
        if before == after || attempts == 3 {
            break (before, fresh_figures);
        }
    };
    assert_eq!(
        before["kpis 30d"]["events"],
        serde_json::json!(events.len()),
        "every stored event counts"
    );
    assert!(
        before["group hours"]
            .as_array()
            .is_some_and(|h| !h.is_empty())
            && before["releases"].as_array().is_some_and(|r| r.len() == 8),
        "the backfill filled the tables added after 0007: {before:#}"
    );
    for (name, value) in before.as_object().expect("object") {
        assert_eq!(
            value, &fresh_figures[name],
            "{name}: the upgraded database differs from a fresh one fed the same events"
        );
    }
    upgraded.stop().await;
    fresh.stop().await;
}
