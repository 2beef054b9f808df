//! The KPI definitions as pure functions. The dashboard shows
//! each value with the formula text below, so these are the contract.

use serde::{Deserialize, Serialize};

/// Tunables of the KPI formulas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiSettings {
    /// Events per day at which activity reaches 100 %.
    pub activity_target: f64,
    /// Readiness weights: activity, quality, stability.
    pub weights: [f64; 3],
    /// IANA time zone for day boundaries.
    pub time_zone: String,
}

impl Default for KpiSettings {
    fn default() -> Self {
        Self {
            activity_target: 100.0,
            weights: [0.3, 0.4, 0.3],
            time_zone: "UTC".into(),
        }
    }
}

/// Hourly buckets the stability KPI looks at (7 days).
pub const STABILITY_BUCKETS: i64 = 168;

/// Error rate in percent: error events / all events × 100 (0 without events).
pub fn error_rate(events: i64, errors: i64) -> f64 {
    if events <= 0 {
        0.0
    } else {
        errors as f64 / events as f64 * 100.0
    }
}

/// Quality ("Fehlerfreiheit") = 100 − error rate, clamped to 0…100.
pub fn quality(error_rate: f64) -> f64 {
    (100.0 - error_rate).clamp(0.0, 100.0)
}

/// Activity = min(100, 100 × events in the last 24 h / target).
pub fn activity(usage_24h: i64, target: f64) -> f64 {
    if target <= 0.0 {
        return 100.0;
    }
    (100.0 * usage_24h as f64 / target).clamp(0.0, 100.0)
}

/// Stability = share of hourly buckets without a critical event (or failed
/// probe) × 100.
pub fn stability(bad_buckets: i64, buckets: i64) -> f64 {
    if buckets <= 0 {
        return 100.0;
    }
    let bad = bad_buckets.clamp(0, buckets);
    (buckets - bad) as f64 / buckets as f64 * 100.0
}

/// Readiness = w₁ × activity + w₂ × quality + w₃ × stability.
pub fn readiness(weights: [f64; 3], activity: f64, quality: f64, stability: f64) -> f64 {
    weights[0] * activity + weights[1] * quality + weights[2] * stability
}

/// Fix rate = groups resolved / groups with an error in the window × 100;
/// 100 when there were no errors to fix.
pub fn fix_rate(resolved: i64, with_errors: i64) -> f64 {
    if with_errors <= 0 {
        100.0
    } else {
        resolved as f64 / with_errors as f64 * 100.0
    }
}

/// Feature maturity levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Maturity {
    Prototype = 1,
    Beta = 2,
    Stable = 3,
    MissionCritical = 4,
}

impl Maturity {
    pub fn level(self) -> u8 {
        self as u8
    }

    pub fn label(self) -> &'static str {
        match self {
            Maturity::Prototype => "Prototype",
            Maturity::Beta => "Beta",
            Maturity::Stable => "Stable",
            Maturity::MissionCritical => "Mission Critical",
        }
    }

    pub fn from_level(level: u8) -> Self {
        match level {
            4 => Maturity::MissionCritical,
            3 => Maturity::Stable,
            2 => Maturity::Beta,
            _ => Maturity::Prototype,
        }
    }
}

/// The highest level whose rule holds: 4 Mission Critical (≥ 1000 events
/// and < 1 % errors), 3 Stable (≥ 500, < 5 %), 2 Beta (≥ 100, < 10 %),
/// else 1 Prototype.
pub fn maturity(events: i64, error_rate: f64) -> Maturity {
    if events >= 1000 && error_rate < 1.0 {
        Maturity::MissionCritical
    } else if events >= 500 && error_rate < 5.0 {
        Maturity::Stable
    } else if events >= 100 && error_rate < 10.0 {
        Maturity::Beta
    } else {
        Maturity::Prototype
    }
}

/// Formula texts shown next to the values.
pub mod formula {
    pub const READINESS: &str = "Readiness = {a} × activity + {q} × quality + {s} × stability";
    pub const QUALITY: &str = "Quality = 100 − error rate; error rate = error and critical events ÷ all events × 100 in the selected range";
    pub const STABILITY: &str = "Stability = share of the last 168 hourly buckets without a critical event or a failed probe check (maintenance excepted) × 100";
    pub const USAGE: &str =
        "Usage = events in the last 24 hours; activity = min(100, 100 × usage ÷ {target} per day)";
    pub const FIX_RATE: &str = "Fix rate = error groups resolved ÷ error groups with an error in the range × 100 (100 when there were none)";
    pub const MTTR: &str = "Mean time to resolve = average of (resolution − first error) over groups resolved in the range";
    pub const OPEN: &str =
        "Open errors = error groups with an error in the range that are not resolved";
    pub const FIXES_WEEK: &str =
        "Fixes per week = resolutions (fix events or manual) in the last 7 days";
    pub const MATURITY: &str = "Mission Critical ≥ 1000 events and < 1 % errors · Stable ≥ 500 and < 5 % · Beta ≥ 100 and < 10 % · else Prototype";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_events_at_all_is_perfect_quality_and_zero_activity() {
        let er = error_rate(0, 0);
        assert_eq!(er, 0.0);
        assert_eq!(quality(er), 100.0);
        assert_eq!(activity(0, 100.0), 0.0);
        assert_eq!(stability(0, STABILITY_BUCKETS), 100.0);
        assert_eq!(readiness([0.3, 0.4, 0.3], 0.0, 100.0, 100.0), 70.0);
        assert_eq!(fix_rate(0, 0), 100.0);
    }

    #[test]
    fn only_errors_is_zero_quality() {
        let er = error_rate(50, 50);
        assert_eq!(er, 100.0);
        assert_eq!(quality(er), 0.0);
    }

    #[test]
    fn error_rate_is_unrounded() {
        assert!((error_rate(3, 1) - 100.0 / 3.0).abs() < 1e-12);
        assert!((quality(error_rate(3, 1)) - 66.666_666_666_666_67).abs() < 1e-12);
    }

    #[test]
    fn activity_is_capped_at_100() {
        assert_eq!(activity(50, 100.0), 50.0);
        assert_eq!(activity(250, 100.0), 100.0);
        assert_eq!(activity(30, 60.0), 50.0);
    }

    #[test]
    fn stability_counts_buckets_without_criticals() {
        assert_eq!(stability(0, 168), 100.0);
        assert_eq!(stability(168, 168), 0.0);
        assert_eq!(stability(42, 168), 75.0);
    }

    #[test]
    fn readiness_is_the_weighted_sum() {
        let r = readiness([0.3, 0.4, 0.3], 50.0, 90.0, 75.0);
        assert!((r - (15.0 + 36.0 + 22.5)).abs() < 1e-12);
        let custom = readiness([0.2, 0.6, 0.2], 100.0, 50.0, 100.0);
        assert!((custom - 70.0).abs() < 1e-12);
    }

    #[test]
    fn fix_rate_is_resolved_share() {
        assert_eq!(fix_rate(1, 4), 25.0);
        assert_eq!(fix_rate(4, 4), 100.0);
    }

    #[test]
    fn maturity_boundaries_by_event_count() {
        // Below each threshold the next lower level applies, even with no errors.
        assert_eq!(maturity(99, 0.0), Maturity::Prototype);
        assert_eq!(maturity(100, 0.0), Maturity::Beta);
        assert_eq!(maturity(499, 0.0), Maturity::Beta);
        assert_eq!(maturity(500, 0.0), Maturity::Stable);
        assert_eq!(maturity(999, 0.0), Maturity::Stable);
        assert_eq!(maturity(1000, 0.0), Maturity::MissionCritical);
    }

    #[test]
    fn maturity_boundaries_by_error_rate() {
        assert_eq!(maturity(1000, 0.99), Maturity::MissionCritical);
        assert_eq!(maturity(1000, 1.0), Maturity::Stable);
        assert_eq!(maturity(1000, 4.99), Maturity::Stable);
        assert_eq!(maturity(1000, 5.0), Maturity::Beta);
        assert_eq!(maturity(1000, 9.99), Maturity::Beta);
        assert_eq!(maturity(1000, 10.0), Maturity::Prototype);
        assert_eq!(maturity(500, 0.99), Maturity::Stable);
        assert_eq!(maturity(500, 4.99), Maturity::Stable);
        assert_eq!(maturity(500, 5.0), Maturity::Beta);
        assert_eq!(maturity(999, 9.99), Maturity::Beta);
        assert_eq!(maturity(100, 9.99), Maturity::Beta);
        assert_eq!(maturity(100, 10.0), Maturity::Prototype);
        assert_eq!(maturity(99, 0.99), Maturity::Prototype);
    }

    #[test]
    fn maturity_labels_and_levels() {
        assert_eq!(Maturity::MissionCritical.label(), "Mission Critical");
        assert_eq!(Maturity::MissionCritical.level(), 4);
        assert_eq!(Maturity::from_level(2), Maturity::Beta);
    }
}
