//! [`RateLimiter`]: one client-side budget of sign requests shared by every room of an app.
//!
//! A multi-room app that opens a dozen rooms at start-up would otherwise fire a dozen sign
//! requests at once and exhaust a free plan (protocol.md §5.2). Share one
//! `Arc<RateLimiter>` between every signer of the app (see
//! [`EulerSignerBuilder::rate_limiter`](crate::EulerSignerBuilder::rate_limiter)): each request
//! takes a slot first, waiting if the budget is spent, and a `Retry-After` from the server pauses
//! every caller until then.
//!
//! ## Why windows and not a classic token bucket
//!
//! Sign servers count requests per minute / hour / day. A token bucket of capacity `N` refilled
//! at `N` per minute admits up to `2N` requests in some 60-second span (a full bucket, then the
//! refill), which the server would answer with 429s. This limiter therefore keeps, per window,
//! the grant times of the last `N` requests (a sliding log) and admits a request only if every
//! window has fewer than its limit: the budget behaves like a bucket of `N` tokens where each
//! token comes back exactly one window after it was spent, and no window ever sees more than `N`.
//! An optional minimum interval spreads a burst out further.
//!
//! All timing uses `tokio::time`, so tests can run it under paused time.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

use crate::error::SignError;
use crate::retry::MAX_RETRY_AFTER;

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(60 * 60);
const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// Limits of a [`RateLimiter`]. A limit of `0` (or none) means "no limit in that window".
///
/// ```
/// use std::time::Duration;
/// use ttlive_signer::RateLimits;
///
/// // A free Euler plan (numbers illustrative): 10 per minute, 60 per hour, 300 per day,
/// // and at most one request every 500 ms.
/// let limits = RateLimits::new()
///     .per_minute(10)
///     .per_hour(60)
///     .per_day(300)
///     .min_interval(Duration::from_millis(500));
/// assert_eq!(limits.minute(), Some(10));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimits {
    per_minute: Option<u32>,
    per_hour: Option<u32>,
    per_day: Option<u32>,
    min_interval: Option<Duration>,
}

impl RateLimits {
    /// No limits (only server-requested pauses apply).
    pub fn new() -> Self {
        Self::default()
    }

    /// At most `n` requests in any 60-second span (`0`: no limit).
    pub fn per_minute(mut self, n: u32) -> Self {
        self.per_minute = (n > 0).then_some(n);
        self
    }

    /// At most `n` requests in any one-hour span (`0`: no limit).
    pub fn per_hour(mut self, n: u32) -> Self {
        self.per_hour = (n > 0).then_some(n);
        self
    }

    /// At most `n` requests in any 24-hour span (`0`: no limit).
    pub fn per_day(mut self, n: u32) -> Self {
        self.per_day = (n > 0).then_some(n);
        self
    }

    /// At least `interval` between two requests (zero: none). Clamped to one day.
    pub fn min_interval(mut self, interval: Duration) -> Self {
        self.min_interval = (!interval.is_zero()).then(|| interval.min(MAX_RETRY_AFTER));
        self
    }

    /// The per-minute limit, if any.
    pub fn minute(&self) -> Option<u32> {
        self.per_minute
    }

    /// The per-hour limit, if any.
    pub fn hour(&self) -> Option<u32> {
        self.per_hour
    }

    /// The per-day limit, if any.
    pub fn day(&self) -> Option<u32> {
        self.per_day
    }

    /// The minimum interval between requests, if any.
    pub fn interval(&self) -> Option<Duration> {
        self.min_interval
    }
}

/// A client-side limiter of sign requests, shared (`Arc`) by every signer of an app.
///
/// * [`acquire`](Self::acquire) waits (FIFO among callers) until the budget allows one more
///   request, or fails with [`SignError::ClientRateLimited`] if that would take longer than the
///   [maximum wait](Self::with_max_wait).
/// * [`pause_for`](Self::pause_for) blocks every caller for a while; signers call it with the
///   server's `Retry-After` on a 429, so one rate-limit answer stops the whole app, not just the
///   room that got it.
///
/// ```
/// use std::sync::Arc;
/// use ttlive_signer::{RateLimiter, RateLimits};
///
/// let limiter = Arc::new(RateLimiter::new(RateLimits::new().per_minute(10)));
/// // Pass `limiter.clone()` to every `EulerSigner::builder().rate_limiter(..)` of the app.
/// assert_eq!(limiter.try_acquire(), Ok(()));
/// ```
#[derive(Debug)]
pub struct RateLimiter {
    limits: RateLimits,
    max_wait: Option<Duration>,
    state: Mutex<State>,
    /// Held by the caller currently waiting for a slot, so waiters are served in order.
    turn: tokio::sync::Mutex<()>,
}

#[derive(Debug)]
struct State {
    windows: Vec<Window>,
    last_grant: Option<Instant>,
    paused_until: Option<Instant>,
}

#[derive(Debug)]
struct Window {
    span: Duration,
    limit: usize,
    /// Grant times within the last `span`, oldest first (at most `limit`).
    grants: VecDeque<Instant>,
}

impl Window {
    fn new(span: Duration, limit: u32) -> Self {
        Self {
            span,
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
            grants: VecDeque::new(),
        }
    }

    /// Drops grants older than the window; returns how long until a slot frees (zero if free).
    fn wait(&mut self, now: Instant) -> Duration {
        while let Some(&oldest) = self.grants.front() {
            if now.saturating_duration_since(oldest) >= self.span {
                self.grants.pop_front();
            } else {
                break;
            }
        }
        if self.grants.len() < self.limit {
            return Duration::ZERO;
        }
        // Full: the slot of the oldest grant that keeps the window full frees first.
        let idx = self.grants.len() - self.limit;
        let oldest = self.grants.get(idx).copied().unwrap_or(now);
        self.span
            .saturating_sub(now.saturating_duration_since(oldest))
    }
}

impl Default for RateLimiter {
    fn default() -> Self {
        Self::unlimited()
    }
}

impl RateLimiter {
    /// A limiter with the given limits and no maximum wait.
    pub fn new(limits: RateLimits) -> Self {
        let mut windows = Vec::new();
        for (span, limit) in [
            (MINUTE, limits.per_minute),
            (HOUR, limits.per_hour),
            (DAY, limits.per_day),
        ] {
            if let Some(limit) = limit {
                windows.push(Window::new(span, limit));
            }
        }
        Self {
            limits,
            max_wait: None,
            state: Mutex::new(State {
                windows,
                last_grant: None,
                paused_until: None,
            }),
            turn: tokio::sync::Mutex::new(()),
        }
    }

    /// A limiter with no limits: it only enforces server-requested pauses. Every
    /// [`EulerSigner`](crate::EulerSigner) without an explicit limiter gets one of these.
    pub fn unlimited() -> Self {
        Self::new(RateLimits::new())
    }

    /// Makes [`acquire`](Self::acquire) fail with [`SignError::ClientRateLimited`] instead of
    /// waiting longer than `max_wait` (for example, an app that prefers to report "try again in
    /// 40 minutes" over waiting silently).
    pub fn with_max_wait(mut self, max_wait: Duration) -> Self {
        self.max_wait = Some(max_wait);
        self
    }

    /// The configured limits.
    pub fn limits(&self) -> &RateLimits {
        &self.limits
    }

    /// Waits until one more request is allowed, then takes the slot.
    ///
    /// Callers are served in arrival order. Fails with [`SignError::ClientRateLimited`] only
    /// when a maximum wait is set and the wait would exceed it.
    pub async fn acquire(&self) -> Result<(), SignError> {
        let started = Instant::now();
        let _turn = match self.max_wait {
            None => self.turn.lock().await,
            Some(max) => match tokio::time::timeout(max, self.turn.lock()).await {
                Ok(turn) => turn,
                Err(_) => {
                    let wait = self.next_allowed_in().max(Duration::from_millis(1));
                    return Err(SignError::ClientRateLimited { retry_after: wait });
                }
            },
        };
        loop {
            let wait = match self.try_acquire() {
                Ok(()) => return Ok(()),
                Err(wait) => wait,
            };
            if let Some(max) = self.max_wait {
                let waited = started.elapsed();
                if waited.saturating_add(wait) > max {
                    return Err(SignError::ClientRateLimited { retry_after: wait });
                }
            }
            if wait >= Duration::from_secs(1) {
                tracing::info!(
                    wait_secs = wait.as_secs_f64(),
                    "sign rate limit: waiting before the next sign request"
                );
            } else {
                tracing::debug!(
                    wait_ms = wait.as_millis() as u64,
                    "sign rate limit: short wait"
                );
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Takes a slot if one is free now; otherwise returns how long until one may be.
    pub fn try_acquire(&self) -> Result<(), Duration> {
        let now = Instant::now();
        let mut state = self.lock();
        let wait = Self::wait_locked(&mut state, &self.limits, now);
        if !wait.is_zero() {
            return Err(wait);
        }
        for window in &mut state.windows {
            window.grants.push_back(now);
        }
        state.last_grant = Some(now);
        state.paused_until = None;
        Ok(())
    }

    /// How long until a request would be allowed (zero if now). Does not take a slot.
    pub fn next_allowed_in(&self) -> Duration {
        let now = Instant::now();
        let mut state = self.lock();
        Self::wait_locked(&mut state, &self.limits, now)
    }

    /// Blocks every caller for `duration` from now (clamped to
    /// [`MAX_RETRY_AFTER`](crate::MAX_RETRY_AFTER)). A shorter pause never shortens a longer one
    /// already in force.
    pub fn pause_for(&self, duration: Duration) {
        let duration = duration.min(MAX_RETRY_AFTER);
        let Some(until) = Instant::now().checked_add(duration) else {
            return;
        };
        let mut state = self.lock();
        if state.paused_until.is_none_or(|current| current < until) {
            state.paused_until = Some(until);
        }
    }

    /// How much of a server-requested pause is left, if one is in force.
    pub fn paused_for(&self) -> Option<Duration> {
        let now = Instant::now();
        let state = self.lock();
        state
            .paused_until
            .map(|until| until.saturating_duration_since(now))
            .filter(|left| !left.is_zero())
    }

    fn wait_locked(state: &mut State, limits: &RateLimits, now: Instant) -> Duration {
        let mut wait = Duration::ZERO;
        if let Some(until) = state.paused_until {
            wait = wait.max(until.saturating_duration_since(now));
        }
        if let (Some(interval), Some(last)) = (limits.min_interval, state.last_grant) {
            wait = wait.max(interval.saturating_sub(now.saturating_duration_since(last)));
        }
        for window in &mut state.windows {
            wait = wait.max(window.wait(now));
        }
        wait
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent even if a holder panicked; never propagate poisoning.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}
