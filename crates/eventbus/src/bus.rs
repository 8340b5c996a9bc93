//! The in-process [`EventBus`]: many sources in, many subscribers out.
//!
//! See [`EventBus`] for the full description.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::future::poll_fn;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::task::{Context, Poll, Waker};

use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::error::{BusError, Lagged, SourceError};
use crate::event::{Event, EventKind, EventVariant};
use crate::source::{EventSource, SourceEnd, SourceInfo, SourceItem};

/// Queue capacity of a subscriber, in events, unless told otherwise.
pub const DEFAULT_CAPACITY: usize = 1024;

const KINDS: usize = EventKind::ALL.len();
// Kind sets are bit masks in a u128.
const _: () = assert!(KINDS <= 128);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

const fn bit(kind: EventKind) -> u128 {
    1u128 << kind.index()
}

// ---------------------------------------------------------------------------------------------
// Filter and options
// ---------------------------------------------------------------------------------------------

/// Which events a subscriber wants: a set of kinds and a set of rooms (each "all" unless set).
///
/// ```
/// # use ttlive_eventbus::{Filter, EventKind};
/// let f = Filter::kinds([EventKind::Chat, EventKind::Gift]).rooms([7_000_001]);
/// assert!(f.matches_kind(EventKind::Chat) && !f.matches_kind(EventKind::Like));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    kinds: Option<u128>,
    rooms: Option<Box<[u64]>>,
}

impl Filter {
    /// Every event.
    pub fn all() -> Self {
        Filter::default()
    }

    /// Only events of these kinds (any room). An empty list matches nothing.
    pub fn kinds(kinds: impl IntoIterator<Item = EventKind>) -> Self {
        Filter {
            kinds: Some(kinds.into_iter().fold(0, |m, k| m | bit(k))),
            rooms: None,
        }
    }

    /// Only events of this kind.
    pub fn kind(kind: EventKind) -> Self {
        Self::kinds([kind])
    }

    /// Restricts the filter to these rooms. An empty list matches nothing.
    pub fn rooms(mut self, rooms: impl IntoIterator<Item = u64>) -> Self {
        let mut v: Vec<u64> = rooms.into_iter().collect();
        v.sort_unstable();
        v.dedup();
        self.rooms = Some(v.into_boxed_slice());
        self
    }

    /// Restricts the filter to one room.
    pub fn room(self, room_id: u64) -> Self {
        self.rooms([room_id])
    }

    /// Keeps only `kind` of the kinds this filter lets through.
    pub fn restrict_to_kind(mut self, kind: EventKind) -> Self {
        self.kinds = Some(self.kinds.unwrap_or(u128::MAX) & bit(kind));
        self
    }

    /// True when events of `kind` may pass.
    pub fn matches_kind(&self, kind: EventKind) -> bool {
        self.kinds.is_none_or(|m| m & bit(kind) != 0)
    }

    /// True when events of room `room_id` may pass.
    pub fn matches_room(&self, room_id: u64) -> bool {
        match &self.rooms {
            None => true,
            Some(r) if r.len() <= 8 => r.contains(&room_id),
            Some(r) => r.binary_search(&room_id).is_ok(),
        }
    }

    /// True when `event` passes.
    pub fn matches(&self, event: &Event) -> bool {
        self.matches_kind(event.kind()) && self.matches_room(event.room_id())
    }

    /// The kinds that pass (every kind when no kind set was given).
    pub fn kind_list(&self) -> Vec<EventKind> {
        EventKind::ALL
            .iter()
            .copied()
            .filter(|k| self.matches_kind(*k))
            .collect()
    }

    /// The rooms that pass, or `None` for every room.
    pub fn room_list(&self) -> Option<&[u64]> {
        self.rooms.as_deref()
    }
}

/// How a subscription behaves: queue size, lossless or not, a name for stats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscribeOptions {
    capacity: Option<usize>,
    lossless: bool,
    name: Option<String>,
}

impl Default for SubscribeOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl SubscribeOptions {
    /// Lossy, the bus's default capacity, no name.
    pub fn new() -> Self {
        SubscribeOptions {
            capacity: None,
            lossless: false,
            name: None,
        }
    }

    /// Queue capacity in events (at least 1).
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = Some(capacity.max(1));
        self
    }

    /// Lossless: never drop, make publishers wait instead (see [`EventBus`] for
    /// what that costs).
    pub fn lossless(mut self, lossless: bool) -> Self {
        self.lossless = lossless;
        self
    }

    /// A name shown in [`SubscriberStats`].
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

// ---------------------------------------------------------------------------------------------
// Subscriber queues
// ---------------------------------------------------------------------------------------------

struct SubState {
    buf: VecDeque<Arc<Event>>,
    /// Drops not yet told to the subscriber.
    lagged: u64,
    enqueued: u64,
    dropped: u64,
    waker: Option<Waker>,
    closed: bool,
}

/// Keeps a value on cache lines of its own, so the queue state that publisher and reader
/// both write does not share a line with the read-only fields the publisher checks.
#[repr(align(128))]
struct CachePadded<T>(T);

impl<T> std::ops::Deref for CachePadded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

struct SubShared {
    id: u64,
    name: Option<String>,
    filter: Filter,
    capacity: usize,
    lossless: bool,
    /// Reads the bus's shared log instead of a queue of its own (see [`SharedLog`]).
    log: bool,
    /// Log subscribers: the next sequence number to read (mirrored for stats).
    cursor: AtomicU64,
    /// Log subscribers: the log's head when subscribing (for stats).
    start_seq: u64,
    /// Log subscribers: drops already reported.
    log_dropped: AtomicU64,
    state: CachePadded<Mutex<SubState>>,
    /// Lossless only: signalled when the subscriber took events out of a full queue.
    space: Notify,
}

enum Push {
    Queued,
    Full,
    Closed,
}

/// Wakers collected during one fan-out and woken after it: a reader woken in the middle of a
/// fan-out would start taking its queue lock and dropping its reference to the event while
/// the publisher still works on the same cache lines for the next subscribers.
struct WakeList {
    wakers: [Option<Waker>; 32],
    len: usize,
}

impl WakeList {
    fn new() -> Self {
        WakeList {
            wakers: std::array::from_fn(|_| None),
            len: 0,
        }
    }

    fn push(&mut self, waker: Waker) {
        if self.len == self.wakers.len() {
            self.wake_all();
        }
        if let Some(slot) = self.wakers.get_mut(self.len) {
            *slot = Some(waker);
            self.len += 1;
        }
    }

    fn wake_all(&mut self) {
        for slot in self.wakers.iter_mut().take(self.len) {
            if let Some(w) = slot.take() {
                w.wake();
            }
        }
        self.len = 0;
    }
}

impl Drop for WakeList {
    fn drop(&mut self) {
        self.wake_all();
    }
}

impl SubShared {
    fn try_push(&self, ev: &Arc<Event>) -> Push {
        let mut wakes = WakeList::new();
        self.try_push_deferred(ev, &mut wakes)
    }

    /// Queues the event; the reader's waker, if it waits, goes to `wakes`.
    fn try_push_deferred(&self, ev: &Arc<Event>, wakes: &mut WakeList) -> Push {
        let (waker, evicted) = {
            let mut st = lock(&self.state);
            if st.closed {
                return Push::Closed;
            }
            let mut evicted = None;
            if st.buf.len() >= self.capacity {
                if self.lossless {
                    return Push::Full;
                }
                evicted = st.buf.pop_front();
                st.lagged += 1;
                st.dropped += 1;
            }
            st.buf.push_back(Arc::clone(ev));
            st.enqueued += 1;
            (st.waker.take(), evicted)
        };
        // Drop the evicted event and hand over the waker outside the lock.
        drop(evicted);
        if let Some(w) = waker {
            wakes.push(w);
        }
        Push::Queued
    }

    /// Lossless delivery: waits for room. False when the subscription is gone.
    async fn push_wait(&self, ev: &Arc<Event>) -> bool {
        loop {
            let mut notified = pin!(self.space.notified());
            notified.as_mut().enable();
            match self.try_push(ev) {
                Push::Queued => return true,
                Push::Closed => return false,
                Push::Full => notified.await,
            }
        }
    }

    fn close(&self) {
        let waker = {
            let mut st = lock(&self.state);
            st.closed = true;
            st.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        self.space.notify_waiters();
    }
}

// ---------------------------------------------------------------------------------------------
// The shared log (unfiltered lossy subscribers)
// ---------------------------------------------------------------------------------------------

struct LogState {
    /// The last `capacity` events; `ring[0]` has sequence number `head - ring.len()`.
    ring: VecDeque<Arc<Event>>,
    /// Sequence number of the next event.
    head: u64,
    closed: bool,
}

/// One ring of the last `capacity` events, read by every subscriber that takes everything,
/// lossily, with the bus's default capacity (the common "show me everything" case).
///
/// Semantics are exactly those of a queue per subscriber (the oldest events are overwritten,
/// a reader that fell behind is told the exact count), but the publisher pays once per event
/// instead of once per such subscriber; each reader copies its batch out itself. Filtered,
/// lossless or differently sized subscriptions keep their own queues.
struct SharedLog {
    state: CachePadded<Mutex<LogState>>,
    capacity: usize,
    readers: std::sync::atomic::AtomicUsize,
    has_waiters: AtomicBool,
    waiters: Mutex<Vec<(u64, Waker)>>,
}

impl SharedLog {
    fn push(&self, ev: &Arc<Event>) {
        let evicted = {
            let mut st = lock(&self.state);
            st.ring.push_back(Arc::clone(ev));
            st.head += 1;
            if st.ring.len() > self.capacity {
                st.ring.pop_front()
            } else {
                None
            }
        };
        drop(evicted);
        std::sync::atomic::fence(Ordering::SeqCst);
        if self.has_waiters.load(Ordering::Relaxed) {
            self.wake_all();
        }
    }

    fn wake_all(&self) {
        let waiters = {
            let mut w = lock(&self.waiters);
            self.has_waiters.store(false, Ordering::Relaxed);
            std::mem::take(&mut *w)
        };
        for (_, w) in waiters {
            w.wake();
        }
    }

    fn register(&self, id: u64, waker: &Waker) {
        let mut w = lock(&self.waiters);
        match w.iter_mut().find(|(i, _)| *i == id) {
            Some((_, old)) if old.will_wake(waker) => {}
            Some((_, old)) => *old = waker.clone(),
            None => w.push((id, waker.clone())),
        }
        self.has_waiters.store(true, Ordering::Relaxed);
    }

    fn unregister(&self, id: u64) {
        lock(&self.waiters).retain(|(i, _)| *i != id);
    }

    fn close(&self) {
        lock(&self.state).closed = true;
        self.wake_all();
    }

    /// (head, sequence number of the oldest event kept).
    fn bounds(&self) -> (u64, u64) {
        let st = lock(&self.state);
        (st.head, st.head - st.ring.len() as u64)
    }
}

// ---------------------------------------------------------------------------------------------
// The shared core (what source tasks hold)
// ---------------------------------------------------------------------------------------------

struct Routes {
    /// For each kind index, the subscribers whose filter lets that kind through.
    by_kind: Vec<Vec<Arc<SubShared>>>,
}

impl Routes {
    fn build(subs: &[Arc<SubShared>]) -> Routes {
        Routes {
            by_kind: EventKind::ALL
                .iter()
                .map(|k| {
                    subs.iter()
                        .filter(|s| !s.log && s.filter.matches_kind(*k))
                        .cloned()
                        .collect()
                })
                .collect(),
        }
    }
}

struct SubRegistry {
    list: Vec<Arc<SubShared>>,
    next_id: u64,
}

struct Core {
    routes: RwLock<Arc<Routes>>,
    routes_version: AtomicU64,
    subs: Mutex<SubRegistry>,
    /// No more publishing, attaching; new subscriptions start ended.
    closed: AtomicBool,
    per_kind: Box<[AtomicU64]>,
    default_capacity: usize,
    log: SharedLog,
}

fn counters() -> Box<[AtomicU64]> {
    (0..KINDS).map(|_| AtomicU64::new(0)).collect()
}

impl Core {
    fn routes(&self) -> Arc<Routes> {
        Arc::clone(&self.routes.read().unwrap_or_else(|e| e.into_inner()))
    }

    fn set_routes(&self, list: &[Arc<SubShared>]) {
        let routes = Arc::new(Routes::build(list));
        *self.routes.write().unwrap_or_else(|e| e.into_inner()) = routes;
        self.routes_version.fetch_add(1, Ordering::Release);
    }

    fn subscribe(self: &Arc<Self>, filter: Filter, opts: SubscribeOptions) -> Subscription {
        let mut reg = lock(&self.subs);
        let id = reg.next_id;
        reg.next_id += 1;
        let capacity = opts.capacity.unwrap_or(self.default_capacity).max(1);
        let log = !opts.lossless && capacity == self.default_capacity && filter == Filter::all();
        let start_seq = if log { lock(&self.log.state).head } else { 0 };
        let shared = Arc::new(SubShared {
            id,
            name: opts.name,
            filter,
            capacity,
            lossless: opts.lossless,
            log,
            cursor: AtomicU64::new(start_seq),
            start_seq,
            log_dropped: AtomicU64::new(0),
            state: CachePadded(Mutex::new(SubState {
                buf: VecDeque::new(),
                lagged: 0,
                enqueued: 0,
                dropped: 0,
                waker: None,
                closed: false,
            })),
            space: Notify::new(),
        });
        if self.closed.load(Ordering::SeqCst) {
            shared.close();
        } else {
            reg.list.push(Arc::clone(&shared));
            if log {
                self.log.readers.fetch_add(1, Ordering::SeqCst);
            } else {
                self.set_routes(&reg.list);
            }
        }
        drop(reg);
        tracing::debug!(subscriber = id, lossless = shared.lossless, "subscribed");
        Subscription {
            shared,
            core: Arc::clone(self),
            local: VecDeque::new(),
            cursor: start_seq,
        }
    }

    fn unsubscribe(&self, id: u64) {
        let mut reg = lock(&self.subs);
        if let Some(pos) = reg.list.iter().position(|s| s.id == id) {
            let sub = reg.list.remove(pos);
            if sub.log {
                if self.log.readers.fetch_sub(1, Ordering::SeqCst) == 1 {
                    // Nobody reads the log any more: do not keep its events alive.
                    let evicted = std::mem::take(&mut lock(&self.log.state).ring);
                    drop(evicted);
                }
                self.log.unregister(id);
            } else if !self.closed.load(Ordering::SeqCst) {
                self.set_routes(&reg.list);
            }
        }
    }

    fn close_subscribers(&self) {
        // Closed subscribers stay listed (for stats) until their subscription is dropped;
        // nothing routes to them any more.
        let list = {
            let reg = lock(&self.subs);
            self.set_routes(&[]);
            reg.list.clone()
        };
        for s in list {
            s.close();
        }
        self.log.close();
    }

    /// Delivers to every matching subscriber that has room (lossy ones always do). Returns
    /// how many got it, and the lossless subscribers that were full.
    fn deliver_now(&self, routes: &Routes, ev: &Arc<Event>) -> (usize, Vec<Arc<SubShared>>) {
        let kind = ev.kind().index();
        if let Some(c) = self.per_kind.get(kind) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        let room = ev.room_id();
        let mut n = 0;
        let mut full = Vec::new();
        let mut wakes = WakeList::new();
        for sub in routes.by_kind.get(kind).map(Vec::as_slice).unwrap_or(&[]) {
            if !sub.filter.matches_room(room) {
                continue;
            }
            match sub.try_push_deferred(ev, &mut wakes) {
                Push::Queued => n += 1,
                Push::Full => full.push(Arc::clone(sub)),
                Push::Closed => {}
            }
        }
        let log_readers = self.log.readers.load(Ordering::SeqCst);
        if log_readers > 0 {
            self.log.push(ev);
            n += log_readers;
        }
        (n, full)
    }
}

async fn deliver_blocked(full: Vec<Arc<SubShared>>, ev: &Arc<Event>) -> usize {
    let mut n = 0;
    for sub in full {
        if sub.push_wait(ev).await {
            n += 1;
        }
    }
    n
}

/// A source task's cached view of the routes, refreshed when subscriptions change.
struct RouteCache {
    version: u64,
    routes: Arc<Routes>,
}

impl RouteCache {
    fn new(core: &Core) -> Self {
        let version = core.routes_version.load(Ordering::Acquire);
        RouteCache {
            version,
            routes: core.routes(),
        }
    }

    fn get(&mut self, core: &Core) -> &Routes {
        let v = core.routes_version.load(Ordering::Acquire);
        if v != self.version {
            self.routes = core.routes();
            self.version = v;
        }
        &self.routes
    }
}

// ---------------------------------------------------------------------------------------------
// Subscriptions
// ---------------------------------------------------------------------------------------------

/// A subscription to the bus: read it with [`recv`](Subscription::recv) or as a
/// [`Stream`](futures_core::Stream) of `Result<Arc<Event>, Lagged>`.
///
/// Items arrive in publish order (per source; sources interleave). `Err(Lagged(n))` says `n`
/// events were dropped for this subscriber because its queue was full; it then goes on.
/// `None` means the bus was closed (or dropped) and everything queued was read.
///
/// Dropping the subscription unsubscribes it.
pub struct Subscription {
    shared: Arc<SubShared>,
    core: Arc<Core>,
    /// Events taken from the shared queue in one batch, handed out one by one.
    local: VecDeque<Arc<Event>>,
    /// Log subscribers: the next sequence number to read.
    cursor: u64,
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("id", &self.shared.id)
            .field("name", &self.shared.name)
            .field("filter", &self.shared.filter)
            .field("lossless", &self.shared.lossless)
            .finish_non_exhaustive()
    }
}

impl Subscription {
    /// The next event, a lag notice, or `None` once the bus is closed and the queue drained.
    ///
    /// Cancel safe: if the future is dropped, no event is lost.
    pub async fn recv(&mut self) -> Option<Result<Arc<Event>, Lagged>> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Like [`recv`](Self::recv), but never waits: `None` when nothing is queued right now
    /// (use [`is_closed`](Self::is_closed) to tell an ended subscription apart).
    pub fn try_recv(&mut self) -> Option<Result<Arc<Event>, Lagged>> {
        match self.take(None) {
            Poll::Ready(item) => item,
            Poll::Pending => None,
        }
    }

    /// Polls for the next item (what `recv` and the `Stream` impl use).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Arc<Event>, Lagged>>> {
        self.take(Some(cx))
    }

    fn take(&mut self, cx: Option<&mut Context<'_>>) -> Poll<Option<Result<Arc<Event>, Lagged>>> {
        if let Some(ev) = self.local.pop_front() {
            return Poll::Ready(Some(Ok(ev)));
        }
        if self.shared.log {
            return self.take_log(cx);
        }
        // Never sleep on the queue lock: when the publisher holds it, an event is arriving;
        // yield and come back rather than park the thread (and make the publisher pay a
        // futex wake on unlock).
        let mut st = match (&cx, self.shared.state.try_lock()) {
            (_, Ok(st)) => st,
            (_, Err(std::sync::TryLockError::Poisoned(e))) => e.into_inner(),
            (Some(cx), Err(std::sync::TryLockError::WouldBlock)) => {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            // `try_recv`: wait the few instructions the publisher holds the lock.
            (None, Err(std::sync::TryLockError::WouldBlock)) => lock(&self.shared.state),
        };
        let lagged = std::mem::take(&mut st.lagged);
        if lagged > 0 || !st.buf.is_empty() {
            // Take the whole queue in one go: one lock per batch, not per event.
            std::mem::swap(&mut self.local, &mut st.buf);
            drop(st);
            if self.shared.lossless {
                self.shared.space.notify_waiters();
            }
            if lagged > 0 {
                tracing::debug!(
                    subscriber = self.shared.id,
                    missed = lagged,
                    "subscriber lagged"
                );
                return Poll::Ready(Some(Err(Lagged(lagged))));
            }
            return Poll::Ready(self.local.pop_front().map(Ok));
        }
        if st.closed {
            return Poll::Ready(None);
        }
        if let Some(cx) = cx {
            match &st.waker {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => st.waker = Some(cx.waker().clone()),
            }
        }
        Poll::Pending
    }

    fn take_log(
        &mut self,
        cx: Option<&mut Context<'_>>,
    ) -> Poll<Option<Result<Arc<Event>, Lagged>>> {
        let log = &self.core.log;
        for attempt in 0..2 {
            // Held only to push one pointer or copy one batch out: wait for it.
            let st = lock(&log.state);
            let start = st.head - st.ring.len() as u64;
            let lagged = start.saturating_sub(self.cursor);
            let from = self.cursor.max(start);
            if from < st.head {
                let skip = usize::try_from(from - start).unwrap_or(usize::MAX);
                self.local.extend(st.ring.iter().skip(skip).cloned());
            }
            self.cursor = st.head;
            let closed = st.closed;
            drop(st);
            self.shared.cursor.store(self.cursor, Ordering::Relaxed);
            if lagged > 0 {
                self.shared.log_dropped.fetch_add(lagged, Ordering::Relaxed);
                tracing::debug!(
                    subscriber = self.shared.id,
                    missed = lagged,
                    "subscriber lagged"
                );
                return Poll::Ready(Some(Err(Lagged(lagged))));
            }
            if let Some(ev) = self.local.pop_front() {
                return Poll::Ready(Some(Ok(ev)));
            }
            if closed {
                return Poll::Ready(None);
            }
            let Some(cx) = cx.as_ref() else {
                return Poll::Pending;
            };
            if attempt == 0 {
                // Register, then look again: a publisher that pushed before seeing the
                // registration is caught by the second look (fences on both sides).
                log.register(self.shared.id, cx.waker());
                std::sync::atomic::fence(Ordering::SeqCst);
            }
        }
        Poll::Pending
    }

    /// This subscription's id (as in [`SubscriberStats::id`]).
    pub fn id(&self) -> u64 {
        self.shared.id
    }

    /// Its filter.
    pub fn filter(&self) -> &Filter {
        &self.shared.filter
    }

    /// True for a lossless subscription.
    pub fn is_lossless(&self) -> bool {
        self.shared.lossless
    }

    /// Queue capacity in events.
    pub fn capacity(&self) -> usize {
        self.shared.capacity
    }

    /// Events received but not read yet.
    pub fn len(&self) -> usize {
        if self.shared.log {
            let (head, start) = self.core.log.bounds();
            let pending = head.saturating_sub(self.cursor.max(start));
            return self.local.len() + usize::try_from(pending).unwrap_or(usize::MAX);
        }
        self.local.len() + lock(&self.shared.state).buf.len()
    }

    /// True when no event waits to be read.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True once the bus is closed and everything was read: `recv()` returns `None`.
    pub fn is_closed(&self) -> bool {
        if self.shared.log {
            let st = lock(&self.core.log.state);
            return st.closed && self.local.is_empty() && st.head == self.cursor;
        }
        let st = lock(&self.shared.state);
        self.local.is_empty() && st.closed && st.buf.is_empty() && st.lagged == 0
    }
}

impl futures_core::Stream for Subscription {
    type Item = Result<Arc<Event>, Lagged>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_recv(cx)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.core.unsubscribe(self.shared.id);
        // Releases any publisher waiting for room in a lossless queue.
        self.shared.close();
    }
}

/// A subscription to one event kind, yielding its struct (`ChatEvent`, `GiftEvent`…).
///
/// Read with [`recv`](TypedSubscription::recv) or as a [`Stream`](futures_core::Stream) of
/// `Result<T, Lagged>`. Events are shared on the bus; the struct is moved out when this
/// subscriber holds the last reference, cloned otherwise.
pub struct TypedSubscription<T> {
    inner: Subscription,
    _kind: std::marker::PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for TypedSubscription<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TypedSubscription")
            .field(&self.inner)
            .finish()
    }
}

impl<T: EventVariant + Clone> TypedSubscription<T> {
    /// The next event of kind `T`, a lag notice, or `None` at the end.
    ///
    /// Cancel safe.
    pub async fn recv(&mut self) -> Option<Result<T, Lagged>> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next item.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, Lagged>>> {
        loop {
            match self.inner.poll_recv(cx) {
                Poll::Ready(Some(Ok(ev))) => match T::from_event(Arc::unwrap_or_clone(ev)) {
                    Ok(t) => return Poll::Ready(Some(Ok(t))),
                    // Cannot happen (the filter only lets T's kind through); skip, never panic.
                    Err(_) => continue,
                },
                Poll::Ready(Some(Err(lag))) => return Poll::Ready(Some(Err(lag))),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// The untyped subscription underneath.
    pub fn into_inner(self) -> Subscription {
        self.inner
    }

    /// The untyped subscription underneath.
    pub fn inner(&self) -> &Subscription {
        &self.inner
    }
}

impl<T: EventVariant + Clone> futures_core::Stream for TypedSubscription<T> {
    type Item = Result<T, Lagged>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_recv(cx)
    }
}

// ---------------------------------------------------------------------------------------------
// Sources
// ---------------------------------------------------------------------------------------------

/// Identifies an attached source (in [`SourceStats`] and logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceId(pub u64);

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "source#{}", self.0)
    }
}

struct StopSignal {
    flag: AtomicBool,
    notify: Notify,
}

impl StopSignal {
    fn stop(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    async fn wait(&self) {
        loop {
            let mut n = pin!(self.notify.notified());
            n.as_mut().enable();
            if self.flag.load(Ordering::SeqCst) {
                return;
            }
            n.await;
        }
    }
}

struct SourceCtl {
    id: SourceId,
    info: SourceInfo,
    stop: StopSignal,
    per_kind: Box<[AtomicU64]>,
    errors: AtomicU64,
    last_error: Mutex<Option<SourceError>>,
    end: watch::Sender<Option<SourceEnd>>,
}

/// Control of one attached source: stop it, await its end.
///
/// Dropping the handle does not stop the source (the bus owns it); clones control the same
/// source.
#[derive(Clone)]
pub struct SourceHandle {
    ctl: Arc<SourceCtl>,
}

impl fmt::Debug for SourceHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SourceHandle")
            .field("id", &self.ctl.id)
            .field("info", &self.ctl.info)
            .field("end", &*self.ctl.end.borrow())
            .finish()
    }
}

impl SourceHandle {
    /// The source's id.
    pub fn id(&self) -> SourceId {
        self.ctl.id
    }

    /// What the source said about itself when attached.
    pub fn info(&self) -> &SourceInfo {
        &self.ctl.info
    }

    /// Asks the source's task to stop; returns at once. The pending `next()` is dropped (see
    /// the cancellation rule in [`EventSource`]'s docs), then the source. Its end is then
    /// [`SourceEnd::Stopped`], unless it had already ended by itself.
    pub fn stop(&self) {
        self.ctl.stop.stop();
    }

    /// The end, once the task finished.
    pub fn end(&self) -> Option<SourceEnd> {
        self.ctl.end.borrow().clone()
    }

    /// True once the task finished.
    pub fn is_finished(&self) -> bool {
        self.ctl.end.borrow().is_some()
    }

    /// Waits for the task to finish and returns how the source ended. A source whose task
    /// panicked reports [`SourceEnd::Fatal`].
    pub async fn join(&self) -> SourceEnd {
        let mut rx = self.ctl.end.subscribe();
        match rx.wait_for(Option::is_some).await {
            Ok(v) => v.clone().unwrap_or(SourceEnd::Stopped),
            // The sender lives in `ctl`, which we hold: cannot happen.
            Err(_) => SourceEnd::Stopped,
        }
    }

    /// [`stop`](Self::stop), then [`join`](Self::join).
    pub async fn stop_and_join(&self) -> SourceEnd {
        self.stop();
        self.join().await
    }
}

/// Records the end of a source task, also when it panicked or was aborted.
struct EndGuard {
    ctl: Arc<SourceCtl>,
    end: Option<SourceEnd>,
}

impl Drop for EndGuard {
    fn drop(&mut self) {
        let end = self.end.take().unwrap_or_else(|| {
            if std::thread::panicking() {
                SourceEnd::Fatal(SourceError::other("the source panicked"))
            } else {
                SourceEnd::Stopped
            }
        });
        match &end {
            SourceEnd::Fatal(e) => {
                tracing::warn!(source = %self.ctl.id, name = %self.ctl.info, error = %e, "source failed");
            }
            other => {
                tracing::debug!(source = %self.ctl.id, name = %self.ctl.info, end = %other, "source ended");
            }
        }
        self.ctl.end.send_replace(Some(end));
    }
}

async fn drive<S: EventSource>(core: Arc<Core>, source: S, ctl: Arc<SourceCtl>) {
    let mut guard = EndGuard {
        ctl: Arc::clone(&ctl),
        end: None,
    };
    let mut source = source;
    let end = run_source(&core, &mut source, &ctl).await;
    // Release the source (its sockets, files) before reporting the end.
    drop(source);
    guard.end = Some(end);
}

async fn run_source<S: EventSource>(core: &Core, source: &mut S, ctl: &SourceCtl) -> SourceEnd {
    let mut stopped = pin!(ctl.stop.wait());
    let mut routes = RouteCache::new(core);
    loop {
        let item = tokio::select! {
            biased;
            () = &mut stopped => return SourceEnd::Stopped,
            item = source.next() => item,
        };
        match item {
            SourceItem::Event(ev) => {
                if let Some(c) = ctl.per_kind.get(ev.kind().index()) {
                    c.fetch_add(1, Ordering::Relaxed);
                }
                let ev = Arc::new(ev);
                let (_, full) = core.deliver_now(routes.get(core), &ev);
                if !full.is_empty() {
                    tokio::select! {
                        biased;
                        () = &mut stopped => return SourceEnd::Stopped,
                        _ = deliver_blocked(full, &ev) => {}
                    }
                }
            }
            SourceItem::Error(e) => {
                ctl.errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(source = %ctl.id, name = %ctl.info, error = %e, "source error");
                *lock(&ctl.last_error) = Some(e);
            }
            SourceItem::End(end) => return end,
        }
        // Fairness: a source that is always ready must not hog the worker thread.
        tokio::task::coop::consume_budget().await;
    }
}

struct SourceEntry {
    ctl: Arc<SourceCtl>,
    task: Option<JoinHandle<()>>,
}

// ---------------------------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------------------------

/// A snapshot of the bus's counters ([`EventBus::stats`]).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct BusStats {
    /// Events published (by sources and directly), per kind; kinds never seen are absent.
    pub per_kind: BTreeMap<EventKind, u64>,
    /// Every source attached so far, in attach order.
    pub sources: Vec<SourceStats>,
    /// Every subscription not dropped yet (after `close`, the ended ones too), in subscribe
    /// order.
    pub subscribers: Vec<SubscriberStats>,
}

impl BusStats {
    /// Events published in total.
    pub fn published(&self) -> u64 {
        self.per_kind.values().sum()
    }

    /// Events published of one kind.
    pub fn kind_count(&self, kind: EventKind) -> u64 {
        self.per_kind.get(&kind).copied().unwrap_or(0)
    }

    /// The stats of one source.
    pub fn source(&self, id: SourceId) -> Option<&SourceStats> {
        self.sources.iter().find(|s| s.id == id)
    }

    /// The stats of one subscriber.
    pub fn subscriber(&self, id: u64) -> Option<&SubscriberStats> {
        self.subscribers.iter().find(|s| s.id == id)
    }
}

/// What a source is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SourceState {
    /// Its task is running.
    Running,
    /// It ended without error: [`SourceEnd::Finished`], [`SourceEnd::StreamEnded`] or
    /// [`SourceEnd::Stopped`].
    Ended(SourceEnd),
    /// It ended with a fatal error (or panicked).
    Failed(SourceError),
}

/// Counters of one source.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SourceStats {
    /// Its id.
    pub id: SourceId,
    /// What it said about itself.
    pub info: SourceInfo,
    /// Running, ended or failed.
    pub state: SourceState,
    /// Events it yielded.
    pub events: u64,
    /// Events it yielded, per kind (kinds never seen are absent).
    pub per_kind: BTreeMap<EventKind, u64>,
    /// Recoverable errors it reported.
    pub errors: u64,
    /// The last recoverable error.
    pub last_error: Option<SourceError>,
}

/// Counters of one subscriber.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SubscriberStats {
    /// Its id ([`Subscription::id`]).
    pub id: u64,
    /// The name given in [`SubscribeOptions::name`].
    pub name: Option<String>,
    /// Lossless or lossy.
    pub lossless: bool,
    /// Queue capacity.
    pub capacity: usize,
    /// Events waiting in its queue now.
    pub queued: usize,
    /// Events put in its queue so far.
    pub enqueued: u64,
    /// Events dropped for it because its queue was full (always 0 when lossless).
    pub dropped: u64,
}

fn kind_map(counters: &[AtomicU64]) -> BTreeMap<EventKind, u64> {
    EventKind::ALL
        .iter()
        .zip(counters)
        .filter_map(|(k, c)| {
            let n = c.load(Ordering::Relaxed);
            (n > 0).then_some((*k, n))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The bus
// ---------------------------------------------------------------------------------------------

struct Owner {
    core: Arc<Core>,
    sources: Mutex<Vec<SourceEntry>>,
    next_source: AtomicU64,
    close_lock: tokio::sync::Mutex<()>,
}

impl Drop for Owner {
    fn drop(&mut self) {
        self.core.closed.store(true, Ordering::SeqCst);
        let entries = std::mem::take(&mut *lock(&self.sources));
        for e in entries {
            e.ctl.stop.stop();
            if let Some(task) = e.task {
                task.abort();
            }
        }
        self.core.close_subscribers();
    }
}

/// The in-process event bus: many sources in, many subscribers out.
///
/// # Shape
///
/// - **Sources** are attached with [`EventBus::attach`]. Each runs in its own tokio task that
///   pulls [`EventSource::next`] and publishes what it gets. The returned [`SourceHandle`]
///   stops it and awaits its final [`SourceEnd`].
/// - **Direct publishing**: [`EventBus::publish`] puts an event on the bus from any task.
/// - **Subscribers** ([`Subscription`], [`TypedSubscription`]) get everything, a [`Filter`]ed
///   part (kinds, rooms), or one kind as its typed struct. Each is read with `recv().await` or
///   as a [`futures_core::Stream`]. Events are shared as `Arc<Event>`: fan-out copies a
///   pointer, never an event.
///
/// # Backpressure
///
/// Every subscriber has a bounded queue (default [`DEFAULT_CAPACITY`] events; only the `Arc`
/// pointers are queued, the events are shared). Filters are applied when an event is
/// published, so a filtered subscriber's queue only ever holds, and its task is only ever
/// woken for, events it asked for. Subscribers that take *everything*, lossily, with the bus's
/// default capacity (plain [`EventBus::subscribe`]) share one ring of the last
/// `capacity` events instead of a queue each, so the publisher pays once per event rather than
/// once per such subscriber; the semantics below are identical either way (the ring keeps up
/// to `capacity` events alive while any such subscriber exists).
///
/// - **Lossy subscribers (the default) never slow anyone down.** When a lossy subscriber's
///   queue is full, the *oldest* queued event is dropped to make room for the new one, and the
///   drop is counted. The subscriber is told, never silently: its next `recv()` returns
///   `Some(Err(Lagged(n)))` with the exact number of events it missed at that point, then it
///   goes on with the newer events, in order. A sleeping subscriber therefore costs a source
///   nothing: the source's task, and the socket behind it, keep going at full speed.
/// - **Lossless subscribers** ([`SubscribeOptions::lossless`], for recorders and sinks that
///   must see everything) never drop. When a lossless subscriber's queue is full, the
///   publisher *waits* for room: the source task that delivers to it stops pulling its
///   source, and `publish().await` does not return. The cost, said plainly:
///   - the slowest lossless subscriber paces every source and every direct publisher on the
///     bus (other subscribers see events no faster than it consumes them, though they lose
///     nothing because of it);
///   - a live source keeps its socket alive only if its heartbeats and acks run in a task of
///     their own, separate from `next()` (which is then only a hand-over of decoded events).
///     The [`EventSource`] contract requires this of live sources. Where the source's own
///     hand-over queue is bounded, a stalled lossless subscriber eventually fills it and the
///     *source* decides what to drop, reporting a `gap` event;
///   - a lossless subscriber that is never read blocks delivery forever: drop it (dropping a
///     subscription releases any publisher waiting on it) or close the bus.
///
///   This was preferred over an unbounded queue with a memory cap because it loses nothing
///   when a consumer is merely slower than a replay running at instant speed (the common case
///   for recorders in tests and demos), and because its memory is bounded by construction.
///
/// # Shutdown
///
/// [`EventBus::close`] stops every source, waits for their tasks to finish, then ends every
/// subscription: subscribers first drain what was already queued, then `recv()` returns
/// `None`. Dropping the last clone of the bus without closing it aborts the source tasks
/// (their sources are dropped) and ends the subscriptions the same way. No task outlives the
/// bus.
///
/// # Statistics
///
/// [`EventBus::stats`] gives events per kind and per source, each source's state and errors,
/// and each subscriber's queue and drop count. The hot path only touches relaxed atomic
/// counters and the subscriber's own queue lock.
///
/// Cheap to clone: clones share one bus. Dropping the last clone stops everything.
///
/// ```
/// # use ttlive_eventbus::{EventBus, ScriptedSource, ChatEvent, Filter, EventKind};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let bus = EventBus::new();
/// let mut chats = bus.subscribe_typed::<ChatEvent>();
/// let source = ScriptedSource::new("demo")
///     .event(ChatEvent { comment: "hello".into(), ..ChatEvent::default() })
///     .finished();
/// let handle = bus.attach(source).unwrap();
/// handle.join().await;
/// bus.close().await;
/// assert_eq!(chats.recv().await.unwrap().unwrap().comment, "hello");
/// assert!(chats.recv().await.is_none());
/// # }
/// ```
#[derive(Clone)]
pub struct EventBus {
    owner: Arc<Owner>,
}

impl fmt::Debug for EventBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventBus")
            .field("closed", &self.is_closed())
            .field("subscribers", &self.subscriber_count())
            .finish_non_exhaustive()
    }
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus {
    /// A bus whose subscribers get [`DEFAULT_CAPACITY`] unless told otherwise.
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }

    /// A bus whose subscribers get queues of `capacity` events (at least 1) unless told
    /// otherwise.
    pub fn with_capacity(capacity: usize) -> Self {
        let core = Arc::new(Core {
            routes: RwLock::new(Arc::new(Routes::build(&[]))),
            routes_version: AtomicU64::new(0),
            subs: Mutex::new(SubRegistry {
                list: Vec::new(),
                next_id: 1,
            }),
            closed: AtomicBool::new(false),
            per_kind: counters(),
            default_capacity: capacity.max(1),
            log: SharedLog {
                state: CachePadded(Mutex::new(LogState {
                    ring: VecDeque::new(),
                    head: 0,
                    closed: false,
                })),
                capacity: capacity.max(1),
                readers: std::sync::atomic::AtomicUsize::new(0),
                has_waiters: AtomicBool::new(false),
                waiters: Mutex::new(Vec::new()),
            },
        });
        EventBus {
            owner: Arc::new(Owner {
                core,
                sources: Mutex::new(Vec::new()),
                next_source: AtomicU64::new(1),
                close_lock: tokio::sync::Mutex::new(()),
            }),
        }
    }

    fn core(&self) -> &Arc<Core> {
        &self.owner.core
    }

    /// Attaches a source: a new task pulls it and publishes its events until it ends, is
    /// stopped, or the bus closes.
    ///
    /// Errors: [`BusError::Closed`] after [`close`](Self::close); [`BusError::NoRuntime`]
    /// outside a tokio runtime. The source is dropped in both cases.
    pub fn attach<S: EventSource>(&self, source: S) -> Result<SourceHandle, BusError> {
        let rt = tokio::runtime::Handle::try_current().map_err(|_| BusError::NoRuntime)?;
        let info = source.describe();
        let mut sources = lock(&self.owner.sources);
        if self.core().closed.load(Ordering::SeqCst) {
            return Err(BusError::Closed);
        }
        // Forget the task handles of sources that finished (their stats stay).
        for e in sources.iter_mut() {
            if e.task.as_ref().is_some_and(JoinHandle::is_finished) {
                e.task = None;
            }
        }
        let id = SourceId(self.owner.next_source.fetch_add(1, Ordering::Relaxed));
        let ctl = Arc::new(SourceCtl {
            id,
            info,
            stop: StopSignal {
                flag: AtomicBool::new(false),
                notify: Notify::new(),
            },
            per_kind: counters(),
            errors: AtomicU64::new(0),
            last_error: Mutex::new(None),
            end: watch::Sender::new(None),
        });
        tracing::debug!(source = %id, name = %ctl.info, "source attached");
        let task = rt.spawn(drive(Arc::clone(self.core()), source, Arc::clone(&ctl)));
        sources.push(SourceEntry {
            ctl: Arc::clone(&ctl),
            task: Some(task),
        });
        Ok(SourceHandle { ctl })
    }

    /// Publishes one event to every subscriber whose filter matches, and returns how many got
    /// it. Lossy subscribers never make this wait; a full lossless subscriber does (see the
    /// [`EventBus`] docs). Errors with [`BusError::Closed`] once the bus is closed.
    ///
    /// Takes an [`Event`] or an `Arc<Event>`.
    pub async fn publish(&self, event: impl Into<Arc<Event>>) -> Result<usize, BusError> {
        let core = self.core();
        if core.closed.load(Ordering::Acquire) {
            return Err(BusError::Closed);
        }
        let ev = event.into();
        let routes = core.routes();
        let (n, full) = core.deliver_now(&routes, &ev);
        drop(routes);
        if full.is_empty() {
            Ok(n)
        } else {
            Ok(n + deliver_blocked(full, &ev).await)
        }
    }

    /// Subscribes to every event, lossy, default capacity.
    pub fn subscribe(&self) -> Subscription {
        self.subscribe_with(Filter::all(), SubscribeOptions::new())
    }

    /// Subscribes to the events `filter` lets through, lossy, default capacity.
    pub fn subscribe_filtered(&self, filter: Filter) -> Subscription {
        self.subscribe_with(filter, SubscribeOptions::new())
    }

    /// Subscribes losslessly to the events `filter` lets through: nothing is ever dropped,
    /// publishers wait instead (see [`EventBus`] for the cost).
    pub fn subscribe_lossless(&self, filter: Filter) -> Subscription {
        self.subscribe_with(filter, SubscribeOptions::new().lossless(true))
    }

    /// Subscribes with a filter and options.
    ///
    /// On a closed bus the subscription starts ended (`recv()` returns `None`).
    pub fn subscribe_with(&self, filter: Filter, options: SubscribeOptions) -> Subscription {
        self.core().subscribe(filter, options)
    }

    /// Subscribes to one kind, as its struct: `bus.subscribe_typed::<ChatEvent>()`.
    pub fn subscribe_typed<T: EventVariant + Clone>(&self) -> TypedSubscription<T> {
        self.subscribe_typed_with(Filter::all(), SubscribeOptions::new())
    }

    /// Subscribes to one kind, as its struct, further restricted by `filter` (its rooms; its
    /// kinds are intersected with `T`'s).
    pub fn subscribe_typed_with<T: EventVariant + Clone>(
        &self,
        filter: Filter,
        options: SubscribeOptions,
    ) -> TypedSubscription<T> {
        TypedSubscription {
            inner: self.subscribe_with(filter.restrict_to_kind(T::KIND), options),
            _kind: std::marker::PhantomData,
        }
    }

    /// Live subscriptions.
    pub fn subscriber_count(&self) -> usize {
        lock(&self.core().subs).list.len()
    }

    /// True once [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.core().closed.load(Ordering::Acquire)
    }

    /// Stops every source, waits for their tasks, then ends every subscription (each drains
    /// what is queued, then sees `None`). Publishing and attaching fail afterwards. Calling
    /// it again waits for the first call and returns.
    ///
    /// If this future is dropped before it completes, the sources still stop; subscriptions
    /// then end when the last clone of the bus is dropped.
    pub async fn close(&self) {
        let _one_at_a_time = self.owner.close_lock.lock().await;
        self.core().closed.store(true, Ordering::SeqCst);
        let tasks: Vec<(SourceId, JoinHandle<()>)> = {
            let mut sources = lock(&self.owner.sources);
            sources
                .iter_mut()
                .filter_map(|e| {
                    e.ctl.stop.stop();
                    e.task.take().map(|t| (e.ctl.id, t))
                })
                .collect()
        };
        for (id, task) in tasks {
            if let Err(e) = task.await {
                // The end guard already recorded it; just say so.
                tracing::warn!(source = %id, error = %e, "source task did not finish cleanly");
            }
        }
        self.core().close_subscribers();
        tracing::debug!("event bus closed");
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> BusStats {
        let core = self.core();
        let sources = lock(&self.owner.sources)
            .iter()
            .map(|e| {
                let ctl = &e.ctl;
                let per_kind = kind_map(&ctl.per_kind);
                let state = match &*ctl.end.borrow() {
                    None => SourceState::Running,
                    Some(SourceEnd::Fatal(err)) => SourceState::Failed(err.clone()),
                    Some(end) => SourceState::Ended(end.clone()),
                };
                SourceStats {
                    id: ctl.id,
                    info: ctl.info.clone(),
                    state,
                    events: per_kind.values().sum(),
                    per_kind,
                    errors: ctl.errors.load(Ordering::Relaxed),
                    last_error: lock(&ctl.last_error).clone(),
                }
            })
            .collect();
        let subs: Vec<Arc<SubShared>> = lock(&core.subs).list.clone();
        let (head, start) = core.log.bounds();
        let mut subscribers: Vec<SubscriberStats> = subs
            .iter()
            .map(|s| {
                if s.log {
                    let cursor = s.cursor.load(Ordering::Relaxed);
                    let pending_lag = start.saturating_sub(cursor);
                    let queued = head.saturating_sub(cursor.max(start));
                    return SubscriberStats {
                        id: s.id,
                        name: s.name.clone(),
                        lossless: false,
                        capacity: s.capacity,
                        queued: usize::try_from(queued).unwrap_or(usize::MAX),
                        enqueued: head.saturating_sub(s.start_seq),
                        dropped: s.log_dropped.load(Ordering::Relaxed) + pending_lag,
                    };
                }
                let st = lock(&s.state);
                SubscriberStats {
                    id: s.id,
                    name: s.name.clone(),
                    lossless: s.lossless,
                    capacity: s.capacity,
                    queued: st.buf.len(),
                    enqueued: st.enqueued,
                    dropped: st.dropped,
                }
            })
            .collect();
        subscribers.sort_by_key(|s| s.id);
        BusStats {
            per_kind: kind_map(&core.per_kind),
            sources,
            subscribers,
        }
    }
}
