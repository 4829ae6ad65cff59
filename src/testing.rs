//! Proptest strategies that generate whole scenarios, swarm-style (D11): group sizes from 1 to
//! 2,000 with explicit instance states, every refresh setting, timing distributions (constant,
//! uniform, normal, lognormal, empirical; init delay and batch gap), fault mixes in which whole
//! fault kinds are switched off in some cases, launch-configuration edits of every refreshable
//! field, and operator actions at random times or on conditions (activity, batch or instance
//! status). A generated `ScenarioSpec` renders to an ordinary scenario file (`to_toml`), so any
//! counterexample is a file `refreshsim run` replays exactly.
//!
//! Enabled by the `testing` feature:
//!
//! ```toml
//! [dev-dependencies]
//! refreshsim = { version = "0.1", features = ["testing"] }
//! ```
//!
//! The README's example property is `tests/suite/readme_property.rs` (compiled and run by
//! `cargo test`; a test checks the README shows that file verbatim).

use crate::api::Action;
use crate::check::{Invariant, Violation, check_timeline};
use crate::run::{RunResult, run_scenario};
use crate::scenario::{ScenarioError, parse_scenario};
use crate::sim::{CallRecord, RunError, Simulation};
use crate::timeline::{FullSink, MetricsSink, Timeline};
use proptest::collection::vec;
use proptest::prelude::*;
use serde_json::Value;
use std::fmt::Write;

/// The largest group a strategy generates (Tencent's per-group cap).
pub const MAX_GENERATED_INSTANCES: usize = 2000;

/// The run bounds of a generated scenario (D12). Generated refreshes end within days of
/// simulated time; a run that does not (e.g. a refresh retried forever) stops at a bound and is
/// checked on its partial timeline, so the bounds are kept low enough to make that cheap.
pub const MAX_EVENTS: u64 = 200_000;
pub const MAX_SIM_TIME: &str = "10d";

/// How an instance starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GenState {
    InService,
    Stopped,
    Standby,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenInstance {
    pub state: GenState,
    pub protected: bool,
    /// Manually attached (REPLACE detaches rather than destroys it).
    pub attached: bool,
}

/// A duration distribution, in seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GenDist {
    Constant(u64),
    Uniform(u64, u64),
    /// Normal, truncated below at 0.
    Normal {
        mean: u64,
        sd: u64,
    },
    LogNormal {
        median: u64,
        p95: u64,
    },
    Empirical(Vec<u64>),
}

impl GenDist {
    fn toml(&self) -> String {
        match self {
            GenDist::Constant(s) => format!("\"{s}s\""),
            GenDist::Uniform(a, b) => {
                format!("{{ uniform = {{ min = \"{a}s\", max = \"{b}s\" }} }}")
            }
            GenDist::Normal { mean, sd } => {
                format!("{{ normal = {{ mean = \"{mean}s\", sd = \"{sd}s\", min = \"0s\" }} }}")
            }
            GenDist::LogNormal { median, p95 } => {
                format!("{{ lognormal = {{ median = \"{median}s\", p95 = \"{p95}s\" }} }}")
            }
            GenDist::Empirical(list) => {
                let items: Vec<String> = list.iter().map(|s| format!("\"{s}s\"")).collect();
                format!("{{ empirical = [{}] }}", items.join(", "))
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenHook {
    pub launching: bool,
    pub extension: bool,
    pub default_abandon: bool,
    pub heartbeat_s: u64,
    pub auto_complete: bool,
}

/// The StartInstanceRefresh request. Values may be out of range on purpose (the request is then
/// refused with a documented error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenStart {
    pub replace: bool,
    pub batch_number: u64,
    pub batch_pause: &'static str,
    pub max_surge: i64,
    pub fail_process: &'static str,
    pub check_health: bool,
    pub health_timeout_s: u64,
}

/// When an operator action, fault event or launch-configuration edit happens: at a time, or
/// `after_s` after a status condition holds (`repeat`: every time it holds again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GenTrigger {
    At(u64),
    /// The (any) activity enters `status`.
    WhenStatus {
        status: &'static str,
        after_s: u64,
        repeat: bool,
    },
    /// A batch (batch `batch`, or any) enters `status`.
    WhenBatch {
        status: &'static str,
        batch: Option<u64>,
        after_s: u64,
        repeat: bool,
    },
    /// Instance `instance` (position, taken modulo the group size) enters `status`.
    WhenInstance {
        status: &'static str,
        instance: usize,
        after_s: u64,
        repeat: bool,
    },
}

impl GenTrigger {
    /// The `at` / `when` / `after` / `repeat` lines of a scenario entry.
    fn toml(&self, n: usize) -> String {
        let when = |condition: String, after_s: &u64, repeat: &bool| {
            format!("when = {{ {condition} }}\nafter = \"{after_s}s\"\nrepeat = {repeat}\n")
        };
        match self {
            GenTrigger::At(s) => format!("at = \"{s}s\"\n"),
            GenTrigger::WhenStatus {
                status,
                after_s,
                repeat,
            } => when(format!("activity_status = \"{status}\""), after_s, repeat),
            GenTrigger::WhenBatch {
                status,
                batch,
                after_s,
                repeat,
            } => {
                let batch = batch.map(|b| format!(", batch = {b}")).unwrap_or_default();
                when(
                    format!("batch_status = \"{status}\"{batch}"),
                    after_s,
                    repeat,
                )
            }
            GenTrigger::WhenInstance {
                status,
                instance,
                after_s,
                repeat,
            } => when(
                format!(
                    "instance_status = \"{status}\", instance = \"{}\"",
                    instance_id(instance % n.max(1))
                ),
                after_s,
                repeat,
            ),
        }
    }
}

/// A launch-configuration edit: each refreshable field (ImageId, UserData, EnhancedService,
/// HostNameSettings, LoginSettings) and the non-refreshable instance type may change. At least
/// one field changes (ImageId when none is set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenLcEdit {
    /// `img-v{image + 2}`.
    pub image: Option<u32>,
    pub user_data: Option<u32>,
    pub host_name: Option<u32>,
    pub keep_image_login: Option<bool>,
    pub security_service: Option<bool>,
    pub instance_type: Option<u32>,
}

const INSTANCE_TYPES: [&str; 3] = ["S5.MEDIUM2", "S5.LARGE8", "SA2.MEDIUM4"];

impl GenLcEdit {
    fn image_or_default(&self) -> Option<u32> {
        let none = self.image.is_none()
            && self.user_data.is_none()
            && self.host_name.is_none()
            && self.keep_image_login.is_none()
            && self.security_service.is_none()
            && self.instance_type.is_none();
        if none { Some(0) } else { self.image }
    }

    /// As `[[launch_configuration.changes]]` fields.
    fn toml_fields(&self) -> String {
        let mut t = String::new();
        if let Some(image) = self.image_or_default() {
            let _ = writeln!(t, "image_id = \"img-v{}\"", image + 2);
        }
        if let Some(k) = self.user_data {
            let _ = writeln!(t, "user_data = \"dXNlci1kYXRh{k}\"");
        }
        if let Some(on) = self.security_service {
            let _ = writeln!(
                t,
                "enhanced_service = {{ SecurityService = {{ Enabled = {on} }} }}"
            );
        }
        if let Some(k) = self.host_name {
            let _ = writeln!(t, "host_name_settings = {{ HostName = \"gen-{k}\" }}");
        }
        if let Some(keep) = self.keep_image_login {
            let _ = writeln!(
                t,
                "login_settings = {{ KeepImageLogin = \"{}\" }}",
                if keep { "TRUE" } else { "FALSE" }
            );
        }
        if let Some(k) = self.instance_type {
            let _ = writeln!(
                t,
                "instance_type = \"{}\"",
                INSTANCE_TYPES[k as usize % INSTANCE_TYPES.len()]
            );
        }
        t
    }

    /// As a ModifyLaunchConfigurationAttributes request body.
    fn request(&self) -> String {
        let mut fields = Vec::new();
        if let Some(image) = self.image_or_default() {
            fields.push(format!("ImageId = \"img-v{}\"", image + 2));
        }
        if let Some(k) = self.user_data {
            fields.push(format!("UserData = \"dXNlci1kYXRh{k}\""));
        }
        if let Some(on) = self.security_service {
            fields.push(format!(
                "EnhancedService = {{ SecurityService = {{ Enabled = {on} }} }}"
            ));
        }
        if let Some(k) = self.host_name {
            fields.push(format!("HostNameSettings = {{ HostName = \"gen-{k}\" }}"));
        }
        if let Some(keep) = self.keep_image_login {
            fields.push(format!(
                "LoginSettings = {{ KeepImageLogin = \"{}\" }}",
                if keep { "TRUE" } else { "FALSE" }
            ));
        }
        if let Some(k) = self.instance_type {
            fields.push(format!(
                "InstanceTypes = [\"{}\"]",
                INSTANCE_TYPES[k as usize % INSTANCE_TYPES.len()]
            ));
        }
        format!("{{ {} }}", fields.join(", "))
    }
}

/// A DescribeRefreshActivities query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GenDescribe {
    All,
    ByStatus(&'static str),
    ByType { rollback: bool },
    Page { limit: u64, offset: u64 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GenOp {
    Stop,
    Resume {
        retry: bool,
    },
    Cancel,
    Rollback {
        batch_number: u64,
    },
    Remove {
        instance: usize,
    },
    Detach {
        instance: usize,
    },
    Describe(GenDescribe),
    ScaleOut {
        number: u64,
    },
    ScaleIn {
        number: u64,
    },
    DisableGroup,
    EnableGroup,
    ExecutePolicy,
    /// CompleteLifecycleAction for hook `hook` (index, modulo the hooks) and an instance.
    CompleteHook {
        hook: usize,
        instance: usize,
        abandon: bool,
    },
    /// ModifyLaunchConfigurationAttributes.
    ModifyLaunchConfiguration(GenLcEdit),
}

/// A change to the world (`[[faults.events]]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GenFault {
    Destroy {
        instance: usize,
    },
    Detach {
        instance: usize,
    },
    Stop {
        instance: usize,
    },
    Start {
        instance: usize,
    },
    EnterStandby {
        instance: usize,
    },
    ExitStandby {
        instance: usize,
    },
    Unhealthy {
        instance: usize,
    },
    InternalError,
    CreateBlocked {
        blocked: bool,
    },
    DestroyBlocked {
        blocked: bool,
    },
    Alarm,
    ScheduledAction {
        desired_capacity: u64,
    },
    /// Image `img-v{image}` becomes (un)available.
    Image {
        image: u32,
        available: bool,
    },
    Role {
        authorized: bool,
    },
    GroupStatus {
        abnormal: bool,
    },
    ScalingActivity {
        duration_s: u64,
    },
}

/// How many fault-event kinds there are (swarm testing switches each on or off per case).
pub const FAULT_KINDS: usize = 16;

impl GenFault {
    /// Index of its kind, `0..FAULT_KINDS`.
    pub fn kind_index(&self) -> usize {
        match self {
            GenFault::Destroy { .. } => 0,
            GenFault::Detach { .. } => 1,
            GenFault::Stop { .. } => 2,
            GenFault::Start { .. } => 3,
            GenFault::EnterStandby { .. } => 4,
            GenFault::ExitStandby { .. } => 5,
            GenFault::Unhealthy { .. } => 6,
            GenFault::InternalError => 7,
            GenFault::CreateBlocked { .. } => 8,
            GenFault::DestroyBlocked { .. } => 9,
            GenFault::Alarm => 10,
            GenFault::ScheduledAction { .. } => 11,
            GenFault::Image { .. } => 12,
            GenFault::Role { .. } => 13,
            GenFault::GroupStatus { .. } => 14,
            GenFault::ScalingActivity { .. } => 15,
        }
    }

    fn toml_fields(&self, n: usize) -> String {
        let inst = |kind: &str, i: &usize| {
            format!(
                "kind = \"{kind}\"\ninstance = \"{}\"\n",
                instance_id(i % n.max(1))
            )
        };
        match self {
            GenFault::Destroy { instance } => inst("destroy", instance),
            GenFault::Detach { instance } => inst("detach", instance),
            GenFault::Stop { instance } => inst("stop", instance),
            GenFault::Start { instance } => inst("start", instance),
            GenFault::EnterStandby { instance } => inst("enter_standby", instance),
            GenFault::ExitStandby { instance } => inst("exit_standby", instance),
            GenFault::Unhealthy { instance } => inst("unhealthy", instance),
            GenFault::InternalError => "kind = \"internal_error\"\n".into(),
            GenFault::CreateBlocked { blocked } => {
                format!("kind = \"create_blocked\"\nblocked = {blocked}\n")
            }
            GenFault::DestroyBlocked { blocked } => {
                format!("kind = \"destroy_blocked\"\nblocked = {blocked}\n")
            }
            GenFault::Alarm => "kind = \"alarm\"\npolicy = \"asp-gen00001\"\n".into(),
            GenFault::ScheduledAction { desired_capacity } => format!(
                "kind = \"scheduled_action\"\nname = \"gen-schedule\"\ndesired_capacity = {desired_capacity}\n"
            ),
            GenFault::Image { image, available } => {
                format!("kind = \"image\"\nimage = \"img-v{image}\"\navailable = {available}\n")
            }
            GenFault::Role { authorized } => {
                format!("kind = \"role\"\nauthorized = {authorized}\n")
            }
            GenFault::GroupStatus { abnormal } => format!(
                "kind = \"group_status\"\nstatus = \"{}\"\n",
                if *abnormal { "CVM_ABNORMAL" } else { "NORMAL" }
            ),
            GenFault::ScalingActivity { duration_s } => {
                format!("kind = \"scaling_activity\"\nduration = \"{duration_s}s\"\n")
            }
        }
    }
}

/// A scripted failure (`[[faults.scripted]]`): instance (position), attempt (every attempt when
/// `None`), and step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenScripted {
    pub instance: usize,
    pub attempt: Option<u64>,
    pub target_health: bool,
}

/// Per-attempt probabilities in parts per thousand; 0 = the fault kind is off (swarm).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenRates {
    pub reinstall_failure: u32,
    pub health_never: u32,
    pub create_failure: u32,
    pub destroy_failure: u32,
    pub hook_abandon: u32,
}

/// A whole generated scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioSpec {
    pub seed: u64,
    pub instances: Vec<GenInstance>,
    pub forward_clb: bool,
    /// `ServiceSettings.ReplaceMonitorUnhealthy`.
    pub replace_unhealthy: bool,
    pub hooks: Vec<GenHook>,
    pub reinstall: GenDist,
    pub target_health: GenDist,
    pub instance_create: GenDist,
    pub instance_destroy: GenDist,
    pub hook_response: GenDist,
    pub init_delay: Option<GenDist>,
    pub batch_gap: Option<GenDist>,
    pub rates: GenRates,
    /// `img-v{k}` images that do not exist / do not boot.
    pub missing_images: Vec<u32>,
    pub bad_images: Vec<u32>,
    pub scripted: Vec<GenScripted>,
    pub start: GenStart,
    /// `[[launch_configuration.changes]]`.
    pub lc_changes: Vec<(GenTrigger, GenLcEdit)>,
    pub actions: Vec<(GenTrigger, GenOp)>,
    pub faults: Vec<(GenTrigger, GenFault)>,
    /// Raw API requests sent verbatim (`fill = false`) every 30 s from time 0, to check that
    /// every request is accepted or refused with a documented error.
    pub requests: Vec<(Action, Value)>,
}

/// The instance id of position `i`.
pub fn instance_id(i: usize) -> String {
    format!("ins-{i:08x}")
}

/// A JSON value as a TOML inline value (TOML has no null: it becomes an empty table).
fn toml_value(v: &Value) -> String {
    let quote = |s: &str| serde_json::to_string(s).expect("strings always serialize");
    match v {
        Value::Null => "{}".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => quote(s),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(toml_value).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) if map.is_empty() => "{}".into(),
        Value::Object(map) => {
            let fields: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{} = {}", quote(k), toml_value(v)))
                .collect();
            format!("{{ {} }}", fields.join(", "))
        }
    }
}

impl ScenarioSpec {
    /// The scenario file this spec stands for.
    pub fn to_toml(&self) -> String {
        let mut t = String::new();
        let n = self.instances.len();
        let _ = writeln!(
            t,
            "# Generated by refreshsim::testing (proptest). Replay: refreshsim run <this file>"
        );
        let _ = writeln!(t, "[scenario]\nname = \"generated\"\nseed = {}", self.seed);
        let _ = writeln!(
            t,
            "limits = {{ max_events = {MAX_EVENTS}, max_sim_time = \"{MAX_SIM_TIME}\" }}\n"
        );
        let _ = writeln!(
            t,
            "[group]\nid = \"asg-gen00001\"\nmin_size = 0\nmax_size = {}\ndesired_capacity = {n}",
            (n + 20).min(MAX_GENERATED_INSTANCES)
        );
        let _ = writeln!(
            t,
            "forward_clb = {}\nreplace_unhealthy = {}\nimage_id = \"img-v0\"",
            self.forward_clb, self.replace_unhealthy
        );
        let _ = writeln!(
            t,
            "scaling_policies = [{{ id = \"asp-gen00001\", adjustment = 1 }}]"
        );
        for (i, inst) in self.instances.iter().enumerate() {
            let _ = write!(t, "[[group.instances]]\nid = \"{}\"\n", instance_id(i));
            match inst.state {
                GenState::InService => {}
                GenState::Stopped => t.push_str("state = \"STOPPED\"\n"),
                GenState::Standby => t.push_str("standby = true\n"),
            }
            if inst.protected {
                t.push_str("protected = true\n");
            }
            if inst.attached {
                t.push_str("creation = \"MANUAL_ATTACHING\"\n");
            }
        }
        for (k, h) in self.hooks.iter().enumerate() {
            let _ = writeln!(
                t,
                "[[group.lifecycle_hooks]]\nid = \"{}\"\ntransition = \"{}\"\ntransition_type = \"{}\"\ndefault_result = \"{}\"\nheartbeat_timeout = \"{}s\"\nauto_complete = {}",
                hook_id(k),
                if h.launching {
                    "INSTANCE_LAUNCHING"
                } else {
                    "INSTANCE_TERMINATING"
                },
                if h.extension { "EXTENSION" } else { "NORMAL" },
                if h.default_abandon {
                    "ABANDON"
                } else {
                    "CONTINUE"
                },
                h.heartbeat_s,
                h.auto_complete
            );
        }
        let _ = writeln!(
            t,
            "\n[launch_configuration]\nid = \"asc-gen00001\"\nimage_id = \"img-v1\""
        );
        for (trigger, edit) in &self.lc_changes {
            let _ = write!(
                t,
                "[[launch_configuration.changes]]\n{}{}",
                trigger.toml(n),
                edit.toml_fields()
            );
        }
        let _ = writeln!(
            t,
            "\n[timing]\nreinstall = {}\ntarget_health = {}\ninstance_create = {}\ninstance_destroy = {}\nhook_response = {}",
            self.reinstall.toml(),
            self.target_health.toml(),
            self.instance_create.toml(),
            self.instance_destroy.toml(),
            self.hook_response.toml()
        );
        if let Some(d) = &self.init_delay {
            let _ = writeln!(t, "init_delay = {}", d.toml());
        }
        if let Some(d) = &self.batch_gap {
            let _ = writeln!(t, "batch_gap = {}", d.toml());
        }
        let r = &self.rates;
        let images = |list: &[u32]| {
            let items: Vec<String> = list.iter().map(|k| format!("\"img-v{k}\"")).collect();
            format!("[{}]", items.join(", "))
        };
        let _ = writeln!(
            t,
            "\n[faults]\nreinstall_failure_rate = {}\ntarget_health_never_rate = {}\ncreate_failure_rate = {}\ndestroy_failure_rate = {}\nhook_abandon_rate = {}\nmissing_images = {}\nbad_images = {}",
            f64::from(r.reinstall_failure) / 1000.0,
            f64::from(r.health_never) / 1000.0,
            f64::from(r.create_failure) / 1000.0,
            f64::from(r.destroy_failure) / 1000.0,
            f64::from(r.hook_abandon) / 1000.0,
            images(&self.missing_images),
            images(&self.bad_images),
        );
        for s in &self.scripted {
            let _ = write!(
                t,
                "[[faults.scripted]]\ninstance = \"{}\"\n",
                instance_id(s.instance % n.max(1))
            );
            if let Some(a) = s.attempt {
                let _ = writeln!(t, "attempt = {a}");
            }
            let _ = writeln!(
                t,
                "step = \"{}\"",
                if s.target_health {
                    "target_health"
                } else {
                    "reinstall"
                }
            );
        }
        for (trigger, fault) in &self.faults {
            let _ = write!(
                t,
                "[[faults.events]]\n{}{}",
                trigger.toml(n),
                fault.toml_fields(n)
            );
        }
        let s = &self.start;
        let _ = writeln!(
            t,
            "\n[[actions]]\nid = \"start\"\nat = \"0s\"\naction = \"StartInstanceRefresh\"\nrequest = {{ RefreshMode = \"{}\", RefreshSettings = {{ CheckInstanceTargetHealth = {}, CheckInstanceTargetHealthTimeout = {}, RollingUpdateSettings = {{ BatchNumber = {}, BatchPause = \"{}\", MaxSurge = {}, FailProcess = \"{}\" }} }} }}",
            if s.replace {
                "ROLLING_UPDATE_REPLACE"
            } else {
                "ROLLING_UPDATE_RESET"
            },
            s.check_health,
            s.health_timeout_s,
            s.batch_number,
            s.batch_pause,
            s.max_surge,
            s.fail_process
        );
        let ids = |list: &[usize]| {
            let items: Vec<String> = list
                .iter()
                .map(|i| format!("\"{}\"", instance_id(i % n.max(1))))
                .collect();
            format!("[{}]", items.join(", "))
        };
        for (k, (trigger, op)) in self.actions.iter().enumerate() {
            let (action, request) = match op {
                GenOp::Stop => ("StopInstanceRefresh", String::new()),
                GenOp::Resume { retry } => (
                    "ResumeInstanceRefresh",
                    format!(
                        "{{ ResumeMode = \"{}\" }}",
                        if *retry { "RETRY" } else { "CONTINUE" }
                    ),
                ),
                GenOp::Cancel => ("CancelInstanceRefresh", String::new()),
                GenOp::Rollback { batch_number } => (
                    "RollbackInstanceRefresh",
                    format!(
                        "{{ RefreshSettings = {{ RollingUpdateSettings = {{ BatchNumber = {batch_number} }} }} }}"
                    ),
                ),
                GenOp::Remove { instance } => (
                    "RemoveInstances",
                    format!("{{ InstanceIds = {} }}", ids(&[*instance])),
                ),
                GenOp::Detach { instance } => (
                    "DetachInstances",
                    format!("{{ InstanceIds = {} }}", ids(&[*instance])),
                ),
                GenOp::Describe(query) => (
                    "DescribeRefreshActivities",
                    match query {
                        GenDescribe::All => String::new(),
                        GenDescribe::ByStatus(status) => format!(
                            "{{ Filters = [{{ Name = \"refresh-activity-status-code\", Values = [\"{status}\"] }}] }}"
                        ),
                        GenDescribe::ByType { rollback } => format!(
                            "{{ Filters = [{{ Name = \"refresh-activity-type\", Values = [\"{}\"] }}] }}",
                            if *rollback { "ROLLBACK" } else { "NORMAL" }
                        ),
                        GenDescribe::Page { limit, offset } => {
                            format!("{{ Limit = {limit}, Offset = {offset} }}")
                        }
                    },
                ),
                GenOp::ScaleOut { number } => (
                    "ScaleOutInstances",
                    format!("{{ ScaleOutNumber = {number} }}"),
                ),
                GenOp::ScaleIn { number } => (
                    "ScaleInInstances",
                    format!("{{ ScaleInNumber = {number} }}"),
                ),
                GenOp::DisableGroup => ("DisableAutoScalingGroup", String::new()),
                GenOp::EnableGroup => ("EnableAutoScalingGroup", String::new()),
                GenOp::ExecutePolicy => (
                    "ExecuteScalingPolicy",
                    "{ AutoScalingPolicyId = \"asp-gen00001\" }".to_string(),
                ),
                GenOp::CompleteHook {
                    hook,
                    instance,
                    abandon,
                } => (
                    "CompleteLifecycleAction",
                    format!(
                        "{{ LifecycleHookId = \"{}\", LifecycleActionResult = \"{}\", InstanceId = \"{}\" }}",
                        hook_id(hook % self.hooks.len().max(1)),
                        if *abandon { "ABANDON" } else { "CONTINUE" },
                        instance_id(instance % n.max(1))
                    ),
                ),
                GenOp::ModifyLaunchConfiguration(edit) => {
                    ("ModifyLaunchConfigurationAttributes", edit.request())
                }
            };
            let _ = write!(
                t,
                "\n[[actions]]\nid = \"op{k}\"\naction = \"{action}\"\n{}",
                trigger.toml(n)
            );
            if !request.is_empty() {
                let _ = writeln!(t, "request = {request}");
            }
        }
        for (k, (action, body)) in self.requests.iter().enumerate() {
            let _ = writeln!(
                t,
                "\n[[actions]]\nid = \"req{k}\"\nat = \"{}s\"\naction = \"{}\"\nfill = false\nrequest = {}",
                k * 30,
                action.as_str(),
                toml_value(body)
            );
        }
        t
    }

    /// The spec with another BatchNumber and MaxSurge (for common-random-number properties).
    pub fn with_batching(&self, batch_number: u64, max_surge: i64) -> ScenarioSpec {
        let mut other = self.clone();
        other.start.batch_number = batch_number;
        other.start.max_surge = max_surge;
        other
    }

    /// The same group (every instance in service), timings and Start request, with every fault,
    /// hook, launch-configuration edit, operator action and raw request removed.
    pub fn plain(&self) -> ScenarioSpec {
        let mut plain = self.clone();
        plain
            .instances
            .iter_mut()
            .for_each(|i| i.state = GenState::InService);
        plain.hooks.clear();
        plain.rates = GenRates::default();
        plain.missing_images.clear();
        plain.bad_images.clear();
        plain.scripted.clear();
        plain.lc_changes.clear();
        plain.actions.clear();
        plain.faults.clear();
        plain.requests.clear();
        plain
    }
}

/// The id of hook `k`.
fn hook_id(k: usize) -> String {
    format!("ash-gen{k:05}")
}

// ------------------------------------------------------------------------------------------
// Running a spec
// ------------------------------------------------------------------------------------------

/// How a generated scenario's run ended.
#[derive(Debug, Clone)]
pub enum SpecRun {
    /// The run went idle: everything `refreshsim run` reports, invariants checked.
    Finished(Box<RunResult>),
    /// The run stopped at a run bound (D12: `max_events`, `max_sim_time`), e.g. a refresh
    /// retried forever. The partial timeline is kept and checked (`check_prefix`).
    Bounded(Box<BoundedRun>),
}

/// A run stopped by a bound.
#[derive(Debug, Clone)]
pub struct BoundedRun {
    /// The bound's error message.
    pub error: String,
    pub timeline: Timeline,
    pub calls: Vec<CallRecord>,
    /// Violations of the invariants that hold on any prefix of a timeline.
    pub violations: Vec<Violation>,
}

impl SpecRun {
    /// Invariant violations: of the whole timeline, or of the partial one for a bounded run.
    pub fn violations(&self) -> &[Violation] {
        match self {
            SpecRun::Finished(run) => &run.violations,
            SpecRun::Bounded(b) => &b.violations,
        }
    }

    /// The API calls made (up to the bound, for a bounded run).
    pub fn calls(&self) -> &[CallRecord] {
        match self {
            SpecRun::Finished(run) => &run.calls,
            SpecRun::Bounded(b) => &b.calls,
        }
    }

    pub fn timeline(&self) -> &Timeline {
        match self {
            SpecRun::Finished(run) => run.timeline.as_ref().expect("run_spec keeps the timeline"),
            SpecRun::Bounded(b) => &b.timeline,
        }
    }

    /// The bound's error message, for a bounded run.
    pub fn bound(&self) -> Option<&str> {
        match self {
            SpecRun::Finished(_) => None,
            SpecRun::Bounded(b) => Some(&b.error),
        }
    }

    /// Everything observable about the outcome, as one string: two runs of the same spec and
    /// seed must give the same.
    pub fn fingerprint(&self) -> String {
        match self {
            SpecRun::Finished(run) => format!(
                "finished\ntimeline {}\ndescribe {}\nmetrics {:?}\nviolations {:?}",
                self.timeline().content_hash(),
                run.describe,
                run.metrics,
                run.violations
            ),
            SpecRun::Bounded(b) => format!(
                "bounded: {}\ntimeline {}\nviolations {:?}",
                b.error,
                b.timeline.content_hash(),
                b.violations
            ),
        }
    }
}

/// Parses and runs a spec with its seed, keeping the timeline and checking every invariant.
/// `Err` when the scenario file does not parse or its world cannot be built (a generator bug);
/// a run stopped by a bound is `Ok(SpecRun::Bounded)`, with its partial timeline checked.
pub fn run_spec(spec: &ScenarioSpec) -> Result<SpecRun, String> {
    let scenario = parse_scenario("generated.toml", &spec.to_toml())
        .map_err(|e: ScenarioError| e.to_string())?;
    match run_scenario(&scenario, scenario.seed, true) {
        Ok(run) => Ok(SpecRun::Finished(Box::new(run))),
        Err(
            RunError::MaxEvents { .. }
            | RunError::MaxSimTime { .. }
            | RunError::MaxRecords { .. }
            | RunError::MaxCallBytes { .. }
            | RunError::MaxMemory { .. },
        ) => {
            // Bounded runs are rare: run again, keeping the records the bound cut short.
            let mut sink = FullSink::new(MetricsSink::new(scenario.floor_permille));
            let mut sim =
                Simulation::new(&scenario, scenario.seed, &mut sink).map_err(|e| e.to_string())?;
            let error = match sim.run_until_idle(&mut sink) {
                Ok(()) => {
                    return Err("the run reached a bound, then ended when run again".into());
                }
                Err(
                    e @ (RunError::MaxEvents { .. }
                    | RunError::MaxSimTime { .. }
                    | RunError::MaxRecords { .. }
                    | RunError::MaxCallBytes { .. }
                    | RunError::MaxMemory { .. }),
                ) => e.to_string(),
                Err(e @ RunError::World(_)) => return Err(e.to_string()),
            };
            let timeline = Timeline {
                epoch: scenario.epoch,
                names: sim.world().names.clone(),
                records: std::mem::take(&mut sink.records),
            };
            let violations = check_prefix(&timeline);
            Ok(SpecRun::Bounded(Box::new(BoundedRun {
                error,
                timeline,
                calls: sim.calls().to_vec(),
                violations,
            })))
        }
        Err(e @ RunError::World(_)) => Err(e.to_string()),
    }
}

/// Checks a timeline that was cut short (a run stopped by a bound) for the invariants that hold
/// on every prefix: all of them except "no surge instance alive at the end of the timeline"
/// (INV-SURGE-GONE at the end: surge instances may still be on their way out). The last instant
/// is left out, since the bound may have stopped the engine in the middle of it.
pub fn check_prefix(timeline: &Timeline) -> Vec<Violation> {
    let last = timeline.records.last().map(|r| r.time);
    let prefix = Timeline {
        epoch: timeline.epoch,
        names: timeline.names.clone(),
        records: timeline
            .records
            .iter()
            .filter(|r| Some(r.time) != last)
            .cloned()
            .collect(),
    };
    check_timeline(&prefix)
        .into_iter()
        .filter(|v| !(v.invariant == Invariant::SurgeGone && v.entity == "group"))
        .collect()
}

// ------------------------------------------------------------------------------------------
// Strategies
// ------------------------------------------------------------------------------------------

/// Group sizes 1..=2,000, mostly small so many cases run quickly.
pub fn arb_group_size() -> impl Strategy<Value = usize> {
    prop_oneof![
        12 => 1usize..=12,
        5 => 13usize..=120,
        2 => 121usize..=600,
        1 => 601usize..=MAX_GENERATED_INSTANCES,
    ]
}

pub fn arb_instance() -> impl Strategy<Value = GenInstance> {
    (
        prop_oneof![18 => Just(GenState::InService), 1 => Just(GenState::Stopped), 1 => Just(GenState::Standby)],
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.1),
    )
        .prop_map(|(state, protected, attached)| GenInstance { state, protected, attached })
}

pub fn arb_dist(lo: u64, hi: u64) -> impl Strategy<Value = GenDist> {
    prop_oneof![
        (lo..=hi).prop_map(GenDist::Constant),
        (lo..=hi, 0..=hi).prop_map(|(a, d)| GenDist::Uniform(a, a + d)),
        (lo..=hi, 1..=hi.max(1)).prop_map(|(mean, sd)| GenDist::Normal { mean, sd }),
        (lo.max(1)..=hi, 0..=hi).prop_map(|(m, d)| GenDist::LogNormal {
            median: m,
            p95: m + d
        }),
        vec(lo..=hi, 1..5).prop_map(GenDist::Empirical),
    ]
}

pub fn arb_hook() -> impl Strategy<Value = GenHook> {
    (
        any::<bool>(),
        any::<bool>(),
        prop::bool::weighted(0.3),
        30u64..=600,
        prop::bool::weighted(0.8),
    )
        .prop_map(
            |(launching, extension, default_abandon, heartbeat_s, auto_complete)| GenHook {
                launching,
                extension,
                default_abandon,
                heartbeat_s,
                auto_complete,
            },
        )
}

/// Swarm rates: each fault kind is off in about half of the cases.
pub fn arb_rates() -> impl Strategy<Value = GenRates> {
    let rate = |max: u32| prop_oneof![Just(0u32), 1..=max];
    (rate(300), rate(200), rate(300), rate(300), rate(300)).prop_map(
        |(reinstall_failure, health_never, create_failure, destroy_failure, hook_abandon)| {
            GenRates {
                reinstall_failure,
                health_never,
                create_failure,
                destroy_failure,
                hook_abandon,
            }
        },
    )
}

/// Missing or non-booting images among `img-v0` (the instances') … `img-v4`: none in most
/// cases.
pub fn arb_images() -> impl Strategy<Value = Vec<u32>> {
    prop_oneof![10 => Just(Vec::new()), 1 => vec(0u32..5, 1..3)]
}

/// Scripted failures: none in most cases; mostly of one attempt, sometimes of every attempt.
pub fn arb_scripted() -> impl Strategy<Value = Vec<GenScripted>> {
    let one = (
        any::<usize>(),
        prop_oneof![6 => (1u64..=3).prop_map(Some), 1 => Just(None)],
        prop::bool::weighted(0.25),
    )
        .prop_map(|(instance, attempt, target_health)| GenScripted {
            instance,
            attempt,
            target_health,
        });
    prop_oneof![3 => Just(Vec::new()), 1 => vec(one, 1..4)]
}

/// A Start request for `n` instances: mostly valid, sometimes out of range on purpose.
pub fn arb_start(n: usize) -> impl Strategy<Value = GenStart> {
    let n = n.max(1) as u64;
    prop_oneof![40 => 1..=n, 1 => Just(0u64), 1 => (n + 1)..=(n + 3)].prop_flat_map(move |batch_number| {
        let largest = n.div_ceil(batch_number.max(1)) as i64;
        (
            prop::bool::weighted(0.25),
            Just(batch_number),
            prop_oneof![Just("AUTOMATIC"), Just("FIRST_BATCH_PAUSE"), Just("BATCH_INTERVAL_PAUSE")],
            prop_oneof![24 => Just(0i64), 12 => 1i64..=largest.max(1), 1 => Just(-1i64), 1 => (largest + 1)..=(largest + 3)],
            prop_oneof![Just("AUTO_PAUSE"), Just("AUTO_CANCEL"), Just("AUTO_ROLLBACK")],
            any::<bool>(),
            prop_oneof![40 => 60u64..=900, 1 => Just(30u64)],
        )
            .prop_map(|(replace, batch_number, batch_pause, max_surge, fail_process, check_health, health_timeout_s)| {
                GenStart {
                    replace,
                    batch_number,
                    batch_pause,
                    max_surge,
                    fail_process,
                    check_health,
                    health_timeout_s,
                }
            })
    })
}

/// An operator who resumes every pause after a while (present in about half of the cases), so
/// many runs go the whole way.
pub fn arb_diligent_operator() -> impl Strategy<Value = Vec<(GenTrigger, GenOp)>> {
    prop_oneof![
        Just(Vec::new()),
        (30u64..=600, 60u64..=1800, any::<bool>()).prop_map(
            |(auto_after, failed_after, retry)| vec![
                (
                    GenTrigger::WhenStatus {
                        status: "AUTO_PAUSE",
                        after_s: auto_after,
                        repeat: true
                    },
                    GenOp::Resume { retry: true }
                ),
                (
                    GenTrigger::WhenStatus {
                        status: "MANUAL_PAUSE",
                        after_s: auto_after,
                        repeat: true
                    },
                    GenOp::Resume { retry: true }
                ),
                (
                    GenTrigger::WhenStatus {
                        status: "FAILED_PAUSE",
                        after_s: failed_after,
                        repeat: true
                    },
                    GenOp::Resume { retry }
                ),
            ]
        ),
    ]
}

/// A time, or a condition on the activity, a batch or an instance (plus a delay).
pub fn arb_trigger() -> impl Strategy<Value = GenTrigger> {
    let after = 0u64..=1800;
    let repeat = || prop::bool::weighted(0.15);
    prop_oneof![
        5 => (0u64..=7200).prop_map(GenTrigger::At),
        3 => (
            prop_oneof![
                Just("FAILED_PAUSE"),
                Just("AUTO_PAUSE"),
                Just("MANUAL_PAUSE"),
                Just("RUNNING"),
                Just("SUCCESSFUL"),
                Just("CANCELLED"),
                Just("FAILED"),
            ],
            after.clone(),
            repeat()
        )
            .prop_map(|(status, after_s, repeat)| GenTrigger::WhenStatus {
                status,
                after_s,
                repeat
            }),
        1 => (
            prop_oneof![
                Just("RUNNING"),
                Just("SUCCESSFUL"),
                Just("FAILED"),
                Just("PARTIALLY_SUCCESSFUL"),
            ],
            prop::option::of(1u64..=4),
            after.clone(),
            repeat()
        )
            .prop_map(|(status, batch, after_s, repeat)| GenTrigger::WhenBatch {
                status,
                batch,
                after_s,
                repeat
            }),
        1 => (
            prop_oneof![
                Just("RUNNING"),
                Just("SUCCESSFUL"),
                Just("FAILED"),
                Just("NOT_FOUND"),
            ],
            any::<usize>(),
            after,
            repeat()
        )
            .prop_map(|(status, instance, after_s, repeat)| GenTrigger::WhenInstance {
                status,
                instance,
                after_s,
                repeat
            }),
    ]
}

/// A launch-configuration edit of any mix of fields.
pub fn arb_lc_edit() -> impl Strategy<Value = GenLcEdit> {
    use prop::option::{of, weighted};
    (
        weighted(0.6, 0u32..3),
        of(0u32..3),
        of(0u32..3),
        weighted(0.3, any::<bool>()),
        weighted(0.3, any::<bool>()),
        weighted(0.15, 0u32..3),
    )
        .prop_map(
            |(image, user_data, host_name, keep_image_login, security_service, instance_type)| {
                GenLcEdit {
                    image,
                    user_data,
                    host_name,
                    keep_image_login,
                    security_service,
                    instance_type,
                }
            },
        )
}

pub fn arb_describe() -> impl Strategy<Value = GenDescribe> {
    prop_oneof![
        2 => Just(GenDescribe::All),
        1 => prop_oneof![
            Just("INIT"),
            Just("RUNNING"),
            Just("SUCCESSFUL"),
            Just("FAILED_PAUSE"),
            Just("CANCELLED")
        ]
        .prop_map(GenDescribe::ByStatus),
        1 => any::<bool>().prop_map(|rollback| GenDescribe::ByType { rollback }),
        1 => (0u64..=3, 0u64..=3).prop_map(|(limit, offset)| GenDescribe::Page { limit, offset }),
    ]
}

pub fn arb_op() -> impl Strategy<Value = GenOp> {
    prop_oneof![
        2 => Just(GenOp::Stop),
        4 => any::<bool>().prop_map(|retry| GenOp::Resume { retry }),
        2 => Just(GenOp::Cancel),
        2 => (1u64..=4).prop_map(|batch_number| GenOp::Rollback { batch_number }),
        1 => any::<usize>().prop_map(|instance| GenOp::Remove { instance }),
        1 => any::<usize>().prop_map(|instance| GenOp::Detach { instance }),
        2 => arb_describe().prop_map(GenOp::Describe),
        1 => (1u64..=3).prop_map(|number| GenOp::ScaleOut { number }),
        1 => (1u64..=3).prop_map(|number| GenOp::ScaleIn { number }),
        1 => Just(GenOp::DisableGroup),
        1 => Just(GenOp::EnableGroup),
        1 => Just(GenOp::ExecutePolicy),
        2 => (any::<usize>(), any::<usize>(), any::<bool>()).prop_map(|(hook, instance, abandon)| {
            GenOp::CompleteHook { hook, instance, abandon }
        }),
        1 => arb_lc_edit().prop_map(GenOp::ModifyLaunchConfiguration),
    ]
}

pub fn arb_fault() -> impl Strategy<Value = GenFault> {
    let instance = any::<usize>;
    prop_oneof![
        instance().prop_map(|instance| GenFault::Destroy { instance }),
        instance().prop_map(|instance| GenFault::Detach { instance }),
        instance().prop_map(|instance| GenFault::Stop { instance }),
        instance().prop_map(|instance| GenFault::Start { instance }),
        instance().prop_map(|instance| GenFault::EnterStandby { instance }),
        instance().prop_map(|instance| GenFault::ExitStandby { instance }),
        instance().prop_map(|instance| GenFault::Unhealthy { instance }),
        Just(GenFault::InternalError),
        any::<bool>().prop_map(|blocked| GenFault::CreateBlocked { blocked }),
        any::<bool>().prop_map(|blocked| GenFault::DestroyBlocked { blocked }),
        Just(GenFault::Alarm),
        (0u64..=40).prop_map(|desired_capacity| GenFault::ScheduledAction { desired_capacity }),
        (0u32..5, any::<bool>())
            .prop_map(|(image, available)| GenFault::Image { image, available }),
        any::<bool>().prop_map(|authorized| GenFault::Role { authorized }),
        any::<bool>().prop_map(|abnormal| GenFault::GroupStatus { abnormal }),
        (1u64..=600).prop_map(|duration_s| GenFault::ScalingActivity { duration_s }),
    ]
}

/// Fault events, swarm-style: in each case every fault kind is switched on or off (about half
/// of them off), and only events of kinds switched on are kept; no events at all in some cases.
pub fn arb_faults() -> impl Strategy<Value = Vec<(GenTrigger, GenFault)>> {
    (
        vec(any::<bool>(), FAULT_KINDS),
        prop_oneof![Just(Vec::new()), vec((arb_trigger(), arb_fault()), 1..10)],
    )
        .prop_map(|(on, events)| {
            events
                .into_iter()
                .filter(|(_, fault)| on[fault.kind_index()])
                .collect()
        })
}

/// A whole scenario, swarm-style.
pub fn arb_scenario() -> impl Strategy<Value = ScenarioSpec> {
    arb_group_size().prop_flat_map(|n| {
        (
            (
                any::<u64>(),
                vec(arb_instance(), n),
                any::<bool>(),
                prop::bool::weighted(0.3),
                vec(arb_hook(), 0..3),
            ),
            (
                arb_dist(1, 300),
                arb_dist(0, 120),
                arb_dist(1, 200),
                arb_dist(1, 60),
                arb_dist(1, 120),
                prop::option::weighted(0.25, arb_dist(0, 60)),
                prop::option::weighted(0.25, arb_dist(0, 120)),
            ),
            (arb_rates(), arb_images(), arb_images(), arb_scripted()),
            arb_start(n),
            prop_oneof![
                2 => Just(Vec::new()),
                1 => vec((arb_trigger(), arb_lc_edit()), 1..4)
            ],
            // Operators and faults: sometimes none at all (swarm).
            (
                prop_oneof![Just(Vec::new()), vec((arb_trigger(), arb_op()), 1..8)],
                arb_diligent_operator(),
            )
                .prop_map(|(mut random, diligent)| {
                    random.extend(diligent);
                    random
                }),
            arb_faults(),
        )
            .prop_map(
                |(
                    (seed, instances, forward_clb, replace_unhealthy, hooks),
                    (
                        reinstall,
                        target_health,
                        instance_create,
                        instance_destroy,
                        hook_response,
                        init_delay,
                        batch_gap,
                    ),
                    (rates, missing_images, bad_images, scripted),
                    start,
                    lc_changes,
                    actions,
                    faults,
                )| {
                    let start = fit_start(start, &instances);
                    ScenarioSpec {
                        seed,
                        instances,
                        forward_clb,
                        replace_unhealthy,
                        hooks,
                        reinstall,
                        target_health,
                        instance_create,
                        instance_destroy,
                        hook_response,
                        init_delay,
                        batch_gap,
                        rates,
                        missing_images,
                        bad_images,
                        scripted,
                        start,
                        lc_changes,
                        actions,
                        faults,
                        requests: Vec::new(),
                    }
                },
            )
    })
}

/// `arb_start` draws BatchNumber and MaxSurge from the group size; fits the in-range ones to
/// the instances a refresh can take (IN_SERVICE, not standby), so that Start is refused only
/// where the generator meant it to be.
fn fit_start(mut start: GenStart, instances: &[GenInstance]) -> GenStart {
    let n = instances.len().max(1) as u64;
    let eligible = instances
        .iter()
        .filter(|i| i.state == GenState::InService)
        .count()
        .max(1) as u64;
    if (1..=n).contains(&start.batch_number) {
        let largest = n.div_ceil(start.batch_number) as i64;
        start.batch_number = start.batch_number.min(eligible);
        if (0..=largest).contains(&start.max_surge) {
            let fitted = eligible.div_ceil(start.batch_number) as i64;
            start.max_surge = start.max_surge.min(fitted);
        }
    }
    start
}

/// A whole scenario plus 1 to 11 raw API requests (`arb_request`), sent every 30 s.
pub fn arb_scenario_with_requests() -> impl Strategy<Value = ScenarioSpec> {
    (arb_scenario(), vec(arb_request(), 1..12)).prop_map(|(mut spec, requests)| {
        spec.requests = requests;
        spec
    })
}

/// A raw API request: an action and a body built from valid fields, wrong types, unknown
/// fields and missing ones, to check that every request is either accepted or refused with a
/// documented error, never a panic.
pub fn arb_request() -> impl Strategy<Value = (Action, Value)> {
    use serde_json::json;
    let action = prop::sample::select(Action::ALL.to_vec());
    let value = prop_oneof![
        Just(json!({})),
        Just(json!([])),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (0u64..=12).prop_map(Value::from),
        prop_oneof![
            Just("asg-gen00001"),
            Just("asr-00000000"),
            Just("ins-00000000"),
            Just("AUTOMATIC"),
            Just("RETRY"),
            Just("CONTINUE"),
            Just("ROLLING_UPDATE_RESET"),
            Just("ROLLING_UPDATE_REPLACE"),
            Just("AUTO_ROLLBACK"),
            Just(""),
            Just("??")
        ]
        .prop_map(Value::from),
        Just(json!({"RollingUpdateSettings": {"BatchNumber": 2}})),
        Just(json!([{"Name": "refresh-activity-status-code", "Values": ["RUNNING"]}])),
        Just(json!(["asr-00000000"])),
    ];
    let field = prop::sample::select(vec![
        "AutoScalingGroupId",
        "RefreshActivityId",
        "OriginRefreshActivityId",
        "RefreshSettings",
        "RefreshMode",
        "ResumeMode",
        "RefreshActivityIds",
        "Filters",
        "Limit",
        "Offset",
        "InstanceIds",
        "ScaleOutNumber",
        "ScaleInNumber",
        "LifecycleHookId",
        "LifecycleActionResult",
        "InstanceId",
        "AutoScalingPolicyId",
        "LaunchConfigurationId",
        "ImageId",
        "Unknown",
    ]);
    (action, vec((field, value), 0..6)).prop_map(|(action, fields)| {
        let mut body = serde_json::Map::new();
        for (k, v) in fields {
            body.insert(k.to_string(), v);
        }
        (action, Value::Object(body))
    })
}
