//! The "one map": a self-contained HTML page (no tile server, no CDN) that draws the
//! road network as SVG, each route coloured by stream, facilities by kind, depots, the
//! collection points, unserved visits and the incidents with their evidence.
//!
//! The page embeds all its data as one JSON object, so the same renderer serves the
//! static `out/map.html` and the live page of `sortfleet serve --http`: the live page
//! sets `live_url` and polls it for fresh incidents and truck positions.

use serde::Serialize;
use sortfleet_model::incident::Incident;
use sortfleet_model::plan::Plan;
use sortfleet_model::scenario::Scenario;
use sortfleet_model::{LatLon, Stream};

/// Everything the map page draws.
#[derive(Debug, Clone, Serialize)]
pub struct MapData {
    /// Page title.
    pub title: String,
    /// Road segments as `[lat1, lon1, lat2, lon2]`, rounded to ~1 m.
    pub roads: Vec<[f64; 4]>,
    /// Depots: `[id, name, lat, lon]`.
    pub depots: Vec<MapSite>,
    /// Facilities with their kind and accepted streams.
    pub facilities: Vec<MapSite>,
    /// Collection points with district and streams.
    pub points: Vec<MapSite>,
    /// One polyline per trip, coloured by stream.
    pub trips: Vec<MapTrip>,
    /// Unserved visits.
    pub unserved: Vec<MapSite>,
    /// Mixed-load incidents with their evidence.
    pub incidents: Vec<MapIncident>,
    /// Last known truck positions (live page only).
    pub trucks: Vec<MapSite>,
    /// When set, the page polls this URL for a fresh `MapLive` JSON every 2 s.
    pub live_url: Option<String>,
}

/// A labelled position on the map.
#[derive(Debug, Clone, Serialize)]
pub struct MapSite {
    /// Id shown in the tooltip.
    pub id: String,
    /// Category: depot, facility kind, district, reason…
    pub kind: String,
    /// Free text for the tooltip.
    pub label: String,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
}

/// One trip drawn as a polyline.
#[derive(Debug, Clone, Serialize)]
pub struct MapTrip {
    /// Vehicle id.
    pub vehicle: String,
    /// Stream of the trip.
    pub stream: String,
    /// Display colour of the stream.
    pub colour: &'static str,
    /// Coordinates as `[lat, lon]` pairs.
    pub path: Vec<[f64; 2]>,
    /// Number of stops on the trip.
    pub stops: usize,
    /// Facility where the trip unloads.
    pub facility: String,
}

/// An incident marker.
#[derive(Debug, Clone, Serialize)]
pub struct MapIncident {
    /// Incident id.
    pub id: String,
    /// Rule id, e.g. `MIXED_TRIP`.
    pub rule: String,
    /// Severity.
    pub severity: String,
    /// Vehicle.
    pub vehicle: String,
    /// Human-readable message.
    pub message: String,
    /// Client event ids of the evidence.
    pub evidence: Vec<String>,
    /// Latitude (incidents without a position are listed but not drawn).
    pub lat: Option<f64>,
    /// Longitude.
    pub lon: Option<f64>,
}

/// Display colour per stream, shared by the map page and the GeoJSON writer.
pub fn stream_colour(s: Stream) -> &'static str {
    match s {
        Stream::Kitchen => "#2e8b57",
        Stream::Recyclable => "#1f77b4",
        Stream::Hazardous => "#d62728",
        Stream::Residual => "#555555",
        Stream::Bulky => "#9467bd",
        Stream::Renovation => "#ff7f0e",
    }
}

fn round6(x: f64) -> f64 {
    (x * 1e5).round() / 1e5
}

fn pair(p: &LatLon) -> [f64; 2] {
    [round6(p.lat), round6(p.lon)]
}

impl MapIncident {
    /// Builds a marker from a domain incident.
    pub fn from_incident(i: &Incident) -> Self {
        Self {
            id: i.id.clone(),
            rule: serde_json::to_value(i.rule)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| format!("{:?}", i.rule)),
            severity: i.severity.as_str().to_owned(),
            vehicle: i.vehicle.to_string(),
            message: i.message.clone(),
            evidence: i.evidence.clone(),
            lat: i.position.map(|p| round6(p.lat)),
            lon: i.position.map(|p| round6(p.lon)),
        }
    }
}

impl MapData {
    /// Collects the map's layers from a scenario, an optional plan, the incidents and
    /// the road segments (e.g. `RoadGraph::segments()`).
    pub fn build(
        title: &str,
        scenario: &Scenario,
        plan: Option<&Plan>,
        incidents: &[Incident],
        roads: impl IntoIterator<Item = [LatLon; 2]>,
    ) -> Self {
        let roads = roads
            .into_iter()
            .map(|[a, b]| [round6(a.lat), round6(a.lon), round6(b.lat), round6(b.lon)])
            .collect();
        let depots = scenario
            .depots
            .iter()
            .map(|d| MapSite {
                id: d.id.to_string(),
                kind: "depot".into(),
                label: d.name.clone(),
                lat: d.location.lat,
                lon: d.location.lon,
            })
            .collect();
        let facilities = scenario
            .facilities
            .iter()
            .map(|f| MapSite {
                id: f.id.to_string(),
                kind: format!("{:?}", f.kind),
                label: format!(
                    "{} — accepts {}",
                    f.name,
                    f.accepted_streams
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                lat: f.location.lat,
                lon: f.location.lon,
            })
            .collect();
        let points = scenario
            .points
            .iter()
            .map(|p| MapSite {
                id: p.id.to_string(),
                kind: p.district.to_string(),
                label: p
                    .demands
                    .iter()
                    .map(|d| format!("{} {} kg", d.stream, d.kg.0))
                    .collect::<Vec<_>>()
                    .join(", "),
                lat: p.location.lat,
                lon: p.location.lon,
            })
            .collect();
        let mut trips = Vec::new();
        let mut unserved = Vec::new();
        if let Some(plan) = plan {
            let point_pos = |id: &sortfleet_model::PointId| {
                scenario
                    .points
                    .iter()
                    .find(|p| &p.id == id)
                    .map(|p| p.location)
            };
            let fac_pos = |id: &sortfleet_model::FacilityId| {
                scenario
                    .facilities
                    .iter()
                    .find(|f| &f.id == id)
                    .map(|f| f.location)
            };
            for r in &plan.routes {
                for t in &r.trips {
                    let mut path: Vec<[f64; 2]> = Vec::new();
                    for s in &t.stops {
                        if s.geometry.is_empty() {
                            if let Some(p) = point_pos(&s.point) {
                                path.push(pair(&p));
                            }
                        } else {
                            path.extend(s.geometry.iter().map(pair));
                        }
                    }
                    if t.unload.geometry.is_empty() {
                        if let Some(p) = fac_pos(&t.unload.facility) {
                            path.push(pair(&p));
                        }
                    } else {
                        path.extend(t.unload.geometry.iter().map(pair));
                    }
                    path.dedup();
                    trips.push(MapTrip {
                        vehicle: r.vehicle.to_string(),
                        stream: t.stream.as_str().to_owned(),
                        colour: stream_colour(t.stream),
                        path,
                        stops: t.stops.len(),
                        facility: t.unload.facility.to_string(),
                    });
                }
            }
            for u in &plan.unserved {
                if let Some(p) = point_pos(&u.point) {
                    unserved.push(MapSite {
                        id: u.point.to_string(),
                        kind: u.stream.as_str().to_owned(),
                        label: format!("{:?}: {}", u.reason, u.detail),
                        lat: p.lat,
                        lon: p.lon,
                    });
                }
            }
        }
        Self {
            title: title.to_owned(),
            roads,
            depots,
            facilities,
            points,
            trips,
            unserved,
            incidents: incidents.iter().map(MapIncident::from_incident).collect(),
            trucks: Vec::new(),
            live_url: None,
        }
    }

    /// Renders the self-contained HTML page.
    pub fn to_html(&self) -> String {
        // `</` inside a <script> block would end it early; JSON never needs it raw.
        let json = serde_json::to_string(self)
            .unwrap_or_else(|_| "{}".into())
            .replace("</", "<\\/");
        let title = html_escape(&self.title);
        TEMPLATE
            .replace("__TITLE__", &title)
            .replace("__DATA__", &json)
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const TEMPLATE: &str = include_str!("map_template.html");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_embeds_data_and_escapes_script_end() {
        let scenario: Scenario = serde_json::from_str(include_str!(
            "../../../data/scenarios/porto-alegre-small.json"
        ))
        .unwrap();
        let mut inc = Incident {
            id: "i1".into(),
            rule: sortfleet_model::incident::RuleId::MixedTrip,
            rule_version: 1,
            severity: sortfleet_model::incident::Severity::Critical,
            vehicle: "v1".into(),
            stream: None,
            district: None,
            point: None,
            evidence: vec!["e1".into()],
            position: Some(LatLon::new(-30.0, -51.2)),
            occurred_at: 0,
            message: "</script><b>".into(),
        };
        inc.rule_version = 2;
        let data = MapData::build("t", &scenario, None, &[inc], std::iter::empty());
        let html = data.to_html();
        assert!(html.contains("MIXED_TRIP"));
        assert_eq!(
            html.matches("</script>").count(),
            TEMPLATE.matches("</script>").count()
        );
        assert_eq!(data.facilities.len(), scenario.facilities.len());
    }
}
