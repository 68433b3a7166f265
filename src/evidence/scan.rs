//! One pass over evidence bytes as they stream by: SHA-256, length, whether they are UTF-8 text, how
//! many lines they hold and their first bytes. Recognition decides from this which parser reads the bytes
//! (a second, streaming pass); nothing here holds more than a few bytes of the input.

use crate::ledger::Hash;
use sha2::{Digest, Sha256};
use std::io::{self, Read};

/// How many leading bytes are kept (enough to tell XML from JSON).
pub(crate) const HEAD: usize = 256;
/// The read buffer of the streaming passes.
pub(crate) const CHUNK: usize = 64 * 1024;

/// What one pass over the bytes found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Scan {
    pub digest: Hash,
    pub len: u64,
    /// Whether the whole input is valid UTF-8.
    pub utf8: bool,
    /// Lines as `str::lines` counts them (a last line without a newline counts).
    pub lines: u64,
    /// The first [`HEAD`] bytes.
    pub head: Vec<u8>,
}

/// Accumulates a [`Scan`] over bytes given in any chunking.
pub(crate) struct Scanner {
    hash: Sha256,
    len: u64,
    utf8: bool,
    /// An incomplete UTF-8 sequence at the end of the last chunk (at most 3 bytes).
    carry: Vec<u8>,
    newlines: u64,
    last: Option<u8>,
    head: Vec<u8>,
}

impl Default for Scanner {
    fn default() -> Self {
        Self::new()
    }
}

impl Scanner {
    pub(crate) fn new() -> Self {
        Scanner {
            hash: Sha256::new(),
            len: 0,
            utf8: true,
            carry: Vec::new(),
            newlines: 0,
            last: None,
            head: Vec::new(),
        }
    }

    pub(crate) fn update(&mut self, b: &[u8]) {
        if b.is_empty() {
            return;
        }
        self.hash.update(b);
        self.len += b.len() as u64;
        if self.head.len() < HEAD {
            let take = (HEAD - self.head.len()).min(b.len());
            self.head.extend_from_slice(&b[..take]);
        }
        self.newlines += b.iter().filter(|&&c| c == b'\n').count() as u64;
        self.last = b.last().copied();
        if self.utf8 {
            let joined;
            let data: &[u8] = if self.carry.is_empty() {
                b
            } else {
                let mut j = std::mem::take(&mut self.carry);
                j.extend_from_slice(b);
                joined = j;
                &joined
            };
            if let Err(e) = std::str::from_utf8(data) {
                match e.error_len() {
                    Some(_) => self.utf8 = false,
                    None => self.carry = data[e.valid_up_to()..].to_vec(),
                }
            }
        }
    }

    /// Bytes seen so far.
    #[allow(clippy::len_without_is_empty)]
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    pub(crate) fn finish(self) -> Scan {
        let partial = self.len > 0 && self.last != Some(b'\n');
        Scan {
            digest: Hash(self.hash.finalize().into()),
            len: self.len,
            utf8: self.utf8 && self.carry.is_empty(),
            lines: self.newlines + u64::from(partial),
            head: self.head,
        }
    }
}

/// Scans everything `r` yields.
pub(crate) fn scan<R: Read>(mut r: R) -> io::Result<Scan> {
    let mut s = Scanner::new();
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        s.update(&buf[..n]);
    }
    Ok(s.finish())
}

/// The scan of bytes held in memory.
pub(crate) fn scan_bytes(b: &[u8]) -> Scan {
    let mut s = Scanner::new();
    s.update(b);
    s.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_whole_input_answers_in_any_chunking() {
        let samples: [&[u8]; 8] =
            [b"", b"\n", b"a", b"a\n", b"a\r\nb", "h\u{e9}llo \u{1f600}\n\n".as_bytes(), &[0xff, 0xfe], &[0xe2, 0x82]];
        for s in samples {
            let whole = scan_bytes(s);
            let text = std::str::from_utf8(s).ok();
            assert_eq!(whole.utf8, text.is_some(), "{s:?}");
            if let Some(t) = text {
                assert_eq!(whole.lines, t.lines().count() as u64, "{s:?}");
            }
            assert_eq!(whole.digest, Hash::of(&[s]));
            for cut in 1..4 {
                let mut sc = Scanner::new();
                for c in s.chunks(cut) {
                    sc.update(c);
                }
                assert_eq!(sc.finish(), whole, "{s:?} in chunks of {cut}");
            }
        }
    }
}
