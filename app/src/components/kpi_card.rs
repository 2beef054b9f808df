//! A KPI card: label, value, trend against the previous period, and the
//! formula, shown on hover and on keyboard focus (rendered on the server
//! only: `dashboard::figures`).

use leptos::prelude::*;

/// Whether a rising value is good news.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Up,
    Down,
    Neutral,
}

#[component]
pub fn KpiCard(
    /// Stable id, also used for the test id and the tooltip id.
    id: &'static str,
    label: &'static str,
    value: String,
    /// Trend text, e.g. "+2.4 pp".
    trend: String,
    /// Sign of the change (−1, 0, 1).
    direction: i8,
    better: Better,
    formula: String,
    /// A small line under the value (e.g. the activity figure).
    #[prop(optional, into)]
    detail: Option<String>,
    /// 0–100 for a gauge bar, when the value is a percentage.
    #[prop(optional, into)]
    gauge: Option<f64>,
) -> impl IntoView {
    let i18n = crate::lang::use_i18n();
    let tooltip_id = format!("formula-{id}");
    let described_by = tooltip_id.clone();
    let trend_class = {
        let d = direction;
        let good = match better {
            Better::Up => d > 0,
            Better::Down => d < 0,
            Better::Neutral => false,
        };
        let bad = match better {
            Better::Up => d < 0,
            Better::Down => d > 0,
            Better::Neutral => false,
        };
        if good {
            "trend good"
        } else if bad {
            "trend bad"
        } else {
            "trend"
        }
    };
    let arrow = match direction {
        1 => "▲",
        -1 => "▼",
        _ => "■",
    };
    view! {
        <article
            class="card kpi"
            tabindex="0"
            aria-describedby=described_by
            data-testid=format!("kpi-{id}")
        >
            <h2>{label}</h2>
            <p class="kpi-value" data-testid=format!("kpi-{id}-value")>{value}</p>
            {gauge
                .map(|g| {
                    view! {
                        <div class="gauge" aria-hidden="true">
                            <span style=format!("width: {:.1}%", g.clamp(0.0, 100.0))></span>
                        </div>
                    }
                })}
            <p class="kpi-meta">
                <span class=trend_class title=crate::lang::t_string!(i18n, kpi.change_title)>
                    <span aria-hidden="true">{arrow}</span>
                    " "
                    {trend}
                </span>
                {detail.map(|d| view! { <span class="muted">{d}</span> })}
            </p>
            <div class="formula" role="tooltip" id=tooltip_id>
                {formula}
            </div>
        </article>
    }
}
