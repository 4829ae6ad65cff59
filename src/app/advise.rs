//! `refreshsim advise`: which refresh settings to use, given a capacity floor, a deadline and a
//! surge budget held at a confidence (issue 13). Arguments, messages and exit codes; the search
//! is `crate::advise`.

use super::{EXIT_BAD_INPUT, EXIT_EXPECTATION_FAILED, EXIT_OK};
use crate::advise::stats::Objective;
use crate::advise::{DEFAULT_CONFIDENCE, DEFAULT_RUNS, Request, advise, plan, render};
use crate::output::write_atomically;
use crate::scenario::load_scenario;
use std::path::PathBuf;

/// Most worker threads accepted.
const MAX_JOBS: usize = 1024;

#[derive(clap::Args, Debug)]
pub struct AdviseArgs {
    /// Scenario file (TOML or JSON): the group, timings and faults to plan for.
    scenario: PathBuf,
    /// Lowest in-service count allowed during the refresh: a count (`1800`) or a share of the
    /// in-service count before it (`90%`).
    #[arg(long, value_name = "PCT|N")]
    min_in_service: String,
    /// Latest end of the refresh after its start, e.g. `4h`, `90m`.
    #[arg(long, value_name = "DUR")]
    deadline: Option<String>,
    /// Most surge instance-hours (pay-as-you-go instances × hours) allowed, e.g. `0`, `50`.
    #[arg(long, value_name = "INSTANCE_HOURS")]
    max_surge_cost: Option<String>,
    /// What to minimise among the settings that meet every constraint.
    #[arg(long, default_value = "duration", value_name = "duration|surge-cost")]
    objective: String,
    /// Confidence each constraint must hold at (a lower bound on the share of runs meeting it).
    #[arg(long, default_value_t = DEFAULT_CONFIDENCE, value_name = "P")]
    confidence: f64,
    /// Open a setting the scenario fixes, or narrow BatchNumber / MaxSurge: `KEY=V1,V2,...` or
    /// `KEY=A..=B:STEP`, keys as in `sweep --vary` (refresh settings only), e.g.
    /// `--allow FailProcess=AUTO_PAUSE,AUTO_CANCEL`, `--allow BatchNumber=1..=100` (repeatable).
    #[arg(long, value_name = "KEY=V1,V2,...")]
    allow: Vec<String>,
    /// Most runs per setting (random scenarios; an exact scenario needs one).
    #[arg(long, default_value_t = DEFAULT_RUNS)]
    runs: u32,
    /// Worker threads (default: all cores). The advice does not depend on it.
    #[arg(long)]
    jobs: Option<usize>,
    /// Seed of the runs; run i of every setting gets the same seed derived from it (default:
    /// the scenario's seed).
    #[arg(long)]
    seed: Option<u64>,
    /// Output directory for advice.json, advice.svg and report.html.
    #[arg(long)]
    out: PathBuf,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

fn fail(message: &str) -> i32 {
    eprintln!("error: {message}");
    EXIT_BAD_INPUT
}

/// Exit 0 with a recommendation; 1 when no setting meets the constraints (the files then name
/// the closest setting and the constraint it cannot meet); 2 on bad input, a run bound, or
/// outputs that cannot be written (nothing is written then).
pub fn advise_main(args: AdviseArgs) -> i32 {
    let objective = match Objective::parse(&args.objective) {
        Ok(o) => o,
        Err(m) => return fail(&format!("--objective: {m}")),
    };
    let jobs = match args.jobs {
        Some(0) => return fail("--jobs: expected at least 1"),
        Some(j) if j > MAX_JOBS => return fail(&format!("--jobs: at most {MAX_JOBS}")),
        Some(j) => j,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let base = match load_scenario(&args.scenario) {
        Ok(s) => s,
        Err(e) => return fail(&e.to_string()),
    };
    let request = Request {
        scenario_path: args.scenario.display().to_string(),
        min_in_service: args.min_in_service,
        deadline: args.deadline,
        max_surge_cost: args.max_surge_cost,
        objective,
        confidence: args.confidence,
        allow: args.allow,
        runs: args.runs,
        jobs,
        seed: args.seed,
        strategy: crate::advise::Strategy::Smart,
    };
    let checked = match plan(&base, &request) {
        Ok(p) => p,
        Err(e) => return fail(&e.to_string()),
    };
    if !args.quiet {
        eprintln!(
            "advise: {} settings, up to {} runs each, on {jobs} thread{} → {}",
            checked.space.settings.len(),
            checked.rule.runs,
            if jobs == 1 { "" } else { "s" },
            args.out.display()
        );
    }
    let advice = match advise(&base, checked) {
        Ok(a) => a,
        Err(e) => return fail(&e.to_string()),
    };
    let written = match write_atomically(&args.out, &render::files(&advice)) {
        Ok(w) => w,
        Err(e) => return fail(&format!("cannot write to {}: {e}", args.out.display())),
    };
    if !args.quiet {
        print!("{}", render::text(&advice));
        let names: Vec<String> = written
            .iter()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        eprintln!("wrote {} to {}", names.join(", "), args.out.display());
    }
    if advice.feasible {
        EXIT_OK
    } else {
        EXIT_EXPECTATION_FAILED
    }
}
