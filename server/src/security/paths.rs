//! What a request path is, decided once, before any routing.
//!
//! Requests whose path could be read two ways are refused outright: dot
//! segments (`.`/`..`, raw or percent-encoded, also hidden behind an
//! encoded `/` or `\`) and NUL characters anywhere in the path or query.
//! The router, the Leptos router and the file server each resolve such
//! paths differently, so an access decision made on one reading would be
//! applied to another. Everything that passes is classified into an
//! [`Area`], and the area alone decides who may reach it and what answers
//! when nothing matches (a JSON 404 under `/api/`, a plain 404 for files,
//! the guarded app for pages).

/// Where a path belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// Liveness, readiness, metrics: anyone.
    Health,
    /// Built assets and well-known files: anyone; never renders a page.
    Static,
    /// The machine interface: handlers authenticate with API keys.
    Api,
    /// Server functions: a session, except the sign-in ones.
    Rpc,
    /// Sign-in and first set-up pages.
    AuthPage,
    /// The public status page (it shows only what services opted in to).
    PublicPage,
    /// Every other page and UI route: a signed-in user.
    Page,
}

/// Static files at the root, besides `/pkg/` and `/icons/`.
const ROOT_FILES: [&str; 8] = [
    "/favicon.svg",
    "/robots.txt",
    "/manifest.webmanifest",
    "/sw.js",
    "/pwa.js",
    "/boot.js",
    "/offline.html",
    "/offline.js",
];

/// Server functions anyone may call (signing in needs them).
const PUBLIC_RPC: [&str; 5] = [
    "/rpc/login",
    "/rpc/setup",
    "/rpc/needs_setup",
    "/rpc/me",
    "/rpc/get_public_status",
];

/// The area of a path that passed [`check`].
pub fn classify(path: &str) -> Area {
    if matches!(path, "/healthz" | "/readyz" | "/metrics") {
        Area::Health
    } else if ROOT_FILES.contains(&path) || path.starts_with("/pkg/") || path.starts_with("/icons/")
    {
        Area::Static
    } else if path.starts_with("/api/") {
        Area::Api
    } else if path.starts_with("/rpc/") {
        Area::Rpc
    } else if path == "/login" || path == "/setup" {
        Area::AuthPage
    } else if path == "/status" {
        Area::PublicPage
    } else {
        Area::Page
    }
}

/// Whether a server function may be called without a session. Server
/// function paths carry a hash suffix (`/rpc/login123…`).
pub fn is_public_rpc(path: &str) -> bool {
    PUBLIC_RPC.iter().any(|p| {
        path.strip_prefix(p)
            .is_some_and(|rest| rest.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// Why a request target is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    DotSegment,
    Nul,
    NotAbsolute,
}

impl Refusal {
    pub fn message(self) -> &'static str {
        match self {
            Self::DotSegment => "the path must not contain `.` or `..` segments",
            Self::Nul => "the path and query must not contain NUL characters",
            Self::NotAbsolute => "the path must start with `/`",
        }
    }
}

/// Refuses paths with dot segments or NUL and queries with NUL.
pub fn check(path: &str, query: Option<&str>) -> Result<(), Refusal> {
    if !path.starts_with('/') {
        return Err(Refusal::NotAbsolute);
    }
    if has_nul(path) || query.is_some_and(has_nul) {
        return Err(Refusal::Nul);
    }
    for raw in path.split('/') {
        let decoded = percent_decode(raw);
        // An encoded `/` or `\` inside a segment becomes a separator for
        // whoever decodes before resolving.
        if decoded
            .split(|b| *b == b'/' || *b == b'\\')
            .any(|part| part == b"." || part == b"..")
        {
            return Err(Refusal::DotSegment);
        }
    }
    Ok(())
}

fn has_nul(s: &str) -> bool {
    s.contains('\0') || percent_decode(s).contains(&0)
}

/// Percent-decodes (twice-encoded input stays encoded once: `%252e` is
/// `%2e`, which no router reads as a dot).
fn percent_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|c| (*c as char).to_digit(16)),
                bytes.get(i + 2).and_then(|c| (*c as char).to_digit(16)),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_segments_are_refused_however_they_are_written() {
        for path in [
            "/api/..",
            "/api/../",
            "/icons/../",
            "/pkg/%2e%2e/",
            "/pkg/%2E%2e",
            "/pkg/.%2e/settings",
            "/./",
            "/events/.",
            "/pkg/..%2fsettings",
            "/pkg/..%5Csettings",
            "/pkg/x%2F..%2Fy",
            "/api/v1/../../settings",
        ] {
            assert_eq!(check(path, None), Err(Refusal::DotSegment), "{path}");
        }
    }

    #[test]
    fn ordinary_paths_pass() {
        for path in [
            "/",
            "/events/0193c2d4-0000-7000-8000-000000000000",
            "/pkg/leitstand.wasm",
            "/api/v1/privacy/users/a.b%40example.com/events",
            "/settings/",
            "/api//v1/events",
            "/pkg/%252e%252e/",
            "/.well-known/security.txt",
            "/...",
        ] {
            assert_eq!(check(path, None), Ok(()), "{path}");
        }
    }

    #[test]
    fn nul_is_refused_in_path_and_query() {
        assert_eq!(
            check("/api/v1/privacy/users/%00/events", None),
            Err(Refusal::Nul)
        );
        assert_eq!(check("/events", Some("service=a%00b")), Err(Refusal::Nul));
        assert_eq!(check("/events", Some("service=a%2500b")), Ok(()));
        assert_eq!(check("relative", None), Err(Refusal::NotAbsolute));
    }

    #[test]
    fn areas_follow_the_first_segment_only() {
        assert_eq!(classify("/healthz"), Area::Health);
        assert_eq!(classify("/pkg/leitstand.js"), Area::Static);
        assert_eq!(classify("/icons/icon-192.png"), Area::Static);
        assert_eq!(classify("/favicon.svg"), Area::Static);
        assert_eq!(classify("/api/v1/events"), Area::Api);
        assert_eq!(classify("/api"), Area::Page);
        assert_eq!(classify("/rpc/get_dashboard123"), Area::Rpc);
        assert_eq!(classify("/login"), Area::AuthPage);
        assert_eq!(classify("/login/"), Area::Page);
        assert_eq!(classify("/"), Area::Page);
        assert_eq!(classify("/export/dashboard"), Area::Page);
    }

    #[test]
    fn the_installable_app_files_are_static() {
        for path in [
            "/manifest.webmanifest",
            "/sw.js",
            "/pwa.js",
            "/boot.js",
            "/offline.html",
            "/offline.js",
            "/icons/icon-maskable-512.png",
        ] {
            assert_eq!(classify(path), Area::Static, "{path}");
        }
        assert_eq!(classify("/pwa.js/"), Area::Page);
    }

    #[test]
    fn only_the_sign_in_functions_are_public() {
        assert!(is_public_rpc("/rpc/login123") && is_public_rpc("/rpc/me"));
        assert!(!is_public_rpc("/rpc/get_dashboard123"));
        assert!(!is_public_rpc("/rpc/login_as_admin"));
        assert!(!is_public_rpc("/rpc/me/../list_users"));
    }
}
