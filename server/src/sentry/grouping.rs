//! How Sentry events are grouped: the event's own `fingerprint` when set
//! (`{{ default }}` expanded), else the exception chain's types with the
//! in-app frames' module (or file name) and function, else the message with
//! its variable parts masked. Line numbers, addresses and values never take
//! part, so a group stays the same across releases.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// An event's group key and how the group is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grouping {
    /// 32 hex digits of SHA-256 over the components.
    pub fingerprint: String,
    /// `Type: value`, or the message.
    pub title: String,
    /// The top in-app frame: `module in function`.
    pub culprit: String,
}

/// The exceptions of an event, the raised one last (Sentry's order).
fn exceptions(event: &Value) -> Vec<&Value> {
    match &event["exception"] {
        Value::Object(o) => o
            .get("values")
            .and_then(Value::as_array)
            .map(|v| v.iter().collect())
            .unwrap_or_default(),
        Value::Array(a) => a.iter().collect(),
        _ => Vec::new(),
    }
}

/// Frames of one exception, oldest first (Sentry's order).
fn frames(exception: &Value) -> Vec<&Value> {
    exception["stacktrace"]["frames"]
        .as_array()
        .map(|f| f.iter().collect())
        .unwrap_or_default()
}

/// The frames that identify code: in-app ones, or all when none is marked.
fn relevant<'a>(frames: &[&'a Value]) -> Vec<&'a Value> {
    let in_app: Vec<&Value> = frames
        .iter()
        .copied()
        .filter(|f| f["in_app"].as_bool() == Some(true))
        .collect();
    if in_app.is_empty() {
        frames.to_vec()
    } else {
        in_app
    }
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// Where a frame's code lives: its module, else its file name without
/// directories that differ between deployments.
fn location(frame: &Value) -> String {
    let module = text(&frame["module"]);
    if !module.is_empty() {
        return module.to_owned();
    }
    let file = text(&frame["filename"]);
    let file = if file.is_empty() {
        text(&frame["abs_path"])
    } else {
        file
    };
    file.rsplit(['/', '\\']).next().unwrap_or(file).to_owned()
}

/// Replaces what varies between occurrences of one message: numbers, hex
/// ids, UUIDs, e-mail addresses, IP addresses and quoted values.
pub fn mask(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for word in message.split_inclusive(char::is_whitespace) {
        let trimmed = word.trim_end();
        let ws = &word[trimmed.len()..];
        let core = trimmed.trim_matches(|c: char| ",.;:()[]{}".contains(c));
        let masked = if core.is_empty() {
            None
        } else if core.contains('@') && core.contains('.') {
            Some("<email>")
        } else if core.len() == 36 && core.chars().filter(|c| *c == '-').count() == 4 {
            Some("<uuid>")
        } else if core.parse::<std::net::IpAddr>().is_ok() {
            Some("<ip>")
        } else if core
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '-' || c == '_')
            && core.chars().any(|c| c.is_ascii_digit())
        {
            Some("<num>")
        } else if core.len() >= 8
            && core.chars().all(|c| c.is_ascii_hexdigit())
            && core.chars().any(|c| c.is_ascii_digit())
        {
            Some("<hex>")
        } else if (core.starts_with('\'') && core.ends_with('\'') && core.len() > 1)
            || (core.starts_with('"') && core.ends_with('"') && core.len() > 1)
        {
            Some("<str>")
        } else {
            None
        };
        match masked {
            Some(m) => {
                out.push_str(&trimmed.replace(core, m));
                out.push_str(ws);
            }
            None => out.push_str(word),
        }
    }
    out
}

/// The message of an event: `logentry.formatted`/`message`, or `message`.
pub fn message(event: &Value) -> String {
    let logentry = &event["logentry"];
    for candidate in [
        &logentry["formatted"],
        &logentry["message"],
        &event["message"]["formatted"],
        &event["message"]["message"],
        &event["message"],
    ] {
        if let Some(s) = candidate.as_str()
            && !s.is_empty()
        {
            return s.to_owned();
        }
    }
    String::new()
}

/// The default grouping components of an event.
fn default_components(event: &Value) -> Vec<String> {
    let chain = exceptions(event);
    if !chain.is_empty() {
        let mut parts = Vec::new();
        for e in &chain {
            parts.push(format!("type:{}", text(&e["type"])));
            for f in relevant(&frames(e)) {
                parts.push(format!("frame:{}:{}", location(f), text(&f["function"])));
            }
        }
        // Without any frame, the value tells exceptions of one type apart.
        if chain.iter().all(|e| frames(e).is_empty())
            && let Some(last) = chain.last()
        {
            parts.push(format!("value:{}", mask(text(&last["value"]))));
        }
        return parts;
    }
    vec![format!("message:{}", mask(&message(event)))]
}

/// The grouping of a Sentry event payload.
pub fn group(event: &Value) -> Grouping {
    let components = match event["fingerprint"].as_array() {
        Some(custom) if !custom.is_empty() => custom
            .iter()
            .flat_map(|c| {
                let c = match c {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                if c == "{{ default }}" || c == "{{default}}" {
                    default_components(event)
                } else {
                    vec![format!("custom:{c}")]
                }
            })
            .collect(),
        _ => default_components(event),
    };
    let mut hash = Sha256::new();
    for c in &components {
        hash.update(c.as_bytes());
        hash.update([0]);
    }
    let fingerprint = hex::encode(&hash.finalize()[..16]);

    let chain = exceptions(event);
    let (title, culprit) = match chain.last() {
        Some(e) => {
            let ty = text(&e["type"]);
            let value = text(&e["value"]);
            let title = match (ty.is_empty(), value.is_empty()) {
                (false, false) => format!("{ty}: {value}"),
                (false, true) => ty.to_owned(),
                (true, _) => value.to_owned(),
            };
            let culprit = relevant(&frames(e))
                .last()
                .map(|f| {
                    let function = text(&f["function"]);
                    let location = location(f);
                    match (location.is_empty(), function.is_empty()) {
                        (false, false) => format!("{location} in {function}"),
                        (true, false) => function.to_owned(),
                        _ => location,
                    }
                })
                .unwrap_or_else(|| text(&event["transaction"]).to_owned());
            (title, culprit)
        }
        None => (message(event), text(&event["transaction"]).to_owned()),
    };
    Grouping {
        fingerprint,
        title: title.chars().take(500).collect(),
        culprit: culprit.chars().take(500).collect(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn error(value: &str, line: u32, release: &str) -> Value {
        json!({
            "release": release,
            "exception": { "values": [
                { "type": "KeyError", "value": "'id'", "stacktrace": { "frames": [
                    { "module": "django.core.handlers", "function": "inner", "lineno": 55, "in_app": false },
                    { "module": "shop.db", "function": "load", "lineno": 10, "in_app": true }
                ]}},
                { "type": "ValueError", "value": value, "stacktrace": { "frames": [
                    { "module": "django.core.handlers", "function": "inner", "lineno": 55, "in_app": false },
                    { "filename": "/srv/app/releases/42/shop/views.py", "function": "checkout", "lineno": line, "in_app": true },
                    { "module": "shop.orders", "function": "place_order", "lineno": line + 7, "in_app": true }
                ]}}
            ]}
        })
    }

    #[test]
    fn a_chained_exception_groups_by_types_and_in_app_code_not_lines_or_values() {
        let a = group(&error("order 17 failed", 40, "1.0.0"));
        let b = group(&error("order 99 failed", 52, "1.1.0"));
        assert_eq!(
            a.fingerprint, b.fingerprint,
            "lines, values and releases do not count"
        );
        assert_eq!(a.fingerprint.len(), 32);
        assert_eq!(a.title, "ValueError: order 17 failed");
        assert_eq!(a.culprit, "shop.orders in place_order");
        // Another function is another group.
        let mut other = error("order 17 failed", 40, "1.0.0");
        other["exception"]["values"][1]["stacktrace"]["frames"][2]["function"] =
            json!("cancel_order");
        assert_ne!(group(&other).fingerprint, a.fingerprint);
        // Only in-app frames count: a library frame changing does not split.
        let mut lib = error("order 17 failed", 40, "1.0.0");
        lib["exception"]["values"][1]["stacktrace"]["frames"][0]["function"] = json!("outer");
        assert_eq!(group(&lib).fingerprint, a.fingerprint);
        // Files count by name only, not by the deployment's directory.
        let mut moved = error("order 17 failed", 40, "1.0.0");
        moved["exception"]["values"][1]["stacktrace"]["frames"][1]["filename"] =
            json!("/srv/app/releases/43/shop/views.py");
        assert_eq!(group(&moved).fingerprint, a.fingerprint);
    }

    #[test]
    fn messages_group_with_their_variable_parts_masked() {
        let a = group(&json!({ "message": "user 123 from 10.0.0.7 not found (id 3f2a9c1b0d)" }));
        let b = group(
            &json!({ "logentry": { "formatted": "user 456 from 10.0.0.9 not found (id 77aa9c1b0e)" } }),
        );
        assert_eq!(a.fingerprint, b.fingerprint);
        assert_eq!(a.title, "user 123 from 10.0.0.7 not found (id 3f2a9c1b0d)");
        assert_ne!(
            group(&json!({ "message": "disk full" })).fingerprint,
            a.fingerprint
        );
        assert_eq!(
            mask("mail to ops@example.com about 9ec79c33-ec99-42ab-8353-589fcb2e04dc: 'x'"),
            "mail to <email> about <uuid>: <str>"
        );
    }

    #[test]
    fn a_custom_fingerprint_wins_and_can_extend_the_default() {
        let base = error("order 17 failed", 40, "1.0.0");
        let mut custom = base.clone();
        custom["fingerprint"] = json!(["payments", "timeout"]);
        let mut other = error("something else", 1, "2.0.0");
        other["fingerprint"] = json!(["payments", "timeout"]);
        assert_eq!(group(&custom).fingerprint, group(&other).fingerprint);
        assert_ne!(group(&custom).fingerprint, group(&base).fingerprint);
        let mut extended = base.clone();
        extended["fingerprint"] = json!(["{{ default }}", "tenant-a"]);
        let mut extended_b = base.clone();
        extended_b["fingerprint"] = json!(["{{ default }}", "tenant-b"]);
        assert_ne!(group(&extended).fingerprint, group(&extended_b).fingerprint);
        assert_ne!(group(&extended).fingerprint, group(&base).fingerprint);
    }

    #[test]
    fn frameless_exceptions_use_the_masked_value_and_the_transaction_as_culprit() {
        let a = group(
            &json!({ "transaction": "/api/orders", "exception": { "values": [ { "type": "TimeoutError", "value": "after 3000 ms" } ] } }),
        );
        let b = group(
            &json!({ "exception": [ { "type": "TimeoutError", "value": "after 5000 ms" } ] }),
        );
        assert_eq!(a.fingerprint, b.fingerprint);
        assert_eq!(a.title, "TimeoutError: after 3000 ms");
        assert_eq!(a.culprit, "/api/orders");
        let c = group(
            &json!({ "exception": { "values": [ { "type": "TimeoutError", "value": "connect refused" } ] } }),
        );
        assert_ne!(c.fingerprint, a.fingerprint);
    }
}
