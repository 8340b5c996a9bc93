//! The archive schema and its migrations, one list per backend. A database records the
//! version it is at (SQLite `PRAGMA user_version`, PostgreSQL table `ttlive_schema`); opening
//! applies the missing steps in order, each in its own transaction, and refuses a database
//! from a newer build.
//!
//! Version 1:
//!
//! - `events`: one row per event: `id` (increasing in the order the archive received
//!   events), `room_id`, `msg_id`, `type`, `create_time` (ms), `received_at` (ms),
//!   `user_id`, `unique_id`, `session_id`, and `json` (the event as `watch --json` prints it).
//!   64-bit ids are stored as signed 64-bit integers holding the same bits. Unique on
//!   (`room_id`, `msg_id`, `type`) for TikTok's messages; lifecycle events (`msg_id` 0) are
//!   unique on (`room_id`, `type`, `create_time`). Replaying a session, or restarting, never
//!   duplicates a row.
//! - `sessions`: one row per live session of a room: `room_id`, `unique_id`, `started_at`,
//!   `ended_at`, `end_reason`, and totals (`events`, `chats`, `likes`, `diamonds` of finished
//!   gifts, `follows`, `shares`, `peak_viewers`), counted only for newly inserted events.

/// Version 1, written once for both dialects: `{id}` is the auto-increment primary key type
/// and `{int}` the 64-bit integer type.
const V1: &str = r#"
CREATE TABLE sessions (
    id {id},
    room_id {int} NOT NULL,
    unique_id TEXT NOT NULL DEFAULT '',
    started_at {int} NOT NULL,
    ended_at {int},
    end_reason TEXT,
    events {int} NOT NULL DEFAULT 0,
    chats {int} NOT NULL DEFAULT 0,
    likes {int} NOT NULL DEFAULT 0,
    diamonds {int} NOT NULL DEFAULT 0,
    follows {int} NOT NULL DEFAULT 0,
    shares {int} NOT NULL DEFAULT 0,
    peak_viewers {int} NOT NULL DEFAULT 0,
    UNIQUE (room_id, started_at)
);
CREATE INDEX sessions_open ON sessions (room_id) WHERE ended_at IS NULL;
CREATE TABLE events (
    id {id},
    room_id {int} NOT NULL,
    msg_id {int} NOT NULL,
    type TEXT NOT NULL,
    create_time {int} NOT NULL,
    received_at {int} NOT NULL,
    user_id {int},
    unique_id TEXT,
    session_id {int} REFERENCES sessions (id),
    json TEXT NOT NULL
);
CREATE UNIQUE INDEX events_message ON events (room_id, msg_id, type) WHERE msg_id <> 0;
CREATE UNIQUE INDEX events_lifecycle ON events (room_id, type, create_time) WHERE msg_id = 0;
CREATE INDEX events_session ON events (session_id, type);
CREATE INDEX events_time ON events (create_time);
CREATE INDEX events_received ON events (received_at);
"#;

/// The steps, in order; step `i` brings a database to version `i + 1`.
const STEPS: &[&str] = &[V1];

/// The newest version this build knows.
pub(crate) const LATEST: i64 = STEPS.len() as i64;

/// The SQL dialects the archive speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    #[cfg(feature = "postgres")]
    Postgres,
}

/// The migration steps in `dialect`.
pub(crate) fn steps(dialect: Dialect) -> impl Iterator<Item = String> {
    let (id, int) = match dialect {
        Dialect::Sqlite => ("INTEGER PRIMARY KEY", "INTEGER"),
        #[cfg(feature = "postgres")]
        Dialect::Postgres => ("BIGSERIAL PRIMARY KEY", "BIGINT"),
    };
    STEPS
        .iter()
        .map(move |s| s.replace("{id}", id).replace("{int}", int))
}

/// Refuses a database written by a newer build.
pub(crate) fn check(version: i64) -> Result<(), crate::error::ArchiveError> {
    if version > LATEST {
        return Err(crate::error::ArchiveError::SchemaTooNew {
            found: version,
            known: LATEST,
        });
    }
    Ok(())
}
