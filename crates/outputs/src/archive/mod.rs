//! The archive: every event in a database, with live sessions and their totals.
//!
//! SQLite is the embedded default ([`Archive::sqlite`]: bundled SQLite, WAL, batched
//! transactions on a thread of its own); PostgreSQL sits behind the cargo feature `postgres`
//! ([`Archive::postgres`]). Both have the schema described in `schema` (versioned, migrated
//! on open) and the same write path: events are taken from the archive's queue in batches of
//! up to `batch_max`, and each batch is one transaction.
//!
//! # Failures
//!
//! A locked database, a full disk or a lost server fail the transaction; it is rolled back and
//! retried, with a growing pause (up to 5 s), until it goes through. Each failure is logged,
//! counted (`ttlive_archive_errors_total{backend, kind}`), and kept in [`ArchiveStatus`].
//! Meanwhile events wait in the queue ([`SqliteConfig::queue`]); if it fills up, the events
//! that did not fit are counted as dropped and a `gap` row (room 0) records how many, in the
//! place where they are missing. Sources and other outputs never wait for the archive.
//!
//! [`query`] reads an archive back: `stats` and `export`.

mod schema;
mod sqlite;

#[cfg(feature = "postgres")]
mod postgres;
pub mod query;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Deserialize;
use ttlive_eventbus::{Event, EventBus, Filter};

use crate::clock;
use crate::config::SqliteConfig;
use crate::error::{ArchiveError, ArchiveErrorKind};
use crate::feed::gap_event;
use crate::inlet::{self, Drain, Inlet, Item};
use crate::instrument;

pub use sqlite::SqliteResume;

/// A 64-bit id as SQL stores it: the same bits in a signed integer.
pub(crate) fn to_sql(id: u64) -> i64 {
    id as i64
}

/// The inverse of [`to_sql`].
pub(crate) fn from_sql(id: i64) -> u64 {
    id as u64
}

/// The columns of one `events` row.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) room_id: i64,
    pub(crate) msg_id: i64,
    pub(crate) kind: &'static str,
    pub(crate) create_time: i64,
    pub(crate) user_id: Option<i64>,
    pub(crate) unique_id: Option<String>,
    pub(crate) json: String,
    pub(crate) facts: Facts,
}

/// What totals need from an event, read from its JSON, so that kinds and fields this crate
/// has no type for are handled alike.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Facts {
    #[serde(default)]
    user: Option<FactUser>,
    #[serde(default)]
    count: Option<u64>,
    #[serde(default)]
    diamonds: Option<u64>,
    #[serde(default)]
    streaking: Option<bool>,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    viewer_count: Option<u64>,
    #[serde(default)]
    unique_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct FactUser {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    unique_id: Option<String>,
}

impl Row {
    pub(crate) fn of(event: &Event) -> Row {
        let json = serde_json::to_string(event).unwrap_or_else(|_| "{}".into());
        let facts: Facts = serde_json::from_str(&json).unwrap_or_default();
        let user = facts.user.clone().unwrap_or_default();
        Row {
            room_id: to_sql(event.room_id()),
            msg_id: to_sql(event.msg_id()),
            kind: event.name(),
            create_time: event.meta().create_time,
            user_id: user
                .id
                .as_deref()
                .and_then(|s| s.parse::<u64>().ok())
                .map(to_sql),
            unique_id: user.unique_id.filter(|u| !u.is_empty()),
            json,
            facts,
        }
    }
}

/// Per-session totals, added up for newly inserted events only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Totals {
    pub(crate) events: i64,
    pub(crate) chats: i64,
    pub(crate) likes: i64,
    pub(crate) diamonds: i64,
    pub(crate) follows: i64,
    pub(crate) shares: i64,
    pub(crate) peak_viewers: i64,
}

impl Totals {
    fn add(&mut self, row: &Row) {
        let f = &row.facts;
        let n = |v: Option<u64>| i64::try_from(v.unwrap_or(0)).unwrap_or(i64::MAX);
        self.events += 1;
        match row.kind {
            "chat" => self.chats += 1,
            "like" => self.likes += n(f.count),
            "gift" if f.streaking != Some(true) => self.diamonds += n(f.diamonds),
            "social" => match f.action.as_deref() {
                Some("follow") => self.follows += 1,
                Some("share") => self.shares += 1,
                _ => {}
            },
            "roomUser" => self.peak_viewers = self.peak_viewers.max(n(f.viewer_count)),
            _ => {}
        }
    }
}

/// What one backend does for the shared write path (SQLite directly, PostgreSQL through a
/// runtime of its own on the archive's thread).
pub(crate) trait Store {
    /// `sqlite` or `postgres`, for metrics and logs.
    const BACKEND: &'static str;
    fn begin(&mut self) -> Result<(), ArchiveError>;
    fn commit(&mut self) -> Result<(), ArchiveError>;
    fn rollback(&mut self);
    /// The room's session that has not ended, if any.
    fn open_session(&mut self, room_id: i64) -> Result<Option<i64>, ArchiveError>;
    /// The session of `room_id` that started at `started_at`, created when missing.
    fn create_session(
        &mut self,
        room_id: i64,
        unique_id: &str,
        started_at: i64,
    ) -> Result<i64, ArchiveError>;
    /// Sets the streamer's handle of a session that has none.
    fn name_session(&mut self, session: i64, unique_id: &str) -> Result<(), ArchiveError>;
    /// Inserts the row unless it is already there; its row id when inserted.
    fn insert(
        &mut self,
        row: &Row,
        session: Option<i64>,
        received_at: i64,
    ) -> Result<Option<i64>, ArchiveError>;
    /// Files an inserted row under a session created after it.
    fn set_session(&mut self, row_id: i64, session: i64) -> Result<(), ArchiveError>;
    fn add_totals(&mut self, session: i64, totals: &Totals) -> Result<(), ArchiveError>;
    fn end_session(
        &mut self,
        session: i64,
        ended_at: i64,
        reason: &str,
    ) -> Result<(), ArchiveError>;
}

/// How many rows a batch inserted, and how many it found already there.
#[derive(Debug, Default, Clone, Copy)]
struct Written {
    inserted: u64,
    duplicates: u64,
}

/// What the writer remembers between batches (cleared after a failed one).
///
/// Sessions are made by *new messages*: a session row is created by the first newly inserted
/// TikTok message of a room with no open session, and starts at the room's latest
/// `connected` event (or the message's own time). Lifecycle events join the open session
/// but never open one, so replaying an archived session, or reconnecting to a stream whose
/// messages are already archived, creates no empty sessions and changes no totals.
#[derive(Debug, Default)]
struct Book {
    /// Known open session per room (`None`: looked up, none open).
    open: HashMap<i64, Option<i64>>,
    /// The latest `connected` event per room: (time, handle).
    connected: HashMap<i64, (i64, String)>,
}

/// Writes one batch in one transaction.
fn write_batch<S: Store>(
    store: &mut S,
    book: &mut Book,
    items: &[Item],
    received_at: i64,
) -> Result<Written, ArchiveError> {
    store.begin()?;
    let mut totals: HashMap<i64, Totals> = HashMap::new();
    let mut written = Written::default();
    for item in items {
        let event: Event;
        let ev: &Event = match item {
            Item::Event(e) => e,
            Item::Gap { missed } => {
                let reason = format!(
                    "the {} archive dropped {missed} events: it fell behind",
                    S::BACKEND
                );
                let mut gap = gap_event(*missed, &reason);
                gap.meta_mut().create_time = received_at;
                event = gap;
                &event
            }
        };
        let row = Row::of(ev);
        let room = row.room_id;
        let uid = row
            .facts
            .unique_id
            .clone()
            .filter(|u| row.kind == "connected" && !u.is_empty());
        if let (Some(uid), true) = (&uid, room != 0) {
            book.connected.insert(room, (row.create_time, uid.clone()));
        }
        let mut session = match (room, book.open.get(&room)) {
            (0, _) => None,
            (_, Some(known)) => *known,
            (_, None) => {
                let s = store.open_session(room)?;
                book.open.insert(room, s);
                s
            }
        };
        let Some(row_id) = store.insert(&row, session, received_at)? else {
            written.duplicates += 1;
            continue;
        };
        written.inserted += 1;
        if room != 0 && session.is_none() && row.msg_id != 0 {
            let (started_at, handle) = book
                .connected
                .get(&room)
                .cloned()
                .unwrap_or((row.create_time, String::new()));
            let id = store.create_session(room, &handle, started_at.min(row.create_time))?;
            store.set_session(row_id, id)?;
            book.open.insert(room, Some(id));
            session = Some(id);
        }
        let Some(s) = session else { continue };
        if let Some(uid) = &uid {
            store.name_session(s, uid)?;
        }
        totals.entry(s).or_default().add(&row);
        if matches!(ev, Event::StreamEnd(_)) {
            let reason = row.facts.action.as_deref().unwrap_or("ended");
            store.end_session(s, row.create_time, reason)?;
            book.open.insert(room, None);
        }
    }
    for (session, t) in &totals {
        store.add_totals(*session, t)?;
    }
    store.commit()?;
    Ok(written)
}

/// Counters and the last error of an archive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ArchiveStatus {
    /// Rows inserted.
    pub inserted: u64,
    /// Events that were already archived (replays, restarts).
    pub duplicates: u64,
    /// Transactions committed.
    pub batches: u64,
    /// Events dropped because the queue was full (each run of them is a `gap` row).
    pub dropped: u64,
    /// Failed transactions (each was retried).
    pub errors: u64,
    /// The most recent failure, with its causes, while it lasts: cleared by the next commit.
    pub last_error: Option<(ArchiveErrorKind, String)>,
    /// Events waiting in the queue.
    pub queued: usize,
}

struct Shared {
    status: Mutex<ArchiveStatus>,
}

impl Shared {
    fn update(&self, f: impl FnOnce(&mut ArchiveStatus)) {
        f(&mut crate::lock(&self.status));
    }
}

/// A running archive: a thread that writes what the bus publishes.
pub struct Archive {
    backend: &'static str,
    inlet: Arc<Inlet>,
    shared: Arc<Shared>,
    thread: crate::WriterThread,
}

impl fmt::Debug for Archive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Archive")
            .field("backend", &self.backend)
            .field("status", &self.status())
            .finish()
    }
}

/// How the writer thread batches.
#[derive(Debug, Clone, Copy)]
struct Batching {
    max: usize,
    linger: Duration,
}

/// After the bus closed, how long a failing database is retried before the rest is given up.
const CLOSING_GRACE: Duration = Duration::from_secs(10);

impl Archive {
    /// Opens (creating and migrating) the SQLite database and starts archiving `bus`.
    ///
    /// Errors when the file cannot be opened or its schema is newer than this build; later
    /// failures are retried (see the [module docs](self)).
    pub fn sqlite(bus: &EventBus, cfg: &SqliteConfig) -> Result<Archive, ArchiveError> {
        let store =
            sqlite::SqliteStore::open(&cfg.path, Duration::from_millis(cfg.busy_timeout_ms))?;
        Ok(Self::spawn(
            bus,
            move || Ok(store),
            cfg.queue,
            Batching {
                max: cfg.batch_max.max(1),
                linger: Duration::from_millis(cfg.linger_ms),
            },
            None,
        ))
    }

    /// Connects to PostgreSQL (creating and migrating the schema) and starts archiving `bus`
    /// (cargo feature `postgres`). Errors when the first connection or the migration fails;
    /// later failures, a lost connection included, are retried.
    #[cfg(feature = "postgres")]
    pub async fn postgres(
        bus: &EventBus,
        cfg: &crate::config::PostgresConfig,
    ) -> Result<Archive, ArchiveError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let url = cfg.url.clone();
        let archive = Self::spawn(
            bus,
            move || postgres::PgStore::connect(&url),
            cfg.queue,
            Batching {
                max: cfg.batch_max.max(1),
                linger: Duration::from_millis(50),
            },
            Some(tx),
        );
        match rx.await {
            Ok(Ok(())) => Ok(archive),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(ArchiveError::Write(std::io::Error::other(
                "the archive thread ended before connecting",
            ))),
        }
    }

    fn spawn<S: Store + 'static>(
        bus: &EventBus,
        open: impl FnOnce() -> Result<S, ArchiveError> + Send + 'static,
        queue: usize,
        batching: Batching,
        ready: Option<tokio::sync::oneshot::Sender<Result<(), ArchiveError>>>,
    ) -> Archive {
        let inlet = Inlet::new(S::BACKEND, queue);
        inlet::pump(bus, Filter::all(), Arc::clone(&inlet));
        let shared = Arc::new(Shared {
            status: Mutex::new(ArchiveStatus::default()),
        });
        let thread = {
            let (inlet, shared) = (Arc::clone(&inlet), Arc::clone(&shared));
            std::thread::Builder::new()
                .name(format!("ttlive-{}", S::BACKEND))
                .spawn(move || {
                    let store = match open() {
                        Ok(s) => s,
                        Err(e) => {
                            inlet.close();
                            if let Some(ready) = ready {
                                let _ = ready.send(Err(e));
                            }
                            return;
                        }
                    };
                    if let Some(ready) = ready {
                        let _ = ready.send(Ok(()));
                    }
                    run(store, &inlet, &shared, batching)
                })
                .ok()
        };
        if thread.is_none() {
            tracing::error!(backend = S::BACKEND, "archive: cannot start its thread");
        }
        Archive {
            backend: S::BACKEND,
            inlet,
            shared,
            thread: crate::WriterThread::new(thread),
        }
    }

    /// Counters and the last error.
    pub fn status(&self) -> ArchiveStatus {
        let mut s = crate::lock(&self.shared.status).clone();
        s.queued = self.inlet.len();
        s
    }

    /// Waits until everything queued is written: call after the bus closed (its sources
    /// stopped). A database that keeps failing is retried for 10 s more, then what is left is
    /// given up (logged and counted as dropped).
    pub async fn finish(&self) {
        self.thread.join().await;
    }
}

fn run<S: Store>(mut store: S, inlet: &Inlet, shared: &Shared, batching: Batching) {
    let mut book = Book::default();
    let drain = Drain {
        max: batching.max,
        linger: batching.linger,
        grace: CLOSING_GRACE,
    };
    let write = |items: &[Item]| match write_batch(&mut store, &mut book, items, clock::now_ms()) {
        Ok(w) => {
            instrument::archive_batch(S::BACKEND, items.len());
            instrument::events_out(S::BACKEND, w.inserted);
            shared.update(|s| {
                s.inserted += w.inserted;
                s.duplicates += w.duplicates;
                s.batches += 1;
                s.dropped += inlet::gap_count(items);
                s.last_error = None;
            });
            Ok(())
        }
        Err(e) => {
            store.rollback();
            book = Book::default();
            Err(e)
        }
    };
    let failed = |e: &ArchiveError, events: usize| {
        let kind = e.kind();
        let text = crate::error_chain(e);
        tracing::warn!(backend = S::BACKEND, kind = kind.as_str(), error = %text, events,
            "archive: write failed, will retry");
        instrument::archive_error(S::BACKEND, kind.as_str());
        shared.update(|s| {
            s.errors += 1;
            s.last_error = Some((kind, text));
        });
    };
    let lost = inlet::drain_blocking(inlet, drain, write, failed);
    if lost > 0 {
        tracing::error!(
            backend = S::BACKEND,
            lost,
            "archive: giving up on the events still queued at shutdown"
        );
        instrument::dropped(S::BACKEND, lost);
        shared.update(|s| s.dropped += lost);
    }
}
