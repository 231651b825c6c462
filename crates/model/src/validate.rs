//! Scenario validation: every problem at once, each naming its JSON path
//! (`vehicles[3].capacity_kg: must be greater than 0`).

use serde::{Deserialize, Serialize};

/// One problem found in a scenario.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// JSON path of the offending value, e.g. `vehicles[3].capacity_kg`.
    pub path: String,
    /// What is wrong, e.g. `must be greater than 0`.
    pub message: String,
}

impl Problem {
    /// Builds a problem.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// The outcome of validating a scenario. Errors make the scenario unusable; warnings
/// describe visits the plan will report as unserved.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationReport {
    /// Problems that make the scenario unusable.
    pub errors: Vec<Problem>,
    /// Problems the planner survives (the affected visits end up unserved).
    pub warnings: Vec<Problem>,
}

impl ValidationReport {
    /// Whether there are no errors (warnings are allowed).
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }
}

use std::collections::{BTreeMap, HashMap};

use crate::scenario::{Scenario, TimeWindow};
use crate::stream::Stream;
use crate::units::{LatLon, Seconds};

/// Why a scenario could not be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioError {
    /// The text is not JSON at all.
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What the JSON parser expected.
        message: String,
    },
    /// The JSON has the wrong shape or the scenario has errors; the report lists them all.
    #[error("invalid scenario: {}", summary(.0))]
    Invalid(ValidationReport),
}

fn summary(r: &ValidationReport) -> String {
    let first = r
        .errors
        .first()
        .map(ToString::to_string)
        .unwrap_or_default();
    match r.errors.len() {
        0 | 1 => first,
        n => format!("{first} (and {} more)", n - 1),
    }
}

impl Scenario {
    /// Reads a scenario from JSON and validates it; `Ok` only when there is no error
    /// (call [`Scenario::validate`] again for the warnings, or use [`check_json`]).
    pub fn from_json_str(json: &str) -> Result<Scenario, ScenarioError> {
        let (scenario, report) = check_json(json)?;
        if report.is_ok() {
            Ok(scenario)
        } else {
            Err(ScenarioError::Invalid(report))
        }
    }

    /// Checks the scenario and returns every problem at once, each naming its JSON path.
    pub fn validate(&self) -> ValidationReport {
        let mut c = Checker::default();
        c.scenario(self);
        c.report
    }
}

/// Parses scenario JSON tolerantly and validates it.
///
/// Unknown stream names are reported with their path (and the entry holding them is
/// left out) instead of failing the whole parse, so one run lists every problem.
/// Returns `Err(Syntax)` for text that is not JSON and `Err(Invalid)` when the JSON
/// does not have the scenario's shape (missing or unknown fields, wrong types);
/// otherwise the parsed scenario and its full report, which may still hold errors.
pub fn check_json(json: &str) -> Result<(Scenario, ValidationReport), ScenarioError> {
    let mut value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| ScenarioError::Syntax {
            line: e.line(),
            column: e.column(),
            message: strip_position(&e.to_string()),
        })?;
    let mut pre = ValidationReport::default();
    let remaps = strip_unknown_streams(&mut value, &mut pre.errors);
    let scenario: Scenario = match serde_path_to_error::deserialize(value) {
        Ok(s) => s,
        Err(e) => {
            let path = match e.path().to_string() {
                p if p == "." => String::new(),
                p => p,
            };
            let mut problem = Problem::new(path, e.inner().to_string());
            remap(&mut problem, &remaps);
            pre.errors.push(problem);
            return Err(ScenarioError::Invalid(pre));
        }
    };
    let mut report = scenario.validate();
    for p in report.errors.iter_mut().chain(report.warnings.iter_mut()) {
        remap(p, &remaps);
    }
    pre.errors.append(&mut report.errors);
    pre.warnings.append(&mut report.warnings);
    Ok((scenario, pre))
}

fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

/// For an array from which entries were removed: its path and, for each kept entry,
/// its original index.
type Remap = (String, Vec<usize>);

/// Removes array entries whose stream name is unknown, reporting each with its path.
fn strip_unknown_streams(root: &mut serde_json::Value, errors: &mut Vec<Problem>) -> Vec<Remap> {
    use serde_json::Value;
    let mut remaps = Vec::new();
    // (top-level array, nested array, whether entries are objects with a `stream` field)
    let places = [
        ("facilities", "accepted_streams", false),
        ("vehicles", "certified_streams", false),
        ("points", "demands", true),
        ("points", "bins", true),
    ];
    for (top, inner, is_object) in places {
        let Some(Value::Array(items)) = root.get_mut(top) else {
            continue;
        };
        for (i, item) in items.iter_mut().enumerate() {
            let Some(Value::Array(entries)) = item.get_mut(inner) else {
                continue;
            };
            let base = format!("{top}[{i}].{inner}");
            let mut kept = Vec::with_capacity(entries.len());
            let mut removed = false;
            let old = std::mem::take(entries);
            for (j, entry) in old.into_iter().enumerate() {
                let (name, path) = if is_object {
                    (entry.get("stream"), format!("{base}[{j}].stream"))
                } else {
                    (Some(&entry), format!("{base}[{j}]"))
                };
                if let Some(Value::String(name)) = name
                    && !Stream::ALL.iter().any(|s| s.as_str() == name)
                {
                    errors.push(Problem::new(path, unknown_stream_message(name)));
                    removed = true;
                    continue;
                }
                kept.push(j);
                entries.push(entry);
            }
            if removed {
                remaps.push((base, kept));
            }
        }
    }
    remaps
}

fn unknown_stream_message(name: &str) -> String {
    let ids = Stream::ALL.map(Stream::as_str).join(", ");
    match name.parse::<Stream>() {
        Ok(s) => format!("unknown stream `{name}` (stream ids are upper case: did you mean {s}?)"),
        Err(_) => format!("unknown stream `{name}` (expected one of {ids})"),
    }
}

/// Rewrites a path into a stripped array back to the index in the original JSON.
fn remap(problem: &mut Problem, remaps: &[Remap]) {
    for (base, kept) in remaps {
        let Some(rest) = problem.path.strip_prefix(base.as_str()) else {
            continue;
        };
        let Some(rest) = rest.strip_prefix('[') else {
            continue;
        };
        let Some(close) = rest.find(']') else {
            continue;
        };
        if let Some(&orig) = rest[..close]
            .parse::<usize>()
            .ok()
            .and_then(|k| kept.get(k))
        {
            problem.path = format!("{base}[{orig}]{}", &rest[close + 1..]);
            return;
        }
    }
}

#[derive(Default)]
struct Checker {
    report: ValidationReport,
}

const GT0: &str = "must be greater than 0";

impl Checker {
    fn error(&mut self, path: impl Into<String>, msg: impl Into<String>) {
        self.report.errors.push(Problem::new(path, msg));
    }

    fn warn(&mut self, path: impl Into<String>, msg: impl Into<String>) {
        self.report.warnings.push(Problem::new(path, msg));
    }

    fn positive(&mut self, path: impl FnOnce() -> String, v: i64) {
        if v <= 0 {
            self.error(path(), GT0);
        }
    }

    fn non_negative(&mut self, path: impl FnOnce() -> String, v: i64) {
        if v < 0 {
            self.error(path(), "must not be negative");
        }
    }

    fn location(&mut self, base: &str, loc: &LatLon) {
        if !(loc.lat.is_finite() && (-90.0..=90.0).contains(&loc.lat)) {
            self.error(
                format!("{base}.lat"),
                format!("invalid latitude {} (must be within -90..90)", loc.lat),
            );
        }
        if !(loc.lon.is_finite() && (-180.0..=180.0).contains(&loc.lon)) {
            self.error(
                format!("{base}.lon"),
                format!("invalid longitude {} (must be within -180..180)", loc.lon),
            );
        }
    }

    fn window(&mut self, path: &str, w: &TimeWindow) {
        use crate::scenario::clock::format;
        if w.end < w.start {
            self.error(
                path,
                format!("end {} is before start {}", format(w.end), format(w.start)),
            );
        }
        for (name, t) in [("start", w.start), ("end", w.end)] {
            if t < Seconds(0) || t > Seconds::DAY {
                let shown = if t.0 < 0 { t.0.to_string() } else { format(t) };
                self.error(
                    format!("{path}.{name}"),
                    format!("{shown} is outside the day (00:00..24:00)"),
                );
            }
        }
    }

    /// Reports empty and duplicate ids within one list.
    fn ids<'a>(&mut self, list: &str, ids: impl Iterator<Item = &'a str>) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, id) in ids.enumerate() {
            let path = format!("{list}[{i}].id");
            if id.trim().is_empty() {
                self.error(path, "must not be empty");
            } else if let Some(first) = seen.get(id) {
                self.error(
                    path,
                    format!("duplicate id `{id}` (first at {list}[{first}])"),
                );
            } else {
                seen.insert(id, i);
            }
        }
    }

    fn streams(&mut self, base: &str, streams: &[Stream], empty_msg: &str) {
        if streams.is_empty() {
            self.error(base, empty_msg);
        }
        for (j, s) in streams.iter().enumerate() {
            if let Some(first) = streams[..j].iter().position(|x| x == s) {
                self.error(
                    format!("{base}[{j}]"),
                    format!("duplicate stream {s} (first at {base}[{first}])"),
                );
            }
        }
    }

    fn scenario(&mut self, sc: &Scenario) {
        if sc.name.trim().is_empty() {
            self.error("name", "must not be empty");
        }
        self.ids("depots", sc.depots.iter().map(|d| d.id.as_str()));
        self.ids("facilities", sc.facilities.iter().map(|f| f.id.as_str()));
        self.ids("vehicles", sc.vehicles.iter().map(|v| v.id.as_str()));
        self.ids("points", sc.points.iter().map(|p| p.id.as_str()));

        for (i, d) in sc.depots.iter().enumerate() {
            self.location(&format!("depots[{i}].location"), &d.location);
        }
        for (i, f) in sc.facilities.iter().enumerate() {
            let b = format!("facilities[{i}]");
            self.location(&format!("{b}.location"), &f.location);
            self.streams(
                &format!("{b}.accepted_streams"),
                &f.accepted_streams,
                "must accept at least one stream",
            );
            self.window(&format!("{b}.opening_hours"), &f.opening_hours);
            self.positive(|| format!("{b}.unload_s"), f.unload_s.0);
            if let Some(limit) = f.daily_intake_limit_kg {
                self.positive(|| format!("{b}.daily_intake_limit_kg"), limit.0);
            }
            self.positive(|| format!("{b}.geofence_radius_m"), f.geofence_radius_m.0);
        }
        for i in 0..sc.vehicles.len() {
            self.vehicle(sc, i);
        }
        let mut bin_ids: HashMap<&str, String> = HashMap::new();
        for (i, p) in sc.points.iter().enumerate() {
            let b = format!("points[{i}]");
            self.location(&format!("{b}.location"), &p.location);
            if p.district.as_str().trim().is_empty() {
                self.error(format!("{b}.district"), "must not be empty");
            }
            self.positive(|| format!("{b}.service_s"), p.service_s.0);
            for (j, d) in p.demands.iter().enumerate() {
                let db = format!("{b}.demands[{j}]");
                if let Some(first) = p.demands[..j].iter().position(|x| x.stream == d.stream) {
                    self.error(
                        format!("{db}.stream"),
                        format!(
                            "duplicate demand for stream {} (first at {b}.demands[{first}])",
                            d.stream
                        ),
                    );
                }
                self.positive(|| format!("{db}.kg"), d.kg.0);
                self.positive(|| format!("{db}.litres"), d.litres.0);
            }
            for (j, w) in p.time_windows.iter().enumerate() {
                self.window(&format!("{b}.time_windows[{j}]"), w);
            }
            for (j, bin) in p.bins.iter().enumerate() {
                let path = format!("{b}.bins[{j}].id");
                let id = bin.id.as_str();
                if id.trim().is_empty() {
                    self.error(path, "must not be empty");
                } else if let Some(first) = bin_ids.get(id) {
                    self.error(path, format!("duplicate bin id `{id}` (first at {first})"));
                } else {
                    bin_ids.insert(id, path);
                }
            }
        }
        self.streams_served(sc);
    }

    fn vehicle(&mut self, sc: &Scenario, i: usize) {
        let v = &sc.vehicles[i];
        let b = format!("vehicles[{i}]");
        if sc.depot(&v.depot).is_none() {
            self.error(format!("{b}.depot"), format!("unknown depot `{}`", v.depot));
        }
        self.streams(
            &format!("{b}.certified_streams"),
            &v.certified_streams,
            "must be certified for at least one stream",
        );
        if !v.hazardous_licence
            && let Some(j) = v
                .certified_streams
                .iter()
                .position(|s| *s == Stream::Hazardous)
        {
            self.warn(
                format!("{b}.certified_streams[{j}]"),
                "HAZARDOUS needs hazardous_licence: true; the vehicle will not be used for it",
            );
        }
        self.positive(|| format!("{b}.capacity_kg"), v.capacity_kg.0);
        self.positive(|| format!("{b}.capacity_l"), v.capacity_l.0);
        self.window(&format!("{b}.shift"), &v.shift);
        self.positive(|| format!("{b}.max_shift_s"), v.max_shift_s.0);
        if let Some(br) = &v.break_rule {
            self.positive(|| format!("{b}.break_rule.duration_s"), br.duration_s.0);
            self.window(&format!("{b}.break_rule.window"), &br.window);
        }
        self.non_negative(|| format!("{b}.fixed_cost_ct"), v.fixed_cost_ct.0);
        self.non_negative(|| format!("{b}.cost_per_km_ct"), v.cost_per_km_ct.0);
        self.non_negative(|| format!("{b}.cost_per_hour_ct"), v.cost_per_hour_ct.0);
        let s = &v.size;
        self.positive(|| format!("{b}.size.gross_weight_kg"), s.gross_weight_kg.0);
        self.positive(|| format!("{b}.size.height_cm"), s.height_cm);
        self.positive(|| format!("{b}.size.width_cm"), s.width_cm);
        self.positive(|| format!("{b}.size.length_cm"), s.length_cm);
        self.positive(|| format!("{b}.size.max_speed_kmh"), s.max_speed_kmh);
    }

    /// Cross-checks per stream: is there a vehicle and a facility for every demand?
    fn streams_served(&mut self, sc: &Scenario) {
        // first demand path and number of visits per stream
        let mut demand: BTreeMap<Stream, (String, usize)> = BTreeMap::new();
        for (i, p) in sc.points.iter().enumerate() {
            for (j, d) in p.demands.iter().enumerate() {
                demand
                    .entry(d.stream)
                    .or_insert_with(|| (format!("points[{i}].demands[{j}].stream"), 0))
                    .1 += 1;
            }
        }
        for (stream, (path, visits)) in demand {
            let more = |n: usize| {
                if n > 1 {
                    format!(" ({n} visits)")
                } else {
                    String::new()
                }
            };
            let carriers: Vec<_> = sc.vehicles.iter().filter(|v| v.can_carry(stream)).collect();
            if carriers.is_empty() {
                if stream == Stream::Hazardous {
                    self.error(
                        path.clone(),
                        format!(
                            "hazardous demand but no vehicle is certified for HAZARDOUS with hazardous_licence: true{}",
                            more(visits)
                        ),
                    );
                } else {
                    self.warn(
                        path.clone(),
                        format!(
                            "no vehicle is certified for {stream}; these visits will be unserved{}",
                            more(visits)
                        ),
                    );
                }
            }
            if !sc.facilities.iter().any(|f| f.accepts(stream)) {
                self.warn(
                    path,
                    format!(
                        "no facility accepts {stream}; these visits will be unserved{}",
                        more(visits)
                    ),
                );
            }
            if let Some(max_kg) = carriers.iter().map(|v| v.capacity_kg).max() {
                for (i, p) in sc.points.iter().enumerate() {
                    for (j, d) in p.demands.iter().enumerate() {
                        if d.stream == stream && d.kg > max_kg {
                            self.warn(
                                format!("points[{i}].demands[{j}].kg"),
                                format!(
                                    "{} exceeds the capacity_kg of every vehicle that can carry {stream} (largest {}); the visit will be unserved",
                                    d.kg.0, max_kg.0
                                ),
                            );
                        }
                    }
                }
            }
        }
    }
}
