//! Server state shared by every request, render and server function.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::auth::limiter::FailureLimiter;
use crate::auth::store::SessionPolicy;
use crate::dashboard::kpi::KpiSettings;
use crate::events::live::LiveHub;
use crate::events::writer::IngestWriter;
use crate::keys::store::KeyCache;

/// Everything a handler needs: a shared handle, so the clone every request
/// makes (extractors, middleware) is one reference count, not a copy of
/// every setting.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// Leptos' handlers take their options from the state.
impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// What `AppState` shares.
pub struct Shared {
    pub leptos_options: LeptosOptions,
    pub pool: PgPool,
    pub kpi: Arc<KpiSettings>,
    /// Group-commit writer for ingested events.
    pub ingest: IngestWriter,
    /// Fan-out of committed events to live streams.
    pub live: LiveHub,
    /// Recently verified API keys.
    pub keys: Arc<KeyCache>,
    /// Failed sign-ins and unknown API keys, per address and account.
    pub auth_failures: Arc<FailureLimiter>,
    /// Session lifetimes.
    pub sessions: SessionPolicy,
    /// Where backups go and when they are taken.
    pub backups: Arc<crate::backups::store::BackupSettings>,
    /// Cancelled when the server shuts down: long-lived streams end on it.
    pub shutdown: CancellationToken,
    /// When this process started.
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// The status document, computed at most every 5 s.
    pub status_cache: Arc<crate::probes::status::StatusCache>,
    /// Where people and machines reach Leitstand (`--public-url`), for
    /// heartbeat URLs and links; None: the address a request came to.
    pub public_url: Option<String>,
    /// Whether the public status page is served.
    pub public_status: bool,
    /// Seals channel secrets (SMTP passwords, signing secrets).
    pub secrets: Arc<crate::secrets::SecretBox>,
    /// Alerting and retention settings of this process.
    pub alerting: Arc<AlertConfig>,
    /// The language of pages when a request names none of ours, and of
    /// alert messages (`--default-language`).
    pub default_language: crate::lang::Locale,
}

/// Alerting and retention settings.
#[derive(Debug, Clone)]
pub struct AlertConfig {
    /// The delivery retry schedule.
    pub schedule: Vec<chrono::Duration>,
    /// Base URL of links in notices.
    pub base_url: String,
    /// Retention defaults (the Settings page overrides them).
    pub retention: crate::retention::Policy,
    /// The language of notices (`--default-language`).
    pub language: crate::lang::Locale,
}

impl AlertConfig {
    /// How notices are queued: links and the first attempt's delay.
    pub fn dispatch(&self) -> crate::alerts::store::Dispatch {
        crate::alerts::store::Dispatch {
            base_url: self.base_url.clone(),
            first_delay: self.schedule.first().copied().unwrap_or_default(),
            language: self.language,
        }
    }
}

impl AppState {
    /// The base URL for links: `--public-url`, else the scheme and host the
    /// request came to.
    pub fn base_url(&self, headers: &axum::http::HeaderMap, secure: bool) -> String {
        if let Some(url) = &self.public_url {
            return url.trim_end_matches('/').to_owned();
        }
        let host = headers
            .get(axum::http::header::HOST)
            .and_then(|v| v.to_str().ok())
            .filter(|h| {
                h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".:-[]".contains(c))
            })
            .map(str::to_owned)
            .unwrap_or_else(|| self.leptos_options.site_addr.to_string());
        format!("{}://{host}", if secure { "https" } else { "http" })
    }

    /// The state from the Leptos context (renders and server functions).
    pub fn from_context() -> Result<Self, crate::error::AppError> {
        leptos::prelude::use_context::<Self>().ok_or_else(|| {
            crate::error::AppError::internal("AppState missing from the Leptos context")
        })
    }
}
