//! Checking a timeline by replaying its records into a small, independent picture of the world
//! (activities, batches, instances, group) and testing every invariant against it: some at each
//! record, the rest once all records of an instant are in (the engine changes several things
//! in one instant, e.g. creating a rollback before cancelling its origin).

use super::graph::{activity_step, batch_step, instance_step, instance_terminal};
use super::{Invariant, MAX_VIOLATIONS, Violation};
use crate::api::documented::is_documented;
use crate::api::{
    Action, ActivityStatus, ActivityType, BatchStatus, EnabledStatus, FailProcess, InstanceStatus,
    LifeCycleState, RefreshMode, RefreshSettings,
};
use crate::time::SimTime;
use crate::timeline::{Event, LifeCycleCause, Names, Record, ScalingCause, Sym, Timeline};
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
struct Item {
    batch: u32,
    status: InstanceStatus,
    skipped: bool,
    last_activity: Option<Sym>,
    /// Launch-configuration version current when this item's reinstall started.
    lc_at_start: Option<u32>,
}

#[derive(Debug, Clone)]
struct Batch {
    status: Option<BatchStatus>,
    size: u32,
    members: Vec<Sym>,
    started: Option<SimTime>,
    ended: Option<SimTime>,
}

#[derive(Debug, Clone)]
struct Activity {
    id: Sym,
    status: ActivityStatus,
    activity_type: ActivityType,
    mode: RefreshMode,
    settings: RefreshSettings,
    origin: Option<Sym>,
    instances: u32,
    batches: Vec<Batch>,
    items: BTreeMap<Sym, Item>,
    created: SimTime,
    started: Option<SimTime>,
    ended: Option<SimTime>,
    /// Batch number being (or last) run; 1 until a batch starts (OQ-9).
    current_batch: u32,
    /// A failed batch under AUTO_PAUSE is waiting for a Resume (INV-FAILED-BATCH-PAUSES).
    awaiting_resume: bool,
    plan_checked: bool,
    /// For NORMAL activities: the instances eligible just before creation (OQ-3).
    eligible: Vec<Sym>,
    /// Image each instance had before this activity first reinstalled it.
    pre_images: BTreeMap<Sym, Sym>,
    phase: crate::timeline::Phase,
}

impl Activity {
    fn policy(&self) -> FailProcess {
        match (self.activity_type, self.settings.fail_process) {
            (ActivityType::Rollback, FailProcess::AutoRollback) => FailProcess::AutoPause,
            (_, p) => p,
        }
    }
}

#[derive(Debug, Clone)]
struct Instance {
    in_group: bool,
    state: LifeCycleState,
    surge: bool,
    image: Sym,
    instance_type: Sym,
    /// Out of service for a reason outside the refresh (stopped, standby, removal).
    outside: bool,
    /// Its latest refresh attempt failed and it has not been back in service since.
    refresh_failed: bool,
    /// For a surge instance: the activity whose scale-out created it.
    surge_owner: Option<Sym>,
}

struct Checker<'t> {
    names: &'t Names,
    epoch: crate::time::Epoch,
    out: Vec<Violation>,
    last: Option<(SimTime, u64)>,
    now: SimTime,
    activities: Vec<Activity>,
    by_id: BTreeMap<Sym, usize>,
    instances: BTreeMap<Sym, Instance>,
    group_enabled: Option<EnabledStatus>,
    enabled_before: Option<EnabledStatus>,
    disabled_by_call: bool,
    refresh_active: bool,
    lc_images: BTreeMap<u32, Sym>,
    lc_current: u32,
    max_surge: u64,
    /// API calls seen and not yet answered: request id → (action, activity named in the body).
    calls: BTreeMap<Sym, (Action, Option<Sym>)>,
    /// Activities a ResumeInstanceRefresh call is acting on right now.
    resuming: Vec<Sym>,
}

/// OQ-12/OQ-23: done for a SUCCESSFUL activity (FAILED counts only when skipped by CONTINUE).
fn item_done(item: &Item) -> bool {
    match item.status {
        InstanceStatus::Successful | InstanceStatus::NotFound | InstanceStatus::Cancelled => true,
        InstanceStatus::Failed => item.skipped,
        InstanceStatus::Waiting | InstanceStatus::Init | InstanceStatus::Running => false,
    }
}

fn enabled_text(e: Option<EnabledStatus>) -> &'static str {
    e.map(EnabledStatus::as_str).unwrap_or("unknown")
}

fn opt_text<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_else(|| "none".into())
}

/// Checks every invariant over a timeline; returns the violations (at most `MAX_VIOLATIONS`).
pub fn check_timeline(timeline: &Timeline) -> Vec<Violation> {
    check_timeline_and_describe(timeline, None)
}

/// As `check_timeline`, and also compares a final `DescribeRefreshActivities` response (e.g. a
/// run's `describe.json`) with the end state (INV-DESCRIBE-AGREES).
pub fn check_timeline_and_describe(
    timeline: &Timeline,
    final_describe: Option<&Value>,
) -> Vec<Violation> {
    let mut c = Checker {
        names: &timeline.names,
        epoch: timeline.epoch,
        out: Vec::new(),
        last: None,
        now: SimTime::ZERO,
        activities: Vec::new(),
        by_id: BTreeMap::new(),
        instances: BTreeMap::new(),
        group_enabled: None,
        enabled_before: None,
        disabled_by_call: false,
        refresh_active: false,
        lc_images: BTreeMap::new(),
        lc_current: 0,
        max_surge: 0,
        calls: BTreeMap::new(),
        resuming: Vec::new(),
    };
    let records = &timeline.records;
    for (i, record) in records.iter().enumerate() {
        c.now = record.time;
        c.record(record);
        let instant_ends = records
            .get(i + 1)
            .is_none_or(|next| next.time != record.time);
        if instant_ends {
            c.instant_end();
        }
        if c.out.len() >= MAX_VIOLATIONS {
            break;
        }
    }
    c.timeline_end();
    if let Some(describe) = final_describe {
        c.compare_describe(describe, "the final DescribeRefreshActivities response");
    }
    c.out.truncate(MAX_VIOLATIONS);
    c.out
}

impl Checker<'_> {
    fn name(&self, sym: Sym) -> &str {
        self.names.get(sym)
    }

    fn flag(&mut self, invariant: Invariant, entity: impl Into<String>, detail: impl Into<String>) {
        if self.out.len() < MAX_VIOLATIONS {
            self.out.push(Violation {
                invariant,
                time: self.now,
                entity: entity.into(),
                detail: detail.into(),
            });
        }
    }

    fn activity(&mut self, sym: Sym) -> Option<usize> {
        let found = self.by_id.get(&sym).copied();
        if found.is_none() {
            let name = self.name(sym).to_string();
            self.flag(
                Invariant::ActivityGraph,
                name,
                "a record names an activity that was never created",
            );
        }
        found
    }

    fn non_terminal(&self) -> impl Iterator<Item = &Activity> {
        self.activities.iter().filter(|a| !a.status.is_terminal())
    }

    fn record(&mut self, record: &Record) {
        if let Some((t, seq)) = self.last {
            if record.time < t {
                self.flag(
                    Invariant::TimeOrder,
                    "",
                    format!(
                        "time went back from {} ms to {} ms",
                        t.as_ms(),
                        record.time.as_ms()
                    ),
                );
            }
            if record.seq <= seq {
                self.flag(
                    Invariant::TimeOrder,
                    "",
                    format!("seq {} does not follow {seq}", record.seq),
                );
            }
        }
        self.last = Some((record.time, record.seq));
        match &record.event {
            Event::InstanceJoined {
                instance,
                state,
                image,
                instance_type,
                surge,
                ..
            } => {
                self.instances.insert(
                    *instance,
                    Instance {
                        in_group: true,
                        state: *state,
                        surge: *surge,
                        image: *image,
                        instance_type: *instance_type,
                        outside: *state != LifeCycleState::InService,
                        refresh_failed: false,
                        surge_owner: if *surge { self.scaling_out() } else { None },
                    },
                );
                self.check_surge_bounded();
            }
            Event::InstanceLeft { instance, .. } => {
                if let Some(i) = self.instances.get_mut(instance) {
                    i.in_group = false;
                }
            }
            Event::LifeCycle {
                instance,
                to,
                cause,
                ..
            } => {
                // A hook belongs to the refresh only while the instance is being refreshed;
                // otherwise it is a scaling operation's (a manual removal, a scale-in).
                let refreshing = self.in_flight_somewhere(*instance);
                if let Some(i) = self.instances.get_mut(instance) {
                    i.state = *to;
                    if *to == LifeCycleState::InService {
                        i.outside = false;
                        i.refresh_failed = false;
                    } else {
                        match cause {
                            LifeCycleCause::External
                            | LifeCycleCause::Api
                            | LifeCycleCause::ScalingActivity => i.outside = true,
                            LifeCycleCause::Hook | LifeCycleCause::HookDone => {
                                i.outside |= !refreshing
                            }
                            LifeCycleCause::RefreshStart
                            | LifeCycleCause::RefreshDone
                            | LifeCycleCause::Created => {}
                        }
                    }
                }
            }
            Event::GroupEnabled { from, to, .. } => {
                if let Some(known) = self.group_enabled
                    && known != *from
                {
                    self.flag(
                        Invariant::GroupDisabled,
                        "group",
                        format!("the group changed from {from} but was {known}"),
                    );
                }
                self.group_enabled = Some(*to);
            }
            Event::ScalingActivity {
                id,
                from: None,
                cause,
                activity_type,
                ..
            } => {
                let automatic = matches!(
                    cause,
                    ScalingCause::DesiredCapacity | ScalingCause::UnhealthyReplacement
                );
                if automatic && self.non_terminal().next().is_some() {
                    let name = self.name(*id).to_string();
                    self.flag(
                        Invariant::NoAutomaticScaling,
                        name,
                        format!(
                            "a {activity_type} scaling activity ({}) started during a refresh",
                            cause.as_str()
                        ),
                    );
                }
            }
            Event::ActivityCreated {
                activity,
                activity_type,
                mode,
                settings,
                origin,
                instances,
                ..
            } => self.created(
                *activity,
                *activity_type,
                *mode,
                *settings,
                *origin,
                *instances,
            ),
            Event::ActivityStatus {
                activity, from, to, ..
            } => self.activity_status(*activity, *from, *to),
            Event::BatchStatus {
                activity,
                batch,
                from,
                to,
                size,
            } => self.batch_status(*activity, *batch, *from, *to, *size),
            Event::InstanceStatus {
                activity,
                batch,
                instance,
                from,
                to,
                scaling_activity,
                ..
            } => self.instance_status(*activity, *batch, *instance, *from, *to, *scaling_activity),
            Event::InstanceSkipped {
                activity, instance, ..
            } => {
                if let Some(a) = self.activity(*activity) {
                    match self.activities[a].items.get_mut(instance) {
                        Some(item) if item.status == InstanceStatus::Failed => item.skipped = true,
                        _ => {
                            let name = self.name(*instance).to_string();
                            self.flag(
                                Invariant::InstanceGraph,
                                name,
                                "skipped by CONTINUE but not FAILED",
                            );
                        }
                    }
                }
            }
            Event::Reinstalled {
                activity,
                instance,
                image,
                instance_type,
                lc_version,
                ..
            } => self.reinstalled(*activity, *instance, *image, *instance_type, *lc_version),
            Event::LaunchConfig { version, image, .. } => {
                self.lc_images.insert(*version, *image);
                self.lc_current = *version;
            }
            Event::ApiCall {
                request_id,
                action,
                body,
            } => {
                let named = serde_json::from_str::<Value>(body).ok().and_then(|v| {
                    v.get("RefreshActivityId")
                        .and_then(Value::as_str)
                        .and_then(|id| self.names.lookup(id))
                });
                if *action == Action::ResumeInstanceRefresh
                    && let Some(a) = named
                {
                    self.resuming.push(a);
                }
                self.calls.insert(*request_id, (*action, named));
            }
            Event::ApiResult {
                request_id,
                action,
                error,
                response,
                ..
            } => self.api_result(
                *request_id,
                *action,
                error.as_ref().map(|(c, _)| *c),
                response.as_deref(),
            ),
            Event::Phase { activity, to, .. } => {
                if let Some(&a) = self.by_id.get(activity) {
                    self.activities[a].phase = *to;
                }
            }
            Event::ScalingActivity { .. }
            | Event::GroupStatus { .. }
            | Event::RoleAuthorized { .. }
            | Event::ImageAvailability { .. }
            | Event::HookStarted { .. }
            | Event::HookCompleted { .. }
            | Event::ScalingIgnored { .. } => {}
        }
    }

    fn created(
        &mut self,
        id: Sym,
        activity_type: ActivityType,
        mode: RefreshMode,
        settings: RefreshSettings,
        origin: Option<Sym>,
        instances: u32,
    ) {
        if self.by_id.contains_key(&id) {
            let name = self.name(id).to_string();
            self.flag(Invariant::ActivityGraph, name, "created twice");
            return;
        }
        if self.non_terminal().next().is_none() {
            self.enabled_before = self.group_enabled;
            self.disabled_by_call = false;
        }
        self.max_surge = self.max_surge.max(settings.max_surge);
        let eligible = match activity_type {
            ActivityType::Normal => self
                .instances
                .iter()
                .filter(|(_, i)| i.in_group && !i.surge && i.state == LifeCycleState::InService)
                .map(|(s, _)| *s)
                .collect(),
            ActivityType::Rollback => Vec::new(),
        };
        self.by_id.insert(id, self.activities.len());
        self.activities.push(Activity {
            id,
            status: ActivityStatus::Init,
            activity_type,
            mode,
            settings,
            origin,
            instances,
            batches: Vec::new(),
            items: BTreeMap::new(),
            created: self.now,
            started: None,
            ended: None,
            current_batch: 1,
            awaiting_resume: false,
            plan_checked: false,
            eligible,
            pre_images: BTreeMap::new(),
            phase: crate::timeline::Phase::Init,
        });
    }

    fn activity_status(&mut self, activity: Sym, from: ActivityStatus, to: ActivityStatus) {
        let Some(a) = self.activity(activity) else {
            return;
        };
        let name = self.name(activity).to_string();
        let known = self.activities[a].status;
        if known != from {
            self.flag(
                Invariant::ActivityGraph,
                &name,
                format!("changed from {from} but was {known}"),
            );
        }
        if known.is_terminal() {
            self.flag(
                Invariant::TerminalStaysTerminal,
                &name,
                format!("{known} changed to {to}"),
            );
        } else if !activity_step(known, to) {
            self.flag(
                Invariant::ActivityGraph,
                &name,
                format!("{known} → {to} is not a §10 transition"),
            );
        }
        let act = &mut self.activities[a];
        act.status = to;
        if known == ActivityStatus::Init && to == ActivityStatus::Running && act.started.is_none() {
            act.started = Some(self.now);
        }
        if to.is_terminal() {
            act.ended = Some(self.now);
        }
        if to == ActivityStatus::Successful {
            self.check_successful(a);
        }
    }

    /// INV-SUCCESS-COMPLETE and INV-SURGE-GONE at SUCCESSFUL.
    fn check_successful(&mut self, a: usize) {
        let act = &self.activities[a];
        let name = self.name(act.id).to_string();
        let undone: Vec<String> = act
            .items
            .iter()
            .filter(|(_, it)| !item_done(it))
            .map(|(s, it)| format!("{} {}", self.name(*s), it.status))
            .collect();
        let unfinished = act
            .batches
            .iter()
            .filter(|b| !b.status.is_some_and(BatchStatus::is_finished))
            .count();
        if !undone.is_empty() || unfinished > 0 {
            self.flag(
                Invariant::SuccessfulMeansDone,
                &name,
                format!(
                    "SUCCESSFUL with {} unfinished batches and instances [{}]",
                    unfinished,
                    undone.join(", ")
                ),
            );
        }
        let own = self.activities[a].id;
        let live = self
            .instances
            .values()
            .filter(|i| i.surge && i.in_group && i.surge_owner == Some(own))
            .count();
        if live > 0 {
            self.flag(
                Invariant::SurgeGone,
                &name,
                format!("SUCCESSFUL while {live} of its surge instances are alive"),
            );
        }
    }

    fn batch_status(
        &mut self,
        activity: Sym,
        batch: u32,
        from: Option<BatchStatus>,
        to: BatchStatus,
        size: u32,
    ) {
        let Some(a) = self.activity(activity) else {
            return;
        };
        let entity = format!("{} batch {batch}", self.name(activity));
        if from.is_none() {
            let act = &mut self.activities[a];
            if batch as usize != act.batches.len() + 1 {
                self.flag(
                    Invariant::BatchPlan,
                    &entity,
                    "batches must be planned 1, 2, 3, …",
                );
                return;
            }
            act.batches.push(Batch {
                status: Some(to),
                size,
                members: Vec::new(),
                started: None,
                ended: None,
            });
            if to != BatchStatus::Waiting {
                self.flag(
                    Invariant::BatchGraph,
                    &entity,
                    format!("planned as {to}, not WAITING"),
                );
            }
            return;
        }
        let Some(b) = (batch as usize)
            .checked_sub(1)
            .filter(|b| *b < self.activities[a].batches.len())
        else {
            self.flag(
                Invariant::BatchPlan,
                &entity,
                "a record names a batch that was never planned",
            );
            return;
        };
        let known = self.activities[a].batches[b].status;
        if known != from {
            self.flag(
                Invariant::BatchGraph,
                &entity,
                format!(
                    "changed from {} but was {}",
                    opt_text(from),
                    opt_text(known)
                ),
            );
        }
        if matches!(
            known,
            Some(BatchStatus::Successful | BatchStatus::Cancelled)
        ) {
            self.flag(
                Invariant::TerminalStaysTerminal,
                &entity,
                format!("{} changed to {to}", opt_text(known)),
            );
        } else if !batch_step(known, to) {
            self.flag(
                Invariant::BatchGraph,
                &entity,
                format!("{} → {to} is not a §10 transition", opt_text(known)),
            );
        }
        if to == BatchStatus::Init {
            self.batch_starts(a, b, &entity);
        }
        let retry = known.is_some_and(BatchStatus::is_finished) && to == BatchStatus::Running;
        if retry && !self.resuming.contains(&activity) {
            self.flag(
                Invariant::FailedBatchPauses,
                &entity,
                "a finished batch ran again without a ResumeInstanceRefresh",
            );
        }
        let act = &mut self.activities[a];
        let batch_state = &mut act.batches[b];
        batch_state.status = Some(to);
        if retry {
            batch_state.ended = None;
        }
        if to.is_finished() && to != BatchStatus::Cancelled {
            batch_state.ended = Some(self.now);
            let failed = act
                .items
                .values()
                .any(|it| it.batch == batch && it.status == InstanceStatus::Failed && !it.skipped);
            if failed && act.policy() == FailProcess::AutoPause && !act.status.is_terminal() {
                act.awaiting_resume = true;
            }
        }
    }

    /// INV-BATCH-SEQUENCE and INV-FAILED-BATCH-PAUSES when batch `b` (0-based) starts.
    fn batch_starts(&mut self, a: usize, b: usize, entity: &str) {
        let act = &self.activities[a];
        let earlier_unfinished = act.batches[..b]
            .iter()
            .any(|x| !x.status.is_some_and(BatchStatus::is_finished));
        let later_started = act.batches[b + 1..]
            .iter()
            .any(|x| x.status != Some(BatchStatus::Waiting));
        let blocked = act.awaiting_resume && !self.resuming.contains(&act.id);
        if earlier_unfinished || later_started {
            self.flag(
                Invariant::BatchesSequential,
                entity,
                "started while another batch had not finished, or after a later batch",
            );
        }
        if blocked {
            self.flag(
                Invariant::FailedBatchPauses,
                entity,
                "started after a failed batch without a ResumeInstanceRefresh",
            );
        }
        let act = &mut self.activities[a];
        act.current_batch = b as u32 + 1;
        act.batches[b].started = Some(self.now);
    }

    fn instance_status(
        &mut self,
        activity: Sym,
        batch: u32,
        instance: Sym,
        from: Option<InstanceStatus>,
        to: InstanceStatus,
        last_activity: Option<Sym>,
    ) {
        let Some(a) = self.activity(activity) else {
            return;
        };
        let entity = format!("{} {}", self.name(activity), self.name(instance));
        if from.is_none() {
            let act = &mut self.activities[a];
            if act.items.contains_key(&instance) {
                self.flag(
                    Invariant::BatchPlan,
                    &entity,
                    "the instance is planned twice",
                );
                return;
            }
            let Some(b) = (batch as usize)
                .checked_sub(1)
                .filter(|b| *b < act.batches.len())
            else {
                self.flag(
                    Invariant::BatchPlan,
                    &entity,
                    "planned into a batch that does not exist",
                );
                return;
            };
            act.batches[b].members.push(instance);
            act.items.insert(
                instance,
                Item {
                    batch,
                    status: to,
                    skipped: false,
                    last_activity,
                    lc_at_start: None,
                },
            );
            if to != InstanceStatus::Waiting {
                self.flag(
                    Invariant::InstanceGraph,
                    &entity,
                    format!("planned as {to}, not WAITING"),
                );
            }
            return;
        }
        let Some(known) = self.activities[a].items.get(&instance).map(|it| it.status) else {
            self.flag(
                Invariant::InstanceGraph,
                &entity,
                "a record names an instance that was never planned",
            );
            return;
        };
        if Some(known) != from {
            self.flag(
                Invariant::InstanceGraph,
                &entity,
                format!("changed from {} but was {known}", opt_text(from)),
            );
        }
        if instance_terminal(known) {
            self.flag(
                Invariant::TerminalStaysTerminal,
                &entity,
                format!("{known} changed to {to}"),
            );
        } else if !instance_step(Some(known), to) {
            self.flag(
                Invariant::InstanceGraph,
                &entity,
                format!("{known} → {to} is not a §10 transition"),
            );
        }
        if known == InstanceStatus::Failed
            && to == InstanceStatus::Waiting
            && !self.resuming.contains(&activity)
        {
            self.flag(
                Invariant::FailedBatchPauses,
                &entity,
                "retried without a ResumeInstanceRefresh",
            );
        }
        let lc_current = self.lc_current;
        let item = self.activities[a]
            .items
            .get_mut(&instance)
            .expect("checked above");
        item.status = to;
        item.last_activity = last_activity;
        if to == InstanceStatus::Running {
            item.lc_at_start = Some(lc_current);
            // OQ-16: the pre-refresh image is the one the instance has when its first reinstall
            // in this activity starts.
            if let Some(image) = self.instances.get(&instance).map(|i| i.image) {
                self.activities[a]
                    .pre_images
                    .entry(instance)
                    .or_insert(image);
            }
        }
        if let Some(inst) = self.instances.get_mut(&instance) {
            match to {
                InstanceStatus::Failed => inst.refresh_failed = true,
                InstanceStatus::Successful => inst.refresh_failed = false,
                _ => {}
            }
        }
    }

    fn reinstalled(
        &mut self,
        activity: Sym,
        instance: Sym,
        image: Sym,
        instance_type: Sym,
        lc_version: u32,
    ) {
        let Some(a) = self.activity(activity) else {
            return;
        };
        let entity = format!("{} {}", self.name(activity), self.name(instance));
        let Some(inst) = self.instances.get(&instance).cloned() else {
            self.flag(
                Invariant::ReinstallFields,
                &entity,
                "reinstalled an instance that never joined",
            );
            return;
        };
        if inst.instance_type != instance_type {
            self.flag(
                Invariant::ReinstallFields,
                &entity,
                format!(
                    "the instance type changed from {} to {}",
                    self.name(inst.instance_type),
                    self.name(instance_type)
                ),
            );
        }
        let item_lc = self.activities[a]
            .items
            .get(&instance)
            .and_then(|it| it.lc_at_start);
        if item_lc != Some(lc_version) {
            self.flag(
                Invariant::ReinstallFields,
                &entity,
                format!("applied launch configuration v{lc_version}, but v{} was current when its reinstall started", opt_text(item_lc)),
            );
        }
        let act = &self.activities[a];
        match act.activity_type {
            ActivityType::Normal => {
                let expected = self.lc_images.get(&lc_version).copied();
                if expected != Some(image) {
                    self.flag(
                        Invariant::ReinstallFields,
                        &entity,
                        format!(
                            "reinstalled {} but launch configuration v{lc_version} has {}",
                            self.name(image),
                            expected
                                .map(|s| self.name(s).to_string())
                                .unwrap_or_else(|| "no image".into())
                        ),
                    );
                }
            }
            ActivityType::Rollback => {
                let origin = act
                    .origin
                    .and_then(|o| self.by_id.get(&o))
                    .map(|&o| &self.activities[o]);
                if let Some(origin) = origin
                    && let Some(&before) = origin.pre_images.get(&instance)
                    && before != image
                {
                    self.flag(
                        Invariant::RollbackRestoresImage,
                        &entity,
                        format!(
                            "rolled back to {} but the image before the origin was {}",
                            self.name(image),
                            self.name(before)
                        ),
                    );
                }
            }
        }
        if let Some(i) = self.instances.get_mut(&instance) {
            i.image = image;
        }
    }

    fn api_result(
        &mut self,
        request_id: Sym,
        action: Action,
        error: Option<crate::api::ErrorCode>,
        response: Option<&str>,
    ) {
        let call = self.calls.remove(&request_id);
        if let Some((Action::ResumeInstanceRefresh, Some(a))) = call {
            self.resuming.retain(|x| *x != a);
            if error.is_none()
                && let Some(&i) = self.by_id.get(&a)
            {
                self.activities[i].awaiting_resume = false;
            }
        }
        if action == Action::DisableAutoScalingGroup
            && error.is_none()
            && self.non_terminal().next().is_some()
        {
            self.disabled_by_call = true;
        }
        if let Some(code) = error
            && !is_documented(action, code)
        {
            self.flag(
                Invariant::DocumentedErrors,
                self.name(request_id).to_string(),
                format!("{action} returned {code}, which is not documented for it"),
            );
        }
        if let (Action::DescribeRefreshActivities, Some(json)) = (action, response) {
            match serde_json::from_str::<Value>(json) {
                Ok(v) => self.compare_describe(&v, "a DescribeRefreshActivities response"),
                Err(e) => self.flag(
                    Invariant::DescribeAgrees,
                    self.name(request_id).to_string(),
                    format!("the recorded response is not JSON: {e}"),
                ),
            }
        }
    }

    // ------------------------------------------------------------------------------------
    // Instant-level invariants
    // ------------------------------------------------------------------------------------

    fn instant_end(&mut self) {
        for a in 0..self.activities.len() {
            if !self.activities[a].plan_checked {
                self.activities[a].plan_checked = true;
                self.check_plan(a);
            }
        }
        let active: Vec<usize> = (0..self.activities.len())
            .filter(|&a| !self.activities[a].status.is_terminal())
            .collect();
        if active.len() > 1 {
            let ids: Vec<String> = active
                .iter()
                .map(|&a| self.name(self.activities[a].id).to_string())
                .collect();
            self.flag(
                Invariant::OneActiveActivity,
                "group",
                format!("non-terminal activities at once: {}", ids.join(", ")),
            );
        }
        if !active.is_empty() {
            self.refresh_active = true;
            if self.group_enabled != Some(EnabledStatus::Disabled) {
                self.flag(
                    Invariant::GroupDisabled,
                    "group",
                    format!("{} during a refresh", enabled_text(self.group_enabled)),
                );
            }
        } else if self.refresh_active {
            self.refresh_active = false;
            let expected = if self.disabled_by_call {
                Some(EnabledStatus::Disabled)
            } else {
                self.enabled_before
            };
            if self.group_enabled != expected {
                self.flag(
                    Invariant::GroupRestored,
                    "group",
                    format!(
                        "{} after the refresh, expected {}",
                        enabled_text(self.group_enabled),
                        enabled_text(expected)
                    ),
                );
            }
        }
        for a in 0..self.activities.len() {
            self.check_batches_progress(a);
            let act = &self.activities[a];
            if act.awaiting_resume
                && act.status == ActivityStatus::Running
                && !self.resuming.contains(&act.id)
            {
                let name = self.name(act.id).to_string();
                self.flag(
                    Invariant::FailedBatchPauses,
                    name,
                    "a batch failed under AUTO_PAUSE but the activity did not pause",
                );
                self.activities[a].awaiting_resume = false;
            }
        }
        self.check_capacity_floor();
    }

    /// INV-BATCH-PLAN once an activity's creation instant is over.
    fn check_plan(&mut self, a: usize) {
        let act = &self.activities[a];
        let name = self.name(act.id).to_string();
        let sizes: Vec<u32> = act.batches.iter().map(|b| b.members.len() as u32).collect();
        let total: u32 = sizes.iter().sum();
        let n = sizes.len() as u32;
        let mut problems = Vec::new();
        if total != act.instances {
            problems.push(format!(
                "{total} instances planned, {} announced",
                act.instances
            ));
        }
        if u64::from(n) != act.settings.batch_number {
            problems.push(format!(
                "{n} batches for BatchNumber {}",
                act.settings.batch_number
            ));
        }
        if let (Some(q), Some(r)) = (total.checked_div(n), total.checked_rem(n)) {
            let expected: Vec<u32> = (0..n).map(|k| q + u32::from(k < r)).collect();
            if sizes != expected {
                problems.push(format!("batch sizes {sizes:?}, OQ-1 gives {expected:?}"));
            }
        }
        if act.batches.iter().any(|b| b.size != b.members.len() as u32) {
            problems.push("a batch's size differs from its instances".into());
        }
        if act.activity_type == ActivityType::Normal {
            let mut planned: Vec<Sym> = act.items.keys().copied().collect();
            planned.sort();
            let mut eligible = act.eligible.clone();
            eligible.sort();
            if planned != eligible {
                problems.push(format!(
                    "{} instances planned but {} were IN_SERVICE and not in standby at Start",
                    planned.len(),
                    eligible.len()
                ));
            }
        }
        for problem in problems {
            self.flag(Invariant::BatchPlan, &name, problem);
        }
    }

    /// INV-NOT-FOUND-NON-BLOCKING: a running batch has something in flight.
    fn check_batches_progress(&mut self, a: usize) {
        let act = &self.activities[a];
        for (b, batch) in act.batches.iter().enumerate() {
            if matches!(batch.status, Some(BatchStatus::Init | BatchStatus::Running)) {
                let in_flight = batch
                    .members
                    .iter()
                    .any(|m| act.items.get(m).is_some_and(|it| it.status.is_in_flight()));
                if !in_flight {
                    let entity = format!("{} batch {}", self.name(act.id), b + 1);
                    self.flag(
                        Invariant::NotFoundNeverBlocks,
                        entity,
                        "INIT/RUNNING with no instance in flight",
                    );
                    return;
                }
            }
        }
    }

    /// INV-CAPACITY-FLOOR.
    fn check_capacity_floor(&mut self) {
        let mut members: BTreeMap<Sym, bool> = BTreeMap::new(); // instance → counts as out
        for act in &self.activities {
            let active = !act.status.is_terminal();
            for (sym, item) in &act.items {
                if !(active || item.status.is_in_flight()) {
                    continue;
                }
                let Some(inst) = self.instances.get(sym) else {
                    continue;
                };
                let in_flight_reset =
                    item.status.is_in_flight() && act.mode == RefreshMode::RollingUpdateReset;
                let out = in_flight_reset
                    || !inst.in_group
                    || (inst.refresh_failed && inst.state != LifeCycleState::InService)
                    || (inst.outside && inst.state != LifeCycleState::InService);
                *members.entry(*sym).or_insert(false) |= out;
            }
        }
        if members.is_empty() {
            return;
        }
        let e = members.len() as i64;
        let out = members.values().filter(|o| **o).count() as i64;
        let in_service = |i: &Instance| i.in_group && i.state == LifeCycleState::InService;
        let u = self
            .instances
            .values()
            .filter(|i| i.surge && in_service(i))
            .count() as i64;
        let total = self.instances.values().filter(|i| in_service(i)).count() as i64;
        let floor = e - out + u;
        if total < floor {
            let missing: Vec<String> = members
                .iter()
                .filter(|(s, out)| !**out && !self.instances.get(s).is_some_and(in_service))
                .map(|(s, _)| self.name(*s).to_string())
                .take(5)
                .collect();
            self.flag(
                Invariant::CapacityFloor,
                "group",
                format!("{total} in service < floor {floor} (E {e} − out {out} + surge {u}); out of service without cause: {}", missing.join(", ")),
            );
        }
    }

    /// The activity in its MaxSurge scale-out phase, if any.
    fn scaling_out(&self) -> Option<Sym> {
        self.activities
            .iter()
            .find(|a| a.phase == crate::timeline::Phase::SurgeOut)
            .map(|a| a.id)
    }

    fn in_flight_somewhere(&self, instance: Sym) -> bool {
        self.activities.iter().any(|a| {
            a.items
                .get(&instance)
                .is_some_and(|it| it.status.is_in_flight())
        })
    }

    fn live_surge(&self) -> u32 {
        self.instances
            .values()
            .filter(|i| i.surge && i.in_group)
            .count() as u32
    }

    fn check_surge_bounded(&mut self) {
        let live = self.live_surge();
        if u64::from(live) > self.max_surge {
            self.flag(
                Invariant::SurgeBounded,
                "group",
                format!("{live} surge instances alive, MaxSurge {}", self.max_surge),
            );
        }
    }

    fn timeline_end(&mut self) {
        let live = self.live_surge();
        if live > 0 && self.activities.iter().all(|a| a.status.is_terminal()) {
            self.flag(
                Invariant::SurgeGone,
                "group",
                format!("{live} surge instances still alive at the end"),
            );
        }
    }

    // ------------------------------------------------------------------------------------
    // INV-DESCRIBE-AGREES
    // ------------------------------------------------------------------------------------

    fn compare_describe(&mut self, response: &Value, what: &str) {
        let Some(set) = response
            .pointer("/Response/RefreshActivitySet")
            .and_then(Value::as_array)
        else {
            if response.pointer("/Response/Error").is_none() {
                self.flag(
                    Invariant::DescribeAgrees,
                    "",
                    format!("{what} has no RefreshActivitySet"),
                );
            }
            return;
        };
        let mut problems: Vec<(String, String)> = Vec::new();
        for entry in set {
            let id = entry
                .get("RefreshActivityId")
                .and_then(Value::as_str)
                .unwrap_or("");
            let Some(&a) = self.names.lookup(id).and_then(|s| self.by_id.get(&s)) else {
                problems.push((
                    id.to_string(),
                    format!("{what} lists an activity the timeline never created"),
                ));
                continue;
            };
            let act = &self.activities[a];
            let render = |t: Option<SimTime>| {
                t.map(|t| Value::String(self.epoch.render(t)))
                    .unwrap_or(Value::Null)
            };
            let expect = [
                ("Status", Value::String(act.status.as_str().into())),
                (
                    "ActivityType",
                    Value::String(act.activity_type.as_str().into()),
                ),
                ("RefreshMode", Value::String(act.mode.as_str().into())),
                ("CurrentRefreshBatchNum", Value::from(act.current_batch)),
                ("CreatedTime", render(Some(act.created))),
                ("StartTime", render(act.started)),
                ("EndTime", render(act.ended)),
            ];
            for (field, value) in expect {
                if entry.get(field) != Some(&value) {
                    problems.push((
                        id.to_string(),
                        format!(
                            "{what}: {field} is {:?}, the timeline says {value}",
                            entry.get(field)
                        ),
                    ));
                }
            }
            let batches = entry
                .get("RefreshBatchSet")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if batches.len() != act.batches.len() {
                problems.push((
                    id.to_string(),
                    format!(
                        "{what}: {} batches, the timeline has {}",
                        batches.len(),
                        act.batches.len()
                    ),
                ));
                continue;
            }
            for (k, batch) in batches.iter().enumerate() {
                let num = act.batches.len() - k; // descending order (OQ-29)
                let b = &act.batches[num - 1];
                let entity = format!("{id} batch {num}");
                if batch.get("RefreshBatchNum") != Some(&Value::from(num)) {
                    problems.push((
                        entity.clone(),
                        format!("{what}: batches are not in descending order"),
                    ));
                    continue;
                }
                let status = b.status.map(|s| s.as_str()).unwrap_or("");
                if batch.get("RefreshBatchStatus").and_then(Value::as_str) != Some(status) {
                    problems.push((
                        entity.clone(),
                        format!(
                            "{what}: batch status {:?}, the timeline says {status}",
                            batch.get("RefreshBatchStatus")
                        ),
                    ));
                }
                if batch.get("StartTime") != Some(&render(b.started))
                    || batch.get("EndTime") != Some(&render(b.ended))
                {
                    problems.push((
                        entity.clone(),
                        format!("{what}: batch times differ from the timeline"),
                    ));
                }
                let listed = batch
                    .get("RefreshBatchRelatedInstanceSet")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let mut members: Vec<&str> = b.members.iter().map(|m| self.name(*m)).collect();
                members.sort();
                let ids: Vec<&str> = listed
                    .iter()
                    .filter_map(|i| i.get("InstanceId").and_then(Value::as_str))
                    .collect();
                if ids != members {
                    problems.push((
                        entity.clone(),
                        format!("{what}: instances {ids:?}, the timeline has {members:?} (by id)"),
                    ));
                    continue;
                }
                for inst in &listed {
                    let iid = inst.get("InstanceId").and_then(Value::as_str).unwrap_or("");
                    let Some(item) = self.names.lookup(iid).and_then(|s| act.items.get(&s)) else {
                        continue;
                    };
                    if inst.get("InstanceStatus").and_then(Value::as_str)
                        != Some(item.status.as_str())
                    {
                        problems.push((
                            format!("{id} {iid}"),
                            format!(
                                "{what}: {:?}, the timeline says {}",
                                inst.get("InstanceStatus"),
                                item.status
                            ),
                        ));
                    }
                    let last = item.last_activity.map(|s| self.name(s)).unwrap_or("");
                    if inst.get("LastActivityId").and_then(Value::as_str) != Some(last) {
                        problems.push((
                            format!("{id} {iid}"),
                            format!(
                                "{what}: LastActivityId {:?}, the timeline says {last:?}",
                                inst.get("LastActivityId")
                            ),
                        ));
                    }
                }
            }
        }
        for (entity, detail) in problems {
            self.flag(Invariant::DescribeAgrees, entity, detail);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_scenario_satisfies_every_invariant() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        let mut report = Vec::new();
        for path in files {
            let scenario = crate::scenario::load_scenario(&path).unwrap();
            let run = crate::run::run_scenario(&scenario, scenario.seed, true).unwrap();
            let violations =
                check_timeline_and_describe(run.timeline.as_ref().unwrap(), Some(&run.describe));
            for v in violations.iter().take(5) {
                report.push(format!(
                    "{}: {v}",
                    path.file_name().unwrap().to_string_lossy()
                ));
            }
        }
        assert!(report.is_empty(), "\n{}", report.join("\n"));
    }
}
