//! Canonical JSON and the frozen v1 record encoding that the hash chain covers.
//!
//! Canonical JSON here: object keys sorted by their UTF-8 bytes, no insignificant
//! whitespace, strings escaped with the minimal JSON escapes (`\"`, `\\`, `\b`, `\f`,
//! `\n`, `\r`, `\t`, other control characters as `\u00xx` lowercase; everything else
//! verbatim UTF-8), numbers as `serde_json` prints them (integers in decimal, floats as
//! the shortest round-tripping form). Bodies are stored as the canonical text and
//! hashed verbatim, so a later change in float printing can never break old hashes.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use sm3::Sm3;

/// Name of SHA-256, as stored in every ledger record (the v1 default).
pub const ALGO_SHA256: &str = "sha256";

/// Name of SM3 (GB/T 32905-2016), as stored in every ledger record.
pub const ALGO_SM3: &str = "sm3";

/// Length of a chain hash in bytes (SHA-256 and SM3 both give 32).
pub const HASH_LEN: usize = 32;

/// The hash function of a ledger's chain. A ledger keeps one for life: it is fixed by
/// the first record (and stored in `ledger_meta`), so the chain never switches
/// algorithm and a verifier never has to guess where a switch happened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HashAlgorithm {
    /// SHA-256 (FIPS 180-4), the default and the only algorithm of v1 files.
    #[default]
    Sha256,
    /// SM3 (GB/T 32905-2016, GM/T 0004-2012), required by some regulators.
    Sm3,
}

impl HashAlgorithm {
    /// Every algorithm this build can verify.
    pub const ALL: [HashAlgorithm; 2] = [HashAlgorithm::Sha256, HashAlgorithm::Sm3];

    /// The name stored (and hashed) in every record: `sha256` or `sm3`.
    pub const fn name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha256 => ALGO_SHA256,
            HashAlgorithm::Sm3 => ALGO_SM3,
        }
    }

    /// The algorithm of a stored name; `None` for names this build does not know.
    pub fn from_name(name: &str) -> Option<HashAlgorithm> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The digest of `parts` concatenated.
    pub fn digest(self, parts: &[&[u8]]) -> [u8; HASH_LEN] {
        match self {
            HashAlgorithm::Sha256 => {
                let mut h = Sha256::new();
                for p in parts {
                    h.update(p);
                }
                h.finalize().into()
            }
            HashAlgorithm::Sm3 => {
                use sm3::Digest as _;
                let mut h = Sm3::new();
                for p in parts {
                    h.update(p);
                }
                h.finalize().into()
            }
        }
    }

    /// `H(prev_hash || record)`: the hash of one chain link.
    pub fn chain_hash(self, prev_hash: &[u8], record: &[u8]) -> [u8; HASH_LEN] {
        self.digest(&[prev_hash, record])
    }
}

impl std::fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for HashAlgorithm {
    type Err = crate::error::LedgerError;

    /// Parses `sha256` or `sm3` (case-insensitive, as written in a config file).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(&s.trim().to_ascii_lowercase()).ok_or_else(|| {
            crate::error::LedgerError::invalid(
                "hash_algorithm",
                format!("`{s}` is neither `sha256` nor `sm3`"),
            )
        })
    }
}

/// The `prev_hash` of the first record: 32 zero bytes.
pub const GENESIS_HASH: [u8; HASH_LEN] = [0u8; HASH_LEN];

/// Serialises a JSON value canonically (see the module docs).
pub fn canonical_json(v: &Value) -> String {
    let mut out = String::with_capacity(128);
    write_value(&mut out, v);
    out
}

fn write_value(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            // Sort explicitly: serde_json's map order depends on a cargo feature
            // (`preserve_order`) that any crate in the build may switch on.
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (k, val)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(out, k);
                out.push(':');
                write_value(out, val);
            }
            out.push('}');
        }
    }
}

/// Writes a JSON string literal with the minimal escapes of the frozen format.
pub(crate) fn write_str(out: &mut String, s: &str) {
    out.push('"');
    // Fast path: most ids and values need no escaping at all.
    if !s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        out.push_str(s);
        out.push('"');
        return;
    }
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// One field of a ledger record.
pub(crate) enum Field<'a> {
    Str(&'a str),
    OptStr(Option<&'a str>),
    Int(i64),
    /// Already canonical JSON text, embedded verbatim.
    Raw(&'a str),
    StrList(&'a [String]),
}

/// Encodes record fields as one canonical JSON object (keys sorted here, so callers
/// cannot get the order wrong).
pub(crate) fn encode_record(fields: &mut [(&str, Field<'_>)]) -> Vec<u8> {
    fields.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut out = String::with_capacity(256);
    out.push('{');
    for (i, (k, f)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(&mut out, k);
        out.push(':');
        match f {
            Field::Str(s) => write_str(&mut out, s),
            Field::OptStr(Some(s)) => write_str(&mut out, s),
            Field::OptStr(None) => out.push_str("null"),
            Field::Int(n) => {
                let _ = write!(out, "{n}");
            }
            Field::Raw(r) => out.push_str(r),
            Field::StrList(list) => {
                out.push('[');
                for (j, s) in list.iter().enumerate() {
                    if j > 0 {
                        out.push(',');
                    }
                    write_str(&mut out, s);
                }
                out.push(']');
            }
        }
    }
    out.push('}');
    out.into_bytes()
}

/// The columns of a stored event that the chain covers.
pub(crate) struct EventRecord<'a> {
    pub seq: i64,
    pub record_ref: i64,
    pub algo: &'a str,
    pub client_event_id: &'a str,
    pub vehicle: &'a str,
    pub device: &'a str,
    pub device_seq: i64,
    pub occurred_at: i64,
    pub received_at: i64,
    pub kind: &'a str,
    pub body: &'a str,
}

impl EventRecord<'_> {
    pub fn encode(&self) -> Vec<u8> {
        encode_record(&mut [
            ("algo", Field::Str(self.algo)),
            ("body", Field::Raw(self.body)),
            ("client_event_id", Field::Str(self.client_event_id)),
            ("device", Field::Str(self.device)),
            ("device_seq", Field::Int(self.device_seq)),
            ("kind", Field::Str(self.kind)),
            ("occurred_at", Field::Int(self.occurred_at)),
            ("received_at", Field::Int(self.received_at)),
            ("record", Field::Str("event")),
            ("ref", Field::Int(self.record_ref)),
            ("seq", Field::Int(self.seq)),
            ("vehicle", Field::Str(self.vehicle)),
        ])
    }
}

/// The columns of a stored incident that the chain covers.
pub(crate) struct IncidentRecord<'a> {
    pub seq: i64,
    pub record_ref: i64,
    pub algo: &'a str,
    pub incident_id: &'a str,
    pub vehicle: &'a str,
    pub district: Option<&'a str>,
    pub stream: Option<&'a str>,
    pub rule: &'a str,
    pub occurred_at: i64,
    pub evidence: &'a [String],
    pub body: &'a str,
}

impl IncidentRecord<'_> {
    pub fn encode(&self) -> Vec<u8> {
        encode_record(&mut [
            ("algo", Field::Str(self.algo)),
            ("body", Field::Raw(self.body)),
            ("district", Field::OptStr(self.district)),
            ("evidence", Field::StrList(self.evidence)),
            ("incident_id", Field::Str(self.incident_id)),
            ("occurred_at", Field::Int(self.occurred_at)),
            ("record", Field::Str("incident")),
            ("ref", Field::Int(self.record_ref)),
            ("rule", Field::Str(self.rule)),
            ("seq", Field::Int(self.seq)),
            ("stream", Field::OptStr(self.stream)),
            ("vehicle", Field::Str(self.vehicle)),
        ])
    }
}

/// `SHA-256(prev_hash || record)` (the v1 chain; see [`HashAlgorithm::chain_hash`]).
pub fn chain_hash(prev_hash: &[u8], record: &[u8]) -> [u8; HASH_LEN] {
    HashAlgorithm::Sha256.chain_hash(prev_hash, record)
}

/// The exact bytes an Ed25519 checkpoint signs: a domain tag, the ledger seq as
/// 8 bytes big-endian, and the head hash.
pub fn checkpoint_message(seq: u64, head_hash: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(CHECKPOINT_TAG.len() + 8 + head_hash.len());
    m.extend_from_slice(CHECKPOINT_TAG);
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(head_hash);
    m
}

/// Domain-separation tag of checkpoint signatures (includes its NUL terminator).
pub const CHECKPOINT_TAG: &[u8] = b"sortfleet-ledger/checkpoint/v1\0";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_sorts_keys_and_strips_whitespace() {
        let v = json!({"b": 1, "a": {"z": [1, 2.5, null], "y": "x\ny\u{1}\"é"}, "A": true});
        assert_eq!(
            canonical_json(&v),
            r#"{"A":true,"a":{"y":"x\ny\u0001\"é","z":[1,2.5,null]},"b":1}"#
        );
    }

    #[test]
    fn canonical_is_a_fixed_point_of_parse() {
        let v = json!({"k": [{"q": -3, "p": 1e-7}], "s": "\\ \t"});
        let c = canonical_json(&v);
        let back: Value = serde_json::from_str(&c).unwrap();
        assert_eq!(back, v);
        assert_eq!(canonical_json(&back), c);
    }

    #[test]
    fn event_record_is_frozen() {
        let r = EventRecord {
            seq: 7,
            record_ref: 5,
            algo: ALGO_SHA256,
            client_event_id: "c-1",
            vehicle: "V1",
            device: "D1",
            device_seq: 3,
            occurred_at: 1000,
            received_at: 2000,
            kind: "SCAN",
            body: r#"{"bin":"B1"}"#,
        };
        assert_eq!(
            String::from_utf8(r.encode()).unwrap(),
            r#"{"algo":"sha256","body":{"bin":"B1"},"client_event_id":"c-1","device":"D1","device_seq":3,"kind":"SCAN","occurred_at":1000,"received_at":2000,"record":"event","ref":5,"seq":7,"vehicle":"V1"}"#
        );
    }

    #[test]
    fn incident_record_is_frozen() {
        let ev = vec!["e1".to_owned(), "e2".to_owned()];
        let r = IncidentRecord {
            seq: 8,
            record_ref: 1,
            algo: ALGO_SHA256,
            incident_id: "i-1",
            vehicle: "V1",
            district: None,
            stream: Some("KITCHEN"),
            rule: "MIXED_TRIP",
            occurred_at: 5,
            evidence: &ev,
            body: "{}",
        };
        assert_eq!(
            String::from_utf8(r.encode()).unwrap(),
            r#"{"algo":"sha256","body":{},"district":null,"evidence":["e1","e2"],"incident_id":"i-1","occurred_at":5,"record":"incident","ref":1,"rule":"MIXED_TRIP","seq":8,"stream":"KITCHEN","vehicle":"V1"}"#
        );
    }

    #[test]
    fn chain_hash_matches_sha256_of_concatenation() {
        let h = chain_hash(&GENESIS_HASH, b"abc");
        let mut cat = GENESIS_HASH.to_vec();
        cat.extend_from_slice(b"abc");
        let direct: [u8; 32] = Sha256::digest(&cat).into();
        assert_eq!(h, direct);
        assert_ne!(h, chain_hash(&GENESIS_HASH, b"abd"));
    }

    #[test]
    fn sm3_matches_the_standard_test_vector() {
        // GB/T 32905-2016, Appendix A, example 1.
        assert_eq!(
            hex::encode(HashAlgorithm::Sm3.digest(&[b"abc"])),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
        // Example 2: "abcd" repeated 16 times (one full 512-bit block of input).
        assert_eq!(
            hex::encode(HashAlgorithm::Sm3.digest(&[b"abcd".repeat(16).as_slice()])),
            "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
        );
    }

    #[test]
    fn sm3_chain_hash_is_sm3_of_the_concatenation() {
        let prev = [0x5au8; HASH_LEN];
        let h = HashAlgorithm::Sm3.chain_hash(&prev, b"record");
        let mut cat = prev.to_vec();
        cat.extend_from_slice(b"record");
        assert_eq!(h, HashAlgorithm::Sm3.digest(&[&cat]));
        assert_ne!(h, HashAlgorithm::Sha256.chain_hash(&prev, b"record"));
    }

    #[test]
    fn algorithm_names_round_trip() {
        for a in HashAlgorithm::ALL {
            assert_eq!(HashAlgorithm::from_name(a.name()), Some(a));
            assert_eq!(a.to_string().parse::<HashAlgorithm>().unwrap(), a);
        }
        assert_eq!(
            " SM3 ".parse::<HashAlgorithm>().unwrap(),
            HashAlgorithm::Sm3
        );
        assert_eq!(HashAlgorithm::from_name("md5"), None);
        assert!("md5".parse::<HashAlgorithm>().is_err());
        assert_eq!(HashAlgorithm::default(), HashAlgorithm::Sha256);
    }
}
