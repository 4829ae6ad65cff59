//! `refreshsim sweep` and `refreshsim merge`: argument handling, Ctrl-C, messages, exit codes.

use super::{EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_OK, names};
use crate::output::{write_atomically, write_atomically_unsynced};
use crate::scenario::load_scenario;
use crate::sweep::exec::{ExecOptions, GridArgs, Outcome, execute, setup};
use crate::sweep::plan::Shard;
use crate::sweep::store;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Most worker threads accepted.
pub const MAX_JOBS: usize = 1024;

#[derive(Debug, Clone)]
pub struct SweepArgs {
    pub scenario: PathBuf,
    pub grid: GridArgs,
    pub jobs: Option<usize>,
    pub out: PathBuf,
    pub shard: Option<String>,
    pub resume: bool,
    pub quiet: bool,
    pub stop_after_chunks: Option<u32>,
}

fn fail(message: &str) -> i32 {
    eprintln!("error: {message}");
    EXIT_BAD_INPUT
}

pub fn sweep_command(args: SweepArgs) -> i32 {
    let shard = match args.shard.as_deref().map(Shard::parse).transpose() {
        Ok(shard) => shard.unwrap_or(Shard::WHOLE),
        Err(m) => return fail(&format!("--shard: {m}")),
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
    let path = args.scenario.display().to_string();
    let setup = match setup(&path, &base, &args.grid) {
        Ok(s) => s,
        Err(m) => return fail(&m),
    };
    let plan = &setup.plan;
    if !args.quiet {
        eprintln!(
            "sweep: {} variant{} × {} runs = {} runs{} on {jobs} thread{} → {}",
            plan.variants.len(),
            if plan.variants.len() == 1 { "" } else { "s" },
            plan.runs,
            plan.total_runs(),
            if shard == Shard::WHOLE {
                String::new()
            } else {
                format!(" (shard {}/{})", shard.index, shard.count)
            },
            if jobs == 1 { "" } else { "s" },
            args.out.display()
        );
    }
    let stop = Arc::new(AtomicBool::new(false));
    install_stop_handler(stop.clone());
    let opts = ExecOptions {
        out: args.out.clone(),
        jobs,
        shard,
        resume: args.resume,
        quiet: args.quiet,
        stop_after_chunks: args.stop_after_chunks,
    };
    match execute(&setup, &opts, &stop) {
        Err(m) => fail(&m),
        Ok(Outcome::Interrupted { done, total }) => {
            eprintln!(
                "interrupted: {done} of {total} chunks are done and kept in {}; rerun the same command with --resume to continue",
                args.out.display()
            );
            EXIT_INTERRUPTED
        }
        Ok(Outcome::ShardDone { ran, missing }) => {
            if !args.quiet {
                eprintln!(
                    "shard {}/{} done ({ran} runs) in {}; {missing}",
                    shard.index,
                    shard.count,
                    args.out.display()
                );
                eprintln!("combine the shards with: refreshsim merge SHARD_DIR... --out DIR");
            }
            EXIT_OK
        }
        Ok(Outcome::Finished {
            files,
            table,
            ran,
            warnings,
        }) => {
            for w in &warnings {
                eprintln!("warning: {w}");
            }
            if !args.quiet {
                print!("{table}");
                eprintln!(
                    "ran {ran} runs; wrote {} to {}",
                    names(&files),
                    args.out.display()
                );
            }
            EXIT_OK
        }
    }
}

/// First Ctrl-C (or SIGTERM): stop before the next run, keeping every finished chunk; chunks
/// in flight are dropped whole. Second: exit at once (finished chunks are already on disk).
fn install_stop_handler(stop: Arc<AtomicBool>) {
    let result = ctrlc::set_handler(move || {
        if stop.swap(true, Ordering::SeqCst) {
            std::process::exit(EXIT_INTERRUPTED);
        }
        eprintln!("\nstopping: finished chunks are kept; rerun with --resume to continue");
    });
    // Only one handler per process; a second sweep in the same process (tests) keeps the first.
    let _ = result;
}

/// `refreshsim merge SHARD_DIR... --out DIR`: the files an unsharded sweep would write.
pub fn merge_command(dirs: &[PathBuf], out: &Path, quiet: bool) -> i32 {
    let plan = match store::read_shard_plans(dirs) {
        Ok(p) => p,
        Err(m) => return fail(&m),
    };
    let rows = match store::collect(dirs, &plan) {
        Ok(r) => r,
        Err(m) => return fail(&m),
    };
    // The merged directory holds what an unsharded sweep leaves: plan, chunks, outputs; and no
    // temporaries of an earlier, interrupted merge.
    store::remove_output_temporaries(out);
    let mut chunk_files = Vec::new();
    for chunk in plan.chunks() {
        let first = chunk.first as usize;
        let rows = &rows[chunk.variant as usize][first..first + chunk.count as usize];
        chunk_files.push((chunk.file_name(), store::render_chunk(&plan, rows)));
    }
    if let Err(e) = write_atomically_unsynced(&out.join(store::CHUNK_DIR), &chunk_files) {
        return fail(&format!("cannot write chunks to {}: {e}", out.display()));
    }
    let mut plan_bytes = serde_json::to_vec_pretty(&plan.to_json()).expect("serialisable");
    plan_bytes.push(b'\n');
    let (mut files, stats) = store::final_files(&plan, &rows);
    files.insert(0, (store::PLAN_FILE.to_string(), plan_bytes));
    match write_atomically(out, &files) {
        Err(e) => fail(&format!("cannot write outputs to {}: {e}", out.display())),
        Ok(written) => {
            if !quiet {
                print!(
                    "{}",
                    crate::sweep::summary::summary_table(&crate::sweep::Report {
                        plan: &plan,
                        stats: &stats,
                    })
                );
                eprintln!(
                    "merged {} shard directories ({} runs); wrote {} to {}",
                    dirs.len(),
                    plan.total_runs(),
                    names(&written),
                    out.display()
                );
            }
            EXIT_OK
        }
    }
}
