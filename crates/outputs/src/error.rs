//! The errors of every output, each a typed value that keeps its cause (`#[source]`).

use std::path::PathBuf;

/// A room or type filter that cannot be understood (`?rooms=`, `?types=`, config lists).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SelectError {
    /// A name in `types` that is no event type.
    #[error("unknown event type {0:?} (expected names such as chat, gift, like, roomUser)")]
    UnknownType(String),
    /// A room that is neither a `@handle` nor a numeric room id.
    #[error("invalid room {0:?} (expected @handle, handle or a numeric room id)")]
    BadRoom(String),
}

/// What went wrong with an archive, in one word: what an operator does differs for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ArchiveErrorKind {
    /// The database is locked by another process (SQLite `SQLITE_BUSY`/`SQLITE_LOCKED`).
    Locked,
    /// The disk (or the database's size limit) is full.
    Full,
    /// The file is not a database, or is damaged.
    Corrupt,
    /// The schema was written by a newer version of this crate.
    Schema,
    /// The server could not be reached or the connection broke (PostgreSQL).
    Connection,
    /// A bad argument (an unknown session, an unreadable time).
    Input,
    /// Anything else.
    Other,
}

impl ArchiveErrorKind {
    /// A short label for metrics and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ArchiveErrorKind::Locked => "locked",
            ArchiveErrorKind::Full => "full",
            ArchiveErrorKind::Corrupt => "corrupt",
            ArchiveErrorKind::Schema => "schema",
            ArchiveErrorKind::Connection => "connection",
            ArchiveErrorKind::Input => "input",
            ArchiveErrorKind::Other => "other",
        }
    }
}

/// An archive (SQLite or PostgreSQL) error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArchiveError {
    /// The database file could not be opened or prepared.
    #[error("cannot open the archive {}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: rusqlite::Error,
    },
    /// A SQLite statement failed.
    #[error("SQLite archive: {what}")]
    Sqlite {
        /// What was being done.
        what: &'static str,
        /// The SQLite error.
        #[source]
        source: rusqlite::Error,
    },
    /// The database was written by a newer schema than this build knows.
    #[error("the archive has schema version {found}; this build knows up to {known}")]
    SchemaTooNew {
        /// Version found in the database.
        found: i64,
        /// Newest version this build knows.
        known: i64,
    },
    /// The file is a SQLite database without an archive schema.
    #[error("{} is not a ttlive archive", .0.display())]
    NotAnArchive(PathBuf),
    /// A `--room` value that is neither a handle nor a room id.
    #[error("invalid room {0:?} (expected @handle, handle or a numeric room id)")]
    BadRoom(String),
    /// A session number that the archive does not have (for the room asked, if any).
    #[error("no session {0} in the archive")]
    NoSuchSession(i64),
    /// A `--since` value that is neither a time nor a duration.
    #[error(
        "cannot read {0:?} as a time (use RFC 3339, Unix seconds or milliseconds, or a duration such as 2h)"
    )]
    BadTime(String),
    /// Writing the output (export) failed.
    #[error("cannot write the output")]
    Write(#[source] std::io::Error),
    /// A PostgreSQL call failed.
    #[cfg(feature = "postgres")]
    #[error("PostgreSQL archive: {what}")]
    Postgres {
        /// What was being done.
        what: &'static str,
        /// The driver's error.
        #[source]
        source: tokio_postgres::Error,
    },
}

impl ArchiveError {
    pub(crate) fn sqlite(what: &'static str) -> impl FnOnce(rusqlite::Error) -> ArchiveError {
        move |source| ArchiveError::Sqlite { what, source }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ArchiveErrorKind {
        fn of_sqlite(e: &rusqlite::Error) -> ArchiveErrorKind {
            use rusqlite::ErrorCode as C;
            match e.sqlite_error_code() {
                Some(C::DatabaseBusy | C::DatabaseLocked) => ArchiveErrorKind::Locked,
                Some(C::DiskFull) => ArchiveErrorKind::Full,
                Some(C::NotADatabase | C::DatabaseCorrupt) => ArchiveErrorKind::Corrupt,
                Some(C::CannotOpen | C::ReadOnly | C::SystemIoFailure) => ArchiveErrorKind::Other,
                _ => ArchiveErrorKind::Other,
            }
        }
        match self {
            ArchiveError::Open { source, .. } | ArchiveError::Sqlite { source, .. } => {
                of_sqlite(source)
            }
            ArchiveError::SchemaTooNew { .. } | ArchiveError::NotAnArchive(_) => {
                ArchiveErrorKind::Schema
            }
            ArchiveError::NoSuchSession(_)
            | ArchiveError::BadTime(_)
            | ArchiveError::BadRoom(_) => ArchiveErrorKind::Input,
            ArchiveError::Write(_) => ArchiveErrorKind::Other,
            #[cfg(feature = "postgres")]
            ArchiveError::Postgres { source, .. } => {
                if source.is_closed() || source.as_db_error().is_none() {
                    ArchiveErrorKind::Connection
                } else {
                    ArchiveErrorKind::Other
                }
            }
        }
    }
}

/// A webhook output that cannot be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The URL is not an absolute `http` or `https` URL.
    #[error("invalid webhook URL {0:?}")]
    BadUrl(String),
    /// The secret is not in the Standard Webhooks `whsec_<base64>` form (the secret itself is
    /// never shown).
    #[error("invalid webhook secret: {0}")]
    BadSecret(&'static str),
    /// The filters are invalid.
    #[error("invalid webhook filter")]
    Select(#[source] SelectError),
    /// The spool directory or the dead-letter file cannot be used.
    #[error("webhook spool {}", path.display())]
    Spool {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The HTTP client could not be built.
    #[error("cannot build the webhook HTTP client")]
    Client(#[source] reqwest::Error),
    /// The TLS configuration could not be built.
    #[error("cannot build the webhook TLS configuration")]
    Tls(#[source] rustls::Error),
}

/// A JSON-lines output error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JsonlError {
    /// A file or directory could not be created, written or rotated.
    #[error("JSON-lines output {}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}
