//! TODO
pub mod app;
pub mod scorecard;
