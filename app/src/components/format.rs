//! Number and time formatting for the UI (the API returns raw numbers).

/// A percentage with one decimal: `87.5 %`.
pub fn percent(v: f64) -> String {
    if v.is_finite() {
        format!("{:.1} %", v)
    } else {
        "—".into()
    }
}

/// A percentage with up to two decimals for small error rates: `0.42 %`.
pub fn rate(v: f64) -> String {
    if !v.is_finite() {
        "—".into()
    } else if v > 0.0 && v < 10.0 {
        format!("{:.2} %", v)
    } else {
        format!("{:.1} %", v)
    }
}

/// Thousands separated by a thin space: `1 234 567`.
pub fn count(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    if n < 0 { format!("−{out}") } else { out }
}

/// A duration in words: `45 s`, `12 min`, `3 h 20 min`, `2 d 4 h`.
pub fn duration(seconds: f64) -> String {
    if !seconds.is_finite() || seconds < 0.0 {
        return "—".into();
    }
    let s = seconds.round() as i64;
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min", s / 60),
        3600..=86_399 => {
            let m = (s % 3600) / 60;
            if m == 0 {
                format!("{} h", s / 3600)
            } else {
                format!("{} h {} min", s / 3600, m)
            }
        }
        _ => {
            let h = (s % 86_400) / 3600;
            if h == 0 {
                format!("{} d", s / 86_400)
            } else {
                format!("{} d {} h", s / 86_400, h)
            }
        }
    }
}

/// Change against the previous period in percentage points: `+2.4 pp`.
pub fn delta_points(current: f64, previous: f64) -> String {
    let d = current - previous;
    if d.abs() < 0.05 {
        "±0.0 pp".into()
    } else if d > 0.0 {
        format!("+{d:.1} pp")
    } else {
        format!("−{:.1} pp", d.abs())
    }
}

/// Relative change of a count: `+12 %`, `−3 %`, or `new` from zero.
pub fn delta_count(current: i64, previous: i64) -> String {
    if previous == 0 {
        return if current == 0 {
            "±0 %".into()
        } else {
            "new".into()
        };
    }
    let pct = (current - previous) as f64 / previous as f64 * 100.0;
    if pct.abs() < 0.5 {
        "±0 %".into()
    } else if pct > 0.0 {
        format!("+{pct:.0} %")
    } else {
        format!("−{:.0} %", pct.abs())
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

/// A file size: `12 B`, `532 kB`, `1.4 MB`, `2.50 GB`.
pub fn bytes(n: i64) -> String {
    let n = n.max(0) as f64;
    if n >= 1e9 {
        format!("{:.2} GB", n / 1e9)
    } else if n >= 1e6 {
        format!("{:.1} MB", n / 1e6)
    } else if n >= 1e3 {
        format!("{:.0} kB", n / 1e3)
    } else {
        format!("{n} B")
    }
}

/// An RFC 3339 time to the minute, as stored (UTC): `2026-11-22 10:55`.
pub fn timestamp(rfc3339: &str) -> String {
    rfc3339.get(..16).unwrap_or(rfc3339).replace('T', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_round_to_one_decimal() {
        assert_eq!(percent(87.46), "87.5 %");
        assert_eq!(percent(100.0), "100.0 %");
        assert_eq!(rate(0.4166), "0.42 %");
        assert_eq!(rate(12.34), "12.3 %");
    }

    #[test]
    fn counts_group_thousands() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1234567), "1\u{202f}234\u{202f}567");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(42.0), "42 s");
        assert_eq!(duration(720.0), "12 min");
        assert_eq!(duration(12_000.0), "3 h 20 min");
        assert_eq!(duration(7200.0), "2 h");
        assert_eq!(duration(187_200.0), "2 d 4 h");
    }

    #[test]
    fn deltas_show_direction() {
        assert_eq!(delta_points(90.0, 87.6), "+2.4 pp");
        assert_eq!(delta_points(80.0, 87.6), "−7.6 pp");
        assert_eq!(delta_points(50.0, 50.01), "±0.0 pp");
        assert_eq!(delta_count(110, 100), "+10 %");
        assert_eq!(delta_count(5, 0), "new");
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
        assert_eq!(bytes(12), "12 B");
        assert_eq!(bytes(532_000), "532 kB");
        assert_eq!(bytes(1_400_000), "1.4 MB");
        assert_eq!(bytes(2_500_000_000), "2.50 GB");
        assert_eq!(
            timestamp("2026-11-22T10:55:26.123+00:00"),
            "2026-11-22 10:55"
        );
        assert_eq!(timestamp("short"), "short");
    }
}
