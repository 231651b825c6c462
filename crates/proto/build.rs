//! Compiles `proto/sortfleet/v1/*.proto` with the pure-Rust `protox` (no system `protoc`),
//! writes the descriptor set for the reflection service, and generates tonic/prost code.

use std::path::PathBuf;

const PROTO_ROOT: &str = "../../proto";
const FILES: &[&str] = &[
    "sortfleet/v1/common.proto",
    "sortfleet/v1/dispatch.proto",
    "sortfleet/v1/terminal.proto",
    "sortfleet/v1/supervision.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed={PROTO_ROOT}");
    for f in FILES {
        println!("cargo:rerun-if-changed={PROTO_ROOT}/{f}");
    }
    let fds = protox::compile(FILES, [PROTO_ROOT])?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out_dir.join("sortfleet_descriptor.bin"),
        prost::Message::encode_to_vec(&fds),
    )?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(fds)?;
    Ok(())
}
