//! `leitstand user add|list`.

use std::io::BufRead;
use std::process::ExitCode;

use anyhow::Context;
use app::auth::Role;
use app::auth::store as users;
use sqlx::PgPool;

use crate::config::UserCommand;

pub async fn run(cmd: UserCommand, pool: &PgPool) -> anyhow::Result<ExitCode> {
    match cmd {
        UserCommand::Add { email, role, name } => {
            let role = Role::parse(&role)
                .with_context(|| format!("unknown role `{role}` (viewer, operator, admin)"))?;
            if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                eprint!(
                    "Password for {email} (input is shown; pipe it in to keep it off the screen): "
                );
            }
            let mut password = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut password)
                .context("reading the password from standard input")?;
            let password = password.trim_end_matches(['\n', '\r']);
            let mut tx = pool.begin().await?;
            let user = users::create_user(&mut *tx, &email, &name, password, role)
                .await
                .map_err(super::fail)?;
            app::audit::store::record(
                &mut *tx,
                "cli",
                "user.create",
                Some(&user.email),
                None,
                serde_json::json!({ "role": role }),
            )
            .await?;
            tx.commit().await?;
            println!("added {} ({})", user.email, user.role);
        }
        UserCommand::List => {
            for u in users::list_users(pool).await? {
                println!(
                    "{:<32} {:<9} {:<9} last sign-in {}",
                    u.email,
                    u.role.as_str(),
                    if u.disabled { "disabled" } else { "active" },
                    u.last_login_at.as_deref().unwrap_or("never")
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
