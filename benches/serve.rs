//! `cargo bench -p sortfleet-server --bench serve`: the gRPC service end to end over
//! loopback TCP, in one process (server and clients share the 2 cores, so the figures
//! are a lower bound for the server alone).
//!
//! 1. Events per second acknowledged durably (`Durability::Full`: fsync per group
//!    commit) with 1, 100 and 1000 concurrent terminals, each on its own
//!    `ReportEvents` call, batches pipelined.
//! 2. Latency from sending a violating event (an untagged lift) to its warning on the
//!    vehicle's `SubscribeAssignments` stream, at 1000 events/s: median and p99.
//! 3. 2000 concurrent terminal streams held (each gets its first heartbeat), and
//!    resident memory per idle subscriber (both ends of the stream, in-process).
//!
//! `SERVE_BENCH_EVENTS` (default 200000) sets the events per throughput run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use sortfleet_dispatch::app::{
    App, AppConfig, MasterBatch, PlanOutput, PlanProgress, PlanRequest, PlanSource,
};
use sortfleet_model::event::{EventKind, TruckEvent};
use sortfleet_model::*;
use sortfleet_proto::v1;
use sortfleet_proto::v1::terminal_service_client::TerminalServiceClient;
use sortfleet_server::config::Role;
use sortfleet_server::convert::ToProto;
use sortfleet_server::{Auth, TokenEntry};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic::{Request, Status};

const VEHICLES: usize = 2000;

fn source() -> Arc<dyn PlanSource> {
    Arc::new(
        |_: &PlanRequest, _: &(dyn Fn(PlanProgress) + Sync)| -> Result<PlanOutput, String> {
            Err("no planner in the bench".into())
        },
    )
}

fn vid(i: usize) -> String {
    format!("V{i:04}")
}

fn master() -> MasterBatch {
    let base = LatLon::new(30.0, 120.0);
    MasterBatch {
        depots: vec![Depot {
            id: DepotId::new("D1"),
            name: String::new(),
            location: base,
        }],
        facilities: vec![Facility {
            id: FacilityId::new("FK"),
            name: String::new(),
            kind: FacilityKind::KitchenPlant,
            location: LatLon::new(30.02, 120.0),
            accepted_streams: vec![Stream::Kitchen],
            opening_hours: TimeWindow::hm((5, 0), (20, 0)),
            unload_s: Seconds(600),
            daily_intake_limit_kg: None,
            geofence_radius_m: Metres(200),
        }],
        vehicles: (0..VEHICLES)
            .map(|i| sortfleet_testkit::fixtures::vehicle(&vid(i), &[Stream::Kitchen]))
            .collect(),
        points: vec![CollectionPoint {
            id: PointId::new("P1"),
            name: String::new(),
            location: LatLon::new(30.005, 120.0),
            district: DistrictId::new("north"),
            demands: vec![Demand {
                stream: Stream::Kitchen,
                kg: Kilograms(300),
                litres: Litres(600),
            }],
            service_s: Seconds(120),
            time_windows: vec![],
            priority: 0,
            bins: vec![Bin {
                id: BinId::new("P1-K"),
                stream: Stream::Kitchen,
            }],
        }],
    }
}

#[derive(Clone)]
struct Token(MetadataValue<Ascii>);

impl Interceptor for Token {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        req.metadata_mut().insert("authorization", self.0.clone());
        Ok(req)
    }
}

type Term = TerminalServiceClient<InterceptedService<Channel, Token>>;

fn term(ch: &Channel, v: &str) -> Term {
    TerminalServiceClient::with_interceptor(
        ch.clone(),
        Token(format!("Bearer tok-{v}").parse().unwrap()),
    )
    .max_decoding_message_size(64 << 20)
}

const T0: i64 = 1_764_489_600_000; // 2025-11-30T08:00Z

fn gps(v: &str, seq: u64, device: usize) -> v1::TruckEvent {
    TruckEvent {
        client_event_id: format!("{v}-{device}-{seq}"),
        device_seq: seq,
        vehicle: VehicleId::new(v),
        occurred_at: T0 + seq as i64,
        position: Some(LatLon::new(30.001, 120.001)),
        kind: EventKind::GpsFix,
    }
    .to_proto()
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

async fn throughput(channels: &[Channel], terminals: usize, total: usize, run: usize) -> f64 {
    let per = total / terminals;
    let batch = (per / 8).clamp(1, 1000);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..terminals {
        let v = vid(t);
        let mut c = term(&channels[t % channels.len()], &v);
        tasks.push(tokio::spawn(async move {
            let batches: Vec<v1::EventBatch> = (0..per.div_ceil(batch))
                .map(|b| v1::EventBatch {
                    vehicle_id: v.clone(),
                    device_id: format!("{v}-run{run}"),
                    events: (b * batch..((b + 1) * batch).min(per))
                        .map(|i| gps(&v, i as u64 + 1, run))
                        .collect(),
                })
                .collect();
            let n = batches.len();
            let mut acks = c
                .report_events(futures::stream::iter(batches))
                .await
                .unwrap()
                .into_inner();
            let mut last = 0;
            for _ in 0..n {
                last = acks.next().await.unwrap().unwrap().acked_device_seq;
            }
            assert_eq!(last as usize, per);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    (per * terminals) as f64 / started.elapsed().as_secs_f64()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = AppConfig::new(dir.path().join("bench.db"));
    cfg.heartbeat = Duration::from_secs(2);
    cfg.subscriber_buffer = 1024;
    let app = App::open(cfg, source()).await.unwrap();
    app.upsert_master(master()).await.unwrap();
    let tokens: Vec<TokenEntry> = (0..VEHICLES)
        .map(|i| TokenEntry {
            token: format!("tok-{}", vid(i)),
            name: None,
            role: Role::Terminal { vehicle_id: vid(i) },
        })
        .collect();
    let routes = sortfleet_server::routes(app.clone(), Auth::new(&tokens))
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(sortfleet_server::serve_with(
        routes,
        listener,
        None,
        std::future::pending(),
    ));
    let mut channels = Vec::new();
    for _ in 0..32 {
        channels.push(
            Channel::from_shared(format!("http://{addr}"))
                .unwrap()
                .connect()
                .await
                .unwrap(),
        );
    }
    let total: usize = std::env::var("SERVE_BENCH_EVENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);

    println!("durable ingest over gRPC (fsync per group commit), {total} events per run:");
    for (run, terminals) in [1usize, 100, 1000].into_iter().enumerate() {
        let eps = throughput(&channels, terminals, total, run).await;
        println!("  {terminals:>5} terminals: {eps:>9.0} events/s acknowledged");
    }

    // Latency: V1999 subscribed; 1000 events/s, every 20th an untagged lift.
    let v = vid(VEHICLES - 1);
    let mut sub = term(&channels[0], &v)
        .subscribe_assignments(v1::SubscribeAssignmentsRequest {
            vehicle_id: v.clone(),
            after_seq: app.terminal_head(&VehicleId::new(v.clone())),
        })
        .await
        .unwrap()
        .into_inner();
    let sent: Arc<std::sync::Mutex<std::collections::HashMap<String, Instant>>> =
        Default::default();
    let seconds = 6u64;
    let rate = 1000u64;
    let (tx, rx) = tokio::sync::mpsc::channel::<v1::EventBatch>(64);
    let mut rep = term(&channels[1], &v);
    let inbound = tokio_stream_wrapper(rx);
    let mut acks = rep.report_events(inbound).await.unwrap().into_inner();
    let drain = tokio::spawn(async move { while let Some(Ok(_)) = acks.next().await {} });
    let sent2 = sent.clone();
    let v2 = v.clone();
    let producer = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(10));
        let mut seq = 0u64;
        let per_tick = rate / 100;
        for _ in 0..seconds * 100 {
            tick.tick().await;
            let mut events = Vec::new();
            for _ in 0..per_tick {
                seq += 1;
                let mut e = gps(&v2, seq, 99);
                if seq.is_multiple_of(20) {
                    e.kind = Some(v1::truck_event::Kind::BinScan(v1::BinScan {
                        bin_id: String::new(),
                        stream: v1::Stream::Kitchen as i32,
                        point_id: "P1".into(),
                        lift_weight_kg: Some(30),
                        tag_valid: false,
                    }));
                    e.position = Some(v1::LatLon {
                        lat: 30.005,
                        lon: 120.0,
                    });
                    sent2
                        .lock()
                        .unwrap()
                        .insert(e.client_event_id.clone(), Instant::now());
                }
                events.push(e);
            }
            let b = v1::EventBatch {
                vehicle_id: v2.clone(),
                device_id: format!("{v2}-lat"),
                events,
            };
            if tx.send(b).await.is_err() {
                break;
            }
        }
    });
    let expected = (seconds * rate / 20) as usize;
    let mut lat = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(seconds + 30);
    while lat.len() < expected && Instant::now() < deadline {
        let Ok(Some(Ok(m))) = tokio::time::timeout(Duration::from_secs(5), sub.next()).await else {
            break;
        };
        if let Some(v1::assignment_message::Body::ViolationWarning(w)) = m.body {
            let now = Instant::now();
            for id in w.incident.unwrap().evidence_event_ids {
                if let Some(t) = sent.lock().unwrap().remove(&id) {
                    lat.push(now - t);
                }
            }
        }
    }
    producer.await.unwrap();
    drain.abort();
    lat.sort();
    if lat.is_empty() {
        println!("event-to-warning latency: no warnings received");
    } else {
        let q = |p: f64| lat[((lat.len() - 1) as f64 * p) as usize].as_secs_f64() * 1000.0;
        println!(
            "event-to-warning latency at {rate} events/s: median {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} of {expected} warnings)",
            q(0.5),
            q(0.99),
            q(1.0),
            lat.len()
        );
    }
    drop(sub);

    // 2000 idle subscribers.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_kib();
    let before_stats = app.stats();
    let mut subs = Vec::new();
    for i in 0..VEHICLES {
        let v = vid(i);
        let s = term(&channels[i % channels.len()], &v)
            .subscribe_assignments(v1::SubscribeAssignmentsRequest {
                vehicle_id: v.clone(),
                after_seq: app.terminal_head(&VehicleId::new(v)),
            })
            .await
            .unwrap()
            .into_inner();
        subs.push(s);
    }
    // Each stream proves it is alive with a heartbeat.
    let mut alive = 0;
    for s in &mut subs {
        if let Ok(Some(Ok(m))) = tokio::time::timeout(Duration::from_secs(10), s.next()).await
            && matches!(m.body, Some(v1::assignment_message::Body::Heartbeat(_)))
        {
            alive += 1;
        }
    }
    let after = rss_kib();
    println!(
        "concurrent terminal streams: {alive} of {} held with heartbeats (hub: {:?} -> {:?})",
        subs.len(),
        before_stats,
        app.stats()
    );
    println!(
        "memory per idle subscriber (server + client in one process): {:.1} KiB (RSS {} -> {} KiB)",
        (after.saturating_sub(before)) as f64 / subs.len() as f64,
        before,
        after
    );
}

fn tokio_stream_wrapper(
    mut rx: tokio::sync::mpsc::Receiver<v1::EventBatch>,
) -> impl futures::Stream<Item = v1::EventBatch> + Send + 'static {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}
