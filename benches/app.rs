//! Application core benchmarks (fixed seeds, fresh temporary database per sample):
//!
//! * `intake/N` — events per second acknowledged durably (`synchronous=FULL`, one
//!   fsync per group commit) with N concurrent reporting terminals, 20 events a batch;
//! * `event_to_warning` — latency from handing a violating event to intake until its
//!   warning arrives on the vehicle's subscription, at about 1,000 events/s; the
//!   median and p99 are printed (criterion reports the mean);
//! * idle subscriber memory — RSS growth per open, idle assignment stream, printed.
//!
//! Run: `cargo bench -p sortfleet-dispatch --bench app`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use futures::StreamExt;
use sortfleet_dispatch::app::*;
use sortfleet_model::event::{EventKind, TruckEvent};
use sortfleet_model::*;

const BATCH: usize = 20;

fn day0() -> i64 {
    1_764_460_800_000 // 2025-11-30T00:00:00Z
}

fn pos(dlat: f64, dlon: f64) -> LatLon {
    LatLon::new(30.0 + dlat, 120.0 + dlon)
}

fn vehicle(i: usize) -> Vehicle {
    // Costless: the bench measures intake, not planning.
    Vehicle {
        fixed_cost_ct: Cents(0),
        cost_per_km_ct: Cents(0),
        cost_per_hour_ct: Cents(0),
        ..sortfleet_testkit::fixtures::vehicle(&format!("T{i}"), &[Stream::Kitchen])
    }
}

fn master(vehicles: usize) -> MasterBatch {
    let points = (0..10)
        .map(|i| CollectionPoint {
            id: PointId::new(format!("P{i}")),
            name: String::new(),
            location: pos(0.001 * i as f64, 0.0),
            district: DistrictId::new("d1"),
            demands: vec![Demand {
                stream: Stream::Kitchen,
                kg: Kilograms(100),
                litres: Litres(200),
            }],
            service_s: Seconds(60),
            time_windows: vec![],
            priority: 0,
            bins: vec![
                Bin {
                    id: BinId::new(format!("P{i}-K")),
                    stream: Stream::Kitchen,
                },
                Bin {
                    id: BinId::new(format!("P{i}-R")),
                    stream: Stream::Residual,
                },
            ],
        })
        .collect();
    MasterBatch {
        depots: vec![Depot {
            id: DepotId::new("D1"),
            name: String::new(),
            location: pos(0.0, 0.0),
        }],
        facilities: vec![Facility {
            id: FacilityId::new("FK"),
            name: String::new(),
            kind: FacilityKind::KitchenPlant,
            location: pos(0.05, 0.0),
            accepted_streams: vec![Stream::Kitchen],
            opening_hours: TimeWindow::ALL_DAY,
            unload_s: Seconds(600),
            daily_intake_limit_kg: None,
            geofence_radius_m: Metres(200),
        }],
        vehicles: (0..vehicles).map(vehicle).collect(),
        points,
    }
}

fn noop_source() -> Arc<dyn PlanSource> {
    Arc::new(|_: &PlanRequest, _: &(dyn Fn(PlanProgress) + Sync)| {
        Err::<PlanOutput, String>("not in this bench".into())
    })
}

async fn open(dir: &tempfile::TempDir, vehicles: usize) -> App {
    let mut cfg = AppConfig::new(dir.path().join("bench.db"));
    cfg.heartbeat = Duration::from_secs(3600);
    cfg.subscriber_buffer = 4096;
    let app = App::open(cfg, noop_source()).await.expect("open");
    app.upsert_master(master(vehicles)).await.expect("master");
    app
}

/// A clean event: GPS fixes and kitchen scans, in time order.
fn event(v: usize, seq: u64) -> TruckEvent {
    let kind = if seq.is_multiple_of(4) {
        let p = (seq / 4) % 10;
        EventKind::BinScan {
            bin: Some(BinId::new(format!("P{p}-K"))),
            stream: Some(Stream::Kitchen),
            point: Some(PointId::new(format!("P{p}"))),
            lift_kg: Some(Kilograms(20)),
        }
    } else {
        EventKind::GpsFix
    };
    TruckEvent {
        client_event_id: format!("{v}-{seq}"),
        device_seq: seq,
        vehicle: VehicleId::new(format!("T{v}")),
        occurred_at: day0() + 6 * 3_600_000 + seq as i64 * 1000,
        position: Some(pos(0.0001 * (seq % 50) as f64, 0.0)),
        kind,
    }
}

/// Sends `total` events from `reporters` concurrent terminals; returns the time until
/// the last acknowledgement.
async fn intake(app: &App, reporters: usize, total: usize) -> Duration {
    let per = total / reporters;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for r in 0..reporters {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let mut seq = 1u64;
            let mut left = per;
            while left > 0 {
                let n = left.min(BATCH);
                let events = (0..n).map(|k| event(r, seq + k as u64)).collect();
                let ack = app
                    .report_events(EventBatch {
                        vehicle: VehicleId::new(format!("T{r}")),
                        device: format!("dev{r}"),
                        events,
                        rejected: vec![],
                    })
                    .await
                    .expect("ack");
                seq += n as u64;
                assert_eq!(ack.acked_device_seq, seq - 1);
                left -= n;
            }
        }));
    }
    for t in tasks {
        t.await.expect("reporter");
    }
    start.elapsed()
}

fn bench_intake(c: &mut Criterion, rt: &tokio::runtime::Runtime) {
    let mut g = c.benchmark_group("intake");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.warm_up_time(Duration::from_secs(1));
    for reporters in [1usize, 100, 1000] {
        let total = if reporters == 1 { 2_000 } else { 20_000 };
        g.throughput(Throughput::Elements(total as u64));
        g.bench_with_input(
            BenchmarkId::from_parameter(reporters),
            &reporters,
            |b, &n| {
                b.iter_custom(|iters| {
                    rt.block_on(async {
                        let mut spent = Duration::ZERO;
                        for _ in 0..iters {
                            let dir = tempfile::tempdir().expect("tempdir");
                            let app = open(&dir, n).await;
                            spent += intake(&app, n, total).await;
                        }
                        spent
                    })
                })
            },
        );
    }
    g.finish();
}

/// Sends ~1,000 events/s from 10 vehicles; every 10th is a residual bin scanned into a
/// kitchen truck. Returns the event-to-warning latencies.
async fn warning_latencies(warnings: usize) -> Vec<Duration> {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = open(&dir, 10).await;
    let mut plan_routes = Vec::new();
    for v in 0..10 {
        plan_routes.push(Route {
            vehicle: VehicleId::new(format!("T{v}")),
            depot: DepotId::new("D1"),
            start_s: Seconds(21600),
            end_s: Seconds(43200),
            trips: vec![Trip {
                stream: Stream::Kitchen,
                stops: vec![],
                unload: FacilityUnload {
                    facility: FacilityId::new("FK"),
                    arrival_s: Seconds(30000),
                    departure_s: Seconds(30600),
                    load_kg: Kilograms(0),
                    geometry: vec![],
                },
            }],
            breaks: vec![],
            return_geometry: vec![],
            distance_m: Metres(0),
            duration_s: Seconds(21600),
            cost_ct: Cents(0),
        });
    }
    let date = day_of(day0(), 0);
    let plan = Plan::new("bench", date, plan_routes, vec![], Cents(0));
    let id = app
        .store_plan(plan, PlanOrigin::Imported, None, None)
        .await
        .expect("plan");
    app.publish_plan(&id).await.expect("publish");
    let mut subs = Vec::new();
    for v in 0..10 {
        subs.push(
            app.subscribe_assignments(&VehicleId::new(format!("T{v}")), 1)
                .expect("sub"),
        );
    }
    let sent: Arc<std::sync::Mutex<std::collections::HashMap<String, Instant>>> =
        Default::default();
    let (lat_tx, mut lat_rx) = tokio::sync::mpsc::unbounded_channel();
    for mut s in subs {
        let sent = sent.clone();
        let lat_tx = lat_tx.clone();
        tokio::spawn(async move {
            while let Some(Ok(m)) = s.next().await {
                if let TerminalBody::ViolationWarning(w) = m.body
                    && w.rule == sortfleet_model::incident::RuleId::StreamMismatch
                {
                    let t0 = sent.lock().expect("lock").get(&w.evidence[0]).copied();
                    if let Some(t0) = t0 {
                        let _ = lat_tx.send(t0.elapsed());
                    }
                }
            }
        });
    }
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    let mut seq = [0u64; 10];
    let mut i = 0usize;
    let mut out = Vec::new();
    while out.len() < warnings {
        tick.tick().await;
        let v = i % 10;
        seq[v] += 1;
        let mut e = event(v, seq[v]);
        if i % 10 == 9 {
            let p = (i / 10) % 10;
            e.kind = EventKind::BinScan {
                bin: Some(BinId::new(format!("P{p}-R"))),
                stream: Some(Stream::Residual),
                point: Some(PointId::new(format!("P{p}"))),
                lift_kg: None,
            };
            sent.lock()
                .expect("lock")
                .insert(e.client_event_id.clone(), Instant::now());
        }
        i += 1;
        let app = app.clone();
        tokio::spawn(async move {
            let _ = app
                .report_events(EventBatch {
                    vehicle: e.vehicle.clone(),
                    device: format!("dev{v}"),
                    events: vec![e],
                    rejected: vec![],
                })
                .await;
        });
        while let Ok(d) = lat_rx.try_recv() {
            out.push(d);
        }
    }
    out
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn bench_latency(c: &mut Criterion, rt: &tokio::runtime::Runtime) {
    let mut all = rt.block_on(warning_latencies(1000));
    all.sort();
    println!(
        "event_to_warning at ~1000 events/s: n={} median={:?} p99={:?} max={:?}",
        all.len(),
        percentile(&all, 0.5),
        percentile(&all, 0.99),
        all.last().copied().unwrap_or_default()
    );
    let mut g = c.benchmark_group("event_to_warning");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(10));
    g.bench_function("mean_of_100", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    let l = warning_latencies(100).await;
                    spent += l.iter().sum::<Duration>() / l.len().max(1) as u32;
                }
                spent
            })
        })
    });
    g.finish();
}

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|x| x.parse::<u64>().ok())
        })
        .map_or(0, |pages| pages * 4)
}

fn idle_subscriber_memory(rt: &tokio::runtime::Runtime) {
    rt.block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let n = 2000;
        let app = open(&dir, n).await;
        let before = rss_kb();
        let mut streams = Vec::new();
        for v in 0..n {
            let mut s = app
                .subscribe_assignments(&VehicleId::new(format!("T{v}")), 0)
                .expect("sub");
            // Poll once so the stream has read its (empty) backlog and sits idle.
            let _ = tokio::time::timeout(Duration::from_millis(1), s.next()).await;
            streams.push(s);
        }
        let after = rss_kb();
        println!(
            "idle subscribers: {} open, RSS +{} KiB, {:.1} KiB each",
            app.stats().terminal_subscribers,
            after.saturating_sub(before),
            after.saturating_sub(before) as f64 / n as f64
        );
        drop(streams);
    });
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut c = Criterion::default().configure_from_args();
    idle_subscriber_memory(&rt);
    bench_intake(&mut c, &rt);
    bench_latency(&mut c, &rt);
    c.final_summary();
}
