//! Hydration in slices: a view wrapped in [`Deferred`] hydrates in a later
//! task of the browser's event loop than what comes before it.
//!
//! The first load hydrates the whole page in one go: the WebAssembly
//! functions run for the first time then, and V8 compiles each one on the
//! main thread at its first call, so one task held the main thread for
//! about 140 ms (570 ms at the 4× slowdown of a mid-range phone), and input
//! waited for it. The page is hydrated asynchronously (`hydrate_from_async`
//! in the frontend crate); where it meets a `Deferred`, it hands the main
//! thread back to the browser (a zero-delay timer) before it goes on, so
//! input, painting and the browser's own work run in between.
//!
//! Nothing else changes: the server renders the view as it is, building it
//! after a navigation in the browser is immediate, and a `Deferred` inside a
//! part that hydrates synchronously (inside `<Suspense>`) hydrates at once.

use leptos::tachys::html::attribute::Attribute;
use leptos::tachys::html::attribute::any_attribute::AnyAttribute;
use leptos::tachys::hydration::Cursor;
use leptos::tachys::ssr::StreamBuilder;
use leptos::tachys::view::add_attr::AddAnyAttr;
use leptos::tachys::view::{Position, PositionState, Render, RenderHtml};

/// `view` hydrates after the browser had the main thread back once.
pub struct Deferred<V>(pub V);

impl<V: Render> Render for Deferred<V> {
    type State = V::State;

    fn build(self) -> Self::State {
        self.0.build()
    }

    fn rebuild(self, state: &mut Self::State) {
        self.0.rebuild(state)
    }
}

impl<V: AddAnyAttr> AddAnyAttr for Deferred<V> {
    type Output<SomeNewAttr: Attribute> = Deferred<V::Output<SomeNewAttr>>;

    fn add_any_attr<NewAttr: Attribute>(self, attr: NewAttr) -> Self::Output<NewAttr>
    where
        Self::Output<NewAttr>: RenderHtml,
    {
        Deferred(self.0.add_any_attr(attr))
    }
}

impl<V: RenderHtml> RenderHtml for Deferred<V> {
    type AsyncOutput = Deferred<V::AsyncOutput>;
    type Owned = Deferred<V::Owned>;

    const MIN_LENGTH: usize = V::MIN_LENGTH;

    fn dry_resolve(&mut self) {
        self.0.dry_resolve()
    }

    async fn resolve(self) -> Self::AsyncOutput {
        Deferred(self.0.resolve().await)
    }

    fn html_len(&self) -> usize {
        self.0.html_len()
    }

    fn to_html_with_buf(
        self,
        buf: &mut String,
        position: &mut Position,
        escape: bool,
        mark_branches: bool,
        extra_attrs: Vec<AnyAttribute>,
    ) {
        self.0
            .to_html_with_buf(buf, position, escape, mark_branches, extra_attrs)
    }

    fn to_html_async_with_buf<const OUT_OF_ORDER: bool>(
        self,
        buf: &mut StreamBuilder,
        position: &mut Position,
        escape: bool,
        mark_branches: bool,
        extra_attrs: Vec<AnyAttribute>,
    ) where
        Self: Sized,
    {
        self.0.to_html_async_with_buf::<OUT_OF_ORDER>(
            buf,
            position,
            escape,
            mark_branches,
            extra_attrs,
        )
    }

    fn hydrate<const FROM_SERVER: bool>(
        self,
        cursor: &Cursor,
        position: &PositionState,
    ) -> Self::State {
        self.0.hydrate::<FROM_SERVER>(cursor, position)
    }

    async fn hydrate_async(self, cursor: &Cursor, position: &PositionState) -> Self::State {
        yield_to_browser().await;
        self.0.hydrate_async(cursor, position).await
    }

    fn into_owned(self) -> Self::Owned {
        Deferred(self.0.into_owned())
    }
}

/// Resolves in a later task of the event loop.
async fn yield_to_browser() {
    #[cfg(feature = "hydrate")]
    gloo_timers::future::TimeoutFuture::new(0).await;
}
