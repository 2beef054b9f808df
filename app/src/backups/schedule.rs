//! When scheduled backups run and which of them are kept. Pure functions:
//! the scheduler and the tests share them.

use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// When scheduled backups run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    Off,
    /// Every day at this local time.
    Daily(NaiveTime),
    /// Every `n` seconds, aligned to the Unix epoch (so every process
    /// agrees on the slots).
    Every(i64),
}

impl Schedule {
    /// `off`, `HH:MM` (daily, local time) or `every 6h` / `every 30m` / `every 45s`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim().to_ascii_lowercase();
        if s == "off" || s == "none" || s.is_empty() {
            return Ok(Self::Off);
        }
        if let Some(rest) = s.strip_prefix("every") {
            let rest = rest.trim();
            let (num, unit) = rest.split_at(
                rest.find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(rest.len()),
            );
            let n: i64 = num
                .parse()
                .map_err(|_| format!("`{s}`: expected a number, e.g. `every 6h`"))?;
            let secs = match unit.trim() {
                "s" => n,
                "m" => n * 60,
                "h" => n * 3600,
                "d" => n * 86_400,
                other => return Err(format!("`{s}`: unknown unit `{other}` (use s, m, h or d)")),
            };
            if secs < 1 {
                return Err(format!("`{s}`: the interval must be at least 1 s"));
            }
            return Ok(Self::Every(secs));
        }
        NaiveTime::parse_from_str(&s, "%H:%M")
            .map(Self::Daily)
            .map_err(|_| format!("`{s}`: expected `off`, a time like `02:00`, or `every 6h`"))
    }

    /// The first slot strictly after `now`.
    pub fn next_after(&self, now: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        match *self {
            Self::Off => None,
            Self::Every(n) => {
                let t = now.timestamp();
                let next = (t.div_euclid(n) + 1) * n;
                DateTime::from_timestamp(next, 0)
            }
            Self::Daily(at) => {
                let local = now.with_timezone(&tz).date_naive();
                (0..3).find_map(|d| {
                    let day = local + Duration::days(d);
                    // A time skipped by a DST change runs at the first
                    // valid instant after it; a repeated one runs once.
                    let candidate = match tz.from_local_datetime(&day.and_time(at)) {
                        chrono::LocalResult::Single(t) => Some(t),
                        chrono::LocalResult::Ambiguous(first, _) => Some(first),
                        chrono::LocalResult::None => tz
                            .from_local_datetime(&(day.and_time(at) + Duration::hours(1)))
                            .earliest(),
                    }?
                    .with_timezone(&Utc);
                    (candidate > now).then_some(candidate)
                })
            }
        }
    }
}

/// Which scheduled backups are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Keep the newest `last` backups (used when no tier is set).
    pub last: u32,
    /// Keep the newest backup of each of the last `daily` days that have one.
    pub daily: u32,
    /// Keep the newest backup of each of the last `monthly` months that have one.
    pub monthly: u32,
}

impl Retention {
    /// The ids among `backups` (id, created_at; any order) to delete.
    pub fn to_delete(&self, backups: &[(i64, DateTime<Utc>)], tz: Tz) -> Vec<i64> {
        let mut sorted = backups.to_vec();
        sorted.sort_by_key(|b| std::cmp::Reverse((b.1, b.0)));
        let mut keep = std::collections::HashSet::new();
        if self.daily == 0 && self.monthly == 0 {
            keep.extend(sorted.iter().take(self.last as usize).map(|b| b.0));
        } else {
            let mut days = Vec::new();
            let mut months = Vec::new();
            for (id, at) in &sorted {
                let local = at.with_timezone(&tz).date_naive();
                if !days.contains(&local) && days.len() < self.daily as usize {
                    days.push(local);
                    keep.insert(*id);
                }
                let month = (local.year(), local.month());
                if !months.contains(&month) && months.len() < self.monthly as usize {
                    months.push(month);
                    keep.insert(*id);
                }
            }
        }
        let mut out: Vec<i64> = sorted
            .iter()
            .map(|b| b.0)
            .filter(|id| !keep.contains(id))
            .collect();
        out.sort_unstable();
        out
    }
}

/// Backup health from the age of the newest good backup:
/// healthy under 26 h, warning under 48 h, critical otherwise or never.
pub fn health(age: Option<Duration>) -> super::types::HealthStatus {
    use super::types::HealthStatus;
    match age {
        Some(a) if a < Duration::hours(26) => HealthStatus::Healthy,
        Some(a) if a < Duration::hours(48) => HealthStatus::Warning,
        _ => HealthStatus::Critical,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backups::types::HealthStatus;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    #[test]
    fn schedules_parse() {
        assert_eq!(Schedule::parse("off"), Ok(Schedule::Off));
        assert_eq!(
            Schedule::parse("02:00"),
            Ok(Schedule::Daily(
                NaiveTime::from_hms_opt(2, 0, 0).expect("t")
            ))
        );
        assert_eq!(Schedule::parse("every 6h"), Ok(Schedule::Every(21_600)));
        assert_eq!(Schedule::parse("every 30m"), Ok(Schedule::Every(1_800)));
        assert_eq!(Schedule::parse("every2s"), Ok(Schedule::Every(2)));
        assert!(Schedule::parse("25:00").is_err());
        assert!(Schedule::parse("every 0s").is_err());
        assert!(Schedule::parse("every 3w").is_err());
        assert!(Schedule::parse("sometimes").is_err());
    }

    #[test]
    fn daily_runs_at_the_local_time() {
        let s = Schedule::parse("02:00").expect("parse");
        let berlin: Tz = "Europe/Berlin".parse().expect("tz");
        // 00:30 UTC on 1 July is 02:30 in Berlin: today's run has passed.
        assert_eq!(
            s.next_after(utc("2026-07-01T00:30:00Z"), berlin),
            Some(utc("2026-07-02T00:00:00Z"))
        );
        assert_eq!(
            s.next_after(utc("2026-07-01T23:59:00Z"), chrono_tz::UTC),
            Some(utc("2026-07-02T02:00:00Z"))
        );
        // Exactly at the slot: the next one.
        assert_eq!(
            s.next_after(utc("2026-07-02T02:00:00Z"), chrono_tz::UTC),
            Some(utc("2026-07-03T02:00:00Z"))
        );
        // 02:30 does not exist in Berlin on 29 March 2026: runs at 03:30 CEST.
        let s = Schedule::parse("02:30").expect("parse");
        assert_eq!(
            s.next_after(utc("2026-03-28T12:00:00Z"), berlin),
            Some(utc("2026-03-29T01:30:00Z"))
        );
        assert_eq!(Schedule::Off.next_after(Utc::now(), berlin), None);
    }

    #[test]
    fn intervals_are_aligned_so_processes_agree() {
        let s = Schedule::Every(3600);
        assert_eq!(
            s.next_after(utc("2026-07-01T10:59:59Z"), chrono_tz::UTC),
            Some(utc("2026-07-01T11:00:00Z"))
        );
        assert_eq!(
            s.next_after(utc("2026-07-01T11:00:00Z"), chrono_tz::UTC),
            Some(utc("2026-07-01T12:00:00Z"))
        );
    }

    #[test]
    fn retention_keeps_the_last_n() {
        let base = utc("2026-07-01T02:00:00Z");
        let list: Vec<_> = (1..=12).map(|i| (i, base + Duration::days(i))).collect();
        let r = Retention {
            last: 10,
            daily: 0,
            monthly: 0,
        };
        assert_eq!(r.to_delete(&list, chrono_tz::UTC), vec![1, 2]);
        let r = Retention {
            last: 20,
            daily: 0,
            monthly: 0,
        };
        assert!(r.to_delete(&list, chrono_tz::UTC).is_empty());
        assert!(r.to_delete(&[], chrono_tz::UTC).is_empty());
    }

    #[test]
    fn retention_tiers_keep_one_per_day_and_month() {
        // Two backups a day for 90 days (ids ascending with time).
        let base = utc("2026-01-01T01:00:00Z");
        let mut list = Vec::new();
        for d in 0..90 {
            list.push((2 * d, base + Duration::days(d)));
            list.push((2 * d + 1, base + Duration::days(d) + Duration::hours(12)));
        }
        let r = Retention {
            last: 10,
            daily: 7,
            monthly: 3,
        };
        let delete = r.to_delete(&list, chrono_tz::UTC);
        let kept: Vec<i64> = list
            .iter()
            .map(|b| b.0)
            .filter(|id| !delete.contains(id))
            .collect();
        // Newest of each of the last 7 days: odd ids 167..179; newest of
        // March (179, already kept), February (117) and January (61).
        assert_eq!(kept, vec![61, 117, 167, 169, 171, 173, 175, 177, 179]);
    }

    #[test]
    fn health_boundaries() {
        assert_eq!(health(None), HealthStatus::Critical);
        assert_eq!(health(Some(Duration::hours(25))), HealthStatus::Healthy);
        assert_eq!(
            health(Some(Duration::hours(26) - Duration::seconds(1))),
            HealthStatus::Healthy
        );
        assert_eq!(health(Some(Duration::hours(26))), HealthStatus::Warning);
        assert_eq!(
            health(Some(Duration::hours(48) - Duration::seconds(1))),
            HealthStatus::Warning
        );
        assert_eq!(health(Some(Duration::hours(48))), HealthStatus::Critical);
    }
}
