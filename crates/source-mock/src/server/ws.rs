//! The push WebSocket: `im_enter_room`, heartbeats and acks in; `msg` frames out, until the
//! client leaves, a fault ends it, the room's stream ends, or the client misbehaves (idle, a
//! ping flood, never reading).

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use prost::Message as _;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::{Instant, sleep_until};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use ttlive_proto::webcast as pb;

use super::Shared;
use super::faults::{Fault, Stage};
use super::feed::{RecordedFeed, Rewrite};
use super::http::{Cursor, internal_ext, make_cursor};
use super::log::{ClientRecord, MAX_ACK_PAYLOAD, PINGS_LOGGED_PER_CONN};
use super::rooms::{Feed, Room, StreamPhase};
use super::stats::{Unit, Via};
use super::traffic::{self, StreamKey};

/// Largest client message accepted (clients only send tiny frames).
const MAX_CLIENT_MESSAGE: usize = 1024 * 1024;
/// The socket's read buffer (it grows for a large client message, up to the cap above).
const READ_BUFFER: usize = 4096;
/// Bytes the socket may queue for a client before a send waits for it to read.
const MAX_WRITE_BUFFER: usize = 4 * 1024 * 1024;
/// Shortest gap between two generated frames: a room's messages go out in batches of this much
/// time at most.
const GENERATED_TICK: Duration = Duration::from_millis(200);
/// Most generated messages in one frame (a client resuming far back gets them in several).
const MAX_BATCH: u64 = 500;
/// How far back a cursor may resume a generated stream (older messages are gone, as on TikTok).
const MAX_BACKLOG: Duration = Duration::from_secs(60);

/// What the upgrade request asked for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SocketParams {
    pub(crate) gzip: bool,
    pub(crate) cursor: Option<Cursor>,
    pub(crate) direct: bool,
    /// The stream the URL's `room_id` named (`None`: no room id, the room's current stream).
    pub(crate) stream: Option<u32>,
}

fn push_frame(
    log_id: u64,
    payload_type: &str,
    headers: Vec<pb::PushHeader>,
    payload: Vec<u8>,
) -> Vec<u8> {
    pb::WebcastPushFrame {
        log_id: log_id as i64,
        headers,
        payload_encoding: "pb".to_owned(),
        payload_type: payload_type.to_owned(),
        payload: Bytes::from(payload),
        ..Default::default()
    }
    .encode_to_vec()
}

/// Gzips `data` (one gzip member, fast level) with one deflate state per worker thread, reset
/// for each frame: a fresh encoder per frame costs a few hundred KiB of allocations that the
/// allocator keeps around (1,000 gzip sockets: +80 MiB RSS).
fn gzip(data: &[u8]) -> Vec<u8> {
    use std::cell::RefCell;
    use std::io::Write as _;
    thread_local! {
        static DEFLATE: RefCell<Option<flate2::write::DeflateEncoder<Vec<u8>>>> =
            const { RefCell::new(None) };
    }
    let deflated = DEFLATE.with(|cell| {
        let mut cell = cell.borrow_mut();
        let enc = cell.get_or_insert_with(|| {
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast())
        });
        // Writing into a Vec cannot fail; `reset` finishes the stream and hands it back.
        let _ = enc.write_all(data);
        enc.reset(Vec::new()).unwrap_or_default()
    });
    let mut crc = flate2::Crc::new();
    crc.update(data);
    // RFC 1952: magic, deflate, no flags, no mtime, no extra flags, unknown OS.
    let mut out = Vec::with_capacity(deflated.len() + 18);
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    out.extend_from_slice(&deflated);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

/// A `msg` frame whose gzip payload inflates to `n` zero bytes (cached per size).
fn oversized_gzip_frame(n: usize) -> Vec<u8> {
    type Cache = std::sync::Mutex<Vec<(usize, Vec<u8>)>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Ok(c) = cache.lock()
        && let Some((_, f)) = c.iter().find(|(k, _)| *k == n)
    {
        return f.clone();
    }
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let zeros = vec![0u8; 64 * 1024];
    let mut left = n;
    while left > 0 {
        let k = left.min(zeros.len());
        if std::io::Write::write_all(&mut enc, &zeros[..k]).is_err() {
            break;
        }
        left -= k;
    }
    let gz = enc.finish().unwrap_or_default();
    let frame = push_frame(
        1,
        "msg",
        vec![pb::PushHeader {
            key: "compress_type".to_owned(),
            value: "gzip".to_owned(),
        }],
        gz,
    );
    if let Ok(mut c) = cache.lock() {
        c.push((n, frame.clone()));
    }
    frame
}

/// A server `close` push frame with the header `close_reason` (direct-connect.md §1.7).
fn close_push_frame(reason: &str) -> Vec<u8> {
    push_frame(
        0,
        "close",
        vec![pb::PushHeader {
            key: "close_reason".to_owned(),
            value: reason.to_owned(),
        }],
        Vec::new(),
    )
}

/// A stream-end control message (action 3 or 4) with this id.
fn end_message(msg_id: u64, room_id: u64, action: i32) -> pb::BaseProtoMessage {
    let control = pb::WebcastControlMessage {
        common: Some(pb::CommonMessageData {
            method: "WebcastControlMessage".to_owned(),
            msg_id: msg_id as i64,
            room_id: room_id as i64,
            create_time: super::rooms::wall_ms(),
            ..Default::default()
        }),
        action,
        tips: "The LIVE has ended".to_owned(),
        ..Default::default()
    };
    pb::BaseProtoMessage {
        method: "WebcastControlMessage".to_owned(),
        payload: Bytes::from(control.encode_to_vec()),
        msg_id: msg_id as i64,
        ..Default::default()
    }
}

/// What the socket plays.
enum Play {
    Recorded {
        feed: Arc<RecordedFeed>,
        rewrite: Option<Rewrite>,
        next: usize,
        base_t: u64,
    },
    Generated {
        rate: f64,
        key: StreamKey,
        next: u64,
        last_frame: Option<Instant>,
    },
}

/// A batch ready to go out, and what it covered.
struct Batch {
    result: pb::ProtoMessageFetchResult,
    log_id: u64,
    unit: Unit,
    from: u64,
    to: u64,
    /// The recorded frame, sent verbatim (it did not decode).
    raw: Option<Bytes>,
    ends_stream: bool,
}

impl Batch {
    /// Generated messages `seqs` of a stream.
    fn generated(key: &StreamKey, rate: f64, seqs: std::ops::Range<u64>, log_id: u64) -> Batch {
        Batch {
            result: pb::ProtoMessageFetchResult {
                messages: seqs
                    .clone()
                    .map(|s| traffic::message(key, s, rate))
                    .collect(),
                ..Default::default()
            },
            log_id,
            unit: Unit::Seq,
            from: seqs.start,
            to: seqs.end,
            raw: None,
            ends_stream: false,
        }
    }
}

/// Why the server ended a socket (in [`ClientRecord::WsClosed`]).
mod reason {
    pub(super) const CLIENT: &str = "client closed";
    pub(super) const STREAM_END: &str = "stream ended";
    pub(super) const IDLE: &str = "idle timeout";
    pub(super) const PING_FLOOD: &str = "ping flood";
    pub(super) const SLOW_READER: &str = "client does not read";
    pub(super) const DROPPED: &str = "dropped by the server";
    pub(super) const FAULT: &str = "fault";
}

struct Conn<'a, S> {
    shared: &'a Shared,
    room: &'a Room,
    sink: SplitSink<WebSocketStream<S>, Message>,
    conn: u64,
    gzip: bool,
    stream: u32,
    frames_sent: usize,
    next_log_id: u64,
    pings: u64,
    ping_window: (Instant, u32),
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<'_, S> {
    /// Sends one message; an error when the client is gone or does not take it in time.
    async fn send(&mut self, msg: Message) -> Result<(), &'static str> {
        match tokio::time::timeout(self.shared.limits.write_timeout, self.sink.send(msg)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(reason::CLIENT),
            Err(_) => Err(reason::SLOW_READER),
        }
    }

    async fn close(&mut self, code: CloseCode, why: &str) {
        let frame = CloseFrame {
            code,
            reason: why.to_owned().into(),
        };
        let _ = self.send(Message::Close(Some(frame))).await;
    }

    fn log_id(&mut self) -> u64 {
        self.next_log_id += 1;
        self.next_log_id
    }

    /// Encodes `batch` for this client: the server's cursor, an internal_ext, `need_ack`,
    /// gzip or raw as asked.
    fn encode(&self, batch: &mut Batch, payload_type: &str) -> Vec<u8> {
        if let Some(raw) = &batch.raw {
            return raw.to_vec();
        }
        let cursor = make_cursor(self.stream, batch.to);
        if batch.result.internal_ext.is_empty() {
            batch.result.internal_ext = internal_ext(batch.to, &cursor);
        }
        batch.result.cursor = cursor;
        if self.shared.need_ack {
            batch.result.need_ack = true;
        }
        let raw = batch.result.encode_to_vec();
        if self.gzip {
            let header = pb::PushHeader {
                key: "compress_type".to_owned(),
                value: "gzip".to_owned(),
            };
            push_frame(batch.log_id, payload_type, vec![header], gzip(&raw))
        } else {
            push_frame(batch.log_id, payload_type, Vec::new(), raw)
        }
    }

    fn note(&self, batch: &Batch) {
        self.room.note_pushed(
            self.stream,
            Via::Socket,
            batch.unit,
            batch.from,
            batch.to,
            batch.result.messages.len() as u64,
        );
    }

    /// Handles one client message; returns the reply to send, if any, or why to end.
    fn on_client(
        &mut self,
        msg: Message,
        entered: &mut bool,
    ) -> Result<Option<Vec<u8>>, &'static str> {
        let conn = self.conn;
        match msg {
            Message::Binary(bytes) => match ttlive_proto::decode_push_frame(&bytes) {
                Ok(frame) => match frame.payload_type.as_str() {
                    "im_enter_room" => {
                        let m = pb::WebcastImEnterRoomMessage::decode(frame.payload.as_ref())
                            .unwrap_or_default();
                        self.shared.record(ClientRecord::EnterRoom {
                            conn,
                            room_id: m.room_id as u64,
                            enter_unique_id: m.enter_unique_id as u64,
                        });
                        *entered = true;
                        return Ok(Some(push_frame(
                            0,
                            "im_enter_room_resp",
                            Vec::new(),
                            Vec::new(),
                        )));
                    }
                    "hb" => {
                        let m = pb::HeartBeatMessage::decode(frame.payload.as_ref())
                            .unwrap_or_default();
                        self.shared.record(ClientRecord::Heartbeat {
                            conn,
                            room_id: m.room_id as u64,
                            seq: m.send_packet_seq_id as u64,
                        });
                    }
                    "ack" => self.shared.record(ClientRecord::Ack {
                        conn,
                        log_id: frame.log_id as u64,
                        len: frame.payload.len(),
                        payload: frame.payload[..frame.payload.len().min(MAX_ACK_PAYLOAD)].to_vec(),
                    }),
                    other => self.shared.record(ClientRecord::Frame {
                        conn,
                        payload_type: super::log::cap(other, 64).0,
                        len: bytes.len(),
                    }),
                },
                Err(_) => self.shared.record(ClientRecord::Garbage {
                    conn,
                    len: bytes.len(),
                }),
            },
            Message::Text(t) => self
                .shared
                .record(ClientRecord::Garbage { conn, len: t.len() }),
            Message::Ping(_) => {
                // tungstenite answers with a pong itself and keeps at most one pending.
                self.pings += 1;
                if self.pings <= PINGS_LOGGED_PER_CONN {
                    self.shared.record(ClientRecord::Ping { conn });
                }
                let now = Instant::now();
                if now.duration_since(self.ping_window.0) >= Duration::from_secs(1) {
                    self.ping_window = (now, 0);
                }
                self.ping_window.1 = self.ping_window.1.saturating_add(1);
                if self.ping_window.1 > self.shared.limits.max_pings_per_sec {
                    return Err(reason::PING_FLOOD);
                }
            }
            _ => {}
        }
        Ok(None)
    }
}

impl Play {
    fn new(room: &Room, phase: &StreamPhase, params: &SocketParams) -> Option<Play> {
        let resumed = params.cursor.and_then(|c| c.within(phase.stream));
        match room.feed.as_ref()? {
            Feed::Recorded(feed) => {
                let next = usize::try_from(resumed.unwrap_or(0))
                    .unwrap_or(usize::MAX)
                    .min(feed.frames.len());
                Some(Play::Recorded {
                    feed: feed.clone(),
                    rewrite: room.rewrite(phase.stream, phase.room_id),
                    next,
                    base_t: feed.frames.get(next).map_or(0, |f| f.t_ms),
                })
            }
            Feed::Generated { rate } => {
                let now = room.seq_now(phase, *rate);
                let backlog = (MAX_BACKLOG.as_secs_f64() * rate) as u64;
                let next = resumed.map_or(now, |c| c.clamp(now.saturating_sub(backlog), now));
                Some(Play::Generated {
                    rate: *rate,
                    key: room.stream_key(phase),
                    next,
                    last_frame: None,
                })
            }
        }
    }

    /// When the next batch may go, given when the push started.
    fn due(&self, shared: &Shared, push_start: Instant, phase: &StreamPhase) -> Option<Instant> {
        match self {
            Play::Recorded {
                feed, next, base_t, ..
            } => feed.frames.get(*next).map(|f| {
                match shared.pace.scale(f.t_ms.saturating_sub(*base_t)) {
                    Some(d) => push_start + d,
                    None => push_start,
                }
            }),
            Play::Generated {
                rate,
                next,
                last_frame,
                ..
            } => {
                // No rate (or a time past any clock): nothing more comes.
                let at =
                    Instant::from_std(phase.started).checked_add(traffic::offset(*next, *rate))?;
                let at = last_frame.map_or(at, |l| at.max(l + GENERATED_TICK));
                // A stream that ended has nothing after its last message.
                match phase.ended {
                    Some(end) if at.into_std() >= end && !phase.live => None,
                    _ => Some(at),
                }
            }
        }
    }

    /// The next batch (recorded: the next frame; generated: every message that happened),
    /// if there is one.
    fn take(
        &mut self,
        conn_log_id: &mut dyn FnMut() -> u64,
        room: &Room,
        phase: &StreamPhase,
    ) -> Option<Batch> {
        match self {
            Play::Recorded {
                feed,
                rewrite,
                next,
                ..
            } => {
                let i = *next;
                let frame = feed.frames.get(i)?;
                *next += 1;
                let log_id = if frame.log_id != 0 {
                    frame.log_id
                } else {
                    conn_log_id()
                };
                let (result, raw) = match &frame.result {
                    Some(r) => {
                        let mut r = r.clone();
                        if let Some(rw) = rewrite {
                            r.messages = rw.messages(feed, &r.messages);
                        }
                        (r, None)
                    }
                    None => (
                        pb::ProtoMessageFetchResult::default(),
                        Some(frame.raw.clone()),
                    ),
                };
                Some(Batch {
                    result,
                    log_id,
                    unit: Unit::Frames,
                    from: i as u64,
                    to: i as u64 + 1,
                    raw,
                    ends_stream: frame.ends_stream,
                })
            }
            Play::Generated {
                rate,
                key,
                next,
                last_frame,
            } => {
                let upto = room.seq_now(phase, *rate).min(*next + MAX_BATCH);
                if upto <= *next {
                    // Nothing happened yet (woken early): wait for the next message.
                    *last_frame = None;
                    return None;
                }
                let from = *next;
                *next = upto;
                // Behind (a resumed cursor, or a rate past MAX_BATCH a tick): send on at once.
                let behind = upto < room.seq_now(phase, *rate);
                *last_frame = (!behind).then(Instant::now);
                Some(Batch::generated(key, *rate, from..upto, conn_log_id()))
            }
        }
    }

    /// The batch that ends the stream: for generated rooms, the messages still due before the
    /// end, then the control message; for recorded ones the control message alone.
    fn end_batch(
        &mut self,
        conn_log_id: &mut dyn FnMut() -> u64,
        room: &Room,
        phase: &StreamPhase,
    ) -> Batch {
        let action = phase.end_action;
        match self {
            Play::Recorded { feed, rewrite, .. } => {
                let id = feed.end_msg_id(rewrite.as_ref());
                Batch {
                    result: pb::ProtoMessageFetchResult {
                        messages: vec![end_message(id, phase.room_id, action)],
                        ..Default::default()
                    },
                    log_id: conn_log_id(),
                    unit: Unit::End,
                    from: 0,
                    to: 1,
                    raw: None,
                    ends_stream: true,
                }
            }
            Play::Generated {
                rate, key, next, ..
            } => {
                let end = room.seq_now(phase, *rate);
                let from = (*next).min(end).max(end.saturating_sub(MAX_BATCH));
                let mut messages: Vec<_> = (from..end)
                    .map(|s| traffic::message(key, s, *rate))
                    .collect();
                messages.push(traffic::stream_end(key, end, *rate, action));
                *next = end + 1;
                Batch {
                    result: pb::ProtoMessageFetchResult {
                        messages,
                        ..Default::default()
                    },
                    log_id: conn_log_id(),
                    unit: Unit::Seq,
                    from,
                    to: end + 1,
                    raw: None,
                    ends_stream: true,
                }
            }
        }
    }

    /// A history batch for the `im_enter_room_resp` (generated: the messages just before the
    /// push position; recorded: the next frame).
    fn enter_batch(
        &mut self,
        shared: &Shared,
        conn_log_id: &mut dyn FnMut() -> u64,
        room: &Room,
        phase: &StreamPhase,
    ) -> Option<Batch> {
        match self {
            Play::Generated {
                rate, key, next, ..
            } => {
                let from = next.saturating_sub(shared.generated_history);
                (from < *next).then(|| Batch::generated(key, *rate, from..*next, conn_log_id()))
            }
            Play::Recorded { .. } => self
                .take(conn_log_id, room, phase)
                .filter(|b| b.raw.is_none()),
        }
    }
}

/// Keeps the room's open-socket count right however the task ends.
struct OpenSocket<'a>(&'a Room);

impl Drop for OpenSocket<'_> {
    fn drop(&mut self) {
        self.0.socket_closed();
    }
}

/// Serves one accepted WebSocket.
pub(crate) async fn serve<S>(shared: Arc<Shared>, io: S, room: Arc<Room>, params: SocketParams)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let conn_id = shared.next_conn.fetch_add(1, Ordering::Relaxed) + 1;
    // Small buffers: clients send tiny frames, and each frame out is written at once; the
    // 128 KiB defaults cost 1,000 sockets a quarter of a gigabyte.
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_message_size(Some(MAX_CLIENT_MESSAGE))
        .max_frame_size(Some(MAX_CLIENT_MESSAGE))
        .max_write_buffer_size(MAX_WRITE_BUFFER);
    let ws = WebSocketStream::from_raw_socket(io, Role::Server, Some(config)).await;
    let (sink, mut stream) = ws.split();
    room.socket_opened();
    let open = OpenSocket(&room);
    let mut phase_rx = room.watch();
    let mut drop_rx = shared.drop_all.subscribe();
    let phase = *phase_rx.borrow_and_update();
    drop_rx.borrow_and_update();
    // The stream this socket is on: the one its URL named, else the current one.
    let my_stream = params.stream.unwrap_or(phase.stream);
    let on_live_stream = phase.live && phase.stream == my_stream;
    let mut play = Play::new(&room, &phase, &params);
    let start_unit = match &play {
        Some(Play::Recorded { next, .. }) => *next as u64,
        Some(Play::Generated { next, .. }) => *next,
        None => 0,
    };
    shared.record(ClientRecord::WsOpen {
        conn: conn_id,
        start_frame: usize::try_from(start_unit).unwrap_or(usize::MAX),
        gzip: params.gzip,
        direct: params.direct,
    });
    let faults = shared.fire(Stage::Socket);
    let stall = faults.contains(&Fault::Stall);
    let drop_after = faults.iter().find_map(|f| match f {
        Fault::DropAfterFrames(n) => Some(*n),
        _ => None,
    });
    let close_after = faults.iter().find_map(|f| match f {
        Fault::CloseAfterFrames(n) => Some(*n),
        _ => None,
    });
    let ping_flood = faults.iter().find_map(|f| match f {
        Fault::PingFlood { pings } => Some(*pings),
        _ => None,
    });
    let mut pre: Vec<Fault> = faults
        .into_iter()
        .filter(|f| {
            matches!(
                f,
                Fault::MalformedFrame
                    | Fault::OversizedGzip { .. }
                    | Fault::StreamEnd
                    | Fault::CloseFrame { .. }
            )
        })
        .collect();
    // Garbage first, then the oversized frame, then the stream end, then a close frame.
    pre.sort_by_key(|f| match f {
        Fault::MalformedFrame => 0,
        Fault::OversizedGzip { .. } => 1,
        Fault::StreamEnd => 2,
        _ => 3,
    });
    tracing::debug!(
        conn = conn_id,
        user = %room.unique_id,
        gzip = params.gzip,
        start_unit,
        stall,
        "fake server: websocket open"
    );

    let mut c = Conn {
        shared: &shared,
        room: &room,
        sink,
        conn: conn_id,
        gzip: params.gzip,
        stream: my_stream,
        frames_sent: 0,
        next_log_id: 7_460_000_000_002_000_000 + conn_id * 100_000,
        pings: 0,
        ping_window: (Instant::now(), 0),
    };
    let mut entered = false;
    let opened = Instant::now();
    let mut last_client = opened;
    let mut push_start: Option<Instant> = None;
    // A socket on a stream that is over gets its end at once.
    let mut ending = !on_live_stream;
    let mut closing = false;
    let mut why = reason::CLIENT;

    loop {
        if drop_after.is_some_and(|n| c.frames_sent >= n) && !stall {
            tracing::debug!(
                conn = conn_id,
                "fake server: fault: dropping the connection"
            );
            why = reason::FAULT;
            break;
        }
        if close_after.is_some_and(|n| c.frames_sent >= n) && !stall {
            tracing::debug!(conn = conn_id, "fake server: fault: clean early close");
            c.close(CloseCode::Normal, "bye").await;
            why = reason::FAULT;
            closing = true;
        }
        let phase = *phase_rx.borrow();
        if phase.stream != my_stream || !phase.live {
            ending = true;
        }
        // When may the push (or the next frame) go?
        let due: Option<Instant> = if stall || closing {
            None
        } else if let Some(ps) = push_start {
            if ending {
                Some(Instant::now())
            } else {
                play.as_ref().and_then(|p| p.due(&shared, ps, &phase))
            }
        } else if entered || ending {
            Some(Instant::now())
        } else {
            Some(opened + shared.enter_room_timeout)
        };
        let timer = async {
            match due {
                Some(at) => sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let idle_at = last_client + shared.limits.ws_idle;
        if !closing {
            tokio::select! {
                biased;
                _ = drop_rx.changed() => {
                    tracing::debug!(conn = conn_id, "fake server: dropping every socket");
                    why = reason::DROPPED;
                    break;
                }
                msg = stream.next() => match msg {
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(m)) => {
                        last_client = Instant::now();
                        let was_entered = entered;
                        match c.on_client(m, &mut entered) {
                            Err(w) => {
                                why = w;
                                c.close(CloseCode::Policy, w).await;
                                break;
                            }
                            Ok(Some(mut reply)) if !stall => {
                                if !was_entered && entered && shared.enter_room_resp_messages && !ending
                                    && let Some(p) = play.as_mut()
                                {
                                    let phase = *phase_rx.borrow();
                                    let mut next_id = || { c.next_log_id += 1; c.next_log_id };
                                    if let Some(mut b) = p.enter_batch(&shared, &mut next_id, &room, &phase) {
                                        reply = c.encode(&mut b, "im_enter_room_resp");
                                        c.note(&b);
                                    }
                                }
                                if let Err(w) = c.send(Message::Binary(reply.into())).await {
                                    why = w;
                                    break;
                                }
                            }
                            Ok(_) => {}
                        }
                    }
                },
                _ = phase_rx.changed() => {}
                () = sleep_until(idle_at) => {
                    tracing::debug!(conn = conn_id, "fake server: idle client, closing");
                    why = reason::IDLE;
                    c.close(CloseCode::Away, "idle").await;
                    break;
                }
                () = timer => {
                    if push_start.is_none() {
                        push_start = Some(Instant::now());
                        if let Some(n) = ping_flood {
                            tracing::debug!(conn = conn_id, n, "fake server: fault: ping flood");
                            for i in 0..n {
                                let payload = Bytes::copy_from_slice(&(i as u64).to_be_bytes());
                                if let Err(w) = c.send(Message::Ping(payload)).await {
                                    why = w;
                                    closing = true;
                                    break;
                                }
                            }
                        }
                        for f in pre.drain(..) {
                            let close_reason = match &f {
                                Fault::CloseFrame { reason } => Some(reason.clone()),
                                _ => None,
                            };
                            let bytes = match f {
                                Fault::MalformedFrame => b"\xff\xfe garbage, not a push frame \x00\x01".to_vec(),
                                Fault::OversizedGzip { inflated_bytes } => oversized_gzip_frame(inflated_bytes),
                                Fault::CloseFrame { ref reason } => close_push_frame(reason),
                                _ => {
                                    let id = c.log_id();
                                    let mut b = Batch {
                                        result: pb::ProtoMessageFetchResult {
                                            messages: vec![end_message(7_460_000_000_009_999_999, phase.room_id, 3)],
                                            ..Default::default()
                                        },
                                        log_id: id,
                                        unit: Unit::End,
                                        from: 0,
                                        to: 0,
                                        raw: None,
                                        ends_stream: true,
                                    };
                                    c.encode(&mut b, "msg")
                                }
                            };
                            why = reason::FAULT;
                            if let Some(reason) = close_reason {
                                tracing::debug!(conn = conn_id, %reason, "fake server: fault: close push frame");
                                closing = true;
                                if c.send(Message::Binary(bytes.into())).await.is_ok() {
                                    c.close(CloseCode::Normal, "close").await;
                                }
                                break;
                            }
                            let end = f == Fault::StreamEnd;
                            if c.send(Message::Binary(bytes.into())).await.is_err() {
                                closing = true;
                                break;
                            }
                            if end {
                                closing = true;
                                c.close(CloseCode::Normal, "stream ended").await;
                                break;
                            }
                        }
                        if !closing {
                            why = reason::CLIENT;
                        }
                    } else if ending {
                        if let Some(p) = play.as_mut() {
                            let phase = *phase_rx.borrow();
                            let mut next_id = || { c.next_log_id += 1; c.next_log_id };
                            let mut b = p.end_batch(&mut next_id, &room, &phase);
                            let bytes = c.encode(&mut b, "msg");
                            if c.send(Message::Binary(bytes.into())).await.is_ok() {
                                c.note(&b);
                                c.frames_sent += 1;
                            }
                        }
                        c.close(CloseCode::Normal, "stream ended").await;
                        why = reason::STREAM_END;
                        closing = true;
                    } else if let Some(p) = play.as_mut() {
                        let mut next_id = || { c.next_log_id += 1; c.next_log_id };
                        if let Some(mut b) = p.take(&mut next_id, &room, &phase) {
                            let bytes = c.encode(&mut b, "msg");
                            if let Err(w) = c.send(Message::Binary(bytes.into())).await {
                                why = w;
                                break;
                            }
                            c.note(&b);
                            c.frames_sent += 1;
                            if b.ends_stream {
                                // With `recorded_end_ends_stream`, the recording's stream end
                                // ends the room's stream, as on TikTok: the user is offline
                                // until it goes live again (with a new room id).
                                if shared.recorded_end_ends_stream
                                    && phase_rx.borrow().stream == my_stream
                                {
                                    shared.rooms.end(&room, 3);
                                }
                                closing = true;
                                why = reason::STREAM_END;
                                c.close(CloseCode::Normal, "stream ended").await;
                            }
                        }
                    }
                }
            }
        }
        if closing {
            // Give the client a moment to ack and close, then hang up.
            let deadline = Instant::now() + Duration::from_secs(2);
            while let Ok(Some(Ok(m))) = tokio::time::timeout_at(deadline, stream.next()).await {
                if matches!(m, Message::Close(_)) {
                    break;
                }
                if c.on_client(m, &mut entered).is_err() {
                    break;
                }
            }
            break;
        }
    }
    // The room counts the socket closed before the log says so.
    drop(open);
    shared.record(ClientRecord::WsClosed {
        conn: conn_id,
        frames_sent: c.frames_sent,
        pings: c.pings,
        reason: why.to_owned(),
    });
    tracing::debug!(
        conn = conn_id,
        frames = c.frames_sent,
        why,
        "fake server: websocket closed"
    );
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    #[test]
    fn gzip_members_inflate_to_the_input_every_time() {
        for data in [&b""[..], b"hello", &[7u8; 100_000][..], b"again"] {
            let gz = super::gzip(data);
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(gz.as_slice())
                .read_to_end(&mut out)
                .unwrap();
            assert_eq!(out, data);
        }
    }
}
