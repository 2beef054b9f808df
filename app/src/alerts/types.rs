//! What alerts are made of, shared by the pages, the REST API and the
//! workers: channels, rules, the notice a rule sends, deliveries and their
//! attempts.

use serde::{Deserialize, Serialize};

/// Where a notification goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    Email,
    Webhook,
    Slack,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 3] =
        [ChannelKind::Email, ChannelKind::Webhook, ChannelKind::Slack];

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Email => "email",
            ChannelKind::Webhook => "webhook",
            ChannelKind::Slack => "slack",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        self.label_in(crate::lang::Locale::en)
    }

    /// The kind in words, in `l`.
    pub fn label_in(self, l: crate::lang::Locale) -> &'static str {
        use crate::lang::td_string;
        match self {
            ChannelKind::Email => td_string!(l, channel_kind.email),
            ChannelKind::Webhook => td_string!(l, channel_kind.webhook),
            ChannelKind::Slack => td_string!(l, channel_kind.slack),
        }
    }
}

/// When a rule fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    NewErrorGroup,
    Regression,
    CriticalEvent,
    ErrorRate,
    ProbeDown,
    SloMissed,
    SloBurn,
    BackupStale,
    DeadLetters,
}

impl RuleKind {
    pub const ALL: [RuleKind; 9] = [
        RuleKind::NewErrorGroup,
        RuleKind::Regression,
        RuleKind::CriticalEvent,
        RuleKind::ErrorRate,
        RuleKind::ProbeDown,
        RuleKind::SloMissed,
        RuleKind::SloBurn,
        RuleKind::BackupStale,
        RuleKind::DeadLetters,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::NewErrorGroup => "new_error_group",
            RuleKind::Regression => "regression",
            RuleKind::CriticalEvent => "critical_event",
            RuleKind::ErrorRate => "error_rate",
            RuleKind::ProbeDown => "probe_down",
            RuleKind::SloMissed => "slo_missed",
            RuleKind::SloBurn => "slo_burn",
            RuleKind::BackupStale => "backup_stale",
            RuleKind::DeadLetters => "dead_letters",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        self.label_in(crate::lang::Locale::en)
    }

    /// The kind in words, in `l`.
    pub fn label_in(self, l: crate::lang::Locale) -> &'static str {
        use crate::lang::td_string;
        match self {
            RuleKind::NewErrorGroup => td_string!(l, rule_kind.new_error_group),
            RuleKind::Regression => td_string!(l, rule_kind.regression),
            RuleKind::CriticalEvent => td_string!(l, rule_kind.critical_event),
            RuleKind::ErrorRate => td_string!(l, rule_kind.error_rate),
            RuleKind::ProbeDown => td_string!(l, rule_kind.probe_down),
            RuleKind::SloMissed => td_string!(l, rule_kind.slo_missed),
            RuleKind::SloBurn => td_string!(l, rule_kind.slo_burn),
            RuleKind::BackupStale => td_string!(l, rule_kind.backup_stale),
            RuleKind::DeadLetters => td_string!(l, rule_kind.dead_letters),
        }
    }

    /// Kinds about Leitstand itself, not a service: one state per rule.
    pub fn instance_wide(self) -> bool {
        matches!(self, RuleKind::BackupStale | RuleKind::DeadLetters)
    }

    /// Kinds that fire on something happening (resolved after a quiet
    /// cooldown) rather than on a condition holding.
    pub fn occurrence(self) -> bool {
        matches!(
            self,
            RuleKind::NewErrorGroup | RuleKind::Regression | RuleKind::CriticalEvent
        )
    }

    /// Kinds evaluated on the scheduler tick (the rest on state changes).
    pub fn ticked(self) -> bool {
        matches!(
            self,
            RuleKind::ErrorRate
                | RuleKind::SloMissed
                | RuleKind::SloBurn
                | RuleKind::BackupStale
                | RuleKind::DeadLetters
        )
    }
}

/// A channel as admins see it: never a secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChannelInfo {
    pub id: i64,
    pub kind: ChannelKind,
    pub name: String,
    /// Where it sends, for people: a host, or the recipients.
    pub destination: String,
    /// Non-secret settings (URL without its path for Slack, SMTP host…).
    pub config: serde_json::Value,
    pub disabled_at: Option<String>,
    pub disabled_reason: Option<String>,
    /// Until when a rotated-out signing secret still signs.
    pub previous_until: Option<String>,
    pub created_at: String,
}

/// How an e-mail channel talks to its SMTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (required), port 587.
    #[default]
    Starttls,
    /// TLS from the first byte, port 465.
    Tls,
    /// No encryption: only for a relay on the same host or network.
    None,
}

impl SmtpTls {
    pub fn default_port(self) -> u16 {
        match self {
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
            SmtpTls::None => 25,
        }
    }
}

/// A new channel: `kind` says which fields apply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChannelSpec {
    pub kind: Option<ChannelKind>,
    pub name: String,
    /// webhook and slack.
    #[serde(default)]
    pub url: Option<String>,
    /// webhook: extra headers (values are kept encrypted).
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
    /// email.
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub tls: Option<SmtpTls>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Vec<String>,
}

/// `http(s)://host[:port]/…`: the host, or why not.
pub fn http_url_host(url: &str) -> Result<String, String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("an http:// or https:// URL")?;
    if url.len() > 2000 || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("a URL of at most 2000 characters without spaces".into());
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err("a URL without user:password@ (use headers)".into());
    }
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default().to_owned()
    } else {
        authority
            .rsplit_once(':')
            .map_or(authority, |(h, _)| h)
            .to_owned()
    };
    if host.is_empty() {
        return Err("a URL with a host".into());
    }
    Ok(host)
}

/// A plausible e-mail address (the SMTP server has the last word).
pub fn plausible_address(a: &str) -> bool {
    let a = a.trim();
    a.len() <= 254
        && !a
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>,;\"".contains(c))
        && a.split_once('@').is_some_and(|(l, d)| {
            !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
        })
}

impl ChannelSpec {
    /// Checks the fields of its kind: (field, message) of the first problem.
    pub fn validate(&mut self) -> Result<ChannelKind, (String, String)> {
        let bad = |f: &str, m: &str| Err((f.to_owned(), m.to_owned()));
        let Some(kind) = self.kind else {
            return bad("kind", "one of email, webhook, slack");
        };
        self.name = self.name.trim().to_owned();
        if self.name.is_empty() || self.name.chars().count() > 100 {
            return bad("name", "1 to 100 characters");
        }
        match kind {
            ChannelKind::Webhook | ChannelKind::Slack => {
                let url = self.url.as_deref().map(str::trim).unwrap_or_default();
                if let Err(m) = http_url_host(url) {
                    return bad("url", &m);
                }
                self.url = Some(url.to_owned());
                if kind == ChannelKind::Slack && !self.headers.is_empty() {
                    return bad("headers", "Slack-compatible webhooks take no headers");
                }
                if self.headers.len() > 20 {
                    return bad("headers", "at most 20 headers");
                }
                for (name, value) in &self.headers {
                    let reserved = ["content-type", "content-length", "host", "user-agent"];
                    if name.is_empty()
                        || name.len() > 100
                        || !name
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                        || reserved.contains(&name.to_ascii_lowercase().as_str())
                        || name.to_ascii_lowercase().starts_with("webhook-")
                    {
                        return bad("headers", &format!("“{name}” cannot be set"));
                    }
                    if value.len() > 2000 || value.chars().any(|c| c.is_control()) {
                        return bad(
                            "headers",
                            &format!("the value of “{name}” is not a header value"),
                        );
                    }
                }
                if self.host.is_some()
                    || self.from.is_some()
                    || !self.to.is_empty()
                    || self.password.is_some()
                {
                    return bad("host", "SMTP settings belong to e-mail channels");
                }
            }
            ChannelKind::Email => {
                let host = self.host.as_deref().map(str::trim).unwrap_or_default();
                if host.is_empty()
                    || host.len() > 253
                    || !host
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
                {
                    return bad("host", "the SMTP server's host name or address");
                }
                self.host = Some(host.to_owned());
                if self.port == Some(0) {
                    return bad("port", "1 to 65535");
                }
                let from = self.from.as_deref().map(str::trim).unwrap_or_default();
                if !plausible_address(from) {
                    return bad("from", "an e-mail address");
                }
                self.from = Some(from.to_owned());
                self.to = self
                    .to
                    .iter()
                    .map(|a| a.trim().to_owned())
                    .filter(|a| !a.is_empty())
                    .collect();
                if self.to.is_empty() || self.to.len() > 50 {
                    return bad("to", "1 to 50 recipients");
                }
                if let Some(a) = self.to.iter().find(|a| !plausible_address(a)) {
                    return bad("to", &format!("“{a}” is not an e-mail address"));
                }
                if self.password.is_some() && self.username.as_deref().is_none_or(str::is_empty) {
                    return bad("username", "a password needs a user name");
                }
                if self.url.is_some() || !self.headers.is_empty() {
                    return bad("url", "URLs belong to webhook channels");
                }
            }
        }
        Ok(kind)
    }
}

/// A rule as everyone sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RuleInfo {
    pub id: i64,
    pub name: String,
    pub kind: RuleKind,
    /// None: every service.
    pub service: Option<String>,
    pub channels: Vec<i64>,
    pub cooldown_seconds: i32,
    pub threshold: Option<f64>,
    pub window_seconds: Option<i32>,
    pub min_events: Option<i32>,
    pub enabled: bool,
    /// Services (or "instance") it is firing for now.
    pub firing: Vec<String>,
    pub created_at: String,
}

/// A new rule or its replacement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub name: String,
    pub kind: RuleKind,
    #[serde(default)]
    pub service: Option<String>,
    #[serde(default)]
    pub channels: Vec<i64>,
    #[serde(default = "default_cooldown")]
    pub cooldown_seconds: i32,
    #[serde(default)]
    pub threshold: Option<f64>,
    #[serde(default)]
    pub window_seconds: Option<i32>,
    #[serde(default)]
    pub min_events: Option<i32>,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn default_cooldown() -> i32 {
    300
}

fn yes() -> bool {
    true
}

/// Defaults of the tunable kinds.
pub const ERROR_RATE_THRESHOLD: f64 = 5.0;
pub const ERROR_RATE_WINDOW: i32 = 300;
pub const ERROR_RATE_MIN_EVENTS: i32 = 20;
/// Google's "fast burn": 2 % of a 30-day budget in one hour.
pub const BURN_RATE_THRESHOLD: f64 = 14.4;

impl RuleSpec {
    /// Checks the fields that do not need the database; fills defaults.
    pub fn validate(&mut self) -> Result<(), (String, String)> {
        let bad = |f: &str, m: &str| Err((f.to_owned(), m.to_owned()));
        self.name = self.name.trim().to_owned();
        if self.name.is_empty() || self.name.chars().count() > 100 {
            return bad("name", "1 to 100 characters");
        }
        if !(0..=604_800).contains(&self.cooldown_seconds) {
            return bad("cooldown_seconds", "0 to 604800 (7 days)");
        }
        if self.channels.is_empty() {
            return bad("channels", "at least one channel");
        }
        if self.channels.len() > 20 {
            return bad("channels", "at most 20 channels");
        }
        if self.kind.instance_wide() && self.service.is_some() {
            return bad(
                "service",
                "this kind is about Leitstand itself, not a service",
            );
        }
        match self.kind {
            RuleKind::ErrorRate => {
                let t = self.threshold.get_or_insert(ERROR_RATE_THRESHOLD);
                if !(t.is_finite() && *t > 0.0 && *t <= 100.0) {
                    return bad("threshold", "a percentage above 0 and at most 100");
                }
                let w = self.window_seconds.get_or_insert(ERROR_RATE_WINDOW);
                if !(60..=604_800).contains(w) {
                    return bad("window_seconds", "60 to 604800");
                }
                let m = self.min_events.get_or_insert(ERROR_RATE_MIN_EVENTS);
                if *m < 0 {
                    return bad("min_events", "0 or more");
                }
            }
            RuleKind::SloBurn => {
                let t = self.threshold.get_or_insert(BURN_RATE_THRESHOLD);
                if !(t.is_finite() && *t >= 1.0 && *t <= 1000.0) {
                    return bad("threshold", "a burn-rate factor from 1 to 1000");
                }
                self.window_seconds = None;
                self.min_events = None;
            }
            _ => {
                if self.threshold.is_some()
                    || self.window_seconds.is_some()
                    || self.min_events.is_some()
                {
                    return bad(
                        "threshold",
                        "only error_rate and slo_burn rules take a threshold",
                    );
                }
            }
        }
        Ok(())
    }
}

/// Firing, resolved, or a test from the "send test" button.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeState {
    Firing,
    Resolved,
    Test,
}

/// What a rule sends: short and useful. Rendered per channel at send time
/// (subject and text and HTML for e-mail, one line for Slack, JSON for
/// webhooks).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    pub state: NoticeState,
    pub rule_id: Option<i64>,
    pub rule: String,
    pub kind: Option<RuleKind>,
    /// Service slug; None for Leitstand itself.
    pub service: Option<String>,
    /// What happened, in a few words.
    pub title: String,
    /// One or two lines more (the error message, the probe's reason).
    pub detail: String,
    /// Since when the condition holds (RFC 3339).
    pub since: String,
    pub value: Option<f64>,
    pub threshold: Option<f64>,
    /// How the value is shown: "%", "ms", "×" or "".
    pub unit: String,
    /// Occurrences held back by the cooldown since the last message.
    pub suppressed: i32,
    /// The page in Leitstand.
    pub link: String,
    pub at: String,
}

/// How a notice reads: its words are in the instance's default language
/// (`--default-language`); the webhook payload stays as data.
impl Notice {
    /// The subject line (and Slack's first line).
    pub fn subject(&self, l: crate::lang::Locale) -> String {
        use crate::lang::td_string;
        let state = match self.state {
            NoticeState::Firing => td_string!(l, notice.firing),
            NoticeState::Resolved => td_string!(l, notice.resolved),
            NoticeState::Test => td_string!(l, notice.test),
        };
        match &self.service {
            Some(s) => format!("[Leitstand] {state}: {s} — {}", self.title),
            None => format!("[Leitstand] {state}: {}", self.title),
        }
    }

    /// "value vs threshold" when the rule has them.
    pub fn value_line(&self, l: crate::lang::Locale) -> Option<String> {
        use crate::components::format::decimal;
        let fmt = |v: f64| {
            if v.fract() == 0.0 && v.abs() < 1e12 {
                format!("{}{}", decimal(l, v, 0), self.unit)
            } else {
                format!("{}{}", decimal(l, v, 2), self.unit)
            }
        };
        match (self.value, self.threshold) {
            (Some(v), Some(t)) => Some(crate::lang::tf!(
                l,
                notice.value_threshold,
                value = fmt(v),
                threshold = fmt(t)
            )),
            (Some(v), None) => Some(fmt(v)),
            _ => None,
        }
    }

    /// The labelled lines of the body: (label, value).
    fn rows(&self, l: crate::lang::Locale) -> Vec<(&'static str, String)> {
        use crate::lang::td_string;
        let mut rows = vec![(td_string!(l, notice.what), self.title.clone())];
        if !self.detail.is_empty() {
            rows.push((td_string!(l, notice.detail), self.detail.clone()));
        }
        rows.push((
            td_string!(l, dash.service),
            self.service
                .clone()
                .unwrap_or_else(|| td_string!(l, rules.itself).to_owned()),
        ));
        rows.push((td_string!(l, notice.since), self.since.clone()));
        if let Some(v) = self.value_line(l) {
            rows.push((td_string!(l, notice.value), v));
        }
        if self.suppressed > 0 {
            rows.push((td_string!(l, notice.held_back), self.suppressed.to_string()));
        }
        rows.push((td_string!(l, rules.rule), self.rule.clone()));
        rows
    }

    /// The plain-text body.
    pub fn text(&self, l: crate::lang::Locale) -> String {
        let mut rows = self.rows(l);
        rows.push((crate::lang::td_string!(l, notice.open), self.link.clone()));
        // Short labels line up; a long one (held back …) just runs on.
        let width = rows
            .iter()
            .map(|(k, _)| k.chars().count())
            .filter(|n| *n <= 12)
            .max()
            .unwrap_or(0)
            + 1;
        let mut lines = vec![self.subject(l), String::new()];
        lines.extend(
            rows.iter()
                .map(|(k, v)| format!("{:<width$} {v}", format!("{k}:"))),
        );
        lines.join("\n")
    }

    /// The HTML body: the same lines as a small table.
    pub fn html(&self, l: crate::lang::Locale) -> String {
        let esc = |s: &str| {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
        };
        let rows: Vec<(&str, String)> = self
            .rows(l)
            .into_iter()
            .map(|(k, v)| (k, esc(&v)))
            .collect();
        let body: String = rows
            .iter()
            .map(|(k, v)| {
                format!(
                    "<tr><th style=\"text-align:left;padding:2px 12px 2px 0\">{k}</th><td>{v}</td></tr>"
                )
            })
            .collect();
        format!(
            "<!doctype html><html lang=\"{}\"><body style=\"font-family:sans-serif\"><h2 style=\"font-size:16px\">{}</h2>\
             <table>{body}</table><p><a href=\"{}\">{}</a></p></body></html>",
            crate::lang::i18n::I18nLocaleTrait::as_str(l),
            esc(&self.subject(l)),
            esc(&self.link),
            crate::lang::td_string!(l, notice.open_in)
        )
    }

    /// One Slack message (mrkdwn).
    pub fn slack(&self, l: crate::lang::Locale) -> serde_json::Value {
        use crate::lang::{td_string, tf};
        let mut text = format!("*{}*", self.subject(l));
        if !self.detail.is_empty() {
            text.push_str(&format!("\n{}", self.detail));
        }
        if let Some(v) = self.value_line(l) {
            text.push_str(&format!("\n{}: {v}", td_string!(l, notice.value)));
        }
        text.push_str(&format!("\n{} {}", td_string!(l, notice.since), self.since));
        if self.suppressed > 0 {
            text.push_str(&format!(
                " · {}",
                tf!(l, notice.more_held_back, count = self.suppressed)
            ));
        }
        text.push_str(&format!(
            "\n<{}|{}>",
            self.link,
            td_string!(l, notice.open_in)
        ));
        serde_json::json!({ "text": text })
    }

    /// The Standard Webhooks payload: type, timestamp, data.
    pub fn webhook(&self) -> serde_json::Value {
        let kind = match self.state {
            NoticeState::Firing => "alert.firing",
            NoticeState::Resolved => "alert.resolved",
            NoticeState::Test => "alert.test",
        };
        serde_json::json!({ "type": kind, "timestamp": self.at, "data": self })
    }
}

/// One attempt at a delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Attempt {
    /// 0, then one more per replay.
    pub round: i32,
    pub attempt: i32,
    pub at: String,
    pub duration_ms: f64,
    pub status: Option<i32>,
    pub response: Option<String>,
    pub error: Option<String>,
}

/// A delivery that ran out of attempts (or is looked at).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeadLetter {
    pub id: String,
    /// `channel <name>` or `subscription <name>`.
    pub source: String,
    pub destination: String,
    pub purpose: String,
    pub created_at: String,
    pub attempts: i32,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    /// A short description of what it carried.
    pub summary: String,
    pub tries: Vec<Attempt>,
}

/// An event subscription as admins see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SubscriptionInfo {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub service: Option<String>,
    pub min_level: String,
    pub kind_prefix: String,
    pub disabled_at: Option<String>,
    pub disabled_reason: Option<String>,
    pub previous_until: Option<String>,
    /// Events forwarded so far (stream position) and still waiting.
    pub cursor: i64,
    pub created_at: String,
}

/// Counts for the dashboard and the status document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeliveryCounts {
    pub pending: i64,
    pub dead: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice() -> Notice {
        Notice {
            state: NoticeState::Firing,
            rule_id: Some(1),
            rule: "errors up".into(),
            kind: Some(RuleKind::ErrorRate),
            service: Some("shop".into()),
            title: "error rate above 5 %".into(),
            detail: "<script>".into(),
            since: "2026-12-03T10:00:00Z".into(),
            value: Some(12.5),
            threshold: Some(5.0),
            unit: " %".into(),
            suppressed: 3,
            link: "https://ops.example/services/shop".into(),
            at: "2026-12-03T10:00:01Z".into(),
        }
    }

    #[test]
    fn a_notice_says_what_where_since_value_and_links() {
        let n = notice();
        let text = n.text(crate::lang::Locale::en);
        for part in [
            "FIRING",
            "shop",
            "error rate above 5 %",
            "2026-12-03T10:00:00Z",
            "12.50 % (threshold 5 %)",
            "3",
            "https://ops.example/services/shop",
        ] {
            assert!(text.contains(part), "{part} in {text}");
        }
        let html = n.html(crate::lang::Locale::en);
        assert!(
            html.contains("&lt;script&gt;") && !html.contains("<script>"),
            "escaped: {html}"
        );
        assert!(
            n.slack(crate::lang::Locale::en)["text"]
                .as_str()
                .is_some_and(
                    |t| t.contains("<https://ops.example/services/shop|Open in Leitstand>")
                )
        );
        let german = n.text(crate::lang::Locale::de);
        for part in [
            "ALARM",
            "Seit:",
            "12,50 % (Schwellwert 5 %)",
            "zurückgehalten",
        ] {
            assert!(german.contains(part), "{part} in {german}");
        }
        assert_eq!(n.webhook()["type"], "alert.firing");
        assert_eq!(n.webhook()["data"]["service"], "shop");
    }

    #[test]
    fn channel_specs_check_the_fields_of_their_kind() {
        let mut hook = ChannelSpec {
            kind: Some(ChannelKind::Webhook),
            name: "ops".into(),
            url: Some(" https://hooks.example/x?y=1 ".into()),
            ..Default::default()
        };
        assert_eq!(hook.validate(), Ok(ChannelKind::Webhook));
        assert_eq!(hook.url.as_deref(), Some("https://hooks.example/x?y=1"));
        for (url, field) in [
            ("ftp://x", "url"),
            ("https://user:pw@x/", "url"),
            ("https:///path", "url"),
        ] {
            let mut h = hook.clone();
            h.url = Some(url.into());
            assert_eq!(h.validate().map_err(|e| e.0), Err(field.into()), "{url}");
        }
        let mut h = hook.clone();
        h.headers
            .insert("webhook-signature".into(), "forged".into());
        assert_eq!(h.validate().map_err(|e| e.0), Err("headers".into()));
        let mut mail = ChannelSpec {
            kind: Some(ChannelKind::Email),
            name: "mail".into(),
            host: Some("smtp.example".into()),
            from: Some("leitstand@example.org".into()),
            to: vec!["ops@example.org".into(), " ".into()],
            ..Default::default()
        };
        assert_eq!(mail.validate(), Ok(ChannelKind::Email));
        assert_eq!(mail.to, vec!["ops@example.org".to_owned()]);
        let mut m = mail.clone();
        m.to = vec!["not an address".into()];
        assert_eq!(m.validate().map_err(|e| e.0), Err("to".into()));
        let mut m = mail;
        m.password = Some("pw".into());
        assert_eq!(m.validate().map_err(|e| e.0), Err("username".into()));
        assert_eq!(http_url_host("http://[::1]:8080/x"), Ok("::1".into()));
        assert_eq!(
            http_url_host("https://h.example:443"),
            Ok("h.example".into())
        );
    }

    #[test]
    fn rule_specs_get_defaults_and_clear_errors() {
        let mut spec = RuleSpec {
            name: " rate ".into(),
            kind: RuleKind::ErrorRate,
            service: None,
            channels: vec![1],
            cooldown_seconds: 300,
            threshold: None,
            window_seconds: None,
            min_events: None,
            enabled: true,
        };
        spec.validate().expect("valid");
        assert_eq!(
            (spec.name.as_str(), spec.threshold, spec.window_seconds),
            ("rate", Some(5.0), Some(300))
        );
        let mut bad = spec.clone();
        bad.threshold = Some(150.0);
        assert_eq!(bad.validate().map_err(|e| e.0), Err("threshold".into()));
        let mut bad = spec.clone();
        bad.kind = RuleKind::ProbeDown;
        assert_eq!(bad.validate().map_err(|e| e.0), Err("threshold".into()));
        let mut bad = spec.clone();
        bad.kind = RuleKind::DeadLetters;
        bad.threshold = None;
        bad.window_seconds = None;
        bad.min_events = None;
        bad.service = Some("shop".into());
        assert_eq!(bad.validate().map_err(|e| e.0), Err("service".into()));
        let mut bad = spec;
        bad.channels.clear();
        assert_eq!(bad.validate().map_err(|e| e.0), Err("channels".into()));
    }
}
