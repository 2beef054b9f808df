//! Settings → Audit log: who did what, filtered by actor, action and time,
//! newest first with an "older" link.

use leptos::prelude::*;

use super::frame::{SettingsFrame, error_view, loading};
use crate::audit::server_fns::audit_entries;
use crate::audit::types::{AUDIT_PAGE, AuditEntry, AuditQuery};

const RANGES: [(&str, &str); 4] = [
    ("24h", "last 24 hours"),
    ("7d", "last 7 days"),
    ("30d", "last 30 days"),
    ("365d", "last year"),
];

#[component]
pub fn AuditPage() -> impl IntoView {
    let query_map = leptos_router::hooks::use_query_map();
    let query = Memo::new(move |_| {
        let q = query_map.get();
        AuditQuery {
            actor: q.get("actor").unwrap_or_default(),
            action: q.get("action").unwrap_or_default(),
            range: q.get("range").unwrap_or_default(),
            before: q.get("before").and_then(|b| b.parse().ok()),
        }
    });
    let entries = Resource::new(move || query.get(), audit_entries);
    view! {
        <SettingsFrame title="Audit log">
            <section class="panel">
                <AuditFilters query />
            </section>
            <section class="panel">
                <Transition fallback=loading>
                    {move || Suspend::new(async move {
                        match entries.await {
                            Err(e) => error_view(&e).into_any(),
                            Ok(list) => {
                                let older = older_page(&query.get_untracked(), &list);
                                view! {
                                    <AuditTable list />
                                    {older.map(|href| view! {
                                        <nav class="pager"><a class="btn" rel="next" href=href>"Older →"</a></nav>
                                    })}
                                }
                                .into_any()
                            }
                        }
                    })}
                </Transition>
            </section>
        </SettingsFrame>
    }
}

/// The link to the next older page, when this one is full.
fn older_page(q: &AuditQuery, list: &[AuditEntry]) -> Option<String> {
    (list.len() as i64 == AUDIT_PAGE).then(|| {
        format!(
            "/settings/audit?actor={}&action={}&range={}&before={}",
            crate::events::encode(&q.actor),
            crate::events::encode(&q.action),
            q.range,
            list.last().map(|e| e.id).unwrap_or_default()
        )
    })
}

#[component]
fn AuditFilters(query: Memo<AuditQuery>) -> impl IntoView {
    let selected = move |v: &str| {
        let range = query.get().range;
        range == v || (range.is_empty() && v == "30d")
    };
    view! {
        <leptos_router::components::Form method="GET" action="/settings/audit">
            <div class="filters">
                <label>
                    <span>"Actor contains"</span>
                    <input type="text" name="actor" value=move || query.get().actor />
                </label>
                <label>
                    <span>"Action starts with"</span>
                    <input type="text" name="action" placeholder="auth." value=move || query.get().action />
                </label>
                <label>
                    <span>"Time"</span>
                    <select name="range">
                        {RANGES
                            .into_iter()
                            .map(|(v, l)| view! { <option value=v selected=move || selected(v)>{l}</option> })
                            .collect_view()}
                    </select>
                </label>
                <div class="filter-actions"><button class="btn primary" type="submit">"Apply"</button></div>
            </div>
        </leptos_router::components::Form>
    }
}

#[component]
fn AuditTable(list: Vec<AuditEntry>) -> impl IntoView {
    view! {
        <div class="table-wrap" tabindex="0">
            <table data-testid="audit-table">
                <thead>
                    <tr>
                        <th>"Time (UTC)"</th>
                        <th>"Actor"</th>
                        <th>"Action"</th>
                        <th>"Target"</th>
                        <th class="hide-sm">"From"</th>
                        <th class="hide-sm">"Details"</th>
                    </tr>
                </thead>
                <tbody>{list.into_iter().map(|entry| view! { <AuditRow entry /> }).collect_view()}</tbody>
            </table>
        </div>
    }
}

#[component]
fn AuditRow(entry: AuditEntry) -> impl IntoView {
    let details = if entry.details == serde_json::json!({}) {
        String::new()
    } else {
        entry.details.to_string()
    };
    view! {
        <tr>
            <td class="nowrap small mono">{entry.at.get(..19).unwrap_or_default().replace('T', " ")}</td>
            <td>{entry.actor}</td>
            <td class="mono small">{entry.action}</td>
            <td>{entry.target.unwrap_or_default()}</td>
            <td class="hide-sm mono small">{entry.ip.unwrap_or_default()}</td>
            <td class="hide-sm mono small">{details}</td>
        </tr>
    }
}
