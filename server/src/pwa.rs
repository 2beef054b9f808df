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
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::site::{Listing, Site};

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

struct Built {
    root: PathBuf,
    listing: Listing,
    script: Arc<str>,
}

static LAST: Mutex<Option<Built>> = Mutex::new(None);

/// `GET /sw.js`: the worker script of the site's build.
pub async fn service_worker(site: Arc<Site>) -> Response {
    match tokio::task::spawn_blocking(move || script(&site)).await {
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
fn script(site: &Site) -> io::Result<Option<Arc<str>>> {
    let listing = site.listing()?;
    if !listing.iter().any(|(path, ..)| path == SERVICE_WORKER) {
        return Ok(None);
    }
    let root = site.leptos_root();
    let mut last = LAST.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(built) = last.as_ref()
        && built.root == root
        && built.listing == listing
    {
        return Ok(Some(built.script.clone()));
    }
    let script: Arc<str> = build(site, &listing)?.into();
    *last = Some(Built {
        root: root.to_owned(),
        listing,
        script: script.clone(),
    });
    Ok(Some(script))
}

fn build(site: &Site, listing: &Listing) -> io::Result<String> {
    let version = crate::site::fingerprint(site, listing)?;
    let assets: Vec<&str> = listing
        .iter()
        .map(|(path, ..)| path.as_str())
        .filter(|path| *path != SERVICE_WORKER)
        .collect();
    let template = site
        .read(SERVICE_WORKER)?
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default();
    if !template.contains(PLACEHOLDER) {
        tracing::warn!("sw.js has no build placeholder; served without version or files");
    }
    let filled = serde_json::json!({ "version": version, "assets": assets }).to_string();
    Ok(template.replacen(PLACEHOLDER, &filled, 1))
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

        let script = script(&Site::disk(dir.path()))
            .expect("read")
            .expect("sw.js present");

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
        let before = script(&Site::disk(dir.path()))
            .expect("read")
            .expect("script");

        std::fs::write(dir.path().join("pkg/leitstand.css"), "body{margin:0}").expect("write");
        let after = script(&Site::disk(dir.path()))
            .expect("read")
            .expect("script");

        assert_ne!(before, after);
        assert!(after.contains("/pkg/leitstand.css"));
    }

    #[test]
    fn a_site_without_a_worker_has_none() {
        let dir = site(&[("pkg/leitstand.css", "body{}")]);
        assert!(script(&Site::disk(dir.path())).expect("read").is_none());
    }
}
