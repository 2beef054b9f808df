//! `leitstand health`: asks the server at `--listen` for `/healthz` (or
//! `/readyz`), so a container image without curl and the systemd unit can
//! check the process they started. Never touches the database itself.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::config::{HealthArgs, Settings};

pub async fn run(args: HealthArgs, settings: &Settings) -> anyhow::Result<ExitCode> {
    let https = settings.http.tls_cert.is_some();
    let url = url(settings.http.listen, https, args.ready);
    // The certificate names the public host, not the loopback address asked
    // here; nothing but this status is sent or read.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .danger_accept_invalid_certs(https)
        .build()?;
    let deadline = Instant::now() + Duration::from_secs(args.wait);
    loop {
        let answer = match client.get(&url).send().await {
            Ok(res) if res.status().is_success() => Ok(()),
            Ok(res) => {
                let status = res.status();
                let body = res.text().await.unwrap_or_default();
                Err(format!("{status}: {}", body.trim()))
            }
            Err(e) => Err(format!("no answer: {e}")),
        };
        match answer {
            Ok(()) => {
                println!("{url}: {}", if args.ready { "ready" } else { "alive" });
                return Ok(ExitCode::SUCCESS);
            }
            Err(why) if Instant::now() >= deadline => {
                println!("{url}: {why}");
                return Ok(ExitCode::from(1));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
}

/// The address to ask: a wildcard listen address is asked on loopback.
fn url(listen: SocketAddr, https: bool, ready: bool) -> String {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let scheme = if https { "https" } else { "http" };
    let path = if ready { "readyz" } else { "healthz" };
    format!("{scheme}://{}/{path}", SocketAddr::new(ip, listen.port()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_addresses_are_asked_on_loopback() {
        let at = |s: &str| s.parse::<SocketAddr>().expect("address");
        assert_eq!(
            url(at("0.0.0.0:3000"), false, false),
            "http://127.0.0.1:3000/healthz"
        );
        assert_eq!(
            url(at("[::]:3000"), true, true),
            "https://[::1]:3000/readyz"
        );
        assert_eq!(
            url(at("10.0.0.5:8080"), false, true),
            "http://10.0.0.5:8080/readyz"
        );
    }
}
