//! The world at an instant: the scaling group, its instances, launch-configuration versions,
//! refresh activities and scaling activities.

use super::draws::{Draws, IdKind};
use super::{Fx, Timer};
use crate::api::{
    Action, ActivityStatus, ActivityType, ApiError, BatchStatus, CreationType, EnabledStatus,
    ErrorCode, GroupStatus, InstanceStatus, LifeCycleState, LifecycleActionResult,
    LifecycleTransition, LifecycleTransitionType, RefreshMode, RefreshSettings,
    ScalingActivityStatus, ScalingActivityType,
};
use crate::hash::stable_hash;
use crate::time::SimTime;
use crate::timeline::{Event, LifeCycleCause, Msg, Names, Phase, ScalingCause, Sym};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::ops::Range;

/// Tencent's per-group instance cap (§6.2).
pub const MAX_INSTANCES_PER_GROUP: usize = 2000;

/// OQ-30: requests per rolling second per action.
pub const RATE_LIMIT_PER_SECOND: usize = 20;

/// Plain data to build a world from (produced by `scenario`, or by tests).
#[derive(Debug, Clone)]
pub struct WorldSpec {
    pub group_id: String,
    pub group_status: GroupStatus,
    pub enabled: EnabledStatus,
    pub min_size: u32,
    pub max_size: u32,
    pub desired_capacity: u32,
    pub forward_clb: bool,
    pub role_authorized: bool,
    pub launch_configuration: LaunchConfigSpec,
    pub instances: Vec<InstanceSpec>,
    pub missing_images: Vec<String>,
    /// Images that exist but do not boot: a reinstall or creation with them fails.
    pub bad_images: Vec<String>,
    /// The per-group instance quota (Tencent's default 2,000; `limits.max_instances` raises it
    /// to model a raised quota or a synthetic group at scale). Surge instances count (OQ-7).
    pub max_instances: usize,
    /// Wall-clock instant of simulated time 0, for rendering API times.
    pub epoch: crate::time::Epoch,
    /// Lifecycle hooks, in the order they are processed (§6.8).
    pub hooks: Vec<HookSpec>,
    pub scaling_policies: Vec<PolicySpec>,
    /// `ServiceSettings.ReplaceMonitorUnhealthy` (§6.5).
    pub replace_unhealthy: bool,
    /// What the Describe calls show and no refresh reads (names, network, tags, quotas).
    pub surface: super::surface::Surface,
    /// Deliberate engine bugs, for proving that the invariant checker catches them. Not
    /// reachable from scenario files.
    #[doc(hidden)]
    pub sabotage: Sabotage,
}

/// A deliberate engine bug (tests of the invariant checker only).
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sabotage {
    #[default]
    None,
    /// Starting a batch also starts the next one.
    StartNextBatchEarly,
    /// The group is never re-enabled after a refresh.
    ForgetGroupRestore,
    /// A batch with failed instances is treated as successful.
    IgnoreFailures,
    /// A refreshed instance is not put back in service.
    LeaveInStandby,
    /// A refresh's scaling activity starts even while another scaling activity runs (OQ-66).
    OverlapScalingActivities,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HookSpec {
    pub id: String,
    pub transition: LifecycleTransition,
    pub transition_type: LifecycleTransitionType,
    pub default_result: LifecycleActionResult,
    pub heartbeat_timeout_ms: u64,
    /// The user's automation completes the action by itself (after `timing.hook_response`);
    /// otherwise only `CompleteLifecycleAction` calls or the heartbeat timeout resolve it.
    pub auto_complete: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PolicySpec {
    pub id: String,
    /// Change in desired capacity when the policy runs.
    pub adjustment: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LaunchConfigSpec {
    pub id: String,
    pub image_id: String,
    pub user_data: String,
    pub enhanced_service: String,
    pub host_name: String,
    pub login_settings: String,
    pub instance_type: String,
    /// `LaunchConfigurationName`.
    pub name: String,
    /// Fields that change nothing in the model, as last written (OQ-91).
    pub stored: std::collections::BTreeMap<String, serde_json::Value>,
}

impl LaunchConfigSpec {
    /// The digest of the refreshable non-image fields, as timeline records carry it.
    pub fn fields_digest(&self) -> u64 {
        crate::timeline::fields_digest(
            &self.user_data,
            &self.enhanced_service,
            &self.host_name,
            &self.login_settings,
        )
    }
}

#[derive(Debug, Clone)]
pub struct InstanceSpec {
    pub id: String,
    pub state: LifeCycleState,
    pub standby: bool,
    pub protected: bool,
    pub image_id: String,
    pub instance_type: String,
    pub creation: CreationType,
    /// Unix seconds; orders batch assignment (OQ-2).
    pub add_time_unix_s: u64,
    /// Index into the group's zones (and subnets) (OQ-89).
    pub zone: u16,
}

/// One version of the launch configuration. Version 0 is the scenario's initial one.
#[derive(Debug, Clone, PartialEq)]
pub struct LaunchConfig {
    pub version: u32,
    pub spec: LaunchConfigSpec,
    pub image: Sym,
    /// When this version was written (`UpdatedTime`).
    pub written: SimTime,
}

#[derive(Debug, Clone)]
pub struct Group {
    pub id: Sym,
    pub status: GroupStatus,
    pub enabled: EnabledStatus,
    /// OQ-17: the enabled state to restore when the last refresh ends; `Some` while a refresh
    /// holds the group disabled.
    pub remembered_enabled: Option<EnabledStatus>,
    pub min_size: u32,
    pub max_size: u32,
    pub desired_capacity: u32,
    pub forward_clb: bool,
}

#[derive(Debug, Clone)]
pub struct Instance {
    pub id: Sym,
    /// Stable RNG key derived from the id (D7): independent of the instance's position.
    pub key: u64,
    pub state: LifeCycleState,
    pub in_group: bool,
    /// Standby entered by the user (EnterStandby): never refreshed (§3.1).
    pub standby: bool,
    /// Out of service because a refresh holds it (OQ-10 step 1; stays so after a failure).
    pub held_by_refresh: bool,
    pub protected: bool,
    pub image: Sym,
    /// The launch-configuration version whose UserData/EnhancedService/HostName/LoginSettings
    /// the instance carries; `None` = what it was created with before the scenario.
    pub config_version: Option<u32>,
    pub instance_type: Sym,
    pub creation: CreationType,
    pub add_time_unix_s: u64,
    pub surge: bool,
    /// The id's first 16 bytes, big-endian: orders ids like their text, without touching it.
    pub id_prefix: [u64; 2],
    /// The instance operation (create, destroy, detach) under way, if any.
    pub op: Option<u32>,
    /// The hook run pending on this instance, if any.
    pub hook_run: Option<u32>,
    /// Hook actions, operations and refresh attempts this instance has had, to key their draws
    /// (D7). Refresh attempts count across activities, so a rollback's attempt is not the
    /// origin's first attempt again.
    pub hook_runs_seen: u32,
    pub ops_seen: u32,
    pub refresh_attempts: u32,
    /// Index into the group's zones (OQ-89).
    pub zone: u16,
    /// `HealthStatus` (OQ-90): what the last health check found.
    pub health: crate::api::HealthStatus,
}

/// The first 16 bytes of `text` as two big-endian words (zero-padded).
pub fn id_prefix(text: &str) -> [u64; 2] {
    let mut bytes = [0u8; 16];
    let n = text.len().min(16);
    bytes[..n].copy_from_slice(&text.as_bytes()[..n]);
    [
        u64::from_be_bytes(bytes[..8].try_into().expect("8 bytes")),
        u64::from_be_bytes(bytes[8..].try_into().expect("8 bytes")),
    ]
}

#[derive(Debug, Clone)]
pub struct ScalingActivity {
    pub id: Sym,
    pub activity_type: ScalingActivityType,
    pub status: ScalingActivityStatus,
    pub refresh_activity: Option<u32>,
    pub instances: u32,
    pub started: SimTime,
    pub ended: Option<SimTime>,
    /// Operations of a non-refresh scaling activity still running, and how they ended.
    pub ops_pending: u32,
    pub ops_ok: u32,
    /// Successful operations on surge instances, which never move DesiredCapacity (OQ-7).
    pub ops_ok_uncounted: u32,
    pub ops_failed: u32,
    /// How each successful operation moves DesiredCapacity (§6.2: by the number actually
    /// created or removed).
    pub desired_per_success: i64,
    /// Started by desired-capacity matching (OQ-32), which does not retry a total failure at
    /// once (the group's IMMEDIATE_RETRY would otherwise spin at one instant).
    pub matching: bool,
    pub cause: ScalingCause,
    /// Instances the activity acted on, in order (`ActivityRelatedInstanceSet`).
    pub related: Vec<u32>,
    /// Lifecycle-hook actions of its instances, as they ended (`LifecycleActionResultSet`).
    pub hook_results: Vec<HookResultRow>,
}

/// One ended lifecycle-hook action of a scaling activity.
#[derive(Debug, Clone, Copy)]
pub struct HookResultRow {
    pub hook: u32,
    pub instance: u32,
    pub result: LifecycleActionResult,
    pub reason: crate::api::HookResultReason,
}

/// Where an item is inside its attempt (OQ-10 for RESET, OQ-11 for REPLACE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Idle,
    /// RESET: EXTENSION terminating hooks before the reinstall (OQ-14).
    TerminatingHooks,
    Reinstalling,
    /// RESET: EXTENSION launching hooks after the reinstall (OQ-14).
    LaunchingHooks,
    /// CLB target health of the reinstalled (RESET) or new (REPLACE) instance (OQ-10 step 5).
    AwaitingHealth,
    /// REPLACE: the new instance is being created (hooks included).
    Creating,
    /// REPLACE: the old instance is being removed (hooks included).
    RemovingOld,
}

/// A lifecycle hook of the group (§6.8).
#[derive(Debug, Clone)]
pub struct Hook {
    pub id: Sym,
    pub transition: LifecycleTransition,
    pub transition_type: LifecycleTransitionType,
    pub default_result: LifecycleActionResult,
    pub heartbeat_timeout_ms: u64,
    pub auto_complete: bool,
}

#[derive(Debug, Clone)]
pub struct ScalingPolicy {
    pub id: Sym,
    pub adjustment: i64,
}

/// What an instance operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Create,
    Destroy,
    Detach,
}

/// Whom an instance operation reports to when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpOwner {
    /// OQ-7: a MaxSurge instance being created before the first batch.
    SurgeOut { activity: u32 },
    /// OQ-7: a MaxSurge instance destroyed in the final scale-in.
    SurgeIn { activity: u32 },
    /// OQ-24/OQ-26: surge instances destroyed after a cancel or an AUTO_ROLLBACK (never fails).
    SurgeCleanup { activity: u32 },
    /// OQ-11: the new instance replacing item `item`'s instance.
    ReplaceNew { activity: u32, item: u32 },
    /// OQ-11: removal of item `item`'s old instance.
    ReplaceOld { activity: u32, item: u32 },
    /// A scaling activity outside refresh (manual APIs, desired-capacity matching,
    /// unhealthy replacement).
    Scaling { scaling_activity: u32 },
    /// OQ-53: a REPLACE new instance that failed the target-health check, destroyed; nothing
    /// waits for it.
    Released,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpStage {
    /// Waiting for lifecycle hooks.
    Hooks,
    /// Creating or destroying.
    Working,
    Finished,
}

/// A create / destroy / detach of one instance.
#[derive(Debug, Clone)]
pub struct Op {
    pub kind: OpKind,
    pub instance: u32,
    pub owner: OpOwner,
    pub scaling_activity: u32,
    pub stage: OpStage,
    pub generation: u32,
    pub duration_ms: u64,
    /// Whether the work itself fails (sampled, or forced by a capacity fault).
    pub fails: bool,
    /// Whether a failure counts (the surge clean-up after a cancel cannot fail, OQ-24).
    pub may_fail: MayFail,
    pub succeeded: bool,
    /// Hook types that apply to this operation (§3.10).
    pub hooks: HookScope,
    /// OQ-67: a creation given up by a launching-hook ABANDON, releasing its instance
    /// (`TERMINATING` for `instance_destroy`); the operation fails when the release ends.
    pub releasing: bool,
}

/// Whether an operation's failure counts: a sampled failure, a blocked scaling or a missing
/// image fails it only when it may fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MayFail {
    Yes,
    /// Clean-up work that must finish (the surge clean-up after a cancel, OQ-24).
    No,
}

impl MayFail {
    pub fn allowed(self) -> bool {
        match self {
            MayFail::Yes => true,
            MayFail::No => false,
        }
    }
}

/// What `World::start_op` starts: an operation on `instance` for `scaling_activity`.
#[derive(Debug, Clone, Copy)]
pub struct OpStart {
    pub kind: OpKind,
    pub instance: u32,
    pub owner: OpOwner,
    pub scaling_activity: u32,
    pub hooks: HookScope,
    pub may_fail: MayFail,
}

impl OpStart {
    /// An automatic operation: NORMAL and EXTENSION hooks apply, and it may fail.
    pub fn automatic(kind: OpKind, instance: u32, owner: OpOwner, scaling_activity: u32) -> Self {
        OpStart {
            kind,
            instance,
            owner,
            scaling_activity,
            hooks: HookScope::All,
            may_fail: MayFail::Yes,
        }
    }

    /// §3.10: a manual API's operation triggers EXTENSION hooks only.
    pub fn extension_only(self) -> Self {
        OpStart {
            hooks: HookScope::ExtensionOnly,
            ..self
        }
    }

    /// Clean-up work that must finish (OQ-24).
    pub fn cannot_fail(self) -> Self {
        OpStart {
            may_fail: MayFail::No,
            ..self
        }
    }
}

/// Which lifecycle hooks an action triggers (§3.10, OQ-14).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookScope {
    /// Automatic creation/removal: NORMAL and EXTENSION hooks.
    All,
    /// Manual APIs and instance refresh: EXTENSION hooks only.
    ExtensionOnly,
}

/// Who waits for a hook run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookSubject {
    Op(u32),
    /// A RESET refresh item (terminating hooks before, launching hooks after the reinstall).
    Item {
        activity: u32,
        item: u32,
    },
}

/// The hooks of one transition for one instance, processed one after another (§6.8).
#[derive(Debug, Clone)]
pub struct HookRun {
    pub subject: HookSubject,
    pub instance: u32,
    pub transition: LifecycleTransition,
    /// Indices into `World::hooks`, in order.
    pub hooks: Vec<u32>,
    /// Index into `hooks` of the hook pending now.
    pub current: u32,
    pub result: LifecycleActionResult,
    pub token: Sym,
    pub generation: u32,
    pub active: bool,
    /// The lifecycle state to return to when the run ends.
    pub resume_state: LifeCycleState,
    /// Hook ids (indices) whose result has been set, for `LifecycleActionResultHasSet`.
    pub completed: Vec<u32>,
}

/// MaxSurge bookkeeping of one activity (OQ-6, OQ-7).
#[derive(Debug, Clone, Default)]
pub struct SurgeState {
    /// Live surge instances.
    pub instances: Vec<u32>,
    /// Create or destroy operations in flight.
    pub in_flight: u32,
    /// The current scale-out or scale-in scaling activity.
    pub scaling_activity: Option<u32>,
    /// The last scale-out or scale-in did not complete (the activity waits for a Resume).
    pub failed: bool,
}

/// One instance of one refresh activity (`RefreshBatchRelatedInstance`).
#[derive(Debug, Clone)]
pub struct Item {
    pub instance: u32,
    /// 0-based batch index.
    pub batch: u32,
    pub status: InstanceStatus,
    pub msg: Msg,
    pub last_activity: Option<Sym>,
    pub attempt: u32,
    pub step: Step,
    pub generation: u32,
    pub draws: super::AttemptDraws,
    /// Launch-configuration version read when the current reinstall started (OQ-16).
    pub lc_version: u32,
    /// The image before this activity first reinstalled it (OQ-16, for rollback).
    pub pre_image: Option<Sym>,
    /// For rollback activities: the image to restore (OQ-26).
    pub restore_image: Option<Sym>,
    /// OQ-22: a FAILED instance skipped by CONTINUE.
    pub skipped: bool,
    /// REPLACE: the new instance (OQ-11).
    pub replacement: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct Batch {
    pub status: BatchStatus,
    pub started: Option<SimTime>,
    pub ended: Option<SimTime>,
    /// Indices into `Activity::items`, instances ordered by id (OQ-2).
    pub items: Range<u32>,
    pub in_flight: u32,
    pub scaling_activity: Option<u32>,
    /// REPLACE: the REMOVE_INSTANCES activity of this batch attempt (OQ-20).
    pub remove_activity: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct Activity {
    pub id: Sym,
    pub activity_type: ActivityType,
    pub mode: RefreshMode,
    pub settings: RefreshSettings,
    pub status: ActivityStatus,
    pub phase: Phase,
    pub created: SimTime,
    pub started: Option<SimTime>,
    pub ended: Option<SimTime>,
    /// 0-based index of the batch being (or last) run; `CurrentRefreshBatchNum` - 1.
    pub cursor: u32,
    pub batches: Vec<Batch>,
    pub items: Vec<Item>,
    /// Indices into `items` ordered by (instance, index): an instance's items are found in
    /// O(log n), not by a scan (a scale-in of n instances after a refresh of n was O(n²)).
    /// `items` never grows and an item's instance never changes after creation.
    pub by_instance: Vec<u32>,
    pub origin: Option<u32>,
    pub init_done: bool,
    /// OQ-13 `batch_gap` after each batch (AUTOMATIC), drawn at creation.
    pub batch_gaps_ms: Vec<u64>,
    pub surge: SurgeState,
    /// A rollback waiting for its origin's in-flight instances (OQ-9, OQ-26).
    pub waiting_for_origin: bool,
    /// OQ-66: the next step, held while a scaling activity of something else runs.
    pub deferred: Option<Deferred>,
}

/// OQ-66: a refresh step that starts a scaling activity, held until no scaling activity of
/// anything else (a manual API, an external one) runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deferred {
    /// Start batch `n` (0-based): it stays WAITING meanwhile.
    StartBatch(u32),
    /// ResumeMode RETRY of the current batch's failed instances: they stay FAILED meanwhile.
    Retry,
    /// The MaxSurge scale-out (OQ-7).
    SurgeOut,
    /// The final MaxSurge scale-in (OQ-7).
    SurgeIn,
    /// The destruction of a cancelled or rolled-back activity's surge instances (OQ-24).
    SurgeCleanup,
}

impl Activity {
    /// Instances being refreshed right now (surge operations not included).
    pub fn in_flight(&self) -> u32 {
        self.batches.iter().map(|b| b.in_flight).sum()
    }

    pub fn batch_items(&self, batch: u32) -> Range<usize> {
        let r = &self.batches[batch as usize].items;
        r.start as usize..r.end as usize
    }

    /// The `by_instance` index of `items`.
    pub fn index_by_instance(items: &[Item]) -> Vec<u32> {
        let mut index: Vec<u32> = (0..items.len() as u32).collect();
        index.sort_unstable_by_key(|&i| (items[i as usize].instance, i));
        index
    }

    /// Indices of `instance`'s items, in item order.
    pub fn items_of(&self, instance: u32) -> impl Iterator<Item = usize> + '_ {
        let first = self
            .by_instance
            .partition_point(|&i| self.items[i as usize].instance < instance);
        self.by_instance[first..]
            .iter()
            .take_while(move |&&i| self.items[i as usize].instance == instance)
            .map(|&i| i as usize)
    }
}

/// OQ-30: a rolling one-second window per action.
#[derive(Debug, Clone, Default)]
pub struct RateLimiter {
    windows: BTreeMap<Action, VecDeque<SimTime>>,
}

impl RateLimiter {
    /// Admits a request at `now` or refuses it with `RequestLimitExceeded` (then it leaves no
    /// trace, not even in the window).
    pub fn admit(&mut self, action: Action, now: SimTime) -> Result<(), ApiError> {
        let window = self.windows.entry(action).or_default();
        while window.front().is_some_and(|t| now.since(*t) >= 1000) {
            window.pop_front();
        }
        if window.len() >= RATE_LIMIT_PER_SECOND {
            return Err(ApiError::new(
                ErrorCode::RequestLimitExceeded,
                format!(
                    "The number of requests exceeds the frequency limit: at most {RATE_LIMIT_PER_SECOND} {action} requests per second"
                ),
            ));
        }
        window.push_back(now);
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct World {
    pub names: Names,
    pub group: Group,
    pub instances: Vec<Instance>,
    pub launch_configs: Vec<LaunchConfig>,
    pub activities: Vec<Activity>,
    pub scaling_activities: Vec<ScalingActivity>,
    /// Indices of the RUNNING scaling activities (a handful): the checks below run at every
    /// step, and a refresh retried forever adds a scaling activity per retry (a scan of all of
    /// them made such a run quadratic).
    running_scaling: Vec<u32>,
    /// Bytes of every activity's items and their index (`kept_bytes`), counted at creation.
    pub(crate) item_bytes: u64,
    pub missing_images: BTreeSet<Sym>,
    pub bad_images: BTreeSet<Sym>,
    pub role_authorized: bool,
    pub rate: RateLimiter,
    pub max_instances: usize,
    pub epoch: crate::time::Epoch,
    pub hooks: Vec<Hook>,
    pub policies: Vec<ScalingPolicy>,
    pub replace_unhealthy: bool,
    pub surface: super::surface::Surface,
    #[doc(hidden)]
    pub sabotage: Sabotage,
    pub ops: Vec<Op>,
    pub hook_runs: Vec<HookRun>,
    /// Capacity faults: while set, instance creations (or destructions) that complete fail.
    pub create_blocked: bool,
    pub destroy_blocked: bool,
    /// Batches whose in-flight count reached zero in the current transition (see `settle`).
    pub(crate) pending_batch_ends: Vec<(u32, u32)>,
    /// Desired-capacity matching is due at the end of the current transition.
    pub(crate) matching_due: bool,
    /// When the last ignored desired-capacity matching was recorded: one row per instant.
    pub(crate) matching_ignored_at: Option<SimTime>,
    id_counters: [u64; 4],
}

impl World {
    /// Builds the world from its spec. Emits nothing: `initial_records` describes it.
    pub fn new(spec: &WorldSpec) -> Result<World, String> {
        let mut scratch = Fx::default();
        let mut names = Names::with_capacity(spec.instances.len() + 16);
        let group_id = names.intern(&spec.group_id);
        let lc_image = names.intern(&spec.launch_configuration.image_id);
        let mut world = World {
            group: Group {
                id: group_id,
                status: spec.group_status,
                enabled: spec.enabled,
                remembered_enabled: None,
                min_size: spec.min_size,
                max_size: spec.max_size,
                desired_capacity: spec.desired_capacity,
                forward_clb: spec.forward_clb,
            },
            instances: Vec::with_capacity(spec.instances.len()),
            launch_configs: vec![LaunchConfig {
                version: 0,
                spec: spec.launch_configuration.clone(),
                image: lc_image,
                written: SimTime::ZERO,
            }],
            activities: Vec::new(),
            scaling_activities: Vec::new(),
            running_scaling: Vec::new(),
            item_bytes: 0,
            missing_images: BTreeSet::new(),
            bad_images: BTreeSet::new(),
            role_authorized: spec.role_authorized,
            rate: RateLimiter::default(),
            max_instances: spec.max_instances,
            epoch: spec.epoch,
            hooks: Vec::new(),
            policies: Vec::new(),
            replace_unhealthy: spec.replace_unhealthy,
            surface: spec.surface.clone(),
            sabotage: spec.sabotage,
            ops: Vec::new(),
            hook_runs: Vec::new(),
            create_blocked: false,
            destroy_blocked: false,
            pending_batch_ends: Vec::new(),
            matching_due: false,
            matching_ignored_at: None,
            id_counters: [0; 4],
            names,
        };
        for h in &spec.hooks {
            let id = world.names.intern(&h.id);
            world.hooks.push(Hook {
                id,
                transition: h.transition,
                transition_type: h.transition_type,
                default_result: h.default_result,
                heartbeat_timeout_ms: h.heartbeat_timeout_ms,
                auto_complete: h.auto_complete,
            });
        }
        for p in &spec.scaling_policies {
            let id = world.names.intern(&p.id);
            world.policies.push(ScalingPolicy {
                id,
                adjustment: p.adjustment,
            });
        }
        for image in &spec.missing_images {
            let sym = world.names.intern(image);
            world.missing_images.insert(sym);
        }
        for image in &spec.bad_images {
            let sym = world.names.intern(image);
            world.bad_images.insert(sym);
        }
        if spec.instances.len() > spec.max_instances {
            return Err(format!(
                "the group has {} instances; a scaling group holds at most {} (§6.2)",
                spec.instances.len(),
                spec.max_instances
            ));
        }
        for inst in &spec.instances {
            if world.names.lookup(&inst.id).is_some() {
                return Err(format!("instance id {} is used twice", inst.id));
            }
            world.add_instance(inst, false, &mut scratch);
        }
        Ok(world)
    }

    /// Records of the world as it stands: one `instance_joined` per instance, the launch
    /// configuration and the group's enabled state, so a timeline alone tells the starting point.
    pub fn initial_records(&mut self, fx: &mut Fx) {
        for inst in &self.instances {
            fx.emit(Event::InstanceJoined {
                instance: inst.id,
                state: inst.state,
                image: inst.image,
                instance_type: inst.instance_type,
                surge: inst.surge,
                creation: inst.creation,
                protected: inst.protected,
                fields: None,
                replaces: None,
            });
        }
        let lc = self.current_lc();
        fx.emit(Event::LaunchConfig {
            version: lc.version,
            image: lc.image,
            changed: "initial".into(),
            fields: Some(lc.spec.fields_digest()),
        });
        let cause = self.names.intern("initial state");
        fx.emit(Event::GroupEnabled {
            from: self.group.enabled,
            to: self.group.enabled,
            cause,
        });
    }

    /// Adds an instance to the group and records it.
    pub fn add_instance(&mut self, spec: &InstanceSpec, surge: bool, fx: &mut Fx) -> u32 {
        self.add_created_instance(spec, surge, None, fx)
    }

    /// As `add_instance`; `created` = (refreshable-fields digest, frozen instance it replaces)
    /// for an instance created from the launch configuration, recorded in `instance_joined`.
    pub fn add_created_instance(
        &mut self,
        spec: &InstanceSpec,
        surge: bool,
        created: Option<(u64, Option<Sym>)>,
        fx: &mut Fx,
    ) -> u32 {
        let id = self.names.intern(&spec.id);
        let image = self.names.intern(&spec.image_id);
        let instance_type = self.names.intern(&spec.instance_type);
        let state = if spec.standby {
            LifeCycleState::InStandby
        } else {
            spec.state
        };
        self.instances.push(Instance {
            id,
            key: stable_hash(spec.id.as_bytes()),
            state,
            in_group: true,
            standby: spec.standby,
            held_by_refresh: false,
            protected: spec.protected,
            image,
            config_version: None,
            instance_type,
            creation: spec.creation,
            add_time_unix_s: spec.add_time_unix_s,
            surge,
            id_prefix: id_prefix(&spec.id),
            op: None,
            hook_run: None,
            hook_runs_seen: 0,
            ops_seen: 0,
            refresh_attempts: 0,
            zone: spec.zone,
            health: crate::api::HealthStatus::Healthy,
        });
        fx.emit(Event::InstanceJoined {
            instance: id,
            state,
            image,
            instance_type,
            surge,
            creation: spec.creation,
            protected: spec.protected,
            fields: created.map(|(fields, _)| fields),
            replaces: created.and_then(|(_, old)| old),
        });
        u32::try_from(self.instances.len() - 1).expect("instance count fits u32")
    }

    /// Orders two instances by id text (OQ-2), comparing the text only when prefixes tie.
    pub fn compare_ids(&self, a: &Instance, b: &Instance) -> std::cmp::Ordering {
        a.id_prefix
            .cmp(&b.id_prefix)
            .then_with(|| self.names.get(a.id).cmp(self.names.get(b.id)))
    }

    pub fn current_lc(&self) -> &LaunchConfig {
        self.launch_configs
            .last()
            .expect("a launch configuration always exists")
    }

    pub fn instance_by_name(&self, id: &str) -> Option<u32> {
        let sym = self.names.lookup(id)?;
        self.instances
            .iter()
            .position(|i| i.id == sym)
            .map(|p| p as u32)
    }

    pub fn activity_by_name(&self, id: &str) -> Option<u32> {
        let sym = self.names.lookup(id)?;
        self.activities
            .iter()
            .position(|a| a.id == sym)
            .map(|p| p as u32)
    }

    /// A fresh identifier of `kind`, unique among all names (OQ-35).
    pub fn fresh_id(&mut self, kind: IdKind, draws: &mut dyn Draws) -> Sym {
        let counter = &mut self.id_counters[kind as usize];
        loop {
            let candidate = draws.id_candidate(kind, *counter);
            *counter += 1;
            if self.names.lookup(&candidate).is_none() {
                return self.names.intern(&candidate);
            }
        }
    }

    pub fn has_non_terminal_activity(&self) -> bool {
        self.activities.iter().any(|a| !a.status.is_terminal())
    }

    /// OQ-97: the bytes the world holds in what grows with a run — names, instances, activities
    /// and their items, scaling activities, operations and hook runs (vectors at capacity).
    pub fn kept_bytes(&self) -> u64 {
        fn bytes<T>(v: &Vec<T>) -> u64 {
            (v.capacity() * std::mem::size_of::<T>()) as u64
        }
        // A hook run lists up to 10 hooks (`Vec<usize>`) besides itself.
        let hook_lists = self.hook_runs.capacity() as u64 * 80;
        self.names.kept_bytes()
            + bytes(&self.instances)
            + bytes(&self.activities)
            + self.item_bytes
            + bytes(&self.scaling_activities)
            + bytes(&self.ops)
            + bytes(&self.hook_runs)
            + hook_lists
    }

    /// OQ-66: whether a scaling activity that is not refresh activity `a`'s own runs.
    pub fn other_scaling_activity_runs(&self, a: u32) -> bool {
        self.running_scaling
            .iter()
            .any(|&s| self.scaling_activities[s as usize].refresh_activity != Some(a))
    }

    /// OQ-18: the group is `IN_ACTIVITY` while any scaling activity runs.
    pub fn group_in_activity(&self) -> bool {
        !self.running_scaling.is_empty()
    }

    pub fn set_lifecycle(
        &mut self,
        instance: u32,
        to: LifeCycleState,
        cause: LifeCycleCause,
        fx: &mut Fx,
    ) {
        let inst = &mut self.instances[instance as usize];
        let from = inst.state;
        if from == to {
            return;
        }
        inst.state = to;
        fx.emit(Event::LifeCycle {
            instance: inst.id,
            from,
            to,
            cause,
        });
    }

    /// OQ-17: a refresh starts holding the group disabled.
    pub fn hold_group_disabled(&mut self, fx: &mut Fx) {
        if self.group.remembered_enabled.is_some() {
            return; // another activity already holds it; a rollback inherits (OQ-17)
        }
        self.group.remembered_enabled = Some(self.group.enabled);
        self.set_enabled(EnabledStatus::Disabled, "instance refresh started", fx);
    }

    /// OQ-17: when the last non-terminal activity ends, restore the remembered state.
    pub fn release_group_if_idle(&mut self, fx: &mut Fx) {
        if self.has_non_terminal_activity() || self.sabotage == Sabotage::ForgetGroupRestore {
            return;
        }
        if let Some(previous) = self.group.remembered_enabled.take() {
            self.set_enabled(previous, "instance refresh ended", fx);
        }
    }

    pub fn set_enabled(&mut self, to: EnabledStatus, cause: &'static str, fx: &mut Fx) {
        let from = self.group.enabled;
        if from != to {
            self.group.enabled = to;
            let cause = self.names.intern(cause);
            fx.emit(Event::GroupEnabled { from, to, cause });
            // OQ-32: an enabled group matches its desired capacity again (done in `settle`).
            self.matching_due = to == EnabledStatus::Enabled;
        }
    }

    /// Starts a scaling activity and records it.
    pub fn begin_scaling_activity(
        &mut self,
        activity_type: ScalingActivityType,
        refresh_activity: Option<u32>,
        instances: u32,
        cause: ScalingCause,
        draws: &mut dyn Draws,
        fx: &mut Fx,
    ) -> u32 {
        let id = self.fresh_id(IdKind::ScalingActivity, draws);
        self.scaling_activities.push(ScalingActivity {
            id,
            activity_type,
            status: ScalingActivityStatus::Running,
            refresh_activity,
            instances,
            started: fx.now,
            ended: None,
            ops_pending: 0,
            ops_ok: 0,
            ops_ok_uncounted: 0,
            ops_failed: 0,
            desired_per_success: 0,
            matching: false,
            cause,
            related: Vec::new(),
            hook_results: Vec::new(),
        });
        let index = (self.scaling_activities.len() - 1) as u32;
        self.running_scaling.push(index);
        fx.emit(Event::ScalingActivity {
            id,
            activity: refresh_activity.map(|a| self.activities[a as usize].id),
            activity_type,
            from: None,
            to: ScalingActivityStatus::Running,
            instances,
            cause,
        });
        index
    }

    pub fn end_scaling_activity(&mut self, index: u32, to: ScalingActivityStatus, fx: &mut Fx) {
        let refresh_id = self.scaling_activities[index as usize]
            .refresh_activity
            .map(|a| self.activities[a as usize].id);
        let sa = &mut self.scaling_activities[index as usize];
        if sa.status != ScalingActivityStatus::Running {
            return;
        }
        let from = sa.status;
        sa.status = to;
        sa.ended = Some(fx.now);
        self.running_scaling.retain(|&s| s != index);
        let sa = &self.scaling_activities[index as usize];
        fx.emit(Event::ScalingActivity {
            id: sa.id,
            activity: refresh_id,
            activity_type: sa.activity_type,
            from: Some(from),
            to,
            instances: sa.instances,
            cause: sa.cause,
        });
    }

    /// A scaling activity that is not part of a refresh (a scripted fault), running for
    /// `duration_ms`: while it runs, Start is refused (OQ-27 step 8). Triggered while another
    /// scaling activity runs, it is cancelled at once (§6.3, OQ-66).
    pub fn begin_external_scaling_activity(
        &mut self,
        activity_type: ScalingActivityType,
        duration_ms: u64,
        draws: &mut dyn Draws,
        fx: &mut Fx,
    ) {
        if self.group_in_activity() && self.sabotage != Sabotage::OverlapScalingActivities {
            let id = self.fresh_id(IdKind::ScalingActivity, draws);
            self.scaling_activities.push(ScalingActivity {
                id,
                activity_type,
                status: ScalingActivityStatus::Cancelled,
                refresh_activity: None,
                instances: 0,
                started: fx.now,
                ended: Some(fx.now),
                ops_pending: 0,
                ops_ok: 0,
                ops_ok_uncounted: 0,
                ops_failed: 0,
                desired_per_success: 0,
                matching: false,
                cause: ScalingCause::External,
                related: Vec::new(),
                hook_results: Vec::new(),
            });
            fx.emit(Event::ScalingActivity {
                id,
                activity: None,
                activity_type,
                from: None,
                to: ScalingActivityStatus::Cancelled,
                instances: 0,
                cause: ScalingCause::External,
            });
            return;
        }
        let index =
            self.begin_scaling_activity(activity_type, None, 0, ScalingCause::External, draws, fx);
        fx.after(
            duration_ms,
            Timer::ScalingActivityEnd {
                scaling_activity: index,
            },
        );
    }

    /// Whether `n` more instances fit under the group's instance cap (§6.2; surge counts, OQ-7).
    pub fn has_room_for(&self, n: usize) -> bool {
        self.instances.iter().filter(|i| i.in_group).count() + n <= self.max_instances
    }

    /// Count of in-service instances (LifeCycleState `IN_SERVICE`).
    pub fn in_service_count(&self) -> u32 {
        self.instances
            .iter()
            .filter(|i| i.in_group && i.state == LifeCycleState::InService)
            .count() as u32
    }
}
