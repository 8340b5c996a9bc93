//! Metrics: counters and histograms through the `metrics` facade (exported by
//! `metrics-exporter-prometheus` at `GET /metrics`), and the series that describe the present
//! (rooms by state, zombie rooms, bus queues, budget buckets, per-room series) computed from
//! the service's state at each scrape, so a room's or a subscriber's series go when it goes.
//!
//! | series | type | labels |
//! |---|---|---|
//! | `ttlive_events_total` | counter | `kind` |
//! | `ttlive_event_latency_seconds` | histogram | (TikTok's `create_time` to publish; history excluded) |
//! | `ttlive_connects_total`, `ttlive_reconnects_total` | counter | |
//! | `ttlive_source_errors_total` | counter | `kind` (`decode`, `network`, …) |
//! | `ttlive_decode_errors_total` | counter | `method` |
//! | `ttlive_refusals_total` | counter | `reason` |
//! | `ttlive_sign_calls_total` | counter | `server`, `outcome` |
//! | `ttlive_detect_lookups_total`, `ttlive_detect_live_checks_total` | counter | `outcome` |
//! | `ttlive_detect_rooms_checked_total` | counter | |
//! | `ttlive_budget_tokens_total` | counter | `spend`, `egress` |
//! | `ttlive_api_requests_total` | counter | `route`, `status` |
//! | `ttlive_rooms` | gauge | `state` |
//! | `ttlive_zombie_rooms` | gauge | (live rooms with nothing received for longer than the stall timeout) |
//! | `ttlive_bus_published_total` | counter | `kind` |
//! | `ttlive_bus_subscriber_queued`, `ttlive_bus_subscriber_dropped_total` | gauge, counter | `subscriber` |
//! | `ttlive_budget_waiting`, `ttlive_budget_available` | gauge | `spend`, `egress` |
//! | `ttlive_room_events_total`, `ttlive_room_state`, `ttlive_room_last_event_seconds` | per room, with `metrics.per_room` | `user` (and `kind`, `state`) |

use std::collections::HashSet;
use std::fmt::Write as _;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use metrics::{Counter, Histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use ttlive_eventbus::{BusStats, EventKind, RoomState, SourceError};
use ttlive_source_tiktok::TikTokError;

use crate::budget::BucketSnapshot;
use crate::room::RoomSnapshot;

/// Latency histogram buckets, seconds.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Distinct `method` labels kept before the rest count as `other`.
const MAX_METHOD_LABELS: usize = 64;

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process's Prometheus recorder: installed as the global `metrics` recorder the first time
/// this is called. `None` when another recorder was installed first (the embedding application
/// owns metrics then, and `/metrics` says so).
pub fn prometheus() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = match PrometheusBuilder::new().set_buckets(LATENCY_BUCKETS) {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, "metrics buckets refused; using summaries");
                    PrometheusBuilder::new()
                }
            };
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            match metrics::set_global_recorder(recorder) {
                Ok(()) => {
                    describe();
                    Some(handle)
                }
                Err(_) => {
                    tracing::warn!("another metrics recorder is installed; /metrics is not served");
                    None
                }
            }
        })
        .clone()
}

fn describe() {
    metrics::describe_counter!(
        "ttlive_events_total",
        "Events published on the bus, by kind"
    );
    metrics::describe_histogram!(
        "ttlive_event_latency_seconds",
        metrics::Unit::Seconds,
        "TikTok's create_time to publish on the bus"
    );
    metrics::describe_counter!("ttlive_connects_total", "Connections established");
    metrics::describe_counter!(
        "ttlive_reconnects_total",
        "Reconnect attempts inside sessions"
    );
    metrics::describe_counter!(
        "ttlive_source_errors_total",
        "Recoverable and fatal source errors, by kind"
    );
    metrics::describe_counter!(
        "ttlive_decode_errors_total",
        "Messages that did not decode, by method"
    );
    metrics::describe_counter!(
        "ttlive_refusals_total",
        "Connections refused (TikTok or the sign server), by reason"
    );
    metrics::describe_counter!(
        "ttlive_sign_calls_total",
        "Sign calls by sign server and outcome"
    );
    metrics::describe_counter!(
        "ttlive_budget_tokens_total",
        "Budget tokens handed out, by kind and egress"
    );
}

/// The handles the hot path uses (looked up once, not per event).
pub(crate) struct Counters {
    events: Vec<Counter>,
    pub(crate) latency: Histogram,
    pub(crate) connects: Counter,
    pub(crate) reconnects: Counter,
    methods: Mutex<HashSet<String>>,
}

impl Counters {
    pub(crate) fn new() -> Self {
        Counters {
            events: EventKind::ALL
                .iter()
                .map(|k| metrics::counter!("ttlive_events_total", "kind" => k.name()))
                .collect(),
            latency: metrics::histogram!("ttlive_event_latency_seconds"),
            connects: metrics::counter!("ttlive_connects_total"),
            reconnects: metrics::counter!("ttlive_reconnects_total"),
            methods: Mutex::new(HashSet::new()),
        }
    }

    pub(crate) fn event(&self, kind: EventKind) {
        if let Some(c) = self.events.get(kind.index()) {
            c.increment(1);
        }
    }

    pub(crate) fn source_error(&self, e: &SourceError) {
        metrics::counter!("ttlive_source_errors_total", "kind" => e.kind().name()).increment(1);
        let Some(cause) = e.cause() else { return };
        if let Some(d) = cause.downcast_ref::<ttlive_proto::DecodeError>() {
            let method = self.method_label(d.method());
            metrics::counter!("ttlive_decode_errors_total", "method" => method).increment(1);
        } else if let Some(t) = cause.downcast_ref::<TikTokError>()
            && let Some(reason) = refusal_reason(t)
        {
            metrics::counter!("ttlive_refusals_total", "reason" => reason).increment(1);
        }
    }

    /// A bounded label: a wire method name (hostile input) is kept only if it looks like one and
    /// few distinct ones were seen.
    fn method_label(&self, method: &str) -> String {
        let plausible = !method.is_empty()
            && method.len() <= 64
            && method
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !plausible {
            return "other".into();
        }
        let mut seen = self.methods.lock().unwrap_or_else(|e| e.into_inner());
        if seen.contains(method) || seen.len() < MAX_METHOD_LABELS {
            seen.insert(method.to_owned());
            method.to_owned()
        } else {
            "other".into()
        }
    }
}

/// A refusal's reason, from a bounded set.
fn refusal_reason(e: &TikTokError) -> Option<&'static str> {
    Some(match e {
        TikTokError::Rejected { handshake_msg, .. } => match handshake_msg.as_deref() {
            Some(m) if m.eq_ignore_ascii_case("DEVICE_BLOCKED") => "device_blocked",
            _ => "handshake",
        },
        TikTokError::Blocked { .. } => "blocked",
        TikTokError::AgeRestricted => "age_restricted",
        TikTokError::Sign(s) => match s {
            ttlive_signer::SignError::RateLimited { .. } => "sign_rate_limited",
            ttlive_signer::SignError::Unauthorized { .. }
            | ttlive_signer::SignError::PremiumRequired { .. } => "sign_refused",
            _ => return None,
        },
        TikTokError::HttpStatus { status: 429, .. } => "rate_limited",
        TikTokError::GaveUp { last, .. } => return refusal_reason(last),
        _ => return None,
    })
}

/// What a scrape describes beyond the recorder's counters.
pub(crate) struct Present<'a> {
    pub(crate) rooms: &'a [RoomSnapshot],
    pub(crate) bus: &'a BusStats,
    pub(crate) budget: &'a [BucketSnapshot],
    pub(crate) per_room: bool,
    pub(crate) stall_timeout: Duration,
    pub(crate) now_ms: i64,
}

/// Escapes a label value (Prometheus text format).
fn label(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Zombie rooms: live, with nothing received for longer than the stall timeout.
pub(crate) fn zombies(rooms: &[RoomSnapshot], stall: Duration, now_ms: i64) -> usize {
    let stall_ms = i64::try_from(stall.as_millis()).unwrap_or(i64::MAX);
    rooms
        .iter()
        .filter(|r| r.state == RoomState::Live)
        .filter(|r| {
            let last = r.last_event_time.unwrap_or(0).max(r.since);
            now_ms.saturating_sub(last) > stall_ms
        })
        .count()
}

/// The exporter's text followed by the present-state series.
pub(crate) fn render(handle: Option<&PrometheusHandle>, p: &Present<'_>) -> String {
    let mut out = handle.map(PrometheusHandle::render).unwrap_or_default();
    // `write!` into a String cannot fail.
    let _ = write_present(&mut out, p);
    out
}

/// One metric family: its `HELP` and `TYPE` lines, then its samples (`{labels}`, value).
fn family(
    out: &mut String,
    name: &str,
    kind: &str,
    help: &str,
    samples: impl IntoIterator<Item = (String, String)>,
) -> std::fmt::Result {
    writeln!(out, "# HELP {name} {help}")?;
    writeln!(out, "# TYPE {name} {kind}")?;
    for (labels, value) in samples {
        writeln!(out, "{name}{labels} {value}")?;
    }
    Ok(())
}

fn write_present(out: &mut String, p: &Present<'_>) -> std::fmt::Result {
    family(
        out,
        "ttlive_rooms",
        "gauge",
        "Followed rooms by state",
        RoomState::ALL.iter().map(|s| {
            let n = p.rooms.iter().filter(|r| r.state == *s).count();
            (format!("{{state=\"{s}\"}}"), n.to_string())
        }),
    )?;
    family(
        out,
        "ttlive_zombie_rooms",
        "gauge",
        "Live rooms with nothing received for longer than the stall timeout",
        [(
            String::new(),
            zombies(p.rooms, p.stall_timeout, p.now_ms).to_string(),
        )],
    )?;
    family(
        out,
        "ttlive_bus_published_total",
        "counter",
        "Events published on the bus, by kind",
        p.bus
            .per_kind
            .iter()
            .map(|(kind, n)| (format!("{{kind=\"{kind}\"}}"), n.to_string())),
    )?;
    // Unnamed subscribers (feed clients come and go) add up under one label.
    let mut subs: std::collections::BTreeMap<String, (usize, u64)> = Default::default();
    for s in &p.bus.subscribers {
        let name = s.name.clone().unwrap_or_else(|| "unnamed".into());
        let e = subs.entry(name).or_default();
        e.0 += s.queued;
        e.1 += s.dropped;
    }
    let sub = |name: &String| format!("{{subscriber=\"{}\"}}", label(name));
    family(
        out,
        "ttlive_bus_subscriber_queued",
        "gauge",
        "Events waiting in a subscriber's queue",
        subs.iter().map(|(n, (q, _))| (sub(n), q.to_string())),
    )?;
    family(
        out,
        "ttlive_bus_subscriber_dropped_total",
        "counter",
        "Events a lossy subscriber missed because it lagged",
        subs.iter().map(|(n, (_, d))| (sub(n), d.to_string())),
    )?;
    let bucket =
        |b: &BucketSnapshot| format!("{{spend=\"{}\",egress=\"{}\"}}", b.spend, label(&b.egress));
    family(
        out,
        "ttlive_budget_waiting",
        "gauge",
        "Callers waiting for a budget token",
        p.budget.iter().map(|b| (bucket(b), b.waiting.to_string())),
    )?;
    family(
        out,
        "ttlive_budget_available",
        "gauge",
        "Budget tokens available now",
        p.budget
            .iter()
            .map(|b| (bucket(b), b.available.min(1_000_000).to_string())),
    )?;
    if !p.per_room {
        return Ok(());
    }
    let user = |r: &RoomSnapshot| label(&r.user);
    family(
        out,
        "ttlive_room_events_total",
        "counter",
        "Events of one room, by kind",
        p.rooms.iter().flat_map(|r| {
            r.events.iter().map(move |(kind, n)| {
                (
                    format!("{{user=\"{}\",kind=\"{kind}\"}}", user(r)),
                    n.to_string(),
                )
            })
        }),
    )?;
    family(
        out,
        "ttlive_room_state",
        "gauge",
        "1 for the room's current state",
        p.rooms.iter().map(|r| {
            (
                format!("{{user=\"{}\",state=\"{}\"}}", user(r), r.state),
                "1".to_owned(),
            )
        }),
    )?;
    family(
        out,
        "ttlive_room_last_event_seconds",
        "gauge",
        "When the room's last event was published (Unix time)",
        p.rooms.iter().filter_map(|r| {
            r.last_event_time.map(|t| {
                (
                    format!("{{user=\"{}\"}}", user(r)),
                    format!("{:.3}", t as f64 / 1000.0),
                )
            })
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_room_series_are_there_only_when_asked_and_only_for_rooms_that_are() {
        let room = RoomSnapshot {
            user: "some\"one".into(),
            state: RoomState::Live,
            room_id: Some("7".into()),
            since: 1_000,
            egress: "direct".into(),
            events: [("chat".to_owned(), 3)].into_iter().collect(),
            events_total: 3,
            last_event_time: Some(2_000),
            reconnects: 0,
            gaps: 0,
            sessions: 1,
            last_error: None,
        };
        let bus = BusStats::default();
        let present = |per_room, rooms: &[RoomSnapshot]| {
            let mut out = String::new();
            write_present(
                &mut out,
                &Present {
                    rooms,
                    bus: &bus,
                    budget: &[],
                    per_room,
                    stall_timeout: Duration::from_secs(30),
                    now_ms: 2_500,
                },
            )
            .unwrap();
            out
        };
        let text = present(true, std::slice::from_ref(&room));
        assert!(
            text.contains("ttlive_room_events_total{user=\"some\\\"one\",kind=\"chat\"} 3"),
            "{text}"
        );
        assert!(text.contains("ttlive_rooms{state=\"live\"} 1"));
        assert!(text.contains("ttlive_zombie_rooms 0"));
        assert!(!present(false, std::slice::from_ref(&room)).contains("ttlive_room_"));
        assert!(!present(true, &[]).contains("some"));
        // Live with nothing for longer than the stall timeout: a zombie.
        assert_eq!(zombies(&[room], Duration::from_millis(100), 2_500), 1);
    }

    #[test]
    fn labels_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn hostile_method_names_do_not_explode_labels() {
        let c = Counters::new();
        assert_eq!(c.method_label("WebcastChatMessage"), "WebcastChatMessage");
        assert_eq!(c.method_label("Webcast Chat\"x"), "other");
        for i in 0..200 {
            c.method_label(&format!("WebcastM{i}"));
        }
        assert_eq!(c.method_label("WebcastBrandNew"), "other");
        assert_eq!(c.method_label("WebcastChatMessage"), "WebcastChatMessage");
    }
}
