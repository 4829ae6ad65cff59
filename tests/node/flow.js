// The core flow with Tencent Cloud's Node.js SDK (tencentcloud-sdk-nodejs, pinned in
// package.json / package-lock.json) against `refreshsim serve` with the signature check on:
// Start → poll Describe while advancing the manual clock → a documented error →
// DescribeAutoScalingActivities (following an instance's LastActivityId) → paging through
// DescribeAutoScalingInstances; plus a wrong key refused with AuthFailure.SignatureFailure.
//
// How the SDK reaches the server (README "Node.js SDK"): the client keeps its own endpoint,
// as.tencentcloudapi.com, over plain http://, with `serve` as its HTTP proxy. The SDK derives the
// signature's service from the endpoint's first label and signs the host without a port, so
// this way it signs exactly what Tencent's gateway sees (service `as`, host
// as.tencentcloudapi.com) and `serve` checks the signature unchanged.
//
//   node tests/node/flow.js            # REFRESHSIM_BIN defaults to target/release/refreshsim
"use strict";

const assert = require("node:assert/strict");
const { spawn } = require("node:child_process");
const path = require("node:path");
const readline = require("node:readline");
const { Client: AsClient } = require("tencentcloud-sdk-nodejs/tencentcloud/services/as/v20180419/as_client");

const ROOT = path.resolve(__dirname, "../..");
const BIN = path.resolve(ROOT, process.env.REFRESHSIM_BIN || "target/release/refreshsim");
const SCENARIO = path.join(ROOT, "tests/sdk/scenarios/sdk-lifecycle.toml");
const GROUP = "asg-sdk00001";
const SECRET_ID = "AKIDnodeexample";
const SECRET_KEY = "node-secret";
const REGION = "ap-guangzhou";
const POLLS_MAX = 200;
// The whole script is bounded: a hung server or SDK fails it instead of stalling CI.
const WALL_MS_MAX = 120_000;

/** Starts `refreshsim serve` on a free port; resolves to { child, address }. */
function startServer() {
  const child = spawn(
    BIN,
    ["serve", SCENARIO, "--listen", "127.0.0.1:0", "--secret-id", SECRET_ID, "--secret-key", SECRET_KEY],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    const lines = readline.createInterface({ input: child.stdout });
    lines.once("line", (line) => {
      const prefix = "refreshsim serve: listening on http://";
      if (!line.startsWith(prefix)) {
        reject(new Error(`refreshsim serve did not start: ${JSON.stringify(line)}`));
        return;
      }
      resolve({ child, address: line.slice(prefix.length).trim() });
    });
  });
}

/** An AS client as README shows it: default endpoint, http://, serve as the proxy. */
function asClient(address, secretKey = SECRET_KEY) {
  return new AsClient({
    credential: { secretId: SECRET_ID, secretKey },
    region: REGION,
    profile: {
      httpProfile: { protocol: "http://", proxy: `http://${address}`, reqTimeout: 30 },
    },
  });
}

/** A control endpoint (plain JSON, no signature), straight to the server. */
async function control(address, method, target) {
  const response = await fetch(`http://${address}/_refreshsim/${target}`, {
    method,
    signal: AbortSignal.timeout(30_000),
  });
  assert.equal(response.status, 200, `${target}: ${await response.clone().text()}`);
  return response.json();
}

async function expectError(promise, code) {
  try {
    await promise;
  } catch (e) {
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    assert.ok(e.requestId, "an error carries its RequestId");
    return e;
  }
  assert.fail(`expected ${code}, the call succeeded`);
}

async function describeActivity(client, activityId) {
  const answer = await client.DescribeRefreshActivities({ RefreshActivityIds: [activityId] });
  assert.equal(answer.TotalCount, 1);
  return answer.RefreshActivitySet[0];
}

async function flow(address) {
  const client = asClient(address);
  const steps = [];

  // 1. Start.
  const started = await client.StartInstanceRefresh({
    AutoScalingGroupId: GROUP,
    RefreshMode: "ROLLING_UPDATE_RESET",
    RefreshSettings: { RollingUpdateSettings: { BatchNumber: 6 } },
  });
  const activityId = started.RefreshActivityId;
  assert.match(activityId, /^asr-/);
  assert.ok(started.RequestId);
  steps.push(`StartInstanceRefresh → ${activityId}`);

  // 2. Poll while advancing the manual clock: instance #2 fails its first reinstall.
  let activity = await describeActivity(client, activityId);
  let polls = 0;
  while (!["FAILED_PAUSE", "AUTO_PAUSE", "MANUAL_PAUSE", "SUCCESSFUL"].includes(activity.Status)) {
    assert.ok(polls++ < POLLS_MAX, `still ${activity.Status} after ${POLLS_MAX} polls`);
    await control(address, "POST", "advance?to=next-event");
    activity = await describeActivity(client, activityId);
  }
  assert.equal(activity.Status, "FAILED_PAUSE");
  const batch2 = activity.RefreshBatchSet.find((b) => b.RefreshBatchNum === 2);
  assert.equal(batch2.RefreshBatchStatus, "FAILED");
  const failed = batch2.RefreshBatchRelatedInstanceSet[0];
  assert.equal(failed.InstanceStatus, "FAILED");
  assert.match(failed.InstanceStatusMessage, /disk attach timeout/);
  steps.push(`polled ${polls} times while advancing: FAILED_PAUSE at batch 2 (${failed.InstanceId})`);

  // 3. A documented error: a second Start while one is in progress.
  const refused = await expectError(
    client.StartInstanceRefresh({
      AutoScalingGroupId: GROUP,
      RefreshSettings: { RollingUpdateSettings: { BatchNumber: 1 } },
    }),
    "ResourceUnavailable.AutoScalingGroupInRefreshActivity",
  );
  steps.push(`second Start refused: ${refused.code}`);

  // 4. Paging through DescribeAutoScalingInstances: 6 instances, 4 per page.
  const seen = [];
  let total;
  for (let offset = 0; ; offset += 4) {
    const page = await client.DescribeAutoScalingInstances({
      Filters: [{ Name: "auto-scaling-group-id", Values: [GROUP] }],
      Limit: 4,
      Offset: offset,
    });
    total = page.TotalCount;
    assert.ok(page.AutoScalingInstanceSet.length <= 4);
    if (page.AutoScalingInstanceSet.length === 0) break;
    seen.push(...page.AutoScalingInstanceSet);
    assert.ok(offset < 100, "paging does not end");
  }
  assert.equal(total, 6);
  assert.equal(new Set(seen.map((i) => i.InstanceId)).size, 6, "pages overlap or miss instances");
  steps.push(`DescribeAutoScalingInstances: ${seen.length} instances in ${Math.ceil(seen.length / 4)} pages of 4, TotalCount ${total}`);

  // 5. DescribeAutoScalingActivities: the group's activities, and the one the failed
  // instance's LastActivityId (in the refresh batch) names, with the failure message.
  const all = await client.DescribeAutoScalingActivities({
    Filters: [{ Name: "auto-scaling-group-id", Values: [GROUP] }],
  });
  assert.ok(all.TotalCount >= 1, JSON.stringify(all));
  const last = failed.LastActivityId;
  assert.match(last, /^asa-/, `no LastActivityId on ${failed.InstanceId}`);
  const named = await client.DescribeAutoScalingActivities({ ActivityIds: [last] });
  assert.equal(named.TotalCount, 1);
  const act = named.ActivitySet[0];
  assert.equal(act.ActivityId, last);
  assert.equal(act.AutoScalingGroupId, GROUP);
  assert.equal(act.StatusCode, "FAILED");
  assert.match(act.StatusMessage, /disk attach timeout/);
  assert.ok(
    act.ActivityRelatedInstanceSet.some((r) => r.InstanceId === failed.InstanceId),
    `the activity ${last} does not list ${failed.InstanceId}: ${JSON.stringify(act)}`,
  );
  steps.push(`DescribeAutoScalingActivities: ${all.TotalCount} for the group; ${last} (${act.StatusCode}) lists ${failed.InstanceId}`);

  // 6. The signature check is on: a wrong key is refused.
  await expectError(
    asClient(address, "wrong-key").DescribeRefreshActivities({ RefreshActivityIds: [activityId] }),
    "AuthFailure.SignatureFailure",
  );
  steps.push("wrong secret key refused: AuthFailure.SignatureFailure");
  return steps;
}

async function main() {
  const timer = setTimeout(() => {
    console.error(`tests/node/flow.js: not done after ${WALL_MS_MAX} ms`);
    process.exit(1);
  }, WALL_MS_MAX);
  const started = Date.now();
  const { child, address } = await startServer();
  try {
    const steps = await flow(address);
    for (const step of steps) console.log(`ok: ${step}`);
    console.log(`tests/node/flow.js: the Node.js SDK flow passed in ${Date.now() - started} ms`);
  } finally {
    child.kill();
    clearTimeout(timer);
  }
}

main().catch((e) => {
  console.error("tests/node/flow.js FAILED:", e);
  process.exit(1);
});
