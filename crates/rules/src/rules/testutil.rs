//! A tiny test world: one kitchen truck T1 (certified kitchen + residual, no hazardous
//! licence) planned for kitchen visits at P1 and P2 unloading at F_K; a recyclables
//! truck T2 planned at P_OTHER. Map (north up, ~1 km grid):
//!
//! ```text
//!   F_K2                 FAR
//!   +--------------------F_K      corridor: DEPOT-P1-ROAD/P2-corner-F_K
//!   P2            
//!   ROAD
//!   P1        P_OTHER
//!   DEPOT
//!   F_R
//!   F_H
//! ```

use crate::context::*;
use crate::engine::Engine;
use sortfleet_model::event::*;
use sortfleet_model::incident::*;
use sortfleet_model::*;

pub const DEPOT: LatLon = LatLon::new(31.200, 121.400);
pub const P1_POS: LatLon = LatLon::new(31.205, 121.400);
pub const P2_POS: LatLon = LatLon::new(31.210, 121.400);
pub const ROAD: LatLon = LatLon::new(31.2075, 121.400);
pub const CORNER: LatLon = LatLon::new(31.220, 121.400);
pub const F_K_POS: LatLon = LatLon::new(31.220, 121.420);
pub const F_K2_POS: LatLon = LatLon::new(31.230, 121.400);
pub const F_R_POS: LatLon = LatLon::new(31.190, 121.400);
pub const F_H_POS: LatLon = LatLon::new(31.180, 121.380);
pub const P_OTHER_POS: LatLon = LatLon::new(31.205, 121.410);
pub const P4_POS: LatLon = LatLon::new(31.206, 121.401);
pub const FAR: LatLon = LatLon::new(31.250, 121.450);

pub fn t1_plan() -> VehiclePlan {
    VehiclePlan {
        id: VehicleId::new("T1"),
        district: Some(DistrictId::new("D1")),
        depot: Some(DEPOT),
        certified: vec![Stream::Kitchen, Stream::Residual],
        hazardous_licence: false,
        rated_payload: Kilograms(8_000),
        trips: vec![PlannedTrip {
            stream: Stream::Kitchen,
            facility: Some(FacilityId::new("F_K")),
            visits: vec![
                PlannedVisit {
                    point: PointId::new("P1"),
                    expected: Kilograms(40),
                },
                PlannedVisit {
                    point: PointId::new("P2"),
                    expected: Kilograms(40),
                },
            ],
        }],
        corridor: vec![vec![DEPOT, P1_POS, P2_POS, CORNER, F_K_POS]],
    }
}

pub fn context(plan: VehiclePlan) -> RuleContext {
    let mut c = RuleContext::new(Thresholds::default());
    c.add_vehicle(plan).unwrap();
    c.add_vehicle(VehiclePlan {
        id: VehicleId::new("T2"),
        district: None,
        depot: Some(DEPOT),
        certified: vec![Stream::Recyclable],
        hazardous_licence: false,
        rated_payload: Kilograms(5_000),
        trips: vec![PlannedTrip {
            stream: Stream::Recyclable,
            facility: None,
            visits: vec![PlannedVisit {
                point: PointId::new("P_OTHER"),
                expected: Kilograms(30),
            }],
        }],
        corridor: vec![],
    })
    .unwrap();
    let fac = |p: LatLon, s: &[Stream]| FacilitySite {
        position: p,
        geofence: Metres(200),
        accepts: s.to_vec(),
    };
    c.add_facility("F_K".into(), fac(F_K_POS, &[Stream::Kitchen]))
        .unwrap();
    c.add_facility("F_K2".into(), fac(F_K2_POS, &[Stream::Kitchen]))
        .unwrap();
    c.add_facility("F_R".into(), fac(F_R_POS, &[Stream::Residual]))
        .unwrap();
    c.add_facility("F_H".into(), fac(F_H_POS, &[Stream::Hazardous]))
        .unwrap();
    for (id, pos) in [
        ("P1", P1_POS),
        ("P2", P2_POS),
        ("P_OTHER", P_OTHER_POS),
        ("P4", P4_POS),
    ] {
        let info = PointInfo {
            position: Some(pos),
            district: Some(DistrictId::new("D1")),
            registered_bins: [0; 6],
        };
        c.add_point(id.into(), info).unwrap();
    }
    c.add_bin("KB1".into(), "P1".into(), Stream::Kitchen);
    c.add_bin("RB1".into(), "P1".into(), Stream::Residual);
    c.add_bin("RB2".into(), "P1".into(), Stream::Residual);
    c.add_bin("KB2".into(), "P2".into(), Stream::Kitchen);
    c.add_bin("YB1".into(), "P_OTHER".into(), Stream::Recyclable);
    c.add_bin("HB1".into(), "P4".into(), Stream::Hazardous);
    c
}

/// Incidents of one rule.
pub fn only(inc: &[Incident], rule: RuleId) -> Vec<Incident> {
    inc.iter().filter(|i| i.rule == rule).cloned().collect()
}

/// A scripted day of T1; each event is 10 s after the previous one.
pub struct World {
    pub ctx: RuleContext,
    pub engine: Engine,
    pub t: i64,
    pub seq: u64,
    pub pos: Option<LatLon>,
    pub log: Vec<TruckEvent>,
}

impl World {
    pub fn new() -> Self {
        Self::with_plan(|_| {})
    }

    pub fn with_plan(f: impl FnOnce(&mut VehiclePlan)) -> Self {
        let mut p = t1_plan();
        f(&mut p);
        Self {
            ctx: context(p),
            engine: Engine::new(),
            t: 1_700_000_000_000,
            seq: 0,
            pos: Some(DEPOT),
            log: Vec::new(),
        }
    }

    pub fn event(&mut self, kind: EventKind) -> Vec<Incident> {
        self.t += 10_000;
        self.seq += 1;
        let e = TruckEvent {
            client_event_id: format!("e{:04}", self.seq),
            device_seq: self.seq,
            vehicle: VehicleId::new("T1"),
            occurred_at: self.t,
            position: self.pos,
            kind,
        };
        self.log.push(e.clone());
        self.engine.on_event(&self.ctx, &e)
    }

    pub fn start(&mut self) -> Vec<Incident> {
        self.pos = Some(DEPOT);
        self.event(EventKind::ShiftStart)
    }
    pub fn start_nowhere(&mut self) -> Vec<Incident> {
        self.pos = None;
        self.event(EventKind::ShiftStart)
    }
    pub fn wait(&mut self, ms: i64) {
        self.t += ms;
    }
    pub fn at(&mut self, p: LatLon) -> Vec<Incident> {
        self.pos = Some(p);
        self.event(EventKind::GpsFix)
    }
    fn scan_with(
        &mut self,
        bin: Option<&str>,
        point: Option<&str>,
        kg: Option<i64>,
    ) -> Vec<Incident> {
        let reg = bin.and_then(|b| self.ctx.bin(&BinId::new(b))).cloned();
        if let Some(r) = &reg
            && self.pos.is_some()
        {
            self.pos = self.ctx.point(&r.point).and_then(|p| p.position);
        }
        self.event(EventKind::BinScan {
            bin: bin.map(BinId::new),
            stream: reg.map(|r| r.stream),
            point: point.map(PointId::new),
            lift_kg: kg.map(Kilograms),
        })
    }
    pub fn scan(&mut self, bin: &str) -> Vec<Incident> {
        self.scan_with(Some(bin), None, None)
    }
    pub fn scan_kg(&mut self, bin: &str, kg: i64) -> Vec<Incident> {
        self.scan_with(Some(bin), None, Some(kg))
    }
    pub fn scan_untagged(&mut self, point: &str) -> Vec<Incident> {
        self.scan_with(None, Some(point), None)
    }
    pub fn tip(&mut self, tipping: bool) -> Vec<Incident> {
        self.event(EventKind::BodySensor { tipping })
    }
    pub fn load(&mut self, kg: i64) -> Vec<Incident> {
        self.event(EventKind::LoadReading {
            load_kg: Kilograms(kg),
        })
    }
    fn ticket_full(
        &mut self,
        fac: &str,
        s: Stream,
        net: i64,
        rejected: bool,
        purity: Option<u8>,
    ) -> Vec<Incident> {
        if self.pos.is_some() {
            self.pos = self.ctx.facility(&FacilityId::new(fac)).map(|f| f.position);
        }
        self.event(EventKind::WeighbridgeTicket {
            facility: FacilityId::new(fac),
            gross_kg: Kilograms(net + 10_000),
            tare_kg: Kilograms(10_000),
            net_kg: Kilograms(net),
            declared_stream: s,
            rejected,
            purity_pct: purity,
        })
    }
    pub fn ticket(&mut self, fac: &str, s: Stream, net: i64) -> Vec<Incident> {
        self.ticket_full(fac, s, net, false, None)
    }
    pub fn ticket_purity(&mut self, fac: &str, s: Stream, net: i64, purity: u8) -> Vec<Incident> {
        self.ticket_full(fac, s, net, false, Some(purity))
    }
    pub fn reject(&mut self, fac: &str, s: Stream) -> Vec<Incident> {
        self.ticket_full(fac, s, 40, true, None)
    }
    pub fn exception(&mut self, kind: ExceptionKind, point: &str) -> Vec<Incident> {
        self.event(EventKind::DriverException {
            kind,
            point: PointId::new(point),
            bin: None,
            photo_sha256: Some("ab".repeat(32)),
        })
    }
    pub fn end(&mut self) -> Vec<Incident> {
        self.event(EventKind::ShiftEnd)
    }
    pub fn close(&mut self) -> Vec<Incident> {
        self.t += 10_000;
        self.engine
            .close_shift(&self.ctx, &VehicleId::new("T1"), self.t)
    }

    /// A full clean day; returns every incident raised (should be none).
    pub fn clean_day_world() -> (World, Vec<Incident>) {
        let mut w = World::new();
        let mut all = Vec::new();
        all.extend(w.start());
        all.extend(w.at(P1_POS));
        all.extend(w.scan("KB1"));
        all.extend(w.load(40));
        all.extend(w.at(ROAD));
        all.extend(w.scan("KB2"));
        all.extend(w.load(80));
        all.extend(w.at(CORNER));
        all.extend(w.at(F_K_POS));
        all.extend(w.tip(true));
        all.extend(w.load(0));
        all.extend(w.ticket("F_K", Stream::Kitchen, 75));
        all.extend(w.tip(false));
        all.extend(w.at(CORNER));
        all.extend(w.at(ROAD));
        all.extend(w.at(DEPOT));
        all.extend(w.end());
        (w, all)
    }

    pub fn clean_day() -> Vec<Incident> {
        Self::clean_day_world().1
    }
}
