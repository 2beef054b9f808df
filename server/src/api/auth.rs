//! API key authentication for the REST API.

use app::error::AppError;
use app::keys::store::{self as keys};
use app::keys::{KeyPrincipal, Scope};
use app::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::error::ApiError;

/// The API key a request presented (`Authorization: Bearer <key>`).
#[derive(Debug, Clone)]
pub struct ApiKey(pub KeyPrincipal);

impl ApiKey {
    /// 403 unless the key has `scope` (or `admin`).
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.0.has(scope) {
            Ok(())
        } else {
            Err(ApiError::from(AppError::Forbidden(format!(
                "this API key lacks the `{scope}` scope"
            ))))
        }
    }

    /// 403 when the key is bound to another service.
    pub fn require_service(&self, service_id: i64, slug: &str) -> Result<(), ApiError> {
        match self.0.service_id {
            Some(bound) if bound != service_id => Err(ApiError::from(AppError::Forbidden(
                format!("this API key is bound to another service than `{slug}`"),
            ))
            .with_field("service")),
            _ => Ok(()),
        }
    }
}

impl ApiKey {
    /// The service a read may cover: a key bound to a service sees only
    /// that one (asked for nothing, it gets its own; asked for another,
    /// 403). An unbound key gets what it asked for.
    pub fn visible_service(&self, requested: Option<String>) -> Result<Option<String>, ApiError> {
        match (&self.0.service, requested) {
            (None, requested) => Ok(requested),
            (Some(bound), None) => Ok(Some(bound.clone())),
            (Some(bound), Some(asked)) if *bound == asked => Ok(Some(asked)),
            (Some(_), Some(asked)) => Err(ApiError::from(AppError::Forbidden(format!(
                "this API key is bound to another service than `{asked}`"
            )))
            .with_field("service")),
        }
    }

    /// 403 for a key bound to a service: the route spans every service.
    pub fn require_unbound(&self) -> Result<(), ApiError> {
        match &self.0.service {
            None => Ok(()),
            Some(bound) => Err(ApiError::from(AppError::Forbidden(format!(
                "this API key is bound to the service `{bound}`; this route covers every service"
            )))),
        }
    }
}

fn too_many(seconds: u64) -> ApiError {
    ApiError::from(AppError::TooManyRequests {
        retry_after: seconds,
    })
    .with_message(format!(
        "too many failed attempts with this API key from this address; retry in {seconds} s"
    ))
    .with_retry_after(seconds)
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::from(AppError::Unauthorized).with_message(message)
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer_token(parts: &Parts) -> Result<&str, ApiError> {
    let header = parts
        .headers
        .get(AUTHORIZATION)
        .ok_or_else(|| unauthorized("missing API key: send `Authorization: Bearer <key>`"))?;
    let value = header
        .to_str()
        .map_err(|_| unauthorized("malformed Authorization header"))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| unauthorized("malformed Authorization header: expected `Bearer <key>`"))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(unauthorized(
            "malformed Authorization header: expected `Bearer <key>`",
        ));
    }
    Ok(token.trim())
}

impl FromRequestParts<AppState> for ApiKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(parts)?;
        if let Some(principal) = state.keys.get(token) {
            return Ok(Self(principal));
        }
        // Keys missing from the cache take turns (per stripe of key hashes);
        // whoever waited finds the key cached by the one before.
        let _turn = state.keys.lookup_turn(token).await;
        if let Some(principal) = state.keys.get(token) {
            return Ok(Self(principal));
        }
        // Look-ups are counted per (key prefix, address), reserved before
        // the look-up: guessing at one key never locks out another.
        let ip = parts
            .extensions
            .get::<app::auth::guard::Auth>()
            .and_then(|a| a.ip);
        let limiter_keys = app::auth::limiter::api_key_keys(ip, app::keys::key_prefix(token));
        let reservation = state
            .auth_failures
            .reserve(&limiter_keys, std::time::Instant::now())
            .map_err(too_many)?;
        let found = match keys::authenticate(&state.pool, token).await {
            Ok(found) => found,
            Err(e) => {
                state
                    .auth_failures
                    .give_back(&limiter_keys, reservation, None);
                return Err(e.into());
            }
        };
        match found {
            Some(principal) => {
                state
                    .auth_failures
                    .give_back(&limiter_keys, reservation, None);
                state.keys.put(token, principal.clone());
                Ok(Self(principal))
            }
            None => Err(unauthorized("unknown or revoked API key")),
        }
    }
}
