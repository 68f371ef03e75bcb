//! Instance secrets, encrypted at rest with the server's key
//! (`<data-dir>/secret-key`, created on first start, mode 0600) using
//! ChaCha20-Poly1305. The instance id is the associated data, so a ciphertext
//! copied onto another instance does not decrypt. Replicas of one database
//! must share the key file.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};

/// Named secret values. Debug output never shows the values.
#[derive(Clone, Default, PartialEq)]
pub struct Secrets(pub BTreeMap<String, String>);

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

pub struct SecretBox {
    cipher: ChaCha20Poly1305,
}

impl SecretBox {
    pub fn load_or_create(path: &Path) -> anyhow::Result<SecretBox> {
        let key = crate::auth::keys::load_or_create(path, 32)?;
        let cipher = ChaCha20Poly1305::new_from_slice(&key).map_err(|_| anyhow::anyhow!("{} must hold a 32-byte key", path.display()))?;
        Ok(SecretBox { cipher })
    }

    /// Encrypts `secrets` for the instance `owner`: base64 of nonce and ciphertext.
    pub fn seal(&self, owner: &str, secrets: &Secrets) -> String {
        let mut nonce = [0u8; 12];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut nonce);
        let plaintext = serde_json::to_vec(&secrets.0).expect("a map of strings serialises");
        let sealed = self
            .cipher
            .encrypt(&Nonce::from(nonce), Payload { msg: &plaintext, aad: owner.as_bytes() })
            .expect("ChaCha20-Poly1305 encrypts any message of this size");
        STANDARD.encode([nonce.as_slice(), &sealed].concat())
    }

    pub fn open(&self, owner: &str, sealed: &str) -> anyhow::Result<Secrets> {
        let bytes = STANDARD.decode(sealed)?;
        anyhow::ensure!(bytes.len() > 12, "the sealed secrets are cut short");
        let (nonce, ciphertext) = bytes.split_at(12);
        let nonce = Nonce::from(<[u8; 12]>::try_from(nonce).expect("12 bytes"));
        let plaintext = self
            .cipher
            .decrypt(&nonce, Payload { msg: ciphertext, aad: owner.as_bytes() })
            .map_err(|_| anyhow::anyhow!("the secrets of {owner} do not decrypt with this server's secret-key"))?;
        Ok(Secrets(serde_json::from_slice(&plaintext)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_round_trip_for_their_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let secret_box = SecretBox::load_or_create(&dir.path().join("secret-key")).unwrap();
        let secrets = Secrets(BTreeMap::from([("token".to_owned(), "s3cr3t".to_owned())]));
        let sealed = secret_box.seal("instance-a", &secrets);
        assert!(!sealed.contains("s3cr3t"));
        assert_eq!(secret_box.open("instance-a", &sealed).unwrap(), secrets);
        assert!(secret_box.open("instance-b", &sealed).is_err(), "bound to its instance");
        assert_eq!(format!("{secrets:?}"), "[\"token\"]", "Debug shows names, never values");
    }
}
