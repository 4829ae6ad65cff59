//! The run summary: a readable text report for the terminal and `summary.json`.

use crate::api::InstanceStatus;
use crate::model::world::Activity;
use crate::run::RunResult;
use crate::time::{Epoch, format_duration_human, format_duration_ms};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write;

fn instance_counts(act: &Activity) -> BTreeMap<&'static str, u32> {
    let mut counts = BTreeMap::new();
    for item in &act.items {
        *counts.entry(item.status.as_str()).or_insert(0) += 1;
    }
    counts
}

fn batch_counts(act: &Activity, b: usize) -> BTreeMap<&'static str, u32> {
    let mut counts = BTreeMap::new();
    for i in act.batch_items(b as u32) {
        *counts.entry(act.items[i].status.as_str()).or_insert(0) += 1;
    }
    counts
}

fn ms_opt(t: Option<crate::time::SimTime>) -> Value {
    t.map(|t| Value::from(t.as_ms())).unwrap_or(Value::Null)
}

/// `summary.json`.
pub fn summary_json(run: &RunResult, epoch: Epoch) -> Value {
    let world = &run.world;
    let m = &run.metrics;
    let activities: Vec<Value> = world
        .activities
        .iter()
        .map(|act| {
            let batches: Vec<Value> = act
                .batches
                .iter()
                .enumerate()
                .map(|(b, batch)| {
                    json!({
                        "RefreshBatchNum": b + 1,
                        "RefreshBatchStatus": batch.status,
                        "size": batch.items.len(),
                        "start_ms": ms_opt(batch.started),
                        "end_ms": ms_opt(batch.ended),
                        "duration_ms": batch.started.zip(batch.ended).map(|(s, e)| e.since(s)),
                        "instances": batch_counts(act, b),
                    })
                })
                .collect();
            json!({
                "RefreshActivityId": world.names.get(act.id),
                "ActivityType": act.activity_type,
                "RefreshMode": act.mode,
                "Status": act.status,
                "CreatedTime": epoch.render(act.created),
                "created_ms": act.created.as_ms(),
                "start_ms": ms_opt(act.started),
                "end_ms": ms_opt(act.ended),
                "duration_ms": act.ended.map(|e| e.since(act.created)),
                "instances": instance_counts(act),
                "batches": batches,
            })
        })
        .collect();
    let errors: BTreeMap<&str, u32> = m.api_errors.iter().map(|(c, n)| (c.as_str(), *n)).collect();
    let floor_fraction = match (m.min_in_service, m.in_service_before) {
        (Some(min), Some(before)) if before > 0 => Value::from(f64::from(min) / f64::from(before)),
        _ => Value::Null,
    };
    json!({
        "tool": {"name": "refreshsim", "version": run.meta.version},
        "seed": run.meta.seed,
        "scenario": {"name": run.meta.scenario_name, "sha256": run.meta.scenario_sha256},
        "end_ms": run.end.as_ms(),
        "events": run.events,
        "records": m.records,
        "timeline_sha256": run.timeline.as_ref().map(|t| t.content_hash()),
        "activities": activities,
        "capacity": {
            "in_service_before": m.in_service_before,
            "min_in_service": m.min_in_service,
            "min_in_service_at_ms": m.min_in_service_at_ms,
            "floor_fraction": floor_fraction,
            "below_floor_ms": m.below_floor_ms,
            "in_service_at_end": m.in_service,
        },
        "surge": {"instance_seconds": m.surge_instance_ms as f64 / 1000.0, "peak": m.surge_peak},
        "pauses": {"count": m.pauses, "failed_pauses": m.failed_pauses, "first_pause_ms": m.first_pause_ms},
        "api": {"calls": m.api_calls, "errors": errors},
        "group": {"EnabledStatus": world.group.enabled, "in_service": world.in_service_count()},
        "expectations": run.expectations.iter().map(|v| json!({"name": v.name, "passed": v.passed, "detail": v.detail})).collect::<Vec<_>>(),
        "invariants": {
            "checked": run.timeline.is_some(),
            "catalogue": crate::check::Invariant::ALL.len(),
            // Every invariant but INV-SNAPSHOT (Describe histories only).
            "evaluated": if run.timeline.is_some() { crate::check::timeline_invariants().count() } else { 0 },
            "violations": run.violations.iter().map(|v| json!({
                "invariant": v.invariant.id(), "time_ms": v.time.as_ms(), "entity": v.entity, "detail": v.detail,
            })).collect::<Vec<_>>(),
        },
    })
}

fn status_cell(counts: &BTreeMap<&'static str, u32>) -> String {
    let order = [
        InstanceStatus::Successful,
        InstanceStatus::Failed,
        InstanceStatus::NotFound,
        InstanceStatus::Cancelled,
        InstanceStatus::Waiting,
        InstanceStatus::Init,
        InstanceStatus::Running,
    ];
    order
        .iter()
        .filter_map(|s| {
            counts
                .get(s.as_str())
                .map(|n| format!("{n} {}", s.as_str()))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The readable summary printed by `refreshsim run`.
pub fn summary_text(run: &RunResult, scenario_name: &str) -> String {
    let mut out = String::new();
    let world = &run.world;
    let m = &run.metrics;
    let _ = writeln!(
        out,
        "refreshsim {} — scenario {scenario_name:?} (seed {}, sha256 {})",
        run.meta.version,
        run.meta.seed,
        &run.meta.scenario_sha256[..12.min(run.meta.scenario_sha256.len())]
    );
    let _ = writeln!(
        out,
        "simulated {} in {} events",
        format_duration_human(run.end.as_ms()),
        run.events
    );
    if world.activities.is_empty() {
        let _ = writeln!(out, "\nno refresh activity was created");
    }
    for act in &world.activities {
        let took = match act.ended {
            Some(end) => format!(
                "ended after {}",
                format_duration_human(end.since(act.created))
            ),
            None => "not ended".to_string(),
        };
        let _ = writeln!(
            out,
            "\nactivity {} {} {}: {} ({took})",
            world.names.get(act.id),
            act.activity_type,
            act.mode,
            act.status
        );
        let _ = writeln!(out, "  instances: {}", status_cell(&instance_counts(act)));
        let _ = writeln!(
            out,
            "  {:>5}  {:<21} {:>5}  {:>9}  {:>9}  {:>9}  instances",
            "batch", "status", "size", "start", "end", "took"
        );
        let line = |b: usize| {
            let batch = &act.batches[b];
            let t = |x: Option<crate::time::SimTime>| {
                x.map(|t| format!("+{}", format_duration_human(t.as_ms())))
                    .unwrap_or_else(|| "-".into())
            };
            let took = batch
                .started
                .zip(batch.ended)
                .map(|(s, e)| format_duration_human(e.since(s)))
                .unwrap_or_else(|| "-".into());
            format!(
                "  {:>5}  {:<21} {:>5}  {:>9}  {:>9}  {:>9}  {}",
                b + 1,
                batch.status.as_str(),
                batch.items.len(),
                t(batch.started),
                t(batch.ended),
                took,
                status_cell(&batch_counts(act, b))
            )
        };
        // Long plans: the first ten and the last ten batches.
        let n = act.batches.len();
        let shown: Vec<usize> = if n > 24 {
            (0..10).chain(n - 10..n).collect()
        } else {
            (0..n).collect()
        };
        for (i, &b) in shown.iter().enumerate() {
            if i > 0 && b != shown[i - 1] + 1 {
                let _ = writeln!(out, "  … {} more batches (see summary.json)", n - 20);
            }
            let _ = writeln!(out, "{}", line(b));
        }
    }
    let _ = writeln!(out);
    match (m.in_service_before, m.min_in_service) {
        (Some(before), Some(min)) => {
            let pct = if before > 0 {
                100.0 * f64::from(min) / f64::from(before)
            } else {
                100.0
            };
            let _ = writeln!(
                out,
                "capacity: {before} in service before; floor {min} ({pct:.0}%) at +{}; below floor threshold for {}",
                format_duration_human(m.min_in_service_at_ms),
                format_duration_human(m.below_floor_ms)
            );
        }
        _ => {
            let _ = writeln!(out, "capacity: {} in service", m.in_service);
        }
    }
    if m.surge_peak > 0 {
        let _ = writeln!(
            out,
            "surge: peak {} instances, {:.0} instance-seconds",
            m.surge_peak,
            m.surge_instance_ms as f64 / 1000.0
        );
    }
    let _ = writeln!(
        out,
        "pauses: {} ({} after failures)",
        m.pauses, m.failed_pauses
    );
    let errors: Vec<String> = m
        .api_errors
        .iter()
        .map(|(c, n)| format!("{c} ×{n}"))
        .collect();
    let _ = writeln!(
        out,
        "API calls: {}; errors: {}",
        m.api_calls,
        if errors.is_empty() {
            "none".to_string()
        } else {
            errors.join(", ")
        }
    );
    for line in refused_calls(run) {
        let _ = writeln!(out, "  {line}");
    }
    let _ = writeln!(out, "group: {}", world.group.enabled);
    if run.timeline.is_some() {
        if run.violations.is_empty() {
            let _ = writeln!(
                out,
                "invariants: all {} checked from the timeline hold",
                crate::check::timeline_invariants().count()
            );
        } else {
            let _ = writeln!(out, "invariants: {} VIOLATION(S)", run.violations.len());
            for v in run.violations.iter().take(20) {
                let _ = writeln!(out, "  {v}");
            }
        }
    }
    if !run.expectations.is_empty() {
        let passed = run.expectations.iter().filter(|v| v.passed).count();
        let _ = writeln!(
            out,
            "\nexpectations: {passed}/{} hold",
            run.expectations.len()
        );
        for v in &run.expectations {
            let _ = writeln!(
                out,
                "  [{}] {} — {}",
                if v.passed { "ok" } else { "FAIL" },
                v.name,
                v.detail
            );
        }
    }
    out
}

/// At most this many refused calls are listed one by one in the text summary.
const REFUSED_CALLS_LISTED_MAX: usize = crate::run::REFUSED_CALLS_KEPT;

/// One line per refused API call: when, which call, Tencent's code and message, so a user sees
/// why (`RefreshSettings.RollingUpdateSettings.BatchNumbr is not recognized`), not only a code.
fn refused_calls(run: &RunResult) -> Vec<String> {
    let refused: Vec<_> = run.calls.iter().filter(|c| c.code.is_some()).collect();
    let mut lines: Vec<String> = refused
        .iter()
        .take(REFUSED_CALLS_LISTED_MAX)
        .map(|c| {
            let who = match &c.id {
                Some(id) => format!("{id} ({})", c.action.as_str()),
                None => c.action.as_str().to_string(),
            };
            format!(
                "+{} {who} refused: {}",
                format_duration_ms(c.time.as_ms()),
                crate::run::call_error_text(c)
            )
        })
        .collect();
    // With streamed calls `run.calls` keeps only the first refused ones; the count is of all.
    let listed = refused.len().min(REFUSED_CALLS_LISTED_MAX) as u64;
    if run.refused_calls > listed {
        lines.push(format!(
            "… and {} more refused calls (responses.jsonl has them all)",
            run.refused_calls - listed
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plan of more than 24 batches shows the first ten and the last ten, each with its
    /// start, end and duration (OQ-15 times).
    #[test]
    fn long_plans_show_the_first_and_last_ten_batches_with_their_times() {
        let text = r#"
[scenario]
name = "thirty-batches"
[group]
id = "asg-thirty01"
size = 30
[launch_configuration]
image_id = "img-new"
[timing]
reinstall = "60s"
[[actions]]
at = "0s"
action = "StartInstanceRefresh"
request = { RefreshSettings = { RollingUpdateSettings = { BatchNumber = 30 } } }
"#;
        let scenario = crate::scenario::parse_scenario("thirty.toml", text).unwrap();
        let run = crate::run::run_scenario(&scenario, 1, true).unwrap();
        let out = summary_text(&run, "thirty-batches");
        let batch_lines: Vec<&str> = out
            .lines()
            .filter(|l| l.split_whitespace().nth(1) == Some("SUCCESSFUL"))
            .collect();
        let numbers: Vec<&str> = batch_lines
            .iter()
            .map(|l| l.split_whitespace().next().unwrap())
            .collect();
        let want: Vec<String> = (1..=10).chain(21..=30).map(|b| b.to_string()).collect();
        assert_eq!(numbers, want);
        assert!(
            out.contains("… 10 more batches (see summary.json)"),
            "{out}"
        );
        for line in batch_lines {
            assert_eq!(line.matches('+').count(), 2, "start and end in {line:?}");
            assert!(line.contains("1m "), "a duration in {line:?}");
        }
    }
}
