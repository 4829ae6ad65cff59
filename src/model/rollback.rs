//! RollbackInstanceRefresh (spec §1.6, §3.8; OQ-25, OQ-26) and FailProcess AUTO_ROLLBACK
//! (§2.2, OQ-26): a new ROLLBACK activity reinstalls each instance with its own pre-origin
//! image and the current launch configuration's other refreshable fields.

use super::Fx;
use super::draws::Draws;
use super::refresh::NewActivity;
use super::world::World;
use crate::api::request::RollbackInstanceRefreshRequest;
use crate::api::settings::{check_refresh_mode, check_settings};
use crate::api::{
    ActivityStatus, ActivityType, ApiError, BatchPause, ErrorCode, FailProcess, InstanceStatus,
    RefreshMode, RefreshSettings,
};
use crate::timeline::{Phase, StatusCause, Sym};

/// An admitted rollback: what `World::create_rollback` creates.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RollbackPlan {
    pub origin: u32,
    pub settings: RefreshSettings,
    /// The rollback set R (OQ-25 step 7): (instance, image to restore), in batch order.
    pub members: Vec<(u32, Option<Sym>)>,
}

/// Why a rollback is created; it decides how a still-open origin ends (OQ-26).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RollbackCause {
    /// RollbackInstanceRefresh: the paused origin is cancelled.
    Requested,
    /// FailProcess AUTO_ROLLBACK: the origin goes FAILED.
    Auto,
}

impl RollbackCause {
    /// The origin's final status and the cause recorded with it.
    fn origin_end(self) -> (ActivityStatus, StatusCause) {
        match self {
            RollbackCause::Requested => (ActivityStatus::Cancelled, StatusCause::RolledBack),
            RollbackCause::Auto => (ActivityStatus::Failed, StatusCause::AutoRollback),
        }
    }
}

impl World {
    /// The rollback set R of OQ-25 step 7: origin instances that were SUCCESSFUL, FAILED, INIT or
    /// RUNNING and are still in the group, in batch order (OQ-2), each with the image to restore.
    fn rollback_members(&self, origin: u32) -> Vec<(u32, Option<Sym>)> {
        let act = &self.activities[origin as usize];
        let mut members: Vec<u32> = act
            .items
            .iter()
            .filter(|it| {
                matches!(
                    it.status,
                    InstanceStatus::Successful
                        | InstanceStatus::Failed
                        | InstanceStatus::Init
                        | InstanceStatus::Running
                ) && self.instances[it.instance as usize].in_group
            })
            .map(|it| it.instance)
            .collect();
        self.sort_by_add_time(&mut members);
        members
            .into_iter()
            .map(|instance| {
                let item = act
                    .items
                    .iter()
                    .find(|it| it.instance == instance)
                    .expect("member of origin");
                // OQ-16/OQ-26: the image the instance had before the origin reinstalled it.
                let restore = item
                    .pre_image
                    .unwrap_or(self.instances[instance as usize].image);
                (instance, Some(restore))
            })
            .collect()
    }

    /// OQ-25, after the rate limit, role and shape checks: admission (pure), then creation.
    pub(crate) fn rollback(
        &mut self,
        req: &RollbackInstanceRefreshRequest,
        draws: &mut dyn Draws,
        fx: &mut Fx,
    ) -> Result<u32, ApiError> {
        let plan = self.admit_rollback(req)?;
        Ok(self.create_rollback(plan, RollbackCause::Requested, draws, fx))
    }

    /// OQ-25: value checks of the settings, then steps 1–8 in order; the first that fails is
    /// the error. Changes nothing.
    pub(crate) fn admit_rollback(
        &self,
        req: &RollbackInstanceRefreshRequest,
    ) -> Result<RollbackPlan, ApiError> {
        let settings = check_settings(&req.refresh_settings)?;
        let origin = self.rollback_origin(req)?;
        self.rollback_group_free(origin)?;
        check_rollback_settings(&settings, req.refresh_mode.as_deref())?;
        let members = self.rollback_set(origin, &settings)?;
        Ok(RollbackPlan {
            origin,
            settings,
            members,
        })
    }

    /// OQ-25 steps 1–4: the origin exists in this group and may be rolled back.
    fn rollback_origin(&self, req: &RollbackInstanceRefreshRequest) -> Result<u32, ApiError> {
        // Step 1.
        self.require_group(&req.auto_scaling_group_id)?;
        let origin = self
            .activity_by_name(&req.origin_refresh_activity_id)
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::InvalidParameterValue,
                    format!(
                        "OriginRefreshActivityId {} is not a refresh activity of scaling group {}",
                        req.origin_refresh_activity_id, req.auto_scaling_group_id
                    ),
                )
            })?;
        let o = &self.activities[origin as usize];
        // Step 2.
        if o.activity_type == ActivityType::Rollback {
            return Err(ApiError::new(
                ErrorCode::ResourceUnavailableRollbackTypeActivityCanNotRollbackAgain,
                format!(
                    "{} is a rollback activity and cannot be rolled back again",
                    req.origin_refresh_activity_id
                ),
            ));
        }
        // Step 3: REPLACE activities cannot be rolled back (§1.6 rule 6).
        if o.mode == RefreshMode::RollingUpdateReplace {
            return Err(self.conflict(
                origin,
                "RollbackInstanceRefresh",
                "a ROLLING_UPDATE_RESET activity",
            ));
        }
        // Step 4.
        let latest = self
            .activities
            .iter()
            .enumerate()
            .max_by_key(|(i, a)| (a.created, *i))
            .map(|(i, _)| i as u32);
        match o.status {
            // OQ-63: a scale-in failure pauses the final surge scale-in (OQ-7) after every batch
            // succeeded; as Cancel (§1.5 rule 6), a rollback is refused there: it would mark a
            // fully refreshed origin CANCELLED and run beside the SCALE_IN (OQ-18).
            ActivityStatus::FailedPause
            | ActivityStatus::AutoPause
            | ActivityStatus::ManualPause
                if matches!(o.phase, Phase::SurgeIn | Phase::Failing) =>
            {
                return Err(self.conflict(
                    origin,
                    "RollbackInstanceRefresh",
                    "a paused activity outside the final scale-in, or the latest SUCCESSFUL one",
                ));
            }
            ActivityStatus::FailedPause
            | ActivityStatus::AutoPause
            | ActivityStatus::ManualPause => {}
            ActivityStatus::Successful if latest == Some(origin) => {}
            ActivityStatus::Successful => {
                return Err(ApiError::new(
                    ErrorCode::ResourceUnavailableRefreshActivityCanNotRollback,
                    format!(
                        "{} is SUCCESSFUL but not the latest refresh activity",
                        req.origin_refresh_activity_id
                    ),
                ));
            }
            ActivityStatus::Init
            | ActivityStatus::Running
            | ActivityStatus::Cancelled
            | ActivityStatus::Failed => {
                return Err(self.conflict(
                    origin,
                    "RollbackInstanceRefresh",
                    "a paused activity or the latest SUCCESSFUL one",
                ));
            }
        }
        Ok(origin)
    }

    /// OQ-25 step 5: no other refresh activity, no foreign scaling activity, group NORMAL.
    fn rollback_group_free(&self, origin: u32) -> Result<(), ApiError> {
        // Step 5.
        if let Some(other) = self
            .activities
            .iter()
            .enumerate()
            .find(|(i, a)| *i as u32 != origin && !a.status.is_terminal())
        {
            return Err(ApiError::new(
                ErrorCode::ResourceUnavailableAutoScalingGroupInRefreshActivity,
                format!(
                    "The scaling group is in refresh activity {}",
                    self.names.get(other.1.id)
                ),
            ));
        }
        let foreign_activity = self.other_scaling_activity_runs(origin);
        if foreign_activity {
            return Err(ApiError::new(
                ErrorCode::ResourceUnavailableAutoScalingGroupInActivity,
                "The scaling group is in a scaling activity",
            ));
        }
        if self.group.status != crate::api::GroupStatus::Normal {
            return Err(ApiError::new(
                ErrorCode::ResourceUnavailableAutoScalingGroupAbnormalStatus,
                format!("The scaling group status is {}", self.group.status),
            ));
        }
        Ok(())
    }

    /// OQ-25 steps 7–8: the rollback set R is not empty, fits BatchNumber, and every image to
    /// restore exists.
    fn rollback_set(
        &self,
        origin: u32,
        settings: &RefreshSettings,
    ) -> Result<Vec<(u32, Option<Sym>)>, ApiError> {
        // Step 7.
        let members = self.rollback_members(origin);
        if members.is_empty() {
            return Err(ApiError::new(
                ErrorCode::ResourceUnavailableNoInstanceCanRollback,
                "No instance of the origin activity can be rolled back",
            ));
        }
        if settings.batch_number as usize > members.len() {
            return Err(ApiError::new(
                ErrorCode::InvalidParameterValueBatchNumberTooLarge,
                format!(
                    "BatchNumber {} is greater than the {} instances to roll back",
                    settings.batch_number,
                    members.len()
                ),
            ));
        }
        // Step 8.
        if let Some(missing) = members
            .iter()
            .filter_map(|(_, img)| *img)
            .find(|img| self.missing_images.contains(img))
        {
            return Err(ApiError::new(
                ErrorCode::ResourceUnavailableInquiryPriceResetInstanceFailed,
                format!(
                    "Reinstall price inquiry failed: image {} does not exist",
                    self.names.get(missing)
                ),
            ));
        }
        Ok(members)
    }

    /// OQ-26 effects. The rollback is created first so the group stays held (OQ-17: it inherits
    /// the remembered enabled state), then a paused origin is cancelled.
    fn create_rollback(
        &mut self,
        plan: RollbackPlan,
        cause: RollbackCause,
        draws: &mut dyn Draws,
        fx: &mut Fx,
    ) -> u32 {
        let RollbackPlan {
            origin,
            settings,
            members,
        } = plan;
        let new = NewActivity {
            activity_type: ActivityType::Rollback,
            mode: RefreshMode::RollingUpdateReset,
            settings,
            origin: Some(origin),
            members,
        };
        let rollback = self.create_activity(new, draws, fx);
        let o = &self.activities[origin as usize];
        if !o.status.is_terminal() {
            // §1.6 rule 1: the origin's waiting instances are cancelled.
            self.cancel_waiting(origin, fx);
            // §1.5 rule 5, OQ-24: the origin ends cancelled (or FAILED, OQ-26), so its MaxSurge
            // instances are destroyed, as for any cancel (AUTO_ROLLBACK already did it).
            self.clean_up_surge(origin, draws, fx);
            let (to, origin_cause) = cause.origin_end();
            self.set_status(origin, to, origin_cause, fx);
        }
        rollback
    }

    /// OQ-26: FailProcess AUTO_ROLLBACK after a failed batch: the origin goes FAILED and a
    /// rollback with one instance per batch starts; surge instances are destroyed.
    pub(crate) fn auto_rollback(&mut self, a: u32, draws: &mut dyn Draws, fx: &mut Fx) {
        self.clean_up_surge(a, draws, fx);
        let members = self.rollback_members(a);
        if members.is_empty() {
            self.cancel_waiting(a, fx);
            self.set_status(a, ActivityStatus::Failed, StatusCause::AutoRollback, fx);
            return;
        }
        let origin = self.activities[a as usize].settings;
        let settings = RefreshSettings {
            batch_number: members.len() as u64,
            batch_pause: BatchPause::Automatic,
            max_surge: 0,
            fail_process: FailProcess::AutoPause,
            check_instance_target_health: origin.check_instance_target_health,
            check_instance_target_health_timeout_s: origin.check_instance_target_health_timeout_s,
        };
        let plan = RollbackPlan {
            origin: a,
            settings,
            members,
        };
        self.create_rollback(plan, RollbackCause::Auto, draws, fx);
    }
}

/// OQ-25 step 6: §1.6 rule 5 and the rollback's RefreshMode.
fn check_rollback_settings(
    settings: &RefreshSettings,
    mode_text: Option<&str>,
) -> Result<(), ApiError> {
    if settings.max_surge > 0 {
        return Err(ApiError::new(
            ErrorCode::InvalidParameterValue,
            "RollbackInstanceRefresh does not support MaxSurge",
        ));
    }
    let mode = check_refresh_mode(mode_text)?;
    if mode != RefreshMode::RollingUpdateReset {
        return Err(ApiError::new(
            ErrorCode::InvalidParameterValue,
            "RollbackInstanceRefresh supports only RefreshMode ROLLING_UPDATE_RESET",
        ));
    }
    Ok(())
}
