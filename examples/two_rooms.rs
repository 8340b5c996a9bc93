//! One bus fed by two rooms: a per-room chat counter and a merged gift feed.
//!
//! `cargo run -p ttlive-examples --example two_rooms`
//!
//! Two fake TikTok servers on 127.0.0.1 stand in for two live rooms (with a real stream, attach
//! two `TikTokSource`s for two handles). Subscribers can filter by kind (as here) or by room
//! (`Filter::room(id)`); the bus's statistics count each source's events.

use std::collections::BTreeMap;
use std::sync::Arc;

use ttlive_eventbus::{EventBus, EventKind, Filter, GiftEvent};
use ttlive_signer::EulerSigner;
use ttlive_source_mock::{FakeServer, Pace, UserState};
use ttlive_source_tiktok::TikTokSource;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bus = EventBus::new();
    let mut chats = bus.subscribe_lossless(Filter::kind(EventKind::Chat));
    let mut gifts = bus.subscribe_typed::<GiftEvent>();

    let mut servers = Vec::new();
    let mut handles = Vec::new();
    for (user, room) in [
        ("alpha", 7_300_000_000_000_000_011u64),
        ("beta", 7_300_000_000_000_000_022),
    ] {
        let server = FakeServer::builder()
            .user_with_room(user, UserState::Live, room)
            .pace(Pace::Speed(50.0))
            .start()
            .await?;
        let base = server.base_url();
        let source = TikTokSource::builder(user)
            .signer(Arc::new(EulerSigner::builder().base_url(&base).build()?))
            .web_url(&base)
            .webcast_url(&base)
            .start()?;
        handles.push(bus.attach(source)?);
        servers.push(server);
    }

    // One lossless chat feed and one gift feed for both rooms; per-source counts from the bus.
    let mut chat_count = 0usize;
    let mut diamonds: BTreeMap<String, u64> = BTreeMap::new();
    let all_done = async {
        for h in &handles {
            h.join().await;
        }
    };
    tokio::pin!(all_done);
    loop {
        tokio::select! {
            Some(Ok(_)) = chats.recv() => chat_count += 1,
            Some(Ok(gift)) = gifts.recv() => {
                if !gift.streaking {
                    *diamonds.entry(gift.user.unique_id.clone()).or_default() += gift.diamonds;
                }
            }
            _ = &mut all_done => break,
        }
    }
    let stats = bus.stats();
    bus.close().await;
    // Whatever was still queued when the sources ended.
    while let Some(Ok(_)) = chats.recv().await {
        chat_count += 1;
    }
    for h in &handles {
        if let Some(s) = stats.source(h.id()) {
            println!("{}: {} events, ended {:?}", s.info, s.events, s.state);
        }
    }
    println!("{chat_count} chats from both rooms");
    let mut top: Vec<_> = diamonds.into_iter().collect();
    top.sort_by_key(|(_, d)| std::cmp::Reverse(*d));
    for (who, d) in top.iter().take(3) {
        println!("top gifter @{who}: {d} diamonds");
    }
    for s in servers {
        s.shutdown().await;
    }
    Ok(())
}
