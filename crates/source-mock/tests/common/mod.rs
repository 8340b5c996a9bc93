//! A small raw client of the fake server for its tests: HTTP GETs, the sign fetch, and a push
//! socket that enters the room, acks and collects msg ids.
#![allow(dead_code)]

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use prost::Message as _;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{WebSocketStream, client_async};
use ttlive_proto::webcast as pb;
use ttlive_proto::{FrameLimits, decode_msg_frame};
use ttlive_source_mock::FakeServer;

pub type Ws = WebSocketStream<TcpStream>;
pub const T: Duration = Duration::from_secs(10);

/// A plain-http client. In a workspace build reqwest has the signer's `rustls-no-provider`
/// feature, which requires a process-wide crypto provider before any client is built.
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

pub async fn get_json(url: &str) -> serde_json::Value {
    let text = http_client()
        .get(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: {e}: {text}"))
}

/// `api-live/user/room` for `user`: (status, room id).
pub async fn user_room(base: &str, user: &str) -> (i64, u64) {
    let v = get_json(&format!(
        "{base}/api-live/user/room/?uniqueId={user}&sourceType=54"
    ))
    .await;
    (
        v["data"]["user"]["status"].as_i64().unwrap(),
        v["data"]["user"]["roomId"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap(),
    )
}

/// The sign fetch of `room_id` on the sign server at `base`.
pub async fn sign(base: &str, room_id: u64) -> pb::ProtoMessageFetchResult {
    let r = http_client()
        .get(format!(
            "{base}/webcast/fetch?room_id={room_id}&client=test"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    pb::ProtoMessageFetchResult::decode(r.bytes().await.unwrap()).unwrap()
}

pub async fn ws_connect(url: &str) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let addr = url
        .trim_start_matches("ws://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let tcp = TcpStream::connect(addr).await.unwrap();
    client_async(url, tcp).await.map(|(ws, _)| ws)
}

pub fn frame(payload_type: &str, log_id: i64, payload: Vec<u8>) -> Message {
    Message::Binary(
        pb::WebcastPushFrame {
            log_id,
            payload_encoding: "pb".into(),
            payload_type: payload_type.into(),
            payload: payload.into(),
            ..Default::default()
        }
        .encode_to_vec()
        .into(),
    )
}

pub fn enter_room(room_id: u64) -> Message {
    frame(
        "im_enter_room",
        0,
        pb::WebcastImEnterRoomMessage {
            room_id: room_id as i64,
            ..Default::default()
        }
        .encode_to_vec(),
    )
}

/// A push socket on `user`'s room, opened as a signed client does (sign fetch, the socket with
/// its cursor, `im_enter_room`); the history is not kept.
pub async fn open_push(server: &FakeServer, user: &str) -> Ws {
    let room = server.room_id(user);
    let res = sign(&server.base_url(), room).await;
    let url = format!("{}?room_id={room}&cursor={}", res.push_server, res.cursor);
    let mut ws = ws_connect(&url).await.unwrap();
    ws.send(enter_room(room)).await.unwrap();
    ws
}

/// A chat message with this id, in room `room`.
pub fn chat(room: i64, id: i64, text: &str) -> pb::BaseProtoMessage {
    let m = pb::WebcastChatMessage {
        common: Some(pb::CommonMessageData {
            method: "WebcastChatMessage".into(),
            msg_id: id,
            room_id: room,
            create_time: 1_767_290_400_000 + id,
            ..Default::default()
        }),
        user: Some(pb::User {
            id: 1,
            nickname: "Tester".into(),
            display_id: "tester".into(),
            ..Default::default()
        }),
        content: text.into(),
        ..Default::default()
    };
    pb::BaseProtoMessage {
        method: "WebcastChatMessage".into(),
        payload: m.encode_to_vec().into(),
        msg_id: id,
        ..Default::default()
    }
}

/// A push socket on `room_id` opened as a signed client does: sign fetch (whose history is
/// kept), then the socket at its push server with its cursor, then `im_enter_room`.
pub struct Follower {
    pub ws: Ws,
    pub room_id: u64,
    /// Msg ids seen, in order of arrival (history first), duplicates kept.
    pub ids: Vec<u64>,
    /// Control actions seen.
    pub ends: Vec<i32>,
    pub closed: bool,
}

impl Follower {
    pub async fn open(server: &FakeServer, room_id: u64) -> Follower {
        let res = sign(&server.base_url(), room_id).await;
        let url = format!(
            "{}?room_id={room_id}&cursor={}&compress=gzip",
            res.push_server, res.cursor
        );
        let mut ws = ws_connect(&url).await.unwrap();
        ws.send(enter_room(room_id)).await.unwrap();
        let mut f = Follower {
            ws,
            room_id,
            ids: Vec::new(),
            ends: Vec::new(),
            closed: false,
        };
        f.take(&res);
        f
    }

    fn take(&mut self, res: &pb::ProtoMessageFetchResult) {
        for m in &res.messages {
            self.ids.push(m.msg_id as u64);
            if m.method == "WebcastControlMessage"
                && let Ok(c) = pb::WebcastControlMessage::decode(m.payload.as_ref())
            {
                self.ends.push(c.action);
            }
        }
    }

    /// Reads (and acks) until `until` or the socket closes.
    pub async fn read_until(&mut self, until: tokio::time::Instant) {
        while !self.closed {
            let next = tokio::time::timeout_at(until, self.ws.next()).await;
            match next {
                Err(_) => return,
                Ok(Some(Ok(Message::Binary(b)))) => {
                    let Ok(d) = decode_msg_frame(&b, &FrameLimits::default()) else {
                        continue;
                    };
                    if let Some(res) = &d.result {
                        self.take(res);
                        if res.need_ack {
                            let _ = self
                                .ws
                                .send(frame(
                                    "ack",
                                    d.frame.log_id,
                                    res.internal_ext.clone().into_bytes(),
                                ))
                                .await;
                        }
                    }
                }
                Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => {
                    self.closed = true;
                }
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    /// Closes the socket and takes what the server sent before it saw the close (the server
    /// counts those messages as pushed).
    pub async fn finish(&mut self) {
        if !self.closed {
            let _ = self.ws.send(Message::Close(None)).await;
            self.read_until(tokio::time::Instant::now() + T).await;
        }
    }

    pub fn distinct_sorted(&self) -> Vec<u64> {
        let mut ids = self.ids.clone();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

/// `VmRSS` of this process, in bytes.
pub fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}
