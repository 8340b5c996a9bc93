//! The fake TikTok server: web routes, Euler-style sign routes and the push WebSocket on one
//! loopback port. See the [crate docs](crate#the-fake-tiktok-server).

mod faults;
pub(crate) mod http;
mod log;
mod ws;

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use prost::Message;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::AbortHandle;
use ttlive_proto::webcast as pb;
use ttlive_proto::{FrameLimits, decode_fetch_result, decode_msg_frame};

pub use faults::{Fault, Trigger};
pub use log::{ClientRecord, HttpRecord};

use crate::demo::demo_recording;
use crate::pace::Pace;
use crate::recording::{Recording, UnitKind};
use faults::FaultState;

/// Whether a configured user is live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UserState {
    /// Live (status 2 everywhere).
    Live,
    /// Has a room but is offline (status 4).
    Offline,
    /// Does not exist: no `LiveRoom` in the page, `user_not_found` from the API.
    Unknown,
}

/// A user the server knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UserEntry {
    pub(crate) unique_id: String,
    pub(crate) state: UserState,
    pub(crate) room_id: u64,
}

/// One push frame the server can send.
#[derive(Debug, Clone)]
pub(crate) struct FeedFrame {
    /// Offset in the recording (ms).
    pub(crate) t_ms: u64,
    /// The recorded log id (0: the server picks one).
    pub(crate) log_id: u64,
    /// The batch, when the frame decoded; `None` for frames sent verbatim.
    pub(crate) result: Option<pb::ProtoMessageFetchResult>,
    /// The recorded bytes (sent verbatim when `result` is `None`).
    pub(crate) raw: Bytes,
    /// True when the batch holds a stream end (control action 3 or 4).
    pub(crate) ends_stream: bool,
}

/// What the server plays: the sign-fetch history and the push frames.
#[derive(Debug, Clone, Default)]
pub(crate) struct Feed {
    pub(crate) initial: Vec<pb::BaseProtoMessage>,
    pub(crate) frames: Vec<FeedFrame>,
}

fn batch_ends_stream(result: &pb::ProtoMessageFetchResult) -> bool {
    result.messages.iter().any(|m| {
        m.method.ends_with("ControlMessage")
            && pb::WebcastControlMessage::decode(m.payload.as_ref())
                .is_ok_and(|c| c.action == 3 || c.action == 4)
    })
}

impl Feed {
    fn from_recording(rec: &Recording) -> Feed {
        let mut feed = Feed::default();
        let mut have_initial = false;
        let limits = FrameLimits::default();
        for unit in &rec.units {
            match unit.kind {
                UnitKind::SignFetch if !have_initial => {
                    if let Ok(r) = decode_fetch_result(&unit.data) {
                        feed.initial = r.messages;
                        have_initial = true;
                    }
                }
                UnitKind::PushFrame => {
                    let (log_id, result) = match decode_msg_frame(&unit.data, &limits) {
                        Ok(f) => (f.frame.log_id as u64, f.result),
                        Err(_) => (0, None),
                    };
                    feed.frames.push(FeedFrame {
                        t_ms: unit.t_ms,
                        log_id,
                        ends_stream: result.as_ref().is_some_and(batch_ends_stream),
                        result,
                        raw: unit.data.clone(),
                    });
                }
                _ => {}
            }
        }
        feed
    }
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

/// State shared by every connection.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Behind a lock so a test can start or end a stream while the server runs
    /// ([`FakeServer::set_user_state`]).
    users: std::sync::RwLock<Vec<UserEntry>>,
    pub(crate) feed: Feed,
    pub(crate) pace: Pace,
    pub(crate) history: bool,
    pub(crate) need_ack: bool,
    pub(crate) enter_room_timeout: Duration,
    pub(crate) port: u16,
    pub(crate) faults: Mutex<FaultState>,
    log: Mutex<Vec<ClientRecord>>,
    log_version: watch::Sender<u64>,
    pub(crate) next_conn: AtomicU64,
    pub(crate) next_request: AtomicU64,
    tasks: Mutex<Vec<AbortHandle>>,
}

impl Shared {
    pub(crate) fn record(&self, rec: ClientRecord) {
        tracing::debug!(?rec, "fake server: client record");
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

    pub(crate) fn track(&self, handle: AbortHandle) {
        if let Ok(mut tasks) = self.tasks.lock() {
            tasks.retain(|t| !t.is_finished());
            tasks.push(handle);
        }
    }

    fn users(&self) -> std::sync::RwLockReadGuard<'_, Vec<UserEntry>> {
        self.users.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn user(&self, unique_id: &str) -> Option<UserEntry> {
        let wanted = normalize_unique_id(unique_id);
        self.users()
            .iter()
            .find(|u| u.unique_id.eq_ignore_ascii_case(&wanted))
            .cloned()
    }

    pub(crate) fn user_by_room(&self, room_id: u64) -> Option<UserEntry> {
        self.users()
            .iter()
            .find(|u| u.room_id == room_id && u.state != UserState::Unknown)
            .cloned()
    }

    /// The room to serve when a request names none we know: the first live user's.
    pub(crate) fn default_room(&self) -> u64 {
        let users = self.users();
        users
            .iter()
            .find(|u| u.state == UserState::Live)
            .or_else(|| users.first())
            .map_or(0, |u| u.room_id)
    }

    pub(crate) fn push_url(&self) -> String {
        format!(
            "ws://127.0.0.1:{}/webcast/im/ws_proxy/ws_reuse_supplement/",
            self.port
        )
    }
}

/// protocol.md §1: strip the first `https://www.tiktok.com/`, `/live`, `@`, then trim.
fn normalize_unique_id(s: &str) -> String {
    let s = s.replacen("https://www.tiktok.com/", "", 1);
    let s = s.replacen("/live", "", 1);
    let s = s.replacen('@', "", 1);
    s.trim().to_owned()
}

/// Builds a [`FakeServer`]; see [`FakeServer::builder`].
#[derive(Debug, Clone)]
pub struct FakeServerBuilder {
    users: Vec<(String, UserState, Option<u64>)>,
    recording: Option<Recording>,
    script: Option<(Vec<pb::BaseProtoMessage>, Vec<ScriptFrame>)>,
    pace: Pace,
    history: bool,
    need_ack: bool,
    enter_room_timeout: Duration,
    faults: Vec<(Fault, Trigger)>,
    bind: SocketAddr,
}

impl Default for FakeServerBuilder {
    fn default() -> Self {
        FakeServerBuilder {
            users: Vec::new(),
            recording: None,
            script: None,
            pace: Pace::RealTime,
            history: true,
            need_ack: true,
            enter_room_timeout: Duration::from_secs(2),
            faults: Vec::new(),
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }
}

impl FakeServerBuilder {
    /// Adds a user. Without any, the server knows `fakeuser`, live. The first live user's room
    /// is the recording's room; others get invented room ids.
    pub fn user(mut self, unique_id: impl Into<String>, state: UserState) -> Self {
        self.users.push((unique_id.into(), state, None));
        self
    }

    /// Adds a user with an explicit room id.
    pub fn user_with_room(
        mut self,
        unique_id: impl Into<String>,
        state: UserState,
        room_id: u64,
    ) -> Self {
        self.users.push((unique_id.into(), state, Some(room_id)));
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

    /// Sets the pace of the push (default [`Pace::RealTime`]).
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

    /// Binds the port and starts serving in the background (needs a tokio runtime).
    pub async fn start(self) -> io::Result<FakeServer> {
        let listener = TcpListener::bind(self.bind).await?;
        let addr = listener.local_addr()?;
        let (feed, feed_room) = match (&self.script, &self.recording) {
            (Some((history, frames)), _) => {
                let mut log_id = 7_460_000_000_001_000_000_u64;
                let frames = frames
                    .iter()
                    .map(|f| {
                        log_id += 1;
                        let result = pb::ProtoMessageFetchResult {
                            messages: f.messages.clone(),
                            need_ack: true,
                            ..Default::default()
                        };
                        FeedFrame {
                            t_ms: f.t_ms,
                            log_id,
                            ends_stream: batch_ends_stream(&result),
                            result: Some(result),
                            raw: Bytes::new(),
                        }
                    })
                    .collect();
                (
                    Feed {
                        initial: history.clone(),
                        frames,
                    },
                    None,
                )
            }
            (None, Some(rec)) => (Feed::from_recording(rec), Some(rec.header.room_id)),
            (None, None) => {
                let rec = demo_recording();
                (Feed::from_recording(&rec), Some(rec.header.room_id))
            }
        };
        let mut users_in = self.users.clone();
        if users_in.is_empty() {
            users_in.push(("fakeuser".to_owned(), UserState::Live, None));
        }
        let mut users = Vec::new();
        let mut feed_room_used = false;
        let mut invented = crate::demo::DEMO_ROOM_ID + 1_000;
        for (name, state, room) in users_in {
            let room_id = match room {
                Some(r) => r,
                None if state == UserState::Live && !feed_room_used && feed_room.is_some() => {
                    feed_room_used = true;
                    feed_room.unwrap_or_default()
                }
                None if state == UserState::Unknown => 0,
                None => {
                    invented += 1;
                    invented
                }
            };
            users.push(UserEntry {
                unique_id: normalize_unique_id(&name),
                state,
                room_id,
            });
        }
        let mut fault_state = FaultState::default();
        for (f, t) in self.faults {
            fault_state.add(f, t);
        }
        let (log_version, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            users: std::sync::RwLock::new(users),
            feed,
            pace: self.pace,
            history: self.history,
            need_ack: self.need_ack,
            enter_room_timeout: self.enter_room_timeout,
            port: addr.port(),
            faults: Mutex::new(fault_state),
            log: Mutex::new(Vec::new()),
            log_version,
            next_conn: AtomicU64::new(0),
            next_request: AtomicU64::new(0),
            tasks: Mutex::new(Vec::new()),
        });
        let accept = tokio::spawn(http::accept_loop(listener, shared.clone()));
        tracing::info!(%addr, "fake TikTok server listening");
        Ok(FakeServer {
            addr,
            shared,
            accept: Some(accept.abort_handle()),
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
    accept: Option<AbortHandle>,
}

/// [`FakeServer::wait_for`] gave up.
#[derive(Debug, Clone, thiserror::Error)]
#[error("timed out after {0:?} waiting for the client log to match")]
pub struct WaitTimeout(pub Duration);

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

    /// The room id of a configured user (0 for unknown users or names not configured).
    pub fn room_id(&self, unique_id: &str) -> u64 {
        self.shared.user(unique_id).map_or(0, |u| u.room_id)
    }

    /// Changes a configured user's state while the server runs: a stream starts (`Live`) or
    /// ends (`Offline`) for the web routes and `room/check_alive` from now on. Open sockets are
    /// left as they are (a feed's own stream end closes them). False for a name not configured.
    pub fn set_user_state(&self, unique_id: &str, state: UserState) -> bool {
        let wanted = normalize_unique_id(unique_id);
        let mut users = self.shared.users.write().unwrap_or_else(|e| e.into_inner());
        match users
            .iter_mut()
            .find(|u| u.unique_id.eq_ignore_ascii_case(&wanted))
        {
            Some(u) => {
                u.state = state;
                true
            }
            None => false,
        }
    }

    /// Everything clients did so far, in order.
    pub fn client_log(&self) -> Vec<ClientRecord> {
        self.shared
            .log
            .lock()
            .map(|l| l.clone())
            .unwrap_or_default()
    }

    /// The `Handshake-Msg` of a direct-mode upgrade refused for carrying no `ttwid` cookie
    /// (invented: TikTok's own text for this case is unknown).
    pub const MISSING_TTWID_MSG: &'static str = http::MISSING_TTWID_MSG;

    /// The `Handshake-Msg` of a blocked device ([`Fault::DeviceBlocked`], or a direct-mode
    /// upgrade without `User-Agent`); sent with `Handshake-Status: 415`.
    pub const DEVICE_BLOCKED_MSG: &'static str = http::DEVICE_BLOCKED_MSG;

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
        if let Some(a) = self.accept.take() {
            a.abort();
        }
        if let Ok(mut tasks) = self.shared.tasks.lock() {
            for t in tasks.drain(..) {
                t.abort();
            }
        }
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop();
    }
}
