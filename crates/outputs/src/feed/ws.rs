//! `GET /ws?rooms=&types=`: one text message per event, the same JSON object `watch --json`
//! prints.
//!
//! The server pings every [`ping_interval_ms`](crate::config::FeedConfig::ping_interval_ms);
//! a client that sends nothing (not even the pong its library answers automatically) for two
//! intervals is closed. Messages a client sends are otherwise ignored.
//!
//! # Close codes
//!
//! The 4xxx codes follow the hosted Euler Stream socket's meanings where they fit.
//!
//! | code | constant | meaning |
//! |---|---|---|
//! | 1001 | | the service is shutting down |
//! | 4400 | [`CLOSE_BAD_OPTIONS`] | bad `rooms` or `types` (the reason says which) |
//! | 4401 | [`CLOSE_BAD_TOKEN`] | missing or wrong token (sent by the application's auth layer) |
//! | 4404 | [`CLOSE_NOT_LIVE`] | reserved: the room is not live (the feed itself outlives streams) |
//! | 4005 | [`CLOSE_STREAM_END`] | reserved: the stream ended (the feed sends the `streamEnd` event and stays open, since the next stream is followed too) |
//! | 4429 | [`CLOSE_TOO_MANY`] | too many connections (`max_clients`) |
//! | 4008 | [`CLOSE_TOO_SLOW`] | the client fell `client_buffer` events behind |
//! | 4408 | [`CLOSE_PING_TIMEOUT`] | the client did not answer pings |

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::Response;
use bytes::Bytes;
use futures_util::SinkExt;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::time::Instant;

use super::{Attach, ClientSlot, FeedHub, FeedQuery};
use crate::error::SelectError;
use crate::instrument;
use crate::select::Selection;

/// The stream ended (reserved; see the table above).
pub const CLOSE_STREAM_END: u16 = 4005;
/// The client fell too far behind.
pub const CLOSE_TOO_SLOW: u16 = 4008;
/// Bad options (`rooms`, `types`).
pub const CLOSE_BAD_OPTIONS: u16 = 4400;
/// Missing or wrong token.
pub const CLOSE_BAD_TOKEN: u16 = 4401;
/// The room is not live (reserved).
pub const CLOSE_NOT_LIVE: u16 = 4404;
/// The client did not answer pings.
pub const CLOSE_PING_TIMEOUT: u16 = 4408;
/// Too many connections.
pub const CLOSE_TOO_MANY: u16 = 4429;

pub(crate) async fn handler(
    State(hub): State<FeedHub>,
    Query(q): Query<FeedQuery>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let sel = Selection::parse(q.rooms.as_deref(), q.types.as_deref());
    let slot = hub.take_slot("ws");
    upgrade.on_upgrade(move |socket| run(hub, socket, sel, slot))
}

async fn run(
    hub: FeedHub,
    mut socket: WebSocket,
    sel: Result<Selection, SelectError>,
    slot: Option<ClientSlot>,
) {
    let sel = match sel {
        Ok(s) => s,
        Err(e) => {
            instrument::feed_closed("bad_options");
            return close(socket, CLOSE_BAD_OPTIONS, &e.to_string()).await;
        }
    };
    let Some(_slot) = slot else {
        instrument::feed_closed("too_many");
        return close(socket, CLOSE_TOO_MANY, "too many connections").await;
    };
    let Attach { mut rx, .. } = hub.attach(None);
    let mut closed = hub.closed();
    let period = hub.config().ping_interval();
    let mut ping = tokio::time::interval_at(Instant::now() + period, period);
    let mut last_heard = Instant::now();
    loop {
        tokio::select! {
            r = rx.recv() => match r {
                Ok(item) => {
                    // Queue this event and whatever else is ready, then flush once: one
                    // write for a burst instead of one per event.
                    let mut next = Some(item);
                    let mut ready = 0;
                    while let Some(item) = next.take() {
                        if sel.matches(item.event(), hub.rooms())
                            && socket.feed(Message::Text(item.json.clone())).await.is_err()
                        {
                            return;
                        }
                        ready += 1;
                        if ready < BURST {
                            match rx.try_recv() {
                                Ok(more) => next = Some(more),
                                Err(TryRecvError::Lagged(n)) => return too_slow(socket, n).await,
                                Err(_) => {}
                            }
                        }
                    }
                    if socket.flush().await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Lagged(n)) => return too_slow(socket, n).await,
                Err(RecvError::Closed) => return close(socket, 1001, "going away").await,
            },
            m = socket.recv() => match m {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                Some(Ok(_)) => last_heard = Instant::now(),
            },
            _ = ping.tick() => {
                if last_heard.elapsed() > period * 2 {
                    instrument::feed_closed("ping_timeout");
                    return close(socket, CLOSE_PING_TIMEOUT, "no answer to pings").await;
                }
                if socket.send(Message::Ping(Bytes::new())).await.is_err() {
                    return;
                }
            }
            _ = super::until_closed(&mut closed) => {
                // Deliver what the hub published before it closed, then say goodbye.
                while let Ok(item) = rx.try_recv() {
                    if sel.matches(item.event(), hub.rooms())
                        && socket.send(Message::Text(item.json.clone())).await.is_err()
                    {
                        return;
                    }
                }
                instrument::feed_closed("shutdown");
                return close(socket, 1001, "going away").await;
            }
        }
    }
}

/// Events written before one flush, at most.
const BURST: usize = 64;

async fn too_slow(socket: WebSocket, behind: u64) {
    instrument::feed_closed("too_slow");
    let reason = format!("too slow: fell {behind} events behind");
    close(socket, CLOSE_TOO_SLOW, &reason).await;
}

/// Sends a close frame and waits briefly for the client's answer.
async fn close(mut socket: WebSocket, code: u16, reason: &str) {
    let mut reason: String = reason.to_owned();
    while reason.len() > 120 {
        reason.pop();
    }
    let frame = CloseFrame {
        code,
        reason: Utf8Bytes::from(reason),
    };
    if socket.send(Message::Close(Some(frame))).await.is_err() {
        return;
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(Ok(m)) = socket.recv().await {
            if matches!(m, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}
