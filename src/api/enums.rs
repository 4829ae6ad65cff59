//! Tencent's enumerations, spelled exactly as the API spells them (spec §4).

use serde::{Serialize, Serializer};

/// Declares a closed enum whose variants map one-to-one to Tencent's string values.
macro_rules! api_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $($(#[$vmeta])* $variant,)+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// Tencent's spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }

            /// Parses Tencent's exact spelling (case-sensitive, as the API is).
            pub fn parse(text: &str) -> Option<$name> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }

            /// `A | B | C`, for error messages.
            pub fn expected() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(" | ")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    };
}

api_enum! {
    /// `RefreshMode` (§1.1, §4.5).
    pub enum RefreshMode {
        RollingUpdateReset = "ROLLING_UPDATE_RESET",
        RollingUpdateReplace = "ROLLING_UPDATE_REPLACE",
    }
}

api_enum! {
    /// `RollingUpdateSettings.BatchPause` (§2.2).
    pub enum BatchPause {
        FirstBatchPause = "FIRST_BATCH_PAUSE",
        BatchIntervalPause = "BATCH_INTERVAL_PAUSE",
        Automatic = "AUTOMATIC",
    }
}

api_enum! {
    /// `RollingUpdateSettings.FailProcess` (§2.2).
    pub enum FailProcess {
        AutoPause = "AUTO_PAUSE",
        AutoRollback = "AUTO_ROLLBACK",
        AutoCancel = "AUTO_CANCEL",
    }
}

api_enum! {
    /// `ResumeInstanceRefresh.ResumeMode` (§1.4).
    pub enum ResumeMode {
        Retry = "RETRY",
        Continue = "CONTINUE",
    }
}

api_enum! {
    /// Refresh activity `Status` (§4.1).
    pub enum ActivityStatus {
        Init = "INIT",
        Running = "RUNNING",
        Successful = "SUCCESSFUL",
        FailedPause = "FAILED_PAUSE",
        AutoPause = "AUTO_PAUSE",
        ManualPause = "MANUAL_PAUSE",
        Cancelled = "CANCELLED",
        Failed = "FAILED",
    }
}

impl ActivityStatus {
    /// `SUCCESSFUL`, `CANCELLED` and `FAILED` never change again (§10).
    pub fn is_terminal(self) -> bool {
        match self {
            ActivityStatus::Successful | ActivityStatus::Cancelled | ActivityStatus::Failed => true,
            ActivityStatus::Init
            | ActivityStatus::Running
            | ActivityStatus::FailedPause
            | ActivityStatus::AutoPause
            | ActivityStatus::ManualPause => false,
        }
    }

    pub fn is_paused(self) -> bool {
        match self {
            ActivityStatus::FailedPause
            | ActivityStatus::AutoPause
            | ActivityStatus::ManualPause => true,
            ActivityStatus::Init
            | ActivityStatus::Running
            | ActivityStatus::Successful
            | ActivityStatus::Cancelled
            | ActivityStatus::Failed => false,
        }
    }
}

api_enum! {
    /// Refresh `ActivityType` (§4.2).
    pub enum ActivityType {
        Normal = "NORMAL",
        Rollback = "ROLLBACK",
    }
}

api_enum! {
    /// `RefreshBatchStatus` (§4.3).
    pub enum BatchStatus {
        Waiting = "WAITING",
        Init = "INIT",
        Running = "RUNNING",
        Failed = "FAILED",
        PartiallySuccessful = "PARTIALLY_SUCCESSFUL",
        Cancelled = "CANCELLED",
        Successful = "SUCCESSFUL",
    }
}

impl BatchStatus {
    pub fn is_finished(self) -> bool {
        match self {
            BatchStatus::Failed
            | BatchStatus::PartiallySuccessful
            | BatchStatus::Cancelled
            | BatchStatus::Successful => true,
            BatchStatus::Waiting | BatchStatus::Init | BatchStatus::Running => false,
        }
    }
}

api_enum! {
    /// `RefreshBatchRelatedInstance.InstanceStatus` (§4.4).
    pub enum InstanceStatus {
        Waiting = "WAITING",
        Init = "INIT",
        Running = "RUNNING",
        Failed = "FAILED",
        Cancelled = "CANCELLED",
        Successful = "SUCCESSFUL",
        NotFound = "NOT_FOUND",
    }
}

impl InstanceStatus {
    /// In flight: the instance is being refreshed right now.
    pub fn is_in_flight(self) -> bool {
        match self {
            InstanceStatus::Init | InstanceStatus::Running => true,
            InstanceStatus::Waiting
            | InstanceStatus::Failed
            | InstanceStatus::Cancelled
            | InstanceStatus::Successful
            | InstanceStatus::NotFound => false,
        }
    }
}

api_enum! {
    /// Scaling-group instance `LifeCycleState` (§4.6), plus `IN_STANDBY`, a simulator extension
    /// (OQ-19: Tencent documents no standby value).
    pub enum LifeCycleState {
        InService = "IN_SERVICE",
        Creating = "CREATING",
        CreationFailed = "CREATION_FAILED",
        Terminating = "TERMINATING",
        TerminationFailed = "TERMINATION_FAILED",
        Attaching = "ATTACHING",
        AttachFailed = "ATTACH_FAILED",
        Detaching = "DETACHING",
        DetachFailed = "DETACH_FAILED",
        AttachingLb = "ATTACHING_LB",
        DetachingLb = "DETACHING_LB",
        ModifyingLb = "MODIFYING_LB",
        Starting = "STARTING",
        StartFailed = "START_FAILED",
        Stopping = "STOPPING",
        StopFailed = "STOP_FAILED",
        Stopped = "STOPPED",
        InLaunchingHook = "IN_LAUNCHING_HOOK",
        InTerminatingHook = "IN_TERMINATING_HOOK",
        /// Undocumented simulator extension (OQ-19).
        InStandby = "IN_STANDBY",
    }
}

api_enum! {
    /// Scaling group `AutoScalingGroupStatus` (§4.6).
    pub enum GroupStatus {
        Normal = "NORMAL",
        CvmAbnormal = "CVM_ABNORMAL",
        LbAbnormal = "LB_ABNORMAL",
        LbListenerAbnormal = "LB_LISTENER_ABNORMAL",
        LbLocationAbnormal = "LB_LOCATION_ABNORMAL",
        VpcAbnormal = "VPC_ABNORMAL",
        SubnetAbnormal = "SUBNET_ABNORMAL",
        InsufficientBalance = "INSUFFICIENT_BALANCE",
        LbBackendRegionNotMatch = "LB_BACKEND_REGION_NOT_MATCH",
        LbBackendVpcNotMatch = "LB_BACKEND_VPC_NOT_MATCH",
    }
}

api_enum! {
    /// Scaling group `EnabledStatus` (§4.6).
    pub enum EnabledStatus {
        Enabled = "ENABLED",
        Disabled = "DISABLED",
    }
}

api_enum! {
    /// Scaling activity `ActivityType` (§4.6), plus `RESET_INSTANCES` for refresh batches, a
    /// simulator extension (OQ-20).
    pub enum ScalingActivityType {
        ScaleOut = "SCALE_OUT",
        ScaleIn = "SCALE_IN",
        AttachInstances = "ATTACH_INSTANCES",
        RemoveInstances = "REMOVE_INSTANCES",
        DetachInstances = "DETACH_INSTANCES",
        TerminateInstancesUnexpectedly = "TERMINATE_INSTANCES_UNEXPECTEDLY",
        ReplaceUnhealthyInstance = "REPLACE_UNHEALTHY_INSTANCE",
        StartInstances = "START_INSTANCES",
        StopInstances = "STOP_INSTANCES",
        InvokeCommand = "INVOKE_COMMAND",
        /// Undocumented simulator extension (OQ-20).
        ResetInstances = "RESET_INSTANCES",
    }
}

api_enum! {
    /// Scaling activity `StatusCode` (§4.6).
    pub enum ScalingActivityStatus {
        Init = "INIT",
        Running = "RUNNING",
        Successful = "SUCCESSFUL",
        PartiallySuccessful = "PARTIALLY_SUCCESSFUL",
        Failed = "FAILED",
        Cancelled = "CANCELLED",
    }
}

api_enum! {
    /// Instance `HealthStatus` (the SDK's `Instance` model).
    pub enum HealthStatus {
        Healthy = "HEALTHY",
        Unhealthy = "UNHEALTHY",
        ClbUnhealthy = "CLB_UNHEALTHY",
    }
}

api_enum! {
    /// Instance `CreationType` (§4.6).
    pub enum CreationType {
        AutoCreation = "AUTO_CREATION",
        ManualAttaching = "MANUAL_ATTACHING",
    }
}

api_enum! {
    /// Lifecycle hook `LifecycleTransition` (§6.8).
    pub enum LifecycleTransition {
        InstanceLaunching = "INSTANCE_LAUNCHING",
        InstanceTerminating = "INSTANCE_TERMINATING",
    }
}

api_enum! {
    /// Lifecycle hook `DefaultResult` / `LifecycleActionResult` (§6.8).
    pub enum LifecycleActionResult {
        Continue = "CONTINUE",
        Abandon = "ABANDON",
    }
}

api_enum! {
    /// Lifecycle hook `LifecycleTransitionType` (§3.10).
    pub enum LifecycleTransitionType {
        Normal = "NORMAL",
        Extension = "EXTENSION",
    }
}

api_enum! {
    /// Lifecycle action `ResultReason` (§4.6).
    pub enum HookResultReason {
        HeartbeatTimeout = "HEARTBEAT_TIMEOUT",
        NotificationFailure = "NOTIFICATION_FAILURE",
        CallInterface = "CALL_INTERFACE",
        AnotherActionAbandon = "ANOTHER_ACTION_ABANDON",
        CommandCallFailure = "COMMAND_CALL_FAILURE",
        CommandExecFinish = "COMMAND_EXEC_FINISH",
        CommandExecFailure = "COMMAND_EXEC_FAILURE",
        CommandExecResultCheckFailure = "COMMAND_EXEC_RESULT_CHECK_FAILURE",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_round_trips_through_its_spelling() {
        for v in ActivityStatus::ALL {
            assert_eq!(ActivityStatus::parse(v.as_str()), Some(*v));
        }
        for v in InstanceStatus::ALL {
            assert_eq!(InstanceStatus::parse(v.as_str()), Some(*v));
        }
        for v in LifeCycleState::ALL {
            assert_eq!(LifeCycleState::parse(v.as_str()), Some(*v));
        }
        assert_eq!(
            RefreshMode::parse("ROLLING_UPDATE"),
            None,
            "OQ-36: legacy value is not a mode"
        );
        assert_eq!(
            BatchPause::parse("Automatic"),
            None,
            "§8.3: only AUTOMATIC is valid"
        );
    }

    #[test]
    fn spec_10_terminal_and_paused_statuses() {
        let terminal: Vec<_> = ActivityStatus::ALL
            .iter()
            .filter(|s| s.is_terminal())
            .collect();
        assert_eq!(
            terminal,
            [
                &ActivityStatus::Successful,
                &ActivityStatus::Cancelled,
                &ActivityStatus::Failed
            ]
        );
        let paused: Vec<_> = ActivityStatus::ALL
            .iter()
            .filter(|s| s.is_paused())
            .collect();
        assert_eq!(
            paused,
            [
                &ActivityStatus::FailedPause,
                &ActivityStatus::AutoPause,
                &ActivityStatus::ManualPause
            ]
        );
    }
}
