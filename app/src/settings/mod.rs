//! Settings (admin): users, API keys, audit log, privacy, retention — a page each,
//! inside one frame with tabs.

mod audit;
mod frame;
mod keys;
mod privacy;
mod retention;
mod users;

pub use audit::AuditPage;
pub use keys::KeysPage;
pub use privacy::PrivacyPage;
pub use retention::RetentionPage;
pub use users::UsersPage;
