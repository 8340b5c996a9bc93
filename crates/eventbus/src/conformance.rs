//! The [`EventSource`] conformance suite: every source crate runs it on its sources.
//!
//! ```ignore
//! use ttlive_eventbus::conformance::{Conformance, Expected};
//!
//! #[tokio::test(start_paused = true)]
//! async fn replay_source_conforms() {
//!     let report = Conformance::new()
//!         .expect_items(vec![Expected::event(first), Expected::end_finished()])
//!         .run(|| ReplaySource::open(&path).unwrap())
//!         .await
//!         .expect("conformance");
//!     assert!(report.events > 0);
//! }
//! ```
//!
//! The suite needs a factory that builds a fresh source each time it is called (it runs the
//! source several times). It checks:
//!
//! | check | what |
//! |---|---|
//! | `describe` | `describe()` answers with a non-empty name |
//! | `drain` | `next()` resolves within the item timeout every time and reaches an end within `max_items` |
//! | `expected` | (with [`Conformance::expect_items`]) events come in the expected order with the expected content, errors with the expected kinds, then the expected end |
//! | `end_repeats` | after the end, `next()` returns the same end again, at once, several times |
//! | `deterministic` | (unless [`Conformance::nondeterministic`]) a second fresh source yields the same sequence |
//! | `cancel` | dropping a pending `next()` after 0, 1, half and all items, then dropping the source, is clean: nothing hangs, no task is left alive |
//! | `cancel_safe` | (with [`Conformance::cancel_safe`]) after such a drop the source goes on without losing or repeating anything |
//! | `bus` | attached to an [`EventBus`] with a small lossless subscriber, every event reaches the subscriber in order, the errors are counted, and the handle reports the same end |
//! | `bus_stop` | a source stopped through its handle right after attaching ends promptly and leaves no task behind |
//!
//! Time: every wait is a tokio timer, so the suite works under paused time
//! (`#[tokio::test(start_paused = true)]`), which makes sources with delays run instantly.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use crate::bus::Filter;
use crate::bus::{EventBus, SourceState, SubscribeOptions};
use crate::error::SourceErrorKind;
use crate::event::Event;
use crate::source::{EventSource, SourceEnd, SourceItem};

/// One item the suite expects, in order.
#[derive(Debug, Clone)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)]
pub enum Expected {
    /// This exact event.
    Event(Event),
    /// An event that satisfies this predicate (when exact content is not known).
    EventMatching(fn(&Event) -> bool),
    /// A recoverable error of this kind.
    Error(SourceErrorKind),
    /// The end: same variant (and, for `Fatal`, the same error kind).
    End(SourceEnd),
}

impl Expected {
    /// An exact event.
    pub fn event(e: impl Into<Event>) -> Self {
        Expected::Event(e.into())
    }

    /// [`SourceEnd::Finished`].
    pub fn end_finished() -> Self {
        Expected::End(SourceEnd::Finished)
    }

    fn matches(&self, item: &SourceItem) -> bool {
        match (self, item) {
            (Expected::Event(a), SourceItem::Event(b)) => a == b,
            (Expected::EventMatching(f), SourceItem::Event(b)) => f(b),
            (Expected::Error(k), SourceItem::Error(e)) => *k == e.kind(),
            (Expected::End(a), SourceItem::End(b)) => same_end(a, b),
            _ => false,
        }
    }
}

/// A failed conformance check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("conformance check `{check}` failed: {detail}")]
pub struct ConformanceFailure {
    /// The check's name (see the module docs).
    pub check: &'static str,
    /// What was wrong.
    pub detail: String,
}

/// What a passing run saw.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ConformanceReport {
    /// Items before the end.
    pub items: usize,
    /// Events among them.
    pub events: usize,
    /// Recoverable errors among them.
    pub errors: usize,
    /// How the source ended.
    pub end: SourceEnd,
    /// The checks that ran (and passed).
    pub checks: Vec<&'static str>,
}

/// The suite's settings; [`run`](Conformance::run) runs it.
#[derive(Debug, Clone)]
pub struct Conformance {
    expected: Option<Vec<Expected>>,
    max_items: usize,
    item_timeout: Duration,
    end_repeats: usize,
    deterministic: bool,
    cancel_safe: bool,
}

impl Default for Conformance {
    fn default() -> Self {
        Self::new()
    }
}

fn fail(check: &'static str, detail: impl Into<String>) -> ConformanceFailure {
    ConformanceFailure {
        check,
        detail: detail.into(),
    }
}

fn same_end(a: &SourceEnd, b: &SourceEnd) -> bool {
    match (a, b) {
        (SourceEnd::Fatal(x), SourceEnd::Fatal(y)) => x.kind() == y.kind(),
        _ => std::mem::discriminant(a) == std::mem::discriminant(b),
    }
}

fn describe_item(item: &SourceItem) -> String {
    match item {
        SourceItem::Event(e) => format!("event {} (msg_id {})", e.name(), e.msg_id()),
        SourceItem::Error(e) => format!("error {e}"),
        SourceItem::End(e) => format!("end {e}"),
    }
}

fn alive_tasks() -> usize {
    tokio::runtime::Handle::try_current()
        .map(|h| h.metrics().num_alive_tasks())
        .unwrap_or(0)
}

impl Conformance {
    /// Defaults: no expected items, at most 1,000,000 items, 10 s per item, 3 end repeats,
    /// deterministic, not claimed cancel-safe.
    pub fn new() -> Self {
        Conformance {
            expected: None,
            max_items: 1_000_000,
            item_timeout: Duration::from_secs(10),
            end_repeats: 3,
            deterministic: true,
            cancel_safe: false,
        }
    }

    /// The exact sequence the source must yield, end included.
    pub fn expect_items(mut self, items: Vec<Expected>) -> Self {
        self.expected = Some(items);
        self
    }

    /// Fails when the source yields more items than this without ending.
    pub fn max_items(mut self, n: usize) -> Self {
        self.max_items = n;
        self
    }

    /// Longest wait for one `next()` (tokio time).
    pub fn item_timeout(mut self, d: Duration) -> Self {
        self.item_timeout = d;
        self
    }

    /// The source may yield different sequences on different runs (skips the `deterministic`
    /// check, and the bus check compares counts instead of content).
    pub fn nondeterministic(mut self) -> Self {
        self.deterministic = false;
        self
    }

    /// Also checks that the source is fully cancel-safe (see [`EventSource`]'s docs).
    pub fn cancel_safe(mut self) -> Self {
        self.cancel_safe = true;
        self
    }

    async fn next_within<S: EventSource>(
        &self,
        check: &'static str,
        source: &mut S,
        index: usize,
    ) -> Result<SourceItem, ConformanceFailure> {
        tokio::time::timeout(self.item_timeout, source.next())
            .await
            .map_err(|_| {
                fail(
                    check,
                    format!(
                        "next() #{index} did not resolve within {:?}",
                        self.item_timeout
                    ),
                )
            })
    }

    /// Pulls a source to its end; returns the items before the end, and the end.
    async fn drain<S: EventSource>(
        &self,
        check: &'static str,
        source: &mut S,
    ) -> Result<(Vec<SourceItem>, SourceEnd), ConformanceFailure> {
        let mut items = Vec::new();
        loop {
            if items.len() > self.max_items {
                return Err(fail(
                    check,
                    format!("no end after {} items", self.max_items),
                ));
            }
            match self.next_within(check, source, items.len()).await? {
                SourceItem::End(end) => return Ok((items, end)),
                other => items.push(other),
            }
        }
    }

    async fn tasks_settle(
        &self,
        check: &'static str,
        baseline: usize,
    ) -> Result<(), ConformanceFailure> {
        let deadline = tokio::time::Instant::now() + self.item_timeout;
        loop {
            let alive = alive_tasks();
            if alive <= baseline {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(fail(
                    check,
                    format!("{alive} tasks alive after the source was dropped, {baseline} before"),
                ));
            }
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// Runs every check on sources built by `make`.
    pub async fn run<S, F>(&self, mut make: F) -> Result<ConformanceReport, ConformanceFailure>
    where
        S: EventSource,
        F: FnMut() -> S,
    {
        let mut checks = Vec::new();

        // describe
        let mut source = make();
        let info = source.describe();
        if info.name.is_empty() {
            return Err(fail("describe", "describe() gave an empty name"));
        }
        checks.push("describe");

        // drain
        let (items, end) = self.drain("drain", &mut source).await?;
        checks.push("drain");

        // expected
        if let Some(expected) = &self.expected {
            let mut got: Vec<SourceItem> = items.clone();
            got.push(SourceItem::End(end.clone()));
            for (i, (want, have)) in expected.iter().zip(&got).enumerate() {
                if !want.matches(have) {
                    return Err(fail(
                        "expected",
                        format!("item #{i}: expected {want:?}, got {}", describe_item(have)),
                    ));
                }
            }
            if expected.len() != got.len() {
                return Err(fail(
                    "expected",
                    format!(
                        "expected {} items (end included), got {}",
                        expected.len(),
                        got.len()
                    ),
                ));
            }
            checks.push("expected");
        }

        // end_repeats
        for i in 0..self.end_repeats {
            match self
                .next_within("end_repeats", &mut source, items.len() + 1 + i)
                .await?
            {
                SourceItem::End(again) if same_end(&again, &end) => {}
                other => {
                    return Err(fail(
                        "end_repeats",
                        format!(
                            "call #{} after the end ({end}) gave {}",
                            i + 1,
                            describe_item(&other)
                        ),
                    ));
                }
            }
        }
        drop(source);
        checks.push("end_repeats");

        // deterministic
        if self.deterministic {
            let mut again = make();
            let (items2, end2) = self.drain("deterministic", &mut again).await?;
            if items2 != items || !same_end(&end2, &end) {
                let at = items
                    .iter()
                    .zip(&items2)
                    .position(|(a, b)| a != b)
                    .unwrap_or(items.len().min(items2.len()));
                return Err(fail(
                    "deterministic",
                    format!(
                        "a second source differs at item #{at} ({} items then {end2} vs {} items then {end})",
                        items2.len(),
                        items.len()
                    ),
                ));
            }
            checks.push("deterministic");
        }

        // cancel (and cancel_safe)
        let mut positions = vec![0, 1, items.len() / 2, items.len()];
        positions.dedup();
        for &pos in positions.iter().filter(|p| **p <= items.len()) {
            let baseline = alive_tasks();
            let mut source = make();
            let mut seen = Vec::new();
            for i in 0..pos {
                match self.next_within("cancel", &mut source, i).await? {
                    SourceItem::End(_) => break,
                    item => seen.push(item),
                }
            }
            // Start next(), poll it once, drop it.
            let first = {
                let mut fut = pin!(source.next());
                poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx))).await
            };
            if self.cancel_safe && self.deterministic {
                let mut rest_end = None;
                match first {
                    Poll::Ready(SourceItem::End(e)) => rest_end = Some(e),
                    Poll::Ready(item) => seen.push(item),
                    Poll::Pending => {}
                }
                let end_after = match rest_end {
                    Some(e) => e,
                    None => {
                        let (rest, e) = self.drain("cancel_safe", &mut source).await?;
                        seen.extend(rest);
                        e
                    }
                };
                if seen != items || !same_end(&end_after, &end) {
                    return Err(fail(
                        "cancel_safe",
                        format!(
                            "after dropping next() at item #{pos} the source yielded {} items then {end_after}, expected {} then {end}",
                            seen.len(),
                            items.len()
                        ),
                    ));
                }
            }
            drop(source);
            self.tasks_settle("cancel", baseline).await?;
        }
        checks.push("cancel");
        if self.cancel_safe && self.deterministic {
            checks.push("cancel_safe");
        }

        // bus
        self.bus_check(&mut make, &items, &end).await?;
        checks.push("bus");

        // bus_stop
        let baseline = alive_tasks();
        {
            let bus = EventBus::new();
            let _sub = bus.subscribe();
            let handle = bus
                .attach(make())
                .map_err(|e| fail("bus_stop", format!("attach failed: {e}")))?;
            let got = tokio::time::timeout(self.item_timeout, handle.stop_and_join())
                .await
                .map_err(|_| fail("bus_stop", "the source did not stop in time"))?;
            if !(matches!(got, SourceEnd::Stopped) || same_end(&got, &end)) {
                return Err(fail(
                    "bus_stop",
                    format!("a stopped source ended with {got}, expected stopped or {end}"),
                ));
            }
            tokio::time::timeout(self.item_timeout, bus.close())
                .await
                .map_err(|_| fail("bus_stop", "closing the bus did not finish in time"))?;
        }
        self.tasks_settle("bus_stop", baseline).await?;
        checks.push("bus_stop");

        Ok(ConformanceReport {
            items: items.len(),
            events: items
                .iter()
                .filter(|i| matches!(i, SourceItem::Event(_)))
                .count(),
            errors: items
                .iter()
                .filter(|i| matches!(i, SourceItem::Error(_)))
                .count(),
            end,
            checks,
        })
    }

    async fn bus_check<S, F>(
        &self,
        make: &mut F,
        items: &[SourceItem],
        end: &SourceEnd,
    ) -> Result<(), ConformanceFailure>
    where
        S: EventSource,
        F: FnMut() -> S,
    {
        let baseline = alive_tasks();
        let bus = EventBus::new();
        // A tiny lossless queue exercises backpressure on the source task.
        let mut sub = bus.subscribe_with(
            Filter::all(),
            SubscribeOptions::new()
                .lossless(true)
                .capacity(4)
                .name("conformance"),
        );
        let handle = bus
            .attach(make())
            .map_err(|e| fail("bus", format!("attach failed: {e}")))?;
        let collect = async {
            let mut got = Vec::new();
            while let Some(r) = sub.recv().await {
                match r {
                    Ok(ev) => got.push(ev),
                    Err(lag) => {
                        return Err(fail("bus", format!("a lossless subscriber lagged: {lag}")));
                    }
                }
            }
            Ok(got)
        };
        let finish = async {
            let bus_end = handle.join().await;
            let stats = bus.stats();
            bus.close().await;
            (bus_end, stats)
        };
        let budget = self
            .item_timeout
            .checked_mul(u32::try_from(items.len().saturating_add(1)).unwrap_or(u32::MAX))
            .unwrap_or(Duration::MAX);
        let (got, (bus_end, stats)) =
            tokio::time::timeout(budget, async { tokio::join!(collect, finish) })
                .await
                .map_err(|_| {
                    fail(
                        "bus",
                        "the source did not run to its end on the bus in time",
                    )
                })?;
        let got = got?;
        if !same_end(&bus_end, end) {
            return Err(fail(
                "bus",
                format!("the handle reported {bus_end}, the source ended with {end}"),
            ));
        }
        let want_events: Vec<&Event> = items
            .iter()
            .filter_map(|i| match i {
                SourceItem::Event(e) => Some(e),
                _ => None,
            })
            .collect();
        let want_errors = items
            .iter()
            .filter(|i| matches!(i, SourceItem::Error(_)))
            .count() as u64;
        let src = stats
            .sources
            .first()
            .ok_or_else(|| fail("bus", "no source in the stats"))?;
        if self.deterministic {
            if got.len() != want_events.len() {
                return Err(fail(
                    "bus",
                    format!(
                        "subscriber got {} events, the source yields {}",
                        got.len(),
                        want_events.len()
                    ),
                ));
            }
            if let Some(i) = got.iter().zip(&want_events).position(|(a, b)| **a != **b) {
                return Err(fail(
                    "bus",
                    format!("event #{i} differs or is out of order on the bus"),
                ));
            }
            if src.errors != want_errors {
                return Err(fail(
                    "bus",
                    format!(
                        "stats count {} errors, the source yields {want_errors}",
                        src.errors
                    ),
                ));
            }
        }
        if src.events != got.len() as u64 {
            return Err(fail(
                "bus",
                format!(
                    "stats count {} events, the subscriber got {}",
                    src.events,
                    got.len()
                ),
            ));
        }
        let state_ok = match (&src.state, end) {
            (SourceState::Failed(e), SourceEnd::Fatal(f)) => e.kind() == f.kind(),
            (SourceState::Ended(a), b) => same_end(a, b),
            _ => false,
        };
        if !state_ok {
            return Err(fail(
                "bus",
                format!("stats say {:?}, the source ended with {end}", src.state),
            ));
        }
        drop(sub);
        drop(bus);
        self.tasks_settle("bus", baseline).await
    }
}
