//! Writing a backup file (a consistent snapshot of every table, streamed
//! with COPY), and reading one back to check it.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use sqlx::{PgConnection, PgPool};
use tokio::sync::mpsc;

use super::catalog::{begin_row, fail_row, finish_row, get, schema_version};
use super::{BackupSettings, Kind, TABLES, ensure_dir, file_error, quote_ident, storage_error};
use crate::backups::format::{self, BackupWriter, FormatError, Manifest, Written};
use crate::backups::types::{BackupInfo, VerifyReport};
use crate::error::{AppError, AppResult};

/// Takes a backup. `slot` makes a scheduled run happen once however many
/// processes try: returns `None` when another process has the slot.
#[tracing::instrument(skip_all, fields(kind = kind.as_str()))]
pub async fn create(
    pool: &PgPool,
    settings: &BackupSettings,
    kind: Kind,
    actor: &str,
    ip: Option<IpAddr>,
    slot: Option<DateTime<Utc>>,
) -> AppResult<Option<BackupInfo>> {
    let Some((id, name)) = begin_row(pool, kind, actor, slot).await? else {
        return Ok(None);
    };
    let started = Instant::now();
    // Everything that can fail from here on marks the backup failed with
    // its reason (an unwritable directory, a full disk, the database).
    let result = async {
        ensure_dir(&settings.dir).await?;
        let mut tx = pool.begin().await?;
        sqlx::query("set transaction isolation level repeatable read, read only")
            .execute(&mut *tx)
            .await?;
        let written = write_snapshot(&mut tx, settings.path_of(&name), kind).await?;
        tx.commit().await?;
        Ok::<_, AppError>(written)
    }
    .await;
    match result {
        Ok(written) => {
            finish_row(pool, id, &written).await?;
            tracing::info!(
                backup = %name,
                bytes = written.size,
                rows = written.manifest.total_rows(),
                seconds = started.elapsed().as_secs_f64(),
                "backup written"
            );
            crate::audit::store::record(
                pool,
                actor,
                "backup.create",
                Some(&name),
                ip,
                serde_json::json!({
                    "kind": kind.as_str(),
                    "bytes": written.size,
                    "rows": written.manifest.total_rows(),
                }),
            )
            .await?;
            Ok(Some(get(pool, id).await?))
        }
        Err(e) => {
            fail_row(pool, id, &e.to_string()).await;
            Err(e)
        }
    }
}

enum SnapshotPart {
    Begin(String, Vec<String>),
    Data(Vec<u8>),
    End,
    Finish(Box<Manifest>),
}

/// COPY text gathered before it goes to the writer.
const SEND_AT: usize = 64 * 1024;
/// Chunks on their way to the file at most.
const IN_FLIGHT: usize = 4;

/// An emptied chunk buffer back from the writer, or a new one. Room for a
/// chunk and the COPY message that crosses its end (a row; a longer row
/// grows it once).
fn chunk_buffer(spent: &mut mpsc::Receiver<Vec<u8>>) -> Vec<u8> {
    spent
        .try_recv()
        .unwrap_or_else(|_| Vec::with_capacity(SEND_AT + 16 * 1024))
}

/// The columns of a table, in order.
pub(super) async fn columns(conn: &mut PgConnection, table: &str) -> AppResult<Vec<String>> {
    Ok(sqlx::query_scalar!(
        r#"select attname::text as "name!" from pg_attribute
           where attrelid = $1::text::regclass and attnum > 0 and not attisdropped
             and attgenerated = ''
           order by attnum"#,
        table
    )
    .fetch_all(&mut *conn)
    .await?)
}

/// Streams every table with COPY into a new backup file. Runs in the
/// caller's transaction, which decides what snapshot is seen.
pub(super) async fn write_snapshot(
    conn: &mut PgConnection,
    path: PathBuf,
    kind: Kind,
) -> AppResult<Written> {
    let schema_version = schema_version(&mut *conn).await?;
    let range =
        sqlx::query!(r#"select min(occurred_at) as "from", max(occurred_at) as "to" from events"#)
            .fetch_one(&mut *conn)
            .await?;
    let probe_range = sqlx::query!(
        r#"select min(checked_at) as "from", max(checked_at) as "to" from probe_results"#
    )
    .fetch_one(&mut *conn)
    .await?;
    let manifest = Manifest {
        format: format::FORMAT_VERSION,
        schema_version,
        created_at: Utc::now().to_rfc3339(),
        leitstand_version: env!("CARGO_PKG_VERSION").to_owned(),
        kind: kind.as_str().to_owned(),
        events_from: range.from.map(|t| t.to_rfc3339()),
        events_to: range.to.map(|t| t.to_rfc3339()),
        probe_results_from: probe_range.from.map(|t| t.to_rfc3339()),
        probe_results_to: probe_range.to.map(|t| t.to_rfc3339()),
        tables: Vec::new(),
    };

    // A few chunk buffers go round between the two sides (written chunks
    // come back emptied), so a backup allocates them once instead of once
    // per chunk: a server's memory after a backup is what this holds, not
    // every chunk the allocator happened to keep.
    let (tx, mut rx) = mpsc::channel::<SnapshotPart>(IN_FLIGHT);
    let (spent_tx, mut spent_rx) = mpsc::channel::<Vec<u8>>(IN_FLIGHT + 1);
    let writer = tokio::task::spawn_blocking(move || -> std::io::Result<Written> {
        let mut w = BackupWriter::create(&path)?;
        let step = |w: &mut BackupWriter, msg: SnapshotPart| -> std::io::Result<Option<Manifest>> {
            match msg {
                SnapshotPart::Begin(name, cols) => w.begin_table(&name, &cols)?,
                SnapshotPart::Data(mut d) => {
                    w.data(&d)?;
                    d.clear();
                    // Full or gone: the feeding side makes do without it.
                    let _ = spent_tx.try_send(d);
                }
                SnapshotPart::End => {
                    w.end_table()?;
                }
                SnapshotPart::Finish(m) => return Ok(Some(*m)),
            }
            Ok(None)
        };
        while let Some(msg) = rx.blocking_recv() {
            match step(&mut w, msg) {
                Ok(None) => {}
                Ok(Some(manifest)) => return w.finish(manifest),
                Err(e) => {
                    w.abandon();
                    return Err(e);
                }
            }
        }
        w.abandon();
        Err(std::io::Error::other("the backup was interrupted"))
    });

    let feed = async {
        for table in TABLES {
            let cols = columns(conn, table).await?;
            let list = cols
                .iter()
                .map(|c| quote_ident(c))
                .collect::<Vec<_>>()
                .join(", ");
            if tx
                .send(SnapshotPart::Begin((*table).to_owned(), cols))
                .await
                .is_err()
            {
                return Ok(());
            }
            let sql = format!("copy (select {list} from {}) to stdout", quote_ident(table));
            let mut stream = conn.copy_out_raw(&sql).await?;
            let mut buf = chunk_buffer(&mut spent_rx);
            while let Some(chunk) = stream.next().await {
                buf.extend_from_slice(&chunk?);
                if buf.len() >= SEND_AT {
                    let full = std::mem::replace(&mut buf, chunk_buffer(&mut spent_rx));
                    if tx.send(SnapshotPart::Data(full)).await.is_err() {
                        return Ok(());
                    }
                }
            }
            drop(stream);
            if (!buf.is_empty() && tx.send(SnapshotPart::Data(buf)).await.is_err())
                || tx.send(SnapshotPart::End).await.is_err()
            {
                return Ok(());
            }
        }
        let _ = tx.send(SnapshotPart::Finish(Box::new(manifest))).await;
        Ok::<_, AppError>(())
    };
    let fed = feed.await;
    drop(tx);
    let written = writer
        .await
        .map_err(|e| AppError::internal(format_args!("backup writer failed: {e}")))?;
    fed?;
    written.map_err(storage_error)
}

/// Reads a whole file and checks it (format, checksums, manifest);
/// returns the manifest and the file's SHA-256.
async fn read_checked(path: &Path) -> AppResult<Result<(Manifest, String), FormatError>> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || format::read(&path, |_| Ok(())))
        .await
        .map_err(|e| AppError::internal(format_args!("backup reader failed: {e}")))
}

/// Reads a whole file and checks it (format, checksums, manifest).
pub async fn validate_file(path: &Path) -> AppResult<Manifest> {
    read_checked(path)
        .await?
        .map(|(m, _)| m)
        .map_err(file_error)
}

/// Re-reads a backup and checks its manifest, every table checksum and
/// the file checksum in the catalog. Records the outcome.
pub async fn verify(
    pool: &PgPool,
    settings: &BackupSettings,
    id: i64,
    actor: &str,
    ip: Option<IpAddr>,
) -> AppResult<VerifyReport> {
    let info = get(pool, id).await?;
    if info.status != "ok" {
        return Err(AppError::Conflict(format!(
            "backup {} is {}, there is nothing to verify",
            info.name, info.status
        )));
    }
    let path = settings.path_of(&info.name);
    let result = if path.exists() {
        read_checked(&path).await?
    } else {
        Err(FormatError(format!(
            "the file {} is missing",
            path.display()
        )))
    };
    let report = match result {
        Ok((manifest, sha)) if info.sha256.as_deref() == Some(sha.as_str()) => VerifyReport {
            id,
            ok: true,
            message: format!(
                "{} tables, {} rows: every checksum matches",
                manifest.tables.len(),
                manifest.total_rows()
            ),
            tables: manifest.tables.len(),
            rows: manifest.total_rows(),
        },
        Ok((manifest, _)) => VerifyReport {
            id,
            ok: false,
            message: "the file's checksum differs from the one recorded when it was written".into(),
            tables: manifest.tables.len(),
            rows: manifest.total_rows(),
        },
        Err(e) => VerifyReport {
            id,
            ok: false,
            message: e.0,
            tables: 0,
            rows: 0,
        },
    };
    sqlx::query!(
        "update backups set verified_at = now(), verified_ok = $2 where id = $1",
        id,
        report.ok
    )
    .execute(pool)
    .await?;
    crate::audit::store::record(
        pool,
        actor,
        "backup.verify",
        Some(&info.name),
        ip,
        serde_json::json!({ "ok": report.ok, "message": report.message }),
    )
    .await?;
    Ok(report)
}
