//! API admission: each action's checks in the documented order (OQ-27 for Start, OQ-25 for
//! Rollback, OQ-28 for Stop/Resume/Cancel, OQ-29 for Describe), then the state change it asks
//! for. Every call is recorded (`api_call`, then its effects, then `api_result`).

use super::Fx;
use super::draws::Draws;
use super::ops::HookLookup;
use super::world::{Activity, World};
use crate::api::request::{
    ActivityRequest, CompleteLifecycleActionRequest, ModifyLaunchConfigurationRequest,
    ResumeInstanceRefreshRequest, StartInstanceRefreshRequest,
};
use crate::api::settings::{check_refresh_mode, check_resume_mode, check_settings};
use crate::api::{
    Action, ActivityStatus, ActivityType, ApiCall, ApiError, ApiOutput, EnabledStatus, ErrorCode,
    GroupStatus, HookResultReason, LifecycleActionResult, RefreshSettings,
};
use crate::timeline::{Event, Phase, StatusCause, Sym};
use serde_json::Value;

impl World {
    /// Handles one API call at `fx.now`: records the call, applies it, records the result.
    /// Checks run in OQ-27 order: rate limit, role, shape (OQ-38), values, state.
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
        self.settle(draws, fx);
        let response = (result.is_ok() && action.is_describe()).then(|| {
            let envelope = crate::api::ApiResponse {
                request_id: self.names.get(request_id).to_string(),
                result: result.clone(),
            }
            .to_json();
            serde_json::to_string(&envelope)
                .expect("JSON values always serialize")
                .into_boxed_str()
        });
        fx.emit(Event::ApiResult {
            request_id,
            action,
            error: result
                .as_ref()
                .err()
                .map(|e| (e.code, e.message.clone().into_boxed_str())),
            activity,
            response,
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
            return (Err(e), None); // OQ-27 (1), OQ-30, OQ-43: no side effects
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
            Err(e) => return (Err(e), None), // OQ-27 (3), OQ-38
        };
        let created = |w: &World, r: Result<u32, ApiError>| match r {
            Ok(a) => {
                let id = w.activities[a as usize].id;
                (
                    Ok(ApiOutput::RefreshActivityId(w.names.get(id).to_string())),
                    Some(id),
                )
            }
            Err(e) => (Err(e), None),
        };
        match call {
            ApiCall::StartInstanceRefresh(req) => {
                let r = self.start_refresh(&req, draws, fx);
                created(self, r)
            }
            ApiCall::RollbackInstanceRefresh(req) => {
                let r = self.rollback(&req, draws, fx);
                created(self, r)
            }
            ApiCall::DescribeRefreshActivities(req) => (self.describe(&req), None),
            ApiCall::StopInstanceRefresh(req) => self.with_activity(&req, |w, a| w.stop(a, fx)),
            ApiCall::ResumeInstanceRefresh(req) => self.resume(&req, draws, fx),
            ApiCall::CancelInstanceRefresh(req) => {
                self.with_activity(&req, |w, a| w.cancel(a, draws, fx))
            }
            ApiCall::EnableAutoScalingGroup(req) => (
                self.enable_group(&req.auto_scaling_group_id, draws, fx),
                None,
            ),
            ApiCall::DisableAutoScalingGroup(req) => {
                (self.disable_group(&req.auto_scaling_group_id, fx), None)
            }
            ApiCall::ModifyLaunchConfigurationAttributes(req) => {
                (self.modify_launch_configuration(&req, fx), None)
            }
            ApiCall::RemoveInstances(req) => (self.remove_instances(&req, false, draws, fx), None),
            ApiCall::DetachInstances(req) => (self.remove_instances(&req, true, draws, fx), None),
            ApiCall::ScaleInInstances(req) => (self.scale_in(&req, draws, fx), None),
            ApiCall::ScaleOutInstances(req) => (self.scale_out(&req, draws, fx), None),
            ApiCall::CompleteLifecycleAction(req) => {
                (self.complete_lifecycle_action(&req, draws, fx), None)
            }
            ApiCall::ExecuteScalingPolicy(req) => (self.execute_policy(&req, draws, fx), None),
            ApiCall::DescribeAutoScalingGroups(req) => (self.describe_groups(&req), None),
            ApiCall::DescribeAutoScalingInstances(req) => (self.describe_instances(&req), None),
            ApiCall::DescribeAutoScalingActivities(req) => {
                (self.describe_scaling_activities(&req), None)
            }
            ApiCall::DescribeLaunchConfigurations(req) => {
                (self.describe_launch_configurations(&req), None)
            }
            ApiCall::DescribeLifecycleHooks(req) => (self.describe_lifecycle_hooks(&req), None),
            ApiCall::DescribeAccountLimits => (Ok(self.describe_account_limits()), None),
        }
    }

    /// `ResourceUnavailable.RefreshActivityStatusConflictWithOperation` for activity `a`.
    pub(crate) fn conflict(&self, a: u32, operation: &str, needs: &str) -> ApiError {
        let act: &Activity = &self.activities[a as usize];
        ApiError::new(
            ErrorCode::ResourceUnavailableRefreshActivityStatusConflictWithOperation,
            format!(
                "The refresh activity {} is {}{}; {operation} requires {needs}",
                self.names.get(act.id),
                act.status,
                match act.phase {
                    Phase::SurgeIn => " in its final scale-in",
                    Phase::Failing => " and failing after an internal error (OQ-64)",
                    Phase::Init | Phase::SurgeOut | Phase::Batches | Phase::Done => "",
                }
            ),
        )
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

    pub(crate) fn require_group(&self, group_id: &str) -> Result<(), ApiError> {
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
        let members = eligible.into_iter().map(|i| (i, None)).collect();
        let new = super::refresh::NewActivity {
            activity_type: ActivityType::Normal,
            mode,
            settings,
            origin: None,
            members,
        };
        Ok(self.create_activity(new, draws, fx))
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

    // ------------------------------------------------------------------------------------
    // Stop / Resume / Cancel (OQ-21, OQ-22, OQ-24)
    // ------------------------------------------------------------------------------------

    /// OQ-21: INIT or RUNNING, not in the final scale-in → MANUAL_PAUSE at once; instances and
    /// surge instances in flight finish; no new batch starts.
    fn stop(&mut self, a: u32, fx: &mut Fx) -> Result<ApiOutput, ApiError> {
        let act = &self.activities[a as usize];
        let allowed = matches!(act.status, ActivityStatus::Init | ActivityStatus::Running)
            && !matches!(act.phase, Phase::SurgeIn | Phase::Failing);
        if !allowed {
            return Err(self.conflict(
                a,
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
        let id = self.activities[a as usize].id;
        if !self.activities[a as usize].status.is_paused()
            || self.activities[a as usize].phase == Phase::Failing
        {
            // §8.5: documented as "no effect"; OQ-22 chooses the conflict error.
            let e = self.conflict(
                a,
                "ResumeInstanceRefresh",
                "FAILED_PAUSE, AUTO_PAUSE or MANUAL_PAUSE",
            );
            return (Err(e), Some(id));
        }
        self.set_status(a, ActivityStatus::Running, StatusCause::ResumeRequested, fx);
        self.resume_work(a, mode, draws, fx);
        (Ok(ApiOutput::Empty), Some(id))
    }

    /// OQ-24.
    fn cancel(
        &mut self,
        a: u32,
        draws: &mut dyn Draws,
        fx: &mut Fx,
    ) -> Result<ApiOutput, ApiError> {
        let act = &self.activities[a as usize];
        let idle = act.in_flight() == 0 && act.surge.in_flight == 0 && act.phase != Phase::SurgeIn;
        let allowed = (act.status.is_paused() && idle)
            || (act.status == ActivityStatus::Init && act.started.is_none());
        if !allowed {
            return Err(self.conflict(
                a,
                "CancelInstanceRefresh",
                "a paused activity with no batch or surge scale-out in flight (pause it and wait for the current batch to end), or INIT",
            ));
        }
        self.cancel_now(a, StatusCause::CancelRequested, draws, fx);
        Ok(ApiOutput::Empty)
    }

    // ------------------------------------------------------------------------------------
    // Group APIs that interact with a refresh
    // ------------------------------------------------------------------------------------

    /// OQ-17: refused while a refresh holds the group.
    fn enable_group(
        &mut self,
        group_id: &str,
        draws: &mut dyn Draws,
        fx: &mut Fx,
    ) -> Result<ApiOutput, ApiError> {
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
        self.match_desired_capacity(draws, fx);
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
        crate::api::lc_fields::check_values(req)?; // OQ-27 order: values, then state
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
            spec.stored.insert(
                "InstanceTypes".into(),
                Value::Array(types.iter().cloned().map(Value::String).collect()),
            );
            changed.push("InstanceTypes");
        }
        // OQ-91: fields no refresh reads are kept for DescribeLaunchConfigurations.
        for (name, value) in &req.stored {
            if name == "LaunchConfigurationName"
                && let Some(text) = value.as_str()
            {
                spec.name = text.to_string();
            }
            spec.stored.insert(name.clone(), value.clone());
            changed.push(name.as_str());
        }
        let version = self.launch_configs.len() as u32;
        let image = self.names.intern(&spec.image_id);
        let fields = spec.fields_digest();
        self.launch_configs.push(super::world::LaunchConfig {
            version,
            spec,
            image,
            written: fx.now,
        });
        fx.emit(Event::LaunchConfig {
            version,
            image,
            changed: changed.join(",").into_boxed_str(),
            fields: Some(fields),
        });
    }

    /// §6.8 CompleteLifecycleAction: sets the result of a pending hook action, found by
    /// instance or token; a result already set → `LifecycleActionResultHasSet`.
    fn complete_lifecycle_action(
        &mut self,
        req: &CompleteLifecycleActionRequest,
        draws: &mut dyn Draws,
        fx: &mut Fx,
    ) -> Result<ApiOutput, ApiError> {
        let result =
            LifecycleActionResult::parse(&req.lifecycle_action_result).ok_or_else(|| {
                ApiError::new(
                    ErrorCode::InvalidParameterValue,
                    format!(
                        "LifecycleActionResult must be one of {}, found {}",
                        LifecycleActionResult::expected(),
                        req.lifecycle_action_result
                    ),
                )
            })?;
        if req.instance_id.is_none() && req.lifecycle_action_token.is_none() {
            return Err(ApiError::new(
                ErrorCode::MissingParameter,
                "One of InstanceId and LifecycleActionToken is required",
            ));
        }
        let hook = self
            .hooks
            .iter()
            .position(|h| self.names.get(h.id) == req.lifecycle_hook_id)
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::ResourceNotFoundLifecycleHookNotFound,
                    format!(
                        "The lifecycle hook {} does not exist",
                        req.lifecycle_hook_id
                    ),
                )
            })? as u32;
        let instance = match &req.instance_id {
            None => None,
            Some(id) => Some(self.instance_by_name(id).ok_or_else(|| {
                ApiError::new(
                    ErrorCode::ResourceNotFoundLifecycleHookInstanceNotMatch,
                    format!(
                        "Instance {id} has no action pending on lifecycle hook {}",
                        req.lifecycle_hook_id
                    ),
                )
            })?),
        };
        let token = match &req.lifecycle_action_token {
            None => None,
            Some(t) => Some(self.names.lookup(t).ok_or_else(|| {
                ApiError::new(
                    ErrorCode::ResourceNotFoundLifecycleHookInstanceNotMatch,
                    format!("No lifecycle action has token {t}"),
                )
            })?),
        };
        match self.find_hook_action(hook, instance, token) {
            HookLookup::Pending(run) => {
                self.complete_hook(run, result, HookResultReason::CallInterface, draws, fx);
                Ok(ApiOutput::Empty)
            }
            HookLookup::AlreadySet => Err(ApiError::new(
                ErrorCode::ResourceUnavailableLifecycleActionResultHasSet,
                "The result of this lifecycle action has already been set",
            )),
            HookLookup::NotPending => Err(ApiError::new(
                ErrorCode::ResourceNotFoundLifecycleHookInstanceNotMatch,
                format!(
                    "No action is pending on lifecycle hook {} for this instance",
                    req.lifecycle_hook_id
                ),
            )),
        }
    }

    /// Settings a rollback that this engine creates would pass (for tests).
    pub fn default_settings(batch_number: u32) -> RefreshSettings {
        RefreshSettings {
            batch_number: u64::from(batch_number),
            batch_pause: crate::api::BatchPause::Automatic,
            max_surge: 0,
            fail_process: crate::api::FailProcess::AutoPause,
            check_instance_target_health: false,
            check_instance_target_health_timeout_s: crate::api::settings::HEALTH_TIMEOUT_DEFAULT_S,
        }
    }
}
