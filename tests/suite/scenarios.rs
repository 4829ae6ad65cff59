//! Every bundled scenario runs with its `expect` block, and its timeline hash is pinned (D10).
//!
//! After an intended behaviour change, re-pin with:
//!     REFRESHSIM_BLESS=1 cargo test --test suite scenarios::
//! and review the diff of `tests/golden/scenario-hashes.txt` like any other change.

use refreshsim::run::run_scenario;
use refreshsim::scenario::load_scenario;
use std::collections::BTreeMap;
use std::path::Path;

use crate::common::bundled_scenarios;

const GOLDEN: &str = "tests/golden/scenario-hashes.txt";

fn read_golden() -> BTreeMap<String, String> {
    std::fs::read_to_string(GOLDEN)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (name, hash) = l.split_once(' ').expect("`name hash` lines");
            (name.to_string(), hash.trim().to_string())
        })
        .collect()
}

fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn every_bundled_scenario_meets_its_expectations_and_golden_hash() {
    let bless = std::env::var("REFRESHSIM_BLESS").is_ok_and(|v| v == "1");
    let golden = read_golden();
    let mut actual = BTreeMap::new();
    let mut failures = Vec::new();
    let files = bundled_scenarios();
    assert!(files.len() >= 10, "the bundled scenario set shrank");
    for path in &files {
        let name = file_name(path);
        let scenario = load_scenario(path).unwrap_or_else(|e| panic!("{e}"));
        let text = std::fs::read_to_string(path).unwrap();
        // TOML scenarios open with a comment; JSON ones (no comments) carry a description.
        let documented = if name.ends_with(".json") {
            scenario.description.len() > 40
        } else {
            text.starts_with('#')
        };
        if !documented {
            failures.push(format!("{name}: must be documented at its top"));
        }
        if scenario.expect.is_empty() {
            failures.push(format!("{name}: has no expect block"));
        }
        let run =
            run_scenario(&scenario, scenario.seed, true).unwrap_or_else(|e| panic!("{name}: {e}"));
        for v in run.expectations.iter().filter(|v| !v.passed) {
            failures.push(format!(
                "{name}: expectation failed: {} — {}",
                v.name, v.detail
            ));
        }
        // D10 / issue 2: a bundled scenario's run breaks no invariant (INVARIANTS.md).
        assert!(run.timeline.is_some(), "{name}: the timeline was kept");
        for v in &run.violations {
            failures.push(format!("{name}: invariant violated: {v:?}"));
        }
        let hash = run.timeline.as_ref().unwrap().content_hash();
        match golden.get(&name) {
            _ if bless => {}
            None => failures.push(format!(
                "{name}: no golden hash pinned (run with REFRESHSIM_BLESS=1)"
            )),
            Some(pinned) if *pinned != hash => failures.push(format!(
                "{name}: timeline hash {hash} differs from pinned {pinned}"
            )),
            Some(_) => {}
        }
        actual.insert(name, hash);
    }
    if bless {
        let mut text = String::from(
            "# Golden timeline hashes of the bundled scenarios (tests/suite/scenarios.rs).\n",
        );
        for (name, hash) in &actual {
            text.push_str(&format!("{name} {hash}\n"));
        }
        std::fs::write(GOLDEN, text).unwrap();
    }
    for stale in golden.keys().filter(|k| !actual.contains_key(*k)) {
        failures.push(format!("{stale}: pinned but no longer bundled"));
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn d10_same_seed_twice_gives_identical_bytes() {
    for path in bundled_scenarios() {
        let scenario = load_scenario(&path).unwrap();
        let a = run_scenario(&scenario, scenario.seed, true).unwrap();
        let b = run_scenario(&scenario, scenario.seed, true).unwrap();
        let files_a = refreshsim::report::files::run_files(&scenario, &a).unwrap();
        let files_b = refreshsim::report::files::run_files(&scenario, &b).unwrap();
        assert_eq!(files_a, files_b, "{}", path.display());
    }
}

#[test]
fn d10_a_different_seed_changes_a_probabilistic_run() {
    let scenario = load_scenario(Path::new("scenarios/large-2000-probabilistic.toml")).unwrap();
    let a = run_scenario(&scenario, 1, true).unwrap();
    let b = run_scenario(&scenario, 2, true).unwrap();
    assert_ne!(
        a.timeline.unwrap().content_hash(),
        b.timeline.unwrap().content_hash()
    );
}
