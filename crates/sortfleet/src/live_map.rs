//! The live "one map" over HTTP for `sortfleet serve --http ADDR`: `GET /` is the same
//! self-contained page as the demo's `out/map.html`, built from the service's master
//! data, the latest published plan and the stored incidents; the page polls
//! `GET /api/live` every two seconds for incidents that arrived since it loaded.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{Html, IntoResponse, Json};
use axum::routing::get;
use sortfleet_dispatch::app::{App, IncidentQuery};
use sortfleet_dispatch::map::{MapData, MapIncident};
use sortfleet_model::Scenario;
use sortfleet_model::incident::Incident;
use sortfleet_roads::RoadGraph;

/// Most incidents one page or poll shows; the regulator API pages through the rest.
const MAX_INCIDENTS: u32 = 1000;

/// The HTTP routes of the live map.
pub fn router(app: App) -> axum::Router {
    axum::Router::new()
        .route("/", get(page))
        .route("/api/live", get(live))
        .with_state(Arc::new(app))
}

async fn incidents(app: &App) -> Vec<Incident> {
    match app
        .list_incidents(IncidentQuery::default(), 0, MAX_INCIDENTS)
        .await
    {
        Ok(page) => page.incidents.into_iter().map(|r| r.incident).collect(),
        Err(e) => {
            tracing::warn!(error = %e, "live map: listing incidents failed");
            Vec::new()
        }
    }
}

async fn page(State(app): State<Arc<App>>) -> impl IntoResponse {
    let master = app.master();
    let incidents = incidents(&app).await;
    // The published plan of today, else of the nearest day around it (dispatchers
    // publish tomorrow's plan the afternoon before).
    let today = chrono::Local::now().date_naive();
    let plan = [0i64, 1, -1, 2, -2, 3, -3, 4, 5, 6, 7]
        .into_iter()
        .filter_map(|d| today.checked_add_signed(chrono::Duration::days(d)))
        .find_map(|day| app.published_plan(day))
        .map(|r| r.plan);
    let scenario = Scenario {
        name: "sortfleet live map".into(),
        date: plan.as_ref().map(|p| p.date).unwrap_or(today),
        depots: master.depots.into_values().collect(),
        facilities: master.facilities.into_values().collect(),
        vehicles: master.vehicles.into_values().collect(),
        points: master.points.into_values().collect(),
    };
    let net = app.road_network();
    let graph = net
        .as_ref()
        .and_then(|n| n.graph.downcast_ref::<RoadGraph>());
    let segments: Vec<_> = graph.map(|g| g.segments().collect()).unwrap_or_default();
    let mut data = MapData::build(
        "sortfleet — live map",
        &scenario,
        plan.as_ref(),
        &incidents,
        segments,
    );
    data.live_url = Some("/api/live".into());
    Html(data.to_html())
}

async fn live(State(app): State<Arc<App>>) -> impl IntoResponse {
    let incidents: Vec<MapIncident> = incidents(&app)
        .await
        .iter()
        .map(MapIncident::from_incident)
        .collect();
    Json(serde_json::json!({ "incidents": incidents, "trucks": [] }))
}
