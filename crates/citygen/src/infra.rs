//! Facilities and depots: real ones from OSM tags where the map has them, the rest
//! placed on real road nodes towards the edge of town.
//!
//! A placed site must be reachable once the roads crate builds its graph, so it goes on
//! a node of a two-way, non-motorway road in the largest strongly connected piece of
//! the road network (clipped extracts leave dangling fragments near their border), about
//! [`EDGE_FRACTION`] of the way from the centre to the edge of the road network's
//! extent — where depots, transfer stations and plants usually sit. Where the map has
//! `landuse=industrial` areas, the outermost ones are used as anchors first.

use std::collections::{BTreeSet, HashMap, HashSet};

use sortfleet_model::{
    Depot, DepotId, Facility, FacilityId, FacilityKind, LatLon, Metres, Seconds, Stream, TimeWindow,
};

use crate::osm::{OsmData, Poi};
use crate::rng::Rng;

/// How far out, from the centre (0) to the road network's extent (1), sites are placed.
pub(crate) const EDGE_FRACTION: f64 = 0.92;

/// Nodes where a gate may be placed, and the extent of the road network.
pub(crate) struct Sites {
    candidates: Vec<(i64, LatLon)>,
    /// (min lon, min lat), from the 2nd percentile of road nodes.
    pub min: (f64, f64),
    /// (max lon, max lat), from the 98th percentile.
    pub max: (f64, f64),
    used: BTreeSet<i64>,
}

/// Node ids of the largest strongly connected piece of the drivable network (one-way
/// streets respected): the part of the map a truck can both reach and leave, which is
/// what the roads crate keeps. Kosaraju's algorithm, iterative.
pub(crate) fn main_network(osm: &OsmData) -> HashSet<i64> {
    let mut index: HashMap<i64, usize> = HashMap::new();
    let mut ids: Vec<i64> = Vec::new();
    let mut idx = |n: i64, ids: &mut Vec<i64>| {
        *index.entry(n).or_insert_with(|| {
            ids.push(n);
            ids.len() - 1
        })
    };
    let mut arcs: Vec<(usize, usize)> = Vec::new();
    for r in &osm.roads {
        for w in r.refs.windows(2) {
            let (a, b) = (idx(w[0], &mut ids), idx(w[1], &mut ids));
            arcs.push((a, b));
            if !r.oneway {
                arcs.push((b, a));
            }
        }
    }
    let n = ids.len();
    let mut fwd: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut bwd: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (a, b) in arcs {
        fwd[a].push(b);
        bwd[b].push(a);
    }
    // Pass 1: finishing order on the forward graph.
    let mut seen = vec![false; n];
    let mut order = Vec::with_capacity(n);
    for s in 0..n {
        if seen[s] {
            continue;
        }
        seen[s] = true;
        let mut stack = vec![(s, 0usize)];
        while let Some((v, i)) = stack.pop() {
            if let Some(&w) = fwd[v].get(i) {
                stack.push((v, i + 1));
                if !seen[w] {
                    seen[w] = true;
                    stack.push((w, 0));
                }
            } else {
                order.push(v);
            }
        }
    }
    // Pass 2: components on the reverse graph, latest finisher first.
    let mut comp = vec![usize::MAX; n];
    let mut sizes: Vec<usize> = Vec::new();
    for &s in order.iter().rev() {
        if comp[s] != usize::MAX {
            continue;
        }
        let c = sizes.len();
        sizes.push(0);
        comp[s] = c;
        let mut stack = vec![s];
        while let Some(v) = stack.pop() {
            sizes[c] += 1;
            for &w in &bwd[v] {
                if comp[w] == usize::MAX {
                    comp[w] = c;
                    stack.push(w);
                }
            }
        }
    }
    let Some(biggest) = (0..sizes.len()).max_by_key(|c| (sizes[*c], std::cmp::Reverse(*c))) else {
        return HashSet::new();
    };
    (0..n)
        .filter(|v| comp[*v] == biggest)
        .map(|v| ids[v])
        .collect()
}

impl Sites {
    /// Builds the candidate list from the nodes of `main` (see [`main_network`]);
    /// `None` when it is empty.
    pub fn new(osm: &OsmData, main: &HashSet<i64>) -> Option<Sites> {
        if main.is_empty() {
            return None;
        }
        let mut seen = BTreeSet::new();
        let mut candidates = Vec::new();
        for r in osm.roads.iter().filter(|r| r.is_gate_road()) {
            for n in &r.refs {
                if main.contains(n) && seen.insert(*n) {
                    candidates.push((*n, osm.nodes[n]));
                }
            }
        }
        if candidates.is_empty() {
            // No two-way road at all: fall back to any node of the main network.
            for r in &osm.roads {
                for n in &r.refs {
                    if main.contains(n) && seen.insert(*n) {
                        candidates.push((*n, osm.nodes[n]));
                    }
                }
            }
        }
        let mut lats: Vec<f64> = Vec::new();
        let mut lons: Vec<f64> = Vec::new();
        let mut all = BTreeSet::new();
        for r in &osm.roads {
            for n in &r.refs {
                if all.insert(*n) {
                    lats.push(osm.nodes[n].lat);
                    lons.push(osm.nodes[n].lon);
                }
            }
        }
        lats.sort_by(f64::total_cmp);
        lons.sort_by(f64::total_cmp);
        let pct = |v: &[f64], q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
        Some(Sites {
            candidates,
            min: (pct(&lons, 0.02), pct(&lats, 0.02)),
            max: (pct(&lons, 0.98), pct(&lats, 0.98)),
            used: BTreeSet::new(),
        })
    }

    /// Centre of the road network's extent.
    pub fn centre(&self) -> LatLon {
        LatLon::new(
            (self.min.1 + self.max.1) / 2.0,
            (self.min.0 + self.max.0) / 2.0,
        )
    }

    /// The unused candidate node nearest to `target` (and marks it used).
    pub fn snap(&mut self, target: LatLon) -> LatLon {
        let best = self
            .candidates
            .iter()
            .filter(|(id, _)| !self.used.contains(id))
            .min_by(|a, b| {
                target
                    .haversine_m(&a.1)
                    .total_cmp(&target.haversine_m(&b.1))
                    .then(a.0.cmp(&b.0))
            })
            .or_else(|| self.candidates.first())
            .copied()
            .expect("Sites::new guarantees at least one candidate");
        self.used.insert(best.0);
        best.1
    }

    /// `n` anchor positions spread around the edge of town, rotated by the seed: rays
    /// from the centre at even angles, [`EDGE_FRACTION`] of the way to the border of
    /// the road network's extent (a rectangle, so corner sites sit further out).
    pub fn edge_anchors(&self, n: usize, rng: &mut Rng) -> Vec<LatLon> {
        let c = self.centre();
        let (hx, hy) = (
            (self.max.0 - self.min.0) / 2.0,
            (self.max.1 - self.min.1) / 2.0,
        );
        let turn = rng.unit();
        (0..n)
            .map(|i| {
                let a = std::f64::consts::TAU * (turn + i as f64 / n as f64);
                let (dx, dy) = (a.cos(), a.sin());
                let to_border = 1.0 / dx.abs().max(dy.abs());
                let k = EDGE_FRACTION * to_border;
                LatLon::new(c.lat + hy * dy * k, c.lon + hx * dx * k)
            })
            .collect()
    }
}

/// The OSM materials (`recycling:*=yes`) that make a site take a stream.
pub(crate) fn stream_of_material(material: &str) -> Stream {
    match material {
        "batteries" | "car_batteries" | "low_energy_bulbs" | "fluorescent_tubes" | "paint"
        | "chemicals" | "engine_oil" | "oil" | "waste_oil" | "hazardous_waste" | "medicine"
        | "drugs" | "pesticides" | "gas_bottles" | "sharps" => Stream::Hazardous,
        "furniture"
        | "mattresses"
        | "white_goods"
        | "fridge_and_freezer"
        | "bulky_waste"
        | "electrical_appliances"
        | "sofas"
        | "wood" => Stream::Bulky,
        "rubble" | "hardcore" | "building_materials" | "plasterboard" | "soil" | "tiles"
        | "construction_waste" => Stream::Renovation,
        "organic" | "food_waste" | "green_waste" | "garden_waste" => Stream::Kitchen,
        _ => Stream::Recyclable,
    }
}

/// Streams a POI's `recycling:*=yes` tags name.
pub(crate) fn recycling_streams(poi: &Poi) -> BTreeSet<Stream> {
    poi.tags
        .iter()
        .filter(|(_, v)| v == "yes")
        .filter_map(|(k, _)| k.strip_prefix("recycling:"))
        .map(stream_of_material)
        .collect()
}

/// What a POI is, as waste infrastructure.
pub(crate) enum PoiRole {
    /// A treatment or transfer facility.
    Facility(FacilityKind, Vec<Stream>),
    /// A public recycling container (a `RECYCLABLE` collection point).
    RecyclingContainer,
    /// A public household-waste container (household points move onto it).
    WasteContainer,
    /// Litter bins and the like: not part of a collection round.
    Ignored,
}

/// Classifies a waste POI by its tags.
pub(crate) fn classify(poi: &Poi) -> PoiRole {
    let amenity = poi.tag("amenity");
    match amenity {
        Some("recycling") => {
            if poi.tag("recycling_type") == Some("centre") {
                let mut streams = recycling_streams(poi);
                streams.insert(Stream::Recyclable);
                PoiRole::Facility(FacilityKind::SortingStation, streams.into_iter().collect())
            } else {
                PoiRole::RecyclingContainer
            }
        }
        Some("waste_transfer_station") => {
            let organic = matches!(poi.tag("waste"), Some(w) if w.contains("organic"));
            let mut streams = vec![Stream::Residual];
            if organic {
                streams.insert(0, Stream::Kitchen);
            }
            PoiRole::Facility(FacilityKind::TransferStation, streams)
        }
        Some("waste_disposal") => match poi.tag("waste") {
            Some(w) if w.contains("litter") || w.contains("dog_excrement") => PoiRole::Ignored,
            _ => PoiRole::WasteContainer,
        },
        _ if poi.tag("landuse") == Some("landfill") => {
            PoiRole::Facility(FacilityKind::Landfill, vec![Stream::Residual])
        }
        _ if poi.tag("plant:source") == Some("waste") => {
            PoiRole::Facility(FacilityKind::Incinerator, vec![Stream::Residual])
        }
        _ if matches!(poi.tag("industrial"), Some("waste_handling" | "recycling")) => {
            PoiRole::Facility(FacilityKind::SortingStation, vec![Stream::Recyclable])
        }
        _ if poi.tag("industrial") == Some("scrap_yard") => {
            PoiRole::Facility(FacilityKind::BulkyPoint, vec![Stream::Bulky])
        }
        _ => PoiRole::Ignored,
    }
}

/// Operating data per kind: (opening hours, unload time, geofence radius).
fn operations(kind: FacilityKind) -> (TimeWindow, Seconds, Metres) {
    use FacilityKind::*;
    match kind {
        Incinerator => (TimeWindow::ALL_DAY, Seconds(480), Metres(250)),
        Landfill => (TimeWindow::hm((5, 0), (21, 0)), Seconds(600), Metres(400)),
        TransferStation | KitchenPlant | Composting => {
            (TimeWindow::hm((5, 0), (22, 0)), Seconds(540), Metres(150))
        }
        SortingStation => (TimeWindow::hm((6, 0), (20, 0)), Seconds(600), Metres(150)),
        HazardousStore => (TimeWindow::hm((7, 0), (17, 0)), Seconds(900), Metres(100)),
        BulkyPoint => (TimeWindow::hm((7, 0), (18, 0)), Seconds(900), Metres(150)),
        ConstructionSite => (TimeWindow::hm((7, 0), (18, 0)), Seconds(600), Metres(200)),
    }
}

/// Human name of a kind.
fn kind_name(kind: FacilityKind) -> &'static str {
    use FacilityKind::*;
    match kind {
        TransferStation => "transfer station",
        SortingStation => "recyclables sorting station",
        HazardousStore => "hazardous waste store",
        Incinerator => "waste-to-energy plant",
        Landfill => "landfill",
        KitchenPlant => "kitchen waste plant",
        Composting => "composting site",
        BulkyPoint => "bulky waste dismantling point",
        ConstructionSite => "construction waste site",
    }
}

/// Builds a facility with the kind's operating data.
pub(crate) fn facility(
    id: String,
    name: String,
    kind: FacilityKind,
    location: LatLon,
    accepted: Vec<Stream>,
) -> Facility {
    let (opening_hours, unload_s, geofence_radius_m) = operations(kind);
    Facility {
        id: FacilityId::new(id),
        name,
        kind,
        location,
        accepted_streams: accepted,
        opening_hours,
        unload_s,
        daily_intake_limit_kg: None,
        geofence_radius_m,
    }
}

/// Real facilities from `pois`, numbered `F01…`; returns them and how many POIs were used.
pub(crate) fn real_facilities(pois: &[Poi]) -> Vec<Facility> {
    let mut out = Vec::new();
    for poi in pois {
        if let PoiRole::Facility(kind, streams) = classify(poi) {
            let name = match poi.tag("name") {
                Some(n) => format!("{n} (OSM {})", poi.osm_ref),
                None => format!("{} (OSM {})", kind_name(kind), poi.osm_ref),
            };
            out.push(facility(
                format!("F{:02}", out.len() + 1),
                name,
                kind,
                poi.location,
                streams,
            ));
        }
    }
    out
}

/// The placed facility for a stream no real facility takes.
pub(crate) fn placed_kind(stream: Stream) -> FacilityKind {
    match stream {
        Stream::Kitchen => FacilityKind::KitchenPlant,
        Stream::Recyclable => FacilityKind::SortingStation,
        Stream::Hazardous => FacilityKind::HazardousStore,
        Stream::Residual => FacilityKind::TransferStation,
        Stream::Bulky => FacilityKind::BulkyPoint,
        Stream::Renovation => FacilityKind::ConstructionSite,
    }
}

/// Adds a placed facility for every stream that no facility accepts, and `n_depots`
/// depots; all on edge-of-town road nodes. Returns the depots.
pub(crate) fn place(
    osm: &OsmData,
    sites: &mut Sites,
    facilities: &mut Vec<Facility>,
    n_depots: usize,
    rng: &mut Rng,
) -> Vec<Depot> {
    let missing: Vec<Stream> = Stream::ALL
        .into_iter()
        .filter(|s| !facilities.iter().any(|f| f.accepts(*s)))
        .collect();
    let n = missing.len() + n_depots;
    // Outermost industrial areas first, then evenly spread anchors.
    let c = sites.centre();
    let mut industrial: Vec<LatLon> = osm
        .industrial
        .iter()
        .copied()
        .filter(|p| {
            p.lon >= sites.min.0
                && p.lon <= sites.max.0
                && p.lat >= sites.min.1
                && p.lat <= sites.max.1
        })
        .collect();
    industrial.sort_by(|a, b| c.haversine_m(b).total_cmp(&c.haversine_m(a)));
    let mut anchors: Vec<LatLon> = industrial.into_iter().take(n).collect();
    let edge = sites.edge_anchors(n - anchors.len(), rng);
    anchors.extend(edge);
    // Depots take alternate anchors so they sit between the plants, not next to one.
    let mut anchors = anchors.into_iter();
    let mut depots = Vec::new();
    let mut k = facilities.len();
    for (i, stream) in missing.into_iter().enumerate() {
        if depots.len() < n_depots && i % 2 == 1 {
            let a = anchors.next().expect("one anchor per site");
            depots.push(depot(depots.len(), sites.snap(a)));
        }
        let a = anchors.next().expect("one anchor per site");
        let kind = placed_kind(stream);
        k += 1;
        facilities.push(facility(
            format!("F{k:02}"),
            format!("{} (placed)", capitalise(kind_name(kind))),
            kind,
            sites.snap(a),
            vec![stream],
        ));
    }
    for a in anchors {
        if depots.len() < n_depots {
            depots.push(depot(depots.len(), sites.snap(a)));
        }
    }
    depots
}

fn depot(i: usize, location: LatLon) -> Depot {
    Depot {
        id: DepotId::new(format!("DEP{}", i + 1)),
        name: format!("Fleet depot {} (placed)", i + 1),
        location,
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
