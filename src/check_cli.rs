//! `refreshsim check PATH [--describe DESCRIBE_JSON]`: read a timeline or a Describe history,
//! report violations.
//!
//! The input's format is read from its content, not its name: a CSV timeline starts with the
//! `time_ms,…` header; a JSONL timeline has rows with `kind`; a run's `responses.jsonl` has
//! lines with `action` and `response` (its DescribeRefreshActivities responses are checked as
//! polls, the other calls are skipped with a note); anything else must be Describe JSON (one
//! response, an array of them, or one per line).

use crate::check::replay::check_timeline_and_describe;
use crate::check::{Violation, check_describe_history, timeline_invariants};
use crate::cli::{EXIT_BAD_INPUT, EXIT_EXPECTATION_FAILED, EXIT_OK};
use crate::timeline::parse::{read_csv, read_jsonl};
use serde_json::Value;
use std::path::Path;

/// Largest file `check` reads (2 GiB).
pub const MAX_CHECK_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// What a file holds.
enum Input {
    Timeline(crate::timeline::parse::ReadTimeline),
    /// Describe polls, and notes on lines that are not polls.
    Describe(Vec<Value>, Vec<String>),
}

pub fn check_command(path: &Path, describe: Option<&Path>) -> i32 {
    let input = match read_input(path) {
        Ok(input) => input,
        Err(message) => {
            eprintln!("error: {}: {message}", path.display());
            return EXIT_BAD_INPUT;
        }
    };
    match input {
        Input::Timeline(read) => {
            let final_describe = match describe.map(read_describe).transpose() {
                Ok(d) => d,
                Err(message) => {
                    eprintln!("error: {}: {message}", describe.expect("given").display());
                    return EXIT_BAD_INPUT;
                }
            };
            let violations = check_timeline_and_describe(&read.timeline, final_describe.as_ref());
            let origin = match &read.meta {
                Some(m) => format!(
                    " (scenario {:?}, seed {}, refreshsim {})",
                    m.scenario_name, m.seed, m.version
                ),
                None => String::new(),
            };
            println!(
                "checked {} records of a timeline{origin} against {} invariants",
                read.timeline.records.len(),
                timeline_invariants().count()
            );
            if let Some(d) = describe {
                println!(
                    "compared {} with the timeline's end state (INV-DESCRIBE-AGREES)",
                    d.display()
                );
            }
            report(&violations)
        }
        Input::Describe(snapshots, notes) => {
            if describe.is_some() {
                eprintln!(
                    "error: {}: --describe compares a Describe response with a timeline, but this file is Describe responses, not a timeline",
                    path.display()
                );
                return EXIT_BAD_INPUT;
            }
            let result = check_describe_history(&snapshots);
            println!(
                "checked {} DescribeRefreshActivities poll(s) of {} activity(ies)",
                result.snapshots - result.skipped.len(),
                result.activities
            );
            for note in notes.iter().chain(&result.skipped) {
                println!("note: {note}");
            }
            let unchecked: Vec<&str> = result.unchecked.iter().map(|i| i.id()).collect();
            println!(
                "cannot be checked from this input (they need a timeline): {}",
                unchecked.join(", ")
            );
            report(&result.violations)
        }
    }
}

fn report(violations: &[Violation]) -> i32 {
    if violations.is_empty() {
        println!("no invariant is violated");
        return EXIT_OK;
    }
    println!("{} violation(s):", violations.len());
    for v in violations {
        println!("  {v}");
        println!(
            "      {}: {} ({})",
            v.invariant.id(),
            v.invariant.statement(),
            v.invariant.source()
        );
    }
    EXIT_EXPECTATION_FAILED
}

fn read_text(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if meta.is_dir() {
        return Err(
            "expected a file (timeline.csv, timeline.jsonl, responses.jsonl or Describe JSON), found a directory"
                .into(),
        );
    }
    if meta.len() > MAX_CHECK_BYTES {
        return Err(format!(
            "the file is {} bytes; at most {MAX_CHECK_BYTES} are read",
            meta.len()
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    String::from_utf8(bytes).map_err(|e| format!("not UTF-8 text: {e}"))
}

/// The `--describe` file: one DescribeRefreshActivities response.
fn read_describe(path: &Path) -> Result<Value, String> {
    let text = read_text(path)?;
    let value: Value = serde_json::from_str(&text)
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

fn read_input(path: &Path) -> Result<Input, String> {
    let text = read_text(path)?;
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
        return read_responses(&text);
    }
    // One JSON document (a response, or an array of them)…
    match serde_json::from_str::<Value>(&text) {
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
