//! `refreshsim run`: one scenario, its summary printed, its files written (in memory first, or
//! with `--stream` the timeline streamed to a temporary file), exit 1 when an expectation or an
//! invariant fails.

use super::{EXIT_EXPECTATION_FAILED, EXIT_OK, fail, names};
use crate::output::write_atomically;
use crate::report::files::{RUN_OUTPUTS, responses_header, run_files_with, streamed_run_files};
use crate::report::summary::summary_text;
use crate::report::svg::{SvgOptions, TimeLabels};
use crate::run::CallStream;
use crate::run::run_scenario;
use crate::scenario::Scenario;
use std::io::Write;
use std::path::Path;

pub fn run_command(
    scenario: &Scenario,
    seed: Option<u64>,
    out: Option<&Path>,
    quiet: bool,
    time_labels: TimeLabels,
) -> i32 {
    let seed = seed.unwrap_or(scenario.seed);
    // The timeline is always kept: every run is checked against the invariants.
    let run = match run_scenario(scenario, seed, true) {
        Ok(run) => run,
        Err(e) => return fail(&format!("{}: {e}", scenario.source_name)),
    };
    if let Some(dir) = out {
        crate::output::remove_stale_temporaries(dir, |name| RUN_OUTPUTS.contains(&name));
        let svg = SvgOptions {
            time_labels,
            ..SvgOptions::of(scenario)
        };
        let files = match run_files_with(scenario, &run, &svg) {
            Ok(files) => files,
            Err(e) => return fail(&format!("cannot render outputs: {e}")),
        };
        match write_atomically(dir, &files) {
            Ok(written) => {
                if !quiet {
                    eprintln!("wrote {} to {}", names(&written), dir.display());
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
pub fn run_streamed_command(
    scenario: &Scenario,
    seed: Option<u64>,
    dir: &Path,
    quiet: bool,
) -> i32 {
    let seed = seed.unwrap_or(scenario.seed);
    let temp = dir.join(crate::output::temporary_name("timeline.csv"));
    let calls_temp = dir.join(crate::output::temporary_name("responses.jsonl"));
    crate::output::remove_stale_temporaries(dir, |name| RUN_OUTPUTS.contains(&name));
    let remove_temps = || {
        let _ = std::fs::remove_file(&temp);
        let _ = std::fs::remove_file(&calls_temp);
    };
    let created = std::fs::create_dir_all(dir).and_then(|()| {
        let timeline = std::fs::File::create(&temp)?;
        let mut calls = std::fs::File::create(&calls_temp)?;
        calls.write_all(&responses_header(&crate::run::meta_for(scenario, seed)))?;
        // A second handle to sync the calls' file once the run is over (the run owns the
        // buffered writer).
        let calls_sync = calls.try_clone()?;
        Ok((timeline, calls, calls_sync))
    });
    let (file, calls_file, calls_sync) = match created {
        Ok(files) => files,
        Err(e) => {
            remove_temps();
            return fail(&format!("cannot write outputs to {}: {e}", dir.display()));
        }
    };
    let calls = CallStream::new(
        Box::new(std::io::BufWriter::new(calls_file)),
        scenario.epoch,
    );
    let streamed = match crate::run::run_streamed(
        scenario,
        seed,
        std::io::BufWriter::new(file),
        Some(calls),
    ) {
        Ok(streamed) => streamed,
        Err(e) => {
            remove_temps();
            return fail(&format!("{}: {e}", scenario.source_name));
        }
    };
    let calls_written = match streamed.calls_out {
        Some(Ok(_)) => calls_sync.sync_all(),
        Some(Err(e)) => Err(e),
        None => Err(std::io::Error::other("the calls were not streamed")),
    };
    if let Err(e) = calls_written {
        remove_temps();
        return fail(&format!("cannot write {}: {e}", calls_temp.display()));
    }
    let hash = match streamed.out.and_then(|(file, hash)| {
        let file = file.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        Ok(hash)
    }) {
        Ok(hash) => hash,
        Err(e) => {
            remove_temps();
            return fail(&format!("cannot write {}: {e}", temp.display()));
        }
    };
    let run = streamed.result;
    let files = match streamed_run_files(scenario, &run, &hash) {
        Ok(files) => files,
        Err(e) => {
            remove_temps();
            return fail(&format!("cannot render outputs: {e}"));
        }
    };
    if let Err(e) = write_atomically(dir, &files)
        .and_then(|_| std::fs::rename(&calls_temp, dir.join("responses.jsonl")))
        .and_then(|()| std::fs::rename(&temp, dir.join("timeline.csv")))
    {
        remove_temps();
        return fail(&format!("cannot write outputs to {}: {e}", dir.display()));
    }
    if !quiet {
        eprintln!(
            "wrote timeline.csv ({} rows, streamed), responses.jsonl (streamed), {} to {}",
            streamed.rows,
            files
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            dir.display()
        );
        eprintln!(
            "not written with --stream: timeline.jsonl, timeline.svg, report.html; invariants not checked \
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
