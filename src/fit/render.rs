//! `fit.json` (everything) and `fit.toml` (the `[timing]` and `[faults]` tables, ready to paste
//! into a scenario), rendered deterministically from a [`FitReport`].

use super::dist::{Dist, Family, Obs};
use super::estimate::{FamilyFit, StepFit};
use super::observe::{Mode, Step};
use super::{FitReport, Rate};
use crate::time::format_duration_ms;
use serde_json::{Map, Value, json};

/// Most records listed per step in `fit.json` (the rest are counted).
pub const MAX_LISTED_RECORDS: usize = 10_000;
/// Values of an `empirical` list written to `fit.toml`.
pub const EMPIRICAL_VALUES: usize = 100;

fn ms(seconds: f64) -> u64 {
    if seconds.is_finite() && seconds > 0.0 {
        libm::round(seconds * 1000.0) as u64
    } else {
        0
    }
}

fn duration(seconds: f64) -> String {
    format_duration_ms(ms(seconds))
}

/// The scenario `[timing]` value of a fitted distribution (a TOML inline value).
pub fn timing_value(dist: &Dist) -> String {
    match dist {
        Dist::Constant { value } => format!("{:?}", duration(*value)),
        Dist::Uniform { min, max } => format!(
            "{{ uniform = {{ min = {:?}, max = {:?} }} }}",
            duration(*min),
            duration(*max)
        ),
        Dist::Normal { mean, sd } => format!(
            "{{ normal = {{ mean = {:?}, sd = {:?} }} }}",
            duration(*mean),
            duration(*sd)
        ),
        Dist::Lognormal { .. } => {
            let median = ms(dist.quantile(0.5)).max(1);
            let p95 = ms(dist.quantile(0.95)).max(median);
            format!(
                "{{ lognormal = {{ median = {:?}, p95 = {:?} }} }}",
                format_duration_ms(median),
                format_duration_ms(p95)
            )
        }
        Dist::Empirical { .. } => {
            let values: Vec<String> = (0..EMPIRICAL_VALUES)
                .map(|i| {
                    let p = (i as f64 + 0.5) / EMPIRICAL_VALUES as f64;
                    format!("{:?}", duration(dist.quantile(p)))
                })
                .collect();
            format!("{{ empirical = [{}] }}", values.join(", "))
        }
    }
}

fn number(x: f64) -> Value {
    // Six significant decimals keep the file stable and readable.
    let rounded = (x * 1e6).round() / 1e6;
    serde_json::Number::from_f64(rounded).map_or(Value::Null, Value::Number)
}

fn option(x: Option<f64>) -> Value {
    x.map_or(Value::Null, number)
}

fn family_json(f: &FamilyFit) -> Value {
    let mut out = Map::new();
    out.insert("family".into(), json!(f.family.name()));
    let mut parameters = Map::new();
    let mut intervals = Map::new();
    for p in &f.params {
        parameters.insert(p.name.into(), number(p.value));
        intervals.insert(
            p.name.into(),
            json!({"low": option(p.low), "high": option(p.high)}),
        );
    }
    out.insert("parameters".into(), Value::Object(parameters));
    out.insert("intervals_95".into(), Value::Object(intervals));
    out.insert("log_likelihood".into(), option(f.log_likelihood));
    out.insert("aic".into(), option(f.aic));
    if let Some(dist) = &f.dist {
        out.insert("timing".into(), json!(timing_value(dist)));
    }
    if let Some(note) = &f.note {
        out.insert("note".into(), json!(note));
    }
    Value::Object(out)
}

/// Where a step's fit goes in `[timing]` (None: not written).
fn target(step: Step, report: &FitReport) -> Option<&'static str> {
    match step {
        Step::Reinstall => Some("reinstall"),
        Step::Replace => report
            .step(Step::SurgeCreate)
            .is_none()
            .then_some("instance_create"),
        Step::InitDelay => Some("init_delay"),
        Step::BatchGap => Some("batch_gap"),
        Step::SurgeCreate => Some("instance_create"),
        Step::SurgeDestroy => Some("instance_destroy"),
    }
}

fn step_json(report: &FitReport, step: Step, fit: Option<&StepFit>, obs: &[Obs]) -> Value {
    let mut out = Map::new();
    out.insert(
        "writes".into(),
        target(step, report).map_or(Value::Null, |t| json!(format!("timing.{t}"))),
    );
    let considered: Vec<_> = report.considered(step).collect();
    let used = considered.iter().filter(|c| c.skipped.is_none()).count();
    out.insert("records_used".into(), json!(used));
    out.insert("records_skipped".into(), json!(considered.len() - used));
    match fit {
        None => {
            out.insert("fit".into(), Value::Null);
        }
        Some(fit) => {
            out.insert("batches".into(), json!(fit.batches));
            out.insert("instances".into(), json!(fit.instances));
            out.insert("chosen".into(), json!(fit.chosen.name()));
            out.insert("chosen_by".into(), json!("lowest AIC"));
            out.insert(
                "families".into(),
                Value::Array(fit.families.iter().map(family_json).collect()),
            );
            if let Family::Lognormal = fit.chosen {
                let l = fit.chosen_fit();
                for p in &l.params {
                    if p.name == "median_s" || p.name == "p95_s" {
                        out.insert(p.name.into(), number(p.value));
                    }
                }
            }
        }
    }
    if matches!(step, Step::Reinstall) {
        out.insert(
            "includes_target_health_batches".into(),
            json!(report.observed.health_checked_batches),
        );
    }
    out.insert(
        "observed".into(),
        Value::Array(
            obs.iter()
                .map(|o| json!({"k": o.k, "d_s": o.d, "count": o.count}))
                .collect(),
        ),
    );
    let skipped: Vec<Value> = considered
        .iter()
        .filter_map(|c| Some(json!({"record": c.record, "at": c.at, "why": c.skipped.as_ref()?})))
        .take(MAX_LISTED_RECORDS)
        .collect();
    out.insert("skipped".into(), Value::Array(skipped));
    let used_list: Vec<Value> = considered
        .iter()
        .filter(|c| c.skipped.is_none())
        .map(|c| json!(c.record))
        .take(MAX_LISTED_RECORDS)
        .collect();
    out.insert("used".into(), Value::Array(used_list));
    Value::Object(out)
}

fn rate_json(rate: &Rate) -> Value {
    json!({
        "writes": match rate.mode {
            Mode::Reset => "faults.reinstall_failure_rate",
            Mode::Replace => "faults.create_failure_rate",
        },
        "rate": number(rate.rate),
        "low": number(rate.low),
        "high": number(rate.high),
        "interval": "95% Wilson",
        "failures": rate.counts.failures,
        "attempts": rate.counts.attempts,
        "instances": rate.counts.instances,
        "messages": rate.counts.messages,
    })
}

/// `fit.json`.
pub fn to_json(report: &FitReport) -> Value {
    let mut steps = Map::new();
    for (step, fit, obs) in &report.steps {
        steps.insert(
            step.name().into(),
            step_json(report, *step, fit.as_ref(), obs),
        );
    }
    let mut rates = Map::new();
    for rate in &report.rates {
        rates.insert(rate.mode.name().into(), rate_json(rate));
    }
    let failure_records: Vec<Value> = report
        .observed
        .considered
        .iter()
        .filter(|c| c.step == "failure_rate" || c.step == "activity")
        .filter_map(|c| Some(json!({"record": c.record, "at": c.at, "why": c.skipped.as_ref()?})))
        .take(MAX_LISTED_RECORDS)
        .collect();
    json!({
        "tool": "refreshsim fit",
        "version": env!("CARGO_PKG_VERSION"),
        "inputs": report.inputs,
        "scaling_activities": report.scaling_inputs,
        "snapshots": report.snapshots,
        "activities": report.observed.activities,
        "groups": report.observed.groups,
        "observation_model": "batch duration = max of k per-instance draws (CDF F^k), seen as the difference of two whole-second times (triangle kernel); see docs/decisions.md OQ-80",
        "steps": steps,
        "failure_rate": rates,
        "failure_rate_skipped": failure_records,
        "skipped_documents": report.skipped_documents.iter().map(|s| json!({"at": s.at, "why": s.why})).collect::<Vec<_>>(),
        "unknown_fields": report.observed.unknown_fields,
        "warnings": report.warnings,
    })
}

fn interval_text(f: &FamilyFit) -> String {
    f.params
        .iter()
        .map(|p| {
            let side = |x: Option<f64>| x.map_or("unbounded".to_string(), |v| format!("{v:.3}"));
            format!(
                "{} {:.3} [{}, {}]",
                p.name,
                p.value,
                side(p.low),
                side(p.high)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The first few file names, and how many more.
fn listed(files: &[String]) -> String {
    let shown: Vec<&str> = files.iter().take(4).map(String::as_str).collect();
    match files.len().saturating_sub(shown.len()) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

/// `fit.toml`: `[timing]` and `[faults]` in the scenario format, every value explained.
pub fn to_toml(report: &FitReport) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "# refreshsim fit {}: [timing] and [faults] estimated from {} refresh activities in {}.\n",
        env!("CARGO_PKG_VERSION"),
        report.observed.activities,
        listed(&report.inputs)
    ));
    out.push_str("# Paste into a scenario in place of its [timing] and [faults] tables; fit.json has every\n");
    out.push_str(
        "# family tried, the 95 % intervals, and which records were used or skipped and why.\n",
    );
    out.push_str("# Families: constant, uniform, normal, lognormal, empirical; chosen by lowest AIC (OQ-80).\n\n");
    out.push_str("[timing]\n");
    for (step, fit, _) in &report.steps {
        let Some(key) = target(*step, report) else {
            if let Some(fit) = fit {
                out.push_str(&format!(
                    "# {}: fitted ({} batches, {}), not written: instance_create comes from the surge\n",
                    step.name(),
                    fit.batches,
                    timing_value(fit.chosen_dist())
                ));
            }
            continue;
        };
        match fit {
            None => {
                if !matches!(step, Step::Replace | Step::SurgeCreate | Step::SurgeDestroy) {
                    out.push_str(&format!(
                        "# {key}: nothing in the history shows it; the scenario's value (or the default) applies\n"
                    ));
                }
            }
            Some(fit) => {
                let chosen = fit.chosen_fit();
                let from = if step.name() == key {
                    String::new()
                } else {
                    format!(" (from {})", step.name())
                };
                out.push_str(&format!(
                    "# {key}{from}: {} from {} observations ({} instances); {}\n",
                    fit.chosen.name(),
                    fit.batches,
                    fit.instances,
                    interval_text(chosen)
                ));
                if matches!(step, Step::Replace) {
                    out.push_str("#   REPLACE's per-instance time (create + health + remove the old one) as instance_create;\n");
                    out.push_str("#   instance_destroy 0s so that the sum matches (OQ-83)\n");
                }
                out.push_str(&format!("{key} = {}\n", timing_value(fit.chosen_dist())));
                if matches!(step, Step::Reinstall) && report.observed.health_checked_batches > 0 {
                    out.push_str(&format!(
                        "target_health = \"0s\"   # included in reinstall: {} of the batches checked target health and Describe cannot separate the two (OQ-83)\n",
                        report.observed.health_checked_batches
                    ));
                }
                if matches!(step, Step::Replace) && report.step(Step::SurgeDestroy).is_none() {
                    out.push_str("instance_destroy = \"0s\"\n");
                }
            }
        }
    }
    out.push_str("\n[faults]\n");
    for mode in [Mode::Reset, Mode::Replace] {
        let key = match mode {
            Mode::Reset => "reinstall_failure_rate",
            Mode::Replace => "create_failure_rate",
        };
        match report.rate(mode) {
            None => {}
            Some(rate) => out.push_str(&format!(
                "{key} = {}   # {} of {} attempts failed ({}); 95 % Wilson [{:.4}, {:.4}]\n",
                number(rate.rate),
                rate.counts.failures,
                rate.counts.attempts,
                mode.name(),
                rate.low,
                rate.high
            )),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timing_values_parse_back_as_durations() {
        assert_eq!(
            timing_value(&Dist::Constant { value: 90.4004 }),
            "\"1m30s400ms\""
        );
        let l = Dist::Lognormal {
            mu: libm::log(90.0),
            sigma: 0.2,
        };
        assert_eq!(
            timing_value(&l),
            "{ lognormal = { median = \"1m30s\", p95 = \"2m5s58ms\" } }"
        );
        for text in ["1m30s400ms", "2m5s58ms"] {
            crate::time::parse_duration_ms(text).unwrap();
        }
    }
}
