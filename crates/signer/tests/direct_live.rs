//! A live smoke test of the direct mode against TikTok itself. Ignored by default: it needs a
//! machine that can reach TikTok and a room that is live now.
//!
//! ```sh
//! DIRECT_SMOKE_ROOM=@someone_live cargo test -p ttlive-signer --test direct_live -- --ignored
//! ```
//!
//! `DIRECT_SMOKE_ROOM` is a numeric room id or a handle (`@name`). Optional:
//! `DIRECT_SMOKE_HOST` (`global`, `us`, `eu`), `DIRECT_SMOKE_TTWID` (a user-supplied value),
//! `DIRECT_SMOKE_SOURCE` (`home`, `live`, `register`; default: home then register).
//! It signs, opens the socket exactly as the live source must in direct mode (`push_server`
//! verbatim, `hb` then `im_enter_room`), and expects a `msg` frame within 30 s; a refusal is
//! printed with its `Handshake-Msg` so drift is easy to see.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use ttlive_signer::{
    DirectHost, DirectSigner, PageTtwid, Rejection, SignRequest, Signer, StaticTtwid, TtwidCache,
    UnionRegisterTtwid,
};

#[tokio::test]
#[ignore = "needs the internet and a live room: DIRECT_SMOKE_ROOM=... -- --ignored"]
async fn direct_socket_delivers_frames_from_a_live_room() {
    let Ok(target) = std::env::var("DIRECT_SMOKE_ROOM") else {
        panic!("set DIRECT_SMOKE_ROOM to a live room id or @handle");
    };
    let host: DirectHost = std::env::var("DIRECT_SMOKE_HOST")
        .unwrap_or_default()
        .parse()
        .expect("DIRECT_SMOKE_HOST");
    let mut cache = TtwidCache::builder();
    if let Ok(v) = std::env::var("DIRECT_SMOKE_TTWID") {
        cache = cache.user_ttwid(StaticTtwid::new(v).expect("DIRECT_SMOKE_TTWID"));
    }
    match std::env::var("DIRECT_SMOKE_SOURCE").as_deref() {
        Ok("live") => cache = cache.source(PageTtwid::live().unwrap()),
        Ok("register") => cache = cache.source(UnionRegisterTtwid::new().unwrap()),
        Ok("home") => cache = cache.source(PageTtwid::home().unwrap()),
        _ => {
            cache = cache
                .source(PageTtwid::home().unwrap())
                .source(UnionRegisterTtwid::new().unwrap());
        }
    }
    let signer = DirectSigner::builder()
        .ttwid_cache(Arc::new(cache.build()))
        .host(host)
        .build()
        .unwrap();

    let room_id = if target.trim().bytes().all(|b| b.is_ascii_digit()) {
        target.trim().to_owned()
    } else {
        let info = signer.resolve_room_id(&target).await.expect("room id");
        eprintln!("{target}: room {} live={}", info.room_id, info.is_live);
        info.room_id
    };
    let conn = signer
        .sign(&SignRequest::new(&room_id))
        .await
        .expect("sign");
    eprintln!(
        "ttwid from {:?}, UA {}",
        signer.ttwid_cache().current().map(|l| l.source),
        conn.user_agent
    );

    let mut request = conn.push_server.as_str().into_client_request().unwrap();
    let h = request.headers_mut();
    h.insert(
        "user-agent",
        HeaderValue::from_str(&conn.user_agent).unwrap(),
    );
    h.insert(
        "cookie",
        HeaderValue::from_str(&conn.cookie_header()).unwrap(),
    );
    for (k, v) in &conn.ws_headers {
        h.insert(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    let tls = {
        let roots = rustls_roots();
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth()
    };
    let connector = tokio_tungstenite::Connector::Rustls(Arc::new(tls));
    let url = reqwest::Url::parse(&conn.push_server).unwrap();
    let tcp = tokio::net::TcpStream::connect((
        url.host_str().unwrap(),
        url.port_or_known_default().unwrap_or(443),
    ))
    .await
    .expect("TCP connect to the push host");
    let mut ws =
        match tokio_tungstenite::client_async_tls_with_config(request, tcp, None, Some(connector))
            .await
        {
            Ok((ws, _)) => ws,
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
                let hv = |n: &str| resp.headers().get(n).and_then(|v| v.to_str().ok());
                let r = Rejection::handshake(
                    resp.status().as_u16(),
                    hv("handshake-msg"),
                    hv("handshake-status"),
                );
                conn.feedback.report_rejected(r.clone());
                panic!("direct socket refused: {r}");
            }
            Err(e) => panic!("direct socket failed: {e}"),
        };
    conn.feedback.report_connected();

    let room: u64 = room_id.parse().unwrap();
    ws.send(Message::Binary(
        ttlive_proto::heartbeat_frame(room, 1).into(),
    ))
    .await
    .unwrap();
    ws.send(Message::Binary(
        ttlive_proto::enter_room_frame(room, ttlive_proto::new_enter_unique_id()).into(),
    ))
    .await
    .unwrap();

    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut types = Vec::new();
    while let Ok(Some(msg)) = tokio::time::timeout_at(deadline, ws.next()).await {
        let Ok(Message::Binary(b)) = msg else {
            continue;
        };
        let Ok(frame) = ttlive_proto::decode_push_frame(&b) else {
            continue;
        };
        types.push(frame.payload_type.clone());
        if frame.payload_type == "close" {
            panic!(
                "close frame, close_reason {:?}",
                ttlive_proto::frame_header(&frame, "close_reason")
            );
        }
        if frame.payload_type == "msg" {
            eprintln!("frames: {types:?}");
            return;
        }
    }
    panic!("no msg frame within 30 s; frames seen: {types:?}");
}

fn rustls_roots() -> rustls::RootCertStore {
    rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    }
}
