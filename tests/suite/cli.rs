//! CLI tests: the real `refreshsim` binary on real files (DESIGN.md §9).
//!
//! Contract under test: exit 0 when every `expect` holds, 1 when one fails, 2 on bad input; bad
//! input gets one clear message on stderr (file:line:col where there is a position, the field,
//! what was expected and what was found), no panic, and nothing written to `--out`.

use crate::common::TemplateEdit;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

const EXAMPLE: &str = "scenarios/tencent-documented-example.toml";
const OUTPUT_FILES: [&str; 7] = [
    "timeline.csv",
    "timeline.jsonl",
    "describe.json",
    "summary.json",
    "responses.jsonl",
    "timeline.svg",
    "report.html",
];

/// What one run of the binary did.
struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `refreshsim` with `args` in `cwd`.
fn refreshsim_in<S: AsRef<OsStr>>(cwd: &Path, args: &[S]) -> Ran {
    let output = assert_cmd::Command::new(env!("CARGO_BIN_EXE_refreshsim"))
        .current_dir(cwd)
        .args(args)
        .output()
        .expect("the binary starts");
    let ran = Ran {
        code: output
            .status
            .code()
            .expect("exited, not killed by a signal"),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    };
    assert!(
        !ran.stderr.contains("panicked"),
        "the binary panicked:\n{}",
        ran.stderr
    );
    ran
}

/// Runs `refreshsim` with `args` from the crate root, so repository paths work.
fn refreshsim<S: AsRef<OsStr>>(args: &[S]) -> Ran {
    refreshsim_in(Path::new(env!("CARGO_MANIFEST_DIR")), args)
}

fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn example_text() -> String {
    std::fs::read_to_string(repo_path(EXAMPLE)).unwrap()
}

/// Runs `run <scenario> --out <dir>/out` and returns the output directory.
fn run_with_out(scenario: &Path, dir: &Path, extra: &[&str]) -> (Ran, PathBuf) {
    let out = dir.join("out");
    let mut args = vec![
        OsStr::new("run").to_owned(),
        scenario.as_os_str().to_owned(),
        "--out".into(),
        out.as_os_str().to_owned(),
    ];
    args.extend(extra.iter().map(|a| OsStr::new(a).to_owned()));
    (refreshsim(&args), out)
}

fn file_names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// `(batch number, instance ids)` from the `batch N: a, b` lines `validate` prints.
fn plan_lines(stdout: &str) -> Vec<(u32, Vec<String>)> {
    stdout
        .lines()
        .filter_map(|line| line.trim().strip_prefix("batch "))
        .filter_map(|rest| rest.split_once(':'))
        .map(|(n, ids)| {
            let ids = ids.split(',').map(|id| id.trim().to_string()).collect();
            (n.trim().parse().unwrap(), ids)
        })
        .collect()
}

/// The example scenario with its `[expect]` section replaced.
fn example_with_expect(expect: &str) -> String {
    let text = example_text();
    let at = text
        .find("\n[expect]")
        .expect("the example has an [expect] section");
    format!("{}\n{expect}", &text[..at])
}

// ---------------------------------------------------------------------------------------------
// 1. No arguments: the embedded example.

#[test]
fn no_arguments_runs_the_embedded_tencent_example_from_any_directory() {
    let cwd = tempfile::tempdir().unwrap();
    let ran = refreshsim_in(cwd.path(), &[] as &[&str]);
    assert_eq!(ran.code, 0, "stderr:\n{}", ran.stderr);
    assert!(ran.stdout.contains("tencent-documented-example"));
    assert!(ran.stdout.contains("SUCCESSFUL"));
    // The batch table: rows `1 SUCCESSFUL 2 …`, `2 SUCCESSFUL 2 …`, `3 SUCCESSFUL 1 …`.
    let batches: Vec<(String, String, String)> = ran
        .stdout
        .lines()
        .map(|l| l.split_whitespace().take(3).map(String::from).collect())
        .filter(|w: &Vec<String>| w.len() == 3 && w[0].parse::<u32>().is_ok())
        .map(|w| (w[0].clone(), w[1].clone(), w[2].clone()))
        .collect();
    let expected = [("1", "2"), ("2", "2"), ("3", "1")]
        .map(|(n, size)| (n.to_string(), "SUCCESSFUL".to_string(), size.to_string()));
    assert_eq!(batches, expected, "stdout:\n{}", ran.stdout);
    assert!(
        file_names(cwd.path()).is_empty(),
        "the demo writes nothing to the current directory"
    );
}

// ---------------------------------------------------------------------------------------------
// 2. `run --out`: the files, their contents, determinism, --seed.

#[test]
fn run_with_out_writes_exactly_the_seven_output_files_and_no_temporaries() {
    let dir = tempfile::tempdir().unwrap();
    let (ran, out) = run_with_out(Path::new(EXAMPLE), dir.path(), &[]);
    assert_eq!(ran.code, 0, "stderr:\n{}", ran.stderr);
    let expected: BTreeSet<String> = OUTPUT_FILES.iter().map(|s| s.to_string()).collect();
    assert_eq!(file_names(&out), expected);
    for name in OUTPUT_FILES {
        assert!(
            std::fs::metadata(out.join(name)).unwrap().len() > 0,
            "{name} is empty"
        );
    }
}

#[test]
fn describe_json_lists_batches_in_descending_order_with_the_documented_times() {
    let dir = tempfile::tempdir().unwrap();
    let (ran, out) = run_with_out(Path::new(EXAMPLE), dir.path(), &[]);
    assert_eq!(ran.code, 0, "stderr:\n{}", ran.stderr);
    let describe: Value =
        serde_json::from_slice(&std::fs::read(out.join("describe.json")).unwrap()).unwrap();
    let activity = &describe["Response"]["RefreshActivitySet"][0];
    assert_eq!(activity["Status"], "SUCCESSFUL");
    assert_eq!(activity["StartTime"], "2023-09-07T16:27:49Z");
    assert_eq!(activity["EndTime"], "2023-09-07T16:32:56Z");
    let numbers: Vec<u64> = activity["RefreshBatchSet"]
        .as_array()
        .expect("RefreshBatchSet is an array")
        .iter()
        .map(|b| b["RefreshBatchNum"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [3, 2, 1]);
}

#[test]
fn timeline_csv_has_the_documented_header_and_a_run_row_naming_seed_and_scenario_hash() {
    let dir = tempfile::tempdir().unwrap();
    let (ran, out) = run_with_out(Path::new(EXAMPLE), dir.path(), &[]);
    assert_eq!(ran.code, 0, "stderr:\n{}", ran.stderr);
    let csv = std::fs::read_to_string(out.join("timeline.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("time_ms,time,seq,kind,activity_id,batch,instance_id,from,to,detail")
    );
    let first = lines.next().expect("a first data row");
    assert_eq!(first.split(',').nth(3), Some("run"), "first row: {first}");
    let sha: String = Sha256::digest(example_text().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(first.contains("seed=1 "), "first row: {first}");
    assert!(
        first.contains(&format!("scenario_sha256={sha}")),
        "first row: {first}"
    );
}

#[test]
fn two_runs_of_the_same_scenario_and_seed_write_byte_identical_files() {
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    let (a, out_a) = run_with_out(Path::new(EXAMPLE), first.path(), &[]);
    let (b, out_b) = run_with_out(Path::new(EXAMPLE), second.path(), &[]);
    assert_eq!((a.code, b.code), (0, 0));
    assert_eq!(a.stdout, b.stdout);
    for name in OUTPUT_FILES {
        assert!(
            std::fs::read(out_a.join(name)).unwrap() == std::fs::read(out_b.join(name)).unwrap(),
            "{name} differs between two identical runs"
        );
    }
}

#[test]
fn seed_flag_overrides_the_scenario_seed_in_the_run_row() {
    let dir = tempfile::tempdir().unwrap();
    let (ran, out) = run_with_out(Path::new(EXAMPLE), dir.path(), &["--seed", "5"]);
    assert_eq!(ran.code, 0, "stderr:\n{}", ran.stderr);
    let csv = std::fs::read_to_string(out.join("timeline.csv")).unwrap();
    let run_row = csv.lines().nth(1).unwrap();
    assert!(run_row.contains("seed=5 "), "run row: {run_row}");
    assert!(!run_row.contains("seed=1 "), "run row: {run_row}");
}

// ---------------------------------------------------------------------------------------------
// 3. A failed expectation.

#[test]
fn a_failed_expectation_exits_1_and_the_summary_shows_the_fail_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = example_text();
    let impossible = text.replace_once("max_duration = \"5m8s\"", "max_duration = \"1m\"");
    assert_ne!(impossible, text, "the example's max_duration line moved");
    let path = dir.path().join("impossible.toml");
    std::fs::write(&path, impossible).unwrap();
    let (ran, out) = run_with_out(&path, dir.path(), &[]);
    assert_eq!(
        ran.code, 1,
        "stdout:\n{}\nstderr:\n{}",
        ran.stdout, ran.stderr
    );
    // A failed expectation is a finding, not bad input: the outputs are there to inspect it.
    assert_eq!(file_names(&out).len(), OUTPUT_FILES.len());
    let fail_line = ran
        .stdout
        .lines()
        .find(|l| l.contains("[FAIL]"))
        .unwrap_or_else(|| panic!("no [FAIL] line in:\n{}", ran.stdout));
    assert!(fail_line.contains("max_duration = 1m"), "{fail_line}");
}

// ---------------------------------------------------------------------------------------------
// 4. Bad input: exit 2, one clear message, nothing written.

/// Runs `run <scenario> --out` (into a missing directory and into an existing empty one) and
/// `validate <scenario>`; each must exit 2 with a stderr message that starts with `location`
/// (`file:line:col` or just `file`) and contains every one of `says`, and write nothing.
fn assert_bad_input(scenario: &str, location: &str, says: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let (ran, out) = run_with_out(Path::new(scenario), dir.path(), &[]);
    assert_rejected(&ran, location, says);
    assert!(!out.exists(), "{scenario}: --out DIR was created");

    std::fs::create_dir(&out).unwrap();
    let (ran, _) = run_with_out(Path::new(scenario), dir.path(), &[]);
    assert_rejected(&ran, location, says);
    assert!(
        file_names(&out).is_empty(),
        "{scenario}: wrote into --out DIR"
    );

    let ran = refreshsim(&["validate", scenario]);
    assert_rejected(&ran, location, says);
}

fn assert_rejected(ran: &Ran, location: &str, says: &[&str]) {
    assert_eq!(
        ran.code, 2,
        "stdout:\n{}\nstderr:\n{}",
        ran.stdout, ran.stderr
    );
    assert!(ran.stdout.is_empty(), "stdout:\n{}", ran.stdout);
    let message = ran.stderr.trim_end();
    assert_eq!(message.lines().count(), 1, "one message line:\n{message}");
    assert!(
        message.starts_with(&format!("error: {location}: ")),
        "expected the message to start with `error: {location}: `:\n{message}"
    );
    assert!(
        !message.contains(": ?"),
        "an unknown field segment leaked:\n{message}"
    );
    for part in says {
        assert!(message.contains(part), "missing {part:?} in:\n{message}");
    }
}

fn bad(name: &str) -> String {
    format!("tests/fixtures/bad/{name}")
}

#[test]
fn toml_syntax_error_is_located_and_says_what_was_found() {
    let file = bad("toml-syntax-error.toml");
    assert_bad_input(
        &file,
        &format!("{file}:5:28"),
        &["invalid basic string", "expected `\"`", "found end of line"],
    );
}

#[test]
fn unknown_top_level_field_is_an_error_not_ignored() {
    let file = bad("unknown-top-level-field.toml");
    assert_bad_input(
        &file,
        &format!("{file}:6:2"),
        &[
            "scenarioo: ",
            "unknown field `scenarioo`",
            "expected one of `scenario`",
        ],
    );
}

#[test]
fn unknown_nested_field_is_an_error_naming_its_path() {
    let file = bad("unknown-nested-field.toml");
    assert_bad_input(
        &file,
        &format!("{file}:8:1"),
        &["group.sizee: ", "unknown field `sizee`", "`size`"],
    );
}

#[test]
fn wrong_type_names_the_field_the_expected_type_and_the_value_found() {
    let file = bad("wrong-type.toml");
    assert_bad_input(
        &file,
        &format!("{file}:5:8"),
        &["scenario.seed: ", "string \"one\"", "expected u64"],
    );
}

#[test]
fn bad_enum_value_lists_the_accepted_values() {
    let file = bad("bad-enum.toml");
    assert_bad_input(
        &file,
        &format!("{file}:9:1"),
        &[
            "group.status: ",
            "expected one of NORMAL | ",
            "found \"BROKEN\"",
        ],
    );
}

#[test]
fn bad_duration_shows_the_accepted_forms() {
    let file = bad("bad-duration.toml");
    assert_bad_input(
        &file,
        &format!("{file}:14:1"),
        &[
            "timing.reinstall: ",
            "expected a duration like \"90s\"",
            "found \"ninety\"",
        ],
    );
}

#[test]
fn spec_0_1_fractional_start_time_is_refused_not_silently_truncated() {
    let file = bad("fractional-start-time.toml");
    assert_bad_input(
        &file,
        &format!("{file}:6:1"),
        &[
            "scenario.start_time: ",
            "expected a whole-second UTC instant",
            "found \"2026-01-01T00:00:00.700Z\"",
        ],
    );
}

#[test]
fn unknown_action_name_lists_the_supported_actions() {
    let file = bad("unknown-action.toml");
    assert_bad_input(
        &file,
        &format!("{file}:16:1"),
        &[
            "actions[0].action: ",
            "expected one of StartInstanceRefresh | ",
            "found \"StartRefresh\"",
        ],
    );
}

#[test]
fn expect_call_naming_a_missing_action_id_is_rejected() {
    let file = bad("expect-call-unknown-action.toml");
    assert_bad_input(
        &file,
        &format!("{file}:19:12"),
        &[
            "expect.calls[0].action: ",
            "expected the id of an action",
            "found \"resume\"",
        ],
    );
}

#[test]
fn fault_event_on_an_instance_outside_the_group_is_rejected() {
    let file = bad("fault-unknown-instance.toml");
    assert_bad_input(
        &file,
        &format!("{file}:21:1"),
        &[
            "faults.events[0].instance: ",
            "expected an instance of the group",
            "found \"ins-nothere\"",
        ],
    );
}

#[test]
fn json_syntax_error_is_located_and_says_what_was_found() {
    let file = bad("json-syntax-error.json");
    assert_bad_input(
        &file,
        &format!("{file}:4:3"),
        &["expected `,` or `}`", "found `\"launch_configuration\"`"],
    );
}

#[test]
fn json_unknown_field_is_an_error_like_in_toml() {
    let file = bad("json-unknown-field.json");
    assert_bad_input(
        &file,
        &format!("{file}:3:49"),
        &["group.colour: ", "unknown field `colour`", "`size`"],
    );
}

#[test]
fn table_written_as_an_array_is_rejected() {
    let file = bad("table-as-array.toml");
    assert_bad_input(
        &file,
        &format!("{file}:3:12"),
        &["scenario: ", "expected a table of named fields"],
    );
}

#[test]
fn missing_scenario_file_is_bad_input() {
    let file = bad("does-not-exist.toml");
    assert_bad_input(&file, &file, &["cannot read the scenario", "No such file"]);
}

#[test]
fn directory_given_as_the_scenario_is_bad_input() {
    let dir = "tests/fixtures/bad";
    assert_bad_input(
        dir,
        dir,
        &["expected a scenario file (TOML or JSON), found a directory"],
    );
}

#[test]
fn non_utf8_scenario_is_located_at_the_first_invalid_byte() {
    let file = bad("not-utf8.toml");
    assert_bad_input(
        &file,
        &format!("{file}:3:12"),
        &["expected UTF-8 text", "found the byte 0xe9"],
    );
}

#[test]
fn a_run_stopped_by_a_limit_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let text = example_text().replace_once("seed = 1\n", "seed = 1\nlimits = { max_events = 3 }\n");
    let path = dir.path().join("limited.toml");
    std::fs::write(&path, text).unwrap();
    let (ran, out) = run_with_out(&path, dir.path(), &[]);
    assert_eq!(ran.code, 2, "stderr:\n{}", ran.stderr);
    assert!(
        ran.stderr.contains("scenario.limits.max_events"),
        "{}",
        ran.stderr
    );
    assert!(!out.exists(), "--out DIR was created by a failed run");
}

#[test]
fn d12_memory_bounds_max_records_and_max_call_bytes_exit_2_and_write_nothing() {
    for (limit, field) in [
        ("max_records = 20", "scenario.limits.max_records"),
        ("max_call_bytes = 100", "scenario.limits.max_call_bytes"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let text = example_text()
            .replace_once("seed = 1\n", &format!("seed = 1\nlimits = {{ {limit} }}\n"));
        assert!(text.contains(limit));
        let path = dir.path().join("limited.toml");
        std::fs::write(&path, text).unwrap();
        let (ran, out) = run_with_out(&path, dir.path(), &[]);
        assert_eq!(ran.code, 2, "{limit}: stderr:\n{}", ran.stderr);
        assert!(ran.stderr.contains(field), "{}", ran.stderr);
        assert!(
            !out.exists(),
            "{limit}: --out DIR was created by a failed run"
        );
    }
}

#[test]
fn bad_command_line_arguments_exit_2() {
    for args in [
        &["run", EXAMPLE, "--seed", "five"][..],
        &["frobnicate"],
        &["run"],
    ] {
        let ran = refreshsim(args);
        assert_eq!(ran.code, 2, "{args:?}: stderr:\n{}", ran.stderr);
        assert!(ran.stderr.contains("error"), "{args:?}: {}", ran.stderr);
    }
}

#[test]
fn json_scenario_with_a_byte_order_mark_runs_like_toml() {
    let dir = tempfile::tempdir().unwrap();
    let json = r#"{
  "scenario": { "name": "json-with-bom", "seed": 1 },
  "group": { "id": "asg-json0001", "size": 3, "image_id": "img-old" },
  "launch_configuration": { "image_id": "img-new" },
  "actions": [
    { "id": "start", "at": "0s", "action": "StartInstanceRefresh",
      "request": { "RefreshSettings": { "RollingUpdateSettings": { "BatchNumber": 3 } } } }
  ],
  "expect": { "status": "SUCCESSFUL", "calls": [{ "action": "start", "code": "OK" }] }
}
"#;
    let path = dir.path().join("with-bom.json");
    std::fs::write(&path, format!("\u{feff}{json}")).unwrap();
    let (ran, out) = run_with_out(&path, dir.path(), &[]);
    assert_eq!(
        ran.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        ran.stdout, ran.stderr
    );
    let describe: Value =
        serde_json::from_slice(&std::fs::read(out.join("describe.json")).unwrap()).unwrap();
    let batches = &describe["Response"]["RefreshActivitySet"][0]["RefreshBatchSet"];
    assert_eq!(batches.as_array().map(Vec::len), Some(3));
}

// ---------------------------------------------------------------------------------------------
// 5. validate.

#[test]
fn validate_prints_the_batch_plan_of_the_tencent_example() {
    let ran = refreshsim(&["validate", EXAMPLE]);
    assert_eq!(ran.code, 0, "stderr:\n{}", ran.stderr);
    let ids = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        plan_lines(&ran.stdout),
        [
            (1, ids(&["ins-w188n53k", "ins-w188n53n"])),
            (2, ids(&["ins-w1824wre", "ins-w188n53m"])),
            (3, ids(&["ins-w188n53l"])),
        ],
        "stdout:\n{}",
        ran.stdout
    );
}

#[test]
fn oq27_oq57_validate_runs_what_precedes_the_start_at_its_instant_and_prints_a_refusal() {
    // The `role` fault (role revoked at 0 s, earlier in the file than the Start at 0 s) runs
    // before the Start, as in the real run, so validate prints the refusal, not a plan.
    let ran = refreshsim(&["validate", "scenarios/rejected-requests.toml"]);
    assert_eq!(ran.code, 0, "stderr:\n{}", ran.stderr);
    assert!(
        ran.stdout.contains(
            "is refused, as the scenario's expect block says: UnauthorizedOperation.AutoScalingRoleUnauthorized"
        ),
        "stdout:\n{}",
        ran.stdout
    );
    assert!(
        plan_lines(&ran.stdout).is_empty(),
        "stdout:\n{}",
        ran.stdout
    );
    // The real run gets the same answer.
    let dir = tempfile::tempdir().unwrap();
    let (ran, _) = run_with_out(
        Path::new("scenarios/rejected-requests.toml"),
        dir.path(),
        &[],
    );
    assert_eq!(ran.code, 0, "stderr:\n{}", ran.stderr);
    assert!(
        ran.stdout
            .contains("call role -> UnauthorizedOperation.AutoScalingRoleUnauthorized")
    );
}

// ---------------------------------------------------------------------------------------------
// 6. A request Tencent refuses is a result of the run, not a scenario error.

#[test]
fn a_refused_request_is_an_api_error_in_the_run_not_a_scenario_error() {
    let dir = tempfile::tempdir().unwrap();
    let text = example_with_expect(
        "[expect]\ncalls = [{ action = \"start\", code = \"InvalidParameterValue.BatchNumberTooLarge\" }]\n",
    )
    .replace_once("{ BatchNumber = 3,", "{ BatchNumber = 9,");
    assert!(text.contains("BatchNumber = 9"));
    let path = dir.path().join("batch-number-9.toml");
    std::fs::write(&path, text).unwrap();
    let (ran, out) = run_with_out(&path, dir.path(), &[]);
    assert_eq!(
        ran.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        ran.stdout, ran.stderr
    );
    assert!(
        ran.stdout
            .contains("InvalidParameterValue.BatchNumberTooLarge")
    );

    let responses = std::fs::read_to_string(out.join("responses.jsonl")).unwrap();
    let lines: Vec<Value> = responses
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{responses}");
    // D9: a header line names version, seed and scenario hash, like the other outputs.
    let header = &lines[0]["_refreshsim"];
    assert_eq!(header["seed"], 1, "{responses}");
    assert!(
        header["scenario_sha256"]
            .as_str()
            .is_some_and(|h| h.len() == 64)
    );
    assert!(header["version"].as_str().is_some());
    let lines = &lines[1..];
    assert_eq!(lines[0]["id"], "start");
    assert_eq!(lines[0]["action"], "StartInstanceRefresh");
    // Tencent Cloud API 3.0 error envelope: {"Response":{"Error":{"Code","Message"},"RequestId"}}.
    let response = lines[0]["response"]["Response"]
        .as_object()
        .expect("a Response object");
    let keys: Vec<&str> = response.keys().map(String::as_str).collect();
    assert_eq!(keys, ["Error", "RequestId"]);
    assert_eq!(
        response["Error"]["Code"],
        "InvalidParameterValue.BatchNumberTooLarge"
    );
    assert!(
        !response["Error"]["Message"].as_str().unwrap().is_empty(),
        "an error Message"
    );
    assert!(
        response["RequestId"]
            .as_str()
            .is_some_and(|id| !id.is_empty())
    );

    // validate reports the refusal too, and it is still a valid scenario.
    let ran = refreshsim(&[OsStr::new("validate"), path.as_os_str()]);
    assert_eq!(ran.code, 0, "stderr:\n{}", ran.stderr);
    assert!(
        ran.stdout
            .contains("InvalidParameterValue.BatchNumberTooLarge")
    );
}

// ---------------------------------------------------------------------------------------------
// `refreshsim check` (issue 4): exit 0 on a clean timeline or Describe history, 1 on a
// violation (named by its invariant id), 2 on unreadable input.

fn run_example_into(dir: &Path) {
    let out = dir.display().to_string();
    let ran = refreshsim(&["run", EXAMPLE, "--out", &out, "--quiet"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
}

#[test]
fn check_passes_every_output_of_a_clean_run() {
    let dir = tempfile::tempdir().unwrap();
    run_example_into(dir.path());
    for name in [
        "timeline.csv",
        "timeline.jsonl",
        "describe.json",
        "responses.jsonl",
    ] {
        let path = dir.path().join(name).display().to_string();
        let ran = refreshsim(&["check", &path]);
        assert_eq!(ran.code, 0, "{name}: {}{}", ran.stdout, ran.stderr);
        assert!(
            ran.stdout.contains("no invariant is violated"),
            "{}",
            ran.stdout
        );
    }
}

#[test]
fn check_names_the_invariant_a_broken_timeline_violates() {
    let dir = tempfile::tempdir().unwrap();
    run_example_into(dir.path());
    let text = std::fs::read_to_string(dir.path().join("timeline.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    // The activity's INIT → RUNNING becomes INIT → AUTO_PAUSE: not a §10 transition.
    let i = lines
        .iter()
        .position(|l| {
            let f: Vec<&str> = l.split(',').collect();
            f.len() > 8 && f[3] == "activity" && f[8] == "RUNNING"
        })
        .expect("the activity starts");
    lines[i] = lines[i].replacen(",RUNNING,", ",AUTO_PAUSE,", 1);
    let broken = dir.path().join("broken.csv");
    std::fs::write(&broken, lines.join("\n") + "\n").unwrap();
    let ran = refreshsim(&["check", &broken.display().to_string()]);
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout.contains("[INV-ACTIVITY-GRAPH]"),
        "{}",
        ran.stdout
    );
}

#[test]
fn check_refuses_unreadable_input_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.csv").display().to_string();
    let ran = refreshsim(&["check", &missing]);
    assert_eq!(ran.code, 2);
    assert!(ran.stderr.contains("cannot read"), "{}", ran.stderr);
    let garbage = dir.path().join("garbage.csv");
    std::fs::write(&garbage, "not,a,timeline\n").unwrap();
    let ran = refreshsim(&["check", &garbage.display().to_string()]);
    assert_eq!(ran.code, 2);
    assert!(ran.stderr.contains("line 1"), "{}", ran.stderr);
}

fn run_into(scenario: &str, dir: &Path) {
    let out = dir.display().to_string();
    let ran = refreshsim(&["run", scenario, "--out", &out, "--quiet"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
}

#[test]
fn check_accepts_a_runs_responses_jsonl_and_sniffs_content_not_names() {
    let dir = tempfile::tempdir().unwrap();
    run_into("scenarios/describe-queries.toml", dir.path());
    let responses = dir.path().join("responses.jsonl").display().to_string();
    let ran = refreshsim(&["check", &responses]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(ran.stdout.contains("responses.jsonl"), "{}", ran.stdout);
    assert!(
        ran.stdout.contains("cannot be checked from this input"),
        "{}",
        ran.stdout
    );
    // A timeline named .txt is still a timeline.
    let txt = dir.path().join("timeline.txt");
    std::fs::copy(dir.path().join("timeline.jsonl"), &txt).unwrap();
    let ran = refreshsim(&["check", &txt.display().to_string()]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout.contains("records of a timeline"),
        "{}",
        ran.stdout
    );
    let csv_txt = dir.path().join("timeline-csv.txt");
    std::fs::copy(dir.path().join("timeline.csv"), &csv_txt).unwrap();
    let ran = refreshsim(&["check", &csv_txt.display().to_string()]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    // Prose is refused with a plain message.
    let prose = dir.path().join("notes.txt");
    std::fs::write(&prose, "hello\n").unwrap();
    let ran = refreshsim(&["check", &prose.display().to_string()]);
    assert_eq!(ran.code, 2);
    assert!(ran.stderr.contains("not a timeline"), "{}", ran.stderr);
}

#[test]
fn check_a_jsonl_of_polled_describe_responses() {
    let dir = tempfile::tempdir().unwrap();
    run_into(EXAMPLE, dir.path());
    let describe: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("describe.json")).unwrap())
            .unwrap();
    let limited = serde_json::json!({"Response": {"Error": {"Code": "RequestLimitExceeded", "Message": "too fast"}, "RequestId": "x"}});
    // Poll 3 shows the finished activity back in RUNNING: not a §10 transition.
    let mut regressed = describe.clone();
    regressed["Response"]["RefreshActivitySet"][0]["Status"] = "RUNNING".into();
    regressed["Response"]["RefreshActivitySet"][0]["EndTime"] = serde_json::Value::Null;
    let polls = dir.path().join("polls.jsonl");
    std::fs::write(&polls, format!("{describe}\n{limited}\n{regressed}\n")).unwrap();
    let ran = refreshsim(&["check", &polls.display().to_string()]);
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout.contains("[INV-TERMINAL] at poll #3"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout
            .contains("poll #2 is an error response (RequestLimitExceeded)"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout
            .contains("cannot be checked from this input (they need a timeline): INV-TIME-ORDER"),
        "{}",
        ran.stdout
    );
    // Only error polls: nothing violated.
    std::fs::write(&polls, format!("{describe}\n{limited}\n")).unwrap();
    let ran = refreshsim(&["check", &polls.display().to_string()]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
}

#[test]
fn check_compares_a_timeline_with_a_separate_describe_output() {
    let dir = tempfile::tempdir().unwrap();
    run_into(EXAMPLE, dir.path());
    let timeline = dir.path().join("timeline.jsonl").display().to_string();
    let describe = dir.path().join("describe.json");
    let ran = refreshsim(&[
        "check",
        &timeline,
        "--describe",
        &describe.display().to_string(),
    ]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(ran.stdout.contains("compared"), "{}", ran.stdout);
    let text =
        std::fs::read_to_string(&describe)
            .unwrap()
            .replacen("\"SUCCESSFUL\"", "\"RUNNING\"", 1);
    let other = dir.path().join("other.json");
    std::fs::write(&other, text).unwrap();
    let ran = refreshsim(&[
        "check",
        &timeline,
        "--describe",
        &other.display().to_string(),
    ]);
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout.contains("[INV-DESCRIBE-AGREES]"),
        "{}",
        ran.stdout
    );
}

#[test]
fn run_summary_counts_the_invariants_it_checks() {
    let ran = refreshsim(&["run", EXAMPLE]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let count = refreshsim::check::timeline_invariants().count();
    assert!(
        ran.stdout.contains(&format!(
            "invariants: all {count} checked from the timeline hold"
        )),
        "{}",
        ran.stdout
    );
    assert!(count < refreshsim::check::Invariant::ALL.len());
}

/// Issue 10: a refused call is reported with Tencent's message, not only its code, by `run`
/// (summary and the failed `expect` verdict) and by `validate`, which says plainly that the
/// Start is refused and exits 1 when the scenario does not expect the refusal.
#[test]
fn a_refused_start_is_reported_with_its_message_by_run_and_validate() {
    let dir = tempfile::tempdir().unwrap();
    let text = example_text();
    let typo = text.replace_once("{ BatchNumber = 3,", "{ BatchNumbr = 3,");
    assert_ne!(typo, text, "the example's Start sets BatchNumber = 3");
    let path = dir.path().join("typo.toml");
    std::fs::write(&path, typo).unwrap();

    let validated = refreshsim(&[OsStr::new("validate"), path.as_os_str()]);
    assert_eq!(validated.code, 1, "stdout:\n{}", validated.stdout);
    assert!(
        validated.stdout.contains(
            "the first StartInstanceRefresh (start, at +0s) is REFUSED: UnknownParameter: \
             The parameter `RefreshSettings.RollingUpdateSettings.BatchNumbr` is not recognized"
        ),
        "stdout:\n{}",
        validated.stdout
    );
    assert!(
        !validated.stdout.contains("is valid"),
        "{}",
        validated.stdout
    );

    let ran = refreshsim(&[OsStr::new("run"), path.as_os_str()]);
    assert_eq!(ran.code, 1, "an expectation fails: stdout:\n{}", ran.stdout);
    assert!(
        ran.stdout
            .contains("start (StartInstanceRefresh) refused: UnknownParameter: The parameter `RefreshSettings.RollingUpdateSettings.BatchNumbr` is not recognized"),
        "stdout:\n{}",
        ran.stdout
    );
}

/// A scenario written to test a refusal (its expect block names the code) validates with exit
/// 0 and says the refusal is expected.
#[test]
fn an_expected_refusal_validates_with_exit_0() {
    let ran = refreshsim(&["validate", "scenarios/rejected-requests.toml"]);
    assert_eq!(ran.code, 0, "stdout:\n{}", ran.stdout);
    assert!(
        ran.stdout.contains(
            "the first StartInstanceRefresh (role, at +0s) is refused, as the scenario's expect block \
             says: UnauthorizedOperation.AutoScalingRoleUnauthorized"
        ),
        "stdout:\n{}",
        ran.stdout
    );
}

/// `run --svg-time utc` labels timeline.svg with UTC clock times and changes no other file;
/// a bad value is bad input (exit 2, the option named, nothing written).
#[test]
fn svg_time_utc_changes_only_the_charts_time_labels() {
    let dir = tempfile::tempdir().unwrap();
    let (ran, relative) = run_with_out(Path::new(EXAMPLE), dir.path(), &[]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let utc_dir = tempfile::tempdir().unwrap();
    let (ran, utc) = run_with_out(Path::new(EXAMPLE), utc_dir.path(), &["--svg-time", "utc"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let svg = std::fs::read_to_string(utc.join("timeline.svg")).unwrap();
    assert!(svg.contains(">UTC (run starts 2023-09-07T16:27:49Z)</text>"));
    assert!(svg.contains(">16:28:00</text>"));
    let before = std::fs::read_to_string(relative.join("timeline.svg")).unwrap();
    assert!(before.contains("simulated time (min)") && !before.contains("UTC (run starts"));
    for name in OUTPUT_FILES.iter().filter(|n| **n != "timeline.svg") {
        assert!(
            std::fs::read(relative.join(name)).unwrap() == std::fs::read(utc.join(name)).unwrap(),
            "{name} does not depend on --svg-time"
        );
    }
    let bad_dir = tempfile::tempdir().unwrap();
    let (ran, bad) = run_with_out(Path::new(EXAMPLE), bad_dir.path(), &["--svg-time", "local"]);
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr
            .contains("--svg-time: expected relative or utc, found \"local\""),
        "{}",
        ran.stderr
    );
    assert!(!bad.exists(), "nothing written");
}
