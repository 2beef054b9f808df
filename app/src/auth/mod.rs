//! People: users with roles, sessions, and what each role may do.
//!
//! Roles: viewer (read every page), operator (plus create and verify
//! backups), admin (plus users, keys, the audit log, privacy, and backup
//! download, delete and restore).
//! Every page, server function and REST route is checked on the server;
//! the UI only hides what a user may not do.

#[cfg(feature = "ssr")]
pub mod guard;
#[cfg(feature = "ssr")]
pub mod limiter;
pub mod page;
#[cfg(feature = "ssr")]
pub mod password;
pub mod server_fns;
#[cfg(feature = "ssr")]
pub mod store;
pub mod types;

pub use types::*;
