//! The checks behind the fuzz targets, shared with the property tests in
//! `tests/tests/proptests.rs` (included there with `#[path]`), so `cargo test` runs the same
//! code on random inputs that `cargo fuzz` runs on guided ones.
//!
//! Each check feeds arbitrary bytes to one parser of remote input and panics only when an
//! invariant breaks (a panic inside the parser is a finding too).

#![allow(dead_code)]

use std::sync::OnceLock;

use bytes::Bytes;
use ttlive_proto::FrameLimits;
use ttlive_signer::{EulerSigner, SessionCredentials, SignRequest};

/// The API key and session id the sign-response check uses: they must never come out in an
/// error's text or a connection's `Debug`.
pub const FUZZ_API_KEY: &str = "fuzz-api-key-3f9a";
pub const FUZZ_SESSION_ID: &str = "fuzz-session-77c1";

const METHODS: &[&str] = &[
    "WebcastChatMessage",
    "WebcastGiftMessage",
    "WebcastMemberMessage",
    "WebcastLikeMessage",
    "WebcastSocialMessage",
    "WebcastSubNotifyMessage",
    "WebcastRoomUserSeqMessage",
    "WebcastQuestionNewMessage",
    "WebcastLinkMicBattle",
    "WebcastLinkMicArmies",
    "WebcastEmoteChatMessage",
    "WebcastControlMessage",
    "WebcastEnvelopeMessage",
    "WebcastRoomMessage",
    "WebcastSomethingUnknown",
];

/// Push frame → batch → events (and each event to JSON); then the bytes as one message payload
/// of a kind chosen by the first byte.
pub fn frame_decoder(data: &[u8]) {
    let limits = FrameLimits {
        max_frame_bytes: 1 << 20,
        max_decompressed_bytes: 1 << 20,
    };
    if let Ok(frame) = ttlive_proto::decode_msg_frame(data, &limits)
        && let Some(result) = &frame.result
    {
        for ev in ttlive_proto::decode_events(result) {
            match ev {
                Ok(ev) => {
                    serde_json::to_string(&ev).expect("every event serializes");
                }
                Err(e) => {
                    let _ = e.to_string();
                }
            }
        }
    }
    let _ = ttlive_proto::decode_fetch_result(data);
    if let Some((first, rest)) = data.split_first() {
        let method = METHODS[usize::from(*first) % METHODS.len()];
        match ttlive_proto::decode_payload(method, rest) {
            Ok(ev) => {
                serde_json::to_string(&ev).expect("every event serializes");
            }
            Err(e) => assert!(e.to_string().contains(method), "{e}"),
        }
    }
}

/// The recording reader, streaming and whole. At most `max_units` items are pulled.
pub fn recording_reader(data: &[u8]) {
    if let Ok(reader) = ttlive_source_mock::RecordingReader::from_bytes(data.to_vec()) {
        let mut last_line = 0;
        for item in reader.take(10_000) {
            match item {
                Ok(_) => {}
                Err(e) => {
                    // Line numbers never go back.
                    assert!(e.line() >= last_line, "{e}");
                    last_line = e.line();
                    let _ = e.to_string();
                }
            }
        }
    }
    if let Ok(rec) = ttlive_source_mock::Recording::from_bytes(data.to_vec()) {
        // What was read writes back and reads again to the same units.
        let again = ttlive_source_mock::Recording::from_bytes(rec.to_bytes())
            .expect("a written recording reads back");
        assert_eq!(again.units.len(), rec.units.len());
    }
}

/// The `/@user/live` page and the room/user/gift JSON parsers.
pub fn web_json(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = ttlive_source_tiktok::parse_sigi_page("fuzzuser", &text);
    // The same bytes inside a SIGI_STATE script tag.
    let page =
        format!("<html><script id=\"SIGI_STATE\" type=\"application/json\">{text}</script></html>");
    if let Ok(status) = ttlive_source_tiktok::parse_sigi_page("fuzzuser", &page) {
        assert_ne!(status.room_id, 0);
    }
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        if let Ok(status) = ttlive_source_tiktok::parse_api_room("fuzzuser", &v) {
            assert_ne!(status.room_id, 0);
        }
        let _ = ttlive_source_tiktok::parse_room_info(1, &v);
        let _ = ttlive_source_tiktok::parse_gift_list(&v);
    }
}

fn signer() -> &'static EulerSigner {
    static SIGNER: OnceLock<EulerSigner> = OnceLock::new();
    SIGNER.get_or_init(|| {
        EulerSigner::builder()
            .base_url("http://127.0.0.1:9")
            .api_key(FUZZ_API_KEY)
            .use_env(false)
            .no_proxy()
            .build()
            .expect("a signer")
    })
}

fn trim(b: &[u8]) -> &[u8] {
    b.trim_ascii()
}

/// A sign-server answer: byte 0 picks the status, then `name: value` header lines up to a
/// blank line, then the body. Whatever the answer, an error's text and a connection's `Debug`
/// never show the API key or the session id.
pub fn sign_response(data: &[u8]) {
    const STATUS: &[u16] = &[
        200, 200, 200, 200, 429, 401, 403, 402, 500, 503, 404, 302, 204,
    ];
    let Some((first, rest)) = data.split_first() else {
        return;
    };
    let status = STATUS[usize::from(*first) % STATUS.len()];
    let split = rest.windows(2).position(|w| w == b"\n\n");
    let (head, body) = match split {
        Some(i) => (&rest[..i], &rest[i + 2..]),
        None => (&rest[..0], rest),
    };
    let headers: Vec<(&str, &[u8])> = head
        .split(|b| *b == b'\n')
        .filter_map(|line| {
            let i = line.iter().position(|b| *b == b':')?;
            let name = std::str::from_utf8(trim(&line[..i])).ok()?;
            Some((name, trim(&line[i + 1..])))
        })
        .collect();
    let request = SignRequest::new("7460000000000004242")
        .with_session(SessionCredentials::new(FUZZ_SESSION_ID, "useast2a"));
    let text = match signer().parse_sign_response(
        &request,
        status,
        &headers,
        Bytes::copy_from_slice(body),
    ) {
        Ok(conn) => {
            assert!(!conn.push_server.trim().is_empty());
            // A connection holds what the server sent: only what it did not echo must stay
            // out of its Debug.
            let echoed = |s: &str| data.windows(s.len()).any(|w| w == s.as_bytes());
            if echoed(FUZZ_API_KEY) || echoed(FUZZ_SESSION_ID) {
                return;
            }
            format!("{conn:?}")
        }
        Err(e) => {
            let _ = e.is_retryable();
            let _ = e.retry_after();
            let mut s = format!("{e} {e:?}");
            let mut cur = std::error::Error::source(&e);
            while let Some(c) = cur {
                s.push_str(&c.to_string());
                cur = c.source();
            }
            s
        }
    };
    assert!(!text.contains(FUZZ_API_KEY), "API key leaked: {text}");
    assert!(!text.contains(FUZZ_SESSION_ID), "session id leaked: {text}");
}
