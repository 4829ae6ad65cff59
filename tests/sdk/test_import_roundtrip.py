"""Round trip through the emulator (issue 12): for each bundled scenario, `serve` it, fetch the
group, its instances (paged), its launch configuration and its lifecycle hooks with the real
Python SDK, save them as the SDK prints them (`to_json_string()`), `refreshsim import` them, and
check the imported scenario describes the same world: the same instances with the same states,
protection, add times and creation types, the same hooks, the same refreshable launch
configuration fields, the same group sizes; and, for the scenarios whose refresh starts at once,
`validate` plans the same batches for the same StartInstanceRefresh request.
"""

import json
import pathlib
import subprocess
import tomllib

import pytest
from tencentcloud.autoscaling.v20180419 import models

from conftest import BIN, SCENARIOS

PAGE = 100


def scenario_files():
    return sorted(p for p in SCENARIOS.iterdir() if p.suffix in (".toml", ".json"))


def load(path):
    text = path.read_text()
    return json.loads(text) if path.suffix == ".json" else tomllib.loads(text)


def fetch(client, group_id):
    """The four responses `import` reads, as the SDK prints them."""
    request = models.DescribeAutoScalingGroupsRequest()
    request.AutoScalingGroupIds = [group_id]
    groups = client.DescribeAutoScalingGroups(request)
    assert groups.TotalCount == 1
    group = groups.AutoScalingGroupSet[0]

    pages, offset = [], 0
    while True:
        request = models.DescribeAutoScalingInstancesRequest()
        request.Filters = [models.Filter()]
        request.Filters[0].Name = "auto-scaling-group-id"
        request.Filters[0].Values = [group_id]
        request.Limit, request.Offset = PAGE, offset
        page = client.DescribeAutoScalingInstances(request)
        pages.append(page)
        offset += len(page.AutoScalingInstanceSet)
        if not page.AutoScalingInstanceSet or offset >= page.TotalCount:
            break
    assert offset == pages[0].TotalCount

    request = models.DescribeLaunchConfigurationsRequest()
    request.LaunchConfigurationIds = [group.LaunchConfigurationId]
    configurations = client.DescribeLaunchConfigurations(request)
    assert configurations.TotalCount == 1

    request = models.DescribeLifecycleHooksRequest()
    request.Filters = [models.Filter()]
    request.Filters[0].Name = "auto-scaling-group-id"
    request.Filters[0].Values = [group_id]
    hooks = client.DescribeLifecycleHooks(request)
    return groups, pages, configurations, hooks


def save(directory, groups, pages, configurations, hooks):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "groups.json").write_text(groups.to_json_string())
    (directory / "instances.jsonl").write_text(
        "".join(page.to_json_string() + "\n" for page in pages)
    )
    (directory / "lc.json").write_text(configurations.to_json_string())
    (directory / "hooks.json").write_text(hooks.to_json_string())


def import_scenario(directory, group_id):
    out = directory / "imported.toml"
    ran = subprocess.run(
        [
            str(BIN), "import",
            "--group", str(directory / "groups.json"),
            "--instances", str(directory / "instances.jsonl"),
            "--launch-configuration", str(directory / "lc.json"),
            "--hooks", str(directory / "hooks.json"),
            "--group-id", group_id,
            "--out", str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr
    return out


def world(groups, pages, configurations, hooks):
    """What the model uses of the four responses, in a comparable form."""
    group = json.loads(groups.to_json_string())["AutoScalingGroupSet"][0]
    instances = sorted(
        (
            i["InstanceId"], i["LifeCycleState"], i["ProtectedFromScaleIn"], i["AddTime"],
            i["CreationType"], i["InstanceType"],
        )
        for page in pages
        for i in json.loads(page.to_json_string())["AutoScalingInstanceSet"]
    )
    lc = json.loads(configurations.to_json_string())["LaunchConfigurationSet"][0]
    login = dict(lc.get("LoginSettings") or {})
    login.pop("Password", None)
    refreshable = {
        "ImageId": lc.get("ImageId"),
        "UserData": lc.get("UserData") or None,
        "EnhancedService": lc.get("EnhancedService"),
        "HostNameSettings": lc.get("HostNameSettings"),
        "LoginSettings": login,
        "InstanceType": lc.get("InstanceType"),
    }
    hook_set = sorted(
        (
            h["LifecycleTransition"], h.get("LifecycleTransitionType"), h["DefaultResult"],
            h["HeartbeatTimeout"],
        )
        for h in json.loads(hooks.to_json_string())["LifecycleHookSet"]
    )
    sizes = {
        key: group[key]
        for key in ("MinSize", "MaxSize", "DesiredCapacity", "AutoScalingGroupStatus",
                    "EnabledStatus", "InstanceCount", "InActivityStatus")
    }
    sizes["ReplaceMonitorUnhealthy"] = (group.get("ServiceSettings") or {}).get(
        "ReplaceMonitorUnhealthy"
    )
    sizes["forward_clb"] = bool(group.get("ForwardLoadBalancerSet"))
    return {"group": sizes, "instances": instances, "lc": refreshable, "hooks": hook_set}


def toml_value(value):
    """A JSON value as a TOML inline value (the request bodies are JSON objects)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"{value!r} has no TOML form")


def first_start(scenario):
    """The scenario's StartInstanceRefresh when it is its first action, sent at 0 s."""
    actions = scenario.get("actions", [])
    if not actions:
        return None
    first = actions[0]
    if first.get("action") != "StartInstanceRefresh" or first.get("at") not in ("0s", "0ms"):
        return None
    return first.get("request", {})


def plan(path):
    """`validate`'s batch plan of the first Start (the lines after `plan of ...`), or None when
    the Start is refused (e.g. AS_QCSRole unauthorized: nothing in the four responses says so)."""
    ran = subprocess.run(
        [str(BIN), "validate", str(path)], capture_output=True, text=True, timeout=120
    )
    lines = ran.stdout.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("plan of ")]
    if not starts and "is refused" in ran.stdout:
        return None
    assert starts, ran.stdout + ran.stderr
    body = []
    for line in lines[starts[0] + 1:]:
        if not line.startswith("  "):
            break
        body.append(line)
    return body


@pytest.mark.parametrize("path", scenario_files(), ids=lambda p: p.name)
def test_a_served_group_imports_into_the_same_world(serve, tmp_path, path):
    scenario = load(path)
    group_id = scenario["group"]["id"]
    served = serve(path)
    responses = fetch(served.client(), group_id)
    save(tmp_path, *responses)
    imported = import_scenario(tmp_path, group_id)

    again = serve(imported)
    assert world(*fetch(again.client(), group_id)) == world(*responses)

    request = first_start(scenario)
    if request is None:
        return
    planned = plan(path)
    if planned is None:
        return
    with_start = tmp_path / "imported-with-start.toml"
    with_start.write_text(
        imported.read_text()
        + "\n[[actions]]\nid = \"start\"\nat = \"0s\"\naction = \"StartInstanceRefresh\"\n"
        + f"request = {toml_value(request)}\n"
    )
    assert plan(with_start) == planned
