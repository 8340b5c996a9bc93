//! The bounded queue between the bus and one output.
//!
//! Every output reads the bus through a lossless subscription drained by a *pump* task that
//! does nothing but move events into the output's [`Inlet`]. The pump never waits on the
//! output's I/O, so a stalled receiver, a locked database or a full disk never holds a source
//! back: once the inlet is full, further events are dropped *and counted*, and the count comes
//! out of the inlet, in its place in the order, as an [`Item::Gap`] that the output writes
//! into itself.

use std::collections::VecDeque;
use std::pin::pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio::task::JoinHandle;
use ttlive_eventbus::{Event, EventBus, Filter, SubscribeOptions};

use crate::instrument;

/// One thing an output takes out of its inlet.
#[derive(Debug, Clone)]
pub(crate) enum Item {
    /// An event, in bus order.
    Event(Arc<Event>),
    /// `missed` events were dropped here because the output fell behind.
    Gap { missed: u64 },
}

struct State {
    buf: VecDeque<Item>,
    /// Events in `buf` (gap markers are not counted against the capacity).
    events: usize,
    closed: bool,
}

/// A bounded, drop-counting queue: filled without ever waiting, drained by one output.
pub(crate) struct Inlet {
    output: Arc<str>,
    capacity: usize,
    state: Mutex<State>,
    cond: Condvar,
    notify: Notify,
}

impl Inlet {
    pub(crate) fn new(output: impl Into<Arc<str>>, capacity: usize) -> Arc<Inlet> {
        Arc::new(Inlet {
            output: output.into(),
            capacity: capacity.max(1),
            state: Mutex::new(State {
                buf: VecDeque::new(),
                events: 0,
                closed: false,
            }),
            cond: Condvar::new(),
            notify: Notify::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        crate::lock(&self.state)
    }

    /// Queues an event, or counts it as dropped when the queue is full. Never waits.
    pub(crate) fn push(&self, event: Arc<Event>) {
        let mut st = self.lock();
        if st.closed {
            return;
        }
        if st.events >= self.capacity {
            Self::add_gap(&mut st, 1);
            drop(st);
            instrument::dropped(&self.output, 1);
        } else {
            st.buf.push_back(Item::Event(event));
            st.events += 1;
            let len = st.events;
            drop(st);
            instrument::queue_len(&self.output, len);
        }
        self.cond.notify_one();
        self.notify.notify_one();
    }

    /// Records `missed` events lost before this point (the bus told the pump it lagged).
    pub(crate) fn push_gap(&self, missed: u64) {
        let mut st = self.lock();
        Self::add_gap(&mut st, missed);
        drop(st);
        instrument::dropped(&self.output, missed);
        self.cond.notify_one();
        self.notify.notify_one();
    }

    fn add_gap(st: &mut State, missed: u64) {
        match st.buf.back_mut() {
            Some(Item::Gap { missed: m }) => *m += missed,
            _ => st.buf.push_back(Item::Gap { missed }),
        }
    }

    /// No more events: readers drain what is queued, then see the end.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.cond.notify_all();
        self.notify.notify_waiters();
        self.notify.notify_one();
    }

    fn take(&self, st: &mut State, max: usize) -> Vec<Item> {
        let n = st.buf.len().min(max.max(1));
        let items: Vec<Item> = st.buf.drain(..n).collect();
        st.events -= items.iter().filter(|i| matches!(i, Item::Event(_))).count();
        instrument::queue_len(&self.output, st.events);
        items
    }

    /// Up to `max` items; waits for at least one. `None` once closed and drained.
    pub(crate) async fn recv_batch(&self, max: usize) -> Option<Vec<Item>> {
        loop {
            let mut notified = pin!(self.notify.notified());
            notified.as_mut().enable();
            {
                let mut st = self.lock();
                if !st.buf.is_empty() {
                    return Some(self.take(&mut st, max));
                }
                if st.closed {
                    return None;
                }
            }
            notified.await;
        }
    }

    /// Blocking form of [`recv_batch`](Self::recv_batch) for outputs on a thread of their
    /// own: waits at most `wait` for the first item, then keeps collecting until `max` items
    /// or `linger` after the first one. `Some(empty)` when nothing came in time.
    pub(crate) fn recv_batch_blocking(
        &self,
        max: usize,
        wait: Duration,
        linger: Duration,
    ) -> Option<Vec<Item>> {
        let mut st = self.lock();
        let deadline = Instant::now() + wait;
        while st.buf.is_empty() {
            if st.closed {
                return None;
            }
            let now = Instant::now();
            if now >= deadline {
                return Some(Vec::new());
            }
            st = self
                .cond
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        let full_by = Instant::now() + linger;
        while st.buf.len() < max && !st.closed {
            let now = Instant::now();
            if now >= full_by {
                break;
            }
            st = self
                .cond
                .wait_timeout(st, full_by - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        Some(self.take(&mut st, max))
    }

    /// True once the pump stopped (the bus closed).
    pub(crate) fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Events queued now.
    pub(crate) fn len(&self) -> usize {
        self.lock().events
    }
}

/// Events (not gap markers) among `items`.
pub(crate) fn event_count(items: &[Item]) -> u64 {
    items.iter().filter(|i| matches!(i, Item::Event(_))).count() as u64
}

/// Events the gap markers among `items` stand for.
pub(crate) fn gap_count(items: &[Item]) -> u64 {
    items
        .iter()
        .map(|i| match i {
            Item::Gap { missed } => *missed,
            Item::Event(_) => 0,
        })
        .sum()
}

/// How a writer thread drains its inlet.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Drain {
    /// Items per batch at most.
    pub(crate) max: usize,
    /// How long a batch waits to fill after its first item.
    pub(crate) linger: Duration,
    /// After the inlet closed, how long a failing write is retried before giving up.
    pub(crate) grace: Duration,
}

/// The loop of an output that writes on a thread of its own (archive, files): takes batches
/// from `inlet` and calls `write` until each goes through, pausing between failures (50 ms,
/// doubling up to 5 s) and telling `failed` of each (with the batch size). A batch is never
/// dropped while the inlet is open; meanwhile new events queue up, and those that do not fit
/// come out later as a gap. Returns when the inlet is closed and drained (0), or when writes
/// kept failing for `grace` after it closed: then the number of events given up.
pub(crate) fn drain_blocking<E>(
    inlet: &Inlet,
    drain: Drain,
    mut write: impl FnMut(&[Item]) -> Result<(), E>,
    mut failed: impl FnMut(&E, usize),
) -> u64 {
    let mut pending: Vec<Item> = Vec::new();
    let mut pause = Duration::from_millis(50);
    let mut failing_since_close: Option<Instant> = None;
    loop {
        if pending.is_empty() {
            match inlet.recv_batch_blocking(drain.max, Duration::from_secs(1), drain.linger) {
                None => return 0,
                Some(items) => pending = items,
            }
            if pending.is_empty() {
                continue;
            }
        }
        match write(&pending) {
            Ok(()) => {
                pending.clear();
                pause = Duration::from_millis(50);
                failing_since_close = None;
            }
            Err(e) => {
                failed(&e, pending.len());
                if inlet.is_closed() {
                    let since = *failing_since_close.get_or_insert_with(Instant::now);
                    if since.elapsed() >= drain.grace {
                        return event_count(&pending) + inlet.len() as u64;
                    }
                }
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// Subscribes `inlet` to `bus` (losslessly, `filter`ed) and spawns the pump that fills it.
/// The subscription is made before this returns, so nothing published afterwards is missed.
/// The pump ends, closing the inlet, when the bus closes.
pub(crate) fn pump(bus: &EventBus, filter: Filter, inlet: Arc<Inlet>) -> JoinHandle<()> {
    let mut sub = bus.subscribe_with(
        filter,
        SubscribeOptions::new()
            .lossless(true)
            .capacity(256)
            .name(format!("output:{}", inlet.output)),
    );
    tokio::spawn(async move {
        while let Some(item) = sub.recv().await {
            match item {
                Ok(event) => inlet.push(event),
                Err(lagged) => inlet.push_gap(lagged.0),
            }
        }
        inlet.close();
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ttlive_eventbus::ChatEvent;

    fn ev(n: u64) -> Arc<Event> {
        let mut c = ChatEvent::default();
        c.meta.msg_id = n;
        Arc::new(c.into())
    }

    fn ids(items: &[Item]) -> Vec<String> {
        items
            .iter()
            .map(|i| match i {
                Item::Event(e) => e.msg_id().to_string(),
                Item::Gap { missed } => format!("gap{missed}"),
            })
            .collect()
    }

    #[test]
    fn a_full_inlet_counts_drops_and_reports_them_in_order() {
        let inlet = Inlet::new("t", 2);
        for n in 1..=5 {
            inlet.push(ev(n));
        }
        let first = inlet
            .recv_batch_blocking(1, Duration::ZERO, Duration::ZERO)
            .unwrap();
        assert_eq!(ids(&first), ["1"]);
        inlet.push(ev(6));
        inlet.push(ev(7));
        inlet.close();
        let rest = inlet
            .recv_batch_blocking(10, Duration::ZERO, Duration::ZERO)
            .unwrap();
        assert_eq!(ids(&rest), ["2", "gap3", "6", "gap1"]);
        assert!(
            inlet
                .recv_batch_blocking(10, Duration::ZERO, Duration::ZERO)
                .is_none()
        );
    }

    #[tokio::test]
    async fn async_readers_wake_on_push_and_end_on_close() {
        let inlet = Inlet::new("t", 8);
        let reader = {
            let inlet = Arc::clone(&inlet);
            tokio::spawn(async move {
                let mut got = Vec::new();
                while let Some(batch) = inlet.recv_batch(4).await {
                    got.extend(ids(&batch));
                }
                got
            })
        };
        for n in 1..=3 {
            inlet.push(ev(n));
            tokio::task::yield_now().await;
        }
        inlet.close();
        assert_eq!(reader.await.unwrap(), ["1", "2", "3"]);
    }
}
