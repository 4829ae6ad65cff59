//! The advice as files and text: `advice.json` (Tencent's field names for the settings and the
//! request body), `advice.svg` (the feasible region and the frontier) and the printed answer.

use super::constraint::Kind;
use super::stats::Stats;
use super::{Advice, AdviseError, Plan, Reported};
use crate::report::svgkit::{self, Esc, P, emit};
use crate::run::{VERSION, dry_run_first_start, with_overrides};
use crate::scenario::{Scenario, What};
use crate::sweep::plan::run_seed;
use crate::sweep::row::replay_command;
use crate::time::format_duration_human;
use serde_json::{Value, json};

pub const ADVICE_JSON: &str = "advice.json";
pub const ADVICE_SVG: &str = "advice.svg";
pub const ADVICE_HTML: &str = "report.html";

/// A setting with what a user needs to apply it: the effective `RollingUpdateSettings`, the
/// whole `StartInstanceRefresh` body and the command that replays its run 0.
pub fn reported(base: &Scenario, plan: &Plan, stats: Stats) -> Result<Reported, AdviseError> {
    let setting = &plan.space.settings[stats.id as usize];
    let scenario = with_overrides(base, &setting.overrides)
        .map_err(|e| AdviseError::Scenario(e.to_string()))?;
    let dry = dry_run_first_start(&scenario)
        .map_err(|e| AdviseError::Scenario(e.to_string()))?
        .ok_or_else(|| AdviseError::Internal("the Start disappeared".to_string()))?;
    let settings = dry
        .result
        .map_err(|e| AdviseError::Internal(format!("a searched setting is refused: {}", e.code)))?;
    let output = settings.settings.to_output();
    let rolling =
        serde_json::to_value(&output.rolling_update_settings).expect("settings serialize");
    let mode = scenario
        .happenings
        .iter()
        .find_map(|h| match &h.what {
            What::Api {
                action: crate::api::Action::StartInstanceRefresh,
                body,
                ..
            } => Some(
                body.get("RefreshMode")
                    .and_then(Value::as_str)
                    .unwrap_or("ROLLING_UPDATE_RESET")
                    .to_string(),
            ),
            _ => None,
        })
        .unwrap_or_else(|| "ROLLING_UPDATE_RESET".to_string());
    let start_request = json!({
        "AutoScalingGroupId": scenario.world.group_id,
        "RefreshMode": mode,
        "RefreshSettings": serde_json::to_value(&output).expect("settings serialize"),
    });
    let replay = replay_command(
        &plan.request.scenario_path,
        run_seed(plan.seed, 0),
        &setting.variant(),
        None,
    );
    Ok(Reported {
        stats,
        rolling_update_settings: rolling,
        start_request,
        replay,
    })
}

fn seconds(ms: Option<u64>) -> Value {
    ms.map_or(Value::Null, |ms| json!(ms as f64 / 1000.0))
}

/// Rounded to 6 decimals so the bytes never depend on float printing details (D3).
fn fixed(x: f64) -> Value {
    json!((x * 1e6).round() / 1e6)
}

fn setting_json(plan: &Plan, r: &Reported) -> Value {
    let s = &r.stats;
    let setting = &plan.space.settings[s.id as usize];
    let mut constraints = serde_json::Map::new();
    for k in Kind::ALL {
        let asked = match k {
            Kind::Completes | Kind::MinInService => true,
            Kind::Deadline => plan.constraints.deadline_ms.is_some(),
            Kind::MaxSurgeCost => plan.constraints.max_surge_instance_ms.is_some(),
        };
        if !asked {
            continue;
        }
        let hits = s.hits[k.index()];
        constraints.insert(
            k.name().to_string(),
            json!({
                "met": plan.rule.holds(hits) && s.runs == plan.rule.runs,
                "runs_meeting": hits,
                "lower_bound": fixed(plan.rule.lower_bound(hits, s.runs)),
                "slack": s.slack[k.index()].map_or(Value::Null, fixed),
            }),
        );
    }
    json!({
        "settings": setting.overrides.iter().map(|o| (o.key.short_name(), o.value_json())).collect::<serde_json::Map<_, _>>(),
        "RollingUpdateSettings": r.rolling_update_settings,
        "start_request": r.start_request,
        "duration_s": {
            "p50": seconds(s.duration_p50_ms),
            "p90": seconds(s.duration_p90_ms),
            "p99": seconds(s.duration_p99_ms),
        },
        "min_in_service": { "p1": s.floor_p1, "p50": s.floor_p50 },
        "surge_instance_hours": { "mean": fixed(s.surge_hours_mean()) },
        "failure_pause_chance": fixed(f64::from(s.failure_pauses) / f64::from(s.runs.max(1))),
        "constraints": constraints,
        "runs": s.runs,
        "replay": r.replay,
    })
}

/// `advice.json`.
pub fn advice_json(a: &Advice) -> Value {
    let plan = &a.plan;
    let c = &plan.constraints;
    json!({
        "tool": "refreshsim",
        "version": VERSION,
        "scenario": {
            "path": plan.request.scenario_path,
            "name": a.scenario_name,
            "sha256": a.scenario_sha256,
        },
        "seed": plan.seed,
        "runs": plan.request.runs,
        "confidence": plan.rule.confidence,
        "exact": plan.exact,
        "objective": plan.request.objective.name(),
        "constraints": {
            "min_in_service": c.min_in_service.text(),
            "deadline_s": c.deadline_ms.map(|ms| ms as f64 / 1000.0),
            "max_surge_instance_hours": c.max_surge_instance_ms.map(|ms| fixed(ms as f64 / 3_600_000.0)),
        },
        "allow": plan.request.allow,
        "feasible": a.feasible,
        "binding_constraint": a.binding.map(Kind::name),
        "recommended": a.recommended.as_ref().map(|r| setting_json(plan, r)),
        "closest": a.closest.as_ref().map(|r| setting_json(plan, r)),
        "pareto": a.pareto.iter().map(|r| setting_json(plan, r)).collect::<Vec<_>>(),
        "pareto_total": a.pareto_total,
        "search": {
            "strategy": match plan.request.strategy {
                super::Strategy::Smart => "smart",
                super::Strategy::FullGrid => "full-grid",
            },
            "settings": plan.space.settings.len(),
            "refused_settings": a.refused,
            "settings_run": a.counts.evaluated,
            "runs": a.counts.runs + a.counts.runs_cut,
            "runs_whole": a.counts.runs,
            "runs_cut": a.counts.runs_cut,
            "events": a.counts.events,
            "full_grid_runs": a.full_grid_runs,
        },
    })
}

/// Which asked-for constraints a setting's runs break: more runs fail it than the confidence
/// allows (so a setting whose runs were cut early names the constraint that stopped it).
fn broken(plan: &Plan, s: &Stats) -> Vec<&'static str> {
    let allowed = plan.rule.max_failures().unwrap_or(0);
    Kind::ALL
        .into_iter()
        .filter(|k| match k {
            Kind::Completes | Kind::MinInService => true,
            Kind::Deadline => plan.constraints.deadline_ms.is_some(),
            Kind::MaxSurgeCost => plan.constraints.max_surge_instance_ms.is_some(),
        })
        .filter(|k| s.runs.saturating_sub(s.hits[k.index()]) > allowed)
        .map(Kind::name)
        .collect()
}

/// Every setting the search ran, for report.html's candidates table and trade-off: its
/// numbers, whether it meets every constraint (`feasible`, with all its runs), which it breaks,
/// and whether it is on the Pareto set or recommended (as advice.json says).
pub fn candidates_json(a: &Advice) -> Value {
    let plan = &a.plan;
    let pareto: Vec<u32> = a.pareto.iter().map(|r| r.stats.id).collect();
    let recommended = a.recommended.as_ref().map(|r| r.stats.id);
    let keys: Vec<String> = plan
        .space
        .settings
        .first()
        .map(|s| s.overrides.iter().map(|o| o.key.short_name()).collect())
        .unwrap_or_default();
    let candidates: Vec<Value> = a
        .evaluated
        .iter()
        .map(|s| {
            let setting = &plan.space.settings[s.id as usize];
            json!({
                "id": s.id,
                "label": setting.label(),
                "settings": setting.overrides.iter().map(|o| (o.key.short_name(), o.value_json())).collect::<serde_json::Map<_, _>>(),
                "runs": s.runs,
                "complete": s.runs == plan.rule.runs,
                "feasible": s.feasible,
                "broken": broken(plan, s),
                "duration_s": {
                    "p50": seconds(s.duration_p50_ms),
                    "p90": seconds(s.duration_p90_ms),
                    "p99": seconds(s.duration_p99_ms),
                },
                "min_in_service": { "p1": s.floor_p1, "p50": s.floor_p50 },
                "surge_instance_hours": fixed(s.surge_hours_mean()),
                "failure_pause_chance": fixed(f64::from(s.failure_pauses) / f64::from(s.runs.max(1))),
                "pareto": pareto.contains(&s.id),
                "recommended": recommended == Some(s.id),
            })
        })
        .collect();
    json!({ "keys": keys, "candidates": candidates })
}

/// The files of one advice, rendered: advice.json, advice.svg and report.html (which embeds
/// the chart and the candidates).
pub fn files(a: &Advice) -> crate::output::Files {
    let advice = advice_json(a);
    let mut json = serde_json::to_vec_pretty(&advice).expect("json");
    json.push(b'\n');
    let svg = chart(a);
    let html = crate::report::html::advise_html(&advice, &candidates_json(a), &svg);
    vec![
        (ADVICE_JSON.to_string(), json),
        (ADVICE_SVG.to_string(), svg.into_bytes()),
        (ADVICE_HTML.to_string(), html.into_bytes()),
    ]
}

fn human(ms: Option<u64>) -> String {
    ms.map_or_else(|| "never ends".to_string(), format_duration_human)
}

fn describe(plan: &Plan, r: &Reported) -> String {
    let s = &r.stats;
    let setting = &plan.space.settings[s.id as usize];
    let mut out = String::new();
    emit!(out, "  settings        {}\n", setting.label());
    emit!(
        out,
        "  duration        p50 {}, p90 {}, p99 {}\n",
        human(s.duration_p50_ms),
        human(s.duration_p90_ms),
        human(s.duration_p99_ms)
    );
    emit!(
        out,
        "  in service      at least {} (p1), {} (p50)\n",
        s.floor_p1.unwrap_or(0),
        s.floor_p50.unwrap_or(0)
    );
    emit!(
        out,
        "  surge cost      {:.2} instance-hours (mean)\n",
        s.surge_hours_mean()
    );
    emit!(
        out,
        "  failure pause   {} of {} runs\n",
        s.failure_pauses,
        s.runs
    );
    emit!(
        out,
        "  request         {}\n",
        serde_json::to_string(&r.start_request).expect("json")
    );
    emit!(out, "  replay          {}\n", r.replay);
    out
}

/// The printed answer.
pub fn text(a: &Advice) -> String {
    let plan = &a.plan;
    let mut out = String::new();
    let c = &plan.constraints;
    let mut asked = vec![format!("in service ≥ {}", c.min_in_service.text())];
    if let Some(d) = c.deadline_ms {
        asked.push(format!("done within {}", format_duration_human(d)));
    }
    if let Some(cap) = c.max_surge_instance_ms {
        asked.push(format!(
            "surge ≤ {} instance-hours",
            cap as f64 / 3_600_000.0
        ));
    }
    emit!(
        out,
        "advice for {}: {}, each at confidence {}{}\n",
        a.scenario_name,
        asked.join(", "),
        plan.rule.confidence,
        if plan.exact {
            " (exact: no randomness, one run decides a setting)"
        } else {
            ""
        }
    );
    match (&a.recommended, &a.closest) {
        (Some(r), _) => {
            emit!(
                out,
                "recommended ({} runs; binding constraint: {}):\n",
                r.stats.runs,
                a.binding.map_or("none", Kind::name)
            );
            out.push_str(&describe(plan, r));
        }
        (None, Some(r)) => {
            emit!(
                out,
                "no setting meets every constraint; closest ({} runs), which cannot meet {}:\n",
                r.stats.runs,
                a.binding.map_or("?", Kind::name)
            );
            out.push_str(&describe(plan, r));
        }
        (None, None) => out.push_str("no setting could be evaluated\n"),
    }
    if a.pareto_total > 0 {
        emit!(
            out,
            "Pareto set (p90 duration, floor, surge cost) of the feasible settings: {}{}\n",
            a.pareto_total,
            if a.pareto_total > a.pareto.len() {
                format!(" ({} listed in advice.json)", a.pareto.len())
            } else {
                String::new()
            }
        );
        for r in a.pareto.iter().take(10) {
            let s = &r.stats;
            emit!(
                out,
                "  {:<40} p90 {:>10}  floor {:>6}  surge {:>8.2} h\n",
                plan.space.settings[s.id as usize].label(),
                human(s.duration_p90_ms),
                s.floor_p1.unwrap_or(0),
                s.surge_hours_mean()
            );
        }
    }
    emit!(
        out,
        "search: {} settings, {} runs ({} stopped early) where a full grid needs {}\n",
        plan.space.settings.len(),
        a.counts.runs + a.counts.runs_cut,
        a.counts.runs_cut,
        a.full_grid_runs
    );
    out
}

/// The chart: p90 duration against the capacity floor (p1) of every setting the search ran,
/// the feasible region shaded, the Pareto set ringed, the recommendation starred.
pub fn chart(a: &Advice) -> String {
    let (w, h) = (720.0, 460.0);
    let (left, right, top, bottom) = (70.0, 20.0, 40.0, 50.0);
    let points: Vec<&Stats> = a
        .evaluated
        .iter()
        .filter(|s| s.duration_p90_ms.is_some() && s.floor_p1.is_some())
        .collect();
    let required = Some(
        a.plan
            .constraints
            .min_in_service
            .required(a.plan.space.in_service),
    );
    let x_max = points
        .iter()
        .filter_map(|s| s.duration_p90_ms)
        .chain(a.plan.constraints.deadline_ms)
        .max()
        .unwrap_or(1)
        .max(1) as f64
        * 1.05;
    let floors = points
        .iter()
        .filter_map(|s| s.floor_p1)
        .chain(required)
        .chain([a.plan.space.in_service]);
    let (y_min, y_max) = floors.fold((u32::MAX, 0u32), |(lo, hi), f| (lo.min(f), hi.max(f)));
    let (y_min, y_max) = (f64::from(y_min.min(y_max)), f64::from(y_max).max(1.0));
    let span = (y_max - y_min).max(1.0);
    let (y_lo, y_hi) = (y_min - span * 0.05, y_max + span * 0.05);
    let px = |ms: f64| left + (w - left - right) * ms / x_max;
    let py = |f: f64| top + (h - top - bottom) * (y_hi - f) / (y_hi - y_lo);
    let mut out = String::new();
    svgkit::open_svg(
        &mut out,
        w,
        h,
        &format!("refreshsim advise: {}", a.scenario_name),
        &format!(
            "refreshsim {VERSION}; scenario sha256 {}; seed {}",
            a.scenario_sha256, a.plan.seed
        ),
    );
    // The feasible region: floor at or above the minimum, duration within the deadline.
    if let Some(req) = required {
        let x1 = a
            .plan
            .constraints
            .deadline_ms
            .map_or(w - right, |d| px(d as f64));
        let y1 = py(f64::from(req));
        emit!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" fill-opacity=\"0.12\"/>\n",
            P(left),
            P(top),
            P((x1 - left).max(0.0)),
            P((y1 - top).max(0.0)),
            svgkit::GREEN
        );
        emit!(
            out,
            "<line x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"{}\" stroke-dasharray=\"4 3\"/>\n",
            P(left),
            P(w - right),
            svgkit::GREEN,
            y = P(y1)
        );
        emit!(
            out,
            "<text x=\"{}\" y=\"{}\" fill=\"{}\">minimum in service {req}</text>\n",
            P(left + 4.0),
            P(y1 - 4.0),
            svgkit::GREEN
        );
    }
    if let Some(d) = a.plan.constraints.deadline_ms {
        emit!(
            out,
            "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"{}\" stroke-dasharray=\"4 3\"/>\n",
            P(top),
            P(h - bottom),
            svgkit::VERMILLION,
            x = P(px(d as f64))
        );
    }
    // Axes.
    emit!(
        out,
        "<path d=\"M{} {}V{}H{}\" fill=\"none\" stroke=\"{}\"/>\n",
        P(left),
        P(top),
        P(h - bottom),
        P(w - right),
        svgkit::INK
    );
    for i in 0..=4 {
        let ms = x_max / 1.05 * f64::from(i) / 4.0;
        emit!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{}\">{}</text>\n",
            P(px(ms)),
            P(h - bottom + 16.0),
            svgkit::MUTED,
            format_duration_human(ms as u64)
        );
        let f = y_min + (y_max - y_min) * f64::from(i) / 4.0;
        emit!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"{}\">{}</text>\n",
            P(left - 6.0),
            P(py(f) + 4.0),
            svgkit::MUTED,
            f.round()
        );
    }
    emit!(
        out,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">p90 duration</text>\n",
        P((left + w - right) / 2.0),
        P(h - 12.0)
    );
    emit!(
        out,
        "<text x=\"14\" y=\"{}\" transform=\"rotate(-90 14 {})\" text-anchor=\"middle\">lowest in service (p1)</text>\n",
        P((top + h - bottom) / 2.0),
        P((top + h - bottom) / 2.0)
    );
    emit!(
        out,
        "<text x=\"{}\" y=\"22\" font-size=\"13\">{}: feasible region (shaded), Pareto set (ringed), recommendation (star)</text>\n",
        P(left),
        Esc(&a.scenario_name)
    );
    let pareto: Vec<u32> = a.pareto.iter().map(|r| r.stats.id).collect();
    for s in &points {
        let (x, y) = (
            px(s.duration_p90_ms.expect("filtered") as f64),
            py(f64::from(s.floor_p1.expect("filtered"))),
        );
        let colour = if s.feasible {
            svgkit::BLUE
        } else {
            svgkit::GREY
        };
        emit!(
            out,
            "<circle cx=\"{}\" cy=\"{}\" r=\"2.5\" fill=\"{colour}\"><title>{}: p90 {}, floor {}, surge {:.2} h, {} runs</title></circle>\n",
            P(x),
            P(y),
            Esc(&a.plan.space.settings[s.id as usize].label()),
            human(s.duration_p90_ms),
            s.floor_p1.unwrap_or(0),
            s.surge_hours_mean(),
            s.runs
        );
        if pareto.contains(&s.id) {
            emit!(
                out,
                "<circle cx=\"{}\" cy=\"{}\" r=\"5\" fill=\"none\" stroke=\"{}\"/>\n",
                P(x),
                P(y),
                svgkit::ORANGE
            );
        }
    }
    if let Some(r) = a.recommended.as_ref().or(a.closest.as_ref()) {
        let s = &r.stats;
        if let (Some(d), Some(f)) = (s.duration_p90_ms, s.floor_p1) {
            let (x, y) = (px(d as f64), py(f64::from(f)));
            let star: Vec<String> = (0..10)
                .map(|i| {
                    let angle = std::f64::consts::PI * f64::from(i) / 5.0;
                    let radius = if i % 2 == 0 { 9.0 } else { 4.0 };
                    format!(
                        "{},{}",
                        P(x + radius * libm::sin(angle)),
                        P(y - radius * libm::cos(angle))
                    )
                })
                .collect();
            emit!(
                out,
                "<polygon points=\"{}\" fill=\"{}\"/>\n",
                star.join(" "),
                svgkit::VERMILLION
            );
        }
    }
    out.push_str("</svg>\n");
    out
}
