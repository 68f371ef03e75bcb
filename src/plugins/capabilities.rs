//! Capabilities need both sides: the plugin's manifest asks, the admin grants
//! when creating an instance, and only what both name is allowed. An admin
//! cannot grant what the plugin did not ask for (the vendor signed the asks,
//! so a review of the manifest is a review of the most the plugin can do), and
//! a plugin gets nothing the admin did not grant.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::manifest::MAX_MEMORY_MB;
use crate::validate::Checks;

/// Memory an instance gets when neither side names a figure, in MiB.
pub const DEFAULT_MEMORY_MB: u32 = 64;
/// Deadline of one call when the admin names none, in milliseconds.
pub const DEFAULT_TIMEOUT_MS: u32 = 10_000;
/// Longest deadline an admin may grant, in milliseconds.
pub const MAX_TIMEOUT_MS: u32 = 300_000;

/// What a plugin's manifest asks for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Asks {
    /// Outbound hosts as `scheme://host[:port]`; the host may start with `*.`
    /// for any subdomain, or be `*` for whichever hosts the admin names (a
    /// connector of self-hosted sources); the port may be `*` for any port.
    #[serde(default)]
    pub http: Vec<String>,
    /// Names of the secrets the plugin reads.
    #[serde(default)]
    pub secrets: Vec<String>,
    /// Memory the plugin needs, in MiB.
    #[serde(default)]
    pub memory_mb: Option<u32>,
}

/// What an admin grants an instance.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Grants {
    /// Outbound hosts, each within one the manifest asks for.
    #[serde(default)]
    pub http: Vec<String>,
    /// Address ranges (CIDR) outbound requests may reach although they are
    /// loopback, private, link-local, shared or metadata addresses, e.g.
    /// `10.20.0.0/16` for an on-premises source. Empty: public addresses only.
    #[serde(default)]
    pub networks: Vec<String>,
    /// Memory cap in MiB, at most what the manifest asks for (default: the
    /// manifest's figure, else 64).
    #[serde(default)]
    pub memory_mb: Option<u32>,
    /// Deadline of one call in milliseconds (default 10000, at most 300000).
    #[serde(default)]
    pub timeout_ms: Option<u32>,
}

/// The capabilities in force for an instance: the intersection of the asks
/// and the grants, already checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Granted {
    pub hosts: Vec<HostPattern>,
    pub networks: Vec<IpNet>,
    pub secrets: Vec<String>,
    pub memory_bytes: usize,
    pub timeout_ms: u32,
}

impl Granted {
    /// Intersects `asks` and `grants`. Anything granted beyond the asks is an
    /// error at `/grants/...`, so the admin learns of it instead of finding the
    /// grant silently void.
    pub fn resolve(asks: &Asks, grants: &Grants) -> crate::error::Result<Granted> {
        let mut checks = Checks::new();
        let asked: Vec<HostPattern> = asks.http.iter().filter_map(|h| HostPattern::parse(h).ok()).collect();
        let mut hosts = Vec::new();
        for (i, text) in grants.http.iter().enumerate() {
            let pointer = format!("/grants/http/{i}");
            match HostPattern::parse(text) {
                Err(why) => checks.fail(pointer, why),
                // The admin names hosts: `*` is for asks only.
                Ok(pattern) if pattern.host == ANY_HOST => checks.fail(pointer, "name the host to grant, such as https://assets.example.com"),
                Ok(pattern) if !asked.iter().any(|a| a.covers(&pattern)) => {
                    checks.fail(pointer, format!("the plugin does not ask for {text}; it asks for {}", list_or_nothing(&asks.http)))
                }
                Ok(pattern) => hosts.push(pattern),
            }
        }
        let mut networks = Vec::new();
        for (i, text) in grants.networks.iter().enumerate() {
            match text.parse::<IpNet>() {
                Ok(net) => networks.push(net.trunc()),
                Err(_) => checks.fail(format!("/grants/networks/{i}"), "must be an address range such as 10.20.0.0/16 or fd12::/48"),
            }
        }
        let asked_memory = asks.memory_mb.unwrap_or(DEFAULT_MEMORY_MB);
        let memory_mb = grants.memory_mb.unwrap_or(asked_memory);
        if grants.memory_mb.is_some() && !(1..=asked_memory.min(MAX_MEMORY_MB)).contains(&memory_mb) {
            checks.fail("/grants/memory_mb", format!("must be between 1 and {}, what the plugin asks for", asked_memory.min(MAX_MEMORY_MB)));
        }
        let timeout_ms = grants.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS);
        checks.check((1..=MAX_TIMEOUT_MS).contains(&timeout_ms), "/grants/timeout_ms", &format!("must be between 1 and {MAX_TIMEOUT_MS}"));
        checks.finish()?;
        Ok(Granted {
            hosts,
            networks,
            secrets: asks.secrets.clone(),
            memory_bytes: memory_mb as usize * 1024 * 1024,
            timeout_ms,
        })
    }

    /// The granted host pattern `url` falls under, if any.
    pub fn allows_url(&self, url: &reqwest::Url) -> bool {
        let Some(host) = url.host_str() else { return false };
        let Some(port) = url.port_or_known_default() else { return false };
        self.hosts.iter().any(|p| p.matches(url.scheme(), host, port))
    }

    /// Whether an address may be reached: public addresses always; special
    /// ones only inside a granted network.
    pub fn allows_address(&self, ip: IpAddr) -> Result<(), String> {
        let ip = canonical(ip);
        match special_range(ip) {
            None => Ok(()),
            Some(_) if self.networks.iter().any(|n| n.contains(&ip)) => Ok(()),
            Some(what) => Err(format!("{ip} is a {what} address, and this instance was not granted a network containing it")),
        }
    }
}

fn list_or_nothing(items: &[String]) -> String {
    if items.is_empty() { "no hosts".into() } else { items.join(", ") }
}

/// The host of an ask that stands for any host an admin names.
pub const ANY_HOST: &str = "*";

/// `scheme://host[:port]`, the unit outbound access is granted in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern {
    pub scheme: String,
    /// Lowercase; `*.example.com` matches any subdomain of example.com (not
    /// example.com itself).
    pub host: String,
    /// `None` for any port (`:*`).
    pub port: Option<u16>,
}

impl HostPattern {
    pub fn parse(text: &str) -> Result<HostPattern, String> {
        let shape = || format!("{text:?} must be scheme://host[:port] with scheme http or https, such as https://api.example.com");
        let (scheme, rest) = text.split_once("://").ok_or_else(shape)?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "https" => 443,
            "http" => 80,
            _ => return Err(shape()),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.is_empty() || rest.contains(['/', '?', '#', '@']) {
            return Err(shape());
        }
        // An IPv6 literal is bracketed: `[::1]:8080`.
        let (host, port) = match rest.strip_prefix('[').and_then(|r| r.split_once(']')) {
            Some((_, after)) if !after.is_empty() && !after.starts_with(':') => return Err(shape()),
            Some((ip, after)) => (&rest[..ip.len() + 2], after.strip_prefix(':')),
            None => match rest.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (rest, None),
            },
        };
        let port = match port {
            None => Some(default_port),
            Some("*") => None,
            Some(port) => Some(port.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(shape)?),
        };
        let host = host.to_ascii_lowercase();
        if host == ANY_HOST {
            return Ok(HostPattern { scheme, host, port });
        }
        let wildcard_body = host.strip_prefix("*.");
        let name = wildcard_body.unwrap_or(&host);
        let valid = name.strip_prefix('[').and_then(|h| h.strip_suffix(']')).map(|ip| ip.parse::<std::net::Ipv6Addr>().is_ok()).unwrap_or_else(|| {
            !name.is_empty() && name.split('.').all(|label| !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        });
        if !valid {
            return Err(shape());
        }
        Ok(HostPattern { scheme, host, port })
    }

    /// Whether a request to `scheme://host:port` falls under this pattern.
    pub fn matches(&self, scheme: &str, host: &str, port: u16) -> bool {
        let host = host.to_ascii_lowercase();
        let host = if host.contains(':') && !host.starts_with('[') { format!("[{host}]") } else { host };
        let host_matches = match self.host.strip_prefix("*.") {
            _ if self.host == ANY_HOST => true,
            Some(domain) => host.strip_suffix(domain).is_some_and(|sub| sub.len() > 1 && sub.ends_with('.')),
            None => self.host == host,
        };
        self.scheme == scheme && self.port.is_none_or(|p| p == port) && host_matches
    }

    /// Whether everything `other` matches, this matches too.
    pub fn covers(&self, other: &HostPattern) -> bool {
        let ports = self.port.is_none() || self.port == other.port;
        let hosts = match other.host.strip_prefix("*.") {
            _ if self.host == ANY_HOST => true,
            Some(domain) => self.host.strip_prefix("*.").is_some_and(|mine| domain == mine || domain.ends_with(&format!(".{mine}"))),
            None => self.matches(&other.scheme, &other.host, self.port.unwrap_or(0)),
        };
        self.scheme == other.scheme && ports && hosts
    }
}

impl std::fmt::Display for HostPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.port {
            Some(port) => write!(f, "{}://{}:{port}", self.scheme, self.host),
            None => write!(f, "{}://{}:*", self.scheme, self.host),
        }
    }
}

/// IPv4 addresses written as IPv6 (`::ffff:10.0.0.1`) are judged as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// What makes an address special, or `None` for an ordinary public address.
fn special_range(ip: IpAddr) -> Option<&'static str> {
    const RANGES: &[(&str, &str)] = &[
        ("169.254.169.254/32", "cloud metadata"),
        ("fd00:ec2::254/128", "cloud metadata"),
        ("0.0.0.0/8", "unspecified"),
        ("127.0.0.0/8", "loopback"),
        ("10.0.0.0/8", "private"),
        ("172.16.0.0/12", "private"),
        ("192.168.0.0/16", "private"),
        ("100.64.0.0/10", "shared (CGNAT)"),
        ("169.254.0.0/16", "link-local"),
        ("192.0.0.0/24", "IETF protocol"),
        ("192.0.2.0/24", "documentation"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("64:ff9b::/96", "NAT64"),
        ("64:ff9b:1::/48", "NAT64"),
        ("100::/64", "discard"),
        ("2001:db8::/32", "documentation"),
        ("fc00::/7", "unique-local"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local"),
        ("ff00::/8", "multicast"),
    ];
    RANGES.iter().find(|(net, _)| net.parse::<IpNet>().expect("a valid range").contains(&ip)).map(|(_, what)| *what)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asks(hosts: &[&str]) -> Asks {
        Asks { http: hosts.iter().map(|h| h.to_string()).collect(), secrets: vec!["token".into()], memory_mb: Some(32) }
    }

    fn grants(hosts: &[&str], networks: &[&str]) -> Grants {
        Grants {
            http: hosts.iter().map(|h| h.to_string()).collect(),
            networks: networks.iter().map(|n| n.to_string()).collect(),
            ..Grants::default()
        }
    }

    fn url(text: &str) -> reqwest::Url {
        text.parse().unwrap()
    }

    #[test]
    fn only_hosts_both_sides_name_are_allowed() {
        let granted = Granted::resolve(&asks(&["https://api.example.com", "https://*.example.org"]), &grants(&["https://eu.example.org"], &[]))
            .unwrap();
        assert!(granted.allows_url(&url("https://eu.example.org/x")));
        assert!(!granted.allows_url(&url("https://us.example.org/x")), "asked for but not granted");
        assert!(!granted.allows_url(&url("https://api.example.com/x")), "asked for but not granted");
        assert!(!granted.allows_url(&url("http://eu.example.org/x")), "another scheme");
        assert!(!granted.allows_url(&url("https://eu.example.org:8443/x")), "another port");
    }

    #[test]
    fn granting_what_the_plugin_did_not_ask_for_is_an_error_at_the_grant() {
        let refused = Granted::resolve(&asks(&["https://api.example.com"]), &grants(&["https://evil.example.net", "https://*.example.com"], &[]));
        let Err(crate::error::Error::Validation(errors)) = refused else { panic!("expected a validation error") };
        let pointers: Vec<_> = errors.iter().filter_map(|e| e.pointer.as_deref()).collect();
        assert_eq!(pointers, ["/grants/http/0", "/grants/http/1"]);
    }

    #[test]
    fn wildcards_cover_subdomains_but_not_the_bare_domain() {
        let wildcard = HostPattern::parse("https://*.example.com").unwrap();
        assert!(wildcard.matches("https", "a.b.example.com", 443));
        assert!(!wildcard.matches("https", "example.com", 443));
        assert!(!wildcard.matches("https", "badexample.com", 443));
        assert!(wildcard.covers(&HostPattern::parse("https://*.eu.example.com").unwrap()));
        assert!(!HostPattern::parse("https://a.example.com").unwrap().covers(&wildcard));
        let any_port = HostPattern::parse("http://127.0.0.1:*").unwrap();
        assert!(any_port.covers(&HostPattern::parse("http://127.0.0.1:8080").unwrap()));
        assert!(!HostPattern::parse("http://127.0.0.1:8080").unwrap().covers(&any_port));
    }

    #[test]
    fn host_patterns_name_scheme_host_and_port_only() {
        assert_eq!(HostPattern::parse("http://127.0.0.1:8080").unwrap().to_string(), "http://127.0.0.1:8080");
        assert_eq!(HostPattern::parse("https://[::1]:9443").unwrap().port, Some(9443));
        assert_eq!(HostPattern::parse("http://127.0.0.1:*").unwrap().to_string(), "http://127.0.0.1:*");
        assert_eq!(HostPattern::parse("HTTPS://API.Example.com/").unwrap().to_string(), "https://api.example.com:443");
        for bad in ["ftp://x", "https://", "https://a/b", "https://user@a", "a.example.com", "https://a:0", "https://a:99999", "https://*x", "https://a.*"] {
            assert!(HostPattern::parse(bad).is_err(), "{bad}");
        }
        // `*` alone is any host an admin names (an ask, never a grant).
        assert_eq!(HostPattern::parse("https://*:*").unwrap().to_string(), "https://*:*");
    }

    #[test]
    fn special_addresses_are_refused_unless_their_network_is_granted() {
        let none = Granted::resolve(&asks(&[]), &grants(&[], &[])).unwrap();
        for ip in ["127.0.0.1", "10.1.2.3", "172.20.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "::1", "fd00:ec2::254", "fe80::1", "::ffff:127.0.0.1", "0.0.0.0"] {
            assert!(none.allows_address(ip.parse().unwrap()).is_err(), "{ip}");
        }
        assert!(none.allows_address("169.254.169.254".parse().unwrap()).unwrap_err().contains("cloud metadata"));
        for ip in ["93.184.216.34", "2606:4700::1111"] {
            assert!(none.allows_address(ip.parse().unwrap()).is_ok(), "{ip}");
        }
        let on_premises = Granted::resolve(&asks(&[]), &grants(&[], &["10.20.0.0/16"])).unwrap();
        assert!(on_premises.allows_address("10.20.3.4".parse().unwrap()).is_ok());
        assert!(on_premises.allows_address("10.21.3.4".parse().unwrap()).is_err());
    }

    #[test]
    fn memory_and_deadline_default_and_stay_within_bounds() {
        let granted = Granted::resolve(&asks(&[]), &Grants::default()).unwrap();
        assert_eq!((granted.memory_bytes, granted.timeout_ms), (32 << 20, DEFAULT_TIMEOUT_MS));
        let too_much = Grants { memory_mb: Some(33), timeout_ms: Some(MAX_TIMEOUT_MS + 1), ..Grants::default() };
        let Err(crate::error::Error::Validation(errors)) = Granted::resolve(&asks(&[]), &too_much) else { panic!() };
        assert_eq!(errors.len(), 2);
    }

    #[test]
    fn a_plugin_may_ask_for_any_host_but_an_admin_grants_hosts_by_name() {
        let granted = Granted::resolve(&asks(&["https://*:*"]), &grants(&["https://assets.corp.example:8443"], &[])).unwrap();
        let url = |u: &str| reqwest::Url::parse(u).unwrap();
        assert!(granted.allows_url(&url("https://assets.corp.example:8443/api/v1/hardware")));
        assert!(!granted.allows_url(&url("https://assets.corp.example/api/v1/hardware")), "only the granted port");
        assert!(!granted.allows_url(&url("https://other.example/")), "only the granted host");
        assert!(!granted.allows_url(&url("http://assets.corp.example:8443/")), "only the asked scheme");
        let refused = Granted::resolve(&asks(&["https://*:*"]), &grants(&["https://*"], &[]));
        assert!(refused.is_err(), "an admin names the hosts");
        let plain = Granted::resolve(&asks(&["https://*:*"]), &grants(&["http://assets.corp.example"], &[]));
        assert!(plain.is_err(), "a scheme the plugin did not ask for");
        let default_port = Granted::resolve(&asks(&["https://*"]), &grants(&["https://assets.corp.example:8443"], &[]));
        assert!(default_port.is_err(), "https://* asks for port 443 only");
    }
}
