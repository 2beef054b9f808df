//! Running probes: HTTP and TCP checks and heartbeat deadlines, claimed by
//! the lease scheduler, recorded in one transaction each, with the
//! watchdog's recovery action considered whenever a probe is down.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::probes::store::{self, CheckResult, DueCheck, StoredWindow};
use app::probes::{HttpCheck, Outcome, ProbeKind, ProbeState, TcpCheck};
use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::lease::LeasedWork;
use super::recovery::Recovery;
use crate::outbound::{Outbound, describe};

/// Largest body read to check its content.
const MAX_BODY: usize = 1024 * 1024;
/// How long maintenance windows are cached between checks.
const WINDOWS_TTL: Duration = Duration::from_secs(5);

/// Counters of the probe runner, for the status API and benchmarks.
#[derive(Debug, Default)]
pub struct ProbeStats {
    /// How late checks started against when they were due (histogram
    /// buckets of `app::probes::histogram`).
    lag: Mutex<Vec<i64>>,
}

impl ProbeStats {
    fn note_lag(&self, ms: f64) {
        if let Ok(mut lag) = self.lag.lock() {
            app::probes::histogram::add(&mut lag, &app::probes::histogram::single(ms));
        }
    }

    /// Start lag quantile in ms over every check since the start.
    pub fn lag_quantile(&self, q: f64) -> Option<f64> {
        self.lag
            .lock()
            .ok()
            .and_then(|l| app::probes::histogram::quantile(&l, q))
    }

    pub fn checks(&self) -> i64 {
        self.lag.lock().map(|l| l.iter().sum()).unwrap_or(0)
    }
}

/// The probe work of one process.
pub struct ProbeWork {
    pub pool: PgPool,
    pub outbound: Arc<Outbound>,
    pub recovery: Arc<Recovery>,
    pub stats: Arc<ProbeStats>,
    windows: Mutex<Option<(Instant, Arc<Vec<StoredWindow>>)>>,
}

impl ProbeWork {
    pub fn new(
        pool: PgPool,
        outbound: Arc<Outbound>,
        recovery: Arc<Recovery>,
        stats: Arc<ProbeStats>,
    ) -> Self {
        Self {
            pool,
            outbound,
            recovery,
            stats,
            windows: Mutex::new(None),
        }
    }

    async fn windows(&self) -> Arc<Vec<StoredWindow>> {
        if let Ok(cached) = self.windows.lock()
            && let Some((at, w)) = cached.as_ref()
            && at.elapsed() < WINDOWS_TTL
        {
            return w.clone();
        }
        let fresh = match store::windows(&self.pool).await {
            Ok(w) => Arc::new(w),
            Err(e) => {
                tracing::warn!(error = ?e, "reading maintenance windows failed");
                Arc::new(Vec::new())
            }
        };
        if let Ok(mut cached) = self.windows.lock() {
            *cached = Some((Instant::now(), fresh.clone()));
        }
        fresh
    }
}

impl LeasedWork for ProbeWork {
    type Item = DueCheck;

    fn name(&self) -> &'static str {
        "probes"
    }

    async fn claim(&self, limit: usize) -> anyhow::Result<Vec<DueCheck>> {
        // The outbound limit is shared with other work: claim no more
        // than can start.
        let limit = limit.min(self.outbound.free_turns().max(1));
        store::claim_due(&self.pool, limit as i64)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))
    }

    async fn next_due(&self) -> anyhow::Result<Option<DateTime<Utc>>> {
        store::next_due(&self.pool)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))
    }

    async fn run(self: Arc<Self>, due: DueCheck) {
        let lag_ms = (Utc::now() - due.due_at).num_milliseconds().max(0) as f64;
        self.stats.note_lag(lag_ms);
        let mut result = match due.kind {
            ProbeKind::Http => match &due.definition.http {
                Some(http) => {
                    let _turn = self.outbound.turn().await;
                    check_http(&self.outbound, http, &due).await
                }
                None => misconfigured("no HTTP settings"),
            },
            ProbeKind::Tcp => match &due.definition.tcp {
                Some(tcp) => check_tcp(tcp, due.definition.timeout_seconds).await,
                None => misconfigured("no TCP settings"),
            },
            ProbeKind::Heartbeat => check_heartbeat(&due),
        };
        result.lag_ms = Some(lag_ms);
        let kind = due.kind.as_str();
        metrics::counter!("leitstand_probe_checks_total", "kind" => kind, "outcome" => result.outcome.as_str())
            .increment(1);
        metrics::histogram!("leitstand_probe_schedule_lag_seconds").record(lag_ms / 1000.0);
        if let Some(ms) = result.duration_ms {
            metrics::histogram!("leitstand_probe_check_duration_seconds", "kind" => kind)
                .record(ms / 1000.0);
        }
        let windows = self.windows().await;
        let in_maintenance = store::in_maintenance(&windows, due.service_id, result.checked_at);
        match store::record(&self.pool, due.id, due.due_at, &result, in_maintenance).await {
            Ok(recorded) => {
                let t = recorded.transition;
                if t.went_down {
                    tracing::warn!(probe = due.id, service = %due.service, error = ?result.error, "probe down");
                } else if t.came_back {
                    tracing::info!(probe = due.id, service = %due.service, "probe up again");
                }
                if t.state == ProbeState::Down {
                    self.recovery
                        .consider(due.service_id, &due.service, due.id, t.consecutive_failures)
                        .await;
                }
            }
            Err(e) => {
                tracing::warn!(probe = due.id, error = ?e, "recording a probe result failed");
                let _ = store::release(&self.pool, due.id).await;
            }
        }
    }
}

fn misconfigured(what: &str) -> CheckResult {
    CheckResult {
        lag_ms: None,
        checked_at: Utc::now(),
        duration_ms: None,
        status_code: None,
        outcome: Outcome::Down,
        error: Some(format!("probe is misconfigured: {what}")),
        cert_expires_at: None,
    }
}

fn failed(
    checked_at: DateTime<Utc>,
    started: Instant,
    status: Option<i32>,
    error: String,
) -> CheckResult {
    CheckResult {
        lag_ms: None,
        checked_at,
        duration_ms: Some(started.elapsed().as_secs_f64() * 1000.0),
        status_code: status,
        outcome: Outcome::Down,
        error: Some(error),
        cert_expires_at: None,
    }
}

/// An HTTP check: the status must be in the expected set, the body must
/// contain the text and the JSON pointer must equal the value when asked;
/// a certificate that expires within the warning days degrades the probe.
pub async fn check_http(out: &Outbound, http: &HttpCheck, due: &DueCheck) -> CheckResult {
    let checked_at = Utc::now();
    let started = Instant::now();
    let timeout = Duration::from_secs_f64(due.definition.timeout_seconds);
    let method =
        reqwest::Method::from_bytes(http.method.as_bytes()).unwrap_or(reqwest::Method::GET);
    let mut request = out
        .client(http.follow_redirects)
        .request(method, &http.url)
        .timeout(timeout);
    for (name, value) in &http.headers {
        request = request.header(name, value);
    }
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) => return failed(checked_at, started, None, describe(&e)),
    };
    let status = response.status().as_u16();
    let cert_expires_at = response
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|info| info.peer_certificate())
        .and_then(certificate_expiry);
    let needs_body = http.body_contains.is_some() || http.json_pointer.is_some();
    let body = if needs_body {
        match read_body(response, started, timeout).await {
            Ok(b) => Some(b),
            Err(e) => return failed(checked_at, started, Some(i32::from(status)), e),
        }
    } else {
        drop(response);
        None
    };
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    let problem = judge(http, status, body.as_deref());
    let warn_from =
        checked_at + chrono::Duration::days(i64::from(due.definition.cert_warning_days));
    let (outcome, error) = match problem {
        Some(p) => (Outcome::Down, Some(p)),
        None => match cert_expires_at {
            Some(exp) if exp <= warn_from => (
                Outcome::Degraded,
                Some(format!(
                    "TLS certificate expires {}",
                    exp.format("%Y-%m-%d %H:%M UTC")
                )),
            ),
            _ => (Outcome::Up, None),
        },
    };
    CheckResult {
        lag_ms: None,
        checked_at,
        duration_ms: Some(duration_ms),
        status_code: Some(i32::from(status)),
        outcome,
        error,
        cert_expires_at,
    }
}

async fn read_body(
    response: reqwest::Response,
    started: Instant,
    timeout: Duration,
) -> Result<Vec<u8>, String> {
    use futures::StreamExt;
    let mut stream = response.bytes_stream();
    let mut body = Vec::new();
    loop {
        let left = timeout.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, stream.next()).await {
            Err(_) => return Err("timed out reading the body".into()),
            Ok(None) => return Ok(body),
            Ok(Some(Err(e))) => return Err(format!("reading the body: {}", describe(&e))),
            Ok(Some(Ok(chunk))) => {
                let room = MAX_BODY.saturating_sub(body.len());
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if body.len() >= MAX_BODY {
                    return Ok(body);
                }
            }
        }
    }
}

/// What is wrong with an answer, if anything.
pub fn judge(http: &HttpCheck, status: u16, body: Option<&[u8]>) -> Option<String> {
    if !http
        .expected_status
        .iter()
        .any(|r| (r.0..=r.1).contains(&status))
    {
        return Some(format!(
            "status {status}, expected {}",
            app::probes::format_status_set(&http.expected_status)
        ));
    }
    let body = body.unwrap_or_default();
    if let Some(text) = &http.body_contains
        && !String::from_utf8_lossy(body).contains(text.as_str())
    {
        return Some(format!("the body does not contain “{text}”"));
    }
    if let (Some(pointer), Some(expected)) = (&http.json_pointer, &http.json_equals) {
        let parsed: serde_json::Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(_) => return Some("the body is not JSON".into()),
        };
        match parsed.pointer(pointer) {
            Some(found) if found == expected => {}
            Some(found) => {
                let found: String = found.to_string().chars().take(100).collect();
                return Some(format!("{pointer} is {found}, expected {expected}"));
            }
            None => return Some(format!("{pointer} is missing from the body")),
        }
    }
    None
}

/// The notAfter of a DER certificate.
fn certificate_expiry(der: &[u8]) -> Option<DateTime<Utc>> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    DateTime::from_timestamp(cert.validity().not_after.timestamp(), 0)
}

/// A TCP check: the connection must open within the timeout.
pub async fn check_tcp(tcp: &TcpCheck, timeout_seconds: f64) -> CheckResult {
    let checked_at = Utc::now();
    let started = Instant::now();
    let target = (tcp.host.trim_matches(['[', ']']), tcp.port);
    let outcome = tokio::time::timeout(
        Duration::from_secs_f64(timeout_seconds),
        tokio::net::TcpStream::connect(target),
    )
    .await;
    match outcome {
        Ok(Ok(_stream)) => CheckResult {
            lag_ms: None,
            checked_at,
            duration_ms: Some(started.elapsed().as_secs_f64() * 1000.0),
            status_code: None,
            outcome: Outcome::Up,
            error: None,
            cert_expires_at: None,
        },
        Ok(Err(e)) => failed(checked_at, started, None, format!("cannot connect: {e}")),
        Err(_) => failed(checked_at, started, None, "timed out".into()),
    }
}

/// A heartbeat is due when its last ping is more than a period and the
/// grace time ago: it is down then.
pub fn check_heartbeat(due: &DueCheck) -> CheckResult {
    let now = Utc::now();
    let allowed = chrono::Duration::seconds(i64::from(
        due.definition.period_seconds.unwrap_or(60) + due.definition.grace_seconds.unwrap_or(0),
    ));
    let late = due.last_ping_at.is_none_or(|at| now - at > allowed);
    CheckResult {
        lag_ms: None,
        checked_at: now,
        duration_ms: None,
        status_code: None,
        outcome: if late { Outcome::Down } else { Outcome::Up },
        error: late.then(|| match due.last_ping_at {
            Some(at) => format!("no ping since {}", at.format("%Y-%m-%d %H:%M:%S UTC")),
            None => "no ping yet".into(),
        }),
        cert_expires_at: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::probes::StatusRange;

    fn http(extra: impl FnOnce(&mut HttpCheck)) -> HttpCheck {
        let mut h = HttpCheck {
            method: "GET".into(),
            url: "http://x/health".into(),
            expected_status: vec![StatusRange(200, 299)],
            body_contains: None,
            json_pointer: None,
            json_equals: None,
            follow_redirects: true,
            headers: Default::default(),
        };
        extra(&mut h);
        h
    }

    #[test]
    fn answers_are_judged_by_status_body_and_json() {
        assert_eq!(judge(&http(|_| {}), 204, None), None);
        assert_eq!(
            judge(&http(|_| {}), 503, None).as_deref(),
            Some("status 503, expected 2xx")
        );
        let contains = http(|h| h.body_contains = Some("ok".into()));
        assert_eq!(judge(&contains, 200, Some(b"all ok")), None);
        assert!(judge(&contains, 200, Some(b"fail")).is_some());
        let pointer = http(|h| {
            h.json_pointer = Some("/db/status".into());
            h.json_equals = Some(serde_json::json!("up"));
        });
        assert_eq!(
            judge(&pointer, 200, Some(br#"{"db":{"status":"up"}}"#)),
            None
        );
        assert_eq!(
            judge(&pointer, 200, Some(br#"{"db":{"status":"down"}}"#)).as_deref(),
            Some("/db/status is \"down\", expected \"up\"")
        );
        assert!(judge(&pointer, 200, Some(b"<html>")).is_some_and(|e| e.contains("not JSON")));
        assert!(judge(&pointer, 200, Some(b"{}")).is_some_and(|e| e.contains("missing")));
    }
}
