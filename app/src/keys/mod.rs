//! API keys: how machines (SDKs, curl, the CLI, scripts) authenticate.
//!
//! A key looks like `lst_ab12cd34_<32 random characters>`. The part before
//! the second underscore is its visible prefix; only the SHA-256 of the
//! whole key is stored, so the secret is shown once and never again.

pub mod server_fns;
#[cfg(feature = "ssr")]
pub mod store;
pub mod types;

pub use types::*;
