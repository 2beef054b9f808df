//! Where an SDK puts its key: the `X-Sentry-Auth` header
//! (`Sentry sentry_key=…, sentry_version=7, …`), the `sentry_key` query
//! parameter (browser SDKs, to avoid a CORS pre-flight), or the DSN in the
//! envelope header. And the DSN itself:
//! `http(s)://<public key>@<host>[:port][/path]/<project id>`.

/// The parts of a DSN that matter here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dsn {
    pub public_key: String,
    pub host: String,
    pub project_id: String,
}

/// Parses a DSN; None when it is not one.
pub fn parse_dsn(dsn: &str) -> Option<Dsn> {
    let url = url::Url::parse(dsn.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let public_key = url.username();
    if public_key.is_empty() {
        return None;
    }
    let project_id = url.path_segments()?.rfind(|s| !s.is_empty())?.to_owned();
    let host = match url.port() {
        Some(p) => format!("{}:{p}", url.host_str()?),
        None => url.host_str()?.to_owned(),
    };
    Some(Dsn {
        public_key: public_key.to_owned(),
        host,
        project_id,
    })
}

/// `sentry_key` of an `X-Sentry-Auth` (or `Authorization: Sentry …`) value.
pub fn key_from_header(value: &str) -> Option<String> {
    let rest = value.trim();
    let rest = rest
        .strip_prefix("Sentry ")
        .or_else(|| rest.strip_prefix("sentry "))
        .unwrap_or(rest);
    rest.split(',').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k.trim() == "sentry_key")
            .then(|| v.trim().trim_matches('"').to_owned())
            .filter(|v| !v.is_empty())
    })
}

/// `sentry_key` of a query string.
pub fn key_from_query(query: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "sentry_key")
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
}

/// The key an SDK presented, in the order Sentry's relay looks: header,
/// query, then the envelope's DSN. Two different keys in one request are
/// refused rather than guessed between.
pub fn presented_key(
    header: Option<&str>,
    query: Option<&str>,
    envelope_dsn: Option<&str>,
) -> Result<Option<String>, &'static str> {
    let found: Vec<String> = [
        header.and_then(key_from_header),
        query.and_then(key_from_query),
        envelope_dsn.and_then(parse_dsn).map(|d| d.public_key),
    ]
    .into_iter()
    .flatten()
    .collect();
    match found.split_first() {
        None => Ok(None),
        Some((first, rest)) if rest.iter().all(|k| k == first) => Ok(Some(first.clone())),
        Some(_) => Err("the request names two different keys"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dsns_of_every_shape_parse() {
        assert_eq!(
            parse_dsn("https://abc123@leitstand.example.com/42"),
            Some(Dsn {
                public_key: "abc123".into(),
                host: "leitstand.example.com".into(),
                project_id: "42".into()
            })
        );
        let d = parse_dsn("http://k@127.0.0.1:3000/sub/path/7").expect("dsn");
        assert_eq!(
            (d.host.as_str(), d.project_id.as_str()),
            ("127.0.0.1:3000", "7")
        );
        // Old DSNs carry a secret after the key: only the key counts.
        assert_eq!(
            parse_dsn("https://pub:secret@example.com/1").map(|d| d.public_key),
            Some("pub".into())
        );
        for bad in [
            "",
            "https://example.com/1",
            "ftp://k@example.com/1",
            "https://k@example.com/",
            "nonsense",
        ] {
            assert_eq!(parse_dsn(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_key_is_found_in_the_header_the_query_or_the_envelope() {
        assert_eq!(
            key_from_header(
                "Sentry sentry_version=7, sentry_client=sentry.python/2.19.0, sentry_key=abc123"
            ),
            Some("abc123".into())
        );
        assert_eq!(
            key_from_header("Sentry sentry_key=\"abc\",sentry_version=7"),
            Some("abc".into())
        );
        assert_eq!(key_from_header("Sentry sentry_version=7"), None);
        assert_eq!(key_from_header("Sentry sentry_key="), None);
        assert_eq!(
            key_from_query("sentry_version=7&sentry_key=abc123&sentry_client=js"),
            Some("abc123".into())
        );
        assert_eq!(key_from_query("sentry_version=7"), None);
        assert_eq!(
            presented_key(None, None, Some("https://abc123@example.com/4")),
            Ok(Some("abc123".into()))
        );
        assert_eq!(
            presented_key(
                Some("Sentry sentry_key=abc123"),
                Some("sentry_key=abc123"),
                Some("https://abc123@example.com/4")
            ),
            Ok(Some("abc123".into()))
        );
        assert_eq!(presented_key(None, Some("x=1"), None), Ok(None));
        assert!(presented_key(Some("Sentry sentry_key=a"), Some("sentry_key=b"), None).is_err());
    }
}
