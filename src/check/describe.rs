//! Checking a history of `DescribeRefreshActivities` responses (one, or many polled over time,
//! e.g. from the real Tencent API): what can be checked from snapshots alone.

use super::graph::{activity_reachable, batch_reachable, instance_reachable};
use super::{Invariant, MAX_VIOLATIONS, Poll, Violation};
use crate::api::{ActivityStatus, BatchStatus, InstanceStatus};
use crate::time::SimTime;
use serde_json::Value;
use std::collections::BTreeMap;

/// The result of checking a Describe history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeReport {
    pub snapshots: usize,
    /// Polls left out, each with why (error responses such as `RequestLimitExceeded`).
    pub skipped: Vec<String>,
    pub activities: usize,
    pub violations: Vec<Violation>,
    /// Invariants that snapshots cannot show (they need the full timeline).
    pub unchecked: Vec<Invariant>,
}

/// Invariants that need more than snapshots.
pub const NOT_CHECKABLE_FROM_SNAPSHOTS: &[Invariant] = &[
    Invariant::TimeOrder,
    Invariant::GroupDisabled,
    Invariant::GroupRestored,
    Invariant::NoAutomaticScaling,
    Invariant::FailedBatchPauses,
    Invariant::SurgeBounded,
    Invariant::SurgeGone,
    Invariant::CapacityFloor,
    Invariant::ReinstallFields,
    Invariant::RollbackRestoresImage,
    Invariant::DescribeAgrees,
    Invariant::DocumentedErrors,
];

/// A batch as one snapshot shows it: status, start, end, instance statuses.
type SnapshotBatch = (
    BatchStatus,
    Option<String>,
    Option<String>,
    Vec<InstanceStatus>,
);

#[derive(Debug, Clone)]
struct Seen {
    status: ActivityStatus,
    batches: BTreeMap<u64, BatchStatus>,
    instances: BTreeMap<String, InstanceStatus>,
}

/// Checks each snapshot and each pair of consecutive snapshots. A snapshot is a full response
/// (`{"Response": {...}}`), its inner object, or a line of a run's `responses.jsonl`
/// (`{"time": …, "response": {...}}`, whose `time` is reported). Violations name the poll
/// (1-based); error responses (e.g. `RequestLimitExceeded`) are skipped with a note.
pub fn check_describe_history(snapshots: &[Value]) -> DescribeReport {
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    let mut last: BTreeMap<String, Seen> = BTreeMap::new();
    for (index, snapshot) in snapshots.iter().enumerate() {
        let number = index + 1;
        let poll_time = snapshot
            .get("time")
            .and_then(Value::as_str)
            .map(str::to_string);
        let response = snapshot.get("response").unwrap_or(snapshot);
        let body = response.get("Response").unwrap_or(response);
        let mut flag = |invariant: Invariant, entity: String, detail: String| {
            if out.len() < MAX_VIOLATIONS {
                out.push(Violation {
                    invariant,
                    time: SimTime::ZERO,
                    poll: Some(Poll {
                        number,
                        time: poll_time.clone(),
                    }),
                    entity,
                    detail,
                });
            }
        };
        if let Some(error) = body.get("Error") {
            let code = error.get("Code").and_then(Value::as_str).unwrap_or("?");
            let when = poll_time
                .as_deref()
                .map(|t| format!(" ({t})"))
                .unwrap_or_default();
            skipped.push(format!(
                "poll #{number}{when} is an error response ({code}), not a snapshot: skipped"
            ));
            continue;
        }
        let Some(set) = body.get("RefreshActivitySet").and_then(Value::as_array) else {
            flag(
                Invariant::SnapshotConsistent,
                String::new(),
                "the response has no RefreshActivitySet".into(),
            );
            continue;
        };
        let mut active_per_group: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for activity in set {
            let id = text(activity, "RefreshActivityId");
            let group = text(activity, "AutoScalingGroupId");
            let Some(status) = activity
                .get("Status")
                .and_then(Value::as_str)
                .and_then(ActivityStatus::parse)
            else {
                flag(
                    Invariant::SnapshotConsistent,
                    id.clone(),
                    "unknown Status".to_string(),
                );
                continue;
            };
            if !status.is_terminal() {
                active_per_group.entry(group).or_default().push(id.clone());
            }
            let seen = check_activity(activity, &id, status, index, &mut flag);
            if let Some(before) = last.get(&id) {
                compare(before, &seen, &id, index, &mut flag);
            }
            last.insert(id, seen);
        }
        for (group, ids) in active_per_group {
            if ids.len() > 1 {
                flag(
                    Invariant::OneActiveActivity,
                    group,
                    format!("non-terminal activities {}", ids.join(", ")),
                );
            }
        }
    }
    DescribeReport {
        snapshots: snapshots.len(),
        skipped,
        activities: last.len(),
        violations: out,
        unchecked: NOT_CHECKABLE_FROM_SNAPSHOTS.to_vec(),
    }
}

fn text(v: &Value, field: &str) -> String {
    v.get(field)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

/// One activity of one snapshot: INV-SNAPSHOT, INV-BATCH-PLAN, INV-BATCH-SEQUENCE,
/// INV-NOT-FOUND-NON-BLOCKING and INV-SUCCESS-COMPLETE as far as a snapshot shows them.
fn check_activity(
    activity: &Value,
    id: &str,
    status: ActivityStatus,
    _index: usize,
    flag: &mut impl FnMut(Invariant, String, String),
) -> Seen {
    let mut seen = Seen {
        status,
        batches: BTreeMap::new(),
        instances: BTreeMap::new(),
    };
    let batches = activity
        .get("RefreshBatchSet")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let n = batches.len() as u64;
    let nums: Vec<u64> = batches
        .iter()
        .filter_map(|b| b.get("RefreshBatchNum").and_then(Value::as_u64))
        .collect();
    let expected: Vec<u64> = (1..=n).rev().collect();
    if nums != expected {
        flag(
            Invariant::SnapshotConsistent,
            id.into(),
            format!("batches {nums:?}, expected {expected:?} (descending)"),
        );
    }
    let batch_number = activity
        .pointer("/RefreshSettings/RollingUpdateSettings/BatchNumber")
        .and_then(Value::as_u64);
    if batch_number.is_some_and(|b| b != n) {
        flag(
            Invariant::BatchPlan,
            id.into(),
            format!("{n} batches for BatchNumber {}", batch_number.unwrap_or(0)),
        );
    }
    let mut by_num: BTreeMap<u64, SnapshotBatch> = BTreeMap::new();
    for batch in &batches {
        let num = batch
            .get("RefreshBatchNum")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let entity = format!("{id} batch {num}");
        let Some(bstatus) = batch
            .get("RefreshBatchStatus")
            .and_then(Value::as_str)
            .and_then(BatchStatus::parse)
        else {
            flag(
                Invariant::SnapshotConsistent,
                entity,
                "unknown RefreshBatchStatus".to_string(),
            );
            continue;
        };
        let list = batch
            .get("RefreshBatchRelatedInstanceSet")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut statuses = Vec::new();
        let mut ids: Vec<String> = Vec::new();
        for inst in &list {
            let iid = text(inst, "InstanceId");
            match inst
                .get("InstanceStatus")
                .and_then(Value::as_str)
                .and_then(InstanceStatus::parse)
            {
                Some(s) => {
                    statuses.push(s);
                    seen.instances.insert(iid.clone(), s);
                }
                None => flag(
                    Invariant::SnapshotConsistent,
                    format!("{id} {iid}"),
                    "unknown InstanceStatus".to_string(),
                ),
            }
            ids.push(iid);
        }
        let mut sorted = ids.clone();
        sorted.sort();
        if sorted != ids {
            flag(
                Invariant::SnapshotConsistent,
                entity.clone(),
                "instances not listed by InstanceId (OQ-29)".to_string(),
            );
        }
        let start = batch
            .get("StartTime")
            .and_then(Value::as_str)
            .map(str::to_string);
        let end = batch
            .get("EndTime")
            .and_then(Value::as_str)
            .map(str::to_string);
        check_batch(&entity, bstatus, &start, &end, &statuses, _index, flag);
        seen.batches.insert(num, bstatus);
        by_num.insert(num, (bstatus, start, end, statuses));
    }
    // OQ-1 sizes, in batch order 1..n (by number, whatever the listing order).
    let sizes: Vec<u64> = by_num
        .values()
        .map(|(.., instances)| instances.len() as u64)
        .collect();
    let total: u64 = sizes.iter().sum();
    if n > 0 {
        let expected: Vec<u64> = (0..n)
            .map(|k| total / n + u64::from(k < total % n))
            .collect();
        if sizes != expected {
            flag(
                Invariant::BatchPlan,
                id.into(),
                format!("batch sizes {sizes:?}, OQ-1 gives {expected:?}"),
            );
        }
    }
    // Batches run one after another: a started batch has every earlier batch finished, and
    // batch k ends no later than batch k+1 starts.
    let mut previous_end: Option<String> = None;
    let mut earlier_unfinished = false;
    for (num, (bstatus, start, end, _)) in &by_num {
        let started = !matches!(bstatus, BatchStatus::Waiting | BatchStatus::Cancelled);
        if started && earlier_unfinished {
            flag(
                Invariant::BatchesSequential,
                format!("{id} batch {num}"),
                "started while an earlier batch had not finished".to_string(),
            );
        }
        if let (Some(prev), Some(start)) = (&previous_end, start)
            && start < prev
        {
            flag(
                Invariant::BatchesSequential,
                format!("{id} batch {num}"),
                format!("starts {start} before the previous batch ended {prev}"),
            );
        }
        earlier_unfinished |= !bstatus.is_finished();
        if end.is_some() {
            previous_end = end.clone();
        }
    }
    // Activity-level consistency (OQ-9, OQ-15).
    let start = activity.get("StartTime").and_then(Value::as_str);
    let end = activity.get("EndTime").and_then(Value::as_str);
    if status == ActivityStatus::Init && by_num.values().any(|(b, ..)| *b != BatchStatus::Waiting) {
        flag(
            Invariant::SnapshotConsistent,
            id.into(),
            "INIT with a batch already started".to_string(),
        );
    }
    if status.is_terminal() != end.is_some() {
        flag(
            Invariant::SnapshotConsistent,
            id.into(),
            format!("{status} with EndTime {:?}", end),
        );
    }
    if start.is_none() && by_num.values().any(|(_, s, ..)| s.is_some()) {
        flag(
            Invariant::SnapshotConsistent,
            id.into(),
            "no StartTime but a batch has started".to_string(),
        );
    }
    if status.is_terminal() {
        // INV-TERMINAL-SETTLED; OQ-26: a CANCELLED (rolled-back) origin may still have
        // INIT/RUNNING instances finishing.
        let may_fly = status == ActivityStatus::Cancelled;
        let unsettled_batches = by_num
            .iter()
            .filter(|(_, (b, ..))| {
                *b == BatchStatus::Waiting
                    || (!may_fly && matches!(b, BatchStatus::Init | BatchStatus::Running))
            })
            .count();
        let unsettled_instances = seen
            .instances
            .values()
            .filter(|s| {
                **s == InstanceStatus::Waiting
                    || (!may_fly && matches!(s, InstanceStatus::Init | InstanceStatus::Running))
            })
            .count();
        if unsettled_batches + unsettled_instances > 0 {
            flag(
                Invariant::TerminalSettled,
                id.into(),
                format!(
                    "{status} with {unsettled_batches} batch(es) and {unsettled_instances} instance(s) still WAITING, INIT or RUNNING"
                ),
            );
        }
    }
    if status == ActivityStatus::Successful {
        let undone = by_num.values().any(|(b, ..)| {
            !matches!(
                b,
                BatchStatus::Successful | BatchStatus::PartiallySuccessful | BatchStatus::Failed
            )
        }) || seen.instances.values().any(|s| {
            matches!(
                s,
                InstanceStatus::Waiting | InstanceStatus::Init | InstanceStatus::Running
            )
        });
        if undone {
            flag(
                Invariant::SuccessfulMeansDone,
                id.into(),
                "SUCCESSFUL with unfinished batches or instances".to_string(),
            );
        }
    }
    seen
}

fn check_batch(
    entity: &str,
    status: BatchStatus,
    start: &Option<String>,
    end: &Option<String>,
    instances: &[InstanceStatus],
    _index: usize,
    flag: &mut impl FnMut(Invariant, String, String),
) {
    use InstanceStatus as I;
    let mut bad = |what: &str| {
        flag(
            Invariant::SnapshotConsistent,
            entity.to_string(),
            format!("{status} {what}"),
        )
    };
    match status {
        BatchStatus::Waiting => {
            if start.is_some() || end.is_some() {
                bad("has times");
            }
            if instances
                .iter()
                .any(|s| !matches!(s, I::Waiting | I::NotFound))
            {
                bad("has an instance that started");
            }
        }
        BatchStatus::Cancelled => {
            if instances
                .iter()
                .any(|s| !matches!(s, I::Cancelled | I::NotFound))
            {
                bad("has an instance that is neither CANCELLED nor NOT_FOUND");
            }
        }
        BatchStatus::Init | BatchStatus::Running => {
            if start.is_none() || end.is_some() {
                bad("has no StartTime or already an EndTime");
            }
            if !instances
                .iter()
                .any(|s| matches!(s, I::Init | I::Running | I::Waiting))
            {
                flag(
                    Invariant::NotFoundNeverBlocks,
                    entity.to_string(),
                    format!("{status} with no instance in flight"),
                );
            }
        }
        BatchStatus::Successful | BatchStatus::Failed | BatchStatus::PartiallySuccessful => {
            if start.is_none() || end.is_none() {
                bad("lacks StartTime or EndTime");
            }
            if instances
                .iter()
                .any(|s| matches!(s, I::Waiting | I::Init | I::Running))
            {
                bad("still has an instance in flight or waiting");
            }
            let ok = instances.iter().filter(|s| **s == I::Successful).count();
            let failed = instances.iter().filter(|s| **s == I::Failed).count();
            let expected = match (ok, failed) {
                (_, 0) => BatchStatus::Successful,
                (0, _) => BatchStatus::Failed,
                _ => BatchStatus::PartiallySuccessful,
            };
            if expected != status {
                bad(&format!("but OQ-12 gives {expected} from its instances"));
            }
        }
    }
}

/// Between two polls every status must be reachable (§10); terminal ones never change.
fn compare(
    before: &Seen,
    after: &Seen,
    id: &str,
    _index: usize,
    flag: &mut impl FnMut(Invariant, String, String),
) {
    if !activity_reachable(before.status, after.status) {
        let invariant = if before.status.is_terminal() {
            Invariant::TerminalStaysTerminal
        } else {
            Invariant::ActivityGraph
        };
        flag(
            invariant,
            id.into(),
            format!("{} → {} cannot happen", before.status, after.status),
        );
    }
    for (num, b) in &before.batches {
        if let Some(a) = after.batches.get(num)
            && !batch_reachable(*b, *a)
        {
            flag(
                Invariant::BatchGraph,
                format!("{id} batch {num}"),
                format!("{b} → {a} cannot happen"),
            );
        }
    }
    for (iid, b) in &before.instances {
        if let Some(a) = after.instances.get(iid)
            && !instance_reachable(*b, *a)
        {
            flag(
                Invariant::InstanceGraph,
                format!("{id} {iid}"),
                format!("{b} → {a} cannot happen"),
            );
        }
    }
    if before.status.is_terminal() {
        // INV-TERMINAL-SETTLED between polls (OQ-26: a CANCELLED origin's in-flight instances
        // may still finish).
        let may_fly = before.status == ActivityStatus::Cancelled;
        for (num, b) in &before.batches {
            if let Some(a) = after.batches.get(num)
                && a != b
                && !(may_fly && matches!(b, BatchStatus::Init | BatchStatus::Running))
            {
                flag(
                    Invariant::TerminalSettled,
                    format!("{id} batch {num}"),
                    format!("{b} → {a} after the activity ended {}", before.status),
                );
            }
        }
        for (iid, b) in &before.instances {
            if let Some(a) = after.instances.get(iid)
                && a != b
                && !(may_fly && b.is_in_flight())
            {
                flag(
                    Invariant::TerminalSettled,
                    format!("{id} {iid}"),
                    format!("{b} → {a} after the activity ended {}", before.status),
                );
            }
        }
    }
}
