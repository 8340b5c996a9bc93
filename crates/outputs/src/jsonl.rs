//! JSON-lines files: every event as one line (as `watch --json` prints it), one file per room
//! and day, rotated by size, optionally gzip'd on rotation.
//!
//! Layout under the configured directory:
//!
//! ```text
//! DIR/<room id>/<YYYY-MM-DD>.jsonl        the file being written (UTC date of writing)
//! DIR/<room id>/<YYYY-MM-DD>.1.jsonl.gz   rotated out at `max_bytes` (or .1.jsonl without gzip)
//! ```
//!
//! Files are written on a thread of their own and flushed after every batch. A failed write
//! (a full disk, say) is cut back to the last whole line and retried with a growing pause;
//! meanwhile events wait in the queue, and what does not fit is dropped, counted, and written
//! as a `gap` line into every file open at the time (room 0's file when none is).

use std::collections::HashMap;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use flate2::Compression;
use flate2::write::GzEncoder;
use ttlive_eventbus::{EventBus, Filter};

use crate::clock;
use crate::config::JsonlConfig;
use crate::error::JsonlError;
use crate::feed::gap_event;
use crate::inlet::{self, Drain, Inlet, Item};
use crate::instrument;

const OUTPUT: &str = "jsonl";

/// Counters of the JSON-lines output.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct JsonlStatus {
    /// Lines written (events and gaps).
    pub lines: u64,
    /// Files rotated out.
    pub rotations: u64,
    /// Events dropped because the queue was full.
    pub dropped: u64,
    /// Failed writes (each retried).
    pub errors: u64,
    /// The last failure (cleared by the next successful write).
    pub last_error: Option<String>,
    /// Events waiting in the queue.
    pub queued: usize,
}

struct OpenFile {
    path: PathBuf,
    out: BufWriter<File>,
    len: u64,
}

struct Writer {
    cfg: JsonlConfig,
    files: HashMap<u64, (String, OpenFile)>,
    compressors: Vec<JoinHandle<()>>,
    /// Items of the batch being written that are on disk already (a failed call's progress).
    committed: usize,
}

fn io(path: &Path) -> impl FnOnce(io::Error) -> JsonlError + '_ {
    move |source| JsonlError::Io {
        path: path.to_owned(),
        source,
    }
}

impl Writer {
    fn file_for(&mut self, room: u64, date: &str) -> Result<&mut OpenFile, JsonlError> {
        let stale = self.files.get(&room).is_some_and(|(d, _)| d != date);
        if stale {
            if let Some((_, mut f)) = self.files.remove(&room) {
                f.out.flush().map_err(io(&f.path))?;
            }
        }
        if !self.files.contains_key(&room) {
            let dir = self.cfg.dir.join(room.to_string());
            fs::create_dir_all(&dir).map_err(io(&dir))?;
            let path = dir.join(format!("{date}.jsonl"));
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(io(&path))?;
            let len = file.metadata().map_err(io(&path))?.len();
            self.files.insert(
                room,
                (
                    date.to_owned(),
                    OpenFile {
                        path,
                        out: BufWriter::with_capacity(64 * 1024, file),
                        len,
                    },
                ),
            );
        }
        match self.files.get_mut(&room) {
            Some((_, f)) => Ok(f),
            None => Err(io(&self.cfg.dir)(io::Error::other("file vanished"))),
        }
    }

    /// The lines of one queued item: an event's JSON, or a gap notice for every open file.
    fn lines_of(&self, item: &Item) -> Vec<(u64, String)> {
        match item {
            Item::Event(ev) => vec![(
                ev.room_id(),
                serde_json::to_string(&**ev).unwrap_or_default(),
            )],
            Item::Gap { missed } => {
                let gap = gap_event(
                    *missed,
                    "the JSON-lines output dropped events: it fell behind",
                );
                let line = serde_json::to_string(&gap).unwrap_or_default();
                let mut rooms: Vec<u64> = self.files.keys().copied().collect();
                if rooms.is_empty() {
                    rooms.push(0);
                }
                rooms.into_iter().map(|r| (r, line.clone())).collect()
            }
        }
    }

    /// Writes one batch, skipping the items an earlier, failed call of the same batch already
    /// committed (`self.committed`: the drain loop retries the same batch until it succeeds).
    ///
    /// Items are committed in segments: a segment ends where a file reaches `max_bytes`, and
    /// that file is rotated there, so no file grows past `max_bytes` by more than one line
    /// however large a batch is. On failure, the files the failed segment touched are cut back
    /// to their last whole line, and the next call resumes after the last committed item.
    fn write(&mut self, items: &[Item], status: &Mutex<JsonlStatus>) -> Result<(), JsonlError> {
        let date = clock::utc_date(clock::now_ms());
        let start = self.committed.min(items.len());
        let mut marks: HashMap<u64, (PathBuf, u64)> = HashMap::new();
        let mut done = start;
        let mut rotated: u64 = 0;
        let result = (|| {
            while done < items.len() {
                let mut full = Vec::new();
                for (room, line) in self.lines_of(&items[done]) {
                    let f = self.file_for(room, &date)?;
                    marks.entry(room).or_insert_with(|| (f.path.clone(), f.len));
                    f.out.write_all(line.as_bytes()).map_err(io(&f.path))?;
                    f.out.write_all(b"\n").map_err(io(&f.path))?;
                    f.len += line.len() as u64 + 1;
                    if f.len >= self.cfg.max_bytes {
                        full.push(room);
                    }
                }
                let last = done + 1 == items.len();
                if full.is_empty() && !last {
                    done += 1;
                    continue;
                }
                // End of a segment: flush what it touched; it is committed.
                for room in marks.keys() {
                    if let Some((_, f)) = self.files.get_mut(room) {
                        f.out.flush().map_err(io(&f.path))?;
                    }
                }
                marks.clear();
                done += 1;
                self.committed = done;
                for room in full {
                    self.rotate(room)?;
                    rotated += 1;
                }
            }
            Ok(())
        })();
        let written = (self.committed.max(start) - start) as u64;
        {
            let mut st = crate::lock(status);
            st.lines += written;
            st.rotations += rotated;
        }
        instrument::events_out(OUTPUT, written);
        if let Err(e) = result {
            // Drop the buffered writers and cut each file back to its last whole line.
            for (room, (path, len)) in marks {
                self.files.remove(&room);
                if let Ok(f) = OpenOptions::new().write(true).open(&path) {
                    let _ = f.set_len(len);
                }
            }
            return Err(e);
        }
        self.committed = 0;
        crate::lock(status).last_error = None;
        Ok(())
    }

    fn rotate(&mut self, room: u64) -> Result<(), JsonlError> {
        let Some((date, mut f)) = self.files.remove(&room) else {
            return Ok(());
        };
        f.out.flush().map_err(io(&f.path))?;
        drop(f.out);
        let dir = f.path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut n = 1;
        let target = loop {
            let plain = dir.join(format!("{date}.{n}.jsonl"));
            let gz = dir.join(format!("{date}.{n}.jsonl.gz"));
            if !plain.exists() && !gz.exists() {
                break plain;
            }
            n += 1;
        };
        fs::rename(&f.path, &target).map_err(io(&f.path))?;
        if self.cfg.gzip {
            self.compressors.retain(|h| !h.is_finished());
            let spawned = std::thread::Builder::new()
                .name("ttlive-jsonl-gzip".into())
                .spawn(move || {
                    if let Err(e) = gzip(&target) {
                        tracing::warn!(file = %target.display(), error = %e,
                            "jsonl: gzip on rotation failed; the file stays uncompressed");
                        instrument::output_error(OUTPUT);
                    }
                });
            match spawned {
                Ok(h) => self.compressors.push(h),
                Err(e) => tracing::warn!(error = %e, "jsonl: cannot start the gzip thread"),
            }
        }
        Ok(())
    }

    fn close(&mut self) {
        for (_, (_, mut f)) in self.files.drain() {
            let _ = f.out.flush();
        }
        for h in self.compressors.drain(..) {
            let _ = h.join();
        }
    }
}

/// Compresses `path` to `path.gz` and removes `path`.
fn gzip(path: &Path) -> io::Result<()> {
    let mut gz_name = path.as_os_str().to_owned();
    gz_name.push(".gz");
    let gz_path = PathBuf::from(gz_name);
    let tmp = gz_path.with_extension("gz.part");
    let mut input = File::open(path)?;
    let mut enc = GzEncoder::new(BufWriter::new(File::create(&tmp)?), Compression::default());
    io::copy(&mut input, &mut enc)?;
    enc.finish()?.flush()?;
    fs::rename(&tmp, &gz_path)?;
    fs::remove_file(path)
}

/// A running JSON-lines output.
pub struct JsonlOutput {
    inlet: Arc<Inlet>,
    status: Arc<Mutex<JsonlStatus>>,
    thread: crate::WriterThread,
}

impl fmt::Debug for JsonlOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonlOutput")
            .field("status", &self.status())
            .finish()
    }
}

impl JsonlOutput {
    /// Creates the directory and starts writing what `bus` publishes.
    pub fn start(bus: &EventBus, cfg: &JsonlConfig) -> Result<JsonlOutput, JsonlError> {
        fs::create_dir_all(&cfg.dir).map_err(io(&cfg.dir))?;
        let inlet = Inlet::new(OUTPUT, cfg.queue);
        inlet::pump(bus, Filter::all(), Arc::clone(&inlet));
        let status = Arc::new(Mutex::new(JsonlStatus::default()));
        let mut writer = Writer {
            cfg: cfg.clone(),
            files: HashMap::new(),
            compressors: Vec::new(),
            committed: 0,
        };
        let thread = {
            let (inlet, status) = (Arc::clone(&inlet), Arc::clone(&status));
            std::thread::Builder::new()
                .name("ttlive-jsonl".into())
                .spawn(move || run(&mut writer, &inlet, &status))
                .map_err(io(&cfg.dir))?
        };
        Ok(JsonlOutput {
            inlet,
            status,
            thread: crate::WriterThread::new(Some(thread)),
        })
    }

    /// Counters and the last error.
    pub fn status(&self) -> JsonlStatus {
        let mut s = crate::lock(&self.status).clone();
        s.queued = self.inlet.len();
        s
    }

    /// Waits, after the bus closed, until everything queued is written and rotated files
    /// are compressed.
    pub async fn finish(&self) {
        self.thread.join().await;
    }
}

fn run(writer: &mut Writer, inlet: &Inlet, status: &Mutex<JsonlStatus>) {
    let drain = Drain {
        max: 4096,
        linger: Duration::from_millis(20),
        grace: Duration::from_secs(10),
    };
    let write = |items: &[Item]| {
        writer.write(items, status)?;
        let dropped = inlet::gap_count(items);
        if dropped > 0 {
            crate::lock(status).dropped += dropped;
        }
        Ok::<(), JsonlError>(())
    };
    let failed = |e: &JsonlError, events: usize| {
        let text = crate::error_chain(e);
        tracing::warn!(error = %text, events, "jsonl: write failed, will retry");
        instrument::output_error(OUTPUT);
        let mut st = crate::lock(status);
        st.errors += 1;
        st.last_error = Some(text);
    };
    let lost = inlet::drain_blocking(inlet, drain, write, failed);
    if lost > 0 {
        tracing::error!(
            lost,
            "jsonl: giving up on the events still queued at shutdown"
        );
        instrument::dropped(OUTPUT, lost);
        crate::lock(status).dropped += lost;
    }
    writer.close();
}
