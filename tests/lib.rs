//! Helpers shared by the cross-crate tests: where the real captured fixtures lie, and their
//! manifest.
//!
//! The real fixtures are real people's messages published by others: tests read them where they
//! lie (`../shared/fixtures/tiktok-webcast-real/` beside the repository, or `$TTLIVE_FIXTURES`)
//! and nothing made from them is ever written into the repository.

use std::path::{Path, PathBuf};

/// Environment variable that overrides the fixture folder.
pub const FIXTURES_ENV: &str = "TTLIVE_FIXTURES";

/// The folder of real captured webcast messages, if it exists.
pub fn real_fixtures_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os(FIXTURES_ENV) {
        Some(p) => PathBuf::from(p),
        None => {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/tiktok-webcast-real")
        }
    };
    dir.join("manifest.tsv").is_file().then_some(dir)
}

/// Prints why a real-bytes test is skipped and returns `None`, or the folder.
pub fn real_fixtures_or_skip(test: &str) -> Option<PathBuf> {
    let dir = real_fixtures_dir();
    if dir.is_none() {
        eprintln!(
            "{test}: real fixtures not found (set {FIXTURES_ENV} or place shared/ beside the \
             repository); skipping"
        );
    }
    dir
}

/// One row of `manifest.tsv`.
#[derive(Debug, Clone)]
pub struct FixtureRow {
    /// Path of the file, relative to the fixture folder.
    pub file: String,
    /// The message type the source recorded it under.
    pub label: String,
    /// `Common.method` as found in the bytes.
    pub common_method: String,
    /// `Common.msg_id`, when the manifest has it.
    pub msg_id: Option<u64>,
    /// `Common.room_id`, when the manifest has it.
    pub room_id: Option<u64>,
    /// `Common.create_time` (ms), when the manifest has it.
    pub create_time: Option<i64>,
}

impl FixtureRow {
    /// The method name to decode the file with: the label, with the `Webcast` prefix added when
    /// the source recorded it without one.
    pub fn method(&self) -> String {
        if self.label.starts_with("Webcast") {
            self.label.clone()
        } else {
            format!("Webcast{}", self.label)
        }
    }
}

/// Reads `manifest.tsv` (tab-separated, one header row).
pub fn read_manifest(dir: &Path) -> Vec<FixtureRow> {
    let text = std::fs::read_to_string(dir.join("manifest.tsv")).expect("read manifest.tsv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("manifest header").split('\t').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("manifest has no column {name}"))
    };
    let (file, label, method, msg, room, time) = (
        col("file"),
        col("label"),
        col("common_method"),
        col("msg_id"),
        col("room_id"),
        col("create_time_ms"),
    );
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let get = |i: usize| f.get(i).copied().unwrap_or("");
            FixtureRow {
                file: get(file).to_owned(),
                label: get(label).to_owned(),
                common_method: get(method).to_owned(),
                msg_id: get(msg).parse().ok(),
                room_id: get(room).parse().ok(),
                create_time: get(time).parse().ok(),
            }
        })
        .collect()
}

/// A protobuf wire reader that knows no schema, for checking decoded fields against the raw
/// bytes independently of the generated types (the way one reads a `protoc --decode_raw`
/// dump by hand).
pub mod wire {
    /// One field's value as it lies on the wire.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Value<'a> {
        /// Wire type 0.
        Varint(u64),
        /// Wire types 1 and 5.
        Fixed(u64),
        /// Wire type 2: a string, bytes or a nested message.
        Bytes(&'a [u8]),
    }

    fn varint(b: &[u8], i: &mut usize) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *b.get(*i)?;
            *i += 1;
            v |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Some(v);
            }
        }
        None
    }

    /// Every top-level field of a message, in wire order; `None` when the bytes are not a
    /// well-formed message.
    pub fn fields(b: &[u8]) -> Option<Vec<(u64, Value<'_>)>> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            let key = varint(b, &mut i)?;
            let value = match key & 7 {
                0 => Value::Varint(varint(b, &mut i)?),
                1 => {
                    let v = b.get(i..i + 8)?;
                    i += 8;
                    Value::Fixed(u64::from_le_bytes(v.try_into().ok()?))
                }
                5 => {
                    let v = b.get(i..i + 4)?;
                    i += 4;
                    Value::Fixed(u64::from(u32::from_le_bytes(v.try_into().ok()?)))
                }
                2 => {
                    let n = usize::try_from(varint(b, &mut i)?).ok()?;
                    let v = b.get(i..i.checked_add(n)?)?;
                    i += n;
                    Value::Bytes(v)
                }
                _ => return None,
            };
            out.push((key >> 3, value));
        }
        Some(out)
    }

    /// The first value found by following `path` (field numbers, outermost first).
    pub fn at<'a>(b: &'a [u8], path: &[u64]) -> Option<Value<'a>> {
        let (&first, rest) = path.split_first()?;
        let value = fields(b)?.into_iter().find(|(f, _)| *f == first)?.1;
        match (rest.is_empty(), value) {
            (true, v) => Some(v),
            (false, Value::Bytes(inner)) => at(inner, rest),
            (false, _) => None,
        }
    }

    /// The varint at `path`, 0 when absent (proto3's default).
    pub fn uint(b: &[u8], path: &[u64]) -> u64 {
        match at(b, path) {
            Some(Value::Varint(v) | Value::Fixed(v)) => v,
            _ => 0,
        }
    }

    /// The string at `path`, empty when absent.
    pub fn string(b: &[u8], path: &[u64]) -> String {
        match at(b, path) {
            Some(Value::Bytes(v)) => String::from_utf8_lossy(v).into_owned(),
            _ => String::new(),
        }
    }
}
