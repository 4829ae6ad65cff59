//! The commands layer: the command line (clap), each command's messages and its exit code.
//! Library modules return typed errors and never print or exit; this layer turns their results
//! into text on stdout/stderr and into exit codes: 0 when every expectation holds, 1 when one
//! fails (or `check` finds a violation), 2 on bad input (nothing is written then), 130 for an
//! interrupted sweep.

mod advise;
mod check;
mod fit;
mod import;
mod run;
mod serve;
mod sweep;
mod validate;

use crate::run::with_overrides;
use crate::scenario::overrides::Override;
use crate::scenario::{Scenario, ScenarioError, load_scenario, parse_scenario};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};

/// The scenario `refreshsim` runs with no arguments, embedded so it works from any directory.
pub const DEFAULT_SCENARIO: &str = include_str!("../../scenarios/tencent-documented-example.toml");
pub const DEFAULT_SCENARIO_NAME: &str = "scenarios/tencent-documented-example.toml";

pub const EXIT_OK: i32 = 0;
pub const EXIT_EXPECTATION_FAILED: i32 = 1;
pub const EXIT_BAD_INPUT: i32 = 2;
/// Exit code of an interrupted sweep (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: i32 = 130;

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
        /// Directory for timeline.csv, timeline.jsonl, describe.json, summary.json, responses.jsonl, timeline.svg, report.html.
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
        /// describe.json, summary.json and responses.jsonl; timeline.jsonl, timeline.svg, report.html and
        /// the invariant check need the timeline in memory and are skipped.
        #[arg(long, requires = "out")]
        stream: bool,
        /// Time labels of timeline.svg: offsets from the run start, or UTC clock times from
        /// the scenario's start instant.
        #[arg(long, default_value = "relative", value_name = "relative|utc")]
        svg_time: String,
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
    /// Estimate timing and failure parameters from a group's past refreshes: its
    /// DescribeRefreshActivities responses (one per file, or JSONL polled over time, or a run's
    /// responses.jsonl). Writes fit.json (every family tried, intervals, records used and
    /// skipped), fit.toml ([timing] and [faults] to paste into a scenario) and fit.svg.
    Fit {
        /// DescribeRefreshActivities responses: the API 3.0 envelope, tccli's output or the
        /// Python SDK's to_json_string(); give polls before the final response.
        #[arg(required = true, value_name = "DESCRIBE_JSON")]
        histories: Vec<PathBuf>,
        /// DescribeAutoScalingActivities responses for the LastActivityIds (orders retried
        /// attempts by their times).
        #[arg(long = "scaling-activities", value_name = "ACTIVITIES_JSON")]
        scaling_activities: Vec<PathBuf>,
        /// Output directory for fit.json, fit.toml and fit.svg.
        #[arg(long)]
        out: PathBuf,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Build a scenario from a real group's API responses (DescribeAutoScalingGroups,
    /// DescribeAutoScalingInstances pages, DescribeLaunchConfigurations, optionally
    /// DescribeLifecycleHooks, CVM DescribeInstances and past DescribeRefreshActivities).
    Import(import::ImportArgs),
    /// Serve the refresh APIs over HTTP (Tencent Cloud API 3.0, as the SDKs and tccli send it)
    /// on the scenario's world, for testing automation without a cloud account.
    Serve(serve::ServeArgs),
    /// Recommend refresh settings (BatchNumber, MaxSurge, ...) that keep a capacity floor,
    /// finish by a deadline and stay within a surge budget at a confidence; write advice.json
    /// (with the StartInstanceRefresh body) and advice.svg. Exit 1 when no setting meets them.
    Advise(advise::AdviseArgs),
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
            Ok(scenario) => run::run_command(&scenario, None, None, false, Default::default()),
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
            svg_time,
        }) => match crate::report::svg::TimeLabels::parse(&svg_time)
            .map_err(|m| format!("--svg-time: {m}"))
            .and_then(|labels| Ok((labels, load_with_settings(&scenario, &set)?)))
            .and_then(|(labels, mut scenario)| {
                if let Some(f) = floor {
                    scenario.floor_permille = crate::sweep::exec::floor_permille(f)?;
                }
                Ok((labels, scenario))
            }) {
            Ok((labels, scenario)) => match out {
                Some(dir) if stream => run::run_streamed_command(&scenario, seed, &dir, quiet),
                out => run::run_command(&scenario, seed, out.as_deref(), quiet, labels),
            },
            Err(e) => fail(&e),
        },
        Some(Command::Validate { scenario, set }) => match load_with_settings(&scenario, &set) {
            Ok(scenario) => validate::validate_command(&scenario),
            Err(e) => fail(&e),
        },
        Some(Command::Check { path, describe }) => check::check_command(&path, describe.as_deref()),
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
        }) => sweep::sweep_command(sweep::SweepArgs {
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
        Some(Command::Merge { dirs, out, quiet }) => sweep::merge_command(&dirs, &out, quiet),
        Some(Command::Fit {
            histories,
            scaling_activities,
            out,
            quiet,
        }) => fit::fit_command(fit::FitArgs {
            histories,
            scaling_activities,
            out,
            quiet,
        }),
        Some(Command::Import(args)) => import::import_main(args),
        Some(Command::Serve(args)) => serve::serve_main(args),
        Some(Command::Advise(args)) => advise::advise_main(args),
    }
}

/// `--set TEXT: MESSAGE` (or `--vary`), with long values cut to a readable length and their size.
pub(crate) fn setting_error(flag: &str, text: &str, message: &str) -> String {
    use crate::scenario::bounds::{cut_argument, readable_message};
    format!(
        "{flag} {}: {}",
        cut_argument(text),
        readable_message(message)
    )
}

/// Loads a scenario and applies `--set` settings.
fn load_with_settings(path: &Path, settings: &[String]) -> Result<Scenario, String> {
    let base = load_scenario(path).map_err(|e| e.to_string())?;
    let overrides = settings
        .iter()
        .map(|text| Override::parse(text).map_err(|m| setting_error("--set", text, &m)))
        .collect::<Result<Vec<_>, _>>()?;
    if overrides.is_empty() {
        return Ok(base);
    }
    with_overrides(&base, &overrides).map_err(|e: ScenarioError| e.to_string())
}

/// Prints a bad-input error and gives its exit code.
fn fail(message: &str) -> i32 {
    eprintln!("error: {message}");
    EXIT_BAD_INPUT
}

/// The file names of written paths, for the `wrote …` line.
fn names(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|p| {
            p.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        })
        .collect::<Vec<_>>()
        .join(", ")
}
