//! Rate limits: per client address on every route but ingest and the live
//! stream (tower_governor), per API key on ingest, per user or key on
//! exports. Every refusal is a JSON 429 with Retry-After.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tower_governor::GovernorError;
use tower_governor::key_extractor::KeyExtractor;

use crate::api::error::ApiError;
use crate::config::Settings;

/// Per-address key for tower_governor: the socket peer, or behind a
/// trusted proxy the address it forwarded.
#[derive(Clone, Copy, Debug)]
pub struct ClientIp {
    pub trust_proxy: bool,
}

impl KeyExtractor for ClientIp {
    type Key = IpAddr;

    fn extract<T>(&self, req: &Request<T>) -> Result<Self::Key, GovernorError> {
        let peer = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        crate::security::client_ip(req.headers(), peer, self.trust_proxy)
            .ok_or(GovernorError::UnableToExtractKey)
    }
}

/// Keyed limiters used inside handlers.
pub struct Limits {
    ingest: Option<DefaultKeyedRateLimiter<i64>>,
    exports: Option<DefaultKeyedRateLimiter<String>>,
}

impl Limits {
    pub fn from_settings(s: &Settings) -> Arc<Self> {
        let ingest = NonZeroU32::new(s.ingest_rate_per_key).map(|rate| {
            let burst = NonZeroU32::new(rate.get().saturating_mul(2)).unwrap_or(rate);
            RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
        });
        let exports =
            NonZeroU32::new(s.exports_per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n)));
        Arc::new(Self { ingest, exports })
    }

    /// 429 when API key `key_id` is over its ingest rate.
    pub fn ingest(&self, key_id: i64) -> Result<(), ApiError> {
        check(
            self.ingest.as_ref(),
            &key_id,
            "ingest requests for this API key",
        )
    }

    /// 429 when `who` (a user or key) has exported too often.
    pub fn export(&self, who: String) -> Result<(), ApiError> {
        check(self.exports.as_ref(), &who, "exports")
    }
}

fn check<K: std::hash::Hash + Eq + Clone>(
    limiter: Option<&DefaultKeyedRateLimiter<K>>,
    key: &K,
    what: &str,
) -> Result<(), ApiError> {
    let Some(limiter) = limiter else {
        return Ok(());
    };
    limiter.check_key(key).map_err(|not_until| {
        let wait = not_until.wait_time_from(governor::clock::Clock::now(
            &governor::clock::DefaultClock::default(),
        ));
        let seconds = wait.as_secs().max(1);
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many {what}; retry in {seconds} s"),
        )
        .with_retry_after(seconds)
    })
}

/// The per-address layer's settings, or None when switched off.
pub fn per_ip_config(
    s: &Settings,
) -> Option<
    Arc<
        tower_governor::governor::GovernorConfig<
            ClientIp,
            governor::middleware::NoOpMiddleware<governor::clock::QuantaInstant>,
        >,
    >,
> {
    let rate = u64::from(s.rate_limit_per_ip);
    if rate == 0 {
        return None;
    }
    let period = Duration::from_secs(1).as_nanos() as u64 / rate;
    tower_governor::governor::GovernorConfigBuilder::default()
        .key_extractor(ClientIp {
            trust_proxy: s.trust_proxy,
        })
        .per_nanosecond(period.max(1))
        .burst_size(s.rate_limit_per_ip.saturating_mul(10).max(1))
        .finish()
        .map(Arc::new)
}

/// Turns tower_governor's plain-text 429 into our JSON error shape.
pub async fn json_429(response: Response) -> Response {
    if response.status() != StatusCode::TOO_MANY_REQUESTS
        || response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
    {
        return response;
    }
    let seconds = response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(1);
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("too many requests from this address; retry in {seconds} s"),
    )
    .with_retry_after(seconds)
    .into_response()
}

#[allow(dead_code)]
fn _assert_body(_: Body) {}
