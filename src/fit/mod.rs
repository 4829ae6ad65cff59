//! `refreshsim fit` (issue 12): timing and failure parameters estimated from a group's past
//! refreshes, as `DescribeRefreshActivities` shows them (OQ-80…OQ-83).
//!
//! `observe` turns the history into per-step observations (and says which records it used and
//! why it skipped the others), `estimate` fits every distribution family `[timing]` supports
//! to each step by maximum likelihood on what Describe actually shows (OQ-80), and `render`
//! writes `fit.json` and the `[timing]`/`[faults]` block. Library code: typed errors, no
//! printing, no exit codes.

pub mod chart;
pub mod dist;
pub mod estimate;
pub mod observe;
pub mod optim;
pub mod render;

use crate::account::refresh::{RefreshActivity, activities};
use crate::account::scaling::{ScalingActivity, scaling_activities};
use crate::account::{AccountError, Action, OnError, Skipped, read_responses};
use dist::Obs;
use estimate::{StepFit, fit_step};
use observe::{Attempts, Considered, Mode, Observed, Step, observe};

/// Most refresh activities one fit reads (all polls together).
pub const MAX_ACTIVITY_SNAPSHOTS: usize = 2_000_000;

/// One input file, already read.
#[derive(Debug, Clone)]
pub struct Input {
    pub file: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error("{0}")]
    Unusable(String),
}

/// A failure rate with its 95 % Wilson interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Rate {
    pub mode: Mode,
    pub counts: Attempts,
    pub rate: f64,
    pub low: f64,
    pub high: f64,
}

/// The fit of a history.
#[derive(Debug, Clone)]
pub struct FitReport {
    pub inputs: Vec<String>,
    pub scaling_inputs: Vec<String>,
    pub snapshots: usize,
    pub observed: Observed,
    pub steps: Vec<(Step, Option<StepFit>, Vec<Obs>)>,
    pub rates: Vec<Rate>,
    pub skipped_documents: Vec<Skipped>,
    pub warnings: Vec<String>,
}

impl FitReport {
    pub fn step(&self, step: Step) -> Option<&StepFit> {
        self.steps
            .iter()
            .find(|(s, _, _)| *s == step)
            .and_then(|(_, f, _)| f.as_ref())
    }

    pub fn rate(&self, mode: Mode) -> Option<&Rate> {
        self.rates.iter().find(|r| r.mode == mode)
    }

    pub fn considered(&self, step: Step) -> impl Iterator<Item = &Considered> {
        self.observed
            .considered
            .iter()
            .filter(move |c| c.step == step.name())
    }
}

/// Reads and fits. `histories`: Describe responses (one per file, or JSONL of polls, or a
/// run's `responses.jsonl`); `scaling`: optional `DescribeAutoScalingActivities` responses.
pub fn fit(histories: &[Input], scaling: &[Input]) -> Result<FitReport, FitError> {
    if histories.is_empty() {
        return Err(FitError::Unusable("no history given".into()));
    }
    let mut snapshots: Vec<RefreshActivity> = Vec::new();
    let mut skipped_documents = Vec::new();
    let mut poll = 0usize;
    for input in histories {
        let (bodies, skipped) = read_responses(
            &input.file,
            &input.text,
            Action::DescribeRefreshActivities,
            OnError::SkipPolls,
        )?;
        skipped_documents.extend(skipped);
        for body in &bodies {
            for mut activity in activities(body)? {
                activity.poll = poll;
                snapshots.push(activity);
                if snapshots.len() > MAX_ACTIVITY_SNAPSHOTS {
                    return Err(FitError::Unusable(format!(
                        "more than {MAX_ACTIVITY_SNAPSHOTS} activity snapshots: too large a history"
                    )));
                }
            }
            poll += 1;
        }
    }
    let mut scaling_activities_read: Vec<ScalingActivity> = Vec::new();
    for input in scaling {
        let (bodies, skipped) = read_responses(
            &input.file,
            &input.text,
            Action::DescribeAutoScalingActivities,
            OnError::SkipPolls,
        )?;
        skipped_documents.extend(skipped);
        for body in &bodies {
            scaling_activities_read.extend(scaling_activities(body)?);
        }
    }
    if snapshots.is_empty() {
        return Err(FitError::Unusable(
            "the history holds no refresh activity (RefreshActivitySet is empty in every response)"
                .into(),
        ));
    }
    let observed = observe(&snapshots, &scaling_activities_read);
    let mut warnings = Vec::new();
    let steps: Vec<(Step, Option<StepFit>, Vec<Obs>)> = Step::ALL
        .iter()
        .map(|&step| {
            let raw = observed.obs.get(&step).cloned().unwrap_or_default();
            let grouped = group(&raw);
            (step, fit_step(&grouped), grouped)
        })
        .collect();
    let any_batch = [Step::Reinstall, Step::Replace]
        .iter()
        .any(|s| observed.obs.get(s).is_some_and(|o| !o.is_empty()));
    let any_attempt = observed.attempts.values().any(|a| a.attempts > 0);
    if !any_batch && !any_attempt {
        let reasons: Vec<String> = observed
            .considered
            .iter()
            .filter(|c| {
                c.step == Step::Reinstall.name()
                    || c.step == Step::Replace.name()
                    || c.step == "activity"
            })
            .filter_map(|c| Some(format!("{} ({}): {}", c.record, c.at, c.skipped.as_ref()?)))
            .take(5)
            .collect();
        return Err(FitError::Unusable(format!(
            "no finished batch and no finished attempt in {} activities: nothing to fit{}",
            observed.activities,
            if reasons.is_empty() {
                String::new()
            } else {
                format!(" ({})", reasons.join("; "))
            }
        )));
    }
    for (step, fit, _) in &steps {
        match fit {
            None => {
                if matches!(step, Step::Reinstall | Step::Replace) && observed.obs.contains_key(step) {
                    warnings.push(format!("{}: no usable batch", step.name()));
                }
            }
            Some(f) if f.batches == 1 => warnings.push(format!(
                "{}: one observation only: the fit stands on it and its intervals are as wide as that allows",
                step.name()
            )),
            Some(_) => {}
        }
    }
    if !observed.unknown_fields.is_empty() {
        warnings.push(format!(
            "fields refreshsim does not know were not used: {}",
            observed
                .unknown_fields
                .iter()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let rates = observed
        .attempts
        .iter()
        .filter(|(_, a)| a.attempts > 0)
        .map(|(&mode, counts)| {
            let (low, high) = wilson(counts.failures, counts.attempts);
            Rate {
                mode,
                counts: counts.clone(),
                rate: counts.failures as f64 / counts.attempts as f64,
                low,
                high,
            }
        })
        .collect();
    Ok(FitReport {
        inputs: histories.iter().map(|i| i.file.clone()).collect(),
        scaling_inputs: scaling.iter().map(|i| i.file.clone()).collect(),
        snapshots: snapshots.len(),
        observed,
        steps,
        rates,
        skipped_documents,
        warnings,
    })
}

fn group(raw: &[(u32, i64)]) -> Vec<Obs> {
    let mut map = std::collections::BTreeMap::new();
    for &(k, d) in raw {
        *map.entry((k, d)).or_insert(0u32) += 1;
    }
    map.into_iter()
        .map(|((k, d), count)| Obs { k, d, count })
        .collect()
}

/// The 95 % Wilson score interval of `x` successes in `n` trials.
pub fn wilson(x: u64, n: u64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let z = 1.959_963_984_540_054;
    let n = n as f64;
    let p = x as f64 / n;
    let denominator = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denominator;
    let half = z * libm::sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / denominator;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_known_values() {
        // 2 of 100: (0.0055, 0.0700) (Wilson 1927; e.g. Newcombe 1998, table I).
        let (lo, hi) = wilson(2, 100);
        assert!(
            (lo - 0.005_5).abs() < 1e-4 && (hi - 0.070_0).abs() < 1e-4,
            "{lo} {hi}"
        );
        let (lo, hi) = wilson(0, 10);
        assert_eq!(lo, 0.0);
        assert!((hi - 0.277_5).abs() < 1e-4, "{hi}");
        assert_eq!(wilson(0, 0), (0.0, 1.0));
    }

    fn input(text: &str) -> Vec<Input> {
        vec![Input {
            file: "h.json".into(),
            text: text.into(),
        }]
    }

    #[test]
    fn tencents_example_fits_with_warnings() {
        let text = &crate::account::tests::fixture("DescribeRefreshActivities");
        let report = fit(&input(text), &[]).unwrap();
        let reinstall = report.step(Step::Reinstall).unwrap();
        assert_eq!(reinstall.batches, 3);
        assert_eq!(reinstall.instances, 5);
        let rate = report.rate(Mode::Reset).unwrap();
        assert_eq!((rate.counts.attempts, rate.counts.failures), (5, 0));
        // The example's gaps: 1 s and 0 s.
        assert_eq!(report.step(Step::BatchGap).unwrap().batches, 2);
    }

    #[test]
    fn an_empty_or_unfinished_history_is_unusable() {
        let empty =
            r#"{"Response": {"TotalCount": 0, "RefreshActivitySet": [], "RequestId": "r"}}"#;
        assert!(matches!(
            fit(&input(empty), &[]),
            Err(FitError::Unusable(_))
        ));
        let waiting = r#"{"Response": {"TotalCount": 1, "RefreshActivitySet": [{"RefreshActivityId": "asr-1",
            "Status": "INIT", "RefreshBatchSet": [{"RefreshBatchNum": 1, "RefreshBatchStatus": "WAITING",
            "RefreshBatchRelatedInstanceSet": [{"InstanceId": "ins-1", "InstanceStatus": "WAITING"}]}]}], "RequestId": "r"}}"#;
        let err = fit(&input(waiting), &[]).unwrap_err().to_string();
        assert!(err.contains("no finished batch"), "{err}");
        assert!(err.contains("asr-1#1"), "{err}");
        assert!(fit(&[], &[]).is_err());
    }
}
