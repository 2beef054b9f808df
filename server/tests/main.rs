//! Integration tests: the real server on a random port against a fresh
//! PostgreSQL database per test.

mod alerts;
mod auth;
mod backups;
mod chaos;
mod dashboard;
mod embedded;
mod errors;
mod health;
#[allow(dead_code)] // not every test uses every helper
mod helpers;
mod i18n;
mod ingest;
mod keys;
mod metrics;
mod openapi;
mod probes;
mod pwa;
mod runbooks;
mod scale_out;
mod security;
mod sentry;
mod stream;
mod upgrades;
