//! Backup types shared by the server and the browser.

use serde::{Deserialize, Serialize};

/// One backup in the catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BackupInfo {
    pub id: i64,
    /// File name under `<data-dir>/backups/`.
    pub name: String,
    /// manual, scheduled or safety.
    pub kind: String,
    /// running, ok or failed.
    pub status: String,
    /// File size in bytes.
    pub size: Option<i64>,
    /// SHA-256 of the file, hex.
    pub sha256: Option<String>,
    pub schema_version: Option<i64>,
    /// Rows per table.
    pub rows: std::collections::BTreeMap<String, i64>,
    pub error: Option<String>,
    pub created_by: Option<String>,
    pub created_at: String,
    pub finished_at: Option<String>,
    pub verified_at: Option<String>,
    pub verified_ok: Option<bool>,
}

impl BackupInfo {
    pub fn total_rows(&self) -> i64 {
        self.rows.values().sum()
    }

    pub fn events(&self) -> i64 {
        self.rows.get("events").copied().unwrap_or(0)
    }
}

/// Result of verifying a backup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct VerifyReport {
    pub id: i64,
    pub ok: bool,
    pub message: String,
    pub tables: usize,
    pub rows: u64,
}

/// Result of a restore.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RestoreReport {
    /// What was restored (a catalog name or an uploaded file's name).
    pub restored: String,
    /// The safety backup taken just before.
    pub safety_backup: BackupInfo,
    pub rows: u64,
    pub events: u64,
    pub seconds: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    Healthy,
    Warning,
    Critical,
}

impl HealthStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Healthy => "healthy",
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }
}

/// The dashboard's backup widget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupHealth {
    pub status: HealthStatus,
    /// When the newest successful backup finished.
    pub last_ok_at: Option<String>,
    pub last_ok_name: Option<String>,
    /// Seconds since then.
    pub age_seconds: Option<i64>,
    /// Next scheduled run, or none when the schedule is off.
    pub next_run: Option<String>,
    /// The schedule as configured (`02:00`, `every 6h`, `off`).
    pub schedule: String,
    /// The newest backup failed.
    pub last_failed: bool,
}
