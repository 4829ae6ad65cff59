//! The `detail` column's codec, declared once for writing (`DetailWriter`) and reading
//! (`parse_detail`): space-separated `key=value` pairs, where a value is one of
//!
//! - plain: a token without whitespace, `"`, `=`, control characters, not starting with `{` or
//!   `[` (`img-1`, `42`, `true`);
//! - quoted: a JSON string, for every other text (spaces, quotes, `=`, empty, a leading `{`);
//! - raw JSON: a compact JSON object or array (request bodies, responses), self-delimiting, read
//!   with a JSON parser, so a string inside it may hold spaces, quotes or `key=value`.
//!
//! Every value the writer puts is read back exactly, whatever it holds.

use std::fmt::Write;

/// Builds a detail string.
#[derive(Debug, Default)]
pub struct DetailWriter {
    out: String,
}

impl DetailWriter {
    pub fn new() -> DetailWriter {
        DetailWriter::default()
    }

    fn key(&mut self, key: &str) {
        debug_assert!(is_key(key), "detail key {key:?}");
        if !self.out.is_empty() {
            self.out.push(' ');
        }
        self.out.push_str(key);
        self.out.push('=');
    }

    /// A text value: plain when it can be, quoted otherwise.
    pub fn put(mut self, key: &str, value: impl std::fmt::Display) -> DetailWriter {
        self.key(key);
        let text = value.to_string();
        if needs_quotes(&text) {
            self.out
                .push_str(&serde_json::to_string(&text).expect("strings serialize"));
        } else {
            let _ = write!(self.out, "{text}");
        }
        self
    }

    /// A raw JSON value: `json` is one compact JSON object or array (serde_json's `to_string`
    /// output); anything else is written as text (`put`), so the column still parses back.
    pub fn put_json(mut self, key: &str, json: &str) -> DetailWriter {
        if raw_json_len(json) == Some(json.len()) {
            self.key(key);
            self.out.push_str(json);
            self
        } else {
            self.put(key, json)
        }
    }

    pub fn finish(self) -> String {
        self.out
    }
}

fn is_key(key: &str) -> bool {
    !key.is_empty()
        && !key
            .chars()
            .any(|c| c.is_whitespace() || c == '"' || c == '=' || c.is_control())
}

fn needs_quotes(text: &str) -> bool {
    text.is_empty()
        || text.starts_with(['{', '['])
        || text
            .chars()
            .any(|c| c.is_whitespace() || c == '"' || c == '=' || c.is_control())
}

/// The byte length of the JSON object or array at the start of `text`, if there is one.
fn raw_json_len(text: &str) -> Option<usize> {
    if !text.starts_with(['{', '[']) {
        return None;
    }
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<serde::de::IgnoredAny>();
    match stream.next() {
        Some(Ok(_)) => Some(stream.byte_offset()),
        _ => None,
    }
}

/// How a value was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueForm {
    Plain,
    Quoted,
    /// A raw JSON object or array, kept byte for byte.
    Json,
}

/// One parsed value: its text (unquoted for a quoted value, the JSON text for raw JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetailValue {
    pub text: String,
    pub form: ValueForm,
}

/// Parses a detail string back into ordered `(key, value)` pairs.
pub fn parse_detail(text: &str) -> Result<Vec<(String, DetailValue)>, String> {
    let mut pairs = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let eq = rest
            .find('=')
            .ok_or_else(|| format!("expected key=value in detail, found {}", excerpt(rest)))?;
        let key = rest[..eq].to_string();
        if !is_key(&key) {
            return Err(format!("bad key in detail near {}", excerpt(rest)));
        }
        rest = &rest[eq + 1..];
        let (value, used) = parse_value(&key, rest)?;
        rest = &rest[used..];
        if !(rest.is_empty() || rest.starts_with(' ')) {
            return Err(format!(
                "detail `{key}`: expected a space after its value, found {}",
                excerpt(rest)
            ));
        }
        pairs.push((key, value));
        rest = rest.trim_start();
    }
    Ok(pairs)
}

/// The value at the start of `rest` and the bytes it takes.
fn parse_value(key: &str, rest: &str) -> Result<(DetailValue, usize), String> {
    if rest.starts_with('"') {
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<String>();
        let text = stream
            .next()
            .ok_or_else(|| format!("detail `{key}`: unterminated quoted value"))?
            .map_err(|e| format!("detail `{key}`: bad quoted value: {e}"))?;
        let used = stream.byte_offset();
        Ok((
            DetailValue {
                text,
                form: ValueForm::Quoted,
            },
            used,
        ))
    } else if rest.starts_with(['{', '[']) {
        let used = raw_json_len(rest)
            .ok_or_else(|| format!("detail `{key}`: bad JSON value {}", excerpt(rest)))?;
        Ok((
            DetailValue {
                text: rest[..used].to_string(),
                form: ValueForm::Json,
            },
            used,
        ))
    } else {
        let used = rest.find(' ').unwrap_or(rest.len());
        Ok((
            DetailValue {
                text: rest[..used].to_string(),
                form: ValueForm::Plain,
            },
            used,
        ))
    }
}

/// At most 80 characters of `text`, quoted, for error messages.
fn excerpt(text: &str) -> String {
    const MAX: usize = 80;
    match text.char_indices().nth(MAX) {
        None => format!("{text:?}"),
        Some((cut, _)) => format!("{:?}… ({} bytes)", &text[..cut], text.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<(String, String)> {
        parse_detail(text)
            .unwrap()
            .into_iter()
            .map(|(k, v)| (k, v.text))
            .collect()
    }

    #[test]
    fn round_trips_quoted_and_plain_values() {
        let text = DetailWriter::new()
            .put("message", "instance not found")
            .put("image", "img-1")
            .put("empty", "")
            .put("q", "a \"b\" = c")
            .put("brace", "{not json")
            .finish();
        assert_eq!(
            text,
            r#"message="instance not found" image=img-1 empty="" q="a \"b\" = c" brace="{not json""#
        );
        let pairs = texts(&text);
        assert_eq!(pairs[0], ("message".into(), "instance not found".into()));
        assert_eq!(pairs[1], ("image".into(), "img-1".into()));
        assert_eq!(pairs[2], ("empty".into(), "".into()));
        assert_eq!(pairs[3], ("q".into(), "a \"b\" = c".into()));
        assert_eq!(pairs[4], ("brace".into(), "{not json".into()));
    }

    #[test]
    fn raw_json_with_spaces_quotes_and_pairs_inside_round_trips() {
        let json = r#"{"Message":"ResetInstance failed: disk attach timeout","x":"a=b c=\"d\"","n":[1,{"k":" response={}"}]}"#;
        let text = DetailWriter::new()
            .put("request_id", "r-1")
            .put("message", "a response=b")
            .put_json("response", json)
            .put("after", "x y")
            .finish();
        let pairs = parse_detail(&text).unwrap();
        assert_eq!(pairs.len(), 4);
        assert_eq!(pairs[1].1.text, "a response=b");
        assert_eq!(pairs[2].1.text, json);
        assert_eq!(pairs[2].1.form, ValueForm::Json);
        assert_eq!(pairs[3].1.text, "x y");
    }

    #[test]
    fn put_json_quotes_what_is_not_one_json_value() {
        for bad in ["{", "{} {}", "42", "text", "{\"a\":1} "] {
            let text = DetailWriter::new().put_json("body", bad).finish();
            let pairs = parse_detail(&text).unwrap();
            assert_eq!(pairs[0].1.text, bad, "{text}");
            assert_ne!(pairs[0].1.form, ValueForm::Json, "{text}");
        }
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse_detail("novalue").is_err());
        assert!(parse_detail("k=\"unterminated").is_err());
        assert!(parse_detail("k={\"a\":").is_err());
        assert!(parse_detail("k={}x").is_err());
        assert!(parse_detail("k=\"a\"b").is_err());
        let long = format!("k={{{}", "x".repeat(10_000));
        let err = parse_detail(&long).unwrap_err();
        assert!(err.len() < 200, "{err}");
    }
}
