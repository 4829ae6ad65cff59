//! The invariant checker can fail: hand-broken timelines break each invariant and the checker
//! names it; deliberate engine bugs (sabotage switches) are caught; real runs pass.

mod common;

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
    rows[i].detail = rows[i].detail.replace("image=img-new", "image=img-other");
    assert_caught(rows, Invariant::ReinstallFields);
    let mut rows = rows_of(EXAMPLE);
    let i = position(&rows, |r| r.kind == "reinstall");
    rows[i].detail = rows[i]
        .detail
        .replace("instance_type=S5.MEDIUM2", "instance_type=S6.LARGE8");
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
    rows[i].detail = rows[i].detail.replace("image=img-v1", "image=img-v2");
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
fn every_invariant_has_a_statement_source_and_a_test_here() {
    let this_file = std::fs::read_to_string("tests/checker.rs").unwrap();
    for inv in Invariant::ALL {
        assert!(!inv.statement().is_empty() && !inv.source().is_empty());
        assert_eq!(Invariant::parse(inv.id()), Some(*inv));
        let variant = format!("{inv:?}");
        assert!(
            this_file.contains(&format!("Invariant::{variant}")),
            "no test names Invariant::{variant}"
        );
    }
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
