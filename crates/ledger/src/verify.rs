//! Walking the chain: recompute every record's hash from the stored rows, check every
//! link and every signed checkpoint, and name the first record that does not fit.

use std::collections::BTreeMap;

use ed25519_dalek::{Signature, VerifyingKey};
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};

use crate::canonical::{
    ALGO_SHA256, EventRecord, GENESIS_HASH, HashAlgorithm, IncidentRecord, checkpoint_message,
};
use crate::error::Result;
use crate::keys::key_id;
use crate::store::{Store, stored_algorithm};

/// Why a record failed verification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BadReason {
    /// The stored record no longer hashes to its stored hash (content, columns or
    /// evidence edited), or its `prev_hash` was rewritten.
    Altered,
    /// A ledger record, or the event/incident row it refers to, is gone; or a
    /// checkpoint signs a record past the end of the chain (truncation).
    Missing,
    /// The record links to a record other than its predecessor.
    Reordered,
    /// A checkpoint's Ed25519 signature does not verify.
    BadSignature,
    /// A validly signed checkpoint names a different head hash than the stored chain
    /// (the chain was rewritten after it was signed).
    CheckpointMismatch,
    /// A checkpoint was signed by a key outside the trusted set.
    UntrustedKey,
    /// The record names a hash algorithm this build does not know, or one other than
    /// the ledger's (a ledger keeps one algorithm for life); or the ledger's own
    /// algorithm entry is gone or unknown.
    UnknownAlgorithm,
    /// An event or incident row has no ledger record (inserted behind the ledger's back).
    Unchained,
}

impl std::fmt::Display for BadReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BadReason::Altered => "altered",
            BadReason::Missing => "missing",
            BadReason::Reordered => "reordered",
            BadReason::BadSignature => "bad signature",
            BadReason::CheckpointMismatch => "checkpoint mismatch",
            BadReason::UntrustedKey => "untrusted key",
            BadReason::UnknownAlgorithm => "unknown algorithm",
            BadReason::Unchained => "unchained",
        })
    }
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BadRecord {
    /// Ledger seq of the record (for `Unchained`: 0, see `detail`).
    pub seq: u64,
    /// What is wrong.
    pub reason: BadReason,
    /// Human-readable specifics (record kind and id, what differs).
    pub detail: String,
}

/// Options for [`Store::verify_with`].
#[derive(Clone, Debug, Default)]
pub struct VerifyOptions {
    /// When non-empty, checkpoints must be signed by one of these keys.
    pub trusted_keys: Vec<VerifyingKey>,
    /// Stop collecting findings after this many (0 = 100).
    pub max_findings: usize,
}

/// Result of walking the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// Ledger records walked.
    pub records: u64,
    /// The ledger's hash algorithm (`sha256` or `sm3`; `sha256` for v1 files, which
    /// knew no other).
    #[serde(default = "default_algorithm")]
    pub algorithm: String,
    /// Seq of the last record.
    pub head_seq: u64,
    /// Stored hash of the last record (zeros when empty); hex in JSON.
    #[serde(with = "hex_hash")]
    pub head_hash: [u8; 32],
    /// Checkpoints found.
    pub checkpoints: u64,
    /// Seq of the last checkpoint.
    pub last_checkpoint_seq: Option<u64>,
    /// Key ids that signed checkpoints.
    pub key_ids: Vec<String>,
    /// The first finding in chain order, if any.
    pub first_bad: Option<BadRecord>,
    /// All findings (capped by [`VerifyOptions::max_findings`]).
    pub bad: Vec<BadRecord>,
}

impl VerifyReport {
    /// True when nothing was found.
    pub fn is_ok(&self) -> bool {
        self.first_bad.is_none()
    }

    /// Records after the last checkpoint: protected by the hash chain against edits
    /// in the middle, but not by a signature against a rewrite of the tail.
    pub fn unsigned_tail(&self) -> u64 {
        self.head_seq - self.last_checkpoint_seq.unwrap_or(0).min(self.head_seq)
    }
}

impl std::fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "records: {}  head seq: {}  head hash: {} ({})",
            self.records,
            self.head_seq,
            hex::encode(self.head_hash),
            self.algorithm
        )?;
        match self.last_checkpoint_seq {
            Some(s) => writeln!(
                f,
                "checkpoints: {} (last at seq {}, {} records after it; keys: {})",
                self.checkpoints,
                s,
                self.unsigned_tail(),
                self.key_ids.join(", ")
            )?,
            None => writeln!(f, "checkpoints: none (chain is unsigned)")?,
        }
        match &self.first_bad {
            None => write!(f, "OK: every record verifies"),
            Some(b) => {
                write!(f, "BAD: record {} {}: {}", b.seq, b.reason, b.detail)?;
                for more in self.bad.iter().skip(1) {
                    write!(
                        f,
                        "\n  also: record {} {}: {}",
                        more.seq, more.reason, more.detail
                    )?;
                }
                Ok(())
            }
        }
    }
}

fn default_algorithm() -> String {
    ALGO_SHA256.to_owned()
}

struct Checkpoint {
    head_hash: Vec<u8>,
    algo: String,
    signature: Vec<u8>,
    key_id: String,
    public_key: Vec<u8>,
}

struct Findings {
    list: Vec<BadRecord>,
    cap: usize,
}

impl Findings {
    fn push(&mut self, seq: u64, reason: BadReason, detail: String) {
        if self.list.len() < self.cap {
            self.list.push(BadRecord {
                seq,
                reason,
                detail,
            });
        }
    }
    fn full(&self) -> bool {
        self.list.len() >= self.cap
    }
}

impl Store {
    /// Verifies the whole chain with default options (any signing key accepted).
    pub fn verify(&self) -> Result<VerifyReport> {
        self.verify_with(&VerifyOptions::default())
    }

    /// Verifies the whole chain. Uses only columns present since schema v1.
    pub fn verify_with(&self, opts: &VerifyOptions) -> Result<VerifyReport> {
        let conn = &self.conn;
        let mut findings = Findings {
            list: Vec::new(),
            cap: if opts.max_findings == 0 {
                100
            } else {
                opts.max_findings
            },
        };

        let mut checkpoints: BTreeMap<u64, Checkpoint> = BTreeMap::new();
        {
            let mut st = conn.prepare(
                "SELECT seq, head_hash, algo, signature, key_id, public_key FROM checkpoints ORDER BY seq",
            )?;
            let rows = st.query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)? as u64,
                    Checkpoint {
                        head_hash: r.get(1)?,
                        algo: r.get(2)?,
                        signature: r.get(3)?,
                        key_id: r.get(4)?,
                        public_key: r.get(5)?,
                    },
                ))
            })?;
            for row in rows {
                let (seq, cp) = row?;
                checkpoints.insert(seq, cp);
            }
        }
        let mut key_ids: Vec<String> = Vec::new();
        for cp in checkpoints.values() {
            if !key_ids.contains(&cp.key_id) {
                key_ids.push(cp.key_id.clone());
            }
        }

        // The ledger's algorithm: from its metadata (v2), SHA-256 for a v1 file; a
        // started v2 chain without the entry has lost it.
        let v2 = self.schema_version()? >= 2;
        let ledger_algo: Option<HashAlgorithm> = match stored_algorithm(conn)? {
            Some(name) => {
                let a = HashAlgorithm::from_name(&name);
                if a.is_none() {
                    findings.push(
                        1,
                        BadReason::UnknownAlgorithm,
                        format!("the ledger's metadata names unknown algorithm `{name}`"),
                    );
                }
                a
            }
            None if !v2 => Some(HashAlgorithm::Sha256),
            None => {
                let started: bool =
                    conn.query_row("SELECT EXISTS(SELECT 1 FROM ledger)", [], |r| r.get(0))?;
                if started {
                    findings.push(
                        1,
                        BadReason::UnknownAlgorithm,
                        "the ledger's algorithm entry (ledger_meta.hash_algorithm) is gone".into(),
                    );
                }
                None
            }
        };
        let algorithm = ledger_algo.map_or_else(
            || {
                if v2 {
                    self.hash_algorithm()
                        .map_or_else(|_| "unknown".to_owned(), |a| a.name().to_owned())
                } else {
                    default_algorithm()
                }
            },
            |a| a.name().to_owned(),
        );

        let mut evidence_st = conn.prepare(
            "SELECT client_event_id FROM incident_evidence WHERE incident_seq = ?1 ORDER BY pos",
        )?;
        let mut find_hash_st = conn.prepare("SELECT seq FROM ledger WHERE hash = ?1 LIMIT 1")?;

        let mut st = conn.prepare(
            "SELECT l.seq, l.kind, l.record_ref, l.algo, l.prev_hash, l.hash,
                    e.seq, e.client_event_id, e.vehicle, e.device, e.device_seq,
                    e.occurred_at, e.received_at, e.kind, e.body,
                    i.seq, i.incident_id, i.vehicle, i.district, i.stream, i.rule,
                    i.occurred_at, i.body
             FROM ledger l
             LEFT JOIN events e ON l.kind = 'event' AND e.seq = l.record_ref
             LEFT JOIN incidents i ON l.kind = 'incident' AND i.seq = l.record_ref
             ORDER BY l.seq",
        )?;
        let mut rows = st.query([])?;

        let mut records = 0u64;
        let mut expected = 1u64;
        let mut prev: Vec<u8> = GENESIS_HASH.to_vec();
        let mut last_seq = 0u64;
        let mut chained_events = 0u64;
        let mut chained_incidents = 0u64;

        while let Some(r) = rows.next()? {
            let seq = r.get::<_, i64>(0)? as u64;
            let kind: String = r.get(1)?;
            let record_ref: i64 = r.get(2)?;
            let algo: String = r.get(3)?;
            let stored_prev: Vec<u8> = r.get(4)?;
            let stored_hash: Vec<u8> = r.get(5)?;
            records += 1;
            last_seq = seq;

            // Once the cap is reached keep counting, but stop checking.
            if findings.full() {
                prev = stored_hash;
                continue;
            }

            if seq != expected {
                let what = if seq == expected + 1 {
                    format!("ledger record {expected} is gone")
                } else {
                    format!("ledger records {expected}..={} are gone", seq - 1)
                };
                findings.push(expected, BadReason::Missing, what);
                // The gap explains the broken link below; do not report it twice.
                prev = stored_prev.clone();
            }
            expected = seq + 1;

            if stored_prev != prev {
                let other: Option<i64> = find_hash_st
                    .query_row([&stored_prev], |r| r.get(0))
                    .optional()?;
                match other {
                    Some(o) if o as u64 != seq.wrapping_sub(1) => findings.push(
                        seq,
                        BadReason::Reordered,
                        format!("links to record {o}, not to record {}", seq - 1),
                    ),
                    _ => findings.push(
                        seq,
                        BadReason::Altered,
                        format!(
                            "prev_hash does not match the hash of record {} (that hash or this link was rewritten)",
                            seq - 1
                        ),
                    ),
                }
            }

            let Some(record_algo) = HashAlgorithm::from_name(&algo) else {
                findings.push(
                    seq,
                    BadReason::UnknownAlgorithm,
                    format!("algorithm `{algo}`"),
                );
                prev = stored_hash;
                continue;
            };
            if let Some(l) = ledger_algo
                && l != record_algo
            {
                // Still hashed below with the algorithm it names, so an edit of the
                // record itself is reported too.
                findings.push(
                    seq,
                    BadReason::UnknownAlgorithm,
                    format!("record names algorithm `{algo}` but this ledger uses `{l}`"),
                );
            }

            let (bytes, label) = match kind.as_str() {
                "event" => {
                    if r.get::<_, Option<i64>>(6)?.is_none() {
                        findings.push(
                            seq,
                            BadReason::Missing,
                            format!("event row {record_ref} is gone"),
                        );
                        prev = stored_hash;
                        continue;
                    }
                    chained_events += 1;
                    let client_event_id: String = r.get(7)?;
                    let vehicle: String = r.get(8)?;
                    let device: String = r.get(9)?;
                    let body: String = r.get(14)?;
                    let kind_col: String = r.get(13)?;
                    let bytes = EventRecord {
                        seq: seq as i64,
                        record_ref,
                        algo: &algo,
                        client_event_id: &client_event_id,
                        vehicle: &vehicle,
                        device: &device,
                        device_seq: r.get(10)?,
                        occurred_at: r.get(11)?,
                        received_at: r.get(12)?,
                        kind: &kind_col,
                        body: &body,
                    }
                    .encode();
                    (bytes, format!("event `{client_event_id}`"))
                }
                "incident" => {
                    if r.get::<_, Option<i64>>(15)?.is_none() {
                        findings.push(
                            seq,
                            BadReason::Missing,
                            format!("incident row {record_ref} is gone"),
                        );
                        prev = stored_hash;
                        continue;
                    }
                    chained_incidents += 1;
                    let incident_id: String = r.get(16)?;
                    let vehicle: String = r.get(17)?;
                    let district: Option<String> = r.get(18)?;
                    let stream: Option<String> = r.get(19)?;
                    let rule: String = r.get(20)?;
                    let body: String = r.get(22)?;
                    let evidence: Vec<String> = evidence_st
                        .query_map([record_ref], |r| r.get(0))?
                        .collect::<rusqlite::Result<_>>()?;
                    let bytes = IncidentRecord {
                        seq: seq as i64,
                        record_ref,
                        algo: &algo,
                        incident_id: &incident_id,
                        vehicle: &vehicle,
                        district: district.as_deref(),
                        stream: stream.as_deref(),
                        rule: &rule,
                        occurred_at: r.get(21)?,
                        evidence: &evidence,
                        body: &body,
                    }
                    .encode();
                    (bytes, format!("incident `{incident_id}`"))
                }
                other => {
                    findings.push(
                        seq,
                        BadReason::Altered,
                        format!("unknown record kind `{other}`"),
                    );
                    prev = stored_hash;
                    continue;
                }
            };

            let computed = record_algo.chain_hash(&stored_prev, &bytes);
            if computed[..] != stored_hash[..] {
                findings.push(
                    seq,
                    BadReason::Altered,
                    format!("{label} does not hash to its stored hash"),
                );
            }

            if let Some(cp) = checkpoints.get(&seq) {
                check_checkpoint(seq, cp, &stored_hash, opts, &mut findings);
            }
            prev = stored_hash;
        }
        drop(rows);

        for (&cp_seq, cp) in checkpoints.range(last_seq + 1..) {
            findings.push(
                cp_seq,
                BadReason::Missing,
                format!(
                    "checkpoint {} (key {}) signs record {cp_seq} but the chain ends at {last_seq}: records were removed from the end",
                    cp_seq, cp.key_id
                ),
            );
        }

        // Rows never chained: only look when the counts say there are some.
        let n_events: i64 = conn.query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))?;
        let n_incidents: i64 =
            conn.query_row("SELECT COUNT(*) FROM incidents", [], |r| r.get(0))?;
        for (table, kind, total, chained) in [
            ("events", "event", n_events as u64, chained_events),
            (
                "incidents",
                "incident",
                n_incidents as u64,
                chained_incidents,
            ),
        ] {
            if total > chained {
                let id_col = if table == "events" {
                    "client_event_id"
                } else {
                    "incident_id"
                };
                let mut q = conn.prepare(&format!(
                    "SELECT t.seq, t.{id_col} FROM {table} t
                     WHERE NOT EXISTS (SELECT 1 FROM ledger l WHERE l.kind = '{kind}' AND l.record_ref = t.seq)
                     ORDER BY t.seq LIMIT 10"
                ))?;
                let rows =
                    q.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
                for row in rows {
                    let (s, id) = row?;
                    findings.push(
                        0,
                        BadReason::Unchained,
                        format!("{kind} row {s} (`{id}`) has no ledger record"),
                    );
                }
            }
        }

        let head_hash: [u8; 32] = prev.as_slice().try_into().unwrap_or([0u8; 32]);
        Ok(VerifyReport {
            records,
            algorithm,
            head_seq: last_seq,
            head_hash,
            checkpoints: checkpoints.len() as u64,
            last_checkpoint_seq: checkpoints.keys().next_back().copied(),
            key_ids,
            first_bad: findings.list.first().cloned(),
            bad: findings.list,
        })
    }
}

fn check_checkpoint(
    seq: u64,
    cp: &Checkpoint,
    stored_hash: &[u8],
    opts: &VerifyOptions,
    findings: &mut Findings,
) {
    let vk = <[u8; 32]>::try_from(cp.public_key.as_slice())
        .ok()
        .and_then(|b| VerifyingKey::from_bytes(&b).ok());
    let sig = <[u8; 64]>::try_from(cp.signature.as_slice())
        .ok()
        .map(|b| Signature::from_bytes(&b));
    let (Some(vk), Some(sig)) = (vk, sig) else {
        findings.push(
            seq,
            BadReason::BadSignature,
            "checkpoint public key or signature is malformed".into(),
        );
        return;
    };
    if cp.algo != "ed25519" {
        findings.push(
            seq,
            BadReason::BadSignature,
            format!("checkpoint signature algorithm `{}`", cp.algo),
        );
        return;
    }
    if vk
        .verify_strict(&checkpoint_message(seq, &cp.head_hash), &sig)
        .is_err()
        || key_id(&vk) != cp.key_id
    {
        findings.push(
            seq,
            BadReason::BadSignature,
            format!("checkpoint signature (key {}) does not verify", cp.key_id),
        );
        return;
    }
    if !opts.trusted_keys.is_empty() && !opts.trusted_keys.contains(&vk) {
        findings.push(
            seq,
            BadReason::UntrustedKey,
            format!(
                "checkpoint signed by key {} which is not trusted",
                cp.key_id
            ),
        );
    }
    if cp.head_hash != stored_hash {
        findings.push(
            seq,
            BadReason::CheckpointMismatch,
            "the signed head hash differs from the stored chain: records up to here were rewritten"
                .into(),
        );
    }
}

/// `[u8; 32]` as a hex string in JSON reports.
mod hex_hash {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(h: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(h))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        let bytes = hex::decode(&text).map_err(D::Error::custom)?;
        bytes
            .try_into()
            .map_err(|_| D::Error::custom("hash must be 32 bytes"))
    }
}
