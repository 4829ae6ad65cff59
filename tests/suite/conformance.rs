//! Conformance tests, one per documented rule or model decision, named after the spec section
//! (`s1_1_…`) or OQ id (`oq13_…`) they check (`docs/rules.md`, `docs/decisions.md`).

use crate::common::*;
use refreshsim::api::{
    Action, ActivityStatus, ApiOutput, BatchStatus, EnabledStatus, ErrorCode, InstanceStatus,
    LifeCycleState,
};
use refreshsim::sim::Simulation;
use refreshsim::time::SimTime;
use refreshsim::timeline::{FullSink, MetricsSink};
use serde_json::json;

const B3: &str = "{ RollingUpdateSettings = { BatchNumber = 3 } }";

// ---- Batches and eligibility ------------------------------------------------------------

#[test]
fn oq1_five_instances_over_three_batches_are_two_two_one() {
    let r = run(5, "", B3, "");
    let sizes: Vec<usize> = first_activity(&r)
        .batches
        .iter()
        .map(|b| b.items.len())
        .collect();
    assert_eq!(sizes, vec![2, 2, 1]);
}

#[test]
fn oq2_instances_fill_batches_by_add_time_then_listed_by_id() {
    let toml = r##"
[scenario]
name = "oq2"
[group]
id = "asg-oq2"
[[group.instances]]
id = "ins-zzz"
add_time = "2024-01-01T00:00:01Z"
[[group.instances]]
id = "ins-aaa"
add_time = "2024-01-01T00:00:03Z"
[[group.instances]]
id = "ins-mmm"
add_time = "2024-01-01T00:00:02Z"
[[group.instances]]
id = "ins-bbb"
add_time = "2024-01-01T00:00:01Z"
[launch_configuration]
image_id = "img-new"
[[actions]]
at = "0s"
action = "StartInstanceRefresh"
request = { RefreshSettings = { RollingUpdateSettings = { BatchNumber = 2 } } }
"##;
    let r = run_text(toml);
    let act = first_activity(&r);
    let names = instance_statuses(&r.world, act);
    // AddTime order: bbb/zzz (same time, id order), mmm, aaa → batch 1 = {bbb, zzz}, batch 2 = {mmm, aaa},
    // each listed by InstanceId.
    let ids: Vec<&str> = names.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(ids, vec!["ins-bbb", "ins-zzz", "ins-aaa", "ins-mmm"]);
    assert_eq!(act.items[2].batch, 1);
}

#[test]
fn s3_1_standby_and_not_running_instances_are_never_selected() {
    let toml = text(
        4,
        "",
        "{ RollingUpdateSettings = { BatchNumber = 1 } }",
        "",
    )
    .replace_once(
        "size = 4\nimage_id = \"img-old\"",
        "[[group.instances]]\nid = \"ins-run\"\n[[group.instances]]\nid = \"ins-stb\"\nstandby = true\n[[group.instances]]\nid = \"ins-stp\"\nstate = \"STOPPED\"",
    );
    let r = run_text(&toml);
    let act = first_activity(&r);
    assert_eq!(
        act.items.len(),
        1,
        "only the IN_SERVICE, non-standby instance is frozen (OQ-3)"
    );
    assert_eq!(instance_statuses(&r.world, act)[0].0, "ins-run");
}

#[test]
fn oq3_instances_that_become_eligible_after_start_are_not_refreshed() {
    let extra = r##"
[[faults.events]]
at = "0s"
kind = "enter_standby"
instance = "#4"
[[faults.events]]
at = "10s"
kind = "exit_standby"
instance = "#4"
"##;
    let r = run(4, "", B3, extra);
    let act = first_activity(&r);
    assert_eq!(act.items.len(), 3, "the set is frozen at Start");
}

#[test]
fn oq3_instance_not_running_when_its_batch_starts_is_cancelled_and_does_not_block() {
    let extra = r##"
[[faults.events]]
at = "10s"
kind = "stop"
instance = "#3"
"##;
    let r = run(3, "", B3, extra);
    let act = first_activity(&r);
    let statuses = instance_statuses(&r.world, act);
    assert_eq!(statuses[2].1, InstanceStatus::Cancelled);
    assert_eq!(
        act.items[2].msg.render(&r.world.names),
        "instance not in running status, skipped"
    );
    assert_eq!(act.status, ActivityStatus::Successful);
    assert_eq!(
        batch_statuses(act)[2],
        BatchStatus::Successful,
        "OQ-12: no remaining instance → SUCCESSFUL"
    );
}

#[test]
fn s1_1_rule4_removed_or_destroyed_instances_are_not_found_and_never_block() {
    let extra = r##"
[[faults.events]]
at = "30s"
kind = "destroy"
instance = "#1"
[[faults.events]]
at = "30s"
kind = "detach"
instance = "#3"
"##;
    let r = run(3, "", B3, extra);
    let act = first_activity(&r);
    let s = instance_statuses(&r.world, act);
    assert_eq!(s[0].1, InstanceStatus::NotFound, "in flight when destroyed");
    assert_eq!(s[2].1, InstanceStatus::NotFound, "waiting when detached");
    assert_eq!(act.status, ActivityStatus::Successful);
    // The in-flight instance's batch ended when it vanished, not 60 s later.
    assert_eq!(act.batches[0].ended, Some(SimTime(30_000)));
}

#[test]
fn s1_1_rule5_instances_already_matching_the_launch_configuration_are_still_refreshed() {
    let toml = text(2, "", "{ RollingUpdateSettings = { BatchNumber = 1 } }", "")
        .replace_once("img-old", "img-new");
    let r = run_text(&toml);
    let act = first_activity(&r);
    assert!(
        act.items
            .iter()
            .all(|it| it.status == InstanceStatus::Successful)
    );
    assert_eq!(rows(&r).iter().filter(|r| r.kind == "reinstall").count(), 2);
}

#[test]
fn oq5_scale_in_protected_instances_are_refreshed() {
    // A protected instance beside an unprotected one: both are refreshed (OQ-5), and the
    // protection reached the model and survives the refresh, so this cannot pass by ignoring
    // `protected`.
    let base = text(2, "", "{ RollingUpdateSettings = { BatchNumber = 1 } }", "");
    let from = "size = 2\nimage_id = \"img-old\"";
    assert!(
        base.contains(from),
        "the template declares the group by size:\n{base}"
    );
    let toml = base.replace_once(
        from,
        "[[group.instances]]\nid = \"ins-prot\"\nprotected = true\n\n\
         [[group.instances]]\nid = \"ins-open\"",
    );
    let r = run_text(&toml);
    let act = first_activity(&r);
    assert_eq!(act.items.len(), 2, "both instances are in the refresh");
    assert!(
        act.items
            .iter()
            .all(|it| it.status == InstanceStatus::Successful)
    );
    let reinstalled: Vec<String> = rows(&r)
        .into_iter()
        .filter(|row| row.kind == "reinstall")
        .map(|row| row.instance_id)
        .collect();
    assert!(
        reinstalled.iter().any(|id| id == "ins-prot"),
        "{reinstalled:?}"
    );
    let protection: Vec<(String, bool)> = r
        .world
        .instances
        .iter()
        .map(|i| (r.world.names.get(i.id).to_string(), i.protected))
        .collect();
    assert_eq!(
        protection,
        [
            ("ins-prot".to_string(), true),
            ("ins-open".to_string(), false)
        ],
        "protection is kept through the refresh"
    );
}

// ---- Activity life cycle --------------------------------------------------------------------

#[test]
fn oq9_activity_is_init_then_running_with_start_time_after_init_delay() {
    let r = run(
        2,
        "init_delay = \"20s\"",
        "{ RollingUpdateSettings = { BatchNumber = 1 } }",
        "",
    );
    let act = first_activity(&r);
    assert_eq!(act.created, SimTime(0));
    assert_eq!(act.started, Some(SimTime(20_000)));
    assert_eq!(first_time(&r, "activity", "RUNNING", None), Some(20_000));
}

#[test]
fn oq15_times_render_created_start_end_and_batch_times_at_whole_seconds() {
    let r = run(
        2,
        "init_delay = \"1500ms\"",
        "{ RollingUpdateSettings = { BatchNumber = 2 } }",
        "",
    );
    let d = &r.describe["Response"]["RefreshActivitySet"][0];
    assert_eq!(d["CreatedTime"], "2025-01-01T00:00:00Z");
    assert_eq!(d["StartTime"], "2025-01-01T00:00:01Z");
    assert_eq!(d["EndTime"], "2025-01-01T00:02:01Z");
    assert_eq!(
        d["RefreshBatchSet"][0]["RefreshBatchNum"], 2,
        "batches in descending order"
    );
    assert_eq!(d["RefreshBatchSet"][1]["StartTime"], "2025-01-01T00:00:01Z");
}

#[test]
fn oq15_unstarted_times_are_null() {
    let extra = r##"
[[actions]]
id = "stop"
at = "0s"
action = "StopInstanceRefresh"
"##;
    let r = run(
        2,
        "init_delay = \"10s\"",
        "{ RollingUpdateSettings = { BatchNumber = 2 } }",
        extra,
    );
    let d = &r.describe["Response"]["RefreshActivitySet"][0];
    assert_eq!(d["Status"], "MANUAL_PAUSE");
    assert!(d["StartTime"].is_null() && d["EndTime"].is_null());
    assert!(d["RefreshBatchSet"][0]["StartTime"].is_null());
    assert_eq!(d["CurrentRefreshBatchNum"], 1, "OQ-9: 1 while INIT");
}

#[test]
fn oq10_an_instance_leaves_service_for_its_reinstall_and_returns_after() {
    let r = run(1, "", "{ RollingUpdateSettings = { BatchNumber = 1 } }", "");
    let lifecycle: Vec<(u64, String, String)> = rows(&r)
        .into_iter()
        .filter(|r| r.kind == "lifecycle")
        .map(|r| (r.time_ms, r.from, r.to))
        .collect();
    assert_eq!(
        lifecycle,
        vec![
            (0, "IN_SERVICE".into(), "IN_STANDBY".into()),
            (60_000, "IN_STANDBY".into(), "IN_SERVICE".into())
        ]
    );
    assert_eq!(r.metrics.min_in_service, Some(0));
}

#[test]
fn oq10_one_scaling_activity_per_batch_shared_as_last_activity_id() {
    let r = run(4, "", "{ RollingUpdateSettings = { BatchNumber = 2 } }", "");
    let act = first_activity(&r);
    assert_eq!(act.items[0].last_activity, act.items[1].last_activity);
    assert_ne!(act.items[1].last_activity, act.items[2].last_activity);
    assert!(
        r.world
            .names
            .get(act.items[0].last_activity.unwrap())
            .starts_with("asa-")
    );
}

#[test]
fn oq16_launch_configuration_is_read_when_each_reinstall_starts() {
    let extra = r##"
[[launch_configuration.changes]]
at = "30s"
image_id = "img-newer"
"##;
    let toml = text(2, "", "{ RollingUpdateSettings = { BatchNumber = 2 } }", "")
        .replace_once("[timing]", &format!("{extra}\n[timing]"));
    let r = run_text(&toml);
    let images: Vec<&str> = r
        .world
        .instances
        .iter()
        .map(|i| r.world.names.get(i.image))
        .collect();
    assert_eq!(images, vec!["img-new", "img-newer"]);
}

#[test]
fn s3_4_reinstall_applies_refreshable_fields_and_keeps_instance_type() {
    let extra = r##"
[[launch_configuration.changes]]
at = "0s"
user_data = "bmV3"
instance_type = "S6.LARGE8"
"##;
    let toml = text(1, "", "{ RollingUpdateSettings = { BatchNumber = 1 } }", "")
        .replace_once("[timing]", &format!("{extra}\n[timing]"));
    let r = run_text(&toml);
    let inst = &r.world.instances[0];
    assert_eq!(
        inst.config_version,
        Some(1),
        "UserData of version 1 applied"
    );
    assert_eq!(
        r.world.names.get(inst.instance_type),
        "S5.MEDIUM2",
        "instance type is not refreshed (§1.1 rule 1)"
    );
}

// ---- Pauses -----------------------------------------------------------------------------------

#[test]
fn oq13_first_batch_pause_pauses_after_batch_one_only() {
    let r = run(
        3,
        "",
        "{ RollingUpdateSettings = { BatchNumber = 3, BatchPause = \"FIRST_BATCH_PAUSE\" } }",
        "",
    );
    let act = first_activity(&r);
    assert_eq!(act.status, ActivityStatus::AutoPause);
    assert_eq!(
        batch_statuses(act),
        vec![
            BatchStatus::Successful,
            BatchStatus::Waiting,
            BatchStatus::Waiting
        ]
    );
}

#[test]
fn oq13_no_pause_after_the_last_batch() {
    let settings =
        "{ RollingUpdateSettings = { BatchNumber = 2, BatchPause = \"BATCH_INTERVAL_PAUSE\" } }";
    let extra = r##"
[[actions]]
when = { activity_status = "AUTO_PAUSE" }
after = "1m"
repeat = true
action = "ResumeInstanceRefresh"
"##;
    let r = run(2, "", settings, extra);
    assert_eq!(
        activity_statuses(&r),
        vec![
            ActivityStatus::Init,
            ActivityStatus::Running,
            ActivityStatus::AutoPause,
            ActivityStatus::Running,
            ActivityStatus::Successful
        ]
    );
    assert_eq!(r.metrics.pauses, 1);
}

#[test]
fn oq13_automatic_batches_follow_after_the_batch_gap() {
    let r = run(
        2,
        "batch_gap = \"7s\"",
        "{ RollingUpdateSettings = { BatchNumber = 2 } }",
        "",
    );
    let act = first_activity(&r);
    assert_eq!(act.batches[1].started, Some(SimTime(67_000)));
}

// ---- Failures ---------------------------------------------------------------------------------

fn failing(instance: &str, attempt: Option<u32>) -> String {
    let attempt = attempt
        .map(|a| format!("attempt = {a}\n"))
        .unwrap_or_default();
    format!("[[faults.scripted]]\ninstance = \"{instance}\"\n{attempt}")
}

#[test]
fn s1_1_rule3_a_failed_instance_puts_the_activity_in_failed_pause() {
    let r = run(
        4,
        "",
        "{ RollingUpdateSettings = { BatchNumber = 2 } }",
        &failing("#1", Some(1)),
    );
    let act = first_activity(&r);
    assert_eq!(act.status, ActivityStatus::FailedPause);
    assert_eq!(
        batch_statuses(act),
        vec![BatchStatus::PartiallySuccessful, BatchStatus::Waiting]
    );
}

#[test]
fn oq12_batch_failed_when_every_remaining_instance_failed() {
    let extra = format!("{}\n{}", failing("#1", None), failing("#2", None));
    let r = run(
        2,
        "",
        "{ RollingUpdateSettings = { BatchNumber = 1 } }",
        &extra,
    );
    assert_eq!(
        batch_statuses(first_activity(&r)),
        vec![BatchStatus::Failed]
    );
}

#[test]
fn oq44_s3_4_a_failed_instance_stays_in_standby() {
    let r = run(
        2,
        "",
        "{ RollingUpdateSettings = { BatchNumber = 1 } }",
        &failing("#2", None),
    );
    let inst = &r.world.instances[1];
    assert_eq!(inst.state, LifeCycleState::InStandby);
    assert!(inst.held_by_refresh);
    assert_eq!(
        r.world.names.get(inst.image),
        "img-old",
        "a failed reinstall changes nothing"
    );
}

#[test]
fn oq22_retry_reruns_failed_instances_in_a_new_scaling_activity() {
    let extra = format!(
        "{}\n[[actions]]\nid = \"retry\"\nwhen = {{ activity_status = \"FAILED_PAUSE\" }}\nafter = \"1m\"\naction = \"ResumeInstanceRefresh\"\n",
        failing("#1", Some(1))
    );
    let r = run(
        2,
        "",
        "{ RollingUpdateSettings = { BatchNumber = 1 } }",
        &extra,
    );
    let act = first_activity(&r);
    assert_eq!(act.status, ActivityStatus::Successful);
    assert_eq!(act.items[0].attempt, 2);
    assert_ne!(
        act.items[0].last_activity, act.items[1].last_activity,
        "the retry is a new scaling activity"
    );
    let transitions: Vec<(String, String)> = rows(&r)
        .into_iter()
        .filter(|row| {
            row.kind == "instance" && row.instance_id == r.world.names.get(r.world.instances[0].id)
        })
        .map(|row| (row.from, row.to))
        .collect();
    assert!(
        transitions.contains(&("FAILED".into(), "WAITING".into())),
        "{transitions:?}"
    );
    assert_eq!(batch_statuses(act), vec![BatchStatus::Successful]);
}

#[test]
fn oq22_continue_skips_failed_instances_and_starts_the_next_batch_at_once() {
    let extra = format!(
        "{}\n[[actions]]\nwhen = {{ activity_status = \"FAILED_PAUSE\" }}\nafter = \"1m\"\naction = \"ResumeInstanceRefresh\"\nrequest = {{ ResumeMode = \"CONTINUE\" }}\n",
        failing("#1", None)
    );
    let settings =
        "{ RollingUpdateSettings = { BatchNumber = 2, BatchPause = \"BATCH_INTERVAL_PAUSE\" } }";
    let r = run(2, "", settings, &extra);
    let act = first_activity(&r);
    // OQ-23: the user chose to skip, so the activity is SUCCESSFUL; the Resume passed the interval pause.
    assert_eq!(act.status, ActivityStatus::Successful);
    assert_eq!(act.batches[1].started, Some(SimTime(120_000)));
    assert_eq!(act.items[0].status, InstanceStatus::Failed);
    assert!(act.items[0].skipped);
    assert_eq!(r.metrics.pauses, 1);
}

#[test]
fn oq13_auto_cancel_cancels_waiting_batches() {
    let r = run(
        3,
        "",
        "{ RollingUpdateSettings = { BatchNumber = 3, FailProcess = \"AUTO_CANCEL\" } }",
        &failing("#1", None),
    );
    let act = first_activity(&r);
    assert_eq!(act.status, ActivityStatus::Cancelled);
    assert_eq!(
        batch_statuses(act),
        vec![
            BatchStatus::Failed,
            BatchStatus::Cancelled,
            BatchStatus::Cancelled
        ]
    );
    assert_eq!(act.ended, Some(SimTime(60_000)));
}

// ---- Stop / Resume / Cancel -------------------------------------------------------------------

#[test]
fn oq21_stop_pauses_at_once_and_in_flight_instances_finish() {
    let extra = r##"
[[actions]]
id = "stop"
at = "10s"
action = "StopInstanceRefresh"
"##;
    let r = run(
        4,
        "",
        "{ RollingUpdateSettings = { BatchNumber = 2 } }",
        extra,
    );
    let act = first_activity(&r);
    assert_eq!(
        first_time(&r, "activity", "MANUAL_PAUSE", None),
        Some(10_000)
    );
    assert_eq!(act.status, ActivityStatus::ManualPause);
    assert_eq!(
        batch_statuses(act),
        vec![BatchStatus::Successful, BatchStatus::Waiting]
    );
}

#[test]
fn oq21_failures_in_a_manually_paused_batch_still_apply_fail_process() {
    let extra = format!(
        "{}\n[[actions]]\nat = \"10s\"\naction = \"StopInstanceRefresh\"\n",
        failing("#1", None)
    );
    let r = run(
        4,
        "",
        "{ RollingUpdateSettings = { BatchNumber = 2 } }",
        &extra,
    );
    assert_eq!(first_activity(&r).status, ActivityStatus::FailedPause);
}

#[test]
fn oq22_resume_after_manual_pause_mid_batch_just_continues() {
    let extra = r##"
[[actions]]
at = "10s"
action = "StopInstanceRefresh"
[[actions]]
id = "resume"
at = "20s"
action = "ResumeInstanceRefresh"
"##;
    let r = run(
        4,
        "",
        "{ RollingUpdateSettings = { BatchNumber = 2 } }",
        extra,
    );
    let act = first_activity(&r);
    assert_eq!(act.status, ActivityStatus::Successful);
    assert_eq!(
        act.batches[1].started,
        Some(SimTime(60_000)),
        "batch 2 follows batch 1 without a second start"
    );
    assert_eq!(act.items.iter().map(|i| i.attempt).sum::<u32>(), 4);
}

#[test]
fn oq21_stop_during_init_then_resume_starts_the_activity() {
    let extra = r##"
[[actions]]
at = "1s"
action = "StopInstanceRefresh"
[[actions]]
at = "30s"
action = "ResumeInstanceRefresh"
"##;
    let r = run(
        2,
        "init_delay = \"5s\"",
        "{ RollingUpdateSettings = { BatchNumber = 1 } }",
        extra,
    );
    let act = first_activity(&r);
    assert_eq!(act.started, Some(SimTime(30_000)));
    assert_eq!(act.status, ActivityStatus::Successful);
}

#[test]
fn oq22_resume_of_a_running_activity_is_a_conflict() {
    let extra = "[[actions]]\nid = \"resume\"\nat = \"5s\"\naction = \"ResumeInstanceRefresh\"\n";
    let r = run(2, "", B3.replace_once("3", "1").as_str(), extra);
    assert_eq!(
        code(&r, "resume"),
        "ResourceUnavailable.RefreshActivityStatusConflictWithOperation"
    );
}

#[test]
fn oq24_cancel_is_refused_while_a_batch_refreshes_and_allowed_in_init() {
    let extra = r##"
[[actions]]
id = "cancel-running"
at = "5s"
action = "CancelInstanceRefresh"
"##;
    let r = run(
        2,
        "",
        "{ RollingUpdateSettings = { BatchNumber = 2 } }",
        extra,
    );
    assert_eq!(
        code(&r, "cancel-running"),
        "ResourceUnavailable.RefreshActivityStatusConflictWithOperation"
    );

    let extra =
        "[[actions]]\nid = \"cancel-init\"\nat = \"1s\"\naction = \"CancelInstanceRefresh\"\n";
    let r = run(
        2,
        "init_delay = \"10s\"",
        "{ RollingUpdateSettings = { BatchNumber = 2 } }",
        extra,
    );
    assert_eq!(code(&r, "cancel-init"), "OK");
    let act = first_activity(&r);
    assert_eq!(act.status, ActivityStatus::Cancelled);
    assert!(
        act.items
            .iter()
            .all(|i| i.status == InstanceStatus::Cancelled)
    );
    assert_eq!(act.started, None);
}

#[test]
fn oq24_cancel_keeps_failed_instances_in_standby_and_forbids_resume() {
    let extra = format!(
        "{}\n[[actions]]\nid = \"cancel\"\nwhen = {{ activity_status = \"FAILED_PAUSE\" }}\naction = \"CancelInstanceRefresh\"\n[[actions]]\nid = \"resume\"\nwhen = {{ action = \"cancel\" }}\naction = \"ResumeInstanceRefresh\"\n",
        failing("#1", None)
    );
    let r = run(
        4,
        "",
        "{ RollingUpdateSettings = { BatchNumber = 2 } }",
        &extra,
    );
    assert_eq!(code(&r, "cancel"), "OK");
    assert_eq!(
        code(&r, "resume"),
        "ResourceUnavailable.RefreshActivityStatusConflictWithOperation"
    );
    assert_eq!(r.world.instances[0].state, LifeCycleState::InStandby);
    assert_eq!(
        batch_statuses(first_activity(&r)),
        vec![BatchStatus::PartiallySuccessful, BatchStatus::Cancelled]
    );
}

// ---- Group state ------------------------------------------------------------------------------

#[test]
fn oq17_group_is_disabled_for_the_whole_refresh_including_pauses_and_restored() {
    let settings =
        "{ RollingUpdateSettings = { BatchNumber = 2, BatchPause = \"BATCH_INTERVAL_PAUSE\" } }";
    let extra = "[[actions]]\nwhen = { activity_status = \"AUTO_PAUSE\" }\nafter = \"10m\"\naction = \"ResumeInstanceRefresh\"\n";
    let r = run(2, "", settings, extra);
    let changes: Vec<(u64, String)> = rows(&r)
        .into_iter()
        .filter(|r| r.kind == "group_enabled" && r.from != r.to)
        .map(|r| (r.time_ms, r.to))
        .collect();
    assert_eq!(
        changes,
        vec![
            (0, "DISABLED".into()),
            (60_000 + 600_000 + 60_000, "ENABLED".into())
        ]
    );
}

#[test]
fn oq17_a_group_disabled_before_the_refresh_stays_disabled_after() {
    let toml = text(1, "", "{ RollingUpdateSettings = { BatchNumber = 1 } }", "")
        .replace_once("size = 1", "size = 1\nenabled = false");
    let r = run_text(&toml);
    assert_eq!(r.world.group.enabled, EnabledStatus::Disabled);
}

#[test]
fn oq17_enable_is_refused_and_disable_is_remembered_during_a_refresh() {
    let extra = r##"
[[actions]]
id = "enable"
at = "5s"
action = "EnableAutoScalingGroup"
[[actions]]
id = "disable"
at = "6s"
action = "DisableAutoScalingGroup"
"##;
    let r = run(
        1,
        "",
        "{ RollingUpdateSettings = { BatchNumber = 1 } }",
        extra,
    );
    assert_eq!(
        code(&r, "enable"),
        "ResourceUnavailable.AutoScalingGroupInRefreshActivity"
    );
    assert_eq!(code(&r, "disable"), "OK");
    assert_eq!(
        r.world.group.enabled,
        EnabledStatus::Disabled,
        "the Disable during the refresh is what is restored"
    );
}

// ---- Validation order and lookups -------------------------------------------------------------

fn engine(size: usize) -> (Simulation, FullSink) {
    let toml = text(
        size,
        "",
        "{ RollingUpdateSettings = { BatchNumber = 1 } }",
        "",
    )
    .replace_once("at = \"0s\"", "at = \"100d\"");
    let mut scenario = parse(&toml);
    scenario.happenings.clear();
    let mut sink = FullSink::new(MetricsSink::new(800));
    let sim = Simulation::new(&scenario, 1, &mut sink).unwrap();
    (sim, sink)
}

#[test]
fn oq27_checks_run_in_the_documented_order() {
    let (mut sim, mut sink) = engine(2);
    // Unknown group AND BatchNumber too large AND bad BatchPause: the value check (4) wins over (5) and (10).
    let body = json!({"AutoScalingGroupId": "asg-nope", "RefreshSettings": {"RollingUpdateSettings": {"BatchNumber": 9, "BatchPause": "NEVER"}}});
    assert_eq!(
        call(&mut sim, &mut sink, Action::StartInstanceRefresh, body).unwrap_err(),
        ErrorCode::InvalidParameterValue
    );
    // Unknown group AND BatchNumber too large: (5) wins.
    let body = json!({"AutoScalingGroupId": "asg-nope", "RefreshSettings": {"RollingUpdateSettings": {"BatchNumber": 9}}});
    assert_eq!(
        call(&mut sim, &mut sink, Action::StartInstanceRefresh, body).unwrap_err(),
        ErrorCode::ResourceNotFoundAutoScalingGroupIdNotFound
    );
    // Missing BatchNumber AND bad mode: (3) wins over (4).
    let body = json!({"AutoScalingGroupId": "asg-test0001", "RefreshMode": "X", "RefreshSettings": {"RollingUpdateSettings": {}}});
    assert_eq!(
        call(&mut sim, &mut sink, Action::StartInstanceRefresh, body).unwrap_err(),
        ErrorCode::MissingParameter
    );
}

#[test]
fn oq27_step10_oq4_batch_number_too_large_reports_the_value_as_given() {
    let (mut sim, mut sink) = engine(2);
    let body = json!({"AutoScalingGroupId": "asg-test0001", "RefreshSettings": {"RollingUpdateSettings": {"BatchNumber": 99_999_999_999u64}}});
    let e = sim
        .submit(Action::StartInstanceRefresh, &body, &mut sink)
        .result
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidParameterValueBatchNumberTooLarge);
    assert!(
        e.message
            .contains("BatchNumber 99999999999 is greater than the 2"),
        "{}",
        e.message
    );
    // MaxSurge likewise (OQ-6, step 11): never clamped to 32 bits.
    let body = json!({"AutoScalingGroupId": "asg-test0001", "RefreshSettings": {"RollingUpdateSettings": {"BatchNumber": 1, "MaxSurge": 99_999_999_999i64}}});
    let e = sim
        .submit(Action::StartInstanceRefresh, &body, &mut sink)
        .result
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidParameterValueMaxSurgeTooLarge);
    assert!(e.message.contains("MaxSurge 99999999999 "), "{}", e.message);
}

#[test]
fn oq28_stop_resume_cancel_need_an_activity_of_the_named_group() {
    let (mut sim, mut sink) = engine(2);
    let start = json!({"AutoScalingGroupId": "asg-test0001", "RefreshSettings": {"RollingUpdateSettings": {"BatchNumber": 1}}});
    let Ok(ApiOutput::RefreshActivityId(id)) =
        call(&mut sim, &mut sink, Action::StartInstanceRefresh, start)
    else {
        panic!()
    };
    for action in [
        Action::StopInstanceRefresh,
        Action::ResumeInstanceRefresh,
        Action::CancelInstanceRefresh,
    ] {
        let wrong_group = json!({"AutoScalingGroupId": "asg-other", "RefreshActivityId": id});
        assert_eq!(
            call(&mut sim, &mut sink, action, wrong_group).unwrap_err(),
            ErrorCode::ResourceNotFoundRefreshActivityNotFound
        );
        let unknown =
            json!({"AutoScalingGroupId": "asg-test0001", "RefreshActivityId": "asr-00000000"});
        assert_eq!(
            call(&mut sim, &mut sink, action, unknown).unwrap_err(),
            ErrorCode::ResourceNotFoundRefreshActivityNotFound
        );
    }
}

#[test]
fn oq30_the_21st_request_in_a_second_is_rate_limited_without_side_effects() {
    let (mut sim, mut sink) = engine(2);
    let describe = json!({});
    for _ in 0..20 {
        assert!(
            call(
                &mut sim,
                &mut sink,
                Action::DescribeRefreshActivities,
                describe.clone()
            )
            .is_ok()
        );
    }
    assert_eq!(
        call(
            &mut sim,
            &mut sink,
            Action::DescribeRefreshActivities,
            describe.clone()
        )
        .unwrap_err(),
        ErrorCode::RequestLimitExceeded
    );
    // Another action has its own window (per action).
    let start = json!({"AutoScalingGroupId": "asg-test0001", "RefreshSettings": {"RollingUpdateSettings": {"BatchNumber": 1}}});
    assert!(call(&mut sim, &mut sink, Action::StartInstanceRefresh, start).is_ok());
    // One second later the window has rolled.
    sim.advance_until(SimTime(1_000), &mut sink).unwrap();
    assert!(
        call(
            &mut sim,
            &mut sink,
            Action::DescribeRefreshActivities,
            describe
        )
        .is_ok()
    );
}

#[test]
fn oq30_a_rate_limited_start_creates_nothing() {
    let (mut sim, mut sink) = engine(2);
    let bad = json!({"AutoScalingGroupId": "asg-test0001", "RefreshSettings": {"RollingUpdateSettings": {"BatchNumber": 9}}});
    for _ in 0..20 {
        assert!(
            call(
                &mut sim,
                &mut sink,
                Action::StartInstanceRefresh,
                bad.clone()
            )
            .is_err()
        );
    }
    let good = json!({"AutoScalingGroupId": "asg-test0001", "RefreshSettings": {"RollingUpdateSettings": {"BatchNumber": 1}}});
    assert_eq!(
        call(&mut sim, &mut sink, Action::StartInstanceRefresh, good).unwrap_err(),
        ErrorCode::RequestLimitExceeded
    );
    assert!(sim.world().activities.is_empty());
}

#[test]
fn oq35_ids_are_prefixed_eight_lowercase_alphanumerics_and_request_ids_are_uuid_shaped() {
    let r = run(2, "", "{ RollingUpdateSettings = { BatchNumber = 2 } }", "");
    let act = first_activity(&r);
    let id = r.world.names.get(act.id);
    assert!(id.starts_with("asr-") && id.len() == 12, "{id}");
    assert!(
        id[4..]
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    );
    let rid = r.calls[0].response["Response"]["RequestId"]
        .as_str()
        .unwrap();
    let parts: Vec<usize> = rid.split('-').map(str::len).collect();
    assert_eq!(parts, vec![8, 4, 4, 4, 12]);
}

// ---- Describe (OQ-29) -------------------------------------------------------------------------

#[test]
fn oq29_describe_orders_newest_first_pages_and_counts_before_paging() {
    let (mut sim, mut sink) = engine(2);
    let start = json!({"AutoScalingGroupId": "asg-test0001", "RefreshSettings": {"RollingUpdateSettings": {"BatchNumber": 1}}});
    let mut ids = Vec::new();
    for i in 0..3u64 {
        sim.advance_until(SimTime(i * 3_600_000), &mut sink)
            .unwrap();
        let Ok(ApiOutput::RefreshActivityId(id)) = call(
            &mut sim,
            &mut sink,
            Action::StartInstanceRefresh,
            start.clone(),
        ) else {
            panic!()
        };
        ids.push(id);
    }
    let Ok(ApiOutput::Describe {
        total_count,
        refresh_activity_set,
    }) = call(
        &mut sim,
        &mut sink,
        Action::DescribeRefreshActivities,
        json!({"Limit": 2, "Offset": 1}),
    )
    else {
        panic!()
    };
    assert_eq!(total_count, 3);
    let got: Vec<&str> = refresh_activity_set
        .iter()
        .map(|a| a.refresh_activity_id.as_str())
        .collect();
    assert_eq!(got, vec![ids[1].as_str(), ids[0].as_str()]);
}

#[test]
fn oq29_describe_errors() {
    let (mut sim, mut sink) = engine(1);
    let cases = [
        (
            json!({"RefreshActivityIds": ["asr-1"], "Filters": []}),
            ErrorCode::InvalidParameterConflict,
        ),
        (
            json!({"Limit": 101}),
            ErrorCode::InvalidParameterValueLimitExceeded,
        ),
        (
            json!({"RefreshActivityIds": vec!["asr-1"; 101]}),
            ErrorCode::InvalidParameterValueLimitExceeded,
        ),
        (
            json!({"Filters": vec![json!({"Name": "refresh-activity-id", "Values": ["a"]}); 11]}),
            ErrorCode::InvalidParameterValueLimitExceeded,
        ),
        (
            json!({"Filters": [{"Name": "refresh-activity-id", "Values": ["a","b","c","d","e","f"]}]}),
            ErrorCode::LimitExceededFilterValuesTooLong,
        ),
        (
            json!({"Filters": [{"Name": "status", "Values": ["RUNNING"]}]}),
            ErrorCode::InvalidParameterValueInvalidFilter,
        ),
        (
            json!({"Filters": [{"Name": "refresh-activity-status-code", "Values": ["DONE"]}]}),
            ErrorCode::InvalidParameterValueFilter,
        ),
        (
            json!({"Filters": [{"Name": "refresh-activity-type", "Values": ["NORMAL", "UPDATE"]}]}),
            ErrorCode::InvalidParameterValueFilter,
        ),
        (
            json!({"Filters": [{"Name": "auto-scaling-group-id", "Values": ["group-1"]}]}),
            ErrorCode::InvalidParameterValueInvalidAutoScalingGroupId,
        ),
        (
            json!({"Filters": [{"Name": "refresh-activity-id"}]}),
            ErrorCode::MissingParameter,
        ),
        (json!({"Limit": -1}), ErrorCode::InvalidParameter),
    ];
    for (body, want) in cases {
        let got = call(
            &mut sim,
            &mut sink,
            Action::DescribeRefreshActivities,
            body.clone(),
        )
        .unwrap_err();
        assert_eq!(got, want, "{body}");
        sim.advance_until(SimTime(sim.now().as_ms() + 1000), &mut sink)
            .unwrap();
    }
}

#[test]
fn oq29_describe_filters_and_and_values_or_and_unknown_ids_are_absent() {
    let (mut sim, mut sink) = engine(1);
    let start = json!({"AutoScalingGroupId": "asg-test0001", "RefreshSettings": {"RollingUpdateSettings": {"BatchNumber": 1}}});
    let Ok(ApiOutput::RefreshActivityId(id)) =
        call(&mut sim, &mut sink, Action::StartInstanceRefresh, start)
    else {
        panic!()
    };
    let query = |status: &str| {
        json!({"Filters": [
            {"Name": "auto-scaling-group-id", "Values": ["asg-test0001"]},
            {"Name": "refresh-activity-status-code", "Values": [status, "FAILED"]}
        ]})
    };
    let count = |r: Result<ApiOutput, ErrorCode>| match r {
        Ok(ApiOutput::Describe { total_count, .. }) => total_count,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        count(call(
            &mut sim,
            &mut sink,
            Action::DescribeRefreshActivities,
            query("INIT")
        )),
        1
    );
    assert_eq!(
        count(call(
            &mut sim,
            &mut sink,
            Action::DescribeRefreshActivities,
            query("SUCCESSFUL")
        )),
        0
    );
    let by_ids = json!({"RefreshActivityIds": [id, "asr-unknown1"]});
    assert_eq!(
        count(call(
            &mut sim,
            &mut sink,
            Action::DescribeRefreshActivities,
            by_ids
        )),
        1
    );
}

// ---- Determinism and common random numbers (D7, D8, D10) ---------------------------------------

/// Per instance: (reinstall duration of attempt 1 in ms, whether attempt 1 failed).
fn first_attempts(
    r: &refreshsim::run::RunResult,
) -> std::collections::BTreeMap<String, (u64, bool)> {
    let mut started = std::collections::BTreeMap::new();
    let mut out = std::collections::BTreeMap::new();
    for row in rows(r) {
        if row.kind == "instance" && row.to == "RUNNING" && !started.contains_key(&row.instance_id)
        {
            started.insert(row.instance_id.clone(), row.time_ms);
        }
        if row.kind == "instance" && row.from == "RUNNING" && !out.contains_key(&row.instance_id) {
            let t0 = started[&row.instance_id];
            out.insert(
                row.instance_id.clone(),
                (row.time_ms - t0, row.to == "FAILED"),
            );
        }
    }
    out
}

#[test]
fn d7_changing_batch_number_leaves_every_instance_draw_unchanged() {
    let timing = "reinstall = { lognormal = { median = \"90s\", p95 = \"126s\" } }";
    let faults = "[faults]\nreinstall_failure_rate = 0.2\n[[actions]]\nwhen = { activity_status = \"FAILED_PAUSE\" }\nrepeat = true\naction = \"ResumeInstanceRefresh\"\n";
    let a = run(
        40,
        timing,
        "{ RollingUpdateSettings = { BatchNumber = 4 } }",
        faults,
    );
    let b = run(
        40,
        timing,
        "{ RollingUpdateSettings = { BatchNumber = 10 } }",
        faults,
    );
    let (da, db) = (first_attempts(&a), first_attempts(&b));
    assert_eq!(da.len(), 40);
    assert_eq!(
        da, db,
        "every instance's first attempt is the same whatever the batching"
    );
    assert!(da.values().any(|(_, failed)| *failed) && da.values().any(|(_, failed)| !*failed));
}

#[test]
fn d7_adding_an_instance_leaves_the_other_instances_draws_unchanged() {
    let timing = "reinstall = { uniform = { min = \"30s\", max = \"300s\" } }";
    let faults = "[faults]\nreinstall_failure_rate = 0.3\n";
    let a = run(
        10,
        timing,
        "{ RollingUpdateSettings = { BatchNumber = 1 } }",
        faults,
    );
    let b = run(
        11,
        timing,
        "{ RollingUpdateSettings = { BatchNumber = 1 } }",
        faults,
    );
    let (da, db) = (first_attempts(&a), first_attempts(&b));
    for (k, v) in &da {
        assert_eq!(db.get(k), Some(v), "{k}");
    }
    assert_eq!(db.len(), 11);
}

#[test]
fn d12_runs_are_bounded_by_max_events_with_a_clear_error() {
    let toml = text(
        50,
        "",
        "{ RollingUpdateSettings = { BatchNumber = 50 } }",
        "",
    )
    .replace_once("seed = 7", "seed = 7\nlimits = { max_events = 10 }");
    let scenario = parse(&toml);
    let err = refreshsim::run::run_scenario(&scenario, 1, false).unwrap_err();
    assert!(err.to_string().contains("max_events"), "{err}");
}

#[test]
fn d12_runs_are_bounded_by_max_sim_time() {
    let toml = text(3, "", "{ RollingUpdateSettings = { BatchNumber = 3 } }", "")
        .replace_once("seed = 7", "seed = 7\nlimits = { max_sim_time = \"90s\" }");
    let err = refreshsim::run::run_scenario(&parse(&toml), 1, false).unwrap_err();
    assert!(err.to_string().contains("max_sim_time"), "{err}");
}
