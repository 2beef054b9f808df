//! SQL of alerts, in parts: [`channels`] and [`subscriptions`] (where
//! things go, secrets sealed), [`rules`] and their per-service [`state`],
//! [`signals`] written by state changes, and [`deliveries`] (the outbox,
//! attempts, dead letters).

mod channels;
mod deliveries;
mod rules;
mod signals;
mod state;
mod subscriptions;

pub use channels::*;
pub use deliveries::*;
pub use rules::*;
pub use signals::*;
pub use state::*;
pub use subscriptions::*;
