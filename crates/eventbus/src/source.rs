//! The [`EventSource`] trait: anything that yields [`Event`]s (a live room, a recording, a mock).
//!
//! See [`EventSource`] for the full description.

use std::fmt;

use async_trait::async_trait;

use crate::error::SourceError;
use crate::event::Event;

/// Something that yields events (a live room, a recording, a mock).
///
/// # Contract
///
/// A source is *pulled*: its consumer (usually the [`EventBus`](crate::EventBus), which drives
/// each attached source in its own task) calls [`EventSource::next`] in a loop. Each call
/// resolves to one [`SourceItem`]:
///
/// - [`SourceItem::Event`]: an event, in the order the source received it. Connection
///   lifecycle (connected, disconnected, reconnecting, gap) travels as events too.
/// - [`SourceItem::Error`]: a *recoverable* error (one message failed to decode, a reconnect
///   attempt failed). The source goes on; the bus counts it and logs it.
/// - [`SourceItem::End`]: the source is finished, and says why ([`SourceEnd`]). It is
///   reported once, and every later `next()` call returns the same end again, at once, without
///   blocking and without ever yielding an event or an error after it.
///
/// # Cancellation
///
/// The bus drives `next()` inside `select!` with a stop signal, so the future returned by
/// `next()` may be dropped before it completes. The rule this crate chooses:
///
/// - **Required of every source:** dropping a pending `next()` future, and then dropping the
///   source, is safe: no panic, no task or socket left behind, no shared state left corrupt.
///   The bus only ever cancels `next()` when it is stopping the source, and it drops the
///   source right after, so an item that was half produced may simply be lost.
/// - **Optional (cancel-safe sources):** a source may also promise that a dropped `next()`
///   loses nothing, so a caller can `select!` on it in a loop and keep using it (like
///   `tokio::sync::mpsc::Receiver::recv`). [`ScriptedSource`](crate::ScriptedSource) does;
///   sources that do should say so, and can prove it with
///   [`Conformance::cancel_safe`](crate::conformance::Conformance::cancel_safe).
///
/// # Live sources and socket liveness
///
/// A live source must answer heartbeats and acks whatever the pace at which `next()` is
/// called: its consumer may be slow (a lossless subscriber applies backpressure to the task
/// that calls `next()`, see the [`bus`](crate::EventBus) docs). So a socket-backed source keeps
/// its I/O in its own task and hands decoded events to `next()` through a queue; `next()` is
/// delivery only.
///
/// Run the [`conformance`](crate::conformance) suite on every implementation.
///
/// # Mocking
///
/// The trait is object safe and written with `async_trait`, so `mockall::mock!` works in any
/// crate's tests:
///
/// ```ignore
/// mockall::mock! {
///     pub Source {}
///     #[async_trait::async_trait]
///     impl ttlive_eventbus::EventSource for Source {
///         async fn next(&mut self) -> ttlive_eventbus::SourceItem;
///         fn describe(&self) -> ttlive_eventbus::SourceInfo;
///     }
/// }
/// ```
#[async_trait]
pub trait EventSource: Send + 'static {
    /// The next item. After an [`SourceItem::End`] the source is finished, and every later
    /// call returns the same end again, immediately.
    ///
    /// Dropping the returned future before it completes must be safe (see the trait docs on
    /// cancellation).
    async fn next(&mut self) -> SourceItem;

    /// A name and room for logs and statistics. Called once, when the source is attached.
    fn describe(&self) -> SourceInfo {
        SourceInfo::new(std::any::type_name::<Self>())
    }
}

#[async_trait]
impl<S: EventSource + ?Sized> EventSource for Box<S> {
    async fn next(&mut self) -> SourceItem {
        (**self).next().await
    }

    fn describe(&self) -> SourceInfo {
        (**self).describe()
    }
}

/// One result of [`EventSource::next`].
///
/// The event is held inline, not boxed: it is by far the common item, and the bus moves it
/// into an `Arc` right away, so a box would only add an allocation per event.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)]
pub enum SourceItem {
    /// An event.
    Event(Event),
    /// A recoverable error: the source goes on.
    Error(SourceError),
    /// The source is finished; later calls return the same end.
    End(SourceEnd),
}

impl SourceItem {
    /// The event, if this is one.
    pub fn into_event(self) -> Option<Event> {
        match self {
            SourceItem::Event(e) => Some(e),
            _ => None,
        }
    }

    /// True for [`SourceItem::End`].
    pub fn is_end(&self) -> bool {
        matches!(self, SourceItem::End(_))
    }
}

impl From<Event> for SourceItem {
    fn from(e: Event) -> Self {
        SourceItem::Event(e)
    }
}

impl From<SourceError> for SourceItem {
    fn from(e: SourceError) -> Self {
        SourceItem::Error(e)
    }
}

impl From<SourceEnd> for SourceItem {
    fn from(e: SourceEnd) -> Self {
        SourceItem::End(e)
    }
}

/// Why a source finished.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SourceEnd {
    /// The source ran out of events normally (a replay reached the end of its recording, a
    /// script ran out).
    Finished,
    /// The live stream ended (the host stopped, the room closed).
    StreamEnded,
    /// A fatal error ended the source (auth refused, room not found, retries exhausted).
    Fatal(SourceError),
    /// The consumer stopped the source before it ended by itself
    /// ([`SourceHandle::stop`](crate::SourceHandle::stop), [`EventBus::close`](crate::EventBus::close),
    /// the bus dropped). Only the bus reports this; sources never return it themselves.
    Stopped,
}

impl SourceEnd {
    /// True for [`SourceEnd::Fatal`].
    pub fn is_fatal(&self) -> bool {
        matches!(self, SourceEnd::Fatal(_))
    }

    /// A short name: `finished`, `stream_ended`, `fatal`, `stopped`.
    pub fn name(&self) -> &'static str {
        match self {
            SourceEnd::Finished => "finished",
            SourceEnd::StreamEnded => "stream_ended",
            SourceEnd::Fatal(_) => "fatal",
            SourceEnd::Stopped => "stopped",
        }
    }
}

impl fmt::Display for SourceEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceEnd::Fatal(e) => write!(f, "fatal: {e}"),
            other => f.write_str(other.name()),
        }
    }
}

/// How a source describes itself, for logs and [`BusStats`](crate::BusStats).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SourceInfo {
    /// A human name (`tiktok:@someone`, `replay:session.ttlr`, `scripted`).
    pub name: String,
    /// The room the source reads, when it reads exactly one and knows it.
    pub room_id: Option<u64>,
}

impl SourceInfo {
    /// A description with a name and no room.
    pub fn new(name: impl Into<String>) -> Self {
        SourceInfo {
            name: name.into(),
            room_id: None,
        }
    }

    /// Sets the room.
    pub fn with_room(mut self, room_id: u64) -> Self {
        self.room_id = Some(room_id);
        self
    }
}

impl fmt::Display for SourceInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.room_id {
            Some(room) => write!(f, "{} (room {room})", self.name),
            None => f.write_str(&self.name),
        }
    }
}
