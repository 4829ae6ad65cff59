//! Maps a field path such as `actions[2].request.ResumeMode` to the line and column where it is
//! written, for TOML and JSON sources, so that errors found after parsing still point at the file.

use std::collections::BTreeMap;

/// 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

pub fn position_of_offset(source: &str, offset: usize) -> Position {
    let offset = offset.min(source.len());
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    Position {
        line,
        column: before[line_start..].chars().count() + 1,
    }
}

/// Finds the position of `path` (or of its closest written ancestor).
pub fn locate(source: &str, is_json: bool, path: &str) -> Option<Position> {
    let index = if is_json {
        json_index(source)
    } else {
        toml_index(source)
    };
    let mut candidate = path.to_string();
    loop {
        if let Some(offset) = index.get(&candidate) {
            return Some(position_of_offset(source, *offset));
        }
        // Walk up: drop the last `.key` or `[n]`.
        let cut = candidate.rfind(['.', '['])?;
        candidate.truncate(cut);
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

fn toml_index(source: &str) -> BTreeMap<String, usize> {
    let mut index = BTreeMap::new();
    if let Ok(table) = toml::de::DeTable::parse(source) {
        walk_toml_table(table.get_ref(), "", &mut index);
    }
    index
}

fn walk_toml_table(
    table: &toml::de::DeTable<'_>,
    prefix: &str,
    index: &mut BTreeMap<String, usize>,
) {
    for (key, value) in table.iter() {
        let path = join(prefix, key.get_ref());
        index.insert(path.clone(), key.span().start);
        walk_toml_value(value.get_ref(), value.span().start, &path, index);
    }
}

fn walk_toml_value(
    value: &toml::de::DeValue<'_>,
    start: usize,
    path: &str,
    index: &mut BTreeMap<String, usize>,
) {
    match value {
        toml::de::DeValue::Table(t) => walk_toml_table(t, path, index),
        toml::de::DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let item_path = format!("{path}[{i}]");
                let offset = if item.span().start == 0 && start > 0 {
                    start
                } else {
                    item.span().start
                };
                index.insert(item_path.clone(), offset);
                walk_toml_value(item.get_ref(), offset, &item_path, index);
            }
        }
        _ => {}
    }
}

/// Deepest nesting indexed (serde_json refuses deeper than 128 anyway).
const MAX_JSON_DEPTH: usize = 256;

/// A small scanner recording where each key's value starts. The text may be invalid JSON past
/// the point an error was found: every step advances, and nesting is bounded (a million `[`
/// must not overflow the stack).
fn json_index(source: &str) -> BTreeMap<String, usize> {
    let mut index = BTreeMap::new();
    let bytes = source.as_bytes();
    let mut pos = 0;
    skip_ws(bytes, &mut pos);
    json_value(bytes, &mut pos, "", &mut index, 0);
    index
}

fn skip_ws(b: &[u8], pos: &mut usize) {
    while *pos < b.len() && b[*pos].is_ascii_whitespace() {
        *pos += 1;
    }
}

fn json_string(b: &[u8], pos: &mut usize) -> String {
    let start = *pos + 1;
    *pos += 1;
    while *pos < b.len() && b[*pos] != b'"' {
        if b[*pos] == b'\\' {
            *pos += 1;
        }
        *pos += 1;
    }
    let raw = String::from_utf8_lossy(&b[start.min(b.len())..(*pos).min(b.len())]).into_owned();
    *pos += 1;
    serde_json::from_str::<String>(&format!("\"{raw}\"")).unwrap_or(raw)
}

fn json_value(
    b: &[u8],
    pos: &mut usize,
    path: &str,
    index: &mut BTreeMap<String, usize>,
    depth: usize,
) {
    skip_ws(b, pos);
    if *pos >= b.len() || depth > MAX_JSON_DEPTH {
        *pos = b.len();
        return;
    }
    match b[*pos] {
        b'{' => {
            *pos += 1;
            loop {
                skip_ws(b, pos);
                if *pos >= b.len() || b[*pos] == b'}' {
                    *pos += 1;
                    return;
                }
                if b[*pos] == b',' {
                    *pos += 1;
                    continue;
                }
                let key_start = *pos;
                let key = json_string(b, pos);
                skip_ws(b, pos);
                *pos += 1; // ':'
                let child = join(path, &key);
                index.insert(child.clone(), key_start);
                json_value(b, pos, &child, index, depth + 1);
            }
        }
        b'[' => {
            *pos += 1;
            let mut i = 0;
            loop {
                skip_ws(b, pos);
                if *pos >= b.len() || b[*pos] == b']' {
                    *pos += 1;
                    return;
                }
                if b[*pos] == b',' {
                    *pos += 1;
                    continue;
                }
                let child = format!("{path}[{i}]");
                let start = *pos;
                index.insert(child.clone(), start);
                json_value(b, pos, &child, index, depth + 1);
                if *pos == start {
                    // A byte no value starts with (`[}` in malformed text): step over it, or
                    // the loop would index `x[0]`, `x[1]`, … forever (found by fuzzing).
                    *pos += 1;
                }
                i += 1;
            }
        }
        b'"' => {
            json_string(b, pos);
        }
        _ => {
            while *pos < b.len()
                && !matches!(b[*pos], b',' | b'}' | b']')
                && !b[*pos].is_ascii_whitespace()
            {
                *pos += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn malformed_json_with_a_brace_in_an_array_ends() {
        // fuzz/findings/locate-json-hang.json: `}` inside `[` used to loop without end.
        let text = r#"{"actions":[{"nope":1}],"x":[}"#;
        let mut index = BTreeMap::new();
        let mut pos = 0;
        json_value(text.as_bytes(), &mut pos, "", &mut index, 0);
        assert!(pos >= text.len(), "the scan reaches the end");
        assert!(index.len() < 10, "{index:?}");
    }
    use super::*;

    #[test]
    fn locates_toml_paths_including_arrays_of_tables() {
        let src = "[scenario]\nname = \"x\"\n\n[[actions]]\naction = \"A\"\n\n[[actions]]\naction = \"B\"\nwhen = { activity_status = \"NOPE\" }\n";
        assert_eq!(
            locate(src, false, "scenario.name"),
            Some(Position { line: 2, column: 1 })
        );
        assert_eq!(
            locate(src, false, "actions[1].action"),
            Some(Position { line: 8, column: 1 })
        );
        let p = locate(src, false, "actions[1].when.activity_status").unwrap();
        assert_eq!(p.line, 9);
        // Unknown leaf: falls back to the closest ancestor.
        assert_eq!(
            locate(src, false, "actions[1].when.missing").unwrap().line,
            9
        );
    }

    #[test]
    fn invalid_json_after_the_error_is_indexed_in_bounded_steps() {
        // fuzz finding locate-json-hang: a `}` inside an array used to loop forever.
        let src = r#"{"actions":[{"nope":1}],"x":[}"#;
        assert_eq!(locate(src, true, "actions[0].nope").unwrap().column, 14);
        // Deep nesting past the error stops at MAX_JSON_DEPTH instead of overflowing the stack.
        let deep = format!("{{\"a\": [1], \"b\": {}", "[".repeat(1_000_000));
        assert_eq!(locate(&deep, true, "a[0]").unwrap().column, 8);
    }

    #[test]
    fn locates_json_paths() {
        let src = "{\n  \"scenario\": {\"name\": \"x\"},\n  \"actions\": [\n    {\"action\": \"A\"},\n    {\"action\": \"B\", \"at\": \"1s\"}\n  ]\n}\n";
        assert_eq!(locate(src, true, "scenario.name").unwrap().line, 2);
        assert_eq!(
            locate(src, true, "actions[1].at"),
            Some(Position {
                line: 5,
                column: 21
            })
        );
    }
}
