//! EventBus throughput and publish-to-receive latency, against a bare
//! `tokio::sync::broadcast` channel carrying the same `Arc<Event>`s in the same run.
//!
//! Cases: 1 subscriber, 16 subscribers, 16 filtered subscribers (one room each; events spread
//! over 16 rooms). For broadcast, "filtered" means each receiver gets everything and skips
//! other rooms itself, which is how one filters with a broadcast channel.
//!
//! Throughput: criterion, `N` events per iteration, producer and readers all tasks on a
//! 2-worker runtime; an iteration ends when every reader has received all its events. Both
//! sides get queues that hold all `N` events, so nothing lags and the work is the same.
//!
//! Latency: a custom loop stamps an `Instant` at publish and records at receive, publishing
//! in bursts with 1 ms pauses, and prints p50 / p99 / max.
//!
//! `cargo bench -p ttlive-eventbus --bench bus -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tokio::runtime::Runtime;
use tokio::sync::broadcast;
use ttlive_eventbus::{ChatEvent, Event, EventBus, EventMeta, Filter, Lagged, User};

const N: u64 = 20_000;
const ROOMS: u64 = 16;
/// Queue capacity for the throughput runs: every event fits, so nothing lags and every
/// reader really handles every event it is owed (a full-speed producer otherwise outruns the
/// readers and "throughput" would mostly measure skipping).
const TPUT_CAPACITY: usize = 32_768;
/// Queue capacity for the latency runs and the lag report (the bus's default).
const CAPACITY: usize = 1024;

#[derive(Clone, Copy)]
struct Case {
    name: &'static str,
    subs: u64,
    filtered: bool,
}

const CASES: [Case; 3] = [
    Case {
        name: "1",
        subs: 1,
        filtered: false,
    },
    Case {
        name: "16",
        subs: 16,
        filtered: false,
    },
    Case {
        name: "16_filtered",
        subs: 16,
        filtered: true,
    },
];

fn events(n: u64) -> Arc<Vec<Arc<Event>>> {
    Arc::new(
        (0..n)
            .map(|i| {
                Arc::new(Event::Chat(ChatEvent {
                    meta: EventMeta {
                        room_id: i % ROOMS,
                        msg_id: i,
                        create_time: 1_700_000_000_000,
                        method: "WebcastChatMessage".into(),
                        is_history: false,
                    },
                    user: User {
                        id: 42,
                        unique_id: "river_otter".into(),
                        nickname: "River".into(),
                        ..User::default()
                    },
                    comment: "hello there".into(),
                    ..ChatEvent::default()
                }))
            })
            .collect(),
    )
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Events a reader must account for.
fn expected(case: Case, n: u64) -> u64 {
    if case.filtered { n / ROOMS } else { n }
}

/// What a reader does per event: record latency when asked to.
#[derive(Clone)]
struct Probe {
    base: Instant,
    stamps: Option<Arc<Vec<AtomicU64>>>,
}

impl Probe {
    fn stamp(&self, id: u64) {
        if let Some(s) = &self.stamps {
            let now = self.base.elapsed().as_nanos() as u64;
            if let Some(slot) = s.get(id as usize) {
                slot.store(now, Ordering::Relaxed);
            }
        }
    }

    fn record(&self, id: u64, out: &mut Vec<u64>) {
        if let Some(s) = &self.stamps {
            let now = self.base.elapsed().as_nanos() as u64;
            if let Some(slot) = s.get(id as usize) {
                out.push(now.saturating_sub(slot.load(Ordering::Relaxed)));
            }
        }
    }
}

/// Burst size and pause for the latency runs (None: full speed).
type Pacing = Option<(u64, Duration)>;

async fn run_bus(
    capacity: usize,
    case: Case,
    evs: Arc<Vec<Arc<Event>>>,
    probe: Probe,
    pacing: Pacing,
) -> (Duration, Vec<u64>, u64) {
    let bus = EventBus::with_capacity(capacity);
    let want = expected(case, evs.len() as u64);
    let readers: Vec<_> = (0..case.subs)
        .map(|i| {
            let mut sub = if case.filtered {
                bus.subscribe_filtered(Filter::all().room(i))
            } else {
                bus.subscribe()
            };
            let probe = probe.clone();
            tokio::spawn(async move {
                let (mut n, mut lagged, mut lat) = (0, 0, Vec::new());
                while n < want {
                    match sub.recv().await {
                        Some(Ok(ev)) => {
                            probe.record(ev.msg_id(), &mut lat);
                            black_box(&ev);
                            n += 1;
                        }
                        Some(Err(Lagged(k))) => {
                            n += k;
                            lagged += k;
                        }
                        None => break,
                    }
                }
                (lat, lagged)
            })
        })
        .collect();
    let start = Instant::now();
    let producer = {
        let bus = bus.clone();
        let probe = probe.clone();
        tokio::spawn(async move {
            for (i, ev) in evs.iter().enumerate() {
                probe.stamp(ev.msg_id());
                let _ = bus.publish(Arc::clone(ev)).await;
                if let Some((burst, pause)) = pacing {
                    if (i as u64 + 1) % burst == 0 {
                        tokio::time::sleep(pause).await;
                    }
                }
            }
        })
    };
    let _ = producer.await;
    let (mut lat, mut lagged) = (Vec::new(), 0);
    for r in readers {
        if let Ok((l, g)) = r.await {
            lat.extend(l);
            lagged += g;
        }
    }
    let took = start.elapsed();
    bus.close().await;
    (took, lat, lagged)
}

async fn run_broadcast(
    capacity: usize,
    case: Case,
    evs: Arc<Vec<Arc<Event>>>,
    probe: Probe,
    pacing: Pacing,
) -> (Duration, Vec<u64>, u64) {
    let (tx, _) = broadcast::channel::<Arc<Event>>(capacity);
    let total = evs.len() as u64;
    let readers: Vec<_> = (0..case.subs)
        .map(|i| {
            let mut rx = tx.subscribe();
            let probe = probe.clone();
            tokio::spawn(async move {
                let (mut n, mut lagged, mut lat) = (0, 0, Vec::new());
                // Every receiver sees every event; a filtering receiver skips other rooms.
                while n < total {
                    match rx.recv().await {
                        Ok(ev) => {
                            n += 1;
                            if case.filtered && ev.room_id() != i {
                                continue;
                            }
                            probe.record(ev.msg_id(), &mut lat);
                            black_box(&ev);
                        }
                        Err(broadcast::error::RecvError::Lagged(k)) => {
                            n += k;
                            lagged += if case.filtered { k / ROOMS } else { k };
                        }
                        Err(broadcast::error::RecvError::Closed) => break,
                    }
                }
                (lat, lagged)
            })
        })
        .collect();
    let start = Instant::now();
    let producer = {
        let tx = tx.clone();
        let probe = probe.clone();
        tokio::spawn(async move {
            for (i, ev) in evs.iter().enumerate() {
                probe.stamp(ev.msg_id());
                let _ = tx.send(Arc::clone(ev));
                if let Some((burst, pause)) = pacing {
                    if (i as u64 + 1) % burst == 0 {
                        tokio::time::sleep(pause).await;
                    }
                }
            }
        })
    };
    let _ = producer.await;
    let (mut lat, mut lagged) = (Vec::new(), 0);
    for r in readers {
        if let Ok((l, g)) = r.await {
            lat.extend(l);
            lagged += g;
        }
    }
    let took = start.elapsed();
    drop(tx);
    (took, lat, lagged)
}

fn no_probe() -> Probe {
    Probe {
        base: Instant::now(),
        stamps: None,
    }
}

fn throughput(c: &mut Criterion) {
    let rt = runtime();
    let evs = events(N);
    let mut group = c.benchmark_group("throughput");
    group.throughput(Throughput::Elements(N));
    for case in CASES {
        let e = Arc::clone(&evs);
        group.bench_function(format!("broadcast/{}", case.name), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        rt.block_on(run_broadcast(
                            TPUT_CAPACITY,
                            case,
                            Arc::clone(&e),
                            no_probe(),
                            None,
                        ))
                        .0
                    })
                    .sum()
            })
        });
        let e = Arc::clone(&evs);
        group.bench_function(format!("bus/{}", case.name), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        rt.block_on(run_bus(
                            TPUT_CAPACITY,
                            case,
                            Arc::clone(&e),
                            no_probe(),
                            None,
                        ))
                        .0
                    })
                    .sum()
            })
        });
    }
    group.finish();

    // With the default capacity (1024) a full-speed producer outruns the readers: how much
    // each side drops, for the record.
    for case in CASES {
        let (_, _, lb) = rt.block_on(run_broadcast(
            CAPACITY,
            case,
            Arc::clone(&evs),
            no_probe(),
            None,
        ));
        let (_, _, lu) = rt.block_on(run_bus(CAPACITY, case, Arc::clone(&evs), no_probe(), None));
        let total = expected(case, N) * case.subs;
        println!(
            "lag at full speed, {:>12}: broadcast {:5.1}% bus {:5.1}% of {} deliveries",
            case.name,
            lb as f64 * 100.0 / total as f64,
            lu as f64 * 100.0 / total as f64,
            total
        );
    }
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)] as f64 / 1000.0
}

fn latency(_c: &mut Criterion) {
    const LAT_N: u64 = 16_000;
    let rt = runtime();
    let evs = events(LAT_N);
    let pacing = Some((32, Duration::from_millis(1)));
    println!();
    println!("publish-to-receive latency ({LAT_N} events in bursts of 32 every 1 ms, 2 workers)");
    println!(
        "{:<24} {:>10} {:>10} {:>10} {:>8}",
        "case", "p50 µs", "p99 µs", "max µs", "lagged"
    );
    for case in CASES {
        for which in ["broadcast", "bus"] {
            let probe = Probe {
                base: Instant::now(),
                stamps: Some(Arc::new((0..LAT_N).map(|_| AtomicU64::new(0)).collect())),
            };
            let (_, mut lat, lagged) = if which == "bus" {
                rt.block_on(run_bus(CAPACITY, case, Arc::clone(&evs), probe, pacing))
            } else {
                rt.block_on(run_broadcast(
                    CAPACITY,
                    case,
                    Arc::clone(&evs),
                    probe,
                    pacing,
                ))
            };
            lat.sort_unstable();
            println!(
                "{:<24} {:>10.1} {:>10.1} {:>10.1} {:>8}",
                format!("{which}/{}", case.name),
                percentile(&lat, 0.50),
                percentile(&lat, 0.99),
                percentile(&lat, 1.0),
                lagged
            );
        }
    }
}

criterion_group!(benches, throughput, latency);
criterion_main!(benches);
