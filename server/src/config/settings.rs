//! The settings shared by every subcommand, in groups, with the checks clap
//! cannot make and the redaction of the database password.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::bail;
use clap::{Args, CommandFactory, FromArgMatches, ValueEnum};
use secrecy::{ExposeSecret, SecretString};

use super::Cli;

/// A language of the UI and of alert messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Language {
    En,
    De,
}

impl From<Language> for app::lang::Locale {
    fn from(l: Language) -> Self {
        match l {
            Language::En => Self::en,
            Language::De => Self::de,
        }
    }
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
    pub probes: ProbeSettings,
    #[command(flatten)]
    pub alerts: AlertSettings,
    #[command(flatten)]
    pub retention: RetentionSettings,
    #[command(flatten)]
    pub log: LogSettings,
    /// The watchdog's recovery actions: `[[recovery]]` tables in the config
    /// file only (never flags, the environment, the UI or the API).
    #[arg(skip)]
    pub recovery: Vec<crate::jobs::recovery::RecoveryConfig>,
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

    /// Seconds `serve` keeps retrying an unreachable PostgreSQL at start
    /// (saying so in the log) before it gives up; 0 = give up at once.
    #[arg(long, env = "LEITSTAND_DB_WAIT", default_value_t = 300, global = true)]
    pub db_wait: u64,

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

    /// Serve the web assets from this directory (cargo-leptos output) instead
    /// of the ones built into the binary. Default: the built-in site; a
    /// development build reads target/site.
    #[arg(long, env = "LEITSTAND_SITE_ROOT", global = true)]
    pub site_root: Option<PathBuf>,

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

    /// The address people and machines reach Leitstand at (e.g.
    /// https://leitstand.example.com), for heartbeat URLs and links; without it,
    /// the address a request came to.
    #[arg(long, env = "LEITSTAND_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Also serve `GET /metrics` on this address, without a key (bind it to a
    /// private interface only).
    #[arg(long, env = "LEITSTAND_METRICS_LISTEN", global = true)]
    pub metrics_listen: Option<SocketAddr>,

    /// Client addresses or CIDR networks that may read `/metrics` on the main
    /// address without a key (otherwise a key with the `metrics` scope).
    #[arg(
        long,
        env = "LEITSTAND_METRICS_ALLOW",
        value_delimiter = ',',
        global = true
    )]
    pub metrics_allow: Vec<String>,

    /// Language (en or de) of pages for people who chose none and whose browser
    /// asks for neither, and of alert messages and e-mails.
    #[arg(
        long,
        env = "LEITSTAND_DEFAULT_LANGUAGE",
        value_enum,
        default_value_t = Language::En,
        global = true
    )]
    pub default_language: Language,

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
#[command(next_help_heading = "Probes")]
pub struct ProbeSettings {
    /// Outbound probe requests in flight at once, per process.
    #[arg(
        long,
        env = "LEITSTAND_PROBE_CONCURRENCY",
        default_value_t = 64,
        global = true
    )]
    pub probe_concurrency: usize,

    /// Extra CA certificates (PEM) that HTTPS probes trust besides the system's.
    #[arg(long, env = "LEITSTAND_PROBE_CA", global = true)]
    pub probe_ca: Option<PathBuf>,

    /// Serve the public status page at /status (services opt in one by one).
    #[arg(long, env = "LEITSTAND_PUBLIC_STATUS", global = true)]
    pub public_status: bool,
}

/// The key sealing channel secrets: printed redacted.
#[derive(Clone)]
pub struct SecretKey(pub SecretString);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl std::str::FromStr for SecretKey {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(SecretString::from(s.to_owned())))
    }
}

#[derive(Clone, Debug, Args)]
#[group(skip)]
#[command(next_help_heading = "Alerts and outgoing webhooks")]
pub struct AlertSettings {
    /// When deliveries are attempted, from the first: durations (ms, s, m, h, d)
    /// after the previous attempt, ±10 % jitter. Default: the Standard Webhooks
    /// schedule (about 3 days).
    #[arg(
        long,
        env = "LEITSTAND_DELIVERY_SCHEDULE",
        default_value = "0s,5s,5m,30m,2h,5h,10h,14h,20h,24h",
        global = true
    )]
    pub delivery_schedule: String,

    /// Addresses (or CIDR networks) deliveries may reach although they are
    /// loopback, private, link-local or cloud metadata addresses, e.g. 10.0.0.0/8.
    #[arg(
        long,
        env = "LEITSTAND_OUTBOUND_ALLOW",
        value_delimiter = ',',
        global = true
    )]
    pub outbound_allow: Vec<String>,

    /// Deliveries in flight at once, per process (at most 4 to one destination).
    #[arg(
        long,
        env = "LEITSTAND_DELIVERY_CONCURRENCY",
        default_value_t = 32,
        global = true
    )]
    pub delivery_concurrency: usize,

    /// How often alert conditions (error rate, SLOs, backup age, dead
    /// letters) are evaluated, in milliseconds.
    #[arg(
        long,
        env = "LEITSTAND_ALERT_TICK_MS",
        default_value_t = 15_000,
        hide = true,
        global = true
    )]
    pub alert_tick_ms: u64,

    /// The key (32 bytes in base64) that seals channel passwords and signing
    /// secrets in the database. Without it, `secret.key` in the data
    /// directory (created on first start). Processes sharing a database
    /// need the same key.
    #[arg(long, env = "LEITSTAND_SECRET_KEY", global = true)]
    pub secret_key: Option<SecretKey>,
}

#[derive(Clone, Debug, Args)]
#[group(skip)]
#[command(next_help_heading = "Retention (defaults; the Settings page overrides them)")]
pub struct RetentionSettings {
    /// Days raw events are kept (KPIs read rollups and stay exact).
    #[arg(
        long,
        env = "LEITSTAND_RETAIN_EVENTS_DAYS",
        default_value_t = 90,
        global = true
    )]
    pub retain_events_days: u32,

    /// Days probe results are kept (uptime reads rollups).
    #[arg(
        long,
        env = "LEITSTAND_RETAIN_PROBE_RESULTS_DAYS",
        default_value_t = 90,
        global = true
    )]
    pub retain_probe_results_days: u32,

    /// Days finished deliveries and dead letters are kept.
    #[arg(
        long,
        env = "LEITSTAND_RETAIN_DELIVERIES_DAYS",
        default_value_t = 30,
        global = true
    )]
    pub retain_deliveries_days: u32,

    /// Days audit log entries are kept.
    #[arg(
        long,
        env = "LEITSTAND_RETAIN_AUDIT_DAYS",
        default_value_t = 365,
        global = true
    )]
    pub retain_audit_days: u32,

    /// Local time (HH:MM, in --time-zone) of the daily retention run, or `off`.
    #[arg(
        long,
        env = "LEITSTAND_RETENTION_AT",
        default_value = "03:30",
        global = true
    )]
    pub retention_at: String,
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
        if let Some(url) = &self.http.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            bail!("--public-url must start with http:// or https://");
        }
        crate::metrics::parse_allow(&self.http.metrics_allow)?;
        if self.probes.probe_concurrency == 0 {
            bail!("--probe-concurrency must be at least 1");
        }
        app::alerts::schedule::parse_schedule(&self.alerts.delivery_schedule)
            .map_err(|e| anyhow::anyhow!("--delivery-schedule: {e}"))?;
        crate::outbound::parse_allow(&self.alerts.outbound_allow)?;
        if self.alerts.delivery_concurrency == 0 {
            bail!("--delivery-concurrency must be at least 1");
        }
        if let Some(key) = &self.alerts.secret_key {
            crate::secret_key::decode(key.0.expose_secret())?;
        }
        self.retention_policy()?;
        let mut seen = std::collections::HashSet::new();
        for action in &self.recovery {
            action.validate()?;
            if !seen.insert(action.service.as_str()) {
                bail!(
                    "more than one [[recovery]] for the service `{}`",
                    action.service
                );
            }
        }
        Ok(())
    }

    /// The retention defaults and the time of the daily run.
    pub fn retention_policy(&self) -> anyhow::Result<app::retention::Policy> {
        let r = &self.retention;
        self.retention_time()?;
        let policy = app::retention::Policy {
            events_days: r.retain_events_days,
            probe_results_days: r.retain_probe_results_days,
            deliveries_days: r.retain_deliveries_days,
            audit_days: r.retain_audit_days,
        };
        policy.validate().map_err(|(field, message)| {
            anyhow::anyhow!("--retain-{}: {message}", field.replace('_', "-"))
        })?;
        Ok(policy)
    }

    /// When the daily retention run starts; None with `--retention-at off`.
    pub fn retention_time(&self) -> anyhow::Result<Option<chrono::NaiveTime>> {
        let text = self.retention.retention_at.trim();
        if text.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        chrono::NaiveTime::parse_from_str(text, "%H:%M")
            .map(Some)
            .map_err(|_| anyhow::anyhow!("--retention-at must be HH:MM (24-hour clock) or off"))
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
