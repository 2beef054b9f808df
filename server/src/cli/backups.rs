//! `leitstand backup create|list|verify|restore|delete`.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use anyhow::bail;
use app::backups::store::{self, BackupSettings, Kind};
use sqlx::PgPool;

use crate::config::BackupCommand;

/// A size for the terminal: English, plain spaces.
fn bytes(n: i64) -> String {
    app::components::format::bytes(app::lang::Locale::en, n).replace('\u{a0}', " ")
}

pub async fn run(
    cmd: BackupCommand,
    pool: &PgPool,
    settings: &BackupSettings,
) -> anyhow::Result<ExitCode> {
    match cmd {
        BackupCommand::Create => {
            let b = store::create(pool, settings, Kind::Manual, "cli", None, None)
                .await
                .map_err(super::fail)?
                .ok_or_else(|| anyhow::anyhow!("the backup was not taken"))?;
            println!(
                "{}  {}  {} rows  {}",
                b.name,
                b.size.map(bytes).unwrap_or_default(),
                b.total_rows(),
                settings.path_of(&b.name).display()
            );
        }
        BackupCommand::List { json } => {
            let list = store::list(pool).await.map_err(super::fail)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else if list.is_empty() {
                println!("no backups; take one with `leitstand backup create`");
            } else {
                println!(
                    "{:>5}  {:<48} {:<9} {:<7} {:>10} {:>12}  created",
                    "id", "name", "kind", "status", "size", "events"
                );
                for b in list {
                    println!(
                        "{:>5}  {:<48} {:<9} {:<7} {:>10} {:>12}  {}",
                        b.id,
                        b.name,
                        b.kind,
                        b.status,
                        b.size.map(bytes).unwrap_or_else(|| "-".into()),
                        b.events(),
                        b.created_at
                    );
                }
            }
        }
        BackupCommand::Verify { backup } => {
            let b = store::find(pool, &backup).await.map_err(super::fail)?;
            let report = store::verify(pool, settings, b.id, "cli", None)
                .await
                .map_err(super::fail)?;
            if report.ok {
                println!("{}: ok, {}", b.name, report.message);
            } else {
                eprintln!("{}: FAILED, {}", b.name, report.message);
                return Ok(ExitCode::FAILURE);
            }
        }
        BackupCommand::Restore { backup, file, yes } => {
            let (path, label) = match (backup, file) {
                (_, Some(file)) => {
                    let label = file
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_else(|| file.display().to_string());
                    (file, label)
                }
                (Some(backup), None) => {
                    let b = store::find(pool, &backup).await.map_err(super::fail)?;
                    if b.status != "ok" {
                        bail!("backup {} is {}, it cannot be restored", b.name, b.status);
                    }
                    (settings.path_of(&b.name), b.name)
                }
                (None, None) => bail!("name a backup or give --file"),
            };
            if !yes {
                eprint!(
                    "This replaces all Leitstand data with {label} (a safety backup is taken first).\nType the backup's name to confirm: "
                );
                std::io::stderr().flush()?;
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line)?;
                if line.trim() != label {
                    bail!("not confirmed; nothing was changed");
                }
            }
            let report = store::restore(pool, settings, &path, &label, "cli", None)
                .await
                .map_err(|e| anyhow::anyhow!("{}; nothing was changed", super::fail(e)))?;
            println!(
                "restored {}: {} rows ({} events) in {:.1} s; safety backup: {}",
                report.restored,
                report.rows,
                report.events,
                report.seconds,
                report.safety_backup.name
            );
        }
        BackupCommand::Delete { backup } => {
            let b = store::find(pool, &backup).await.map_err(super::fail)?;
            store::delete(pool, settings, b.id, "cli", None)
                .await
                .map_err(super::fail)?;
            println!("deleted {}", b.name);
        }
    }
    Ok(ExitCode::SUCCESS)
}
