//! Checking a timeline by replaying its records into a small, independent picture of the world
//! (activities, batches, instances, group) and testing every invariant against it: some at each
//! record, the rest once all records of an instant are in (the engine changes several things
//! in one instant, e.g. creating a rollback before cancelling its origin).
//!
//! The work is linear in the timeline: instant-level checks look only at what the instant
//! touched (dirty instances and batches) and keep running counts (capacity floor, surge).

use super::graph::{activity_step, batch_step, instance_step, instance_terminal};
use super::{Invariant, MAX_VIOLATIONS, Violation};
use crate::api::documented::is_documented;
use crate::api::{
    Action, ActivityStatus, ActivityType, BatchStatus, EnabledStatus, FailProcess, InstanceStatus,
    LifeCycleState, RefreshMode, RefreshSettings, ScalingActivityStatus, ScalingActivityType,
};
use crate::time::SimTime;
use crate::timeline::record::render_digest;
use crate::timeline::{
    Event, LifeCycleCause, Names, Record, RunEndReason, ScalingCause, StatusCause, Sym, Timeline,
};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

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
    /// Members INIT or RUNNING.
    in_flight: u32,
    /// Touched in the current instant (INV-NOT-FOUND-NON-BLOCKING is checked then).
    dirty: bool,
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
    /// OQ-26: CANCELLED because a rollback of it was created; its in-flight instances may
    /// finish after its EndTime.
    ended_by_rollback: bool,
    /// Became terminal in the current instant: INV-TERMINAL-SETTLED is checked at its end.
    settle_pending: bool,
    /// Batch number being (or last) run; 1 until a batch starts (OQ-9).
    current_batch: u32,
    /// A failed batch under AUTO_PAUSE is waiting for a Resume (INV-FAILED-BATCH-PAUSES).
    awaiting_resume: bool,
    /// A Resume was accepted and no pause has come since: a failed batch or instance may
    /// retry, at once or, while another scaling activity runs, when it ends (OQ-66).
    resume_granted: bool,
    /// The batch (1-based) that failed under AUTO_PAUSE while the activity has not yet gone to
    /// FAILED_PAUSE: its next status must be FAILED_PAUSE.
    must_fail_pause: Option<u32>,
    plan_checked: bool,
    /// The instances its plan must hold: for NORMAL, those IN_SERVICE and not in standby just
    /// before creation (OQ-3); for ROLLBACK, OQ-25 rule 7's set R.
    eligible: Vec<Sym>,
    /// Image each instance had before this activity first reinstalled it.
    pre_images: BTreeMap<Sym, Sym>,
    phase: crate::timeline::Phase,
    /// Its surge instances alive now (INV-SURGE-BOUNDED, INV-SURGE-GONE).
    surge_live: u32,
}

impl Activity {
    fn policy(&self) -> FailProcess {
        match (self.activity_type, self.settings.fail_process) {
            (ActivityType::Rollback, FailProcess::AutoRollback) => FailProcess::AutoPause,
            (_, p) => p,
        }
    }

    /// OQ-26: a rollback never surges.
    fn surge_bound(&self) -> u64 {
        match self.activity_type {
            ActivityType::Normal => self.settings.max_surge,
            ActivityType::Rollback => 0,
        }
    }
}

/// What one instance adds to the capacity-floor sums (recomputed when the instance is touched).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Contribution {
    /// Frozen into a non-terminal activity (or in flight in a terminal one): counts in E.
    member: bool,
    /// A member whose absence from service the refresh rules allow.
    out: bool,
    /// A member that is in service, or whose REPLACE replacement is.
    served: bool,
    /// A surge instance in service: counts in U.
    surge_in_service: bool,
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
    surge_owner: Option<usize>,
    /// OQ-11: the frozen instance this one was created to replace.
    replaces: Option<Sym>,
    /// OQ-11: the latest instance created to replace this one.
    replaced_by: Option<Sym>,
    /// Activities (indices) this instance is frozen into.
    memberships: Vec<usize>,
    contribution: Contribution,
    dirty: bool,
}

impl Instance {
    fn in_service(&self) -> bool {
        self.in_group && self.state == LifeCycleState::InService
    }
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
    /// Per launch-configuration version: its image and its fields digest (when recorded).
    lc: BTreeMap<u32, (Sym, Option<u64>)>,
    lc_current: u32,
    /// API calls seen and not yet answered: request id → (action, activity named in the body).
    calls: BTreeMap<Sym, (Action, Option<Sym>)>,
    /// Activities a ResumeInstanceRefresh call is acting on right now.
    resuming: Vec<Sym>,
    /// Touched in the current instant.
    dirty_instances: Vec<Sym>,
    dirty_batches: Vec<(usize, usize)>,
    /// Capacity-floor sums: E, out, U, and the members neither out nor served.
    floor_members: i64,
    floor_out: i64,
    floor_surge: i64,
    unserved: BTreeSet<Sym>,
    /// Surge instances alive, and those with no owner.
    live_surge: u32,
    run_end: Option<RunEndReason>,
    /// Scaling activities RUNNING now (INV-SCALING-EXCLUSIVE), by id.
    running_scaling: BTreeMap<Sym, RunningScaling>,
}

/// An `instance_joined` record's fields that the replay uses.
struct Joined {
    instance: Sym,
    state: LifeCycleState,
    image: Sym,
    instance_type: Sym,
    surge: bool,
    fields: Option<u64>,
    replaces: Option<Sym>,
}

/// A RUNNING scaling activity as INV-SCALING-EXCLUSIVE sees it.
#[derive(Debug, Clone, Copy)]
struct RunningScaling {
    /// The refresh activity it belongs to, else itself: one refresh's own scaling activities
    /// (a REPLACE batch's SCALE_OUT and REMOVE_INSTANCES, OQ-65) are one operation.
    owner: Sym,
    activity_type: ScalingActivityType,
    cause: ScalingCause,
}

impl RunningScaling {
    /// §6.2 `ConcurrentScaleOutForDesiredCapacity`: the only kind that may run beside others.
    fn concurrent(&self) -> bool {
        self.activity_type == ScalingActivityType::ScaleOut
            && self.cause == ScalingCause::DesiredCapacity
    }
}

/// Desired-capacity scale-outs that may run at once (§6.2).
const MAX_CONCURRENT_SCALE_OUTS: usize = 2;

/// OQ-12/OQ-23: done for a SUCCESSFUL activity (FAILED counts only when skipped by CONTINUE).
fn item_done(item: &Item) -> bool {
    match item.status {
        InstanceStatus::Successful | InstanceStatus::NotFound | InstanceStatus::Cancelled => true,
        InstanceStatus::Failed => item.skipped,
        InstanceStatus::Waiting | InstanceStatus::Init | InstanceStatus::Running => false,
    }
}

fn unsettled_batch(status: Option<BatchStatus>) -> bool {
    matches!(
        status,
        None | Some(BatchStatus::Waiting | BatchStatus::Init | BatchStatus::Running)
    )
}

fn unsettled_instance(status: InstanceStatus) -> bool {
    matches!(
        status,
        InstanceStatus::Waiting | InstanceStatus::Init | InstanceStatus::Running
    )
}

fn enabled_text(e: Option<EnabledStatus>) -> &'static str {
    e.map(EnabledStatus::as_str).unwrap_or("unknown")
}

fn opt_text<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_else(|| "none".into())
}

fn digest_text(d: Option<u64>) -> String {
    d.map(render_digest).unwrap_or_else(|| "unknown".into())
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
        lc: BTreeMap::new(),
        lc_current: 0,
        calls: BTreeMap::new(),
        resuming: Vec::new(),
        dirty_instances: Vec::new(),
        dirty_batches: Vec::new(),
        floor_members: 0,
        floor_out: 0,
        floor_surge: 0,
        unserved: BTreeSet::new(),
        live_surge: 0,
        run_end: None,
        running_scaling: BTreeMap::new(),
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

    fn pair_name(&self, activity: Sym, instance: Sym) -> String {
        format!("{} {}", self.name(activity), self.name(instance))
    }

    fn flag(&mut self, invariant: Invariant, entity: impl Into<String>, detail: impl Into<String>) {
        if self.out.len() < MAX_VIOLATIONS {
            self.out.push(Violation {
                invariant,
                time: self.now,
                poll: None,
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

    /// Marks an instance (and the frozen instance it replaces) for the capacity recount.
    fn touch(&mut self, sym: Sym) {
        let mut next = Some(sym);
        while let Some(s) = next.take() {
            if let Some(inst) = self.instances.get_mut(&s) {
                if !inst.dirty {
                    inst.dirty = true;
                    self.dirty_instances.push(s);
                }
                next = inst.replaces;
            }
        }
    }

    fn touch_batch(&mut self, a: usize, b: usize) {
        let batch = &mut self.activities[a].batches[b];
        if !batch.dirty {
            batch.dirty = true;
            self.dirty_batches.push((a, b));
        }
    }

    /// One delegate per record kind, after the order checks every record gets.
    fn record(&mut self, record: &Record) {
        self.check_order(record);
        match &record.event {
            Event::InstanceJoined {
                instance,
                state,
                image,
                instance_type,
                surge,
                fields,
                replaces,
                ..
            } => self.joined(Joined {
                instance: *instance,
                state: *state,
                image: *image,
                instance_type: *instance_type,
                surge: *surge,
                fields: *fields,
                replaces: *replaces,
            }),
            Event::InstanceLeft { instance, .. } => self.left(*instance),
            Event::LifeCycle {
                instance,
                to,
                cause,
                ..
            } => self.life_cycle(*instance, *to, *cause),
            Event::GroupEnabled { from, to, .. } => self.group_enabled(*from, *to),
            Event::ScalingActivity {
                id,
                activity,
                activity_type,
                from,
                to,
                cause,
                ..
            } => {
                let running = RunningScaling {
                    owner: activity.unwrap_or(*id),
                    activity_type: *activity_type,
                    cause: *cause,
                };
                self.scaling_activity(*id, running, from.is_none(), *to);
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
                activity,
                from,
                to,
                cause,
            } => self.activity_status(*activity, *from, *to, *cause),
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
            } => self.skipped(*activity, *instance),
            Event::Reinstalled {
                activity,
                instance,
                image,
                instance_type,
                lc_version,
                fields,
                ..
            } => self.reinstalled(
                *activity,
                *instance,
                *image,
                *instance_type,
                *lc_version,
                *fields,
            ),
            Event::LaunchConfig {
                version,
                image,
                fields,
                ..
            } => self.launch_config(*version, *image, *fields),
            Event::ApiCall {
                request_id,
                action,
                body,
            } => self.api_call(*request_id, *action, body),
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
            Event::Phase { activity, to, .. } => self.phase(*activity, *to),
            Event::RunEnd { reason } => self.run_end = Some(*reason),
            Event::GroupStatus { .. }
            | Event::RoleAuthorized { .. }
            | Event::ImageAvailability { .. }
            | Event::HookStarted { .. }
            | Event::HookCompleted { .. }
            | Event::ScalingIgnored { .. } => {}
        }
    }

    /// INV-TIME-ORDER: time never goes back, seq increases, nothing follows run_end.
    fn check_order(&mut self, record: &Record) {
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
        if let Some(reason) = self.run_end {
            self.flag(
                Invariant::TimeOrder,
                "",
                format!(
                    "a {} record follows the run_end ({}) record",
                    record.event.kind(),
                    reason.as_str()
                ),
            );
        }
        self.last = Some((record.time, record.seq));
    }

    fn left(&mut self, instance: Sym) {
        // Gone by the refresh's own hand (a REPLACE removal of the old instance) only
        // while it is being refreshed; otherwise from outside.
        let refreshing = self.in_flight_somewhere(instance);
        let mut owner = None;
        if let Some(i) = self.instances.get_mut(&instance) {
            if i.in_group && i.surge {
                owner = Some(i.surge_owner);
            }
            i.in_group = false;
            i.outside |= !refreshing;
        }
        if let Some(owner) = owner {
            self.live_surge = self.live_surge.saturating_sub(1);
            if let Some(a) = owner {
                let act = &mut self.activities[a];
                act.surge_live = act.surge_live.saturating_sub(1);
            }
        }
        self.touch(instance);
    }

    fn life_cycle(&mut self, instance: Sym, to: LifeCycleState, cause: LifeCycleCause) {
        // A hook or a scaling activity belongs to the refresh while the instance is
        // being refreshed (a REPLACE removal of the old instance); otherwise it is a
        // scaling operation's (a manual removal, a scale-in).
        let refreshing = self.in_flight_somewhere(instance);
        if let Some(i) = self.instances.get_mut(&instance) {
            i.state = to;
            if to == LifeCycleState::InService {
                i.outside = false;
                i.refresh_failed = false;
            } else {
                match cause {
                    LifeCycleCause::External | LifeCycleCause::Api => i.outside = true,
                    LifeCycleCause::ScalingActivity
                    | LifeCycleCause::Hook
                    | LifeCycleCause::HookDone => i.outside |= !refreshing,
                    LifeCycleCause::RefreshStart
                    | LifeCycleCause::RefreshDone
                    | LifeCycleCause::Created => {}
                }
            }
        }
        self.touch(instance);
    }

    /// INV-GROUP-DISABLED: each change starts from the state last seen.
    fn group_enabled(&mut self, from: EnabledStatus, to: EnabledStatus) {
        if let Some(known) = self.group_enabled
            && known != from
        {
            self.flag(
                Invariant::GroupDisabled,
                "group",
                format!("the group changed from {from} but was {known}"),
            );
        }
        self.group_enabled = Some(to);
    }

    /// A scaling activity's status change; `started` when it is its first record.
    fn scaling_activity(
        &mut self,
        id: Sym,
        running: RunningScaling,
        started: bool,
        to: ScalingActivityStatus,
    ) {
        self.scaling_exclusive(id, running, to);
        if started {
            self.no_automatic_scaling(id, running.activity_type, running.cause);
        }
    }

    /// INV-NO-AUTOMATIC-SCALING: no desired-capacity or health scaling starts during a refresh.
    fn no_automatic_scaling(
        &mut self,
        id: Sym,
        activity_type: ScalingActivityType,
        cause: ScalingCause,
    ) {
        let automatic = matches!(
            cause,
            ScalingCause::DesiredCapacity | ScalingCause::UnhealthyReplacement
        );
        if automatic && self.non_terminal().next().is_some() {
            let name = self.name(id).to_string();
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

    fn skipped(&mut self, activity: Sym, instance: Sym) {
        if let Some(a) = self.activity(activity) {
            match self.activities[a].items.get_mut(&instance) {
                Some(item) if item.status == InstanceStatus::Failed => item.skipped = true,
                _ => {
                    let name = self.name(instance).to_string();
                    self.flag(
                        Invariant::InstanceGraph,
                        name,
                        "skipped by CONTINUE but not FAILED",
                    );
                }
            }
        }
    }

    fn launch_config(&mut self, version: u32, image: Sym, fields: Option<u64>) {
        self.lc.insert(version, (image, fields));
        self.lc_current = version;
    }

    fn api_call(&mut self, request_id: Sym, action: Action, body: &str) {
        let named = serde_json::from_str::<Value>(body).ok().and_then(|v| {
            v.get("RefreshActivityId")
                .and_then(Value::as_str)
                .and_then(|id| self.names.lookup(id))
        });
        if action == Action::ResumeInstanceRefresh
            && let Some(a) = named
        {
            self.resuming.push(a);
        }
        self.calls.insert(request_id, (action, named));
    }

    fn phase(&mut self, activity: Sym, to: crate::timeline::Phase) {
        if let Some(&a) = self.by_id.get(&activity) {
            let act = &mut self.activities[a];
            // OQ-9/OQ-15: StartTime is when the work begins. Usually that is the
            // INIT → RUNNING change; an activity stopped during INIT and resumed begins
            // when its phase first goes from INIT to work (the surge scale-out or the
            // batches: at the Resume, or once its init delay is over). Leaving INIT
            // for DONE or FAILING (a cancel, an internal error) starts nothing.
            if act.phase == crate::timeline::Phase::Init
                && matches!(
                    to,
                    crate::timeline::Phase::SurgeOut | crate::timeline::Phase::Batches
                )
                && act.started.is_none()
            {
                act.started = Some(self.now);
            }
            act.phase = to;
        }
    }

    /// INV-SCALING-EXCLUSIVE (§6.2, OQ-18, OQ-66): a scaling activity starts only when nothing
    /// else runs, except desired-capacity scale-outs (at most two at once).
    fn scaling_exclusive(&mut self, id: Sym, new: RunningScaling, to: ScalingActivityStatus) {
        if to != ScalingActivityStatus::Running {
            self.running_scaling.remove(&id);
            return;
        }
        if self.running_scaling.insert(id, new).is_some() {
            return; // already running: not a start
        }
        let others: Vec<(Sym, RunningScaling)> = self
            .running_scaling
            .iter()
            .filter(|(other, r)| **other != id && r.owner != new.owner)
            .map(|(other, r)| (*other, *r))
            .collect();
        let Some((other, r)) = others.first().copied() else {
            return;
        };
        let allowed = new.concurrent()
            && others.iter().all(|(_, r)| r.concurrent())
            && others.len() < MAX_CONCURRENT_SCALE_OUTS;
        if !allowed {
            let name = self.name(id).to_string();
            let detail = format!(
                "a {} scaling activity ({}) started while {} ({}, {}) runs{}; only desired-capacity scale-outs run beside others, at most {MAX_CONCURRENT_SCALE_OUTS} at once",
                new.activity_type,
                new.cause.as_str(),
                self.name(other),
                r.activity_type,
                r.cause.as_str(),
                if others.len() > 1 {
                    format!(" (and {} more)", others.len() - 1)
                } else {
                    String::new()
                }
            );
            self.flag(Invariant::ScalingExclusive, name, detail);
        }
    }

    fn joined(&mut self, j: Joined) {
        let surge_owner = if j.surge { self.scaling_out() } else { None };
        let memberships = self
            .instances
            .get(&j.instance)
            .map(|i| i.memberships.clone())
            .unwrap_or_default();
        self.instances.insert(
            j.instance,
            Instance {
                in_group: true,
                state: j.state,
                surge: j.surge,
                image: j.image,
                instance_type: j.instance_type,
                outside: j.state != LifeCycleState::InService,
                refresh_failed: false,
                surge_owner,
                replaces: j.replaces,
                replaced_by: None,
                memberships,
                contribution: Contribution::default(),
                dirty: false,
            },
        );
        // The fresh entry starts with a zero contribution: take the old one out of the sums.
        self.touch(j.instance);
        if j.surge {
            self.live_surge += 1;
            self.surge_joined(j.instance, surge_owner);
        }
        if let Some(old) = j.replaces {
            if let Some(o) = self.instances.get_mut(&old) {
                o.replaced_by = Some(j.instance);
            }
            self.check_replacement(j.instance, old, j.image, j.fields);
        }
    }

    /// INV-SURGE-BOUNDED: each activity's own surge instances never exceed its MaxSurge.
    fn surge_joined(&mut self, instance: Sym, owner: Option<usize>) {
        let name = self.name(instance).to_string();
        let Some(a) = owner else {
            self.flag(
                Invariant::SurgeBounded,
                name,
                "a surge instance joined while no activity was in its MaxSurge scale-out phase",
            );
            return;
        };
        let act = &mut self.activities[a];
        act.surge_live += 1;
        let (live, bound, id) = (act.surge_live, act.surge_bound(), act.id);
        if u64::from(live) > bound {
            let entity = self.name(id).to_string();
            self.flag(
                Invariant::SurgeBounded,
                entity,
                format!("{live} of its surge instances alive (latest {name}), MaxSurge {bound}"),
            );
        }
    }

    /// INV-REINSTALL-FIELDS for a REPLACE replacement: created from the current launch
    /// configuration (its image and other refreshable fields).
    fn check_replacement(&mut self, new: Sym, old: Sym, image: Sym, fields: Option<u64>) {
        let entity = format!("{} (replacing {})", self.name(new), self.name(old));
        let Some(&(lc_image, lc_fields)) = self.lc.get(&self.lc_current) else {
            return;
        };
        let v = self.lc_current;
        if image != lc_image {
            let detail = format!(
                "replacement created with {}, but launch configuration v{v} has {}",
                self.name(image),
                self.name(lc_image)
            );
            self.flag(Invariant::ReinstallFields, entity.clone(), detail);
        }
        if let (Some(got), Some(want)) = (fields, lc_fields)
            && got != want
        {
            self.flag(
                Invariant::ReinstallFields,
                entity,
                format!(
                    "replacement created with refreshable fields {}, but launch configuration v{v} has {}",
                    render_digest(got),
                    render_digest(want)
                ),
            );
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
        let eligible = match activity_type {
            ActivityType::Normal => self
                .instances
                .iter()
                .filter(|(_, i)| i.in_group && !i.surge && i.state == LifeCycleState::InService)
                .map(|(s, _)| *s)
                .collect(),
            // OQ-25 rule 7: origin instances SUCCESSFUL, FAILED, INIT or RUNNING, still in the
            // group.
            ActivityType::Rollback => origin
                .and_then(|o| self.by_id.get(&o))
                .map(|&o| {
                    self.activities[o]
                        .items
                        .iter()
                        .filter(|(s, it)| {
                            matches!(
                                it.status,
                                InstanceStatus::Successful
                                    | InstanceStatus::Failed
                                    | InstanceStatus::Init
                                    | InstanceStatus::Running
                            ) && self.instances.get(s).is_some_and(|i| i.in_group)
                        })
                        .map(|(s, _)| *s)
                        .collect()
                })
                .unwrap_or_default(),
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
            ended_by_rollback: false,
            settle_pending: false,
            current_batch: 1,
            awaiting_resume: false,
            resume_granted: false,
            must_fail_pause: None,
            plan_checked: false,
            eligible,
            pre_images: BTreeMap::new(),
            phase: crate::timeline::Phase::Init,
            surge_live: 0,
        });
    }

    fn activity_status(
        &mut self,
        activity: Sym,
        from: ActivityStatus,
        to: ActivityStatus,
        cause: StatusCause,
    ) {
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
        // §3.5, OQ-13, OQ-21: after a failed batch under AUTO_PAUSE the activity's next status
        // is FAILED_PAUSE (an unrecoverable error may still make it FAILED, OQ-23).
        if let Some(batch) = self.activities[a].must_fail_pause {
            let allowed = to == ActivityStatus::FailedPause
                || (to == ActivityStatus::Failed && cause == StatusCause::InternalError);
            if !allowed {
                self.flag(
                    Invariant::FailedBatchPauses,
                    &name,
                    format!(
                        "batch {batch} ended with a FAILED instance under FailProcess=AUTO_PAUSE, \
                         then the activity went {known} → {to}; the next status must be FAILED_PAUSE"
                    ),
                );
            }
            self.activities[a].must_fail_pause = None;
        }
        let act = &mut self.activities[a];
        act.status = to;
        if to.is_paused() || to.is_terminal() {
            act.resume_granted = false;
        }
        if known == ActivityStatus::Init && to == ActivityStatus::Running && act.started.is_none() {
            act.started = Some(self.now);
        }
        if to.is_terminal() && !known.is_terminal() {
            act.ended = Some(self.now);
            act.ended_by_rollback =
                to == ActivityStatus::Cancelled && cause == StatusCause::RolledBack;
            act.settle_pending = true;
            let members: Vec<Sym> = act.items.keys().copied().collect();
            for m in members {
                self.touch(m);
            }
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
        let live = self.activities[a].surge_live;
        if live > 0 {
            self.flag(
                Invariant::SurgeGone,
                &name,
                format!("SUCCESSFUL while {live} of its surge instances are alive"),
            );
        }
    }

    /// INV-TERMINAL-SETTLED: a batch or instance of a terminal activity changes only while it
    /// settles in the instant it ended, or (OQ-26) when a rolled-back origin's in-flight
    /// instance finishes.
    fn check_change_after_end(&mut self, a: usize, entity: &str, what: String, in_flight: bool) {
        let act = &self.activities[a];
        let Some(ended) = act.ended else {
            return;
        };
        if self.now > ended && !(act.ended_by_rollback && in_flight) {
            let detail = format!(
                "{what} after the activity ended {} at {} ms",
                act.status,
                ended.as_ms()
            );
            self.flag(Invariant::TerminalSettled, entity, detail);
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
                in_flight: 0,
                dirty: false,
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
        if self.activities[a].status.is_terminal() {
            let in_flight = matches!(known, Some(BatchStatus::Init | BatchStatus::Running))
                && to != BatchStatus::Init;
            let what = format!("changed {} → {to}", opt_text(known));
            self.check_change_after_end(a, &entity, what, in_flight);
        }
        if to == BatchStatus::Init {
            self.batch_starts(a, b, &entity);
        }
        let retry = known.is_some_and(BatchStatus::is_finished) && to == BatchStatus::Running;
        if retry && !self.resume_allows(a, activity) {
            self.flag(
                Invariant::FailedBatchPauses,
                &entity,
                "a finished batch ran again without a ResumeInstanceRefresh",
            );
        }
        self.touch_batch(a, b);
        let act = &mut self.activities[a];
        let batch_state = &mut act.batches[b];
        batch_state.status = Some(to);
        if retry {
            batch_state.ended = None;
        }
        if to.is_finished() && to != BatchStatus::Cancelled {
            batch_state.ended = Some(self.now);
            let failed = batch_state.members.iter().any(|m| {
                act.items
                    .get(m)
                    .is_some_and(|it| it.status == InstanceStatus::Failed && !it.skipped)
            });
            if failed && act.policy() == FailProcess::AutoPause && !act.status.is_terminal() {
                act.awaiting_resume = true;
                if act.status != ActivityStatus::FailedPause {
                    act.must_fail_pause = Some(batch);
                }
            }
        }
    }

    /// INV-BATCH-SEQUENCE and INV-FAILED-BATCH-PAUSES when batch `b` (0-based) starts.
    /// Whether a Resume lets activity `a` retry now: one is being applied, or one was accepted
    /// and no pause came since.
    fn resume_allows(&self, a: usize, activity: Sym) -> bool {
        self.resuming.contains(&activity) || self.activities[a].resume_granted
    }

    fn batch_starts(&mut self, a: usize, b: usize, entity: &str) {
        let act = &self.activities[a];
        let earlier_unfinished = act.batches[..b]
            .iter()
            .position(|x| !x.status.is_some_and(BatchStatus::is_finished));
        let later_started = act.batches[b + 1..]
            .iter()
            .position(|x| x.status != Some(BatchStatus::Waiting));
        let blocked = act.awaiting_resume && !self.resuming.contains(&act.id);
        let earlier_status = earlier_unfinished.map(|k| opt_text(act.batches[k].status));
        let later_status = later_started.map(|k| opt_text(act.batches[b + 1 + k].status));
        if let (Some(k), Some(status)) = (earlier_unfinished, earlier_status) {
            self.flag(
                Invariant::BatchesSequential,
                entity,
                format!("started while batch {} was still {status}", k + 1),
            );
        }
        if let (Some(k), Some(status)) = (later_started, later_status) {
            self.flag(
                Invariant::BatchesSequential,
                entity,
                format!("started after the later batch {} ({status})", b + 2 + k),
            );
        }
        if blocked {
            self.flag(
                Invariant::FailedBatchPauses,
                entity,
                "started after a failed batch (FailProcess=AUTO_PAUSE) without a ResumeInstanceRefresh",
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
        if from.is_none() {
            let act = &self.activities[a];
            if act.items.contains_key(&instance) {
                let entity = self.pair_name(activity, instance);
                self.flag(
                    Invariant::BatchPlan,
                    entity,
                    "the instance is planned twice",
                );
                return;
            }
            let Some(b) = (batch as usize)
                .checked_sub(1)
                .filter(|b| *b < act.batches.len())
            else {
                let entity = self.pair_name(activity, instance);
                self.flag(
                    Invariant::BatchPlan,
                    entity,
                    "planned into a batch that does not exist",
                );
                return;
            };
            if to != InstanceStatus::Waiting {
                let entity = self.pair_name(activity, instance);
                self.flag(
                    Invariant::InstanceGraph,
                    entity,
                    format!("planned as {to}, not WAITING"),
                );
            }
            let act = &mut self.activities[a];
            act.batches[b].members.push(instance);
            if to.is_in_flight() {
                act.batches[b].in_flight += 1;
            }
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
            if let Some(inst) = self.instances.get_mut(&instance) {
                inst.memberships.push(a);
            }
            self.touch(instance);
            self.touch_batch(a, b);
            return;
        }
        let Some(item) = self.activities[a].items.get(&instance) else {
            let entity = self.pair_name(activity, instance);
            self.flag(
                Invariant::InstanceGraph,
                entity,
                "a record names an instance that was never planned",
            );
            return;
        };
        let (known, item_batch) = (item.status, item.batch);
        if Some(known) != from {
            let entity = self.pair_name(activity, instance);
            self.flag(
                Invariant::InstanceGraph,
                entity,
                format!("changed from {} but was {known}", opt_text(from)),
            );
        }
        if instance_terminal(known) {
            let entity = self.pair_name(activity, instance);
            self.flag(
                Invariant::TerminalStaysTerminal,
                entity,
                format!("{known} changed to {to}"),
            );
        } else if !instance_step(Some(known), to) {
            let entity = self.pair_name(activity, instance);
            self.flag(
                Invariant::InstanceGraph,
                entity,
                format!("{known} → {to} is not a §10 transition"),
            );
        }
        if known == InstanceStatus::Failed
            && to == InstanceStatus::Waiting
            && !self.resume_allows(a, activity)
        {
            let entity = self.pair_name(activity, instance);
            self.flag(
                Invariant::FailedBatchPauses,
                entity,
                "retried without a ResumeInstanceRefresh",
            );
        }
        if self.activities[a].status.is_terminal() {
            let entity = self.pair_name(activity, instance);
            let what = format!("changed {known} → {to}");
            self.check_change_after_end(a, &entity, what, known.is_in_flight());
        }
        let lc_current = self.lc_current;
        let act = &mut self.activities[a];
        let b = item_batch as usize - 1;
        if let Some(batch_state) = act.batches.get_mut(b) {
            match (known.is_in_flight(), to.is_in_flight()) {
                (false, true) => batch_state.in_flight += 1,
                (true, false) => batch_state.in_flight = batch_state.in_flight.saturating_sub(1),
                (true, true) | (false, false) => {}
            }
        }
        let item = act.items.get_mut(&instance).expect("checked above");
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
                InstanceStatus::Waiting
                | InstanceStatus::Init
                | InstanceStatus::Running
                | InstanceStatus::Cancelled
                | InstanceStatus::NotFound => {}
            }
        }
        self.touch(instance);
        if b < self.activities[a].batches.len() {
            self.touch_batch(a, b);
        }
    }

    fn reinstalled(
        &mut self,
        activity: Sym,
        instance: Sym,
        image: Sym,
        instance_type: Sym,
        lc_version: u32,
        fields: Option<u64>,
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
        let (lc_image, lc_fields) = match self.lc.get(&lc_version) {
            Some(&(image, fields)) => (Some(image), fields),
            None => (None, None),
        };
        // §1.1 rule 1, OQ-26: UserData, EnhancedService, HostName and LoginSettings always come
        // from the launch configuration read at reinstall start, rollbacks included.
        if let (Some(got), Some(want)) = (fields, lc_fields)
            && got != want
        {
            let kind = match self.activities[a].activity_type {
                ActivityType::Normal => "reinstalled",
                ActivityType::Rollback => "rolled back",
            };
            self.flag(
                Invariant::ReinstallFields,
                &entity,
                format!(
                    "{kind} with refreshable fields {}, but launch configuration v{lc_version} has {} (UserData, EnhancedService, HostName, LoginSettings)",
                    render_digest(got),
                    digest_text(Some(want))
                ),
            );
        }
        let act = &self.activities[a];
        match act.activity_type {
            ActivityType::Normal => {
                if lc_image != Some(image) {
                    self.flag(
                        Invariant::ReinstallFields,
                        &entity,
                        format!(
                            "reinstalled {} but launch configuration v{lc_version} has {}",
                            self.name(image),
                            lc_image
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
                self.activities[i].resume_granted = true;
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
        self.check_batches_progress();
        for a in 0..self.activities.len() {
            if let Some(batch) = self.activities[a].must_fail_pause
                && !self.resuming.contains(&self.activities[a].id)
            {
                let act = &self.activities[a];
                let name = self.name(act.id).to_string();
                let detail = format!(
                    "batch {batch} ended with a FAILED instance under FailProcess=AUTO_PAUSE, but the activity stayed {} instead of going to FAILED_PAUSE",
                    act.status
                );
                self.flag(Invariant::FailedBatchPauses, name, detail);
                self.activities[a].must_fail_pause = None;
            }
            if self.activities[a].settle_pending {
                self.activities[a].settle_pending = false;
                self.check_settled(a);
            }
        }
        self.check_capacity_floor();
    }

    /// INV-TERMINAL-SETTLED at the end of the instant an activity became terminal.
    fn check_settled(&mut self, a: usize) {
        let act = &self.activities[a];
        // OQ-26: a rolled-back origin's INIT/RUNNING instances finish after it ends.
        let allowed_in_flight = act.ended_by_rollback;
        let mut problems = Vec::new();
        for (k, b) in act.batches.iter().enumerate() {
            let in_flight = matches!(b.status, Some(BatchStatus::Init | BatchStatus::Running));
            if unsettled_batch(b.status) && !(allowed_in_flight && in_flight) {
                problems.push(format!("batch {} {}", k + 1, opt_text(b.status)));
            }
        }
        for (s, it) in &act.items {
            if unsettled_instance(it.status) && !(allowed_in_flight && it.status.is_in_flight()) {
                problems.push(format!("{} {}", self.name(*s), it.status));
            }
        }
        if !problems.is_empty() {
            let name = self.name(act.id).to_string();
            let total = problems.len();
            problems.truncate(5);
            let detail = format!(
                "{} with {total} batch(es)/instance(s) still WAITING, INIT or RUNNING: {}{}",
                act.status,
                problems.join(", "),
                if total > 5 { ", …" } else { "" }
            );
            self.flag(Invariant::TerminalSettled, name, detail);
        }
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
        let planned: BTreeSet<Sym> = act.items.keys().copied().collect();
        let eligible: BTreeSet<Sym> = act.eligible.iter().copied().collect();
        if planned != eligible {
            let names = |set: Vec<&Sym>| {
                let mut v: Vec<&str> = set.iter().take(5).map(|s| self.name(**s)).collect();
                if set.len() > 5 {
                    v.push("…");
                }
                v.join(", ")
            };
            let extra = names(planned.difference(&eligible).collect());
            let missing = names(eligible.difference(&planned).collect());
            let rule = match act.activity_type {
                ActivityType::Normal => {
                    "were IN_SERVICE and not in standby at Start (OQ-3)".to_string()
                }
                ActivityType::Rollback => format!(
                    "make OQ-25 rule 7's set (origin {} instances SUCCESSFUL, FAILED, INIT or RUNNING still in the group)",
                    act.origin.map(|o| self.name(o)).unwrap_or("?")
                ),
            };
            problems.push(format!(
                "{} instances planned but {} {rule}; planned but not eligible: [{extra}]; eligible but not planned: [{missing}]",
                planned.len(),
                eligible.len(),
            ));
        }
        for problem in problems {
            self.flag(Invariant::BatchPlan, &name, problem);
        }
    }

    /// INV-NOT-FOUND-NON-BLOCKING: a running batch has something in flight (checked for the
    /// batches the instant touched).
    fn check_batches_progress(&mut self) {
        let dirty = std::mem::take(&mut self.dirty_batches);
        for &(a, b) in &dirty {
            let batch = &mut self.activities[a].batches[b];
            batch.dirty = false;
            if matches!(batch.status, Some(BatchStatus::Init | BatchStatus::Running))
                && batch.in_flight == 0
            {
                let status = opt_text(batch.status);
                let entity = format!("{} batch {}", self.name(self.activities[a].id), b + 1);
                self.flag(
                    Invariant::NotFoundNeverBlocks,
                    entity,
                    format!("{status} with no instance INIT or RUNNING"),
                );
            }
        }
        self.dirty_batches = dirty;
        self.dirty_batches.clear();
    }

    /// One instance's capacity-floor contribution, from the records so far.
    fn contribution(&self, sym: Sym, inst: &Instance) -> Contribution {
        let mut c = Contribution {
            surge_in_service: inst.surge && inst.in_service(),
            ..Contribution::default()
        };
        let not_in_service = inst.state != LifeCycleState::InService;
        // A REPLACE replacement taken out from outside (a manual scale-in, a removal) takes
        // the capacity it stood in for with it.
        let replacement_lost = inst
            .replaced_by
            .and_then(|r| self.instances.get(&r))
            .is_some_and(|r| r.outside && !r.in_service());
        for &a in &inst.memberships {
            let act = &self.activities[a];
            let Some(item) = act.items.get(&sym) else {
                continue;
            };
            if act.status.is_terminal() && !item.status.is_in_flight() {
                continue;
            }
            c.member = true;
            let out = match act.mode {
                // OQ-10: out of service while reinstalled; gone; failed into standby; taken out
                // from outside.
                RefreshMode::RollingUpdateReset => {
                    item.status.is_in_flight()
                        || !inst.in_group
                        || (inst.refresh_failed && not_in_service)
                        || (inst.outside && not_in_service)
                }
                // OQ-11: the refresh's own removal of the old instance is not a loss (its
                // replacement stands in); only NOT_FOUND or an outside cause (including a
                // removal from outside after the item ended FAILED) is.
                RefreshMode::RollingUpdateReplace => {
                    item.status == InstanceStatus::NotFound
                        || (inst.outside && !inst.in_service())
                        || replacement_lost
                        || (inst.in_group && inst.refresh_failed && not_in_service)
                }
            };
            c.out |= out;
        }
        if c.member {
            let replacement_serves = inst
                .replaced_by
                .and_then(|r| self.instances.get(&r))
                .is_some_and(Instance::in_service);
            c.served = inst.in_service() || replacement_serves;
        }
        c
    }

    /// INV-CAPACITY-FLOOR at the end of an instant, from running sums.
    fn check_capacity_floor(&mut self) {
        let dirty = std::mem::take(&mut self.dirty_instances);
        for &s in &dirty {
            let Some(inst) = self.instances.get(&s) else {
                continue;
            };
            let new = self.contribution(s, inst);
            let inst = self.instances.get_mut(&s).expect("looked up above");
            let old = std::mem::replace(&mut inst.contribution, new);
            inst.dirty = false;
            self.floor_members += i64::from(new.member) - i64::from(old.member);
            self.floor_out += i64::from(new.member && new.out) - i64::from(old.member && old.out);
            self.floor_surge += i64::from(new.surge_in_service) - i64::from(old.surge_in_service);
            if new.member && !new.out && !new.served {
                self.unserved.insert(s);
            } else {
                self.unserved.remove(&s);
            }
        }
        self.dirty_instances = dirty;
        self.dirty_instances.clear();
        if self.floor_members == 0 || self.unserved.is_empty() {
            return;
        }
        let (e, out, u) = (self.floor_members, self.floor_out, self.floor_surge);
        let missing = self.unserved.len() as i64;
        let floor = e - out + u;
        let in_service = floor - missing;
        let names: Vec<&str> = self
            .unserved
            .iter()
            .take(5)
            .map(|s| self.name(*s))
            .collect();
        let detail = format!(
            "{in_service} in service < floor {floor} (E {e} − out {out} + surge {u}); out of service without cause: {}{}",
            names.join(", "),
            if missing > 5 { ", …" } else { "" }
        );
        self.flag(Invariant::CapacityFloor, "group", detail);
    }

    /// The activity in its MaxSurge scale-out phase, if any.
    fn scaling_out(&self) -> Option<usize> {
        self.activities
            .iter()
            .position(|a| a.phase == crate::timeline::Phase::SurgeOut)
    }

    fn in_flight_somewhere(&self, instance: Sym) -> bool {
        self.instances.get(&instance).is_some_and(|inst| {
            inst.memberships.iter().any(|&a| {
                self.activities[a]
                    .items
                    .get(&instance)
                    .is_some_and(|it| it.status.is_in_flight())
            })
        })
    }

    fn timeline_end(&mut self) {
        match self.run_end {
            Some(RunEndReason::Idle) => self.check_idle_end(),
            Some(RunEndReason::Bound | RunEndReason::Until) => {}
            None => {
                let live = self.live_surge;
                if live > 0 && self.activities.iter().all(|a| a.status.is_terminal()) {
                    self.flag(
                        Invariant::SurgeGone,
                        "group",
                        format!("{live} surge instances still alive at the end"),
                    );
                }
            }
        }
    }

    /// The run ended idle: nothing more will happen, so an activity neither paused nor
    /// terminal is stalled, and surge instances of ended activities are left behind.
    fn check_idle_end(&mut self) {
        let mut owned = 0;
        for a in 0..self.activities.len() {
            let act = &self.activities[a];
            owned += act.surge_live;
            let name = self.name(act.id).to_string();
            if !act.status.is_terminal() && !act.status.is_paused() {
                let in_flight: u32 = act.batches.iter().map(|b| b.in_flight).sum();
                let waiting = act
                    .items
                    .values()
                    .filter(|it| it.status == InstanceStatus::Waiting)
                    .count();
                let detail = format!(
                    "the run ended idle with the activity {} (batch {}, {in_flight} instance(s) INIT/RUNNING, {waiting} WAITING): nothing is left to move it (stalled)",
                    act.status, act.current_batch
                );
                self.flag(Invariant::NotFoundNeverBlocks, name, detail);
            } else if act.status.is_terminal() && act.surge_live > 0 {
                let detail = format!(
                    "the run ended idle with {} of its surge instances alive after it ended {}",
                    act.surge_live, act.status
                );
                self.flag(Invariant::SurgeGone, name, detail);
            }
        }
        let unowned = self.live_surge.saturating_sub(owned);
        if unowned > 0 {
            self.flag(
                Invariant::SurgeGone,
                "group",
                format!("the run ended idle with {unowned} surge instance(s) of no activity alive"),
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
