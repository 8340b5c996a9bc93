//! The whole connection (web routes, sign server, WebSocket) through an HTTP proxy and through a
//! SOCKS5 proxy, each a small proxy written in the test on 127.0.0.1 that counts what passes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use ttlive_eventbus::{EventKind, EventSource, SourceEnd, SourceItem};
use ttlive_signer::EulerSigner;
use ttlive_source_mock::{FakeServer, Pace};
use ttlive_source_tiktok::TikTokSource;

#[derive(Default)]
struct Seen {
    connections: AtomicUsize,
    tunnels: AtomicUsize,
}

async fn read_head(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024 || s.read(&mut b).await.ok()? == 0 {
            return None;
        }
        head.push(b[0]);
    }
    Some(head)
}

/// An HTTP proxy: `CONNECT host:port` tunnels (the WebSocket), absolute-form requests are
/// forwarded to their host (plain-http requests from reqwest).
async fn http_proxy(seen: Arc<Seen>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                seen.connections.fetch_add(1, Ordering::SeqCst);
                let Some(head) = read_head(&mut client).await else {
                    return;
                };
                let text = String::from_utf8_lossy(&head).into_owned();
                let mut parts = text.split_whitespace();
                let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                if method == "CONNECT" {
                    seen.tunnels.fetch_add(1, Ordering::SeqCst);
                    let Ok(mut up) = TcpStream::connect(target).await else {
                        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
                        return;
                    };
                    let _ = client
                        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                        .await;
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut up).await;
                } else {
                    // GET http://host:port/path HTTP/1.1 → GET /path to host:port.
                    let rest = target.strip_prefix("http://").unwrap_or(target);
                    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
                    let Ok(mut up) = TcpStream::connect(host).await else {
                        return;
                    };
                    let fixed = text.replacen(target, &format!("/{path}"), 1);
                    if up.write_all(fixed.as_bytes()).await.is_err() {
                        return;
                    }
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut up).await;
                }
            });
        }
    });
    format!("http://{addr}")
}

/// A SOCKS5 proxy without authentication (domain and IPv4 targets).
async fn socks5_proxy(seen: Arc<Seen>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut c, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                seen.connections.fetch_add(1, Ordering::SeqCst);
                let mut hello = [0u8; 2];
                if c.read_exact(&mut hello).await.is_err() {
                    return;
                }
                let mut methods = vec![0u8; usize::from(hello[1])];
                if c.read_exact(&mut methods).await.is_err() || !methods.contains(&0) {
                    return;
                }
                let _ = c.write_all(&[5, 0]).await;
                let mut req = [0u8; 4];
                if c.read_exact(&mut req).await.is_err() {
                    return;
                }
                let host = match req[3] {
                    1 => {
                        let mut ip = [0u8; 4];
                        if c.read_exact(&mut ip).await.is_err() {
                            return;
                        }
                        std::net::Ipv4Addr::from(ip).to_string()
                    }
                    3 => {
                        let mut len = [0u8; 1];
                        if c.read_exact(&mut len).await.is_err() {
                            return;
                        }
                        let mut name = vec![0u8; usize::from(len[0])];
                        if c.read_exact(&mut name).await.is_err() {
                            return;
                        }
                        String::from_utf8_lossy(&name).into_owned()
                    }
                    _ => return,
                };
                let mut port = [0u8; 2];
                if c.read_exact(&mut port).await.is_err() {
                    return;
                }
                let Ok(mut up) =
                    TcpStream::connect((host.as_str(), u16::from_be_bytes(port))).await
                else {
                    let _ = c.write_all(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]).await;
                    return;
                };
                seen.tunnels.fetch_add(1, Ordering::SeqCst);
                let _ = c.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0]).await;
                let _ = tokio::io::copy_bidirectional(&mut c, &mut up).await;
            });
        }
    });
    format!("socks5://{addr}")
}

async fn watch_through(proxy: &str) -> (usize, Option<SourceEnd>) {
    let srv = FakeServer::builder()
        .pace(Pace::Instant)
        .start()
        .await
        .unwrap();
    let base = srv.base_url();
    let signer = EulerSigner::builder()
        .base_url(&base)
        .use_env(false)
        .proxy(proxy)
        .build()
        .unwrap();
    let mut src = TikTokSource::builder("fakeuser")
        .signer(Arc::new(signer))
        .web_url(&base)
        .webcast_url(&base)
        .proxy(proxy)
        .polling(false, Duration::from_secs(1), Duration::from_secs(60))
        .max_attempts(Some(2))
        .start()
        .unwrap();
    let mut chats = 0;
    let end = loop {
        match tokio::time::timeout(Duration::from_secs(30), src.next())
            .await
            .expect("no end in time")
        {
            SourceItem::Event(e) if e.kind() == EventKind::Chat => chats += 1,
            SourceItem::End(end) => break Some(end),
            _ => {}
        }
    };
    srv.shutdown().await;
    (chats, end)
}

#[tokio::test]
async fn everything_goes_through_an_http_proxy() {
    let seen = Arc::new(Seen::default());
    let proxy = http_proxy(seen.clone()).await;
    let (chats, end) = watch_through(&proxy).await;
    assert_eq!(end, Some(SourceEnd::StreamEnded));
    assert!(chats > 50, "{chats} chats");
    assert!(seen.connections.load(Ordering::SeqCst) >= 2);
    assert_eq!(
        seen.tunnels.load(Ordering::SeqCst),
        1,
        "one CONNECT tunnel: the WebSocket"
    );
}

#[tokio::test]
async fn everything_goes_through_a_socks5_proxy() {
    let seen = Arc::new(Seen::default());
    let proxy = socks5_proxy(seen.clone()).await;
    let (chats, end) = watch_through(&proxy).await;
    assert_eq!(end, Some(SourceEnd::StreamEnded));
    assert!(chats > 50, "{chats} chats");
    // Web routes and the signer (pooled connections) plus the WebSocket.
    assert!(seen.tunnels.load(Ordering::SeqCst) >= 2);
}
