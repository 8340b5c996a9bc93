//! `--record FILE`: the live source's recording tap writing source-mock's recording format.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ttlive_source_mock::{Header, RecordingError, RecordingWriter, Unit, UnitKind};
use ttlive_source_tiktok::RecordingTap;

enum State {
    /// The file was created; the header waits for the room id (known at the first sign fetch).
    Pending(PathBuf),
    Writing(RecordingWriter<Box<dyn std::io::Write + Send>>),
    Failed(String),
    Done,
}

/// A cloneable handle: one clone goes into the source, the other finishes the file.
#[derive(Clone)]
pub struct FileTap {
    state: Arc<Mutex<State>>,
    unique_id: String,
}

impl FileTap {
    /// Creates the file now, so a bad path fails before connecting (`.gz` names are gzip'd).
    pub fn create(path: &Path, user: &str) -> std::io::Result<Self> {
        std::fs::File::create(path)?;
        Ok(FileTap {
            state: Arc::new(Mutex::new(State::Pending(path.to_owned()))),
            unique_id: user.trim_start_matches('@').to_owned(),
        })
    }

    fn write(&self, room_id: u64, at: Duration, kind: UnitKind, data: &[u8]) {
        let mut guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let state = std::mem::replace(&mut *guard, State::Done);
        *guard = match state {
            State::Pending(path) => {
                let header = Header::new(room_id).with_unique_id(self.unique_id.clone());
                match RecordingWriter::create(&path, &header) {
                    Ok(mut w) => match w.write_unit(&unit(at, kind, data)) {
                        Ok(()) => State::Writing(w),
                        Err(e) => State::Failed(e.to_string()),
                    },
                    Err(e) => State::Failed(e.to_string()),
                }
            }
            State::Writing(mut w) => match w.write_unit(&unit(at, kind, data)) {
                Ok(()) => State::Writing(w),
                Err(e) => State::Failed(e.to_string()),
            },
            other => other,
        };
    }

    /// Flushes and closes the file; returns the number of lines written.
    pub fn finish(&self) -> Result<u64, String> {
        let mut guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match std::mem::replace(&mut *guard, State::Done) {
            State::Writing(w) => {
                let lines = w.lines();
                w.finish().map_err(|e: RecordingError| e.to_string())?;
                Ok(lines)
            }
            State::Pending(_) => Ok(0),
            State::Failed(e) => Err(e),
            State::Done => Ok(0),
        }
    }
}

fn unit(at: Duration, kind: UnitKind, data: &[u8]) -> Unit {
    Unit::new(
        u64::try_from(at.as_millis()).unwrap_or(u64::MAX),
        kind,
        data.to_vec(),
    )
}

impl RecordingTap for FileTap {
    fn sign_fetch(&mut self, at: Duration, room_id: u64, body: &[u8]) {
        self.write(room_id, at, UnitKind::SignFetch, body);
    }

    fn push_frame(&mut self, at: Duration, frame: &[u8]) {
        self.write(0, at, UnitKind::PushFrame, frame);
    }

    fn client_frame(&mut self, at: Duration, frame: &[u8]) {
        self.write(0, at, UnitKind::ClientFrame, frame);
    }
}
