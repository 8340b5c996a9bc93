//! Examples live in this folder as `[[example]]` targets: run one with `cargo run -p ttlive-examples --example NAME`.
