//! End-to-end tests: the built `sortfleet` binary (and, in later modules, the gRPC
//! service) exercised from the outside. One test binary, one module per area.

mod bench;
mod browser;
mod demo;
mod live_map;
mod server;
mod support;
mod validate;
mod violations;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (this file lives in `tests/e2e/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs the built `sortfleet` binary with `args` and returns its output.
pub fn sortfleet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sortfleet"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the sortfleet binary runs")
}
