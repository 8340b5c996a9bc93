//! Errors, and the one place that decides which are fatal and which are retried.

use std::time::Duration;

use ttlive_eventbus::{SourceError, SourceErrorKind};
use ttlive_signer::SignError;

use crate::input::InvalidTarget;

/// Everything that can go wrong between a username and a stream of events.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TikTokError {
    /// The input is not a user, URL or room id.
    #[error(transparent)]
    InvalidTarget(#[from] InvalidTarget),
    /// TikTok says the user does not exist (or cannot go LIVE).
    #[error("user @{user} not found on TikTok")]
    UserNotFound {
        /// The handle.
        user: String,
    },
    /// The user is not live now (status 4, or not live by the sign server's room-id route).
    #[error("@{user} is not live now{}", room_id.map(|r| format!(" (last room {r})")).unwrap_or_default())]
    Offline {
        /// The handle, or the room id as text.
        user: String,
        /// The room id, when known.
        room_id: Option<u64>,
    },
    /// TikTok answered with a captcha or verification page, or the page had no data: the IP is
    /// probably blocked or rate limited.
    #[error("blocked by TikTok ({detail}); try again later, from another network, or with a proxy")]
    Blocked {
        /// What was seen.
        detail: String,
    },
    /// The stream is age restricted: a logged-in session is needed.
    #[error("the stream is age restricted; pass a session id of a logged-in account to watch it")]
    AgeRestricted,
    /// No route could resolve the room id; every route's failure is kept.
    #[error("could not find the room of @{user}: {}", attempts.join("; "))]
    RoomNotResolved {
        /// The handle.
        user: String,
        /// One line per route tried: `route: what went wrong`.
        attempts: Vec<String>,
    },
    /// The sign server failed.
    #[error("sign server: {0}")]
    Sign(#[from] SignError),
    /// An HTTP request to TikTok failed at the network level.
    #[error("request to {url} failed: {source}")]
    Http {
        /// The URL, without query.
        url: String,
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
    /// TikTok answered an HTTP request with an error status.
    #[error("{url} answered HTTP {status}: {body}")]
    HttpStatus {
        /// The URL, without query.
        url: String,
        /// The status code.
        status: u16,
        /// The start of the body.
        body: String,
        /// `Retry-After`, when sent.
        retry_after: Option<Duration>,
    },
    /// A web endpoint answered something that is not what it should be (bad JSON, missing
    /// fields).
    #[error("unexpected answer from {what}: {detail}")]
    BadResponse {
        /// Which endpoint.
        what: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// The WebSocket upgrade was answered with an HTTP status instead of `101` (TikTok answers
    /// `200` with a `Handshake-Msg` header when it refuses the connection).
    #[error("WebSocket refused with HTTP {status}{}", handshake_msg.as_ref().map(|m| format!(": {m}")).unwrap_or_default())]
    Rejected {
        /// The HTTP status of the refusal.
        status: u16,
        /// The `Handshake-Msg` header, TikTok's reason.
        handshake_msg: Option<String>,
        /// The `Handshake-Status` header, when sent.
        handshake_status: Option<String>,
    },
    /// The WebSocket failed.
    #[error("WebSocket: {0}")]
    WebSocket(#[from] tokio_tungstenite::tungstenite::Error),
    /// Connecting (TCP, TLS or proxy) failed.
    #[error("connect to {target}: {detail}")]
    Connect {
        /// host:port.
        target: String,
        /// What failed.
        detail: String,
    },
    /// A timeout.
    #[error("timed out: {0}")]
    Timeout(&'static str),
    /// No frame arrived for too long: the connection is a zombie.
    #[error("no frame for {0:?}: connection stalled")]
    Stalled(Duration),
    /// The server closed the socket.
    #[error("socket closed by the server{}", match (code, reason.is_empty()) { (Some(c), true) => format!(" (code {c})"), (Some(c), false) => format!(" (code {c}: {reason})"), (None, false) => format!(" ({reason})"), (None, true) => String::new() })]
    Closed {
        /// Close code.
        code: Option<u16>,
        /// Close reason.
        reason: String,
    },
    /// The sign result or a frame lacked something the protocol needs.
    #[error("protocol: {0}")]
    Protocol(String),
    /// Configuration error (bad proxy URL, bad base URL).
    #[error("configuration: {0}")]
    Config(String),
    /// The attempt limit was reached; the last error is kept.
    #[error("gave up after {attempts} attempts; last error: {last}")]
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        #[source]
        last: Box<TikTokError>,
    },
}

/// What to do after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Stop: retrying cannot help.
    Fatal,
    /// Retry, no sooner than the given delay when one is known (`Retry-After`).
    After(Option<Duration>),
}

impl TikTokError {
    /// The one place that decides: auth failures, unknown users, offline users, bad input and
    /// configuration are fatal; network drops, stalls, refusals, 5xx and 429 are retried
    /// (honouring `Retry-After`).
    pub fn retry(&self) -> Retry {
        use TikTokError as E;
        match self {
            E::InvalidTarget(_)
            | E::UserNotFound { .. }
            | E::Offline { .. }
            | E::AgeRestricted
            | E::Config(_)
            | E::GaveUp { .. } => Retry::Fatal,
            E::Sign(e) if !e.is_retryable() => Retry::Fatal,
            E::Sign(e) => Retry::After(e.retry_after()),
            E::HttpStatus {
                status,
                retry_after,
                ..
            } => match status {
                401 | 403 | 404 => Retry::Fatal,
                _ => Retry::After(*retry_after),
            },
            E::RoomNotResolved { .. }
            | E::Blocked { .. }
            | E::Http { .. }
            | E::BadResponse { .. }
            | E::Rejected { .. }
            | E::WebSocket(_)
            | E::Connect { .. }
            | E::Timeout(_)
            | E::Stalled(_)
            | E::Closed { .. }
            | E::Protocol(_) => Retry::After(None),
        }
    }

    /// True when retrying cannot help.
    pub fn is_fatal(&self) -> bool {
        self.retry() == Retry::Fatal
    }

    /// The event-source error kind for this failure.
    pub fn source_kind(&self) -> SourceErrorKind {
        use TikTokError as E;
        match self {
            E::InvalidTarget(_) | E::Config(_) => SourceErrorKind::Config,
            E::UserNotFound { .. } | E::Offline { .. } | E::RoomNotResolved { .. } => {
                SourceErrorKind::NotFound
            }
            E::AgeRestricted => SourceErrorKind::Auth,
            E::Sign(e) => match (e.is_fatal(), e.retry_after()) {
                (true, _) => SourceErrorKind::Auth,
                (false, Some(d)) => SourceErrorKind::RateLimited {
                    retry_after: Some(d),
                },
                (false, None) => SourceErrorKind::Network,
            },
            E::HttpStatus {
                status: 429,
                retry_after,
                ..
            } => SourceErrorKind::RateLimited {
                retry_after: *retry_after,
            },
            E::Timeout(_) | E::Stalled(_) => SourceErrorKind::Timeout,
            // Refusals are retried (a fresh sign, another ttwid), so not `Auth` ("retrying
            // will not help"): they are the protocol answering no.
            E::Rejected { .. } | E::Blocked { .. } => SourceErrorKind::Protocol,
            E::Protocol(_) | E::BadResponse { .. } => SourceErrorKind::Protocol,
            E::GaveUp { last, .. } => last.source_kind(),
            _ => SourceErrorKind::Network,
        }
    }

    /// As an event-source error (the message is this error's text; it never holds secrets).
    pub fn to_source_error(&self) -> SourceError {
        SourceError::new(self.source_kind(), self.to_string())
    }
}

impl From<TikTokError> for SourceError {
    fn from(e: TikTokError) -> Self {
        let kind = e.source_kind();
        SourceError::new(kind, e.to_string()).with_source(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        assert!(TikTokError::UserNotFound { user: "x".into() }.is_fatal());
        assert!(TikTokError::AgeRestricted.is_fatal());
        assert_eq!(
            TikTokError::Stalled(Duration::from_secs(30)).retry(),
            Retry::After(None)
        );
        assert_eq!(
            TikTokError::HttpStatus {
                url: "u".into(),
                status: 429,
                body: String::new(),
                retry_after: Some(Duration::from_secs(7))
            }
            .retry(),
            Retry::After(Some(Duration::from_secs(7)))
        );
        assert!(
            !TikTokError::Rejected {
                status: 200,
                handshake_msg: Some("DEVICE_BLOCKED".into()),
                handshake_status: None,
            }
            .is_fatal()
        );
        let msg = TikTokError::Closed {
            code: Some(1000),
            reason: "payload_handler_hb".into(),
        }
        .to_string();
        assert!(
            msg.contains("1000") && msg.contains("payload_handler_hb"),
            "{msg}"
        );
    }
}
