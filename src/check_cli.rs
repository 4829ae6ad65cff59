//! `refreshsim check PATH`: read a timeline or a Describe history, report violations.

use crate::check::{Invariant, Violation, check_describe_history, check_timeline};
use crate::cli::{EXIT_BAD_INPUT, EXIT_EXPECTATION_FAILED, EXIT_OK};
use crate::timeline::parse::{read_csv, read_jsonl};
use serde_json::Value;
use std::io::BufRead;
use std::path::Path;

/// Largest file `check` reads (2 GiB).
pub const MAX_CHECK_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// What a file holds.
enum Input {
    Timeline(crate::timeline::parse::ReadTimeline),
    Describe(Vec<Value>),
}

pub fn check_command(path: &Path) -> i32 {
    let input = match read_input(path) {
        Ok(input) => input,
        Err(message) => {
            eprintln!("error: {}: {message}", path.display());
            return EXIT_BAD_INPUT;
        }
    };
    match input {
        Input::Timeline(read) => {
            let violations = check_timeline(&read.timeline);
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
                Invariant::ALL.len() - 1
            );
            report(&violations)
        }
        Input::Describe(snapshots) => {
            let result = check_describe_history(&snapshots);
            println!(
                "checked {} DescribeRefreshActivities snapshot(s) of {} activity(ies)",
                result.snapshots, result.activities
            );
            let unchecked: Vec<&str> = result.unchecked.iter().map(|i| i.id()).collect();
            println!(
                "not checkable from Describe snapshots (they need a timeline): {}",
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

fn read_input(path: &Path) -> Result<Input, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if meta.is_dir() {
        return Err(
            "expected a file (timeline.csv, timeline.jsonl or Describe JSON), found a directory"
                .into(),
        );
    }
    if meta.len() > MAX_CHECK_BYTES {
        return Err(format!(
            "the file is {} bytes; at most {MAX_CHECK_BYTES} are read",
            meta.len()
        ));
    }
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    let name = path.to_string_lossy().to_lowercase();
    if name.ends_with(".csv") {
        return read_csv(file)
            .map(Input::Timeline)
            .map_err(|e| e.to_string());
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    let text = String::from_utf8(bytes).map_err(|e| format!("not UTF-8 text: {e}"))?;
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    if name.ends_with(".jsonl") || name.ends_with(".ndjson") {
        let probe: Value = serde_json::from_str(first).map_err(|e| format!("line 1: {e}"))?;
        if probe.get("kind").is_some() {
            return read_jsonl(std::io::BufReader::new(text.as_bytes()))
                .map(Input::Timeline)
                .map_err(|e| e.to_string());
        }
        let mut snapshots = Vec::new();
        for (i, line) in std::io::BufReader::new(text.as_bytes()).lines().enumerate() {
            let line = line.map_err(|e| format!("line {}: {e}", i + 1))?;
            if line.trim().is_empty() {
                continue;
            }
            let v: Value =
                serde_json::from_str(&line).map_err(|e| format!("line {}: {e}", i + 1))?;
            // responses.jsonl opens with a `{"_refreshsim": ...}` header line (D9).
            if v.as_object()
                .is_some_and(|m| m.len() == 1 && m.contains_key("_refreshsim"))
            {
                continue;
            }
            snapshots.push(describe_response(v).map_err(|m| format!("line {}: {m}", i + 1))?);
        }
        return Ok(Input::Describe(snapshots));
    }
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| format!("line {}, column {}: {}", e.line(), e.column(), e))?;
    match value {
        Value::Array(items) => items
            .into_iter()
            .map(describe_response)
            .collect::<Result<Vec<_>, _>>()
            .map(Input::Describe),
        v => Ok(Input::Describe(vec![describe_response(v)?])),
    }
}

/// A Describe response as the API returns it, or as refreshsim's describe.json wraps it; also
/// the `response` field of a responses.jsonl line.
fn describe_response(v: Value) -> Result<Value, String> {
    let v = match v.get("response") {
        Some(inner) => inner.clone(),
        None => v,
    };
    let body = v.get("Response").unwrap_or(&v);
    if body.get("RefreshActivitySet").is_some() || body.get("Error").is_some() {
        Ok(v)
    } else {
        Err(
            "expected a DescribeRefreshActivities response (with Response.RefreshActivitySet)"
                .into(),
        )
    }
}
