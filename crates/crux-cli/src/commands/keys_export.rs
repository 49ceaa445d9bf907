//! `crux keys export` / `crux keys import`: the vault's way back (the roadmap's rollback). Export writes every
//! stored key to a file, sealed with a passphrase by default (PBKDF2-HMAC-SHA256, 600 000 rounds, → AES-256-GCM);
//! `--plaintext` writes them readable, with a warning. Import reads such a file (asking for its passphrase) and
//! stores each key in the vault under the current vault key. A wrong passphrase changes nothing.

use std::io::{IsTerminal, Read};
use std::num::NonZeroU32;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use crux_llm::ProviderId;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::exit::Failure;

/// File format marker.
const FORMAT: &str = "crux-keys-export";
/// PBKDF2 rounds (OWASP's 2023 figure for HMAC-SHA256).
const ROUNDS: u32 = 600_000;
const SALT_LEN: usize = 16;

/// The export file.
#[derive(Debug, Serialize, Deserialize)]
struct ExportFile {
    format: String,
    version: u32,
    /// `none` or `pbkdf2-sha256+aes-256-gcm`.
    encryption: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rounds: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    salt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ciphertext: Option<String>,
    /// Plaintext exports only: provider → key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    keys: Option<std::collections::BTreeMap<String, String>>,
}

fn cipher(passphrase: &str, salt: &[u8], rounds: u32) -> Result<LessSafeKey, Failure> {
    let mut key = Zeroizing::new([0u8; 32]);
    let rounds = NonZeroU32::new(rounds)
        .ok_or_else(|| Failure::usage("invalid export file: zero rounds"))?;
    ring::pbkdf2::derive(
        ring::pbkdf2::PBKDF2_HMAC_SHA256,
        rounds,
        salt,
        passphrase.as_bytes(),
        key.as_mut(),
    );
    let unbound = UnboundKey::new(&AES_256_GCM, key.as_ref())
        .map_err(|_| Failure::runtime("cannot set up AES-256-GCM"))?;
    Ok(LessSafeKey::new(unbound))
}

/// Seal `keys` with `passphrase` (or write them plainly) as the export file's JSON.
pub fn seal(keys: &[(String, SecretString)], passphrase: Option<&str>) -> Result<String, Failure> {
    let map: std::collections::BTreeMap<String, String> = keys
        .iter()
        .map(|(p, k)| (p.clone(), k.expose_secret().to_owned()))
        .collect();
    let file = match passphrase {
        None => ExportFile {
            format: FORMAT.into(),
            version: 1,
            encryption: "none".into(),
            rounds: None,
            salt: None,
            nonce: None,
            ciphertext: None,
            keys: Some(map),
        },
        Some(pass) => {
            let rng = SystemRandom::new();
            let mut salt = [0u8; SALT_LEN];
            let mut nonce = [0u8; NONCE_LEN];
            rng.fill(&mut salt)
                .and_then(|()| rng.fill(&mut nonce))
                .map_err(|_| Failure::runtime("no system randomness"))?;
            let mut data = Zeroizing::new(
                serde_json::to_vec(&map).map_err(|e| Failure::runtime(e.to_string()))?,
            );
            cipher(pass, &salt, ROUNDS)?
                .seal_in_place_append_tag(
                    Nonce::assume_unique_for_key(nonce),
                    Aad::from(FORMAT.as_bytes()),
                    &mut *data,
                )
                .map_err(|_| Failure::runtime("encryption failed"))?;
            ExportFile {
                format: FORMAT.into(),
                version: 1,
                encryption: "pbkdf2-sha256+aes-256-gcm".into(),
                rounds: Some(ROUNDS),
                salt: Some(B64.encode(salt)),
                nonce: Some(B64.encode(nonce)),
                ciphertext: Some(B64.encode(&*data)),
                keys: None,
            }
        }
    };
    serde_json::to_string_pretty(&file).map_err(|e| Failure::runtime(e.to_string()))
}

/// Whether an export file needs a passphrase to open.
pub fn is_sealed(text: &str) -> Result<bool, Failure> {
    Ok(parse(text)?.encryption != "none")
}

fn parse(text: &str) -> Result<ExportFile, Failure> {
    let file: ExportFile = serde_json::from_str(text)
        .map_err(|e| Failure::usage(format!("not a crux keys export file: {e}")))?;
    if file.format != FORMAT || file.version != 1 {
        return Err(Failure::usage(
            "not a crux keys export file (format/version)",
        ));
    }
    Ok(file)
}

/// The keys in an export file, by provider; a wrong passphrase is a usage error and returns nothing.
pub fn open(
    text: &str,
    passphrase: Option<&str>,
) -> Result<Vec<(ProviderId, SecretString)>, Failure> {
    let file = parse(text)?;
    let map: std::collections::BTreeMap<String, String> =
        match (file.encryption.as_str(), file.keys) {
            ("none", Some(keys)) => keys,
            ("pbkdf2-sha256+aes-256-gcm", _) => {
                let pass = passphrase.ok_or_else(|| {
                    Failure::usage("this export is sealed: a passphrase is needed")
                })?;
                let field = |v: Option<String>, name: &str| {
                    v.and_then(|s| B64.decode(s).ok())
                        .ok_or_else(|| Failure::usage(format!("invalid export file: bad {name}")))
                };
                let salt = field(file.salt, "salt")?;
                let nonce: [u8; NONCE_LEN] = field(file.nonce, "nonce")?
                    .try_into()
                    .map_err(|_| Failure::usage("invalid export file: bad nonce"))?;
                let mut data = Zeroizing::new(field(file.ciphertext, "ciphertext")?);
                let plain = cipher(pass, &salt, file.rounds.unwrap_or(ROUNDS))?
                .open_in_place(
                    Nonce::assume_unique_for_key(nonce),
                    Aad::from(FORMAT.as_bytes()),
                    &mut data,
                )
                .map_err(|_| {
                    Failure::usage(
                        "wrong passphrase (or the export file is damaged); nothing was imported",
                    )
                })?;
                serde_json::from_slice(plain)
                    .map_err(|_| Failure::usage("invalid export file: bad content"))?
            }
            (other, _) => {
                return Err(Failure::usage(format!(
                    "unknown export encryption '{other}'"
                )));
            }
        };
    map.into_iter()
        .map(|(p, k)| {
            let id = p
                .parse::<ProviderId>()
                .map_err(|e| Failure::usage(format!("export file: {e}")))?;
            Ok((id, SecretString::from(k)))
        })
        .collect()
}

/// The passphrase: `CRUX_EXPORT_PASSPHRASE`, else the first line of stdin when `from_stdin` or stdin is not a
/// terminal, else a hidden prompt (asked twice when `confirm`).
pub fn passphrase(from_stdin: bool, confirm: bool) -> Result<Zeroizing<String>, Failure> {
    if let Ok(p) = std::env::var("CRUX_EXPORT_PASSPHRASE")
        && !p.is_empty()
    {
        return Ok(Zeroizing::new(p));
    }
    let stdin = std::io::stdin();
    let mut text = Zeroizing::new(String::new());
    if from_stdin || !stdin.is_terminal() {
        stdin
            .lock()
            .read_to_string(&mut text)
            .map_err(|e| Failure::runtime(format!("cannot read the passphrase: {e}")))?;
        let line = text.lines().next().unwrap_or("").to_owned();
        return non_empty(Zeroizing::new(line));
    }
    super::keys::prompt_hidden("export passphrase: ", &mut text)?;
    if confirm {
        let mut again = Zeroizing::new(String::new());
        super::keys::prompt_hidden("again: ", &mut again)?;
        if again.trim_end() != text.trim_end() {
            return Err(Failure::usage("the passphrases differ"));
        }
    }
    non_empty(Zeroizing::new(text.trim_end().to_owned()))
}

fn non_empty(p: Zeroizing<String>) -> Result<Zeroizing<String>, Failure> {
    if p.len() < 8 {
        return Err(Failure::usage("the passphrase needs at least 8 characters"));
    }
    Ok(p)
}

/// Write `text` to `path` with mode 0600 (refusing to overwrite).
pub fn write_private(path: &Path, text: &str) -> Result<(), Failure> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Failure::usage(format!("cannot create {}: {e}", path.display())))?;
    f.write_all(text.as_bytes())
        .map_err(|e| Failure::runtime(format!("cannot write {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_round_trip_and_wrong_passphrase() {
        let keys = vec![("openai".to_owned(), SecretString::from("sk-one"))];
        let text = seal(&keys, Some("correct horse")).unwrap();
        assert!(!text.contains("sk-one"));
        assert!(is_sealed(&text).unwrap());
        let back = open(&text, Some("correct horse")).unwrap();
        assert_eq!(back[0].1.expose_secret(), "sk-one");
        let wrong = open(&text, Some("wrong horse")).unwrap_err();
        assert_eq!(wrong.code, 2);
        let plain = seal(&keys, None).unwrap();
        assert!(plain.contains("sk-one") && !is_sealed(&plain).unwrap());
    }
}
