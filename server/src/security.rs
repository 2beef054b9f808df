//! Request security: who is asking (session cookie), what they may reach
//! (guarded by default), same-origin proof for state changes, and the
//! security headers of every response.
//!
//! Every path is guarded unless it is on the short public list below: a
//! page or route added later is protected without anyone remembering to.

use std::net::{IpAddr, SocketAddr};

use app::auth::guard::{Auth, SESSION_COOKIE};
use app::auth::store as auth_store;
use app::error::AppError;
use app::state::AppState;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

/// Paths anyone may reach. REST (`/api/…`) authenticates with API keys in
/// its handlers.
fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/healthz"
            | "/readyz"
            | "/metrics"
            | "/favicon.svg"
            | "/robots.txt"
            | "/manifest.webmanifest"
            | "/sw.js"
            | "/offline.html"
    ) || path.starts_with("/pkg/")
        || path.starts_with("/icons/")
        || path.starts_with("/api/")
}

/// Server functions reachable without a session (signing in needs them).
fn is_public_rpc(path: &str) -> bool {
    ["/rpc/login", "/rpc/setup", "/rpc/needs_setup", "/rpc/me"]
        .iter()
        .any(|p| path.starts_with(p))
}

fn is_auth_page(path: &str) -> bool {
    path == "/login" || path == "/setup"
}

/// The client's address: the socket peer, or with `trust_proxy` the last
/// address a proxy appended to X-Forwarded-For.
pub fn client_ip(
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    trust_proxy: bool,
) -> Option<IpAddr> {
    if trust_proxy
        && let Some(ip) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse().ok())
    {
        return Some(ip);
    }
    peer.map(|p| p.ip())
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty())
}

/// The request's own origin, `scheme://host`.
fn own_origin(headers: &HeaderMap, secure: bool) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    Some(format!(
        "{}://{host}",
        if secure { "https" } else { "http" }
    ))
}

/// Whether a state-changing request proves it comes from our own pages.
pub fn same_origin(headers: &HeaderMap, secure: bool) -> bool {
    let Some(own) = own_origin(headers, secure) else {
        return false;
    };
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        return origin == own;
    }
    headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|r| r == own || r.starts_with(&format!("{own}/")))
}

fn error(e: AppError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_string(&e).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Resolves the session, then lets the request through or refuses it.
pub async fn guard(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let headers = req.headers();
    let secure = req.uri().scheme_str() == Some("https")
        || state.security.tls
        || (state.security.trust_proxy
            && headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("https")));
    let ip = client_ip(headers, peer, state.security.trust_proxy);
    let token = cookie(headers, SESSION_COOKIE);
    let user = match &token {
        Some(t) => match auth_store::session_user(&state.pool, t, state.sessions).await {
            Ok(user) => user,
            Err(e) => return error(e),
        },
        None => None,
    };
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    let unsafe_method = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);

    // Same-origin proof for anything a browser session could be tricked
    // into (SameSite=Strict is the first line; this is the second).
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer "));
    if unsafe_method
        && !bearer
        && (token.is_some() || path.starts_with("/rpc/"))
        && !same_origin(headers, secure)
    {
        tracing::warn!(%path, "cross-origin state change refused");
        return error(AppError::Forbidden("cross-origin request refused".into()));
    }

    req.extensions_mut().insert(Auth {
        user: user.clone(),
        token,
        ip,
        secure,
    });

    if !is_public(&path) && !is_public_rpc(&path) {
        if is_auth_page(&path) {
            let users = match auth_store::count_users(&state.pool).await {
                Ok(n) => n,
                Err(e) => return error(e),
            };
            if user.is_some() {
                return Redirect::to("/").into_response();
            }
            if users == 0 && path == "/login" {
                return Redirect::to("/setup").into_response();
            }
            if users > 0 && path == "/setup" {
                return Redirect::to("/login").into_response();
            }
        } else if user.is_none() {
            if path.starts_with("/rpc/") || unsafe_method || method != Method::GET {
                return error(AppError::Unauthorized);
            }
            let users = match auth_store::count_users(&state.pool).await {
                Ok(n) => n,
                Err(e) => return error(e),
            };
            if users == 0 {
                return Redirect::to("/setup").into_response();
            }
            let next_path = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_else(|| "/".into());
            let wants_html = req
                .headers()
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|a| a.contains("text/html"));
            if !wants_html {
                return error(AppError::Unauthorized);
            }
            return Redirect::to(&format!("/login?next={}", app::events::encode(&next_path)))
                .into_response();
        }
    }

    let mut response = next.run(req).await;
    if secure {
        response.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

/// Content-Security-Policy of server-rendered pages: scripts only from us
/// or with this response's nonce (the hydration script).
pub fn page_csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
         font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
         frame-ancestors 'none'; manifest-src 'self'; worker-src 'self'"
    )
}

/// Policy of everything that is not a page (API, files): nothing runs.
pub const DEFAULT_CSP: &str = "default-src 'none'; frame-ancestors 'none'; sandbox";

pub const PERMISSIONS_POLICY: &str = "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=(), interest-cohort=()";

#[allow(dead_code)]
fn _body_type(_: Body) {}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn same_origin_needs_a_matching_origin_or_referer() {
        assert!(same_origin(
            &headers(&[
                ("host", "ls.example:3000"),
                ("origin", "http://ls.example:3000")
            ]),
            false
        ));
        assert!(!same_origin(
            &headers(&[
                ("host", "ls.example:3000"),
                ("origin", "http://evil.example")
            ]),
            false
        ));
        assert!(!same_origin(
            &headers(&[("host", "ls.example"), ("origin", "null")]),
            false
        ));
        assert!(same_origin(
            &headers(&[
                ("host", "ls.example"),
                ("referer", "https://ls.example/events")
            ]),
            true
        ));
        assert!(!same_origin(
            &headers(&[
                ("host", "ls.example"),
                ("referer", "https://ls.example.evil.com/")
            ]),
            true
        ));
        assert!(!same_origin(&headers(&[("host", "ls.example")]), false));
    }

    #[test]
    fn session_cookie_is_found_among_others() {
        let h = headers(&[("cookie", "a=1; leitstand_session=tok123; b=2")]);
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("tok123".into()));
        assert_eq!(
            cookie(
                &headers(&[("cookie", "leitstand_session=")]),
                SESSION_COOKIE
            ),
            None
        );
    }

    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
        let h = headers(&[("x-forwarded-for", "203.0.113.9, 10.0.0.2")]);
        let peer: SocketAddr = "10.0.0.1:5555"
            .parse()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
        assert_eq!(client_ip(&h, Some(peer), false), Some(peer.ip()));
        assert_eq!(client_ip(&h, Some(peer), true), "10.0.0.2".parse().ok());
    }

    #[test]
    fn only_listed_paths_are_public() {
        assert!(
            is_public("/healthz")
                && is_public("/pkg/leitstand.wasm")
                && is_public("/api/v1/events")
        );
        assert!(
            !is_public("/")
                && !is_public("/settings")
                && !is_public("/export/dashboard")
                && !is_public("/live/stream")
        );
        assert!(is_public_rpc("/rpc/login123") && !is_public_rpc("/rpc/get_dashboard123"));
    }
}
