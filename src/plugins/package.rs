//! The package: one file holding a plugin's manifest and component, signed by
//! its vendor with Ed25519.
//!
//! Layout (all integers big-endian):
//!
//! ```text
//! magic       8 bytes   "ITBMPKG" 0x01  (the last byte is the format version)
//! manifest    u32 length, then that many bytes of UTF-8 JSON
//! component   u32 length, then that many bytes of WebAssembly component
//! signed      1 byte    0 = unsigned, 1 = signed
//! [if signed]
//! public key  32 bytes  the vendor's Ed25519 verifying key
//! signature   64 bytes  Ed25519 over every byte before `signed`
//! ```
//!
//! The signature covers the magic, both lengths, the manifest and the
//! component, so changing any byte of them (or moving bytes between them)
//! breaks it; nothing may follow the signature.

use ed25519_dalek::{Signature, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
// The writer is a file of its own because build.rs signs the built-in plugins with it too.
pub use super::package_write::{MAGIC, write};

/// Largest manifest accepted.
pub const MAX_MANIFEST_BYTES: usize = 1 << 20;
/// Largest component accepted.
pub const MAX_COMPONENT_BYTES: usize = 32 << 20;
/// Largest package accepted, with room for the framing.
pub const MAX_PACKAGE_BYTES: usize = MAX_MANIFEST_BYTES + MAX_COMPONENT_BYTES + 1024;

/// A package read from its bytes; the signature is checked, the signer's trust
/// is not (see [`Package::signer`]).
#[derive(Debug, Clone)]
pub struct Package {
    pub manifest: Vec<u8>,
    pub component: Vec<u8>,
    /// The key that signed it; `None` for an unsigned package.
    pub signer: Option<VerifyingKey>,
}

/// Reads a package and verifies its signature, if it has one. A refusal
/// points at `/package` (framing) or `/signature`.
pub fn read(bytes: &[u8]) -> Result<Package> {
    let malformed = |why: &str| Error::invalid("/package", format!("not an itbm plugin package: {why}"));
    let mut rest = bytes.strip_prefix(MAGIC.as_slice()).ok_or_else(|| malformed("it does not start with ITBMPKG 1"))?;
    let manifest = take_framed(&mut rest, MAX_MANIFEST_BYTES).ok_or_else(|| malformed("the manifest is cut short or too large"))?;
    let component = take_framed(&mut rest, MAX_COMPONENT_BYTES).ok_or_else(|| malformed("the component is cut short or too large"))?;
    let signed_len = bytes.len() - rest.len();
    let signer = match rest {
        [0] => None,
        [1, trailer @ ..] if trailer.len() == 32 + 64 => {
            let (key, signature) = trailer.split_at(32);
            let key = VerifyingKey::from_bytes(key.try_into().expect("32 bytes"))
                .map_err(|_| Error::invalid("/signature", "the signer's public key is not a valid Ed25519 key"))?;
            let signature = Signature::from_bytes(signature.try_into().expect("64 bytes"));
            key.verify(&bytes[..signed_len], &signature).map_err(|_| {
                Error::invalid("/signature", "the signature does not match the package: it was changed after it was signed")
            })?;
            Some(key)
        }
        _ => return Err(malformed("the signature block is malformed, or bytes follow it")),
    };
    Ok(Package { manifest: manifest.to_vec(), component: component.to_vec(), signer })
}

fn take_framed<'a>(rest: &mut &'a [u8], max: usize) -> Option<&'a [u8]> {
    let (len, after) = rest.split_first_chunk::<4>()?;
    let len = u32::from_be_bytes(*len) as usize;
    if len > max || after.len() < len {
        return None;
    }
    let (taken, after) = after.split_at(len);
    *rest = after;
    Some(taken)
}

/// The hex SHA-256 of some bytes: a component's identity in the compile cache
/// and in the database.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// A public key as admins and vendors exchange it: standard base64 of its 32 bytes.
pub fn encode_key(key: &VerifyingKey) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(key.as_bytes())
}

pub fn decode_key(text: &str) -> Option<VerifyingKey> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD.decode(text.trim()).ok()?;
    VerifyingKey::from_bytes(&bytes.try_into().ok()?).ok()
}

/// A new signing key from the operating system's random source.
pub fn generate_key() -> SigningKey {
    let mut seed = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut seed);
    SigningKey::from_bytes(&seed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pointer(result: Result<Package>) -> String {
        match result {
            Err(Error::Validation(errors)) => errors[0].pointer.clone().unwrap(),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_signed_package_reads_back_with_its_signer() {
        let key = generate_key();
        let package = read(&write(b"{}", b"\0asm", Some(&key))).unwrap();
        assert_eq!((package.manifest.as_slice(), package.component.as_slice()), (b"{}".as_slice(), b"\0asm".as_slice()));
        assert_eq!(package.signer, Some(key.verifying_key()));
        assert_eq!(read(&write(b"{}", b"\0asm", None)).unwrap().signer, None);
    }

    #[test]
    fn changing_any_signed_byte_breaks_the_signature() {
        let bytes = write(br#"{"a":1}"#, b"\0asm\x01\0\0\0", Some(&generate_key()));
        let signed_len = bytes.len() - 97;
        for i in MAGIC.len()..signed_len {
            let mut tampered = bytes.clone();
            tampered[i] ^= 0x01;
            let refused = read(&tampered);
            assert!(refused.is_err(), "byte {i} changed unnoticed");
        }
        let mut manifest_changed = bytes.clone();
        manifest_changed[13] = b'b';
        assert_eq!(pointer(read(&manifest_changed)), "/signature");
    }

    #[test]
    fn truncated_or_padded_packages_are_refused_as_malformed() {
        let bytes = write(b"{}", b"\0asm", Some(&generate_key()));
        assert_eq!(pointer(read(&bytes[..bytes.len() - 1])), "/package");
        assert_eq!(pointer(read(&[bytes.as_slice(), b"x"].concat())), "/package");
        assert_eq!(pointer(read(b"PK\x03\x04")), "/package");
    }

    #[test]
    fn keys_round_trip_through_base64() {
        let key = generate_key().verifying_key();
        assert_eq!(decode_key(&encode_key(&key)), Some(key));
        assert_eq!(decode_key("bm90IGEga2V5"), None);
    }
}
