//! Reading OpenStreetMap: the raw elements a road graph needs (highway ways, their nodes,
//! turn-restriction relations) and the interpretation of their tags for trucks.
//!
//! The `.osm.pbf` is read in two passes with blobs decoded in parallel (rayon): ways and
//! relations first, then only the nodes those ways reference. Nothing assumes sorted ids,
//! metadata, or referential completeness; a way node missing from the file simply cuts the
//! way there (see [`crate::graph`]).

use crate::RoadsError;
use osmpbf::{BlobDecode, BlobReader, Element, RelMemberType};
use rayon::prelude::*;
use sortfleet_model::LatLon;
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// An OSM node id (kept apart from internal node indices).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OsmNodeId(pub i64);

/// An OSM way id (kept apart from internal edge indices).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OsmWayId(pub i64);

/// One OSM way with its node references and tags.
#[derive(Clone, Debug, Default)]
pub struct OsmWay {
    /// The way id.
    pub id: i64,
    /// Node ids in order.
    pub nodes: Vec<i64>,
    /// Tags as key/value pairs.
    pub tags: Vec<(String, String)>,
}

impl OsmWay {
    /// The value of a tag, if present.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Whether a restriction forbids one turn or mandates one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestrictionKind {
    /// `no_*`: the turn from `from` to `to` is forbidden.
    No,
    /// `only_*`: coming from `from`, `to` is the only allowed continuation.
    Only,
}

/// The direction a restriction's name gives (used to pick the right edges when a way passes
/// through the via node instead of ending there).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TurnHint {
    /// `*_left_turn`.
    Left,
    /// `*_right_turn`.
    Right,
    /// `*_straight_on`.
    Straight,
    /// `no_u_turn` / `only_u_turn`.
    UTurn,
    /// `no_entry`, `no_exit` or an unknown suffix.
    Any,
}

/// A turn restriction relation, possibly with several via ways.
#[derive(Clone, Debug)]
pub struct OsmRestriction {
    /// The relation id.
    pub id: i64,
    /// Forbidding or mandating.
    pub kind: RestrictionKind,
    /// The direction named by the restriction value.
    pub hint: TurnHint,
    /// The way the turn starts on.
    pub from_way: i64,
    /// The via node (for via-node restrictions).
    pub via_node: Option<i64>,
    /// The via ways in order (for via-way restrictions).
    pub via_ways: Vec<i64>,
    /// The way the turn ends on.
    pub to_way: i64,
}

/// Raw OSM input for the graph builder: from a `.osm.pbf`, or drawn by the test kit.
#[derive(Clone, Debug, Default)]
pub struct OsmData {
    /// Node positions by OSM id (only those the ways need).
    pub nodes: HashMap<i64, LatLon>,
    /// Highway ways a truck might use (filtered by [`is_candidate_highway`]).
    pub ways: Vec<OsmWay>,
    /// Turn restrictions that apply to trucks.
    pub restrictions: Vec<OsmRestriction>,
    /// Nodes in the file (all kinds), for the summary.
    pub file_nodes: u64,
    /// Ways in the file (all kinds), for the summary.
    pub file_ways: u64,
    /// Relations in the file, for the summary.
    pub file_relations: u64,
}

/// The highway classes trucks may drive on.
pub const DRIVABLE: &[&str] = &[
    "motorway",
    "motorway_link",
    "trunk",
    "trunk_link",
    "primary",
    "primary_link",
    "secondary",
    "secondary_link",
    "tertiary",
    "tertiary_link",
    "unclassified",
    "residential",
    "living_street",
    "service",
    "road",
];

/// Whether a way's tags make it a candidate road (drivable class, not an area or closed).
pub fn is_candidate_highway<'a>(mut tag: impl FnMut(&str) -> Option<&'a str>) -> bool {
    match tag("highway") {
        Some(h) if DRIVABLE.contains(&h) => {}
        _ => return false,
    }
    if tag("area") == Some("yes") {
        return false;
    }
    !matches!(tag("oneway"), Some("reversible" | "alternating"))
}

#[derive(Default)]
struct Pass1 {
    ways: Vec<OsmWay>,
    restrictions: Vec<OsmRestriction>,
    file_ways: u64,
    file_relations: u64,
}

impl Pass1 {
    fn merge(mut self, mut o: Pass1) -> Pass1 {
        self.ways.append(&mut o.ways);
        self.restrictions.append(&mut o.restrictions);
        self.file_ways += o.file_ways;
        self.file_relations += o.file_relations;
        self
    }
}

fn pbf_err(path: &Path, e: impl std::fmt::Display) -> RoadsError {
    RoadsError::Pbf {
        path: path.display().to_string(),
        msg: e.to_string(),
    }
}

/// Parses a restriction relation's tags and members; `None` when it is not a truck
/// restriction (other `type`, `except=hgv`, a mode other than hgv/motor vehicles) or malformed.
fn parse_restriction(
    id: i64,
    tags: &[(&str, &str)],
    members: &[(RelMemberType, i64, String)],
) -> Vec<OsmRestriction> {
    let tag = |k: &str| tags.iter().find(|(kk, _)| *kk == k).map(|(_, v)| *v);
    let ty = tag("type").unwrap_or("");
    let value = match ty {
        "restriction" => tag("restriction:hgv")
            .or(tag("restriction:motor_vehicle"))
            .or(tag("restriction")),
        "restriction:hgv" => tag("restriction:hgv").or(tag("restriction")),
        _ => None,
    };
    let Some(value) = value else {
        return Vec::new();
    };
    if let Some(except) = tag("except")
        && except
            .split(';')
            .any(|e| matches!(e.trim(), "hgv" | "goods" | "motor_vehicle" | "motorcar"))
    {
        return Vec::new();
    }
    let (kind, rest) = if let Some(r) = value.strip_prefix("no_") {
        (RestrictionKind::No, r)
    } else if let Some(r) = value.strip_prefix("only_") {
        (RestrictionKind::Only, r)
    } else {
        return Vec::new();
    };
    let hint = match rest {
        "left_turn" => TurnHint::Left,
        "right_turn" => TurnHint::Right,
        "straight_on" => TurnHint::Straight,
        "u_turn" => TurnHint::UTurn,
        _ => TurnHint::Any,
    };
    let mut from = Vec::new();
    let mut to = Vec::new();
    let mut via_node = None;
    let mut via_ways = Vec::new();
    for (t, mid, role) in members {
        match (t, role.as_str()) {
            (RelMemberType::Way, "from") => from.push(*mid),
            (RelMemberType::Way, "to") => to.push(*mid),
            (RelMemberType::Node, "via") => via_node = Some(*mid),
            (RelMemberType::Way, "via") => via_ways.push(*mid),
            _ => {}
        }
    }
    if via_node.is_some() != via_ways.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for &f in &from {
        for &t in &to {
            out.push(OsmRestriction {
                id,
                kind,
                hint,
                from_way: f,
                via_node,
                via_ways: via_ways.clone(),
                to_way: t,
            });
        }
    }
    out
}

/// Builds a restriction from plain tags and members (used by the test kit).
pub fn restriction_from_parts(
    id: i64,
    value: &str,
    from_way: i64,
    via_node: Option<i64>,
    via_ways: &[i64],
    to_way: i64,
) -> Option<OsmRestriction> {
    let mut members = vec![(RelMemberType::Way, from_way, "from".to_string())];
    if let Some(n) = via_node {
        members.push((RelMemberType::Node, n, "via".to_string()));
    }
    for &w in via_ways {
        members.push((RelMemberType::Way, w, "via".to_string()));
    }
    members.push((RelMemberType::Way, to_way, "to".to_string()));
    parse_restriction(
        id,
        &[("type", "restriction"), ("restriction", value)],
        &members,
    )
    .into_iter()
    .next()
}

impl OsmData {
    /// Reads the road-relevant content of an `.osm.pbf`.
    pub fn read_pbf(path: &Path, progress: &indicatif::ProgressBar) -> Result<OsmData, RoadsError> {
        let io = |e: std::io::Error| RoadsError::Io {
            path: path.display().to_string(),
            source: e,
        };
        std::fs::metadata(path).map_err(io)?;
        progress.set_message("reading ways and relations");
        let reader = BlobReader::from_path(path).map_err(|e| pbf_err(path, e))?;
        let pass1: Result<Pass1, RoadsError> = reader
            .par_bridge()
            .map(|blob| {
                let blob = blob.map_err(|e| pbf_err(path, e))?;
                let mut acc = Pass1::default();
                if let BlobDecode::OsmData(block) = blob.decode().map_err(|e| pbf_err(path, e))? {
                    for el in block.elements() {
                        match el {
                            Element::Way(w) => {
                                acc.file_ways += 1;
                                let tags: Vec<(&str, &str)> = w.tags().collect();
                                let get =
                                    |k: &str| tags.iter().find(|(kk, _)| *kk == k).map(|(_, v)| *v);
                                if is_candidate_highway(get) {
                                    acc.ways.push(OsmWay {
                                        id: w.id(),
                                        nodes: w.refs().collect(),
                                        tags: tags
                                            .iter()
                                            .map(|(k, v)| (k.to_string(), v.to_string()))
                                            .collect(),
                                    });
                                }
                            }
                            Element::Relation(r) => {
                                acc.file_relations += 1;
                                let tags: Vec<(&str, &str)> = r.tags().collect();
                                if tags
                                    .iter()
                                    .any(|(k, v)| *k == "type" && v.starts_with("restriction"))
                                {
                                    let members: Vec<_> = r
                                        .members()
                                        .map(|m| {
                                            (
                                                m.member_type.clone(),
                                                m.member_id,
                                                m.role().unwrap_or("").to_string(),
                                            )
                                        })
                                        .collect();
                                    acc.restrictions.extend(parse_restriction(
                                        r.id(),
                                        &tags,
                                        &members,
                                    ));
                                }
                            }
                            _ => {}
                        }
                    }
                }
                Ok(acc)
            })
            .try_reduce(Pass1::default, |a, b| Ok(a.merge(b)));
        let mut pass1 = pass1?;
        // Parallel decoding yields blocks in any order; sort for a deterministic graph.
        pass1.ways.sort_by_key(|w| w.id);
        pass1.ways.dedup_by_key(|w| w.id);
        pass1
            .restrictions
            .sort_by_key(|r| (r.id, r.from_way, r.to_way));
        progress.set_message(format!(
            "{} candidate ways; reading their nodes",
            pass1.ways.len()
        ));
        let needed: HashSet<i64> = pass1
            .ways
            .iter()
            .flat_map(|w| w.nodes.iter().copied())
            .chain(pass1.restrictions.iter().filter_map(|r| r.via_node))
            .collect();
        let reader = BlobReader::from_path(path).map_err(|e| pbf_err(path, e))?;
        let nodes: Result<(Vec<(i64, LatLon)>, u64), RoadsError> = reader
            .par_bridge()
            .map(|blob| {
                let blob = blob.map_err(|e| pbf_err(path, e))?;
                let mut out = Vec::new();
                let mut count = 0u64;
                if let BlobDecode::OsmData(block) = blob.decode().map_err(|e| pbf_err(path, e))? {
                    for el in block.elements() {
                        let (id, lat, lon) = match el {
                            Element::Node(n) => (n.id(), n.lat(), n.lon()),
                            Element::DenseNode(n) => (n.id(), n.lat(), n.lon()),
                            _ => continue,
                        };
                        count += 1;
                        let p = LatLon::new(lat, lon);
                        if needed.contains(&id) && p.is_valid() {
                            out.push((id, p));
                        }
                    }
                }
                Ok((out, count))
            })
            .try_reduce(
                || (Vec::new(), 0),
                |mut a, mut b| {
                    a.0.append(&mut b.0);
                    Ok((a.0, a.1 + b.1))
                },
            );
        let (nodes, file_nodes) = nodes?;
        Ok(OsmData {
            nodes: nodes.into_iter().collect(),
            ways: pass1.ways,
            restrictions: pass1.restrictions,
            file_nodes,
            file_ways: pass1.file_ways,
            file_relations: pass1.file_relations,
        })
    }
}

/// What a way means for a truck, after tag interpretation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WayAttrs {
    /// Index into [`DRIVABLE`].
    pub class: u8,
    /// Posted or default speed in km/h.
    pub speed_kmh: u16,
    /// Drivable in way direction.
    pub fwd: bool,
    /// Drivable against way direction.
    pub bwd: bool,
    /// `destination` access: usable, but kept out of through traffic.
    pub destination: bool,
    /// `hazmat=no`.
    pub hazmat_no: bool,
    /// `maxweight` in kg (`u32::MAX` = none).
    pub max_weight_kg: u32,
    /// `maxheight` in cm (`u16::MAX` = none).
    pub max_height_cm: u16,
    /// `maxwidth` in cm (`u16::MAX` = none).
    pub max_width_cm: u16,
    /// `maxlength` in cm (`u16::MAX` = none).
    pub max_length_cm: u16,
}

/// Default speed per class in km/h when `maxspeed` is absent or unusable.
pub fn default_speed(class: &str) -> u16 {
    match class {
        "motorway" => 90,
        "trunk" => 80,
        "primary" => 60,
        "secondary" => 50,
        "tertiary" => 40,
        "motorway_link" | "trunk_link" => 45,
        "primary_link" | "secondary_link" | "tertiary_link" => 35,
        "unclassified" | "residential" | "road" => 30,
        "service" => 15,
        "living_street" => 10,
        _ => 25,
    }
}

/// Parses `maxspeed`: numbers, `mph`, country codes (`DE:urban`, `CN:rural`, …), `walk`,
/// `none` (→ `None`: use the class default). `50;30` takes the first value.
pub fn parse_maxspeed(v: &str) -> Option<u16> {
    let v = v.split(';').next()?.trim();
    let lower = v.to_ascii_lowercase();
    if lower == "none" || lower == "signals" || lower == "variable" {
        return None;
    }
    if lower == "walk" || lower.ends_with(":walk") {
        return Some(6);
    }
    if lower.ends_with(":living_street") {
        return Some(10);
    }
    if let Some((_, zone)) = lower.split_once(':') {
        let country = &lower[..2.min(lower.len())];
        return Some(match zone {
            "zone30" | "zone:30" => 30,
            "urban" => match country {
                "ru" | "by" | "ua" | "kz" | "br" => 60,
                _ => 50,
            },
            "rural" => match country {
                "de" | "at" | "ch" | "nl" | "be" | "gb" | "se" | "pl" => 100,
                "fr" => 80,
                "cn" => 70,
                "us" => 90,
                _ => 90,
            },
            "motorway" => match country {
                "de" => 130,
                "us" => 105,
                "cn" => 120,
                _ => 120,
            },
            "trunk" => 100,
            z if z.starts_with("zone") => z
                .trim_start_matches("zone")
                .trim_start_matches(':')
                .parse()
                .ok()?,
            _ => return None,
        });
    }
    let (num, mph) = if let Some(n) = lower.strip_suffix("mph") {
        (n.trim(), true)
    } else if let Some(n) = lower.strip_suffix("km/h") {
        (n.trim(), false)
    } else if let Some(n) = lower.strip_suffix("kmh") {
        (n.trim(), false)
    } else {
        (lower.as_str(), false)
    };
    let x: f64 = num.parse().ok()?;
    if !x.is_finite() || x <= 0.0 {
        return None;
    }
    let kmh = if mph { x * 1.609_344 } else { x };
    Some(kmh.round().clamp(1.0, 200.0) as u16)
}

/// Parses a weight limit in kg: `7.5` (tonnes), `7.5 t`, `3500 kg`, `none` → `None`.
pub fn parse_weight_kg(v: &str) -> Option<u32> {
    let v = v.trim().to_ascii_lowercase();
    let (num, factor) = if let Some(n) = v.strip_suffix("kg") {
        (n.trim(), 1.0)
    } else if let Some(n) = v.strip_suffix("st") {
        (n.trim(), 907.185)
    } else if let Some(n) = v.strip_suffix("lbs") {
        (n.trim(), 0.453_592)
    } else if let Some(n) = v.strip_suffix('t') {
        (n.trim(), 1000.0)
    } else {
        (v.as_str(), 1000.0)
    };
    let x: f64 = num.replace(',', ".").parse().ok()?;
    (x.is_finite() && x > 0.0).then(|| (x * factor).round().min(u32::MAX as f64 - 1.0) as u32)
}

/// Parses a length limit in cm: `3.5`, `3.5 m`, `350 cm`, `12'6"`, `none`/`default` → `None`.
pub fn parse_length_cm(v: &str) -> Option<u16> {
    let v = v.trim().to_ascii_lowercase();
    let cm = if let Some((ft, rest)) = v.split_once('\'') {
        let ft: f64 = ft.trim().parse().ok()?;
        let inch = rest.trim().trim_end_matches('"').trim();
        let inch = if inch.is_empty() {
            0.0
        } else {
            inch.parse().ok()?
        };
        ft * 30.48 + inch * 2.54
    } else if let Some(n) = v.strip_suffix("cm") {
        n.trim().parse::<f64>().ok()?
    } else if let Some(n) = v.strip_suffix("ft") {
        n.trim().parse::<f64>().ok()? * 30.48
    } else if let Some(n) = v.strip_suffix('m') {
        n.trim().replace(',', ".").parse::<f64>().ok()? * 100.0
    } else {
        v.replace(',', ".").parse::<f64>().ok()? * 100.0
    };
    (cm.is_finite() && cm > 0.0).then(|| cm.floor().min(u16::MAX as f64 - 1.0) as u16)
}

/// Access values that exclude a truck.
fn access_denied(v: &str) -> bool {
    matches!(
        v,
        "no" | "private"
            | "agricultural"
            | "forestry"
            | "emergency"
            | "psv"
            | "bus"
            | "military"
            | "disabled"
            | "permit"
    )
}

/// Interprets a way's tags for trucks; `None` when a truck may not use it at all.
pub fn way_attrs<'a>(mut tag: impl FnMut(&str) -> Option<&'a str>) -> Option<WayAttrs> {
    let highway = tag("highway")?;
    let class = DRIVABLE.iter().position(|c| *c == highway)? as u8;
    // Most specific access tag wins.
    let mut destination = false;
    for key in ["hgv", "goods", "motor_vehicle", "vehicle", "access"] {
        if let Some(v) = tag(key) {
            let v = v.split(';').next().unwrap_or("").trim();
            if access_denied(v) {
                return None;
            }
            if matches!(v, "destination" | "delivery" | "customers") {
                destination = true;
            }
            if matches!(
                v,
                "yes"
                    | "designated"
                    | "permissive"
                    | "destination"
                    | "delivery"
                    | "customers"
                    | "discouraged"
            ) {
                break;
            }
        }
    }
    let roundabout = matches!(tag("junction"), Some("roundabout" | "circular"));
    let implied = roundabout || highway == "motorway";
    let (fwd, bwd) = match tag("oneway:hgv").or(tag("oneway")) {
        Some("yes" | "1" | "true") => (true, false),
        Some("-1" | "reverse") => (false, true),
        Some("no" | "0" | "false") => (true, true),
        _ if implied => (true, false),
        _ => (true, true),
    };
    let speed_kmh = tag("maxspeed:hgv")
        .and_then(parse_maxspeed)
        .or_else(|| tag("maxspeed").and_then(parse_maxspeed))
        .unwrap_or_else(|| default_speed(highway));
    let hazmat_no = tag("hazmat") == Some("no");
    let max_weight_kg = tag("maxweight:hgv")
        .or(tag("maxweight"))
        .and_then(parse_weight_kg)
        .unwrap_or(u32::MAX);
    let max_height_cm = tag("maxheight:physical")
        .or(tag("maxheight"))
        .and_then(parse_length_cm)
        .unwrap_or(u16::MAX);
    let max_width_cm = tag("maxwidth:physical")
        .or(tag("maxwidth"))
        .and_then(parse_length_cm)
        .unwrap_or(u16::MAX);
    let max_length_cm = tag("maxlength")
        .and_then(parse_length_cm)
        .unwrap_or(u16::MAX);
    Some(WayAttrs {
        class,
        speed_kmh,
        fwd,
        bwd,
        destination,
        hazmat_no,
        max_weight_kg,
        max_height_cm,
        max_width_cm,
        max_length_cm,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maxspeed_forms() {
        assert_eq!(parse_maxspeed("50"), Some(50));
        assert_eq!(parse_maxspeed("30 mph"), Some(48));
        assert_eq!(parse_maxspeed("DE:urban"), Some(50));
        assert_eq!(parse_maxspeed("DE:rural"), Some(100));
        assert_eq!(parse_maxspeed("CN:urban"), Some(50));
        assert_eq!(parse_maxspeed("RU:urban"), Some(60));
        assert_eq!(parse_maxspeed("walk"), Some(6));
        assert_eq!(parse_maxspeed("none"), None);
        assert_eq!(parse_maxspeed("50;30"), Some(50));
        assert_eq!(parse_maxspeed("fast"), None);
    }

    #[test]
    fn limits() {
        assert_eq!(parse_weight_kg("7.5"), Some(7500));
        assert_eq!(parse_weight_kg("3500 kg"), Some(3500));
        assert_eq!(parse_weight_kg("12 t"), Some(12000));
        assert_eq!(parse_weight_kg("none"), None);
        assert_eq!(parse_length_cm("3.5"), Some(350));
        assert_eq!(parse_length_cm("3.5 m"), Some(350));
        assert_eq!(parse_length_cm("12'6\""), Some(381));
        assert_eq!(parse_length_cm("default"), None);
    }

    #[test]
    fn access_and_oneway() {
        let t = |pairs: &'static [(&'static str, &'static str)]| {
            way_attrs(move |k| pairs.iter().find(|(kk, _)| *kk == k).map(|(_, v)| *v))
        };
        assert!(t(&[("highway", "residential"), ("access", "private")]).is_none());
        assert!(t(&[("highway", "residential"), ("access", "no"), ("hgv", "yes")]).is_some());
        assert!(t(&[("highway", "residential"), ("hgv", "no")]).is_none());
        assert!(t(&[("highway", "footway")]).is_none());
        let d = t(&[("highway", "residential"), ("motor_vehicle", "destination")]).unwrap();
        assert!(d.destination);
        let m = t(&[("highway", "motorway")]).unwrap();
        assert!(m.fwd && !m.bwd);
        let r = t(&[("highway", "primary"), ("junction", "roundabout")]).unwrap();
        assert!(r.fwd && !r.bwd);
        let rev = t(&[("highway", "primary"), ("oneway", "-1")]).unwrap();
        assert!(!rev.fwd && rev.bwd);
        let no = t(&[("highway", "motorway"), ("oneway", "no")]).unwrap();
        assert!(no.fwd && no.bwd);
    }
}
