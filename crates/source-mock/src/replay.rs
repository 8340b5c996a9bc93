//! [`ReplaySource`]: a recording played back through the real decoder.

use std::collections::VecDeque;
use std::path::Path;

use async_trait::async_trait;
use ttlive_eventbus::{
    ConnectedEvent, Event, EventMeta, EventSource, SourceEnd, SourceError, SourceInfo, SourceItem,
};
use ttlive_proto::webcast::ProtoMessageFetchResult;
use ttlive_proto::{FrameLimits, decode_events, decode_fetch_result, decode_msg_frame};

use crate::pace::Pace;
use crate::recording::{Header, Recording, RecordingError, RecordingReader, Unit, UnitKind};

/// Replays a recording as an [`EventSource`].
///
/// * First a `connected` event (transport `replay`, the header's room and handle, the
///   header's start time).
/// * Then, unit by unit: a `sign_fetch` body is decoded as a `ProtoMessageFetchResult` and its
///   messages become (history) events; a `push_frame` goes through
///   [`decode_msg_frame`] (gunzip, size caps) and its batch becomes events. Client frames and
///   notes are skipped.
/// * A unit, frame or message that does not decode, and a corrupt line of the file, is yielded
///   as a recoverable [`SourceError`] (kind `decode`) and the replay goes on.
/// * The end: [`SourceEnd::StreamEnded`] once a `streamEnd` event has been yielded (the rest
///   of that batch still comes first), otherwise [`SourceEnd::Finished`] at the end of the file.
///
/// Pacing uses tokio time from the first call to `next()`: each unit is released at its offset
/// scaled by the [`Pace`], so paused-time tests run instantly. The source is cancel safe: a
/// dropped `next()` loses nothing (a unit is only taken once its time has come).
#[derive(Debug)]
pub struct ReplaySource {
    header: Header,
    name: String,
    units: VecDeque<Result<Unit, RecordingError>>,
    pending: VecDeque<SourceItem>,
    pace: Pace,
    limits: FrameLimits,
    started: Option<tokio::time::Instant>,
    connected_sent: bool,
    stream_ended: bool,
    end: Option<SourceEnd>,
}

impl ReplaySource {
    /// Replays a recording in memory, at real-time pace.
    pub fn new(recording: Recording) -> Self {
        let Recording { header, units } = recording;
        Self::from_parts(header, units.into_iter().map(Ok).collect())
    }

    /// Opens a file (plain or gzip'd). A bad header is an error here; a corrupt or truncated
    /// line later in the file is yielded as a recoverable error in its place, after everything
    /// before it.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, RecordingError> {
        let path = path.as_ref();
        let reader = RecordingReader::open(path)?;
        let (header, units) = reader.read_lossy();
        Ok(Self::from_parts(header, units).with_name(format!("replay:{}", path.display())))
    }

    /// Like [`open`](Self::open) for bytes in memory.
    pub fn from_bytes(bytes: impl Into<bytes::Bytes>) -> Result<Self, RecordingError> {
        let reader = RecordingReader::from_bytes(bytes)?;
        let (header, units) = reader.read_lossy();
        Ok(Self::from_parts(header, units))
    }

    /// From a header and what a reader yielded (units and errors, in order).
    pub fn from_parts(header: Header, units: Vec<Result<Unit, RecordingError>>) -> Self {
        let name = if header.unique_id.is_empty() {
            "replay".to_owned()
        } else {
            format!("replay:@{}", header.unique_id)
        };
        ReplaySource {
            header,
            name,
            units: units.into(),
            pending: VecDeque::new(),
            pace: Pace::RealTime,
            limits: FrameLimits::default(),
            started: None,
            connected_sent: false,
            stream_ended: false,
            end: None,
        }
    }

    /// Sets the pace (default [`Pace::RealTime`]).
    pub fn pace(mut self, pace: Pace) -> Self {
        self.pace = pace;
        self
    }

    /// Sets the decoder's size limits.
    pub fn limits(mut self, limits: FrameLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets the name reported by [`EventSource::describe`].
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The recording's header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    fn connected_event(&self) -> Event {
        Event::Connected(ConnectedEvent {
            meta: EventMeta {
                room_id: self.header.room_id,
                create_time: self.header.started_at_ms,
                ..EventMeta::default()
            },
            unique_id: self.header.unique_id.clone(),
            transport: "replay".to_owned(),
        })
    }

    fn push_batch(&mut self, result: &ProtoMessageFetchResult) {
        for item in decode_events(result) {
            match item {
                Ok(event) => {
                    if event.is_stream_end() {
                        self.stream_ended = true;
                    }
                    self.pending.push_back(SourceItem::Event(event));
                }
                Err(e) => self.pending.push_back(SourceItem::Error(
                    SourceError::decode(format!("replay: {}", short(&e.to_string())))
                        .with_source(e),
                )),
            }
        }
    }

    fn decode_unit(&mut self, unit: Unit) {
        match unit.kind {
            UnitKind::SignFetch => match decode_fetch_result(&unit.data) {
                Ok(result) => self.push_batch(&result),
                Err(e) => self.pending.push_back(SourceItem::Error(
                    SourceError::decode(format!("replay: sign_fetch at {} ms: {e}", unit.t_ms))
                        .with_source(e),
                )),
            },
            UnitKind::PushFrame => match decode_msg_frame(&unit.data, &self.limits) {
                Ok(frame) => {
                    if let Some(result) = frame.result {
                        self.push_batch(&result);
                    }
                }
                Err(e) => self.pending.push_back(SourceItem::Error(
                    SourceError::decode(format!("replay: push_frame at {} ms: {e}", unit.t_ms))
                        .with_source(e),
                )),
            },
            _ => {}
        }
    }
}

fn short(s: &str) -> String {
    const MAX: usize = 300;
    if s.len() <= MAX {
        return s.to_owned();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[async_trait]
impl EventSource for ReplaySource {
    async fn next(&mut self) -> SourceItem {
        if let Some(end) = &self.end {
            return SourceItem::End(end.clone());
        }
        if !self.connected_sent {
            self.connected_sent = true;
            return SourceItem::Event(self.connected_event());
        }
        let started = *self.started.get_or_insert_with(tokio::time::Instant::now);
        loop {
            if let Some(item) = self.pending.pop_front() {
                return item;
            }
            if self.stream_ended {
                self.end = Some(SourceEnd::StreamEnded);
                return SourceItem::End(SourceEnd::StreamEnded);
            }
            let due = match self.units.front() {
                None => {
                    self.end = Some(SourceEnd::Finished);
                    return SourceItem::End(SourceEnd::Finished);
                }
                Some(Ok(unit)) => self.pace.scale(unit.t_ms),
                Some(Err(_)) => None,
            };
            if let Some(delay) = due {
                // Cancel safe: the unit stays queued until its time has come.
                tokio::time::sleep_until(started + delay).await;
            }
            match self.units.pop_front() {
                Some(Ok(unit)) => self.decode_unit(unit),
                Some(Err(e)) => {
                    return SourceItem::Error(
                        SourceError::decode(format!("replay: {e}")).with_source(e),
                    );
                }
                None => {}
            }
        }
    }

    fn describe(&self) -> SourceInfo {
        SourceInfo::new(self.name.clone()).with_room(self.header.room_id)
    }
}
