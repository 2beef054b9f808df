//! Parsing and validating an ingest request body.
//!
//! The body is one event object or an array of them. Every field is checked
//! by hand so that an error names the event's index and the exact field,
//! and one bad event rejects the whole request before anything is stored.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::fingerprint::default_fingerprint;
use super::types::{Level, NewEvent};
use crate::services::validate_slug;

/// Most events in one request.
pub const MAX_EVENTS: usize = 1000;
/// Largest request body (after gzip decompression).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Largest `attributes` object, serialised.
pub const MAX_ATTRIBUTES_BYTES: usize = 16 * 1024;
/// Longest message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 8 * 1024;
/// Longest short text field (feature, type, release, …), in characters.
pub const MAX_SHORT_CHARS: usize = 200;
/// Oldest accepted timestamp, relative to now.
pub const MAX_AGE_DAYS: i64 = 365;
/// Furthest accepted timestamp into the future.
pub const MAX_AHEAD_HOURS: i64 = 24;

const FIELDS: &[&str] = &[
    "id",
    "timestamp",
    "service",
    "feature",
    "type",
    "level",
    "message",
    "fingerprint",
    "release",
    "environment",
    "user",
    "attributes",
];

/// Why a body was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// Not JSON, or JSON of the wrong shape (400).
    Malformed(String),
    /// Too many events (413).
    TooMany(usize),
    /// A field of one event is wrong (422).
    Invalid {
        index: Option<usize>,
        field: String,
        message: String,
    },
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodyError::Malformed(m) => write!(f, "malformed JSON: {m}"),
            BodyError::TooMany(n) => write!(
                f,
                "{n} events in one request; at most {MAX_EVENTS} are accepted"
            ),
            BodyError::Invalid {
                index: Some(i),
                field,
                message,
            } => write!(f, "event {i}: `{field}` {message}"),
            BodyError::Invalid {
                index: None,
                field,
                message,
            } => write!(f, "`{field}` {message}"),
        }
    }
}

/// Parses a request body into validated events, stamped relative to `now`.
pub fn parse_body(body: &[u8], now: DateTime<Utc>) -> Result<Vec<NewEvent>, BodyError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| BodyError::Malformed(e.to_string()))?;
    match value {
        Value::Object(obj) => Ok(vec![parse_event(obj, None, now)?]),
        Value::Array(items) => {
            if items.is_empty() {
                return Err(BodyError::Malformed("the array holds no events".into()));
            }
            if items.len() > MAX_EVENTS {
                return Err(BodyError::TooMany(items.len()));
            }
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::Object(obj) => parse_event(obj, Some(i), now),
                    other => Err(BodyError::Invalid {
                        index: Some(i),
                        field: "(event)".into(),
                        message: format!("must be an object, not {}", kind_of(&other)),
                    }),
                })
                .collect()
        }
        other => Err(BodyError::Malformed(format!(
            "expected an event object or an array of events, not {}",
            kind_of(&other)
        ))),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

struct Fields {
    obj: Map<String, Value>,
    index: Option<usize>,
}

impl Fields {
    fn err(&self, field: &str, message: impl Into<String>) -> BodyError {
        BodyError::Invalid {
            index: self.index,
            field: field.into(),
            message: message.into(),
        }
    }

    /// An optional string field (absent or null is `None`).
    fn string(&mut self, field: &str, max_chars: usize) -> Result<Option<String>, BodyError> {
        match self.obj.remove(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => {
                if s.chars().count() > max_chars {
                    return Err(self.err(field, format!("is longer than {max_chars} characters")));
                }
                if s.contains('\0') {
                    return Err(self.err(field, "must not contain NUL characters"));
                }
                Ok(Some(s))
            }
            Some(other) => {
                Err(self.err(field, format!("must be a string, not {}", kind_of(&other))))
            }
        }
    }

    /// A short, single-line identifier-like field; empty counts as absent.
    fn short(&mut self, field: &str) -> Result<Option<String>, BodyError> {
        let value = self.string(field, MAX_SHORT_CHARS)?;
        match value {
            Some(s) if s.chars().any(char::is_control) => {
                Err(self.err(field, "must not contain control characters"))
            }
            Some(s) if s.trim().is_empty() => Ok(None),
            Some(s) => Ok(Some(s.trim().to_owned())),
            None => Ok(None),
        }
    }
}

fn parse_event(
    obj: Map<String, Value>,
    index: Option<usize>,
    now: DateTime<Utc>,
) -> Result<NewEvent, BodyError> {
    let mut f = Fields { obj, index };
    if let Some(unknown) = f.obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        let unknown = unknown.clone();
        return Err(f.err(
            &unknown,
            format!(
                "is not an event field (fields: {}; put anything else in `attributes`)",
                FIELDS.join(", ")
            ),
        ));
    }

    let service = f
        .short("service")?
        .ok_or_else(|| f.err("service", "is required (the slug of the sending service)"))?;
    validate_slug(&service).map_err(|m| f.err("service", m))?;

    let id = match f.string("id", 64)? {
        None => Uuid::now_v7(),
        Some(s) => Uuid::parse_str(&s).map_err(|_| f.err("id", "must be a UUID"))?,
    };

    let occurred_at = match f.string("timestamp", 64)? {
        None => now,
        Some(s) => {
            let t = DateTime::parse_from_rfc3339(&s)
                .map_err(|_| {
                    f.err(
                        "timestamp",
                        "must be an RFC 3339 time, e.g. 2026-11-22T10:15:00Z",
                    )
                })?
                .with_timezone(&Utc);
            if t < now - Duration::days(MAX_AGE_DAYS) {
                return Err(f.err(
                    "timestamp",
                    format!("is more than {MAX_AGE_DAYS} days in the past"),
                ));
            }
            if t > now + Duration::hours(MAX_AHEAD_HOURS) {
                return Err(f.err("timestamp", "is more than 1 day in the future"));
            }
            t
        }
    };

    let level = match f.string("level", 16)? {
        None => Level::Info,
        Some(s) => Level::parse(&s).ok_or_else(|| {
            f.err(
                "level",
                format!("\"{s}\" is not a level (use debug, info, warning, error, critical)"),
            )
        })?,
    };

    let kind = f.short("type")?.unwrap_or_else(|| "event".to_owned());
    if !kind
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | ':' | '/'))
    {
        return Err(f.err(
            "type",
            "may contain letters, digits and . _ - : / only (e.g. voucher.booked)",
        ));
    }
    let feature = f.short("feature")?.unwrap_or_default();
    let message = f.string("message", MAX_MESSAGE_CHARS)?.unwrap_or_default();
    let release = f.short("release")?;
    let environment = f.short("environment")?;
    let user = f.short("user")?;
    let given_fingerprint = f.short("fingerprint")?;

    let attributes = match f.obj.remove("attributes") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(Value::Object(map)) => {
            let mut value = Value::Object(map);
            if contains_nul(&value) {
                return Err(f.err("attributes", "must not contain NUL characters"));
            }
            scrub(&mut value);
            let size = serde_json::to_vec(&value)
                .map(|v| v.len())
                .unwrap_or(usize::MAX);
            if size > MAX_ATTRIBUTES_BYTES {
                return Err(f.err(
                    "attributes",
                    format!("is {size} bytes; at most {MAX_ATTRIBUTES_BYTES} bytes (16 KiB) are accepted"),
                ));
            }
            value
        }
        Some(other) => {
            return Err(f.err(
                "attributes",
                format!("must be an object, not {}", kind_of(&other)),
            ));
        }
    };

    let fingerprint = match given_fingerprint {
        Some(fp) => Some(fp),
        None if level.is_error() => Some(default_fingerprint(&service, &feature, &kind, &message)),
        None => None,
    };

    Ok(NewEvent {
        id,
        occurred_at,
        service,
        feature,
        kind,
        level,
        message,
        fingerprint,
        release,
        environment,
        user,
        attributes,
    })
}

fn contains_nul(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(contains_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || contains_nul(v)),
        _ => false,
    }
}

/// Replacement for scrubbed values.
pub const FILTERED: &str = "[Filtered]";

const SECRET_KEY_PARTS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "api-key",
    "authorization",
    "auth_header",
    "cookie",
    "session",
    "credit_card",
    "card_number",
    "private_key",
];

/// Whether an attribute key names something secret.
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    SECRET_KEY_PARTS.iter().any(|part| k.contains(part))
}

/// Whether text holds a payment card number (13–19 digits passing Luhn,
/// spaces or dashes allowed between digits).
pub fn looks_like_card_number(s: &str) -> bool {
    let mut digits: Vec<u32> = Vec::with_capacity(19);
    let mut run_ok = true;
    let check = |digits: &[u32]| (13..=19).contains(&digits.len()) && luhn(digits);
    for c in s.chars() {
        if let Some(d) = c.to_digit(10) {
            digits.push(d);
        } else if (c == ' ' || c == '-') && !digits.is_empty() && run_ok {
            continue;
        } else {
            if check(&digits) {
                return true;
            }
            digits.clear();
            run_ok = true;
        }
        if digits.len() > 19 {
            digits.clear();
            run_ok = false;
        }
    }
    check(&digits)
}

fn luhn(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                *d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Replaces secret-looking attribute values by [`FILTERED`], in place.
pub fn scrub(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                if is_secret_key(k) && !val.is_null() {
                    *val = Value::String(FILTERED.into());
                } else {
                    scrub(val);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(scrub),
        Value::String(s) if looks_like_card_number(s) => *s = FILTERED.into(),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-22T12:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    fn parse(v: Value) -> Result<Vec<NewEvent>, BodyError> {
        parse_body(v.to_string().as_bytes(), now())
    }

    fn field_of(e: BodyError) -> (Option<usize>, String) {
        match e {
            BodyError::Invalid { index, field, .. } => (index, field),
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn a_minimal_event_gets_defaults() {
        let events = parse(json!({ "service": "shop" })).expect("valid");
        let e = &events[0];
        assert_eq!(e.service, "shop");
        assert_eq!(e.level, Level::Info);
        assert_eq!(e.kind, "event");
        assert_eq!(e.occurred_at, now());
        assert_eq!(e.fingerprint, None);
        assert_eq!(e.attributes, json!({}));
    }

    #[test]
    fn error_events_without_fingerprint_get_the_default_one() {
        let events =
            parse(json!({ "service": "shop", "level": "error", "message": "order 12 failed" }))
                .expect("valid");
        assert_eq!(
            events[0].fingerprint.as_deref(),
            Some(default_fingerprint("shop", "", "event", "order 12 failed").as_str())
        );
    }

    #[test]
    fn malformed_json_is_malformed() {
        assert!(matches!(
            parse_body(b"{\"service\": ", now()),
            Err(BodyError::Malformed(_))
        ));
        assert!(matches!(
            parse_body(b"42", now()),
            Err(BodyError::Malformed(_))
        ));
        assert!(matches!(
            parse_body(b"[]", now()),
            Err(BodyError::Malformed(_))
        ));
    }

    #[test]
    fn wrong_types_name_the_field_and_index() {
        let e = parse(json!([{ "service": "shop" }, { "service": "shop", "message": 5 }]))
            .expect_err("bad");
        assert_eq!(field_of(e), (Some(1), "message".into()));
        let e = parse(json!({ "service": "shop", "attributes": [1] })).expect_err("bad");
        assert_eq!(field_of(e), (None, "attributes".into()));
    }

    #[test]
    fn unknown_level_and_unknown_field_are_refused() {
        let e = parse(json!({ "service": "shop", "level": "fatal" })).expect_err("bad");
        assert_eq!(field_of(e).1, "level");
        let e = parse(json!({ "service": "shop", "servcie": "x" })).expect_err("bad");
        assert_eq!(field_of(e).1, "servcie");
    }

    #[test]
    fn timestamps_more_than_a_year_old_or_a_day_ahead_are_refused() {
        let old =
            parse(json!({ "service": "s", "timestamp": "2025-11-21T11:59:59Z" })).expect_err("old");
        assert_eq!(field_of(old).1, "timestamp");
        let ahead = parse(json!({ "service": "s", "timestamp": "2026-11-23T12:00:01Z" }))
            .expect_err("ahead");
        assert_eq!(field_of(ahead).1, "timestamp");
        assert!(parse(json!({ "service": "s", "timestamp": "2026-10-13T09:00:00+02:00" })).is_ok());
        assert!(parse(json!({ "service": "s", "timestamp": "2026-11-27T12:00:00Z" })).is_err());
        assert!(parse(json!({ "service": "s", "timestamp": "2026-11-23T11:00:00Z" })).is_ok());
    }

    #[test]
    fn more_than_1000_events_are_too_many() {
        let many: Vec<Value> = (0..1001).map(|_| json!({ "service": "s" })).collect();
        assert_eq!(
            parse(Value::Array(many)).expect_err("too many"),
            BodyError::TooMany(1001)
        );
    }

    #[test]
    fn oversized_attributes_are_refused() {
        let big = "x".repeat(MAX_ATTRIBUTES_BYTES);
        let e = parse(json!({ "service": "s", "attributes": { "blob": big } })).expect_err("big");
        assert_eq!(field_of(e).1, "attributes");
    }

    #[test]
    fn service_must_be_a_slug() {
        let e = parse(json!({ "service": "Shop API" })).expect_err("bad");
        assert_eq!(field_of(e).1, "service");
        let e = parse(json!({ "message": "no service" })).expect_err("missing");
        assert_eq!(field_of(e).1, "service");
    }

    #[test]
    fn nul_characters_are_refused() {
        let e = parse(json!({ "service": "s", "message": "a\u{0}b" })).expect_err("nul");
        assert_eq!(field_of(e).1, "message");
        let e = parse(json!({ "service": "s", "attributes": { "k": "a\u{0}" } })).expect_err("nul");
        assert_eq!(field_of(e).1, "attributes");
    }

    #[test]
    fn secrets_in_attributes_are_filtered() {
        let events = parse(json!({ "service": "s", "attributes": {
            "password": "hunter2",
            "nested": { "Authorization": "Bearer abc", "apiKey": "k", "ok": "visible" },
            "card": "4111 1111 1111 1111",
            "list": [{ "session_id": "xyz" }],
            "count": 3
        }}))
        .expect("valid");
        assert_eq!(
            events[0].attributes,
            json!({
                "password": FILTERED,
                "nested": { "Authorization": FILTERED, "apiKey": FILTERED, "ok": "visible" },
                "card": FILTERED,
                "list": [{ "session_id": FILTERED }],
                "count": 3
            })
        );
    }

    #[test]
    fn card_numbers_need_a_valid_luhn_checksum() {
        assert!(looks_like_card_number("4111111111111111"));
        assert!(looks_like_card_number(
            "paid with 5500-0000-0000-0004 today"
        ));
        assert!(!looks_like_card_number("4111111111111112"));
        assert!(!looks_like_card_number("order 12345"));
    }
}
