//! A fact's body as the JSON text its statement holds, decoded on demand into the type its reader
//! needs, with exactly the result a decode of the `serde_json::Value` of that text gives.
//!
//! Decoding every body into a `Value` first (a map and a string per member) was a tenth of what a
//! request's fold costs on `verify`, and most readers want one typed body or a single member of it.

use serde::de::{DeserializeOwned, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

/// The body of a fact: JSON text that a `serde_json::Value` reads (checked where the fact is made).
#[derive(Clone)]
pub struct Body(Box<RawValue>);

impl Body {
    /// The body whose JSON text is `raw`: the caller has checked that a `serde_json::Value` reads it.
    pub fn from_raw(raw: Box<RawValue>) -> Body {
        Body(raw)
    }

    /// The body holding `value`.
    pub fn of(value: &serde_json::Value) -> Body {
        Body(serde_json::value::to_raw_value(value).unwrap_or_else(|_| Self::null().0))
    }

    /// `null`: the body of an entry that cannot be read.
    pub fn null() -> Body {
        Body(RawValue::NULL.to_owned())
    }

    /// Its JSON text.
    pub fn text(&self) -> &str {
        self.0.get()
    }

    /// Decoded as `T`: what `T::deserialize(&value)` gives for the `Value` of this text. Decoded from the
    /// text directly; only when that fails (a member given twice, which a `Value` keeps the last of, or a
    /// body that is not a `T`) through the `Value`, so that the result and its error are the same.
    pub fn read<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.text()).or_else(|_| T::deserialize(&self.value()))
    }

    /// The `Value` of this text.
    pub fn value(&self) -> serde_json::Value {
        serde_json::from_str(self.text()).unwrap_or(serde_json::Value::Null)
    }

    /// `value().get(key)`, without building the rest of the value: member `key` (the last, when it is
    /// given twice), or `None` when it is absent or the body is not an object.
    pub fn member(&self, key: &str) -> Option<serde_json::Value> {
        let mut de = serde_json::Deserializer::from_str(self.text());
        de.deserialize_any(Member { key }).map(|(v, _)| v).unwrap_or_else(|_| self.value().get(key).cloned())
    }

    /// [`Body::str_member`], only when the body gives member `key` exactly once: a name given twice names
    /// nothing here (a reader that keeps the first, as SQLite's `json_extract` does, and one that keeps the
    /// last would disagree on it).
    pub fn single_str_member(&self, key: &str) -> Option<String> {
        let mut de = serde_json::Deserializer::from_str(self.text());
        match de.deserialize_any(Member { key }) {
            Ok((Some(serde_json::Value::String(s)), 1)) => Some(s),
            _ => None,
        }
    }

    /// `value().get(key).and_then(Value::as_str)`: member `key` when it is a string.
    pub fn str_member(&self, key: &str) -> Option<String> {
        match self.member(key)? {
            serde_json::Value::String(s) => Some(s),
            _ => None,
        }
    }
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.text())
    }
}

/// Finds member `key` of a JSON object, the last when it is given twice, and how many times it is given.
struct Member<'k> {
    key: &'k str,
}

impl<'de> Visitor<'de> for Member<'_> {
    type Value = (Option<serde_json::Value>, usize);

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut found, mut times) = (None, 0);
        while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if k == self.key {
                found = Some(map.next_value::<serde_json::Value>()?);
                times += 1;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok((found, times))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok((None, 0))
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok((None, 0))
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok((None, 0))
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok((None, 0))
    }

    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok((None, 0))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok((None, 0))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok((None, 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::Deserialize;
    use serde_json::json;

    /// A member given twice is read as the last by `str_member` and as nothing by `single_str_member`;
    /// given once, both read it; a value that is not a string, or a body that is not an object, is none.
    #[test]
    fn a_member_given_twice_names_nothing_once_only() {
        let twice = raw(r#"{"digest":"X","reason":"r","digest":"Y"}"#);
        assert_eq!(twice.str_member("digest").as_deref(), Some("Y"));
        assert_eq!(twice.single_str_member("digest"), None);
        assert_eq!(twice.single_str_member("reason").as_deref(), Some("r"));
        let escaped = raw(r#"{"dig\u0065st":"X"}"#);
        assert_eq!(escaped.single_str_member("digest").as_deref(), Some("X"));
        assert_eq!(raw(r#"{"digest":["X"]}"#).single_str_member("digest"), None);
        assert_eq!(raw(r#"["digest","X"]"#).single_str_member("digest"), None);
        assert_eq!(raw(r#""digest""#).single_str_member("digest"), None);
    }

    fn raw(text: &str) -> Body {
        Body::from_raw(RawValue::from_string(text.to_string()).unwrap())
    }

    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Typed {
        a: String,
        #[serde(default)]
        n: Option<u64>,
    }

    #[test]
    fn a_member_given_twice_reads_as_the_value_reads_it_the_last() {
        let b = raw(r#"{"a":"first","n":1,"a":"last"}"#);
        assert_eq!(b.read::<Typed>().unwrap(), Typed { a: "last".into(), n: Some(1) });
        assert_eq!(b.str_member("a").as_deref(), Some("last"));
        let b = raw(r#"{"a":"first","a":7}"#);
        assert_eq!(b.str_member("a"), None);
        assert!(b.read::<Typed>().is_err());
    }

    #[test]
    fn errors_are_the_values_errors() {
        for text in [r#"{"a":1}"#, r#"{"n":1}"#, r#"[1]"#, "null", r#"{"a":"x","n":-1}"#, r#"{"a":"x","n":1.5}"#] {
            let from_value = Typed::deserialize(&serde_json::from_str::<serde_json::Value>(text).unwrap());
            let e = raw(text).read::<Typed>().unwrap_err();
            assert_eq!(e.to_string(), from_value.unwrap_err().to_string(), "{text}");
        }
    }

    #[test]
    fn members_and_values_round_trip() {
        let v = json!({"request": "ab", "on": {"request": "inner"}, "n": [1, 2], "s": "\u{1b}[31m"});
        let b = Body::of(&v);
        assert_eq!(b.value(), v);
        assert_eq!(b.str_member("request").as_deref(), Some("ab"));
        assert_eq!(b.str_member("on"), None);
        assert_eq!(b.member("on"), Some(json!({"request": "inner"})));
        assert_eq!(b.str_member("n"), None);
        assert_eq!(b.str_member("missing"), None);
        assert_eq!(b.str_member("s").as_deref(), Some("\u{1b}[31m"));
        assert_eq!(raw("[\"request\"]").str_member("request"), None);
        assert_eq!(raw("\"request\"").str_member("request"), None);
        assert_eq!(Body::null().value(), serde_json::Value::Null);
        assert_eq!(raw(r#"{ "n" : [1,2], "request":"ab","on":{"request":"inner"},"s":"\u001b[31m" }"#).value(), v);
    }

    proptest::proptest! {
        #[test]
        fn reads_agree_with_the_value(
            members in proptest::collection::vec(
                (proptest::sample::select(vec!["a", "n", "request", "x"]),
                 proptest::prop_oneof![
                     proptest::arbitrary::any::<String>().prop_map(serde_json::Value::from),
                     proptest::arbitrary::any::<u32>().prop_map(serde_json::Value::from),
                     proptest::arbitrary::any::<i32>().prop_map(serde_json::Value::from),
                     proptest::arbitrary::any::<bool>().prop_map(serde_json::Value::from),
                     proptest::strategy::Just(serde_json::Value::Null),
                     proptest::strategy::Just(json!([1, "a"])),
                     proptest::strategy::Just(json!({"a": "b"})),
                 ]),
                0..5,
            )
        ) {
            // Written member by member, so that a member may be given twice.
            let text = format!(
                "{{{}}}",
                members.iter().map(|(k, v)| format!("{}:{}", json!(k), v)).collect::<Vec<_>>().join(",")
            );
            let value: serde_json::Value = serde_json::from_str(&text).unwrap();
            let b = raw(&text);
            proptest::prop_assert_eq!(b.value(), value.clone());
            for key in ["a", "n", "request", "x"] {
                proptest::prop_assert_eq!(b.member(key), value.get(key).cloned());
                proptest::prop_assert_eq!(b.str_member(key), value.get(key).and_then(|v| v.as_str()).map(str::to_string));
            }
            let typed = b.read::<Typed>().map_err(|e| e.to_string());
            let expected = Typed::deserialize(&value).map_err(|e| e.to_string());
            proptest::prop_assert_eq!(typed, expected);
        }
    }
}
