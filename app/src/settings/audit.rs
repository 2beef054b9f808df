//! Settings → Audit log: who did what, filtered by actor, action and time,
//! newest first with an "older" link.

use leptos::prelude::*;

use super::frame::{SettingsFrame, error_view, loading};
use crate::audit::server_fns::audit_entries;
use crate::audit::types::{AUDIT_PAGE, AuditEntry, AuditQuery};
use crate::lang::{Label, t, td_string, use_i18n, use_locale};
use crate::resource::resource;

const RANGES: [(&str, Label); 4] = [
    ("24h", |l| td_string!(l, events.range_24h)),
    ("7d", |l| td_string!(l, events.range_7d)),
    ("30d", |l| td_string!(l, events.range_30d)),
    ("365d", |l| td_string!(l, events.range_365d)),
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
    let entries = resource(move || query.get(), audit_entries);
    let i18n = use_i18n();
    let l = use_locale();
    view! {
        <SettingsFrame title=td_string!(l, settings.audit)>
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
                                        <nav class="pager"><a class="btn" rel="next" href=href>{t!(i18n, events.older)}</a></nav>
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
    let i18n = use_i18n();
    let locale = use_locale();
    let selected = move |v: &str| {
        let range = query.get().range;
        range == v || (range.is_empty() && v == "30d")
    };
    view! {
        <leptos_router::components::Form method="GET" action="/settings/audit">
            <div class="filters">
                <label>
                    <span>{t!(i18n, audit.actor_contains)}</span>
                    <input type="text" name="actor" value=move || query.get().actor />
                </label>
                <label>
                    <span>{t!(i18n, audit.action_starts)}</span>
                    <input type="text" name="action" placeholder="auth." value=move || query.get().action />
                </label>
                <label>
                    <span>{t!(i18n, events.time)}</span>
                    <select name="range">
                        {RANGES
                            .into_iter()
                            .map(|(v, label)| view! { <option value=v selected=move || selected(v)>{label(locale)}</option> })
                            .collect_view()}
                    </select>
                </label>
                <div class="filter-actions"><button class="btn primary" type="submit">{t!(i18n, common.apply)}</button></div>
            </div>
        </leptos_router::components::Form>
    }
}

#[component]
fn AuditTable(list: Vec<AuditEntry>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="table-wrap" tabindex="0">
            <table data-testid="audit-table">
                <thead>
                    <tr>
                        <th>{t!(i18n, events.time_utc)}</th>
                        <th>{t!(i18n, audit.actor)}</th>
                        <th>{t!(i18n, audit.action)}</th>
                        <th>{t!(i18n, audit.target)}</th>
                        <th class="hide-sm">{t!(i18n, audit.from)}</th>
                        <th class="hide-sm">{t!(i18n, audit.details)}</th>
                    </tr>
                </thead>
                <tbody>{list.into_iter().map(|entry| view! { <AuditRow entry /> }).collect_view()}</tbody>
            </table>
        </div>
    }
}

#[component]
fn AuditRow(entry: AuditEntry) -> impl IntoView {
    let l = use_locale();
    let details = if entry.details == serde_json::json!({}) {
        String::new()
    } else {
        entry.details.to_string()
    };
    view! {
        <tr>
            <td class="nowrap small mono">{format!("{}{}", crate::components::format::timestamp(l, &entry.at), entry.at.get(16..19).unwrap_or_default())}</td>
            <td>{entry.actor}</td>
            <td class="mono small">{entry.action}</td>
            <td>{entry.target.unwrap_or_default()}</td>
            <td class="hide-sm mono small">{entry.ip.unwrap_or_default()}</td>
            <td class="hide-sm mono small">{details}</td>
        </tr>
    }
}
