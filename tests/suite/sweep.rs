//! `refreshsim sweep` and `refreshsim merge` (issue 5): grid parsing and its errors, common
//! random numbers, identical bytes whatever `--jobs`, shards merged into exactly the unsharded
//! files, resumption after an interruption, and replay of any row with `refreshsim run`.

use crate::common::TemplateEdit;
use refreshsim::run::run_scenario;
use refreshsim::scenario::load_scenario;
use refreshsim::sweep::exec::{GridArgs, setup};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const SMALL: &str = "tests/fixtures/sweep/small.toml";

struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

fn refreshsim(args: &[&str]) -> Ran {
    let output = assert_cmd::Command::new(env!("CARGO_BIN_EXE_refreshsim"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("the binary starts");
    let ran = Ran {
        code: output.status.code().expect("exited, not killed"),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    };
    assert!(!ran.stderr.contains("panicked"), "{}", ran.stderr);
    ran
}

fn sweep(out: &Path, extra: &[&str]) -> Ran {
    let out = out.to_str().unwrap();
    let mut args = vec!["sweep", SMALL, "--out", out, "--quiet"];
    args.extend_from_slice(extra);
    refreshsim(&args)
}

/// Every file under `dir` (relative path → bytes).
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn assert_same_tree(a: &Path, b: &Path) {
    let (ta, tb) = (tree(a), tree(b));
    assert_eq!(
        ta.keys().collect::<Vec<_>>(),
        tb.keys().collect::<Vec<_>>(),
        "same files"
    );
    for (name, bytes) in &ta {
        assert!(bytes == &tb[name], "{name} differs between {a:?} and {b:?}");
    }
}

fn runs_csv(dir: &Path) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(dir.join("runs.csv")).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    reader
        .records()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(String::from))
                .collect()
        })
        .collect()
}

fn temp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

// ---------------------------------------------------------------------------------------------
// The grid

#[test]
fn the_sweep_section_gives_the_grid_runs_seed_and_baseline() {
    let dir = temp();
    let ran = refreshsim(&["sweep", SMALL, "--out", dir.path().to_str().unwrap()]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    // 2 BatchNumbers × 3 MaxSurges, 40 runs each; the baseline named by settings is variant 3.
    assert!(
        ran.stdout.contains("6 variants × 40 runs (seed 11"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains("baseline = variant 3"),
        "{}",
        ran.stdout
    );
    // Not a terminal: plain progress lines on stderr, the last one at 100 %.
    assert!(
        ran.stderr.contains("sweep: 240/240 runs (100%)"),
        "{}",
        ran.stderr
    );
    let rows = runs_csv(dir.path());
    assert_eq!(rows.len(), 240);
    let surges: Vec<&str> = rows[..3 * 40]
        .iter()
        .step_by(40)
        .map(|r| r["max_surge"].as_str())
        .collect();
    // BatchNumber 3 over 60 instances: batches of 20; MaxSurge 0, batch/2 = 10, batch = 20.
    assert_eq!(surges, ["0", "10", "20"]);
    let summary: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["variants"].as_array().unwrap().len(), 6);
    assert_eq!(summary["baseline"], 3);
    assert!(summary["variants"][3]["metrics"]["duration_s"]["vs_baseline"].is_null());
    assert!(summary["variants"][0]["metrics"]["duration_s"]["vs_baseline"]["ci95"].is_array());
    for name in ["summary.csv", "plan.json", "tradeoff.svg"] {
        assert!(dir.path().join(name).exists(), "{name}");
    }
}

#[test]
fn vary_on_the_command_line_replaces_the_file_grid_and_takes_ranges() {
    let dir = temp();
    let ran = sweep(
        dir.path(),
        &[
            "--vary",
            "faults.reinstall_failure_rate=0.0..=0.1:0.05",
            "--runs",
            "5",
        ],
    );
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let rows = runs_csv(dir.path());
    let rates: Vec<&str> = rows
        .iter()
        .step_by(5)
        .map(|r| r["faults.reinstall_failure_rate"].as_str())
        .collect();
    assert_eq!(rates, ["0.00", "0.05", "0.10"]);
    // No failures at rate 0: every run of variant 0 succeeds without a pause.
    assert!(rows[..5].iter().all(|r| r["operator_free"] == "true"));
}

#[test]
fn oq57_bad_grids_are_refused_before_anything_runs() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--vary", "RollingUpdateSettings.BatchNumbr=5,10"],
            "unknown setting",
        ),
        (
            &["--vary", "BatchNumber=five"],
            "must be a non-negative integer",
        ),
        (&["--vary", "FailProcess=AUTO_PAUSE,AUTO_STOP"], "AUTO_STOP"),
        (&["--vary", "group.sise=5"], "unknown field `sise`"),
        (&["--vary", "group.size=ten"], "invalid type"),
        (&["--vary", "BatchNumber=2..20"], "2..=20"),
        (&["--vary", "BatchNumber=5,5"], "twice"),
        (&["--vary", "BatchNumber=100"], "BatchNumberTooLarge"),
        (&["--vary", "MaxSurge=50"], "MaxSurgeTooLarge"),
        (&["--vary", "MaxSurge=batch/0"], "batch/K"),
        (&["--vary", "BatchNumber"], "KEY=V1"),
        (&["--runs", "0"], "--runs"),
        (&["--floor", "1.5"], "--floor"),
        (&["--baseline", "99"], "no variant 99"),
        (&["--shard", "3/2"], "--shard"),
        (&["--jobs", "0"], "--jobs"),
    ];
    for (extra, expected) in cases {
        let dir = temp();
        let out = dir.path().join("out");
        let ran = sweep(&out, extra);
        assert_eq!(ran.code, 2, "{extra:?}: {}", ran.stderr);
        assert!(
            ran.stderr.contains(expected),
            "{extra:?}: expected {expected:?} in {}",
            ran.stderr
        );
        assert_eq!(ran.stderr.lines().count(), 1, "{extra:?}: one message");
        assert!(!out.exists(), "{extra:?}: nothing written");
    }
}

#[test]
fn errors_in_the_sweep_section_point_at_the_line() {
    let dir = temp();
    let text = std::fs::read_to_string(SMALL).unwrap().replace_once(
        "values = [0, \"batch/2\", \"batch\"]",
        "values = [0, \"half\"]",
    );
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, &text).unwrap();
    let line = text.lines().position(|l| l.contains("\"half\"")).unwrap() + 1;
    let ran = refreshsim(&[
        "sweep",
        path.to_str().unwrap(),
        "--out",
        dir.path().join("out").to_str().unwrap(),
    ]);
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr.contains(&format!("bad.toml:{line}:")),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("sweep.vary[1]"), "{}", ran.stderr);
    // Unknown fields of the section are refused like any other.
    let text = std::fs::read_to_string(SMALL)
        .unwrap()
        .replace_once("runs = 40", "runs = 40\nrepeats = 3");
    std::fs::write(&path, text).unwrap();
    let ran = refreshsim(&["validate", path.to_str().unwrap()]);
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr.contains("unknown field `repeats`"),
        "{}",
        ran.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// Common random numbers

/// Run i of every variant uses the same seed, so each instance draws the same reinstall time and
/// the same failure whatever BatchNumber or MaxSurge is (D7): differences are the settings'.
#[test]
fn crn_same_run_index_gives_every_variant_the_same_per_instance_draws() {
    let base = load_scenario(Path::new(SMALL)).unwrap();
    let setup = setup(SMALL, &base, &GridArgs::default()).unwrap();
    assert_eq!(setup.scenarios.len(), 6);
    for run in 0..5 {
        let seed = setup.plan.run_seed(run);
        let draws: Vec<Vec<_>> = setup
            .scenarios
            .iter()
            .map(|scenario| {
                let result = run_scenario(scenario, seed, false).unwrap();
                let act = &result.world.activities[0];
                let mut by_instance: Vec<_> = act
                    .items
                    .iter()
                    .map(|item| {
                        assert_eq!(item.attempt, 1, "CONTINUE never retries");
                        (item.instance, item.draws)
                    })
                    .collect();
                by_instance.sort_by_key(|(instance, _)| *instance);
                by_instance
            })
            .collect();
        assert_eq!(draws[0].len(), 60);
        for (v, d) in draws.iter().enumerate().skip(1) {
            assert_eq!(d, &draws[0], "run {run}: variant {v} drew differently");
        }
    }
}

/// A setting with no effect (the health-check timeout with no health check) gives identical
/// paired runs: the difference from the baseline is exactly zero, interval included.
#[test]
fn crn_a_setting_without_effect_has_a_zero_paired_difference() {
    let dir = temp();
    let ran = sweep(
        dir.path(),
        &[
            "--vary",
            "CheckInstanceTargetHealthTimeout=600,1200",
            "--runs",
            "20",
        ],
    );
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let summary: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("summary.json")).unwrap()).unwrap();
    let diff = &summary["variants"][1]["metrics"]["duration_s"]["vs_baseline"];
    assert_eq!(diff["n"], 20);
    assert_eq!(diff["mean"], 0.0);
    assert_eq!(diff["ci95"], serde_json::json!([0.0, 0.0]));
    // And the rows agree run by run.
    let rows = runs_csv(dir.path());
    for run in 0..20 {
        let (a, b) = (&rows[run], &rows[20 + run]);
        assert_eq!(a["seed"], b["seed"]);
        assert_eq!(a["duration_s"], b["duration_s"]);
    }
}

// ---------------------------------------------------------------------------------------------
// Determinism, shards, resumption

#[test]
fn results_are_byte_identical_whatever_jobs_is() {
    let one = temp();
    let two = temp();
    let three = temp();
    assert_eq!(sweep(one.path(), &["--jobs", "1"]).code, 0);
    assert_eq!(sweep(two.path(), &["--jobs", "2"]).code, 0);
    assert_eq!(sweep(three.path(), &["--jobs", "3"]).code, 0);
    assert_same_tree(one.path(), two.path());
    assert_same_tree(one.path(), three.path());
}

#[test]
fn shards_merged_equal_the_unsharded_sweep_byte_for_byte() {
    let whole = temp();
    assert_eq!(sweep(whole.path(), &[]).code, 0);
    let shards = temp();
    let dirs: Vec<PathBuf> = (1..=3)
        .map(|k| shards.path().join(format!("s{k}")))
        .collect();
    for (k, dir) in dirs.iter().enumerate() {
        let ran = sweep(dir, &["--shard", &format!("{}/3", k + 1)]);
        assert_eq!(ran.code, 0, "{}", ran.stderr);
        assert!(
            !dir.join("runs.csv").exists(),
            "a shard alone is not the sweep"
        );
    }
    let merged = shards.path().join("merged");
    let mut args = vec!["merge"];
    let names: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    args.extend(names.iter().map(String::as_str));
    let merged_name = merged.display().to_string();
    args.extend(["--out", &merged_name, "--quiet"]);
    let ran = refreshsim(&args);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(
        merged.join("report.html").exists(),
        "merge writes the sweep's report.html (compared byte for byte below)"
    );
    assert_same_tree(whole.path(), &merged);
}

#[test]
fn merge_refuses_missing_shards_and_different_sweeps() {
    let root = temp();
    let s1 = root.path().join("s1");
    assert_eq!(sweep(&s1, &["--shard", "1/2"]).code, 0);
    let out = root.path().join("out");
    let ran = refreshsim(&[
        "merge",
        s1.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(ran.code, 2);
    assert!(ran.stderr.contains("chunks are missing"), "{}", ran.stderr);
    assert!(!out.join("runs.csv").exists());
    let other = root.path().join("other");
    assert_eq!(sweep(&other, &["--shard", "2/2", "--seed", "12"]).code, 0);
    let ran = refreshsim(&[
        "merge",
        s1.to_str().unwrap(),
        other.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(ran.code, 2);
    assert!(ran.stderr.contains("different sweeps"), "{}", ran.stderr);
}

#[test]
fn an_interrupted_sweep_keeps_whole_chunks_and_resumes_to_the_same_bytes() {
    let whole = temp();
    assert_eq!(sweep(whole.path(), &[]).code, 0);
    let dir = temp();
    let ran = sweep(dir.path(), &["--jobs", "1", "--stop-after-chunks", "3"]);
    assert_eq!(ran.code, 130, "{}", ran.stderr);
    assert!(ran.stderr.contains("--resume"), "{}", ran.stderr);
    let chunks = std::fs::read_dir(dir.path().join("chunks"))
        .unwrap()
        .count();
    assert_eq!(chunks, 3, "exactly the finished chunks, no temporaries");
    assert!(!dir.path().join("runs.csv").exists());
    // A damaged chunk (a kill during a power cut) is detected and run again.
    let damaged = dir.path().join("chunks/v00000-r0000001.csv");
    let text = std::fs::read_to_string(&damaged).unwrap();
    std::fs::write(&damaged, &text[..text.len() / 2]).unwrap();
    let ran = sweep(dir.path(), &["--resume"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_same_tree(whole.path(), dir.path());
}

/// An interrupted final write leaves `.NAME.PID.tmp` files; the next sweep (fresh or
/// `--resume`) into the same directory removes those of files a sweep writes, and nothing else.
#[test]
fn stale_temporaries_are_removed_from_the_directory_and_its_chunks() {
    let dir = temp();
    let plant = || {
        std::fs::create_dir_all(dir.path().join("chunks")).unwrap();
        for name in [
            ".runs.csv.4242.tmp",
            ".summary.json.17.tmp",
            ".plan.json.3.tmp",
            ".tradeoff.svg.99.tmp",
            ".duration-by-batchnumber.svg.5.tmp",
            "chunks/.v00000-r0000000.csv.8.tmp",
            ".notes.txt.1.tmp",
            "keep.txt",
        ] {
            std::fs::write(dir.path().join(name), b"stale").unwrap();
        }
    };
    let left = || -> Vec<String> {
        tree(dir.path())
            .into_keys()
            .filter(|n| n.contains(".tmp") || n == "keep.txt")
            .collect()
    };
    plant();
    assert_eq!(sweep(dir.path(), &["--runs", "2"]).code, 0);
    assert_eq!(left(), [".notes.txt.1.tmp", "keep.txt"]);
    plant();
    assert_eq!(sweep(dir.path(), &["--runs", "2", "--resume"]).code, 0);
    assert_eq!(left(), [".notes.txt.1.tmp", "keep.txt"]);
    // merge into a directory with stale temporaries
    let merged = temp();
    std::fs::write(merged.path().join(".summary.csv.12.tmp"), b"stale").unwrap();
    let ran = refreshsim(&[
        "merge",
        dir.path().to_str().unwrap(),
        "--out",
        merged.path().to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(!merged.path().join(".summary.csv.12.tmp").exists());
}

#[test]
fn resume_refuses_a_directory_of_another_sweep() {
    let dir = temp();
    assert_eq!(
        sweep(dir.path(), &["--stop-after-chunks", "1", "--jobs", "1"]).code,
        130
    );
    let ran = sweep(dir.path(), &["--resume", "--runs", "7"]);
    assert_eq!(ran.code, 2);
    assert!(ran.stderr.contains("different sweep"), "{}", ran.stderr);
    // Without --resume the directory is simply reused.
    assert_eq!(sweep(dir.path(), &["--runs", "7"]).code, 0);
    assert_eq!(runs_csv(dir.path()).len(), 6 * 7);
}

/// A real Ctrl-C (SIGINT) stops the sweep between runs, keeps finished chunks, exits 130.
#[cfg(unix)]
#[test]
fn sigint_stops_the_sweep_and_resume_completes_it() {
    let whole = temp();
    assert_eq!(sweep(whole.path(), &["--runs", "400"]).code, 0);
    let dir = temp();
    let out = dir.path().to_str().unwrap().to_string();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_refreshsim"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "sweep", SMALL, "--out", &out, "--quiet", "--runs", "400", "--jobs", "1",
        ])
        .spawn()
        .unwrap();
    let chunks = dir.path().join("chunks");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::fs::read_dir(&chunks).map_or(0, |d| d.count()) == 0 {
        assert!(std::time::Instant::now() < deadline, "no chunk appeared");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let _ = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let status = child.wait().unwrap();
    // It may have finished before the signal arrived; either way nothing is half-written.
    assert!(matches!(status.code(), Some(0 | 130)), "{status:?}");
    for entry in std::fs::read_dir(&chunks).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.ends_with(".tmp"), "temporary {name} left behind");
    }
    let ran = sweep(dir.path(), &["--resume", "--runs", "400"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_same_tree(whole.path(), dir.path());
}

/// A sweep over each key family runs, and the varied value reaches the run: timing, a valid
/// group size, CheckInstanceTargetHealth, BatchPause and RefreshMode each change the metrics
/// they must (paired by run index, common random numbers).
#[test]
fn every_key_family_reaches_the_run() {
    // (--vary arguments, check on (row of variant 0, row of variant 1) for the same run)
    type Check = fn(&BTreeMap<String, String>, &BTreeMap<String, String>);
    let cases: Vec<(Vec<&str>, Check)> = vec![
        // A fixed reinstall time: ten times longer, every batch takes ten times longer.
        (vec!["timing.reinstall=60s,600s"], |a, b| {
            let (da, db): (f64, f64) = (
                a["duration_s"].parse().unwrap(),
                b["duration_s"].parse().unwrap(),
            );
            assert!(db > da + 2000.0, "{da} → {db}");
        }),
        (vec!["group.size=30,60"], |a, b| {
            assert_eq!(
                (
                    a["in_service_before"].as_str(),
                    b["in_service_before"].as_str()
                ),
                ("30", "60")
            );
            let total = |r: &BTreeMap<String, String>| -> u32 {
                ["instances_successful", "instances_failed"]
                    .iter()
                    .map(|k| r[*k].parse::<u32>().unwrap())
                    .sum()
            };
            assert_eq!((total(a), total(b)), (30, 60));
        }),
        // Waiting for CLB target health adds its 30 s to every instance's batch.
        (
            vec![
                "CheckInstanceTargetHealth=false,true",
                "group.forward_clb=true",
                "timing.target_health=30s",
            ],
            |a, b| {
                let (da, db): (f64, f64) = (
                    a["duration_s"].parse().unwrap(),
                    b["duration_s"].parse().unwrap(),
                );
                assert!(db > da, "{da} → {db}");
                assert!(b["events"].parse::<u64>().unwrap() > a["events"].parse().unwrap());
            },
        ),
        // Without failures, FIRST_BATCH_PAUSE stops after the first batch and nobody resumes.
        (
            vec![
                "BatchPause=AUTOMATIC,FIRST_BATCH_PAUSE",
                "faults.reinstall_failure_rate=0",
            ],
            |a, b| {
                assert_eq!(a["status"], "SUCCESSFUL");
                assert_eq!(a["pauses"], "0");
                assert_eq!(b["status"], "AUTO_PAUSE");
                assert_eq!(b["pauses"], "1");
                assert_eq!(b["duration_s"], "", "the refresh never ended");
                assert_eq!(b["instances_successful"], "10");
            },
        ),
        // REPLACE creates new instances instead of reinstalling: no reinstall failures, no
        // pauses, capacity never drops.
        (
            vec!["RefreshMode=ROLLING_UPDATE_RESET,ROLLING_UPDATE_REPLACE"],
            |a, b| {
                assert_eq!(b["status"], "SUCCESSFUL");
                assert_eq!(b["pauses"], "0");
                assert_eq!(b["min_in_service_fraction"], "1.0000");
                assert!(a["min_in_service_fraction"].as_str() < "1.0000");
            },
        ),
    ];
    for (vary, check) in cases {
        let dir = temp();
        let mut args = vec!["--runs", "3"];
        for v in &vary {
            args.extend(["--vary", v]);
        }
        let ran = sweep(dir.path(), &args);
        assert_eq!(ran.code, 0, "{vary:?}: {}", ran.stderr);
        let rows = runs_csv(dir.path());
        assert_eq!(rows.len(), 6, "{vary:?}");
        for run in 0..3 {
            let (a, b) = (&rows[run], &rows[3 + run]);
            assert_eq!((a["variant"].as_str(), b["variant"].as_str()), ("0", "1"));
            assert_eq!(a["seed"], b["seed"], "paired");
            check(a, b);
        }
        if vary[0].starts_with("BatchPause") {
            // The summary breaks each variant down by final status.
            let summary: Value =
                serde_json::from_slice(&std::fs::read(dir.path().join("summary.json")).unwrap())
                    .unwrap();
            let st = |v: usize, s: &str| summary["variants"][v]["final_status"][s].clone();
            assert_eq!(st(0, "SUCCESSFUL")["share"], 1.0);
            assert_eq!(st(0, "AUTO_PAUSE")["runs"], 0);
            assert_eq!(st(1, "AUTO_PAUSE")["runs"], 3);
            assert_eq!(st(1, "AUTO_PAUSE")["share"], 1.0);
            let csv = std::fs::read_to_string(dir.path().join("summary.csv")).unwrap();
            assert!(csv.contains(",status:AUTO_PAUSE,3,1.0000,"), "{csv}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Replay

/// Any row replays with the printed command and gives the same numbers with a full timeline:
/// every metric column of `runs.csv`, recomputed from the replay's `summary.json`,
/// `describe.json` and `responses.jsonl`. The sweep's floor is not the scenario's (0.8), so the
/// command must carry `--floor` for `below_floor_s` to replay.
#[test]
fn every_row_replays_with_its_command() {
    let dir = temp();
    assert_eq!(
        sweep(dir.path(), &["--runs", "3", "--floor", "0.9"]).code,
        0
    );
    let rows = runs_csv(dir.path());
    assert!(
        rows.iter()
            .any(|r| r["below_floor_s"] != "0.000" && r["max_surge"] != "0"),
        "some row spends time below 90 % with surge"
    );
    for row in rows.iter().step_by(2) {
        assert!(row["replay"].contains(" --floor 0.9 "), "{}", row["replay"]);
        let words: Vec<String> = row["replay"]
            .split(' ')
            .map(|w| w.trim_matches('\'').to_string())
            .collect();
        assert_eq!(&words[..2], ["refreshsim", "run"]);
        let out = temp();
        let mut args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
        let out_name = out.path().display().to_string();
        args.extend(["--out", &out_name, "--quiet"]);
        let ran = refreshsim(&args);
        assert_eq!(row["limit"], "", "these runs end before the run bounds");
        assert_eq!(ran.code, 0, "{}", ran.stderr);
        let replayed = replayed_metrics(out.path());
        for column in refreshsim::sweep::row::METRIC_COLUMNS {
            let got = replayed
                .get(*column)
                .unwrap_or_else(|| panic!("the replay gives no {column}"));
            let mut want = row[*column].clone();
            if *column == "api_error_codes" {
                let mut codes: Vec<&str> = want.split(';').filter(|c| !c.is_empty()).collect();
                codes.sort();
                want = codes.join(";");
            }
            assert_eq!(
                got, &want,
                "{column} of variant {} run {} ({})",
                row["variant"], row["run"], row["replay"]
            );
        }
    }
    // Without --floor the replay uses the scenario's own threshold: a different below_floor_s.
    let dir = temp();
    assert_eq!(sweep(dir.path(), &["--runs", "1"]).code, 0);
    assert!(
        runs_csv(dir.path())
            .iter()
            .all(|r| !r["replay"].contains("--floor")),
        "the sweep's floor is the scenario's: no --floor needed"
    );
}

/// The `runs.csv` metric columns of a `run --out` directory.
fn replayed_metrics(dir: &Path) -> BTreeMap<String, String> {
    use refreshsim::sweep::row::seconds;
    let read = |name: &str| -> Value {
        serde_json::from_slice(&std::fs::read(dir.join(name)).unwrap()).unwrap()
    };
    let summary = read("summary.json");
    let describe = read("describe.json");
    let u = |v: &Value| v.as_u64().unwrap();
    let opt = |v: &Value| v.as_u64().map(|n| n.to_string()).unwrap_or_default();
    let activities = summary["activities"].as_array().unwrap();
    let first = activities.first();
    let mut m = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        m.insert(k.to_string(), v);
    };
    let status = first.map_or("NONE".to_string(), |a| a["Status"].as_str().unwrap().into());
    put("status", status.clone());
    let start_error = std::fs::read_to_string(dir.join("responses.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|c| c["action"] == "StartInstanceRefresh")
        .find_map(|c| {
            c["response"]["Response"]["Error"]["Code"]
                .as_str()
                .map(String::from)
        })
        .unwrap_or_default();
    put("start_error", start_error);
    put("limit", String::new());
    put("activities", activities.len().to_string());
    let settings = first.map(|a| {
        describe["Response"]["RefreshActivitySet"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["RefreshActivityId"] == a["RefreshActivityId"])
            .unwrap()["RefreshSettings"]["RollingUpdateSettings"]
            .clone()
    });
    put(
        "batch_number",
        settings
            .as_ref()
            .map(|s| opt(&s["BatchNumber"]))
            .unwrap_or_default(),
    );
    put(
        "max_surge",
        settings
            .as_ref()
            .map(|s| opt(&s["MaxSurge"]))
            .unwrap_or_default(),
    );
    let created = first.map(|a| u(&a["created_ms"]));
    let all_ended = activities.iter().all(|a| a["end_ms"].is_u64());
    let last_end = activities.iter().filter_map(|a| a["end_ms"].as_u64()).max();
    put(
        "duration_s",
        match (created, last_end) {
            (Some(c), Some(e)) if all_ended => seconds(e - c),
            _ => String::new(),
        },
    );
    let pauses = &summary["pauses"];
    put(
        "first_pause_s",
        match (created, pauses["first_pause_ms"].as_u64()) {
            (Some(c), Some(p)) => seconds(p - c),
            _ => String::new(),
        },
    );
    put("pauses", u(&pauses["count"]).to_string());
    put("failed_pauses", u(&pauses["failed_pauses"]).to_string());
    put(
        "operator_free",
        (status == "SUCCESSFUL" && u(&pauses["count"]) == 0).to_string(),
    );
    let cap = &summary["capacity"];
    put("in_service_before", opt(&cap["in_service_before"]));
    put("min_in_service", opt(&cap["min_in_service"]));
    put(
        "min_in_service_fraction",
        cap["floor_fraction"]
            .as_f64()
            .map(|f| format!("{f:.4}"))
            .unwrap_or_default(),
    );
    put("below_floor_s", seconds(u(&cap["below_floor_ms"])));
    let surge_ms = (summary["surge"]["instance_seconds"].as_f64().unwrap() * 1000.0).round();
    put("surge_instance_s", seconds(surge_ms as u64));
    put("surge_peak", u(&summary["surge"]["peak"]).to_string());
    let count = |names: &[&str]| -> String {
        first
            .map(|a| {
                names
                    .iter()
                    .map(|n| a["instances"][*n].as_u64().unwrap_or(0))
                    .sum::<u64>()
            })
            .unwrap_or(0)
            .to_string()
    };
    put("instances_successful", count(&["SUCCESSFUL"]));
    put("instances_failed", count(&["FAILED"]));
    put("instances_not_found", count(&["NOT_FOUND"]));
    put("instances_cancelled", count(&["CANCELLED"]));
    put("instances_other", count(&["WAITING", "INIT", "RUNNING"]));
    let errors = summary["api"]["errors"].as_object().unwrap();
    put(
        "api_errors",
        errors
            .values()
            .map(|n| n.as_u64().unwrap())
            .sum::<u64>()
            .to_string(),
    );
    // runs.csv lists codes in the engine's code order; compare as a set.
    let mut codes: Vec<String> = errors.iter().map(|(c, n)| format!("{c}:{n}")).collect();
    codes.sort();
    put("api_error_codes", codes.join(";"));
    put("events", u(&summary["events"]).to_string());
    put("end_s", seconds(u(&summary["end_ms"])));
    m
}

#[test]
fn oq57_run_set_changes_settings_and_names_them() {
    let ran = refreshsim(&[
        "run",
        SMALL,
        "--set",
        "RollingUpdateSettings.BatchNumber=3",
        "--set",
        "faults.reinstall_failure_rate=0",
    ]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(
        ran.stdout
            .contains("with RollingUpdateSettings.BatchNumber=3, faults.reinstall_failure_rate=0"),
        "{}",
        ran.stdout
    );
    let ran = refreshsim(&["validate", SMALL, "--set", "MaxSurge=batch"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(ran.stdout.contains("MaxSurge 10"), "{}", ran.stdout);
    let ran = refreshsim(&["run", SMALL, "--set", "BatchPause=SOMETIMES"]);
    assert_eq!(ran.code, 2);
    assert!(ran.stderr.contains("BatchPause"), "{}", ran.stderr);
}

// ---------------------------------------------------------------------------------------------
// The README's sweep

/// The charts the README shows are what the bundled sweep writes today (re-pin with
/// `REFRESHSIM_BLESS=1 cargo test --test suite sweep::`).
#[test]
fn the_readme_charts_are_the_bundled_sweeps_current_output() {
    let dir = temp();
    let ran = refreshsim(&[
        "sweep",
        "scenarios/sweep-batch-surge.toml",
        "--out",
        dir.path().to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let bless = std::env::var("REFRESHSIM_BLESS").is_ok_and(|v| v == "1");
    let docs = Path::new("docs/sweep-batch-surge");
    for name in [
        "tradeoff.svg",
        "duration-by-batchnumber.svg",
        "capacity-by-batchnumber.svg",
        "duration-by-maxsurge.svg",
        "capacity-by-maxsurge.svg",
    ] {
        let fresh = std::fs::read(dir.path().join(name)).unwrap();
        if bless {
            std::fs::write(docs.join(name), &fresh).unwrap();
        } else {
            assert!(
                std::fs::read(docs.join(name)).unwrap() == fresh,
                "docs/sweep-batch-surge/{name} is stale: re-pin with REFRESHSIM_BLESS=1 cargo test --test suite sweep:: and update the README's numbers"
            );
        }
    }
}
