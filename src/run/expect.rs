//! Checking a scenario's `expect` block against a finished run.

use crate::api::EnabledStatus;
use crate::model::world::Activity;
use crate::run::{RunResult, Verdict};
use crate::scenario::Scenario;
use crate::time::format_duration_ms;

fn verdict(name: String, passed: bool, detail: String) -> Verdict {
    Verdict {
        name,
        passed,
        detail,
    }
}

/// The activity the expectations talk about: the one created by `expect.activity`, else the
/// latest created.
fn target<'w>(scenario: &Scenario, run: &'w RunResult) -> Option<&'w Activity> {
    match &scenario.expect.activity {
        None => run.world.activities.last(),
        Some(id) => {
            let created = run
                .calls
                .iter()
                .find(|c| c.id.as_deref() == Some(id.as_str()))?
                .activity
                .clone()?;
            let a = run.world.activity_by_name(&created)?;
            run.world.activities.get(a as usize)
        }
    }
}

pub fn check(scenario: &Scenario, run: &RunResult) -> Vec<Verdict> {
    let e = &scenario.expect;
    let mut out = Vec::new();
    let world = &run.world;
    let act = target(scenario, run);
    let act_name = act
        .map(|a| world.names.get(a.id).to_string())
        .unwrap_or_else(|| "(no activity)".into());
    if let Some(status) = e.status {
        let actual = act.map(|a| a.status.as_str()).unwrap_or("none");
        out.push(verdict(
            format!("status = {status}"),
            act.is_some_and(|a| a.status == status),
            format!("{act_name} is {actual}"),
        ));
    }
    if let Some(max_ms) = e.max_duration_ms {
        let took = act.and_then(|a| a.ended.map(|end| end.since(a.created)));
        out.push(verdict(
            format!("max_duration = {}", format_duration_ms(max_ms)),
            took.is_some_and(|t| t <= max_ms),
            match took {
                Some(t) => format!("{act_name} took {}", format_duration_ms(t)),
                None => format!("{act_name} did not end"),
            },
        ));
    }
    if let Some(min) = e.min_in_service {
        let floor = run.metrics.min_in_service.unwrap_or(run.metrics.in_service);
        out.push(verdict(
            format!("min_in_service >= {min}"),
            floor >= min,
            format!("lowest in-service count during refreshes was {floor}"),
        ));
    }
    if let Some(expected) = &e.batch_statuses {
        let actual: Vec<String> = act
            .map(|a| a.batches.iter().map(|b| b.status.to_string()).collect())
            .unwrap_or_default();
        let expected_text: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
        out.push(verdict(
            format!("batch_statuses = [{}]", expected_text.join(", ")),
            actual == expected_text,
            format!("{act_name} batches: [{}]", actual.join(", ")),
        ));
    }
    for (instance, status) in &e.instance_statuses {
        let actual = act.and_then(|a| {
            a.items
                .iter()
                .find(|it| world.names.get(world.instances[it.instance as usize].id) == instance)
                .map(|it| it.status)
        });
        out.push(verdict(
            format!("instance {instance} = {status}"),
            actual == Some(*status),
            match actual {
                Some(s) => format!("{instance} is {s} in {act_name}"),
                None => format!("{instance} is not part of {act_name}"),
            },
        ));
    }
    for (instance, image) in &e.instance_images {
        let actual = world.instance_by_name(instance).map(|i| {
            world
                .names
                .get(world.instances[i as usize].image)
                .to_string()
        });
        out.push(verdict(
            format!("instance {instance} image = {image}"),
            actual.as_deref() == Some(image.as_str()),
            format!("{instance} has {}", actual.as_deref().unwrap_or("no image")),
        ));
    }
    if let Some(enabled) = e.group_enabled {
        let want = if enabled {
            EnabledStatus::Enabled
        } else {
            EnabledStatus::Disabled
        };
        out.push(verdict(
            format!("group_enabled = {enabled}"),
            world.group.enabled == want,
            format!("group is {}", world.group.enabled),
        ));
    }
    if let Some(n) = e.activities {
        out.push(verdict(
            format!("activities = {n}"),
            world.activities.len() as u32 == n,
            format!("{} activities were created", world.activities.len()),
        ));
    }
    for (id, status) in &e.activity_statuses {
        let created = run
            .calls
            .iter()
            .find(|c| c.id.as_deref() == Some(id.as_str()))
            .and_then(|c| c.activity.clone());
        let actual = created
            .as_deref()
            .and_then(|a| world.activity_by_name(a))
            .map(|a| world.activities[a as usize].status);
        out.push(verdict(
            format!("activity of {id} = {status}"),
            actual == Some(*status),
            match (created, actual) {
                (Some(a), Some(s)) => format!("{a} is {s}"),
                _ => format!("{id} created no activity"),
            },
        ));
    }
    for (id, pointer, expected) in &e.responses {
        let actual = run
            .calls
            .iter()
            .find(|c| c.id.as_deref() == Some(id.as_str()))
            .map(|c| c.response.pointer(pointer).cloned());
        out.push(verdict(
            format!("response of {id} at {pointer} = {expected}"),
            matches!(&actual, Some(Some(v)) if v == expected),
            match actual {
                None => format!("{id} was never called"),
                Some(None) => format!("the response of {id} has nothing at {pointer}"),
                Some(Some(v)) => format!("found {v}"),
            },
        ));
    }
    for (id, code) in &e.calls {
        let want = code.map(|c| c.as_str()).unwrap_or("OK");
        let call = run
            .calls
            .iter()
            .find(|c| c.id.as_deref() == Some(id.as_str()));
        let actual = call.map(|c| c.code.map(|c| c.as_str()).unwrap_or("OK"));
        out.push(verdict(
            format!("call {id} -> {want}"),
            actual == Some(want),
            match call {
                Some(c) if c.code.is_some() => {
                    format!("{id} returned {}", super::call_error_text(c))
                }
                Some(_) => format!("{id} returned OK"),
                None => format!("{id} was never called"),
            },
        ));
    }
    out
}
