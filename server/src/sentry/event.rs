//! A Sentry event as a Leitstand event: the same JSON `POST /api/v1/events`
//! takes, so it goes through the same validation, scrubbing, KPIs, live
//! stream and alerts. Texts are cut to Leitstand's limits rather than
//! refused: an SDK must never see an error for a long message.

use app::events::validate::{MAX_MESSAGE_CHARS, MAX_SHORT_CHARS};
use serde_json::{Value, json};

use super::grouping::Grouping;

fn cut(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

fn text(v: &Value) -> Option<&str> {
    v.as_str().map(str::trim).filter(|s| !s.is_empty())
}

/// Sentry's level as Leitstand's: `fatal` is `critical`, `log` is `info`;
/// an event without one is an error (what SDKs mean by default).
pub fn level(event: &Value) -> &'static str {
    match text(&event["level"])
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("debug") => "debug",
        Some("info" | "log") => "info",
        Some("warning" | "warn") => "warning",
        Some("fatal" | "critical") => "critical",
        _ => "error",
    }
}

/// `event_id` (32 hex digits, or a UUID) as a UUID.
pub fn event_id(event: &Value) -> Option<uuid::Uuid> {
    text(&event["event_id"]).and_then(|s| uuid::Uuid::parse_str(s).ok())
}

/// `timestamp` as RFC 3339: SDKs send seconds since the epoch (a float)
/// or an RFC 3339 string.
pub fn timestamp(event: &Value) -> Option<String> {
    match &event["timestamp"] {
        Value::Number(n) => {
            let secs = n.as_f64()?;
            if !secs.is_finite() || secs < 0.0 {
                return None;
            }
            let millis = (secs * 1000.0).round() as i64;
            chrono::DateTime::from_timestamp_millis(millis).map(|t| t.to_rfc3339())
        }
        Value::String(s) => chrono::DateTime::parse_from_rfc3339(s.trim())
            .ok()
            .map(|t| t.to_utc().to_rfc3339())
            .or_else(|| {
                // Some SDKs leave out the offset: UTC.
                chrono::NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%S%.f")
                    .ok()
                    .map(|t| t.and_utc().to_rfc3339())
            }),
        _ => None,
    }
}

/// A tag's value: tags come as an object or as `[key, value]` pairs.
fn tag<'a>(event: &'a Value, key: &str) -> Option<&'a str> {
    match &event["tags"] {
        Value::Object(o) => o.get(key).and_then(text),
        Value::Array(pairs) => pairs.iter().find_map(|p| {
            let p = p.as_array()?;
            (p.first()?.as_str()? == key).then(|| p.get(1).and_then(text))?
        }),
        _ => None,
    }
}

/// The Leitstand event for a Sentry event of `service`, grouped by `g`.
pub fn to_leitstand(service: &str, event: &Value, g: &Grouping) -> Value {
    let last_exception = match &event["exception"] {
        Value::Object(o) => o
            .get("values")
            .and_then(Value::as_array)
            .and_then(|v| v.last()),
        Value::Array(a) => a.last(),
        _ => None,
    };
    let (kind, message) = match last_exception {
        Some(e) => (
            text(&e["type"]).unwrap_or("exception").to_owned(),
            text(&e["value"])
                .map(str::to_owned)
                .unwrap_or_else(|| g.title.clone()),
        ),
        None => ("message".to_owned(), super::grouping::message(event)),
    };
    let feature = tag(event, "feature")
        .or_else(|| text(&event["transaction"]))
        .unwrap_or("");
    let user = &event["user"];
    let user = text(&user["id"])
        .or_else(|| text(&user["email"]))
        .or_else(|| text(&user["username"]));
    let mut out = json!({
        "service": service,
        "feature": cut(feature, MAX_SHORT_CHARS),
        "type": cut(&kind, MAX_SHORT_CHARS),
        "level": level(event),
        "message": cut(&message, MAX_MESSAGE_CHARS),
        "fingerprint": g.fingerprint,
        "attributes": { "source": "sentry", "culprit": cut(&g.culprit, MAX_SHORT_CHARS) },
    });
    if let Some(id) = event_id(event) {
        out["id"] = json!(id.to_string());
    }
    if let Some(t) = timestamp(event) {
        out["timestamp"] = json!(t);
    }
    for (from, to) in [("release", "release"), ("environment", "environment")] {
        if let Some(v) = text(&event[from]) {
            out[to] = json!(cut(v, MAX_SHORT_CHARS));
        }
    }
    if let Some(u) = user {
        out["user"] = json!(cut(u, MAX_SHORT_CHARS));
    }
    out
}

/// Scrubs a Sentry payload before it is kept: secret-named fields and
/// secrets inside strings as everywhere in Leitstand, plus headers and
/// cookies sent as `[name, value]` pairs (Sentry's array form), which carry
/// their name in the pair rather than in a key.
pub fn scrub_payload(payload: &mut Value) {
    use app::privacy::scrub::{FILTERED, is_secret_name, scrub};
    fn pairs(v: &mut Value) {
        match v {
            Value::Array(items) => {
                for item in items.iter_mut() {
                    if let Value::Array(pair) = item
                        && pair.len() == 2
                        && pair[0].as_str().is_some_and(is_secret_name)
                        && !pair[1].is_null()
                    {
                        pair[1] = Value::String(FILTERED.into());
                    } else {
                        pairs(item);
                    }
                }
            }
            Value::Object(map) => map.values_mut().for_each(pairs),
            _ => {}
        }
    }
    pairs(payload);
    scrub(payload);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sentry::grouping::group;

    fn python_error() -> Value {
        json!({
            "event_id": "9ec79c33ec9942ab8353589fcb2e04dc",
            "timestamp": 1_764_756_000.25,
            "level": "error",
            "platform": "python",
            "release": "shop@2.4.1",
            "environment": "production",
            "transaction": "/checkout",
            "user": { "id": "u-17", "email": "anna@example.com", "ip_address": "10.0.0.5" },
            "tags": { "feature": "checkout" },
            "exception": { "values": [
                { "type": "ZeroDivisionError", "value": "division by zero",
                  "stacktrace": { "frames": [
                      { "module": "shop.cart", "function": "total", "lineno": 12, "in_app": true }
                  ]}}
            ]}
        })
    }

    #[test]
    fn an_exception_becomes_an_error_event_of_its_service() {
        let e = python_error();
        let g = group(&e);
        let out = to_leitstand("shop", &e, &g);
        assert_eq!(out["service"], "shop");
        assert_eq!(out["type"], "ZeroDivisionError");
        assert_eq!(out["message"], "division by zero");
        assert_eq!(out["level"], "error");
        assert_eq!(
            out["feature"], "checkout",
            "the feature tag wins over the transaction"
        );
        assert_eq!(out["user"], "u-17", "user.id before the e-mail");
        assert_eq!(out["release"], "shop@2.4.1");
        assert_eq!(out["environment"], "production");
        assert_eq!(out["id"], "9ec79c33-ec99-42ab-8353-589fcb2e04dc");
        assert_eq!(out["timestamp"], "2025-12-03T10:00:00.250+00:00");
        assert_eq!(out["fingerprint"], g.fingerprint.as_str());
        assert_eq!(out["attributes"]["culprit"], "shop.cart in total");
    }

    #[test]
    fn messages_levels_users_and_times_in_every_form_sdks_send() {
        let e = json!({
            "message": { "formatted": "cache miss for 42" },
            "level": "warning",
            "timestamp": "2026-12-03T10:00:00.5",
            "transaction": "GET /api/orders",
            "user": { "email": "anna@example.com" },
            "tags": [["region", "eu"]]
        });
        let out = to_leitstand("api", &e, &group(&e));
        assert_eq!(out["type"], "message");
        assert_eq!(out["message"], "cache miss for 42");
        assert_eq!(out["level"], "warning");
        assert_eq!(out["feature"], "GET /api/orders");
        assert_eq!(out["user"], "anna@example.com");
        assert_eq!(out["timestamp"], "2026-12-03T10:00:00.500+00:00");
        assert!(out.get("id").is_none(), "no event_id: the server makes one");
        for (sentry, ours) in [
            ("fatal", "critical"),
            ("log", "info"),
            ("debug", "debug"),
            ("nonsense", "error"),
        ] {
            assert_eq!(level(&json!({ "level": sentry })), ours);
        }
        assert_eq!(level(&json!({})), "error");
        assert_eq!(timestamp(&json!({ "timestamp": -5 })), None);
        assert_eq!(timestamp(&json!({ "timestamp": "yesterday" })), None);
    }

    #[test]
    fn long_texts_are_cut_to_the_limits_instead_of_refused() {
        let long = "x".repeat(MAX_MESSAGE_CHARS + 100);
        let e = json!({ "message": long, "transaction": "t".repeat(500) });
        let out = to_leitstand("api", &e, &group(&e));
        assert_eq!(
            out["message"].as_str().map(|m| m.chars().count()),
            Some(MAX_MESSAGE_CHARS)
        );
        assert_eq!(
            out["feature"].as_str().map(|m| m.chars().count()),
            Some(MAX_SHORT_CHARS)
        );
    }
}
