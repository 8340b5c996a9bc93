//! The seam for outputs ([`Output`]: feeds, webhooks, archives attach to the service's bus),
//! and the simplest output: every event as one JSON line ([`JsonLines`], what `serve --json`
//! prints), the same object `watch --json` prints.

use std::future::Future;
use std::pin::Pin;

use axum::Router;
use tokio::io::{AsyncWrite, AsyncWriteExt, BufWriter};
use ttlive_eventbus::{EventBus, Filter, SubscribeOptions};

/// What an output's task returns when it stops with an error.
pub type OutputError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The task of a started output: it delivers until the bus closes, flushes, and returns.
pub type OutputTask = Pin<Box<dyn Future<Output = Result<(), OutputError>> + Send + 'static>>;

/// Something that carries events out of the service (a feed, a webhook, an archive).
///
/// The service starts every output before any room, so nothing is missed: [`start`] subscribes
/// to the bus and returns the task that reads the subscription. At shutdown the bus closes after
/// the rooms stopped; the task drains what is queued, flushes, and returns, within the
/// shutdown grace.
///
/// [`start`]: Output::start
pub trait Output: Send + 'static {
    /// A name for logs and the shutdown report.
    fn name(&self) -> String;

    /// Routes it serves on the service's listener (behind the same token), if any. Called once,
    /// before [`start`](Output::start).
    fn routes(&mut self) -> Option<Router> {
        None
    }

    /// Subscribes to `bus` and returns the delivering task (the service spawns it).
    fn start(self: Box<Self>, bus: &EventBus) -> OutputTask;
}

/// Every event as one JSON line on a writer (stdout for `serve --json`). Lossless: a slow
/// reader slows the rooms down rather than lose an event. Lines are flushed whenever the queue
/// runs dry, and at the end.
pub struct JsonLines<W> {
    writer: W,
    filter: Filter,
}

impl<W> std::fmt::Debug for JsonLines<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonLines")
            .field("filter", &self.filter)
            .finish_non_exhaustive()
    }
}

impl JsonLines<tokio::io::Stdout> {
    /// To stdout.
    pub fn stdout() -> Self {
        JsonLines::new(tokio::io::stdout())
    }
}

impl<W: AsyncWrite + Unpin + Send + 'static> JsonLines<W> {
    /// To `writer`.
    pub fn new(writer: W) -> Self {
        JsonLines {
            writer,
            filter: Filter::all(),
        }
    }

    /// Only the events `filter` lets through.
    pub fn filter(mut self, filter: Filter) -> Self {
        self.filter = filter;
        self
    }
}

impl<W: AsyncWrite + Unpin + Send + 'static> Output for JsonLines<W> {
    fn name(&self) -> String {
        "json-lines".into()
    }

    fn start(self: Box<Self>, bus: &EventBus) -> OutputTask {
        let mut sub = bus.subscribe_with(
            self.filter.clone(),
            SubscribeOptions::new().lossless(true).name("json-lines"),
        );
        let mut out = BufWriter::new(self.writer);
        Box::pin(async move {
            let mut line = Vec::with_capacity(512);
            while let Some(item) = sub.recv().await {
                // Lossless: no lag notices come.
                let Ok(ev) = item else { continue };
                line.clear();
                serde_json::to_writer(&mut line, &*ev)?;
                line.push(b'\n');
                out.write_all(&line).await?;
                if sub.is_empty() {
                    out.flush().await?;
                }
            }
            out.flush().await?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ttlive_eventbus::{ChatEvent, Event};

    #[tokio::test]
    async fn every_event_becomes_one_line_and_all_are_flushed_at_the_end() {
        let bus = EventBus::new();
        let (mut read, write) = tokio::io::duplex(1 << 16);
        let task = Box::new(JsonLines::new(write)).start(&bus);
        let task = tokio::spawn(task);
        for i in 0..3 {
            bus.publish(Event::Chat(ChatEvent {
                comment: format!("hello {i}"),
                ..ChatEvent::default()
            }))
            .await
            .unwrap();
        }
        bus.close().await;
        task.await.unwrap().unwrap();
        let mut text = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut read, &mut text)
            .await
            .unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[2]["type"], "chat");
        assert_eq!(lines[2]["comment"], "hello 2");
    }
}
