//! Error analysis: error rate, open errors, fix statistics, top sources
//! (rendered on the server only: `dashboard::figures`).

use leptos::prelude::*;

use crate::components::format::{count, duration, percent, rate};
use crate::dashboard::types::{ErrorAnalysis, Kpis};
use crate::lang::{t, td_string, use_i18n, use_locale};

#[component]
pub fn ErrorAnalysisPanel(errors: ErrorAnalysis, kpis: Kpis) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let stat = |label: &'static str, id: &'static str, help: &'static str, value: String| {
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
                <h2 id="error-analysis-title">{t!(i18n, dash.error_analysis)}</h2>
            </div>
            <dl class="stats">
                {stat(td_string!(l, dash.error_rate), "error-rate", td_string!(l, formula.quality), rate(l, kpis.error_rate))}
                {stat(td_string!(l, dash.open_errors), "open", td_string!(l, formula.open), count(l, errors.open))}
                {stat(td_string!(l, dash.fix_rate), "fix-rate", td_string!(l, formula.fix_rate), percent(l, errors.fix_rate))}
                {stat(td_string!(l, dash.fixes_week), "fixes-week", td_string!(l, formula.fixes_week), count(l, errors.fixes_per_week))}
                {stat(td_string!(l, dash.mttr), "mttr", td_string!(l, formula.mttr), errors.mttr_seconds.map(|s| duration(l, s)).unwrap_or_else(|| "—".into()))}
            </dl>
            <h3 class="subhead">{t!(i18n, dash.top_sources)}</h3>
            {{
                let sources = errors.top_sources;
                if sources.is_empty() {
                    view! { <p class="muted" data-testid="top-sources-empty">{t!(i18n, dash.no_errors)}</p> }.into_any()
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
                                        <span class="num">{count(l, s.errors)}</span>
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
