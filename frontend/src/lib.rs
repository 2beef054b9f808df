//! Hydrates the server-rendered Leitstand UI in the browser.

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Asynchronously, so that the page can hydrate in slices
    // (`app::components::deferred`).
    wasm_bindgen_futures::spawn_local(hydrate_body());
}

/// Leptos' `hydrate_from_async`, except that hydration lasts until the
/// elements left for a later task have hydrated too
/// (`app::components::deferred::settled`): Leptos hands a resource its
/// server-sent data only while hydration lasts, and one created in a later
/// slice needs it. The body is marked once all of it is interactive (tests
/// and users of assistive tech can rely on it).
#[cfg(target_arch = "wasm32")]
async fn hydrate_body() {
    use std::sync::Arc;

    use leptos::IntoView;
    use leptos::reactive::computed::ScopedFuture;
    use leptos::reactive::owner::Owner;
    use leptos::tachys::hydration::Cursor;
    use leptos::tachys::view::{PositionState, RenderHtml};
    use wasm_bindgen::JsCast;

    // Err only means the executor is already set, which is what we want.
    let _ = any_spawner::Executor::init_wasm_bindgen();
    let body = leptos::tachys::dom::body();
    let root: leptos::tachys::renderer::types::Element = body.clone().unchecked_into();
    let owner = Owner::new_root(Some(Arc::new(
        hydration_context::HydrateSharedContext::new(),
    )));
    let state = owner
        .with(move || {
            ScopedFuture::new(async move {
                app::App()
                    .into_view()
                    .hydrate_async(&Cursor::new(root), &PositionState::default())
                    .await
            })
        })
        .await;
    app::components::deferred::settled().await;
    if let Some(context) = owner.shared_context() {
        context.hydration_complete();
    }
    // The app lives as long as the page: its owner and view are never
    // cleaned up.
    std::mem::forget(state);
    std::mem::forget(owner);
    let _ = body.set_attribute("data-hydrated", "");
}
