//! Probe types shared by server and browser, and the checks on what an
//! admin asks for.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// What a probe checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ProbeKind {
    /// An HTTP(S) request whose answer must match.
    Http,
    /// A TCP connection that must open.
    Tcp,
    /// A ping another system sends (cron jobs, backups elsewhere).
    Heartbeat,
}

impl ProbeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Tcp => "tcp",
            Self::Heartbeat => "heartbeat",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "http" => Some(Self::Http),
            "tcp" => Some(Self::Tcp),
            "heartbeat" => Some(Self::Heartbeat),
            _ => None,
        }
    }
}

/// A probe's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ProbeState {
    /// Not checked yet.
    Unknown,
    Up,
    /// Answers, but something needs attention (a certificate expiring soon).
    Degraded,
    Down,
}

impl ProbeState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Up => "up",
            Self::Degraded => "degraded",
            Self::Down => "down",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "unknown" => Some(Self::Unknown),
            "up" => Some(Self::Up),
            "degraded" => Some(Self::Degraded),
            "down" => Some(Self::Down),
            _ => None,
        }
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Up,
    Degraded,
    Down,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Up => "up",
            Self::Degraded => "degraded",
            Self::Down => "down",
        }
    }

    pub fn is_failure(self) -> bool {
        self == Self::Down
    }
}

/// An inclusive range of HTTP status codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusRange(pub u16, pub u16);

/// Parses `2xx`, `200`, `200-299`, comma-separated (`2xx,301,404`).
pub fn parse_status_set(text: &str) -> Result<Vec<StatusRange>, String> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let range = if let Some(d) = part.strip_suffix("xx").filter(|d| d.len() == 1) {
            let d: u16 = d
                .parse()
                .map_err(|_| format!("`{part}` is not a status class"))?;
            StatusRange(d * 100, d * 100 + 99)
        } else if let Some((a, b)) = part.split_once('-') {
            let a: u16 = a
                .trim()
                .parse()
                .map_err(|_| format!("`{part}` is not a range"))?;
            let b: u16 = b
                .trim()
                .parse()
                .map_err(|_| format!("`{part}` is not a range"))?;
            StatusRange(a, b)
        } else {
            let s: u16 = part
                .parse()
                .map_err(|_| format!("`{part}` is not a status code"))?;
            StatusRange(s, s)
        };
        if !(100..=599).contains(&range.0) || !(100..=599).contains(&range.1) || range.0 > range.1 {
            return Err(format!("`{part}` is outside 100–599"));
        }
        out.push(range);
    }
    if out.is_empty() {
        return Err("name at least one status, e.g. 2xx".into());
    }
    Ok(out)
}

pub fn format_status_set(set: &[StatusRange]) -> String {
    set.iter()
        .map(|r| match r {
            StatusRange(a, b) if a == b => a.to_string(),
            StatusRange(a, b) if a % 100 == 0 && *b == a + 99 => format!("{}xx", a / 100),
            StatusRange(a, b) => format!("{a}-{b}"),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// What an HTTP probe sends and expects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpCheck {
    pub method: String,
    pub url: String,
    pub expected_status: Vec<StatusRange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_contains: Option<String>,
    /// A JSON pointer (RFC 6901) into the body, and the value it must equal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_pointer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_equals: Option<serde_json::Value>,
    pub follow_redirects: bool,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

/// Where a TCP probe connects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TcpCheck {
    pub host: String,
    pub port: u16,
}

/// A probe's definition, as stored (`config` holds the kind's part).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeDefinition {
    pub name: String,
    pub kind: ProbeKind,
    pub http: Option<HttpCheck>,
    pub tcp: Option<TcpCheck>,
    pub interval_seconds: i32,
    pub timeout_seconds: f64,
    pub failures_before_down: i32,
    pub cert_warning_days: i32,
    pub period_seconds: Option<i32>,
    pub grace_seconds: Option<i32>,
    pub enabled: bool,
}

/// What an admin sends to create or change a probe (`POST` needs `kind`
/// and its fields; `PATCH` changes only what it names).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProbeSpec {
    pub kind: Option<ProbeKind>,
    pub name: Option<String>,
    pub url: Option<String>,
    pub method: Option<String>,
    /// `2xx`, `200-299,304`, …
    pub expected_status: Option<String>,
    pub body_contains: Option<String>,
    pub json_pointer: Option<String>,
    pub json_equals: Option<serde_json::Value>,
    pub follow_redirects: Option<bool>,
    pub headers: Option<BTreeMap<String, String>>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub period_seconds: Option<i32>,
    pub grace_seconds: Option<i32>,
    pub interval_seconds: Option<i32>,
    pub timeout_seconds: Option<f64>,
    pub failures_before_down: Option<i32>,
    pub cert_warning_days: Option<i32>,
    pub enabled: Option<bool>,
}

pub const DEFAULT_INTERVAL: i32 = 30;
pub const MIN_INTERVAL: i32 = 5;
pub const DEFAULT_TIMEOUT: f64 = 5.0;
pub const DEFAULT_FAILURES_BEFORE_DOWN: i32 = 2;
pub const DEFAULT_CERT_WARNING_DAYS: i32 = 14;
/// Largest stored heartbeat body.
pub const MAX_PING_BODY: usize = 10 * 1024;

fn invalid(field: &str, message: impl Into<String>) -> AppError {
    AppError::validation(field, message)
}

fn text(field: &str, value: &str, max: usize) -> Result<String, AppError> {
    let v = value.trim();
    if v.chars().count() > max {
        return Err(invalid(field, format!("must be at most {max} characters")));
    }
    if v.chars().any(|c| c.is_control()) {
        return Err(invalid(field, "must not contain control characters"));
    }
    Ok(v.to_owned())
}

impl ProbeSpec {
    /// The definition this spec asks for: a new probe (`current` None) or
    /// `current` with this spec's fields changed. Every field is checked.
    pub fn apply(self, current: Option<&ProbeDefinition>) -> Result<ProbeDefinition, AppError> {
        let kind = match (self.kind, current) {
            (Some(k), Some(c)) if k != c.kind => {
                return Err(invalid(
                    "kind",
                    "cannot change; delete the probe and create another",
                ));
            }
            (Some(k), _) => k,
            (None, Some(c)) => c.kind,
            (None, None) => return Err(invalid("kind", "is required: http, tcp or heartbeat")),
        };
        let interval_seconds = self
            .interval_seconds
            .or(current.map(|c| c.interval_seconds))
            .unwrap_or(DEFAULT_INTERVAL);
        if !(MIN_INTERVAL..=86_400).contains(&interval_seconds) {
            return Err(invalid(
                "interval_seconds",
                format!("must be between {MIN_INTERVAL} and 86400"),
            ));
        }
        let timeout_seconds = self
            .timeout_seconds
            .or(current.map(|c| c.timeout_seconds))
            .unwrap_or(DEFAULT_TIMEOUT);
        if !(timeout_seconds.is_finite() && timeout_seconds > 0.0 && timeout_seconds <= 60.0) {
            return Err(invalid(
                "timeout_seconds",
                "must be more than 0 and at most 60",
            ));
        }
        let failures_before_down = self
            .failures_before_down
            .or(current.map(|c| c.failures_before_down))
            .unwrap_or(DEFAULT_FAILURES_BEFORE_DOWN);
        if !(1..=100).contains(&failures_before_down) {
            return Err(invalid("failures_before_down", "must be between 1 and 100"));
        }
        let cert_warning_days = self
            .cert_warning_days
            .or(current.map(|c| c.cert_warning_days))
            .unwrap_or(DEFAULT_CERT_WARNING_DAYS);
        if !(0..=365).contains(&cert_warning_days) {
            return Err(invalid("cert_warning_days", "must be between 0 and 365"));
        }
        let (http, tcp, period_seconds, grace_seconds) = match kind {
            ProbeKind::Http => (
                Some(self.http_check(current.and_then(|c| c.http.as_ref()))?),
                None,
                None,
                None,
            ),
            ProbeKind::Tcp => (
                None,
                Some(self.tcp_check(current.and_then(|c| c.tcp.as_ref()))?),
                None,
                None,
            ),
            ProbeKind::Heartbeat => {
                let period = self
                    .period_seconds
                    .or(current.and_then(|c| c.period_seconds));
                let grace = self
                    .grace_seconds
                    .or(current.and_then(|c| c.grace_seconds))
                    .unwrap_or(0);
                let period = period
                    .ok_or_else(|| invalid("period_seconds", "is required for a heartbeat"))?;
                if !(5..=31_622_400).contains(&period) {
                    return Err(invalid(
                        "period_seconds",
                        "must be between 5 and 31622400 (a year)",
                    ));
                }
                if !(0..=31_622_400).contains(&grace) {
                    return Err(invalid(
                        "grace_seconds",
                        "must be between 0 and 31622400 (a year)",
                    ));
                }
                (None, None, Some(period), Some(grace))
            }
        };
        let default_name = match (&http, &tcp) {
            (Some(h), _) => h.url.clone(),
            (_, Some(t)) => format!("{}:{}", t.host, t.port),
            _ => "heartbeat".to_owned(),
        };
        let name = match self.name {
            Some(n) => text("name", &n, 100)?,
            None => current.map(|c| c.name.clone()).unwrap_or_default(),
        };
        Ok(ProbeDefinition {
            name: if name.is_empty() { default_name } else { name },
            kind,
            http,
            tcp,
            // A heartbeat is looked at every period; its interval is that.
            interval_seconds: period_seconds.unwrap_or(interval_seconds),
            timeout_seconds,
            failures_before_down: if kind == ProbeKind::Heartbeat {
                1
            } else {
                failures_before_down
            },
            cert_warning_days,
            period_seconds,
            grace_seconds,
            enabled: self.enabled.or(current.map(|c| c.enabled)).unwrap_or(true),
        })
    }

    fn http_check(&self, current: Option<&HttpCheck>) -> Result<HttpCheck, AppError> {
        let url = match (&self.url, current) {
            (Some(u), _) => u.trim().to_owned(),
            (None, Some(c)) => c.url.clone(),
            (None, None) => return Err(invalid("url", "is required for an HTTP probe")),
        };
        check_url(&url)?;
        let method = self
            .method
            .as_deref()
            .map(|m| m.trim().to_ascii_uppercase())
            .or(current.map(|c| c.method.clone()))
            .unwrap_or_else(|| "GET".into());
        if !["GET", "HEAD", "POST", "PUT", "OPTIONS"].contains(&method.as_str()) {
            return Err(invalid("method", "must be GET, HEAD, POST, PUT or OPTIONS"));
        }
        let expected_status = match (&self.expected_status, current) {
            (Some(s), _) => parse_status_set(s).map_err(|m| invalid("expected_status", m))?,
            (None, Some(c)) => c.expected_status.clone(),
            (None, None) => vec![StatusRange(200, 299)],
        };
        let body_contains = match &self.body_contains {
            Some(s) if s.is_empty() => None,
            Some(s) => Some(text("body_contains", s, 1000)?),
            None => current.and_then(|c| c.body_contains.clone()),
        };
        let json_pointer = match &self.json_pointer {
            Some(p) if p.is_empty() => None,
            Some(p) if !p.starts_with('/') => {
                return Err(invalid(
                    "json_pointer",
                    "must start with `/` (e.g. /status)",
                ));
            }
            Some(p) => Some(text("json_pointer", p, 500)?),
            None => current.and_then(|c| c.json_pointer.clone()),
        };
        let json_equals = match &self.json_equals {
            Some(v) => Some(v.clone()),
            None => current.and_then(|c| c.json_equals.clone()),
        };
        if json_pointer.is_some() != json_equals.is_some() {
            return Err(invalid(
                "json_equals",
                "json_pointer and json_equals go together",
            ));
        }
        let headers = match &self.headers {
            Some(h) => {
                if h.len() > 20 {
                    return Err(invalid("headers", "at most 20 headers"));
                }
                let mut out = BTreeMap::new();
                for (k, v) in h {
                    let ok_name = !k.is_empty()
                        && k.len() <= 100
                        && k.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b));
                    if !ok_name {
                        return Err(invalid("headers", format!("`{k}` is not a header name")));
                    }
                    if v.len() > 2000 || v.chars().any(|c| c.is_control()) {
                        return Err(invalid(
                            "headers",
                            format!("the value of `{k}` is not a header value"),
                        ));
                    }
                    out.insert(k.clone(), v.clone());
                }
                out
            }
            None => current.map(|c| c.headers.clone()).unwrap_or_default(),
        };
        Ok(HttpCheck {
            method,
            url,
            expected_status,
            body_contains,
            json_pointer,
            json_equals,
            follow_redirects: self
                .follow_redirects
                .or(current.map(|c| c.follow_redirects))
                .unwrap_or(true),
            headers,
        })
    }

    fn tcp_check(&self, current: Option<&TcpCheck>) -> Result<TcpCheck, AppError> {
        let host = match (&self.host, current) {
            (Some(h), _) => h.trim().to_owned(),
            (None, Some(c)) => c.host.clone(),
            (None, None) => return Err(invalid("host", "is required for a TCP probe")),
        };
        let host_ok = !host.is_empty()
            && host.len() <= 253
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]_".contains(c));
        if !host_ok {
            return Err(invalid("host", "must be a host name or an IP address"));
        }
        let port = self
            .port
            .or(current.map(|c| c.port))
            .ok_or_else(|| invalid("port", "is required for a TCP probe"))?;
        if port == 0 {
            return Err(invalid("port", "must be between 1 and 65535"));
        }
        Ok(TcpCheck { host, port })
    }
}

/// An HTTP(S) URL with a host, without credentials or a fragment.
pub fn check_url(url: &str) -> Result<(), AppError> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| invalid("url", "must start with http:// or https://"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() {
        return Err(invalid("url", "needs a host"));
    }
    if authority.contains('@') {
        return Err(invalid(
            "url",
            "must not carry credentials; send them in a header",
        ));
    }
    if url.len() > 2000 || url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(invalid("url", "is not a valid URL"));
    }
    Ok(())
}

/// A probe as shown and returned by the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProbeInfo {
    pub id: i64,
    pub service: String,
    pub name: String,
    pub kind: ProbeKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_contains: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json_pointer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json_equals: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follow_redirects: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period_seconds: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grace_seconds: Option<i32>,
    /// The heartbeat's secret token, and the URL to ping.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ping_url: Option<String>,
    pub interval_seconds: i32,
    pub timeout_seconds: f64,
    pub failures_before_down: i32,
    pub cert_warning_days: i32,
    pub enabled: bool,
    pub state: ProbeState,
    pub state_since: String,
    pub consecutive_failures: i32,
    pub last_checked_at: Option<String>,
    pub last_duration_ms: Option<f64>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub cert_expires_at: Option<String>,
    pub last_ping_at: Option<String>,
}

impl ProbeInfo {
    /// The definition part, for applying a change.
    pub fn definition(&self) -> ProbeDefinition {
        ProbeDefinition {
            name: self.name.clone(),
            kind: self.kind,
            http: match (self.kind, &self.url) {
                (ProbeKind::Http, Some(url)) => Some(HttpCheck {
                    method: self.method.clone().unwrap_or_else(|| "GET".into()),
                    url: url.clone(),
                    expected_status: self
                        .expected_status
                        .as_deref()
                        .and_then(|s| parse_status_set(s).ok())
                        .unwrap_or_else(|| vec![StatusRange(200, 299)]),
                    body_contains: self.body_contains.clone(),
                    json_pointer: self.json_pointer.clone(),
                    json_equals: self.json_equals.clone(),
                    follow_redirects: self.follow_redirects.unwrap_or(true),
                    headers: self.headers.clone().unwrap_or_default(),
                }),
                _ => None,
            },
            tcp: match (self.kind, &self.host, self.port) {
                (ProbeKind::Tcp, Some(host), Some(port)) => Some(TcpCheck {
                    host: host.clone(),
                    port,
                }),
                _ => None,
            },
            interval_seconds: self.interval_seconds,
            timeout_seconds: self.timeout_seconds,
            failures_before_down: self.failures_before_down,
            cert_warning_days: self.cert_warning_days,
            period_seconds: self.period_seconds,
            grace_seconds: self.grace_seconds,
            enabled: self.enabled,
        }
    }
}

/// A maintenance window, as sent and shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MaintenanceWindow {
    #[serde(default)]
    pub id: i64,
    /// A service slug, or none for every service.
    #[serde(default)]
    pub service: Option<String>,
    pub title: String,
    /// One-off: from and to (RFC 3339).
    #[serde(default)]
    pub starts_at: Option<String>,
    #[serde(default)]
    pub ends_at: Option<String>,
    /// Weekly: the day (0 = Monday … 6 = Sunday), the start (`HH:MM`) and
    /// the length, in `time_zone`.
    #[serde(default)]
    pub weekday: Option<i32>,
    #[serde(default)]
    pub start_time: Option<String>,
    #[serde(default)]
    pub duration_minutes: Option<i32>,
    #[serde(default = "utc")]
    pub time_zone: String,
    /// Whether the window is on now.
    #[serde(default)]
    pub active: bool,
}

fn utc() -> String {
    "UTC".into()
}

/// An incident: a probe down from `started_at` until `ended_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Incident {
    pub id: i64,
    pub probe_id: i64,
    pub probe: String,
    pub service: String,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub duration_seconds: i64,
    pub cause: String,
}

/// A run of a recovery action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecoveryRun {
    pub id: i64,
    pub service: String,
    pub started_at: String,
    pub duration_ms: Option<f64>,
    pub exit_code: Option<i32>,
    pub output: Option<String>,
    pub error: Option<String>,
}

/// One SLO of a service, met or missed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SloResult {
    /// `p95_ms`, `error_rate`, `uptime` or `dead_letters`.
    pub name: String,
    pub target: f64,
    /// The measured value over the last 30 days; None without data.
    pub value: Option<f64>,
    pub met: bool,
    /// For uptime: minutes of downtime still allowed in the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_minutes_left: Option<f64>,
}

/// One service in the status document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ServiceStatus {
    pub slug: String,
    pub name: String,
    /// `up`, `degraded`, `down`, `maintenance` or `unknown` (no probes).
    pub state: String,
    /// The latest HTTP probe's response time.
    pub response_ms: Option<f64>,
    pub uptime_24h: Option<f64>,
    pub uptime_30d: Option<f64>,
    pub p95_ms_24h: Option<f64>,
    pub open_incident: Option<Incident>,
    pub slos: Vec<SloResult>,
    pub last_event_at: Option<String>,
    pub open_errors: i64,
    pub probes: i64,
    pub public_status: bool,
}

/// The Leitstand instance answering.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InstanceStatus {
    pub version: String,
    pub started_at: String,
    pub uptime_seconds: i64,
    pub database_bytes: Option<i64>,
    pub database_latency_ms: Option<f64>,
    pub connections_in_use: u32,
    pub connections_idle: u32,
    pub events_last_hour: i64,
    /// `healthy`, `warning` or `critical`.
    pub backup_health: String,
    pub last_backup_age_seconds: Option<i64>,
    pub cpu_seconds: Option<f64>,
    pub cpu_percent: Option<f64>,
    pub memory_bytes: Option<u64>,
    /// How late probe checks started, p99 over the last hour.
    pub probe_lag_p99_ms: Option<f64>,
    /// Deliveries that ran out of attempts (alerts and event webhooks).
    #[serde(default)]
    pub dead_letters: i64,
    /// Deliveries waiting for their next attempt.
    #[serde(default)]
    pub deliveries_pending: i64,
}

/// `GET /api/v1/system/status` and `leitstand status --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SystemStatus {
    /// `ok`, `degraded`, `down` or `maintenance`.
    pub status: String,
    pub generated_at: String,
    pub services: Vec<ServiceStatus>,
    pub leitstand: InstanceStatus,
}

/// A service's page: its status, probes, incidents, windows, runs and
/// charts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceDetail {
    pub status: ServiceStatus,
    pub probes: Vec<ProbeInfo>,
    pub incidents: Vec<Incident>,
    pub maintenance: Vec<MaintenanceWindow>,
    pub recovery_runs: Vec<RecoveryRun>,
    /// The last 90 days: (date, uptime % or None without checks).
    pub daily_uptime: Vec<(String, Option<f64>)>,
    /// Hourly p50/p95 of the chosen range: (hour, p50, p95).
    pub response_times: Vec<(String, Option<f64>, Option<f64>)>,
    pub slo_targets: SloTargets,
    /// Incidents of the last 30 days: (count, downtime s, MTTR s).
    pub incidents_30d: (i64, f64, Option<f64>),
}

/// A service's SLO targets, as an admin edits them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SloTargets {
    pub p95_ms: i32,
    pub error_rate_percent: f64,
    pub uptime_percent: f64,
    pub dead_letters: i32,
}

impl SloTargets {
    pub fn check(&self) -> Result<(), AppError> {
        if !(1..=600_000).contains(&self.p95_ms) {
            return Err(invalid("p95_ms", "must be 1 to 600000 ms"));
        }
        if !(self.error_rate_percent.is_finite()
            && (0.0..=100.0).contains(&self.error_rate_percent))
        {
            return Err(invalid("error_rate_percent", "must be 0 to 100"));
        }
        if !(self.uptime_percent.is_finite() && (0.0..=100.0).contains(&self.uptime_percent)) {
            return Err(invalid("uptime_percent", "must be 0 to 100"));
        }
        if self.dead_letters < 0 {
            return Err(invalid("dead_letters", "must not be negative"));
        }
        Ok(())
    }
}

/// The worst of the states: down, degraded, up, unknown.
pub fn worst_state(states: impl IntoIterator<Item = ProbeState>) -> Option<ProbeState> {
    states.into_iter().max_by_key(|s| match s {
        ProbeState::Down => 3,
        ProbeState::Degraded => 2,
        ProbeState::Up => 1,
        ProbeState::Unknown => 0,
    })
}

/// Uptime in percent of `checks` with `failures`; None without checks.
pub fn uptime_percent(checks: i64, failures: i64) -> Option<f64> {
    (checks > 0).then(|| (checks - failures) as f64 / checks as f64 * 100.0)
}

/// Minutes of downtime still allowed over `window_minutes` at `target` %
/// uptime, after `downtime_minutes` of incidents.
pub fn budget_left(target: f64, downtime_minutes: f64, window_minutes: f64) -> f64 {
    (100.0 - target) / 100.0 * window_minutes - downtime_minutes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_sets_read_classes_ranges_and_codes() {
        assert_eq!(parse_status_set("2xx"), Ok(vec![StatusRange(200, 299)]));
        assert_eq!(
            parse_status_set("200-204, 301,4xx"),
            Ok(vec![
                StatusRange(200, 204),
                StatusRange(301, 301),
                StatusRange(400, 499)
            ])
        );
        assert!(parse_status_set("").is_err());
        assert!(parse_status_set("600").is_err());
        assert!(parse_status_set("299-200").is_err());
        assert!(parse_status_set("abc").is_err());
        assert_eq!(
            format_status_set(&[StatusRange(200, 299), StatusRange(304, 304)]),
            "2xx,304"
        );
    }

    #[test]
    fn a_new_http_probe_gets_the_defaults() {
        let d = ProbeSpec {
            kind: Some(ProbeKind::Http),
            url: Some("http://shop.internal/health".into()),
            ..Default::default()
        }
        .apply(None)
        .expect("valid");
        assert_eq!(d.interval_seconds, 30);
        assert_eq!(d.timeout_seconds, 5.0);
        assert_eq!(d.failures_before_down, 2);
        assert_eq!(d.cert_warning_days, 14);
        let http = d.http.expect("http");
        assert_eq!(http.method, "GET");
        assert_eq!(http.expected_status, vec![StatusRange(200, 299)]);
        assert!(http.follow_redirects);
        assert_eq!(d.name, "http://shop.internal/health");
    }

    #[test]
    fn bad_probe_specs_name_their_field() {
        let field = |spec: ProbeSpec| match spec.apply(None) {
            Err(AppError::Validation { field, .. }) => field,
            other => panic!("expected a validation error, got {other:?}"),
        };
        let http = |url: &str| ProbeSpec {
            kind: Some(ProbeKind::Http),
            url: Some(url.into()),
            ..Default::default()
        };
        assert_eq!(field(ProbeSpec::default()), "kind");
        assert_eq!(field(http("ftp://x")), "url");
        assert_eq!(field(http("http://user:pw@host/")), "url");
        assert_eq!(field(http("http:///path")), "url");
        assert_eq!(
            field(ProbeSpec {
                interval_seconds: Some(4),
                ..http("http://x")
            }),
            "interval_seconds"
        );
        assert_eq!(
            field(ProbeSpec {
                timeout_seconds: Some(0.0),
                ..http("http://x")
            }),
            "timeout_seconds"
        );
        assert_eq!(
            field(ProbeSpec {
                method: Some("DELETE".into()),
                ..http("http://x")
            }),
            "method"
        );
        assert_eq!(
            field(ProbeSpec {
                json_pointer: Some("/a".into()),
                ..http("http://x")
            }),
            "json_equals"
        );
        assert_eq!(
            field(ProbeSpec {
                json_pointer: Some("a".into()),
                json_equals: Some(1.into()),
                ..http("http://x")
            }),
            "json_pointer"
        );
        assert_eq!(
            field(ProbeSpec {
                kind: Some(ProbeKind::Tcp),
                host: Some("db".into()),
                ..Default::default()
            }),
            "port"
        );
        assert_eq!(
            field(ProbeSpec {
                kind: Some(ProbeKind::Tcp),
                host: Some("a b".into()),
                port: Some(5),
                ..Default::default()
            }),
            "host"
        );
        assert_eq!(
            field(ProbeSpec {
                kind: Some(ProbeKind::Heartbeat),
                ..Default::default()
            }),
            "period_seconds"
        );
    }

    #[test]
    fn a_change_keeps_what_it_does_not_name_and_never_changes_the_kind() {
        let tcp = ProbeSpec {
            kind: Some(ProbeKind::Tcp),
            host: Some("db.internal".into()),
            port: Some(5432),
            interval_seconds: Some(10),
            ..Default::default()
        }
        .apply(None)
        .expect("valid");
        let changed = ProbeSpec {
            port: Some(6432),
            ..Default::default()
        }
        .apply(Some(&tcp))
        .expect("valid");
        assert_eq!(
            changed.tcp,
            Some(TcpCheck {
                host: "db.internal".into(),
                port: 6432
            })
        );
        assert_eq!(changed.interval_seconds, 10);
        let e = ProbeSpec {
            kind: Some(ProbeKind::Http),
            ..Default::default()
        }
        .apply(Some(&tcp));
        assert!(matches!(e, Err(AppError::Validation { field, .. }) if field == "kind"));
    }

    #[test]
    fn the_error_budget_is_what_the_target_allows_minus_what_was_used() {
        // 99.9 % over 30 days allows 43.2 minutes.
        let month = 30.0 * 24.0 * 60.0;
        assert!((budget_left(99.9, 0.0, month) - 43.2).abs() < 1e-9);
        assert!((budget_left(99.9, 21.6, month) - 21.6).abs() < 1e-9);
        assert!(budget_left(99.9, 60.0, month) < 0.0);
        assert_eq!(uptime_percent(0, 0), None);
        assert_eq!(uptime_percent(200, 1), Some(99.5));
        assert_eq!(
            worst_state([ProbeState::Up, ProbeState::Down, ProbeState::Degraded]),
            Some(ProbeState::Down)
        );
        assert_eq!(worst_state([]), None);
    }

    #[test]
    fn a_heartbeat_is_down_at_its_first_missed_period() {
        let d = ProbeSpec {
            kind: Some(ProbeKind::Heartbeat),
            period_seconds: Some(60),
            grace_seconds: Some(30),
            failures_before_down: Some(5),
            ..Default::default()
        }
        .apply(None)
        .expect("valid");
        assert_eq!((d.interval_seconds, d.failures_before_down), (60, 1));
    }
}
