//! `refreshsim serve`, the real binary over loopback: the API 3.0 envelope, bad input answered
//! with Tencent's codes (and the server serving on), signatures, control endpoints, clocks, and
//! byte-for-byte determinism under the manual clock.

use crate::serve_common::{
    Client, HttpResponse, LISTENING, ServeProcess, UNCHECKED_AUTHORIZATION, fixture,
};
use refreshsim::serve::auth::{CanonicalRequest, Credentials, authorization_header, sha256_hex};
use serde_json::{Value, json};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const LIFECYCLE: &str = "tests/sdk/scenarios/sdk-lifecycle.toml";
const GROUP: &str = "asg-sdk00001";

fn start_body(batch_number: u64) -> Value {
    json!({
        "AutoScalingGroupId": GROUP,
        "RefreshSettings": { "RollingUpdateSettings": { "BatchNumber": batch_number } }
    })
}

fn assert_healthy(client: &mut Client) {
    let health = client.control("GET", "health");
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "ok");
}

#[test]
fn success_and_error_envelopes_have_tencents_shape() {
    let server = ServeProcess::start(LIFECYCLE, &[]);
    let mut client = server.client();
    let started = client.api("StartInstanceRefresh", &start_body(3));
    assert_eq!(started.status, 200);
    assert_eq!(started.header("Content-Type"), Some("application/json"));
    let json = started.json();
    let response = json["Response"].as_object().expect("Response");
    assert_eq!(
        response.keys().collect::<Vec<_>>(),
        ["RefreshActivityId", "RequestId"]
    );
    assert!(
        response["RefreshActivityId"]
            .as_str()
            .unwrap()
            .starts_with("asr-")
    );
    assert_eq!(response["RequestId"].as_str().unwrap().len(), 36);

    let refused = client.api("StartInstanceRefresh", &start_body(3));
    assert_eq!(refused.status, 200, "Tencent answers errors with HTTP 200");
    let json = refused.json();
    let response = json["Response"].as_object().expect("Response");
    assert_eq!(response.keys().collect::<Vec<_>>(), ["Error", "RequestId"]);
    assert_eq!(
        response["Error"]["Code"],
        "ResourceUnavailable.AutoScalingGroupInRefreshActivity"
    );
    assert!(response["Error"]["Message"].as_str().unwrap().len() > 10);

    let stopped = client.api(
        "StopInstanceRefresh",
        &json!({ "AutoScalingGroupId": GROUP, "RefreshActivityId": json!(started.json()["Response"]["RefreshActivityId"]) }),
    );
    let json = stopped.json();
    assert_eq!(
        json["Response"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["RequestId"]
    );
}

#[test]
fn oq58_oq59_bad_requests_get_tencent_codes_and_the_server_keeps_serving() {
    let server = ServeProcess::start(LIFECYCLE, &[]);
    let mut client = server.client();
    let json_headers: &[(&str, &str)] = &[
        ("X-TC-Action", "DescribeRefreshActivities"),
        ("X-TC-Version", "2018-04-19"),
        ("X-TC-Region", "ap-guangzhou"),
        ("X-TC-Timestamp", "1700000000"),
        ("Authorization", UNCHECKED_AUTHORIZATION),
    ];
    let pick = |indices: &[usize]| -> Vec<(&str, &str)> {
        indices.iter().map(|i| json_headers[*i]).collect()
    };
    let code = |r: HttpResponse| {
        assert_eq!(r.status, 200);
        r.error_code()
    };
    let cases: Vec<(&str, HttpResponse, &str)> = vec![
        (
            "malformed JSON",
            client.request("POST", "/", json_headers, b"{\"Limit\": "),
            "InvalidParameter",
        ),
        (
            "a JSON array body",
            client.request("POST", "/", json_headers, b"[1, 2]"),
            "InvalidParameter",
        ),
        (
            "a wrong type",
            client.api("DescribeRefreshActivities", &json!({ "Limit": "ten" })),
            "InvalidParameter",
        ),
        (
            "an unknown field",
            client.api("DescribeRefreshActivities", &json!({ "Colour": 1 })),
            "UnknownParameter",
        ),
        (
            "a missing field",
            client.api(
                "StartInstanceRefresh",
                &json!({ "AutoScalingGroupId": GROUP }),
            ),
            "MissingParameter",
        ),
        (
            "no X-TC-Action",
            client.request("POST", "/", &json_headers[1..], b"{}"),
            "MissingParameter",
        ),
        (
            "no X-TC-Version",
            client.request("POST", "/", &pick(&[0, 2, 3, 4]), b"{}"),
            "MissingParameter",
        ),
        (
            "no X-TC-Region",
            client.request("POST", "/", &pick(&[0, 1, 3, 4]), b"{}"),
            "MissingParameter",
        ),
        (
            "no Authorization (no credentials set)",
            client.request("POST", "/", &json_headers[..4], b"{}"),
            "AuthFailure.InvalidAuthorization",
        ),
        (
            "no X-TC-Timestamp (no credentials set)",
            client.request("POST", "/", &pick(&[0, 1, 2, 4]), b"{}"),
            "MissingParameter",
        ),
        (
            "an unknown version",
            client.request(
                "POST",
                "/",
                &[
                    json_headers[0],
                    ("X-TC-Version", "2017-03-12"),
                    json_headers[2],
                    json_headers[3],
                    json_headers[4],
                ],
                b"{}",
            ),
            "NoSuchVersion",
        ),
        (
            "an unknown action",
            client.api("RunInstances", &json!({})),
            "InvalidAction",
        ),
        (
            "PUT",
            client.request("PUT", "/", json_headers, b"{}"),
            "UnsupportedProtocol",
        ),
        (
            "GET",
            client.request("GET", "/", json_headers, b""),
            "UnsupportedOperation",
        ),
        (
            "deep nesting",
            client.request(
                "POST",
                "/",
                json_headers,
                format!("{}{}", "[".repeat(5000), "]".repeat(5000)).as_bytes(),
            ),
            "InvalidParameter",
        ),
    ];
    for (what, response, expected) in cases {
        assert_eq!(code(response).as_deref(), Some(expected), "{what}");
    }

    // Over 1 MiB: refused without reading the body, then the connection is closed.
    let big = vec![b' '; 1024 * 1024 + 1];
    let too_large = client.request("POST", "/", json_headers, &big);
    assert_eq!(
        too_large.error_code().as_deref(),
        Some("RequestSizeLimitExceeded")
    );
    assert_eq!(too_large.header("Connection"), Some("close"));

    // HTTP-level garbage: 4xx answers with a Tencent error envelope, connection closed.
    let envelope_code = |r: &HttpResponse| -> String {
        assert_eq!(r.header("Content-Type"), Some("application/json"));
        let v = r.json();
        assert!(v["Response"]["RequestId"].is_string(), "{v}");
        v["Response"]["Error"]["Code"].as_str().unwrap().to_string()
    };
    let mut raw = server.client();
    let garbage = raw.send_raw(b"\x16\x03\x01 not http\r\n\r\n");
    assert_eq!(garbage.status, 400);
    assert_eq!(envelope_code(&garbage), "UnsupportedProtocol");
    assert_eq!(garbage.header("Connection"), Some("close"));
    let mut raw = server.client();
    let huge_header = format!("POST / HTTP/1.1\r\nX-Big: {}\r\n\r\n", "a".repeat(20_000));
    let huge = raw.send_raw(huge_header.as_bytes());
    assert_eq!(huge.status, 431);
    assert_eq!(envelope_code(&huge), "RequestSizeLimitExceeded");
    let mut raw = server.client();
    let bad_length = raw.send_raw(b"POST / HTTP/1.1\r\nContent-Length: ten\r\n\r\n");
    assert_eq!(bad_length.status, 400);
    assert_eq!(envelope_code(&bad_length), "UnsupportedProtocol");
    let mut raw = server.client();
    let bad_chunk =
        raw.send_raw(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n");
    assert_eq!(bad_chunk.status, 400);
    assert_eq!(envelope_code(&bad_chunk), "UnsupportedProtocol");
    let mut raw = server.client();
    let nothing = raw.control("GET", "nothing");
    assert_eq!(nothing.status, 404);
    assert_eq!(envelope_code(&nothing), "UnsupportedOperation");
    assert!(nothing.json()["error"].is_string(), "the old field stays");
    assert_eq!(raw.control("GET", "advance").status, 405);
    let elsewhere = raw.request("GET", "/elsewhere", &[], b"");
    assert_eq!(elsewhere.status, 404);
    assert_eq!(envelope_code(&elsewhere), "UnsupportedOperation");

    let mut fresh = server.client();
    assert_healthy(&mut fresh);
    let ok = fresh.api("DescribeRefreshActivities", &json!({}));
    assert_eq!(ok.error_code(), None);
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// An API call signed like the SDKs sign it.
fn signed_call(
    client: &mut Client,
    addr: &str,
    credentials: &Credentials,
    body: &str,
) -> HttpResponse {
    let timestamp = unix_now();
    let canonical = CanonicalRequest {
        method: "POST",
        uri: "/",
        query: "",
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("host".into(), addr.to_string()),
        ],
        hashed_payload: sha256_hex(body.as_bytes()),
    };
    let authorization = authorization_header(credentials, &canonical, timestamp);
    client.request(
        "POST",
        "/",
        &[
            ("Content-Type", "application/json"),
            ("X-TC-Action", "DescribeRefreshActivities"),
            ("X-TC-Version", "2018-04-19"),
            ("X-TC-Region", "ap-guangzhou"),
            ("X-TC-Timestamp", &timestamp.to_string()),
            ("Authorization", &authorization),
        ],
        body.as_bytes(),
    )
}

#[test]
fn oq60_signatures_are_checked_with_credentials() {
    let server = ServeProcess::start(
        LIFECYCLE,
        &["--secret-id", "AKIDserve", "--secret-key", "k3y"],
    );
    let mut client = server.client();
    let good = Credentials {
        secret_id: "AKIDserve".into(),
        secret_key: "k3y".into(),
    };
    assert_eq!(
        signed_call(&mut client, &server.addr, &good, "{}").error_code(),
        None
    );
    let wrong_key = Credentials {
        secret_key: "nope".into(),
        ..good.clone()
    };
    assert_eq!(
        signed_call(&mut client, &server.addr, &wrong_key, "{}")
            .error_code()
            .as_deref(),
        Some("AuthFailure.SignatureFailure")
    );
    assert_eq!(
        client
            .request(
                "POST",
                "/",
                &[
                    ("X-TC-Action", "DescribeRefreshActivities"),
                    ("X-TC-Version", "2018-04-19"),
                    ("X-TC-Region", "ap-guangzhou"),
                    ("X-TC-Timestamp", "1700000000"),
                ],
                b"{}",
            )
            .error_code()
            .as_deref(),
        Some("AuthFailure.InvalidAuthorization"),
        "unsigned"
    );
    let garbled = client.request(
        "POST",
        "/",
        &[
            ("X-TC-Action", "DescribeRefreshActivities"),
            ("Authorization", "Basic Zm9vOmJhcg=="),
        ],
        b"{}",
    );
    assert_eq!(
        garbled.error_code().as_deref(),
        Some("AuthFailure.InvalidAuthorization")
    );
}

#[test]
fn oq62_requests_refused_before_the_engine_leave_no_trace() {
    let server = ServeProcess::start(LIFECYCLE, &[]);
    let mut client = server.client();
    let no_region: &[(&str, &str)] = &[
        ("X-TC-Action", "DescribeRefreshActivities"),
        ("X-TC-Version", "2018-04-19"),
        ("X-TC-Timestamp", "1700000000"),
        ("Authorization", UNCHECKED_AUTHORIZATION),
    ];
    for _ in 0..25 {
        let refused = client.request("POST", "/", no_region, b"{}");
        assert_eq!(refused.error_code().as_deref(), Some("MissingParameter"));
    }
    // They did not count against the 20-per-second rate limit of the action (OQ-30)...
    for _ in 0..20 {
        assert_eq!(
            client
                .api("DescribeRefreshActivities", &json!({}))
                .error_code(),
            None
        );
    }
    // ...and the timeline has only the engine's calls.
    let timeline = client.control("GET", "timeline?format=jsonl");
    let calls = String::from_utf8(timeline.body)
        .unwrap()
        .lines()
        .filter(|l| l.contains("\"kind\":\"api_call\""))
        .count();
    assert_eq!(calls, 20);
}

#[test]
fn control_endpoints_move_and_report_simulated_time() {
    let server = ServeProcess::start(LIFECYCLE, &[]);
    let mut client = server.client();
    let time = client.control("GET", "time").json();
    assert_eq!(time["time_ms"], 0);
    assert_eq!(time["time"], "2025-05-01T09:00:00Z");
    assert_eq!(time["idle"], true);
    assert_eq!(client.advance("by=2m30s")["time_ms"], 150_000);
    assert_eq!(
        client.advance("to=next-event")["advanced_ms"],
        0,
        "nothing scheduled"
    );

    client.api("StartInstanceRefresh", &start_body(6));
    let next = client.advance("to=next-event");
    assert_eq!(
        next["time_ms"],
        150_000 + 90_000,
        "batch 1's reinstall ends"
    );
    assert!(next["events"].as_u64().unwrap() >= 1);
    let idle = client.advance("to=idle");
    assert_eq!(idle["idle"], true, "{idle}");

    for (query, status) in [
        ("by=31d", 422),
        ("by=soon", 400),
        ("to=tomorrow", 400),
        ("by=1s&to=idle", 400),
        ("", 400),
    ] {
        let r = client.control("POST", &format!("advance?{query}"));
        assert_eq!(r.status, status, "{query}");
        assert!(r.json()["error"].is_string());
    }

    let csv = client.control("GET", "timeline?format=csv");
    assert_eq!(csv.header("Content-Type"), Some("text/csv"));
    assert!(csv.body.starts_with(b"time_ms,time,seq,kind,"));
    let jsonl = client.control("GET", "timeline");
    assert_eq!(jsonl.header("Content-Type"), Some("application/x-ndjson"));
    let first: Value =
        serde_json::from_slice(jsonl.body.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(first["kind"], "run");
    assert!(first["detail"].as_str().unwrap().contains("seed=61"));
    assert_eq!(client.control("GET", "timeline?format=xml").status, 400);

    let reset = client.control("POST", "reset").json();
    assert_eq!(reset["time_ms"], 0);
    let listed = client.api("DescribeRefreshActivities", &json!({})).json();
    assert_eq!(
        listed["Response"]["TotalCount"], 0,
        "reset forgets the refresh"
    );
    let health = client.control("GET", "health").json();
    assert_eq!(health["scenario"], "sdk-lifecycle");
    assert_eq!(health["clock"], "manual");
}

/// The same calls and advances, in a fresh server or after a reset, give the same bytes.
fn session_transcript(client: &mut Client) -> Vec<u8> {
    let mut out = Vec::new();
    let mut record = |r: HttpResponse| {
        out.extend_from_slice(&r.body);
        out.push(b'\n');
    };
    record(client.api("StartInstanceRefresh", &start_body(6)));
    let id = {
        let listed = client.api("DescribeRefreshActivities", &json!({}));
        let id = listed.json()["Response"]["RefreshActivitySet"][0]["RefreshActivityId"].clone();
        record(listed);
        id
    };
    let activity = json!({ "AutoScalingGroupId": GROUP, "RefreshActivityId": id });
    for _ in 0..40 {
        record(client.control("POST", "advance?to=next-event"));
        let described = client.api(
            "DescribeRefreshActivities",
            &json!({ "RefreshActivityIds": [id] }),
        );
        let status = described.json()["Response"]["RefreshActivitySet"][0]["Status"].clone();
        record(described);
        if status == "FAILED_PAUSE" {
            let mut resume = activity.clone();
            resume["ResumeMode"] = json!("CONTINUE");
            record(client.api("ResumeInstanceRefresh", &resume));
        }
    }
    record(client.api("StopInstanceRefresh", &activity));
    record(client.api("RunInstances", &json!({})));
    record(client.request(
        "POST",
        "/",
        &[("X-TC-Action", "StartInstanceRefresh")],
        b"{",
    ));
    record(client.api("DescribeAutoScalingInstances", &json!({})));
    record(client.control("GET", "timeline?format=csv"));
    out
}

#[test]
fn the_manual_clock_is_deterministic_byte_for_byte() {
    let first = ServeProcess::start(LIFECYCLE, &[]);
    let second = ServeProcess::start(LIFECYCLE, &[]);
    let mut a = first.client();
    let mut b = second.client();
    let transcript = session_transcript(&mut a);
    assert!(transcript.len() > 10_000);
    assert_eq!(transcript, session_transcript(&mut b), "two servers");
    a.control("POST", "reset");
    assert_eq!(transcript, session_transcript(&mut a), "after a reset");
    let other_seed = ServeProcess::start(LIFECYCLE, &["--seed", "62"]);
    assert_ne!(
        transcript,
        session_transcript(&mut other_seed.client()),
        "the seed changes ids"
    );
}

#[test]
fn concurrent_clients_are_applied_one_at_a_time() {
    let server = ServeProcess::start(LIFECYCLE, &[]);
    // Eight clients race to start the same refresh: exactly one wins.
    let outcomes: Vec<Option<String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                scope.spawn(|| {
                    let mut client = server.client();
                    client
                        .api("StartInstanceRefresh", &start_body(2))
                        .error_code()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(outcomes.iter().filter(|c| c.is_none()).count(), 1);
    assert!(
        outcomes
            .iter()
            .flatten()
            .all(|c| c == "ResourceUnavailable.AutoScalingGroupInRefreshActivity")
    );
}

#[test]
fn a_scaled_clock_moves_by_itself() {
    let server = ServeProcess::start(LIFECYCLE, &["--clock", "scaled:3600"]);
    let mut client = server.client();
    client.api("StartInstanceRefresh", &start_body(6));
    std::thread::sleep(Duration::from_millis(400));
    let time = client.control("GET", "time").json();
    // 0.4 s real × 3600 = 24 simulated minutes: the 90 s reinstalls of several batches are done.
    assert!(time["time_ms"].as_u64().unwrap() >= 1_200_000, "{time}");
    let listed = client.api("DescribeRefreshActivities", &json!({})).json();
    let activity = &listed["Response"]["RefreshActivitySet"][0];
    assert_ne!(
        activity["RefreshBatchSet"][5]["RefreshBatchStatus"], "WAITING",
        "{activity}"
    );
    assert_eq!(
        client.control("GET", "health").json()["clock"],
        "scaled:3600"
    );
}

#[test]
fn bad_command_lines_exit_2() {
    let bin = env!("CARGO_BIN_EXE_refreshsim");
    let lifecycle = fixture(LIFECYCLE);
    let lifecycle = lifecycle.to_str().unwrap();
    for args in [
        vec!["serve", "no-such-file.toml"],
        vec!["serve", lifecycle, "--clock", "fast"],
        vec!["serve", lifecycle, "--clock", "scaled:0"],
        vec!["serve", lifecycle, "--secret-id", "AKIDx"],
        vec!["serve", lifecycle, "--listen", "not an address"],
    ] {
        let output = Command::new(bin).args(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(!String::from_utf8_lossy(&output.stdout).contains(LISTENING));
    }
}

/// `Transfer-Encoding: chunked` request bodies are read like `Content-Length` ones, under the
/// same 1 MiB cap; the connection stays usable after a chunked request.
#[test]
fn chunked_request_bodies_are_accepted_under_the_same_cap() {
    let server = ServeProcess::start(LIFECYCLE, &[]);
    let mut client = server.client();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nX-TC-Action: DescribeRefreshActivities\r\nX-TC-Version: 2018-04-19\r\nX-TC-Region: ap-guangzhou\r\nX-TC-Timestamp: 1700000000\r\nAuthorization: {UNCHECKED_AUTHORIZATION}\r\n\r\n"
    );
    let body = "{\"Limit\":   5}".to_string();
    let (a, b) = body.split_at(10);
    let mut bytes = head.clone().into_bytes();
    bytes.extend_from_slice(
        format!(
            "{:x}\r\n{a}\r\n{:x};x=y\r\n{b}\r\n0\r\n\r\n",
            a.len(),
            b.len()
        )
        .as_bytes(),
    );
    let ok = client.send_raw(&bytes);
    assert_eq!(ok.status, 200);
    assert_eq!(
        ok.error_code(),
        None,
        "{}",
        String::from_utf8_lossy(&ok.body)
    );
    assert!(ok.json()["Response"]["TotalCount"].is_u64());
    // The same connection goes on.
    assert_eq!(
        client
            .api("DescribeRefreshActivities", &json!({}))
            .error_code(),
        None
    );
    // A body whose chunks add up to more than 1 MiB is refused once the cap is passed.
    let mut raw = server.client();
    let mut big = head.into_bytes();
    let chunk = vec![b' '; 600 * 1024];
    for _ in 0..2 {
        big.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        big.extend_from_slice(&chunk);
        big.extend_from_slice(b"\r\n");
    }
    big.extend_from_slice(b"0\r\n\r\n");
    let refused = raw.send_raw(&big);
    assert_eq!(
        refused.error_code().as_deref(),
        Some("RequestSizeLimitExceeded")
    );
    assert_eq!(refused.header("Connection"), Some("close"));
}
