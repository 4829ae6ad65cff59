//! The scenario file exactly as written (TOML or JSON, same schema). Unknown fields are errors.
//! Values stay raw here (strings for enums and durations); `resolve` checks them.

use super::table::{SubError, TriggeredItem, from_table};
pub use super::table::{TriggerEntry, Triggered};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    pub scenario: ScenarioSection,
    pub group: GroupSection,
    pub launch_configuration: LaunchConfigurationSection,
    #[serde(default)]
    pub timing: TimingSection,
    #[serde(default)]
    pub faults: FaultsSection,
    #[serde(default)]
    pub actions: Vec<ActionEntry>,
    #[serde(default)]
    pub expect: Option<ExpectSection>,
    /// The grid `refreshsim sweep` runs by default (`run` ignores it).
    #[serde(default)]
    pub sweep: Option<SweepSection>,
}

/// `[sweep]`: settings to vary and how many seeded runs per variant.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SweepSection {
    #[serde(default)]
    pub runs: Option<u64>,
    #[serde(default)]
    pub seed: Option<u64>,
    /// Capacity threshold for "time below floor", as a fraction (default: `capacity_floor`).
    #[serde(default)]
    pub floor: Option<f64>,
    /// The variant the others are compared with: its number, or `KEY=VALUE, ...`.
    #[serde(default)]
    pub baseline: Option<Value>,
    #[serde(default)]
    pub vary: Vec<VaryEntry>,
}

/// One varied setting: a key and its values, listed or as a range.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct VaryEntry {
    pub key: String,
    #[serde(default)]
    pub values: Option<Vec<Value>>,
    /// `"2..=20:2"`: from 2 to 20 inclusive in steps of 2.
    #[serde(default)]
    pub range: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSection {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// RFC 3339 UTC instant of simulated time 0.
    #[serde(default)]
    pub start_time: Option<String>,
    #[serde(default)]
    pub seed: Option<u64>,
    #[serde(default)]
    pub limits: Option<LimitsSection>,
    /// Threshold for "time below floor" as a fraction of the pre-refresh in-service count.
    #[serde(default)]
    pub capacity_floor: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSection {
    pub max_events: Option<u64>,
    pub max_sim_time: Option<String>,
    pub max_records: Option<u64>,
    pub max_call_bytes: Option<u64>,
    pub max_memory_bytes: Option<u64>,
    pub max_instances: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSection {
    pub id: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub min_size: Option<u64>,
    #[serde(default)]
    pub max_size: Option<u64>,
    #[serde(default)]
    pub desired_capacity: Option<u64>,
    #[serde(default)]
    pub forward_clb: Option<bool>,
    #[serde(default)]
    pub role_authorized: Option<bool>,
    /// Generated instances: how many.
    #[serde(default)]
    pub size: Option<u64>,
    /// Image of generated instances.
    #[serde(default)]
    pub image_id: Option<String>,
    #[serde(default)]
    pub instance_type: Option<String>,
    #[serde(default)]
    pub instances: Vec<InstanceEntry>,
    /// Lifecycle hooks, processed in this order (§6.8).
    #[serde(default)]
    pub lifecycle_hooks: Vec<HookEntry>,
    /// Scaling policies that alarm fault events fire (§6.1).
    #[serde(default)]
    pub scaling_policies: Vec<PolicyEntry>,
    /// `ServiceSettings.ReplaceMonitorUnhealthy`: unhealthy instances are replaced (§6.5).
    #[serde(default)]
    pub replace_unhealthy: Option<bool>,
    /// What the Describe calls show and no refresh reads (OQ-89, OQ-93).
    /// `AutoScalingGroupName` (default: the id).
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub project_id: Option<u64>,
    #[serde(default)]
    pub vpc_id: Option<String>,
    #[serde(default)]
    pub subnet_ids: Option<Vec<String>>,
    /// Availability zones; instances name one with `zone` (default: the first).
    #[serde(default)]
    pub zones: Option<Vec<String>>,
    /// The group's tags, key = value.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Forward (application) CLBs the group is bound to; implies `forward_clb`.
    #[serde(default)]
    pub load_balancers: Vec<LoadBalancerEntry>,
    /// Classic CLB ids (`LoadBalancerIdSet`).
    #[serde(default)]
    pub classic_load_balancer_ids: Vec<String>,
    /// DescribeAccountLimits: the account's quotas and counts (OQ-93).
    #[serde(default)]
    pub account_max_groups: Option<u64>,
    #[serde(default)]
    pub account_groups: Option<u64>,
    #[serde(default)]
    pub account_max_launch_configurations: Option<u64>,
    #[serde(default)]
    pub account_launch_configurations: Option<u64>,
}

/// One `ForwardLoadBalancer`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadBalancerEntry {
    pub id: String,
    pub listener_id: String,
    #[serde(default)]
    pub location_id: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    /// `TargetAttributes` port (default 80) and weight (default 10).
    #[serde(default)]
    pub port: Option<u64>,
    #[serde(default)]
    pub weight: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HookEntry {
    pub id: String,
    /// `INSTANCE_LAUNCHING` or `INSTANCE_TERMINATING`.
    pub transition: String,
    /// `NORMAL` (default) or `EXTENSION` (§3.10).
    #[serde(default)]
    pub transition_type: Option<String>,
    /// `CONTINUE` (default) or `ABANDON`: applied at the heartbeat timeout.
    #[serde(default)]
    pub default_result: Option<String>,
    /// 30 s to 7200 s, default 300 s.
    #[serde(default)]
    pub heartbeat_timeout: Option<String>,
    /// The user's automation completes the action after `timing.hook_response` (default true);
    /// false: only CompleteLifecycleAction actions or the timeout resolve it.
    #[serde(default)]
    pub auto_complete: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyEntry {
    pub id: String,
    /// Change in desired capacity (ChangeInCapacity).
    pub adjustment: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceEntry {
    pub id: String,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub standby: Option<bool>,
    #[serde(default)]
    pub protected: Option<bool>,
    #[serde(default)]
    pub image_id: Option<String>,
    #[serde(default)]
    pub instance_type: Option<String>,
    #[serde(default)]
    pub creation: Option<String>,
    #[serde(default)]
    pub add_time: Option<String>,
    /// One of `group.zones` (default: the first).
    #[serde(default)]
    pub zone: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaunchConfigurationSection {
    #[serde(default)]
    pub id: Option<String>,
    /// `LaunchConfigurationName` (default: the id).
    #[serde(default)]
    pub name: Option<String>,
    pub image_id: String,
    #[serde(default)]
    pub user_data: Option<String>,
    #[serde(default)]
    pub enhanced_service: Option<Value>,
    #[serde(default)]
    pub host_name_settings: Option<Value>,
    #[serde(default)]
    pub login_settings: Option<Value>,
    #[serde(default)]
    pub instance_type: Option<String>,
    /// Edits at a time or on a condition (OQ-16).
    #[serde(default)]
    pub changes: Vec<LaunchConfigChangeEntry>,
}

/// A launch-configuration edit and when it happens.
pub type LaunchConfigChangeEntry = Triggered<LaunchConfigChange>;

/// What a launch-configuration change sets (at least one field).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LaunchConfigChange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enhanced_service: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_name_settings: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_settings: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
}

impl TriggeredItem for LaunchConfigChange {
    fn from_table(table: Map<String, Value>, trigger: &[&str]) -> Result<Self, SubError> {
        from_table(table, "a launch-configuration change", trigger)
    }
}

/// A duration: `"90s"`, or a distribution table.
#[derive(Debug, Clone)]
pub enum DurationSpec {
    Fixed(String),
    Distribution(DistributionEntry),
}

impl<'de> Deserialize<'de> for DurationSpec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = DurationSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a duration like \"90s\" or a table such as { lognormal = { median = \"90s\", p95 = \"126s\" } }")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<DurationSpec, E> {
                Ok(DurationSpec::Fixed(v.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<DurationSpec, A::Error> {
                DistributionEntry::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(DurationSpec::Distribution)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct DistributionEntry {
    #[serde(default)]
    pub uniform: Option<UniformEntry>,
    #[serde(default)]
    pub normal: Option<NormalEntry>,
    #[serde(default)]
    pub lognormal: Option<LognormalEntry>,
    #[serde(default)]
    pub empirical: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct UniformEntry {
    pub min: String,
    pub max: String,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct NormalEntry {
    pub mean: String,
    pub sd: String,
    #[serde(default)]
    pub min: Option<String>,
    #[serde(default)]
    pub max: Option<String>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct LognormalEntry {
    pub median: String,
    pub p95: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimingSection {
    #[serde(default)]
    pub reinstall: Option<DurationSpec>,
    #[serde(default)]
    pub target_health: Option<DurationSpec>,
    #[serde(default)]
    pub init_delay: Option<DurationSpec>,
    #[serde(default)]
    pub batch_gap: Option<DurationSpec>,
    /// Creating an instance (surge, replacement, scale-out): default 90 s (spec §11).
    #[serde(default)]
    pub instance_create: Option<DurationSpec>,
    /// Destroying or detaching an instance: default 30 s (spec §11).
    #[serde(default)]
    pub instance_destroy: Option<DurationSpec>,
    /// How long the user's automation takes to complete a lifecycle action: default 30 s.
    #[serde(default)]
    pub hook_response: Option<DurationSpec>,
    /// Per-instance overrides, keyed by instance id (or `#n`), e.g. to replay observed timings.
    #[serde(default)]
    pub instances: BTreeMap<String, InstanceTimingEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceTimingEntry {
    #[serde(default)]
    pub reinstall: Option<DurationSpec>,
    #[serde(default)]
    pub target_health: Option<DurationSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultsSection {
    /// Probability that one reinstall attempt fails.
    #[serde(default)]
    pub reinstall_failure_rate: Option<f64>,
    /// Probability that an instance's CLB target never becomes healthy in an attempt.
    #[serde(default)]
    pub target_health_never_rate: Option<f64>,
    /// Probability that creating an instance fails (surge, replacement, scale-out).
    #[serde(default)]
    pub create_failure_rate: Option<f64>,
    /// Probability that destroying an instance fails (e.g. the final surge scale-in).
    #[serde(default)]
    pub destroy_failure_rate: Option<f64>,
    /// Probability that the user's automation answers ABANDON to a lifecycle action.
    #[serde(default)]
    pub hook_abandon_rate: Option<f64>,
    /// Images that do not exist from the start.
    #[serde(default)]
    pub missing_images: Vec<String>,
    /// Images that exist but do not boot: every reinstall or creation with them fails.
    #[serde(default)]
    pub bad_images: Vec<String>,
    #[serde(default)]
    pub scripted: Vec<ScriptedFailureEntry>,
    #[serde(default)]
    pub events: Vec<FaultEventEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptedFailureEntry {
    pub instance: String,
    #[serde(default)]
    pub attempt: Option<u64>,
    #[serde(default)]
    pub step: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

/// A fault event: a change of the world and when it happens.
pub type FaultEventEntry = Triggered<Fault>;

/// Declares the fault kinds once: the enum, its `kind` names, reading and writing.
macro_rules! fault_kinds {
    ($($(#[$doc:meta])* $variant:ident($fields:ty) = $kind:literal,)+) => {
        /// A fault event's `kind` and the fields of that kind (no others are accepted).
        #[derive(Debug, Clone, PartialEq)]
        pub enum Fault {
            $($(#[$doc])* $variant($fields),)+
        }

        impl Fault {
            /// Every `kind`, in the order of the reference.
            pub const KINDS: &'static [&'static str] = &[$($kind,)+];

            pub fn kind(&self) -> &'static str {
                match self {
                    $(Fault::$variant(_) => $kind,)+
                }
            }

            /// The fields a fault of `kind` takes besides `kind` and the trigger.
            pub fn fields_of(kind: &str) -> Option<&'static [&'static str]> {
                match kind {
                    $($kind => Some(super::table::fields_of::<$fields>()),)+
                    _ => None,
                }
            }

            fn read(
                kind: &str,
                table: Map<String, Value>,
                also: &[&str],
            ) -> Option<Result<Fault, SubError>> {
                let article = if kind.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
                let what = format!("{article} `{kind}` fault event");
                match kind {
                    $($kind => Some(from_table::<$fields>(table, &what, also).map(Fault::$variant)),)+
                    _ => None,
                }
            }
        }

        impl Serialize for Fault {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match self {
                    $(Fault::$variant(fields) => Tagged { kind: $kind, fields }.serialize(s),)+
                }
            }
        }
    };
}

fault_kinds! {
    /// The instance is destroyed outside the refresh.
    Destroy(InstanceFault) = "destroy",
    /// The instance is detached from the group.
    Detach(InstanceFault) = "detach",
    /// Another name for `detach`.
    Remove(InstanceFault) = "remove",
    Stop(InstanceFault) = "stop",
    Start(InstanceFault) = "start",
    EnterStandby(InstanceFault) = "enter_standby",
    ExitStandby(InstanceFault) = "exit_standby",
    /// The health check marks the instance unhealthy (§6.5).
    Unhealthy(InstanceFault) = "unhealthy",
    GroupStatus(GroupStatusFault) = "group_status",
    /// The service role is granted or revoked.
    Role(RoleFault) = "role",
    /// An image appears or disappears.
    Image(ImageFault) = "image",
    /// The next refresh step fails with an internal error.
    InternalError(NoFields) = "internal_error",
    /// A scaling activity of another kind runs for a while.
    ScalingActivity(ScalingActivityFault) = "scaling_activity",
    CreateBlocked(BlockedFault) = "create_blocked",
    DestroyBlocked(BlockedFault) = "destroy_blocked",
    /// A monitoring alarm fires a scaling policy.
    Alarm(AlarmFault) = "alarm",
    /// A scheduled action sets the desired capacity.
    ScheduledAction(ScheduledActionFault) = "scheduled_action",
}

/// How a fault is written: `kind` beside its fields.
#[derive(Serialize)]
struct Tagged<'a, T: Serialize> {
    kind: &'static str,
    #[serde(flatten)]
    fields: &'a T,
}

impl TriggeredItem for Fault {
    fn from_table(mut table: Map<String, Value>, trigger: &[&str]) -> Result<Self, SubError> {
        let kinds = Fault::KINDS.join(" | ");
        let kind = match table.shift_remove("kind") {
            None => {
                return Err(SubError::new(
                    "",
                    format!("missing field `kind` (one of {kinds})"),
                ));
            }
            Some(value) => String::deserialize(value)
                .map_err(|e| SubError::new("kind", format!("{e} (one of {kinds})")))?,
        };
        let also: Vec<&str> = std::iter::once("kind")
            .chain(trigger.iter().copied())
            .collect();
        Fault::read(&kind, table, &also).unwrap_or_else(|| {
            Err(SubError::new(
                "kind",
                format!("expected one of {kinds}, found {kind:?}"),
            ))
        })
    }
}

/// A fault on one instance (an instance id or `#n`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceFault {
    pub instance: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GroupStatusFault {
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RoleFault {
    pub authorized: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ImageFault {
    pub image: String,
    /// Whether the image exists afterwards (default false: it disappears).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available: Option<bool>,
}

/// A kind with no fields of its own.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NoFields {}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ScalingActivityFault {
    pub duration: String,
    /// Default `SCALE_OUT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_type: Option<String>,
}

/// For `create_blocked` / `destroy_blocked`: on (default) or off.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BlockedFault {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked: Option<bool>,
}

/// For `alarm`: the scaling policy id.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmFault {
    pub policy: String,
}

/// For `scheduled_action`: its name and the desired capacity it sets.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledActionFault {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub desired_capacity: u64,
}

/// The condition of a `when` trigger: exactly one of `activity_status`, `batch_status`,
/// `instance_status` or `action`, with the fields that go with it (checked in `resolve`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionEntry {
    #[serde(default)]
    pub activity_status: Option<String>,
    #[serde(default)]
    pub batch_status: Option<String>,
    #[serde(default)]
    pub batch: Option<u64>,
    #[serde(default)]
    pub instance_status: Option<String>,
    #[serde(default)]
    pub instance: Option<String>,
    /// Which activity the condition watches (an action id); any activity when absent.
    #[serde(default)]
    pub activity: Option<String>,
    /// After the action with this id has been called.
    #[serde(default)]
    pub action: Option<String>,
}

/// An API call and when it is made.
pub type ActionEntry = Triggered<ActionCall>;

/// An API call of a scenario.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ActionCall {
    /// A name other entries refer to (`expect.calls`, `activity`, `when.action`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub action: String,
    /// The request body exactly as Tencent's API takes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Value>,
    /// Fill omitted `AutoScalingGroupId` / `RefreshActivityId` / `OriginRefreshActivityId` /
    /// `LaunchConfigurationId` (default true). Set false to send the body verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fill: Option<bool>,
    /// The action id whose activity fills `RefreshActivityId` (default: the triggering or the
    /// latest activity); only for actions that take an activity id, with `fill`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<String>,
}

impl TriggeredItem for ActionCall {
    fn from_table(table: Map<String, Value>, trigger: &[&str]) -> Result<Self, SubError> {
        from_table(table, "an action", trigger)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectSection {
    /// Which activity `status`/`max_duration`/`batch_statuses` refer to (an action id);
    /// default: the last activity created.
    #[serde(default)]
    pub activity: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub max_duration: Option<String>,
    #[serde(default)]
    pub min_in_service: Option<u64>,
    #[serde(default)]
    pub batch_statuses: Option<Vec<String>>,
    #[serde(default)]
    pub instance_statuses: Option<BTreeMap<String, String>>,
    /// Image each named instance carries at the end (instance id or `#n` → image id).
    #[serde(default)]
    pub instance_images: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub group_enabled: Option<bool>,
    #[serde(default)]
    pub activities: Option<u64>,
    #[serde(default)]
    pub calls: Vec<ExpectCallEntry>,
    /// Final status of the activity created by each named action (action id → status).
    #[serde(default)]
    pub activity_statuses: Option<BTreeMap<String, String>>,
    /// Checks on API responses: a JSON pointer into the response of an action and its value.
    #[serde(default)]
    pub responses: Vec<ExpectResponseEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectResponseEntry {
    /// The action id.
    pub action: String,
    /// RFC 6901 pointer into the response envelope, e.g. `/Response/TotalCount`.
    pub pointer: String,
    /// The value expected there.
    pub equals: serde_json::Value,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectCallEntry {
    /// The action id.
    pub action: String,
    /// `"OK"` or an error code.
    pub code: String,
}
