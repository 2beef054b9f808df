//! Sentry-SDK compatible ingest, in parts: [`auth`] finds the key an SDK
//! presents; [`decode`] undoes a request's `Content-Encoding` without ever
//! holding more than the limit; [`envelope`] splits an envelope into its
//! items with every length checked; [`grouping`] decides which error group
//! an event joins; [`event`] turns a Sentry event into a Leitstand event.

pub mod auth;
pub mod decode;
pub mod envelope;
pub mod event;
pub mod grouping;
