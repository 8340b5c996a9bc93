//! Shared pieces of the load harness (`ttlive-load`) and the decode benchmark
//! (`ttlive-decode-bench`): the real captured messages, push frames built from them, and
//! process measurements (RSS, CPU time) read from `/proc/self`.
//!
//! The real messages are read where they lie (`$TTLIVE_FIXTURES` or
//! `<workspace>/../shared/fixtures/tiktok-webcast-real`); frames made from them live in memory
//! or in a temporary directory, never in the repository.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use ttlive_proto::msg_frame;
use ttlive_proto::webcast::{BaseProtoMessage, ProtoMessageFetchResult};

/// The fixture directory: `$TTLIVE_FIXTURES`, else `../shared/fixtures/tiktok-webcast-real`
/// beside the workspace.
pub fn fixtures_dir() -> PathBuf {
    std::env::var_os("TTLIVE_FIXTURES").map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../shared/fixtures/tiktok-webcast-real")
        },
        PathBuf::from,
    )
}

/// Tiny deterministic generator (xorshift64*), so every run uses the same frames.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// Seed of the shuffle and of the frame sizes.
pub const SEED: u64 = 0x9e37_79b9_7f4a_7c15;

/// Every captured message (all labels, method = the folder name), shuffled deterministically.
pub fn load_messages(dir: &Path) -> anyhow::Result<Vec<BaseProtoMessage>> {
    let root = dir.join("messages");
    let mut labels: Vec<_> = std::fs::read_dir(&root)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", root.display()))?
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    labels.sort();
    let mut messages = Vec::new();
    for label in &labels {
        let mut paths: Vec<_> = std::fs::read_dir(root.join(label))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "bin"))
            .collect();
        paths.sort();
        for path in paths {
            messages.push(BaseProtoMessage {
                method: label.clone(),
                payload: Bytes::from(std::fs::read(&path)?),
                ..Default::default()
            });
        }
    }
    anyhow::ensure!(!messages.is_empty(), "no messages under {}", root.display());
    let mut rng = Rng(SEED);
    for i in (1..messages.len()).rev() {
        let j = rng.below(i + 1);
        messages.swap(i, j);
    }
    Ok(messages)
}

/// Splits `messages` into batches of 3–8 (the shape of real frames), deterministically.
pub fn batches(messages: &[BaseProtoMessage]) -> Vec<Vec<BaseProtoMessage>> {
    let mut rng = Rng(SEED ^ 0x5555);
    let mut out = Vec::new();
    let mut rest = messages;
    while !rest.is_empty() {
        let n = (3 + rng.below(6)).min(rest.len());
        let (batch, tail) = rest.split_at(n);
        out.push(batch.to_vec());
        rest = tail;
    }
    out
}

/// Gzip'd `msg` push frames (header `compress_type=gzip`, `need_ack`, cursor and internal_ext
/// shaped like TikTok's), one per batch, as TikTok sends them.
pub fn push_frames(batches: &[Vec<BaseProtoMessage>], gzip: bool) -> Vec<Bytes> {
    let mut log_id = 7_400_000_000_000_000_000u64;
    batches
        .iter()
        .map(|batch| {
            log_id += 1;
            let result = ProtoMessageFetchResult {
                messages: batch.clone(),
                cursor: format!("t-{log_id}_r-1"),
                fetch_interval: 1000,
                now: 1_700_000_000_000,
                internal_ext: format!("fetch_time:1700000000000|seq:{log_id}"),
                need_ack: true,
                ..Default::default()
            };
            Bytes::from(msg_frame(log_id, &result, gzip))
        })
        .collect()
}

/// Resident set size of this process in bytes (`VmRSS` of `/proc/self/status`).
pub fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// User + system CPU time of this process (all threads) in seconds, from `/proc/self/stat`
/// (clock ticks of 1/100 s, Linux's `USER_HZ`).
pub fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest[0] is field 3 (state); utime is field 14, stime field 15.
    let ticks = |i: usize| {
        fields
            .get(i - 3)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (ticks(14) + ticks(15)) as f64 / 100.0
}

/// Wall-clock time in nanoseconds since the Unix epoch (shared by every process on the
/// machine, so stamps taken in the server process compare with the client's).
pub fn wall_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// The `q`-quantile (0..=1) of sorted values.
pub fn quantile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let idx = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}
