//! `leitstand status`: the status document as one line per service, then
//! backups and the instance — or as JSON — with an exit code for cron and
//! CI: 0 all well (or maintenance), 1 a warning, 2 something down, 3 the
//! status could not be read. Reads a running Leitstand over HTTP with
//! `--url` and `--key`, else the database directly (then the process
//! figures are this command's, not the server's).

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use app::probes::{ServiceStatus, SystemStatus};

use crate::config::{Settings, StatusArgs};
use crate::database::Database;

pub async fn run(args: StatusArgs, settings: &Settings) -> anyhow::Result<ExitCode> {
    let db = match &args.url {
        Some(_) => None,
        None => Some(Database::open(settings).await?),
    };
    let color = std::io::stdout().is_terminal();
    let code = loop {
        let doc = match (&args.url, &db) {
            (Some(url), _) => over_http(url, args.key.as_deref()).await,
            (None, Some(db)) => from_database(db).await,
            (None, None) => Err(anyhow::anyhow!("no database")),
        };
        let code = match doc {
            Ok(doc) => {
                if args.watch.is_some() && color {
                    print!("\x1b[2J\x1b[H");
                }
                if args.json {
                    println!("{}", serde_json::to_string_pretty(&doc)?);
                } else {
                    print!("{}", render(&doc, color, args.url.is_some()));
                }
                exit_code(&doc.status)
            }
            Err(e) => {
                eprintln!("error: cannot read the status: {e:#}");
                3
            }
        };
        let Some(every) = args.watch else { break code };
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(every.max(1))) => {}
            _ = tokio::signal::ctrl_c() => break code,
        }
    };
    if let Some(db) = db {
        db.close().await;
    }
    Ok(ExitCode::from(code))
}

/// 0 ok or maintenance, 1 degraded, 2 down.
pub fn exit_code(status: &str) -> u8 {
    match status {
        "down" => 2,
        "degraded" => 1,
        _ => 0,
    }
}

async fn from_database(db: &Database) -> anyhow::Result<SystemStatus> {
    let cache = app::probes::status::StatusCache::default();
    let doc = app::probes::status::current(&db.pool, &cache, chrono::Utc::now())
        .await
        .map_err(super::fail)?;
    Ok((*doc).clone())
}

async fn over_http(url: &str, key: Option<&str>) -> anyhow::Result<SystemStatus> {
    let key = key.ok_or_else(|| {
        anyhow::anyhow!("--url needs --key (or LEITSTAND_KEY) with the read scope")
    })?;
    let response = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?
        .get(format!(
            "{}/api/v1/system/status",
            url.trim_end_matches('/')
        ))
        .bearer_auth(key)
        .send()
        .await?;
    let status = response.status();
    if !status.is_success() {
        let body = response.text().await.unwrap_or_default();
        anyhow::bail!("{status}: {}", body.chars().take(300).collect::<String>());
    }
    Ok(response.json().await?)
}

fn paint(text: &str, state: &str, color: bool) -> String {
    if !color {
        return text.to_owned();
    }
    let code = match state {
        "up" | "ok" | "healthy" => "32",
        "degraded" | "warning" | "maintenance" => "33",
        "down" | "critical" => "31",
        _ => "90",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

fn percent(v: Option<f64>) -> String {
    v.map(|p| format!("{p:.2} %")).unwrap_or_else(|| "–".into())
}

fn service_line(s: &ServiceStatus, width: usize, color: bool) -> String {
    let met = s.slos.iter().filter(|o| o.met).count();
    let missed: Vec<&str> = s
        .slos
        .iter()
        .filter(|o| !o.met)
        .map(|o| o.name.as_str())
        .collect();
    let mut line = format!(
        "  {} {:<width$}  {}  uptime 24h {:>8}  30d {:>8}  p95 {:>7}  open errors {:>3}  SLOs {met}/{}",
        paint("●", &s.state, color),
        s.slug,
        paint(&format!("{:<11}", s.state), &s.state, color),
        percent(s.uptime_24h),
        percent(s.uptime_30d),
        s.p95_ms_24h
            .map(|p| format!("{p:.0} ms"))
            .unwrap_or_else(|| "–".into()),
        s.open_errors,
        s.slos.len(),
    );
    if !missed.is_empty() {
        line.push_str(&format!(" (missed: {})", missed.join(", ")));
    }
    if let Some(i) = &s.open_incident {
        line.push_str(&format!(
            "  down since {}: {}",
            short_time(&i.started_at),
            i.cause
        ));
    }
    line
}

fn short_time(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .format("%Y-%m-%d %H:%M UTC")
                .to_string()
        })
        .unwrap_or_else(|_| rfc3339.to_owned())
}

fn ago(seconds: i64) -> String {
    match seconds {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3600),
        s => format!("{} d", s / 86_400),
    }
}

/// The human summary. The process figures are only the server's when
/// read over HTTP.
pub fn render(doc: &SystemStatus, color: bool, from_server: bool) -> String {
    let mut out = format!(
        "Leitstand status: {}  ({})\n",
        paint(&doc.status.to_uppercase(), &doc.status, color),
        short_time(&doc.generated_at)
    );
    let width = doc
        .services
        .iter()
        .map(|s| s.slug.len())
        .max()
        .unwrap_or(0)
        .max(8);
    if doc.services.is_empty() {
        out.push_str("  no services yet\n");
    }
    for s in &doc.services {
        out.push_str(&service_line(s, width, color));
        out.push('\n');
    }
    let l = &doc.leitstand;
    out.push_str(&format!(
        "Backups: {}{}\n",
        paint(&l.backup_health, &l.backup_health, color),
        l.last_backup_age_seconds
            .map(|s| format!(" (newest good one {} old)", ago(s)))
            .unwrap_or_else(|| " (none yet)".into())
    ));
    let deliveries_state = if l.dead_letters > 0 { "warning" } else { "ok" };
    out.push_str(&format!(
        "Deliveries: {}, {} waiting for their next attempt\n",
        paint(
            &format!(
                "{} dead letter{}",
                l.dead_letters,
                if l.dead_letters == 1 { "" } else { "s" }
            ),
            deliveries_state,
            color
        ),
        l.deliveries_pending
    ));
    let process = if from_server {
        format!("up {}", ago(l.uptime_seconds))
    } else {
        "read from the database".to_owned()
    };
    out.push_str(&format!(
        "Leitstand {}: {process}, database {} ({}), {} connections in use, {} events in the last hour\n",
        l.version,
        l.database_bytes
            .map(|b| format!("{:.1} MB", b as f64 / 1e6))
            .unwrap_or_else(|| "–".into()),
        l.database_latency_ms
            .map(|ms| format!("{ms:.1} ms"))
            .unwrap_or_else(|| "–".into()),
        l.connections_in_use,
        l.events_last_hour,
    ));
    out
}
