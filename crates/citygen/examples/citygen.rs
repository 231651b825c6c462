//! Synthesises a scenario from an extract and prints its summary:
//! `cargo run -p sortfleet-citygen --example citygen -- FILE.osm.pbf [SEED] [OUT.json]`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: citygen FILE.osm.pbf [SEED] [OUT.json]");
        return ExitCode::FAILURE;
    };
    let mut opts = sortfleet_citygen::CityGenOptions::default();
    if let Some(seed) = args.get(1).and_then(|s| s.parse().ok()) {
        opts.seed = seed;
    }
    match sortfleet_citygen::synthesize(path, &opts) {
        Ok((scenario, summary)) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&summary).unwrap_or_default()
            );
            if let Some(out) = args.get(2)
                && let Err(e) = std::fs::write(
                    out,
                    serde_json::to_string_pretty(&scenario).unwrap_or_default(),
                )
            {
                eprintln!("cannot write {out}: {e}");
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
