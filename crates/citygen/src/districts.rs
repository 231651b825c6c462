//! Districts (street offices), the unit of the regulator's scorecard.
//!
//! Points inside a complete `boundary=administrative` area of `admin_level` 10 (else 9)
//! take its `name`. Points outside every such area (or all points, when the extract has
//! none) are split into a grid of up to six cells by household-weighted medians, each
//! named after the nearest `place=suburb|quarter|neighbourhood` or, lacking one, by its
//! compass position.

use std::collections::BTreeSet;

use sortfleet_model::LatLon;

use crate::osm::OsmData;

/// Where the district names came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// Administrative boundaries only.
    Admin,
    /// A grid only.
    Grid,
    /// Admin areas, plus a grid for points outside them.
    Mixed,
}

/// Assigns a district name to each of `points`.
pub(crate) fn assign(osm: &OsmData, points: &[LatLon]) -> (Vec<String>, Source) {
    let mut names: Vec<Option<String>> = vec![None; points.len()];
    for level in [10u8, 9] {
        let areas: Vec<_> = osm.admin.iter().filter(|a| a.level == level).collect();
        for (i, p) in points.iter().enumerate() {
            if names[i].is_none() {
                names[i] = areas
                    .iter()
                    .find(|a| a.contains(*p))
                    .map(|a| a.name.clone());
            }
        }
    }
    let covered = names.iter().filter(|n| n.is_some()).count();
    let rest: Vec<usize> = (0..points.len()).filter(|i| names[*i].is_none()).collect();
    let taken: BTreeSet<String> = names.iter().flatten().cloned().collect();
    for (i, name) in grid(osm, points, &rest, &taken) {
        names[i] = Some(name);
    }
    let source = match (covered, rest.len()) {
        (0, _) => Source::Grid,
        (_, 0) => Source::Admin,
        _ => Source::Mixed,
    };
    (
        names.into_iter().map(Option::unwrap_or_default).collect(),
        source,
    )
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Grid districts for `idx` (indices into `points`); names avoid `taken`.
fn grid(
    osm: &OsmData,
    points: &[LatLon],
    idx: &[usize],
    taken: &BTreeSet<String>,
) -> Vec<(usize, String)> {
    if idx.is_empty() {
        return Vec::new();
    }
    // Few leftover points: one district, not a scatter of tiny ones.
    let (cols, rows) = match idx.len() {
        0..=11 => (1, 1),
        12..=59 => (2, 2),
        _ => (2, 3),
    };
    let mut lons: Vec<f64> = idx.iter().map(|i| points[*i].lon).collect();
    let split_lon = median(&mut lons);
    let mut cells: Vec<Vec<usize>> = vec![Vec::new(); cols * rows];
    for col in 0..cols {
        let in_col: Vec<usize> = idx
            .iter()
            .copied()
            .filter(|i| cols == 1 || ((points[*i].lon >= split_lon) as usize) == col)
            .collect();
        if in_col.is_empty() {
            continue;
        }
        let mut lats: Vec<f64> = in_col.iter().map(|i| points[*i].lat).collect();
        lats.sort_by(f64::total_cmp);
        let cut = |k: usize| lats[(lats.len() * k / rows).min(lats.len() - 1)];
        for i in in_col {
            let lat = points[i].lat;
            let row = (1..rows).filter(|k| lat >= cut(*k)).count();
            cells[row * cols + col].push(i);
        }
    }
    let compass_row = |r: usize| match (rows, r) {
        (1, _) => "",
        (2, 0) | (3, 0) => "South",
        (3, 1) => "Central",
        _ => "North",
    };
    let compass_col = |c: usize| match (cols, c) {
        (1, _) => "",
        (_, 0) => "West",
        _ => "East",
    };
    let mut used: BTreeSet<String> = taken.clone();
    let mut out = Vec::new();
    for (k, members) in cells.iter().enumerate() {
        if members.is_empty() {
            continue;
        }
        let n = members.len() as f64;
        let c = LatLon::new(
            members.iter().map(|i| points[*i].lat).sum::<f64>() / n,
            members.iter().map(|i| points[*i].lon).sum::<f64>() / n,
        );
        let place = osm
            .places
            .iter()
            .filter(|p| !used.contains(&p.name))
            .min_by(|a, b| {
                c.haversine_m(&a.location)
                    .total_cmp(&c.haversine_m(&b.location))
                    .then(a.name.cmp(&b.name))
            })
            // A place more than 3 km away does not name this cell.
            .filter(|p| c.haversine_m(&p.location) < 3_000.0)
            .map(|p| p.name.clone());
        let name = place.unwrap_or_else(|| {
            let (r, col) = (k / cols, k % cols);
            let s = format!("{} {}", compass_row(r), compass_col(col));
            match s.trim() {
                "" => "Outskirts".to_owned(),
                t => format!("{t} district"),
            }
        });
        used.insert(name.clone());
        for i in members {
            out.push((*i, name.clone()));
        }
    }
    out
}

/// Id of a district name: lower-case ASCII letters and digits joined by `-`.
pub(crate) fn id_of(name: &str) -> String {
    let mut id = String::new();
    for ch in name.chars() {
        let ch = fold(ch);
        if ch.is_ascii_alphanumeric() {
            id.push(ch.to_ascii_lowercase());
        } else if !id.ends_with('-') && !id.is_empty() {
            id.push('-');
        }
    }
    let id = id.trim_end_matches('-').to_owned();
    if id.is_empty() {
        "district".to_owned()
    } else {
        id
    }
}

fn fold(c: char) -> char {
    match c {
        'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' | 'Á' | 'À' | 'Â' | 'Ä' | 'Ã' | 'Å' => 'a',
        'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => 'e',
        'í' | 'ì' | 'î' | 'ï' | 'Í' | 'Ì' | 'Î' | 'Ï' => 'i',
        'ó' | 'ò' | 'ô' | 'ö' | 'õ' | 'Ó' | 'Ò' | 'Ô' | 'Ö' | 'Õ' => 'o',
        'ú' | 'ù' | 'û' | 'ü' | 'Ú' | 'Ù' | 'Û' | 'Ü' => 'u',
        'ç' | 'Ç' => 'c',
        'ñ' | 'Ñ' => 'n',
        _ => c,
    }
}
