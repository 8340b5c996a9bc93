//! Fault injection for the fake server.

/// A failure the fake server can inject.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Drop the WebSocket's TCP connection (no close frame) after this many `msg` frames.
    DropAfterFrames(usize),
    /// Accept the WebSocket and then stay silent: no `im_enter_room_resp`, no frames (client
    /// frames are still read and logged).
    Stall,
    /// Refuse the upgrade with HTTP 200 and this `Handshake-Msg` header (protocol.md §7.3).
    RejectUpgrade(String),
    /// Answer the sign routes with 429, `Retry-After`, `X-RateLimit-Reset`,
    /// `RateLimit-Remaining`, `RateLimit-Reset` and a JSON body `{code, message, limit_label}`.
    SignRateLimited {
        /// Seconds to wait, in the headers.
        retry_after_secs: u64,
    },
    /// Answer the sign routes with 401 and `{"code":401,"message":"The provided API Key is invalid."}`.
    SignUnauthorized,
    /// Answer the sign routes with 500 and a JSON body.
    SignServerError,
    /// Send a binary WebSocket message of garbage bytes before the first `msg` frame.
    MalformedFrame,
    /// Send a `msg` frame whose gzip payload inflates to this many bytes (of zeros) before the
    /// first regular frame; e.g. 64 MiB, past any client's cap.
    OversizedGzip {
        /// The inflated size.
        inflated_bytes: usize,
    },
    /// Send a `WebcastControlMessage{action: 3}` at once, then close the socket.
    StreamEnd,
    /// Refuse the upgrade like TikTok refuses a blocked device (direct-connect.md §4, 7.3):
    /// HTTP 200 without upgrade, `Handshake-Msg: DEVICE_BLOCKED`, `Handshake-Status: 415`.
    /// Counts upgrade attempts, like [`Fault::RejectUpgrade`].
    DeviceBlocked,
    /// When the push would start (after `im_enter_room`, or the enter timeout), send a push
    /// frame with `payload_type` `close` and the header `close_reason` = `reason` (rust-srec's
    /// example is `disable_web_direct`), then a WebSocket close.
    CloseFrame {
        /// The `close_reason` header value.
        reason: String,
    },
    /// Answer the `ttwid` routes (`GET /`, `GET /live`, `POST /ttwid/union/register/`) with 200
    /// and no `Set-Cookie` (TikTok's occasional cookie-less answer). Counts `ttwid` requests.
    TtwidWithoutCookie,
    /// Answer the room page (`GET /@user/live`) with a small anti-bot page and no
    /// `SIGI_STATE`, as TikTok's WAF answers bare clients. Counts page requests.
    AntiBotPage,
    /// Answer requests to `route` with 429, `Retry-After: retry_after_secs` and a JSON body
    /// (sign routes also get Euler's `X-RateLimit-Reset` / `RateLimit-*` headers). Counts the
    /// route's requests.
    RateLimited {
        /// Which requests.
        route: Route,
        /// Seconds to wait, in `Retry-After`.
        retry_after_secs: u64,
    },
    /// After this many `msg` frames, end the socket cleanly: a WebSocket close frame with code
    /// 1000 and no stream end (an early end that is not a refusal).
    CloseAfterFrames(usize),
    /// When the push starts, send this many WebSocket pings as fast as the client takes them
    /// (TikTok never pings; a flood tests the client's pong buffer and stall check).
    PingFlood {
        /// Pings to send.
        pings: usize,
    },
}

/// The requests a [`Fault::RateLimited`] answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Route {
    /// Every request.
    Any,
    /// `GET /@user/live`.
    Page,
    /// `GET /api-live/user/room/`.
    ApiUserRoom,
    /// `GET /webcast/room/info/`.
    RoomInfo,
    /// `GET /webcast/room/check_alive/`.
    CheckAlive,
    /// The sign server's fetch routes (`/webcast/fetch`, `/webcast/rooms/{id}/connect`).
    SignFetch,
    /// The push WebSocket upgrade.
    Ws,
    /// `GET /webcast/im/fetch/` (polling).
    ImFetch,
    /// The `ttwid` routes.
    Ttwid,
}

impl Route {
    /// Whether a request counted under `label` (see
    /// [`FakeServer::route_stats`](super::FakeServer::route_stats)) is one of these.
    pub fn matches(self, label: &str) -> bool {
        let label = label.split('@').next().unwrap_or(label);
        match self {
            Route::Any => true,
            Route::Page => label == "page",
            Route::ApiUserRoom => label == "api-live/user/room",
            Route::RoomInfo => label == "room/info",
            Route::CheckAlive => label == "room/check_alive",
            Route::SignFetch => label == "sign/fetch",
            Route::Ws => label == "ws",
            Route::ImFetch => label == "im/fetch",
            Route::Ttwid => label == "ttwid",
        }
    }
}

impl Fault {
    /// An oversized gzip payload of 64 MiB.
    pub fn oversized_gzip() -> Self {
        Fault::OversizedGzip {
            inflated_bytes: 64 * 1024 * 1024,
        }
    }

    pub(crate) fn stage(&self) -> Stage {
        match self {
            Fault::SignRateLimited { .. } | Fault::SignUnauthorized | Fault::SignServerError => {
                Stage::Sign
            }
            Fault::RejectUpgrade(_) | Fault::DeviceBlocked => Stage::Upgrade,
            Fault::TtwidWithoutCookie => Stage::Ttwid,
            Fault::AntiBotPage => Stage::Page,
            Fault::RateLimited { .. } => Stage::Route,
            Fault::DropAfterFrames(_)
            | Fault::Stall
            | Fault::MalformedFrame
            | Fault::OversizedGzip { .. }
            | Fault::StreamEnd
            | Fault::CloseFrame { .. }
            | Fault::CloseAfterFrames(_)
            | Fault::PingFlood { .. } => Stage::Socket,
        }
    }
}

/// When an injected fault fires. Sign faults count sign requests, `RejectUpgrade` and
/// `DeviceBlocked` count upgrade attempts, `TtwidWithoutCookie` counts `ttwid` requests,
/// `AntiBotPage` room-page requests, `RateLimited` its route's requests; the others count
/// accepted WebSockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Trigger {
    /// The first time only.
    Once,
    /// The N-th, 2N-th, 3N-th… time (N = 0 acts as 1).
    EveryN(u32),
    /// Every time.
    Always,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    Sign,
    Upgrade,
    Socket,
    Ttwid,
    Page,
    /// Any request (only [`Fault::RateLimited`], filtered by its route).
    Route,
}

#[derive(Debug)]
struct Armed {
    fault: Fault,
    trigger: Trigger,
    seen: u64,
    fired: u64,
}

/// The armed faults and their counters.
#[derive(Debug, Default)]
pub(crate) struct FaultState {
    armed: Vec<Armed>,
}

impl FaultState {
    pub(crate) fn add(&mut self, fault: Fault, trigger: Trigger) {
        self.armed.push(Armed {
            fault,
            trigger,
            seen: 0,
            fired: 0,
        });
    }

    pub(crate) fn clear(&mut self) {
        self.armed.clear();
    }

    /// Counts one opportunity at `stage` and returns the faults that fire on it.
    pub(crate) fn fire(&mut self, stage: Stage) -> Vec<Fault> {
        self.fire_where(|f| f.stage() == stage)
    }

    /// Counts a request to the route labelled `label` and returns the faults that fire on it.
    pub(crate) fn fire_route(&mut self, label: &str) -> Vec<Fault> {
        self.fire_where(|f| matches!(f, Fault::RateLimited { route, .. } if route.matches(label)))
    }

    fn fire_where(&mut self, wanted: impl Fn(&Fault) -> bool) -> Vec<Fault> {
        if self.armed.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::new();
        for a in self.armed.iter_mut().filter(|a| wanted(&a.fault)) {
            a.seen += 1;
            let fires = match a.trigger {
                Trigger::Once => a.fired == 0,
                Trigger::EveryN(n) => a.seen % u64::from(n.max(1)) == 0,
                Trigger::Always => true,
            };
            if fires {
                a.fired += 1;
                out.push(a.fault.clone());
            }
        }
        out
    }
}
