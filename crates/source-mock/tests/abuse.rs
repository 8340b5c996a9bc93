//! The fake server under abuse stays bounded: its client log is a ring, what it keeps of each
//! request and frame is capped, idle and half-open connections end, ping floods and clients
//! that never read are cut off, and finished connections leave the task list.

mod common;

use std::time::Duration;

use common::{frame, http_client, open_push, rss_bytes};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use ttlive_source_mock::{
    ClientRecord, DEFAULT_LOG_BYTES, FakeServer, MAX_ACK_PAYLOAD, MAX_HEADER_VALUE,
    PINGS_LOGGED_PER_CONN,
};

const MIB: u64 = 1024 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_thousand_requests_with_100_kib_cookies_keep_the_log_bounded() {
    let s = FakeServer::builder().rooms(1).start().await.unwrap();
    let url = format!("{}/api-live/user/room/?uniqueId=room0000", s.base_url());
    let cookie = format!("ttwid={}", "x".repeat(100 * 1024));
    let client = http_client();
    let before = rss_bytes();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (client, url, cookie) = (client.clone(), url.clone(), cookie.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..500 {
                let r = client
                    .get(&url)
                    .header("cookie", &cookie)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                let _ = r.bytes().await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let grown = rss_bytes().saturating_sub(before);
    let stats = s.log_stats();
    assert_eq!(stats.logged, 4000);
    assert!(stats.held_bytes <= DEFAULT_LOG_BYTES, "{stats:?}");
    // The newest requests are held within the byte budget, the oldest dropped and counted,
    // each cookie cut to the cap.
    assert_eq!(stats.held as u64 + stats.dropped_total(), 4000);
    assert!(stats.held > 3000, "{stats:?}");
    for r in s.client_log().iter().filter_map(ClientRecord::as_http) {
        assert!(r.truncated);
        let c = r.header("cookie").unwrap();
        assert!(c.len() <= MAX_HEADER_VALUE + '…'.len_utf8() && c.starts_with("ttwid=xx"));
    }
    // Before the caps this run kept 400 MB of cookies (+333 MB RSS in the red-team report).
    assert!(grown < 120 * MIB, "RSS grew by {} MiB", grown / MIB);
}

#[tokio::test]
async fn the_log_ring_drops_the_oldest_past_its_capacity_and_counts_them() {
    let s = FakeServer::builder()
        .rooms(1)
        .client_log_capacity(100, 1024 * 1024)
        .start()
        .await
        .unwrap();
    let client = http_client();
    for i in 0..250 {
        client
            .get(format!("{}/webcast/gift/list/?n={i}", s.base_url()))
            .send()
            .await
            .unwrap();
    }
    let stats = s.log_stats();
    assert_eq!(
        (stats.held, stats.logged, stats.dropped_total()),
        (100, 250, 150)
    );
    assert_eq!(stats.dropped["http"], 150);
    let first = s.client_log()[0].as_http().unwrap().query.clone();
    assert_eq!(first, "n=150");
    // The route counters are exact whatever the log dropped.
    assert_eq!(s.route("gift/list").total, 250);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn big_ack_frames_are_stored_capped() {
    let s = FakeServer::builder()
        .rooms(1)
        .rate(1.0)
        .start()
        .await
        .unwrap();
    let mut ws = open_push(&s, "room0000").await;
    let before = rss_bytes();
    let big = vec![b'a'; 1_000_000];
    for i in 0..300 {
        ws.send(frame("ack", i, big.clone())).await.unwrap();
    }
    let log = s
        .wait_for(Duration::from_secs(20), |l| {
            l.iter()
                .filter(|r| matches!(r, ClientRecord::Ack { .. }))
                .count()
                == 300
        })
        .await
        .unwrap();
    for r in &log {
        if let ClientRecord::Ack { payload, len, .. } = r {
            assert_eq!((payload.len(), *len), (MAX_ACK_PAYLOAD, 1_000_000));
        }
    }
    let grown = rss_bytes().saturating_sub(before);
    // Before the cap: +294 MB for the same 300 frames.
    assert!(grown < 100 * MIB, "RSS grew by {} MiB", grown / MIB);
}

/// Reads until the server closes the connection (EOF or reset); false on `timeout`.
async fn closed_by_server(tcp: &mut TcpStream, timeout: Duration) -> bool {
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + timeout;
    loop {
        match tokio::time::timeout_at(deadline, tcp.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_and_idle_connections_are_closed() {
    let s = FakeServer::builder()
        .rooms(1)
        .http_idle_timeout(Duration::from_millis(600))
        .start()
        .await
        .unwrap();
    let mut slow = Vec::new();
    for _ in 0..200 {
        let mut tcp = TcpStream::connect(s.addr()).await.unwrap();
        tcp.write_all(b"GET /webcast/gift/list/ HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .unwrap();
        slow.push(tcp);
    }
    let mut idle = Vec::new();
    for _ in 0..50 {
        idle.push(TcpStream::connect(s.addr()).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(s.open_connections() >= 250, "{}", s.open_connections());
    // Dribble one header byte every 100 ms: progress, but never a whole request.
    let dribble = tokio::spawn(async move {
        for _ in 0..20 {
            for tcp in &mut slow {
                let _ = tcp.write_all(b"a").await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        slow
    });
    for tcp in &mut idle {
        assert!(closed_by_server(tcp, Duration::from_secs(5)).await);
    }
    let mut slow = dribble.await.unwrap();
    for tcp in &mut slow {
        assert!(closed_by_server(tcp, Duration::from_secs(5)).await);
    }
    // The tasks of the closed connections are gone from the task list.
    let deadline = Instant::now() + Duration::from_secs(5);
    while s.open_connections() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(s.open_connections(), 0);
    // The server still answers.
    let r = http_client()
        .get(format!("{}/webcast/gift/list/", s.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn finished_connections_leave_the_task_list() {
    let s = FakeServer::builder().rooms(1).start().await.unwrap();
    for _ in 0..300 {
        let mut tcp = TcpStream::connect(s.addr()).await.unwrap();
        tcp.write_all(b"GET /webcast/gift/list/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        assert!(closed_by_server(&mut tcp, Duration::from_secs(5)).await);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while s.open_connections() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(s.open_connections(), 0);
}

fn closed_reason(log: &[ClientRecord]) -> Option<(u64, String)> {
    log.iter().find_map(|r| match r {
        ClientRecord::WsClosed { pings, reason, .. } => Some((*pings, reason.clone())),
        _ => None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_ping_flood_is_cut_off_and_logs_a_bounded_number_of_pings() {
    let s = FakeServer::builder()
        .rooms(1)
        .rate(1.0)
        .start()
        .await
        .unwrap();
    let mut ws = open_push(&s, "room0000").await;
    let before = rss_bytes();
    // Flood without reading: pongs are not collected on our side.
    for i in 0u32..20_000 {
        if ws
            .send(Message::Ping(i.to_be_bytes().to_vec().into()))
            .await
            .is_err()
        {
            break;
        }
    }
    let log = s
        .wait_for(Duration::from_secs(10), |l| closed_reason(l).is_some())
        .await
        .unwrap();
    let (pings, reason) = closed_reason(&log).unwrap();
    assert_eq!(reason, "ping flood");
    assert!(pings > 1000 && pings <= 20_000, "{pings}");
    let logged = log
        .iter()
        .filter(|r| matches!(r, ClientRecord::Ping { .. }))
        .count();
    assert_eq!(logged as u64, PINGS_LOGGED_PER_CONN);
    let grown = rss_bytes().saturating_sub(before);
    assert!(grown < 30 * MIB, "RSS grew by {} MiB", grown / MIB);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pings_under_the_limit_are_answered_with_at_most_one_pending_pong() {
    let s = FakeServer::builder()
        .rooms(1)
        .rate(1.0)
        .max_pings_per_sec(u32::MAX)
        .start()
        .await
        .unwrap();
    let mut ws = open_push(&s, "room0000").await;
    let before = rss_bytes();
    for i in 0u32..100_000 {
        ws.send(Message::Ping(i.to_be_bytes().to_vec().into()))
            .await
            .unwrap();
    }
    // The server read them all (counted in the log's ping records as at most 8) and stayed
    // small; now read what came back: some pongs, never one per ping queued up.
    s.wait_for(Duration::from_secs(20), |l| {
        l.iter()
            .filter(|r| matches!(r, ClientRecord::Ping { .. }))
            .count() as u64
            == PINGS_LOGGED_PER_CONN
    })
    .await
    .unwrap();
    let grown = rss_bytes().saturating_sub(before);
    assert!(grown < 30 * MIB, "RSS grew by {} MiB", grown / MIB);
    let mut pongs = 0;
    while let Ok(Some(Ok(m))) = tokio::time::timeout(Duration::from_millis(500), ws.next()).await {
        if matches!(m, Message::Pong(_)) {
            pongs += 1;
        }
    }
    assert!(pongs >= 1, "pings are answered");
    assert_eq!(s.log_stats().dropped_total(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_dropped() {
    let s = FakeServer::builder()
        .rooms(1)
        .rate(50_000.0)
        .write_timeout(Duration::from_millis(300))
        .start()
        .await
        .unwrap();
    let _ws = open_push(&s, "room0000").await; // never read from
    let log = s
        .wait_for(Duration::from_secs(30), |l| closed_reason(l).is_some())
        .await
        .unwrap();
    assert_eq!(closed_reason(&log).unwrap().1, "client does not read");
    assert_eq!(s.room_stats("room0000").unwrap().sockets_open, 0);
}

#[tokio::test]
async fn a_silent_push_client_is_closed_after_the_idle_timeout() {
    let s = FakeServer::builder()
        .rooms(1)
        .rate(1.0)
        .ws_idle_timeout(Duration::from_millis(400))
        .start()
        .await
        .unwrap();
    let mut ws = open_push(&s, "room0000").await;
    let started = Instant::now();
    let mut close_code = None;
    while let Ok(Some(Ok(m))) = tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
        if let Message::Close(c) = m {
            close_code = c.map(|c| u16::from(c.code));
            break;
        }
    }
    assert_eq!(close_code, Some(1001));
    assert!(started.elapsed() >= Duration::from_millis(350));
    let log = s
        .wait_for(Duration::from_secs(5), |l| closed_reason(l).is_some())
        .await
        .unwrap();
    assert_eq!(closed_reason(&log).unwrap().1, "idle timeout");
}
