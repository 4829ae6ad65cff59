//! Conformance tests for API admission and the group around a refresh: RollbackInstanceRefresh
//! admission (spec §1.6; OQ-25), the disabled group and manual scaling APIs (§3.3, §6.1, §6.2;
//! OQ-17, OQ-18, OQ-27, OQ-31, OQ-32), rate limiting (OQ-30, OQ-43), Describe in the timeline
//! (§1.2; OQ-29), and the §5 error-code coverage, one test per documented rule or model
//! decision, named after the spec section or OQ id it checks.

use crate::common::*;
use refreshsim::api::{
    Action, ActivityStatus, ApiOutput, EnabledStatus, ErrorCode, InstanceStatus,
};
use refreshsim::run::{RunResult, run_scenario};
use refreshsim::scenario::load_scenario;
use refreshsim::sim::{CallRecord, Simulation};
use refreshsim::time::SimTime;
use refreshsim::timeline::FullSink;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

const GROUP: &str = "asg-test0001";

// ---- Codes seen by this file's runs (for `s5_every_refresh_error_code_is_provoked`) -----------

/// Error code → actions that returned it, over every run of this file's tests.
static SEEN: Mutex<BTreeMap<String, BTreeSet<String>>> = Mutex::new(BTreeMap::new());

fn note(calls: &[CallRecord]) {
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    for c in calls {
        if let Some(code) = c.code {
            seen.entry(code.as_str().to_string())
                .or_default()
                .insert(c.action.as_str().to_string());
        }
    }
}

fn noted_run(toml: &str) -> RunResult {
    let r = run_text(toml);
    note(&r.calls);
    r
}

fn rolling(fields: &str) -> String {
    format!("{{ RollingUpdateSettings = {{ {fields} }} }}")
}

fn activity_name(sim: &Simulation, index: usize) -> String {
    let w = sim.world();
    w.names.get(w.activities[index].id).to_string()
}

fn rollback_body(origin: &str, rolling: Value) -> Value {
    json!({
        "AutoScalingGroupId": GROUP,
        "OriginRefreshActivityId": origin,
        "RefreshSettings": {"RollingUpdateSettings": rolling}
    })
}

fn rollback(sim: &mut Simulation, sink: &mut FullSink, body: Value) -> Result<(), ErrorCode> {
    call(sim, sink, Action::RollbackInstanceRefresh, body).map(|_| ())
}

/// 4 instances, 2 batches, a pause after batch 1, `group` lines added to the group and `extra`
/// appended; driven to 100 s: the origin is AUTO_PAUSE with #1 and #2 refreshed (|R| = 2).
fn paused_origin(group: &str, extra: &str) -> (Simulation, FullSink, String) {
    let settings = rolling("BatchNumber = 2, BatchPause = \"FIRST_BATCH_PAUSE\"");
    let toml = text(4, "instance_create = \"60s\"", &settings, extra);
    let toml = if group.is_empty() {
        toml
    } else {
        with_group(&toml, group)
    };
    let (mut sim, mut sink) = engine_text(&toml, false);
    sim.advance_until(SimTime(100_000), &mut sink).unwrap();
    assert_eq!(sim.world().activities[0].status, ActivityStatus::AutoPause);
    let origin = activity_name(&sim, 0);
    (sim, sink, origin)
}

// ---- RollbackInstanceRefresh admission, in OQ-25 order ----------------------------------------

#[test]
fn oq25_step1_unknown_group_then_unknown_origin_is_invalid_parameter_value() {
    let (mut sim, mut sink, origin) = paused_origin("", "");
    let mut body = rollback_body("asr-nope0000", json!({"BatchNumber": 9}));
    body["AutoScalingGroupId"] = json!("asg-nope0001");
    assert_eq!(
        rollback(&mut sim, &mut sink, body),
        Err(ErrorCode::ResourceNotFoundAutoScalingGroupIdNotFound)
    );
    // Unknown origin: the common code (RefreshActivityNotFound is not in Rollback's list), and
    // before the BatchNumber check of step 7.
    assert_eq!(
        rollback(
            &mut sim,
            &mut sink,
            rollback_body("asr-nope0000", json!({"BatchNumber": 9}))
        ),
        Err(ErrorCode::InvalidParameterValue)
    );
    assert_eq!(
        rollback(
            &mut sim,
            &mut sink,
            rollback_body(&origin, json!({"BatchNumber": 1}))
        ),
        Ok(())
    );
    note(sim.calls());
}

#[test]
fn oq25_step2_a_rollback_activity_cannot_be_rolled_back_again() {
    let (mut sim, mut sink, origin) = paused_origin("", "");
    let settings = json!({"BatchNumber": 2, "BatchPause": "FIRST_BATCH_PAUSE"});
    assert_eq!(
        rollback(&mut sim, &mut sink, rollback_body(&origin, settings)),
        Ok(())
    );
    sim.advance_until(SimTime(200_000), &mut sink).unwrap();
    // The rollback is paused (which step 4 would allow): step 2 refuses it first.
    assert_eq!(sim.world().activities[1].status, ActivityStatus::AutoPause);
    let rb = activity_name(&sim, 1);
    assert_eq!(
        rollback(
            &mut sim,
            &mut sink,
            rollback_body(&rb, json!({"BatchNumber": 9}))
        ),
        Err(ErrorCode::ResourceUnavailableRollbackTypeActivityCanNotRollbackAgain)
    );
    note(sim.calls());
}

#[test]
fn oq25_step3_a_replace_origin_is_refused_before_its_status_is_looked_at() {
    let settings = rolling("BatchNumber = 2, BatchPause = \"FIRST_BATCH_PAUSE\"");
    let toml = text(2, "instance_create = \"60s\"", &settings, "").replace_once(
        "request = {",
        "request = { RefreshMode = \"ROLLING_UPDATE_REPLACE\",",
    );
    let (mut sim, mut sink) = engine_text(&toml, false);
    sim.advance_until(SimTime(200_000), &mut sink).unwrap();
    assert_eq!(sim.world().activities[0].status, ActivityStatus::AutoPause);
    let origin = activity_name(&sim, 0);
    // Paused (allowed by step 4) and BatchNumber 9 (refused by step 7): step 3 answers.
    assert_eq!(
        rollback(
            &mut sim,
            &mut sink,
            rollback_body(&origin, json!({"BatchNumber": 9}))
        ),
        Err(ErrorCode::ResourceUnavailableRefreshActivityStatusConflictWithOperation)
    );
    note(sim.calls());
}

#[test]
fn oq25_step4_only_a_paused_or_the_latest_successful_origin_can_be_rolled_back() {
    let toml = text(2, "init_delay = \"30s\"", &rolling("BatchNumber = 1"), "");
    let (mut sim, mut sink) = engine_text(&toml, true);
    let start = json!({"AutoScalingGroupId": GROUP, "RefreshSettings": {"RollingUpdateSettings": {"BatchNumber": 1}}});
    let conflict = Err(ErrorCode::ResourceUnavailableRefreshActivityStatusConflictWithOperation);
    assert!(
        call(
            &mut sim,
            &mut sink,
            Action::StartInstanceRefresh,
            start.clone()
        )
        .is_ok()
    );
    let first = activity_name(&sim, 0);
    let body = |origin: &str, rolling: Value| rollback_body(origin, rolling);
    // INIT.
    assert_eq!(
        rollback(&mut sim, &mut sink, body(&first, json!({"BatchNumber": 1}))),
        conflict
    );
    // RUNNING.
    sim.advance_until(SimTime(40_000), &mut sink).unwrap();
    assert_eq!(sim.world().activities[0].status, ActivityStatus::Running);
    assert_eq!(
        rollback(&mut sim, &mut sink, body(&first, json!({"BatchNumber": 1}))),
        conflict
    );
    // CANCELLED: a second activity, cancelled in INIT.
    sim.advance_until(SimTime(3_600_000), &mut sink).unwrap();
    assert_eq!(sim.world().activities[0].status, ActivityStatus::Successful);
    assert!(call(&mut sim, &mut sink, Action::StartInstanceRefresh, start).is_ok());
    let second = activity_name(&sim, 1);
    let cancel = json!({"AutoScalingGroupId": GROUP, "RefreshActivityId": second});
    assert!(call(&mut sim, &mut sink, Action::CancelInstanceRefresh, cancel).is_ok());
    assert_eq!(
        rollback(
            &mut sim,
            &mut sink,
            body(&second, json!({"BatchNumber": 1}))
        ),
        conflict
    );
    // SUCCESSFUL but no longer the latest created: refused before the MaxSurge check (6).
    assert_eq!(
        rollback(
            &mut sim,
            &mut sink,
            body(&first, json!({"BatchNumber": 1, "MaxSurge": 1}))
        ),
        Err(ErrorCode::ResourceUnavailableRefreshActivityCanNotRollback)
    );
    note(sim.calls());

    // FAILED: the origin of an AUTO_ROLLBACK.
    let extra = r##"
[[faults.scripted]]
instance = "#1"
attempt = 1
[[actions]]
id = "rollback-failed"
at = "1h"
action = "RollbackInstanceRefresh"
activity = "start"
request = { RefreshSettings = { RollingUpdateSettings = { BatchNumber = 1 } } }
"##;
    let r = noted_run(&text(
        2,
        "",
        &rolling("BatchNumber = 1, FailProcess = \"AUTO_ROLLBACK\""),
        extra,
    ));
    assert_eq!(first_activity(&r).status, ActivityStatus::Failed);
    assert_eq!(
        code(&r, "rollback-failed"),
        "ResourceUnavailable.RefreshActivityStatusConflictWithOperation"
    );
}

#[test]
fn oq25_step5_a_scaling_activity_or_an_abnormal_group_refuses_the_rollback() {
    let fault =
        "[[faults.events]]\nat = \"200s\"\nkind = \"group_status\"\nstatus = \"CVM_ABNORMAL\"\n";
    let (mut sim, mut sink, origin) = paused_origin("max_size = 6", fault);
    let scale_out = json!({"AutoScalingGroupId": GROUP, "ScaleOutNumber": 1});
    assert!(call(&mut sim, &mut sink, Action::ScaleOutInstances, scale_out).is_ok());
    // A manual scale-out runs (100–160 s): refused before the MaxSurge check (6).
    assert_eq!(
        rollback(
            &mut sim,
            &mut sink,
            rollback_body(&origin, json!({"BatchNumber": 1, "MaxSurge": 1}))
        ),
        Err(ErrorCode::ResourceUnavailableAutoScalingGroupInActivity)
    );
    sim.advance_until(SimTime(200_000), &mut sink).unwrap();
    assert_eq!(
        rollback(
            &mut sim,
            &mut sink,
            rollback_body(&origin, json!({"BatchNumber": 1, "MaxSurge": 1}))
        ),
        Err(ErrorCode::ResourceUnavailableAutoScalingGroupAbnormalStatus)
    );
    note(sim.calls());
}

/// Through the API at most one activity is ever non-terminal (Start and Rollback refuse while
/// one exists, and a rollback ends its paused origin at once), so "another non-terminal
/// activity" (OQ-25 step 5) cannot arise in a run. The check is exercised on a forged world: a
/// paused origin plus a second activity in INIT.
#[test]
fn oq25_step5_another_non_terminal_activity_refuses_the_rollback() {
    use refreshsim::model::{Fx, World};
    use refreshsim::sim::draws::DrawSource;
    let scenario = parse(&text(2, "", &rolling("BatchNumber = 1"), ""));
    let mut world = World::new(&scenario.world).unwrap();
    let mut draws = DrawSource::new(1, &scenario.timing, &scenario.faults);
    let mut fx = Fx::new(SimTime::ZERO);
    let mut submit = |world: &mut World, action: Action, body: Value| {
        let rid = world.names.intern("req-forged");
        world
            .submit(rid, action, &body, &mut draws, &mut fx)
            .map_err(|e| e.code)
    };
    let start = json!({"AutoScalingGroupId": GROUP, "RefreshSettings": {"RollingUpdateSettings": {"BatchNumber": 1}}});
    let Ok(ApiOutput::RefreshActivityId(origin)) =
        submit(&mut world, Action::StartInstanceRefresh, start)
    else {
        panic!("Start refused")
    };
    let mut other = world.activities[0].clone();
    other.id = world.names.intern("asr-forged01");
    world.activities[0].status = ActivityStatus::ManualPause;
    for item in &mut world.activities[0].items {
        item.status = InstanceStatus::Successful;
    }
    world.activities.push(other);
    assert_eq!(
        submit(
            &mut world,
            Action::RollbackInstanceRefresh,
            rollback_body(&origin, json!({"BatchNumber": 1, "MaxSurge": 1}))
        ),
        Err(ErrorCode::ResourceUnavailableAutoScalingGroupInRefreshActivity)
    );
    // This world is driven without a Simulation, so its calls are noted by hand.
    SEEN.lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry("ResourceUnavailable.AutoScalingGroupInRefreshActivity".to_string())
        .or_default()
        .insert("RollbackInstanceRefresh".to_string());
    // Without the other activity the same request reaches step 6.
    world.activities.pop();
    assert_eq!(
        submit(
            &mut world,
            Action::RollbackInstanceRefresh,
            rollback_body(&origin, json!({"BatchNumber": 1, "MaxSurge": 1}))
        ),
        Err(ErrorCode::InvalidParameterValue)
    );
}

#[test]
fn oq25_step6_max_surge_and_a_mode_other_than_reset_are_invalid_parameter_values() {
    let (mut sim, mut sink, origin) = paused_origin("", "");
    // §1.6 rule 5, before the BatchNumber check of step 7.
    assert_eq!(
        rollback(
            &mut sim,
            &mut sink,
            rollback_body(&origin, json!({"BatchNumber": 9, "MaxSurge": 1}))
        ),
        Err(ErrorCode::InvalidParameterValue)
    );
    for mode in ["ROLLING_UPDATE_REPLACE", "ROLLING_UPDATE"] {
        let mut body = rollback_body(&origin, json!({"BatchNumber": 9}));
        body["RefreshMode"] = json!(mode);
        assert_eq!(
            rollback(&mut sim, &mut sink, body),
            Err(ErrorCode::InvalidParameterValue),
            "{mode}"
        );
    }
    let mut body = rollback_body(&origin, json!({"BatchNumber": 2, "MaxSurge": 0}));
    body["RefreshMode"] = json!("ROLLING_UPDATE_RESET");
    assert_eq!(
        rollback(&mut sim, &mut sink, body),
        Ok(()),
        "MaxSurge 0 is no surge"
    );
    note(sim.calls());
}

#[test]
fn oq25_step7_the_rollback_set_must_be_non_empty_and_at_least_batch_number() {
    let (mut sim, mut sink, origin) = paused_origin("", "");
    assert_eq!(
        rollback(
            &mut sim,
            &mut sink,
            rollback_body(&origin, json!({"BatchNumber": 3}))
        ),
        Err(ErrorCode::InvalidParameterValueBatchNumberTooLarge)
    );
    assert_eq!(
        rollback(
            &mut sim,
            &mut sink,
            rollback_body(&origin, json!({"BatchNumber": 2}))
        ),
        Ok(()),
        "BatchNumber = |R| is allowed"
    );
    note(sim.calls());

    // Paused before any instance started: R is empty (WAITING instances are not in R).
    let toml = text(2, "init_delay = \"30s\"", &rolling("BatchNumber = 1"), "");
    let (mut sim, mut sink) = engine_text(&toml, true);
    let start = json!({"AutoScalingGroupId": GROUP, "RefreshSettings": {"RollingUpdateSettings": {"BatchNumber": 1}}});
    assert!(call(&mut sim, &mut sink, Action::StartInstanceRefresh, start).is_ok());
    let origin = activity_name(&sim, 0);
    let stop = json!({"AutoScalingGroupId": GROUP, "RefreshActivityId": origin});
    assert!(call(&mut sim, &mut sink, Action::StopInstanceRefresh, stop).is_ok());
    assert_eq!(
        rollback(
            &mut sim,
            &mut sink,
            rollback_body(&origin, json!({"BatchNumber": 9}))
        ),
        Err(ErrorCode::ResourceUnavailableNoInstanceCanRollback),
        "|R| = 0 is checked before BatchNumber"
    );
    note(sim.calls());
}

#[test]
fn oq25_step8_a_missing_restored_image_fails_the_price_inquiry() {
    let fault = "[[faults.events]]\nat = \"90s\"\nkind = \"image\"\nimage = \"img-old\"\navailable = false\n";
    let (mut sim, mut sink, origin) = paused_origin("", fault);
    assert_eq!(
        rollback(
            &mut sim,
            &mut sink,
            rollback_body(&origin, json!({"BatchNumber": 9}))
        ),
        Err(ErrorCode::InvalidParameterValueBatchNumberTooLarge),
        "step 7 before step 8"
    );
    assert_eq!(
        rollback(
            &mut sim,
            &mut sink,
            rollback_body(&origin, json!({"BatchNumber": 1}))
        ),
        Err(ErrorCode::ResourceUnavailableInquiryPriceResetInstanceFailed)
    );
    note(sim.calls());
    // The launch configuration's image is not what a rollback restores: its absence is no error.
    let fault = "[[faults.events]]\nat = \"90s\"\nkind = \"image\"\nimage = \"img-new\"\navailable = false\n";
    let (mut sim, mut sink, origin) = paused_origin("", fault);
    assert_eq!(
        rollback(
            &mut sim,
            &mut sink,
            rollback_body(&origin, json!({"BatchNumber": 1}))
        ),
        Ok(())
    );
}

#[test]
fn s3_11_refresh_actions_but_describe_need_the_service_role() {
    let fault = "[[faults.events]]\nat = \"90s\"\nkind = \"role\"\nauthorized = false\n";
    let (mut sim, mut sink, origin) = paused_origin("", fault);
    let unauthorized = Err(ErrorCode::UnauthorizedOperationAutoScalingRoleUnauthorized);
    assert_eq!(
        rollback(
            &mut sim,
            &mut sink,
            rollback_body(&origin, json!({"BatchNumber": 1}))
        ),
        unauthorized
    );
    let target = json!({"AutoScalingGroupId": GROUP, "RefreshActivityId": origin});
    for action in [
        Action::StopInstanceRefresh,
        Action::ResumeInstanceRefresh,
        Action::CancelInstanceRefresh,
    ] {
        let got = call(&mut sim, &mut sink, action, target.clone()).map(|_| ());
        assert_eq!(got, unauthorized, "{action:?}");
    }
    assert!(
        call(
            &mut sim,
            &mut sink,
            Action::DescribeRefreshActivities,
            json!({})
        )
        .is_ok()
    );
    assert_eq!(sim.world().activities[0].status, ActivityStatus::AutoPause);
    note(sim.calls());
}

// ---- The disabled group (§3.3, §6.1, OQ-17, OQ-18, OQ-31, OQ-32) ------------------------------

/// 4 instances (min 2, max 10, desired 4, unhealthy replacement on, policy +2); 2 batches with a
/// pause after the first (60 s) and a Resume 10 minutes later: the refresh ends at 720 s.
fn disabled_group_run(extra: &str) -> RunResult {
    let settings = rolling("BatchNumber = 2, BatchPause = \"FIRST_BATCH_PAUSE\"");
    let extra = format!(
        r##"
[[group.scaling_policies]]
id = "asp-cpu-high"
adjustment = 2

[[actions]]
id = "resume"
when = {{ activity_status = "AUTO_PAUSE" }}
after = "10m"
action = "ResumeInstanceRefresh"
{extra}"##
    );
    let toml = with_group(
        &text(
            4,
            "instance_create = \"60s\"\ninstance_destroy = \"20s\"",
            &settings,
            &extra,
        ),
        "min_size = 2\nmax_size = 10\ndesired_capacity = 4\nreplace_unhealthy = true",
    );
    noted_run(&toml)
}

/// (time, type) of every scaling activity started outside a refresh.
fn group_scaling(r: &RunResult) -> Vec<(u64, String)> {
    rows(r)
        .into_iter()
        .filter(|row| row.kind == "scaling_activity" && row.from.is_empty())
        .filter(|row| row.activity_id.is_empty())
        .map(|row| {
            let kind = row
                .detail
                .split(' ')
                .find_map(|kv| kv.strip_prefix("type="))
                .unwrap_or_default()
                .to_string();
            (row.time_ms, kind)
        })
        .collect()
}

#[test]
fn oq31_s6_1_alarms_scheduled_actions_and_unhealthy_replacement_are_ignored_while_refreshing() {
    let extra = r##"
[[faults.events]]
at = "30s"
kind = "alarm"
policy = "asp-cpu-high"
[[faults.events]]
at = "5m"
kind = "scheduled_action"
name = "evening-peak"
desired_capacity = 8
[[faults.events]]
at = "6m"
kind = "unhealthy"
instance = "#4"
[[faults.events]]
at = "1h"
kind = "alarm"
policy = "asp-cpu-high"
[[faults.events]]
at = "2h"
kind = "scheduled_action"
name = "evening-peak"
desired_capacity = 8
[[faults.events]]
at = "3h"
kind = "unhealthy"
instance = "#4"
"##;
    let r = disabled_group_run(extra);
    assert_eq!(first_activity(&r).ended, Some(SimTime(720_000)));
    let ignored: Vec<(u64, String)> = rows(&r)
        .into_iter()
        .filter(|row| row.kind == "scaling_ignored")
        .map(|row| (row.time_ms, row.detail))
        .collect();
    assert_eq!(ignored.len(), 3, "{ignored:?}");
    assert_eq!(ignored[0].0, 30_000, "during a batch");
    assert!(ignored[0].1.contains("source=asp-cpu-high"));
    assert_eq!(ignored[1].0, 300_000, "during the pause (OQ-17)");
    assert!(ignored[1].1.contains("source=evening-peak"));
    assert_eq!(ignored[2].0, 360_000);
    assert!(ignored[2].1.contains("unhealthy instance replacement"));
    // After the refresh the same triggers act (OQ-31): +2, then desired 8, then a replacement.
    assert_eq!(
        group_scaling(&r),
        vec![
            (3_600_000, "SCALE_OUT".into()),
            (7_200_000, "SCALE_OUT".into()),
            (10_800_000, "REPLACE_UNHEALTHY_INSTANCE".into()),
        ]
    );
    assert_eq!(r.world.group.desired_capacity, 8);
}

#[test]
fn oq32_s6_1_desired_capacity_matching_ignored_during_a_refresh_is_in_the_timeline() {
    // #4 is destroyed during the pause: matching would replace it, but the refresh holds the
    // group disabled, so the timeline shows the ignored attempt (issue 3); once the refresh
    // ends, matching replaces the capacity (OQ-32).
    let extra = r##"
[[faults.events]]
at = "5m"
kind = "destroy"
instance = "#4"
"##;
    let r = disabled_group_run(extra);
    assert_eq!(first_activity(&r).ended, Some(SimTime(720_000)));
    let ignored: Vec<(u64, String)> = rows(&r)
        .into_iter()
        .filter(|row| row.kind == "scaling_ignored")
        .map(|row| (row.time_ms, row.detail))
        .collect();
    assert_eq!(ignored.len(), 1, "{ignored:?}");
    assert_eq!(ignored[0].0, 300_000);
    assert!(
        ignored[0].1.contains("what=\"desired-capacity matching\"")
            || ignored[0].1.contains("what=desired-capacity matching"),
        "{}",
        ignored[0].1
    );
    assert!(
        ignored[0].1.contains("source=asg-test0001"),
        "{}",
        ignored[0].1
    );
    assert_eq!(group_scaling(&r), vec![(720_000, "SCALE_OUT".into())]);
    // Nothing to match, nothing ignored: a clean refresh has no such row.
    let clean = disabled_group_run("");
    assert!(rows(&clean).iter().all(|row| row.kind != "scaling_ignored"));
}

#[test]
fn s6_1_execute_scaling_policy_is_refused_while_disabled_and_runs_after() {
    let extra = r##"
[[actions]]
id = "during"
at = "30s"
action = "ExecuteScalingPolicy"
request = { AutoScalingPolicyId = "asp-cpu-high" }
[[actions]]
id = "paused"
at = "5m"
action = "ExecuteScalingPolicy"
request = { AutoScalingPolicyId = "asp-cpu-high" }
[[actions]]
id = "after"
at = "1h"
action = "ExecuteScalingPolicy"
request = { AutoScalingPolicyId = "asp-cpu-high" }
"##;
    let r = disabled_group_run(extra);
    assert_eq!(
        code(&r, "during"),
        "ResourceInUse.AutoScalingGroupNotActive"
    );
    assert_eq!(
        code(&r, "paused"),
        "ResourceInUse.AutoScalingGroupNotActive"
    );
    assert_eq!(code(&r, "after"), "OK");
    assert_eq!(group_scaling(&r), vec![(3_600_000, "SCALE_OUT".into())]);
    assert_eq!(r.world.group.desired_capacity, 6);
}

#[test]
fn s3_3_enable_is_refused_during_the_refresh_including_pauses() {
    let extra = r##"
[[actions]]
id = "enable-running"
at = "30s"
action = "EnableAutoScalingGroup"
[[actions]]
id = "enable-paused"
at = "5m"
action = "EnableAutoScalingGroup"
[[actions]]
id = "enable-after"
at = "1h"
action = "EnableAutoScalingGroup"
"##;
    let r = disabled_group_run(extra);
    for id in ["enable-running", "enable-paused"] {
        assert_eq!(
            code(&r, id),
            "ResourceUnavailable.AutoScalingGroupInRefreshActivity",
            "{id}"
        );
    }
    assert_eq!(code(&r, "enable-after"), "OK");
    assert_eq!(r.world.group.enabled, EnabledStatus::Enabled);
}

#[test]
fn oq18_manual_scaling_apis_are_refused_while_a_batch_runs() {
    // #4 waits in batch 2; batch 1 (#1, #2) runs 0–60 s.
    let extra = r##"
[[actions]]
id = "remove"
at = "10s"
action = "RemoveInstances"
request = { InstanceIds = ["#4"] }
[[actions]]
id = "detach"
at = "11s"
action = "DetachInstances"
request = { InstanceIds = ["#4"] }
[[actions]]
id = "scale-in"
at = "12s"
action = "ScaleInInstances"
request = { ScaleInNumber = 1 }
[[actions]]
id = "scale-out"
at = "13s"
action = "ScaleOutInstances"
request = { ScaleOutNumber = 1 }
"##;
    let r = disabled_group_run(extra);
    for id in ["remove", "detach", "scale-in", "scale-out"] {
        assert_eq!(
            code(&r, id),
            "ResourceUnavailable.AutoScalingGroupInActivity",
            "{id}"
        );
    }
    assert!(group_scaling(&r).is_empty());
    assert_eq!(r.world.group.desired_capacity, 4);
}

#[test]
fn oq18_an_instance_being_refreshed_is_in_operation() {
    // #1 is being reinstalled (0–60 s).
    let extra = r##"
[[actions]]
id = "remove-refreshing"
at = "10s"
action = "RemoveInstances"
request = { InstanceIds = ["#1"] }
[[actions]]
id = "detach-refreshing"
at = "11s"
action = "DetachInstances"
request = { InstanceIds = ["#4", "#2"] }
"##;
    let r = disabled_group_run(extra);
    for id in ["remove-refreshing", "detach-refreshing"] {
        assert_eq!(
            code(&r, id),
            "ResourceUnavailable.InstanceInOperation",
            "{id}"
        );
    }
    let act = first_activity(&r);
    assert!(
        act.items
            .iter()
            .all(|i| i.status == InstanceStatus::Successful),
        "nothing was removed"
    );
}

#[test]
fn oq18_manual_scaling_apis_are_allowed_while_paused_and_removed_pending_instances_are_not_found() {
    // Paused 60–660 s. ScaleOut 70–130 s, ScaleIn 140–160 s, Detach #3 170–190 s, Remove #4
    // 200–220 s; all in the pause.
    let extra = r##"
[[actions]]
id = "scale-out"
at = "70s"
action = "ScaleOutInstances"
request = { ScaleOutNumber = 1 }
[[actions]]
id = "scale-in"
at = "140s"
action = "ScaleInInstances"
request = { ScaleInNumber = 1 }
[[actions]]
id = "detach"
at = "170s"
action = "DetachInstances"
request = { InstanceIds = ["#3"] }
[[actions]]
id = "remove"
at = "200s"
action = "RemoveInstances"
request = { InstanceIds = ["#4"] }
"##;
    let r = disabled_group_run(extra);
    for id in ["scale-out", "scale-in", "detach", "remove"] {
        assert_eq!(code(&r, id), "OK", "{id}");
    }
    assert_eq!(
        group_scaling(&r),
        vec![
            (70_000, "SCALE_OUT".into()),
            (140_000, "SCALE_IN".into()),
            (170_000, "DETACH_INSTANCES".into()),
            (200_000, "REMOVE_INSTANCES".into()),
        ]
    );
    let act = first_activity(&r);
    let statuses = instance_statuses(&r.world, act);
    assert_eq!(statuses[2].1, InstanceStatus::NotFound, "#3 detached");
    assert_eq!(statuses[3].1, InstanceStatus::NotFound, "#4 removed");
    assert_eq!(
        act.items[3].msg.render(&r.world.names),
        "instance not found (removed from the group or destroyed)"
    );
    assert_eq!(
        act.status,
        ActivityStatus::Successful,
        "§1.1 rule 4: no block"
    );
    // 4 + 1 − 1 − 1 − 1.
    assert_eq!(r.world.group.desired_capacity, 2);
}

#[test]
fn s6_1_a_disabled_group_does_not_check_min_size_on_removal_but_an_enabled_one_does() {
    let toml = with_group(
        &text(
            4,
            "instance_destroy = \"20s\"",
            &rolling("BatchNumber = 2, BatchPause = \"FIRST_BATCH_PAUSE\""),
            r##"
[[actions]]
id = "remove-while-disabled"
at = "100s"
action = "RemoveInstances"
request = { InstanceIds = ["#4"] }
[[actions]]
id = "resume"
at = "200s"
action = "ResumeInstanceRefresh"
[[actions]]
id = "remove-while-enabled"
at = "1h"
action = "RemoveInstances"
request = { InstanceIds = ["#1"] }
"##,
        ),
        "min_size = 4\nmax_size = 4\ndesired_capacity = 4",
    );
    let r = noted_run(&toml);
    assert_eq!(code(&r, "remove-while-disabled"), "OK");
    assert_eq!(
        code(&r, "remove-while-enabled"),
        "ResourceInsufficient.AutoScalingGroupBelowMinSize"
    );
}

#[test]
fn s6_2_desired_capacity_never_drops_below_min_size() {
    // A removal from the disabled group below MinSize lowers DesiredCapacity only to MinSize
    // (§6.2: MaxSize ≥ DesiredCapacity ≥ MinSize), so once the group is enabled again the
    // missing capacity is created (OQ-32).
    let toml = with_group(
        &text(
            4,
            "instance_create = \"60s\"\ninstance_destroy = \"20s\"",
            &rolling("BatchNumber = 2, BatchPause = \"FIRST_BATCH_PAUSE\""),
            r##"
[[actions]]
id = "remove"
at = "100s"
action = "RemoveInstances"
request = { InstanceIds = ["#4"] }
[[actions]]
id = "resume"
at = "200s"
action = "ResumeInstanceRefresh"
"##,
        ),
        "min_size = 4\nmax_size = 6\ndesired_capacity = 4",
    );
    let r = noted_run(&toml);
    assert_eq!(code(&r, "remove"), "OK");
    assert_eq!(r.world.group.desired_capacity, 4);
    let end = first_activity(&r).ended.unwrap().as_ms();
    assert_eq!(
        group_scaling(&r),
        vec![
            (100_000, "REMOVE_INSTANCES".into()),
            (end, "SCALE_OUT".into())
        ]
    );
    assert_eq!(r.world.in_service_count(), 4);
}

#[test]
fn s6_2_scale_out_above_max_size_is_refused() {
    let toml = with_group(
        &text(
            4,
            "instance_create = \"60s\"",
            &rolling("BatchNumber = 2, BatchPause = \"FIRST_BATCH_PAUSE\""),
            r##"
[[actions]]
id = "too-many"
at = "100s"
action = "ScaleOutInstances"
request = { ScaleOutNumber = 2 }
[[actions]]
id = "one"
at = "101s"
action = "ScaleOutInstances"
request = { ScaleOutNumber = 1 }
"##,
        ),
        "max_size = 5",
    );
    let r = noted_run(&toml);
    assert_eq!(
        code(&r, "too-many"),
        "ResourceInsufficient.AutoScalingGroupAboveMaxSize"
    );
    assert_eq!(code(&r, "one"), "OK");
    assert_eq!(r.world.group.desired_capacity, 5);
}

#[test]
fn oq32_after_the_refresh_desired_capacity_matching_replaces_not_found_capacity() {
    // #4 (waiting in batch 2) is terminated in the CVM console at 10 s: NOT_FOUND, and the
    // disabled group does not replace it until the refresh ends at 720 s.
    let extra = "[[faults.events]]\nat = \"10s\"\nkind = \"destroy\"\ninstance = \"#4\"\n";
    let r = disabled_group_run(extra);
    let act = first_activity(&r);
    assert_eq!(act.items[3].status, InstanceStatus::NotFound);
    assert_eq!(act.ended, Some(SimTime(720_000)));
    assert_eq!(group_scaling(&r), vec![(720_000, "SCALE_OUT".into())]);
    assert_eq!(r.world.in_service_count(), 4);
    assert_eq!(r.world.group.desired_capacity, 4);
}

#[test]
fn oq27_start_is_refused_while_a_manual_scaling_activity_runs() {
    let toml = with_group(
        &text(
            2,
            "instance_create = \"60s\"",
            &rolling("BatchNumber = 1"),
            r##"
[[actions]]
id = "scale-out"
at = "0s"
action = "ScaleOutInstances"
request = { ScaleOutNumber = 1 }
[[actions]]
id = "start-later"
at = "70s"
action = "StartInstanceRefresh"
request = { RefreshSettings = { RollingUpdateSettings = { BatchNumber = 1 } } }
"##,
        )
        .replacen(
            "id = \"start\"\nat = \"0s\"",
            "id = \"start\"\nat = \"10s\"",
            1,
        ),
        "max_size = 3",
    );
    let r = noted_run(&toml);
    assert_eq!(code(&r, "scale-out"), "OK");
    assert_eq!(
        code(&r, "start"),
        "ResourceUnavailable.AutoScalingGroupInActivity"
    );
    assert_eq!(code(&r, "start-later"), "OK");
    assert_eq!(
        first_activity(&r).items.len(),
        3,
        "the scaled-out instance is refreshed too"
    );
}

// ---- Rate limiting (OQ-30, OQ-43) -------------------------------------------------------------

fn idle_engine(size: usize) -> (Simulation, FullSink) {
    engine_text(&text(size, "", &rolling("BatchNumber = 1"), ""), true)
}

#[test]
fn oq30_the_window_is_a_rolling_second_per_action() {
    let (mut sim, mut sink) = idle_engine(2);
    let describe = |sim: &mut Simulation, sink: &mut FullSink, at: u64| {
        sim.advance_until(SimTime(at), sink).unwrap();
        call(sim, sink, Action::DescribeRefreshActivities, json!({})).map(|_| ())
    };
    for k in 0..20 {
        assert_eq!(describe(&mut sim, &mut sink, k * 50), Ok(()), "request {k}");
    }
    let limited = Err(ErrorCode::RequestLimitExceeded);
    assert_eq!(describe(&mut sim, &mut sink, 999), limited);
    // Another action has its own window.
    let stop = json!({"AutoScalingGroupId": GROUP, "RefreshActivityId": "asr-nope0000"});
    assert_eq!(
        call(&mut sim, &mut sink, Action::StopInstanceRefresh, stop).map(|_| ()),
        Err(ErrorCode::ResourceNotFoundRefreshActivityNotFound)
    );
    // Rolling, not fixed: at 1000 ms only the request of 0 ms has left the window...
    assert_eq!(describe(&mut sim, &mut sink, 1_000), Ok(()));
    assert_eq!(describe(&mut sim, &mut sink, 1_001), limited);
    // ...and at 1050 ms the one of 50 ms.
    assert_eq!(describe(&mut sim, &mut sink, 1_050), Ok(()));
    note(sim.calls());
}

#[test]
fn oq43_oq30_a_rate_limited_request_has_no_effect_and_leaves_no_trace_in_the_window() {
    let (mut sim, mut sink) = idle_engine(2);
    let start = json!({"AutoScalingGroupId": GROUP, "RefreshSettings": {"RollingUpdateSettings": {"BatchNumber": 1}}});
    assert!(call(&mut sim, &mut sink, Action::StartInstanceRefresh, start).is_ok());
    let id = activity_name(&sim, 0);
    let wrong = json!({"AutoScalingGroupId": GROUP, "RefreshActivityId": "asr-nope0000"});
    for _ in 0..20 {
        assert!(
            call(
                &mut sim,
                &mut sink,
                Action::StopInstanceRefresh,
                wrong.clone()
            )
            .is_err()
        );
    }
    let right = json!({"AutoScalingGroupId": GROUP, "RefreshActivityId": id});
    let before = sink.records.len();
    assert_eq!(
        call(
            &mut sim,
            &mut sink,
            Action::StopInstanceRefresh,
            right.clone()
        )
        .map(|_| ()),
        Err(ErrorCode::RequestLimitExceeded)
    );
    // Only the call and its result were recorded; the activity is not paused.
    let kinds: Vec<String> = engine_rows(&sim, &sink)[before..]
        .iter()
        .map(|r| r.kind.clone())
        .collect();
    assert_eq!(kinds, vec!["api_call", "api_result"]);
    assert_ne!(
        sim.world().activities[0].status,
        ActivityStatus::ManualPause
    );
    // Refused requests do not fill the window (OQ-43): at 1 s, 20 fresh requests pass.
    sim.advance_until(SimTime(500), &mut sink).unwrap();
    for _ in 0..5 {
        assert_eq!(
            call(
                &mut sim,
                &mut sink,
                Action::StopInstanceRefresh,
                wrong.clone()
            )
            .map(|_| ()),
            Err(ErrorCode::RequestLimitExceeded)
        );
    }
    sim.advance_until(SimTime(1_000), &mut sink).unwrap();
    for k in 0..19 {
        assert_eq!(
            call(
                &mut sim,
                &mut sink,
                Action::StopInstanceRefresh,
                wrong.clone()
            )
            .map(|_| ()),
            Err(ErrorCode::ResourceNotFoundRefreshActivityNotFound),
            "request {k}"
        );
    }
    assert_eq!(
        call(&mut sim, &mut sink, Action::StopInstanceRefresh, right).map(|_| ()),
        Ok(())
    );
    note(sim.calls());
}

#[test]
fn oq30_a_rate_limited_start_creates_no_activity_and_leaves_the_group_enabled() {
    let (mut sim, mut sink) = idle_engine(2);
    let bad = json!({"AutoScalingGroupId": GROUP, "RefreshSettings": {"RollingUpdateSettings": {"BatchNumber": 9}}});
    for _ in 0..20 {
        assert_eq!(
            call(
                &mut sim,
                &mut sink,
                Action::StartInstanceRefresh,
                bad.clone()
            )
            .map(|_| ()),
            Err(ErrorCode::InvalidParameterValueBatchNumberTooLarge)
        );
    }
    let good = json!({"AutoScalingGroupId": GROUP, "RefreshSettings": {"RollingUpdateSettings": {"BatchNumber": 1}}});
    assert_eq!(
        call(&mut sim, &mut sink, Action::StartInstanceRefresh, good).map(|_| ()),
        Err(ErrorCode::RequestLimitExceeded)
    );
    sim.run_until_idle(&mut sink).unwrap();
    assert!(sim.world().activities.is_empty());
    assert_eq!(sim.world().group.enabled, EnabledStatus::Enabled);
    let rows = engine_rows(&sim, &sink);
    assert!(
        rows.iter()
            .all(|r| r.kind != "group_enabled" || r.from == r.to),
        "the group was never disabled"
    );
    note(sim.calls());
}

// ---- Describe in the timeline (§1.2, OQ-29) ---------------------------------------------------

const DESCRIBES: &str = r##"
[[actions]]
id = "all"
at = "30s"
action = "DescribeRefreshActivities"
[[actions]]
id = "page"
at = "31s"
action = "DescribeRefreshActivities"
request = { Limit = 1, Offset = 0 }
[[actions]]
id = "filtered"
at = "32s"
action = "DescribeRefreshActivities"
request = { Filters = [{ Name = "refresh-activity-status-code", Values = ["RUNNING", "FAILED"] }] }
[[actions]]
id = "done"
at = "10m"
action = "DescribeRefreshActivities"
[[actions]]
id = "conflict"
at = "10m1s"
action = "DescribeRefreshActivities"
request = { RefreshActivityIds = ["asr-nope0000"], Filters = [{ Name = "refresh-activity-type", Values = ["NORMAL"] }] }
"##;

#[test]
fn oq29_describe_responses_are_in_the_timeline_byte_for_byte() {
    let r = noted_run(&text(3, "", &rolling("BatchNumber = 3"), DESCRIBES));
    let rows = rows(&r);
    let describes: Vec<&CallRecord> = r
        .calls
        .iter()
        .filter(|c| c.action == Action::DescribeRefreshActivities && c.code.is_none())
        .collect();
    assert_eq!(describes.len(), 4);
    for c in describes {
        let request_id = c.response["Response"]["RequestId"].as_str().unwrap();
        let row = rows
            .iter()
            .find(|row| {
                row.kind == "api_result" && row.detail.contains(&format!("request_id={request_id}"))
            })
            .unwrap_or_else(|| panic!("no api_result row for {request_id}"));
        let (_, json) = row
            .detail
            .split_once(" response=")
            .unwrap_or_else(|| panic!("no response in {}", row.detail));
        assert_eq!(json, serde_json::to_string(&c.response).unwrap());
        assert_eq!(row.time_ms, c.time.as_ms());
    }
    // The values are the live ones: RUNNING in batch 1 at 30 s, SUCCESSFUL at 10 min.
    let at = |id: &str| {
        &r.calls
            .iter()
            .find(|c| c.id.as_deref() == Some(id))
            .unwrap()
            .response["Response"]
    };
    assert_eq!(at("all")["RefreshActivitySet"][0]["Status"], "RUNNING");
    assert_eq!(at("filtered")["TotalCount"], 1);
    assert_eq!(at("done")["RefreshActivitySet"][0]["Status"], "SUCCESSFUL");
    assert_eq!(
        at("done")["RefreshActivitySet"][0]["RefreshBatchSet"],
        r.describe["Response"]["RefreshActivitySet"][0]["RefreshBatchSet"],
        "the last query equals the end-of-run Describe"
    );
    assert_eq!(code(&r, "conflict"), "InvalidParameter.Conflict");
}

#[test]
fn s1_2_describe_is_read_only() {
    let r = noted_run(&text(3, "", &rolling("BatchNumber = 3"), DESCRIBES));
    let rows = rows(&r);
    for (k, row) in rows.iter().enumerate() {
        if row.kind == "api_call" && row.to == "DescribeRefreshActivities" {
            assert_eq!(
                rows[k + 1].kind,
                "api_result",
                "nothing happens between a Describe call and its result"
            );
        }
    }
    // The same run without the queries has the same state changes.
    let quiet = run(3, "", &rolling("BatchNumber = 3"), "");
    let changes = |r: &RunResult| -> Vec<(u64, String, String, String, String)> {
        rows_without_api(r)
            .into_iter()
            .map(|row| (row.time_ms, row.kind, row.instance_id, row.to, row.detail))
            .collect()
    };
    assert_eq!(changes(&r), changes(&quiet));
}

fn rows_without_api(r: &RunResult) -> Vec<refreshsim::timeline::Row> {
    // `run_end` is at the last event's time, and a Describe call is an event.
    rows(r)
        .into_iter()
        .filter(|row| !matches!(row.kind.as_str(), "api_call" | "api_result" | "run_end"))
        .collect()
}

// ---- §5: every documented refresh error code is provoked ---------------------------------------

/// The refresh error codes of spec §5 (and the common ones), with the refresh APIs documented
/// to return them; every listed action must be seen returning the code (where the simulator
/// never returns a documented code from an action, the entry says why it is left out). `InternalError` and `InvalidParameter.ActionNotFound` are left out: no
/// scenario run can produce them (the simulator has no internal failures, and a scenario's
/// action names are checked when it is read).
const SECTION_5: &[(&str, &[&str])] = &[
    (
        "InvalidParameterValue.BatchNumberTooLarge",
        &["StartInstanceRefresh", "RollbackInstanceRefresh"],
    ),
    (
        "InvalidParameterValue.MaxSurgeTooLarge",
        &["StartInstanceRefresh"],
    ),
    // Not in §5's refresh lists, but Start and Rollback return it for numeric ranges (OQ-27
    // step 4, OQ-49): BatchNumber 0, CheckInstanceTargetHealthTimeout outside [60, 7200].
    (
        "InvalidParameterValue.Range",
        &["StartInstanceRefresh", "RollbackInstanceRefresh"],
    ),
    (
        "ResourceNotFound.AutoScalingGroupIdNotFound",
        &["StartInstanceRefresh", "RollbackInstanceRefresh"],
    ),
    (
        "ResourceNotFound.RefreshActivityNotFound",
        &[
            "StopInstanceRefresh",
            "ResumeInstanceRefresh",
            "CancelInstanceRefresh",
        ],
    ),
    (
        "ResourceUnavailable.AutoScalingGroupAbnormalStatus",
        &["StartInstanceRefresh", "RollbackInstanceRefresh"],
    ),
    (
        "ResourceUnavailable.AutoScalingGroupInActivity",
        &["StartInstanceRefresh", "RollbackInstanceRefresh"],
    ),
    (
        "ResourceUnavailable.AutoScalingGroupInRefreshActivity",
        &["StartInstanceRefresh", "RollbackInstanceRefresh"],
    ),
    (
        "ResourceUnavailable.InquiryPriceResetInstanceFailed",
        &["StartInstanceRefresh", "RollbackInstanceRefresh"],
    ),
    // Documented for Rollback too, but OQ-25 step 7 answers an empty rollback set with the
    // more specific NoInstanceCanRollback, so only Start returns it.
    (
        "ResourceUnavailable.NoInstanceCanRefresh",
        &["StartInstanceRefresh"],
    ),
    (
        "ResourceUnavailable.NoInstanceCanRollback",
        &["RollbackInstanceRefresh"],
    ),
    (
        "ResourceUnavailable.RefreshActivityCanNotRollback",
        &["RollbackInstanceRefresh"],
    ),
    (
        "ResourceUnavailable.RefreshActivityStatusConflictWithOperation",
        // Documented for Start too, but its trigger is unknown: OQ-27 never produces it.
        &[
            "StopInstanceRefresh",
            "ResumeInstanceRefresh",
            "CancelInstanceRefresh",
            "RollbackInstanceRefresh",
        ],
    ),
    (
        "ResourceUnavailable.RollbackTypeActivityCanNotRollbackAgain",
        &["RollbackInstanceRefresh"],
    ),
    (
        "UnauthorizedOperation.AutoScalingRoleUnauthorized",
        &[
            "StartInstanceRefresh",
            "StopInstanceRefresh",
            "ResumeInstanceRefresh",
            "CancelInstanceRefresh",
            "RollbackInstanceRefresh",
        ],
    ),
    ("InvalidParameter.Conflict", &["DescribeRefreshActivities"]),
    (
        "InvalidParameterValue.Filter",
        &["DescribeRefreshActivities"],
    ),
    (
        "InvalidParameterValue.InvalidFilter",
        &["DescribeRefreshActivities"],
    ),
    (
        "InvalidParameterValue.LimitExceeded",
        &["DescribeRefreshActivities"],
    ),
    (
        "LimitExceeded.FilterValuesTooLong",
        &["DescribeRefreshActivities"],
    ),
    (
        "InvalidParameterValue.InvalidAutoScalingGroupId",
        &["DescribeRefreshActivities"],
    ),
    ("RequestLimitExceeded", REFRESH_ACTIONS),
    // Describe has no required parameter.
    (
        "MissingParameter",
        &[
            "StartInstanceRefresh",
            "StopInstanceRefresh",
            "ResumeInstanceRefresh",
            "CancelInstanceRefresh",
            "RollbackInstanceRefresh",
        ],
    ),
    ("InvalidParameter", REFRESH_ACTIONS),
    // Stop and Cancel take only ids (an unknown one is RefreshActivityNotFound); Describe's
    // bad values have their own codes (OQ-29).
    (
        "InvalidParameterValue",
        &[
            "StartInstanceRefresh",
            "ResumeInstanceRefresh",
            "RollbackInstanceRefresh",
        ],
    ),
    ("UnknownParameter", REFRESH_ACTIONS),
];

/// Provokes, for every refresh action, the common codes (OQ-38 request shape, OQ-30 rate limit)
/// and the per-action codes no bundled scenario happens to provoke from that action.
#[test]
fn s5_oq38_oq30_common_codes_are_returned_by_every_refresh_action() {
    let (mut sim, mut sink) = idle_engine(2);
    let start = json!({"AutoScalingGroupId": GROUP, "RefreshSettings": {"RollingUpdateSettings": {"BatchNumber": 2, "BatchPause": "FIRST_BATCH_PAUSE"}}});
    assert!(call(&mut sim, &mut sink, Action::StartInstanceRefresh, start).is_ok());
    let origin = activity_name(&sim, 0);
    let actions = [
        Action::StartInstanceRefresh,
        Action::DescribeRefreshActivities,
        Action::StopInstanceRefresh,
        Action::ResumeInstanceRefresh,
        Action::CancelInstanceRefresh,
        Action::RollbackInstanceRefresh,
    ];
    let mut at = 1_000;
    for action in actions {
        // OQ-38: an unknown field, then a wrong type, then a missing field.
        let unknown = call(&mut sim, &mut sink, action, json!({"Bogus": 1})).map(|_| ());
        assert_eq!(unknown, Err(ErrorCode::UnknownParameter), "{action:?}");
        let wrong_type = if action == Action::DescribeRefreshActivities {
            json!({"Limit": "ten"})
        } else {
            json!({"AutoScalingGroupId": 5})
        };
        let wrong = call(&mut sim, &mut sink, action, wrong_type).map(|_| ());
        assert_eq!(wrong, Err(ErrorCode::InvalidParameter), "{action:?}");
        if action != Action::DescribeRefreshActivities {
            let missing = call(&mut sim, &mut sink, action, json!({})).map(|_| ());
            assert_eq!(missing, Err(ErrorCode::MissingParameter), "{action:?}");
        }
        // OQ-30: the 21st request of a rolling second.
        at += 2_000;
        sim.advance_until(SimTime(at), &mut sink).unwrap();
        let mut last = Ok(());
        for _ in 0..21 {
            last = call(&mut sim, &mut sink, action, json!({})).map(|_| ());
        }
        assert_eq!(last, Err(ErrorCode::RequestLimitExceeded), "{action:?}");
    }
    at += 2_000;
    sim.advance_until(SimTime(at), &mut sink).unwrap();
    // OQ-28: an unknown activity for Resume and Cancel.
    for action in [Action::ResumeInstanceRefresh, Action::CancelInstanceRefresh] {
        let body = json!({"AutoScalingGroupId": GROUP, "RefreshActivityId": "asr-nope0000"});
        assert_eq!(
            call(&mut sim, &mut sink, action, body).map(|_| ()),
            Err(ErrorCode::ResourceNotFoundRefreshActivityNotFound),
            "{action:?}"
        );
    }
    // OQ-49: Rollback checks its settings' ranges first, as Start does.
    assert_eq!(
        rollback(
            &mut sim,
            &mut sink,
            rollback_body(&origin, json!({"BatchNumber": 0}))
        ),
        Err(ErrorCode::InvalidParameterValueRange)
    );
    note(sim.calls());
}

const REFRESH_ACTIONS: &[&str] = &[
    "StartInstanceRefresh",
    "DescribeRefreshActivities",
    "StopInstanceRefresh",
    "ResumeInstanceRefresh",
    "CancelInstanceRefresh",
    "RollbackInstanceRefresh",
];

#[test]
fn s5_every_refresh_error_code_is_provoked() {
    // Every bundled scenario...
    let files = bundled_scenarios();
    assert!(files.len() >= 20);
    for path in &files {
        let scenario = load_scenario(path).unwrap_or_else(|e| panic!("{e}"));
        let r = run_scenario(&scenario, scenario.seed, false).unwrap();
        note(&r.calls);
    }
    // ...plus the runs of this file's tests (run again here: tests run in any order).
    oq25_step1_unknown_group_then_unknown_origin_is_invalid_parameter_value();
    oq25_step2_a_rollback_activity_cannot_be_rolled_back_again();
    oq25_step3_a_replace_origin_is_refused_before_its_status_is_looked_at();
    oq25_step4_only_a_paused_or_the_latest_successful_origin_can_be_rolled_back();
    oq25_step5_a_scaling_activity_or_an_abnormal_group_refuses_the_rollback();
    oq25_step5_another_non_terminal_activity_refuses_the_rollback();
    s5_oq38_oq30_common_codes_are_returned_by_every_refresh_action();
    oq25_step6_max_surge_and_a_mode_other_than_reset_are_invalid_parameter_values();
    oq25_step7_the_rollback_set_must_be_non_empty_and_at_least_batch_number();
    oq25_step8_a_missing_restored_image_fails_the_price_inquiry();
    s3_11_refresh_actions_but_describe_need_the_service_role();
    oq30_the_window_is_a_rolling_second_per_action();
    oq43_oq30_a_rate_limited_request_has_no_effect_and_leaves_no_trace_in_the_window();
    oq29_describe_responses_are_in_the_timeline_byte_for_byte();

    let seen = SEEN.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut missing = Vec::new();
    for (code, actions) in SECTION_5 {
        let by = seen.get(*code).cloned().unwrap_or_default();
        for action in *actions {
            if !by.contains(*action) {
                missing.push(format!("{code} by {action} (seen from {by:?})"));
            }
        }
    }
    assert!(missing.is_empty(), "never provoked: {missing:#?}");
    // Every code in the table is one the simulator knows.
    for (code, _) in SECTION_5 {
        assert!(ErrorCode::parse(code).is_some(), "{code}");
    }
}
