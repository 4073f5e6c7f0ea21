//! One way in for typed JSON: text is parsed to a [`Value`] first, and types
//! are decoded from `&Value` only.
//!
//! A type's `Deserialize` impl is compiled once per deserializer it is used
//! with; `from_str`, `from_value` and `&Value` would be three copies of the
//! decoding code of every type in the wasm. Going through `&Value` keeps one
//! (the cost, a second pass over small documents, does not show).

use serde::de::DeserializeOwned;
use serde_json::Value;

/// Decodes a `T` from JSON text.
///
/// ```
/// let n: Vec<u8> = querent::json::parse("[1, 2]").unwrap();
/// assert_eq!(n, [1, 2]);
/// ```
pub fn parse<T: DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    decode(&serde_json::from_str::<Value>(text)?)
}

/// Decodes a `T` from a JSON value (without consuming or cloning it).
pub fn decode<T: DeserializeOwned>(value: &Value) -> Result<T, serde_json::Error> {
    T::deserialize(value)
}

/// `value`'s field `name`, unless it is absent or `null` (how serde reads
/// an `Option` field), for types read by hand.
pub(crate) fn field<'a>(value: &'a Value, name: &str) -> Option<&'a Value> {
    value.get(name).filter(|v| !v.is_null())
}
