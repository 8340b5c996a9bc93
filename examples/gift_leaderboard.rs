//! Embeds the event bus with two subscribers: a chat printer and a gift leaderboard ranked by
//! diamonds. A scripted source stands in for a live room (the users and texts are invented).
//!
//! `cargo run -p ttlive-examples --example gift_leaderboard`
//!
//! Gift streaks: a streakable gift arrives as several events with a growing `repeat_count`;
//! only the last one (`streaking == false`) is counted, with its `diamonds`.

use std::collections::HashMap;
use std::time::Duration;

use ttlive_eventbus::{
    ChatEvent, Event, EventBus, EventMeta, Filter, GiftEvent, GiftInfo, Lagged, LikeEvent,
    ScriptedSource, SourceEnd, SubscribeOptions, User,
};

const ROOM: u64 = 7_300_000_000_000_000_001;

fn user(id: u64, handle: &str, nickname: &str) -> User {
    User {
        id,
        unique_id: handle.into(),
        nickname: nickname.into(),
        ..User::default()
    }
}

fn meta(msg_id: u64, method: &str) -> EventMeta {
    EventMeta {
        room_id: ROOM,
        msg_id,
        create_time: 1_700_000_000_000 + msg_id as i64 * 250,
        method: method.into(),
        is_history: false,
    }
}

fn chat(msg_id: u64, who: &User, text: &str) -> Event {
    Event::Chat(ChatEvent {
        meta: meta(msg_id, "WebcastChatMessage"),
        user: who.clone(),
        comment: text.into(),
        ..ChatEvent::default()
    })
}

/// One gift event. `streaking` is true for the intermediate steps of a streak.
fn gift(msg_id: u64, who: &User, name: &str, price: u32, count: u32, streaking: bool) -> Event {
    let gift = GiftInfo {
        id: u64::from(price) * 1000 + 1,
        name: name.into(),
        diamond_count: price,
        gift_type: if price < 100 { 1 } else { 2 },
        ..GiftInfo::default()
    };
    Event::Gift(GiftEvent {
        meta: meta(msg_id, "WebcastGiftMessage"),
        user: who.clone(),
        repeat_count: count,
        repeat_end: gift.is_streakable() && !streaking,
        group_id: msg_id / 10,
        streaking,
        diamonds: u64::from(count) * u64::from(price),
        gift,
        ..GiftEvent::default()
    })
}

fn like(msg_id: u64, who: &User) -> Event {
    Event::Like(LikeEvent {
        meta: meta(msg_id, "WebcastLikeMessage"),
        user: who.clone(),
        count: 5,
        total: msg_id * 5,
        ..LikeEvent::default()
    })
}

/// The invented room: chats, likes and gifts, some of them streaks.
fn script() -> ScriptedSource {
    let ana = user(101, "ana.paints", "Ana");
    let bo = user(102, "bo_rides", "Bo");
    let cyd = user(103, "cyd.codes", "Cyd");
    let dee = user(104, "dee_sings", "Dee");
    let pause = Duration::from_millis(40);
    ScriptedSource::new("scripted:gift-leaderboard-demo")
        .room(ROOM)
        .event(chat(1, &ana, "hi everyone!"))
        .delay(pause)
        .event(gift(2, &bo, "Rose", 1, 1, true))
        .event(gift(3, &bo, "Rose", 1, 2, true))
        .event(gift(4, &bo, "Rose", 1, 5, false)) // Bo's streak ends: 5 diamonds
        .delay(pause)
        .event(chat(5, &cyd, "what are you painting today?"))
        .event(like(6, &dee))
        .event(gift(7, &dee, "Galaxy", 1000, 1, false)) // 1000
        .delay(pause)
        .event(gift(8, &ana, "Finger Heart", 5, 1, true))
        .event(gift(9, &ana, "Finger Heart", 5, 3, false)) // 15
        .event(chat(10, &bo, "that galaxy though"))
        .delay(pause)
        .event(gift(11, &cyd, "Perfume", 20, 1, true))
        .event(gift(12, &cyd, "Perfume", 20, 4, true))
        .event(gift(13, &cyd, "Perfume", 20, 10, false)) // 200
        .event(chat(14, &dee, "gg, see you tomorrow"))
        .delay(pause)
        .event(gift(15, &bo, "Lion", 29_999, 1, false)) // 29,999
        .event(chat(16, &ana, "thank you all <3"))
        .stream_ended()
}

#[tokio::main]
async fn main() {
    let bus = EventBus::new();

    // Subscriber 1: print chat as it comes (lossy is fine for a display).
    let mut chats = bus.subscribe_typed::<ChatEvent>();
    let printer = tokio::spawn(async move {
        let mut printed = 0;
        while let Some(item) = chats.recv().await {
            match item {
                Ok(c) => {
                    println!("[chat] {:>12}: {}", c.user.nickname, c.comment);
                    printed += 1;
                }
                Err(Lagged(n)) => println!("[chat] ... {n} messages skipped"),
            }
        }
        printed
    });

    // Subscriber 2: the leaderboard must see every gift, so it is lossless.
    let mut gifts = bus.subscribe_typed_with::<GiftEvent>(
        Filter::all().room(ROOM),
        SubscribeOptions::new().lossless(true).name("leaderboard"),
    );
    let leaderboard = tokio::spawn(async move {
        let mut by_user: HashMap<u64, (String, u64)> = HashMap::new();
        while let Some(Ok(g)) = gifts.recv().await {
            if g.streaking {
                continue; // not final yet: the last event of the streak carries the total
            }
            let entry = by_user
                .entry(g.user.id)
                .or_insert_with(|| (g.user.nickname.clone(), 0));
            entry.1 += g.diamonds;
            println!(
                "[gift] {:>12} sent {} x{} ({} diamonds)",
                g.user.nickname, g.gift.name, g.repeat_count, g.diamonds
            );
        }
        let mut ranking: Vec<(String, u64)> = by_user.into_values().collect();
        ranking.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        ranking
    });

    let source = bus.attach(script()).expect("inside a tokio runtime");
    let end = source.join().await;
    if end != SourceEnd::StreamEnded {
        eprintln!("unexpected end of the scripted room: {end}");
    }

    let stats = bus.stats();
    bus.close().await; // subscribers drain, then see the end

    let printed = printer.await.unwrap_or(0);
    let ranking = leaderboard.await.unwrap_or_default();
    println!();
    println!("Gift leaderboard (diamonds, finished streaks only)");
    for (rank, (name, diamonds)) in ranking.iter().enumerate() {
        println!("{:>2}. {:<8} {:>7}", rank + 1, name, diamonds);
    }
    println!();
    println!(
        "{} events published ({} chats printed, {} gift events); the source ended: {end}",
        stats.published(),
        printed,
        stats.kind_count(ttlive_eventbus::EventKind::Gift),
    );
}
