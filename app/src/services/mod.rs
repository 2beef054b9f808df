//! Services: the applications that send events, each with probe settings
//! and SLO targets.

#[cfg(feature = "ssr")]
pub mod store;
pub mod types;

pub use types::*;
