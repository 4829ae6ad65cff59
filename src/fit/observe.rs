//! What a history of Describe responses shows, step by step (OQ-82): which batches' times are
//! one whole attempt of k instances, which gaps are not pauses, how many attempts failed; and
//! for every record considered, whether it was used and why not.

use crate::account::refresh::{RefreshActivity, RefreshBatch};
use crate::account::scaling::ScalingActivity;
use crate::api::{ActivityStatus, InstanceStatus};
use std::collections::{BTreeMap, BTreeSet};

/// A step the history can see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    /// A RESET batch: the slowest of its instances' reinstall (+ hooks, + target health).
    Reinstall,
    /// A REPLACE batch: the slowest of create + (health) + remove-old.
    Replace,
    /// `CreatedTime` → `StartTime` of a NORMAL activity (`timing.init_delay`).
    InitDelay,
    /// A batch's `EndTime` → the next batch's `StartTime` when no pause stands between.
    BatchGap,
    /// `StartTime` → batch 1's `StartTime` with `MaxSurge` m: the slowest of m creations.
    SurgeCreate,
    /// The last batch's `EndTime` → `EndTime` with `MaxSurge` m: the slowest of m destructions.
    SurgeDestroy,
}

impl Step {
    pub const ALL: [Step; 6] = [
        Step::Reinstall,
        Step::Replace,
        Step::InitDelay,
        Step::BatchGap,
        Step::SurgeCreate,
        Step::SurgeDestroy,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Step::Reinstall => "reinstall",
            Step::Replace => "replace",
            Step::InitDelay => "init_delay",
            Step::BatchGap => "batch_gap",
            Step::SurgeCreate => "surge_create",
            Step::SurgeDestroy => "surge_destroy",
        }
    }
}

/// The refresh mode of an activity (absent: Tencent's default, RESET).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mode {
    Reset,
    Replace,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Reset => "ROLLING_UPDATE_RESET",
            Mode::Replace => "ROLLING_UPDATE_REPLACE",
        }
    }
}

/// One record considered for one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Considered {
    pub step: &'static str,
    /// `asr-…` or `asr-…#batch`.
    pub record: String,
    /// `file[:line]` and JSON path of the record.
    pub at: String,
    /// `None`: used; else why not.
    pub skipped: Option<String>,
}

/// Per-attempt failure counts of one mode.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attempts {
    pub attempts: u64,
    pub failures: u64,
    pub instances: u64,
    /// `InstanceStatusMessage` of failed instances, counted.
    pub messages: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// Raw observations (k, whole seconds) per step.
    pub obs: BTreeMap<Step, Vec<(u32, i64)>>,
    pub attempts: BTreeMap<Mode, Attempts>,
    pub considered: Vec<Considered>,
    /// Batches used for `Reinstall`/`Replace` whose activity checked target health.
    pub health_checked_batches: u64,
    pub groups: BTreeSet<String>,
    pub activities: usize,
    pub unknown_fields: BTreeSet<String>,
}

/// What the polls (every snapshot, not only the last) say about one activity.
#[derive(Debug, Clone, Default)]
struct PollFacts {
    /// Batch numbers at which a poll saw the activity paused.
    paused_at: BTreeSet<u64>,
    /// Whether a poll saw it paused before batch 1 started (the surge scale-out paused).
    paused_before_batches: bool,
    /// Per batch, the `LastActivityId`s its instances showed, each with the poll that first
    /// showed it.
    attempt_ids: BTreeMap<u64, Vec<(String, usize)>>,
}

/// Observes `snapshots` (every activity of every poll, in poll order) with the scaling
/// activities given (for ordering retried attempts).
pub fn observe(snapshots: &[RefreshActivity], scaling: &[ScalingActivity]) -> Observed {
    let mut latest: BTreeMap<&str, &RefreshActivity> = BTreeMap::new();
    let mut facts: BTreeMap<&str, PollFacts> = BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    for a in snapshots {
        if !latest.contains_key(a.id.as_str()) {
            order.push(&a.id);
        }
        latest.insert(&a.id, a);
        note_poll(facts.entry(&a.id).or_default(), a);
    }
    let scaling_times: BTreeMap<&str, u64> = scaling
        .iter()
        .filter_map(|s| Some((s.id.as_str(), s.start.or(s.created)?)))
        .collect();
    let mut out = Observed {
        activities: order.len(),
        ..Observed::default()
    };
    for id in order {
        let a = latest[id];
        out.unknown_fields
            .extend(a.unknown_fields.iter().map(|p| strip_indices(p)));
        if let Some(g) = &a.group_id {
            out.groups.insert(g.clone());
        }
        observe_activity(&mut out, a, &facts[id], &scaling_times);
    }
    out
}

fn note_poll(facts: &mut PollFacts, a: &RefreshActivity) {
    if a.status.is_paused() {
        let started = a.batches.iter().any(|b| b.start.is_some());
        match a.current_batch {
            Some(b) if started => {
                facts.paused_at.insert(b);
            }
            _ => facts.paused_before_batches = true,
        }
    }
    for b in &a.batches {
        let ids = facts.attempt_ids.entry(b.number).or_default();
        for i in &b.instances {
            if let Some(id) = &i.last_activity
                && !ids.iter().any(|(seen, _)| seen == id)
            {
                ids.push((id.clone(), a.poll));
            }
        }
    }
}

/// `a.b[3].c` → `a.b[].c`, so a field unknown in every element is listed once.
fn strip_indices(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut inside = false;
    for c in path.chars() {
        match c {
            '[' => {
                inside = true;
                out.push('[');
            }
            ']' => {
                inside = false;
                out.push(']');
            }
            _ if inside => {}
            _ => out.push(c),
        }
    }
    out
}

fn observe_activity(
    out: &mut Observed,
    a: &RefreshActivity,
    facts: &PollFacts,
    scaling_times: &BTreeMap<&str, u64>,
) {
    let mode = match a.mode.as_deref() {
        None | Some("ROLLING_UPDATE_RESET") => Mode::Reset,
        Some("ROLLING_UPDATE_REPLACE") => Mode::Replace,
        Some(other) => {
            out.considered.push(Considered {
                step: "activity",
                record: a.id.clone(),
                at: format!("{}: {}", a.at, a.path),
                skipped: Some(format!(
                    "RefreshMode {other:?} is not one refreshsim models"
                )),
            });
            return;
        }
    };
    let mut batches: Vec<&RefreshBatch> = a.batches.iter().collect();
    batches.sort_by_key(|b| b.number);
    let surge = a.settings.max_surge.unwrap_or(0);
    let rollback = a.activity_type.as_deref() == Some("ROLLBACK");
    let push = |out: &mut Observed,
                step: Step,
                record: String,
                at: String,
                value: Result<(u32, i64), String>| {
        let skipped = match value {
            Ok(v) => {
                out.obs.entry(step).or_default().push(v);
                None
            }
            Err(why) => Some(why),
        };
        out.considered.push(Considered {
            step: step.name(),
            record,
            at,
            skipped,
        });
    };
    let here = format!("{}: {}", a.at, a.path);
    // init_delay (OQ-9): a rollback may wait in INIT for its origin's instances.
    let init = match (a.created, a.start) {
        _ if rollback => Err("a ROLLBACK activity waits in INIT for its origin (OQ-9)".into()),
        (Some(c), Some(s)) if s >= c => Ok((1, (s - c) as i64)),
        (Some(_), Some(_)) => Err("StartTime before CreatedTime".into()),
        _ => Err("no StartTime (never left INIT) or no CreatedTime".into()),
    };
    push(out, Step::InitDelay, a.id.clone(), here.clone(), init);
    if surge > 0 {
        let k = u32::try_from(surge).unwrap_or(u32::MAX);
        let first = batches.first().and_then(|b| b.start);
        let create = match (a.start, first) {
            _ if facts.paused_before_batches => {
                Err("a poll saw the surge scale-out paused: its time is not one attempt".into())
            }
            (Some(s), Some(f)) if f >= s => Ok((k, (f - s) as i64)),
            _ => Err("no StartTime or batch 1 never started".into()),
        };
        push(out, Step::SurgeCreate, a.id.clone(), here.clone(), create);
        let last_end = batches.last().and_then(|b| b.end);
        let destroy = match (a.status, a.end, last_end) {
            (ActivityStatus::Successful, Some(e), Some(l)) if e >= l => Ok((k, (e - l) as i64)),
            (ActivityStatus::Successful, _, _) => {
                Err("no EndTime on the activity or its last batch".into())
            }
            (other, _, _) => Err(format!(
                "status {}: the surge scale-in happens only after a successful last batch",
                other.as_str()
            )),
        };
        push(out, Step::SurgeDestroy, a.id.clone(), here.clone(), destroy);
    }
    let step = match mode {
        Mode::Reset => Step::Reinstall,
        Mode::Replace => Step::Replace,
    };
    for (i, b) in batches.iter().enumerate() {
        let record = format!("{}#{}", a.id, b.number);
        let at = format!("{}: {}", a.at, b.path);
        let ids = facts
            .attempt_ids
            .get(&b.number)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let duration = batch_duration(b, ids);
        if duration.is_ok() && a.settings.check_target_health == Some(true) {
            out.health_checked_batches += 1;
        }
        push(out, step, record.clone(), at.clone(), duration);
        let counted = count_attempts(out.attempts.entry(mode).or_default(), b, ids, scaling_times);
        out.considered.push(Considered {
            step: "failure_rate",
            record: record.clone(),
            at: at.clone(),
            skipped: counted.err(),
        });
        if let Some(next) = batches.get(i + 1) {
            let gap = batch_gap(a, b, next, facts);
            push(
                out,
                Step::BatchGap,
                format!("{record}→{}", next.number),
                at,
                gap,
            );
        }
    }
}

/// A batch's duration if its times are one whole attempt of all its instances.
fn batch_duration(b: &RefreshBatch, ids: &[(String, usize)]) -> Result<(u32, i64), String> {
    let (Some(start), Some(end)) = (b.start, b.end) else {
        return Err(format!("not finished (status {})", b.status.as_str()));
    };
    if b.instances.is_empty() {
        return Err("no instances".into());
    }
    if let Some(other) = b
        .instances
        .iter()
        .find(|i| i.status != InstanceStatus::Successful)
    {
        return Err(format!(
            "instance {} is {}: only batches whose every instance succeeded are one attempt of k (OQ-82)",
            other.id,
            other.status.as_str()
        ));
    }
    if ids.len() > 1 {
        return Err(format!(
            "retried ({} scaling activities): its times span the pause and several attempts (OQ-82)",
            ids.len()
        ));
    }
    let k = u32::try_from(b.instances.len()).unwrap_or(u32::MAX);
    Ok((k, (end - start) as i64))
}

fn batch_gap(
    a: &RefreshActivity,
    b: &RefreshBatch,
    next: &RefreshBatch,
    facts: &PollFacts,
) -> Result<(u32, i64), String> {
    let pause = a.settings.batch_pause.as_deref().unwrap_or("AUTOMATIC");
    if pause == "BATCH_INTERVAL_PAUSE" || (pause == "FIRST_BATCH_PAUSE" && b.number == 1) {
        return Err(format!("BatchPause {pause}: the activity paused here"));
    }
    if b.instances
        .iter()
        .any(|i| i.status == InstanceStatus::Failed)
    {
        return Err(
            "the batch has FAILED instances: the activity paused, cancelled or was resumed here"
                .into(),
        );
    }
    if facts.paused_at.contains(&b.number) {
        return Err("a poll saw the activity paused after this batch".into());
    }
    match (b.end, next.start) {
        (Some(e), Some(s)) if s >= e => Ok((1, (s - e) as i64)),
        (Some(_), Some(_)) => Err("the next batch starts before this one ends".into()),
        _ => Err("one of the two batches has no time".into()),
    }
}

/// Counts the finished attempts of a batch's instances: with one scaling activity, one each;
/// with several (RETRY), instance with the j-th attempt's id had j attempts, the first j − 1
/// failed (a retry re-runs only failed instances, OQ-22) — when the attempts' order is known.
fn count_attempts(
    counts: &mut Attempts,
    b: &RefreshBatch,
    ids: &[(String, usize)],
    scaling_times: &BTreeMap<&str, u64>,
) -> Result<(), String> {
    let Some(order) = attempt_order(ids, scaling_times) else {
        return Err(format!(
            "retried ({} scaling activities) and their order is unknown: give the polls or --scaling-activities (OQ-82)",
            ids.len()
        ));
    };
    let mut counted = 0;
    for i in &b.instances {
        let failed = match i.status {
            InstanceStatus::Successful => false,
            InstanceStatus::Failed => true,
            InstanceStatus::Waiting
            | InstanceStatus::Init
            | InstanceStatus::Running
            | InstanceStatus::Cancelled
            | InstanceStatus::NotFound => continue,
        };
        let position = match &i.last_activity {
            None => 1,
            Some(id) => order.iter().position(|o| o == id).map_or(1, |p| p + 1),
        } as u64;
        counted += 1;
        counts.instances += 1;
        counts.attempts += position;
        counts.failures += position - 1 + u64::from(failed);
        if failed {
            let message = i.message.clone().unwrap_or_default();
            *counts.messages.entry(message).or_default() += 1;
        }
    }
    if counted == 0 {
        return Err(
            "no instance finished an attempt (all WAITING, in flight, CANCELLED or NOT_FOUND)"
                .into(),
        );
    }
    Ok(())
}

/// The order of a batch's attempts: trivially known with one; else from the scaling
/// activities' times if every id has one; else from the polls, if each id was first seen in a
/// different poll; `None` when neither tells (one final snapshot of a retried batch).
fn attempt_order(
    ids: &[(String, usize)],
    scaling_times: &BTreeMap<&str, u64>,
) -> Option<Vec<String>> {
    let names = || ids.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>();
    if ids.len() <= 1 {
        return Some(names());
    }
    if ids
        .iter()
        .all(|(id, _)| scaling_times.contains_key(id.as_str()))
    {
        let mut sorted = names();
        sorted.sort_by_key(|id| scaling_times[id.as_str()]);
        return Some(sorted);
    }
    let distinct: BTreeSet<usize> = ids.iter().map(|(_, poll)| *poll).collect();
    (distinct.len() == ids.len()).then(names)
}
