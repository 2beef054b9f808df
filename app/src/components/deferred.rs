//! Hydration in slices: a view wrapped in [`Deferred`] hydrates in a later
//! task of the browser's event loop than what comes before it.
//!
//! The first load hydrates the whole page in one go: the WebAssembly
//! functions run for the first time then, and V8 compiles each one on the
//! main thread at its first call, so one task held the main thread for
//! about 140 ms (570 ms at the 4× slowdown of a mid-range phone), and input
//! waited for it. The page is hydrated asynchronously (the frontend crate's
//! hydration root); where it meets a `Deferred`, it hands the main
//! thread back to the browser (a zero-delay timer) before it goes on, so
//! input, painting and the browser's own work run in between.
//!
//! Nothing else changes: the server renders the view as it is, building it
//! after a navigation in the browser is immediate, and a `Deferred` inside a
//! part that hydrates synchronously hydrates at once. Much does: the router
//! hydrates a route's page in one synchronous pass (after it has loaded the
//! route's code), and so do `<Suspense>` and `<Transition>`. So `Deferred`
//! slices the frame around the page; inside a page, [`hydrate_later`]
//! slices at elements, which works in a synchronous pass too.
//!
//! Each `Deferred` here is the last child of its element. One placed before
//! siblings (around the header's theme and language switches, in an
//! experiment) made the release build panic while hydrating: tachys expected
//! a marker node and found another. Not diagnosed; a debug build's hydration
//! error names the element.

use std::cell::RefCell;
use std::rc::Rc;

use leptos::prelude::{Owner, View};
use leptos::tachys::html::attribute::Attribute;
use leptos::tachys::html::attribute::any_attribute::AnyAttribute;
use leptos::tachys::html::element::{ElementState, ElementType, HtmlElement};
use leptos::tachys::hydration::Cursor;
use leptos::tachys::renderer::types::{Element, Node};
use leptos::tachys::renderer::{CastFrom, Rndr};
use leptos::tachys::ssr::StreamBuilder;
use leptos::tachys::view::add_attr::AddAnyAttr;
use leptos::tachys::view::{Mountable, Position, PositionState, Render, RenderHtml};

/// The server's half of `RenderHtml` for a wrapper around a view: it
/// renders as the view it wraps (`$wrap(view)`); only hydration differs.
macro_rules! render_html_as_inner {
    ($wrap:ident) => {
        fn dry_resolve(&mut self) {
            self.0.dry_resolve()
        }

        async fn resolve(self) -> Self::AsyncOutput {
            $wrap(self.0.resolve().await)
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

        fn into_owned(self) -> Self::Owned {
            $wrap(self.0.into_owned())
        }
    };
}

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

    render_html_as_inner!(Deferred);

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
}

/// Resolves in a later task of the event loop.
async fn yield_to_browser() {
    #[cfg(feature = "hydrate")]
    gloo_timers::future::TimeoutFuture::new(0).await;
}

/// An element whose hydration waits for a later task even where hydration
/// is synchronous.
///
/// A page is hydrated by the router in one synchronous pass (a route's view
/// sits in a `Suspend`), and so is everything inside a `<Suspense>` or
/// `<Transition>`, so a [`Deferred`] there hydrates at once. An element can
/// do better, because where it begins and ends in the document is known:
/// the synchronous pass takes the element as the cursor finds it and moves
/// on past it, and the element with everything in it hydrates in a task of
/// its own (a zero-delay timer) against the same DOM node, under the same
/// reactive owner. Until then it is the server's HTML: visible, links and
/// forms working, its own event handlers not yet attached.
/// [`settled`] resolves once every such element has hydrated; the
/// frontend's hydration root waits for it before it ends hydration (while
/// Leptos hands resources their server-sent data), so a resource created
/// in a later slice gets its data too.
/// Made by [`hydrate_later`].
pub struct HydrateLater<E, At, Ch>(HtmlElement<E, At, Ch>);

/// `view` (an element) hydrates in a task of its own: [`HydrateLater`].
pub fn hydrate_later<E, At, Ch>(view: View<HtmlElement<E, At, Ch>>) -> HydrateLater<E, At, Ch> {
    HydrateLater(view.into_inner())
}

thread_local! {
    /// Elements whose hydration is still to come.
    static PENDING: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    /// Who waits in [`settled`], woken when `PENDING` reaches zero.
    static WAITING: RefCell<Vec<std::task::Waker>> = const { RefCell::new(Vec::new()) };
}

/// Resolves when no [`HydrateLater`] element is waiting to hydrate.
pub async fn settled() {
    std::future::poll_fn(|cx| {
        if PENDING.with(|p| p.get()) == 0 {
            std::task::Poll::Ready(())
        } else {
            WAITING.with(|w| w.borrow_mut().push(cx.waker().clone()));
            std::task::Poll::Pending
        }
    })
    .await
}

/// One [`HydrateLater`] element is done (hydrated, or gone before its turn).
fn one_settled() {
    let left = PENDING.with(|p| {
        p.set(p.get().saturating_sub(1));
        p.get()
    });
    if left == 0 {
        for waker in WAITING.with(|w| std::mem::take(&mut *w.borrow_mut())) {
            waker.wake();
        }
    }
}

/// The state of a [`HydrateLater`]: the element's own until it has
/// hydrated; the element itself is known from the start, so mounting and
/// unmounting never wait.
pub struct HydrateLaterState<S> {
    el: Element,
    inner: Rc<RefCell<Later<S>>>,
}

/// A rebuild that arrived before the element had hydrated.
type PendingRebuild<S> = Box<dyn FnOnce(&mut S)>;

enum Later<S> {
    /// Hydration is still to come; a rebuild meanwhile is applied after it.
    Waiting(Option<PendingRebuild<S>>),
    Ready(S),
}

impl<E, At, Ch> Render for HydrateLater<E, At, Ch>
where
    E: ElementType + 'static,
    At: Attribute + 'static,
    Ch: Render + 'static,
{
    type State = HydrateLaterState<ElementState<At::State, Ch::State>>;

    fn build(self) -> Self::State {
        self.0.build().into_later()
    }

    fn rebuild(self, state: &mut Self::State) {
        let mut inner = state.inner.borrow_mut();
        match &mut *inner {
            Later::Ready(s) => self.0.rebuild(s),
            Later::Waiting(next) => {
                let view = self.0;
                *next = Some(Box::new(move |s| view.rebuild(s)));
            }
        }
    }
}

impl<E, At, Ch> AddAnyAttr for HydrateLater<E, At, Ch>
where
    HtmlElement<E, At, Ch>: AddAnyAttr,
{
    type Output<SomeNewAttr: Attribute> =
        <HtmlElement<E, At, Ch> as AddAnyAttr>::Output<SomeNewAttr>;

    fn add_any_attr<NewAttr: Attribute>(self, attr: NewAttr) -> Self::Output<NewAttr>
    where
        Self::Output<NewAttr>: RenderHtml,
    {
        self.0.add_any_attr(attr)
    }
}

impl<E, At, Ch> RenderHtml for HydrateLater<E, At, Ch>
where
    E: ElementType + Send + 'static,
    At: Attribute + Send + 'static,
    Ch: RenderHtml + Send + 'static,
{
    type AsyncOutput = HydrateLater<E, At::AsyncOutput, Ch::AsyncOutput>;
    type Owned = HydrateLater<E, At::CloneableOwned, Ch::Owned>;

    const MIN_LENGTH: usize = <HtmlElement<E, At, Ch> as RenderHtml>::MIN_LENGTH;

    render_html_as_inner!(HydrateLater);

    fn hydrate<const FROM_SERVER: bool>(
        self,
        cursor: &Cursor,
        position: &PositionState,
    ) -> Self::State {
        // Where the element's own hydration would take it from, and leave
        // the cursor and position as it would.
        match position.get() {
            Position::FirstChild => cursor.child(),
            Position::Current => {}
            _ => cursor.sibling(),
        }
        let Some(el) = Element::cast_from(cursor.current()) else {
            // Not what the server rendered: hydrate in place, which reports
            // the mismatch as any hydration does.
            position.set(Position::Current);
            return self.0.hydrate::<FROM_SERVER>(cursor, position).into_later();
        };
        position.set(Position::NextChild);

        let inner = Rc::new(RefCell::new(Later::Waiting(None)));
        let owner = Owner::current();
        let error_hook = leptos::error::get_error_hook();
        let view = self.0;
        let later = Rc::clone(&inner);
        let target = el.clone();
        PENDING.with(|p| p.set(p.get() + 1));
        leptos::task::spawn_local(async move {
            yield_to_browser().await;
            // Gone before its turn (the page was left): nothing to hydrate.
            if target.is_connected() {
                let _hook = error_hook.map(leptos::error::set_error_hook);
                let hydrate = move || {
                    let cursor = Cursor::new(target);
                    let position = PositionState::new(Position::Current);
                    view.hydrate::<FROM_SERVER>(&cursor, &position)
                };
                let mut state = match &owner {
                    Some(owner) => owner.with(hydrate),
                    None => hydrate(),
                };
                let next = match std::mem::replace(&mut *later.borrow_mut(), Later::Waiting(None)) {
                    Later::Waiting(next) => next,
                    Later::Ready(_) => None,
                };
                if let Some(rebuild) = next {
                    rebuild(&mut state);
                }
                *later.borrow_mut() = Later::Ready(state);
            }
            one_settled();
        });
        HydrateLaterState { el, inner }
    }
}

trait IntoLater<S> {
    fn into_later(self) -> HydrateLaterState<S>;
}

impl<At, Ch> IntoLater<ElementState<At, Ch>> for ElementState<At, Ch> {
    fn into_later(self) -> HydrateLaterState<ElementState<At, Ch>> {
        HydrateLaterState {
            el: (*self).clone(),
            inner: Rc::new(RefCell::new(Later::Ready(self))),
        }
    }
}

impl<S: Mountable> Mountable for HydrateLaterState<S> {
    fn unmount(&mut self) {
        Rndr::remove(&self.el);
    }

    fn mount(&mut self, parent: &Element, marker: Option<&Node>) {
        Rndr::insert_node(parent, &self.el, marker);
    }

    fn insert_before_this(&self, child: &mut dyn Mountable) -> bool {
        match Rndr::get_parent(&self.el).and_then(Element::cast_from) {
            Some(parent) => {
                child.mount(&parent, Some(&self.el));
                true
            }
            None => false,
        }
    }

    fn elements(&self) -> Vec<Element> {
        vec![self.el.clone()]
    }
}
