//! Events: what applications send, how it is validated, grouped and stored.

#[cfg(feature = "ssr")]
pub mod fingerprint;
#[cfg(feature = "ssr")]
pub mod live;
#[cfg(feature = "hydrate")]
pub mod live_client;
pub mod live_widget;
pub mod page;
pub mod server_fns;
#[cfg(feature = "ssr")]
pub mod store;
pub mod types;
#[cfg(feature = "ssr")]
pub mod validate;
#[cfg(feature = "ssr")]
pub mod writer;

pub use types::*;
