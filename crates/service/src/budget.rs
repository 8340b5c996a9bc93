//! One process-wide request budget: token buckets for room lookups, live checks, sign calls and
//! connects, one set per egress (each proxy, or the direct egress).
//!
//! Every request the service makes to TikTok or a sign server first takes a token of its kind
//! from its egress's bucket ([`Budget::acquire`]); a bucket of rate `r` per minute and burst `b`
//! lets at most `b + r·t/60` requests through in any `t` seconds. Waiters are served by priority
//! ([`Priority::High`] first: rooms that just went live connect before reconnects), then in
//! arrival order. A server's `Retry-After` pauses a bucket ([`Budget::pause`]).
//!
//! [`Budget`] is a trait so a cluster can share one budget across machines; [`LocalBudget`] is
//! the in-process implementation. All timing is `tokio::time`, so tests can pause time.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::config::LimitsConfig;

/// What a token pays for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Spend {
    /// A room lookup (the live page or `api-live/user/room`).
    Lookup,
    /// A `room/check_alive` request (any number of rooms).
    LiveCheck,
    /// A sign call.
    Sign,
    /// A WebSocket connect.
    Connect,
}

impl Spend {
    /// Every kind.
    pub const ALL: [Spend; 4] = [Spend::Lookup, Spend::LiveCheck, Spend::Sign, Spend::Connect];

    /// A short name for logs and metrics: `lookup`, `live_check`, `sign`, `connect`.
    pub const fn name(self) -> &'static str {
        match self {
            Spend::Lookup => "lookup",
            Spend::LiveCheck => "live_check",
            Spend::Sign => "sign",
            Spend::Connect => "connect",
        }
    }
}

impl fmt::Display for Spend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Who goes first when tokens are short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Priority {
    /// Everything else (reconnects, routine checks).
    Normal,
    /// A room that just went live.
    High,
}

/// A bucket's rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Tokens per minute; 0 = no limit.
    pub per_minute: u32,
    /// Tokens available at once (at least 1).
    pub burst: u32,
}

/// The rates of every kind.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetLimits {
    /// Lookups.
    pub lookup: Rate,
    /// Live checks.
    pub live_check: Rate,
    /// Sign calls.
    pub sign: Rate,
    /// Connects.
    pub connect: Rate,
}

impl BudgetLimits {
    /// The rate of one kind.
    pub fn rate(&self, spend: Spend) -> Rate {
        match spend {
            Spend::Lookup => self.lookup,
            Spend::LiveCheck => self.live_check,
            Spend::Sign => self.sign,
            Spend::Connect => self.connect,
        }
    }
}

impl From<&LimitsConfig> for BudgetLimits {
    fn from(l: &LimitsConfig) -> Self {
        let rate = |per_minute, burst: u32| Rate {
            per_minute,
            burst: burst.max(1),
        };
        BudgetLimits {
            lookup: rate(l.lookups_per_minute, l.lookup_burst),
            live_check: rate(l.live_checks_per_minute, l.live_check_burst),
            sign: rate(l.sign_per_minute, l.sign_burst),
            connect: rate(l.connects_per_minute, l.connect_burst),
        }
    }
}

/// A bucket's counters, for `/metrics`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct BucketSnapshot {
    /// The kind.
    pub spend: Spend,
    /// The egress.
    pub egress: String,
    /// Tokens handed out so far.
    pub granted: u64,
    /// Callers waiting now.
    pub waiting: usize,
    /// Tokens available now (rounded down).
    pub available: u32,
}

/// The request budget (see the [module docs](self)).
#[async_trait]
pub trait Budget: Send + Sync + fmt::Debug + 'static {
    /// Waits for one token of `spend` on `egress`. Cancel safe: dropping the future gives up
    /// the place in line and takes nothing.
    async fn acquire(&self, spend: Spend, egress: &str, priority: Priority);

    /// No token of `spend` on `egress` is handed out for `pause` from now (a server's
    /// `Retry-After`).
    fn pause(&self, spend: Spend, egress: &str, pause: Duration);

    /// Every bucket's counters.
    fn snapshot(&self) -> Vec<BucketSnapshot>;
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The in-process [`Budget`]: one token bucket per (kind, egress), created on first use.
#[derive(Debug)]
pub struct LocalBudget {
    limits: BudgetLimits,
    buckets: Mutex<HashMap<(Spend, String), Arc<Bucket>>>,
}

impl LocalBudget {
    /// A budget with these rates for every egress.
    pub fn new(limits: BudgetLimits) -> Self {
        LocalBudget {
            limits,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn bucket(&self, spend: Spend, egress: &str) -> Arc<Bucket> {
        let mut map = lock(&self.buckets);
        if let Some(b) = map.get(&(spend, egress.to_owned())) {
            return Arc::clone(b);
        }
        let b = Arc::new(Bucket::new(self.limits.rate(spend)));
        map.insert((spend, egress.to_owned()), Arc::clone(&b));
        b
    }
}

#[async_trait]
impl Budget for LocalBudget {
    async fn acquire(&self, spend: Spend, egress: &str, priority: Priority) {
        let bucket = self.bucket(spend, egress);
        bucket.acquire(priority).await;
        metrics::counter!("ttlive_budget_tokens_total", "spend" => spend.name(), "egress" => egress.to_owned())
            .increment(1);
    }

    fn pause(&self, spend: Spend, egress: &str, pause: Duration) {
        tracing::info!(%spend, egress, ?pause, "budget paused by the server");
        self.bucket(spend, egress).pause(pause);
    }

    fn snapshot(&self) -> Vec<BucketSnapshot> {
        let map = lock(&self.buckets);
        let mut out: Vec<BucketSnapshot> = map
            .iter()
            .map(|((spend, egress), b)| {
                let (granted, waiting, available) = b.counters();
                BucketSnapshot {
                    spend: *spend,
                    egress: egress.clone(),
                    granted,
                    waiting,
                    available,
                }
            })
            .collect();
        out.sort_by(|a, b| (a.spend, &a.egress).cmp(&(b.spend, &b.egress)));
        out
    }
}

/// One token bucket with a priority line.
#[derive(Debug)]
struct Bucket {
    /// Tokens per second; `None` = unlimited.
    rate: Option<f64>,
    burst: f64,
    state: Mutex<BucketState>,
    changed: Notify,
}

#[derive(Debug)]
struct BucketState {
    tokens: f64,
    refilled: Instant,
    paused_until: Option<Instant>,
    /// Waiters: (Reverse priority, arrival); the first element is served next.
    line: BTreeSet<(std::cmp::Reverse<Priority>, u64)>,
    next_ticket: u64,
    granted: u64,
}

/// Removes a waiter from the line when its `acquire` future is dropped.
struct Ticket<'a> {
    bucket: &'a Bucket,
    key: (std::cmp::Reverse<Priority>, u64),
    done: bool,
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        if !self.done {
            lock(&self.bucket.state).line.remove(&self.key);
            // The next in line may be able to go now.
            self.bucket.changed.notify_waiters();
        }
    }
}

impl Bucket {
    fn new(rate: Rate) -> Self {
        let burst = f64::from(rate.burst.max(1));
        Bucket {
            rate: (rate.per_minute > 0).then(|| f64::from(rate.per_minute) / 60.0),
            burst,
            state: Mutex::new(BucketState {
                tokens: burst,
                refilled: Instant::now(),
                paused_until: None,
                line: BTreeSet::new(),
                next_ticket: 0,
                granted: 0,
            }),
            changed: Notify::new(),
        }
    }

    fn refill(&self, st: &mut BucketState, now: Instant) {
        if let Some(rate) = self.rate {
            let dt = now.saturating_duration_since(st.refilled).as_secs_f64();
            st.tokens = (st.tokens + dt * rate).min(self.burst);
        }
        st.refilled = now;
    }

    fn counters(&self) -> (u64, usize, u32) {
        let mut st = lock(&self.state);
        self.refill(&mut st, Instant::now());
        let available = if self.rate.is_some() {
            st.tokens.floor() as u32
        } else {
            u32::MAX
        };
        (st.granted, st.line.len(), available)
    }

    fn pause(&self, pause: Duration) {
        let until = Instant::now() + pause;
        let mut st = lock(&self.state);
        if st.paused_until.is_none_or(|p| p < until) {
            st.paused_until = Some(until);
        }
    }

    async fn acquire(&self, priority: Priority) {
        let key = {
            let mut st = lock(&self.state);
            st.next_ticket += 1;
            let key = (std::cmp::Reverse(priority), st.next_ticket);
            st.line.insert(key);
            key
        };
        let mut ticket = Ticket {
            bucket: self,
            key,
            done: false,
        };
        loop {
            let mut changed = pin!(self.changed.notified());
            changed.as_mut().enable();
            let wait = {
                let mut st = lock(&self.state);
                let now = Instant::now();
                self.refill(&mut st, now);
                let first = st.line.first() == Some(&key);
                match st.paused_until {
                    Some(until) if until > now => Some(until - now),
                    _ if !first => None,
                    _ if self.rate.is_none() || st.tokens >= 1.0 => {
                        if self.rate.is_some() {
                            st.tokens -= 1.0;
                        }
                        st.granted += 1;
                        st.line.remove(&key);
                        ticket.done = true;
                        drop(st);
                        // The next in line re-evaluates.
                        self.changed.notify_waiters();
                        return;
                    }
                    _ => {
                        let rate = self.rate.unwrap_or(1.0);
                        let secs = ((1.0 - st.tokens) / rate).max(0.001);
                        Some(Duration::from_secs_f64(secs))
                    }
                }
            };
            match wait {
                Some(d) => {
                    tokio::select! {
                        () = tokio::time::sleep(d) => {}
                        () = &mut changed => {}
                    }
                }
                None => changed.await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(per_minute: u32, burst: u32) -> LocalBudget {
        let r = Rate { per_minute, burst };
        LocalBudget::new(BudgetLimits {
            lookup: r,
            live_check: r,
            sign: r,
            connect: r,
        })
    }

    #[tokio::test(start_paused = true)]
    async fn a_bucket_lets_through_the_burst_then_the_rate() {
        let b = budget(60, 3); // one a second after three at once
        let start = Instant::now();
        for _ in 0..3 {
            b.acquire(Spend::Lookup, "direct", Priority::Normal).await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
        for _ in 0..5 {
            b.acquire(Spend::Lookup, "direct", Priority::Normal).await;
        }
        let t = start.elapsed().as_secs_f64();
        assert!((4.9..5.2).contains(&t), "five more took {t} s");
        // Another kind and another egress have buckets of their own.
        let start = Instant::now();
        b.acquire(Spend::Connect, "direct", Priority::Normal).await;
        b.acquire(Spend::Lookup, "proxy1", Priority::Normal).await;
        assert_eq!(start.elapsed(), Duration::ZERO);
        let snap = b.snapshot();
        assert_eq!(snap.len(), 3);
        assert_eq!(
            snap.iter()
                .find(|s| s.spend == Spend::Lookup && s.egress == "direct")
                .unwrap()
                .granted,
            8
        );
    }

    #[tokio::test(start_paused = true)]
    async fn high_priority_waiters_go_first() {
        let b = Arc::new(budget(60, 1));
        b.acquire(Spend::Connect, "e", Priority::Normal).await; // empties the bucket
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for (i, p) in [
            (0, Priority::Normal),
            (1, Priority::Normal),
            (2, Priority::High),
            (3, Priority::High),
        ] {
            let (b, order) = (Arc::clone(&b), Arc::clone(&order));
            tasks.push(tokio::spawn(async move {
                b.acquire(Spend::Connect, "e", p).await;
                lock(&order).push(i);
            }));
            tokio::task::yield_now().await;
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*lock(&order), [2, 3, 0, 1]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_every_token_until_it_ends() {
        let b = budget(600, 5);
        b.pause(Spend::Sign, "e", Duration::from_secs(7));
        let start = Instant::now();
        b.acquire(Spend::Sign, "e", Priority::High).await;
        assert!(start.elapsed() >= Duration::from_secs(7));
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_waiter_leaves_the_line() {
        let b = Arc::new(budget(60, 1));
        b.acquire(Spend::Lookup, "e", Priority::Normal).await;
        // A high-priority waiter that gives up must not block the normal one behind it.
        let gave_up = tokio::time::timeout(
            Duration::from_millis(100),
            b.acquire(Spend::Lookup, "e", Priority::High),
        )
        .await;
        assert!(gave_up.is_err());
        let start = Instant::now();
        b.acquire(Spend::Lookup, "e", Priority::Normal).await;
        assert!(start.elapsed() <= Duration::from_secs(1));
        assert_eq!(b.snapshot()[0].waiting, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_zero_rate_is_unlimited() {
        let b = budget(0, 1);
        let start = Instant::now();
        for _ in 0..1000 {
            b.acquire(Spend::LiveCheck, "e", Priority::Normal).await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
    }
}
