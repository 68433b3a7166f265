//! DSSE pre-authentication encoding (PAE): the exact bytes an entry's signature covers.

use super::hash::EntryId;

/// The DSSE payload type of a genesis statement (the entry whose id becomes the ledger id, so it cannot
/// name it).
pub(crate) const STATEMENT_PAYLOAD_TYPE: &str = "application/vnd.rollcall.statement+json";

/// The DSSE payload type every other statement of ledger `ledger` is signed under:
/// `application/vnd.rollcall.statement+json; ledger=<64 hex>`. Binding the signature to the ledger id
/// means an entry signed for one ledger (a sandbox, a test ledger) never verifies in another.
pub fn payload_type(ledger: &EntryId) -> String {
    format!("{STATEMENT_PAYLOAD_TYPE}; ledger={}", ledger.to_hex())
}

/// The kind of the one statement signed under the bare payload type.
pub(crate) const GENESIS_KIND: &str = "genesis";

/// The signing domain of one ledger: which payload type a statement of each kind is signed and verified
/// under. The genesis (whose id becomes the ledger id, so it cannot name it) uses the bare type; every
/// other kind uses [`payload_type`] of the ledger id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Domain {
    bound: Option<String>,
}

impl Domain {
    /// The domain of ledger `ledger`.
    pub fn of(ledger: &EntryId) -> Domain {
        Domain { bound: Some(payload_type(ledger)) }
    }

    /// The domain before a ledger exists: only a genesis can be signed or verified in it.
    pub fn genesis_only() -> Domain {
        Domain { bound: None }
    }

    /// The payload type a statement of `kind` is signed under, or None when this domain has none for it.
    pub fn payload_type(&self, kind: &str) -> Option<&str> {
        if kind == GENESIS_KIND { Some(STATEMENT_PAYLOAD_TYPE) } else { self.bound.as_deref() }
    }
}

/// `"DSSEv1" SP len(type) SP type SP len(body) SP body`, lengths in ASCII decimal without leading zeros.
pub fn pae(payload_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    pae_into(&mut out, payload_type, body);
    out
}

/// [`pae`] written into `out` (cleared first), so a caller checking many statements reuses one buffer.
pub fn pae_into(out: &mut Vec<u8>, payload_type: &str, body: &[u8]) {
    use std::io::Write as _;
    let t = payload_type.as_bytes();
    out.clear();
    out.reserve(32 + t.len() + body.len());
    // Writing into a Vec cannot fail; the lengths are written in decimal without allocating.
    let _ = write!(out, "DSSEv1 {} ", t.len());
    out.extend_from_slice(t);
    let _ = write!(out, " {} ", body.len());
    out.extend_from_slice(body);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dsse_spec_vector() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn empty_body() {
        assert_eq!(pae("t", b""), b"DSSEv1 1 t 0 ".to_vec());
    }

    #[test]
    fn a_reused_buffer_holds_only_the_last_message() {
        let mut buf = b"left over from a longer message before it".to_vec();
        pae_into(&mut buf, "http://example.com/HelloWorld", b"hello world");
        assert_eq!(buf, b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec());
        let body = vec![b'x'; 12_345];
        pae_into(&mut buf, "t", &body);
        assert_eq!(buf, [&b"DSSEv1 1 t 12345 "[..], &body].concat());
    }
}
