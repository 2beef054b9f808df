//! Uptime probes: HTTP and TCP checks Leitstand runs on a schedule,
//! heartbeat monitors other systems ping, their incidents, maintenance
//! windows, the watchdog's recovery runs, and the figures (uptime,
//! response times, SLOs) read from hourly rollups.

pub mod components;
pub mod forms;
pub mod histogram;
#[cfg(feature = "ssr")]
pub mod maintenance;
pub mod page;
pub mod server_fns;
pub mod state;
#[cfg(feature = "ssr")]
pub mod status;
#[cfg(feature = "ssr")]
pub mod store;
pub mod types;

pub use types::*;
