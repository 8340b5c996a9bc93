//! Session figures computed from the event stream: per-user like totals that only grow, the
//! room's like and viewer peaks, diamonds from finished gifts, follows and shares.
//!
//! # Contract
//!
//! [`Aggregates`] is meant to sit in the post-decode pipeline, once, after de-duplication and
//! room-id filling, so live and replayed sessions get the same figures. Feed it every event, in
//! delivery order, exactly once, with [`Aggregates::observe`]:
//!
//! * it fills the aggregate fields of the event it is given, before the event is delivered:
//!   [`LikeEvent::user_total`](ttlive_eventbus::LikeEvent::user_total) (the user's likes so
//!   far this session, this event included: the sum of their like counts, so it never goes
//!   down), [`LikeEvent::room_total`](ttlive_eventbus::LikeEvent::room_total) (the highest room
//!   total seen so far: TikTok's totals arrive stale and out of order from different servers,
//!   so the raw `total` can go backwards; this cannot) and
//!   [`RoomUserEvent::viewer_peak`](ttlive_eventbus::RoomUserEvent::viewer_peak);
//! * it may return a [`RoomStatsEvent`] (JSON `roomStats`) with the room's figures, to be
//!   delivered right after that event: when the figures changed since the last one and the
//!   event is a `roomUser` (TikTok's own periodic room update), or when `interval` of event
//!   time ([`EventMeta::create_time`](ttlive_eventbus::EventMeta::create_time)) has passed
//!   since the last one; and always after a `streamEnd`, with the final figures. Decisions use
//!   event time only, never the wall clock, so a replay gives the same `roomStats` events as
//!   the live session did;
//! * [`Aggregates::snapshot`] gives the figures at any time (for a closing summary).
//!
//! What is counted, per room (events are grouped by `room_id`):
//!
//! * likes: the room's like total is the highest `total` seen; the session's likes are the sum
//!   of the `count`s; likers are the distinct users who liked;
//! * viewers: the last `viewer_count`, and the highest one;
//! * diamonds and gifts: a gift counts when its event is final (`streaking` is false, as the
//!   gift-streak tracking upstream sets it), with that event's `diamonds`; a streak
//!   (sender, group id, gift id) counts once even if its final event arrives twice;
//! * follows: distinct users whose social event is a follow; shares: every share.
//!
//! Memory is bounded: at most [`Aggregates::with_user_limit`] users (default
//! [`DEFAULT_USER_LIMIT`]) are tracked per room for likes and for follows, and at most
//! [`FINISHED_STREAKS_KEPT`] finished streak keys. Past the user limit a like carries no
//! `user_total` and a follow is counted without de-duplication; each such event is counted in
//! [`RoomStatsEvent::untracked_events`], so the loss is reported, never silent.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use ttlive_eventbus::{Event, EventMeta, RoomStatsEvent, SocialAction};

/// Users tracked per room, for per-user like totals and for follows, unless told otherwise.
pub const DEFAULT_USER_LIMIT: usize = 200_000;

/// Event time between two `roomStats` events when no `roomUser` prompts one, unless told
/// otherwise.
pub const DEFAULT_STATS_INTERVAL: Duration = Duration::from_secs(10);

/// Finished gift streaks remembered per room, to count each streak once.
pub const FINISHED_STREAKS_KEPT: usize = 4096;

/// Session figures over an event stream; see the [module docs](self) for the contract.
#[derive(Debug)]
pub struct Aggregates {
    rooms: HashMap<u64, RoomTally>,
    user_limit: usize,
    interval_ms: i64,
}

impl Default for Aggregates {
    fn default() -> Self {
        Aggregates::new()
    }
}

/// Everything counted for one room.
#[derive(Debug, Default)]
struct RoomTally {
    figures: Figures,
    like_totals: HashMap<u64, u64>,
    followers: HashSet<u64>,
    finished_streaks: HashSet<(u64, u64, u64)>,
    finished_order: VecDeque<(u64, u64, u64)>,
    /// Event time of the last `roomStats` returned, if any.
    last_stats_at: Option<i64>,
    /// The figures in the last `roomStats` returned (all 0 before the first).
    last_stats: Figures,
}

/// The numbers of a `roomStats` event.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Figures {
    likes: u64,
    session_likes: u64,
    viewers: u64,
    viewer_peak: u64,
    diamonds: u64,
    gifts: u64,
    follows: u64,
    shares: u64,
    untracked_events: u64,
}

impl Aggregates {
    /// No figures yet, with the default limits.
    pub fn new() -> Self {
        Aggregates {
            rooms: HashMap::new(),
            user_limit: DEFAULT_USER_LIMIT,
            interval_ms: duration_ms(DEFAULT_STATS_INTERVAL),
        }
    }

    /// Tracks at most `limit` users per room (for like totals, and again for follows).
    #[must_use]
    pub fn with_user_limit(mut self, limit: usize) -> Self {
        self.user_limit = limit;
        self
    }

    /// Returns a `roomStats` event when at least `interval` of event time passed since the
    /// last one and the figures changed (besides after each `roomUser` and `streamEnd`).
    #[must_use]
    pub fn with_stats_interval(mut self, interval: Duration) -> Self {
        self.interval_ms = duration_ms(interval);
        self
    }

    /// Counts one event and fills its aggregate fields; returns the room's figures when a
    /// `roomStats` event is due (see the [module docs](self)).
    pub fn observe(&mut self, event: &mut Event) -> Option<RoomStatsEvent> {
        if !matches!(
            event,
            Event::Like(_)
                | Event::RoomUser(_)
                | Event::Gift(_)
                | Event::Social(_)
                | Event::StreamEnd(_)
        ) {
            return None;
        }
        let meta = event.meta();
        let (room_id, at) = (meta.room_id, meta.create_time);
        let user_limit = self.user_limit;
        let room = self.rooms.entry(room_id).or_default();
        let mut prompt = false;
        let mut stream_end = false;
        match event {
            Event::Like(like) => {
                let f = &mut room.figures;
                f.likes = f.likes.max(like.total);
                f.session_likes += u64::from(like.count);
                like.room_total = Some(f.likes);
                like.user_total = room.add_likes(like.user.id, like.count, user_limit);
            }
            Event::RoomUser(r) => {
                let f = &mut room.figures;
                f.viewers = r.viewer_count;
                f.viewer_peak = f.viewer_peak.max(r.viewer_count);
                r.viewer_peak = Some(f.viewer_peak);
                prompt = true;
            }
            Event::Gift(g) if !g.streaking => {
                let key = (g.user.id, g.group_id, g.gift.id);
                if !g.gift.is_streakable() || g.group_id == 0 || room.first_finish(key) {
                    room.figures.diamonds += g.diamonds;
                    room.figures.gifts += 1;
                }
            }
            Event::Social(s) => match s.action {
                SocialAction::Follow => room.add_follow(s.user.id, user_limit),
                SocialAction::Share => room.figures.shares += 1,
                _ => {}
            },
            Event::StreamEnd(_) => stream_end = true,
            _ => {}
        }
        let due = stream_end
            || (room.last_stats != room.figures
                && (prompt
                    || room
                        .last_stats_at
                        .is_none_or(|last| at.saturating_sub(last) >= self.interval_ms)));
        if !due {
            return None;
        }
        room.last_stats_at = Some(at);
        room.last_stats = room.figures;
        Some(room.stats(room_id, at))
    }

    /// The figures of one room so far (`None` for a room no event came from), with
    /// `create_time` 0.
    pub fn snapshot(&self, room_id: u64) -> Option<RoomStatsEvent> {
        self.rooms.get(&room_id).map(|r| r.stats(room_id, 0))
    }

    /// The rooms events came from, in no particular order.
    pub fn rooms(&self) -> impl Iterator<Item = u64> + '_ {
        self.rooms.keys().copied()
    }
}

impl RoomTally {
    /// Adds a user's likes; returns their total, or `None` when the user cannot be tracked.
    fn add_likes(&mut self, user_id: u64, count: u32, limit: usize) -> Option<u64> {
        if user_id == 0 {
            return None;
        }
        let tracked = self.like_totals.len();
        match self.like_totals.get_mut(&user_id) {
            Some(total) => {
                *total += u64::from(count);
                Some(*total)
            }
            None if tracked < limit => {
                self.like_totals.insert(user_id, u64::from(count));
                Some(u64::from(count))
            }
            None => {
                self.figures.untracked_events += 1;
                None
            }
        }
    }

    fn add_follow(&mut self, user_id: u64, limit: usize) {
        if self.followers.contains(&user_id) {
            return;
        }
        if user_id != 0 && self.followers.len() < limit {
            self.followers.insert(user_id);
        } else {
            self.figures.untracked_events += 1;
        }
        self.figures.follows += 1;
    }

    /// True the first time a finished streak is seen (among the last ones kept).
    fn first_finish(&mut self, key: (u64, u64, u64)) -> bool {
        if !self.finished_streaks.insert(key) {
            return false;
        }
        self.finished_order.push_back(key);
        if self.finished_order.len() > FINISHED_STREAKS_KEPT {
            if let Some(old) = self.finished_order.pop_front() {
                self.finished_streaks.remove(&old);
            }
        }
        true
    }

    fn stats(&self, room_id: u64, at: i64) -> RoomStatsEvent {
        let f = self.figures;
        RoomStatsEvent {
            meta: EventMeta {
                room_id,
                create_time: at,
                ..EventMeta::default()
            },
            likes: f.likes,
            session_likes: f.session_likes,
            likers: self.like_totals.len() as u64,
            viewers: f.viewers,
            viewer_peak: f.viewer_peak,
            diamonds: f.diamonds,
            gifts: f.gifts,
            follows: f.follows,
            shares: f.shares,
            untracked_events: f.untracked_events,
        }
    }
}

fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ttlive_eventbus::{
        GiftEvent, GiftInfo, LikeEvent, RoomUserEvent, SocialEvent, StreamEndEvent, User,
    };

    const ROOM: u64 = 7_400_000_000_000_000_001;

    fn meta(at: i64) -> EventMeta {
        EventMeta {
            room_id: ROOM,
            create_time: at,
            ..EventMeta::default()
        }
    }

    fn user(id: u64) -> User {
        User {
            id,
            ..User::default()
        }
    }

    fn like(at: i64, who: u64, count: u32, total: u64) -> Event {
        Event::Like(LikeEvent {
            meta: meta(at),
            user: user(who),
            count,
            total,
            ..LikeEvent::default()
        })
    }

    fn viewers(at: i64, n: u64) -> Event {
        Event::RoomUser(RoomUserEvent {
            meta: meta(at),
            viewer_count: n,
            ..RoomUserEvent::default()
        })
    }

    /// One step of a streak of roses (1 diamond each), or a single non-streakable gift.
    fn gift(
        at: i64,
        who: u64,
        group: u64,
        gift_type: i32,
        price: u32,
        count: u32,
        end: bool,
    ) -> Event {
        let gift = GiftInfo {
            id: if gift_type == 1 { 5655 } else { 6064 },
            diamond_count: price,
            gift_type,
            ..GiftInfo::default()
        };
        Event::Gift(GiftEvent {
            meta: meta(at),
            user: user(who),
            streaking: gift.is_streakable() && !end,
            diamonds: u64::from(count) * u64::from(price),
            gift,
            repeat_count: count,
            repeat_end: end,
            group_id: group,
            ..GiftEvent::default()
        })
    }

    fn social(at: i64, who: u64, action: SocialAction) -> Event {
        Event::Social(SocialEvent {
            meta: meta(at),
            user: user(who),
            action,
            ..SocialEvent::default()
        })
    }

    fn like_fields(ev: &Event) -> (Option<u64>, Option<u64>) {
        match ev {
            Event::Like(l) => (l.user_total, l.room_total),
            other => panic!("not a like: {other:?}"),
        }
    }

    #[test]
    fn per_user_like_totals_only_grow_while_room_totals_arrive_out_of_order() {
        let mut agg = Aggregates::new();
        // Room totals as three servers report them: stale and out of order.
        let script = [
            (1_000, 1, 5, 100),
            (1_100, 2, 3, 140),
            (1_200, 1, 2, 120), // stale shard: the total goes back
            (1_300, 1, 7, 90),  // staler still
            (1_400, 2, 1, 155),
            (1_500, 1, 4, 150), // still below the peak
        ];
        let mut seen = Vec::new();
        for (at, who, count, total) in script {
            let mut ev = like(at, who, count, total);
            agg.observe(&mut ev);
            seen.push((who, like_fields(&ev)));
        }
        assert_eq!(
            seen,
            vec![
                (1, (Some(5), Some(100))),
                (2, (Some(3), Some(140))),
                (1, (Some(7), Some(140))),
                (1, (Some(14), Some(140))),
                (2, (Some(4), Some(155))),
                (1, (Some(18), Some(155))),
            ]
        );
        let snap = agg.snapshot(ROOM).unwrap();
        assert_eq!(snap.likes, 155, "the room's like peak");
        assert_eq!(snap.session_likes, 22, "the sum of the counts");
        assert_eq!(snap.likers, 2);
        assert_eq!(snap.untracked_events, 0);
    }

    #[test]
    fn interleaved_streaks_count_once_each_when_they_end() {
        let mut agg = Aggregates::new();
        let script = [
            gift(1_000, 1, 10, 1, 1, 1, false), // user 1 streak A starts
            gift(1_050, 2, 20, 1, 1, 1, false), // user 2 streak B starts
            gift(1_100, 1, 10, 1, 1, 4, false),
            gift(1_150, 3, 30, 2, 100, 1, false), // a non-streakable gift: final as it is
            gift(1_200, 2, 20, 1, 1, 6, false),
            gift(1_250, 1, 10, 1, 1, 9, true), // A ends at 9
            gift(1_300, 2, 20, 1, 1, 7, true), // B ends at 7
            gift(1_350, 1, 10, 1, 1, 9, true), // A's end again (another msg id): not twice
            gift(1_400, 1, 11, 1, 1, 2, true), // user 1's next streak C: a new group
        ];
        for mut ev in script {
            agg.observe(&mut ev);
        }
        let snap = agg.snapshot(ROOM).unwrap();
        assert_eq!(snap.diamonds, 9 + 7 + 100 + 2);
        assert_eq!(snap.gifts, 4);
    }

    #[test]
    fn viewer_peak_follows_and_shares() {
        let mut agg = Aggregates::new();
        let mut events = vec![
            viewers(1_000, 120),
            viewers(2_000, 340),
            viewers(3_000, 200),
            social(3_100, 7, SocialAction::Follow),
            social(3_200, 7, SocialAction::Follow), // unfollowed and followed again: one follower
            social(3_300, 8, SocialAction::Follow),
            social(3_400, 7, SocialAction::Share),
            social(3_500, 7, SocialAction::Share),
            social(3_600, 9, SocialAction::Other),
        ];
        for ev in &mut events {
            agg.observe(ev);
        }
        let peaks: Vec<Option<u64>> = events
            .iter()
            .filter_map(|e| match e {
                Event::RoomUser(r) => Some(r.viewer_peak),
                _ => None,
            })
            .collect();
        assert_eq!(peaks, vec![Some(120), Some(340), Some(340)]);
        let snap = agg.snapshot(ROOM).unwrap();
        assert_eq!((snap.viewers, snap.viewer_peak), (200, 340));
        assert_eq!((snap.follows, snap.shares), (2, 2));
    }

    #[test]
    fn room_stats_come_after_room_updates_and_intervals_and_at_stream_end() {
        let mut agg = Aggregates::new().with_stats_interval(Duration::from_secs(10));
        let mut out = Vec::new();
        let mut feed = |agg: &mut Aggregates, mut ev: Event| {
            if let Some(s) = agg.observe(&mut ev) {
                out.push((s.meta.create_time, s.likes, s.viewers));
            }
        };
        feed(&mut agg, like(1_000, 1, 1, 10)); // first change: due (nothing emitted yet)
        feed(&mut agg, like(2_000, 1, 1, 11)); // 1 s later: not due
        feed(&mut agg, viewers(3_000, 50)); // a room update with changes: due
        feed(&mut agg, viewers(4_000, 50)); // a room update without changes: not due
        feed(&mut agg, like(12_000, 2, 1, 12)); // 9 s after the last: not due
        feed(&mut agg, like(13_000, 2, 1, 13)); // 10 s after the last: due
        feed(&mut agg, like(14_000, 2, 1, 13)); // the same room total, but session likes grew
        feed(
            &mut agg,
            Event::StreamEnd(StreamEndEvent {
                meta: meta(15_000),
                ..StreamEndEvent::default()
            }),
        );
        assert_eq!(
            out,
            vec![
                (1_000, 10, 0),
                (3_000, 11, 50),
                (13_000, 13, 50),
                (15_000, 13, 50)
            ]
        );
    }

    #[test]
    fn past_the_user_limit_likes_are_counted_and_the_loss_is_reported() {
        let mut agg = Aggregates::new().with_user_limit(2);
        let mut totals = Vec::new();
        for who in [1, 2, 3, 1, 3] {
            let mut ev = like(1_000, who, 2, 0);
            agg.observe(&mut ev);
            totals.push(like_fields(&ev).0);
        }
        assert_eq!(totals, vec![Some(2), Some(2), None, Some(4), None]);
        for who in [5, 6, 7] {
            agg.observe(&mut social(2_000, who, SocialAction::Follow));
        }
        let snap = agg.snapshot(ROOM).unwrap();
        assert_eq!(snap.session_likes, 10);
        assert_eq!(snap.likers, 2);
        assert_eq!(snap.follows, 3);
        assert_eq!(snap.untracked_events, 2 + 1);
    }

    #[test]
    fn events_that_change_no_figure_neither_count_nor_prompt_stats() {
        let mut agg = Aggregates::new();
        let mut connected = Event::Connected(ttlive_eventbus::ConnectedEvent {
            meta: meta(1_000),
            ..Default::default()
        });
        assert!(agg.observe(&mut connected).is_none());
        // A room update that says nothing new: no stats either (nothing changed from zero).
        assert!(agg.observe(&mut viewers(2_000, 0)).is_none());
        assert!(agg.observe(&mut viewers(3_000, 5)).is_some());
        assert_eq!(agg.rooms().count(), 1);
    }

    #[test]
    fn rooms_are_counted_apart() {
        let mut agg = Aggregates::new();
        let mut a = like(1_000, 1, 3, 30);
        let mut b = like(1_000, 1, 5, 50);
        b.meta_mut().room_id = 42;
        agg.observe(&mut a);
        agg.observe(&mut b);
        assert_eq!(like_fields(&b), (Some(5), Some(50)));
        assert_eq!(agg.snapshot(ROOM).unwrap().session_likes, 3);
        assert_eq!(agg.snapshot(42).unwrap().session_likes, 5);
        assert!(agg.snapshot(1).is_none());
        let mut rooms: Vec<u64> = agg.rooms().collect();
        rooms.sort_unstable();
        assert_eq!(rooms, vec![42, ROOM]);
    }
}
