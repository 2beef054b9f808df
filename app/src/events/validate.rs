//! Parsing and validating an ingest request body.
//!
//! The body is one event object or an array of them. Every field is checked
//! by hand so that an error names the event's index and the exact field,
//! and one bad event rejects the whole request before anything is stored.

use std::borrow::Cow;

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::fingerprint::default_fingerprint;
use super::types::{Level, NewEvent};
use crate::privacy::scrub::{scrub, scrub_text};
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
///
/// Well-formed bodies take a typed path that borrows the strings from the
/// body; anything that path cannot read (a wrong type, an unknown or
/// repeated field, not JSON at all) is read again as a JSON tree, field by
/// field, so the error names the exact event and field. Both paths share
/// every check after decoding.
pub fn parse_body(body: &[u8], now: DateTime<Utc>) -> Result<Vec<NewEvent>, BodyError> {
    match parse_typed(body) {
        Some((raws, false)) => raws
            .into_iter()
            .map(|raw| parse_event(raw, None, now))
            .collect(),
        Some((raws, true)) => {
            check_count(raws.len())?;
            raws.into_iter()
                .enumerate()
                .map(|(i, raw)| parse_event(raw, Some(i), now))
                .collect()
        }
        None => parse_tree(body, now),
    }
}

/// An array must hold 1 to `MAX_EVENTS` events.
fn check_count(n: usize) -> Result<(), BodyError> {
    match n {
        0 => Err(BodyError::Malformed("the array holds no events".into())),
        n if n > MAX_EVENTS => Err(BodyError::TooMany(n)),
        _ => Ok(()),
    }
}

/// The typed path: the events, and whether the body was an array; `None`
/// when the body is anything but well-formed events.
fn parse_typed(body: &[u8]) -> Option<(Vec<RawEvent<'_>>, bool)> {
    match body.iter().find(|b| !b.is_ascii_whitespace())? {
        b'{' => serde_json::from_slice(body)
            .ok()
            .map(|raw| (vec![raw], false)),
        b'[' => serde_json::from_slice(body).ok().map(|raws| (raws, true)),
        _ => None,
    }
}

/// The slow path: the body as a JSON tree, for exact errors.
fn parse_tree(body: &[u8], now: DateTime<Utc>) -> Result<Vec<NewEvent>, BodyError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| BodyError::Malformed(e.to_string()))?;
    match value {
        Value::Object(obj) => Ok(vec![parse_event(obj, None, now)?]),
        Value::Array(items) => {
            check_count(items.len())?;
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

/// One event as the typed path reads it: every field optional (null is
/// absent), strings borrowed from the body where they hold no escapes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, bound(deserialize = "'de: 'a"))]
struct RawEvent<'a> {
    id: Option<Text<'a>>,
    timestamp: Option<Text<'a>>,
    service: Option<Text<'a>>,
    feature: Option<Text<'a>>,
    #[serde(rename = "type")]
    kind: Option<Text<'a>>,
    level: Option<Text<'a>>,
    message: Option<Text<'a>>,
    fingerprint: Option<Text<'a>>,
    release: Option<Text<'a>>,
    environment: Option<Text<'a>>,
    user: Option<Text<'a>>,
    attributes: Option<Map<String, Value>>,
}

/// A string of the body, borrowed unless it holds escapes (a bare
/// `Cow<str>` field would always copy).
#[derive(Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

/// Where an event's fields come from: the typed path or the JSON tree.
trait Source<'a> {
    /// The first field that is not an event field.
    fn unknown_field(&self) -> Option<String>;
    /// A string field; absent or null is `None`, another type an error
    /// message naming it.
    fn text(&mut self, field: &'static str) -> Result<Option<Cow<'a, str>>, String>;
    /// The attributes object; absent or null is `None`.
    fn attributes(&mut self) -> Result<Option<Map<String, Value>>, String>;
}

impl<'a> Source<'a> for RawEvent<'a> {
    fn unknown_field(&self) -> Option<String> {
        None
    }

    fn text(&mut self, field: &'static str) -> Result<Option<Cow<'a, str>>, String> {
        let text = match field {
            "id" => self.id.take(),
            "timestamp" => self.timestamp.take(),
            "service" => self.service.take(),
            "feature" => self.feature.take(),
            "type" => self.kind.take(),
            "level" => self.level.take(),
            "message" => self.message.take(),
            "fingerprint" => self.fingerprint.take(),
            "release" => self.release.take(),
            "environment" => self.environment.take(),
            "user" => self.user.take(),
            _ => None,
        };
        Ok(text.map(|t| t.0))
    }

    fn attributes(&mut self) -> Result<Option<Map<String, Value>>, String> {
        Ok(self.attributes.take())
    }
}

impl<'a> Source<'a> for Map<String, Value> {
    fn unknown_field(&self) -> Option<String> {
        self.keys().find(|k| !FIELDS.contains(&k.as_str())).cloned()
    }

    fn text(&mut self, field: &'static str) -> Result<Option<Cow<'a, str>>, String> {
        match self.remove(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(Cow::Owned(s))),
            Some(other) => Err(format!("must be a string, not {}", kind_of(&other))),
        }
    }

    fn attributes(&mut self) -> Result<Option<Map<String, Value>>, String> {
        match self.remove("attributes") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(map)) => Ok(Some(map)),
            Some(other) => Err(format!("must be an object, not {}", kind_of(&other))),
        }
    }
}

struct Fields<S> {
    source: S,
    index: Option<usize>,
}

impl<'a, S: Source<'a>> Fields<S> {
    fn err(&self, field: &str, message: impl Into<String>) -> BodyError {
        BodyError::Invalid {
            index: self.index,
            field: field.into(),
            message: message.into(),
        }
    }

    /// An optional string field (absent or null is `None`).
    fn string(
        &mut self,
        field: &'static str,
        max_chars: usize,
    ) -> Result<Option<Cow<'a, str>>, BodyError> {
        let value = self.source.text(field).map_err(|m| self.err(field, m))?;
        if let Some(s) = &value {
            if s.chars().count() > max_chars {
                return Err(self.err(field, format!("is longer than {max_chars} characters")));
            }
            if s.contains('\0') {
                return Err(self.err(field, "must not contain NUL characters"));
            }
        }
        Ok(value)
    }

    /// A short, single-line identifier-like field; empty counts as absent.
    fn short(&mut self, field: &'static str) -> Result<Option<String>, BodyError> {
        let value = self.string(field, MAX_SHORT_CHARS)?;
        match value {
            Some(s) if s.chars().any(char::is_control) => {
                Err(self.err(field, "must not contain control characters"))
            }
            Some(s) if s.trim().is_empty() => Ok(None),
            Some(s) if s.trim().len() == s.len() => Ok(Some(s.into_owned())),
            Some(s) => Ok(Some(s.trim().to_owned())),
            None => Ok(None),
        }
    }
}

fn parse_event<'a>(
    source: impl Source<'a>,
    index: Option<usize>,
    now: DateTime<Utc>,
) -> Result<NewEvent, BodyError> {
    let mut f = Fields { source, index };
    if let Some(unknown) = f.source.unknown_field() {
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
    let message = f
        .string("message", MAX_MESSAGE_CHARS)?
        .map(|m| scrub_text(&m).into_owned())
        .unwrap_or_default();
    let release = f.short("release")?;
    let environment = f.short("environment")?;
    let user = f.short("user")?;
    let given_fingerprint = f.short("fingerprint")?;

    let attributes = match f.source.attributes() {
        Err(m) => return Err(f.err("attributes", m)),
        Ok(None) => Value::Object(Map::new()),
        Ok(Some(map)) => {
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
        payload: None,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::privacy::scrub::FILTERED;
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
    fn both_paths_read_a_valid_body_alike() {
        let body = json!([
            { "id": "0190a4c4-1d2e-7a3b-9c4d-5e6f7a8b9c0d", "service": "shop", "feature": " checkout ",
              "type": "order.placed", "level": "error", "message": "line \"one\"\nline two \u{e9}",
              "release": "1.2.3", "environment": null, "user": "u-1",
              "timestamp": "2026-11-22T11:00:00+01:00",
              "attributes": { "password": "x", "nested": { "card": "4111 1111 1111 1111" } } },
            { "id": "0190a4c4-1d2e-7a3b-9c4d-5e6f7a8b9c0e", "service": "shop", "fingerprint": "fp-1",
              "level": "critical", "attributes": null },
        ])
        .to_string();
        assert!(
            parse_typed(body.as_bytes()).is_some(),
            "takes the typed path"
        );
        let typed = parse_body(body.as_bytes(), now()).expect("valid");
        let tree = parse_tree(body.as_bytes(), now()).expect("valid");
        assert_eq!(typed, tree);
        assert_eq!(typed[0].feature, "checkout");
        assert_eq!(typed[0].message, "line \"one\"\nline two \u{e9}");
        assert_eq!(typed[0].environment, None);
        assert_eq!(typed[0].attributes["password"], FILTERED);
        assert_eq!(typed[0].attributes["nested"]["card"], FILTERED);
    }

    #[test]
    fn plain_strings_are_borrowed_from_the_body() {
        let body = br#"{"service": "shop", "message": "a \"quoted\" word"}"#;
        let Some((raws, false)) = parse_typed(body) else {
            panic!("typed path expected");
        };
        assert!(matches!(raws[0].service, Some(Text(Cow::Borrowed("shop")))));
        assert_eq!(
            raws[0].message.as_ref().map(|t| t.0.as_ref()),
            Some("a \"quoted\" word")
        );
    }

    #[test]
    fn what_the_typed_path_cannot_read_gets_the_exact_error() {
        // Each body leaves the typed path and is judged field by field.
        for (body, index, field) in [
            (json!({ "service": "shop", "level": 3 }), None, "level"),
            (
                json!([{ "service": "shop" }, { "service": "shop", "colour": "red" }]),
                Some(1),
                "colour",
            ),
            (json!([{ "service": "shop" }, 7]), Some(1), "(event)"),
            (
                json!({ "service": "shop", "attributes": [1] }),
                None,
                "attributes",
            ),
        ] {
            let text = body.to_string();
            assert!(parse_typed(text.as_bytes()).is_none(), "{text}");
            assert_eq!(
                field_of(parse(body).expect_err("invalid")),
                (index, field.to_owned())
            );
        }
        // A repeated field: the last one counts, as JSON readers usually do.
        let events = parse_body(br#"{"service": "a", "service": "shop"}"#, now()).expect("valid");
        assert_eq!(events[0].service, "shop");
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
    fn card_numbers_in_messages_are_filtered() {
        let events = parse(json!({ "service": "s", "level": "error",
            "message": "payment with 5500-0000-0000-0004 failed" }))
        .expect("valid");
        assert_eq!(events[0].message, format!("payment with {FILTERED} failed"));
    }
}

/// Property tests: the typed and the tree path agree on every body, and no
/// body makes the parser panic. `make fuzz` runs them for longer
/// (`PROPTEST_CASES`).
#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-22T12:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    /// A JSON string literal, escaped the way a client might (or might not).
    fn string() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("shop".to_owned()),
            Just("checkout".to_owned()),
            Just("order.placed".to_owned()),
            Just("error".to_owned()),
            Just("fatal".to_owned()),
            Just("info".to_owned()),
            Just("warning".to_owned()),
            Just("debug".to_owned()),
            Just(String::new()),
            Just("2026-11-22T11:00:00Z".to_owned()),
            Just("2026-11-22T11:00:00.123+02:00".to_owned()),
            Just("2024-01-01T00:00:00Z".to_owned()),
            Just("2026-11-30T00:00:00Z".to_owned()),
            Just("not a time".to_owned()),
            Just("0b1a7c2e-4d3f-4a8b-9c0d-1e2f3a4b5c6d".to_owned()),
            Just("0B1A7C2E-4D3F-4A8B-9C0D-1E2F3A4B5C6D".to_owned()),
            Just("not-a-uuid".to_owned()),
            Just("Shop Service".to_owned()),
            Just("a\\\"b".to_owned()),
            Just("\\u00fc\\u0000".to_owned()),
            Just("\\ud800".to_owned()),
            Just("line\\nbreak".to_owned()),
            "[a-z.\\-_ ]{0,12}",
            "\\PC{0,8}".prop_map(|s| s.replace(['\\', '"'], "")),
            (1usize..3).prop_map(|n| "x".repeat(MAX_SHORT_CHARS * n)),
        ]
        .prop_map(|s| format!("\"{s}\""))
    }

    /// Any JSON value as text, nested a little.
    fn value() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("null".to_owned()),
            Just("true".to_owned()),
            Just("false".to_owned()),
            any::<i64>().prop_map(|n| n.to_string()),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| f.to_string()),
            Just("1e400".to_owned()),
            string(),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4)
                    .prop_map(|v| format!("[{}]", v.join(","))),
                prop::collection::vec((string(), inner), 0..4).prop_map(|kv| {
                    let body: Vec<String> =
                        kv.into_iter().map(|(k, v)| format!("{k}:{v}")).collect();
                    format!("{{{}}}", body.join(","))
                }),
            ]
        })
    }

    /// An event object: event fields (sometimes repeated, sometimes
    /// unknown ones) with values of the right or a wrong type.
    fn event() -> impl Strategy<Value = String> {
        let name = prop_oneof![
            8 => prop::sample::select(FIELDS.to_vec()).prop_map(str::to_owned),
            1 => Just("extra".to_owned()),
            1 => Just("Service".to_owned()),
        ];
        let field_value = prop_oneof![6 => string(), 1 => value()];
        prop::collection::vec((name, field_value), 0..9).prop_map(|fields| {
            let body: Vec<String> = fields
                .into_iter()
                .map(|(k, v)| {
                    if k == "attributes" && !v.starts_with('{') {
                        format!("\"{k}\":{{\"n\":{v}}}")
                    } else {
                        format!("\"{k}\":{v}")
                    }
                })
                .collect();
            format!("{{{}}}", body.join(","))
        })
    }

    /// A request body: one event, an array of them (sometimes with a
    /// non-object), another JSON value, or truncated text.
    fn body() -> impl Strategy<Value = String> {
        let ws = prop::sample::select(vec!["", " ", "\n", "\t "]);
        prop_oneof![
            4 => event(),
            4 => prop::collection::vec(prop_oneof![9 => event(), 1 => value()], 0..6)
                .prop_map(|v| format!("[{}]", v.join(","))),
            1 => value(),
            1 => (event(), any::<prop::sample::Index>()).prop_map(|(e, cut)| {
                let at = cut.index(e.len().max(1));
                e.char_indices().map(|(i, _)| i).rfind(|i| *i <= at).map_or(e.clone(), |i| e[..i].to_owned())
            }),
        ]
        .prop_flat_map(move |b| (ws.clone(), Just(b), ws.clone()))
        .prop_map(|(a, b, c)| format!("{a}{b}{c}"))
    }

    /// Ids the parser makes itself (version 7) differ run to run; ids a
    /// body gives are kept as given.
    fn comparable(r: Result<Vec<NewEvent>, BodyError>) -> Result<Vec<NewEvent>, BodyError> {
        r.map(|events| {
            events
                .into_iter()
                .map(|mut e| {
                    if e.id.get_version_num() == 7 {
                        e.id = Uuid::nil();
                    }
                    e
                })
                .collect()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            failure_persistence: Some(Box::new(
                proptest::test_runner::FileFailurePersistence::WithSource("proptest-regressions"),
            )),
            ..ProptestConfig::default()
        })]

        /// Every accepted body gives the same events on both paths; every
        /// refused one the same error, at the same event and field.
        #[test]
        fn typed_and_tree_paths_agree(body in body()) {
            let fast = comparable(parse_body(body.as_bytes(), now()));
            let slow = comparable(parse_tree(body.as_bytes(), now()));
            prop_assert_eq!(fast, slow, "body: {}", body);
        }

        /// Arbitrary bytes are refused or accepted, never a panic.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_body(&bytes, now());
        }
    }
}
