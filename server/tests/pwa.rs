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
    spawn_app_with(move |s| s.http.site_root = Some(root)).await
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
        "/boot.js",
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

/// A page asks for no WebAssembly in its head (nothing competes with the
/// style sheet for the first paint); its body ends with the loader, which
/// names the bundle, and the chunks of a lazy route when the build has any.
#[tokio::test]
async fn pages_end_with_the_loader_and_preload_no_webassembly() {
    let site = site();
    let app = app_serving(site.path().to_path_buf()).await;
    // With a user, the sign-in page renders (without one, it sends to setup).
    app.add_user("ops@example.com", app::auth::Role::Admin)
        .await;

    let res = get(&app, "/login").await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.expect("body");
    let (head, body) = html.split_once("</head>").expect("a head");
    assert!(head.contains("/pkg/leitstand.css"), "{head}");
    assert!(!head.contains("preload"), "no preload hints: {head}");
    assert!(
        !head.contains(".wasm") && !head.contains("leitstand.js"),
        "{head}"
    );
    let boot = body
        .split("<script")
        .find(|tag| tag.contains(r#"id="leitstand-boot""#))
        .expect("the loader's script element");
    for attribute in [
        r#"type="module""#,
        r#"src="/boot.js""#,
        r#"data-pkg="/pkg""#,
        r#"data-js="leitstand""#,
        r#"data-wasm="leitstand""#,
        // This site has no split manifest: nothing to fetch beside the bundle.
        r#"data-chunks="""#,
    ] {
        assert!(boot.contains(attribute), "{attribute} in {boot}");
    }
    let main_end = body.find("</main>").expect("the page's main element");
    let boot_at = body.find(r#"id="leitstand-boot""#).expect("the loader");
    assert!(
        boot_at > main_end,
        "the loader comes after the page's content"
    );

    let script = get(&app, "/boot.js").await;
    assert_eq!(script.status(), 200);
    assert!(content_type(&script).starts_with("text/javascript"));
}

/// The files of the site as a browser gets them: the precompressed copy
/// when it takes it, the right type either way, revalidation by tag, and
/// a year's caching only for names that carry a content hash.
#[tokio::test]
async fn static_files_are_negotiated_tagged_and_cached_by_name() {
    let site = site();
    std::fs::write(site.path().join("pkg/leitstand.js.gz"), "gzip copy").expect("gzip copy");
    let chunk = "/pkg/leitstand.0123456789abcdef.wasm";
    std::fs::write(
        site.path().join(chunk.trim_start_matches('/')),
        "\0asm chunk",
    )
    .expect("chunk");
    let app = app_serving(site.path().to_path_buf()).await;
    let client = raw_client();
    let fetch = |path: &'static str, accept: &'static str| {
        let request = client
            .get(app.url(path))
            .header(header::ACCEPT_ENCODING, accept);
        async move { request.send().await.expect("request") }
    };

    // Brotli when taken, with the plain file's type.
    let wasm = fetch("/pkg/leitstand.wasm", "gzip, deflate, br").await;
    assert_eq!(wasm.status(), 200);
    assert_eq!(content_type(&wasm), "application/wasm");
    assert_eq!(wasm.headers()[header::CONTENT_ENCODING], "br");
    assert_eq!(wasm.headers()[header::VARY], "accept-encoding");
    assert_eq!(wasm.headers()[header::CACHE_CONTROL], "no-cache");
    let br_tag = wasm.headers()[header::ETAG]
        .to_str()
        .expect("etag")
        .to_owned();
    assert_eq!(wasm.bytes().await.expect("body").as_ref(), b"compressed");

    // Refused brotli: the plain file, under another tag.
    let plain = fetch("/pkg/leitstand.wasm", "br;q=0, gzip").await;
    assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
    assert_ne!(
        plain.headers()[header::ETAG].to_str().expect("etag"),
        br_tag
    );
    assert_eq!(plain.bytes().await.expect("body").as_ref(), b"\0asm");

    // gzip where there is a gzip copy and no brotli one.
    let js = fetch("/pkg/leitstand.js", "gzip, br").await;
    assert_eq!(js.headers()[header::CONTENT_ENCODING], "gzip");
    assert!(content_type(&js).starts_with("text/javascript"));

    // Revalidation: the current tag gets a 304 without a body.
    let again = client
        .get(app.url("/pkg/leitstand.wasm"))
        .header(header::ACCEPT_ENCODING, "br")
        .header(header::IF_NONE_MATCH, &br_tag)
        .send()
        .await
        .expect("request");
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.expect("body").is_empty());

    // A hashed name never changes: cached for a year.
    let hashed = fetch(chunk, "br").await;
    assert_eq!(hashed.status(), 200);
    assert_eq!(
        hashed.headers()[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );

    // HEAD: the headers of a GET, no body.
    let head = client
        .head(app.url("/pkg/leitstand.css"))
        .send()
        .await
        .expect("request");
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()[header::CONTENT_LENGTH], "6");
    assert!(head.bytes().await.expect("body").is_empty());

    // Missing files and directories are a plain 404.
    for missing in ["/pkg/nothing.wasm", "/pkg/", "/icons/"] {
        let res = fetch(missing, "br").await;
        assert_eq!(res.status(), 404, "{missing}");
    }
}
