//! A few rooms through their whole lifecycle against the fake TikTok, in process, over real
//! loopback sockets.

mod common;

use std::time::Duration;

use common::*;
use ttlive_eventbus::{Event, RoomState};
use ttlive_service::Service;
use ttlive_source_mock::UserState;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_go_live_end_come_back_and_unknown_users_stop() {
    let users = vec![
        ("alive".to_owned(), UserState::Live),
        ("sleeper".to_owned(), UserState::Offline),
        ("ghost".to_owned(), UserState::Unknown),
    ];
    let frames = feed(10, 40, true);
    let fake = fake_with_rooms(&users, frames.clone()).await;
    let base = fake.base_url();
    let rooms: Vec<String> = users.iter().map(|(u, _)| u.clone()).collect();
    // Subscribe before the rooms start, as an output does.
    let bus = ttlive_eventbus::EventBus::new();
    let (seen, recorder) = Seen::record(&bus);
    let service = Service::builder(config(&base, &rooms))
        .bus(bus)
        .start()
        .await
        .unwrap();

    // The live room connects; the unknown user stops with its error.
    seen.wait(Duration::from_secs(10), "alive to go live", |_| {
        seen_state(&seen, "alive", RoomState::Live)
    })
    .await;
    seen.wait(Duration::from_secs(10), "ghost to stop", |_| {
        seen_state(&seen, "ghost", RoomState::Stopped)
    })
    .await;
    let ghost = service.room("ghost").unwrap();
    assert_eq!(ghost.state, RoomState::Stopped);
    assert!(
        ghost
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("not found"),
        "{ghost:?}"
    );

    // The sleeper goes live later and is picked up.
    assert_eq!(service.room("sleeper").unwrap().state, RoomState::Waiting);
    fake.set_user_state("sleeper", UserState::Live);
    seen.wait(Duration::from_secs(10), "sleeper to go live", |_| {
        seen_state(&seen, "sleeper", RoomState::Live)
    })
    .await;

    // The stream ends (the recording's stream end ends the fake's stream): back to waiting;
    // the next stream (a new room id) is picked up.
    seen.wait(Duration::from_secs(10), "alive's stream to end", |_| {
        seen.states("alive")
            .iter()
            .any(|(_, to, why)| *to == RoomState::Waiting && why == "stream ended")
    })
    .await;
    fake.set_user_state("alive", UserState::Live);
    seen.wait(Duration::from_secs(10), "alive to come back", |_| {
        let s = seen.states("alive");
        let ended = s
            .iter()
            .position(|(_, to, why)| *to == RoomState::Waiting && why == "stream ended");
        ended.is_some_and(|i| s[i..].iter().any(|(_, to, _)| *to == RoomState::Live))
    })
    .await;
    // End both streams for good and let the last sessions finish.
    fake.set_user_state("alive", UserState::Offline);
    fake.set_user_state("sleeper", UserState::Offline);
    seen.wait(Duration::from_secs(10), "every room to wait", |_| {
        ["alive", "sleeper"]
            .iter()
            .all(|u| service.room(u).unwrap().state == RoomState::Waiting)
    })
    .await;

    let report = service.shutdown().await;
    assert!(report.is_clean(), "{report:?}");
    recorder.await.unwrap();

    let states = seen.states("alive");
    assert_eq!(states[0], (None, RoomState::Waiting, "added".to_owned()));
    let path: Vec<RoomState> = states.iter().map(|(_, to, _)| *to).collect();
    assert_eq!(
        &path[..5],
        [
            RoomState::Waiting,
            RoomState::Connecting,
            RoomState::Live,
            RoomState::Waiting,
            RoomState::Connecting
        ]
    );
    assert_eq!(path.last(), Some(&RoomState::Stopped));
    // Every pushed message arrived once per socket that pushed it, in its own room.
    let delivered = seen.delivered();
    let names: Vec<String> = users.iter().map(|(u, _)| u.clone()).collect();
    let pushed = pushed(&fake, &names);
    assert!(!pushed.is_empty());
    assert_eq!(delivered, pushed);
    // Connected events name the user.
    assert!(
        seen.events()
            .iter()
            .any(|e| matches!(&**e, Event::Connected(c) if c.unique_id == "alive"))
    );
}

fn seen_state(seen: &Seen, user: &str, state: RoomState) -> bool {
    seen.states(user).iter().any(|(_, to, _)| *to == state)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_socket_makes_the_room_reconnect_and_resume_without_loss() {
    let users = vec![("alive".to_owned(), UserState::Live)];
    let frames = feed(20, 30, true);
    let fake = fake_with_rooms(&users, frames.clone()).await;
    fake.inject(
        ttlive_source_mock::Fault::DropAfterFrames(5),
        ttlive_source_mock::Trigger::Once,
    );
    let bus = ttlive_eventbus::EventBus::new();
    let (seen, recorder) = Seen::record(&bus);
    let service = Service::builder(config(&fake.base_url(), &["alive".to_owned()]))
        .bus(bus)
        .start()
        .await
        .unwrap();
    seen.wait(Duration::from_secs(15), "the stream to end", |_| {
        seen.states("alive")
            .iter()
            .any(|(_, to, why)| *to == RoomState::Waiting && why == "stream ended")
    })
    .await;
    fake.set_user_state("alive", UserState::Offline);
    seen.wait(Duration::from_secs(10), "the room to wait", |_| {
        service.room("alive").unwrap().state == RoomState::Waiting
    })
    .await;
    let room = service.room("alive").unwrap();
    assert!(room.reconnects >= 1, "{room:?}");
    assert_eq!(room.gaps, 0, "resumed from the cursor: no gap");
    assert!(service.shutdown().await.is_clean());
    recorder.await.unwrap();
    let path: Vec<RoomState> = seen.states("alive").iter().map(|(_, to, _)| *to).collect();
    assert_eq!(
        &path[..5],
        [
            RoomState::Waiting,
            RoomState::Connecting,
            RoomState::Live,
            RoomState::Reconnecting,
            RoomState::Live
        ]
    );
    let names: Vec<String> = users.iter().map(|(u, _)| u.clone()).collect();
    assert_eq!(seen.delivered(), pushed(&fake, &names));
}
