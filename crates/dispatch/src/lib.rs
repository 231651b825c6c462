//! TODO
pub mod app;
pub mod map;
pub mod planning;
pub mod scorecard;
