//! The PostgreSQL archive against a real server: counts equal to what the fake TikTok pushed,
//! a replay that adds nothing, and a connection killed mid-stream that costs nothing.
//!
//! Needs the cargo feature `postgres` and a server named by `TTLIVE_POSTGRES_URL` (a user
//! that may create databases):
//!
//! ```sh
//! export TTLIVE_POSTGRES_URL="$(bash scripts/start-postgres.sh)"
//! cargo test -p ttlive-outputs --features postgres --test postgres
//! ```
//!
//! Without them the tests say they skipped (a failure under `TTLIVE_REQUIRE_SERVERS=1` when
//! the feature is on but no server is named).

mod common;

const HOW: &str = "run: export TTLIVE_POSTGRES_URL=\"$(bash scripts/start-postgres.sh)\"; \
                   cargo test -p ttlive-outputs --features postgres --test postgres";

#[cfg(not(feature = "postgres"))]
#[test]
fn postgres_archive_is_tested_with_the_postgres_feature() {
    eprintln!("SKIPPED: the PostgreSQL archive is built with the cargo feature `postgres`; {HOW}");
}

#[cfg(feature = "postgres")]
mod with_server {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use super::HOW;
    use super::common::*;
    use tokio_postgres::{Client, NoTls};
    use ttlive_eventbus::{ChatEvent, Event, EventBus};
    use ttlive_outputs::{Archive, PostgresConfig};
    use ttlive_source_mock::{Pace, ReplaySource, demo_recording};

    /// A fresh database on the test server, or `None` (after saying so) without one.
    async fn fresh_db(name: &str) -> Option<String> {
        let Ok(url) = std::env::var("TTLIVE_POSTGRES_URL") else {
            assert!(!required(), "TTLIVE_POSTGRES_URL is not set; {HOW}");
            eprintln!("SKIPPED: no PostgreSQL server (TTLIVE_POSTGRES_URL); {HOW}");
            return None;
        };
        let (client, conn) = tokio_postgres::connect(&url, NoTls)
            .await
            .expect("the test server answers");
        tokio::spawn(conn);
        let db = format!("ttlive_test_{name}_{}", std::process::id());
        client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {db}"))
            .await
            .unwrap();
        client
            .batch_execute(&format!("CREATE DATABASE {db}"))
            .await
            .unwrap();
        let base = url.rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap();
        Some(format!("{base}/{db}"))
    }

    async fn client(url: &str) -> Client {
        let (client, conn) = tokio_postgres::connect(url, NoTls).await.unwrap();
        tokio::spawn(conn);
        client
    }

    async fn per_type(c: &Client) -> BTreeMap<String, i64> {
        c.query("SELECT type, COUNT(*) FROM events GROUP BY type", &[])
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect()
    }

    async fn one(c: &Client, sql: &str) -> i64 {
        c.query_one(sql, &[]).await.unwrap().get(0)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_holds_what_the_fake_pushed_and_a_replay_adds_nothing() {
        let Some(url) = fresh_db("counts").await else {
            return;
        };
        let tiktok = fake_tiktok(Pace::Instant).await;
        let bus = EventBus::new();
        let archive = Archive::postgres(&bus, &PostgresConfig::new(&url))
            .await
            .unwrap();
        let truth = truth(&bus);
        bus.attach(live_source(&tiktok)).unwrap().join().await;
        bus.close().await;
        archive.finish().await;
        tiktok.shutdown().await;
        let events = drain(truth).await;
        let mut want: BTreeMap<String, i64> = BTreeMap::new();
        for e in &events {
            *want.entry(e.name().to_owned()).or_default() += 1;
        }
        let c = client(&url).await;
        assert_eq!(per_type(&c).await, want);
        let status = archive.status();
        assert_eq!((status.inserted as usize, status.errors), (events.len(), 0));
        let messages = one(&c, "SELECT COUNT(*) FROM events WHERE msg_id <> 0").await;
        let session: String = c
            .query_one(
                "SELECT COUNT(*)::text || '/' || MAX(unique_id) || '/' || MAX(chats) FROM sessions",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(session, format!("1/fakeuser/{}", want["chat"]));

        let bus = EventBus::new();
        let archive = Archive::postgres(&bus, &PostgresConfig::new(&url))
            .await
            .unwrap();
        bus.attach(ReplaySource::new(demo_recording()).pace(Pace::Instant))
            .unwrap()
            .join()
            .await;
        bus.close().await;
        archive.finish().await;
        assert_eq!(
            one(&c, "SELECT COUNT(*) FROM events WHERE msg_id <> 0").await,
            messages
        );
        assert_eq!(archive.status().duplicates as i64, messages);
        let again: String = c
            .query_one(
                "SELECT COUNT(*)::text || '/' || MAX(unique_id) || '/' || MAX(chats) FROM sessions",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(again, session);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_killed_connection_is_reopened_and_nothing_is_lost() {
        let Some(url) = fresh_db("reconnect").await else {
            return;
        };
        let bus = EventBus::new();
        let archive = Archive::postgres(&bus, &PostgresConfig::new(&url))
            .await
            .unwrap();
        let chat = |n: u64| -> Event {
            let mut c = ChatEvent::default();
            c.meta.room_id = 3;
            c.meta.msg_id = n;
            c.into()
        };
        for n in 1..=100 {
            bus.publish(chat(n)).await.unwrap();
        }
        wait_until(Duration::from_secs(30), "the first rows", || {
            archive.status().inserted == 100
        })
        .await;
        let admin = client(&url).await;
        let killed = one(
            &admin,
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .await;
        assert_eq!(killed, 1, "the archive's connection");
        for n in 101..=200 {
            bus.publish(chat(n)).await.unwrap();
        }
        bus.close().await;
        archive.finish().await;
        let status = archive.status();
        assert_eq!(status.inserted, 200, "{status:?}");
        assert!(
            status.errors >= 1,
            "the broken connection was noticed: {status:?}"
        );
        assert_eq!(one(&admin, "SELECT COUNT(*) FROM events").await, 200);
    }
}
