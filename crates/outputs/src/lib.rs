//! Outputs for TikTok LIVE events: everything that carries events out of an
//! [`EventBus`](ttlive_eventbus::EventBus).
//!
//! Each output is a subscriber of a bus, and never knows where the events come from (a live
//! room, a recording, another process's stream):
//!
//! | module | output | routes / files |
//! |---|---|---|
//! | [`feed`] | a fan-out hub with ids and a resume ring, read over WebSocket ([`feed::ws`]) and server-sent events ([`feed::sse`]) | `GET /ws`, `GET /events` |
//! | [`archive`] | SQLite (default) or PostgreSQL (feature `postgres`), with sessions and totals; [`archive::query`] reads it back (`stats`, `export`) | `--sqlite FILE`, `--postgres URL` |
//! | [`overlay`] | chat and gift pages for OBS's browser source, served from the binary | `GET /overlay/chat`, `GET /overlay/gifts` |
//! | [`webhook`] | signed POSTs (Standard Webhooks), retries, a disk spool, dead letters | `--webhook URL` |
//! | [`jsonl`] | JSON-lines files per room and day, rotated by size, gzip'd on rotation | `--jsonl DIR` |
//!
//! # In an application
//!
//! ```no_run
//! use std::time::Duration;
//! use ttlive_eventbus::EventBus;
//! use ttlive_outputs::{Archive, FeedConfig, FeedHub, SqliteConfig, Webhook, WebhookConfig};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let bus = EventBus::new();
//! let archive = Archive::sqlite(&bus, &SqliteConfig::new("ttlive.sqlite"))?;
//! let hook = Webhook::start(
//!     &bus,
//!     &WebhookConfig::new("https://example.org/hooks/tiktok").secret_from_env(),
//! )?;
//! let feed = FeedHub::start(&bus, FeedConfig::default());
//! let app = axum::Router::new().merge(feed.router()); // + the application's own routes
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! tokio::spawn(async move { axum::serve(listener, app).await });
//! // … attach sources to `bus`; at shutdown:
//! bus.close().await;
//! archive.finish().await;
//! hook.finish(Duration::from_secs(10)).await;
//! # Ok(()) }
//! ```
//!
//! # For the command line
//!
//! | command | calls |
//! |---|---|
//! | `tiktok-live stats --sqlite FILE [--room USER] [--session N] [--json]` | [`archive::query::stats`] → [`StatsReport`](archive::query::StatsReport) (`Display` for text, `Serialize` for `--json`) |
//! | `tiktok-live export --sqlite FILE --since T [--room USER] --json` | [`parse_since`] then [`archive::query::export`] to stdout |
//! | `serve --sqlite FILE` / `--postgres URL` / `--jsonl DIR` / `--webhook URL --webhook-secret S` | [`Archive::sqlite`] / [`Archive::postgres`] / [`JsonlOutput::start`] / [`Webhook::start`] with the [`config`] structs |
//!
//! # Backpressure and gaps
//!
//! Every output reads the bus through a lossless subscription drained by a task that only
//! moves events into the output's own bounded queue (or, for webhooks, its disk spool); it
//! never waits on the output's I/O. A failing output therefore never stalls a source or
//! another output: once its queue is full it drops events, counts them
//! (`ttlive_output_dropped_total`), and writes the count into itself as a `gap` event in the
//! place where the events went missing.
//!
//! # Room filters
//!
//! Filters accept a room id or a streamer's handle (`@handle` or `handle`). Events carry only
//! the room id; a handle is resolved by learning from the `connected` events each output sees
//! (they carry the streamer's `unique_id`), and through a [`RoomDirectory`] the application
//! may supply for rooms it knows before they connect. See [`Rooms`].
//!
//! # Metrics
//!
//! Through the [`metrics`] facade (free when no recorder is installed; call [`describe`] once
//! after installing one):
//!
//! | name | type | labels |
//! |---|---|---|
//! | `ttlive_output_events_total` | counter | `output` |
//! | `ttlive_output_dropped_total` | counter | `output` |
//! | `ttlive_output_queue_len` | gauge | `output` |
//! | `ttlive_output_errors_total` | counter | `output` |
//! | `ttlive_feed_clients` | gauge | `transport` (`ws`, `sse`) |
//! | `ttlive_feed_client_closes_total` | counter | `reason` |
//! | `ttlive_webhook_attempts_total` | counter | `output`, `outcome` (`ok`, `retry`, `rejected`, `error`) |
//! | `ttlive_webhook_spool_bytes` | gauge | `output` |
//! | `ttlive_webhook_dead_letters_total` | counter | `output` |
//! | `ttlive_archive_batch_size` | histogram | `backend` (`sqlite`, `postgres`) |
//! | `ttlive_archive_errors_total` | counter | `backend`, `kind` (see [`ArchiveErrorKind`](error::ArchiveErrorKind)) |
#![warn(missing_docs)]

pub mod archive;
mod clock;
pub mod config;
pub mod error;
pub mod feed;
mod inlet;
mod instrument;
pub mod jsonl;
pub mod overlay;
mod select;
pub mod webhook;

pub use archive::{Archive, ArchiveStatus, SqliteResume};
pub use clock::parse_since;
pub use config::{
    FeedConfig, JsonlConfig, OutputsConfig, PostgresConfig, SqliteConfig, WebhookConfig,
};
pub use error::{ArchiveError, ArchiveErrorKind, JsonlError, SelectError, WebhookError};
pub use feed::{ArchivedEvent, FeedHub, FeedHubBuilder, FeedItem, ResumeStore};
pub use instrument::describe;
pub use jsonl::{JsonlOutput, JsonlStatus};
pub use select::{RoomDirectory, RoomRef, Rooms, Selection};
pub use webhook::{Webhook, WebhookStatus};

/// Locks a mutex, taking the data even if a thread panicked while holding it (every value
/// behind these locks stays valid between statements).
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The thread an output writes on, joined without blocking the runtime.
pub(crate) struct WriterThread(std::sync::Mutex<Option<std::thread::JoinHandle<()>>>);

impl WriterThread {
    pub(crate) fn new(handle: Option<std::thread::JoinHandle<()>>) -> Self {
        WriterThread(std::sync::Mutex::new(handle))
    }

    /// Waits for the thread to end (once; later calls return at once).
    pub(crate) async fn join(&self) {
        let handle = lock(&self.0).take();
        if let Some(t) = handle {
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
    }
}

/// An error and its causes on one line (`a: b: c`), for logs.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}
