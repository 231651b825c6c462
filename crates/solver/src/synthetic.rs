//! A seeded synthetic waste-collection day, for benchmarks and examples at city scale
//! (the real scenarios come from the planner through [`ProblemData::new`]).

use std::sync::Arc;

use sortfleet_model::Stream;

use crate::problem::{Break, DenseMatrix, Facility, ProblemData, TimeWindow, Vehicle, Visit};
use crate::rng::Rng;

/// `n_visits` pickups of four streams on a 12 km square (Manhattan metres, 8 m/s),
/// two depots, five facilities (one with an intake limit), `n_vehicles` trucks with a
/// 06:00–15:00 shift, a 30-minute break between 10:00 and 12:00, and stream
/// certificates (one in four also licensed for hazardous waste).
pub fn waste_day(seed: u64, n_visits: usize, n_vehicles: usize) -> ProblemData {
    let mut rng = Rng::new(seed);
    let n_loc = n_visits + 7;
    let pts: Vec<(i64, i64)> = (0..n_loc)
        .map(|_| (rng.below(12_000) as i64, rng.below(12_000) as i64))
        .collect();
    let mut dist = Vec::with_capacity(n_loc * n_loc);
    for a in &pts {
        for b in &pts {
            dist.push((a.0 - b.0).abs() + (a.1 - b.1).abs());
        }
    }
    let dur: Vec<i64> = dist.iter().map(|d| d / 8).collect();
    let day = TimeWindow::new(6 * 3600, 15 * 3600);
    let visits = (0..n_visits)
        .map(|i| {
            let stream = match rng.below(20) {
                0 => Stream::Hazardous,
                1..=7 => Stream::Kitchen,
                8..=14 => Stream::Residual,
                _ => Stream::Recyclable,
            };
            let windows = if rng.below(5) == 0 {
                let s = 6 * 3600 + rng.below(6 * 3600) as i64;
                vec![TimeWindow::new(s, s + 7200)]
            } else {
                vec![day]
            };
            Visit {
                location: 7 + i,
                demand: [20 + rng.below(300) as i64, 100 + rng.below(900) as i64],
                service: 60 + rng.below(240) as i64,
                windows,
                stream,
                skills: u64::from(stream == Stream::Hazardous),
                penalty: (rng.below(10) == 0).then_some(20_000),
                release: 0,
            }
        })
        .collect();
    let facilities = vec![
        Facility {
            location: 2,
            accepts: vec![Stream::Kitchen],
            unload: 600,
            hours: vec![day],
            intake_limit: Some(40_000 * (n_visits as i64 / 100 + 1)),
        },
        Facility {
            location: 3,
            accepts: vec![Stream::Residual],
            unload: 600,
            hours: vec![day],
            intake_limit: None,
        },
        Facility {
            location: 4,
            accepts: vec![Stream::Residual, Stream::Kitchen],
            unload: 900,
            hours: vec![day],
            intake_limit: None,
        },
        Facility {
            location: 5,
            accepts: vec![Stream::Recyclable],
            unload: 480,
            hours: vec![day],
            intake_limit: None,
        },
        Facility {
            location: 6,
            accepts: vec![Stream::Hazardous],
            unload: 300,
            hours: vec![TimeWindow::new(8 * 3600, 14 * 3600)],
            intake_limit: None,
        },
    ];
    let vehicles = (0..n_vehicles.max(1))
        .map(|k| {
            let depot = k % 2;
            let certified = match k % 4 {
                0 => vec![Stream::Kitchen],
                1 => vec![Stream::Residual, Stream::Kitchen],
                2 => vec![Stream::Recyclable],
                _ => vec![Stream::Residual, Stream::Hazardous, Stream::Recyclable],
            };
            let mut v = Vehicle::basic(depot, depot, [8_000, 16_000], certified);
            v.shift = day;
            v.skills = u64::from(k % 4 == 3);
            v.fixed_cost = 50_000;
            v.cost_per_distance = 1;
            v.cost_per_second = 1;
            v.max_duration = Some(8 * 3600);
            v.break_rule = Some(Break {
                window: TimeWindow::new(10 * 3600, 12 * 3600),
                duration: 1800,
            });
            v
        })
        .collect();
    let m = DenseMatrix::new(n_loc, vec![dur], vec![dist]).expect("square");
    ProblemData::new(visits, vehicles, facilities, Arc::new(m)).expect("valid synthetic day")
}
