//! The installable web app's server side: the service worker script with
//! this build filled in, and the offline page's policy.
//!
//! The site's `sw.js` holds the worker's logic with a placeholder; `/sw.js`
//! answers it with the build's version (a hash of every file of the site,
//! the script itself included) and the list of files to keep for offline
//! use. Any change to the build therefore changes the script's bytes, which
//! is how a browser notices an update. Both are read from the files the
//! server actually serves, so this needs no build step and holds alike for
//! `cargo leptos watch`, a release build, and any later way of shipping the
//! site. The result is kept until a file's size or modification time changes.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::security::paths::{Area, classify};

/// The service worker's path; its scope is the whole site.
pub const SERVICE_WORKER: &str = "/sw.js";

/// What `sw.js` holds until the server fills it in.
const PLACEHOLDER: &str = r#"{ version: "unbuilt", assets: [] }"#;

/// The worker's own policy (a worker obeys the policy its script came
/// with): it fetches from this origin only.
const WORKER_CSP: &str = "default-src 'self'; object-src 'none'; frame-ancestors 'none'";

/// The offline page runs its own script and shows a saved dashboard, whose
/// charts carry style attributes.
pub const OFFLINE_PAGE_CSP: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; \
     base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// Directory levels searched below the site root.
const MAX_DEPTH: usize = 4;

/// A file of the site as the cache saw it: URL path, size, modification time.
type Listing = Vec<(String, u64, Option<SystemTime>)>;

struct Built {
    root: PathBuf,
    listing: Listing,
    script: Arc<str>,
}

static LAST: Mutex<Option<Built>> = Mutex::new(None);

/// `GET /sw.js`: the worker script of the build in `site_root`.
pub async fn service_worker(site_root: &Path) -> Response {
    let root = site_root.to_owned();
    match tokio::task::spawn_blocking(move || script(&root)).await {
        Ok(Ok(Some(script))) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/javascript; charset=utf-8"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
                (
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(WORKER_CSP),
                ),
            ],
            script.to_string(),
        )
            .into_response(),
        Ok(Ok(None)) => (StatusCode::NOT_FOUND, "not found").into_response(),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "cannot read the site for the service worker");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "service worker task failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Gives the offline page its policy in place of the static files' default.
pub fn offline_page(mut res: Response) -> Response {
    if res.status().is_success() {
        res.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(OFFLINE_PAGE_CSP),
        );
    }
    res
}

/// The filled-in script, or `None` when the site has no `sw.js`.
fn script(root: &Path) -> io::Result<Option<Arc<str>>> {
    let mut listing = Vec::new();
    list(root, root, 0, &mut listing)?;
    listing.sort();
    if !listing.iter().any(|(path, ..)| path == SERVICE_WORKER) {
        return Ok(None);
    }
    let mut last = LAST.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(built) = last.as_ref()
        && built.root == root
        && built.listing == listing
    {
        return Ok(Some(built.script.clone()));
    }
    let script: Arc<str> = build(root, &listing)?.into();
    *last = Some(Built {
        root: root.to_owned(),
        listing,
        script: script.clone(),
    });
    Ok(Some(script))
}

fn build(root: &Path, listing: &Listing) -> io::Result<String> {
    let mut hash = Sha256::new();
    for (path, ..) in listing {
        let content = std::fs::read(root.join(path.trim_start_matches('/')))?;
        hash.update(path.as_bytes());
        hash.update((content.len() as u64).to_le_bytes());
        hash.update(&content);
    }
    let version = hex::encode(&hash.finalize()[..8]);
    let assets: Vec<&str> = listing
        .iter()
        .map(|(path, ..)| path.as_str())
        .filter(|path| *path != SERVICE_WORKER)
        .collect();
    let template = std::fs::read_to_string(root.join("sw.js"))?;
    if !template.contains(PLACEHOLDER) {
        tracing::warn!("sw.js has no build placeholder; served without version or files");
    }
    let filled = serde_json::json!({ "version": version, "assets": assets }).to_string();
    Ok(template.replacen(PLACEHOLDER, &filled, 1))
}

/// Collects the files a browser may fetch without a session (what the
/// static area serves), without names a URL would have to encode.
fn list(root: &Path, dir: &Path, depth: usize, out: &mut Listing) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with('.')
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        {
            continue;
        }
        let meta = std::fs::metadata(entry.path())?;
        if meta.is_dir() {
            if depth < MAX_DEPTH {
                list(root, &entry.path(), depth + 1, out)?;
            }
            continue;
        }
        // Compressed copies (the browser asks for the plain path) and the
        // bundle's TypeScript declarations are nothing a page loads.
        if [".br", ".gz", ".d.ts"]
            .iter()
            .any(|ext| name.ends_with(ext))
        {
            continue;
        }
        let Ok(relative) = entry.path().strip_prefix(root).map(Path::to_path_buf) else {
            continue;
        };
        let path = format!("/{}", relative.to_string_lossy().replace('\\', "/"));
        if classify(&path) == Area::Static {
            out.push((path, meta.len(), meta.modified().ok()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("dir");
        for (path, content) in files {
            let file = dir.path().join(path);
            if let Some(parent) = file.parent() {
                std::fs::create_dir_all(parent).expect("parent");
            }
            std::fs::write(file, content).expect("file");
        }
        dir
    }

    const TEMPLATE: &str = r#"const BUILD = { version: "unbuilt", assets: [] };"#;

    #[test]
    fn the_script_lists_static_files_but_not_itself_compressed_copies_or_pages() {
        let dir = site(&[
            ("sw.js", TEMPLATE),
            ("pkg/leitstand.wasm", "wasm"),
            ("pkg/leitstand.wasm.br", "br"),
            ("pkg/leitstand.d.ts", "types"),
            ("icons/icon-192.png", "png"),
            ("offline.html", "<p>"),
            ("settings.html", "not a static path"),
            ("pkg/with space.js", "odd name"),
        ]);

        let script = script(dir.path()).expect("read").expect("sw.js present");

        let json = script
            .trim_start_matches("const BUILD = ")
            .trim_end_matches(';');
        let build: serde_json::Value = serde_json::from_str(json).expect("json");
        assert_eq!(
            build["assets"],
            serde_json::json!([
                "/icons/icon-192.png",
                "/offline.html",
                "/pkg/leitstand.wasm"
            ])
        );
        assert_eq!(build["version"].as_str().map(str::len), Some(16));
    }

    #[test]
    fn any_changed_file_changes_the_version() {
        let dir = site(&[("sw.js", TEMPLATE), ("pkg/leitstand.css", "body{}")]);
        let before = script(dir.path()).expect("read").expect("script");

        std::fs::write(dir.path().join("pkg/leitstand.css"), "body{margin:0}").expect("write");
        let after = script(dir.path()).expect("read").expect("script");

        assert_ne!(before, after);
        assert!(after.contains("/pkg/leitstand.css"));
    }

    #[test]
    fn a_site_without_a_worker_has_none() {
        let dir = site(&[("pkg/leitstand.css", "body{}")]);
        assert!(script(dir.path()).expect("read").is_none());
    }
}
