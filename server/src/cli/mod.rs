//! The `leitstand` command line: dispatches subcommands.

mod alerts;
mod backups;
mod demo;
mod health;
mod keys;
mod status;
mod users;

use std::process::ExitCode;

use anyhow::Context;

use crate::config::{Cli, Command};
use crate::database::Database;
use crate::startup::Application;
use crate::telemetry;

/// An error for the command line: a validation error's message alone, an
/// internal error with its cause (the operator is the one reading it).
pub(crate) fn fail(e: app::error::AppError) -> anyhow::Error {
    match e {
        app::error::AppError::Validation { message, .. } => anyhow::anyhow!("{message}"),
        app::error::AppError::Internal { cause } => anyhow::anyhow!("internal error: {cause}"),
        other => anyhow::anyhow!("{other}"),
    }
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = match Cli::load() {
        Ok(cli) => cli,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let log_format = cli.settings.log.log_format;
    telemetry::init(log_format, &cli.settings.log.filter);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            // Once: as a log line where logs are machine-read, else as text.
            match log_format {
                crate::config::LogFormat::Json => tracing::error!("{e:#}"),
                crate::config::LogFormat::Text => eprintln!("error: {e:#}"),
            }
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let settings = cli.settings;
    match cli.command {
        Command::Serve => {
            tracing::debug!(?settings, "starting");
            let app = Application::build(settings).await?;
            app.run_until_stopped().await?;
        }
        Command::Migrate => {
            let db = Database::open(&settings).await.context("migrating")?;
            let version = crate::database::latest_migration();
            db.close().await;
            tracing::info!(version, "database migrated");
            println!("database is at migration {version}");
        }
        Command::Key(cmd) => {
            let db = Database::open(&settings).await?;
            let result = keys::run(cmd, &db.pool).await;
            db.close().await;
            return result;
        }
        Command::User(cmd) => {
            let db = Database::open(&settings).await?;
            let result = users::run(cmd, &db.pool).await;
            db.close().await;
            return result;
        }
        Command::Privacy(cmd) => {
            let db = Database::open(&settings).await?;
            let result = privacy(cmd, &db.pool).await;
            db.close().await;
            return result;
        }
        Command::Backup(cmd) => {
            let db = Database::open(&settings).await?;
            let result = backups::run(cmd, &db.pool, &settings.backup_settings()).await;
            db.close().await;
            return result;
        }
        Command::Status(args) => return status::run(args, &settings).await,
        Command::Health(args) => return health::run(args, &settings).await,
        Command::DeadLetters(cmd) => {
            let db = Database::open(&settings).await?;
            let result = alerts::dead_letters(cmd, &db.pool).await;
            db.close().await;
            return result;
        }
        Command::Retention(cmd) => {
            let defaults = settings.retention_policy()?;
            let db = Database::open(&settings).await?;
            let result = alerts::retention(cmd, &db.pool, defaults).await;
            db.close().await;
            return result;
        }
        Command::Service(crate::config::ServiceCommand::Dsn { slug, rotate }) => {
            let base = settings
                .http
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{}", settings.http.listen));
            let db = Database::open(&settings).await?;
            let result = service_dsn(&db.pool, &slug, rotate, &base).await;
            db.close().await;
            return result;
        }
        Command::Demo(args) => {
            let db = Database::open(&settings).await?;
            let result = demo::run(args, &db.pool).await;
            db.close().await;
            return result;
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn service_dsn(
    pool: &sqlx::PgPool,
    slug: &str,
    rotate: bool,
    base: &str,
) -> anyhow::Result<ExitCode> {
    let mut tx = pool.begin().await?;
    let id = app::services::store::ensure(&mut *tx, slug)
        .await
        .map_err(fail)?;
    if rotate {
        app::audit::store::record(
            &mut *tx,
            "cli",
            "service.dsn_rotate",
            Some(slug),
            None,
            serde_json::json!({}),
        )
        .await
        .map_err(fail)?;
    }
    let key = app::services::store::dsn_key(&mut tx, id, rotate)
        .await
        .map_err(fail)?;
    tx.commit().await?;
    println!("{}", app::services::types::dsn(base, &key, id));
    Ok(ExitCode::SUCCESS)
}

async fn privacy(
    cmd: crate::config::PrivacyCommand,
    pool: &sqlx::PgPool,
) -> anyhow::Result<ExitCode> {
    use crate::config::PrivacyCommand;
    match cmd {
        PrivacyCommand::Export { user } => {
            let events = app::privacy::store::export(pool, &user)
                .await
                .map_err(fail)?;
            app::audit::store::record(
                pool,
                "cli",
                "privacy.export",
                Some(&user),
                None,
                serde_json::json!({ "events": events.len() }),
            )
            .await?;
            println!(
                "{}",
                serde_json::to_string_pretty(
                    &serde_json::json!({ "user": user, "events": events })
                )?
            );
        }
        PrivacyCommand::Erase { user } => {
            let n = app::privacy::store::erase(pool, &user, "cli")
                .await
                .map_err(fail)?;
            app::audit::store::record(
                pool,
                "cli",
                "privacy.erase",
                Some(&user),
                None,
                serde_json::json!({ "events": n }),
            )
            .await?;
            println!("erased {n} events of {user}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
