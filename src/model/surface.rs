//! The read-only group APIs a refresh's automation calls around it: DescribeAutoScalingGroups,
//! DescribeAutoScalingInstances, DescribeAutoScalingActivities, DescribeLaunchConfigurations,
//! DescribeLifecycleHooks and DescribeAccountLimits. Every field of the SDK's response models,
//! from the world or Tencent's documented defaults (OQ-89…OQ-93); lists paged and filtered as
//! documented (`api::query`), in a stable order.

use super::world::{Instance, LaunchConfig, ScalingActivity, World};
use crate::api::lc_fields::{self, MODIFY_FIELDS};
use crate::api::query::ListQuery;
use crate::api::request::{
    DescribeGroupsRequest, DescribeInstancesRequest, DescribeScalingActivitiesRequest, GROUPS_LIST,
    INSTANCES_LIST, LAUNCH_CONFIGURATIONS_LIST, LIFECYCLE_HOOKS_LIST, ListRequest,
    SCALING_ACTIVITIES_LIST,
};
use crate::api::{
    ApiError, ApiOutput, ErrorCode, InstanceStatus, ScalingActivityStatus, ScalingActivityType,
};
use crate::time::{SimTime, parse_rfc3339_secs};
use crate::timeline::ScalingCause;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// A forward (application) load balancer the group is bound to (`ForwardLoadBalancer`).
#[derive(Debug, Clone, PartialEq)]
pub struct ForwardLb {
    pub load_balancer_id: String,
    pub listener_id: String,
    pub location_id: String,
    pub region: String,
    /// `TargetAttributes`: (port, weight).
    pub targets: Vec<(u64, u64)>,
}

/// What the Describe calls show of the group and account that no refresh reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Surface {
    pub group_name: String,
    pub project_id: u64,
    pub vpc_id: String,
    pub subnet_ids: Vec<String>,
    /// At least one; instances carry an index into it (OQ-89).
    pub zones: Vec<String>,
    pub tags: Vec<(String, String)>,
    pub forward_load_balancers: Vec<ForwardLb>,
    pub classic_load_balancer_ids: Vec<String>,
    /// DescribeAccountLimits (OQ-93).
    pub max_groups: u64,
    pub groups: u64,
    pub max_launch_configurations: u64,
    pub launch_configurations: u64,
}

/// OQ-93: the account quotas refreshsim shows when the scenario sets none.
pub const DEFAULT_MAX_GROUPS: u64 = 200;
pub const DEFAULT_MAX_LAUNCH_CONFIGURATIONS: u64 = 200;

impl Surface {
    /// OQ-89's defaults for a group named `group_id`.
    pub fn defaults(group_id: &str) -> Surface {
        Surface {
            group_name: group_id.to_string(),
            project_id: 0,
            vpc_id: "vpc-refreshsim".into(),
            subnet_ids: vec!["subnet-refreshsim".into()],
            zones: vec!["ap-guangzhou-3".into()],
            tags: Vec::new(),
            forward_load_balancers: Vec::new(),
            classic_load_balancer_ids: Vec::new(),
            max_groups: DEFAULT_MAX_GROUPS,
            groups: 1,
            max_launch_configurations: DEFAULT_MAX_LAUNCH_CONFIGURATIONS,
            launch_configurations: 1,
        }
    }

    /// The default forward CLB of a group with `forward_clb = true` and none listed.
    pub fn default_forward_lb() -> ForwardLb {
        ForwardLb {
            load_balancer_id: "lb-refreshsim".into(),
            listener_id: "lbl-refreshsim".into(),
            location_id: String::new(),
            region: String::new(),
            targets: vec![(80, 10)],
        }
    }

    fn zone(&self, index: u16) -> &str {
        self.zones.get(index as usize).map_or("", String::as_str)
    }

    fn subnet(&self, index: u16) -> &str {
        let n = self.subnet_ids.len().max(1);
        self.subnet_ids
            .get(index as usize % n)
            .map_or("", String::as_str)
    }
}

fn strings(values: &[String]) -> Value {
    Value::Array(values.iter().map(|v| Value::String(v.clone())).collect())
}

fn paged(query: &ListQuery, items: Vec<Value>, total_field: &str, set_field: &str) -> ApiOutput {
    let (total, page) = query.page(items);
    let mut map = Map::new();
    map.insert(total_field.into(), Value::from(total));
    map.insert(set_field.into(), Value::Array(page));
    ApiOutput::Json(map)
}

/// Values a `tag-key` / `tag-value` / `tag:KEY` filter sees on a tag list.
fn tag_values(tags: &[(String, String)], filter: &str) -> Vec<String> {
    match filter {
        "tag-key" => tags.iter().map(|(k, _)| k.clone()).collect(),
        "tag-value" => tags.iter().map(|(_, v)| v.clone()).collect(),
        other => match other.strip_prefix(crate::api::query::TAG_PREFIX) {
            Some(key) => tags
                .iter()
                .filter(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .collect(),
            None => Vec::new(),
        },
    }
}

/// `vague-…-name`: the name contains a filter value (the filter matches on a substring).
fn vague(filter: &crate::api::request::Filter, name: &str) -> bool {
    filter.values.iter().any(|v| name.contains(v.as_str()))
}

impl World {
    fn surface_time(&self, t: SimTime) -> String {
        self.epoch.render(t)
    }

    // ------------------------------------------------------------------------------------
    // DescribeAutoScalingGroups
    // ------------------------------------------------------------------------------------

    pub(crate) fn describe_groups(
        &self,
        req: &DescribeGroupsRequest,
    ) -> Result<ApiOutput, ApiError> {
        crate::api::query::check_list(&req.query, &GROUPS_LIST)?;
        let s = &self.surface;
        let id = self.names.get(self.group.id);
        let lc_id = self.current_lc().spec.id.as_str();
        let vague_ok = req
            .query
            .filters
            .iter()
            .flatten()
            .all(|f| f.name != "vague-auto-scaling-group-name" || vague(f, &s.group_name));
        let admitted = vague_ok
            && req.query.admits(id, |name| match name {
                "auto-scaling-group-id" => vec![id.to_string()],
                "auto-scaling-group-name" => vec![s.group_name.clone()],
                "vague-auto-scaling-group-name" => req
                    .query
                    .filters
                    .iter()
                    .flatten()
                    .filter(|f| f.name == name)
                    .flat_map(|f| f.values.clone())
                    .collect(),
                "launch-configuration-id" => vec![lc_id.to_string()],
                other => tag_values(&s.tags, other),
            });
        let groups = if admitted {
            vec![self.render_group()]
        } else {
            Vec::new()
        };
        Ok(paged(
            &req.query,
            groups,
            "TotalCount",
            "AutoScalingGroupSet",
        ))
    }

    fn render_group(&self) -> Value {
        let s = &self.surface;
        let id = self.names.get(self.group.id);
        let lc = self.current_lc();
        let instance_count = self.instances.iter().filter(|i| i.in_group).count();
        let forward: Vec<Value> = s
            .forward_load_balancers
            .iter()
            .map(|lb| {
                json!({
                    "LoadBalancerId": lb.load_balancer_id,
                    "ListenerId": lb.listener_id,
                    "TargetAttributes": lb.targets.iter().map(|(port, weight)| json!({"Port": port, "Weight": weight})).collect::<Vec<_>>(),
                    "LocationId": lb.location_id,
                    "Region": lb.region,
                })
            })
            .collect();
        let tags: Vec<Value> = s
            .tags
            .iter()
            .map(|(k, v)| json!({"Key": k, "Value": v, "ResourceType": "auto-scaling-group"}))
            .collect();
        let index_settings = json!({"Enabled": false, "BeginIndex": 0, "IndexLength": 0});
        json!({
            "AutoScalingGroupId": id,
            "AutoScalingGroupName": s.group_name,
            "AutoScalingGroupStatus": self.group.status,
            "CreatedTime": self.surface_time(SimTime::ZERO),
            "DefaultCooldown": 300,
            "DesiredCapacity": self.group.desired_capacity,
            "EnabledStatus": self.group.enabled,
            "ForwardLoadBalancerSet": forward,
            "InstanceCount": instance_count,
            "InServiceInstanceCount": self.in_service_count(),
            "LaunchConfigurationId": lc.spec.id,
            "LaunchConfigurationName": lc.spec.name,
            "LoadBalancerIdSet": strings(&s.classic_load_balancer_ids),
            "MaxSize": self.group.max_size,
            "MinSize": self.group.min_size,
            "ProjectId": s.project_id,
            "SubnetIdSet": strings(&s.subnet_ids),
            "TerminationPolicySet": ["OLDEST_INSTANCE"],
            "VpcId": s.vpc_id,
            "ZoneSet": strings(&s.zones),
            "RetryPolicy": "IMMEDIATE_RETRY",
            "InActivityStatus": if self.group_in_activity() { "IN_ACTIVITY" } else { "NOT_IN_ACTIVITY" },
            "Tags": tags,
            "ServiceSettings": {
                "ReplaceMonitorUnhealthy": self.replace_unhealthy,
                "ScalingMode": "CLASSIC_SCALING",
                "ReplaceLoadBalancerUnhealthy": false,
                "ReplaceMode": "RECREATE",
                "AutoUpdateInstanceTags": false,
                "DesiredCapacitySyncWithMaxMinSize": false,
                "PriorityScaleInUnhealthy": false,
            },
            "Ipv6AddressCount": 0,
            "MultiZoneSubnetPolicy": "PRIORITY",
            "HealthCheckType": "CVM",
            "LoadBalancerHealthCheckGracePeriod": 0,
            "InstanceAllocationPolicy": "LAUNCH_CONFIGURATION",
            "SpotMixedAllocationPolicy": {
                "BaseCapacity": 0,
                "OnDemandPercentageAboveBaseCapacity": 70,
                "SpotAllocationStrategy": "COST_OPTIMIZED",
                "CompensateWithBaseInstance": true,
            },
            "CapacityRebalance": false,
            "InstanceNameIndexSettings": index_settings,
            "HostNameIndexSettings": index_settings,
            "ConcurrentScaleOutForDesiredCapacity": false,
        })
    }

    // ------------------------------------------------------------------------------------
    // DescribeAutoScalingInstances
    // ------------------------------------------------------------------------------------

    /// Instances in the group, ordered by `AddTime` then id (OQ-89): a page boundary never
    /// moves while no instance joins, and a new instance goes last.
    pub(crate) fn describe_instances(
        &self,
        req: &DescribeInstancesRequest,
    ) -> Result<ApiOutput, ApiError> {
        crate::api::query::check_list(&req.query, &INSTANCES_LIST)?;
        let group = self.names.get(self.group.id);
        let mut members: Vec<&Instance> = self.instances.iter().filter(|i| i.in_group).collect();
        members.sort_by(|a, b| {
            a.add_time_unix_s
                .cmp(&b.add_time_unix_s)
                .then_with(|| self.compare_ids(a, b))
        });
        let set: Vec<Value> = members
            .into_iter()
            .filter(|i| {
                let id = self.names.get(i.id);
                req.query.admits(id, |name| match name {
                    "instance-id" => vec![id.to_string()],
                    "auto-scaling-group-id" => vec![group.to_string()],
                    // OQ-89: refreshsim models no private IP; the filter matches nothing.
                    _ => Vec::new(),
                })
            })
            .map(|i| self.render_instance(i))
            .collect();
        Ok(paged(
            &req.query,
            set,
            "TotalCount",
            "AutoScalingInstanceSet",
        ))
    }

    /// The launch-configuration version an instance was built from (version 0 before the
    /// scenario).
    fn instance_lc(&self, i: &Instance) -> &LaunchConfig {
        let version = i.config_version.unwrap_or(0) as usize;
        self.launch_configs
            .get(version)
            .unwrap_or_else(|| self.current_lc())
    }

    fn render_instance(&self, i: &Instance) -> Value {
        let group = self.names.get(self.group.id);
        let current = self.current_lc();
        let built = self.instance_lc(i);
        let placement = built
            .spec
            .stored
            .get("DisasterRecoverGroupIds")
            .cloned()
            .unwrap_or_else(|| json!([]));
        json!({
            "InstanceId": self.names.get(i.id),
            "AutoScalingGroupId": group,
            "LaunchConfigurationId": current.spec.id,
            "LaunchConfigurationName": current.spec.name,
            "LifeCycleState": i.state,
            "HealthStatus": i.health,
            "ProtectedFromScaleIn": i.protected,
            "Zone": self.surface.zone(i.zone),
            "CreationType": i.creation,
            "AddTime": crate::time::render_unix_secs(i.add_time_unix_s),
            "InstanceType": self.names.get(i.instance_type),
            "VersionNumber": built.version + 1,
            "AutoScalingGroupName": self.surface.group_name,
            "WarmupStatus": "NO_NEED_WARMUP",
            "DisasterRecoverGroupIds": placement,
        })
    }

    // ------------------------------------------------------------------------------------
    // DescribeAutoScalingActivities
    // ------------------------------------------------------------------------------------

    /// Scaling activities, newest first (`StartTime` descending, then id), as Tencent lists
    /// them (OQ-92).
    pub(crate) fn describe_scaling_activities(
        &self,
        req: &DescribeScalingActivitiesRequest,
    ) -> Result<ApiOutput, ApiError> {
        crate::api::query::check_list(&req.query, &SCALING_ACTIVITIES_LIST)?;
        let bound = |field: &str, text: &Option<String>| -> Result<Option<u64>, ApiError> {
            match text {
                None => Ok(None),
                Some(t) => parse_rfc3339_secs(t).map(Some).map_err(|why| {
                    ApiError::new(
                        ErrorCode::InvalidParameterValue,
                        format!("{field} must be YYYY-MM-DDThh:mm:ssZ: {why}"),
                    )
                }),
            }
        };
        let start = bound("StartTime", &req.start_time)?;
        let end = bound("EndTime", &req.end_time)?;
        let group = self.names.get(self.group.id);
        let unix = |t: SimTime| self.epoch.unix_secs() + t.as_ms() / 1000;
        let mut matched: Vec<&ScalingActivity> = self
            .scaling_activities
            .iter()
            .filter(|sa| {
                let id = self.names.get(sa.id);
                let in_window = req.query.ids.is_some()
                    || (start.is_none_or(|s| unix(sa.started) >= s)
                        && end.is_none_or(|e| sa.ended.is_some_and(|t| unix(t) <= e)));
                in_window
                    && req.query.admits(id, |name| match name {
                        "auto-scaling-group-id" => vec![group.to_string()],
                        "activity-status-code" => vec![sa.status.as_str().to_string()],
                        "activity-type" => vec![sa.activity_type.as_str().to_string()],
                        "activity-id" => vec![id.to_string()],
                        _ => Vec::new(),
                    })
            })
            .collect();
        matched.sort_by(|a, b| {
            b.started
                .cmp(&a.started)
                .then_with(|| self.names.get(a.id).cmp(self.names.get(b.id)))
        });
        let ops = self.ops_by_activity_and_instance();
        let set = matched
            .into_iter()
            .map(|sa| self.render_scaling_activity(sa, &ops))
            .collect();
        Ok(paged(&req.query, set, "TotalCount", "ActivitySet"))
    }

    /// (scaling activity id, instance) → its last operation.
    fn ops_by_activity_and_instance(&self) -> BTreeMap<(u32, u32), usize> {
        let mut map = BTreeMap::new();
        for (o, op) in self.ops.iter().enumerate() {
            map.insert((op.scaling_activity, op.instance), o);
        }
        map
    }

    fn scaling_index(&self, sa: &ScalingActivity) -> u32 {
        self.scaling_activities
            .iter()
            .position(|s| s.id == sa.id)
            .expect("listed activities exist") as u32
    }

    /// OQ-92: an instance's status within a scaling activity.
    fn related_status(
        &self,
        sa: &ScalingActivity,
        index: u32,
        instance: u32,
        ops: &BTreeMap<(u32, u32), usize>,
    ) -> (ScalingActivityStatus, String) {
        if let Some(&o) = ops.get(&(index, instance)) {
            let op = &self.ops[o];
            return match op.stage {
                super::world::OpStage::Finished if op.succeeded => {
                    (ScalingActivityStatus::Successful, String::new())
                }
                super::world::OpStage::Finished => (
                    ScalingActivityStatus::Failed,
                    match op.kind {
                        super::world::OpKind::Create => "instance creation failed".into(),
                        super::world::OpKind::Destroy | super::world::OpKind::Detach => {
                            "instance removal failed".into()
                        }
                    },
                ),
                super::world::OpStage::Hooks | super::world::OpStage::Working => {
                    (ScalingActivityStatus::Running, String::new())
                }
            };
        }
        let item = sa.refresh_activity.and_then(|a| {
            self.activities[a as usize]
                .items
                .iter()
                .find(|item| item.instance == instance)
        });
        match item {
            Some(item) if item.last_activity == Some(sa.id) => {
                let message = item.msg.render(&self.names);
                (item.status.scaling_status(), message)
            }
            // A later attempt (a RETRY) took the instance over: this attempt failed.
            Some(_) => (
                ScalingActivityStatus::Failed,
                "instance refresh attempt failed; retried by a later activity".into(),
            ),
            None => (sa.status, String::new()),
        }
    }

    fn render_scaling_activity(
        &self,
        sa: &ScalingActivity,
        ops: &BTreeMap<(u32, u32), usize>,
    ) -> Value {
        let index = self.scaling_index(sa);
        let related: Vec<(String, ScalingActivityStatus, String)> = sa
            .related
            .iter()
            .map(|&i| {
                let (status, message) = self.related_status(sa, index, i, ops);
                (
                    self.names.get(self.instances[i as usize].id).to_string(),
                    status,
                    message,
                )
            })
            .collect();
        let related_json: Vec<Value> = related
            .iter()
            .map(|(id, status, _)| json!({"InstanceId": id, "InstanceStatus": related_instance_status(*status)}))
            .collect();
        let failures: Vec<String> = related
            .iter()
            .filter(|(_, status, _)| *status == ScalingActivityStatus::Failed)
            .map(|(id, _, message)| {
                if message.is_empty() {
                    format!("{id}: failed")
                } else {
                    format!("{id}: {message}")
                }
            })
            .collect();
        let (message, simplified) = status_message(sa.status, &failures);
        let hooks: Vec<Value> = sa
            .hook_results
            .iter()
            .map(|h| {
                json!({
                    "LifecycleHookId": self.names.get(self.hooks[h.hook as usize].id),
                    "InstanceId": self.names.get(self.instances[h.instance as usize].id),
                    "InvocationId": "",
                    "InvokeCommandResult": "NONE",
                    "NotificationResult": "NONE",
                    "LifecycleActionResult": h.result,
                    "ResultReason": h.reason,
                })
            })
            .collect();
        let refresh = sa
            .refresh_activity
            .map(|a| self.names.get(self.activities[a as usize].id).to_string());
        json!({
            "AutoScalingGroupId": self.names.get(self.group.id),
            "ActivityId": self.names.get(sa.id),
            "ActivityType": sa.activity_type,
            "StatusCode": sa.status,
            "StatusMessage": message,
            "Cause": cause_text(sa.cause, sa.activity_type, refresh.as_deref()),
            "Description": description(sa.activity_type, sa.instances),
            "StartTime": self.surface_time(sa.started),
            "EndTime": sa.ended.map(|t| self.surface_time(t)),
            "CreatedTime": self.surface_time(sa.started),
            "ActivityRelatedInstanceSet": related_json,
            "StatusMessageSimplified": simplified,
            "LifecycleActionResultSet": hooks,
            "DetailedStatusMessageSet": [],
            "InvocationResultSet": [],
            "RelatedInstanceSet": related_json,
        })
    }

    // ------------------------------------------------------------------------------------
    // DescribeLaunchConfigurations
    // ------------------------------------------------------------------------------------

    /// The group's launch configuration as it is now (one configuration; its edits are
    /// versions, `VersionNumber`).
    pub(crate) fn describe_launch_configurations(
        &self,
        req: &ListRequest,
    ) -> Result<ApiOutput, ApiError> {
        crate::api::query::check_list(&req.query, &LAUNCH_CONFIGURATIONS_LIST)?;
        let lc = self.current_lc();
        let id = lc.spec.id.as_str();
        let tags = self.lc_tags(lc);
        let vague_ok = req
            .query
            .filters
            .iter()
            .flatten()
            .all(|f| f.name != "vague-launch-configuration-name" || vague(f, &lc.spec.name));
        let admitted = vague_ok
            && req.query.admits(id, |name| match name {
                "launch-configuration-id" => vec![id.to_string()],
                "launch-configuration-name" => vec![lc.spec.name.clone()],
                "vague-launch-configuration-name" => req
                    .query
                    .filters
                    .iter()
                    .flatten()
                    .filter(|f| f.name == name)
                    .flat_map(|f| f.values.clone())
                    .collect(),
                other => tag_values(&tags, other),
            });
        let set = if admitted {
            vec![self.render_launch_configuration(lc)]
        } else {
            Vec::new()
        };
        Ok(paged(
            &req.query,
            set,
            "TotalCount",
            "LaunchConfigurationSet",
        ))
    }

    /// A launch configuration's own tags (not its instances'): OQ-91, none can be set.
    fn lc_tags(&self, _lc: &LaunchConfig) -> Vec<(String, String)> {
        Vec::new()
    }

    fn render_launch_configuration(&self, lc: &LaunchConfig) -> Value {
        let spec = &lc.spec;
        let parsed = |text: &str| -> Option<Value> {
            if text.is_empty() {
                None
            } else {
                serde_json::from_str(text).ok()
            }
        };
        let mut map = Map::new();
        map.insert("ProjectId".into(), json!(self.surface.project_id));
        map.insert("LaunchConfigurationId".into(), json!(spec.id));
        for field in MODIFY_FIELDS {
            let stored = match field.name {
                "ImageId" => Some(json!(spec.image_id)),
                "UserData" => Some(json!(spec.user_data)),
                "EnhancedService" => parsed(&spec.enhanced_service),
                "HostNameSettings" => parsed(&spec.host_name),
                "LoginSettings" => parsed(&spec.login_settings),
                "InstanceTypes" => Some(
                    spec.stored
                        .get("InstanceTypes")
                        .cloned()
                        .unwrap_or_else(|| json!([spec.instance_type])),
                ),
                "LaunchConfigurationName" => Some(json!(spec.name)),
                other => spec.stored.get(other).cloned(),
            };
            map.insert(
                field.name.to_string(),
                lc_fields::render(field, stored.as_ref()),
            );
        }
        // OQ-91: Describe shows what the response model has; a never-set market option is
        // null, as Tencent documents for a configuration that is not SPOTPAID.
        if !spec.stored.contains_key("InstanceMarketOptions") {
            map.insert("InstanceMarketOptions".into(), Value::Null);
        }
        map.remove("InstanceTypesCheckPolicy");
        map.insert(
            "LastOperationInstanceTypesCheckPolicy".into(),
            spec.stored
                .get("InstanceTypesCheckPolicy")
                .cloned()
                .unwrap_or_else(|| json!("ANY")),
        );
        map.remove("Metadata");
        map.insert("InstanceType".into(), json!(spec.instance_type));
        map.insert(
            "AutoScalingGroupAbstractSet".into(),
            json!([{
                "AutoScalingGroupId": self.names.get(self.group.id),
                "AutoScalingGroupName": self.surface.group_name,
            }]),
        );
        map.insert(
            "CreatedTime".into(),
            json!(self.surface_time(SimTime::ZERO)),
        );
        map.insert("UpdatedTime".into(), json!(self.surface_time(lc.written)));
        map.insert("VersionNumber".into(), json!(lc.version + 1));
        map.insert(
            "LaunchConfigurationStatus".into(),
            json!(if self.missing_images.contains(&lc.image) {
                "IMAGE_ABNORMAL"
            } else {
                "NORMAL"
            }),
        );
        map.insert("Tags".into(), json!([]));
        Value::Object(map)
    }

    // ------------------------------------------------------------------------------------
    // DescribeLifecycleHooks
    // ------------------------------------------------------------------------------------

    /// The group's hooks in the order they run (§6.8).
    pub(crate) fn describe_lifecycle_hooks(
        &self,
        req: &ListRequest,
    ) -> Result<ApiOutput, ApiError> {
        crate::api::query::check_list(&req.query, &LIFECYCLE_HOOKS_LIST)?;
        let group = self.names.get(self.group.id);
        let set = self
            .hooks
            .iter()
            .filter(|h| {
                let id = self.names.get(h.id);
                req.query.admits(id, |name| match name {
                    "lifecycle-hook-id" | "lifecycle-hook-name" => vec![id.to_string()],
                    "auto-scaling-group-id" => vec![group.to_string()],
                    _ => Vec::new(),
                })
            })
            .map(|h| {
                json!({
                    "LifecycleHookId": self.names.get(h.id),
                    "LifecycleHookName": self.names.get(h.id),
                    "AutoScalingGroupId": group,
                    "DefaultResult": h.default_result,
                    "HeartbeatTimeout": h.heartbeat_timeout_ms / 1000,
                    "LifecycleTransition": h.transition,
                    "NotificationMetadata": "",
                    "CreatedTime": self.surface_time(SimTime::ZERO),
                    "NotificationTarget": {"TargetType": "", "QueueName": "", "TopicName": ""},
                    "LifecycleTransitionType": h.transition_type,
                    "LifecycleCommand": {"CommandId": "", "Parameters": ""},
                })
            })
            .collect();
        Ok(paged(&req.query, set, "TotalCount", "LifecycleHookSet"))
    }

    // ------------------------------------------------------------------------------------
    // DescribeAccountLimits
    // ------------------------------------------------------------------------------------

    pub(crate) fn describe_account_limits(&self) -> ApiOutput {
        let s = &self.surface;
        let mut map = Map::new();
        map.insert(
            "MaxNumberOfLaunchConfigurations".into(),
            json!(s.max_launch_configurations),
        );
        map.insert(
            "NumberOfLaunchConfigurations".into(),
            json!(s.launch_configurations),
        );
        map.insert("MaxNumberOfAutoScalingGroups".into(), json!(s.max_groups));
        map.insert("NumberOfAutoScalingGroups".into(), json!(s.groups));
        ApiOutput::Json(map)
    }

    /// The subnet an instance is in (OQ-89: the subnet at its zone's index).
    pub fn instance_subnet(&self, instance: u32) -> &str {
        self.surface.subnet(self.instances[instance as usize].zone)
    }
}

/// `ActivtyRelatedInstance.InstanceStatus` takes INIT, RUNNING, SUCCESSFUL or FAILED.
fn related_instance_status(status: ScalingActivityStatus) -> &'static str {
    match status {
        ScalingActivityStatus::Init => "INIT",
        ScalingActivityStatus::Running => "RUNNING",
        ScalingActivityStatus::Successful => "SUCCESSFUL",
        ScalingActivityStatus::PartiallySuccessful
        | ScalingActivityStatus::Failed
        | ScalingActivityStatus::Cancelled => "FAILED",
    }
}

/// OQ-92: `StatusMessage` and `StatusMessageSimplified`.
fn status_message(status: ScalingActivityStatus, failures: &[String]) -> (String, String) {
    match status {
        ScalingActivityStatus::Init => ("Activity is initializing.".into(), "INIT".into()),
        ScalingActivityStatus::Running => ("Activity is in progress.".into(), "RUNNING".into()),
        ScalingActivityStatus::Successful => ("Success".into(), "Success".into()),
        ScalingActivityStatus::Cancelled => (
            "Activity was cancelled: another scaling activity was running.".into(),
            "Cancelled".into(),
        ),
        ScalingActivityStatus::PartiallySuccessful | ScalingActivityStatus::Failed => {
            let simplified = if status == ScalingActivityStatus::Failed {
                "Failed"
            } else {
                "Partially successful"
            };
            let message = if failures.is_empty() {
                format!("{simplified}.")
            } else {
                format!("{simplified}: {}", failures.join("; "))
            };
            (message, simplified.into())
        }
    }
}

/// OQ-92: `Cause`, by what started the activity.
fn cause_text(
    cause: ScalingCause,
    activity_type: ScalingActivityType,
    refresh: Option<&str>,
) -> String {
    match cause {
        ScalingCause::Refresh => format!(
            "Activity was launched by instance refresh activity {}.",
            refresh.unwrap_or("")
        ),
        ScalingCause::Api => format!(
            "Activity was launched by a user request ({}).",
            match activity_type {
                ScalingActivityType::ScaleOut => "ScaleOutInstances",
                ScalingActivityType::ScaleIn => "ScaleInInstances",
                ScalingActivityType::RemoveInstances => "RemoveInstances",
                ScalingActivityType::DetachInstances => "DetachInstances",
                ScalingActivityType::AttachInstances
                | ScalingActivityType::TerminateInstancesUnexpectedly
                | ScalingActivityType::ReplaceUnhealthyInstance
                | ScalingActivityType::StartInstances
                | ScalingActivityType::StopInstances
                | ScalingActivityType::InvokeCommand
                | ScalingActivityType::ResetInstances => activity_type.as_str(),
            }
        ),
        ScalingCause::DesiredCapacity => "Activity was launched in response to a difference between desired capacity and actual capacity.".into(),
        ScalingCause::UnhealthyReplacement => {
            "Activity was launched in response to an unhealthy instance.".into()
        }
        ScalingCause::External => {
            "Activity was launched outside the simulated automation (a scenario event).".into()
        }
    }
}

/// OQ-92: `Description`.
fn description(activity_type: ScalingActivityType, instances: u32) -> String {
    let verb = match activity_type {
        ScalingActivityType::ScaleOut => "Create",
        ScalingActivityType::ScaleIn | ScalingActivityType::RemoveInstances => "Remove",
        ScalingActivityType::AttachInstances => "Attach",
        ScalingActivityType::DetachInstances => "Detach",
        ScalingActivityType::TerminateInstancesUnexpectedly => "Terminated outside Auto Scaling:",
        ScalingActivityType::ReplaceUnhealthyInstance => "Replace",
        ScalingActivityType::StartInstances => "Start",
        ScalingActivityType::StopInstances => "Stop",
        ScalingActivityType::InvokeCommand => "Invoke a command on",
        ScalingActivityType::ResetInstances => "Reset",
    };
    let noun = if instances == 1 {
        "instance"
    } else {
        "instances"
    };
    format!("{verb} {instances} {noun}")
}

/// Mapping of statuses into a scaling activity's vocabulary.
pub trait ScalingStatusOf {
    fn scaling_status(self) -> ScalingActivityStatus;
}

impl ScalingStatusOf for InstanceStatus {
    fn scaling_status(self) -> ScalingActivityStatus {
        match self {
            InstanceStatus::Waiting | InstanceStatus::Init => ScalingActivityStatus::Init,
            InstanceStatus::Running => ScalingActivityStatus::Running,
            InstanceStatus::Successful => ScalingActivityStatus::Successful,
            InstanceStatus::Failed | InstanceStatus::Cancelled | InstanceStatus::NotFound => {
                ScalingActivityStatus::Failed
            }
        }
    }
}
