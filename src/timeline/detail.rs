//! The `detail` column: space-separated `key=value` pairs. Values containing spaces, quotes,
//! `=` or nothing at all are written as JSON strings, so the column parses back exactly.

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

    pub fn put(mut self, key: &str, value: impl std::fmt::Display) -> DetailWriter {
        if !self.out.is_empty() {
            self.out.push(' ');
        }
        self.out.push_str(key);
        self.out.push('=');
        let text = value.to_string();
        if needs_quotes(&text) {
            self.out
                .push_str(&serde_json::to_string(&text).expect("strings serialize"));
        } else {
            let _ = write!(self.out, "{text}");
        }
        self
    }

    pub fn finish(self) -> String {
        self.out
    }
}

fn needs_quotes(text: &str) -> bool {
    text.is_empty()
        || text
            .chars()
            .any(|c| c.is_whitespace() || c == '"' || c == '=' || c.is_control())
}

/// Parses a detail string back into ordered `(key, value)` pairs.
pub fn parse_detail(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut pairs = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let eq = rest
            .find('=')
            .ok_or_else(|| format!("expected key=value in detail, found {rest:?}"))?;
        let key = rest[..eq].to_string();
        if key.is_empty() || key.contains(char::is_whitespace) {
            return Err(format!("bad key in detail near {rest:?}"));
        }
        rest = &rest[eq + 1..];
        let value;
        if rest.starts_with('"') {
            let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<String>();
            value = stream
                .next()
                .ok_or_else(|| "unterminated quoted value in detail".to_string())?
                .map_err(|e| format!("bad quoted value in detail: {e}"))?;
            rest = &rest[stream.byte_offset()..];
        } else {
            let end = rest.find(' ').unwrap_or(rest.len());
            value = rest[..end].to_string();
            rest = &rest[end..];
        }
        pairs.push((key, value));
        rest = rest.trim_start();
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_quoted_and_plain_values() {
        let text = DetailWriter::new()
            .put("message", "instance not found")
            .put("image", "img-1")
            .put("empty", "")
            .put("q", "a \"b\" = c")
            .finish();
        assert_eq!(
            text,
            r#"message="instance not found" image=img-1 empty="" q="a \"b\" = c""#
        );
        let pairs = parse_detail(&text).unwrap();
        assert_eq!(pairs[0], ("message".into(), "instance not found".into()));
        assert_eq!(pairs[1], ("image".into(), "img-1".into()));
        assert_eq!(pairs[2], ("empty".into(), "".into()));
        assert_eq!(pairs[3], ("q".into(), "a \"b\" = c".into()));
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse_detail("novalue").is_err());
        assert!(parse_detail("k=\"unterminated").is_err());
    }
}
