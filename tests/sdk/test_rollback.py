"""RollbackInstanceRefresh through the SDK, on the bundled scenarios/rollback-paused.toml world:
img-v2 does not boot, so the refresh fails on its first batch; the operator fixes the launch
configuration and rolls back (spec §1.6; OQ-25, OQ-26)."""

import pytest
from conftest import SCENARIOS, batch, describe, poll_until
from tencentcloud.autoscaling.v20180419 import models
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

GROUP = "asg-rbk00001"


def settings(batch_number):
    rolling = models.RollingUpdateSettings()
    rolling.BatchNumber = batch_number
    refresh = models.RefreshSettings()
    refresh.RollingUpdateSettings = rolling
    return refresh


def rollback_request(origin_id, batch_number):
    request = models.RollbackInstanceRefreshRequest()
    request.AutoScalingGroupId = GROUP
    request.OriginRefreshActivityId = origin_id
    request.RefreshSettings = settings(batch_number)
    request.RefreshMode = "ROLLING_UPDATE_RESET"
    return request


def test_rollback_of_a_failed_refresh(serve):
    server = serve(SCENARIOS / "rollback-paused.toml")
    client = server.client()

    start = models.StartInstanceRefreshRequest()
    start.AutoScalingGroupId = GROUP
    start.RefreshSettings = settings(3)
    origin_id = client.StartInstanceRefresh(start).RefreshActivityId
    origin = poll_until(server, client, origin_id, lambda a: a.Status == "FAILED_PAUSE")
    failed = batch(origin, 1).RefreshBatchRelatedInstanceSet
    assert {i.InstanceStatus for i in failed} == {"FAILED"}

    # A rollback re-reads UserData from the launch configuration (§1.6 rule 4): fix it first.
    modify = models.ModifyLaunchConfigurationAttributesRequest()
    modify.LaunchConfigurationId = "asc-rbk00001"
    modify.UserData = "djE="
    client.ModifyLaunchConfigurationAttributes(modify)

    rollback_id = client.RollbackInstanceRefresh(rollback_request(origin_id, 2)).RefreshActivityId
    assert rollback_id != origin_id
    rollback = describe(client, rollback_id)
    assert rollback.ActivityType == "ROLLBACK"
    assert rollback.OriginRefreshActivityId == origin_id
    origin = describe(client, origin_id)
    assert batch(origin, 3).RefreshBatchStatus == "CANCELLED"  # waiting batches are cancelled

    assert server.advance(to="idle")["idle"]
    rollback = describe(client, rollback_id)
    assert rollback.Status == "SUCCESSFUL"
    rolled_back = {
        i.InstanceId: i.InstanceStatus
        for b in rollback.RefreshBatchSet
        for i in b.RefreshBatchRelatedInstanceSet
    }
    assert set(rolled_back) == {i.InstanceId for i in failed}
    assert set(rolled_back.values()) == {"SUCCESSFUL"}

    # A rollback activity cannot itself be rolled back.
    with pytest.raises(TencentCloudSDKException) as refused:
        client.RollbackInstanceRefresh(rollback_request(rollback_id, 1))
    assert refused.value.code == "ResourceUnavailable.RollbackTypeActivityCanNotRollbackAgain"
