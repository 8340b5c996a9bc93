//! TikTok's web endpoints: room-id resolution and live status (SIGI_STATE page, `api-live/user/room`,
//! the signer's room-id route), `room/info`, `room/check_alive` and `gift/list`
//! (protocol.md §2, §3). Every answer is treated as hostile: bodies are size-capped, JSON is read
//! defensively, and each failure is a typed error.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use ttlive_eventbus::GiftInfo;
use ttlive_signer::Signer;

use crate::error::TikTokError;
use crate::net;

/// Largest web answer read (a SIGI_STATE page is a few hundred KB).
const MAX_BODY: usize = 8 * 1024 * 1024;

/// A room's live status (protocol.md §2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LiveStatus {
    /// Status 2: live.
    Live,
    /// Status 3: live but paused by the host.
    Paused,
    /// Status 4: ended or offline.
    Offline,
    /// Another value (TikTok's meaning unknown); not treated as live.
    Other(i64),
}

impl LiveStatus {
    /// Maps TikTok's status number.
    pub fn from_code(code: i64) -> Self {
        match code {
            2 => LiveStatus::Live,
            3 => LiveStatus::Paused,
            4 => LiveStatus::Offline,
            n => LiveStatus::Other(n),
        }
    }

    /// Live or paused: a room one can connect to.
    pub fn is_connectable(self) -> bool {
        matches!(self, LiveStatus::Live | LiveStatus::Paused)
    }
}

/// Where a user's room is, and whether it is live.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RoomStatus {
    /// The room id.
    pub room_id: u64,
    /// The live status.
    pub status: LiveStatus,
    /// Which route answered: `sigi_state`, `api_live`, `sign_server`.
    pub route: &'static str,
    /// The stream title, when the route gave it.
    pub title: Option<String>,
    /// Current viewers, when the route gave it.
    pub viewers: Option<u64>,
}

/// `room/info`, the parts people use.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct RoomInfo {
    /// The room id.
    pub room_id: u64,
    /// Status number (2 live, 3 paused, 4 ended).
    pub status: i64,
    /// Title.
    pub title: String,
    /// Current viewers.
    pub viewer_count: u64,
    /// Likes so far.
    pub like_count: u64,
    /// Viewers so far.
    pub total_viewers: u64,
    /// The host's handle.
    pub owner_unique_id: String,
    /// The host's display name.
    pub owner_nickname: String,
    /// The host's numeric id.
    pub owner_id: u64,
    /// Stream start, seconds since the epoch, when given.
    pub start_time: Option<i64>,
}

/// Client for TikTok's web and webcast hosts.
#[derive(Clone)]
pub struct WebClient {
    http: reqwest::Client,
    web_url: String,
    webcast_url: String,
    user_agent: String,
    device_id: String,
}

impl std::fmt::Debug for WebClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebClient")
            .field("web_url", &self.web_url)
            .field("webcast_url", &self.webcast_url)
            .finish_non_exhaustive()
    }
}

fn trim_url(u: &str) -> String {
    u.trim_end_matches('/').to_owned()
}

fn num(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl WebClient {
    /// A client for these hosts (e.g. `https://www.tiktok.com`, `https://webcast.tiktok.com`).
    pub fn new(
        web_url: &str,
        webcast_url: &str,
        user_agent: &str,
        proxy: Option<&str>,
        timeout: Duration,
    ) -> Result<Self, TikTokError> {
        Ok(WebClient {
            http: net::http_client(proxy, timeout)?,
            web_url: trim_url(web_url),
            webcast_url: trim_url(webcast_url),
            user_agent: user_agent.to_owned(),
            device_id: net::random_digits(19),
        })
    }

    /// The webcast host.
    pub fn webcast_url(&self) -> &str {
        &self.webcast_url
    }

    /// The default client parameters TikTok's web client sends (protocol.md §4.1).
    pub fn client_params(&self) -> Vec<(&'static str, String)> {
        let ua = &self.user_agent;
        let (browser_name, browser_version) = ua.split_once('/').unwrap_or(("Mozilla", ua));
        let mac = ua.contains("Macintosh");
        vec![
            ("aid", "1988".into()),
            ("app_language", "en".into()),
            ("app_name", "tiktok_web".into()),
            ("browser_language", "en-US".into()),
            ("browser_name", browser_name.into()),
            ("browser_online", "true".into()),
            (
                "browser_platform",
                if mac { "MacIntel" } else { "Win32" }.into(),
            ),
            ("browser_version", browser_version.into()),
            ("cookie_enabled", "true".into()),
            ("device_platform", "web_pc".into()),
            ("focus_state", "true".into()),
            ("from_page", "user".into()),
            ("history_len", "10".into()),
            ("is_fullscreen", "false".into()),
            ("is_page_visible", "true".into()),
            ("screen_height", "1080".into()),
            ("screen_width", "1920".into()),
            ("tz_name", "Europe/Berlin".into()),
            ("referer", "https://www.tiktok.com/".into()),
            ("root_referer", "https://www.tiktok.com/".into()),
            ("channel", "tiktok_web".into()),
            ("data_collection_enabled", "true".into()),
            ("os", if mac { "mac" } else { "windows" }.into()),
            ("priority_region", "US".into()),
            ("region", "US".into()),
            ("user_is_login", "false".into()),
            ("webcast_language", "en".into()),
            ("device_id", self.device_id.clone()),
        ]
    }

    async fn get(
        &self,
        url: &str,
        query: &[(&str, String)],
        with_params: bool,
    ) -> Result<Vec<u8>, TikTokError> {
        self.get_with_cookie(url, query, with_params, "tt-target-idc=useast1a")
            .await
    }

    async fn get_with_cookie(
        &self,
        url: &str,
        query: &[(&str, String)],
        with_params: bool,
        cookie: &str,
    ) -> Result<Vec<u8>, TikTokError> {
        let mut req = self
            .http
            .get(url)
            .header("User-Agent", &self.user_agent)
            .header("Accept", "text/html,application/json,application/protobuf")
            .header("Accept-Language", "en-US,en;q=0.9")
            .header("Referer", "https://www.tiktok.com/")
            .header("Origin", "https://www.tiktok.com")
            .header("Cookie", cookie);
        if with_params {
            req = req.query(&self.client_params());
        }
        req = req.query(query);
        let resp = req.send().await.map_err(|e| TikTokError::Http {
            url: url.to_owned(),
            source: e.without_url(),
        })?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|s| Duration::from_secs(s.min(3600)));
        let body =
            net::read_capped(resp, MAX_BODY)
                .await
                .map_err(|detail| TikTokError::BadResponse {
                    what: "web endpoint",
                    detail: format!("{url}: {detail}"),
                })?;
        if !(200..300).contains(&status) {
            return Err(TikTokError::HttpStatus {
                url: url.to_owned(),
                status,
                body: String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned(),
                retry_after,
            });
        }
        Ok(body)
    }

    async fn get_json(
        &self,
        what: &'static str,
        url: &str,
        query: &[(&str, String)],
    ) -> Result<Value, TikTokError> {
        let body = self.get(url, query, true).await?;
        serde_json::from_slice(&body).map_err(|e| TikTokError::BadResponse {
            what,
            detail: format!("not JSON ({e})"),
        })
    }

    /// Route 1: the `/@user/live` page's SIGI_STATE JSON (protocol.md §2.2).
    pub async fn room_from_page(&self, user: &str) -> Result<RoomStatus, TikTokError> {
        let url = format!("{}/@{user}/live", self.web_url);
        let body = self.get(&url, &[], false).await?;
        parse_sigi_page(user, &String::from_utf8_lossy(&body))
    }

    /// Route 2: `api-live/user/room` (protocol.md §2.3).
    pub async fn room_from_api(&self, user: &str) -> Result<RoomStatus, TikTokError> {
        let url = format!("{}/api-live/user/room/", self.web_url);
        let v = self
            .get_json(
                "api-live/user/room",
                &url,
                &[("uniqueId", user.to_owned()), ("sourceType", "54".into())],
            )
            .await?;
        parse_api_room(user, &v)
    }

    /// Resolves a user's room and live status: the SIGI_STATE page, then `api-live/user/room`,
    /// then the signer's room-id route. A definite answer (not found, offline, age restricted)
    /// from any route ends the search; otherwise every route's failure is kept in the error.
    pub async fn resolve_room(
        &self,
        user: &str,
        signer: Option<&Arc<dyn Signer>>,
    ) -> Result<RoomStatus, TikTokError> {
        let mut attempts = Vec::new();
        let mut not_found = false;
        for route in ["sigi_state", "api_live", "sign_server"] {
            let result = match route {
                "sigi_state" => self.room_from_page(user).await,
                "api_live" => self.room_from_api(user).await,
                _ => match signer {
                    Some(s) => s
                        .resolve_room_id(user)
                        .await
                        .map_err(TikTokError::from)
                        .and_then(|info| {
                            let room_id =
                                info.room_id.parse().map_err(|_| TikTokError::BadResponse {
                                    what: "sign server room-id route",
                                    detail: format!("room id {:?} is not a number", info.room_id),
                                })?;
                            Ok(RoomStatus {
                                room_id,
                                status: if info.is_live {
                                    LiveStatus::Live
                                } else {
                                    LiveStatus::Offline
                                },
                                route: "sign_server",
                                title: None,
                                viewers: None,
                            })
                        }),
                    None => continue,
                },
            };
            match result {
                Ok(status) => return Ok(status),
                Err(e @ (TikTokError::Offline { .. } | TikTokError::AgeRestricted)) => {
                    return Err(e);
                }
                Err(TikTokError::UserNotFound { .. }) => {
                    // The page omits LiveRoom both for unknown users and for some blocked
                    // answers; let the other routes confirm.
                    not_found = true;
                    attempts.push(format!("{route}: user not found"));
                }
                Err(e) => attempts.push(format!("{route}: {e}")),
            }
        }
        if not_found {
            return Err(TikTokError::UserNotFound {
                user: user.to_owned(),
            });
        }
        Err(TikTokError::RoomNotResolved {
            user: user.to_owned(),
            attempts,
        })
    }

    /// One HTTP poll of `webcast/im/fetch` from `cursor` (protocol.md §10), with the cookies the
    /// signer gave. The body is a protobuf `ProtoMessageFetchResult`.
    pub async fn poll_fetch(
        &self,
        room_id: u64,
        cursor: &str,
        internal_ext: &str,
        cookie: &str,
        limits: &ttlive_proto::FrameLimits,
    ) -> Result<ttlive_proto::webcast::ProtoMessageFetchResult, TikTokError> {
        let url = format!("{}/webcast/im/fetch/", self.webcast_url);
        let cookie = if cookie.is_empty() {
            "tt-target-idc=useast1a"
        } else {
            cookie
        };
        let body = self
            .get_with_cookie(
                &url,
                &[
                    ("room_id", room_id.to_string()),
                    ("cursor", cursor.to_owned()),
                    ("internal_ext", internal_ext.to_owned()),
                    ("resp_content_type", "protobuf".into()),
                ],
                true,
                cookie,
            )
            .await?;
        if body.is_empty() {
            return Err(TikTokError::BadResponse {
                what: "im/fetch",
                detail: "empty body (TikTok may require a signature or a session here)".into(),
            });
        }
        if body.len() > limits.max_decompressed_bytes {
            return Err(TikTokError::BadResponse {
                what: "im/fetch",
                detail: format!("{} bytes is over the size cap", body.len()),
            });
        }
        ttlive_proto::decode_fetch_result(&body).map_err(|e| TikTokError::BadResponse {
            what: "im/fetch",
            detail: e.to_string(),
        })
    }

    /// `webcast/room/info` (protocol.md §3.1).
    pub async fn room_info(&self, room_id: u64) -> Result<RoomInfo, TikTokError> {
        let url = format!("{}/webcast/room/info/", self.webcast_url);
        let v = self
            .get_json("room/info", &url, &[("room_id", room_id.to_string())])
            .await?;
        parse_room_info(room_id, &v)
    }

    /// `webcast/room/check_alive` (protocol.md §2.6).
    pub async fn check_alive(&self, room_id: u64) -> Result<bool, TikTokError> {
        let alive = self.check_alive_many(&[room_id]).await?;
        Ok(alive.first().is_some_and(|(_, a)| *a))
    }

    /// `webcast/room/check_alive` for many rooms in one request (`room_ids=a,b,c`): each room id
    /// with whether it is live, in the order asked. Rooms the answer leaves out are an error,
    /// never silently "not live".
    pub async fn check_alive_many(
        &self,
        room_ids: &[u64],
    ) -> Result<Vec<(u64, bool)>, TikTokError> {
        if room_ids.is_empty() {
            return Ok(Vec::new());
        }
        let url = format!("{}/webcast/room/check_alive/", self.webcast_url);
        let ids: Vec<String> = room_ids.iter().map(u64::to_string).collect();
        let v = self
            .get_json("room/check_alive", &url, &[("room_ids", ids.join(","))])
            .await?;
        parse_check_alive(room_ids, &v)
    }

    /// `webcast/gift/list` (protocol.md §3.2): the room's gift catalogue.
    pub async fn gift_list(&self, room_id: u64) -> Result<Vec<GiftInfo>, TikTokError> {
        let url = format!("{}/webcast/gift/list/", self.webcast_url);
        let v = self
            .get_json("gift/list", &url, &[("room_id", room_id.to_string())])
            .await?;
        parse_gift_list(&v)
    }
}

/// Reads a `room/check_alive` answer: `data[i].alive`, matched by `room_id`/`room_id_str` when
/// the entries carry one, else by position (protocol.md §2.6: same order as asked).
pub fn parse_check_alive(asked: &[u64], v: &Value) -> Result<Vec<(u64, bool)>, TikTokError> {
    let bad = |detail: String| TikTokError::BadResponse {
        what: "room/check_alive",
        detail,
    };
    let data = v["data"]
        .as_array()
        .ok_or_else(|| bad("no data array".into()))?;
    let mut by_id = std::collections::HashMap::new();
    for (i, d) in data.iter().enumerate() {
        let alive = d["alive"]
            .as_bool()
            .ok_or_else(|| bad(format!("data[{i}] has no boolean alive")))?;
        let id = num(&d["room_id_str"])
            .or_else(|| num(&d["room_id"]))
            .and_then(|n| u64::try_from(n).ok())
            .or_else(|| asked.get(i).copied());
        if let Some(id) = id {
            by_id.insert(id, alive);
        }
    }
    asked
        .iter()
        .map(|id| {
            by_id
                .get(id)
                .map(|a| (*id, *a))
                .ok_or_else(|| bad(format!("room {id} is missing from the answer")))
        })
        .collect()
}

const SIGI_OPEN: &str = r#"<script id="SIGI_STATE" type="application/json">"#;

/// Parses the `/@user/live` page (protocol.md §2.2).
pub fn parse_sigi_page(user: &str, html: &str) -> Result<RoomStatus, TikTokError> {
    let Some(start) = html.find(SIGI_OPEN).map(|i| i + SIGI_OPEN.len()) else {
        let detail = if html.contains("tiktok-verify-page") || html.contains("captcha") {
            "a captcha page instead of the live page"
        } else {
            "the live page has no SIGI_STATE data"
        };
        return Err(TikTokError::Blocked {
            detail: detail.into(),
        });
    };
    let json = match html[start..].find("</script>") {
        Some(end) => &html[start..start + end],
        None => {
            return Err(TikTokError::BadResponse {
                what: "live page",
                detail: "SIGI_STATE is not closed".into(),
            });
        }
    };
    let v: Value = serde_json::from_str(json).map_err(|e| TikTokError::BadResponse {
        what: "live page",
        detail: format!("SIGI_STATE is not JSON ({e}); captcha-blocked?"),
    })?;
    let Some(live_room) = v.get("LiveRoom").filter(|l| l.is_object()) else {
        return Err(TikTokError::UserNotFound {
            user: user.to_owned(),
        });
    };
    room_status(
        user,
        &live_room["liveRoomUserInfo"],
        "sigi_state",
        "live page",
        "SIGI_STATE has no roomId",
    )
}

/// The room and status both web routes carry, under `user` and `liveRoom` of `info` (the
/// page's `LiveRoom.liveRoomUserInfo`, the API's `data`).
fn room_status(
    user: &str,
    info: &Value,
    route: &'static str,
    what: &'static str,
    no_room: &str,
) -> Result<RoomStatus, TikTokError> {
    let room_id = info["user"]["roomId"]
        .as_str()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|r| *r != 0);
    let status = num(&info["liveRoom"]["status"]).or_else(|| num(&info["user"]["status"]));
    match (room_id, status.map(LiveStatus::from_code)) {
        (room, Some(LiveStatus::Offline)) => Err(TikTokError::Offline {
            user: user.to_owned(),
            room_id: room,
        }),
        (Some(room_id), Some(status)) => Ok(RoomStatus {
            room_id,
            status,
            route,
            title: info["liveRoom"]["title"].as_str().map(str::to_owned),
            viewers: num(&info["liveRoom"]["liveRoomStats"]["userCount"]).map(|n| n.max(0) as u64),
        }),
        (None, _) => Err(TikTokError::BadResponse {
            what,
            detail: no_room.into(),
        }),
        (Some(_), None) => Err(TikTokError::BadResponse {
            what,
            detail: "no live status".into(),
        }),
    }
}

/// Parses `api-live/user/room` (protocol.md §2.3).
pub fn parse_api_room(user: &str, v: &Value) -> Result<RoomStatus, TikTokError> {
    let code = num(&v["statusCode"]).unwrap_or(0);
    let message = v["message"].as_str().unwrap_or("");
    if message == "user_not_found" {
        return Err(TikTokError::UserNotFound {
            user: user.to_owned(),
        });
    }
    if code == 4_003_110 {
        return Err(TikTokError::AgeRestricted);
    }
    if code != 0 {
        return Err(TikTokError::BadResponse {
            what: "api-live/user/room",
            detail: format!("API error {code} ({message})"),
        });
    }
    room_status(
        user,
        &v["data"],
        "api_live",
        "api-live/user/room",
        "no data.user.roomId: the user cannot stream, or TikTok blocks this client",
    )
}

/// Parses `room/info` (protocol.md §3.1).
pub fn parse_room_info(room_id: u64, v: &Value) -> Result<RoomInfo, TikTokError> {
    let code = num(&v["status_code"]).unwrap_or(0);
    let data = &v["data"];
    if code == 4_003_110 || data.get("prompts").is_some() {
        return Err(TikTokError::AgeRestricted);
    }
    if code != 0 || !data.is_object() {
        return Err(TikTokError::BadResponse {
            what: "room/info",
            detail: format!("status_code {code}"),
        });
    }
    let owner = &data["owner"];
    Ok(RoomInfo {
        room_id,
        status: num(&data["status"]).unwrap_or(0),
        title: data["title"].as_str().unwrap_or("").to_owned(),
        viewer_count: num(&data["user_count"]).unwrap_or(0).max(0) as u64,
        like_count: num(&data["stats"]["like_count"]).unwrap_or(0).max(0) as u64,
        total_viewers: num(&data["stats"]["total_user"]).unwrap_or(0).max(0) as u64,
        owner_unique_id: text(&owner["display_id"]).unwrap_or_default(),
        owner_nickname: text(&owner["nickname"]).unwrap_or_default(),
        owner_id: num(&owner["id"]).unwrap_or(0).max(0) as u64,
        start_time: num(&data["start_time"]).or_else(|| num(&data["create_time"])),
    })
}

/// Parses `gift/list` (protocol.md §3.2).
pub fn parse_gift_list(v: &Value) -> Result<Vec<GiftInfo>, TikTokError> {
    let gifts = v["data"]["gifts"]
        .as_array()
        .ok_or_else(|| TikTokError::BadResponse {
            what: "gift/list",
            detail: "no data.gifts array".into(),
        })?;
    Ok(gifts
        .iter()
        .filter_map(|g| {
            let id = num(&g["id"])?;
            Some(GiftInfo {
                id: id.max(0) as u64,
                name: g["name"].as_str().unwrap_or("").to_owned(),
                diamond_count: num(&g["diamond_count"])
                    .unwrap_or(0)
                    .clamp(0, u32::MAX.into()) as u32,
                gift_type: num(&g["type"])
                    .unwrap_or(0)
                    .clamp(i32::MIN.into(), i32::MAX.into()) as i32,
                image_url: g["image"]["url_list"][0].as_str().map(str::to_owned),
                describe: g["describe"].as_str().unwrap_or("").to_owned(),
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(json: &str) -> String {
        format!("<html><head></head><body>{SIGI_OPEN}{json}</script></body></html>")
    }

    #[test]
    fn check_alive_many_matches_by_id_then_position_and_reports_missing_rooms() {
        let asked = [11, 22, 33];
        let by_id: Value = serde_json::from_str(
            r#"{"data":[{"alive":true,"room_id_str":"33"},{"alive":false,"room_id":11},{"alive":true,"room_id":22}]}"#,
        )
        .unwrap();
        assert_eq!(
            parse_check_alive(&asked, &by_id).unwrap(),
            vec![(11, false), (22, true), (33, true)]
        );
        let by_position: Value =
            serde_json::from_str(r#"{"data":[{"alive":false},{"alive":true},{"alive":false}]}"#)
                .unwrap();
        assert_eq!(
            parse_check_alive(&asked, &by_position).unwrap(),
            vec![(11, false), (22, true), (33, false)]
        );
        let short: Value = serde_json::from_str(r#"{"data":[{"alive":true}]}"#).unwrap();
        let err = parse_check_alive(&asked, &short).unwrap_err().to_string();
        assert!(err.contains("room 22 is missing"), "{err}");
        for garbage in [r#"{"data":{}}"#, r#"{"data":[{"alive":"yes"}]}"#, "null"] {
            let v: Value = serde_json::from_str(garbage).unwrap();
            assert!(matches!(
                parse_check_alive(&asked, &v),
                Err(TikTokError::BadResponse { .. })
            ));
        }
    }

    #[test]
    fn sigi_live_offline_unknown_blocked() {
        let live = page(
            r#"{"LiveRoom":{"liveRoomStatus":0,"liveRoomUserInfo":{"user":{"roomId":"7400000000000000001","uniqueId":"x","status":2},"liveRoom":{"status":2,"title":"hi","liveRoomStats":{"userCount":12}}}}}"#,
        );
        let r = parse_sigi_page("x", &live).unwrap();
        assert_eq!(r.room_id, 7_400_000_000_000_000_001);
        assert_eq!(r.status, LiveStatus::Live);
        assert_eq!(r.viewers, Some(12));

        let off = page(
            r#"{"LiveRoom":{"liveRoomUserInfo":{"user":{"roomId":"7","status":4},"liveRoom":{"status":4}}}}"#,
        );
        assert!(matches!(
            parse_sigi_page("x", &off),
            Err(TikTokError::Offline {
                room_id: Some(7),
                ..
            })
        ));
        let paused = page(
            r#"{"LiveRoom":{"liveRoomUserInfo":{"user":{"roomId":"7"},"liveRoom":{"status":3}}}}"#,
        );
        assert_eq!(
            parse_sigi_page("x", &paused).unwrap().status,
            LiveStatus::Paused
        );
        assert!(matches!(
            parse_sigi_page("x", &page(r#"{"AppContext":{}}"#)),
            Err(TikTokError::UserNotFound { .. })
        ));
        assert!(matches!(
            parse_sigi_page("x", "<div id=\"tiktok-verify-page\">"),
            Err(TikTokError::Blocked { .. })
        ));
        assert!(matches!(
            parse_sigi_page("x", &page("{not json")),
            Err(TikTokError::BadResponse { .. })
        ));
        assert!(matches!(
            parse_sigi_page("x", &format!("{SIGI_OPEN}{{\"LiveRoom\":{{}}")),
            Err(TikTokError::BadResponse { .. })
        ));
    }

    #[test]
    fn api_route_answers() {
        let v: Value = serde_json::from_str(
            r#"{"statusCode":0,"message":"","data":{"user":{"roomId":"42","status":2},"liveRoom":{"status":2}}}"#,
        )
        .unwrap();
        assert_eq!(parse_api_room("x", &v).unwrap().room_id, 42);
        let v: Value =
            serde_json::from_str(r#"{"statusCode":10202,"message":"user_not_found"}"#).unwrap();
        assert!(matches!(
            parse_api_room("x", &v),
            Err(TikTokError::UserNotFound { .. })
        ));
        let v: Value = serde_json::from_str(r#"{"statusCode":4003110,"message":""}"#).unwrap();
        assert!(matches!(
            parse_api_room("x", &v),
            Err(TikTokError::AgeRestricted)
        ));
        let v: Value = serde_json::from_str(r#"[1,2,3]"#).unwrap();
        assert!(parse_api_room("x", &v).is_err());
        let v: Value = serde_json::from_str(
            r#"{"statusCode":0,"message":"","data":{"user":{"roomId":"42"},"liveRoom":{"status":1}}}"#,
        )
        .unwrap();
        assert_eq!(
            parse_api_room("x", &v).unwrap().status,
            LiveStatus::Other(1)
        );
        assert!(!LiveStatus::Other(1).is_connectable());
    }

    #[test]
    fn room_info_and_gifts() {
        let v: Value = serde_json::from_str(
            r#"{"status_code":0,"data":{"status":2,"title":"t","user_count":"5","stats":{"like_count":9},"owner":{"id":1,"display_id":"x","nickname":"X"}}}"#,
        )
        .unwrap();
        let info = parse_room_info(1, &v).unwrap();
        assert_eq!((info.status, info.viewer_count, info.like_count), (2, 5, 9));
        assert_eq!(info.owner_unique_id, "x");
        let v: Value =
            serde_json::from_str(r#"{"status_code":0,"data":{"prompts":"log in"}}"#).unwrap();
        assert!(matches!(
            parse_room_info(1, &v),
            Err(TikTokError::AgeRestricted)
        ));
        let v: Value = serde_json::from_str(
            r#"{"data":{"gifts":[{"id":5655,"name":"Rose","diamond_count":1,"type":1,"image":{"url_list":["u"]}},{"name":"no id"}]}}"#,
        )
        .unwrap();
        let g = parse_gift_list(&v).unwrap();
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].name, "Rose");
        assert!(g[0].is_streakable());
        assert!(parse_gift_list(&Value::Null).is_err());
    }
}
