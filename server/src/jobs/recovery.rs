//! The watchdog's recovery actions: a command (an argv list, no shell) per
//! service, run when one of its probes has been down for a number of
//! checks, with a timeout, a cooldown and a limit of runs per hour, after
//! which it stops trying and says so. Actions come only from the config
//! file, never from the UI or the API: a web login can never run a command
//! on the host. Every run is stored and audited.
//!
//! The decision to run is taken in the database (`decide_recovery`, under a
//! per-service advisory lock), and the run's row is written before the
//! command starts, so two processes never run one service's action twice.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use app::probes::store::{RecoveryDecision, decide_recovery, finish_recovery};
use serde::Deserialize;
use sqlx::PgPool;

/// What the config file says (`[[recovery]]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoveryConfig {
    /// Service slug.
    pub service: String,
    /// Program and arguments, run without a shell.
    pub command: Vec<String>,
    /// Consecutive failed checks before the action runs.
    #[serde(default = "defaults::after_failures")]
    pub after_failures: u32,
    #[serde(default = "defaults::timeout_seconds")]
    pub timeout_seconds: u64,
    /// Seconds after a run before the next may start.
    #[serde(default = "defaults::cooldown_seconds")]
    pub cooldown_seconds: u64,
    #[serde(default = "defaults::max_runs_per_hour")]
    pub max_runs_per_hour: u32,
}

mod defaults {
    pub fn after_failures() -> u32 {
        3
    }
    pub fn timeout_seconds() -> u64 {
        60
    }
    pub fn cooldown_seconds() -> u64 {
        300
    }
    pub fn max_runs_per_hour() -> u32 {
        3
    }
}

impl RecoveryConfig {
    pub fn validate(&self) -> anyhow::Result<()> {
        app::services::validate_slug(&self.service)
            .map_err(|m| anyhow::anyhow!("recovery for `{}`: service {m}", self.service))?;
        if self.command.first().is_none_or(|p| p.trim().is_empty()) {
            anyhow::bail!("recovery for `{}`: command needs a program", self.service);
        }
        if self.after_failures == 0 || self.max_runs_per_hour == 0 {
            anyhow::bail!(
                "recovery for `{}`: after_failures and max_runs_per_hour must be at least 1",
                self.service
            );
        }
        if !(1..=3600).contains(&self.timeout_seconds) {
            anyhow::bail!(
                "recovery for `{}`: timeout_seconds must be 1 to 3600",
                self.service
            );
        }
        Ok(())
    }
}

pub use app::probes::store::GAVE_UP;

/// Largest output kept per run.
const MAX_OUTPUT: usize = 4096;

/// Recovery actions by service.
pub struct Recovery {
    pool: PgPool,
    actions: HashMap<String, RecoveryConfig>,
}

impl Recovery {
    pub fn new(pool: PgPool, actions: &[RecoveryConfig]) -> Self {
        Self {
            pool,
            actions: actions
                .iter()
                .map(|a| (a.service.clone(), a.clone()))
                .collect(),
        }
    }

    /// Runs the service's action if its probe has failed often enough and
    /// the cooldown and hourly limit allow it.
    pub async fn consider(&self, service_id: i64, service: &str, probe_id: i64, failures: i32) {
        let Some(action) = self.actions.get(service) else {
            return;
        };
        if failures < action.after_failures as i32 {
            return;
        }
        let decision = decide_recovery(
            &self.pool,
            service_id,
            probe_id,
            chrono::Duration::seconds(action.cooldown_seconds as i64),
            action.max_runs_per_hour,
        )
        .await;
        match decision {
            Ok(RecoveryDecision::Run(run_id)) => self.run(run_id, service, action).await,
            Ok(RecoveryDecision::Wait) => {}
            Ok(RecoveryDecision::GiveUp) => {
                tracing::error!(%service, "recovery action: {GAVE_UP}");
                let _ = app::audit::store::record(
                    &self.pool,
                    "watchdog",
                    "recovery.gave_up",
                    Some(service),
                    None,
                    serde_json::json!({ "max_runs_per_hour": action.max_runs_per_hour }),
                )
                .await;
            }
            Err(e) => tracing::warn!(%service, error = ?e, "recovery action: deciding failed"),
        }
    }

    async fn run(&self, run_id: i64, service: &str, action: &RecoveryConfig) {
        let started = Instant::now();
        let (exit_code, output, error) =
            run_command(&action.command, Duration::from_secs(action.timeout_seconds)).await;
        let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        tracing::warn!(%service, ?exit_code, ?error, duration_ms, "recovery action ran");
        let stored = finish_recovery(
            &self.pool,
            run_id,
            duration_ms,
            exit_code,
            output.as_deref(),
            error.as_deref(),
        )
        .await;
        if let Err(e) = stored {
            tracing::warn!(%service, error = ?e, "recording a recovery run failed");
        }
        let _ = app::audit::store::record(
            &self.pool,
            "watchdog",
            "recovery.run",
            Some(service),
            None,
            serde_json::json!({
                "command": action.command,
                "exit_code": exit_code,
                "duration_ms": duration_ms,
                "error": error,
            }),
        )
        .await;
    }
}

/// Runs `argv` without a shell; returns (exit code, first 4 KB of stdout
/// and stderr, error). A command that outlives `timeout` is killed.
pub async fn run_command(
    argv: &[String],
    timeout: Duration,
) -> (Option<i32>, Option<String>, Option<String>) {
    let Some((program, args)) = argv.split_first() else {
        return (None, None, Some("no command".into()));
    };
    let child = tokio::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    let child = match child {
        Ok(c) => c,
        Err(e) => return (None, None, Some(format!("cannot start `{program}`: {e}"))),
    };
    match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Err(_) => (
            None,
            None,
            Some(format!("killed after {} s", timeout.as_secs())),
        ),
        Ok(Err(e)) => (None, None, Some(format!("running `{program}` failed: {e}"))),
        Ok(Ok(out)) => {
            let mut text = out.stdout;
            text.extend_from_slice(&out.stderr);
            text.truncate(MAX_OUTPUT);
            let output = String::from_utf8_lossy(&text).into_owned();
            let error = (!out.status.success()).then(|| match out.status.code() {
                Some(code) => format!("exited with {code}"),
                None => "ended by a signal".to_owned(),
            });
            (out.status.code(), Some(output), error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_command_runs_without_a_shell_and_its_output_is_kept() {
        let argv = vec![
            "sh".to_owned(),
            "-c".to_owned(),
            "echo restarted; exit 3".to_owned(),
        ];
        let (code, output, error) = run_command(&argv, Duration::from_secs(10)).await;
        assert_eq!(code, Some(3));
        assert_eq!(output.as_deref(), Some("restarted\n"));
        assert_eq!(error.as_deref(), Some("exited with 3"));
        // No shell: the argument is one word, not a command line.
        let (_, output, _) = run_command(
            &["echo".to_owned(), "a; rm -rf /".to_owned()],
            Duration::from_secs(10),
        )
        .await;
        assert_eq!(output.as_deref(), Some("a; rm -rf /\n"));
    }

    #[tokio::test]
    async fn a_command_that_hangs_is_killed_and_a_missing_one_is_reported() {
        let (code, _, error) = run_command(
            &["sleep".to_owned(), "30".to_owned()],
            Duration::from_millis(200),
        )
        .await;
        assert_eq!(code, None);
        assert!(error.is_some_and(|e| e.starts_with("killed after")));
        let (_, _, error) = run_command(
            &["/nonexistent/leitstand-test".to_owned()],
            Duration::from_secs(1),
        )
        .await;
        assert!(error.is_some_and(|e| e.starts_with("cannot start")));
    }

    #[test]
    fn recovery_entries_are_checked() {
        let ok: RecoveryConfig =
            toml::from_str("service = \"shop\"\ncommand = [\"systemctl\", \"restart\", \"shop\"]")
                .expect("parses");
        assert!(ok.validate().is_ok());
        assert_eq!(
            (ok.after_failures, ok.cooldown_seconds, ok.max_runs_per_hour),
            (3, 300, 3)
        );
        let empty: RecoveryConfig =
            toml::from_str("service = \"shop\"\ncommand = []").expect("parses");
        assert!(empty.validate().is_err());
        assert!(
            toml::from_str::<RecoveryConfig>("service = \"shop\"\ncommand = [\"x\"]\nshell = true")
                .is_err()
        );
    }
}
