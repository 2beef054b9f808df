//! Prometheus metrics: one recorder per process (the `metrics` facade with
//! the Prometheus exporter), rendered at `GET /metrics`.
//!
//! Counters and histograms are recorded where things happen (HTTP requests
//! here, ingest batches in the group-commit writer, probe checks and
//! deliveries in their jobs). Gauges that describe a state — open streams,
//! the database pool, backups, dead letters, the process — are read when
//! someone scrapes, so they are never stale.
//!
//! Access: a `Bearer` key with the `metrics` (or `admin`) scope, or a
//! client in `--metrics-allow`; `--metrics-listen` serves `/metrics` alone
//! on a second address (for a private network) without a key.

use std::net::IpAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use app::keys::Scope;
use app::state::AppState;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ipnet::IpNet;
use metrics::{
    Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::api::auth::ApiKey;
use crate::api::error::ApiError;
use crate::security::paths::{Area, classify};

/// The process's recorder and what it renders with.
pub struct Registry {
    handle: PrometheusHandle,
    process: metrics_process::Collector,
    /// One scrape at a time: its gauges are set and rendered together.
    scrape: tokio::sync::Mutex<()>,
}

static REGISTRY: OnceLock<Option<Registry>> = OnceLock::new();

/// Seconds: from a millisecond to a minute.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0,
];
/// Events or requests in one group-commit batch.
const BATCH_BUCKETS: [f64; 12] = [
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 1000.0, 4000.0, 10000.0,
];

/// Installs the recorder once per process (later calls return the same
/// one). None when another recorder was installed first.
pub fn registry() -> Option<&'static Registry> {
    REGISTRY
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &LATENCY_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Prefix("leitstand_ingest_batch_".into()),
                        &BATCH_BUCKETS,
                    )
                })
                .map(PrometheusBuilder::build_recorder);
            let recorder = match recorder {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(error = %e, "metrics are off: cannot build the recorder");
                    return None;
                }
            };
            let handle = recorder.handle();
            if let Err(e) = metrics::set_global_recorder(recorder) {
                tracing::error!(error = %e, "metrics are off: another recorder is installed");
                return None;
            }
            let process = metrics_process::Collector::new("leitstand_");
            process.describe();
            describe();
            Some(Registry {
                handle,
                process,
                scrape: tokio::sync::Mutex::new(()),
            })
        })
        .as_ref()
}

/// How often recorded histogram samples are folded into their buckets.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Folds the histogram samples recorded since the last round into their
/// buckets, every [`UPKEEP_EVERY`] until `shutdown`. The exporter keeps
/// every sample until then: without this, a process nobody scrapes would
/// hold each request's latency in memory for good (at 1 000 requests a
/// second, about a megabyte a minute).
pub async fn run_upkeep(shutdown: tokio_util::sync::CancellationToken) {
    let Some(registry) = registry() else {
        return;
    };
    let mut tick = tokio::time::interval(UPKEEP_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => registry.handle.run_upkeep(),
            () = shutdown.cancelled() => return,
        }
    }
}

/// What a metric is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// Every metric Leitstand records itself: name, kind, description.
pub const METRICS: &[(&str, Kind, &str)] = &[
    (
        "leitstand_http_requests_total",
        Kind::Counter,
        "HTTP requests answered, by matched route, method and status",
    ),
    (
        "leitstand_http_request_duration_seconds",
        Kind::Histogram,
        "Time to the response's headers, by matched route, method and status",
    ),
    (
        "leitstand_ingest_events_total",
        Kind::Counter,
        "Events received for ingest, by outcome: accepted (stored), duplicate (id already stored)",
    ),
    (
        "leitstand_ingest_rejected_total",
        Kind::Counter,
        "Ingest requests refused before storing, by error code",
    ),
    (
        "leitstand_ingest_batch_events",
        Kind::Histogram,
        "Events per group-commit transaction",
    ),
    (
        "leitstand_ingest_batch_requests",
        Kind::Histogram,
        "Requests sharing one group-commit transaction",
    ),
    (
        "leitstand_ingest_commit_duration_seconds",
        Kind::Histogram,
        "Time of one group-commit transaction, connection wait included",
    ),
    (
        "leitstand_ingest_batches_failed_total",
        Kind::Counter,
        "Group-commit transactions that failed",
    ),
    (
        "leitstand_db_pool_acquire_duration_seconds",
        Kind::Histogram,
        "Wait for a database connection, by user of the pool",
    ),
    (
        "leitstand_db_pool_connections",
        Kind::Gauge,
        "Database connections of this process, by state (in_use, idle) and the maximum",
    ),
    (
        "leitstand_live_streams_open",
        Kind::Gauge,
        "Live event streams open on this process",
    ),
    (
        "leitstand_live_events_sent_total",
        Kind::Counter,
        "Events sent to live stream clients",
    ),
    (
        "leitstand_live_clients_dropped_total",
        Kind::Counter,
        "Live stream clients dropped because they fell too far behind",
    ),
    (
        "leitstand_live_listener_reconnects_total",
        Kind::Counter,
        "Reconnects of the database listener that feeds the live streams",
    ),
    (
        "leitstand_probe_checks_total",
        Kind::Counter,
        "Probe checks run by this process, by kind and outcome",
    ),
    (
        "leitstand_probe_check_duration_seconds",
        Kind::Histogram,
        "Duration of probe checks, by kind",
    ),
    (
        "leitstand_probe_schedule_lag_seconds",
        Kind::Histogram,
        "How late probe checks started against their due time",
    ),
    ("leitstand_probes", Kind::Gauge, "Enabled probes, by state"),
    (
        "leitstand_delivery_attempts_total",
        Kind::Counter,
        "Alert and webhook delivery attempts, by outcome (delivered, retry, dead)",
    ),
    (
        "leitstand_dead_letters",
        Kind::Gauge,
        "Deliveries that gave up and wait for a replay or discard",
    ),
    (
        "leitstand_backup_last_success_timestamp_seconds",
        Kind::Gauge,
        "When the newest good backup finished (Unix time; absent before the first)",
    ),
    (
        "leitstand_backup_age_seconds",
        Kind::Gauge,
        "Seconds since the newest good backup finished",
    ),
    (
        "leitstand_backup_last_ok",
        Kind::Gauge,
        "1 when the newest finished backup succeeded, 0 when it failed",
    ),
    (
        "leitstand_sentry_items_skipped_total",
        Kind::Counter,
        "Sentry envelope items read but not stored, by item type",
    ),
    (
        "leitstand_build_info",
        Kind::Gauge,
        "Always 1; the labels name the build",
    ),
];

/// What the process collector adds (`leitstand_process_*`).
pub const PROCESS_METRICS: &[&str] = &[
    "leitstand_process_cpu_seconds_total",
    "leitstand_process_open_fds",
    "leitstand_process_max_fds",
    "leitstand_process_virtual_memory_bytes",
    "leitstand_process_resident_memory_bytes",
    "leitstand_process_start_time_seconds",
    "leitstand_process_threads",
];

fn describe() {
    for &(name, kind, text) in METRICS {
        let unit = name.ends_with("_seconds").then_some(Unit::Seconds);
        match (kind, unit) {
            (Kind::Counter, _) => describe_counter!(name, text),
            (Kind::Gauge, Some(u)) => describe_gauge!(name, u, text),
            (Kind::Gauge, None) => describe_gauge!(name, text),
            (Kind::Histogram, Some(u)) => describe_histogram!(name, u, text),
            (Kind::Histogram, None) => describe_histogram!(name, text),
        }
    }
}

impl Registry {
    /// Brings the gauges up to date and renders everything.
    async fn render(&self, state: &AppState) -> String {
        let _turn = self.scrape.lock().await;
        self.process.collect();
        gauges(state).await;
        self.handle.render()
    }
}

/// Reads the state gauges: pool, streams, probes, deliveries, backups.
async fn gauges(state: &AppState) {
    let pool = &state.pool;
    let size = u64::from(pool.size());
    let idle = pool.num_idle() as u64;
    gauge!("leitstand_db_pool_connections", "state" => "in_use")
        .set(size.saturating_sub(idle) as f64);
    gauge!("leitstand_db_pool_connections", "state" => "idle").set(idle as f64);
    gauge!("leitstand_db_pool_connections", "state" => "max")
        .set(f64::from(pool.options().get_max_connections()));

    use std::sync::atomic::Ordering::Relaxed;
    let live = &state.live.stats;
    gauge!("leitstand_live_streams_open").set(live.active_streams.load(Relaxed) as f64);
    counter!("leitstand_live_events_sent_total").absolute(live.events_sent.load(Relaxed));
    counter!("leitstand_live_clients_dropped_total").absolute(live.clients_dropped.load(Relaxed));
    counter!("leitstand_live_listener_reconnects_total")
        .absolute(live.listener_reconnects.load(Relaxed));
    for (item, n) in crate::api::sentry::skipped_items() {
        counter!("leitstand_sentry_items_skipped_total", "item" => item).absolute(n);
    }
    gauge!(
        "leitstand_build_info",
        "version" => env!("CARGO_PKG_VERSION"),
        "commit" => env!("LEITSTAND_COMMIT"),
        "built" => env!("LEITSTAND_BUILD_DATE"),
    )
    .set(1.0);

    // One round trip for what the database knows; a scrape must not fail
    // because the database is slow, so it is bounded and skipped on error.
    let query = sqlx::query_as::<_, DbGauges>(
        "select
            (select extract(epoch from max(finished_at))::float8
               from backups where status = 'ok') as backup_ok_at,
            (select status = 'ok' from backups where status <> 'running'
              order by created_at desc limit 1) as backup_last_ok,
            (select count(*) from deliveries where status = 'dead') as dead_letters,
            (select count(*) filter (where state = 'up') from probes where enabled) as up,
            (select count(*) filter (where state = 'degraded') from probes where enabled) as degraded,
            (select count(*) filter (where state = 'down') from probes where enabled) as down,
            (select count(*) filter (where state = 'unknown') from probes where enabled) as unknown",
    )
    .fetch_one(pool);
    match tokio::time::timeout(Duration::from_secs(2), query).await {
        Ok(Ok(g)) => {
            if let Some(at) = g.backup_ok_at {
                gauge!("leitstand_backup_last_success_timestamp_seconds").set(at);
                let now = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
                gauge!("leitstand_backup_age_seconds").set((now - at).max(0.0));
            }
            if let Some(ok) = g.backup_last_ok {
                gauge!("leitstand_backup_last_ok").set(if ok { 1.0 } else { 0.0 });
            }
            gauge!("leitstand_dead_letters").set(g.dead_letters as f64);
            for (s, n) in [
                ("up", g.up),
                ("degraded", g.degraded),
                ("down", g.down),
                ("unknown", g.unknown),
            ] {
                gauge!("leitstand_probes", "state" => s).set(n as f64);
            }
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "metrics: reading gauges from the database failed")
        }
        Err(_) => tracing::warn!("metrics: the database did not answer within 2 s"),
    }
}

#[derive(sqlx::FromRow)]
struct DbGauges {
    backup_ok_at: Option<f64>,
    backup_last_ok: Option<bool>,
    dead_letters: i64,
    up: i64,
    degraded: i64,
    down: i64,
    unknown: i64,
}

/// Records every request's route, method, status and time to headers.
pub async fn track_http(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = match req.extensions().get::<MatchedPath>() {
        Some(m) => m.as_str().to_owned(),
        None => unmatched_label(req.uri().path()).to_owned(),
    };
    let method = method_label(req.method());
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    let labels = [
        ("route", route),
        ("method", method.to_owned()),
        ("status", status),
    ];
    counter!("leitstand_http_requests_total", &labels).increment(1);
    histogram!("leitstand_http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    res
}

/// Unmatched paths are labelled by their area, never by the raw path
/// (which would make a series per URL anyone cares to ask for).
fn unmatched_label(path: &str) -> &'static str {
    match classify(path) {
        Area::Static => "(static)",
        Area::Api | Area::Rpc | Area::Health => "(unknown api route)",
        Area::AuthPage | Area::Page | Area::PublicPage => "(page)",
    }
}

fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// Who may read `/metrics` on the main listener without a key.
#[derive(Clone, Debug, Default)]
pub struct MetricsAccess {
    pub allow: Vec<IpNet>,
}

impl MetricsAccess {
    fn allows(&self, ip: Option<IpAddr>) -> bool {
        ip.is_some_and(|ip| self.allow.iter().any(|net| net.contains(&ip)))
    }
}

/// `GET /metrics` on the main listener: a key with the `metrics` scope
/// (or `admin`), or an allow-listed client address.
pub async fn metrics(
    State(state): State<AppState>,
    axum::Extension(access): axum::Extension<std::sync::Arc<MetricsAccess>>,
    req: Request,
) -> Response {
    let ip = req
        .extensions()
        .get::<app::auth::guard::Auth>()
        .and_then(|a| a.ip);
    if !access.allows(ip) {
        let (mut parts, _) = req.into_parts();
        let key = match <ApiKey as axum::extract::FromRequestParts<AppState>>::from_request_parts(
            &mut parts, &state,
        )
        .await
        {
            Ok(key) => key,
            Err(e) => return e.into_response(),
        };
        if let Err(e) = key.require(Scope::Metrics) {
            return e.into_response();
        }
        return exposition(&state, &parts.headers).await;
    }
    exposition(&state, req.headers()).await
}

/// `GET /metrics` on the `--metrics-listen` address: no key.
pub async fn metrics_open(State(state): State<AppState>, headers: HeaderMap) -> Response {
    exposition(&state, &headers).await
}

/// The Prometheus text format 0.0.4, or OpenMetrics 1.0 when the scraper
/// prefers it (same samples, OpenMetrics' content type and `# EOF`).
async fn exposition(state: &AppState, headers: &HeaderMap) -> Response {
    let Some(registry) = registry() else {
        return ApiError::from(app::error::AppError::Unavailable(
            "metrics are not available in this process".into(),
        ))
        .into_response();
    };
    let mut text = registry.render(state).await;
    let openmetrics = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/openmetrics-text"));
    let content_type = if openmetrics {
        text.push_str("# EOF\n");
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    } else {
        "text/plain; version=0.0.4; charset=utf-8"
    };
    let mut res = Response::new(Body::from(text));
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// Parses `--metrics-allow` (addresses or CIDR networks).
pub fn parse_allow(entries: &[String]) -> anyhow::Result<Vec<IpNet>> {
    crate::security::client::parse_networks(entries, "--metrics-allow:")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_list_takes_addresses_and_networks() {
        let nets = parse_allow(&["10.0.0.0/8".into(), "::1".into(), " ".into()]).expect("valid");
        let access = MetricsAccess { allow: nets };
        let ip = |s: &str| Some(s.parse::<IpAddr>().expect("address"));
        assert!(access.allows(ip("10.1.2.3")));
        assert!(access.allows(ip("::1")));
        assert!(!access.allows(ip("192.168.0.1")));
        assert!(!access.allows(None));
    }

    #[test]
    fn allow_list_refuses_names() {
        let err = parse_allow(&["prometheus.internal".into()]).err();
        assert!(err.is_some_and(|e| e.to_string().contains("prometheus.internal")));
    }

    #[test]
    fn unmatched_paths_never_become_labels() {
        assert_eq!(unmatched_label("/pkg/leitstand.css"), "(static)");
        assert_eq!(unmatched_label("/api/v1/nope/123"), "(unknown api route)");
        assert_eq!(unmatched_label("/some/page/42"), "(page)");
    }
}
