//! Failed-authentication limits: wrong passwords and unknown API keys.
//!
//! An attempt is counted *before* its credentials are checked: reserving
//! it and checking the count happen under one lock, so a burst of
//! concurrent attempts can never check more credentials than the limit.
//! More than `limit` attempts within a minute lock the key for a minute,
//! doubling with every further lockout (at most an hour); while locked,
//! attempts are answered 429 without checking anything. A success gives
//! its reservation back and clears the (account, address) record.
//!
//! Keys name who is counted: the client address (its /64 for IPv6), the
//! (account, address) pair for sign-ins, the (key prefix, address) pair
//! for API keys, so a valid key keeps working whatever other keys were
//! tried from the same address.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);
const FIRST_LOCK: Duration = Duration::from_secs(60);
const MAX_LOCK: Duration = Duration::from_secs(3600);

#[derive(Default)]
struct Entry {
    attempts: VecDeque<Instant>,
    locked_until: Option<Instant>,
    lockouts: u32,
}

impl Entry {
    fn forget_before(&mut self, now: Instant) {
        while self
            .attempts
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= WINDOW)
        {
            self.attempts.pop_front();
        }
    }

    fn locked_at(&self, now: Instant) -> Option<Duration> {
        self.locked_until
            .filter(|until| *until > now)
            .map(|until| until - now)
    }

    /// Kept while it locks or still counts attempts, or while its lockout
    /// history may still make the next lockout longer.
    fn matters(&self, now: Instant) -> bool {
        self.locked_at(now).is_some()
            || !self.attempts.is_empty()
            || self
                .locked_until
                .is_some_and(|until| now.saturating_duration_since(until) < MAX_LOCK)
    }
}

pub struct FailureLimiter {
    limit: usize,
    entries: Mutex<HashMap<String, Entry>>,
}

/// An attempt that was let through: give it back with
/// [`FailureLimiter::give_back`] when the credentials were right or were never checked.
#[derive(Debug, PartialEq)]
pub struct Reservation {
    at: Instant,
}

impl FailureLimiter {
    /// At most `limit` unsuccessful attempts a minute per key (0 = no limit).
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Counts an attempt for every key, or refuses it with the seconds to
    /// wait when any key is locked or this attempt would exceed the limit
    /// (then nothing may be checked).
    pub fn reserve(&self, keys: &[String], now: Instant) -> Result<Reservation, u64> {
        let reservation = Reservation { at: now };
        if self.limit == 0 {
            return Ok(reservation);
        }
        let Ok(mut entries) = self.entries.lock() else {
            return Err(FIRST_LOCK.as_secs());
        };
        let wait = keys
            .iter()
            .filter_map(|k| entries.get(k)?.locked_at(now))
            .max();
        if let Some(wait) = wait {
            return Err(wait.as_secs().max(1));
        }
        let mut locked: Option<Duration> = None;
        for key in keys {
            let e = entries.entry(key.clone()).or_default();
            e.forget_before(now);
            if e.attempts.len() >= self.limit {
                let lock = FIRST_LOCK
                    .saturating_mul(1 << e.lockouts.min(6))
                    .min(MAX_LOCK);
                e.locked_until = Some(now + lock);
                e.lockouts += 1;
                e.attempts.clear();
                locked = Some(locked.map_or(lock, |l| l.max(lock)));
            }
        }
        if let Some(lock) = locked {
            return Err(lock.as_secs());
        }
        for key in keys {
            entries
                .entry(key.clone())
                .or_default()
                .attempts
                .push_back(now);
        }
        Ok(reservation)
    }

    /// The reserved attempt succeeded (or was never checked): it no longer counts, and `clear`
    /// (the account or key pair) forgets its record entirely.
    pub fn give_back(&self, keys: &[String], reservation: Reservation, clear: Option<&str>) {
        if self.limit == 0 {
            return;
        }
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        for key in keys {
            if let Some(e) = entries.get_mut(key)
                && let Some(i) = e.attempts.iter().rposition(|t| *t == reservation.at)
            {
                e.attempts.remove(i);
            }
        }
        if let Some(key) = clear {
            entries.remove(key);
        }
    }

    /// Drops what no longer counts (run by housekeeping every minute).
    pub fn prune(&self, now: Instant) -> usize {
        let Ok(mut entries) = self.entries.lock() else {
            return 0;
        };
        entries.retain(|_, e| {
            e.forget_before(now);
            e.matters(now)
        });
        entries.len()
    }
}

fn address(ip: Option<std::net::IpAddr>) -> String {
    match ip {
        Some(std::net::IpAddr::V6(v6)) => {
            let net = u128::from(v6) & !((1u128 << 64) - 1);
            format!("{}/64", std::net::Ipv6Addr::from(net))
        }
        Some(v4) => v4.to_string(),
        None => "unknown".into(),
    }
}

/// Limiter keys for a sign-in: the client address and (account, address).
pub fn login_keys(ip: Option<std::net::IpAddr>, account: &str) -> Vec<String> {
    let ip = address(ip);
    vec![
        format!("ip:{ip}"),
        format!("acct:{}|{ip}", account.trim().to_lowercase()),
    ]
}

/// The limiter key for an API key that is not cached: its visible prefix
/// (or "malformed") with the client address.
pub fn api_key_keys(ip: Option<std::net::IpAddr>, prefix: Option<&str>) -> Vec<String> {
    vec![format!(
        "key:{}|{}",
        prefix.unwrap_or("malformed"),
        address(ip)
    )]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<std::net::IpAddr> {
        s.parse().ok()
    }

    #[test]
    fn twenty_attempts_a_minute_are_let_through_the_21st_locks_unchecked() {
        let l = FailureLimiter::new(20);
        let t = Instant::now();
        let k = login_keys(ip("10.0.0.1"), "a@example.com");
        for i in 0..20 {
            assert!(l.reserve(&k, t).is_ok(), "attempt {i}");
        }
        assert_eq!(l.reserve(&k, t), Err(60));
        assert_eq!(
            l.reserve(&k, t + Duration::from_secs(1)).map(|_| ()),
            Err(59)
        );
        assert!(l.reserve(&k, t + Duration::from_secs(61)).is_ok());
    }

    #[test]
    fn a_success_gives_its_attempt_back() {
        let l = FailureLimiter::new(2);
        let t = Instant::now();
        let k = login_keys(ip("10.0.0.1"), "a@example.com");
        for _ in 0..10 {
            let r = l.reserve(&k, t).expect("let through");
            l.give_back(&k, r, Some(&k[1]));
        }
        assert!(l.reserve(&k, t).is_ok());
    }

    #[test]
    fn lockouts_grow() {
        let l = FailureLimiter::new(2);
        let k = login_keys(ip("10.0.0.1"), "x");
        let mut t = Instant::now();
        let mut locks = Vec::new();
        for _ in 0..3 {
            let _ = l.reserve(&k, t);
            let _ = l.reserve(&k, t);
            locks.push(l.reserve(&k, t).err());
            t += Duration::from_secs(3000);
        }
        assert_eq!(locks, vec![Some(60), Some(120), Some(240)]);
    }

    #[test]
    fn attempts_spread_over_time_never_lock() {
        let l = FailureLimiter::new(20);
        let k = login_keys(ip("10.0.0.1"), "x");
        let mut t = Instant::now();
        for _ in 0..100 {
            assert!(l.reserve(&k, t).is_ok());
            t += Duration::from_secs(4);
        }
    }

    #[test]
    fn another_address_is_not_punished() {
        let l = FailureLimiter::new(3);
        let t = Instant::now();
        let attacker = login_keys(ip("10.0.0.66"), "ops@example.com");
        for _ in 0..4 {
            let _ = l.reserve(&attacker, t);
        }
        assert!(l.reserve(&attacker, t).is_err());
        let user = login_keys(ip("10.0.0.7"), "ops@example.com");
        assert!(l.reserve(&user, t).is_ok());
    }

    #[test]
    fn bad_keys_do_not_lock_out_another_key_from_the_same_address() {
        let l = FailureLimiter::new(3);
        let t = Instant::now();
        let guessed = api_key_keys(ip("10.0.0.1"), Some("lst_aaaaaaaa"));
        for _ in 0..10 {
            let _ = l.reserve(&guessed, t);
        }
        assert!(l.reserve(&guessed, t).is_err());
        let valid = api_key_keys(ip("10.0.0.1"), Some("lst_bbbbbbbb"));
        assert!(l.reserve(&valid, t).is_ok());
    }

    #[test]
    fn ipv6_neighbours_in_one_64_share_a_count() {
        assert_eq!(
            login_keys(ip("2001:db8::1"), "a")[0],
            login_keys(ip("2001:db8::ffff:2"), "a")[0]
        );
        assert_ne!(
            login_keys(ip("2001:db8:0:1::1"), "a")[0],
            login_keys(ip("2001:db8:0:2::1"), "a")[0]
        );
    }

    #[test]
    fn pruning_keeps_only_what_still_counts() {
        let l = FailureLimiter::new(2);
        let t = Instant::now();
        let _ = l.reserve(&login_keys(ip("10.0.0.1"), "a"), t);
        for _ in 0..3 {
            let _ = l.reserve(&login_keys(ip("10.0.0.2"), "b"), t);
        }
        assert_eq!(l.prune(t + Duration::from_secs(30)), 4);
        // The unlocked ones are forgotten after a minute; the locked pair's
        // history stays while it can still lengthen the next lockout.
        assert_eq!(l.prune(t + Duration::from_secs(120)), 2);
        assert_eq!(l.prune(t + Duration::from_secs(7200)), 0);
    }

    #[test]
    fn zero_disables_the_limit() {
        let l = FailureLimiter::new(0);
        let k = login_keys(None, "x");
        for _ in 0..1000 {
            assert!(l.reserve(&k, Instant::now()).is_ok());
        }
    }
}
