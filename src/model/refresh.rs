//! The refresh state machine: activities, batches and per-instance steps (spec §3, §10;
//! OQ-3, OQ-9 … OQ-13, OQ-21 … OQ-24). RESET reinstalls in place (OQ-10); REPLACE creates a new
//! instance per old one (OQ-11). API admission lives in `api`, surge phases in `surge`,
//! rollback creation in `rollback`.

use super::draws::{DelayKind, Draws, IdKind};
use super::world::{
    Activity, Batch, Deferred, HookScope, HookSubject, Item, OpKind, OpOwner, OpStart, Sabotage,
    Step, SurgeState, World,
};
use super::{Fx, Timer};
use crate::api::{
    ActivityStatus, ActivityType, BatchPause, BatchStatus, CreationType, FailProcess,
    InstanceStatus, LifeCycleState, LifecycleActionResult, LifecycleTransition, RefreshMode,
    RefreshSettings, ResumeMode, ScalingActivityStatus, ScalingActivityType,
};
use crate::hash::combine;
use crate::timeline::{Event, LifeCycleCause, Msg, Phase, ScalingCause, StatusCause, Sym};

/// OQ-1: batch sizes differ by at most one, larger batches first (5 over 3 → 2, 2, 1).
pub fn batch_sizes(instances: usize, batches: usize) -> Vec<usize> {
    assert!(
        batches >= 1 && batches <= instances.max(1),
        "validated before planning"
    );
    let (q, r) = (instances / batches, instances % batches);
    (0..batches).map(|k| q + usize::from(k < r)).collect()
}

/// OQ-10 step 5: passes when the target is healthy within the timeout.
fn passes_health(draws: &super::AttemptDraws, timeout_s: u64) -> bool {
    draws
        .health_pass_ms
        .is_some_and(|pass_ms| pass_ms <= timeout_s * 1000)
}

/// What `World::create_activity` creates.
pub(crate) struct NewActivity {
    pub activity_type: ActivityType,
    pub mode: RefreshMode,
    pub settings: RefreshSettings,
    /// The activity a rollback restores.
    pub origin: Option<u32>,
    /// (instance, image to restore), in batch order.
    pub members: Vec<(u32, Option<Sym>)>,
}

impl World {
    /// OQ-3/OQ-2: IN_SERVICE instances not in standby, ordered by (AddTime, InstanceId).
    pub(crate) fn eligible_instances(&self) -> Vec<u32> {
        let mut eligible: Vec<u32> = (0..self.instances.len() as u32)
            .filter(|&i| {
                let inst = &self.instances[i as usize];
                inst.in_group
                    && !inst.standby
                    && !inst.surge
                    && inst.state == LifeCycleState::InService
            })
            .collect();
        self.sort_by_add_time(&mut eligible);
        eligible
    }

    pub(crate) fn sort_by_add_time(&self, instances: &mut [u32]) {
        instances.sort_unstable_by(|&a, &b| {
            let (ia, ib) = (&self.instances[a as usize], &self.instances[b as usize]);
            ia.add_time_unix_s
                .cmp(&ib.add_time_unix_s)
                .then_with(|| self.compare_ids(ia, ib))
        });
    }

    /// Creates an activity in INIT with its batch plan frozen (OQ-1, OQ-2, OQ-3, OQ-9) and holds
    /// the group disabled (OQ-17).
    pub(crate) fn create_activity(
        &mut self,
        new: NewActivity,
        draws: &mut dyn Draws,
        fx: &mut Fx,
    ) -> u32 {
        let NewActivity {
            activity_type,
            mode,
            settings,
            origin,
            members,
        } = new;
        let id = self.fresh_id(IdKind::RefreshActivity, draws);
        let sizes = batch_sizes(members.len(), settings.batch_number as usize);
        let mut items = Vec::with_capacity(members.len());
        let mut batches = Vec::with_capacity(sizes.len());
        let mut next = members.into_iter();
        for (b, size) in sizes.iter().enumerate() {
            let start = items.len() as u32;
            let mut chunk: Vec<(u32, Option<Sym>)> = next.by_ref().take(*size).collect();
            // Inside a batch, instances are listed by InstanceId (OQ-2).
            chunk.sort_unstable_by(|x, y| {
                self.compare_ids(&self.instances[x.0 as usize], &self.instances[y.0 as usize])
            });
            for (instance, restore_image) in chunk {
                items.push(Item {
                    instance,
                    batch: b as u32,
                    status: InstanceStatus::Waiting,
                    msg: Msg::Empty,
                    last_activity: None,
                    attempt: 0,
                    step: Step::Idle,
                    generation: 0,
                    draws: Default::default(),
                    lc_version: 0,
                    pre_image: None,
                    restore_image,
                    skipped: false,
                    replacement: None,
                });
            }
            batches.push(Batch {
                status: BatchStatus::Waiting,
                started: None,
                ended: None,
                items: start..items.len() as u32,
                in_flight: 0,
                scaling_activity: None,
                remove_activity: None,
            });
        }
        let index = self.activities.len() as u32;
        let item = (std::mem::size_of::<Item>() + std::mem::size_of::<u32>()) as u64;
        self.item_bytes +=
            items.len() as u64 * item + (batches.len() * std::mem::size_of::<Batch>()) as u64;
        // Delays are drawn up front, keyed by (activity ordinal, batch), so they are CRN too.
        let batch_gaps_ms = (0..batches.len() as u64)
            .map(|b| draws.delay_ms(DelayKind::BatchGap, combine(&[u64::from(index), b])))
            .collect();
        let init_delay_ms = draws.delay_ms(DelayKind::InitDelay, combine(&[u64::from(index)]));
        fx.emit(Event::ActivityCreated {
            activity: id,
            group: self.group.id,
            activity_type,
            mode,
            settings,
            origin: origin.map(|o| self.activities[o as usize].id),
            instances: items.len() as u32,
        });
        for (b, batch) in batches.iter().enumerate() {
            fx.emit(Event::BatchStatus {
                activity: id,
                batch: b as u32 + 1,
                from: None,
                to: BatchStatus::Waiting,
                size: batch.items.len() as u32,
            });
        }
        for item in &items {
            fx.emit(Event::InstanceStatus {
                activity: id,
                batch: item.batch + 1,
                instance: self.instances[item.instance as usize].id,
                from: None,
                to: InstanceStatus::Waiting,
                msg: Msg::Empty,
                scaling_activity: None,
            });
        }
        self.activities.push(Activity {
            id,
            activity_type,
            mode,
            settings,
            status: ActivityStatus::Init,
            phase: Phase::Init,
            created: fx.now,
            started: None,
            ended: None,
            cursor: 0,
            batches,
            by_instance: Activity::index_by_instance(&items),
            items,
            origin,
            init_done: false,
            batch_gaps_ms,
            surge: SurgeState::default(),
            waiting_for_origin: false,
            deferred: None,
        });
        self.hold_group_disabled(fx);
        fx.after(init_delay_ms, Timer::InitDone { activity: index });
        index
    }

    // ------------------------------------------------------------------------------------
    // Timers
    // ------------------------------------------------------------------------------------

    pub fn on_timer(&mut self, timer: Timer, draws: &mut dyn Draws, fx: &mut Fx) {
        self.dispatch_timer(timer, draws, fx);
        self.settle(draws, fx);
    }

    fn dispatch_timer(&mut self, timer: Timer, draws: &mut dyn Draws, fx: &mut Fx) {
        match timer {
            Timer::InitDone { activity } => {
                let act = &mut self.activities[activity as usize];
                act.init_done = true;
                let runnable = matches!(act.status, ActivityStatus::Init | ActivityStatus::Running);
                if act.started.is_none() && runnable {
                    self.begin_when_ready(activity, draws, fx);
                }
            }
            Timer::NextBatch { activity, batch } => {
                let act = &self.activities[activity as usize];
                let due = act.status == ActivityStatus::Running
                    && act.cursor + 1 == batch
                    && act.batches[batch as usize].status == BatchStatus::Waiting;
                if due {
                    self.start_batch(activity, batch, draws, fx);
                }
            }
            Timer::ItemStep {
                activity,
                item,
                generation,
            } => self.on_item_step(activity, item as usize, generation, draws, fx),
            Timer::ScalingActivityEnd { scaling_activity } => {
                self.end_scaling_activity(scaling_activity, ScalingActivityStatus::Successful, fx);
                self.match_desired_capacity(draws, fx);
            }
            Timer::OpDone { op, generation } => self.on_op_done(op, generation, draws, fx),
            Timer::HookTimeout {
                run,
                hook,
                generation,
            } => self.on_hook_timer(run, hook, generation, None, draws, fx),
            Timer::HookAutoComplete {
                run,
                hook,
                generation,
                abandon,
            } => {
                let result = if abandon {
                    LifecycleActionResult::Abandon
                } else {
                    LifecycleActionResult::Continue
                };
                self.on_hook_timer(run, hook, generation, Some(result), draws, fx)
            }
        }
    }

    /// OQ-9/OQ-26: a rollback stays INIT while its origin still has instances in flight.
    pub(crate) fn begin_when_ready(&mut self, a: u32, draws: &mut dyn Draws, fx: &mut Fx) {
        let origin_busy = self.activities[a as usize]
            .origin
            .is_some_and(|o| self.activities[o as usize].in_flight() > 0);
        if origin_busy {
            self.activities[a as usize].waiting_for_origin = true;
            return;
        }
        self.activities[a as usize].waiting_for_origin = false;
        self.begin(a, draws, fx);
    }

    /// OQ-9: INIT → RUNNING, StartTime := now; the surge scale-out or the first batch starts.
    fn begin(&mut self, a: u32, draws: &mut dyn Draws, fx: &mut Fx) {
        if self.activities[a as usize].status == ActivityStatus::Init {
            self.set_status(a, ActivityStatus::Running, StatusCause::Started, fx);
        }
        self.activities[a as usize].started = Some(fx.now);
        if self.activities[a as usize].settings.max_surge > 0 {
            self.set_phase(a, Phase::SurgeOut, fx);
            self.start_surge_out(a, draws, fx);
        } else {
            self.set_phase(a, Phase::Batches, fx);
            self.start_batch(a, 0, draws, fx);
        }
    }

    /// After the origin's last in-flight instance ends, rollbacks waiting on it begin.
    fn wake_rollbacks(&mut self, origin: u32, draws: &mut dyn Draws, fx: &mut Fx) {
        if self.activities[origin as usize].in_flight() > 0 {
            return;
        }
        for r in 0..self.activities.len() as u32 {
            let act = &self.activities[r as usize];
            let waiting = act.origin == Some(origin)
                && act.waiting_for_origin
                && act.started.is_none()
                && matches!(act.status, ActivityStatus::Init | ActivityStatus::Running);
            if waiting {
                self.begin_when_ready(r, draws, fx);
            }
        }
    }

    // ------------------------------------------------------------------------------------
    // Batches (OQ-3, OQ-10, OQ-11, OQ-12, OQ-13)
    // ------------------------------------------------------------------------------------

    /// Can this instance be refreshed now (OQ-3)? `Err` says what its item becomes.
    fn refreshable(&self, instance: u32) -> Result<(), (InstanceStatus, Msg)> {
        let inst = &self.instances[instance as usize];
        if !inst.in_group {
            return Err((InstanceStatus::NotFound, Msg::NotFound));
        }
        let running = inst.state == LifeCycleState::InService || inst.held_by_refresh;
        if inst.standby || !running || inst.op.is_some() {
            return Err((InstanceStatus::Cancelled, Msg::NotRunning));
        }
        Ok(())
    }

    pub(crate) fn start_batch(&mut self, a: u32, b: u32, draws: &mut dyn Draws, fx: &mut Fx) {
        if self.held(a, Deferred::StartBatch(b)) {
            return;
        }
        {
            let act = &mut self.activities[a as usize];
            act.cursor = b;
            act.batches[b as usize].started = Some(fx.now);
        }
        self.set_batch(a, b, BatchStatus::Init, fx);
        let mut startable = Vec::new();
        for i in self.activities[a as usize].batch_items(b) {
            let item = &self.activities[a as usize].items[i];
            if item.status != InstanceStatus::Waiting {
                continue; // already NOT_FOUND
            }
            match self.refreshable(item.instance) {
                Ok(()) => startable.push(i),
                Err((status, msg)) => self.set_item(a, i, status, msg, fx),
            }
        }
        self.run_attempts(a, b, &startable, draws, fx);
        let next = b + 1;
        let sabotaged = self.sabotage == Sabotage::StartNextBatchEarly
            && (next as usize) < self.activities[a as usize].batches.len()
            && self.activities[a as usize].batches[next as usize].status == BatchStatus::Waiting;
        if sabotaged {
            self.start_batch(a, next, draws, fx);
        }
    }

    /// Starts one attempt per listed item as one scaling activity (OQ-10: one per batch
    /// attempt; a retry creates a new one; OQ-20 for its type).
    fn run_attempts(
        &mut self,
        a: u32,
        b: u32,
        items: &[usize],
        draws: &mut dyn Draws,
        fx: &mut Fx,
    ) {
        if items.is_empty() {
            self.finish_batch(a, b, draws, fx);
            return;
        }
        let activity_type = match self.activities[a as usize].mode {
            RefreshMode::RollingUpdateReset => ScalingActivityType::ResetInstances,
            RefreshMode::RollingUpdateReplace => ScalingActivityType::ScaleOut,
        };
        let sa = self.begin_scaling_activity(
            activity_type,
            Some(a),
            items.len() as u32,
            ScalingCause::Refresh,
            draws,
            fx,
        );
        {
            let batch = &mut self.activities[a as usize].batches[b as usize];
            batch.scaling_activity = Some(sa);
            batch.remove_activity = None;
            batch.ended = None; // a RETRY reopens a finished batch
        }
        self.set_batch(a, b, BatchStatus::Running, fx);
        for &i in items {
            self.begin_attempt(a, i, sa, draws, fx);
        }
    }

    /// OQ-14: puts item `i` in its hooks `step` and starts the EXTENSION hooks of `transition`
    /// on its instance; false when none applies.
    fn start_item_hooks(
        &mut self,
        a: u32,
        i: usize,
        step: Step,
        transition: LifecycleTransition,
        draws: &mut dyn Draws,
        fx: &mut Fx,
    ) -> bool {
        let item = &mut self.activities[a as usize].items[i];
        item.step = step;
        let instance = item.instance;
        let subject = HookSubject::Item {
            activity: a,
            item: i as u32,
        };
        self.start_hooks(
            subject,
            instance,
            transition,
            HookScope::ExtensionOnly,
            draws,
            fx,
        )
    }

    /// OQ-10 steps 1–3 (RESET) / OQ-11 (REPLACE).
    fn begin_attempt(&mut self, a: u32, i: usize, sa: u32, draws: &mut dyn Draws, fx: &mut Fx) {
        let sa_id = self.scaling_activities[sa as usize].id;
        let instance = self.activities[a as usize].items[i].instance;
        self.scaling_activities[sa as usize].related.push(instance);
        let (key, inst_id) = {
            let inst = &self.instances[instance as usize];
            (inst.key, inst.id)
        };
        {
            let act = &mut self.activities[a as usize];
            let item = &mut act.items[i];
            item.attempt += 1;
            item.generation += 1;
            item.last_activity = Some(sa_id);
            item.replacement = None;
            let inst = &mut self.instances[instance as usize];
            inst.refresh_attempts += 1;
            item.draws = draws.attempt(key, inst_id, inst.refresh_attempts);
            let b = item.batch as usize;
            act.batches[b].in_flight += 1;
        }
        self.set_item(a, i, InstanceStatus::Init, Msg::Empty, fx);
        match self.activities[a as usize].mode {
            RefreshMode::RollingUpdateReset => {
                // Step 1: leave service (CLB weight 0, standby; OQ-19 shows it as IN_STANDBY).
                self.instances[instance as usize].held_by_refresh = true;
                self.set_lifecycle(
                    instance,
                    LifeCycleState::InStandby,
                    LifeCycleCause::RefreshStart,
                    fx,
                );
                // Step 2: EXTENSION terminating hooks (OQ-14).
                let terminating = LifecycleTransition::InstanceTerminating;
                let hooked =
                    self.start_item_hooks(a, i, Step::TerminatingHooks, terminating, draws, fx);
                if !hooked {
                    self.start_reinstall(a, i, fx);
                }
            }
            RefreshMode::RollingUpdateReplace => {
                // OQ-11: the old instance stays in service while its replacement is created.
                self.set_item(a, i, InstanceStatus::Running, Msg::Empty, fx);
                if !self.has_room_for(1) {
                    self.fail_item(a, i, Msg::CreateFailed, fx); // the 2,000-instance cap (§6.2)
                    return;
                }
                self.activities[a as usize].items[i].step = Step::Creating;
                let new = self.new_instance_for(false, Some(inst_id), draws, fx);
                self.activities[a as usize].items[i].replacement = Some(new);
                let owner = OpOwner::ReplaceNew {
                    activity: a,
                    item: i as u32,
                };
                self.start_op(
                    OpStart::automatic(OpKind::Create, new, owner, sa),
                    draws,
                    fx,
                );
            }
        }
    }

    /// OQ-10 step 3 and OQ-16: the launch configuration is read now.
    fn start_reinstall(&mut self, a: u32, i: usize, fx: &mut Fx) {
        let instance = self.activities[a as usize].items[i].instance;
        self.set_lifecycle(
            instance,
            LifeCycleState::InStandby,
            LifeCycleCause::HookDone,
            fx,
        );
        self.set_item(a, i, InstanceStatus::Running, Msg::Empty, fx);
        let (lc_version, lc_image) = {
            let lc = self.current_lc();
            (lc.version, lc.image)
        };
        let item = &mut self.activities[a as usize].items[i];
        let target = item.restore_image.unwrap_or(lc_image);
        if self.missing_images.contains(&target) {
            self.fail_item(a, i, Msg::ImageNotFound, fx); // OQ-40
            return;
        }
        item.lc_version = lc_version;
        item.step = Step::Reinstalling;
        item.generation += 1;
        item.pre_image
            .get_or_insert(self.instances[instance as usize].image);
        fx.after(
            item.draws.reinstall_ms,
            Timer::ItemStep {
                activity: a,
                item: i as u32,
                generation: item.generation,
            },
        );
    }

    fn on_item_step(
        &mut self,
        a: u32,
        i: usize,
        generation: u32,
        draws: &mut dyn Draws,
        fx: &mut Fx,
    ) {
        let item = &self.activities[a as usize].items[i];
        if item.generation != generation || !item.status.is_in_flight() {
            return; // stale: the instance vanished or the attempt was superseded
        }
        match item.step {
            Step::Reinstalling => match self.reinstall_failure(a, i) {
                Some(msg) => self.fail_item(a, i, msg, fx),
                None => {
                    self.finish_reinstall(a, i, fx);
                    // Step 4: EXTENSION launching hooks (OQ-14).
                    let launching = LifecycleTransition::InstanceLaunching;
                    let hooked =
                        self.start_item_hooks(a, i, Step::LaunchingHooks, launching, draws, fx);
                    if !hooked {
                        self.check_health(a, i, draws, fx);
                    }
                }
            },
            Step::AwaitingHealth => {
                let timeout_s = self.activities[a as usize]
                    .settings
                    .check_instance_target_health_timeout_s;
                if passes_health(&item.draws, timeout_s) {
                    self.health_passed(a, i, draws, fx);
                } else {
                    let timeout_s = u32::try_from(timeout_s).unwrap_or(u32::MAX);
                    self.health_failed(a, i, Msg::HealthTimeout { timeout_s }, draws, fx);
                }
            }
            Step::Idle
            | Step::TerminatingHooks
            | Step::LaunchingHooks
            | Step::Creating
            | Step::RemovingOld => {}
        }
    }

    /// A hook run of a RESET item ended.
    pub(crate) fn item_hooks_done(
        &mut self,
        a: u32,
        i: usize,
        transition: LifecycleTransition,
        result: LifecycleActionResult,
        draws: &mut dyn Draws,
        fx: &mut Fx,
    ) {
        let item = &self.activities[a as usize].items[i];
        if !item.status.is_in_flight() {
            return;
        }
        // A hook run that ends after its item left the hooks step (stopped, cancelled, or a
        // run of the other transition) changes nothing.
        match transition {
            LifecycleTransition::InstanceTerminating => match item.step {
                // OQ-14: ABANDON on the terminating hook: the reinstall goes on anyway.
                Step::TerminatingHooks => self.start_reinstall(a, i, fx),
                Step::Idle
                | Step::Reinstalling
                | Step::LaunchingHooks
                | Step::AwaitingHealth
                | Step::Creating
                | Step::RemovingOld => {}
            },
            LifecycleTransition::InstanceLaunching => match item.step {
                Step::LaunchingHooks => match result {
                    LifecycleActionResult::Continue => self.check_health(a, i, draws, fx),
                    // OQ-14: ABANDON on the launching hook fails the refresh; the instance is
                    // kept.
                    LifecycleActionResult::Abandon => self.fail_item(a, i, Msg::HookAbandoned, fx),
                },
                Step::Idle
                | Step::TerminatingHooks
                | Step::Reinstalling
                | Step::AwaitingHealth
                | Step::Creating
                | Step::RemovingOld => {}
            },
        }
    }

    /// Why this reinstall fails, if it does: a sampled or scripted failure, or an image that
    /// does not boot (`faults.bad_images`).
    fn reinstall_failure(&self, a: u32, i: usize) -> Option<Msg> {
        let item = &self.activities[a as usize].items[i];
        if let Some(msg) = item.draws.reinstall_failure {
            return Some(msg);
        }
        let image = item
            .restore_image
            .unwrap_or(self.launch_configs[item.lc_version as usize].image);
        self.bad_images
            .contains(&image)
            .then_some(Msg::ImageDoesNotBoot(image))
    }

    /// Writes the refreshable fields read at reinstall start onto the instance (§3.4).
    fn finish_reinstall(&mut self, a: u32, i: usize, fx: &mut Fx) {
        let act = &self.activities[a as usize];
        let item = &act.items[i];
        let lc = &self.launch_configs[item.lc_version as usize];
        let image = item.restore_image.unwrap_or(lc.image);
        let fields = lc.spec.fields_digest();
        let (activity, batch, lc_version, instance) =
            (act.id, item.batch + 1, item.lc_version, item.instance);
        let inst = &mut self.instances[instance as usize];
        inst.image = image;
        inst.config_version = Some(lc_version);
        fx.emit(Event::Reinstalled {
            activity,
            batch,
            instance: inst.id,
            image,
            instance_type: inst.instance_type,
            lc_version,
            fields: Some(fields),
        });
    }

    /// OQ-10 step 5: CLB target health, only with a forward CLB bound (§2.1). For REPLACE the
    /// new instance is checked (OQ-11).
    fn check_health(&mut self, a: u32, i: usize, draws: &mut dyn Draws, fx: &mut Fx) {
        let settings = self.activities[a as usize].settings;
        let instance = self.activities[a as usize].items[i].instance;
        if self.activities[a as usize].mode == RefreshMode::RollingUpdateReset {
            self.set_lifecycle(
                instance,
                LifeCycleState::InStandby,
                LifeCycleCause::HookDone,
                fx,
            );
        }
        if !(settings.check_instance_target_health && self.group.forward_clb) {
            self.health_passed(a, i, draws, fx);
            return;
        }
        let item = &mut self.activities[a as usize].items[i];
        item.step = Step::AwaitingHealth;
        item.generation += 1;
        let timeout_ms = settings.check_instance_target_health_timeout_s * 1000;
        let wait_ms = match item.draws.health_pass_ms {
            Some(pass_ms) if pass_ms <= timeout_ms => pass_ms,
            Some(_) | None => timeout_ms,
        };
        fx.after(
            wait_ms,
            Timer::ItemStep {
                activity: a,
                item: i as u32,
                generation: item.generation,
            },
        );
    }

    fn health_passed(&mut self, a: u32, i: usize, draws: &mut dyn Draws, fx: &mut Fx) {
        let checked = self.checked_instance(a, i);
        self.instances[checked as usize].health = crate::api::HealthStatus::Healthy;
        match self.activities[a as usize].mode {
            RefreshMode::RollingUpdateReset => self.succeed_item(a, i, fx),
            RefreshMode::RollingUpdateReplace => self.remove_old(a, i, draws, fx),
        }
    }

    /// §2.1: a failed target-health check fails the instance, its CLB weight stays 0.
    /// The instance whose target health a refresh item checks: the reinstalled one (RESET)
    /// or its replacement (REPLACE, OQ-11).
    fn checked_instance(&self, a: u32, i: usize) -> u32 {
        let item = &self.activities[a as usize].items[i];
        match self.activities[a as usize].mode {
            RefreshMode::RollingUpdateReset => item.instance,
            RefreshMode::RollingUpdateReplace => item.replacement.unwrap_or(item.instance),
        }
    }

    fn health_failed(&mut self, a: u32, i: usize, msg: Msg, draws: &mut dyn Draws, fx: &mut Fx) {
        // OQ-90: the instance failed the CLB target-health check.
        let checked = self.checked_instance(a, i);
        self.instances[checked as usize].health = crate::api::HealthStatus::ClbUnhealthy;
        if self.activities[a as usize].mode == RefreshMode::RollingUpdateReplace {
            // OQ-11, OQ-53: the unhealthy new instance is released; the old one stays in
            // service. The release is a real destruction (TERMINATING for instance_destroy,
            // then DESTROYED), part of the batch's SCALE_OUT activity that created it.
            let item = &self.activities[a as usize].items[i];
            let sa = self.activities[a as usize].batches[item.batch as usize].scaling_activity;
            if let (Some(new), Some(sa)) = (item.replacement, sa) {
                let owner = OpOwner::Released;
                self.start_op(
                    OpStart::automatic(OpKind::Destroy, new, owner, sa).cannot_fail(),
                    draws,
                    fx,
                );
            }
        }
        self.fail_item(a, i, msg, fx);
    }

    // ---- REPLACE (OQ-11) -------------------------------------------------------------------

    /// The new instance of a REPLACE item finished creating (hooks included).
    pub(crate) fn on_replacement_created(
        &mut self,
        a: u32,
        i: usize,
        ok: bool,
        draws: &mut dyn Draws,
        fx: &mut Fx,
    ) {
        let item = &self.activities[a as usize].items[i];
        if !item.status.is_in_flight() || item.step != Step::Creating {
            return; // the item ended meanwhile (old instance gone): the new instance just stays
        }
        if !ok {
            self.fail_item(a, i, Msg::CreateFailed, fx);
            return;
        }
        self.check_health(a, i, draws, fx);
    }

    /// OQ-11: the old instance is removed once the new one is in service (and healthy):
    /// destroyed if auto-created, detached if manually attached.
    fn remove_old(&mut self, a: u32, i: usize, draws: &mut dyn Draws, fx: &mut Fx) {
        let (b, old) = {
            let item = &self.activities[a as usize].items[i];
            (item.batch, item.instance)
        };
        // OQ-11, OQ-65: the batch's REMOVE_INSTANCES activity counts the old instances it
        // actually removes (one more each time), not the batch's in-flight items, some of which
        // may still fail and keep their old instance.
        let sa = match self.activities[a as usize].batches[b as usize].remove_activity {
            Some(sa) => {
                self.scaling_activities[sa as usize].instances += 1;
                sa
            }
            None => {
                let sa = self.begin_scaling_activity(
                    ScalingActivityType::RemoveInstances,
                    Some(a),
                    1,
                    ScalingCause::Refresh,
                    draws,
                    fx,
                );
                self.activities[a as usize].batches[b as usize].remove_activity = Some(sa);
                sa
            }
        };
        let kind = match self.instances[old as usize].creation {
            CreationType::AutoCreation => OpKind::Destroy,
            CreationType::ManualAttaching => OpKind::Detach,
        };
        let item = &mut self.activities[a as usize].items[i];
        item.step = Step::RemovingOld;
        let owner = OpOwner::ReplaceOld {
            activity: a,
            item: i as u32,
        };
        self.start_op(
            OpStart::automatic(kind, old, owner, sa).cannot_fail(),
            draws,
            fx,
        );
    }

    pub(crate) fn on_old_removed(
        &mut self,
        a: u32,
        i: usize,
        _ok: bool,
        _draws: &mut dyn Draws,
        fx: &mut Fx,
    ) {
        let act = &self.activities[a as usize];
        let item = &act.items[i];
        if item.status.is_in_flight() && item.step == Step::RemovingOld {
            // OQ-56: LastActivityId moves to the REMOVE_INSTANCES activity when the removal
            // completes, with the record that says so.
            let remove = act.batches[item.batch as usize].remove_activity;
            if let Some(sa) = remove {
                self.activities[a as usize].items[i].last_activity =
                    Some(self.scaling_activities[sa as usize].id);
            }
            self.set_item(a, i, InstanceStatus::Successful, Msg::Success, fx);
            self.item_done(a, i);
        }
    }

    // ---- End of an attempt -------------------------------------------------------------------

    /// OQ-10 step 6.
    fn succeed_item(&mut self, a: u32, i: usize, fx: &mut Fx) {
        self.set_item(a, i, InstanceStatus::Successful, Msg::Success, fx);
        let instance = self.activities[a as usize].items[i].instance;
        if self.sabotage != Sabotage::LeaveInStandby {
            self.instances[instance as usize].held_by_refresh = false;
            self.set_lifecycle(
                instance,
                LifeCycleState::InService,
                LifeCycleCause::RefreshDone,
                fx,
            );
        }
        self.item_done(a, i);
    }

    /// RESET: a failed instance stays in standby with CLB weight 0 (§3.4, §1.5 rule 3).
    /// REPLACE: the old instance stays in service (OQ-11).
    pub(crate) fn fail_item(&mut self, a: u32, i: usize, msg: Msg, fx: &mut Fx) {
        self.set_item(a, i, InstanceStatus::Failed, msg, fx);
        let instance = self.activities[a as usize].items[i].instance;
        let inst = &self.instances[instance as usize];
        if inst.in_group && inst.held_by_refresh {
            self.set_lifecycle(
                instance,
                LifeCycleState::InStandby,
                LifeCycleCause::RefreshDone,
                fx,
            );
        }
        self.item_done(a, i);
    }

    /// An attempt ended; the batch is finished by `settle` once nothing else is in flight.
    pub(crate) fn item_done(&mut self, a: u32, i: usize) {
        let act = &mut self.activities[a as usize];
        let item = &mut act.items[i];
        item.step = Step::Idle;
        item.generation += 1;
        let b = item.batch;
        let batch = &mut act.batches[b as usize];
        batch.in_flight -= 1;
        if batch.in_flight == 0 {
            self.pending_batch_ends.push((a, b));
        }
    }

    /// Finishes the batches whose last in-flight instance ended during this transition, in
    /// the order they became idle. Deferring it keeps a batch end (which can start the next
    /// batch, cancel, or roll back) out of the middle of per-instance loops. Every entry point
    /// (`submit`, `on_timer`, `apply_change`) ends with it.
    /// A step woken by `wake_deferred` (OQ-66) can end a batch at once (an instance failing
    /// as it starts, e.g. on a missing image), so this repeats until no batch end is pending.
    pub(crate) fn settle(&mut self, draws: &mut dyn Draws, fx: &mut Fx) {
        loop {
            let mut next = 0;
            while next < self.pending_batch_ends.len() {
                let (a, b) = self.pending_batch_ends[next];
                next += 1;
                self.finish_batch(a, b, draws, fx);
            }
            self.pending_batch_ends.clear();
            self.wake_deferred(draws, fx);
            if std::mem::take(&mut self.matching_due) {
                self.match_desired_capacity(draws, fx);
            }
            if self.pending_batch_ends.is_empty() {
                break;
            }
        }
    }

    /// OQ-12: the batch's status once nothing is in flight.
    fn finish_batch(&mut self, a: u32, b: u32, draws: &mut dyn Draws, fx: &mut Fx) {
        let act = &self.activities[a as usize];
        if act.batches[b as usize].in_flight > 0 {
            return;
        }
        let (mut ok, mut failed) = (0u32, 0u32);
        for i in act.batch_items(b) {
            match act.items[i].status {
                InstanceStatus::Successful => ok += 1,
                InstanceStatus::Failed => failed += 1,
                InstanceStatus::NotFound | InstanceStatus::Cancelled => {}
                InstanceStatus::Waiting | InstanceStatus::Init | InstanceStatus::Running => {
                    unreachable!("a batch finishes only when nothing is in flight")
                }
            }
        }
        let status = match (ok, failed) {
            (_, 0) => BatchStatus::Successful,
            (0, _) => BatchStatus::Failed,
            (_, _) => BatchStatus::PartiallySuccessful,
        };
        // A batch keeps its EndTime when a RETRY with nothing left to retry leaves its status
        // unchanged (no record, so no silent change either).
        let batch = &mut self.activities[a as usize].batches[b as usize];
        if batch.status != status || batch.ended.is_none() {
            batch.ended = Some(fx.now);
        }
        self.set_batch(a, b, status, fx);
        let sa_status = match status {
            BatchStatus::Successful => ScalingActivityStatus::Successful,
            BatchStatus::Failed => ScalingActivityStatus::Failed,
            BatchStatus::PartiallySuccessful => ScalingActivityStatus::PartiallySuccessful,
            BatchStatus::Waiting
            | BatchStatus::Init
            | BatchStatus::Running
            | BatchStatus::Cancelled => {
                unreachable!("finished batches only")
            }
        };
        let batch = &self.activities[a as usize].batches[b as usize];
        let remove = batch.remove_activity;
        if let Some(sa) = batch.scaling_activity {
            self.end_scaling_activity(sa, sa_status, fx); // OQ-45
        }
        if let Some(sa) = remove {
            // OQ-65: the REMOVE_INSTANCES activity ends with its own result: every removal it
            // made succeeded (an old instance's removal cannot fail, OQ-11).
            self.end_scaling_activity(sa, ScalingActivityStatus::Successful, fx);
        }
        self.after_batch(a, b, draws, fx);
        self.wake_rollbacks(a, draws, fx);
    }

    /// OQ-13: what happens after a batch ends, in the documented order.
    fn after_batch(&mut self, a: u32, b: u32, draws: &mut dyn Draws, fx: &mut Fx) {
        let act = &self.activities[a as usize];
        if act.status.is_terminal() {
            return; // cancelled or rolled back while this batch finished its in-flight instances
        }
        if act.phase == Phase::Failing {
            self.fail_if_settled(a, draws, fx); // OQ-64: no FailProcess, no next batch
            return;
        }
        let has_failed = act
            .batch_items(b)
            .any(|i| act.items[i].status == InstanceStatus::Failed && !act.items[i].skipped)
            && self.sabotage != Sabotage::IgnoreFailures;
        if has_failed {
            // OQ-26: AUTO_ROLLBACK on a ROLLBACK activity is treated as AUTO_PAUSE. OQ-55: so
            // is AUTO_ROLLBACK on a ROLLING_UPDATE_REPLACE activity, which cannot be rolled back
            // (§1.6 rule 6, OQ-25 step 3): replaced instances are gone and cannot be restored.
            let no_rollback = act.activity_type == ActivityType::Rollback
                || act.mode == RefreshMode::RollingUpdateReplace;
            let policy = match act.settings.fail_process {
                FailProcess::AutoRollback if no_rollback => FailProcess::AutoPause,
                p => p,
            };
            match policy {
                FailProcess::AutoPause => {
                    self.set_status(a, ActivityStatus::FailedPause, StatusCause::BatchFailed, fx);
                }
                FailProcess::AutoCancel => self.cancel_now(a, StatusCause::AutoCancel, draws, fx),
                FailProcess::AutoRollback => self.auto_rollback(a, draws, fx),
            }
            return;
        }
        if act.status == ActivityStatus::ManualPause {
            return; // OQ-13 step 2
        }
        self.advance_after_success(a, b, draws, fx);
    }

    /// OQ-13 steps 3–4 after a batch that ended without (unskipped) failures.
    fn advance_after_success(&mut self, a: u32, b: u32, draws: &mut dyn Draws, fx: &mut Fx) {
        let act = &self.activities[a as usize];
        let last = b as usize + 1 == act.batches.len();
        if last {
            self.batches_done(a, draws, fx);
            return;
        }
        let pause = match act.settings.batch_pause {
            BatchPause::FirstBatchPause => b == 0,
            BatchPause::BatchIntervalPause => true,
            BatchPause::Automatic => false,
        };
        if pause {
            self.set_status(a, ActivityStatus::AutoPause, StatusCause::PausePolicy, fx);
        } else {
            let gap_ms = act.batch_gaps_ms[b as usize];
            fx.after(
                gap_ms,
                Timer::NextBatch {
                    activity: a,
                    batch: b + 1,
                },
            );
        }
    }

    /// After a Resume: the next batch starts at once (a Resume passes any pause), or the
    /// activity moves on after the last batch.
    fn advance(&mut self, a: u32, b: u32, draws: &mut dyn Draws, fx: &mut Fx) {
        let act = &self.activities[a as usize];
        if b as usize + 1 == act.batches.len() {
            self.batches_done(a, draws, fx);
        } else {
            self.start_batch(a, b + 1, draws, fx);
        }
    }

    /// OQ-13 step 4: after the last batch, the surge scale-in (OQ-8), else SUCCESSFUL.
    fn batches_done(&mut self, a: u32, draws: &mut dyn Draws, fx: &mut Fx) {
        if self.activities[a as usize].surge.instances.is_empty() {
            self.set_status(a, ActivityStatus::Successful, StatusCause::Completed, fx);
        } else {
            self.set_phase(a, Phase::SurgeIn, fx);
            self.start_surge_in(a, draws, fx);
        }
    }

    // ------------------------------------------------------------------------------------
    // OQ-66: a refresh's scaling activities wait for the others
    // ------------------------------------------------------------------------------------

    /// OQ-66: whether `step` of activity `a` must wait because a scaling activity that is not
    /// `a`'s own runs; then it is kept, and `wake_deferred` runs it once none does.
    pub(crate) fn held(&mut self, a: u32, step: Deferred) -> bool {
        let held = self.sabotage != Sabotage::OverlapScalingActivities
            && self.other_scaling_activity_runs(a);
        self.activities[a as usize].deferred = held.then_some(step);
        held
    }

    /// OQ-66: runs each held step whose activity is still where it was held (a step held while
    /// RUNNING is dropped by a pause; the Resume that ends the pause asks for it again).
    fn wake_deferred(&mut self, draws: &mut dyn Draws, fx: &mut Fx) {
        for a in 0..self.activities.len() as u32 {
            let Some(step) = self.activities[a as usize].deferred else {
                continue;
            };
            if self.other_scaling_activity_runs(a) {
                continue;
            }
            self.activities[a as usize].deferred = None;
            let act = &self.activities[a as usize];
            if step != Deferred::SurgeCleanup && act.status != ActivityStatus::Running {
                continue;
            }
            match step {
                Deferred::StartBatch(b) => {
                    let due = act.phase == Phase::Batches
                        && act.batches[b as usize].status == BatchStatus::Waiting;
                    if due {
                        self.start_batch(a, b, draws, fx);
                    }
                }
                Deferred::Retry => {
                    if act.phase == Phase::Batches {
                        self.resume_batches(a, ResumeMode::Retry, draws, fx);
                    }
                }
                Deferred::SurgeOut => {
                    if act.phase == Phase::SurgeOut && act.surge.in_flight == 0 {
                        self.start_surge_out(a, draws, fx);
                    }
                }
                Deferred::SurgeIn => {
                    if act.phase == Phase::SurgeIn && act.surge.in_flight == 0 {
                        self.start_surge_in(a, draws, fx);
                    }
                }
                Deferred::SurgeCleanup => self.clean_up_surge(a, draws, fx),
            }
        }
    }

    // ------------------------------------------------------------------------------------
    // Resume and cancel work (admission in `api`)
    // ------------------------------------------------------------------------------------

    /// OQ-22 (and §1.4 for surge failures): what a Resume does once the status is RUNNING.
    pub(crate) fn resume_work(
        &mut self,
        a: u32,
        mode: ResumeMode,
        draws: &mut dyn Draws,
        fx: &mut Fx,
    ) {
        let act = &self.activities[a as usize];
        if act.started.is_none() {
            // Paused during INIT: start now if the init delay already elapsed, else on its timer.
            if act.init_done {
                self.begin_when_ready(a, draws, fx);
            }
            return;
        }
        match act.phase {
            Phase::SurgeOut => {
                if act.surge.in_flight > 0 {
                    return; // the scale-out carries on
                }
                // §1.4: Resume retries a failed scale-out; OQ-66: one held before it began
                // starts now.
                let missing = act.surge.instances.len() < act.settings.max_surge as usize;
                if act.surge.failed || missing {
                    self.start_surge_out(a, draws, fx);
                } else {
                    self.set_phase(a, Phase::Batches, fx);
                    self.start_batch(a, 0, draws, fx);
                }
            }
            Phase::SurgeIn => {
                if act.surge.in_flight == 0 {
                    self.start_surge_in(a, draws, fx); // OQ-7: Resume retries the destruction
                }
            }
            Phase::Batches => self.resume_batches(a, mode, draws, fx),
            Phase::Init | Phase::Failing | Phase::Done => {}
        }
    }

    fn resume_batches(&mut self, a: u32, mode: ResumeMode, draws: &mut dyn Draws, fx: &mut Fx) {
        let act = &self.activities[a as usize];
        let b = act.cursor;
        if act.batches[b as usize].in_flight > 0 {
            return; // manual pause mid-batch: the batch just carries on
        }
        let failed: Vec<usize> = act
            .batch_items(b)
            .filter(|&i| act.items[i].status == InstanceStatus::Failed && !act.items[i].skipped)
            .collect();
        if failed.is_empty() {
            // ResumeMode is ignored when the current batch has no failed instance.
            self.advance(a, b, draws, fx);
            return;
        }
        match mode {
            ResumeMode::Retry => {
                if !self.held(a, Deferred::Retry) {
                    self.retry_items(a, b, &failed, draws, fx);
                }
            }
            ResumeMode::Continue => {
                for &i in &failed {
                    let act = &mut self.activities[a as usize];
                    act.items[i].skipped = true;
                    let instance = self.instances[act.items[i].instance as usize].id;
                    fx.emit(Event::InstanceSkipped {
                        activity: act.id,
                        batch: b + 1,
                        instance,
                    });
                }
                // The Resume also counts as passing any inter-batch pause (OQ-22).
                self.advance(a, b, draws, fx);
            }
        }
    }

    /// OQ-22 RETRY: the current batch's failed instances go FAILED → WAITING → INIT again in a
    /// new scaling activity.
    fn retry_items(
        &mut self,
        a: u32,
        b: u32,
        failed: &[usize],
        draws: &mut dyn Draws,
        fx: &mut Fx,
    ) {
        let mut startable = Vec::with_capacity(failed.len());
        for &i in failed {
            let instance = self.activities[a as usize].items[i].instance;
            match self.refreshable(instance) {
                Ok(()) => {
                    self.set_item(a, i, InstanceStatus::Waiting, Msg::Empty, fx);
                    startable.push(i);
                }
                // OQ-42: gone → NOT_FOUND; stopped or standby meanwhile → stays FAILED.
                Err((InstanceStatus::NotFound, msg)) => {
                    self.set_item(a, i, InstanceStatus::NotFound, msg, fx)
                }
                Err(_) => {}
            }
        }
        self.run_attempts(a, b, &startable, draws, fx);
    }

    /// §1.5 / OQ-24 effects: waiting batches and their waiting instances → CANCELLED; finished
    /// batches unchanged; FAILED instances stay in standby; surge instances destroyed.
    pub(crate) fn cancel_now(
        &mut self,
        a: u32,
        cause: StatusCause,
        draws: &mut dyn Draws,
        fx: &mut Fx,
    ) {
        self.cancel_waiting(a, fx);
        self.clean_up_surge(a, draws, fx);
        self.set_status(a, ActivityStatus::Cancelled, cause, fx);
    }

    /// OQ-23/OQ-34, OQ-64: an injected unrecoverable error. Waiting batches and instances are
    /// CANCELLED at once; nothing new starts (phase FAILING); instances and surge operations
    /// already in flight finish as they would (§1.3 rule 2, OQ-21: in-flight work is never cut
    /// off); when nothing is in flight the surge instances are destroyed (as after a cancel,
    /// OQ-24) and the activity goes FAILED, so its EndTime is never before its batches' and the
    /// group is restored (OQ-17) only then.
    pub(crate) fn internal_error(&mut self, a: u32, draws: &mut dyn Draws, fx: &mut Fx) {
        self.cancel_waiting(a, fx);
        for i in 0..self.activities[a as usize].items.len() {
            if self.activities[a as usize].items[i].status == InstanceStatus::Waiting {
                self.set_item(a, i, InstanceStatus::Cancelled, Msg::Cancelled, fx);
            }
        }
        self.set_phase(a, Phase::Failing, fx);
        self.fail_if_settled(a, draws, fx);
    }

    /// OQ-64: a FAILING activity with nothing in flight goes FAILED.
    pub(crate) fn fail_if_settled(&mut self, a: u32, draws: &mut dyn Draws, fx: &mut Fx) {
        let act = &self.activities[a as usize];
        if act.status.is_terminal() || act.in_flight() > 0 || act.surge.in_flight > 0 {
            return;
        }
        self.clean_up_surge(a, draws, fx);
        self.set_status(a, ActivityStatus::Failed, StatusCause::InternalError, fx);
    }

    pub(crate) fn cancel_waiting(&mut self, a: u32, fx: &mut Fx) {
        let batches = self.activities[a as usize].batches.len() as u32;
        for b in 0..batches {
            if self.activities[a as usize].batches[b as usize].status != BatchStatus::Waiting {
                continue;
            }
            for i in self.activities[a as usize].batch_items(b) {
                if self.activities[a as usize].items[i].status == InstanceStatus::Waiting {
                    self.set_item(a, i, InstanceStatus::Cancelled, Msg::Cancelled, fx);
                }
            }
            self.set_batch(a, b, BatchStatus::Cancelled, fx);
        }
    }

    // ------------------------------------------------------------------------------------
    // Status setters: every change is exactly one record
    // ------------------------------------------------------------------------------------

    pub(crate) fn set_status(
        &mut self,
        a: u32,
        to: ActivityStatus,
        cause: StatusCause,
        fx: &mut Fx,
    ) {
        let act = &mut self.activities[a as usize];
        let from = act.status;
        if from == to {
            return;
        }
        // INV-TERMINAL: a refresh activity never leaves a terminal status.
        debug_assert!(
            !from.is_terminal(),
            "activity {a} would go from terminal {from:?} to {to:?}"
        );
        act.status = to;
        fx.emit(Event::ActivityStatus {
            activity: act.id,
            from,
            to,
            cause,
        });
        if to.is_terminal() {
            act.ended = Some(fx.now);
            self.set_phase(a, Phase::Done, fx);
            self.release_group_if_idle(fx);
        }
    }

    pub(crate) fn set_phase(&mut self, a: u32, to: Phase, fx: &mut Fx) {
        let act = &mut self.activities[a as usize];
        if act.phase != to {
            fx.emit(Event::Phase {
                activity: act.id,
                from: act.phase,
                to,
            });
            act.phase = to;
        }
    }

    fn set_batch(&mut self, a: u32, b: u32, to: BatchStatus, fx: &mut Fx) {
        let act = &mut self.activities[a as usize];
        let batch = &mut act.batches[b as usize];
        let from = batch.status;
        if from == to {
            return;
        }
        debug_assert!(
            !matches!(from, BatchStatus::Successful | BatchStatus::Cancelled),
            "batch {b} of activity {a} would go from terminal {from:?} to {to:?}"
        );
        batch.status = to;
        fx.emit(Event::BatchStatus {
            activity: act.id,
            batch: b + 1,
            from: Some(from),
            to,
            size: batch.items.len() as u32,
        });
    }

    pub(crate) fn set_item(&mut self, a: u32, i: usize, to: InstanceStatus, msg: Msg, fx: &mut Fx) {
        let act = &mut self.activities[a as usize];
        let item = &mut act.items[i];
        let from = item.status;
        debug_assert!(
            !matches!(
                from,
                InstanceStatus::Successful | InstanceStatus::Cancelled | InstanceStatus::NotFound
            ),
            "instance {i} of activity {a} would go from terminal {from:?} to {to:?}"
        );
        item.status = to;
        item.msg = msg;
        fx.emit(Event::InstanceStatus {
            activity: act.id,
            batch: item.batch + 1,
            instance: self.instances[item.instance as usize].id,
            from: Some(from),
            to,
            msg,
            scaling_activity: item.last_activity,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oq1_five_over_three_is_two_two_one() {
        assert_eq!(batch_sizes(5, 3), vec![2, 2, 1]);
        assert_eq!(batch_sizes(6, 3), vec![2, 2, 2]);
        assert_eq!(batch_sizes(2000, 20), vec![100; 20]);
        assert_eq!(batch_sizes(7, 7), vec![1; 7]);
        assert_eq!(batch_sizes(10, 4), vec![3, 3, 2, 2]);
    }
}
