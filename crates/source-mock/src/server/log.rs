//! What clients sent to the fake server, for tests to assert on.

/// One HTTP request, with the headers a test may care about.
///
/// `Debug` (and so the server's debug log) shows the values of the secret-bearing headers
/// (`x-api-key`, `x-jwt-key`, `x-cookie-header`) and the `apiKey` query parameter as
/// `<redacted>`; [`header`](Self::header) and the fields still give them to tests.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpRecord {
    /// `GET`, `POST`…
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The raw query string (no `?`).
    pub query: String,
    /// Headers of interest, lower-case names: `cookie`, `user-agent`, `x-api-key`,
    /// `x-jwt-key`, `x-cookie-header`, `accept`, `upgrade`, `sec-websocket-protocol`.
    pub headers: Vec<(String, String)>,
}

/// Headers whose values are secrets (API keys, TikTok sessions).
const SECRET_HEADERS: &[&str] = &["x-api-key", "x-jwt-key", "x-cookie-header"];

impl std::fmt::Debug for HttpRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| {
                let secret = SECRET_HEADERS.iter().any(|s| k.eq_ignore_ascii_case(s));
                (k.as_str(), if secret { "<redacted>" } else { v.as_str() })
            })
            .collect();
        let query: Vec<String> = super::http::query_pairs(&self.query)
            .into_iter()
            .map(|(k, v)| {
                if k.eq_ignore_ascii_case("apikey") || k.eq_ignore_ascii_case("session_id") {
                    format!("{k}=<redacted>")
                } else {
                    format!("{k}={v}")
                }
            })
            .collect();
        f.debug_struct("HttpRecord")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &query.join("&"))
            .field("headers", &headers)
            .finish()
    }
}

impl HttpRecord {
    /// A header's value (name in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first query parameter with this name, percent-decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        super::http::query_pairs(&self.query)
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secrets() {
        let r = HttpRecord {
            method: "GET".into(),
            path: "/webcast/fetch".into(),
            query: "room_id=1&apiKey=k-secret".into(),
            headers: vec![
                ("x-api-key".into(), "k-secret".into()),
                ("x-cookie-header".into(), "sessionid=s-secret".into()),
                ("user-agent".into(), "ua".into()),
            ],
        };
        let text = format!("{r:?}");
        assert!(!text.contains("secret"), "{text}");
        assert!(text.contains("ua") && text.contains("room_id=1"));
        assert_eq!(r.header("X-Api-Key"), Some("k-secret"));
    }
}

/// Something a client did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientRecord {
    /// An HTTP request (every route, the WebSocket upgrade included).
    Http(HttpRecord),
    /// A WebSocket was accepted (connection number `conn`, counting from 1).
    WsOpen {
        /// Connection number.
        conn: u64,
        /// The frame index the push starts from (from the URL's `cursor`, else 0).
        start_frame: usize,
        /// Whether the client asked for `compress=gzip`.
        gzip: bool,
        /// Whether this is a direct-mode socket (`ws_direct=1`, no sign call needed).
        direct: bool,
    },
    /// A WebSocket upgrade was refused (HTTP 200 without upgrade, `Handshake-Msg`).
    WsRefused {
        /// Whether the request was a direct-mode one (`ws_direct=1`).
        direct: bool,
        /// The `Handshake-Msg` sent.
        message: String,
    },
    /// A `ttwid` cookie was handed out by `GET /`, `GET /live` or
    /// `POST /ttwid/union/register/`.
    TtwidIssued {
        /// The route's path.
        path: String,
        /// The cookie value.
        value: String,
    },
    /// An `im_enter_room` frame.
    EnterRoom {
        /// Connection number.
        conn: u64,
        /// `room_id` of the message.
        room_id: u64,
        /// `enter_unique_id` of the message.
        enter_unique_id: u64,
    },
    /// A heartbeat (`hb`) frame.
    Heartbeat {
        /// Connection number.
        conn: u64,
        /// `room_id` of the `HeartBeatMessage` (0 when the payload was empty).
        room_id: u64,
        /// `send_packet_seq_id` (0 when the payload was empty).
        seq: u64,
    },
    /// An `ack` frame.
    Ack {
        /// Connection number.
        conn: u64,
        /// The frame's `log_id`.
        log_id: u64,
        /// The payload (normally the acked batch's `internal_ext`).
        payload: Vec<u8>,
    },
    /// Another well-formed push frame.
    Frame {
        /// Connection number.
        conn: u64,
        /// Its `payload_type`.
        payload_type: String,
        /// Its size.
        len: usize,
    },
    /// A WebSocket message that is not a push frame (garbage bytes, text).
    Garbage {
        /// Connection number.
        conn: u64,
        /// Its size.
        len: usize,
    },
    /// A WebSocket ping from the client (tolerated and answered).
    Ping {
        /// Connection number.
        conn: u64,
    },
    /// The WebSocket ended.
    WsClosed {
        /// Connection number.
        conn: u64,
        /// `msg` frames pushed on it (fault frames not counted).
        frames_sent: usize,
    },
}

impl ClientRecord {
    /// The HTTP request, if this is one.
    pub fn as_http(&self) -> Option<&HttpRecord> {
        match self {
            ClientRecord::Http(h) => Some(h),
            _ => None,
        }
    }

    /// The WebSocket connection number, for WebSocket records.
    pub fn conn(&self) -> Option<u64> {
        match self {
            ClientRecord::Http(_)
            | ClientRecord::WsRefused { .. }
            | ClientRecord::TtwidIssued { .. } => None,
            ClientRecord::WsOpen { conn, .. }
            | ClientRecord::EnterRoom { conn, .. }
            | ClientRecord::Heartbeat { conn, .. }
            | ClientRecord::Ack { conn, .. }
            | ClientRecord::Frame { conn, .. }
            | ClientRecord::Garbage { conn, .. }
            | ClientRecord::Ping { conn }
            | ClientRecord::WsClosed { conn, .. } => Some(*conn),
        }
    }
}
