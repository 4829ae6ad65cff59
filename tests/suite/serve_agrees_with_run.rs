//! OQ-68, differential: every bundled scenario's API calls, replayed through a `serve` session
//! (in process, manual clock, advancing to each call's time), get the responses `run` got, and
//! leave the world with the same final Describe response and the same timeline.

use refreshsim::run::run_scenario;
use refreshsim::scenario::load_scenario;
use refreshsim::serve::clock::ClockMode;
use refreshsim::serve::session::{
    Advance, DEFAULT_SESSION_LIMITS, Session, SessionTemplate, TimelineFormat,
};
use refreshsim::timeline::parse::read_csv;
use std::time::Instant;

/// Replays `path`'s run through a session: `Err` names the first disagreement.
fn replay(path: &std::path::Path) -> Result<usize, String> {
    let scenario = load_scenario(path).map_err(|e| e.to_string())?;
    let seed = scenario.seed;
    let run = run_scenario(&scenario, seed, true).map_err(|e| e.to_string())?;
    let template =
        SessionTemplate::new(scenario, seed, DEFAULT_SESSION_LIMITS).map_err(|e| e.to_string())?;
    let now = Instant::now();
    let mut session = Session::new(&template, ClockMode::Manual, now);
    for (n, call) in run.calls.iter().enumerate() {
        let gap = call.time.since(session.now());
        session
            .advance(&template, Advance::By { duration_ms: gap }, now)
            .map_err(|e| format!("{e:?}"))?;
        if session.now() != call.time {
            return Err(format!(
                "call {n} is at {} ms, the session at {} ms",
                call.time.as_ms(),
                session.now().as_ms()
            ));
        }
        let served = session.call(&template, call.action, &call.request);
        if served != call.response {
            return Err(format!(
                "call {n} ({} at {} ms, {}): run answered\n{}\nserve answered\n{}",
                call.action,
                call.time.as_ms(),
                call.request,
                call.response,
                served
            ));
        }
    }
    loop {
        let report = session
            .advance(&template, Advance::Idle, now)
            .map_err(|e| format!("{e:?}"))?;
        if report["idle"] == true {
            break;
        }
    }
    let served_describe = session.final_describe(&template);
    // Byte for byte, as describe.json is written (field order included).
    let bytes = |v: &serde_json::Value| serde_json::to_vec_pretty(v).expect("serializes");
    if bytes(&served_describe) != bytes(&run.describe) {
        return Err(format!(
            "final Describe differs:\nrun   {}\nserve {}",
            run.describe, served_describe
        ));
    }
    let csv = session
        .timeline(&template, TimelineFormat::Csv)
        .map_err(|e| e.to_string())?;
    let served_timeline = read_csv(csv.as_slice()).map_err(|e| e.to_string())?;
    let run_timeline = run.timeline.as_ref().expect("kept");
    if served_timeline.timeline.content_hash() != run_timeline.content_hash() {
        let a: Vec<_> = run_timeline.rows().collect();
        let b: Vec<_> = served_timeline.timeline.rows().collect();
        let first = a
            .iter()
            .zip(&b)
            .position(|(x, y)| x != y)
            .unwrap_or(a.len().min(b.len()));
        return Err(format!(
            "timelines differ at row {first} ({} rows in run, {} in serve):\nrun   {:?}\nserve {:?}",
            a.len(),
            b.len(),
            a.get(first),
            b.get(first)
        ));
    }
    Ok(run.calls.len())
}

#[test]
fn oq68_every_bundled_scenario_replayed_through_serve_gets_runs_responses_describe_and_timeline() {
    let mut problems = Vec::new();
    let mut calls = 0;
    let files = crate::common::bundled_scenarios();
    assert!(files.len() >= 20);
    for path in &files {
        match replay(path) {
            Ok(n) => calls += n,
            Err(e) => problems.push(format!("{}: {e}", path.display())),
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n\n"));
    assert!(calls > 100, "{calls} calls replayed");
}
