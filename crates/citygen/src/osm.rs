//! One pass over an `.osm.pbf` keeping only what the generator needs: node positions,
//! drivable and residential roads, buildings, waste POIs, industrial areas, named places
//! and administrative boundaries.
//!
//! Extracts are often clipped without complete ways, so every way is cut to the nodes
//! that exist and nothing here assumes sorted ids or metadata.

use std::collections::HashMap;
use std::path::Path;

use osmpbf::{Element, ElementReader, RelMemberType};
use sortfleet_model::LatLon;

use crate::CityGenError;

/// Road classes a refuse truck may drive on.
const DRIVABLE: &[&str] = &[
    "motorway",
    "trunk",
    "primary",
    "secondary",
    "tertiary",
    "unclassified",
    "residential",
    "service",
    "living_street",
    "motorway_link",
    "trunk_link",
    "primary_link",
    "secondary_link",
    "tertiary_link",
    "road",
];

/// A drivable highway way.
#[derive(Debug, Clone)]
pub(crate) struct Road {
    /// OSM way id (sort key for determinism).
    pub id: i64,
    /// The `highway=*` value.
    pub class: String,
    /// Whether the way is one-way for cars (explicit or implied), in `refs` order.
    pub oneway: bool,
    /// Node refs, in way order.
    pub refs: Vec<i64>,
    /// `name=*`, for naming collection points.
    pub name: Option<String>,
}

impl Road {
    /// Streets lined with homes: where household bins stand.
    pub fn is_residential(&self) -> bool {
        matches!(self.class.as_str(), "residential" | "living_street")
    }

    /// Roads a facility or depot gate may plausibly sit on: not a motorway or trunk
    /// (no gates there), not one-way (so it is reachable both ways).
    pub fn is_gate_road(&self) -> bool {
        !self.oneway
            && matches!(
                self.class.as_str(),
                "primary" | "secondary" | "tertiary" | "unclassified" | "residential" | "road"
            )
    }
}

/// A building way with what the household estimate needs.
#[derive(Debug, Clone)]
pub(crate) struct Building {
    /// The `building=*` value.
    pub kind: String,
    /// `building:levels` if tagged and sane.
    pub levels: Option<f64>,
    /// Node refs of the outline.
    pub refs: Vec<i64>,
}

/// A tagged element (node or way) that may be waste infrastructure.
#[derive(Debug, Clone)]
pub(crate) struct Poi {
    /// `n123` or `w456`, for names and reports.
    pub osm_ref: String,
    /// Position (node position or centroid of the way's nodes).
    pub location: LatLon,
    /// All tags of the element.
    pub tags: Vec<(String, String)>,
}

impl Poi {
    /// Value of tag `key`.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// A `place=suburb|quarter|neighbourhood` node, used to name grid districts.
#[derive(Debug, Clone)]
pub(crate) struct Place {
    /// `name=*`.
    pub name: String,
    /// Position.
    pub location: LatLon,
}

/// A `boundary=administrative` relation at a sub-municipal level.
#[derive(Debug, Clone)]
pub(crate) struct AdminArea {
    /// OSM relation id.
    pub id: i64,
    /// `name=*`.
    pub name: String,
    /// `admin_level` (9 or 10).
    pub level: u8,
    /// Boundary segments (from all outer and inner member ways); even-odd test.
    pub segments: Vec<(LatLon, LatLon)>,
}

impl AdminArea {
    /// Even-odd point-in-polygon over the member segments (ring order not needed).
    pub fn contains(&self, p: LatLon) -> bool {
        let mut inside = false;
        for (a, b) in &self.segments {
            if (a.lat > p.lat) != (b.lat > p.lat) {
                let x = a.lon + (p.lat - a.lat) / (b.lat - a.lat) * (b.lon - a.lon);
                if p.lon < x {
                    inside = !inside;
                }
            }
        }
        inside
    }
}

/// Everything read from the extract.
#[derive(Debug, Default)]
pub(crate) struct OsmData {
    /// Node positions (all nodes of the file).
    pub nodes: HashMap<i64, LatLon>,
    /// Drivable roads, cut to existing nodes, sorted by id.
    pub roads: Vec<Road>,
    /// Buildings, cut to existing nodes.
    pub buildings: Vec<Building>,
    /// Candidate waste POIs, sorted by `osm_ref`.
    pub pois: Vec<Poi>,
    /// Centroids of `landuse=industrial` areas.
    pub industrial: Vec<LatLon>,
    /// Named places for district names.
    pub places: Vec<Place>,
    /// Sub-municipal admin areas whose boundary is complete (closed) in the extract.
    pub admin: Vec<AdminArea>,
}

/// Tag keys/values that make an element a waste POI candidate.
fn is_waste_poi(tags: &[(String, String)]) -> bool {
    tags.iter().any(|(k, v)| {
        matches!(
            (k.as_str(), v.as_str()),
            ("amenity", "recycling")
                | ("amenity", "waste_disposal")
                | ("amenity", "waste_transfer_station")
                | ("landuse", "landfill")
                | ("industrial", "scrap_yard")
                | ("industrial", "waste_handling")
                | ("industrial", "recycling")
        ) || (k == "plant:source" && v == "waste")
    })
}

fn tag<'a>(tags: &'a [(String, String)], key: &str) -> Option<&'a str> {
    tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn centroid(points: impl Iterator<Item = LatLon>) -> Option<LatLon> {
    let (mut lat, mut lon, mut n) = (0.0, 0.0, 0usize);
    for p in points {
        lat += p.lat;
        lon += p.lon;
        n += 1;
    }
    (n > 0).then(|| LatLon::new(lat / n as f64, lon / n as f64))
}

struct RawWay {
    id: i64,
    refs: Vec<i64>,
    tags: Vec<(String, String)>,
}

struct RawAdmin {
    id: i64,
    name: String,
    level: u8,
    ways: Vec<i64>,
}

/// Reads the extract at `path`.
pub(crate) fn read(path: &Path) -> Result<OsmData, CityGenError> {
    let osm_err = |e: osmpbf::Error| CityGenError::Osm {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let reader = ElementReader::from_path(path).map_err(osm_err)?;
    let mut data = OsmData::default();
    let mut node_pois: Vec<Poi> = Vec::new();
    let mut ways: Vec<RawWay> = Vec::new();
    // Untagged ways may be admin boundary members; keep refs of every way by id.
    let mut way_refs: HashMap<i64, Vec<i64>> = HashMap::new();
    let mut admins: Vec<RawAdmin> = Vec::new();

    let mut on_node = |id: i64, lat: f64, lon: f64, tags: Vec<(String, String)>| {
        let p = LatLon::new(lat, lon);
        data.nodes.insert(id, p);
        if tags.is_empty() {
            return;
        }
        if is_waste_poi(&tags) {
            node_pois.push(Poi {
                osm_ref: format!("n{id}"),
                location: p,
                tags: tags.clone(),
            });
        }
        if let (Some(kind), Some(name)) = (tag(&tags, "place"), tag(&tags, "name"))
            && matches!(kind, "suburb" | "quarter" | "neighbourhood")
        {
            data.places.push(Place {
                name: name.to_owned(),
                location: p,
            });
        }
    };
    let owned = |it: &mut dyn Iterator<Item = (&str, &str)>| -> Vec<(String, String)> {
        it.map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
    };

    reader
        .for_each(|el| match el {
            Element::Node(n) => on_node(
                n.id(),
                n.nano_lat() as f64 / 1e9,
                n.nano_lon() as f64 / 1e9,
                owned(&mut n.tags()),
            ),
            // Divided, not multiplied by 1e-9, so positions print as written.
            Element::DenseNode(n) => on_node(
                n.id(),
                n.nano_lat() as f64 / 1e9,
                n.nano_lon() as f64 / 1e9,
                owned(&mut n.tags()),
            ),
            Element::Way(w) => {
                let refs: Vec<i64> = w.refs().collect();
                let tags = owned(&mut w.tags());
                if tags.is_empty() {
                    way_refs.insert(w.id(), refs);
                } else {
                    ways.push(RawWay {
                        id: w.id(),
                        refs,
                        tags,
                    });
                }
            }
            Element::Relation(r) => {
                let tags = owned(&mut r.tags());
                let level = tag(&tags, "admin_level").and_then(|l| l.parse::<u8>().ok());
                if tag(&tags, "boundary") == Some("administrative")
                    && matches!(level, Some(9 | 10))
                    && let Some(name) = tag(&tags, "name")
                {
                    admins.push(RawAdmin {
                        id: r.id(),
                        name: name.to_owned(),
                        level: level.unwrap_or(10),
                        ways: r
                            .members()
                            .filter(|m| m.member_type == RelMemberType::Way)
                            .map(|m| m.member_id)
                            .collect(),
                    });
                }
            }
        })
        .map_err(osm_err)?;

    let nodes = &data.nodes;
    let cut = |refs: &[i64]| -> Vec<i64> {
        refs.iter()
            .copied()
            .filter(|r| nodes.contains_key(r))
            .collect()
    };

    for w in &ways {
        let t = &w.tags;
        if let Some(hw) = tag(t, "highway")
            && DRIVABLE.contains(&hw)
            && !matches!(tag(t, "access"), Some("no" | "private"))
            && !matches!(tag(t, "motor_vehicle"), Some("no" | "private"))
            && tag(t, "area") != Some("yes")
        {
            let reverse = tag(t, "oneway") == Some("-1");
            let oneway = match tag(t, "oneway") {
                Some("yes" | "1" | "true" | "-1") => true,
                Some("no" | "0" | "false") => false,
                _ => hw == "motorway" || tag(t, "junction") == Some("roundabout"),
            };
            let mut refs = cut(&w.refs);
            // `oneway=-1`: stored in driving direction so `refs` order is always legal.
            if reverse {
                refs.reverse();
            }
            if refs.len() >= 2 {
                data.roads.push(Road {
                    id: w.id,
                    class: hw.to_owned(),
                    oneway,
                    refs,
                    name: tag(t, "name").map(str::to_owned),
                });
            }
        }
        if let Some(b) = tag(t, "building") {
            let refs = cut(&w.refs);
            if refs.len() >= 3 {
                let levels = tag(t, "building:levels")
                    .and_then(|l| l.trim().parse::<f64>().ok())
                    .filter(|l| l.is_finite() && (1.0..=100.0).contains(l));
                data.buildings.push(Building {
                    kind: b.to_owned(),
                    levels,
                    refs,
                });
            }
        }
        if is_waste_poi(t)
            && let Some(c) = centroid(cut(&w.refs).iter().map(|r| nodes[r]))
        {
            data.pois.push(Poi {
                osm_ref: format!("w{}", w.id),
                location: c,
                tags: t.clone(),
            });
        }
        if tag(t, "landuse") == Some("industrial")
            && let Some(c) = centroid(cut(&w.refs).iter().map(|r| nodes[r]))
        {
            data.industrial.push(c);
        }
    }
    data.pois.extend(node_pois);
    data.pois.sort_by(|a, b| a.osm_ref.cmp(&b.osm_ref));
    data.roads.sort_by_key(|r| r.id);

    let tagged_refs: HashMap<i64, &Vec<i64>> = ways.iter().map(|w| (w.id, &w.refs)).collect();
    for a in admins {
        let mut segments = Vec::new();
        // A usable boundary is closed: every node ends an even number of segments.
        let mut degree: HashMap<i64, u32> = HashMap::new();
        for wid in &a.ways {
            let refs = way_refs.get(wid).or_else(|| tagged_refs.get(wid).copied());
            if let Some(refs) = refs {
                // Only consecutive existing nodes make a segment; a clipped way leaves gaps.
                for pair in refs.windows(2) {
                    if let (Some(p), Some(q)) = (nodes.get(&pair[0]), nodes.get(&pair[1])) {
                        segments.push((*p, *q));
                        *degree.entry(pair[0]).or_default() += 1;
                        *degree.entry(pair[1]).or_default() += 1;
                    }
                }
            }
        }
        if segments.len() >= 3 && degree.values().all(|d| d % 2 == 0) {
            data.admin.push(AdminArea {
                id: a.id,
                name: a.name,
                level: a.level,
                segments,
            });
        }
    }
    data.admin.sort_by_key(|a| a.id);
    data.places.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(data)
}
