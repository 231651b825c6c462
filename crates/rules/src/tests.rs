//! Engine-level tests: a clean day, a day with every violation, back-fill and replay,
//! and property tests over arbitrary event sequences.

use crate::engine::Engine;
use crate::rules::testutil::*;
use proptest::prelude::*;
use sortfleet_model::event::{EventKind, ExceptionKind, TruckEvent};
use sortfleet_model::incident::{Incident, RuleId};
use sortfleet_model::{BinId, FacilityId, Kilograms, LatLon, PointId, Stream, VehicleId};
use std::collections::{BTreeMap, BTreeSet};

fn ids(v: &[Incident]) -> BTreeSet<String> {
    v.iter().map(|i| i.id.clone()).collect()
}

fn by_id(v: &[Incident]) -> BTreeMap<String, Incident> {
    v.iter().map(|i| (i.id.clone(), i.clone())).collect()
}

#[test]
fn clean_full_day_raises_nothing() {
    let (w, inc) = World::clean_day_world();
    assert!(inc.is_empty(), "{inc:#?}");
    let st = w.engine.state(&VehicleId::new("T1")).unwrap();
    assert_eq!(st.trips_done, 1);
    assert!(!st.trip.is_loaded());
}

/// A day of T1 that breaks every rule at least once.
fn bad_day() -> (World, Vec<Incident>) {
    let mut w = World::with_plan(|p| {
        // Dispatched for kitchen without kitchen certification.
        p.certified = vec![Stream::Residual, Stream::Recyclable];
    });
    let mut all = Vec::new();
    all.extend(w.start());
    all.extend(w.scan("KB1"));
    all.extend(w.scan("RB1")); // mismatch + mixed trip
    all.extend(w.scan("HB1")); // hazardous without licence
    all.extend(w.scan_untagged("P1")); // unidentified lift
    all.extend(w.exception(ExceptionKind::Contaminated, "P1"));
    all.extend(w.at(ROAD));
    all.extend(w.load(900));
    all.extend(w.load(200)); // load drop on the road
    all.extend(w.ticket_full_pub("F_R", Stream::Kitchen, 5_000, true)); // wrong plant, mass, rejected
    all.extend(w.at(P_OTHER_POS));
    w.wait(120_000);
    all.extend(w.at(P_OTHER_POS)); // stop at another stream's point
    all.extend(w.scan("KB1"));
    all.extend(w.at(DEPOT)); // back at depot loaded
    all.extend(w.end()); // P2 missed
    (w, all)
}

impl World {
    fn ticket_full_pub(&mut self, fac: &str, s: Stream, net: i64, rejected: bool) -> Vec<Incident> {
        if rejected {
            self.pos = self.ctx.facility(&FacilityId::new(fac)).map(|f| f.position);
            self.event(EventKind::WeighbridgeTicket {
                facility: FacilityId::new(fac),
                gross_kg: Kilograms(net + 10_000),
                tare_kg: Kilograms(10_000),
                net_kg: Kilograms(net),
                declared_stream: s,
                rejected,
                purity_pct: None,
            })
        } else {
            self.ticket(fac, s, net)
        }
    }
}

#[test]
fn bad_day_breaks_every_rule_and_ids_are_unique() {
    let (_, inc) = bad_day();
    let rules: BTreeSet<RuleId> = inc.iter().map(|i| i.rule).collect();
    let all: BTreeSet<RuleId> = RuleId::ALL.into_iter().collect();
    assert_eq!(rules, all, "{inc:#?}");
    assert_eq!(ids(&inc).len(), inc.len(), "duplicate ids");
    for i in &inc {
        assert!(i.id.starts_with(i.rule.as_str()), "{}", i.id);
        assert!(!i.message.is_empty());
        let v = crate::registry()
            .into_iter()
            .find(|r| r.id() == i.rule)
            .map(|r| r.version());
        assert_eq!(Some(i.rule_version), v, "{}", i.id);
        assert!(i.rule_version >= 1);
    }
}

#[test]
fn replay_of_shuffled_day_gives_the_same_incidents() {
    let (w, inc) = bad_day();
    let mut events = w.log.clone();
    events.reverse();
    let mut e2 = Engine::new();
    let again = e2.replay(&w.ctx, &VehicleId::new("T1"), &mut events);
    assert_eq!(by_id(&inc), by_id(&again));
    // Nothing is raised twice.
    let mut events = w.log.clone();
    assert!(
        e2.replay(&w.ctx, &VehicleId::new("T1"), &mut events)
            .is_empty()
    );
}

#[test]
fn backfill_after_dead_spot_is_judged_in_time_order() {
    let (w, _) = World::clean_day_world();
    // The truck was offline for the first half: the second half arrives first.
    let (first, second) = w.log.split_at(w.log.len() / 2);
    let mut e = Engine::new();
    let mut out = Vec::new();
    for ev in second {
        out.extend(e.on_event(&w.ctx, ev));
    }
    // Judged without the first half, the second half looks wrong (e.g. an unloaded
    // plant visit with missed pickups); the back-fill then re-evaluates the day.
    let mut batch = first.to_vec();
    batch.reverse();
    out.extend(e.on_batch(&w.ctx, &mut batch));
    assert_eq!(ids(&out).len(), out.len(), "no alarm twice");
    let st = e.state(&VehicleId::new("T1")).unwrap();
    let (w2, _) = World::clean_day_world();
    assert_eq!(st, w2.engine.state(&VehicleId::new("T1")).unwrap());
    // Re-sending the whole day changes nothing.
    let mut all = w.log.clone();
    assert!(e.on_batch(&w.ctx, &mut all).is_empty());
}

#[test]
fn mark_raised_suppresses_after_restart_and_close_shift_is_idempotent() {
    let (w, inc) = bad_day();
    let mut e = Engine::new();
    e.mark_raised(inc.iter().map(|i| i.id.clone()));
    let mut events = w.log.clone();
    assert!(
        e.replay(&w.ctx, &VehicleId::new("T1"), &mut events)
            .is_empty()
    );
    assert!(
        e.close_shift(&w.ctx, &VehicleId::new("T1"), i64::MAX)
            .is_empty()
    );
    assert!(e.was_raised(&inc[0].id));
}

// ---- property tests ----

fn arb_pos() -> impl Strategy<Value = Option<LatLon>> {
    prop_oneof![
        Just(None),
        Just(Some(DEPOT)),
        Just(Some(P1_POS)),
        Just(Some(ROAD)),
        Just(Some(F_K_POS)),
        Just(Some(F_R_POS)),
        Just(Some(P_OTHER_POS)),
        Just(Some(FAR)),
        Just(Some(LatLon::new(f64::NAN, 1.0))),
        Just(Some(LatLon::new(1e9, -1e9))),
        (-90.0f64..90.0, -180.0f64..180.0).prop_map(|(a, b)| Some(LatLon::new(a, b))),
    ]
}

fn arb_stream() -> impl Strategy<Value = Stream> {
    prop::sample::select(Stream::ALL.to_vec())
}

fn arb_kg() -> impl Strategy<Value = Kilograms> {
    prop_oneof![
        (0i64..2_000).prop_map(Kilograms),
        Just(Kilograms(i64::MAX)),
        Just(Kilograms(i64::MIN)),
        Just(Kilograms(-5)),
    ]
}

fn arb_kind() -> impl Strategy<Value = EventKind> {
    let bin = prop::option::of(prop::sample::select(vec![
        "KB1", "KB2", "RB1", "HB1", "YB1", "ZZ",
    ]))
    .prop_map(|b| b.map(BinId::new));
    let point =
        prop::sample::select(vec!["P1", "P2", "P4", "P_OTHER", "PX"]).prop_map(PointId::new);
    let fac =
        prop::sample::select(vec!["F_K", "F_K2", "F_R", "F_H", "F_X"]).prop_map(FacilityId::new);
    prop_oneof![
        Just(EventKind::GpsFix),
        Just(EventKind::ShiftStart),
        Just(EventKind::ShiftEnd),
        (
            bin,
            prop::option::of(arb_stream()),
            prop::option::of(point.clone()),
            prop::option::of(arb_kg())
        )
            .prop_map(|(bin, stream, point, lift_kg)| EventKind::BinScan {
                bin,
                stream,
                point,
                lift_kg
            }),
        arb_kg().prop_map(|load_kg| EventKind::LoadReading { load_kg }),
        any::<bool>().prop_map(|tipping| EventKind::BodySensor { tipping }),
        (
            fac,
            arb_kg(),
            arb_kg(),
            arb_kg(),
            arb_stream(),
            any::<bool>(),
            prop::option::of(any::<u8>())
        )
            .prop_map(
                |(facility, gross_kg, tare_kg, net_kg, declared_stream, rejected, purity_pct)| {
                    EventKind::WeighbridgeTicket {
                        facility,
                        gross_kg,
                        tare_kg,
                        net_kg,
                        declared_stream,
                        rejected,
                        purity_pct,
                    }
                }
            ),
        (
            prop::sample::select(vec![
                ExceptionKind::BinNotOut,
                ExceptionKind::Blocked,
                ExceptionKind::Contaminated
            ]),
            point
        )
            .prop_map(|(kind, point)| EventKind::DriverException {
                kind,
                point,
                bin: None,
                photo_sha256: None
            }),
    ]
}

fn arb_events() -> impl Strategy<Value = Vec<TruckEvent>> {
    let ev = (
        prop_oneof![4 => Just("T1"), 1 => Just("T2"), 1 => Just("T9")],
        prop_oneof![8 => 0i64..50_000_000, 1 => Just(i64::MIN), 1 => Just(i64::MAX)],
        arb_pos(),
        arb_kind(),
    );
    prop::collection::vec(ev, 0..60).prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (veh, t, position, kind))| TruckEvent {
                client_event_id: format!("x{i}"),
                device_seq: i as u64,
                vehicle: VehicleId::new(veh),
                occurred_at: t,
                position,
                kind,
            })
            .collect()
    })
}

/// Evaluates events one by one in time order (what a live, never-disconnected truck gives).
fn in_order(ctx: &crate::RuleContext, events: &[TruckEvent]) -> Vec<Incident> {
    let mut sorted = events.to_vec();
    sorted.sort_by_key(|e| (e.occurred_at, e.device_seq, e.client_event_id.clone()));
    let mut e = Engine::new();
    sorted.iter().flat_map(|ev| e.on_event(ctx, ev)).collect()
}

proptest! {
    // PROPTEST_CASES=20000 turns this into a longer fuzz run of the engine.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(256),
        rng_seed: proptest::test_runner::RngSeed::Fixed(6),
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_events_never_panic_and_replay_is_order_free(
        events in arb_events(),
        perm in any::<u64>(),
    ) {
        let ctx = context(t1_plan());
        let base = in_order(&ctx, &events);
        prop_assert_eq!(ids(&base).len(), base.len());

        // The same events in another arrival order, through replay per vehicle.
        let mut shuffled = events.clone();
        let n = shuffled.len();
        if n > 1 {
            let mut x = perm | 1;
            for i in (1..n).rev() {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                shuffled.swap(i, (x % (i as u64 + 1)) as usize);
            }
        }
        let mut e = Engine::new();
        let mut replayed = Vec::new();
        for v in ["T1", "T2", "T9"] {
            replayed.extend(e.replay(&ctx, &VehicleId::new(v), &mut shuffled));
        }
        prop_assert_eq!(by_id(&base), by_id(&replayed));

        // Live arrival in that order: every in-order incident is raised, none twice.
        let mut live = Engine::new();
        let mut got = Vec::new();
        for ev in &shuffled {
            got.extend(live.on_event(&ctx, ev));
        }
        prop_assert_eq!(ids(&got).len(), got.len());
        prop_assert!(ids(&base).is_subset(&ids(&got)));
        // And a closing shift never panics either.
        let _ = live.close_shift(&ctx, &VehicleId::new("T1"), i64::MAX);
    }
}

#[test]
fn engine_and_context_can_be_shared_across_threads() {
    fn check<T: Send + Sync>() {}
    check::<Engine>();
    check::<crate::RuleContext>();
}

#[test]
fn each_incident_knows_the_trip_it_was_raised_on() {
    let (w, inc) = bad_day();
    let trip = |r: RuleId| -> Vec<Option<u32>> {
        inc.iter()
            .filter(|i| i.rule == r)
            .map(|i| w.engine.trip_index(&i.id))
            .collect()
    };
    // First trip: the scans, and what its ticket reveals (real time and at trip end).
    assert!(trip(RuleId::MixedTrip).iter().all(|t| *t == Some(0)));
    assert!(trip(RuleId::WrongFacility).iter().all(|t| *t == Some(0)));
    assert!(trip(RuleId::MassBalance).iter().all(|t| *t == Some(0)));
    // Second trip: back at the depot loaded.
    assert_eq!(trip(RuleId::UndeliveredLoad), [Some(1)]);
    // Shift-level.
    assert!(trip(RuleId::MissedPickup).iter().all(Option::is_none));
    assert_eq!(w.engine.trip_index("no-such-incident"), None);
}
