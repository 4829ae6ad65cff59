//! Property tests over generated scenarios (D11, swarm testing): every invariant holds, the same
//! scenario and seed give the same bytes, BatchNumber and MaxSurge do not change any instance's
//! sampled durations or failures (D7, D8), and every request is either accepted or refused with
//! a documented error — never a panic.
//!
//! Cases per property: 24 by default (a quick `cargo test`); set `REFRESHSIM_PROPTEST_CASES`
//! to raise it (CI runs 2,000). A failing case is shrunk to a minimal scenario and written to
//! `target/proptest-counterexamples/<property>.toml`, which `refreshsim run` replays exactly;
//! proptest also records its seed in `tests/properties.proptest-regressions` (committed).

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};
use refreshsim::api::documented::is_documented;
use refreshsim::check::Invariant;
use refreshsim::testing::{ScenarioSpec, arb_request, arb_scenario, run_spec};
use refreshsim::timeline::{FullSink, MetricsSink};
use std::collections::BTreeMap;
use std::time::Instant;

fn cases(default: u32) -> u32 {
    std::env::var("REFRESHSIM_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn config(cases: u32) -> Config {
    Config {
        cases,
        max_shrink_iters: 4000,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/properties.proptest-regressions",
        ))),
        source_file: Some(file!()),
        ..Config::default()
    }
}

/// Writes a failing case where a user can replay it, and says how.
fn keep_counterexample(property: &str, spec: &ScenarioSpec) -> String {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("proptest-counterexamples");
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("{property}.toml"));
    let _ = std::fs::write(&path, spec.to_toml());
    format!(
        "counterexample written to {} — replay: refreshsim run {}",
        path.display(),
        path.display()
    )
}

fn report(property: &str, started: Instant, cases: u32) {
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "{property}: {cases} generated scenarios in {secs:.1} s ({:.0} per second)",
        f64::from(cases) / secs.max(1e-9)
    );
}

#[test]
fn every_invariant_holds_for_generated_scenarios() {
    let n = cases(24);
    let started = Instant::now();
    let mut runner = TestRunner::new(config(n));
    let result = runner.run(&arb_scenario(), |spec| {
        let run = match run_spec(&spec) {
            Ok(run) => run,
            // A run that reaches its bounds is a documented outcome (D12), not a violation.
            Err(e) if e.contains("max_events") || e.contains("max_sim_time") => return Ok(()),
            Err(e) => {
                return Err(TestCaseError::fail(format!(
                    "{e}\n{}",
                    keep_counterexample("invariants", &spec)
                )));
            }
        };
        if !run.violations.is_empty() {
            let shown: Vec<String> = run
                .violations
                .iter()
                .take(5)
                .map(|v| v.to_string())
                .collect();
            return Err(TestCaseError::fail(format!(
                "{} violation(s):\n{}\n{}",
                run.violations.len(),
                shown.join("\n"),
                keep_counterexample("invariants", &spec)
            )));
        }
        Ok(())
    });
    report("every_invariant_holds", started, n);
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn same_scenario_and_seed_give_identical_bytes() {
    let n = cases(24) / 4 + 1;
    let started = Instant::now();
    let mut runner = TestRunner::new(config(n));
    let result = runner.run(&arb_scenario(), |spec| {
        let (Ok(a), Ok(b)) = (run_spec(&spec), run_spec(&spec)) else {
            return Ok(());
        };
        let ta = a.timeline.as_ref().unwrap();
        let tb = b.timeline.as_ref().unwrap();
        let same = ta.content_hash() == tb.content_hash()
            && a.describe == b.describe
            && a.metrics == b.metrics;
        if !same {
            return Err(TestCaseError::fail(keep_counterexample(
                "determinism",
                &spec,
            )));
        }
        Ok(())
    });
    report("same_scenario_and_seed_give_identical_bytes", started, n);
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Per instance: (reinstall duration of its first attempt in ms, whether that attempt failed).
fn first_attempts(run: &refreshsim::run::RunResult) -> BTreeMap<String, (u64, bool)> {
    let mut running = BTreeMap::new();
    let mut out = BTreeMap::new();
    for row in run.timeline.as_ref().unwrap().rows() {
        if row.kind == "instance" && row.to == "RUNNING" {
            running
                .entry(row.instance_id.clone())
                .or_insert(row.time_ms);
        }
        let ended = (row.kind == "reinstall")
            || (row.kind == "instance" && row.from == "RUNNING" && row.to == "FAILED");
        if ended
            && !out.contains_key(&row.instance_id)
            && let Some(t0) = running.get(&row.instance_id)
        {
            out.insert(
                row.instance_id.clone(),
                (row.time_ms - t0, row.kind != "reinstall"),
            );
        }
    }
    out
}

#[test]
fn batch_number_and_max_surge_leave_every_instance_draw_unchanged() {
    let n = cases(24) / 4 + 1;
    let started = Instant::now();
    let mut runner = TestRunner::new(config(n));
    let strategy = arb_scenario().prop_flat_map(|spec| {
        let size = spec.instances.len().max(1) as u64;
        (Just(spec), 1..=size, 0i64..=2)
    });
    let result = runner.run(&strategy, |(spec, other_batches, surge)| {
        // A plain RESET refresh whose first attempts are all observable: no hooks, no health
        // check, no operator or external faults; failures retried automatically.
        let mut base = spec.clone();
        base.hooks.clear();
        base.faults.clear();
        base.instances.iter_mut().for_each(|i| i.state = refreshsim::testing::GenState::InService);
        base.start.replace = false;
        base.start.check_health = false;
        base.start.fail_process = "AUTO_PAUSE";
        base.start.batch_pause = "AUTOMATIC";
        base.start.batch_number = base.start.batch_number.clamp(1, base.instances.len() as u64);
        base.start.max_surge = 0;
        base.actions = vec![(
            refreshsim::testing::GenTrigger::WhenStatus { status: "FAILED_PAUSE", after_s: 60, repeat: true },
            refreshsim::testing::GenOp::Resume { retry: false },
        )];
        let largest = (base.instances.len() as u64).div_ceil(other_batches) as i64;
        let variant = base.with_batching(other_batches, surge.min(largest));
        let (Ok(a), Ok(b)) = (run_spec(&base), run_spec(&variant)) else {
            return Ok(());
        };
        let (da, db) = (first_attempts(&a), first_attempts(&b));
        for (instance, draw) in &da {
            if let Some(other) = db.get(instance)
                && draw != other {
                    return Err(TestCaseError::fail(format!(
                        "{instance}: {draw:?} with BatchNumber {}, {other:?} with BatchNumber {other_batches} MaxSurge {}\n{}",
                        base.start.batch_number,
                        variant.start.max_surge,
                        keep_counterexample("crn", &base)
                    )));
                }
        }
        Ok(())
    });
    report(
        "batch_number_and_max_surge_leave_every_instance_draw_unchanged",
        started,
        n,
    );
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn every_request_is_accepted_or_refused_with_a_documented_error() {
    let n = cases(24) * 4;
    let started = Instant::now();
    let mut runner = TestRunner::new(config(n));
    let strategy = (arb_scenario(), prop::collection::vec(arb_request(), 1..12));
    let result = runner.run(&strategy, |(spec, requests)| {
        let scenario =
            refreshsim::scenario::parse_scenario("generated.toml", &spec.to_toml()).unwrap();
        let mut sink = FullSink::new(MetricsSink::new(800));
        let mut sim = refreshsim::sim::Simulation::new(&scenario, 1, &mut sink).unwrap();
        for (k, (action, body)) in requests.iter().enumerate() {
            let _ = sim.advance_until(refreshsim::time::SimTime(k as u64 * 30_000), &mut sink);
            let response = sim.submit(*action, body, &mut sink);
            if let Some(code) = response.error_code()
                && !is_documented(*action, code)
            {
                return Err(TestCaseError::fail(format!(
                    "{action} {body} → undocumented {code}"
                )));
            }
        }
        let _ = sim.run_until_idle(&mut sink);
        Ok(())
    });
    report(
        "every_request_is_accepted_or_refused_with_a_documented_error",
        started,
        n,
    );
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn the_catalogue_is_what_the_properties_check() {
    // The invariant property checks every invariant of the catalogue through `run`.
    assert!(Invariant::ALL.len() >= 20);
}
