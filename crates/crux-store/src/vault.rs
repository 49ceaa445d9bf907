//! The key vault's cryptography: AES-256-GCM with a random 96-bit nonce per record and the row bound in the AAD.
//!
//! Stored form: `v1:` + base64(nonce ‖ ciphertext ‖ tag), AAD `crux:v1:<provider>`, so a ciphertext copied to
//! another provider's row does not decrypt. Plaintext lives only in [`SecretString`] / zeroized buffers.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use secrecy::SecretString;
use zeroize::Zeroizing;

use crate::error::{Result, StoreError};

const PREFIX: &str = "v1:";

/// The 32-byte master key that encrypts stored provider keys. `Debug` never shows it; the bytes (of every clone)
/// are zeroed on drop.
#[derive(Clone)]
pub struct VaultKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for VaultKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VaultKey(**redacted**)")
    }
}

impl VaultKey {
    /// A fresh key from the operating system's random number generator.
    pub fn generate() -> Result<VaultKey> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        SystemRandom::new()
            .fill(bytes.as_mut())
            .map_err(|_| StoreError::Random)?;
        Ok(VaultKey(bytes))
    }

    /// Parses the base64 text form (standard or URL-safe alphabet, padding optional, surrounding whitespace
    /// ignored). Anything but exactly 32 bytes is rejected.
    pub fn from_base64(text: &str) -> Result<VaultKey> {
        let text = text.trim();
        let decoded = Zeroizing::new(
            base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(text.trim_end_matches('='))
                .or_else(|_| {
                    base64::engine::general_purpose::URL_SAFE_NO_PAD
                        .decode(text.trim_end_matches('='))
                })
                .map_err(|_| StoreError::InvalidVaultKey("not valid base64".into()))?,
        );
        let bytes: [u8; 32] = decoded.as_slice().try_into().map_err(|_| {
            StoreError::InvalidVaultKey(format!(
                "expected 32 bytes, got {} (generate one with `crux keys init`)",
                decoded.len()
            ))
        })?;
        Ok(VaultKey(Zeroizing::new(bytes)))
    }

    /// The base64 text form, for writing the key file. Handle with care: this is the secret itself.
    pub fn to_base64(&self) -> SecretString {
        SecretString::from(STANDARD.encode(self.0.as_ref()))
    }

    fn aead(&self) -> Result<LessSafeKey> {
        UnboundKey::new(&AES_256_GCM, self.0.as_ref())
            .map(LessSafeKey::new)
            .map_err(|_| StoreError::InvalidVaultKey("AES-256-GCM rejected the key".into()))
    }

    /// Encrypts `plaintext` for the row of `provider`.
    pub fn seal(&self, provider: &str, plaintext: &str) -> Result<String> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| StoreError::Random)?;
        let aad = aad(provider);
        let mut buf = Zeroizing::new(Vec::with_capacity(plaintext.len() + AES_256_GCM.tag_len()));
        buf.extend_from_slice(plaintext.as_bytes());
        self.aead()?
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_bytes()),
                &mut *buf,
            )
            .map_err(|_| StoreError::Corrupt("encryption failed".into()))?;
        let mut out = Vec::with_capacity(NONCE_LEN + buf.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&buf);
        Ok(format!("{PREFIX}{}", STANDARD.encode(out)))
    }

    /// Decrypts a stored value of `provider`'s row. A wrong key (or a value moved from another row) gives
    /// [`StoreError::VaultMismatch`]; a value that is not in the `v1:` form gives [`StoreError::Corrupt`].
    pub fn open(&self, provider: &str, stored: &str) -> Result<SecretString> {
        let body = stored.strip_prefix(PREFIX).ok_or_else(|| {
            StoreError::Corrupt(format!("the {provider} key is not in the v1 vault format"))
        })?;
        let raw = STANDARD
            .decode(body)
            .map_err(|_| StoreError::Corrupt(format!("the {provider} key is not valid base64")))?;
        if raw.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return Err(StoreError::Corrupt(format!(
                "the {provider} key is truncated"
            )));
        }
        let (nonce, sealed) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| StoreError::Corrupt("bad nonce".into()))?;
        let aad = aad(provider);
        let mut buf = Zeroizing::new(sealed.to_vec());
        let plain = self
            .aead()?
            .open_in_place(nonce, Aad::from(aad.as_bytes()), buf.as_mut_slice())
            .map_err(|_| StoreError::VaultMismatch)?;
        let text = String::from_utf8(plain.to_vec())
            .map_err(|_| StoreError::Corrupt(format!("the {provider} key is not UTF-8")))?;
        Ok(SecretString::from(text))
    }
}

fn aad(provider: &str) -> String {
    format!("crux:v1:{provider}")
}

/// A display form that never reveals a usable key: the vendor prefix (`sk-`, `gsk_`, `xai-`, …), an ellipsis and
/// the last four characters, e.g. `sk-…abcd`; short values show only `…` and their last two characters.
pub fn mask_secret(secret: &str) -> String {
    let chars: Vec<char> = secret.trim().chars().collect();
    if chars.len() < 12 {
        let tail: String = chars[chars.len().saturating_sub(2)..].iter().collect();
        return if chars.len() < 6 {
            "…".to_owned()
        } else {
            format!("…{tail}")
        };
    }
    let prefix_end = chars
        .iter()
        .take(8)
        .position(|c| *c == '-' || *c == '_')
        .map_or(0, |i| i + 1);
    let prefix: String = chars[..prefix_end].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{prefix}…{tail}")
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn seal_open_round_trip_and_aad_binding() {
        let key = VaultKey::generate().unwrap();
        let stored = key.seal("openai", "sk-test-1234567890").unwrap();
        assert!(stored.starts_with("v1:"));
        assert!(!stored.contains("sk-test"));
        assert_eq!(
            key.open("openai", &stored).unwrap().expose_secret(),
            "sk-test-1234567890"
        );
        assert!(matches!(
            key.open("anthropic", &stored),
            Err(StoreError::VaultMismatch)
        ));
        let other = VaultKey::generate().unwrap();
        assert!(matches!(
            other.open("openai", &stored),
            Err(StoreError::VaultMismatch)
        ));
        assert_ne!(stored, key.seal("openai", "sk-test-1234567890").unwrap());
        assert!(matches!(
            key.open("openai", "plain"),
            Err(StoreError::Corrupt(_))
        ));
    }

    #[test]
    fn base64_forms_and_debug() {
        let key = VaultKey::generate().unwrap();
        let text = key.to_base64();
        let again = VaultKey::from_base64(&format!("  {}\n", text.expose_secret())).unwrap();
        let sealed = key.seal("x", "v").unwrap();
        assert_eq!(again.open("x", &sealed).unwrap().expose_secret(), "v");
        assert!(VaultKey::from_base64("c2hvcnQ=").is_err());
        assert!(VaultKey::from_base64("!!!").is_err());
        assert_eq!(format!("{key:?}"), "VaultKey(**redacted**)");
    }

    #[test]
    fn masks() {
        assert_eq!(mask_secret("sk-proj-abcdefghijklmnop1234"), "sk-…1234");
        assert_eq!(mask_secret("gsk_abcdefghijklmnopqrstu9876"), "gsk_…9876");
        assert_eq!(mask_secret("AIzaSyAbcdefghijklmnopqrstuv"), "…stuv");
        assert_eq!(mask_secret("short1"), "…t1");
        assert_eq!(mask_secret("abc"), "…");
    }
}
