//! Statements: the signed unit of the ledger. `{v, kind, actor, ts, body, refs}` serialized once as RFC 8785
//! canonical JSON; entry id = SHA-256 of those bytes; the actor signs DSSE PAE(payload type, bytes).

use super::dsse::{Domain, pae, pae_into};
use super::hash::{EntryId, Hash};
use super::key::PublicKey;
use ed25519_dalek::{Signer, SigningKey};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use thiserror::Error;

/// The statement format version this build writes and reads.
pub(crate) const STATEMENT_VERSION: u32 = 2;

/// Statements larger than this are refused (keeps every entry tlog-tiles compatible).
pub(crate) const MAX_STATEMENT_LEN: usize = 65_535;

/// Deepest nesting of arrays and objects a statement may have (the statement object itself is level 1).
pub(crate) const MAX_DEPTH: usize = 64;

/// Most JSON values (members, elements and containers) a statement may have.
pub(crate) const MAX_VALUES: usize = 16_384;

/// The largest integer a body may carry as a JSON number (2^53 - 1); larger ones go in strings.
pub(crate) const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum StatementError {
    #[error("statement is not valid JSON of the statement shape: {0}")]
    Malformed(String),
    #[error("statement version {0} is not supported (this build reads version {STATEMENT_VERSION})")]
    Version(u32),
    #[error("statement kind {0:?} is not a valid kind (lowercase letters, digits, '.', '_' or '-')")]
    Kind(String),
    #[error("statement actor {0:?} is not an ed25519 public key")]
    Actor(String),
    #[error("statement time {0:?} is not an RFC 3339 UTC time ending in Z")]
    Time(String),
    #[error("statement ref {0:?} is not an entry id (64 lowercase hex)")]
    Ref(String),
    #[error("statement body has a non-integer or out-of-range number ({0}); put such values in strings")]
    Number(String),
    #[error("statement is {0} bytes, more than the {MAX_STATEMENT_LEN} allowed")]
    TooLarge(usize),
    #[error("statement nests arrays and objects deeper than {MAX_DEPTH} levels or has more than {MAX_VALUES} values")]
    TooDeep,
    #[error("signature does not verify for the statement's actor in this ledger")]
    BadSignature,
    #[error("a {0} statement cannot be signed before the ledger exists (only a genesis can)")]
    NoLedger(String),
}

/// A statement before it is serialized.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    pub v: u32,
    pub kind: String,
    pub actor: String,
    pub ts: String,
    pub body: serde_json::Value,
    pub refs: Vec<String>,
}

/// A statement as a reader of bodies takes it: the fields of [`Statement`], read with the same acceptance,
/// its strings borrowed from the bytes where they hold no escape (the projection reads every entry of a
/// request: the allocations of the owned form were a tenth of `verify`'s folds). Its body is a JSON value,
/// or only checked ([`ValidJson`]) for a reader that asks whether a statement can be read.
#[derive(Debug, Deserialize)]
pub(crate) struct StatementView<'a, B = serde_json::Value> {
    /// Read (not used) so that exactly what [`Statement`] accepts is accepted.
    #[allow(dead_code)]
    v: u32,
    #[serde(borrow)]
    pub kind: Cow<'a, str>,
    #[serde(borrow)]
    pub actor: Cow<'a, str>,
    #[serde(borrow)]
    pub ts: Cow<'a, str>,
    pub body: B,
    #[allow(dead_code)]
    #[serde(borrow)]
    refs: Vec<Cow<'a, str>>,
}

/// The fields verification needs, read from stored bytes without re-serializing them. No other top-level
/// member is accepted: the statement holds exactly these six (docs/FORMAT.md §1), and a member skipped
/// unread would hold bytes no rule checks (a lone surrogate, a number no double holds, bytes not UTF-8).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Head<'a, B> {
    v: u32,
    #[serde(borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    actor: Cow<'a, str>,
    #[serde(borrow)]
    ts: Cow<'a, str>,
    /// [`ValidJson`]: parsed in full (within [`check_limits`]) so that what verification accepts, readers
    /// can read; [`serde::de::IgnoredAny`] for the structural check, which vouches for hashes only.
    #[allow(dead_code)]
    body: B,
    refs: Vec<Cow<'a, str>>,
}

/// A JSON value read in full through the parser paths `serde_json::Value` takes (every string decoded,
/// escapes and surrogates checked, every number parsed), so that it accepts exactly what a `Value` would,
/// without building one: verification reads every body, and the allocations were a fifth of its time.
/// The evidence parsers skip what they do not keep with it too.
#[derive(Debug)]
pub(crate) struct ValidJson;

impl<'de> Deserialize<'de> for ValidJson {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ValidJson, D::Error> {
        d.deserialize_any(ValidJsonVisitor)
    }
}

pub(crate) struct ValidJsonVisitor;

impl<'de> serde::de::Visitor<'de> for ValidJsonVisitor {
    type Value = ValidJson;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<ValidJson, E> {
        Ok(ValidJson)
    }

    fn visit_i64<E>(self, _: i64) -> Result<ValidJson, E> {
        Ok(ValidJson)
    }

    fn visit_u64<E>(self, _: u64) -> Result<ValidJson, E> {
        Ok(ValidJson)
    }

    fn visit_f64<E>(self, _: f64) -> Result<ValidJson, E> {
        Ok(ValidJson)
    }

    fn visit_str<E>(self, _: &str) -> Result<ValidJson, E> {
        Ok(ValidJson)
    }

    fn visit_unit<E>(self) -> Result<ValidJson, E> {
        Ok(ValidJson)
    }

    fn visit_none<E>(self) -> Result<ValidJson, E> {
        Ok(ValidJson)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<ValidJson, D::Error> {
        ValidJson::deserialize(d)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<ValidJson, A::Error> {
        while seq.next_element::<ValidJson>()?.is_some() {}
        Ok(ValidJson)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<ValidJson, A::Error> {
        while map.next_key::<ValidJson>()?.is_some() {
            map.next_value::<ValidJson>()?;
        }
        Ok(ValidJson)
    }
}

/// What verification learns from a statement's stored bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedHead {
    pub kind: String,
    pub actor: PublicKey,
    pub ts: String,
    pub refs: Vec<EntryId>,
}

/// Statement bytes with their id and their actor's signature, exactly as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedStatement {
    pub bytes: Vec<u8>,
    pub id: EntryId,
    pub signature: [u8; 64],
}

impl std::fmt::Debug for SignedStatement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SignedStatement({}, {} bytes)", self.id.short(16), self.bytes.len())
    }
}

/// The current time as a statement timestamp (RFC 3339 UTC, milliseconds, `Z`).
pub fn now_ts() -> String {
    format_ts(chrono::Utc::now())
}

pub fn format_ts(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Parses a statement timestamp; only UTC times written with `Z` are accepted (RFC 3339, as chrono reads
/// it).
pub fn parse_ts(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    if let Some(t) = written_ts(s) {
        return Some(t);
    }
    if !s.ends_with('Z') {
        return None;
    }
    chrono::DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&chrono::Utc))
}

/// A time in the one shape [`format_ts`] writes (`YYYY-MM-DDTHH:MM:SS.mmmZ`), computed directly; `None`
/// for anything else (the general RFC 3339 parser then decides, so what is accepted does not change).
/// Every reader of a ledger parses every entry's time, several times over in `verify`: the general
/// parser was a fiftieth of verify's work beside the signatures.
fn written_ts(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::Datelike as _;
    let b = s.as_bytes();
    if b.len() != 24 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    if b[19] != b'.' || b[23] != b'Z' {
        return None;
    }
    let num = |from: usize, to: usize| {
        b[from..to].iter().try_fold(0u32, |n, &c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second, milli) = (num(11, 13)?, num(14, 16)?, num(17, 19)?, num(20, 23)?);
    // A leap second (60) is left to the general parser.
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let date = chrono::NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    // 719,163: days from 0001-01-01 (day 1 of the common era) to 1970-01-01.
    let days = i64::from(date.num_days_from_ce()) - 719_163;
    let ms = days * 86_400_000 + i64::from(hour * 3600 + minute * 60 + second) * 1000 + i64::from(milli);
    chrono::DateTime::from_timestamp_millis(ms)
}

/// The limits every stored statement obeys before any full parse: at most [`MAX_STATEMENT_LEN`] bytes,
/// [`MAX_DEPTH`] levels of nesting and [`MAX_VALUES`] values. One scan, no recursion; import, verify and
/// every reader apply it, so what import accepts every reader can parse.
pub(crate) fn check_limits(bytes: &[u8]) -> Result<(), StatementError> {
    if bytes.len() > MAX_STATEMENT_LEN {
        return Err(StatementError::TooLarge(bytes.len()));
    }
    let (mut depth, mut values, mut at) = (0usize, 1usize, 0usize);
    while let Some(&b) = bytes.get(at) {
        at += 1;
        match b {
            // A string is skipped to its closing quote (past every escaped byte), a vectorized search
            // instead of a byte-by-byte walk: most of a statement is strings, and every reader scans.
            b'"' => loop {
                let Some(k) = bytes.get(at..).and_then(|rest| memchr::memchr2(b'"', b'\\', rest)) else {
                    // An unterminated string: nothing after it counts (the parser refuses it).
                    return Ok(());
                };
                let closing = bytes[at + k] == b'"';
                at += k + if closing { 1 } else { 2 };
                if closing {
                    break;
                }
            },
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(StatementError::TooDeep);
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            b',' => {
                values += 1;
                if values > MAX_VALUES {
                    return Err(StatementError::TooDeep);
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn valid_kind(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 64
        && k.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

fn parse_ref(r: &str) -> Option<EntryId> {
    if r.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    Hash::from_hex(r)
}

fn check_numbers(v: &serde_json::Value) -> Result<(), StatementError> {
    match v {
        serde_json::Value::Number(n) => {
            let ok = n.as_u64().is_some_and(|u| u <= MAX_SAFE_INTEGER)
                || n.as_i64().is_some_and(|i| i.unsigned_abs() <= MAX_SAFE_INTEGER);
            if ok { Ok(()) } else { Err(StatementError::Number(n.to_string())) }
        }
        serde_json::Value::Array(a) => a.iter().try_for_each(check_numbers),
        serde_json::Value::Object(o) => o.values().try_for_each(check_numbers),
        _ => Ok(()),
    }
}

impl Statement {
    /// A new statement by `actor`, timestamped now.
    pub fn new(kind: &str, actor: &PublicKey, body: serde_json::Value, refs: &[EntryId]) -> Statement {
        Self::new_at(kind, actor, body, refs, chrono::Utc::now())
    }

    /// A new statement by `actor`, timestamped `at`.
    pub fn new_at(
        kind: &str,
        actor: &PublicKey,
        body: serde_json::Value,
        refs: &[EntryId],
        at: chrono::DateTime<chrono::Utc>,
    ) -> Statement {
        Statement {
            v: STATEMENT_VERSION,
            kind: kind.to_string(),
            actor: actor.encode(),
            ts: format_ts(at),
            body,
            refs: refs.iter().map(|r| r.to_hex()).collect(),
        }
    }

    /// Checks the shape rules and returns the canonical (RFC 8785) bytes.
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, StatementError> {
        if self.v != STATEMENT_VERSION {
            return Err(StatementError::Version(self.v));
        }
        if !valid_kind(&self.kind) {
            return Err(StatementError::Kind(self.kind.clone()));
        }
        if PublicKey::parse(&self.actor).is_none() {
            return Err(StatementError::Actor(self.actor.clone()));
        }
        if parse_ts(&self.ts).is_none() {
            return Err(StatementError::Time(self.ts.clone()));
        }
        if let Some(bad) = self.refs.iter().find(|r| parse_ref(r).is_none()) {
            return Err(StatementError::Ref(bad.clone()));
        }
        check_numbers(&self.body)?;
        let bytes = serde_json_canonicalizer::to_vec(self).map_err(|e| StatementError::Malformed(e.to_string()))?;
        check_limits(&bytes)?;
        Ok(bytes)
    }

    /// Serializes and signs for the ledger whose signing domain is `domain`. The signing key must be the
    /// statement's actor.
    pub fn sign(&self, key: &SigningKey, domain: &Domain) -> Result<SignedStatement, StatementError> {
        if PublicKey::from_signing(key).encode() != self.actor {
            return Err(StatementError::Actor(self.actor.clone()));
        }
        let payload_type =
            domain.payload_type(&self.kind).ok_or_else(|| StatementError::NoLedger(self.kind.clone()))?;
        let bytes = self.canonical_bytes()?;
        let signature = key.sign(&pae(payload_type, &bytes)).to_bytes();
        Ok(SignedStatement { id: Hash::of(&[&bytes]), bytes, signature })
    }
}

/// Signs every statement with `key` in `domain`, in order, on every core (`ROLLCALL_VERIFY_THREADS`
/// caps the threads): what a batch write of many entries spends most of its time on.
pub fn sign_all(
    statements: &[Statement],
    key: &SigningKey,
    domain: &Domain,
) -> Result<Vec<SignedStatement>, StatementError> {
    let threads = super::pipeline::threads().min(statements.len().div_ceil(64)).max(1);
    if threads == 1 {
        return statements.iter().map(|st| st.sign(key, domain)).collect();
    }
    let per = statements.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let parts: Vec<_> = statements
            .chunks(per)
            .map(|part| scope.spawn(move || part.iter().map(|st| st.sign(key, domain)).collect::<Result<Vec<_>, _>>()))
            .collect();
        let mut out = Vec::with_capacity(statements.len());
        for part in parts {
            out.extend(part.join().map_err(|_| StatementError::Malformed("a signing thread failed".into()))??);
        }
        Ok(out)
    })
}

impl SignedStatement {
    /// Rebuilds from stored parts, recomputing the id from the bytes.
    pub fn from_parts(bytes: Vec<u8>, signature: &[u8]) -> Option<SignedStatement> {
        let signature: [u8; 64] = signature.try_into().ok()?;
        Some(SignedStatement { id: Hash::of(&[&bytes]), bytes, signature })
    }

    /// Parses the whole statement (for domain code that reads bodies).
    pub fn statement(&self) -> Result<Statement, StatementError> {
        check_limits(&self.bytes)?;
        serde_json::from_slice(&self.bytes).map_err(|e| StatementError::Malformed(e.to_string()))
    }

    /// As [`SignedStatement::statement`], its strings borrowed from the bytes and its body kept as its
    /// JSON text (the same acceptance: the body is checked to be what a `serde_json::Value` reads).
    pub(crate) fn view(&self) -> Result<StatementView<'_, Box<serde_json::value::RawValue>>, StatementError> {
        check_limits(&self.bytes)?;
        let malformed = |e: serde_json::Error| StatementError::Malformed(e.to_string());
        let view: StatementView<'_, Box<serde_json::value::RawValue>> =
            serde_json::from_slice(&self.bytes).map_err(malformed)?;
        serde_json::from_str::<ValidJson>(view.body.get()).map_err(malformed)?;
        Ok(view)
    }

    /// Whether [`SignedStatement::statement`] reads it, without building its body (a listing that only
    /// marks the unreadable).
    pub(crate) fn readable(&self) -> bool {
        check_limits(&self.bytes).is_ok() && serde_json::from_slice::<StatementView<'_, ValidJson>>(&self.bytes).is_ok()
    }

    /// Full check of stored bytes: shape, then the actor's signature with `verify_strict` in `domain`.
    pub fn check(&self, domain: &Domain) -> Result<CheckedHead, StatementError> {
        check_statement(&self.bytes, &self.signature, domain)
    }
}

/// What a reader of a statement already checked whole by [`parse_head_with`] (limits, shape, every
/// member, signature) still needs of it: its kind, time and body. The other members are skipped, and the
/// limits are not scanned again (serde_json's own depth limit still bounds the parse).
#[derive(Debug, Deserialize)]
pub(crate) struct Reread<'a> {
    #[serde(borrow)]
    pub kind: Cow<'a, str>,
    #[serde(borrow)]
    pub ts: Cow<'a, str>,
    /// Its JSON text: the verifier checked that a `serde_json::Value` reads it.
    pub body: Box<serde_json::value::RawValue>,
}

/// Reads statement `bytes` a verifier has just checked whole again, for [`Reread`]'s members only.
pub(crate) fn reread(bytes: &[u8]) -> Result<Reread<'_>, StatementError> {
    serde_json::from_slice(bytes).map_err(|e| StatementError::Malformed(e.to_string()))
}

/// Reads the head of stored statement bytes (shape only; no signature check). The bytes are never
/// re-serialized.
pub(crate) fn parse_head(bytes: &[u8]) -> Result<CheckedHead, StatementError> {
    parse_head_with(bytes, &mut KeyCache::default())
}

/// Parsed actor keys by their text form: decompressing a curve point costs about as much as a fifth of a
/// signature check, and a log has few distinct signers.
#[derive(Default)]
pub(crate) struct KeyCache(std::collections::HashMap<String, Option<PublicKey>, foldhash::quality::RandomState>);

impl KeyCache {
    pub(crate) fn parse(&mut self, actor: &str) -> Option<PublicKey> {
        if let Some(k) = self.0.get(actor) {
            return *k;
        }
        let k = PublicKey::parse(actor);
        if self.0.len() < 4096 {
            self.0.insert(actor.to_string(), k);
        }
        k
    }
}

/// As [`parse_head`], reusing parsed keys from `keys`.
pub(crate) fn parse_head_with(bytes: &[u8], keys: &mut KeyCache) -> Result<CheckedHead, StatementError> {
    head_of::<ValidJson>(bytes, keys)
}

/// As [`parse_head_with`], but the body is only skipped over (it must still be JSON within the limits),
/// not decoded: for the structural check of stored rows (hashes, leaves, chain, tree, checkpoints), which
/// says nothing of bodies.
pub(crate) fn parse_head_shallow(bytes: &[u8], keys: &mut KeyCache) -> Result<CheckedHead, StatementError> {
    head_of::<serde::de::IgnoredAny>(bytes, keys)
}

fn head_of<'a, B: Deserialize<'a>>(bytes: &'a [u8], keys: &mut KeyCache) -> Result<CheckedHead, StatementError> {
    check_limits(bytes)?;
    let head: Head<'_, B> = serde_json::from_slice(bytes).map_err(|e| StatementError::Malformed(e.to_string()))?;
    if head.v != STATEMENT_VERSION {
        return Err(StatementError::Version(head.v));
    }
    if !valid_kind(&head.kind) {
        return Err(StatementError::Kind(head.kind.into_owned()));
    }
    let actor = keys.parse(&head.actor).ok_or_else(|| StatementError::Actor(head.actor.to_string()))?;
    if parse_ts(&head.ts).is_none() {
        return Err(StatementError::Time(head.ts.into_owned()));
    }
    let mut refs = Vec::with_capacity(head.refs.len());
    for r in &head.refs {
        refs.push(parse_ref(r).ok_or_else(|| StatementError::Ref(r.to_string()))?);
    }
    Ok(CheckedHead { kind: head.kind.into_owned(), actor, ts: head.ts.into_owned(), refs })
}

/// Reads the head of stored statement bytes and checks the actor's signature over DSSE PAE (under the
/// ledger's payload type, `domain`) with `verify_strict`.
pub fn check_statement(bytes: &[u8], signature: &[u8], domain: &Domain) -> Result<CheckedHead, StatementError> {
    check_statement_with(bytes, signature, &mut KeyCache::default(), domain)
}

/// As [`check_statement`], reusing parsed keys from `keys`.
pub(crate) fn check_statement_with(
    bytes: &[u8],
    signature: &[u8],
    keys: &mut KeyCache,
    domain: &Domain,
) -> Result<CheckedHead, StatementError> {
    let head = parse_head_with(bytes, keys)?;
    check_signature(&head.kind, &head.actor, bytes, signature, domain)?;
    Ok(head)
}

/// The signature half of [`check_statement_with`]: `signature` must be `actor`'s over DSSE PAE of `bytes`
/// under the payload type of `kind` in `domain` (`verify_strict`). For a caller that has already read the
/// head with [`parse_head_with`] and checks signatures elsewhere (an import stages rows while its workers
/// check them).
pub(crate) fn check_signature(
    kind: &str,
    actor: &PublicKey,
    bytes: &[u8],
    signature: &[u8],
    domain: &Domain,
) -> Result<(), StatementError> {
    let Some(payload_type) = domain.payload_type(kind) else {
        return Err(StatementError::BadSignature);
    };
    // One buffer per thread for the signed message: a verification checks a million of them.
    thread_local! {
        static MESSAGE: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let valid = MESSAGE.with_borrow_mut(|msg| {
        pae_into(msg, payload_type, bytes);
        let valid = actor.verify(msg, signature);
        if msg.capacity() > MAX_STATEMENT_LEN + 1024 {
            *msg = Vec::new();
        }
        valid
    });
    if !valid {
        return Err(StatementError::BadSignature);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[1u8; 32])
    }

    fn dom() -> Domain {
        Domain::of(&Hash([7; 32]))
    }

    fn stmt(body: serde_json::Value) -> Statement {
        let mut s = Statement::new("note", &PublicKey::from_signing(&key()), body, &[]);
        s.ts = "2026-11-23T10:00:00.000Z".into();
        s
    }

    /// A top-level member beyond the six is refused, whatever it holds (it was skipped unread, so a
    /// lone surrogate or a number no double holds passed where the body's would not).
    #[test]
    fn a_statement_with_another_top_level_member_is_refused() {
        let signed = stmt(json!({"text": "x"})).sign(&key(), &dom()).unwrap();
        let text = String::from_utf8(signed.bytes.clone()).unwrap();
        assert!(parse_head(text.as_bytes()).is_ok());
        for extra in [r#""x":"\ud800","#, r#""x":1e999,"#, r#""x":1,"#] {
            let bytes = text.replacen('{', &format!("{{{extra}"), 1);
            let e = parse_head(bytes.as_bytes()).unwrap_err();
            assert!(e.to_string().contains("unknown field"), "{extra}: {e}");
            assert!(parse_head_shallow(bytes.as_bytes(), &mut KeyCache::default()).is_err(), "{extra}");
        }
    }

    #[test]
    fn deep_or_wide_statements_are_refused_by_every_parser() {
        let deep = format!(r#"{{"v":2,"body":{{"a":{}1{}}}}}"#, "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(check_limits(deep.as_bytes()), Err(StatementError::TooDeep));
        assert_eq!(parse_head(deep.as_bytes()).unwrap_err(), StatementError::TooDeep);
        let ok = format!(r#"{{"a":{}"[{{,\"" {}}}"#, "[".repeat(63), "]".repeat(63));
        assert_eq!(check_limits(ok.as_bytes()), Ok(()));
        let wide = format!("[{}0]", "0,".repeat(MAX_VALUES));
        assert_eq!(check_limits(wide.as_bytes()), Err(StatementError::TooDeep));
    }

    #[test]
    fn canonical_bytes_sort_keys_and_sign_verifies() {
        let s = stmt(json!({"z": 1, "a": "x"}));
        let signed = s.sign(&key(), &dom()).unwrap();
        let text = String::from_utf8(signed.bytes.clone()).unwrap();
        assert!(text.starts_with(r#"{"actor":"ed25519:"#), "{text}");
        assert!(text.contains(r#""body":{"a":"x","z":1}"#), "{text}");
        assert_eq!(signed.id, Hash::of(&[&signed.bytes]));
        let head = signed.check(&dom()).unwrap();
        assert_eq!(head.kind, "note");
        assert_eq!(signed.statement().unwrap(), s);
    }

    #[test]
    fn signatures_are_bound_to_one_ledger() {
        let signed = stmt(json!({"text": "hello"})).sign(&key(), &dom()).unwrap();
        let other = Domain::of(&Hash([8; 32]));
        assert_eq!(signed.check(&other), Err(StatementError::BadSignature));
        assert_eq!(signed.check(&Domain::genesis_only()), Err(StatementError::BadSignature));
        assert!(matches!(stmt(json!({})).sign(&key(), &Domain::genesis_only()), Err(StatementError::NoLedger(_))));
        // A genesis is signed under the bare type and verifies in the ledger it founds.
        let mut g = stmt(json!({}));
        g.kind = "genesis".into();
        let g = g.sign(&key(), &Domain::genesis_only()).unwrap();
        assert!(g.check(&Domain::of(&g.id)).is_ok());
    }

    #[test]
    fn tampered_bytes_or_signature_fail() {
        let signed = stmt(json!({"text": "hello"})).sign(&key(), &dom()).unwrap();
        let mut bytes = signed.bytes.clone();
        let pos = bytes.iter().position(|&b| b == b'h').unwrap();
        bytes[pos] = b'j';
        assert_eq!(check_statement(&bytes, &signed.signature, &dom()), Err(StatementError::BadSignature));
        let mut sig = signed.signature;
        sig[5] ^= 1;
        assert_eq!(check_statement(&signed.bytes, &sig, &dom()), Err(StatementError::BadSignature));
        assert!(check_statement(&signed.bytes[1..], &signed.signature, &dom()).is_err());
    }

    /// The structural check's head reader reads the same head as the full one, refuses what is not a
    /// statement head or not JSON, and differs only in not decoding the body.
    #[test]
    fn the_shallow_head_is_the_full_head_without_the_body_decoded() {
        let s = stmt(json!({"text": "a \u{1} b \"q\" ü 😀", "n": [1, 2, {"k": null}]})).sign(&key(), &dom()).unwrap();
        let mut keys = KeyCache::default();
        let full = parse_head_with(&s.bytes, &mut keys).unwrap();
        let shallow = parse_head_shallow(&s.bytes, &mut keys).unwrap();
        assert_eq!(
            (&full.kind, &full.actor, &full.ts, &full.refs),
            (&shallow.kind, &shallow.actor, &shallow.ts, &shallow.refs)
        );
        for bad in [
            &br#"{"v":2,"kind":"note","actor":"x","ts":"2026-11-23T10:00:00.000Z","body":{},"refs":[]}"#[..],
            br#"{"v":2,"kind":"note","body":{}}"#,
            br#"{"v":2,"kind":"note","actor":"#,
            b"not json",
        ] {
            assert!(parse_head_shallow(bad, &mut keys).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        let deep = format!(r#"{{"v":2,"body":{}1{}}}"#, "[".repeat(100), "]".repeat(100));
        assert_eq!(parse_head_shallow(deep.as_bytes(), &mut keys).unwrap_err(), StatementError::TooDeep);
    }

    #[test]
    fn shape_rules_are_enforced() {
        assert!(matches!(stmt(json!({"x": 1.5})).canonical_bytes(), Err(StatementError::Number(_))));
        assert!(matches!(stmt(json!({"x": 9007199254740993u64})).canonical_bytes(), Err(StatementError::Number(_))));
        assert!(stmt(json!({"x": -9007199254740991i64})).canonical_bytes().is_ok());
        let mut s = stmt(json!({}));
        s.kind = "Note".into();
        assert!(matches!(s.canonical_bytes(), Err(StatementError::Kind(_))));
        let mut s = stmt(json!({}));
        s.ts = "2026-11-23T10:00:00+01:00".into();
        assert!(matches!(s.canonical_bytes(), Err(StatementError::Time(_))));
        let mut s = stmt(json!({}));
        s.refs = vec!["ABC".into()];
        assert!(matches!(s.canonical_bytes(), Err(StatementError::Ref(_))));
        let s = stmt(json!({"text": "x".repeat(70_000)}));
        assert!(matches!(s.canonical_bytes(), Err(StatementError::TooLarge(_))));
        // Signing with a key other than the actor is refused.
        assert!(stmt(json!({})).sign(&SigningKey::from_bytes(&[2u8; 32]), &dom()).is_err());
    }

    #[test]
    fn escaped_head_fields_still_parse() {
        // A hand-written statement whose kind uses a JSON escape: verification must not depend on
        // borrowing and must still reject the bad signature cleanly.
        let bytes = br#"{"actor":"ed25519:00","body":{},"kind":"n\u006fte","refs":[],"ts":"x","v":2}"#;
        assert!(matches!(check_statement(bytes, &[0u8; 64], &dom()), Err(StatementError::Actor(_))));
    }

    fn same_as_value(text: &str) -> bool {
        let value = serde_json::from_str::<serde_json::Value>(text).is_ok();
        let valid = serde_json::from_str::<ValidJson>(text).is_ok();
        value == valid
    }

    #[test]
    fn a_body_is_accepted_exactly_when_a_value_would_be() {
        for text in [
            r#"{"a":[1,2.5,-3,true,null,"x\u00e9"],"b":{}}"#,
            r#""\ud800""#,
            r#""\udc00\ud800""#,
            r#""\ud83d\ude00""#,
            r#""\x""#,
            r#""\u12g4""#,
            "1e999",
            "-1e999",
            "18446744073709551616",
            r#"{"a":1,"a":2}"#,
            r#"{"a" 1}"#,
            r#"{1:2}"#,
            "[1,]",
            "\"tab\there\"",
            "\"nul\u{0}\"",
        ] {
            assert!(same_as_value(text), "{text}");
        }
        assert!(serde_json::from_str::<ValidJson>(r#""\ud800""#).is_err());
        assert!(serde_json::from_str::<ValidJson>("1e999").is_err());
    }

    #[test]
    fn stored_bytes_are_read_as_format_md_says() {
        let actor = PublicKey::from_signing(&key()).encode();
        let with = |rest: &str| {
            format!(r#"{{"actor":"{actor}","kind":"note","refs":[],"ts":"2026-11-23T10:00:00.000Z","v":2,{rest}}}"#)
        };
        let head = |text: String| parse_head_with(text.as_bytes(), &mut KeyCache::default());
        // Not re-checked: duplicate names in the body, floats.
        assert!(head(with(r#""body":{"a":1,"a":2.5}"#)).is_ok());
        // Refused: another top-level member, a head member given twice, a lone surrogate or a number
        // beyond a double, in the body.
        assert!(head(with(r#""body":{},"extra":true"#)).is_err());
        assert!(head(with(r#""body":{},"kind":"note""#)).is_err());
        assert!(head(with(r#""body":{"t":"\ud800"}"#)).is_err());
        assert!(head(with(r#""body":{"n":1e999}"#)).is_err());
    }

    /// The borrowed view readers fold from accepts exactly what [`Statement`] does, with the same fields.
    #[test]
    fn the_borrowed_view_reads_what_the_statement_reads() {
        let actor = PublicKey::from_signing(&key()).encode();
        let head = format!(r#""actor":"{actor}","refs":[],"ts":"2026-11-23T10:00:00.000Z","v":2"#);
        let cases = [
            format!(r#"{{{head},"kind":"note","body":{{"a":1}}}}"#),
            format!(r#"{{{head},"kind":"no\u0074e","body":{{"a":1,"a":2.5}}}}"#),
            format!(r#"{{{head},"kind":"note","body":{{}},"extra":true}}"#),
            format!(r#"{{{head},"kind":"note","body":{{}},"kind":"note"}}"#),
            format!(r#"{{{head},"kind":"note"}}"#),
            format!(r#"{{{head},"kind":"note","body":{{"t":"\ud800"}}}}"#),
            format!(r#"{{{head},"kind":"note","body":{{"n":1e999}}}}"#),
            format!(r#"{{{head},"kind":7,"body":{{}}}}"#),
            format!(r#"{{{head},"kind":"note","body":{{}}}} trailing"#),
            format!(r#"{{"actor":"{actor}","refs":[],"ts":"2026-11-23T10:00:00.000Z","kind":"note","body":{{}}}}"#),
            "[]".to_string(),
        ];
        for text in cases {
            let signed = SignedStatement { id: Hash([0; 32]), bytes: text.clone().into_bytes(), signature: [0; 64] };
            assert_eq!(signed.readable(), signed.statement().is_ok(), "{text}");
            match (signed.statement(), signed.view()) {
                (Ok(st), Ok(view)) => {
                    assert_eq!(
                        (st.kind.as_str(), st.actor.as_str(), st.ts.as_str()),
                        (&*view.kind, &*view.actor, &*view.ts)
                    );
                    assert_eq!(st.body, serde_json::from_str::<serde_json::Value>(view.body.get()).unwrap(), "{text}");
                }
                (Err(_), Err(_)) => {}
                (st, view) => panic!("{text}: statement {:?}, view {:?}", st.is_ok(), view.is_ok()),
            }
        }
    }

    /// The limits scan as it was first written, byte by byte: the reference the skipping scan must agree
    /// with.
    fn check_limits_bytewise(bytes: &[u8]) -> Result<(), StatementError> {
        if bytes.len() > MAX_STATEMENT_LEN {
            return Err(StatementError::TooLarge(bytes.len()));
        }
        let (mut depth, mut values, mut in_str, mut esc) = (0usize, 1usize, false, false);
        for &b in bytes {
            if in_str {
                if esc {
                    esc = false;
                } else if b == b'\\' {
                    esc = true;
                } else if b == b'"' {
                    in_str = false;
                }
                continue;
            }
            match b {
                b'"' => in_str = true,
                b'{' | b'[' => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Err(StatementError::TooDeep);
                    }
                }
                b'}' | b']' => depth = depth.saturating_sub(1),
                b',' => values += 1,
                _ => {}
            }
            if values > MAX_VALUES {
                return Err(StatementError::TooDeep);
            }
        }
        Ok(())
    }

    #[test]
    fn the_limits_scan_skips_strings_as_the_bytewise_scan_does() {
        let deep = "[".repeat(MAX_DEPTH + 1);
        let wide = format!("[{}]", "0,".repeat(MAX_VALUES));
        for text in [
            r#"{"a":"[[[,,,\\\"{{"}"#,
            r#""\"#,
            r#""abc"#,
            r#"{"a":"\"}"#,
            r#""\\"[[["#,
            "",
            &deep,
            &format!("\"{deep}\""),
            &format!("\"\\\"{deep}\""),
            &format!("\"\\\\\"{deep}"),
            &wide,
            &format!("\"{wide}"),
        ] {
            assert_eq!(check_limits(text.as_bytes()), check_limits_bytewise(text.as_bytes()), "{text}");
        }
    }

    /// What the general RFC 3339 parser makes of a time ending in `Z` (what `parse_ts` did before its
    /// direct path).
    fn general_ts(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
        s.ends_with('Z').then(|| chrono::DateTime::parse_from_rfc3339(s).ok()).flatten().map(|t| t.to_utc())
    }

    #[test]
    fn written_times_read_as_the_general_parser_reads_them() {
        for s in [
            "2026-11-23T10:00:00.000Z",
            "1970-01-01T00:00:00.000Z",
            "1969-12-31T23:59:59.999Z",
            "0000-01-01T00:00:00.000Z",
            "9999-12-31T23:59:59.999Z",
            "2024-02-29T12:00:00.500Z",
            "2023-02-29T12:00:00.500Z",
            "2026-13-01T00:00:00.000Z",
            "2026-04-31T00:00:00.000Z",
            "2026-11-23T24:00:00.000Z",
            "2026-11-23T10:60:00.000Z",
            "2016-12-31T23:59:60.000Z",
            "2026-11-23T10:00:00.000z",
            "2026-11-23t10:00:00.000Z",
            "2026-11-23 10:00:00.000Z",
            "2026-11-23T10:00:00Z",
            "2026-11-23T10:00:00.000000Z",
            "2026-11-23T10:00:00.000+00:00",
            "+2026-11-23T10:00:00.00Z",
            "2026-11-23T10:00:0０.000Z",
        ] {
            assert_eq!(parse_ts(s), general_ts(s), "{s}");
        }
        assert!(written_ts("2026-11-23T10:00:00.000Z").is_some());
        // A leap second is read as FORMAT.md §2.1 says: the next second's first millisecond.
        let ms = |s: &str| parse_ts(s).map(|t| t.timestamp_millis());
        assert_eq!(ms("2016-12-31T23:59:60.000Z"), ms("2017-01-01T00:00:00.000Z"));
        assert_eq!(
            parse_ts(&format_ts(chrono::DateTime::from_timestamp_millis(1_764_000_123_456).unwrap()))
                .map(|t| t.timestamp_millis()),
            Some(1_764_000_123_456)
        );
    }

    proptest::proptest! {
        /// Any 24 characters in the written shape, digits or not, in range or not.
        #[test]
        fn the_direct_time_path_agrees_with_the_general_parser(
            s in r#"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}[Zz]|[0-9a\-:.TZ]{20,26}"#,
        ) {
            proptest::prop_assert_eq!(parse_ts(&s), general_ts(&s), "{}", s);
        }

        #[test]
        fn any_instant_written_reads_back(ms in -62_135_596_800_000i64..253_402_300_799_999) {
            let t = chrono::DateTime::from_timestamp_millis(ms).unwrap();
            proptest::prop_assert_eq!(parse_ts(&format_ts(t)), Some(t));
        }

        #[test]
        fn the_limits_scan_agrees_with_the_bytewise_scan(text in r#"(\[{0,70}|"|\\|,|\]|\{|a){0,40}"#) {
            proptest::prop_assert_eq!(check_limits(text.as_bytes()), check_limits_bytewise(text.as_bytes()));
        }

        #[test]
        fn json_validation_agrees_with_value(text in r#"[\[\]{}",:0-9eE.+\-a-z\\ ]{0,40}"#) {
            proptest::prop_assert!(same_as_value(&text), "{}", text);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let _ = check_statement(&bytes, &[0u8; 64], &dom());
        }

        /// A statement with an arbitrary body text (JSON-like characters, escapes, non-ASCII): readable
        /// exactly when `statement` reads it.
        #[test]
        fn readable_agrees_with_statement(body in r#"[\[\]{}",:0-9eE.+\-a-z\\ é\u{7f}]{0,40}"#) {
            let actor = PublicKey::from_signing(&key()).encode();
            let text = format!(r#"{{"actor":"{actor}","body":{body},"kind":"note","refs":[],"ts":"2026-11-23T10:00:00.000Z","v":2}}"#);
            let signed = SignedStatement { id: Hash([0; 32]), bytes: text.into_bytes(), signature: [0; 64] };
            proptest::prop_assert_eq!(signed.readable(), signed.statement().is_ok());
        }

        #[test]
        fn any_string_body_round_trips(text in ".{0,200}") {
            let signed = stmt(json!({"text": text})).sign(&key(), &dom()).unwrap();
            proptest::prop_assert!(signed.check(&dom()).is_ok());
            let back = signed.statement().unwrap();
            proptest::prop_assert_eq!(back.body["text"].as_str().unwrap(), text.as_str());
        }
    }
}
