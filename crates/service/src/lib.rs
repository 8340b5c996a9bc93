//! `tiktok-live serve` as a library: follow many TikTok LIVE rooms unattended, notice when they
//! go live, read them, and publish every event on one [`EventBus`](ttlive_eventbus::EventBus).
//!
//! - [`config`]: the TOML file, environment variables and flags (flags over environment over
//!   file; every key has all three; errors name file, line and key).
//! - [`registry`]: the wanted rooms and the state file that keeps API changes across restarts.
//! - [`room`]: one room's lifecycle (`waiting`, `connecting`, `live`, `reconnecting`,
//!   `stopped`), each transition a `roomState` event.
//! - [`detect`]: go-live detection, batched `room/check_alive` for known room ids and paced
//!   lookups for the rest.
//! - [`budget`]: one request budget (token buckets per kind and egress) that every request to
//!   TikTok or a sign server pays from; [`sign`] makes the library's own sign calls pay too.
//! - [`egress`]: the ways out (each proxy, or direct), each with its clients.
//! - the HTTP API (`/api/rooms`, `/healthz`, `/metrics`) and [`telemetry`] (the metrics).
//! - [`output`]: the seam outputs attach through, and [`JsonLines`] (`serve --json`).
//! - [`shutdown`]: SIGTERM and Ctrl-C.
//! - [`Service`]: wires it all; [`ServiceHandle`] is the running service, with its bus, for
//!   outputs and clusters to attach to.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use ttlive_service::{ConfigLoader, Service, Signals, run_until_signal};
//! let mut signals = Signals::install()?;
//! let config = ConfigLoader::new().file("ttlive.toml").env(std::env::vars()).load()?;
//! let service = Service::builder(config).start().await?;
//! println!("API on http://{}", service.local_addr());
//! let exit = run_until_signal(service, &mut signals).await;
//! # let _ = exit; Ok(()) }
//! ```
//!
//! # What the budget does not cover
//!
//! Every lookup, live check, sign call and connect the service makes pays a token, and so do
//! the sign calls and reconnects the library makes inside a session (through
//! [`BudgetedSigner`]). Not covered: HTTP polling of `im/fetch` (off by default here:
//! `connection.polling`), the `ttwid` cookie fetches of direct mode (one per cookie lifetime,
//! shared by every room), and a reconnect's WebSocket connect when the library re-signs with a
//! signer that makes no request (direct mode): it still pays a connect token.

#![warn(missing_docs)]

mod api;
pub mod budget;
pub mod config;
pub mod detect;
pub mod egress;
pub mod output;
pub mod registry;
pub mod room;
mod service;
pub mod shutdown;
pub mod sign;
pub mod telemetry;

pub use budget::{Budget, LocalBudget, Priority, Spend};
pub use config::{ConfigError, ConfigLoader, Override, ServiceConfig};
pub use detect::{DetectError, Detector, Found, WaitError, WatchRequest, wait_until_live};
pub use output::{JsonLines, Output, OutputError, OutputTask};
pub use registry::{Registry, RegistryError, normalize_user};
pub use room::{RoomSnapshot, StopReason};
pub use service::{
    AddOutcome, RoomError, Service, ServiceBuilder, ServiceError, ServiceHandle, ShutdownReport,
};
pub use shutdown::{Exit, Signal, Signals, run_until_signal, shutdown_unless_signalled};
pub use sign::BudgetedSigner;
