//! DSSE pre-authentication encoding (PAE): the exact bytes an entry's signature covers.

/// The DSSE payload type of every ledger statement.
pub const STATEMENT_PAYLOAD_TYPE: &str = "application/vnd.rollcall.statement+json";

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
