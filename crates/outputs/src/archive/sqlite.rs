//! The SQLite backend: one connection on the archive's thread (WAL, `synchronous=NORMAL`,
//! a busy timeout), and read-only connections for queries and feed resumes.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use super::{Row, Store, Totals, from_sql, schema};
use crate::error::ArchiveError;
use crate::feed::{ArchivedEvent, ResumeStore};

pub(crate) struct SqliteStore {
    conn: Connection,
}

/// Opens `path` for writing, creating it and bringing its schema up to date.
pub(crate) fn open_rw(path: &Path, busy: Duration) -> Result<Connection, ArchiveError> {
    let open_err = |source| ArchiveError::Open {
        path: path.to_owned(),
        source,
    };
    let mut conn = Connection::open(path).map_err(open_err)?;
    conn.busy_timeout(busy).map_err(open_err)?;
    let _mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(open_err)?;
    conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
        .map_err(open_err)?;
    migrate(&mut conn).map_err(|e| match e {
        ArchiveError::Sqlite { source, .. } => open_err(source),
        other => other,
    })?;
    Ok(conn)
}

/// Opens `path` read-only and checks that it is an archive this build can read.
pub(crate) fn open_ro(path: &Path) -> Result<Connection, ArchiveError> {
    let open_err = |source| ArchiveError::Open {
        path: path.to_owned(),
        source,
    };
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(open_err)?;
    conn.busy_timeout(Duration::from_secs(5))
        .map_err(open_err)?;
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(open_err)?;
    schema::check(version)?;
    if version == 0 {
        return Err(ArchiveError::NotAnArchive(path.to_owned()));
    }
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> Result<(), ArchiveError> {
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(ArchiveError::sqlite("reading the schema version"))?;
    schema::check(version)?;
    for (step, sql) in schema::steps(schema::Dialect::Sqlite)
        .enumerate()
        .skip(version as usize)
    {
        let tx = conn
            .transaction()
            .map_err(ArchiveError::sqlite("migrating the schema"))?;
        tx.execute_batch(&sql)
            .map_err(ArchiveError::sqlite("migrating the schema"))?;
        tx.pragma_update(None, "user_version", step as i64 + 1)
            .map_err(ArchiveError::sqlite("migrating the schema"))?;
        tx.commit()
            .map_err(ArchiveError::sqlite("migrating the schema"))?;
        tracing::info!(version = step + 1, "archive: SQLite schema migrated");
    }
    Ok(())
}

impl SqliteStore {
    pub(crate) fn open(path: &Path, busy: Duration) -> Result<SqliteStore, ArchiveError> {
        Ok(SqliteStore {
            conn: open_rw(path, busy)?,
        })
    }
}

impl Store for SqliteStore {
    const BACKEND: &'static str = "sqlite";

    fn begin(&mut self) -> Result<(), ArchiveError> {
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(ArchiveError::sqlite("starting a transaction"))
    }

    fn commit(&mut self) -> Result<(), ArchiveError> {
        self.conn
            .execute_batch("COMMIT")
            .map_err(ArchiveError::sqlite("committing"))
    }

    fn rollback(&mut self) {
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }

    fn open_session(&mut self, room_id: i64) -> Result<Option<i64>, ArchiveError> {
        self.conn
            .prepare_cached(
                "SELECT id FROM sessions WHERE room_id = ?1 AND ended_at IS NULL \
                 ORDER BY id DESC LIMIT 1",
            )
            .and_then(|mut s| s.query_row([room_id], |r| r.get(0)).optional())
            .map_err(ArchiveError::sqlite("finding the open session"))
    }

    fn create_session(
        &mut self,
        room_id: i64,
        unique_id: &str,
        started_at: i64,
    ) -> Result<i64, ArchiveError> {
        self.conn
            .prepare_cached(
                "INSERT OR IGNORE INTO sessions (room_id, unique_id, started_at) VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut s| s.execute(params![room_id, unique_id, started_at]))
            .map_err(ArchiveError::sqlite("opening a session"))?;
        self.conn
            .prepare_cached("SELECT id FROM sessions WHERE room_id = ?1 AND started_at = ?2")
            .and_then(|mut s| s.query_row(params![room_id, started_at], |r| r.get(0)))
            .map_err(ArchiveError::sqlite("opening a session"))
    }

    fn name_session(&mut self, session: i64, unique_id: &str) -> Result<(), ArchiveError> {
        self.conn
            .prepare_cached("UPDATE sessions SET unique_id = ?2 WHERE id = ?1 AND unique_id = ''")
            .and_then(|mut s| s.execute(params![session, unique_id]))
            .map(drop)
            .map_err(ArchiveError::sqlite("naming a session"))
    }

    fn insert(
        &mut self,
        row: &Row,
        session: Option<i64>,
        received_at: i64,
    ) -> Result<Option<i64>, ArchiveError> {
        let n = self
            .conn
            .prepare_cached(
                "INSERT OR IGNORE INTO events (room_id, msg_id, type, create_time, received_at, \
                 user_id, unique_id, session_id, json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    row.room_id,
                    row.msg_id,
                    row.kind,
                    row.create_time,
                    received_at,
                    row.user_id,
                    row.unique_id,
                    session,
                    row.json
                ])
            })
            .map_err(ArchiveError::sqlite("inserting events"))?;
        Ok((n == 1).then(|| self.conn.last_insert_rowid()))
    }

    fn set_session(&mut self, row_id: i64, session: i64) -> Result<(), ArchiveError> {
        self.conn
            .prepare_cached("UPDATE events SET session_id = ?2 WHERE id = ?1")
            .and_then(|mut s| s.execute(params![row_id, session]))
            .map(drop)
            .map_err(ArchiveError::sqlite("filing an event under its session"))
    }

    fn add_totals(&mut self, session: i64, t: &Totals) -> Result<(), ArchiveError> {
        self.conn
            .prepare_cached(
                "UPDATE sessions SET events = events + ?2, chats = chats + ?3, likes = likes + ?4, \
                 diamonds = diamonds + ?5, follows = follows + ?6, shares = shares + ?7, \
                 peak_viewers = MAX(peak_viewers, ?8) WHERE id = ?1",
            )
            .and_then(|mut s| {
                s.execute(params![
                    session,
                    t.events,
                    t.chats,
                    t.likes,
                    t.diamonds,
                    t.follows,
                    t.shares,
                    t.peak_viewers
                ])
            })
            .map(drop)
            .map_err(ArchiveError::sqlite("adding session totals"))
    }

    fn end_session(
        &mut self,
        session: i64,
        ended_at: i64,
        reason: &str,
    ) -> Result<(), ArchiveError> {
        self.conn
            .prepare_cached("UPDATE sessions SET ended_at = ?2, end_reason = ?3 WHERE id = ?1")
            .and_then(|mut s| s.execute(params![session, ended_at, reason]))
            .map(drop)
            .map_err(ArchiveError::sqlite("ending a session"))
    }
}

/// Serves feed resumes older than the ring from a SQLite archive (see
/// [`FeedHubBuilder::resume_from`](crate::FeedHubBuilder::resume_from)).
pub struct SqliteResume {
    path: PathBuf,
    conn: Mutex<Option<Connection>>,
}

impl std::fmt::Debug for SqliteResume {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteResume")
            .field("path", &self.path)
            .finish()
    }
}

impl SqliteResume {
    /// Reads the archive at `path` (opened lazily, read-only, on first use).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        SqliteResume {
            path: path.into(),
            conn: Mutex::new(None),
        }
    }
}

impl ResumeStore for SqliteResume {
    fn events_since(
        &self,
        since_ms: i64,
        after_row: i64,
        limit: usize,
    ) -> Result<Vec<ArchivedEvent>, ArchiveError> {
        let mut guard = crate::lock(&self.conn);
        if guard.is_none() {
            *guard = Some(open_ro(&self.path)?);
        }
        let Some(conn) = guard.as_ref() else {
            return Ok(Vec::new());
        };
        let e = ArchiveError::sqlite("reading events for a resume");
        let mut stmt = conn
            .prepare_cached(
                "SELECT id, received_at, room_id, msg_id, type, json FROM events \
                 WHERE received_at >= ?1 AND id > ?2 ORDER BY id LIMIT ?3",
            )
            .map_err(e)?;
        let rows = stmt
            .query_map(params![since_ms, after_row, limit as i64], |r| {
                Ok(ArchivedEvent {
                    row: r.get(0)?,
                    received_at: r.get(1)?,
                    room_id: from_sql(r.get(2)?),
                    msg_id: from_sql(r.get(3)?),
                    kind: r.get(4)?,
                    json: r.get(5)?,
                })
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(ArchiveError::sqlite("reading events for a resume"))?;
        Ok(rows)
    }
}
