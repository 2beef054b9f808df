//! How a page fetches its WebAssembly: after it has been painted.
//!
//! Leptos' own `<HydrationScripts>` puts preload hints for the bundle in the
//! head, and the server integration adds one for each WebAssembly chunk of a
//! lazy page. The browser starts those downloads while the page is still
//! being parsed, so they compete with the style sheet for the first paint
//! on a slow link, and a lab measurement that simulates one (Lighthouse)
//! counts the whole bundle as needed for the largest paint. The page is
//! complete without the WebAssembly — server-rendered, links and plain
//! forms work — so nothing in the head asks for it.
//!
//! Instead, [`Boot`] ends the body with one module script, `/boot.js`
//! (public/boot.js). Its data attributes name the bundle and the chunks the
//! page's lazy route needs; it waits for the first paint, then starts the
//! downloads (the chunks a few per task, each request handed to the split
//! loader when it asks for that chunk), and hydrates when the bundle is in.
//! The chunk list is read when the body has been rendered: the route's lazy
//! view registers its chunks' key while the router renders, which comes
//! before this element in the document.
//!
//! Server-side only: the component renders after `<App/>` in the shell, so
//! it is not part of what hydrates.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use leptos::prelude::*;

/// The split loader's file name when file hashing is off (cargo-leptos).
const SPLIT_LOADER: &str = "__wasm_split.______________________.js";

/// Lazy function → the chunks it needs.
type Manifest = HashMap<String, Vec<String>>;

/// The lazy functions' chunks (`__wasm_split_manifest.json` of the site
/// root), read once per site root; empty for a build without `--split`.
fn manifest(options: &LeptosOptions) -> Arc<Manifest> {
    static READ: Mutex<Vec<(PathBuf, Arc<Manifest>)>> = Mutex::new(Vec::new());
    let path = PathBuf::from(options.site_root.as_ref())
        .join(options.site_pkg_dir.as_ref())
        .join("__wasm_split_manifest.json");
    let mut read = READ.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, manifest)) = read.iter().find(|(p, _)| *p == path) {
        return Arc::clone(manifest);
    }
    let manifest = match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).unwrap_or_else(|e| {
            tracing::error!(path = %path.display(), error = %e, "unreadable split manifest; lazy pages fetch their code when they hydrate");
            HashMap::new()
        }),
        Err(_) => HashMap::new(),
    };
    let manifest = Arc::new(manifest);
    read.push((path, Arc::clone(&manifest)));
    manifest
}

/// The chunks (file stems, sorted, without duplicates) for the lazy
/// functions the render used.
pub fn chunks_for<'a>(manifest: &Manifest, keys: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut chunks: Vec<String> = keys
        .into_iter()
        .filter_map(|key| manifest.get(key))
        .flatten()
        .cloned()
        .collect();
    chunks.sort();
    chunks.dedup();
    chunks
}

/// The module script that loads and starts the WebAssembly after the first
/// paint. Place it after `<App/>`, inside `<body>`.
#[component]
pub fn Boot(options: LeptosOptions) -> impl IntoView {
    let pkg = format!("/{}", options.site_pkg_dir);
    let name = options.output_name.to_string();
    // What cargo-leptos names the bundle (leptos' HydrationScripts does the
    // same): `<name>.wasm` when it set LEPTOS_OUTPUT_NAME for the build,
    // else wasm-bindgen's `<name>_bg.wasm`.
    let wasm = if option_env!("LEPTOS_OUTPUT_NAME").is_some() {
        name.clone()
    } else {
        format!("{name}_bg")
    };
    let prefetches = use_context::<leptos::PrefetchLazyFn>();
    let manifest = manifest(&options);
    // Evaluated when the element is rendered, after the router.
    let chunks = move || {
        let keys = prefetches
            .as_ref()
            .and_then(|p| {
                p.0.try_with_value(|set| set.iter().copied().collect::<Vec<_>>())
            })
            .unwrap_or_default();
        chunks_for(&manifest, keys).join(" ")
    };
    view! {
        <script
            type="module"
            id="leitstand-boot"
            src="/boot.js"
            data-pkg=pkg
            data-js=name
            data-wasm=wasm
            data-split=SPLIT_LOADER
            data-chunks=chunks
        ></script>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_the_union_of_the_keys_chunks() {
        let manifest: Manifest = serde_json::from_str(
            r#"{"events_section_1": ["split_events", "chunk_3", "chunk_1"],
                "backups_section_2": ["split_backups", "chunk_1"]}"#,
        )
        .expect("manifest");
        assert_eq!(
            chunks_for(&manifest, ["events_section_1", "backups_section_2"]),
            ["chunk_1", "chunk_3", "split_backups", "split_events"]
        );
        assert_eq!(chunks_for(&manifest, ["unknown"]), Vec::<String>::new());
        assert_eq!(chunks_for(&manifest, []), Vec::<String>::new());
    }
}
