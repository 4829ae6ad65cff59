//! The refresh state machine: the six refresh APIs with their admission rules in the documented
//! order, and the transitions that move activities, batches and instances (spec §1, §3, §10;
//! OQ-1 … OQ-28).

use super::draws::{DelayKind, Draws, IdKind};
use super::world::{Activity, Batch, Item, Step, World};
use super::{Fx, Timer};
use crate::api::request::{
    ActivityRequest, ModifyLaunchConfigurationRequest, ResumeInstanceRefreshRequest,
    StartInstanceRefreshRequest,
};
use crate::api::settings::{check_refresh_mode, check_resume_mode, check_settings};
use crate::api::{
    Action, ActivityStatus, ActivityType, ApiCall, ApiError, ApiOutput, BatchPause, BatchStatus,
    EnabledStatus, ErrorCode, FailProcess, GroupStatus, InstanceStatus, LifeCycleState,
    RefreshMode, RefreshSettings, ResumeMode, ScalingActivityStatus, ScalingActivityType,
};
use crate::hash::combine;
use crate::timeline::{Departure, Event, LifeCycleCause, Msg, Phase, StatusCause, Sym};
use serde_json::Value;

/// OQ-1: batch sizes differ by at most one, larger batches first (5 over 3 → 2, 2, 1).
pub fn batch_sizes(instances: usize, batches: usize) -> Vec<usize> {
    assert!(
        batches >= 1 && batches <= instances.max(1),
        "validated before planning"
    );
    let (q, r) = (instances / batches, instances % batches);
    (0..batches).map(|k| q + usize::from(k < r)).collect()
}

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
}

fn conflict(
    act: &Activity,
    names: &crate::timeline::Names,
    operation: &str,
    needs: &str,
) -> ApiError {
    ApiError::new(
        ErrorCode::ResourceUnavailableRefreshActivityStatusConflictWithOperation,
        format!(
            "The refresh activity {} is {}; {operation} requires {needs}",
            names.get(act.id),
            act.status
        ),
    )
}

impl World {
    // ------------------------------------------------------------------------------------
    // API entry
    // ------------------------------------------------------------------------------------

    /// Handles one API call at `fx.now`: records the call, applies it, records the result.
    /// Checks run in OQ-27 order: rate limit, role, shape, values, state.
    pub fn submit(
        &mut self,
        request_id: Sym,
        action: Action,
        body: &Value,
        draws: &mut dyn Draws,
        fx: &mut Fx,
    ) -> Result<ApiOutput, ApiError> {
        let compact = serde_json::to_string(body).expect("JSON values always serialize");
        fx.emit(Event::ApiCall {
            request_id,
            action,
            body: compact.into_boxed_str(),
        });
        let (result, activity) = self.dispatch(action, body, draws, fx);
        fx.emit(Event::ApiResult {
            request_id,
            action,
            error: result
                .as_ref()
                .err()
                .map(|e| (e.code, e.message.clone().into_boxed_str())),
            activity,
        });
        result
    }

    fn dispatch(
        &mut self,
        action: Action,
        body: &Value,
        draws: &mut dyn Draws,
        fx: &mut Fx,
    ) -> (Result<ApiOutput, ApiError>, Option<Sym>) {
        if let Err(e) = self.rate.admit(action, fx.now) {
            return (Err(e), None); // OQ-27 (1), OQ-30: no side effects
        }
        if action.needs_service_role() && !self.role_authorized {
            return (
                Err(ApiError::new(
                    ErrorCode::UnauthorizedOperationAutoScalingRoleUnauthorized,
                    "The preset service role AS_QCSRole is not authorized; grant it in the Auto Scaling console",
                )),
                None,
            ); // OQ-27 (2), §3.11
        }
        let call = match ApiCall::parse(action, body) {
            Ok(call) => call,
            Err(e) => return (Err(e), None), // OQ-27 (3)
        };
        match call {
            ApiCall::StartInstanceRefresh(req) => match self.start_refresh(&req, draws, fx) {
                Ok(a) => {
                    let id = self.activities[a as usize].id;
                    (
                        Ok(ApiOutput::RefreshActivityId(self.names.get(id).to_string())),
                        Some(id),
                    )
                }
                Err(e) => (Err(e), None),
            },
            ApiCall::DescribeRefreshActivities(req) => (self.describe(&req), None),
            ApiCall::StopInstanceRefresh(req) => self.with_activity(&req, |w, a| w.stop(a, fx)),
            ApiCall::ResumeInstanceRefresh(req) => self.resume(&req, draws, fx),
            ApiCall::CancelInstanceRefresh(req) => self.with_activity(&req, |w, a| w.cancel(a, fx)),
            ApiCall::EnableAutoScalingGroup(req) => {
                (self.enable_group(&req.auto_scaling_group_id, fx), None)
            }
            ApiCall::DisableAutoScalingGroup(req) => {
                (self.disable_group(&req.auto_scaling_group_id, fx), None)
            }
            ApiCall::ModifyLaunchConfigurationAttributes(req) => {
                (self.modify_launch_configuration(&req, fx), None)
            }
            ApiCall::RollbackInstanceRefresh(_)
            | ApiCall::RemoveInstances(_)
            | ApiCall::DetachInstances(_)
            | ApiCall::ScaleInInstances(_)
            | ApiCall::ScaleOutInstances(_)
            | ApiCall::CompleteLifecycleAction(_)
            | ApiCall::ExecuteScalingPolicy(_)
            | ApiCall::DescribeAutoScalingGroups(_)
            | ApiCall::DescribeAutoScalingInstances(_) => (
                Err(ApiError::new(
                    ErrorCode::UnsupportedOperation,
                    format!("{action} is not modelled by this version of refreshsim"),
                )),
                None,
            ),
        }
    }

    /// OQ-28: Stop/Resume/Cancel find the activity by id within the named group.
    fn lookup_activity(&self, group_id: &str, activity_id: &str) -> Result<u32, ApiError> {
        let not_found = || {
            ApiError::new(
                ErrorCode::ResourceNotFoundRefreshActivityNotFound,
                format!(
                    "The refresh activity {activity_id} does not exist in scaling group {group_id}"
                ),
            )
        };
        if self.names.get(self.group.id) != group_id {
            return Err(not_found());
        }
        self.activity_by_name(activity_id).ok_or_else(not_found)
    }

    fn with_activity(
        &mut self,
        req: &ActivityRequest,
        op: impl FnOnce(&mut World, u32) -> Result<ApiOutput, ApiError>,
    ) -> (Result<ApiOutput, ApiError>, Option<Sym>) {
        match self.lookup_activity(&req.auto_scaling_group_id, &req.refresh_activity_id) {
            Ok(a) => {
                let id = self.activities[a as usize].id;
                (op(self, a), Some(id))
            }
            Err(e) => (Err(e), None),
        }
    }

    fn require_group(&self, group_id: &str) -> Result<(), ApiError> {
        if self.names.get(self.group.id) == group_id {
            Ok(())
        } else {
            Err(ApiError::new(
                ErrorCode::ResourceNotFoundAutoScalingGroupIdNotFound,
                format!("The scaling group {group_id} does not exist"),
            ))
        }
    }

    // ------------------------------------------------------------------------------------
    // StartInstanceRefresh (§1.1, OQ-27)
    // ------------------------------------------------------------------------------------

    fn start_refresh(
        &mut self,
        req: &StartInstanceRefreshRequest,
        draws: &mut dyn Draws,
        fx: &mut Fx,
    ) -> Result<u32, ApiError> {
        let mode = check_refresh_mode(req.refresh_mode.as_deref())?; // (4)
        let settings = check_settings(&req.refresh_settings)?; // (4)
        self.require_group(&req.auto_scaling_group_id)?; // (5)
        self.require_startable_group()?; // (6)-(8)
        let eligible = self.eligible_instances();
        let n = eligible.len();
        if n == 0 {
            return Err(ApiError::new(
                ErrorCode::ResourceUnavailableNoInstanceCanRefresh,
                "No instance in the scaling group is in running status (IN_SERVICE, not in standby)",
            )); // (9), OQ-4
        }
        if settings.batch_number as usize > n {
            return Err(ApiError::new(
                ErrorCode::InvalidParameterValueBatchNumberTooLarge,
                format!(
                    "BatchNumber {} is greater than the {n} instances pending refresh",
                    settings.batch_number
                ),
            )); // (10)
        }
        let largest_batch = n.div_ceil(settings.batch_number as usize);
        if settings.max_surge as usize > largest_batch {
            return Err(ApiError::new(
                ErrorCode::InvalidParameterValueMaxSurgeTooLarge,
                format!(
                    "MaxSurge {} exceeds {largest_batch}, the number of instances refreshed in one batch (OQ-6)",
                    settings.max_surge
                ),
            )); // (11)
        }
        let image = self.current_lc().image;
        if self.missing_images.contains(&image) {
            return Err(ApiError::new(
                ErrorCode::ResourceUnavailableInquiryPriceResetInstanceFailed,
                format!(
                    "Reinstall price inquiry failed: image {} of the launch configuration does not exist",
                    self.names.get(image)
                ),
            )); // (12)
        }
        self.refuse_unmodelled(mode, &settings)?;
        let members = eligible.into_iter().map(|i| (i, None)).collect();
        Ok(self.create_activity(
            ActivityType::Normal,
            mode,
            settings,
            None,
            members,
            draws,
            fx,
        ))
    }

    /// Settings whose behaviour this build does not model yet are refused explicitly rather than
    /// silently run as something else.
    fn refuse_unmodelled(
        &self,
        mode: RefreshMode,
        settings: &RefreshSettings,
    ) -> Result<(), ApiError> {
        let unsupported = |what: &str| {
            Err(ApiError::new(
                ErrorCode::UnsupportedOperation,
                format!("{what} is not modelled by this version of refreshsim"),
            ))
        };
        match mode {
            RefreshMode::RollingUpdateReset => {}
            RefreshMode::RollingUpdateReplace => {
                return unsupported("RefreshMode ROLLING_UPDATE_REPLACE");
            }
        }
        match settings.fail_process {
            FailProcess::AutoPause | FailProcess::AutoCancel => {}
            FailProcess::AutoRollback => return unsupported("FailProcess AUTO_ROLLBACK"),
        }
        if settings.max_surge > 0 {
            return unsupported("MaxSurge");
        }
        Ok(())
    }

    /// OQ-27 steps 6–8.
    fn require_startable_group(&self) -> Result<(), ApiError> {
        if self.group.status != GroupStatus::Normal {
            return Err(ApiError::new(
                ErrorCode::ResourceUnavailableAutoScalingGroupAbnormalStatus,
                format!("The scaling group status is {}", self.group.status),
            ));
        }
        if let Some(active) = self.activities.iter().find(|a| !a.status.is_terminal()) {
            return Err(ApiError::new(
                ErrorCode::ResourceUnavailableAutoScalingGroupInRefreshActivity,
                format!(
                    "The scaling group is in refresh activity {} ({})",
                    self.names.get(active.id),
                    active.status
                ),
            ));
        }
        if self.group_in_activity() {
            return Err(ApiError::new(
                ErrorCode::ResourceUnavailableAutoScalingGroupInActivity,
                "The scaling group is in a scaling activity",
            ));
        }
        Ok(())
    }

    /// OQ-3/OQ-2: IN_SERVICE instances not in standby, ordered by (AddTime, InstanceId).
    fn eligible_instances(&self) -> Vec<u32> {
        let mut eligible: Vec<u32> = (0..self.instances.len() as u32)
            .filter(|&i| {
                let inst = &self.instances[i as usize];
                inst.in_group
                    && !inst.standby
                    && !inst.surge
                    && inst.state == LifeCycleState::InService
            })
            .collect();
        eligible.sort_unstable_by(|&a, &b| {
            let (ia, ib) = (&self.instances[a as usize], &self.instances[b as usize]);
            ia.add_time_unix_s
                .cmp(&ib.add_time_unix_s)
                .then_with(|| self.compare_ids(ia, ib))
        });
        eligible
    }

    /// Creates an activity in INIT with its batch plan frozen (OQ-1, OQ-2, OQ-3, OQ-9) and holds
    /// the group disabled (OQ-17). `members` are (instance, image to restore) in batch order.
    #[allow(clippy::too_many_arguments)]
    fn create_activity(
        &mut self,
        activity_type: ActivityType,
        mode: RefreshMode,
        settings: RefreshSettings,
        origin: Option<u32>,
        members: Vec<(u32, Option<Sym>)>,
        draws: &mut dyn Draws,
        fx: &mut Fx,
    ) -> u32 {
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
                });
            }
            batches.push(Batch {
                status: BatchStatus::Waiting,
                started: None,
                ended: None,
                items: start..items.len() as u32,
                in_flight: 0,
                scaling_activity: None,
            });
        }
        let index = self.activities.len() as u32;
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
            items,
            origin,
            init_done: false,
            batch_gaps_ms,
        });
        self.hold_group_disabled(fx);
        fx.after(init_delay_ms, Timer::InitDone { activity: index });
        index
    }

    // ------------------------------------------------------------------------------------
    // Stop / Resume / Cancel (OQ-21, OQ-22, OQ-24)
    // ------------------------------------------------------------------------------------

    /// OQ-21: INIT or RUNNING, not in the final scale-in → MANUAL_PAUSE at once; instances in
    /// flight finish; no new batch starts.
    fn stop(&mut self, a: u32, fx: &mut Fx) -> Result<ApiOutput, ApiError> {
        let act = &self.activities[a as usize];
        let allowed = matches!(act.status, ActivityStatus::Init | ActivityStatus::Running)
            && act.phase != Phase::SurgeIn;
        if !allowed {
            return Err(conflict(
                act,
                &self.names,
                "StopInstanceRefresh",
                "INIT or RUNNING, outside the final scale-in",
            ));
        }
        self.set_status(
            a,
            ActivityStatus::ManualPause,
            StatusCause::StopRequested,
            fx,
        );
        Ok(ApiOutput::Empty)
    }

    /// OQ-22.
    fn resume(
        &mut self,
        req: &ResumeInstanceRefreshRequest,
        draws: &mut dyn Draws,
        fx: &mut Fx,
    ) -> (Result<ApiOutput, ApiError>, Option<Sym>) {
        let mode = match check_resume_mode(req.resume_mode.as_deref()) {
            Ok(mode) => mode,
            Err(e) => return (Err(e), None),
        };
        let a = match self.lookup_activity(&req.auto_scaling_group_id, &req.refresh_activity_id) {
            Ok(a) => a,
            Err(e) => return (Err(e), None),
        };
        let act = &self.activities[a as usize];
        let id = act.id;
        if !act.status.is_paused() {
            // §8.5: documented as "no effect"; OQ-22 chooses the conflict error.
            let e = conflict(
                act,
                &self.names,
                "ResumeInstanceRefresh",
                "FAILED_PAUSE, AUTO_PAUSE or MANUAL_PAUSE",
            );
            return (Err(e), Some(id));
        }
        self.set_status(a, ActivityStatus::Running, StatusCause::ResumeRequested, fx);
        self.resume_work(a, mode, draws, fx);
        (Ok(ApiOutput::Empty), Some(id))
    }

    fn resume_work(&mut self, a: u32, mode: ResumeMode, draws: &mut dyn Draws, fx: &mut Fx) {
        let act = &self.activities[a as usize];
        if act.started.is_none() {
            // Paused during INIT: start now if the init delay already elapsed, else on its timer.
            if act.init_done {
                self.begin(a, draws, fx);
            }
            return;
        }
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
            ResumeMode::Retry => self.retry_items(a, b, &failed, draws, fx),
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

    /// OQ-24.
    fn cancel(&mut self, a: u32, fx: &mut Fx) -> Result<ApiOutput, ApiError> {
        let act = &self.activities[a as usize];
        let idle = act.in_flight() == 0 && act.phase != Phase::SurgeIn;
        let allowed = (act.status.is_paused() && idle)
            || (act.status == ActivityStatus::Init && act.started.is_none());
        if !allowed {
            return Err(conflict(
                act,
                &self.names,
                "CancelInstanceRefresh",
                "a paused activity with no batch refreshing (pause it and wait for the current batch to end), or INIT",
            ));
        }
        self.cancel_now(a, StatusCause::CancelRequested, fx);
        Ok(ApiOutput::Empty)
    }

    /// §1.5 / OQ-24 effects: waiting batches and their waiting instances → CANCELLED; finished
    /// batches unchanged; FAILED instances stay in standby.
    fn cancel_now(&mut self, a: u32, cause: StatusCause, fx: &mut Fx) {
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
        self.set_status(a, ActivityStatus::Cancelled, cause, fx);
    }

    // ------------------------------------------------------------------------------------
    // Group APIs that interact with a refresh
    // ------------------------------------------------------------------------------------

    /// OQ-17: refused while a refresh holds the group.
    fn enable_group(&mut self, group_id: &str, fx: &mut Fx) -> Result<ApiOutput, ApiError> {
        self.require_group(group_id)?;
        if let Some(active) = self.activities.iter().find(|a| !a.status.is_terminal()) {
            return Err(ApiError::new(
                ErrorCode::ResourceUnavailableAutoScalingGroupInRefreshActivity,
                format!(
                    "The scaling group cannot be enabled during refresh activity {}",
                    self.names.get(active.id)
                ),
            ));
        }
        self.set_enabled(EnabledStatus::Enabled, "EnableAutoScalingGroup", fx);
        Ok(ApiOutput::Empty)
    }

    /// OQ-17: allowed; during a refresh it changes what will be restored.
    fn disable_group(&mut self, group_id: &str, fx: &mut Fx) -> Result<ApiOutput, ApiError> {
        self.require_group(group_id)?;
        if self.group.remembered_enabled.is_some() {
            self.group.remembered_enabled = Some(EnabledStatus::Disabled);
        }
        self.set_enabled(EnabledStatus::Disabled, "DisableAutoScalingGroup", fx);
        Ok(ApiOutput::Empty)
    }

    /// §6.9, OQ-16, OQ-34: a new launch-configuration version; later reinstalls read it.
    fn modify_launch_configuration(
        &mut self,
        req: &ModifyLaunchConfigurationRequest,
        fx: &mut Fx,
    ) -> Result<ApiOutput, ApiError> {
        if req.launch_configuration_id != self.current_lc().spec.id {
            return Err(ApiError::new(
                ErrorCode::ResourceNotFoundLaunchConfigurationIdNotFound,
                format!(
                    "The launch configuration {} does not exist",
                    req.launch_configuration_id
                ),
            ));
        }
        self.apply_launch_config_change(req, fx);
        Ok(ApiOutput::Empty)
    }

    pub fn apply_launch_config_change(
        &mut self,
        req: &ModifyLaunchConfigurationRequest,
        fx: &mut Fx,
    ) {
        let mut spec = self.current_lc().spec.clone();
        let mut changed = Vec::new();
        let json = |v: &Value| serde_json::to_string(v).expect("JSON values always serialize");
        if let Some(image) = &req.image_id {
            spec.image_id = image.clone();
            changed.push("ImageId");
        }
        if let Some(user_data) = &req.user_data {
            spec.user_data = user_data.clone();
            changed.push("UserData");
        }
        if let Some(v) = &req.enhanced_service {
            spec.enhanced_service = json(v);
            changed.push("EnhancedService");
        }
        if let Some(v) = &req.host_name_settings {
            spec.host_name = json(v);
            changed.push("HostNameSettings");
        }
        if let Some(v) = &req.login_settings {
            spec.login_settings = json(v);
            changed.push("LoginSettings");
        }
        if let Some(types) = &req.instance_types {
            spec.instance_type = types.first().cloned().unwrap_or_default();
            changed.push("InstanceTypes");
        }
        let version = self.launch_configs.len() as u32;
        let image = self.names.intern(&spec.image_id);
        self.launch_configs.push(super::world::LaunchConfig {
            version,
            spec,
            image,
        });
        fx.emit(Event::LaunchConfig {
            version,
            image,
            changed: changed.join(",").into_boxed_str(),
        });
    }

    // ------------------------------------------------------------------------------------
    // Timers
    // ------------------------------------------------------------------------------------

    pub fn on_timer(&mut self, timer: Timer, draws: &mut dyn Draws, fx: &mut Fx) {
        match timer {
            Timer::InitDone { activity } => {
                let act = &mut self.activities[activity as usize];
                act.init_done = true;
                let runnable = matches!(act.status, ActivityStatus::Init | ActivityStatus::Running);
                if act.started.is_none() && runnable {
                    self.begin(activity, draws, fx);
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
            } => self.on_item_step(activity, item as usize, generation, fx),
            Timer::ScalingActivityEnd { scaling_activity } => {
                self.end_scaling_activity(scaling_activity, ScalingActivityStatus::Successful, fx);
            }
        }
    }

    /// OQ-9: INIT → RUNNING, StartTime := now; the first batch starts.
    fn begin(&mut self, a: u32, draws: &mut dyn Draws, fx: &mut Fx) {
        if self.activities[a as usize].status == ActivityStatus::Init {
            self.set_status(a, ActivityStatus::Running, StatusCause::Started, fx);
        }
        self.activities[a as usize].started = Some(fx.now);
        self.set_phase(a, Phase::Batches, fx);
        self.start_batch(a, 0, draws, fx);
    }

    // ------------------------------------------------------------------------------------
    // Batches (OQ-3, OQ-10, OQ-12, OQ-13)
    // ------------------------------------------------------------------------------------

    /// Can this instance be refreshed now (OQ-3)? `Err(status)` says what its item becomes.
    fn refreshable(&self, instance: u32) -> Result<(), (InstanceStatus, Msg)> {
        let inst = &self.instances[instance as usize];
        if !inst.in_group {
            return Err((InstanceStatus::NotFound, Msg::NotFound));
        }
        let running = inst.state == LifeCycleState::InService || inst.held_by_refresh;
        if inst.standby || !running {
            return Err((InstanceStatus::Cancelled, Msg::NotRunning));
        }
        Ok(())
    }

    fn start_batch(&mut self, a: u32, b: u32, draws: &mut dyn Draws, fx: &mut Fx) {
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
    }

    /// Starts one attempt for each listed item as one scaling activity (OQ-10: the batch is one
    /// scaling activity; a retry creates a new one).
    fn run_attempts(
        &mut self,
        a: u32,
        b: u32,
        items: &[usize],
        draws: &mut dyn Draws,
        fx: &mut Fx,
    ) {
        if items.is_empty() {
            self.finish_batch(a, b, fx);
            return;
        }
        let sa = self.begin_scaling_activity(
            ScalingActivityType::ResetInstances,
            Some(a),
            items.len() as u32,
            draws,
            fx,
        );
        self.activities[a as usize].batches[b as usize].scaling_activity = Some(sa);
        self.set_batch(a, b, BatchStatus::Running, fx);
        let sa_id = self.scaling_activities[sa as usize].id;
        for &i in items {
            self.begin_attempt(a, i, sa_id, draws, fx);
        }
    }

    /// OQ-10 steps 1–3.
    fn begin_attempt(&mut self, a: u32, i: usize, sa: Sym, draws: &mut dyn Draws, fx: &mut Fx) {
        let instance = self.activities[a as usize].items[i].instance;
        let (key, inst_id) = {
            let inst = &self.instances[instance as usize];
            (inst.key, inst.id)
        };
        {
            let act = &mut self.activities[a as usize];
            let item = &mut act.items[i];
            item.attempt += 1;
            item.generation += 1;
            item.last_activity = Some(sa);
            item.draws = draws.attempt(key, inst_id, item.attempt);
            let b = item.batch as usize;
            act.batches[b].in_flight += 1;
        }
        self.set_item(a, i, InstanceStatus::Init, Msg::Empty, fx);
        // Step 1: leave service (CLB weight 0, standby; OQ-19 shows it as IN_STANDBY).
        self.instances[instance as usize].held_by_refresh = true;
        self.set_lifecycle(
            instance,
            LifeCycleState::InStandby,
            LifeCycleCause::RefreshStart,
            fx,
        );
        self.start_reinstall(a, i, fx);
    }

    /// OQ-10 step 3 and OQ-16: the launch configuration is read now.
    fn start_reinstall(&mut self, a: u32, i: usize, fx: &mut Fx) {
        self.set_item(a, i, InstanceStatus::Running, Msg::Empty, fx);
        let (lc_version, lc_image) = {
            let lc = self.current_lc();
            (lc.version, lc.image)
        };
        let act = &mut self.activities[a as usize];
        let item = &mut act.items[i];
        let target = item.restore_image.unwrap_or(lc_image);
        if self.missing_images.contains(&target) {
            self.fail_item(a, i, Msg::ImageNotFound, fx);
            return;
        }
        item.lc_version = lc_version;
        item.step = Step::Reinstalling;
        let inst = &self.instances[item.instance as usize];
        item.pre_image.get_or_insert(inst.image);
        fx.after(
            item.draws.reinstall_ms,
            Timer::ItemStep {
                activity: a,
                item: i as u32,
                generation: item.generation,
            },
        );
    }

    fn on_item_step(&mut self, a: u32, i: usize, generation: u32, fx: &mut Fx) {
        let item = &self.activities[a as usize].items[i];
        if item.generation != generation || !item.status.is_in_flight() {
            return; // stale: the instance vanished or the attempt was superseded
        }
        match item.step {
            Step::Reinstalling => match item.draws.reinstall_failure {
                Some(msg) => self.fail_item(a, i, msg, fx),
                None => {
                    self.finish_reinstall(a, i, fx);
                    self.after_reinstall(a, i, fx);
                }
            },
            Step::AwaitingHealth => {
                let timeout_s = self.activities[a as usize]
                    .settings
                    .check_instance_target_health_timeout_s;
                if passes_health(&item.draws, timeout_s) {
                    self.succeed_item(a, i, fx);
                } else {
                    let timeout_s = u32::try_from(timeout_s).unwrap_or(u32::MAX);
                    self.fail_item(a, i, Msg::HealthTimeout { timeout_s }, fx);
                }
            }
            Step::Idle => {}
        }
    }

    /// Writes the refreshable fields read at reinstall start onto the instance (§3.4).
    fn finish_reinstall(&mut self, a: u32, i: usize, fx: &mut Fx) {
        let act = &self.activities[a as usize];
        let item = &act.items[i];
        let lc = &self.launch_configs[item.lc_version as usize];
        let image = item.restore_image.unwrap_or(lc.image);
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
            lc_version,
        });
    }

    /// OQ-10 step 5: CLB target health, only with a forward CLB bound (§2.1).
    fn after_reinstall(&mut self, a: u32, i: usize, fx: &mut Fx) {
        let settings = self.activities[a as usize].settings;
        if !(settings.check_instance_target_health && self.group.forward_clb) {
            self.succeed_item(a, i, fx);
            return;
        }
        let item = &mut self.activities[a as usize].items[i];
        item.step = Step::AwaitingHealth;
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

    /// OQ-10 step 6.
    fn succeed_item(&mut self, a: u32, i: usize, fx: &mut Fx) {
        self.set_item(a, i, InstanceStatus::Successful, Msg::Success, fx);
        let instance = self.activities[a as usize].items[i].instance;
        self.instances[instance as usize].held_by_refresh = false;
        self.set_lifecycle(
            instance,
            LifeCycleState::InService,
            LifeCycleCause::RefreshDone,
            fx,
        );
        self.item_done(a, i, fx);
    }

    /// A failed instance stays in standby with CLB weight 0 (§3.4, §1.5 rule 3).
    fn fail_item(&mut self, a: u32, i: usize, msg: Msg, fx: &mut Fx) {
        self.set_item(a, i, InstanceStatus::Failed, msg, fx);
        self.item_done(a, i, fx);
    }

    fn item_done(&mut self, a: u32, i: usize, fx: &mut Fx) {
        let act = &mut self.activities[a as usize];
        let item = &mut act.items[i];
        item.step = Step::Idle;
        let b = item.batch;
        let batch = &mut act.batches[b as usize];
        batch.in_flight -= 1;
        if batch.in_flight == 0 {
            self.finish_batch(a, b, fx);
        }
    }

    /// OQ-12: the batch's status once nothing is in flight.
    fn finish_batch(&mut self, a: u32, b: u32, fx: &mut Fx) {
        let act = &self.activities[a as usize];
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
        self.activities[a as usize].batches[b as usize].ended = Some(fx.now);
        self.set_batch(a, b, status, fx);
        if let Some(sa) = self.activities[a as usize].batches[b as usize].scaling_activity {
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
            self.end_scaling_activity(sa, sa_status, fx);
        }
        self.after_batch(a, b, fx);
    }

    /// OQ-13: what happens after a batch ends, in the documented order.
    fn after_batch(&mut self, a: u32, b: u32, fx: &mut Fx) {
        let act = &self.activities[a as usize];
        if act.status.is_terminal() {
            return; // e.g. cancelled while this batch finished its in-flight instances
        }
        let has_failed = act
            .batch_items(b)
            .any(|i| act.items[i].status == InstanceStatus::Failed && !act.items[i].skipped);
        if has_failed {
            match act.settings.fail_process {
                FailProcess::AutoPause => {
                    self.set_status(a, ActivityStatus::FailedPause, StatusCause::BatchFailed, fx);
                }
                FailProcess::AutoCancel => self.cancel_now(a, StatusCause::AutoCancel, fx),
                FailProcess::AutoRollback => {
                    unreachable!("AUTO_ROLLBACK is refused at Start by this version")
                }
            }
            return;
        }
        if act.status == ActivityStatus::ManualPause {
            return; // OQ-13 step 2
        }
        self.advance_after_success(a, b, fx);
    }

    /// OQ-13 steps 3–4 after a batch that ended without (unskipped) failures.
    fn advance_after_success(&mut self, a: u32, b: u32, fx: &mut Fx) {
        let act = &self.activities[a as usize];
        let last = b as usize + 1 == act.batches.len();
        if last {
            self.complete(a, fx);
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
    /// activity completes after the last batch.
    fn advance(&mut self, a: u32, b: u32, draws: &mut dyn Draws, fx: &mut Fx) {
        let act = &self.activities[a as usize];
        if b as usize + 1 == act.batches.len() {
            self.complete(a, fx);
        } else {
            self.start_batch(a, b + 1, draws, fx);
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
        self.activities[a as usize].batches[b as usize].ended = None;
        let mut startable = Vec::with_capacity(failed.len());
        for &i in failed {
            let instance = self.activities[a as usize].items[i].instance;
            match self.refreshable(instance) {
                Ok(()) => {
                    self.set_item(a, i, InstanceStatus::Waiting, Msg::Empty, fx);
                    startable.push(i);
                }
                Err((InstanceStatus::NotFound, msg)) => {
                    self.set_item(a, i, InstanceStatus::NotFound, msg, fx)
                }
                Err(_) => {} // stays FAILED (e.g. the user stopped it meanwhile)
            }
        }
        self.run_attempts(a, b, &startable, draws, fx);
    }

    /// OQ-13 step 4: after the last batch (no surge instances in this version) → SUCCESSFUL.
    fn complete(&mut self, a: u32, fx: &mut Fx) {
        self.set_status(a, ActivityStatus::Successful, StatusCause::Completed, fx);
    }

    // ------------------------------------------------------------------------------------
    // Status setters: every change is exactly one record
    // ------------------------------------------------------------------------------------

    fn set_status(&mut self, a: u32, to: ActivityStatus, cause: StatusCause, fx: &mut Fx) {
        let act = &mut self.activities[a as usize];
        let from = act.status;
        if from == to {
            return;
        }
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

    fn set_phase(&mut self, a: u32, to: Phase, fx: &mut Fx) {
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
        batch.status = to;
        fx.emit(Event::BatchStatus {
            activity: act.id,
            batch: b + 1,
            from: Some(from),
            to,
            size: batch.items.len() as u32,
        });
    }

    fn set_item(&mut self, a: u32, i: usize, to: InstanceStatus, msg: Msg, fx: &mut Fx) {
        let act = &mut self.activities[a as usize];
        let item = &mut act.items[i];
        let from = item.status;
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

    // ------------------------------------------------------------------------------------
    // External changes (faults)
    // ------------------------------------------------------------------------------------

    pub fn apply_change(&mut self, change: &WorldChange, draws: &mut dyn Draws, fx: &mut Fx) {
        match change {
            WorldChange::InstanceLeaves { instance, how } => {
                self.instance_leaves(*instance, *how, "external", fx)
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
                // EnterStandby takes only running instances; one being refreshed is in operation.
                if inst.in_group && inst.state == LifeCycleState::InService {
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
                        self.set_status(a, ActivityStatus::Failed, StatusCause::InternalError, fx);
                    }
                }
            }
            WorldChange::ScalingActivity {
                activity_type,
                duration_ms,
            } => self.begin_external_scaling_activity(*activity_type, *duration_ms, draws, fx),
            WorldChange::LaunchConfig(req) => self.apply_launch_config_change(req, fx),
        }
    }

    /// The (activity, item) refreshing this instance right now, if any.
    pub fn instance_in_flight(&self, instance: u32) -> Option<(u32, usize)> {
        self.activities.iter().enumerate().find_map(|(a, act)| {
            act.items
                .iter()
                .position(|it| it.instance == instance && it.status.is_in_flight())
                .map(|i| (a as u32, i))
        })
    }

    /// §3.4, §1.1 rule 4: an instance leaving the group becomes NOT_FOUND in every activity
    /// where it was still pending or in flight, and never blocks the activity.
    pub fn instance_leaves(
        &mut self,
        instance: u32,
        how: Departure,
        cause: &'static str,
        fx: &mut Fx,
    ) {
        let inst = &mut self.instances[instance as usize];
        if !inst.in_group {
            return;
        }
        inst.in_group = false;
        inst.held_by_refresh = false;
        fx.emit(Event::InstanceLeft {
            instance: inst.id,
            from: inst.state,
            how,
            cause,
        });
        for a in 0..self.activities.len() as u32 {
            let pending: Vec<usize> = self.activities[a as usize]
                .items
                .iter()
                .enumerate()
                .filter(|(_, it)| {
                    it.instance == instance
                        && matches!(
                            it.status,
                            InstanceStatus::Waiting
                                | InstanceStatus::Init
                                | InstanceStatus::Running
                        )
                })
                .map(|(i, _)| i)
                .collect();
            for i in pending {
                let was_in_flight = self.activities[a as usize].items[i].status.is_in_flight();
                self.activities[a as usize].items[i].generation += 1;
                self.set_item(a, i, InstanceStatus::NotFound, Msg::NotFound, fx);
                if was_in_flight {
                    self.item_done(a, i, fx);
                }
            }
        }
    }

    /// A CVM-console stop: an instance being refreshed fails its refresh.
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
}

/// OQ-10 step 5: passes when the target is healthy within the timeout.
fn passes_health(draws: &super::AttemptDraws, timeout_s: u64) -> bool {
    draws
        .health_pass_ms
        .is_some_and(|pass_ms| pass_ms <= timeout_s * 1000)
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
