//! Event types shared by server and browser.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Severity, ordered: `Debug < Info < Warning < Error < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Debug,
    Info,
    Warning,
    Error,
    Critical,
}

impl Level {
    pub const ALL: [Level; 5] = [
        Level::Debug,
        Level::Info,
        Level::Warning,
        Level::Error,
        Level::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
            Level::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// The value stored in the `level smallint` column.
    pub fn as_i16(self) -> i16 {
        self as i16
    }

    /// The level stored as `v`; None for a value no level has.
    pub fn from_i16(v: i16) -> Option<Self> {
        match v {
            0 => Some(Level::Debug),
            1 => Some(Level::Info),
            2 => Some(Level::Warning),
            3 => Some(Level::Error),
            4 => Some(Level::Critical),
            _ => None,
        }
    }

    /// Error events are `error` or `critical`.
    pub fn is_error(self) -> bool {
        self >= Level::Error
    }
}

/// The kind classes the rollups count separately.
pub fn is_fix_kind(kind: &str) -> bool {
    kind == "fix" || kind.starts_with("fix.")
}

pub fn is_deploy_kind(kind: &str) -> bool {
    kind == "deploy" || kind.starts_with("deploy.")
}

/// A validated event, ready to store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewEvent {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub service: String,
    pub feature: String,
    pub kind: String,
    pub level: Level,
    pub message: String,
    /// Given by the client, or derived for error events (see `fingerprint`).
    pub fingerprint: Option<String>,
    pub release: Option<String>,
    pub environment: Option<String>,
    pub user: Option<String>,
    pub attributes: serde_json::Value,
    /// The full report an SDK sent (a Sentry event), zstd-compressed JSON,
    /// kept beside the event rather than in its attributes.
    #[serde(skip)]
    pub payload: Option<Vec<u8>>,
}

/// What an ingest request achieved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IngestOutcome {
    pub accepted: u64,
    pub duplicates: u64,
}

/// A stored event as shown in lists and the live stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EventView {
    pub id: Uuid,
    pub seq: i64,
    pub occurred_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub service: String,
    pub feature: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub level: Level,
    pub message: String,
    pub fingerprint: Option<String>,
    pub release: Option<String>,
    pub environment: Option<String>,
    pub user: Option<String>,
    pub attributes: serde_json::Value,
}

/// Events shown per explorer page.
pub const PAGE_SIZE: i64 = 50;

/// The explorer's filters, as they appear in the URL.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EventQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature: Option<String>,
    /// Minimum level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    /// Type prefix, e.g. `payment.`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Text the message contains (case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// The events of one error group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// Time range: 1h, 24h, 7d, 30d, 365d (empty: 24h). Always encoded,
    /// so the query never serialises to nothing.
    #[serde(default)]
    pub range: String,
    /// Keyset cursor: where the previous page ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// The explorer's time ranges.
pub const EVENT_RANGES: &[(&str, &str)] = &[
    ("1h", "last hour"),
    ("24h", "last 24 hours"),
    ("7d", "last 7 days"),
    ("30d", "last 30 days"),
    ("365d", "last year"),
];

impl EventQuery {
    /// `[from, to)` of the range; `to` includes events up to a day ahead.
    pub fn window(&self, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        let back = match self.range.as_str() {
            "1h" => chrono::Duration::hours(1),
            "7d" => chrono::Duration::days(7),
            "30d" => chrono::Duration::days(30),
            "365d" => chrono::Duration::days(366),
            _ => chrono::Duration::hours(24),
        };
        (now - back, now + chrono::Duration::days(1))
    }

    /// The query string (without `?`), for links.
    pub fn to_query_string(&self) -> String {
        let mut parts = Vec::new();
        let mut push = |k: &str, v: Option<&str>| {
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                parts.push(format!("{k}={}", encode(v)));
            }
        };
        push("service", self.service.as_deref());
        push("feature", self.feature.as_deref());
        push("level", self.level.map(Level::as_str));
        push("kind", self.kind.as_deref());
        push("q", self.q.as_deref());
        push("fingerprint", self.fingerprint.as_deref());
        push("range", Some(self.range.as_str()));
        push("cursor", self.cursor.as_deref());
        parts.join("&")
    }
}

/// Percent-encodes a query-string value.
pub fn encode(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A page of the explorer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventPage {
    pub events: Vec<EventView>,
    /// Cursor of the next (older) page, if there is one.
    pub next: Option<String>,
    /// Stream cursor read before the page: a live tail resumes from it.
    pub cursor: i64,
}

/// Cursor text: `<RFC 3339 time>_<uuid>`.
pub fn format_cursor(t: DateTime<Utc>, id: Uuid) -> String {
    format!(
        "{}_{}",
        t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        id
    )
}

pub fn parse_cursor(s: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let (t, id) = s.rsplit_once('_')?;
    let t = DateTime::parse_from_rfc3339(t).ok()?.with_timezone(&Utc);
    Some((t, Uuid::parse_str(id).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let t = DateTime::parse_from_rfc3339("2026-11-22T10:15:30.123456Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        let id = Uuid::nil();
        assert_eq!(parse_cursor(&format_cursor(t, id)), Some((t, id)));
        assert_eq!(parse_cursor("garbage"), None);
    }

    #[test]
    fn queries_render_to_urls() {
        let q = EventQuery {
            service: Some("shop".into()),
            level: Some(Level::Error),
            q: Some("card declined".into()),
            ..Default::default()
        };
        assert_eq!(
            q.to_query_string(),
            "service=shop&level=error&q=card%20declined"
        );
    }

    #[test]
    fn levels_order_by_severity() {
        assert!(Level::Critical > Level::Error && Level::Error > Level::Warning);
        assert!(Level::Error.is_error() && !Level::Warning.is_error());
    }
}

/// The newest events and the cursor to resume the live stream from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveSnapshot {
    /// Newest first.
    pub events: Vec<EventView>,
    /// Highest committed cursor when this was read.
    pub cursor: i64,
}

/// Choices for the explorer's filter fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Facets {
    pub services: Vec<String>,
    pub features: Vec<String>,
}

/// What a live stream wants to see.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamFilter {
    pub service: Option<String>,
    pub min_level: Option<Level>,
    pub kind_prefix: Option<String>,
}

impl StreamFilter {
    /// Whether an event of this service, type and level passes.
    pub fn admits(&self, service: &str, kind: &str, level: Level) -> bool {
        self.service.as_ref().is_none_or(|s| s == service)
            && self.min_level.is_none_or(|l| level >= l)
            && self
                .kind_prefix
                .as_ref()
                .is_none_or(|p| kind.starts_with(p.as_str()))
    }
}

/// Events the dashboard's live widget shows.
pub const LIVE_SHOWN: usize = 20;

/// The state of the browser's live connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveConnection {
    Connecting,
    Live,
    Reconnecting,
}
