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

/// SQLite, step by step; step `i` brings the database to version `i + 1`.
pub(crate) const SQLITE: &[&str] = &[r#"
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    room_id INTEGER NOT NULL,
    unique_id TEXT NOT NULL DEFAULT '',
    started_at INTEGER NOT NULL,
    ended_at INTEGER,
    end_reason TEXT,
    events INTEGER NOT NULL DEFAULT 0,
    chats INTEGER NOT NULL DEFAULT 0,
    likes INTEGER NOT NULL DEFAULT 0,
    diamonds INTEGER NOT NULL DEFAULT 0,
    follows INTEGER NOT NULL DEFAULT 0,
    shares INTEGER NOT NULL DEFAULT 0,
    peak_viewers INTEGER NOT NULL DEFAULT 0,
    UNIQUE (room_id, started_at)
);
CREATE INDEX sessions_open ON sessions (room_id) WHERE ended_at IS NULL;
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    room_id INTEGER NOT NULL,
    msg_id INTEGER NOT NULL,
    type TEXT NOT NULL,
    create_time INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    user_id INTEGER,
    unique_id TEXT,
    session_id INTEGER REFERENCES sessions (id),
    json TEXT NOT NULL
);
CREATE UNIQUE INDEX events_message ON events (room_id, msg_id, type) WHERE msg_id <> 0;
CREATE UNIQUE INDEX events_lifecycle ON events (room_id, type, create_time) WHERE msg_id = 0;
CREATE INDEX events_session ON events (session_id, type);
CREATE INDEX events_time ON events (create_time);
CREATE INDEX events_received ON events (received_at);
"#];

/// PostgreSQL, step by step (same shape as SQLite's).
#[cfg(feature = "postgres")]
pub(crate) const POSTGRES: &[&str] = &[r#"
CREATE TABLE sessions (
    id BIGSERIAL PRIMARY KEY,
    room_id BIGINT NOT NULL,
    unique_id TEXT NOT NULL DEFAULT '',
    started_at BIGINT NOT NULL,
    ended_at BIGINT,
    end_reason TEXT,
    events BIGINT NOT NULL DEFAULT 0,
    chats BIGINT NOT NULL DEFAULT 0,
    likes BIGINT NOT NULL DEFAULT 0,
    diamonds BIGINT NOT NULL DEFAULT 0,
    follows BIGINT NOT NULL DEFAULT 0,
    shares BIGINT NOT NULL DEFAULT 0,
    peak_viewers BIGINT NOT NULL DEFAULT 0,
    UNIQUE (room_id, started_at)
);
CREATE INDEX sessions_open ON sessions (room_id) WHERE ended_at IS NULL;
CREATE TABLE events (
    id BIGSERIAL PRIMARY KEY,
    room_id BIGINT NOT NULL,
    msg_id BIGINT NOT NULL,
    type TEXT NOT NULL,
    create_time BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    user_id BIGINT,
    unique_id TEXT,
    session_id BIGINT REFERENCES sessions (id),
    json TEXT NOT NULL
);
CREATE UNIQUE INDEX events_message ON events (room_id, msg_id, type) WHERE msg_id <> 0;
CREATE UNIQUE INDEX events_lifecycle ON events (room_id, type, create_time) WHERE msg_id = 0;
CREATE INDEX events_session ON events (session_id, type);
CREATE INDEX events_time ON events (create_time);
CREATE INDEX events_received ON events (received_at);
"#];

/// The newest version this build knows.
pub(crate) const LATEST: i64 = SQLITE.len() as i64;
