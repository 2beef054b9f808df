//! Background work of a serving process.

pub mod housekeeping;
pub mod lease;
pub mod probes;
pub mod recovery;
