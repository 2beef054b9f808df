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
}

impl AppState {
    /// The state from the Leptos context (renders and server functions).
    pub fn from_context() -> Result<Self, crate::error::AppError> {
        leptos::prelude::use_context::<Self>().ok_or_else(|| {
            crate::error::AppError::internal("AppState missing from the Leptos context")
        })
    }
}
