//! The bodies of the fuzz targets (README "Fuzzing"): each takes the fuzzer's bytes, feeds them
//! to one of refreshsim's readers, and panics when a property breaks. The targets in
//! `fuzz_targets/` are one line each, so a finding reproduces from a plain test as well.
//!
//! Every input ends fast: scenario runs are bounded (`bound`), sessions are small (`world.toml`)
//! and their advances capped.

use refreshsim::api::{Action, ApiCall, ErrorCode};
use refreshsim::check::check_describe_history;
use refreshsim::check::input::{Input, parse_describe, parse_input};
use refreshsim::check::replay::check_timeline_and_describe;
use refreshsim::run::run_scenario;
use refreshsim::scenario::{Scenario, parse_scenario};
use refreshsim::serve::clock::ClockMode;
use refreshsim::serve::http::{
    Body, Connection, JSON, ReadLimits, Request, Response, Stream, response_to_read_error,
};
use refreshsim::serve::session::{Advance, DEFAULT_SESSION_LIMITS, Session, SessionTemplate};
use refreshsim::serve::{DEFAULT_LIMITS, ServeConfig, Server, Shared, auth::Credentials, routes};
use refreshsim::timeline::parse::{read_csv, read_jsonl};
use refreshsim::timeline::{RunMeta, Timeline};
use serde_json::Value;
use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// `REFRESHSIM_FUZZ_DEBUG=1`: print what an input did (to look at a finding or a seed).
fn debug() -> bool {
    static DEBUG: OnceLock<bool> = OnceLock::new();
    *DEBUG.get_or_init(|| std::env::var_os("REFRESHSIM_FUZZ_DEBUG").is_some_and(|v| v == "1"))
}

/// The scenario the API and HTTP targets call.
pub const WORLD: &str = include_str!("../world.toml");

// ---- scenario_toml, scenario_json ------------------------------------------------------------

/// Initial instances above which a parsed scenario is not run (parsing still is): a large group
/// spends the fuzzer's time building worlds rather than reaching new code.
const RUN_INSTANCES_MAX: usize = 64;

/// Caps a scenario's run bounds so that every input ends fast (the bounds stay the scenario's
/// own when lower: a run stopped by its own bound is covered too).
pub fn bound(scenario: &mut Scenario) {
    let limits = &mut scenario.limits;
    limits.max_events = limits.max_events.min(5_000);
    limits.max_sim_time_ms = limits.max_sim_time_ms.min(30 * 24 * 3600 * 1000);
    limits.max_records = limits.max_records.min(20_000);
    limits.max_call_bytes = limits.max_call_bytes.min(1 << 20);
}

/// `parse_scenario` on arbitrary text; a scenario that parses is run twice (bounded): the two
/// runs agree, and its timeline reads back from CSV and JSONL as the same timeline.
pub fn scenario(name: &str, data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut scenario = match parse_scenario(name, text) {
        Ok(s) => s,
        Err(e) => {
            assert!(!e.to_string().is_empty(), "an empty error message");
            return;
        }
    };
    if scenario.world.instances.len() > RUN_INSTANCES_MAX {
        return;
    }
    bound(&mut scenario);
    let first = run_scenario(&scenario, scenario.seed, true);
    let second = run_scenario(&scenario, scenario.seed, true);
    let (first, second) = match (first, second) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(a), Err(b)) => {
            assert_eq!(a.to_string(), b.to_string(), "two runs stopped differently");
            return;
        }
        (a, b) => panic!(
            "one run failed, the other did not: {:?} / {:?}",
            a.err(),
            b.err()
        ),
    };
    let (Some(a), Some(b)) = (&first.timeline, &second.timeline) else {
        panic!("run_scenario(keep_timeline = true) kept no timeline");
    };
    let hash = a.content_hash();
    assert_eq!(
        hash,
        b.content_hash(),
        "same scenario and seed, another timeline"
    );
    assert_eq!(
        first.describe, second.describe,
        "same run, another Describe"
    );
    round_trip(a, &first.meta, &hash);
}

/// A timeline written as CSV and as JSONL reads back with the same content hash.
fn round_trip(timeline: &Timeline, meta: &RunMeta, hash: &str) {
    let mut csv = Vec::new();
    timeline
        .write_csv(meta, &mut csv)
        .expect("writing to memory");
    let read = read_csv(csv.as_slice()).unwrap_or_else(|e| panic!("own CSV timeline: {e}"));
    assert_eq!(read.timeline.content_hash(), hash, "CSV round trip");
    assert_eq!(
        read.meta.as_ref(),
        Some(meta),
        "CSV round trip of the run row"
    );
    let mut jsonl = Vec::new();
    timeline
        .write_jsonl(meta, &mut jsonl)
        .expect("writing to memory");
    let read = read_jsonl(jsonl.as_slice()).unwrap_or_else(|e| panic!("own JSONL timeline: {e}"));
    assert_eq!(read.timeline.content_hash(), hash, "JSONL round trip");
}

// ---- api_body --------------------------------------------------------------------------------

fn template() -> &'static SessionTemplate {
    static TEMPLATE: OnceLock<SessionTemplate> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let scenario = parse_scenario("fuzz/world.toml", WORLD).expect("fuzz/world.toml parses");
        let mut limits = DEFAULT_SESSION_LIMITS;
        limits.advance_ms_max = 24 * 3600 * 1000;
        limits.timeline_bytes_max = 1 << 20;
        SessionTemplate::new(scenario, 7, limits).expect("fuzz/world.toml builds")
    })
}

/// Calls one session at most this many times per input.
const CALLS_MAX: usize = 16;

/// Lines of `Action {json body}`: each body goes through `ApiCall::parse` (a refusal is one of
/// the three shape errors) and then to a fresh session of `world.toml`, which advances a minute
/// after each call and to idle at the end.
pub fn api_body(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let template = template();
    let now = Instant::now();
    let mut session = Session::new(template, ClockMode::Manual, now);
    for line in text.lines().take(CALLS_MAX) {
        let (name, body) = line.split_once(' ').unwrap_or((line, "{}"));
        let Some(action) = Action::parse(name) else {
            continue;
        };
        let Ok(body) = serde_json::from_str::<Value>(body) else {
            continue;
        };
        match ApiCall::parse(action, &body) {
            Ok(call) => assert_eq!(call.action(), action),
            Err(e) => assert!(
                matches!(
                    e.code,
                    ErrorCode::MissingParameter
                        | ErrorCode::InvalidParameter
                        | ErrorCode::UnknownParameter
                ),
                "{action:?}: a shape error with code {:?}: {}",
                e.code,
                e.message
            ),
        }
        let response = session.call(template, action, &body);
        if debug() {
            eprintln!("{action:?} {body} -> {response}");
        }
        assert!(
            response["Response"]["RequestId"].is_string(),
            "{action:?}: no RequestId in {response}"
        );
        let _ = session.advance(
            template,
            Advance::By {
                duration_ms: 60_000,
            },
            now,
        );
    }
    let _ = session.advance(template, Advance::Idle, now);
}

// ---- serve_http ------------------------------------------------------------------------------

/// The key pair of the signed server: a request whose `Authorization` names this SecretId is
/// routed to it (its signature is checked), any other to the unsigned one.
pub const SECRET_ID: &str = "AKIDfuzz";

fn servers() -> &'static [Server; 2] {
    static SERVERS: OnceLock<[Server; 2]> = OnceLock::new();
    SERVERS.get_or_init(|| {
        let bind = |credentials: Option<Credentials>| {
            let scenario =
                parse_scenario("fuzz/world.toml", WORLD).expect("fuzz/world.toml parses");
            let mut limits = DEFAULT_LIMITS;
            limits.body_bytes_max = 64 * 1024;
            limits.session.advance_ms_max = 24 * 3600 * 1000;
            limits.session.timeline_bytes_max = 1 << 20;
            let config = ServeConfig {
                // Bound but never accepted on: requests are routed in-process.
                listen: "127.0.0.1:0".parse().expect("an address"),
                clock: ClockMode::Manual,
                credentials,
                seed: None,
                limits,
            };
            Server::bind(scenario, config).expect("fuzz/world.toml serves")
        };
        [
            bind(None),
            bind(Some(Credentials {
                secret_id: SECRET_ID.into(),
                secret_key: "fuzz-secret-key".into(),
            })),
        ]
    })
}

/// The fuzzer's bytes as a client's side of a connection, read in chunks of varying size (so
/// that heads and bodies arrive in pieces); what the server writes is dropped.
struct Wire<'a> {
    input: &'a [u8],
    reads: usize,
}

/// Sizes of successive reads (cycled).
const READ_SIZES: [usize; 5] = [8192, 1, 7, 64, 3];

impl Read for Wire<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let size = READ_SIZES[self.reads % READ_SIZES.len()];
        self.reads += 1;
        let n = size.min(buf.len()).min(self.input.len());
        buf[..n].copy_from_slice(&self.input[..n]);
        self.input = &self.input[n..];
        Ok(n)
    }
}

impl Write for Wire<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Stream for Wire<'_> {
    fn set_read_timeout(&self, _: Option<Duration>) -> io::Result<()> {
        Ok(())
    }
    fn shutdown(&self, _: Shutdown) -> io::Result<()> {
        Ok(())
    }
}

/// Requests read from one connection per input.
const REQUESTS_MAX: usize = 16;

fn signed(request: &Request) -> bool {
    request
        .header("authorization")
        .is_some_and(|a| a.contains(SECRET_ID))
}

/// Asserts what every response must be: JSON bodies parse, API calls are answered 200 with the
/// 3.0 envelope.
fn check_response(request: &Request, response: &Response) {
    if response.content_type == JSON {
        let body: Value = serde_json::from_slice(&response.body)
            .unwrap_or_else(|e| panic!("a JSON response that does not parse: {e}"));
        if request.path == "/" {
            assert_eq!(
                response.status, 200,
                "an API call answered {}",
                response.status
            );
            assert!(
                body["Response"]["RequestId"].is_string(),
                "an API call answered without a RequestId: {body}"
            );
        }
    }
}

/// Arbitrary bytes as one keep-alive connection to `serve`: requests are read with
/// `Connection::read_request` and routed with `routes::route` in-process, as the server's
/// worker does, on fresh sessions.
pub fn serve_http(data: &[u8]) {
    let servers = servers();
    let now = Instant::now();
    for server in servers {
        let shared: &Shared = server.shared();
        let mut session = shared.session.lock().unwrap_or_else(|p| p.into_inner());
        session.reset(&shared.template, now);
    }
    let serve = DEFAULT_LIMITS;
    let limits = ReadLimits {
        head_bytes_max: serve.head_bytes_max,
        headers_max: serve.headers_max,
        body_bytes_max: 64 * 1024,
        idle_timeout: serve.idle_timeout,
        request_deadline: serve.request_deadline,
    };
    let mut connection = Connection::new(Wire {
        input: data,
        reads: 0,
    });
    for _ in 0..REQUESTS_MAX {
        let request = match connection.read_request(&limits) {
            Ok(request) => request,
            Err(error) => {
                if let Some(response) = response_to_read_error(&error) {
                    assert!(response.close, "a read error must close the connection");
                    serde_json::from_slice::<Value>(&response.body).expect("a JSON error");
                    connection
                        .write_response(&response)
                        .expect("writing to memory");
                }
                return;
            }
        };
        let shared = servers[usize::from(signed(&request))].shared();
        let mut response = routes::route(shared, &request);
        if debug() {
            eprintln!(
                "{} {} -> {} {}",
                request.method,
                request.path,
                response.status,
                String::from_utf8_lossy(&response.body)
            );
        }
        check_response(&request, &response);
        let body_unread = matches!(request.body, Body::TooLarge { .. });
        response.close |= request.close || body_unread;
        connection
            .write_response(&response)
            .expect("writing to memory");
        if response.close {
            return;
        }
    }
}

// ---- check -----------------------------------------------------------------------------------

/// `check`'s input reader and checkers. The input is the file `check` reads, optionally
/// followed by a NUL byte and a `--describe` file.
pub fn check(data: &[u8]) {
    let (main, describe) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    let Ok(text) = std::str::from_utf8(main) else {
        return;
    };
    let describe = describe
        .and_then(|d| std::str::from_utf8(d).ok())
        .and_then(|d| parse_describe(d).ok());
    match parse_input(text) {
        Err(message) => assert!(!message.is_empty()),
        Ok(Input::Timeline(read)) => {
            let _ = check_timeline_and_describe(&read.timeline, describe.as_ref());
            // What was read writes out and reads back as the same timeline.
            let meta = read.meta.clone().unwrap_or_else(|| RunMeta {
                version: "fuzz".into(),
                seed: 0,
                scenario_name: "fuzz".into(),
                scenario_sha256: String::new(),
            });
            round_trip(&read.timeline, &meta, &read.timeline.content_hash());
        }
        Ok(Input::Describe(polls, _notes)) => {
            let _ = check_describe_history(&polls);
        }
    }
}
