//! Assembling and running the gRPC server: the three services, health, reflection
//! (v1 and v1alpha, for grpcurl and older clients), optional TLS, graceful shutdown.
//!
//! [`routes`] and [`serve_with`] are separate so that another front (the live map's
//! HTTP router, a test harness) can add its own routes or listener without this crate
//! knowing about it: `routes(..).await?.into_axum_router().merge(other)`.

use std::future::Future;
use std::time::Duration;

use sortfleet_dispatch::app::App;
use sortfleet_proto::v1::dispatch_service_server::DispatchServiceServer;
use sortfleet_proto::v1::supervision_service_server::SupervisionServiceServer;
use sortfleet_proto::v1::terminal_service_server::TerminalServiceServer;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::service::Routes;
use tonic::transport::{Identity, Server, ServerTlsConfig};

use crate::auth::Auth;
use crate::config::TlsFiles;
use crate::services::Service;

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A TLS file cannot be read.
    #[error("cannot read {path}: {source}")]
    TlsFile {
        /// The file.
        path: std::path::PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Reflection descriptors could not be loaded (a build problem).
    #[error("reflection: {0}")]
    Reflection(String),
    /// The transport failed (TLS setup, accept loop).
    #[error("transport: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// Largest message either way: plans with geometry for a large fleet are big.
const MAX_MESSAGE: usize = 64 * 1024 * 1024;

/// All services: dispatch, terminal, supervision, `grpc.health.v1.Health` (SERVING for
/// each service and for ""), and reflection v1 + v1alpha.
pub async fn routes(app: App, auth: Auth) -> Result<Routes, ServeError> {
    let svc = Service::new(app, auth);
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_serving::<DispatchServiceServer<Service>>()
        .await;
    reporter
        .set_serving::<TerminalServiceServer<Service>>()
        .await;
    reporter
        .set_serving::<SupervisionServiceServer<Service>>()
        .await;
    reporter
        .set_service_status("", tonic_health::ServingStatus::Serving)
        .await;
    let fds = sortfleet_proto::FILE_DESCRIPTOR_SET;
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(fds)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|e| ServeError::Reflection(e.to_string()))?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(fds)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()
        .map_err(|e| ServeError::Reflection(e.to_string()))?;
    let mut b = Routes::builder();
    b.add_service(
        DispatchServiceServer::new(svc.clone())
            .max_decoding_message_size(MAX_MESSAGE)
            .max_encoding_message_size(MAX_MESSAGE),
    )
    .add_service(
        TerminalServiceServer::new(svc.clone())
            .max_decoding_message_size(MAX_MESSAGE)
            .max_encoding_message_size(MAX_MESSAGE),
    )
    .add_service(SupervisionServiceServer::new(svc).max_encoding_message_size(MAX_MESSAGE))
    .add_service(health)
    .add_service(reflection_v1)
    .add_service(reflection_v1alpha);
    let routes = b.routes();
    Ok(routes)
}

/// TLS settings from PEM files.
pub fn tls_config(files: &TlsFiles) -> Result<ServerTlsConfig, ServeError> {
    let read = |p: &std::path::Path| {
        std::fs::read(p).map_err(|source| ServeError::TlsFile {
            path: p.to_owned(),
            source,
        })
    };
    let cert = read(&files.cert)?;
    let key = read(&files.key)?;
    Ok(ServerTlsConfig::new().identity(Identity::from_pem(cert, key)))
}

/// Serves `routes` on an already bound listener until `shutdown` completes; then stops
/// accepting, lets running calls finish and returns.
pub async fn serve_with(
    routes: Routes,
    listener: TcpListener,
    tls: Option<ServerTlsConfig>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    let mut builder = Server::builder()
        .tcp_nodelay(true)
        // Thousands of terminals each hold a stream; do not cap them per connection.
        .max_concurrent_streams(Some(16_384))
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .http2_keepalive_timeout(Some(Duration::from_secs(20)));
    if let Some(tls) = tls {
        builder = builder.tls_config(tls)?;
    }
    builder
        .add_routes(routes)
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown)
        .await?;
    Ok(())
}
