//! Control messages: stream end, pause, resume and the other control actions.

use ttlive_eventbus as ev;
use ttlive_eventbus::Event;

use super::shared::meta;
use crate::webcast as pb;

/// Control action 3 (ended by the host) and 4 (suspended) end the stream; 1 and 2 pause and
/// resume it (protocol.md §11.3, `ControlAction`).
pub(super) fn control(m: pb::WebcastControlMessage, method: &str) -> Event {
    let meta = meta(m.common.as_ref(), method);
    match m.action {
        3 | 4 => Event::StreamEnd(ev::StreamEndEvent {
            meta,
            action: if m.action == 3 {
                ev::StreamEndAction::Ended
            } else {
                ev::StreamEndAction::Suspended
            },
            action_id: m.action,
            tips: m.tips,
        }),
        1 => Event::LivePaused(ev::LivePausedEvent { meta }),
        2 => Event::LiveResumed(ev::LiveResumedEvent { meta }),
        action => Event::Control(ev::ControlEvent {
            meta,
            action,
            tips: m.tips,
        }),
    }
}
