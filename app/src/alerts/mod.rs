//! Alerts: notification channels (e-mail, webhooks, Slack-compatible),
//! rules that decide when to notify, event subscriptions that forward
//! events to webhooks, and the deliveries outbox with its dead letters.
//!
//! Rules listen where state changes: ingest's error-group step, probe
//! results and backups write an `alert_signals` row in their own
//! transaction; conditions (error rate, SLOs, backup age, dead letters)
//! are evaluated on a scheduler tick from rollups. Either way the worker
//! turns them into `deliveries` in one transaction, and delivery workers
//! in every process send them with retries.

#[cfg(feature = "ssr")]
pub mod actions;
mod components;
pub mod page;
pub mod schedule;
pub mod server_fns;
#[cfg(feature = "ssr")]
pub mod store;
#[cfg(feature = "ssr")]
pub mod texts;
pub mod types;

pub use types::*;
