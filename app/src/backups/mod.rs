//! Backups of Leitstand's own data: consistent snapshots of every table in
//! one file, a schedule with retention, verification, and a restore that
//! validates first, takes a safety backup and replaces the data in one
//! transaction — so a failed restore changes nothing.

#[cfg(feature = "ssr")]
pub mod format;
pub mod page;
#[cfg(feature = "ssr")]
pub mod schedule;
pub mod server_fns;
#[cfg(feature = "ssr")]
pub mod store;
pub mod types;

pub use types::*;
