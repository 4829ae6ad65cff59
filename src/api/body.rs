//! Reading a JSON request body with Tencent's error semantics: an unknown field is
//! `UnknownParameter`, a wrong type is `InvalidParameter`, a missing required field is
//! `MissingParameter` (checked in that order, before any value check — OQ-27).

use super::error::{ApiError, ErrorCode};
use serde_json::{Map, Value};

/// A JSON object being read field by field; `path` prefixes nested field names in messages.
pub struct Body<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

impl<'a> Body<'a> {
    /// Reads the top level of a request. A non-object body is `InvalidParameter`.
    pub fn top(value: &'a Value, known: &[&str]) -> Result<Body<'a>, ApiError> {
        Body::nested(value, String::new(), known)
    }

    fn nested(value: &'a Value, path: String, known: &[&str]) -> Result<Body<'a>, ApiError> {
        let Value::Object(map) = value else {
            let what = if path.is_empty() {
                "the request body"
            } else {
                path.as_str()
            };
            return Err(ApiError::new(
                ErrorCode::InvalidParameter,
                format!("{what} must be a JSON object, found {}", type_name(value)),
            ));
        };
        let body = Body { map, path };
        // Unknown names first, in sorted order so the reported one is deterministic.
        for name in map.keys() {
            if !known.contains(&name.as_str()) {
                return Err(ApiError::new(
                    ErrorCode::UnknownParameter,
                    format!(
                        "The parameter `{}` is not recognized",
                        body.field_path(name)
                    ),
                ));
            }
        }
        Ok(body)
    }

    pub fn field_path(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.path)
        }
    }

    fn get(&self, name: &str) -> Option<&'a Value> {
        // Tencent treats an explicit null like an absent field.
        self.map.get(name).filter(|v| !v.is_null())
    }

    fn type_error(&self, name: &str, expected: &str, found: &Value) -> ApiError {
        ApiError::new(
            ErrorCode::InvalidParameter,
            format!(
                "The parameter `{}` must be {expected}, found {}",
                self.field_path(name),
                type_name(found)
            ),
        )
    }

    pub fn string(&self, name: &str) -> Result<Option<String>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.type_error(name, "a string", other)),
        }
    }

    pub fn boolean(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(self.type_error(name, "a boolean", other)),
        }
    }

    /// An unsigned integer field (Tencent `uint64`). Negative values are a type error.
    pub fn uint(&self, name: &str) -> Result<Option<u64>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v @ Value::Number(n)) => n
                .as_u64()
                .map(Some)
                .ok_or_else(|| self.type_error(name, "a non-negative integer", v)),
            Some(other) => Err(self.type_error(name, "a non-negative integer", other)),
        }
    }

    /// A signed integer field (Tencent `int64`).
    pub fn int(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v @ Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| self.type_error(name, "an integer", v)),
            Some(other) => Err(self.type_error(name, "an integer", other)),
        }
    }

    pub fn strings(&self, name: &str) -> Result<Option<Vec<String>>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(self.type_error(name, "an array of strings", other)),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(other) => Err(self.type_error(name, "an array of strings", other)),
        }
    }

    /// A nested object, read with its own known-field list.
    pub fn object(&self, name: &str, known: &[&str]) -> Result<Option<Body<'a>>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => Body::nested(v, self.field_path(name), known).map(Some),
        }
    }

    /// An array of objects, each read with `known`.
    pub fn objects(&self, name: &str, known: &[&str]) -> Result<Option<Vec<Body<'a>>>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    Body::nested(item, format!("{}.{i}", self.field_path(name)), known)
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(other) => Err(self.type_error(name, "an array of objects", other)),
        }
    }

    pub fn missing(&self, name: &str) -> ApiError {
        ApiError::new(
            ErrorCode::MissingParameter,
            format!("The parameter `{}` is required", self.field_path(name)),
        )
    }
}

/// `Some(v)` or `MissingParameter` naming the field.
pub fn required<T>(value: Option<T>, body: &Body<'_>, name: &str) -> Result<T, ApiError> {
    value.ok_or_else(|| body.missing(name))
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
