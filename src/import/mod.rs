//! `refreshsim import` (issue 12, OQ-84): a scenario built from the responses Tencent returns for
//! a real scaling group — `DescribeAutoScalingGroups`, `DescribeAutoScalingInstances` (pages),
//! `DescribeLaunchConfigurations`, optionally `DescribeLifecycleHooks`, CVM `DescribeInstances`
//! and past `DescribeRefreshActivities` (fitted into `[timing]`/`[faults]`). The scenario is
//! written as text in the documented format, each value's source named in a comment, every
//! field it cannot map listed; it is parsed back before it is returned, so `run`, `validate`,
//! `sweep` and `serve` accept it. Library code: typed errors, no printing, no exit codes.

use crate::account::json::{Obj, kind};
use crate::account::{AccountError, Action, Body, OnError, read_responses};
use crate::fit::{FitError, Input, fit};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// Tencent's default per-group instance quota (the scenario's default `limits.max_instances`).
pub const GROUP_QUOTA: usize = 2000;
/// Most lifecycle hooks a group has (Tencent's limit; the scenario's too).
pub const MAX_HOOKS: usize = 10;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    Fit(#[from] FitError),
    #[error("{0}")]
    Invalid(String),
    /// The scenario built does not parse: a bug, reported rather than written.
    #[error("the scenario built from the inputs does not parse ({0}); nothing written")]
    Internal(String),
}

/// The inputs, already read.
#[derive(Debug, Clone, Default)]
pub struct ImportInputs {
    pub groups: Option<Input>,
    pub instances: Vec<Input>,
    pub launch_configuration: Option<Input>,
    pub hooks: Option<Input>,
    pub history: Vec<Input>,
    pub cvm_instances: Option<Input>,
    pub group_id: Option<String>,
}

/// What `import` built.
#[derive(Debug, Clone)]
pub struct Imported {
    pub toml: String,
    pub group_id: String,
    pub instances: usize,
    pub hooks: usize,
    /// Input fields not mapped (paths with indices dropped).
    pub unmapped: Vec<String>,
}

fn one_body(input: &Input, action: Action) -> Result<Vec<Body>, ImportError> {
    Ok(read_responses(&input.file, &input.text, action, OnError::Refuse)?.0)
}

fn required<'a>(input: &'a Option<Input>, what: &str) -> Result<&'a Input, ImportError> {
    input
        .as_ref()
        .ok_or_else(|| ImportError::Invalid(format!("no {what} given")))
}

/// `a.b[3].c` → `a.b[].c`.
fn strip(path: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in path.chars() {
        match c {
            '[' => {
                inside = true;
                out.push('[');
            }
            ']' => {
                inside = false;
                out.push(']');
            }
            _ if !inside => out.push(c),
            _ => {}
        }
    }
    out
}

/// Unmapped fields, once per stripped path, with the first value seen.
#[derive(Default)]
struct Unmapped(BTreeMap<String, String>);

impl Unmapped {
    fn note(&mut self, file: &str, obj: &Obj<'_>) {
        for (path, value) in obj.unread_values() {
            let mut text = value.to_string();
            if text.len() > 60 {
                text.truncate(57);
                text.push_str("...");
            }
            self.0
                .entry(format!("{file}: {}", strip(&path)))
                .or_insert(text);
        }
    }
}

/// A TOML string literal.
fn q(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// JSON object → TOML inline table, nulls (unset in the SDK's form) dropped.
fn inline(value: &Value) -> Option<String> {
    fn strip_nulls(v: &Value) -> Option<Value> {
        match v {
            Value::Null => None,
            Value::Object(map) => Some(Value::Object(
                map.iter()
                    .filter_map(|(k, v)| Some((k.clone(), strip_nulls(v)?)))
                    .collect(),
            )),
            Value::Array(items) => {
                Some(Value::Array(items.iter().filter_map(strip_nulls).collect()))
            }
            other => Some(other.clone()),
        }
    }
    let clean = strip_nulls(value)?;
    let toml_value: toml::Value = serde_json::from_value(clean).ok()?;
    Some(toml_value.to_string())
}

/// Builds the scenario.
pub fn import(inputs: &ImportInputs) -> Result<Imported, ImportError> {
    let mut unmapped = Unmapped::default();
    let groups_input = required(&inputs.groups, "--group (DescribeAutoScalingGroups)")?;
    let lc_input = required(
        &inputs.launch_configuration,
        "--launch-configuration (DescribeLaunchConfigurations)",
    )?;
    if inputs.instances.is_empty() {
        return Err(ImportError::Invalid(
            "no --instances (DescribeAutoScalingInstances) given".into(),
        ));
    }
    // The group.
    let group_bodies = one_body(groups_input, Action::DescribeAutoScalingGroups)?;
    let mut candidates = Vec::new();
    for body in &group_bodies {
        let root = Obj::new(&body.at, body.path.clone(), &body.value)?;
        for g in root.objects("AutoScalingGroupSet")? {
            candidates.push((body, g.path.clone()));
        }
    }
    let ids: Vec<String> = candidates
        .iter()
        .map(|(body, path)| group_id_at(body, path))
        .collect::<Result<_, _>>()?;
    let index = match (&inputs.group_id, ids.len()) {
        (_, 0) => {
            return Err(ImportError::Invalid(format!(
                "{}: AutoScalingGroupSet is empty: no group to import",
                groups_input.file
            )));
        }
        (None, 1) => 0,
        (None, _) => {
            return Err(ImportError::Invalid(format!(
                "{}: lists {} groups ({}): pick one with --group-id",
                groups_input.file,
                ids.len(),
                ids.join(", ")
            )));
        }
        (Some(wanted), _) => ids.iter().position(|id| id == wanted).ok_or_else(|| {
            ImportError::Invalid(format!(
                "{}: no group {wanted} (it lists {})",
                groups_input.file,
                ids.join(", ")
            ))
        })?,
    };
    let (group_body, group_path) = &candidates[index];
    let group_value = lookup(&group_body.value, &group_body.path, group_path);
    let g = Obj::new(&group_body.at, group_path.clone(), group_value)?;
    let group_id = g.str_req("AutoScalingGroupId")?.to_string();
    let mut out = String::new();
    let src_group = format!("{}: {}", g.at, g.path);
    let _ = writeln!(
        out,
        "# Scenario of scaling group {group_id}, built by refreshsim import {} from Tencent's responses.",
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(
        out,
        "# Each value names its source; the fields that could not be mapped are listed at the end."
    );
    let _ = writeln!(out);
    let name = g
        .str_opt("AutoScalingGroupName")?
        .unwrap_or(&group_id)
        .to_string();
    let _ = writeln!(out, "[scenario]");
    let _ = writeln!(
        out,
        "name = {}   # AutoScalingGroupName",
        q(&format!("import-{name}"))
    );
    let created = g.str_opt("CreatedTime")?;

    // Launch configuration.
    let lc_id = g.str_req("LaunchConfigurationId")?.to_string();
    let lc_bodies = one_body(lc_input, Action::DescribeLaunchConfigurations)?;
    let mut lc_found = None;
    let mut lc_other = Vec::new();
    for body in &lc_bodies {
        let root = Obj::new(&body.at, body.path.clone(), &body.value)?;
        for lc in root.array("LaunchConfigurationSet")? {
            let obj = Obj::new(&body.at, lc.0.clone(), lc.1)?;
            let id = obj.str_req("LaunchConfigurationId")?.to_string();
            if id == lc_id && lc_found.is_none() {
                lc_found = Some((body.at.clone(), lc.0, lc.1));
            } else {
                lc_other.push(id);
            }
        }
    }
    let Some((lc_at, lc_path, lc_value)) = lc_found else {
        return Err(ImportError::Invalid(format!(
            "{}: the group's launch configuration {lc_id} ({}.LaunchConfigurationId) is not in it (it lists {})",
            lc_input.file,
            g.path,
            if lc_other.is_empty() {
                "none".to_string()
            } else {
                lc_other.join(", ")
            }
        )));
    };
    let lc = Obj::new(&lc_at, lc_path, lc_value)?;
    let lc_image = lc.str_req("ImageId")?.to_string();
    let lc_version = lc.u64_opt("VersionNumber")?;

    // Instances: every page, no overlap, all of this group.
    let mut instances: Vec<(String, String)> = Vec::new(); // (id, TOML table)
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut unhealthy = Vec::new();
    let cvm_images = match &inputs.cvm_instances {
        None => BTreeMap::new(),
        Some(input) => cvm_images(input, &mut unmapped)?,
    };
    let mut total_counts = BTreeSet::new();
    for input in &inputs.instances {
        for body in one_body(input, Action::DescribeAutoScalingInstances)? {
            let root = Obj::new(&body.at, body.path.clone(), &body.value)?;
            if let Some(total) = root.u64_opt("TotalCount")? {
                total_counts.insert(total);
            }
            for i in root.objects("AutoScalingInstanceSet")? {
                let id = i.str_req("InstanceId")?.to_string();
                let of = i.str_req("AutoScalingGroupId")?;
                if of != group_id {
                    return Err(AccountError::invalid(
                        &body.at,
                        &i.path_of("AutoScalingGroupId"),
                        format!("instance {id} belongs to {of}, not the imported group {group_id}"),
                    )
                    .into());
                }
                if !seen.insert(id.clone()) {
                    return Err(AccountError::invalid(
                        &body.at,
                        &i.path_of("InstanceId"),
                        format!("instance {id} appears twice: the pages overlap"),
                    )
                    .into());
                }
                let mut t = String::new();
                let _ = writeln!(t, "[[group.instances]]   # {}: {}", body.at, i.path);
                let _ = writeln!(t, "id = {}", q(&id));
                if let Some(state) = i.str_opt("LifeCycleState")? {
                    let _ = writeln!(t, "state = {}", q(state));
                }
                if let Some(p) = i.bool_opt("ProtectedFromScaleIn")? {
                    let _ = writeln!(t, "protected = {p}");
                }
                if let Some(c) = i.str_opt("CreationType")? {
                    let _ = writeln!(t, "creation = {}", q(c));
                }
                if let Some(a) = i.str_opt("AddTime")? {
                    let _ = writeln!(t, "add_time = {}", q(a));
                }
                if let Some(ty) = i.str_opt("InstanceType")? {
                    let _ = writeln!(t, "instance_type = {}", q(ty));
                }
                let from_lc = i.str_opt("LaunchConfigurationId")?;
                let version = i.u64_opt("VersionNumber")?;
                match cvm_images.get(&id) {
                    Some(image) => {
                        let _ =
                            writeln!(t, "image_id = {}   # DescribeInstances ImageId", q(image));
                    }
                    None if from_lc == Some(lc_id.as_str())
                        && version.is_some()
                        && version == lc_version =>
                    {
                        let _ = writeln!(
                            t,
                            "image_id = {}   # created from {lc_id} version {}, whose ImageId it is",
                            q(&lc_image),
                            version.unwrap_or(0)
                        );
                    }
                    None => {
                        let _ = writeln!(
                            t,
                            "image_id = \"img-unknown\"   # image unknown: not in DescribeAutoScalingInstances (give --cvm-instances)"
                        );
                    }
                }
                if i.str_opt("HealthStatus")? == Some("UNHEALTHY") {
                    unhealthy.push(id.clone());
                }
                unmapped.note(&input.file, &i);
                instances.push((id, t));
            }
        }
    }
    if total_counts.len() > 1 || total_counts.iter().any(|t| *t as usize != instances.len()) {
        return Err(ImportError::Invalid(format!(
            "the instance pages disagree: TotalCount {:?}, {} instances read (a page is missing or from another query)",
            total_counts,
            instances.len()
        )));
    }
    if instances.len() > GROUP_QUOTA {
        return Err(ImportError::Invalid(format!(
            "{} instances: more than the per-group quota of {GROUP_QUOTA}",
            instances.len()
        )));
    }
    if let Some(count) = g.u64_opt("InstanceCount")?
        && count as usize != instances.len()
    {
        return Err(AccountError::invalid(
            g.at,
            &g.path_of("InstanceCount"),
            format!(
                "the group has {count} instances but the instance pages list {}",
                instances.len()
            ),
        )
        .into());
    }
    let start = instances
        .iter()
        .filter_map(|(_, t)| t.lines().find_map(|l| l.strip_prefix("add_time = ")))
        .max()
        .map(str::to_string)
        .or_else(|| created.map(q));
    if let Some(start) = &start {
        let _ = writeln!(
            out,
            "start_time = {start}   # the latest AddTime (or the group's CreatedTime): the import's instant"
        );
    }
    let _ = writeln!(out);

    // [group]
    let _ = writeln!(out, "[group]   # {src_group}");
    let _ = writeln!(out, "id = {}", q(&group_id));
    if let Some(s) = g.str_opt("AutoScalingGroupStatus")? {
        let _ = writeln!(out, "status = {}   # AutoScalingGroupStatus", q(s));
    }
    if let Some(e) = g.str_opt("EnabledStatus")? {
        let _ = writeln!(out, "enabled = {}   # EnabledStatus {e}", e == "ENABLED");
    }
    for (key, field) in [
        ("min_size", "MinSize"),
        ("max_size", "MaxSize"),
        ("desired_capacity", "DesiredCapacity"),
    ] {
        if let Some(v) = g.u64_opt(field)? {
            let _ = writeln!(out, "{key} = {v}   # {field}");
        }
    }
    let forward = g.array("ForwardLoadBalancerSet")?;
    let classic = g.strings("LoadBalancerIdSet")?;
    let _ = writeln!(
        out,
        "forward_clb = {}   # ForwardLoadBalancerSet has {} entries{}",
        !forward.is_empty(),
        forward.len(),
        if classic.is_empty() {
            String::new()
        } else {
            format!(
                "; LoadBalancerIdSet (classic CLB, no target health) has {}",
                classic.len()
            )
        }
    );
    if let Some(settings) = g.obj_opt("ServiceSettings")? {
        if let Some(r) = settings.bool_opt("ReplaceMonitorUnhealthy")? {
            let _ = writeln!(
                out,
                "replace_unhealthy = {r}   # ServiceSettings.ReplaceMonitorUnhealthy"
            );
        }
        unmapped.note(&groups_input.file, &settings);
    }
    if let Some(ty) = lc.str_opt("InstanceType")? {
        let _ = writeln!(
            out,
            "instance_type = {}   # the launch configuration's InstanceType",
            q(ty)
        );
    }
    let _ = writeln!(
        out,
        "image_id = {}   # instances' default image: the launch configuration's",
        q(&lc_image)
    );
    unmapped.note(&groups_input.file, &g);

    // Hooks.
    let mut hook_count = 0;
    let mut hooks_text = String::new();
    if let Some(input) = &inputs.hooks {
        for body in one_body(input, Action::DescribeLifecycleHooks)? {
            let root = Obj::new(&body.at, body.path.clone(), &body.value)?;
            for h in root.objects("LifecycleHookSet")? {
                if h.str_opt("AutoScalingGroupId")?
                    .is_some_and(|of| of != group_id)
                {
                    continue; // another group's hook (DescribeLifecycleHooks lists the account's)
                }
                hook_count += 1;
                if hook_count > MAX_HOOKS {
                    return Err(AccountError::invalid(
                        &body.at,
                        &h.path,
                        format!("more than {MAX_HOOKS} lifecycle hooks for {group_id}"),
                    )
                    .into());
                }
                let _ = writeln!(
                    hooks_text,
                    "\n[[group.lifecycle_hooks]]   # {}: {}",
                    body.at, h.path
                );
                let _ = writeln!(hooks_text, "id = {}", q(h.str_req("LifecycleHookId")?));
                let _ = writeln!(
                    hooks_text,
                    "transition = {}",
                    q(h.str_req("LifecycleTransition")?)
                );
                if let Some(t) = h.str_opt("LifecycleTransitionType")? {
                    let _ = writeln!(hooks_text, "transition_type = {}", q(t));
                }
                if let Some(d) = h.str_opt("DefaultResult")? {
                    let _ = writeln!(hooks_text, "default_result = {}", q(d));
                }
                if let Some(s) = h.u64_opt("HeartbeatTimeout")? {
                    let _ = writeln!(
                        hooks_text,
                        "heartbeat_timeout = \"{s}s\"   # HeartbeatTimeout"
                    );
                }
                let _ = writeln!(
                    hooks_text,
                    "auto_complete = true   # assumed: your automation answers after timing.hook_response (false: only the timeout does)"
                );
                unmapped.note(&input.file, &h);
            }
        }
    }
    out.push_str(&hooks_text);
    for (_, t) in &instances {
        out.push('\n');
        out.push_str(t);
    }

    // [launch_configuration]
    let _ = writeln!(out, "\n[launch_configuration]   # {}: {}", lc.at, lc.path);
    let _ = writeln!(out, "id = {}", q(&lc_id));
    let _ = writeln!(out, "image_id = {}", q(&lc_image));
    if let Some(u) = lc.str_opt("UserData")? {
        let _ = writeln!(out, "user_data = {}", q(u));
    }
    for (key, field) in [
        ("enhanced_service", "EnhancedService"),
        ("host_name_settings", "HostNameSettings"),
    ] {
        if let Some(v) = lc.get(field) {
            match inline(v) {
                Some(t) if t != "{}" => {
                    let _ = writeln!(out, "{key} = {t}   # {field}");
                }
                Some(_) => {}
                None => {
                    return Err(lc
                        .error(field, format!("expected an object, found {}", kind(v)))
                        .into());
                }
            }
        }
    }
    if let Some(login) = lc.obj_opt("LoginSettings")? {
        let mut kept = serde_json::Map::new();
        if let Some(keys) = login.get("KeyIds") {
            kept.insert("KeyIds".into(), keys.clone());
        }
        if let Some(keep) = login.get("KeepImageLogin") {
            kept.insert("KeepImageLogin".into(), keep.clone());
        }
        if login.get("Password").is_some() {
            let _ = writeln!(out, "# LoginSettings.Password: not written (a secret)");
        }
        if let Some(t) = inline(&Value::Object(kept)).filter(|t| t != "{}") {
            let _ = writeln!(
                out,
                "login_settings = {t}   # LoginSettings (key ids; never a password)"
            );
        }
        unmapped.note(&lc_input.file, &login);
    }
    if let Some(ty) = lc.str_opt("InstanceType")? {
        let _ = writeln!(out, "instance_type = {}", q(ty));
    }
    unmapped.note(&lc_input.file, &lc);

    // [timing] / [faults] and the action.
    let mut start_settings = None;
    if inputs.history.is_empty() {
        let _ = writeln!(
            out,
            "\n# [timing] and [faults]: no --history given, so refreshsim's documented defaults apply\n# (docs/decisions.md §11: 90 s reinstalls, no failures); `refreshsim fit` estimates them."
        );
    } else {
        let report = fit(&inputs.history, &[])?;
        let _ = writeln!(out);
        out.push_str(&crate::fit::render::to_toml(&report));
        start_settings = latest_settings(&inputs.history)?;
    }
    if !unhealthy.is_empty() {
        for id in &unhealthy {
            let _ = writeln!(
                out,
                "\n[[faults.events]]   # HealthStatus UNHEALTHY in DescribeAutoScalingInstances\nat = \"0s\"\nkind = \"unhealthy\"\ninstance = {}",
                q(id)
            );
        }
    }
    let settings =
        start_settings.unwrap_or_else(|| "{ RollingUpdateSettings = { BatchNumber = 2 } }".into());
    let _ = writeln!(
        out,
        "\n# A refresh to plan: edit and uncomment.\n# [[actions]]\n# id = \"start\"\n# at = \"0s\"\n# action = \"StartInstanceRefresh\"\n# request = {{ RefreshSettings = {settings} }}"
    );

    let list: Vec<String> = unmapped
        .0
        .iter()
        .map(|(p, v)| format!("{p} = {v}"))
        .collect();
    let _ = writeln!(
        out,
        "\n# Input fields the scenario format has no place for (not used):"
    );
    for line in &list {
        let _ = writeln!(out, "#   {line}");
    }
    crate::scenario::parse_scenario("import.toml", &out)
        .map_err(|e| ImportError::Internal(e.to_string()))?;
    Ok(Imported {
        toml: out,
        group_id,
        instances: instances.len(),
        hooks: hook_count,
        unmapped: unmapped.0.into_keys().collect(),
    })
}

/// The value at `path` (a path below `base`, as `Obj` builds them: `A.B[3]`).
fn lookup<'a>(root: &'a Value, base: &str, path: &str) -> &'a Value {
    let rest = path
        .strip_prefix(base)
        .unwrap_or(path)
        .trim_start_matches('.');
    let mut at = root;
    for part in rest.split('.').filter(|p| !p.is_empty()) {
        let (key, index) = match part.split_once('[') {
            Some((k, i)) => (k, i.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        at = &at[key];
        if let Some(i) = index {
            at = &at[i];
        }
    }
    at
}

fn group_id_at(body: &Body, path: &str) -> Result<String, ImportError> {
    let value = lookup(&body.value, &body.path, path);
    let g = Obj::new(&body.at, path.to_string(), value)?;
    Ok(g.str_req("AutoScalingGroupId")?.to_string())
}

/// CVM `DescribeInstances`: instance id → ImageId.
fn cvm_images(
    input: &Input,
    unmapped: &mut Unmapped,
) -> Result<BTreeMap<String, String>, ImportError> {
    let mut out = BTreeMap::new();
    for body in one_body(input, Action::DescribeInstances)? {
        let root = Obj::new(&body.at, body.path.clone(), &body.value)?;
        for i in root.objects("InstanceSet")? {
            let id = i.str_req("InstanceId")?.to_string();
            let image = i.str_req("ImageId")?.to_string();
            unmapped.note(&input.file, &i);
            out.insert(id, image);
        }
    }
    Ok(out)
}

/// The RefreshSettings of the latest activity in the history, as a TOML inline table.
fn latest_settings(history: &[Input]) -> Result<Option<String>, ImportError> {
    let mut latest: Option<(u64, Value)> = None;
    for input in history {
        let (bodies, _) = read_responses(
            &input.file,
            &input.text,
            Action::DescribeRefreshActivities,
            OnError::SkipPolls,
        )?;
        for body in bodies {
            for a in crate::account::refresh::activities(&body)? {
                let created = a.created.unwrap_or(0);
                if latest.as_ref().is_none_or(|(t, _)| created >= *t) {
                    let value = lookup(&body.value, &body.path, &a.path)
                        .get("RefreshSettings")
                        .cloned()
                        .unwrap_or(Value::Null);
                    latest = Some((created, value));
                }
            }
        }
    }
    Ok(latest.and_then(|(_, v)| inline(&v)))
}
