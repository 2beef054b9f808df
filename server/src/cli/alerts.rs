//! `leitstand deadletters …` and `leitstand retention run`.

use std::process::ExitCode;

use app::alerts::actions::{self, Who};
use chrono::Utc;
use sqlx::PgPool;
use uuid::Uuid;

use super::fail;
use crate::config::{DeadLetterCommand, RetentionCommand};

const CLI: Who<'static> = Who {
    actor: "cli",
    ip: None,
};

fn id(s: &str) -> anyhow::Result<Uuid> {
    Uuid::parse_str(s.trim()).map_err(|_| anyhow::anyhow!("`{s}` is not a dead letter id"))
}

pub async fn dead_letters(cmd: DeadLetterCommand, pool: &PgPool) -> anyhow::Result<ExitCode> {
    match cmd {
        DeadLetterCommand::List { json } => {
            let list = app::alerts::store::dead_letters(pool, 1000)
                .await
                .map_err(fail)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else if list.is_empty() {
                println!("no dead letters");
            } else {
                for d in &list {
                    println!(
                        "{}  {}  {} → {}  {} attempts  last: {}{}",
                        d.id,
                        d.created_at.get(..19).unwrap_or(&d.created_at),
                        d.source,
                        d.destination,
                        d.attempts,
                        d.last_status.map(|s| format!("{s} ")).unwrap_or_default(),
                        d.last_error.as_deref().unwrap_or("")
                    );
                }
                println!("{} dead letter(s)", list.len());
            }
        }
        DeadLetterCommand::Replay { id: one, all: _ } => {
            let target = one.as_deref().map(id).transpose()?;
            let n = actions::replay(pool, CLI, target).await.map_err(fail)?;
            println!("queued {n} dead letter(s) again with a fresh schedule");
        }
        DeadLetterCommand::Discard {
            id: one,
            older_than,
        } => {
            let target = one.as_deref().map(id).transpose()?;
            let before = match older_than {
                Some(age) => Some(
                    Utc::now()
                        - app::alerts::schedule::parse_duration(&age)
                            .map_err(|e| anyhow::anyhow!("--older-than: {e}"))?,
                ),
                None => None,
            };
            let ids = actions::discard(pool, CLI, target, before)
                .await
                .map_err(fail)?;
            println!("discarded {} dead letter(s)", ids.len());
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn retention(
    cmd: RetentionCommand,
    pool: &PgPool,
    defaults: app::retention::Policy,
) -> anyhow::Result<ExitCode> {
    match cmd {
        RetentionCommand::Run { dry_run, json } => {
            let report = app::retention::store::run_audited(pool, defaults, dry_run, "cli", None)
                .await
                .map_err(fail)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                for line in report.lines() {
                    println!("{line}");
                }
                println!(
                    "{} {} rows in {:.1} s",
                    if dry_run { "would remove" } else { "removed" },
                    report.total_rows(),
                    report.seconds
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
