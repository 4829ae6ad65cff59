"""The group APIs around a refresh (issue 14), through the Tencent Cloud Python SDK's own models
with Python warnings as errors, so a field the SDK's model does not know fails the test:

- a conformance test: for every response model the SDK defines for these actions, every
  attribute is present in the JSON with the type the model's docstring gives (null only where
  the SDK documents "may return null", or per OQ-92 an unfinished activity's EndTime);
- each action driven with the SDK's request models: paging through instances, filters,
  DescribeAutoScalingActivities following a LastActivityId, ModifyLaunchConfigurationAttributes
  with every field of its request model, then DescribeLaunchConfigurations.

World: tests/fixtures/serve/surface.toml (25 instances, a forward CLB, a hook, instance #3
failing its target-health check).
"""

import json
import re

import pytest
from conftest import ROOT, poll_until
from tencentcloud.autoscaling.v20180419 import models

pytestmark = pytest.mark.filterwarnings("error")

SCENARIO = ROOT / "tests/fixtures/serve/surface.toml"
GROUP = "asg-surface1"

ACTIONS = [
    "DescribeAutoScalingGroups",
    "DescribeAutoScalingInstances",
    "DescribeAutoScalingActivities",
    "DescribeLaunchConfigurations",
    "DescribeLifecycleHooks",
    "DescribeAccountLimits",
]

JSON_TYPES = {"str": str, "int": int, "bool": bool, "float": (int, float)}


def fields_of(model):
    """(name, type text, nullable) of a model's attributes, from its docstring."""
    doc = model.__init__.__doc__ or ""
    out = []
    for m in re.finditer(r":param _(\w+): (.*?)\n\s*:type \1: (.*?)\n", doc, re.S):
        out.append((m.group(1), m.group(3).strip(), "可能返回 null" in m.group(2)))
    return out


def check_model(model, value, path, problems, nullable_extra):
    for name, type_text, nullable in fields_of(model):
        where = f"{path}.{name}"
        if name == "RequestId" and path.count(".") > 0:
            continue
        if name not in value:
            problems.append(f"{where}: missing")
            continue
        v = value[name]
        if v is None:
            if not (nullable or where in nullable_extra):
                problems.append(f"{where}: null")
            continue
        check_type(type_text, v, where, problems, nullable_extra)
    extra = set(value) - {n for n, _, _ in fields_of(model)}
    if extra:
        problems.append(f"{path}: unknown fields {sorted(extra)}")


def check_type(type_text, v, where, problems, nullable_extra):
    if type_text.startswith("list of "):
        if not isinstance(v, list):
            problems.append(f"{where}: expected a list, found {type(v).__name__}")
            return
        for i, item in enumerate(v):
            check_type(type_text[len("list of "):], item, f"{where}[{i}]", problems, nullable_extra)
        return
    base = type_text.split(".")[-1].strip("`")
    if base in JSON_TYPES:
        ok = isinstance(v, JSON_TYPES[base]) and not (base == "int" and isinstance(v, bool))
        if not ok:
            problems.append(f"{where}: expected {base}, found {type(v).__name__}")
        return
    model = getattr(models, base)
    if not isinstance(v, dict):
        problems.append(f"{where}: expected an object ({base}), found {type(v).__name__}")
        return
    check_model(model, v, where, problems, nullable_extra)


def raw(server, action, body):
    """The JSON response of a call, through the SDK's generic client (no model in between)."""
    return server.common_client().call_json(action, body)["Response"]


def settled_server(serve):
    """A server after a refresh with a health-check failure and a manual scale-out."""
    server = serve(SCENARIO)
    client = server.client()
    request = models.StartInstanceRefreshRequest()
    request.from_json_string(json.dumps({
        "AutoScalingGroupId": GROUP,
        "RefreshSettings": {
            "CheckInstanceTargetHealth": True,
            "CheckInstanceTargetHealthTimeout": 60,
            "RollingUpdateSettings": {"BatchNumber": 5},
        },
    }))
    activity = client.StartInstanceRefresh(request).RefreshActivityId
    poll_until(server, client, activity, lambda a: a.Status in ("FAILED_PAUSE", "SUCCESSFUL"))
    return server, client, activity


def test_every_response_model_attribute_is_present_with_its_type(serve):
    server, client, _ = settled_server(serve)
    for action in ACTIONS:
        response = raw(server, action, {})
        assert "Error" not in response, response
        problems = []
        check_model(getattr(models, f"{action}Response"), response, action, problems, set())
        assert not problems, problems
    # A running activity: EndTime is null (OQ-92), every other field typed.
    out = models.ScaleOutInstancesRequest()
    out.AutoScalingGroupId = GROUP
    out.ScaleOutNumber = 1
    activity_id = client.ScaleOutInstances(out).ActivityId
    response = raw(server, "DescribeAutoScalingActivities", {"ActivityIds": [activity_id]})
    problems = []
    check_model(models.DescribeAutoScalingActivitiesResponse, response, "DescribeAutoScalingActivities", problems,
                {"DescribeAutoScalingActivities.ActivitySet[0].EndTime"})
    assert not problems, problems


def test_paging_through_instances_with_the_sdk_models(serve):
    server = serve(SCENARIO)
    client = server.client()
    seen = []
    offset = 0
    while True:
        request = models.DescribeAutoScalingInstancesRequest()
        request.Limit = 10
        request.Offset = offset
        response = client.DescribeAutoScalingInstances(request)
        assert response.TotalCount == 25
        seen += [i.InstanceId for i in response.AutoScalingInstanceSet]
        offset += 10
        if offset >= response.TotalCount:
            break
    assert len(seen) == len(set(seen)) == 25
    default = client.DescribeAutoScalingInstances(models.DescribeAutoScalingInstancesRequest())
    assert len(default.AutoScalingInstanceSet) == 20
    f = models.Filter()
    f.Name = "auto-scaling-group-id"
    f.Values = ["asg-other001"]
    request = models.DescribeAutoScalingInstancesRequest()
    request.Filters = [f]
    assert client.DescribeAutoScalingInstances(request).TotalCount == 0


def test_following_last_activity_ids_to_the_failure(serve):
    server, client, activity = settled_server(serve)
    request = models.DescribeRefreshActivitiesRequest()
    request.RefreshActivityIds = [activity]
    refresh = client.DescribeRefreshActivities(request).RefreshActivitySet[0]
    failed = [i for b in refresh.RefreshBatchSet for i in b.RefreshBatchRelatedInstanceSet
              if i.InstanceStatus == "FAILED"]
    assert failed, "instance #3 fails its target-health check"
    lookup = models.DescribeAutoScalingActivitiesRequest()
    lookup.ActivityIds = [failed[0].LastActivityId]
    (scaling,) = client.DescribeAutoScalingActivities(lookup).ActivitySet
    assert scaling.ActivityType == "RESET_INSTANCES"
    assert failed[0].InstanceId in scaling.StatusMessage
    assert activity in scaling.Cause
    # ActivityRelatedInstanceSet is deprecated in the SDK (a DeprecationWarning, an error here):
    # RelatedInstanceSet carries the same list.
    statuses = {r.InstanceId: r.InstanceStatus for r in scaling.RelatedInstanceSet}
    assert statuses[failed[0].InstanceId] == "FAILED"
    instances = models.DescribeAutoScalingInstancesRequest()
    instances.InstanceIds = [failed[0].InstanceId]
    (instance,) = client.DescribeAutoScalingInstances(instances).AutoScalingInstanceSet
    assert instance.HealthStatus == "CLB_UNHEALTHY"


def test_modify_every_field_then_describe_launch_configurations(serve):
    server = serve(SCENARIO)
    client = server.client()
    request = models.ModifyLaunchConfigurationAttributesRequest()
    body = {
        "LaunchConfigurationId": "asc-surface1",
        "ImageId": "img-v3",
        "InstanceTypes": ["S5.LARGE8"],
        "InstanceTypesCheckPolicy": "ALL",
        "LaunchConfigurationName": "web-lc-2",
        "UserData": "ZWNobyBoaQ==",
        "SecurityGroupIds": ["sg-1"],
        "InternetAccessible": {"InternetMaxBandwidthOut": 10},
        "InstanceChargeType": "POSTPAID_BY_HOUR",
        "InstanceChargePrepaid": {"Period": 1},
        "InstanceMarketOptions": {"MarketType": "spot", "SpotOptions": {"MaxPrice": "1.05"}},
        "DiskTypePolicy": "AUTOMATIC",
        "SystemDisk": {"DiskType": "CLOUD_SSD", "DiskSize": 100},
        "DataDisks": [{"DiskType": "CLOUD_SSD", "DiskSize": 200}],
        "HostNameSettings": {"HostName": "web"},
        "InstanceNameSettings": {"InstanceName": "web"},
        "EnhancedService": {"MonitorService": {"Enabled": False}},
        "CamRoleName": "role-web",
        "HpcClusterId": "hpc-1",
        "IPv6InternetAccessible": {"InternetMaxBandwidthOut": 5},
        "DisasterRecoverGroupIds": ["ps-1"],
        "LoginSettings": {"KeyIds": ["skey-1"]},
        "InstanceTags": [{"Key": "team", "Value": "web"}],
        "ImageFamily": "family-1",
        "DedicatedClusterId": "cluster-1",
        "Metadata": {"Items": [{"Key": "k", "Value": "v"}]},
        "NetworkInterfaces": [{"InterfaceType": "PRIMARY"}],
    }
    assert {n for n, _, _ in fields_of(models.ModifyLaunchConfigurationAttributesRequest)} == set(body)
    request.from_json_string(json.dumps(body))
    client.ModifyLaunchConfigurationAttributes(request)
    lcs = client.DescribeLaunchConfigurations(models.DescribeLaunchConfigurationsRequest())
    (lc,) = lcs.LaunchConfigurationSet
    assert lc.LaunchConfigurationName == "web-lc-2"
    assert lc.SystemDisk.DiskSize == 100
    assert lc.SecurityGroupIds == ["sg-1"]
    assert lc.VersionNumber == 2
    assert lc.LastOperationInstanceTypesCheckPolicy == "ALL"
    hooks = client.DescribeLifecycleHooks(models.DescribeLifecycleHooksRequest())
    assert [h.LifecycleHookId for h in hooks.LifecycleHookSet] == ["ash-surface1"]
    limits = client.DescribeAccountLimits(models.DescribeAccountLimitsRequest())
    assert (limits.MaxNumberOfAutoScalingGroups, limits.NumberOfAutoScalingGroups) == (50, 3)
    group = models.DescribeAutoScalingGroupsRequest()
    tag = models.Filter()
    tag.Name = "tag:team"
    tag.Values = ["web"]
    group.Filters = [tag]
    (found,) = client.DescribeAutoScalingGroups(group).AutoScalingGroupSet
    assert found.ForwardLoadBalancerSet[0].LoadBalancerId == "lb-web00001"
    assert found.LaunchConfigurationName == "web-lc-2"
