//! Rate limits: per client address on every route but ingest and the live
//! stream (tower_governor), per API key on ingest, per user or key on
//! exports. Every refusal is a JSON 429 with Retry-After.

use app::error::AppError;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tower_governor::GovernorError;
use tower_governor::key_extractor::KeyExtractor;

use crate::api::error::ApiError;
use crate::config::Settings;
use crate::security::Transport;
use crate::security::client::limit_key;

/// Per-address key for tower_governor: the client address (its /64 for
/// IPv6), as the security layer determined it.
#[derive(Clone, Debug)]
pub struct ClientIp {
    pub transport: Arc<Transport>,
}

impl KeyExtractor for ClientIp {
    type Key = IpAddr;

    fn extract<T>(&self, req: &Request<T>) -> Result<Self::Key, GovernorError> {
        let peer = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        self.transport
            .client_ip(req.headers(), peer)
            .map(limit_key)
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
        let ingest = NonZeroU32::new(s.limits.ingest_rate_per_key).map(|rate| {
            let burst = NonZeroU32::new(rate.get().saturating_mul(2)).unwrap_or(rate);
            RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
        });
        let exports = NonZeroU32::new(s.limits.exports_per_minute)
            .map(|n| RateLimiter::keyed(Quota::per_minute(n)));
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

    /// Forgets keys whose limits are back to full (housekeeping).
    pub fn prune(&self) {
        if let Some(l) = &self.ingest {
            l.retain_recent();
        }
        if let Some(l) = &self.exports {
            l.retain_recent();
        }
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
        ApiError::from(AppError::TooManyRequests {
            retry_after: seconds,
        })
        .with_message(format!("too many {what}; retry in {seconds} s"))
        .with_retry_after(seconds)
    })
}

/// The per-address layer's settings.
pub type PerIpConfig = tower_governor::governor::GovernorConfig<
    ClientIp,
    governor::middleware::NoOpMiddleware<governor::clock::QuantaInstant>,
>;

/// The per-address limiter's state, for pruning.
#[derive(Clone)]
pub struct PerIpLimiter(Arc<PerIpConfig>);

impl PerIpLimiter {
    /// Forgets addresses whose limit is back to full.
    pub fn retain_recent(&self) {
        self.0.limiter().retain_recent();
    }
}

/// The per-address layer's settings, or None when switched off.
pub fn per_ip_config(s: &Settings, transport: Arc<Transport>) -> Option<Arc<PerIpConfig>> {
    let rate = u64::from(s.limits.rate_limit_per_ip);
    if rate == 0 {
        return None;
    }
    let period = Duration::from_secs(1).as_nanos() as u64 / rate;
    tower_governor::governor::GovernorConfigBuilder::default()
        .key_extractor(ClientIp { transport })
        .per_nanosecond(period.max(1))
        .burst_size(s.limits.rate_limit_per_ip.saturating_mul(10).max(1))
        .finish()
        .map(Arc::new)
}

impl PerIpLimiter {
    pub fn of(config: &Arc<PerIpConfig>) -> Self {
        Self(config.clone())
    }
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
    ApiError::from(AppError::TooManyRequests {
        retry_after: seconds,
    })
    .with_message(format!(
        "too many requests from this address; retry in {seconds} s"
    ))
    .with_retry_after(seconds)
    .into_response()
}
