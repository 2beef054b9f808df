//! The OpenAPI 3.1 document of the REST API, generated from the code.
//!
//! Every handler under `/api/` carries a `#[utoipa::path]` and is
//! registered through `utoipa_axum::routes!`, so the router and the
//! document are built from the same list. This module adds what no single
//! handler says: the document's description, the Bearer scheme, the error
//! shape, and the error answers every keyed route shares (401, 403, 429,
//! 500, 503), and writes each route's scope into its description.

use std::sync::LazyLock;

use serde::Serialize;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{self, RefOr, ResponseBuilder};
use utoipa::{Modify, ToSchema};

/// Name of the API-key security scheme in the document.
pub const API_KEY: &str = "api_key";

/// What every error answer carries (the one shape of [`super::error::ApiError`]).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({ "error": { "code": "validation", "message": "event 2: `level` \"fatal\" is not a level (use debug, info, warning, error, critical)", "field": "level", "index": 2 } }))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// The error itself.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Machine-readable; stable.
    pub code: ErrorCode,
    /// For people; may change.
    pub message: String,
    /// The offending field, when one is to blame.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Position of the offending event in a batch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
}

/// Every code an error can carry, with its status.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400
    BadRequest,
    /// 400: the body is not JSON, or not the expected kind of JSON
    Malformed,
    /// 401: no, unknown or revoked key
    Unauthorized,
    /// 403: the key lacks the scope, or is bound to another service
    Forbidden,
    /// 404
    NotFound,
    /// 408
    Timeout,
    /// 409
    Conflict,
    /// 413
    TooLarge,
    /// 415
    UnsupportedEncoding,
    /// 422: a field is wrong; `field` names it
    Validation,
    /// 429, with `Retry-After`
    RateLimited,
    /// 500; the server log has the details under the request id
    Internal,
    /// 503, with `Retry-After`
    Unavailable,
    /// 500: a request Leitstand made on your behalf failed
    RequestFailed,
}

const DESCRIPTION: &str = "\
The machine interface of Leitstand: sending events, reading KPIs, error groups, \
services and probes, managing alerts, backups and retention.

**Authentication.** Every `/api/v1` route except the heartbeat pings needs an API key \
in `Authorization: Bearer <key>`. Keys are created under Settings → API keys or with \
`leitstand key create`. Each route names the scope it needs; a key with scope `admin` \
may do everything. A key bound to a service sees and sends that service only; routes \
that span every service refuse it with 403.

**Errors.** Every error is JSON of one shape, `{ \"error\": { \"code\", \"message\", \
\"field\"?, \"index\"? } }`, with the status the code implies. 429 and 503 carry \
`Retry-After`.

**Versioning.** Routes under `/api/v1` change only by adding fields and routes.";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Leitstand API",
        description = DESCRIPTION,
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later"),
    ),
    components(schemas(ErrorBody)),
    tags(
        (name = "Events", description = "Sending events and following them live."),
        (name = "Dashboard", description = "KPIs and their export."),
        (name = "Error groups", description = "Errors grouped by fingerprint."),
        (name = "Services and probes", description = "Services, their probes, heartbeats, maintenance windows and the system status."),
        (name = "Alerts", description = "Alert channels, rules, event subscriptions, dead letters and deliveries."),
        (name = "Retention", description = "How long data is kept, and the run that removes the rest."),
        (name = "Backups", description = "Backups of the whole database: create, verify, download, restore."),
        (name = "Privacy", description = "Export and erasure of one user's events."),
        (name = "Sentry", description = "Ingest for unmodified Sentry SDKs, with a Leitstand DSN."),
        (name = "Operations", description = "Liveness, readiness, metrics and this documentation."),
    ),
    modifiers(&Finish),
)]
struct Base;

/// Adds the security scheme, the shared error answers and the scope lines.
struct Finish;

impl Modify for Finish {
    fn modify(&self, doc: &mut openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            API_KEY,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("Leitstand API key")
                    .description(Some(
                        "An API key: `Authorization: Bearer <key>`. The scopes an operation \
                         lists are the ones its key needs (`admin` includes every other).",
                    ))
                    .build(),
            ),
        );
    }
}

/// The shared error answer of `status`, referring to the error schema.
fn error_response(description: &str) -> RefOr<openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            openapi::ContentBuilder::new()
                .schema(Some(openapi::Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .into()
}

/// The scopes an operation's security requirement names, if it has one.
fn scopes(op: &openapi::path::Operation) -> Option<Vec<String>> {
    let security = op.security.as_ref()?;
    let value = serde_json::to_value(security).ok()?;
    let scopes = value
        .as_array()?
        .iter()
        .filter_map(|req| req.get(API_KEY))
        .filter_map(|s| s.as_array())
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect();
    Some(scopes)
}

/// Fills in what every keyed operation shares and what every operation
/// may answer.
fn complete(op: &mut openapi::path::Operation) {
    let keyed = scopes(op);
    let responses = &mut op.responses.responses;
    let mut add = |status: &str, description: &str| {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| error_response(description));
    };
    if let Some(scopes) = keyed {
        add("401", "No API key, or an unknown or revoked one.");
        add(
            "403",
            "The key lacks the scope, or is bound to another service.",
        );
        add(
            "429",
            "Too many requests, or too many failed key attempts from this address; see `Retry-After`.",
        );
        let line = match scopes.as_slice() {
            [] => "**Scope:** any valid API key.".to_owned(),
            list => format!(
                "**Scope:** {} (or `admin`).",
                list.iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
        };
        let line = line.replace("`admin` (or `admin`)", "`admin`");
        op.description = Some(match op.description.take() {
            Some(d) if !d.is_empty() => format!("{line}\n\n{d}"),
            _ => line,
        });
    }
    let responses = &mut op.responses.responses;
    responses
        .entry("500".to_owned())
        .or_insert_with(|| error_response("Internal error; the server log has the details."));
    responses
        .entry("503".to_owned())
        .or_insert_with(|| error_response("The database is not reachable; see `Retry-After`."));
}

/// Every operation of a path item.
fn operations(
    item: &mut openapi::path::PathItem,
) -> impl Iterator<Item = &mut openapi::path::Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.options.as_mut(),
        item.head.as_mut(),
        item.patch.as_mut(),
        item.trace.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// The whole document: the base above merged with what the routers collected.
pub fn document(routes: openapi::OpenApi) -> openapi::OpenApi {
    let mut doc = Base::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc.merge(routes);
    for item in doc.paths.paths.values_mut() {
        operations(item).for_each(complete);
        unique_ids(item);
    }
    doc
}

/// One handler for several methods (`method(get, post)`) gives each the
/// same operation id; ids must be unique, so each gets its method added.
fn unique_ids(item: &mut openapi::path::PathItem) {
    let methods = [
        ("get", &mut item.get),
        ("put", &mut item.put),
        ("post", &mut item.post),
        ("delete", &mut item.delete),
        ("patch", &mut item.patch),
    ];
    let mut ids: Vec<Option<String>> = Vec::new();
    let mut ops = Vec::new();
    for (method, op) in methods {
        if let Some(op) = op.as_mut() {
            ids.push(op.operation_id.clone());
            ops.push((method, op));
        }
    }
    for (method, op) in ops {
        let shared = ids.iter().filter(|id| **id == op.operation_id).count() > 1;
        if shared && let Some(id) = &op.operation_id {
            op.operation_id = Some(format!("{id}_{method}"));
        }
    }
}

/// The document as served, built once.
pub fn json() -> &'static str {
    static JSON: LazyLock<String> = LazyLock::new(|| {
        serde_json::to_string_pretty(&super::openapi()).unwrap_or_else(|e| {
            tracing::error!(error = %e, "the OpenAPI document does not serialise");
            "{}".to_owned()
        })
    });
    &JSON
}
