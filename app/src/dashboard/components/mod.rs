//! The dashboard's sections.

pub mod error_analysis;
pub mod maturity_table;
pub mod onboarding;
