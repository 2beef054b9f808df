//! The one client for outbound HTTP: probes today, alert deliveries and
//! webhooks later. rustls with the system's root certificates (plus any
//! given with `--probe-ca`), redirects only to http/https (at most 10), a
//! timeout on every request, and a global limit on requests in flight.
//!
//! Probes may reach private addresses on purpose (they watch internal
//! services; only admins define them); deliveries will add their own
//! address guard on top of this client.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

const MAX_REDIRECTS: usize = 10;

/// Shared outbound HTTP.
pub struct Outbound {
    following: reqwest::Client,
    not_following: reqwest::Client,
    turns: Arc<Semaphore>,
}

impl Outbound {
    /// Clients trusting the system's roots and `extra_roots` (PEM files),
    /// with at most `concurrency` requests in flight.
    pub fn new(extra_roots: &[&Path], concurrency: usize) -> anyhow::Result<Self> {
        let mut roots = Vec::new();
        for path in extra_roots {
            let pem = std::fs::read(path)
                .with_context(|| format!("reading CA certificates {}", path.display()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .with_context(|| format!("{} holds no PEM certificates", path.display()))?;
            roots.extend(certs);
        }
        let build = |redirects: reqwest::redirect::Policy| {
            let mut b = reqwest::Client::builder()
                .user_agent(concat!("Leitstand/", env!("CARGO_PKG_VERSION")))
                .redirect(redirects)
                .tls_info(true)
                .pool_max_idle_per_host(4)
                .connect_timeout(std::time::Duration::from_secs(10));
            for cert in &roots {
                b = b.add_root_certificate(cert.clone());
            }
            b.build().context("building the outbound HTTP client")
        };
        let follow = reqwest::redirect::Policy::custom(|attempt| {
            if attempt.previous().len() >= MAX_REDIRECTS {
                attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
            } else if !matches!(attempt.url().scheme(), "http" | "https") {
                let scheme = attempt.url().scheme().to_owned();
                attempt.error(format!("{scheme}:// is not http or https"))
            } else {
                attempt.follow()
            }
        });
        Ok(Self {
            following: build(follow)?,
            not_following: build(reqwest::redirect::Policy::none())?,
            turns: Arc::new(Semaphore::new(concurrency.max(1))),
        })
    }

    /// The client that follows redirects, or the one that does not.
    pub fn client(&self, follow_redirects: bool) -> &reqwest::Client {
        if follow_redirects {
            &self.following
        } else {
            &self.not_following
        }
    }

    /// A turn to send a request; waits while the limit is reached.
    pub async fn turn(&self) -> Option<OwnedSemaphorePermit> {
        self.turns.clone().acquire_owned().await.ok()
    }

    /// Requests that could start now.
    pub fn free_turns(&self) -> usize {
        self.turns.available_permits()
    }
}

/// What a failed request was, in words for a person.
pub fn describe(e: &reqwest::Error) -> String {
    use std::error::Error;
    let mut text = if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "cannot connect".to_owned()
    } else if e.is_redirect() {
        "redirect refused".to_owned()
    } else {
        "request failed".to_owned()
    };
    // The innermost cause says what really happened (refused, DNS, TLS).
    let mut source = e.source();
    let mut last = None;
    while let Some(s) = source {
        last = Some(s.to_string());
        source = s.source();
    }
    if let Some(cause) = last {
        text.push_str(": ");
        text.push_str(&cause);
    }
    text.chars().take(500).collect()
}

/// The allow-list of `--outbound-allow`: addresses or CIDR networks.
pub fn parse_allow(items: &[String]) -> anyhow::Result<Vec<ipnet::IpNet>> {
    crate::security::client::parse_networks(items, "--outbound-allow:")
}

/// Why deliveries may not reach `ip` by default, if they may not: the
/// addresses of this host, its networks and cloud metadata services.
pub fn internal_address(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => internal_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return internal_v4(v4);
            }
            let seg = v6.segments();
            if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_unspecified() {
                Some("unspecified")
            } else if seg[0] & 0xfe00 == 0xfc00 {
                Some("private (unique local)")
            } else if seg[0] & 0xffc0 == 0xfe80 {
                Some("link-local")
            } else if v6.is_multicast() {
                Some("multicast")
            } else if seg[0..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                // NAT64: judge the IPv4 address inside.
                let v4 = Ipv4Addr::new(
                    (seg[6] >> 8) as u8,
                    seg[6] as u8,
                    (seg[7] >> 8) as u8,
                    seg[7] as u8,
                );
                internal_v4(v4)
            } else {
                None
            }
        }
    }
}

fn internal_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    if ip == Ipv4Addr::new(169, 254, 169, 254) || ip == Ipv4Addr::new(100, 100, 100, 200) {
        Some("cloud metadata")
    } else if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private")
    } else if ip.is_link_local() {
        Some("link-local")
    } else if ip.is_unspecified() || o[0] == 0 {
        Some("unspecified")
    } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
        Some("carrier-grade NAT")
    } else if ip.is_broadcast() || ip.is_multicast() || o[0] >= 240 {
        Some("multicast or reserved")
    } else if o[0] == 198 && (o[1] & 0xfe) == 18 {
        Some("benchmarking")
    } else {
        None
    }
}

/// Refuses internal addresses unless allowed.
#[derive(Debug, Clone, Default)]
pub struct AddressGuard {
    allow: Vec<ipnet::IpNet>,
}

impl AddressGuard {
    pub fn new(allow: Vec<ipnet::IpNet>) -> Self {
        Self { allow }
    }

    /// Ok, or why not, in words.
    pub fn check(&self, ip: IpAddr) -> Result<(), String> {
        match internal_address(ip) {
            Some(why) if !self.allow.iter().any(|n| n.contains(&ip)) => Err(format!(
                "{ip} is a {why} address; deliveries may reach it only if --outbound-allow lists it"
            )),
            _ => Ok(()),
        }
    }

    /// The addresses of `host` deliveries may reach; an error when none.
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let found: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| format!("cannot resolve {host}: {e}"))?
            .collect();
        let mut refused = None;
        let ok: Vec<SocketAddr> = found
            .into_iter()
            .filter(|a| match self.check(a.ip()) {
                Ok(()) => true,
                Err(e) => {
                    refused.get_or_insert(e);
                    false
                }
            })
            .collect();
        if ok.is_empty() {
            return Err(refused.unwrap_or_else(|| format!("{host} has no address")));
        }
        Ok(ok)
    }
}

/// Resolves names for deliveries, leaving out internal addresses: checked
/// where the connection is made, so a name cannot change its answer
/// between a check and the connect.
struct GuardedResolver(Arc<AddressGuard>);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let guard = self.0.clone();
        Box::pin(async move {
            let addrs = guard
                .resolve(name.as_str(), 0)
                .await
                .map_err(|e| -> Box<dyn std::error::Error + Send + Sync> { e.into() })?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Outbound HTTP for deliveries: 5 s to connect, 15 s in all, no
/// redirects (a 3xx is a failure), no proxies, and the address guard on
/// every name and literal address.
pub struct Deliverer {
    pub client: reqwest::Client,
    pub guard: Arc<AddressGuard>,
}

impl Deliverer {
    pub fn new(guard: AddressGuard) -> anyhow::Result<Self> {
        let guard = Arc::new(guard);
        let client = reqwest::Client::builder()
            .user_agent(concat!("Leitstand/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver(guard.clone())))
            .connect_timeout(std::time::Duration::from_secs(5))
            .timeout(std::time::Duration::from_secs(15))
            .pool_max_idle_per_host(4)
            .build()
            .context("building the delivery HTTP client")?;
        Ok(Self { client, guard })
    }

    /// Checks a URL before sending: http(s), and a literal address (which
    /// skips the resolver) must pass the guard.
    pub fn check_url(&self, url: &str) -> Result<reqwest::Url, String> {
        let parsed = reqwest::Url::parse(url).map_err(|e| format!("bad URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!("{}:// is not http or https", parsed.scheme()));
        }
        match parsed.host() {
            Some(url::Host::Ipv4(ip)) => self.guard.check(IpAddr::V4(ip))?,
            Some(url::Host::Ipv6(ip)) => self.guard.check(IpAddr::V6(ip))?,
            Some(url::Host::Domain(_)) => {}
            None => return Err("the URL has no host".into()),
        }
        Ok(parsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_refused_unless_allowed() {
        let guard = AddressGuard::default();
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "169.254.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
        ] {
            let ip: IpAddr = ip.parse().expect("ip");
            assert!(guard.check(ip).is_err(), "{ip} refused");
        }
        for ip in [
            "93.184.216.34",
            "2606:2800:220:1:248:1893:25c8:1946",
            "8.8.8.8",
        ] {
            let ip: IpAddr = ip.parse().expect("ip");
            assert_eq!(guard.check(ip), Ok(()), "{ip} allowed");
        }
        let allow = parse_allow(&["127.0.0.0/8".into(), "10.0.0.5".into()]).expect("parses");
        let guard = AddressGuard::new(allow);
        assert_eq!(guard.check("127.0.0.1".parse().expect("ip")), Ok(()));
        assert_eq!(guard.check("10.0.0.5".parse().expect("ip")), Ok(()));
        assert!(guard.check("10.0.0.6".parse().expect("ip")).is_err());
        assert!(
            guard
                .check("169.254.169.254".parse().expect("ip"))
                .expect_err("refused")
                .contains("metadata")
        );
        assert!(parse_allow(&["nope".into()]).is_err());
    }

    #[tokio::test]
    async fn names_resolving_to_internal_addresses_are_refused() {
        let guard = AddressGuard::default();
        let err = guard.resolve("localhost", 80).await.expect_err("refused");
        assert!(err.contains("loopback"), "{err}");
        let deliverer = Deliverer::new(AddressGuard::default()).expect("client");
        assert!(deliverer.check_url("http://127.0.0.1:9/x").is_err());
        assert!(deliverer.check_url("http://[::1]:9/x").is_err());
        assert!(deliverer.check_url("ftp://example.com/").is_err());
        assert!(deliverer.check_url("https://example.com/hook").is_ok());
    }
}
