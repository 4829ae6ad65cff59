//! The group APIs around a refresh (issue 14): DescribeAutoScalingGroups / Instances paging,
//! filters and every response field, DescribeAutoScalingActivities consistent with the
//! LastActivityIds of DescribeRefreshActivities, DescribeLaunchConfigurations after a
//! ModifyLaunchConfigurationAttributes of every field, DescribeLifecycleHooks and
//! DescribeAccountLimits; the scenario fields they show (OQ-89…OQ-93).

use crate::common::TemplateEdit;
use refreshsim::api::Action;
use refreshsim::scenario::{load_scenario, parse_scenario};
use refreshsim::serve::clock::ClockMode;
use refreshsim::serve::session::{Advance, DEFAULT_SESSION_LIMITS, Session, SessionTemplate};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Instant;

const FIXTURE: &str = "tests/fixtures/serve/surface.toml";
const GROUP: &str = "asg-surface1";

fn session() -> (SessionTemplate, Session) {
    let scenario = load_scenario(std::path::Path::new(FIXTURE)).unwrap();
    let template = SessionTemplate::new(scenario, 89, DEFAULT_SESSION_LIMITS).unwrap();
    let session = Session::new(&template, ClockMode::Manual, Instant::now());
    (template, session)
}

fn call(t: &SessionTemplate, s: &mut Session, action: &str, body: Value) -> Value {
    let action = Action::parse(action).unwrap();
    s.call(t, action, &body)["Response"].clone()
}

fn code(response: &Value) -> &str {
    response["Error"]["Code"].as_str().unwrap_or("OK")
}

fn instance_ids(response: &Value) -> Vec<String> {
    response["AutoScalingInstanceSet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["InstanceId"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn instances_page_20_by_default_at_most_100_without_duplicates() {
    let (t, mut s) = session();
    let first = call(&t, &mut s, "DescribeAutoScalingInstances", json!({}));
    assert_eq!(first["TotalCount"], 25);
    assert_eq!(instance_ids(&first).len(), 20);
    let one = call(
        &t,
        &mut s,
        "DescribeAutoScalingInstances",
        json!({"Limit": 1}),
    );
    assert_eq!(
        (one["TotalCount"].as_u64(), instance_ids(&one).len()),
        (Some(25), 1)
    );
    let mut seen = Vec::new();
    for offset in (0..25).step_by(7) {
        let page = call(
            &t,
            &mut s,
            "DescribeAutoScalingInstances",
            json!({"Limit": 7, "Offset": offset}),
        );
        seen.extend(instance_ids(&page));
    }
    let distinct: BTreeSet<_> = seen.iter().collect();
    assert_eq!(
        (seen.len(), distinct.len()),
        (25, 25),
        "pages overlap or miss"
    );
    assert_eq!(seen[..20], instance_ids(&first)[..], "the order is stable");
    for bad in [json!({"Limit": 101}), json!({"Limit": 1000})] {
        let r = call(&t, &mut s, "DescribeAutoScalingInstances", bad);
        assert_eq!(code(&r), "InvalidParameterValue.LimitExceeded");
    }
    let r = call(
        &t,
        &mut s,
        "DescribeAutoScalingInstances",
        json!({"Limit": "5"}),
    );
    assert_eq!(code(&r), "InvalidParameter");
    let r = call(
        &t,
        &mut s,
        "DescribeAutoScalingInstances",
        json!({"Limit": 100}),
    );
    assert_eq!(instance_ids(&r).len(), 25);
}

#[test]
fn instance_filters_and_ids_select() {
    let (t, mut s) = session();
    let all = instance_ids(&call(
        &t,
        &mut s,
        "DescribeAutoScalingInstances",
        json!({"Limit": 100}),
    ));
    let by_id = call(
        &t,
        &mut s,
        "DescribeAutoScalingInstances",
        json!({"InstanceIds": [all[3], "ins-nothere1"]}),
    );
    assert_eq!(instance_ids(&by_id), vec![all[3].clone()]);
    let other_group = call(
        &t,
        &mut s,
        "DescribeAutoScalingInstances",
        json!({"Filters": [{"Name": "auto-scaling-group-id", "Values": ["asg-other001"]}]}),
    );
    assert_eq!(other_group["TotalCount"], 0);
    let this_group = call(
        &t,
        &mut s,
        "DescribeAutoScalingInstances",
        json!({"Filters": [{"Name": "auto-scaling-group-id", "Values": [GROUP]},
                           {"Name": "instance-id", "Values": [all[0], all[1]]}]}),
    );
    assert_eq!(this_group["TotalCount"], 2);
    let ip = call(
        &t,
        &mut s,
        "DescribeAutoScalingInstances",
        json!({"Filters": [{"Name": "private-ip-address", "Values": ["10.0.0.1"]}]}),
    );
    assert_eq!(ip["TotalCount"], 0, "OQ-89: no private IPs are modelled");
    let conflict = call(
        &t,
        &mut s,
        "DescribeAutoScalingInstances",
        json!({"InstanceIds": [all[0]], "Filters": [{"Name": "instance-id", "Values": [all[0]]}]}),
    );
    assert_eq!(code(&conflict), "InvalidParameter.Conflict");
    let unknown = call(
        &t,
        &mut s,
        "DescribeAutoScalingInstances",
        json!({"Filters": [{"Name": "zone", "Values": ["x"]}]}),
    );
    assert_eq!(code(&unknown), "InvalidParameterValue.InvalidFilter");
}

#[test]
fn groups_show_every_scenario_field_and_filter_by_name_and_tag() {
    let (t, mut s) = session();
    let r = call(&t, &mut s, "DescribeAutoScalingGroups", json!({}));
    let g = &r["AutoScalingGroupSet"][0];
    assert_eq!(g["AutoScalingGroupName"], "web-surface");
    assert_eq!(g["VpcId"], "vpc-abc12345");
    assert_eq!(
        g["SubnetIdSet"],
        json!(["subnet-aaa11111", "subnet-bbb22222"])
    );
    assert_eq!(g["ZoneSet"], json!(["ap-guangzhou-3", "ap-guangzhou-4"]));
    assert_eq!(g["ProjectId"], 7);
    assert_eq!(g["LoadBalancerIdSet"], json!(["lb-classic01"]));
    assert_eq!(
        g["ForwardLoadBalancerSet"][0],
        json!({"LoadBalancerId": "lb-web00001", "ListenerId": "lbl-web00001",
               "TargetAttributes": [{"Port": 8080, "Weight": 20}], "LocationId": "", "Region": ""})
    );
    assert_eq!(g["LaunchConfigurationName"], "web-lc");
    assert_eq!(g["ServiceSettings"]["ScalingMode"], "CLASSIC_SCALING");
    let tags: BTreeSet<(String, String)> = g["Tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["Key"].as_str().unwrap().into(),
                t["Value"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(tags.contains(&("team".into(), "web".into())));
    let count = |s: &mut Session, filters: Value| {
        call(
            &t,
            s,
            "DescribeAutoScalingGroups",
            json!({"Filters": filters}),
        )["TotalCount"]
            .clone()
    };
    assert_eq!(
        count(
            &mut s,
            json!([{"Name": "auto-scaling-group-name", "Values": ["web-surface"]}])
        ),
        1
    );
    assert_eq!(
        count(
            &mut s,
            json!([{"Name": "auto-scaling-group-name", "Values": ["web"]}])
        ),
        0
    );
    assert_eq!(
        count(
            &mut s,
            json!([{"Name": "vague-auto-scaling-group-name", "Values": ["surf"]}])
        ),
        1
    );
    assert_eq!(
        count(
            &mut s,
            json!([{"Name": "vague-auto-scaling-group-name", "Values": ["db"]}])
        ),
        0
    );
    assert_eq!(
        count(
            &mut s,
            json!([{"Name": "launch-configuration-id", "Values": ["asc-surface1"]}])
        ),
        1
    );
    assert_eq!(
        count(&mut s, json!([{"Name": "tag-key", "Values": ["env"]}])),
        1
    );
    assert_eq!(
        count(&mut s, json!([{"Name": "tag-value", "Values": ["dev"]}])),
        0
    );
    assert_eq!(
        count(&mut s, json!([{"Name": "tag:team", "Values": ["web"]}])),
        1
    );
    assert_eq!(
        count(&mut s, json!([{"Name": "tag:team", "Values": ["db"]}])),
        0
    );
    assert_eq!(
        count(
            &mut s,
            json!([{"Name": "auto-scaling-group-id", "Values": ["asg-nothere1"]}])
        ),
        0
    );
    let bad = call(
        &t,
        &mut s,
        "DescribeAutoScalingGroups",
        json!({"Filters": [{"Name": "auto-scaling-group-id", "Values": ["nope"]}]}),
    );
    assert_eq!(code(&bad), "InvalidParameterValue.Filter");
    let paged = call(
        &t,
        &mut s,
        "DescribeAutoScalingGroups",
        json!({"Offset": 1}),
    );
    assert_eq!(
        (
            paged["TotalCount"].as_u64(),
            paged["AutoScalingGroupSet"].as_array().unwrap().len()
        ),
        (Some(1), 0)
    );
}

fn start(t: &SessionTemplate, s: &mut Session) -> String {
    let r = call(
        t,
        s,
        "StartInstanceRefresh",
        json!({"AutoScalingGroupId": GROUP, "RefreshSettings": {
            "CheckInstanceTargetHealth": true, "CheckInstanceTargetHealthTimeout": 60,
            "RollingUpdateSettings": {"BatchNumber": 5, "FailProcess": "AUTO_PAUSE"}}}),
    );
    r["RefreshActivityId"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"))
        .to_string()
}

#[test]
fn oq90_health_status_zone_and_version_after_a_refresh() {
    let (t, mut s) = session();
    start(&t, &mut s);
    s.advance(&t, Advance::Idle, Instant::now()).unwrap();
    let r = call(
        &t,
        &mut s,
        "DescribeAutoScalingInstances",
        json!({"Limit": 100}),
    );
    let set = r["AutoScalingInstanceSet"].as_array().unwrap();
    let unhealthy: Vec<&Value> = set
        .iter()
        .filter(|i| i["HealthStatus"] == "CLB_UNHEALTHY")
        .collect();
    assert_eq!(unhealthy.len(), 1, "{r}");
    assert!(
        set.iter().all(|i| i["Zone"] == "ap-guangzhou-3"),
        "generated instances: the first zone"
    );
    let refreshed = set.iter().filter(|i| i["VersionNumber"] == 1).count();
    assert_eq!(
        refreshed, 25,
        "no launch-configuration edit: version 1 everywhere"
    );
    assert!(
        set.iter()
            .all(|i| i["DisasterRecoverGroupIds"] == json!([]))
    );
}

#[test]
fn oq92_scaling_activities_match_the_last_activity_ids_and_page() {
    let (t, mut s) = session();
    let refresh = start(&t, &mut s);
    s.advance(&t, Advance::Idle, Instant::now()).unwrap();
    let describe = call(
        &t,
        &mut s,
        "DescribeRefreshActivities",
        json!({"RefreshActivityIds": [refresh]}),
    );
    let activity = &describe["RefreshActivitySet"][0];
    let mut last_ids = BTreeSet::new();
    let mut failed = None;
    for batch in activity["RefreshBatchSet"].as_array().unwrap() {
        for i in batch["RefreshBatchRelatedInstanceSet"].as_array().unwrap() {
            if let Some(id) = i["LastActivityId"].as_str().filter(|x| !x.is_empty()) {
                last_ids.insert(id.to_string());
                if i["InstanceStatus"] == "FAILED" {
                    failed = Some((
                        id.to_string(),
                        i["InstanceId"].as_str().unwrap().to_string(),
                    ));
                }
            }
        }
    }
    assert!(!last_ids.is_empty());
    let all = call(
        &t,
        &mut s,
        "DescribeAutoScalingActivities",
        json!({"Limit": 100}),
    );
    let ids: BTreeSet<String> = all["ActivitySet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["ActivityId"].as_str().unwrap().to_string())
        .collect();
    assert!(
        last_ids.is_subset(&ids),
        "every LastActivityId is a scaling activity"
    );
    let (failed_activity, failed_instance) = failed.expect("instance #3 failed its health check");
    let one = call(
        &t,
        &mut s,
        "DescribeAutoScalingActivities",
        json!({"ActivityIds": [failed_activity]}),
    );
    let a = &one["ActivitySet"][0];
    assert_eq!(a["ActivityType"], "RESET_INSTANCES");
    assert!(a["Cause"].as_str().unwrap().contains(&refresh), "{a}");
    assert!(
        a["StatusMessage"]
            .as_str()
            .unwrap()
            .contains(&failed_instance),
        "{a}"
    );
    let related: Vec<&Value> = a["ActivityRelatedInstanceSet"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["InstanceId"] == failed_instance.as_str())
        .collect();
    assert_eq!(related[0]["InstanceStatus"], "FAILED");
    assert_eq!(a["RelatedInstanceSet"], a["ActivityRelatedInstanceSet"]);
    // The EXTENSION terminating hook ran before each reinstall (OQ-14): one result per instance.
    let hooks = a["LifecycleActionResultSet"].as_array().unwrap();
    assert_eq!(
        hooks.len(),
        a["ActivityRelatedInstanceSet"].as_array().unwrap().len(),
        "{a}"
    );
    assert!(
        hooks
            .iter()
            .all(|h| h["LifecycleHookId"] == "ash-surface1"
                && h["LifecycleActionResult"] == "CONTINUE"),
        "{a}"
    );
    assert!(a["EndTime"].is_string() && a["StartTime"].is_string());
    // Newest first, and paging covers each once.
    let starts: Vec<&str> = all["ActivitySet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["StartTime"].as_str().unwrap())
        .collect();
    assert!(starts.windows(2).all(|w| w[0] >= w[1]), "{starts:?}");
    let page = call(
        &t,
        &mut s,
        "DescribeAutoScalingActivities",
        json!({"Limit": 1, "Offset": 1}),
    );
    assert_eq!(
        page["ActivitySet"][0]["ActivityId"],
        all["ActivitySet"][1]["ActivityId"]
    );
    let filtered = call(
        &t,
        &mut s,
        "DescribeAutoScalingActivities",
        json!({"Filters": [{"Name": "activity-status-code", "Values": ["SUCCESSFUL"]}]}),
    );
    assert!(
        filtered["ActivitySet"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["StatusCode"] == "SUCCESSFUL")
    );
    let bad = call(
        &t,
        &mut s,
        "DescribeAutoScalingActivities",
        json!({"Filters": [{"Name": "activity-type", "Values": ["REBOOT"]}]}),
    );
    assert_eq!(code(&bad), "InvalidParameterValue.Filter");
    let window = call(
        &t,
        &mut s,
        "DescribeAutoScalingActivities",
        json!({"StartTime": "2030-01-01T00:00:00Z"}),
    );
    assert_eq!(window["TotalCount"], 0);
    let bad_time = call(
        &t,
        &mut s,
        "DescribeAutoScalingActivities",
        json!({"StartTime": "yesterday"}),
    );
    assert_eq!(code(&bad_time), "InvalidParameterValue");
}

#[test]
fn manual_scale_out_is_a_scaling_activity_with_its_instances() {
    let (t, mut s) = session();
    let r = call(
        &t,
        &mut s,
        "ScaleOutInstances",
        json!({"AutoScalingGroupId": GROUP, "ScaleOutNumber": 2}),
    );
    let id = r["ActivityId"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"))
        .to_string();
    let running = call(
        &t,
        &mut s,
        "DescribeAutoScalingActivities",
        json!({"ActivityIds": [id]}),
    );
    assert_eq!(running["ActivitySet"][0]["StatusCode"], "RUNNING");
    assert_eq!(running["ActivitySet"][0]["EndTime"], Value::Null);
    s.advance(&t, Advance::Idle, Instant::now()).unwrap();
    let done = call(
        &t,
        &mut s,
        "DescribeAutoScalingActivities",
        json!({"ActivityIds": [id]}),
    );
    let a = &done["ActivitySet"][0];
    assert_eq!(a["StatusCode"], "SUCCESSFUL");
    assert_eq!(a["Description"], "Create 2 instances");
    assert_eq!(a["ActivityRelatedInstanceSet"].as_array().unwrap().len(), 2);
    assert!(
        a["ActivityRelatedInstanceSet"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["InstanceStatus"] == "SUCCESSFUL")
    );
    let instances = call(
        &t,
        &mut s,
        "DescribeAutoScalingInstances",
        json!({"Limit": 100}),
    );
    assert_eq!(instances["TotalCount"], 27);
    let set = instances["AutoScalingInstanceSet"].as_array().unwrap();
    let last_two: BTreeSet<&str> = set[25..]
        .iter()
        .map(|i| i["InstanceId"].as_str().unwrap())
        .collect();
    let created: BTreeSet<&str> = a["ActivityRelatedInstanceSet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["InstanceId"].as_str().unwrap())
        .collect();
    assert_eq!(last_two, created, "new instances page last");
}

#[test]
fn oq91_modify_takes_every_field_and_describe_shows_it() {
    let (t, mut s) = session();
    let body = json!({
        "LaunchConfigurationId": "asc-surface1",
        "ImageId": "img-v3",
        "InstanceTypes": ["S5.LARGE8", "S5.LARGE16"],
        "InstanceTypesCheckPolicy": "ALL",
        "LaunchConfigurationName": "web-lc-2",
        "UserData": "ZWNobyBoaQ==",
        "SecurityGroupIds": ["sg-1", "sg-2"],
        "InternetAccessible": {"InternetMaxBandwidthOut": 10, "PublicIpAssigned": true},
        "InstanceChargeType": "POSTPAID_BY_HOUR",
        "InstanceChargePrepaid": {"Period": 1},
        "InstanceMarketOptions": {"MarketType": "spot", "SpotOptions": {"MaxPrice": "1.05"}},
        "DiskTypePolicy": "AUTOMATIC",
        "SystemDisk": {"DiskType": "CLOUD_SSD", "DiskSize": 100},
        "DataDisks": [{"DiskType": "CLOUD_SSD", "DiskSize": 200}],
        "HostNameSettings": {"HostName": "web", "HostNameStyle": "UNIQUE"},
        "InstanceNameSettings": {"InstanceName": "web"},
        "EnhancedService": {"MonitorService": {"Enabled": false}},
        "CamRoleName": "role-web",
        "HpcClusterId": "hpc-1",
        "IPv6InternetAccessible": {"InternetMaxBandwidthOut": 5},
        "DisasterRecoverGroupIds": ["ps-1"],
        "LoginSettings": {"Password": "Secret-123", "KeyIds": ["skey-1"]},
        "InstanceTags": [{"Key": "team", "Value": "web"}],
        "ImageFamily": "family-1",
        "DedicatedClusterId": "cluster-1",
        "Metadata": {"Items": [{"Key": "k", "Value": "v"}]},
        "NetworkInterfaces": [{"InterfaceType": "PRIMARY"}],
    });
    assert_eq!(body.as_object().unwrap().len(), 27);
    let r = call(&t, &mut s, "ModifyLaunchConfigurationAttributes", body);
    assert_eq!(code(&r), "OK", "{r}");
    let d = call(&t, &mut s, "DescribeLaunchConfigurations", json!({}));
    let lc = &d["LaunchConfigurationSet"][0];
    assert_eq!(lc["LaunchConfigurationName"], "web-lc-2");
    assert_eq!(lc["ImageId"], "img-v3");
    assert_eq!(lc["InstanceType"], "S5.LARGE8");
    assert_eq!(lc["InstanceTypes"], json!(["S5.LARGE8", "S5.LARGE16"]));
    assert_eq!(lc["LastOperationInstanceTypesCheckPolicy"], "ALL");
    assert_eq!(lc["SecurityGroupIds"], json!(["sg-1", "sg-2"]));
    assert_eq!(
        lc["SystemDisk"],
        json!({"DiskType": "CLOUD_SSD", "DiskSize": 100, "Encrypt": false, "KmsKeyId": ""})
    );
    assert_eq!(lc["DataDisks"][0]["DiskSize"], 200);
    assert_eq!(
        lc["LoginSettings"],
        json!({"KeyIds": ["skey-1"]}),
        "the password is write-only"
    );
    assert_eq!(lc["EnhancedService"]["MonitorService"]["Enabled"], false);
    assert_eq!(lc["EnhancedService"]["SecurityService"]["Enabled"], true);
    assert_eq!(
        lc["InstanceMarketOptions"]["SpotOptions"]["MaxPrice"],
        "1.05"
    );
    assert_eq!(lc["VersionNumber"], 2);
    assert_eq!(lc["DisasterRecoverGroupIds"], json!(["ps-1"]));
    assert_eq!(
        lc["AutoScalingGroupAbstractSet"][0]["AutoScalingGroupName"],
        "web-surface"
    );
    let by_name = call(
        &t,
        &mut s,
        "DescribeLaunchConfigurations",
        json!({"Filters": [{"Name": "vague-launch-configuration-name", "Values": ["lc-2"]}]}),
    );
    assert_eq!(by_name["TotalCount"], 1);
    let none = call(
        &t,
        &mut s,
        "DescribeLaunchConfigurations",
        json!({"LaunchConfigurationIds": ["asc-other001"]}),
    );
    assert_eq!(none["TotalCount"], 0);
    // The group shows the new name; a scale-out builds from version 2.
    let g = call(&t, &mut s, "DescribeAutoScalingGroups", json!({}));
    assert_eq!(
        g["AutoScalingGroupSet"][0]["LaunchConfigurationName"],
        "web-lc-2"
    );
    call(
        &t,
        &mut s,
        "ScaleOutInstances",
        json!({"AutoScalingGroupId": GROUP, "ScaleOutNumber": 1}),
    );
    s.advance(&t, Advance::Idle, Instant::now()).unwrap();
    let i = call(
        &t,
        &mut s,
        "DescribeAutoScalingInstances",
        json!({"Offset": 25}),
    );
    assert_eq!(i["AutoScalingInstanceSet"][0]["VersionNumber"], 2);
    assert_eq!(i["AutoScalingInstanceSet"][0]["InstanceType"], "S5.LARGE8");
    assert_eq!(
        i["AutoScalingInstanceSet"][0]["DisasterRecoverGroupIds"],
        json!(["ps-1"])
    );
}

#[test]
fn oq91_modify_checks_types_and_names_of_nested_fields() {
    let (t, mut s) = session();
    let cases = [
        (
            json!({"SystemDisk": {"DiskSize": "100"}}),
            "InvalidParameter",
            "SystemDisk.DiskSize",
        ),
        (
            json!({"SystemDisk": {"Size": 1}}),
            "UnknownParameter",
            "SystemDisk.Size",
        ),
        (
            json!({"SecurityGroupIds": "sg-1"}),
            "InvalidParameter",
            "SecurityGroupIds",
        ),
        (
            json!({"DataDisks": [{"DiskSize": 1}, 2]}),
            "InvalidParameter",
            "DataDisks.1",
        ),
        (
            json!({"Metadata": {"Items": [{"Key": 1}]}}),
            "InvalidParameter",
            "Metadata.Items.0.Key",
        ),
        (
            json!({"SecurityGroups": ["sg-1"]}),
            "UnknownParameter",
            "SecurityGroups",
        ),
    ];
    for (fields, expected, path) in cases {
        let mut body = fields.clone();
        body["LaunchConfigurationId"] = json!("asc-surface1");
        let r = call(&t, &mut s, "ModifyLaunchConfigurationAttributes", body);
        assert_eq!(code(&r), expected, "{fields}: {r}");
        assert!(
            r["Error"]["Message"].as_str().unwrap().contains(path),
            "{r}"
        );
    }
    let d = call(&t, &mut s, "DescribeLaunchConfigurations", json!({}));
    assert_eq!(
        d["LaunchConfigurationSet"][0]["VersionNumber"], 1,
        "refused edits change nothing"
    );
}

#[test]
fn hooks_and_account_limits() {
    let (t, mut s) = session();
    let h = call(&t, &mut s, "DescribeLifecycleHooks", json!({}));
    assert_eq!(h["TotalCount"], 1);
    let hook = &h["LifecycleHookSet"][0];
    assert_eq!(hook["LifecycleHookId"], "ash-surface1");
    assert_eq!(hook["HeartbeatTimeout"], 60);
    assert_eq!(hook["LifecycleTransition"], "INSTANCE_TERMINATING");
    assert_eq!(hook["LifecycleTransitionType"], "EXTENSION");
    assert_eq!(hook["DefaultResult"], "CONTINUE");
    let none = call(
        &t,
        &mut s,
        "DescribeLifecycleHooks",
        json!({"Filters": [{"Name": "auto-scaling-group-id", "Values": ["asg-other001"]}]}),
    );
    assert_eq!(none["TotalCount"], 0);
    let limits = call(&t, &mut s, "DescribeAccountLimits", json!({}));
    assert_eq!(limits["MaxNumberOfAutoScalingGroups"], 50);
    assert_eq!(limits["NumberOfAutoScalingGroups"], 3);
    assert_eq!(limits["MaxNumberOfLaunchConfigurations"], 200);
    assert_eq!(limits["NumberOfLaunchConfigurations"], 1);
    let extra = call(&t, &mut s, "DescribeAccountLimits", json!({"Limit": 1}));
    assert_eq!(code(&extra), "UnknownParameter");
}

const MINIMAL: &str = r#"
[scenario]
name = "surface-defaults"
[group]
id = "asg-plain001"
size = 2
[launch_configuration]
image_id = "img-v2"
"#;

#[test]
fn oq89_oq93_defaults_and_bad_scenario_fields() {
    let scenario = parse_scenario("plain.toml", MINIMAL).unwrap();
    let t = SessionTemplate::new(scenario, 1, DEFAULT_SESSION_LIMITS).unwrap();
    let mut s = Session::new(&t, ClockMode::Manual, Instant::now());
    let g = call(&t, &mut s, "DescribeAutoScalingGroups", json!({}));
    let g = &g["AutoScalingGroupSet"][0];
    assert_eq!(g["AutoScalingGroupName"], "asg-plain001");
    assert_eq!(g["ForwardLoadBalancerSet"], json!([]));
    assert_eq!(g["VpcId"], "vpc-refreshsim");
    let limits = call(&t, &mut s, "DescribeAccountLimits", json!({}));
    assert_eq!(
        (
            limits["MaxNumberOfAutoScalingGroups"].as_u64(),
            limits["NumberOfAutoScalingGroups"].as_u64()
        ),
        (Some(200), Some(1))
    );
    let with_clb = MINIMAL.replace_once("size = 2", "size = 2\nforward_clb = true");
    let scenario = parse_scenario("clb.toml", &with_clb).unwrap();
    let t = SessionTemplate::new(scenario, 1, DEFAULT_SESSION_LIMITS).unwrap();
    let mut s = Session::new(&t, ClockMode::Manual, Instant::now());
    let g = call(&t, &mut s, "DescribeAutoScalingGroups", json!({}));
    assert_eq!(
        g["AutoScalingGroupSet"][0]["ForwardLoadBalancerSet"][0]["LoadBalancerId"],
        "lb-refreshsim"
    );
    for (extra, field) in [
        ("zones = []", "group.zones"),
        (
            "forward_clb = false\nload_balancers = [{ id = \"lb-1\", listener_id = \"lbl-1\" }]",
            "group.forward_clb",
        ),
        (
            "account_max_groups = 2\naccount_groups = 3",
            "group.account_groups",
        ),
        ("vpc = \"vpc-1\"", "vpc"),
    ] {
        let text = MINIMAL.replace_once("size = 2", &format!("size = 2\n{extra}"));
        let e = parse_scenario("bad.toml", &text).unwrap_err().to_string();
        assert!(e.contains(field), "{extra}: {e}");
    }
    let zoned = MINIMAL.replace_once(
        "size = 2",
        "zones = [\"ap-guangzhou-3\", \"ap-guangzhou-4\"]\ninstances = [{ id = \"ins-a\", zone = \"ap-guangzhou-4\" }, { id = \"ins-b\", zone = \"ap-shanghai-1\" }]",
    );
    let e = parse_scenario("zone.toml", &zoned).unwrap_err().to_string();
    assert!(e.contains("group.instances[1].zone"), "{e}");
}

#[test]
fn the_new_describe_calls_run_as_scenario_actions() {
    let text = format!(
        "{MINIMAL}\n[[actions]]\nid = \"acts\"\nat = \"0s\"\naction = \"DescribeAutoScalingActivities\"\n\n[[actions]]\nid = \"limits\"\nat = \"1s\"\naction = \"DescribeAccountLimits\"\n\n[[actions]]\nid = \"lcs\"\nat = \"1s\"\naction = \"DescribeLaunchConfigurations\"\n\n[[actions]]\nid = \"hooks\"\nat = \"1s\"\naction = \"DescribeLifecycleHooks\"\n\n[expect]\ncalls = [{{ action = \"acts\", code = \"OK\" }}, {{ action = \"limits\", code = \"OK\" }}, {{ action = \"lcs\", code = \"OK\" }}, {{ action = \"hooks\", code = \"OK\" }}]\nresponses = [{{ action = \"limits\", pointer = \"/Response/MaxNumberOfAutoScalingGroups\", equals = 200 }}, {{ action = \"lcs\", pointer = \"/Response/TotalCount\", equals = 1 }}]\n"
    );
    let scenario = parse_scenario("actions.toml", &text).unwrap();
    let run = refreshsim::run::run_scenario(&scenario, 1, true).unwrap();
    assert_eq!(run.expectations.len(), 2 + 4, "{:?}", run.expectations);
    assert!(run.expectations_hold(), "{:?}", run.expectations);
}
