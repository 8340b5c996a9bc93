//! Compiles `proto/*.proto` (package `webcast`) into `$OUT_DIR/webcast.rs`.
//!
//! Uses `protox` (a pure-Rust protobuf compiler), so no system `protoc` is needed.

use std::error::Error;

const PROTO_FILES: &[&str] = &[
    "proto/frame.proto",
    "proto/common.proto",
    "proto/messages.proto",
    "proto/notices.proto",
    "proto/platform.proto",
    "proto/linkmic.proto",
    "proto/observed.proto",
];

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=proto");
    for file in PROTO_FILES {
        println!("cargo:rerun-if-changed={file}");
    }

    let fds = protox::compile(PROTO_FILES, ["proto"])?;

    let mut config = prost_build::Config::new();
    // Frame and batch payloads are sliced out of the received buffer instead of copied.
    config.bytes([
        ".webcast.WebcastPushFrame.payload",
        ".webcast.BaseProtoMessage.payload",
    ]);
    // Deterministic encoding order for map fields (fake server, byte-exact tests).
    config.btree_map(["."]);
    // Keep `WebcastRoomPinMessage` small: the pinned messages are rare and large.
    config.boxed(".webcast.WebcastRoomPinMessage.chat_message");
    config.boxed(".webcast.WebcastRoomPinMessage.social_message");
    config.boxed(".webcast.WebcastRoomPinMessage.gift_message");
    config.boxed(".webcast.WebcastRoomPinMessage.member_message");
    config.boxed(".webcast.WebcastRoomPinMessage.like_message");
    config.compile_fds(fds)?;
    Ok(())
}
