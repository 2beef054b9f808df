//! The production dashboard: KPIs, timeline, error analysis, maturity.

pub mod components;
pub mod export;
#[cfg(feature = "ssr")]
pub mod figures;
pub mod kpi;
pub mod page;
pub mod server_fns;
#[cfg(feature = "ssr")]
pub mod store;
pub mod types;
pub mod window;
