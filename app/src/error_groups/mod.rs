//! Error groups: the Errors list and detail pages, their status actions,
//! the Releases view, and the REST shapes of `/api/v1/error-groups`.

pub mod page;
#[cfg(feature = "ssr")]
pub mod payload;
pub mod server_fns;
#[cfg(feature = "ssr")]
pub mod store;
pub mod types;

pub use types::*;
