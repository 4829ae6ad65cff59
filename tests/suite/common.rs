//! Helpers shared by integration tests: inline scenarios, runs, and timeline queries.
#![allow(dead_code)]

use refreshsim::api::{ActivityStatus, BatchStatus, InstanceStatus};
use refreshsim::model::World;
use refreshsim::model::world::Activity;
use refreshsim::run::{RunResult, run_scenario};
use refreshsim::scenario::{Scenario, parse_scenario};
use refreshsim::timeline::Row;

/// A scenario with a generated group of `size` instances (image img-old, launch configuration
/// image img-new, 60 s reinstalls), `timing` lines under `[timing]`, a Start at 0 s with
/// `settings` as its `RefreshSettings`, and `extra` TOML appended.
pub fn text(size: usize, timing: &str, settings: &str, extra: &str) -> String {
    let reinstall = if timing.contains("reinstall") {
        ""
    } else {
        "reinstall = \"60s\""
    };
    format!(
        r#"
[scenario]
name = "conformance"
start_time = "2025-01-01T00:00:00Z"
seed = 7

[group]
id = "asg-test0001"
size = {size}
image_id = "img-old"

[launch_configuration]
id = "asc-test0001"
image_id = "img-new"

[timing]
{reinstall}
{timing}

[[actions]]
id = "start"
at = "0s"
action = "StartInstanceRefresh"
request = {{ RefreshSettings = {settings} }}

{extra}
"#
    )
}

pub fn parse(toml: &str) -> Scenario {
    parse_scenario("inline.toml", toml).unwrap_or_else(|e| panic!("{e}\n{toml}"))
}

pub fn run_text(toml: &str) -> RunResult {
    let scenario = parse(toml);
    run_scenario(&scenario, scenario.seed, true).unwrap_or_else(|e| panic!("{e}"))
}

pub fn run(size: usize, timing: &str, settings: &str, extra: &str) -> RunResult {
    run_text(&text(size, timing, settings, extra))
}

pub fn rows(run: &RunResult) -> Vec<Row> {
    run.timeline.as_ref().unwrap().rows().collect()
}

pub fn first_activity(run: &RunResult) -> &Activity {
    run.world
        .activities
        .first()
        .expect("an activity was created")
}

pub fn batch_statuses(act: &Activity) -> Vec<BatchStatus> {
    act.batches.iter().map(|b| b.status).collect()
}

pub fn instance_statuses(world: &World, act: &Activity) -> Vec<(String, InstanceStatus)> {
    act.items
        .iter()
        .map(|it| {
            (
                world
                    .names
                    .get(world.instances[it.instance as usize].id)
                    .to_string(),
                it.status,
            )
        })
        .collect()
}

/// The sequence of activity statuses the timeline shows, starting with INIT.
pub fn activity_statuses(run: &RunResult) -> Vec<ActivityStatus> {
    let mut out = vec![ActivityStatus::Init];
    for row in rows(run) {
        if row.kind == "activity" {
            out.push(ActivityStatus::parse(&row.to).unwrap());
        }
    }
    out
}

/// The error code (or "OK") returned by the action with this id.
pub fn code(run: &RunResult, id: &str) -> String {
    let call = run
        .calls
        .iter()
        .find(|c| c.id.as_deref() == Some(id))
        .unwrap_or_else(|| panic!("action {id} was not called"));
    call.code
        .map(|c| c.as_str().to_string())
        .unwrap_or_else(|| "OK".into())
}

/// Time (ms) of the first row of `kind` whose `to` is `to` (and instance, when given).
pub fn first_time(run: &RunResult, kind: &str, to: &str, instance: Option<&str>) -> Option<u64> {
    rows(run)
        .into_iter()
        .find(|r| r.kind == kind && r.to == to && instance.is_none_or(|i| r.instance_id == i))
        .map(|r| r.time_ms)
}

// ---- Helpers for engine-driven tests --------------------------------------------------------

use refreshsim::api::{Action, ApiOutput, ErrorCode};
use refreshsim::sim::Simulation;
use refreshsim::timeline::{FullSink, MetricsSink};

/// `toml` (from `text`) with `lines` added to its generated `[group]` table.
pub fn with_group(toml: &str, lines: &str) -> String {
    let anchor = "image_id = \"img-old\"";
    assert!(toml.contains(anchor), "not a `text` scenario");
    toml.replacen(anchor, &format!("{anchor}\n{lines}"), 1)
}

/// The engine on an inline scenario, with its actions and faults scheduled (drive it with
/// `advance_until`), or with none of them when `idle`.
pub fn engine_text(toml: &str, idle: bool) -> (Simulation, FullSink) {
    let mut scenario = parse(toml);
    if idle {
        scenario.happenings.clear();
    }
    let mut sink = FullSink::new(MetricsSink::new(800));
    let sim = Simulation::new(&scenario, scenario.seed, &mut sink).unwrap();
    (sim, sink)
}

/// Calls `action` at the engine's current time: the output or the error code.
pub fn call(
    sim: &mut Simulation,
    sink: &mut FullSink,
    action: Action,
    body: serde_json::Value,
) -> Result<ApiOutput, ErrorCode> {
    sim.submit(action, &body, sink).result.map_err(|e| e.code)
}

/// The timeline rows an engine has produced so far.
pub fn engine_rows(sim: &Simulation, sink: &FullSink) -> Vec<Row> {
    let world = sim.world();
    sink.records
        .iter()
        .map(|r| r.to_row(&world.names, world.epoch))
        .collect()
}

/// The id of the `n`-th instance (0-based) of the world.
pub fn instance_name(world: &World, n: usize) -> String {
    world.names.get(world.instances[n].id).to_string()
}

/// Rows of `kind` about `instance`, as (time_ms, from, to).
pub fn transitions(rows: &[Row], kind: &str, instance: &str) -> Vec<(u64, String, String)> {
    rows.iter()
        .filter(|r| r.kind == kind && r.instance_id == instance)
        .map(|r| (r.time_ms, r.from.clone(), r.to.clone()))
        .collect()
}

/// `text` with the one occurrence of `from` replaced by `to`. Panics when `from` is absent or
/// occurs more than once, so an edit of a template that no longer holds the text fails instead
/// of silently testing the unedited template.
pub fn replace_once(text: &str, from: &str, to: &str) -> String {
    match text.matches(from).count() {
        1 => text.replacen(from, to, 1),
        0 => panic!("replace_once: {from:?} is not in the text it should edit:\n{text}"),
        n => panic!("replace_once: {from:?} occurs {n} times in the text it should edit"),
    }
}

/// `text` with every occurrence of `from` replaced by `to`; panics when there is none.
pub fn replace_all(text: &str, from: &str, to: &str) -> String {
    assert!(
        text.contains(from),
        "replace_all: {from:?} is not in the text it should edit:\n{text}"
    );
    text.replace(from, to)
}

/// `replace_once` and `replace_all` as methods, for chains of template edits.
pub trait TemplateEdit {
    fn replace_once(&self, from: &str, to: &str) -> String;
    fn replace_all(&self, from: &str, to: &str) -> String;
}

impl TemplateEdit for str {
    fn replace_once(&self, from: &str, to: &str) -> String {
        replace_once(self, from, to)
    }

    fn replace_all(&self, from: &str, to: &str) -> String {
        replace_all(self, from, to)
    }
}

/// The bundled scenarios (`scenarios/*.toml` and `*.json`), sorted by path.
pub fn bundled_scenarios() -> Vec<std::path::PathBuf> {
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir("scenarios")
        .expect("scenarios/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("toml" | "json")
            )
        })
        .collect();
    files.sort();
    files
}
