//! The gRPC edge of sortfleet.
//!
//! Only this crate knows protobuf. [`convert`] turns wire messages into domain types and
//! back: proto -> model is fallible and names the offending field path exactly as the
//! client spelled it (`vehicles[2].shift`), so a bad request becomes `InvalidArgument`
//! with a message the client can act on; model -> proto is infallible. The services
//! themselves are built on top of these conversions.

pub mod convert;
