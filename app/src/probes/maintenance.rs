//! Whether a maintenance window is on at a given moment: one-off windows
//! from start to end, weekly windows on their weekday and time in their
//! own time zone (so "Sunday 02:00 Europe/Berlin" follows daylight saving).

use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

/// A window as stored.
#[derive(Debug, Clone, PartialEq)]
pub enum Window {
    Once {
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
    },
    Weekly {
        /// 0 = Monday … 6 = Sunday.
        weekday: u32,
        start: NaiveTime,
        minutes: i64,
        time_zone: Tz,
    },
}

impl Window {
    /// Whether the window covers `at`.
    pub fn covers(&self, at: DateTime<Utc>) -> bool {
        match self {
            Self::Once { starts_at, ends_at } => *starts_at <= at && at < *ends_at,
            Self::Weekly {
                weekday,
                start,
                minutes,
                time_zone,
            } => {
                let local = at.with_timezone(time_zone);
                // The window may have started today or on one of the
                // previous days (a window can last up to a week).
                (0..8).any(|back| {
                    let day = local.date_naive() - Duration::days(back);
                    if day.weekday().num_days_from_monday() != *weekday {
                        return false;
                    }
                    let Some(begin) = time_zone
                        .from_local_datetime(&day.and_time(*start))
                        .earliest()
                    else {
                        return false;
                    };
                    let begin = begin.with_timezone(&Utc);
                    begin <= at && at < begin + Duration::minutes(*minutes)
                })
            }
        }
    }
}

/// `0..=6` for Monday…Sunday.
pub fn weekday_name(d: u32) -> &'static str {
    match Weekday::try_from(d as u8) {
        Ok(Weekday::Mon) => "Monday",
        Ok(Weekday::Tue) => "Tuesday",
        Ok(Weekday::Wed) => "Wednesday",
        Ok(Weekday::Thu) => "Thursday",
        Ok(Weekday::Fri) => "Friday",
        Ok(Weekday::Sat) => "Saturday",
        Ok(Weekday::Sun) => "Sunday",
        Err(_) => "?",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    #[test]
    fn a_one_off_window_covers_its_start_but_not_its_end() {
        let w = Window::Once {
            starts_at: at("2026-12-01T10:00:00Z"),
            ends_at: at("2026-12-01T11:00:00Z"),
        };
        assert!(!w.covers(at("2026-12-01T09:59:59Z")));
        assert!(w.covers(at("2026-12-01T10:00:00Z")));
        assert!(w.covers(at("2026-12-01T10:59:59Z")));
        assert!(!w.covers(at("2026-12-01T11:00:00Z")));
    }

    #[test]
    fn a_weekly_window_follows_its_time_zone_across_daylight_saving() {
        // Sundays 02:00–03:00 in Berlin.
        let w = Window::Weekly {
            weekday: 6,
            start: NaiveTime::from_hms_opt(2, 0, 0).expect("time"),
            minutes: 60,
            time_zone: chrono_tz::Europe::Berlin,
        };
        // Winter (UTC+1): 01:00–02:00 UTC.
        assert!(w.covers(at("2026-12-06T01:30:00Z")));
        assert!(!w.covers(at("2026-12-06T02:30:00Z")));
        // Summer (UTC+2): 00:00–01:00 UTC.
        assert!(w.covers(at("2026-07-05T00:30:00Z")));
        assert!(!w.covers(at("2026-07-05T01:30:00Z")));
        // Not on a Saturday.
        assert!(!w.covers(at("2026-12-05T01:30:00Z")));
    }

    #[test]
    fn a_weekly_window_may_run_past_midnight() {
        // Saturdays 23:00 for three hours, UTC.
        let w = Window::Weekly {
            weekday: 5,
            start: NaiveTime::from_hms_opt(23, 0, 0).expect("time"),
            minutes: 180,
            time_zone: chrono_tz::UTC,
        };
        assert!(w.covers(at("2026-12-06T01:00:00Z")), "Sunday 01:00");
        assert!(!w.covers(at("2026-12-06T02:00:00Z")));
    }
}
