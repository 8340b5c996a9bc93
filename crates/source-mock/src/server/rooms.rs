//! The rooms the fake server knows: who is live, each stream's room id, what each room pushed,
//! and the clock that moves rooms along their schedules.
//!
//! Every user is a [`Room`]. A room is live or not; each time it goes live it starts a new
//! stream with a new room id (as TikTok does), and each time its stream ends the push sockets on
//! it get a stream-end message and close. Old room ids stay known (not alive, status 4).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;

use super::UserState;
use super::feed::{RecordedFeed, Rewrite};
use super::schedule::{Phase, Schedule};
use super::stats::{Pushed, RoomStats, Unit, Via};
use super::traffic::{self, StreamKey};

/// First invented room id: stream `s` of room `index` has `ROOM_ID_BASE + index·1000 + s`.
pub(crate) const ROOM_ID_BASE: u64 = 7_470_000_000_000_000_000;

/// What a room plays while live.
#[derive(Debug, Clone)]
pub(crate) enum Feed {
    /// A recording or script, from the start for each socket.
    Recorded(Arc<RecordedFeed>),
    /// Generated traffic at this many messages per second.
    Generated { rate: f64 },
}

/// A room's stream as sockets see it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct StreamPhase {
    pub(crate) live: bool,
    pub(crate) stream: u32,
    pub(crate) room_id: u64,
    pub(crate) started: Instant,
    pub(crate) started_ms: i64,
    /// When the stream ended (for generated rooms, the messages up to then were sent).
    pub(crate) ended: Option<Instant>,
    /// The control action of the end (3 ended, 4 suspended).
    pub(crate) end_action: i32,
}

#[derive(Debug)]
struct State {
    phase: StreamPhase,
    pushed: Pushed,
    sockets_open: u64,
    sockets_ever: u64,
    streams_started: u64,
    streams_ended: u64,
}

/// One user of the fake server.
#[derive(Debug)]
pub(crate) struct Room {
    pub(crate) index: usize,
    pub(crate) unique_id: String,
    /// False for users that do not exist.
    pub(crate) exists: bool,
    pub(crate) feed: Option<Feed>,
    /// Plays stream 0 of the recording as it is (ids and room id untouched).
    primary: bool,
    /// Room id of stream 0 when given (or the recording's, for the primary room).
    first_room_id: Option<u64>,
    pub(crate) schedule: Option<Schedule>,
    state: Mutex<State>,
    phase_tx: watch::Sender<StreamPhase>,
}

pub(crate) fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The parts of a room that a builder decides.
#[derive(Debug, Clone)]
pub(crate) struct RoomSpec {
    pub(crate) unique_id: String,
    pub(crate) state: UserState,
    pub(crate) room_id: Option<u64>,
    pub(crate) feed: Option<Feed>,
    pub(crate) primary: bool,
    pub(crate) schedule: Option<Schedule>,
}

impl Room {
    fn new(index: usize, spec: RoomSpec, now: Instant) -> Room {
        let exists = spec.state != UserState::Unknown;
        // A schedule's first phase decides the state at the start.
        let live = match spec.schedule.as_ref().and_then(|s| s.phase(0)) {
            Some(Phase::Live(_)) => true,
            Some(_) => false,
            None => spec.state == UserState::Live,
        };
        let first_room_id = spec.room_id;
        let room_id = if exists {
            first_room_id.unwrap_or(ROOM_ID_BASE + index as u64 * 1000)
        } else {
            0
        };
        let phase = StreamPhase {
            live,
            stream: 0,
            room_id,
            started: now,
            started_ms: wall_ms(),
            ended: (!live).then_some(now),
            end_action: 3,
        };
        let (phase_tx, _) = watch::channel(phase);
        Room {
            index,
            unique_id: spec.unique_id,
            exists,
            feed: spec.feed,
            primary: spec.primary,
            first_room_id,
            schedule: spec.schedule.filter(|_| exists),
            state: Mutex::new(State {
                phase,
                pushed: Pushed::default(),
                sockets_open: 0,
                sockets_ever: 0,
                streams_started: u64::from(live),
                streams_ended: 0,
            }),
            phase_tx,
        }
    }

    fn room_id_of(&self, stream: u32) -> u64 {
        match (stream, self.first_room_id) {
            (0, Some(id)) => id,
            _ => ROOM_ID_BASE + self.index as u64 * 1000 + u64::from(stream % 1000),
        }
    }

    /// The stream as it is now.
    pub(crate) fn phase(&self) -> StreamPhase {
        *self.phase_tx.borrow()
    }

    /// A receiver that sees every change of the stream.
    pub(crate) fn watch(&self) -> watch::Receiver<StreamPhase> {
        self.phase_tx.subscribe()
    }

    pub(crate) fn is_live(&self) -> bool {
        self.exists && self.phase().live
    }

    /// How the messages of `stream` are rewritten (`None`: played as recorded).
    pub(crate) fn rewrite(&self, stream: u32, room_id: u64) -> Option<Rewrite> {
        (!(self.primary && stream == 0)).then(|| Rewrite::new(self.index, stream, room_id))
    }

    /// Starts a new stream (new room id) unless live; returns the new room id when it did.
    fn go_live(&self, now: Instant) -> Option<u64> {
        let mut st = self.state.lock().ok()?;
        if st.phase.live || !self.exists {
            return None;
        }
        let stream = st.phase.stream + 1;
        st.phase = StreamPhase {
            live: true,
            stream,
            room_id: self.room_id_of(stream),
            started: now,
            started_ms: wall_ms(),
            ended: None,
            end_action: 3,
        };
        st.streams_started += 1;
        let phase = st.phase;
        drop(st);
        self.phase_tx.send_replace(phase);
        Some(phase.room_id)
    }

    /// Ends the live stream with this control action; false when it was not live.
    fn end(&self, action: i32, now: Instant) -> bool {
        let Ok(mut st) = self.state.lock() else {
            return false;
        };
        if !st.phase.live {
            return false;
        }
        st.phase.live = false;
        st.phase.ended = Some(now);
        st.phase.end_action = action;
        st.streams_ended += 1;
        let phase = st.phase;
        drop(st);
        self.phase_tx.send_replace(phase);
        true
    }

    pub(crate) fn socket_opened(&self) {
        if let Ok(mut st) = self.state.lock() {
            st.sockets_open += 1;
            st.sockets_ever += 1;
        }
    }

    pub(crate) fn socket_closed(&self) {
        if let Ok(mut st) = self.state.lock() {
            st.sockets_open = st.sockets_open.saturating_sub(1);
        }
    }

    pub(crate) fn note_pushed(
        &self,
        stream: u32,
        via: Via,
        unit: Unit,
        from: u64,
        to: u64,
        messages: u64,
    ) {
        if let Ok(mut st) = self.state.lock() {
            st.pushed.note(stream, via, unit, from, to, messages);
        }
    }

    pub(crate) fn stats(&self) -> RoomStats {
        let Ok(st) = self.state.lock() else {
            return RoomStats::default();
        };
        RoomStats {
            user: self.unique_id.clone(),
            live: self.exists && st.phase.live,
            room_id: st.phase.room_id,
            stream: st.phase.stream,
            sockets_open: st.sockets_open,
            sockets_ever: st.sockets_ever,
            messages_pushed: st.pushed.messages,
            streams_started: st.streams_started,
            streams_ended: st.streams_ended,
            spans_dropped: st.pushed.dropped,
        }
    }

    /// Every msg id the room pushed (sorted, each once), as far as the bounded record keeps.
    pub(crate) fn pushed_msg_ids(&self) -> Vec<u64> {
        let spans = match self.state.lock() {
            Ok(st) => st.pushed.spans.clone(),
            Err(_) => return Vec::new(),
        };
        let mut ids = Vec::new();
        for span in spans {
            let room_id = self.room_id_of(span.stream);
            match (&self.feed, span.unit) {
                (Some(Feed::Generated { .. }), Unit::Seq | Unit::End) => {
                    ids.extend(
                        (span.from..span.to).map(|s| traffic::msg_id(self.index, span.stream, s)),
                    );
                }
                (Some(Feed::Recorded(feed)), unit) => {
                    let rw = self.rewrite(span.stream, room_id);
                    match unit {
                        Unit::History => ids.extend(feed.ids_of(feed.initial.iter(), rw.as_ref())),
                        Unit::End => ids.push(feed.end_msg_id(rw.as_ref())),
                        _ => {
                            let from = usize::try_from(span.from).unwrap_or(usize::MAX);
                            let to = usize::try_from(span.to).unwrap_or(usize::MAX);
                            let frames = feed
                                .frames
                                .get(from..to.min(feed.frames.len()))
                                .unwrap_or(&[]);
                            let msgs = frames
                                .iter()
                                .filter_map(|f| f.result.as_ref())
                                .flat_map(|r| r.messages.iter());
                            ids.extend(feed.ids_of(msgs, rw.as_ref()));
                        }
                    }
                }
                _ => {}
            }
        }
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// How many generated messages of `phase`'s stream have happened by now (or by its end).
    pub(crate) fn seq_now(&self, phase: &StreamPhase, rate: f64) -> u64 {
        let until = phase.ended.unwrap_or_else(Instant::now);
        traffic::happened(until.saturating_duration_since(phase.started), rate)
    }

    /// The generated-stream key of `phase` (for generated rooms).
    pub(crate) fn stream_key(&self, phase: &StreamPhase) -> StreamKey {
        StreamKey {
            index: self.index,
            stream: phase.stream,
            room_id: phase.room_id,
            started_ms: phase.started_ms,
        }
    }
}

/// Every room, found by name or by any room id it ever had.
#[derive(Debug)]
pub(crate) struct Rooms {
    pub(crate) list: Vec<Arc<Room>>,
    by_name: HashMap<String, usize>,
    by_room_id: RwLock<HashMap<u64, (usize, u32)>>,
    pub(crate) started: Instant,
}

impl Rooms {
    pub(crate) fn new(specs: Vec<RoomSpec>, started: Instant) -> Rooms {
        let list: Vec<Arc<Room>> = specs
            .into_iter()
            .enumerate()
            .map(|(i, spec)| Arc::new(Room::new(i, spec, started)))
            .collect();
        let mut by_name = HashMap::new();
        let mut by_room_id = HashMap::new();
        for r in &list {
            by_name
                .entry(r.unique_id.to_ascii_lowercase())
                .or_insert(r.index);
            if r.exists {
                by_room_id.entry(r.phase().room_id).or_insert((r.index, 0));
            }
        }
        Rooms {
            list,
            by_name,
            by_room_id: RwLock::new(by_room_id),
            started,
        }
    }

    pub(crate) fn by_name(&self, unique_id: &str) -> Option<&Arc<Room>> {
        self.by_name
            .get(&unique_id.to_ascii_lowercase())
            .map(|&i| &self.list[i])
    }

    /// The room (and stream) a room id belongs to.
    pub(crate) fn by_room_id(&self, room_id: u64) -> Option<(&Arc<Room>, u32)> {
        let map = self.by_room_id.read().ok()?;
        map.get(&room_id).map(|&(i, s)| (&self.list[i], s))
    }

    /// The room to serve when a request names none we know: the first live one's.
    pub(crate) fn default_room(&self) -> Option<&Arc<Room>> {
        self.list
            .iter()
            .find(|r| r.is_live())
            .or_else(|| self.list.iter().find(|r| r.exists))
    }

    fn remember(&self, room: &Room, room_id: u64) {
        if let Ok(mut map) = self.by_room_id.write() {
            map.insert(room_id, (room.index, room.phase().stream));
        }
    }

    /// Starts a new stream in `room` unless it is live. Returns the new room id.
    pub(crate) fn go_live(&self, room: &Room) -> Option<u64> {
        let id = room.go_live(Instant::now())?;
        self.remember(room, id);
        tracing::info!(user = %room.unique_id, room_id = id, "fake server: room went live");
        Some(id)
    }

    /// Ends `room`'s stream with this control action (3 ended, 4 suspended).
    pub(crate) fn end(&self, room: &Room, action: i32) -> bool {
        let ended = room.end(action, Instant::now());
        if ended {
            tracing::info!(user = %room.unique_id, action, "fake server: stream ended");
        }
        ended
    }

    /// Applies phase `index` of the room's schedule (at `at`, its scheduled time).
    fn apply_phase(&self, room: &Room, index: usize, at: Instant) -> Option<Instant> {
        let phase = room.schedule.as_ref()?.phase(index)?;
        match phase {
            Phase::Live(_) => {
                if let Some(id) = room.go_live(at) {
                    self.remember(room, id);
                    tracing::info!(user = %room.unique_id, room_id = id, "fake server: schedule: live");
                }
            }
            Phase::Offline(_) => {
                if room.end(3, at) {
                    tracing::info!(user = %room.unique_id, "fake server: schedule: stream ended, offline");
                }
            }
            Phase::End { action } => {
                if room.end(action, at) {
                    tracing::info!(user = %room.unique_id, action, "fake server: schedule: stream ended");
                }
            }
        }
        let length = match phase {
            Phase::Live(d) | Phase::Offline(d) => d?,
            _ => Duration::ZERO,
        };
        Some(at + length)
    }

    /// Moves every scheduled room along its schedule, forever (the server's clock task). Phase
    /// 0 was applied when the room was made.
    pub(crate) async fn run_schedules(self: Arc<Self>) {
        // (when, room index, phase index)
        let mut heap: BinaryHeap<Reverse<(Instant, usize, usize)>> = BinaryHeap::new();
        for r in &self.list {
            if let Some(s) = &r.schedule {
                let first = match s.phase(0) {
                    Some(Phase::Live(Some(d)) | Phase::Offline(Some(d))) => self.started + d,
                    Some(Phase::End { .. }) => self.started,
                    _ => continue,
                };
                heap.push(Reverse((first, r.index, 1)));
            }
        }
        while let Some(Reverse((at, room, phase))) = heap.pop() {
            tokio::time::sleep_until(at.into()).await;
            let r = &self.list[room];
            if let Some(next) = self.apply_phase(r, phase, at) {
                // A zero-length phase (end) leads straight to the next one.
                heap.push(Reverse((next, room, phase + 1)));
            }
        }
    }
}
