//! Scenario files (DESIGN.md §6): parse (TOML or JSON, same schema, unknown fields refused),
//! then resolve into a `Scenario` that is valid by construction. Every error names the file,
//! line, column and field, what was expected and what was found.

pub mod error;
pub mod file;
pub mod locate;
pub mod resolve;

pub use error::{FieldError, ScenarioError};

use crate::api::{Action, ActivityStatus, BatchStatus, ErrorCode, InstanceStatus};
use crate::model::WorldSpec;
use crate::model::refresh::WorldChange;
use crate::time::Epoch;
use serde_json::Value;

/// Largest scenario file accepted (a 2,000-instance explicit group is ~300 KiB).
pub const MAX_SCENARIO_BYTES: usize = 16 * 1024 * 1024;

/// The default run bounds (D12).
pub const DEFAULT_MAX_EVENTS: u64 = 50_000_000;
pub const DEFAULT_MAX_SIM_TIME_MS: u64 = 90 * 24 * 3600 * 1000;

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
}

/// Parses and resolves scenario text. `name` is used in error messages; `.json` names (or text
/// starting with `{`) are read as JSON, everything else as TOML.
pub fn parse_scenario(name: &str, text: &str) -> Result<Scenario, ScenarioError> {
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
    let is_json = name.ends_with(".json") || text.trim_start().starts_with('{');
    let raw = if is_json {
        parse_json(name, text)?
    } else {
        parse_toml(name, text)?
    };
    resolve::resolve(raw, name, text).map_err(|e| {
        let position = locate::locate(text, is_json, &e.field);
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
    if meta.len() > MAX_SCENARIO_BYTES as u64 {
        return Err(fail(format!(
            "the file is {} bytes; scenarios are limited to {MAX_SCENARIO_BYTES} bytes",
            meta.len()
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot read the scenario: {e}")))?;
    let text = String::from_utf8(bytes)
        .map_err(|e| fail(format!("the scenario is not UTF-8 text: {e}")))?;
    parse_scenario(&name, &text)
}

fn parse_toml(name: &str, text: &str) -> Result<file::ScenarioFile, ScenarioError> {
    let deserializer =
        toml::Deserializer::parse(text).map_err(|e| toml_error(name, text, e, String::new()))?;
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        let mut err = toml_error(name, text, inner, field_or_empty(&field));
        if err.line.is_none()
            && let Some(p) = locate::locate(text, false, &err.field)
        {
            err.line = Some(p.line);
            err.column = Some(p.column);
        }
        err
    })
}

fn field_or_empty(path: &str) -> String {
    if path == "." {
        String::new()
    } else {
        path.to_string()
    }
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
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let result: Result<file::ScenarioFile, _> = serde_path_to_error::deserialize(&mut deserializer);
    let parsed = result.map_err(|e| {
        let field = field_or_empty(&e.path().to_string());
        let inner = e.into_inner();
        let message = strip_json_position(&inner.to_string());
        ScenarioError {
            file: name.to_string(),
            line: Some(inner.line()),
            column: Some(inner.column()),
            field,
            message,
        }
    })?;
    deserializer.end().map_err(|e| ScenarioError {
        file: name.to_string(),
        line: Some(e.line()),
        column: Some(e.column()),
        field: String::new(),
        message: strip_json_position(&e.to_string()),
    })?;
    Ok(parsed)
}

/// serde_json appends " at line L column C"; we print the position ourselves.
fn strip_json_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}
