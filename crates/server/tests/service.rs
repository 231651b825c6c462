//! In-process service tests: health and reflection (v1 and v1alpha) over a real socket,
//! and a fuzz run pushing arbitrary bytes and arbitrary events through decoding,
//! conversion, storage and the rule engine. `PROPTEST_CASES` lengthens the fuzz run.

use std::sync::Arc;

use futures::StreamExt;
use proptest::prelude::*;
use prost::Message;
use sortfleet_dispatch::app::{
    App, AppConfig, MasterBatch, PlanOutput, PlanProgress, PlanRequest, PlanSource,
};
use sortfleet_model::*;
use sortfleet_proto::v1;
use sortfleet_server::config::Role;
use sortfleet_server::convert::{FromProto, event_batch_from_proto};
use sortfleet_server::{Auth, Principal, Service, TokenEntry};

fn source() -> Arc<dyn PlanSource> {
    Arc::new(
        |_: &PlanRequest, _: &(dyn Fn(PlanProgress) + Sync)| -> Result<PlanOutput, String> {
            Err("no planner in this test".into())
        },
    )
}

fn vehicle(id: &str) -> Vehicle {
    sortfleet_testkit::fixtures::vehicle(id, &[Stream::Kitchen])
}

fn master() -> MasterBatch {
    MasterBatch {
        depots: vec![Depot {
            id: DepotId::new("D1"),
            name: "depot".into(),
            location: LatLon::new(30.0, 120.0),
        }],
        facilities: vec![Facility {
            id: FacilityId::new("FK"),
            name: String::new(),
            kind: FacilityKind::TransferStation,
            location: LatLon::new(30.02, 120.0),
            accepted_streams: vec![Stream::Kitchen],
            opening_hours: TimeWindow::hm((5, 0), (20, 0)),
            unload_s: Seconds(600),
            daily_intake_limit_kg: None,
            geofence_radius_m: Metres(200),
        }],
        vehicles: vec![vehicle("T1")],
        points: vec![],
    }
}

async fn app(dir: &tempfile::TempDir) -> App {
    let mut cfg = AppConfig::new(dir.path().join("t.db"));
    cfg.durability = sortfleet_ledger::Durability::Normal;
    let app = App::open(cfg, source()).await.unwrap();
    app.upsert_master(master()).await.unwrap();
    app
}

/// The real server on an ephemeral 127.0.0.1 port, with a connected channel.
struct Running {
    ch: tonic::transport::Channel,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<Result<(), sortfleet_server::ServeError>>,
}

impl Running {
    async fn start(app: App, auth: Auth) -> Self {
        let routes = sortfleet_server::routes(app, auth).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(sortfleet_server::serve_with(
            routes,
            listener,
            None,
            async {
                let _ = stopped.await;
            },
        ));
        let ch = tonic::transport::Channel::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        Self { ch, stop, server }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.server.await.unwrap().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_reflection_v1_and_v1alpha() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(&dir).await;
    let srv = Running::start(app, Auth::default()).await;
    let ch = srv.ch.clone();

    let mut health = tonic_health::pb::health_client::HealthClient::new(ch.clone());
    for svc in [
        "",
        "sortfleet.v1.DispatchService",
        "sortfleet.v1.TerminalService",
        "sortfleet.v1.SupervisionService",
    ] {
        let r = health
            .check(tonic_health::pb::HealthCheckRequest {
                service: svc.into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            r.status,
            tonic_health::pb::health_check_response::ServingStatus::Serving as i32,
            "{svc}"
        );
    }

    {
        use tonic_reflection::pb::v1::ServerReflectionRequest;
        use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
        let mut c = ServerReflectionClient::new(ch.clone());
        let req = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut s = c
            .server_reflection_info(futures::stream::iter([req]))
            .await
            .unwrap()
            .into_inner();
        let resp = s.next().await.unwrap().unwrap();
        let Some(MessageResponse::ListServicesResponse(l)) = resp.message_response else {
            panic!("{resp:?}");
        };
        let names: Vec<String> = l.service.into_iter().map(|s| s.name).collect();
        for want in [
            "sortfleet.v1.DispatchService",
            "sortfleet.v1.TerminalService",
            "sortfleet.v1.SupervisionService",
            "grpc.health.v1.Health",
        ] {
            assert!(names.iter().any(|n| n == want), "{want} not in {names:?}");
        }
    }
    {
        use tonic_reflection::pb::v1alpha::ServerReflectionRequest;
        use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse;
        let mut c = ServerReflectionClient::new(ch.clone());
        let req = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::FileContainingSymbol(
                "sortfleet.v1.TerminalService".into(),
            )),
        };
        let mut s = c
            .server_reflection_info(futures::stream::iter([req]))
            .await
            .unwrap()
            .into_inner();
        let resp = s.next().await.unwrap().unwrap();
        assert!(
            matches!(
                resp.message_response,
                Some(MessageResponse::FileDescriptorResponse(_))
            ),
            "{resp:?}"
        );
    }
    srv.stop().await;
}

fn terminal_t1() -> Principal {
    let a = Auth::new(&[TokenEntry {
        token: "t".into(),
        name: None,
        role: Role::Terminal {
            vehicle_id: "T1".into(),
        },
    }]);
    let mut md = tonic::metadata::MetadataMap::new();
    md.insert("authorization", "Bearer t".parse().unwrap());
    a.authenticate(&md).unwrap()
}

fn arb_latlon() -> impl Strategy<Value = Option<v1::LatLon>> {
    prop::option::of(
        (
            prop_oneof![Just(f64::NAN), Just(91.0), -90.0..90.0f64, Just(30.0)],
            prop_oneof![Just(f64::INFINITY), -180.0..180.0f64, Just(120.0)],
        )
            .prop_map(|(lat, lon)| v1::LatLon { lat, lon }),
    )
}

fn arb_kind() -> impl Strategy<Value = Option<v1::truck_event::Kind>> {
    use v1::truck_event::Kind;
    let s = -2i32..9;
    let id = prop_oneof![
        Just(String::new()),
        Just("P1".to_owned()),
        Just("B-1".to_owned()),
        "[a-z]{0,4}"
    ];
    let kg = prop_oneof![Just(i64::MIN), Just(i64::MAX), -10i64..20_000];
    prop::option::of(prop_oneof![
        Just(Kind::GpsFix(v1::GpsFix {})),
        (
            id.clone(),
            s.clone(),
            id.clone(),
            prop::option::of(kg.clone()),
            any::<bool>()
        )
            .prop_map(|(b, st, p, w, t)| Kind::BinScan(v1::BinScan {
                bin_id: b,
                stream: st,
                point_id: p,
                lift_weight_kg: w,
                tag_valid: t,
            })),
        kg.clone()
            .prop_map(|k| Kind::LoadReading(v1::LoadReading { load_kg: k })),
        any::<bool>().prop_map(|t| Kind::BodySensor(v1::BodySensor { tipping: t })),
        (
            prop_oneof![Just("FK".to_owned()), id.clone()],
            kg.clone(),
            kg.clone(),
            kg,
            s.clone(),
            any::<bool>(),
            prop::option::of(0u32..300)
        )
            .prop_map(|(f, g, t, n, st, r, p)| Kind::WeighbridgeTicket(
                v1::WeighbridgeTicket {
                    facility_id: f,
                    gross_kg: g,
                    tare_kg: t,
                    net_kg: n,
                    declared_stream: st,
                    rejected: r,
                    purity_pct: p,
                }
            )),
        (-1i32..5, id.clone(), id, "[0-9a-f]{0,64}").prop_map(
            |(k, p, b, h)| Kind::DriverException(v1::DriverException {
                kind: k,
                point_id: p,
                bin_id: b,
                photo_sha256: h,
            })
        ),
        Just(Kind::ShiftStart(v1::ShiftStart {})),
        Just(Kind::ShiftEnd(v1::ShiftEnd {})),
    ])
}

fn arb_event() -> impl Strategy<Value = v1::TruckEvent> {
    (
        prop_oneof![Just(String::new()), "[a-z0-9]{1,6}"],
        prop_oneof![Just(0u64), Just(u64::MAX), 1u64..50],
        prop_oneof![
            Just(String::new()),
            Just("T1".to_owned()),
            Just("T2".to_owned())
        ],
        prop::option::of((
            prop_oneof![
                Just(i64::MIN),
                Just(i64::MAX),
                1_764_460_800i64..1_764_547_200
            ],
            prop_oneof![Just(-1i32), Just(2_000_000_000), 0i32..999_999_999],
        )),
        arb_latlon(),
        arb_kind(),
    )
        .prop_map(|(id, seq, v, t, p, k)| v1::TruckEvent {
            client_event_id: id,
            device_seq: seq,
            vehicle_id: v,
            occurred_at: t.map(|(seconds, nanos)| prost_types::Timestamp { seconds, nanos }),
            position: p,
            kind: k,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Arbitrary bytes never panic the decoding and conversion of any request.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(b) = v1::EventBatch::decode(bytes.as_slice()) {
            let _ = event_batch_from_proto(b);
        }
        if let Ok(m) = v1::UpsertMasterDataRequest::decode(bytes.as_slice()) {
            let _ = MasterBatch::from_proto(m, "");
        }
        if let Ok(f) = v1::SubscribeIncidentsRequest::decode(bytes.as_slice()) {
            let _ = sortfleet_server::wire::incident_filter_from_proto(f.filter, "filter");
        }
        if let Ok(v1::AddUrgentPickupRequest { point: Some(p), .. }) =
            v1::AddUrgentPickupRequest::decode(bytes.as_slice())
        {
            let _ = CollectionPoint::from_proto(p, "point");
        }
    }
}

#[test]
fn arbitrary_events_through_intake_and_rules_never_panic() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let app = rt.block_on(app(&dir));
    let svc = Service::new(app.clone(), Auth::default());
    let who = terminal_t1();
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(48);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases,
        ..ProptestConfig::default()
    });
    runner
        .run(&prop::collection::vec(arb_event(), 0..24), |events| {
            let r = rt.block_on(svc.report_batch(
                &who,
                v1::EventBatch {
                    vehicle_id: "T1".into(),
                    device_id: "fuzz".into(),
                    events,
                },
            ));
            // Only whole-batch problems may fail the call, and only as InvalidArgument.
            if let Err(s) = &r {
                prop_assert_eq!(s.code(), tonic::Code::InvalidArgument, "{:?}", s);
            }
            Ok(())
        })
        .unwrap();
    // Whatever was accepted is chained and verifies.
    let report = rt.block_on(app.verify_ledger()).unwrap();
    assert!(report.is_ok(), "{report}");
}

fn with_token<T>(msg: T, token: &str) -> tonic::Request<T> {
    let mut r = tonic::Request::new(msg);
    r.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    r
}

fn violating_events() -> Vec<v1::TruckEvent> {
    use v1::truck_event::Kind;
    // 2025-11-30 07:00 UTC onwards, at the depot, 2.2 km from the only facility.
    let t0 = 1_764_486_000i64;
    let here = Some(v1::LatLon {
        lat: 30.0,
        lon: 120.0,
    });
    let ev = |n: u64, kind: Kind| v1::TruckEvent {
        client_event_id: format!("g{n}"),
        device_seq: n,
        vehicle_id: "T1".into(),
        occurred_at: Some(prost_types::Timestamp {
            seconds: t0 + n as i64 * 60,
            nanos: 0,
        }),
        position: here,
        kind: Some(kind),
    };
    vec![
        ev(1, Kind::ShiftStart(v1::ShiftStart {})),
        // A lift without a valid tag.
        ev(
            2,
            Kind::BinScan(v1::BinScan {
                bin_id: String::new(),
                stream: 0,
                point_id: String::new(),
                lift_weight_kg: Some(40),
                tag_valid: false,
            }),
        ),
        // Tipping far from every facility.
        ev(3, Kind::BodySensor(v1::BodySensor { tipping: true })),
    ]
}

/// Over a real socket: GetIncident names each incident's ledger record, and its
/// `ledger_hash` is the hash the ledger walk holds at `ledger_seq` (VerifyLedger's head
/// hash for the last record, the next record's link otherwise). Both chain algorithms;
/// VerifyLedger reports the ledger's own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_incident_ledger_hash_is_the_verified_record_hash() {
    use v1::supervision_service_client::SupervisionServiceClient;
    use v1::terminal_service_client::TerminalServiceClient;
    for algo in [
        sortfleet_ledger::HashAlgorithm::Sha256,
        sortfleet_ledger::HashAlgorithm::Sm3,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        let mut cfg = AppConfig::new(&db);
        cfg.durability = sortfleet_ledger::Durability::Normal;
        cfg.hash_algorithm = algo;
        let app = App::open(cfg, source()).await.unwrap();
        app.upsert_master(master()).await.unwrap();
        let auth = Auth::new(&[
            TokenEntry {
                token: "t1".into(),
                name: None,
                role: Role::Terminal {
                    vehicle_id: "T1".into(),
                },
            },
            TokenEntry {
                token: "reg".into(),
                name: None,
                role: Role::Regulator,
            },
        ]);
        let srv = Running::start(app, auth).await;
        let ch = srv.ch.clone();

        let mut term = TerminalServiceClient::new(ch.clone());
        let batch = v1::EventBatch {
            vehicle_id: "T1".into(),
            device_id: "tab-1".into(),
            events: violating_events(),
        };
        let mut acks = term
            .report_events(with_token(futures::stream::iter([batch]), "t1"))
            .await
            .unwrap()
            .into_inner();
        let ack = acks.next().await.unwrap().unwrap();
        assert_eq!((ack.acked_device_seq, ack.accepted), (3, 3), "{ack:?}");
        drop(acks);

        let mut sup = SupervisionServiceClient::new(ch.clone());
        let listed = sup
            .list_incidents(with_token(
                v1::ListIncidentsRequest {
                    filter: None,
                    page_size: 1000,
                    page_token: String::new(),
                },
                "reg",
            ))
            .await
            .unwrap()
            .into_inner()
            .incidents;
        assert!(!listed.is_empty(), "the day raised no incident");
        let verified = sup
            .verify_ledger(with_token(v1::VerifyLedgerRequest {}, "reg"))
            .await
            .unwrap()
            .into_inner();
        assert!(verified.ok, "{verified:?}");
        assert_eq!(verified.hash_algorithm, algo.name());

        let walk = sortfleet_ledger::Store::open_read_only(&db).unwrap();
        let mut last_seq = 0;
        for inc in &listed {
            let got = sup
                .get_incident(with_token(
                    v1::GetIncidentRequest {
                        incident_id: inc.id.clone(),
                    },
                    "reg",
                ))
                .await
                .unwrap()
                .into_inner();
            assert_eq!(got.incident.as_ref().unwrap().id, inc.id);
            assert!(got.ledger_seq > 0, "{got:?}");
            assert_eq!(got.ledger_hash.len(), 64, "{got:?}");
            let entry = walk.ledger_entry(got.ledger_seq).unwrap().unwrap();
            assert_eq!(
                (entry.kind.as_str(), entry.algo.as_str()),
                ("incident", algo.name())
            );
            assert_eq!(entry.hash_hex(), got.ledger_hash);
            if got.ledger_seq == verified.record_count {
                assert_eq!(got.ledger_hash, verified.head_hash);
            } else {
                let next = walk.ledger_entry(got.ledger_seq + 1).unwrap().unwrap();
                assert_eq!(next.prev_hash, entry.hash);
            }
            last_seq = last_seq.max(got.ledger_seq);
        }
        // The incidents were chained after the events that raised them: the head.
        assert_eq!(last_seq, verified.record_count);

        let missing = sup
            .get_incident(with_token(
                v1::GetIncidentRequest {
                    incident_id: "no-such".into(),
                },
                "reg",
            ))
            .await
            .unwrap_err();
        assert_eq!(missing.code(), tonic::Code::NotFound);
        srv.stop().await;
    }
}
