//! Which events an output or a feed client wants: rooms (by `@handle` or room id) and types.
//!
//! Events carry a `room_id`, not the streamer's handle. A handle is mapped to a room id by
//! two means, both always on:
//!
//! - **learning**: the `connected` lifecycle event carries the room's `unique_id`; every
//!   [`Rooms`] resolver learns `handle -> room id` from the `connected` events it sees, in
//!   stream order, so the events that follow a `connected` are matched at once;
//! - a [`RoomDirectory`] the application may supply (the service's room registry knows a
//!   room id as soon as it looked the user up, before any event).

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, RwLock};

use ttlive_eventbus::{Event, EventKind, Filter};

use crate::error::SelectError;

/// Maps a streamer's handle to the room id their events carry.
pub trait RoomDirectory: Send + Sync + 'static {
    /// The current room id of `handle` (lower-case, no `@`), if known.
    fn room_id(&self, handle: &str) -> Option<u64>;
}

/// A room named in a filter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RoomRef {
    /// A numeric room id.
    Id(u64),
    /// A streamer's handle, lower-case, without the `@`.
    Handle(String),
}

impl FromStr for RoomRef {
    type Err = SelectError;

    fn from_str(s: &str) -> Result<Self, SelectError> {
        let t = s.trim();
        let bad = || SelectError::BadRoom(s.chars().take(64).collect());
        if t.is_empty() {
            return Err(bad());
        }
        if let Some(h) = t.strip_prefix('@') {
            return handle(h).ok_or_else(bad);
        }
        if t.bytes().all(|b| b.is_ascii_digit()) {
            return t.parse().map(RoomRef::Id).map_err(|_| bad());
        }
        handle(t).ok_or_else(bad)
    }
}

fn handle(h: &str) -> Option<RoomRef> {
    let ok = !h.is_empty()
        && h.len() <= 64
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
    ok.then(|| RoomRef::Handle(h.to_ascii_lowercase()))
}

impl fmt::Display for RoomRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RoomRef::Id(id) => write!(f, "{id}"),
            RoomRef::Handle(h) => write!(f, "@{h}"),
        }
    }
}

/// Handles learnt from `connected` events, with an optional directory behind them.
#[derive(Clone, Default)]
pub struct Rooms {
    learnt: Arc<RwLock<HashMap<String, u64>>>,
    directory: Option<Arc<dyn RoomDirectory>>,
}

impl fmt::Debug for Rooms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rooms")
            .field("learnt", &self.learnt.read().map(|m| m.len()).unwrap_or(0))
            .field("directory", &self.directory.is_some())
            .finish()
    }
}

impl Rooms {
    /// Learns from `connected` events only.
    pub fn new() -> Self {
        Rooms::default()
    }

    /// Learns from `connected` events, and asks `directory` about handles not learnt yet.
    pub fn with_directory(directory: Arc<dyn RoomDirectory>) -> Self {
        Rooms {
            learnt: Arc::default(),
            directory: Some(directory),
        }
    }

    /// Learns `handle -> room id` when `event` is a `connected` event naming its handle.
    pub fn observe(&self, event: &Event) {
        if let Event::Connected(c) = event {
            if c.unique_id.is_empty() || c.meta.room_id == 0 {
                return;
            }
            let h = c.unique_id.trim_start_matches('@').to_ascii_lowercase();
            let known = self
                .learnt
                .read()
                .map(|m| m.get(&h) == Some(&c.meta.room_id))
                .unwrap_or(false);
            if !known {
                if let Ok(mut m) = self.learnt.write() {
                    m.insert(h, c.meta.room_id);
                }
            }
        }
    }

    /// The room id of `handle`, if learnt or known to the directory.
    pub fn room_id(&self, handle: &str) -> Option<u64> {
        let learnt = self.learnt.read().ok().and_then(|m| m.get(handle).copied());
        learnt.or_else(|| self.directory.as_ref().and_then(|d| d.room_id(handle)))
    }

    /// The handle learnt for `room_id`, if any (for file names and page titles).
    pub fn handle_of(&self, room_id: u64) -> Option<String> {
        let m = self.learnt.read().ok()?;
        m.iter()
            .find(|(_, r)| **r == room_id)
            .map(|(h, _)| h.clone())
    }
}

impl RoomDirectory for Rooms {
    fn room_id(&self, handle: &str) -> Option<u64> {
        Rooms::room_id(self, handle)
    }
}

/// Rooms and types an output or client asked for; each "all" when not given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    kinds: Option<Vec<EventKind>>,
    rooms: Option<Vec<RoomRef>>,
}

fn split(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim).filter(|s| !s.is_empty())
}

impl Selection {
    /// Everything.
    pub fn all() -> Self {
        Selection::default()
    }

    /// From the comma-separated query values `?rooms=a,@b,7400…&types=chat,gift`. A missing
    /// or empty value means "all".
    pub fn parse(rooms: Option<&str>, types: Option<&str>) -> Result<Self, SelectError> {
        Self::from_lists(
            rooms
                .map(|r| split(r).collect::<Vec<_>>())
                .unwrap_or_default(),
            types
                .map(|t| split(t).collect::<Vec<_>>())
                .unwrap_or_default(),
        )
    }

    /// From lists (config files). Empty lists mean "all".
    pub fn from_lists<R: AsRef<str>, T: AsRef<str>>(
        rooms: impl IntoIterator<Item = R>,
        types: impl IntoIterator<Item = T>,
    ) -> Result<Self, SelectError> {
        let rooms = rooms
            .into_iter()
            .map(|r| r.as_ref().parse())
            .collect::<Result<Vec<RoomRef>, _>>()?;
        let kinds = types
            .into_iter()
            .map(|t| {
                let t = t.as_ref();
                EventKind::from_name(t.trim())
                    .ok_or_else(|| SelectError::UnknownType(t.chars().take(64).collect()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Selection {
            kinds: (!kinds.is_empty()).then_some(kinds),
            rooms: (!rooms.is_empty()).then_some(rooms),
        })
    }

    /// The rooms asked for, `None` for all.
    pub fn rooms(&self) -> Option<&[RoomRef]> {
        self.rooms.as_deref()
    }

    /// The types asked for, `None` for all.
    pub fn kinds(&self) -> Option<&[EventKind]> {
        self.kinds.as_deref()
    }

    /// True when `event` is wanted; handles are resolved through `rooms`.
    pub fn matches(&self, event: &Event, rooms: &Rooms) -> bool {
        if let Some(kinds) = &self.kinds {
            if !kinds.contains(&event.kind()) {
                return false;
            }
        }
        self.matches_room(event.room_id(), rooms)
    }

    /// Like [`matches`](Self::matches), for an event known only by its type name (possibly
    /// a type this build does not know, which passes only when no types were asked for) and
    /// room id, as an archive stores it.
    pub fn matches_parts(&self, kind: &str, room_id: u64, rooms: &Rooms) -> bool {
        if let Some(kinds) = &self.kinds {
            match EventKind::from_name(kind) {
                Some(k) if kinds.contains(&k) => {}
                _ => return false,
            }
        }
        self.matches_room(room_id, rooms)
    }

    fn matches_room(&self, room: u64, rooms: &Rooms) -> bool {
        match &self.rooms {
            None => true,
            Some(list) => list.iter().any(|r| match r {
                RoomRef::Id(id) => *id == room,
                RoomRef::Handle(h) => rooms.room_id(h) == Some(room),
            }),
        }
    }

    /// A bus filter that lets through at least what this selection wants (and the
    /// `connected` events needed to learn handles), so the bus does the coarse cut.
    pub fn bus_filter(&self) -> Filter {
        let has_handles = self
            .rooms
            .as_ref()
            .is_some_and(|r| r.iter().any(|r| matches!(r, RoomRef::Handle(_))));
        let mut filter = match &self.kinds {
            None => Filter::all(),
            Some(k) if has_handles => {
                Filter::kinds(k.iter().copied().chain([EventKind::Connected]))
            }
            Some(k) => Filter::kinds(k.iter().copied()),
        };
        if let Some(rooms) = &self.rooms {
            if !has_handles {
                filter = filter.rooms(rooms.iter().filter_map(|r| match r {
                    RoomRef::Id(id) => Some(*id),
                    RoomRef::Handle(_) => None,
                }));
            }
        }
        filter
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ttlive_eventbus::{ChatEvent, ConnectedEvent, LikeEvent};

    fn chat(room: u64) -> Event {
        let mut c = ChatEvent::default();
        c.meta.room_id = room;
        c.into()
    }

    #[test]
    fn rooms_parse_as_handles_or_ids() {
        assert_eq!(
            "@River_Otter".parse(),
            Ok(RoomRef::Handle("river_otter".into()))
        );
        assert_eq!("fake.user".parse(), Ok(RoomRef::Handle("fake.user".into())));
        assert_eq!(
            "7400000000000000001".parse(),
            Ok(RoomRef::Id(7_400_000_000_000_000_001))
        );
        assert!(matches!(
            "a b".parse::<RoomRef>(),
            Err(SelectError::BadRoom(_))
        ));
        assert!(matches!(
            "@".parse::<RoomRef>(),
            Err(SelectError::BadRoom(_))
        ));
        assert!(matches!(
            "99999999999999999999999".parse::<RoomRef>(),
            Err(SelectError::BadRoom(_))
        ));
    }

    #[test]
    fn unknown_types_are_refused_by_name() {
        let err = Selection::parse(None, Some("chat,nope")).unwrap_err();
        assert_eq!(err, SelectError::UnknownType("nope".into()));
        let s = Selection::parse(Some(""), Some(" chat , roomuser ")).unwrap();
        assert_eq!(s.kinds(), Some(&[EventKind::Chat, EventKind::RoomUser][..]));
        assert!(s.rooms().is_none());
    }

    #[test]
    fn handles_match_once_a_connected_event_taught_the_room() {
        let rooms = Rooms::new();
        let sel = Selection::parse(Some("@fakeuser"), Some("chat")).unwrap();
        assert!(!sel.matches(&chat(42), &rooms));
        let mut c = ConnectedEvent::default();
        c.meta.room_id = 42;
        c.unique_id = "FakeUser".into();
        let connected: Event = c.into();
        assert!(
            sel.bus_filter().matches(&connected),
            "the bus must pass `connected`"
        );
        assert!(
            !sel.matches(&connected, &rooms),
            "but the client did not ask for it"
        );
        rooms.observe(&connected);
        assert!(sel.matches(&chat(42), &rooms));
        assert!(!sel.matches(&chat(43), &rooms));
        assert!(!sel.matches(&LikeEvent::default().into(), &rooms));
        assert_eq!(rooms.handle_of(42).as_deref(), Some("fakeuser"));
    }

    #[test]
    fn a_directory_answers_before_any_event() {
        struct Fixed;
        impl RoomDirectory for Fixed {
            fn room_id(&self, handle: &str) -> Option<u64> {
                (handle == "known").then_some(7)
            }
        }
        let rooms = Rooms::with_directory(Arc::new(Fixed));
        let sel = Selection::parse(Some("known,8"), None).unwrap();
        assert!(sel.matches(&chat(7), &rooms));
        assert!(sel.matches(&chat(8), &rooms));
        assert!(!sel.matches(&chat(9), &rooms));
    }

    #[test]
    fn room_ids_alone_narrow_the_bus_filter() {
        let sel = Selection::parse(Some("5,6"), Some("chat")).unwrap();
        let f = sel.bus_filter();
        assert!(f.matches(&chat(5)) && !f.matches(&chat(7)));
    }
}
