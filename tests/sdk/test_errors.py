"""Documented error codes surface through the SDK as TencentCloudSDKException with the exact
code (spec §5 and the API 3.0 common codes), and the server keeps serving after each."""

import pytest
from conftest import SCENARIOS, SDK_SCENARIOS
from tencentcloud.autoscaling.v20180419 import models
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

GROUP = "asg-sdk00001"


def start_request(group=GROUP, batch_number=2, refresh_mode=None):
    rolling = models.RollingUpdateSettings()
    rolling.BatchNumber = batch_number
    settings = models.RefreshSettings()
    settings.RollingUpdateSettings = rolling
    request = models.StartInstanceRefreshRequest()
    request.AutoScalingGroupId = group
    request.RefreshSettings = settings
    if refresh_mode:
        request.RefreshMode = refresh_mode
    return request


def filter_of(name, *values):
    f = models.Filter()
    f.Name = name
    f.Values = list(values)
    return f


def describe_request(ids=None, filters=None, limit=None):
    request = models.DescribeRefreshActivitiesRequest()
    request.RefreshActivityIds = ids
    request.Filters = filters
    request.Limit = limit
    return request


def code_of(call, request):
    with pytest.raises(TencentCloudSDKException) as raised:
        call(request)
    assert raised.value.requestId, "every error carries a RequestId"
    return raised.value.code


@pytest.fixture
def world(serve):
    server = serve(SDK_SCENARIOS / "sdk-lifecycle.toml")
    return server, server.client()


def test_start_errors(world):
    server, client = world
    assert code_of(client.StartInstanceRefresh, start_request(group="asg-nothere0")) == (
        "ResourceNotFound.AutoScalingGroupIdNotFound"
    )
    assert code_of(client.StartInstanceRefresh, start_request(batch_number=7)) == (
        "InvalidParameterValue.BatchNumberTooLarge"
    )
    # OQ-36: the legacy mode is refused.
    assert code_of(client.StartInstanceRefresh, start_request(refresh_mode="ROLLING_UPDATE")) == (
        "InvalidParameterValue"
    )
    no_settings = models.StartInstanceRefreshRequest()
    no_settings.AutoScalingGroupId = GROUP
    assert code_of(client.StartInstanceRefresh, no_settings) == "MissingParameter"

    client.StartInstanceRefresh(start_request())
    assert code_of(client.StartInstanceRefresh, start_request()) == (
        "ResourceUnavailable.AutoScalingGroupInRefreshActivity"
    )
    enable = models.EnableAutoScalingGroupRequest()
    enable.AutoScalingGroupId = GROUP
    assert code_of(client.EnableAutoScalingGroup, enable) == (
        "ResourceUnavailable.AutoScalingGroupInRefreshActivity"
    )


def test_stop_resume_cancel_errors(world):
    server, client = world
    stop = models.StopInstanceRefreshRequest()
    stop.AutoScalingGroupId = GROUP
    stop.RefreshActivityId = "asr-nothere0"
    assert code_of(client.StopInstanceRefresh, stop) == "ResourceNotFound.RefreshActivityNotFound"

    activity_id = client.StartInstanceRefresh(start_request()).RefreshActivityId
    server.advance(by="10s")
    resume = models.ResumeInstanceRefreshRequest()
    resume.AutoScalingGroupId = GROUP
    resume.RefreshActivityId = activity_id
    assert code_of(client.ResumeInstanceRefresh, resume) == (
        "ResourceUnavailable.RefreshActivityStatusConflictWithOperation"
    )
    cancel = models.CancelInstanceRefreshRequest()
    cancel.AutoScalingGroupId = GROUP
    cancel.RefreshActivityId = activity_id
    assert code_of(client.CancelInstanceRefresh, cancel) == (
        "ResourceUnavailable.RefreshActivityStatusConflictWithOperation"
    )
    rollback = models.RollbackInstanceRefreshRequest()
    rollback.AutoScalingGroupId = GROUP
    rollback.OriginRefreshActivityId = activity_id
    rollback.RefreshSettings = start_request().RefreshSettings
    # OQ-25: a running origin is neither paused nor the latest successful one.
    assert code_of(client.RollbackInstanceRefresh, rollback) == (
        "ResourceUnavailable.RefreshActivityStatusConflictWithOperation"
    )


def test_describe_errors(world):
    server, client = world
    describe = client.DescribeRefreshActivities
    both = describe_request(ids=["asr-aaaaaaaa"], filters=[filter_of("refresh-activity-type", "NORMAL")])
    assert code_of(describe, both) == "InvalidParameter.Conflict"
    assert code_of(describe, describe_request(filters=[filter_of("colour", "red")])) == (
        "InvalidParameterValue.InvalidFilter"
    )
    bad_status = describe_request(filters=[filter_of("refresh-activity-status-code", "NAPPING")])
    assert code_of(describe, bad_status) == "InvalidParameterValue.Filter"
    bad_group = describe_request(filters=[filter_of("auto-scaling-group-id", "not-a-group")])
    assert code_of(describe, bad_group) == "InvalidParameterValue.InvalidAutoScalingGroupId"
    six_values = describe_request(filters=[filter_of("refresh-activity-type", *["NORMAL"] * 6)])
    assert code_of(describe, six_values) == "LimitExceeded.FilterValuesTooLong"
    assert code_of(describe, describe_request(limit=101)) == "InvalidParameterValue.LimitExceeded"
    # And a good one still works after all those.
    assert describe(describe_request(limit=100)).TotalCount == 0


def test_rate_limit_is_per_action_per_simulated_second(world):
    server, client = world
    for _ in range(20):
        client.DescribeRefreshActivities(describe_request())
    assert code_of(client.DescribeRefreshActivities, describe_request()) == "RequestLimitExceeded"
    server.advance(by="1s")
    assert client.DescribeRefreshActivities(describe_request()).TotalCount == 0


def test_start_refusals_follow_the_world(serve):
    """scenarios/rejected-requests.toml switches its world through the states each Start error
    needs (fault events at fixed times); the SDK sees each code at its time (OQ-27 order)."""
    server = serve(SCENARIOS / "rejected-requests.toml")
    client = server.client()
    group = server.control("GET", "health")["group"]
    clock = {"s": 0.0}

    def at(seconds):
        server.advance(by=f"{int((seconds - clock['s']) * 1000)}ms")
        clock["s"] = seconds

    def start(batch_number=1, max_surge=None):
        request = start_request(group=group, batch_number=batch_number)
        request.RefreshSettings.RollingUpdateSettings.MaxSurge = max_surge
        return request

    # Fault events due at 0 s are in effect for the first call (OQ-61): the role is revoked.
    expected = [
        (0, start(), "UnauthorizedOperation.AutoScalingRoleUnauthorized"),
        (20, start(), "ResourceUnavailable.AutoScalingGroupAbnormalStatus"),
        (23, start(), "ResourceUnavailable.AutoScalingGroupInActivity"),
        (24.5, start(), "ResourceUnavailable.NoInstanceCanRefresh"),
        (27, start(batch_number=5, max_surge=2), "InvalidParameterValue.MaxSurgeTooLarge"),
        (28, start(), "ResourceUnavailable.InquiryPriceResetInstanceFailed"),
    ]
    for seconds, request, code in expected:
        at(seconds)
        assert code_of(client.StartInstanceRefresh, request) == code, f"at {seconds} s"
    at(30)
    assert client.StartInstanceRefresh(start(batch_number=5)).RefreshActivityId.startswith("asr-")


def test_bad_values_in_the_sdk_models(world):
    server, client = world
    zero = start_request(batch_number=0)
    assert code_of(client.StartInstanceRefresh, zero) == "InvalidParameterValue.Range"
    pause = start_request()
    pause.RefreshSettings.RollingUpdateSettings.BatchPause = "Automatic"
    assert code_of(client.StartInstanceRefresh, pause) == "InvalidParameterValue"
    timeout = start_request()
    timeout.RefreshSettings.CheckInstanceTargetHealth = True
    timeout.RefreshSettings.CheckInstanceTargetHealthTimeout = 30
    assert code_of(client.StartInstanceRefresh, timeout) == "InvalidParameterValue.Range"
    activity_id = client.StartInstanceRefresh(start_request()).RefreshActivityId
    resume = models.ResumeInstanceRefreshRequest()
    resume.AutoScalingGroupId = GROUP
    resume.RefreshActivityId = activity_id
    resume.ResumeMode = "SKIP"
    assert code_of(client.ResumeInstanceRefresh, resume) == "InvalidParameterValue"


def test_unknown_action_version_and_parameters(world):
    server, _ = world
    common = server.common_client()
    for action, params, expected in [
        ("DescribeInstances", {}, "InvalidAction"),
        ("DescribeRefreshActivities", {"Colour": "red"}, "UnknownParameter"),
        ("DescribeRefreshActivities", {"Limit": "ten"}, "InvalidParameter"),
    ]:
        with pytest.raises(TencentCloudSDKException) as raised:
            common.call_json(action, params)
        assert raised.value.code == expected, action
    with pytest.raises(TencentCloudSDKException) as raised:
        server.common_client(version="2017-03-12").call_json("DescribeRefreshActivities", {})
    assert raised.value.code == "NoSuchVersion"
    assert server.control("GET", "health")["status"] == "ok"
