//! JSON-lines files over real files: one file per room and day, rotation by size with gzip,
//! and a full disk (a real tmpfs) that is retried without losing a line.

mod common;

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use common::*;
use ttlive_eventbus::{ChatEvent, Event, EventBus};
use ttlive_outputs::{JsonlConfig, JsonlOutput};
use ttlive_source_mock::{DEMO_ROOM_ID, Pace, ReplaySource, demo_recording};

const LIMIT: Duration = Duration::from_secs(60);

fn today() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()[..10].to_owned()
}

/// Every line of a room's files for today, rotated ones first, in rotation order.
fn lines_of(dir: &Path, room: u64) -> (Vec<String>, Vec<String>) {
    let room_dir = dir.join(room.to_string());
    let date = today();
    let mut names: Vec<String> = std::fs::read_dir(&room_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let rotated = |n: &str| -> Option<u32> {
        n.strip_prefix(&format!("{date}."))?
            .split('.')
            .next()?
            .parse()
            .ok()
    };
    names.sort_by_key(|n| rotated(n).unwrap_or(u32::MAX));
    let mut lines = Vec::new();
    for n in &names {
        let mut text = String::new();
        let f = std::fs::File::open(room_dir.join(n)).unwrap();
        if n.ends_with(".gz") {
            flate2::read::GzDecoder::new(f)
                .read_to_string(&mut text)
                .unwrap();
        } else {
            std::io::BufReader::new(f)
                .read_to_string(&mut text)
                .unwrap();
        }
        lines.extend(text.lines().map(str::to_owned));
    }
    (names, lines)
}

fn chat(room: u64, n: u64) -> Event {
    let mut c = ChatEvent::default();
    c.meta.room_id = room;
    c.meta.msg_id = n;
    c.comment = format!("line {n} {}", "y".repeat(300));
    c.into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_file_per_room_and_day_rotated_by_size_and_gzipped() {
    let dir = temp_dir("jsonl");
    let mut cfg = JsonlConfig::new(&dir);
    cfg.max_bytes = 64 * 1024;
    cfg.gzip = true;
    let bus = EventBus::new();
    let out = JsonlOutput::start(&bus, &cfg).unwrap();
    let truth = truth(&bus);
    bus.attach(ReplaySource::new(demo_recording()).pace(Pace::Instant))
        .unwrap()
        .join()
        .await;
    for n in 1..=5 {
        bus.publish(chat(9, n)).await.unwrap();
    }
    bus.close().await;
    tokio::time::timeout(LIMIT, out.finish()).await.unwrap();
    let events = drain(truth).await;

    let want: Vec<String> = events
        .iter()
        .filter(|e| e.room_id() == DEMO_ROOM_ID)
        .map(|e| json(e))
        .collect();
    let (names, lines) = lines_of(&dir, DEMO_ROOM_ID);
    assert_same(
        &lines,
        &want,
        "the room's events, in order, across rotated files",
    );
    let date = today();
    assert!(
        names
            .iter()
            .all(|n| n.starts_with(&format!("{date}.")) && n.contains(".jsonl")),
        "{names:?}"
    );
    assert!(
        names.iter().any(|n| n == &format!("{date}.1.jsonl.gz")),
        "{names:?}"
    );
    assert!(
        names.iter().all(|n| !n.ends_with(".1.jsonl")),
        "rotated files are gzip'd: {names:?}"
    );
    for n in names.iter().filter(|n| n.ends_with(".gz")) {
        let size = std::fs::metadata(dir.join(DEMO_ROOM_ID.to_string()).join(n))
            .unwrap()
            .len();
        assert!(size < cfg.max_bytes, "{n} is compressed ({size} bytes)");
    }
    let (_, other) = lines_of(&dir, 9);
    assert_eq!(other.len(), 5);
    let status = out.status();
    assert_eq!(status.lines as usize, want.len() + 5);
    assert!(status.rotations >= 2, "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_is_retried_and_no_line_is_lost_or_torn() {
    let Some(fs) = Tmpfs::mount("jsonl-full", "1m") else {
        return;
    };
    let bus = EventBus::new();
    let out = JsonlOutput::start(&bus, &JsonlConfig::new(fs.dir.join("events"))).unwrap();
    bus.publish(chat(5, 1)).await.unwrap();
    wait_until(LIMIT, "the first line", || out.status().lines == 1).await;
    let filler = fill_disk(&fs.dir);
    for n in 2..=300 {
        bus.publish(chat(5, n)).await.unwrap();
    }
    wait_until(LIMIT, "a write error", || out.status().errors >= 1).await;
    let err = out.status().last_error.unwrap();
    assert!(err.contains("No space left"), "{err}");
    std::fs::remove_file(filler).unwrap();
    bus.close().await;
    out.finish().await;
    let (_, lines) = lines_of(&fs.dir.join("events"), 5);
    let ids: Vec<u64> = lines
        .iter()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("every line is whole JSON");
            v["msg_id"].as_str().unwrap().parse().unwrap()
        })
        .collect();
    assert_eq!(ids, (1..=300).collect::<Vec<_>>());
    assert!(out.status().last_error.is_none());
}
