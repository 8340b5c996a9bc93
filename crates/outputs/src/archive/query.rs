//! Reading an archive back: [`stats`] (what people ask of a stream) and [`export`] (events
//! out again as JSON lines). These are what `tiktok-live stats` and `tiktok-live export`
//! call:
//!
//! ```no_run
//! # fn main() -> Result<(), ttlive_outputs::ArchiveError> {
//! use ttlive_outputs::archive::query::{self, ExportQuery, StatsQuery};
//! let report = query::stats("ttlive.sqlite".as_ref(), &StatsQuery { room: Some("@someone".into()), session: None })?;
//! print!("{report}");                     // or serde_json::to_string(&report)
//! let since = ttlive_outputs::parse_since("2h")?;
//! query::export("ttlive.sqlite".as_ref(), &ExportQuery { since, room: None }, std::io::stdout().lock())?;
//! # Ok(()) }
//! ```

use std::fmt;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use rusqlite::{Connection, params};
use serde::Serialize;

use super::{from_sql, sqlite, to_sql};
use crate::error::ArchiveError;
use crate::select::RoomRef;

/// Which sessions `stats` reports on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsQuery {
    /// A room, by `@handle`, handle or room id (all rooms when `None`).
    pub room: Option<String>,
    /// One session by its number (all sessions when `None`).
    pub session: Option<i64>,
}

/// Someone who sent gifts, ranked by diamonds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gifter {
    /// TikTok user id.
    #[serde(with = "id_string")]
    pub user_id: u64,
    /// The `@handle`.
    pub unique_id: String,
    /// Display name.
    pub nickname: String,
    /// Diamonds of finished gifts (streaks counted once, when they end).
    pub diamonds: u64,
    /// Finished gifts.
    pub gifts: u64,
}

/// The statistics of one live session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionStats {
    /// The session number (`--session N`).
    pub session: i64,
    /// The room.
    #[serde(with = "id_string")]
    pub room_id: u64,
    /// The streamer's handle, when known.
    pub unique_id: String,
    /// Start, ms since the epoch.
    pub started_at: i64,
    /// End, ms since the epoch (`None` while it runs or when the end was not seen).
    pub ended_at: Option<i64>,
    /// How it ended (`ended`, `suspended`).
    pub end_reason: Option<String>,
    /// Events archived.
    pub events: u64,
    /// Chat messages.
    pub chats: u64,
    /// Chats per minute over the session.
    pub chats_per_minute: f64,
    /// The busiest minute's chats.
    pub peak_chats_per_minute: u64,
    /// Likes (sum of the like events' counts).
    pub likes: u64,
    /// New followers.
    pub followers: u64,
    /// Shares.
    pub shares: u64,
    /// Diamonds of finished gifts.
    pub diamonds: u64,
    /// The highest viewer count seen.
    pub peak_viewers: u64,
    /// Up to ten gifters, most diamonds first.
    pub top_gifters: Vec<Gifter>,
}

/// What [`stats`] found: one entry per session, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatsReport {
    /// The sessions.
    pub sessions: Vec<SessionStats>,
}

mod id_string {
    pub fn serialize<S: serde::Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }
}

/// The statistics of the sessions `query` selects, read from the SQLite archive at `db`.
pub fn stats(db: &Path, query: &StatsQuery) -> Result<StatsReport, ArchiveError> {
    let conn = sqlite::open_ro(db)?;
    let room = parse_room(query.room.as_deref())?;
    let (room_id, handle) = match &room {
        Some(RoomRef::Id(id)) => (Some(to_sql(*id)), None),
        Some(RoomRef::Handle(h)) => (None, Some(h.as_str())),
        _ => (None, None),
    };
    let e = ArchiveError::sqlite("listing sessions");
    let mut stmt = conn
        .prepare(
            "SELECT id, room_id, unique_id, started_at, ended_at, end_reason FROM sessions \
             WHERE (?1 IS NULL OR room_id = ?1) AND (?2 IS NULL OR lower(unique_id) = ?2) \
             AND (?3 IS NULL OR id = ?3) ORDER BY id",
        )
        .map_err(e)?;
    let heads = stmt
        .query_map(params![room_id, handle, query.session], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, Option<i64>>(4)?,
                r.get::<_, Option<String>>(5)?,
            ))
        })
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(ArchiveError::sqlite("listing sessions"))?;
    if let (Some(n), true) = (query.session, heads.is_empty()) {
        return Err(ArchiveError::NoSuchSession(n));
    }
    let mut sessions = Vec::with_capacity(heads.len());
    for (id, room_id, unique_id, started_at, ended_at, end_reason) in heads {
        sessions.push(session_stats(
            &conn, id, room_id, unique_id, started_at, ended_at, end_reason,
        )?);
    }
    Ok(StatsReport { sessions })
}

fn parse_room(room: Option<&str>) -> Result<Option<RoomRef>, ArchiveError> {
    room.map(|r| {
        r.parse::<RoomRef>()
            .map_err(|_| ArchiveError::BadRoom(r.to_owned()))
    })
    .transpose()
}

fn u(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

#[allow(clippy::too_many_arguments)]
fn session_stats(
    conn: &Connection,
    id: i64,
    room_id: i64,
    unique_id: String,
    started_at: i64,
    ended_at: Option<i64>,
    end_reason: Option<String>,
) -> Result<SessionStats, ArchiveError> {
    const FINISHED_GIFT: &str =
        "type = 'gift' AND COALESCE(json_extract(json, '$.streaking'), 0) = 0";
    let sums = format!(
        "SELECT COUNT(*), \
           COALESCE(SUM(type = 'chat'), 0), \
           COALESCE(SUM(CASE WHEN type = 'like' THEN json_extract(json, '$.count') END), 0), \
           COALESCE(SUM(type = 'social' AND json_extract(json, '$.action') = 'follow'), 0), \
           COALESCE(SUM(type = 'social' AND json_extract(json, '$.action') = 'share'), 0), \
           COALESCE(SUM(CASE WHEN {FINISHED_GIFT} THEN json_extract(json, '$.diamonds') END), 0), \
           COALESCE(MAX(CASE WHEN type = 'roomUser' THEN json_extract(json, '$.viewer_count') END), 0), \
           MAX(create_time) \
         FROM events WHERE session_id = ?1"
    );
    let e = ArchiveError::sqlite("adding up a session");
    let (events, chats, likes, followers, shares, diamonds, peak_viewers, last) = conn
        .query_row(&sums, [id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, i64>(6)?,
                r.get::<_, Option<i64>>(7)?,
            ))
        })
        .map_err(e)?;
    let peak_chats: i64 = conn
        .query_row(
            "SELECT COALESCE(MAX(n), 0) FROM (SELECT COUNT(*) AS n FROM events \
             WHERE session_id = ?1 AND type = 'chat' GROUP BY create_time / 60000)",
            [id],
            |r| r.get(0),
        )
        .map_err(ArchiveError::sqlite("finding the busiest minute"))?;
    let top = format!(
        "SELECT user_id, COALESCE(unique_id, ''), \
           COALESCE(json_extract(json, '$.user.nickname'), ''), \
           SUM(json_extract(json, '$.diamonds')) AS d, COUNT(*) \
         FROM events WHERE session_id = ?1 AND {FINISHED_GIFT} \
         GROUP BY user_id ORDER BY d DESC, user_id LIMIT 10"
    );
    let top_gifters = conn
        .prepare(&top)
        .and_then(|mut s| {
            s.query_map([id], |r| {
                Ok(Gifter {
                    user_id: from_sql(r.get::<_, Option<i64>>(0)?.unwrap_or(0)),
                    unique_id: r.get(1)?,
                    nickname: r.get(2)?,
                    diamonds: u(r.get(3)?),
                    gifts: u(r.get(4)?),
                })
            })?
            .collect::<Result<Vec<_>, _>>()
        })
        .map_err(ArchiveError::sqlite("ranking gifters"))?;
    let end = ended_at.or(last).unwrap_or(started_at);
    let minutes = ((end - started_at).max(0) as f64 / 60_000.0).max(1.0 / 60.0);
    Ok(SessionStats {
        session: id,
        room_id: from_sql(room_id),
        unique_id,
        started_at,
        ended_at,
        end_reason,
        events: u(events),
        chats: u(chats),
        chats_per_minute: (u(chats) as f64 / minutes * 10.0).round() / 10.0,
        peak_chats_per_minute: u(peak_chats),
        likes: u(likes),
        followers: u(followers),
        shares: u(shares),
        diamonds: u(diamonds),
        peak_viewers: u(peak_viewers),
        top_gifters,
    })
}

fn time(ms: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    humantime::format_rfc3339_seconds(t).to_string()
}

impl fmt::Display for StatsReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.sessions.is_empty() {
            return writeln!(f, "no sessions in the archive match");
        }
        for (i, s) in self.sessions.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{s}")?;
        }
        Ok(())
    }
}

impl fmt::Display for SessionStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let who = if self.unique_id.is_empty() {
            format!("room {}", self.room_id)
        } else {
            format!("@{} (room {})", self.unique_id, self.room_id)
        };
        writeln!(f, "session {}  {who}", self.session)?;
        match self.ended_at {
            Some(end) => {
                let mins = (end - self.started_at).max(0) / 60_000;
                let secs = (end - self.started_at).max(0) / 1000 % 60;
                writeln!(
                    f,
                    "  {} to {}  ({mins} min {secs} s, {})",
                    time(self.started_at),
                    time(end),
                    self.end_reason.as_deref().unwrap_or("ended")
                )?;
            }
            None => writeln!(f, "  since {}  (no end seen)", time(self.started_at))?,
        }
        writeln!(
            f,
            "  events {}  chats {} ({:.1}/min, busiest minute {})  likes {}",
            self.events, self.chats, self.chats_per_minute, self.peak_chats_per_minute, self.likes
        )?;
        writeln!(
            f,
            "  followers +{}  shares {}  peak viewers {}  diamonds {}",
            self.followers, self.shares, self.peak_viewers, self.diamonds
        )?;
        if !self.top_gifters.is_empty() {
            writeln!(f, "  top gifters (diamonds, finished streaks):")?;
            for (rank, g) in self.top_gifters.iter().enumerate() {
                let name = if g.unique_id.is_empty() {
                    g.user_id.to_string()
                } else {
                    format!("@{}", g.unique_id)
                };
                writeln!(
                    f,
                    "  {:>4}. {name} {}  {} diamonds in {} gift{}",
                    rank + 1,
                    if g.nickname.is_empty() {
                        String::new()
                    } else {
                        format!("({})", g.nickname)
                    },
                    g.diamonds,
                    g.gifts,
                    if g.gifts == 1 { "" } else { "s" }
                )?;
            }
        }
        Ok(())
    }
}

/// Which events `export` writes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportQuery {
    /// Events created at or after this time (ms since the epoch; see
    /// [`parse_since`](crate::parse_since)).
    pub since: i64,
    /// Only this room (`@handle`, handle or id); all when `None`.
    pub room: Option<String>,
}

/// Writes the archived events `query` selects to `out`, one JSON object per line (as
/// `watch --json` prints them), in the order the archive received them. Returns how many.
pub fn export(db: &Path, query: &ExportQuery, mut out: impl Write) -> Result<u64, ArchiveError> {
    let conn = sqlite::open_ro(db)?;
    let room = parse_room(query.room.as_deref())?;
    let room_ids: Option<Vec<i64>> = match &room {
        None => None,
        Some(RoomRef::Id(id)) => Some(vec![to_sql(*id)]),
        Some(RoomRef::Handle(h)) => {
            let mut s = conn
                .prepare("SELECT DISTINCT room_id FROM sessions WHERE lower(unique_id) = ?1")
                .map_err(ArchiveError::sqlite("finding the room"))?;
            let ids = s
                .query_map([h], |r| r.get(0))
                .and_then(|rows| rows.collect::<Result<Vec<i64>, _>>())
                .map_err(ArchiveError::sqlite("finding the room"))?;
            Some(ids)
        }
    };
    let mut stmt = conn
        .prepare("SELECT room_id, json FROM events WHERE create_time >= ?1 ORDER BY id")
        .map_err(ArchiveError::sqlite("exporting"))?;
    let mut rows = stmt
        .query([query.since])
        .map_err(ArchiveError::sqlite("exporting"))?;
    let mut n = 0;
    while let Some(row) = rows.next().map_err(ArchiveError::sqlite("exporting"))? {
        let room: i64 = row.get(0).map_err(ArchiveError::sqlite("exporting"))?;
        if room_ids.as_ref().is_some_and(|ids| !ids.contains(&room)) {
            continue;
        }
        let json = row
            .get_ref(1)
            .and_then(|v| v.as_str().map_err(Into::into))
            .map_err(ArchiveError::sqlite("exporting"))?;
        out.write_all(json.as_bytes())
            .and_then(|()| out.write_all(b"\n"))
            .map_err(ArchiveError::Write)?;
        n += 1;
    }
    out.flush().map_err(ArchiveError::Write)?;
    Ok(n)
}
