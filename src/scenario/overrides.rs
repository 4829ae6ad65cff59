//! Settings applied on top of a scenario file (OQ-57): `run --set KEY=VALUE` and the variants of a
//! sweep. A key is either a refresh setting of the `StartInstanceRefresh` request (applied to
//! every `StartInstanceRefresh` action of the file) or a path into the file's `group`,
//! `launch_configuration`, `timing` or `faults` section. The changed file goes through exactly
//! the parsing and resolution of the file itself, so every value is checked as if it had been
//! written there, and refresh settings are also checked as Tencent's API checks them (types,
//! enums, ranges) before anything runs.

use super::error::ScenarioError;
use super::file::ScenarioFile;
use super::{Scenario, What};
use crate::api::request::ApiCall;
use crate::api::settings::{check_refresh_mode, check_settings};
use crate::api::{Action, ApiError};
use serde_json::{Map, Value};

/// Longest `KEY=VALUE` text accepted.
pub const MAX_OVERRIDE_CHARS: usize = 4096;
/// Deepest key path accepted.
const MAX_KEY_SEGMENTS: usize = 16;

/// Refresh settings of `StartInstanceRefresh`, by their full path in the request body.
const REQUEST_SETTINGS: &[&[&str]] = &[
    &["RefreshMode"],
    &["RefreshSettings", "RollingUpdateSettings", "BatchNumber"],
    &["RefreshSettings", "RollingUpdateSettings", "BatchPause"],
    &["RefreshSettings", "RollingUpdateSettings", "MaxSurge"],
    &["RefreshSettings", "RollingUpdateSettings", "FailProcess"],
    &["RefreshSettings", "CheckInstanceTargetHealth"],
    &["RefreshSettings", "CheckInstanceTargetHealthTimeout"],
];

/// Sections of the scenario file whose fields can be set.
const FILE_SECTIONS: &[&str] = &["group", "launch_configuration", "timing", "faults"];

/// What a key names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingKey {
    /// A field of every `StartInstanceRefresh` request body (full path).
    Request(&'static [&'static str]),
    /// A field of the scenario file.
    File(Vec<PathStep>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathStep {
    Field(String),
    Index(usize),
}

impl SettingKey {
    /// Parses a key: `RollingUpdateSettings.BatchNumber` (or `BatchNumber`, or the full
    /// `RefreshSettings.RollingUpdateSettings.BatchNumber`), `CheckInstanceTargetHealth`,
    /// `RefreshMode`, or a file path such as `group.size`, `faults.reinstall_failure_rate`,
    /// `timing.reinstall`, `group.instances[0].standby`.
    pub fn parse(text: &str) -> Result<SettingKey, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("expected a setting name before `=`".to_string());
        }
        if let Some(path) = REQUEST_SETTINGS
            .iter()
            .find(|path| names_suffix(path, text))
        {
            return Ok(SettingKey::Request(path));
        }
        let first = text.split(['.', '[']).next().unwrap_or("");
        if !FILE_SECTIONS.contains(&first) {
            return Err(format!(
                "unknown setting `{text}`: expected a refresh setting ({}) or a path under {}",
                request_key_list(),
                FILE_SECTIONS
                    .iter()
                    .map(|s| format!("`{s}.`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        parse_path(text).map(SettingKey::File)
    }

    /// The last path segment, for short labels (`BatchNumber`, `size`).
    pub fn short_name(&self) -> String {
        match self {
            SettingKey::Request(path) => path.last().expect("non-empty").to_string(),
            SettingKey::File(steps) => steps
                .iter()
                .rev()
                .find_map(|s| match s {
                    PathStep::Field(f) => Some(f.clone()),
                    PathStep::Index(_) => None,
                })
                .unwrap_or_default(),
        }
    }

    fn is_max_surge(&self) -> bool {
        matches!(self, SettingKey::Request(path) if path.last() == Some(&"MaxSurge"))
    }
}

/// Is `text` the dotted form of a suffix of `path` (ending at its last segment)?
fn names_suffix(path: &[&str], text: &str) -> bool {
    (0..path.len()).any(|start| path[start..].join(".") == text)
}

fn request_key_list() -> String {
    REQUEST_SETTINGS
        .iter()
        .map(|path| {
            let from = path.len().saturating_sub(2);
            format!("`{}`", path[from..].join("."))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn parse_path(text: &str) -> Result<Vec<PathStep>, String> {
    let mut steps = Vec::new();
    for segment in text.split('.') {
        let (name, mut rest) = match segment.find('[') {
            Some(i) => (&segment[..i], &segment[i..]),
            None => (segment, ""),
        };
        if name.is_empty() || name.contains(']') {
            return Err(format!(
                "expected a path like `group.size` or `group.instances[0].standby`, found `{text}`"
            ));
        }
        steps.push(PathStep::Field(name.to_string()));
        while !rest.is_empty() {
            let close = rest
                .find(']')
                .ok_or_else(|| format!("unclosed `[` in `{text}`"))?;
            let index: usize = rest[1..close]
                .parse()
                .map_err(|_| format!("expected an index like `[0]` in `{text}`"))?;
            steps.push(PathStep::Index(index));
            rest = &rest[close + 1..];
            if !rest.is_empty() && !rest.starts_with('[') {
                return Err(format!("expected `.` or `[` after `]` in `{text}`"));
            }
        }
        if steps.len() > MAX_KEY_SEGMENTS {
            return Err(format!(
                "the path `{text}` has more than {MAX_KEY_SEGMENTS} segments"
            ));
        }
    }
    Ok(steps)
}

/// A value to set.
#[derive(Debug, Clone, PartialEq)]
pub enum SettingValue {
    Json(Value),
    /// `MaxSurge = "batch"` or `"batch/K"`: the size of the largest batch, divided by K
    /// (rounded down), known only once the Start is planned.
    BatchFraction {
        divisor: u32,
    },
}

/// One `KEY=VALUE` setting.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    /// The key as written.
    pub key_text: String,
    pub key: SettingKey,
    pub value: SettingValue,
    /// The value as written (for labels and replay commands).
    pub value_text: String,
}

impl Override {
    /// Parses `KEY=VALUE` as given to `run --set` or `sweep --vary` (one value). The value is
    /// read as a TOML value (`20`, `true`, `0.02`, `"90s"`, `{ uniform = { min = "60s", max =
    /// "120s" } }`); anything that is not one is taken as a string (`AUTO_PAUSE`, `90s`).
    pub fn parse(text: &str) -> Result<Override, String> {
        if text.len() > MAX_OVERRIDE_CHARS {
            return Err(format!(
                "the setting is {} characters long; at most {MAX_OVERRIDE_CHARS} are accepted",
                text.len()
            ));
        }
        let Some((key, value)) = text.split_once('=') else {
            return Err(format!("expected KEY=VALUE, found `{text}`"));
        };
        let mut o = Override::new(key, parse_value_text(value)?)?;
        o.value_text = value.trim().to_string();
        Ok(o)
    }

    /// An override of `key` with a value given as JSON (from a `[sweep]` section).
    pub fn new(key_text: &str, value: Value) -> Result<Override, String> {
        let key = SettingKey::parse(key_text)?;
        let value_text = value_text(&value);
        let value = match (&value, key.is_max_surge()) {
            (Value::String(s), true) if s.starts_with("batch") => batch_fraction(s)?,
            _ => SettingValue::Json(value),
        };
        Ok(Override {
            key_text: key_text.trim().to_string(),
            key,
            value,
            value_text,
        })
    }

    /// The value as JSON (`"batch/K"` for batch fractions).
    pub fn value_json(&self) -> Value {
        match &self.value {
            SettingValue::Json(v) => v.clone(),
            SettingValue::BatchFraction { divisor: 1 } => Value::from("batch"),
            SettingValue::BatchFraction { divisor } => Value::from(format!("batch/{divisor}")),
        }
    }

    /// `KEY=VALUE` as written.
    pub fn text(&self) -> String {
        format!("{}={}", self.key_text, self.value_text)
    }
}

/// The value as a user would write it after `=`: strings bare, everything else as TOML.
pub fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "null".to_string(),
        Value::Bool(_) | Value::Number(_) => value.to_string(),
        Value::Array(_) | Value::Object(_) => {
            toml::Value::try_from(value).map_or_else(|_| value.to_string(), |v| v.to_string())
        }
    }
}

fn batch_fraction(text: &str) -> Result<SettingValue, String> {
    let divisor = match text.strip_prefix("batch") {
        Some("") => Some(1),
        Some(rest) => rest.strip_prefix('/').and_then(|d| d.parse::<u32>().ok()),
        None => None,
    };
    match divisor {
        Some(d) if d >= 1 => Ok(SettingValue::BatchFraction { divisor: d }),
        _ => Err(format!(
            "expected MaxSurge as an integer, `batch` (the largest batch) or `batch/K` (K ≥ 1), found `{text}`"
        )),
    }
}

/// Reads a value written after `=`.
pub fn parse_value_text(text: &str) -> Result<Value, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("expected a value after `=`".to_string());
    }
    let wrapped = format!("v = {text}\n");
    match toml::from_str::<toml::Table>(&wrapped) {
        Ok(mut table) => {
            let value = table.remove("v").expect("parsed `v`");
            serde_json::to_value(value).map_err(|e| format!("cannot use `{text}`: {e}"))
        }
        Err(_) => Ok(Value::String(text.to_string())),
    }
}

/// The scenario with `overrides` applied. `largest_batch` resolves `MaxSurge = batch/K`
/// (`None`: such values count as 0, for the dry run that measures the batch).
pub fn apply(
    base: &Scenario,
    overrides: &[Override],
    largest_batch: Option<usize>,
) -> Result<Scenario, ScenarioError> {
    apply_unbounded(base, overrides, largest_batch).map_err(ScenarioError::readable)
}

fn apply_unbounded(
    base: &Scenario,
    overrides: &[Override],
    largest_batch: Option<usize>,
) -> Result<Scenario, ScenarioError> {
    if overrides.is_empty() {
        return Ok(base.clone());
    }
    let source = &base.source;
    let context = overrides
        .iter()
        .map(|o| super::bounds::cut_argument(&o.text()))
        .collect::<Vec<_>>()
        .join(", ");
    let fail = |field: String, message: String| {
        ScenarioError {
            file: source.name.clone(),
            line: None,
            column: None,
            field,
            message: format!("{message} (with {context})"),
        }
        .readable()
    };
    let mut doc = source_document(source).map_err(|m| fail(String::new(), m))?;
    for o in overrides {
        let value = match &o.value {
            SettingValue::Json(v) => v.clone(),
            SettingValue::BatchFraction { divisor } => {
                Value::from(largest_batch.unwrap_or(0) / *divisor as usize)
            }
        };
        set(&mut doc, &o.key, value).map_err(|m| fail(o.key_text.clone(), m))?;
    }
    let raw: ScenarioFile = serde_path_to_error::deserialize(super::Strict(doc)).map_err(|e| {
        let field = e.path().to_string();
        let field = if field == "." { String::new() } else { field };
        let message = e.into_inner().to_string();
        let (sub, message) = super::table::split_sub_field(&message);
        fail(
            super::table::join_path(&field, sub.unwrap_or_default()),
            message.to_string(),
        )
    })?;
    let mut scenario = super::resolve::resolve(raw, source.clone())
        .map_err(|e| fail(e.field.clone(), e.message))?;
    if overrides
        .iter()
        .any(|o| matches!(o.key, SettingKey::Request(_)))
    {
        check_start_requests(&scenario).map_err(|(origin, e)| {
            fail(
                origin,
                format!(
                    "StartInstanceRefresh would be refused with {}: {}",
                    e.code, e.message
                ),
            )
        })?;
    }
    scenario.overrides = overrides.iter().map(Override::text).collect();
    Ok(scenario)
}

/// The file as a JSON document (TOML files converted).
fn source_document(source: &super::Source) -> Result<Value, String> {
    if source.is_json {
        serde_json::from_str(source.body()).map_err(|e| e.to_string())
    } else {
        toml::from_str(source.body()).map_err(|e| e.to_string())
    }
}

fn set(doc: &mut Value, key: &SettingKey, value: Value) -> Result<(), String> {
    match key {
        SettingKey::Request(path) => set_in_start_requests(doc, path, value),
        SettingKey::File(steps) => {
            let (last, parents) = steps.split_last().expect("non-empty path");
            let mut here = doc;
            for step in parents {
                here = descend(here, step)?;
            }
            match last {
                PathStep::Field(name) => {
                    object_of(here, name)?.insert(name.clone(), value);
                }
                PathStep::Index(i) => *element(here, *i)? = value,
            }
            Ok(())
        }
    }
}

fn descend<'a>(here: &'a mut Value, step: &PathStep) -> Result<&'a mut Value, String> {
    match step {
        PathStep::Field(name) => Ok(object_of(here, name)?
            .entry(name.clone())
            .or_insert_with(|| Value::Object(Map::new()))),
        PathStep::Index(i) => element(here, *i),
    }
}

fn object_of<'a>(here: &'a mut Value, name: &str) -> Result<&'a mut Map<String, Value>, String> {
    here.as_object_mut()
        .ok_or_else(|| format!("cannot set `{name}`: its parent is not a table"))
}

fn element(here: &mut Value, index: usize) -> Result<&mut Value, String> {
    let list = here
        .as_array_mut()
        .ok_or_else(|| format!("cannot index `[{index}]`: not a list"))?;
    let len = list.len();
    list.get_mut(index)
        .ok_or_else(|| format!("no element [{index}]: the list has {len}"))
}

fn set_in_start_requests(doc: &mut Value, path: &[&str], value: Value) -> Result<(), String> {
    let actions = doc
        .get_mut("actions")
        .and_then(Value::as_array_mut)
        .map(|a| a.as_mut_slice())
        .unwrap_or_default();
    let mut applied = 0;
    for (i, action) in actions.iter_mut().enumerate() {
        if action.get("action").and_then(Value::as_str) != Some("StartInstanceRefresh") {
            continue;
        }
        let entry = action
            .as_object_mut()
            .ok_or_else(|| format!("actions[{i}] is not a table"))?;
        let mut here = entry
            .entry("request")
            .or_insert_with(|| Value::Object(Map::new()));
        let (last, parents) = path.split_last().expect("non-empty");
        for name in parents {
            here = here
                .as_object_mut()
                .ok_or_else(|| format!("actions[{i}].request: `{name}`'s parent is not a table"))?
                .entry(name.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
        }
        here.as_object_mut()
            .ok_or_else(|| format!("actions[{i}].request: `{last}`'s parent is not a table"))?
            .insert(last.to_string(), value.clone());
        applied += 1;
    }
    if applied == 0 {
        return Err(format!(
            "the scenario has no StartInstanceRefresh action for `{}` to apply to",
            path.join(".")
        ));
    }
    Ok(())
}

/// Checks every `StartInstanceRefresh` body as the API would before looking at the group
/// (OQ-27 steps 1–4: shape, types, required fields, enum and range values).
fn check_start_requests(scenario: &Scenario) -> Result<(), (String, ApiError)> {
    for h in &scenario.happenings {
        let What::Api {
            action: Action::StartInstanceRefresh,
            body,
            fill,
            ..
        } = &h.what
        else {
            continue;
        };
        let mut body = body.clone();
        if *fill && let Value::Object(map) = &mut body {
            map.entry("AutoScalingGroupId")
                .or_insert_with(|| Value::String(scenario.world.group_id.clone()));
        }
        let check = || -> Result<(), ApiError> {
            let ApiCall::StartInstanceRefresh(req) =
                ApiCall::parse(Action::StartInstanceRefresh, &body)?
            else {
                unreachable!("parsed as Start");
            };
            check_refresh_mode(req.refresh_mode.as_deref())?;
            check_settings(&req.refresh_settings)?;
            Ok(())
        };
        check().map_err(|e| (h.origin.clone(), e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oq57_request_keys_are_recognised_by_any_suffix() {
        for text in [
            "BatchNumber",
            "RollingUpdateSettings.BatchNumber",
            "RefreshSettings.RollingUpdateSettings.BatchNumber",
        ] {
            assert_eq!(
                SettingKey::parse(text).unwrap(),
                SettingKey::Request(REQUEST_SETTINGS[1])
            );
        }
        assert_eq!(
            SettingKey::parse("CheckInstanceTargetHealth").unwrap(),
            SettingKey::Request(REQUEST_SETTINGS[5])
        );
        // A partial segment is not a suffix.
        assert!(SettingKey::parse("Number").is_err());
        let err = SettingKey::parse("RollingUpdateSettings.BatchNumbr").unwrap_err();
        assert!(err.contains("unknown setting"), "{err}");
        assert!(err.contains("RollingUpdateSettings.BatchNumber"), "{err}");
    }

    #[test]
    fn file_paths_parse_with_indices() {
        assert_eq!(
            SettingKey::parse("group.instances[2].standby").unwrap(),
            SettingKey::File(vec![
                PathStep::Field("group".into()),
                PathStep::Field("instances".into()),
                PathStep::Index(2),
                PathStep::Field("standby".into()),
            ])
        );
        assert!(SettingKey::parse("actions[0].at").is_err());
        assert!(SettingKey::parse("group.instances[x]").is_err());
        assert!(SettingKey::parse("group..size").is_err());
        assert!(SettingKey::parse("group.instances[0").is_err());
    }

    #[test]
    fn values_are_read_as_toml_or_else_strings() {
        assert_eq!(parse_value_text("20").unwrap(), Value::from(20));
        assert_eq!(parse_value_text("0.02").unwrap(), Value::from(0.02));
        assert_eq!(parse_value_text("true").unwrap(), Value::from(true));
        assert_eq!(
            parse_value_text("AUTO_PAUSE").unwrap(),
            Value::from("AUTO_PAUSE")
        );
        assert_eq!(parse_value_text("90s").unwrap(), Value::from("90s"));
        assert_eq!(parse_value_text("\"90s\"").unwrap(), Value::from("90s"));
        assert_eq!(
            parse_value_text("{ uniform = { min = \"60s\", max = \"120s\" } }").unwrap(),
            serde_json::json!({"uniform": {"min": "60s", "max": "120s"}})
        );
        assert!(parse_value_text("  ").is_err());
    }

    #[test]
    fn oq57_max_surge_accepts_batch_fractions() {
        let o = Override::parse("MaxSurge=batch/4").unwrap();
        assert_eq!(o.value, SettingValue::BatchFraction { divisor: 4 });
        assert_eq!(o.text(), "MaxSurge=batch/4");
        let o = Override::parse("RollingUpdateSettings.MaxSurge=batch").unwrap();
        assert_eq!(o.value, SettingValue::BatchFraction { divisor: 1 });
        assert!(Override::parse("MaxSurge=batch/0").is_err());
        assert!(Override::parse("MaxSurge=batches").is_err());
        // Only MaxSurge knows the keyword.
        let o = Override::parse("FailProcess=batch").unwrap();
        assert_eq!(o.value, SettingValue::Json(Value::from("batch")));
    }

    #[test]
    fn malformed_settings_say_what_was_expected() {
        assert!(
            Override::parse("BatchNumber")
                .unwrap_err()
                .contains("KEY=VALUE")
        );
        assert!(Override::parse("=3").unwrap_err().contains("setting name"));
        assert!(
            Override::parse("BatchNumber=")
                .unwrap_err()
                .contains("value")
        );
    }
}
