//! SQL of probes, in parts: [`probes`] (definitions, scheduling, results,
//! pings), [`stats`] (figures from rollups and incidents) and
//! [`maintenance`] windows and [`recovery`] runs.

mod maintenance;
mod probes;
mod recovery;
mod stats;

pub use maintenance::*;
pub use probes::*;
pub use recovery::*;
pub use stats::*;
