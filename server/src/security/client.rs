//! Who the client is on the network: its address (for limits, the audit
//! log and sessions) and whether it reached us over HTTPS.
//!
//! Without `--trust-proxy` that is the socket peer, full stop. With it,
//! forwarded headers count only when the peer is one of the trusted
//! proxies, and the client is the right-most `X-Forwarded-For` address
//! (over every header line, in order) that is not a trusted proxy: a
//! proxy appends the address it saw, so everything left of that is what
//! the client claimed about itself.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

/// How far forwarded headers are believed.
#[derive(Debug, Clone, Default)]
pub struct Transport {
    /// Served over TLS by Leitstand itself.
    pub tls: bool,
    /// Forwarded headers from these peers are believed; empty = none are.
    pub trusted_proxies: Vec<IpNet>,
}

impl Transport {
    /// Whether `ip` is one of the trusted proxies.
    pub fn is_trusted_proxy(&self, ip: IpAddr) -> bool {
        self.trusts(ip)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.trusted_proxies.iter().any(|net| net.contains(&ip))
    }

    fn peer_is_proxy(&self, peer: Option<SocketAddr>) -> bool {
        peer.is_some_and(|p| self.trusts(p.ip()))
    }

    /// The client's address.
    pub fn client_ip(&self, headers: &HeaderMap, peer: Option<SocketAddr>) -> Option<IpAddr> {
        let peer_ip = peer.map(|p| canonical(p.ip()));
        if !self.peer_is_proxy(peer) {
            return peer_ip;
        }
        let hops: Vec<&str> = crate::headers::list_items(headers, "x-forwarded-for").collect();
        let mut client = peer_ip;
        for hop in hops.iter().rev() {
            // Garbage ends the chain: nothing left of it can be believed.
            let Some(ip) = parse_hop(hop) else { break };
            client = Some(ip);
            if !self.trusts(ip) {
                break;
            }
        }
        client
    }

    /// Whether the request reached the first proxy (or us) over HTTPS.
    pub fn is_https(
        &self,
        headers: &HeaderMap,
        peer: Option<SocketAddr>,
        scheme: Option<&str>,
    ) -> bool {
        if self.tls || scheme == Some("https") {
            return true;
        }
        self.peer_is_proxy(peer)
            && crate::headers::list_items(headers, "x-forwarded-proto")
                .next_back()
                .is_some_and(|v| v.eq_ignore_ascii_case("https"))
    }
}

/// An `X-Forwarded-For` entry: an address, possibly `[v6]:port` or `v4:port`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    hop.parse::<SocketAddr>().ok().map(|s| canonical(s.ip()))
}

/// IPv4-mapped IPv6 addresses as the IPv4 address they are.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The key per-address limits count under: the address itself for IPv4,
/// its /64 network for IPv6 (one subscriber usually holds a whole /64, so
/// counting single addresses would let one client rotate freely).
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

/// Parses `--trusted-proxies`: addresses or CIDR networks.
pub fn parse_proxies(list: &[String]) -> anyhow::Result<Vec<IpNet>> {
    parse_networks(list, "trusted proxy")
}

/// Addresses or CIDR networks from a setting's list (blank entries
/// skipped); `what` names the setting in the error.
pub fn parse_networks(list: &[String], what: &str) -> anyhow::Result<Vec<IpNet>> {
    list.iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| anyhow::anyhow!("{what} `{s}` is not an address or CIDR network"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn transport(proxies: &[&str]) -> Transport {
        Transport {
            tls: false,
            trusted_proxies: parse_proxies(
                &proxies.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            )
            .unwrap_or_default(),
        }
    }

    fn forwarded(lines: &[&'static str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for line in lines {
            h.append("x-forwarded-for", HeaderValue::from_static(line));
        }
        h
    }

    fn peer(s: &str) -> Option<SocketAddr> {
        s.parse().ok()
    }

    fn ip(s: &str) -> Option<IpAddr> {
        s.parse().ok()
    }

    #[test]
    fn without_trusted_proxies_the_socket_peer_is_the_client() {
        let t = transport(&[]);
        let h = forwarded(&["203.0.113.9"]);
        assert_eq!(t.client_ip(&h, peer("10.0.0.1:5555")), ip("10.0.0.1"));
    }

    #[test]
    fn forwarded_headers_from_an_untrusted_peer_are_ignored() {
        let t = transport(&["127.0.0.1"]);
        let h = forwarded(&["203.0.113.9"]);
        assert_eq!(
            t.client_ip(&h, peer("198.51.100.7:5555")),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn the_right_most_untrusted_address_over_every_line_is_the_client() {
        let t = transport(&["127.0.0.1", "10.0.0.0/8"]);
        // The client sent a line of its own; the proxy added a second one.
        let h = forwarded(&["1.2.3.4", "203.0.113.9"]);
        assert_eq!(t.client_ip(&h, peer("127.0.0.1:5555")), ip("203.0.113.9"));
        // Two proxies in a row, then the client.
        let h = forwarded(&["6.6.6.6, 203.0.113.9, 10.0.0.2"]);
        assert_eq!(t.client_ip(&h, peer("127.0.0.1:5555")), ip("203.0.113.9"));
        // Ports and IPv6 brackets.
        let h = forwarded(&["[2001:db8::1]:443"]);
        assert_eq!(t.client_ip(&h, peer("127.0.0.1:5555")), ip("2001:db8::1"));
    }

    #[test]
    fn garbage_in_the_chain_stops_at_the_last_believable_hop() {
        let t = transport(&["127.0.0.1", "10.0.0.0/8"]);
        let h = forwarded(&["1.2.3.4, not-an-ip, 10.0.0.9"]);
        assert_eq!(t.client_ip(&h, peer("127.0.0.1:1")), ip("10.0.0.9"));
        let h = forwarded(&[]);
        assert_eq!(t.client_ip(&h, peer("127.0.0.1:1")), ip("127.0.0.1"));
    }

    #[test]
    fn https_is_believed_only_from_a_trusted_proxy() {
        let t = transport(&["127.0.0.1"]);
        let mut h = HeaderMap::new();
        h.append("x-forwarded-proto", HeaderValue::from_static("https"));
        assert!(t.is_https(&h, peer("127.0.0.1:1"), None));
        assert!(!t.is_https(&h, peer("198.51.100.7:1"), None));
        h.append("x-forwarded-proto", HeaderValue::from_static("http"));
        assert!(
            !t.is_https(&h, peer("127.0.0.1:1"), None),
            "the last hop counts"
        );
    }

    #[test]
    fn ipv6_clients_are_limited_per_64_network() {
        let key = |s: &str| limit_key(s.parse().expect("address"));
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:bbbb::7"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(
            key("::ffff:192.0.2.1"),
            "192.0.2.1".parse::<IpAddr>().expect("v4")
        );
        assert!(parse_proxies(&["nonsense".into()]).is_err());
    }
}
