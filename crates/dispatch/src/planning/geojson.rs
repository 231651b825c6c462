//! GeoJSON of a plan (RFC 7946, `[lon, lat]`): one LineString per trip and per return
//! leg coloured by stream, a Point per stop, facility, depot and unserved visit. The
//! demo's map page and `sortfleet plan --geojson` share it.

use serde_json::{Value, json};
use sortfleet_model::{LatLon, Plan, Scenario};

use crate::map::stream_colour;

fn xy(p: &LatLon) -> Value {
    json!([(p.lon * 1e6).round() / 1e6, (p.lat * 1e6).round() / 1e6])
}

fn point(p: &LatLon, props: Value) -> Value {
    json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": xy(p)}, "properties": props})
}

fn line(pts: &[LatLon], props: Value) -> Value {
    let coords: Vec<Value> = pts.iter().map(xy).collect();
    json!({"type": "Feature", "geometry": {"type": "LineString", "coordinates": coords}, "properties": props})
}

/// The plan as a GeoJSON `FeatureCollection`. Every feature has a `kind` property
/// (`trip`, `return`, `stop`, `facility`, `depot`, `unserved`); trips, stops and
/// unserved visits carry `stream` and `colour`. Legs without stored geometry are drawn
/// as straight lines between the places they join.
pub fn plan_geojson(s: &Scenario, plan: &Plan) -> Value {
    let mut f = Vec::new();
    for d in &s.depots {
        f.push(point(
            &d.location,
            json!({"kind": "depot", "id": d.id, "name": d.name}),
        ));
    }
    for fac in &s.facilities {
        f.push(point(
            &fac.location,
            json!({"kind": "facility", "id": fac.id, "name": fac.name,
                   "facility_kind": fac.kind, "accepted_streams": fac.accepted_streams}),
        ));
    }
    let loc_of_point = |id| s.point(id).map(|p| p.location);
    for r in &plan.routes {
        let mut here = s.depot(&r.depot).map(|d| d.location);
        for (ti, t) in r.trips.iter().enumerate() {
            let colour = stream_colour(t.stream);
            let mut path: Vec<LatLon> = Vec::new();
            let mut push_leg = |geom: &[LatLon], to: Option<LatLon>, here: &mut Option<LatLon>| {
                if geom.is_empty() {
                    path.extend(here.iter().copied());
                    path.extend(to.iter().copied());
                } else {
                    path.extend_from_slice(geom);
                }
                *here = to.or(*here);
            };
            for (k, st) in t.stops.iter().enumerate() {
                let at = loc_of_point(&st.point);
                push_leg(&st.geometry, at, &mut here);
                if let Some(at) = at {
                    f.push(point(
                        &at,
                        json!({"kind": "stop", "vehicle": r.vehicle, "trip": ti, "seq": k,
                               "point": st.point, "stream": t.stream, "colour": colour,
                               "arrival_s": st.arrival_s, "departure_s": st.departure_s,
                               "load_after_kg": st.load_after_kg}),
                    ));
                }
            }
            let fac_at = s.facility(&t.unload.facility).map(|x| x.location);
            push_leg(&t.unload.geometry, fac_at, &mut here);
            path.dedup();
            f.push(line(
                &path,
                json!({"kind": "trip", "vehicle": r.vehicle, "trip": ti, "stream": t.stream,
                       "colour": colour, "stops": t.stops.len(), "facility": t.unload.facility,
                       "load_kg": t.unload.load_kg}),
            ));
        }
        let home = s.depot(&r.depot).map(|d| d.location);
        let mut back: Vec<LatLon> = if r.return_geometry.is_empty() {
            here.iter().chain(home.iter()).copied().collect()
        } else {
            r.return_geometry.clone()
        };
        back.dedup();
        if back.len() >= 2 && !r.trips.is_empty() {
            f.push(line(
                &back,
                json!({"kind": "return", "vehicle": r.vehicle, "colour": "#888888"}),
            ));
        }
    }
    for u in &plan.unserved {
        if let Some(at) = loc_of_point(&u.point) {
            f.push(point(
                &at,
                json!({"kind": "unserved", "point": u.point, "stream": u.stream,
                       "colour": stream_colour(u.stream), "reason": u.reason, "detail": u.detail}),
            ));
        }
    }
    json!({"type": "FeatureCollection", "features": f})
}
