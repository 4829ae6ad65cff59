//! Loopback load test of `refreshsim serve` (the real binary, manual clock): 8 concurrent
//! clients make 10,000 Describe calls, each after advancing the clock by 1 s (so the per-action
//! rate limit, 20 per simulated second, is never hit), while an operator client interleaves
//! Stop and Resume calls on a running refresh. Bounded in count and in time.
//!
//! Checks: every call succeeds; no advance is lost (final time = advances × 1 s); no call is
//! lost or reordered (every RequestId is distinct, and the timeline lists each client's calls
//! in the order it made them); no client sees the refresh go backwards. Prints throughput and
//! latency percentiles to stderr (bypassing the test harness's capture, so CI shows them).

use crate::serve_common::{Client, ServeProcess};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::thread;
use std::time::{Duration, Instant};

const CLIENTS: usize = 8;
const DESCRIBES_PER_CLIENT: usize = 1250;
const OPERATOR_CYCLES: usize = 100;
const GROUP: &str = "asg-load0001";
/// The whole test must finish well within this (it takes a few seconds).
const WALL_TIME_MAX: Duration = Duration::from_secs(120);

/// What one client did, in its own order.
#[derive(Default)]
struct Log {
    request_ids: Vec<String>,
    advance_times_ms: Vec<u64>,
    latencies_us: Vec<u64>,
    describe_latencies_us: Vec<u64>,
}

impl Log {
    fn timed<T>(&mut self, describe: bool, f: impl FnOnce() -> T) -> T {
        let started = Instant::now();
        let result = f();
        let micros = started.elapsed().as_micros() as u64;
        self.latencies_us.push(micros);
        if describe {
            self.describe_latencies_us.push(micros);
        }
        result
    }

    fn advance_one_second(&mut self, client: &mut Client) {
        let report = self.timed(false, || client.advance("by=1s"));
        self.advance_times_ms
            .push(report["time_ms"].as_u64().expect("time_ms"));
    }

    /// An API call that must succeed; its RequestId is logged.
    fn call(&mut self, client: &mut Client, action: &str, body: &Value, describe: bool) -> Value {
        let response = self.timed(describe, || client.api(action, body));
        assert_eq!(response.status, 200);
        let json = response.json();
        assert!(
            json["Response"].get("Error").is_none(),
            "{action} failed: {json}"
        );
        let request_id = json["Response"]["RequestId"].as_str().expect("RequestId");
        self.request_ids.push(request_id.to_string());
        json
    }
}

fn describe_client(addr: &str, index: usize, activity_id: &str) -> Log {
    let mut client = Client::connect(addr);
    let mut log = Log::default();
    let mut batch_seen = 0u64;
    for n in 0..DESCRIBES_PER_CLIENT {
        log.advance_one_second(&mut client);
        // Half the clients alternate with DescribeAutoScalingGroups (its own rate window).
        if index % 2 == 1 && n % 2 == 1 {
            let body = json!({ "AutoScalingGroupIds": [GROUP] });
            let groups = log.call(&mut client, "DescribeAutoScalingGroups", &body, true);
            let group = &groups["Response"]["AutoScalingGroupSet"][0];
            assert_eq!(
                group["EnabledStatus"], "DISABLED",
                "held during the refresh"
            );
            continue;
        }
        let body = json!({ "RefreshActivityIds": [activity_id] });
        let described = log.call(&mut client, "DescribeRefreshActivities", &body, true);
        let activity = &described["Response"]["RefreshActivitySet"][0];
        let status = activity["Status"].as_str().expect("Status");
        assert!(
            matches!(status, "RUNNING" | "MANUAL_PAUSE"),
            "unexpected status {status}"
        );
        let batch = activity["CurrentRefreshBatchNum"].as_u64().expect("batch");
        assert!(
            batch >= batch_seen,
            "the refresh went back: {batch_seen} → {batch}"
        );
        batch_seen = batch;
    }
    log
}

fn operator(addr: &str, activity_id: &str) -> Log {
    let mut client = Client::connect(addr);
    let mut log = Log::default();
    let body = json!({ "AutoScalingGroupId": GROUP, "RefreshActivityId": activity_id });
    let resume = json!({
        "AutoScalingGroupId": GROUP, "RefreshActivityId": activity_id, "ResumeMode": "CONTINUE"
    });
    for _ in 0..OPERATOR_CYCLES {
        log.advance_one_second(&mut client);
        log.call(&mut client, "StopInstanceRefresh", &body, false);
        log.advance_one_second(&mut client);
        log.call(&mut client, "ResumeInstanceRefresh", &resume, false);
    }
    log
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The RequestIds of the timeline's `api_call` rows, in timeline order.
fn timeline_request_ids(client: &mut Client) -> Vec<String> {
    let response = client.control("GET", "timeline?format=jsonl");
    assert_eq!(response.status, 200);
    assert_eq!(response.header("X-Refreshsim-Timeline-Dropped"), Some("0"));
    let text = String::from_utf8(response.body).expect("UTF-8");
    text.lines()
        .map(|line| serde_json::from_str::<Value>(line).expect("a JSON row"))
        .filter(|row| row["kind"] == "api_call")
        .map(|row| {
            let detail = row["detail"].as_str().expect("detail");
            let id = detail
                .strip_prefix("request_id=")
                .and_then(|rest| rest.split(' ').next())
                .expect("request_id= first");
            id.to_string()
        })
        .collect()
}

/// Whether `sub` appears in `all` in the same order.
fn is_subsequence(sub: &[String], all: &[String]) -> bool {
    let mut rest = all.iter();
    sub.iter().all(|wanted| rest.any(|x| x == wanted))
}

#[test]
fn eight_clients_ten_thousand_describes_interleaved_with_refresh_calls() {
    let started = Instant::now();
    let server = ServeProcess::start("tests/fixtures/serve/load.toml", &[]);
    let mut setup = Client::connect(&server.addr);
    let start_body = json!({
        "AutoScalingGroupId": GROUP,
        "RefreshSettings": { "RollingUpdateSettings": { "BatchNumber": 10 } }
    });
    let started_refresh = setup.api("StartInstanceRefresh", &start_body).json();
    let activity_id = started_refresh["Response"]["RefreshActivityId"]
        .as_str()
        .unwrap_or_else(|| panic!("Start failed: {started_refresh}"))
        .to_string();

    let load_started = Instant::now();
    let logs: Vec<Log> = thread::scope(|scope| {
        let mut handles: Vec<_> = (0..CLIENTS)
            .map(|i| {
                let (addr, id) = (&server.addr, &activity_id);
                scope.spawn(move || describe_client(addr, i, id))
            })
            .collect();
        let (addr, id) = (&server.addr, &activity_id);
        handles.push(scope.spawn(move || operator(addr, id)));
        handles
            .into_iter()
            .map(|h| h.join().expect("a client panicked"))
            .collect()
    });
    let load_wall = load_started.elapsed();

    // No advance lost: each moved the one shared clock by exactly 1 s.
    let advances: usize = logs.iter().map(|l| l.advance_times_ms.len()).sum();
    let time = setup.control("GET", "time").json();
    assert_eq!(time["time_ms"], json!(advances as u64 * 1000));
    let mut all_times: Vec<u64> = logs
        .iter()
        .flat_map(|l| l.advance_times_ms.clone())
        .collect();
    all_times.sort_unstable();
    all_times.dedup();
    assert_eq!(
        all_times.len(),
        advances,
        "two advances reported the same time"
    );
    for log in &logs {
        assert!(log.advance_times_ms.windows(2).all(|w| w[0] < w[1]));
    }

    // No call lost or reordered.
    let calls: usize = logs.iter().map(|l| l.request_ids.len()).sum();
    let describes: usize = logs.iter().map(|l| l.describe_latencies_us.len()).sum();
    assert_eq!(describes, CLIENTS * DESCRIBES_PER_CLIENT);
    let distinct: BTreeSet<&String> = logs.iter().flat_map(|l| &l.request_ids).collect();
    assert_eq!(distinct.len(), calls, "RequestIds repeat");
    let in_timeline = timeline_request_ids(&mut setup);
    assert_eq!(in_timeline.len(), calls + 1, "the Start plus every call");
    for log in &logs {
        assert!(is_subsequence(&log.request_ids, &in_timeline));
    }
    let activity = setup
        .api(
            "DescribeRefreshActivities",
            &json!({ "RefreshActivityIds": [activity_id] }),
        )
        .json();
    assert_eq!(
        activity["Response"]["RefreshActivitySet"][0]["Status"], "RUNNING",
        "the operator's last call was a Resume"
    );

    let mut all: Vec<u64> = logs.iter().flat_map(|l| l.latencies_us.clone()).collect();
    let mut describe: Vec<u64> = logs
        .iter()
        .flat_map(|l| l.describe_latencies_us.clone())
        .collect();
    all.sort_unstable();
    describe.sort_unstable();
    let by_kind: BTreeMap<&str, usize> = [
        ("describe calls", describes),
        ("stop/resume calls", calls - describes),
        ("clock advances", advances),
    ]
    .into_iter()
    .collect();
    let report = format!(
        "serve load test: {} clients + 1 operator, {} requests ({by_kind:?}) in {:.2} s: \
         {:.0} requests/s; latency all p50 {} µs p99 {} µs max {} µs; \
         Describe p50 {} µs p99 {} µs\n",
        CLIENTS,
        all.len(),
        load_wall.as_secs_f64(),
        all.len() as f64 / load_wall.as_secs_f64(),
        percentile(&all, 50.0),
        percentile(&all, 99.0),
        all[all.len() - 1],
        percentile(&describe, 50.0),
        percentile(&describe, 99.0),
    );
    // Straight to stderr: the harness captures print!/eprint!, not the stream itself.
    let _ = std::io::stderr().write_all(report.as_bytes());
    assert!(
        started.elapsed() < WALL_TIME_MAX,
        "took {:?}",
        started.elapsed()
    );
}
