//! Streaming JSON for evidence: typed visitors over `serde_json`'s `Deserializer` that keep only what the
//! recognisers use, so no `serde_json::Value` of a whole document is ever built. Values are read with
//! `deserialize_any`, so serde_json's recursion limit (128 levels) bounds nesting exactly as it does for a
//! `Value`; arrays kept in memory are capped (the rest is read and dropped). Repeated keys: the last wins,
//! as with a `Value`.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// Any JSON value, read (as a `serde_json::Value` would be) and dropped.
pub(crate) use crate::ledger::statement::{ValidJson as Skip, ValidJsonVisitor as SkipVisitor};

/// A JSON value kept only when it is a string or a number.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) enum Scalar {
    /// Anything else: null, a boolean, an array or an object.
    #[default]
    Other,
    Str(String),
    U64(u64),
    I64(i64),
    F64(f64),
}

impl Scalar {
    pub(crate) fn str(&self) -> Option<&str> {
        match self {
            Scalar::Str(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn string(&self) -> Option<String> {
        self.str().map(str::to_string)
    }

    /// As `Value::as_u64`.
    pub(crate) fn as_u64(&self) -> Option<u64> {
        match self {
            Scalar::U64(n) => Some(*n),
            Scalar::I64(n) => u64::try_from(*n).ok(),
            _ => None,
        }
    }

    /// As `Value::as_f64`.
    pub(crate) fn as_f64(&self) -> Option<f64> {
        match self {
            Scalar::U64(n) => Some(*n as f64),
            Scalar::I64(n) => Some(*n as f64),
            Scalar::F64(n) => Some(*n),
            _ => None,
        }
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Scalar, E> {
        Ok(Scalar::Other)
    }
    fn visit_i64<E>(self, n: i64) -> Result<Scalar, E> {
        Ok(Scalar::I64(n))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Scalar, E> {
        Ok(Scalar::U64(n))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Scalar, E> {
        Ok(Scalar::F64(n))
    }
    fn visit_str<E>(self, s: &str) -> Result<Scalar, E> {
        Ok(Scalar::Str(s.to_string()))
    }
    fn visit_string<E>(self, s: String) -> Result<Scalar, E> {
        Ok(Scalar::Str(s))
    }
    fn visit_unit<E>(self) -> Result<Scalar, E> {
        Ok(Scalar::Other)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Scalar, A::Error> {
        SkipVisitor.visit_seq(seq).map(|_| Scalar::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Scalar, A::Error> {
        SkipVisitor.visit_map(map).map(|_| Scalar::Other)
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

/// The members of an object a reader keeps; the others are skipped.
pub(crate) trait Fields: Default {
    /// Reads the value of `key` from `map` and returns true, or returns false to have it skipped.
    fn field<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error>;
}

/// Reads the rest of an object into `t`.
pub(crate) fn read_fields<'de, T: Fields, A: MapAccess<'de>>(t: &mut T, mut map: A) -> Result<(), A::Error> {
    while let Some(k) = map.next_key::<String>()? {
        if !t.field(&k, &mut map)? {
            map.next_value::<Skip>()?;
        }
    }
    Ok(())
}

/// An object read into `T`; `None` when the value is not an object.
pub(crate) struct Obj<T>(pub Option<T>);

struct ObjVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: Fields> Visitor<'de> for ObjVisitor<T> {
    type Value = Obj<T>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Obj<T>, E> {
        Ok(Obj(None))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Obj<T>, E> {
        Ok(Obj(None))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Obj<T>, E> {
        Ok(Obj(None))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Obj<T>, E> {
        Ok(Obj(None))
    }
    fn visit_str<E>(self, _: &str) -> Result<Obj<T>, E> {
        Ok(Obj(None))
    }
    fn visit_unit<E>(self) -> Result<Obj<T>, E> {
        Ok(Obj(None))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Obj<T>, A::Error> {
        SkipVisitor.visit_seq(seq).map(|_| Obj(None))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Obj<T>, A::Error> {
        let mut t = T::default();
        read_fields(&mut t, map)?;
        Ok(Obj(Some(t)))
    }
}

impl<'de, T: Fields> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ObjVisitor(std::marker::PhantomData))
    }
}

/// An array of at most `MAX` kept elements (later ones are read and dropped); `None` when the value is not
/// an array. `.1` tells whether elements were dropped.
pub(crate) struct Arr<T, const MAX: usize>(pub Option<Vec<T>>, pub bool);

struct ArrVisitor<T, const MAX: usize>(std::marker::PhantomData<T>);

impl<'de, T: Deserialize<'de>, const MAX: usize> Visitor<'de> for ArrVisitor<T, MAX> {
    type Value = Arr<T, MAX>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Arr(None, false))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Arr(None, false))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Arr(None, false))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Arr(None, false))
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Arr(None, false))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Arr(None, false))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut v = Vec::new();
        while v.len() < MAX {
            match seq.next_element::<T>()? {
                Some(t) => v.push(t),
                None => return Ok(Arr(Some(v), false)),
            }
        }
        let mut dropped = false;
        while seq.next_element::<Skip>()?.is_some() {
            dropped = true;
        }
        Ok(Arr(Some(v), dropped))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        SkipVisitor.visit_map(map).map(|_| Arr(None, false))
    }
}

impl<'de, T: Deserialize<'de>, const MAX: usize> Deserialize<'de> for Arr<T, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ArrVisitor(std::marker::PhantomData))
    }
}

/// Reads one whole JSON document from `r` with `seed`, refusing trailing garbage (as `from_str` does).
pub(crate) fn read_doc<R: std::io::Read, T: Fields>(r: R, t: &mut T) -> Result<bool, serde_json::Error> {
    struct Top<'a, T>(&'a mut T);
    impl<'de, T: Fields> de::DeserializeSeed<'de> for Top<'_, T> {
        type Value = bool;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
            d.deserialize_any(self)
        }
    }
    impl<'de, T: Fields> Visitor<'de> for Top<'_, T> {
        type Value = bool;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a JSON document")
        }
        fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
            Ok(false)
        }
        fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
            Ok(false)
        }
        fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
            Ok(false)
        }
        fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
            Ok(false)
        }
        fn visit_str<E>(self, _: &str) -> Result<bool, E> {
            Ok(false)
        }
        fn visit_unit<E>(self) -> Result<bool, E> {
            Ok(false)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<bool, A::Error> {
            SkipVisitor.visit_seq(seq).map(|_| false)
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<bool, A::Error> {
            read_fields(self.0, map).map(|_| true)
        }
    }
    let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::with_capacity(super::scan::CHUNK, r));
    let object = de::DeserializeSeed::deserialize(Top(t), &mut de)?;
    de.end()?;
    Ok(object)
}
