//! API key types shared by server and browser.

use serde::{Deserialize, Serialize};

/// What a key may do. `Admin` includes every other scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Send events.
    Ingest,
    /// Read KPIs, events, the live stream, exports.
    Read,
    /// Create, list, download and verify backups.
    Backup,
    /// Everything, including restore, keys, users and settings.
    Admin,
    /// Read error groups and change their status (resolve, ignore, reopen).
    Errors,
    /// Read `/metrics` (Prometheus).
    Metrics,
}

impl Scope {
    pub const ALL: [Scope; 6] = [
        Scope::Ingest,
        Scope::Read,
        Scope::Backup,
        Scope::Admin,
        Scope::Errors,
        Scope::Metrics,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Ingest => "ingest",
            Scope::Read => "read",
            Scope::Backup => "backup",
            Scope::Admin => "admin",
            Scope::Errors => "errors",
            Scope::Metrics => "metrics",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s.trim())
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A key as listed (never with its secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyInfo {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub service: Option<String>,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// A newly created key: the only time the secret exists outside the caller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatedKey {
    pub info: ApiKeyInfo,
    pub secret: String,
}

/// Who a request authenticated as, with what rights.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyPrincipal {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<Scope>,
    /// When set, the key may only touch this service.
    pub service_id: Option<i64>,
    /// Slug of that service.
    pub service: Option<String>,
}

impl KeyPrincipal {
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&Scope::Admin) || self.scopes.contains(&scope)
    }
}

/// Splits `lst_<prefix>_<secret>` and returns the visible prefix
/// (`lst_<prefix>`), or `None` when the text is not shaped like a key.
pub fn key_prefix(key: &str) -> Option<&str> {
    let rest = key.strip_prefix("lst_")?;
    let (id, secret) = rest.split_once('_')?;
    let ok = id.len() == 8
        && secret.len() == 32
        && id.chars().all(|c| c.is_ascii_alphanumeric())
        && secret.chars().all(|c| c.is_ascii_alphanumeric());
    ok.then(|| &key[..4 + id.len()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_scope_includes_every_other_scope() {
        let p = KeyPrincipal {
            id: 1,
            name: "ops".into(),
            prefix: "lst_abcdefgh".into(),
            scopes: vec![Scope::Admin],
            service_id: None,
            service: None,
        };
        assert!(Scope::ALL.iter().all(|s| p.has(*s)));
    }

    #[test]
    fn ingest_scope_does_not_allow_reading() {
        let p = KeyPrincipal {
            id: 1,
            name: "app".into(),
            prefix: "lst_abcdefgh".into(),
            scopes: vec![Scope::Ingest],
            service_id: None,
            service: None,
        };
        assert!(p.has(Scope::Ingest));
        assert!(!p.has(Scope::Read));
    }

    #[test]
    fn key_prefix_is_found_only_in_well_formed_keys() {
        let key = "lst_ab12CD34_0123456789abcdefghijABCDEFGHIJ01";
        assert_eq!(key_prefix(key), Some("lst_ab12CD34"));
        assert_eq!(key_prefix("lst_short_x"), None);
        assert_eq!(
            key_prefix("Bearer lst_ab12CD34_0123456789abcdefghijABCDEFGHIJ01"),
            None
        );
        assert_eq!(key_prefix(""), None);
    }

    #[test]
    fn scopes_parse_from_their_names() {
        assert_eq!(Scope::parse("ingest"), Some(Scope::Ingest));
        assert_eq!(Scope::parse(" admin "), Some(Scope::Admin));
        assert_eq!(Scope::parse("root"), None);
    }
}
