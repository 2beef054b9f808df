//! Privacy: everything stored about one user reference, exported as JSON
//! or erased — with rollups and error groups adjusted so every KPI stays
//! exact afterwards.

pub mod server_fns;
#[cfg(feature = "ssr")]
pub mod store;
