//! Tables whose allowed fields depend on what they hold: a fault event's fields depend on its
//! `kind`, and actions, fault events and launch-configuration changes share the trigger fields
//! (`at`, `when`, `after`, `repeat`). serde's `flatten` and internally tagged enums cannot refuse
//! unknown fields and lose the path of an error inside them, so such a table is read as a map
//! (duplicate keys refused), split into its trigger and its own fields, and each part is read
//! with `deny_unknown_fields` structs. Field lists come from the derived `Deserialize` impls
//! ([`fields_of`]), never written a second time.

use super::Strict;
use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

/// Separates the sub-path of a field from the message in an error raised inside a table's own
/// `Deserialize` (serde errors carry only a message); `parse_scenario` joins it to the path.
const SUB_FIELD_MARK: char = '\u{1f}';

/// An error below a table: the path inside it (`kind`, `when.batch`) and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubError {
    pub path: String,
    pub message: String,
}

impl SubError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> SubError {
        SubError {
            path: path.into(),
            message: message.into(),
        }
    }

    /// As a serde error of any format, with the sub-path riding in front of the message.
    pub fn into_de<E: de::Error>(self) -> E {
        E::custom(format!(
            "{SUB_FIELD_MARK}{}{SUB_FIELD_MARK}{}",
            self.path, self.message
        ))
    }
}

/// Splits a message made by [`SubError::into_de`] into (sub-path, message); other messages come
/// back unchanged with no sub-path.
pub fn split_sub_field(message: &str) -> (Option<&str>, &str) {
    let Some(rest) = message.strip_prefix(SUB_FIELD_MARK) else {
        return (None, message);
    };
    match rest.split_once(SUB_FIELD_MARK) {
        Some((path, message)) => (Some(path), message),
        None => (None, rest),
    }
}

/// Joins a field path and a sub-path (`faults.events[0]` + `when.batch`).
pub fn join_path(field: &str, sub: &str) -> String {
    match (field.is_empty(), sub.is_empty()) {
        (_, true) => field.to_string(),
        (true, false) => sub.to_string(),
        (false, false) if sub.starts_with('[') => format!("{field}{sub}"),
        (false, false) => format!("{field}.{sub}"),
    }
}

/// The field names of struct `T`, as its derived `Deserialize` hands them to
/// `deserialize_struct`.
pub fn fields_of<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    // The probe always fails after recording the fields; only the record matters.
    let _ = T::deserialize(Probe(&mut fields));
    fields
}

struct Probe<'a>(&'a mut &'static [&'static str]);

impl<'de> Deserializer<'de> for Probe<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("only structs are probed"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = fields;
        Err(de::Error::custom("probed"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// Reads a table as an ordered map of raw values, refusing a key written twice (JSON allows
/// it; the last one would silently win).
pub fn read_table<'de, D: Deserializer<'de>>(d: D) -> Result<Map<String, Value>, D::Error> {
    struct TableVisitor;
    impl<'de> Visitor<'de> for TableVisitor {
        type Value = Map<String, Value>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a table of named fields (an object in JSON), not an array")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Map::new();
            while let Some(key) = map.next_key::<String>()? {
                if out.contains_key(&key) {
                    let message = format!("field `{key}` is written twice");
                    return Err(SubError::new(key, message).into_de());
                }
                let value = map.next_value::<Value>()?;
                out.insert(key, value);
            }
            Ok(out)
        }
    }
    d.deserialize_map(TableVisitor)
}

/// `fields` as a readable list: `` `a`, `b`, `c` ``.
pub fn field_list(fields: &[&str]) -> String {
    fields
        .iter()
        .map(|f| format!("`{f}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads struct `T` from `table`. A key that is not one of `T`'s fields is refused as "not a
/// field of {what}", listing `T`'s fields and then `also` (fields the caller took out first).
pub fn from_table<T: DeserializeOwned>(
    table: Map<String, Value>,
    what: &str,
    also: &[&str],
) -> Result<T, SubError> {
    let fields = fields_of::<T>();
    if let Some(key) = table.keys().find(|k| !fields.contains(&k.as_str())) {
        let all: Vec<&str> = fields.iter().chain(also).copied().collect();
        let message = if all.is_empty() {
            format!("`{key}` is not a field of {what}; it has no fields")
        } else {
            format!(
                "`{key}` is not a field of {what}; its fields are {}",
                field_list(&all)
            )
        };
        return Err(SubError::new(key.clone(), message));
    }
    serde_path_to_error::deserialize(Strict(Value::Object(table))).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        let message = e.into_inner().to_string();
        if message.starts_with("missing field") {
            return SubError::new(path, format!("{message}, which {what} needs"));
        }
        SubError::new(path, message)
    })
}

/// The fields of one kind of triggered table, without the trigger.
pub trait TriggeredItem: Sized {
    /// Reads the item from its fields; `trigger` lists the trigger's fields for messages.
    fn from_table(table: Map<String, Value>, trigger: &[&str]) -> Result<Self, SubError>;
}

/// When something happens: `at` a time, or `when` a condition holds (then `after` a delay,
/// `repeat`ing or not). Shared by actions, fault events and launch-configuration changes.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TriggerEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<super::file::ConditionEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat: Option<bool>,
}

/// A table holding a trigger and the fields of `T`, side by side in the file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Triggered<T> {
    #[serde(flatten)]
    pub trigger: TriggerEntry,
    #[serde(flatten)]
    pub item: T,
}

impl<'de, T: TriggeredItem> Deserialize<'de> for Triggered<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut table = read_table(d)?;
        let trigger_fields = fields_of::<TriggerEntry>();
        let mut trigger = Map::new();
        for name in trigger_fields {
            if let Some(value) = table.shift_remove(*name) {
                trigger.insert(name.to_string(), value);
            }
        }
        let item = T::from_table(table, trigger_fields).map_err(SubError::into_de)?;
        let trigger = from_table(trigger, "a trigger", &[]).map_err(SubError::into_de)?;
        Ok(Triggered { trigger, item })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Two {
        #[serde(default)]
        a: Option<u32>,
        b: String,
    }

    #[test]
    fn fields_come_from_the_derived_impl() {
        assert_eq!(fields_of::<Two>(), &["a", "b"]);
        assert_eq!(
            fields_of::<TriggerEntry>(),
            &["at", "when", "after", "repeat"]
        );
    }

    #[test]
    fn sub_fields_ride_in_front_of_the_message_and_come_back_out() {
        let e: serde_json::Error = SubError::new("when.batch", "bad").into_de();
        assert_eq!(split_sub_field(&e.to_string()), (Some("when.batch"), "bad"));
        assert_eq!(split_sub_field("plain"), (None, "plain"));
        assert_eq!(
            join_path("actions[0]", "when.batch"),
            "actions[0].when.batch"
        );
        assert_eq!(join_path("", "kind"), "kind");
        assert_eq!(join_path("a", "[2]"), "a[2]");
        assert_eq!(join_path("a", ""), "a");
    }

    #[test]
    fn a_foreign_key_is_named_with_the_fields_that_exist() {
        let table: Map<String, Value> = serde_json::from_str(r#"{"b": "x", "c": 1}"#).unwrap();
        let err = from_table::<Two>(table, "a two", &["at"]).unwrap_err();
        assert_eq!(err.path, "c");
        assert_eq!(
            err.message,
            "`c` is not a field of a two; its fields are `a`, `b`, `at`"
        );
        let table: Map<String, Value> = serde_json::from_str(r#"{"a": "x", "b": "y"}"#).unwrap();
        let err = from_table::<Two>(table, "a two", &[]).unwrap_err();
        assert_eq!(err.path, "a");
        assert!(err.message.contains("expected u32"), "{}", err.message);
    }

    #[test]
    fn a_key_written_twice_is_refused() {
        let mut d = serde_json::Deserializer::from_str(r#"{"a": 1, "a": 2}"#);
        let err = read_table(&mut d).unwrap_err().to_string();
        let (sub, message) = split_sub_field(&err);
        assert_eq!(sub, Some("a"));
        assert!(
            message.starts_with("field `a` is written twice"),
            "{message}"
        );
    }
}
