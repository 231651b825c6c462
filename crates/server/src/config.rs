//! The server's configuration file (TOML, or JSON when the name ends in `.json`):
//! bearer tokens with their roles, TLS files, ledger signing, service tuning.
//!
//! ```toml
//! [[tokens]]
//! token = "change-me-dispatcher"
//! role = "dispatcher"
//!
//! [[tokens]]
//! token = "change-me-t1"
//! role = "terminal"
//! vehicle_id = "T1"
//!
//! [[tokens]]
//! token = "change-me-regulator"
//! role = "regulator"
//!
//! [tls]                      # optional: serve TLS (rustls)
//! cert = "server.pem"
//! key = "server.key"
//!
//! [ledger]                   # optional
//! signing_key = "ledger.key" # Ed25519 seed, 64 hex characters (`sortfleet ledger keygen`)
//! checkpoint_interval = 1000
//! hash_algorithm = "sha256"  # chain hash: "sha256" (default) | "sm3"; fixed per ledger
//!
//! [service]                  # optional
//! utc_offset_s = 3600
//! heartbeat_s = 15
//! ```
//!
//! Relative paths are resolved against the directory of the configuration file, so a
//! deployment directory can be moved as a whole.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sortfleet_ledger::HashAlgorithm;

/// What may be wrong with a configuration file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not valid TOML/JSON for this schema.
    #[error("{path}: {msg}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Parser message (with line/column).
        msg: String,
    },
    /// The content is well formed but unusable.
    #[error("{field}: {msg}")]
    Invalid {
        /// Path of the offending value, e.g. `tokens[2].vehicle_id`.
        field: String,
        /// What is wrong.
        msg: String,
    },
}

/// A caller's role, as granted by its token.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case", deny_unknown_fields)]
pub enum Role {
    /// All dispatch RPCs; may also watch any vehicle's assignments and read supervision.
    Dispatcher,
    /// A truck's terminal: subscribe and report for this vehicle only.
    Terminal {
        /// The one vehicle this token speaks for.
        vehicle_id: String,
    },
    /// Read-only supervision: incidents, ledger verification, scorecard.
    Regulator,
}

/// One bearer token.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct TokenEntry {
    /// The secret sent as `authorization: Bearer <token>`.
    pub token: String,
    /// Who holds it, for logs (defaults to the role).
    #[serde(default)]
    pub name: Option<String>,
    /// What it may do.
    #[serde(flatten)]
    pub role: Role,
}

/// Certificate and key files (PEM) for TLS.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    /// Certificate chain, PEM.
    pub cert: PathBuf,
    /// Private key, PEM.
    pub key: PathBuf,
}

/// Ledger settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerSection {
    /// Ed25519 seed file signing checkpoints; without it checkpoints are not signed.
    pub signing_key: Option<PathBuf>,
    /// A signed checkpoint every this many records.
    pub checkpoint_interval: Option<u64>,
    /// Hash of the chain: `sha256` (default) or `sm3`. Takes effect with the
    /// ledger's first record and is then fixed: a server started with another value
    /// on an existing ledger refuses to open it instead of mixing algorithms.
    pub hash_algorithm: Option<String>,
}

impl LedgerSection {
    /// The configured chain algorithm (SHA-256 when unset).
    pub fn hash_algorithm(&self) -> Result<HashAlgorithm, ConfigError> {
        match &self.hash_algorithm {
            None => Ok(HashAlgorithm::default()),
            Some(s) => s.parse().map_err(|_| ConfigError::Invalid {
                field: "ledger.hash_algorithm".into(),
                msg: format!("`{s}` is neither `sha256` nor `sm3`"),
            }),
        }
    }
}

/// Service tuning.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSection {
    /// Offset of local time from UTC in seconds (which service day an event belongs to).
    pub utc_offset_s: Option<i64>,
    /// Heartbeat period of subscription streams, seconds.
    pub heartbeat_s: Option<u64>,
    /// Durable commits: `full` (fsync every group commit, default) or `normal`.
    pub durability: Option<String>,
}

/// The whole configuration file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Bearer tokens.
    #[serde(default)]
    pub tokens: Vec<TokenEntry>,
    /// TLS files; plaintext when absent.
    #[serde(default)]
    pub tls: Option<TlsFiles>,
    /// Ledger settings.
    #[serde(default)]
    pub ledger: LedgerSection,
    /// Service tuning.
    #[serde(default)]
    pub service: ServiceSection,
}

impl ServerConfig {
    /// Reads and checks a configuration file; relative paths become relative to it.
    pub fn load(path: &Path) -> Result<ServerConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_owned(),
            source,
        })?;
        let json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        let mut cfg = Self::parse(&text, json).map_err(|msg| ConfigError::Parse {
            path: path.to_owned(),
            msg,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        if let Some(t) = cfg.tls.as_mut() {
            fix(&mut t.cert);
            fix(&mut t.key);
        }
        if let Some(k) = cfg.ledger.signing_key.as_mut() {
            fix(k);
        }
        Ok(cfg)
    }

    /// Parses TOML (or JSON) text and checks it.
    pub fn parse(text: &str, json: bool) -> Result<ServerConfig, String> {
        let cfg: ServerConfig = if json {
            serde_json::from_str(text).map_err(|e| e.to_string())?
        } else {
            toml::from_str(text).map_err(|e| e.to_string())?
        };
        cfg.check().map_err(|e| e.to_string())?;
        Ok(cfg)
    }

    /// Structural checks: tokens non-empty and distinct, terminals name a vehicle.
    pub fn check(&self) -> Result<(), ConfigError> {
        let mut seen = HashSet::new();
        for (i, t) in self.tokens.iter().enumerate() {
            let invalid = |f: &str, msg: &str| ConfigError::Invalid {
                field: format!("tokens[{i}].{f}"),
                msg: msg.to_owned(),
            };
            if t.token.trim().is_empty() {
                return Err(invalid("token", "must not be empty"));
            }
            if t.token.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(invalid("token", "must not contain whitespace"));
            }
            if !seen.insert(t.token.as_str()) {
                return Err(invalid("token", "appears twice"));
            }
            if let Role::Terminal { vehicle_id } = &t.role
                && vehicle_id.trim().is_empty()
            {
                return Err(invalid("vehicle_id", "must not be empty"));
            }
        }
        self.ledger.hash_algorithm()?;
        if let Some(d) = &self.service.durability
            && !matches!(d.as_str(), "full" | "normal")
        {
            return Err(ConfigError::Invalid {
                field: "service.durability".into(),
                msg: format!("`{d}` is neither `full` nor `normal`"),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOML: &str = r#"
[[tokens]]
token = "d"
role = "dispatcher"

[[tokens]]
token = "t1"
role = "terminal"
vehicle_id = "T1"
name = "truck one"

[[tokens]]
token = "r"
role = "regulator"

[tls]
cert = "c.pem"
key = "k.pem"
"#;

    #[test]
    fn toml_and_json_give_the_same_roles() {
        let a = ServerConfig::parse(TOML, false).unwrap();
        assert_eq!(a.tokens.len(), 3);
        assert_eq!(
            a.tokens[1].role,
            Role::Terminal {
                vehicle_id: "T1".into()
            }
        );
        assert_eq!(a.tokens[1].name.as_deref(), Some("truck one"));
        let b = ServerConfig::parse(
            r#"{"tokens":[{"token":"d","role":"dispatcher"},{"token":"t1","role":"terminal","vehicle_id":"T1"}]}"#,
            true,
        )
        .unwrap();
        assert_eq!(b.tokens[0].role, Role::Dispatcher);
        assert_eq!(b.tokens[1].role, a.tokens[1].role);
    }

    #[test]
    fn bad_configs_name_the_field() {
        let dup = "[[tokens]]\ntoken=\"x\"\nrole=\"dispatcher\"\n[[tokens]]\ntoken=\"x\"\nrole=\"regulator\"\n";
        assert!(
            ServerConfig::parse(dup, false)
                .unwrap_err()
                .contains("tokens[1].token")
        );
        let no_vehicle = "[[tokens]]\ntoken=\"x\"\nrole=\"terminal\"\n";
        assert!(ServerConfig::parse(no_vehicle, false).is_err());
        let empty_vehicle = "[[tokens]]\ntoken=\"x\"\nrole=\"terminal\"\nvehicle_id=\" \"\n";
        assert!(
            ServerConfig::parse(empty_vehicle, false)
                .unwrap_err()
                .contains("tokens[0].vehicle_id")
        );
        let bad_role = "[[tokens]]\ntoken=\"x\"\nrole=\"admin\"\n";
        assert!(ServerConfig::parse(bad_role, false).is_err());
        assert!(ServerConfig::parse("[service]\ndurability=\"maybe\"\n", false).is_err());
        assert!(
            ServerConfig::parse("[ledger]\nhash_algorithm=\"md5\"\n", false)
                .unwrap_err()
                .contains("ledger.hash_algorithm")
        );
    }

    #[test]
    fn hash_algorithm_defaults_to_sha256_and_accepts_sm3() {
        let none = ServerConfig::parse(TOML, false).unwrap();
        assert_eq!(none.ledger.hash_algorithm().unwrap(), HashAlgorithm::Sha256);
        let sm3 = ServerConfig::parse("[ledger]\nhash_algorithm = \"sm3\"\n", false).unwrap();
        assert_eq!(sm3.ledger.hash_algorithm().unwrap(), HashAlgorithm::Sm3);
        let json = ServerConfig::parse(r#"{"ledger":{"hash_algorithm":"SHA256"}}"#, true).unwrap();
        assert_eq!(json.ledger.hash_algorithm().unwrap(), HashAlgorithm::Sha256);
    }

    #[test]
    fn relative_paths_follow_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.toml");
        std::fs::write(&p, TOML).unwrap();
        let cfg = ServerConfig::load(&p).unwrap();
        assert_eq!(cfg.tls.unwrap().cert, dir.path().join("c.pem"));
    }
}
