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
