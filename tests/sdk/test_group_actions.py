"""The group calls a refresh interacts with, driven by the Tencent Cloud Python SDK with its own
request models: EnableAutoScalingGroup / DisableAutoScalingGroup, RemoveInstances,
DetachInstances, DescribeAutoScalingInstances and CompleteLifecycleAction, each checked by its
effect on the refresh (DescribeRefreshActivities) or the group.

Worlds: tests/sdk/scenarios/sdk-group.toml (four instances, two batches, FIRST_BATCH_PAUSE in
the Start request) and sdk-hooks.toml (two instances, an EXTENSION terminating hook).
"""

import pytest
from conftest import SDK_SCENARIOS, batch, describe, poll_until
from tencentcloud.autoscaling.v20180419 import models
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

GROUP = "asg-sdk00002"
HOOK_GROUP = "asg-sdk00003"


def start(client, group, batch_number, batch_pause="AUTOMATIC"):
    rolling = models.RollingUpdateSettings()
    rolling.BatchNumber = batch_number
    rolling.BatchPause = batch_pause
    settings = models.RefreshSettings()
    settings.RollingUpdateSettings = rolling
    request = models.StartInstanceRefreshRequest()
    request.AutoScalingGroupId = group
    request.RefreshSettings = settings
    return client.StartInstanceRefresh(request).RefreshActivityId


def group_of(client, group=GROUP):
    request = models.DescribeAutoScalingGroupsRequest()
    request.AutoScalingGroupIds = [group]
    (found,) = client.DescribeAutoScalingGroups(request).AutoScalingGroupSet
    return found


def instances_of(client, group=GROUP):
    request = models.DescribeAutoScalingInstancesRequest()
    found = client.DescribeAutoScalingInstances(request).AutoScalingInstanceSet
    assert all(i.AutoScalingGroupId == group for i in found)
    return {i.InstanceId: i for i in found}


def enable(client, group=GROUP):
    request = models.EnableAutoScalingGroupRequest()
    request.AutoScalingGroupId = group
    return client.EnableAutoScalingGroup(request)


def disable(client, group=GROUP):
    request = models.DisableAutoScalingGroupRequest()
    request.AutoScalingGroupId = group
    return client.DisableAutoScalingGroup(request)


def statuses(activity):
    return {
        i.InstanceId: i.InstanceStatus
        for b in activity.RefreshBatchSet
        for i in b.RefreshBatchRelatedInstanceSet
    }


def paused_after_first_batch(server, client):
    """Starts a refresh of two batches that pauses after the first (AUTO_PAUSE)."""
    activity_id = start(client, GROUP, 2, "FIRST_BATCH_PAUSE")
    activity = poll_until(server, client, activity_id, lambda a: a.Status == "AUTO_PAUSE")
    pending = [i.InstanceId for i in batch(activity, 2).RefreshBatchRelatedInstanceSet]
    assert len(pending) == 2
    return activity_id, pending


def resume(client, activity_id):
    request = models.ResumeInstanceRefreshRequest()
    request.AutoScalingGroupId = GROUP
    request.RefreshActivityId = activity_id
    request.ResumeMode = "CONTINUE"
    client.ResumeInstanceRefresh(request)


def test_describe_instances_fills_the_documented_fields(serve):
    server = serve(SDK_SCENARIOS / "sdk-group.toml")
    client = server.client()
    found = instances_of(client)
    assert len(found) == 4
    for instance in found.values():
        assert instance.AutoScalingGroupId == GROUP
        assert instance.AutoScalingGroupName == GROUP
        assert instance.LaunchConfigurationId == "asc-sdk00002"
        assert instance.LaunchConfigurationName == "asc-sdk00002"
        assert instance.LifeCycleState == "IN_SERVICE"
        assert instance.HealthStatus == "HEALTHY"
        assert instance.CreationType in ("AUTO_CREATION", "MANUAL_ATTACHING")
        assert instance.AddTime and instance.InstanceType


def test_disable_and_enable_an_idle_group(serve):
    server = serve(SDK_SCENARIOS / "sdk-group.toml")
    client = server.client()
    assert group_of(client).EnabledStatus == "ENABLED"
    assert disable(client).RequestId
    assert group_of(client).EnabledStatus == "DISABLED"
    assert enable(client).RequestId
    assert group_of(client).EnabledStatus == "ENABLED"


def test_enable_during_a_refresh_is_refused_and_the_group_reenabled_at_its_end(serve):
    server = serve(SDK_SCENARIOS / "sdk-group.toml")
    client = server.client()
    activity_id, _ = paused_after_first_batch(server, client)
    assert group_of(client).EnabledStatus == "DISABLED"  # held disabled by the refresh
    with pytest.raises(TencentCloudSDKException) as refused:
        enable(client)
    assert refused.value.code == "ResourceUnavailable.AutoScalingGroupInRefreshActivity"
    assert refused.value.requestId
    resume(client, activity_id)
    activity = poll_until(server, client, activity_id, lambda a: a.Status == "SUCCESSFUL")
    assert set(statuses(activity).values()) == {"SUCCESSFUL"}
    assert group_of(client).EnabledStatus == "ENABLED"


@pytest.mark.parametrize("action", ["RemoveInstances", "DetachInstances"])
def test_an_instance_taken_out_during_a_pause_is_not_found(serve, action):
    server = serve(SDK_SCENARIOS / "sdk-group.toml")
    client = server.client()
    activity_id, pending = paused_after_first_batch(server, client)
    gone = pending[0]
    request = getattr(models, action + "Request")()
    request.AutoScalingGroupId = GROUP
    request.InstanceIds = [gone]
    response = getattr(client, action)(request)
    assert response.ActivityId.startswith("asa-")
    # The removal is a scaling activity: let it finish, then the refresh carries on without it.
    server.advance(by="5m")
    assert gone not in instances_of(client)
    resume(client, activity_id)
    activity = poll_until(server, client, activity_id, lambda a: a.Status == "SUCCESSFUL")
    final = statuses(activity)
    assert final[gone] == "NOT_FOUND"
    assert final[pending[1]] == "SUCCESSFUL"
    # Taking out an instance that is not in the group is refused with the documented code.
    request.InstanceIds = [gone]
    with pytest.raises(TencentCloudSDKException) as refused:
        getattr(client, action)(request)
    assert refused.value.code == "ResourceNotFound.InstancesNotInAutoScalingGroup"


def test_complete_lifecycle_action_continues_a_hooked_instance(serve):
    server = serve(SDK_SCENARIOS / "sdk-hooks.toml")
    client = server.client()
    activity_id = start(client, HOOK_GROUP, 2)
    first = None
    for _ in range(50):
        hooked = [
            i
            for i in instances_of(client, HOOK_GROUP).values()
            if i.LifeCycleState == "IN_TERMINATING_HOOK"
        ]
        if hooked:
            first = hooked[0].InstanceId
            break
        server.advance(to="next-event")
    assert first, "no instance reached the terminating hook"
    # Nobody answers for 10 minutes: the instance waits (the heartbeat timeout is an hour).
    server.advance(by="10m")
    assert instances_of(client, HOOK_GROUP)[first].LifeCycleState == "IN_TERMINATING_HOOK"
    assert statuses(describe(client, activity_id))[first] in ("INIT", "RUNNING")
    request = models.CompleteLifecycleActionRequest()
    request.LifecycleHookId = "ash-drain"
    request.LifecycleActionResult = "CONTINUE"
    request.InstanceId = first
    assert client.CompleteLifecycleAction(request).RequestId
    before = server.control("GET", "time")["time_ms"]
    # The second instance will wait at the same hook: answer it too when it gets there.
    def answered(activity):
        for instance in instances_of(client, HOOK_GROUP).values():
            if instance.LifeCycleState == "IN_TERMINATING_HOOK":
                again = models.CompleteLifecycleActionRequest()
                again.LifecycleHookId = "ash-drain"
                again.LifecycleActionResult = "CONTINUE"
                again.InstanceId = instance.InstanceId
                client.CompleteLifecycleAction(again)
        return activity.Status == "SUCCESSFUL"

    activity = poll_until(server, client, activity_id, answered)
    assert set(statuses(activity).values()) == {"SUCCESSFUL"}
    # Well before any heartbeat timeout: CONTINUE released the instances, not the timeout.
    assert server.control("GET", "time")["time_ms"] - before < 30 * 60 * 1000
    # A second answer for the same instance is refused.
    with pytest.raises(TencentCloudSDKException) as refused:
        client.CompleteLifecycleAction(request)
    assert refused.value.code == "ResourceUnavailable.LifecycleActionResultHasSet"
