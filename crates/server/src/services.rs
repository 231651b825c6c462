//! The three `sortfleet.v1` services over [`App`].
//!
//! Each handler does the same four steps: authenticate, convert the request (naming the
//! offending field), check the role against the converted ids, call the core; errors go
//! through the one table in [`crate::status`]. Nothing here keeps state of its own.

use std::pin::Pin;
use std::time::Duration;

use futures::{Stream, StreamExt};
use sortfleet_dispatch::app::{
    App, EventBatch as AppBatch, MasterBatch, MasterDelete, PlanDayParams, RejectedEvent,
};
use sortfleet_dispatch::scorecard::ScorecardQuery;
use sortfleet_model::event::TruckEvent;
use sortfleet_model::{CollectionPoint, DistrictId, Seconds, VehicleId};
use sortfleet_proto::v1;
use sortfleet_proto::v1::dispatch_service_server::DispatchService;
use sortfleet_proto::v1::supervision_service_server::SupervisionService;
use sortfleet_proto::v1::terminal_service_server::TerminalService;
use tonic::{Request, Response, Status, Streaming};

use crate::auth::{Auth, Principal};
use crate::convert::{
    FromProto, ToProto, date_from_proto, event_batch_from_proto, stream_from_proto,
};
use crate::status::{IntoStatus, invalid};
use crate::wire;

/// A boxed response stream.
pub type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// Longest planning budget a request may ask for.
const MAX_TIME_LIMIT_S: i64 = 3600;

/// Shared by the three services: the core and the token table.
#[derive(Clone, Debug)]
pub struct Service {
    app: App,
    auth: Auth,
}

impl Service {
    /// Services over `app`, callers checked against `auth`.
    pub fn new(app: App, auth: Auth) -> Self {
        Service { app, auth }
    }

    fn who<T>(&self, req: &Request<T>) -> Result<Principal, Status> {
        self.auth.authenticate(req.metadata())
    }

    /// One `ReportEvents` batch as `who`: role check, conversion (malformed events are
    /// rejected one by one, naming the field), storage, rules; the ack comes after the
    /// commit. Public so that tests and fuzzers can drive the intake path without a
    /// socket.
    pub async fn report_batch(
        &self,
        who: &Principal,
        b: v1::EventBatch,
    ) -> Result<v1::Ack, Status> {
        handle_batch(&self.app, who, b).await
    }
}

fn time_limit(s: i64, field: &str) -> Result<Option<Duration>, Status> {
    match s {
        0 => Ok(None),
        1..=MAX_TIME_LIMIT_S => Ok(Some(Duration::from_secs(s as u64))),
        _ => Err(invalid(
            field,
            format!("must be 0 (default) or 1..={MAX_TIME_LIMIT_S} seconds"),
        )),
    }
}

fn required_id(s: &str, field: &str) -> Result<(), Status> {
    if s.trim().is_empty() {
        Err(invalid(field, "is required"))
    } else {
        Ok(())
    }
}

fn time_of_day(s: i64, field: &str) -> Result<Seconds, Status> {
    if (0..=86_400).contains(&s) {
        Ok(Seconds(s))
    } else {
        Err(invalid(field, "must be within the day (0..=86400 seconds)"))
    }
}

#[tonic::async_trait]
impl DispatchService for Service {
    async fn upsert_master_data(
        &self,
        req: Request<v1::UpsertMasterDataRequest>,
    ) -> Result<Response<v1::UpsertMasterDataResponse>, Status> {
        self.who(&req)?.require_dispatcher()?;
        let batch = MasterBatch::from_proto(req.into_inner(), "").status()?;
        let out = self.app.upsert_master(batch).await.status()?;
        Ok(Response::new(v1::UpsertMasterDataResponse {
            changed_count: out.changed,
            unchanged_count: out.unchanged,
            warnings: out.warnings,
        }))
    }

    async fn delete_master_data(
        &self,
        req: Request<v1::DeleteMasterDataRequest>,
    ) -> Result<Response<v1::DeleteMasterDataResponse>, Status> {
        self.who(&req)?.require_dispatcher()?;
        let ids = MasterDelete::from_proto(req.into_inner(), "").status()?;
        let n = self.app.delete_master(ids).await.status()?;
        Ok(Response::new(v1::DeleteMasterDataResponse {
            deleted_count: n,
        }))
    }

    async fn load_road_network(
        &self,
        req: Request<v1::LoadRoadNetworkRequest>,
    ) -> Result<Response<v1::LoadRoadNetworkResponse>, Status> {
        self.who(&req)?.require_dispatcher()?;
        let path = req.into_inner().path;
        required_id(&path, "path")?;
        let s = self.app.load_road_network(&path).await.status()?;
        Ok(Response::new(v1::LoadRoadNetworkResponse {
            node_count: s.node_count,
            edge_count: s.edge_count,
            fingerprint: s.fingerprint,
            snapped_count: s.snapped,
            unsnapped_ids: s.unsnapped_ids,
            load_time_ms: s.load_ms,
        }))
    }

    async fn plan_day(
        &self,
        req: Request<v1::PlanDayRequest>,
    ) -> Result<Response<v1::PlanDayResponse>, Status> {
        self.who(&req)?.require_dispatcher()?;
        let r = req.into_inner();
        let date = date_from_proto(&r.service_date, "service_date").status()?;
        let params = PlanDayParams {
            time_limit: time_limit(r.time_limit_s, "time_limit_s")?,
            seed: r.seed,
            streams: r
                .streams
                .iter()
                .enumerate()
                .map(|(i, s)| stream_from_proto(*s, &format!("streams[{i}]")))
                .collect::<Result<_, _>>()
                .status()?,
            vehicles: r
                .vehicle_ids
                .into_iter()
                .enumerate()
                .map(|(i, v)| {
                    required_id(&v, &format!("vehicle_ids[{i}]")).map(|()| VehicleId::new(v))
                })
                .collect::<Result<_, _>>()?,
        };
        let job_id = self.app.plan_day(date, params).status()?;
        Ok(Response::new(v1::PlanDayResponse { job_id }))
    }

    type WatchPlanJobStream = BoxStream<v1::PlanJobUpdate>;

    async fn watch_plan_job(
        &self,
        req: Request<v1::WatchPlanJobRequest>,
    ) -> Result<Response<Self::WatchPlanJobStream>, Status> {
        self.who(&req)?.require_dispatcher()?;
        let id = req.into_inner().job_id;
        required_id(&id, "job_id")?;
        let s = self.app.watch_plan_job(&id).status()?;
        Ok(Response::new(Box::pin(
            s.map(|j| Ok(wire::job_to_proto(&j))),
        )))
    }

    async fn get_scenario(
        &self,
        req: Request<v1::GetScenarioRequest>,
    ) -> Result<Response<v1::Scenario>, Status> {
        self.who(&req)?.require_dispatcher()?;
        let date = date_from_proto(&req.into_inner().service_date, "service_date").status()?;
        let sc = self.app.master().scenario(&format!("day {date}"), date);
        Ok(Response::new(sc.to_proto()))
    }

    async fn get_plan(
        &self,
        req: Request<v1::GetPlanRequest>,
    ) -> Result<Response<v1::Plan>, Status> {
        self.who(&req)?.require_dispatcher()?;
        let r = req.into_inner();
        required_id(&r.plan_id, "plan_id")?;
        let rec = self.app.get_plan(&r.plan_id).await.status()?;
        let sc = self
            .app
            .master()
            .scenario(&rec.plan.scenario_name, rec.plan.date);
        Ok(Response::new(wire::plan_record_to_proto(
            &rec,
            Some(&sc),
            r.include_geometry,
        )))
    }

    async fn publish_plan(
        &self,
        req: Request<v1::PublishPlanRequest>,
    ) -> Result<Response<v1::PublishPlanResponse>, Status> {
        self.who(&req)?.require_dispatcher()?;
        let id = req.into_inner().plan_id;
        required_id(&id, "plan_id")?;
        let out = self.app.publish_plan(&id).await.status()?;
        Ok(Response::new(v1::PublishPlanResponse {
            vehicle_count: u32::try_from(out.routes.len()).unwrap_or(u32::MAX),
            route_versions: out
                .routes
                .iter()
                .map(|(_, v)| u32::try_from(*v).unwrap_or(u32::MAX))
                .collect(),
            vehicle_ids: out.routes.into_iter().map(|(v, _)| v.0).collect(),
        }))
    }

    async fn add_urgent_pickup(
        &self,
        req: Request<v1::AddUrgentPickupRequest>,
    ) -> Result<Response<v1::PlanDayResponse>, Status> {
        self.who(&req)?.require_dispatcher()?;
        let r = req.into_inner();
        let date = date_from_proto(&r.service_date, "service_date").status()?;
        let Some(p) = r.point else {
            return Err(invalid("point", "is required"));
        };
        let point = CollectionPoint::from_proto(p, "point").status()?;
        let limit = time_limit(r.time_limit_s, "time_limit_s")?;
        let now = time_of_day(r.now_s, "now_s")?;
        let job_id = self
            .app
            .add_urgent_pickup(date, point, limit, now)
            .await
            .status()?;
        Ok(Response::new(v1::PlanDayResponse { job_id }))
    }

    async fn report_vehicle_unavailable(
        &self,
        req: Request<v1::ReportVehicleUnavailableRequest>,
    ) -> Result<Response<v1::PlanDayResponse>, Status> {
        self.who(&req)?.require_dispatcher()?;
        let r = req.into_inner();
        let date = date_from_proto(&r.service_date, "service_date").status()?;
        required_id(&r.vehicle_id, "vehicle_id")?;
        let from = time_of_day(r.from_s, "from_s")?;
        let limit = time_limit(r.time_limit_s, "time_limit_s")?;
        let job_id = self
            .app
            .vehicle_unavailable(date, &VehicleId::new(r.vehicle_id), from, &r.reason, limit)
            .status()?;
        Ok(Response::new(v1::PlanDayResponse { job_id }))
    }
}

/// Converts one wire batch and stores it; the ack comes after the commit.
async fn handle_batch(app: &App, who: &Principal, b: v1::EventBatch) -> Result<v1::Ack, Status> {
    required_id(&b.vehicle_id, "vehicle_id")?;
    who.require_vehicle_write(&b.vehicle_id)?;
    let decoded = event_batch_from_proto(b).status()?;
    let mut events: Vec<TruckEvent> = Vec::with_capacity(decoded.events.len());
    let mut rejected = Vec::new();
    for e in decoded.events {
        match e {
            Ok(e) => events.push(e),
            Err(r) => rejected.push(RejectedEvent {
                client_event_id: r.client_event_id,
                device_seq: r.device_seq,
                reason: r.error.to_string(),
            }),
        }
    }
    let ack = app
        .report_events(AppBatch {
            vehicle: decoded.vehicle,
            device: decoded.device_id,
            events,
            rejected,
        })
        .await
        .status()?;
    Ok(v1::Ack {
        acked_device_seq: ack.acked_device_seq,
        accepted: ack.accepted,
        duplicates: ack.duplicates,
        rejected: ack
            .rejected
            .into_iter()
            .map(|r| v1::RejectedEvent {
                client_event_id: r.client_event_id,
                device_seq: r.device_seq,
                reason: r.reason,
            })
            .collect(),
    })
}

/// Batches of one `ReportEvents` call in flight at once: they reach the single writer
/// in order, so acks stay in order while the client need not wait for each commit.
const PIPELINE: usize = 16;

#[tonic::async_trait]
impl TerminalService for Service {
    type SubscribeAssignmentsStream = BoxStream<v1::AssignmentMessage>;

    async fn subscribe_assignments(
        &self,
        req: Request<v1::SubscribeAssignmentsRequest>,
    ) -> Result<Response<Self::SubscribeAssignmentsStream>, Status> {
        let who = self.who(&req)?;
        let r = req.into_inner();
        required_id(&r.vehicle_id, "vehicle_id")?;
        who.require_vehicle_read(&r.vehicle_id)?;
        let vehicle = VehicleId::new(r.vehicle_id);
        let s = self
            .app
            .subscribe_assignments(&vehicle, r.after_seq)
            .status()?;
        let out = s.map(move |m| {
            m.map(|m| wire::terminal_message_to_proto(&m, &vehicle))
                .status()
        });
        Ok(Response::new(Box::pin(out)))
    }

    type ReportEventsStream = BoxStream<v1::Ack>;

    async fn report_events(
        &self,
        req: Request<Streaming<v1::EventBatch>>,
    ) -> Result<Response<Self::ReportEventsStream>, Status> {
        let who = self.who(&req)?;
        who.require_vehicle_write_any()?;
        let app = self.app.clone();
        let inbound = req.into_inner();
        let acks = inbound
            .map(move |b| {
                let app = app.clone();
                let who = who.clone();
                async move { handle_batch(&app, &who, b?).await }
            })
            .buffered(PIPELINE);
        // The first error ends the call (gRPC carries one status per call).
        let acks = futures::stream::unfold((acks, false), |(mut s, done)| async move {
            if done {
                return None;
            }
            let item = s.next().await?;
            let stop = item.is_err();
            Some((item, (s, stop)))
        });
        Ok(Response::new(Box::pin(acks)))
    }
}

#[tonic::async_trait]
impl SupervisionService for Service {
    type SubscribeIncidentsStream = BoxStream<v1::IncidentStreamMessage>;

    async fn subscribe_incidents(
        &self,
        req: Request<v1::SubscribeIncidentsRequest>,
    ) -> Result<Response<Self::SubscribeIncidentsStream>, Status> {
        self.who(&req)?.require_supervisor()?;
        let r = req.into_inner();
        let filter = wire::incident_filter_from_proto(r.filter, "filter").status()?;
        let s = self.app.subscribe_incidents(filter, r.after_seq);
        Ok(Response::new(Box::pin(s.map(|i| {
            i.map(|i| wire::incident_item_to_proto(&i)).status()
        }))))
    }

    async fn list_incidents(
        &self,
        req: Request<v1::ListIncidentsRequest>,
    ) -> Result<Response<v1::ListIncidentsResponse>, Status> {
        self.who(&req)?.require_supervisor()?;
        let r = req.into_inner();
        let filter = wire::incident_filter_from_proto(r.filter, "filter").status()?;
        let after: u64 = if r.page_token.is_empty() {
            0
        } else {
            r.page_token
                .parse()
                .map_err(|_| invalid("page_token", "is not a token returned by ListIncidents"))?
        };
        let page = self
            .app
            .list_incidents(filter, after, r.page_size)
            .await
            .status()?;
        Ok(Response::new(v1::ListIncidentsResponse {
            incidents: page
                .incidents
                .iter()
                .map(wire::incident_record_to_proto)
                .collect(),
            next_page_token: page
                .next_after_seq
                .map(|s| s.to_string())
                .unwrap_or_default(),
        }))
    }

    async fn get_incident(
        &self,
        req: Request<v1::GetIncidentRequest>,
    ) -> Result<Response<v1::GetIncidentResponse>, Status> {
        self.who(&req)?.require_supervisor()?;
        let id = req.into_inner().incident_id;
        required_id(&id, "incident_id")?;
        let d = self.app.get_incident(&id).await.status()?;
        Ok(Response::new(v1::GetIncidentResponse {
            incident: Some(wire::incident_record_to_proto(&d.record)),
            evidence_events: d.evidence.iter().map(ToProto::to_proto).collect(),
            ledger_seq: d.ledger_seq.unwrap_or(0),
            ledger_hash: d.ledger_hash.unwrap_or_default(),
        }))
    }

    async fn verify_ledger(
        &self,
        req: Request<v1::VerifyLedgerRequest>,
    ) -> Result<Response<v1::VerifyLedgerResponse>, Status> {
        self.who(&req)?.require_supervisor()?;
        let report = self.app.verify_ledger().await.status()?;
        let mut resp = wire::verify_to_proto(&report);
        // The ledger's own algorithm (sha256 or sm3), whatever the conversion assumes.
        resp.hash_algorithm.clone_from(&report.algorithm);
        Ok(Response::new(resp))
    }

    async fn scorecard(
        &self,
        req: Request<v1::ScorecardRequest>,
    ) -> Result<Response<v1::ScorecardResponse>, Status> {
        self.who(&req)?.require_supervisor()?;
        let r = req.into_inner();
        let q = ScorecardQuery {
            from: date_from_proto(&r.from_date, "from_date").status()?,
            to: date_from_proto(&r.to_date, "to_date").status()?,
            districts: r
                .district_ids
                .into_iter()
                .enumerate()
                .map(|(i, d)| {
                    required_id(&d, &format!("district_ids[{i}]")).map(|()| DistrictId::new(d))
                })
                .collect::<Result<_, _>>()?,
            streams: r
                .streams
                .iter()
                .enumerate()
                .map(|(i, s)| stream_from_proto(*s, &format!("streams[{i}]")))
                .collect::<Result<_, _>>()
                .status()?,
        };
        let rows = self.app.scorecard(q).await.status()?;
        Ok(Response::new(v1::ScorecardResponse {
            rows: rows.iter().map(wire::scorecard_row_to_proto).collect(),
        }))
    }
}
