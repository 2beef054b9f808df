//! The OpenAPI document (`/api/openapi.json`) and the documentation page
//! (`/api/docs`): the document covers every API route and only routes that
//! exist, its examples and the live server's answers match its schemas,
//! and both are public.

use std::collections::BTreeSet;
use std::path::Path;

use app::keys::Scope;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app_with};

const METHODS: [&str; 7] = ["get", "post", "put", "patch", "delete", "options", "head"];

/// The document as the server serves it.
async fn document(app: &TestApp) -> Value {
    let res = app.get("/api/openapi.json").await;
    assert_eq!(res.status(), 200);
    res.json().await.expect("the document is JSON")
}

/// Every (method, path template) the document lists.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                out.push((method.to_owned(), path.clone(), op.clone()));
            }
        }
    }
    out
}

/// The first argument of every `.route(` call in the server's source: a
/// string literal (`"…"`) or an identifier.
fn registered_route_arguments() -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).expect("source dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("source");
                for call in [".route(", ".route_service(", ".nest(", ".nest_service("] {
                    for (at, _) in text.match_indices(call) {
                        let rest = text[at + call.len()..].trim_start();
                        let arg: String = if let Some(lit) = rest.strip_prefix('"') {
                            format!("\"{}\"", lit.split('"').next().unwrap_or_default())
                        } else {
                            rest.chars()
                                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                                .collect()
                        };
                        out.push((path.display().to_string(), arg));
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut out);
    out
}

/// A path template with every parameter filled in.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') { "1" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn no_route_under_api_is_registered_without_its_documentation() {
    // Handlers under /api are registered with `routes!`, which takes the
    // path from their `#[utoipa::path]`; a plain `.route("/api…")` would
    // bypass the document. The only plain registrations are the Sentry
    // paths without a trailing slash, which repeat documented routes.
    let doc = serde_json::to_value(server::api::openapi()).expect("document");
    for (file, arg) in registered_route_arguments() {
        if let Some(literal) = arg.strip_prefix('"') {
            assert!(
                !literal.starts_with("/api"),
                "{file}: `.route({arg}…)` registers an API route without documentation; use `routes!` and `#[utoipa::path]`"
            );
        } else {
            let alias = match arg.as_str() {
                "ENVELOPE_ALIAS" => server::api::sentry::ENVELOPE_ALIAS,
                "STORE_ALIAS" => server::api::sentry::STORE_ALIAS,
                // Method routers and paths of other kinds are fine; a path
                // constant must be one of the known aliases.
                other
                    if other
                        .chars()
                        .all(|c| c.is_uppercase() || c == '_' || c == ':') =>
                {
                    panic!("{file}: `.route({other}…)`: an unknown path constant")
                }
                _ => continue,
            };
            assert!(
                doc["paths"].get(format!("{alias}/")).is_some(),
                "{alias} repeats a documented path"
            );
        }
    }
}

#[tokio::test]
async fn every_documented_operation_exists_and_every_api_v1_route_is_documented() {
    let app = spawn_app_with(|_| {}).await;
    let doc = document(&app).await;
    assert_eq!(
        doc,
        serde_json::to_value(server::api::openapi()).expect("document"),
        "the served document is the code's"
    );
    let ops = operations(&doc);

    // The routes under /api/v1, as the modules' own lists name them.
    let mut expected = BTreeSet::new();
    for file in [
        "alerts.rs",
        "backups.rs",
        "dashboard.rs",
        "error_groups.rs",
        "ingest.rs",
        "privacy.rs",
        "probes.rs",
        "sentry.rs",
        "stream.rs",
    ] {
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("src/api")
                .join(file),
        )
        .expect("source");
        for (at, _) in text.match_indices("path = \"/api/v1") {
            let path = text[at + 8..].split('"').next().unwrap_or_default();
            expected.insert(path.to_owned());
        }
    }
    let documented: BTreeSet<String> = ops
        .iter()
        .filter(|(_, p, _)| p.starts_with("/api/v1"))
        .map(|(_, p, _)| p.clone())
        .collect();
    assert_eq!(documented, expected);
    assert!(
        ops.iter()
            .filter(|(_, p, _)| p.starts_with("/api/v1"))
            .count()
            >= 55,
        "every /api/v1 operation: {}",
        ops.len()
    );
    for path in [
        "/healthz",
        "/readyz",
        "/metrics",
        "/api/openapi.json",
        "/api/docs",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is documented");
    }

    // Each documented operation is served: without a key it is refused
    // (401) or answered, never "no route" (404 from the fallback) or 405.
    for (method, path, _) in &ops {
        let url = app.url(&concrete(path));
        let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
        let res = app
            .client
            .request(method.clone(), &url)
            .send()
            .await
            .expect("request sent");
        let status = res.status().as_u16();
        let body = res.text().await.unwrap_or_default();
        assert_ne!(status, 405, "{method} {path}: {body}");
        assert!(
            !(status == 404 && body.contains("a route for this path")),
            "{method} {path} is documented but not served"
        );
        if path.starts_with("/api/v1") && !path.starts_with("/api/v1/heartbeat") {
            assert_eq!(status, 401, "{method} {path} without a key: {body}");
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn the_document_is_openapi_3_1_with_the_key_scheme_scopes_and_errors() {
    let doc = serde_json::to_value(server::api::openapi()).expect("document");
    assert_eq!(doc["openapi"], "3.1.0");
    let scheme = &doc["components"]["securitySchemes"]["api_key"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    let scopes: BTreeSet<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
    let mut ids = BTreeSet::new();
    for (method, path, op) in operations(&doc) {
        let id = op["operationId"].as_str().expect("operation id");
        assert!(ids.insert(id.to_owned()), "operation id {id} is unique");
        assert!(
            op["summary"].as_str().is_some_and(|s| !s.is_empty()),
            "{method} {path} has a summary"
        );
        let responses = op["responses"].as_object().expect("responses");
        assert!(
            responses
                .keys()
                .any(|s| s.starts_with('4') || s.starts_with('5')),
            "{method} {path} lists an error response"
        );
        for (status, r) in responses {
            if status.starts_with('4') && path.starts_with("/api/") {
                assert_eq!(
                    r["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{method} {path} {status} has the error shape"
                );
            }
        }
        let keyed = path.starts_with("/api/v1") && !path.starts_with("/api/v1/heartbeat");
        if keyed || path == "/metrics" {
            let needed = op["security"][0]["api_key"]
                .as_array()
                .unwrap_or_else(|| panic!("{method} {path} needs a key"));
            assert!(!needed.is_empty(), "{method} {path} names its scope");
            for scope in needed {
                let scope = scope.as_str().unwrap_or_default();
                assert!(scopes.contains(scope), "{method} {path}: scope {scope}");
                assert!(
                    op["description"]
                        .as_str()
                        .is_some_and(|d| d.contains(&format!("`{scope}`"))),
                    "{method} {path}: the description names the scope"
                );
            }
            for status in ["401", "403"] {
                assert!(responses.contains_key(status), "{method} {path} {status}");
            }
        } else {
            assert!(op.get("security").is_none(), "{method} {path} needs no key");
        }
    }
}

/// A validator for `schema`, whose `$ref`s point into `doc`'s components.
fn validator(doc: &Value, schema: &Value) -> jsonschema::Validator {
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": doc["components"],
        "allOf": [schema],
    });
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&root)
        .unwrap_or_else(|e| panic!("schema {schema}: {e}"))
}

fn assert_valid(doc: &Value, schema: &Value, instance: &Value, what: &str) {
    let v = validator(doc, schema);
    let errors: Vec<String> = v
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not match its schema:\n{}\n{instance:#}",
        errors.join("\n")
    );
}

/// The JSON schema of a response.
fn response_schema(doc: &Value, method: &str, path: &str, status: u16) -> Value {
    let schema = &doc["paths"][path][method]["responses"][status.to_string()]["content"]["application/json"]
        ["schema"];
    assert!(
        !schema.is_null(),
        "{method} {path} documents a JSON {status}"
    );
    schema.clone()
}

#[tokio::test]
async fn every_example_matches_its_schema() {
    let doc = serde_json::to_value(server::api::openapi()).expect("document");
    let mut checked = 0;
    for (name, schema) in doc["components"]["schemas"].as_object().expect("schemas") {
        if let Some(example) = schema.get("example") {
            assert_valid(&doc, schema, example, &format!("the example of {name}"));
            checked += 1;
        }
    }
    for (method, path, op) in operations(&doc) {
        let mut bodies = Vec::new();
        if let Some(content) = op["requestBody"]["content"].as_object() {
            bodies.extend(
                content
                    .iter()
                    .map(|(m, b)| (format!("request {m}"), b.clone())),
            );
        }
        for (status, r) in op["responses"].as_object().expect("responses") {
            if let Some(content) = r["content"].as_object() {
                bodies.extend(
                    content
                        .iter()
                        .map(|(m, b)| (format!("{status} {m}"), b.clone())),
                );
            }
        }
        for (what, body) in bodies {
            if !what.ends_with("application/json") {
                continue;
            }
            if let Some(example) = body.get("example") {
                assert_valid(
                    &doc,
                    &body["schema"],
                    example,
                    &format!("the example of {method} {path} {what}"),
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 20, "examples checked: {checked}");
}

/// Calls `method path` and checks the answer against the document.
async fn call(
    app: &TestApp,
    doc: &Value,
    key: Option<&str>,
    (method, template, path): (&str, &str, &str),
    body: Option<Value>,
    status: u16,
) -> Value {
    let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
    let mut req = app.client.request(m, app.url(path));
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.expect("request sent");
    let got = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    assert_eq!(got, status, "{method} {path}: {text}");
    let value: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {text}"));
    let schema = response_schema(doc, method, template, status);
    assert_valid(doc, &schema, &value, &format!("{method} {path} {status}"));
    value
}

#[tokio::test]
async fn live_answers_match_the_documented_schemas() {
    let app = spawn_app_with(|s| s.alerts.outbound_allow = vec!["127.0.0.0/8".into()]).await;
    let doc = document(&app).await;
    let admin = app.key(&[Scope::Admin], None).await;
    let key = Some(admin.as_str());

    // Seed: events (one an error, so there is an error group), a probe, a
    // maintenance window, a channel, a rule, a subscription, a backup.
    call(
        &app,
        &doc,
        key,
        ("post", "/api/v1/events", "/api/v1/events"),
        Some(json!([
            { "service": "shop", "feature": "checkout", "type": "voucher.booked", "user": "u-1" },
            { "service": "shop", "feature": "checkout", "type": "payment.failed", "level": "error",
              "message": "card declined", "release": "1.0.0", "environment": "production", "user": "u-1" }
        ])),
        202,
    )
    .await;
    let probe = call(
        &app,
        &doc,
        key,
        (
            "post",
            "/api/v1/services/{slug}/probes",
            "/api/v1/services/shop/probes",
        ),
        Some(json!({ "kind": "heartbeat", "name": "nightly", "period_seconds": 86400 })),
        201,
    )
    .await;
    let probe_id = probe["id"].as_i64().expect("probe id");
    call(
        &app,
        &doc,
        key,
        ("post", "/api/v1/maintenance", "/api/v1/maintenance"),
        Some(json!({ "service": "shop", "title": "Upgrade", "starts_at": "2030-01-01T22:00:00Z", "ends_at": "2030-01-01T23:00:00Z" })),
        201,
    )
    .await;
    let channel = call(
        &app,
        &doc,
        key,
        ("post", "/api/v1/alert-channels", "/api/v1/alert-channels"),
        Some(json!({ "kind": "webhook", "name": "hook", "url": "http://127.0.0.1:9/hook" })),
        201,
    )
    .await;
    let channel_id = channel["id"].as_i64().expect("channel id");
    call(
        &app,
        &doc,
        key,
        ("post", "/api/v1/alert-rules", "/api/v1/alert-rules"),
        Some(json!({ "name": "errors", "kind": "error_rate", "channels": [channel_id], "threshold": 5.0 })),
        201,
    )
    .await;
    call(
        &app,
        &doc,
        key,
        (
            "post",
            "/api/v1/event-subscriptions",
            "/api/v1/event-subscriptions",
        ),
        Some(json!({ "name": "all", "url": "http://127.0.0.1:9/events" })),
        201,
    )
    .await;
    let sent = call(
        &app,
        &doc,
        key,
        (
            "post",
            "/api/v1/alert-channels/{id}/test",
            &format!("/api/v1/alert-channels/{channel_id}/test"),
        ),
        None,
        202,
    )
    .await;
    let delivery = sent["delivery"].as_str().expect("delivery id").to_owned();
    call(
        &app,
        &doc,
        key,
        ("post", "/api/v1/backups", "/api/v1/backups"),
        None,
        201,
    )
    .await;

    // The main reads, each against its documented 200.
    let group: i64 = sqlx::query_scalar("select id from error_groups limit 1")
        .fetch_one(&app.pool)
        .await
        .expect("an error group");
    for (template, path) in [
        ("/api/v1/dashboard", "/api/v1/dashboard?range=7d".to_owned()),
        ("/api/v1/export", "/api/v1/export?format=json".to_owned()),
        ("/api/v1/services", "/api/v1/services".to_owned()),
        (
            "/api/v1/services/{slug}",
            "/api/v1/services/shop".to_owned(),
        ),
        (
            "/api/v1/services/{slug}/probes",
            "/api/v1/services/shop/probes".to_owned(),
        ),
        (
            "/api/v1/services/{slug}/probes/{id}",
            format!("/api/v1/services/shop/probes/{probe_id}"),
        ),
        ("/api/v1/maintenance", "/api/v1/maintenance".to_owned()),
        (
            "/api/v1/alert-channels",
            "/api/v1/alert-channels".to_owned(),
        ),
        (
            "/api/v1/alert-channels/{id}",
            format!("/api/v1/alert-channels/{channel_id}"),
        ),
        ("/api/v1/alert-rules", "/api/v1/alert-rules".to_owned()),
        (
            "/api/v1/event-subscriptions",
            "/api/v1/event-subscriptions".to_owned(),
        ),
        ("/api/v1/dead-letters", "/api/v1/dead-letters".to_owned()),
        (
            "/api/v1/deliveries/{id}",
            format!("/api/v1/deliveries/{delivery}"),
        ),
        ("/api/v1/retention", "/api/v1/retention".to_owned()),
        ("/api/v1/backups", "/api/v1/backups".to_owned()),
        ("/api/v1/error-groups", "/api/v1/error-groups".to_owned()),
        (
            "/api/v1/error-groups/{id}",
            format!("/api/v1/error-groups/{group}"),
        ),
        ("/api/v1/sentry/stats", "/api/v1/sentry/stats".to_owned()),
        ("/api/v1/system/status", "/api/v1/system/status".to_owned()),
        (
            "/api/v1/privacy/users/{user}/events",
            "/api/v1/privacy/users/u-1/events".to_owned(),
        ),
        ("/healthz", "/healthz".to_owned()),
        ("/readyz", "/readyz".to_owned()),
    ] {
        call(&app, &doc, key, ("get", template, &path), None, 200).await;
    }
    call(
        &app,
        &doc,
        key,
        (
            "patch",
            "/api/v1/error-groups/{id}",
            &format!("/api/v1/error-groups/{group}"),
        ),
        Some(json!({ "status": "resolved" })),
        200,
    )
    .await;
    call(
        &app,
        &doc,
        key,
        (
            "post",
            "/api/v1/retention/run",
            "/api/v1/retention/run?dry_run=true",
        ),
        None,
        200,
    )
    .await;

    // Errors in the one shape.
    let ingest = app.key(&[Scope::Ingest], None).await;
    call(
        &app,
        &doc,
        None,
        ("get", "/api/v1/dashboard", "/api/v1/dashboard"),
        None,
        401,
    )
    .await;
    call(
        &app,
        &doc,
        Some(&ingest),
        ("get", "/api/v1/dashboard", "/api/v1/dashboard"),
        None,
        403,
    )
    .await;
    call(
        &app,
        &doc,
        key,
        (
            "get",
            "/api/v1/alert-rules/{id}",
            "/api/v1/alert-rules/999999",
        ),
        None,
        404,
    )
    .await;
    // A path parameter that does not parse names no resource: a JSON 404
    // in the one shape, not axum's plain-text 400.
    for (method, template, path) in [
        ("get", "/api/v1/alert-rules/{id}", "/api/v1/alert-rules/abc"),
        (
            "get",
            "/api/v1/error-groups/{id}",
            "/api/v1/error-groups/1x",
        ),
        (
            "delete",
            "/api/v1/backups/{id}",
            "/api/v1/backups/99999999999999999999",
        ),
    ] {
        let refused = call(&app, &doc, key, (method, template, path), None, 404).await;
        assert_eq!(refused["error"]["code"], "not_found", "{path}");
    }
    call(
        &app,
        &doc,
        key,
        ("get", "/api/v1/dashboard", "/api/v1/dashboard?range=1y"),
        None,
        422,
    )
    .await;
    call(
        &app,
        &doc,
        key,
        (
            "get",
            "/api/v1/dead-letters",
            "/api/v1/dead-letters?limit=many",
        ),
        None,
        422,
    )
    .await;
    let refused = call(
        &app,
        &doc,
        key,
        ("post", "/api/v1/events", "/api/v1/events"),
        Some(json!([{ "service": "shop" }, { "service": "shop", "level": "fatal" }])),
        422,
    )
    .await;
    assert_eq!(refused["error"]["index"], 1);
    assert_eq!(refused["error"]["field"], "level");
    app.stop().await;
}

#[tokio::test]
async fn the_document_and_the_page_are_public_and_the_page_runs_no_script() {
    let app = spawn_app_with(|_| {}).await;
    let res = app.get("/api/openapi.json").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("application/json")
    );

    let res = app.get("/api/docs").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/html; charset=utf-8");
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(!csp.contains("script-src"), "no script may run: {csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let html = res.text().await.expect("page");
    assert!(!html.contains("<script"), "no script on the page");
    for text in [
        "POST",
        "/api/v1/events",
        "Send one event or a batch",
        "<code>ingest</code>",
        "id=\"schema-ErrorBody\"",
        "voucher.booked",
    ] {
        assert!(html.contains(text), "the page shows {text}");
    }

    let res = app.get("/api/docs.css").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/css; charset=utf-8");
    app.stop().await;
}
