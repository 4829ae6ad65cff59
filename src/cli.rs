//! The command line: `run`, `validate`, and the default demo. Exit codes: 0 when every
//! expectation holds, 1 when one fails, 2 on bad input (nothing is written then).

use crate::api::{Action, ApiOutput};
use crate::output::{Files, write_atomically};
use crate::report::summary::{summary_json, summary_text};
use crate::run::{RunResult, run_scenario};
use crate::scenario::{Scenario, Trigger, What, load_scenario, parse_scenario};
use crate::sim::Simulation;
use crate::time::{SimTime, format_duration_ms};
use crate::timeline::MetricsSink;
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
    },
    /// Parse and check a scenario and print the batch plan of its first StartInstanceRefresh,
    /// without running the refresh.
    Validate { scenario: PathBuf },
    /// Check the refresh invariants on a timeline (CSV or JSONL, from refreshsim or elsewhere)
    /// or on DescribeRefreshActivities responses (one JSON response, or JSONL polled over time).
    /// Exit 1 when an invariant is violated.
    Check {
        /// timeline.csv, timeline.jsonl, describe.json, or a .jsonl of Describe responses.
        path: PathBuf,
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
        }) => match load_scenario(&scenario) {
            Ok(scenario) => run_command(&scenario, seed, out.as_deref(), quiet),
            Err(e) => fail(&e.to_string()),
        },
        Some(Command::Validate { scenario }) => match load_scenario(&scenario) {
            Ok(scenario) => validate_command(&scenario),
            Err(e) => fail(&e.to_string()),
        },
        Some(Command::Check { path }) => crate::check_cli::check_command(&path),
        Some(Command::Serve(args)) => crate::serve::serve_main(args),
    }
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
        print!("{}", summary_text(&run, &scenario.name));
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
    let mut responses = Vec::new();
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
    println!(
        "group {}: {} instances, {} happenings, seed {}",
        scenario.world.group_id,
        scenario.world.instances.len(),
        scenario.happenings.len(),
        scenario.seed
    );
    let start = scenario.happenings.iter().find(|h| {
        matches!(
            h.what,
            What::Api {
                action: Action::StartInstanceRefresh,
                ..
            }
        )
    });
    let Some(start) = start else {
        println!("no StartInstanceRefresh action: nothing to plan");
        return EXIT_OK;
    };
    match plan(scenario, start) {
        Ok(text) => {
            print!("{text}");
            EXIT_OK
        }
        Err(e) => fail(&e),
    }
}

/// The batch plan the first Start would get: the engine runs the happenings due strictly before
/// it (so earlier faults count), then the Start itself, and reads the frozen plan (OQ-1–OQ-3).
fn plan(scenario: &Scenario, start: &crate::scenario::Happening) -> Result<String, String> {
    let mut sink = MetricsSink::new(scenario.floor_permille);
    let mut sim = Simulation::new(scenario, scenario.seed, &mut sink).map_err(|e| e.to_string())?;
    let at = match start.trigger {
        Trigger::At { at_ms } => SimTime(at_ms),
        Trigger::When { .. } => SimTime::ZERO,
    };
    if at.as_ms() > 0 {
        sim.advance_until(SimTime(at.as_ms() - 1), &mut sink)
            .map_err(|e| e.to_string())?;
    }
    let What::Api { body, .. } = &start.what else {
        unreachable!("found by action")
    };
    let mut body = body.clone();
    if let Value::Object(map) = &mut body {
        map.entry("AutoScalingGroupId")
            .or_insert_with(|| Value::String(scenario.world.group_id.clone()));
    }
    let response = sim.submit(Action::StartInstanceRefresh, &body, &mut sink);
    let mut out = String::new();
    use std::fmt::Write;
    let _ = writeln!(
        out,
        "plan of {} at +{}:",
        start.id.as_deref().unwrap_or(&start.origin),
        format_duration_ms(at.as_ms())
    );
    match &response.result {
        Err(e) => {
            let _ = writeln!(
                out,
                "  StartInstanceRefresh would be refused: {}: {}",
                e.code, e.message
            );
        }
        Ok(ApiOutput::RefreshActivityId(_)) => {
            let world = sim.world();
            let act = world.activities.last().expect("Start created an activity");
            let s = &act.settings;
            let _ = writeln!(
                out,
                "  {} instances in {} batches (BatchPause {}, FailProcess {}, MaxSurge {})",
                act.items.len(),
                act.batches.len(),
                s.batch_pause,
                s.fail_process,
                s.max_surge
            );
            for (b, _) in act.batches.iter().enumerate() {
                let ids: Vec<&str> = act
                    .batch_items(b as u32)
                    .map(|i| {
                        world
                            .names
                            .get(world.instances[act.items[i].instance as usize].id)
                    })
                    .collect();
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
        Ok(_) => unreachable!("Start returns an activity id"),
    }
    Ok(out)
}
