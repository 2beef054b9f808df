//! Hydrates the server-rendered Leitstand UI in the browser.

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Asynchronously, so that the page can hydrate in slices
    // (`app::components::deferred`); the body is marked once all of it is
    // interactive (tests and users of assistive tech can rely on it).
    wasm_bindgen_futures::spawn_local(async {
        let body = leptos::tachys::dom::body();
        let mounted = leptos::mount::hydrate_from_async(body.clone(), app::App).await;
        mounted.forget();
        // Elements whose hydration waits for a task of its own.
        app::components::deferred::settled().await;
        let _ = body.set_attribute("data-hydrated", "");
    });
}
