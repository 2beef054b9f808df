//! The dashboard's sections.

#[cfg(feature = "ssr")]
pub mod error_analysis;
pub mod maturity_table;
pub mod onboarding;
