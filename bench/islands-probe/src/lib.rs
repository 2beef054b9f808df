//! The Dashboard's interactive parts as islands, in miniature: what the
//! browser would load if only they hydrated and the rest of the page stayed
//! server-rendered HTML. Each island stands for a kind of part the real page
//! has; the server hands an island its first data as a prop (serialized into
//! the page), and the island asks a server function for fresh data.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Event {
    id: u64,
    service: String,
    kind: String,
    message: String,
    level: String,
    at: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Kpis {
    readiness: f64,
    quality: f64,
    stability: f64,
    usage: u64,
    events: u64,
    errors: u64,
}

/// The figures, fresh from the server (as the Dashboard's refresh).
#[server]
pub async fn figures() -> Result<Kpis, ServerFnError> {
    Err(ServerFnError::new("only the browser side is built"))
}

/// The most recent events (as the live list's first page).
#[server]
pub async fn recent(service: Option<String>) -> Result<Vec<Event>, ServerFnError> {
    let _ = service;
    Err(ServerFnError::new("only the browser side is built"))
}

/// A control with local state (the theme switch, the pause button).
#[island]
fn Toggle() -> impl IntoView {
    let (on, set_on) = signal(false);
    view! {
        <button aria-pressed=move || on.get().to_string() on:click=move |_| set_on.update(|v| *v = !*v)>
            {move || if on.get() { "on" } else { "off" }}
        </button>
    }
}

/// The key figures: server data first, refreshed on demand (the refresh
/// button, the 30-second tick).
#[island]
fn Figures(initial: Kpis) -> impl IntoView {
    let tick = RwSignal::new(0u32);
    let kpis = Resource::new(
        move || tick.get(),
        move |t| {
            let initial = initial.clone();
            async move { if t == 0 { Ok(initial) } else { figures().await } }
        },
    );
    let percent = |v: f64| format!("{:.1} %", v * 100.0);
    view! {
        <button on:click=move |_| tick.update(|t| *t += 1)>"Refresh"</button>
        <Transition fallback=|| view! { <p>"…"</p> }>
            {move || kpis.get().map(|k| match k {
                Ok(k) => view! {
                    <section>
                        <article><h2>"Readiness"</h2><p>{percent(k.readiness)}</p></article>
                        <article><h2>"Quality"</h2><p>{percent(k.quality)}</p></article>
                        <article><h2>"Stability"</h2><p>{percent(k.stability)}</p></article>
                        <article><h2>"Usage"</h2><p>{k.usage}</p><p>{k.events}" events, "{k.errors}" errors"</p></article>
                    </section>
                }.into_any(),
                Err(e) => view! { <p role="alert">{e.to_string()}</p> }.into_any(),
            })}
        </Transition>
    }
}

/// A list that changes while it is open (the live events), with a filter.
#[island]
fn Live(initial: Vec<Event>) -> impl IntoView {
    let events = RwSignal::new(initial);
    let service = RwSignal::new(None::<String>);
    let paused = RwSignal::new(false);
    Effect::new(move |first: Option<()>| {
        let service = service.get();
        if first.is_some() && !paused.get_untracked() {
            leptos::task::spawn_local(async move {
                if let Ok(fresh) = recent(service).await {
                    events.set(fresh);
                }
            });
        }
    });
    view! {
        <select on:change=move |ev| {
            let v = event_target_value(&ev);
            service.set((!v.is_empty()).then_some(v));
        }>
            <option value="">"All services"</option>
            <option value="shop">"shop"</option>
        </select>
        <button on:click=move |_| paused.update(|p| *p = !*p)>{move || if paused.get() { "Resume" } else { "Pause" }}</button>
        <ol>
            <For each=move || events.get() key=|e| e.id let:e>
                <li class=format!("lvl-{}", e.level)>
                    <a href=format!("/events/{}", e.id)>{e.service.clone()}</a>
                    " " {e.kind.clone()} " " {e.message.clone()} <time>{e.at.clone()}</time>
                </li>
            </For>
        </ol>
    }
}

/// The page as the server would render it: static HTML around three islands.
#[component]
pub fn Page(kpis: Kpis, events: Vec<Event>) -> impl IntoView {
    view! {
        <main>
            <h1>"Dashboard"</h1>
            <Toggle />
            <Figures initial=kpis />
            <Live initial=events />
        </main>
    }
}

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    leptos::mount::hydrate_islands();
}
