//! Request security: who is asking (session cookie), what they may reach
//! (guarded by default), same-origin proof for state changes, and the
//! security headers of every response.
//!
//! Every path is guarded unless it is on the short public list below: a
//! page or route added later is protected without anyone remembering to.

pub mod client;
pub mod paths;

use std::net::SocketAddr;
use std::sync::Arc;

use app::auth::guard::{Auth, SESSION_COOKIE};
use app::auth::store as auth_store;
use app::error::AppError;
use app::state::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

pub use client::Transport;
use paths::Area;

use crate::api::error::ApiError;

/// What the guard needs: the app and how far to believe forwarded headers.
#[derive(Clone)]
pub struct GuardState {
    pub app: AppState,
    pub transport: Arc<Transport>,
}

/// Refuses request targets that different layers would read differently
/// (dot segments, NUL): 400 before any handler, guard or router decides.
pub async fn refuse_ambiguous_paths(req: Request, next: Next) -> Response {
    if let Err(refusal) = paths::check(req.uri().path(), req.uri().query()) {
        return ApiError::from(AppError::BadRequest(refusal.message().into())).into_response();
    }
    next.run(req).await
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

fn has_bearer(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer "))
}

fn error(e: AppError) -> Response {
    ApiError::from(e).into_response()
}

/// Resolves the session, then lets the request through or refuses it.
/// Decides on the path's [`Area`]: REST and files never render a page,
/// pages and server functions need a session.
pub async fn guard(State(guard): State<GuardState>, mut req: Request, next: Next) -> Response {
    let GuardState {
        app: state,
        transport,
    } = guard;
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let headers = req.headers();
    let secure = transport.is_https(headers, peer, req.uri().scheme_str());
    let ip = transport.client_ip(headers, peer);
    if let Some(ip) = ip {
        tracing::Span::current().record("client", tracing::field::display(ip));
    }
    let path = req.uri().path().to_owned();
    let area = paths::classify(&path);
    // Only a value shaped like one of our tokens is looked up: random
    // cookies cost no database work.
    let token = cookie(headers, SESSION_COOKIE).filter(|t| auth_store::is_token_shaped(t));
    let uses_session = matches!(
        area,
        Area::Rpc | Area::AuthPage | Area::Page | Area::PublicPage
    );
    let user = match &token {
        Some(t) if uses_session => {
            match auth_store::session_user(&state.pool, t, state.sessions).await {
                Ok(user) => user,
                Err(e) => return error(e),
            }
        }
        _ => None,
    };
    let method = req.method().clone();
    let unsafe_method = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);

    // Same-origin proof for anything a browser session could be tricked
    // into (SameSite=Strict is the first line; this is the second). Only
    // a request the Bearer key authenticates is exempt: REST without a
    // session cookie. Anything carrying the cookie is judged by its rules.
    let key_authenticated = area == Area::Api && token.is_none() && has_bearer(headers);
    let has_cookie = cookie(headers, SESSION_COOKIE).is_some();
    if unsafe_method
        && !key_authenticated
        && (has_cookie || area == Area::Rpc)
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

    match area {
        Area::Health | Area::Static | Area::Api | Area::PublicPage => {}
        Area::Rpc => {
            if user.is_none() && !paths::is_public_rpc(&path) {
                return error(AppError::Unauthorized);
            }
        }
        Area::AuthPage => {
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
        }
        Area::Page => {
            if user.is_none() {
                let not_a_read = unsafe_method || method != Method::GET;
                let (wants_html, next_path) = page_request(&req);
                return refuse_page(&state, not_a_read, wants_html, next_path).await;
            }
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

/// Whether a page request is from a browser, and the path to come back to.
fn page_request(req: &Request) -> (bool, String) {
    let wants_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    let next_path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".into());
    (wants_html, next_path)
}

/// An anonymous request for a page: to set-up when nobody exists yet, to
/// the login page for browsers, a JSON 401 for everything else.
async fn refuse_page(
    state: &AppState,
    not_a_read: bool,
    wants_html: bool,
    next_path: String,
) -> Response {
    if not_a_read {
        return error(AppError::Unauthorized);
    }
    let users = match auth_store::count_users(&state.pool).await {
        Ok(n) => n,
        Err(e) => return error(e),
    };
    if users == 0 {
        return Redirect::to("/setup").into_response();
    }
    if !wants_html {
        return error(AppError::Unauthorized);
    }
    Redirect::to(&format!("/login?next={}", app::events::encode(&next_path))).into_response()
}

/// Policy of everything that is not a page (API, files): nothing runs.
pub const DEFAULT_CSP: &str = "default-src 'none'; frame-ancestors 'none'; sandbox";

pub const PERMISSIONS_POLICY: &str = "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=(), interest-cohort=()";

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
}
