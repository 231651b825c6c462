//! What the demo prints and writes: tables for people, CSV for spreadsheets.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::Context;
use sortfleet_citygen::CityGenSummary;
use sortfleet_model::incident::{Incident, RuleId};
use sortfleet_model::{Plan, Scenario, Stream, VehicleId};
use sortfleet_proto::v1;

use super::sim::SimDay;

/// Cents as `1234.56`.
pub fn money(ct: i64) -> String {
    format!("{}.{:02}", ct / 100, (ct % 100).abs())
}

pub fn print_city(s: &Scenario, sum: &CityGenSummary) {
    println!(
        "   {}: {} households estimated, {} collection points ({} recycling containers from OSM), {} districts",
        s.name,
        sum.households_estimated,
        s.points.len(),
        sum.recycling_points,
        sum.districts.len()
    );
    println!(
        "   {} facilities ({} real from OSM, {} placed), {} depots, {} vehicles",
        s.facilities.len(),
        sum.facilities_real,
        sum.facilities_placed,
        s.depots.len(),
        s.vehicles.len()
    );
    let demand: Vec<String> = sum
        .demand_kg
        .iter()
        .map(|(st, kg)| format!("{st} {:.1} t", kg.0 as f64 / 1000.0))
        .collect();
    println!("   demand of the day: {}", demand.join(", "));
}

/// The plan table: one line per stream.
pub fn print_plan(s: &Scenario, plan: &Plan) {
    #[derive(Default)]
    struct Row {
        vehicles: usize,
        trips: usize,
        stops: usize,
        kg: i64,
        m: i64,
        ct: i64,
        unserved: usize,
    }
    let mut rows: BTreeMap<Stream, Row> = BTreeMap::new();
    for r in plan.routes.iter().filter(|r| !r.trips.is_empty()) {
        // A vehicle carries one stream for the day; book the route to its first trip's.
        let main = r.trips[0].stream;
        let row = rows.entry(main).or_default();
        row.vehicles += 1;
        row.m += r.distance_m.0;
        row.ct += r.cost_ct.0;
        for t in &r.trips {
            let row = rows.entry(t.stream).or_default();
            row.trips += 1;
            row.stops += t.stops.len();
            row.kg += t.unload.load_kg.0;
        }
    }
    for u in &plan.unserved {
        rows.entry(u.stream).or_default().unserved += 1;
    }
    println!(
        "   {:<11} {:>8} {:>6} {:>6} {:>10} {:>9} {:>11} {:>9}",
        "stream", "vehicles", "trips", "stops", "tonnes", "km", "cost", "unserved"
    );
    for (st, r) in &rows {
        println!(
            "   {:<11} {:>8} {:>6} {:>6} {:>10.2} {:>9.1} {:>11} {:>9}",
            st.as_str(),
            r.vehicles,
            r.trips,
            r.stops,
            r.kg as f64 / 1000.0,
            r.m as f64 / 1000.0,
            money(r.ct),
            r.unserved
        );
    }
    let t = &plan.totals;
    println!(
        "   {:<11} {:>8} {:>6} {:>6} {:>10.2} {:>9.1} {:>11} {:>9}",
        "total",
        t.vehicles_used,
        rows.values().map(|r| r.trips).sum::<usize>(),
        t.visits_served,
        t.load_kg.0 as f64 / 1000.0,
        t.distance_m.0 as f64 / 1000.0,
        money(t.cost_ct.0),
        t.visits_unserved
    );
    let _ = s;
}

fn stream_name(v: i32) -> &'static str {
    v1::Stream::try_from(v)
        .map(|s| s.as_str_name().trim_start_matches("STREAM_"))
        .unwrap_or("?")
}

fn rule_name(v: i32) -> String {
    v1::RuleId::try_from(v)
        .map(|s| s.as_str_name().trim_start_matches("RULE_ID_").to_owned())
        .unwrap_or_else(|_| v.to_string())
}

/// The "one table": per district and stream.
pub fn print_scorecard(rows: &[v1::ScorecardRow]) {
    println!("== scorecard per district");
    println!(
        "   {:<16} {:<11} {:>8} {:>5} {:>7} {:>6} {:>6} {:>8}  incidents",
        "district", "stream", "tonnes", "trips", "planned", "served", "missed", "accuracy"
    );
    for r in rows {
        let inc: Vec<String> = r
            .incidents_by_rule
            .iter()
            .map(|c| format!("{} {}", rule_name(c.rule), c.count))
            .collect();
        println!(
            "   {:<16} {:<11} {:>8.2} {:>5} {:>7} {:>6} {:>6} {:>7.1}%  {}",
            r.district_id,
            stream_name(r.stream),
            r.tonnage_kg as f64 / 1000.0,
            r.trips,
            r.planned_visits,
            r.served_visits,
            r.missed_visits,
            r.accuracy_rate * 100.0,
            inc.join(", ")
        );
    }
}

fn csv(field: &str) -> String {
    if field.contains([',', '"', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

pub fn write_incidents_csv(path: &Path, incidents: &[Incident]) -> anyhow::Result<()> {
    let mut f = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
    );
    writeln!(
        f,
        "id,rule,rule_version,severity,vehicle,stream,district,point,occurred_at_ms,lat,lon,evidence,message"
    )?;
    for i in incidents {
        writeln!(
            f,
            "{},{},{},{},{},{},{},{},{},{},{},{},{}",
            csv(&i.id),
            i.rule.as_str(),
            i.rule_version,
            i.severity.as_str(),
            csv(i.vehicle.as_str()),
            i.stream.map_or("", |s| s.as_str()),
            csv(i.district.as_ref().map_or("", |d| d.as_str())),
            csv(i.point.as_ref().map_or("", |p| p.as_str())),
            i.occurred_at,
            i.position
                .map_or(String::new(), |p| format!("{:.6}", p.lat)),
            i.position
                .map_or(String::new(), |p| format!("{:.6}", p.lon)),
            csv(&i.evidence.join(" ")),
            csv(&i.message)
        )?;
    }
    f.flush()?;
    Ok(())
}

pub fn write_scorecard_csv(path: &Path, rows: &[v1::ScorecardRow]) -> anyhow::Result<()> {
    let mut f = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
    );
    let rules: Vec<String> = RuleId::ALL.iter().map(|r| r.as_str().to_owned()).collect();
    writeln!(
        f,
        "district,stream,service_date,tonnage_kg,trips,planned_visits,served_visits,missed_visits,scans,clean_scans,accuracy_rate,{}",
        rules.join(",")
    )?;
    for r in rows {
        let by: BTreeMap<String, u32> = r
            .incidents_by_rule
            .iter()
            .map(|c| (rule_name(c.rule), c.count))
            .collect();
        let counts: Vec<String> = rules
            .iter()
            .map(|k| by.get(k).copied().unwrap_or(0).to_string())
            .collect();
        writeln!(
            f,
            "{},{},{},{},{},{},{},{},{},{},{:.4},{}",
            csv(&r.district_id),
            stream_name(r.stream),
            r.service_date,
            r.tonnage_kg,
            r.trips,
            r.planned_visits,
            r.served_visits,
            r.missed_visits,
            r.scans,
            r.clean_scans,
            r.accuracy_rate,
            counts.join(",")
        )?;
    }
    f.flush()?;
    Ok(())
}

/// The closing figures; returns whether detected equals injected exactly.
pub fn print_figures(
    phases: &[(&'static str, f64)],
    total_s: f64,
    plan: &Plan,
    day: &SimDay,
    detected: &BTreeMap<(RuleId, VehicleId), usize>,
) -> bool {
    println!("== figures");
    for (name, s) in phases {
        println!("   {name:<38} {s:>7.1} s");
    }
    println!("   {:<38} {total_s:>7.1} s", "total");
    let t = &plan.totals;
    let km = t.distance_m.0 as f64 / 1000.0;
    let tonnes = t.load_kg.0 as f64 / 1000.0;
    println!(
        "   {km:.1} km driven, {tonnes:.2} t collected, {} visits served, {} unserved",
        t.visits_served, t.visits_unserved
    );
    if tonnes > 0.0 {
        println!(
            "   {:.2} km per tonne, cost {} per tonne",
            km / tonnes,
            money((t.cost_ct.0 as f64 / tonnes).round() as i64)
        );
    }
    let expected = day.expected();
    let keys: std::collections::BTreeSet<_> = expected.keys().chain(detected.keys()).collect();
    println!(
        "   {:<22} {:<10} {:>8} {:>8}",
        "rule", "vehicle", "injected", "detected"
    );
    let mut ok = true;
    for k in keys {
        let e = expected.get(k).copied().unwrap_or(0);
        let d = detected.get(k).copied().unwrap_or(0);
        let mark = if e == d { "" } else { "  <-- MISMATCH" };
        ok &= e == d;
        println!(
            "   {:<22} {:<10} {:>8} {:>8}{mark}",
            k.0.as_str(),
            k.1.as_str(),
            e,
            d
        );
    }
    let (e, d): (usize, usize) = (expected.values().sum(), detected.values().sum());
    println!(
        "   incidents: {d} detected vs {e} injected — {}",
        if ok {
            "every injected misbehaviour detected, no false alarm"
        } else {
            "MISMATCH"
        }
    );
    ok
}
