//! Service types and slug rules.

use serde::{Deserialize, Serialize};

/// Longest slug accepted.
pub const SLUG_MAX: usize = 64;

/// Checks a service slug: lowercase letters, digits, `-` and `_`, starting
/// with a letter or digit, at most 64 characters.
pub fn validate_slug(slug: &str) -> Result<(), String> {
    if slug.is_empty() {
        return Err("must not be empty".into());
    }
    if slug.len() > SLUG_MAX {
        return Err(format!("must be at most {SLUG_MAX} characters"));
    }
    let mut chars = slug.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let rest_ok = slug
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if first_ok && rest_ok {
        Ok(())
    } else {
        Err("use lowercase letters, digits, '-' and '_', starting with a letter or digit (e.g. \"shop-api\")".into())
    }
}

/// A service as listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceInfo {
    pub id: i64,
    pub slug: String,
    pub name: String,
}

/// A service's Sentry DSN and the browser origins its SDKs may send from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceDsn {
    pub dsn: String,
    pub allowed_origins: Vec<String>,
}

/// `scheme://<key>@host[:port][/path]/<project id>` from the base URL the
/// instance is reached at (`https://leitstand.example`).
pub fn dsn(base_url: &str, key: &str, project_id: i64) -> String {
    let base = base_url.trim_end_matches('/');
    match base.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{key}@{rest}/{project_id}"),
        None => format!("http://{key}@{base}/{project_id}"),
    }
}

/// Checks and normalises allowed origins: `scheme://host[:port]` or `*`,
/// at most 50; duplicates dropped.
pub fn normalise_origins(origins: &[String]) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for o in origins {
        let o = o.trim().trim_end_matches('/');
        if o.is_empty() {
            continue;
        }
        let ok = o == "*"
            || o.split_once("://").is_some_and(|(scheme, host)| {
                matches!(scheme, "http" | "https")
                    && !host.is_empty()
                    && host.len() <= 253
                    && host.chars().all(|c| {
                        c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']')
                    })
            });
        if !ok {
            return Err(format!(
                "`{o}` is not an origin: write scheme://host[:port] (e.g. https://shop.example) or *"
            ));
        }
        let o = o.to_ascii_lowercase();
        if !out.contains(&o) {
            out.push(o);
        }
    }
    if out.len() > 50 {
        return Err("at most 50 origins".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn dsns_carry_the_key_and_project() {
        assert_eq!(
            super::dsn("https://ops.example/", "ab", 7),
            "https://ab@ops.example/7"
        );
        assert_eq!(
            super::dsn("http://127.0.0.1:3000", "ab", 1),
            "http://ab@127.0.0.1:3000/1"
        );
    }

    #[test]
    fn origins_are_checked_and_normalised() {
        let ok = super::normalise_origins(&[
            "https://Shop.example/".into(),
            "https://shop.example".into(),
            " ".into(),
            "http://localhost:5173".into(),
        ]);
        assert_eq!(
            ok,
            Ok(vec![
                "https://shop.example".to_string(),
                "http://localhost:5173".to_string()
            ])
        );
        assert!(super::normalise_origins(&["shop.example".into()]).is_err());
        assert!(super::normalise_origins(&["https://a.example/path".into()]).is_err());
    }
}

#[cfg(test)]
mod slug_tests {
    use super::*;

    #[test]
    fn slugs_accept_lowercase_digits_dash_underscore() {
        assert!(validate_slug("shop-api_2").is_ok());
        assert!(validate_slug("9lives").is_ok());
    }

    #[test]
    fn slugs_reject_uppercase_spaces_leading_dash_and_overlong() {
        assert!(validate_slug("Shop").is_err());
        assert!(validate_slug("shop api").is_err());
        assert!(validate_slug("-shop").is_err());
        assert!(validate_slug("").is_err());
        assert!(validate_slug(&"a".repeat(65)).is_err());
    }
}
