//! The ledger's error type.

use std::path::PathBuf;

/// Everything that can go wrong in the store. Input problems are `InvalidInput`
/// (nothing was written); tampering is not an error but a [`crate::VerifyReport`] finding.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// SQLite failed (I/O, full disk, locked database, constraint).
    #[error("storage error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The database was written by a newer sortfleet; refusing to touch it.
    #[error("database schema version {found} is newer than this build supports ({supported})")]
    SchemaTooNew {
        /// Version found in the file.
        found: i64,
        /// Highest version this build knows.
        supported: i64,
    },
    /// A read-only open found a database that needs migrating first.
    #[error(
        "database schema version {found} is older than {supported}; open it writable once to migrate"
    )]
    SchemaTooOld {
        /// Version found in the file.
        found: i64,
        /// Version this build expects.
        supported: i64,
    },
    /// The file is not a sortfleet store (no `schema_version` table) and was opened read-only.
    #[error("not a sortfleet database (no schema_version table)")]
    NotAStore,
    /// A caller-supplied value is unusable; the transaction changed nothing.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// Name of the offending field.
        field: &'static str,
        /// Why it was refused.
        reason: String,
    },
    /// The ledger's chain was started with another hash algorithm than the one
    /// configured; a ledger keeps one algorithm for life, so it is refused rather
    /// than extended with a second one.
    #[error(
        "the ledger's hash chain uses `{ledger}` but `{configured}` is configured; a ledger never switches algorithm (configure `{ledger}` or start a new database)"
    )]
    AlgorithmMismatch {
        /// Algorithm stored in the ledger's metadata.
        ledger: String,
        /// Algorithm the store was opened with.
        configured: String,
    },
    /// A stored row could not be decoded (e.g. JSON that no longer parses).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// The checkpoint signing key could not be loaded or parsed.
    #[error("checkpoint key: {0}")]
    Key(String),
    /// Reading a key file failed.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

impl LedgerError {
    /// Builds an [`LedgerError::InvalidInput`].
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        LedgerError::InvalidInput {
            field,
            reason: reason.into(),
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = LedgerError> = std::result::Result<T, E>;
