//! The JSON form of a command line, read with serde_json through a map
//! visitor that keeps only the three keys it needs, so the common line
//! allocates nothing and its topic borrows from the line; a repeated key
//! overrides the earlier one, as in JSON. A string written with escapes is
//! decoded into the buffer its key asks for.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{FieldValue, Fields};

/// Whether the line may be a JSON object: one opens with `{"` or is `{}`.
pub(super) fn may_be_json(text: &str) -> bool {
    let mut tokens = text.bytes().filter(|b| !b" \t\r\n".contains(b));
    tokens.next() == Some(b'{') && matches!(tokens.next(), Some(b'"' | b'}'))
}

/// Reads the dict into `fields` (fresh, or asking for the `msg`).
pub(super) fn json_fields<'a>(
    text: &'a str,
    scratch: &mut String,
    fields: Fields<'a>,
) -> Result<Fields<'a>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let fields = (&mut de).deserialize_map(DictVisitor(scratch, fields))?;
    de.end()?;
    Ok(fields)
}

/// Reads the top-level JSON object; holds the scratch for an escaped topic,
/// and the fields to fill.
struct DictVisitor<'s, 'de>(&'s mut String, Fields<'de>);

impl<'de> Visitor<'de> for DictVisitor<'_, 'de> {
    type Value = Fields<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a dict")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields<'de>, A::Error> {
        let mut fields = self.1;
        while let Some(key) = map.next_key_seed(FieldSeed(Some(&mut fields.key_buf)))? {
            fields.entry(key, self.0, |buf| map.next_value_seed(FieldSeed(buf)))?;
        }
        Ok(fields)
    }
}

/// Reads any JSON value as a `FieldValue`, decoding an escaped string into its
/// buffer, or dropping it when there is none (a `msg` only has to be a string).
struct FieldSeed<'s>(Option<&'s mut String>);

impl<'de> DeserializeSeed<'de> for FieldSeed<'_> {
    type Value = FieldValue<'de>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<FieldValue<'de>, D::Error> {
        de.deserialize_any(self)
    }
}

macro_rules! not_text {
    ($($visit:ident($($ty:ty)?)),*) => {$(
        fn $visit<E: de::Error>(self, $(_: $ty)?) -> Result<FieldValue<'de>, E> {
            Ok(FieldValue::NotText)
        }
    )*};
}

impl<'de> Visitor<'de> for FieldSeed<'_> {
    type Value = FieldValue<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }

    fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<FieldValue<'de>, E> {
        Ok(FieldValue::Text(text))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<FieldValue<'de>, E> {
        if let Some(buf) = self.0 {
            buf.clear();
            buf.push_str(text);
        }
        Ok(FieldValue::Decoded)
    }

    not_text!(
        visit_bool(bool),
        visit_i64(i64),
        visit_u64(u64),
        visit_f64(f64),
        visit_unit()
    );

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FieldValue<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(FieldValue::NotText)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FieldValue<'de>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(FieldValue::NotText)
    }
}
