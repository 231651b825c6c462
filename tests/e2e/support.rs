//! Shared helpers of the gRPC end-to-end tests: the real `sortfleet serve` binary on
//! 127.0.0.1 with a temporary database and a synthetic road graph, the generated tonic
//! clients with bearer tokens, master-data builders on the grid city, and stream readers.
//! Timeouts only guard against hangs; no assertion depends on timing.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures::StreamExt;
use sortfleet_model::*;
use sortfleet_proto::v1;
use sortfleet_proto::v1::dispatch_service_client::DispatchServiceClient;
use sortfleet_proto::v1::supervision_service_client::SupervisionServiceClient;
use sortfleet_proto::v1::terminal_service_client::TerminalServiceClient;
pub use sortfleet_testkit::fixtures::vehicle;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic::{Request, Status};

pub const GUARD: Duration = Duration::from_secs(60);
pub const DATE: &str = "2026-11-30";

pub const CONFIG: &str = r#"
[[tokens]]
token = "disp"
role = "dispatcher"

[[tokens]]
token = "t1"
role = "terminal"
vehicle_id = "T1"

[[tokens]]
token = "t2"
role = "terminal"
vehicle_id = "T2"

[[tokens]]
token = "reg"
role = "regulator"

[service]
heartbeat_s = 1
"#;

/// A running server; killed (SIGKILL) when dropped.
pub struct Srv {
    /// The server process.
    pub child: Child,
    /// `host:port` it listens on.
    pub addr: String,
}

impl Drop for Srv {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A temp dir with the config and a synthetic road graph.
pub fn workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sortfleet.toml"), CONFIG).unwrap();
    let g = sortfleet_roads::synthetic::grid_city(24, 7).unwrap();
    g.save(dir.path().join("city.graph")).unwrap();
    dir
}

pub fn start(dir: &Path) -> Srv {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sortfleet"))
        .arg("serve")
        .arg("--db")
        .arg(dir.join("sortfleet.db"))
        .args(["--listen", "127.0.0.1:0", "--config"])
        .arg(dir.join("sortfleet.toml"))
        .arg("--graph")
        .arg(dir.join("city.graph"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sortfleet serve starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    if !line.starts_with("listening on ") {
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        panic!("server did not start: {line:?}\n{err}");
    }
    let addr = line["listening on ".len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    Srv { child, addr }
}

/// Adds the bearer token to every request.
#[derive(Clone)]
pub struct Token(Option<MetadataValue<Ascii>>);

impl Interceptor for Token {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        if let Some(v) = &self.0 {
            req.metadata_mut().insert("authorization", v.clone());
        }
        Ok(req)
    }
}

pub type Ch = InterceptedService<Channel, Token>;

pub async fn channel(srv: &Srv, token: Option<&str>) -> (Channel, Token) {
    let ch = Channel::from_shared(format!("http://{}", srv.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let t = Token(token.map(|t| format!("Bearer {t}").parse().unwrap()));
    (ch, t)
}

pub async fn dispatch(srv: &Srv, token: Option<&str>) -> DispatchServiceClient<Ch> {
    let (c, t) = channel(srv, token).await;
    DispatchServiceClient::with_interceptor(c, t)
}

pub async fn terminal(srv: &Srv, token: Option<&str>) -> TerminalServiceClient<Ch> {
    let (c, t) = channel(srv, token).await;
    TerminalServiceClient::with_interceptor(c, t)
}

pub async fn supervision(srv: &Srv, token: Option<&str>) -> SupervisionServiceClient<Ch> {
    let (c, t) = channel(srv, token).await;
    SupervisionServiceClient::with_interceptor(c, t)
}

// ------------------------------------------------------------------ master data

/// Grid position (row, column) of the synthetic city (80 m spacing).
pub fn pos(r: f64, c: f64) -> LatLon {
    LatLon::new(
        -30.05 + r * 80.0 / 111_195.0,
        -51.2 + c * 80.0 / (111_195.0 * (-30.05f64).to_radians().cos()),
    )
}

/// The standard test facility with a tighter geofence than the default.
pub fn facility(id: &str, streams: &[Stream], p: LatLon) -> Facility {
    Facility {
        geofence_radius_m: Metres(150),
        ..sortfleet_testkit::fixtures::facility(id, streams, p)
    }
}

pub fn point(id: &str, p: LatLon) -> CollectionPoint {
    let demand = |stream, kg| Demand {
        stream,
        kg: Kilograms(kg),
        litres: Litres(kg * 2),
    };
    let bin = |s: &str, stream| Bin {
        id: BinId::new(format!("{id}-{s}")),
        stream,
    };
    CollectionPoint {
        id: PointId::new(id),
        name: String::new(),
        location: p,
        district: DistrictId::new("north"),
        demands: vec![demand(Stream::Kitchen, 300), demand(Stream::Residual, 200)],
        service_s: Seconds(120),
        time_windows: vec![],
        priority: 0,
        bins: vec![bin("K", Stream::Kitchen), bin("R", Stream::Residual)],
    }
}

/// Plans the day (1 s budget) and returns the plan id.
pub async fn plan(d: &mut DispatchServiceClient<Ch>, seed: u64) -> String {
    let job = d
        .plan_day(v1::PlanDayRequest {
            service_date: DATE.into(),
            time_limit_s: 1,
            seed,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .job_id;
    let mut s = d
        .watch_plan_job(v1::WatchPlanJobRequest { job_id: job })
        .await
        .unwrap()
        .into_inner();
    let mut last = None;
    while let Some(u) = tokio::time::timeout(GUARD, s.next()).await.unwrap() {
        last = Some(u.unwrap());
    }
    match last.and_then(|u| u.outcome) {
        Some(v1::plan_job_update::Outcome::PlanId(id)) => id,
        other => panic!("planning failed: {other:?}"),
    }
}

/// Unix ms of `h:m` on the test day (UTC).
pub fn at(h: i64, m: i64) -> i64 {
    chrono::NaiveDate::parse_from_str(DATE, "%Y-%m-%d")
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_millis()
        + (h * 3600 + m * 60) * 1000
}

/// Sends batches on one ReportEvents call and returns the acks.
pub async fn report(
    t: &mut TerminalServiceClient<Ch>,
    batches: Vec<v1::EventBatch>,
) -> Result<Vec<v1::Ack>, Status> {
    let n = batches.len();
    let mut acks = t
        .report_events(futures::stream::iter(batches))
        .await?
        .into_inner();
    let mut out = Vec::new();
    while out.len() < n {
        match tokio::time::timeout(GUARD, acks.next()).await.unwrap() {
            Some(a) => out.push(a?),
            None => break,
        }
    }
    Ok(out)
}

pub async fn next_msg(s: &mut tonic::Streaming<v1::AssignmentMessage>) -> v1::AssignmentMessage {
    tokio::time::timeout(GUARD, s.next())
        .await
        .expect("stream stalled")
        .expect("stream ended")
        .expect("stream error")
}

pub fn is_heartbeat(m: &v1::AssignmentMessage) -> Option<u64> {
    match &m.body {
        Some(v1::assignment_message::Body::Heartbeat(h)) => Some(h.head_seq),
        _ => None,
    }
}
