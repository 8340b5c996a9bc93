//! Counters a test (or a benchmark in another process, through `GET /_fake/stats`) reads:
//! requests per route per second, and per room the sockets and the msg ids pushed.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::Instant;

use serde::Serialize;

/// Seconds of per-second request counts kept per route.
pub const ROUTE_HISTORY_SECS: usize = 3600;

/// Requests one route received.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RouteStats {
    /// Requests since the server started.
    pub total: u64,
    /// `(second since the server started, requests in that second)`, oldest first, for the
    /// last [`ROUTE_HISTORY_SECS`] seconds that had any.
    pub per_second: Vec<(u64, u64)>,
}

impl RouteStats {
    /// The most requests in any `window` consecutive seconds, divided by `window`: the peak
    /// rate a client held over that window (1 = the busiest single second).
    pub fn peak_rate(&self, window: u64) -> f64 {
        let window = window.max(1);
        let mut best = 0u64;
        let mut sum = 0u64;
        let mut start = 0usize;
        for &(sec, n) in &self.per_second {
            sum += n;
            while self.per_second[start].0 + window <= sec {
                sum -= self.per_second[start].1;
                start += 1;
            }
            best = best.max(sum);
        }
        #[allow(clippy::cast_precision_loss)]
        let rate = best as f64 / window as f64;
        rate
    }

    /// Requests in seconds `from..to` since the server started.
    pub fn between(&self, from: u64, to: u64) -> u64 {
        self.per_second
            .iter()
            .filter(|(s, _)| (from..to).contains(s))
            .map(|(_, n)| n)
            .sum()
    }
}

#[derive(Debug, Default)]
struct RouteCounter {
    total: u64,
    buckets: VecDeque<(u64, u64)>,
}

/// Requests per route per second since `start`.
#[derive(Debug)]
pub(crate) struct RouteCounters {
    start: Instant,
    routes: Mutex<BTreeMap<String, RouteCounter>>,
}

impl RouteCounters {
    pub(crate) fn new(start: Instant) -> RouteCounters {
        RouteCounters {
            start,
            routes: Mutex::new(BTreeMap::new()),
        }
    }

    pub(crate) fn count(&self, route: &str) {
        let sec = self.start.elapsed().as_secs();
        let Ok(mut routes) = self.routes.lock() else {
            return;
        };
        let c = match routes.get_mut(route) {
            Some(c) => c,
            None => routes.entry(route.to_owned()).or_default(),
        };
        c.total += 1;
        match c.buckets.back_mut() {
            Some((s, n)) if *s == sec => *n += 1,
            _ => {
                c.buckets.push_back((sec, 1));
                while c.buckets.len() > ROUTE_HISTORY_SECS {
                    c.buckets.pop_front();
                }
            }
        }
    }

    pub(crate) fn snapshot(&self) -> BTreeMap<String, RouteStats> {
        self.routes
            .lock()
            .map(|routes| {
                routes
                    .iter()
                    .map(|(k, c)| {
                        (
                            k.clone(),
                            RouteStats {
                                total: c.total,
                                per_second: c.buckets.iter().copied().collect(),
                            },
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// How a pushed message reached the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Via {
    /// In a `msg` (or `im_enter_room_resp`) frame on the push WebSocket.
    Socket,
    /// In the history of a sign-server fetch result.
    Sign,
    /// In an `im/fetch` poll.
    Poll,
}

/// A contiguous run of one stream's messages that went out: units `from..to`, which are
/// sequence numbers for generated rooms and frame indexes (or the history, or the stream end)
/// for recorded ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct Span {
    pub(crate) stream: u32,
    pub(crate) via: Via,
    pub(crate) unit: Unit,
    pub(crate) from: u64,
    pub(crate) to: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Unit {
    /// Generated sequence numbers.
    Seq,
    /// Frame indexes of a recording.
    Frames,
    /// The recording's history messages (`from..to` is `0..1`).
    History,
    /// The stream-end control message (`from..to` is `0..1`).
    End,
}

/// Spans a room keeps (the oldest are dropped past this, and counted).
pub(crate) const MAX_SPANS: usize = 4096;

/// One room's counters, as [`FakeServer::room_stats`](super::FakeServer::room_stats) gives them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RoomStats {
    /// The user (`room0003`).
    pub user: String,
    /// Whether the room is live now.
    pub live: bool,
    /// The current (or, offline, the last) stream's room id.
    pub room_id: u64,
    /// The stream number (0 for the first; each new stream adds one).
    pub stream: u32,
    /// Push WebSockets open on the room now.
    pub sockets_open: u64,
    /// Push WebSockets ever opened on it.
    pub sockets_ever: u64,
    /// Messages pushed (counting a message once per delivery: two sockets, two deliveries).
    pub messages_pushed: u64,
    /// Streams started (live phases begun) since the server started.
    pub streams_started: u64,
    /// Streams ended (by the schedule or the API).
    pub streams_ended: u64,
    /// Runs of pushed messages dropped from the record to stay bounded (0 unless a room
    /// pushed from more than 4,096 separate places).
    pub spans_dropped: u64,
}

/// The bounded record of what a room pushed.
#[derive(Debug, Default)]
pub(crate) struct Pushed {
    pub(crate) spans: VecDeque<Span>,
    pub(crate) dropped: u64,
    pub(crate) messages: u64,
}

impl Pushed {
    /// Notes units `from..to` of a stream (and `messages` messages in them) as pushed,
    /// merging with the newest run when they touch.
    pub(crate) fn note(
        &mut self,
        stream: u32,
        via: Via,
        unit: Unit,
        from: u64,
        to: u64,
        messages: u64,
    ) {
        self.messages += messages;
        if from >= to {
            return;
        }
        if let Some(last) = self.spans.back_mut()
            && last.stream == stream
            && last.via == via
            && last.unit == unit
            && from <= last.to
            && to >= last.from
        {
            last.from = last.from.min(from);
            last.to = last.to.max(to);
            return;
        }
        self.spans.push_back(Span {
            stream,
            via,
            unit,
            from,
            to,
        });
        if self.spans.len() > MAX_SPANS {
            self.spans.pop_front();
            self.dropped += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_rate_slides_over_seconds() {
        let r = RouteStats {
            total: 10,
            per_second: vec![(0, 1), (1, 5), (2, 1), (10, 3)],
        };
        assert_eq!(r.peak_rate(1), 5.0);
        assert_eq!(r.peak_rate(2), 3.0);
        assert_eq!(r.peak_rate(10), 0.9);
        assert_eq!(r.between(1, 3), 6);
    }

    #[test]
    fn pushed_runs_merge_when_they_touch() {
        let mut p = Pushed::default();
        p.note(0, Via::Socket, Unit::Seq, 0, 10, 10);
        p.note(0, Via::Socket, Unit::Seq, 10, 12, 2);
        p.note(0, Via::Socket, Unit::Seq, 5, 12, 7);
        p.note(1, Via::Socket, Unit::Seq, 0, 3, 3);
        assert_eq!(p.spans.len(), 2);
        assert_eq!((p.spans[0].from, p.spans[0].to), (0, 12));
        assert_eq!(p.messages, 22);
        for i in 0..MAX_SPANS as u64 {
            p.note(2, Via::Socket, Unit::Seq, i * 2, i * 2 + 1, 1);
        }
        assert_eq!(p.spans.len(), MAX_SPANS);
        assert_eq!(p.dropped, 2);
    }
}
