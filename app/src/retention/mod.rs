//! Retention: how long each class of data is kept, and the run that
//! removes what is older — whole monthly partitions where a partition is
//! entirely older, otherwise small batches that hold no lock ingest waits
//! on. KPIs read rollups, which are kept, so they do not change.

pub mod server_fns;
#[cfg(feature = "ssr")]
pub mod store;

use serde::{Deserialize, Serialize};

/// Days each class is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Policy {
    pub events_days: u32,
    pub probe_results_days: u32,
    pub deliveries_days: u32,
    pub audit_days: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            events_days: 90,
            probe_results_days: 90,
            deliveries_days: 30,
            audit_days: 365,
        }
    }
}

/// Bounds: at least a day (a week for the audit log), at most ten years.
pub const MAX_DAYS: u32 = 3650;

impl Policy {
    /// (field, message) of the first value out of bounds.
    pub fn validate(&self) -> Result<(), (String, String)> {
        for (field, days, min) in [
            ("events_days", self.events_days, 1),
            ("probe_results_days", self.probe_results_days, 1),
            ("deliveries_days", self.deliveries_days, 1),
            ("audit_days", self.audit_days, 7),
        ] {
            if !(min..=MAX_DAYS).contains(&days) {
                return Err((field.to_owned(), format!("{min} to {MAX_DAYS} days")));
            }
        }
        Ok(())
    }
}

/// What a run removed (or, dry, would remove).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Report {
    pub dry_run: bool,
    pub started_at: String,
    pub seconds: f64,
    pub policy: Option<Policy>,
    /// One line per data class.
    pub classes: Vec<ClassReport>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ClassReport {
    /// events, probe_results, deliveries, audit_log, minute_rollups
    pub class: String,
    /// Removed before this time.
    pub before: String,
    pub rows: i64,
    /// Whole partitions dropped (names).
    pub partitions: Vec<String>,
}

impl Report {
    pub fn total_rows(&self) -> i64 {
        self.classes.iter().map(|c| c.rows).sum()
    }

    /// One line per class, for the CLI.
    pub fn lines(&self) -> Vec<String> {
        self.classes
            .iter()
            .map(|c| {
                let parts = match c.partitions.len() {
                    0 => String::new(),
                    1 => format!(" (1 whole partition: {})", c.partitions[0]),
                    n => format!(" ({n} whole partitions: {})", c.partitions.join(", ")),
                };
                let before = chrono::DateTime::parse_from_rfc3339(&c.before)
                    .map(|t| t.to_utc().format("%Y-%m-%d %H:%M UTC").to_string())
                    .unwrap_or_else(|_| c.before.clone());
                format!(
                    "{:<15} {} {} rows older than {}{parts}",
                    c.class,
                    if self.dry_run {
                        "would remove"
                    } else {
                        "removed"
                    },
                    c.rows,
                    before
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_lines_say_what_went_with_readable_times() {
        let r = Report {
            dry_run: true,
            classes: vec![
                ClassReport {
                    class: "events".into(),
                    before: "2026-09-04T18:30:23.376211425+00:00".into(),
                    rows: 60,
                    partitions: vec!["events_2026_05".into()],
                },
                ClassReport {
                    class: "audit_log".into(),
                    before: "2025-12-03T18:30:23Z".into(),
                    rows: 0,
                    partitions: Vec::new(),
                },
            ],
            ..Report::default()
        };
        assert_eq!(
            r.lines(),
            vec![
                "events          would remove 60 rows older than 2026-09-04 18:30 UTC (1 whole partition: events_2026_05)",
                "audit_log       would remove 0 rows older than 2025-12-03 18:30 UTC",
            ]
        );
        assert_eq!(r.total_rows(), 60);
    }

    #[test]
    fn policies_are_bounded() {
        assert_eq!(Policy::default().validate(), Ok(()));
        let p = Policy {
            events_days: 0,
            ..Policy::default()
        };
        assert_eq!(p.validate().map_err(|e| e.0), Err("events_days".into()));
        let p = Policy {
            audit_days: 3,
            ..Policy::default()
        };
        assert_eq!(p.validate().map_err(|e| e.0), Err("audit_days".into()));
        let p = Policy {
            deliveries_days: MAX_DAYS + 1,
            ..Policy::default()
        };
        assert!(p.validate().is_err());
    }
}
