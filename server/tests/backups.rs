//! Backups and restore against a real database and real files.

use std::time::Duration;

use app::backups::format::{BackupWriter, FORMAT_VERSION, Manifest};
use app::keys::Scope;
use chrono::Utc;
use serde_json::{Value, json};

use crate::helpers::*;

/// Every table's checksum except the audit log (which a restore appends
/// to). Keys' last-use times are cleared first: the test's own requests
/// change them.
async fn data_checksums(app: &TestApp) -> std::collections::BTreeMap<String, String> {
    sqlx::query("update api_keys set last_used_at = null")
        .execute(&app.pool)
        .await
        .expect("clear last use");
    let mut sums = crate::helpers::content_checksums(&app.pool).await;
    sums.remove("audit_log");
    sums
}

async fn dashboard_at(
    app: &TestApp,
    now: chrono::DateTime<Utc>,
) -> app::dashboard::types::Dashboard {
    let mut d = app::dashboard::store::load(
        &app.pool,
        &app.state.kpi,
        &app::dashboard::types::DashboardQuery {
            range: app::dashboard::window::Range::Month,
            service: None,
        },
        now,
    )
    .await
    .expect("dashboard");
    d.generated_at = String::new();
    d
}

/// Back-fills about `n` demo events (plus the generator's planned
/// incidents); returns the number of events stored now.
async fn backfill(app: &TestApp, n: u64, seed: u64) -> i64 {
    let stored = app::demo::backfill(&app.state.ingest, n, seed, Utc::now())
        .await
        .expect("backfill");
    assert!(stored >= n);
    event_count(app).await
}

async fn event_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from events")
        .fetch_one(&app.pool)
        .await
        .expect("count")
}

async fn create_backup(app: &TestApp, key: &str) -> Value {
    let res = app.post_as("/api/v1/backups", key).await;
    assert_eq!(res.status(), 201, "create");
    res.json().await.expect("json")
}

async fn restore_id(app: &TestApp, key: &str, id: i64) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/backups/{id}/restore")))
        .bearer_auth(key)
        .timeout(Duration::from_secs(300))
        .send()
        .await
        .expect("sent")
}

async fn restore_body(app: &TestApp, key: &str, body: Vec<u8>) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/backups/restore"))
        .bearer_auth(key)
        .body(body)
        .timeout(Duration::from_secs(300))
        .send()
        .await
        .expect("sent")
}

async fn backup_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from backups")
        .fetch_one(&app.pool)
        .await
        .expect("count")
}

fn backup_path(app: &TestApp, b: &Value) -> std::path::PathBuf {
    app.state.backups.path_of(b["name"].as_str().expect("name"))
}

#[tokio::test]
async fn a_round_trip_of_100k_events_restores_identical_data_and_kpis() {
    let app = spawn_app().await;
    let admin = app.key(&[Scope::Admin], None).await;
    let stored = backfill(&app, 100_000, 11).await;
    let before = data_checksums(&app).await;
    let now = Utc::now();
    let kpis_before = dashboard_at(&app, now).await;
    assert_eq!(before.len(), app::backups::store::TABLES.len() - 1);

    let b = create_backup(&app, &admin).await;
    assert_eq!(b["status"], "ok");
    assert_eq!(b["kind"], "manual");
    assert_eq!(b["rows"]["events"], stored);
    assert!(backup_path(&app, &b).exists());

    // Change everything a restore must undo.
    let later = backfill(&app, 5_000, 12).await;
    sqlx::query("update error_groups set ignored = true")
        .execute(&app.pool)
        .await
        .expect("update");
    let later_key = app.key(&[Scope::Read], None).await;
    assert_ne!(data_checksums(&app).await, before);

    let res = restore_id(&app, &admin, b["id"].as_i64().expect("id")).await;
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let report: Value = res.json().await.expect("json");
    assert_eq!(report["events"], stored);
    assert_eq!(report["safety_backup"]["kind"], "safety");
    assert_eq!(report["safety_backup"]["rows"]["events"], later);

    assert_eq!(
        data_checksums(&app).await,
        before,
        "data identical after the round trip"
    );
    assert_eq!(dashboard_at(&app, now).await, kpis_before, "KPIs identical");
    // The key created after the backup is gone; the restoring key still works.
    let res = app.get_as("/api/v1/dashboard", &later_key).await;
    assert_eq!(res.status(), 401);
    // Ingest goes on after a restore (cached service ids were dropped).
    let ingest = app.ingest_key().await;
    assert_eq!(
        app.post_events(
            &ingest,
            &json!({ "service": "brand-new", "message": "after" })
        )
        .await
        .status(),
        202
    );
    // The audit log kept everything and recorded the restore.
    let actions: Vec<String> = sqlx::query_scalar("select action from audit_log order by id")
        .fetch_all(&app.pool)
        .await
        .expect("audit");
    assert!(actions.contains(&"backup.create".to_owned()), "{actions:?}");
    assert!(
        actions.contains(&"backup.restore".to_owned()),
        "{actions:?}"
    );

    // Restoring the safety backup brings the later state back.
    let safety = report["safety_backup"]["id"].as_i64().expect("id");
    let res = restore_id(&app, &admin, safety).await;
    assert_eq!(res.status(), 200);
    let events: i64 = sqlx::query_scalar("select count(*) from events where message <> 'after'")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(events, later);
}

#[tokio::test]
async fn damaged_foreign_and_newer_files_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let admin = app.key(&[Scope::Admin], None).await;
    backfill(&app, 2_000, 3).await;
    let b = create_backup(&app, &admin).await;
    let good = std::fs::read(backup_path(&app, &b)).expect("file");
    backfill(&app, 100, 4).await;
    let before = data_checksums(&app).await;
    let backups_before = backup_count(&app).await;

    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x01;
    let truncated = good[..good.len() * 2 / 3].to_vec();
    let random: Vec<u8> = (0..50_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();

    // A well-formed backup from a newer schema.
    let dir = tempfile::tempdir().expect("dir");
    let newer_path = dir.path().join("newer.lsbackup");
    let mut w = BackupWriter::create(&newer_path).expect("writer");
    w.begin_table("services", &["id".into(), "slug".into(), "name".into()])
        .expect("begin");
    w.data(b"1\tfuture\tFuture\n").expect("data");
    w.end_table().expect("end");
    w.finish(Manifest {
        format: FORMAT_VERSION,
        schema_version: 99_999_999_999_999,
        created_at: Utc::now().to_rfc3339(),
        leitstand_version: "99.0.0".into(),
        kind: "manual".into(),
        events_from: None,
        events_to: None,
        probe_results_from: None,
        probe_results_to: None,
        tables: Vec::new(),
    })
    .expect("finish");
    let newer = std::fs::read(&newer_path).expect("file");

    for (what, body, needle) in [
        ("flipped byte", flipped, "damaged"),
        ("truncated", truncated, "truncated"),
        ("random", random, "not a Leitstand backup"),
        ("newer schema", newer, "newer Leitstand"),
        ("empty", Vec::new(), "not a Leitstand backup"),
    ] {
        let res = restore_body(&app, &admin, body).await;
        assert_eq!(res.status(), 422, "{what}");
        let body: Value = res.json().await.expect("json");
        let message = body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(message.contains(needle), "{what}: {message}");
        assert_eq!(data_checksums(&app).await, before, "{what} changed data");
        assert_eq!(
            backup_count(&app).await,
            backups_before,
            "{what}: no safety backup before validation"
        );
    }
    let failures: i64 =
        sqlx::query_scalar("select count(*) from audit_log where action = 'backup.restore_failed'")
            .fetch_one(&app.pool)
            .await
            .expect("audit");
    assert_eq!(failures, 5);
    // No uploads are left behind.
    let leftovers = std::fs::read_dir(&app.state.backups.dir)
        .expect("dir")
        .filter(|e| {
            e.as_ref()
                .map(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
                .unwrap_or(false)
        })
        .count();
    assert_eq!(leftovers, 0);
}

#[tokio::test]
async fn verify_finds_a_damaged_file_on_disk() {
    let app = spawn_app().await;
    let key = app.key(&[Scope::Backup], None).await;
    backfill(&app, 1_000, 5).await;
    let b = create_backup(&app, &key).await;
    let id = b["id"].as_i64().expect("id");
    let verify = || async {
        let res = app
            .post_as(&format!("/api/v1/backups/{id}/verify"), &key)
            .await;
        assert_eq!(res.status(), 200);
        res.json::<Value>().await.expect("json")
    };
    let ok = verify().await;
    assert_eq!(ok["ok"], true, "{ok}");
    let path = backup_path(&app, &b);
    let mut bytes = std::fs::read(&path).expect("file");
    let last = bytes.len() - 3;
    bytes[last] ^= 0x10;
    std::fs::write(&path, bytes).expect("write");
    let bad = verify().await;
    assert_eq!(bad["ok"], false, "{bad}");
    // A backup-scoped key may not restore or delete.
    assert_eq!(restore_id(&app, &key, id).await.status(), 403);
    let res = app.delete_as(&format!("/api/v1/backups/{id}"), &key).await;
    assert_eq!(res.status(), 403);
    // Download (admins only: the file holds every password and key hash)
    // streams the file as stored.
    let res = app
        .get_as(&format!("/api/v1/backups/{id}/download"), &key)
        .await;
    assert_eq!(res.status(), 403, "a backup-scoped key may not download");
    let admin = app.key(&[Scope::Admin], None).await;
    let res = app
        .get_as(&format!("/api/v1/backups/{id}/download"), &admin)
        .await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap_or_default()
            .contains(".lsbackup")
    );
    assert_eq!(
        res.bytes().await.expect("body").len() as u64,
        std::fs::metadata(&path).expect("meta").len()
    );
}

#[tokio::test]
async fn a_restore_killed_in_the_middle_leaves_the_data_unchanged() {
    let app = spawn_app().await;
    let admin = app.key(&[Scope::Admin], None).await;
    backfill(&app, 100_000, 21).await;
    let b = create_backup(&app, &admin).await;
    backfill(&app, 1_000, 22).await;
    let before = data_checksums(&app).await;

    // Kill the restore's connection while it loads events.
    let killer = {
        let pool = app.pool.clone();
        tokio::spawn(async move {
            for _ in 0..30_000 {
                let killed: Vec<bool> = sqlx::query_scalar(
                    "select pg_terminate_backend(pid) from pg_stat_activity
                     where application_name = 'leitstand-restore' and query ilike 'copy \"events\"%'
                       and datname = current_database()",
                )
                .fetch_all(&pool)
                .await
                .unwrap_or_default();
                if killed.contains(&true) {
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            false
        })
    };
    let res = restore_id(&app, &admin, b["id"].as_i64().expect("id")).await;
    assert!(killer.await.expect("killer"), "the restore was interrupted");
    assert!(res.status().is_server_error(), "status {}", res.status());
    assert_eq!(data_checksums(&app).await, before, "nothing changed");
    // The server works on.
    let res = restore_id(&app, &admin, b["id"].as_i64().expect("id")).await;
    assert_eq!(res.status(), 200);
    let events: i64 = sqlx::query_scalar("select count(*) from events")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(Some(events), b["rows"]["events"].as_i64());
}

#[tokio::test]
async fn a_backup_taken_during_ingest_is_consistent() {
    let app = spawn_app().await;
    let admin = app.key(&[Scope::Admin], None).await;
    let ingest = app.ingest_key().await;
    let base = backfill(&app, 20_000, 31).await;
    let stop = tokio_util::sync::CancellationToken::new();
    let writer = {
        let stop = stop.clone();
        let client = app.client.clone();
        let url = app.url("/api/v1/events");
        tokio::spawn(async move {
            let mut sent = 0u64;
            while !stop.is_cancelled() {
                let batch: Vec<Value> = (0..200)
                    .map(|i| json!({ "service": "busy", "feature": format!("f{}", i % 7), "level": if i % 10 == 0 { "error" } else { "info" }, "message": "load" }))
                    .collect();
                let res = client
                    .post(&url)
                    .bearer_auth(&ingest)
                    .json(&batch)
                    .send()
                    .await
                    .expect("sent");
                assert_eq!(res.status(), 202);
                sent += 200;
            }
            sent
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let b = create_backup(&app, &admin).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.cancel();
    let sent = writer.await.expect("writer");
    assert!(sent > 0);
    let in_backup = b["rows"]["events"].as_i64().expect("rows");
    assert!(in_backup > base, "the backup saw some of the ingest");

    let res = restore_id(&app, &admin, b["id"].as_i64().expect("id")).await;
    assert_eq!(res.status(), 200);
    let (events, ids, hourly, daily): (i64, i64, i64, i64) = sqlx::query_as(
        "select (select count(*) from events), (select count(*) from event_ids),
                (select coalesce(sum(events), 0)::int8 from event_rollups),
                (select coalesce(sum(events), 0)::int8 from event_rollups_daily)",
    )
    .fetch_one(&app.pool)
    .await
    .expect("counts");
    assert_eq!(events, in_backup);
    assert_eq!(ids, events, "idempotency keys match events");
    assert_eq!(hourly, events, "hourly rollups match events");
    assert_eq!(daily, events, "daily rollups match events");
}

#[tokio::test]
async fn two_processes_take_each_scheduled_backup_once() {
    let first = spawn_app_with(|s| s.backups.backup_schedule = "every 2s".into()).await;
    let dir = first.state.backups.dir.clone();
    let second = spawn_app_on(&db_url(&first.db_name), String::new(), |s| {
        s.backups.backup_schedule = "every 2s".into();
        s.backups.backup_dir = Some(dir.clone());
    })
    .await;
    assert!(
        eventually(Duration::from_secs(20), || async {
            let n: i64 = sqlx::query_scalar(
                "select count(distinct slot) from backups where kind = 'scheduled' and status = 'ok'",
            )
            .fetch_one(&first.pool)
            .await
            .unwrap_or(0);
            n >= 3
        })
        .await,
        "scheduled backups ran"
    );
    second.stop().await;
    let per_slot: Vec<i64> =
        sqlx::query_scalar("select count(*) from backups where kind = 'scheduled' group by slot")
            .fetch_all(&first.pool)
            .await
            .expect("slots");
    assert!(per_slot.iter().all(|&n| n == 1), "{per_slot:?}");
}

#[tokio::test]
async fn retention_keeps_the_newest_scheduled_backups() {
    let app = spawn_app_with(|s| {
        s.backups.backup_schedule = "every 1s".into();
        s.backups.backup_keep = 2;
    })
    .await;
    assert!(
        eventually(Duration::from_secs(20), || async {
            let n: i64 = sqlx::query_scalar(
                "select count(*) from audit_log where action = 'backup.delete' and actor = 'scheduler'",
            )
            .fetch_one(&app.pool)
            .await
            .unwrap_or(0);
            n >= 2
        })
        .await,
        "old backups were deleted"
    );
    let kept: i64 = sqlx::query_scalar(
        "select count(*) from backups where kind = 'scheduled' and status = 'ok'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("count");
    assert!(kept <= 3, "kept {kept}");
    let files = std::fs::read_dir(&app.state.backups.dir)
        .expect("dir")
        .filter(|e| {
            e.as_ref()
                .map(|e| e.file_name().to_string_lossy().ends_with(".lsbackup"))
                .unwrap_or(false)
        })
        .count() as i64;
    assert!(files <= kept + 1, "{files} files for {kept} backups");
}

#[tokio::test]
async fn restores_are_limited_per_minute() {
    let app = spawn_app_with(|s| s.limits.restores_per_minute = 2).await;
    let admin = app.key(&[Scope::Admin], None).await;
    for _ in 0..2 {
        assert_eq!(
            restore_body(&app, &admin, b"nope".to_vec()).await.status(),
            422
        );
    }
    let res = restore_body(&app, &admin, b"nope".to_vec()).await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn the_cli_creates_lists_verifies_restores_and_deletes() {
    let app = spawn_app().await;
    let stored = backfill(&app, 500, 41).await;
    let url = db_url(&app.db_name);
    let dir = app.data_dir.path().to_string_lossy().into_owned();
    let cli = async |args: &[&str]| {
        let mut all = vec!["--data-dir", dir.as_str(), "--backup-schedule", "off"];
        all.extend_from_slice(args);
        run_cli(&url, &all).await
    };
    let (ok, out, err) = cli(&["backup", "create"]).await;
    assert!(ok, "{err}");
    let name = out.split_whitespace().next().expect("name").to_owned();
    assert!(name.ends_with(".lsbackup"), "{out}");
    let (ok, out, _) = cli(&["backup", "list"]).await;
    assert!(ok && out.contains(&name), "{out}");
    let (ok, out, err) = cli(&["backup", "verify", &name]).await;
    assert!(ok, "{out}{err}");
    assert!(out.contains("ok"), "{out}");
    backfill(&app, 100, 42).await;
    let (ok, out, err) = cli(&["backup", "restore", &name, "--yes"]).await;
    assert!(ok, "{err}");
    assert!(out.contains(&format!("{stored} events")), "{out}");
    let (ok, _, err) = cli(&["backup", "restore", "--file", "/etc/hostname", "--yes"]).await;
    assert!(!ok);
    assert!(err.contains("not a Leitstand backup"), "{err}");
    let (ok, _, err) = cli(&["backup", "delete", &name]).await;
    assert!(ok, "{err}");
    let (_, out, _) = cli(&["backup", "list", "--json"]).await;
    let list: Value = serde_json::from_str(&out).expect("json");
    assert!(
        list.as_array()
            .expect("array")
            .iter()
            .all(|b| b["name"] != name.as_str())
    );
    let events: i64 = sqlx::query_scalar("select count(*) from events")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(events, stored);
}

#[tokio::test]
async fn every_table_is_either_backed_up_or_deliberately_left_out() {
    let app = spawn_app().await;
    let tables: Vec<String> = sqlx::query_scalar(
        "select c.relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition",
    )
    .fetch_all(&app.pool)
    .await
    .expect("tables");
    for t in &tables {
        assert!(
            app::backups::store::TABLES.contains(&t.as_str())
                || app::backups::store::NOT_BACKED_UP.contains(&t.as_str()),
            "table {t} is neither in backups nor excluded on purpose"
        );
    }
}

/// What ingest derives from events besides the rollups, as text.
async fn derived_tables(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar(
        "select coalesce(json_agg(x order by x::text), '[]')::text from (
             select service_id, version, first_seen, last_seen, events, errors from releases) x
         union all
         select coalesce(json_agg(x order by x::text), '[]')::text from (
             select group_id, bucket, events from error_group_hourly) x
         union all
         select coalesce(json_agg(x order by x::text), '[]')::text from (
             select bucket, service_id, events, errors from event_rollups_minute
             where bucket >= now() - interval '23 hours') x",
    )
    .fetch_all(&app.pool)
    .await
    .expect("derived tables")
}

/// A backup from before releases and error-group hours existed (schema
/// 0012) restores with both filled in from its events, as an upgrade does.
#[tokio::test]
async fn a_backup_from_an_older_schema_restores_what_ingest_derives_from_events() {
    use app::backups::format::{FormatError, Item, read};
    let app = spawn_app().await;
    let admin = app.key(&[Scope::Admin], None).await;
    backfill(&app, 3_000, 21).await;
    let before = derived_tables(&app).await;
    assert!(
        before.iter().all(|t| t != "[]"),
        "demo traffic has releases, error groups and recent minutes: {before:?}"
    );
    let b = create_backup(&app, &admin).await;

    // The same backup as schema 0012 wrote it: without the tables added after.
    let dir = tempfile::tempdir().expect("dir");
    let old = dir.path().join("old.lsbackup");
    let mut w = BackupWriter::create(&old).expect("writer");
    let mut kept = Vec::new();
    let mut skip = false;
    let io = |e: std::io::Error| FormatError(e.to_string());
    let (manifest, _) = read(&backup_path(&app, &b), |item| {
        match item {
            Item::Table { name, columns } => {
                skip = matches!(
                    name,
                    "releases" | "error_group_hourly" | "event_rollups_minute"
                );
                if !skip {
                    w.begin_table(name, columns).map_err(io)?;
                }
            }
            Item::Data(chunk) if !skip => w.data(chunk).map_err(io)?,
            Item::End(_) if !skip => kept.push(w.end_table().map_err(io)?),
            _ => {}
        }
        Ok(())
    })
    .expect("read the backup");
    assert_eq!(
        kept.len() + 3,
        manifest.tables.len(),
        "three tables left out"
    );
    w.finish(Manifest {
        schema_version: 12,
        tables: kept,
        ..manifest
    })
    .expect("finish");

    let res = restore_body(&app, &admin, std::fs::read(&old).expect("file")).await;
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
    assert_eq!(
        derived_tables(&app).await,
        before,
        "releases, group hours and recent minutes derived again from the events"
    );
}
