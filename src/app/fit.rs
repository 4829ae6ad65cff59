//! `refreshsim fit DESCRIBE.json... [--scaling-activities ACTIVITIES.json...] --out DIR`:
//! timing and failure parameters estimated from a group's past refreshes (issue 12, OQ-80…83);
//! writes fit.json, fit.toml and fit.svg, or on bad input nothing (exit 2).

use super::{EXIT_OK, fail, names};
use crate::account::read_file;
use crate::fit::observe::Step;
use crate::fit::render::{timing_value, to_json, to_toml};
use crate::fit::{FitReport, Input, chart::chart, fit};
use crate::output::{Files, write_atomically};
use std::path::PathBuf;

/// The files `fit` writes.
pub const FIT_OUTPUTS: [&str; 3] = ["fit.json", "fit.toml", "fit.svg"];

pub struct FitArgs {
    pub histories: Vec<PathBuf>,
    pub scaling_activities: Vec<PathBuf>,
    pub out: PathBuf,
    pub quiet: bool,
}

fn inputs(paths: &[PathBuf]) -> Result<Vec<Input>, String> {
    paths
        .iter()
        .map(|path| {
            Ok(Input {
                file: path.display().to_string(),
                text: read_file(path).map_err(|e| e.to_string())?,
            })
        })
        .collect()
}

pub fn fit_command(args: FitArgs) -> i32 {
    let report = match inputs(&args.histories)
        .and_then(|h| Ok((h, inputs(&args.scaling_activities)?)))
        .and_then(|(h, s)| fit(&h, &s).map_err(|e| e.to_string()))
    {
        Ok(report) => report,
        Err(e) => return fail(&e),
    };
    let files = match render(&report) {
        Ok(files) => files,
        Err(e) => return fail(&format!("cannot render outputs: {e}")),
    };
    crate::output::remove_stale_temporaries(&args.out, |name| FIT_OUTPUTS.contains(&name));
    match write_atomically(&args.out, &files) {
        Ok(written) => {
            if !args.quiet {
                eprintln!("wrote {} to {}", names(&written), args.out.display());
            }
        }
        Err(e) => {
            return fail(&format!(
                "cannot write outputs to {}: {e}",
                args.out.display()
            ));
        }
    }
    if !args.quiet {
        print!("{}", summary(&report));
    }
    EXIT_OK
}

fn render(report: &FitReport) -> Result<Files, serde_json::Error> {
    let mut json = serde_json::to_vec_pretty(&to_json(report))?;
    json.push(b'\n');
    let mut files: Files = vec![
        ("fit.json".into(), json),
        ("fit.toml".into(), to_toml(report).into_bytes()),
    ];
    if let Some(svg) = chart(report) {
        files.push(("fit.svg".into(), svg.into_bytes()));
    }
    Ok(files)
}

/// A few lines for people: each fitted step, the failure rates, the warnings.
fn summary(report: &FitReport) -> String {
    let mut out = format!(
        "fitted {} refresh activities from {} snapshots\n",
        report.observed.activities, report.snapshots
    );
    for step in Step::ALL {
        if let Some(fit) = report.step(step) {
            out.push_str(&format!(
                "  {:<14} {} from {} observations ({} instances): {}\n",
                step.name(),
                fit.chosen.name(),
                fit.batches,
                fit.instances,
                timing_value(fit.chosen_dist())
            ));
        }
    }
    for rate in &report.rates {
        out.push_str(&format!(
            "  failure rate   {:.4} per attempt ({} of {}, {}), 95% Wilson [{:.4}, {:.4}]\n",
            rate.rate,
            rate.counts.failures,
            rate.counts.attempts,
            rate.mode.name(),
            rate.low,
            rate.high
        ));
    }
    for warning in &report.warnings {
        out.push_str(&format!("warning: {warning}\n"));
    }
    out
}
