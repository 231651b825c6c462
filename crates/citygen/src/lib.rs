//! citygen: a realistic service day synthesised from a real OpenStreetMap extract.
//!
//! The demo needs a city nobody has to type in. OSM has the roads and, in places, the
//! waste infrastructure; it never has the households, bins or fleet. So citygen keeps
//! every real thing the map offers and fills in the rest by documented rules, all
//! driven by one seed so the same extract and seed always give the same scenario:
//!
//! * **real** — `amenity=recycling` containers become `RECYCLABLE` collection points
//!   (their `recycling:*` tags set the amount); recycling centres, transfer stations,
//!   landfills, waste-fired power plants and waste-handling sites become facilities;
//!   public `amenity=waste_disposal` containers pull the nearest household point onto
//!   them; `boundary=administrative` levels 10/9 name the districts.
//! * **synthesised** — households (estimate below); household points on
//!   residential street nodes, one per `households_per_point` households; demand per
//!   stream in the proportions of household waste; facilities for streams the map has
//!   no site for, and depots, on edge-of-town road nodes; a fleet sized to the demand.
//!
//! **Household estimate.** Two OSM signals, each undercounting somewhere else, and the
//! larger wins: street frontage — one household per 2.5 m of
//! `highway=residential|living_street` (5 m of kerb per home, both sides) — and building
//! floor area — footprint × `building:levels` (3 when untagged) × residential share
//! (0.95 for `apartments|residential|terrace|dormitory`, 0.4 for untyped `yes`) ÷ 80 m²
//! per household, `house`-like buildings one each. Households are then spread along
//! the residential streets by length. Demand: 2.5 people per household, 1 kg per
//! person a day, split kitchen 50% / residual 35% / recyclables 13% (±10% per point),
//! hazardous 0.7% collected weekly at about one point in seven; bulky (80–350 kg) and
//! renovation (300–1,500 kg) calls at 3% and 2% of points.
//!
//! No road graph is needed: facilities and depots sit on nodes of the largest connected
//! piece of the drivable network, so the roads crate snaps them without surprises.

mod districts;
mod fleet;
mod households;
mod infra;
mod osm;
mod points;
mod rng;

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sortfleet_model::{
    Bin, BinId, CollectionPoint, Demand, DistrictId, Kilograms, LatLon, Litres, PointId, Scenario,
    Seconds, Stream, TimeWindow,
};

use crate::fleet::StreamLoad;
use crate::infra::PoiRole;
use crate::rng::Rng;

/// People per household.
pub const PEOPLE_PER_HOUSEHOLD: f64 = 2.5;
/// Household waste per person per day, all household streams together.
pub const KG_PER_PERSON_DAY: f64 = 1.0;
/// Mean share of household waste by weight: kitchen, residual, recyclables. The rest is
/// hazardous ([`HAZARDOUS_SHARE`]) and what residents take elsewhere.
pub const SHARES: [(Stream, f64); 3] = [
    (Stream::Kitchen, 0.50),
    (Stream::Residual, 0.35),
    (Stream::Recyclable, 0.13),
];
/// Share of household waste that is hazardous; collected weekly, so on a given day only
/// about one point in [`HAZARDOUS_ROUND_DAYS`] has it, holding a week's worth.
pub const HAZARDOUS_SHARE: f64 = 0.007;
/// Days in the hazardous collection round.
pub const HAZARDOUS_ROUND_DAYS: f64 = 7.0;
/// Share of household points with a bulky-waste call today.
pub const BULKY_CALL_SHARE: f64 = 0.03;
/// Share of household points with a renovation-debris call today.
pub const RENOVATION_CALL_SHARE: f64 = 0.02;
/// Radius within which a household point moves onto a real public waste container.
pub const CONTAINER_SNAP_M: f64 = 150.0;

/// Settings of one synthesis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CityGenOptions {
    /// Seed of every random choice; same extract + same options = same scenario.
    pub seed: u64,
    /// Households served by one collection point (typical 200–300).
    pub households_per_point: u32,
    /// Cap on collection points (household and recycling); beyond it household points
    /// are thinned evenly over the town so the day still plans quickly.
    pub max_points: usize,
    /// The service day written into the scenario.
    pub date: NaiveDate,
}

impl Default for CityGenOptions {
    fn default() -> Self {
        Self {
            seed: 1,
            households_per_point: 250,
            max_points: 400,
            date: NaiveDate::from_ymd_opt(2026, 12, 1).expect("valid date"),
        }
    }
}

/// What was estimated, found and placed; for the demo's printout and the tests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CityGenSummary {
    /// Metres of `highway=residential|living_street`.
    pub residential_street_m: i64,
    /// Households estimated from street frontage.
    pub households_from_frontage: u64,
    /// Households estimated from building floor area.
    pub households_from_buildings: u64,
    /// Households estimated in the whole extract (the larger of the two).
    pub households_estimated: u64,
    /// Households served by the household points kept in the scenario.
    pub households_covered: u64,
    /// Household points synthesised before thinning to `max_points`.
    pub household_points_synthesised: usize,
    /// Household points in the scenario.
    pub household_points: usize,
    /// Collection points from real `amenity=recycling` containers.
    pub recycling_points: usize,
    /// Household points moved onto a real public waste container.
    pub containers_used: usize,
    /// Real OSM waste POIs used (recycling points, containers, facilities).
    pub pois_used: usize,
    /// Waste POIs seen but not used (litter bins, thinned-out containers).
    pub pois_ignored: usize,
    /// Facilities from OSM.
    pub facilities_real: usize,
    /// Facilities placed at edge-of-town road nodes.
    pub facilities_placed: usize,
    /// Depots (always placed).
    pub depots: usize,
    /// Vehicles.
    pub vehicles: usize,
    /// District names, sorted.
    pub districts: Vec<String>,
    /// Where the districts came from: `admin`, `grid` or `admin+grid`.
    pub district_source: String,
    /// Expected demand per stream over all points.
    pub demand_kg: BTreeMap<Stream, Kilograms>,
}

/// Why a scenario could not be synthesised.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CityGenError {
    /// An option is out of range.
    #[error("invalid option {field}: {reason}")]
    InvalidOptions {
        /// The option's field name.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The file is missing or is not a readable `.osm.pbf`.
    #[error("cannot read OSM extract {path}: {message}")]
    Osm {
        /// The file.
        path: String,
        /// The reader's message.
        message: String,
    },
    /// The extract has no drivable road.
    #[error("OSM extract {path} has no drivable roads")]
    NoRoads {
        /// The file.
        path: String,
    },
    /// The extract has no residential street (on its main road network) for household bins.
    #[error(
        "OSM extract {path} has no highway=residential or living_street ways on its main road network"
    )]
    NoResidentialStreets {
        /// The file.
        path: String,
    },
    /// The generated scenario failed validation: a bug in citygen, reported not panicked.
    #[error("synthesised scenario is invalid: {}", .problems.join("; "))]
    Invalid {
        /// The validation errors.
        problems: Vec<String>,
    },
}

impl CityGenOptions {
    fn check(&self) -> Result<(), CityGenError> {
        if !(20..=5_000).contains(&self.households_per_point) {
            return Err(CityGenError::InvalidOptions {
                field: "households_per_point",
                reason: format!("{} is outside 20..=5000", self.households_per_point),
            });
        }
        if self.max_points == 0 {
            return Err(CityGenError::InvalidOptions {
                field: "max_points",
                reason: "must be at least 1".into(),
            });
        }
        Ok(())
    }
}

/// Typical bin-level density (kg per litre) and bin size (litres) per stream.
fn bin_spec(stream: Stream) -> (f64, i64, char) {
    match stream {
        Stream::Kitchen => (0.45, 240, 'K'),
        Stream::Recyclable => (0.06, 1_100, 'Y'),
        Stream::Hazardous => (0.35, 120, 'H'),
        Stream::Residual => (0.13, 1_100, 'R'),
        Stream::Bulky => (0.12, 0, 'B'),
        Stream::Renovation => (1.1, 0, 'C'),
    }
}

/// Daily amount per material of a recycling container site, kg and kg/l.
fn material_amount(material: &str) -> (f64, f64) {
    match material {
        "glass" | "glass_bottles" => (60.0, 0.30),
        "paper" | "newspaper" | "cardboard" | "paper_packaging" | "magazines" => (35.0, 0.08),
        "clothes" | "shoes" | "textiles" => (15.0, 0.10),
        "plastic" | "plastic_bottles" | "plastic_packaging" | "cans" | "aluminium" => (15.0, 0.03),
        _ => (10.0, 0.08),
    }
}

/// Builds a demand and its bins for `stream` at point `pid`.
fn demand_and_bins(pid: &str, stream: Stream, kg: f64, bins: &mut Vec<Bin>) -> Option<Demand> {
    let kg = kg.round() as i64;
    if kg <= 0 {
        return None;
    }
    let (density, bin_l, code) = bin_spec(stream);
    let litres = ((kg as f64 / density).round() as i64).max(1);
    // On-call items carry one ticket tag; bins otherwise, sized to the volume.
    let n = if bin_l == 0 {
        1
    } else {
        ((litres + bin_l - 1) / bin_l).clamp(1, 16)
    };
    for k in 1..=n {
        bins.push(Bin {
            id: BinId::new(format!("{pid}-{code}{k}")),
            stream,
        });
    }
    Some(Demand {
        stream,
        kg: Kilograms(kg),
        litres: Litres(litres),
    })
}

/// Service time of a visit: walk up, then lift each bin of the busiest stream.
fn service_time(bins: &[Bin]) -> Seconds {
    let most = Stream::ALL
        .iter()
        .map(|s| bins.iter().filter(|b| b.stream == *s).count() as i64)
        .max()
        .unwrap_or(0);
    Seconds((45 + 25 * most).clamp(60, 600))
}

/// Reads the extract at `pbf_path` and synthesises a scenario for one service day.
pub fn synthesize(
    pbf_path: impl AsRef<Path>,
    opts: &CityGenOptions,
) -> Result<(Scenario, CityGenSummary), CityGenError> {
    let path = pbf_path.as_ref();
    opts.check()?;
    let osm = osm::read(path)?;
    let shown = path.display().to_string();
    let main = infra::main_network(&osm);
    let mut sites = infra::Sites::new(&osm, &main).ok_or(CityGenError::NoRoads {
        path: shown.clone(),
    })?;
    let est = households::estimate(&osm);
    // Households live on every residential street, but bins go only where a truck can
    // get in and out: the estimate is spread over the streets of the main network.
    let reachable_m: f64 = osm
        .roads
        .iter()
        .filter(|r| r.is_residential())
        .flat_map(|r| r.refs.windows(2))
        .filter(|w| main.contains(&w[0]) && main.contains(&w[1]))
        .map(|w| osm.nodes[&w[0]].haversine_m(&osm.nodes[&w[1]]))
        .sum();
    if reachable_m <= 0.0 {
        return Err(CityGenError::NoResidentialStreets { path: shown });
    }
    let per_point = f64::from(opts.households_per_point);

    // Real POIs by role.
    let mut recycling = Vec::new();
    let mut containers = Vec::new();
    let mut ignored = 0usize;
    for poi in &osm.pois {
        match infra::classify(poi) {
            PoiRole::RecyclingContainer => recycling.push(poi),
            PoiRole::WasteContainer => containers.push(poi),
            PoiRole::Ignored => ignored += 1,
            PoiRole::Facility(..) => {}
        }
    }
    let mut facilities = infra::real_facilities(&osm.pois);
    let facilities_real = facilities.len();
    // Recycling containers get at most a quarter of the point budget.
    let recycling_cap = (opts.max_points / 4).max(1);
    if recycling.len() > recycling_cap {
        ignored += recycling.len() - recycling_cap;
        let step = recycling.len() as f64 / recycling_cap as f64;
        recycling = (0..recycling_cap)
            .map(|k| recycling[(k as f64 * step) as usize])
            .collect();
    }

    let raw = points::synthesise(
        &osm,
        &main,
        est.households(),
        reachable_m,
        per_point,
        sites.min,
        sites.max,
        &mut Rng::new(opts.seed, 1),
    );
    let synthesised = raw.len();
    let budget = opts.max_points.saturating_sub(recycling.len()).max(1);
    let mut raw = points::thin(raw, budget, &mut Rng::new(opts.seed, 2));

    // Household points move onto real public containers near them.
    let mut on_container: Vec<Option<String>> = vec![None; raw.len()];
    for c in &containers {
        let nearest = raw
            .iter()
            .enumerate()
            .filter(|(i, _)| on_container[*i].is_none())
            .map(|(i, p)| (i, p.location.haversine_m(&c.location)))
            .filter(|(_, d)| *d <= CONTAINER_SNAP_M)
            .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        match nearest {
            Some((i, _)) => {
                raw[i].location = c.location;
                on_container[i] = Some(c.osm_ref.clone());
            }
            None => ignored += 1,
        }
    }
    let containers_used = on_container.iter().filter(|c| c.is_some()).count();

    let mut locations: Vec<LatLon> = raw.iter().map(|p| p.location).collect();
    locations.extend(recycling.iter().map(|p| p.location));
    let (district_names, district_source) = districts::assign(&osm, &locations);

    // Household points with demand.
    let mut rng = Rng::new(opts.seed, 3);
    let n = raw.len();
    let pick_one = |rng: &mut Rng| rng.range_i(0, n as i64 - 1) as usize;
    let mut hazardous: Vec<bool> = (0..n)
        .map(|_| rng.chance(1.0 / HAZARDOUS_ROUND_DAYS))
        .collect();
    let mut bulky: Vec<bool> = (0..n).map(|_| rng.chance(BULKY_CALL_SHARE)).collect();
    let mut renovation: Vec<bool> = (0..n).map(|_| rng.chance(RENOVATION_CALL_SHARE)).collect();
    // Every stream appears on the day, so the whole fleet and every facility kind shows.
    for flags in [&mut hazardous, &mut bulky, &mut renovation] {
        if n > 0 && !flags.iter().any(|f| *f) {
            let i = pick_one(&mut rng);
            flags[i] = true;
        }
    }
    let windows = [
        TimeWindow::hm((6, 0), (10, 0)),
        TimeWindow::hm((7, 0), (11, 0)),
        TimeWindow::hm((10, 0), (14, 0)),
    ];
    let mut scenario_points = Vec::with_capacity(n + recycling.len());
    let mut street_count: BTreeMap<String, usize> = BTreeMap::new();
    let mut covered = 0.0;
    for (i, p) in raw.iter().enumerate() {
        let pid = format!("P{:04}", i + 1);
        covered += p.households;
        let kg_total = p.households * PEOPLE_PER_HOUSEHOLD * KG_PER_PERSON_DAY;
        let mut bins = Vec::new();
        let mut demands = Vec::new();
        for (stream, share) in SHARES {
            let noise = rng.range_f(0.9, 1.1);
            demands.extend(demand_and_bins(
                &pid,
                stream,
                kg_total * share * noise,
                &mut bins,
            ));
        }
        if hazardous[i] {
            let kg = (kg_total * HAZARDOUS_SHARE * HAZARDOUS_ROUND_DAYS).max(1.0);
            demands.extend(demand_and_bins(&pid, Stream::Hazardous, kg, &mut bins));
        }
        if bulky[i] {
            let kg = rng.range_f(80.0, 350.0);
            demands.extend(demand_and_bins(&pid, Stream::Bulky, kg, &mut bins));
        }
        if renovation[i] {
            let kg = rng.range_f(300.0, 1_500.0);
            demands.extend(demand_and_bins(&pid, Stream::Renovation, kg, &mut bins));
        }
        demands.sort_by_key(|d| d.stream);
        let on_call = bulky[i] || renovation[i];
        let time_windows = if !on_call && rng.chance(0.15) {
            vec![windows[rng.range_i(0, windows.len() as i64 - 1) as usize]]
        } else {
            Vec::new()
        };
        let street = p
            .street
            .clone()
            .unwrap_or_else(|| format!("{} street", p.class));
        let k = street_count.entry(street.clone()).or_default();
        *k += 1;
        let name = match &on_container[i] {
            Some(osm_ref) => format!("{street} {k} (container OSM {osm_ref})"),
            None => format!("{street} {k}"),
        };
        scenario_points.push(CollectionPoint {
            id: PointId::new(pid),
            name,
            location: p.location,
            district: DistrictId::new(districts::id_of(&district_names[i])),
            service_s: service_time(&bins),
            demands,
            time_windows,
            priority: u8::from(on_call || hazardous[i]),
            bins,
        });
    }
    for (k, poi) in recycling.iter().enumerate() {
        let pid = format!("R{:03}", k + 1);
        let mut kg = 0.0;
        let mut litres = 0.0;
        let mut materials = 0;
        for (key, v) in &poi.tags {
            if let Some(m) = key.strip_prefix("recycling:")
                && v == "yes"
                && infra::stream_of_material(m) == Stream::Recyclable
            {
                let (a, d) = material_amount(m);
                kg += a;
                litres += a / d;
                materials += 1;
            }
        }
        if materials == 0 {
            let (a, d) = material_amount("");
            (kg, litres, materials) = (a * 4.0, a * 4.0 / d, 1);
        }
        let demand = Demand {
            stream: Stream::Recyclable,
            kg: Kilograms(kg.round().max(1.0) as i64),
            litres: Litres(litres.round().max(1.0) as i64),
        };
        // One bank (bell container) per material.
        let bins: Vec<Bin> = (1..=materials)
            .map(|b| Bin {
                id: BinId::new(format!("{pid}-Y{b}")),
                stream: Stream::Recyclable,
            })
            .collect();
        let name = match poi.tag("name") {
            Some(nm) => format!("{nm} recycling (OSM {})", poi.osm_ref),
            None => format!("Recycling containers (OSM {})", poi.osm_ref),
        };
        scenario_points.push(CollectionPoint {
            id: PointId::new(pid),
            name,
            location: poi.location,
            district: DistrictId::new(districts::id_of(&district_names[n + k])),
            service_s: service_time(&bins),
            demands: vec![demand],
            time_windows: Vec::new(),
            priority: 0,
            bins,
        });
    }

    // Fleet and sites.
    let mut loads = [StreamLoad::default(); 6];
    for p in &scenario_points {
        for d in &p.demands {
            let l = &mut loads[d.stream.index()];
            l.kg += d.kg.0;
            l.litres += d.litres.0;
            l.visits += 1;
            l.service_s += p.service_s.0;
        }
    }
    let vehicles_needed = fleet::fleet_size(&loads);
    let n_depots = vehicles_needed.div_ceil(15).clamp(1, 3);
    let depots = infra::place(
        &osm,
        &mut sites,
        &mut facilities,
        n_depots,
        &mut Rng::new(opts.seed, 4),
    );
    let depot_ids: Vec<_> = depots.iter().map(|d| d.id.clone()).collect();
    let vehicles = fleet::build(&loads, &depot_ids);

    let stem = path
        .file_name()
        .map(|f| f.to_string_lossy().trim_end_matches(".osm.pbf").to_owned())
        .unwrap_or_else(|| "city".to_owned());
    let scenario = Scenario {
        name: format!("{stem}: synthesised service day (seed {})", opts.seed),
        date: opts.date,
        depots,
        facilities,
        vehicles,
        points: scenario_points,
    };
    let report = scenario.validate();
    if !report.is_ok() {
        return Err(CityGenError::Invalid {
            problems: report.errors.iter().map(ToString::to_string).collect(),
        });
    }

    let mut districts: Vec<String> = district_names.clone();
    districts.sort();
    districts.dedup();
    let mut demand_kg = BTreeMap::new();
    for s in Stream::ALL {
        demand_kg.insert(s, Kilograms(loads[s.index()].kg));
    }
    let summary = CityGenSummary {
        residential_street_m: est.residential_m.round() as i64,
        households_from_frontage: est.from_frontage.round() as u64,
        households_from_buildings: est.from_buildings.round() as u64,
        households_estimated: est.households().round() as u64,
        households_covered: covered.round() as u64,
        household_points_synthesised: synthesised,
        household_points: n,
        recycling_points: recycling.len(),
        containers_used,
        pois_used: recycling.len() + containers_used + facilities_real,
        pois_ignored: ignored,
        facilities_real,
        facilities_placed: scenario.facilities.len() - facilities_real,
        depots: scenario.depots.len(),
        vehicles: scenario.vehicles.len(),
        districts,
        district_source: match district_source {
            districts::Source::Admin => "admin",
            districts::Source::Grid => "grid",
            districts::Source::Mixed => "admin+grid",
        }
        .to_owned(),
        demand_kg,
    };
    Ok((scenario, summary))
}
