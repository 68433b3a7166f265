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
    let t = payload_type.as_bytes();
    let mut out = Vec::with_capacity(32 + t.len() + body.len());
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(t.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(t);
    out.push(b' ');
    out.extend_from_slice(body.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(body);
    out
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
}
