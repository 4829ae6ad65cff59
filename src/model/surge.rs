//! MaxSurge (spec §2.2, §3.9; OQ-6, OQ-7, OQ-8): extra pay-as-you-go instances created before
//! the first batch (phase SURGE_OUT) and destroyed after the last (phase SURGE_IN). They are
//! group members outside every batch, not counted in DesiredCapacity, not bounded by MaxSize,
//! but bounded by the 2,000-instance cap.

use super::Fx;
use super::draws::Draws;
use super::world::{Deferred, OpKind, OpOwner, OpStart, World};
use crate::api::{ActivityStatus, FailProcess, ScalingActivityStatus, ScalingActivityType};
use crate::timeline::{Phase, ScalingCause, StatusCause};

impl World {
    /// Creates the missing surge instances (all of them at first; after a failure, on Resume,
    /// only those still missing — OQ-7).
    pub(crate) fn start_surge_out(&mut self, a: u32, draws: &mut dyn Draws, fx: &mut Fx) {
        if self.held(a, Deferred::SurgeOut) {
            return; // OQ-66
        }
        let act = &self.activities[a as usize];
        let missing = (act.settings.max_surge as usize).saturating_sub(act.surge.instances.len());
        if missing == 0 {
            self.surge_out_done(a, draws, fx);
            return;
        }
        // The hard cap counts surge instances (OQ-7); what does not fit fails the scale-out.
        let members = self.instances.iter().filter(|i| i.in_group).count();
        let room = self.max_instances.saturating_sub(members);
        let creatable = missing.min(room);
        let sa = self.begin_scaling_activity(
            ScalingActivityType::ScaleOut,
            Some(a),
            missing as u32,
            ScalingCause::Refresh,
            draws,
            fx,
        );
        let surge = &mut self.activities[a as usize].surge;
        surge.scaling_activity = Some(sa);
        surge.failed = creatable < missing;
        surge.in_flight += creatable as u32;
        for _ in 0..creatable {
            let instance = self.new_instance(true, draws, fx);
            let owner = OpOwner::SurgeOut { activity: a };
            self.start_op(
                OpStart::automatic(OpKind::Create, instance, owner, sa),
                draws,
                fx,
            );
        }
        if creatable == 0 {
            self.surge_out_done(a, draws, fx);
        }
    }

    pub(crate) fn on_surge_created(
        &mut self,
        a: u32,
        instance: u32,
        ok: bool,
        draws: &mut dyn Draws,
        fx: &mut Fx,
    ) {
        let surge = &mut self.activities[a as usize].surge;
        surge.in_flight -= 1;
        if ok {
            surge.instances.push(instance);
        } else {
            surge.failed = true;
        }
        if surge.in_flight == 0 {
            self.surge_out_done(a, draws, fx);
        }
    }

    /// OQ-7: the scale-out ended; fewer than MaxSurge instances is a failure.
    fn surge_out_done(&mut self, a: u32, draws: &mut dyn Draws, fx: &mut Fx) {
        let (failed, sa, status) = {
            let act = &self.activities[a as usize];
            (act.surge.failed, act.surge.scaling_activity, act.status)
        };
        if let Some(sa) = sa {
            let created = self.activities[a as usize].surge.instances.len();
            let sa_status = match (failed, created) {
                (false, _) => ScalingActivityStatus::Successful,
                (true, 0) => ScalingActivityStatus::Failed,
                (true, _) => ScalingActivityStatus::PartiallySuccessful,
            };
            self.end_scaling_activity(sa, sa_status, fx);
        }
        if status.is_terminal() {
            return;
        }
        if self.activities[a as usize].phase == Phase::Failing {
            self.fail_if_settled(a, draws, fx); // OQ-64
            return;
        }
        if failed {
            match self.activities[a as usize].settings.fail_process {
                FailProcess::AutoPause => self.set_status(
                    a,
                    ActivityStatus::FailedPause,
                    StatusCause::SurgeOutFailed,
                    fx,
                ),
                // §2.2: MaxSurge scale-out/in failures need no rollback; a cancel is done instead.
                FailProcess::AutoCancel | FailProcess::AutoRollback => {
                    self.cancel_now(a, StatusCause::SurgeOutFailed, draws, fx)
                }
            }
            return;
        }
        if status == ActivityStatus::ManualPause {
            return; // §1.3: the scale-out finished under a manual pause; Resume starts batch 1
        }
        self.set_phase(a, Phase::Batches, fx);
        self.start_batch(a, 0, draws, fx);
    }

    /// OQ-7, §3.9 rule 3: after the last batch, destroy every surge instance.
    pub(crate) fn start_surge_in(&mut self, a: u32, draws: &mut dyn Draws, fx: &mut Fx) {
        if self.held(a, Deferred::SurgeIn) {
            return; // OQ-66
        }
        let targets: Vec<u32> = self.activities[a as usize]
            .surge
            .instances
            .iter()
            .copied()
            .filter(|&i| {
                self.instances[i as usize].in_group && self.instances[i as usize].op.is_none()
            })
            .collect();
        if targets.is_empty() {
            self.surge_in_done(a, draws, fx);
            return;
        }
        let sa = self.begin_scaling_activity(
            ScalingActivityType::ScaleIn,
            Some(a),
            targets.len() as u32,
            ScalingCause::Refresh,
            draws,
            fx,
        );
        let surge = &mut self.activities[a as usize].surge;
        surge.scaling_activity = Some(sa);
        surge.failed = false;
        surge.in_flight += targets.len() as u32;
        for instance in targets {
            let owner = OpOwner::SurgeIn { activity: a };
            self.start_op(
                OpStart::automatic(OpKind::Destroy, instance, owner, sa),
                draws,
                fx,
            );
        }
    }

    pub(crate) fn on_surge_destroyed(
        &mut self,
        a: u32,
        instance: u32,
        ok: bool,
        draws: &mut dyn Draws,
        fx: &mut Fx,
    ) {
        let surge = &mut self.activities[a as usize].surge;
        surge.in_flight -= 1;
        if ok {
            surge.instances.retain(|&i| i != instance);
        } else {
            surge.failed = true;
        }
        if surge.in_flight == 0 {
            self.surge_in_done(a, draws, fx);
        }
    }

    /// OQ-7: a failed final scale-in pauses the activity whatever FailProcess says; success
    /// completes it.
    fn surge_in_done(&mut self, a: u32, draws: &mut dyn Draws, fx: &mut Fx) {
        let (failed, sa) = {
            let surge = &self.activities[a as usize].surge;
            (surge.failed, surge.scaling_activity)
        };
        if let Some(sa) = sa {
            let status = if failed {
                ScalingActivityStatus::Failed
            } else {
                ScalingActivityStatus::Successful
            };
            self.end_scaling_activity(sa, status, fx);
        }
        if self.activities[a as usize].phase == Phase::Failing {
            self.fail_if_settled(a, draws, fx); // OQ-64: what is left is cleaned up
            return;
        }
        if failed {
            self.set_status(
                a,
                ActivityStatus::FailedPause,
                StatusCause::SurgeInFailed,
                fx,
            );
        } else {
            self.set_status(a, ActivityStatus::Successful, StatusCause::Completed, fx);
        }
    }

    /// OQ-24, OQ-26: after a cancel or an AUTO_ROLLBACK the surge instances are destroyed by a
    /// SCALE_IN activity that cannot fail and that nothing waits for.
    pub(crate) fn clean_up_surge(&mut self, a: u32, draws: &mut dyn Draws, fx: &mut Fx) {
        let targets: Vec<u32> = self.activities[a as usize]
            .surge
            .instances
            .iter()
            .copied()
            .filter(|&i| {
                self.instances[i as usize].in_group && self.instances[i as usize].op.is_none()
            })
            .collect();
        if targets.is_empty() || self.held(a, Deferred::SurgeCleanup) {
            return; // OQ-66: a held clean-up runs once the other scaling activity ends
        }
        let sa = self.begin_scaling_activity(
            ScalingActivityType::ScaleIn,
            Some(a),
            targets.len() as u32,
            ScalingCause::Refresh,
            draws,
            fx,
        );
        self.activities[a as usize].surge.scaling_activity = Some(sa);
        self.activities[a as usize].surge.in_flight += targets.len() as u32;
        for instance in targets {
            let owner = OpOwner::SurgeCleanup { activity: a };
            self.start_op(
                OpStart::automatic(OpKind::Destroy, instance, owner, sa).cannot_fail(),
                draws,
                fx,
            );
        }
    }

    pub(crate) fn on_surge_cleaned(&mut self, a: u32, instance: u32, fx: &mut Fx) {
        let surge = &mut self.activities[a as usize].surge;
        surge.in_flight = surge.in_flight.saturating_sub(1);
        surge.instances.retain(|&i| i != instance);
        if surge.in_flight == 0
            && let Some(sa) = surge.scaling_activity
        {
            self.end_scaling_activity(sa, ScalingActivityStatus::Successful, fx);
            // OQ-32: the cancelled activity already re-enabled the group, but matching was
            // held off while this clean-up ran; the group is free now (done in `settle`).
            self.matching_due = true;
        }
    }

    /// A surge instance left the group from outside (destroyed in the console): forget it.
    pub(crate) fn forget_surge_instance(&mut self, instance: u32) {
        for act in &mut self.activities {
            act.surge.instances.retain(|&i| i != instance);
        }
    }
}
