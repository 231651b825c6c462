//! Rule engine throughput on a synthetic district day: 2,000 collection points, 20
//! trucks with ~1,000-vertex corridors, GPS fixes and bin scans interleaved in time.
//! Fixed layout, no randomness.

// `criterion_group!` generates an undocumented public fn; a bench binary has no API.
#![allow(missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sortfleet_model::event::{EventKind, TruckEvent};
use sortfleet_model::{
    BinId, DistrictId, FacilityId, Kilograms, LatLon, Metres, PointId, Stream, VehicleId,
};
use sortfleet_rules::{
    Engine, FacilitySite, PlannedTrip, PlannedVisit, PointInfo, RuleContext, Thresholds,
    VehiclePlan,
};
use std::hint::black_box;

const ROWS: usize = 40;
const COLS: usize = 50;
const VEHICLES: usize = 20;
const STREAMS: [Stream; 3] = [Stream::Kitchen, Stream::Residual, Stream::Recyclable];

fn pos(r: usize, c: usize) -> LatLon {
    LatLon::new(31.2 + r as f64 * 0.001, 121.4 + c as f64 * 0.001)
}

fn world() -> (RuleContext, Vec<TruckEvent>) {
    let mut ctx = RuleContext::new(Thresholds::default());
    for r in 0..ROWS {
        for c in 0..COLS {
            let id = PointId::new(format!("P{r}_{c}"));
            let info = PointInfo {
                position: Some(pos(r, c)),
                district: Some(DistrictId::new(format!("D{}", r / 10))),
                registered_bins: [0; 6],
            };
            ctx.add_point(id.clone(), info).unwrap();
            for s in STREAMS {
                ctx.add_bin(BinId::new(format!("B{r}_{c}_{s}")), id.clone(), s);
            }
        }
    }
    let fac_pos = LatLon::new(31.19, 121.39);
    ctx.add_facility(
        FacilityId::new("F"),
        FacilitySite {
            position: fac_pos,
            geofence: Metres(200),
            accepts: STREAMS.to_vec(),
        },
    )
    .unwrap();
    let mut events = Vec::new();
    for v in 0..VEHICLES {
        let stream = STREAMS[v % 3];
        let vid = VehicleId::new(format!("T{v}"));
        // Two rows per truck, snake order: 100 stops.
        let mut stops = Vec::new();
        for k in 0..2 {
            let r = v * 2 + k;
            for c in 0..COLS {
                stops.push((r, if k == 0 { c } else { COLS - 1 - c }));
            }
        }
        let mut corridor = vec![fac_pos];
        for w in stops.windows(2) {
            let (a, b) = (pos(w[0].0, w[0].1), pos(w[1].0, w[1].1));
            for i in 0..10 {
                let t = i as f64 / 10.0;
                corridor.push(LatLon::new(
                    a.lat + (b.lat - a.lat) * t,
                    a.lon + (b.lon - a.lon) * t,
                ));
            }
        }
        corridor.push(fac_pos);
        let visits = stops
            .iter()
            .map(|&(r, c)| PlannedVisit {
                point: PointId::new(format!("P{r}_{c}")),
                expected: Kilograms(20),
            })
            .collect();
        ctx.add_vehicle(VehiclePlan {
            id: vid.clone(),
            district: None,
            depot: Some(fac_pos),
            certified: STREAMS.to_vec(),
            hazardous_licence: false,
            rated_payload: Kilograms(10_000),
            trips: vec![PlannedTrip {
                stream,
                facility: Some(FacilityId::new("F")),
                visits,
            }],
            corridor: vec![corridor],
        })
        .unwrap();
        let mut seq = 0u64;
        let mut t = 1_700_000_000_000i64 + v as i64;
        let mut push = |events: &mut Vec<TruckEvent>, p: Option<LatLon>, kind: EventKind| {
            seq += 1;
            t += 20_000;
            events.push(TruckEvent {
                client_event_id: format!("{vid}-{seq}"),
                device_seq: seq,
                vehicle: vid.clone(),
                occurred_at: t,
                position: p,
                kind,
            });
        };
        push(&mut events, Some(fac_pos), EventKind::ShiftStart);
        for &(r, c) in &stops {
            for _ in 0..3 {
                push(&mut events, Some(pos(r, c)), EventKind::GpsFix);
            }
            push(
                &mut events,
                Some(pos(r, c)),
                EventKind::BinScan {
                    bin: Some(BinId::new(format!("B{r}_{c}_{stream}"))),
                    stream: Some(stream),
                    point: Some(PointId::new(format!("P{r}_{c}"))),
                    lift_kg: None,
                },
            );
        }
        push(
            &mut events,
            Some(fac_pos),
            EventKind::WeighbridgeTicket {
                facility: FacilityId::new("F"),
                gross_kg: Kilograms(12_000),
                tare_kg: Kilograms(10_000),
                net_kg: Kilograms(2_000),
                declared_stream: stream,
                rejected: false,
                purity_pct: None,
            },
        );
        push(&mut events, Some(fac_pos), EventKind::ShiftEnd);
    }
    events.sort_by_key(|e| e.occurred_at);
    (ctx, events)
}

fn bench(c: &mut Criterion) {
    let (ctx, events) = world();
    // The day is clean: anything raised means the benchmark measures the wrong thing.
    let mut e = Engine::new();
    let raised: Vec<_> = events.iter().flat_map(|ev| e.on_event(&ctx, ev)).collect();
    assert!(
        raised.is_empty(),
        "synthetic day should be clean: {:?}",
        raised.first()
    );

    let mut g = c.benchmark_group("rules");
    g.throughput(Throughput::Elements(events.len() as u64));
    g.bench_function("live_day_in_order", |b| {
        b.iter(|| {
            let mut e = Engine::new();
            for ev in &events {
                black_box(e.on_event(&ctx, ev));
            }
        })
    });
    let one: Vec<TruckEvent> = events
        .iter()
        .filter(|e| e.vehicle.as_str() == "T0")
        .cloned()
        .collect();
    g.throughput(Throughput::Elements(one.len() as u64));
    g.bench_function("replay_one_vehicle_day", |b| {
        b.iter(|| {
            let mut e = Engine::new();
            let mut evs = one.clone();
            evs.reverse();
            black_box(e.replay(&ctx, &VehicleId::new("T0"), &mut evs));
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
