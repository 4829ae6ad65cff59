//! Conformance tests for the effects of RollbackInstanceRefresh (spec §1.6, §3.8; OQ-16, OQ-17,
//! OQ-26), FailProcess AUTO_ROLLBACK (§2.2; OQ-26) and lifecycle hooks (§3.10, §6.8; OQ-14), one
//! per documented rule or model decision, named after the spec section or OQ id they check.
//! Rollback admission (OQ-25) is in `conformance_api.rs`.

use crate::common::*;
use refreshsim::api::{
    Action, ActivityStatus, ActivityType, BatchPause, BatchStatus, EnabledStatus, ErrorCode,
    FailProcess, InstanceStatus, LifeCycleState, RefreshMode,
};
use refreshsim::run::RunResult;
use refreshsim::time::SimTime;
use refreshsim::timeline::Row;
use serde_json::json;

fn rolling(fields: &str) -> String {
    format!("{{ RollingUpdateSettings = {{ {fields} }} }}")
}

fn rollback_action(id: &str, at: &str, fields: &str) -> String {
    format!(
        "[[actions]]\nid = \"{id}\"\nat = \"{at}\"\naction = \"RollbackInstanceRefresh\"\nrequest = {{ RefreshSettings = {} }}\n",
        rolling(fields)
    )
}

fn image_of(r: &RunResult, n: usize) -> &str {
    r.world.names.get(r.world.instances[n].image)
}

/// The activity created by the action with this id.
fn activity_of<'a>(r: &'a RunResult, id: &str) -> &'a refreshsim::model::world::Activity {
    let call = r
        .calls
        .iter()
        .find(|c| c.id.as_deref() == Some(id))
        .unwrap();
    let name = call
        .activity
        .as_deref()
        .expect("the call names an activity");
    let index = r.world.activity_by_name(name).unwrap();
    &r.world.activities[index as usize]
}

fn item_ids(r: &RunResult, act: &refreshsim::model::world::Activity) -> Vec<String> {
    instance_statuses(&r.world, act)
        .into_iter()
        .map(|(id, _)| id)
        .collect()
}

// ---- Rollback effects (§1.6, OQ-26) -----------------------------------------------------------

/// 6 instances in 3 batches; the origin pauses after batch 1 (60 s) and is rolled back at 100 s.
fn paused_then_rolled_back(extra: &str) -> RunResult {
    let settings = rolling("BatchNumber = 3, BatchPause = \"FIRST_BATCH_PAUSE\"");
    let extra = format!(
        "{}{extra}",
        rollback_action("rollback", "100s", "BatchNumber = 1")
    );
    run(6, "", &settings, &extra)
}

#[test]
fn s1_6_rule1_origin_waiting_instances_become_cancelled_and_the_origin_cancelled() {
    let r = paused_then_rolled_back("");
    assert_eq!(code(&r, "rollback"), "OK");
    let origin = first_activity(&r);
    assert_eq!(origin.status, ActivityStatus::Cancelled);
    assert_eq!(origin.ended, Some(SimTime(100_000)));
    assert_eq!(
        batch_statuses(origin),
        vec![
            BatchStatus::Successful,
            BatchStatus::Cancelled,
            BatchStatus::Cancelled
        ]
    );
    let statuses: Vec<InstanceStatus> = origin.items.iter().map(|i| i.status).collect();
    assert_eq!(
        statuses,
        vec![
            InstanceStatus::Successful,
            InstanceStatus::Successful,
            InstanceStatus::Cancelled,
            InstanceStatus::Cancelled,
            InstanceStatus::Cancelled,
            InstanceStatus::Cancelled
        ]
    );
    // A new ROLLBACK activity over the instances of batch 1 only (§1.6, §3.8).
    let rollback = activity_of(&r, "rollback");
    assert_eq!(rollback.activity_type, ActivityType::Rollback);
    assert_eq!(rollback.mode, RefreshMode::RollingUpdateReset);
    assert_eq!(rollback.origin, Some(0));
    assert_eq!(item_ids(&r, rollback), item_ids(&r, origin)[..2].to_vec());
    assert_eq!(rollback.status, ActivityStatus::Successful);
    let d = &r.describe["Response"]["RefreshActivitySet"][0];
    assert_eq!(d["ActivityType"], "ROLLBACK");
    assert_eq!(
        d["OriginRefreshActivityId"],
        r.world.names.get(origin.id),
        "§2.3: present in rollback activities"
    );
    // The two reinstalled instances are back on their image; the others never changed.
    for n in 0..6 {
        assert_eq!(image_of(&r, n), "img-old", "#{}", n + 1);
    }
}

#[test]
fn s1_6_rule1_instances_that_no_longer_exist_are_ignored_and_failed_ones_enter_the_rollback() {
    // Batch 1 = #1 (fails) + #2 (succeeds, then is terminated); #3 is terminated while waiting
    // (NOT_FOUND); #4 is waiting.
    let extra = format!(
        r##"
[[faults.scripted]]
instance = "#1"
attempt = 1
[[faults.events]]
at = "70s"
kind = "destroy"
instance = "#2"
[[faults.events]]
at = "80s"
kind = "destroy"
instance = "#3"
{}"##,
        rollback_action("rollback", "100s", "BatchNumber = 1")
    );
    let r = run(4, "", &rolling("BatchNumber = 2"), &extra);
    assert_eq!(code(&r, "rollback"), "OK");
    let origin = first_activity(&r);
    let statuses: Vec<InstanceStatus> = origin.items.iter().map(|i| i.status).collect();
    assert_eq!(
        statuses,
        vec![
            InstanceStatus::Failed,
            InstanceStatus::Successful,
            InstanceStatus::NotFound,
            InstanceStatus::Cancelled
        ],
        "NOT_FOUND is left as it is; only WAITING becomes CANCELLED"
    );
    let rollback = activity_of(&r, "rollback");
    assert_eq!(
        item_ids(&r, rollback),
        vec![instance_name(&r.world, 0)],
        "R = origin instances SUCCESSFUL/FAILED/INIT/RUNNING still in the group (OQ-25 step 7)"
    );
    assert_eq!(rollback.status, ActivityStatus::Successful);
    assert_eq!(
        r.world.instances[0].state,
        LifeCycleState::InService,
        "the rolled-back failed instance is back in service"
    );
}

#[test]
fn s1_6_rule2_in_flight_origin_instances_finish_first_while_the_rollback_stays_init() {
    // Batch 1 (#1, #2) runs 0–60 s. Stop at 10 s, Rollback at 20 s.
    let extra = format!(
        "[[actions]]\nid = \"stop\"\nat = \"10s\"\naction = \"StopInstanceRefresh\"\n{}",
        rollback_action("rollback", "20s", "BatchNumber = 2")
    );
    let r = run(4, "", &rolling("BatchNumber = 2"), &extra);
    assert_eq!(code(&r, "rollback"), "OK");
    let origin = first_activity(&r);
    assert_eq!(origin.status, ActivityStatus::Cancelled);
    assert_eq!(origin.ended, Some(SimTime(20_000)));
    // The in-flight instances were not interrupted.
    let rows = rows(&r);
    for n in 0..2 {
        let id = instance_name(&r.world, n);
        let origin_rows: Vec<(u64, String)> = rows
            .iter()
            .filter(|row| {
                row.kind == "instance"
                    && row.instance_id == id
                    && row.activity_id == r.world.names.get(origin.id)
            })
            .map(|row| (row.time_ms, row.to.clone()))
            .collect();
        assert_eq!(origin_rows.last(), Some(&(60_000, "SUCCESSFUL".into())));
    }
    assert_eq!(
        batch_statuses(origin),
        vec![BatchStatus::Successful, BatchStatus::Cancelled]
    );
    let rollback = activity_of(&r, "rollback");
    assert_eq!(rollback.created, SimTime(20_000));
    assert_eq!(
        rollback.started,
        Some(SimTime(60_000)),
        "INIT until the origin's in-flight instances ended (OQ-9)"
    );
    let rollback_id = r.world.names.get(rollback.id);
    let running = rows
        .iter()
        .find(|row| row.kind == "activity" && row.activity_id == rollback_id)
        .unwrap();
    assert_eq!((running.time_ms, running.from.as_str()), (60_000, "INIT"));
    assert_eq!(
        item_ids(&r, rollback).len(),
        2,
        "INIT/RUNNING instances are in R"
    );
    assert_eq!(rollback.status, ActivityStatus::Successful);
    assert_eq!(image_of(&r, 0), "img-old");
    assert_eq!(image_of(&r, 1), "img-old");
}

#[test]
fn oq26_each_instance_gets_its_own_pre_origin_image_and_the_current_launch_configuration() {
    let toml = text(2, "", &rolling("BatchNumber = 1"), "")
        .replace_once(
            "size = 2\nimage_id = \"img-old\"",
            "[[group.instances]]\nid = \"ins-aaaa0001\"\nimage_id = \"img-a\"\n[[group.instances]]\nid = \"ins-bbbb0001\"\nimage_id = \"img-b\"",
        )
        .replace_once(
            "[timing]",
            "[[launch_configuration.changes]]\nat = \"2m\"\nimage_id = \"img-newer\"\nuser_data = \"bmV3\"\n\n[timing]",
        );
    let toml = format!(
        "{toml}\n{}",
        rollback_action("rollback", "3m", "BatchNumber = 2")
    );
    let r = run_text(&toml);
    assert_eq!(code(&r, "rollback"), "OK");
    assert_eq!(
        activity_of(&r, "rollback").status,
        ActivityStatus::Successful
    );
    // §1.6 rule 4: ImageId restored per instance, not the launch configuration's image...
    assert_eq!(image_of(&r, 0), "img-a");
    assert_eq!(image_of(&r, 1), "img-b");
    // ...while UserData & co come from the current launch configuration (version 1).
    for inst in &r.world.instances {
        assert_eq!(inst.config_version, Some(1));
    }
    let rows = rows(&r);
    let reinstalls: Vec<&Row> = rows
        .iter()
        .filter(|row| row.kind == "reinstall" && row.time_ms > 120_000)
        .collect();
    assert_eq!(reinstalls.len(), 2);
    assert!(
        reinstalls
            .iter()
            .all(|row| row.detail.contains("lc_version=1"))
    );
}

#[test]
fn s1_6_rule3_rollback_of_the_latest_successful_activity_keeps_it_successful() {
    let r = run(
        2,
        "",
        &rolling("BatchNumber = 1"),
        &rollback_action("rollback", "1h", "BatchNumber = 1"),
    );
    assert_eq!(code(&r, "rollback"), "OK");
    let origin = first_activity(&r);
    assert_eq!(origin.status, ActivityStatus::Successful);
    assert_eq!(origin.ended, Some(SimTime(60_000)), "untouched");
    assert!(
        origin
            .items
            .iter()
            .all(|i| i.status == InstanceStatus::Successful)
    );
    assert_eq!(
        activity_of(&r, "rollback").status,
        ActivityStatus::Successful
    );
    assert_eq!(image_of(&r, 0), "img-old");
}

#[test]
fn oq26_pause_resume_and_cancel_work_on_a_rollback_activity() {
    // Origin: 3 instances, one batch, done at 60 s. Rollback at 1 h: 3 batches, pause after the
    // first (AUTO_PAUSE at 3660 s); Resume at 3670 s; Stop at 3680 s during batch 2 (ends 3730 s);
    // Cancel at 3740 s.
    let extra = format!(
        "{}{}",
        rollback_action(
            "rollback",
            "3600s",
            "BatchNumber = 3, BatchPause = \"FIRST_BATCH_PAUSE\""
        ),
        r#"
[[actions]]
id = "resume"
at = "3670s"
action = "ResumeInstanceRefresh"
[[actions]]
id = "stop"
at = "3680s"
action = "StopInstanceRefresh"
[[actions]]
id = "cancel"
at = "3740s"
action = "CancelInstanceRefresh"
"#
    );
    let r = run(3, "", &rolling("BatchNumber = 1"), &extra);
    for id in ["rollback", "resume", "stop", "cancel"] {
        assert_eq!(code(&r, id), "OK", "{id}");
    }
    let rollback = activity_of(&r, "rollback");
    let rollback_id = r.world.names.get(rollback.id).to_string();
    let statuses: Vec<(u64, String)> = rows(&r)
        .into_iter()
        .filter(|row| row.kind == "activity" && row.activity_id == rollback_id)
        .map(|row| (row.time_ms, row.to))
        .collect();
    assert_eq!(
        statuses,
        vec![
            (3_600_000, "RUNNING".into()),
            (3_660_000, "AUTO_PAUSE".into()),
            (3_670_000, "RUNNING".into()),
            (3_680_000, "MANUAL_PAUSE".into()),
            (3_740_000, "CANCELLED".into()),
        ]
    );
    assert_eq!(
        batch_statuses(rollback),
        vec![
            BatchStatus::Successful,
            BatchStatus::Successful,
            BatchStatus::Cancelled
        ]
    );
}

#[test]
fn oq17_the_group_stays_disabled_across_origin_and_rollback_and_is_restored_after() {
    let extra =
        "[[actions]]\nid = \"enable\"\nat = \"110s\"\naction = \"EnableAutoScalingGroup\"\n";
    let r = paused_then_rolled_back(extra);
    assert_eq!(
        code(&r, "enable"),
        "ResourceUnavailable.AutoScalingGroupInRefreshActivity"
    );
    let rollback = activity_of(&r, "rollback");
    let end = rollback.ended.unwrap().as_ms();
    let changes: Vec<(u64, String)> = rows(&r)
        .into_iter()
        .filter(|row| row.kind == "group_enabled" && row.from != row.to)
        .map(|row| (row.time_ms, row.to))
        .collect();
    assert_eq!(
        changes,
        vec![(0, "DISABLED".into()), (end, "ENABLED".into())],
        "not re-enabled when the origin was cancelled"
    );
    // A group disabled before the refresh stays disabled after the rollback (inherited).
    let settings = rolling("BatchNumber = 3, BatchPause = \"FIRST_BATCH_PAUSE\"");
    let toml = with_group(
        &text(
            6,
            "",
            &settings,
            &rollback_action("rollback", "100s", "BatchNumber = 1"),
        ),
        "enabled = false",
    );
    let r = run_text(&toml);
    assert_eq!(
        activity_of(&r, "rollback").status,
        ActivityStatus::Successful
    );
    assert_eq!(r.world.group.enabled, EnabledStatus::Disabled);
}

#[test]
fn oq26_a_rollback_cancels_its_paused_origin_and_destroys_the_origin_surge_instances() {
    // Surge created 0–60 s, batch 1 60–120 s, AUTO_PAUSE; Rollback at 200 s cancels the origin,
    // and a cancelled activity's surge instances are destroyed (§1.5 rule 5, OQ-24).
    let settings = rolling("BatchNumber = 2, MaxSurge = 1, BatchPause = \"FIRST_BATCH_PAUSE\"");
    let r = run(
        4,
        "instance_create = \"60s\"\ninstance_destroy = \"20s\"",
        &settings,
        &rollback_action("rollback", "200s", "BatchNumber = 1"),
    );
    assert_eq!(code(&r, "rollback"), "OK");
    assert_eq!(first_activity(&r).status, ActivityStatus::Cancelled);
    let rows = rows(&r);
    let surge: Vec<&Row> = rows
        .iter()
        .filter(|row| row.kind == "instance_joined" && row.detail.contains("surge=true"))
        .collect();
    assert_eq!(surge.len(), 1);
    assert_eq!(
        transitions(&rows, "instance_left", &surge[0].instance_id),
        vec![(220_000, "TERMINATING".into(), "DESTROYED".into())]
    );
    assert_eq!(
        activity_of(&r, "rollback").status,
        ActivityStatus::Successful
    );
    assert_eq!(r.world.instances.iter().filter(|i| i.in_group).count(), 4);
}

// ---- AUTO_ROLLBACK (§2.2, OQ-26) --------------------------------------------------------------

#[test]
fn oq26_auto_rollback_fails_the_origin_and_starts_a_one_instance_per_batch_rollback() {
    // Batch 1 = #1 (fails) + #2 (healthy at 70 s). BATCH_INTERVAL_PAUSE on the origin: the
    // rollback still runs AUTOMATIC.
    let settings = "{ CheckInstanceTargetHealth = true, CheckInstanceTargetHealthTimeout = 300, RollingUpdateSettings = { BatchNumber = 3, BatchPause = \"BATCH_INTERVAL_PAUSE\", FailProcess = \"AUTO_ROLLBACK\" } }";
    let extra = "[[faults.scripted]]\ninstance = \"#1\"\nattempt = 1\n";
    let r = run_text(&with_group(
        &text(6, "target_health = \"10s\"", settings, extra),
        "forward_clb = true",
    ));
    assert_eq!(r.world.activities.len(), 2);
    let origin = first_activity(&r);
    assert_eq!(origin.status, ActivityStatus::Failed, "OQ-23/OQ-26");
    assert_eq!(origin.ended, Some(SimTime(70_000)), "EndTime set");
    assert_eq!(
        batch_statuses(origin),
        vec![
            BatchStatus::PartiallySuccessful,
            BatchStatus::Cancelled,
            BatchStatus::Cancelled
        ]
    );
    let rollback = &r.world.activities[1];
    assert_eq!(rollback.activity_type, ActivityType::Rollback);
    assert_eq!(rollback.origin, Some(0));
    assert_eq!(rollback.created, SimTime(70_000));
    let s = rollback.settings;
    assert_eq!(s.batch_number, 2, "|R| = 2: one instance per batch");
    assert_eq!(s.batch_pause, BatchPause::Automatic);
    assert_eq!(s.fail_process, FailProcess::AutoPause);
    assert_eq!(s.max_surge, 0);
    assert!(s.check_instance_target_health, "copied from the origin");
    assert_eq!(s.check_instance_target_health_timeout_s, 300);
    assert_eq!(rollback.batches.len(), 2);
    assert!(rollback.batches.iter().all(|b| b.items.len() == 1));
    assert_eq!(rollback.status, ActivityStatus::Successful);
    assert_eq!(
        batch_statuses(rollback),
        vec![BatchStatus::Successful, BatchStatus::Successful]
    );
    assert_eq!(image_of(&r, 0), "img-old");
    assert_eq!(image_of(&r, 1), "img-old");
    assert_eq!(r.world.group.enabled, EnabledStatus::Enabled);
}

#[test]
fn oq26_auto_rollback_destroys_the_origin_surge_instances() {
    // Surge created 0–60 s, batch 1 (#1 fails) 60–120 s.
    let settings = rolling("BatchNumber = 2, MaxSurge = 1, FailProcess = \"AUTO_ROLLBACK\"");
    let extra = "[[faults.scripted]]\ninstance = \"#1\"\nattempt = 1\n";
    let r = run(
        4,
        "instance_create = \"60s\"\ninstance_destroy = \"20s\"",
        &settings,
        extra,
    );
    let rows = rows(&r);
    let surge: Vec<&Row> = rows
        .iter()
        .filter(|row| row.kind == "instance_joined" && row.detail.contains("surge=true"))
        .collect();
    assert_eq!(surge.len(), 1);
    assert_eq!(
        transitions(&rows, "instance_left", &surge[0].instance_id),
        vec![(140_000, "TERMINATING".into(), "DESTROYED".into())]
    );
    assert_eq!(first_activity(&r).status, ActivityStatus::Failed);
    let rollback = &r.world.activities[1];
    assert_eq!(rollback.settings.max_surge, 0);
    assert_eq!(rollback.status, ActivityStatus::Successful);
}

#[test]
fn oq47_oq26_auto_rollback_on_a_rollback_activity_behaves_as_auto_pause() {
    // The origin succeeds; the rollback's reinstall of #1 (its 2nd refresh attempt) fails.
    let extra = format!(
        "[[faults.scripted]]\ninstance = \"#1\"\nattempt = 2\n{}",
        rollback_action(
            "rollback",
            "1h",
            "BatchNumber = 2, FailProcess = \"AUTO_ROLLBACK\""
        )
    );
    let r = run(2, "", &rolling("BatchNumber = 1"), &extra);
    assert_eq!(code(&r, "rollback"), "OK");
    assert_eq!(r.world.activities.len(), 2, "no rollback of the rollback");
    let rollback = activity_of(&r, "rollback");
    assert_eq!(rollback.status, ActivityStatus::FailedPause);
    assert_eq!(
        batch_statuses(rollback),
        vec![BatchStatus::Failed, BatchStatus::Waiting]
    );
    assert_eq!(first_activity(&r).status, ActivityStatus::Successful);
}

// ---- Lifecycle hooks (§3.10, §6.8, OQ-14) -----------------------------------------------------

fn hook(id: &str, transition: &str, kind: &str, more: &str) -> String {
    format!(
        "[[group.lifecycle_hooks]]\nid = \"{id}\"\ntransition = \"INSTANCE_{transition}\"\ntransition_type = \"{kind}\"\n{more}\n"
    )
}

/// (time, hook id) of every hook_started row of `instance`.
fn hooks_started(rows: &[Row], instance: &str) -> Vec<(u64, String)> {
    rows.iter()
        .filter(|r| r.kind == "hook_started" && r.instance_id == instance)
        .map(|r| (r.time_ms, r.detail.trim_start_matches("hook=").to_string()))
        .collect()
}

/// (time, hook, result, reason) of every hook_completed row of `instance`.
fn hooks_completed(rows: &[Row], instance: &str) -> Vec<(u64, String, String, String)> {
    rows.iter()
        .filter(|r| r.kind == "hook_completed" && r.instance_id == instance)
        .map(|r| {
            let field = |k: &str| {
                r.detail
                    .split(' ')
                    .find_map(|kv| kv.strip_prefix(k))
                    .unwrap_or_default()
                    .to_string()
            };
            (r.time_ms, field("hook="), r.to.clone(), field("reason="))
        })
        .collect()
}

/// One instance, one batch, 60 s reinstall; the user's automation answers after 20 s.
fn hooked_run(hooks: &str, extra: &str) -> RunResult {
    run(
        1,
        "hook_response = \"20s\"",
        &rolling("BatchNumber = 1"),
        &format!("{hooks}\n{extra}"),
    )
}

fn complete(id: &str, at: &str, hook: &str, result: &str) -> String {
    format!(
        "[[actions]]\nid = \"{id}\"\nat = \"{at}\"\naction = \"CompleteLifecycleAction\"\nrequest = {{ LifecycleHookId = \"{hook}\", LifecycleActionResult = \"{result}\", InstanceId = \"#1\" }}\n"
    )
}

#[test]
fn s3_10_a_reset_refresh_fires_only_extension_hooks_never_normal_ones() {
    let hooks = [
        hook("ash-nrm-l", "LAUNCHING", "NORMAL", ""),
        hook("ash-nrm-t", "TERMINATING", "NORMAL", ""),
        hook("ash-ext-t", "TERMINATING", "EXTENSION", ""),
        hook("ash-ext-l", "LAUNCHING", "EXTENSION", ""),
    ]
    .concat();
    let r = hooked_run(&hooks, "");
    let rows = rows(&r);
    let id = instance_name(&r.world, 0);
    assert_eq!(
        hooks_started(&rows, &id),
        vec![(0, "ash-ext-t".into()), (80_000, "ash-ext-l".into())]
    );
    assert_eq!(first_activity(&r).status, ActivityStatus::Successful);
}

#[test]
fn oq50_remove_instances_fires_extension_hooks_only_and_scale_in_fires_both() {
    // No refresh here: 3 instances, a RemoveInstances of #1 and a ScaleInInstances of 1.
    let hooks = [
        hook("ash-nrm-t", "TERMINATING", "NORMAL", ""),
        hook("ash-ext-t", "TERMINATING", "EXTENSION", ""),
    ]
    .concat();
    let extra = r##"
[[actions]]
id = "remove"
at = "10m"
action = "RemoveInstances"
request = { InstanceIds = ["#1"] }
[[actions]]
id = "scale-in"
at = "20m"
action = "ScaleInInstances"
request = { ScaleInNumber = 1 }
"##;
    let toml = with_group(
        &run_text_source(&hooks, extra),
        "min_size = 0\ndesired_capacity = 3",
    );
    let r = run_text(&toml);
    assert_eq!(code(&r, "remove"), "OK");
    assert_eq!(code(&r, "scale-in"), "OK");
    let rows = rows(&r);
    let removed = instance_name(&r.world, 0);
    let started: Vec<String> = hooks_started(&rows, &removed)
        .into_iter()
        .filter(|(t, _)| *t >= 600_000)
        .map(|(_, h)| h)
        .collect();
    assert_eq!(
        started,
        vec!["ash-ext-t".to_string()],
        "manual API: EXTENSION only"
    );
    let scaled_in: Vec<String> = rows
        .iter()
        .filter(|row| row.kind == "hook_started" && row.time_ms >= 1_200_000)
        .map(|row| row.detail.trim_start_matches("hook=").to_string())
        .collect();
    assert_eq!(
        scaled_in,
        vec!["ash-nrm-t".to_string(), "ash-ext-t".to_string()],
        "ScaleIn: NORMAL and EXTENSION"
    );
}

/// A 3-instance scenario whose refresh (at 0 s, one batch) ends long before 10 minutes.
fn run_text_source(hooks: &str, extra: &str) -> String {
    text(
        3,
        "hook_response = \"20s\"",
        &rolling("BatchNumber = 1"),
        &format!("{hooks}\n{extra}"),
    )
}

#[test]
fn oq14_terminating_hooks_run_before_the_reinstall_and_launching_hooks_after() {
    let hooks = [
        hook("ash-ext-t", "TERMINATING", "EXTENSION", ""),
        hook("ash-ext-l", "LAUNCHING", "EXTENSION", ""),
    ]
    .concat();
    let r = hooked_run(&hooks, "");
    let rows = rows(&r);
    let id = instance_name(&r.world, 0);
    assert_eq!(
        transitions(&rows, "lifecycle", &id),
        vec![
            (0, "IN_SERVICE".into(), "IN_STANDBY".into()),
            (0, "IN_STANDBY".into(), "IN_TERMINATING_HOOK".into()),
            (20_000, "IN_TERMINATING_HOOK".into(), "IN_STANDBY".into()),
            (80_000, "IN_STANDBY".into(), "IN_LAUNCHING_HOOK".into()),
            (100_000, "IN_LAUNCHING_HOOK".into(), "IN_STANDBY".into()),
            (100_000, "IN_STANDBY".into(), "IN_SERVICE".into()),
        ]
    );
    let reinstall = rows.iter().find(|r| r.kind == "reinstall").unwrap();
    assert_eq!(reinstall.time_ms, 80_000, "between the two hooks");
    assert_eq!(
        first_time(&r, "instance", "RUNNING", Some(&id)),
        Some(20_000),
        "the reinstall starts when the terminating hook is done"
    );
    assert_eq!(
        first_time(&r, "instance", "SUCCESSFUL", Some(&id)),
        Some(100_000)
    );
}

#[test]
fn oq14_abandon_on_the_terminating_hook_lets_the_reinstall_continue() {
    let hooks = hook(
        "ash-drain",
        "TERMINATING",
        "EXTENSION",
        "auto_complete = false\nheartbeat_timeout = \"10m\"",
    );
    let r = hooked_run(&hooks, &complete("abandon", "5s", "ash-drain", "ABANDON"));
    assert_eq!(code(&r, "abandon"), "OK");
    let id = instance_name(&r.world, 0);
    assert_eq!(
        first_time(&r, "instance", "SUCCESSFUL", Some(&id)),
        Some(65_000)
    );
    assert_eq!(image_of(&r, 0), "img-new");
}

#[test]
fn oq14_abandon_on_the_launching_hook_fails_the_refresh_and_keeps_the_instance() {
    let hooks = hook(
        "ash-smoke",
        "LAUNCHING",
        "EXTENSION",
        "auto_complete = false\nheartbeat_timeout = \"10m\"",
    );
    let r = hooked_run(&hooks, &complete("abandon", "70s", "ash-smoke", "ABANDON"));
    assert_eq!(code(&r, "abandon"), "OK");
    let rows = rows(&r);
    let act = first_activity(&r);
    assert_eq!(act.items[0].status, InstanceStatus::Failed);
    assert_eq!(
        act.items[0].msg.render(&r.world.names),
        "lifecycle hook result ABANDON"
    );
    assert_eq!(first_time(&r, "instance", "FAILED", None), Some(70_000));
    let inst = &r.world.instances[0];
    assert!(inst.in_group, "not released: it existed before");
    assert_eq!(inst.state, LifeCycleState::InStandby);
    assert!(rows.iter().all(|row| row.kind != "instance_left"));
    assert_eq!(act.status, ActivityStatus::FailedPause);
}

#[test]
fn s6_8_the_heartbeat_timeout_applies_the_default_result() {
    for (default, outcome) in [
        ("CONTINUE", InstanceStatus::Successful),
        ("ABANDON", InstanceStatus::Failed),
    ] {
        let hooks = hook(
            "ash-verify",
            "LAUNCHING",
            "EXTENSION",
            &format!(
                "auto_complete = false\nheartbeat_timeout = \"30s\"\ndefault_result = \"{default}\""
            ),
        );
        let r = hooked_run(&hooks, "");
        let rows = rows(&r);
        let id = instance_name(&r.world, 0);
        assert_eq!(
            hooks_completed(&rows, &id),
            vec![(
                90_000,
                "ash-verify".into(),
                default.into(),
                "HEARTBEAT_TIMEOUT".into()
            )],
            "{default}"
        );
        let act = first_activity(&r);
        assert_eq!(act.items[0].status, outcome, "{default}");
        assert_eq!(act.ended.is_some(), default == "CONTINUE");
    }
}

#[test]
fn s6_8_hooks_run_one_after_another_and_after_the_first_abandon_the_rest_report_another_action_abandon()
 {
    let hooks = [
        hook("ash-one", "LAUNCHING", "EXTENSION", ""),
        hook(
            "ash-two",
            "LAUNCHING",
            "EXTENSION",
            "auto_complete = false\nheartbeat_timeout = \"30s\"\ndefault_result = \"ABANDON\"",
        ),
        hook("ash-three", "LAUNCHING", "EXTENSION", ""),
    ]
    .concat();
    let r = hooked_run(&hooks, "");
    let rows = rows(&r);
    let id = instance_name(&r.world, 0);
    assert_eq!(
        hooks_started(&rows, &id),
        vec![(60_000, "ash-one".into()), (80_000, "ash-two".into())],
        "sequential; the third never starts"
    );
    assert_eq!(
        hooks_completed(&rows, &id),
        vec![
            (
                80_000,
                "ash-one".into(),
                "CONTINUE".into(),
                "CALL_INTERFACE".into()
            ),
            (
                110_000,
                "ash-two".into(),
                "ABANDON".into(),
                "HEARTBEAT_TIMEOUT".into()
            ),
            (
                110_000,
                "ash-three".into(),
                "ABANDON".into(),
                "ANOTHER_ACTION_ABANDON".into()
            ),
        ]
    );
    assert_eq!(first_activity(&r).items[0].status, InstanceStatus::Failed);
}

fn replace_with_hooks(hooks: &str) -> RunResult {
    let toml = text(
        1,
        "instance_create = \"60s\"\ninstance_destroy = \"20s\"\nhook_response = \"20s\"",
        &rolling("BatchNumber = 1"),
        hooks,
    )
    .replace_once(
        "action = \"StartInstanceRefresh\"\nrequest = {",
        "action = \"StartInstanceRefresh\"\nrequest = { RefreshMode = \"ROLLING_UPDATE_REPLACE\",",
    );
    run_text(&toml)
}

#[test]
fn oq14_replace_instances_go_through_normal_and_extension_hooks() {
    let hooks = [
        hook("ash-nrm-l", "LAUNCHING", "NORMAL", ""),
        hook("ash-ext-l", "LAUNCHING", "EXTENSION", ""),
        hook("ash-nrm-t", "TERMINATING", "NORMAL", ""),
    ]
    .concat();
    let r = replace_with_hooks(&hooks);
    let rows = rows(&r);
    let act = first_activity(&r);
    assert_eq!(act.status, ActivityStatus::Successful);
    let old = instance_name(&r.world, 0);
    let new = r
        .world
        .names
        .get(r.world.instances[act.items[0].replacement.unwrap() as usize].id)
        .to_string();
    // The new instance: created at 60 s, both launching hooks (20 s each), in service at 100 s.
    assert_eq!(
        hooks_started(&rows, &new),
        vec![(60_000, "ash-nrm-l".into()), (80_000, "ash-ext-l".into())]
    );
    assert!(transitions(&rows, "lifecycle", &new).contains(&(
        100_000,
        "IN_LAUNCHING_HOOK".into(),
        "IN_SERVICE".into()
    )));
    // The old instance: the NORMAL terminating hook, then destroyed.
    assert_eq!(
        hooks_started(&rows, &old),
        vec![(100_000, "ash-nrm-t".into())]
    );
    assert_eq!(
        transitions(&rows, "instance_left", &old),
        vec![(140_000, "TERMINATING".into(), "DESTROYED".into())]
    );
}

#[test]
fn oq14_oq67_a_launching_abandon_releases_the_new_replace_instance_and_fails_the_old_one() {
    let hooks = hook(
        "ash-nrm-l",
        "LAUNCHING",
        "NORMAL",
        "auto_complete = false\nheartbeat_timeout = \"30s\"\ndefault_result = \"ABANDON\"",
    );
    let r = replace_with_hooks(&hooks);
    let rows = rows(&r);
    let act = first_activity(&r);
    let item = &act.items[0];
    assert_eq!(item.status, InstanceStatus::Failed);
    let new = r
        .world
        .names
        .get(r.world.instances[item.replacement.unwrap() as usize].id)
        .to_string();
    let left: Vec<&Row> = rows
        .iter()
        .filter(|row| row.kind == "instance_left" && row.instance_id == new)
        .collect();
    // Created 0–60 s, the hook times out at 90 s with ABANDON; OQ-67: the release is a
    // destruction taking instance_destroy (20 s), and the item fails when it ends.
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].time_ms, 110_000);
    assert_eq!(left[0].from, "TERMINATING");
    assert!(left[0].detail.contains("launching hook ABANDON"));
    assert!(transitions(&rows, "lifecycle", &new).contains(&(
        90_000,
        "IN_LAUNCHING_HOOK".into(),
        "TERMINATING".into()
    )));
    let failed = rows
        .iter()
        .find(|row| row.kind == "instance" && row.to == "FAILED")
        .unwrap();
    assert_eq!(failed.time_ms, 110_000);
    let old = &r.world.instances[0];
    assert!(old.in_group);
    assert_eq!(old.state, LifeCycleState::InService);
}

#[test]
fn oq14_oq67_surge_instances_go_through_normal_hooks_and_a_launching_abandon_fails_the_scale_out() {
    let timing = "instance_create = \"60s\"\ninstance_destroy = \"20s\"\nhook_response = \"20s\"";
    let hooks = [
        hook("ash-nrm-l", "LAUNCHING", "NORMAL", ""),
        hook("ash-nrm-t", "TERMINATING", "NORMAL", ""),
    ]
    .concat();
    let r = run(2, timing, &rolling("BatchNumber = 1, MaxSurge = 1"), &hooks);
    let rows = rows(&r);
    let surge = rows
        .iter()
        .find(|row| row.kind == "instance_joined" && row.detail.contains("surge=true"))
        .unwrap()
        .instance_id
        .clone();
    // Created 0–60 s, launching hook 60–80 s; batch 80–140 s; terminating hook 140–160 s.
    assert_eq!(
        hooks_started(&rows, &surge),
        vec![(60_000, "ash-nrm-l".into()), (140_000, "ash-nrm-t".into())]
    );
    assert_eq!(first_activity(&r).status, ActivityStatus::Successful);
    // The original instances are refreshed (RESET): NORMAL hooks do not fire for them.
    assert!(hooks_started(&rows, &instance_name(&r.world, 0)).is_empty());

    let abandon = hook(
        "ash-nrm-l",
        "LAUNCHING",
        "NORMAL",
        "auto_complete = false\nheartbeat_timeout = \"30s\"\ndefault_result = \"ABANDON\"",
    );
    let r = run(
        2,
        timing,
        &rolling("BatchNumber = 1, MaxSurge = 1"),
        &abandon,
    );
    let act = first_activity(&r);
    assert_eq!(act.status, ActivityStatus::FailedPause);
    // OQ-67: ABANDON at 90 s, the release takes instance_destroy (20 s): the scale-out fails
    // (and its SCALE_OUT activity ends) at 110 s.
    assert_eq!(
        first_time(&r, "activity", "FAILED_PAUSE", None),
        Some(110_000)
    );
    let rows = crate::common::rows(&r);
    let surge_out_end = rows
        .iter()
        .find(|row| row.kind == "scaling_activity" && row.from == "RUNNING")
        .unwrap();
    assert_eq!(
        (surge_out_end.time_ms, surge_out_end.to.as_str()),
        (110_000, "FAILED")
    );
    assert!(r.world.instances.iter().all(|i| !i.surge || !i.in_group));
}

#[test]
fn oq54_s6_8_complete_lifecycle_action_errors() {
    let hooks = [
        hook(
            "ash-t",
            "TERMINATING",
            "EXTENSION",
            "auto_complete = false\nheartbeat_timeout = \"10m\"",
        ),
        hook(
            "ash-l",
            "LAUNCHING",
            "EXTENSION",
            "auto_complete = false\nheartbeat_timeout = \"10m\"",
        ),
    ]
    .concat();
    let toml = text(2, "", &rolling("BatchNumber = 1"), &hooks);
    let (mut sim, mut sink) = engine_text(&toml, false);
    sim.advance_until(SimTime(5_000), &mut sink).unwrap();
    let (one, two) = (instance_name(sim.world(), 0), instance_name(sim.world(), 1));
    let token_of_one = {
        let w = sim.world();
        let run = w
            .hook_runs
            .iter()
            .find(|r| r.active && r.instance == 0)
            .expect("ash-t pending on #1");
        w.names.get(run.token).to_string()
    };
    let mut complete = |body: serde_json::Value| {
        let r = call(&mut sim, &mut sink, Action::CompleteLifecycleAction, body);
        r.map(|_| ())
    };
    let cases = [
        (
            json!({"LifecycleHookId": "ash-t", "LifecycleActionResult": "MAYBE", "InstanceId": one}),
            Err(ErrorCode::InvalidParameterValue),
        ),
        (
            json!({"LifecycleHookId": "ash-t", "LifecycleActionResult": "CONTINUE"}),
            Err(ErrorCode::MissingParameter),
        ),
        (
            json!({"LifecycleActionResult": "CONTINUE", "InstanceId": one}),
            Err(ErrorCode::MissingParameter),
        ),
        (
            json!({"LifecycleHookId": "ash-nope", "LifecycleActionResult": "CONTINUE", "InstanceId": one}),
            Err(ErrorCode::ResourceNotFoundLifecycleHookNotFound),
        ),
        // A hook of the group with no action pending for this instance.
        (
            json!({"LifecycleHookId": "ash-l", "LifecycleActionResult": "CONTINUE", "InstanceId": one}),
            Err(ErrorCode::ResourceNotFoundLifecycleHookInstanceNotMatch),
        ),
        (
            json!({"LifecycleHookId": "ash-t", "LifecycleActionResult": "CONTINUE", "InstanceId": "ins-nope0000"}),
            Err(ErrorCode::ResourceNotFoundLifecycleHookInstanceNotMatch),
        ),
        (
            json!({"LifecycleHookId": "ash-t", "LifecycleActionResult": "CONTINUE", "LifecycleActionToken": "no-such-token"}),
            Err(ErrorCode::ResourceNotFoundLifecycleHookInstanceNotMatch),
        ),
        // By token, then the same action again by instance id.
        (
            json!({"LifecycleHookId": "ash-t", "LifecycleActionResult": "CONTINUE", "LifecycleActionToken": token_of_one}),
            Ok(()),
        ),
        (
            json!({"LifecycleHookId": "ash-t", "LifecycleActionResult": "ABANDON", "InstanceId": one}),
            Err(ErrorCode::ResourceUnavailableLifecycleActionResultHasSet),
        ),
        (
            json!({"LifecycleHookId": "ash-t", "LifecycleActionResult": "CONTINUE", "InstanceId": two}),
            Ok(()),
        ),
    ];
    for (body, want) in cases {
        assert_eq!(complete(body.clone()), want, "{body}");
    }
    // Both reinstalls started at 5 s, once their terminating hook was completed.
    let rows = engine_rows(&sim, &sink);
    for id in [&one, &two] {
        assert!(
            rows.iter().any(|r| r.kind == "instance"
                && &r.instance_id == id
                && r.to == "RUNNING"
                && r.time_ms == 5_000),
            "{id}"
        );
    }
}
