//! `refreshsim advise` (issue 13) as a library: exact cases against an independently derived
//! optimum, the smart search against the brute-force full grid, determinism across threads,
//! infeasible requests, replaying the recommendation, and bad input refused before any run.

use crate::common::parse;
use refreshsim::advise::constraint::Kind;
use refreshsim::advise::render::{ADVICE_JSON, advice_json, files};
use refreshsim::advise::{Advice, AdviseError, Request, Strategy, advise, plan};
use refreshsim::run::{run_scenario, with_overrides};
use refreshsim::scenario::Scenario;
use refreshsim::scenario::overrides::Override;
use serde_json::Value;

/// A group of `size` instances, constant `reinstall`, no gaps, no faults unless `extra` adds
/// them; the Start is retried 5 minutes after a failure pause.
fn group(size: u32, timing: &str, extra: &str) -> Scenario {
    parse(&format!(
        r#"
[scenario]
name = "advise-test"
seed = 5
limits = {{ max_instances = 4000 }}

[group]
id = "asg-adv00001"
size = {size}
image_id = "img-old"

[launch_configuration]
image_id = "img-new"

[timing]
{timing}

{extra}

[[actions]]
id = "start"
at = "0s"
action = "StartInstanceRefresh"
request = {{ RefreshSettings = {{ RollingUpdateSettings = {{ BatchNumber = 1 }} }} }}

[[actions]]
id = "retry"
when = {{ activity_status = "FAILED_PAUSE" }}
after = "5m"
repeat = true
action = "ResumeInstanceRefresh"
request = {{ ResumeMode = "RETRY" }}
"#
    ))
}

fn request(min: &str) -> Request {
    let mut r = Request::new("inline.toml", min);
    r.jobs = 2;
    r
}

fn go(base: &Scenario, r: &Request) -> Advice {
    let p = plan(base, r).unwrap_or_else(|e| panic!("{e}"));
    advise(base, p).unwrap_or_else(|e| panic!("{e}"))
}

fn recommended_label(a: &Advice) -> String {
    let r = a.recommended.as_ref().expect("a recommendation");
    a.plan.space.settings[r.stats.id as usize].label()
}

#[test]
fn oq88_exact_case_is_the_analytic_optimum() {
    // 100 instances, 100 s reinstalls, no gaps, floor ≥ 90 %, no surge allowed.
    let base = group(100, "reinstall = \"100s\"", "");
    let mut r = request("90%");
    r.max_surge_cost = Some("0".into());
    let a = go(&base, &r);
    assert!(a.plan.exact && a.feasible);
    // Derived independently: b batches of ⌈100/b⌉ run one after another, 100 s each, and
    // ⌈100/b⌉ instances are out of service at once (OQ-1, OQ-10).
    let best = (1..=100u32)
        .filter(|b| 100 - 100u32.div_ceil(*b) >= 90)
        .min_by_key(|b| b * 100)
        .unwrap();
    assert_eq!(best, 10);
    assert_eq!(recommended_label(&a), "BatchNumber=10, MaxSurge=0");
    let s = &a.recommended.as_ref().unwrap().stats;
    assert_eq!(s.duration_p90_ms, Some(1_000_000));
    assert_eq!(s.floor_p1, Some(90));
    assert_eq!(s.runs, 1);
    assert_eq!(a.binding, Some(Kind::MinInService));
    // One run per setting at most, and far fewer than the settings.
    let used = a.counts.runs + a.counts.runs_cut;
    assert!(used < a.plan.space.settings.len() as u64 / 4, "{used}");
}

#[test]
fn oq85_the_binding_constraint_is_the_one_that_keeps_out_a_faster_setting() {
    // Surge allowed but capped: one batch with 90 surge instances would be fastest, and only
    // the cap keeps it out.
    let base = group(100, "reinstall = \"100s\"", "");
    let mut r = request("90%");
    r.max_surge_cost = Some("4".into());
    let a = go(&base, &r);
    assert!(a.feasible);
    assert_ne!(recommended_label(&a), "BatchNumber=1, MaxSurge=90");
    assert_eq!(
        a.binding,
        Some(Kind::MaxSurgeCost),
        "{}",
        recommended_label(&a)
    );
    r.max_surge_cost = None;
    let free = go(&base, &r);
    assert_eq!(recommended_label(&free), "BatchNumber=1, MaxSurge=90");
}

#[test]
fn oq86_exact_pruning_equals_the_brute_force_full_grid() {
    // Surge allowed: the optimum trades batches against surge instances.
    let base = group(
        24,
        "reinstall = \"60s\"\ninstance_create = \"45s\"\ninstance_destroy = \"20s\"",
        "",
    );
    for (min, deadline, cost) in [
        ("80%", None, None),
        ("20", Some("6m"), None),
        ("22", None, Some("0.5")),
        ("100%", None, Some("2")),
    ] {
        let mut r = request(min);
        r.deadline = deadline.map(str::to_string);
        r.max_surge_cost = cost.map(str::to_string);
        let smart = go(&base, &r);
        r.strategy = Strategy::FullGrid;
        let full = go(&base, &r);
        assert_eq!(smart.feasible, full.feasible, "{min}");
        let id = |a: &Advice| a.recommended.as_ref().map(|x| x.stats.id);
        assert_eq!(id(&smart), id(&full), "{min} {deadline:?} {cost:?}");
        if let (Some(a), Some(b)) = (&smart.recommended, &full.recommended) {
            assert_eq!(a.stats, b.stats);
        }
        let used = smart.counts.runs + smart.counts.runs_cut;
        assert!(
            used < full.full_grid_runs,
            "{min}: {used} vs {}",
            full.full_grid_runs
        );
        // The smart Pareto set is a subset of the full grid's.
        let front: Vec<u32> = full.pareto.iter().map(|r| r.stats.id).collect();
        for p in &smart.pareto {
            assert!(front.contains(&p.stats.id), "{min}: {}", p.stats.id);
        }
    }
}

fn stochastic() -> Scenario {
    group(
        12,
        "reinstall = { lognormal = { median = \"90s\", p95 = \"130s\" } }\ninstance_create = { uniform = { min = \"60s\", max = \"90s\" } }",
        "[faults]\nreinstall_failure_rate = 0.01",
    )
}

#[test]
fn oq87_racing_agrees_with_the_full_grid_at_the_same_runs() {
    let base = stochastic();
    let mut r = request("75%");
    r.runs = 60;
    r.deadline = Some("20m".into());
    let smart = go(&base, &r);
    assert!(!smart.plan.exact);
    r.strategy = Strategy::FullGrid;
    let full = go(&base, &r);
    assert!(smart.feasible && full.feasible);
    let (a, b) = (
        smart.recommended.as_ref().unwrap(),
        full.recommended.as_ref().unwrap(),
    );
    // CRN: the same setting has the same runs in both, so the numbers agree exactly.
    assert_eq!(recommended_label(&smart), recommended_label(&full));
    assert_eq!(a.stats, b.stats);
    assert_eq!(a.start_request, b.start_request);
    let used = smart.counts.runs + smart.counts.runs_cut;
    assert!(
        used * 3 < full.full_grid_runs,
        "smart {used} runs vs full grid {}",
        full.full_grid_runs
    );
    assert_eq!(full.full_grid_runs, full.counts.runs);
}

#[test]
fn advice_is_byte_identical_whatever_jobs_is() {
    let base = stochastic();
    let mut r = request("75%");
    r.runs = 60;
    r.jobs = 1;
    let one = files(&go(&base, &r));
    r.jobs = 2;
    let two = files(&go(&base, &r));
    assert_eq!(one, two);
    let json: Value = serde_json::from_slice(&one[0].1).unwrap();
    assert_eq!(one[0].0, ADVICE_JSON);
    assert_eq!(json["feasible"], true);
    for key in [
        "RollingUpdateSettings",
        "start_request",
        "duration_s",
        "min_in_service",
        "surge_instance_hours",
        "runs",
        "replay",
    ] {
        assert!(!json["recommended"][key].is_null(), "{key}");
    }
    assert!(json["recommended"]["duration_s"]["p99"].is_number());
    assert!(json["recommended"]["min_in_service"]["p1"].is_number());
    assert!(json["pareto"].as_array().is_some_and(|p| !p.is_empty()));
    assert!(one[1].1.starts_with(b"<svg"));
}

#[test]
fn infeasible_requests_name_the_constraint_that_cannot_be_met() {
    let base = group(20, "reinstall = \"60s\"", "");
    // Full capacity without any surge: impossible.
    let mut r = request("100%");
    r.max_surge_cost = Some("0".into());
    let a = go(&base, &r);
    assert!(!a.feasible && a.recommended.is_none());
    assert_eq!(a.binding, Some(Kind::MinInService));
    assert!(a.closest.is_some());
    let json = advice_json(&a);
    assert_eq!(json["binding_constraint"], "min_in_service");
    assert_eq!(json["feasible"], false);
    // A deadline shorter than one reinstall.
    let mut r = request("50%");
    r.deadline = Some("30s".into());
    let a = go(&base, &r);
    assert!(!a.feasible);
    assert_eq!(a.binding, Some(Kind::Deadline));
    let text = refreshsim::advise::render::text(&a);
    assert!(text.contains("cannot meet deadline"), "{text}");
}

/// Runs the replay command's `--set`s and `--seed` on the scenario, as `refreshsim run` does.
fn replay(base: &Scenario, command: &str) -> refreshsim::run::RunResult {
    let words: Vec<&str> = command.split_whitespace().collect();
    let mut overrides = Vec::new();
    let mut seed = None;
    for pair in words.windows(2) {
        match pair[0] {
            "--set" => overrides.push(Override::parse(pair[1].trim_matches('\'')).unwrap()),
            "--seed" => seed = Some(pair[1].parse::<u64>().unwrap()),
            _ => {}
        }
    }
    let scenario = with_overrides(base, &overrides).unwrap();
    run_scenario(&scenario, seed.expect("a seed"), true).unwrap()
}

#[test]
fn the_recommended_request_replayed_meets_the_constraints() {
    for (base, min, deadline) in [
        (stochastic(), "75%", "20m"),
        (
            group(30, "reinstall = \"60s\"\ninstance_create = \"30s\"", ""),
            "28",
            "10m",
        ),
    ] {
        let mut r = request(min);
        r.runs = 60;
        r.deadline = Some(deadline.into());
        let a = go(&base, &r);
        let rec = a.recommended.as_ref().expect("feasible");
        assert!(rec.replay.starts_with("refreshsim run inline.toml --seed "));
        let run = replay(&base, &rec.replay);
        let act = &run.world.activities[0];
        // The request body is exactly what the replayed Start ran with.
        let sent = serde_json::to_value(act.settings.to_output()).unwrap();
        assert_eq!(rec.start_request["RefreshSettings"], sent);
        assert_eq!(rec.start_request["AutoScalingGroupId"], "asg-adv00001");
        assert_eq!(rec.rolling_update_settings, sent["RollingUpdateSettings"]);
        let required = a
            .plan
            .constraints
            .min_in_service
            .required(run.metrics.in_service_before.unwrap());
        assert!(run.metrics.min_in_service.unwrap() >= required);
        let created = run.metrics.first_refresh_created_ms.unwrap();
        let ended = run.metrics.last_refresh_ended_ms.unwrap();
        assert!(ended - created <= a.plan.constraints.deadline_ms.unwrap());
        assert_eq!(act.status.as_str(), "SUCCESSFUL");
    }
}

#[test]
fn bad_input_is_a_typed_error_before_anything_runs() {
    let base = group(10, "reinstall = \"60s\"", "");
    let cases: Vec<(Request, &str)> = vec![
        (request("ninety"), "--min-in-service"),
        (request("11"), "only 10 instances in service"),
        (request("120%"), "between 0% and 100%"),
        (
            Request {
                deadline: Some("soon".into()),
                ..request("50%")
            },
            "--deadline",
        ),
        (
            Request {
                max_surge_cost: Some("-2".into()),
                ..request("50%")
            },
            "--max-surge-cost",
        ),
        (
            Request {
                allow: vec!["BatchNumbr=1,2".into()],
                ..request("50%")
            },
            "unknown setting",
        ),
        (
            Request {
                allow: vec!["timing.reinstall=\"30s\"".into()],
                ..request("50%")
            },
            "not a refresh setting",
        ),
        (
            Request {
                confidence: 1.5,
                ..request("50%")
            },
            "--confidence",
        ),
        (
            Request {
                runs: 10,
                ..request("50%")
            },
            "at least",
        ),
    ];
    for (r, needle) in cases {
        // The constraint checks come before the exactness shortcut: use a random scenario
        // where `runs` matters.
        let base = if needle == "at least" {
            stochastic()
        } else {
            base.clone()
        };
        let err: AdviseError = plan(&base, &r).unwrap_err();
        assert!(err.to_string().contains(needle), "{needle}: {err}");
    }
}

/// The real binary, in `dir`.
fn cli(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    assert_cmd::Command::new(env!("CARGO_BIN_EXE_refreshsim"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

const EXACT_GROUP: &str = r#"
[scenario]
name = "advise-cli"
seed = 3

[group]
id = "asg-adv00002"
size = 100
image_id = "img-old"

[launch_configuration]
image_id = "img-new"

[timing]
reinstall = "100s"

[[actions]]
id = "start"
at = "0s"
action = "StartInstanceRefresh"
request = { RefreshSettings = { RollingUpdateSettings = { BatchNumber = 1 } } }
"#;

#[test]
fn cli_advise_prints_the_answer_writes_the_files_and_its_replay_runs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("g.toml"), EXACT_GROUP).unwrap();
    let out = cli(
        dir.path(),
        &[
            "advise",
            "g.toml",
            "--min-in-service",
            "90%",
            "--max-surge-cost",
            "0",
            "--out",
            "adv",
            "--jobs",
            "2",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("BatchNumber=10, MaxSurge=0"), "{stdout}");
    assert!(
        stdout.contains("binding constraint: min_in_service"),
        "{stdout}"
    );
    let json: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("adv/advice.json")).unwrap())
            .unwrap();
    assert_eq!(
        json["recommended"]["RollingUpdateSettings"]["BatchNumber"],
        10
    );
    assert_eq!(json["recommended"]["duration_s"]["p90"], 1000.0);
    assert!(dir.path().join("adv/advice.svg").is_file());
    // The replay command, run as printed (its words are plain: no quoting to undo).
    let replay = json["recommended"]["replay"].as_str().unwrap().to_string();
    let words: Vec<&str> = replay.split_whitespace().skip(1).collect();
    let ran = cli(dir.path(), &words);
    assert_eq!(ran.status.code(), Some(0), "{replay}");
    let summary = String::from_utf8_lossy(&ran.stdout);
    assert!(summary.contains("SUCCESSFUL"), "{summary}");
}

#[test]
fn cli_advise_exits_1_when_nothing_is_feasible_and_2_on_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("g.toml"), EXACT_GROUP).unwrap();
    let out = cli(
        dir.path(),
        &[
            "advise",
            "g.toml",
            "--min-in-service",
            "100",
            "--max-surge-cost",
            "0",
            "--out",
            "adv",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("cannot meet min_in_service"), "{stdout}");
    let json: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("adv/advice.json")).unwrap())
            .unwrap();
    assert_eq!(json["feasible"], false);
    assert_eq!(json["binding_constraint"], "min_in_service");
    for (args, needle) in [
        (vec!["--min-in-service", "lots"], "--min-in-service"),
        (
            vec!["--min-in-service", "101"],
            "only 100 instances in service",
        ),
        (
            vec!["--min-in-service", "90%", "--allow", "Batchnumber=1,2"],
            "unknown setting",
        ),
        (
            vec!["--min-in-service", "90%", "--deadline", "tomorrow"],
            "--deadline",
        ),
        (
            vec!["--min-in-service", "90%", "--objective", "speed"],
            "--objective",
        ),
    ] {
        let mut all = vec!["advise", "g.toml", "--out", "bad"];
        all.extend(args);
        let out = cli(dir.path(), &all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{needle}: {stderr}");
        assert!(stderr.contains(needle), "{needle}: {stderr}");
        assert!(
            !dir.path().join("bad").exists(),
            "{needle}: nothing is written"
        );
    }
}
