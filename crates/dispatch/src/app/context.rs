//! Building the rules' [`RuleContext`] for one service day from the master data and
//! the day's published plan.
//!
//! Corridor: each leg's road geometry when the plan has it; a leg without geometry
//! falls back to the straight segment between its ends, so that a plan computed
//! without a road graph still gives `ROUTE_DEVIATION` something to measure against.

use std::collections::BTreeMap;

use sortfleet_model::{DistrictId, LatLon, PointId, Stream};
use sortfleet_rules::{
    FacilitySite, PlannedTrip, PlannedVisit, PointInfo, RuleContext, Thresholds, VehiclePlan,
};

use super::error::{AppError, AppResult};
use super::master::Master;
use super::types::PlanRecord;

fn ctx_err(e: sortfleet_rules::ContextError) -> AppError {
    AppError::Internal(format!("rule context: {e}"))
}

/// The rules' view of one day. `prior_contamination` counts earlier contamination
/// incidents per point (repeat sources escalate).
pub fn build_context(
    master: &Master,
    plan: Option<&PlanRecord>,
    thresholds: &Thresholds,
    prior_contamination: &BTreeMap<PointId, u32>,
) -> AppResult<RuleContext> {
    let mut ctx = RuleContext::new(thresholds.clone());
    for (id, f) in &master.facilities {
        ctx.add_facility(
            id.clone(),
            FacilitySite {
                position: f.location,
                geofence: f.geofence_radius_m,
                accepts: f.accepted_streams.clone(),
            },
        )
        .map_err(ctx_err)?;
    }
    for (id, p) in &master.points {
        let mut registered = [0u32; 6];
        for b in &p.bins {
            registered[b.stream.index()] += 1;
        }
        ctx.add_point(
            id.clone(),
            PointInfo {
                position: Some(p.location),
                district: Some(p.district.clone()),
                registered_bins: registered,
            },
        )
        .map_err(ctx_err)?;
        for b in &p.bins {
            ctx.add_bin(b.id.clone(), id.clone(), b.stream);
        }
    }
    for (p, n) in prior_contamination {
        ctx.set_prior_contamination(p.clone(), *n);
    }
    for (id, v) in &master.vehicles {
        let depot = master.depots.get(&v.depot).map(|d| d.location);
        let route = plan.and_then(|r| r.plan.routes.iter().find(|r| &r.vehicle == id));
        let mut trips = Vec::new();
        let mut corridor: Vec<Vec<LatLon>> = Vec::new();
        let mut districts: BTreeMap<DistrictId, u32> = BTreeMap::new();
        if let Some(route) = route {
            let mut prev = depot;
            let mut leg = |geometry: &[LatLon], to: Option<LatLon>, prev: &mut Option<LatLon>| {
                if geometry.len() >= 2 {
                    corridor.push(geometry.to_vec());
                } else if let (Some(a), Some(b)) = (*prev, to) {
                    corridor.push(vec![a, b]);
                }
                if to.is_some() {
                    *prev = to;
                }
            };
            for t in &route.trips {
                let mut visits = Vec::new();
                for s in &t.stops {
                    let p = master.points.get(&s.point);
                    if let Some(p) = p {
                        *districts.entry(p.district.clone()).or_default() += 1;
                    }
                    visits.push(PlannedVisit {
                        point: s.point.clone(),
                        expected: p
                            .and_then(|p| p.demand(s.stream))
                            .map(|d| d.kg)
                            .unwrap_or_default(),
                    });
                    leg(&s.geometry, p.map(|p| p.location), &mut prev);
                }
                let fac = master
                    .facilities
                    .get(&t.unload.facility)
                    .map(|f| f.location);
                leg(&t.unload.geometry, fac, &mut prev);
                trips.push(PlannedTrip {
                    stream: t.stream,
                    facility: Some(t.unload.facility.clone()),
                    visits,
                });
            }
            leg(&route.return_geometry, depot, &mut prev);
        }
        let district = districts
            .into_iter()
            .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
            .map(|(d, _)| d);
        ctx.add_vehicle(VehiclePlan {
            id: id.clone(),
            district,
            depot,
            certified: certified(v),
            hazardous_licence: v.hazardous_licence,
            rated_payload: v.capacity_kg,
            trips,
            corridor,
        })
        .map_err(ctx_err)?;
    }
    Ok(ctx)
}

fn certified(v: &sortfleet_model::Vehicle) -> Vec<Stream> {
    v.certified_streams.clone()
}
