//! The durable store of sortfleet: master data, plans, published routes, terminal
//! outboxes, events and incidents in one embedded SQLite file, with events and
//! incidents appended to a tamper-evident hash chain with signed checkpoints.
//!
//! # Design
//!
//! * **Synchronous, one writer.** The service owns a writable [`Store`] on a dedicated
//!   writer thread and hands it whole batches; [`Store::write`] runs a closure in one
//!   `BEGIN IMMEDIATE` transaction and returns only after `COMMIT`. The database is
//!   in WAL mode with `synchronous=FULL` by default, so a returned call means the
//!   batch is fsynced: acknowledging after it can never lose data to `kill -9` or power
//!   loss. Durability costs one fsync per *batch*, which is why ingest is batched.
//!   ([`Durability::Normal`] keeps the `kill -9` guarantee — the WAL frames are in the OS
//!   page cache when `COMMIT` returns — and gives up only power-loss safety.)
//! * **Record-type agnostic.** Callers pass indexed columns plus a JSON body; the
//!   store does not know the domain event and incident types.
//! * **Migrations** live in `migrations/NNNN_*.sql`, are applied in order and recorded
//!   in `schema_version`; a file from a newer build is refused.
//! * **Append-only** tables (events, incidents, evidence, ledger, ledger_meta, checkpoints) carry
//!   triggers that abort updates and deletes. That stops bugs, not attackers: anyone
//!   with the file can drop triggers. [`Store::verify`] is what catches attackers.
//!
//! # The ledger format (record encoding v1, frozen; SM3 and `ledger_meta` since schema v2)
//!
//! Every stored event and incident gets one ledger record `(seq, kind, record_ref,
//! algo, prev_hash, hash)`; `seq` counts from 1 without gaps over both kinds.
//!
//! `hash = H(prev_hash || record)`, with `prev_hash` of record 1 being 32 zero bytes and
//! `H` the ledger's hash algorithm: SHA-256 (`algo = "sha256"`, the default and the only
//! one of v1 files) or SM3 (`algo = "sm3"`, GB/T 32905-2016, since schema v2). The name
//! is stored, and hashed, in every record.
//!
//! **One algorithm per ledger, for life.** [`StoreConfig::hash_algorithm`] takes effect
//! with the first record, which writes it to `ledger_meta` in the same transaction
//! (v1 files migrate to `sha256`). Opening a started ledger with another configured
//! algorithm fails with [`LedgerError::AlgorithmMismatch`]; verify reports a record that
//! names another algorithm than the ledger's ([`BadReason::UnknownAlgorithm`]). A switch
//! at a checkpoint was rejected as needless: nothing a regulator checks gets simpler, and
//! a verifier would have to trust the place of the switch.
//!
//! `record` is the UTF-8 canonical JSON object (keys sorted bytewise, no whitespace,
//! minimal string escapes — see [`canonical_json`]) of these fields:
//!
//! * event: `algo`, `body` (the stored canonical body text, verbatim),
//!   `client_event_id`, `device`, `device_seq`, `kind`, `occurred_at`, `received_at`,
//!   `record` = `"event"`, `ref` (the events row number), `seq` (ledger seq), `vehicle`;
//! * incident: `algo`, `body`, `district` (string or `null`), `evidence` (array of
//!   client event ids in order), `incident_id`, `occurred_at`, `record` =
//!   `"incident"`, `ref` (the incidents row number), `rule`, `seq`, `stream` (string or
//!   `null`), `vehicle`.
//!
//! Times are Unix epoch milliseconds. Including `seq` makes a moved record fail; the
//! indexed columns are covered so that editing a filterable column is caught too.
//!
//! A checkpoint `(seq, head_hash, algo = "ed25519", signature, key_id, public_key)` is
//! written every [`StoreConfig::checkpoint_every`] records. The signature is Ed25519
//! over `b"sortfleet-ledger/checkpoint/v1\0" || seq as u64 big-endian || head_hash`;
//! `key_id` is the hex of the first 8 bytes of SHA-256(public key). A regulator who
//! holds the public key (`VerifyOptions::trusted_keys`) need not trust the operator:
//! a rewrite of the chain up to a checkpoint breaks the signature or the head hash.
//! Records after the last checkpoint are protected only by the chain; call
//! [`Store::checkpoint_now`] at shutdown to close the tail.
//!
//! The files `tests/fixtures/ledger-v1.db` (v1, SHA-256) and `ledger-v2-sm3.db` (v2, SM3)
//! are committed ledgers that every later version must still verify.
//!
//! [`Store::incident_ledger_entry`] and [`Store::event_ledger_entry`] find the ledger
//! record of a stored incident or event through the `ledger (kind, record_ref)` index
//! (schema v2), for `GetIncident`'s `ledger_seq` / `ledger_hash`.

mod canonical;
mod error;
mod keys;
mod query;
mod store;
mod types;
mod verify;

pub use canonical::{
    ALGO_SHA256, ALGO_SM3, CHECKPOINT_TAG, GENESIS_HASH, HASH_LEN, HashAlgorithm, canonical_json,
    chain_hash, checkpoint_message,
};
pub use error::{LedgerError, Result};
pub use keys::{CheckpointKey, key_id, parse_public_key_hex};
pub use store::{Durability, SCHEMA_VERSION, Store, StoreConfig, Tx};
pub use types::*;
pub use verify::{BadReason, BadRecord, VerifyOptions, VerifyReport};

/// Re-export so callers can name the public key type without depending on the crate.
pub use ed25519_dalek::VerifyingKey;
