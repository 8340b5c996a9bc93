//! The push WebSocket: `im_enter_room`, heartbeats and acks in; `msg` frames out.

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use prost::Message as _;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::{Instant, sleep_until};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use ttlive_proto::webcast as pb;

use super::faults::{Fault, Stage};
use super::http::{internal_ext, make_cursor};
use super::log::ClientRecord;
use super::{FeedFrame, Shared};

/// Largest client message accepted (clients only send tiny frames).
const MAX_CLIENT_MESSAGE: usize = 1024 * 1024;

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

fn stream_end_batch() -> pb::ProtoMessageFetchResult {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let control = pb::WebcastControlMessage {
        common: Some(pb::CommonMessageData {
            method: "WebcastControlMessage".to_owned(),
            msg_id: 7_460_000_000_009_999_999,
            create_time: now,
            ..Default::default()
        }),
        action: 3,
        tips: "The LIVE has ended".to_owned(),
        ..Default::default()
    };
    pb::ProtoMessageFetchResult {
        messages: vec![pb::BaseProtoMessage {
            method: "WebcastControlMessage".to_owned(),
            payload: Bytes::from(control.encode_to_vec()),
            msg_id: 7_460_000_000_009_999_999,
            ..Default::default()
        }],
        ..Default::default()
    }
}

struct Conn<'a> {
    shared: &'a Shared,
    conn: u64,
    gzip: bool,
    frames_sent: usize,
    next_log_id: u64,
}

impl Conn<'_> {
    /// Encodes frame `index` for this client: the server's cursor, the recorded (or a fresh)
    /// internal_ext, `need_ack`, gzip or raw as asked.
    fn encode(&mut self, index: usize, frame: &FeedFrame) -> Vec<u8> {
        let Some(result) = &frame.result else {
            return frame.raw.to_vec();
        };
        let mut result = result.clone();
        let cursor = make_cursor(index + 1);
        if result.internal_ext.is_empty() {
            result.internal_ext = internal_ext(index + 1, &cursor);
        }
        result.cursor = cursor;
        if self.shared.need_ack {
            result.need_ack = true;
        }
        let log_id = if frame.log_id != 0 {
            frame.log_id
        } else {
            self.next_log_id += 1;
            self.next_log_id
        };
        ttlive_proto::msg_frame(log_id, &result, self.gzip)
    }

    fn batch_frame(&mut self, result: &pb::ProtoMessageFetchResult) -> Vec<u8> {
        self.next_log_id += 1;
        let mut result = result.clone();
        let cursor = make_cursor(0);
        result.internal_ext = internal_ext(0, &cursor);
        result.cursor = cursor;
        result.need_ack = self.shared.need_ack;
        ttlive_proto::msg_frame(self.next_log_id, &result, self.gzip)
    }

    /// Handles one client message; returns the reply to send, if any.
    fn on_client(&mut self, msg: Message, entered: &mut bool) -> Option<Vec<u8>> {
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
                        return Some(push_frame(0, "im_enter_room_resp", Vec::new(), Vec::new()));
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
                        payload: frame.payload.to_vec(),
                    }),
                    other => self.shared.record(ClientRecord::Frame {
                        conn,
                        payload_type: other.to_owned(),
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
            Message::Ping(_) => self.shared.record(ClientRecord::Ping { conn }),
            _ => {}
        }
        None
    }
}

/// Serves one accepted WebSocket until the client leaves, a fault ends it, or the stream ends.
pub(crate) async fn serve<S>(shared: Arc<Shared>, io: S, gzip: bool, start: usize, direct: bool)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let conn_id = shared.next_conn.fetch_add(1, Ordering::Relaxed) + 1;
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_CLIENT_MESSAGE))
        .max_frame_size(Some(MAX_CLIENT_MESSAGE));
    let ws = WebSocketStream::from_raw_socket(io, Role::Server, Some(config)).await;
    let (mut sink, mut stream) = ws.split();
    let start = start.min(shared.feed.frames.len());
    shared.record(ClientRecord::WsOpen {
        conn: conn_id,
        start_frame: start,
        gzip,
        direct,
    });
    let faults = shared.fire(Stage::Socket);
    let stall = faults.contains(&Fault::Stall);
    let drop_after = faults.iter().find_map(|f| match f {
        Fault::DropAfterFrames(n) => Some(*n),
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
        gzip,
        start,
        stall,
        "fake server: websocket open"
    );

    let mut c = Conn {
        shared: &shared,
        conn: conn_id,
        gzip,
        frames_sent: 0,
        next_log_id: 7_460_000_000_002_000_000 + conn_id * 100_000,
    };
    let frames = &shared.feed.frames;
    let mut entered = false;
    let opened = Instant::now();
    let mut push_start: Option<Instant> = None;
    let mut next = start;
    let mut closing = false;
    let base_t = frames.get(start).map_or(0, |f| f.t_ms);

    loop {
        if drop_after.is_some_and(|n| c.frames_sent >= n) && !stall {
            tracing::debug!(
                conn = conn_id,
                "fake server: fault: dropping the connection"
            );
            break;
        }
        // When may the push (or the next frame) go?
        let due: Option<Instant> = if stall || closing {
            None
        } else if let Some(ps) = push_start {
            frames
                .get(next)
                .map(|f| match shared.pace.scale(f.t_ms.saturating_sub(base_t)) {
                    Some(d) => ps + d,
                    None => ps,
                })
        } else if entered {
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
        tokio::select! {
            biased;
            msg = stream.next() => match msg {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(m)) => {
                    if let Some(reply) = c.on_client(m, &mut entered)
                        && !stall
                        && sink.send(Message::Binary(reply.into())).await.is_err()
                    {
                        break;
                    }
                }
            },
            () = timer => {
                if push_start.is_none() {
                    push_start = Some(Instant::now());
                    for f in pre.drain(..) {
                        let close_reason = match &f {
                            Fault::CloseFrame { reason } => Some(reason.clone()),
                            _ => None,
                        };
                        let bytes = match f {
                            Fault::MalformedFrame => b"\xff\xfe garbage, not a push frame \x00\x01".to_vec(),
                            Fault::OversizedGzip { inflated_bytes } => oversized_gzip_frame(inflated_bytes),
                            Fault::CloseFrame { ref reason } => close_push_frame(reason),
                            _ => c.batch_frame(&stream_end_batch()),
                        };
                        if let Some(reason) = close_reason {
                            tracing::debug!(conn = conn_id, %reason, "fake server: fault: close push frame");
                            closing = true;
                            if sink.send(Message::Binary(bytes.into())).await.is_ok() {
                                let _ = sink.send(Message::Close(Some(CloseFrame {
                                    code: CloseCode::Normal,
                                    reason: "close".into(),
                                }))).await;
                            }
                            break;
                        }
                        let end = f == Fault::StreamEnd;
                        if sink.send(Message::Binary(bytes.into())).await.is_err() {
                            closing = true;
                            break;
                        }
                        if end {
                            closing = true;
                            let _ = sink.send(Message::Close(Some(CloseFrame {
                                code: CloseCode::Normal,
                                reason: "stream ended".into(),
                            }))).await;
                            break;
                        }
                    }
                } else if let Some(frame) = frames.get(next) {
                    let bytes = c.encode(next, frame);
                    next += 1;
                    if sink.send(Message::Binary(bytes.into())).await.is_err() {
                        break;
                    }
                    c.frames_sent += 1;
                    if frame.ends_stream {
                        closing = true;
                        let _ = sink.send(Message::Close(Some(CloseFrame {
                            code: CloseCode::Normal,
                            reason: "stream ended".into(),
                        }))).await;
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
                let _ = c.on_client(m, &mut entered);
            }
            break;
        }
    }
    shared.record(ClientRecord::WsClosed {
        conn: conn_id,
        frames_sent: c.frames_sent,
    });
    tracing::debug!(
        conn = conn_id,
        frames = c.frames_sent,
        "fake server: websocket closed"
    );
}
