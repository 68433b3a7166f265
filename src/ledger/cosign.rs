//! C2SP `cosignature/v1` (tlog-cosignature, Ed25519 sigtype 0x04): a witness's timestamped signature on
//! another origin's checkpoint, meaning "as of this time, this is the largest consistent tree head I have
//! verified for that origin". Formatting, signing, strict verification and the signature-line form.

use super::hash::Hash;
use super::key::PublicKey;
use super::note::{NoteSignature, note_key_id};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signer, SigningKey};

/// Signature type byte of a timestamped Ed25519 cosignature.
pub(crate) const SIGTYPE_COSIGNATURE: u8 = 0x04;

/// One witness's cosignature of `origin` at `size` with `root`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cosignature {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    pub witness: String,
    /// Seconds since 1970 when the witness signed.
    pub time: u64,
    pub signature: [u8; 64],
}

/// The signed message: `cosignature/v1\ntime <t>\n` followed by the checkpoint body.
pub(crate) fn message(origin: &str, size: u64, root: &Hash, time: u64) -> String {
    format!(
        "{}\ntime {time}\n{}",
        super::note::COSIGNATURE_HEADER,
        super::note::Checkpoint { origin: origin.to_string(), size, root: *root }.body()
    )
}

impl Cosignature {
    /// Signs as `witness` with its key.
    pub fn sign(origin: &str, size: u64, root: &Hash, witness: &str, key: &SigningKey, time: u64) -> Cosignature {
        let sig = key.sign(message(origin, size, root, time).as_bytes());
        Cosignature {
            origin: origin.to_string(),
            size,
            root: *root,
            witness: witness.to_string(),
            time,
            signature: sig.to_bytes(),
        }
    }

    /// Whether `key` (the witness's) made this cosignature (strict verification).
    pub fn verify(&self, key: &PublicKey) -> bool {
        key.verify(message(&self.origin, self.size, &self.root, self.time).as_bytes(), &self.signature)
    }

    /// The note signature line a C2SP verifier expects under the checkpoint:
    /// key id (sigtype 0x04) || u64 big-endian time || signature.
    pub fn note_signature(&self, key: &PublicKey) -> NoteSignature {
        let mut sig = self.time.to_be_bytes().to_vec();
        sig.extend_from_slice(&self.signature);
        NoteSignature { name: self.witness.clone(), key_id: note_key_id(&self.witness, SIGTYPE_COSIGNATURE, key), sig }
    }

    /// Reads a cosignature back from a note signature line under the checkpoint of `origin`/`size`/`root`,
    /// if the line is one by `key` (sigtype 0x04).
    pub fn from_note_signature(
        line: &NoteSignature,
        origin: &str,
        size: u64,
        root: &Hash,
        key: &PublicKey,
    ) -> Option<Cosignature> {
        if line.key_id != note_key_id(&line.name, SIGTYPE_COSIGNATURE, key) || line.sig.len() != 72 {
            return None;
        }
        let time = u64::from_be_bytes(line.sig[..8].try_into().ok()?);
        let signature: [u8; 64] = line.sig[8..].try_into().ok()?;
        Some(Cosignature { origin: origin.to_string(), size, root: *root, witness: line.name.clone(), time, signature })
    }

    /// The bundle line form: `cosignature <origin> <size> <base64 root> <witness> <time> <base64 signature>`.
    pub fn line(&self) -> String {
        format!(
            "cosignature {} {} {} {} {} {}",
            self.origin,
            self.size,
            B64.encode(self.root.0),
            self.witness,
            self.time,
            B64.encode(self.signature)
        )
    }

    /// Parses the fields after `cosignature `.
    pub fn parse_fields(s: &str) -> Result<Cosignature, String> {
        let f: Vec<&str> = s.split(' ').collect();
        let [origin, size, root, witness, time, sig] = f.as_slice() else {
            return Err("a cosignature line has six fields".into());
        };
        if !super::note::valid_key_name(origin) || !super::note::valid_key_name(witness) {
            return Err("bad origin or witness name".into());
        }
        let size = super::note::canonical_u64(size).ok_or("size is not a canonical decimal")?;
        let time = super::note::canonical_u64(time).ok_or("time is not a canonical decimal")?;
        let root = B64.decode(root).ok().and_then(|b| Hash::from_slice(&b)).ok_or("root is not 32 base64 bytes")?;
        let signature: [u8; 64] =
            B64.decode(sig).ok().and_then(|b| b.try_into().ok()).ok_or("signature is not 64 base64 bytes")?;
        Ok(Cosignature { origin: origin.to_string(), size, root, witness: witness.to_string(), time, signature })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_layout_matches_c2sp() {
        let root = Hash::from_slice(&B64.decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=").unwrap()).unwrap();
        assert_eq!(
            message("example.com/behind-the-sofa", 20852163, &root, 1679315147),
            "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n\
             CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        );
    }

    #[test]
    fn sign_verify_line_roundtrip_and_refusals() {
        let key = SigningKey::from_bytes(&[5; 32]);
        let pk = PublicKey::from_signing(&key);
        let c = Cosignature::sign("o/a", 12, &Hash([1; 32]), "w/b", &key, 1_700_000_000);
        assert!(c.verify(&pk));
        let back = Cosignature::parse_fields(c.line().strip_prefix("cosignature ").unwrap()).unwrap();
        assert_eq!(back, c);
        let mut other = c.clone();
        other.size = 13;
        assert!(!other.verify(&pk));
        let ns = c.note_signature(&pk);
        assert_eq!(ns.sig.len(), 72);
        assert_eq!(Cosignature::from_note_signature(&ns, "o/a", 12, &Hash([1; 32]), &pk), Some(c));
        assert!(Cosignature::parse_fields("o 1 x w 2").is_err());
        assert!(Cosignature::parse_fields("o 01 AAAA w 2 AAAA").is_err());
    }
}
