//! Forms of the service page: adding a probe (admin), SLO targets and the
//! public-status opt-in (admin), maintenance windows (operator).

use leptos::prelude::*;

use super::server_fns::{AddMaintenance, SaveProbe, SaveServiceSettings};
use super::types::{MaintenanceWindow, ProbeKind, ProbeSpec, SloTargets};
use crate::lang::{Locale, t, td_string, use_i18n, use_locale};

/// 0..=6 for Monday…Sunday.
pub fn weekday_name(l: Locale, d: i32) -> &'static str {
    match d {
        0 => td_string!(l, weekday.mon),
        1 => td_string!(l, weekday.tue),
        2 => td_string!(l, weekday.wed),
        3 => td_string!(l, weekday.thu),
        4 => td_string!(l, weekday.fri),
        5 => td_string!(l, weekday.sat),
        6 => td_string!(l, weekday.sun),
        _ => "?",
    }
}

fn text_input(
    label: &'static str,
    value: RwSignal<String>,
    placeholder: &'static str,
) -> impl IntoView {
    view! {
        <label>
            <span>{label}</span>
            <input type="text" placeholder=placeholder prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev)) />
        </label>
    }
}

fn number_input(label: &'static str, value: RwSignal<String>) -> impl IntoView {
    view! {
        <label>
            <span>{label}</span>
            <input type="number" inputmode="numeric" prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev)) />
        </label>
    }
}

fn error_line(message: impl Fn() -> Option<String> + Send + Sync + 'static) -> impl IntoView {
    move || message().map(|m| view! { <p class="error-text" role="alert">{m}</p> })
}

/// Adds a probe: the fields shown follow its kind.
#[component]
pub fn ProbeForm(slug: String, action: ServerAction<SaveProbe>) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let kind = RwSignal::new(ProbeKind::Http);
    let name = RwSignal::new(String::new());
    let url = RwSignal::new(String::new());
    let expected = RwSignal::new("2xx".to_owned());
    let contains = RwSignal::new(String::new());
    let host = RwSignal::new(String::new());
    let port = RwSignal::new(String::new());
    let period = RwSignal::new("3600".to_owned());
    let grace = RwSignal::new("300".to_owned());
    let interval = RwSignal::new("30".to_owned());
    let failures = RwSignal::new("2".to_owned());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let num = |s: RwSignal<String>| s.get_untracked().trim().parse::<i32>().ok();
        let opt = |s: RwSignal<String>| {
            Some(s.get_untracked().trim().to_owned()).filter(|v| !v.is_empty())
        };
        let k = kind.get_untracked();
        let mut spec = ProbeSpec {
            kind: Some(k),
            name: opt(name),
            ..ProbeSpec::default()
        };
        match k {
            ProbeKind::Http => {
                spec.url = opt(url);
                spec.expected_status = opt(expected);
                spec.body_contains = opt(contains);
                spec.interval_seconds = num(interval);
                spec.failures_before_down = num(failures);
            }
            ProbeKind::Tcp => {
                spec.host = opt(host);
                spec.port = port.get_untracked().trim().parse().ok();
                spec.interval_seconds = num(interval);
                spec.failures_before_down = num(failures);
            }
            ProbeKind::Heartbeat => {
                spec.period_seconds = num(period);
                spec.grace_seconds = num(grace);
            }
        }
        action.dispatch(SaveProbe {
            slug: slug.clone(),
            id: None,
            spec,
        });
    };
    view! {
        <details class="form-box">
            <summary>{t!(i18n, probe_form.add_title)}</summary>
            <form class="form-grid" on:submit=submit data-testid="probe-form">
                <label>
                    <span>{t!(i18n, probe_form.kind)}</span>
                    <select on:change=move |ev| {
                        if let Some(k) = ProbeKind::parse(&event_target_value(&ev)) {
                            kind.set(k);
                        }
                    }>
                        <option value="http">{t!(i18n, probe_form.http)}</option>
                        <option value="tcp">{t!(i18n, probe_form.tcp)}</option>
                        <option value="heartbeat">{t!(i18n, probe_form.heartbeat)}</option>
                    </select>
                </label>
                {text_input(td_string!(l, probe_form.name), name, td_string!(l, probe_form.name_placeholder))}
                <Show when=move || kind.get() == ProbeKind::Http>
                    {text_input("URL", url, "https://shop.internal/health")}
                    {text_input(td_string!(l, probe_form.expected_status), expected, "2xx")}
                    {text_input(td_string!(l, probe_form.body_contains), contains, "ok")}
                </Show>
                <Show when=move || kind.get() == ProbeKind::Tcp>
                    {text_input("Host", host, "db.internal")}
                    {number_input("Port", port)}
                </Show>
                <Show when=move || kind.get() != ProbeKind::Heartbeat>
                    {number_input(td_string!(l, probe_form.every), interval)}
                    {number_input(td_string!(l, probe_form.down_after), failures)}
                </Show>
                <Show when=move || kind.get() == ProbeKind::Heartbeat>
                    {number_input(td_string!(l, probe_form.expected_every), period)}
                    {number_input(td_string!(l, probe_form.grace), grace)}
                </Show>
                <div><button class="btn primary" type="submit">{t!(i18n, probe_form.add)}</button></div>
            </form>
            {error_line(move || action.value().get().and_then(|r| r.err()).map(|e| crate::error::describe(l, &e)))}
        </details>
    }
}

/// SLO targets and whether the service is on the public status page.
#[component]
pub fn ServiceSettingsForm(
    slug: String,
    targets: SloTargets,
    public_status: bool,
    action: ServerAction<SaveServiceSettings>,
) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let p95 = RwSignal::new(targets.p95_ms.to_string());
    let error_rate = RwSignal::new(targets.error_rate_percent.to_string());
    let uptime = RwSignal::new(targets.uptime_percent.to_string());
    let public = RwSignal::new(public_status);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let float = |s: RwSignal<String>| {
            s.get_untracked()
                .trim()
                .replace(',', ".")
                .parse::<f64>()
                .unwrap_or(f64::NAN)
        };
        action.dispatch(SaveServiceSettings {
            slug: slug.clone(),
            targets: SloTargets {
                p95_ms: p95.get_untracked().trim().parse().unwrap_or(0),
                error_rate_percent: float(error_rate),
                uptime_percent: float(uptime),
                dead_letters: targets.dead_letters,
            },
            public_status: public.get_untracked(),
        });
    };
    view! {
        <details class="form-box">
            <summary>{t!(i18n, slo_form.title)}</summary>
            <form class="form-grid" on:submit=submit data-testid="slo-form">
                {number_input(td_string!(l, slo_form.p95), p95)}
                {text_input(td_string!(l, slo_form.error_rate), error_rate, "0.5")}
                {text_input(td_string!(l, slo_form.uptime), uptime, "99.9")}
                <label class="check">
                    <input type="checkbox" prop:checked=move || public.get() on:change=move |ev| public.set(event_target_checked(&ev)) />
                    <span>{t!(i18n, slo_form.public)}</span>
                </label>
                <div><button class="btn primary" type="submit">{t!(i18n, common.save)}</button></div>
            </form>
            {error_line(move || action.value().get().and_then(|r| r.err()).map(|e| crate::error::describe(l, &e)))}
        </details>
    }
}

/// Adds a one-off or weekly maintenance window.
#[component]
pub fn MaintenanceForm(service: Option<String>, added: RwSignal<u32>) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let action = ServerAction::<AddMaintenance>::new();
    let weekly = RwSignal::new(false);
    let title = RwSignal::new(String::new());
    let starts = RwSignal::new(String::new());
    let ends = RwSignal::new(String::new());
    let weekday = RwSignal::new("6".to_owned());
    let start_time = RwSignal::new("02:00".to_owned());
    let minutes = RwSignal::new("60".to_owned());
    let zone = RwSignal::new("UTC".to_owned());
    Effect::new(move |_| {
        if action.value().get().is_some_and(|r| r.is_ok()) {
            added.update(|n| *n += 1);
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // `datetime-local` inputs give local wall time; they are taken as UTC.
        let utc = |s: RwSignal<String>| {
            let v = s.get_untracked();
            (!v.is_empty()).then(|| if v.len() == 16 { format!("{v}:00Z") } else { v })
        };
        let window = if weekly.get_untracked() {
            MaintenanceWindow {
                id: 0,
                service: service.clone(),
                title: title.get_untracked(),
                starts_at: None,
                ends_at: None,
                weekday: weekday.get_untracked().parse().ok(),
                start_time: Some(start_time.get_untracked()),
                duration_minutes: minutes.get_untracked().trim().parse().ok(),
                time_zone: zone.get_untracked(),
                active: false,
            }
        } else {
            MaintenanceWindow {
                id: 0,
                service: service.clone(),
                title: title.get_untracked(),
                starts_at: utc(starts),
                ends_at: utc(ends),
                weekday: None,
                start_time: None,
                duration_minutes: None,
                time_zone: "UTC".into(),
                active: false,
            }
        };
        action.dispatch(AddMaintenance { window });
    };
    view! {
        <details class="form-box">
            <summary>{t!(i18n, maint_form.title)}</summary>
            <form class="form-grid" on:submit=submit data-testid="maintenance-form">
                {text_input(td_string!(l, maint_form.name), title, td_string!(l, maint_form.name_placeholder))}
                <label class="check">
                    <input type="checkbox" prop:checked=move || weekly.get() on:change=move |ev| weekly.set(event_target_checked(&ev)) />
                    <span>{t!(i18n, maint_form.weekly)}</span>
                </label>
                <Show when=move || !weekly.get()>
                    <label><span>{t!(i18n, maint_form.from)}</span>
                        <input type="datetime-local" prop:value=move || starts.get() on:input=move |ev| starts.set(event_target_value(&ev)) /></label>
                    <label><span>{t!(i18n, maint_form.to)}</span>
                        <input type="datetime-local" prop:value=move || ends.get() on:input=move |ev| ends.set(event_target_value(&ev)) /></label>
                </Show>
                <Show when=move || weekly.get()>
                    <label>
                        <span>{t!(i18n, maint_form.day)}</span>
                        <select on:change=move |ev| weekday.set(event_target_value(&ev))>
                            {(0..7).map(|d| view! {
                                <option value=d.to_string() selected=move || weekday.get() == d.to_string()>{weekday_name(l, d)}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <label><span>{t!(i18n, maint_form.start)}</span>
                        <input type="time" prop:value=move || start_time.get() on:input=move |ev| start_time.set(event_target_value(&ev)) /></label>
                    {number_input(td_string!(l, maint_form.minutes), minutes)}
                    {text_input(td_string!(l, maint_form.zone), zone, "Europe/Berlin")}
                </Show>
                <div><button class="btn primary" type="submit">{t!(i18n, maint_form.add)}</button></div>
            </form>
            {error_line(move || action.value().get().and_then(|r| r.err()).map(|e| crate::error::describe(l, &e)))}
        </details>
    }
}
