//! The audit log: who did what to what, when, from where.

pub mod server_fns;
#[cfg(feature = "ssr")]
pub mod store;
pub mod types;
