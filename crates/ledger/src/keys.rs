//! The Ed25519 key that signs checkpoints.

use std::path::Path;

use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::error::{LedgerError, Result};

/// Signs ledger checkpoints. Built from 32 seed bytes (the Ed25519 secret key).
#[derive(Clone)]
pub struct CheckpointKey {
    signing: SigningKey,
    key_id: String,
}

impl std::fmt::Debug for CheckpointKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("CheckpointKey")
            .field("key_id", &self.key_id)
            .finish()
    }
}

impl CheckpointKey {
    /// Key from its 32-byte seed.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let signing = SigningKey::from_bytes(&seed);
        let key_id = key_id(&signing.verifying_key());
        Self { signing, key_id }
    }

    /// Key from 64 hex characters (surrounding whitespace ignored).
    pub fn from_hex(s: &str) -> Result<Self> {
        let bytes = hex::decode(s.trim()).map_err(|e| LedgerError::Key(format!("bad hex: {e}")))?;
        let seed: [u8; 32] = bytes
            .try_into()
            .map_err(|_| LedgerError::Key("seed must be 32 bytes (64 hex characters)".into()))?;
        Ok(Self::from_seed(seed))
    }

    /// Key from a file holding either 64 hex characters or exactly 32 raw bytes.
    pub fn from_file(path: &Path) -> Result<Self> {
        let data = std::fs::read(path).map_err(|source| LedgerError::Io {
            path: path.to_owned(),
            source,
        })?;
        if let Ok(text) = std::str::from_utf8(&data)
            && text.trim().len() == 64
        {
            return Self::from_hex(text);
        }
        let seed: [u8; 32] = data.try_into().map_err(|_| {
            LedgerError::Key(format!(
                "{}: expected 64 hex characters or 32 raw bytes",
                path.display()
            ))
        })?;
        Ok(Self::from_seed(seed))
    }

    /// The public half, which is stored with every checkpoint.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    /// The secret seed as 64 hex characters, the format [`CheckpointKey::from_file`] reads.
    pub fn seed_hex(&self) -> String {
        hex::encode(self.signing.to_bytes())
    }

    /// The public key as 64 hex characters (what a regulator pins).
    pub fn public_key_hex(&self) -> String {
        hex::encode(self.verifying_key().to_bytes())
    }

    /// Short id of the key: hex of the first 8 bytes of SHA-256(public key).
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub(crate) fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.signing.sign(msg).to_bytes()
    }
}

/// Key id of a public key: hex of the first 8 bytes of its SHA-256.
pub fn key_id(vk: &VerifyingKey) -> String {
    let d = Sha256::digest(vk.as_bytes());
    hex::encode(&d[..8])
}

/// Parses a public key from 64 hex characters (for `--trusted-key`).
pub fn parse_public_key_hex(s: &str) -> Result<VerifyingKey> {
    let bytes = hex::decode(s.trim()).map_err(|e| LedgerError::Key(format!("bad hex: {e}")))?;
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| LedgerError::Key("public key must be 32 bytes (64 hex characters)".into()))?;
    VerifyingKey::from_bytes(&arr).map_err(|e| LedgerError::Key(format!("not an Ed25519 key: {e}")))
}
