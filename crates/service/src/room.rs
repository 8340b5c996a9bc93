//! One followed room's lifecycle, and the set of rooms the service runs.
//!
//! A room is `waiting` (not live: go-live detection runs), `connecting` (found live: it waits
//! for a connect token, then its source signs and opens the socket), `live` (connected),
//! `reconnecting` (the socket dropped; the source reconnects by itself), or `stopped` (removed,
//! shutting down, or a fatal error such as an unknown user, which it keeps as `last_error`). A
//! stream end returns it to `waiting`, so the next stream is picked up; a failed session does
//! too, after a delay that grows with each failure in a row. Every transition is a `roomState`
//! event on the bus and a log line.
//!
//! The room's task drives its [`TikTokSource`] itself and publishes each event on the bus, so
//! the bus's backpressure applies (a full lossless subscriber pauses the room, and the source
//! keeps its socket alive meanwhile), and every event is counted on the way.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use ttlive_eventbus::{
    Event, EventBus, EventKind, EventMeta, EventSource, RoomState, RoomStateEvent, SourceEnd,
    SourceError, SourceItem,
};
use ttlive_source_tiktok::{TikTokError, TikTokSource};

use crate::budget::{Budget, Priority, Spend};
use crate::config::{ConnectionConfig, DetectConfig};
use crate::detect::{DetectError, Detector, WatchRequest};
use crate::egress::Egress;
use crate::registry::{KnownRoom, Registry};
use crate::sign::BudgetedSigner;

const KINDS: usize = EventKind::ALL.len();

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn ms_to_time(ms: i64) -> Option<SystemTime> {
    u64::try_from(ms)
        .ok()
        .map(|ms| UNIX_EPOCH + Duration::from_millis(ms))
}

/// Why a room is being stopped from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopReason {
    /// Removed (the API's `DELETE`).
    Removed,
    /// The service is shutting down.
    Shutdown,
}

impl StopReason {
    fn text(self) -> &'static str {
        match self {
            StopReason::Removed => "removed",
            StopReason::Shutdown => "shutting down",
        }
    }
}

#[derive(Debug)]
struct Mutable {
    state: RoomState,
    since_ms: i64,
    room_id: u64,
    last_error: Option<String>,
    reconnects: u64,
    gaps: u64,
    sessions: u64,
}

/// A room's live status, shared by its task (which writes it) and the API (which reads it).
#[derive(Debug)]
pub struct RoomStatus {
    user: String,
    egress: String,
    m: Mutex<Mutable>,
    per_kind: [AtomicU64; KINDS],
    last_event_ms: AtomicI64,
}

impl RoomStatus {
    fn new(user: String, egress: String) -> Self {
        RoomStatus {
            user,
            egress,
            m: Mutex::new(Mutable {
                state: RoomState::Waiting,
                since_ms: now_ms(),
                room_id: 0,
                last_error: None,
                reconnects: 0,
                gaps: 0,
                sessions: 0,
            }),
            per_kind: std::array::from_fn(|_| AtomicU64::new(0)),
            last_event_ms: AtomicI64::new(0),
        }
    }

    /// The handle.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The state now.
    pub fn state(&self) -> RoomState {
        lock(&self.m).state
    }

    fn set_error(&self, error: String) {
        lock(&self.m).last_error = Some(error);
    }

    /// A copy for the API.
    pub fn snapshot(&self) -> RoomSnapshot {
        let m = lock(&self.m);
        let events: BTreeMap<String, u64> = EventKind::ALL
            .iter()
            .zip(&self.per_kind)
            .filter_map(|(k, c)| {
                let n = c.load(Ordering::Relaxed);
                (n > 0).then(|| (k.name().to_owned(), n))
            })
            .collect();
        let last = self.last_event_ms.load(Ordering::Relaxed);
        RoomSnapshot {
            user: self.user.clone(),
            state: m.state,
            room_id: (m.room_id != 0).then(|| m.room_id.to_string()),
            since: m.since_ms,
            egress: self.egress.clone(),
            events_total: events.values().sum(),
            events,
            last_event_time: (last > 0).then_some(last),
            reconnects: m.reconnects,
            gaps: m.gaps,
            sessions: m.sessions,
            last_error: m.last_error.clone(),
        }
    }
}

/// A room as `GET /api/rooms` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RoomSnapshot {
    /// The handle.
    pub user: String,
    /// `waiting`, `connecting`, `live`, `reconnecting` or `stopped`.
    pub state: RoomState,
    /// The room id, when known (a decimal string, as in events).
    pub room_id: Option<String>,
    /// When the room entered its state (ms since the epoch).
    pub since: i64,
    /// The egress it goes through.
    pub egress: String,
    /// Events published, by kind.
    pub events: BTreeMap<String, u64>,
    /// Events published in total.
    pub events_total: u64,
    /// When the last event was published (ms since the epoch).
    pub last_event_time: Option<i64>,
    /// Reconnects inside sessions.
    pub reconnects: u64,
    /// `gap` events (continuity lost).
    pub gaps: u64,
    /// Sessions started (one per stream found live, or retry after a failure).
    pub sessions: u64,
    /// The last error (detection, connection or source), if any.
    pub last_error: Option<String>,
}

/// What every room's task shares.
pub(crate) struct RoomContext {
    pub(crate) bus: EventBus,
    pub(crate) detector: Arc<Detector>,
    pub(crate) budget: Arc<dyn Budget>,
    pub(crate) egresses: Arc<[Egress]>,
    pub(crate) conn: ConnectionConfig,
    pub(crate) detect: DetectConfig,
    pub(crate) registry: Arc<Registry>,
    pub(crate) counters: crate::telemetry::Counters,
}

struct RoomHandle {
    status: Arc<RoomStatus>,
    stop: watch::Sender<Option<StopReason>>,
    task: JoinHandle<()>,
}

/// The rooms the service runs, by handle.
pub(crate) struct Rooms {
    ctx: Arc<RoomContext>,
    map: Mutex<BTreeMap<String, RoomHandle>>,
}

impl Rooms {
    pub(crate) fn new(ctx: Arc<RoomContext>) -> Self {
        Rooms {
            ctx,
            map: Mutex::new(BTreeMap::new()),
        }
    }

    /// Starts following `user` (normalized); false when it already runs.
    pub(crate) fn start(&self, user: &str) -> bool {
        let mut map = lock(&self.map);
        if map.contains_key(user) {
            return false;
        }
        let egress = Egress::index_for(user, self.ctx.egresses.len());
        let egress_name = self
            .ctx
            .egresses
            .get(egress)
            .map_or_else(|| "direct".to_owned(), |e| e.name.clone());
        let status = Arc::new(RoomStatus::new(user.to_owned(), egress_name));
        let (stop, stop_rx) = watch::channel(None);
        let task = tokio::spawn(
            RoomTask {
                ctx: Arc::clone(&self.ctx),
                status: Arc::clone(&status),
                egress,
                stop: stop_rx,
            }
            .run(),
        );
        map.insert(user.to_owned(), RoomHandle { status, stop, task });
        true
    }

    /// Stops `user`'s room and waits for its task; false when it does not run.
    pub(crate) async fn stop(&self, user: &str, reason: StopReason) -> bool {
        let Some(handle) = lock(&self.map).remove(user) else {
            return false;
        };
        handle.stop.send_replace(Some(reason));
        if let Err(e) = handle.task.await {
            tracing::warn!(user, error = %e, "room task did not end cleanly");
        }
        true
    }

    /// Stops every room (concurrently) and waits for their tasks.
    pub(crate) async fn stop_all(&self, reason: StopReason) {
        let handles: Vec<(String, RoomHandle)> =
            std::mem::take(&mut *lock(&self.map)).into_iter().collect();
        for (_, h) in &handles {
            h.stop.send_replace(Some(reason));
        }
        for (user, h) in handles {
            if let Err(e) = h.task.await {
                tracing::warn!(user, error = %e, "room task did not end cleanly");
            }
        }
    }

    pub(crate) fn statuses(&self) -> Vec<Arc<RoomStatus>> {
        lock(&self.map)
            .values()
            .map(|h| Arc::clone(&h.status))
            .collect()
    }

    pub(crate) fn status(&self, user: &str) -> Option<Arc<RoomStatus>> {
        lock(&self.map).get(user).map(|h| Arc::clone(&h.status))
    }

    pub(crate) fn len(&self) -> usize {
        lock(&self.map).len()
    }
}

/// How a session ended, for the next wait.
enum After {
    /// The stream ended: look for the next one.
    StreamEnded,
    /// The room is not live (a stale room id).
    NotLive,
    /// The session failed; wait longer each time.
    Failed(String),
    /// Stopped from outside.
    Stop(StopReason),
}

struct RoomTask {
    ctx: Arc<RoomContext>,
    status: Arc<RoomStatus>,
    egress: usize,
    stop: watch::Receiver<Option<StopReason>>,
}

impl RoomTask {
    fn user(&self) -> &str {
        &self.status.user
    }

    /// Moves to `to` (logging it and publishing `roomState`); nothing when already there and
    /// there is no error to tell.
    async fn transition(&self, to: RoomState, reason: &str, error: Option<String>) {
        let (from, room_id) = {
            let mut m = lock(&self.status.m);
            let from = m.state;
            if from == to && error.is_none() {
                return;
            }
            m.state = to;
            m.since_ms = now_ms();
            if let Some(e) = &error {
                m.last_error = Some(e.clone());
            }
            (from, m.room_id)
        };
        self.announce(Some(from), to, room_id, reason, error).await;
    }

    async fn announce(
        &self,
        from: Option<RoomState>,
        to: RoomState,
        room_id: u64,
        reason: &str,
        error: Option<String>,
    ) {
        tracing::info!(
            user = self.user(),
            room_id,
            from = from.map_or("", RoomState::name),
            to = %to,
            reason,
            error = error.as_deref().unwrap_or(""),
            "room state"
        );
        let ev = Event::RoomState(RoomStateEvent {
            meta: EventMeta {
                room_id,
                create_time: now_ms(),
                ..EventMeta::default()
            },
            user: self.status.user.clone(),
            from,
            to,
            reason: reason.to_owned(),
            error,
        });
        // A closed bus (shutting down) takes no more events; the log line stays.
        let _ = self.ctx.bus.publish(ev).await;
    }

    fn stop_reason(&self) -> Option<StopReason> {
        *self.stop.borrow()
    }

    async fn stopped(stop: &mut watch::Receiver<Option<StopReason>>) -> StopReason {
        match stop.wait_for(Option::is_some).await {
            Ok(r) => r.unwrap_or(StopReason::Shutdown),
            Err(_) => StopReason::Shutdown,
        }
    }

    async fn run(mut self) {
        let user = self.status.user.clone();
        let known = self.ctx.registry.known(&user).await.unwrap_or_default();
        let mut room_id = (known.room_id != 0).then_some(known.room_id);
        let mut last_live = known.last_live_ms.and_then(ms_to_time);
        if let Some(r) = room_id {
            lock(&self.status.m).room_id = r;
        }
        let mut failures: u32 = 0;
        let mut not_before: Option<Instant> = None;
        let room = lock(&self.status.m).room_id;
        self.announce(None, RoomState::Waiting, room, "added", None)
            .await;
        let reason = loop {
            if let Some(r) = self.stop_reason() {
                break r;
            }
            // Waiting: go-live detection.
            let status = Arc::clone(&self.status);
            let mut req = WatchRequest::new(user.clone())
                .egress(self.egress)
                .known(room_id, last_live)
                .on_error(Arc::new(move |e| status.set_error(e)));
            if let Some(t) = not_before {
                req = req.not_before(t);
            }
            let mut stop = self.stop.clone();
            let found = tokio::select! {
                r = Self::stopped(&mut stop) => break r,
                found = self.ctx.detector.wait_live(req) => found,
            };
            let found = match found {
                Ok(f) => f,
                Err(e @ DetectError::UserNotFound(_)) => {
                    self.transition(RoomState::Stopped, "user not found", Some(e.to_string()))
                        .await;
                    // Stays listed, stopped, until removed or shut down.
                    let mut stop = self.stop.clone();
                    Self::stopped(&mut stop).await;
                    return;
                }
                Err(_) => {
                    let mut stop = self.stop.clone();
                    break Self::stopped(&mut stop).await;
                }
            };
            room_id = Some(found.room_id);
            lock(&self.status.m).room_id = found.room_id;
            // Live now: after a restart, its room id is checked first (cheaply, in batches).
            self.remember(room_id, Some(SystemTime::now())).await;
            self.transition(RoomState::Connecting, "went live", None)
                .await;
            let after = self.session(found.room_id, failures == 0).await;
            match after {
                After::StreamEnded => {
                    failures = 0;
                    not_before = None;
                    last_live = Some(SystemTime::now());
                    self.remember(room_id, last_live).await;
                    self.transition(RoomState::Waiting, "stream ended", None)
                        .await;
                }
                After::NotLive => {
                    failures = 0;
                    not_before = None;
                    self.transition(RoomState::Waiting, "not live", None).await;
                }
                After::Failed(error) => {
                    failures = failures.saturating_add(1);
                    let delay = self
                        .ctx
                        .detect
                        .failure_delay
                        .saturating_mul(1 << (failures - 1).min(16))
                        .min(self.ctx.detect.lookup_max_interval);
                    not_before = Some(Instant::now() + delay);
                    // It was live moments ago: its room id is worth checking first.
                    last_live = Some(SystemTime::now());
                    self.remember(room_id, last_live).await;
                    self.transition(RoomState::Waiting, "connection failed", Some(error))
                        .await;
                }
                After::Stop(r) => break r,
            }
        };
        self.transition(RoomState::Stopped, reason.text(), None)
            .await;
    }

    async fn remember(&self, room_id: Option<u64>, last_live: Option<SystemTime>) {
        let known = KnownRoom {
            room_id: room_id.unwrap_or(0),
            last_live_ms: last_live
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .and_then(|d| i64::try_from(d.as_millis()).ok()),
        };
        self.ctx.registry.remember(&self.status.user, known).await;
    }

    fn source(&self, room_id: u64, priority: Priority) -> Result<TikTokSource, TikTokError> {
        let conn = &self.ctx.conn;
        let egress = &self.ctx.egresses[self.egress.min(self.ctx.egresses.len() - 1)];
        let signer = Arc::new(BudgetedSigner::new(
            Arc::clone(&egress.signer),
            Arc::clone(&self.ctx.budget),
            egress.name.clone(),
            egress.sign_server.clone(),
            priority,
        ));
        crate::egress::source_builder(conn, &room_id.to_string(), egress.proxy.as_deref(), signer)
            // The service looked the room up itself.
            .check_live(false)
            .start()
    }

    /// One session: a connect token, the source, its events until it ends or the room stops.
    async fn session(&mut self, room_id: u64, just_live: bool) -> After {
        let priority = if just_live {
            Priority::High
        } else {
            Priority::Normal
        };
        let egress_name = self.status.egress.clone();
        let mut stop = self.stop.clone();
        tokio::select! {
            r = Self::stopped(&mut stop) => return After::Stop(r),
            () = self.ctx.budget.acquire(Spend::Connect, &egress_name, priority) => {}
        }
        lock(&self.status.m).sessions += 1;
        let mut source = match self.source(room_id, priority) {
            Ok(s) => s,
            Err(e) => return After::Failed(e.to_string()),
        };
        let mut stop = self.stop.clone();
        tokio::select! {
            r = Self::stopped(&mut stop) => After::Stop(r),
            end = self.drive(&mut source) => match end {
                SourceEnd::StreamEnded | SourceEnd::Finished => After::StreamEnded,
                SourceEnd::Fatal(e) => {
                    if matches!(cause(&e), Some(TikTokError::Offline { .. })) {
                        After::NotLive
                    } else {
                        After::Failed(e.to_string())
                    }
                }
                SourceEnd::Stopped => After::Stop(self.stop_reason().unwrap_or(StopReason::Shutdown)),
                other => After::Failed(other.to_string()),
            },
        }
    }

    /// Publishes the source's events, moving the room between `live` and `reconnecting`, until
    /// the source ends (or the bus closes).
    async fn drive(&self, source: &mut TikTokSource) -> SourceEnd {
        loop {
            match source.next().await {
                SourceItem::Event(mut ev) => {
                    let next_state = match &mut ev {
                        Event::Connected(c) => {
                            if c.unique_id.is_empty() {
                                c.unique_id = self.status.user.clone();
                            }
                            if c.meta.room_id != 0 {
                                lock(&self.status.m).room_id = c.meta.room_id;
                            }
                            self.ctx.counters.connects.increment(1);
                            Some((RoomState::Live, "connected"))
                        }
                        Event::Disconnected(d) if d.will_reconnect => {
                            Some((RoomState::Reconnecting, "disconnected"))
                        }
                        Event::Reconnecting(_) => {
                            lock(&self.status.m).reconnects += 1;
                            self.ctx.counters.reconnects.increment(1);
                            Some((RoomState::Reconnecting, "reconnecting"))
                        }
                        Event::Gap(_) => {
                            lock(&self.status.m).gaps += 1;
                            None
                        }
                        _ => None,
                    };
                    self.count(&ev);
                    if self.ctx.bus.publish(ev).await.is_err() {
                        return SourceEnd::Stopped;
                    }
                    if let Some((to, why)) = next_state {
                        let from = self.status.state();
                        // Reconnect attempts before the first connect stay `connecting`.
                        let skip = to == RoomState::Reconnecting && from == RoomState::Connecting;
                        if !skip && from != to {
                            self.transition(to, why, None).await;
                        }
                    }
                }
                SourceItem::Error(e) => self.record_error(&e),
                SourceItem::End(end) => {
                    if let SourceEnd::Fatal(e) = &end {
                        self.record_error(e);
                    }
                    return end;
                }
                _ => {}
            }
        }
    }

    fn count(&self, ev: &Event) {
        let kind = ev.kind();
        if let Some(c) = self.status.per_kind.get(kind.index()) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        let now = now_ms();
        self.status.last_event_ms.store(now, Ordering::Relaxed);
        self.ctx.counters.event(kind);
        let meta = ev.meta();
        if !kind.is_lifecycle() && !meta.is_history && meta.create_time > 0 {
            let ms = (now - meta.create_time).max(0);
            self.ctx
                .counters
                .latency
                .record(Duration::from_millis(ms.unsigned_abs()).as_secs_f64());
        }
    }

    fn record_error(&self, e: &SourceError) {
        self.ctx.counters.source_error(e);
        tracing::warn!(user = self.user(), error = %e, "room source error");
        self.status.set_error(e.to_string());
    }
}

/// The library error behind a source error, when there is one.
pub(crate) fn cause(e: &SourceError) -> Option<&TikTokError> {
    e.cause().and_then(|c| c.downcast_ref::<TikTokError>())
}
