//! Reads the Sentry payload kept with an event (`attributes.sentry`, already
//! scrubbed at ingest) into what the Error detail page shows. Every field
//! is optional and of any shape an SDK may send: what does not fit is left
//! out, never an error.

use serde_json::Value;

use super::types::{Breadcrumb, EventDetail, Exception, Frame};

/// Longest text shown for one value (a variable, a header, a tag).
const MAX_VALUE_CHARS: usize = 500;
/// At most this many frames per exception, breadcrumbs, lines per section.
const MAX_FRAMES: usize = 200;
const MAX_BREADCRUMBS: usize = 200;
const MAX_LINES: usize = 100;

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Any JSON value as one line, cut to [`MAX_VALUE_CHARS`].
fn shown(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Null => "null".into(),
        other => other.to_string(),
    };
    if s.chars().count() > MAX_VALUE_CHARS {
        let mut cut: String = s.chars().take(MAX_VALUE_CHARS).collect();
        cut.push('…');
        cut
    } else {
        s
    }
}

/// An object's entries, or `[name, value]` pairs, as `name = value` lines.
fn pairs(v: &Value) -> Vec<(String, String)> {
    match v {
        Value::Object(o) => o
            .iter()
            .take(MAX_LINES)
            .map(|(k, v)| (k.clone(), shown(v)))
            .collect(),
        Value::Array(items) => items
            .iter()
            .filter_map(|p| {
                let p = p.as_array()?;
                Some((text(p.first()?)?, shown(p.get(1)?)))
            })
            .take(MAX_LINES)
            .collect(),
        _ => Vec::new(),
    }
}

/// `values` of an interface given as `{"values": [...]}` or a bare array.
fn values(v: &Value) -> &[Value] {
    match v {
        Value::Object(o) => o
            .get("values")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]),
        Value::Array(a) => a.as_slice(),
        _ => &[],
    }
}

fn lines(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().take(MAX_LINES).map(shown).collect())
        .unwrap_or_default()
}

fn frame(f: &Value) -> Frame {
    Frame {
        function: text(&f["function"]),
        module: text(&f["module"]),
        filename: text(&f["filename"]),
        abs_path: text(&f["abs_path"]),
        lineno: f["lineno"].as_i64(),
        colno: f["colno"].as_i64(),
        in_app: f["in_app"].as_bool().unwrap_or(false),
        pre_context: lines(&f["pre_context"]),
        context_line: text(&f["context_line"]),
        post_context: lines(&f["post_context"]),
        vars: pairs(&f["vars"]),
    }
}

fn exception(e: &Value, thread_frames: Option<&Value>) -> Exception {
    let stack = if e["stacktrace"].is_object() {
        &e["stacktrace"]
    } else {
        thread_frames.unwrap_or(&Value::Null)
    };
    // Sentry sends frames oldest call first; show where it was raised first.
    let mut frames: Vec<Frame> = stack["frames"]
        .as_array()
        .map(|fs| fs.iter().rev().take(MAX_FRAMES).map(frame).collect())
        .unwrap_or_default();
    // Without in-app marks, every frame is the app's own.
    if !frames.is_empty() && frames.iter().all(|f| !f.in_app) && e["stacktrace"].is_object() {
        let marked = stack["frames"]
            .as_array()
            .is_some_and(|fs| fs.iter().any(|f| f.get("in_app").is_some()));
        if !marked {
            frames.iter_mut().for_each(|f| f.in_app = true);
        }
    }
    Exception {
        kind: text(&e["type"]).unwrap_or_else(|| "Error".into()),
        value: text(&e["value"]).unwrap_or_default(),
        module: text(&e["module"]),
        mechanism: text(&e["mechanism"]["type"]),
        handled: e["mechanism"]["handled"].as_bool(),
        frames,
    }
}

/// The parts of a Sentry event worth showing.
pub fn detail(payload: &Value) -> EventDetail {
    if !payload.is_object() {
        return EventDetail::default();
    }
    // The crashed thread's stack, for exceptions sent without their own.
    let thread = values(&payload["threads"])
        .iter()
        .find(|t| t["crashed"].as_bool() == Some(true))
        .map(|t| &t["stacktrace"]);
    let mut exception: Vec<Exception> = values(&payload["exception"])
        .iter()
        .map(|e| exception(e, thread))
        .collect();
    // Sentry lists a chain innermost cause first; show the outermost first.
    exception.reverse();
    let breadcrumbs = values(&payload["breadcrumbs"])
        .iter()
        .rev()
        .take(MAX_BREADCRUMBS)
        .rev()
        .map(|b| Breadcrumb {
            timestamp: match &b["timestamp"] {
                Value::Number(n) => n
                    .as_f64()
                    .and_then(|s| chrono::DateTime::from_timestamp_millis((s * 1000.0) as i64))
                    .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
                other => text(other),
            },
            category: text(&b["category"])
                .or_else(|| text(&b["type"]))
                .unwrap_or_default(),
            level: text(&b["level"]).unwrap_or_else(|| "info".into()),
            message: text(&b["message"]).unwrap_or_default(),
            data: pairs(&b["data"]),
        })
        .collect();
    let req = &payload["request"];
    let mut request = Vec::new();
    for key in ["method", "url", "query_string"] {
        if let Some(v) = text(&req[key]) {
            request.push((key.to_owned(), v));
        }
    }
    if let Value::Object(_) = &req["query_string"] {
        request.extend(pairs(&req["query_string"]));
    }
    for (k, v) in pairs(&req["headers"]) {
        request.push((format!("header {k}"), v));
    }
    if !req["data"].is_null() {
        request.push(("data".into(), shown(&req["data"])));
    }
    let contexts = match &payload["contexts"] {
        Value::Object(o) => o
            .iter()
            .take(MAX_LINES)
            .map(|(name, v)| {
                (
                    name.clone(),
                    pairs(v).into_iter().filter(|(k, _)| k != "type").collect(),
                )
            })
            .collect(),
        _ => Vec::new(),
    };
    let sdk = text(&payload["sdk"]["name"]).map(|name| match text(&payload["sdk"]["version"]) {
        Some(v) => format!("{name} {v}"),
        None => name,
    });
    EventDetail {
        exception,
        breadcrumbs,
        request,
        user: pairs(&payload["user"]),
        tags: pairs(&payload["tags"]),
        contexts,
        sdk,
        platform: text(&payload["platform"]),
        server_name: text(&payload["server_name"]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_chained_exception_reads_outermost_first_with_frames_innermost_first() {
        let d = detail(&json!({
            "exception": {"values": [
                {"type": "KeyError", "value": "'sku'",
                 "stacktrace": {"frames": [
                    {"function": "main", "module": "shop.app", "lineno": 3, "in_app": true},
                    {"function": "lookup", "module": "shop.cart", "lineno": 41, "in_app": true,
                     "pre_context": ["a", "b"], "context_line": "  return items[sku]",
                     "post_context": ["c"], "vars": {"sku": "'x'", "password": "[Filtered]"}}]}},
                {"type": "CheckoutError", "value": "could not check out",
                 "mechanism": {"type": "chained", "handled": false},
                 "stacktrace": {"frames": [{"function": "checkout", "filename": "cart.py", "lineno": 9}]}}
            ]},
            "breadcrumbs": {"values": [
                {"timestamp": 1764756000.5, "category": "http", "message": "GET /cart",
                 "data": {"status_code": 200}}]},
            "request": {"method": "POST", "url": "https://shop.example/checkout",
                        "headers": [["Content-Type", "application/json"], ["Cookie", "[Filtered]"]]},
            "user": {"id": "u-7"},
            "tags": [["feature", "checkout"]],
            "contexts": {"runtime": {"type": "runtime", "name": "CPython", "version": "3.12.1"}},
            "sdk": {"name": "sentry.python", "version": "2.19.0"}
        }));
        assert_eq!(d.exception.len(), 2);
        assert_eq!(d.exception[0].kind, "CheckoutError");
        assert_eq!(d.exception[0].handled, Some(false));
        // No in_app marks at all: the app's own frames.
        assert!(d.exception[0].frames[0].in_app);
        let inner = &d.exception[1];
        assert_eq!(inner.frames[0].function.as_deref(), Some("lookup"));
        assert_eq!(
            inner.frames[0].context_line.as_deref(),
            Some("  return items[sku]")
        );
        assert_eq!(inner.frames[0].vars.len(), 2);
        assert_eq!(d.breadcrumbs[0].message, "GET /cart");
        assert_eq!(
            d.breadcrumbs[0].timestamp.as_deref(),
            Some("2025-12-03T10:00:00.500Z")
        );
        assert!(
            d.request
                .iter()
                .any(|(k, v)| k == "header Cookie" && v == "[Filtered]")
        );
        assert_eq!(d.user, vec![("id".into(), "u-7".into())]);
        assert_eq!(d.tags, vec![("feature".into(), "checkout".into())]);
        assert_eq!(
            d.contexts[0],
            (
                "runtime".into(),
                vec![
                    ("name".into(), "CPython".into()),
                    ("version".into(), "3.12.1".into())
                ]
            )
        );
        assert_eq!(d.sdk.as_deref(), Some("sentry.python 2.19.0"));
    }

    #[test]
    fn anything_else_is_left_out_without_error() {
        assert_eq!(detail(&json!("nope")), EventDetail::default());
        let d = detail(
            &json!({"exception": 5, "breadcrumbs": [1, {"x": []}], "user": "me",
                               "request": {"headers": [[1], "x"]}}),
        );
        assert!(d.exception.is_empty());
        assert_eq!(d.breadcrumbs.len(), 2);
        assert!(d.user.is_empty());
        assert!(d.request.is_empty());
    }
}
