//! Sending the outbox: the lease scheduler claims due deliveries in every
//! process (`FOR UPDATE SKIP LOCKED` with a lease), this sends each once
//! per claim — webhooks signed per Standard Webhooks, Slack-compatible
//! messages, e-mail over SMTP — and records the attempt fenced on the
//! attempt count, so two processes never record the same attempt. Success
//! is a 2xx (or SMTP accepting the message); a 410 Gone disables the
//! endpoint; anything else is retried on the schedule, honouring
//! `Retry-After`, until it becomes a dead letter.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use app::alerts::store::{self as alerts, AttemptRecord, DueDelivery, Outcome, Source};
use app::alerts::types::{ChannelKind, Notice, SmtpTls};
use app::secrets::SecretBox;
use chrono::{DateTime, Duration, Utc};
use futures::StreamExt;
use rand::Rng;
use tokio::sync::Semaphore;

use super::lease::LeasedWork;
use crate::outbound::Deliverer;

/// At most this many deliveries to one destination at once, per process.
const PER_DESTINATION: usize = 4;
/// Bytes of a response body kept with the attempt.
const RESPONSE_EXCERPT: usize = 1024;

/// What one attempt came to, before it is recorded.
#[derive(Debug, Default)]
struct Sent {
    ok: bool,
    status: Option<u16>,
    response: Option<String>,
    error: Option<String>,
    retry_after: Option<Duration>,
    /// 410 Gone: disable the endpoint.
    gone: bool,
    /// The endpoint is disabled or unusable: no retries.
    final_failure: bool,
}

impl Sent {
    fn failed(error: impl Into<String>) -> Self {
        Self {
            error: Some(error.into()),
            ..Self::default()
        }
    }

    fn refused(error: impl Into<String>) -> Self {
        Self {
            error: Some(error.into()),
            final_failure: true,
            ..Self::default()
        }
    }
}

pub struct DeliveryWork {
    pool: sqlx::PgPool,
    secrets: Arc<SecretBox>,
    deliverer: Arc<Deliverer>,
    schedule: Vec<Duration>,
    /// The language of e-mail and Slack messages (`--default-language`).
    language: app::lang::Locale,
    destinations: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl DeliveryWork {
    pub fn new(
        pool: sqlx::PgPool,
        secrets: Arc<SecretBox>,
        deliverer: Arc<Deliverer>,
        schedule: Vec<Duration>,
        language: app::lang::Locale,
    ) -> Self {
        Self {
            pool,
            secrets,
            deliverer,
            schedule,
            language,
            destinations: Mutex::default(),
        }
    }

    /// The limiter of one destination (entries nobody holds are pruned).
    fn destination(&self, name: &str) -> Arc<Semaphore> {
        let mut map = self.destinations.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 1000 {
            map.retain(|_, s| Arc::strong_count(s) > 1);
        }
        map.entry(name.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(PER_DESTINATION)))
            .clone()
    }

    async fn send(&self, d: &DueDelivery) -> Sent {
        match d.source {
            Source::Channel(id) => {
                let target = match alerts::channel_target(&self.pool, &self.secrets, id).await {
                    Ok(t) => t,
                    Err(e) => return Sent::refused(format!("channel {id}: {e}")),
                };
                if let Some(why) = &target.disabled {
                    return Sent::refused(format!("channel “{}” is {why}", target.name));
                }
                match target.kind {
                    ChannelKind::Webhook => {
                        let Some(url) = target.url() else {
                            return Sent::refused("the channel has no URL");
                        };
                        let secrets = signing_secrets(
                            target.secrets.signing.as_deref(),
                            target.previous.as_ref().and_then(|p| p.signing.as_deref()),
                        );
                        self.post(d, &url, &d.payload, &secrets, &target.secrets.headers)
                            .await
                    }
                    ChannelKind::Slack => {
                        let Some(url) = target.url() else {
                            return Sent::refused("the channel has no URL");
                        };
                        let Some(notice) = notice_of(&d.payload) else {
                            return Sent::refused("not a notice");
                        };
                        self.post(
                            d,
                            &url,
                            &notice.slack(self.language),
                            &[],
                            &Default::default(),
                        )
                        .await
                    }
                    ChannelKind::Email => {
                        let Some(notice) = notice_of(&d.payload) else {
                            return Sent::refused("not a notice");
                        };
                        let smtp = match target.smtp() {
                            Ok(s) => s,
                            Err(e) => return Sent::refused(e.to_string()),
                        };
                        self.mail(&smtp, target.secrets.password.as_deref(), &notice)
                            .await
                    }
                }
            }
            Source::Subscription(id) => {
                let target = match alerts::subscription_target(&self.pool, &self.secrets, id).await
                {
                    Ok(t) => t,
                    Err(e) => return Sent::refused(format!("subscription {id}: {e}")),
                };
                if let Some(why) = &target.disabled {
                    return Sent::refused(format!("subscription “{}” is {why}", target.name));
                }
                let secrets = signing_secrets(
                    target.secrets.signing.as_deref(),
                    target.previous.as_ref().and_then(|p| p.signing.as_deref()),
                );
                self.post(d, &target.url, &d.payload, &secrets, &Default::default())
                    .await
            }
        }
    }

    /// POSTs JSON, signed when there are secrets.
    async fn post(
        &self,
        d: &DueDelivery,
        url: &str,
        body: &serde_json::Value,
        secrets: &[&str],
        headers: &std::collections::BTreeMap<String, String>,
    ) -> Sent {
        let url = match self.deliverer.check_url(url) {
            Ok(u) => u,
            Err(e) => return Sent::failed(e),
        };
        let body = match serde_json::to_vec(body) {
            Ok(b) => b,
            Err(e) => return Sent::refused(format!("encoding the body: {e}")),
        };
        let mut req = self
            .deliverer
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        for (name, value) in headers {
            req = req.header(name.as_str(), value.as_str());
        }
        if !secrets.is_empty() {
            let id = d.id.to_string();
            let ts = Utc::now().timestamp();
            if let Some(sig) = crate::webhooks::signature_header(secrets, &id, ts, &body) {
                req = req
                    .header("webhook-id", id)
                    .header("webhook-timestamp", ts.to_string())
                    .header("webhook-signature", sig);
            }
        }
        let response = match req.body(body).send().await {
            Ok(r) => r,
            Err(e) => return Sent::failed(crate::outbound::describe(&e)),
        };
        let status = response.status();
        let retry_after = matches!(status.as_u16(), 429 | 502 | 503 | 504)
            .then(|| retry_after(response.headers(), Utc::now()))
            .flatten();
        let excerpt = excerpt(response).await;
        let ok = status.is_success();
        Sent {
            ok,
            status: Some(status.as_u16()),
            error: (!ok).then(|| {
                format!(
                    "HTTP {}{}",
                    status.as_u16(),
                    status
                        .canonical_reason()
                        .map(|r| format!(" {r}"))
                        .unwrap_or_default()
                )
            }),
            response: Some(excerpt).filter(|e| !e.is_empty()),
            retry_after,
            gone: status == reqwest::StatusCode::GONE,
            final_failure: false,
        }
    }

    /// Sends a notice by e-mail: plain text and HTML, to every recipient.
    async fn mail(
        &self,
        smtp: &alerts::SmtpConfig,
        password: Option<&str>,
        notice: &Notice,
    ) -> Sent {
        use lettre::message::{Mailbox, MultiPart};
        use lettre::transport::smtp::authentication::Credentials;
        use lettre::transport::smtp::client::{Tls, TlsParameters};
        use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

        let addr = match self.deliverer.guard.resolve(&smtp.host, smtp.port).await {
            Ok(a) => a[0],
            Err(e) => return Sent::failed(e),
        };
        let from: Mailbox = match smtp.from.parse() {
            Ok(m) => m,
            Err(e) => return Sent::refused(format!("sender {}: {e}", smtp.from)),
        };
        let mut builder = Message::builder()
            .from(from)
            .subject(notice.subject(self.language));
        for to in &smtp.to {
            match to.parse::<Mailbox>() {
                Ok(m) => builder = builder.to(m),
                Err(e) => return Sent::refused(format!("recipient {to}: {e}")),
            }
        }
        let message = match builder.multipart(MultiPart::alternative_plain_html(
            notice.text(self.language),
            notice.html(self.language),
        )) {
            Ok(m) => m,
            Err(e) => return Sent::refused(format!("building the message: {e}")),
        };
        let tls = match smtp.tls {
            SmtpTls::None => Tls::None,
            mode => match TlsParameters::new(smtp.host.clone()) {
                Ok(p) if mode == SmtpTls::Tls => Tls::Wrapper(p),
                Ok(p) => Tls::Required(p),
                Err(e) => return Sent::refused(format!("TLS settings: {e}")),
            },
        };
        let mut transport =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(addr.ip().to_string())
                .port(addr.port())
                .tls(tls)
                .timeout(Some(std::time::Duration::from_secs(15)));
        if let Some(user) = &smtp.username {
            transport = transport.credentials(Credentials::new(
                user.clone(),
                password.unwrap_or_default().to_owned(),
            ));
        }
        match transport.build().send(message).await {
            Ok(r) => Sent {
                ok: true,
                status: Some(r.code().into()),
                response: Some(r.message().collect::<Vec<_>>().join(" ")).filter(|m| !m.is_empty()),
                ..Sent::default()
            },
            Err(e) => {
                let permanent = e.is_permanent();
                Sent {
                    status: e.status().map(u16::from),
                    error: Some(format!("SMTP: {e}")),
                    // A permanent rejection (5xx) will not change on retry.
                    final_failure: permanent,
                    ..Sent::default()
                }
            }
        }
    }

    /// Records the attempt and what follows from it, in one transaction.
    async fn record(
        &self,
        d: &DueDelivery,
        record: AttemptRecord,
        sent: &Sent,
    ) -> anyhow::Result<()> {
        let attempt = d.attempts + 1;
        let outcome = if sent.ok {
            Outcome::Delivered
        } else if sent.gone || sent.final_failure {
            Outcome::Dead
        } else {
            let jitter = rand::rng().random_range(-1.0..=1.0);
            match app::alerts::schedule::next_attempt(
                &self.schedule,
                attempt as usize,
                record.at,
                sent.retry_after,
                jitter,
            ) {
                Some(at) => Outcome::Retry(at),
                None => Outcome::Dead,
            }
        };
        let label = match outcome {
            Outcome::Delivered => "delivered",
            Outcome::Dead => "dead",
            Outcome::Retry(_) => "retry",
        };
        metrics::counter!("leitstand_delivery_attempts_total", "outcome" => label).increment(1);
        let mut tx = self.pool.begin().await?;
        let recorded = alerts::record_attempt(&mut tx, d.id, attempt, &record, &outcome)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        if !recorded {
            // Another process recorded this attempt first (our lease ran out).
            tracing::warn!(delivery = %d.id, attempt, "attempt already recorded elsewhere");
            return Ok(());
        }
        if sent.gone {
            let reason = format!("{} answered 410 Gone", d.destination);
            match d.source {
                Source::Channel(id) => {
                    alerts::set_channel_disabled(&mut *tx, id, Some(&reason)).await
                }
                Source::Subscription(id) => {
                    alerts::set_subscription_disabled(&mut *tx, id, Some(&reason)).await
                }
            }
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            alerts::bury_pending(&mut tx, d.source, &format!("endpoint disabled: {reason}"))
                .await
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            tracing::warn!(delivery = %d.id, destination = %d.destination, "410 Gone: endpoint disabled");
        }
        if outcome == Outcome::Dead {
            alerts::signal(
                &mut tx,
                alerts::kind::DEAD_LETTER,
                &["dead_letters"],
                None,
                serde_json::json!({ "delivery_id": d.id, "destination": d.destination }),
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            tracing::warn!(delivery = %d.id, destination = %d.destination, error = ?sent.error, "delivery dead-lettered");
        }
        tx.commit().await?;
        Ok(())
    }
}

/// The current signing secret and, during a rotation, the previous one.
fn signing_secrets<'a>(current: Option<&'a str>, previous: Option<&'a str>) -> Vec<&'a str> {
    current.into_iter().chain(previous).collect()
}

/// The notice inside a webhook payload (`data`).
fn notice_of(payload: &serde_json::Value) -> Option<Notice> {
    serde_json::from_value(payload.get("data")?.clone()).ok()
}

/// `Retry-After` in seconds or as an HTTP date.
fn retry_after(headers: &reqwest::header::HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<i64>() {
        return Some(Duration::seconds(seconds.max(0)));
    }
    let at: DateTime<Utc> = httpdate::parse_http_date(value).ok()?.into();
    Some((at - now).max(Duration::zero()))
}

/// The start of a response body, as text.
async fn excerpt(response: reqwest::Response) -> String {
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(Ok(chunk)) = stream.next().await {
        body.extend_from_slice(&chunk);
        if body.len() >= RESPONSE_EXCERPT {
            body.truncate(RESPONSE_EXCERPT);
            break;
        }
    }
    String::from_utf8_lossy(&body).trim().to_owned()
}

impl LeasedWork for DeliveryWork {
    type Item = DueDelivery;

    fn name(&self) -> &'static str {
        "deliveries"
    }

    async fn claim(&self, limit: usize) -> anyhow::Result<Vec<DueDelivery>> {
        alerts::claim_deliveries(&self.pool, limit as i64)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))
    }

    async fn next_due(&self) -> anyhow::Result<Option<DateTime<Utc>>> {
        alerts::next_delivery_due(&self.pool)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))
    }

    async fn run(self: Arc<Self>, d: DueDelivery) {
        let limiter = self.destination(&d.destination);
        let _turn = limiter.acquire().await;
        let at = Utc::now();
        let started = Instant::now();
        let sent = self.send(&d).await;
        let record = AttemptRecord {
            at,
            duration_ms: started.elapsed().as_secs_f64() * 1000.0,
            status: sent.status.map(i32::from),
            response: sent.response.clone(),
            error: sent.error.clone(),
        };
        if let Err(e) = self.record(&d, record, &sent).await {
            tracing::warn!(delivery = %d.id, error = %e, "recording a delivery attempt failed");
            let _ = alerts::release_delivery(&self.pool, d.id).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).expect("time");
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(reqwest::header::RETRY_AFTER, "120".parse().expect("value"));
        assert_eq!(retry_after(&h, now), Some(Duration::seconds(120)));
        let later: std::time::SystemTime = (now + Duration::seconds(30)).into();
        h.insert(
            reqwest::header::RETRY_AFTER,
            httpdate::fmt_http_date(later).parse().expect("value"),
        );
        assert_eq!(retry_after(&h, now), Some(Duration::seconds(30)));
        h.insert(reqwest::header::RETRY_AFTER, "soon".parse().expect("value"));
        assert_eq!(retry_after(&h, now), None);
    }
}
