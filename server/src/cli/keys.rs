//! `leitstand key create|list|revoke`.

use std::process::ExitCode;

use anyhow::Context;
use app::keys::Scope;
use app::keys::store as keys;
use app::services::store as services;
use sqlx::PgPool;

use crate::config::KeyCommand;

pub async fn run(cmd: KeyCommand, pool: &PgPool) -> anyhow::Result<ExitCode> {
    match cmd {
        KeyCommand::Create(args) => {
            let mut scopes = Vec::new();
            for raw in &args.scopes {
                let scope = Scope::parse(raw).with_context(|| {
                    format!("unknown scope `{raw}` (use ingest, read, backup, admin)")
                })?;
                scopes.push(scope);
            }
            let mut tx = pool.begin().await?;
            let service_id = match &args.service {
                Some(slug) => Some(services::ensure(&mut *tx, slug).await?),
                None => None,
            };
            let created = keys::create(&mut tx, &args.name, &scopes, service_id, "cli").await?;
            app::audit::store::record(
                &mut *tx,
                "cli",
                "key.create",
                Some(&created.info.prefix),
                None,
                serde_json::json!({ "name": created.info.name, "scopes": created.info.scopes }),
            )
            .await?;
            tx.commit().await?;
            if args.quiet {
                println!("{}", created.secret);
            } else {
                let scopes: Vec<&str> = created.info.scopes.iter().map(|s| s.as_str()).collect();
                println!(
                    "Created API key `{}` ({})",
                    created.info.name, created.info.prefix
                );
                println!("  scopes:  {}", scopes.join(", "));
                if let Some(service) = &created.info.service {
                    println!("  service: {service} (events for other services are refused)");
                }
                println!();
                println!("  {}", created.secret);
                println!();
                println!("Store it now: it is shown this once and cannot be recovered.");
            }
        }
        KeyCommand::List => {
            let list = keys::list(pool).await?;
            if list.is_empty() {
                println!(
                    "no API keys; create one with `leitstand key create --name NAME --scopes ingest`"
                );
            }
            for k in list {
                let scopes: Vec<&str> = k.scopes.iter().map(|s| s.as_str()).collect();
                let state = match &k.revoked_at {
                    Some(at) => format!("revoked {at}"),
                    None => "active".to_owned(),
                };
                println!(
                    "{:<14} {:<24} {:<26} {:<12} last used {:<26} {}",
                    k.prefix,
                    k.name,
                    scopes.join(","),
                    k.service.as_deref().unwrap_or("-"),
                    k.last_used_at.as_deref().unwrap_or("never"),
                    state
                );
            }
        }
        KeyCommand::Revoke { key } => {
            let prefix = keys::revoke(pool, &key).await?;
            app::audit::store::record(
                pool,
                "cli",
                "key.revoke",
                Some(&prefix),
                None,
                serde_json::json!({}),
            )
            .await?;
            println!("revoked {prefix}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
