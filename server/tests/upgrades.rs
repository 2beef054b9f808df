//! Upgrades: migrations run once however many processes start together; an
//! older binary refuses a schema a newer one migrated, and changes nothing.

use sqlx::{Connection, Executor};

use crate::helpers::{admin_url, db_url, drop_database_blocking, run_cli_code};

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
            std::thread::spawn(move || run_cli_code(&url, &["migrate"]))
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
    let (code, _, stderr) = run_cli_code(&url, &["migrate"]);
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
        let (code, _, stderr) = run_cli_code(&url, command);
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
