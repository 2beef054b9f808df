//! Presentational parts of the Services pages: state badges, the 90-day
//! uptime bar, the response-time chart, and the tables.

use leptos::prelude::*;

use super::types::{Incident, ProbeInfo, RecoveryRun, SloResult};
use crate::components::format::{axis_max, duration, timestamp};

/// The state as a word and a colour (never colour alone).
#[component]
pub fn StateBadge(#[prop(into)] state: String) -> impl IntoView {
    let class = match state.as_str() {
        "up" | "ok" => "badge ok",
        "degraded" | "maintenance" => "badge warn",
        "down" => "badge bad",
        _ => "badge",
    };
    let label = state.clone();
    view! { <span class=class data-state=state>{label}</span> }
}

fn day_class(uptime: Option<f64>) -> &'static str {
    match uptime {
        None => "day none",
        Some(u) if u >= 99.9 => "day good",
        Some(u) if u >= 99.0 => "day fair",
        Some(_) => "day poor",
    }
}

/// 90 daily squares, oldest first, each with its uptime as a tooltip and
/// for screen readers a one-line summary.
#[component]
pub fn UptimeBar(days: Vec<(String, Option<f64>)>) -> impl IntoView {
    let measured: Vec<f64> = days.iter().filter_map(|d| d.1).collect();
    let summary = if measured.is_empty() {
        "No checks in the last 90 days".to_owned()
    } else {
        let worst = measured.iter().copied().fold(100.0_f64, f64::min);
        format!(
            "{} of the last {} days measured; lowest daily uptime {:.2} %",
            measured.len(),
            days.len(),
            worst
        )
    };
    view! {
        <div class="uptime-bar" role="img" aria-label=summary.clone() title=summary>
            {days
                .into_iter()
                .map(|(day, uptime)| {
                    let tip = match uptime {
                        Some(u) => format!("{day}: {u:.2} %"),
                        None => format!("{day}: no checks"),
                    };
                    view! { <span class=day_class(uptime) title=tip></span> }
                })
                .collect_view()}
        </div>
    }
}

const W: f64 = 640.0;
const H: f64 = 200.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 28.0;

/// One hour of the chart: (hour, p50, p95).
type HourPoint = (String, Option<f64>, Option<f64>);

/// p50 and p95 per hour as two lines, with a table for screen readers.
#[component]
pub fn ResponseChart(points: Vec<HourPoint>) -> impl IntoView {
    if points.is_empty() {
        return view! { <p class="muted">"No HTTP checks in this range yet."</p> }.into_any();
    }
    let n = points.len().max(2) as f64;
    let max = axis_max(points.iter().filter_map(|p| p.2).fold(0.0, f64::max), 4).max(1.0);
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let x = |i: usize| LEFT + plot_w * i as f64 / (n - 1.0);
    let y = |v: f64| TOP + plot_h - v / max * plot_h;
    let line = |pick: fn(&HourPoint) -> Option<f64>| {
        points
            .iter()
            .enumerate()
            .filter_map(|(i, p)| pick(p).map(|v| format!("{:.1},{:.1}", x(i), y(v))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let p50 = line(|p| p.1);
    let p95 = line(|p| p.2);
    // Dots as well as lines: a single hour is a point, not a line.
    let dots = points
        .iter()
        .enumerate()
        .flat_map(|(i, p)| {
            [(p.1, "dot p50"), (p.2, "dot p95")]
                .into_iter()
                .filter_map(move |(v, class)| v.map(|v| (x(i), y(v), class)))
        })
        .map(|(cx, cy, class)| view! { <circle cx=cx cy=cy r="3" class=class /> })
        .collect_view();
    let grid = (0..=4)
        .map(|k| {
            let v = max * f64::from(k) / 4.0;
            let gy = y(v);
            view! {
                <line x1=LEFT x2=W - RIGHT y1=gy y2=gy class="grid" />
                <text x=LEFT - 6.0 y=gy + 4.0 text-anchor="end" class="axis">{format!("{v:.0}")}</text>
            }
        })
        .collect_view();
    let first = points.first().map(|p| timestamp(&p.0)).unwrap_or_default();
    let last = if points.len() > 1 {
        points.last().map(|p| timestamp(&p.0)).unwrap_or_default()
    } else {
        String::new()
    };
    let rows = points
        .iter()
        .map(|(at, a, b)| {
            let fmt = |v: &Option<f64>| {
                v.map(|v| format!("{v:.0} ms"))
                    .unwrap_or_else(|| "–".into())
            };
            view! { <tr><td>{timestamp(at)}</td><td>{fmt(a)}</td><td>{fmt(b)}</td></tr> }
        })
        .collect_view();
    view! {
        <figure class="chart response-chart">
            <svg viewBox=format!("0 0 {W} {H}") role="img" aria-label="Response times per hour, p50 and p95 in milliseconds">
                {grid}
                <text x=LEFT y=H - 8.0 class="axis">{first}</text>
                <text x=W - RIGHT y=H - 8.0 text-anchor="end" class="axis">{last}</text>
                <polyline points=p95 class="line p95" fill="none" />
                <polyline points=p50 class="line p50" fill="none" />
                {dots}
            </svg>
            <figcaption class="legend">
                <span class="key p50">"p50"</span>
                <span class="key p95">"p95"</span>
                " response time (ms), per hour"
            </figcaption>
            <details class="chart-table">
                <summary>"As a table"</summary>
                <table>
                    <thead><tr><th>"Hour"</th><th>"p50"</th><th>"p95"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </details>
        </figure>
    }
    .into_any()
}

fn slo_label(name: &str) -> &'static str {
    match name {
        "p95_ms" => "p95 response time",
        "error_rate" => "Error rate",
        "uptime" => "Uptime",
        "dead_letters" => "Dead letters",
        _ => "SLO",
    }
}

fn slo_value(name: &str, v: Option<f64>) -> String {
    match (name, v) {
        (_, None) => "no data".into(),
        ("p95_ms", Some(v)) => format!("{v:.0} ms"),
        ("error_rate" | "uptime", Some(v)) => format!("{v:.3} %"),
        (_, Some(v)) => format!("{v:.0}"),
    }
}

fn slo_target(name: &str, t: f64) -> String {
    match name {
        "p95_ms" => format!("< {t:.0} ms"),
        "error_rate" => format!("< {t} %"),
        "uptime" => format!("> {t} %"),
        _ => format!("= {t:.0}"),
    }
}

#[component]
pub fn SloTable(slos: Vec<SloResult>) -> impl IntoView {
    view! {
        <div class="table-wrap" tabindex="0">
            <table data-testid="slo-table">
                <thead>
                    <tr><th>"Objective (30 days)"</th><th class="hide-sm">"Target"</th><th>"Measured"</th><th>"Status"</th></tr>
                </thead>
                <tbody>
                    {slos.into_iter().map(|s| {
                        let budget = s.budget_minutes_left.map(|m| {
                            if m >= 0.0 {
                                format!("{} of downtime left", duration(m * 60.0))
                            } else {
                                format!("budget exceeded by {}", duration(-m * 60.0))
                            }
                        });
                        view! {
                            <tr>
                                <td>
                                    {slo_label(&s.name)}
                                    <div class="only-sm small muted">{slo_target(&s.name, s.target)}</div>
                                </td>
                                <td class="num hide-sm">{slo_target(&s.name, s.target)}</td>
                                <td class="num">
                                    {slo_value(&s.name, s.value)}
                                    {budget.map(|b| view! { <div class="small muted">{b}</div> })}
                                </td>
                                <td>
                                    {if s.met {
                                        view! { <span class="badge ok">"met"</span> }
                                    } else {
                                        view! { <span class="badge bad">"missed"</span> }
                                    }}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// What a probe checks, in a few words.
pub fn target_of(p: &ProbeInfo) -> String {
    match (&p.url, &p.host, p.port, p.period_seconds) {
        (Some(url), _, _, _) => format!("{} {url}", p.method.clone().unwrap_or_default()),
        (_, Some(host), Some(port), _) => format!("{host}:{port}"),
        (_, _, _, Some(period)) => format!(
            "ping every {} (+{} grace)",
            duration(f64::from(period)),
            duration(f64::from(p.grace_seconds.unwrap_or(0)))
        ),
        _ => String::new(),
    }
}

#[component]
pub fn IncidentsTable(incidents: Vec<Incident>) -> impl IntoView {
    if incidents.is_empty() {
        return view! { <p class="muted">"No incidents."</p> }.into_any();
    }
    view! {
        <div class="table-wrap" tabindex="0">
            <table data-testid="incidents-table">
                <thead><tr><th>"Started"</th><th>"Duration"</th><th class="hide-sm">"Probe"</th><th>"Cause"</th></tr></thead>
                <tbody>
                    {incidents.into_iter().map(|i| view! {
                        <tr class:open=i.ended_at.is_none()>
                            <td class="nowrap small">{timestamp(&i.started_at)}</td>
                            <td class="num">
                                {duration(i.duration_seconds as f64)}
                                {i.ended_at.is_none().then(|| view! { " " <span class="badge bad">"ongoing"</span> })}
                            </td>
                            <td class="hide-sm">{i.probe}</td>
                            <td class="small">{i.cause}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
pub fn RecoveryRunsTable(runs: Vec<RecoveryRun>) -> impl IntoView {
    if runs.is_empty() {
        return view! {
            <p class="muted">"No recovery runs in the last 30 days. Recovery actions are set in the server's config file."</p>
        }
        .into_any();
    }
    view! {
        <div class="table-wrap" tabindex="0">
            <table data-testid="recovery-table">
                <thead><tr><th>"Started"</th><th>"Exit code"</th><th>"Duration"</th><th>"Output"</th></tr></thead>
                <tbody>
                    {runs.into_iter().map(|r| view! {
                        <tr>
                            <td class="nowrap small">{timestamp(&r.started_at)}</td>
                            <td class="num">{r.exit_code.map(|c| c.to_string()).unwrap_or_else(|| "–".into())}</td>
                            <td class="num">{r.duration_ms.map(|ms| duration(ms / 1000.0)).unwrap_or_else(|| "–".into())}</td>
                            <td class="small">
                                {r.error.map(|e| view! { <div class="error-text">{e}</div> })}
                                {r.output.filter(|o| !o.is_empty()).map(|o| view! { <pre tabindex="0" class="output">{o}</pre> })}
                            </td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
