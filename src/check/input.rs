//! What `refreshsim check` reads, told apart by content rather than by file name: a CSV
//! timeline starts with the `time_ms,…` header; a JSONL timeline has rows with `kind`; a run's
//! `responses.jsonl` has lines with `action` and `response` (its DescribeRefreshActivities
//! responses are the polls, other calls are skipped with a note); anything else must be
//! Describe JSON (one response, an array of them, or one per line).

use crate::timeline::parse::{read_csv, read_jsonl};
use serde_json::Value;

/// What a file holds.
pub enum Input {
    Timeline(crate::timeline::parse::ReadTimeline),
    /// Describe polls, and notes on lines that are not polls.
    Describe(Vec<Value>, Vec<String>),
}

/// The `--describe` file: one DescribeRefreshActivities response.
pub fn parse_describe(text: &str) -> Result<Value, String> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| format!("line {}, column {}: {}", e.line(), e.column(), e))?;
    let value = describe_response(value)?;
    let inner = value.get("response").cloned().unwrap_or(value);
    Ok(match inner.get("Response") {
        Some(_) => inner,
        None => serde_json::json!({ "Response": inner }),
    })
}

/// The `{"_refreshsim": {...}}` line that opens a run's responses.jsonl (D9).
fn is_header_line(line: &str) -> bool {
    line.trim_start().starts_with("{\"_refreshsim\"")
        && serde_json::from_str::<Value>(line)
            .ok()
            .and_then(|v| v.as_object().map(|m| m.len() == 1))
            .unwrap_or(false)
}

pub fn parse_input(text: &str) -> Result<Input, String> {
    let Some((first_index, first)) = text
        .lines()
        .enumerate()
        .find(|(_, l)| !l.trim().is_empty() && !is_header_line(l))
    else {
        return Err("the file is empty".into());
    };
    if first.trim_start_matches('\u{feff}').starts_with("time_ms,") {
        return read_csv(text.as_bytes())
            .map(Input::Timeline)
            .map_err(|e| format!("a CSV timeline, but {e}"));
    }
    let first_json = serde_json::from_str::<Value>(first).ok();
    let is_object_with = |key: &str| {
        first_json
            .as_ref()
            .is_some_and(|v| v.is_object() && v.get(key).is_some())
    };
    if is_object_with("kind") {
        return read_jsonl(text.as_bytes())
            .map(Input::Timeline)
            .map_err(|e| format!("a JSONL timeline, but {e}"));
    }
    if is_object_with("action") && is_object_with("response") {
        return read_responses(text);
    }
    // One JSON document (a response, or an array of them)…
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => {
            return items
                .into_iter()
                .enumerate()
                .map(|(i, v)| describe_response(v).map_err(|m| format!("item {}: {m}", i + 1)))
                .collect::<Result<Vec<_>, _>>()
                .map(|polls| Input::Describe(polls, Vec::new()));
        }
        Ok(v) => return Ok(Input::Describe(vec![describe_response(v)?], Vec::new())),
        Err(_) if first_json.is_none() => {
            return Err(format!(
                "line {}: not a timeline (CSV with the header time_ms,time,seq,… or JSONL rows with `kind`), nor DescribeRefreshActivities JSON: {:?}",
                first_index + 1,
                first.chars().take(80).collect::<String>()
            ));
        }
        Err(_) => {}
    }
    // …or one per line.
    let mut polls = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line).map_err(|e| format!("line {}: {e}", i + 1))?;
        polls.push(describe_response(v).map_err(|m| format!("line {}: {m}", i + 1))?);
    }
    Ok(Input::Describe(polls, Vec::new()))
}

/// A run's `responses.jsonl`: its DescribeRefreshActivities responses are the polls (kept with
/// their `time`); other calls are not snapshots.
fn read_responses(text: &str) -> Result<Input, String> {
    let mut polls = Vec::new();
    let mut others = 0usize;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || is_header_line(line) {
            continue;
        }
        let v: Value = serde_json::from_str(line).map_err(|e| format!("line {}: {e}", i + 1))?;
        match v.get("action").and_then(Value::as_str) {
            Some("DescribeRefreshActivities") => {
                describe_response(v.clone()).map_err(|m| format!("line {}: {m}", i + 1))?;
                polls.push(v);
            }
            Some(_) => others += 1,
            None => {
                return Err(format!(
                    "line {}: a responses.jsonl line has no `action`",
                    i + 1
                ));
            }
        }
    }
    let mut notes = vec![format!(
        "a run's responses.jsonl: {} DescribeRefreshActivities response(s) checked as polls, {others} other call(s) skipped",
        polls.len()
    )];
    if polls.is_empty() {
        notes.push("it has no DescribeRefreshActivities response: nothing to check".into());
    }
    Ok(Input::Describe(polls, notes))
}

/// A Describe response as the API returns it, or as refreshsim's describe.json wraps it; also
/// a responses.jsonl line (`{"time", "action", "request", "response"}`), kept whole so the
/// checker can report its time.
fn describe_response(v: Value) -> Result<Value, String> {
    let inner = v.get("response").unwrap_or(&v);
    let body = inner.get("Response").unwrap_or(inner);
    if body.get("RefreshActivitySet").is_some() || body.get("Error").is_some() {
        Ok(v)
    } else {
        Err(
            "expected a DescribeRefreshActivities response (with Response.RefreshActivitySet)"
                .into(),
        )
    }
}
