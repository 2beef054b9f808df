//! The browser side of the live stream: an `EventSource` on `/live/stream`
//! that reconnects with exponential back-off (1, 2, 4 … 30 s) and resumes
//! after the last event it delivered, so events are neither lost nor
//! repeated across reconnects.

use std::cell::RefCell;
use std::rc::Rc;

use chrono::Utc;
use leptos::prelude::*;
use leptos::server::codee::Decoder;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{EventSource, MessageEvent};

use super::types::EventView;
use super::types::LiveConnection as Connection;

type Handler = Rc<dyn Fn(EventView)>;

struct Conn {
    params: String,
    source: Option<EventSource>,
    last: i64,
    attempt: u32,
    timer: Option<gloo_timers::callback::Timeout>,
    closures: Vec<Closure<dyn FnMut(web_sys::Event)>>,
    dead: bool,
}

/// Streams events after `cursor` matching the query `params` (e.g.
/// `service=shop&level=error`) to `on_event`, until the owner is cleaned up.
pub fn connect(
    params: String,
    cursor: i64,
    connection: RwSignal<Connection>,
    on_event: impl Fn(EventView) + 'static,
) {
    let state = Rc::new(RefCell::new(Conn {
        params,
        source: None,
        last: cursor,
        attempt: 0,
        timer: None,
        closures: Vec::new(),
        dead: false,
    }));
    let handler: Handler = Rc::new(on_event);
    Effect::new({
        let state = state.clone();
        move |_| open(state.clone(), handler.clone(), connection)
    });
    let state = send_wrapper::SendWrapper::new(state);
    on_cleanup(move || {
        let mut s = state.borrow_mut();
        s.dead = true;
        s.timer = None;
        if let Some(source) = s.source.take() {
            source.close();
        }
        s.closures.clear();
    });
}

/// Keeps `now` current (every 5 s) for relative times.
pub fn tick(now: RwSignal<Option<chrono::DateTime<Utc>>>) {
    Effect::new(move |_| now.set(Some(Utc::now())));
    let ticker = gloo_timers::callback::Interval::new(5_000, move || now.set(Some(Utc::now())));
    let ticker = send_wrapper::SendWrapper::new(ticker);
    on_cleanup(move || drop(ticker));
}

fn open(state: Rc<RefCell<Conn>>, handler: Handler, connection: RwSignal<Connection>) {
    let url = {
        let s = state.borrow();
        if s.dead {
            return;
        }
        let mut url = format!("/live/stream?since={}", s.last);
        if !s.params.is_empty() {
            url.push('&');
            url.push_str(&s.params);
        }
        url
    };
    let Ok(source) = EventSource::new(&url) else {
        schedule(state, handler, connection);
        return;
    };
    let on_open = Closure::<dyn FnMut(web_sys::Event)>::new({
        let state = state.clone();
        move |_| {
            state.borrow_mut().attempt = 0;
            connection.set(Connection::Live);
        }
    });
    let on_event = Closure::<dyn FnMut(web_sys::Event)>::new({
        let state = state.clone();
        let handler = handler.clone();
        move |ev: web_sys::Event| {
            let Some(msg) = ev.dyn_ref::<MessageEvent>() else {
                return;
            };
            let Some(text) = msg.data().as_string() else {
                return;
            };
            // The resources' decoder: one copy of it in the WebAssembly.
            let Ok(event) = <crate::resource::Json as Decoder<EventView>>::decode(&text) else {
                return;
            };
            {
                let mut s = state.borrow_mut();
                if event.seq <= s.last {
                    return;
                }
                s.last = event.seq;
            }
            handler(event);
        }
    });
    let on_error = Closure::<dyn FnMut(web_sys::Event)>::new({
        let state = state.clone();
        let handler = handler.clone();
        move |_| {
            // Take over reconnecting from the browser: close, wait, resume.
            let source = state.borrow_mut().source.take();
            if let Some(source) = source {
                source.close();
            }
            schedule(state.clone(), handler.clone(), connection);
        }
    });
    source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    let _ = source.add_event_listener_with_callback("event", on_event.as_ref().unchecked_ref());
    source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    let mut s = state.borrow_mut();
    s.closures = vec![on_open, on_event, on_error];
    s.source = Some(source);
}

fn schedule(state: Rc<RefCell<Conn>>, handler: Handler, connection: RwSignal<Connection>) {
    connection.set(Connection::Reconnecting);
    let delay = {
        let mut s = state.borrow_mut();
        if s.dead {
            return;
        }
        let delay = 1000u32.saturating_mul(1 << s.attempt.min(5)).min(30_000);
        s.attempt += 1;
        delay
    };
    let timer = gloo_timers::callback::Timeout::new(delay, {
        let state = state.clone();
        move || open(state, handler, connection)
    });
    state.borrow_mut().timer = Some(timer);
}
