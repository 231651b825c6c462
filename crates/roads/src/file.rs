//! The graph file: `sortfleet roads import` writes it once, services load it in milliseconds.
//!
//! Layout (little endian): magic `SFROADS\0`, format version `u32`, payload length `u64`,
//! SHA-256 of the payload (32 bytes), payload. The SHA-256 doubles as the graph's
//! fingerprint: plans and matrices can record which graph they were computed on. A file
//! with another magic or version, a short read, a hash mismatch, or indices out of range is
//! refused with a message saying which; nothing in a file can make the loader panic.
//!
//! The payload holds the base graph only; routers are prepared per vehicle class on load
//! (well under 2 s for a city, see the benchmarks).

use crate::RoadsError;
use crate::graph::{GraphData, RoadEdge, RoadGraph, TurnRestriction};
use crate::osm::{OsmWayId, RestrictionKind};
use sha2::{Digest, Sha256};
use sortfleet_model::LatLon;
use std::path::Path;

/// File magic.
pub const MAGIC: &[u8; 8] = b"SFROADS\0";
/// Current format version; bump on any layout change.
pub const FORMAT_VERSION: u32 = 1;
const HEADER: usize = 8 + 4 + 8 + 32;
/// Longest edge a file may hold (1000 km): keeps packed path weights far from overflow.
const MAX_EDGE_CM: u32 = 100_000_000;

fn encode(g: &GraphData) -> Vec<u8> {
    let mut b =
        Vec::with_capacity(g.node_pos.len() * 24 + g.edges.len() * 30 + g.geom_pts.len() * 16 + 64);
    let u64_ = |b: &mut Vec<u8>, x: u64| b.extend_from_slice(&x.to_le_bytes());
    u64_(&mut b, g.node_pos.len() as u64);
    u64_(&mut b, g.edges.len() as u64);
    u64_(&mut b, g.geom_pts.len() as u64);
    u64_(&mut b, g.restrictions.len() as u64);
    for p in &g.node_pos {
        b.extend_from_slice(&p.lat.to_le_bytes());
        b.extend_from_slice(&p.lon.to_le_bytes());
    }
    for id in &g.node_osm {
        b.extend_from_slice(&id.to_le_bytes());
    }
    for e in &g.edges {
        b.extend_from_slice(&e.from.to_le_bytes());
        b.extend_from_slice(&e.to.to_le_bytes());
        b.extend_from_slice(&e.way.0.to_le_bytes());
        b.extend_from_slice(&e.length_cm.to_le_bytes());
        b.extend_from_slice(&e.speed_kmh.to_le_bytes());
        b.push(e.class);
        b.push(
            e.fwd as u8
                | (e.bwd as u8) << 1
                | (e.destination as u8) << 2
                | (e.hazmat_no as u8) << 3,
        );
        b.extend_from_slice(&e.max_weight_kg.to_le_bytes());
        b.extend_from_slice(&e.max_height_cm.to_le_bytes());
        b.extend_from_slice(&e.max_width_cm.to_le_bytes());
        b.extend_from_slice(&e.max_length_cm.to_le_bytes());
    }
    for o in &g.geom_off {
        b.extend_from_slice(&o.to_le_bytes());
    }
    for p in &g.geom_pts {
        b.extend_from_slice(&p.lat.to_le_bytes());
        b.extend_from_slice(&p.lon.to_le_bytes());
    }
    for r in &g.restrictions {
        b.extend_from_slice(&r.osm_id.to_le_bytes());
        b.push(matches!(r.kind, RestrictionKind::Only) as u8);
        b.extend_from_slice(&r.from.to_le_bytes());
        b.extend_from_slice(&r.to.to_le_bytes());
        b.extend_from_slice(&(r.via.len() as u32).to_le_bytes());
        for v in &r.via {
            b.extend_from_slice(&v.to_le_bytes());
        }
    }
    b
}

struct Rd<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Rd<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.b.len())
            .ok_or("truncated payload")?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, String> {
        Ok(u16::from_le_bytes(
            self.take(2)?.try_into().map_err(|_| "short")?,
        ))
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().map_err(|_| "short")?,
        ))
    }
    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().map_err(|_| "short")?,
        ))
    }
    fn f64(&mut self) -> Result<f64, String> {
        Ok(f64::from_bits(self.u64()?))
    }
    /// A count whose elements need at least `min_size` bytes each: refuses absurd counts.
    fn count(&mut self, min_size: usize) -> Result<usize, String> {
        let n = self.u64()?;
        let rest = (self.b.len() - self.at) as u64;
        if n.saturating_mul(min_size as u64) > rest {
            return Err(format!("count {n} exceeds the payload"));
        }
        Ok(n as usize)
    }
}

fn decode(b: &[u8]) -> Result<GraphData, String> {
    let mut r = Rd { b, at: 0 };
    let nn = r.count(24)?;
    let ne = r.count(30)?;
    let ng = r.count(16)?;
    let nr = r.count(21)?;
    let mut g = GraphData::default();
    for _ in 0..nn {
        let lat = r.f64()?;
        let lon = r.f64()?;
        let p = LatLon::new(lat, lon);
        if !p.is_valid() {
            return Err(format!("invalid coordinate ({lat},{lon})"));
        }
        g.node_pos.push(p);
    }
    for _ in 0..nn {
        g.node_osm.push(r.u64()? as i64);
    }
    for i in 0..ne {
        let from = r.u32()?;
        let to = r.u32()?;
        if from as usize >= nn || to as usize >= nn {
            return Err(format!("edge {i} references a missing node"));
        }
        let way = OsmWayId(r.u64()? as i64);
        let length_cm = r.u32()?;
        if length_cm > MAX_EDGE_CM {
            return Err(format!(
                "edge {i} is {length_cm} cm long (max {MAX_EDGE_CM})"
            ));
        }
        let speed_kmh = r.u16()?;
        let class = r.u8()?;
        let flags = r.u8()?;
        if speed_kmh == 0 || class as usize >= crate::osm::DRIVABLE.len() {
            return Err(format!(
                "edge {i} has speed {speed_kmh} or class {class} out of range"
            ));
        }
        g.edges.push(RoadEdge {
            from,
            to,
            way,
            length_cm,
            speed_kmh,
            class,
            fwd: flags & 1 != 0,
            bwd: flags & 2 != 0,
            destination: flags & 4 != 0,
            hazmat_no: flags & 8 != 0,
            max_weight_kg: r.u32()?,
            max_height_cm: r.u16()?,
            max_width_cm: r.u16()?,
            max_length_cm: r.u16()?,
        });
    }
    for _ in 0..=ne {
        g.geom_off.push(r.u32()?);
    }
    if g.geom_off[0] != 0
        || g.geom_off.windows(2).any(|w| w[0] > w[1])
        || *g.geom_off.last().unwrap_or(&0) as usize != ng
    {
        return Err("geometry offsets are inconsistent".into());
    }
    for _ in 0..ng {
        let lat = r.f64()?;
        let lon = r.f64()?;
        let p = LatLon::new(lat, lon);
        if !p.is_valid() {
            return Err(format!("invalid geometry coordinate ({lat},{lon})"));
        }
        g.geom_pts.push(p);
    }
    let nd = 2 * ne as u32;
    for i in 0..nr {
        let osm_id = r.u64()? as i64;
        let kind = if r.u8()? == 1 {
            RestrictionKind::Only
        } else {
            RestrictionKind::No
        };
        let from = r.u32()?;
        let to = r.u32()?;
        let nv = r.u32()? as usize;
        if nv > 64 {
            return Err(format!("restriction {i} has {nv} via edges"));
        }
        let mut via = Vec::with_capacity(nv);
        for _ in 0..nv {
            via.push(r.u32()?);
        }
        if from >= nd || to >= nd || via.iter().any(|&v| v >= nd) {
            return Err(format!("restriction {i} references a missing edge"));
        }
        g.restrictions.push(TurnRestriction {
            osm_id,
            kind,
            from,
            via,
            to,
        });
    }
    if r.at != b.len() {
        return Err("trailing bytes after the payload".into());
    }
    Ok(g)
}

impl RoadGraph {
    /// SHA-256 (hex) of the graph's file payload: the same graph always gives the same value.
    pub fn fingerprint(&self) -> String {
        hex(&Sha256::digest(encode(&self.data)))
    }

    /// Writes the graph file (atomically: temp file, then rename).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), RoadsError> {
        let path = path.as_ref();
        let payload = encode(&self.data);
        let mut out = Vec::with_capacity(HEADER + payload.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        out.extend_from_slice(&Sha256::digest(&payload));
        out.extend_from_slice(&payload);
        let io = |e| RoadsError::Io {
            path: path.display().to_string(),
            source: e,
        };
        let tmp = path.with_extension("graph.tmp");
        std::fs::write(&tmp, &out).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// Reads a graph file, refusing another format version or a corrupt file.
    pub fn load(path: impl AsRef<Path>) -> Result<RoadGraph, RoadsError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| RoadsError::Io {
            path: path.display().to_string(),
            source: e,
        })?;
        Self::from_bytes(&bytes).map_err(|msg| RoadsError::GraphFile {
            path: path.display().to_string(),
            msg,
        })
    }

    /// Parses graph file bytes (see [`RoadGraph::load`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<RoadGraph, String> {
        if bytes.len() < HEADER || &bytes[..8] != MAGIC {
            return Err("not a sortfleet road graph file (bad magic)".into());
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().map_err(|_| "short header")?);
        if version != FORMAT_VERSION {
            return Err(format!(
                "graph file format version {version}, this build reads version {FORMAT_VERSION}; re-run `sortfleet roads import`"
            ));
        }
        let len = u64::from_le_bytes(bytes[12..20].try_into().map_err(|_| "short header")?);
        let payload = &bytes[HEADER..];
        if payload.len() as u64 != len {
            return Err(format!(
                "truncated or padded: payload is {} bytes, header says {len}",
                payload.len()
            ));
        }
        if Sha256::digest(payload).as_slice() != &bytes[20..52] {
            return Err("corrupt: fingerprint (sha256) does not match the content".into());
        }
        let g = decode(payload).map_err(|m| format!("corrupt: {m}"))?;
        Ok(RoadGraph::from_data(g))
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
