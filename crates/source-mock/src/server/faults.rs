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
            Fault::DropAfterFrames(_)
            | Fault::Stall
            | Fault::MalformedFrame
            | Fault::OversizedGzip { .. }
            | Fault::StreamEnd
            | Fault::CloseFrame { .. } => Stage::Socket,
        }
    }
}

/// When an injected fault fires. Sign faults count sign requests, `RejectUpgrade` and
/// `DeviceBlocked` count upgrade attempts, `TtwidWithoutCookie` counts `ttwid` requests, the
/// others count accepted WebSockets.
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
        let mut out = Vec::new();
        for a in self.armed.iter_mut().filter(|a| a.fault.stage() == stage) {
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
