//! Presentational building blocks shared by the pages.

#[cfg(feature = "ssr")]
pub mod boot;
pub mod deferred;
pub mod format;
pub mod kpi_card;
pub mod layout;
pub mod theme;
pub mod timeline_chart;
