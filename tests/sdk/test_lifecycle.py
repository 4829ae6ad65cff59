"""A refresh driven end to end by the Tencent Cloud Python SDK: Start, poll Describe while the
manual clock advances, Stop, Resume with RETRY and with CONTINUE, Stop again, Cancel.

World: tests/sdk/scenarios/sdk-lifecycle.toml (six instances, one per batch; instance #2 fails
its first reinstall, #3 fails every reinstall).
"""

from conftest import PAUSED, SDK_SCENARIOS, batch, describe, poll_until
from tencentcloud.autoscaling.v20180419 import models
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

GROUP = "asg-sdk00001"


def start_request(batch_number):
    rolling = models.RollingUpdateSettings()
    rolling.BatchNumber = batch_number
    settings = models.RefreshSettings()
    settings.RollingUpdateSettings = rolling
    request = models.StartInstanceRefreshRequest()
    request.AutoScalingGroupId = GROUP
    request.RefreshSettings = settings
    request.RefreshMode = "ROLLING_UPDATE_RESET"
    return request


def activity_request(cls, activity_id):
    request = cls()
    request.AutoScalingGroupId = GROUP
    request.RefreshActivityId = activity_id
    return request


def resume_request(activity_id, mode):
    request = activity_request(models.ResumeInstanceRefreshRequest, activity_id)
    request.ResumeMode = mode
    return request


def group_status(client):
    request = models.DescribeAutoScalingGroupsRequest()
    request.AutoScalingGroupIds = [GROUP]
    (group,) = client.DescribeAutoScalingGroups(request).AutoScalingGroupSet
    return group.EnabledStatus


def test_start_poll_stop_resume_retry_continue_cancel(serve):
    server = serve(SDK_SCENARIOS / "sdk-lifecycle.toml")
    client = server.client()

    started = client.StartInstanceRefresh(start_request(6))
    activity_id = started.RefreshActivityId
    assert activity_id.startswith("asr-") and started.RequestId
    activity = describe(client, activity_id)
    assert activity.Status in ("INIT", "RUNNING")
    assert activity.ActivityType == "NORMAL"
    assert [b.RefreshBatchNum for b in activity.RefreshBatchSet] == [6, 5, 4, 3, 2, 1]
    assert group_status(client) == "DISABLED"  # held disabled for the whole refresh

    # Stop during batch 1: MANUAL_PAUSE at once; Resume with nothing failed carries on.
    client.StopInstanceRefresh(activity_request(models.StopInstanceRefreshRequest, activity_id))
    assert describe(client, activity_id).Status == "MANUAL_PAUSE"
    client.ResumeInstanceRefresh(resume_request(activity_id, "RETRY"))
    assert describe(client, activity_id).Status == "RUNNING"

    # Batch 2 (instance #2) fails its first reinstall: FAILED_PAUSE, then RETRY succeeds.
    activity = poll_until(server, client, activity_id, lambda a: a.Status in PAUSED)
    assert activity.Status == "FAILED_PAUSE"
    assert batch(activity, 1).RefreshBatchStatus == "SUCCESSFUL"
    (failed,) = batch(activity, 2).RefreshBatchRelatedInstanceSet
    assert failed.InstanceStatus == "FAILED"
    assert "disk attach timeout" in failed.InstanceStatusMessage
    client.ResumeInstanceRefresh(resume_request(activity_id, "RETRY"))

    # Batch 3 (instance #3) fails every time: FAILED_PAUSE again, CONTINUE skips it.
    activity = poll_until(
        server, client, activity_id,
        lambda a: a.Status in PAUSED and batch(a, 3).RefreshBatchStatus != "WAITING",
    )
    assert activity.Status == "FAILED_PAUSE"
    (retried,) = batch(activity, 2).RefreshBatchRelatedInstanceSet
    assert retried.InstanceStatus == "SUCCESSFUL"
    assert batch(activity, 2).RefreshBatchStatus == "SUCCESSFUL"
    assert batch(activity, 3).RefreshBatchRelatedInstanceSet[0].InstanceStatus == "FAILED"
    client.ResumeInstanceRefresh(resume_request(activity_id, "CONTINUE"))

    # Batch 4 runs; Stop it, let the instance in flight finish, then Cancel the rest.
    activity = poll_until(
        server, client, activity_id, lambda a: batch(a, 4).RefreshBatchStatus == "RUNNING"
    )
    assert activity.Status == "RUNNING"
    client.StopInstanceRefresh(activity_request(models.StopInstanceRefreshRequest, activity_id))
    assert server.advance(to="idle")["idle"]
    activity = describe(client, activity_id)
    assert activity.Status == "MANUAL_PAUSE"
    assert batch(activity, 4).RefreshBatchStatus == "SUCCESSFUL"
    assert batch(activity, 5).RefreshBatchStatus == "WAITING"

    client.CancelInstanceRefresh(activity_request(models.CancelInstanceRefreshRequest, activity_id))
    activity = describe(client, activity_id)
    assert activity.Status == "CANCELLED"
    assert activity.EndTime is not None
    assert [batch(activity, n).RefreshBatchStatus for n in (5, 6)] == ["CANCELLED", "CANCELLED"]
    assert group_status(client) == "ENABLED"  # restored when the refresh ended

    # No Resume after a Cancel (spec §1.5 rule 4).
    try:
        client.ResumeInstanceRefresh(resume_request(activity_id, "CONTINUE"))
        raise AssertionError("Resume after Cancel was accepted")
    except TencentCloudSDKException as e:
        assert e.code == "ResourceUnavailable.RefreshActivityStatusConflictWithOperation"
        assert e.requestId


def test_the_simulated_clock_is_visible_in_the_activity_times(serve):
    server = serve(SDK_SCENARIOS / "sdk-lifecycle.toml")
    client = server.client()
    assert server.control("GET", "time")["time"] == "2025-05-01T09:00:00Z"
    server.advance(by="10m")
    activity_id = client.StartInstanceRefresh(start_request(3)).RefreshActivityId
    assert describe(client, activity_id).CreatedTime == "2025-05-01T09:10:00Z"
    report = server.advance(by="90s")
    assert report["time"] == "2025-05-01T09:11:30Z"
    first = batch(describe(client, activity_id), 1)
    assert first.StartTime == "2025-05-01T09:10:00Z"
    assert first.EndTime == "2025-05-01T09:11:30Z"
