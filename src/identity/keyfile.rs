//! The encrypted key file: an Ed25519 seed sealed with XChaCha20-Poly1305 under a key derived from a
//! passphrase by Argon2id. The public parts (format, name, purpose, public key, KDF parameters) are
//! authenticated as associated data, so editing any of them makes decryption fail.

use crate::ledger::PublicKey;
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

pub(crate) const FORMAT: &str = "rollcall-key/v1";

/// Environment variable that makes *new* keys use a very cheap KDF. For tests only: such keys can be
/// brute-forced. Honoured only by debug builds (`cfg!(debug_assertions)`); a release build ignores it.
pub(crate) const INSECURE_KDF_ENV: &str = "ROLLCALL_INSECURE_FAST_KDF";

/// The weakest Argon2id memory (KiB) a key may use to be unlocked by a release build: the default.
pub(crate) const MIN_M_KIB: u32 = 64 * 1024;
/// The fewest Argon2id passes a key may use to be unlocked by a release build: the default.
pub(crate) const MIN_T: u32 = 3;
/// The most memory (KiB), passes and lanes a key file may ask the KDF for.
const MAX_M_KIB: u32 = 1024 * 1024;
const MAX_T: u32 = 10;
const MAX_P: u32 = 4;

/// Whether this build lets weak keys (test and demo keys) be created from the environment and unlocked.
pub(crate) fn weak_keys_allowed_by_build() -> bool {
    cfg!(debug_assertions)
}

/// Argon2id parameters recorded in the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    pub alg: String,
    pub version: u32,
    pub m_kib: u32,
    pub t: u32,
    pub p: u32,
    pub salt: String,
}

impl KdfParams {
    /// Weaker than the default parameters (fewer KiB or passes): such a key can be brute-forced.
    pub(crate) fn is_weak(&self) -> bool {
        self.m_kib < MIN_M_KIB || self.t < MIN_T
    }

    /// `argon2id m=65536KiB t=3 p=1`, for listings and messages.
    pub(crate) fn describe(&self) -> String {
        format!("{} m={}KiB t={} p={}", self.alg, self.m_kib, self.t, self.p)
    }

    /// Refuses a weak key unless `weak_allowed` (a debug build, or a throwaway demo keystore).
    pub fn check_strength(&self, weak_allowed: bool) -> Result<(), KeyFileError> {
        if self.is_weak() && !weak_allowed {
            return Err(KeyFileError::TooWeak(format!(
                "its KDF ({}) is weaker than the minimum (m={MIN_M_KIB}KiB t={MIN_T}) and could be brute-forced",
                self.describe()
            )));
        }
        Ok(())
    }
}

/// Whether the key belongs to a person or to a ledger origin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Purpose {
    Person,
    Origin,
}

/// The key file as stored (JSON).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyFile {
    pub format: String,
    pub name: String,
    pub purpose: Purpose,
    pub public_key: String,
    pub created: String,
    pub kdf: KdfParams,
    pub nonce: String,
    pub ciphertext: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyFileError {
    #[error("wrong passphrase")]
    WrongPassphrase,
    #[error("{0}")]
    Damaged(String),
    #[error("random number generator failed: {0}")]
    Random(String),
    #[error("{0}")]
    TooWeak(String),
}

#[derive(Serialize)]
struct Aad<'a> {
    format: &'a str,
    name: &'a str,
    purpose: Purpose,
    public_key: &'a str,
    kdf: &'a KdfParams,
}

/// How hard new key files are to brute-force.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KdfCost {
    /// Argon2id, 64 MiB, 3 passes (unless `ROLLCALL_INSECURE_FAST_KDF=1` in a debug build).
    Default,
    /// Almost free: for throwaway demo and test keys only.
    Throwaway,
}

fn params(cost: KdfCost) -> (u32, u32, u32) {
    let from_env = weak_keys_allowed_by_build() && std::env::var_os(INSECURE_KDF_ENV).is_some_and(|v| v == "1");
    if cost == KdfCost::Throwaway || from_env {
        (64, 1, 1)
    } else {
        // 64 MiB, 3 passes: RFC 9106's second recommended option, at one lane.
        (64 * 1024, 3, 1)
    }
}

fn random<const N: usize>() -> Result<[u8; N], KeyFileError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| KeyFileError::Random(e.to_string()))?;
    Ok(b)
}

/// A fresh random Ed25519 signing key.
pub(crate) fn generate() -> Result<SigningKey, KeyFileError> {
    let seed = Zeroizing::new(random::<32>()?);
    Ok(SigningKey::from_bytes(&seed))
}

fn derive(passphrase: &str, kdf: &KdfParams) -> Result<Zeroizing<[u8; 32]>, KeyFileError> {
    if kdf.alg != "argon2id" || kdf.version != 0x13 {
        return Err(KeyFileError::Damaged(format!("unsupported KDF {} v{}", kdf.alg, kdf.version)));
    }
    // Refuse parameters from a crafted file before allocating for them: rollcall writes 64 MiB, 3 passes, one
    // lane; a file asking for more than 1 GiB, 10 passes or 4 lanes would only hold the machine (the
    // parameters are authenticated, but only once the derivation has run).
    if kdf.m_kib > MAX_M_KIB || kdf.t > MAX_T || kdf.p == 0 || kdf.p > MAX_P {
        return Err(KeyFileError::Damaged(format!(
            "KDF parameters out of range (at most m={MAX_M_KIB}KiB t={MAX_T} p={MAX_P}): {}",
            kdf.describe()
        )));
    }
    let salt = B64.decode(&kdf.salt).map_err(|_| KeyFileError::Damaged("salt is not base64".into()))?;
    let params = Params::new(kdf.m_kib, kdf.t, kdf.p, Some(32))
        .map_err(|e| KeyFileError::Damaged(format!("bad KDF parameters: {e}")))?;
    let mut out = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), &salt, out.as_mut())
        .map_err(|e| KeyFileError::Damaged(format!("KDF failed: {e}")))?;
    Ok(out)
}

fn aad(f: &KeyFile) -> Result<Vec<u8>, KeyFileError> {
    let a = Aad { format: &f.format, name: &f.name, purpose: f.purpose, public_key: &f.public_key, kdf: &f.kdf };
    serde_json_canonicalizer::to_vec(&a).map_err(|e| KeyFileError::Damaged(e.to_string()))
}

impl KeyFile {
    /// Seals `key` under `passphrase`.
    #[cfg(test)]
    pub(crate) fn seal(
        name: &str,
        purpose: Purpose,
        key: &SigningKey,
        passphrase: &str,
    ) -> Result<KeyFile, KeyFileError> {
        Self::seal_with(name, purpose, key, passphrase, KdfCost::Default)
    }

    /// Seals with the given KDF cost.
    pub(crate) fn seal_with(
        name: &str,
        purpose: Purpose,
        key: &SigningKey,
        passphrase: &str,
        cost: KdfCost,
    ) -> Result<KeyFile, KeyFileError> {
        let (m_kib, t, p) = params(cost);
        let mut f = KeyFile {
            format: FORMAT.to_string(),
            name: name.to_string(),
            purpose,
            public_key: PublicKey::from_signing(key).encode(),
            created: crate::ledger::statement::now_ts(),
            kdf: KdfParams { alg: "argon2id".into(), version: 0x13, m_kib, t, p, salt: B64.encode(random::<16>()?) },
            nonce: B64.encode(random::<24>()?),
            ciphertext: String::new(),
        };
        let k = derive(passphrase, &f.kdf)?;
        let nonce_bytes = B64.decode(&f.nonce).map_err(|_| KeyFileError::Damaged("nonce".into()))?;
        let aad = aad(&f)?;
        let seed = Zeroizing::new(key.to_bytes());
        let ct = XChaCha20Poly1305::new(k.as_ref().into())
            .encrypt(XNonce::from_slice(&nonce_bytes), Payload { msg: seed.as_ref(), aad: &aad })
            .map_err(|_| KeyFileError::Damaged("encryption failed".into()))?;
        f.ciphertext = B64.encode(ct);
        Ok(f)
    }

    /// Opens the file with `passphrase`; checks the seed matches the recorded public key.
    pub fn open(&self, passphrase: &str) -> Result<SigningKey, KeyFileError> {
        if self.format != FORMAT {
            return Err(KeyFileError::Damaged(format!("unknown format {:?}", self.format)));
        }
        let public = PublicKey::parse(&self.public_key)
            .ok_or_else(|| KeyFileError::Damaged("public key is not valid".into()))?;
        let nonce = B64.decode(&self.nonce).map_err(|_| KeyFileError::Damaged("nonce is not base64".into()))?;
        if nonce.len() != 24 {
            return Err(KeyFileError::Damaged("nonce is not 24 bytes".into()));
        }
        let ct = B64.decode(&self.ciphertext).map_err(|_| KeyFileError::Damaged("ciphertext is not base64".into()))?;
        let k = derive(passphrase, &self.kdf)?;
        let aad = aad(self)?;
        let seed = Zeroizing::new(
            XChaCha20Poly1305::new(k.as_ref().into())
                .decrypt(XNonce::from_slice(&nonce), Payload { msg: &ct, aad: &aad })
                .map_err(|_| KeyFileError::WrongPassphrase)?,
        );
        let seed: Zeroizing<[u8; 32]> = Zeroizing::new(
            seed.as_slice().try_into().map_err(|_| KeyFileError::Damaged("sealed seed is not 32 bytes".into()))?,
        );
        let key = SigningKey::from_bytes(&seed);
        if PublicKey::from_signing(&key) != public {
            return Err(KeyFileError::Damaged("sealed key does not match the public key".into()));
        }
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast() {
        // SAFETY: tests in this module only set it to the same value.
        unsafe { std::env::set_var(INSECURE_KDF_ENV, "1") };
    }

    #[test]
    fn seal_open_round_trip_and_wrong_passphrase() {
        fast();
        let key = generate().unwrap();
        let f = KeyFile::seal("alice", Purpose::Person, &key, "correct horse").unwrap();
        assert_eq!(f.open("correct horse").unwrap().to_bytes(), key.to_bytes());
        assert_eq!(f.open("wrong horse").unwrap_err(), KeyFileError::WrongPassphrase);
        let json = serde_json::to_string(&f).unwrap();
        assert!(!json.contains(&hex::encode(key.to_bytes())));
        assert!(!json.contains(&B64.encode(key.to_bytes())));
    }

    #[test]
    fn editing_public_fields_breaks_decryption() {
        fast();
        let key = generate().unwrap();
        let f = KeyFile::seal("alice", Purpose::Person, &key, "correct horse").unwrap();
        let mut renamed = f.clone();
        renamed.name = "mallory".into();
        assert_eq!(renamed.open("correct horse").unwrap_err(), KeyFileError::WrongPassphrase);
        let mut weaker = f.clone();
        weaker.kdf.t += 1;
        assert_eq!(weaker.open("correct horse").unwrap_err(), KeyFileError::WrongPassphrase);
        let mut swapped = f.clone();
        swapped.public_key = PublicKey::from_signing(&generate().unwrap()).encode();
        assert_eq!(swapped.open("correct horse").unwrap_err(), KeyFileError::WrongPassphrase);
        // Parameters past what rollcall writes by far are refused before the derivation runs: 4 GiB,
        // 100 passes or 16 lanes took the machine for minutes before.
        for (m, t, p) in [(u32::MAX, 3, 1), (4 * 1024 * 1024, 3, 1), (64 * 1024, 100, 1), (64 * 1024, 3, 16)] {
            let mut huge = f.clone();
            (huge.kdf.m_kib, huge.kdf.t, huge.kdf.p) = (m, t, p);
            assert!(
                matches!(huge.open("correct horse"), Err(KeyFileError::Damaged(ref why)) if why.contains("out of range")),
                "m={m} t={t} p={p}"
            );
        }
    }

    #[test]
    fn weak_keys_are_refused_unless_the_build_allows_them() {
        let kdf = |m_kib, t| KdfParams { alg: "argon2id".into(), version: 0x13, m_kib, t, p: 1, salt: String::new() };
        let (m, t, _) = params(KdfCost::Throwaway);
        let fast = kdf(m, t);
        assert!(fast.is_weak());
        // A release build (switch off) refuses it with a message naming the parameters.
        let err = fast.check_strength(false).unwrap_err();
        assert!(
            matches!(&err, KeyFileError::TooWeak(why) if why.contains("m=64KiB t=1") && why.contains("m=65536KiB t=3")),
            "{err}"
        );
        // A debug build (or a throwaway demo keystore) lets it through.
        assert_eq!(fast.check_strength(true), Ok(()));
        // The default parameters are the minimum: accepted everywhere; any less memory or passes is weak.
        // (Other tests of this process set the fast-KDF variable, so the default is spelled out here.)
        assert_eq!((MIN_M_KIB, MIN_T), (64 * 1024, 3));
        assert_eq!(kdf(MIN_M_KIB, MIN_T).check_strength(false), Ok(()));
        assert!(kdf(MIN_M_KIB - 1, MIN_T).check_strength(false).is_err());
        assert!(kdf(MIN_M_KIB, MIN_T - 1).check_strength(false).is_err());
        assert_eq!(kdf(MIN_M_KIB * 4, MIN_T + 1).check_strength(false), Ok(()));
        assert_eq!(weak_keys_allowed_by_build(), cfg!(debug_assertions));
    }
}
