"""The core flow with tccli (pinned in tests/tccli/requirements.txt, installed in the SDK suite's
venv) against `refreshsim serve` with the signature check on: Start → poll Describe while
advancing the manual clock → a documented error → DescribeAutoScalingActivities (following a failed
instance's LastActivityId to its message) → paging through DescribeAutoScalingInstances; plus a wrong key
refused with AuthFailure.SignatureFailure.

Each call is the real `tccli as ACTION --endpoint http://HOST:PORT ...` command (README
"tccli"), in a throwaway HOME so that no configuration of the machine's user is read or written.

    target/sdk-venv/bin/python tests/tccli/flow.py    # tests/tccli/run.sh does this
"""

import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(os.environ.get("REFRESHSIM_BIN", "target/release/refreshsim"))
if not BIN.is_absolute():
    BIN = ROOT / BIN
TCCLI = pathlib.Path(sys.executable).parent / "tccli"
SCENARIO = ROOT / "tests/sdk/scenarios/sdk-lifecycle.toml"
GROUP = "asg-sdk00001"
SECRET_ID = "AKIDtccliexample"
SECRET_KEY = "tccli-secret"
REGION = "ap-guangzhou"
POLLS_MAX = 200
CALL_TIMEOUT_S = 60


class Failed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failed(message)


class Tccli:
    def __init__(self, address, home):
        self.endpoint = f"http://{address}"
        self.env = dict(os.environ, HOME=home)

    def run(self, action, secret_key=SECRET_KEY, **params):
        """`tccli as ACTION ...`: (exit code, stdout, stderr)."""
        command = [
            str(TCCLI), "as", action,
            "--endpoint", self.endpoint, "--region", REGION,
            "--secretId", SECRET_ID, "--secretKey", secret_key,
        ]
        for name, value in params.items():
            text = value if isinstance(value, str) else json.dumps(value)
            command += [f"--{name}", text]
        done = subprocess.run(
            command, capture_output=True, text=True, env=self.env, timeout=CALL_TIMEOUT_S
        )
        return done.returncode, done.stdout, done.stderr

    def call(self, action, **params):
        code, out, err = self.run(action, **params)
        check(code == 0, f"tccli as {action} exited {code}: {err or out}")
        return json.loads(out)

    def error(self, action, expected, **params):
        """A call that must fail with `expected`; tccli prints `code:CODE` on stderr."""
        code, out, err = self.run(action, **params)
        check(code != 0, f"tccli as {action} succeeded, expected {expected}: {out}")
        check(f"code:{expected} " in err, f"tccli as {action}: expected {expected}, got {err}")
        check("requestId:" in err, f"no requestId in {err}")
        return err.strip()


def control(address, method, target):
    request = urllib.request.Request(f"http://{address}/_refreshsim/{target}", method=method)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def describe(cli, activity_id):
    answer = cli.call("DescribeRefreshActivities", RefreshActivityIds=[activity_id])
    check(answer["TotalCount"] == 1, answer)
    return answer["RefreshActivitySet"][0]


def flow(cli, address):
    steps = []
    started = cli.call(
        "StartInstanceRefresh",
        AutoScalingGroupId=GROUP,
        RefreshMode="ROLLING_UPDATE_RESET",
        RefreshSettings={"RollingUpdateSettings": {"BatchNumber": 6}},
    )
    activity_id = started["RefreshActivityId"]
    check(activity_id.startswith("asr-") and started["RequestId"], started)
    steps.append(f"StartInstanceRefresh → {activity_id}")

    activity = describe(cli, activity_id)
    polls = 0
    while activity["Status"] not in ("FAILED_PAUSE", "AUTO_PAUSE", "MANUAL_PAUSE", "SUCCESSFUL"):
        polls += 1
        check(polls <= POLLS_MAX, f"still {activity['Status']} after {POLLS_MAX} polls")
        control(address, "POST", "advance?to=next-event")
        activity = describe(cli, activity_id)
    check(activity["Status"] == "FAILED_PAUSE", activity["Status"])
    (batch2,) = [b for b in activity["RefreshBatchSet"] if b["RefreshBatchNum"] == 2]
    check(batch2["RefreshBatchStatus"] == "FAILED", batch2)
    failed = batch2["RefreshBatchRelatedInstanceSet"][0]
    check("disk attach timeout" in failed["InstanceStatusMessage"], failed)
    steps.append(f"polled {polls} times while advancing: FAILED_PAUSE at batch 2 ({failed['InstanceId']})")

    refused = cli.error(
        "StartInstanceRefresh",
        "ResourceUnavailable.AutoScalingGroupInRefreshActivity",
        AutoScalingGroupId=GROUP,
        RefreshSettings={"RollingUpdateSettings": {"BatchNumber": 1}},
    )
    steps.append(f"second Start refused: {refused.split(' message:')[0]}")

    seen, offset = [], 0
    while True:
        page = cli.call(
            "DescribeAutoScalingInstances",
            Filters=[{"Name": "auto-scaling-group-id", "Values": [GROUP]}],
            Limit=4,
            Offset=offset,
        )
        total = page["TotalCount"]
        rows = page["AutoScalingInstanceSet"]
        check(len(rows) <= 4, page)
        if not rows:
            break
        seen += rows
        offset += 4
        check(offset < 100, "paging does not end")
    check(total == 6, f"TotalCount {total}")
    check(len({r["InstanceId"] for r in seen}) == 6, "pages overlap or miss instances")
    steps.append(f"DescribeAutoScalingInstances: {len(seen)} instances in pages of 4, TotalCount {total}")

    every = cli.call(
        "DescribeAutoScalingActivities",
        Filters=[{"Name": "auto-scaling-group-id", "Values": [GROUP]}],
    )
    check(every["TotalCount"] >= 1, every)
    # The failed instance's LastActivityId (in the refresh batch) names its scaling activity.
    last = failed["LastActivityId"]
    check(last.startswith("asa-"), f"no LastActivityId on {failed['InstanceId']}")
    named = cli.call("DescribeAutoScalingActivities", ActivityIds=[last])
    check(named["TotalCount"] == 1, named)
    act = named["ActivitySet"][0]
    check(act["ActivityId"] == last and act["AutoScalingGroupId"] == GROUP, act)
    check(act["StatusCode"] == "FAILED", act)
    check("disk attach timeout" in act["StatusMessage"], act)
    related = [r["InstanceId"] for r in act["ActivityRelatedInstanceSet"]]
    check(failed["InstanceId"] in related, f"{last} does not list {failed['InstanceId']}: {act}")
    steps.append(
        f"DescribeAutoScalingActivities: {every['TotalCount']} for the group; "
        f"{last} ({act['StatusCode']}) lists {failed['InstanceId']}"
    )

    cli.error(
        "DescribeRefreshActivities", "AuthFailure.SignatureFailure", secret_key="wrong-key",
        RefreshActivityIds=[activity_id],
    )
    steps.append("wrong secret key refused: AuthFailure.SignatureFailure")
    return steps


def main():
    began = time.monotonic()
    command = [
        str(BIN), "serve", str(SCENARIO), "--listen", "127.0.0.1:0",
        "--secret-id", SECRET_ID, "--secret-key", SECRET_KEY,
    ]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        prefix = "refreshsim serve: listening on http://"
        check(line.startswith(prefix), f"refreshsim serve did not start: {line!r}")
        address = line[len(prefix):].strip()
        with tempfile.TemporaryDirectory(prefix="tccli-home-") as home:
            steps = flow(Tccli(address, home), address)
    except (Failed, subprocess.TimeoutExpired, OSError, KeyError, ValueError) as e:
        print(f"tests/tccli/flow.py FAILED: {e}", file=sys.stderr)
        return 1
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        server.stdout.close()
    for step in steps:
        print(f"ok: {step}")
    print(f"tests/tccli/flow.py: the tccli flow passed in {time.monotonic() - began:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
