//! The gRPC edge of sortfleet.
//!
//! Only this crate knows protobuf. [`convert`] turns wire messages into domain types and
//! back: proto -> model is fallible and names the offending field path exactly as the
//! client spelled it (`vehicles[2].shift`), so a bad request becomes `InvalidArgument`
//! with a message the client can act on; model -> proto is infallible. [`wire`] does the
//! same for the application core's own types (terminal messages, incident records,
//! planning jobs).
//!
//! On top: [`services`] implements `DispatchService`, `TerminalService` and
//! `SupervisionService` over [`sortfleet_dispatch::app::App`]; [`auth`] checks bearer
//! tokens and roles from the [`config`] file; [`status`] is the one error table;
//! [`server`] assembles health, reflection and TLS and runs the whole thing.

pub mod auth;
pub mod config;
pub mod convert;
pub mod server;
pub mod services;
pub mod status;
pub mod wire;

pub use auth::{Auth, Principal};
pub use config::{ConfigError, Role, ServerConfig, TlsFiles, TokenEntry};
pub use server::{ServeError, routes, serve_with, tls_config};
pub use services::Service;
