//! Request structures of the refresh APIs and of the group APIs a refresh interacts with,
//! parsed from JSON bodies exactly as Tencent's API takes them (PascalCase field names from
//! `reference/autoscaling-refresh-api.json`).
//!
//! Parsing checks only shape: unknown fields, types and required fields. Value checks (enums,
//! ranges) and state checks happen in the documented order in `validate` and the model (OQ-27).

use super::body::{Body, required};
use super::error::ApiError;
use super::query::{FilterSpec, ListQuery, ListSpec, TAG_PREFIX, ValueRule, parse_list, read_list};
use serde_json::Value;
use std::collections::BTreeMap;

/// Declares the actions this simulator understands.
macro_rules! actions {
    ($($variant:ident,)+) => {
        /// An API action name (`X-TC-Action`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Action { $($variant,)+ }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$variant,)+];

            pub fn as_str(self) -> &'static str {
                match self { $(Action::$variant => stringify!($variant),)+ }
            }

            pub fn parse(text: &str) -> Option<Action> {
                match text { $(stringify!($variant) => Some(Action::$variant),)+ _ => None }
            }
        }
    };
}

actions! {
    StartInstanceRefresh,
    DescribeRefreshActivities,
    StopInstanceRefresh,
    ResumeInstanceRefresh,
    CancelInstanceRefresh,
    RollbackInstanceRefresh,
    EnableAutoScalingGroup,
    DisableAutoScalingGroup,
    RemoveInstances,
    DetachInstances,
    ScaleInInstances,
    ScaleOutInstances,
    ModifyLaunchConfigurationAttributes,
    CompleteLifecycleAction,
    ExecuteScalingPolicy,
    DescribeAutoScalingGroups,
    DescribeAutoScalingInstances,
    DescribeAutoScalingActivities,
    DescribeLaunchConfigurations,
    DescribeLifecycleHooks,
    DescribeAccountLimits,
}

impl Action {
    /// The six refresh APIs (spec §1).
    pub fn is_refresh_api(self) -> bool {
        match self {
            Action::StartInstanceRefresh
            | Action::DescribeRefreshActivities
            | Action::StopInstanceRefresh
            | Action::ResumeInstanceRefresh
            | Action::CancelInstanceRefresh
            | Action::RollbackInstanceRefresh => true,
            Action::EnableAutoScalingGroup
            | Action::DisableAutoScalingGroup
            | Action::RemoveInstances
            | Action::DetachInstances
            | Action::ScaleInInstances
            | Action::ScaleOutInstances
            | Action::ModifyLaunchConfigurationAttributes
            | Action::CompleteLifecycleAction
            | Action::ExecuteScalingPolicy
            | Action::DescribeAutoScalingGroups
            | Action::DescribeAutoScalingInstances
            | Action::DescribeAutoScalingActivities
            | Action::DescribeLaunchConfigurations
            | Action::DescribeLifecycleHooks
            | Action::DescribeAccountLimits => false,
        }
    }

    /// The read-only Describe actions, whose successful responses a timeline keeps.
    pub fn is_describe(self) -> bool {
        match self {
            Action::DescribeRefreshActivities
            | Action::DescribeAutoScalingGroups
            | Action::DescribeAutoScalingInstances
            | Action::DescribeAutoScalingActivities
            | Action::DescribeLaunchConfigurations
            | Action::DescribeLifecycleHooks
            | Action::DescribeAccountLimits => true,
            Action::StartInstanceRefresh
            | Action::StopInstanceRefresh
            | Action::ResumeInstanceRefresh
            | Action::CancelInstanceRefresh
            | Action::RollbackInstanceRefresh
            | Action::EnableAutoScalingGroup
            | Action::DisableAutoScalingGroup
            | Action::RemoveInstances
            | Action::DetachInstances
            | Action::ScaleInInstances
            | Action::ScaleOutInstances
            | Action::ModifyLaunchConfigurationAttributes
            | Action::CompleteLifecycleAction
            | Action::ExecuteScalingPolicy => false,
        }
    }

    /// Actions that change state and so need the `AS_QCSRole` role (§3.11: all refresh
    /// actions except Describe).
    pub fn needs_service_role(self) -> bool {
        match self {
            Action::StartInstanceRefresh
            | Action::StopInstanceRefresh
            | Action::ResumeInstanceRefresh
            | Action::CancelInstanceRefresh
            | Action::RollbackInstanceRefresh => true,
            Action::DescribeRefreshActivities
            | Action::EnableAutoScalingGroup
            | Action::DisableAutoScalingGroup
            | Action::RemoveInstances
            | Action::DetachInstances
            | Action::ScaleInInstances
            | Action::ScaleOutInstances
            | Action::ModifyLaunchConfigurationAttributes
            | Action::CompleteLifecycleAction
            | Action::ExecuteScalingPolicy
            | Action::DescribeAutoScalingGroups
            | Action::DescribeAutoScalingInstances
            | Action::DescribeAutoScalingActivities
            | Action::DescribeLaunchConfigurations
            | Action::DescribeLifecycleHooks
            | Action::DescribeAccountLimits => false,
        }
    }
}

impl Action {
    /// The field naming the refresh activity a call acts on, which a scenario action's `fill`
    /// sets when the body leaves it out (`None`: the action acts on no activity).
    pub fn activity_id_field(self) -> Option<&'static str> {
        match self {
            Action::StopInstanceRefresh
            | Action::ResumeInstanceRefresh
            | Action::CancelInstanceRefresh => Some("RefreshActivityId"),
            Action::RollbackInstanceRefresh => Some("OriginRefreshActivityId"),
            Action::StartInstanceRefresh
            | Action::DescribeRefreshActivities
            | Action::EnableAutoScalingGroup
            | Action::DisableAutoScalingGroup
            | Action::RemoveInstances
            | Action::DetachInstances
            | Action::ScaleInInstances
            | Action::ScaleOutInstances
            | Action::ModifyLaunchConfigurationAttributes
            | Action::CompleteLifecycleAction
            | Action::ExecuteScalingPolicy
            | Action::DescribeAutoScalingGroups
            | Action::DescribeAutoScalingInstances
            | Action::DescribeAutoScalingActivities
            | Action::DescribeLaunchConfigurations
            | Action::DescribeLifecycleHooks
            | Action::DescribeAccountLimits => None,
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `RollingUpdateSettings` as written (§2.2); values not yet checked.
#[derive(Debug, Clone, PartialEq)]
pub struct RollingUpdateSettingsInput {
    pub batch_number: Option<u64>,
    pub batch_pause: Option<String>,
    pub max_surge: Option<i64>,
    pub fail_process: Option<String>,
}

/// `RefreshSettings` as written (§2.1); values not yet checked.
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshSettingsInput {
    pub rolling_update_settings: Option<RollingUpdateSettingsInput>,
    pub check_instance_target_health: Option<bool>,
    pub check_instance_target_health_timeout: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StartInstanceRefreshRequest {
    pub auto_scaling_group_id: String,
    pub refresh_settings: RefreshSettingsInput,
    pub refresh_mode: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RollbackInstanceRefreshRequest {
    pub auto_scaling_group_id: String,
    pub refresh_settings: RefreshSettingsInput,
    pub origin_refresh_activity_id: String,
    pub refresh_mode: Option<String>,
}

/// Stop and Cancel take exactly these two fields.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityRequest {
    pub auto_scaling_group_id: String,
    pub refresh_activity_id: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResumeInstanceRefreshRequest {
    pub auto_scaling_group_id: String,
    pub refresh_activity_id: String,
    pub resume_mode: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub name: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct DescribeRefreshActivitiesRequest {
    pub refresh_activity_ids: Option<Vec<String>>,
    pub filters: Option<Vec<Filter>>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GroupRequest {
    pub auto_scaling_group_id: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InstancesRequest {
    pub auto_scaling_group_id: String,
    pub instance_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScaleRequest {
    pub auto_scaling_group_id: String,
    pub number: u64,
}

/// `ModifyLaunchConfigurationAttributes`: every field of its request model. The fields a
/// refresh or a new instance reads are typed; the others are kept as written (`stored`),
/// after a type check, for DescribeLaunchConfigurations (OQ-91).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ModifyLaunchConfigurationRequest {
    pub launch_configuration_id: String,
    pub image_id: Option<String>,
    pub user_data: Option<String>,
    pub enhanced_service: Option<Value>,
    pub host_name_settings: Option<Value>,
    pub login_settings: Option<Value>,
    pub instance_types: Option<Vec<String>>,
    /// The fields that change nothing in the model, by name.
    pub stored: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CompleteLifecycleActionRequest {
    pub lifecycle_hook_id: String,
    pub lifecycle_action_result: String,
    pub instance_id: Option<String>,
    pub lifecycle_action_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExecuteScalingPolicyRequest {
    pub auto_scaling_policy_id: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct DescribeGroupsRequest {
    pub query: ListQuery,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct DescribeInstancesRequest {
    pub query: ListQuery,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct DescribeScalingActivitiesRequest {
    pub query: ListQuery,
    /// ISO 8601 UTC bounds on the activities' start and end (ignored with `ActivityIds`).
    pub start_time: Option<String>,
    pub end_time: Option<String>,
}

/// DescribeLaunchConfigurations and DescribeLifecycleHooks take a list query only.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListRequest {
    pub query: ListQuery,
}

/// One parsed API call.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiCall {
    StartInstanceRefresh(StartInstanceRefreshRequest),
    DescribeRefreshActivities(DescribeRefreshActivitiesRequest),
    StopInstanceRefresh(ActivityRequest),
    ResumeInstanceRefresh(ResumeInstanceRefreshRequest),
    CancelInstanceRefresh(ActivityRequest),
    RollbackInstanceRefresh(RollbackInstanceRefreshRequest),
    EnableAutoScalingGroup(GroupRequest),
    DisableAutoScalingGroup(GroupRequest),
    RemoveInstances(InstancesRequest),
    DetachInstances(InstancesRequest),
    ScaleInInstances(ScaleRequest),
    ScaleOutInstances(ScaleRequest),
    ModifyLaunchConfigurationAttributes(ModifyLaunchConfigurationRequest),
    CompleteLifecycleAction(CompleteLifecycleActionRequest),
    ExecuteScalingPolicy(ExecuteScalingPolicyRequest),
    DescribeAutoScalingGroups(DescribeGroupsRequest),
    DescribeAutoScalingInstances(DescribeInstancesRequest),
    DescribeAutoScalingActivities(DescribeScalingActivitiesRequest),
    DescribeLaunchConfigurations(ListRequest),
    DescribeLifecycleHooks(ListRequest),
    DescribeAccountLimits,
}

impl ApiCall {
    pub fn action(&self) -> Action {
        match self {
            ApiCall::StartInstanceRefresh(_) => Action::StartInstanceRefresh,
            ApiCall::DescribeRefreshActivities(_) => Action::DescribeRefreshActivities,
            ApiCall::StopInstanceRefresh(_) => Action::StopInstanceRefresh,
            ApiCall::ResumeInstanceRefresh(_) => Action::ResumeInstanceRefresh,
            ApiCall::CancelInstanceRefresh(_) => Action::CancelInstanceRefresh,
            ApiCall::RollbackInstanceRefresh(_) => Action::RollbackInstanceRefresh,
            ApiCall::EnableAutoScalingGroup(_) => Action::EnableAutoScalingGroup,
            ApiCall::DisableAutoScalingGroup(_) => Action::DisableAutoScalingGroup,
            ApiCall::RemoveInstances(_) => Action::RemoveInstances,
            ApiCall::DetachInstances(_) => Action::DetachInstances,
            ApiCall::ScaleInInstances(_) => Action::ScaleInInstances,
            ApiCall::ScaleOutInstances(_) => Action::ScaleOutInstances,
            ApiCall::ModifyLaunchConfigurationAttributes(_) => {
                Action::ModifyLaunchConfigurationAttributes
            }
            ApiCall::CompleteLifecycleAction(_) => Action::CompleteLifecycleAction,
            ApiCall::ExecuteScalingPolicy(_) => Action::ExecuteScalingPolicy,
            ApiCall::DescribeAutoScalingGroups(_) => Action::DescribeAutoScalingGroups,
            ApiCall::DescribeAutoScalingInstances(_) => Action::DescribeAutoScalingInstances,
            ApiCall::DescribeAutoScalingActivities(_) => Action::DescribeAutoScalingActivities,
            ApiCall::DescribeLaunchConfigurations(_) => Action::DescribeLaunchConfigurations,
            ApiCall::DescribeLifecycleHooks(_) => Action::DescribeLifecycleHooks,
            ApiCall::DescribeAccountLimits => Action::DescribeAccountLimits,
        }
    }

    /// Parses a request body for `action`. Errors are Tencent's shape errors
    /// (`UnknownParameter`, `InvalidParameter`, `MissingParameter`).
    pub fn parse(action: Action, body: &Value) -> Result<ApiCall, ApiError> {
        match action {
            Action::StartInstanceRefresh => parse_start(body).map(ApiCall::StartInstanceRefresh),
            Action::DescribeRefreshActivities => {
                parse_describe(body).map(ApiCall::DescribeRefreshActivities)
            }
            Action::StopInstanceRefresh => {
                parse_activity_request(body).map(ApiCall::StopInstanceRefresh)
            }
            Action::ResumeInstanceRefresh => parse_resume(body).map(ApiCall::ResumeInstanceRefresh),
            Action::CancelInstanceRefresh => {
                parse_activity_request(body).map(ApiCall::CancelInstanceRefresh)
            }
            Action::RollbackInstanceRefresh => {
                parse_rollback(body).map(ApiCall::RollbackInstanceRefresh)
            }
            Action::EnableAutoScalingGroup => {
                parse_group_request(body).map(ApiCall::EnableAutoScalingGroup)
            }
            Action::DisableAutoScalingGroup => {
                parse_group_request(body).map(ApiCall::DisableAutoScalingGroup)
            }
            Action::RemoveInstances => parse_instances_request(body).map(ApiCall::RemoveInstances),
            Action::DetachInstances => parse_instances_request(body).map(ApiCall::DetachInstances),
            Action::ScaleInInstances => {
                parse_scale(body, "ScaleInNumber").map(ApiCall::ScaleInInstances)
            }
            Action::ScaleOutInstances => {
                parse_scale(body, "ScaleOutNumber").map(ApiCall::ScaleOutInstances)
            }
            Action::ModifyLaunchConfigurationAttributes => {
                parse_modify_lc(body).map(ApiCall::ModifyLaunchConfigurationAttributes)
            }
            Action::CompleteLifecycleAction => {
                parse_complete_hook(body).map(ApiCall::CompleteLifecycleAction)
            }
            Action::ExecuteScalingPolicy => {
                parse_execute_policy(body).map(ApiCall::ExecuteScalingPolicy)
            }
            Action::DescribeAutoScalingGroups => {
                parse_describe_groups(body).map(ApiCall::DescribeAutoScalingGroups)
            }
            Action::DescribeAutoScalingInstances => {
                parse_describe_instances(body).map(ApiCall::DescribeAutoScalingInstances)
            }
            Action::DescribeAutoScalingActivities => {
                parse_describe_scaling_activities(body).map(ApiCall::DescribeAutoScalingActivities)
            }
            Action::DescribeLaunchConfigurations => parse_list(body, &LAUNCH_CONFIGURATIONS_LIST)
                .map(|query| ApiCall::DescribeLaunchConfigurations(ListRequest { query })),
            Action::DescribeLifecycleHooks => parse_list(body, &LIFECYCLE_HOOKS_LIST)
                .map(|query| ApiCall::DescribeLifecycleHooks(ListRequest { query })),
            Action::DescribeAccountLimits => {
                Body::top(body, &[])?;
                Ok(ApiCall::DescribeAccountLimits)
            }
        }
    }
}

const ROLLING_FIELDS: &[&str] = &["BatchNumber", "BatchPause", "MaxSurge", "FailProcess"];
const SETTINGS_FIELDS: &[&str] = &[
    "RollingUpdateSettings",
    "CheckInstanceTargetHealth",
    "CheckInstanceTargetHealthTimeout",
];

/// Reads `RefreshSettings` types; required-ness is checked by the caller, after all types.
fn read_settings(body: &Body<'_>) -> Result<Option<RefreshSettingsInput>, ApiError> {
    let Some(settings) = body.object("RefreshSettings", SETTINGS_FIELDS)? else {
        return Ok(None);
    };
    let rolling = match settings.object("RollingUpdateSettings", ROLLING_FIELDS)? {
        None => None,
        Some(r) => Some(RollingUpdateSettingsInput {
            batch_number: r.uint("BatchNumber")?,
            batch_pause: r.string("BatchPause")?,
            max_surge: r.int("MaxSurge")?,
            fail_process: r.string("FailProcess")?,
        }),
    };
    Ok(Some(RefreshSettingsInput {
        rolling_update_settings: rolling,
        check_instance_target_health: settings.boolean("CheckInstanceTargetHealth")?,
        check_instance_target_health_timeout: settings.uint("CheckInstanceTargetHealthTimeout")?,
    }))
}

/// OQ-27 step 3: `RefreshSettings`, `RollingUpdateSettings` and `BatchNumber` are required.
fn require_settings(
    body: &Body<'_>,
    settings: Option<RefreshSettingsInput>,
) -> Result<RefreshSettingsInput, ApiError> {
    let settings = required(settings, body, "RefreshSettings")?;
    let Some(rolling) = &settings.rolling_update_settings else {
        return Err(ApiError::new(
            super::error::ErrorCode::MissingParameter,
            "The parameter `RefreshSettings.RollingUpdateSettings` is required",
        ));
    };
    if rolling.batch_number.is_none() {
        return Err(ApiError::new(
            super::error::ErrorCode::MissingParameter,
            "The parameter `RefreshSettings.RollingUpdateSettings.BatchNumber` is required",
        ));
    }
    Ok(settings)
}

fn parse_start(value: &Value) -> Result<StartInstanceRefreshRequest, ApiError> {
    let body = Body::top(
        value,
        &["AutoScalingGroupId", "RefreshSettings", "RefreshMode"],
    )?;
    let group = body.string("AutoScalingGroupId")?;
    let settings = read_settings(&body)?;
    let mode = body.string("RefreshMode")?;
    Ok(StartInstanceRefreshRequest {
        auto_scaling_group_id: required(group, &body, "AutoScalingGroupId")?,
        refresh_settings: require_settings(&body, settings)?,
        refresh_mode: mode,
    })
}

fn parse_rollback(value: &Value) -> Result<RollbackInstanceRefreshRequest, ApiError> {
    let body = Body::top(
        value,
        &[
            "AutoScalingGroupId",
            "RefreshSettings",
            "OriginRefreshActivityId",
            "RefreshMode",
        ],
    )?;
    let group = body.string("AutoScalingGroupId")?;
    let settings = read_settings(&body)?;
    let origin = body.string("OriginRefreshActivityId")?;
    let mode = body.string("RefreshMode")?;
    Ok(RollbackInstanceRefreshRequest {
        auto_scaling_group_id: required(group, &body, "AutoScalingGroupId")?,
        refresh_settings: require_settings(&body, settings)?,
        origin_refresh_activity_id: required(origin, &body, "OriginRefreshActivityId")?,
        refresh_mode: mode,
    })
}

fn parse_activity_request(value: &Value) -> Result<ActivityRequest, ApiError> {
    let body = Body::top(value, &["AutoScalingGroupId", "RefreshActivityId"])?;
    let group = body.string("AutoScalingGroupId")?;
    let activity = body.string("RefreshActivityId")?;
    Ok(ActivityRequest {
        auto_scaling_group_id: required(group, &body, "AutoScalingGroupId")?,
        refresh_activity_id: required(activity, &body, "RefreshActivityId")?,
    })
}

fn parse_resume(value: &Value) -> Result<ResumeInstanceRefreshRequest, ApiError> {
    let body = Body::top(
        value,
        &["AutoScalingGroupId", "RefreshActivityId", "ResumeMode"],
    )?;
    let group = body.string("AutoScalingGroupId")?;
    let activity = body.string("RefreshActivityId")?;
    let mode = body.string("ResumeMode")?;
    Ok(ResumeInstanceRefreshRequest {
        auto_scaling_group_id: required(group, &body, "AutoScalingGroupId")?,
        refresh_activity_id: required(activity, &body, "RefreshActivityId")?,
        resume_mode: mode,
    })
}

fn parse_describe(value: &Value) -> Result<DescribeRefreshActivitiesRequest, ApiError> {
    let body = Body::top(value, &["RefreshActivityIds", "Filters", "Limit", "Offset"])?;
    let ids = body.strings("RefreshActivityIds")?;
    let filters = match body.objects("Filters", &["Name", "Values"])? {
        None => None,
        Some(items) => {
            let mut filters = Vec::with_capacity(items.len());
            for item in &items {
                let name = item.string("Name")?;
                let values = item.strings("Values")?;
                filters.push(Filter {
                    name: required(name, item, "Name")?,
                    values: required(values, item, "Values")?,
                });
            }
            Some(filters)
        }
    };
    Ok(DescribeRefreshActivitiesRequest {
        refresh_activity_ids: ids,
        filters,
        limit: body.uint("Limit")?,
        offset: body.uint("Offset")?,
    })
}

fn parse_group_request(value: &Value) -> Result<GroupRequest, ApiError> {
    let body = Body::top(value, &["AutoScalingGroupId"])?;
    let group = body.string("AutoScalingGroupId")?;
    Ok(GroupRequest {
        auto_scaling_group_id: required(group, &body, "AutoScalingGroupId")?,
    })
}

fn parse_instances_request(value: &Value) -> Result<InstancesRequest, ApiError> {
    let body = Body::top(value, &["AutoScalingGroupId", "InstanceIds"])?;
    let group = body.string("AutoScalingGroupId")?;
    let ids = body.strings("InstanceIds")?;
    Ok(InstancesRequest {
        auto_scaling_group_id: required(group, &body, "AutoScalingGroupId")?,
        instance_ids: required(ids, &body, "InstanceIds")?,
    })
}

fn parse_scale(value: &Value, number_field: &str) -> Result<ScaleRequest, ApiError> {
    let body = Body::top(value, &["AutoScalingGroupId", number_field])?;
    let group = body.string("AutoScalingGroupId")?;
    let number = body.uint(number_field)?;
    Ok(ScaleRequest {
        auto_scaling_group_id: required(group, &body, "AutoScalingGroupId")?,
        number: required(number, &body, number_field)?,
    })
}

fn parse_modify_lc(value: &Value) -> Result<ModifyLaunchConfigurationRequest, ApiError> {
    use super::lc_fields::{MODELLED, MODIFY_FIELDS, check};
    let mut known: Vec<&str> = MODIFY_FIELDS.iter().map(|f| f.name).collect();
    known.push("LaunchConfigurationId");
    let body = Body::top(value, &known)?;
    let id = body.string("LaunchConfigurationId")?;
    let present = |name: &str| value.get(name).filter(|v| !v.is_null());
    let mut stored = BTreeMap::new();
    for field in MODIFY_FIELDS {
        if let Some(v) = present(field.name) {
            check(field.name, field.ty, v)?;
            if !MODELLED.contains(&field.name) {
                stored.insert(field.name.to_string(), v.clone());
            }
        }
    }
    Ok(ModifyLaunchConfigurationRequest {
        image_id: body.string("ImageId")?,
        user_data: body.string("UserData")?,
        enhanced_service: present("EnhancedService").cloned(),
        host_name_settings: present("HostNameSettings").cloned(),
        login_settings: present("LoginSettings").cloned(),
        instance_types: body.strings("InstanceTypes")?,
        stored,
        launch_configuration_id: required(id, &body, "LaunchConfigurationId")?,
    })
}

fn parse_complete_hook(value: &Value) -> Result<CompleteLifecycleActionRequest, ApiError> {
    let body = Body::top(
        value,
        &[
            "LifecycleHookId",
            "LifecycleActionResult",
            "InstanceId",
            "LifecycleActionToken",
        ],
    )?;
    let hook = body.string("LifecycleHookId")?;
    let result = body.string("LifecycleActionResult")?;
    let instance = body.string("InstanceId")?;
    let token = body.string("LifecycleActionToken")?;
    Ok(CompleteLifecycleActionRequest {
        lifecycle_hook_id: required(hook, &body, "LifecycleHookId")?,
        lifecycle_action_result: required(result, &body, "LifecycleActionResult")?,
        instance_id: instance,
        lifecycle_action_token: token,
    })
}

fn parse_execute_policy(value: &Value) -> Result<ExecuteScalingPolicyRequest, ApiError> {
    let body = Body::top(
        value,
        &["AutoScalingPolicyId", "HonorCooldown", "TriggerSource"],
    )?;
    let id = body.string("AutoScalingPolicyId")?;
    body.boolean("HonorCooldown")?;
    body.string("TriggerSource")?;
    Ok(ExecuteScalingPolicyRequest {
        auto_scaling_policy_id: required(id, &body, "AutoScalingPolicyId")?,
    })
}

const fn filter(name: &'static str, rule: ValueRule) -> FilterSpec {
    FilterSpec { name, rule }
}

fn is_scaling_status(v: &str) -> bool {
    super::ScalingActivityStatus::parse(v).is_some()
}

fn is_scaling_type(v: &str) -> bool {
    super::ScalingActivityType::parse(v).is_some()
}

/// The filters each Describe action documents (the SDK's request models).
pub const GROUPS_LIST: ListSpec = ListSpec {
    ids_field: "AutoScalingGroupIds",
    filters: &[
        filter("auto-scaling-group-id", ValueRule::IdPrefix("asg-")),
        filter("auto-scaling-group-name", ValueRule::Any),
        filter("vague-auto-scaling-group-name", ValueRule::Any),
        filter("launch-configuration-id", ValueRule::Any),
        filter("tag-key", ValueRule::Any),
        filter("tag-value", ValueRule::Any),
        filter(TAG_PREFIX, ValueRule::Any),
    ],
};

pub const INSTANCES_LIST: ListSpec = ListSpec {
    ids_field: "InstanceIds",
    filters: &[
        filter("instance-id", ValueRule::Any),
        filter("auto-scaling-group-id", ValueRule::IdPrefix("asg-")),
        filter("private-ip-address", ValueRule::Any),
    ],
};

pub const SCALING_ACTIVITIES_LIST: ListSpec = ListSpec {
    ids_field: "ActivityIds",
    filters: &[
        filter("auto-scaling-group-id", ValueRule::IdPrefix("asg-")),
        filter("activity-status-code", ValueRule::OneOf(is_scaling_status)),
        filter("activity-type", ValueRule::OneOf(is_scaling_type)),
        filter("activity-id", ValueRule::Any),
    ],
};

pub const LAUNCH_CONFIGURATIONS_LIST: ListSpec = ListSpec {
    ids_field: "LaunchConfigurationIds",
    filters: &[
        filter("launch-configuration-id", ValueRule::Any),
        filter("launch-configuration-name", ValueRule::Any),
        filter("vague-launch-configuration-name", ValueRule::Any),
        filter("tag-key", ValueRule::Any),
        filter("tag-value", ValueRule::Any),
        filter(TAG_PREFIX, ValueRule::Any),
    ],
};

pub const LIFECYCLE_HOOKS_LIST: ListSpec = ListSpec {
    ids_field: "LifecycleHookIds",
    filters: &[
        filter("lifecycle-hook-id", ValueRule::Any),
        filter("lifecycle-hook-name", ValueRule::Any),
        filter("auto-scaling-group-id", ValueRule::IdPrefix("asg-")),
    ],
};

fn parse_describe_groups(value: &Value) -> Result<DescribeGroupsRequest, ApiError> {
    parse_list(value, &GROUPS_LIST).map(|query| DescribeGroupsRequest { query })
}

fn parse_describe_instances(value: &Value) -> Result<DescribeInstancesRequest, ApiError> {
    parse_list(value, &INSTANCES_LIST).map(|query| DescribeInstancesRequest { query })
}

fn parse_describe_scaling_activities(
    value: &Value,
) -> Result<DescribeScalingActivitiesRequest, ApiError> {
    let [ids, filters, limit, offset] = SCALING_ACTIVITIES_LIST.fields();
    let body = Body::top(
        value,
        &[ids, filters, limit, offset, "StartTime", "EndTime"],
    )?;
    let query = read_list(&body, &SCALING_ACTIVITIES_LIST)?;
    Ok(DescribeScalingActivitiesRequest {
        query,
        start_time: body.string("StartTime")?,
        end_time: body.string("EndTime")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::error::ErrorCode;
    use serde_json::json;

    fn start(body: Value) -> Result<ApiCall, ApiError> {
        ApiCall::parse(Action::StartInstanceRefresh, &body)
    }

    #[test]
    fn s_cli_ex_start_example_parses() {
        let call = start(json!({
            "AutoScalingGroupId": "asg-9dn1a5y6",
            "RefreshMode": "ROLLING_UPDATE_RESET",
            "RefreshSettings": {"RollingUpdateSettings": {"BatchNumber": 3, "BatchPause": "BATCH_INTERVAL_PAUSE"}}
        }))
        .unwrap();
        let ApiCall::StartInstanceRefresh(req) = call else {
            panic!()
        };
        assert_eq!(req.auto_scaling_group_id, "asg-9dn1a5y6");
        let rolling = req.refresh_settings.rolling_update_settings.unwrap();
        assert_eq!(rolling.batch_number, Some(3));
        assert_eq!(rolling.batch_pause.as_deref(), Some("BATCH_INTERVAL_PAUSE"));
    }

    #[test]
    fn oq27_step3_missing_parameters_in_order() {
        let e = start(json!({})).unwrap_err();
        assert_eq!(e.code, ErrorCode::MissingParameter);
        assert!(e.message.contains("AutoScalingGroupId"));
        let e = start(json!({"AutoScalingGroupId": "asg-1"})).unwrap_err();
        assert!(e.message.contains("`RefreshSettings`"), "{e}");
        let e = start(json!({"AutoScalingGroupId": "asg-1", "RefreshSettings": {}})).unwrap_err();
        assert!(e.message.contains("RollingUpdateSettings"), "{e}");
        let e = start(json!({"AutoScalingGroupId": "asg-1", "RefreshSettings": {"RollingUpdateSettings": {}}}))
            .unwrap_err();
        assert!(e.message.contains("BatchNumber"), "{e}");
    }

    #[test]
    fn unknown_fields_are_unknown_parameter_not_ignored() {
        let e = start(json!({"AutoScalingGroupId": "asg-1", "BatchNumber": 3})).unwrap_err();
        assert_eq!(e.code, ErrorCode::UnknownParameter);
        let e = start(json!({"AutoScalingGroupId": "asg-1",
            "RefreshSettings": {"RollingUpdateSettings": {"BatchNumber": 1, "Batchpause": "AUTOMATIC"}}}))
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::UnknownParameter);
        assert!(
            e.message
                .contains("RefreshSettings.RollingUpdateSettings.Batchpause"),
            "{e}"
        );
    }

    #[test]
    fn wrong_types_are_invalid_parameter() {
        let e = start(json!({"AutoScalingGroupId": 7})).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidParameter);
        let e = start(json!({"AutoScalingGroupId": "asg-1",
            "RefreshSettings": {"RollingUpdateSettings": {"BatchNumber": -1}}}))
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidParameter);
        let e = start(json!([1])).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidParameter);
    }

    #[test]
    fn type_errors_come_before_missing_parameters() {
        // The group id is missing AND RefreshMode has the wrong type: the type error wins.
        let e = start(json!({"RefreshMode": 1})).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidParameter);
    }

    #[test]
    fn null_is_treated_as_absent() {
        let e = start(json!({"AutoScalingGroupId": null})).unwrap_err();
        assert_eq!(e.code, ErrorCode::MissingParameter);
    }

    #[test]
    fn action_names_round_trip() {
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(*a));
        }
        assert_eq!(Action::parse("StartInstanceRefreshX"), None);
    }
}
