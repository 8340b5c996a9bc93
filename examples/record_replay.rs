//! Records a session while watching it, then replays the file through the same decoder.
//!
//! `cargo run -p ttlive-examples --example record_replay`
//!
//! To stay offline the "live" room is the project's fake TikTok on 127.0.0.1 playing the demo
//! recording; against TikTok only the builder's URLs change. The tap gets every unit exactly as
//! received (sign-fetch body, raw push frames before decompression), so the replay exercises the
//! decoder the live connection used.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ttlive_eventbus::{EventSource, SourceEnd, SourceItem};
use ttlive_signer::EulerSigner;
use ttlive_source_mock::{FakeServer, Header, Pace, Recording, ReplaySource, Unit, UnitKind};
use ttlive_source_tiktok::{RecordingTap, TikTokSource};

/// A tap that keeps the session in memory; `tiktok-live watch --record FILE` writes to a file.
#[derive(Clone)]
struct MemoryTap(Arc<Mutex<Recording>>);

impl MemoryTap {
    fn push(&self, at: Duration, kind: UnitKind, data: &[u8]) {
        let mut rec = self.0.lock().unwrap_or_else(|e| e.into_inner());
        rec.units
            .push(Unit::new(at.as_millis() as u64, kind, data.to_vec()));
    }
}

impl RecordingTap for MemoryTap {
    fn sign_fetch(&mut self, at: Duration, room_id: u64, body: &[u8]) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).header = Header::new(room_id);
        self.push(at, UnitKind::SignFetch, body);
    }
    fn push_frame(&mut self, at: Duration, frame: &[u8]) {
        self.push(at, UnitKind::PushFrame, frame);
    }
}

async fn count(mut source: impl EventSource) -> (usize, SourceEnd) {
    let mut events = 0;
    loop {
        match source.next().await {
            SourceItem::Event(e) if !e.kind().is_lifecycle() => events += 1,
            SourceItem::End(end) => return (events, end),
            _ => {}
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = FakeServer::builder().pace(Pace::Instant).start().await?;
    let base = server.base_url();
    let tap = MemoryTap(Arc::new(Mutex::new(Recording::new(Header::new(0)))));
    let live = TikTokSource::builder("@fakeuser")
        .signer(Arc::new(EulerSigner::builder().base_url(&base).build()?))
        .web_url(&base)
        .webcast_url(&base)
        .tap(Box::new(tap.clone()))
        .start()?;
    let (live_events, end) = count(live).await;
    server.shutdown().await;
    println!("watched: {live_events} events, then {end}");

    let recording = tap.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let path = std::env::temp_dir().join("ttlive-example.ttlrec");
    recording.save(&path)?;
    println!(
        "recorded {} units to {}",
        recording.units.len(),
        path.display()
    );

    let (replayed, end) = count(ReplaySource::open(&path)?.pace(Pace::Instant)).await;
    println!("replayed: {replayed} events, then {end}");
    assert_eq!(replayed, live_events, "a replay gives the same events");
    std::fs::remove_file(&path)?;
    Ok(())
}
