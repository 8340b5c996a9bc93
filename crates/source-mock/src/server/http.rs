//! The HTTP side: accept loop, web routes, sign routes, and the WebSocket upgrade.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONNECTION, CONTENT_TYPE, HeaderValue, SET_COOKIE, UPGRADE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use prost::Message;
use serde_json::json;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use ttlive_proto::webcast as pb;

use super::faults::{Fault, Stage};
use super::log::{ClientRecord, HttpRecord};
use super::{Shared, UserEntry, UserState, ws};

type Resp = Response<Full<Bytes>>;

const HEADERS_OF_INTEREST: &[&str] = &[
    "cookie",
    "user-agent",
    "x-api-key",
    "x-jwt-key",
    "x-cookie-header",
    "accept",
    "upgrade",
    "sec-websocket-protocol",
    "origin",
    "content-type",
];

/// The `Handshake-Msg` with which the fake server refuses a direct-mode upgrade that carries no
/// `ttwid` cookie. TikTok's own text for this case is not known (clients only saw "200 without
/// upgrade" / close 1006, direct-connect.md §2); this one is invented.
pub(crate) const MISSING_TTWID_MSG: &str = "MISSING_TTWID";
/// The `Handshake-Msg` of a blocked device (direct-connect.md §4, 7.3).
pub(crate) const DEVICE_BLOCKED_MSG: &str = "DEVICE_BLOCKED";

pub(crate) async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("fake server: accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let shared2 = shared.clone();
        let task = tokio::spawn(async move {
            let svc = service_fn(move |req| {
                let shared = shared2.clone();
                async move { Ok::<_, Infallible>(handle(shared, req).await) }
            });
            if let Err(e) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .with_upgrades()
                .await
            {
                tracing::debug!(%peer, "fake server: connection ended: {e}");
            }
        });
        shared.track(task.abort_handle());
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The query's `name=value` pairs, percent-decoded, in order.
pub(crate) fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (percent_decode(k), percent_decode(v)),
            None => (percent_decode(p), String::new()),
        })
        .collect()
}

fn param(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

fn json_resp(status: StatusCode, value: &serde_json::Value) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from(value.to_string())));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

fn set_header(r: &mut Resp, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers_mut().insert(name, v);
    }
}

/// Cursor strings the server issues: `t-<ms>_r-1_d-1_u-1_h-1_n-<next frame index>`.
pub(crate) fn make_cursor(next: usize) -> String {
    format!("t-{}_r-1_d-1_u-1_h-1_n-{next}", now_ms())
}

/// The next frame index a cursor issued by this server points at.
pub(crate) fn parse_cursor(cursor: &str) -> Option<usize> {
    cursor
        .rsplit_once("_n-")
        .and_then(|(_, n)| n.trim().parse().ok())
}

pub(crate) fn internal_ext(seq: usize, cursor: &str) -> String {
    let now = now_ms();
    format!(
        "fetch_time:{now}|start_time:0|ack_ids:|flag:0|seq:{seq}|next_cursor:{cursor}|wss_info:0-{now}-0-0"
    )
}

async fn handle(shared: Arc<Shared>, mut req: Request<Incoming>) -> Resp {
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let headers = HEADERS_OF_INTEREST
        .iter()
        .filter_map(|h| {
            req.headers().get(*h).map(|v| {
                (
                    (*h).to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
        })
        .collect();
    shared.record(ClientRecord::Http(HttpRecord {
        method: req.method().as_str().to_owned(),
        path: path.clone(),
        query: query.clone(),
        headers,
    }));
    let pairs = query_pairs(&query);

    let is_upgrade = req
        .headers()
        .get(UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if is_upgrade {
        return upgrade(shared, &mut req, &pairs);
    }

    let trimmed = path.trim_end_matches('/');
    let segments: Vec<&str> = trimmed.split('/').filter(|s| !s.is_empty()).collect();
    let method = req.method().clone();
    match segments.as_slice() {
        [] | ["live"] if method == hyper::Method::GET || method == hyper::Method::HEAD => {
            ttwid_page(&shared, &path)
        }
        ["ttwid", "union", "register"] => ttwid_register(&shared, req, &path).await,
        [user, "live"] if user.starts_with('@') => sigi_page(&shared, &user[1..]),
        ["api-live", "user", "room"] => api_user_room(&shared, &pairs),
        ["webcast", "room", "info"] => room_info(&shared, &pairs),
        ["webcast", "room", "check_alive"] => check_alive(&shared, &pairs),
        ["webcast", "gift", "list"] => gift_list(),
        ["webcast", "rooms", room, "connect"] => {
            let room = room.parse().ok();
            sign_fetch(&shared, room, &pairs)
        }
        ["webcast", "fetch"] => {
            let room = param(&pairs, "room_id").and_then(|r| r.parse().ok());
            sign_fetch(&shared, room, &pairs)
        }
        ["webcast", "im", "fetch"] => im_fetch(&shared, &pairs),
        ["webcast", "anchors", uid, "room_id"] => euler_room_id(&shared, uid),
        ["webcast", "room_id"] => {
            let uid = param(&pairs, "uniqueId").or_else(|| param(&pairs, "unique_id"));
            euler_room_id(&shared, &uid.unwrap_or_default())
        }
        ["tiktok", "sign_url"] | ["webcast", "sign_url"] => sign_url(req, &pairs).await,
        _ => json_resp(
            StatusCode::NOT_FOUND,
            &json!({"code": 404, "message": format!("no route for {path}")}),
        ),
    }
}

/// Refuses an upgrade the way TikTok does: HTTP 200, no upgrade, a `Handshake-Msg` header (and
/// `Handshake-Status` when given).
fn refuse_upgrade(shared: &Shared, direct: bool, msg: &str, status: Option<&str>) -> Resp {
    shared.record(ClientRecord::WsRefused {
        direct,
        message: msg.to_owned(),
    });
    let mut r = Response::new(Full::new(Bytes::from_static(b"")));
    set_header(&mut r, "handshake-msg", msg);
    if let Some(status) = status {
        set_header(&mut r, "handshake-status", status);
    }
    r
}

/// The non-empty `ttwid` value of a `Cookie` header, if any.
fn ttwid_cookie(req: &Request<Incoming>) -> Option<String> {
    req.headers()
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|p| p.split_once('='))
        .find(|(k, v)| k.trim() == "ttwid" && !v.trim().is_empty())
        .map(|(_, v)| v.trim().to_owned())
}

fn upgrade(shared: Arc<Shared>, req: &mut Request<Incoming>, pairs: &[(String, String)]) -> Resp {
    // Direct mode (the web player's `ws_direct=1`, direct-connect.md): no sign call before, but
    // a `ttwid` cookie and a user agent are required.
    let direct = param(pairs, "ws_direct").is_some_and(|v| v.trim() == "1");
    if direct {
        if ttwid_cookie(req).is_none() {
            return refuse_upgrade(&shared, true, MISSING_TTWID_MSG, None);
        }
        let has_ua = req
            .headers()
            .get("user-agent")
            .is_some_and(|v| !v.as_bytes().trim_ascii().is_empty());
        if !has_ua {
            return refuse_upgrade(&shared, true, DEVICE_BLOCKED_MSG, Some("415"));
        }
    }
    for fault in shared.fire(Stage::Upgrade) {
        match fault {
            Fault::RejectUpgrade(msg) => return refuse_upgrade(&shared, direct, &msg, None),
            Fault::DeviceBlocked => {
                return refuse_upgrade(&shared, direct, DEVICE_BLOCKED_MSG, Some("415"));
            }
            _ => {}
        }
    }
    let Some(key) = req.headers().get("sec-websocket-key").cloned() else {
        return json_resp(
            StatusCode::BAD_REQUEST,
            &json!({"code": 400, "message": "missing Sec-WebSocket-Key"}),
        );
    };
    let protocol = req
        .headers()
        .get("sec-websocket-protocol")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_owned());
    let gzip = param(pairs, "compress").is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
    let start = param(pairs, "cursor")
        .and_then(|c| parse_cursor(&c))
        .unwrap_or(0);
    let on_upgrade = hyper::upgrade::on(req);
    let shared2 = shared.clone();
    let task = tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => ws::serve(shared2, TokioIo::new(upgraded), gzip, start, direct).await,
            Err(e) => tracing::debug!("fake server: upgrade failed: {e}"),
        }
    });
    shared.track(task.abort_handle());

    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    r.headers_mut()
        .insert(UPGRADE, HeaderValue::from_static("websocket"));
    r.headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    set_header(
        &mut r,
        "sec-websocket-accept",
        &derive_accept_key(key.as_bytes()),
    );
    set_header(&mut r, "handshake-options", "ping-interval=10");
    if let Some(p) = protocol.filter(|p| !p.is_empty()) {
        set_header(&mut r, "sec-websocket-protocol", &p);
    }
    r
}

fn status_of(state: UserState) -> i64 {
    match state {
        UserState::Offline => 4,
        _ => 2,
    }
}

fn nickname(u: &UserEntry) -> String {
    if u.unique_id == crate::demo::DEMO_UNIQUE_ID {
        "Fake User 🎙️".to_owned()
    } else {
        format!("{} (fake)", u.unique_id)
    }
}

fn user_json(u: &UserEntry) -> serde_json::Value {
    let id = 6_900_000_000_000_000_000_u64 + (u.room_id % 1_000_000);
    json!({
        "id": id.to_string(),
        "roomId": u.room_id.to_string(),
        "uniqueId": u.unique_id,
        "nickname": nickname(u),
        "status": status_of(u.state),
        "secUid": format!("MS4wLjABAAAA-fake-{}", u.unique_id),
        "signature": "an invented streamer on a fake server",
        "verified": false,
        "avatarLarger": "https://p16-sign-va.tiktokcdn.com/tos-maliva-avt-0068/fake~c5_1080x1080.jpeg",
        "avatarMedium": "https://p16-sign-va.tiktokcdn.com/tos-maliva-avt-0068/fake~c5_720x720.jpeg",
        "avatarThumb": "https://p16-sign-va.tiktokcdn.com/tos-maliva-avt-0068/fake~c5_100x100.jpeg",
    })
}

fn live_room_json(u: &UserEntry) -> serde_json::Value {
    json!({
        "status": status_of(u.state),
        "title": format!("{}'s invented stream", u.unique_id),
        "startTime": crate::demo::DEMO_START_MS / 1000,
        "coverUrl": "https://p16-webcast.tiktokcdn.com/webcast-va/fake-cover~tplv-obj.image",
        "liveRoomStats": {"userCount": 212, "enterCount": 1380},
    })
}

fn html(body: String) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

fn sigi_page(shared: &Shared, uid: &str) -> Resp {
    let state = match shared
        .user(uid)
        .as_ref()
        .filter(|u| u.state != UserState::Unknown)
    {
        Some(u) => json!({
            "AppContext": {"appContext": {"language": "en", "region": "US"}},
            "LiveRoom": {
                "liveRoomStatus": 0,
                "liveRoomUserInfo": {"user": user_json(u), "liveRoom": live_room_json(u)},
            },
        }),
        None => json!({"AppContext": {"appContext": {"language": "en", "region": "US"}}}),
    };
    // `</` never appears in the JSON text (no user-controlled HTML), but escape it anyway.
    let state = state.to_string().replace("</", "<\\/");
    html(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>@{uid} LIVE</title>\
         <meta property=\"og:url\" content=\"https://www.tiktok.com/@{uid}/live\"></head><body>\n\
         <script id=\"SIGI_STATE\" type=\"application/json\">{state}</script>\n</body></html>\n"
    ))
}

fn api_user_room(shared: &Shared, pairs: &[(String, String)]) -> Resp {
    let uid = param(pairs, "uniqueId").unwrap_or_default();
    match shared
        .user(&uid)
        .as_ref()
        .filter(|u| u.state != UserState::Unknown)
    {
        Some(u) => json_resp(
            StatusCode::OK,
            &json!({
                "statusCode": 0,
                "message": "",
                "data": {
                    "user": user_json(u),
                    "liveRoom": live_room_json(u),
                    "stats": {"followingCount": 321, "followerCount": 48250},
                },
            }),
        ),
        None => json_resp(
            StatusCode::OK,
            &json!({"statusCode": 19881007, "message": "user_not_found", "data": null}),
        ),
    }
}

fn room_info(shared: &Shared, pairs: &[(String, String)]) -> Resp {
    let room: u64 = param(pairs, "room_id")
        .and_then(|r| r.parse().ok())
        .unwrap_or(0);
    let user = shared.user_by_room(room);
    let user = user.as_ref();
    let status = user.map_or(4, |u| status_of(u.state));
    let owner = user.map(|u| {
        json!({
            "id": 6_900_000_000_000_000_000_u64 + (u.room_id % 1_000_000),
            "display_id": u.unique_id,
            "nickname": nickname(u),
            "bio_description": "an invented streamer on a fake server",
            "follow_info": {"follower_count": 48250, "following_count": 321},
            "avatar_large": {"url_list": [
                "https://p16-sign-va.tiktokcdn.com/tos-maliva-avt-0068/fake~c5_1080x1080.webp",
                "https://p16-sign-va.tiktokcdn.com/tos-maliva-avt-0068/fake~c5_1080x1080.jpeg",
            ]},
        })
    });
    json_resp(
        StatusCode::OK,
        &json!({
            "status_code": 0,
            "data": {
                "id": room,
                "id_str": room.to_string(),
                "status": status,
                "title": user.map(|u| format!("{}'s invented stream", u.unique_id)),
                "user_count": 212,
                "stats": {"like_count": 2400, "total_user": 1380},
                "owner": owner,
                "link_mic": {"multi_live_enum": 0, "rival_anchor_id": 0, "battle_scores": []},
            },
            "extra": {"now": now_ms()},
        }),
    )
}

fn check_alive(shared: &Shared, pairs: &[(String, String)]) -> Resp {
    let ids = param(pairs, "room_ids").unwrap_or_default();
    let data: Vec<serde_json::Value> = ids
        .split(',')
        .filter_map(|s| s.trim().parse::<u64>().ok())
        .map(|id| {
            let alive = shared
                .user_by_room(id)
                .is_some_and(|u| u.state == UserState::Live);
            json!({"alive": alive, "room_id": id, "room_id_str": id.to_string()})
        })
        .collect();
    json_resp(
        StatusCode::OK,
        &json!({"data": data, "extra": {"now": now_ms()}, "status_code": 0}),
    )
}

fn gift_list() -> Resp {
    let gifts: Vec<serde_json::Value> = crate::demo::demo_gift_catalogue()
        .into_iter()
        .map(|(id, name, diamonds, kind, url)| {
            json!({
                "id": id, "name": name, "diamond_count": diamonds, "type": kind,
                "image": {"url_list": [url]},
            })
        })
        .collect();
    json_resp(
        StatusCode::OK,
        &json!({"data": {"gifts": gifts}, "extra": {"now": now_ms()}, "status_code": 0}),
    )
}

fn euler_room_id(shared: &Shared, uid: &str) -> Resp {
    match shared
        .user(uid)
        .as_ref()
        .filter(|u| u.state != UserState::Unknown)
    {
        Some(u) => json_resp(
            StatusCode::OK,
            &json!({
                "code": 200, "message": "OK", "ok": true,
                "routes_attempted": ["html"],
                "is_live": u.state == UserState::Live,
                "room_id": u.room_id.to_string(),
            }),
        ),
        None => json_resp(
            StatusCode::OK,
            &json!({
                "code": 404, "message": "user_not_found", "ok": false,
                "routes_attempted": ["html", "api"], "is_live": false,
            }),
        ),
    }
}

fn sign_fault(fault: &Fault) -> Option<Resp> {
    let now_s = now_ms() / 1000;
    Some(match fault {
        Fault::SignRateLimited { retry_after_secs } => {
            let mut r = json_resp(
                StatusCode::TOO_MANY_REQUESTS,
                &json!({
                    "code": 429,
                    "message": "Too many connections started, try again later.",
                    "limit_label": "fake-minute",
                }),
            );
            let secs = retry_after_secs.to_string();
            let reset = (now_s + i64::try_from(*retry_after_secs).unwrap_or(0)).to_string();
            set_header(&mut r, "retry-after", &secs);
            set_header(&mut r, "x-ratelimit-reset", &reset);
            set_header(&mut r, "ratelimit-remaining", &secs);
            set_header(&mut r, "ratelimit-reset", &reset);
            r
        }
        Fault::SignUnauthorized => json_resp(
            StatusCode::UNAUTHORIZED,
            &json!({"code": 401, "message": "The provided API Key is invalid."}),
        ),
        Fault::SignServerError => json_resp(
            StatusCode::INTERNAL_SERVER_ERROR,
            &json!({
                "code": 500,
                "message": "A 403 error occurred whilst fetching the webcast URL.",
            }),
        ),
        _ => return None,
    })
}

fn token(seed: u64, n: usize) -> String {
    const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ALPHA[(x % ALPHA.len() as u64) as usize] as char
        })
        .collect()
}

fn sign_fetch(shared: &Shared, room: Option<u64>, pairs: &[(String, String)]) -> Resp {
    if let Some(resp) = shared.fire(Stage::Sign).first().and_then(sign_fault) {
        return resp;
    }
    let by_name = param(pairs, "unique_id").and_then(|u| shared.user(&u).map(|u| u.room_id));
    let room_id = match room {
        Some(r) if r != 0 => r,
        _ => by_name.unwrap_or_else(|| shared.default_room()),
    };
    let resumed = param(pairs, "cursor").and_then(|c| parse_cursor(&c));
    let next = resumed.unwrap_or(0).min(shared.feed.frames.len());
    let cursor = make_cursor(next);
    let request = shared.next_request.fetch_add(1, Ordering::Relaxed) + 1;
    let seed = ttlive_proto::new_enter_unique_id();
    let mut result = pb::ProtoMessageFetchResult {
        messages: if shared.history && resumed.is_none() {
            shared.feed.initial.clone()
        } else {
            Vec::new()
        },
        cursor: cursor.clone(),
        fetch_interval: 1000,
        now: now_ms(),
        internal_ext: internal_ext(next, &cursor),
        fetch_type: 1,
        heartbeat_duration: 10_000,
        need_ack: false,
        push_server: shared.push_url(),
        is_first: true,
        ..Default::default()
    };
    result
        .route_params
        .insert("wrss".to_owned(), token(seed, 43));
    let mut r = Response::new(Full::new(Bytes::from(result.encode_to_vec())));
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/x-protobuf"),
    );
    let ttwid = new_ttwid(seed);
    set_header(
        &mut r,
        "x-set-tt-cookie",
        &format!("ttwid={ttwid}; tt-target-idc=useast2a"),
    );
    set_header(&mut r, "x-room-id", &room_id.to_string());
    set_header(&mut r, "x-request-id", &format!("fake-req-{request}"));
    set_header(&mut r, "x-agent-id", "fake-agent-1");
    set_header(
        &mut r,
        "x-log-id",
        &format!("2026{:016}", seed % 10_000_000_000_000_000),
    );
    r
}

/// Frames one `im/fetch` poll hands out at most.
const POLL_BATCH_FRAMES: usize = 20;

/// `GET /webcast/im/fetch/` (HTTP polling, protocol.md §10): the messages of the next frames
/// after the request's `cursor` (all of them from the start without one), as a protobuf
/// `ProtoMessageFetchResult` with the advanced cursor. Unlike TikTok it needs no signature.
fn im_fetch(shared: &Shared, pairs: &[(String, String)]) -> Resp {
    let start = param(pairs, "cursor")
        .and_then(|c| parse_cursor(&c))
        .unwrap_or(0)
        .min(shared.feed.frames.len());
    let end = (start + POLL_BATCH_FRAMES).min(shared.feed.frames.len());
    let messages = shared.feed.frames[start..end]
        .iter()
        .filter_map(|f| f.result.as_ref())
        .flat_map(|r| r.messages.iter().cloned())
        .collect();
    let cursor = make_cursor(end);
    let result = pb::ProtoMessageFetchResult {
        messages,
        internal_ext: internal_ext(end, &cursor),
        cursor,
        fetch_interval: 200,
        now: now_ms(),
        fetch_type: 2,
        ..Default::default()
    };
    let mut r = Response::new(Full::new(Bytes::from(result.encode_to_vec())));
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/x-protobuf"),
    );
    r
}

/// A `ttwid` value shaped like TikTok's: `1|<43 chars>|<epoch s>|<64 chars>`, percent-encoded.
fn new_ttwid(seed: u64) -> String {
    format!(
        "1%7C{}%7C{}%7C{}",
        token(seed ^ 0x55, 43),
        now_ms() / 1000,
        token(seed ^ 0xaa, 64)
    )
}

/// Adds `Set-Cookie: ttwid=…` (and records it); `None` when the `TtwidWithoutCookie` fault
/// fires, which leaves the answer without the cookie.
fn issue_ttwid(shared: &Shared, r: &mut Resp, path: &str) -> Option<String> {
    if shared
        .fire(Stage::Ttwid)
        .contains(&Fault::TtwidWithoutCookie)
    {
        tracing::debug!(path, "fake server: fault: ttwid answer without Set-Cookie");
        return None;
    }
    let value = new_ttwid(ttlive_proto::new_enter_unique_id());
    let cookie = format!(
        "ttwid={value}; Path=/; Domain=tiktok.com; Max-Age=31536000; HttpOnly; Secure; SameSite=None"
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().append(SET_COOKIE, v);
    }
    shared.record(ClientRecord::TtwidIssued {
        path: path.to_owned(),
        value: value.clone(),
    });
    Some(value)
}

/// `GET /` and `GET /live`: a page whose answer sets the anonymous cookies (`tt_chain_token`,
/// then `ttwid`), as TikTok's home and LIVE pages do (direct-connect.md §2, §4).
fn ttwid_page(shared: &Shared, path: &str) -> Resp {
    let mut r = html(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>TikTok (fake)</title>\
         </head><body><div id=\"app\"></div></body></html>\n"
            .to_owned(),
    );
    let chain = format!(
        "tt_chain_token={}; Path=/; Domain=tiktok.com; Max-Age=15552000; HttpOnly; Secure",
        token(ttlive_proto::new_enter_unique_id(), 24)
    );
    if let Ok(v) = HeaderValue::from_str(&chain) {
        r.headers_mut().append(SET_COOKIE, v);
    }
    issue_ttwid(shared, &mut r, path);
    r
}

/// `POST /ttwid/union/register/`: ByteDance's register endpoint. The JSON body must name
/// `aid` 1768 (the webcast aid 1988 is refused, as rust-srec notes); the cookie comes in
/// `Set-Cookie`.
async fn ttwid_register(shared: &Shared, req: Request<Incoming>, path: &str) -> Resp {
    if req.method() != hyper::Method::POST {
        return json_resp(
            StatusCode::METHOD_NOT_ALLOWED,
            &json!({"status_code": 405, "message": "method not allowed"}),
        );
    }
    let body = match Limited::new(req.into_body(), 64 * 1024).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let aid = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("aid").and_then(serde_json::Value::as_i64));
    if aid != Some(1768) {
        return json_resp(
            StatusCode::OK,
            &json!({"status_code": 1, "message": "invalid aid", "data": null}),
        );
    }
    let mut r = json_resp(
        StatusCode::OK,
        &json!({"status_code": 0, "message": "success", "data": {"redirect_url": ""}}),
    );
    issue_ttwid(shared, &mut r, path);
    r
}

async fn sign_url(req: Request<Incoming>, pairs: &[(String, String)]) -> Resp {
    let body = match Limited::new(req.into_body(), 1024 * 1024).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let url = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("url").and_then(|u| u.as_str()).map(str::to_owned))
        .or_else(|| param(pairs, "url"))
        .unwrap_or_default();
    if url.is_empty() {
        return json_resp(
            StatusCode::BAD_REQUEST,
            &json!({"code": 400, "message": "missing url"}),
        );
    }
    let ms_token = token(ttlive_proto::new_enter_unique_id(), 107);
    let sep = if url.contains('?') { '&' } else { '?' };
    let ua = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
    json_resp(
        StatusCode::OK,
        &json!({
            "code": 200,
            "response": {
                "signedUrl": format!("{url}{sep}msToken={ms_token}&X-Bogus=DFSzswVOfake"),
                "userAgent": ua,
                "browserName": "Mozilla",
                "browserVersion": "5.0",
                "tokens": {"msToken": ms_token, "X-Bogus": "DFSzswVOfake"},
                "requestHeaders": {},
                "cookies": [],
            },
        }),
    )
}
