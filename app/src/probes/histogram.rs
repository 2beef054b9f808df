//! Response times in fixed buckets: each hourly rollup row counts checks
//! per bucket, so any window's percentiles come from summing a few rows.
//! A percentile is interpolated inside its bucket, so it is exact to the
//! bucket's width (finer where it matters: below 300 ms).

/// Upper bounds (ms) of the buckets; the last bucket is everything above.
pub const BOUNDS_MS: [f64; 15] = [
    5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 150.0, 200.0, 300.0, 500.0, 750.0, 1000.0, 2000.0, 5000.0,
    10000.0,
];

/// Number of buckets (one more than bounds).
pub const BUCKETS: usize = BOUNDS_MS.len() + 1;

/// The bucket a response time falls into.
pub fn bucket_of(ms: f64) -> usize {
    BOUNDS_MS
        .iter()
        .position(|b| ms <= *b)
        .unwrap_or(BOUNDS_MS.len())
}

/// A histogram with one response time in it.
pub fn single(ms: f64) -> Vec<i32> {
    let mut h = vec![0; BUCKETS];
    h[bucket_of(ms)] = 1;
    h
}

/// Adds `other` into `into` (missing buckets count as zero).
pub fn add(into: &mut Vec<i64>, other: &[i32]) {
    if into.len() < BUCKETS {
        into.resize(BUCKETS, 0);
    }
    for (i, n) in other.iter().enumerate().take(BUCKETS) {
        into[i] += i64::from(*n);
    }
}

/// The `q` quantile (0 < q ≤ 1) in ms, or None for an empty histogram.
/// Linear inside the bucket; the open last bucket reports its lower bound
/// times two (a response slower than 10 s is a timeout in all but name).
pub fn quantile(hist: &[i64], q: f64) -> Option<f64> {
    let total: i64 = hist.iter().sum();
    if total == 0 {
        return None;
    }
    let rank = (q * total as f64).ceil().max(1.0);
    let mut seen = 0i64;
    for (i, n) in hist.iter().enumerate() {
        if *n == 0 {
            continue;
        }
        let before = seen as f64;
        seen += n;
        if seen as f64 >= rank {
            let low = if i == 0 { 0.0 } else { BOUNDS_MS[i - 1] };
            let high = BOUNDS_MS.get(i).copied().unwrap_or(low * 2.0);
            let within = (rank - before) / *n as f64;
            return Some(low + (high - low) * within);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist(times: &[f64]) -> Vec<i64> {
        let mut h = Vec::new();
        for t in times {
            add(&mut h, &single(*t));
        }
        h
    }

    #[test]
    fn times_fall_into_the_bucket_whose_bound_they_do_not_exceed() {
        assert_eq!(bucket_of(0.2), 0);
        assert_eq!(bucket_of(5.0), 0);
        assert_eq!(bucket_of(5.1), 1);
        assert_eq!(bucket_of(99.0), 5);
        assert_eq!(bucket_of(60_000.0), BUCKETS - 1);
    }

    #[test]
    fn quantiles_are_exact_to_the_bucket_width() {
        // 100 checks: 95 at ~20 ms, 5 at ~400 ms.
        let mut times = vec![20.0; 95];
        times.extend([400.0; 5]);
        let h = hist(&times);
        let p50 = quantile(&h, 0.5).expect("p50");
        assert!((10.0..=25.0).contains(&p50), "{p50}");
        let p95 = quantile(&h, 0.95).expect("p95");
        assert!((10.0..=25.0).contains(&p95), "{p95}");
        let p99 = quantile(&h, 0.99).expect("p99");
        assert!((300.0..=500.0).contains(&p99), "{p99}");
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn a_single_value_reports_inside_its_bucket() {
        let h = hist(&[42.0]);
        let p = quantile(&h, 0.95).expect("p95");
        assert!((25.0..=50.0).contains(&p), "{p}");
    }
}
