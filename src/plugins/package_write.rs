//! Writing a package (the layout is documented in `package.rs`). A file of its
//! own, depending on nothing but `ed25519_dalek`, because `build.rs` includes
//! it to package and sign the built-in plugins: one writer, not two.

use ed25519_dalek::{Signer, SigningKey};

pub const MAGIC: &[u8; 8] = b"ITBMPKG\x01";

/// Writes a package; signs it when `key` is given.
pub fn write(manifest: &[u8], component: &[u8], key: Option<&SigningKey>) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(manifest.len() + component.len() + 120);
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&(manifest.len() as u32).to_be_bytes());
    bytes.extend_from_slice(manifest);
    bytes.extend_from_slice(&(component.len() as u32).to_be_bytes());
    bytes.extend_from_slice(component);
    match key {
        None => bytes.push(0),
        Some(key) => {
            let signature = key.sign(&bytes);
            bytes.push(1);
            bytes.extend_from_slice(key.verifying_key().as_bytes());
            bytes.extend_from_slice(&signature.to_bytes());
        }
    }
    bytes
}
