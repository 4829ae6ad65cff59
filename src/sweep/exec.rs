//! Setting a sweep up (grid, plan, one checked scenario per variant) and running it: chunks on a
//! rayon pool, one thread per run, each finished chunk written at once; then, when the
//! directory holds every chunk, the final outputs.

use super::grid::{Axis, Variant, baseline_text, expand, find_variant};
use super::plan::{Chunk, MAX_RUNS, MAX_TOTAL_RUNS, Plan, Shard};
use super::progress::Progress;
use super::row::{RunRow, replay_command};
use super::store;
use crate::run::{VERSION, dry_run_first_start, run_digest, with_overrides};
use crate::scenario::{Scenario, locate};
use crate::sim::Prepared;
use rayon::prelude::*;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// Runs per variant when neither `--runs` nor `[sweep] runs` says.
pub const DEFAULT_RUNS: u32 = 100;

/// The grid as given on the command line; each field overrides the `[sweep]` section.
#[derive(Debug, Clone, Default)]
pub struct GridArgs {
    pub vary: Vec<String>,
    pub runs: Option<u32>,
    pub seed: Option<u64>,
    pub floor: Option<f64>,
    pub baseline: Option<String>,
}

/// A sweep ready to run: its plan and each variant's checked scenario.
#[derive(Debug)]
pub struct Setup {
    pub plan: Plan,
    pub scenarios: Vec<Scenario>,
}

/// Builds and checks everything before any run: keys, values, every variant's scenario and the
/// first Start of each (a variant Tencent would refuse is an error here, not 100 failed runs).
pub fn setup(scenario_path: &str, base: &Scenario, args: &GridArgs) -> Result<Setup, String> {
    let section = base.sweep.clone().unwrap_or_default();
    let in_file = |field: &str, message: &str| {
        let source = &base.source;
        match locate::locate(source.body(), source.is_json, field) {
            Some(p) => format!(
                "{}:{}:{}: {field}: {message}",
                source.name, p.line, p.column
            ),
            None => format!("{}: {field}: {message}", source.name),
        }
    };
    let axes: Vec<Axis> = if args.vary.is_empty() {
        let mut axes = Vec::new();
        for (i, entry) in section.vary.iter().enumerate() {
            let (axis, fields) = Axis::from_entry(entry, &format!("sweep.vary[{i}]"))
                .map_err(|(field, m)| in_file(&field, &m))?;
            // Each value alone, so a bad one is reported where it is written.
            for (option, field) in axis.options.iter().zip(&fields) {
                with_overrides(base, std::slice::from_ref(option))
                    .map_err(|e| in_file(field, &e.message))?;
            }
            axes.push(axis);
        }
        axes
    } else {
        args.vary
            .iter()
            .map(|text| {
                Axis::parse(text).map_err(|m| {
                    use crate::scenario::bounds::{cut_argument, readable_message};
                    format!("--vary {}: {}", cut_argument(text), readable_message(&m))
                })
            })
            .collect::<Result<_, _>>()?
    };
    let variants = expand(&axes)?;
    let runs = match (args.runs, section.runs) {
        (Some(r), _) => u64::from(r),
        (None, Some(r)) => r,
        (None, None) => u64::from(DEFAULT_RUNS),
    };
    if !(1..=u64::from(MAX_RUNS)).contains(&runs) {
        return Err(format!("--runs: expected 1..={MAX_RUNS}, found {runs}"));
    }
    let runs = runs as u32;
    if u64::from(runs) * variants.len() as u64 > MAX_TOTAL_RUNS {
        return Err(format!(
            "{} variants × {runs} runs is more than {MAX_TOTAL_RUNS} runs",
            variants.len()
        ));
    }
    let floor_permille = match args.floor.or(section.floor) {
        None => base.floor_permille,
        Some(f) => floor_permille(f)?,
    };
    // The file's baseline names a variant of the file's grid; a `--vary` grid replaces both.
    let file_baseline = if args.vary.is_empty() {
        section.baseline.as_ref()
    } else {
        None
    };
    let baseline = match (&args.baseline, file_baseline) {
        (Some(text), _) => find_variant(&variants, text).map_err(|m| format!("--baseline: {m}"))?,
        (None, Some(value)) => {
            let text = baseline_text(value).ok_or_else(|| {
                in_file(
                    "sweep.baseline",
                    "expected a variant number or \"KEY=VALUE, ...\"",
                )
            })?;
            find_variant(&variants, &text).map_err(|m| in_file("sweep.baseline", &m))?
        }
        (None, None) => 0,
    };
    let scenarios = variants
        .par_iter()
        .map(|variant| variant_scenario(base, variant))
        .collect::<Result<Vec<_>, _>>()?;
    let plan = Plan {
        scenario_path: scenario_path.to_string(),
        scenario_name: base.name.clone(),
        scenario_sha256: base.source_sha256.clone(),
        version: VERSION.to_string(),
        axes,
        variants,
        runs,
        seed: args.seed.or(section.seed).unwrap_or(base.seed),
        floor_permille,
        scenario_floor_permille: base.floor_permille,
        baseline,
    };
    Ok(Setup { plan, scenarios })
}

/// `--floor F` (of `sweep` and `run`): a fraction of the pre-refresh in-service count, kept
/// in permille.
pub fn floor_permille(f: f64) -> Result<u32, String> {
    if (0.0..=1.0).contains(&f) {
        Ok((f * 1000.0).round() as u32)
    } else {
        Err(format!(
            "--floor: expected a fraction between 0 and 1, found {f}"
        ))
    }
}

/// Permille as the fraction `--floor` takes: 900 → `0.9`.
pub fn floor_text(permille: u32) -> String {
    format!("{}", f64::from(permille) / 1000.0)
}

fn variant_scenario(base: &Scenario, variant: &Variant) -> Result<Scenario, String> {
    let name = || format!("variant {} ({})", variant.id, variant.label());
    let scenario =
        with_overrides(base, &variant.overrides).map_err(|e| format!("{}: {e}", name()))?;
    match dry_run_first_start(&scenario) {
        Err(e) => Err(format!("{}: {e}", name())),
        Ok(None) => Err(format!(
            "{}: the scenario has no StartInstanceRefresh action; a sweep measures refreshes",
            base.source_name
        )),
        Ok(Some(dry)) => match dry.result {
            Ok(_) => Ok(scenario),
            Err(e) => Err(format!(
                "{}: StartInstanceRefresh would be refused: {}: {}",
                name(),
                e.code,
                e.message
            )),
        },
    }
}

#[derive(Debug, Clone)]
pub struct ExecOptions {
    pub out: PathBuf,
    pub jobs: usize,
    pub shard: Shard,
    pub resume: bool,
    pub quiet: bool,
    /// Stop after this many chunks, as an interruption would (tests of `--resume`).
    pub stop_after_chunks: Option<u32>,
}

#[derive(Debug)]
pub enum Outcome {
    /// Every chunk is done and the outputs are written.
    Finished {
        files: Vec<PathBuf>,
        table: String,
        ran: u64,
        /// Variants some of whose runs stopped at a run bound.
        warnings: Vec<String>,
    },
    /// This shard's chunks are done; others are still missing.
    ShardDone { ran: u64, missing: String },
    /// Stopped early; the finished chunks are kept for `--resume`.
    Interrupted { done: usize, total: usize },
}

/// Runs the sweep's chunks that this shard owns and that are not done yet.
pub fn execute(setup: &Setup, opts: &ExecOptions, stop: &AtomicBool) -> Result<Outcome, String> {
    let plan = &setup.plan;
    let done = store::prepare(&opts.out, plan, opts.resume)?;
    let chunks = plan.chunks();
    let todo: Vec<Chunk> = chunks
        .iter()
        .filter(|c| opts.shard.owns(c) && !done.contains(&c.number))
        .copied()
        .collect();
    let owned = chunks.iter().filter(|c| opts.shard.owns(c)).count();
    let total_runs: u64 = todo.iter().map(|c| u64::from(c.count)).sum();
    let progress = Progress::new(total_runs, opts.quiet);
    let finished = AtomicU32::new(0);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs)
        .build()
        .map_err(|e| format!("cannot start {} worker threads: {e}", opts.jobs))?;
    pool.install(|| {
        todo.par_iter().try_for_each(|chunk| {
            if stop.load(Ordering::SeqCst) {
                return Ok(());
            }
            let Some(rows) = run_chunk(setup, chunk, stop)? else {
                return Ok(());
            };
            store::write_chunk(&opts.out, plan, chunk, &rows)
                .map_err(|e| format!("cannot write {}: {e}", chunk.file_name()))?;
            progress.add(u64::from(chunk.count));
            let n = finished.fetch_add(1, Ordering::SeqCst) + 1;
            if opts.stop_after_chunks.is_some_and(|limit| n >= limit) {
                stop.store(true, Ordering::SeqCst);
            }
            Ok::<(), String>(())
        })
    })?;
    progress.finish();
    let finished = finished.load(Ordering::SeqCst) as usize;
    if stop.load(Ordering::SeqCst) && finished < todo.len() {
        let owned_done = done
            .iter()
            .filter(|n| opts.shard.owns(&chunks[**n as usize]))
            .count();
        return Ok(Outcome::Interrupted {
            done: owned_done + finished,
            total: owned,
        });
    }
    let ran = total_runs;
    match store::collect(std::slice::from_ref(&opts.out), plan) {
        Ok(rows) => {
            let (files, stats) = store::final_files(plan, &rows);
            let written = crate::output::write_atomically(&opts.out, &files)
                .map_err(|e| format!("cannot write outputs to {}: {e}", opts.out.display()))?;
            let table = super::summary::summary_table(&super::Report {
                plan,
                stats: &stats,
            });
            Ok(Outcome::Finished {
                files: written,
                table,
                ran,
                warnings: bound_warnings(plan, &rows),
            })
        }
        Err(missing) if opts.shard != Shard::WHOLE => Ok(Outcome::ShardDone { ran, missing }),
        Err(e) => Err(e),
    }
}

/// Runs one chunk; `None` when stopped part-way (nothing is written then).
fn run_chunk(
    setup: &Setup,
    chunk: &Chunk,
    stop: &AtomicBool,
) -> Result<Option<Vec<RunRow>>, String> {
    let plan = &setup.plan;
    let variant = &plan.variants[chunk.variant as usize];
    let prepared = Prepared::new(&setup.scenarios[chunk.variant as usize])
        .map_err(|e| format!("variant {} ({}): {e}", variant.id, variant.label()))?;
    let mut rows = Vec::with_capacity(chunk.count as usize);
    for run in chunk.first..chunk.first + chunk.count {
        if stop.load(Ordering::SeqCst) {
            return Ok(None);
        }
        let seed = plan.run_seed(run);
        let digest = run_digest(&prepared, seed, plan.floor_permille).map_err(|e| {
            format!(
                "variant {} run {run} (seed {seed}): {e}; replay it with: {}",
                variant.id,
                replay_command(&plan.scenario_path, seed, variant, plan.replay_floor())
            )
        })?;
        rows.push(RunRow::from_digest(chunk.variant, run, seed, &digest));
    }
    Ok(Some(rows))
}

/// One line per variant with runs that hit a run bound: their numbers describe the state at
/// the bound (a refresh paused for ever, retried for ever), not a finished refresh.
fn bound_warnings(plan: &Plan, rows: &[Vec<RunRow>]) -> Vec<String> {
    plan.variants
        .iter()
        .zip(rows)
        .filter_map(|(variant, rows)| {
            let hit: Vec<&RunRow> = rows.iter().filter(|r| !r.limit.is_empty()).collect();
            let first = hit.first()?;
            Some(format!(
                "variant {} ({}): {} of {} runs stopped at a run bound ({}) before every refresh ended; see the `limit` column and replay one, e.g. run {}",
                variant.id,
                variant.short_label(),
                hit.len(),
                rows.len(),
                first.limit,
                first.run
            ))
        })
        .collect()
}
