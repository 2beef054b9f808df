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

#[cfg(test)]
mod tests {
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
