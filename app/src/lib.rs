//! Leitstand's user interface and the types it shares with the server.
//!
//! Compiles for the server (`ssr`: rendering, server functions, the database
//! layer in each feature's `store` module) and for the browser (`hydrate`).
#![forbid(unsafe_code)]
#![recursion_limit = "256"]

pub mod alerts;
pub mod app;
pub mod audit;
pub mod auth;
pub mod backups;
pub mod components;
pub mod dashboard;
#[cfg(feature = "ssr")]
pub mod demo;
pub mod error;
pub mod error_groups;
pub mod events;
pub mod keys;
pub mod lang;
pub mod pages;
pub mod privacy;
pub mod probes;
pub mod resource;
pub mod retention;
pub mod routes;
#[cfg(feature = "ssr")]
pub mod secrets;
pub mod services;
pub mod settings;
#[cfg(feature = "ssr")]
pub mod state;

pub use app::{App, shell};
