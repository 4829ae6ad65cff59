//! One scenario run, end to end: build the engine, drive it to idle, and collect everything the
//! outputs need (timeline, metrics, final world, API calls, expectation verdicts).

pub mod expect;

use crate::api::request::DescribeRefreshActivitiesRequest;
use crate::api::{ActivityStatus, ActivityType, ApiOutput, ApiResponse, InstanceStatus};
use crate::model::World;
use crate::scenario::Scenario;
use crate::sim::{CallRecord, Prepared, RunError, Simulation};
pub use crate::sim::{CallStream, REFUSED_CALLS_KEPT};
use crate::time::SimTime;
use crate::timeline::{FullSink, Metrics, MetricsSink, RunMeta, Sink, Timeline};
use serde_json::Value;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Everything a finished run produced.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub meta: RunMeta,
    /// `None` when run with the metrics-only sink.
    pub timeline: Option<Timeline>,
    pub metrics: Metrics,
    pub world: World,
    /// Every call, or with its calls streamed (`run --stream`) only the ones a `CallStream`
    /// keeps.
    pub calls: Vec<CallRecord>,
    /// Refused calls, all of them (with streamed calls `calls` holds only the first few).
    pub refused_calls: u64,
    pub end: SimTime,
    pub events: u64,
    /// `DescribeRefreshActivities` over all activities at the end of the run; null when no
    /// timeline was kept (render it from `world` with `final_describe_pretty`).
    pub describe: Value,
    pub expectations: Vec<Verdict>,
    /// Invariant violations found in the timeline (empty when no timeline was kept).
    pub violations: Vec<crate::check::Violation>,
}

impl RunResult {
    /// Every expectation holds and no invariant is violated.
    pub fn expectations_hold(&self) -> bool {
        self.expectations.iter().all(|v| v.passed) && self.violations.is_empty()
    }
}

/// One expectation of the scenario's `expect` block, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub name: String,
    pub passed: bool,
    pub detail: String,
}

pub fn meta_for(scenario: &Scenario, seed: u64) -> RunMeta {
    // Settings applied on top of the file are part of what was run; the hash stays the file's.
    let scenario_name = if scenario.overrides.is_empty() {
        scenario.name.clone()
    } else {
        format!("{} with {}", scenario.name, scenario.overrides.join(", "))
    };
    RunMeta {
        version: VERSION.to_string(),
        seed,
        scenario_name,
        scenario_sha256: scenario.source_sha256.clone(),
    }
}

/// Runs `scenario` with `seed`, keeping the full timeline when `keep_timeline`.
pub fn run_scenario(
    scenario: &Scenario,
    seed: u64,
    keep_timeline: bool,
) -> Result<RunResult, RunError> {
    let metrics = MetricsSink::new(scenario.floor_permille);
    if keep_timeline {
        let mut sink = FullSink::new(metrics);
        let (sim, end) = drive(scenario, seed, &mut sink)?;
        let timeline = Timeline {
            epoch: scenario.epoch,
            names: sim.world().names.clone(),
            records: std::mem::take(&mut sink.records),
        };
        let metrics = sink.metrics.finish(end.as_ms()).clone();
        Ok(collect(scenario, seed, sim, Some(timeline), metrics, end))
    } else {
        let mut sink = metrics;
        let (sim, end) = drive(scenario, seed, &mut sink)?;
        let metrics = sink.finish(end.as_ms()).clone();
        Ok(collect(scenario, seed, sim, None, metrics, end))
    }
}

/// The outcome of one activity, as sweeps need it.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityDigest {
    pub activity_type: ActivityType,
    pub status: ActivityStatus,
    pub created: SimTime,
    pub started: Option<SimTime>,
    pub ended: Option<SimTime>,
    /// Instance count by final `InstanceStatus`, indexed like `InstanceStatus::ALL`.
    pub instances: [u32; 7],
    pub settings: crate::api::RefreshSettings,
}

/// A run reduced to what sweeps aggregate: metrics and per-activity outcomes, no timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct RunDigest {
    /// The run bound that stopped the run (`max_events`, `max_sim_time`), if one did: the
    /// digest then describes the state at that moment (e.g. a refresh retried forever).
    pub limit: Option<&'static str>,
    pub metrics: Metrics,
    pub end: SimTime,
    pub events: u64,
    pub activities: Vec<ActivityDigest>,
}

/// Runs a prepared scenario with the metrics-only sink (the sweep path: nothing kept but the
/// digest, no world or timeline copied out).
pub fn run_digest(
    prepared: &Prepared,
    seed: u64,
    floor_permille: u32,
) -> Result<RunDigest, RunError> {
    let mut sink = MetricsSink::new(floor_permille);
    let mut sim = Simulation::from_prepared(prepared, seed, &mut sink);
    let result = sim.run_until_idle(&mut sink);
    finish_digest(sim, sink, result)
}

/// `run_digest` that stops as soon as `stop(metrics, now)` holds after an event (`advise` cuts
/// a run once it has broken a constraint): `Ok(None)` when it stopped so.
pub fn run_digest_until(
    prepared: &Prepared,
    seed: u64,
    floor_permille: u32,
    stop: &mut dyn FnMut(&Metrics, SimTime) -> bool,
) -> Result<Option<RunDigest>, RunError> {
    let mut sink = MetricsSink::new(floor_permille);
    let mut sim = Simulation::from_prepared(prepared, seed, &mut sink);
    let result = loop {
        match sim.step(&mut sink) {
            Ok(true) if stop(&sink.metrics, sim.now()) => return Ok(None),
            Ok(true) => {}
            Ok(false) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    finish_digest(sim, sink, result).map(Some)
}

fn finish_digest(
    mut sim: Simulation,
    mut sink: MetricsSink,
    result: Result<(), RunError>,
) -> Result<RunDigest, RunError> {
    let limit = match result {
        Ok(()) => None,
        Err(RunError::MaxEvents { .. }) => Some("max_events"),
        Err(RunError::MaxSimTime { .. }) => Some("max_sim_time"),
        Err(RunError::MaxRecords { .. }) => Some("max_records"),
        Err(RunError::MaxCallBytes { .. }) => Some("max_call_bytes"),
        Err(RunError::MaxMemory { .. }) => Some("max_memory_bytes"),
        Err(e @ RunError::World(_)) => return Err(e),
    };
    let reason = match limit {
        None => crate::timeline::RunEndReason::Idle,
        Some(_) => crate::timeline::RunEndReason::Bound,
    };
    sim.end_run(reason, &mut sink);
    let end = sim.now();
    let activities = sim
        .world()
        .activities
        .iter()
        .map(|act| {
            let mut instances = [0u32; 7];
            for item in &act.items {
                let slot = InstanceStatus::ALL
                    .iter()
                    .position(|s| *s == item.status)
                    .expect("listed");
                instances[slot] += 1;
            }
            ActivityDigest {
                activity_type: act.activity_type,
                status: act.status,
                created: act.created,
                started: act.started,
                ended: act.ended,
                instances,
                settings: act.settings,
            }
        })
        .collect();
    Ok(RunDigest {
        limit,
        metrics: sink.finish(end.as_ms()).clone(),
        end,
        events: sim.events_processed(),
        activities,
    })
}

fn drive<S: Sink>(
    scenario: &Scenario,
    seed: u64,
    sink: &mut S,
) -> Result<(Simulation, SimTime), RunError> {
    drive_streaming_calls(scenario, seed, sink, None)
}

fn drive_streaming_calls<S: Sink>(
    scenario: &Scenario,
    seed: u64,
    sink: &mut S,
    calls: Option<CallStream>,
) -> Result<(Simulation, SimTime), RunError> {
    let mut sim = Simulation::new(scenario, seed, sink)?;
    if let Some(calls) = calls {
        sim.stream_calls(calls);
    }
    sim.run_until_idle(sink)?;
    sim.end_run(crate::timeline::RunEndReason::Idle, sink);
    let end = sim.now();
    Ok((sim, end))
}

fn collect(
    scenario: &Scenario,
    seed: u64,
    sim: Simulation,
    timeline: Option<Timeline>,
    metrics: Metrics,
    end: SimTime,
) -> RunResult {
    // Without a timeline (metrics sink, streamed CSV) the response is rendered on demand
    // (`final_describe_pretty`), not kept as a JSON tree.
    let describe = if timeline.is_some() {
        final_describe(sim.world(), seed)
    } else {
        Value::Null
    };
    let events = sim.events_processed();
    let refused_calls = sim.refused_calls();
    let (world, calls) = sim.into_parts();
    let mut result = RunResult {
        meta: meta_for(scenario, seed),
        timeline,
        metrics,
        world,
        calls,
        refused_calls,
        end,
        events,
        describe,
        expectations: Vec::new(),
        violations: Vec::new(),
    };
    result.expectations = expect::check(scenario, &result);
    if let Some(timeline) = &result.timeline {
        result.violations =
            crate::check::replay::check_timeline_and_describe(timeline, Some(&result.describe));
    }
    result
}

/// The `DescribeRefreshActivities` response for every activity of the run, newest first, as the
/// real API would return it with `Limit = 100` (OQ-29).
pub fn final_describe(world: &World, seed: u64) -> Value {
    final_describe_response(world, seed).to_json()
}

fn final_describe_response(world: &World, seed: u64) -> ApiResponse {
    let request = DescribeRefreshActivitiesRequest {
        limit: Some(crate::model::describe::MAX_LIMIT),
        ..Default::default()
    };
    let result = world.describe(&request);
    debug_assert!(matches!(result, Ok(ApiOutput::Describe { .. })));
    ApiResponse {
        request_id: crate::sim::draws::DrawSource::final_request_id(seed),
        result,
    }
}

/// `final_describe` as pretty JSON with a top-level `_refreshsim` key appended, serialized
/// straight from the response structs: the same bytes as pretty-printing the value with the key
/// inserted, without the JSON tree (for a million instances, the largest thing in memory).
pub fn final_describe_pretty(world: &World, seed: u64, refreshsim: &Value) -> Vec<u8> {
    #[derive(serde::Serialize)]
    struct Top<'a> {
        #[serde(rename = "Response")]
        response: Body<'a>,
        #[serde(rename = "_refreshsim")]
        refreshsim: &'a Value,
    }
    #[derive(serde::Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Body<'a> {
        total_count: u64,
        refresh_activity_set: &'a [crate::api::response::RefreshActivity],
        request_id: &'a str,
    }
    let response = final_describe_response(world, seed);
    let mut bytes = match &response.result {
        Ok(ApiOutput::Describe {
            total_count,
            refresh_activity_set,
        }) => serde_json::to_vec_pretty(&Top {
            response: Body {
                total_count: *total_count,
                refresh_activity_set,
                request_id: &response.request_id,
            },
            refreshsim,
        }),
        _ => {
            let mut value = response.to_json();
            if let Value::Object(map) = &mut value {
                map.insert("_refreshsim".into(), refreshsim.clone());
            }
            serde_json::to_vec_pretty(&value)
        }
    }
    .expect("response structs always serialize");
    bytes.push(b'\n');
    bytes
}

/// What the first `StartInstanceRefresh` of a scenario would get: the engine runs the happenings
/// due strictly before it (so earlier faults count) with the scenario's seed, then the Start.
#[derive(Debug, Clone)]
pub struct DryStart {
    /// The action's id, or its place in the file.
    pub origin: String,
    pub at: SimTime,
    pub result: Result<StartPlan, crate::api::ApiError>,
}

/// The frozen plan of an accepted Start (OQ-1–OQ-3).
#[derive(Debug, Clone)]
pub struct StartPlan {
    pub settings: crate::api::RefreshSettings,
    /// Instance ids per batch.
    pub batches: Vec<Vec<String>>,
}

/// Runs `scenario` up to its first `StartInstanceRefresh` and submits it; `None` when it has
/// none. A timed Start runs exactly as in the real run: every event queued before it (faults
/// and actions due at the same instant but earlier in the file included) runs first, then the
/// Start itself. A Start on a condition is tried at time 0.
pub fn dry_run_first_start(scenario: &Scenario) -> Result<Option<DryStart>, RunError> {
    use crate::scenario::{Trigger, What};
    let Some(start_index) = scenario.happenings.iter().position(|h| {
        matches!(
            h.what,
            What::Api {
                action: crate::api::Action::StartInstanceRefresh,
                ..
            }
        )
    }) else {
        return Ok(None);
    };
    let start = &scenario.happenings[start_index];
    let mut sink = MetricsSink::new(scenario.floor_permille);
    let mut sim = Simulation::new(scenario, scenario.seed, &mut sink)?;
    let at = match start.trigger {
        Trigger::At { at_ms } => SimTime(at_ms),
        Trigger::When { .. } => SimTime::ZERO,
    };
    let timed = matches!(start.trigger, Trigger::At { .. });
    let result = if timed && sim.step_until_happening(start_index as u32, &mut sink)? {
        // Run the Start's own queue item, as the real run does (ids filled the same way).
        sim.step(&mut sink)?;
        let call = sim
            .calls()
            .iter()
            .rev()
            .find(|c| c.action == crate::api::Action::StartInstanceRefresh)
            .expect("the Start happening made a call");
        match call.code {
            None => Ok(()),
            Some(code) => Err(crate::api::ApiError::new(
                code,
                call.response["Response"]["Error"]["Message"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )),
        }
    } else {
        let What::Api { body, fill, .. } = &start.what else {
            unreachable!("found by action")
        };
        let mut body = body.clone();
        if *fill && let Value::Object(map) = &mut body {
            map.entry("AutoScalingGroupId")
                .or_insert_with(|| Value::String(scenario.world.group_id.clone()));
        }
        sim.submit(crate::api::Action::StartInstanceRefresh, &body, &mut sink)
            .result
            .map(|_| ())
    };
    let result = result.map(|_| {
        let world = sim.world();
        let act = world.activities.last().expect("Start created an activity");
        let batches = (0..act.batches.len() as u32)
            .map(|b| {
                act.batch_items(b)
                    .map(|i| {
                        let instance = act.items[i].instance as usize;
                        world.names.get(world.instances[instance].id).to_string()
                    })
                    .collect()
            })
            .collect();
        StartPlan {
            settings: act.settings,
            batches,
        }
    });
    Ok(Some(DryStart {
        origin: start.id.clone().unwrap_or_else(|| start.origin.clone()),
        at,
        result,
    }))
}

/// `base` with `overrides` applied (`run --set`, sweep variants). `MaxSurge = batch/K` is
/// resolved from the plan the first Start gets with the other settings applied (OQ-57).
pub fn with_overrides(
    base: &Scenario,
    overrides: &[crate::scenario::overrides::Override],
) -> Result<Scenario, crate::scenario::ScenarioError> {
    use crate::scenario::overrides::{SettingValue, apply};
    let scenario = apply(base, overrides, None)?;
    if !overrides
        .iter()
        .any(|o| matches!(o.value, SettingValue::BatchFraction { .. }))
    {
        return Ok(scenario);
    }
    let dry = dry_run_first_start(&scenario).map_err(|e| crate::scenario::ScenarioError {
        file: base.source_name.clone(),
        line: None,
        column: None,
        field: String::new(),
        message: format!("cannot plan the first StartInstanceRefresh: {e}"),
    })?;
    let largest = dry
        .and_then(|d| d.result.ok())
        .and_then(|plan| plan.batches.first().map(Vec::len))
        .unwrap_or(0);
    apply(base, overrides, Some(largest))
}

/// A run whose timeline went to a writer as it was produced.
pub struct StreamedRun<W> {
    /// Everything but the timeline (`timeline` is `None`, so no invariant verdicts: the
    /// checker replays a timeline held in memory) and the Describe response (`describe` is
    /// null: render it with `final_describe_pretty(&result.world, ..)`).
    pub result: RunResult,
    /// The writer back, flushed, with the timeline's content hash (`Timeline::content_hash`),
    /// or the first write error.
    pub out: std::io::Result<(W, String)>,
    /// Timeline rows written, the `run` row excluded.
    pub rows: u64,
    /// With a `CallStream`: its writer back, flushed, or its first write error.
    pub calls_out: Option<std::io::Result<Box<dyn std::io::Write + Send>>>,
}

/// Runs a scenario writing its timeline CSV to `out` as it goes (bytes identical to
/// `Timeline::write_csv`), keeping at most one block of records in memory: the path for
/// synthetic groups far beyond Tencent's 2,000 (DESIGN.md §8).
///
/// With `calls`, the API calls go to its writer as they are answered (`responses.jsonl`),
/// instead of being kept (OQ-97).
pub fn run_streamed<W: std::io::Write>(
    scenario: &Scenario,
    seed: u64,
    out: W,
    calls: Option<CallStream>,
) -> Result<StreamedRun<W>, RunError> {
    let meta = meta_for(scenario, seed);
    let metrics = MetricsSink::new(scenario.floor_permille);
    let mut sink = crate::timeline::CsvStreamSink::new(&meta, scenario.epoch, out, metrics);
    let (mut sim, end) = drive_streaming_calls(scenario, seed, &mut sink, calls)?;
    let calls_out = sim.finish_call_stream();
    let rows_before_finish = sink.rows();
    let metrics = sink.metrics.finish(end.as_ms()).clone();
    let tail = sink.rows_pending();
    let out = sink.finish(&sim.world().names);
    Ok(StreamedRun {
        result: collect(scenario, seed, sim, None, metrics, end),
        out,
        rows: rows_before_finish + tail,
        calls_out,
    })
}

/// A refused call's error as `Code: Message`, from the response the caller got (Tencent's
/// `Response.Error`); the code alone when the response has no message.
pub fn call_error_text(call: &crate::sim::CallRecord) -> String {
    let code = call.code.map_or("OK", |c| c.as_str());
    match call
        .response
        .pointer("/Response/Error/Message")
        .and_then(serde_json::Value::as_str)
    {
        Some(message) => format!("{code}: {message}"),
        None => code.to_string(),
    }
}
