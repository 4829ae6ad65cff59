//! The invariant checker can fail: hand-broken timelines break each invariant and the checker
//! names it; deliberate engine bugs (sabotage switches) are caught; real runs pass.

use crate::common;
use crate::common::TemplateEdit;

use refreshsim::check::{Invariant, check_describe_history, check_timeline};
use refreshsim::model::world::Sabotage;
use refreshsim::run::run_scenario;
use refreshsim::scenario::load_scenario;
use refreshsim::timeline::Row;
use refreshsim::timeline::parse::from_rows;
use serde_json::{Value, json};
use std::path::Path;

fn rows_of(scenario: &str) -> Vec<Row> {
    let s = load_scenario(Path::new(&format!("scenarios/{scenario}"))).unwrap();
    let run = run_scenario(&s, s.seed, true).unwrap();
    run.timeline.unwrap().rows().collect()
}

fn violated(rows: Vec<Row>) -> Vec<Invariant> {
    let numbered = rows
        .into_iter()
        .enumerate()
        .map(|(i, r)| (i + 2, r))
        .collect();
    let read = from_rows(numbered).expect("the broken timeline still parses");
    let mut ids: Vec<Invariant> = check_timeline(&read.timeline)
        .into_iter()
        .map(|v| v.invariant)
        .collect();
    ids.dedup();
    ids
}

fn assert_caught(rows: Vec<Row>, invariant: Invariant) {
    let found = violated(rows);
    assert!(
        found.contains(&invariant),
        "expected {}, found {:?}",
        invariant.id(),
        found
    );
}

fn position(rows: &[Row], pred: impl Fn(&Row) -> bool) -> usize {
    rows.iter().position(pred).expect("the row exists")
}

const EXAMPLE: &str = "tencent-documented-example.toml";

#[test]
fn bundled_timelines_are_clean() {
    assert!(violated(rows_of(EXAMPLE)).is_empty());
}

#[test]
fn catches_time_order() {
    let mut rows = rows_of(EXAMPLE);
    let last = rows.len() - 1;
    rows[last].time_ms = 0;
    assert_caught(rows.clone(), Invariant::TimeOrder);
    rows = rows_of(EXAMPLE);
    rows[5].seq = rows[4].seq;
    assert_caught(rows, Invariant::TimeOrder);
}

#[test]
fn catches_activity_graph() {
    let mut rows = rows_of(EXAMPLE);
    let i = position(&rows, |r| r.kind == "activity" && r.to == "RUNNING");
    rows[i].to = "AUTO_PAUSE".into();
    assert_caught(rows, Invariant::ActivityGraph);
}

#[test]
fn catches_batch_graph() {
    let mut rows = rows_of(EXAMPLE);
    let i = position(&rows, |r| {
        r.kind == "batch" && r.from == "WAITING" && r.to == "INIT"
    });
    rows[i].to = "RUNNING".into();
    assert_caught(rows, Invariant::BatchGraph);
}

#[test]
fn catches_instance_graph() {
    let mut rows = rows_of(EXAMPLE);
    let i = position(&rows, |r| {
        r.kind == "instance" && r.from == "WAITING" && r.to == "INIT"
    });
    rows[i].to = "SUCCESSFUL".into();
    assert_caught(rows, Invariant::InstanceGraph);
}

#[test]
fn catches_terminal_changes() {
    let mut rows = rows_of(EXAMPLE);
    let mut revived = rows
        .iter()
        .rfind(|r| r.kind == "activity" && r.to == "SUCCESSFUL")
        .unwrap()
        .clone();
    revived.from = "SUCCESSFUL".into();
    revived.to = "RUNNING".into();
    revived.seq = rows.last().unwrap().seq + 1;
    revived.time_ms = rows.last().unwrap().time_ms;
    rows.push(revived);
    assert_caught(rows, Invariant::TerminalStaysTerminal);
}

#[test]
fn catches_batch_plan() {
    let mut rows = rows_of(EXAMPLE);
    // Move an instance of batch 1 into batch 2 when planning (sizes become 1, 3, 1).
    let i = position(&rows, |r| {
        r.kind == "instance" && r.from.is_empty() && r.batch == 1
    });
    rows[i].batch = 2;
    let found = violated(rows);
    assert!(found.contains(&Invariant::BatchPlan), "{found:?}");
}

#[test]
fn catches_an_instance_left_out_of_the_plan() {
    let mut rows = rows_of(EXAMPLE);
    let i = position(&rows, |r| {
        r.kind == "instance" && r.from.is_empty() && r.batch == 3
    });
    rows.remove(i);
    let b = position(&rows, |r| {
        r.kind == "batch" && r.from.is_empty() && r.batch == 3
    });
    rows.remove(b);
    let found = violated(rows);
    assert!(found.contains(&Invariant::BatchPlan), "{found:?}");
}

#[test]
fn catches_batches_out_of_sequence_with_a_sabotaged_engine() {
    let text = std::fs::read_to_string("scenarios/first-batch-pause-resume.toml").unwrap();
    let mut scenario = common::parse(&text);
    scenario.world.sabotage = Sabotage::StartNextBatchEarly;
    let run = run_scenario(&scenario, scenario.seed, true).unwrap();
    let found: Vec<Invariant> = check_timeline(run.timeline.as_ref().unwrap())
        .into_iter()
        .map(|v| v.invariant)
        .collect();
    assert!(found.contains(&Invariant::BatchesSequential), "{found:?}");
}

#[test]
fn catches_a_forgotten_group_restore_with_a_sabotaged_engine() {
    let text = std::fs::read_to_string(format!("scenarios/{EXAMPLE}")).unwrap();
    let mut scenario = common::parse(&text);
    scenario.world.sabotage = Sabotage::ForgetGroupRestore;
    let run = run_scenario(&scenario, scenario.seed, true).unwrap();
    let found: Vec<Invariant> = check_timeline(run.timeline.as_ref().unwrap())
        .into_iter()
        .map(|v| v.invariant)
        .collect();
    assert_eq!(found, vec![Invariant::GroupRestored]);
}

#[test]
fn catches_ignored_failures_with_a_sabotaged_engine() {
    let text = std::fs::read_to_string("scenarios/failure-pause-retry.toml").unwrap();
    let mut scenario = common::parse(&text);
    scenario.world.sabotage = Sabotage::IgnoreFailures;
    let run = run_scenario(&scenario, scenario.seed, true).unwrap();
    let found: Vec<Invariant> = check_timeline(run.timeline.as_ref().unwrap())
        .into_iter()
        .map(|v| v.invariant)
        .collect();
    assert!(
        found.contains(&Invariant::FailedBatchPauses)
            || found.contains(&Invariant::SuccessfulMeansDone),
        "{found:?}"
    );
}

#[test]
fn catches_instances_left_out_of_service_with_a_sabotaged_engine() {
    let text = std::fs::read_to_string(format!("scenarios/{EXAMPLE}")).unwrap();
    let mut scenario = common::parse(&text);
    scenario.world.sabotage = Sabotage::LeaveInStandby;
    let run = run_scenario(&scenario, scenario.seed, true).unwrap();
    let found: Vec<Invariant> = check_timeline(run.timeline.as_ref().unwrap())
        .into_iter()
        .map(|v| v.invariant)
        .collect();
    assert!(found.contains(&Invariant::CapacityFloor), "{found:?}");
}

#[test]
fn catches_two_active_activities() {
    let mut rows = rows_of(EXAMPLE);
    let i = position(&rows, |r| r.kind == "activity_created");
    let mut twin = rows[i].clone();
    twin.activity_id = "asr-twin0001".into();
    rows.insert(i + 1, twin);
    for (k, r) in rows.iter_mut().enumerate() {
        r.seq = k as u64;
    }
    assert_caught(rows, Invariant::OneActiveActivity);
}

#[test]
fn catches_an_enabled_group_during_a_refresh() {
    let mut rows = rows_of(EXAMPLE);
    let i = position(&rows, |r| r.kind == "group_enabled" && r.to == "DISABLED");
    rows.remove(i);
    let j = position(&rows, |r| r.kind == "group_enabled" && r.from == "DISABLED");
    rows.remove(j);
    assert_caught(rows, Invariant::GroupDisabled);
}

#[test]
fn catches_a_group_not_restored() {
    let mut rows = rows_of(EXAMPLE);
    let j = position(&rows, |r| r.kind == "group_enabled" && r.from == "DISABLED");
    rows.remove(j);
    assert_caught(rows, Invariant::GroupRestored);
}

#[test]
fn catches_automatic_scaling_during_a_refresh() {
    let mut rows = rows_of(EXAMPLE);
    let i = position(&rows, |r| r.kind == "batch" && r.to == "RUNNING");
    let mut sa = rows[i].clone();
    sa.kind = "scaling_activity".into();
    sa.activity_id = String::new();
    sa.batch = 0;
    sa.from = String::new();
    sa.to = "RUNNING".into();
    sa.detail = "id=asa-rogue001 type=SCALE_OUT instances=1 cause=desired-capacity".into();
    rows.insert(i + 1, sa);
    for (k, r) in rows.iter_mut().enumerate() {
        r.seq = k as u64;
    }
    assert_caught(rows, Invariant::NoAutomaticScaling);
}

#[test]
fn catches_a_failed_batch_that_does_not_pause() {
    let mut rows = rows_of("failure-pause-retry.toml");
    let i = position(&rows, |r| r.kind == "activity" && r.to == "FAILED_PAUSE");
    rows.remove(i);
    assert_caught(rows, Invariant::FailedBatchPauses);
}

#[test]
fn catches_a_batch_blocked_with_nothing_in_flight() {
    let mut rows = rows_of("instances-removed-not-found.toml");
    // Batch 1 ends when its remaining instance finishes; drop that end.
    let i = position(&rows, |r| {
        r.kind == "batch" && r.batch == 1 && r.from == "RUNNING"
    });
    rows.truncate(i);
    assert_caught(rows, Invariant::NotFoundNeverBlocks);
}

#[test]
fn catches_success_with_an_unfinished_instance() {
    let mut rows = rows_of(EXAMPLE);
    let i = rows
        .iter()
        .rposition(|r| r.kind == "instance" && r.to == "SUCCESSFUL")
        .unwrap();
    rows[i].to = "FAILED".into();
    assert_caught(rows, Invariant::SuccessfulMeansDone);
}

#[test]
fn catches_too_many_surge_instances() {
    let mut rows = rows_of("surge-one.toml");
    let i = position(&rows, |r| {
        r.kind == "instance_joined" && r.detail.contains("surge=true")
    });
    let mut extra = rows[i].clone();
    extra.instance_id = "ins-extra001".into();
    rows.insert(i + 1, extra);
    for (k, r) in rows.iter_mut().enumerate() {
        r.seq = k as u64;
    }
    assert_caught(rows, Invariant::SurgeBounded);
}

#[test]
fn catches_surge_instances_left_behind() {
    let mut rows = rows_of("surge-one.toml");
    let surge = rows
        .iter()
        .find(|r| r.kind == "instance_joined" && r.detail.contains("surge=true"))
        .unwrap()
        .instance_id
        .clone();
    rows.retain(|r| !(r.kind == "instance_left" && r.instance_id == surge));
    assert_caught(rows, Invariant::SurgeGone);
}

#[test]
fn catches_capacity_below_the_floor() {
    let mut rows = rows_of(EXAMPLE);
    let i = position(&rows, |r| r.kind == "lifecycle" && r.to == "IN_SERVICE");
    rows[i].to = "IN_STANDBY".into();
    assert_caught(rows, Invariant::CapacityFloor);
}

#[test]
fn catches_a_reinstall_with_the_wrong_image_or_type() {
    let mut rows = rows_of(EXAMPLE);
    let i = position(&rows, |r| r.kind == "reinstall");
    rows[i].detail = rows[i]
        .detail
        .replace_once("image=img-new", "image=img-other");
    assert_caught(rows, Invariant::ReinstallFields);
    let mut rows = rows_of(EXAMPLE);
    let i = position(&rows, |r| r.kind == "reinstall");
    rows[i].detail = rows[i]
        .detail
        .replace_once("instance_type=S5.MEDIUM2", "instance_type=S6.LARGE8");
    assert_caught(rows, Invariant::ReinstallFields);
}

#[test]
fn catches_a_rollback_to_the_wrong_image() {
    let mut rows = rows_of("rollback-paused.toml");
    let rollback = rows
        .iter()
        .find(|r| r.kind == "activity_created" && r.detail.contains("type=ROLLBACK"))
        .unwrap()
        .activity_id
        .clone();
    let i = position(&rows, |r| {
        r.kind == "reinstall" && r.activity_id == rollback
    });
    rows[i].detail = rows[i].detail.replace_once("image=img-v1", "image=img-v2");
    assert_caught(rows, Invariant::RollbackRestoresImage);
}

#[test]
fn catches_a_describe_response_that_disagrees() {
    let mut rows = rows_of("describe-queries.toml");
    let i = position(&rows, |r| {
        r.kind == "api_result" && r.detail.contains("response=") && r.detail.contains("AUTO_PAUSE")
    });
    rows[i].detail =
        rows[i]
            .detail
            .replacen("\"Status\":\"AUTO_PAUSE\"", "\"Status\":\"RUNNING\"", 1);
    assert_caught(rows, Invariant::DescribeAgrees);
}

#[test]
fn catches_an_undocumented_error_code() {
    let mut rows = rows_of("rejected-requests.toml");
    let i = position(&rows, |r| {
        r.kind == "api_result" && r.to == "ResourceNotFound.RefreshActivityNotFound"
    });
    rows[i].to = "ResourceUnavailable.NoInstanceCanRollback".into();
    assert_caught(rows, Invariant::DocumentedErrors);
}

// ---- Describe histories -----------------------------------------------------------------------

fn activity(status: &str, batches: Vec<Value>) -> Value {
    json!({
        "AutoScalingGroupId": "asg-1", "RefreshActivityId": "asr-1", "OriginRefreshActivityId": "",
        "RefreshBatchSet": batches, "RefreshMode": "ROLLING_UPDATE_RESET",
        "RefreshSettings": {"RollingUpdateSettings": {"BatchNumber": 2, "BatchPause": "AUTOMATIC", "MaxSurge": 0, "FailProcess": "AUTO_PAUSE"},
            "CheckInstanceTargetHealth": false, "CheckInstanceTargetHealthTimeout": 1800},
        "ActivityType": "NORMAL", "Status": status, "CurrentRefreshBatchNum": 1,
        "StartTime": "2025-01-01T00:00:00Z",
        "EndTime": if status == "SUCCESSFUL" { json!("2025-01-01T00:05:00Z") } else { Value::Null },
        "CreatedTime": "2025-01-01T00:00:00Z"
    })
}

fn batch(
    num: u32,
    status: &str,
    instances: &[(&str, &str)],
    start: Option<&str>,
    end: Option<&str>,
) -> Value {
    json!({
        "RefreshBatchNum": num, "RefreshBatchStatus": status,
        "RefreshBatchRelatedInstanceSet": instances.iter().map(|(id, s)| json!({"InstanceId": id, "InstanceStatus": s, "LastActivityId": "", "InstanceStatusMessage": ""})).collect::<Vec<_>>(),
        "StartTime": start, "EndTime": end
    })
}

fn response(activities: Vec<Value>) -> Value {
    json!({"Response": {"TotalCount": activities.len(), "RefreshActivitySet": activities, "RequestId": "r"}})
}

#[test]
fn describe_history_passes_a_consistent_poll_sequence() {
    let t0 = "2025-01-01T00:00:00Z";
    let poll1 = response(vec![activity(
        "RUNNING",
        vec![
            batch(2, "WAITING", &[("ins-c", "WAITING")], None, None),
            batch(
                1,
                "RUNNING",
                &[("ins-a", "RUNNING"), ("ins-b", "INIT")],
                Some(t0),
                None,
            ),
        ],
    )]);
    let poll2 = response(vec![activity(
        "SUCCESSFUL",
        vec![
            batch(
                2,
                "SUCCESSFUL",
                &[("ins-c", "SUCCESSFUL")],
                Some("2025-01-01T00:02:00Z"),
                Some("2025-01-01T00:05:00Z"),
            ),
            batch(
                1,
                "SUCCESSFUL",
                &[("ins-a", "SUCCESSFUL"), ("ins-b", "SUCCESSFUL")],
                Some(t0),
                Some("2025-01-01T00:02:00Z"),
            ),
        ],
    )]);
    let report = check_describe_history(&[poll1, poll2]);
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    assert!(report.unchecked.contains(&Invariant::CapacityFloor));
}

#[test]
fn describe_history_catches_impossible_transitions_and_bad_snapshots() {
    let t0 = "2025-01-01T00:00:00Z";
    let done = response(vec![activity(
        "SUCCESSFUL",
        vec![
            batch(
                2,
                "SUCCESSFUL",
                &[("ins-c", "SUCCESSFUL")],
                Some(t0),
                Some(t0),
            ),
            batch(
                1,
                "SUCCESSFUL",
                &[("ins-a", "SUCCESSFUL"), ("ins-b", "SUCCESSFUL")],
                Some(t0),
                Some(t0),
            ),
        ],
    )]);
    let back_to_running = response(vec![activity(
        "RUNNING",
        vec![
            batch(2, "RUNNING", &[("ins-c", "RUNNING")], Some(t0), None),
            batch(
                1,
                "SUCCESSFUL",
                &[("ins-a", "SUCCESSFUL"), ("ins-b", "SUCCESSFUL")],
                Some(t0),
                Some(t0),
            ),
        ],
    )]);
    let report = check_describe_history(&[done, back_to_running]);
    let ids: Vec<Invariant> = report.violations.iter().map(|v| v.invariant).collect();
    assert!(ids.contains(&Invariant::TerminalStaysTerminal), "{ids:?}");
    assert!(ids.contains(&Invariant::BatchGraph), "{ids:?}");
    assert!(ids.contains(&Invariant::InstanceGraph), "{ids:?}");

    // Ascending batch order, OQ-1 sizes broken (1 then 2), and a SUCCESSFUL batch with a FAILED instance.
    let bad = response(vec![activity(
        "RUNNING",
        vec![
            batch(1, "SUCCESSFUL", &[("ins-a", "FAILED")], Some(t0), Some(t0)),
            batch(
                2,
                "RUNNING",
                &[("ins-b", "RUNNING"), ("ins-c", "INIT")],
                Some(t0),
                None,
            ),
        ],
    )]);
    let ids: Vec<Invariant> = check_describe_history(&[bad])
        .violations
        .iter()
        .map(|v| v.invariant)
        .collect();
    assert!(ids.contains(&Invariant::SnapshotConsistent), "{ids:?}");
    assert!(ids.contains(&Invariant::BatchPlan), "{ids:?}");
}

#[test]
fn invariants_md_documents_every_invariant() {
    let doc = std::fs::read_to_string("INVARIANTS.md").unwrap();
    for inv in Invariant::ALL {
        assert!(doc.contains(inv.id()), "INVARIANTS.md lacks {}", inv.id());
        assert!(
            doc.contains(inv.statement()),
            "INVARIANTS.md has a stale statement for {}",
            inv.id()
        );
    }
}

// ---- Gaps found by the audit: hand-made timelines -------------------------------------------

fn renumber(rows: &mut [Row]) {
    for (k, r) in rows.iter_mut().enumerate() {
        r.seq = k as u64 + 1;
    }
}

fn sorted(mut ids: Vec<Invariant>) -> Vec<Invariant> {
    ids.sort();
    ids.dedup();
    ids
}

fn detail_value(detail: &str, key: &str) -> String {
    let prefix = format!("{key}=");
    detail
        .split(' ')
        .find_map(|kv| kv.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {key} in {detail}"))
        .to_string()
}

fn run_end_row(after: &Row, reason: &str) -> Row {
    let mut end = after.clone();
    end.kind = "run_end".into();
    end.activity_id = String::new();
    end.batch = 0;
    end.instance_id = String::new();
    end.from = String::new();
    end.to = reason.into();
    end.detail = String::new();
    end.seq = after.seq + 1;
    end
}

/// REPLACE (OQ-11): the old instances are destroyed by the refresh itself; a clean run passes.
fn replace_clean() -> Vec<Invariant> {
    violated(rows_of("replace-mode.toml"))
}

/// REPLACE with a replacement's records removed: its old instance is destroyed with nothing
/// standing in for it.
fn replace_without_replacement() -> Vec<Invariant> {
    let mut rows = rows_of("replace-mode.toml");
    let new = rows
        .iter()
        .find(|r| r.kind == "instance_joined" && r.detail.contains("replaces="))
        .expect("a replacement joins")
        .instance_id
        .clone();
    rows.retain(|r| r.instance_id != new || r.kind == "instance");
    renumber(&mut rows);
    violated(rows)
}

/// A REPLACE replacement created with the old image.
fn replacement_with_the_old_image() -> Vec<Invariant> {
    let mut rows = rows_of("replace-mode.toml");
    let i = position(&rows, |r| {
        r.kind == "instance_joined" && r.detail.contains("replaces=")
    });
    rows[i].detail = rows[i].detail.replace_once("image=img-v2", "image=img-v1");
    violated(rows)
}

/// A reinstall that writes refreshable fields other than its launch configuration's.
fn reinstall_with_stale_fields() -> Vec<Invariant> {
    let mut rows = rows_of("rollback-paused.toml");
    let v0 = rows.iter().find(|r| r.kind == "launch_config").unwrap();
    let old_fields = detail_value(&v0.detail, "fields");
    let rollback = rows
        .iter()
        .find(|r| r.kind == "activity_created" && r.detail.contains("type=ROLLBACK"))
        .unwrap()
        .activity_id
        .clone();
    // The rollback must write the edited UserData (OQ-26), not the pre-edit fields.
    let i = position(&rows, |r| {
        r.kind == "reinstall" && r.activity_id == rollback
    });
    let fields = detail_value(&rows[i].detail, "fields");
    assert_ne!(
        fields, old_fields,
        "the scenario edits UserData before rolling back"
    );
    rows[i].detail = rows[i].detail.replace_once(&fields, &old_fields);
    violated(rows)
}

/// RUNNING → AUTO_PAUSE (and AUTO_PAUSE → RUNNING on Resume) after a failed batch.
fn failed_batch_auto_pause() -> Vec<Invariant> {
    let mut rows = rows_of("failure-pause-retry.toml");
    let i = position(&rows, |r| r.kind == "activity" && r.to == "FAILED_PAUSE");
    rows[i].to = "AUTO_PAUSE".into();
    rows[i].detail = "cause=\"BatchPause policy\"".into();
    let j = position(&rows, |r| r.kind == "activity" && r.from == "FAILED_PAUSE");
    rows[j].from = "AUTO_PAUSE".into();
    violated(rows)
}

/// The run ends idle with the activity RUNNING after its last instance went NOT_FOUND.
fn stalled_after_not_found(reason: &str) -> Vec<Invariant> {
    let mut rows = rows_of("instances-removed-not-found.toml");
    assert!(rows.iter().any(|r| r.to == "NOT_FOUND"));
    let i = position(&rows, |r| r.kind == "activity" && r.to == "SUCCESSFUL");
    rows.truncate(i);
    // Keep the batches finished: only the activity's completion is missing.
    rows.retain(|r| !(r.kind == "group_enabled" && r.from == "DISABLED"));
    let end = run_end_row(rows.last().unwrap(), reason);
    rows.push(end);
    violated(rows)
}

/// The activity ends FAILED while its last batch is still running, which then finishes.
fn failed_with_a_batch_in_flight() -> Vec<Invariant> {
    let mut rows = rows_of(EXAMPLE);
    let done = position(&rows, |r| r.kind == "activity" && r.to == "SUCCESSFUL");
    let mut failed = rows.remove(done);
    let i = position(&rows, |r| {
        r.kind == "batch" && r.batch == 3 && r.to == "RUNNING"
    });
    failed.to = "FAILED".into();
    failed.detail = "cause=\"internal error\"".into();
    failed.time_ms = rows[i].time_ms;
    failed.time = rows[i].time.clone();
    rows.insert(i + 1, failed);
    // The group is restored when the activity ends.
    let g = position(&rows, |r| r.kind == "group_enabled" && r.from == "DISABLED");
    let mut restore = rows.remove(g);
    restore.time_ms = rows[i + 1].time_ms;
    restore.time = rows[i + 1].time.clone();
    rows.insert(i + 2, restore);
    renumber(&mut rows);
    violated(rows)
}

/// Batch 2 starts (with its instances) in the instant batch 1 ends, before batch 1 ends.
fn batch_started_early() -> Vec<Invariant> {
    let mut rows = rows_of(EXAMPLE);
    let i = position(&rows, |r| {
        r.kind == "batch" && r.batch == 2 && r.to == "INIT"
    });
    let start = rows[i].time_ms;
    let j = position(&rows, |r| {
        r.kind == "batch" && r.batch == 1 && r.to == "SUCCESSFUL"
    });
    let (end, end_text) = (rows[j].time_ms, rows[j].time.clone());
    assert!(start > end, "the example has a gap between batches");
    let mut moved: Vec<Row> = rows
        .iter()
        .filter(|r| r.time_ms == start)
        .cloned()
        .collect();
    rows.retain(|r| r.time_ms != start);
    for r in &mut moved {
        r.time_ms = end;
        r.time = end_text.clone();
    }
    rows.splice(j..j, moved);
    renumber(&mut rows);
    violated(rows)
}

/// The next batch starts after a failed batch with no ResumeInstanceRefresh (CONTINUE's call
/// removed).
fn next_batch_without_resume() -> Vec<Invariant> {
    let mut rows = rows_of("failure-continue-skip.toml");
    let request = rows
        .iter()
        .find(|r| r.kind == "api_call" && r.to == "ResumeInstanceRefresh")
        .expect("a Resume call")
        .detail
        .clone();
    let id = request
        .strip_prefix("request_id=")
        .and_then(|rest| rest.split(' ').next())
        .unwrap()
        .to_string();
    rows.retain(|r| !(r.kind.starts_with("api_") && r.detail.contains(&id)));
    renumber(&mut rows);
    violated(rows)
}

fn appended(scenario: &str, pick: impl Fn(&Row) -> bool, from: &str, to: &str) -> Vec<Invariant> {
    let mut rows = rows_of(scenario);
    let mut row = rows.iter().rfind(|r| pick(r)).unwrap().clone();
    row.from = from.into();
    row.to = to.into();
    let last = rows.last().unwrap().clone();
    row.time_ms = last.time_ms;
    row.time = last.time.clone();
    row.seq = last.seq + 1;
    let insert_at = rows.len() - usize::from(last.kind == "run_end");
    rows.insert(insert_at, row);
    renumber(&mut rows);
    violated(rows)
}

/// A SUCCESSFUL batch that runs again.
fn terminal_batch_revived() -> Vec<Invariant> {
    appended(
        EXAMPLE,
        |r| r.kind == "batch" && r.to == "SUCCESSFUL",
        "SUCCESSFUL",
        "RUNNING",
    )
}

/// A SUCCESSFUL batch rewritten (SUCCESSFUL → SUCCESSFUL): a terminal status changes again.
fn terminal_batch_rewritten() -> Vec<Invariant> {
    appended(
        EXAMPLE,
        |r| r.kind == "batch" && r.to == "SUCCESSFUL",
        "SUCCESSFUL",
        "SUCCESSFUL",
    )
}

/// A SUCCESSFUL instance that runs again.
fn terminal_instance_revived() -> Vec<Invariant> {
    appended(
        EXAMPLE,
        |r| r.kind == "instance" && r.to == "SUCCESSFUL",
        "SUCCESSFUL",
        "RUNNING",
    )
}

/// A rollback that plans an instance its origin never started (WAITING, so not in OQ-25 rule
/// 7's set) instead of one it did: sizes stay right, the set is wrong.
fn rollback_plans_the_wrong_set() -> Vec<Invariant> {
    let mut rows = rows_of("auto-rollback.toml");
    let rollback = rows
        .iter()
        .find(|r| r.kind == "activity_created" && r.detail.contains("type=ROLLBACK"))
        .unwrap()
        .activity_id
        .clone();
    let created = position(&rows, |r| r.activity_id == rollback);
    let origin = rows[created].detail.clone();
    let origin = detail_value(&origin, "origin");
    // An origin instance still WAITING when the rollback is created.
    let mut last: std::collections::BTreeMap<String, String> = Default::default();
    for r in &rows[..created] {
        if r.kind == "instance" && r.activity_id == origin {
            last.insert(r.instance_id.clone(), r.to.clone());
        }
    }
    let outsider = last
        .iter()
        .find(|(_, s)| s.as_str() == "WAITING" || s.as_str() == "CANCELLED")
        .expect("an origin instance not started")
        .0
        .clone();
    let planned = rows
        .iter()
        .find(|r| r.kind == "instance" && r.activity_id == rollback && r.from.is_empty())
        .unwrap()
        .instance_id
        .clone();
    for r in rows.iter_mut().skip(created) {
        if r.activity_id == rollback && r.instance_id == planned {
            r.instance_id = outsider.clone();
        }
    }
    violated(rows)
}

/// A rollback (MaxSurge 0, OQ-26) with a surge instance of its own, while the origin's
/// MaxSurge 1 is not exceeded.
fn rollback_with_a_surge_instance() -> Vec<Invariant> {
    let mut rows = rows_of("auto-rollback.toml");
    let rollback = rows
        .iter()
        .find(|r| r.kind == "activity_created" && r.detail.contains("type=ROLLBACK"))
        .unwrap()
        .activity_id
        .clone();
    let i = position(&rows, |r| {
        r.kind == "batch" && r.activity_id == rollback && r.to == "INIT"
    });
    let at = rows[i].clone();
    let mut phase = at.clone();
    phase.kind = "phase".into();
    phase.batch = 0;
    phase.from = "BATCHES".into();
    phase.to = "SURGE_OUT".into();
    phase.detail = String::new();
    let template = rows
        .iter()
        .find(|r| r.kind == "instance_joined")
        .unwrap()
        .clone();
    let mut surge = template.clone();
    surge.time_ms = at.time_ms;
    surge.time = at.time.clone();
    surge.instance_id = "ins-rbsurge1".into();
    surge.to = "IN_SERVICE".into();
    surge.detail = surge.detail.replace_once("surge=false", "surge=true");
    let mut back = phase.clone();
    back.from = "SURGE_OUT".into();
    back.to = "BATCHES".into();
    let mut left = surge.clone();
    left.kind = "instance_left".into();
    left.from = "IN_SERVICE".into();
    left.to = "DESTROYED".into();
    left.detail = "cause=test".into();
    rows.splice(i..i, [phase, surge, back, left]);
    renumber(&mut rows);
    violated(rows)
}

#[test]
fn replace_mode_capacity_counts_the_replacement() {
    assert_eq!(replace_clean(), vec![]);
    let found = replace_without_replacement();
    assert!(found.contains(&Invariant::CapacityFloor), "{found:?}");
}

#[test]
fn replace_mode_a_failed_instance_removed_from_outside_is_not_a_refresh_loss() {
    let path = Path::new("tests/fixtures/check/replace-failed-then-removed.toml");
    let s = load_scenario(path).unwrap();
    let run = run_scenario(&s, s.seed, true).unwrap();
    let rows: Vec<Row> = run.timeline.unwrap().rows().collect();
    assert!(rows.iter().any(|r| r.to == "RemoveInstances"));
    assert_eq!(violated(rows), vec![]);
}

#[test]
fn replace_mode_a_replacement_scaled_in_from_outside_takes_its_capacity_with_it() {
    let path = Path::new("tests/fixtures/check/replace-replacement-scaled-in.toml");
    let s = load_scenario(path).unwrap();
    let run = run_scenario(&s, s.seed, true).unwrap();
    let rows: Vec<Row> = run.timeline.unwrap().rows().collect();
    assert!(rows.iter().any(|r| r.to == "ScaleInInstances"));
    assert!(rows.iter().any(|r| r.detail.contains("replaces=")));
    assert_eq!(violated(rows), vec![]);
}

#[test]
fn oq15_an_activity_stopped_during_init_starts_when_its_phase_leaves_init() {
    let path = Path::new("tests/fixtures/check/stopped-during-init-then-resumed.toml");
    let s = load_scenario(path).unwrap();
    let run = run_scenario(&s, s.seed, true).unwrap();
    let rows: Vec<Row> = run.timeline.unwrap().rows().collect();
    assert!(
        rows.iter()
            .any(|r| r.kind == "activity" && r.from == "INIT" && r.to == "MANUAL_PAUSE")
    );
    assert_eq!(violated(rows), vec![]);
}

#[test]
fn oq15_an_activity_cancelled_during_init_never_starts() {
    let path = Path::new("tests/fixtures/check/cancelled-during-init.toml");
    let s = load_scenario(path).unwrap();
    let run = run_scenario(&s, s.seed, true).unwrap();
    let rows: Vec<Row> = run.timeline.unwrap().rows().collect();
    assert!(
        rows.iter()
            .any(|r| r.kind == "activity" && r.from == "INIT" && r.to == "CANCELLED")
    );
    assert_eq!(violated(rows), vec![]);
}

#[test]
fn replace_mode_replacement_comes_from_the_current_launch_configuration() {
    assert_eq!(
        replacement_with_the_old_image(),
        vec![Invariant::ReinstallFields]
    );
}

#[test]
fn reinstall_and_rollback_write_the_launch_configurations_refreshable_fields() {
    assert_eq!(
        reinstall_with_stale_fields(),
        vec![Invariant::ReinstallFields]
    );
}

#[test]
fn a_failed_batch_must_pause_as_failed_pause() {
    assert_eq!(
        failed_batch_auto_pause(),
        vec![Invariant::FailedBatchPauses]
    );
}

#[test]
fn a_run_that_ends_idle_with_a_running_activity_is_stalled() {
    assert_eq!(
        stalled_after_not_found("idle"),
        vec![Invariant::NotFoundNeverBlocks]
    );
    // Stopped on purpose mid-refresh: nothing to say.
    assert_eq!(stalled_after_not_found("until"), vec![]);
}

#[test]
fn a_terminal_activity_is_settled() {
    let found = failed_with_a_batch_in_flight();
    assert!(found.contains(&Invariant::TerminalSettled), "{found:?}");
}

#[test]
fn batches_out_of_sequence_in_a_hand_made_timeline() {
    let found = batch_started_early();
    assert!(found.contains(&Invariant::BatchesSequential), "{found:?}");
}

#[test]
fn the_next_batch_never_starts_without_a_resume() {
    let found = next_batch_without_resume();
    assert!(found.contains(&Invariant::FailedBatchPauses), "{found:?}");
}

#[test]
fn terminal_batches_and_instances_stay_terminal() {
    let found = terminal_batch_revived();
    assert!(
        found.contains(&Invariant::TerminalStaysTerminal),
        "{found:?}"
    );
    let found = terminal_instance_revived();
    assert!(
        found.contains(&Invariant::TerminalStaysTerminal),
        "{found:?}"
    );
}

#[test]
fn a_rollback_plans_oq25_rule_7s_set() {
    assert_eq!(violated(rows_of("auto-rollback.toml")), vec![]);
    let found = rollback_plans_the_wrong_set();
    assert!(found.contains(&Invariant::BatchPlan), "{found:?}");
}

#[test]
fn surge_is_bounded_per_activity() {
    assert_eq!(
        rollback_with_a_surge_instance(),
        vec![Invariant::SurgeBounded]
    );
}

// ---- One fixture per invariant, each triggering exactly that invariant ------------------------

fn fx_time_order() -> Vec<Invariant> {
    let mut rows = rows_of(EXAMPLE);
    rows[5].seq = rows[4].seq;
    violated(rows)
}

fn fx_activity_graph() -> Vec<Invariant> {
    let mut rows = rows_of(EXAMPLE);
    let i = position(&rows, |r| r.kind == "activity" && r.to == "SUCCESSFUL");
    rows[i].from = "AUTO_PAUSE".into();
    violated(rows)
}

fn fx_batch_graph() -> Vec<Invariant> {
    let mut rows = rows_of(EXAMPLE);
    let i = position(&rows, |r| {
        r.kind == "batch" && r.from == "RUNNING" && r.batch == 1
    });
    rows[i].from = "INIT".into();
    violated(rows)
}

fn fx_instance_graph() -> Vec<Invariant> {
    let mut rows = rows_of(EXAMPLE);
    let i = position(&rows, |r| r.kind == "instance" && r.to == "SUCCESSFUL");
    rows[i].from = "INIT".into();
    violated(rows)
}

fn fx_batch_plan() -> Vec<Invariant> {
    let mut rows = rows_of(EXAMPLE);
    let i = position(&rows, |r| r.kind == "batch" && r.from.is_empty());
    rows[i].detail = "size=7".into();
    violated(rows)
}

/// A second (empty) activity is created while the first runs, and cancelled later.
fn fx_one_active() -> Vec<Invariant> {
    let mut rows = rows_of(EXAMPLE);
    let i = position(&rows, |r| r.kind == "activity_created");
    let first = rows[i].activity_id.clone();
    let mut twin = rows[i].clone();
    twin.activity_id = "asr-twin0001".into();
    twin.detail = twin
        .detail
        .replace_once("type=NORMAL", "type=ROLLBACK")
        .replace_once("origin=\"\"", &format!("origin={first}"))
        .replace_once("instances=5", "instances=0")
        .replace_once("BatchNumber=3", "BatchNumber=0");
    rows.insert(i + 1, twin.clone());
    let j = position(&rows, |r| {
        r.kind == "batch" && r.batch == 1 && r.to == "SUCCESSFUL"
    });
    let mut cancel = rows[j].clone();
    cancel.kind = "activity".into();
    cancel.activity_id = twin.activity_id.clone();
    cancel.batch = 0;
    cancel.from = "INIT".into();
    cancel.to = "CANCELLED".into();
    cancel.detail = "cause=CancelInstanceRefresh".into();
    rows.insert(j + 1, cancel);
    renumber(&mut rows);
    violated(rows)
}

fn fx_group_disabled() -> Vec<Invariant> {
    let mut rows = rows_of(EXAMPLE);
    let i = position(&rows, |r| r.kind == "group_enabled" && r.to == "DISABLED");
    rows.remove(i);
    let j = position(&rows, |r| r.kind == "group_enabled" && r.from == "DISABLED");
    rows.remove(j);
    violated(rows)
}

fn fx_group_restored() -> Vec<Invariant> {
    let mut rows = rows_of(EXAMPLE);
    let j = position(&rows, |r| r.kind == "group_enabled" && r.from == "DISABLED");
    rows.remove(j);
    violated(rows)
}

/// A scaling activity started and ended right after the row at `i`.
fn insert_scaling_activity(rows: &mut Vec<Row>, i: usize, detail: &str) {
    let mut start = rows[i].clone();
    start.kind = "scaling_activity".into();
    start.activity_id = String::new();
    start.batch = 0;
    start.instance_id = String::new();
    start.from = String::new();
    start.to = "RUNNING".into();
    start.detail = detail.into();
    let mut end = start.clone();
    end.from = "RUNNING".into();
    end.to = "SUCCESSFUL".into();
    rows.insert(i + 1, end);
    rows.insert(i + 1, start);
    renumber(rows);
}

fn fx_no_auto_scaling() -> Vec<Invariant> {
    // Between batches 1 and 2 (nothing else runs): a desired-capacity scale-out.
    let mut rows = rows_of(EXAMPLE);
    let i = position(&rows, |r| {
        r.kind == "scaling_activity" && !r.from.is_empty()
    });
    insert_scaling_activity(
        &mut rows,
        i,
        "id=asa-rogue001 type=SCALE_OUT instances=1 cause=desired-capacity",
    );
    violated(rows)
}

fn fx_scaling_exclusive() -> Vec<Invariant> {
    // A manual scale-in beside batch 1's RESET_INSTANCES activity.
    let mut rows = rows_of(EXAMPLE);
    let i = position(&rows, |r| r.kind == "scaling_activity" && r.to == "RUNNING");
    insert_scaling_activity(
        &mut rows,
        i,
        "id=asa-manual01 type=SCALE_IN instances=1 cause=api",
    );
    violated(rows)
}

fn fx_not_found_never_blocks() -> Vec<Invariant> {
    stalled_after_not_found("idle")
}

fn fx_success_complete() -> Vec<Invariant> {
    let mut rows = rows_of(EXAMPLE);
    let i = position(&rows, |r| r.kind == "activity" && r.to == "SUCCESSFUL");
    let mut early = rows.remove(i);
    let j = position(&rows, |r| {
        r.kind == "batch" && r.batch == 3 && r.to == "SUCCESSFUL"
    });
    early.time_ms = rows[j].time_ms;
    early.time = rows[j].time.clone();
    rows.insert(j, early);
    renumber(&mut rows);
    violated(rows)
}

fn fx_surge_gone() -> Vec<Invariant> {
    let mut rows = rows_of("surge-one.toml");
    let surge = rows
        .iter()
        .find(|r| r.kind == "instance_joined" && r.detail.contains("surge=true"))
        .unwrap()
        .instance_id
        .clone();
    rows.retain(|r| !(r.kind == "instance_left" && r.instance_id == surge));
    violated(rows)
}

fn fx_capacity_floor() -> Vec<Invariant> {
    replace_without_replacement()
}

fn fx_rollback_image() -> Vec<Invariant> {
    let mut rows = rows_of("rollback-paused.toml");
    let rollback = rows
        .iter()
        .find(|r| r.kind == "activity_created" && r.detail.contains("type=ROLLBACK"))
        .unwrap()
        .activity_id
        .clone();
    let i = position(&rows, |r| {
        r.kind == "reinstall" && r.activity_id == rollback
    });
    rows[i].detail = rows[i].detail.replace_once("image=img-v1", "image=img-v2");
    violated(rows)
}

fn fx_describe_agrees() -> Vec<Invariant> {
    let mut rows = rows_of("describe-queries.toml");
    let i = position(&rows, |r| {
        r.kind == "api_result" && r.detail.contains("response=") && r.detail.contains("AUTO_PAUSE")
    });
    rows[i].detail =
        rows[i]
            .detail
            .replacen("\"Status\":\"AUTO_PAUSE\"", "\"Status\":\"RUNNING\"", 1);
    violated(rows)
}

fn fx_documented_errors() -> Vec<Invariant> {
    let mut rows = rows_of("rejected-requests.toml");
    let i = position(&rows, |r| {
        r.kind == "api_result" && r.to == "ResourceNotFound.RefreshActivityNotFound"
    });
    rows[i].to = "ResourceUnavailable.NoInstanceCanRollback".into();
    violated(rows)
}

fn fx_snapshot() -> Vec<Invariant> {
    let t0 = "2025-01-01T00:00:00Z";
    let bad = response(vec![activity(
        "RUNNING",
        vec![
            batch(2, "WAITING", &[("ins-c", "WAITING")], None, None),
            batch(
                1,
                "RUNNING",
                &[("ins-a", "RUNNING"), ("ins-b", "INIT")],
                Some(t0),
                Some(t0),
            ),
        ],
    )]);
    sorted(
        check_describe_history(&[bad])
            .violations
            .iter()
            .map(|v| v.invariant)
            .collect(),
    )
}

/// Every invariant has a hand-made fixture that triggers it and nothing else.
#[test]
fn every_invariant_has_a_fixture_that_triggers_exactly_it() {
    type Fixture = fn() -> Vec<Invariant>;
    let table: &[(Invariant, Fixture)] = &[
        (Invariant::TimeOrder, fx_time_order),
        (Invariant::ActivityGraph, fx_activity_graph),
        (Invariant::BatchGraph, fx_batch_graph),
        (Invariant::InstanceGraph, fx_instance_graph),
        (Invariant::TerminalStaysTerminal, terminal_batch_rewritten),
        (Invariant::TerminalSettled, failed_with_a_batch_in_flight),
        (Invariant::BatchPlan, fx_batch_plan),
        (Invariant::BatchesSequential, batch_started_early),
        (Invariant::OneActiveActivity, fx_one_active),
        (Invariant::GroupDisabled, fx_group_disabled),
        (Invariant::GroupRestored, fx_group_restored),
        (Invariant::ScalingExclusive, fx_scaling_exclusive),
        (Invariant::NoAutomaticScaling, fx_no_auto_scaling),
        (Invariant::FailedBatchPauses, failed_batch_auto_pause),
        (Invariant::NotFoundNeverBlocks, fx_not_found_never_blocks),
        (Invariant::SuccessfulMeansDone, fx_success_complete),
        (Invariant::SurgeBounded, rollback_with_a_surge_instance),
        (Invariant::SurgeGone, fx_surge_gone),
        (Invariant::CapacityFloor, fx_capacity_floor),
        (Invariant::ReinstallFields, reinstall_with_stale_fields),
        (Invariant::RollbackRestoresImage, fx_rollback_image),
        (Invariant::DescribeAgrees, fx_describe_agrees),
        (Invariant::DocumentedErrors, fx_documented_errors),
        (Invariant::SnapshotConsistent, fx_snapshot),
    ];
    let mut problems = Vec::new();
    for inv in Invariant::ALL {
        assert!(!inv.statement().is_empty() && !inv.source().is_empty());
        assert_eq!(Invariant::parse(inv.id()), Some(*inv));
        let Some((_, fixture)) = table.iter().find(|(i, _)| i == inv) else {
            problems.push(format!("{}: no fixture", inv.id()));
            continue;
        };
        let found = sorted(fixture());
        if found != vec![*inv] {
            problems.push(format!("{}: the fixture triggers {found:?}", inv.id()));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn describe_history_violations_name_the_poll_and_error_polls_are_skipped() {
    let t0 = "2025-01-01T00:00:00Z";
    let good = response(vec![activity(
        "RUNNING",
        vec![
            batch(2, "WAITING", &[("ins-c", "WAITING")], None, None),
            batch(
                1,
                "RUNNING",
                &[("ins-a", "RUNNING"), ("ins-b", "INIT")],
                Some(t0),
                None,
            ),
        ],
    )]);
    let limited = json!({"Response": {"Error": {"Code": "RequestLimitExceeded", "Message": "slow down"}, "RequestId": "r"}});
    let bad = json!({"time": "2025-01-01T00:03:00Z", "response": response(vec![activity(
        "RUNNING",
        vec![
            batch(2, "WAITING", &[("ins-c", "WAITING")], None, None),
            batch(1, "RUNNING", &[("ins-a", "RUNNING"), ("ins-b", "INIT")], Some(t0), Some(t0)),
        ],
    )])});
    let report = check_describe_history(&[good, limited, bad]);
    assert_eq!(report.skipped.len(), 1, "{:?}", report.skipped);
    assert!(report.skipped[0].contains("RequestLimitExceeded"));
    assert!(!report.violations.is_empty());
    for v in &report.violations {
        let text = v.to_string();
        assert!(text.contains("at poll #3 (2025-01-01T00:03:00Z)"), "{text}");
    }
}

// Issue 10.1: `check` reads refreshsim's own timelines back, whatever the recorded Describe
// responses hold (a failure message with spaces, quotes and `key=value` inside).

const FAILED_MESSAGE_DESCRIBED: &str = r##"
[scenario]
name = "failure-message-described"
start_time = "2025-03-02T10:00:00Z"
seed = 13

[group]
id = "asg-fpr00001"
size = 6

[launch_configuration]
image_id = "img-v2"

[[faults.scripted]]
instance = "#3"
attempt = 1
step = "reinstall"
message = "ResetInstance failed: disk attach timeout (state=\"busy\" response={})"

[[actions]]
id = "start"
at = "0s"
action = "StartInstanceRefresh"
request = { RefreshSettings = { RollingUpdateSettings = { BatchNumber = 3 } } }

[[actions]]
id = "look"
when = { activity_status = "FAILED_PAUSE" }
after = "1m"
action = "DescribeRefreshActivities"

[[actions]]
id = "refused"
when = { activity_status = "FAILED_PAUSE" }
after = "2m"
action = "DescribeRefreshActivities"
request = { Filters = [{ Name = "refresh-activity-status-code", Values = ["FAILED_PAUSE", "a b=c"] }] }
"##;

fn refreshsim_bin(args: &[&str]) -> (i32, String, String) {
    let out = assert_cmd::Command::new(env!("CARGO_BIN_EXE_refreshsim"))
        .args(args)
        .output()
        .expect("the binary starts");
    (
        out.status.code().expect("exited, not killed by a signal"),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn check_reads_back_a_timeline_whose_describe_response_holds_a_failure_message_with_spaces() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("s.toml");
    std::fs::write(&scenario, FAILED_MESSAGE_DESCRIBED).unwrap();
    let out = dir.path().join("out");
    let (code, _, stderr) = refreshsim_bin(&[
        "run",
        scenario.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let csv = std::fs::read_to_string(out.join("timeline.csv")).unwrap();
    assert!(
        csv.contains("response={") && csv.contains("ResetInstance failed: disk attach timeout"),
        "the Describe response with the message is in the timeline"
    );
    assert!(
        csv.contains("a b=c"),
        "the refused request body is in the timeline"
    );
    let mut verdicts = Vec::new();
    for file in ["timeline.csv", "timeline.jsonl"] {
        let path = out.join(file);
        let (code, stdout, stderr) = refreshsim_bin(&["check", path.to_str().unwrap()]);
        assert_eq!(code, 0, "{file}: {stdout}{stderr}");
        assert!(stdout.contains("no invariant is violated"), "{stdout}");
        verdicts.push(stdout.lines().last().unwrap_or_default().to_string());
    }
    assert_eq!(verdicts[0], verdicts[1]);
    // Read back in-process: the same rows, the same (empty) verdict as the run's own check.
    let s = common::parse(FAILED_MESSAGE_DESCRIBED);
    let run = run_scenario(&s, s.seed, true).unwrap();
    assert!(run.violations.is_empty(), "{:?}", run.violations);
    let file = std::fs::File::open(out.join("timeline.jsonl")).unwrap();
    let back = refreshsim::timeline::parse::read_jsonl(std::io::BufReader::new(file)).unwrap();
    assert_eq!(
        back.timeline.content_hash(),
        run.timeline.unwrap().content_hash()
    );
}

#[test]
fn catches_overlapping_scaling_activities_with_a_sabotaged_engine() {
    // Issue 10.3: Resume at 120 s during a REMOVE_INSTANCES activity (110–140 s).
    let extra = r##"
[[actions]]
id = "remove"
at = "110s"
action = "RemoveInstances"
request = { InstanceIds = ["#3"] }
[[actions]]
id = "resume"
at = "120s"
action = "ResumeInstanceRefresh"
"##;
    let toml = common::text(
        4,
        "instance_destroy = \"30s\"",
        "{ RollingUpdateSettings = { BatchNumber = 2, BatchPause = \"FIRST_BATCH_PAUSE\" } }",
        extra,
    );
    let mut scenario = common::parse(&toml);
    let clean = run_scenario(&scenario, scenario.seed, true).unwrap();
    assert!(clean.violations.is_empty(), "{:?}", clean.violations);
    scenario.world.sabotage = Sabotage::OverlapScalingActivities;
    let run = run_scenario(&scenario, scenario.seed, true).unwrap();
    let found: Vec<Invariant> = check_timeline(run.timeline.as_ref().unwrap())
        .into_iter()
        .map(|v| v.invariant)
        .collect();
    assert_eq!(found, vec![Invariant::ScalingExclusive]);
}

#[test]
fn scaling_exclusive_allows_two_desired_capacity_scale_outs_and_one_refresh_s_own() {
    // Hand-made rows: a refresh's two own activities together, two desired-capacity
    // scale-outs together are fine; a third scale-out, or a scale-in beside one, is not.
    let mut rows = rows_of(EXAMPLE);
    let last = rows.pop().unwrap(); // run_end
    let mut seq = last.seq;
    let mut sa = |id: &str, activity: &str, ty: &str, cause: &str, from: &str, to: &str| {
        seq += 1;
        let mut r = last.clone();
        r.seq = seq;
        r.kind = "scaling_activity".into();
        r.activity_id = activity.into();
        r.from = from.into();
        r.to = to.into();
        r.detail = format!("id={id} type={ty} instances=1 cause={cause}");
        r
    };
    let mut ok = rows.clone();
    ok.push(sa(
        "asa-dc000001",
        "",
        "SCALE_OUT",
        "desired-capacity",
        "",
        "RUNNING",
    ));
    ok.push(sa(
        "asa-dc000002",
        "",
        "SCALE_OUT",
        "desired-capacity",
        "",
        "RUNNING",
    ));
    ok.push(sa(
        "asa-dc000001",
        "",
        "SCALE_OUT",
        "desired-capacity",
        "RUNNING",
        "SUCCESSFUL",
    ));
    ok.push(sa(
        "asa-dc000002",
        "",
        "SCALE_OUT",
        "desired-capacity",
        "RUNNING",
        "SUCCESSFUL",
    ));
    let mut three = ok.clone();
    ok.push(sa("asa-api00001", "", "SCALE_IN", "api", "", "RUNNING"));
    ok.push(sa(
        "asa-api00001",
        "",
        "SCALE_IN",
        "api",
        "RUNNING",
        "SUCCESSFUL",
    ));
    assert!(!violated(ok.clone()).contains(&Invariant::ScalingExclusive));
    for n in 3..=5 {
        three.push(sa(
            &format!("asa-dc00000{n}"),
            "",
            "SCALE_OUT",
            "desired-capacity",
            "",
            "RUNNING",
        ));
    }
    assert_caught(three, Invariant::ScalingExclusive);
    let mut beside = rows;
    beside.push(sa(
        "asa-dc000001",
        "",
        "SCALE_OUT",
        "desired-capacity",
        "",
        "RUNNING",
    ));
    beside.push(sa("asa-api00001", "", "SCALE_IN", "api", "", "RUNNING"));
    assert_caught(beside, Invariant::ScalingExclusive);
}

#[test]
fn oq66_a_retry_deferred_by_a_scaling_activity_is_not_a_retry_without_resume() {
    // The Resume (RETRY) at 774 s is accepted while ins-00000001's REMOVE_INSTANCES activity
    // runs; the failed instance retries when it ends, at 775.21 s.
    let path = Path::new("tests/fixtures/check/retry-deferred-by-removal.toml");
    let s = load_scenario(path).unwrap();
    let run = run_scenario(&s, s.seed, true).unwrap();
    let rows: Vec<Row> = run.timeline.unwrap().rows().collect();
    let resumed = rows
        .iter()
        .position(|r| r.kind == "activity" && r.from == "FAILED_PAUSE" && r.to == "RUNNING")
        .expect("the activity is resumed");
    let retried = rows
        .iter()
        .position(|r| r.kind == "instance" && r.from == "FAILED" && r.to == "WAITING")
        .expect("the failed instance retries");
    assert!(
        rows[retried].time_ms > rows[resumed].time_ms,
        "the retry is deferred"
    );
    assert_eq!(violated(rows), vec![]);
}

#[test]
fn oq66_a_woken_batch_whose_instance_fails_at_once_still_ends() {
    let path = Path::new("tests/fixtures/check/rollback-batch-fails-when-woken.toml");
    let s = load_scenario(path).unwrap();
    let run = run_scenario(&s, s.seed, true).unwrap();
    let rows: Vec<Row> = run.timeline.unwrap().rows().collect();
    let rollback_batch_1_ended = rows
        .iter()
        .any(|r| r.kind == "batch" && r.batch == 1 && r.from == "RUNNING" && r.to == "FAILED");
    assert!(rollback_batch_1_ended, "the woken batch ends");
    assert_eq!(violated(rows), vec![]);
}
