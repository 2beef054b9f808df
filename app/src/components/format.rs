//! Number and time formatting for the UI (the API returns raw numbers), per
//! language: `1,234.5` and `87.5%` in English, `1.234,5` and `87,5 %` in
//! German. Written by hand — exact, the same on the server and in the
//! browser, and without locale data in the WebAssembly.

use chrono::{DateTime, Datelike, Timelike, Utc};

use crate::lang::Locale;

/// A no-break space: a number never wraps away from its unit.
const NBSP: char = '\u{a0}';

/// Separators of a language: (decimal, thousands).
fn separators(locale: Locale) -> (char, char) {
    match locale {
        Locale::de => (',', '.'),
        Locale::en => ('.', ','),
    }
}

/// `v` with `decimals` places and grouped thousands: `1,234.5` / `1.234,5`.
pub fn decimal(locale: Locale, v: f64, decimals: usize) -> String {
    if !v.is_finite() {
        return "—".into();
    }
    let (dec, group) = separators(locale);
    let text = format!("{:.*}", decimals, v.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let mut out = group_digits(int, group);
    if !frac.is_empty() {
        out.push(dec);
        out.push_str(frac);
    }
    // No minus sign on a value that rounds to zero.
    if v < 0.0 && out.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
        out.insert(0, '−');
    }
    out
}

fn group_digits(digits: &str, group: char) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(group);
        }
        out.push(c);
    }
    out
}

/// A number with its percent sign: `87.5%` / `87,5 %`.
fn with_percent(locale: Locale, number: String) -> String {
    match locale {
        Locale::de => format!("{number}{NBSP}%"),
        Locale::en => format!("{number}%"),
    }
}

/// A percentage with one decimal: `87.5%` / `87,5 %`.
pub fn percent(locale: Locale, v: f64) -> String {
    if v.is_finite() {
        with_percent(locale, decimal(locale, v, 1))
    } else {
        "—".into()
    }
}

/// A percentage with up to two decimals for small error rates: `0.42%`.
pub fn rate(locale: Locale, v: f64) -> String {
    if !v.is_finite() {
        "—".into()
    } else if v > 0.0 && v < 10.0 {
        with_percent(locale, decimal(locale, v, 2))
    } else {
        with_percent(locale, decimal(locale, v, 1))
    }
}

/// A count with grouped thousands: `1,234,567` / `1.234.567`.
pub fn count(locale: Locale, n: i64) -> String {
    let (_, group) = separators(locale);
    let out = group_digits(&n.unsigned_abs().to_string(), group);
    if n < 0 { format!("−{out}") } else { out }
}

/// A number and its unit, kept together.
fn unit(n: impl std::fmt::Display, unit: &str) -> String {
    format!("{n}{NBSP}{unit}")
}

/// A duration in words: `45 s`, `12 min`, `3 h 20 min`, `2 d 4 h` (German
/// `2 Tg. 4 h`).
pub fn duration(locale: Locale, seconds: f64) -> String {
    if !seconds.is_finite() || seconds < 0.0 {
        return "—".into();
    }
    let day = match locale {
        Locale::de => "Tg.",
        Locale::en => "d",
    };
    let s = seconds.round() as i64;
    match s {
        0..=59 => unit(s, "s"),
        60..=3599 => unit(s / 60, "min"),
        3600..=86_399 => {
            let m = (s % 3600) / 60;
            if m == 0 {
                unit(s / 3600, "h")
            } else {
                format!("{} {}", unit(s / 3600, "h"), unit(m, "min"))
            }
        }
        _ => {
            let h = (s % 86_400) / 3600;
            if h == 0 {
                unit(s / 86_400, day)
            } else {
                format!("{} {}", unit(s / 86_400, day), unit(h, "h"))
            }
        }
    }
}

/// Change against the previous period in percentage points: `+2.4 pp` /
/// `+2,4 PP`.
pub fn delta_points(locale: Locale, current: f64, previous: f64) -> String {
    let pp = match locale {
        Locale::de => "PP",
        Locale::en => "pp",
    };
    let d = current - previous;
    let size = decimal(locale, d.abs(), 1);
    if d.abs() < 0.05 {
        unit(format!("±{}", decimal(locale, 0.0, 1)), pp)
    } else if d > 0.0 {
        unit(format!("+{size}"), pp)
    } else {
        unit(format!("−{size}"), pp)
    }
}

/// Relative change of a count: `+12%`, `−3 %`, or `new` from zero.
pub fn delta_count(locale: Locale, current: i64, previous: i64) -> String {
    if previous == 0 {
        return if current == 0 {
            with_percent(locale, "±0".into())
        } else {
            crate::lang::td_string!(locale, format.new).into()
        };
    }
    let pct = (current - previous) as f64 / previous as f64 * 100.0;
    if pct.abs() < 0.5 {
        with_percent(locale, "±0".into())
    } else if pct > 0.0 {
        with_percent(locale, format!("+{}", decimal(locale, pct, 0)))
    } else {
        with_percent(locale, format!("−{}", decimal(locale, pct.abs(), 0)))
    }
}

/// The top of a count axis with `intervals` grid steps: each step a whole
/// 1, 2, 2.5 (from 25 up) or 5 × 10ⁿ, so every grid line is a round count.
pub fn axis_max(v: f64, intervals: u32) -> f64 {
    let intervals = f64::from(intervals.max(1));
    let raw = (v / intervals).max(1.0);
    let exp = raw.log10().floor();
    let base = 10f64.powf(exp);
    let steps: &[f64] = if base >= 10.0 {
        &[1.0, 2.0, 2.5, 5.0, 10.0]
    } else {
        &[1.0, 2.0, 5.0, 10.0]
    };
    let step = steps
        .iter()
        .map(|m| m * base)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * base);
    step * intervals
}

/// A file size: `12 B`, `532 kB`, `1.4 MB` / `1,4 MB`, `2.50 GB`.
pub fn bytes(locale: Locale, n: i64) -> String {
    let n = n.max(0) as f64;
    if n >= 1e9 {
        unit(decimal(locale, n / 1e9, 2), "GB")
    } else if n >= 1e6 {
        unit(decimal(locale, n / 1e6, 1), "MB")
    } else if n >= 1e3 {
        unit(decimal(locale, n / 1e3, 0), "kB")
    } else {
        unit(n, "B")
    }
}

/// A day as each language writes it: `2026-11-22` / `22.11.2026`.
///
/// By hand rather than with chrono's `format`: its pattern interpreter
/// would be compiled into the first page's WebAssembly for three patterns.
pub fn date(locale: Locale, t: DateTime<Utc>) -> String {
    match locale {
        Locale::de => format!("{:02}.{:02}.{}", t.day(), t.month(), t.year()),
        Locale::en => format!("{}-{:02}-{:02}", t.year(), t.month(), t.day()),
    }
}

/// The time of day, `10:55:07` (or `10:55` without seconds), the same in
/// both languages.
pub fn clock(t: DateTime<Utc>, seconds: bool) -> String {
    if seconds {
        format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
    } else {
        format!("{:02}:{:02}", t.hour(), t.minute())
    }
}

/// An RFC 3339 time to the minute, as stored (UTC): `2026-11-22 10:55` /
/// `22.11.2026 10:55`.
pub fn timestamp(locale: Locale, rfc3339: &str) -> String {
    let iso = rfc3339.get(..16).unwrap_or(rfc3339).replace('T', " ");
    match (
        locale,
        iso.get(..4),
        iso.get(5..7),
        iso.get(8..10),
        iso.get(10..),
    ) {
        (Locale::de, Some(y), Some(m), Some(d), Some(rest))
            if iso.as_bytes().get(4) == Some(&b'-') =>
        {
            format!("{d}.{m}.{y}{rest}")
        }
        _ => iso,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::Locale::{de, en};

    /// Tests read better with plain spaces.
    fn plain(s: String) -> String {
        s.replace(NBSP, " ")
    }

    #[test]
    fn percentages_round_to_one_decimal() {
        assert_eq!(percent(en, 87.46), "87.5%");
        assert_eq!(plain(percent(de, 87.46)), "87,5 %");
        assert_eq!(percent(en, 100.0), "100.0%");
        assert_eq!(rate(en, 0.4166), "0.42%");
        assert_eq!(plain(rate(de, 0.4166)), "0,42 %");
        assert_eq!(rate(en, 12.34), "12.3%");
        assert_eq!(percent(de, f64::NAN), "—");
    }

    #[test]
    fn days_and_times_are_written_per_language() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-03-04T05:06:07Z")
            .expect("a valid time")
            .to_utc();
        assert_eq!(date(de, t), "04.03.2026");
        assert_eq!(date(en, t), "2026-03-04");
        assert_eq!(clock(t, true), "05:06:07");
        assert_eq!(clock(t, false), "05:06");
    }

    #[test]
    fn numbers_use_each_languages_separators() {
        assert_eq!(decimal(en, 1234.5, 1), "1,234.5");
        assert_eq!(decimal(de, 1234.5, 1), "1.234,5");
        assert_eq!(decimal(de, 1_234_567.891, 2), "1.234.567,89");
        assert_eq!(decimal(en, -0.04, 1), "0.0");
        assert_eq!(decimal(de, -12.5, 1), "−12,5");
    }

    #[test]
    fn counts_group_thousands() {
        assert_eq!(count(en, 0), "0");
        assert_eq!(count(en, 999), "999");
        assert_eq!(count(en, 1234567), "1,234,567");
        assert_eq!(count(de, 1234567), "1.234.567");
        assert_eq!(count(de, -1000), "−1.000");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(plain(duration(en, 42.0)), "42 s");
        assert_eq!(plain(duration(en, 720.0)), "12 min");
        assert_eq!(plain(duration(en, 12_000.0)), "3 h 20 min");
        assert_eq!(plain(duration(en, 7200.0)), "2 h");
        assert_eq!(plain(duration(en, 187_200.0)), "2 d 4 h");
        assert_eq!(plain(duration(de, 187_200.0)), "2 Tg. 4 h");
        assert_eq!(plain(duration(de, 172_800.0)), "2 Tg.");
    }

    #[test]
    fn deltas_show_direction() {
        assert_eq!(plain(delta_points(en, 90.0, 87.6)), "+2.4 pp");
        assert_eq!(plain(delta_points(de, 90.0, 87.6)), "+2,4 PP");
        assert_eq!(plain(delta_points(en, 80.0, 87.6)), "−7.6 pp");
        assert_eq!(plain(delta_points(en, 50.0, 50.01)), "±0.0 pp");
        assert_eq!(delta_count(en, 110, 100), "+10%");
        assert_eq!(plain(delta_count(de, 110, 100)), "+10 %");
        assert_eq!(delta_count(en, 5, 0), "new");
        assert_eq!(delta_count(de, 5, 0), "neu");
    }

    #[test]
    fn axis_steps_are_whole_round_counts() {
        assert_eq!(axis_max(0.0, 4), 4.0);
        assert_eq!(axis_max(7.0, 4), 8.0);
        assert_eq!(axis_max(12.0, 4), 20.0);
        assert_eq!(axis_max(30.0, 4), 40.0);
        assert_eq!(axis_max(90.0, 4), 100.0);
        assert_eq!(axis_max(7611.0, 4), 8000.0);
        assert_eq!(axis_max(230.0, 4), 400.0);
    }

    #[test]
    fn sizes_and_timestamps_read_naturally() {
        assert_eq!(plain(bytes(en, 12)), "12 B");
        assert_eq!(plain(bytes(en, 532_000)), "532 kB");
        assert_eq!(plain(bytes(en, 1_400_000)), "1.4 MB");
        assert_eq!(plain(bytes(de, 1_400_000)), "1,4 MB");
        assert_eq!(plain(bytes(en, 2_500_000_000)), "2.50 GB");
        assert_eq!(
            timestamp(en, "2026-11-22T10:55:26.123+00:00"),
            "2026-11-22 10:55"
        );
        assert_eq!(
            timestamp(de, "2026-11-22T10:55:26.123+00:00"),
            "22.11.2026 10:55"
        );
        assert_eq!(timestamp(de, "short"), "short");
    }
}
