//! `report.html` (issue 15): the run and sweep pages are self-contained (no network, no
//! external script, style or image), carry their data as one JSON blob that reads back to the
//! run's own numbers, escape `</script>` in that blob, and are the same bytes for the same run.
//! The browser behaviour (drawing, hover, sort, filter, load time) is tested by
//! tests/browser/run.sh in headless Chromium.

use crate::common::TemplateEdit;
use refreshsim::report::files::run_files;
use refreshsim::run::{RunResult, run_scenario};
use refreshsim::scenario::{Scenario, load_scenario};
use serde_json::Value;
use std::path::Path;

fn simulate(path: &str) -> (Scenario, RunResult) {
    let scenario = load_scenario(Path::new(path)).unwrap();
    let run = run_scenario(&scenario, scenario.seed, true).unwrap();
    (scenario, run)
}

fn report(scenario: &Scenario, run: &RunResult) -> String {
    let files = run_files(scenario, run).unwrap();
    let (_, bytes) = files
        .into_iter()
        .find(|(name, _)| name == "report.html")
        .expect("run_files renders report.html");
    String::from_utf8(bytes).expect("UTF-8")
}

fn summary(scenario: &Scenario, run: &RunResult) -> Value {
    let files = run_files(scenario, run).unwrap();
    let (_, bytes) = files
        .into_iter()
        .find(|(name, _)| name == "summary.json")
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

const OPEN: &str = "<script type=\"application/json\" id=\"report-data\">";

/// The embedded JSON blob, parsed.
fn blob(html: &str) -> Value {
    let start = html.find(OPEN).expect("the data element") + OPEN.len();
    let len = html[start..].find("</script>").expect("closed");
    serde_json::from_str(&html[start..start + len]).expect("the blob is JSON")
}

/// Nothing in the page loads from elsewhere.
fn assert_self_contained(html: &str) {
    let lower = html.to_ascii_lowercase();
    for needle in [
        "<script src",
        "<link",
        "<img",
        "@import",
        "url(",
        "src=\"http",
        "href=\"http",
        "fetch(",
        "xmlhttprequest",
    ] {
        assert!(!lower.contains(needle), "the page contains {needle:?}");
    }
    assert!(lower.contains("content-security-policy"));
    assert!(lower.contains("default-src 'none'"));
    assert!(html.contains("@media print"), "print CSS");
}

#[test]
fn run_report_is_self_contained_and_deterministic() {
    let (scenario, a) = simulate("scenarios/tencent-documented-example.toml");
    let b = run_scenario(&scenario, scenario.seed, true).unwrap();
    let (ha, hb) = (report(&scenario, &a), report(&scenario, &b));
    assert!(ha == hb, "same run, same bytes");
    assert_self_contained(&ha);
    assert!(ha.starts_with("<!DOCTYPE html>"));
    // A different seed of a probabilistic scenario changes the page.
    let (large, one) = simulate("scenarios/large-2000-probabilistic.toml");
    let two = run_scenario(&large, large.seed + 1, true).unwrap();
    assert!(report(&large, &one) != report(&large, &two));
}

#[test]
fn run_report_data_is_the_runs_own_numbers() {
    let (scenario, run) = simulate("scenarios/tencent-documented-example.toml");
    let html = report(&scenario, &run);
    let data = blob(&html);
    let summary = summary(&scenario, &run);
    assert_eq!(data["end_ms"], summary["end_ms"]);
    assert_eq!(
        data["floor_fraction"],
        summary["capacity"]["floor_fraction"]
    );
    assert_eq!(
        data["in_service_before"],
        summary["capacity"]["in_service_before"]
    );
    assert_eq!(
        data["epoch_ms"], 1_694_104_069_000u64,
        "2023-09-07T16:27:49Z"
    );
    let acts = data["activities"].as_array().unwrap();
    let summary_acts = summary["activities"].as_array().unwrap();
    assert_eq!(acts.len(), summary_acts.len());
    assert_eq!(acts[0]["id"], summary_acts[0]["RefreshActivityId"]);
    let last_status = acts[0]["st"].as_array().unwrap().last().unwrap()[2].clone();
    assert_eq!(last_status, summary_acts[0]["Status"]);
    // Every batch's last status is the summary's; 5 instances in 3 batches.
    let batches = data["batches"].as_array().unwrap();
    let summary_batches = summary_acts[0]["batches"].as_array().unwrap();
    assert_eq!(batches.len(), summary_batches.len());
    for (b, s) in batches.iter().zip(summary_batches) {
        assert_eq!(b["n"], s["RefreshBatchNum"]);
        assert_eq!(
            b["st"].as_array().unwrap().last().unwrap()[2],
            s["RefreshBatchStatus"]
        );
    }
    let instances = data["instances"].as_array().unwrap();
    assert_eq!(instances.len(), 5);
    for ins in instances {
        let last = ins["st"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last[2], "SUCCESSFUL");
        assert_eq!(last[3], "success", "InstanceStatusMessage");
        assert!(
            last[4].as_str().unwrap().starts_with("asa-"),
            "LastActivityId"
        );
        // One in-flight span and a reinstall phase inside it.
        let spans = ins["sp"].as_array().unwrap();
        assert_eq!(spans.len(), 1);
        let phases = ins["ph"].as_array().unwrap();
        assert!(phases.iter().any(|p| p[2] == 0), "{phases:?}");
        for p in phases {
            assert!(p[0].as_u64() >= spans[0][0].as_u64() && p[1].as_u64() <= spans[0][1].as_u64());
        }
    }
    // The capacity curve ends where the summary does, and dips to its minimum.
    let cap = data["capacity"].as_array().unwrap();
    assert_eq!(
        cap.last().unwrap()[1],
        summary["capacity"]["in_service_at_end"]
    );
    let min = cap.iter().map(|s| s[1].as_u64().unwrap()).min().unwrap();
    assert_eq!(Some(min), summary["capacity"]["min_in_service"].as_u64());
    // The static tables carry the same statuses.
    assert!(html.contains("<table id=\"batch-table\">"));
    assert_eq!(
        html.matches("<td class=\"st st-SUCCESSFUL\">").count(),
        1 + 3
    );
}

#[test]
fn failures_retries_and_phases_reach_the_page() {
    // A batch that ends with failures and is retried (OQ-22) is counted on that batch.
    let (scenario, run) = simulate("scenarios/failure-pause-retry.toml");
    let data = blob(&report(&scenario, &run));
    let retried: Vec<&Value> = data["batches"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["retries"].as_u64() > Some(0))
        .collect();
    assert!(!retried.is_empty());
    assert!(retried.iter().all(|b| b["failed"].as_u64() > Some(0)));
    let pauses = data["activities"][0]["st"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s[2] == "FAILED_PAUSE")
        .count();
    assert!(pauses > 0, "the pause the page shades");

    let phase_codes = |path: &str, key: &str| -> Vec<u64> {
        let (scenario, run) = simulate(path);
        let data = blob(&report(&scenario, &run));
        let mut codes: Vec<u64> = data[key]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|i| i["ph"].as_array().unwrap().clone())
            .map(|p| p[2].as_u64().unwrap())
            .collect();
        codes.sort_unstable();
        codes.dedup();
        codes
    };
    assert!(phase_codes("scenarios/target-health-timeout.toml", "instances").contains(&2));
    assert!(phase_codes("scenarios/hooks-abandon.toml", "instances").contains(&1));
    let surge = phase_codes("scenarios/surge-one.toml", "others");
    assert!(surge.contains(&3) && surge.contains(&4), "{surge:?}");
}

#[test]
fn script_end_tags_in_names_are_escaped() {
    let text = std::fs::read_to_string("scenarios/tencent-documented-example.toml")
        .unwrap()
        .replace_once(
            "name = \"tencent-documented-example\"",
            "name = \"doc</script><script>alert(1)</script><!--\"",
        );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evil.toml");
    std::fs::write(&path, text).unwrap();
    let scenario = load_scenario(&path).unwrap();
    let run = run_scenario(&scenario, scenario.seed, true).unwrap();
    let html = report(&scenario, &run);
    assert_eq!(html.matches("</script>").count(), 2, "data and code only");
    assert!(!html.contains("<script>alert"));
    assert!(!html.contains("<!--"));
    assert_eq!(
        blob(&html)["scenario"],
        "doc</script><script>alert(1)</script><!--"
    );
    assert!(html.contains("doc&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;!--"));
}

#[test]
fn sweep_report_embeds_the_summary_and_every_chart() {
    let summary = serde_json::json!({
        "version": "0.1.0",
        "seed": 7,
        "floor": 0.9,
        "runs_per_variant": 2,
        "scenario": {"name": "s</script>", "sha256": "ab"},
        "keys": ["MaxSurge"],
        "variants": [],
    });
    let charts = vec![
        (
            "tradeoff.svg".to_string(),
            "<?xml version=\"1.0\"?>\n<svg id=\"one\"></svg>\n".to_string(),
        ),
        (
            "other.svg".to_string(),
            "<svg id=\"two\"></svg>\n".to_string(),
        ),
    ];
    let tradeoff = serde_json::json!({"floor": 0.9, "meets_floor": [], "frontier": []});
    let html = refreshsim::report::html::sweep_html(&summary, &tradeoff, &charts);
    assert_self_contained(&html);
    assert!(html.contains("<svg id=\"one\"></svg>") && html.contains("<svg id=\"two\"></svg>"));
    assert!(
        !html.contains("<?xml"),
        "the XML declaration is dropped inline"
    );
    let mut expected = summary.clone();
    expected["tradeoff"] = tradeoff.clone();
    assert_eq!(
        blob(&html),
        expected,
        "the summary, with the trade-off added"
    );
    assert_eq!(html.matches("</script>").count(), 2);
    assert_eq!(
        html,
        refreshsim::report::html::sweep_html(&summary, &tradeoff, &charts)
    );
}

// ---------------------------------------------------------------------------------------------
// advise

const ADVISE_GROUP: &str = r#"
[scenario]
name = "advise-report"
seed = 3

[group]
id = "asg-adv00003"
size = 100
image_id = "img-old"

[launch_configuration]
image_id = "img-new"

[timing]
reinstall = "100s"

[[actions]]
id = "start"
at = "0s"
action = "StartInstanceRefresh"
request = { RefreshSettings = { RollingUpdateSettings = { BatchNumber = 1 } } }
"#;

fn advise_files(min: &str, surge: Option<&str>) -> (Value, String) {
    use refreshsim::advise::{Request, advise, plan, render};
    let base = refreshsim::scenario::parse_scenario("advise-report.toml", ADVISE_GROUP).unwrap();
    let mut request = Request::new("advise-report.toml", min);
    request.max_surge_cost = surge.map(str::to_string);
    let advice = advise(&base, plan(&base, &request).unwrap()).unwrap();
    let files = render::files(&advice);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["advice.json", "advice.svg", "report.html"]);
    let json = serde_json::from_slice(&files[0].1).unwrap();
    let html = String::from_utf8(files[2].1.clone()).unwrap();
    assert!(
        render::files(&advice)[2].1 == files[2].1,
        "same advice, same bytes"
    );
    (json, html)
}

/// advise's report.html: self-contained, the recommendation as plain HTML (the settings and
/// the request to send), every setting the search ran in the data with the Pareto set and the
/// recommendation marked as advice.json has them, and the chart inline.
#[test]
fn advise_report_shows_the_recommendation_the_candidates_and_the_tradeoff() {
    let (json, html) = advise_files("90%", Some("0"));
    assert_self_contained(&html);
    assert!(html.contains("<h2 id=\"answer\" data-feasible=\"true\">Recommended settings"));
    assert!(
        html.contains("<tr><th>BatchNumber</th><td>10</td></tr>"),
        "settings row"
    );
    assert!(html.contains("<pre id=\"start-request\">"));
    assert!(
        html.contains("&quot;RefreshMode&quot;"),
        "the request body, escaped"
    );
    assert!(html.contains("<figure class=\"svg\" data-file=\"advice.svg\"><svg "));
    assert!(html.contains("<tr><th>deadline_s</th><td>not asked</td></tr>"));
    assert!(html.contains("<tr><th>max_surge_instance_hours</th><td>0.0</td></tr>"));
    assert!(html.contains("exact (no randomness: one run decides a setting)"));
    let data = blob(&html);
    let candidates = data["candidates"].as_array().unwrap();
    assert_eq!(
        candidates.len() as u64,
        json["search"]["settings_run"].as_u64().unwrap()
    );
    assert_eq!(
        data["recommended"], json["recommended"],
        "advice.json's value"
    );
    let recommended: Vec<&Value> = candidates
        .iter()
        .filter(|c| c["recommended"] == true)
        .collect();
    assert_eq!(recommended.len(), 1);
    assert_eq!(recommended[0]["settings"], json["recommended"]["settings"]);
    assert_eq!(recommended[0]["feasible"], true);
    let pareto: Vec<&Value> = candidates.iter().filter(|c| c["pareto"] == true).collect();
    assert_eq!(pareto.len(), json["pareto"].as_array().unwrap().len());
    assert!(pareto.iter().all(|c| c["feasible"] == true));
    // A feasible candidate breaks nothing; an infeasible one names what it breaks.
    for c in candidates {
        let broken = c["broken"].as_array().unwrap();
        if c["feasible"] == true {
            assert!(broken.is_empty(), "{c}");
        }
    }
    assert!(
        candidates.iter().any(|c| c["broken"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b == "min_in_service")),
        "a too-large batch breaks the floor"
    );
    assert_eq!(data["keys"][0], "BatchNumber");
}

#[test]
fn advise_report_names_the_closest_setting_when_nothing_is_feasible() {
    // Keeping all 100 in service with no surge budget is impossible.
    let (json, html) = advise_files("100", Some("0"));
    assert_eq!(json["feasible"], false);
    assert_self_contained(&html);
    assert!(html.contains(
        "data-feasible=\"false\">No setting meets every constraint — the closest, which cannot meet"
    ));
    let data = blob(&html);
    assert!(
        data["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["feasible"] == false && c["pareto"] == false)
    );
}
