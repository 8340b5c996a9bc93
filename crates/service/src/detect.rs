//! Go-live detection within the budget.
//!
//! A room waiting for its stream is *watched* ([`Detector::wait_live`]) until the detector finds
//! it live. Two kinds of request find out, each paced per room and paid for with budget tokens
//! of its egress:
//!
//! - **Live checks**: `room/check_alive` takes many room ids at once. A room that was live
//!   recently (within `detect.recent_window`) keeps its last room id, and that id is checked
//!   every `detect.check_interval`, batched with other rooms' ids (up to `detect.batch_size` a
//!   request; rooms due soon ride along with rooms due now). This is how a stream that drops and
//!   comes back, or a restart of the service during streams, is picked up cheaply.
//! - **Lookups**: a user's live page (or `api-live/user/room` when the page gives no answer)
//!   says whether they are live and in which room: a new stream gets a new room id, so only a
//!   lookup finds it. A room's first lookup goes at once (a recently live room's after
//!   `detect.recent_lookup_interval`); after each answer "offline" the room waits
//!   `detect.lookup_interval`, doubling up to `detect.lookup_max_interval`; a recently live
//!   room is looked up every `detect.recent_lookup_interval`. When tokens are short, the room
//!   waiting longest goes first.
//!
//! Each egress has its own check loop and lookup loop; one request is in flight per loop.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use ttlive_source_tiktok::{TikTokError, WebClient};

use crate::budget::{Budget, Priority, Spend};
use crate::config::DetectConfig;

/// What a room is watched with.
#[derive(Clone)]
#[non_exhaustive]
pub struct WatchRequest {
    /// The handle.
    pub user: String,
    /// Which egress (index into the detector's list).
    pub egress: usize,
    /// The last known room id, if any.
    pub room_id: Option<u64>,
    /// When the room was last live, if known.
    pub last_live: Option<SystemTime>,
    /// Detection starts no earlier than this (after a failed session).
    pub not_before: Option<Instant>,
    /// Told each detection error for this room (to show it in the room's status).
    pub on_error: Option<Arc<dyn Fn(String) + Send + Sync>>,
}

impl std::fmt::Debug for WatchRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchRequest")
            .field("user", &self.user)
            .field("egress", &self.egress)
            .field("room_id", &self.room_id)
            .field("last_live", &self.last_live)
            .finish_non_exhaustive()
    }
}

impl WatchRequest {
    /// Watches `user` through egress 0, knowing nothing else.
    pub fn new(user: impl Into<String>) -> Self {
        WatchRequest {
            user: user.into(),
            egress: 0,
            room_id: None,
            last_live: None,
            not_before: None,
            on_error: None,
        }
    }

    /// Through egress `egress`.
    pub fn egress(mut self, egress: usize) -> Self {
        self.egress = egress;
        self
    }

    /// The last known room id and when the room was last live.
    pub fn known(mut self, room_id: Option<u64>, last_live: Option<SystemTime>) -> Self {
        self.room_id = room_id.filter(|r| *r != 0);
        self.last_live = last_live;
        self
    }

    /// Not before this instant.
    pub fn not_before(mut self, at: Instant) -> Self {
        self.not_before = Some(at);
        self
    }

    /// Calls `f` with each detection error.
    pub fn on_error(mut self, f: Arc<dyn Fn(String) + Send + Sync>) -> Self {
        self.on_error = Some(f);
        self
    }
}

/// How a live room was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FoundBy {
    /// `room/check_alive` said its known room id is live.
    LiveCheck,
    /// A lookup said the user is live.
    Lookup,
}

/// A room found live.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Found {
    /// The live room's id.
    pub room_id: u64,
    /// How it was found.
    pub by: FoundBy,
}

/// Why a watch ended without a live room.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DetectError {
    /// TikTok says there is no such user (both lookup routes agreed).
    #[error("user @{0} not found on TikTok")]
    UserNotFound(String),
    /// The detector was stopped.
    #[error("go-live detection stopped")]
    Stopped,
}

/// One egress as the detector uses it.
#[derive(Debug, Clone)]
pub struct DetectEgress {
    /// The egress's name (budget buckets).
    pub name: String,
    /// Its web client.
    pub web: WebClient,
}

struct Watched {
    req: WatchRequest,
    tx: Option<oneshot::Sender<Result<Found, DetectError>>>,
    /// Live checks of `req.room_id` run until then.
    check_until: Option<Instant>,
    next_check: Instant,
    next_lookup: Instant,
    /// The wait after the next "offline" answer.
    lookup_every: Duration,
    /// A live check of this room is in flight (the check loop's own flag: a check never hides
    /// a room from the lookup loop, whose wait would otherwise miss the room's return).
    checking: bool,
    /// A lookup of this room is in flight (the lookup loop's own flag).
    looking_up: bool,
    /// Found (or failed for good): both loops leave it alone until its watcher goes.
    done: bool,
}

impl Watched {
    fn recent(&self, cfg: &DetectConfig) -> bool {
        self.req.last_live.is_some_and(|t| {
            SystemTime::now()
                .duration_since(t)
                .map_or(true, |ago| ago < cfg.recent_window)
        })
    }

    fn checkable(&self, now: Instant) -> bool {
        self.req.room_id.is_some() && self.check_until.is_some_and(|u| u > now)
    }

    fn finish(&mut self, result: Result<Found, DetectError>) {
        self.done = true;
        if let Some(tx) = self.tx.take() {
            let _ = tx.send(result);
        }
    }

    fn report(&self, error: String) {
        if let Some(f) = &self.req.on_error {
            f(error);
        }
    }
}

struct Inner {
    cfg: DetectConfig,
    budget: Arc<dyn Budget>,
    egresses: Vec<DetectEgress>,
    watched: Mutex<HashMap<u64, Watched>>,
    next_id: std::sync::atomic::AtomicU64,
    changed: Notify,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Go-live detection for many rooms (see the [module docs](self)).
///
/// Dropping the detector stops its loops; pending watches then end with
/// [`DetectError::Stopped`].
pub struct Detector {
    inner: Arc<Inner>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detector")
            .field("egresses", &self.inner.egresses.len())
            .field("watched", &lock(&self.inner.watched).len())
            .finish()
    }
}

impl Drop for Detector {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Removes a watch when its future is dropped.
struct WatchGuard {
    inner: Arc<Inner>,
    id: u64,
}

impl Drop for WatchGuard {
    fn drop(&mut self) {
        lock(&self.inner.watched).remove(&self.id);
    }
}

impl Detector {
    /// Starts the loops (needs a tokio runtime): one check loop and one lookup loop per egress.
    pub fn start(cfg: DetectConfig, budget: Arc<dyn Budget>, egresses: Vec<DetectEgress>) -> Self {
        let inner = Arc::new(Inner {
            cfg,
            budget,
            egresses,
            watched: Mutex::new(HashMap::new()),
            next_id: std::sync::atomic::AtomicU64::new(1),
            changed: Notify::new(),
        });
        let mut tasks = Vec::new();
        for e in 0..inner.egresses.len() {
            tasks.push(tokio::spawn(check_loop(Arc::clone(&inner), e)));
            tasks.push(tokio::spawn(lookup_loop(Arc::clone(&inner), e)));
        }
        Detector {
            inner,
            tasks: Mutex::new(tasks),
        }
    }

    /// Stops the loops; pending and later watches end with [`DetectError::Stopped`].
    pub fn stop(&self) {
        for t in lock(&self.tasks).drain(..) {
            t.abort();
        }
        for w in lock(&self.inner.watched).values_mut() {
            w.finish(Err(DetectError::Stopped));
        }
    }

    /// Rooms being watched now.
    pub fn watched(&self) -> usize {
        lock(&self.inner.watched).len()
    }

    /// Waits until the room is found live (or the user does not exist). Cancel safe: dropping
    /// the future stops watching the room.
    pub async fn wait_live(&self, req: WatchRequest) -> Result<Found, DetectError> {
        if lock(&self.tasks).is_empty() {
            return Err(DetectError::Stopped);
        }
        let cfg = &self.inner.cfg;
        let now = Instant::now();
        let egress = req.egress.min(self.inner.egresses.len().saturating_sub(1));
        let (tx, rx) = oneshot::channel();
        let mut w = Watched {
            req: WatchRequest { egress, ..req },
            tx: Some(tx),
            check_until: None,
            next_check: now,
            next_lookup: now,
            lookup_every: cfg.lookup_interval,
            checking: false,
            looking_up: false,
            done: false,
        };
        let start = w.req.not_before.map_or(now, |t| t.max(now));
        if w.recent(cfg) {
            let since = w
                .req
                .last_live
                .and_then(|t| SystemTime::now().duration_since(t).ok())
                .unwrap_or_default();
            w.check_until = Some(now + cfg.recent_window.saturating_sub(since));
            w.next_check = start;
            w.next_lookup = start + cfg.recent_lookup_interval;
        } else {
            w.next_check = start;
            w.next_lookup = start;
        }
        let id = self
            .inner
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        lock(&self.inner.watched).insert(id, w);
        let _guard = WatchGuard {
            inner: Arc::clone(&self.inner),
            id,
        };
        self.inner.changed.notify_waiters();
        rx.await.unwrap_or(Err(DetectError::Stopped))
    }
}

/// Waits until a watched room is due: `due` gives a room's due time (`None`: not waiting for
/// this loop), and the earliest one must have come. Sleeps until then, or until a change.
async fn wait_until_due(inner: &Inner, due: impl Fn(&Watched, Instant) -> Option<Instant>) {
    loop {
        let mut changed = std::pin::pin!(inner.changed.notified());
        changed.as_mut().enable();
        let next = {
            let watched = lock(&inner.watched);
            let now = Instant::now();
            let next = watched.values().filter_map(|w| due(w, now)).min();
            match next {
                Some(at) if at <= now => return,
                other => other,
            }
        };
        match next {
            Some(at) => {
                tokio::select! {
                    () = tokio::time::sleep_until(at) => {}
                    () = &mut changed => {}
                }
            }
            None => changed.await,
        }
    }
}

async fn check_loop(inner: Arc<Inner>, egress: usize) {
    let cfg = inner.cfg.clone();
    let name = inner.egresses[egress].name.clone();
    loop {
        // Wait until a room of this egress is due for a live check.
        wait_until_due(&inner, |w, now| {
            (w.req.egress == egress && !w.done && !w.checking && w.checkable(now))
                .then_some(w.next_check)
        })
        .await;
        inner
            .budget
            .acquire(Spend::LiveCheck, &name, Priority::Normal)
            .await;
        // The batch: rooms due now, then rooms due within half an interval.
        let batch: Vec<(u64, u64)> = {
            let mut watched = lock(&inner.watched);
            let now = Instant::now();
            let horizon = now + cfg.check_interval / 2;
            let mut due: Vec<(Instant, u64, u64)> = watched
                .iter()
                .filter(|(_, w)| {
                    w.req.egress == egress
                        && !w.done
                        && !w.checking
                        && w.checkable(now)
                        && w.next_check <= horizon
                })
                .filter_map(|(id, w)| Some((w.next_check, *id, w.req.room_id?)))
                .collect();
            due.sort_unstable();
            due.truncate(cfg.batch_size.max(1));
            for (_, id, _) in &due {
                if let Some(w) = watched.get_mut(id) {
                    w.checking = true;
                }
            }
            due.into_iter().map(|(_, id, room)| (id, room)).collect()
        };
        if batch.is_empty() {
            continue;
        }
        let rooms: Vec<u64> = batch.iter().map(|(_, r)| *r).collect();
        let result = inner.egresses[egress].web.check_alive_many(&rooms).await;
        let now = Instant::now();
        let mut watched = lock(&inner.watched);
        match result {
            Ok(alive) => {
                let live: HashMap<u64, bool> = alive.into_iter().collect();
                let found = live.values().filter(|a| **a).count();
                metrics::counter!("ttlive_detect_live_checks_total", "outcome" => "ok")
                    .increment(1);
                metrics::counter!("ttlive_detect_rooms_checked_total")
                    .increment(rooms.len() as u64);
                tracing::debug!(egress = %name, rooms = rooms.len(), found, "live check");
                for (id, room) in &batch {
                    let Some(w) = watched.get_mut(id) else {
                        continue;
                    };
                    w.checking = false;
                    if w.done {
                        continue;
                    }
                    if live.get(room).copied().unwrap_or(false) {
                        w.finish(Ok(Found {
                            room_id: *room,
                            by: FoundBy::LiveCheck,
                        }));
                    } else {
                        w.next_check = now + cfg.check_interval;
                    }
                }
            }
            Err(e) => {
                metrics::counter!("ttlive_detect_live_checks_total", "outcome" => "error")
                    .increment(1);
                tracing::warn!(egress = %name, rooms = rooms.len(), error = %e, "live check failed");
                if let Some(d) = rate_limit_delay(&e) {
                    inner.budget.pause(Spend::LiveCheck, &name, d);
                }
                let text = format!("live check: {e}");
                for (id, _) in &batch {
                    if let Some(w) = watched.get_mut(id) {
                        w.checking = false;
                        w.next_check = now + cfg.check_interval;
                        w.report(text.clone());
                    }
                }
            }
        }
    }
}

/// What a lookup found.
enum Lookup {
    Live(u64),
    Offline(Option<u64>),
    NotFound,
    Failed(TikTokError),
}

async fn lookup_loop(inner: Arc<Inner>, egress: usize) {
    let cfg = inner.cfg.clone();
    let name = inner.egresses[egress].name.clone();
    loop {
        wait_until_due(&inner, |w, _| {
            (w.req.egress == egress && !w.done && !w.looking_up).then_some(w.next_lookup)
        })
        .await;
        inner
            .budget
            .acquire(Spend::Lookup, &name, Priority::Normal)
            .await;
        // The room waiting longest.
        let pick = {
            let mut watched = lock(&inner.watched);
            let now = Instant::now();
            let pick = watched
                .iter()
                .filter(|(_, w)| {
                    w.req.egress == egress && !w.done && !w.looking_up && w.next_lookup <= now
                })
                .min_by_key(|(id, w)| (w.next_lookup, **id))
                .map(|(id, w)| (*id, w.req.user.clone()));
            if let Some((id, _)) = &pick
                && let Some(w) = watched.get_mut(id)
            {
                w.looking_up = true;
            }
            pick
        };
        let Some((id, user)) = pick else { continue };
        let web = &inner.egresses[egress].web;
        let found = lookup(web, &user, &inner.budget, &name).await;
        let now = Instant::now();
        let mut watched = lock(&inner.watched);
        let Some(w) = watched.get_mut(&id) else {
            continue;
        };
        w.looking_up = false;
        if w.done {
            continue;
        }
        let outcome = match &found {
            Lookup::Live(_) => "live",
            Lookup::Offline(_) => "offline",
            Lookup::NotFound => "not_found",
            Lookup::Failed(_) => "error",
        };
        metrics::counter!("ttlive_detect_lookups_total", "outcome" => outcome).increment(1);
        tracing::debug!(egress = %name, user, outcome, "lookup");
        match found {
            Lookup::Live(room_id) => w.finish(Ok(Found {
                room_id,
                by: FoundBy::Lookup,
            })),
            Lookup::NotFound => w.finish(Err(DetectError::UserNotFound(user))),
            Lookup::Offline(room_id) => {
                if room_id.is_some() {
                    w.req.room_id = room_id;
                }
                schedule_lookup(w, &cfg, now);
            }
            Lookup::Failed(e) => {
                if let Some(d) = rate_limit_delay(&e) {
                    inner.budget.pause(Spend::Lookup, &name, d);
                }
                tracing::warn!(egress = %name, user, error = %e, "lookup failed");
                w.report(format!("lookup: {e}"));
                schedule_lookup(w, &cfg, now);
            }
        }
    }
}

fn schedule_lookup(w: &mut Watched, cfg: &DetectConfig, now: Instant) {
    if w.recent(cfg) {
        w.next_lookup = now + cfg.recent_lookup_interval;
    } else {
        w.next_lookup = now + w.lookup_every;
        w.lookup_every = (w.lookup_every * 2).min(cfg.lookup_max_interval);
    }
}

/// One lookup: the live page, and `api-live/user/room` when the page gives no definite answer
/// (TikTok's page also leaves the room out when it blocks a client, so its "not found" is
/// confirmed there). Each request takes its own token.
async fn lookup(web: &WebClient, user: &str, budget: &Arc<dyn Budget>, egress: &str) -> Lookup {
    let page_error = match web.room_from_page(user).await {
        Ok(s) => return from_status(&s),
        Err(TikTokError::Offline { room_id, .. }) => return Lookup::Offline(room_id),
        Err(e @ (TikTokError::AgeRestricted | TikTokError::HttpStatus { status: 429, .. })) => {
            return Lookup::Failed(e);
        }
        Err(e) => e,
    };
    budget
        .acquire(Spend::Lookup, egress, Priority::Normal)
        .await;
    match web.room_from_api(user).await {
        Ok(s) => from_status(&s),
        Err(TikTokError::Offline { room_id, .. }) => Lookup::Offline(room_id),
        Err(TikTokError::UserNotFound { .. }) => Lookup::NotFound,
        Err(api_error) => match page_error {
            TikTokError::UserNotFound { .. } => Lookup::Failed(api_error),
            other => Lookup::Failed(other),
        },
    }
}

fn from_status(s: &ttlive_source_tiktok::RoomStatus) -> Lookup {
    if s.status.is_connectable() {
        Lookup::Live(s.room_id)
    } else {
        Lookup::Offline(Some(s.room_id))
    }
}

/// The `Retry-After` of a rate-limit answer.
fn rate_limit_delay(e: &TikTokError) -> Option<Duration> {
    match e {
        TikTokError::HttpStatus {
            status: 429,
            retry_after,
            ..
        } => Some(retry_after.unwrap_or(Duration::from_secs(60))),
        _ => None,
    }
}

/// Waiting for one room went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WaitError {
    /// The clients could not be set up.
    #[error(transparent)]
    Setup(#[from] crate::egress::SetupError),
    /// Detection ended without a live room.
    #[error(transparent)]
    Detect(#[from] DetectError),
}

/// Go-live detection for one room, as `watch --wait` uses it: the same detector, budget and
/// pace as the service, through the configuration's first egress. `known` is the room's last
/// room id and when it was live (after a stream end, for `--follow`), so a stream that resumes
/// in the same room is found by a live check.
pub async fn wait_until_live(
    user: &str,
    conn: &crate::config::ConnectionConfig,
    cfg: DetectConfig,
    limits: &crate::config::LimitsConfig,
    known: Option<(u64, SystemTime)>,
) -> Result<Found, WaitError> {
    let egress = crate::egress::Egress::all(conn)?
        .into_iter()
        .next()
        .ok_or(DetectError::Stopped)?;
    let budget: Arc<dyn Budget> = Arc::new(crate::budget::LocalBudget::new(
        crate::budget::BudgetLimits::from(limits),
    ));
    let detector = Detector::start(
        cfg,
        budget,
        vec![DetectEgress {
            name: egress.name.clone(),
            web: egress.web.clone(),
        }],
    );
    let mut req = WatchRequest::new(user).on_error(Arc::new(|e: String| {
        tracing::warn!(error = %e, "go-live detection");
    }));
    if let Some((room, at)) = known {
        req = req.known(Some(room), Some(at));
    }
    Ok(detector.wait_live(req).await?)
}
