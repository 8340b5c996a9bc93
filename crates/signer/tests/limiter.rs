//! The shared client-side `RateLimiter`, under paused tokio time.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use ttlive_signer::{MAX_RETRY_AFTER, RateLimiter, RateLimits, SignError};

/// Spawns `n` tasks that each acquire once and report when (relative to `start`) they got in.
async fn acquire_times(limiter: &Arc<RateLimiter>, n: usize) -> Vec<Duration> {
    let start = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..n {
        let limiter = limiter.clone();
        handles.push(tokio::spawn(async move {
            limiter.acquire().await.unwrap();
            start.elapsed()
        }));
    }
    let mut times = Vec::new();
    for h in handles {
        times.push(h.await.unwrap());
    }
    times.sort();
    times
}

#[tokio::test(start_paused = true)]
async fn per_minute_limit_spreads_a_burst_over_windows() {
    let limiter = Arc::new(RateLimiter::new(RateLimits::new().per_minute(3)));
    let times = acquire_times(&limiter, 7).await;
    let secs: Vec<u64> = times.iter().map(Duration::as_secs).collect();
    // 3 now, 3 one minute later, 1 two minutes later: never more than 3 in any 60 s.
    assert_eq!(secs, vec![0, 0, 0, 60, 60, 60, 120]);
}

#[tokio::test(start_paused = true)]
async fn no_window_ever_exceeds_its_limit() {
    // Unlike a refilling token bucket (which would admit 2N in some window), a sliding window
    // never does, whatever the arrival pattern.
    let limiter = Arc::new(RateLimiter::new(
        RateLimits::new().per_minute(4).per_hour(6),
    ));
    let mut grants = Vec::new();
    let start = Instant::now();
    for i in 0..10u64 {
        tokio::time::sleep(Duration::from_secs(i * 7 % 23)).await;
        limiter.acquire().await.unwrap();
        grants.push(start.elapsed());
    }
    for (i, &t) in grants.iter().enumerate() {
        let in_minute = grants[i..]
            .iter()
            .filter(|&&u| u < t + Duration::from_secs(60))
            .count();
        let in_hour = grants[i..]
            .iter()
            .filter(|&&u| u < t + Duration::from_secs(3600))
            .count();
        assert!(in_minute <= 4, "{grants:?}");
        assert!(in_hour <= 6, "{grants:?}");
    }
    // The 7th grant had to wait for the hour window.
    assert!(grants[6] >= Duration::from_secs(3600), "{grants:?}");
}

#[tokio::test(start_paused = true)]
async fn min_interval_spaces_requests() {
    let limiter = Arc::new(RateLimiter::new(
        RateLimits::new().min_interval(Duration::from_millis(500)),
    ));
    let times = acquire_times(&limiter, 4).await;
    let ms: Vec<u128> = times.iter().map(Duration::as_millis).collect();
    assert_eq!(ms, vec![0, 500, 1000, 1500]);
}

#[tokio::test(start_paused = true)]
async fn a_pause_holds_every_caller_until_it_ends() {
    let limiter = Arc::new(RateLimiter::unlimited());
    limiter.pause_for(Duration::from_secs(30));
    // A shorter pause never shortens it.
    limiter.pause_for(Duration::from_secs(5));
    assert_eq!(limiter.paused_for(), Some(Duration::from_secs(30)));
    assert!(limiter.try_acquire().is_err());
    let times = acquire_times(&limiter, 5).await;
    assert!(times.iter().all(|t| t.as_secs() == 30), "{times:?}");
    assert_eq!(limiter.paused_for(), None);
    assert_eq!(limiter.try_acquire(), Ok(()));
}

#[tokio::test(start_paused = true)]
async fn a_pause_is_clamped() {
    let limiter = RateLimiter::unlimited();
    limiter.pause_for(Duration::MAX);
    assert_eq!(limiter.paused_for(), Some(MAX_RETRY_AFTER));
}

#[tokio::test(start_paused = true)]
async fn max_wait_turns_a_long_wait_into_an_error() {
    let limiter = Arc::new(
        RateLimiter::new(RateLimits::new().per_hour(1)).with_max_wait(Duration::from_secs(10)),
    );
    limiter.acquire().await.unwrap();
    let before = Instant::now();
    let e = limiter.acquire().await.unwrap_err();
    // Refused at once rather than after waiting out the maximum.
    assert_eq!(before.elapsed(), Duration::ZERO);
    match e {
        SignError::ClientRateLimited { retry_after } => {
            assert_eq!(retry_after, Duration::from_secs(3600));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(e_is_retryable(&limiter).await);
}

async fn e_is_retryable(limiter: &RateLimiter) -> bool {
    let e = limiter.acquire().await.unwrap_err();
    e.is_retryable() && e.retry_after().is_some()
}

#[tokio::test(start_paused = true)]
async fn short_waits_within_max_wait_are_taken() {
    let limiter = Arc::new(
        RateLimiter::new(RateLimits::new().min_interval(Duration::from_secs(2)))
            .with_max_wait(Duration::from_secs(10)),
    );
    let times = acquire_times(&limiter, 3).await;
    let secs: Vec<u64> = times.iter().map(Duration::as_secs).collect();
    assert_eq!(secs, vec![0, 2, 4]);
}

#[tokio::test(start_paused = true)]
async fn zero_limits_mean_unlimited() {
    let limits = RateLimits::new().per_minute(0).per_hour(0).per_day(0);
    assert_eq!(limits, RateLimits::new());
    let limiter = Arc::new(RateLimiter::new(limits));
    let times = acquire_times(&limiter, 50).await;
    assert!(times.iter().all(Duration::is_zero));
}
