//! The fake TikTok server: web routes, Euler-style sign routes and the push WebSocket on one
//! loopback port (plus optional extra sign servers on ports of their own). See the
//! [crate docs](crate#the-fake-tiktok-server).
//!
//! The modules follow the data: [`rooms`] knows who is live and moves rooms along their
//! [`schedule`]s; a live room plays a [`feed`] (a recording) or [`traffic`] (generated);
//! [`http`] answers the routes and upgrades, [`ws`] runs one push socket; [`faults`] says what
//! goes wrong, [`signers`] which sign server answers how; [`log`] and [`stats`] keep what a
//! test reads, bounded.

mod faults;
mod feed;
pub(crate) mod http;
mod log;
mod rooms;
pub(crate) mod schedule;
mod signers;
mod stats;
pub(crate) mod traffic;
mod ws;

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::AbortHandle;
use ttlive_proto::webcast as pb;

pub use faults::{Fault, Route, Trigger};
pub use log::{
    ClientRecord, HttpRecord, LogStats, MAX_ACK_PAYLOAD, MAX_HEADER_VALUE, MAX_PATH, MAX_QUERY,
    PINGS_LOGGED_PER_CONN,
};
pub use schedule::{Phase, Schedule, ScheduleError, ScheduleSet, Target};
pub use signers::{PRIMARY_SIGNER, SignBehaviour};
pub use stats::{ROUTE_HISTORY_SECS, RoomStats, RouteStats, Via};
pub use traffic::{MSG_ID_BASE, MsgIdParts, msg_id};

use crate::demo::demo_recording;
use crate::pace::Pace;
use crate::recording::Recording;
use faults::FaultState;
use feed::RecordedFeed;
use log::ClientLog;
use rooms::{Feed, RoomSpec, Rooms};
use signers::SignServer;
use stats::RouteCounters;

/// Whether a configured user is live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UserState {
    /// Live (status 2 everywhere).
    Live,
    /// Has a room but is offline (status 4).
    Offline,
    /// Does not exist: no `LiveRoom` in the page, `user_not_found` (19881007) from the API.
    Unknown,
}

/// One scripted push frame: sent `t_ms` after the push starts, with these messages.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ScriptFrame {
    /// Offset (ms), scaled by the [`Pace`].
    pub t_ms: u64,
    /// The messages of the batch.
    pub messages: Vec<pb::BaseProtoMessage>,
}

impl ScriptFrame {
    /// A frame.
    pub fn new(t_ms: u64, messages: Vec<pb::BaseProtoMessage>) -> Self {
        ScriptFrame { t_ms, messages }
    }
}

/// The limits that keep the server bounded under abuse.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Time to read a connection's request headers.
    pub(crate) http_idle: Duration,
    /// A push socket whose client sends nothing for this long is closed.
    pub(crate) ws_idle: Duration,
    /// A frame the client does not take within this long ends the socket (a client that never
    /// reads).
    pub(crate) write_timeout: Duration,
    /// More client pings than this in one second end the socket (a ping flood).
    pub(crate) max_pings_per_sec: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            http_idle: Duration::from_secs(10),
            ws_idle: Duration::from_secs(60),
            write_timeout: Duration::from_secs(10),
            max_pings_per_sec: 1000,
        }
    }
}

/// State shared by every connection.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) rooms: Arc<Rooms>,
    pub(crate) pace: Pace,
    pub(crate) history: bool,
    /// History messages a generated room's sign fetch carries.
    pub(crate) generated_history: u64,
    pub(crate) need_ack: bool,
    pub(crate) enter_room_resp_messages: bool,
    pub(crate) recorded_end_ends_stream: bool,
    pub(crate) enter_room_timeout: Duration,
    pub(crate) limits: Limits,
    pub(crate) port: u16,
    pub(crate) faults: Mutex<FaultState>,
    log: Mutex<ClientLog>,
    log_version: watch::Sender<u64>,
    pub(crate) routes: RouteCounters,
    pub(crate) next_conn: AtomicU64,
    pub(crate) next_request: AtomicU64,
    next_task: AtomicU64,
    tasks: Mutex<HashMap<u64, AbortHandle>>,
    /// Index 0 is the primary (the main port's) sign server.
    pub(crate) signers: Vec<SignServer>,
    /// Bumped to make every push socket drop its connection at once.
    pub(crate) drop_all: watch::Sender<u64>,
}

/// Removes a finished task from the server's task list.
struct TaskGuard {
    shared: std::sync::Weak<Shared>,
    id: u64,
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.upgrade()
            && let Ok(mut tasks) = shared.tasks.lock()
        {
            tasks.remove(&self.id);
        }
    }
}

impl Shared {
    pub(crate) fn record(&self, rec: ClientRecord) {
        tracing::trace!(?rec, "fake server: client record");
        if let Ok(mut log) = self.log.lock() {
            log.push(rec);
        }
        self.log_version.send_modify(|v| *v += 1);
    }

    pub(crate) fn fire(&self, stage: faults::Stage) -> Vec<Fault> {
        self.faults
            .lock()
            .map(|mut f| f.fire(stage))
            .unwrap_or_default()
    }

    /// The faults armed for a request to `route` (a `429` on any route).
    pub(crate) fn fire_route(&self, route: &str) -> Vec<Fault> {
        self.faults
            .lock()
            .map(|mut f| f.fire_route(route))
            .unwrap_or_default()
    }

    /// Spawns a connection task that the server can end, and that leaves the task list when
    /// it ends.
    pub(crate) fn spawn_tracked<F>(self: &Arc<Self>, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let id = self.next_task.fetch_add(1, Ordering::Relaxed);
        let guard = TaskGuard {
            shared: Arc::downgrade(self),
            id,
        };
        let Ok(mut tasks) = self.tasks.lock() else {
            return;
        };
        let task = tokio::spawn(async move {
            let _guard = guard;
            fut.await;
        });
        tasks.insert(id, task.abort_handle());
    }

    /// Tasks (HTTP connections and push sockets) running now.
    pub(crate) fn task_count(&self) -> usize {
        self.tasks.lock().map_or(0, |t| t.len())
    }

    pub(crate) fn push_url(&self) -> String {
        format!(
            "ws://127.0.0.1:{}/webcast/im/ws_proxy/ws_reuse_supplement/",
            self.port
        )
    }

    pub(crate) fn signer(&self, name: &str) -> Option<(usize, &SignServer)> {
        self.signers
            .iter()
            .enumerate()
            .find(|(_, s)| s.name.eq_ignore_ascii_case(name))
    }
}

/// protocol.md §1: strip the first `https://www.tiktok.com/`, `/live`, `@`, then trim.
pub(crate) fn normalize_unique_id(s: &str) -> String {
    let s = s.replacen("https://www.tiktok.com/", "", 1);
    let s = s.replacen("/live", "", 1);
    let s = s.replacen('@', "", 1);
    s.trim().to_owned()
}

/// The name of numbered room `i` of `n`: `room0000`…, with more digits past 10,000 rooms.
pub fn numbered_room(i: usize, n: usize) -> String {
    let width = n.saturating_sub(1).to_string().len().max(4);
    format!("room{i:0width$}")
}

/// Builds a [`FakeServer`]; see [`FakeServer::builder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct FakeServerBuilder {
    users: Vec<(String, UserState, Option<u64>)>,
    rooms: usize,
    rate: f64,
    schedules: ScheduleSet,
    recording: Option<Recording>,
    script: Option<(Vec<pb::BaseProtoMessage>, Vec<ScriptFrame>)>,
    pace: Pace,
    history: bool,
    generated_history: u64,
    need_ack: bool,
    enter_room_resp_messages: bool,
    recorded_end_ends_stream: bool,
    enter_room_timeout: Duration,
    faults: Vec<(Fault, Trigger)>,
    sign_servers: Vec<String>,
    log_capacity: (usize, usize),
    limits: Limits,
    bind: SocketAddr,
}

impl Default for FakeServerBuilder {
    fn default() -> Self {
        FakeServerBuilder {
            users: Vec::new(),
            rooms: 0,
            rate: 10.0,
            schedules: ScheduleSet::new(),
            recording: None,
            script: None,
            pace: Pace::RealTime,
            history: true,
            generated_history: 5,
            need_ack: true,
            enter_room_resp_messages: false,
            recorded_end_ends_stream: false,
            enter_room_timeout: Duration::from_secs(2),
            faults: Vec::new(),
            sign_servers: Vec::new(),
            log_capacity: (DEFAULT_LOG_RECORDS, DEFAULT_LOG_BYTES),
            limits: Limits::default(),
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }
}

/// Records the client log keeps by default.
pub const DEFAULT_LOG_RECORDS: usize = 50_000;
/// Bytes the client log keeps by default (about).
pub const DEFAULT_LOG_BYTES: usize = 16 * 1024 * 1024;

impl FakeServerBuilder {
    /// Adds a user that plays the recording (or script). Without any user or
    /// [`rooms`](Self::rooms), the server knows `fakeuser`, live. The first live user plays
    /// the recording as it is, in the recording's room; every other user and every later stream
    /// gets its own room id and its own msg ids.
    pub fn user(mut self, unique_id: impl Into<String>, state: UserState) -> Self {
        self.users.push((unique_id.into(), state, None));
        self
    }

    /// Adds a user with an explicit room id (for its first stream).
    pub fn user_with_room(
        mut self,
        unique_id: impl Into<String>,
        state: UserState,
        room_id: u64,
    ) -> Self {
        self.users.push((unique_id.into(), state, Some(room_id)));
        self
    }

    /// Adds `n` numbered rooms, `room0000`… (see [`numbered_room`]), live unless a schedule
    /// says otherwise, each pushing generated traffic at [`rate`](Self::rate) messages per
    /// second with its own room id and msg ids ([`msg_id`]). They come after the
    /// [`user`](Self::user)s.
    pub fn rooms(mut self, n: usize) -> Self {
        self.rooms = n.min(traffic::MAX_ROOMS);
        self
    }

    /// Messages per second each numbered room pushes (default 10).
    pub fn rate(mut self, per_second: f64) -> Self {
        self.rate = if per_second.is_finite() && per_second > 0.0 {
            per_second
        } else {
            0.0
        };
        self
    }

    /// Adds schedule entries (see [`ScheduleSet`] for the syntax). A
    /// user without an entry keeps the state it was given.
    pub fn schedules(mut self, set: ScheduleSet) -> Self {
        self.schedules.extend(set);
        self
    }

    /// Messages of history a numbered room's sign fetch carries (default 5; the last ones
    /// before the cursor it hands out).
    pub fn generated_history(mut self, n: u64) -> Self {
        self.generated_history = n;
        self
    }

    /// Plays this recording (default: the built-in [`demo_recording`]). Its first sign-fetch
    /// body gives the history messages, its push frames the WebSocket frames.
    pub fn recording(mut self, recording: Recording) -> Self {
        self.recording = Some(recording);
        self.script = None;
        self
    }

    /// Plays a script instead of a recording: `history` in the sign-fetch result, then the
    /// frames.
    pub fn script(mut self, history: Vec<pb::BaseProtoMessage>, frames: Vec<ScriptFrame>) -> Self {
        self.script = Some((history, frames));
        self.recording = None;
        self
    }

    /// Sets the pace of a recording's push (default [`Pace::RealTime`]; generated rooms
    /// always run in real time at their rate).
    pub fn pace(mut self, pace: Pace) -> Self {
        self.pace = pace;
        self
    }

    /// Whether the sign-fetch result carries the history messages (default true). Without them
    /// every event has to come through the WebSocket.
    pub fn history(mut self, history: bool) -> Self {
        self.history = history;
        self
    }

    /// Whether pushed batches ask for an ack (default true).
    pub fn need_ack(mut self, need_ack: bool) -> Self {
        self.need_ack = need_ack;
        self
    }

    /// Whether the `im_enter_room_resp` frame carries the first batch of the push (its
    /// messages, `need_ack`, a log id), as TikTok's sometimes does, instead of an empty payload
    /// (default false).
    pub fn enter_room_resp_messages(mut self, on: bool) -> Self {
        self.enter_room_resp_messages = on;
        self
    }

    /// Whether a stream end in the played recording (or script) ends the room's stream as on
    /// TikTok: the user goes offline until it goes live again (with a new room id), so no
    /// later socket replays that stream (default false: every new socket replays the recording
    /// from its start, which is what a demo or a replay test wants). A service that follows
    /// rooms across streams is tested with this on.
    pub fn recorded_end_ends_stream(mut self, on: bool) -> Self {
        self.recorded_end_ends_stream = on;
        self
    }

    /// How long the push waits for `im_enter_room` before starting anyway (default 2 s;
    /// legacy clients never send it).
    pub fn enter_room_timeout(mut self, timeout: Duration) -> Self {
        self.enter_room_timeout = timeout;
        self
    }

    /// Arms a fault.
    pub fn fault(mut self, fault: Fault, trigger: Trigger) -> Self {
        self.faults.push((fault, trigger));
        self
    }

    /// Adds a sign server named `name` on a port of its own (same rooms, same push socket,
    /// every route served there too), e.g. a backup to fail over to. See
    /// [`FakeServer::sign_url`], [`FakeServer::set_sign_server_up`] and
    /// [`FakeServer::set_sign_behaviour`].
    pub fn sign_server(mut self, name: impl Into<String>) -> Self {
        self.sign_servers.push(name.into());
        self
    }

    /// Caps the client log: at most `records` records and about `bytes` bytes, the oldest
    /// dropped first (default [`DEFAULT_LOG_RECORDS`], [`DEFAULT_LOG_BYTES`]).
    pub fn client_log_capacity(mut self, records: usize, bytes: usize) -> Self {
        self.log_capacity = (records, bytes);
        self
    }

    /// How long an HTTP connection may take to send its request's headers before it is closed
    /// (default 10 s; idle and slowloris connections end here). Each connection serves one
    /// request (`Connection: close`), the WebSocket upgrade included.
    pub fn http_idle_timeout(mut self, timeout: Duration) -> Self {
        self.limits.http_idle = timeout;
        self
    }

    /// How long a push socket may go without any frame from its client before it is closed
    /// (default 60 s; clients heartbeat every 10 s).
    pub fn ws_idle_timeout(mut self, timeout: Duration) -> Self {
        self.limits.ws_idle = timeout;
        self
    }

    /// How long a frame may wait for a client that does not read before the socket is dropped
    /// (default 10 s).
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.limits.write_timeout = timeout;
        self
    }

    /// Client pings per second past which a push socket is closed as a flood (default 1,000).
    pub fn max_pings_per_sec(mut self, n: u32) -> Self {
        self.limits.max_pings_per_sec = n.max(1);
        self
    }

    /// The address to bind (default `127.0.0.1:0`).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
        self
    }

    /// Binds `127.0.0.1:port` (0 = any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.bind = SocketAddr::from(([127, 0, 0, 1], port));
        self
    }

    fn recorded_feed(&self) -> RecordedFeed {
        match (&self.script, &self.recording) {
            (Some((history, frames)), _) => RecordedFeed::from_script(history.clone(), frames),
            (None, Some(rec)) => RecordedFeed::from_recording(rec),
            (None, None) => RecordedFeed::from_recording(&demo_recording()),
        }
    }

    fn room_specs(&self) -> Vec<RoomSpec> {
        let mut users_in = self.users.clone();
        if users_in.is_empty() && self.rooms == 0 {
            users_in.push(("fakeuser".to_owned(), UserState::Live, None));
        }
        let mut specs = Vec::new();
        if !users_in.is_empty() {
            let feed = Arc::new(self.recorded_feed());
            let mut primary_taken = false;
            for (name, state, room) in users_in {
                let name = normalize_unique_id(&name);
                let schedule = self.schedules.for_user(&name).cloned();
                let primary = !primary_taken && state == UserState::Live;
                primary_taken |= primary;
                let room_id = match room {
                    Some(r) => Some(r),
                    None if primary => feed.room_id,
                    None => None,
                };
                specs.push(RoomSpec {
                    unique_id: name,
                    state,
                    room_id,
                    feed: Some(Feed::Recorded(feed.clone())),
                    primary,
                    schedule,
                });
            }
        }
        for i in 0..self.rooms {
            let name = numbered_room(i, self.rooms);
            specs.push(RoomSpec {
                schedule: self.schedules.for_user(&name).cloned(),
                unique_id: name,
                state: UserState::Live,
                room_id: None,
                feed: Some(Feed::Generated { rate: self.rate }),
                primary: false,
            });
        }
        specs
    }

    /// Binds the port(s) and starts serving in the background (needs a tokio runtime).
    pub async fn start(self) -> io::Result<FakeServer> {
        let listener = TcpListener::bind(self.bind).await?;
        let addr = listener.local_addr()?;
        let mut extra = Vec::new();
        let mut signers = vec![SignServer::new(PRIMARY_SIGNER, addr)];
        for name in &self.sign_servers {
            let l = TcpListener::bind(SocketAddr::new(addr.ip(), 0)).await?;
            signers.push(SignServer::new(name, l.local_addr()?));
            extra.push(l);
        }
        let started = Instant::now();
        let rooms = Arc::new(Rooms::new(self.room_specs(), started));
        let mut fault_state = FaultState::default();
        for (f, t) in self.faults {
            fault_state.add(f, t);
        }
        let (log_version, _) = watch::channel(0);
        let (drop_all, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            rooms: rooms.clone(),
            pace: self.pace,
            history: self.history,
            generated_history: self.generated_history,
            need_ack: self.need_ack,
            enter_room_resp_messages: self.enter_room_resp_messages,
            recorded_end_ends_stream: self.recorded_end_ends_stream,
            enter_room_timeout: self.enter_room_timeout,
            limits: self.limits,
            port: addr.port(),
            faults: Mutex::new(fault_state),
            log: Mutex::new(ClientLog::new(self.log_capacity.0, self.log_capacity.1)),
            log_version,
            routes: RouteCounters::new(started),
            next_conn: AtomicU64::new(0),
            next_request: AtomicU64::new(0),
            next_task: AtomicU64::new(0),
            tasks: Mutex::new(HashMap::new()),
            signers,
            drop_all,
        });
        let mut background = vec![
            tokio::spawn(http::accept_loop(listener, Arc::downgrade(&shared), 0)).abort_handle(),
            tokio::spawn(rooms.run_schedules()).abort_handle(),
        ];
        for (i, l) in extra.into_iter().enumerate() {
            let task = tokio::spawn(http::accept_loop(l, Arc::downgrade(&shared), i + 1));
            shared.signers[i + 1].set_accept(Some(task.abort_handle()));
        }
        background.shrink_to_fit();
        tracing::info!(%addr, rooms = shared.rooms.list.len(), "fake TikTok server listening");
        Ok(FakeServer {
            addr,
            shared,
            background,
        })
    }
}

/// A running fake TikTok server on loopback. Dropping it stops it.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use ttlive_source_mock::{FakeServer, Pace, UserState};
/// let server = FakeServer::builder()
///     .user("fakeuser", UserState::Live)
///     .pace(Pace::Speed(2.0))
///     .start()
///     .await?;
/// println!("{}", server.base_url()); // http://127.0.0.1:PORT: web host, webcast host and sign server
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct FakeServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    background: Vec<AbortHandle>,
}

/// [`FakeServer::wait_for`] gave up.
#[derive(Debug, Clone, thiserror::Error)]
#[error("timed out after {0:?} waiting for the client log to match")]
pub struct WaitTimeout(pub Duration);

/// A user the server does not know.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the fake server has no user or sign server named `{0}`")]
pub struct NotFound(pub String);

impl FakeServer {
    /// A builder with the defaults: `fakeuser` live, the demo recording, real-time pace,
    /// `127.0.0.1:0`.
    pub fn builder() -> FakeServerBuilder {
        FakeServerBuilder::default()
    }

    /// `http://127.0.0.1:PORT`: use it as web host, webcast host and sign server.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The push WebSocket URL the sign routes hand out.
    pub fn push_url(&self) -> String {
        self.shared.push_url()
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The current (or, offline, the last) room id of a user (0 for unknown users or names not
    /// configured).
    pub fn room_id(&self, unique_id: &str) -> u64 {
        self.shared
            .rooms
            .by_name(&normalize_unique_id(unique_id))
            .filter(|r| r.exists)
            .map_or(0, |r| r.phase().room_id)
    }

    /// Whether a user is live now.
    pub fn is_live(&self, unique_id: &str) -> bool {
        self.shared
            .rooms
            .by_name(&normalize_unique_id(unique_id))
            .is_some_and(|r| r.is_live())
    }

    /// Starts a new stream (with a new room id) for a user that is not live; returns the new
    /// room id, or `None` when the user was live already.
    ///
    /// # Errors
    /// [`NotFound`] for a user the server does not know (or one that does not exist).
    pub fn go_live(&self, unique_id: &str) -> Result<Option<u64>, NotFound> {
        let rooms = &self.shared.rooms;
        let room = rooms
            .by_name(&normalize_unique_id(unique_id))
            .filter(|r| r.exists)
            .ok_or_else(|| NotFound(unique_id.to_owned()))?;
        Ok(rooms.go_live(room))
    }

    /// Ends a user's stream as TikTok does: the push sockets get a `WebcastControlMessage`
    /// with this action (3 ended by the host, 4 suspended) and close, and the user is offline
    /// (status 4) until it goes live again. Returns false when it was not live.
    ///
    /// # Errors
    /// [`NotFound`] for a user the server does not know.
    pub fn end_stream(&self, unique_id: &str, action: i32) -> Result<bool, NotFound> {
        let rooms = &self.shared.rooms;
        let room = rooms
            .by_name(&normalize_unique_id(unique_id))
            .ok_or_else(|| NotFound(unique_id.to_owned()))?;
        Ok(rooms.end(room, action))
    }

    /// Puts a user in `state` while the server runs: [`UserState::Live`] starts a stream
    /// ([`go_live`](Self::go_live)), [`UserState::Offline`] ends the current one as TikTok does
    /// ([`end_stream`](Self::end_stream) with action 3). Returns false for a user the server
    /// does not know; [`UserState::Unknown`] cannot be set at run time and also gives false.
    pub fn set_user_state(&self, unique_id: &str, state: UserState) -> bool {
        match state {
            UserState::Live => self.go_live(unique_id).is_ok(),
            UserState::Offline => self.end_stream(unique_id, 3).is_ok(),
            UserState::Unknown => false,
        }
    }

    /// Drops the TCP connection of every open push socket at once (no close frame), as a
    /// network blip or a server restart would.
    pub fn drop_all_sockets(&self) {
        self.shared.drop_all.send_modify(|v| *v += 1);
    }

    /// A room's counters: sockets open now and ever, messages pushed, streams.
    pub fn room_stats(&self, unique_id: &str) -> Option<RoomStats> {
        self.shared
            .rooms
            .by_name(&normalize_unique_id(unique_id))
            .map(|r| r.stats())
    }

    /// Every room's counters, in order (the users, then `room0000`…).
    pub fn all_room_stats(&self) -> Vec<RoomStats> {
        self.shared.rooms.list.iter().map(|r| r.stats()).collect()
    }

    /// Every msg id a room delivered (on push sockets, in sign-fetch histories and polls),
    /// sorted, each once: what a client following the room without a gap must have seen.
    pub fn pushed_msg_ids(&self, unique_id: &str) -> Vec<u64> {
        self.shared
            .rooms
            .by_name(&normalize_unique_id(unique_id))
            .map(|r| r.pushed_msg_ids())
            .unwrap_or_default()
    }

    /// Requests per route: `page` (`/@user/live`), `api-live/user/room`, `room/info`,
    /// `room/check_alive`, `gift/list`, `sign/fetch`, `sign/room_id`, `sign/sign_url`,
    /// `im/fetch`, `ttwid`, `ws` (upgrades), `_fake`, `other`; a request to an extra sign
    /// server's port is counted as `ROUTE@NAME`.
    pub fn route_stats(&self) -> BTreeMap<String, RouteStats> {
        self.shared.routes.snapshot()
    }

    /// One route's requests (empty when it had none).
    pub fn route(&self, route: &str) -> RouteStats {
        self.route_stats().remove(route).unwrap_or_default()
    }

    /// What the client log holds and dropped.
    pub fn log_stats(&self) -> LogStats {
        self.shared
            .log
            .lock()
            .map(|l| l.stats())
            .unwrap_or_default()
    }

    /// Connection tasks running now (HTTP connections and push sockets).
    pub fn open_connections(&self) -> usize {
        self.shared.task_count()
    }

    /// The base URL of a sign server (`primary` is [`base_url`](Self::base_url)).
    pub fn sign_url(&self, name: &str) -> Option<String> {
        self.shared
            .signer(name)
            .map(|(_, s)| format!("http://{}", s.addr()))
    }

    /// The names of the sign servers, `primary` first.
    pub fn sign_servers(&self) -> Vec<String> {
        self.shared.signers.iter().map(|s| s.name.clone()).collect()
    }

    /// Takes a sign server down or brings it back. Down, an extra sign server's port refuses
    /// connections; the primary's sign routes answer 503 (its port also serves the web routes).
    ///
    /// # Errors
    /// [`io::ErrorKind::NotFound`] for an unknown name; the bind error when the port cannot be
    /// bound again.
    pub fn set_sign_server_up(&self, name: &str, up: bool) -> io::Result<()> {
        let (i, s) = self
            .shared
            .signer(name)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, NotFound(name.to_owned())))?;
        if up {
            if !s.is_up() {
                s.up(i, &self.shared)?;
            }
        } else {
            s.down();
        }
        tracing::info!(signer = name, up, "fake server: sign server toggled");
        Ok(())
    }

    /// Sets how a sign server answers (see [`SignBehaviour`]).
    ///
    /// # Errors
    /// [`NotFound`] for an unknown name.
    pub fn set_sign_behaviour(&self, name: &str, behaviour: SignBehaviour) -> Result<(), NotFound> {
        let (_, s) = self
            .shared
            .signer(name)
            .ok_or_else(|| NotFound(name.to_owned()))?;
        s.set_behaviour(behaviour);
        Ok(())
    }

    /// The newest client records, in order (the log keeps the newest
    /// [`DEFAULT_LOG_RECORDS`] or as set; [`log_stats`](Self::log_stats) counts the rest).
    pub fn client_log(&self) -> Vec<ClientRecord> {
        self.shared
            .log
            .lock()
            .map(|l| l.snapshot())
            .unwrap_or_default()
    }

    /// The `Handshake-Msg` of a direct-mode upgrade refused for carrying no `ttwid` cookie
    /// (invented: TikTok's own text for this case is unknown).
    pub const MISSING_TTWID_MSG: &'static str = http::MISSING_TTWID_MSG;

    /// The `Handshake-Msg` of a blocked device ([`Fault::DeviceBlocked`], or a direct-mode
    /// upgrade without `User-Agent`); sent with `Handshake-Status: 415`.
    pub const DEVICE_BLOCKED_MSG: &'static str = http::DEVICE_BLOCKED_MSG;

    /// The `Handshake-Msg` of the `ws-fallback` socket ([`SignBehaviour::WsFallback`]).
    pub const WS_FALLBACK_MSG: &'static str = http::WS_FALLBACK_MSG;

    /// The `payload_type`s of the frames the client sent on WebSocket `conn`, in order (e.g.
    /// `["hb", "im_enter_room", "ack", "hb"]`): shows whether a direct client sent `hb` before
    /// `im_enter_room`.
    pub fn client_frames(&self, conn: u64) -> Vec<String> {
        self.client_log()
            .into_iter()
            .filter(|r| r.conn() == Some(conn))
            .filter_map(|r| match r {
                ClientRecord::EnterRoom { .. } => Some("im_enter_room".to_owned()),
                ClientRecord::Heartbeat { .. } => Some("hb".to_owned()),
                ClientRecord::Ack { .. } => Some("ack".to_owned()),
                ClientRecord::Frame { payload_type, .. } => Some(payload_type),
                _ => None,
            })
            .collect()
    }

    /// Every `ttwid` the server handed out (`GET /`, `GET /live`,
    /// `POST /ttwid/union/register/`), in order.
    pub fn issued_ttwids(&self) -> Vec<String> {
        self.client_log()
            .into_iter()
            .filter_map(|r| match r {
                ClientRecord::TtwidIssued { value, .. } => Some(value),
                _ => None,
            })
            .collect()
    }

    /// Forgets the client log.
    pub fn clear_client_log(&self) {
        if let Ok(mut l) = self.shared.log.lock() {
            l.clear();
        }
    }

    /// Waits until `pred(client_log)` holds, up to `timeout`; returns the log that matched.
    pub async fn wait_for<F>(
        &self,
        timeout: Duration,
        mut pred: F,
    ) -> Result<Vec<ClientRecord>, WaitTimeout>
    where
        F: FnMut(&[ClientRecord]) -> bool,
    {
        let mut rx = self.shared.log_version.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            rx.borrow_and_update();
            let log = self.client_log();
            if pred(&log) {
                return Ok(log);
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => {}
                _ => {
                    let log = self.client_log();
                    return if pred(&log) {
                        Ok(log)
                    } else {
                        Err(WaitTimeout(timeout))
                    };
                }
            }
        }
    }

    /// Arms a fault while running.
    pub fn inject(&self, fault: Fault, trigger: Trigger) {
        if let Ok(mut f) = self.shared.faults.lock() {
            f.add(fault, trigger);
        }
    }

    /// Disarms every fault.
    pub fn clear_faults(&self) {
        if let Ok(mut f) = self.shared.faults.lock() {
            f.clear();
        }
    }

    /// Stops accepting, and ends every open connection.
    pub async fn shutdown(mut self) {
        self.stop();
        tokio::task::yield_now().await;
    }

    fn stop(&mut self) {
        for a in self.background.drain(..) {
            a.abort();
        }
        for s in &self.shared.signers {
            s.set_accept(None);
        }
        let tasks: Vec<AbortHandle> = match self.shared.tasks.lock() {
            Ok(mut tasks) => tasks.drain().map(|(_, t)| t).collect(),
            Err(_) => Vec::new(),
        };
        for t in tasks {
            t.abort();
        }
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop();
    }
}
