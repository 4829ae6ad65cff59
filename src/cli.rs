//! The command line: `run`, `validate`, and the default demo. Exit codes: 0 when every
//! expectation holds, 1 when one fails, 2 on bad input (nothing is written then).

use crate::output::{Files, write_atomically};
use crate::report::summary::{summary_json, summary_text};
use crate::run::{DryStart, RunResult, dry_run_first_start, run_scenario, with_overrides};
use crate::scenario::overrides::Override;
use crate::scenario::{Scenario, ScenarioError, load_scenario, parse_scenario};
use crate::time::format_duration_ms;
use clap::{Parser, Subcommand};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// The scenario `refreshsim` runs with no arguments, embedded so it works from any directory.
pub const DEFAULT_SCENARIO: &str = include_str!("../scenarios/tencent-documented-example.toml");
pub const DEFAULT_SCENARIO_NAME: &str = "scenarios/tencent-documented-example.toml";

pub const EXIT_OK: i32 = 0;
pub const EXIT_EXPECTATION_FAILED: i32 = 1;
pub const EXIT_BAD_INPUT: i32 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "refreshsim",
    version,
    about = "Deterministic simulator of Tencent Cloud Auto Scaling instance refresh",
    long_about = "Deterministic simulator of Tencent Cloud Auto Scaling instance refresh.\n\nWith no command, runs Tencent's documented example (embedded) and prints its summary."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a scenario: print a summary; with --out, write timeline, Describe JSON, summary, chart.
    Run {
        /// Scenario file (TOML or JSON).
        scenario: PathBuf,
        /// Run seed (default: the scenario's `seed`, else 1).
        #[arg(long)]
        seed: Option<u64>,
        /// Directory for timeline.csv, timeline.jsonl, describe.json, summary.json, responses.jsonl, timeline.svg.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
        /// Change a setting, e.g. `--set RollingUpdateSettings.BatchNumber=10`,
        /// `--set MaxSurge=batch/2`, `--set faults.reinstall_failure_rate=0.05`,
        /// `--set group.size=500` (repeatable; the keys `sweep --vary` takes).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Threshold for "time below floor", as a fraction of the pre-refresh in-service count
        /// (overrides the scenario's `capacity_floor`; as `sweep --floor`, whose replay
        /// commands pass it).
        #[arg(long)]
        floor: Option<f64>,
        /// Write timeline.csv while the run goes instead of keeping the timeline in memory,
        /// for synthetic groups far beyond 2,000 instances (needs --out). Writes timeline.csv,
        /// describe.json, summary.json and responses.jsonl; timeline.jsonl, timeline.svg and
        /// the invariant check need the timeline in memory and are skipped.
        #[arg(long, requires = "out")]
        stream: bool,
    },
    /// Parse and check a scenario and print the batch plan of its first StartInstanceRefresh,
    /// without running the refresh.
    Validate {
        scenario: PathBuf,
        /// Change a setting before validating (as `run --set`).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
    /// Check the refresh invariants on a timeline (CSV or JSONL, from refreshsim or elsewhere)
    /// or on DescribeRefreshActivities responses (one JSON response, or JSONL polled over time).
    /// Exit 1 when an invariant is violated.
    Check {
        /// timeline.csv, timeline.jsonl, describe.json, responses.jsonl, or a .jsonl of Describe
        /// responses (the format is read from the content, whatever the file is named).
        path: PathBuf,
        /// With a timeline: a DescribeRefreshActivities response (e.g. describe.json) to compare
        /// with the timeline's end state (INV-DESCRIBE-AGREES).
        #[arg(long, value_name = "DESCRIBE_JSON")]
        describe: Option<PathBuf>,
    },
    /// Capacity planning: run a scenario over a grid of settings × many seeds, in parallel;
    /// write runs.csv, summary.csv, summary.json and charts; print a summary table.
    Sweep {
        /// Scenario file (TOML or JSON); its `[sweep]` section is the default grid.
        scenario: PathBuf,
        /// A setting and its values: `KEY=V1,V2,...` or `KEY=A..=B:STEP`, e.g.
        /// `RollingUpdateSettings.BatchNumber=5..=50:5`, `MaxSurge=0,batch/2,batch`,
        /// `faults.reinstall_failure_rate=0.01,0.02`, `group.size=500,1000` (repeatable;
        /// replaces the file's `[sweep]` grid).
        #[arg(long, value_name = "KEY=VALUES")]
        vary: Vec<String>,
        /// Runs per variant (default: `[sweep] runs`, else 100).
        #[arg(long)]
        runs: Option<u32>,
        /// Sweep seed; run i of every variant gets the same seed derived from it
        /// (default: `[sweep] seed`, else the scenario's seed).
        #[arg(long)]
        seed: Option<u64>,
        /// Worker threads (default: all cores). Results do not depend on it.
        #[arg(long)]
        jobs: Option<usize>,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        /// Threshold for "time below floor", as a fraction of the pre-refresh in-service count
        /// (default: `[sweep] floor`, else the scenario's `capacity_floor`, else 0.8).
        #[arg(long)]
        floor: Option<f64>,
        /// The variant others are compared with: its number or `KEY=VALUE,...` (default 0).
        #[arg(long)]
        baseline: Option<String>,
        /// Run only slice K of N of the sweep (K in 1..=N); combine with `refreshsim merge`.
        #[arg(long, value_name = "K/N")]
        shard: Option<String>,
        /// Continue an interrupted sweep in --out, keeping its finished chunks.
        #[arg(long)]
        resume: bool,
        /// No progress, no table.
        #[arg(long, short)]
        quiet: bool,
        /// Stop after this many chunks, as if interrupted (for testing --resume).
        #[arg(long, hide = true)]
        stop_after_chunks: Option<u32>,
    },
    /// Combine the output directories of `sweep --shard` runs into the files one unsharded
    /// sweep writes.
    Merge {
        /// Shard output directories.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Output directory for the merged runs.csv, summary.csv, summary.json and charts.
        #[arg(long)]
        out: PathBuf,
        /// Print nothing but errors (no summary table).
        #[arg(long, short)]
        quiet: bool,
    },
    /// Serve the refresh APIs over HTTP (Tencent Cloud API 3.0, as the SDKs and tccli send it)
    /// on the scenario's world, for testing automation without a cloud account.
    Serve(crate::serve::ServeArgs),
}

pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                EXIT_BAD_INPUT
            } else {
                EXIT_OK
            };
            let _ = e.print();
            return code;
        }
    };
    match cli.command {
        None => match parse_scenario(DEFAULT_SCENARIO_NAME, DEFAULT_SCENARIO) {
            Ok(scenario) => run_command(&scenario, None, None, false),
            Err(e) => fail(&e.to_string()),
        },
        Some(Command::Run {
            scenario,
            seed,
            out,
            quiet,
            set,
            floor,
            stream,
        }) => match load_with_settings(&scenario, &set).and_then(|mut scenario| {
            if let Some(f) = floor {
                scenario.floor_permille = crate::sweep::exec::floor_permille(f)?;
            }
            Ok(scenario)
        }) {
            Ok(scenario) => match out {
                Some(dir) if stream => run_streamed_command(&scenario, seed, &dir, quiet),
                out => run_command(&scenario, seed, out.as_deref(), quiet),
            },
            Err(e) => fail(&e),
        },
        Some(Command::Validate { scenario, set }) => match load_with_settings(&scenario, &set) {
            Ok(scenario) => validate_command(&scenario),
            Err(e) => fail(&e),
        },
        Some(Command::Check { path, describe }) => {
            crate::check_cli::check_command(&path, describe.as_deref())
        }
        Some(Command::Sweep {
            scenario,
            vary,
            runs,
            seed,
            jobs,
            out,
            floor,
            baseline,
            shard,
            resume,
            quiet,
            stop_after_chunks,
        }) => crate::sweep::command::sweep_command(crate::sweep::command::SweepArgs {
            scenario,
            grid: crate::sweep::exec::GridArgs {
                vary,
                runs,
                seed,
                floor,
                baseline,
            },
            jobs,
            out,
            shard,
            resume,
            quiet,
            stop_after_chunks,
        }),
        Some(Command::Merge { dirs, out, quiet }) => {
            crate::sweep::command::merge_command(&dirs, &out, quiet)
        }
        Some(Command::Serve(args)) => crate::serve::serve_main(args),
    }
}

/// Loads a scenario and applies `--set` settings.
fn load_with_settings(path: &Path, settings: &[String]) -> Result<Scenario, String> {
    let base = load_scenario(path).map_err(|e| e.to_string())?;
    let overrides = settings
        .iter()
        .map(|text| Override::parse(text).map_err(|m| format!("--set {text}: {m}")))
        .collect::<Result<Vec<_>, _>>()?;
    if overrides.is_empty() {
        return Ok(base);
    }
    with_overrides(&base, &overrides).map_err(|e: ScenarioError| e.to_string())
}

fn fail(message: &str) -> i32 {
    eprintln!("error: {message}");
    EXIT_BAD_INPUT
}

fn run_command(scenario: &Scenario, seed: Option<u64>, out: Option<&Path>, quiet: bool) -> i32 {
    let seed = seed.unwrap_or(scenario.seed);
    // The timeline is always kept: every run is checked against the invariants.
    let run = match run_scenario(scenario, seed, true) {
        Ok(run) => run,
        Err(e) => return fail(&format!("{}: {e}", scenario.source_name)),
    };
    if let Some(dir) = out {
        crate::output::remove_stale_temporaries(dir, |name| RUN_OUTPUTS.contains(&name));
        let files = match run_files(scenario, &run) {
            Ok(files) => files,
            Err(e) => return fail(&format!("cannot render outputs: {e}")),
        };
        match write_atomically(dir, &files) {
            Ok(written) => {
                if !quiet {
                    let names: Vec<String> = written
                        .iter()
                        .map(|p| {
                            p.file_name()
                                .unwrap_or_default()
                                .to_string_lossy()
                                .into_owned()
                        })
                        .collect();
                    eprintln!("wrote {} to {}", names.join(", "), dir.display());
                }
            }
            Err(e) => return fail(&format!("cannot write outputs to {}: {e}", dir.display())),
        }
    }
    if !quiet {
        print!("{}", summary_text(&run, &run.meta.scenario_name));
    }
    if run.expectations_hold() {
        EXIT_OK
    } else {
        EXIT_EXPECTATION_FAILED
    }
}

/// `run --stream`: the timeline goes to a temporary file in DIR as it is produced; the other
/// outputs are rendered at the end, and every file is renamed into place only when all are
/// whole (or removed on failure), as `write_atomically` does.
fn run_streamed_command(scenario: &Scenario, seed: Option<u64>, dir: &Path, quiet: bool) -> i32 {
    let seed = seed.unwrap_or(scenario.seed);
    let temp = dir.join(crate::output::temporary_name("timeline.csv"));
    crate::output::remove_stale_temporaries(dir, |name| RUN_OUTPUTS.contains(&name));
    let file = match std::fs::create_dir_all(dir).and_then(|()| std::fs::File::create(&temp)) {
        Ok(file) => std::io::BufWriter::new(file),
        Err(e) => return fail(&format!("cannot write outputs to {}: {e}", dir.display())),
    };
    let remove_temp = || {
        let _ = std::fs::remove_file(&temp);
    };
    let streamed = match crate::run::run_streamed(scenario, seed, file) {
        Ok(streamed) => streamed,
        Err(e) => {
            remove_temp();
            return fail(&format!("{}: {e}", scenario.source_name));
        }
    };
    let hash = match streamed.out.and_then(|(file, hash)| {
        let file = file.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        Ok(hash)
    }) {
        Ok(hash) => hash,
        Err(e) => {
            remove_temp();
            return fail(&format!("cannot write {}: {e}", temp.display()));
        }
    };
    let run = streamed.result;
    let files = match run_files_without_timeline(scenario, &run, Some(&hash)) {
        Ok(files) => files,
        Err(e) => {
            remove_temp();
            return fail(&format!("cannot render outputs: {e}"));
        }
    };
    if let Err(e) =
        write_atomically(dir, &files).and_then(|_| std::fs::rename(&temp, dir.join("timeline.csv")))
    {
        remove_temp();
        return fail(&format!("cannot write outputs to {}: {e}", dir.display()));
    }
    if !quiet {
        eprintln!(
            "wrote timeline.csv ({} rows, streamed), {} to {}",
            streamed.rows,
            files
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            dir.display()
        );
        eprintln!(
            "not written with --stream: timeline.jsonl, timeline.svg; invariants not checked \
             (`refreshsim check {}` checks the timeline)",
            dir.join("timeline.csv").display()
        );
        print!("{}", summary_text(&run, &run.meta.scenario_name));
    }
    if run.expectations_hold() {
        EXIT_OK
    } else {
        EXIT_EXPECTATION_FAILED
    }
}

/// Renders every output file of a run in memory.
pub fn run_files(scenario: &Scenario, run: &RunResult) -> std::io::Result<Files> {
    let timeline = run
        .timeline
        .as_ref()
        .ok_or_else(|| std::io::Error::other("the run kept no timeline"))?;
    let mut csv = Vec::new();
    timeline.write_csv(&run.meta, &mut csv)?;
    let mut jsonl = Vec::new();
    timeline.write_jsonl(&run.meta, &mut jsonl)?;
    let mut files = vec![
        ("timeline.csv".into(), csv),
        ("timeline.jsonl".into(), jsonl),
    ];
    files.extend(run_files_without_timeline(scenario, run, None)?);
    files.push((
        "timeline.svg".into(),
        crate::report::svg::timeline_svg(run).into_bytes(),
    ));
    Ok(files)
}

/// Every file `run --out` writes (`run --stream` writes all but timeline.jsonl, timeline.svg).
const RUN_OUTPUTS: [&str; 6] = [
    "timeline.csv",
    "timeline.jsonl",
    "describe.json",
    "summary.json",
    "responses.jsonl",
    "timeline.svg",
];

/// The outputs that need no timeline: describe.json, summary.json, responses.jsonl.
/// `streamed_timeline_sha256` is the hash of a timeline that was streamed, not kept: the summary
/// names it as it would name a kept one's.
fn run_files_without_timeline(
    scenario: &Scenario,
    run: &RunResult,
    streamed_timeline_sha256: Option<&str>,
) -> std::io::Result<Files> {
    let meta = json!({
        "tool": "refreshsim",
        "version": run.meta.version,
        "seed": run.meta.seed,
        "scenario": run.meta.scenario_name,
        "scenario_sha256": run.meta.scenario_sha256,
    });
    let mut summary = summary_json(run, scenario.epoch);
    if let Value::Object(map) = &mut summary {
        if let Some(hash) = streamed_timeline_sha256 {
            map.insert("timeline_sha256".into(), Value::from(hash));
        }
        map.insert("_refreshsim".into(), meta.clone());
    }
    // D9: a first header line names version, seed and scenario hash, as the other outputs do;
    // every later line is one API call.
    let mut responses = Vec::new();
    serde_json::to_writer(&mut responses, &json!({ "_refreshsim": meta }))?;
    responses.push(b'\n');
    for call in &run.calls {
        let line = json!({
            "time_ms": call.time.as_ms(),
            "time": scenario.epoch.render(call.time),
            "id": call.id,
            "action": call.action.as_str(),
            "request": call.request,
            "response": call.response,
        });
        serde_json::to_writer(&mut responses, &line)?;
        responses.push(b'\n');
    }
    let pretty = |v: &Value| -> std::io::Result<Vec<u8>> {
        let mut bytes = serde_json::to_vec_pretty(v)?;
        bytes.push(b'\n');
        Ok(bytes)
    };
    // Rendered from the world's structs: without a JSON tree of the response, the largest
    // thing in memory for a synthetic group of a million instances.
    let describe = crate::run::final_describe_pretty(&run.world, run.meta.seed, &meta);
    Ok(vec![
        ("describe.json".into(), describe),
        ("summary.json".into(), pretty(&summary)?),
        ("responses.jsonl".into(), responses),
    ])
}

fn validate_command(scenario: &Scenario) -> i32 {
    println!(
        "scenario {:?} is valid ({})",
        scenario.name, scenario.source_name
    );
    if !scenario.overrides.is_empty() {
        println!("with {}", scenario.overrides.join(", "));
    }
    println!(
        "group {}: {} instances, {} happenings, seed {}",
        scenario.world.group_id,
        scenario.world.instances.len(),
        scenario.happenings.len(),
        scenario.seed
    );
    match dry_run_first_start(scenario) {
        Ok(None) => {
            println!("no StartInstanceRefresh action: nothing to plan");
            EXIT_OK
        }
        Ok(Some(dry)) => {
            print!("{}", plan_text(&dry));
            EXIT_OK
        }
        Err(e) => fail(&e.to_string()),
    }
}

/// The batch plan the first Start would get (OQ-1–OQ-3).
fn plan_text(dry: &DryStart) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "plan of {} at +{}:",
        dry.origin,
        format_duration_ms(dry.at.as_ms())
    );
    match &dry.result {
        Err(e) => {
            let _ = writeln!(
                out,
                "  StartInstanceRefresh would be refused: {}: {}",
                e.code, e.message
            );
        }
        Ok(plan) => {
            let s = &plan.settings;
            let _ = writeln!(
                out,
                "  {} instances in {} batches (BatchPause {}, FailProcess {}, MaxSurge {})",
                plan.batches.iter().map(Vec::len).sum::<usize>(),
                plan.batches.len(),
                s.batch_pause,
                s.fail_process,
                s.max_surge
            );
            for (b, ids) in plan.batches.iter().enumerate() {
                let shown = if ids.len() > 12 {
                    format!(
                        "{} … {} ({} instances)",
                        ids[..6].join(", "),
                        ids[ids.len() - 3..].join(", "),
                        ids.len()
                    )
                } else {
                    ids.join(", ")
                };
                let _ = writeln!(out, "  batch {:>3}: {shown}", b + 1);
            }
        }
    }
    out
}
