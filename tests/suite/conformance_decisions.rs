//! Conformance tests for model decisions that had no test named after them: spec Part B
//! OQ-4 and OQ-19, and the project's own decisions (README "Model decisions", OQ-37…).
//! Each test name starts with the OQ id it enforces.

use crate::common::*;
use refreshsim::api::{Action, ActivityStatus, ErrorCode, InstanceStatus, LifeCycleState};
use refreshsim::time::SimTime;
use refreshsim::timeline::Msg;
use serde_json::json;

const GROUP: &str = "asg-test0001";

fn rolling(fields: &str) -> String {
    format!("{{ RollingUpdateSettings = {{ {fields} }} }}")
}

fn start_body(batch_number: u64) -> serde_json::Value {
    json!({"AutoScalingGroupId": GROUP, "RefreshSettings": {"RollingUpdateSettings": {"BatchNumber": batch_number}}})
}

#[test]
fn oq4_n_is_the_frozen_running_count_and_zero_is_no_instance_can_refresh() {
    // 3 instances, #3 put in standby before the Start: N = 2 (OQ-3), so BatchNumber 3 is too
    // large and 2 is accepted with 2 instances frozen.
    let extra = r##"
[[faults.events]]
at = "0s"
kind = "enter_standby"
instance = "#3"
[[actions]]
id = "start-two"
at = "1s"
action = "StartInstanceRefresh"
request = { RefreshSettings = { RollingUpdateSettings = { BatchNumber = 2 } } }
"##;
    let r = run(3, "", &rolling("BatchNumber = 3"), extra);
    assert_eq!(
        code(&r, "start"),
        "InvalidParameterValue.BatchNumberTooLarge"
    );
    assert_eq!(code(&r, "start-two"), "OK");
    assert_eq!(first_activity(&r).items.len(), 2);
    // N = 0 is NoInstanceCanRefresh, checked before BatchNumber (OQ-27 step 9 before 10).
    let (mut sim, mut sink) = engine_text(&text(0, "", &rolling("BatchNumber = 1"), ""), true);
    assert_eq!(
        call(
            &mut sim,
            &mut sink,
            Action::StartInstanceRefresh,
            start_body(5)
        )
        .map(|_| ()),
        Err(ErrorCode::ResourceUnavailableNoInstanceCanRefresh)
    );
}

#[test]
fn oq19_refresh_standby_shows_in_standby_and_keeps_desired_capacity() {
    let toml = with_group(
        &text(2, "", &rolling("BatchNumber = 1"), ""),
        "desired_capacity = 2",
    );
    let (mut sim, mut sink) = engine_text(&toml, false);
    sim.advance_until(SimTime(30_000), &mut sink).unwrap();
    let w = sim.world();
    assert!(
        w.instances
            .iter()
            .filter(|i| i.in_group)
            .all(|i| i.state == LifeCycleState::InStandby),
        "OQ-19/OQ-44: instances being refreshed show IN_STANDBY"
    );
    assert_eq!(
        w.group.desired_capacity, 2,
        "refresh standby keeps DesiredCapacity"
    );
    sim.run_until_idle(&mut sink).unwrap();
    assert_eq!(sim.world().group.desired_capacity, 2);
}

#[test]
fn oq37_origin_refresh_activity_id_is_empty_on_normal_activities() {
    let (mut sim, mut sink) = engine_text(&text(2, "", &rolling("BatchNumber = 1"), ""), false);
    sim.advance_until(SimTime(1_000), &mut sink).unwrap();
    let v = sim
        .submit(Action::DescribeRefreshActivities, &json!({}), &mut sink)
        .to_json()["Response"]
        .clone();
    let act = &v["RefreshActivitySet"][0];
    assert_eq!(act["ActivityType"], "NORMAL");
    assert_eq!(act["OriginRefreshActivityId"], "");
}

#[test]
fn oq38_unknown_then_wrong_type_then_missing_and_null_is_absent() {
    let (mut sim, mut sink) = engine_text(&text(2, "", &rolling("BatchNumber = 1"), ""), true);
    let mut code = |body| {
        call(&mut sim, &mut sink, Action::StartInstanceRefresh, body)
            .map(|_| ())
            .unwrap_err()
    };
    // Unknown field and missing RefreshSettings: UnknownParameter first.
    assert_eq!(
        code(json!({"AutoScalingGroupId": GROUP, "Bogus": 1})),
        ErrorCode::UnknownParameter
    );
    // Wrong type and missing RefreshSettings: InvalidParameter before MissingParameter.
    assert_eq!(
        code(json!({"AutoScalingGroupId": 5})),
        ErrorCode::InvalidParameter
    );
    // A JSON null counts as absent.
    assert_eq!(
        code(json!({"AutoScalingGroupId": GROUP, "RefreshSettings": null})),
        ErrorCode::MissingParameter
    );
}

#[test]
fn oq39_a_console_stop_fails_the_refresh_of_an_instance_being_refreshed() {
    let faults = "[[faults.events]]\nat = \"30s\"\nkind = \"stop\"\ninstance = \"#1\"\n";
    let r = run(2, "", &rolling("BatchNumber = 1"), faults);
    let act = first_activity(&r);
    let statuses = instance_statuses(&r.world, act);
    assert_eq!(statuses[0].1, InstanceStatus::Failed, "{statuses:?}");
    assert_eq!(act.items[0].msg, Msg::InstanceStopped);
    assert_eq!(statuses[1].1, InstanceStatus::Successful);
    assert_eq!(act.status, ActivityStatus::FailedPause);
}

#[test]
fn oq40_oq41_a_missing_image_fails_the_instance_and_leaves_its_image_unchanged() {
    // FIRST_BATCH_PAUSE: batch 1 0–60 s; the image disappears at 70 s; Resume at 80 s.
    let extra = r##"
[[faults.events]]
at = "70s"
kind = "image"
image = "img-new"
available = false
[[actions]]
id = "resume"
at = "80s"
action = "ResumeInstanceRefresh"
"##;
    let r = run(
        2,
        "",
        &rolling("BatchNumber = 2, BatchPause = \"FIRST_BATCH_PAUSE\""),
        extra,
    );
    let act = first_activity(&r);
    assert_eq!(act.items[1].status, InstanceStatus::Failed);
    assert_eq!(act.items[1].msg, Msg::ImageNotFound);
    // OQ-23 deviation (README): FailProcess decides, not FAILED.
    assert_eq!(act.status, ActivityStatus::FailedPause);
    // OQ-41: the failed reinstall left the image as it was.
    let instance = &r.world.instances[act.items[1].instance as usize];
    assert_eq!(r.world.names.get(instance.image), "img-old");
}

#[test]
fn oq46_limit_zero_returns_an_empty_page_with_the_total_count() {
    let (mut sim, mut sink) = engine_text(&text(2, "", &rolling("BatchNumber = 1"), ""), false);
    sim.advance_until(SimTime(1_000), &mut sink).unwrap();
    let v = sim
        .submit(
            Action::DescribeRefreshActivities,
            &json!({"Limit": 0}),
            &mut sink,
        )
        .to_json()["Response"]
        .clone();
    assert_eq!(v["TotalCount"], 1);
    assert_eq!(v["RefreshActivitySet"].as_array().map(Vec::len), Some(0));
}

#[test]
fn oq49_rollback_checks_its_settings_values_before_the_group() {
    let (mut sim, mut sink) = engine_text(&text(2, "", &rolling("BatchNumber = 1"), ""), true);
    let body = json!({
        "AutoScalingGroupId": "asg-nope0001",
        "OriginRefreshActivityId": "asr-nope0000",
        "RefreshSettings": {"RollingUpdateSettings": {"BatchNumber": 0}}
    });
    assert_eq!(
        call(&mut sim, &mut sink, Action::RollbackInstanceRefresh, body).map(|_| ()),
        Err(ErrorCode::InvalidParameterValueRange)
    );
}

#[test]
fn oq45_a_batch_scaling_activity_ends_with_the_batch_status() {
    let faults = "[[faults.scripted]]\ninstance = \"#1\"\nattempt = 1\nstep = \"reinstall\"\nmessage = \"boom\"\n";
    let r = run(2, "", &rolling("BatchNumber = 1"), faults);
    let rows = rows(&r);
    let ended: Vec<String> = rows
        .iter()
        .filter(|row| {
            row.kind == "scaling_activity"
                && !row.from.is_empty()
                && row.detail.contains("RESET_INSTANCES")
        })
        .map(|row| row.to.clone())
        .collect();
    assert_eq!(ended, vec!["PARTIALLY_SUCCESSFUL".to_string()]);
}

#[test]
fn oq42_retry_of_a_failed_instance_that_left_is_not_found_and_a_stopped_one_stays_failed() {
    let extra = r##"
[[faults.scripted]]
instance = "#1"
attempt = 1
step = "reinstall"
message = "boom"
[[faults.scripted]]
instance = "#2"
attempt = 1
step = "reinstall"
message = "boom"
[[faults.events]]
at = "70s"
kind = "destroy"
instance = "#1"
[[faults.events]]
at = "70s"
kind = "stop"
instance = "#2"
[[actions]]
id = "retry"
at = "80s"
action = "ResumeInstanceRefresh"
request = { ResumeMode = "RETRY" }
"##;
    let r = run(2, "", &rolling("BatchNumber = 1"), extra);
    assert_eq!(code(&r, "retry"), "OK");
    let act = first_activity(&r);
    let statuses = instance_statuses(&r.world, act);
    assert_eq!(statuses[0].1, InstanceStatus::NotFound, "{statuses:?}");
    assert_eq!(statuses[1].1, InstanceStatus::Failed, "{statuses:?}");
}

#[test]
fn oq52_execute_scaling_policy_that_changes_nothing_generates_no_activity() {
    let toml = with_group(
        &text(
            2,
            "",
            &rolling("BatchNumber = 1"),
            "[[group.scaling_policies]]\nid = \"asp-up\"\nadjustment = 2\n",
        ),
        "max_size = 2\ndesired_capacity = 2",
    );
    let (mut sim, mut sink) = engine_text(&toml, true);
    let body = json!({"AutoScalingPolicyId": "asp-up"});
    assert_eq!(
        call(&mut sim, &mut sink, Action::ExecuteScalingPolicy, body).map(|_| ()),
        Err(ErrorCode::FailedOperationNoActivityToGenerate)
    );
}

#[test]
fn oq51_a_completely_failed_matching_activity_is_retried_only_by_the_next_trigger() {
    // No refresh (the Start is refused): #1 leaves at 10 s while creations are blocked, so the
    // matching SCALE_OUT fails completely and is not retried at once; #2 leaving at 10 min
    // (creations allowed again) is the next trigger.
    let extra = r##"
[[faults.events]]
at = "0s"
kind = "create_blocked"
[[faults.events]]
at = "10s"
kind = "destroy"
instance = "#1"
[[faults.events]]
at = "5m"
kind = "create_blocked"
blocked = false
[[faults.events]]
at = "10m"
kind = "destroy"
instance = "#2"
"##;
    let toml = with_group(
        &text(
            3,
            "instance_create = \"60s\"",
            &rolling("BatchNumber = 9"),
            extra,
        ),
        "desired_capacity = 3",
    );
    let r = run_text(&toml);
    assert_eq!(
        code(&r, "start"),
        "InvalidParameterValue.BatchNumberTooLarge"
    );
    let started: Vec<(u64, String)> = rows(&r)
        .into_iter()
        .filter(|row| row.kind == "scaling_activity" && row.from.is_empty())
        .map(|row| (row.time_ms, row.detail))
        .collect();
    let times: Vec<u64> = started.iter().map(|(t, _)| *t).collect();
    assert_eq!(times, vec![10_000, 600_000], "{started:?}");
    assert_eq!(
        r.world.instances.iter().filter(|i| i.in_group).count(),
        3,
        "the second trigger restored the capacity"
    );
}

#[test]
fn oq41_a_failed_reinstall_leaves_the_instance_image_unchanged() {
    let faults = "[[faults.scripted]]\ninstance = \"#1\"\nattempt = 1\nstep = \"reinstall\"\nmessage = \"boom\"\n";
    let r = run(2, "", &rolling("BatchNumber = 1"), faults);
    let act = first_activity(&r);
    assert_eq!(act.items[0].status, InstanceStatus::Failed);
    let image = |i: usize| {
        let instance = &r.world.instances[act.items[i].instance as usize];
        r.world.names.get(instance.image).to_string()
    };
    assert_eq!(image(0), "img-old", "failed: unchanged");
    assert_eq!(image(1), "img-new", "succeeded: reinstalled");
}

/// Issue 10.3: batch 1 (#1, #2) runs 0–60 s, then FIRST_BATCH_PAUSE; RemoveInstances of #3 at
/// 110 s is a REMOVE_INSTANCES activity until 140 s (30 s destroy).
fn oq66_scenario(extra: &str) -> String {
    let base = format!(
        r##"
[[actions]]
id = "remove"
at = "110s"
action = "RemoveInstances"
request = {{ InstanceIds = ["#3"] }}
{extra}
"##
    );
    text(
        4,
        "instance_destroy = \"30s\"",
        &rolling("BatchNumber = 2, BatchPause = \"FIRST_BATCH_PAUSE\""),
        &base,
    )
}

/// (time_ms, kind, to) of the rows that start or end scaling activities, and batch 2's rows.
fn oq66_events(rows: &[refreshsim::timeline::Row]) -> Vec<(u64, String, String)> {
    rows.iter()
        .filter(|r| {
            (r.kind == "scaling_activity" && (r.to == "RUNNING" || !r.from.is_empty()))
                || (r.kind == "batch" && r.batch == 2)
        })
        .map(|r| (r.time_ms, r.kind.clone(), r.to.clone()))
        .collect()
}

#[test]
fn oq66_resume_during_a_manual_scaling_activity_waits_for_it_to_end() {
    let extra = r##"
[[actions]]
id = "resume"
at = "120s"
action = "ResumeInstanceRefresh"
[[actions]]
id = "look"
at = "130s"
action = "DescribeRefreshActivities"
"##;
    let r = run_text(&oq66_scenario(extra));
    assert_eq!(code(&r, "remove"), "OK");
    assert_eq!(code(&r, "resume"), "OK", "Resume is accepted, not refused");
    assert!(r.violations.is_empty(), "{:?}", r.violations);
    let rows = rows(&r);
    let events = oq66_events(&rows);
    let batch2_init = events
        .iter()
        .find(|(_, kind, to)| kind == "batch" && to == "INIT")
        .expect("batch 2 starts");
    assert_eq!(
        batch2_init.0, 140_000,
        "batch 2 starts when the removal ends: {events:?}"
    );
    let removal_end = rows
        .iter()
        .position(|r| {
            r.kind == "scaling_activity"
                && r.detail.contains("REMOVE_INSTANCES")
                && !r.from.is_empty()
        })
        .unwrap();
    let reset_start = rows
        .iter()
        .rposition(|r| {
            r.kind == "scaling_activity"
                && r.detail.contains("RESET_INSTANCES")
                && r.to == "RUNNING"
        })
        .unwrap();
    assert!(removal_end < reset_start, "{events:?}");
    // At 130 s the refresh is RUNNING with batch 2 still WAITING.
    let look = r
        .calls
        .iter()
        .find(|c| c.id.as_deref() == Some("look"))
        .unwrap();
    let act = &look.response["Response"]["RefreshActivitySet"][0];
    assert_eq!(act["Status"], "RUNNING");
    assert_eq!(act["RefreshBatchSet"][0]["RefreshBatchNum"], 2);
    assert_eq!(act["RefreshBatchSet"][0]["RefreshBatchStatus"], "WAITING");
    assert_eq!(first_activity(&r).status, ActivityStatus::Successful);
}

#[test]
fn oq66_a_stop_while_waiting_drops_the_step_and_the_next_resume_starts_it() {
    let extra = r##"
[[actions]]
id = "resume"
at = "120s"
action = "ResumeInstanceRefresh"
[[actions]]
id = "stop"
at = "125s"
action = "StopInstanceRefresh"
[[actions]]
id = "resume-again"
at = "200s"
action = "ResumeInstanceRefresh"
"##;
    let r = run_text(&oq66_scenario(extra));
    for id in ["resume", "stop", "resume-again"] {
        assert_eq!(code(&r, id), "OK", "{id}");
    }
    assert!(r.violations.is_empty(), "{:?}", r.violations);
    let events = oq66_events(&rows(&r));
    let batch2_init: Vec<u64> = events
        .iter()
        .filter(|(_, kind, to)| kind == "batch" && to == "INIT")
        .map(|e| e.0)
        .collect();
    assert_eq!(
        batch2_init,
        vec![200_000],
        "not at 140 s, while paused: {events:?}"
    );
    assert_eq!(first_activity(&r).status, ActivityStatus::Successful);
}

#[test]
fn oq66_an_external_scaling_activity_is_cancelled_during_a_batch_and_held_off_by_a_resume() {
    let extra = r##"
[[faults.events]]
at = "30s"
kind = "scaling_activity"
activity_type = "SCALE_OUT"
duration = "10s"
[[faults.events]]
at = "70s"
kind = "scaling_activity"
activity_type = "SCALE_OUT"
duration = "50s"
[[actions]]
id = "resume"
at = "80s"
action = "ResumeInstanceRefresh"
"##;
    let settings = rolling("BatchNumber = 2, BatchPause = \"FIRST_BATCH_PAUSE\"");
    let r = run(2, "", &settings, extra);
    assert_eq!(code(&r, "resume"), "OK");
    assert!(r.violations.is_empty(), "{:?}", r.violations);
    let rows = rows(&r);
    let external: Vec<(u64, String, String)> = rows
        .iter()
        .filter(|r| r.kind == "scaling_activity" && r.detail.contains("cause=external"))
        .map(|r| (r.time_ms, r.from.clone(), r.to.clone()))
        .collect();
    assert_eq!(
        external,
        vec![
            (30_000, String::new(), "CANCELLED".into()),
            (70_000, String::new(), "RUNNING".into()),
            (120_000, "RUNNING".into(), "SUCCESSFUL".into()),
        ],
        "triggered during batch 1: cancelled (§6.3); in the pause: runs"
    );
    let events = oq66_events(&rows);
    let batch2_init = events
        .iter()
        .find(|(_, kind, to)| kind == "batch" && to == "INIT")
        .unwrap();
    assert_eq!(batch2_init.0, 120_000, "{events:?}");
}

#[test]
fn oq32_an_ignored_matching_is_recorded_once_per_instant() {
    // In manual-removal-during-refresh, #4's removal ends at 170 s: the instance leaving and
    // its REMOVE_INSTANCES activity ending both trigger matching on the disabled group; one
    // ignored-matching row says so. No bundled scenario has two at one instant.
    for path in bundled_scenarios() {
        let s = refreshsim::scenario::load_scenario(&path).unwrap();
        let r = refreshsim::run::run_scenario(&s, s.seed, true).unwrap();
        let mut seen = std::collections::BTreeSet::new();
        for row in rows(&r) {
            if row.kind == "scaling_ignored" && row.detail.contains("desired-capacity matching") {
                assert!(
                    seen.insert(row.time_ms),
                    "{}: two ignored-matching rows at {} ms",
                    path.display(),
                    row.time_ms
                );
            }
        }
        if path.ends_with("manual-removal-during-refresh.toml") {
            assert!(seen.contains(&170_000), "{seen:?}");
        }
    }
}
