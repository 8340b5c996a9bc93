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
