//! Raw file → `Scenario`: defaults, enum spellings, units, references between entries, limits.
//! Every check reports the field path; `parse_scenario` turns the path into line:column.

use super::error::FieldError;
use super::file::*;
use super::*;
use crate::api::request::ModifyLaunchConfigurationRequest;
use crate::api::{
    CreationType, EnabledStatus, GroupStatus, LifeCycleState, LifecycleActionResult,
    LifecycleTransition, LifecycleTransitionType, ScalingActivityType,
};
use crate::hash::stable_hash;
use crate::model::WorldChange;
use crate::model::world::{
    HookSpec, InstanceSpec, LaunchConfigSpec, MAX_INSTANCES_PER_GROUP, PolicySpec,
};
use crate::time::{parse_duration_ms, parse_rfc3339_secs};
use crate::timeline::{Departure, sha256_hex};
use std::collections::{BTreeMap, BTreeSet};

type R<T> = Result<T, FieldError>;

const DEFAULT_START_TIME: &str = "2025-01-01T00:00:00Z";
/// Hard ceiling for synthetic groups (`limits.max_instances`).
pub const MAX_SYNTHETIC_INSTANCES: u64 = 2_000_000;

fn enum_value<T>(field: &str, text: &str, parse: fn(&str) -> Option<T>, expected: String) -> R<T> {
    parse(text).ok_or_else(|| {
        FieldError::new(field, format!("expected one of {expected}, found {text:?}"))
    })
}

fn duration(field: &str, text: &str) -> R<u64> {
    parse_duration_ms(text).map_err(|m| FieldError::new(field, m))
}

fn probability_ppm(field: &str, p: Option<f64>) -> R<u32> {
    match p {
        None => Ok(0),
        Some(p) if (0.0..=1.0).contains(&p) => Ok(libm::round(p * 1_000_000.0) as u32),
        Some(p) => Err(FieldError::new(
            field,
            format!("expected a probability between 0 and 1, found {p}"),
        )),
    }
}

pub fn resolve(raw: ScenarioFile, source: Arc<Source>) -> R<Scenario> {
    super::bounds::check_strings(&raw)?;
    if raw.scenario.name.trim().is_empty() {
        return Err(FieldError::new(
            "scenario.name",
            "expected a non-empty name",
        ));
    }
    let start_text = raw
        .scenario
        .start_time
        .as_deref()
        .unwrap_or(DEFAULT_START_TIME);
    let start_unix_s =
        parse_rfc3339_secs(start_text).map_err(|m| FieldError::new("scenario.start_time", m))?;
    let epoch = Epoch::from_unix_secs(start_unix_s);
    let limits = resolve_limits(raw.scenario.limits.as_ref())?;
    let max_instances = match raw.scenario.limits.as_ref().and_then(|l| l.max_instances) {
        None => MAX_INSTANCES_PER_GROUP,
        Some(n) if (1..=MAX_SYNTHETIC_INSTANCES).contains(&n) => n as usize,
        Some(n) => {
            return Err(FieldError::new(
                "scenario.limits.max_instances",
                format!("expected 1..={MAX_SYNTHETIC_INSTANCES}, found {n}"),
            ));
        }
    };
    let floor_permille = match raw.scenario.capacity_floor {
        None => 800,
        Some(f) if (0.0..=1.0).contains(&f) => libm::round(f * 1000.0) as u32,
        Some(f) => {
            return Err(FieldError::new(
                "scenario.capacity_floor",
                format!("expected a fraction between 0 and 1, found {f}"),
            ));
        }
    };
    let launch_configuration = resolve_launch_config(&raw.launch_configuration)?;
    let world = resolve_group(
        &raw.group,
        &launch_configuration,
        start_unix_s,
        max_instances,
        &raw.faults,
        epoch,
    )?;
    let instances = InstanceResolver {
        ids: std::cell::OnceCell::new(),
        specs: &world.instances,
    };
    let timing = resolve_timing(&raw.timing, &instances)?;
    let faults = resolve_faults(&raw.faults, &instances)?;
    let action_ids = collect_action_ids(&raw.actions)?;
    let mut happenings = Vec::new();
    for (i, change) in raw.launch_configuration.changes.iter().enumerate() {
        let field = format!("launch_configuration.changes[{i}]");
        happenings.push(resolve_lc_change(change, &field, &instances, &action_ids)?);
    }
    for (i, event) in raw.faults.events.iter().enumerate() {
        let field = format!("faults.events[{i}]");
        happenings.push(resolve_fault_event(
            event,
            &field,
            &instances,
            &action_ids,
            &world.scaling_policies,
        )?);
    }
    for (i, action) in raw.actions.iter().enumerate() {
        let field = format!("actions[{i}]");
        happenings.push(resolve_action(action, &field, &instances, &action_ids)?);
    }
    let expect = match &raw.expect {
        None => Expectations::default(),
        Some(e) => resolve_expect(e, &instances, &action_ids)?,
    };
    Ok(Scenario {
        name: raw.scenario.name.clone(),
        description: raw.scenario.description.clone(),
        source_name: source.name.clone(),
        source_sha256: sha256_hex(source.text.as_bytes()),
        epoch,
        seed: raw.scenario.seed.unwrap_or(1),
        world,
        timing,
        faults,
        happenings,
        expect,
        limits,
        floor_permille,
        sweep: raw.sweep.clone(),
        source,
        overrides: Vec::new(),
    })
}

fn resolve_limits(limits: Option<&LimitsSection>) -> R<Limits> {
    let mut out = Limits {
        max_events: DEFAULT_MAX_EVENTS,
        max_sim_time_ms: DEFAULT_MAX_SIM_TIME_MS,
        max_records: DEFAULT_MAX_RECORDS,
        max_call_bytes: DEFAULT_MAX_CALL_BYTES,
        max_memory_bytes: DEFAULT_MAX_MEMORY_BYTES,
    };
    if let Some(l) = limits {
        if let Some(n) = l.max_events {
            if n == 0 {
                return Err(FieldError::new(
                    "scenario.limits.max_events",
                    "expected at least 1, found 0",
                ));
            }
            out.max_events = n;
        }
        for (field, value, slot) in [
            (
                "scenario.limits.max_records",
                l.max_records,
                &mut out.max_records,
            ),
            (
                "scenario.limits.max_call_bytes",
                l.max_call_bytes,
                &mut out.max_call_bytes,
            ),
            (
                "scenario.limits.max_memory_bytes",
                l.max_memory_bytes,
                &mut out.max_memory_bytes,
            ),
        ] {
            if let Some(n) = value {
                if n == 0 {
                    return Err(FieldError::new(field, "expected at least 1, found 0"));
                }
                *slot = n;
            }
        }
        if let Some(t) = &l.max_sim_time {
            out.max_sim_time_ms = duration("scenario.limits.max_sim_time", t)?;
        }
    }
    Ok(out)
}

fn json_text(v: &Option<serde_json::Value>) -> String {
    v.as_ref()
        .map(|v| serde_json::to_string(v).expect("JSON values always serialize"))
        .unwrap_or_default()
}

fn resolve_launch_config(lc: &LaunchConfigurationSection) -> R<LaunchConfigSpec> {
    if lc.image_id.trim().is_empty() {
        return Err(FieldError::new(
            "launch_configuration.image_id",
            "expected an image id like img-xxxxxxxx, found \"\"",
        ));
    }
    let id = lc.id.clone().unwrap_or_else(|| "asc-00000001".to_string());
    Ok(LaunchConfigSpec {
        name: lc.name.clone().unwrap_or_else(|| id.clone()),
        stored: Default::default(),
        id,
        image_id: lc.image_id.clone(),
        user_data: lc.user_data.clone().unwrap_or_default(),
        enhanced_service: json_text(&lc.enhanced_service),
        host_name: json_text(&lc.host_name_settings),
        login_settings: json_text(&lc.login_settings),
        instance_type: lc
            .instance_type
            .clone()
            .unwrap_or_else(|| "S5.MEDIUM2".to_string()),
    })
}

/// Generated instance ids depend only on the group id and position, never on the run seed,
/// so scenarios and sweeps can name them.
/// Ids are 8 base-36 digits, so large synthetic groups see hash collisions (about one in
/// five 1,000,000-instance groups); `unique_generated_ids` settles those by re-hashing.
pub fn generated_instance_id(group_id: &str, index: u64) -> String {
    instance_id_from_key(&format!("{group_id}/{index}"))
}

/// The ids of a generated group, in position order: each position's id as above, unless an
/// earlier position already took it, then a re-hash salted by the attempt number. Groups
/// without collisions (every group of Tencent's size) keep their plain ids.
fn unique_generated_ids(group_id: &str, size: u64) -> Vec<String> {
    let mut taken = std::collections::HashSet::with_capacity(size as usize);
    (0..size)
        .map(|index| {
            let mut id = generated_instance_id(group_id, index);
            let mut attempt = 1u32;
            while !taken.insert(id.clone()) {
                id = instance_id_from_key(&format!("{group_id}/{index}/{attempt}"));
                attempt += 1;
            }
            id
        })
        .collect()
}

fn instance_id_from_key(key: &str) -> String {
    let mut h = stable_hash(key.as_bytes());
    let mut id = String::from("ins-");
    for _ in 0..8 {
        let digit = (h % 36) as u8;
        h /= 36;
        id.push(if digit < 10 {
            (b'0' + digit) as char
        } else {
            (b'a' + digit - 10) as char
        });
    }
    id
}

fn resolve_group(
    g: &GroupSection,
    lc: &LaunchConfigSpec,
    start_unix_s: u64,
    max_instances: usize,
    faults: &FaultsSection,
    epoch: Epoch,
) -> R<WorldSpec> {
    if g.id.trim().is_empty() {
        return Err(FieldError::new(
            "group.id",
            "expected a group id like asg-xxxxxxxx, found \"\"",
        ));
    }
    let status = match &g.status {
        None => GroupStatus::Normal,
        Some(s) => enum_value(
            "group.status",
            s,
            GroupStatus::parse,
            GroupStatus::expected(),
        )?,
    };
    let default_image = g
        .image_id
        .clone()
        .unwrap_or_else(|| "img-original".to_string());
    let default_type = g
        .instance_type
        .clone()
        .unwrap_or_else(|| lc.instance_type.clone());
    let mut surface = resolve_surface(g)?;
    let mut instances = Vec::new();
    match (g.size, g.instances.is_empty()) {
        (Some(_), false) => {
            return Err(FieldError::new(
                "group.size",
                "give either `size` (generated instances) or `instances`, not both",
            ));
        }
        (Some(size), true) => {
            if size as usize > max_instances {
                return Err(FieldError::new(
                    "group.size",
                    format!(
                        "expected at most {max_instances} instances (Tencent's default per-group instance quota is {MAX_INSTANCES_PER_GROUP}; raise scenario.limits.max_instances to model a raised quota), found {size}"
                    ),
                ));
            }
            // Added one second apart, ending at least a day before the start, so OQ-2 orders
            // them by index and none joined after the start (synthetic groups are large).
            let first_add = start_unix_s.saturating_sub(86_400u64.max(size));
            for (i, id) in (0..size).zip(unique_generated_ids(&g.id, size)) {
                instances.push(InstanceSpec {
                    id,
                    state: LifeCycleState::InService,
                    standby: false,
                    protected: false,
                    image_id: default_image.clone(),
                    instance_type: default_type.clone(),
                    creation: CreationType::AutoCreation,
                    add_time_unix_s: first_add + i,
                    zone: 0,
                });
            }
        }
        (None, _) => {
            if g.instances.len() > max_instances {
                return Err(FieldError::new(
                    "group.instances",
                    format!(
                        "expected at most {max_instances} instances, found {}",
                        g.instances.len()
                    ),
                ));
            }
            let mut seen = BTreeSet::new();
            for (i, e) in g.instances.iter().enumerate() {
                let field = format!("group.instances[{i}]");
                if e.id.trim().is_empty() {
                    return Err(FieldError::new(
                        format!("{field}.id"),
                        "expected an instance id like ins-xxxxxxxx, found \"\"",
                    ));
                }
                if !seen.insert(e.id.clone()) {
                    return Err(FieldError::new(
                        format!("{field}.id"),
                        format!("instance id {:?} appears twice", e.id),
                    ));
                }
                let state = match &e.state {
                    None => LifeCycleState::InService,
                    Some(s) => enum_value(
                        &format!("{field}.state"),
                        s,
                        LifeCycleState::parse,
                        LifeCycleState::expected(),
                    )?,
                };
                let creation = match &e.creation {
                    None => CreationType::AutoCreation,
                    Some(s) => enum_value(
                        &format!("{field}.creation"),
                        s,
                        CreationType::parse,
                        CreationType::expected(),
                    )?,
                };
                let add_time_unix_s = match &e.add_time {
                    None => start_unix_s.saturating_sub(86_400),
                    Some(t) => parse_rfc3339_secs(t)
                        .map_err(|m| FieldError::new(format!("{field}.add_time"), m))?,
                };
                instances.push(InstanceSpec {
                    id: e.id.clone(),
                    state,
                    standby: e.standby.unwrap_or(false),
                    protected: e.protected.unwrap_or(false),
                    image_id: e.image_id.clone().unwrap_or_else(|| default_image.clone()),
                    instance_type: e
                        .instance_type
                        .clone()
                        .unwrap_or_else(|| default_type.clone()),
                    creation,
                    add_time_unix_s,
                    zone: zone_index(&surface, &field, e.zone.as_deref())?,
                });
            }
        }
    }
    let count = instances.len() as u64;
    let cap = MAX_INSTANCES_PER_GROUP as u64;
    let capacity = |field: &str, value: Option<u64>, default: u64| -> R<u32> {
        let v = value.unwrap_or(default);
        if v > cap.max(max_instances as u64) {
            return Err(FieldError::new(
                field,
                format!("expected 0..={cap} (§6.2), found {v}"),
            ));
        }
        Ok(v as u32)
    };
    let desired = capacity("group.desired_capacity", g.desired_capacity, count)?;
    let min = capacity("group.min_size", g.min_size, 0)?;
    let max = capacity("group.max_size", g.max_size, count.max(u64::from(desired)))?;
    if !(min <= desired && desired <= max) {
        return Err(FieldError::new(
            "group",
            format!(
                "expected min_size <= desired_capacity <= max_size (§6.2), found {min} <= {desired} <= {max}"
            ),
        ));
    }
    let hooks = resolve_hooks(&g.lifecycle_hooks)?;
    let scaling_policies = resolve_policies(&g.scaling_policies)?;
    let forward_clb = match (g.forward_clb, surface.forward_load_balancers.is_empty()) {
        (Some(false), false) => {
            return Err(FieldError::new(
                "group.forward_clb",
                "expected true (or nothing) with group.load_balancers listed, found false",
            ));
        }
        (Some(true), true) => {
            surface
                .forward_load_balancers
                .push(crate::model::surface::Surface::default_forward_lb());
            true
        }
        (Some(v), _) => v,
        (None, empty) => !empty,
    };
    Ok(WorldSpec {
        surface,
        hooks,
        scaling_policies,
        replace_unhealthy: g.replace_unhealthy.unwrap_or(false),
        sabotage: Default::default(),
        group_id: g.id.clone(),
        group_status: status,
        enabled: if g.enabled.unwrap_or(true) {
            EnabledStatus::Enabled
        } else {
            EnabledStatus::Disabled
        },
        min_size: min,
        max_size: max,
        desired_capacity: desired,
        forward_clb,
        role_authorized: g.role_authorized.unwrap_or(true),
        launch_configuration: lc.clone(),
        instances,
        missing_images: faults.missing_images.clone(),
        bad_images: faults.bad_images.clone(),
        max_instances,
        epoch,
    })
}

/// What the Describe calls show of the group and the account (OQ-89, OQ-93).
fn resolve_surface(g: &GroupSection) -> R<crate::model::surface::Surface> {
    use crate::model::surface::{ForwardLb, Surface};
    let mut s = Surface::defaults(&g.id);
    let non_empty = |field: &str, list: &Option<Vec<String>>| -> R<Option<Vec<String>>> {
        match list {
            Some(items) if items.is_empty() || items.iter().any(|x| x.trim().is_empty()) => Err(
                FieldError::new(field, "expected a non-empty list of non-empty ids"),
            ),
            Some(items) if items.len() > usize::from(u16::MAX) => {
                Err(FieldError::new(field, "expected at most 65535 entries"))
            }
            other => Ok(other.clone()),
        }
    };
    if let Some(name) = &g.name {
        s.group_name = name.clone();
    }
    s.project_id = g.project_id.unwrap_or(0);
    if let Some(vpc) = &g.vpc_id {
        s.vpc_id = vpc.clone();
    }
    if let Some(subnets) = non_empty("group.subnet_ids", &g.subnet_ids)? {
        s.subnet_ids = subnets;
    }
    if let Some(zones) = non_empty("group.zones", &g.zones)? {
        s.zones = zones;
    }
    s.tags = g.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    s.forward_load_balancers = g
        .load_balancers
        .iter()
        .map(|lb| ForwardLb {
            load_balancer_id: lb.id.clone(),
            listener_id: lb.listener_id.clone(),
            location_id: lb.location_id.clone().unwrap_or_default(),
            region: lb.region.clone().unwrap_or_default(),
            targets: vec![(lb.port.unwrap_or(80), lb.weight.unwrap_or(10))],
        })
        .collect();
    s.classic_load_balancer_ids = g.classic_load_balancer_ids.clone();
    let quota = |field: &str,
                 max: Option<u64>,
                 count: Option<u64>,
                 default_max: u64|
     -> R<(u64, u64)> {
        let max = max.unwrap_or(default_max);
        let count = count.unwrap_or(1);
        if count == 0 || count > max {
            return Err(FieldError::new(
                field,
                format!(
                    "expected 1 <= count <= quota (the scenario's group is one), found {count} of {max}"
                ),
            ));
        }
        Ok((max, count))
    };
    (s.max_groups, s.groups) = quota(
        "group.account_groups",
        g.account_max_groups,
        g.account_groups,
        s.max_groups,
    )?;
    (s.max_launch_configurations, s.launch_configurations) = quota(
        "group.account_launch_configurations",
        g.account_max_launch_configurations,
        g.account_launch_configurations,
        s.max_launch_configurations,
    )?;
    Ok(s)
}

/// An instance's zone: an index into the group's zones (OQ-89).
fn zone_index(surface: &crate::model::surface::Surface, field: &str, zone: Option<&str>) -> R<u16> {
    match zone {
        None => Ok(0),
        Some(z) => surface
            .zones
            .iter()
            .position(|x| x == z)
            .map(|p| p as u16)
            .ok_or_else(|| {
                FieldError::new(
                    format!("{field}.zone"),
                    format!(
                        "expected one of group.zones ({}), found {z:?}",
                        surface.zones.join(", ")
                    ),
                )
            }),
    }
}

/// §6.2: at most 10 hooks and 100 scaling policies per group; §6.8: heartbeat 30–7200 s.
pub const MAX_HOOKS: usize = 10;
pub const MAX_POLICIES: usize = 100;

fn resolve_hooks(entries: &[HookEntry]) -> R<Vec<HookSpec>> {
    if entries.len() > MAX_HOOKS {
        return Err(FieldError::new(
            "group.lifecycle_hooks",
            format!(
                "expected at most {MAX_HOOKS} lifecycle hooks per group (§6.2), found {}",
                entries.len()
            ),
        ));
    }
    let mut seen = BTreeSet::new();
    let mut hooks = Vec::new();
    for (i, h) in entries.iter().enumerate() {
        let field = format!("group.lifecycle_hooks[{i}]");
        if h.id.trim().is_empty() || !seen.insert(h.id.clone()) {
            return Err(FieldError::new(
                format!("{field}.id"),
                format!(
                    "expected a unique hook id like ash-xxxxxxxx, found {:?}",
                    h.id
                ),
            ));
        }
        let transition = enum_value(
            &format!("{field}.transition"),
            &h.transition,
            LifecycleTransition::parse,
            LifecycleTransition::expected(),
        )?;
        let transition_type = match &h.transition_type {
            None => LifecycleTransitionType::Normal,
            Some(t) => enum_value(
                &format!("{field}.transition_type"),
                t,
                LifecycleTransitionType::parse,
                LifecycleTransitionType::expected(),
            )?,
        };
        let default_result = match &h.default_result {
            None => LifecycleActionResult::Continue,
            Some(t) => enum_value(
                &format!("{field}.default_result"),
                t,
                LifecycleActionResult::parse,
                LifecycleActionResult::expected(),
            )?,
        };
        let heartbeat_timeout_ms = match &h.heartbeat_timeout {
            None => 300_000,
            Some(t) => duration(&format!("{field}.heartbeat_timeout"), t)?,
        };
        if !(30_000..=7_200_000).contains(&heartbeat_timeout_ms) {
            return Err(FieldError::new(
                format!("{field}.heartbeat_timeout"),
                format!(
                    "expected 30s to 7200s (§6.8), found {} ms",
                    heartbeat_timeout_ms
                ),
            ));
        }
        hooks.push(HookSpec {
            id: h.id.clone(),
            transition,
            transition_type,
            default_result,
            heartbeat_timeout_ms,
            auto_complete: h.auto_complete.unwrap_or(true),
        });
    }
    Ok(hooks)
}

fn resolve_policies(entries: &[PolicyEntry]) -> R<Vec<PolicySpec>> {
    if entries.len() > MAX_POLICIES {
        return Err(FieldError::new(
            "group.scaling_policies",
            format!(
                "expected at most {MAX_POLICIES} scaling policies per group (§6.2), found {}",
                entries.len()
            ),
        ));
    }
    let mut seen = BTreeSet::new();
    entries
        .iter()
        .enumerate()
        .map(|(i, p)| {
            if p.id.trim().is_empty() || !seen.insert(p.id.clone()) {
                return Err(FieldError::new(
                    format!("group.scaling_policies[{i}].id"),
                    format!(
                        "expected a unique policy id like asp-xxxxxxxx, found {:?}",
                        p.id
                    ),
                ));
            }
            Ok(PolicySpec {
                id: p.id.clone(),
                adjustment: p.adjustment,
            })
        })
        .collect()
}

struct InstanceResolver<'a> {
    /// Built on the first lookup by id: most scenarios of large groups name no instance.
    ids: std::cell::OnceCell<BTreeMap<&'a str, u32>>,
    specs: &'a [InstanceSpec],
}

impl InstanceResolver<'_> {
    fn index_of(&self, id: &str) -> Option<u32> {
        let ids = self.ids.get_or_init(|| {
            self.specs
                .iter()
                .enumerate()
                .map(|(i, inst)| (inst.id.as_str(), i as u32))
                .collect()
        });
        ids.get(id).copied()
    }

    /// An instance id, or `#n` for the n-th instance of the group (1-based).
    fn resolve(&self, field: &str, text: &str) -> R<(u32, String)> {
        if let Some(n) = text.strip_prefix('#') {
            let n: usize = n.parse().map_err(|_| {
                FieldError::new(
                    field,
                    format!("expected an instance id or #n, found {text:?}"),
                )
            })?;
            if n == 0 || n > self.specs.len() {
                return Err(FieldError::new(
                    field,
                    format!(
                        "expected #1..#{} (the group has {} instances), found {text:?}",
                        self.specs.len(),
                        self.specs.len()
                    ),
                ));
            }
            return Ok(((n - 1) as u32, self.specs[n - 1].id.clone()));
        }
        match self.index_of(text) {
            Some(i) => Ok((i, text.to_string())),
            None => Err(FieldError::new(
                field,
                format!("expected an instance of the group, found {text:?}"),
            )),
        }
    }
}

fn resolve_dist(field: &str, spec: &DurationSpec) -> R<Dist> {
    match spec {
        DurationSpec::Fixed(text) => Ok(Dist::Constant(duration(field, text)?)),
        DurationSpec::Distribution(d) => {
            let given = [
                d.uniform.is_some(),
                d.normal.is_some(),
                d.lognormal.is_some(),
                d.empirical.is_some(),
            ]
            .iter()
            .filter(|g| **g)
            .count();
            if given != 1 {
                return Err(FieldError::new(
                    field,
                    format!(
                        "expected exactly one of uniform, normal, lognormal, empirical; found {given}"
                    ),
                ));
            }
            if let Some(u) = &d.uniform {
                let min_ms = duration(&format!("{field}.uniform.min"), &u.min)?;
                let max_ms = duration(&format!("{field}.uniform.max"), &u.max)?;
                if min_ms > max_ms {
                    return Err(FieldError::new(
                        format!("{field}.uniform"),
                        format!("expected min <= max, found min {} > max {}", u.min, u.max),
                    ));
                }
                return Ok(Dist::Uniform { min_ms, max_ms });
            }
            if let Some(n) = &d.normal {
                let mean_ms = duration(&format!("{field}.normal.mean"), &n.mean)?;
                let sd_ms = duration(&format!("{field}.normal.sd"), &n.sd)?;
                let min_ms = match &n.min {
                    Some(t) => duration(&format!("{field}.normal.min"), t)?,
                    None => 0,
                };
                let max_ms = match &n.max {
                    Some(t) => duration(&format!("{field}.normal.max"), t)?,
                    None => mean_ms.saturating_add(sd_ms.saturating_mul(10)),
                };
                if min_ms > max_ms {
                    return Err(FieldError::new(
                        format!("{field}.normal"),
                        format!("expected min <= max, found min {min_ms} ms > max {max_ms} ms"),
                    ));
                }
                return Ok(Dist::Normal {
                    mean_ms: mean_ms as f64,
                    sd_ms: sd_ms as f64,
                    min_ms,
                    max_ms,
                });
            }
            if let Some(l) = &d.lognormal {
                let median = duration(&format!("{field}.lognormal.median"), &l.median)?;
                let p95 = duration(&format!("{field}.lognormal.p95"), &l.p95)?;
                if median == 0 || p95 < median {
                    return Err(FieldError::new(
                        format!("{field}.lognormal"),
                        format!(
                            "expected 0 < median <= p95, found median {median} ms, p95 {p95} ms"
                        ),
                    ));
                }
                // p95 = exp(mu + 1.6448536 sigma) for a lognormal.
                let mu = libm::log(median as f64);
                let sigma = (libm::log(p95 as f64) - mu) / 1.644_853_626_951_472_2;
                return Ok(Dist::LogNormal { mu, sigma });
            }
            let list = d.empirical.as_ref().expect("exactly one is given");
            if list.is_empty() || list.len() > 100_000 {
                return Err(FieldError::new(
                    format!("{field}.empirical"),
                    format!("expected 1..=100000 durations, found {}", list.len()),
                ));
            }
            list.iter()
                .enumerate()
                .map(|(i, t)| duration(&format!("{field}.empirical[{i}]"), t))
                .collect::<R<Vec<_>>>()
                .map(Dist::Empirical)
        }
    }
}

fn resolve_timing(t: &TimingSection, instances: &InstanceResolver<'_>) -> R<Timing> {
    let mut timing = Timing::default();
    if let Some(d) = &t.reinstall {
        timing.reinstall = resolve_dist("timing.reinstall", d)?;
    }
    if let Some(d) = &t.target_health {
        timing.target_health = resolve_dist("timing.target_health", d)?;
    }
    if let Some(d) = &t.init_delay {
        timing.init_delay = resolve_dist("timing.init_delay", d)?;
    }
    if let Some(d) = &t.batch_gap {
        timing.batch_gap = resolve_dist("timing.batch_gap", d)?;
    }
    if let Some(d) = &t.instance_create {
        timing.instance_create = resolve_dist("timing.instance_create", d)?;
    }
    if let Some(d) = &t.instance_destroy {
        timing.instance_destroy = resolve_dist("timing.instance_destroy", d)?;
    }
    if let Some(d) = &t.hook_response {
        timing.hook_response = resolve_dist("timing.hook_response", d)?;
    }
    for (key, entry) in &t.instances {
        let field = format!("timing.instances.{key}");
        let (_, id) = instances.resolve(&field, key)?;
        let reinstall = match &entry.reinstall {
            Some(d) => Some(resolve_dist(&format!("{field}.reinstall"), d)?),
            None => None,
        };
        let target_health = match &entry.target_health {
            Some(d) => Some(resolve_dist(&format!("{field}.target_health"), d)?),
            None => None,
        };
        timing.instances.push((
            id,
            InstanceTiming {
                reinstall,
                target_health,
            },
        ));
    }
    Ok(timing)
}

fn resolve_faults(f: &FaultsSection, instances: &InstanceResolver<'_>) -> R<Faults> {
    let mut scripted = Vec::new();
    for (i, s) in f.scripted.iter().enumerate() {
        let field = format!("faults.scripted[{i}]");
        let (_, instance_id) = instances.resolve(&format!("{field}.instance"), &s.instance)?;
        let attempt = match s.attempt {
            None => None,
            Some(0) => {
                return Err(FieldError::new(
                    format!("{field}.attempt"),
                    "expected an attempt number >= 1, found 0",
                ));
            }
            Some(n) => Some(
                u32::try_from(n)
                    .map_err(|_| FieldError::new(format!("{field}.attempt"), "too large"))?,
            ),
        };
        let step = match &s.step {
            None => FailStep::Reinstall,
            Some(text) => FailStep::parse(text).ok_or_else(|| {
                FieldError::new(
                    format!("{field}.step"),
                    format!("expected one of reinstall | target_health, found {text:?}"),
                )
            })?,
        };
        scripted.push(ScriptedFailure {
            instance_id,
            attempt,
            step,
            message: s.message.clone(),
        });
    }
    Ok(Faults {
        reinstall_failure_ppm: probability_ppm(
            "faults.reinstall_failure_rate",
            f.reinstall_failure_rate,
        )?,
        target_health_never_ppm: probability_ppm(
            "faults.target_health_never_rate",
            f.target_health_never_rate,
        )?,
        create_failure_ppm: probability_ppm("faults.create_failure_rate", f.create_failure_rate)?,
        destroy_failure_ppm: probability_ppm(
            "faults.destroy_failure_rate",
            f.destroy_failure_rate,
        )?,
        hook_abandon_ppm: probability_ppm("faults.hook_abandon_rate", f.hook_abandon_rate)?,
        scripted,
    })
}

fn collect_action_ids(actions: &[ActionEntry]) -> R<BTreeSet<String>> {
    let mut ids = BTreeSet::new();
    for (i, a) in actions.iter().enumerate() {
        if let Some(id) = &a.item.id {
            if id.trim().is_empty() {
                return Err(FieldError::new(
                    format!("actions[{i}].id"),
                    "expected a non-empty id",
                ));
            }
            if !ids.insert(id.clone()) {
                return Err(FieldError::new(
                    format!("actions[{i}].id"),
                    format!("action id {id:?} is used twice"),
                ));
            }
        }
    }
    Ok(ids)
}

fn activity_ref(field: &str, id: &Option<String>, action_ids: &BTreeSet<String>) -> R<ActivityRef> {
    match id {
        None => Ok(ActivityRef::Any),
        Some(id) if action_ids.contains(id) => Ok(ActivityRef::CreatedBy(id.clone())),
        Some(id) => Err(FieldError::new(
            field,
            format!("expected the id of an action, found {id:?}"),
        )),
    }
}

fn resolve_trigger(
    field: &str,
    t: &TriggerEntry,
    instances: &InstanceResolver<'_>,
    action_ids: &BTreeSet<String>,
) -> R<Trigger> {
    match (&t.at, &t.when) {
        (Some(_), Some(_)) => Err(FieldError::new(
            format!("{field}.when"),
            "give either `at` or `when`, not both",
        )),
        (None, None) => Err(FieldError::new(
            field,
            "expected `at = \"<duration>\"` or a `when` condition, found neither",
        )),
        (Some(at), None) => {
            let stray = match (&t.after, t.repeat) {
                (Some(_), _) => Some("after"),
                (None, Some(_)) => Some("repeat"),
                (None, None) => None,
            };
            if let Some(stray) = stray {
                return Err(FieldError::new(
                    format!("{field}.{stray}"),
                    "`after` and `repeat` go with `when`, not `at`",
                ));
            }
            Ok(Trigger::At {
                at_ms: duration(&format!("{field}.at"), at)?,
            })
        }
        (None, Some(c)) => {
            let after_ms = match &t.after {
                None => 0,
                Some(text) => duration(&format!("{field}.after"), text)?,
            };
            let condition = resolve_condition(&format!("{field}.when"), c, instances, action_ids)?;
            Ok(Trigger::When {
                condition,
                after_ms,
                repeat: t.repeat.unwrap_or(false),
            })
        }
    }
}

/// `batch` narrows a `batch_status` condition, `instance` names the instance of an
/// `instance_status` one, and `activity` picks the activity a status condition watches; written
/// with another condition they would have no effect.
fn refuse_foreign_condition_fields(field: &str, c: &ConditionEntry) -> R<()> {
    let watches = if c.activity_status.is_some() {
        "activity_status"
    } else if c.batch_status.is_some() {
        "batch_status"
    } else if c.instance_status.is_some() {
        "instance_status"
    } else {
        "action"
    };
    let foreign = [
        ("batch", c.batch.is_some(), "batch_status"),
        ("instance", c.instance.is_some(), "instance_status"),
        (
            "activity",
            c.activity.is_some() && c.action.is_some(),
            "activity_status | batch_status | instance_status",
        ),
    ];
    match foreign
        .iter()
        .find(|(_, given, goes_with)| *given && !goes_with.contains(watches))
    {
        None => Ok(()),
        Some((name, _, goes_with)) => Err(FieldError::new(
            format!("{field}.{name}"),
            format!(
                "`{name}` has no effect in a condition on `{watches}`; it goes with {goes_with}"
            ),
        )),
    }
}

fn resolve_condition(
    field: &str,
    c: &ConditionEntry,
    instances: &InstanceResolver<'_>,
    action_ids: &BTreeSet<String>,
) -> R<Condition> {
    let kinds = [
        c.activity_status.is_some(),
        c.batch_status.is_some(),
        c.instance_status.is_some(),
        c.action.is_some(),
    ]
    .iter()
    .filter(|k| **k)
    .count();
    if kinds != 1 {
        return Err(FieldError::new(
            field,
            format!(
                "expected exactly one of activity_status, batch_status, instance_status, action; found {kinds}"
            ),
        ));
    }
    refuse_foreign_condition_fields(field, c)?;
    let activity = activity_ref(&format!("{field}.activity"), &c.activity, action_ids)?;
    if let Some(s) = &c.activity_status {
        let status = enum_value(
            &format!("{field}.activity_status"),
            s,
            ActivityStatus::parse,
            ActivityStatus::expected(),
        )?;
        return Ok(Condition::ActivityStatus { status, activity });
    }
    if let Some(s) = &c.batch_status {
        let status = enum_value(
            &format!("{field}.batch_status"),
            s,
            BatchStatus::parse,
            BatchStatus::expected(),
        )?;
        let batch = match c.batch {
            None => None,
            Some(0) => {
                return Err(FieldError::new(
                    format!("{field}.batch"),
                    "batches are numbered from 1, found 0",
                ));
            }
            Some(n) => Some(n as u32),
        };
        return Ok(Condition::BatchStatus {
            status,
            batch,
            activity,
        });
    }
    if let Some(s) = &c.instance_status {
        let status = enum_value(
            &format!("{field}.instance_status"),
            s,
            InstanceStatus::parse,
            InstanceStatus::expected(),
        )?;
        let text = c
            .instance
            .as_ref()
            .ok_or_else(|| FieldError::new(field, "instance_status needs `instance`"))?;
        let (_, instance) = instances.resolve(&format!("{field}.instance"), text)?;
        return Ok(Condition::InstanceStatus {
            status,
            instance,
            activity,
        });
    }
    let action_id = c.action.clone().expect("counted above");
    if !action_ids.contains(&action_id) {
        return Err(FieldError::new(
            format!("{field}.action"),
            format!("expected the id of an action, found {action_id:?}"),
        ));
    }
    Ok(Condition::ActionCalled { action_id })
}

/// Actions a scenario can call: every action the engine implements.
fn action_supported(action: Action) -> bool {
    Action::ALL.contains(&action)
}

fn resolve_action(
    entry: &ActionEntry,
    field: &str,
    instances: &InstanceResolver<'_>,
    action_ids: &BTreeSet<String>,
) -> R<Happening> {
    let a = &entry.item;
    let action = Action::parse(&a.action).ok_or_else(|| {
        let known: Vec<&str> = Action::ALL
            .iter()
            .filter(|x| action_supported(**x))
            .map(|x| x.as_str())
            .collect();
        FieldError::new(
            format!("{field}.action"),
            format!(
                "expected one of {}, found {:?}",
                known.join(" | "),
                a.action
            ),
        )
    })?;
    if !action_supported(action) {
        return Err(FieldError::new(
            format!("{field}.action"),
            format!("{action} is not modelled by this version of refreshsim"),
        ));
    }
    let body = match &a.request {
        None => serde_json::Value::Object(Default::default()),
        Some(v @ serde_json::Value::Object(_)) => v.clone(),
        Some(_) => {
            return Err(FieldError::new(
                format!("{field}.request"),
                "expected a table holding the request body",
            ));
        }
    };
    let fill = a.fill.unwrap_or(true);
    let body = if fill {
        substitute_instance_refs(body, &format!("{field}.request"), instances)?
    } else {
        body
    };
    let trigger = resolve_trigger(field, &entry.trigger, instances, action_ids)?;
    let activity = action_activity(field, action, a, fill, action_ids)?;
    Ok(Happening {
        id: a.id.clone(),
        origin: field.to_string(),
        trigger,
        what: What::Api {
            action,
            body,
            fill,
            activity,
        },
    })
}

/// `activity` picks the activity whose id `fill` writes into the request, so it is refused
/// where nothing would be written: actions that take no activity id, and `fill = false`.
fn action_activity(
    field: &str,
    action: Action,
    a: &ActionCall,
    fill: bool,
    action_ids: &BTreeSet<String>,
) -> R<ActivityRef> {
    let activity_field = format!("{field}.activity");
    if a.activity.is_some() {
        let Some(id_field) = action.activity_id_field() else {
            let takes: Vec<&str> = Action::ALL
                .iter()
                .filter(|x| x.activity_id_field().is_some())
                .map(|x| x.as_str())
                .collect();
            return Err(FieldError::new(
                activity_field,
                format!(
                    "`activity` has no effect on {action}, which acts on no refresh activity; it goes with {}",
                    takes.join(" | ")
                ),
            ));
        };
        if !fill {
            return Err(FieldError::new(
                activity_field,
                format!(
                    "`activity` has no effect with `fill = false` (the body is sent as written); write {id_field} in `request` instead"
                ),
            ));
        }
    }
    activity_ref(&activity_field, &a.activity, action_ids)
}

/// With `fill`, `"#n"` in a request's `InstanceId` / `InstanceIds` names the n-th instance of
/// the group (generated ids are opaque), so scenarios can address them.
fn substitute_instance_refs(
    mut body: serde_json::Value,
    field: &str,
    instances: &InstanceResolver<'_>,
) -> R<serde_json::Value> {
    use serde_json::Value;
    if let Some(Value::String(text)) = body.get_mut("InstanceId")
        && text.starts_with('#')
    {
        *text = instances.resolve(&format!("{field}.InstanceId"), text)?.1;
    }
    if let Some(Value::Array(items)) = body.get_mut("InstanceIds") {
        for (i, item) in items.iter_mut().enumerate() {
            if let Value::String(text) = item
                && text.starts_with('#')
            {
                *text = instances
                    .resolve(&format!("{field}.InstanceIds[{i}]"), text)?
                    .1;
            }
        }
    }
    Ok(body)
}

fn resolve_lc_change(
    entry: &LaunchConfigChangeEntry,
    field: &str,
    instances: &InstanceResolver<'_>,
    action_ids: &BTreeSet<String>,
) -> R<Happening> {
    let trigger = resolve_trigger(field, &entry.trigger, instances, action_ids)?;
    let c = &entry.item;
    let request = ModifyLaunchConfigurationRequest {
        launch_configuration_id: String::new(),
        image_id: c.image_id.clone(),
        user_data: c.user_data.clone(),
        enhanced_service: c.enhanced_service.clone(),
        host_name_settings: c.host_name_settings.clone(),
        login_settings: c.login_settings.clone(),
        instance_types: c.instance_type.clone().map(|t| vec![t]),
        stored: Default::default(),
    };
    if request == (ModifyLaunchConfigurationRequest::default()) {
        return Err(FieldError::new(
            field,
            "expected at least one field to change",
        ));
    }
    Ok(Happening {
        id: None,
        origin: field.to_string(),
        trigger,
        what: What::Change(WorldChange::LaunchConfig(Box::new(request))),
    })
}

fn resolve_fault_event(
    entry: &FaultEventEntry,
    field: &str,
    instances: &InstanceResolver<'_>,
    action_ids: &BTreeSet<String>,
    policies: &[PolicySpec],
) -> R<Happening> {
    let trigger = resolve_trigger(field, &entry.trigger, instances, action_ids)?;
    let change = fault_change(&entry.item, field, instances, policies)?;
    Ok(Happening {
        id: None,
        origin: field.to_string(),
        trigger,
        what: What::Change(change),
    })
}

/// The world change a fault makes.
fn fault_change(
    fault: &Fault,
    field: &str,
    instances: &InstanceResolver<'_>,
    policies: &[PolicySpec],
) -> R<WorldChange> {
    let instance = |f: &InstanceFault| -> R<u32> {
        Ok(instances
            .resolve(&format!("{field}.instance"), &f.instance)?
            .0)
    };
    Ok(match fault {
        Fault::Destroy(f) => WorldChange::InstanceLeaves {
            instance: instance(f)?,
            how: Departure::Destroyed,
        },
        Fault::Detach(f) | Fault::Remove(f) => WorldChange::InstanceLeaves {
            instance: instance(f)?,
            how: Departure::Detached,
        },
        Fault::Stop(f) => WorldChange::InstanceStops {
            instance: instance(f)?,
        },
        Fault::Start(f) => WorldChange::InstanceStarts {
            instance: instance(f)?,
        },
        Fault::EnterStandby(f) => WorldChange::InstanceEntersStandby {
            instance: instance(f)?,
        },
        Fault::ExitStandby(f) => WorldChange::InstanceExitsStandby {
            instance: instance(f)?,
        },
        Fault::Unhealthy(f) => WorldChange::Unhealthy {
            instance: instance(f)?,
        },
        Fault::GroupStatus(f) => WorldChange::GroupStatus(enum_value(
            &format!("{field}.status"),
            &f.status,
            GroupStatus::parse,
            GroupStatus::expected(),
        )?),
        Fault::Role(f) => WorldChange::RoleAuthorized(f.authorized),
        Fault::Image(f) => WorldChange::ImageAvailable {
            image: f.image.clone(),
            available: f.available.unwrap_or(false),
        },
        Fault::InternalError(NoFields {}) => WorldChange::InternalError,
        Fault::CreateBlocked(f) => WorldChange::CreateBlocked(f.blocked.unwrap_or(true)),
        Fault::DestroyBlocked(f) => WorldChange::DestroyBlocked(f.blocked.unwrap_or(true)),
        Fault::Alarm(f) => alarm_change(f, field, policies)?,
        Fault::ScheduledAction(f) => scheduled_change(f, field)?,
        Fault::ScalingActivity(f) => scaling_activity_change(f, field)?,
    })
}

fn alarm_change(f: &AlarmFault, field: &str, policies: &[PolicySpec]) -> R<WorldChange> {
    let policy = policies
        .iter()
        .position(|p| p.id == f.policy)
        .ok_or_else(|| {
            FieldError::new(
                format!("{field}.policy"),
                format!(
                    "expected a scaling policy of the group, found {:?}",
                    f.policy
                ),
            )
        })?;
    Ok(WorldChange::Alarm {
        policy: policy as u32,
    })
}

fn scheduled_change(f: &ScheduledActionFault, field: &str) -> R<WorldChange> {
    if f.desired_capacity > MAX_INSTANCES_PER_GROUP as u64 {
        return Err(FieldError::new(
            format!("{field}.desired_capacity"),
            format!(
                "expected 0..={MAX_INSTANCES_PER_GROUP}, found {}",
                f.desired_capacity
            ),
        ));
    }
    Ok(WorldChange::Scheduled {
        action: f
            .name
            .clone()
            .unwrap_or_else(|| "scheduled-action".to_string()),
        desired_capacity: f.desired_capacity as u32,
    })
}

fn scaling_activity_change(f: &ScalingActivityFault, field: &str) -> R<WorldChange> {
    let duration_ms = duration(&format!("{field}.duration"), &f.duration)?;
    let activity_type = match &f.activity_type {
        None => ScalingActivityType::ScaleOut,
        Some(t) => enum_value(
            &format!("{field}.activity_type"),
            t,
            ScalingActivityType::parse,
            ScalingActivityType::expected(),
        )?,
    };
    Ok(WorldChange::ScalingActivity {
        activity_type,
        duration_ms,
    })
}

fn resolve_expect(
    e: &ExpectSection,
    instances: &InstanceResolver<'_>,
    action_ids: &BTreeSet<String>,
) -> R<Expectations> {
    if let Some(id) = &e.activity {
        if !action_ids.contains(id) {
            return Err(FieldError::new(
                "expect.activity",
                format!("expected the id of an action, found {id:?}"),
            ));
        }
        // It picks the activity these expectations look at; alone it would check nothing.
        if e.status.is_none()
            && e.max_duration.is_none()
            && e.batch_statuses.is_none()
            && e.instance_statuses.is_none()
        {
            return Err(FieldError::new(
                "expect.activity",
                "`activity` has no effect without `status`, `max_duration`, `batch_statuses` or `instance_statuses`, the expectations it applies to",
            ));
        }
    }
    let status = match &e.status {
        None => None,
        Some(s) => Some(enum_value(
            "expect.status",
            s,
            ActivityStatus::parse,
            ActivityStatus::expected(),
        )?),
    };
    let max_duration_ms = match &e.max_duration {
        None => None,
        Some(t) => Some(duration("expect.max_duration", t)?),
    };
    let batch_statuses = match &e.batch_statuses {
        None => None,
        Some(list) => Some(
            list.iter()
                .enumerate()
                .map(|(i, s)| {
                    enum_value(
                        &format!("expect.batch_statuses[{i}]"),
                        s,
                        BatchStatus::parse,
                        BatchStatus::expected(),
                    )
                })
                .collect::<R<Vec<_>>>()?,
        ),
    };
    let mut instance_statuses = Vec::new();
    for (id, s) in e.instance_statuses.iter().flatten() {
        let field = format!("expect.instance_statuses.{id}");
        let (_, instance_id) = instances.resolve(&field, id)?;
        instance_statuses.push((
            instance_id,
            enum_value(&field, s, InstanceStatus::parse, InstanceStatus::expected())?,
        ));
    }
    let mut instance_images = Vec::new();
    for (id, image) in e.instance_images.iter().flatten() {
        let (_, instance_id) = instances.resolve(&format!("expect.instance_images.{id}"), id)?;
        instance_images.push((instance_id, image.clone()));
    }
    let mut calls = Vec::new();
    for (i, c) in e.calls.iter().enumerate() {
        if !action_ids.contains(&c.action) {
            return Err(FieldError::new(
                format!("expect.calls[{i}].action"),
                format!("expected the id of an action, found {:?}", c.action),
            ));
        }
        let code = if c.code == "OK" {
            None
        } else {
            Some(ErrorCode::parse(&c.code).ok_or_else(|| {
                FieldError::new(
                    format!("expect.calls[{i}].code"),
                    format!(
                        "expected \"OK\" or a Tencent error code, found {:?}",
                        c.code
                    ),
                )
            })?)
        };
        calls.push((c.action.clone(), code));
    }
    let mut activity_statuses = Vec::new();
    for (id, status) in e.activity_statuses.iter().flatten() {
        let field = format!("expect.activity_statuses.{id}");
        if !action_ids.contains(id) {
            return Err(FieldError::new(
                &field,
                format!("expected the id of an action, found {id:?}"),
            ));
        }
        activity_statuses.push((
            id.clone(),
            enum_value(
                &field,
                status,
                ActivityStatus::parse,
                ActivityStatus::expected(),
            )?,
        ));
    }
    let mut responses = Vec::new();
    for (i, r) in e.responses.iter().enumerate() {
        if !action_ids.contains(&r.action) {
            return Err(FieldError::new(
                format!("expect.responses[{i}].action"),
                format!("expected the id of an action, found {:?}", r.action),
            ));
        }
        if !(r.pointer.is_empty() || r.pointer.starts_with('/')) {
            return Err(FieldError::new(
                format!("expect.responses[{i}].pointer"),
                format!(
                    "expected a JSON pointer such as \"/Response/TotalCount\", found {:?}",
                    r.pointer
                ),
            ));
        }
        responses.push((r.action.clone(), r.pointer.clone(), r.equals.clone()));
    }
    Ok(Expectations {
        activity_statuses,
        responses,
        activity: e.activity.clone(),
        status,
        max_duration_ms,
        min_in_service: e.min_in_service.map(|n| n as u32),
        batch_statuses,
        instance_statuses,
        instance_images,
        group_enabled: e.group_enabled,
        activities: e.activities.map(|n| n as u32),
        calls,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_unique_in_a_million_instance_group_and_plain_where_no_collision() {
        let ids = unique_generated_ids("asg-big00001", 1_000_000);
        let distinct: std::collections::BTreeSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
        // This group has colliding plain ids; only the later position of a pair is re-hashed.
        let rehashed = (0..ids.len() as u64)
            .filter(|&i| ids[i as usize] != generated_instance_id("asg-big00001", i))
            .count();
        assert!((1..10).contains(&rehashed), "{rehashed} ids re-hashed");
        let small = unique_generated_ids("asg-small001", 2_000);
        assert!((0..2_000).all(|i| small[i as usize] == generated_instance_id("asg-small001", i)));
    }
}
