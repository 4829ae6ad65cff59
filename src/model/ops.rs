//! Instance operations (create, destroy, detach) and lifecycle hooks (§6.8, §3.10, OQ-14).
//!
//! Every instance that joins or leaves the group outside a RESET reinstall goes through an `Op`:
//! surge scale-out and scale-in (OQ-7), REPLACE (OQ-11), manual APIs and desired-capacity
//! matching. Hooks run as a `HookRun`: the group's matching hooks one after another; the first
//! ABANDON ends the run and the rest report `ANOTHER_ACTION_ABANDON`.

use super::draws::{Draws, IdKind};
use super::world::{
    HookRun, HookScope, HookSubject, InstanceSpec, Op, OpKind, OpOwner, OpStage, OpStart, World,
};
use super::{Fx, Timer};
use crate::api::{
    CreationType, HookResultReason, LifeCycleState, LifecycleActionResult, LifecycleTransition,
    LifecycleTransitionType,
};
use crate::timeline::{Departure, Event, LifeCycleCause, Sym};

impl World {
    /// A new instance from the current launch configuration, joining in `CREATING`.
    pub fn new_instance(&mut self, surge: bool, draws: &mut dyn Draws, fx: &mut Fx) -> u32 {
        self.new_instance_for(surge, None, draws, fx)
    }

    /// As `new_instance`; `replaces` names the frozen instance a REPLACE-mode instance stands
    /// in for (OQ-11), recorded in its `instance_joined`.
    pub fn new_instance_for(
        &mut self,
        surge: bool,
        replaces: Option<Sym>,
        draws: &mut dyn Draws,
        fx: &mut Fx,
    ) -> u32 {
        let id = self.fresh_id(IdKind::Instance, draws);
        let lc = self.current_lc().clone();
        let spec = InstanceSpec {
            id: self.names.get(id).to_string(),
            state: LifeCycleState::Creating,
            standby: false,
            protected: false,
            image_id: lc.spec.image_id.clone(),
            instance_type: lc.spec.instance_type.clone(),
            creation: CreationType::AutoCreation,
            add_time_unix_s: self.epoch.unix_secs() + fx.now.as_ms() / 1000,
            zone: 0, // OQ-89: MultiZoneSubnetPolicy PRIORITY, the first zone
        };
        let created = Some((lc.spec.fields_digest(), replaces));
        let index = self.add_created_instance(&spec, surge, created, fx);
        self.instances[index as usize].config_version = Some(lc.version);
        index
    }

    /// Starts an operation on an instance as part of a scaling activity.
    pub fn start_op(&mut self, start: OpStart, draws: &mut dyn Draws, fx: &mut Fx) -> u32 {
        let OpStart {
            kind,
            instance,
            owner,
            scaling_activity,
            hooks,
            may_fail,
        } = start;
        let inst = &mut self.instances[instance as usize];
        inst.ops_seen += 1;
        let sample = draws.op(inst.key, kind != OpKind::Create, inst.ops_seen);
        let op = self.ops.len() as u32;
        let related = &mut self.scaling_activities[scaling_activity as usize].related;
        if !related.contains(&instance) {
            related.push(instance);
        }
        self.ops.push(Op {
            kind,
            instance,
            owner,
            scaling_activity,
            stage: OpStage::Hooks,
            generation: 0,
            duration_ms: sample.duration_ms,
            fails: may_fail.allowed() && sample.fails,
            may_fail,
            succeeded: false,
            hooks,
            releasing: false,
        });
        self.instances[instance as usize].op = Some(op);
        match kind {
            // Launching hooks run after the instance is created.
            OpKind::Create => self.begin_op_work(op, fx),
            OpKind::Destroy | OpKind::Detach => {
                let started = self.start_hooks(
                    HookSubject::Op(op),
                    instance,
                    LifecycleTransition::InstanceTerminating,
                    hooks,
                    draws,
                    fx,
                );
                if !started {
                    self.begin_op_work(op, fx);
                }
            }
        }
        op
    }

    fn begin_op_work(&mut self, op: u32, fx: &mut Fx) {
        let (kind, instance) = {
            let o = &mut self.ops[op as usize];
            o.stage = OpStage::Working;
            o.generation += 1;
            (o.kind, o.instance)
        };
        let state = match kind {
            OpKind::Create => LifeCycleState::Creating,
            OpKind::Destroy => LifeCycleState::Terminating,
            OpKind::Detach => LifeCycleState::Detaching,
        };
        self.set_lifecycle(instance, state, LifeCycleCause::ScalingActivity, fx);
        let o = &self.ops[op as usize];
        fx.after(
            o.duration_ms,
            Timer::OpDone {
                op,
                generation: o.generation,
            },
        );
    }

    /// OQ-67: a creation given up by a launching-hook ABANDON releases its instance as a real
    /// destruction: `TERMINATING` for a sampled `instance_destroy` (no hooks, cannot fail), then
    /// gone; the creation fails only then, so whatever waits for it (a surge scale-out, a
    /// REPLACE item, a scale-out activity) ends after the release.
    fn begin_release(&mut self, op: u32, draws: &mut dyn Draws, fx: &mut Fx) {
        let instance = self.ops[op as usize].instance;
        let inst = &mut self.instances[instance as usize];
        inst.ops_seen += 1;
        let sample = draws.op(inst.key, true, inst.ops_seen);
        let o = &mut self.ops[op as usize];
        o.releasing = true;
        o.stage = OpStage::Working;
        o.generation += 1;
        o.duration_ms = sample.duration_ms;
        let generation = o.generation;
        self.set_lifecycle(
            instance,
            LifeCycleState::Terminating,
            LifeCycleCause::ScalingActivity,
            fx,
        );
        fx.after(sample.duration_ms, Timer::OpDone { op, generation });
    }

    pub fn on_op_done(&mut self, op: u32, generation: u32, draws: &mut dyn Draws, fx: &mut Fx) {
        let o = &self.ops[op as usize];
        if o.generation != generation || o.stage != OpStage::Working {
            return;
        }
        if o.releasing {
            let instance = o.instance;
            self.release_instance(instance, "launching hook ABANDON", fx);
            self.finish_op(op, false, draws, fx);
            return;
        }
        // A capacity fault fails the operations that complete while it lasts.
        let blocked = match o.kind {
            OpKind::Create => self.create_blocked,
            OpKind::Destroy | OpKind::Detach => self.destroy_blocked,
        };
        let bad_image = o.kind == OpKind::Create
            && self
                .bad_images
                .contains(&self.instances[o.instance as usize].image);
        let (kind, instance, fails) = (
            o.kind,
            o.instance,
            o.fails || (o.may_fail.allowed() && (blocked || bad_image)),
        );
        if !self.instances[instance as usize].in_group {
            self.finish_op(op, false, draws, fx); // vanished meanwhile
            return;
        }
        match kind {
            OpKind::Create if fails => {
                self.set_lifecycle(
                    instance,
                    LifeCycleState::CreationFailed,
                    LifeCycleCause::Created,
                    fx,
                );
                self.release_instance(instance, "creation failed", fx);
                self.finish_op(op, false, draws, fx);
            }
            OpKind::Create => {
                let scope = self.ops[op as usize].hooks;
                let started = self.start_hooks(
                    HookSubject::Op(op),
                    instance,
                    LifecycleTransition::InstanceLaunching,
                    scope,
                    draws,
                    fx,
                );
                if !started {
                    self.created(op, draws, fx);
                }
            }
            OpKind::Destroy | OpKind::Detach if fails => {
                let state = if kind == OpKind::Destroy {
                    LifeCycleState::TerminationFailed
                } else {
                    LifeCycleState::DetachFailed
                };
                self.set_lifecycle(instance, state, LifeCycleCause::ScalingActivity, fx);
                self.finish_op(op, false, draws, fx);
            }
            OpKind::Destroy | OpKind::Detach => {
                let how = if kind == OpKind::Destroy {
                    Departure::Destroyed
                } else {
                    Departure::Detached
                };
                let cause = op_cause(self.ops[op as usize].owner);
                // Detach the op first, so the departure does not abort the op that caused it.
                self.instances[instance as usize].op = None;
                self.instance_leaves(instance, how, cause, draws, fx);
                self.finish_op(op, true, draws, fx);
            }
        }
    }

    /// A created instance passed its launching hooks: it is in service.
    fn created(&mut self, op: u32, draws: &mut dyn Draws, fx: &mut Fx) {
        let instance = self.ops[op as usize].instance;
        self.set_lifecycle(
            instance,
            LifeCycleState::InService,
            LifeCycleCause::Created,
            fx,
        );
        self.finish_op(op, true, draws, fx);
    }

    /// A new instance that is given up (failed creation, launching hook ABANDON) is released.
    pub(crate) fn release_instance(&mut self, instance: u32, cause: &'static str, fx: &mut Fx) {
        let inst = &mut self.instances[instance as usize];
        if !inst.in_group {
            return;
        }
        inst.in_group = false;
        let (id, from) = (inst.id, inst.state);
        let cause = self.names.intern(cause);
        fx.emit(Event::InstanceLeft {
            instance: id,
            from,
            how: Departure::Destroyed,
            cause,
        });
    }

    fn finish_op(&mut self, op: u32, ok: bool, draws: &mut dyn Draws, fx: &mut Fx) {
        let o = &mut self.ops[op as usize];
        o.stage = OpStage::Finished;
        o.succeeded = ok;
        let (owner, instance) = (o.owner, o.instance);
        if self.instances[instance as usize].op == Some(op) {
            self.instances[instance as usize].op = None;
        }
        match owner {
            OpOwner::SurgeOut { activity } => {
                self.on_surge_created(activity, instance, ok, draws, fx)
            }
            OpOwner::SurgeIn { activity } => {
                self.on_surge_destroyed(activity, instance, ok, draws, fx)
            }
            OpOwner::SurgeCleanup { activity } => self.on_surge_cleaned(activity, instance, fx),
            OpOwner::ReplaceNew { activity, item } => {
                self.on_replacement_created(activity, item as usize, ok, draws, fx)
            }
            OpOwner::ReplaceOld { activity, item } => {
                self.on_old_removed(activity, item as usize, ok, draws, fx)
            }
            OpOwner::Scaling { scaling_activity } => {
                self.on_scaling_op_done(scaling_activity, op, ok, draws, fx)
            }
            OpOwner::Released => {}
        }
    }

    /// An instance left the group while an operation on it was pending: the operation ends.
    pub fn abort_op_of(&mut self, instance: u32, draws: &mut dyn Draws, fx: &mut Fx) {
        if let Some(op) = self.instances[instance as usize].op
            && self.ops[op as usize].stage != OpStage::Finished
        {
            let o = &mut self.ops[op as usize];
            let departing = o.kind != OpKind::Create;
            o.generation += 1;
            // A destroy/detach whose instance is gone did what it was for.
            self.finish_op(op, departing, draws, fx);
        }
        if let Some(run) = self.instances[instance as usize].hook_run {
            let r = &mut self.hook_runs[run as usize];
            r.active = false;
            r.generation += 1;
            self.instances[instance as usize].hook_run = None;
        }
    }

    // ------------------------------------------------------------------------------------
    // Lifecycle hooks
    // ------------------------------------------------------------------------------------

    /// Starts the hooks of `transition` that `scope` allows for `instance`. Returns false when
    /// there are none (the caller continues at once).
    pub fn start_hooks(
        &mut self,
        subject: HookSubject,
        instance: u32,
        transition: LifecycleTransition,
        scope: HookScope,
        draws: &mut dyn Draws,
        fx: &mut Fx,
    ) -> bool {
        let hooks: Vec<u32> = self
            .hooks
            .iter()
            .enumerate()
            .filter(|(_, h)| {
                h.transition == transition
                    && match scope {
                        HookScope::All => true,
                        HookScope::ExtensionOnly => {
                            h.transition_type == LifecycleTransitionType::Extension
                        }
                    }
            })
            .map(|(i, _)| i as u32)
            .collect();
        if hooks.is_empty() {
            return false;
        }
        let token = self.fresh_id(IdKind::LifecycleToken, draws);
        let run = self.hook_runs.len() as u32;
        let resume_state = self.instances[instance as usize].state;
        self.hook_runs.push(HookRun {
            subject,
            instance,
            transition,
            hooks,
            current: 0,
            result: LifecycleActionResult::Continue,
            token,
            generation: 0,
            active: true,
            resume_state,
            completed: Vec::new(),
        });
        self.instances[instance as usize].hook_run = Some(run);
        let state = match transition {
            LifecycleTransition::InstanceLaunching => LifeCycleState::InLaunchingHook,
            LifecycleTransition::InstanceTerminating => LifeCycleState::InTerminatingHook,
        };
        self.set_lifecycle(instance, state, LifeCycleCause::Hook, fx);
        self.begin_hook(run, draws, fx);
        true
    }

    fn begin_hook(&mut self, run: u32, draws: &mut dyn Draws, fx: &mut Fx) {
        let r = &mut self.hook_runs[run as usize];
        r.generation += 1;
        let (hook_index, instance, generation, transition) = (
            r.hooks[r.current as usize],
            r.instance,
            r.generation,
            r.transition,
        );
        let hook = self.hooks[hook_index as usize].clone();
        let inst = &mut self.instances[instance as usize];
        fx.emit(Event::HookStarted {
            instance: inst.id,
            hook: hook.id,
            transition,
        });
        fx.after(
            hook.heartbeat_timeout_ms,
            Timer::HookTimeout {
                run,
                hook: hook_index,
                generation,
            },
        );
        if hook.auto_complete {
            inst.hook_runs_seen += 1;
            let answer = draws.hook(inst.key, inst.hook_runs_seen);
            if answer.response_ms < hook.heartbeat_timeout_ms {
                fx.after(
                    answer.response_ms,
                    Timer::HookAutoComplete {
                        run,
                        hook: hook_index,
                        generation,
                        abandon: answer.abandon,
                    },
                );
            }
        }
    }

    /// Timers of the hook engine.
    pub fn on_hook_timer(
        &mut self,
        run: u32,
        hook: u32,
        generation: u32,
        result: Option<LifecycleActionResult>,
        draws: &mut dyn Draws,
        fx: &mut Fx,
    ) {
        let r = &self.hook_runs[run as usize];
        if !r.active || r.generation != generation || r.hooks[r.current as usize] != hook {
            return;
        }
        match result {
            Some(result) => {
                self.complete_hook(run, result, HookResultReason::CallInterface, draws, fx)
            }
            None => {
                let default = self.hooks[hook as usize].default_result;
                self.complete_hook(run, default, HookResultReason::HeartbeatTimeout, draws, fx);
            }
        }
    }

    /// Sets the result of the hook pending in `run`.
    /// Keeps a hook action's result for its scaling activity's `LifecycleActionResultSet`.
    fn record_hook_result(
        &mut self,
        run: u32,
        hook: u32,
        result: LifecycleActionResult,
        reason: HookResultReason,
    ) {
        let r = &self.hook_runs[run as usize];
        let scaling_activity = match r.subject {
            HookSubject::Op(op) => Some(self.ops[op as usize].scaling_activity),
            HookSubject::Item { activity, item } => {
                let act = &self.activities[activity as usize];
                act.batches[act.items[item as usize].batch as usize].scaling_activity
            }
        };
        if let Some(sa) = scaling_activity {
            self.scaling_activities[sa as usize]
                .hook_results
                .push(super::world::HookResultRow {
                    hook,
                    instance: r.instance,
                    result,
                    reason,
                });
        }
    }

    pub fn complete_hook(
        &mut self,
        run: u32,
        result: LifecycleActionResult,
        reason: HookResultReason,
        draws: &mut dyn Draws,
        fx: &mut Fx,
    ) {
        let r = &mut self.hook_runs[run as usize];
        let hook_index = r.hooks[r.current as usize];
        r.completed.push(hook_index);
        let (instance, transition) = (r.instance, r.transition);
        let inst_id = self.instances[instance as usize].id;
        self.record_hook_result(run, hook_index, result, reason);
        fx.emit(Event::HookCompleted {
            instance: inst_id,
            hook: self.hooks[hook_index as usize].id,
            transition,
            result,
            reason,
        });
        match result {
            LifecycleActionResult::Abandon => {
                // §6.8: only the first ABANDON takes effect; the rest report ANOTHER_ACTION_ABANDON.
                let r = &mut self.hook_runs[run as usize];
                r.result = LifecycleActionResult::Abandon;
                let rest: Vec<u32> = r.hooks[r.current as usize + 1..].to_vec();
                r.completed.extend(rest.iter().copied());
                for h in rest {
                    self.record_hook_result(
                        run,
                        h,
                        LifecycleActionResult::Abandon,
                        HookResultReason::AnotherActionAbandon,
                    );
                    fx.emit(Event::HookCompleted {
                        instance: inst_id,
                        hook: self.hooks[h as usize].id,
                        transition,
                        result: LifecycleActionResult::Abandon,
                        reason: HookResultReason::AnotherActionAbandon,
                    });
                }
                self.finish_hooks(run, draws, fx);
            }
            LifecycleActionResult::Continue => {
                let r = &mut self.hook_runs[run as usize];
                r.current += 1;
                if (r.current as usize) < r.hooks.len() {
                    self.begin_hook(run, draws, fx);
                } else {
                    self.finish_hooks(run, draws, fx);
                }
            }
        }
    }

    fn finish_hooks(&mut self, run: u32, draws: &mut dyn Draws, fx: &mut Fx) {
        let r = &mut self.hook_runs[run as usize];
        r.active = false;
        r.generation += 1;
        let (subject, instance, transition, result) =
            (r.subject, r.instance, r.transition, r.result);
        self.instances[instance as usize].hook_run = None;
        match subject {
            HookSubject::Op(op) => self.op_hooks_done(op, transition, result, draws, fx),
            HookSubject::Item { activity, item } => {
                self.item_hooks_done(activity, item as usize, transition, result, draws, fx)
            }
        }
    }

    fn op_hooks_done(
        &mut self,
        op: u32,
        transition: LifecycleTransition,
        result: LifecycleActionResult,
        draws: &mut dyn Draws,
        fx: &mut Fx,
    ) {
        match transition {
            // ABANDON on a terminating hook: the removal simply continues (§6.8).
            LifecycleTransition::InstanceTerminating => self.begin_op_work(op, fx),
            LifecycleTransition::InstanceLaunching => match result {
                LifecycleActionResult::Continue => self.created(op, draws, fx),
                // ABANDON on a launching hook releases the new instance (§6.8, OQ-14): a
                // destruction taking `instance_destroy` (OQ-67), after which the creation fails.
                LifecycleActionResult::Abandon => self.begin_release(op, draws, fx),
            },
        }
    }

    /// The active hook run of an instance and the hook pending in it, for CompleteLifecycleAction.
    pub fn find_hook_action(
        &self,
        hook: u32,
        instance: Option<u32>,
        token: Option<Sym>,
    ) -> HookLookup {
        let matches_run = |r: &HookRun| {
            r.hooks.contains(&hook)
                && instance.is_none_or(|i| r.instance == i)
                && token.is_none_or(|t| r.token == t)
        };
        let mut found_set = false;
        for (i, r) in self.hook_runs.iter().enumerate().rev() {
            if !matches_run(r) {
                continue;
            }
            if r.active && r.hooks[r.current as usize] == hook {
                return HookLookup::Pending(i as u32);
            }
            if r.completed.contains(&hook) {
                found_set = true;
                break;
            }
        }
        if found_set {
            HookLookup::AlreadySet
        } else {
            HookLookup::NotPending
        }
    }
}

/// Result of looking up a lifecycle action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookLookup {
    Pending(u32),
    AlreadySet,
    NotPending,
}

fn op_cause(owner: OpOwner) -> &'static str {
    match owner {
        OpOwner::SurgeOut { .. } => "surge scale-out",
        OpOwner::SurgeIn { .. } => "surge scale-in",
        OpOwner::SurgeCleanup { .. } => "surge clean-up",
        OpOwner::ReplaceNew { .. } => "replacement",
        OpOwner::ReplaceOld { .. } => "replaced by a new instance",
        OpOwner::Scaling { .. } => "scaling activity",
        OpOwner::Released => "target health check failed",
    }
}
