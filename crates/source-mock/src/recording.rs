//! The recording file format (version 1): see the [crate docs](crate#the-recording-format).

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// The `format` value of every recording header.
pub const FORMAT_NAME: &str = "ttlive-recording";
/// The format version this crate writes (and the newest it reads).
pub const FORMAT_VERSION: u32 = 1;
/// Longest accepted line (a unit is one line): 64 MiB.
pub const MAX_LINE_BYTES: usize = 64 * 1024 * 1024;

/// What a recorded unit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum UnitKind {
    /// The body of a sign-server fetch (`/webcast/rooms/{id}/connect` or `/webcast/fetch`): a
    /// bare protobuf `ProtoMessageFetchResult`, exactly as received.
    SignFetch,
    /// One WebSocket binary message from the server: an encoded `WebcastPushFrame`, exactly as
    /// received (its payload still gzip'd when it was).
    PushFrame,
    /// One WebSocket binary message the client sent (`im_enter_room`, `hb`, `ack`).
    ClientFrame,
    /// A free-text note (`data` is UTF-8).
    Note,
}

impl UnitKind {
    /// The name used in the file (`sign_fetch`, `push_frame`, `client_frame`, `note`).
    pub fn name(self) -> &'static str {
        match self {
            UnitKind::SignFetch => "sign_fetch",
            UnitKind::PushFrame => "push_frame",
            UnitKind::ClientFrame => "client_frame",
            UnitKind::Note => "note",
        }
    }
}

impl fmt::Display for UnitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One recorded unit: what was received (or sent) and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// Milliseconds since the start of the recording.
    pub t_ms: u64,
    /// What it is.
    pub kind: UnitKind,
    /// The bytes exactly as received (for [`UnitKind::Note`], the UTF-8 text).
    pub data: Bytes,
}

impl Unit {
    /// A unit.
    pub fn new(t_ms: u64, kind: UnitKind, data: impl Into<Bytes>) -> Self {
        Unit {
            t_ms,
            kind,
            data: data.into(),
        }
    }

    /// A note.
    pub fn note(t_ms: u64, text: &str) -> Self {
        Unit::new(
            t_ms,
            UnitKind::Note,
            Bytes::copy_from_slice(text.as_bytes()),
        )
    }
}

/// The first line of a recording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Header {
    /// Always [`FORMAT_NAME`].
    pub format: String,
    /// The format version ([`FORMAT_VERSION`]).
    pub version: u32,
    /// A unique id of this recording.
    pub id: String,
    /// The room recorded (64-bit id, written as a decimal string).
    #[serde(with = "id_string")]
    pub room_id: u64,
    /// The streamer's handle, when known.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub unique_id: String,
    /// Wall-clock start of the recording, ms since the Unix epoch.
    pub started_at_ms: i64,
    /// The tool that wrote the file (`ttlive-source-mock 0.1.0`).
    #[serde(default)]
    pub tool: String,
}

impl Header {
    /// A header for `room_id`, with a fresh unique id, the current time and this crate as tool.
    pub fn new(room_id: u64) -> Self {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Header {
            format: FORMAT_NAME.to_owned(),
            version: FORMAT_VERSION,
            id: format!("{:016x}", ttlive_proto::new_enter_unique_id()),
            room_id,
            unique_id: String::new(),
            started_at_ms: now,
            tool: tool_name(),
        }
    }

    /// Sets the streamer's handle.
    pub fn with_unique_id(mut self, unique_id: impl Into<String>) -> Self {
        self.unique_id = unique_id.into();
        self
    }

    /// Sets the recording id.
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// Sets the start time (ms since the Unix epoch).
    pub fn with_started_at_ms(mut self, ms: i64) -> Self {
        self.started_at_ms = ms;
        self
    }

    /// Sets the tool name.
    pub fn with_tool(mut self, tool: impl Into<String>) -> Self {
        self.tool = tool.into();
        self
    }
}

/// `ttlive-source-mock <version>`.
pub fn tool_name() -> String {
    format!("ttlive-source-mock {}", env!("CARGO_PKG_VERSION"))
}

mod id_string {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub(super) fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            S(String),
            N(u64),
        }
        match Either::deserialize(d)? {
            Either::N(n) => Ok(n),
            Either::S(s) => s.trim().parse().map_err(D::Error::custom),
        }
    }
}

/// Why a recording could not be read (or written).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordingError {
    /// Reading or writing failed (a truncated gzip stream also ends here).
    #[error("recording I/O error after line {line}: {source}")]
    Io {
        /// The last line read completely (0 before the header).
        line: u64,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The file is empty or its first line is not a recording header.
    #[error("line 1: not a ttlive recording header: {message}")]
    BadHeader {
        /// What was wrong.
        message: String,
    },
    /// The header names a newer version than this reader understands.
    #[error(
        "line 1: unsupported recording version {version} (this reader knows up to {FORMAT_VERSION})"
    )]
    UnsupportedVersion {
        /// The version found.
        version: u32,
    },
    /// A unit line is corrupt (bad JSON, bad base64, unknown kind).
    #[error("line {line} (byte offset {offset}): corrupt unit: {message}")]
    Corrupt {
        /// 1-based line number.
        line: u64,
        /// Byte offset of the line's start (in the uncompressed text).
        offset: u64,
        /// What was wrong.
        message: String,
    },
    /// The file ends in the middle of a line.
    #[error("line {line} (byte offset {offset}): truncated: the file ends inside this line")]
    Truncated {
        /// 1-based line number.
        line: u64,
        /// Byte offset of the line's start (in the uncompressed text).
        offset: u64,
    },
}

impl RecordingError {
    /// The 1-based line the error is about (for I/O errors: the last complete line).
    pub fn line(&self) -> u64 {
        match self {
            RecordingError::Io { line, .. } => *line,
            RecordingError::BadHeader { .. } | RecordingError::UnsupportedVersion { .. } => 1,
            RecordingError::Corrupt { line, .. } | RecordingError::Truncated { line, .. } => *line,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct UnitLine {
    t_ms: u64,
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    data_b64: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<String>,
}

fn parse_kind(s: &str) -> Option<UnitKind> {
    Some(match s {
        "sign_fetch" => UnitKind::SignFetch,
        "push_frame" => UnitKind::PushFrame,
        "client_frame" => UnitKind::ClientFrame,
        "note" => UnitKind::Note,
        _ => return None,
    })
}

fn encode_unit_line(unit: &Unit) -> String {
    let line = if unit.kind == UnitKind::Note {
        UnitLine {
            t_ms: unit.t_ms,
            kind: unit.kind.name().to_owned(),
            data_b64: None,
            text: Some(String::from_utf8_lossy(&unit.data).into_owned()),
        }
    } else {
        UnitLine {
            t_ms: unit.t_ms,
            kind: unit.kind.name().to_owned(),
            data_b64: Some(B64.encode(&unit.data)),
            text: None,
        }
    };
    // Serialising a struct of strings and integers cannot fail.
    serde_json::to_string(&line).unwrap_or_default()
}

fn decode_unit_line(text: &str) -> Result<Unit, String> {
    let line: UnitLine = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let kind =
        parse_kind(&line.kind).ok_or_else(|| format!("unknown unit kind {:?}", line.kind))?;
    let data = if kind == UnitKind::Note {
        Bytes::from(line.text.unwrap_or_default().into_bytes())
    } else {
        let b64 = line.data_b64.ok_or_else(|| "missing data_b64".to_owned())?;
        Bytes::from(
            B64.decode(b64.as_bytes())
                .map_err(|e| format!("invalid base64: {e}"))?,
        )
    };
    Ok(Unit {
        t_ms: line.t_ms,
        kind,
        data,
    })
}

// ---------------------------------------------------------------------------------------------
// reading

/// Streams a recording: [`header`](Self::header), then one `Result<Unit, RecordingError>` per
/// line. A corrupt line yields an error naming it and reading goes on with the next line; a
/// truncated last line or an I/O error yields an error and ends the iteration. So a caller can
/// replay everything up to the bad line.
pub struct RecordingReader<R> {
    reader: R,
    header: Header,
    line: u64,
    offset: u64,
    done: bool,
    buf: Vec<u8>,
}

impl<R> fmt::Debug for RecordingReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordingReader")
            .field("header", &self.header)
            .field("line", &self.line)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

/// A boxed byte source, for readers opened from files (plain or gzip'd).
pub type DynRead = Box<dyn BufRead + Send>;

impl RecordingReader<DynRead> {
    /// Opens a file. A gzip'd file (detected by its magic bytes, whatever its name) is
    /// decompressed on the fly.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, RecordingError> {
        let file =
            File::open(path.as_ref()).map_err(|source| RecordingError::Io { line: 0, source })?;
        Self::from_read(Box::new(file))
    }

    /// Reads from any byte source, plain or gzip'd.
    pub fn from_read(read: Box<dyn Read + Send>) -> Result<Self, RecordingError> {
        let mut buffered = BufReader::with_capacity(64 * 1024, read);
        let is_gzip = buffered
            .fill_buf()
            .map_err(|source| RecordingError::Io { line: 0, source })?
            .starts_with(&[0x1f, 0x8b]);
        let reader: DynRead = if is_gzip {
            Box::new(BufReader::new(flate2::bufread::MultiGzDecoder::new(
                buffered,
            )))
        } else {
            Box::new(buffered)
        };
        RecordingReader::new(reader)
    }

    /// Reads from bytes in memory, plain or gzip'd.
    pub fn from_bytes(bytes: impl Into<Bytes>) -> Result<Self, RecordingError> {
        let bytes: Bytes = bytes.into();
        Self::from_read(Box::new(io::Cursor::new(bytes)))
    }
}

impl<R: BufRead> RecordingReader<R> {
    /// Reads the header line from an uncompressed source.
    pub fn new(mut reader: R) -> Result<Self, RecordingError> {
        let mut buf = Vec::new();
        let n = read_line_capped(&mut reader, &mut buf)
            .map_err(|source| RecordingError::Io { line: 0, source })?;
        if n == 0 {
            return Err(RecordingError::BadHeader {
                message: "the file is empty".to_owned(),
            });
        }
        let text =
            std::str::from_utf8(trim_newline(&buf)).map_err(|_| RecordingError::BadHeader {
                message: "not UTF-8".to_owned(),
            })?;
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| RecordingError::BadHeader {
                message: if buf.last() == Some(&b'\n') {
                    format!("invalid JSON: {e}")
                } else {
                    format!("truncated or invalid JSON: {e}")
                },
            })?;
        if value.get("format").and_then(|v| v.as_str()) != Some(FORMAT_NAME) {
            return Err(RecordingError::BadHeader {
                message: format!("`format` is not {FORMAT_NAME:?}"),
            });
        }
        let version = value
            .get("version")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| RecordingError::BadHeader {
                message: "missing `version`".to_owned(),
            })?;
        if version > u64::from(FORMAT_VERSION) || version == 0 {
            return Err(RecordingError::UnsupportedVersion {
                version: u32::try_from(version).unwrap_or(u32::MAX),
            });
        }
        let header: Header =
            serde_json::from_value(value).map_err(|e| RecordingError::BadHeader {
                message: e.to_string(),
            })?;
        Ok(RecordingReader {
            reader,
            header,
            line: 1,
            offset: n as u64,
            done: false,
            buf,
        })
    }

    /// The header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Reads everything that can be read: the good units, and the errors met on the way
    /// (in order; after a truncation or I/O error nothing more is read).
    pub fn read_lossy(self) -> (Header, Vec<Result<Unit, RecordingError>>) {
        let header = self.header.clone();
        (header, self.collect())
    }
}

fn trim_newline(buf: &[u8]) -> &[u8] {
    let buf = buf.strip_suffix(b"\n").unwrap_or(buf);
    buf.strip_suffix(b"\r").unwrap_or(buf)
}

/// `read_until(b'\n')`, failing once a line exceeds [`MAX_LINE_BYTES`].
fn read_line_capped<R: BufRead>(reader: &mut R, buf: &mut Vec<u8>) -> io::Result<usize> {
    buf.clear();
    let mut limited = reader.take(MAX_LINE_BYTES as u64 + 1);
    let n = limited.read_until(b'\n', buf)?;
    if n > MAX_LINE_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("line longer than {MAX_LINE_BYTES} bytes"),
        ));
    }
    Ok(n)
}

impl<R: BufRead> Iterator for RecordingReader<R> {
    type Item = Result<Unit, RecordingError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done {
                return None;
            }
            let mut buf = std::mem::take(&mut self.buf);
            let n = match read_line_capped(&mut self.reader, &mut buf) {
                Ok(n) => n,
                Err(source) => {
                    self.done = true;
                    return Some(Err(RecordingError::Io {
                        line: self.line,
                        source,
                    }));
                }
            };
            if n == 0 {
                self.done = true;
                return None;
            }
            self.line += 1;
            let line = self.line;
            let offset = self.offset;
            self.offset += n as u64;
            let complete = buf.last() == Some(&b'\n');
            let body = trim_newline(&buf);
            if body.iter().all(u8::is_ascii_whitespace) {
                self.buf = buf;
                if !complete {
                    self.done = true;
                    return None;
                }
                continue;
            }
            let parsed = std::str::from_utf8(body)
                .map_err(|_| "not UTF-8".to_owned())
                .and_then(decode_unit_line);
            self.buf = buf;
            return Some(match parsed {
                Ok(unit) => Ok(unit),
                Err(_) if !complete => {
                    self.done = true;
                    Err(RecordingError::Truncated { line, offset })
                }
                Err(message) => Err(RecordingError::Corrupt {
                    line,
                    offset,
                    message,
                }),
            });
        }
    }
}

// ---------------------------------------------------------------------------------------------
// whole recordings in memory

/// A whole recording in memory: the header and every unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    /// The header.
    pub header: Header,
    /// The units, in file order.
    pub units: Vec<Unit>,
}

impl Recording {
    /// An empty recording.
    pub fn new(header: Header) -> Self {
        Recording {
            header,
            units: Vec::new(),
        }
    }

    /// Parses a recording (plain or gzip'd) strictly: the first bad line is an error.
    pub fn from_bytes(bytes: impl Into<Bytes>) -> Result<Self, RecordingError> {
        let reader = RecordingReader::from_bytes(bytes)?;
        let header = reader.header().clone();
        let units = reader.collect::<Result<Vec<_>, _>>()?;
        Ok(Recording { header, units })
    }

    /// Reads a file (plain or gzip'd) strictly.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, RecordingError> {
        let reader = RecordingReader::open(path)?;
        let header = reader.header().clone();
        let units = reader.collect::<Result<Vec<_>, _>>()?;
        Ok(Recording { header, units })
    }

    /// The file text (uncompressed JSON lines).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w =
            RecordingWriter::new(Vec::new(), &self.header).unwrap_or_else(|_| unreachable_writer());
        for unit in &self.units {
            // Writing into a Vec cannot fail.
            let _ = w.write_unit(unit);
        }
        w.into_inner()
    }

    /// Writes the recording to a file; gzip'd when the name ends in `.gz`.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), RecordingError> {
        let mut w = RecordingWriter::create(path, &self.header)?;
        for unit in &self.units {
            w.write_unit(unit)?;
        }
        w.finish()
    }

    /// The duration: the offset of the last unit.
    pub fn duration_ms(&self) -> u64 {
        self.units.iter().map(|u| u.t_ms).max().unwrap_or(0)
    }
}

fn unreachable_writer() -> RecordingWriter<Vec<u8>> {
    RecordingWriter {
        out: Vec::new(),
        line: 0,
        started: Instant::now(),
    }
}

// ---------------------------------------------------------------------------------------------
// writing

/// Writes a recording line by line: the header at creation, then one line per unit.
///
/// Synchronous (`Write`-based): a live source can use it as a tap from a blocking task, or just
/// write its small lines inline. [`record`](Self::record) stamps units with the time elapsed
/// since the writer was created.
pub struct RecordingWriter<W: Write> {
    out: W,
    line: u64,
    started: Instant,
}

impl<W: Write> fmt::Debug for RecordingWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordingWriter")
            .field("line", &self.line)
            .finish_non_exhaustive()
    }
}

/// A boxed writer, for recordings written to files (plain or gzip'd).
pub type DynWrite = Box<dyn Write + Send>;

struct GzFile(Option<flate2::write::GzEncoder<io::BufWriter<File>>>);

impl Write for GzFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.0 {
            Some(g) => g.write(buf),
            None => Err(io::Error::other("recording already finished")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.0 {
            Some(g) => g.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for GzFile {
    fn drop(&mut self) {
        if let Some(g) = self.0.take()
            && let Ok(mut inner) = g.finish()
        {
            let _ = inner.flush();
        }
    }
}

impl RecordingWriter<DynWrite> {
    /// Creates (truncates) a file and writes the header; gzip'd when the name ends in `.gz`.
    pub fn create(path: impl AsRef<Path>, header: &Header) -> Result<Self, RecordingError> {
        let path = path.as_ref();
        let file = File::create(path).map_err(|source| RecordingError::Io { line: 0, source })?;
        let out: DynWrite = if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
        {
            Box::new(GzFile(Some(flate2::write::GzEncoder::new(
                io::BufWriter::new(file),
                flate2::Compression::default(),
            ))))
        } else {
            Box::new(io::BufWriter::new(file))
        };
        RecordingWriter::new(out, header)
    }

    /// Flushes and closes the file (finishing the gzip stream).
    pub fn finish(mut self) -> Result<(), RecordingError> {
        self.flush()?;
        drop(self.out);
        Ok(())
    }
}

impl<W: Write> RecordingWriter<W> {
    /// Writes the header line to `out`.
    pub fn new(mut out: W, header: &Header) -> Result<Self, RecordingError> {
        let mut text = serde_json::to_string(header).map_err(|e| RecordingError::Io {
            line: 0,
            source: io::Error::other(e),
        })?;
        text.push('\n');
        out.write_all(text.as_bytes())
            .map_err(|source| RecordingError::Io { line: 0, source })?;
        Ok(RecordingWriter {
            out,
            line: 1,
            started: Instant::now(),
        })
    }

    /// Writes one unit.
    pub fn write_unit(&mut self, unit: &Unit) -> Result<(), RecordingError> {
        let mut text = encode_unit_line(unit);
        text.push('\n');
        self.out
            .write_all(text.as_bytes())
            .map_err(|source| RecordingError::Io {
                line: self.line,
                source,
            })?;
        self.line += 1;
        Ok(())
    }

    /// Writes a unit stamped with the time since this writer was created.
    pub fn record(&mut self, kind: UnitKind, data: &[u8]) -> Result<(), RecordingError> {
        let t_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.write_unit(&Unit::new(t_ms, kind, Bytes::copy_from_slice(data)))
    }

    /// Milliseconds since this writer was created.
    pub fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Lines written so far (the header counts).
    pub fn lines(&self) -> u64 {
        self.line
    }

    /// Flushes the underlying writer.
    pub fn flush(&mut self) -> Result<(), RecordingError> {
        self.out.flush().map_err(|source| RecordingError::Io {
            line: self.line,
            source,
        })
    }

    /// The underlying writer.
    pub fn into_inner(self) -> W {
        self.out
    }
}
