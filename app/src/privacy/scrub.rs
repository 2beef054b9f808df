//! Scrubbing secrets out of what apps send, before anything is stored.
//!
//! - Values under secret-looking names become `[Filtered]`. Names are
//!   compared case- and separator-insensitively (`privateKey`,
//!   `private_key`, `Private-Key` are one name) against a list at least as
//!   broad as Sentry's default scrubber.
//! - In every string (attribute values and the event message): passwords
//!   in URLs (`postgres://user:[Filtered]@db/x`), secret query parameters
//!   (`?token=[Filtered]`), and payment card numbers (13–19 digits passing
//!   Luhn, with spaces or dashes between digits) become `[Filtered]`.
//! - Numbers that are card numbers (`4111111111111111` as a JSON number)
//!   become the string `[Filtered]`.

use std::borrow::Cow;
use std::ops::Range;

use serde_json::Value;

/// Replacement for scrubbed values.
pub const FILTERED: &str = "[Filtered]";

/// Parts of names whose values are secret, lower case without separators.
/// Sentry's defaults (password, secret, passwd, api_key, apikey, auth,
/// credentials, mysql_pwd, privatekey, private_key, token, session_key,
/// stripetoken, cookie, csrf, sessionid, set-cookie, …) and more.
const SECRET_NAME_PARTS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "accesskey",
    "privatekey",
    "signingkey",
    "encryptionkey",
    "auth",
    "credential",
    "bearer",
    "jwt",
    "cookie",
    "session",
    "sessid",
    "connectsid",
    "csrf",
    "xsrf",
    "cvv",
    "cvc",
    "cardnumber",
    "creditcard",
    "iban",
    "pin",
];

/// Names that contain a secret part but are not secret.
const NOT_SECRET: &[&str] = &["author", "authors", "authorname", "authorid"];

fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '_' | '-' | '.' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether a name (attribute key, query parameter) names something secret.
pub fn is_secret_name(name: &str) -> bool {
    let n = normalise(name);
    if NOT_SECRET.contains(&n.as_str()) {
        return false;
    }
    SECRET_NAME_PARTS.iter().any(|part| {
        // "pin" only as the whole name or its end ("pin", "cardpin"),
        // not inside words ("shipping", "spinner").
        if *part == "pin" {
            n.ends_with("pin")
        } else {
            n.contains(part)
        }
    })
}

/// Replaces secret values in attributes, in place.
pub fn scrub(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                if is_secret_name(k) && !val.is_null() {
                    *val = Value::String(FILTERED.into());
                } else {
                    scrub(val);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(scrub),
        Value::String(s) => {
            if let Cow::Owned(clean) = scrub_text(s) {
                *s = clean;
            }
        }
        Value::Number(n) if is_card_number_value(n) => *v = Value::String(FILTERED.into()),
        _ => {}
    }
}

fn is_card_number_value(n: &serde_json::Number) -> bool {
    let digits = match (n.as_u64(), n.as_i64()) {
        (Some(u), _) => u.to_string(),
        (None, Some(i)) => i.unsigned_abs().to_string(),
        _ => return false,
    };
    card_number_spans(&digits)
        .iter()
        .any(|r| r.len() == digits.len())
}

/// `text` with URL passwords, secret query parameters and card numbers
/// replaced (borrowed when there was nothing to replace).
pub fn scrub_text(text: &str) -> Cow<'_, str> {
    let mut spans = url_secret_spans(text);
    spans.extend(card_number_spans(text));
    if spans.is_empty() {
        return Cow::Borrowed(text);
    }
    spans.sort_by_key(|r| r.start);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for span in spans {
        if span.start < at {
            // Overlaps one already replaced.
            at = at.max(span.end);
            continue;
        }
        out.push_str(&text[at..span.start]);
        out.push_str(FILTERED);
        at = span.end;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

/// Byte ranges of URL passwords and of secret query parameter values.
fn url_secret_spans(text: &str) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(found) = text[from..].find("://") {
        let start = from + found + 3;
        let end = text[start..]
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`'))
            .map_or(text.len(), |i| start + i);
        let url = &text[start..end];
        // userinfo: up to the first `/`, `?` or `#`, before the last `@`.
        let authority_end = url.find(['/', '?', '#']).unwrap_or(url.len());
        if let Some(at) = url[..authority_end].rfind('@')
            && let Some(colon) = url[..at].find(':')
            && colon + 1 < at
        {
            spans.push(start + colon + 1..start + at);
        }
        if let Some(q) = url.find('?') {
            let query_end = url[q..].find('#').map_or(url.len(), |i| q + i);
            let mut pos = q + 1;
            for pair in url[q + 1..query_end].split('&') {
                if let Some((name, value)) = pair.split_once('=')
                    && !value.is_empty()
                    && is_secret_name(name)
                {
                    let value_start = start + pos + name.len() + 1;
                    spans.push(value_start..value_start + value.len());
                }
                pos += pair.len() + 1;
            }
        }
        from = end.max(start);
    }
    spans
}

/// Byte ranges of payment card numbers: 13–19 digits passing Luhn, single
/// spaces or dashes allowed between digits, not part of a longer number.
fn card_number_spans(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() || (i > 0 && bytes[i - 1].is_ascii_digit()) {
            i += 1;
            continue;
        }
        // A run of digits with single separators between them.
        let start = i;
        let mut digits = Vec::with_capacity(19);
        let mut end = i;
        let mut j = i;
        while j < bytes.len() {
            if bytes[j].is_ascii_digit() {
                digits.push(u32::from(bytes[j] - b'0'));
                j += 1;
                end = j;
            } else if matches!(bytes[j], b' ' | b'-')
                && bytes.get(j + 1).is_some_and(u8::is_ascii_digit)
            {
                j += 1;
            } else {
                break;
            }
        }
        if (13..=19).contains(&digits.len()) && luhn(&digits) {
            spans.push(start..end);
        }
        i = end.max(i + 1);
    }
    spans
}

fn luhn(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                *d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_names_are_found_whatever_their_case_and_separators() {
        for name in [
            "password",
            "Password",
            "user_password",
            "passwd",
            "mysql_pwd",
            "passphrase",
            "secret",
            "clientSecret",
            "token",
            "access_token",
            "refreshToken",
            "stripetoken",
            "api_key",
            "apiKey",
            "API-KEY",
            "x-api-key",
            "apikey",
            "aws_access_key_id",
            "AWS_SECRET_ACCESS_KEY",
            "privateKey",
            "private_key",
            "signing-key",
            "auth",
            "Authorization",
            "auth_header",
            "credentials",
            "credential",
            "bearer",
            "jwt",
            "id_jwt",
            "cookie",
            "set-cookie",
            "session",
            "sessionid",
            "session_key",
            "PHPSESSID",
            "connect.sid",
            "csrf",
            "csrftoken",
            "_csrf_token",
            "XSRF-TOKEN",
            "cvv",
            "CVC",
            "card_number",
            "cardNumber",
            "credit-card",
            "iban",
            "pin",
            "card_pin",
        ] {
            assert!(is_secret_name(name), "{name} should be secret");
        }
        for name in [
            "author", "shipping", "ping", "pinned", "user", "order_id", "amount", "feature",
            "spinner", "release",
        ] {
            assert!(!is_secret_name(name), "{name} should not be secret");
        }
    }

    #[test]
    fn secrets_in_text_are_replaced_and_the_rest_kept() {
        let cases: &[(&str, &str)] = &[
            ("nothing to see", "nothing to see"),
            (
                "postgres://app:s3cr3t@db.internal:5432/shop",
                "postgres://app:[Filtered]@db.internal:5432/shop",
            ),
            (
                "connect to https://user:pa:ss@host/x failed",
                "connect to https://user:[Filtered]@host/x failed",
            ),
            (
                "https://public@sentry.example/1",
                "https://public@sentry.example/1",
            ),
            (
                "GET https://api.example/v1?user=7&token=abc123&page=2 -> 500",
                "GET https://api.example/v1?user=7&token=[Filtered]&page=2 -> 500",
            ),
            (
                "https://x.example/cb?code=1&client_secret=zzz#frag",
                "https://x.example/cb?code=1&client_secret=[Filtered]#frag",
            ),
            ("card 4111111111111111 declined", "card [Filtered] declined"),
            (
                "card 4111 1111 1111 1111 declined",
                "card [Filtered] declined",
            ),
            ("card 4111-1111-1111-1111", "card [Filtered]"),
            ("not a card 4111111111111112", "not a card 4111111111111112"),
            ("order 12345 of 2026-11-22", "order 12345 of 2026-11-22"),
            ("id 94111111111111111123", "id 94111111111111111123"),
        ];
        for (input, expected) in cases {
            assert_eq!(scrub_text(input), *expected, "{input}");
        }
    }

    #[test]
    fn attributes_are_scrubbed_by_name_and_by_value() {
        let mut v = json!({
            "password": "x",
            "nested": { "Authorization": "Bearer abc", "apiKey": "k", "ok": "visible" },
            "card": "4111 1111 1111 1111",
            "card_as_number": 4111111111111111u64,
            "amount": 4200,
            "list": [{ "session_id": "s" }, "postgres://a:b@h/d"],
            "privateKey": "-----BEGIN",
            "nothing": null,
            "secret_but_null": null,
        });
        scrub(&mut v);
        assert_eq!(
            v,
            json!({
                "password": FILTERED,
                "nested": { "Authorization": FILTERED, "apiKey": FILTERED, "ok": "visible" },
                "card": FILTERED,
                "card_as_number": FILTERED,
                "amount": 4200,
                "list": [{ "session_id": FILTERED }, "postgres://a:[Filtered]@h/d"],
                "privateKey": FILTERED,
                "nothing": null,
                "secret_but_null": null,
            })
        );
    }
}
