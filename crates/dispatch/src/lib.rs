//! TODO
pub mod app;
pub mod planning;
pub mod scorecard;
