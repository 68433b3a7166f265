//! The bundle file format, line by line: a capped line reader that keeps the running digest and undoes
//! optional zstd compression, a writer that keeps the same digest, and the records each line holds.
//! The grammar (which record may follow which) is the importer's; this module only reads and writes lines.

use crate::ledger::Hash;
use crate::ledger::cosign::Cosignature;
use crate::ledger::key::PublicKey;
use crate::ledger::note::{canonical_u64, parse_verifier_key, verifier_key};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Read, Write};

/// The format name in the header line.
pub(crate) const MAGIC: &str = "rollcall-bundle";

/// The format version this build writes and reads.
pub(crate) const VERSION: u32 = 2;

/// Longest line accepted: a statement (at most 65,535 bytes) with its leaf prefix, or a data line.
pub(crate) const MAX_LINE: usize = 128 * 1024;

/// Bytes of blob data per `data` line.
pub(crate) const DATA_CHUNK: usize = 48 * 1024;

/// The zstd frame magic number, which marks a compressed bundle.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// A compressed bundle may expand to at most this many times its compressed size, plus [`RATIO_SLACK`]:
/// a decompression bomb is refused after a bounded amount of work, whatever it declares.
pub(crate) const MAX_RATIO: u64 = 1024;

/// Decompressed bytes always allowed on top of [`MAX_RATIO`] (small bundles compress very well).
pub(crate) const RATIO_SLACK: u64 = 64 << 20;

/// Counts the bytes read through it.
struct Counting<R> {
    inner: R,
    n: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n.fetch_add(k as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(k)
    }
}

/// Refuses to decompress past [`MAX_RATIO`] times the compressed bytes read (plus [`RATIO_SLACK`]).
struct RatioCap<R> {
    inner: R,
    compressed: std::sync::Arc<std::sync::atomic::AtomicU64>,
    out: u64,
}

impl<R: Read> Read for RatioCap<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.out += k as u64;
        let input = self.compressed.load(std::sync::atomic::Ordering::Relaxed);
        if self.out > input.saturating_mul(MAX_RATIO).saturating_add(RATIO_SLACK) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "the compressed bundle expands more than {MAX_RATIO} times its size ({input} bytes to over {} \
                     bytes): refused as a decompression bomb",
                    self.out
                ),
            ));
        }
        Ok(k)
    }
}

/// One line of a bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Record {
    /// `rollcall-bundle/<version> <ledger id hex> <exporting origin>`
    Header { version: u32, ledger: Hash, exporter: String },
    /// `origin <verifier key> <from> <to>`: the leaves `[from, to)` of that log follow.
    Origin { name: String, key: PublicKey, from: u64, to: u64 },
    /// `leaf <index> <base64 signature> <statement bytes>`
    Leaf { index: u64, signature: [u8; 64], statement: Vec<u8> },
    /// `checkpoint <base64 signed note>`: the origin's checkpoint at `to`.
    Checkpoint { note: String },
    /// `blob <sha256 hex> <size>`: `data` lines with exactly `size` bytes follow.
    Blob { sha256: Hash, size: u64 },
    /// `data <base64>`
    Data { bytes: Vec<u8> },
    /// `cosignature <origin> <size> <base64 root> <witness> <time> <base64 signature>`
    Cosignature(Cosignature),
    /// `end <sha256 hex of every byte before this line>`
    End { digest: Hash },
}

impl Record {
    /// The line's bytes, without its newline.
    pub(crate) fn encode(&self) -> Vec<u8> {
        match self {
            Record::Header { version, ledger, exporter } => {
                format!("{MAGIC}/{version} {} {exporter}", ledger.to_hex()).into_bytes()
            }
            Record::Origin { name, key, from, to } => {
                format!("origin {} {from} {to}", verifier_key(name, key)).into_bytes()
            }
            Record::Leaf { index, signature, statement } => {
                let mut b = format!("leaf {index} {} ", B64.encode(signature)).into_bytes();
                b.extend_from_slice(statement);
                b
            }
            Record::Checkpoint { note } => format!("checkpoint {}", B64.encode(note)).into_bytes(),
            Record::Blob { sha256, size } => format!("blob {} {size}", sha256.to_hex()).into_bytes(),
            Record::Data { bytes } => format!("data {}", B64.encode(bytes)).into_bytes(),
            Record::Cosignature(c) => c.line().into_bytes(),
            Record::End { digest } => format!("end {}", digest.to_hex()).into_bytes(),
        }
    }

    /// Parses one line (without its newline).
    pub(crate) fn parse(line: &[u8]) -> Result<Record, String> {
        let sp = line.iter().position(|&b| b == b' ').ok_or("a record has a type and fields")?;
        let (tag, rest) = (&line[..sp], &line[sp + 1..]);
        if tag == b"leaf" {
            // The statement is the rest of the line, byte for byte.
            let mut it = rest.splitn(3, |&b| b == b' ');
            let (index, sig, statement) = match (it.next(), it.next(), it.next()) {
                (Some(i), Some(s), Some(st)) => (i, s, st),
                _ => return Err("a leaf line has an index, a signature and a statement".into()),
            };
            let index = std::str::from_utf8(index).ok().and_then(canonical_u64).ok_or("leaf index is not a decimal")?;
            let signature: [u8; 64] = B64
                .decode(sig)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or("leaf signature is not 64 bytes of base64")?;
            return Ok(Record::Leaf { index, signature, statement: statement.to_vec() });
        }
        let rest = std::str::from_utf8(rest).map_err(|_| "the line is not UTF-8")?;
        let tag = std::str::from_utf8(tag).map_err(|_| "the line is not UTF-8")?;
        let fields: Vec<&str> = rest.split(' ').collect();
        let hash = |s: &str| Hash::from_hex(s).filter(|_| s.len() == 64 && s.bytes().all(|b| !b.is_ascii_uppercase()));
        let num = |s: &str, what: &str| canonical_u64(s).ok_or_else(|| format!("{what} is not a decimal number"));
        match (tag, fields.as_slice()) {
            (t, [ledger, exporter]) if t.starts_with(MAGIC) => {
                let version = t
                    .strip_prefix(MAGIC)
                    .and_then(|v| v.strip_prefix('/'))
                    .and_then(canonical_u64)
                    .ok_or("the header's format version is not a number")?;
                let ledger = hash(ledger).ok_or("the header's ledger id is not 64 lowercase hex digits")?;
                if !crate::ledger::note::valid_key_name(exporter) {
                    return Err("the header's origin name is not valid".into());
                }
                Ok(Record::Header {
                    version: version.min(u32::MAX as u64) as u32,
                    ledger,
                    exporter: exporter.to_string(),
                })
            }
            ("origin", [vkey, from, to]) => {
                let (name, key) = parse_verifier_key(vkey).ok_or("the origin's verifier key is not valid")?;
                let (from, to) = (num(from, "from")?, num(to, "to")?);
                if from > to {
                    return Err("the origin's range ends before it starts".into());
                }
                Ok(Record::Origin { name, key, from, to })
            }
            ("checkpoint", [note]) => {
                let raw = B64.decode(note).map_err(|_| "the checkpoint is not base64")?;
                let note = String::from_utf8(raw).map_err(|_| "the checkpoint is not UTF-8")?;
                Ok(Record::Checkpoint { note })
            }
            ("blob", [sha, size]) => {
                let sha256 = hash(sha).ok_or("the blob digest is not 64 lowercase hex digits")?;
                Ok(Record::Blob { sha256, size: num(size, "blob size")? })
            }
            ("data", [b64]) => Ok(Record::Data { bytes: B64.decode(b64).map_err(|_| "the data is not base64")? }),
            ("cosignature", _) => Ok(Record::Cosignature(Cosignature::parse_fields(rest)?)),
            ("end", [digest]) => {
                Ok(Record::End { digest: hash(digest).ok_or("the end digest is not 64 lowercase hex")? })
            }
            _ if tag.starts_with(MAGIC) => Err("the header line has a ledger id and an origin".into()),
            ("origin" | "checkpoint" | "blob" | "data" | "end", _) => Err(format!("a {tag} line has the wrong fields")),
            _ => Err(format!("unknown record type {:?}", crate::text::safe(tag))),
        }
    }
}

/// Writes lines and keeps the digest of everything written.
pub(crate) struct Writer<W: Write> {
    out: W,
    digest: Sha256,
    bytes: u64,
}

impl<W: Write> Writer<W> {
    pub(crate) fn new(out: W) -> Self {
        Writer { out, digest: Sha256::new(), bytes: 0 }
    }

    /// Writes one record and its newline.
    pub(crate) fn write(&mut self, r: &Record) -> std::io::Result<()> {
        let mut line = r.encode();
        line.push(b'\n');
        self.digest.update(&line);
        self.bytes += line.len() as u64;
        self.out.write_all(&line)
    }

    /// Writes the `end` line and returns the output and the bundle's size.
    pub(crate) fn finish(mut self) -> std::io::Result<(W, u64, Hash)> {
        let digest = Hash(self.digest.clone().finalize().into());
        self.write(&Record::End { digest })?;
        self.out.flush()?;
        Ok((self.out, self.bytes, digest))
    }
}

/// Reads lines (at most [`MAX_LINE`] bytes each), undoing zstd compression when the file starts with a
/// zstd frame, and keeps the digest of every line read before the current one.
pub(crate) struct Reader {
    inner: Box<dyn BufRead + Send>,
    digest: Sha256,
    before: Sha256,
    line_no: u64,
    buf: Vec<u8>,
    compressed: bool,
}

impl Reader {
    pub(crate) fn new(source: impl Read + Send + 'static) -> std::io::Result<Reader> {
        let n = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let mut src = BufReader::with_capacity(1 << 20, Counting { inner: source, n: std::sync::Arc::clone(&n) });
        let compressed = src.fill_buf()?.starts_with(&ZSTD_MAGIC);
        let inner: Box<dyn BufRead + Send> = if compressed {
            let decoder = zstd::stream::read::Decoder::with_buffer(src)?;
            Box::new(BufReader::with_capacity(1 << 20, RatioCap { inner: decoder, compressed: n, out: 0 }))
        } else {
            Box::new(src)
        };
        Ok(Reader { inner, digest: Sha256::new(), before: Sha256::new(), line_no: 0, buf: Vec::new(), compressed })
    }

    /// Whether the file was zstd-compressed.
    pub(crate) fn compressed(&self) -> bool {
        self.compressed
    }

    /// Number of the line last returned (1-based).
    pub(crate) fn line_no(&self) -> u64 {
        self.line_no
    }

    /// The digest of every byte before the line last returned.
    pub(crate) fn digest_before(&self) -> Hash {
        Hash(self.before.clone().finalize().into())
    }

    /// The next line without its newline, or `None` at the end of the file. A line longer than
    /// [`MAX_LINE`] or a last line without a newline is an error.
    pub(crate) fn next_line(&mut self) -> Result<Option<&[u8]>, String> {
        self.buf.clear();
        loop {
            let available = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(format!("cannot read the bundle: {e}")),
            };
            if available.is_empty() {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                return Err(format!("line {} is cut off (the file ends without a newline)", self.line_no + 1));
            }
            let (take, done) = match available.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (available.len(), false),
            };
            if self.buf.len() + take > MAX_LINE + 1 {
                return Err(format!("line {} is longer than {MAX_LINE} bytes", self.line_no + 1));
            }
            self.buf.extend_from_slice(&available[..take]);
            self.inner.consume(take);
            if done {
                break;
            }
        }
        self.line_no += 1;
        self.before = self.digest.clone();
        self.digest.update(&self.buf);
        self.buf.pop();
        Ok(Some(&self.buf))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn base64_is_read_canonical_only() {
        // docs/FORMAT.md §8.1: padding required, no nonzero trailing bits.
        assert_eq!(B64.decode("AA==").unwrap(), [0]);
        assert!(B64.decode("AA").is_err(), "missing padding");
        assert!(B64.decode("AB==").is_err(), "nonzero trailing bits");
        assert!(B64.decode("A A=").is_err());
    }

    fn key() -> PublicKey {
        PublicKey::from_signing(&ed25519_dalek::SigningKey::from_bytes(&[9; 32]))
    }

    #[test]
    fn every_record_round_trips() {
        let records = vec![
            Record::Header { version: 1, ledger: Hash([3; 32]), exporter: "example.com/a".into() },
            Record::Origin { name: "example.com/a".into(), key: key(), from: 0, to: 12 },
            Record::Leaf { index: 7, signature: [4; 64], statement: br#"{"a":"b c"}"#.to_vec() },
            Record::Checkpoint { note: "o\n1\nAAAA\n\n\u{2014} o abc\n".into() },
            Record::Blob { sha256: Hash([5; 32]), size: 3 },
            Record::Data { bytes: vec![0, 1, 2] },
            Record::End { digest: Hash([6; 32]) },
        ];
        for r in records {
            assert_eq!(Record::parse(&r.encode()).unwrap(), r);
        }
    }

    #[test]
    fn bad_lines_are_refused_with_a_reason() {
        for (line, why) in [
            (&b"leaf 01 AAAA {}"[..], "decimal"),
            (b"leaf 1 AAAA {}", "64 bytes"),
            (b"origin nope 0 1", "verifier key"),
            (b"blob ABC 1", "hex"),
            (b"end 00", "hex"),
            (b"frobnicate 1", "unknown record"),
            (b"nospace", "type and fields"),
        ] {
            let e = Record::parse(line).unwrap_err();
            assert!(e.contains(why), "{e}");
        }
    }

    #[test]
    fn reader_keeps_digest_caps_lines_and_detects_zstd() {
        let text = b"one\ntwo\n".to_vec();
        let mut r = Reader::new(std::io::Cursor::new(text.clone())).unwrap();
        assert_eq!(r.next_line().unwrap(), Some(&b"one"[..]));
        assert_eq!(r.next_line().unwrap(), Some(&b"two"[..]));
        assert_eq!(r.digest_before(), Hash::of(&[b"one\n"]));
        assert_eq!(r.next_line().unwrap(), None);
        let z = zstd::encode_all(&text[..], 3).unwrap();
        let mut r = Reader::new(std::io::Cursor::new(z)).unwrap();
        assert!(r.compressed());
        assert_eq!(r.next_line().unwrap(), Some(&b"one"[..]));
        let mut r = Reader::new(std::io::Cursor::new(b"cut".to_vec())).unwrap();
        assert!(r.next_line().unwrap_err().contains("cut off"));
        let mut r = Reader::new(std::io::Cursor::new(vec![b'x'; MAX_LINE + 10])).unwrap();
        assert!(r.next_line().unwrap_err().contains("longer than"));
    }

    #[test]
    fn a_decompression_bomb_stops_at_the_ratio_cap() {
        // 1 GiB of one line's worth of zeros compresses to about 40 KB.
        let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 19).unwrap();
        let zeros = vec![b'A'; 1 << 20];
        for _ in 0..1024 {
            enc.write_all(&zeros).unwrap();
        }
        let z = enc.finish().unwrap();
        let mut r = Reader::new(std::io::Cursor::new(z)).unwrap();
        let e = r.next_line().unwrap_err();
        assert!(e.contains("longer than") || e.contains("decompression bomb"), "{e}");
        let mut lines = Vec::new();
        let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 19).unwrap();
        let line = [vec![b'A'; 1000], vec![b'\n']].concat();
        for _ in 0..(200 << 10) {
            enc.write_all(&line).unwrap();
        }
        let z = enc.finish().unwrap();
        let mut r = Reader::new(std::io::Cursor::new(z)).unwrap();
        let e = loop {
            match r.next_line() {
                Ok(Some(_)) => lines.push(()),
                Ok(None) => panic!("200 MB from a tiny file must not be read"),
                Err(e) => break e,
            }
        };
        assert!(e.contains("decompression bomb"), "{e}");
        assert!((lines.len() as u64) < (RATIO_SLACK / 1000) + 100_000);
    }

    proptest! {
        #[test]
        fn leaf_statements_survive_any_bytes_but_newline(
            st in proptest::collection::vec(any::<u8>().prop_filter("no newline", |b| *b != b'\n'), 0..300),
            index in 0u64..u64::MAX,
        ) {
            let r = Record::Leaf { index, signature: [1; 64], statement: st };
            prop_assert_eq!(Record::parse(&r.encode()).unwrap(), r);
        }

        #[test]
        fn parse_never_panics(line in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = Record::parse(&line);
        }
    }
}
