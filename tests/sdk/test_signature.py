"""TC3-HMAC-SHA256 signatures as the SDK computes them: checked with --secret-id/--secret-key,
ignored without."""

import time
from unittest import mock

import pytest
from conftest import SDK_SCENARIOS
from tencentcloud.autoscaling.v20180419 import models
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

SECRET_ID = "AKIDrefreshsimTEST"
SECRET_KEY = "refreshsim-test-key"
SCENARIO = SDK_SCENARIOS / "sdk-lifecycle.toml"


def describe_code(client):
    """None when DescribeRefreshActivities succeeds, else the error code."""
    try:
        client.DescribeRefreshActivities(models.DescribeRefreshActivitiesRequest())
        return None
    except TencentCloudSDKException as e:
        return e.code


@pytest.fixture
def checked(serve):
    return serve(SCENARIO, "--secret-id", SECRET_ID, "--secret-key", SECRET_KEY)


def test_good_credentials_pass(checked):
    assert describe_code(checked.client(SECRET_ID, SECRET_KEY)) is None
    assert checked.control("GET", "health")["signature_check"] is True


def test_a_wrong_key_is_refused(checked):
    assert describe_code(checked.client(SECRET_ID, "not-the-key")) == "AuthFailure.SignatureFailure"


def test_an_unknown_secret_id_is_refused(checked):
    assert describe_code(checked.client("AKIDsomeoneelse", SECRET_KEY)) == (
        "AuthFailure.SecretIdNotFound"
    )


def test_a_stale_timestamp_is_refused(checked):
    # The SDK stamps X-TC-Timestamp with time.time(): make it ten minutes old.
    stale = time.time() - 600
    with mock.patch("tencentcloud.common.abstract_client.time.time", return_value=stale):
        assert describe_code(checked.client(SECRET_ID, SECRET_KEY)) == (
            "AuthFailure.SignatureExpire"
        )
    assert describe_code(checked.client(SECRET_ID, SECRET_KEY)) is None


def test_a_refused_signature_has_no_effect(checked):
    request = models.StartInstanceRefreshRequest()
    request.AutoScalingGroupId = "asg-sdk00001"
    rolling = models.RollingUpdateSettings()
    rolling.BatchNumber = 2
    request.RefreshSettings = models.RefreshSettings()
    request.RefreshSettings.RollingUpdateSettings = rolling
    with pytest.raises(TencentCloudSDKException) as refused:
        checked.client(SECRET_ID, "wrong").StartInstanceRefresh(request)
    assert refused.value.code == "AuthFailure.SignatureFailure"
    listed = checked.client(SECRET_ID, SECRET_KEY).DescribeRefreshActivities(
        models.DescribeRefreshActivitiesRequest()
    )
    assert listed.TotalCount == 0


def test_without_credentials_any_signature_is_accepted(serve):
    server = serve(SCENARIO)
    assert server.control("GET", "health")["signature_check"] is False
    assert describe_code(server.client("AKIDwhoever", "whatever")) is None
    assert describe_code(server.client(SECRET_ID, "not-the-key")) is None
