//! Presentational building blocks shared by the pages.

#[cfg(feature = "ssr")]
pub mod boot;
pub mod deferred;
pub mod format;
#[cfg(feature = "ssr")]
pub mod kpi_card;
pub mod layout;
pub mod server_html;
pub mod theme;
#[cfg(feature = "ssr")]
pub mod timeline_chart;
