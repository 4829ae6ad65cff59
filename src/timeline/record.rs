//! Timeline records: one per state change or API call/result (DESIGN.md §7).
//!
//! A `Record` is compact (interned names, enums); `Row` is its rendering into the ten timeline
//! columns, shared by the CSV and JSONL writers and by readers of timelines produced elsewhere.

use super::detail::DetailWriter;
use super::names::{Names, Sym};
use crate::api::{
    Action, ActivityStatus, ActivityType, BatchStatus, CreationType, EnabledStatus, ErrorCode,
    GroupStatus, InstanceStatus, LifeCycleState, LifecycleActionResult, LifecycleTransition,
    RefreshMode, RefreshSettings, ScalingActivityStatus, ScalingActivityType,
};
use crate::time::{Epoch, SimTime};
use serde::{Deserialize, Serialize};

/// One timeline record. `seq` is strictly increasing across a run; `time` never decreases.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub time: SimTime,
    pub seq: u64,
    pub event: Event,
}

/// Internal activity sub-phase (OQ-8): not visible through the API, visible in the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    Init,
    SurgeOut,
    Batches,
    SurgeIn,
    /// OQ-64: an injected internal error; in-flight work finishes, nothing new starts, then
    /// the activity goes FAILED.
    Failing,
    Done,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Init => "INIT",
            Phase::SurgeOut => "SURGE_OUT",
            Phase::Batches => "BATCHES",
            Phase::SurgeIn => "SURGE_IN",
            Phase::Failing => "FAILING",
            Phase::Done => "DONE",
        }
    }

    pub fn parse(text: &str) -> Option<Phase> {
        [
            Phase::Init,
            Phase::SurgeOut,
            Phase::Batches,
            Phase::SurgeIn,
            Phase::Failing,
            Phase::Done,
        ]
        .into_iter()
        .find(|p| p.as_str() == text)
    }
}

/// Why an activity's status changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusCause {
    /// OQ-9: the init delay elapsed (or, for a rollback, the origin's in-flight instances ended).
    Started,
    StopRequested,
    ResumeRequested,
    CancelRequested,
    /// OQ-13 step 1, FailProcess = AUTO_PAUSE.
    BatchFailed,
    /// OQ-13 step 1, FailProcess = AUTO_CANCEL.
    AutoCancel,
    /// OQ-26: FailProcess = AUTO_ROLLBACK made this origin FAILED.
    AutoRollback,
    /// OQ-13 step 3: the BatchPause policy.
    PausePolicy,
    /// OQ-13 step 4.
    Completed,
    /// OQ-26: a rollback of this paused activity was created.
    RolledBack,
    /// OQ-7: the MaxSurge scale-out failed.
    SurgeOutFailed,
    /// OQ-7: the final MaxSurge scale-in failed.
    SurgeInFailed,
    /// OQ-23/OQ-34: an injected unrecoverable error.
    InternalError,
}

impl StatusCause {
    pub fn as_str(self) -> &'static str {
        match self {
            StatusCause::Started => "started",
            StatusCause::StopRequested => "StopInstanceRefresh",
            StatusCause::ResumeRequested => "ResumeInstanceRefresh",
            StatusCause::CancelRequested => "CancelInstanceRefresh",
            StatusCause::BatchFailed => "batch failed (FailProcess=AUTO_PAUSE)",
            StatusCause::AutoCancel => "batch failed (FailProcess=AUTO_CANCEL)",
            StatusCause::AutoRollback => "batch failed (FailProcess=AUTO_ROLLBACK)",
            StatusCause::PausePolicy => "BatchPause policy",
            StatusCause::Completed => "all batches done",
            StatusCause::RolledBack => "RollbackInstanceRefresh",
            StatusCause::SurgeOutFailed => "MaxSurge scale-out failed",
            StatusCause::SurgeInFailed => "MaxSurge scale-in failed",
            StatusCause::InternalError => "internal error",
        }
    }
}

/// Why an instance's lifecycle state changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LifeCycleCause {
    /// OQ-10 step 1: the instance leaves service for its refresh.
    RefreshStart,
    /// OQ-10 step 6: refreshed, back in service.
    RefreshDone,
    /// Lifecycle hook pending (§6.8).
    Hook,
    /// Hook completed, the step continues.
    HookDone,
    /// A new instance (surge or replacement) finished creating.
    Created,
    /// A fault from the scenario (CVM console stop, EnterStandby ...).
    External,
    /// An API call of the scenario or a client.
    Api,
    /// A scaling activity creating, destroying or detaching the instance.
    ScalingActivity,
}

impl LifeCycleCause {
    pub fn as_str(self) -> &'static str {
        match self {
            LifeCycleCause::RefreshStart => "refresh start",
            LifeCycleCause::RefreshDone => "refresh done",
            LifeCycleCause::Hook => "lifecycle hook",
            LifeCycleCause::HookDone => "lifecycle hook done",
            LifeCycleCause::Created => "created",
            LifeCycleCause::External => "external",
            LifeCycleCause::Api => "api",
            LifeCycleCause::ScalingActivity => "scaling activity",
        }
    }
}

/// What started a scaling activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalingCause {
    /// A refresh activity (batch, surge, REPLACE).
    Refresh,
    /// A manual API call (ScaleOut, ScaleIn, RemoveInstances, DetachInstances).
    Api,
    /// Desired-capacity matching, including after a policy or scheduled action (OQ-32).
    DesiredCapacity,
    /// Unhealthy-instance replacement.
    UnhealthyReplacement,
    /// Injected by the scenario.
    External,
}

impl ScalingCause {
    pub fn as_str(self) -> &'static str {
        match self {
            ScalingCause::Refresh => "refresh",
            ScalingCause::Api => "api",
            ScalingCause::DesiredCapacity => "desired-capacity",
            ScalingCause::UnhealthyReplacement => "unhealthy-replacement",
            ScalingCause::External => "external",
        }
    }

    pub fn parse(text: &str) -> Option<ScalingCause> {
        [
            ScalingCause::Refresh,
            ScalingCause::Api,
            ScalingCause::DesiredCapacity,
            ScalingCause::UnhealthyReplacement,
            ScalingCause::External,
        ]
        .into_iter()
        .find(|c| c.as_str() == text)
    }
}

/// How an instance left the group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Departure {
    /// Destroyed (terminated): REMOVE_INSTANCES, scale-in, CVM console termination.
    Destroyed,
    /// Removed from the group but still running (DETACH_INSTANCES).
    Detached,
}

impl Departure {
    pub fn as_str(self) -> &'static str {
        match self {
            Departure::Destroyed => "DESTROYED",
            Departure::Detached => "DETACHED",
        }
    }
}

/// `InstanceStatusMessage` of a refresh instance (§2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Msg {
    Empty,
    /// The documented example value.
    Success,
    NotFound,
    /// OQ-3: still in the group but no longer refreshable when its batch started.
    NotRunning,
    Cancelled,
    ReinstallFailed,
    ImageNotFound,
    /// The image exists but the instance does not boot from it (`faults.bad_images`).
    ImageDoesNotBoot(Sym),
    HealthTimeout {
        timeout_s: u32,
    },
    InstanceStopped,
    HookAbandoned,
    CreateFailed,
    RemoveFailed,
    /// A scripted failure with the scenario's own message.
    Custom(Sym),
}

impl Msg {
    pub fn render(self, names: &Names) -> String {
        match self {
            Msg::Empty => String::new(),
            Msg::Success => "success".into(),
            Msg::NotFound => "instance not found (removed from the group or destroyed)".into(),
            Msg::NotRunning => "instance not in running status, skipped".into(),
            Msg::Cancelled => "cancelled".into(),
            Msg::ReinstallFailed => "reset instance failed".into(),
            Msg::ImageNotFound => "image not found".into(),
            Msg::ImageDoesNotBoot(image) => {
                format!("instance did not boot from {}", names.get(image))
            }
            Msg::HealthTimeout { timeout_s } => {
                format!("target health check did not pass within {timeout_s}s")
            }
            Msg::InstanceStopped => "instance stopped during refresh".into(),
            Msg::HookAbandoned => "lifecycle hook result ABANDON".into(),
            Msg::CreateFailed => "create new instance failed".into(),
            Msg::RemoveFailed => "remove old instance failed".into(),
            Msg::Custom(sym) => names.get(sym).to_string(),
        }
    }
}

/// What happened. Each variant renders to one timeline row.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Run start: an instance that is in the group, or one created later (surge, replacement).
    InstanceJoined {
        instance: Sym,
        state: LifeCycleState,
        image: Sym,
        instance_type: Sym,
        surge: bool,
        creation: CreationType,
        protected: bool,
        /// For an instance created from the launch configuration (surge, replacement,
        /// scale-out): the digest of the refreshable non-image fields it got (`fields_digest`).
        fields: Option<u64>,
        /// OQ-11: the frozen instance this REPLACE-mode instance is created to replace.
        replaces: Option<Sym>,
    },
    InstanceLeft {
        instance: Sym,
        from: LifeCycleState,
        how: Departure,
        cause: Sym,
    },
    LifeCycle {
        instance: Sym,
        from: LifeCycleState,
        to: LifeCycleState,
        cause: LifeCycleCause,
    },
    /// OQ-10 step 3 / OQ-16: the refreshable fields written onto the instance.
    Reinstalled {
        activity: Sym,
        batch: u32,
        instance: Sym,
        image: Sym,
        /// The instance type after the reinstall: unchanged (§1.1 rule 1).
        instance_type: Sym,
        lc_version: u32,
        /// Digest of the refreshable non-image fields written (UserData, EnhancedService,
        /// HostName, LoginSettings: `fields_digest`); `None` in timelines that predate it.
        fields: Option<u64>,
    },
    GroupEnabled {
        from: EnabledStatus,
        to: EnabledStatus,
        cause: Sym,
    },
    GroupStatus {
        from: GroupStatus,
        to: GroupStatus,
    },
    RoleAuthorized {
        authorized: bool,
    },
    ScalingActivity {
        id: Sym,
        activity: Option<Sym>,
        activity_type: ScalingActivityType,
        from: Option<ScalingActivityStatus>,
        to: ScalingActivityStatus,
        instances: u32,
        cause: ScalingCause,
    },
    ActivityCreated {
        activity: Sym,
        group: Sym,
        activity_type: ActivityType,
        mode: RefreshMode,
        settings: RefreshSettings,
        origin: Option<Sym>,
        instances: u32,
    },
    ActivityStatus {
        activity: Sym,
        from: ActivityStatus,
        to: ActivityStatus,
        cause: StatusCause,
    },
    Phase {
        activity: Sym,
        from: Phase,
        to: Phase,
    },
    /// `batch` is 1-based (`RefreshBatchNum`). `from = None` when the batch is planned.
    BatchStatus {
        activity: Sym,
        batch: u32,
        from: Option<BatchStatus>,
        to: BatchStatus,
        size: u32,
    },
    InstanceStatus {
        activity: Sym,
        batch: u32,
        instance: Sym,
        from: Option<InstanceStatus>,
        to: InstanceStatus,
        msg: Msg,
        scaling_activity: Option<Sym>,
    },
    /// OQ-22: a FAILED instance skipped by `ResumeMode=CONTINUE`.
    InstanceSkipped {
        activity: Sym,
        batch: u32,
        instance: Sym,
    },
    ApiCall {
        request_id: Sym,
        action: Action,
        body: Box<str>,
    },
    ApiResult {
        request_id: Sym,
        action: Action,
        error: Option<(ErrorCode, Box<str>)>,
        /// The activity the call created or acted on, when there is one.
        activity: Option<Sym>,
        /// The full response envelope of read-only Describe calls (OQ-29), kept in the timeline.
        response: Option<Box<str>>,
    },
    LaunchConfig {
        version: u32,
        image: Sym,
        changed: Box<str>,
        /// Digest of this version's refreshable non-image fields (`fields_digest`); `None` in
        /// timelines that predate it.
        fields: Option<u64>,
    },
    ImageAvailability {
        image: Sym,
        available: bool,
    },
    /// A lifecycle hook action began for an instance (§6.8, OQ-14).
    HookStarted {
        instance: Sym,
        hook: Sym,
        transition: LifecycleTransition,
    },
    HookCompleted {
        instance: Sym,
        hook: Sym,
        transition: LifecycleTransition,
        result: LifecycleActionResult,
        reason: crate::api::HookResultReason,
    },
    /// A scaling trigger that a disabled group does not act on (§6.1, OQ-17).
    ScalingIgnored {
        source: Sym,
        what: Sym,
        reason: Sym,
    },
    /// The last record of a run: why the engine stopped.
    RunEnd {
        reason: RunEndReason,
    },
}

/// Why a run ended (the `run_end` record).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEndReason {
    /// Nothing was left scheduled: every activity is terminal or waits for a caller.
    Idle,
    /// A run bound (`max_events`, `max_sim_time`) stopped it (D12).
    Bound,
    /// The caller stopped driving it at a chosen time with events still scheduled.
    Until,
}

impl RunEndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RunEndReason::Idle => "idle",
            RunEndReason::Bound => "bound",
            RunEndReason::Until => "until",
        }
    }

    pub fn parse(text: &str) -> Option<RunEndReason> {
        [RunEndReason::Idle, RunEndReason::Bound, RunEndReason::Until]
            .into_iter()
            .find(|r| r.as_str() == text)
    }
}

/// The digest of a launch configuration's refreshable fields other than the image (§1.1 rule 1:
/// `UserData`, `EnhancedService`, `HostName`, `LoginSettings`): `stable_hash` of the four values,
/// each followed by a 0x1f byte. Rendered as 16 lower-case hex digits.
pub fn fields_digest(
    user_data: &str,
    enhanced_service: &str,
    host_name: &str,
    login_settings: &str,
) -> u64 {
    let mut bytes = Vec::with_capacity(
        user_data.len() + enhanced_service.len() + host_name.len() + login_settings.len() + 4,
    );
    for part in [user_data, enhanced_service, host_name, login_settings] {
        bytes.extend_from_slice(part.as_bytes());
        bytes.push(0x1f);
    }
    crate::hash::stable_hash(&bytes)
}

/// `fields_digest` as written in the detail column.
pub fn render_digest(digest: u64) -> String {
    format!("{digest:016x}")
}

/// Parses `render_digest` output.
pub fn parse_digest(text: &str) -> Option<u64> {
    (text.len() == 16)
        .then(|| u64::from_str_radix(text, 16).ok())
        .flatten()
}

impl Event {
    /// The `kind` column.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::InstanceJoined { .. } => "instance_joined",
            Event::InstanceLeft { .. } => "instance_left",
            Event::LifeCycle { .. } => "lifecycle",
            Event::Reinstalled { .. } => "reinstall",
            Event::GroupEnabled { .. } => "group_enabled",
            Event::GroupStatus { .. } => "group_status",
            Event::RoleAuthorized { .. } => "role",
            Event::ScalingActivity { .. } => "scaling_activity",
            Event::ActivityCreated { .. } => "activity_created",
            Event::ActivityStatus { .. } => "activity",
            Event::Phase { .. } => "phase",
            Event::BatchStatus { .. } => "batch",
            Event::InstanceStatus { .. } => "instance",
            Event::InstanceSkipped { .. } => "instance_skipped",
            Event::ApiCall { .. } => "api_call",
            Event::ApiResult { .. } => "api_result",
            Event::LaunchConfig { .. } => "launch_config",
            Event::ImageAvailability { .. } => "image",
            Event::HookStarted { .. } => "hook_started",
            Event::HookCompleted { .. } => "hook_completed",
            Event::ScalingIgnored { .. } => "scaling_ignored",
            Event::RunEnd { .. } => "run_end",
        }
    }
}

/// A record rendered into the ten timeline columns (DESIGN.md §7). Empty strings stand for
/// "not applicable"; `batch` is 0 when no batch applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    pub time_ms: u64,
    pub time: String,
    pub seq: u64,
    pub kind: String,
    pub activity_id: String,
    pub batch: u32,
    pub instance_id: String,
    pub from: String,
    pub to: String,
    pub detail: String,
}

impl Record {
    pub fn to_row(&self, names: &Names, epoch: Epoch) -> Row {
        let mut row = Row {
            time_ms: self.time.as_ms(),
            time: epoch.render(self.time),
            seq: self.seq,
            kind: self.event.kind().to_string(),
            activity_id: String::new(),
            batch: 0,
            instance_id: String::new(),
            from: String::new(),
            to: String::new(),
            detail: String::new(),
        };
        let name = |sym: Sym| names.get(sym).to_string();
        let opt_name = |sym: Option<Sym>| sym.map(|s| names.get(s).to_string()).unwrap_or_default();
        match &self.event {
            Event::InstanceJoined {
                instance,
                state,
                image,
                instance_type,
                surge,
                creation,
                protected,
                fields,
                replaces,
            } => {
                row.instance_id = name(*instance);
                row.to = state.as_str().into();
                let mut detail = DetailWriter::new()
                    .put("image", names.get(*image))
                    .put("instance_type", names.get(*instance_type))
                    .put("surge", surge)
                    .put("creation", creation)
                    .put("protected", protected);
                if let Some(fields) = fields {
                    detail = detail.put("fields", render_digest(*fields));
                }
                if let Some(old) = replaces {
                    detail = detail.put("replaces", names.get(*old));
                }
                row.detail = detail.finish();
            }
            Event::InstanceLeft {
                instance,
                from,
                how,
                cause,
            } => {
                row.instance_id = name(*instance);
                row.from = from.as_str().into();
                row.to = how.as_str().into();
                row.detail = DetailWriter::new().put("cause", names.get(*cause)).finish();
            }
            Event::LifeCycle {
                instance,
                from,
                to,
                cause,
            } => {
                row.instance_id = name(*instance);
                row.from = from.as_str().into();
                row.to = to.as_str().into();
                row.detail = DetailWriter::new().put("cause", cause.as_str()).finish();
            }
            Event::Reinstalled {
                activity,
                batch,
                instance,
                image,
                instance_type,
                lc_version,
                fields,
            } => {
                row.activity_id = name(*activity);
                row.batch = *batch;
                row.instance_id = name(*instance);
                let mut detail = DetailWriter::new()
                    .put("image", names.get(*image))
                    .put("instance_type", names.get(*instance_type))
                    .put("lc_version", lc_version);
                if let Some(fields) = fields {
                    detail = detail.put("fields", render_digest(*fields));
                }
                row.detail = detail.finish();
            }
            Event::GroupEnabled { from, to, cause } => {
                row.from = from.as_str().into();
                row.to = to.as_str().into();
                row.detail = DetailWriter::new().put("cause", names.get(*cause)).finish();
            }
            Event::GroupStatus { from, to } => {
                row.from = from.as_str().into();
                row.to = to.as_str().into();
            }
            Event::RoleAuthorized { authorized } => {
                row.to = if *authorized {
                    "AUTHORIZED"
                } else {
                    "UNAUTHORIZED"
                }
                .into();
            }
            Event::ScalingActivity {
                id,
                activity,
                activity_type,
                from,
                to,
                instances,
                cause,
            } => {
                row.activity_id = opt_name(*activity);
                row.from = from.map(|s| s.as_str()).unwrap_or_default().into();
                row.to = to.as_str().into();
                row.detail = DetailWriter::new()
                    .put("id", names.get(*id))
                    .put("type", activity_type)
                    .put("instances", instances)
                    .put("cause", cause.as_str())
                    .finish();
            }
            Event::ActivityCreated {
                activity,
                group,
                activity_type,
                mode,
                settings,
                origin,
                instances,
            } => {
                row.activity_id = name(*activity);
                row.to = ActivityStatus::Init.as_str().into();
                row.detail = DetailWriter::new()
                    .put("group", names.get(*group))
                    .put("type", activity_type)
                    .put("mode", mode)
                    .put("BatchNumber", settings.batch_number)
                    .put("BatchPause", settings.batch_pause)
                    .put("MaxSurge", settings.max_surge)
                    .put("FailProcess", settings.fail_process)
                    .put(
                        "CheckInstanceTargetHealth",
                        settings.check_instance_target_health,
                    )
                    .put(
                        "CheckInstanceTargetHealthTimeout",
                        settings.check_instance_target_health_timeout_s,
                    )
                    .put("origin", opt_name(*origin))
                    .put("instances", instances)
                    .finish();
            }
            Event::ActivityStatus {
                activity,
                from,
                to,
                cause,
            } => {
                row.activity_id = name(*activity);
                row.from = from.as_str().into();
                row.to = to.as_str().into();
                row.detail = DetailWriter::new().put("cause", cause.as_str()).finish();
            }
            Event::Phase { activity, from, to } => {
                row.activity_id = name(*activity);
                row.from = from.as_str().into();
                row.to = to.as_str().into();
            }
            Event::BatchStatus {
                activity,
                batch,
                from,
                to,
                size,
            } => {
                row.activity_id = name(*activity);
                row.batch = *batch;
                row.from = from.map(|s| s.as_str()).unwrap_or_default().into();
                row.to = to.as_str().into();
                row.detail = DetailWriter::new().put("size", size).finish();
            }
            Event::InstanceStatus {
                activity,
                batch,
                instance,
                from,
                to,
                msg,
                scaling_activity,
            } => {
                row.activity_id = name(*activity);
                row.batch = *batch;
                row.instance_id = name(*instance);
                row.from = from.map(|s| s.as_str()).unwrap_or_default().into();
                row.to = to.as_str().into();
                row.detail = DetailWriter::new()
                    .put("message", msg.render(names))
                    .put("last_activity", opt_name(*scaling_activity))
                    .finish();
            }
            Event::InstanceSkipped {
                activity,
                batch,
                instance,
            } => {
                row.activity_id = name(*activity);
                row.batch = *batch;
                row.instance_id = name(*instance);
                row.from = InstanceStatus::Failed.as_str().into();
                row.to = InstanceStatus::Failed.as_str().into();
                row.detail = DetailWriter::new()
                    .put("cause", "ResumeMode=CONTINUE")
                    .finish();
            }
            Event::ApiCall {
                request_id,
                action,
                body,
            } => {
                row.to = action.as_str().into();
                row.detail = DetailWriter::new()
                    .put("request_id", names.get(*request_id))
                    .put_json("body", body)
                    .finish();
            }
            Event::ApiResult {
                request_id,
                action,
                error,
                activity,
                response,
            } => {
                row.activity_id = opt_name(*activity);
                row.from = action.as_str().into();
                let mut detail = DetailWriter::new().put("request_id", names.get(*request_id));
                match error {
                    None => row.to = "OK".into(),
                    Some((code, message)) => {
                        row.to = code.as_str().into();
                        detail = detail.put("message", message);
                    }
                }
                if let Some(json) = response {
                    detail = detail.put_json("response", json);
                }
                row.detail = detail.finish();
            }
            Event::LaunchConfig {
                version,
                image,
                changed,
                fields,
            } => {
                row.to = format!("v{version}");
                let mut detail = DetailWriter::new()
                    .put("image", names.get(*image))
                    .put("changed", changed);
                if let Some(fields) = fields {
                    detail = detail.put("fields", render_digest(*fields));
                }
                row.detail = detail.finish();
            }
            Event::ImageAvailability { image, available } => {
                row.to = if *available { "AVAILABLE" } else { "MISSING" }.into();
                row.detail = DetailWriter::new().put("image", names.get(*image)).finish();
            }
            Event::HookStarted {
                instance,
                hook,
                transition,
            } => {
                row.instance_id = name(*instance);
                row.to = transition.as_str().into();
                row.detail = DetailWriter::new().put("hook", names.get(*hook)).finish();
            }
            Event::HookCompleted {
                instance,
                hook,
                transition,
                result,
                reason,
            } => {
                row.instance_id = name(*instance);
                row.from = transition.as_str().into();
                row.to = result.as_str().into();
                row.detail = DetailWriter::new()
                    .put("hook", names.get(*hook))
                    .put("reason", reason)
                    .finish();
            }
            Event::ScalingIgnored {
                source,
                what,
                reason,
            } => {
                row.to = "IGNORED".into();
                row.detail = DetailWriter::new()
                    .put("source", names.get(*source))
                    .put("what", names.get(*what))
                    .put("reason", names.get(*reason))
                    .finish();
            }
            Event::RunEnd { reason } => {
                row.to = reason.as_str().into();
            }
        }
        row
    }
}

/// The CSV header, in column order.
pub const COLUMNS: [&str; 10] = [
    "time_ms",
    "time",
    "seq",
    "kind",
    "activity_id",
    "batch",
    "instance_id",
    "from",
    "to",
    "detail",
];
