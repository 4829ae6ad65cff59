//! The scaling group around a refresh: external changes (faults), instances leaving
//! (→ NOT_FOUND), the manual APIs a disabled group still allows, scaling policies, scheduled
//! actions and unhealthy replacement that a disabled group ignores, and desired-capacity
//! matching once it is enabled again (spec §3.3, §6.1–§6.7; OQ-17, OQ-18, OQ-31, OQ-32).

use super::Fx;
use super::draws::Draws;
use super::world::{OpKind, OpOwner, OpStart, Step, World};
use crate::api::request::{
    ExecuteScalingPolicyRequest, InstancesRequest, ModifyLaunchConfigurationRequest, ScaleRequest,
};
use crate::api::{
    ApiError, ApiOutput, CreationType, EnabledStatus, ErrorCode, GroupStatus, InstanceStatus,
    LifeCycleState, ScalingActivityStatus, ScalingActivityType,
};
use crate::timeline::{Departure, Event, LifeCycleCause, Msg, ScalingCause, Sym};

fn cause_of(matching: bool) -> ScalingCause {
    if matching {
        ScalingCause::DesiredCapacity
    } else {
        ScalingCause::Api
    }
}

const DISABLED: &str = "group disabled (during an instance refresh, OQ-17)";

/// ScaleIn/ScaleOut/Remove/Detach accept 1..=2000 instances per call (§6.2).
pub const MAX_SCALE_NUMBER: u64 = 2000;
pub const MAX_INSTANCE_IDS: usize = 100;

/// An external change to the world, injected by the scenario (faults) at a time.
#[derive(Debug, Clone, PartialEq)]
pub enum WorldChange {
    /// Destroyed in the CVM console, or removed from the group (→ NOT_FOUND, §3.4).
    InstanceLeaves {
        instance: u32,
        how: Departure,
    },
    /// Stopped in the CVM console.
    InstanceStops {
        instance: u32,
    },
    /// Started again.
    InstanceStarts {
        instance: u32,
    },
    /// The user puts an instance into standby (EnterStandby).
    InstanceEntersStandby {
        instance: u32,
    },
    /// The user takes an instance out of standby (ExitStandby).
    InstanceExitsStandby {
        instance: u32,
    },
    GroupStatus(GroupStatus),
    RoleAuthorized(bool),
    ImageAvailable {
        image: String,
        available: bool,
    },
    /// OQ-23/OQ-34: an unrecoverable error: every non-terminal activity goes FAILED.
    InternalError,
    /// A non-refresh scaling activity runs for a while (OQ-27 step 8).
    ScalingActivity {
        activity_type: ScalingActivityType,
        duration_ms: u64,
    },
    /// A launch-configuration edit (OQ-16: affects reinstalls that start afterwards).
    LaunchConfig(Box<ModifyLaunchConfigurationRequest>),
    /// An alarm fires the scaling policy `policy` (index into the group's policies).
    Alarm {
        policy: u32,
    },
    /// A scheduled action sets the desired capacity.
    Scheduled {
        action: String,
        desired_capacity: u32,
    },
    /// The health check marks an instance unhealthy.
    Unhealthy {
        instance: u32,
    },
    /// While set, creating instances fails (sold-out zone, quota): surge and replace failures.
    CreateBlocked(bool),
    /// While set, destroying instances fails (OQ-7 scale-in failure).
    DestroyBlocked(bool),
}

impl World {
    /// Applies a scenario change at `fx.now`.
    pub fn apply_change(&mut self, change: &WorldChange, draws: &mut dyn Draws, fx: &mut Fx) {
        self.dispatch_change(change, draws, fx);
        self.settle(draws, fx);
    }

    fn dispatch_change(&mut self, change: &WorldChange, draws: &mut dyn Draws, fx: &mut Fx) {
        match change {
            WorldChange::InstanceLeaves { instance, how } => {
                if self.instances[*instance as usize].in_group {
                    let cause = match how {
                        Departure::Destroyed => "terminated outside Auto Scaling",
                        Departure::Detached => "removed from the group outside the refresh",
                    };
                    self.instance_leaves(*instance, *how, cause, draws, fx);
                }
            }
            WorldChange::InstanceStops { instance } => self.instance_stops(*instance, fx),
            WorldChange::InstanceStarts { instance } => {
                let inst = &self.instances[*instance as usize];
                if inst.in_group && inst.state == LifeCycleState::Stopped {
                    self.set_lifecycle(
                        *instance,
                        LifeCycleState::InService,
                        LifeCycleCause::External,
                        fx,
                    );
                }
            }
            WorldChange::InstanceEntersStandby { instance } => {
                let inst = &self.instances[*instance as usize];
                // EnterStandby takes only running instances; one being refreshed is in operation (OQ-39).
                if inst.in_group && inst.state == LifeCycleState::InService && inst.op.is_none() {
                    self.instances[*instance as usize].standby = true;
                    self.set_lifecycle(
                        *instance,
                        LifeCycleState::InStandby,
                        LifeCycleCause::External,
                        fx,
                    );
                }
            }
            WorldChange::InstanceExitsStandby { instance } => {
                let inst = &self.instances[*instance as usize];
                let in_flight = self.instance_in_flight(*instance).is_some();
                if inst.in_group && inst.state == LifeCycleState::InStandby && !in_flight {
                    let inst = &mut self.instances[*instance as usize];
                    inst.standby = false;
                    inst.held_by_refresh = false;
                    self.set_lifecycle(
                        *instance,
                        LifeCycleState::InService,
                        LifeCycleCause::External,
                        fx,
                    );
                }
            }
            WorldChange::GroupStatus(to) => {
                let from = self.group.status;
                if from != *to {
                    self.group.status = *to;
                    fx.emit(Event::GroupStatus { from, to: *to });
                }
            }
            WorldChange::RoleAuthorized(authorized) => {
                self.role_authorized = *authorized;
                fx.emit(Event::RoleAuthorized {
                    authorized: *authorized,
                });
            }
            WorldChange::ImageAvailable { image, available } => {
                let sym = self.names.intern(image);
                if *available {
                    self.missing_images.remove(&sym);
                } else {
                    self.missing_images.insert(sym);
                }
                fx.emit(Event::ImageAvailability {
                    image: sym,
                    available: *available,
                });
            }
            WorldChange::InternalError => {
                for a in 0..self.activities.len() as u32 {
                    if !self.activities[a as usize].status.is_terminal() {
                        self.internal_error(a, draws, fx);
                    }
                }
            }
            WorldChange::ScalingActivity {
                activity_type,
                duration_ms,
            } => self.begin_external_scaling_activity(*activity_type, *duration_ms, draws, fx),
            WorldChange::LaunchConfig(req) => self.apply_launch_config_change(req, fx),
            WorldChange::Alarm { policy } => self.alarm(*policy, draws, fx),
            WorldChange::Scheduled {
                action,
                desired_capacity,
            } => self.scheduled_action(action, *desired_capacity, draws, fx),
            WorldChange::Unhealthy { instance } => self.unhealthy(*instance, draws, fx),
            WorldChange::CreateBlocked(on) => self.create_blocked = *on,
            WorldChange::DestroyBlocked(on) => self.destroy_blocked = *on,
        }
    }

    /// The (activity, item) refreshing this instance right now, if any.
    pub fn instance_in_flight(&self, instance: u32) -> Option<(u32, usize)> {
        self.activities.iter().enumerate().find_map(|(a, act)| {
            act.items_of(instance)
                .find(|&i| act.items[i].status.is_in_flight())
                .map(|i| (a as u32, i))
        })
    }

    /// §3.4, §1.1 rule 4: an instance leaving the group becomes NOT_FOUND in every activity
    /// where it was still pending or in flight, and never blocks the activity. (The old instance
    /// a REPLACE item removes itself is the item's own success, not a NOT_FOUND.)
    pub(crate) fn instance_leaves(
        &mut self,
        instance: u32,
        how: Departure,
        cause: &'static str,
        draws: &mut dyn Draws,
        fx: &mut Fx,
    ) {
        let inst = &mut self.instances[instance as usize];
        if !inst.in_group {
            return;
        }
        inst.in_group = false;
        inst.held_by_refresh = false;
        let (id, from) = (inst.id, inst.state);
        let cause = self.names.intern(cause);
        fx.emit(Event::InstanceLeft {
            instance: id,
            from,
            how,
            cause,
        });
        for a in 0..self.activities.len() as u32 {
            let act = &self.activities[a as usize];
            let pending: Vec<usize> = act
                .items_of(instance)
                .filter(|&i| {
                    let it = &act.items[i];
                    matches!(
                        it.status,
                        InstanceStatus::Waiting | InstanceStatus::Init | InstanceStatus::Running
                    ) && it.step != Step::RemovingOld
                })
                .collect();
            for i in pending {
                let was_in_flight = self.activities[a as usize].items[i].status.is_in_flight();
                self.activities[a as usize].items[i].generation += 1;
                self.set_item(a, i, InstanceStatus::NotFound, Msg::NotFound, fx);
                if was_in_flight {
                    self.item_done(a, i);
                }
            }
        }
        self.forget_surge_instance(instance);
        self.abort_op_of(instance, draws, fx);
        self.match_desired_capacity(draws, fx);
    }

    /// A CVM-console stop: an instance being refreshed fails its refresh (OQ-39).
    fn instance_stops(&mut self, instance: u32, fx: &mut Fx) {
        let inst = &self.instances[instance as usize];
        if !inst.in_group || inst.state == LifeCycleState::Stopped {
            return;
        }
        self.instances[instance as usize].held_by_refresh = false;
        self.set_lifecycle(
            instance,
            LifeCycleState::Stopped,
            LifeCycleCause::External,
            fx,
        );
        if let Some((a, i)) = self.instance_in_flight(instance) {
            self.activities[a as usize].items[i].generation += 1;
            self.fail_item(a, i, Msg::InstanceStopped, fx);
        }
    }

    // ------------------------------------------------------------------------------------
    // Manual APIs (§6.1: still allowed while disabled; OQ-18: not during a scaling activity)
    // ------------------------------------------------------------------------------------

    fn require_not_in_activity(&self) -> Result<(), ApiError> {
        if self.group_in_activity() {
            return Err(ApiError::new(
                ErrorCode::ResourceUnavailableAutoScalingGroupInActivity,
                "The scaling group is in a scaling activity",
            ));
        }
        Ok(())
    }

    fn instance_busy(&self, instance: u32) -> bool {
        let inst = &self.instances[instance as usize];
        inst.op.is_some() || inst.hook_run.is_some() || self.instance_in_flight(instance).is_some()
    }

    /// RemoveInstances (destroy auto-created, detach attached) and DetachInstances.
    pub(crate) fn remove_instances(
        &mut self,
        req: &InstancesRequest,
        detach_only: bool,
        draws: &mut dyn Draws,
        fx: &mut Fx,
    ) -> Result<ApiOutput, ApiError> {
        self.require_group(&req.auto_scaling_group_id)?;
        if req.instance_ids.is_empty() || req.instance_ids.len() > MAX_INSTANCE_IDS {
            return Err(ApiError::new(
                ErrorCode::InvalidParameterValueLimitExceeded,
                format!(
                    "InstanceIds must hold 1 to {MAX_INSTANCE_IDS} ids, found {}",
                    req.instance_ids.len()
                ),
            ));
        }
        let mut targets = Vec::with_capacity(req.instance_ids.len());
        for id in &req.instance_ids {
            match self
                .instance_by_name(id)
                .filter(|&i| self.instances[i as usize].in_group)
            {
                Some(i) if !targets.contains(&i) => targets.push(i),
                Some(_) => {}
                None => {
                    return Err(ApiError::new(
                        ErrorCode::ResourceNotFoundInstancesNotInAutoScalingGroup,
                        format!(
                            "Instance {id} is not in scaling group {}",
                            req.auto_scaling_group_id
                        ),
                    ));
                }
            }
        }
        // OQ-18: naming an instance that is being refreshed (or created, removed, held by a
        // hook) is `InstanceInOperation`, the more specific answer; checked before the group's
        // `AutoScalingGroupInActivity`, which would otherwise always shadow it (an instance is
        // only ever in operation while some scaling activity runs).
        if let Some(&busy) = targets.iter().find(|&&i| self.instance_busy(i)) {
            return Err(ApiError::new(
                ErrorCode::ResourceUnavailableInstanceInOperation,
                format!(
                    "Instance {} is in operation",
                    self.names.get(self.instances[busy as usize].id)
                ),
            ));
        }
        self.require_not_in_activity()?;
        if self.group.enabled == EnabledStatus::Enabled {
            // §6.1: only an enabled group checks MinSize for manual removal.
            let in_service = self.in_service_count();
            let removed = targets
                .iter()
                .filter(|&&i| self.instances[i as usize].state == LifeCycleState::InService)
                .count() as u32;
            if in_service.saturating_sub(removed) < self.group.min_size {
                return Err(ApiError::new(
                    ErrorCode::ResourceInsufficientAutoScalingGroupBelowMinSize,
                    format!(
                        "Removing {removed} instances would leave fewer than MinSize {} in service",
                        self.group.min_size
                    ),
                ));
            }
        }
        let activity_type = if detach_only {
            ScalingActivityType::DetachInstances
        } else {
            ScalingActivityType::RemoveInstances
        };
        let sa = self.begin_scaling_activity(
            activity_type,
            None,
            targets.len() as u32,
            ScalingCause::Api,
            draws,
            fx,
        );
        self.scaling_activities[sa as usize].desired_per_success = -1;
        self.scaling_activities[sa as usize].ops_pending = targets.len() as u32;
        for instance in targets {
            let kind = if detach_only
                || self.instances[instance as usize].creation == CreationType::ManualAttaching
            {
                OpKind::Detach
            } else {
                OpKind::Destroy
            };
            let owner = OpOwner::Scaling {
                scaling_activity: sa,
            };
            // §3.10: manual APIs trigger EXTENSION hooks only.
            self.start_op(
                OpStart::automatic(kind, instance, owner, sa).extension_only(),
                draws,
                fx,
            );
        }
        Ok(ApiOutput::ActivityId(
            self.names
                .get(self.scaling_activities[sa as usize].id)
                .to_string(),
        ))
    }

    fn check_scale_number(number: u64, field: &str) -> Result<u32, ApiError> {
        if !(1..=MAX_SCALE_NUMBER).contains(&number) {
            return Err(ApiError::new(
                ErrorCode::InvalidParameterValueRange,
                format!("{field} must be within [1, {MAX_SCALE_NUMBER}], found {number}"),
            ));
        }
        Ok(number as u32)
    }

    /// ScaleOutInstances (§6.2): raises DesiredCapacity by the number actually created.
    pub(crate) fn scale_out(
        &mut self,
        req: &ScaleRequest,
        draws: &mut dyn Draws,
        fx: &mut Fx,
    ) -> Result<ApiOutput, ApiError> {
        let n = Self::check_scale_number(req.number, "ScaleOutNumber")?;
        self.require_group(&req.auto_scaling_group_id)?;
        self.require_not_in_activity()?;
        if self.group.desired_capacity + n > self.group.max_size {
            return Err(ApiError::new(
                ErrorCode::ResourceInsufficientAutoScalingGroupAboveMaxSize,
                format!(
                    "ScaleOutNumber {n} would raise DesiredCapacity {} above MaxSize {}",
                    self.group.desired_capacity, self.group.max_size
                ),
            ));
        }
        let sa = self.create_instances(n, ScalingActivityType::ScaleOut, 1, false, draws, fx);
        Ok(ApiOutput::ActivityId(
            self.names
                .get(self.scaling_activities[sa as usize].id)
                .to_string(),
        ))
    }

    /// ScaleInInstances (§6.2): IN_SERVICE instances chosen by the termination policy.
    pub(crate) fn scale_in(
        &mut self,
        req: &ScaleRequest,
        draws: &mut dyn Draws,
        fx: &mut Fx,
    ) -> Result<ApiOutput, ApiError> {
        let n = Self::check_scale_number(req.number, "ScaleInNumber")?;
        self.require_group(&req.auto_scaling_group_id)?;
        self.require_not_in_activity()?;
        if n > self
            .group
            .desired_capacity
            .saturating_sub(self.group.min_size)
        {
            return Err(ApiError::new(
                ErrorCode::ResourceInsufficientAutoScalingGroupBelowMinSize,
                format!(
                    "ScaleInNumber {n} would lower DesiredCapacity {} below MinSize {}",
                    self.group.desired_capacity, self.group.min_size
                ),
            ));
        }
        match self.remove_by_policy(n, ScalingActivityType::ScaleIn, -1, false, draws, fx) {
            Some(sa) => Ok(ApiOutput::ActivityId(
                self.names
                    .get(self.scaling_activities[sa as usize].id)
                    .to_string(),
            )),
            None => Err(ApiError::new(
                ErrorCode::FailedOperationNoActivityToGenerate,
                "No instance can be scaled in (none in service and unprotected)",
            )),
        }
    }

    /// A scaling activity creating `n` instances from the current launch configuration.
    fn create_instances(
        &mut self,
        n: u32,
        activity_type: ScalingActivityType,
        desired_per_success: i64,
        matching: bool,
        draws: &mut dyn Draws,
        fx: &mut Fx,
    ) -> u32 {
        let members = self.instances.iter().filter(|i| i.in_group).count();
        let room = self.max_instances.saturating_sub(members) as u32;
        let creatable = n.min(room);
        let sa = self.begin_scaling_activity(activity_type, None, n, cause_of(matching), draws, fx);
        {
            let s = &mut self.scaling_activities[sa as usize];
            s.desired_per_success = desired_per_success;
            s.matching = matching;
            s.ops_pending = creatable;
            s.ops_failed = n - creatable;
        }
        for _ in 0..creatable {
            let instance = self.new_instance(false, draws, fx);
            let owner = OpOwner::Scaling {
                scaling_activity: sa,
            };
            self.start_op(
                OpStart::automatic(OpKind::Create, instance, owner, sa),
                draws,
                fx,
            );
        }
        if creatable == 0 {
            self.end_scaling_activity(sa, ScalingActivityStatus::Failed, fx);
        }
        sa
    }

    /// OLDEST_INSTANCE (§6.2): auto-created before attached, oldest first, never protected.
    fn remove_by_policy(
        &mut self,
        n: u32,
        activity_type: ScalingActivityType,
        desired_per_success: i64,
        matching: bool,
        draws: &mut dyn Draws,
        fx: &mut Fx,
    ) -> Option<u32> {
        let mut victims: Vec<u32> = (0..self.instances.len() as u32)
            .filter(|&i| {
                let inst = &self.instances[i as usize];
                inst.in_group
                    && !inst.surge
                    && !inst.protected
                    && inst.state == LifeCycleState::InService
                    && !self.instance_busy(i)
            })
            .collect();
        victims.sort_by_key(|&i| {
            let inst = &self.instances[i as usize];
            (
                inst.creation == CreationType::ManualAttaching,
                inst.add_time_unix_s,
                i,
            )
        });
        victims.truncate(n as usize);
        if victims.is_empty() {
            return None;
        }
        let sa = self.begin_scaling_activity(
            activity_type,
            None,
            victims.len() as u32,
            cause_of(matching),
            draws,
            fx,
        );
        {
            let s = &mut self.scaling_activities[sa as usize];
            s.desired_per_success = desired_per_success;
            s.matching = matching;
            s.ops_pending = victims.len() as u32;
        }
        for instance in victims {
            let owner = OpOwner::Scaling {
                scaling_activity: sa,
            };
            self.start_op(
                OpStart::automatic(OpKind::Destroy, instance, owner, sa),
                draws,
                fx,
            );
        }
        Some(sa)
    }

    /// An operation of a non-refresh scaling activity ended.
    pub(crate) fn on_scaling_op_done(
        &mut self,
        sa: u32,
        op: u32,
        ok: bool,
        draws: &mut dyn Draws,
        fx: &mut Fx,
    ) {
        // OQ-7: surge instances are not counted in DesiredCapacity, so removing one (a
        // RemoveInstances/DetachInstances naming it) does not lower it either.
        let surge = self.instances[self.ops[op as usize].instance as usize].surge;
        let s = &mut self.scaling_activities[sa as usize];
        s.ops_pending = s.ops_pending.saturating_sub(1);
        if ok {
            s.ops_ok += 1;
            if surge {
                s.ops_ok_uncounted += 1;
            }
        } else {
            s.ops_failed += 1;
        }
        if s.ops_pending > 0 {
            return;
        }
        let status = match (s.ops_ok, s.ops_failed) {
            (_, 0) => ScalingActivityStatus::Successful,
            (0, _) => ScalingActivityStatus::Failed,
            _ => ScalingActivityStatus::PartiallySuccessful,
        };
        let delta = s.desired_per_success * i64::from(s.ops_ok - s.ops_ok_uncounted);
        let total_matching_failure = s.matching && s.ops_ok == 0;
        if delta != 0 {
            // §6.2: MaxSize ≥ DesiredCapacity ≥ MinSize. A removal from a disabled group may
            // go below MinSize in instances (§6.1) but lowers DesiredCapacity only to MinSize,
            // so the group brings the capacity back once enabled again (OQ-32).
            let desired = (i64::from(self.group.desired_capacity) + delta).clamp(
                i64::from(self.group.min_size.min(self.group.desired_capacity)),
                i64::from(self.group.max_size.max(self.group.desired_capacity)),
            );
            self.group.desired_capacity = desired as u32;
        }
        self.end_scaling_activity(sa, status, fx);
        if !total_matching_failure {
            self.match_desired_capacity(draws, fx);
        }
    }

    // ------------------------------------------------------------------------------------
    // Automatic scaling, which a disabled group does not do (§6.1, OQ-17, OQ-31, OQ-32)
    // ------------------------------------------------------------------------------------

    fn ignored(&mut self, source: Sym, what: &'static str, reason: &'static str, fx: &mut Fx) {
        let (what, reason) = (self.names.intern(what), self.names.intern(reason));
        fx.emit(Event::ScalingIgnored {
            source,
            what,
            reason,
        });
    }

    fn alarm(&mut self, policy: u32, draws: &mut dyn Draws, fx: &mut Fx) {
        let p = self.policies[policy as usize].clone();
        if self.group.enabled == EnabledStatus::Disabled {
            self.ignored(p.id, "alarm policy", DISABLED, fx);
            return;
        }
        if self.group_in_activity() {
            // §6.3: an activity triggered while another runs is cancelled, not retried.
            self.ignored(
                p.id,
                "alarm policy",
                "a scaling activity is running (§6.3: cancelled, not retried)",
                fx,
            );
            return;
        }
        self.adjust_desired(p.adjustment, draws, fx);
    }

    fn scheduled_action(&mut self, action: &str, desired: u32, draws: &mut dyn Draws, fx: &mut Fx) {
        let source = self.names.intern(action);
        if self.group.enabled == EnabledStatus::Disabled {
            self.ignored(source, "scheduled action", DISABLED, fx);
            return;
        }
        self.group.desired_capacity = desired.clamp(self.group.min_size, self.group.max_size);
        self.match_desired_capacity(draws, fx);
    }

    fn unhealthy(&mut self, instance: u32, draws: &mut dyn Draws, fx: &mut Fx) {
        // OQ-90: the health check found the instance unreachable (ping).
        self.instances[instance as usize].health = crate::api::HealthStatus::Unhealthy;
        let inst = &self.instances[instance as usize];
        if !inst.in_group || !self.replace_unhealthy {
            return;
        }
        let source = inst.id;
        if self.group.enabled == EnabledStatus::Disabled {
            self.ignored(source, "unhealthy instance replacement", DISABLED, fx);
            return;
        }
        if self.group_in_activity() || inst.protected || self.instance_busy(instance) {
            self.ignored(
                source,
                "unhealthy instance replacement",
                "the group or the instance is busy",
                fx,
            );
            return;
        }
        let sa = self.begin_scaling_activity(
            ScalingActivityType::ReplaceUnhealthyInstance,
            None,
            1,
            ScalingCause::UnhealthyReplacement,
            draws,
            fx,
        );
        self.scaling_activities[sa as usize].ops_pending = 2;
        let owner = OpOwner::Scaling {
            scaling_activity: sa,
        };
        self.start_op(
            OpStart::automatic(OpKind::Destroy, instance, owner, sa),
            draws,
            fx,
        );
        let new = self.new_instance(false, draws, fx);
        self.start_op(
            OpStart::automatic(OpKind::Create, new, owner, sa),
            draws,
            fx,
        );
    }

    fn adjust_desired(&mut self, adjustment: i64, draws: &mut dyn Draws, fx: &mut Fx) {
        let desired = (i64::from(self.group.desired_capacity) + adjustment).clamp(
            i64::from(self.group.min_size),
            i64::from(self.group.max_size),
        );
        self.group.desired_capacity = desired as u32;
        self.match_desired_capacity(draws, fx);
    }

    /// ExecuteScalingPolicy: refused while the group is disabled (§6.1).
    pub(crate) fn execute_policy(
        &mut self,
        req: &ExecuteScalingPolicyRequest,
        draws: &mut dyn Draws,
        fx: &mut Fx,
    ) -> Result<ApiOutput, ApiError> {
        let policy = self
            .policies
            .iter()
            .position(|p| self.names.get(p.id) == req.auto_scaling_policy_id)
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::ResourceNotFoundScalingPolicyNotFound,
                    format!(
                        "The scaling policy {} does not exist",
                        req.auto_scaling_policy_id
                    ),
                )
            })?;
        if self.group.enabled == EnabledStatus::Disabled {
            return Err(ApiError::new(
                ErrorCode::ResourceInUseAutoScalingGroupNotActive,
                "The scaling group is disabled",
            ));
        }
        self.require_not_in_activity()?;
        let before = self.scaling_activities.len();
        let adjustment = self.policies[policy].adjustment;
        self.adjust_desired(adjustment, draws, fx);
        match self.scaling_activities.get(before) {
            Some(sa) => Ok(ApiOutput::ActivityId(self.names.get(sa.id).to_string())),
            None => Err(ApiError::new(
                ErrorCode::FailedOperationNoActivityToGenerate,
                "The desired capacity is already met",
            )),
        }
    }

    /// Members that desired-capacity matching counts (OQ-32): surge instances (OQ-7) and
    /// instances being removed do not count.
    fn matching_members(&self) -> u32 {
        self.instances
            .iter()
            .filter(|i| {
                i.in_group
                    && !i.surge
                    && !i.op.is_some_and(|op| {
                        matches!(self.ops[op as usize].kind, OpKind::Destroy | OpKind::Detach)
                    })
            })
            .count() as u32
    }

    /// OQ-32: an enabled group with no scaling activity running brings its member count to
    /// DesiredCapacity (surge instances and instances being removed do not count).
    pub(crate) fn match_desired_capacity(&mut self, draws: &mut dyn Draws, fx: &mut Fx) {
        if self.group.enabled == EnabledStatus::Disabled {
            // §6.1, OQ-32: a group a refresh holds disabled makes no matching attempt; the
            // timeline shows each trigger that would have found capacity to match (issue 3),
            // as it does for alarms, scheduled actions and unhealthy replacement.
            // Several triggers in one instant (an instance leaving, then its activity ending)
            // are one ignored matching: one row.
            if self.has_non_terminal_activity()
                && self.matching_members() != self.group.desired_capacity
                && self.matching_ignored_at != Some(fx.now)
            {
                self.matching_ignored_at = Some(fx.now);
                self.ignored(self.group.id, "desired-capacity matching", DISABLED, fx);
            }
            return;
        }
        if self.group_in_activity() {
            return;
        }
        let members = self.matching_members();
        let desired = self.group.desired_capacity;
        if members < desired {
            self.create_instances(
                desired - members,
                ScalingActivityType::ScaleOut,
                0,
                true,
                draws,
                fx,
            );
        } else if members > desired {
            self.remove_by_policy(
                members - desired,
                ScalingActivityType::ScaleIn,
                0,
                true,
                draws,
                fx,
            );
        }
    }
}
