//! Audit log entries as shown on the Audit page.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub ip: Option<String>,
    pub details: serde_json::Value,
}

/// Filters of the Audit page (all optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AuditQuery {
    /// Actor contains this text.
    #[serde(default)]
    pub actor: String,
    /// Action starts with this text (e.g. `key.` or `auth.login_failed`).
    #[serde(default)]
    pub action: String,
    /// 24h, 7d, 30d, 365d (empty: 30d).
    #[serde(default)]
    pub range: String,
    /// Entries older than this id (paging).
    #[serde(default)]
    pub before: Option<i64>,
}

pub const AUDIT_PAGE: i64 = 100;
