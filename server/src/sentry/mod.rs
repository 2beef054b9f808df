//! Sentry-SDK compatible ingest, in parts: [`decode`] undoes a request's
//! `Content-Encoding` without ever holding more than the limit, and
//! [`envelope`] splits an envelope into its items with every length
//! checked, and [`grouping`] decides which error group an event joins.

pub mod decode;
pub mod envelope;
pub mod event;
pub mod grouping;
