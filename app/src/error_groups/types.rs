//! Error groups as the Errors pages and the REST API show them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::events::{EventView, Level};

/// Groups per page of the Errors list.
pub const PAGE_SIZE: i64 = 50;
/// Groups one bulk action may change.
pub const MAX_BULK: usize = 500;

/// Where a group stands. Derived: resolved while no error came after the
/// latest resolution; ignored until reopened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum GroupStatus {
    #[default]
    Open,
    Resolved,
    Ignored,
}

impl GroupStatus {
    pub const ALL: [GroupStatus; 3] = [Self::Open, Self::Resolved, Self::Ignored];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Resolved => "resolved",
            Self::Ignored => "ignored",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// What a person or a key may do to groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupAction {
    Resolve,
    /// Resolved once the service reports a release other than the one the
    /// group was last seen in.
    ResolveInNextRelease,
    Ignore,
    Reopen,
}

impl GroupAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Resolve => "resolve",
            Self::ResolveInNextRelease => "resolve_in_next_release",
            Self::Ignore => "ignore",
            Self::Reopen => "reopen",
        }
    }
}

/// Order of the Errors list (always newest, then id, last).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupSort {
    #[default]
    LastSeen,
    Events,
    Users,
}

impl GroupSort {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LastSeen => "last_seen",
            Self::Events => "events",
            Self::Users => "users",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::LastSeen, Self::Events, Self::Users]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// Filters, order and page of the Errors list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupQuery {
    pub service: Option<String>,
    pub status: Option<GroupStatus>,
    pub release: Option<String>,
    pub environment: Option<String>,
    /// Text in the title (type or message).
    pub q: Option<String>,
    #[serde(default)]
    pub sort: GroupSort,
    /// Keyset cursor from the previous page's `next`.
    pub cursor: Option<String>,
}

/// One error group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct GroupSummary {
    pub id: i64,
    pub service: String,
    /// `Type: value`, or the message for message events.
    pub title: String,
    /// Where it happens: the top in-app frame, else the feature.
    pub culprit: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
    pub feature: String,
    pub events: i64,
    pub users: i64,
    pub first_seen: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
    pub status: GroupStatus,
    pub level: Level,
    pub first_release: Option<String>,
    pub last_release: Option<String>,
    /// Release named by "resolve in next release", while it waits.
    pub resolve_after_release: Option<String>,
    pub environments: Vec<String>,
    /// Error events per hour, the last 24 hours, oldest first.
    pub spark_24h: Vec<i64>,
    /// Error events per day, the last 30 days, oldest first.
    pub spark_30d: Vec<i64>,
}

/// The group's title from its latest error's type and message.
pub fn title(kind: &str, message: &str) -> String {
    let message = message.trim();
    if kind.is_empty() || kind == "message" {
        if message.is_empty() {
            "(no message)".into()
        } else {
            message.to_owned()
        }
    } else if message.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {message}")
    }
}

/// One page of the Errors list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupPage {
    pub groups: Vec<GroupSummary>,
    pub next: Option<String>,
    /// Services, releases and environments to filter by.
    pub services: Vec<String>,
    pub releases: Vec<String>,
    pub environments: Vec<String>,
}

/// One frame of a stack trace.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Frame {
    pub function: Option<String>,
    pub module: Option<String>,
    pub filename: Option<String>,
    pub abs_path: Option<String>,
    pub lineno: Option<i64>,
    pub colno: Option<i64>,
    pub in_app: bool,
    pub pre_context: Vec<String>,
    pub context_line: Option<String>,
    pub post_context: Vec<String>,
    /// Local variables as sent (already scrubbed): `[name, value]` pairs.
    #[cfg_attr(feature = "ssr", schema(value_type = Vec<Vec<String>>))]
    pub vars: Vec<(String, String)>,
}

/// One exception of a chain.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Exception {
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
    pub module: Option<String>,
    pub mechanism: Option<String>,
    pub handled: Option<bool>,
    /// Innermost (where it was raised) first.
    pub frames: Vec<Frame>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Breadcrumb {
    pub timestamp: Option<String>,
    pub category: String,
    pub level: String,
    pub message: String,
    /// `[name, value]` pairs.
    #[cfg_attr(feature = "ssr", schema(value_type = Vec<Vec<String>>))]
    pub data: Vec<(String, String)>,
}

/// What the Sentry payload of an event holds, ready to show.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventDetail {
    /// Outermost first, as Sentry shows chains: the exception that was
    /// finally raised, then the ones it was raised from.
    pub exception: Vec<Exception>,
    pub breadcrumbs: Vec<Breadcrumb>,
    /// Method, URL, query, headers, data: `name = value` lines.
    pub request: Vec<(String, String)>,
    pub user: Vec<(String, String)>,
    pub tags: Vec<(String, String)>,
    /// Context name → `name = value` lines (os, runtime, browser, …).
    pub contexts: Vec<(String, Vec<(String, String)>)>,
    /// `name version`, e.g. `sentry.python 2.19.0`.
    pub sdk: Option<String>,
    pub platform: Option<String>,
    pub server_name: Option<String>,
}

/// The Error detail page: a group, one of its events and where that is
/// among the others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupDetail {
    pub group: GroupSummary,
    pub event: Option<EventView>,
    pub detail: EventDetail,
    /// The next newer and next older event of the group.
    pub newer: Option<Uuid>,
    pub older: Option<Uuid>,
    /// Error events per day, the last 30 days: (day, count), oldest first.
    pub daily: Vec<(String, i64)>,
}

/// One release of a service, on the Releases view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReleaseRow {
    pub version: String,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub events: i64,
    pub errors: i64,
    /// Errors per event, percent.
    pub error_rate: f64,
    /// Against the release before it: percentage points, when there is one.
    pub error_rate_change: Option<f64>,
    /// Groups first seen in this release.
    pub new_groups: i64,
    /// Groups resolved before and seen again in this release.
    pub regressions: i64,
    /// Marked by a deploy event (else by its first event).
    pub deployed: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_read_like_sentry() {
        assert_eq!(
            title("ZeroDivisionError", "division by zero"),
            "ZeroDivisionError: division by zero"
        );
        assert_eq!(title("message", "disk almost full"), "disk almost full");
        assert_eq!(title("", "  "), "(no message)");
        assert_eq!(title("Panic", ""), "Panic");
    }

    #[test]
    fn statuses_and_sorts_round_trip() {
        for s in GroupStatus::ALL {
            assert_eq!(GroupStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(GroupSort::parse("users"), Some(GroupSort::Users));
        assert_eq!(GroupSort::parse("nope"), None);
    }
}
