//! Overlay pages for OBS's browser source, served from the binary (no CDN, no external file):
//!
//! - `GET /overlay/chat?room=USER`: chat lines as they come;
//! - `GET /overlay/gifts?room=USER`: finished gifts (a streak counted once, when it ends), a
//!   leaderboard of gifters by diamonds, and an optional diamond goal bar.
//!
//! Each page has a transparent background and reads the feed's server-sent events
//! (`../events` relative to the page, so the routes keep working when the application mounts
//! them under a prefix); the browser's `EventSource` reconnects by itself and resumes with
//! `Last-Event-ID`, and the page reconnects itself should the stream be refused. A `token`
//! in the page's query is passed on to `/events` for applications that check one.
//!
//! Options (query string; all optional but `room`, which may be omitted to show every room):
//!
//! | option | page | default | meaning |
//! |---|---|---|---|
//! | `room` | both | every room | `@handle`, handle or room id |
//! | `font_size` | both | 22 | pixels |
//! | `lines` | both | 12 (chat), 6 (gifts) | lines kept on screen |
//! | `fade` | both | 30 | seconds before a line fades out (0: never) |
//! | `top` | gifts | 5 | leaderboard size (0: none) |
//! | `goal` | gifts | 0 | diamonds for the goal bar (0: no bar) |
//! | `min_diamonds` | gifts | 0 | hide smaller gifts (they still count) |

use axum::extract::Query;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::feed::json_error;
use crate::select::RoomRef;

const CHAT_PAGE: &str = include_str!("chat.html");
const GIFTS_PAGE: &str = include_str!("gifts.html");

/// The query both pages accept; the page's script reads the display options itself.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct OverlayQuery {
    room: Option<String>,
}

fn page(q: &OverlayQuery, html: &'static str) -> Response {
    if let Some(room) = q.room.as_deref().filter(|r| !r.trim().is_empty()) {
        if let Err(e) = room.parse::<RoomRef>() {
            return json_error(StatusCode::BAD_REQUEST, &e.to_string());
        }
    }
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response()
}

pub(crate) async fn chat(Query(q): Query<OverlayQuery>) -> Response {
    page(&q, CHAT_PAGE)
}

pub(crate) async fn gifts(Query(q): Query<OverlayQuery>) -> Response {
    page(&q, GIFTS_PAGE)
}
