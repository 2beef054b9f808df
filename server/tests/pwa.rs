//! The installable app's files: served without a session, with the right
//! types, and a service worker that names this build and changes with it.

use std::path::{Path, PathBuf};

use reqwest::header;

use crate::helpers::{TestApp, raw_client, spawn_app_with};

/// A site root like cargo-leptos writes it: the repository's `public/`
/// files plus a stand-in for the built bundle.
fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("dir");
    let public = Path::new(env!("CARGO_MANIFEST_DIR")).join("../public");
    copy_dir(&public, dir.path());
    let pkg = dir.path().join("pkg");
    std::fs::create_dir_all(&pkg).expect("pkg");
    for (name, content) in [
        ("leitstand.css", "body{}"),
        ("leitstand.js", "export default 1;"),
        ("leitstand.wasm", "\0asm"),
        ("leitstand.wasm.br", "compressed"),
    ] {
        std::fs::write(pkg.join(name), content).expect("bundle file");
    }
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("dir");
    for entry in std::fs::read_dir(from).expect("read public") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

async fn app_serving(root: PathBuf) -> TestApp {
    spawn_app_with(move |s| s.http.site_root = root).await
}

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    raw_client()
        .get(app.url(path))
        .send()
        .await
        .expect("request")
}

fn content_type(res: &reqwest::Response) -> String {
    res.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The `BUILD` object the server wrote into the worker script.
fn build_of(script: &str) -> serde_json::Value {
    let line = script
        .lines()
        .find_map(|l| l.strip_prefix("const BUILD = "))
        .expect("a BUILD line");
    serde_json::from_str(line.trim_end_matches(';')).expect("BUILD is JSON")
}

#[tokio::test]
async fn the_service_worker_is_javascript_naming_this_build_without_a_session() {
    let site = site();
    let app = app_serving(site.path().to_path_buf()).await;

    let res = get(&app, "/sw.js").await;

    assert_eq!(res.status(), 200);
    assert!(content_type(&res).starts_with("text/javascript"));
    assert_eq!(res.headers()[header::CACHE_CONTROL], "no-cache");
    let csp = res.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("csp")
        .to_owned();
    assert!(
        csp.starts_with("default-src 'self'") && !csp.contains("sandbox"),
        "the worker may fetch from its origin: {csp}"
    );
    let build = build_of(&res.text().await.expect("body"));
    assert_eq!(build["version"].as_str().map(str::len), Some(16));
    let assets: Vec<&str> = build["assets"]
        .as_array()
        .expect("assets")
        .iter()
        .filter_map(|a| a.as_str())
        .collect();
    for needed in [
        "/pkg/leitstand.css",
        "/pkg/leitstand.js",
        "/pkg/leitstand.wasm",
        "/offline.html",
        "/offline.js",
        "/pwa.js",
        "/manifest.webmanifest",
        "/icons/icon-192.png",
        "/icons/icon-maskable-512.png",
    ] {
        assert!(assets.contains(&needed), "{needed} in {assets:?}");
    }
    assert!(!assets.contains(&"/sw.js"));
    assert!(!assets.iter().any(|a| a.ends_with(".br")));
    // Every listed file is reachable without a session: one that is not
    // would make the browser refuse to install the worker.
    for asset in &assets {
        assert_eq!(get(&app, asset).await.status(), 200, "{asset}");
    }
}

#[tokio::test]
async fn a_new_build_is_a_new_service_worker_script() {
    let site = site();
    let app = app_serving(site.path().to_path_buf()).await;
    let before = build_of(&get(&app, "/sw.js").await.text().await.expect("body"));

    std::fs::write(site.path().join("pkg/leitstand.wasm"), "\0asm, rebuilt").expect("write");
    let after = build_of(&get(&app, "/sw.js").await.text().await.expect("body"));

    assert_ne!(before["version"], after["version"]);
    assert_eq!(before["assets"], after["assets"]);
}

#[tokio::test]
async fn manifest_icons_and_offline_page_are_public_with_their_types() {
    let site = site();
    let app = app_serving(site.path().to_path_buf()).await;

    let manifest = get(&app, "/manifest.webmanifest").await;
    assert_eq!(manifest.status(), 200);
    assert_eq!(content_type(&manifest), "application/manifest+json");
    let manifest: serde_json::Value = manifest.json().await.expect("manifest is JSON");
    assert_eq!(manifest["name"], "Leitstand");
    assert_eq!(manifest["start_url"], "/");
    assert_eq!(manifest["display"], "standalone");
    for icon in manifest["icons"].as_array().expect("icons") {
        let src = icon["src"].as_str().expect("src");
        let res = get(&app, src).await;
        assert_eq!(res.status(), 200, "{src}");
        assert_eq!(content_type(&res), "image/png", "{src}");
    }

    let offline = get(&app, "/offline.html").await;
    assert_eq!(offline.status(), 200);
    assert!(content_type(&offline).starts_with("text/html"));
    let csp = offline.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("csp")
        .to_owned();
    assert!(csp.contains("script-src 'self'") && !csp.contains("sandbox"));
    assert!(
        !csp.contains("script-src 'self' 'unsafe-inline'"),
        "no inline scripts on the offline page: {csp}"
    );

    // Pages still need a session.
    assert_eq!(get(&app, "/").await.status(), 303);
}
