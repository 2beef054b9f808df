//! Secrets at rest: SMTP passwords, webhook signing secrets, header values
//! and Slack URLs are sealed with XChaCha20-Poly1305 under the instance key
//! before they reach the database (and so its backups). The key comes from
//! the config (`secret_key`) or a file in the data directory; without it a
//! sealed value cannot be read, and the API never returns one.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{AppError, AppResult};

/// The first byte of every sealed value: the format, so the scheme can
/// change later without guessing.
const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
/// Bound to every value: a sealed value from another purpose does not open.
const CONTEXT: &[u8] = b"leitstand secrets v1";

/// Seals and opens secrets with the instance key.
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

impl SecretBox {
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(key.into()),
        }
    }

    /// `plain` sealed: version, random nonce, ciphertext with its tag.
    pub fn seal(&self, plain: &[u8]) -> AppResult<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plain,
                    aad: CONTEXT,
                },
            )
            .map_err(|_| AppError::internal("sealing a secret failed"))?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// The plain bytes of a sealed value; an error when it was sealed with
    /// another key or altered.
    pub fn open(&self, sealed: &[u8]) -> AppResult<Vec<u8>> {
        let unreadable = || {
            AppError::Conflict(
                "a stored secret cannot be read with this instance's key (was the key changed, or \
                 the database restored elsewhere?); enter the secret again"
                    .into(),
            )
        };
        let (&version, rest) = sealed.split_first().ok_or_else(unreadable)?;
        if version != VERSION || rest.len() < NONCE_LEN {
            return Err(unreadable());
        }
        let (nonce, body) = rest.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| unreadable())?;
        self.cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: body,
                    aad: CONTEXT,
                },
            )
            .map_err(|_| unreadable())
    }

    pub fn seal_json<T: Serialize>(&self, value: &T) -> AppResult<Vec<u8>> {
        let plain = serde_json::to_vec(value)
            .map_err(|e| AppError::internal(format!("encoding a secret: {e}")))?;
        self.seal(&plain)
    }

    pub fn open_json<T: DeserializeOwned>(&self, sealed: &[u8]) -> AppResult<T> {
        let plain = self.open(sealed)?;
        serde_json::from_slice(&plain)
            .map_err(|e| AppError::internal(format!("decoding a secret: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_with_its_key_only() {
        let a = SecretBox::new(&[7; 32]);
        let b = SecretBox::new(&[8; 32]);
        let sealed = a.seal(b"hunter2").expect("seal");
        assert!(
            !sealed.windows(7).any(|w| w == b"hunter2"),
            "not in the clear"
        );
        assert_eq!(a.open(&sealed).expect("open"), b"hunter2");
        assert!(b.open(&sealed).is_err(), "another key does not open it");
        // Two seals of the same value differ (fresh nonce).
        assert_ne!(a.seal(b"hunter2").expect("seal"), sealed);
    }

    #[test]
    fn an_altered_or_truncated_value_does_not_open() {
        let a = SecretBox::new(&[7; 32]);
        let mut sealed = a.seal(b"secret").expect("seal");
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(a.open(&sealed).is_err());
        assert!(a.open(&[]).is_err());
        assert!(a.open(&[VERSION, 1, 2, 3]).is_err());
        assert!(a.open(&[9; 60]).is_err(), "unknown version");
    }
}
