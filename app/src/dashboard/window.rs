//! Time windows and how to count events in them exactly and cheaply.
//!
//! A window `[from, to)` is split into segments, each answered by the
//! cheapest table that is exact for it:
//! - whole UTC days from the daily rollups,
//! - whole hours from the hourly rollups,
//! - a partial hour from raw events — either the events of the part inside
//!   the window, or the hour's rollup minus the events of the part outside,
//!   whichever covers at most 30 minutes of raw rows.
//!
//! So a 30-day count reads ~30 daily rows per feature, ~48 hourly ones and
//! at most two half-hours of raw events, whatever the total volume.

use chrono::{DateTime, Duration, DurationRound, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// The range picker's choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Range {
    #[serde(rename = "24h")]
    Day,
    #[serde(rename = "7d")]
    Week,
    #[default]
    #[serde(rename = "30d")]
    Month,
}

impl Range {
    pub const ALL: [Range; 3] = [Range::Day, Range::Week, Range::Month];

    pub fn as_str(self) -> &'static str {
        match self {
            Range::Day => "24h",
            Range::Week => "7d",
            Range::Month => "30d",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Range::Day => "24 hours",
            Range::Week => "7 days",
            Range::Month => "30 days",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn duration(self) -> Duration {
        match self {
            Range::Day => Duration::hours(24),
            Range::Week => Duration::days(7),
            Range::Month => Duration::days(30),
        }
    }
}

/// Which table answers a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Hourly rollups with `bucket` in `[from, to)`.
    Hourly = 1,
    /// Daily rollups with `day` in `[from, to)` (UTC dates).
    Daily = 2,
    /// Raw events in `[from, to)`, added.
    RawAdd = 3,
    /// Raw events in `[from, to)`, subtracted.
    RawSub = 4,
}

/// A piece of window `idx`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub idx: i32,
    pub source: Source,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

const HOUR: Duration = Duration::hours(1);
const HALF_HOUR: Duration = Duration::minutes(30);

pub fn floor_hour(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(HOUR).unwrap_or(t)
}

fn ceil_hour(t: DateTime<Utc>) -> DateTime<Utc> {
    let f = floor_hour(t);
    if f == t { t } else { f + HOUR }
}

fn floor_day(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(Duration::days(1)).unwrap_or(t)
}

fn ceil_day(t: DateTime<Utc>) -> DateTime<Utc> {
    let f = floor_day(t);
    if f == t { t } else { f + Duration::days(1) }
}

/// Splits `[from, to)` into segments labelled `idx`.
pub fn segments(idx: i32, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Segment> {
    let mut out = Vec::new();
    if to <= from {
        return out;
    }
    let mut push = |source, from, to| {
        if from < to {
            out.push(Segment {
                idx,
                source,
                from,
                to,
            });
        }
    };
    let h0 = ceil_hour(from);
    let h1 = floor_hour(to);
    if h0 > h1 {
        // Inside one hour bucket.
        let bucket = floor_hour(from);
        if to - from <= HALF_HOUR || (from - bucket) + (bucket + HOUR - to) > HALF_HOUR {
            push(Source::RawAdd, from, to);
        } else {
            push(Source::Hourly, bucket, bucket + HOUR);
            push(Source::RawSub, bucket, from);
            push(Source::RawSub, to, bucket + HOUR);
        }
        return out;
    }
    // Head: the partial hour before h0.
    if from < h0 {
        let bucket = h0 - HOUR;
        if h0 - from <= HALF_HOUR {
            push(Source::RawAdd, from, h0);
        } else {
            push(Source::Hourly, bucket, h0);
            push(Source::RawSub, bucket, from);
        }
    }
    // Middle: whole hours, whole days where possible.
    let d0 = ceil_day(h0);
    let d1 = floor_day(h1);
    if d0 < d1 {
        push(Source::Hourly, h0, d0);
        push(Source::Daily, d0, d1);
        push(Source::Hourly, d1, h1);
    } else {
        push(Source::Hourly, h0, h1);
    }
    // Tail: the partial hour from h1.
    if h1 < to {
        if to - h1 <= HALF_HOUR {
            push(Source::RawAdd, h1, to);
        } else {
            push(Source::Hourly, h1, h1 + HOUR);
            push(Source::RawSub, to, h1 + HOUR);
        }
    }
    out
}

/// The segments of a window that ends now, `[from, now]`: like
/// [`segments`], except that the hour in progress comes whole from its
/// hourly rollup, so no raw event of it is read however fast events arrive.
/// (Events stamped later in this hour, from a client whose clock runs
/// slightly ahead, count with it.) A window that starts inside the current
/// hour — a local day starting at a half hour — is counted as `segments` does.
pub fn segments_to_now(idx: i32, from: DateTime<Utc>, now: DateTime<Utc>) -> Vec<Segment> {
    let hour = floor_hour(now);
    if from > hour {
        return segments(idx, from, now);
    }
    let mut out = segments(idx, from, hour);
    out.push(Segment {
        idx,
        source: Source::Hourly,
        from: hour,
        to: hour + HOUR,
    });
    out
}

/// The start of a window of `length` that ends now, in whole hourly
/// buckets: the current hour (so far) and the whole hours before it.
pub fn hours_back(now: DateTime<Utc>, length: Duration) -> DateTime<Utc> {
    floor_hour(now) + HOUR - length
}

/// The last `n` local days ending with today: (date, start, end), oldest
/// first; today ends at `now`.
pub fn local_days<Tz: TimeZone>(
    now: DateTime<Utc>,
    tz: &Tz,
    n: u32,
) -> Vec<(NaiveDate, DateTime<Utc>, DateTime<Utc>)> {
    let today = now.with_timezone(tz).date_naive();
    (0..n)
        .rev()
        .filter_map(|back| {
            let date = today - Duration::days(i64::from(back));
            let start = start_of_local_day(tz, date)?;
            let next = start_of_local_day(tz, date.succ_opt()?)?;
            Some((date, start, next.min(now)))
        })
        .collect()
}

/// The first instant of a local date (midnight, or the first existing
/// instant after it where a DST change skips midnight).
pub fn start_of_local_day<Tz: TimeZone>(tz: &Tz, date: NaiveDate) -> Option<DateTime<Utc>> {
    for minutes in [0, 30, 60, 90, 120] {
        let local = date.and_hms_opt(0, 0, 0)? + Duration::minutes(minutes);
        if let Some(t) = tz.from_local_datetime(&local).earliest() {
            return Some(t.with_timezone(&Utc));
        }
    }
    None
}

/// The hourly buckets of the stability KPI: the last 168, the current one
/// included, as `[from, to)` of bucket starts.
pub fn stability_buckets(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let to = floor_hour(now) + HOUR;
    (to - Duration::hours(super::kpi::STABILITY_BUCKETS), to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_to_now_reads_no_raw_events_of_the_current_hour() {
        let now = t("2026-03-10T14:37:12Z");
        let from = hours_back(now, Duration::hours(24));
        assert_eq!(from, t("2026-03-09T15:00:00Z"));
        let segs = segments_to_now(0, from, now);
        assert!(
            segs.iter()
                .all(|s| s.source == Source::Hourly || s.source == Source::Daily)
        );
        assert_eq!(
            segs.last().map(|s| (s.from, s.to)),
            Some((t("2026-03-10T14:00:00Z"), t("2026-03-10T15:00:00Z")))
        );
        // Whole buckets, no gaps, no overlaps: 24 of them.
        let hours: i64 = segs.iter().map(|s| (s.to - s.from).num_hours()).sum();
        assert_eq!(hours, 24);
        for pair in segs.windows(2) {
            assert_eq!(pair[0].to, pair[1].from);
        }
    }

    #[test]
    fn a_window_starting_inside_the_current_hour_counts_raw_events() {
        // A local day that began at 14:30 UTC (UTC+9:30).
        let now = t("2026-03-10T14:37:12Z");
        let segs = segments_to_now(0, t("2026-03-10T14:30:00Z"), now);
        assert_eq!(segs.len(), 1);
        assert_eq!(segs[0].source, Source::RawAdd);
    }

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    /// Adds up what each segment covers, minute by minute, to prove the
    /// segments cover exactly [from, to).
    fn coverage(segs: &[Segment], from: DateTime<Utc>, to: DateTime<Utc>) {
        let start = floor_day(from) - Duration::days(1);
        let end = ceil_day(to) + Duration::days(1);
        let mut m = start;
        while m < end {
            let mut weight = 0i32;
            for s in segs {
                let inside = m >= s.from && m < s.to;
                let day_inside = s.source == Source::Daily && m >= s.from && m < s.to;
                match s.source {
                    Source::Hourly | Source::RawAdd if inside => weight += 1,
                    Source::Daily if day_inside => weight += 1,
                    Source::RawSub if inside => weight -= 1,
                    _ => {}
                }
            }
            let expected = i32::from(m >= from && m < to);
            assert_eq!(weight, expected, "minute {m} counted {weight} times");
            m += Duration::minutes(1);
        }
    }

    #[test]
    fn a_30_day_window_uses_daily_rollups_in_the_middle() {
        let to = t("2026-11-22T10:40:00Z");
        let from = to - Duration::days(30);
        let segs = segments(0, from, to);
        coverage(&segs, from, to);
        assert!(segs.iter().any(|s| s.source == Source::Daily));
        let raw: Duration = segs
            .iter()
            .filter(|s| matches!(s.source, Source::RawAdd | Source::RawSub))
            .map(|s| s.to - s.from)
            .sum();
        assert!(raw <= Duration::minutes(40), "raw rows cover {raw}");
    }

    #[test]
    fn every_partial_hour_reads_at_most_30_minutes_of_raw_events() {
        for minute in [0, 1, 15, 29, 30, 31, 45, 59] {
            let to = t("2026-11-22T10:00:00Z") + Duration::minutes(minute);
            for len in [
                Duration::hours(24),
                Duration::days(7),
                Duration::days(30),
                Duration::minutes(20),
                Duration::minutes(50),
            ] {
                let from = to - len;
                let segs = segments(1, from, to);
                coverage(&segs, from, to);
                for s in segs
                    .iter()
                    .filter(|s| matches!(s.source, Source::RawAdd | Source::RawSub))
                {
                    assert!(s.to - s.from <= HALF_HOUR, "{s:?} for {from}..{to}");
                }
            }
        }
    }

    #[test]
    fn hour_aligned_windows_need_no_raw_events() {
        let from = t("2026-11-01T00:00:00Z");
        let to = t("2026-11-08T00:00:00Z");
        let segs = segments(2, from, to);
        coverage(&segs, from, to);
        assert!(
            segs.iter()
                .all(|s| matches!(s.source, Source::Daily | Source::Hourly))
        );
    }

    #[test]
    fn empty_window_has_no_segments() {
        let at = t("2026-11-01T00:00:00Z");
        assert!(segments(0, at, at).is_empty());
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn local_days_follow_the_time_zone() {
        let now = t("2026-11-22T00:30:00Z");
        let utc = local_days(now, &Utc, 7);
        assert_eq!(utc.len(), 7);
        assert_eq!(
            utc[6].0,
            NaiveDate::from_ymd_opt(2026, 11, 22).unwrap_or_default()
        );
        assert_eq!(utc[6].1, t("2026-11-22T00:00:00Z"));
        assert_eq!(utc[6].2, now);

        // 00:30 UTC is already 01:30 on the same date in Berlin (UTC+1).
        let berlin = local_days(now, &chrono_tz::Europe::Berlin, 7);
        assert_eq!(
            berlin[6].0,
            NaiveDate::from_ymd_opt(2026, 11, 22).unwrap_or_default()
        );
        assert_eq!(berlin[6].1, t("2026-11-21T23:00:00Z"));
        assert_eq!(berlin[5].1, t("2026-11-20T23:00:00Z"));
        assert_eq!(berlin[5].2, t("2026-11-21T23:00:00Z"));

        // 23:30 UTC on the 21st is still the 21st in New York (UTC-5).
        let ny = local_days(t("2026-11-21T23:30:00Z"), &chrono_tz::America::New_York, 7);
        assert_eq!(
            ny[6].0,
            NaiveDate::from_ymd_opt(2026, 11, 21).unwrap_or_default()
        );
        assert_eq!(ny[6].1, t("2026-11-21T05:00:00Z"));
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn local_days_across_a_dst_change_are_23_or_25_hours() {
        // Berlin left summer time on 2026-10-25: that day has 25 hours.
        let days = local_days(t("2026-10-27T12:00:00Z"), &chrono_tz::Europe::Berlin, 7);
        let oct25 = days
            .iter()
            .find(|d| d.0 == NaiveDate::from_ymd_opt(2026, 10, 25).unwrap_or_default())
            .copied()
            .unwrap_or((
                NaiveDate::default(),
                t("2026-01-01T00:00:00Z"),
                t("2026-01-01T00:00:00Z"),
            ));
        assert_eq!(oct25.2 - oct25.1, Duration::hours(25));
    }

    #[test]
    fn stability_covers_168_buckets_ending_with_the_current_hour() {
        let (from, to) = stability_buckets(t("2026-11-22T10:40:00Z"));
        assert_eq!(to, t("2026-11-22T11:00:00Z"));
        assert_eq!(to - from, Duration::hours(168));
    }

    #[test]
    fn ranges_parse_and_print() {
        for r in Range::ALL {
            assert_eq!(Range::parse(r.as_str()), Some(r));
        }
        assert_eq!(Range::parse("1y"), None);
    }
}
