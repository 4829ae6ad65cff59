//! `refreshsim check PATH [--describe DESCRIBE_JSON]`: read a timeline or a Describe history
//! (told apart by content, `check::input`), report violations; exit 1 on a violation.

use super::{EXIT_BAD_INPUT, EXIT_EXPECTATION_FAILED, EXIT_OK};
use crate::check::input::{Input, parse_describe, parse_input};
use crate::check::replay::check_timeline_and_describe;
use crate::check::{Violation, check_describe_history, timeline_invariants};
use std::path::Path;

/// Largest file `check` reads (2 GiB).
pub const MAX_CHECK_BYTES: u64 = 2 * 1024 * 1024 * 1024;

pub fn check_command(path: &Path, describe: Option<&Path>) -> i32 {
    let input = match read_text(path).and_then(|text| parse_input(&text)) {
        Ok(input) => input,
        Err(message) => {
            eprintln!("error: {}: {message}", path.display());
            return EXIT_BAD_INPUT;
        }
    };
    match input {
        Input::Timeline(read) => {
            let final_describe = match describe
                .map(|p| read_text(p).and_then(|text| parse_describe(&text)))
                .transpose()
            {
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
