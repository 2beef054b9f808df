//! Privacy: everything stored about one user reference, exported as JSON
//! or erased — with rollups and error groups adjusted so every KPI stays
//! exact afterwards; and the scrubbing of secrets from what apps send.

#[cfg(feature = "ssr")]
pub mod scrub;
pub mod server_fns;
#[cfg(feature = "ssr")]
pub mod store;
