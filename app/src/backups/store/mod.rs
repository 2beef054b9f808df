//! Taking, listing, verifying, deleting and restoring backups, in parts:
//! the [`catalog`] of backups, the [`snapshot`] that writes and checks
//! files, the [`restore`], and the [`scheduled`] runs with their retention.

mod catalog;
mod restore;
mod scheduled;
mod snapshot;

use std::path::{Path, PathBuf};

use chrono_tz::Tz;

use super::format::FormatError;
use super::schedule::{Retention, Schedule};
use crate::error::{AppError, AppResult};

pub use catalog::{delete, find, get, health, list, schema_version};
pub use restore::{check_restore_rate, restore, restore_from_catalog};
pub use scheduled::{apply_retention, run_scheduler};
pub use snapshot::{create, validate_file, verify};

/// The tables in a backup, in restore order (parents before children).
/// A restore replaces all of them except `audit_log`, which is merged:
/// the audit trail only ever grows.
pub const TABLES: &[&str] = &[
    "event_ids",
    "services",
    "events",
    "event_rollups",
    "event_rollups_daily",
    "error_groups",
    "error_group_users",
    "error_resolutions",
    "error_group_hourly",
    "releases",
    "users",
    "api_keys",
    "probes",
    "probe_results",
    "probe_rollups",
    "probe_rollups_daily",
    "probe_rollups_monthly",
    "incidents",
    "maintenance_windows",
    "recovery_runs",
    "alert_channels",
    "alert_rules",
    "alert_rule_channels",
    "event_subscriptions",
    "event_rollups_minute",
    "instance_settings",
    "audit_log",
];

/// Tables deliberately not in backups: the backup catalog itself (a
/// restore must not forget newer backups), sign-in sessions, the record of
/// GDPR erasures (a restore must not forget one), the migration history,
/// and the alert machinery's moving parts (see [`EMPTIED_BY_RESTORE`]).
pub const NOT_BACKED_UP: &[&str] = &[
    "backups",
    "sessions",
    "privacy_erasures",
    "_sqlx_migrations",
    "alert_states",
    "alert_signals",
    "deliveries",
    "delivery_attempts",
];

/// Not backed up, but emptied by a restore: the outbox, its attempts and
/// the rules' firing states refer to channels, rules and services as they
/// were before it (a restored rule starts quiet; queued notifications and
/// dead letters of the replaced data go).
pub const EMPTIED_BY_RESTORE: &[&str] = &[
    "alert_states",
    "alert_signals",
    "deliveries",
    "delivery_attempts",
];

/// Where backups go and when they are taken.
#[derive(Debug, Clone)]
pub struct BackupSettings {
    pub dir: PathBuf,
    pub schedule: Schedule,
    /// The schedule as the operator wrote it.
    pub schedule_text: String,
    pub retention: Retention,
    pub time_zone: Tz,
    /// Restores allowed per minute for one user or key; 0 = no limit.
    pub restores_per_minute: u32,
}

impl BackupSettings {
    pub fn path_of(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Manual,
    Scheduled,
    Safety,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Scheduled => "scheduled",
            Self::Safety => "safety",
        }
    }
}

/// Creates the backup directory, readable by its owner only (an existing
/// one is tightened to that too).
pub async fn ensure_dir(dir: &Path) -> AppResult<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
    })
    .await
    .map_err(AppError::internal)?
    .map_err(storage_error)
}

/// A file-system failure of the backup storage.
fn storage_error(e: std::io::Error) -> AppError {
    tracing::error!(error = %e, "backup file error");
    AppError::Unavailable(format!("backup storage: {e}"))
}

/// A backup file that is not what it should be.
fn file_error(e: FormatError) -> AppError {
    AppError::validation("file", e.0)
}

/// A table or column name, quoted for SQL.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
