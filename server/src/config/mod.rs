//! Command line and configuration.
//!
//! Every setting is a flag with an environment variable (`LEITSTAND_*`,
//! `DATABASE_URL`) and may also come from a TOML file given with `--config`.
//! Precedence: flag, then environment, then file, then the built-in default.
//! [`commands`] holds the subcommands, [`settings`] the settings in groups,
//! [`file`] the reading of the TOML file.

mod commands;
mod file;
mod settings;

pub use commands::*;

/// `leitstand --version`: version, commit and build date.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("LEITSTAND_COMMIT"),
    ", built ",
    env!("LEITSTAND_BUILD_DATE"),
    ")"
);
pub use settings::*;
