//! The web assets and what answers when no route matched.
//!
//! A release binary carries the whole site (CSS, JS, WebAssembly, icons and
//! their precompressed copies) inside itself, so it runs from any directory
//! with nothing beside it; `--site-root` serves a directory instead (what
//! development builds do). Both sources are served by the same code: the
//! content type from the name, the brotli or gzip copy when the client takes
//! it, an `ETag` for revalidation, and a year of immutable caching for files
//! whose names carry a content hash.
//!
//! The fallback is decided by the path's area: files for the static area
//! (the service worker filled in with the build, see `pwa.rs`), the JSON
//! error for the machine interface, and the server-rendered app (its
//! not-found page, behind the session guard) for everything else. Nothing
//! outside the page area ever renders the app.

use std::borrow::Cow;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use anyhow::Context;
use app::state::AppState;
use app::{error::AppError, shell};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::api::error::ApiError;
use crate::security::paths::{Area, classify};

/// The site as `cargo leptos build --release --precompress` left it when
/// this binary was compiled (empty when there was none: development builds
/// read the directory at run time).
#[derive(rust_embed::RustEmbed)]
#[folder = "../target/site"]
#[allow_missing = true]
struct Embedded;

/// Where the site of a build without `--site-root` is looked for when the
/// binary carries none.
const DEFAULT_ROOT: &str = "target/site";

/// The file the page loader reads to name a lazy route's chunks
/// (`app::components::boot`).
const SPLIT_MANIFEST: &str = "pkg/__wasm_split_manifest.json";

/// Directory levels searched below the site root.
const MAX_DEPTH: usize = 4;

/// A file of the site as a listing sees it: URL path, size, modification time.
pub type Listing = Vec<(String, u64, Option<SystemTime>)>;

/// Where the web assets come from.
pub struct Site {
    source: Source,
    /// What leptos is given as its site root: the page loader reads the
    /// lazy routes' manifest from there.
    leptos_root: PathBuf,
    /// Holds `leptos_root` for an embedded site; removed when the server stops.
    _scratch: Option<tempfile::TempDir>,
}

enum Source {
    Disk(PathBuf),
    Embedded,
}

/// One file ready to send.
struct Asset {
    content: Content,
    /// The file's identity (for a compressed copy, the copy's own).
    tag: String,
}

/// A file's bytes: at hand (embedded), or read only if it is the one sent.
enum Content {
    Bytes(Cow<'static, [u8]>),
    File(PathBuf),
}

impl Content {
    async fn load(self) -> io::Result<Option<Cow<'static, [u8]>>> {
        match self {
            Content::Bytes(bytes) => Ok(Some(bytes)),
            Content::File(path) => match tokio::fs::read(&path).await {
                Ok(bytes) => Ok(Some(Cow::Owned(bytes))),
                Err(e) if missing(&e) => Ok(None),
                Err(e) => Err(e),
            },
        }
    }
}

impl Site {
    /// The configured directory, else the site inside the binary, else
    /// `target/site` (a development build, or a release built without a site).
    pub fn open(configured: Option<&Path>) -> anyhow::Result<Self> {
        if let Some(dir) = configured {
            return Ok(Self::disk(dir));
        }
        if cfg!(debug_assertions) || Embedded::iter().next().is_none() {
            return Ok(Self::disk(Path::new(DEFAULT_ROOT)));
        }
        let scratch = tempfile::Builder::new()
            .prefix("leitstand-site-")
            .tempdir()
            .context("creating a directory for the site's manifest")?;
        if let Some(manifest) = Embedded::get(SPLIT_MANIFEST) {
            let path = scratch.path().join(SPLIT_MANIFEST);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))?;
            }
            std::fs::write(&path, &manifest.data)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        Ok(Self {
            source: Source::Embedded,
            leptos_root: scratch.path().to_owned(),
            _scratch: Some(scratch),
        })
    }

    /// Serves `dir` from disk.
    pub fn disk(dir: &Path) -> Self {
        Self {
            source: Source::Disk(dir.to_owned()),
            leptos_root: dir.to_owned(),
            _scratch: None,
        }
    }

    /// The site root to give leptos.
    pub fn leptos_root(&self) -> &Path {
        &self.leptos_root
    }

    /// For the start-up log line.
    pub fn describe(&self) -> String {
        match &self.source {
            Source::Disk(dir) => format!("directory {}", dir.display()),
            Source::Embedded => format!(
                "embedded in the binary ({} files)",
                Embedded::iter().count()
            ),
        }
    }

    /// The files a browser may fetch without a session (what the static
    /// area serves), without compressed copies, declarations, or names a
    /// URL would have to encode.
    pub fn listing(&self) -> io::Result<Listing> {
        let mut out = Listing::new();
        match &self.source {
            Source::Disk(root) => list(root, root, 0, &mut out)?,
            Source::Embedded => {
                for name in Embedded::iter() {
                    let path = format!("/{name}");
                    if listed(&path)
                        && let Some(file) = Embedded::get(&name)
                    {
                        out.push((path, file.data.len() as u64, None));
                    }
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// The bytes of a file (`path` as in a URL, with its leading slash).
    pub fn read(&self, path: &str) -> io::Result<Option<Cow<'static, [u8]>>> {
        let relative = path.trim_start_matches('/');
        match &self.source {
            Source::Disk(root) => match std::fs::read(root.join(relative)) {
                Ok(bytes) => Ok(Some(Cow::Owned(bytes))),
                Err(e) if missing(&e) => Ok(None),
                Err(e) => Err(e),
            },
            Source::Embedded => Ok(Embedded::get(relative).map(|f| f.data)),
        }
    }

    /// One file of the site, `None` when there is no such file.
    async fn asset(&self, path: &str) -> io::Result<Option<Asset>> {
        let relative = path.trim_start_matches('/');
        if relative.is_empty() || relative.ends_with('/') {
            return Ok(None);
        }
        match &self.source {
            Source::Disk(root) => {
                let file = root.join(relative);
                let meta = match tokio::fs::metadata(&file).await {
                    Ok(meta) if meta.is_file() => meta,
                    Ok(_) => return Ok(None),
                    Err(e) if missing(&e) => return Ok(None),
                    Err(e) => return Err(e),
                };
                let modified = meta
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos());
                Ok(Some(Asset {
                    tag: format!("{:x}-{modified:x}", meta.len()),
                    content: Content::File(file),
                }))
            }
            Source::Embedded => Ok(Embedded::get(relative).map(|file| Asset {
                tag: hex::encode(&file.metadata.sha256_hash()[..8]),
                content: Content::Bytes(file.data),
            })),
        }
    }

    /// `GET`/`HEAD` of a static file: the best encoding the client takes,
    /// revalidation by `ETag`, caching by name.
    pub async fn serve(&self, method: &Method, path: &str, headers: &HeaderMap) -> Response {
        if !matches!(*method, Method::GET | Method::HEAD) {
            return (
                StatusCode::METHOD_NOT_ALLOWED,
                [(header::ALLOW, "GET, HEAD")],
                "method not allowed",
            )
                .into_response();
        }
        let plain = match self.asset(path).await {
            Ok(Some(asset)) => asset,
            Ok(None) => return not_found(),
            Err(e) => {
                tracing::error!(error = %e, path, "cannot read a file of the site");
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
        };
        let accepted = Encodings::accepted(headers);
        let mut chosen: Option<(&str, Asset)> = None;
        for (encoding, suffix, wanted) in
            [("br", ".br", accepted.br), ("gzip", ".gz", accepted.gzip)]
        {
            if !wanted {
                continue;
            }
            if let Ok(Some(variant)) = self.asset(&format!("{path}{suffix}")).await {
                chosen = Some((encoding, variant));
                break;
            }
        }
        let content_type = mime_guess::from_path(path)
            .first_raw()
            .unwrap_or("application/octet-stream");
        let (encoding, content) = match chosen {
            Some((encoding, variant)) => (Some(encoding), variant.content),
            None => (None, plain.content),
        };
        let body = match content.load().await {
            Ok(Some(body)) => body,
            Ok(None) => return not_found(),
            Err(e) => {
                tracing::error!(error = %e, path, "cannot read a file of the site");
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
        };
        let etag = format!("\"{}{}\"", plain.tag, encoding.map_or("", |e| &e[..2]));
        let mut res = if headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| matches_etag(v, &etag))
        {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            let length = body.len();
            let mut res = if *method == Method::HEAD {
                Response::new(Body::empty())
            } else {
                Response::new(Body::from(body))
            };
            res.headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(length));
            res
        };
        let h = res.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&etag) {
            h.insert(header::ETAG, v);
        }
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        if let Some(encoding) = encoding {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
        }
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(if is_hashed(path) {
                "public, max-age=31536000, immutable"
            } else {
                "no-cache"
            }),
        );
        res
    }
}

pub async fn fallback(
    State(state): State<AppState>,
    axum::Extension(site): axum::Extension<Arc<Site>>,
    req: Request,
) -> Response {
    match classify(req.uri().path()) {
        Area::Static => match req.uri().path() {
            crate::pwa::SERVICE_WORKER if matches!(*req.method(), Method::GET | Method::HEAD) => {
                crate::pwa::service_worker(site).await
            }
            "/offline.html" => crate::pwa::offline_page(
                site.serve(req.method(), "/offline.html", req.headers())
                    .await,
            ),
            path => site.serve(req.method(), path, req.headers()).await,
        },
        Area::Api | Area::Rpc | Area::Health => {
            ApiError::from(AppError::NotFound("a route for this path".into())).into_response()
        }
        Area::AuthPage | Area::Page | Area::PublicPage => {
            let render = leptos_axum::file_and_error_handler::<AppState, _>(shell);
            render(req.uri().clone(), State(state), req).await
        }
    }
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "not found",
    )
        .into_response()
}

fn missing(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory | io::ErrorKind::IsADirectory
    )
}

/// Whether a name carries a content hash, so its content never changes:
/// `name.<hex>.ext` with at least 16 hex digits between the dots (what a
/// build with hashed file names writes). The lazy routes' chunks are not
/// such names: `chunk_12.wasm` and `split_…_section_<number>.wasm` keep
/// their names from build to build while their content changes.
fn is_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let parts: Vec<&str> = name.split('.').collect();
    parts.len() >= 3
        && parts[1..parts.len() - 1]
            .iter()
            .any(|p| p.len() >= 16 && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `If-None-Match`: `*` or a list of tags, weak ones compared weakly.
fn matches_etag(header: &str, etag: &str) -> bool {
    header
        .split(',')
        .map(str::trim)
        .any(|t| t == "*" || t.trim_start_matches("W/") == etag)
}

/// The precompressed encodings a client takes (`Accept-Encoding`, q-values
/// honoured: `br;q=0` refuses brotli; `*` stands for what it does not name).
#[derive(Debug, PartialEq, Eq)]
struct Encodings {
    br: bool,
    gzip: bool,
}

impl Encodings {
    fn accepted(headers: &HeaderMap) -> Self {
        let mut named_br = None;
        let mut named_gzip = None;
        let mut star = None;
        for item in crate::headers::list_items(headers, header::ACCEPT_ENCODING) {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .filter_map(|q| q.trim().parse::<f32>().ok())
                .next_back()
                .unwrap_or(1.0);
            let wanted = q > 0.0;
            match name.as_str() {
                "br" => named_br = Some(wanted),
                "gzip" | "x-gzip" => named_gzip = Some(wanted),
                "*" => star = Some(wanted),
                _ => {}
            }
        }
        let star = star.unwrap_or(false);
        Self {
            br: named_br.unwrap_or(star),
            gzip: named_gzip.unwrap_or(star),
        }
    }
}

/// Whether a file belongs in a listing (see [`Site::listing`]).
fn listed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    !name.starts_with('.')
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-".contains(&b))
        // Compressed copies (the browser asks for the plain path) and the
        // bundle's TypeScript declarations are nothing a page loads.
        && ![".br", ".gz", ".d.ts"].iter().any(|ext| name.ends_with(ext))
        && classify(path) == Area::Static
}

fn list(root: &Path, dir: &Path, depth: usize, out: &mut Listing) -> io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if depth == 0 && missing(&e) => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let meta = std::fs::metadata(entry.path())?;
        let Ok(relative) = entry.path().strip_prefix(root).map(Path::to_path_buf) else {
            continue;
        };
        let path = format!("/{}", relative.to_string_lossy().replace('\\', "/"));
        if meta.is_dir() {
            if depth < MAX_DEPTH && !path.contains("/.") {
                list(root, &entry.path(), depth + 1, out)?;
            }
        } else if listed(&path) {
            out.push((path, meta.len(), meta.modified().ok()));
        }
    }
    Ok(())
}

/// A short fingerprint of a whole listing's content (the service worker's
/// version).
pub fn fingerprint(site: &Site, listing: &Listing) -> io::Result<String> {
    let mut hash = Sha256::new();
    for (path, ..) in listing {
        let content = site.read(path)?.unwrap_or_default();
        hash.update(path.as_bytes());
        hash.update((content.len() as u64).to_le_bytes());
        hash.update(&content);
    }
    Ok(hex::encode(&hash.finalize()[..8]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(accept: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(accept).expect("header"),
        );
        h
    }

    #[test]
    fn encodings_honour_q_values_and_the_star() {
        let enc = |a| Encodings::accepted(&headers(a));
        assert_eq!(
            enc("gzip, deflate, br, zstd"),
            Encodings {
                br: true,
                gzip: true
            }
        );
        assert_eq!(
            enc("gzip"),
            Encodings {
                br: false,
                gzip: true
            }
        );
        assert_eq!(
            enc("br;q=0, gzip;q=0.5"),
            Encodings {
                br: false,
                gzip: true
            }
        );
        assert_eq!(
            enc("*"),
            Encodings {
                br: true,
                gzip: true
            }
        );
        assert_eq!(
            enc("*;q=0, br"),
            Encodings {
                br: true,
                gzip: false
            }
        );
        assert_eq!(
            enc("identity"),
            Encodings {
                br: false,
                gzip: false
            }
        );
        assert_eq!(
            Encodings::accepted(&HeaderMap::new()),
            Encodings {
                br: false,
                gzip: false
            }
        );
    }

    #[test]
    fn hashed_names_are_recognised() {
        assert!(is_hashed("/pkg/leitstand.0123456789abcdef0123.wasm"));
        assert!(is_hashed("/pkg/leitstand.0123456789abcdef.wasm.br"));
        assert!(!is_hashed(
            "/pkg/split_alerts_section_8055091051457267910.wasm"
        ));
        assert!(!is_hashed("/pkg/chunk_100.wasm"));
        assert!(!is_hashed("/pkg/leitstand.wasm"));
        assert!(!is_hashed("/pkg/leitstand_bg.wasm"));
        assert!(!is_hashed("/icons/icon-192.png"));
        assert!(!is_hashed("/pkg/deadbeef.js"));
    }

    #[test]
    fn if_none_match_compares_weak_and_listed_tags() {
        assert!(matches_etag("\"a\"", "\"a\""));
        assert!(matches_etag("\"x\", W/\"a\"", "\"a\""));
        assert!(matches_etag("*", "\"a\""));
        assert!(!matches_etag("\"b\"", "\"a\""));
    }

    #[test]
    fn listings_leave_out_copies_declarations_and_odd_names() {
        assert!(listed("/pkg/leitstand.wasm"));
        assert!(listed("/icons/icon-192.png"));
        assert!(!listed("/pkg/leitstand.wasm.br"));
        assert!(!listed("/pkg/leitstand.d.ts"));
        assert!(!listed("/pkg/with space.js"));
        assert!(!listed("/settings.html"));
        assert!(!listed("/pkg/.hidden"));
    }
}
