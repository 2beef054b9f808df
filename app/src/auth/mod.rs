//! People: users with roles, sessions, and what each role may do.
//!
//! Roles: viewer (read everything), operator (plus resolve errors, create
//! backups, replay deliveries), admin (plus restore, users, keys, settings).
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
