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
        /// timeline.csv, timeline.jsonl, describe.json, or a .jsonl of Describe responses.
        path: PathBuf,
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
        #[arg(long)]
        out: PathBuf,
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
        }) => match load_with_settings(&scenario, &set) {
            Ok(scenario) => run_command(&scenario, seed, out.as_deref(), quiet),
            Err(e) => fail(&e),
        },
        Some(Command::Validate { scenario, set }) => match load_with_settings(&scenario, &set) {
            Ok(scenario) => validate_command(&scenario),
            Err(e) => fail(&e),
        },
        Some(Command::Check { path }) => crate::check_cli::check_command(&path),
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

/// Renders every output file of a run in memory.
pub fn run_files(scenario: &Scenario, run: &RunResult) -> std::io::Result<Files> {
    let timeline = run
        .timeline
        .as_ref()
        .ok_or_else(|| std::io::Error::other("the run kept no timeline"))?;
    let meta = json!({
        "tool": "refreshsim",
        "version": run.meta.version,
        "seed": run.meta.seed,
        "scenario": run.meta.scenario_name,
        "scenario_sha256": run.meta.scenario_sha256,
    });
    let mut csv = Vec::new();
    timeline.write_csv(&run.meta, &mut csv)?;
    let mut jsonl = Vec::new();
    timeline.write_jsonl(&run.meta, &mut jsonl)?;
    let mut describe = run.describe.clone();
    if let Value::Object(map) = &mut describe {
        map.insert("_refreshsim".into(), meta.clone());
    }
    let mut summary = summary_json(run, scenario.epoch);
    if let Value::Object(map) = &mut summary {
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
    Ok(vec![
        ("timeline.csv".into(), csv),
        ("timeline.jsonl".into(), jsonl),
        ("describe.json".into(), pretty(&describe)?),
        ("summary.json".into(), pretty(&summary)?),
        ("responses.jsonl".into(), responses),
        (
            "timeline.svg".into(),
            crate::report::svg::timeline_svg(run).into_bytes(),
        ),
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
