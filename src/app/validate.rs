//! `refreshsim validate`: a scenario checked and the batch plan of its first
//! StartInstanceRefresh printed, without running the refresh.

use super::{EXIT_EXPECTATION_FAILED, EXIT_OK, fail};
use crate::run::{DryStart, StartPlan, dry_run_first_start};
use crate::scenario::Scenario;
use crate::time::format_duration_ms;

pub fn validate_command(scenario: &Scenario) -> i32 {
    println!(
        "scenario {:?} reads and resolves ({})",
        scenario.name, scenario.source_name
    );
    if !scenario.overrides.is_empty() {
        println!("with {}", scenario.overrides.join(", "));
    }
    println!(
        "group {}: {} instances, {} happenings, seed {}",
        scenario.world.group_id,
        scenario.world.instances.len(),
        scenario.happenings.len(),
        scenario.seed
    );
    match dry_run_first_start(scenario) {
        Ok(None) => {
            println!("no StartInstanceRefresh action: nothing to plan");
            EXIT_OK
        }
        Ok(Some(dry)) => match &dry.result {
            Ok(plan) => {
                print!("{}", plan_text(&dry, plan));
                EXIT_OK
            }
            Err(e) => refusal_verdict(scenario, &dry, e),
        },
        Err(e) => fail(&e.to_string()),
    }
}

/// The batch plan the first Start would get (OQ-1–OQ-3).
fn plan_text(dry: &DryStart, plan: &StartPlan) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "plan of {} at +{}:",
        dry.origin,
        format_duration_ms(dry.at.as_ms())
    );
    let s = &plan.settings;
    let _ = writeln!(
        out,
        "  {} instances in {} batches (BatchPause {}, FailProcess {}, MaxSurge {})",
        plan.batches.iter().map(Vec::len).sum::<usize>(),
        plan.batches.len(),
        s.batch_pause,
        s.fail_process,
        s.max_surge
    );
    for (b, ids) in plan.batches.iter().enumerate() {
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
    out
}

/// A refused first Start is said plainly; it is what the scenario means only when its `expect`
/// block expects that code for that call (a scenario written to test a refusal), else exit 1.
fn refusal_verdict(scenario: &Scenario, dry: &DryStart, e: &crate::api::ApiError) -> i32 {
    let expected = scenario
        .expect
        .calls
        .iter()
        .any(|(id, code)| *id == dry.origin && *code == Some(e.code));
    if expected {
        println!(
            "the first StartInstanceRefresh ({}, at +{}) is refused, as the scenario's expect block says: {}: {}",
            dry.origin,
            format_duration_ms(dry.at.as_ms()),
            e.code,
            e.message
        );
        EXIT_OK
    } else {
        println!(
            "the first StartInstanceRefresh ({}, at +{}) is REFUSED: {}: {} (a run records the refusal and refreshes nothing)",
            dry.origin,
            format_duration_ms(dry.at.as_ms()),
            e.code,
            e.message
        );
        EXIT_EXPECTATION_FAILED
    }
}
