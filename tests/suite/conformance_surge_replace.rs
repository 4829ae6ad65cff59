//! Conformance tests for MaxSurge (spec §2.2, §3.9; OQ-6, OQ-7, OQ-8), ROLLING_UPDATE_REPLACE
//! (OQ-11, OQ-20) and CheckInstanceTargetHealth (§2.1; OQ-10 step 5), one per documented rule
//! or model decision, named after the spec section or OQ id they check
//! (`docs/rules.md`, `docs/decisions.md`).

use crate::common;

use crate::common::*;
use refreshsim::api::{
    Action, ActivityStatus, BatchStatus, ErrorCode, InstanceStatus, LifeCycleState,
};
use refreshsim::run::RunResult;
use refreshsim::sim::Simulation;
use refreshsim::time::SimTime;
use refreshsim::timeline::Row;

fn activity_name(sim: &Simulation) -> String {
    let w = sim.world();
    w.names.get(w.activities[0].id).to_string()
}
use serde_json::json;

/// Create 60 s, destroy 20 s, reinstall 60 s (from `text`).
const OPS: &str = "instance_create = \"60s\"\ninstance_destroy = \"20s\"";

fn rolling(fields: &str) -> String {
    format!("{{ RollingUpdateSettings = {{ {fields} }} }}")
}

/// Phase rows (OQ-8) of the first activity: (time, from, to).
fn phases(rows: &[Row]) -> Vec<(u64, String, String)> {
    rows.iter()
        .filter(|r| r.kind == "phase")
        .map(|r| (r.time_ms, r.from.clone(), r.to.clone()))
        .collect()
}

/// Ids of the surge instances that ever joined the group.
fn surge_ids(rows: &[Row]) -> Vec<String> {
    rows.iter()
        .filter(|r| r.kind == "instance_joined" && r.detail.contains("surge=true"))
        .map(|r| r.instance_id.clone())
        .collect()
}

/// (time, from, to, type, instances) of every scaling-activity row.
fn scaling_activities(rows: &[Row]) -> Vec<(u64, String, String, String)> {
    rows.iter()
        .filter(|r| r.kind == "scaling_activity")
        .map(|r| {
            let kind = r
                .detail
                .split(' ')
                .find_map(|kv| kv.strip_prefix("type="))
                .unwrap_or_default()
                .to_string();
            (r.time_ms, r.from.clone(), r.to.clone(), kind)
        })
        .collect()
}

fn status_cause(rows: &[Row], to: &str) -> String {
    rows.iter()
        .find(|r| r.kind == "activity" && r.to == to)
        .unwrap_or_else(|| panic!("no activity row to {to}"))
        .detail
        .clone()
}

// ---- MaxSurge: phases and accounting (§2.2, §3.9, OQ-7, OQ-8) ----------------------------------

#[test]
fn oq8_surge_phases_are_surge_out_then_batches_then_surge_in() {
    let r = run(4, OPS, &rolling("BatchNumber = 2, MaxSurge = 1"), "");
    let rows = rows(&r);
    // Surge created 0–60 s, batches 60–120–180 s, surge destroyed 180–200 s.
    assert_eq!(
        phases(&rows),
        vec![
            (0, "INIT".into(), "SURGE_OUT".into()),
            (60_000, "SURGE_OUT".into(), "BATCHES".into()),
            (180_000, "BATCHES".into(), "SURGE_IN".into()),
            (200_000, "SURGE_IN".into(), "DONE".into()),
        ]
    );
    let act = first_activity(&r);
    assert_eq!(
        act.batches[0].started,
        Some(SimTime(60_000)),
        "§3.9 rule 1: batch 1 starts only once the surge instances are created"
    );
    assert_eq!(act.status, ActivityStatus::Successful);
    assert_eq!(
        act.ended,
        Some(SimTime(200_000)),
        "§3.9 rule 3: SUCCESSFUL only after the surge instances are destroyed"
    );
    // OQ-8: the public status is RUNNING throughout the surge phases.
    assert_eq!(
        activity_statuses(&r),
        vec![
            ActivityStatus::Init,
            ActivityStatus::Running,
            ActivityStatus::Successful
        ]
    );
    // OQ-7/OQ-20: a SCALE_OUT before the batches and a SCALE_IN after them.
    let types: Vec<(u64, String)> = scaling_activities(&rows)
        .into_iter()
        .filter(|(_, from, _, _)| from.is_empty())
        .map(|(t, _, _, kind)| (t, kind))
        .collect();
    assert_eq!(
        types,
        vec![
            (0, "SCALE_OUT".into()),
            (60_000, "RESET_INSTANCES".into()),
            (120_000, "RESET_INSTANCES".into()),
            (180_000, "SCALE_IN".into()),
        ]
    );
}

#[test]
fn oq33_oq7_surge_instances_are_in_no_batch_keep_desired_capacity_and_ignore_max_size() {
    // MaxSize = DesiredCapacity = 4: surge instances are not bounded by MaxSize (OQ-7).
    let toml = with_group(
        &text(
            4,
            OPS,
            &rolling("BatchNumber = 2, MaxSurge = 2"),
            r#"
[[actions]]
id = "groups-mid-refresh"
at = "90s"
action = "DescribeAutoScalingGroups"
"#,
        ),
        "max_size = 4\ndesired_capacity = 4",
    );
    let r = run_text(&toml);
    let rows = rows(&r);
    let surge = surge_ids(&rows);
    assert_eq!(surge.len(), 2, "MaxSurge = 2 instances created");
    assert!(
        rows.iter()
            .filter(|r| surge.contains(&r.instance_id) && r.kind == "instance_joined")
            .all(|r| r.detail.contains("creation=AUTO_CREATION")),
        "OQ-7: CreationType AUTO_CREATION"
    );
    let act = first_activity(&r);
    assert_eq!(
        act.items.len(),
        4,
        "only the 4 original instances are batched"
    );
    for id in &surge {
        let index = r.world.instance_by_name(id).unwrap();
        assert!(
            act.items.iter().all(|it| it.instance != index),
            "OQ-7/OQ-33: surge instance {id} is in no batch"
        );
        assert!(r.world.instances[index as usize].surge);
        assert!(
            !r.world.instances[index as usize].in_group,
            "§2.2: destroyed after the rolling update"
        );
        let left = transitions(&rows, "instance_left", id);
        assert_eq!(
            left,
            vec![(200_000, "TERMINATING".into(), "DESTROYED".into())]
        );
    }
    // Mid-refresh: 6 members, DesiredCapacity still 4.
    let call = r
        .calls
        .iter()
        .find(|c| c.id.as_deref() == Some("groups-mid-refresh"))
        .unwrap();
    let group = &call.response["Response"]["AutoScalingGroupSet"][0];
    assert_eq!(group["InstanceCount"], 6);
    assert_eq!(
        group["DesiredCapacity"], 4,
        "OQ-7: DesiredCapacity unchanged"
    );
    assert_eq!(r.world.group.desired_capacity, 4);
    assert_eq!(act.status, ActivityStatus::Successful);
    // With 2 surge instances and batches of 2, in-service capacity never drops below 4.
    assert_eq!(r.metrics.min_in_service, Some(4));
}

#[test]
fn oq7_removing_a_surge_instance_during_a_pause_keeps_desired_capacity() {
    // §2.2, OQ-6..OQ-8: surge instances are not counted in DesiredCapacity, so removing one by
    // hand must not lower it; otherwise the group, re-enabled after the refresh, scales in a
    // just-refreshed instance to match the lowered DesiredCapacity.
    let toml = with_group(
        &text(
            4,
            OPS,
            &rolling("BatchNumber = 2, MaxSurge = 2, BatchPause = \"FIRST_BATCH_PAUSE\""),
            "",
        ),
        "max_size = 6\ndesired_capacity = 4",
    );
    let (mut sim, mut sink) = engine_text(&toml, false);
    // Surge 0–60 s, batch 1 60–120 s, then AUTO_PAUSE.
    sim.advance_until(SimTime(130_000), &mut sink).unwrap();
    assert_eq!(sim.world().activities[0].status, ActivityStatus::AutoPause);
    let w = sim.world();
    let surge: Vec<String> = w
        .instances
        .iter()
        .filter(|i| i.surge && i.in_group)
        .map(|i| w.names.get(i.id).to_string())
        .collect();
    assert_eq!(surge.len(), 2);
    let remove = json!({"AutoScalingGroupId": "asg-test0001", "InstanceIds": [surge[0]]});
    assert!(call(&mut sim, &mut sink, Action::RemoveInstances, remove).is_ok());
    sim.advance_until(SimTime(200_000), &mut sink).unwrap();
    assert_eq!(
        sim.world().group.desired_capacity,
        4,
        "OQ-7: the surge removal left DesiredCapacity alone"
    );
    let id = activity_name(&sim);
    let resume = json!({"AutoScalingGroupId": "asg-test0001", "RefreshActivityId": id});
    assert!(call(&mut sim, &mut sink, Action::ResumeInstanceRefresh, resume).is_ok());
    sim.run_until_idle(&mut sink).unwrap();
    let w = sim.world();
    let act = &w.activities[0];
    assert_eq!(act.status, ActivityStatus::Successful);
    assert_eq!(w.group.desired_capacity, 4);
    let members: Vec<_> = w.instances.iter().filter(|i| i.in_group).collect();
    assert_eq!(members.len(), 4, "the group ends at its pre-refresh size");
    assert!(members.iter().all(|i| !i.surge));
    for it in &act.items {
        assert_eq!(it.status, InstanceStatus::Successful);
        assert!(
            w.instances[it.instance as usize].in_group,
            "no refreshed instance was destroyed"
        );
    }
    let rows = engine_rows(&sim, &sink);
    assert!(
        !rows
            .iter()
            .any(|r| r.kind == "scaling_activity" && r.detail.contains("desired")),
        "no desired-capacity matching activity ran"
    );
}

// ---- MaxSurge admission (OQ-6, OQ-27 step 11) -------------------------------------------------

fn start_body(settings: serde_json::Value) -> serde_json::Value {
    json!({"AutoScalingGroupId": "asg-test0001", "RefreshSettings": {"RollingUpdateSettings": settings}})
}

fn start_code(size: usize, settings: serde_json::Value) -> Result<(), ErrorCode> {
    let (mut sim, mut sink) = engine_text(&text(size, "", &rolling("BatchNumber = 1"), ""), true);
    call(
        &mut sim,
        &mut sink,
        Action::StartInstanceRefresh,
        start_body(settings),
    )
    .map(|_| ())
}

#[test]
fn oq6_max_surge_may_equal_the_largest_batch_and_no_more() {
    // 5 instances over 3 batches: 2, 2, 1 → at most 2 surge instances.
    assert_eq!(
        start_code(5, json!({"BatchNumber": 3, "MaxSurge": 2})),
        Ok(())
    );
    assert_eq!(
        start_code(5, json!({"BatchNumber": 3, "MaxSurge": 3})),
        Err(ErrorCode::InvalidParameterValueMaxSurgeTooLarge)
    );
    // 6 over 3: batches of 2.
    assert_eq!(
        start_code(6, json!({"BatchNumber": 3, "MaxSurge": 2})),
        Ok(())
    );
    assert_eq!(
        start_code(6, json!({"BatchNumber": 3, "MaxSurge": 3})),
        Err(ErrorCode::InvalidParameterValueMaxSurgeTooLarge)
    );
    // One instance per batch: MaxSurge 1 at most.
    assert_eq!(
        start_code(5, json!({"BatchNumber": 5, "MaxSurge": 1})),
        Ok(())
    );
    assert_eq!(
        start_code(5, json!({"BatchNumber": 5, "MaxSurge": 2})),
        Err(ErrorCode::InvalidParameterValueMaxSurgeTooLarge)
    );
    // OQ-27: BatchNumberTooLarge (10) is checked before MaxSurgeTooLarge (11).
    assert_eq!(
        start_code(5, json!({"BatchNumber": 6, "MaxSurge": 9})),
        Err(ErrorCode::InvalidParameterValueBatchNumberTooLarge)
    );
}

#[test]
fn oq6_negative_max_surge_is_invalid_and_zero_means_no_surge() {
    assert_eq!(
        start_code(2, json!({"BatchNumber": 1, "MaxSurge": -1})),
        Err(ErrorCode::InvalidParameterValue),
        "the common code, not InvalidParameterValue.Range"
    );
    let r = run(2, "", &rolling("BatchNumber = 1, MaxSurge = 0"), "");
    let rows = rows(&r);
    assert!(surge_ids(&rows).is_empty());
    assert_eq!(
        phases(&rows)[0],
        (0, "INIT".into(), "BATCHES".into()),
        "OQ-8: surge phases skipped"
    );
}

// ---- Surge scale-out failures (OQ-7, §3.5, §3.9 rule 5) --------------------------------------

/// 4 instances, 2 batches, MaxSurge 2, but room for only one more instance in the group: the
/// scale-out creates one surge instance and fails the other (a synthetic instance cap).
fn short_of_room(fail_process: &str, extra: &str) -> String {
    let settings = rolling(&format!(
        "BatchNumber = 2, MaxSurge = 2, FailProcess = \"{fail_process}\""
    ));
    let toml = text(4, OPS, &settings, extra);
    toml.replace_once("seed = 7", "seed = 7\nlimits = { max_instances = 5 }")
}

#[test]
fn oq7_surge_scale_out_failure_with_auto_pause_is_failed_pause_before_any_batch() {
    let r = run_text(&short_of_room("AUTO_PAUSE", ""));
    let rows = rows(&r);
    let act = first_activity(&r);
    assert_eq!(act.status, ActivityStatus::FailedPause);
    assert!(status_cause(&rows, "FAILED_PAUSE").contains("MaxSurge scale-out failed"));
    assert_eq!(
        first_time(&r, "activity", "FAILED_PAUSE", None),
        Some(60_000)
    );
    assert_eq!(
        batch_statuses(act),
        vec![BatchStatus::Waiting, BatchStatus::Waiting]
    );
    assert!(
        act.items
            .iter()
            .all(|i| i.status == InstanceStatus::Waiting),
        "no instance refreshed"
    );
    assert_eq!(
        scaling_activities(&rows)[1],
        (
            60_000,
            "RUNNING".into(),
            "PARTIALLY_SUCCESSFUL".into(),
            "SCALE_OUT".into()
        )
    );
    // The surge instance that was created is kept for the Resume.
    let surge = surge_ids(&rows);
    assert_eq!(surge.len(), 1);
    let kept = r.world.instance_by_name(&surge[0]).unwrap() as usize;
    assert!(r.world.instances[kept].in_group);
}

#[test]
fn oq7_surge_scale_out_failure_with_auto_cancel_cancels_and_destroys_created_surge_instances() {
    for fail_process in ["AUTO_CANCEL", "AUTO_ROLLBACK"] {
        let r = run_text(&short_of_room(fail_process, ""));
        let rows = rows(&r);
        assert_eq!(
            r.world.activities.len(),
            1,
            "{fail_process}: §2.2 a surge failure needs no rollback"
        );
        let act = first_activity(&r);
        assert_eq!(act.status, ActivityStatus::Cancelled, "{fail_process}");
        assert_eq!(act.ended, Some(SimTime(60_000)));
        assert!(status_cause(&rows, "CANCELLED").contains("MaxSurge scale-out failed"));
        assert_eq!(
            batch_statuses(act),
            vec![BatchStatus::Cancelled, BatchStatus::Cancelled]
        );
        let surge = surge_ids(&rows);
        assert_eq!(surge.len(), 1);
        assert_eq!(
            transitions(&rows, "instance_left", &surge[0]),
            vec![(80_000, "TERMINATING".into(), "DESTROYED".into())],
            "{fail_process}: the created surge instance is destroyed (§1.5 rule 5)"
        );
    }
}

#[test]
fn s1_4_resume_after_a_surge_scale_out_failure_creates_only_the_missing_instances() {
    // At 100 s an instance pending refresh is terminated outside AS, making room for one more.
    let extra = r##"
[[faults.events]]
at = "100s"
kind = "destroy"
instance = "#4"
[[actions]]
id = "resume"
at = "120s"
action = "ResumeInstanceRefresh"
"##;
    let r = run_text(&short_of_room("AUTO_PAUSE", extra));
    let rows = rows(&r);
    assert_eq!(code(&r, "resume"), "OK");
    let scale_outs: Vec<(u64, String)> = rows
        .iter()
        .filter(|r| r.kind == "scaling_activity" && r.from.is_empty())
        .filter(|r| r.detail.contains("type=SCALE_OUT") && !r.activity_id.is_empty())
        .map(|r| (r.time_ms, r.detail.clone()))
        .collect();
    assert_eq!(scale_outs.len(), 2);
    assert_eq!(scale_outs[1].0, 120_000);
    assert!(
        scale_outs[1].1.contains("instances=1 "),
        "only the missing surge instance: {}",
        scale_outs[1].1
    );
    assert_eq!(surge_ids(&rows).len(), 2, "1 + 1, not 1 + 2");
    let act = first_activity(&r);
    assert_eq!(act.batches[0].started, Some(SimTime(180_000)));
    assert_eq!(act.status, ActivityStatus::Successful);
}

#[test]
fn oq7_surge_instances_count_toward_the_2000_instance_cap() {
    // A full group cannot create a surge instance: the scale-out fails at once.
    let r = run(2000, OPS, &rolling("BatchNumber = 2000, MaxSurge = 1"), "");
    let rows = rows(&r);
    assert!(surge_ids(&rows).is_empty());
    let act = first_activity(&r);
    assert_eq!(act.status, ActivityStatus::FailedPause);
    assert!(status_cause(&rows, "FAILED_PAUSE").contains("MaxSurge scale-out failed"));
    assert!(scaling_activities(&rows).contains(&(
        0,
        "RUNNING".into(),
        "FAILED".into(),
        "SCALE_OUT".into()
    )));
    // One instance fewer and the surge instance fits.
    let r = run(1999, OPS, &rolling("BatchNumber = 1, MaxSurge = 1"), "");
    assert_eq!(surge_ids(&common::rows(&r)).len(), 1);
    assert_eq!(first_activity(&r).status, ActivityStatus::Successful);
}

// ---- Surge scale-in failure, Stop and Cancel around the surge phases (OQ-7, OQ-21, OQ-24) ------

/// 2 instances, 1 batch, MaxSurge 1: surge created 0–60 s, batch 60–120 s, surge destroyed
/// 120–140 s. Destruction fails while `destroy_blocked` (from 100 s to 200 s).
fn scale_in_blocked(fail_process: &str, extra: &str) -> RunResult {
    let settings = rolling(&format!(
        "BatchNumber = 1, MaxSurge = 1, FailProcess = \"{fail_process}\""
    ));
    let faults = format!(
        r##"
[[faults.events]]
at = "100s"
kind = "destroy_blocked"
[[faults.events]]
at = "200s"
kind = "destroy_blocked"
blocked = false
{extra}"##
    );
    run(2, OPS, &settings, &faults)
}

#[test]
fn oq7_surge_scale_in_failure_pauses_whatever_fail_process() {
    for fail_process in ["AUTO_PAUSE", "AUTO_CANCEL", "AUTO_ROLLBACK"] {
        let r = scale_in_blocked(fail_process, "");
        let rows = rows(&r);
        assert_eq!(r.world.activities.len(), 1, "{fail_process}: no rollback");
        let act = first_activity(&r);
        assert_eq!(act.status, ActivityStatus::FailedPause, "{fail_process}");
        assert!(status_cause(&rows, "FAILED_PAUSE").contains("MaxSurge scale-in failed"));
        assert_eq!(
            first_time(&r, "activity", "FAILED_PAUSE", None),
            Some(140_000)
        );
        assert_eq!(batch_statuses(act), vec![BatchStatus::Successful]);
        let surge = &surge_ids(&rows)[0];
        let index = r.world.instance_by_name(surge).unwrap() as usize;
        assert!(r.world.instances[index].in_group, "not destroyed");
        assert_eq!(
            r.world.instances[index].state,
            LifeCycleState::TerminationFailed
        );
    }
}

#[test]
fn oq63_rollback_is_refused_in_the_final_scale_in_after_a_scale_in_failure() {
    // §1.5 rule 6 refuses Cancel in the final scale-in (every batch already succeeded); a
    // rollback there would mark the origin CANCELLED and run beside the SCALE_IN (§6.2, OQ-18).
    let extra = r##"
[[actions]]
id = "rollback-after-scale-in-failure"
at = "150s"
action = "RollbackInstanceRefresh"
request = { RefreshSettings = { RollingUpdateSettings = { BatchNumber = 1 } } }
[[actions]]
id = "resume"
at = "300s"
action = "ResumeInstanceRefresh"
"##;
    let r = scale_in_blocked("AUTO_PAUSE", extra);
    assert_eq!(
        code(&r, "rollback-after-scale-in-failure"),
        "ResourceUnavailable.RefreshActivityStatusConflictWithOperation"
    );
    assert_eq!(r.world.activities.len(), 1, "no rollback activity created");
    let act = first_activity(&r);
    assert_eq!(batch_statuses(act), vec![BatchStatus::Successful]);
    assert_eq!(code(&r, "resume"), "OK");
    assert_eq!(act.status, ActivityStatus::Successful, "not CANCELLED");
    assert!(r.world.instances.iter().all(|i| !i.surge || !i.in_group));
}

#[test]
fn s1_4_resume_retries_a_failed_surge_scale_in() {
    let extra = "[[actions]]\nid = \"resume\"\nat = \"300s\"\naction = \"ResumeInstanceRefresh\"\n";
    let r = scale_in_blocked("AUTO_CANCEL", extra);
    assert_eq!(code(&r, "resume"), "OK");
    let act = first_activity(&r);
    assert_eq!(act.status, ActivityStatus::Successful);
    assert_eq!(act.ended, Some(SimTime(320_000)));
    assert!(r.world.instances.iter().all(|i| !i.surge || !i.in_group));
}

#[test]
fn s1_3_rule3_s1_5_rule6_stop_and_cancel_are_refused_during_the_final_scale_in() {
    let extra = r##"
[[actions]]
id = "stop-in-scale-in"
at = "130s"
action = "StopInstanceRefresh"
[[actions]]
id = "cancel-in-scale-in"
at = "131s"
action = "CancelInstanceRefresh"
[[actions]]
id = "cancel-after-scale-in-failure"
at = "150s"
action = "CancelInstanceRefresh"
[[actions]]
id = "stop-after-scale-in-failure"
at = "151s"
action = "StopInstanceRefresh"
"##;
    let r = scale_in_blocked("AUTO_CANCEL", extra);
    for id in [
        "stop-in-scale-in",
        "cancel-in-scale-in",
        "cancel-after-scale-in-failure",
        "stop-after-scale-in-failure",
    ] {
        assert_eq!(
            code(&r, id),
            "ResourceUnavailable.RefreshActivityStatusConflictWithOperation",
            "{id}"
        );
    }
    assert_eq!(first_activity(&r).status, ActivityStatus::FailedPause);
}

#[test]
fn s1_3_rule2_stop_during_the_surge_scale_out_lets_it_finish_and_holds_batch_one() {
    let extra = r##"
[[actions]]
id = "stop"
at = "10s"
action = "StopInstanceRefresh"
[[actions]]
id = "cancel-while-scaling-out"
at = "30s"
action = "CancelInstanceRefresh"
[[actions]]
id = "resume"
at = "100s"
action = "ResumeInstanceRefresh"
"##;
    let r = run(2, OPS, &rolling("BatchNumber = 1, MaxSurge = 1"), extra);
    let rows = rows(&r);
    assert_eq!(code(&r, "stop"), "OK");
    assert_eq!(
        first_time(&r, "activity", "MANUAL_PAUSE", None),
        Some(10_000)
    );
    // OQ-24: no Cancel while a surge scale-out is in flight.
    assert_eq!(
        code(&r, "cancel-while-scaling-out"),
        "ResourceUnavailable.RefreshActivityStatusConflictWithOperation"
    );
    let surge = &surge_ids(&rows)[0];
    assert!(
        transitions(&rows, "lifecycle", surge).contains(&(
            60_000,
            "CREATING".into(),
            "IN_SERVICE".into()
        )),
        "the scale-out carried on under the manual pause"
    );
    let act = first_activity(&r);
    assert_eq!(
        act.batches[0].started,
        Some(SimTime(100_000)),
        "batch 1 waited for the Resume"
    );
    assert_eq!(act.status, ActivityStatus::Successful);
}

#[test]
fn s1_5_rule5_cancel_of_a_paused_activity_destroys_the_surge_instances() {
    let settings = rolling("BatchNumber = 2, MaxSurge = 1, BatchPause = \"FIRST_BATCH_PAUSE\"");
    let extra = "[[actions]]\nid = \"cancel\"\nwhen = { activity_status = \"AUTO_PAUSE\" }\nafter = \"10s\"\naction = \"CancelInstanceRefresh\"\n";
    let r = run(4, OPS, &settings, extra);
    let rows = rows(&r);
    assert_eq!(code(&r, "cancel"), "OK");
    let act = first_activity(&r);
    assert_eq!(act.status, ActivityStatus::Cancelled);
    assert_eq!(act.ended, Some(SimTime(130_000)));
    assert_eq!(
        batch_statuses(act),
        vec![BatchStatus::Successful, BatchStatus::Cancelled]
    );
    let surge = &surge_ids(&rows)[0];
    assert_eq!(
        transitions(&rows, "instance_left", surge),
        vec![(150_000, "TERMINATING".into(), "DESTROYED".into())]
    );
    assert!(scaling_activities(&rows).contains(&(
        130_000,
        String::new(),
        "RUNNING".into(),
        "SCALE_IN".into()
    )));
}

#[test]
fn oq32_capacity_lost_during_the_refresh_is_matched_once_the_surge_clean_up_after_a_cancel_ends() {
    // #4 (waiting in batch 2) is terminated at 90 s; the activity pauses at 120 s and is
    // cancelled at 130 s: the group is enabled again, and as soon as the surge clean-up
    // (130–150 s) no longer keeps it in a scaling activity, the lost instance is replaced.
    let settings = rolling("BatchNumber = 2, MaxSurge = 1, BatchPause = \"FIRST_BATCH_PAUSE\"");
    let extra = r##"
[[faults.events]]
at = "90s"
kind = "destroy"
instance = "#4"
[[actions]]
id = "cancel"
at = "130s"
action = "CancelInstanceRefresh"
"##;
    let r = run(4, OPS, &settings, extra);
    assert_eq!(code(&r, "cancel"), "OK");
    let rows = rows(&r);
    let scale_outs: Vec<u64> = rows
        .iter()
        .filter(|row| row.kind == "scaling_activity" && row.from.is_empty())
        .filter(|row| row.activity_id.is_empty() && row.detail.contains("type=SCALE_OUT"))
        .map(|row| row.time_ms)
        .collect();
    assert_eq!(scale_outs, vec![150_000]);
    assert_eq!(r.world.in_service_count(), 4);
}

// ---- ROLLING_UPDATE_REPLACE (OQ-11, OQ-20) -----------------------------------------------------

const REPLACE_HEALTH: &str = "{ CheckInstanceTargetHealth = true, CheckInstanceTargetHealthTimeout = 60, RollingUpdateSettings = { BatchNumber = 1 } }";

fn replace_run(size: usize, group: &str, timing: &str, settings: &str, extra: &str) -> RunResult {
    let toml = text(size, timing, settings, extra).replace_once(
        "action = \"StartInstanceRefresh\"\nrequest = {",
        "action = \"StartInstanceRefresh\"\nrequest = { RefreshMode = \"ROLLING_UPDATE_REPLACE\",",
    );
    run_text(&with_group(&toml, group))
}

#[test]
fn oq11_replace_removes_the_old_instance_only_after_the_new_one_is_in_service_and_healthy() {
    let timing = format!("{OPS}\ntarget_health = \"15s\"");
    let r = replace_run(2, "forward_clb = true", &timing, REPLACE_HEALTH, "");
    let rows = rows(&r);
    let act = first_activity(&r);
    assert_eq!(act.status, ActivityStatus::Successful);
    for (n, item) in act.items.iter().enumerate() {
        let old = r
            .world
            .names
            .get(r.world.instances[item.instance as usize].id);
        let new = item.replacement.expect("a new instance per old one");
        let new_name = r.world.names.get(r.world.instances[new as usize].id);
        assert!(r.world.instances[new as usize].in_group);
        assert!(!r.world.instances[item.instance as usize].in_group);
        // New: CREATING → IN_SERVICE at 60 s; target healthy 15 s later; only then the old
        // instance is removed (20 s).
        assert!(
            transitions(&rows, "lifecycle", new_name).contains(&(
                60_000,
                "CREATING".into(),
                "IN_SERVICE".into()
            )),
            "item {n}"
        );
        assert_eq!(
            transitions(&rows, "lifecycle", old),
            vec![(75_000, "IN_SERVICE".into(), "TERMINATING".into())],
            "the old instance served until its replacement was healthy, never in standby"
        );
        assert_eq!(
            transitions(&rows, "instance_left", old),
            vec![(95_000, "TERMINATING".into(), "DESTROYED".into())]
        );
    }
    // The batch record keeps the old InstanceIds, SUCCESSFUL.
    let originals: Vec<String> = (0..2).map(|n| instance_name(&r.world, n)).collect();
    let listed: Vec<(String, InstanceStatus)> = instance_statuses(&r.world, act);
    assert_eq!(
        listed,
        originals
            .iter()
            .map(|id| (id.clone(), InstanceStatus::Successful))
            .collect::<Vec<_>>()
    );
    let set = &r.describe["Response"]["RefreshActivitySet"][0]["RefreshBatchSet"][0]["RefreshBatchRelatedInstanceSet"];
    assert_eq!(set[0]["InstanceId"], originals[0].as_str());
    assert_eq!(set[1]["InstanceStatus"], "SUCCESSFUL");
    // Capacity never drops; DesiredCapacity unchanged.
    assert_eq!(r.metrics.min_in_service, Some(2));
    assert_eq!(r.world.group.desired_capacity, 2);
}

#[test]
fn oq56_oq20_replace_uses_a_scale_out_then_a_remove_instances_activity_per_batch() {
    let r = replace_run(2, "", OPS, &rolling("BatchNumber = 1"), "");
    let rows = rows(&r);
    let started: Vec<(u64, String)> = scaling_activities(&rows)
        .into_iter()
        .filter(|(_, from, _, _)| from.is_empty())
        .map(|(t, _, _, kind)| (t, kind))
        .collect();
    assert_eq!(
        started,
        vec![(0, "SCALE_OUT".into()), (60_000, "REMOVE_INSTANCES".into())]
    );
    let act = first_activity(&r);
    let remove = r
        .world
        .scaling_activities
        .iter()
        .find(|s| s.activity_type == refreshsim::api::ScalingActivityType::RemoveInstances)
        .unwrap();
    assert!(
        act.items
            .iter()
            .all(|it| it.last_activity == Some(remove.id)),
        "LastActivityId = the most recent scaling activity touching the instance"
    );
}

#[test]
fn oq48_oq11_replace_creation_failure_fails_the_old_instance_but_keeps_it_in_service() {
    let extra = "[[faults.events]]\nat = \"0s\"\nkind = \"create_blocked\"\n";
    let r = replace_run(2, "", OPS, &rolling("BatchNumber = 1"), extra);
    let rows = rows(&r);
    let act = first_activity(&r);
    assert_eq!(act.status, ActivityStatus::FailedPause);
    assert_eq!(batch_statuses(act), vec![BatchStatus::Failed]);
    for item in &act.items {
        assert_eq!(item.status, InstanceStatus::Failed);
        assert_eq!(
            item.msg.render(&r.world.names),
            "create new instance failed"
        );
        let old = &r.world.instances[item.instance as usize];
        assert!(old.in_group);
        assert_eq!(
            old.state,
            LifeCycleState::InService,
            "not in standby (OQ-11)"
        );
        assert!(!old.held_by_refresh);
        let new = item.replacement.unwrap() as usize;
        assert!(
            !r.world.instances[new].in_group,
            "the failed new instance is released"
        );
    }
    assert_eq!(r.metrics.min_in_service, Some(2));
    assert!(
        rows.iter()
            .filter(|r| r.kind == "lifecycle")
            .all(|r| r.to != "IN_STANDBY")
    );
}

#[test]
fn oq53_oq11_replace_health_timeout_releases_the_new_instance_and_keeps_the_old_one() {
    let extra = "[[faults.scripted]]\ninstance = \"#1\"\nstep = \"target_health\"\n";
    let r = replace_run(2, "forward_clb = true", OPS, REPLACE_HEALTH, extra);
    let act = first_activity(&r);
    assert_eq!(act.items[0].status, InstanceStatus::Failed);
    assert_eq!(act.items[1].status, InstanceStatus::Successful);
    let item = &act.items[0];
    assert_eq!(
        item.msg.render(&r.world.names),
        "target health check did not pass within 60s"
    );
    let new = item.replacement.unwrap() as usize;
    assert!(!r.world.instances[new].in_group);
    // A real destruction: TERMINATING for instance_destroy (20 s), then DESTROYED — never
    // IN_SERVICE → DESTROYED in no time.
    let new_id = r.world.names.get(r.world.instances[new].id).to_string();
    let rows = rows(&r);
    let failed_at = first_time(&r, "instance", "FAILED", None).unwrap();
    let left = transitions(&rows, "instance_left", &new_id);
    assert_eq!(
        left,
        vec![(failed_at + 20_000, "TERMINATING".into(), "DESTROYED".into())]
    );
    assert_eq!(
        r.world.instances[item.instance as usize].state,
        LifeCycleState::InService
    );
    assert_eq!(batch_statuses(act), vec![BatchStatus::PartiallySuccessful]);
}

#[test]
fn oq65_oq11_the_remove_instances_activity_counts_and_ends_with_the_removals_it_made() {
    // #1's new instance fails the health check (kept old instance, OQ-53); only #2's old
    // instance is removed: the REMOVE_INSTANCES activity says 1 instance and SUCCESSFUL, while
    // the batch (and its SCALE_OUT activity, OQ-45) is PARTIALLY_SUCCESSFUL.
    let extra = "[[faults.scripted]]\ninstance = \"#1\"\nstep = \"target_health\"\n";
    let r = replace_run(2, "forward_clb = true", OPS, REPLACE_HEALTH, extra);
    let act = first_activity(&r);
    assert_eq!(batch_statuses(act), vec![BatchStatus::PartiallySuccessful]);
    let of_type = |t: refreshsim::api::ScalingActivityType| {
        r.world
            .scaling_activities
            .iter()
            .find(|s| s.activity_type == t)
            .unwrap()
    };
    let remove = of_type(refreshsim::api::ScalingActivityType::RemoveInstances);
    assert_eq!(remove.instances, 1);
    assert_eq!(
        remove.status,
        refreshsim::api::ScalingActivityStatus::Successful
    );
    let scale_out = of_type(refreshsim::api::ScalingActivityType::ScaleOut);
    assert_eq!(
        scale_out.status,
        refreshsim::api::ScalingActivityStatus::PartiallySuccessful
    );
}

#[test]
fn oq11_replace_detaches_a_manually_attached_old_instance_instead_of_destroying_it() {
    let toml = text(2, OPS, &rolling("BatchNumber = 1"), "")
        .replace_once(
            "size = 2\nimage_id = \"img-old\"",
            "[[group.instances]]\nid = \"ins-auto0001\"\n[[group.instances]]\nid = \"ins-mine0001\"\ncreation = \"MANUAL_ATTACHING\"",
        )
        .replace_once(
            "action = \"StartInstanceRefresh\"\nrequest = {",
            "action = \"StartInstanceRefresh\"\nrequest = { RefreshMode = \"ROLLING_UPDATE_REPLACE\",",
        );
    let r = run_text(&toml);
    let rows = rows(&r);
    assert_eq!(first_activity(&r).status, ActivityStatus::Successful);
    assert_eq!(
        transitions(&rows, "instance_left", "ins-auto0001"),
        vec![(80_000, "TERMINATING".into(), "DESTROYED".into())]
    );
    assert_eq!(
        transitions(&rows, "instance_left", "ins-mine0001"),
        vec![(80_000, "DETACHING".into(), "DETACHED".into())]
    );
}

#[test]
fn oq11_a_replace_activity_cannot_be_rolled_back() {
    let extra = r#"
[[actions]]
id = "rollback"
at = "1h"
action = "RollbackInstanceRefresh"
request = { RefreshSettings = { RollingUpdateSettings = { BatchNumber = 1 } } }
"#;
    let r = replace_run(2, "", OPS, &rolling("BatchNumber = 1"), extra);
    assert_eq!(first_activity(&r).status, ActivityStatus::Successful);
    assert_eq!(
        code(&r, "rollback"),
        "ResourceUnavailable.RefreshActivityStatusConflictWithOperation",
        "§1.6 rule 6, OQ-25 step 3: even the latest SUCCESSFUL one"
    );
    assert_eq!(r.world.activities.len(), 1);
}

#[test]
fn oq55_auto_rollback_on_a_replace_activity_behaves_as_auto_pause() {
    // Batch 1 replaces #1, #2 (0–80 s); batch 2's new instances fail to create at 140 s.
    let extra = "[[faults.events]]\nat = \"100s\"\nkind = \"create_blocked\"\n";
    let settings = rolling("BatchNumber = 2, FailProcess = \"AUTO_ROLLBACK\"");
    let r = replace_run(4, "", OPS, &settings, extra);
    assert_eq!(
        r.world.activities.len(),
        1,
        "§1.6 rule 6: no rollback of a REPLACE activity, not even an automatic one"
    );
    let act = first_activity(&r);
    assert_eq!(act.status, ActivityStatus::FailedPause);
    assert_eq!(
        batch_statuses(act),
        vec![BatchStatus::Successful, BatchStatus::Failed]
    );
    assert!(rows(&r).iter().all(|row| row.kind != "reinstall"));
}

// ---- CheckInstanceTargetHealth (§2.1, OQ-10 step 5) --------------------------------------------

const NEVER_HEALTHY_1: &str = "[[faults.scripted]]\ninstance = \"#1\"\nstep = \"target_health\"\n";
const HEALTH_60: &str = "{ CheckInstanceTargetHealth = true, CheckInstanceTargetHealthTimeout = 60, RollingUpdateSettings = { BatchNumber = 1 } }";

#[test]
fn s2_1_target_health_check_applies_only_with_a_forward_clb() {
    let with_clb = run_text(&with_group(
        &text(2, "", HEALTH_60, NEVER_HEALTHY_1),
        "forward_clb = true",
    ));
    assert_eq!(
        first_activity(&with_clb).items[0].status,
        InstanceStatus::Failed
    );
    // The same run without a forward CLB ignores the check.
    let without = run(2, "", HEALTH_60, NEVER_HEALTHY_1);
    let act = first_activity(&without);
    assert_eq!(act.items[0].status, InstanceStatus::Successful);
    assert_eq!(act.ended, Some(SimTime(60_000)), "no wait for the target");
    // And with a forward CLB but the check off.
    let off = run_text(&with_group(
        &text(2, "", &rolling("BatchNumber = 1"), NEVER_HEALTHY_1),
        "forward_clb = true",
    ));
    assert_eq!(first_activity(&off).status, ActivityStatus::Successful);
}

#[test]
fn s2_1_target_health_timeout_fails_the_instance_with_weight_zero() {
    let r = run_text(&with_group(
        &text(2, "", HEALTH_60, NEVER_HEALTHY_1),
        "forward_clb = true",
    ));
    let act = first_activity(&r);
    let item = &act.items[0];
    assert_eq!(item.status, InstanceStatus::Failed);
    assert_eq!(
        item.msg.render(&r.world.names),
        "target health check did not pass within 60s"
    );
    assert_eq!(
        first_time(&r, "instance", "FAILED", Some(&instance_name(&r.world, 0))),
        Some(120_000),
        "reinstall end (60 s) + timeout (60 s)"
    );
    // CLB weight stays 0: the instance stays out of service, in standby (§3.4, OQ-19).
    let inst = &r.world.instances[0];
    assert_eq!(inst.state, LifeCycleState::InStandby);
    assert!(inst.held_by_refresh);
    assert_eq!(act.status, ActivityStatus::FailedPause);
}

#[test]
fn s2_1_target_health_timeout_defaults_to_1800_seconds() {
    let settings =
        "{ CheckInstanceTargetHealth = true, RollingUpdateSettings = { BatchNumber = 1 } }";
    let r = run_text(&with_group(
        &text(1, "", settings, NEVER_HEALTHY_1),
        "forward_clb = true",
    ));
    assert_eq!(
        first_time(&r, "instance", "FAILED", None),
        Some(60_000 + 1_800_000)
    );
    assert_eq!(
        r.describe["Response"]["RefreshActivitySet"][0]["RefreshSettings"]["CheckInstanceTargetHealthTimeout"],
        1800
    );
}

#[test]
fn oq10_step5_a_target_healthy_within_the_timeout_succeeds_at_reinstall_end_plus_pass_time() {
    let r = run_text(&with_group(
        &text(2, "target_health = \"15s\"", HEALTH_60, ""),
        "forward_clb = true",
    ));
    let rows = rows(&r);
    let act = first_activity(&r);
    assert_eq!(act.status, ActivityStatus::Successful);
    for n in 0..2 {
        let id = instance_name(&r.world, n);
        assert_eq!(
            first_time(&r, "instance", "SUCCESSFUL", Some(&id)),
            Some(75_000)
        );
        let back = transitions(&rows, "lifecycle", &id);
        assert_eq!(
            back.last(),
            Some(&(75_000, "IN_STANDBY".into(), "IN_SERVICE".into())),
            "weight restored only once healthy"
        );
    }
}

// ---- Injected internal error → FAILED (OQ-23, OQ-34, OQ-64) ------------------------------------

/// When the group was last set ENABLED (OQ-17: restored after the refresh).
fn last_enabled(r: &RunResult) -> Option<u64> {
    rows(r)
        .iter()
        .filter(|row| row.kind == "group_enabled" && row.to == "ENABLED" && row.from == "DISABLED")
        .map(|row| row.time_ms)
        .next_back()
}

/// 4 instances, 2 batches, MaxSurge 1: surge 0–60 s, batch 1 60–120 s; an internal error at
/// `at`, and `extra` appended.
fn internal_error_run(settings: &str, at: &str, extra: &str) -> RunResult {
    let faults = format!("[[faults.events]]\nat = \"{at}\"\nkind = \"internal_error\"\n{extra}");
    run(4, OPS, &rolling(settings), &faults)
}

#[test]
fn oq34_oq64_internal_error_mid_batch_lets_in_flight_instances_finish_then_fails() {
    let extra = r##"
[[actions]]
id = "stop-while-failing"
at = "100s"
action = "StopInstanceRefresh"
"##;
    let r = internal_error_run("BatchNumber = 2, MaxSurge = 1", "90s", extra);
    assert!(r.violations.is_empty(), "{:?}", r.violations);
    let rows = rows(&r);
    let act = first_activity(&r);
    assert_eq!(act.status, ActivityStatus::Failed);
    // Waiting work is cancelled at the error; the batch in flight finishes (OQ-21, §1.3 rule 2).
    assert_eq!(
        batch_statuses(act),
        vec![BatchStatus::Successful, BatchStatus::Cancelled]
    );
    let statuses: Vec<InstanceStatus> = act.items.iter().map(|it| it.status).collect();
    assert_eq!(
        statuses,
        vec![
            InstanceStatus::Successful,
            InstanceStatus::Successful,
            InstanceStatus::Cancelled,
            InstanceStatus::Cancelled
        ]
    );
    assert_eq!(
        first_time(&r, "batch", "CANCELLED", None),
        Some(90_000),
        "cancelled at the error"
    );
    // FAILED only once nothing is in flight: EndTime is not before the batch's end.
    assert_eq!(act.batches[0].ended, Some(SimTime(120_000)));
    assert_eq!(act.ended, Some(SimTime(120_000)));
    assert!(status_cause(&rows, "FAILED").contains("internal error"));
    assert_eq!(
        phases(&rows).iter().find(|p| p.2 == "FAILING"),
        Some(&(90_000, "BATCHES".into(), "FAILING".into()))
    );
    // Nothing about the activity changes after its EndTime.
    assert!(
        rows.iter()
            .filter(|row| matches!(row.kind.as_str(), "batch" | "instance"))
            .all(|row| row.time_ms <= 120_000)
    );
    // Nothing new starts while failing, and Stop is refused (OQ-64).
    assert_eq!(
        code(&r, "stop-while-failing"),
        "ResourceUnavailable.RefreshActivityStatusConflictWithOperation"
    );
    // The surge instance is destroyed (as after a cancel, OQ-24) and the group restored only
    // when nothing was in flight any more (OQ-17).
    assert!(r.world.instances.iter().all(|i| !i.surge || !i.in_group));
    assert_eq!(last_enabled(&r), Some(120_000));
    assert_eq!(
        r.world
            .instances
            .iter()
            .filter(|i| i.in_group && i.state == LifeCycleState::InService)
            .count(),
        4
    );
}

#[test]
fn oq23_oq64_internal_error_while_paused_fails_at_once() {
    let r = internal_error_run(
        "BatchNumber = 2, BatchPause = \"FIRST_BATCH_PAUSE\"",
        "100s",
        "",
    );
    assert!(r.violations.is_empty(), "{:?}", r.violations);
    let act = first_activity(&r);
    assert_eq!(act.status, ActivityStatus::Failed);
    assert_eq!(act.ended, Some(SimTime(100_000)));
    assert_eq!(
        batch_statuses(act),
        vec![BatchStatus::Successful, BatchStatus::Cancelled]
    );
    assert_eq!(last_enabled(&r), Some(100_000));
}

#[test]
fn oq23_oq64_internal_error_during_the_surge_scale_out_waits_for_it_then_destroys_it() {
    let r = internal_error_run("BatchNumber = 2, MaxSurge = 2", "30s", "");
    assert!(r.violations.is_empty(), "{:?}", r.violations);
    let act = first_activity(&r);
    assert_eq!(act.status, ActivityStatus::Failed);
    // The scale-out (0–60 s) finishes, no batch ever starts, then the clean-up runs.
    assert_eq!(act.ended, Some(SimTime(60_000)));
    assert_eq!(
        batch_statuses(act),
        vec![BatchStatus::Cancelled, BatchStatus::Cancelled]
    );
    assert!(act.batches.iter().all(|b| b.started.is_none()));
    assert!(r.world.instances.iter().all(|i| !i.surge || !i.in_group));
}
