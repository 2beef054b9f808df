//! Error grouping: the fingerprint of an error event without one.
//!
//! The default is a stable hash of service, feature, type and the message
//! with the parts that vary between occurrences of the same error masked:
//! UUIDs, hex ids, e-mail addresses, quoted strings and numbers. So
//! "order 4711 failed after 3 retries" and "order 4712 failed after 5
//! retries" share a group.

use sha2::{Digest, Sha256};

/// Masks variable parts of an error message.
pub fn normalize_message(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for token in split_keep(message) {
        out.push_str(&mask_token(token));
    }
    out
}

/// Splits into words and separators, keeping both, so masking keeps the shape.
fn split_keep(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut in_word = None;
    for (i, c) in s.char_indices() {
        let word_char = c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '@' | ':');
        match in_word {
            Some(w) if w == word_char => {}
            Some(_) => {
                parts.push(&s[start..i]);
                start = i;
                in_word = Some(word_char);
            }
            None => in_word = Some(word_char),
        }
    }
    if start < s.len() {
        parts.push(&s[start..]);
    }
    parts
}

fn mask_token(token: &str) -> String {
    let trimmed = token.trim_end_matches(['.', ':']);
    let suffix = &token[trimmed.len()..];
    let t = trimmed;
    if t.is_empty() {
        return token.to_owned();
    }
    if is_uuid(t) {
        return format!("<uuid>{suffix}");
    }
    if t.contains('@') && t.contains('.') && !t.starts_with('@') {
        return format!("<email>{suffix}");
    }
    if t.len() >= 8
        && t.chars().all(|c| c.is_ascii_hexdigit())
        && t.chars().any(|c| c.is_ascii_digit())
    {
        return format!("<hex>{suffix}");
    }
    if t.chars().any(|c| c.is_ascii_digit()) {
        // Numbers (and words made mostly of digits, like "v2" stays "v2").
        let digits = t.chars().filter(|c| c.is_ascii_digit()).count();
        if digits * 2 >= t.chars().count() {
            return format!("<n>{suffix}");
        }
    }
    token.to_owned()
}

fn is_uuid(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// The default fingerprint: 32 hex characters of SHA-256.
pub fn default_fingerprint(service: &str, feature: &str, kind: &str, message: &str) -> String {
    let mut h = Sha256::new();
    for part in [service, feature, kind, &normalize_message(message)] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    let digest = h.finalize();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_ids_are_masked() {
        assert_eq!(
            normalize_message("order 4711 failed after 3 retries"),
            "order <n> failed after <n> retries"
        );
        assert_eq!(
            normalize_message("user 0b8e2c1e-6a3c-4c2f-9f0e-2f1d8e9b7a11 not found."),
            "user <uuid> not found."
        );
        assert_eq!(
            normalize_message("commit deadbeef42 broke"),
            "commit <hex> broke"
        );
        assert_eq!(
            normalize_message("mail to a.b@example.com bounced"),
            "mail to <email> bounced"
        );
    }

    #[test]
    fn occurrences_of_one_error_share_a_fingerprint() {
        let a = default_fingerprint(
            "shop",
            "checkout",
            "payment.failed",
            "card 4242 declined (code 51)",
        );
        let b = default_fingerprint(
            "shop",
            "checkout",
            "payment.failed",
            "card 1881 declined (code 05)",
        );
        assert_eq!(a, b);
        assert_eq!(a.len(), 32);
    }

    #[test]
    fn different_services_or_messages_get_different_fingerprints() {
        let a = default_fingerprint("shop", "checkout", "payment.failed", "card declined");
        let b = default_fingerprint("crm", "checkout", "payment.failed", "card declined");
        let c = default_fingerprint("shop", "checkout", "payment.failed", "gateway timeout");
        assert_ne!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn words_with_a_digit_stay_when_mostly_letters() {
        assert_eq!(
            normalize_message("oauth2 token expired"),
            "oauth2 token expired"
        );
    }
}
