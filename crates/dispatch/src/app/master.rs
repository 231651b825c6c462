//! Master data held in memory (the store is the durable copy) and its validation.
//!
//! An upsert is validated as the whole resulting data set, with the batch's entities
//! placed first in each list so that every problem path (`vehicles[2].capacity_kg`)
//! indexes into the *request*. Cross-checks about coverage ("no vehicle carries
//! HAZARDOUS") are warnings here: master data arrives in any order.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sortfleet_model::{
    CollectionPoint, Depot, DepotId, Facility, FacilityId, PointId, Scenario, Vehicle, VehicleId,
};

use super::error::{AppError, AppResult};
use super::types::{MasterBatch, MasterDelete, RouteView, StopView, TripView, UnloadView};
use sortfleet_model::{Kilograms, Litres, Route};

/// All master data, keyed by id.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Master {
    /// Depots.
    pub depots: BTreeMap<DepotId, Depot>,
    /// Facilities.
    pub facilities: BTreeMap<FacilityId, Facility>,
    /// Vehicles.
    pub vehicles: BTreeMap<VehicleId, Vehicle>,
    /// Collection points.
    pub points: BTreeMap<PointId, CollectionPoint>,
}

const MAX_ID: usize = 256;

fn check_ids<'a>(list: &str, ids: impl Iterator<Item = &'a str>) -> AppResult<()> {
    for (i, id) in ids.enumerate() {
        if id.len() > MAX_ID {
            return Err(AppError::invalid(
                format!("{list}[{i}].id"),
                "longer than 256 bytes",
            ));
        }
    }
    Ok(())
}

impl Master {
    /// The master data as a scenario of `date` (everything, for planning).
    pub fn scenario(&self, name: &str, date: NaiveDate) -> Scenario {
        Scenario {
            name: name.to_owned(),
            date,
            depots: self.depots.values().cloned().collect(),
            facilities: self.facilities.values().cloned().collect(),
            vehicles: self.vehicles.values().cloned().collect(),
            points: self.points.values().cloned().collect(),
        }
    }

    /// Validates `batch` against the current data; on success returns the new data
    /// set and the warnings. Nothing is changed here.
    pub fn apply_upsert(&self, batch: &MasterBatch) -> AppResult<(Master, Vec<String>)> {
        check_ids("depots", batch.depots.iter().map(|d| d.id.as_str()))?;
        check_ids("facilities", batch.facilities.iter().map(|d| d.id.as_str()))?;
        check_ids("vehicles", batch.vehicles.iter().map(|d| d.id.as_str()))?;
        check_ids("points", batch.points.iter().map(|d| d.id.as_str()))?;
        // Batch first (request indices), then the kept existing entities.
        fn merged<K: Ord + Clone, T: Clone>(
            new: &[T],
            old: &BTreeMap<K, T>,
            key: impl Fn(&T) -> K,
        ) -> Vec<T> {
            let mut v: Vec<T> = new.to_vec();
            let replaced: std::collections::BTreeSet<K> = new.iter().map(&key).collect();
            v.extend(
                old.values()
                    .filter(|t| !replaced.contains(&key(t)))
                    .cloned(),
            );
            v
        }
        let sc = Scenario {
            name: "master data".into(),
            date: NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default(),
            depots: merged(&batch.depots, &self.depots, |d| d.id.clone()),
            facilities: merged(&batch.facilities, &self.facilities, |f| f.id.clone()),
            vehicles: merged(&batch.vehicles, &self.vehicles, |v| v.id.clone()),
            points: merged(&batch.points, &self.points, |p| p.id.clone()),
        };
        let report = sc.validate();
        let mut warnings: Vec<String> = report.warnings.iter().map(|p| p.to_string()).collect();
        let mut first_error = None;
        for p in report.errors {
            // Coverage is a property of the whole day, not of one upsert.
            if p.message.starts_with("hazardous demand but no vehicle") {
                warnings.push(p.to_string());
            } else if first_error.is_none() {
                first_error = Some(p);
            }
        }
        if let Some(p) = first_error {
            return Err(AppError::invalid(p.path, p.message));
        }
        let next = Master {
            depots: sc.depots.into_iter().map(|d| (d.id.clone(), d)).collect(),
            facilities: sc
                .facilities
                .into_iter()
                .map(|d| (d.id.clone(), d))
                .collect(),
            vehicles: sc.vehicles.into_iter().map(|d| (d.id.clone(), d)).collect(),
            points: sc.points.into_iter().map(|d| (d.id.clone(), d)).collect(),
        };
        Ok((next, warnings))
    }

    /// Validates a delete (unknown ids are ignored; a depot still used by a kept
    /// vehicle is refused) and returns the new data set.
    pub fn apply_delete(&self, del: &MasterDelete) -> AppResult<Master> {
        let mut next = self.clone();
        for v in &del.vehicles {
            next.vehicles.remove(v);
        }
        for f in &del.facilities {
            next.facilities.remove(f);
        }
        for p in &del.points {
            next.points.remove(p);
        }
        for (i, d) in del.depots.iter().enumerate() {
            if let Some(v) = next.vehicles.values().find(|v| &v.depot == d) {
                return Err(AppError::invalid(
                    format!("depot_ids[{i}]"),
                    format!("depot `{d}` is still the home depot of vehicle `{}`", v.id),
                ));
            }
            next.depots.remove(d);
        }
        Ok(next)
    }

    /// The route enriched with positions, demands and bins for the terminal. Unknown
    /// points or facilities (deleted since planning) get a default position.
    pub fn route_view(&self, route: &Route) -> RouteView {
        let depot_position = self
            .depots
            .get(&route.depot)
            .map(|d| d.location)
            .unwrap_or_default();
        let trips = route
            .trips
            .iter()
            .enumerate()
            .map(|(i, t)| TripView {
                index: i as u32,
                stream: t.stream,
                stops: t
                    .stops
                    .iter()
                    .map(|s| {
                        let p = self.points.get(&s.point);
                        let d = p.and_then(|p| p.demand(s.stream));
                        StopView {
                            stop: s.clone(),
                            position: p.map(|p| p.location).unwrap_or_default(),
                            demand_kg: d.map_or(Kilograms(0), |d| d.kg),
                            demand_l: d.map_or(Litres(0), |d| d.litres),
                            bin_ids: p
                                .map(|p| {
                                    p.bins
                                        .iter()
                                        .filter(|b| b.stream == s.stream)
                                        .map(|b| b.id.clone())
                                        .collect()
                                })
                                .unwrap_or_default(),
                        }
                    })
                    .collect(),
                unload: UnloadView {
                    unload: t.unload.clone(),
                    position: self
                        .facilities
                        .get(&t.unload.facility)
                        .map(|f| f.location)
                        .unwrap_or_default(),
                },
            })
            .collect();
        RouteView {
            vehicle: route.vehicle.clone(),
            depot: route.depot.clone(),
            depot_position,
            start_s: route.start_s,
            end_s: route.end_s,
            trips,
            breaks: route.breaks.clone(),
            return_geometry: route.return_geometry.clone(),
            distance_m: route.distance_m,
            duration_s: route.duration_s,
            cost_ct: route.cost_ct,
        }
    }
}
