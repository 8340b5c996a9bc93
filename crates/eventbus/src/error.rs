//! Errors: what a source reports ([`SourceError`], [`SourceErrorKind`]) and what the bus reports
//! ([`BusError`], [`Lagged`]).

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// The cause of a [`SourceError`], shared so the error can be cloned (a source repeats its final
/// [`SourceEnd`](crate::SourceEnd) on every later `next()` call, and the bus keeps it in stats).
pub type BoxError = Arc<dyn StdError + Send + Sync + 'static>;

/// What went wrong in a source, and therefore what to do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SourceErrorKind {
    /// A message could not be decoded; the source skipped it and goes on.
    Decode,
    /// The network failed (connect, read, write, TLS, DNS, 5xx). Retry with backoff.
    Network,
    /// Nothing arrived for too long (a zombie connection, a slow server). Retry.
    Timeout,
    /// The server asked us to slow down (HTTP 429, sign server quota). Retry after the delay,
    /// when the server gave one.
    RateLimited {
        /// How long the server asked us to wait (`Retry-After`).
        retry_after: Option<Duration>,
    },
    /// Credentials were refused (API key, session cookie). Retrying will not help.
    Auth,
    /// The peer broke the protocol (unexpected frame, missing field). Not retried as such.
    Protocol,
    /// The user or the room does not exist, or the user is not live.
    NotFound,
    /// A local I/O failure (a recording file).
    Io,
    /// The source was misconfigured (bad URL, bad option).
    Config,
    /// Anything else.
    Other,
}

impl SourceErrorKind {
    /// True when trying the same operation again later may succeed (network, timeout, rate
    /// limit). Auth failures, configuration errors and missing rooms are not retryable; decode
    /// and protocol errors concern one message and retrying it would give the same result.
    pub const fn is_retryable(self) -> bool {
        matches!(
            self,
            SourceErrorKind::Network
                | SourceErrorKind::Timeout
                | SourceErrorKind::RateLimited { .. }
        )
    }

    /// A short lowercase name (`decode`, `network`, `rate_limited`…) for logs and stats.
    pub const fn name(self) -> &'static str {
        match self {
            SourceErrorKind::Decode => "decode",
            SourceErrorKind::Network => "network",
            SourceErrorKind::Timeout => "timeout",
            SourceErrorKind::RateLimited { .. } => "rate_limited",
            SourceErrorKind::Auth => "auth",
            SourceErrorKind::Protocol => "protocol",
            SourceErrorKind::NotFound => "not_found",
            SourceErrorKind::Io => "io",
            SourceErrorKind::Config => "config",
            SourceErrorKind::Other => "other",
        }
    }
}

impl fmt::Display for SourceErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceErrorKind::RateLimited {
                retry_after: Some(d),
            } => write!(f, "rate_limited (retry after {} ms)", d.as_millis()),
            other => f.write_str(other.name()),
        }
    }
}

/// An error reported by an [`EventSource`](crate::EventSource).
///
/// As a [`SourceItem::Error`](crate::SourceItem::Error) it is recoverable: the source goes on.
/// Inside [`SourceEnd::Fatal`](crate::SourceEnd::Fatal) it ended the source. The [`kind`] says
/// what to do; the cause is chained ([`std::error::Error::source`]).
///
/// [`kind`]: SourceError::kind
#[derive(Clone)]
pub struct SourceError {
    kind: SourceErrorKind,
    message: String,
    source: Option<BoxError>,
}

impl SourceError {
    /// A new error of `kind` with a human message.
    pub fn new(kind: SourceErrorKind, message: impl Into<String>) -> Self {
        SourceError {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// Chains the underlying cause.
    pub fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// Chains an already boxed or shared cause.
    pub fn with_boxed_source(mut self, source: BoxError) -> Self {
        self.source = Some(source);
        self
    }

    /// A [`SourceErrorKind::Decode`] error.
    pub fn decode(message: impl Into<String>) -> Self {
        Self::new(SourceErrorKind::Decode, message)
    }

    /// A [`SourceErrorKind::Network`] error.
    pub fn network(message: impl Into<String>) -> Self {
        Self::new(SourceErrorKind::Network, message)
    }

    /// A [`SourceErrorKind::Protocol`] error.
    pub fn protocol(message: impl Into<String>) -> Self {
        Self::new(SourceErrorKind::Protocol, message)
    }

    /// A [`SourceErrorKind::Auth`] error.
    pub fn auth(message: impl Into<String>) -> Self {
        Self::new(SourceErrorKind::Auth, message)
    }

    /// A [`SourceErrorKind::RateLimited`] error.
    pub fn rate_limited(retry_after: Option<Duration>, message: impl Into<String>) -> Self {
        Self::new(SourceErrorKind::RateLimited { retry_after }, message)
    }

    /// A [`SourceErrorKind::Other`] error.
    pub fn other(message: impl Into<String>) -> Self {
        Self::new(SourceErrorKind::Other, message)
    }

    /// What went wrong.
    pub fn kind(&self) -> SourceErrorKind {
        self.kind
    }

    /// The human message (without the cause).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// See [`SourceErrorKind::is_retryable`].
    pub fn retryable(&self) -> bool {
        self.kind.is_retryable()
    }

    /// The delay a rate limit asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self.kind {
            SourceErrorKind::RateLimited { retry_after } => retry_after,
            _ => None,
        }
    }

    /// The shared cause, if any.
    pub fn cause(&self) -> Option<&BoxError> {
        self.source.as_ref()
    }
}

impl fmt::Debug for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("SourceError");
        d.field("kind", &self.kind).field("message", &self.message);
        if let Some(s) = &self.source {
            d.field("source", &format_args!("{s}"));
        }
        d.finish()
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} error: {}", self.kind, self.message)
    }
}

impl StdError for SourceError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

/// Two errors are equal when kind and message are; causes are not compared.
impl PartialEq for SourceError {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.message == other.message
    }
}

impl Eq for SourceError {}

/// A subscriber fell behind: this many events meant for it were dropped (the oldest ones in its
/// queue) since it last heard. The subscription goes on with the newer events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("subscriber lagged: {0} events dropped")]
pub struct Lagged(pub u64);

/// What the bus refuses to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum BusError {
    /// The bus was closed ([`EventBus::close`](crate::EventBus::close) was called).
    #[error("the event bus is closed")]
    Closed,
    /// `attach` was called outside a tokio runtime, so no task could be spawned.
    #[error("no tokio runtime to spawn the source's task on")]
    NoRuntime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_say_what_to_do() {
        assert!(SourceError::network("x").retryable());
        assert!(SourceError::rate_limited(None, "x").retryable());
        assert!(!SourceError::auth("x").retryable());
        assert!(!SourceError::decode("x").retryable());
        let e = SourceError::rate_limited(Some(Duration::from_secs(3)), "slow down");
        assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
        assert_eq!(
            e.to_string(),
            "rate_limited (retry after 3000 ms) error: slow down"
        );
    }

    #[test]
    fn cause_is_chained_and_clone_keeps_it() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer");
        let e = SourceError::network("read failed").with_source(io);
        let c = e.clone();
        assert_eq!(c, e);
        let cause = StdError::source(&c).expect("cause");
        assert_eq!(cause.to_string(), "reset by peer");
        assert!(format!("{c:?}").contains("reset by peer"));
    }
}
