//! Renders a sweep's aggregates: `summary.csv` (one row per variant and metric),
//! `summary.json`, and the table printed on stdout. Numbers are rounded to fixed decimals so
//! the files are byte-stable (D3).

use super::Report;
use super::stats::{METRICS, PROBABILITIES, Paired, Spread, Unit};
use crate::time::format_duration_ms;
use serde_json::{Map, Value, json};
use std::fmt::Write;

/// Decimals written for every statistic (probabilities and fractions get more).
const DECIMALS: usize = 3;
const FRACTION_DECIMALS: usize = 4;

fn decimals(unit: Unit) -> usize {
    match unit {
        Unit::Seconds | Unit::Count => DECIMALS,
        Unit::Fraction => FRACTION_DECIMALS,
    }
}

fn fixed(x: f64, places: usize) -> String {
    let s = format!("{x:.places$}");
    // `-0.000` reads as a sign where there is none.
    if s.starts_with('-') && s[1..].bytes().all(|b| b == b'0' || b == b'.') {
        s[1..].to_string()
    } else {
        s
    }
}

/// `x` rounded to `places` decimals, as a JSON number.
fn rounded(x: f64, places: usize) -> Value {
    let text = fixed(x, places);
    let parsed: f64 = text.parse().expect("formatted number");
    json!(parsed)
}

pub const SUMMARY_COLUMNS: &[&str] = &[
    "metric",
    "n",
    "mean",
    "ci95_low",
    "ci95_high",
    "min",
    "p1",
    "p10",
    "p50",
    "p90",
    "p99",
    "max",
    "diff_n",
    "diff_mean",
    "diff_ci95_low",
    "diff_ci95_high",
];

/// `summary.csv`: per variant, one row per metric then one per probability.
pub fn summary_csv(report: &Report<'_>) -> Vec<u8> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["variant".to_string(), "label".to_string()];
    header.extend(report.plan.keys());
    header.extend(SUMMARY_COLUMNS.iter().map(|c| c.to_string()));
    out.write_record(&header).expect("in memory");
    for (variant, stats) in report.plan.variants.iter().zip(report.stats) {
        let mut lead = vec![variant.id.to_string(), variant.label()];
        lead.extend(variant.overrides.iter().map(|o| o.value_text.clone()));
        for (def, m) in METRICS.iter().zip(&stats.metrics) {
            let places = decimals(def.unit);
            let mut record = lead.clone();
            record.push(def.name.to_string());
            record.extend(spread_fields(m.spread.as_ref(), places));
            record.extend(paired_fields(m.vs_baseline.as_ref(), places));
            out.write_record(&record).expect("in memory");
        }
        for p in &stats.probabilities {
            let mut record = lead.clone();
            record.push(p.def.to_string());
            record.push(p.n.to_string());
            record.push(fixed(p.p, FRACTION_DECIMALS));
            record.push(fixed(p.ci95.0, FRACTION_DECIMALS));
            record.push(fixed(p.ci95.1, FRACTION_DECIMALS));
            record.extend(std::iter::repeat_n(String::new(), 7));
            record.extend(paired_fields(p.vs_baseline.as_ref(), FRACTION_DECIMALS));
            out.write_record(&record).expect("in memory");
        }
        // Share of runs per final status: `status:NAME`, like a probability.
        for st in &stats.statuses {
            let mut record = lead.clone();
            record.push(format!("status:{}", st.status));
            record.push(st.n.to_string());
            record.push(fixed(st.p, FRACTION_DECIMALS));
            record.push(fixed(st.ci95.0, FRACTION_DECIMALS));
            record.push(fixed(st.ci95.1, FRACTION_DECIMALS));
            record.extend(std::iter::repeat_n(String::new(), 11));
            out.write_record(&record).expect("in memory");
        }
        // API errors per code and run: `api_errors:CODE` (total = mean × n).
        for c in &stats.api_codes {
            let mut record = lead.clone();
            record.push(format!("api_errors:{}", c.code));
            record.extend(spread_fields(c.spread.as_ref(), DECIMALS));
            record.extend(paired_fields(c.vs_baseline.as_ref(), DECIMALS));
            out.write_record(&record).expect("in memory");
        }
    }
    out.into_inner().expect("in memory")
}

fn spread_fields(s: Option<&Spread>, places: usize) -> Vec<String> {
    let Some(s) = s else {
        let mut fields = vec!["0".to_string()];
        fields.extend(std::iter::repeat_n(String::new(), 10));
        return fields;
    };
    let f = |x: f64| fixed(x, places);
    let (lo, hi) = s
        .ci95
        .map_or((String::new(), String::new()), |(l, h)| (f(l), f(h)));
    vec![
        s.n.to_string(),
        f(s.mean),
        lo,
        hi,
        f(s.min),
        f(s.p1),
        f(s.p10),
        f(s.p50),
        f(s.p90),
        f(s.p99),
        f(s.max),
    ]
}

fn paired_fields(d: Option<&Paired>, places: usize) -> Vec<String> {
    let Some(d) = d else {
        return vec![String::new(); 4];
    };
    let (lo, hi) = d.ci95.map_or((String::new(), String::new()), |(l, h)| {
        (fixed(l, places), fixed(h, places))
    });
    vec![d.n.to_string(), fixed(d.mean, places), lo, hi]
}

/// `summary.json`: the plan's settings and every variant's aggregates.
pub fn summary_json(report: &Report<'_>) -> Value {
    let plan = report.plan;
    let variants: Vec<Value> = plan
        .variants
        .iter()
        .zip(report.stats)
        .map(|(variant, stats)| {
            let settings: Map<String, Value> = variant
                .overrides
                .iter()
                .map(|o| (o.key_text.clone(), o.value_json()))
                .collect();
            let metrics: Map<String, Value> = METRICS
                .iter()
                .zip(&stats.metrics)
                .map(|(def, m)| {
                    let places = decimals(def.unit);
                    let mut entry = match &m.spread {
                        None => json!({ "n": 0 }),
                        Some(s) => spread_json(s, places),
                    };
                    if let Some(d) = &m.vs_baseline {
                        entry["vs_baseline"] = paired_json(d, places);
                    }
                    (def.name.to_string(), entry)
                })
                .collect();
            let probabilities: Map<String, Value> = stats
                .probabilities
                .iter()
                .map(|p| {
                    let mut entry = json!({
                        "n": p.n,
                        "hits": p.hits,
                        "p": rounded(p.p, FRACTION_DECIMALS),
                        "ci95": [rounded(p.ci95.0, FRACTION_DECIMALS), rounded(p.ci95.1, FRACTION_DECIMALS)],
                    });
                    if let Some(d) = &p.vs_baseline {
                        entry["vs_baseline"] = paired_json(d, FRACTION_DECIMALS);
                    }
                    (p.def.to_string(), entry)
                })
                .collect();
            let statuses: Map<String, Value> = stats
                .statuses
                .iter()
                .map(|st| {
                    (
                        st.status.clone(),
                        json!({
                            "n": st.n,
                            "runs": st.hits,
                            "share": rounded(st.p, FRACTION_DECIMALS),
                            "ci95": [rounded(st.ci95.0, FRACTION_DECIMALS), rounded(st.ci95.1, FRACTION_DECIMALS)],
                        }),
                    )
                })
                .collect();
            let codes: Map<String, Value> = stats
                .api_codes
                .iter()
                .map(|c| {
                    let mut entry = match &c.spread {
                        None => json!({ "n": 0 }),
                        Some(s) => spread_json(s, DECIMALS),
                    };
                    entry["total"] = json!(c.total);
                    entry["runs_with"] = json!(c.runs_with);
                    if let Some(d) = &c.vs_baseline {
                        entry["vs_baseline"] = paired_json(d, DECIMALS);
                    }
                    (c.code.clone(), entry)
                })
                .collect();
            json!({
                "variant": variant.id,
                "label": variant.label(),
                "settings": settings,
                "runs": plan.runs,
                "metrics": metrics,
                "probabilities": probabilities,
                "final_status": statuses,
                "api_error_codes": codes,
            })
        })
        .collect();
    json!({
        "tool": "refreshsim",
        "version": plan.version,
        "scenario": {
            "path": plan.scenario_path,
            "name": plan.scenario_name,
            "sha256": plan.scenario_sha256,
        },
        "seed": plan.seed,
        "runs_per_variant": plan.runs,
        "floor": f64::from(plan.floor_permille) / 1000.0,
        "baseline": plan.baseline,
        "keys": plan.keys(),
        "metric_definitions": METRICS.iter().map(|d| json!({"name": d.name, "about": d.about})).collect::<Vec<_>>(),
        "probability_definitions": PROBABILITIES.iter().map(|d| json!({"name": d.name, "about": d.about})).collect::<Vec<_>>(),
        "variants": variants,
    })
}

fn spread_json(s: &Spread, places: usize) -> Value {
    let r = |x: f64| rounded(x, places);
    json!({
        "n": s.n,
        "mean": r(s.mean),
        "ci95": s.ci95.map(|(l, h)| json!([r(l), r(h)])),
        "min": r(s.min),
        "p1": r(s.p1),
        "p10": r(s.p10),
        "p50": r(s.p50),
        "p90": r(s.p90),
        "p99": r(s.p99),
        "max": r(s.max),
    })
}

fn paired_json(d: &Paired, places: usize) -> Value {
    let r = |x: f64| rounded(x, places);
    json!({
        "n": d.n,
        "mean": r(d.mean),
        "ci95": d.ci95.map(|(l, h)| json!([r(l), r(h)])),
    })
}

fn metric<'a>(report: &'a Report<'_>, variant: usize, name: &str) -> Option<&'a Spread> {
    let i = METRICS
        .iter()
        .position(|d| d.name == name)
        .expect("known metric");
    report.stats[variant].metrics[i].spread.as_ref()
}

fn probability(report: &Report<'_>, variant: usize, name: &str) -> f64 {
    let i = PROBABILITIES
        .iter()
        .position(|d| d.name == name)
        .expect("known probability");
    report.stats[variant].probabilities[i].p
}

/// A duration to the second, for the table.
fn to_the_second(seconds: f64) -> String {
    format_duration_ms(seconds.round() as u64 * 1000)
}

/// The table printed after a sweep: one line per variant.
pub fn summary_table(report: &Report<'_>) -> String {
    let plan = report.plan;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "sweep of \"{}\": {} variants × {} runs (seed {}, floor {}%), baseline = variant {}",
        plan.scenario_name,
        plan.variants.len(),
        plan.runs,
        plan.seed,
        plan.floor_permille / 10,
        plan.baseline
    );
    let header = [
        "#",
        "ok%",
        "nopause%",
        "fpause%",
        "ended%",
        "dur p50",
        "p90",
        "p99",
        "floor p50",
        "min",
        "surge h",
        "Δdur vs base (95% CI)",
        "not SUCCESSFUL",
        "API err/run",
        "settings",
    ];
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|s| s.to_string()).collect()];
    for (v, variant) in plan.variants.iter().enumerate() {
        let duration = metric(report, v, "duration_s");
        let floor = metric(report, v, "min_in_service_fraction");
        let surge = metric(report, v, "surge_instance_s");
        let pct = |p: f64| format!("{:.1}", p * 100.0);
        let dur = |f: fn(&Spread) -> f64| duration.map_or("-".to_string(), |s| to_the_second(f(s)));
        let diff_index = METRICS
            .iter()
            .position(|d| d.name == "duration_s")
            .expect("known");
        let diff = match &report.stats[v].metrics[diff_index].vs_baseline {
            _ if v == plan.baseline as usize => "(baseline)".to_string(),
            None => "-".to_string(),
            Some(d) => match d.ci95 {
                Some((lo, hi)) => format!("{:+.0}s [{:+.0}, {:+.0}]", d.mean, lo, hi),
                None => format!("{:+.0}s", d.mean),
            },
        };
        rows.push(vec![
            variant.id.to_string(),
            pct(probability(report, v, "p_successful")),
            pct(probability(report, v, "p_operator_free")),
            pct(probability(report, v, "p_failed_pause")),
            pct(probability(report, v, "p_ended")),
            dur(|s| s.p50),
            dur(|s| s.p90),
            dur(|s| s.p99),
            floor.map_or("-".into(), |s| format!("{:.1}%", s.p50 * 100.0)),
            floor.map_or("-".into(), |s| format!("{:.1}%", s.min * 100.0)),
            surge.map_or("-".into(), |s| format!("{:.1}", s.mean / 3600.0)),
            diff,
            not_successful(&report.stats[v].statuses),
            api_errors_per_run(&report.stats[v].api_codes),
            variant.short_label(),
        ]);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    for row in &rows {
        let last = row.len() - 1;
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c == last {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:>w$}  ", w = widths[c]);
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    let _ = writeln!(
        out,
        "ok% = SUCCESSFUL; nopause% = SUCCESSFUL without any pause; fpause% = entered FAILED_PAUSE; ended% = every refresh activity reached a final status (the others hit a run limit); durations over runs that ended; floor = lowest in-service count / count before; surge h = mean surge instance-hours; not SUCCESSFUL = share of runs by the first activity's other final status (or the status a run bound left it in); API err/run = mean API errors per run by code"
    );
    out
}

/// `FAILED_PAUSE 3.0% FAILED 0.5%`: the statuses other than SUCCESSFUL that some run ended in.
fn not_successful(statuses: &[super::stats::StatusShare]) -> String {
    let cells: Vec<String> = statuses
        .iter()
        .filter(|s| s.status != "SUCCESSFUL" && s.hits > 0)
        .map(|s| format!("{} {:.1}%", s.status, s.p * 100.0))
        .collect();
    if cells.is_empty() {
        "-".to_string()
    } else {
        cells.join(" ")
    }
}

/// `RequestLimitExceeded 0.25`: mean API errors per run, by code.
fn api_errors_per_run(codes: &[super::stats::CodeSummary]) -> String {
    let cells: Vec<String> = codes
        .iter()
        .filter(|c| c.total > 0)
        .filter_map(|c| Some(format!("{} {:.2}", c.code, c.spread.as_ref()?.mean)))
        .collect();
    if cells.is_empty() {
        "-".to_string()
    } else {
        cells.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_decimals_never_print_negative_zero() {
        assert_eq!(fixed(-0.0001, 3), "0.000");
        assert_eq!(fixed(-0.5, 3), "-0.500");
        assert_eq!(fixed(2.0 / 3.0, 4), "0.6667");
        assert_eq!(rounded(2.0 / 3.0, 3), json!(0.667));
    }
}
