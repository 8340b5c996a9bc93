//! The live feed: one fan-out hub that numbers events and keeps a bounded resume ring, read by
//! WebSocket clients ([`ws`]: `GET /ws`), server-sent-events clients ([`sse`]: `GET /events`)
//! and the overlay pages.
//!
//! # Sequence numbers
//!
//! Each event gets an id when the hub takes it from the bus: the time in microseconds since
//! the Unix epoch, made strictly increasing (`max(previous + 1, now)`). Ids therefore grow
//! across restarts of the process too, so a client that resumes with an id from before a
//! restart is never mistaken for one from the future, and an id tells roughly when the hub saw
//! the event (which is how a resume older than the ring finds its place in the archive).
//!
//! # Resuming
//!
//! An SSE client that reconnects with `Last-Event-ID: N` first gets the events after `N` that
//! are still in the ring (exactly once each), then the live stream. When `N` is older than
//! the ring and an archive is attached ([`FeedHubBuilder::resume_from`]), the events the
//! archive received since `N`'s time come first (at least once: the millisecond of `N` itself
//! may be repeated); without an archive, a `gap` event says that events were missed.
//!
//! # Slow clients
//!
//! Every client reads the hub through a bounded buffer ([`FeedConfig::client_buffer`]). A
//! WebSocket client that falls that far behind is closed with code
//! [`CLOSE_TOO_SLOW`](ws::CLOSE_TOO_SLOW); an SSE stream is ended, and the client's own
//! reconnect resumes it from the ring. No client ever slows the hub, the bus or another client.

pub mod sse;
pub mod ws;

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::extract::ws::Utf8Bytes;
use axum::routing::get;
use tokio::sync::{broadcast, watch};
use ttlive_eventbus::{Event, EventBus, EventMeta, Filter, GapEvent, SubscribeOptions};

use crate::clock;
use crate::config::FeedConfig;
use crate::instrument;
use crate::select::{RoomDirectory, Rooms};

/// An event as the feed sends it: its id, the event, and its JSON (serialized once for every
/// client).
#[derive(Debug)]
pub struct FeedItem {
    seq: u64,
    event: Arc<Event>,
    json: Utf8Bytes,
}

impl FeedItem {
    /// The feed id (SSE `id:`).
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The event.
    pub fn event(&self) -> &Arc<Event> {
        &self.event
    }

    /// The event's JSON, as `watch --json` prints it.
    pub fn json(&self) -> &str {
        self.json.as_str()
    }
}

/// An event read back from an archive for a resume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivedEvent {
    /// The archive's own row id (increasing in the order the archive received events).
    pub row: i64,
    /// When the archive received it, ms since the epoch.
    pub received_at: i64,
    /// The room.
    pub room_id: u64,
    /// TikTok's message id.
    pub msg_id: u64,
    /// The event type name (JSON `type`), possibly one this build does not know.
    pub kind: String,
    /// The event's JSON.
    pub json: String,
}

/// Where a resume older than the ring finds its events: an archive that stamps each event
/// with the time it received it.
pub trait ResumeStore: Send + Sync + 'static {
    /// Up to `limit` events received at or after `since_ms` with a row id above `after_row`,
    /// in row order. Called from a blocking thread.
    fn events_since(
        &self,
        since_ms: i64,
        after_row: i64,
        limit: usize,
    ) -> Result<Vec<ArchivedEvent>, crate::error::ArchiveError>;
}

struct Ring {
    items: VecDeque<Arc<FeedItem>>,
    /// Ids up to this one are no longer (or were never) in the ring: the newest evicted id,
    /// or the hub's start time while nothing was evicted (ids before it are from an earlier
    /// process).
    evicted: u64,
    last_seq: u64,
}

struct Hub {
    cfg: FeedConfig,
    ring: Mutex<Ring>,
    tx: broadcast::Sender<Arc<FeedItem>>,
    rooms: Rooms,
    clients: AtomicUsize,
    resume: Option<Arc<dyn ResumeStore>>,
    closed: watch::Sender<bool>,
}

/// The fan-out hub behind the feed routes. Cheap to clone.
#[derive(Clone)]
pub struct FeedHub {
    hub: Arc<Hub>,
}

impl fmt::Debug for FeedHub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FeedHub")
            .field("clients", &self.clients())
            .field("last_seq", &self.last_seq())
            .finish_non_exhaustive()
    }
}

/// Options of a [`FeedHub`] beyond its [`FeedConfig`].
#[derive(Default)]
pub struct FeedHubBuilder {
    cfg: FeedConfig,
    directory: Option<Arc<dyn RoomDirectory>>,
    resume: Option<Arc<dyn ResumeStore>>,
}

impl fmt::Debug for FeedHubBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FeedHubBuilder")
            .field("cfg", &self.cfg)
            .field("directory", &self.directory.is_some())
            .field("resume", &self.resume.is_some())
            .finish()
    }
}

impl FeedHubBuilder {
    /// The configuration.
    pub fn config(mut self, cfg: FeedConfig) -> Self {
        self.cfg = cfg;
        self
    }

    /// Where `?rooms=@handle` looks up handles not yet learnt from a `connected` event.
    pub fn directory(mut self, directory: Arc<dyn RoomDirectory>) -> Self {
        self.directory = Some(directory);
        self
    }

    /// Resumes older than the ring are served from this archive.
    pub fn resume_from(mut self, store: Arc<dyn ResumeStore>) -> Self {
        self.resume = Some(store);
        self
    }

    /// Subscribes to `bus` (losslessly: the hub never waits on a client, so it never holds
    /// the bus back) and starts the hub's task. It runs until the bus closes.
    pub fn start(self, bus: &EventBus) -> FeedHub {
        let (tx, _) = broadcast::channel(self.cfg.client_buffer.max(1));
        let hub = Arc::new(Hub {
            ring: Mutex::new(Ring {
                items: VecDeque::with_capacity(self.cfg.ring.min(1 << 16)),
                evicted: clock::now_us(),
                last_seq: 0,
            }),
            tx,
            rooms: match self.directory {
                Some(d) => Rooms::with_directory(d),
                None => Rooms::new(),
            },
            clients: AtomicUsize::new(0),
            resume: self.resume,
            closed: watch::Sender::new(false),
            cfg: self.cfg,
        });
        let mut sub = bus.subscribe_with(
            Filter::all(),
            SubscribeOptions::new()
                .lossless(true)
                .capacity(1024)
                .name("output:feed"),
        );
        let task_hub = Arc::clone(&hub);
        tokio::spawn(async move {
            while let Some(item) = sub.recv().await {
                match item {
                    Ok(ev) => task_hub.publish(ev),
                    Err(lagged) => task_hub.publish(Arc::new(gap_event(
                        lagged.0,
                        "the feed fell behind the bus",
                    ))),
                }
            }
            task_hub.closed.send_replace(true);
        });
        FeedHub { hub }
    }
}

/// A `gap` event made by an output (room 0: not one room's).
pub(crate) fn gap_event(missed: u64, reason: &str) -> Event {
    Event::Gap(GapEvent {
        meta: EventMeta {
            create_time: clock::now_ms(),
            ..EventMeta::default()
        },
        reason: reason.to_owned(),
        missed: (missed > 0).then_some(missed),
    })
}

fn lock(ring: &Mutex<Ring>) -> MutexGuard<'_, Ring> {
    crate::lock(ring)
}

impl Hub {
    fn publish(&self, event: Arc<Event>) {
        self.rooms.observe(&event);
        let json = match serde_json::to_string(&*event) {
            Ok(j) => j,
            Err(e) => {
                tracing::warn!(error = %e, kind = %event.kind(), "feed: event not serializable");
                return;
            }
        };
        let mut ring = lock(&self.ring);
        let seq = clock::now_us().max(ring.last_seq + 1);
        ring.last_seq = seq;
        let item = Arc::new(FeedItem {
            seq,
            event,
            json: Utf8Bytes::from(json),
        });
        ring.items.push_back(Arc::clone(&item));
        if ring.items.len() > self.cfg.ring.max(1) {
            if let Some(old) = ring.items.pop_front() {
                ring.evicted = old.seq;
            }
        }
        // Sent under the ring lock, so a client attaching sees each event either in its
        // backlog or on its receiver, never in neither.
        let _ = self.tx.send(item);
        drop(ring);
        instrument::events_out("feed", 1);
    }
}

/// What a client missed before attaching.
pub(crate) enum Missed {
    /// Nothing (or no resume asked for).
    Nothing,
    /// Events after the resume point left the ring: read them from the archive since then.
    Archive {
        since_ms: i64,
        store: Arc<dyn ResumeStore>,
    },
    /// Events after the resume point left the ring and there is no archive.
    Lost,
}

/// A client's start: the backlog from the ring, what it missed, and the live receiver.
pub(crate) struct Attach {
    pub(crate) backlog: Vec<Arc<FeedItem>>,
    pub(crate) missed: Missed,
    pub(crate) rx: broadcast::Receiver<Arc<FeedItem>>,
}

/// A client's place among the `max_clients`; released on drop.
pub(crate) struct ClientSlot {
    hub: Arc<Hub>,
    transport: &'static str,
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        self.hub.clients.fetch_sub(1, Ordering::Relaxed);
        instrument::feed_clients(self.transport, -1.0);
    }
}

impl FeedHub {
    /// A hub with default options; see [`FeedHubBuilder`].
    pub fn builder() -> FeedHubBuilder {
        FeedHubBuilder::default()
    }

    /// A hub with this configuration, started on `bus`.
    pub fn start(bus: &EventBus, cfg: FeedConfig) -> FeedHub {
        FeedHub::builder().config(cfg).start(bus)
    }

    /// The routes `GET /ws`, `GET /events`, `GET /overlay/chat` and `GET /overlay/gifts`,
    /// ready to be merged into an application's router (which adds its own authentication).
    pub fn router(&self) -> Router {
        Router::new()
            .route("/ws", get(ws::handler))
            .route("/events", get(sse::handler))
            .route("/overlay/chat", get(crate::overlay::chat))
            .route("/overlay/gifts", get(crate::overlay::gifts))
            .with_state(self.clone())
    }

    /// Clients connected now (WebSocket and SSE).
    pub fn clients(&self) -> usize {
        self.hub.clients.load(Ordering::Relaxed)
    }

    /// The id of the newest event (0 before the first).
    pub fn last_seq(&self) -> u64 {
        lock(&self.hub.ring).last_seq
    }

    /// True once the bus closed (clients are then closed with "going away").
    pub fn is_closed(&self) -> bool {
        *self.hub.closed.borrow()
    }

    pub(crate) fn config(&self) -> &FeedConfig {
        &self.hub.cfg
    }

    pub(crate) fn rooms(&self) -> &Rooms {
        &self.hub.rooms
    }

    pub(crate) fn closed(&self) -> watch::Receiver<bool> {
        self.hub.closed.subscribe()
    }

    pub(crate) fn take_slot(&self, transport: &'static str) -> Option<ClientSlot> {
        let max = self.hub.cfg.max_clients;
        let taken = self
            .hub
            .clients
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |n| {
                (n < max).then_some(n + 1)
            });
        taken.ok().map(|_| {
            instrument::feed_clients(transport, 1.0);
            ClientSlot {
                hub: Arc::clone(&self.hub),
                transport,
            }
        })
    }

    /// Attaches a client, resuming after `last_seq` when given.
    pub(crate) fn attach(&self, last_seq: Option<u64>) -> Attach {
        let ring = lock(&self.hub.ring);
        let rx = self.hub.tx.subscribe();
        let Some(last) = last_seq else {
            return Attach {
                backlog: Vec::new(),
                missed: Missed::Nothing,
                rx,
            };
        };
        let backlog: Vec<Arc<FeedItem>> = ring
            .items
            .iter()
            .filter(|i| i.seq > last)
            .cloned()
            .collect();
        let missed = if last >= ring.evicted {
            Missed::Nothing
        } else {
            match &self.hub.resume {
                Some(store) => Missed::Archive {
                    since_ms: i64::try_from(last / 1000).unwrap_or(i64::MAX),
                    store: Arc::clone(store),
                },
                None => Missed::Lost,
            }
        };
        Attach {
            backlog,
            missed,
            rx,
        }
    }
}

/// A JSON error body (`{"error": "..."}`) with a status.
pub(crate) fn json_error(
    status: axum::http::StatusCode,
    message: &str,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let body = serde_json::json!({ "error": message }).to_string();
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

/// The query of `GET /ws` and `GET /events`: both filters optional; other keys (a token the
/// application checks, say) are ignored here.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct FeedQuery {
    pub(crate) rooms: Option<String>,
    pub(crate) types: Option<String>,
    /// For clients that cannot set the `Last-Event-ID` header.
    pub(crate) last_event_id: Option<String>,
}

/// Resolves once the hub closed.
pub(crate) async fn until_closed(closed: &mut watch::Receiver<bool>) {
    let _ = closed.wait_for(|c| *c).await;
}
