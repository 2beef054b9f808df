//! Error analysis: error rate, open errors, fix statistics, top sources.

use leptos::prelude::*;

use crate::components::format::{count, duration, percent, rate};
use crate::dashboard::kpi::formula;
use crate::dashboard::types::{ErrorAnalysis, Kpis};

#[component]
pub fn ErrorAnalysisPanel(
    #[prop(into)] errors: Signal<ErrorAnalysis>,
    #[prop(into)] kpis: Signal<Kpis>,
) -> impl IntoView {
    let stat =
        |label: &'static str, id: &'static str, help: &'static str, value: Signal<String>| {
            view! {
                <div class="stat" title=help>
                    <dt>{label}</dt>
                    <dd data-testid=format!("stat-{id}")>{value}</dd>
                </div>
            }
        };
    view! {
        <section class="panel" aria-labelledby="error-analysis-title">
            <div class="panel-header">
                <h2 id="error-analysis-title">"Error analysis"</h2>
            </div>
            <dl class="stats">
                {stat("Error rate", "error-rate", formula::QUALITY, Signal::derive(move || rate(kpis.get().error_rate)))}
                {stat("Open errors", "open", formula::OPEN, Signal::derive(move || count(errors.get().open)))}
                {stat("Fix rate", "fix-rate", formula::FIX_RATE, Signal::derive(move || percent(errors.get().fix_rate)))}
                {stat("Fixes / week", "fixes-week", formula::FIXES_WEEK, Signal::derive(move || count(errors.get().fixes_per_week)))}
                {stat("MTTR", "mttr", formula::MTTR, Signal::derive(move || errors.get().mttr_seconds.map(duration).unwrap_or_else(|| "—".into())))}
            </dl>
            <h3 class="subhead">"Top error sources"</h3>
            {move || {
                let sources = errors.get().top_sources;
                if sources.is_empty() {
                    view! { <p class="muted" data-testid="top-sources-empty">"No errors in this range."</p> }.into_any()
                } else {
                    let max = sources.iter().map(|s| s.errors).max().unwrap_or(1).max(1) as f64;
                    view! {
                        <ol class="top-sources" data-testid="top-sources">
                            {sources.into_iter().map(|s| {
                                let width = s.errors as f64 / max * 100.0;
                                view! {
                                    <li>
                                        <span class="source-name">
                                            <strong>{s.service}</strong>
                                            " · "
                                            {if s.feature.is_empty() { "—".to_owned() } else { s.feature }}
                                        </span>
                                        <span class="source-bar" aria-hidden="true"><span style=format!("width: {width:.1}%")></span></span>
                                        <span class="num">{count(s.errors)}</span>
                                    </li>
                                }
                            }).collect_view()}
                        </ol>
                    }.into_any()
                }
            }}
        </section>
    }
}
