//! Property tests over generated scenarios (D11, swarm testing): every invariant holds, the same
//! scenario and seed give the same bytes, BatchNumber and MaxSurge do not change any instance's
//! sampled durations or failures (D7, D8), and every request is either accepted or refused with
//! a documented error — never a panic.
//!
//! Cases per property: 24 by default (a quick `cargo test`); set `REFRESHSIM_PROPTEST_CASES`
//! to raise it (CI runs 2,000). Every case is a scenario file: it is written to
//! `target/proptest-counterexamples/<property>.running.toml` before it runs (so a crash or a hang
//! leaves it behind), and a failing case — an engine panic included — is written to
//! `target/proptest-counterexamples/<property>.toml`, which `refreshsim run` replays exactly; the
//! last one written is the shrunk, minimal case. proptest also records its seed in
//! `tests/suite/properties.proptest-regressions` (committed). Each property writes its rate to
//! `target/proptest-rates/<property>.txt` (CI prints them).

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};
use refreshsim::api::documented::is_documented;
use refreshsim::check::Invariant;
use refreshsim::check::replay::check_timeline_and_describe;
use refreshsim::testing::{
    GenOp, GenTrigger, ScenarioSpec, SpecRun, arb_scenario, arb_scenario_with_requests,
    check_prefix, run_spec,
};
use refreshsim::timeline::parse::{read_csv, read_jsonl};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::time::Instant;

fn cases(default: u32) -> u32 {
    std::env::var("REFRESHSIM_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The seeds of past failures, re-run first (relative to the package root, where `cargo test`
/// runs the tests).
const REGRESSIONS: &str = "tests/suite/properties.proptest-regressions";

fn config(cases: u32) -> Config {
    Config {
        cases,
        max_shrink_iters: 4000,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(REGRESSIONS))),
        source_file: Some(file!()),
        ..Config::default()
    }
}

/// `target/<name>` (the directory above `CARGO_TARGET_TMPDIR`).
fn target_dir(name: &str) -> PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Where the scenario file of `property`'s failing case goes.
fn counterexample_path(property: &str) -> PathBuf {
    target_dir("proptest-counterexamples").join(format!("{property}.toml"))
}

/// Runs one case of `property`: writes its scenario file first (so even a crash leaves it), runs
/// `check` catching panics, and on any failure writes the file where the message says, with the
/// command that replays it.
fn check_case(
    property: &str,
    spec: &ScenarioSpec,
    check: impl FnOnce(&ScenarioSpec) -> Result<(), String>,
) -> Result<(), TestCaseError> {
    let text = spec.to_toml();
    let running = target_dir("proptest-counterexamples").join(format!("{property}.running.toml"));
    std::fs::write(&running, &text).unwrap();
    let failure = match catch_unwind(AssertUnwindSafe(|| check(spec))) {
        Ok(Ok(())) => return Ok(()),
        Ok(Err(message)) => message,
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "(no message)".into());
            format!("panicked: {message}")
        }
    };
    let path = counterexample_path(property);
    std::fs::write(&path, &text).unwrap();
    Err(TestCaseError::fail(format!(
        "{failure}\ncounterexample written to {path}\nreplay: refreshsim run {path}",
        path = path.display()
    )))
}

/// Prints a property's rate and writes it to `target/proptest-rates/<property>.txt`.
fn report(property: &str, started: Instant, cases: u32, note: &str) {
    let secs = started.elapsed().as_secs_f64();
    let line = format!(
        "{property}: {cases} generated scenarios in {secs:.1} s ({:.0} per second){note}\n",
        f64::from(cases) / secs.max(1e-9)
    );
    eprint!("{line}");
    let _ = std::fs::write(
        target_dir("proptest-rates").join(format!("{property}.txt")),
        line,
    );
}

fn violations_text(run: &SpecRun) -> String {
    let shown: Vec<String> = run
        .violations()
        .iter()
        .take(5)
        .map(|v| v.to_string())
        .collect();
    format!(
        "{} violation(s){}:\n{}",
        run.violations().len(),
        run.bound()
            .map(|b| format!(" in the partial timeline of a bounded run ({b})"))
            .unwrap_or_default(),
        shown.join("\n")
    )
}

#[test]
fn every_invariant_holds_for_generated_scenarios() {
    let n = cases(24);
    let started = Instant::now();
    let (runs, bounded) = (Cell::new(0u32), Cell::new(0u32));
    let refused = std::cell::RefCell::new(BTreeMap::<String, u32>::new());
    let mut runner = TestRunner::new(config(n));
    let result = runner.run(&arb_scenario(), |spec| {
        check_case("invariants", &spec, |spec| {
            let run = run_spec(spec)?;
            runs.set(runs.get() + 1);
            if run.bound().is_some() {
                bounded.set(bounded.get() + 1);
            }
            if let SpecRun::Finished(r) = &run
                && let Some(code) = r.metrics.first_start_error
            {
                *refused.borrow_mut().entry(code.to_string()).or_default() += 1;
            }
            // A run stopped by a bound (D12) is checked too, on its partial timeline.
            if !run.violations().is_empty() {
                return Err(violations_text(&run));
            }
            Ok(())
        })
    });
    let (runs, bounded) = (runs.get(), bounded.get());
    let refused = refused.into_inner();
    report(
        "every_invariant_holds",
        started,
        n,
        &format!(
            "; {bounded} of {runs} runs stopped at a bound, {} had their Start refused {refused:?}",
            refused.values().sum::<u32>()
        ),
    );
    if let Err(e) = result {
        panic!("{e}");
    }
    // Runs stopped by a bound are checked only on a prefix: if many are, the generator is
    // producing useless cases.
    assert!(
        bounded <= (runs / 20).max(1),
        "{bounded} of {runs} generated runs stopped at a bound (more than 5%)"
    );
}

#[test]
fn same_scenario_and_seed_give_identical_bytes() {
    let n = cases(24) / 4 + 1;
    let started = Instant::now();
    let mut runner = TestRunner::new(config(n));
    let result = runner.run(&arb_scenario(), |spec| {
        check_case("determinism", &spec, |spec| {
            // Both runs must agree on everything, including on how they ended (a bound, and
            // its message) or on the error.
            let fingerprint = |r: Result<SpecRun, String>| match r {
                Ok(run) => run.fingerprint(),
                Err(e) => format!("error: {e}"),
            };
            let (a, b) = (fingerprint(run_spec(spec)), fingerprint(run_spec(spec)));
            if a != b {
                return Err(format!(
                    "two runs differ:\n--- first\n{}\n--- second\n{}",
                    a.chars().take(2000).collect::<String>(),
                    b.chars().take(2000).collect::<String>()
                ));
            }
            Ok(())
        })
    });
    report(
        "same_scenario_and_seed_give_identical_bytes",
        started,
        n,
        "",
    );
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Per instance: (reinstall duration of its first attempt in ms, whether that attempt failed).
fn first_attempts(run: &SpecRun) -> BTreeMap<String, (u64, bool)> {
    let mut running = BTreeMap::new();
    let mut out = BTreeMap::new();
    for row in run.timeline().rows() {
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
        // check, no operator or external faults; failures skipped by an operator.
        let mut base = spec.plain();
        base.rates.reinstall_failure = spec.rates.reinstall_failure;
        base.init_delay = None;
        base.batch_gap = None;
        base.start.replace = false;
        base.start.check_health = false;
        base.start.fail_process = "AUTO_PAUSE";
        base.start.batch_pause = "AUTOMATIC";
        base.start.batch_number = base.start.batch_number.clamp(1, base.instances.len() as u64);
        base.start.max_surge = 0;
        base.actions = vec![(
            GenTrigger::WhenStatus { status: "FAILED_PAUSE", after_s: 60, repeat: true },
            GenOp::Resume { retry: false },
        )];
        let largest = (base.instances.len() as u64).div_ceil(other_batches) as i64;
        let variant = base.with_batching(other_batches, surge.min(largest));
        check_case("crn", &base, |base| {
            // Both runs must finish: a bound or an error in either is a failure, not a skip.
            let a = run_spec(base).map_err(|e| format!("BatchNumber {}: {e}", base.start.batch_number))?;
            let b = run_spec(&variant).map_err(|e| format!("variant BatchNumber {other_batches}: {e}"))?;
            for (run, which) in [(&a, "the base"), (&b, "the variant")] {
                if let Some(bound) = run.bound() {
                    return Err(format!("{which} run stopped at a bound: {bound}"));
                }
            }
            let (da, db) = (first_attempts(&a), first_attempts(&b));
            for (instance, draw) in &da {
                if let Some(other) = db.get(instance)
                    && draw != other {
                        return Err(format!(
                            "{instance}: {draw:?} with BatchNumber {}, {other:?} with BatchNumber {other_batches} MaxSurge {}",
                            base.start.batch_number,
                            variant.start.max_surge,
                        ));
                    }
            }
            Ok(())
        })
    });
    report(
        "batch_number_and_max_surge_leave_every_instance_draw_unchanged",
        started,
        n,
        "",
    );
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn every_request_is_accepted_or_refused_with_a_documented_error() {
    let n = cases(24);
    let started = Instant::now();
    let mut runner = TestRunner::new(config(n));
    let result = runner.run(&arb_scenario_with_requests(), |spec| {
        check_case("documented-errors", &spec, |spec| {
            let run = run_spec(spec)?;
            for call in run.calls() {
                if let Some(code) = call.code
                    && !is_documented(call.action, code)
                {
                    return Err(format!(
                        "{} {} → undocumented {code}",
                        call.action, call.request
                    ));
                }
            }
            Ok(())
        })
    });
    report(
        "every_request_is_accepted_or_refused_with_a_documented_error",
        started,
        n,
        "",
    );
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// What `refreshsim check` does with a run's own files: reads `timeline.csv` and `timeline.jsonl`
/// back, checks them (against the final Describe, as `check --describe` does, for a finished run;
/// on the prefix for a bounded one) and reaches the in-run check's verdict; both read back to
/// the same rows.
fn check_reads_back(run: &SpecRun) -> Result<(), String> {
    let timeline = run.timeline();
    let meta = refreshsim::timeline::RunMeta {
        version: "test".into(),
        seed: 1,
        scenario_name: "generated".into(),
        scenario_sha256: String::new(),
    };
    let mut csv = Vec::new();
    timeline
        .write_csv(&meta, &mut csv)
        .map_err(|e| e.to_string())?;
    let mut jsonl = Vec::new();
    timeline
        .write_jsonl(&meta, &mut jsonl)
        .map_err(|e| e.to_string())?;
    let read = [
        ("timeline.csv", read_csv(csv.as_slice())),
        ("timeline.jsonl", read_jsonl(jsonl.as_slice())),
    ];
    for (file, back) in read {
        let back = back.map_err(|e| format!("check cannot read its own {file}: {e}"))?;
        if back.timeline.content_hash() != timeline.content_hash() {
            return Err(format!("{file} reads back to other rows"));
        }
        let verdict = match run {
            SpecRun::Finished(r) => check_timeline_and_describe(&back.timeline, Some(&r.describe)),
            SpecRun::Bounded(_) => check_prefix(&back.timeline),
        };
        if verdict != run.violations() {
            return Err(format!(
                "check on {file} finds {verdict:?}, the run found {:?}",
                run.violations()
            ));
        }
    }
    Ok(())
}

#[test]
fn check_reads_every_generated_timeline_back_to_the_same_verdict() {
    let n = cases(24);
    let started = Instant::now();
    let mut runner = TestRunner::new(config(n));
    let result = runner.run(&arb_scenario_with_requests(), |spec| {
        check_case("check-reads-back", &spec, |spec| {
            check_reads_back(&run_spec(spec)?)
        })
    });
    report(
        "check_reads_every_generated_timeline_back_to_the_same_verdict",
        started,
        n,
        "",
    );
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// A counterexample file, as `check_case` writes it, replays exactly through the real binary:
/// `refreshsim run FILE --out DIR` writes the timeline the in-process run produced, byte for byte.
#[test]
fn a_counterexample_file_replays_exactly_with_refreshsim_run() {
    let mut runner = TestRunner::deterministic();
    let strategy = arb_scenario_with_requests();
    let mut compared = 0;
    for k in 0..12 {
        let spec = strategy.new_tree(&mut runner).unwrap().current();
        let property = format!("replay-{k}");
        // Write the file exactly as a failing property does.
        let written = check_case(&property, &spec, |_| Err("deliberate".into()));
        assert!(written.is_err());
        let path = counterexample_path(&property);
        let SpecRun::Finished(run) = run_spec(&spec).unwrap() else {
            continue;
        };
        let out = tempfile::tempdir().unwrap();
        let _ = assert_cmd::Command::cargo_bin("refreshsim")
            .unwrap()
            .arg("run")
            .arg(&path)
            .arg("--out")
            .arg(out.path())
            .arg("--quiet")
            .assert();
        let timeline = run.timeline.as_ref().unwrap();
        let mut csv = Vec::new();
        timeline.write_csv(&run.meta, &mut csv).unwrap();
        let mut jsonl = Vec::new();
        timeline.write_jsonl(&run.meta, &mut jsonl).unwrap();
        assert!(
            std::fs::read(out.path().join("timeline.csv")).unwrap() == csv,
            "timeline.csv of `refreshsim run {}` differs from the in-process run",
            path.display()
        );
        assert!(
            std::fs::read(out.path().join("timeline.jsonl")).unwrap() == jsonl,
            "timeline.jsonl of `refreshsim run {}` differs from the in-process run",
            path.display()
        );
        compared += 1;
    }
    assert!(compared >= 6, "only {compared} generated runs finished");
}

/// A case that panics (as an engine bug would) is kept as a replayable scenario file, and the
/// failure message says where it is and how to replay it.
#[test]
fn a_panicking_case_leaves_a_replayable_scenario_file() {
    let spec = arb_scenario()
        .new_tree(&mut TestRunner::deterministic())
        .unwrap()
        .current();
    let failure = check_case("panic-demo", &spec, |_| panic!("deliberate panic"))
        .unwrap_err()
        .to_string();
    let path = counterexample_path("panic-demo");
    assert!(failure.contains("panicked: deliberate panic"), "{failure}");
    assert!(
        failure.contains(&format!("replay: refreshsim run {}", path.display())),
        "{failure}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), spec.to_toml());
}

/// proptest finds the committed seeds where `config` points it: every `cc` line of the file is
/// a seed it re-runs before generating new cases.
#[test]
fn the_committed_regression_seeds_are_loaded() {
    let text = std::fs::read_to_string(REGRESSIONS).unwrap();
    let lines = text.lines().filter(|l| l.starts_with("cc ")).count();
    assert!(lines > 0, "{REGRESSIONS} has no seeds");
    let persistence = config(1).failure_persistence.unwrap();
    let loaded = persistence.load_persisted_failures2(Some(file!()));
    assert_eq!(loaded.len(), lines, "proptest loaded {loaded:?}");
}

/// The README's example property is `tests/suite/readme_property.rs`, verbatim.
#[test]
fn the_readme_example_property_is_tests_suite_readme_property_rs() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let file = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/suite/readme_property.rs"
    ))
    .unwrap();
    let marker = "Use the strategies for your own properties";
    let after = &readme[readme.find(marker).expect("the README section")..];
    let start = after.find("```rust\n").expect("a rust block") + "```rust\n".len();
    let block = &after[start..];
    let block = &block[..block.find("```").expect("the block's end")];
    assert_eq!(
        block, file,
        "the README example differs from tests/suite/readme_property.rs"
    );
}

#[test]
fn the_catalogue_is_what_the_properties_check() {
    // The property above judges every generated run by `run.violations()`, which evaluates
    // `timeline_invariants()`: that must be the whole catalogue but the one invariant about
    // Describe histories (checked by `check` on polls), every invariant must be documented in
    // INVARIANTS.md, and every one must be shown to catch a broken timeline or history in
    // tests/suite/checker.rs, so that "no violation" means something for each.
    let in_runs: Vec<Invariant> = refreshsim::check::timeline_invariants().collect();
    let not_in_runs: Vec<Invariant> = Invariant::ALL
        .iter()
        .copied()
        .filter(|i| !in_runs.contains(i))
        .collect();
    assert_eq!(not_in_runs, [Invariant::SnapshotConsistent]);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let documented = std::fs::read_to_string(root.join("INVARIANTS.md")).unwrap();
    let checker = std::fs::read_to_string(root.join("tests/suite/checker.rs")).unwrap();
    for invariant in Invariant::ALL {
        assert!(
            documented.contains(invariant.id()),
            "{} is not documented in INVARIANTS.md",
            invariant.id()
        );
        let variant = format!("Invariant::{invariant:?}");
        let shown = checker.match_indices(&variant).any(|(at, _)| {
            !checker[at + variant.len()..].starts_with(|c: char| c.is_alphanumeric())
        });
        assert!(
            shown,
            "{} ({variant}) has no test in tests/suite/checker.rs that shows it catching a violation",
            invariant.id()
        );
    }
}
