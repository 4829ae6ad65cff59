"""Starts `refreshsim serve` for the SDK suite and points the Tencent Cloud Python SDK at it.

Each test gets its own server (port 0: the server prints the port it picked), so tests do not
share simulated time. The SDK is configured as a user would configure it for a custom endpoint:
`HttpProfile(endpoint="127.0.0.1:PORT", protocol="http")`.
"""

import json
import os
import pathlib
import subprocess
import urllib.error
import urllib.request

import pytest
from tencentcloud.autoscaling.v20180419 import autoscaling_client, models
from tencentcloud.common import credential
from tencentcloud.common.common_client import CommonClient
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(os.environ.get("REFRESHSIM_BIN", ROOT / "target/release/refreshsim"))
if not BIN.is_absolute():
    BIN = ROOT / BIN
SCENARIOS = ROOT / "scenarios"
SDK_SCENARIOS = ROOT / "tests/sdk/scenarios"
REGION = "ap-guangzhou"

# Statuses in which an activity waits for the operator.
PAUSED = ("FAILED_PAUSE", "AUTO_PAUSE", "MANUAL_PAUSE")


class Server:
    """One `refreshsim serve` process on a free loopback port."""

    def __init__(self, scenario, *args):
        command = [str(BIN), "serve", str(scenario), "--listen", "127.0.0.1:0", *args]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        prefix = "refreshsim serve: listening on http://"
        if not line.startswith(prefix):
            self.process.kill()
            raise RuntimeError(f"refreshsim serve did not start: {line!r}")
        self.address = line[len(prefix):].strip()

    def client(self, secret_id="AKIDanyone", secret_key="anything"):
        """An AutoscalingClient of the SDK, talking plain HTTP to this server."""
        profile = ClientProfile(httpProfile=HttpProfile(endpoint=self.address, protocol="http"))
        cred = credential.Credential(secret_id, secret_key)
        return autoscaling_client.AutoscalingClient(cred, REGION, profile)

    def common_client(self, version="2018-04-19", secret_id="AKIDanyone", secret_key="anything"):
        """The SDK's generic client, for calls no model exists for (unknown actions, versions)."""
        profile = ClientProfile(httpProfile=HttpProfile(endpoint=self.address, protocol="http"))
        cred = credential.Credential(secret_id, secret_key)
        return CommonClient("as", version, cred, REGION, profile)

    def control(self, method, endpoint, **query):
        """Calls a control endpoint (`/_refreshsim/...`) and returns its JSON."""
        url = f"http://{self.address}/_refreshsim/{endpoint}"
        if query:
            url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
        request = urllib.request.Request(url, method=method)
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def advance(self, by=None, to=None):
        return self.control("POST", "advance", **({"by": by} if by else {"to": to}))

    def close(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()


@pytest.fixture
def serve():
    """`serve(scenario, *args)` starts a server; all are stopped after the test."""
    servers = []

    def start(scenario, *args):
        server = Server(scenario, *args)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def describe(client, activity_id):
    """The activity, read with DescribeRefreshActivities (the SDK's models)."""
    request = models.DescribeRefreshActivitiesRequest()
    request.RefreshActivityIds = [activity_id]
    response = client.DescribeRefreshActivities(request)
    assert response.TotalCount == 1
    return response.RefreshActivitySet[0]


def batch(activity, number):
    """Batch `number` of an activity (RefreshBatchSet is listed in descending order)."""
    (found,) = [b for b in activity.RefreshBatchSet if b.RefreshBatchNum == number]
    return found


def poll_until(server, client, activity_id, predicate, steps_max=500):
    """Polls Describe, advancing the manual clock event by event, until `predicate(activity)`."""
    for _ in range(steps_max):
        activity = describe(client, activity_id)
        if predicate(activity):
            return activity
        if server.advance(to="next-event")["idle"]:
            activity = describe(client, activity_id)
            assert predicate(activity), f"nothing left to happen; the activity is {activity.Status}"
            return activity
    raise AssertionError(f"activity {activity_id} never got there in {steps_max} events")
