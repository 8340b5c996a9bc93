//! The values that go into and come out of a [`Signer`](crate::Signer).

use std::collections::BTreeMap;
use std::fmt;

use bytes::Bytes;
use ttlive_proto::webcast::ProtoMessageFetchResult;

use crate::direct::ConnectionFeedback;
use crate::secret::Secret;

/// The user agent sent to the signer when a [`SignRequest`] names none: the Node reference's
/// default preset (protocol.md §4.3). Open the WebSocket with the same user agent
/// ([`SignedConnection::user_agent`] tells which one was used).
pub const DEFAULT_USER_AGENT: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) \
     AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36 Edg/128.0.2739.79";

/// Cookie names that carry a login session; their values are redacted in `Debug` output.
const SESSION_COOKIES: &[&str] = &["sessionid", "sessionid_ss", "sid_tt", "sid_guard"];

/// A logged-in TikTok session (protocol.md §4.4): `sessionid` and the account's data centre
/// `tt-target-idc`. Both are needed together.
///
/// The session id is a [`Secret`]: it never appears in `Debug` output or errors, and a signer
/// forwards it only to a host the user explicitly allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionCredentials {
    session_id: Secret,
    target_idc: String,
}

impl SessionCredentials {
    /// A session from its `sessionid` cookie value and its `tt-target-idc` (e.g. `useast2a`).
    pub fn new(session_id: impl Into<Secret>, target_idc: impl Into<String>) -> Self {
        Self {
            session_id: session_id.into(),
            target_idc: target_idc.into(),
        }
    }

    /// The session id (a secret: do not log it).
    pub fn session_id(&self) -> &Secret {
        &self.session_id
    }

    /// The account's data centre, the `tt-target-idc` cookie.
    pub fn target_idc(&self) -> &str {
        &self.target_idc
    }

    /// The value of the `x-cookie-header` request header: `sessionid=…; tt-target-idc=…`.
    pub(crate) fn cookie_header(&self) -> String {
        format!(
            "sessionid={}; tt-target-idc={}",
            self.session_id.expose(),
            self.target_idc
        )
    }
}

/// What to sign: a room, and optionally the cursor to resume from, the user agent the WebSocket
/// will use, and a TikTok session.
///
/// ```
/// use ttlive_signer::{SessionCredentials, SignRequest};
///
/// let request = SignRequest::new("7312345678901234567")
///     .with_user_agent("Mozilla/5.0 …")
///     .with_session(SessionCredentials::new("my-session-id", "useast2a"));
/// assert_eq!(request.room_id(), "7312345678901234567");
/// assert!(!format!("{request:?}").contains("my-session-id"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignRequest {
    room_id: String,
    cursor: Option<String>,
    user_agent: Option<String>,
    session: Option<SessionCredentials>,
    reconnect: bool,
}

impl SignRequest {
    /// A request for the room with this numeric id (decimal digits, as TikTok prints it).
    pub fn new(room_id: impl Into<String>) -> Self {
        Self {
            room_id: room_id.into(),
            ..Self::default()
        }
    }

    /// Resume from this cursor (the previous fetch result's `cursor`).
    pub fn with_cursor(mut self, cursor: impl Into<String>) -> Self {
        self.cursor = Some(cursor.into());
        self
    }

    /// The user agent the signer should sign for (use the same one on the WebSocket).
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Forward this TikTok session to the signer (only to an allow-listed host).
    pub fn with_session(mut self, session: SessionCredentials) -> Self {
        self.session = Some(session);
        self
    }

    /// Marks this request as a reconnect (not the room's first connection). A direct-mode
    /// signer then asks for no comment history (`history_comment_count=0`), so comments already
    /// delivered are not replayed; a request with a [cursor](Self::with_cursor) counts as a
    /// reconnect too.
    pub fn with_reconnect(mut self, reconnect: bool) -> Self {
        self.reconnect = reconnect;
        self
    }

    /// Whether this is a reconnect: [`with_reconnect(true)`](Self::with_reconnect) or a cursor
    /// is set.
    pub fn is_reconnect(&self) -> bool {
        self.reconnect || self.cursor.as_deref().is_some_and(|c| !c.is_empty())
    }

    /// The room id.
    pub fn room_id(&self) -> &str {
        &self.room_id
    }

    /// The cursor to resume from, if any.
    pub fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref()
    }

    /// The user agent, if set.
    pub fn user_agent(&self) -> Option<&str> {
        self.user_agent.as_deref()
    }

    /// The session, if any.
    pub fn session(&self) -> Option<&SessionCredentials> {
        self.session.as_ref()
    }
}

/// One cookie (`name=value`) to send on the WebSocket upgrade.
///
/// `Debug` hides the values of session cookies (`sessionid`, `sid_tt`, …).
#[derive(Clone, PartialEq, Eq)]
pub struct Cookie {
    /// Cookie name, e.g. `ttwid`.
    pub name: String,
    /// Cookie value, as received (not decoded).
    pub value: String,
}

impl Cookie {
    /// A cookie from its name and value.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
        }
    }

    fn is_session(&self) -> bool {
        SESSION_COOKIES
            .iter()
            .any(|s| s.eq_ignore_ascii_case(&self.name))
    }
}

impl fmt::Debug for Cookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value: &dyn fmt::Debug = if self.is_session() {
            &"<redacted>"
        } else {
            &self.value
        };
        f.debug_struct("Cookie")
            .field("name", &self.name)
            .field("value", value)
            .finish()
    }
}

/// What a [`Signer`](crate::Signer) returns: everything needed to open the room's push socket.
///
/// * [`push_server`](Self::push_server) + [`route_params`](Self::route_params): the WebSocket URL
///   base and its extra query parameters (protocol.md §7).
/// * [`cookies`](Self::cookies): every cookie to send (`ttwid` first); see
///   [`cookie_header`](Self::cookie_header).
/// * [`fetch_result`](Self::fetch_result): the signer's initial `im/fetch` result (history
///   messages, `cursor`, `internal_ext`), when the signer fetched one; a direct-mode signer has
///   none. [`fetch_body`](Self::fetch_body) keeps its exact bytes for recordings.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct SignedConnection {
    /// The room id to connect to: the server's correction (`X-Room-Id`) if it sent one, else the
    /// requested id.
    pub room_id: String,
    /// The room id the server sent in `X-Room-Id` when it differs from the requested one.
    pub corrected_room_id: Option<String>,
    /// The decoded initial fetch result, when the signer fetched one.
    pub fetch_result: Option<ProtoMessageFetchResult>,
    /// The fetch result's bytes exactly as received (for recording and replay).
    pub fetch_body: Option<Bytes>,
    /// Cookies for the WebSocket `Cookie` header, all pairs of `X-Set-TT-Cookie` in order with
    /// `ttwid` first; when the request carried a session, `sessionid` and `tt-target-idc` are
    /// included (the socket refuses a session-signed URL without them).
    pub cookies: Vec<Cookie>,
    /// The WebSocket URL base (`push_server`), never hard-coded.
    pub push_server: String,
    /// Extra WebSocket query parameters (`route_params`), sorted by key.
    pub route_params: BTreeMap<String, String>,
    /// The user agent the signer signed for; open the WebSocket with it.
    pub user_agent: String,
    /// `X-Request-Id` of the sign response, for diagnostics.
    pub request_id: Option<String>,
    /// `X-Agent-Id` of the sign response (the signing agent), for diagnostics.
    pub agent_id: Option<String>,
    /// `X-Log-Id` of the sign response, for diagnostics.
    pub log_id: Option<String>,
    /// How to open the socket: [`ConnectionMode::Signed`] (the Euler flow: build the URL from
    /// `push_server`, the client parameters and `route_params`; `im_enter_room` first) or
    /// [`ConnectionMode::Direct`] (`push_server` is the complete URL, to be used verbatim; `hb`
    /// then `im_enter_room`; see [`DirectSigner`](crate::DirectSigner)).
    pub mode: ConnectionMode,
    /// Extra headers for the WebSocket upgrade request, besides `User-Agent` and `Cookie` (a
    /// direct connection sends `Origin: https://www.tiktok.com`).
    pub ws_headers: Vec<(String, String)>,
    /// Where the live source reports how the socket went (connected, refused with
    /// `DEVICE_BLOCKED`, closed early…), so a direct signer can replace its `ttwid` and a
    /// [`FallbackSigner`](crate::FallbackSigner) can switch to Euler. A no-op for connections
    /// that need no feedback.
    pub feedback: ConnectionFeedback,
}

/// How a [`SignedConnection`] is to be opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConnectionMode {
    /// A sign server's connection (Euler): the URL is `push_server` plus the client's own query
    /// parameters plus `route_params` (protocol.md §7.2); there is a fetch result with a cursor
    /// and `internal_ext`; the client sends `im_enter_room`, then heartbeats.
    #[default]
    Signed,
    /// The web player's direct mode (direct-connect.md): `push_server` is the complete socket
    /// URL with its query, to be opened verbatim (add nothing, reorder nothing); `route_params`
    /// is empty; there is no fetch result (no cursor, no `internal_ext`, no history batch). The
    /// client sends `hb`, then `im_enter_room`, heartbeats every 10 s, acks `need_ack` frames,
    /// and treats a `close` push frame (header `close_reason`) as a retryable end.
    Direct,
}

impl ConnectionMode {
    /// `"signed"` or `"direct"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Signed => "signed",
            Self::Direct => "direct",
        }
    }
}

impl SignedConnection {
    /// A connection with no fetch result (what a direct-mode signer or a test double returns).
    pub fn new(room_id: impl Into<String>, push_server: impl Into<String>) -> Self {
        Self {
            room_id: room_id.into(),
            push_server: push_server.into(),
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            ..Self::default()
        }
    }

    /// Sets the cookies (builder style).
    pub fn with_cookies(mut self, cookies: Vec<Cookie>) -> Self {
        self.cookies = cookies;
        self
    }

    /// Sets the route parameters (builder style).
    pub fn with_route_params(mut self, params: BTreeMap<String, String>) -> Self {
        self.route_params = params;
        self
    }

    /// Sets the fetch result (builder style).
    pub fn with_fetch_result(mut self, result: ProtoMessageFetchResult) -> Self {
        self.fetch_result = Some(result);
        self
    }

    /// Sets the user agent (builder style).
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// The `Cookie` header value for the WebSocket upgrade: `a=1; b=2`.
    pub fn cookie_header(&self) -> String {
        let mut out = String::new();
        for cookie in &self.cookies {
            if !out.is_empty() {
                out.push_str("; ");
            }
            out.push_str(&cookie.name);
            out.push('=');
            out.push_str(&cookie.value);
        }
        out
    }

    /// The value of the cookie with this name, if present.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.value.as_str())
    }

    /// The fetch result's `cursor`, if there is a fetch result with one.
    pub fn cursor(&self) -> Option<&str> {
        self.fetch_result
            .as_ref()
            .map(|r| r.cursor.as_str())
            .filter(|c| !c.is_empty())
    }

    /// The fetch result's `internal_ext` (WebSocket parameter and ack payload), if any.
    pub fn internal_ext(&self) -> Option<&str> {
        self.fetch_result
            .as_ref()
            .map(|r| r.internal_ext.as_str())
            .filter(|c| !c.is_empty())
    }
}

/// What the room-id route says about a user.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RoomIdInfo {
    /// The normalised handle that was looked up.
    pub unique_id: String,
    /// The user's current (or last) room id.
    pub room_id: String,
    /// Whether the user is live now.
    pub is_live: bool,
    /// Which lookup routes the server tried (diagnostics).
    pub routes_attempted: Vec<String>,
}

impl RoomIdInfo {
    /// A room-id answer (for test doubles and other signers).
    pub fn new(unique_id: impl Into<String>, room_id: impl Into<String>, is_live: bool) -> Self {
        Self {
            unique_id: unique_id.into(),
            room_id: room_id.into(),
            is_live,
            routes_attempted: Vec::new(),
        }
    }
}

/// Attributes that may follow a cookie pair in a `Set-Cookie`-style string; not cookies.
const COOKIE_ATTRIBUTES: &[&str] = &[
    "path",
    "domain",
    "expires",
    "max-age",
    "secure",
    "httponly",
    "samesite",
    "priority",
    "partitioned",
    "version",
    "comment",
];

/// Parses `X-Set-TT-Cookie` values (`ttwid=abc; tt-target-idc=useast2a; Path=/`) into cookies:
/// all pairs, in order, attributes dropped, one cookie per name (the first), `ttwid` moved first.
pub(crate) fn parse_cookie_header<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<Cookie> {
    let mut cookies: Vec<Cookie> = Vec::new();
    for value in values {
        for part in value.split([';', '\n']) {
            let Some((name, val)) = part.split_once('=') else {
                continue;
            };
            let name = name.trim();
            let val = val.trim().trim_matches('"');
            if name.is_empty()
                || name.len() > 256
                || val.len() > 8192
                || name
                    .chars()
                    .any(|c| c.is_control() || c.is_whitespace() || c == ',')
                || val.chars().any(char::is_control)
                || COOKIE_ATTRIBUTES
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case(name))
                || cookies.iter().any(|c| c.name == name)
            {
                continue;
            }
            cookies.push(Cookie::new(name, val));
        }
    }
    if let Some(pos) = cookies.iter().position(|c| c.name == "ttwid") {
        let ttwid = cookies.remove(pos);
        cookies.insert(0, ttwid);
    }
    cookies
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_keep_all_pairs_ttwid_first() {
        let c = parse_cookie_header(["tt-target-idc=useast2a; ttwid=1%7Cabc; Path=/; HttpOnly"]);
        assert_eq!(
            c,
            vec![
                Cookie::new("ttwid", "1%7Cabc"),
                Cookie::new("tt-target-idc", "useast2a")
            ]
        );
        let c = parse_cookie_header(["a=1", "b=2; a=3", "garbage", ";;", "=x", "c="]);
        let conn = SignedConnection::new("1", "wss://x").with_cookies(c);
        assert_eq!(conn.cookie_header(), "a=1; b=2; c=");
        assert!(parse_cookie_header([""]).is_empty());
    }

    #[test]
    fn session_values_are_redacted_in_debug() {
        let c = Cookie::new("sessionid", "s3cr3t");
        assert!(!format!("{c:?}").contains("s3cr3t"));
        let s = SessionCredentials::new("s3cr3t", "useast2a");
        assert!(!format!("{s:?}").contains("s3cr3t"));
        assert_eq!(
            s.cookie_header(),
            "sessionid=s3cr3t; tt-target-idc=useast2a"
        );
    }
}
