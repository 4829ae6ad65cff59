#!/usr/bin/env python3
"""Writes the fuzz targets' seed inputs (README "Fuzzing") into a directory, one subdirectory
per target, from the bundled scenarios, tests/fixtures and the outputs of `refreshsim run`.

    fuzz/seed.py REFRESHSIM_BINARY OUT_DIR

The committed corpora fuzz/corpus/TARGET are these seeds and what the fuzzer found, minimized
with `-merge=1` (see fuzz/README.md): run this only to rebuild them."""

import json
import pathlib
import re
import subprocess
import sys
import tempfile
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent.parent
MAX_BYTES = 65536  # fuzz/run's -max_len
# A 2,000-instance run writes megabytes; its scenario text is still a seed.
NOT_RUN = {"large-2000-probabilistic"}
WORLD_GROUP = "asg-fuzz0001"
CALLS_MAX = 16  # api_body reads at most this many lines


def write(out, target, name, data):
    if isinstance(data, str):
        data = data.encode()
    if len(data) > MAX_BYTES:
        return
    d = out / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


def scenario_files():
    files = sorted((ROOT / "scenarios").glob("*"))
    files += sorted((ROOT / "tests" / "fixtures").rglob("*"))
    files.append(ROOT / "fuzz" / "world.toml")
    return [f for f in files if f.suffix in (".toml", ".json") and f.is_file()]


def world_ids(binary, tmp):
    """The instance ids of fuzz/world.toml's group (its seed fixes them)."""
    text = (ROOT / "fuzz" / "world.toml").read_text()
    text += '\n[[actions]]\nid = "start"\nat = "0s"\naction = "StartInstanceRefresh"\n'
    path = tmp / "world-run.toml"
    path.write_text(text)
    subprocess.run([binary, "run", "-q", str(path), "--out", str(tmp / "world-run")], check=True)
    rows = (tmp / "world-run" / "timeline.csv").read_text().splitlines()[1:]
    ids = []
    for row in rows:
        instance = row.split(",")[6]
        if instance.startswith("ins-") and instance not in ids:
            ids.append(instance)
    return ids


def to_world(body, ids, seen):
    """A recorded request body with its group and instance ids replaced by the world's."""
    text = json.dumps(body, separators=(",", ":"))
    text = re.sub(r"asg-[a-z0-9]{8}", WORLD_GROUP, text)

    def instance(m):
        seen.setdefault(m.group(0), ids[len(seen) % len(ids)])
        return seen[m.group(0)]

    return re.sub(r"ins-[a-z0-9]{8}", instance, text)


def http_request(action, body, chunked=False):
    head = (
        "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        f"X-TC-Action: {action}\r\nX-TC-Version: 2018-04-19\r\nX-TC-Region: ap-guangzhou\r\n"
        "X-TC-Timestamp: 1700000000\r\n"
        "Authorization: TC3-HMAC-SHA256 Credential=AKIDother/2023-11-14/as/tc3_request, "
        "SignedHeaders=content-type;host, Signature=00\r\n"
    )
    if chunked:
        half = len(body) // 2
        parts = [body[:half], body[half:]]
        data = "".join(f"{len(p.encode()):x}\r\n{p}\r\n" for p in parts if p)
        return head + "Transfer-Encoding: chunked\r\n\r\n" + data + "0\r\n\r\n"
    return head + f"Content-Length: {len(body.encode())}\r\n\r\n" + body


CONTROL = [
    "GET /_refreshsim/health HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /_refreshsim/time HTTP/1.1\r\nHost: x\r\n\r\n",
    "POST /_refreshsim/advance?by=90s HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
    "POST /_refreshsim/advance?to=next-event HTTP/1.1\r\nHost: x\r\n\r\n",
    "POST /_refreshsim/advance?to=idle HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /_refreshsim/timeline?format=csv HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /_refreshsim/timeline?format=jsonl HTTP/1.1\r\nHost: x\r\n\r\n",
    "POST /_refreshsim/reset HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
]


def main():
    binary, out = sys.argv[1], pathlib.Path(sys.argv[2])
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        ids = world_ids(binary, tmp)
        for f in scenario_files():
            data = f.read_bytes()
            stem = f.stem
            if f.suffix == ".json":
                write(out, "scenario_json", stem + ".json", data)
                continue
            write(out, "scenario_toml", stem + ".toml", data)
            try:
                doc = tomllib.loads(data.decode())
            except (tomllib.TOMLDecodeError, UnicodeDecodeError):
                continue
            write(out, "scenario_json", stem + ".json", json.dumps(doc, indent=1))
            if stem in NOT_RUN or "fixtures/bad" in str(f):
                continue
            run = tmp / stem
            done = subprocess.run(
                [binary, "run", "-q", str(f), "--out", str(run)], capture_output=True
            )
            if not (run / "timeline.csv").exists():
                print(f"{f}: no run ({done.returncode})", file=sys.stderr)
                continue
            seed_run(out, stem, run, ids)
        for i, request in enumerate(CONTROL):
            write(out, "serve_http", f"control-{i}", request)
        write(out, "serve_http", "control-all", "".join(CONTROL))


def seed_run(out, stem, run, ids):
    csv = (run / "timeline.csv").read_bytes()
    describe = (run / "describe.json").read_bytes()
    write(out, "check", stem + ".csv", csv)
    write(out, "check", stem + ".jsonl", (run / "timeline.jsonl").read_bytes())
    write(out, "check", stem + ".describe.json", describe)
    write(out, "check", stem + ".responses.jsonl", (run / "responses.jsonl").read_bytes())
    write(out, "check", stem + ".csv+describe", csv + b"\0" + describe)
    calls = []
    for line in (run / "responses.jsonl").read_text().splitlines():
        row = json.loads(line)
        if "action" in row:
            calls.append((row["action"], row.get("request", {})))
    seen = {}
    lines = [f"{action} {to_world(body, ids, seen)}" for action, body in calls[:CALLS_MAX]]
    if lines:
        write(out, "api_body", stem, "\n".join(lines) + "\n")
    requests = [http_request(action, to_world(body, ids, seen)) for action, body in calls]
    if requests:
        write(out, "serve_http", stem, "".join(requests[:REQUESTS_MAX]) + CONTROL[4])
        action, body = calls[0]
        write(out, "serve_http", stem + ".chunked", http_request(action, to_world(body, ids, seen), True))


REQUESTS_MAX = 16  # serve_http reads at most this many requests per input

if __name__ == "__main__":
    main()
