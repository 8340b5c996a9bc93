//! Property tests (issue 9): the fuzz targets' checks (`fuzz/checks.rs`, shared with
//! `cargo fuzz`) on random and on mutated-valid inputs, so `cargo test` runs them on every
//! change. `PROPTEST_CASES=100000 cargo test -p ttlive-tests --release --test proptests` runs
//! a long version.
//!
//! The seed corpus under `fuzz/corpus/<target>/seed-*` is written by the ignored test
//! `write_fuzz_seeds` (`cargo test -p ttlive-tests --test proptests -- --ignored
//! write_fuzz_seeds`): invented messages only, never captured bytes.

#[path = "../../fuzz/checks.rs"]
mod checks;

use std::path::Path;

use proptest::prelude::*;
use prost::Message as _;
use ttlive_proto::webcast as pb;
use ttlive_source_mock::{Header, Recording, Unit, UnitKind};

fn chat(id: u64, text: &str) -> pb::BaseProtoMessage {
    let m = pb::WebcastChatMessage {
        common: Some(pb::CommonMessageData {
            method: "WebcastChatMessage".into(),
            msg_id: id as i64,
            room_id: 7_460_000_000_000_004_242,
            create_time: 1_767_290_400_000,
            ..Default::default()
        }),
        user: Some(pb::User {
            id: 6_900_000_000_000_000_001,
            nickname: "seed user".into(),
            display_id: "seed_user".into(),
            ..Default::default()
        }),
        content: text.to_owned(),
        ..Default::default()
    };
    pb::BaseProtoMessage {
        method: "WebcastChatMessage".into(),
        payload: m.encode_to_vec().into(),
        msg_id: id as i64,
        ..Default::default()
    }
}

fn like(id: u64, count: i32) -> pb::BaseProtoMessage {
    let m = pb::WebcastLikeMessage {
        common: Some(pb::CommonMessageData {
            method: "WebcastLikeMessage".into(),
            msg_id: id as i64,
            ..Default::default()
        }),
        count,
        total: i64::from(count) * 3,
        ..Default::default()
    };
    pb::BaseProtoMessage {
        method: "WebcastLikeMessage".into(),
        payload: m.encode_to_vec().into(),
        msg_id: id as i64,
        ..Default::default()
    }
}

fn fetch_result(messages: Vec<pb::BaseProtoMessage>) -> pb::ProtoMessageFetchResult {
    let mut r = pb::ProtoMessageFetchResult {
        messages,
        cursor: "t-1767290400000_r-1_d-1_u-1_h-1_n-1".into(),
        internal_ext: "fetch_time:1767290400000|seq:1|next_cursor:t-1_n-1".into(),
        push_server: "ws://127.0.0.1:1/webcast/im/ws_proxy/ws_reuse_supplement/".into(),
        need_ack: true,
        fetch_interval: 1000,
        ..Default::default()
    };
    r.route_params.insert("wrss".into(), "seedseedseed".into());
    r
}

fn frame(messages: Vec<pb::BaseProtoMessage>, gzip: bool) -> Vec<u8> {
    ttlive_proto::msg_frame(7, &fetch_result(messages), gzip)
}

fn recording(frames: Vec<Vec<u8>>) -> Vec<u8> {
    let mut rec = Recording::new(Header::new(7_460_000_000_000_004_242).with_unique_id("seeduser"));
    rec.units.push(Unit::new(
        0,
        UnitKind::SignFetch,
        fetch_result(vec![chat(1, "history")]).encode_to_vec(),
    ));
    for (i, f) in frames.into_iter().enumerate() {
        rec.units
            .push(Unit::new(10 * (i as u64 + 1), UnitKind::PushFrame, f));
    }
    rec.units.push(Unit::note(99, "a note"));
    rec.to_bytes()
}

fn sigi_page() -> String {
    "<html><body><script id=\"SIGI_STATE\" type=\"application/json\">{\"LiveRoom\":{\"liveRoomUserInfo\":{\"user\":{\"roomId\":\"7460000000000004242\",\"status\":2},\"liveRoom\":{\"status\":2,\"title\":\"t\",\"liveRoomStats\":{\"userCount\":12}}}}}</script></body></html>".to_owned()
}

fn sign_answer(status_byte: u8, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut v = vec![status_byte];
    v.extend_from_slice(headers.as_bytes());
    v.extend_from_slice(b"\n\n");
    v.extend_from_slice(body);
    v
}

/// The seed inputs, by target.
fn seeds() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let ok_headers = "content-type: application/x-protobuf\nx-set-tt-cookie: ttwid=1%7Cseed; tt-target-idc=useast2a\nx-request-id: seed-1\nx-room-id: 7460000000000004242";
    vec![
        (
            "frame_decoder",
            "gzip-chat-like",
            frame(vec![chat(1, "hello"), like(2, 5)], true),
        ),
        ("frame_decoder", "raw-chat", frame(vec![chat(3, "raw")], false)),
        (
            "frame_decoder",
            "payload-like",
            [&[3u8][..], &like(4, -2).payload[..]].concat(),
        ),
        ("frame_decoder", "empty-frame", frame(vec![], false)),
        (
            "recording_reader",
            "two-frames",
            recording(vec![
                frame(vec![chat(5, "a")], true),
                frame(vec![like(6, 1)], false),
            ]),
        ),
        ("recording_reader", "header-only", recording(vec![])),
        (
            "recording_reader",
            "gzip",
            ttlive_proto::gzip(&recording(vec![frame(vec![chat(7, "z")], true)])),
        ),
        ("web_json", "sigi-page", sigi_page().into_bytes()),
        (
            "web_json",
            "api-room",
            br#"{"statusCode":0,"message":"","data":{"user":{"roomId":"7460000000000004242","status":2},"liveRoom":{"status":2,"title":"x","liveRoomStats":{"userCount":"5"}}}}"#.to_vec(),
        ),
        (
            "web_json",
            "room-info",
            br#"{"status_code":0,"data":{"status":2,"title":"t","user_count":212,"stats":{"like_count":1,"total_user":2},"owner":{"id":"1","display_id":"x","nickname":"n"}}}"#.to_vec(),
        ),
        (
            "web_json",
            "gift-list",
            br#"{"data":{"gifts":[{"id":5655,"name":"Rose","diamond_count":1,"type":1,"image":{"url_list":["https://example.invalid/r.png"]}}]}}"#.to_vec(),
        ),
        (
            "sign_response",
            "ok",
            sign_answer(0, ok_headers, &fetch_result(vec![chat(8, "h")]).encode_to_vec()),
        ),
        (
            "sign_response",
            "rate-limited",
            sign_answer(
                4,
                "content-type: application/json\nretry-after: 3\nx-ratelimit-reset: 1767290403\nratelimit-remaining: 0",
                br#"{"code":429,"message":"Too many connections started","limit_label":"minute"}"#,
            ),
        ),
        (
            "sign_response",
            "unauthorized-echo",
            sign_answer(
                5,
                "content-type: application/json",
                format!(
                    r#"{{"code":401,"message":"The provided API Key {} is invalid. session {}"}}"#,
                    checks::FUZZ_API_KEY,
                    checks::FUZZ_SESSION_ID
                )
                .as_bytes(),
            ),
        ),
        (
            "sign_response",
            "server-error",
            sign_answer(8, "content-type: text/html\nx-request-id: r", b"<html>502 bad gateway</html>"),
        ),
    ]
}

#[test]
fn the_seeds_pass_their_checks() {
    for (target, name, bytes) in seeds() {
        match target {
            "frame_decoder" => checks::frame_decoder(&bytes),
            "recording_reader" => checks::recording_reader(&bytes),
            "web_json" => checks::web_json(&bytes),
            "sign_response" => checks::sign_response(&bytes),
            _ => unreachable!("{name}"),
        }
    }
}

/// Writes the seed corpus (run by hand; see the module docs).
#[test]
#[ignore = "writes fuzz/corpus; run by hand"]
fn write_fuzz_seeds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    for (target, name, bytes) in seeds() {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("seed-{name}")), bytes).unwrap();
    }
}

/// Flips, inserts and deletes bytes of `base` at positions chosen by `edits`.
fn mutate(mut base: Vec<u8>, edits: &[(usize, u8, u8)]) -> Vec<u8> {
    for &(pos, op, val) in edits {
        if base.is_empty() {
            base.push(val);
            continue;
        }
        let i = pos % base.len();
        match op % 4 {
            0 => base[i] ^= val | 1,
            1 => base.insert(i, val),
            2 => {
                base.remove(i);
            }
            _ => base.truncate(i),
        }
    }
    base
}

fn edits() -> impl Strategy<Value = Vec<(usize, u8, u8)>> {
    prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..8)
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{Value, json};
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
        "[0-9]{0,20}".prop_map(Value::String),
        ".{0,12}".prop_map(Value::String),
    ];
    let keys = prop::sample::select(vec![
        "LiveRoom",
        "liveRoomUserInfo",
        "user",
        "liveRoom",
        "roomId",
        "status",
        "title",
        "liveRoomStats",
        "userCount",
        "statusCode",
        "message",
        "data",
        "status_code",
        "owner",
        "stats",
        "gifts",
        "id",
        "diamond_count",
        "image",
        "url_list",
        "prompts",
    ]);
    leaf.prop_recursive(6, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(keys.clone(), inner, 0..5).prop_map(|m| {
                Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

proptest! {
    #[test]
    fn frame_decoder_on_random_bytes(data in prop::collection::vec(any::<u8>(), 0..512)) {
        checks::frame_decoder(&data);
    }

    #[test]
    fn frame_decoder_on_mutated_frames(
        text in ".{0,40}",
        count in any::<i32>(),
        gzip in any::<bool>(),
        e in edits(),
    ) {
        let f = frame(vec![chat(1, &text), like(2, count)], gzip);
        checks::frame_decoder(&f);
        checks::frame_decoder(&mutate(f, &e));
    }

    #[test]
    fn recording_reader_on_random_bytes(data in prop::collection::vec(any::<u8>(), 0..512)) {
        checks::recording_reader(&data);
    }

    #[test]
    fn recording_reader_on_mutated_recordings(
        text in ".{0,20}",
        gz in any::<bool>(),
        e in edits(),
    ) {
        let mut rec = recording(vec![frame(vec![chat(1, &text)], true)]);
        if gz {
            rec = ttlive_proto::gzip(&rec);
        }
        checks::recording_reader(&rec);
        checks::recording_reader(&mutate(rec, &e));
    }

    #[test]
    fn web_parsers_on_random_json(v in json_value()) {
        let bytes = serde_json::to_vec(&v).unwrap();
        checks::web_json(&bytes);
        // The same value wrapped where each parser looks.
        for wrapped in [
            serde_json::json!({"LiveRoom": {"liveRoomUserInfo": v.clone()}}),
            serde_json::json!({"statusCode": 0, "data": v.clone()}),
            serde_json::json!({"status_code": 0, "data": v.clone()}),
            serde_json::json!({"data": {"gifts": [v.clone()]}}),
        ] {
            checks::web_json(&serde_json::to_vec(&wrapped).unwrap());
        }
    }

    #[test]
    fn web_parsers_on_mutated_pages(e in edits()) {
        checks::web_json(&mutate(sigi_page().into_bytes(), &e));
    }

    #[test]
    fn sign_response_on_random_answers(
        status in any::<u8>(),
        headers in prop::collection::vec(
            (
                prop::sample::select(vec![
                    "content-type", "retry-after", "x-ratelimit-reset", "ratelimit-reset",
                    "ratelimit", "ratelimit-remaining", "x-set-tt-cookie", "x-request-id",
                    "x-room-id", "x-agent-id", "x-log-id",
                ]),
                ".{0,40}",
            ),
            0..6,
        ),
        body in prop::collection::vec(any::<u8>(), 0..256),
        echo in any::<bool>(),
    ) {
        let head: Vec<String> = headers.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        let mut body = body;
        if echo {
            body.extend_from_slice(
                format!(
                    "{{\"message\":\"{} {}\"}}",
                    checks::FUZZ_API_KEY,
                    checks::FUZZ_SESSION_ID
                )
                .as_bytes(),
            );
        }
        checks::sign_response(&sign_answer(status, &head.join("\n"), &body));
    }

    #[test]
    fn sign_response_on_mutated_fetch_results(e in edits(), status in 0u8..4) {
        let ok = "content-type: application/x-protobuf\nx-set-tt-cookie: ttwid=1%7Cx; tt-target-idc=useast2a";
        let body = mutate(fetch_result(vec![chat(1, "h")]).encode_to_vec(), &e);
        checks::sign_response(&sign_answer(status, ok, &body));
    }
}
