//! Pseudonymisation: a person's identifier becomes a keyed hash (HMAC-SHA-256) under the
//! bureau's secret key, so the same person has the same pseudonym in every dataset and the
//! raw identifier never reaches the lake.

use std::collections::HashMap;
use std::sync::Arc;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::{IngestError, Result};

/// The bureau's secret key. It never lives in the lake.
#[derive(Clone)]
pub struct Key(Vec<u8>);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(…)")
    }
}

/// Characters of a pseudonym: the first 128 bits of the HMAC, in hex.
pub const PSEUDONYM_LEN: usize = 32;

impl Key {
    /// A key from its text form: 64 hex digits (what edulake writes), or any passphrase of at
    /// least 16 bytes.
    pub fn parse(text: &str) -> Result<Key> {
        let t = text.trim();
        if t.len() == 64 {
            if let Ok(bytes) = hex::decode(t) {
                return Ok(Key(bytes));
            }
        }
        if t.len() < 16 {
            return Err(IngestError::Config(
                "the pseudonymisation key is too short: give 64 hex digits or at least 16 characters".into(),
            ));
        }
        Ok(Key(t.as_bytes().to_vec()))
    }

    /// A new random key.
    pub fn generate() -> Key {
        let mut bytes = [0u8; 32];
        rand::Rng::fill(&mut rand::rng(), &mut bytes);
        Key(bytes.to_vec())
    }

    /// The text form written to a key file.
    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length")
    }

    /// A value that identifies the key without revealing it, kept in the lake so that an
    /// ingest under another key is refused instead of splitting every person in two.
    pub fn fingerprint(&self) -> String {
        let mut m = self.mac();
        m.update(b"edulake key fingerprint v1");
        hex::encode(&m.finalize().into_bytes()[..16])
    }

    /// The pseudonym of an identifier (see [`normalise_id`]).
    pub fn pseudonym(&self, raw: &str) -> String {
        let mut m = self.mac();
        m.update(normalise_id(raw).as_bytes());
        let digest = m.finalize().into_bytes();
        hex::encode(&digest[..PSEUDONYM_LEN / 2])
    }
}

/// The form an identifier is hashed in: without spaces and dashes, ASCII upper case, and a
/// phone number without its `+86` country code, so that the way a clerk typed it does not
/// split one person into two.
pub fn normalise_id(raw: &str) -> String {
    let mut s: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-' && *c != '\u{3000}')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if let Some(rest) = s.strip_prefix("+86") {
        s = rest.to_string();
    }
    s
}

/// Pseudonymises with a cache: an extract names each person many times.
pub struct Pseudonymiser<'k> {
    key: &'k Key,
    /// Seeded per process: the keys are a file's ids.
    cache: HashMap<String, Arc<str>, foldhash::fast::RandomState>,
}

impl<'k> Pseudonymiser<'k> {
    pub fn new(key: &'k Key) -> Self {
        Pseudonymiser {
            key,
            cache: HashMap::default(),
        }
    }

    pub fn pseudonym(&mut self, raw: &str) -> Arc<str> {
        if let Some(p) = self.cache.get(raw) {
            return p.clone();
        }
        let p: Arc<str> = self.key.pseudonym(raw).into();
        self.cache.insert(raw.to_string(), p.clone());
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_person_same_pseudonym() {
        let k = Key::parse(&"ab".repeat(32)).unwrap();
        assert_eq!(k.pseudonym("g1101"), k.pseudonym(" G 1101 "));
        assert_eq!(k.pseudonym("+86 138-0013-8000"), k.pseudonym("13800138000"));
        assert_ne!(k.pseudonym("G1101"), k.pseudonym("G1102"));
        assert_eq!(k.pseudonym("x").len(), PSEUDONYM_LEN);
        let other = Key::parse("another secret passphrase").unwrap();
        assert_ne!(k.pseudonym("G1101"), other.pseudonym("G1101"));
        assert!(Key::parse("short").is_err());
    }
}
