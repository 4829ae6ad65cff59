//! One scenario run, end to end: build the engine, drive it to idle, and collect everything the
//! outputs need (timeline, metrics, final world, API calls, expectation verdicts).

use crate::api::request::DescribeRefreshActivitiesRequest;
use crate::api::{ApiOutput, ApiResponse};
use crate::model::World;
use crate::scenario::Scenario;
use crate::sim::{CallRecord, RunError, Simulation};
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
    pub calls: Vec<CallRecord>,
    pub end: SimTime,
    pub events: u64,
    /// `DescribeRefreshActivities` over all activities at the end of the run.
    pub describe: Value,
    pub expectations: Vec<Verdict>,
}

impl RunResult {
    pub fn expectations_hold(&self) -> bool {
        self.expectations.iter().all(|v| v.passed)
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
    RunMeta {
        version: VERSION.to_string(),
        seed,
        scenario_name: scenario.name.clone(),
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

/// Runs to completion and returns only the metrics (the sweep path: no timeline kept).
pub fn run_metrics(scenario: &Scenario, seed: u64) -> Result<(Metrics, World, SimTime), RunError> {
    let mut sink = MetricsSink::new(scenario.floor_permille);
    let (sim, end) = drive(scenario, seed, &mut sink)?;
    let metrics = sink.finish(end.as_ms()).clone();
    Ok((metrics, sim.world().clone(), end))
}

fn drive<S: Sink>(
    scenario: &Scenario,
    seed: u64,
    sink: &mut S,
) -> Result<(Simulation, SimTime), RunError> {
    let mut sim = Simulation::new(scenario, seed, sink)?;
    sim.run_until_idle(sink)?;
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
    let describe = final_describe(sim.world(), seed);
    let world = sim.world().clone();
    let calls = sim.calls().to_vec();
    let mut result = RunResult {
        meta: meta_for(scenario, seed),
        timeline,
        metrics,
        world,
        calls,
        end,
        events: sim.events_processed(),
        describe,
        expectations: Vec::new(),
    };
    result.expectations = crate::expect::check(scenario, &result);
    result
}

/// The `DescribeRefreshActivities` response for every activity of the run, newest first, as the
/// real API would return it with `Limit = 100` (OQ-29).
pub fn final_describe(world: &World, seed: u64) -> Value {
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
    .to_json()
}
