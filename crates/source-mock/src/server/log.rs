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
    /// `x-jwt-key`, `x-cookie-header`, `accept`, `upgrade`, `sec-websocket-protocol`,
    /// `origin`, `content-type`, `referer`, `host`.
    pub headers: Vec<(String, String)>,
    /// Whether any of the above was cut to fit the per-record caps ([`MAX_HEADER_VALUE`],
    /// [`MAX_QUERY`], [`MAX_PATH`]); a cut value ends with `…`.
    pub truncated: bool,
}

/// The longest header value an [`HttpRecord`] keeps (bytes); longer ones are cut.
pub const MAX_HEADER_VALUE: usize = 4096;
/// The longest query an [`HttpRecord`] keeps (bytes).
pub const MAX_QUERY: usize = 16 * 1024;
/// The longest path an [`HttpRecord`] keeps (bytes).
pub const MAX_PATH: usize = 2048;
/// The most payload bytes an [`ClientRecord::Ack`] keeps.
pub const MAX_ACK_PAYLOAD: usize = 4096;

/// `s` cut to at most `max` bytes (at a character boundary, then `…`); true when cut.
pub(crate) fn cap(s: &str, max: usize) -> (String, bool) {
    if s.len() <= max {
        return (s.to_owned(), false);
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    (format!("{}…", &s[..end]), true)
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
            truncated: false,
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
        /// The payload (normally the acked batch's `internal_ext`), at most
        /// [`MAX_ACK_PAYLOAD`] bytes of it.
        payload: Vec<u8>,
        /// The payload's whole size.
        len: usize,
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
    /// A WebSocket ping from the client (tolerated and answered). Only the first
    /// [`PINGS_LOGGED_PER_CONN`] of a connection are logged; [`ClientRecord::WsClosed`] counts
    /// them all.
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
        /// WebSocket pings the client sent on it.
        pings: u64,
        /// Why the server side ended (`client closed`, `idle timeout`, `ping flood`, …).
        reason: String,
    },
}

/// Pings of one connection that the log keeps as [`ClientRecord::Ping`].
pub const PINGS_LOGGED_PER_CONN: u64 = 8;

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

impl ClientRecord {
    /// About how many bytes the record holds (for the log's byte budget).
    fn weight(&self) -> usize {
        let base = std::mem::size_of::<ClientRecord>();
        base + match self {
            ClientRecord::Http(h) => {
                h.method.len()
                    + h.path.len()
                    + h.query.len()
                    + h.headers
                        .iter()
                        .map(|(k, v)| k.len() + v.len() + 48)
                        .sum::<usize>()
            }
            ClientRecord::WsRefused { message, .. } => message.len(),
            ClientRecord::TtwidIssued { path, value } => path.len() + value.len(),
            ClientRecord::Ack { payload, .. } => payload.len(),
            ClientRecord::Frame { payload_type, .. } => payload_type.len(),
            ClientRecord::WsClosed { reason, .. } => reason.len(),
            _ => 0,
        }
    }

    /// A short name of the record's kind (`http`, `ack`, `hb`…), as counted in [`LogStats`].
    pub fn kind(&self) -> &'static str {
        match self {
            ClientRecord::Http(_) => "http",
            ClientRecord::WsOpen { .. } => "ws_open",
            ClientRecord::WsRefused { .. } => "ws_refused",
            ClientRecord::TtwidIssued { .. } => "ttwid_issued",
            ClientRecord::EnterRoom { .. } => "im_enter_room",
            ClientRecord::Heartbeat { .. } => "hb",
            ClientRecord::Ack { .. } => "ack",
            ClientRecord::Frame { .. } => "frame",
            ClientRecord::Garbage { .. } => "garbage",
            ClientRecord::Ping { .. } => "ping",
            ClientRecord::WsClosed { .. } => "ws_closed",
        }
    }
}

/// What the client log holds and what it let go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogStats {
    /// Records held now.
    pub held: usize,
    /// About how many bytes they hold.
    pub held_bytes: usize,
    /// Records ever logged (held and dropped).
    pub logged: u64,
    /// Records dropped to stay within the caps (oldest first), by kind.
    pub dropped: std::collections::BTreeMap<&'static str, u64>,
    /// The caps: records and bytes.
    pub capacity: (usize, usize),
}

impl LogStats {
    /// Records dropped, of every kind.
    pub fn dropped_total(&self) -> u64 {
        self.dropped.values().sum()
    }
}

/// The client log: a ring of the newest records, within a record count and a byte budget.
#[derive(Debug)]
pub(crate) struct ClientLog {
    records: std::collections::VecDeque<(ClientRecord, usize)>,
    bytes: usize,
    max_records: usize,
    max_bytes: usize,
    logged: u64,
    dropped: std::collections::BTreeMap<&'static str, u64>,
}

impl ClientLog {
    pub(crate) fn new(max_records: usize, max_bytes: usize) -> ClientLog {
        ClientLog {
            records: std::collections::VecDeque::new(),
            bytes: 0,
            max_records: max_records.max(1),
            max_bytes,
            logged: 0,
            dropped: std::collections::BTreeMap::new(),
        }
    }

    pub(crate) fn push(&mut self, rec: ClientRecord) {
        let w = rec.weight();
        self.logged += 1;
        self.records.push_back((rec, w));
        self.bytes += w;
        while self.records.len() > self.max_records
            || (self.bytes > self.max_bytes && self.records.len() > 1)
        {
            let Some((old, w)) = self.records.pop_front() else {
                break;
            };
            self.bytes -= w;
            *self.dropped.entry(old.kind()).or_default() += 1;
        }
    }

    pub(crate) fn snapshot(&self) -> Vec<ClientRecord> {
        self.records.iter().map(|(r, _)| r.clone()).collect()
    }

    pub(crate) fn clear(&mut self) {
        self.records.clear();
        self.bytes = 0;
    }

    pub(crate) fn stats(&self) -> LogStats {
        LogStats {
            held: self.records.len(),
            held_bytes: self.bytes,
            logged: self.logged,
            dropped: self.dropped.clone(),
            capacity: (self.max_records, self.max_bytes),
        }
    }
}

#[cfg(test)]
mod ring_tests {
    use super::*;

    #[test]
    fn the_ring_keeps_the_newest_within_both_caps_and_counts_the_rest() {
        let mut log = ClientLog::new(100, 1_000_000);
        for conn in 0..250 {
            log.push(ClientRecord::Ping { conn });
        }
        let s = log.stats();
        assert_eq!((s.held, s.logged, s.dropped_total()), (100, 250, 150));
        assert_eq!(s.dropped["ping"], 150);
        assert_eq!(log.snapshot()[0], ClientRecord::Ping { conn: 150 });

        let mut log = ClientLog::new(1000, 20_000);
        for conn in 0..100 {
            log.push(ClientRecord::Ack {
                conn,
                log_id: 1,
                payload: vec![0; 1000],
                len: 1000,
            });
        }
        let s = log.stats();
        assert!(s.held_bytes <= 20_000 && s.held < 20, "{s:?}");
        assert_eq!(s.held as u64 + s.dropped_total(), 100);
    }

    #[test]
    fn cap_cuts_at_a_char_boundary() {
        assert_eq!(cap("short", 10), ("short".to_owned(), false));
        let (cut, was) = cap("ééééé", 3);
        assert!(was && cut == "é…", "{cut}");
    }
}
