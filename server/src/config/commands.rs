//! The command line: `leitstand <subcommand>` and each subcommand's arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use super::Settings;

/// Leitstand: production readiness and operations dashboard.
#[derive(Debug, Parser)]
#[command(
    name = "leitstand",
    version = crate::config::VERSION,
    about = "Leitstand: production readiness and operations dashboard",
    long_about = None,
    args_override_self = true
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the dashboard, the REST API and the live stream (runs migrations first).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage API keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Generate realistic demo traffic.
    Demo(DemoArgs),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Export or erase everything stored about one user reference (GDPR).
    #[command(subcommand)]
    Privacy(PrivacyCommand),
    /// Create, list, verify, restore and delete backups.
    #[command(subcommand)]
    Backup(BackupCommand),
    /// One line per service and a summary of backups and Leitstand itself.
    /// Exit code 0: all well, 1: a warning (degraded, SLO missed, backup
    /// stale), 2: something is down, 3: the status could not be read.
    Status(StatusArgs),
    /// List, replay or discard deliveries that ran out of attempts.
    #[command(subcommand, name = "deadletters")]
    DeadLetters(DeadLetterCommand),
    /// Remove data older than the retention policy.
    #[command(subcommand)]
    Retention(RetentionCommand),
    /// Services: their Sentry DSN.
    #[command(subcommand)]
    Service(ServiceCommand),
    /// Ask the server running at --listen whether it is alive (`/healthz`)
    /// or ready (`/readyz`, with --ready). For container health checks and
    /// the systemd unit; exit code 0: yes, 1: no.
    Health(HealthArgs),
}

#[derive(Debug, Args)]
pub struct HealthArgs {
    /// Ask whether it is ready to serve (database reachable) rather than alive.
    #[arg(long)]
    pub ready: bool,
    /// Keep asking for up to this many seconds until the answer is yes.
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub wait: u64,
}

#[derive(Debug, Subcommand)]
pub enum ServiceCommand {
    /// Print the service's Sentry DSN, creating the service and its key
    /// when missing. The host is --public-url, else the listen address.
    Dsn {
        /// The service's slug, e.g. `shop-api`.
        slug: String,
        /// Replace the key first (the old DSN stops working at once).
        #[arg(long)]
        rotate: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum DeadLetterCommand {
    /// List dead letters, newest first, with their last error.
    List {
        /// As JSON, with every attempt.
        #[arg(long)]
        json: bool,
    },
    /// Queue dead letters again with a fresh retry schedule.
    Replay {
        /// The dead letter's id (from `deadletters list`).
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        id: Option<String>,
        /// Every dead letter.
        #[arg(long)]
        all: bool,
    },
    /// Give up on dead letters for good (audited).
    Discard {
        /// The dead letter's id.
        #[arg(required_unless_present = "older_than", conflicts_with = "older_than")]
        id: Option<String>,
        /// Every dead letter created more than this long ago, e.g. `7d`, `12h`.
        #[arg(long, value_name = "AGE")]
        older_than: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Run retention now: drop whole old partitions, delete the rest in small batches.
    Run {
        /// Only print what would be removed.
        #[arg(long)]
        dry_run: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print the status document as JSON (what GET /api/v1/system/status returns).
    #[arg(long)]
    pub json: bool,
    /// Refresh every N seconds until interrupted.
    #[arg(long, value_name = "SECONDS", num_args = 0..=1, default_missing_value = "5")]
    pub watch: Option<u64>,
    /// Read a running Leitstand over HTTP instead of the database (needs --key).
    #[arg(long, env = "LEITSTAND_URL")]
    pub url: Option<String>,
    /// API key with the `read` scope, for --url.
    #[arg(long, env = "LEITSTAND_KEY", hide_env_values = true)]
    pub key: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Take a backup now and print its name.
    Create,
    /// List backups, newest first.
    List {
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
    /// Re-read a backup and check every checksum.
    Verify {
        /// Backup id or file name.
        backup: String,
    },
    /// Replace all data with a backup's (a safety backup is taken first).
    Restore {
        /// Backup id or file name from `backup list`.
        #[arg(required_unless_present = "file")]
        backup: Option<String>,
        /// Restore from a backup file instead (e.g. one copied from another machine).
        #[arg(long, conflicts_with = "backup")]
        file: Option<PathBuf>,
        /// Do not ask for confirmation.
        #[arg(long, short)]
        yes: bool,
    },
    /// Delete a backup's file and catalog entry.
    Delete {
        /// Backup id or file name.
        backup: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum PrivacyCommand {
    /// Print every event of a user reference as JSON.
    Export {
        #[arg(long)]
        user: String,
    },
    /// Delete every event of a user reference (rollups and error groups adjusted).
    Erase {
        #[arg(long)]
        user: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user; the password is read from standard input (one line).
    Add {
        #[arg(long)]
        email: String,
        /// viewer, operator or admin.
        #[arg(long, default_value = "viewer")]
        role: String,
        #[arg(long, default_value = "")]
        name: String,
    },
    /// List users.
    List,
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create a key and print its secret once.
    Create(KeyCreateArgs),
    /// List keys (never their secrets).
    List,
    /// Revoke a key by its prefix or name.
    Revoke {
        /// The key's visible prefix (e.g. `lst_ab12cd34`) or its name.
        key: String,
    },
}

#[derive(Debug, Args)]
pub struct KeyCreateArgs {
    /// A name that says who uses the key.
    #[arg(long)]
    pub name: String,
    /// Comma-separated scopes: ingest, read, backup, admin, errors.
    #[arg(long, value_delimiter = ',', default_value = "ingest")]
    pub scopes: Vec<String>,
    /// Bind the key to one service (slug): events for other services are refused.
    #[arg(long)]
    pub service: Option<String>,
    /// Print only the secret.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Number of events to back-fill over the last 30 days.
    #[arg(long, default_value_t = 20_000)]
    pub events: u64,
    /// Stop after back-filling instead of sending live events.
    #[arg(long)]
    pub no_live: bool,
    /// Live events per second after back-filling.
    #[arg(long, default_value_t = 2.0)]
    pub rate: f64,
    /// Seed for the random generator (same seed, same data).
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}
