//! Command line and configuration.
//!
//! Every setting is a flag with an environment variable (`LEITSTAND_*`,
//! `DATABASE_URL`) and may also come from a TOML file given with `--config`.
//! Precedence: flag, then environment, then file, then the built-in default.

use std::ffi::OsString;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use secrecy::{ExposeSecret, SecretString};

/// Leitstand: production readiness and operations dashboard.
#[derive(Debug, Parser)]
#[command(
    name = "leitstand",
    version,
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
    /// Comma-separated scopes: ingest, read, backup, admin.
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable, coloured on a terminal.
    Text,
    /// One JSON object per line.
    Json,
}

/// Settings shared by every subcommand, in groups. Flags stay flat
/// (`--backup-keep`, not `--backups.keep`); the groups are for the code.
/// `Debug` is derived: secrets are in types that print redacted, so no
/// field can be forgotten or leak.
#[derive(Clone, Debug, Args)]
pub struct Settings {
    /// TOML file with settings (keys as the long flags, e.g. `listen = "0.0.0.0:3000"`).
    #[arg(long, env = "LEITSTAND_CONFIG", global = true)]
    pub config: Option<PathBuf>,

    #[command(flatten)]
    pub database: DatabaseSettings,
    #[command(flatten)]
    pub http: HttpSettings,
    #[command(flatten)]
    pub limits: LimitSettings,
    #[command(flatten)]
    pub sessions: SessionSettings,
    #[command(flatten)]
    pub backups: BackupArgs,
    #[command(flatten)]
    pub kpi: KpiArgs,
    #[command(flatten)]
    pub log: LogSettings,
}

/// The database URL: printed with its password hidden.
#[derive(Clone)]
pub struct DatabaseUrl(pub SecretString);

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_url(self.0.expose_secret()))
    }
}

impl std::str::FromStr for DatabaseUrl {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(SecretString::from(s.to_owned())))
    }
}

impl DatabaseUrl {
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

#[derive(Clone, Debug, Args)]
#[group(skip)]
#[command(next_help_heading = "Database")]
pub struct DatabaseSettings {
    /// PostgreSQL URL. Without it Leitstand runs its own PostgreSQL under <data-dir>/postgres.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<DatabaseUrl>,

    /// Directory for the embedded database and backups.
    #[arg(
        long,
        env = "LEITSTAND_DATA_DIR",
        default_value = "./data",
        global = true
    )]
    pub data_dir: PathBuf,

    /// Largest number of database connections per process.
    #[arg(
        long,
        env = "LEITSTAND_DB_MAX_CONNECTIONS",
        default_value_t = 16,
        global = true
    )]
    pub db_max_connections: u32,

    /// Concurrent ingest transactions (group-commit writers) per process.
    #[arg(
        long,
        env = "LEITSTAND_INGEST_WRITERS",
        default_value_t = 2,
        global = true
    )]
    pub ingest_writers: usize,
}

#[derive(Clone, Debug, Args)]
#[group(skip)]
#[command(next_help_heading = "HTTP")]
pub struct HttpSettings {
    /// Address to serve HTTP on.
    #[arg(
        long,
        env = "LEITSTAND_LISTEN",
        default_value = "127.0.0.1:3000",
        global = true
    )]
    pub listen: SocketAddr,

    /// Directory with the built web assets (cargo-leptos output).
    #[arg(
        long,
        env = "LEITSTAND_SITE_ROOT",
        default_value = "target/site",
        global = true
    )]
    pub site_root: PathBuf,

    /// TLS certificate chain (PEM); with --tls-key, Leitstand serves HTTPS itself.
    #[arg(long, env = "LEITSTAND_TLS_CERT", global = true, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// TLS private key (PEM).
    #[arg(long, env = "LEITSTAND_TLS_KEY", global = true, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Believe X-Forwarded-For / X-Forwarded-Proto from the --trusted-proxies. The
    /// port must then be reachable only through the proxy.
    #[arg(long, env = "LEITSTAND_TRUST_PROXY", global = true)]
    pub trust_proxy: bool,

    /// Proxies (addresses or CIDR networks) whose forwarded headers count with --trust-proxy.
    #[arg(
        long,
        env = "LEITSTAND_TRUSTED_PROXIES",
        value_delimiter = ',',
        default_value = "127.0.0.1,::1",
        global = true
    )]
    pub trusted_proxies: Vec<String>,

    /// Seconds a client may take to send a request's headers; also how long an
    /// idle keep-alive connection stays open.
    #[arg(
        long,
        env = "LEITSTAND_HEADER_READ_TIMEOUT",
        default_value_t = 10,
        global = true
    )]
    pub header_read_timeout: u64,

    /// Seconds a request (body included) may take, except backups and live streams.
    #[arg(
        long,
        env = "LEITSTAND_REQUEST_TIMEOUT",
        default_value_t = 30,
        global = true
    )]
    pub request_timeout: u64,

    /// Open connections allowed from one client address (0 = no limit).
    #[arg(
        long,
        env = "LEITSTAND_MAX_CONNECTIONS_PER_IP",
        default_value_t = 256,
        global = true
    )]
    pub max_connections_per_ip: usize,

    /// Seconds to wait for requests and streams to finish on shutdown.
    #[arg(
        long,
        env = "LEITSTAND_SHUTDOWN_TIMEOUT",
        default_value_t = 10,
        global = true
    )]
    pub shutdown_timeout: u64,
}

#[derive(Clone, Debug, Args)]
#[group(skip)]
#[command(next_help_heading = "Limits")]
pub struct LimitSettings {
    /// Failed sign-ins per minute from one address (or for one account from one
    /// address), or failed look-ups of one API key prefix from one address, before
    /// 429s with growing lockouts; 0 = no limit.
    #[arg(
        long,
        env = "LEITSTAND_AUTH_FAILURES_PER_MINUTE",
        default_value_t = 20,
        global = true
    )]
    pub auth_failures_per_minute: usize,

    /// Requests per second allowed from one address (bursts up to 10x); 0 = no limit.
    /// Ingest and the live stream are limited per API key instead.
    #[arg(
        long,
        env = "LEITSTAND_RATE_LIMIT_PER_IP",
        default_value_t = 100,
        global = true
    )]
    pub rate_limit_per_ip: u32,

    /// Ingest requests per second allowed for one API key (bursts up to 2x); 0 = no limit.
    #[arg(
        long,
        env = "LEITSTAND_INGEST_RATE_PER_KEY",
        default_value_t = 20_000,
        global = true
    )]
    pub ingest_rate_per_key: u32,

    /// Exports per minute allowed for one user or key.
    #[arg(
        long,
        env = "LEITSTAND_EXPORTS_PER_MINUTE",
        default_value_t = 10,
        global = true
    )]
    pub exports_per_minute: u32,

    /// Restores allowed per minute for one user or API key; 0 = no limit.
    #[arg(
        long,
        env = "LEITSTAND_RESTORES_PER_MINUTE",
        default_value_t = 5,
        global = true
    )]
    pub restores_per_minute: u32,
}

#[derive(Clone, Debug, Args)]
#[group(skip)]
#[command(next_help_heading = "Sessions")]
pub struct SessionSettings {
    /// Hours a session may stay unused before it ends.
    #[arg(
        long,
        env = "LEITSTAND_SESSION_IDLE_HOURS",
        default_value_t = 12,
        global = true
    )]
    pub session_idle_hours: u32,

    /// Days after sign-in when a session ends, used or not.
    #[arg(
        long,
        env = "LEITSTAND_SESSION_MAX_DAYS",
        default_value_t = 7,
        global = true
    )]
    pub session_max_days: u32,
}

#[derive(Clone, Debug, Args)]
#[group(skip)]
#[command(next_help_heading = "Backups")]
pub struct BackupArgs {
    /// When scheduled backups run: `HH:MM` daily in the time zone, `every 6h`, or `off`.
    #[arg(
        long,
        env = "LEITSTAND_BACKUP_SCHEDULE",
        default_value = "02:00",
        global = true
    )]
    pub backup_schedule: String,

    /// Scheduled backups to keep (the newest N), unless daily/monthly tiers are set.
    #[arg(
        long,
        env = "LEITSTAND_BACKUP_KEEP",
        default_value_t = 10,
        global = true
    )]
    pub backup_keep: u32,

    /// Keep the newest scheduled backup of each of the last N days (a tier; replaces --backup-keep).
    #[arg(
        long,
        env = "LEITSTAND_BACKUP_KEEP_DAILY",
        default_value_t = 0,
        global = true
    )]
    pub backup_keep_daily: u32,

    /// Keep the newest scheduled backup of each of the last N months (a tier).
    #[arg(
        long,
        env = "LEITSTAND_BACKUP_KEEP_MONTHLY",
        default_value_t = 0,
        global = true
    )]
    pub backup_keep_monthly: u32,

    /// Directory for backup files (default: <data-dir>/backups).
    #[arg(long, env = "LEITSTAND_BACKUP_DIR", global = true)]
    pub backup_dir: Option<PathBuf>,

    /// Largest backup file accepted as an upload for restore, in MiB.
    #[arg(
        long,
        env = "LEITSTAND_BACKUP_UPLOAD_MAX_MIB",
        default_value_t = 10_240,
        global = true
    )]
    pub backup_upload_max_mib: u64,
}

#[derive(Clone, Debug, Args)]
#[group(skip)]
#[command(next_help_heading = "KPIs")]
pub struct KpiArgs {
    /// Time zone for day boundaries (timeline, schedules), an IANA name.
    #[arg(
        long,
        env = "LEITSTAND_TIME_ZONE",
        default_value = "UTC",
        global = true
    )]
    pub time_zone: chrono_tz::Tz,

    /// Events per day at which the activity KPI reaches 100 %.
    #[arg(
        long,
        env = "LEITSTAND_ACTIVITY_TARGET",
        default_value_t = 100.0,
        global = true
    )]
    pub activity_target: f64,

    /// Readiness weights for activity, quality and stability (must add up to 1).
    #[arg(
        long,
        env = "LEITSTAND_READINESS_WEIGHTS",
        value_delimiter = ',',
        default_value = "0.3,0.4,0.3",
        global = true
    )]
    pub readiness_weights: Vec<f64>,
}

#[derive(Clone, Debug, Args)]
#[group(skip)]
#[command(next_help_heading = "Logging")]
pub struct LogSettings {
    /// Log format.
    #[arg(
        long,
        env = "LEITSTAND_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,

    /// Log filter (tracing env-filter syntax).
    #[arg(
        long = "log",
        env = "RUST_LOG",
        default_value = "info,sqlx=warn",
        global = true
    )]
    pub filter: String,
}

impl Settings {
    /// The built-in defaults, ignoring the environment: what tests and
    /// tools start from before changing what they need.
    pub fn defaults() -> Self {
        let command = Cli::command().mut_args(|a| a.env(None));
        let matches = command
            .try_get_matches_from(["leitstand", "serve"])
            .expect("the built-in defaults parse");
        Cli::from_arg_matches(&matches)
            .expect("the built-in defaults parse")
            .settings
    }

    /// Where backups go and when they are taken.
    pub fn backup_settings(&self) -> app::backups::store::BackupSettings {
        use app::backups::schedule::{Retention, Schedule};
        let b = &self.backups;
        app::backups::store::BackupSettings {
            dir: b
                .backup_dir
                .clone()
                .unwrap_or_else(|| self.database.data_dir.join("backups")),
            schedule: Schedule::parse(&b.backup_schedule).unwrap_or(Schedule::Off),
            schedule_text: b.backup_schedule.trim().to_owned(),
            retention: Retention {
                last: b.backup_keep,
                daily: b.backup_keep_daily,
                monthly: b.backup_keep_monthly,
            },
            time_zone: self.kpi.time_zone,
            restores_per_minute: self.limits.restores_per_minute,
        }
    }

    /// Checks what clap cannot: relations between values.
    pub fn validate(&self) -> anyhow::Result<()> {
        let weights = &self.kpi.readiness_weights;
        if weights.len() != 3 {
            bail!("--readiness-weights needs three numbers: activity,quality,stability");
        }
        let sum: f64 = weights.iter().sum();
        if weights.iter().any(|w| !(0.0..=1.0).contains(w)) || (sum - 1.0).abs() > 1e-9 {
            bail!("--readiness-weights must be between 0 and 1 and add up to 1 (got {sum})");
        }
        if !(self.kpi.activity_target.is_finite() && self.kpi.activity_target > 0.0) {
            bail!("--activity-target must be a positive number");
        }
        if !(1..=32).contains(&self.database.ingest_writers) {
            bail!("--ingest-writers must be between 1 and 32");
        }
        if self.sessions.session_idle_hours == 0 || self.sessions.session_max_days == 0 {
            bail!("session lifetimes must be at least 1");
        }
        let b = &self.backups;
        app::backups::schedule::Schedule::parse(&b.backup_schedule)
            .map_err(|e| anyhow::anyhow!("--backup-schedule {e}"))?;
        if b.backup_keep == 0 && b.backup_keep_daily == 0 && b.backup_keep_monthly == 0 {
            bail!(
                "--backup-keep must be at least 1 (or set --backup-keep-daily/--backup-keep-monthly)"
            );
        }
        if b.backup_upload_max_mib == 0 {
            bail!("--backup-upload-max-mib must be at least 1");
        }
        if self.database.db_max_connections < 2 {
            bail!("--db-max-connections must be at least 2");
        }
        if self.http.header_read_timeout == 0 || self.http.request_timeout == 0 {
            bail!("--header-read-timeout and --request-timeout must be at least 1 second");
        }
        crate::security::client::parse_proxies(&self.http.trusted_proxies)?;
        Ok(())
    }

    /// How far forwarded headers are believed.
    pub fn transport(&self) -> crate::security::Transport {
        crate::security::Transport {
            tls: self.http.tls_cert.is_some(),
            trusted_proxies: if self.http.trust_proxy {
                crate::security::client::parse_proxies(&self.http.trusted_proxies)
                    .unwrap_or_default()
            } else {
                Vec::new()
            },
        }
    }
}

/// Hides the password in a database URL, for logs and `Debug`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

impl Cli {
    /// Parses the command line, filling unset settings from the TOML file.
    pub fn load() -> anyhow::Result<Self> {
        Self::load_from(std::env::args_os())
    }

    pub fn load_from<I, T>(args: I) -> anyhow::Result<Self>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        let first = match Self::try_parse_from(&args) {
            Ok(cli) => cli,
            Err(e) => e.exit(),
        };
        let Some(path) = first.settings.config.clone() else {
            first.settings.validate()?;
            return Ok(first);
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading config file {}", path.display()))?;
        let file_args = toml_to_args(&text, |env| std::env::var_os(env).is_some())
            .with_context(|| format!("in config file {}", path.display()))?;
        // File values go first so that flags given on the command line win.
        let mut merged = Vec::with_capacity(args.len() + file_args.len());
        merged.push(args.first().cloned().unwrap_or_else(|| "leitstand".into()));
        merged.extend(file_args.into_iter().map(OsString::from));
        merged.extend(args.into_iter().skip(1));
        let matches = match Self::command().try_get_matches_from(merged) {
            Ok(m) => m,
            Err(e) => e.exit(),
        };
        let cli = Self::from_arg_matches(&matches).map_err(|e| anyhow::anyhow!(e.to_string()))?;
        cli.settings.validate()?;
        Ok(cli)
    }
}

/// Turns a TOML table into `--flag=value` arguments for the global settings,
/// skipping those whose environment variable is set (environment beats file).
fn toml_to_args(text: &str, env_is_set: impl Fn(&str) -> bool) -> anyhow::Result<Vec<String>> {
    let table: toml::Table = text.parse().context("not valid TOML")?;
    let command = Cli::command();
    let mut out = Vec::new();
    for (key, value) in table {
        let flag = key.replace('_', "-");
        let Some(arg) = command
            .get_arguments()
            .find(|a| a.get_long() == Some(flag.as_str()) && a.is_global_set())
        else {
            bail!("unknown setting `{key}`");
        };
        if flag == "config" {
            bail!("`config` cannot be set inside a config file");
        }
        if let Some(env) = arg.get_env()
            && env_is_set(&env.to_string_lossy())
        {
            continue;
        }
        // A switch (`trust_proxy = true`) is the bare flag; false is its absence.
        if !arg.get_action().takes_values() {
            match value {
                toml::Value::Boolean(true) => out.push(format!("--{flag}")),
                toml::Value::Boolean(false) => {}
                other => bail!("setting `{key}` is a switch: true or false, not {other}"),
            }
            continue;
        }
        let rendered = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Array(items) => items
                .iter()
                .map(|v| match v {
                    toml::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(","),
            other => bail!("setting `{key}` has an unsupported value {other}"),
        };
        out.push(format!("--{flag}={rendered}"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_in_database_url_is_hidden() {
        assert_eq!(
            redact_url("postgres://leitstand:s3cret@db:5432/leitstand"),
            "postgres://leitstand:***@db:5432/leitstand"
        );
        assert_eq!(
            redact_url("postgres://db/leitstand"),
            "postgres://db/leitstand"
        );
    }

    #[test]
    fn defaults_need_no_environment() {
        let cli = Cli::try_parse_from(["leitstand", "serve"]).expect("parses");
        assert_eq!(cli.settings.http.listen.to_string(), "127.0.0.1:3000");
        assert_eq!(cli.settings.database.data_dir, PathBuf::from("./data"));
        assert!(matches!(cli.command, Command::Serve));
    }

    #[test]
    fn file_settings_become_flags_unless_the_environment_has_them() {
        let args = toml_to_args(
            "listen = \"0.0.0.0:8080\"\ndata_dir = \"/var/lib/leitstand\"\nreadiness_weights = [0.2, 0.5, 0.3]\n",
            |env| env == "LEITSTAND_DATA_DIR",
        )
        .expect("valid");
        assert!(args.contains(&"--listen=0.0.0.0:8080".to_owned()));
        assert!(args.contains(&"--readiness-weights=0.2,0.5,0.3".to_owned()));
        assert!(!args.iter().any(|a| a.starts_with("--data-dir")));
    }

    #[test]
    fn switches_in_the_file_are_flags_when_true_and_absent_when_false() {
        let on = toml_to_args("trust_proxy = true", |_| false).expect("valid");
        assert_eq!(on, vec!["--trust-proxy".to_owned()]);
        assert!(
            toml_to_args("trust_proxy = false", |_| false)
                .expect("valid")
                .is_empty()
        );
        assert!(toml_to_args("trust_proxy = \"yes\"", |_| false).is_err());
    }

    #[test]
    fn unknown_file_setting_is_an_error() {
        let err = toml_to_args("lisen = \"x\"", |_| false).expect_err("typo must fail");
        assert!(err.to_string().contains("lisen"));
    }

    #[test]
    fn the_example_config_parses_and_shows_exactly_the_defaults() {
        let text = include_str!("../../docs/leitstand.example.toml");
        let mut argv = vec!["leitstand".to_owned()];
        argv.extend(toml_to_args(text, |_| false).expect("valid settings"));
        argv.push("serve".into());
        let matches = Cli::command()
            .mut_args(|a| a.env(None))
            .try_get_matches_from(argv)
            .expect("parses");
        let settings = Cli::from_arg_matches(&matches).expect("parses").settings;
        settings.validate().expect("valid");
        assert_eq!(
            format!("{settings:?}"),
            format!("{:?}", Settings::defaults()),
            "docs/leitstand.example.toml documents the built-in defaults"
        );
    }

    #[test]
    fn debug_output_hides_the_database_password() {
        let mut s = Settings::defaults();
        s.database.database_url = Some(DatabaseUrl(SecretString::from(
            "postgres://app:hunter2@db/leitstand".to_owned(),
        )));
        let shown = format!("{s:?}");
        assert!(shown.contains("postgres://app:***@db/leitstand"), "{shown}");
        assert!(!shown.contains("hunter2"));
    }

    #[test]
    fn readiness_weights_must_add_up_to_one() {
        let cli = Cli::try_parse_from(["leitstand", "--readiness-weights", "0.5,0.5,0.5", "serve"])
            .expect("parses");
        assert!(cli.settings.validate().is_err());
    }
}
