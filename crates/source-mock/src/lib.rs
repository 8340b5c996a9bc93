//! Recorded sessions, replay, and a fake TikTok server that real clients accept.
//!
//! * [`recording`]: the versioned recording file format, [`RecordingWriter`] (usable as a tap
//!   by a live source) and [`RecordingReader`].
//! * [`ReplaySource`]: an [`EventSource`](ttlive_eventbus::EventSource) that plays a recording
//!   through the real decoder (`ttlive-proto`), in real time, at N× or instantly.
//! * [`demo_recording`]: a built-in, invented, three-minute recording of the room of `fakeuser`.
//! * [`FakeServer`]: TikTok's web routes, the Euler sign routes and the push WebSocket on one
//!   loopback port, playing a recording, with fault injection and a log of what clients sent.
//!
//! # The recording format
//!
//! Version 1 is UTF-8 JSON lines (optionally gzip'd as a whole: readers detect gzip by its
//! magic bytes; [`RecordingWriter::create`] gzips when the file name ends in `.gz`).
//!
//! Line 1 is the header:
//!
//! ```json
//! {"format":"ttlive-recording","version":1,"id":"1f0c…","room_id":"7460000000000004242",
//!  "unique_id":"fakeuser","started_at_ms":1767290400000,"tool":"ttlive-source-mock 0.1.0"}
//! ```
//!
//! `format` must be `ttlive-recording`; `version` is the format version (a reader refuses
//! versions newer than it knows); `id` is unique per recording; `room_id` is a decimal
//! string; `unique_id` (the streamer's handle) may be absent; `started_at_ms` is the wall-clock
//! start (ms since the Unix epoch); `tool` names the writer.
//!
//! Every further line is one *unit*, in the order it happened:
//!
//! ```json
//! {"t_ms":1234,"kind":"push_frame","data_b64":"EJ…"}
//! ```
//!
//! * `t_ms`: milliseconds since the start of the recording;
//! * `kind`: `sign_fetch` (a sign-server fetch body: a bare protobuf `ProtoMessageFetchResult`),
//!   `push_frame` (one WebSocket binary message from the server: a `WebcastPushFrame`, its
//!   payload still gzip'd), `client_frame` (a WebSocket binary message the client sent:
//!   `im_enter_room`, `hb`, `ack`; optional) or `note` (free text);
//! * `data_b64`: the bytes exactly as received, standard base64 (for `note`: `text` instead).
//!
//! Empty lines are ignored. A corrupt line (bad JSON, bad base64, unknown kind) is reported as
//! [`RecordingError::Corrupt`] with its line number and byte offset, and reading goes on; a file
//! that ends inside a line gives [`RecordingError::Truncated`]. Either way everything before the
//! bad line is still read and replayed ([`RecordingReader`] is an iterator of
//! `Result<Unit, RecordingError>`; [`ReplaySource`] yields the error as a recoverable error in
//! its place).
//!
//! # The demo recording
//!
//! `data/demo.ttlrec` (about 500 KB) is made by this crate's own generator from a fixed seed,
//! with invented users, texts, ids and picture URLs shaped like real traffic. Regenerate it with
//!
//! ```sh
//! cargo run -p ttlive-source-mock --example generate_demo_recording
//! ```
//!
//! A test checks that the checked-in file equals what the generator produces now.
//!
//! # The fake TikTok server
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use ttlive_source_mock::{FakeServer, Fault, Pace, Trigger, UserState};
//!
//! let server = FakeServer::builder()
//!     .user("fakeuser", UserState::Live)        // default when no user is given
//!     .user("sleepy", UserState::Offline)
//!     .pace(Pace::Instant)                       // or RealTime (default) / Speed(4.0)
//!     .fault(Fault::SignRateLimited { retry_after_secs: 3 }, Trigger::Once)
//!     .start()                                   // 127.0.0.1:0 unless .port()/.bind()
//!     .await?;
//! let base = server.base_url();                  // web host, webcast host and sign server
//! // … point a client at `base`, then:
//! let log = server
//!     .wait_for(std::time::Duration::from_secs(5), |log| {
//!         log.iter().any(|r| matches!(r, ttlive_source_mock::ClientRecord::Ack { .. }))
//!     })
//!     .await;
//! server.shutdown().await;
//! # let _ = (base, log); Ok(()) }
//! ```
//!
//! Routes (protocol.md §15), all on one port:
//!
//! | route | answer |
//! |---|---|
//! | `GET /@{uid}/live` | HTML with the one-line `SIGI_STATE` script (status 2 live, 4 offline, no `LiveRoom` for unknown users); [`Fault::AntiBotPage`]: a small page without it |
//! | `GET /api-live/user/room[/]?uniqueId=` | `{statusCode, message, data:{user, liveRoom, stats}}`; unknown: `statusCode` 19881007, `message:"user_not_found"` |
//! | `GET /webcast/room/info/?room_id=` | `{status_code:0, data:{status, owner, …}}` (status 2 only for a live stream's room id) |
//! | `GET /webcast/room/check_alive/?room_ids=a,b,…` | `{data:[{alive, room_id, room_id_str}]}`, one entry per id (up to 1,000) |
//! | `GET /webcast/gift/list/` | the demo gift catalogue |
//! | `GET /webcast/rooms/{room_id}/connect`, `GET /webcast/fetch?room_id=` | protobuf `ProtoMessageFetchResult` (cursor, internal_ext, `push_server` = this server, `route_params`, `is_first`, the history), headers `X-Set-TT-Cookie: ttwid=…; tt-target-idc=useast2a`, `X-Room-Id`, `X-Request-Id`, `X-Agent-Id` |
//! | `GET /webcast/anchors/{uid}/room_id`, `GET /webcast/room_id?uniqueId=` | `{code, message, ok, routes_attempted, is_live, room_id}` |
//! | `POST /tiktok/sign_url`, `POST /webcast/sign_url` | a fake signed URL with `msToken` |
//! | `GET /webcast/im/fetch/?room_id=&cursor=` | polling: the messages after the cursor |
//! | `GET /webcast/im/ws_proxy/ws_reuse_supplement/` (any upgrade request) | the push WebSocket of the URL's `room_id` |
//! | `GET /ws-fallback/` (upgrade) | refused: HTTP 200, `Handshake-Msg: illegal app_id` ([`SignBehaviour::WsFallback`]) |
//! | `GET /_fake/stats`, `GET /_fake/rooms/{user}/pushed` | JSON: routes, rooms, log counters; a room's pushed msg ids |
//! | `POST /_fake/drop-all`, `POST /_fake/rooms/{user}/live\|end\|suspend`, `POST /_fake/signers/{name}/up\|down` | controls, for a test in another process |
//!
//! API keys (`X-Api-Key`, `apiKey`, `x-jwt-key`) are accepted and not required. The
//! WebSocket waits for `im_enter_room` (up to [`FakeServerBuilder::enter_room_timeout`]),
//! answers it with `im_enter_room_resp` (empty, or with the first batch and `need_ack` under
//! [`FakeServerBuilder::enter_room_resp_messages`]), then pushes the room's frames, encoded for
//! this client: gzip plus the `compress_type=gzip` header when the URL asked `compress=gzip`,
//! raw protobuf and no header otherwise; `need_ack`, log ids, and a cursor of the server's own
//! (`…_s-<stream>_n-<next>`). A URL (or sign request) carrying such a cursor resumes after it;
//! without one a recording starts from the beginning and generated traffic from now.
//! Heartbeats, acks and client pings are accepted and logged; the server never pings (but see
//! [`Fault::PingFlood`]). A batch holding a stream end (control action 3 or 4) is followed by a
//! close. Faults: see [`Fault`] and [`Trigger`].
//!
//! ## Many rooms, streams and schedules
//!
//! Every user is a room. [`FakeServerBuilder::rooms`]`(n)` adds `room0000`… (see
//! [`numbered_room`]) pushing generated traffic (chats, likes, joins, follows, gifts with
//! streaks, viewer counts; invented users) at [`FakeServerBuilder::rate`] messages per second,
//! each message's id naming its room, stream and sequence number ([`msg_id`], [`MsgIdParts`]).
//! Users added with [`FakeServerBuilder::user`] play the recording; the first live one as it
//! is, every other one (and every later stream) with rewritten msg ids and its own room id.
//!
//! Each time a room goes live it starts a new stream with a new room id, as TikTok does; each
//! time a stream ends (a [`Schedule`], [`FakeServer::end_stream`], `POST /_fake/rooms/…/end`)
//! its sockets get a `WebcastControlMessage` and a close, and the user is offline (status 4)
//! until it goes live again. Schedules are written `room0003=offline:30s,live:60s,end,live`;
//! see [`ScheduleSet`] for the syntax.
//!
//! What a test reads: [`FakeServer::room_stats`] (sockets open now and ever, messages pushed,
//! streams), [`FakeServer::pushed_msg_ids`] (every msg id a room delivered, to assert exact
//! delivery), [`FakeServer::route_stats`] (requests per route per second, to assert a client's
//! request budget), [`FakeServer::client_log`] and [`FakeServer::log_stats`].
//!
//! ## Sign servers
//!
//! The main port is the `primary` sign server; [`FakeServerBuilder::sign_server`] adds more,
//! each on a port of its own serving the same rooms. [`FakeServer::set_sign_server_up`] takes
//! one down (an extra one's port refuses connections; the primary answers 503) and back up;
//! [`FakeServer::set_sign_behaviour`] makes one hand out a `ws-fallback` push URL or an
//! untrusted push host ([`SignBehaviour`]).
//!
//! ## Bounded under abuse
//!
//! The client log is a ring of [`DEFAULT_LOG_RECORDS`] records and about [`DEFAULT_LOG_BYTES`]
//! bytes (what it drops is counted, [`LogStats`]); a request keeps at most [`MAX_PATH`],
//! [`MAX_QUERY`] and [`MAX_HEADER_VALUE`] bytes, an ack [`MAX_ACK_PAYLOAD`], and only the first
//! [`PINGS_LOGGED_PER_CONN`] pings of a socket are logged. Each HTTP connection serves one
//! request, and one that takes longer than 10 s to send its headers is closed; a push socket
//! whose client sends nothing for 60 s is closed, one whose client pings more than 1,000 times a
//! second is closed, and one whose client does not read a frame within 10 s is dropped (each
//! settable on the builder). Connection tasks leave the task list as they end.
//!
//! [`LoggingProxy`] is an HTTP and SOCKS5 proxy for tests that logs which hosts pass through it
//! (and refuses any that is not loopback).
//!
//! `tiktok-live serve-fake` runs it from the command line (`--rooms`, `--rate`, `--schedule`,
//! `--schedule-file`, `--sign-server`); `examples/fake_load.rs` measures it under 1,000 rooms;
//! `scripts/peer-check.sh` (workspace root) proves that the real Node and Python clients accept
//! it.
#![warn(missing_docs)]

mod demo;
mod pace;
mod proxy;
pub mod recording;
mod replay;
mod server;

pub use demo::{
    DEMO_DURATION_MS, DEMO_HOST_ID, DEMO_RECORDING_BYTES, DEMO_ROOM_ID, DEMO_SEED, DEMO_START_MS,
    DEMO_UNIQUE_ID, demo_gift_catalogue, demo_recording, generate_demo_recording,
};
pub use pace::Pace;
pub use proxy::{LoggingProxy, ProxyProtocol, ProxyRecord};
pub use recording::{
    FORMAT_NAME, FORMAT_VERSION, Header, Recording, RecordingError, RecordingReader,
    RecordingWriter, Unit, UnitKind,
};
pub use replay::ReplaySource;
pub use server::{
    ClientRecord, DEFAULT_LOG_BYTES, DEFAULT_LOG_RECORDS, FakeServer, FakeServerBuilder, Fault,
    HttpRecord, LogStats, MAX_ACK_PAYLOAD, MAX_HEADER_VALUE, MAX_PATH, MAX_QUERY, MSG_ID_BASE,
    MsgIdParts, NotFound, PINGS_LOGGED_PER_CONN, PRIMARY_SIGNER, Phase, ROUTE_HISTORY_SECS,
    RoomStats, Route, RouteStats, Schedule, ScheduleError, ScheduleSet, ScriptFrame, SignBehaviour,
    Target, Trigger, UserState, Via, WaitTimeout, msg_id, numbered_room,
};
