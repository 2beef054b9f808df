//! SQL of events, in three parts: [`write`] stores ingested batches (the
//! one ingest statement), [`rollups`] changes the hourly and daily rollups
//! for everything that removes events, [`read`] answers the explorer, the
//! live stream and the dashboard's small lists.

mod read;
pub mod rollups;
mod write;

pub use read::*;
pub use write::*;
