//! C2SP signed notes and `tlog-checkpoint` bodies: formatting, parsing, Ed25519 note key ids, signing and
//! verification of an origin's checkpoint.

use super::hash::Hash;
use super::key::PublicKey;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signer, SigningKey};
use thiserror::Error;

/// Signature type byte of a plain Ed25519 note signature.
pub(crate) const SIGTYPE_ED25519: u8 = 0x01;

/// The em dash and space that start every signature line.
const SIG_PREFIX: &str = "\u{2014} ";

/// Notes with more signature lines than this are refused.
const MAX_SIGNATURES: usize = 100;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum NoteError {
    #[error("signed note is malformed: {0}")]
    Malformed(&'static str),
    #[error("checkpoint body is malformed: {0}")]
    Body(&'static str),
    #[error("checkpoint is for origin {found:?}, expected {expected:?}")]
    WrongOrigin { expected: String, found: String },
    #[error("checkpoint has no signature by the origin key")]
    Unsigned,
    #[error("checkpoint signature by the origin key does not verify")]
    BadSignature,
}

/// First line of a cosignature message; no origin may take this name.
pub(crate) const COSIGNATURE_HEADER: &str = "cosignature/v1";

/// Parses a decimal without sign or leading zeros.
pub(crate) fn canonical_u64(s: &str) -> Option<u64> {
    let n: u64 = s.parse().ok()?;
    (n.to_string() == s).then_some(n)
}

/// A key name is valid in a note if it is non-empty and has no whitespace and no '+'.
pub(crate) fn valid_key_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 255 && !name.chars().any(|c| c.is_whitespace() || c.is_control() || c == '+')
}

/// `SHA-256(name || 0x0A || sigtype || pubkey)[:4]`.
pub(crate) fn note_key_id(name: &str, sigtype: u8, key: &PublicKey) -> [u8; 4] {
    let h = Hash::of(&[name.as_bytes(), b"\n", &[sigtype], key.as_bytes()]);
    [h.0[0], h.0[1], h.0[2], h.0[3]]
}

/// The C2SP verifier key string `<name>+<hex key id>+<base64(0x01 || pubkey)>`.
pub(crate) fn verifier_key(name: &str, key: &PublicKey) -> String {
    let mut raw = vec![SIGTYPE_ED25519];
    raw.extend_from_slice(key.as_bytes());
    format!("{name}+{}+{}", hex::encode(note_key_id(name, SIGTYPE_ED25519, key)), B64.encode(raw))
}

/// Parses a verifier key `<name>+<hex key id>+<base64(0x01 || pubkey)>`, checking its key id.
pub(crate) fn parse_verifier_key(s: &str) -> Option<(String, PublicKey)> {
    // The name and the hex id hold no '+'; the base64 key may.
    let mut parts = s.splitn(3, '+');
    let (name, id, raw) = (parts.next()?, parts.next()?, parts.next()?);
    if !valid_key_name(name) {
        return None;
    }
    let raw = B64.decode(raw).ok()?;
    if raw.len() != 33 || raw[0] != SIGTYPE_ED25519 {
        return None;
    }
    let key = PublicKey::from_bytes(raw[1..].try_into().ok()?)?;
    (hex::encode(note_key_id(name, SIGTYPE_ED25519, &key)) == id).then(|| (name.to_string(), key))
}

/// One signature line of a note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    pub name: String,
    pub key_id: [u8; 4],
    pub sig: Vec<u8>,
}

impl NoteSignature {
    pub fn line(&self) -> String {
        let mut raw = self.key_id.to_vec();
        raw.extend_from_slice(&self.sig);
        format!("{SIG_PREFIX}{} {}\n", self.name, B64.encode(raw))
    }
}

/// A signed note: text (ending in a newline) and one or more signatures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedNote {
    pub text: String,
    pub signatures: Vec<NoteSignature>,
}

impl SignedNote {
    /// Parses the serialized note. Text and signatures are separated by the last blank line.
    pub(crate) fn parse(s: &str) -> Result<SignedNote, NoteError> {
        if s.chars().any(|c| c.is_control() && c != '\n') {
            return Err(NoteError::Malformed("contains control characters"));
        }
        let split = s.rfind("\n\n").ok_or(NoteError::Malformed("no blank line before signatures"))?;
        let text = &s[..split + 1];
        let sigs = &s[split + 2..];
        if !sigs.ends_with('\n') {
            return Err(NoteError::Malformed("does not end in a newline"));
        }
        let mut signatures = Vec::new();
        for line in sigs[..sigs.len() - 1].split('\n') {
            let rest = line.strip_prefix(SIG_PREFIX).ok_or(NoteError::Malformed("bad signature line"))?;
            let (name, b64) = rest.split_once(' ').ok_or(NoteError::Malformed("bad signature line"))?;
            if !valid_key_name(name) {
                return Err(NoteError::Malformed("bad key name in signature line"));
            }
            let raw = B64.decode(b64).map_err(|_| NoteError::Malformed("signature is not base64"))?;
            if raw.len() < 5 {
                return Err(NoteError::Malformed("signature too short"));
            }
            signatures.push(NoteSignature {
                name: name.to_string(),
                key_id: [raw[0], raw[1], raw[2], raw[3]],
                sig: raw[4..].to_vec(),
            });
            if signatures.len() > MAX_SIGNATURES {
                return Err(NoteError::Malformed("too many signatures"));
            }
        }
        if signatures.is_empty() {
            return Err(NoteError::Malformed("no signatures"));
        }
        Ok(SignedNote { text: text.to_string(), signatures })
    }

    pub fn serialize(&self) -> String {
        let mut s = self.text.clone();
        s.push('\n');
        for sig in &self.signatures {
            s.push_str(&sig.line());
        }
        s
    }

    /// Checks the Ed25519 signature of `name`/`key`: ignores signatures by other keys, fails if that key's
    /// signature is missing or does not verify (`verify_strict`).
    pub(crate) fn verify_by(&self, name: &str, key: &PublicKey) -> Result<(), NoteError> {
        let id = note_key_id(name, SIGTYPE_ED25519, key);
        let mine: Vec<_> = self.signatures.iter().filter(|s| s.name == name && s.key_id == id).collect();
        if mine.is_empty() {
            return Err(NoteError::Unsigned);
        }
        if mine.iter().all(|s| key.verify(self.text.as_bytes(), &s.sig)) {
            Ok(())
        } else {
            Err(NoteError::BadSignature)
        }
    }
}

/// A tlog checkpoint body: origin, tree size and RFC 6962 root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Checkpoint {
    /// `<origin>\n<size>\n<base64 root>\n`.
    pub(crate) fn body(&self) -> String {
        format!("{}\n{}\n{}\n", self.origin, self.size, B64.encode(self.root.0))
    }

    /// Parses a checkpoint body; extension lines are refused (rollcall writes none).
    pub(crate) fn parse_body(text: &str) -> Result<Checkpoint, NoteError> {
        let lines: Vec<&str> =
            text.strip_suffix('\n').ok_or(NoteError::Body("no final newline"))?.split('\n').collect();
        if lines.len() != 3 {
            return Err(NoteError::Body("expected exactly origin, size and root lines"));
        }
        if !valid_key_name(lines[0]) {
            return Err(NoteError::Body("bad origin line"));
        }
        let size: u64 = lines[1].parse().map_err(|_| NoteError::Body("size is not a decimal number"))?;
        if size.to_string() != lines[1] {
            return Err(NoteError::Body("size is not canonical decimal"));
        }
        let raw = B64.decode(lines[2]).map_err(|_| NoteError::Body("root is not base64"))?;
        let root = Hash::from_slice(&raw).ok_or(NoteError::Body("root is not 32 bytes"))?;
        Ok(Checkpoint { origin: lines[0].to_string(), size, root })
    }

    /// Signs the body with the origin key under the origin's name.
    pub fn sign(&self, key: &SigningKey) -> SignedNote {
        let text = self.body();
        let pk = PublicKey::from_signing(key);
        SignedNote {
            signatures: vec![NoteSignature {
                name: self.origin.clone(),
                key_id: note_key_id(&self.origin, SIGTYPE_ED25519, &pk),
                sig: key.sign(text.as_bytes()).to_bytes().to_vec(),
            }],
            text,
        }
    }

    /// Parses a serialized signed checkpoint and verifies it was signed by `origin`'s `key`.
    pub fn verify(note: &str, origin: &str, key: &PublicKey) -> Result<(Checkpoint, SignedNote), NoteError> {
        let parsed = SignedNote::parse(note)?;
        let cp = Checkpoint::parse_body(&parsed.text)?;
        if cp.origin != origin {
            return Err(NoteError::WrongOrigin { expected: origin.to_string(), found: cp.origin });
        }
        parsed.verify_by(origin, key)?;
        Ok((cp, parsed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifier_keys_parse_back_even_with_plus_in_base64() {
        for seed in 0..64u8 {
            let pk = PublicKey::from_signing(&SigningKey::from_bytes(&[seed; 32]));
            let v = verifier_key("example.com/log", &pk);
            assert_eq!(parse_verifier_key(&v), Some(("example.com/log".to_string(), pk)), "{v}");
        }
        assert_eq!(parse_verifier_key("a+00000000+AQ=="), None);
    }

    #[test]
    fn c2sp_verifier_key_example() {
        // C2SP signed-note: example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k
        let raw = B64.decode("AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k").unwrap();
        assert_eq!(raw[0], SIGTYPE_ED25519);
        let pk = PublicKey::from_bytes(raw[1..].try_into().unwrap()).unwrap();
        assert_eq!(hex::encode(note_key_id("example.com/foo", SIGTYPE_ED25519, &pk)), "530d903a");
        assert_eq!(
            verifier_key("example.com/foo", &pk),
            "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
        );
    }

    #[test]
    fn c2sp_checkpoint_example_parses() {
        let note = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";
        let n = SignedNote::parse(note).unwrap();
        assert_eq!(hex::encode(n.signatures[0].key_id), "033de0ae");
        assert_eq!(n.signatures[0].sig.len(), 64);
        let cp = Checkpoint::parse_body(&n.text).unwrap();
        assert_eq!(cp.size, 20852163);
        assert_eq!(n.serialize(), note);
    }

    #[test]
    fn sign_verify_and_refusals() {
        let sk = SigningKey::from_bytes(&[9u8; 32]);
        let pk = PublicKey::from_signing(&sk);
        let cp = Checkpoint { origin: "rollcall/test".into(), size: 3, root: Hash([5u8; 32]) };
        let note = cp.sign(&sk).serialize();
        let (back, _) = Checkpoint::verify(&note, "rollcall/test", &pk).unwrap();
        assert_eq!(back, cp);
        // Wrong origin, other key, flipped byte, non-canonical size.
        assert!(matches!(Checkpoint::verify(&note, "rollcall/other", &pk), Err(NoteError::WrongOrigin { .. })));
        let other = PublicKey::from_signing(&SigningKey::from_bytes(&[8u8; 32]));
        assert_eq!(Checkpoint::verify(&note, "rollcall/test", &other).unwrap_err(), NoteError::Unsigned);
        let tampered = note.replacen("\n3\n", "\n4\n", 1);
        assert_eq!(Checkpoint::verify(&tampered, "rollcall/test", &pk).unwrap_err(), NoteError::BadSignature);
        let noncanon = note.replacen("\n3\n", "\n03\n", 1);
        assert!(matches!(Checkpoint::verify(&noncanon, "rollcall/test", &pk), Err(NoteError::Body(_))));
        // Unknown signatures are ignored.
        let mut n = SignedNote::parse(&note).unwrap();
        n.signatures.insert(0, NoteSignature { name: "witness".into(), key_id: [1, 2, 3, 4], sig: vec![0; 64] });
        assert!(Checkpoint::verify(&n.serialize(), "rollcall/test", &pk).is_ok());
        assert!(SignedNote::parse("a\n\n\u{2014} k AAAA\n").is_err());
        assert!(SignedNote::parse("a\x1b\n\n").is_err());
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,300}") {
            let _ = SignedNote::parse(&s);
            let _ = Checkpoint::parse_body(&s);
        }
    }
}
