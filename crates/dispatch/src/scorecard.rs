//! The regulator's scorecard: per district, stream and day, computed from the stored
//! events, the stored incidents and the published plans ("one table of assessment").
//!
//! Pure: the application core gathers the inputs, this module only counts, so the
//! figures are testable without a database. Definitions:
//!
//! * **trip** — the stretch of a vehicle's events up to a weighbridge ticket; it counts
//!   for every district one of its scans came from, under the ticket's declared stream.
//! * **tonnage** — a ticket's net weight, split over the trip's districts by lift weight
//!   (by scan count when the truck has no scale); rejected loads deliver nothing.
//! * **planned / served / missed visits** — (point, stream) visits of the day's published
//!   plan; served = the point had a scan of that stream that day (planned or not);
//!   missed = planned and not served.
//! * **accuracy** — share of scans that are clean: not evidence of a `STREAM_MISMATCH`
//!   or `MIXED_TRIP` incident, not at a point a `CONTAMINATED_DELIVERY` was traced to
//!   on that trip, with driver-reported contaminated bins counted as unclean scans.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::NaiveDate;
use sortfleet_model::event::{EventKind, ExceptionKind, TruckEvent};
use sortfleet_model::incident::{Incident, RuleId};
use sortfleet_model::{BinId, CollectionPoint, DistrictId, Kilograms, Plan, PointId, Stream};

/// Which rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScorecardQuery {
    /// First day, inclusive.
    pub from: NaiveDate,
    /// Last day, inclusive.
    pub to: NaiveDate,
    /// Districts; empty means all.
    pub districts: Vec<DistrictId>,
    /// Streams; empty means all.
    pub streams: Vec<Stream>,
}

/// Figures of one district, stream and day.
#[derive(Clone, Debug, PartialEq)]
pub struct ScorecardRow {
    /// District.
    pub district: DistrictId,
    /// Stream; `None` only for incidents not bound to a stream.
    pub stream: Option<Stream>,
    /// Day.
    pub date: NaiveDate,
    /// Net weight delivered.
    pub tonnage_kg: Kilograms,
    /// Trips that carried the stream from the district.
    pub trips: u32,
    /// Visits in the published plan.
    pub planned_visits: u32,
    /// Visits served (a scan of the stream at the point).
    pub served_visits: u32,
    /// Planned visits not served.
    pub missed_visits: u32,
    /// Incidents per rule (zero counts omitted).
    pub incidents_by_rule: BTreeMap<RuleId, u32>,
    /// Scans (bin lifts and contaminated-bin reports).
    pub scans: u32,
    /// Clean scans.
    pub clean_scans: u32,
    /// `clean_scans / scans`, 1.0 without scans.
    pub accuracy_rate: f64,
}

/// What the scorecard is computed from.
#[derive(Clone, Copy, Debug)]
pub struct ScorecardInput<'a> {
    /// Events of the period (any order).
    pub events: &'a [TruckEvent],
    /// Incidents of the period.
    pub incidents: &'a [Incident],
    /// Collection points (district, registered bins).
    pub points: &'a BTreeMap<PointId, CollectionPoint>,
    /// The published plan of each day.
    pub plans: &'a BTreeMap<NaiveDate, Plan>,
    /// Offset of the service day's local time from UTC, seconds.
    pub utc_offset_s: i64,
}

type Key = (DistrictId, Option<Stream>, NaiveDate);

#[derive(Default)]
struct Acc {
    tonnage: i64,
    trips: u32,
    planned: u32,
    served: u32,
    missed: u32,
    rules: BTreeMap<RuleId, u32>,
    scans: u32,
    clean: u32,
}

struct Scan {
    event: String,
    point: PointId,
    district: DistrictId,
    stream: Option<Stream>,
    lift: Option<Kilograms>,
    date: NaiveDate,
    unclean: bool,
    /// A real lift (false for a contaminated-bin report: nothing was loaded).
    lifted: bool,
}

fn day(ms: i64, off: i64) -> NaiveDate {
    crate::app::day_of(ms, off)
}

/// Computes the rows for `q`, ordered by district, day, stream.
pub fn compute(input: &ScorecardInput<'_>, q: &ScorecardQuery) -> Vec<ScorecardRow> {
    let off = input.utc_offset_s;
    let mut acc: BTreeMap<Key, Acc> = BTreeMap::new();
    let bins: HashMap<&BinId, (&PointId, Stream)> = input
        .points
        .values()
        .flat_map(|p| p.bins.iter().map(move |b| (&b.id, (&p.id, b.stream))))
        .collect();
    let district_of = |p: &PointId| input.points.get(p).map(|p| p.district.clone());

    // Evidence that makes a scan unclean.
    let mut mismatch: HashSet<&str> = HashSet::new();
    let mut contaminated_by: HashMap<&str, Vec<Option<&PointId>>> = HashMap::new();
    for i in input.incidents {
        match i.rule {
            RuleId::StreamMismatch | RuleId::MixedTrip => {
                mismatch.extend(i.evidence.iter().map(String::as_str));
            }
            RuleId::ContaminatedDelivery => {
                for e in &i.evidence {
                    contaminated_by
                        .entry(e.as_str())
                        .or_default()
                        .push(i.point.as_ref());
                }
            }
            _ => {}
        }
        let Some(d) = &i.district else { continue };
        let k = (d.clone(), i.stream, day(i.occurred_at, off));
        *acc.entry(k).or_default().rules.entry(i.rule).or_default() += 1;
    }

    // Planned visits.
    let mut planned: BTreeSet<(PointId, Stream, NaiveDate)> = BTreeSet::new();
    for (date, plan) in input.plans {
        for s in plan
            .routes
            .iter()
            .flat_map(|r| &r.trips)
            .flat_map(|t| &t.stops)
        {
            if planned.insert((s.point.clone(), s.stream, *date))
                && let Some(d) = district_of(&s.point)
            {
                acc.entry((d, Some(s.stream), *date)).or_default().planned += 1;
            }
        }
    }

    // Walk each vehicle's events in time order, trip by trip.
    let mut evs: Vec<&TruckEvent> = input.events.iter().collect();
    evs.sort_by(|a, b| {
        (&a.vehicle, a.occurred_at, a.device_seq, &a.client_event_id).cmp(&(
            &b.vehicle,
            b.occurred_at,
            b.device_seq,
            &b.client_event_id,
        ))
    });
    let mut served: BTreeSet<(PointId, Stream, NaiveDate)> = BTreeSet::new();
    let mut trip: Vec<Scan> = Vec::new();
    let close = |trip: &mut Vec<Scan>, acc: &mut BTreeMap<Key, Acc>| {
        for s in trip.drain(..) {
            let a = acc.entry((s.district, s.stream, s.date)).or_default();
            a.scans += 1;
            if !s.unclean && !mismatch.contains(s.event.as_str()) {
                a.clean += 1;
            }
        }
    };
    for (idx, e) in evs.iter().enumerate() {
        if idx > 0 && evs[idx - 1].vehicle != e.vehicle {
            close(&mut trip, &mut acc);
        }
        let date = day(e.occurred_at, off);
        match &e.kind {
            EventKind::BinScan {
                bin,
                stream,
                point,
                lift_kg,
            } => {
                let reg = bin.as_ref().and_then(|b| bins.get(b));
                let stream = reg.map(|r| r.1).or(*stream);
                let point = point.clone().or_else(|| reg.map(|r| r.0.clone()));
                let Some(point) = point else { continue };
                let Some(district) = district_of(&point) else {
                    continue;
                };
                if let Some(s) = stream {
                    served.insert((point.clone(), s, date));
                }
                trip.push(Scan {
                    event: e.client_event_id.clone(),
                    point,
                    district,
                    stream,
                    lift: *lift_kg,
                    date,
                    unclean: false,
                    lifted: true,
                });
            }
            EventKind::DriverException {
                kind: ExceptionKind::Contaminated,
                point,
                bin,
                ..
            } => {
                let stream = bin.as_ref().and_then(|b| bins.get(b)).map(|r| r.1);
                if let Some(district) = district_of(point) {
                    trip.push(Scan {
                        event: e.client_event_id.clone(),
                        point: point.clone(),
                        district,
                        stream,
                        lift: None,
                        date,
                        unclean: true,
                        lifted: false,
                    });
                }
            }
            EventKind::WeighbridgeTicket {
                net_kg,
                declared_stream,
                rejected,
                ..
            } => {
                if let Some(points) = contaminated_by.get(e.client_event_id.as_str()) {
                    for s in trip.iter_mut() {
                        if points.iter().any(|p| p.is_none_or(|p| *p == s.point)) {
                            s.unclean = true;
                        }
                    }
                }
                let lifts: Vec<&Scan> = trip.iter().filter(|s| s.lifted).collect();
                let all_weighed =
                    !lifts.is_empty() && lifts.iter().all(|s| s.lift.is_some_and(|k| k.0 > 0));
                let mut share: BTreeMap<DistrictId, i64> = BTreeMap::new();
                for s in &lifts {
                    let w = if all_weighed {
                        s.lift.map_or(0, |k| k.0)
                    } else {
                        1
                    };
                    *share.entry(s.district.clone()).or_default() += w;
                }
                let total: i64 = share.values().sum();
                let mut given = 0i64;
                let n = share.len();
                for (i, (d, w)) in share.into_iter().enumerate() {
                    let a = acc.entry((d, Some(*declared_stream), date)).or_default();
                    a.trips += 1;
                    if !*rejected && total > 0 {
                        // Largest-remainder free split: the last district gets the rest.
                        let part = if i + 1 == n {
                            net_kg.0 - given
                        } else {
                            net_kg.0 * w / total
                        };
                        given += part;
                        a.tonnage += part;
                    }
                }
                close(&mut trip, &mut acc);
            }
            _ => {}
        }
    }
    close(&mut trip, &mut acc);

    for (p, s, d) in &planned {
        if let Some(dist) = district_of(p) {
            let a = acc.entry((dist, Some(*s), *d)).or_default();
            if !served.contains(&(p.clone(), *s, *d)) {
                a.missed += 1;
            }
        }
    }
    for (p, s, d) in &served {
        if let Some(dist) = district_of(p) {
            acc.entry((dist, Some(*s), *d)).or_default().served += 1;
        }
    }

    let mut rows: Vec<ScorecardRow> = acc
        .into_iter()
        .filter(|((d, s, date), _)| {
            *date >= q.from
                && *date <= q.to
                && (q.districts.is_empty() || q.districts.contains(d))
                && (q.streams.is_empty() || s.is_some_and(|s| q.streams.contains(&s)))
        })
        .map(|((district, stream, date), a)| ScorecardRow {
            district,
            stream,
            date,
            tonnage_kg: Kilograms(a.tonnage),
            trips: a.trips,
            planned_visits: a.planned,
            served_visits: a.served,
            missed_visits: a.missed,
            incidents_by_rule: a.rules,
            scans: a.scans,
            clean_scans: a.clean,
            accuracy_rate: if a.scans == 0 {
                1.0
            } else {
                f64::from(a.clean) / f64::from(a.scans)
            },
        })
        .collect();
    rows.sort_by(|a, b| (&a.district, a.date, a.stream).cmp(&(&b.district, b.date, b.stream)));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use sortfleet_model::event::TruckEvent;
    use sortfleet_model::{Bin, Demand, FacilityId, LatLon, Litres, Seconds, VehicleId};

    fn point(id: &str, district: &str) -> CollectionPoint {
        CollectionPoint {
            id: PointId::new(id),
            name: String::new(),
            location: LatLon::new(30.0, 120.0),
            district: DistrictId::new(district),
            demands: vec![Demand {
                stream: Stream::Kitchen,
                kg: Kilograms(10),
                litres: Litres(10),
            }],
            service_s: Seconds(60),
            time_windows: vec![],
            priority: 0,
            bins: vec![Bin {
                id: BinId::new(format!("{id}-K")),
                stream: Stream::Kitchen,
            }],
        }
    }

    fn ev(id: &str, t: i64, kind: EventKind) -> TruckEvent {
        TruckEvent {
            client_event_id: id.into(),
            device_seq: t as u64,
            vehicle: VehicleId::new("T1"),
            occurred_at: 1_764_460_800_000 + t * 1000,
            position: None,
            kind,
        }
    }

    fn scan(id: &str, t: i64, p: &str, kg: i64) -> TruckEvent {
        ev(
            id,
            t,
            EventKind::BinScan {
                bin: Some(BinId::new(format!("{p}-K"))),
                stream: Some(Stream::Kitchen),
                point: Some(PointId::new(p)),
                lift_kg: Some(Kilograms(kg)),
            },
        )
    }

    fn ticket(id: &str, t: i64, net: i64, rejected: bool) -> TruckEvent {
        ev(
            id,
            t,
            EventKind::WeighbridgeTicket {
                facility: FacilityId::new("F"),
                gross_kg: Kilograms(net + 1000),
                tare_kg: Kilograms(1000),
                net_kg: Kilograms(net),
                declared_stream: Stream::Kitchen,
                rejected,
                purity_pct: None,
            },
        )
    }

    #[test]
    fn tonnage_splits_by_lift_weight_and_contamination_marks_scans() {
        let points: BTreeMap<PointId, CollectionPoint> = [point("A", "north"), point("B", "south")]
            .into_iter()
            .map(|p| (p.id.clone(), p))
            .collect();
        let events = vec![
            scan("s1", 1, "A", 30),
            scan("s2", 2, "B", 10),
            ticket("t1", 3, 200, false),
            scan("s3", 4, "B", 10),
            ticket("t2", 5, 50, true),
        ];
        let incidents = vec![Incident {
            id: "c".into(),
            rule: RuleId::ContaminatedDelivery,
            rule_version: 1,
            severity: sortfleet_model::incident::Severity::Warning,
            vehicle: VehicleId::new("T1"),
            stream: Some(Stream::Kitchen),
            district: Some(DistrictId::new("south")),
            point: Some(PointId::new("B")),
            evidence: vec!["t2".into()],
            position: None,
            occurred_at: 1_764_460_805_000,
            message: String::new(),
        }];
        let plans = BTreeMap::new();
        let input = ScorecardInput {
            events: &events,
            incidents: &incidents,
            points: &points,
            plans: &plans,
            utc_offset_s: 0,
        };
        let d = NaiveDate::from_ymd_opt(2025, 11, 30).unwrap();
        let q = ScorecardQuery {
            from: d,
            to: d,
            districts: vec![],
            streams: vec![],
        };
        let rows = compute(&input, &q);
        let north = rows
            .iter()
            .find(|r| r.district.as_str() == "north")
            .unwrap();
        let south = rows
            .iter()
            .find(|r| r.district.as_str() == "south")
            .unwrap();
        // 200 kg split 30:10; the rejected load delivers nothing.
        assert_eq!(north.tonnage_kg, Kilograms(150));
        assert_eq!(south.tonnage_kg, Kilograms(50));
        assert_eq!((north.trips, south.trips), (1, 2));
        assert_eq!((north.scans, north.clean_scans), (1, 1));
        // s3 is traced by the contaminated delivery; s2 is clean.
        assert_eq!((south.scans, south.clean_scans), (2, 1));
        assert_eq!(south.accuracy_rate, 0.5);
        assert_eq!(
            south.incidents_by_rule.get(&RuleId::ContaminatedDelivery),
            Some(&1)
        );
        assert_eq!((south.served_visits, south.missed_visits), (1, 0));
    }
}
