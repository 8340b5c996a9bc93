//! The webhook's disk spool: an append-only queue of deliveries in segment files, with a
//! persisted read cursor, so deliveries survive a receiver that stays down and a restart.
//!
//! Layout of the spool directory:
//!
//! - `seg-000000000001.jsonl`, …: one [`Record`] per line, appended in order; a segment is
//!   closed at 4 MiB and deleted once fully delivered;
//! - `cursor`: `<segment> <byte offset>` of the next record to deliver, replaced atomically
//!   (write and rename) after each delivery.
//!
//! A line cut short by a crash is dropped when the spool is opened.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

const SEGMENT_MAX: u64 = 4 << 20;

/// One delivery: an id that stays the same across retries and restarts, when it was queued,
/// how many events it holds, and the exact body to POST.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Record {
    pub(crate) id: String,
    pub(crate) created_ms: i64,
    pub(crate) events: u64,
    pub(crate) body: String,
}

/// Where a record starts: (segment number, byte offset).
type Pos = (u64, u64);

pub(crate) struct Spool {
    dir: PathBuf,
    max_bytes: u64,
    read: Pos,
    reader: Option<(u64, BufReader<File>)>,
    write_seg: u64,
    writer: File,
    write_len: u64,
    /// Bytes not yet delivered.
    pending: u64,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum SpoolError {
    #[error("the spool is full ({max} bytes)")]
    Full { max: u64 },
    #[error("spool file {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> SpoolError + '_ {
    move |source| SpoolError::Io {
        path: path.to_owned(),
        source,
    }
}

fn seg_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("seg-{n:012}.jsonl"))
}

fn segments(dir: &Path) -> io::Result<Vec<u64>> {
    let mut v: Vec<u64> = fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.strip_prefix("seg-")?
                .strip_suffix(".jsonl")?
                .parse()
                .ok()
        })
        .collect();
    v.sort_unstable();
    Ok(v)
}

/// Cuts a segment back to its last complete line.
fn trim_torn_tail(path: &Path) -> io::Result<u64> {
    let data = fs::read(path)?;
    let keep = data.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    if keep < data.len() {
        let f = OpenOptions::new().write(true).open(path)?;
        f.set_len(keep as u64)?;
    }
    Ok(keep as u64)
}

impl Spool {
    pub(crate) fn open(dir: &Path, max_bytes: u64) -> Result<Spool, SpoolError> {
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        let segs = segments(dir).map_err(io_err(dir))?;
        let cursor_path = dir.join("cursor");
        let mut read: Pos = match fs::read_to_string(&cursor_path) {
            Ok(text) => {
                let mut it = text.split_whitespace().map(|t| t.parse::<u64>());
                match (it.next(), it.next()) {
                    (Some(Ok(s)), Some(Ok(o))) => (s, o),
                    _ => (segs.first().copied().unwrap_or(1), 0),
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                (segs.first().copied().unwrap_or(1), 0)
            }
            Err(e) => return Err(io_err(&cursor_path)(e)),
        };
        if let Some(first) = segs.first() {
            if read.0 < *first {
                read = (*first, 0);
            }
        }
        let write_seg = segs.last().copied().unwrap_or(read.0).max(read.0);
        let wpath = seg_path(dir, write_seg);
        let write_len = if wpath.exists() {
            trim_torn_tail(&wpath).map_err(io_err(&wpath))?
        } else {
            0
        };
        let writer = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&wpath)
            .map_err(io_err(&wpath))?;
        let mut pending = 0;
        for s in segs.iter().filter(|s| **s >= read.0) {
            let p = seg_path(dir, *s);
            let len = fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
            pending += if *s == read.0 {
                len.saturating_sub(read.1)
            } else {
                len
            };
        }
        Ok(Spool {
            dir: dir.to_owned(),
            max_bytes,
            read,
            reader: None,
            write_seg,
            writer,
            write_len,
            pending,
        })
    }

    /// Bytes queued for delivery.
    pub(crate) fn pending_bytes(&self) -> u64 {
        self.pending
    }

    /// True when nothing is left to deliver.
    pub(crate) fn is_empty(&self) -> bool {
        self.pending == 0
    }

    /// Appends a record (one write of one whole line).
    pub(crate) fn append(&mut self, record: &Record) -> Result<(), SpoolError> {
        let mut line = serde_json::to_vec(record).unwrap_or_default();
        line.push(b'\n');
        let len = line.len() as u64;
        if self.pending + len > self.max_bytes {
            return Err(SpoolError::Full {
                max: self.max_bytes,
            });
        }
        if self.write_len > 0 && self.write_len + len > SEGMENT_MAX {
            let next = self.write_seg + 1;
            let p = seg_path(&self.dir, next);
            self.writer = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&p)
                .map_err(io_err(&p))?;
            self.write_seg = next;
            self.write_len = 0;
        }
        let p = seg_path(&self.dir, self.write_seg);
        if let Err(e) = self.writer.write_all(&line) {
            // A partial line would corrupt the segment: cut it back.
            let _ = self.writer.set_len(self.write_len);
            return Err(io_err(&p)(e));
        }
        self.write_len += len;
        self.pending += len;
        Ok(())
    }

    /// The next record to deliver and where the one after it starts, without consuming it.
    /// A line that does not parse (damaged by hand) is skipped with a warning.
    pub(crate) fn peek(&mut self) -> Result<Option<(Record, Pos)>, SpoolError> {
        loop {
            let (seg, off) = self.read;
            if self.reader.as_ref().map(|r| r.0) != Some(seg) {
                let p = seg_path(&self.dir, seg);
                match File::open(&p) {
                    Ok(mut f) => {
                        f.seek(SeekFrom::Start(off)).map_err(io_err(&p))?;
                        self.reader = Some((seg, BufReader::new(f)));
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotFound && seg < self.write_seg => {
                        self.read = (seg + 1, 0);
                        continue;
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                    Err(e) => return Err(io_err(&p)(e)),
                }
            }
            let Some((_, reader)) = self.reader.as_mut() else {
                return Ok(None);
            };
            let mut line = String::new();
            let p = seg_path(&self.dir, seg);
            let n = reader.read_line(&mut line).map_err(io_err(&p))? as u64;
            if n == 0 || !line.ends_with('\n') {
                // End of this segment (or a line still being written: not possible under
                // the spool's lock, but harmless).
                let _ = reader.seek(SeekFrom::Start(off));
                if seg < self.write_seg {
                    self.reader = None;
                    let _ = fs::remove_file(&p);
                    self.read = (seg + 1, 0);
                    continue;
                }
                return Ok(None);
            }
            // Re-read the same line next time unless it is acknowledged.
            let _ = reader.seek(SeekFrom::Start(off));
            match serde_json::from_str::<Record>(&line) {
                Ok(r) => return Ok(Some((r, (seg, off + n)))),
                Err(e) => {
                    tracing::warn!(file = %p.display(), offset = off, error = %e,
                        "webhook spool: skipping a damaged line");
                    self.ack((seg, off + n))?;
                }
            }
        }
    }

    /// Marks everything before `next` delivered.
    pub(crate) fn ack(&mut self, next: Pos) -> Result<(), SpoolError> {
        let before = self.read;
        if before.0 == next.0 {
            self.pending = self.pending.saturating_sub(next.1.saturating_sub(before.1));
        }
        self.read = next;
        if let Some((seg, reader)) = self.reader.as_mut() {
            if *seg == next.0 {
                let p = seg_path(&self.dir, next.0);
                reader.seek(SeekFrom::Start(next.1)).map_err(io_err(&p))?;
            }
        }
        let cursor = self.dir.join("cursor");
        let tmp = self.dir.join("cursor.tmp");
        fs::write(&tmp, format!("{} {}\n", next.0, next.1)).map_err(io_err(&tmp))?;
        fs::rename(&tmp, &cursor).map_err(io_err(&cursor))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(n: usize) -> Record {
        Record {
            id: format!("msg_{n}"),
            created_ms: n as i64,
            events: 1,
            body: format!("{{\"n\":{n}}}"),
        }
    }

    fn tmpdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ttlive-spool-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn records_come_back_in_order_across_segments_and_reopening() {
        let dir = tmpdir("order");
        let mut s = Spool::open(&dir, 1 << 30).unwrap();
        let big = "x".repeat(1 << 20);
        for n in 0..10 {
            let mut r = rec(n);
            r.body = format!("{{\"n\":{n},\"pad\":\"{big}\"}}");
            s.append(&r).unwrap();
        }
        assert!(segments(&dir).unwrap().len() >= 3);
        for n in 0..4 {
            let (r, next) = s.peek().unwrap().unwrap();
            assert_eq!(r.id, format!("msg_{n}"));
            let (again, _) = s.peek().unwrap().unwrap();
            assert_eq!(again.id, r.id, "peek does not consume");
            s.ack(next).unwrap();
        }
        drop(s);
        let mut s = Spool::open(&dir, 1 << 30).unwrap();
        for n in 4..10 {
            let (r, next) = s.peek().unwrap().unwrap();
            assert_eq!(r.id, format!("msg_{n}"));
            s.ack(next).unwrap();
        }
        assert!(s.peek().unwrap().is_none());
        assert!(s.is_empty());
        assert_eq!(
            segments(&dir).unwrap().len(),
            1,
            "delivered segments are deleted"
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_full_spool_refuses_and_a_torn_line_is_dropped_on_open() {
        let dir = tmpdir("full");
        let mut s = Spool::open(&dir, 100).unwrap();
        s.append(&rec(1)).unwrap();
        assert!(matches!(
            s.append(&Record {
                body: "y".repeat(100),
                ..rec(2)
            }),
            Err(SpoolError::Full { .. })
        ));
        drop(s);
        let seg = seg_path(&dir, 1);
        let mut f = OpenOptions::new().append(true).open(&seg).unwrap();
        f.write_all(b"{\"id\":\"torn").unwrap();
        let mut s = Spool::open(&dir, 1000).unwrap();
        let (r, next) = s.peek().unwrap().unwrap();
        assert_eq!(r.id, "msg_1");
        s.ack(next).unwrap();
        assert!(s.peek().unwrap().is_none());
        s.append(&rec(3)).unwrap();
        assert_eq!(s.peek().unwrap().unwrap().0.id, "msg_3");
        let _ = fs::remove_dir_all(&dir);
    }
}
