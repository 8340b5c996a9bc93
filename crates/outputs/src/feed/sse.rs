//! `GET /events?rooms=&types=`: server-sent events.
//!
//! Each event is sent as
//!
//! ```text
//! id: 1767290400123456
//! event: chat
//! data: {"type":"chat","room_id":"…",…}
//! ```
//!
//! with a `retry: 1000` hint first and a `:heartbeat` comment every
//! [`heartbeat_ms`](crate::config::FeedConfig::heartbeat_ms). A client reconnecting with
//! `Last-Event-ID` (or `?last_event_id=`) resumes as the [feed](super) docs describe; events
//! replayed from the archive carry no `id:`, so a client that drops again during that replay
//! resumes from the same point. Bad filters get `400` with a JSON error; past `max_clients`,
//! `429`.

use std::collections::{HashSet, VecDeque};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use tokio::sync::{broadcast, watch};

use super::{
    ArchivedEvent, Attach, ClientSlot, FeedHub, FeedItem, FeedQuery, Missed, ResumeStore,
    gap_event, json_error,
};
use crate::clock;
use crate::instrument;
use crate::select::Selection;

const ARCHIVE_PAGE: usize = 500;

pub(crate) async fn handler(
    State(hub): State<FeedHub>,
    Query(q): Query<FeedQuery>,
    headers: HeaderMap,
) -> Response {
    let sel = match Selection::parse(q.rooms.as_deref(), q.types.as_deref()) {
        Ok(s) => s,
        Err(e) => return json_error(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let last = headers
        .get("last-event-id")
        .map(|v| v.to_str().unwrap_or("?").to_owned())
        .or(q.last_event_id);
    let last = match last.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => match text.parse::<u64>() {
            Ok(n) => Some(n),
            Err(_) => {
                return json_error(
                    StatusCode::BAD_REQUEST,
                    "Last-Event-ID must be an id this feed sent (a number)",
                );
            }
        },
    };
    let Some(slot) = hub.take_slot("sse") else {
        instrument::feed_closed("too_many");
        return json_error(StatusCode::TOO_MANY_REQUESTS, "too many feed clients");
    };
    let Attach {
        backlog,
        missed,
        rx,
    } = hub.attach(last);
    let mut archive = None;
    let mut lost = false;
    match missed {
        Missed::Nothing => {}
        Missed::Lost => lost = true,
        Missed::Archive { since_ms, store } => {
            archive = Some(ArchiveRead {
                store,
                since_ms,
                until_ms: clock::now_ms(),
                after_row: 0,
                skip: backlog
                    .iter()
                    .filter(|i| i.event.msg_id() != 0)
                    .map(|i| {
                        (
                            i.event.room_id(),
                            i.event.msg_id(),
                            i.event.name().to_owned(),
                        )
                    })
                    .collect(),
                pending: VecDeque::new(),
                done: false,
            })
        }
    }
    let heartbeat = hub.config().heartbeat();
    let state = Client {
        closed: hub.closed(),
        hub,
        sel,
        backlog: backlog.into(),
        archive,
        lost,
        rx,
        last_sent: last.unwrap_or(0),
        first: true,
        _slot: slot,
    };
    let stream = futures_util::stream::unfold(state, |mut c| async move {
        let ev = c.next().await?;
        Some((Ok::<_, Infallible>(ev), c))
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(heartbeat).text("heartbeat"))
        .into_response()
}

struct ArchiveRead {
    store: Arc<dyn ResumeStore>,
    since_ms: i64,
    /// Rows received after the client attached are in its backlog or live stream already.
    until_ms: i64,
    after_row: i64,
    skip: HashSet<(u64, u64, String)>,
    pending: VecDeque<ArchivedEvent>,
    done: bool,
}

impl ArchiveRead {
    /// The next archived event the client wants; `Err` when the archive failed.
    async fn next(
        &mut self,
        hub: &FeedHub,
        sel: &Selection,
    ) -> Result<Option<ArchivedEvent>, String> {
        loop {
            if let Some(row) = self.pending.pop_front() {
                if row.received_at > self.until_ms {
                    self.done = true;
                    self.pending.clear();
                    return Ok(None);
                }
                let key = (row.room_id, row.msg_id, row.kind.clone());
                if row.msg_id != 0 && self.skip.contains(&key) {
                    continue;
                }
                if !sel.matches_parts(&row.kind, row.room_id, hub.rooms()) {
                    continue;
                }
                return Ok(Some(row));
            }
            if self.done {
                return Ok(None);
            }
            let (store, since, after) = (Arc::clone(&self.store), self.since_ms, self.after_row);
            let rows =
                tokio::task::spawn_blocking(move || store.events_since(since, after, ARCHIVE_PAGE))
                    .await
                    .map_err(|e| e.to_string())?
                    .map_err(|e| crate::error_chain(&e))?;
            self.done = rows.len() < ARCHIVE_PAGE;
            if let Some(last) = rows.last() {
                self.after_row = last.row;
            }
            self.pending.extend(rows);
        }
    }
}

struct Client {
    hub: FeedHub,
    sel: Selection,
    backlog: VecDeque<Arc<FeedItem>>,
    archive: Option<ArchiveRead>,
    lost: bool,
    rx: broadcast::Receiver<Arc<FeedItem>>,
    closed: watch::Receiver<bool>,
    last_sent: u64,
    first: bool,
    _slot: ClientSlot,
}

fn live(item: &FeedItem) -> SseEvent {
    SseEvent::default()
        .id(item.seq.to_string())
        .event(item.event.name())
        .data(item.json())
}

fn gap(reason: &str) -> SseEvent {
    let json = serde_json::to_string(&gap_event(0, reason)).unwrap_or_default();
    SseEvent::default().event("gap").data(json)
}

impl Client {
    async fn next(&mut self) -> Option<SseEvent> {
        if self.first {
            self.first = false;
            return Some(
                SseEvent::default()
                    .retry(Duration::from_millis(1000))
                    .comment("ttlive feed"),
            );
        }
        if self.lost {
            self.lost = false;
            return Some(gap(
                "resumed from an id older than the feed keeps: events in between were missed",
            ));
        }
        if let Some(ar) = &mut self.archive {
            match ar.next(&self.hub, &self.sel).await {
                Ok(Some(row)) => return Some(SseEvent::default().event(&row.kind).data(row.json)),
                Ok(None) => self.archive = None,
                Err(e) => {
                    tracing::warn!(error = %e, "feed: resume from the archive failed");
                    self.archive = None;
                    return Some(gap("resuming from the archive failed: events were missed"));
                }
            }
        }
        while let Some(item) = self.backlog.pop_front() {
            if item.seq <= self.last_sent {
                continue;
            }
            self.last_sent = item.seq;
            if self.sel.matches(&item.event, self.hub.rooms()) {
                return Some(live(&item));
            }
        }
        loop {
            tokio::select! {
                r = self.rx.recv() => match r {
                    Ok(item) => {
                        if item.seq <= self.last_sent {
                            continue;
                        }
                        self.last_sent = item.seq;
                        if self.sel.matches(&item.event, self.hub.rooms()) {
                            return Some(live(&item));
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::debug!(behind = n, "feed: SSE client too slow, ending its stream");
                        instrument::feed_closed("too_slow");
                        return None;
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                _ = super::until_closed(&mut self.closed) => {
                    // Deliver what the hub published before it closed, then end.
                    while let Ok(item) = self.rx.try_recv() {
                        if item.seq > self.last_sent {
                            self.last_sent = item.seq;
                            if self.sel.matches(&item.event, self.hub.rooms()) {
                                return Some(live(&item));
                            }
                        }
                    }
                    instrument::feed_closed("shutdown");
                    return None;
                }
            }
        }
    }
}
