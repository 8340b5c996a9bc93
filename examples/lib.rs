//! Examples live in this folder as `[[example]]` targets: run one with
//! `cargo run -p ttlive-examples --example NAME` (`print_chat`, `gift_leaderboard`,
//! `record_replay`, `two_rooms`, `mock_consumer`).
//!
//! The project README follows; its Rust snippet is compiled here as a doctest, so it stays true.
#![doc = include_str!("../README.md")]
