//! Scenario files (DESIGN.md §6): parse (TOML or JSON, same schema, unknown fields refused),
//! then resolve into a `Scenario` that is valid by construction. Every error names the file,
//! line, column and field, what was expected and what was found.

pub mod bounds;
pub mod error;
pub mod file;
pub mod locate;
pub mod overrides;
pub mod resolve;
mod strict;
pub mod table;

pub(crate) use strict::Strict;

pub use error::{FieldError, ScenarioError};

use crate::api::{Action, ActivityStatus, BatchStatus, ErrorCode, InstanceStatus};
use crate::model::WorldChange;
use crate::model::WorldSpec;
use crate::time::Epoch;
use serde_json::Value;
use std::sync::Arc;

/// Largest scenario file accepted (a 2,000-instance explicit group is ~300 KiB).
pub const MAX_SCENARIO_BYTES: usize = 16 * 1024 * 1024;

/// The default run bounds (D12).
pub const DEFAULT_MAX_EVENTS: u64 = 50_000_000;
pub const DEFAULT_MAX_SIM_TIME_MS: u64 = 90 * 24 * 3600 * 1000;
/// Records a full-timeline run may keep in memory (`DEFAULT_MAX_MEMORY_BYTES` is reached
/// first: a kept record costs ~450 bytes with its rendering, OQ-97).
pub const DEFAULT_MAX_RECORDS: u64 = 5_000_000;
/// Bytes a run may keep in what grows with its length (OQ-97): 768 MiB, so that a run stopped
/// by it stays well under a 2 GB address-space cap.
pub const DEFAULT_MAX_MEMORY_BYTES: u64 = 768 * 1024 * 1024;
/// Bytes of recorded API requests and responses a run may keep in memory.
pub const DEFAULT_MAX_CALL_BYTES: u64 = 256 * 1024 * 1024;

/// A duration distribution, in milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub enum Dist {
    Constant(u64),
    Uniform {
        min_ms: u64,
        max_ms: u64,
    },
    /// Normal, truncated to [min_ms, max_ms].
    Normal {
        mean_ms: f64,
        sd_ms: f64,
        min_ms: u64,
        max_ms: u64,
    },
    /// Lognormal given by its median and 95th percentile.
    LogNormal {
        mu: f64,
        sigma: f64,
    },
    /// One of the listed durations, uniformly.
    Empirical(Vec<u64>),
}

/// Per-step timing (spec §11 defaults).
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    pub reinstall: Dist,
    pub target_health: Dist,
    pub init_delay: Dist,
    pub batch_gap: Dist,
    pub instance_create: Dist,
    pub instance_destroy: Dist,
    pub hook_response: Dist,
    /// Per-instance overrides by instance id.
    pub instances: Vec<(String, InstanceTiming)>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct InstanceTiming {
    pub reinstall: Option<Dist>,
    pub target_health: Option<Dist>,
}

impl Default for Timing {
    fn default() -> Timing {
        Timing {
            reinstall: Dist::Constant(90_000),
            target_health: Dist::Constant(0),
            init_delay: Dist::Constant(0),
            batch_gap: Dist::Constant(0),
            instance_create: Dist::Constant(90_000),
            instance_destroy: Dist::Constant(30_000),
            hook_response: Dist::Constant(30_000),
            instances: Vec::new(),
        }
    }
}

/// Which step a scripted failure hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FailStep {
    Reinstall,
    TargetHealth,
}

impl FailStep {
    pub fn parse(text: &str) -> Option<FailStep> {
        match text {
            "reinstall" => Some(FailStep::Reinstall),
            "target_health" => Some(FailStep::TargetHealth),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScriptedFailure {
    pub instance_id: String,
    /// `None` = every attempt.
    pub attempt: Option<u32>,
    pub step: FailStep,
    pub message: Option<String>,
}

/// Probabilities are integers per million so Bernoulli trials are integer comparisons (D6).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Faults {
    pub reinstall_failure_ppm: u32,
    pub target_health_never_ppm: u32,
    pub create_failure_ppm: u32,
    pub destroy_failure_ppm: u32,
    pub hook_abandon_ppm: u32,
    pub scripted: Vec<ScriptedFailure>,
}

/// Which activity a condition or an id fill refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActivityRef {
    /// Any activity (conditions) or the latest created one (fills).
    Any,
    /// The activity created by the action with this id.
    CreatedBy(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    ActivityStatus {
        status: ActivityStatus,
        activity: ActivityRef,
    },
    BatchStatus {
        status: BatchStatus,
        batch: Option<u32>,
        activity: ActivityRef,
    },
    InstanceStatus {
        status: InstanceStatus,
        instance: String,
        activity: ActivityRef,
    },
    ActionCalled {
        action_id: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Trigger {
    At {
        at_ms: u64,
    },
    When {
        condition: Condition,
        after_ms: u64,
        repeat: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum What {
    Api {
        action: Action,
        body: Value,
        fill: bool,
        activity: ActivityRef,
    },
    Change(WorldChange),
}

/// An action, fault event or launch-configuration change, with when it happens.
#[derive(Debug, Clone, PartialEq)]
pub struct Happening {
    pub id: Option<String>,
    /// Field path in the file, for messages.
    pub origin: String,
    pub trigger: Trigger,
    pub what: What,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Expectations {
    pub activity: Option<String>,
    pub status: Option<ActivityStatus>,
    pub max_duration_ms: Option<u64>,
    pub min_in_service: Option<u32>,
    pub batch_statuses: Option<Vec<BatchStatus>>,
    pub instance_statuses: Vec<(String, InstanceStatus)>,
    pub instance_images: Vec<(String, String)>,
    pub group_enabled: Option<bool>,
    pub activities: Option<u32>,
    /// (action id, expected code; `None` = success).
    pub calls: Vec<(String, Option<ErrorCode>)>,
    /// (action id, final status of the activity it created).
    pub activity_statuses: Vec<(String, ActivityStatus)>,
    /// (action id, JSON pointer, expected value).
    pub responses: Vec<(String, String, Value)>,
}

impl Expectations {
    pub fn is_empty(&self) -> bool {
        *self == Expectations::default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_events: u64,
    pub max_sim_time_ms: u64,
    /// Records kept by a full-timeline sink (metrics-only runs are not bounded by it).
    pub max_records: u64,
    /// Serialized bytes of the API calls a run records.
    pub max_call_bytes: u64,
    /// Bytes a run keeps in memory (OQ-97): kept records (with their rendering), recorded
    /// calls, names, and the world's growing parts.
    pub max_memory_bytes: u64,
}

/// A scenario, resolved and valid by construction.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub source_name: String,
    pub source_sha256: String,
    pub epoch: Epoch,
    pub seed: u64,
    pub world: WorldSpec,
    pub timing: Timing,
    pub faults: Faults,
    pub happenings: Vec<Happening>,
    pub expect: Expectations,
    pub limits: Limits,
    pub floor_permille: u32,
    /// The `[sweep]` section, checked by `sweep` (runs ignore it).
    pub sweep: Option<file::SweepSection>,
    /// The text it was parsed from, so settings can be overridden (`run --set`, sweeps).
    pub source: Arc<Source>,
    /// `KEY=VALUE` settings applied on top of the file, as written (empty for the file as is).
    pub overrides: Vec<String>,
}

/// A scenario's source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub name: String,
    /// The file's text, byte-order mark included (the hash covers the file as it is).
    pub text: String,
    pub is_json: bool,
}

impl Source {
    /// The text without a leading byte-order mark.
    pub fn body(&self) -> &str {
        self.text.strip_prefix('\u{feff}').unwrap_or(&self.text)
    }
}

/// Parses and resolves scenario text. `name` is used in error messages; `.json` names (or text
/// starting with `{`) are read as JSON, everything else as TOML. Every error has a position
/// (1:1 when it concerns the whole file, e.g. a missing section) and is cut to a readable length.
pub fn parse_scenario(name: &str, text: &str) -> Result<Scenario, ScenarioError> {
    parse_located(name, text).map_err(|mut e| {
        if e.line.is_none() && text.len() <= MAX_SCENARIO_BYTES {
            e.line = Some(1);
            e.column = Some(1);
        }
        e.readable()
    })
}

fn parse_located(name: &str, text: &str) -> Result<Scenario, ScenarioError> {
    if text.len() > MAX_SCENARIO_BYTES {
        return Err(ScenarioError {
            file: name.to_string(),
            line: None,
            column: None,
            field: String::new(),
            message: format!(
                "the file is {} bytes; scenarios are limited to {MAX_SCENARIO_BYTES} bytes",
                text.len()
            ),
        });
    }
    // Editors on Windows often save a byte-order mark; it is not part of the scenario (and
    // serde_json refuses it), but the hash still covers the file as it is.
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let is_json = name.ends_with(".json") || body.trim_start().starts_with('{');
    let raw = if is_json {
        parse_json(name, body)?
    } else {
        parse_toml(name, body)?
    };
    let source = Arc::new(Source {
        name: name.to_string(),
        text: text.to_string(),
        is_json,
    });
    resolve::resolve(raw, source).map_err(|e| {
        let position = locate::locate(body, is_json, &e.field);
        ScenarioError {
            file: name.to_string(),
            line: position.map(|p| p.line),
            column: position.map(|p| p.column),
            field: e.field,
            message: e.message,
        }
    })
}

/// Reads and parses a scenario file.
pub fn load_scenario(path: &std::path::Path) -> Result<Scenario, ScenarioError> {
    let name = path.display().to_string();
    let fail = |message: String| ScenarioError {
        file: name.clone(),
        line: None,
        column: None,
        field: String::new(),
        message,
    };
    let meta =
        std::fs::metadata(path).map_err(|e| fail(format!("cannot read the scenario: {e}")))?;
    if meta.is_dir() {
        return Err(fail(
            "expected a scenario file (TOML or JSON), found a directory".to_string(),
        ));
    }
    if meta.len() > MAX_SCENARIO_BYTES as u64 {
        return Err(fail(format!(
            "the file is {} bytes; scenarios are limited to {MAX_SCENARIO_BYTES} bytes",
            meta.len()
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot read the scenario: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let valid = e.utf8_error().valid_up_to();
        let prefix = std::str::from_utf8(&bytes[..valid]).expect("valid up to here");
        let position = locate::position_of_offset(prefix, valid);
        ScenarioError {
            line: Some(position.line),
            column: Some(position.column),
            ..fail(format!(
                "expected UTF-8 text, found the byte 0x{:02x}, which is not valid UTF-8",
                bytes[valid]
            ))
        }
    })?;
    parse_scenario(&name, &text)
}

fn parse_toml(name: &str, text: &str) -> Result<file::ScenarioFile, ScenarioError> {
    let deserializer = toml::Deserializer::parse(text).map_err(|e| {
        let offset = e.span().map(|s| s.start);
        if offset.is_none()
            && let Some((at, parts)) = bounds::deep_toml_key(text)
        {
            return deep_key_error(name, text, at, parts);
        }
        let mut err = toml_error(name, text, e, String::new());
        if let Some(offset) = offset {
            err.message = with_found(err.message, text, offset);
        }
        err
    })?;
    serde_path_to_error::deserialize(Strict(deserializer)).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        let mut err = toml_error(name, text, inner, field_or_empty(&field));
        if with_sub_field(&mut err) || err.line.is_none() {
            relocate(&mut err, text, false);
        }
        err
    })
}

/// toml's "recursion limit" names neither the key nor the limit.
fn deep_key_error(name: &str, text: &str, at: usize, parts: usize) -> ScenarioError {
    let p = locate::position_of_offset(text, at);
    ScenarioError {
        file: name.to_string(),
        line: Some(p.line),
        column: Some(p.column),
        field: String::new(),
        message: format!(
            "a key of {parts} dotted parts is deeper than TOML allows (at most {} parts)",
            bounds::TOML_KEY_PARTS
        ),
    }
}

/// Moves the sub-path an error raised inside a table carries (see `table::SubError`) from its
/// message to its field; true when there was one.
pub(crate) fn with_sub_field(err: &mut ScenarioError) -> bool {
    let (sub, message) = table::split_sub_field(&err.message);
    let Some(sub) = sub else {
        return false;
    };
    err.field = table::join_path(&err.field, sub);
    err.message = message.to_string();
    true
}

/// Points the error at where its field is written (the parser's position is where it noticed).
fn relocate(err: &mut ScenarioError, text: &str, is_json: bool) {
    if let Some(p) = locate::locate(text, is_json, &err.field) {
        err.line = Some(p.line);
        err.column = Some(p.column);
    }
}

/// The known part of a serde path: `.` (the root) and unknown segments (`?`, e.g. a syntax error
/// between two keys) name no field.
fn field_or_empty(path: &str) -> String {
    if path == "." {
        return String::new();
    }
    match path.find('?') {
        Some(i) => path[..i].trim_end_matches(['.', '[']).to_string(),
        None => path.to_string(),
    }
}

/// Adds what the source holds at `offset` to a syntax error message that does not say it.
fn with_found(message: String, text: &str, offset: usize) -> String {
    if message.contains("found") || message.contains("EOF") {
        return message;
    }
    format!("{message}, found {}", describe_token_at(text, offset))
}

/// A short description of the token starting at `offset`: `"a string"`, `word`, `,`, end of
/// line, end of file.
fn describe_token_at(text: &str, offset: usize) -> String {
    const MAX_CHARS: usize = 40;
    let rest = text.get(offset..).unwrap_or("");
    let Some(first) = rest.chars().next() else {
        return "end of file".to_string();
    };
    if first == '\n' || first == '\r' {
        return "end of line".to_string();
    }
    let token: String = if first == '"' {
        let line = rest.lines().next().unwrap_or(rest);
        let mut end = line.len();
        let mut escaped = false;
        for (i, c) in line.char_indices().skip(1) {
            match c {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => {
                    end = i + 1;
                    break;
                }
                _ => escaped = false,
            }
        }
        line[..end].to_string()
    } else if first.is_alphanumeric() || matches!(first, '_' | '-' | '.') {
        rest.chars()
            .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
            .collect()
    } else if first.is_control() || first.is_whitespace() || first == '\u{feff}' {
        // Invisible characters are named by code point.
        return format!("U+{:04X}", u32::from(first));
    } else {
        first.to_string()
    };
    if token.chars().count() > MAX_CHARS {
        let cut: String = token.chars().take(MAX_CHARS).collect();
        format!("`{cut}…`")
    } else {
        format!("`{token}`")
    }
}

/// serde_json counts columns from 1 but reports 0 before the first character of a line (for
/// example at the end of an empty file); convert to a byte offset for `describe_token_at`.
fn json_offset(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let in_line = text.get(line_start..).unwrap_or("");
    let column_bytes: usize = in_line
        .chars()
        .take(column.saturating_sub(1))
        .map(char::len_utf8)
        .sum();
    line_start + column_bytes
}

fn toml_error(name: &str, text: &str, e: toml::de::Error, field: String) -> ScenarioError {
    let position = e.span().map(|s| locate::position_of_offset(text, s.start));
    ScenarioError {
        file: name.to_string(),
        line: position.map(|p| p.line),
        column: position.map(|p| p.column),
        field,
        message: e.message().trim().to_string(),
    }
}

fn parse_json(name: &str, text: &str) -> Result<file::ScenarioFile, ScenarioError> {
    let json_error = |e: &serde_json::Error, field: String| {
        let mut message = strip_json_position(&e.to_string());
        if e.is_syntax() {
            message = with_found(message, text, json_offset(text, e.line(), e.column()));
        }
        let mut err = ScenarioError {
            file: name.to_string(),
            line: Some(e.line()),
            column: Some(e.column().max(1)),
            field,
            message,
        };
        if with_sub_field(&mut err) {
            relocate(&mut err, text, true);
        }
        err
    };
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let result: Result<file::ScenarioFile, _> =
        serde_path_to_error::deserialize(Strict(&mut deserializer));
    let parsed = result.map_err(|e| {
        let field = field_or_empty(&e.path().to_string());
        json_error(e.inner(), field)
    })?;
    deserializer
        .end()
        .map_err(|e| json_error(&e, String::new()))?;
    Ok(parsed)
}

/// serde_json appends " at line L column C"; we print the position ourselves.
fn strip_json_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_path_segments_name_no_field() {
        assert_eq!(field_or_empty("."), "");
        assert_eq!(field_or_empty("?"), "");
        assert_eq!(field_or_empty("group.?"), "group");
        assert_eq!(field_or_empty("actions[?]"), "actions");
        assert_eq!(field_or_empty("group.size"), "group.size");
    }

    #[test]
    fn syntax_errors_say_what_was_found() {
        let text = "a = \"x\\\"y\" b\nword-1, z\n";
        assert_eq!(describe_token_at(text, 4), "`\"x\\\"y\"`");
        assert_eq!(describe_token_at(text, 12), "end of line");
        assert_eq!(describe_token_at(text, 13), "`word-1`");
        assert_eq!(describe_token_at(text, 19), "`,`");
        assert_eq!(describe_token_at(text, text.len()), "end of file");
        assert_eq!(describe_token_at("a\u{0}b", 1), "U+0000");
        assert_eq!(
            with_found("duplicate key".into(), text, 13),
            "duplicate key, found `word-1`"
        );
        assert_eq!(with_found("found it".into(), text, 13), "found it");
    }

    #[test]
    fn json_positions_become_offsets_even_at_column_zero() {
        let text = "{\n  \"a\": 1\n";
        assert_eq!(json_offset(text, 1, 0), 0);
        assert_eq!(json_offset(text, 2, 3), 4);
        assert_eq!(json_offset(text, 3, 0), text.len());
    }
}
