//! JSON documents with positions, and a reader of objects that knows its JSON path and which
//! keys were read (so that every field not used can be listed, never silently dropped).

use super::{AccountError, MAX_DOCUMENTS};
use serde_json::{Map, Value};
use std::cell::RefCell;

/// The documents of a file: one JSON value, or several separated by whitespace (JSONL). Each
/// comes with `file` (one document) or `file:line` (several).
pub fn documents(file: &str, text: &str) -> Result<Vec<(String, Value)>, AccountError> {
    let mut out = Vec::new();
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    let mut starts = Vec::new();
    loop {
        let before = stream.byte_offset();
        match stream.next() {
            None => break,
            Some(Ok(value)) => {
                let skipped_ws = text[before..]
                    .bytes()
                    .take_while(u8::is_ascii_whitespace)
                    .count();
                starts.push(before + skipped_ws);
                out.push(value);
                if out.len() > MAX_DOCUMENTS {
                    return Err(AccountError::invalid(
                        file,
                        "",
                        format!("more than {MAX_DOCUMENTS} JSON documents"),
                    ));
                }
            }
            Some(Err(e)) => {
                return Err(AccountError::NotJson {
                    file: file.to_string(),
                    line: e.line(),
                    column: e.column(),
                    message: e.to_string(),
                });
            }
        }
    }
    if out.is_empty() {
        return Err(AccountError::invalid(file, "", "the file holds no JSON"));
    }
    let single = out.len() == 1;
    Ok(out
        .into_iter()
        .zip(starts)
        .map(|(value, start)| {
            let at = if single {
                file.to_string()
            } else {
                let line = text[..start].bytes().filter(|b| *b == b'\n').count() + 1;
                format!("{file}:{line}")
            };
            (at, value)
        })
        .collect())
}

pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `parent.key` (or `key` at the top).
pub fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// An object being read: its location, and the keys read so far.
pub struct Obj<'a> {
    pub at: &'a str,
    pub path: String,
    map: &'a Map<String, Value>,
    read: RefCell<Vec<String>>,
}

impl<'a> Obj<'a> {
    pub fn new(at: &'a str, path: String, value: &'a Value) -> Result<Obj<'a>, AccountError> {
        match value.as_object() {
            Some(map) => Ok(Obj {
                at,
                path,
                map,
                read: RefCell::new(Vec::new()),
            }),
            None => Err(AccountError::invalid(
                at,
                &path,
                format!("expected an object, found {}", kind(value)),
            )),
        }
    }

    pub fn path_of(&self, key: &str) -> String {
        join(&self.path, key)
    }

    pub fn error(&self, key: &str, message: impl Into<String>) -> AccountError {
        AccountError::invalid(self.at, &self.path_of(key), message)
    }

    /// The raw value of `key`; `null` counts as absent (the SDK writes unset fields as null).
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.read.borrow_mut().push(key.to_string());
        self.map.get(key).filter(|v| !v.is_null())
    }

    pub fn str_opt(&self, key: &str) -> Result<Option<&'a str>, AccountError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(other) => {
                Err(self.error(key, format!("expected a string, found {}", kind(other))))
            }
        }
    }

    pub fn str_req(&self, key: &str) -> Result<&'a str, AccountError> {
        self.str_opt(key)?
            .ok_or_else(|| self.error(key, "expected a string, found nothing (missing or null)"))
    }

    pub fn u64_opt(&self, key: &str) -> Result<Option<u64>, AccountError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_u64().map(Some).ok_or_else(|| {
                self.error(key, format!("expected a non-negative integer, found {n}"))
            }),
            Some(other) => Err(self.error(
                key,
                format!("expected a non-negative integer, found {}", kind(other)),
            )),
        }
    }

    pub fn bool_opt(&self, key: &str) -> Result<Option<bool>, AccountError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(self.error(
                key,
                format!("expected true or false, found {}", kind(other)),
            )),
        }
    }

    pub fn obj_opt(&self, key: &str) -> Result<Option<Obj<'a>>, AccountError> {
        match self.get(key) {
            None => Ok(None),
            Some(value) => Obj::new(self.at, self.path_of(key), value).map(Some),
        }
    }

    /// The elements of an array (absent or null: none), each with its path.
    pub fn array(&self, key: &str) -> Result<Vec<(String, &'a Value)>, AccountError> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => Ok(items
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("{}[{i}]", self.path_of(key)), v))
                .collect()),
            Some(other) => {
                Err(self.error(key, format!("expected an array, found {}", kind(other))))
            }
        }
    }

    pub fn objects(&self, key: &str) -> Result<Vec<Obj<'a>>, AccountError> {
        self.array(key)?
            .into_iter()
            .map(|(path, value)| Obj::new(self.at, path, value))
            .collect()
    }

    /// Strings of an array field.
    pub fn strings(&self, key: &str) -> Result<Vec<&'a str>, AccountError> {
        self.array(key)?
            .into_iter()
            .map(|(path, value)| {
                value.as_str().ok_or_else(|| {
                    AccountError::invalid(
                        self.at,
                        &path,
                        format!("expected a string, found {}", kind(value)),
                    )
                })
            })
            .collect()
    }

    /// The keys present (not null) that nothing read, with their values.
    pub fn unread_values(&self) -> Vec<(String, &'a Value)> {
        let read = self.read.borrow();
        self.map
            .iter()
            .filter(|(key, value)| !value.is_null() && !read.iter().any(|r| r == *key))
            .map(|(key, value)| (self.path_of(key), value))
            .collect()
    }

    /// Paths of the keys present (not null) that nothing read.
    pub fn unread(&self) -> Vec<String> {
        let read = self.read.borrow();
        self.map
            .iter()
            .filter(|(key, value)| !value.is_null() && !read.iter().any(|r| r == *key))
            .map(|(key, _)| self.path_of(key))
            .collect()
    }
}

/// Parses Tencent's whole-second UTC time (`2023-09-07T16:27:49Z`) into Unix seconds.
pub fn parse_time(obj: &Obj<'_>, key: &str) -> Result<Option<u64>, AccountError> {
    match obj.str_opt(key)? {
        None => Ok(None),
        Some(text) => crate::time::parse_rfc3339_secs(text)
            .map(Some)
            .map_err(|e| obj.error(key, format!("{e}, found {text:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonl_documents_carry_their_line() {
        let docs = documents("p.jsonl", "{\"a\": 1}\n\n{\"b\": 2}\n").unwrap();
        assert_eq!(docs[0].0, "p.jsonl:1");
        assert_eq!(docs[1].0, "p.jsonl:3");
        let one = documents("one.json", "  {\"a\": 1}\n").unwrap();
        assert_eq!(one[0].0, "one.json");
    }

    #[test]
    fn not_json_names_line_and_column() {
        let err = documents("x.json", "{\"a\": 1}\n{\"b\": }").unwrap_err();
        match err {
            AccountError::NotJson { line, column, .. } => assert_eq!((line, column), (2, 7)),
            other => panic!("{other}"),
        }
        assert!(documents("e.json", "  ").is_err());
    }

    #[test]
    fn obj_reads_nulls_as_absent_and_lists_unread_keys() {
        let value: Value =
            serde_json::from_str(r#"{"A": null, "B": "x", "C": 3, "D": [1], "E": true}"#).unwrap();
        let obj = Obj::new("f", "Response".into(), &value).unwrap();
        assert_eq!(obj.str_opt("A").unwrap(), None);
        assert_eq!(obj.str_req("B").unwrap(), "x");
        let err = obj.str_req("C").unwrap_err();
        assert_eq!(
            err.to_string(),
            "f: Response.C: expected a string, found a number"
        );
        assert_eq!(obj.unread(), vec!["Response.D", "Response.E"]);
        let err = obj.strings("D").unwrap_err();
        assert_eq!(
            err.to_string(),
            "f: Response.D[0]: expected a string, found a number"
        );
    }
}
