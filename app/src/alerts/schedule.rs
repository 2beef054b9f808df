//! The retry schedule of deliveries: by default the Standard Webhooks one
//! (immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h —
//! about three days), each step ±10 % jitter, and a `Retry-After` from
//! the receiver honoured on 429, 502, 503 and 504.

use chrono::{DateTime, Duration, Utc};

/// The default schedule, as the setting spells it.
pub const STANDARD_WEBHOOKS: &str = "0s,5s,5m,30m,2h,5h,10h,14h,20h,24h";

/// The longest `Retry-After` honoured; longer ones wait this long.
pub const MAX_RETRY_AFTER: Duration = Duration::hours(24);

/// One duration: a number and a unit (ms, s, m, h, d).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("“{s}” needs a unit (ms, s, m, h, d)"))?;
    let (n, unit) = s.split_at(split);
    let n: i64 = n
        .parse()
        .map_err(|_| format!("“{s}” does not start with a number"))?;
    let d = match unit {
        "ms" => Duration::try_milliseconds(n),
        "s" => Duration::try_seconds(n),
        "m" => Duration::try_minutes(n),
        "h" => Duration::try_hours(n),
        "d" => Duration::try_days(n),
        _ => return Err(format!("“{s}”: the unit is one of ms, s, m, h, d")),
    };
    match d {
        Some(d) if d <= Duration::days(36_500) => Ok(d),
        _ => Err(format!("“{s}” is too long")),
    }
}

/// A comma-separated schedule: the delay before each attempt after the
/// previous one (the first after the delivery was queued).
pub fn parse_schedule(s: &str) -> Result<Vec<Duration>, String> {
    let steps: Vec<Duration> = s.split(',').map(parse_duration).collect::<Result<_, _>>()?;
    if let Some(long) = steps.iter().find(|d| **d > Duration::days(7)) {
        return Err(format!(
            "a step of {} days is longer than 7 days",
            long.num_days()
        ));
    }
    if steps.is_empty() || steps.len() > 50 {
        return Err("between 1 and 50 steps".into());
    }
    Ok(steps)
}

/// `d` moved by up to ±10 %, by `unit` in [-1, 1].
pub fn jittered(d: Duration, unit: f64) -> Duration {
    let ms = d.num_milliseconds() as f64;
    Duration::milliseconds((ms * (1.0 + 0.1 * unit.clamp(-1.0, 1.0))).round() as i64)
}

/// When to try again after attempt number `attempt` (1-based) failed at
/// `now`: None when the schedule is exhausted (the delivery becomes a dead
/// letter). A receiver's `Retry-After` replaces the step's delay (capped at
/// [`MAX_RETRY_AFTER`]) but does not add attempts.
pub fn next_attempt(
    schedule: &[Duration],
    attempt: usize,
    now: DateTime<Utc>,
    retry_after: Option<Duration>,
    jitter_unit: f64,
) -> Option<DateTime<Utc>> {
    let step = schedule.get(attempt)?;
    let delay = match retry_after {
        Some(r) => r.clamp(Duration::zero(), MAX_RETRY_AFTER),
        None => jittered(*step, jitter_unit),
    };
    Some(now + delay)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_the_standard_webhooks_schedule() {
        let s = parse_schedule(STANDARD_WEBHOOKS).expect("parses");
        let total: i64 = s.iter().map(|d| d.num_seconds()).sum();
        assert_eq!(s.len(), 10);
        assert_eq!(
            (s[0], s[1], s[2]),
            (Duration::zero(), Duration::seconds(5), Duration::minutes(5))
        );
        // 5 s + 5 min + 30 min + 2 h + 5 h + 10 h + 14 h + 20 h + 24 h ≈ 3 days.
        assert_eq!(total, 5 + 300 + 1800 + 3600 * (2 + 5 + 10 + 14 + 20 + 24));
    }

    #[test]
    fn bad_schedules_say_what_is_wrong() {
        assert!(parse_schedule("5").expect_err("invalid").contains("unit"));
        assert!(parse_schedule("5x").expect_err("invalid").contains("unit"));
        assert!(parse_schedule("s").expect_err("invalid").contains("number"));
        assert!(
            parse_schedule("30d")
                .expect_err("invalid")
                .contains("7 days")
        );
        assert!(parse_schedule("").is_err());
        assert!(parse_duration("99999999999999d").is_err(), "no overflow");
        assert_eq!(parse_duration("30d"), Ok(Duration::days(30)));
        assert_eq!(
            parse_schedule("0s, 200ms ,1s").expect("ok")[1],
            Duration::milliseconds(200)
        );
    }

    #[test]
    fn attempts_follow_the_schedule_with_bounded_jitter_until_exhausted() {
        let s = parse_schedule("0s,5s,5m").expect("ok");
        let now = DateTime::from_timestamp(1_800_000_000, 0).expect("time");
        // After attempt 1 fails, attempt 2 is due 5 s later (±10 %).
        assert_eq!(
            next_attempt(&s, 1, now, None, 0.0),
            Some(now + Duration::seconds(5))
        );
        assert_eq!(
            next_attempt(&s, 1, now, None, 1.0),
            Some(now + Duration::milliseconds(5500))
        );
        assert_eq!(
            next_attempt(&s, 1, now, None, -1.0),
            Some(now + Duration::milliseconds(4500))
        );
        assert_eq!(
            next_attempt(&s, 2, now, None, 0.0),
            Some(now + Duration::minutes(5))
        );
        // Three steps, three attempts: then it is a dead letter.
        assert_eq!(next_attempt(&s, 3, now, None, 0.0), None);
        // Retry-After replaces the step, capped at a day.
        assert_eq!(
            next_attempt(&s, 1, now, Some(Duration::seconds(60)), 0.5),
            Some(now + Duration::seconds(60))
        );
        assert_eq!(
            next_attempt(&s, 1, now, Some(Duration::days(9)), 0.0),
            Some(now + Duration::hours(24))
        );
        assert_eq!(
            next_attempt(&s, 3, now, Some(Duration::seconds(1)), 0.0),
            None
        );
    }
}
