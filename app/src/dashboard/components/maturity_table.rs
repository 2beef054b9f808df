//! Feature maturity per (service, feature): sortable, filterable.

use leptos::prelude::*;

use crate::components::deferred::hydrate_later;

use crate::components::format::{count, rate};
use crate::dashboard::types::MaturityRow;
use crate::lang::{Locale, t, t_string, td_string, use_i18n, use_locale};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Column {
    Service,
    Feature,
    Events,
    ErrorRate,
    Level,
}

fn badge_class(level: u8) -> &'static str {
    match level {
        4 => "badge ok",
        3 => "badge info",
        2 => "badge warn",
        _ => "badge",
    }
}

fn sort_rows(rows: &mut [MaturityRow], column: Column, ascending: bool) {
    rows.sort_by(|a, b| {
        let ord = match column {
            Column::Service => a.service.cmp(&b.service).then(a.feature.cmp(&b.feature)),
            Column::Feature => a.feature.cmp(&b.feature).then(a.service.cmp(&b.service)),
            Column::Events => a.events.cmp(&b.events),
            Column::ErrorRate => a.error_rate.total_cmp(&b.error_rate),
            Column::Level => a.level.cmp(&b.level).then(a.events.cmp(&b.events)),
        };
        if ascending { ord } else { ord.reverse() }
    });
}

/// A maturity level (1–4) in words.
fn level_label(locale: Locale, level: u8) -> &'static str {
    match level {
        4 => td_string!(locale, maturity.mission_critical),
        3 => td_string!(locale, maturity.stable),
        2 => td_string!(locale, maturity.beta),
        _ => td_string!(locale, maturity.prototype),
    }
}

/// How the table is sorted and filtered. Owned by the page, not the table:
/// the page builds a new table with each refresh (every 30 s), and the
/// person's choice must survive that.
#[derive(Clone, Copy)]
pub struct TableView {
    sort: RwSignal<(Column, bool)>,
    filter: RwSignal<String>,
}

impl TableView {
    /// Highest maturity first, every service.
    pub fn new() -> Self {
        Self {
            sort: RwSignal::new((Column::Level, false)),
            filter: RwSignal::new(String::new()),
        }
    }
}

impl Default for TableView {
    fn default() -> Self {
        Self::new()
    }
}

#[component]
pub fn MaturityTable(
    #[prop(into)] rows: Signal<Vec<MaturityRow>>,
    state: TableView,
) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let TableView { sort, filter } = state;
    let services = Memo::new(move |_| {
        let mut s: Vec<String> = rows.get().into_iter().map(|r| r.service).collect();
        s.sort();
        s.dedup();
        s
    });
    let visible = move || {
        let f = filter.get();
        let mut list: Vec<MaturityRow> = rows
            .get()
            .into_iter()
            .filter(|r| f.is_empty() || r.service == f)
            .collect();
        let (column, asc) = sort.get();
        sort_rows(&mut list, column, asc);
        list
    };
    let header = move |label: &'static str, column: Column, numeric: bool, class: &'static str| {
        let aria = move || match sort.get() {
            (c, true) if c == column => "ascending",
            (c, false) if c == column => "descending",
            _ => "none",
        };
        let mark = move || match sort.get() {
            (c, true) if c == column => " ▲",
            (c, false) if c == column => " ▼",
            _ => "",
        };
        view! {
            <th aria-sort=aria class=format!("{} {class}", if numeric { "num" } else { "" })>
                <button
                    class="sort"
                    on:click=move |_| sort.update(|(c, asc)| {
                        if *c == column { *asc = !*asc } else { *c = column; *asc = !numeric }
                    })
                >
                    {label}
                    <span aria-hidden="true">{mark}</span>
                </button>
            </th>
        }
    };
    // Hydrates in a task of its own (components::deferred).
    hydrate_later(view! {
        <section class="panel" aria-labelledby="maturity-title">
            <div class="panel-header">
                <h2 id="maturity-title" title=td_string!(l, formula.maturity)>{t!(i18n, maturity.title)}</h2>
                <label class="inline-field">
                    <span>{t!(i18n, dash.service)}</span>
                    <select
                        aria-label=t_string!(i18n, maturity.filter)
                        prop:value=move || filter.get()
                        on:change=move |ev| filter.set(event_target_value(&ev))
                    >
                        <option value="">{t!(i18n, dash.all_services)}</option>
                        <For each=move || services.get() key=|s| s.clone() let:s>
                            <option value=s.clone()>{s.clone()}</option>
                        </For>
                    </select>
                </label>
            </div>
            <p class="muted small">{td_string!(l, formula.maturity)}</p>
            <div class="table-wrap" tabindex="0">
                <table data-testid="maturity-table">
                    <thead>
                        <tr>
                            {header(td_string!(l, dash.service), Column::Service, false, "")}
                            {header(td_string!(l, maturity.feature), Column::Feature, false, "hide-sm")}
                            {header(td_string!(l, maturity.events), Column::Events, true, "")}
                            {header(td_string!(l, dash.error_rate), Column::ErrorRate, true, "")}
                            {header(td_string!(l, maturity.level), Column::Level, true, "")}
                        </tr>
                    </thead>
                    <tbody>
                        <For
                            each=visible
                            key=|r| (r.service.clone(), r.feature.clone(), r.events, r.errors)
                            let:r
                        >
                            <tr>
                                <td>
                                    {r.service.clone()}
                                    <span class="only-sm muted">" · "{if r.feature.is_empty() { "—".to_owned() } else { r.feature.clone() }}</span>
                                </td>
                                <td class="hide-sm">{if r.feature.is_empty() { "—".to_owned() } else { r.feature.clone() }}</td>
                                <td class="num">{count(l, r.events)}</td>
                                <td class="num">{rate(l, r.error_rate)}</td>
                                <td class="num"><span class=badge_class(r.level)>{level_label(l, r.level)}</span></td>
                            </tr>
                        </For>
                    </tbody>
                </table>
                <Show when=move || rows.get().is_empty()>
                    <p class="muted">{t!(i18n, maturity.empty)}</p>
                </Show>
            </div>
        </section>
    })
}
