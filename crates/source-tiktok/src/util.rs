//! Small pieces of the connection: de-duplication, gift streaks, backoff, the recording tap.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use ttlive_eventbus::{GiftEvent, GiftInfo};

/// Remembers the last `capacity` message ids and says whether one was seen.
///
/// TikTok re-delivers messages: the history batch of a reconnect overlaps what the previous
/// socket delivered. Memory is bounded: the oldest ids are forgotten first.
#[derive(Debug)]
pub struct Dedup {
    seen: HashSet<u64>,
    order: VecDeque<u64>,
    capacity: usize,
}

impl Dedup {
    /// Remembers up to `capacity` ids (at least 1).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        // Grown on demand: an idle room should not hold a table sized for a busy one.
        Dedup {
            seen: HashSet::new(),
            order: VecDeque::new(),
            capacity,
        }
    }

    /// True the first time an id is offered. Id 0 (no id) is never a duplicate.
    pub fn first_time(&mut self, id: u64) -> bool {
        if id == 0 {
            return true;
        }
        if !self.seen.insert(id) {
            return false;
        }
        self.order.push_back(id);
        if self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        true
    }

    /// Ids remembered now.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// True when nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

/// Tracks running gift streaks by (sender, group id, gift id) (protocol.md §12), and fills in
/// gift names and prices from the room's catalogue when an event lacks them.
#[derive(Debug, Default)]
pub struct Streaks {
    open: HashMap<(u64, u64, u64), u32>,
    catalogue: HashMap<u64, GiftInfo>,
}

/// Streaks forgotten beyond this many open at once (a streak whose end never came).
const MAX_OPEN_STREAKS: usize = 4096;

impl Streaks {
    /// Uses this gift catalogue to complete gift events.
    pub fn set_catalogue(&mut self, gifts: Vec<GiftInfo>) {
        self.catalogue = gifts.into_iter().map(|g| (g.id, g)).collect();
    }

    /// Updates the streak state with one gift event and makes its streak fields consistent:
    /// `streaking` is true only for a streakable gift whose streak has not ended, and
    /// `diamonds` is `repeat_count × diamond_count`.
    pub fn track(&mut self, g: &mut GiftEvent) {
        if let Some(known) = self.catalogue.get(&g.gift.id) {
            if g.gift.name.is_empty() {
                g.gift.name = known.name.clone();
            }
            if g.gift.diamond_count == 0 {
                g.gift.diamond_count = known.diamond_count;
            }
            if g.gift.gift_type == 0 {
                g.gift.gift_type = known.gift_type;
            }
            if g.gift.image_url.is_none() {
                g.gift.image_url = known.image_url.clone();
            }
        }
        g.repeat_count = g.repeat_count.max(1);
        g.diamonds = u64::from(g.repeat_count) * u64::from(g.gift.diamond_count);
        let key = (g.user.id, g.group_id, g.gift.id);
        if !g.gift.is_streakable() {
            g.streaking = false;
            return;
        }
        if g.repeat_end {
            self.open.remove(&key);
            g.streaking = false;
        } else {
            if self.open.len() >= MAX_OPEN_STREAKS && !self.open.contains_key(&key) {
                self.open.clear();
            }
            let best = self.open.entry(key).or_insert(0);
            *best = (*best).max(g.repeat_count);
            g.streaking = true;
        }
    }

    /// Streaks that started and have not ended.
    pub fn open_streaks(&self) -> usize {
        self.open.len()
    }
}

/// Capped exponential backoff with jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// First delay.
    pub initial: Duration,
    /// Largest delay.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
        }
    }
}

impl Backoff {
    /// The delay before attempt `attempt` (1-based): `initial × 2^(attempt-1)`, capped, minus up
    /// to 25 % random jitter, and never less than `at_least` (a server's `Retry-After`).
    pub fn delay(&self, attempt: u32, at_least: Option<Duration>, random: u64) -> Duration {
        let exp = self
            .initial
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20))
            .min(self.max);
        let jitter = exp.mul_f64((random % 1000) as f64 / 4000.0);
        let d = exp.saturating_sub(jitter);
        match at_least {
            Some(min) => d.max(min.min(Duration::from_secs(3600))),
            None => d,
        }
    }
}

/// Receives every unit a live source gets, exactly as received, so a session can be replayed
/// (the `ttlive-source-mock` recording writer implements it). Calls are made from the
/// connection's task; keep them quick (buffered writes).
pub trait RecordingTap: Send + 'static {
    /// The sign server's fetch body (a `ProtoMessageFetchResult`), `at` after the source started.
    fn sign_fetch(&mut self, at: Duration, room_id: u64, body: &[u8]);
    /// One WebSocket binary message (a push frame, before decompression).
    fn push_frame(&mut self, at: Duration, frame: &[u8]);
    /// One frame the client sent (enter room, heartbeat, ack).
    fn client_frame(&mut self, _at: Duration, _frame: &[u8]) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use ttlive_eventbus::User;

    #[test]
    fn dedup_is_bounded() {
        let mut d = Dedup::new(3);
        assert!(d.first_time(1) && d.first_time(2) && d.first_time(3));
        assert!(!d.first_time(2));
        assert!(d.first_time(4));
        assert_eq!(d.len(), 3);
        assert!(d.first_time(1), "1 was forgotten");
        assert!(d.first_time(0) && d.first_time(0));
    }

    #[test]
    fn streaks_mark_progress_and_finish() {
        let mut s = Streaks::default();
        s.set_catalogue(vec![GiftInfo {
            id: 5655,
            name: "Rose".into(),
            diamond_count: 1,
            gift_type: 1,
            ..GiftInfo::default()
        }]);
        let mut g = GiftEvent {
            user: User {
                id: 9,
                ..User::default()
            },
            gift: GiftInfo {
                id: 5655,
                ..GiftInfo::default()
            },
            repeat_count: 3,
            group_id: 77,
            ..GiftEvent::default()
        };
        s.track(&mut g);
        assert!(g.streaking);
        assert_eq!(g.gift.name, "Rose");
        assert_eq!(g.diamonds, 3);
        assert_eq!(s.open_streaks(), 1);
        g.repeat_count = 5;
        g.repeat_end = true;
        s.track(&mut g);
        assert!(!g.streaking);
        assert_eq!(g.diamonds, 5);
        assert_eq!(s.open_streaks(), 0);
        let mut single = GiftEvent {
            gift: GiftInfo {
                id: 1,
                diamond_count: 100,
                gift_type: 2,
                ..GiftInfo::default()
            },
            streaking: true,
            ..GiftEvent::default()
        };
        s.track(&mut single);
        assert!(!single.streaking);
        assert_eq!(single.diamonds, 100);
    }

    #[test]
    fn backoff_grows_caps_and_honours_retry_after() {
        let b = Backoff::default();
        assert_eq!(b.delay(1, None, 0), Duration::from_secs(1));
        assert_eq!(b.delay(3, None, 0), Duration::from_secs(4));
        assert_eq!(b.delay(30, None, 0), Duration::from_secs(60));
        assert!(b.delay(3, None, 999) >= Duration::from_secs(3));
        assert!(b.delay(3, None, 999) < Duration::from_secs(4));
        assert_eq!(
            b.delay(1, Some(Duration::from_secs(30)), 0),
            Duration::from_secs(30)
        );
    }
}
