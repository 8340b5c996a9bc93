//! [`ScriptedSource`]: a source that plays a fixed script, for tests, examples and demos.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use crate::error::SourceError;
use crate::event::Event;
use crate::source::{EventSource, SourceEnd, SourceInfo, SourceItem};

/// One step of a [`ScriptedSource`]'s script.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)]
pub enum Step {
    /// Yield this event.
    Event(Event),
    /// Yield this recoverable error.
    Error(SourceError),
    /// Wait this long (tokio time, so paused-time tests run instantly).
    Delay(Duration),
    /// End with this; later steps are never reached.
    End(SourceEnd),
    /// Never yield again: `next()` stays pending forever (a live source with nothing to say).
    Hang,
}

/// A source that plays a script: events, errors, delays, then an end.
///
/// A script that runs out without an explicit [`Step::End`] ends with [`SourceEnd::Finished`].
/// After the end, `next()` returns the same end forever.
///
/// `ScriptedSource` is fully **cancel-safe**: dropping a pending `next()` loses nothing (a
/// delay that was interrupted resumes towards the same deadline), so it can be used in any
/// `select!` loop.
///
/// ```
/// # use ttlive_eventbus::{ScriptedSource, ChatEvent, SourceError};
/// # use std::time::Duration;
/// let source = ScriptedSource::new("demo")
///     .room(7)
///     .event(ChatEvent { comment: "hi".into(), ..ChatEvent::default() })
///     .delay(Duration::from_millis(10))
///     .error(SourceError::decode("bad frame"))
///     .finished();
/// ```
#[derive(Debug)]
pub struct ScriptedSource {
    info: SourceInfo,
    steps: VecDeque<Step>,
    deadline: Option<Instant>,
    end: Option<SourceEnd>,
    drop_flag: Option<Arc<AtomicBool>>,
}

impl ScriptedSource {
    /// An empty script named `name`.
    pub fn new(name: impl Into<String>) -> Self {
        ScriptedSource {
            info: SourceInfo::new(name),
            steps: VecDeque::new(),
            deadline: None,
            end: None,
            drop_flag: None,
        }
    }

    /// A script from steps.
    pub fn from_steps(name: impl Into<String>, steps: impl IntoIterator<Item = Step>) -> Self {
        let mut s = Self::new(name);
        s.steps.extend(steps);
        s
    }

    /// Says which room the source reads (for [`EventSource::describe`]).
    pub fn room(mut self, room_id: u64) -> Self {
        self.info.room_id = Some(room_id);
        self
    }

    /// Appends a step.
    pub fn step(mut self, step: Step) -> Self {
        self.steps.push_back(step);
        self
    }

    /// Appends an event.
    pub fn event(self, event: impl Into<Event>) -> Self {
        self.step(Step::Event(event.into()))
    }

    /// Appends events.
    pub fn events<E: Into<Event>>(mut self, events: impl IntoIterator<Item = E>) -> Self {
        self.steps
            .extend(events.into_iter().map(|e| Step::Event(e.into())));
        self
    }

    /// Appends a recoverable error.
    pub fn error(self, error: SourceError) -> Self {
        self.step(Step::Error(error))
    }

    /// Appends a pause.
    pub fn delay(self, delay: Duration) -> Self {
        self.step(Step::Delay(delay))
    }

    /// Ends the script with `end`.
    pub fn end(self, end: SourceEnd) -> Self {
        self.step(Step::End(end))
    }

    /// Ends the script with [`SourceEnd::Finished`].
    pub fn finished(self) -> Self {
        self.end(SourceEnd::Finished)
    }

    /// Ends the script with [`SourceEnd::StreamEnded`].
    pub fn stream_ended(self) -> Self {
        self.end(SourceEnd::StreamEnded)
    }

    /// Ends the script with a fatal error.
    pub fn fatal(self, error: SourceError) -> Self {
        self.end(SourceEnd::Fatal(error))
    }

    /// Makes `next()` pend forever after the steps so far (a live source that goes quiet).
    pub fn hang(self) -> Self {
        self.step(Step::Hang)
    }

    /// Sets `flag` to true when the source is dropped (to test that consumers drop it).
    pub fn with_drop_flag(mut self, flag: Arc<AtomicBool>) -> Self {
        self.drop_flag = Some(flag);
        self
    }

    /// Steps not played yet.
    pub fn remaining(&self) -> usize {
        self.steps.len()
    }
}

#[async_trait]
impl EventSource for ScriptedSource {
    async fn next(&mut self) -> SourceItem {
        loop {
            if let Some(end) = &self.end {
                return SourceItem::End(end.clone());
            }
            // Only pop a step once its item is returned (synchronously), so a dropped future
            // loses nothing; a delay remembers its deadline across cancellations.
            match self.steps.front() {
                None => {
                    self.end = Some(SourceEnd::Finished);
                }
                Some(Step::Delay(d)) => {
                    let deadline = *self.deadline.get_or_insert_with(|| Instant::now() + *d);
                    tokio::time::sleep_until(deadline).await;
                    self.deadline = None;
                    self.steps.pop_front();
                }
                Some(Step::Hang) => std::future::pending::<()>().await,
                Some(_) => match self.steps.pop_front() {
                    Some(Step::Event(e)) => return SourceItem::Event(e),
                    Some(Step::Error(e)) => return SourceItem::Error(e),
                    Some(Step::End(end)) => {
                        self.steps.clear();
                        self.end = Some(end);
                    }
                    _ => {}
                },
            }
        }
    }

    fn describe(&self) -> SourceInfo {
        self.info.clone()
    }
}

impl Drop for ScriptedSource {
    fn drop(&mut self) {
        if let Some(flag) = &self.drop_flag {
            flag.store(true, Ordering::SeqCst);
        }
    }
}
