//! The live TikTok webcast connection as an [`EventSource`](ttlive_eventbus::EventSource).
//!
//! Given a streamer's `@handle` (or a LIVE URL, or a room id), [`TikTokSource`] resolves the
//! room and checks it is live (the `/@user/live` page, then `api-live/user/room`, then the sign
//! server's room-id route), asks a [`Signer`](ttlive_signer::Signer) for a connection, emits the
//! initial batch, opens the push WebSocket (`im_enter_room`, heartbeats every 10 s, acks), decodes
//! every frame into typed events, and keeps going through drops: a fresh sign on every reconnect,
//! resuming from the last cursor, capped exponential backoff with jitter that honours
//! `Retry-After`, stall detection, de-duplication by message id, `gap` events where continuity
//! was lost, and HTTP polling when no WebSocket can be had. Which failures are fatal is decided in
//! one place: [`TikTokError::retry`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use ttlive_eventbus::{EventSource, SourceItem};
//! use ttlive_source_tiktok::TikTokSource;
//!
//! let signer = Arc::new(ttlive_signer::EulerSigner::new()?);
//! let mut source = TikTokSource::builder("@someone").signer(signer).start()?;
//! loop {
//!     match source.next().await {
//!         SourceItem::Event(ev) => println!("{}", ev.name()),
//!         SourceItem::Error(e) => eprintln!("recoverable: {e}"),
//!         SourceItem::End(end) => { println!("ended: {end}"); break }
//!         _ => {}
//!     }
//! }
//! # Ok(()) }
//! ```

mod error;
mod input;
mod net;
mod source;
mod util;
mod web;

pub use error::{Retry, TikTokError};
pub use input::{InvalidTarget, Target};
pub use source::{DEFAULT_WEB_URL, DEFAULT_WEBCAST_URL, TikTokSource, TikTokSourceBuilder};
pub use util::{Backoff, Dedup, RecordingTap, Streaks};
pub use web::{
    LiveStatus, RoomInfo, RoomStatus, WebClient, parse_api_room, parse_check_alive,
    parse_gift_list, parse_room_info, parse_sigi_page,
};
