//! Failed-authentication limits: wrong passwords and unknown API keys.
//!
//! Failures are counted per client address and per (account, address)
//! pair. More than `limit` failures within a minute lock that key for a
//! minute, doubling with every further lockout (at most an hour); while
//! locked, attempts are answered 429 without checking the credentials. A
//! user signing in correctly from another address is never affected by an
//! attacker's failures; a success clears the pair's record.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);
const FIRST_LOCK: Duration = Duration::from_secs(60);
const MAX_LOCK: Duration = Duration::from_secs(3600);

#[derive(Default)]
struct Entry {
    failures: VecDeque<Instant>,
    locked_until: Option<Instant>,
    lockouts: u32,
}

pub struct FailureLimiter {
    limit: usize,
    entries: Mutex<HashMap<String, Entry>>,
}

impl FailureLimiter {
    /// At most `limit` failures a minute per key (0 = no limit).
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(seconds)` when any of `keys` is locked.
    pub fn check(&self, keys: &[String], now: Instant) -> Result<(), u64> {
        if self.limit == 0 {
            return Ok(());
        }
        let Ok(entries) = self.entries.lock() else {
            return Ok(());
        };
        let wait = keys
            .iter()
            .filter_map(|k| entries.get(k)?.locked_until)
            .filter(|until| *until > now)
            .map(|until| until - now)
            .max();
        match wait {
            Some(w) => Err(w.as_secs().max(1)),
            None => Ok(()),
        }
    }

    /// Records a failure for each key; returns the lock time in seconds
    /// when this failure locked one.
    pub fn fail(&self, keys: &[String], now: Instant) -> Option<u64> {
        if self.limit == 0 {
            return None;
        }
        let Ok(mut entries) = self.entries.lock() else {
            return None;
        };
        if entries.len() > 100_000 {
            entries.retain(|_, e| {
                e.locked_until.is_some_and(|u| u > now)
                    || e.failures.back().is_some_and(|t| now - *t < WINDOW)
            });
        }
        let mut locked = None;
        for key in keys {
            let e = entries.entry(key.clone()).or_default();
            while e.failures.front().is_some_and(|t| now - *t >= WINDOW) {
                e.failures.pop_front();
            }
            e.failures.push_back(now);
            if e.failures.len() > self.limit {
                let lock = FIRST_LOCK
                    .saturating_mul(1 << e.lockouts.min(6))
                    .min(MAX_LOCK);
                e.locked_until = Some(now + lock);
                e.lockouts += 1;
                e.failures.clear();
                locked = Some(locked.unwrap_or(0).max(lock.as_secs()));
            }
        }
        locked
    }

    /// Forgets the failures of `key` after a successful sign-in.
    pub fn succeed(&self, key: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(key);
        }
    }
}

/// Limiter keys for a client address and, when known, an account.
pub fn keys(ip: Option<std::net::IpAddr>, account: Option<&str>) -> Vec<String> {
    let ip = ip
        .map(|i| i.to_string())
        .unwrap_or_else(|| "unknown".into());
    let mut out = vec![format!("ip:{ip}")];
    if let Some(a) = account {
        out.push(format!("acct:{}|{ip}", a.trim().to_lowercase()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<std::net::IpAddr> {
        s.parse().ok()
    }

    #[test]
    fn twenty_failures_a_minute_are_allowed_the_21st_locks() {
        let l = FailureLimiter::new(20);
        let t = Instant::now();
        let k = keys(ip("10.0.0.1"), Some("a@example.com"));
        for i in 0..20 {
            assert_eq!(l.check(&k, t), Ok(()), "attempt {i}");
            assert_eq!(l.fail(&k, t), None);
        }
        assert_eq!(l.fail(&k, t), Some(60));
        assert_eq!(l.check(&k, t + Duration::from_secs(1)), Err(59));
        assert_eq!(l.check(&k, t + Duration::from_secs(61)), Ok(()));
    }

    #[test]
    fn lockouts_grow() {
        let l = FailureLimiter::new(2);
        let k = keys(ip("10.0.0.1"), None);
        let mut t = Instant::now();
        let mut locks = Vec::new();
        for _ in 0..3 {
            l.fail(&k, t);
            l.fail(&k, t);
            locks.push(l.fail(&k, t));
            t += Duration::from_secs(7200);
        }
        assert_eq!(locks, vec![Some(60), Some(120), Some(240)]);
    }

    #[test]
    fn failures_spread_over_time_never_lock() {
        let l = FailureLimiter::new(20);
        let k = keys(ip("10.0.0.1"), None);
        let mut t = Instant::now();
        for _ in 0..100 {
            assert_eq!(l.fail(&k, t), None);
            t += Duration::from_secs(4);
        }
    }

    #[test]
    fn another_address_is_not_punished() {
        let l = FailureLimiter::new(3);
        let t = Instant::now();
        let attacker = keys(ip("10.0.0.66"), Some("ops@example.com"));
        for _ in 0..4 {
            l.fail(&attacker, t);
        }
        assert!(l.check(&attacker, t).is_err());
        let user = keys(ip("10.0.0.7"), Some("ops@example.com"));
        assert_eq!(l.check(&user, t), Ok(()));
    }

    #[test]
    fn zero_disables_the_limit() {
        let l = FailureLimiter::new(0);
        let k = keys(None, None);
        for _ in 0..1000 {
            assert_eq!(l.fail(&k, Instant::now()), None);
        }
        assert_eq!(l.check(&k, Instant::now()), Ok(()));
    }
}
