//! The files a run writes (`run --out`), rendered in memory so that nothing is half-written:
//! the timeline (CSV, JSONL), the final Describe response, the summary, the recorded API calls
//! and the chart.

use crate::output::Files;
use crate::report::summary::summary_json;
use crate::report::svg::SvgOptions;
use crate::run::RunResult;
use crate::scenario::Scenario;
use crate::timeline::RunMeta;
use serde_json::{Value, json};

/// Renders every output file of a run in memory, the chart with relative time labels.
pub fn run_files(scenario: &Scenario, run: &RunResult) -> std::io::Result<Files> {
    run_files_with(scenario, run, &SvgOptions::of(scenario))
}

/// `run_files` with the chart's options (`run --svg-time utc`).
pub fn run_files_with(
    scenario: &Scenario,
    run: &RunResult,
    svg: &SvgOptions,
) -> std::io::Result<Files> {
    let timeline = run
        .timeline
        .as_ref()
        .ok_or_else(|| std::io::Error::other("the run kept no timeline"))?;
    let mut csv = Vec::new();
    timeline.write_csv(&run.meta, &mut csv)?;
    let mut jsonl = Vec::new();
    timeline.write_jsonl(&run.meta, &mut jsonl)?;
    let mut files = vec![
        ("timeline.csv".into(), csv),
        ("timeline.jsonl".into(), jsonl),
    ];
    files.extend(run_files_without_timeline(scenario, run, None)?);
    files.push((
        "timeline.svg".into(),
        crate::report::svg::timeline_svg(run, svg).into_bytes(),
    ));
    let summary = summary_value(scenario, run, None);
    files.push((
        "report.html".into(),
        crate::report::html::run_html(scenario, run, timeline, &summary).into_bytes(),
    ));
    Ok(files)
}

/// Every file `run --out` writes (`run --stream` writes all but timeline.jsonl, timeline.svg,
/// report.html).
pub const RUN_OUTPUTS: [&str; 7] = [
    "timeline.csv",
    "timeline.jsonl",
    "describe.json",
    "summary.json",
    "responses.jsonl",
    "timeline.svg",
    "report.html",
];

fn meta_json(run: &RunResult) -> Value {
    meta_json_of(&run.meta)
}

fn meta_json_of(meta: &RunMeta) -> Value {
    json!({
        "tool": "refreshsim",
        "version": meta.version,
        "seed": meta.seed,
        "scenario": meta.scenario_name,
        "scenario_sha256": meta.scenario_sha256,
    })
}

/// The first line of `responses.jsonl` (D9: version, seed and scenario hash, as the other
/// outputs name them); every later line is one API call (`CallRecord::write_line`).
pub fn responses_header(meta: &RunMeta) -> Vec<u8> {
    let mut line = json!({ "_refreshsim": meta_json_of(meta) })
        .to_string()
        .into_bytes();
    line.push(b'\n');
    line
}

/// The value of `summary.json`: the run's summary with its `_refreshsim` header.
fn summary_value(
    scenario: &Scenario,
    run: &RunResult,
    streamed_timeline_sha256: Option<&str>,
) -> Value {
    let mut summary = summary_json(run, scenario.epoch);
    if let Value::Object(map) = &mut summary {
        if let Some(hash) = streamed_timeline_sha256 {
            map.insert("timeline_sha256".into(), Value::from(hash));
        }
        map.insert("_refreshsim".into(), meta_json(run));
    }
    summary
}

/// The outputs that need no timeline: describe.json, summary.json, responses.jsonl.
/// `streamed_timeline_sha256` is the hash of a timeline that was streamed, not kept: the summary
/// names it as it would name a kept one's.
pub fn run_files_without_timeline(
    scenario: &Scenario,
    run: &RunResult,
    streamed_timeline_sha256: Option<&str>,
) -> std::io::Result<Files> {
    let meta = meta_json(run);
    let summary = summary_value(scenario, run, streamed_timeline_sha256);
    // D9: a first header line names version, seed and scenario hash, as the other outputs do;
    // every later line is one API call.
    let mut responses = responses_header(&run.meta);
    for call in &run.calls {
        call.write_line(scenario.epoch, &mut responses)?;
        responses.push(b'\n');
    }
    let pretty = |v: &Value| -> std::io::Result<Vec<u8>> {
        let mut bytes = serde_json::to_vec_pretty(v)?;
        bytes.push(b'\n');
        Ok(bytes)
    };
    // Rendered from the world's structs: without a JSON tree of the response, the largest
    // thing in memory for a synthetic group of a million instances.
    let describe = crate::run::final_describe_pretty(&run.world, run.meta.seed, &meta);
    Ok(vec![
        ("describe.json".into(), describe),
        ("summary.json".into(), pretty(&summary)?),
        ("responses.jsonl".into(), responses),
    ])
}

/// The outputs of `run --stream` rendered at the end: describe.json and summary.json (the
/// timeline and responses.jsonl were written as the run went).
pub fn streamed_run_files(
    scenario: &Scenario,
    run: &RunResult,
    timeline_sha256: &str,
) -> std::io::Result<Files> {
    let mut files = run_files_without_timeline(scenario, run, Some(timeline_sha256))?;
    files.retain(|(name, _)| name != "responses.jsonl");
    Ok(files)
}
