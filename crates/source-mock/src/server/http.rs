//! The HTTP side: accept loop, web routes, sign routes, the control routes under `/_fake/`,
//! and the WebSocket upgrade.

use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONNECTION, CONTENT_TYPE, HeaderValue, SET_COOKIE, UPGRADE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use prost::Message;
use serde_json::json;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use ttlive_proto::webcast as pb;

use super::faults::{Fault, Stage};
use super::log::{ClientRecord, HttpRecord, MAX_HEADER_VALUE, MAX_PATH, MAX_QUERY, cap};
use super::rooms::{Feed, Room};
use super::signers::SignBehaviour;
use super::stats::{Unit, Via};
use super::{Shared, normalize_unique_id, traffic, ws};

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
    "referer",
    "host",
];

/// The `Handshake-Msg` with which the fake server refuses a direct-mode upgrade that carries no
/// `ttwid` cookie. TikTok's own text for this case is not known (clients only saw "200 without
/// upgrade" / close 1006, direct-connect.md §2); this one is invented.
pub(crate) const MISSING_TTWID_MSG: &str = "MISSING_TTWID";
/// The `Handshake-Msg` of a blocked device (direct-connect.md §4, 7.3).
pub(crate) const DEVICE_BLOCKED_MSG: &str = "DEVICE_BLOCKED";
/// The `Handshake-Msg` of the `ws-fallback` socket that refuses every upgrade (Euler,
/// 2026-09-09/10).
pub(crate) const WS_FALLBACK_MSG: &str = "illegal app_id";
/// Largest request body read (register and sign bodies are small JSON).
const MAX_BODY: usize = 64 * 1024;

/// What a connection's requests share: which sign server's port it came in on.
#[derive(Debug, Clone, Copy)]
struct Conn {
    signer: usize,
}

/// Accepts connections on `listener` for sign server `signer` (0: the main port) until the
/// server is gone.
pub(crate) async fn accept_loop(listener: TcpListener, shared: Weak<Shared>, signer: usize) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("fake server: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let _ = stream.set_nodelay(true);
        let conn = Conn { signer };
        let shared2 = shared.clone();
        let idle = shared.limits.http_idle;
        shared.spawn_tracked(async move {
            let svc = service_fn(move |req| {
                let shared = shared2.clone();
                async move { Ok::<_, Infallible>(handle(shared, req, conn).await) }
            });
            // Every answer but an upgrade says `Connection: close` (see `handle`), so no
            // kept-alive connection sits idle and a client's pool never races the server closing
            // one. The header timeout ends idle and slowloris connections after `idle`.
            if let Err(e) = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(idle)
                .max_buf_size(256 * 1024)
                .serve_connection(TokioIo::new(stream), svc)
                .with_upgrades()
                .await
            {
                tracing::debug!(%peer, "fake server: connection ended: {e}");
            }
        });
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

/// Cursor strings the server issues: `t-<ms>_r-1_d-1_u-1_h-1_s-<stream>_n-<next>`, where
/// `next` is the next frame index (recorded rooms) or sequence number (generated rooms).
pub(crate) fn make_cursor(stream: u32, next: u64) -> String {
    format!("t-{}_r-1_d-1_u-1_h-1_s-{stream}_n-{next}", now_ms())
}

/// A position a cursor issued by this server points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cursor {
    /// The stream it was issued in (`None` for cursors of older versions of this server).
    pub(crate) stream: Option<u32>,
    pub(crate) next: u64,
}

impl Cursor {
    pub(crate) fn parse(cursor: &str) -> Option<Cursor> {
        let (head, n) = cursor.rsplit_once("_n-")?;
        let next = n.trim().parse().ok()?;
        let stream = head
            .rsplit_once("_s-")
            .and_then(|(_, s)| s.trim().parse().ok());
        Some(Cursor { stream, next })
    }

    /// The position in `stream`, if the cursor belongs to it.
    pub(crate) fn within(self, stream: u32) -> Option<u64> {
        (self.stream.is_none_or(|s| s == stream)).then_some(self.next)
    }
}

pub(crate) fn internal_ext(seq: u64, cursor: &str) -> String {
    let now = now_ms();
    format!(
        "fetch_time:{now}|start_time:0|ack_ids:|flag:0|seq:{seq}|next_cursor:{cursor}|wss_info:0-{now}-0-0"
    )
}

/// The label a request is counted and rate-limited under.
fn route_label(method: &Method, segments: &[&str], upgrade: bool) -> &'static str {
    if upgrade {
        return "ws";
    }
    match segments {
        [] | ["live"] if method == Method::GET || method == Method::HEAD => "ttwid",
        ["ttwid", "union", "register"] => "ttwid",
        [user, "live"] if user.starts_with('@') => "page",
        ["api-live", "user", "room"] => "api-live/user/room",
        ["webcast", "room", "info"] => "room/info",
        ["webcast", "room", "check_alive"] => "room/check_alive",
        ["webcast", "gift", "list"] => "gift/list",
        ["webcast", "rooms", _, "connect"] | ["webcast", "fetch"] => "sign/fetch",
        ["webcast", "im", "fetch"] => "im/fetch",
        ["webcast", "anchors", _, "room_id"] | ["webcast", "room_id"] => "sign/room_id",
        ["tiktok", "sign_url"] | ["webcast", "sign_url"] => "sign/sign_url",
        ["_fake", ..] => "_fake",
        _ => "other",
    }
}

fn http_record(req: &Request<Incoming>) -> HttpRecord {
    let mut truncated = false;
    let mut keep = |s: &str, max| {
        let (v, cut) = cap(s, max);
        truncated |= cut;
        v
    };
    let path = keep(req.uri().path(), MAX_PATH);
    let query = keep(req.uri().query().unwrap_or(""), MAX_QUERY);
    let headers = HEADERS_OF_INTEREST
        .iter()
        .filter_map(|h| {
            req.headers().get(*h).map(|v| {
                let v = String::from_utf8_lossy(v.as_bytes());
                ((*h).to_owned(), keep(&v, MAX_HEADER_VALUE))
            })
        })
        .collect();
    HttpRecord {
        method: req.method().as_str().to_owned(),
        path,
        query,
        headers,
        truncated,
    }
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>, conn: Conn) -> Resp {
    let mut resp = route(shared, req, conn).await;
    if resp.status() != StatusCode::SWITCHING_PROTOCOLS {
        resp.headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    resp
}

async fn route(shared: Arc<Shared>, mut req: Request<Incoming>, conn: Conn) -> Resp {
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let is_upgrade = req
        .headers()
        .get(UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let trimmed = path.trim_end_matches('/');
    let segments: Vec<&str> = trimmed.split('/').filter(|s| !s.is_empty()).collect();
    let method = req.method().clone();
    let label = route_label(&method, &segments, is_upgrade);
    if conn.signer == 0 {
        shared.routes.count(label);
    } else {
        let name = &shared.signers[conn.signer].name;
        shared.routes.count(&format!("{label}@{name}"));
    }
    shared.record(ClientRecord::Http(http_record(&req)));
    if let Some(resp) = shared
        .fire_route(label)
        .iter()
        .find_map(|f| rate_limited(f, label))
    {
        return resp;
    }
    let pairs = query_pairs(&query);

    if is_upgrade {
        return upgrade(&shared, &mut req, &pairs, &segments);
    }

    match segments.as_slice() {
        [] | ["live"] if method == Method::GET || method == Method::HEAD => {
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
            sign_fetch(&shared, conn, room, &pairs)
        }
        ["webcast", "fetch"] => {
            let room = param(&pairs, "room_id").and_then(|r| r.parse().ok());
            sign_fetch(&shared, conn, room, &pairs)
        }
        ["webcast", "im", "fetch"] => im_fetch(&shared, &pairs),
        ["webcast", "anchors", uid, "room_id"] => euler_room_id(&shared, uid),
        ["webcast", "room_id"] => {
            let uid = param(&pairs, "uniqueId").or_else(|| param(&pairs, "unique_id"));
            euler_room_id(&shared, &uid.unwrap_or_default())
        }
        ["tiktok", "sign_url"] | ["webcast", "sign_url"] => sign_url(&shared, req, &pairs).await,
        ["_fake", rest @ ..] => control(&shared, &method, rest),
        _ => json_resp(
            StatusCode::NOT_FOUND,
            &json!({"code": 404, "message": format!("no route for {}", cap(&path, 200).0)}),
        ),
    }
}

/// `GET /_fake/stats`, `GET /_fake/rooms/{user}/pushed`, `POST /_fake/drop-all`,
/// `POST /_fake/rooms/{user}/live`, `POST /_fake/rooms/{user}/end`,
/// `POST /_fake/signers/{name}/up`, `POST /_fake/signers/{name}/down`: the server's stats and
/// controls for a test or benchmark in another process.
fn control(shared: &Arc<Shared>, method: &Method, rest: &[&str]) -> Resp {
    let ok = || json_resp(StatusCode::OK, &json!({"ok": true}));
    let not_found = |what: &str| {
        json_resp(
            StatusCode::NOT_FOUND,
            &json!({"ok": false, "message": format!("no {what}")}),
        )
    };
    let rooms = &shared.rooms;
    match (method, rest) {
        (&Method::GET, ["stats"]) => {
            let log = shared.log.lock().map(|l| l.stats()).unwrap_or_default();
            let rooms: Vec<_> = rooms.list.iter().map(|r| r.stats()).collect();
            json_resp(
                StatusCode::OK,
                &json!({
                    "uptime_ms": shared.rooms.started.elapsed().as_millis() as u64,
                    "open_connections": shared.task_count(),
                    "routes": shared.routes.snapshot(),
                    "rooms": rooms,
                    "log": {"held": log.held, "held_bytes": log.held_bytes, "logged": log.logged,
                            "dropped": log.dropped},
                }),
            )
        }
        (&Method::GET, ["rooms", user, "pushed"]) => match rooms.by_name(user) {
            Some(r) => json_resp(
                StatusCode::OK,
                &json!({"user": r.unique_id, "msg_ids": r.pushed_msg_ids()
                    .iter().map(u64::to_string).collect::<Vec<_>>()}),
            ),
            None => not_found("such user"),
        },
        (&Method::POST, ["drop-all"]) => {
            shared.drop_all.send_modify(|v| *v += 1);
            ok()
        }
        (&Method::POST, ["rooms", user, action @ ("live" | "end" | "suspend")]) => {
            let Some(r) = rooms.by_name(user).filter(|r| r.exists) else {
                return not_found("such user");
            };
            match *action {
                "live" => {
                    let id = rooms.go_live(r);
                    json_resp(
                        StatusCode::OK,
                        &json!({"ok": true, "room_id": id.map(|i| i.to_string())}),
                    )
                }
                "end" => json_resp(StatusCode::OK, &json!({"ok": rooms.end(r, 3)})),
                _ => json_resp(StatusCode::OK, &json!({"ok": rooms.end(r, 4)})),
            }
        }
        (&Method::POST, ["signers", name, updown @ ("up" | "down")]) => {
            let Some((i, s)) = shared.signer(name) else {
                return not_found("such sign server");
            };
            if *updown == "down" {
                s.down();
                ok()
            } else if s.is_up() {
                ok()
            } else {
                match s.up(i, shared) {
                    Ok(()) => ok(),
                    Err(e) => json_resp(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        &json!({"ok": false, "message": e.to_string()}),
                    ),
                }
            }
        }
        _ => not_found("such control route"),
    }
}

/// A 429 answer for a [`Fault::RateLimited`] (Euler's headers too on sign routes).
fn rate_limited(fault: &Fault, label: &str) -> Option<Resp> {
    let Fault::RateLimited {
        retry_after_secs, ..
    } = fault
    else {
        return None;
    };
    if label.starts_with("sign/") {
        return sign_fault(&Fault::SignRateLimited {
            retry_after_secs: *retry_after_secs,
        });
    }
    let mut r = json_resp(
        StatusCode::TOO_MANY_REQUESTS,
        &json!({"status_code": 429, "message": "too many requests"}),
    );
    set_header(&mut r, "retry-after", &retry_after_secs.to_string());
    Some(r)
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

fn upgrade(
    shared: &Arc<Shared>,
    req: &mut Request<Incoming>,
    pairs: &[(String, String)],
    segments: &[&str],
) -> Resp {
    // Direct mode (the web player's `ws_direct=1`, direct-connect.md): no sign call before, but
    // a `ttwid` cookie and a user agent are required.
    let direct = param(pairs, "ws_direct").is_some_and(|v| v.trim() == "1");
    if segments.first() == Some(&"ws-fallback") {
        return refuse_upgrade(shared, direct, WS_FALLBACK_MSG, Some("400"));
    }
    if direct {
        if ttwid_cookie(req).is_none() {
            return refuse_upgrade(shared, true, MISSING_TTWID_MSG, None);
        }
        let has_ua = req
            .headers()
            .get("user-agent")
            .is_some_and(|v| !v.as_bytes().trim_ascii().is_empty());
        if !has_ua {
            return refuse_upgrade(shared, true, DEVICE_BLOCKED_MSG, Some("415"));
        }
    }
    for fault in shared.fire(Stage::Upgrade) {
        match fault {
            Fault::RejectUpgrade(msg) => return refuse_upgrade(shared, direct, &msg, None),
            Fault::DeviceBlocked => {
                return refuse_upgrade(shared, direct, DEVICE_BLOCKED_MSG, Some("415"));
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
    // The room: the URL's `room_id` (any stream it ever had), else the default room.
    let by_id = param(pairs, "room_id")
        .and_then(|r| r.trim().parse::<u64>().ok())
        .and_then(|id| shared.rooms.by_room_id(id));
    let (room, stream) = match by_id {
        Some((room, stream)) => (room.clone(), Some(stream)),
        None => match shared.rooms.default_room() {
            Some(room) => (room.clone(), None),
            None => {
                return json_resp(
                    StatusCode::NOT_FOUND,
                    &json!({"code": 404, "message": "no such room"}),
                );
            }
        },
    };
    let params = ws::SocketParams {
        gzip: param(pairs, "compress").is_some_and(|v| v.eq_ignore_ascii_case("gzip")),
        cursor: param(pairs, "cursor").and_then(|c| Cursor::parse(&c)),
        direct,
        stream,
    };
    let on_upgrade = hyper::upgrade::on(req);
    let shared2 = shared.clone();
    shared.spawn_tracked(async move {
        match on_upgrade.await {
            Ok(upgraded) => ws::serve(shared2, TokioIo::new(upgraded), room, params).await,
            Err(e) => tracing::debug!("fake server: upgrade failed: {e}"),
        }
    });

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

/// The room of a user that exists.
fn existing<'a>(shared: &'a Shared, unique_id: &str) -> Option<&'a Arc<Room>> {
    shared
        .rooms
        .by_name(&normalize_unique_id(unique_id))
        .filter(|r| r.exists)
}

fn status_of(room: &Room) -> i64 {
    if room.is_live() { 2 } else { 4 }
}

fn nickname(u: &Room) -> String {
    if u.unique_id == crate::demo::DEMO_UNIQUE_ID {
        "Fake User 🎙️".to_owned()
    } else {
        format!("{} (fake)", u.unique_id)
    }
}

fn owner_id(u: &Room) -> u64 {
    6_900_000_000_000_000_000_u64 + u.index as u64 * 1000 + 4242
}

fn user_json(u: &Room) -> serde_json::Value {
    json!({
        "id": owner_id(u).to_string(),
        "roomId": u.phase().room_id.to_string(),
        "uniqueId": u.unique_id,
        "nickname": nickname(u),
        "status": status_of(u),
        "secUid": format!("MS4wLjABAAAA-fake-{}", u.unique_id),
        "signature": "an invented streamer on a fake server",
        "verified": false,
        "avatarLarger": "https://p16-sign-va.tiktokcdn.com/tos-maliva-avt-0068/fake~c5_1080x1080.jpeg",
        "avatarMedium": "https://p16-sign-va.tiktokcdn.com/tos-maliva-avt-0068/fake~c5_720x720.jpeg",
        "avatarThumb": "https://p16-sign-va.tiktokcdn.com/tos-maliva-avt-0068/fake~c5_100x100.jpeg",
    })
}

fn live_room_json(u: &Room) -> serde_json::Value {
    let phase = u.phase();
    json!({
        "status": status_of(u),
        "title": format!("{}'s invented stream", u.unique_id),
        "startTime": phase.started_ms / 1000,
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

/// The small page TikTok's WAF answers bare clients with instead of the room page: no
/// `SIGI_STATE`, a script that sets a cookie and reloads (invented, of the known shape).
const ANTI_BOT_PAGE: &str = "<!DOCTYPE html><html><head><meta charset=\"utf-8\">\
<title>Please wait...</title></head><body><div id=\"tiktok-verify-page\"></div>\
<script>document.cookie=\"tt_waf_check=1; path=/\";setTimeout(function(){location.reload()},1500);</script>\
</body></html>\n";

fn sigi_page(shared: &Shared, uid: &str) -> Resp {
    if shared.fire(Stage::Page).contains(&Fault::AntiBotPage) {
        tracing::debug!(uid, "fake server: fault: anti-bot page");
        return html(ANTI_BOT_PAGE.to_owned());
    }
    let uid = normalize_unique_id(uid);
    let state = match existing(shared, &uid) {
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
    // The user name goes into HTML: keep only what a handle may hold.
    let uid: String = uid
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
        .take(64)
        .collect();
    html(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>@{uid} LIVE</title>\
         <meta property=\"og:url\" content=\"https://www.tiktok.com/@{uid}/live\"></head><body>\n\
         <script id=\"SIGI_STATE\" type=\"application/json\">{state}</script>\n</body></html>\n"
    ))
}

fn api_user_room(shared: &Shared, pairs: &[(String, String)]) -> Resp {
    let uid = param(pairs, "uniqueId").unwrap_or_default();
    match existing(shared, &uid) {
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

/// Whether `room_id` is the live stream of its room.
fn alive(shared: &Shared, room_id: u64) -> bool {
    shared.rooms.by_room_id(room_id).is_some_and(|(r, _)| {
        let p = r.phase();
        r.exists && p.live && p.room_id == room_id
    })
}

fn room_info(shared: &Shared, pairs: &[(String, String)]) -> Resp {
    let room: u64 = param(pairs, "room_id")
        .and_then(|r| r.parse().ok())
        .unwrap_or(0);
    let user = shared.rooms.by_room_id(room).map(|(r, _)| r);
    let status = if alive(shared, room) { 2 } else { 4 };
    let owner = user.map(|u| {
        json!({
            "id": owner_id(u),
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

/// Room ids one `check_alive` answers at most (the rest of a longer list is ignored).
const CHECK_ALIVE_MAX: usize = 1000;

fn check_alive(shared: &Shared, pairs: &[(String, String)]) -> Resp {
    let ids = param(pairs, "room_ids").unwrap_or_default();
    let data: Vec<serde_json::Value> = ids
        .split(',')
        .filter_map(|s| s.trim().parse::<u64>().ok())
        .take(CHECK_ALIVE_MAX)
        .map(|id| json!({"alive": alive(shared, id), "room_id": id, "room_id_str": id.to_string()}))
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
    match existing(shared, uid) {
        Some(u) => json_resp(
            StatusCode::OK,
            &json!({
                "code": 200, "message": "OK", "ok": true,
                "routes_attempted": ["html"],
                "is_live": u.is_live(),
                "room_id": u.phase().room_id.to_string(),
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

pub(crate) fn token(seed: u64, n: usize) -> String {
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

/// The messages a fetch hands out and the position after them: from `cursor` when it
/// belongs to the room's stream (at most `max` units), else the newest history.
struct Batch {
    messages: Vec<pb::BaseProtoMessage>,
    stream: u32,
    next: u64,
}

/// A sign fetch (`history`: with the recent messages when no cursor is given) or a poll.
fn batch(shared: &Shared, room: &Room, cursor: Option<Cursor>, via: Via) -> Batch {
    let phase = room.phase();
    let resumed = cursor.and_then(|c| c.within(phase.stream));
    match &room.feed {
        Some(Feed::Generated { rate }) => {
            let now = room.seq_now(&phase, *rate);
            let key = room.stream_key(&phase);
            let (from, to) = match (resumed, via) {
                // A poll hands out what happened since its cursor (at most 200 messages).
                (Some(c), Via::Poll) => (c.min(now), now.min(c.saturating_add(200))),
                (Some(c), _) => (c.min(now), c.min(now)),
                (None, Via::Sign) if shared.history => {
                    (now.saturating_sub(shared.generated_history), now)
                }
                (None, Via::Poll) => (now.saturating_sub(shared.generated_history), now),
                (None, _) => (now, now),
            };
            let messages: Vec<_> = (from..to)
                .map(|s| traffic::message(&key, s, *rate))
                .collect();
            room.note_pushed(phase.stream, via, Unit::Seq, from, to, to - from);
            Batch {
                messages,
                stream: phase.stream,
                next: to,
            }
        }
        Some(Feed::Recorded(feed)) => {
            let rw = room.rewrite(phase.stream, phase.room_id);
            let frames = feed.frames.len() as u64;
            match via {
                Via::Poll => {
                    // Frames one poll hands out at most.
                    const POLL_BATCH_FRAMES: u64 = 20;
                    let start = resumed.unwrap_or(0).min(frames);
                    let end = (start + POLL_BATCH_FRAMES).min(frames);
                    let slice = &feed.frames[start as usize..end as usize];
                    let messages: Vec<_> = slice
                        .iter()
                        .filter_map(|f| f.result.as_ref())
                        .flat_map(|r| r.messages.iter())
                        .map(|m| rw.map_or_else(|| m.clone(), |rw| rw.message(feed, m)))
                        .collect();
                    room.note_pushed(
                        phase.stream,
                        via,
                        Unit::Frames,
                        start,
                        end,
                        messages.len() as u64,
                    );
                    Batch {
                        messages,
                        stream: phase.stream,
                        next: end,
                    }
                }
                _ => {
                    let messages = if shared.history && resumed.is_none() {
                        let m = match &rw {
                            Some(rw) => rw.messages(feed, &feed.initial),
                            None => feed.initial.clone(),
                        };
                        room.note_pushed(phase.stream, via, Unit::History, 0, 1, m.len() as u64);
                        m
                    } else {
                        Vec::new()
                    };
                    Batch {
                        messages,
                        stream: phase.stream,
                        next: resumed.unwrap_or(0).min(frames),
                    }
                }
            }
        }
        None => Batch {
            messages: Vec::new(),
            stream: phase.stream,
            next: 0,
        },
    }
}

/// The push server URL a sign server hands out.
fn push_server(shared: &Shared, behaviour: &SignBehaviour, seed: u64) -> String {
    match behaviour {
        SignBehaviour::WsFallback => format!(
            "ws://127.0.0.1:{}/ws-fallback/?token={}",
            shared.port,
            token(seed, 24)
        ),
        SignBehaviour::UntrustedPush(url) => url.clone(),
        _ => shared.push_url(),
    }
}

fn sign_fetch(shared: &Shared, conn: Conn, room: Option<u64>, pairs: &[(String, String)]) -> Resp {
    let signer = &shared.signers[conn.signer];
    if !signer.is_up() {
        return json_resp(
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({"code": 503, "message": "The sign server is down (fake)."}),
        );
    }
    if let Some(resp) = shared.fire(Stage::Sign).first().and_then(sign_fault) {
        return resp;
    }
    let rooms = &shared.rooms;
    let named = param(pairs, "unique_id").and_then(|u| existing(shared, &u).cloned());
    let target = match room {
        Some(r) if r != 0 => rooms.by_room_id(r).map(|(room, _)| room.clone()),
        _ => None,
    }
    .or(named)
    .or_else(|| rooms.default_room().cloned());
    let Some(target) = target else {
        return json_resp(
            StatusCode::NOT_FOUND,
            &json!({"code": 404, "message": "no such room"}),
        );
    };
    let phase = target.phase();
    // A room id of an ended stream is answered with that id (the socket then ends at once).
    let room_id = match room {
        Some(r) if r != 0 && rooms.by_room_id(r).is_some() => r,
        _ => phase.room_id,
    };
    let cursor_in = param(pairs, "cursor").and_then(|c| Cursor::parse(&c));
    let b = batch(shared, &target, cursor_in, Via::Sign);
    let cursor = make_cursor(b.stream, b.next);
    let request = shared.next_request.fetch_add(1, Ordering::Relaxed) + 1;
    let seed = ttlive_proto::new_enter_unique_id();
    let mut result = pb::ProtoMessageFetchResult {
        messages: b.messages,
        cursor: cursor.clone(),
        fetch_interval: 1000,
        now: now_ms(),
        internal_ext: internal_ext(b.next, &cursor),
        fetch_type: 1,
        heartbeat_duration: 10_000,
        need_ack: false,
        push_server: push_server(shared, &signer.behaviour(), seed),
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
    set_header(&mut r, "x-agent-id", &format!("fake-agent-{}", signer.name));
    set_header(
        &mut r,
        "x-log-id",
        &format!("2026{:016}", seed % 10_000_000_000_000_000),
    );
    r
}

/// `GET /webcast/im/fetch/?room_id=&cursor=` (HTTP polling, protocol.md §10): the messages
/// after the request's `cursor` (the room's recent history without one), as a protobuf
/// `ProtoMessageFetchResult` with the advanced cursor. Unlike TikTok it needs no signature.
fn im_fetch(shared: &Shared, pairs: &[(String, String)]) -> Resp {
    let room = param(pairs, "room_id")
        .and_then(|r| r.trim().parse::<u64>().ok())
        .and_then(|id| shared.rooms.by_room_id(id))
        .map(|(r, _)| r.clone())
        .or_else(|| shared.rooms.default_room().cloned());
    let Some(room) = room else {
        return json_resp(
            StatusCode::NOT_FOUND,
            &json!({"code": 404, "message": "no such room"}),
        );
    };
    let cursor_in = param(pairs, "cursor").and_then(|c| Cursor::parse(&c));
    let b = batch(shared, &room, cursor_in, Via::Poll);
    let cursor = make_cursor(b.stream, b.next);
    let result = pb::ProtoMessageFetchResult {
        messages: b.messages,
        internal_ext: internal_ext(b.next, &cursor),
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
        path: cap(path, MAX_PATH).0,
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

/// The request body, at most [`MAX_BODY`] bytes, read within the HTTP idle time (a body sent
/// too slowly or too large reads as empty).
async fn read_body(shared: &Shared, req: Request<Incoming>) -> Bytes {
    let collect = Limited::new(req.into_body(), MAX_BODY).collect();
    match tokio::time::timeout(shared.limits.http_idle, collect).await {
        Ok(Ok(b)) => b.to_bytes(),
        _ => Bytes::new(),
    }
}

/// `POST /ttwid/union/register/`: ByteDance's register endpoint. The JSON body must name
/// `aid` 1768 (the webcast aid 1988 is refused, as rust-srec notes); the cookie comes in
/// `Set-Cookie`.
async fn ttwid_register(shared: &Shared, req: Request<Incoming>, path: &str) -> Resp {
    if req.method() != Method::POST {
        return json_resp(
            StatusCode::METHOD_NOT_ALLOWED,
            &json!({"status_code": 405, "message": "method not allowed"}),
        );
    }
    let body = read_body(shared, req).await;
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

async fn sign_url(shared: &Shared, req: Request<Incoming>, pairs: &[(String, String)]) -> Resp {
    let body = read_body(shared, req).await;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_old_ones_still_parse() {
        let c = Cursor::parse(&make_cursor(3, 42)).unwrap();
        assert_eq!((c.stream, c.next), (Some(3), 42));
        assert_eq!(c.within(3), Some(42));
        assert_eq!(c.within(4), None);
        let old = Cursor::parse("t-1_r-1_d-1_u-1_h-1_n-7").unwrap();
        assert_eq!((old.stream, old.within(9)), (None, Some(7)));
        assert_eq!(Cursor::parse("garbage"), None);
    }
}
