//! The application core with the real planning pipeline: load the shipped Porto Alegre
//! extract, plan the small shipped day, publish it, and see a route with coordinates on
//! a terminal; then take a vehicle out and see the re-plan published.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use sortfleet_dispatch::app::*;
use sortfleet_model::Scenario;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_publish_and_replan_on_the_shipped_city() {
    let text =
        std::fs::read_to_string(root().join("data/scenarios/porto-alegre-small.json")).unwrap();
    let sc = Scenario::from_json_str(&text).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = AppConfig::new(dir.path().join("city.db"));
    cfg.default_time_limit = Duration::from_secs(3);
    cfg.heartbeat = Duration::from_secs(3600);
    let source = Arc::new(PipelineSource {
        threads: 2,
        geometry: true,
    });
    let app = App::open(cfg, source).await.unwrap();
    app.upsert_master(MasterBatch {
        depots: sc.depots.clone(),
        facilities: sc.facilities.clone(),
        vehicles: sc.vehicles.clone(),
        points: sc.points.clone(),
    })
    .await
    .unwrap();
    // Planning before a road network is loaded fails cleanly.
    let job = app.plan_day(sc.date, PlanDayParams::default()).unwrap();
    let last = app
        .watch_plan_job(&job)
        .unwrap()
        .collect::<Vec<_>>()
        .await
        .pop()
        .unwrap();
    assert_eq!(last.phase, JobPhase::Failed);
    assert!(last.error.unwrap().contains("road network"));

    let roads = app
        .load_road_network(root().join("data/osm/porto-alegre.osm.pbf"))
        .await
        .unwrap();
    assert!(roads.node_count > 1000 && !roads.fingerprint.is_empty());
    assert!(matches!(
        app.load_road_network(root().join("data/osm/nope.osm.pbf"))
            .await,
        Err(AppError::NotFound { .. })
    ));

    let job = app.plan_day(sc.date, PlanDayParams::default()).unwrap();
    let updates: Vec<JobProgress> = app.watch_plan_job(&job).unwrap().collect().await;
    let last = updates.last().unwrap();
    assert_eq!(last.phase, JobPhase::Done, "{last:?}");
    let rec = app.get_plan(last.plan_id.as_ref().unwrap()).await.unwrap();
    assert_eq!(
        rec.road_fingerprint.as_deref(),
        Some(roads.fingerprint.as_str())
    );
    let used = rec
        .plan
        .routes
        .iter()
        .find(|r| !r.trips.is_empty())
        .unwrap()
        .vehicle
        .clone();
    let mut term = app.subscribe_assignments(&used, 0).unwrap();
    app.publish_plan(&rec.id).await.unwrap();
    let m = tokio::time::timeout(Duration::from_secs(60), term.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let TerminalBody::RouteVersion(rv) = m.body else {
        panic!("expected a route, got {m:?}")
    };
    let stop = &rv.route.trips[0].stops[0];
    assert!(stop.position.is_valid() && stop.position != Default::default());
    assert!(
        !stop.stop.geometry.is_empty(),
        "terminal routes carry road geometry"
    );

    // The vehicle breaks down at 10:00: a re-plan is published, it gets a revision or
    // a cancellation.
    let job = app
        .vehicle_unavailable(
            sc.date,
            &used,
            sortfleet_model::Seconds::hm(10, 0),
            "breakdown",
            None,
        )
        .unwrap();
    let last = app
        .watch_plan_job(&job)
        .unwrap()
        .collect::<Vec<_>>()
        .await
        .pop()
        .unwrap();
    assert_eq!(last.phase, JobPhase::Done, "{last:?}");
    let m = tokio::time::timeout(Duration::from_secs(60), term.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        matches!(
            m.body,
            TerminalBody::RouteRevision(_) | TerminalBody::Cancellation(_)
        ),
        "{m:?}"
    );
}
