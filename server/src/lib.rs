//! The Leitstand server: HTTP (pages, server functions, REST, live stream),
//! the embedded default database, background jobs and the command line.
#![forbid(unsafe_code)]

pub mod api;
pub mod cli;
pub mod config;
pub mod connections;
pub mod database;
pub mod embedded_pg;
pub mod headers;
pub mod jobs;
pub mod limits;
pub mod metrics;
pub mod outbound;
pub mod pwa;
pub mod secret_key;
pub mod security;
pub mod sentry;
pub mod site;
pub mod startup;
pub mod telemetry;
pub mod webhooks;
