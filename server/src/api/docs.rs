//! The API's documentation: `GET /api/openapi.json` (the OpenAPI document)
//! and `GET /api/docs` (the same document as a readable page).
//!
//! Both are public: they describe a public interface and hold no secrets.
//! The page is HTML rendered here from the document, with no script at
//! all and one stylesheet of its own, under a CSP that allows nothing
//! else.

use std::fmt::Write;
use std::sync::LazyLock;

use app::state::AppState;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The page's policy: its own stylesheet, nothing else.
pub const DOCS_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const STYLE: &str = include_str!("docs.css");

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(openapi_json))
        .routes(routes!(docs_page))
        .routes(routes!(docs_style))
}

/// The OpenAPI document.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "Operations",
    summary = "This API's OpenAPI 3.1 document",
    description = "Public: no key needed.",
    responses(
        (status = 200, description = "The document.", content_type = "application/json", body = serde_json::Value),
        (status = 500, description = "Internal error.", body = super::openapi::ErrorBody),
    )
)]
async fn openapi_json() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        super::openapi::json(),
    )
        .into_response()
}

/// The readable page.
#[utoipa::path(
    get,
    path = "/api/docs",
    tag = "Operations",
    summary = "This API's documentation as a page",
    description = "Public: no key needed. Server-rendered HTML without scripts.",
    responses(
        (status = 200, description = "The page.", content_type = "text/html", body = String),
        (status = 500, description = "Internal error.", body = super::openapi::ErrorBody),
    )
)]
async fn docs_page() -> Response {
    static PAGE: LazyLock<String> = LazyLock::new(|| {
        let doc: Value = serde_json::from_str(super::openapi::json()).unwrap_or(Value::Null);
        render(&doc)
    });
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(DOCS_CSP),
            ),
        ],
        PAGE.as_str(),
    )
        .into_response()
}

/// The page's stylesheet.
#[utoipa::path(
    get,
    path = "/api/docs.css",
    tag = "Operations",
    summary = "The documentation page's stylesheet",
    description = "Public: no key needed.",
    responses(
        (status = 200, description = "The stylesheet.", content_type = "text/css", body = String),
        (status = 500, description = "Internal error.", body = super::openapi::ErrorBody),
    )
)]
async fn docs_style() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        STYLE,
    )
        .into_response()
}

const METHODS: [&str; 8] = [
    "get", "post", "put", "patch", "delete", "options", "head", "trace",
];

/// HTML-escapes text.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The little Markdown the descriptions use: paragraphs, `code`, **bold**.
fn prose(text: &str) -> String {
    let mut out = String::new();
    for para in text.split("\n\n").filter(|p| !p.trim().is_empty()) {
        let mut html = String::new();
        let escaped = esc(para.trim());
        for (i, part) in escaped.split('`').enumerate() {
            if i % 2 == 1 {
                let _ = write!(html, "<code>{part}</code>");
            } else {
                for (j, piece) in part.split("**").enumerate() {
                    if j % 2 == 1 {
                        let _ = write!(html, "<strong>{piece}</strong>");
                    } else {
                        html.push_str(piece);
                    }
                }
            }
        }
        let _ = write!(out, "<p>{html}</p>");
    }
    out
}

/// An id usable in a URL fragment.
fn anchor(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// A schema's type in a few words, with links to named schemas.
fn type_of(schema: &Value) -> String {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or(r);
        return format!("<a href=\"#schema-{}\">{}</a>", anchor(name), esc(name));
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(list) = schema.get(key).and_then(Value::as_array) {
            let parts: Vec<String> = list.iter().map(type_of).collect();
            return parts.join(" or ");
        }
    }
    if let Some(list) = schema.get("allOf").and_then(Value::as_array) {
        let parts: Vec<String> = list.iter().map(type_of).collect();
        return parts.join(" and ");
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let names: Vec<String> = values
            .iter()
            .map(|v| format!("<code>{}</code>", esc(&v.to_string())))
            .collect();
        return format!("one of {}", names.join(", "));
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let mut words: Vec<String> = Vec::new();
    for t in &types {
        words.push(match *t {
            "array" => match schema.get("items") {
                Some(items) => format!("array of {}", type_of(items)),
                None => "array".to_owned(),
            },
            "object" => match schema.get("additionalProperties") {
                Some(v @ Value::Object(_)) => format!("map of string to {}", type_of(v)),
                _ => "object".to_owned(),
            },
            "integer" | "number" | "string" => match schema.get("format").and_then(Value::as_str) {
                Some(f) => format!("{t} ({})", esc(f)),
                None => (*t).to_owned(),
            },
            other => esc(other),
        });
    }
    if words.is_empty() {
        "any JSON value".to_owned()
    } else {
        words.join(" or ")
    }
}

/// An object schema as a table of its fields; other schemas as one line.
fn fields(schema: &Value) -> String {
    let mut out = String::new();
    if let Some(list) = schema.get("allOf").and_then(Value::as_array) {
        for part in list {
            out.push_str(&fields(part));
        }
        return out;
    }
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        let _ = write!(out, "<p class=\"type\">{}</p>", type_of(schema));
        return out;
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    out.push_str(
        "<table class=\"fields\"><thead><tr><th>Field</th><th>Type</th><th>Description</th></tr></thead><tbody>",
    );
    for (name, prop) in props {
        let description = prop
            .get("description")
            .and_then(Value::as_str)
            .map(prose)
            .unwrap_or_default();
        let flag = if required.contains(&name.as_str()) {
            " <span class=\"req\">required</span>"
        } else {
            ""
        };
        let _ = write!(
            out,
            "<tr><td><code>{}</code>{flag}</td><td>{}</td><td>{description}</td></tr>",
            esc(name),
            type_of(prop)
        );
    }
    out.push_str("</tbody></table>");
    out
}

/// The named schemas a body's schema refers to at its top: itself, the
/// members of a `oneOf`/`anyOf`/`allOf`, or the items of an array.
fn top_refs(schema: &Value, out: &mut Vec<String>) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or(r).to_owned();
        if !out.contains(&name) {
            out.push(name);
        }
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        for member in schema
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            top_refs(member, out);
        }
    }
    if let Some(items) = schema.get("items") {
        top_refs(items, out);
    }
}

/// A body's schema: its type, then the fields of the schemas it names, so
/// an operation reads without jumping to the schema section.
fn body_schema(schema: &Value, schemas: &Value) -> String {
    let mut refs = Vec::new();
    top_refs(schema, &mut refs);
    if refs.is_empty() {
        return fields(schema);
    }
    let mut out = format!("<p class=\"type\">{}</p>", type_of(schema));
    // A named schema that is itself a choice or a list (no fields of its
    // own) is followed to the schemas it names.
    let mut next = 0;
    while let Some(name) = refs.get(next).cloned() {
        next += 1;
        let Some(component) = schemas.get(&name) else {
            continue;
        };
        let has_fields = component.get("properties").is_some() || component.get("allOf").is_some();
        if !has_fields {
            let before = refs.len();
            top_refs(component, &mut refs);
            if refs.len() > before {
                continue;
            }
        }
        let _ = write!(
            out,
            "<div class=\"expanded\"><p class=\"media\">{}</p>{}</div>",
            esc(&name),
            fields(component)
        );
    }
    out
}

/// A JSON example, pretty-printed.
fn example(value: &Value) -> String {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    format!("<pre class=\"example\"><code>{}</code></pre>", esc(&text))
}

/// The bodies of a request or response: content type, fields, example.
fn content(content: Option<&Value>, schemas: &Value) -> String {
    let mut out = String::new();
    let Some(map) = content.and_then(Value::as_object) else {
        return out;
    };
    for (media, body) in map {
        let _ = write!(out, "<p class=\"media\"><code>{}</code></p>", esc(media));
        if let Some(schema) = body.get("schema") {
            out.push_str(&body_schema(schema, schemas));
        }
        if let Some(ex) = body.get("example") {
            out.push_str(&example(ex));
        }
        if let Some(examples) = body.get("examples").and_then(Value::as_object) {
            for (name, ex) in examples {
                let _ = write!(out, "<p class=\"media\">Example: {}</p>", esc(name));
                if let Some(v) = ex.get("value") {
                    out.push_str(&example(v));
                }
            }
        }
    }
    out
}

fn parameters(op: &Value) -> String {
    let Some(params) = op.get("parameters").and_then(Value::as_array) else {
        return String::new();
    };
    let mut out = String::from(
        "<h4>Parameters</h4><table class=\"fields\"><thead><tr><th>Name</th><th>In</th><th>Type</th><th>Description</th></tr></thead><tbody>",
    );
    for p in params {
        let name = p.get("name").and_then(Value::as_str).unwrap_or("");
        let place = p.get("in").and_then(Value::as_str).unwrap_or("");
        let flag = if p.get("required").and_then(Value::as_bool) == Some(true) {
            " <span class=\"req\">required</span>"
        } else {
            ""
        };
        let ty = p.get("schema").map(type_of).unwrap_or_default();
        let description = p
            .get("description")
            .and_then(Value::as_str)
            .map(prose)
            .unwrap_or_default();
        let _ = write!(
            out,
            "<tr><td><code>{}</code>{flag}</td><td>{}</td><td>{ty}</td><td>{description}</td></tr>",
            esc(name),
            esc(place)
        );
    }
    out.push_str("</tbody></table>");
    out
}

fn operation(path: &str, method: &str, op: &Value, schemas: &Value) -> String {
    let mut out = String::new();
    let id = op
        .get("operationId")
        .and_then(Value::as_str)
        .map(anchor)
        .unwrap_or_else(|| anchor(&format!("{method}-{path}")));
    let summary = op.get("summary").and_then(Value::as_str).unwrap_or("");
    let _ = write!(
        out,
        "<article class=\"op\" id=\"op-{id}\"><h3><span class=\"method {method}\">{}</span> <code class=\"path\">{}</code></h3><p class=\"summary\">{}</p>",
        method.to_uppercase(),
        esc(path),
        esc(summary)
    );
    if let Some(d) = op.get("description").and_then(Value::as_str) {
        out.push_str(&prose(d));
    }
    out.push_str(&parameters(op));
    if let Some(body) = op.get("requestBody") {
        out.push_str("<h4>Request body</h4>");
        if let Some(d) = body.get("description").and_then(Value::as_str) {
            out.push_str(&prose(d));
        }
        out.push_str(&content(body.get("content"), schemas));
    }
    out.push_str("<h4>Responses</h4>");
    if let Some(responses) = op.get("responses").and_then(Value::as_object) {
        for (status, r) in responses {
            let class = if status.starts_with('2') || status.starts_with('3') {
                "ok"
            } else {
                "err"
            };
            let description = r.get("description").and_then(Value::as_str).unwrap_or("");
            let _ = write!(
                out,
                "<details class=\"response {class}\"{}><summary><span class=\"status\">{}</span> {}</summary>{}</details>",
                if class == "ok" { " open" } else { "" },
                esc(status),
                esc(description),
                content(r.get("content"), schemas)
            );
        }
    }
    out.push_str("</article>");
    out
}

/// The page for `doc` (an OpenAPI document as JSON).
pub fn render(doc: &Value) -> String {
    let title = doc["info"]["title"].as_str().unwrap_or("API");
    let version = doc["info"]["version"].as_str().unwrap_or("");
    let tags: Vec<(String, String)> = doc["tags"]
        .as_array()
        .map(|t| {
            t.iter()
                .map(|t| {
                    (
                        t["name"].as_str().unwrap_or("").to_owned(),
                        t["description"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let mut by_tag: Vec<(String, String, Vec<String>)> = tags
        .into_iter()
        .map(|(name, description)| (name, description, Vec::new()))
        .collect();
    let mut toc: Vec<(String, Vec<String>)> = by_tag
        .iter()
        .map(|(name, _, _)| (name.clone(), Vec::new()))
        .collect();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            for method in METHODS {
                let Some(op) = item.get(method) else {
                    continue;
                };
                let tag = op["tags"][0].as_str().unwrap_or("Other").to_owned();
                let index = match by_tag.iter().position(|(n, _, _)| *n == tag) {
                    Some(i) => i,
                    None => {
                        by_tag.push((tag.clone(), String::new(), Vec::new()));
                        toc.push((tag.clone(), Vec::new()));
                        by_tag.len() - 1
                    }
                };
                by_tag[index]
                    .2
                    .push(operation(path, method, op, &doc["components"]["schemas"]));
                let id = op["operationId"]
                    .as_str()
                    .map(anchor)
                    .unwrap_or_else(|| anchor(&format!("{method}-{path}")));
                toc[index].1.push(format!(
                    "<li><a href=\"#op-{id}\"><span class=\"method {method}\">{}</span> <code>{}</code></a></li>",
                    method.to_uppercase(),
                    // Long paths wrap after a slash, not inside a word.
                    esc(path).replace('/', "/<wbr>")
                ));
            }
        }
    }

    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t} {v}</title><link rel=\"stylesheet\" href=\"/api/docs.css\">\
         <link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\"></head><body>\
         <header class=\"top\"><h1>{t} <span class=\"version\">{v}</span></h1>\
         <p>OpenAPI document: <a href=\"/api/openapi.json\">/api/openapi.json</a></p></header>\
         <div class=\"layout\"><nav class=\"toc\" aria-label=\"Operations\"><ul>",
        t = esc(title),
        v = esc(version)
    );
    for (tag, items) in &toc {
        if items.is_empty() {
            continue;
        }
        let _ = write!(
            html,
            "<li><a class=\"tag\" href=\"#tag-{}\">{}</a><ul>{}</ul></li>",
            anchor(tag),
            esc(tag),
            items.join("")
        );
    }
    html.push_str("<li><a class=\"tag\" href=\"#schemas\">Schemas</a></li></ul></nav><main>");
    if let Some(d) = doc["info"]["description"].as_str() {
        let _ = write!(html, "<section class=\"intro\">{}</section>", prose(d));
    }
    for (tag, description, ops) in &by_tag {
        if ops.is_empty() {
            continue;
        }
        let _ = write!(
            html,
            "<section class=\"tag\" id=\"tag-{}\"><h2>{}</h2>{}{}</section>",
            anchor(tag),
            esc(tag),
            prose(description),
            ops.join("")
        );
    }
    html.push_str("<section id=\"schemas\"><h2>Schemas</h2>");
    if let Some(schemas) = doc["components"]["schemas"].as_object() {
        for (name, schema) in schemas {
            let _ = write!(
                html,
                "<article class=\"schema\" id=\"schema-{}\"><h3>{}</h3>{}{}{}</article>",
                anchor(name),
                esc(name),
                schema
                    .get("description")
                    .and_then(Value::as_str)
                    .map(prose)
                    .unwrap_or_default(),
                fields(schema),
                schema.get("example").map(example).unwrap_or_default()
            );
        }
    }
    html.push_str("</section></main></div></body></html>");
    html
}
