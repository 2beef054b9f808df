//! The one client for outbound HTTP: probes today, alert deliveries and
//! webhooks later. rustls with the system's root certificates (plus any
//! given with `--probe-ca`), redirects only to http/https (at most 10), a
//! timeout on every request, and a global limit on requests in flight.
//!
//! Probes may reach private addresses on purpose (they watch internal
//! services; only admins define them); deliveries will add their own
//! address guard on top of this client.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

const MAX_REDIRECTS: usize = 10;

/// Shared outbound HTTP.
pub struct Outbound {
    following: reqwest::Client,
    not_following: reqwest::Client,
    turns: Arc<Semaphore>,
}

impl Outbound {
    /// Clients trusting the system's roots and `extra_roots` (PEM files),
    /// with at most `concurrency` requests in flight.
    pub fn new(extra_roots: &[&Path], concurrency: usize) -> anyhow::Result<Self> {
        let mut roots = Vec::new();
        for path in extra_roots {
            let pem = std::fs::read(path)
                .with_context(|| format!("reading CA certificates {}", path.display()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .with_context(|| format!("{} holds no PEM certificates", path.display()))?;
            roots.extend(certs);
        }
        let build = |redirects: reqwest::redirect::Policy| {
            let mut b = reqwest::Client::builder()
                .user_agent(concat!("Leitstand/", env!("CARGO_PKG_VERSION")))
                .redirect(redirects)
                .tls_info(true)
                .pool_max_idle_per_host(4)
                .connect_timeout(std::time::Duration::from_secs(10));
            for cert in &roots {
                b = b.add_root_certificate(cert.clone());
            }
            b.build().context("building the outbound HTTP client")
        };
        let follow = reqwest::redirect::Policy::custom(|attempt| {
            if attempt.previous().len() >= MAX_REDIRECTS {
                attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
            } else if !matches!(attempt.url().scheme(), "http" | "https") {
                let scheme = attempt.url().scheme().to_owned();
                attempt.error(format!("{scheme}:// is not http or https"))
            } else {
                attempt.follow()
            }
        });
        Ok(Self {
            following: build(follow)?,
            not_following: build(reqwest::redirect::Policy::none())?,
            turns: Arc::new(Semaphore::new(concurrency.max(1))),
        })
    }

    /// The client that follows redirects, or the one that does not.
    pub fn client(&self, follow_redirects: bool) -> &reqwest::Client {
        if follow_redirects {
            &self.following
        } else {
            &self.not_following
        }
    }

    /// A turn to send a request; waits while the limit is reached.
    pub async fn turn(&self) -> Option<OwnedSemaphorePermit> {
        self.turns.clone().acquire_owned().await.ok()
    }

    /// Requests that could start now.
    pub fn free_turns(&self) -> usize {
        self.turns.available_permits()
    }
}

/// What a failed request was, in words for a person.
pub fn describe(e: &reqwest::Error) -> String {
    use std::error::Error;
    let mut text = if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "cannot connect".to_owned()
    } else if e.is_redirect() {
        "redirect refused".to_owned()
    } else {
        "request failed".to_owned()
    };
    // The innermost cause says what really happened (refused, DNS, TLS).
    let mut source = e.source();
    let mut last = None;
    while let Some(s) = source {
        last = Some(s.to_string());
        source = s.source();
    }
    if let Some(cause) = last {
        text.push_str(": ");
        text.push_str(&cause);
    }
    text.chars().take(500).collect()
}
