//! Settings (admin): users, API keys, audit log, privacy.

pub mod page;
