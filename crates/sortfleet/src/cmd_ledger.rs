//! `sortfleet ledger …`: offline work on a store file — verify the hash chain (what a
//! regulator runs on a copy of the database) and create checkpoint signing keys.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::Subcommand;
use sortfleet_ledger::{CheckpointKey, Store, VerifyOptions, parse_public_key_hex};

/// Ledger subcommands.
#[derive(Debug, Subcommand)]
pub enum LedgerCmd {
    /// Walk the hash chain and the signed checkpoints and name the first altered,
    /// missing or reordered record. Exits 1 when one is found.
    Verify {
        /// The sortfleet database file (opened read-only).
        #[arg(long)]
        db: PathBuf,
        /// Public key (64 hex characters) that checkpoints must be signed with;
        /// repeat for several. Without it any self-consistent signature is accepted.
        #[arg(long = "trusted-key", value_name = "HEX")]
        trusted_keys: Vec<String>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Create a new Ed25519 checkpoint signing key file (hex seed) and print its
    /// public key, which regulators pin with `--trusted-key`.
    Keygen {
        /// Where to write the key; an existing file is never overwritten.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Runs a ledger subcommand; the exit code is 1 when verification finds a bad record.
pub fn run(cmd: LedgerCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        LedgerCmd::Verify {
            db,
            trusted_keys,
            json,
        } => {
            // Opening a missing path read-only fails anyway; say so plainly.
            if !db.is_file() {
                bail!("{}: no such database file", db.display());
            }
            let store =
                Store::open_read_only(&db).with_context(|| format!("opening {}", db.display()))?;
            let trusted_keys = trusted_keys
                .iter()
                .map(|k| parse_public_key_hex(k).with_context(|| format!("--trusted-key {k}")))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let report = store.verify_with(&VerifyOptions {
                trusted_keys,
                ..VerifyOptions::default()
            })?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!("{}: {report}", db.display());
            }
            Ok(if report.is_ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        LedgerCmd::Keygen { out } => {
            let key = CheckpointKey::from_seed(rand::random::<[u8; 32]>());
            let seed_hex = key.seed_hex();
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&out)
                .with_context(|| format!("creating {}", out.display()))?;
            restrict_permissions(&f)?;
            writeln!(f, "{seed_hex}").with_context(|| format!("writing {}", out.display()))?;
            println!("key file:   {}", out.display());
            println!("key id:     {}", key.key_id());
            println!("public key: {}", key.public_key_hex());
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[cfg(unix)]
fn restrict_permissions(f: &std::fs::File) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    Ok(())
}

#[cfg(not(unix))]
fn restrict_permissions(_f: &std::fs::File) -> anyhow::Result<()> {
    Ok(())
}
