//! `refreshsim advise`: which refresh settings to use for a group, given a capacity floor, a
//! deadline and a surge budget, each held at a confidence (issue 13).
//!
//! Data flow: `space` lists the candidate settings (`--allow` parsed by `sweep::grid`), grouped
//! in chains that differ only in `MaxSurge`; `constraint` parses the constraints and decides,
//! with Wilson lower bounds, when a setting meets one (OQ-85); `search` runs settings with the
//! sweep's CRN seeds, stopping runs that already broke a constraint and pruning settings that
//! cannot win (OQ-86, OQ-87), or every setting in full (`Strategy::FullGrid`); `stats` turns
//! whole runs into percentiles and picks the recommendation, the Pareto set and the binding
//! constraint; `render` writes `advice.json`, the chart and the printed answer.
//!
//! With constant timings and no random faults a run does not depend on its seed, so one run
//! decides a setting (OQ-88); that is checked, not assumed, on the recommendation.

pub mod constraint;
pub mod render;
pub mod search;
pub mod space;
pub mod stats;

use crate::scenario::{Dist, Scenario};
use constraint::{Constraints, Kind, Rule};
use search::{Counts, Evidence};
use stats::{Objective, Stats};

/// Runs per setting when `--runs` is not given: enough for a 0.95 bound with one failure.
pub const DEFAULT_RUNS: u32 = 100;
pub const DEFAULT_CONFIDENCE: f64 = 0.95;
/// Most settings listed in `pareto` (the rest are counted in `pareto_total`).
pub const MAX_PARETO_LISTED: usize = 100;

/// Everything that can go wrong before or while advising. Library errors only: the commands
/// layer maps them to exit codes (all are bad input or a run bound: exit 2).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AdviseError {
    #[error("{option} {found}: {message}")]
    Constraint {
        option: &'static str,
        found: String,
        message: String,
    },
    #[error("{option}: {message}")]
    Option {
        option: &'static str,
        message: String,
    },
    #[error("--allow {text}: {message}")]
    Allow { text: String, message: String },
    #[error("{0}")]
    Scenario(String),
    #[error("setting {setting}, seed {seed}: {message}")]
    Run {
        setting: String,
        seed: u64,
        message: String,
    },
    #[error("internal error: {0}")]
    Internal(String),
}

/// How settings are searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// Chains, bisection, racing (the default).
    #[default]
    Smart,
    /// Every setting, `--runs` whole runs each (the brute-force reference).
    FullGrid,
}

/// An advice request, as the command line gives it (texts are parsed here, so every error is
/// typed and found before anything runs).
#[derive(Debug, Clone)]
pub struct Request {
    /// The scenario path as given (replay commands use it).
    pub scenario_path: String,
    pub min_in_service: String,
    pub deadline: Option<String>,
    pub max_surge_cost: Option<String>,
    pub objective: Objective,
    pub confidence: f64,
    pub allow: Vec<String>,
    pub runs: u32,
    pub jobs: usize,
    pub seed: Option<u64>,
    pub strategy: Strategy,
}

impl Request {
    pub fn new(scenario_path: &str, min_in_service: &str) -> Request {
        Request {
            scenario_path: scenario_path.to_string(),
            min_in_service: min_in_service.to_string(),
            deadline: None,
            max_surge_cost: None,
            objective: Objective::Duration,
            confidence: DEFAULT_CONFIDENCE,
            allow: Vec::new(),
            runs: DEFAULT_RUNS,
            jobs: 1,
            seed: None,
            strategy: Strategy::Smart,
        }
    }
}

/// A checked request, ready to search.
#[derive(Debug, Clone)]
pub struct Plan {
    pub request: Request,
    pub constraints: Constraints,
    pub space: space::Space,
    pub rule: Rule,
    pub seed: u64,
    /// No randomness reaches a run (OQ-88).
    pub exact: bool,
}

/// Parses and checks everything: constraints, options, `--allow`, the space, the minimum
/// against the group. Nothing runs but dry runs of the first Start.
pub fn plan(base: &Scenario, request: &Request) -> Result<Plan, AdviseError> {
    let min_in_service = constraint::MinInService::parse(&request.min_in_service)?;
    let deadline_ms = request
        .deadline
        .as_deref()
        .map(constraint::parse_deadline)
        .transpose()?;
    let max_surge_instance_ms = request
        .max_surge_cost
        .as_deref()
        .map(constraint::parse_surge_cost)
        .transpose()?;
    if request.jobs == 0 || request.jobs > 1024 {
        return Err(AdviseError::Option {
            option: "--jobs",
            message: format!("expected 1..=1024, found {}", request.jobs),
        });
    }
    let exact = is_exact(base);
    let rule = Rule::new(request.runs, request.confidence, exact)?;
    let space = space::build(base, &request.allow)?;
    if let constraint::MinInService::Count(n) = min_in_service
        && n > space.in_service
    {
        return Err(AdviseError::Constraint {
            option: "--min-in-service",
            found: request.min_in_service.clone(),
            message: format!(
                "the group has only {} instances in service; no refresh can keep {n}",
                space.in_service
            ),
        });
    }
    Ok(Plan {
        request: request.clone(),
        constraints: Constraints {
            min_in_service,
            deadline_ms,
            max_surge_instance_ms,
        },
        space,
        rule,
        seed: request.seed.unwrap_or(base.seed),
        exact,
    })
}

/// OQ-88: every timing is a constant and every fault probability 0 (scripted faults and events
/// are fixed, not drawn), so a run does not depend on its seed.
pub fn is_exact(s: &Scenario) -> bool {
    let constant = |d: &Dist| match d {
        Dist::Constant(_) => true,
        Dist::Uniform { min_ms, max_ms } => min_ms == max_ms,
        Dist::Empirical(values) => values.windows(2).all(|w| w[0] == w[1]),
        Dist::Normal { .. } | Dist::LogNormal { .. } => false,
    };
    let t = &s.timing;
    let f = &s.faults;
    [
        &t.reinstall,
        &t.target_health,
        &t.init_delay,
        &t.batch_gap,
        &t.instance_create,
        &t.instance_destroy,
        &t.hook_response,
    ]
    .into_iter()
    .all(constant)
        && t.instances.iter().all(|(_, i)| {
            i.reinstall.as_ref().is_none_or(constant)
                && i.target_health.as_ref().is_none_or(constant)
        })
        && [
            f.reinstall_failure_ppm,
            f.target_health_never_ppm,
            f.create_failure_ppm,
            f.destroy_failure_ppm,
            f.hook_abandon_ppm,
        ]
        .iter()
        .all(|p| *p == 0)
}

/// One reported setting.
#[derive(Debug, Clone)]
pub struct Reported {
    pub stats: Stats,
    /// The effective settings of its first Start, and the request body to send.
    pub rolling_update_settings: serde_json::Value,
    pub start_request: serde_json::Value,
    pub replay: String,
}

/// The answer.
#[derive(Debug, Clone)]
pub struct Advice {
    pub plan: Plan,
    pub scenario_name: String,
    pub scenario_sha256: String,
    pub feasible: bool,
    pub recommended: Option<Reported>,
    /// When nothing is feasible: the setting that comes closest.
    pub closest: Option<Reported>,
    /// The recommendation's tightest constraint, or the one the closest setting cannot meet.
    pub binding: Option<Kind>,
    pub pareto: Vec<Reported>,
    pub pareto_total: usize,
    /// Every setting that got runs, with what its runs showed (for the chart).
    pub evaluated: Vec<Stats>,
    pub counts: Counts,
    /// Runs a full grid at the same runs per setting would make.
    pub full_grid_runs: u64,
    /// Settings Tencent would refuse (chains × members).
    pub refused: u64,
}

/// Runs the search on `jobs` threads and decides. Same plan → same advice, whatever `jobs`.
pub fn advise(base: &Scenario, plan: Plan) -> Result<Advice, AdviseError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(plan.request.jobs)
        .build()
        .map_err(|e| AdviseError::Internal(format!("cannot start worker threads: {e}")))?;
    pool.install(|| {
        let advice = decide(base, plan.clone())?;
        if !plan.exact || exactness_holds(base, &plan, &advice)? {
            return Ok(advice);
        }
        // OQ-88: the scenario looked seed-free but is not; search it as a random one.
        let mut stochastic = plan;
        stochastic.exact = false;
        stochastic.rule = Rule::new(stochastic.request.runs, stochastic.rule.confidence, false)?;
        decide(base, stochastic)
    })
}

fn decide(base: &Scenario, plan: Plan) -> Result<Advice, AdviseError> {
    let mut ev = Evidence::new(base, &plan.space, &plan.constraints, plan.rule, plan.seed);
    match plan.request.strategy {
        Strategy::Smart => search::smart(&mut ev)?,
        Strategy::FullGrid => search::full_grid(&mut ev)?,
    }
    ev.complete(&ev.finalists.clone())?;
    let objective = plan.request.objective;
    let stats_of = |ev: &Evidence<'_>, id: u32| {
        Stats::of(id, &ev.outcomes[id as usize], ev.constraints, &ev.rule)
    };
    let finals: Vec<Stats> = ev.finalists.iter().map(|id| stats_of(&ev, *id)).collect();
    let recommended = stats::best(&finals, objective).cloned();
    let front: Vec<Stats> = stats::pareto(&finals, objective)
        .into_iter()
        .cloned()
        .collect();
    let (closest, binding) = match &recommended {
        Some(r) => (None, binding(&mut ev, r, objective)?),
        None => {
            let seen: Vec<Stats> = (0..ev.outcomes.len() as u32)
                .filter(|id| !ev.outcomes[*id as usize].is_empty())
                .map(|id| stats_of(&ev, id))
                .collect();
            let near = stats::closest(&seen, objective).map(|s| s.id);
            match near {
                Some(id) => {
                    ev.complete(&[id])?;
                    let s = stats_of(&ev, id);
                    let kind = s.worst_broken(&ev.rule);
                    (Some(s), Some(kind))
                }
                None => (None, None),
            }
        }
    };
    let report = |s: &Stats| render::reported(base, &plan, s.clone());
    let advice_recommended = recommended.as_ref().map(report).transpose()?;
    let advice_closest = closest.as_ref().map(report).transpose()?;
    let pareto = front
        .iter()
        .take(MAX_PARETO_LISTED)
        .map(report)
        .collect::<Result<Vec<_>, _>>()?;
    let evaluated: Vec<Stats> = (0..ev.outcomes.len() as u32)
        .filter(|id| !ev.outcomes[*id as usize].is_empty())
        .map(|id| stats_of(&ev, id))
        .collect();
    let refused: u64 = ev
        .deaths
        .iter()
        .zip(&plan.space.chains)
        .filter(|(d, _)| matches!(d, Some(search::Death::Refused(_))))
        .map(|(_, m)| m.len() as u64)
        .sum();
    let counts = ev.counts;
    let full_grid_runs = (plan.space.settings.len() as u64 - refused) * u64::from(plan.rule.runs);
    Ok(Advice {
        scenario_name: base.name.clone(),
        scenario_sha256: base.source_sha256.clone(),
        feasible: advice_recommended.is_some(),
        recommended: advice_recommended,
        closest: advice_closest,
        binding,
        pareto_total: front.len(),
        pareto,
        evaluated,
        counts,
        full_grid_runs,
        refused,
        plan,
    })
}

/// The constraint that stops the search from doing better than `rec` (OQ-85): among the
/// settings ruled out (the setting that ended each chain, and the other finalists), their runs
/// made whole, those strictly better on the objective that break exactly one constraint;
/// the nearest of them names it (relaxing that constraint alone is the next step up). Failing
/// that, the recommendation's tightest constraint.
fn binding(
    ev: &mut Evidence<'_>,
    rec: &Stats,
    objective: Objective,
) -> Result<Option<Kind>, AdviseError> {
    let allowed = ev.rule.max_failures().expect("checked by Rule::new");
    let mut ids: Vec<u32> = ev
        .deaths
        .iter()
        .filter_map(|d| match d {
            Some(search::Death::Infeasible(_, id)) => Some(*id),
            Some(search::Death::Refused(_)) | None => None,
        })
        .chain(ev.finalists.iter().copied())
        .filter(|id| *id != rec.id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    // Every run it had, at least the few that can rule it out, made whole.
    let first = (allowed + 1).min(ev.rule.runs);
    let targets: Vec<(u32, u32)> = ids
        .iter()
        .map(|id| (*id, (ev.outcomes[*id as usize].len() as u32).max(first)))
        .collect();
    ev.complete_to(&targets)?;
    // Which constraints its whole runs break (a cut run knew only the first one broken).
    let broken: Vec<Vec<Kind>> = ids
        .iter()
        .map(|id| {
            let runs = &ev.outcomes[*id as usize];
            Kind::ALL
                .into_iter()
                .filter(|k| runs.iter().filter(|o| o.fails(*k)).count() as u32 > allowed)
                .collect()
        })
        .collect();
    let mut better: Vec<((u128, u128, u32, u32), Kind)> = ids
        .iter()
        .zip(&broken)
        .filter(|(_, b)| b.len() == 1)
        .filter_map(|(id, b)| {
            let runs = &ev.outcomes[*id as usize];
            let key = Stats::of(*id, runs, ev.constraints, &ev.rule).key(objective);
            (key.0 < rec.key(objective).0).then_some((key, b[0]))
        })
        .collect();
    // The nearest improvement: the constraint that stops the first step beyond `rec`.
    better.sort_by_key(|(key, _)| *key);
    Ok(better.last().map(|(_, k)| *k).or_else(|| rec.tightest()))
}

/// OQ-88's check: the reported setting, run with a second seed, gives the same outcome.
fn exactness_holds(base: &Scenario, plan: &Plan, advice: &Advice) -> Result<bool, AdviseError> {
    let Some(r) = advice.recommended.as_ref().or(advice.closest.as_ref()) else {
        return Ok(true);
    };
    let mut ev = Evidence::new(
        base,
        &plan.space,
        &plan.constraints,
        Rule::new(2, plan.rule.confidence, true)
            .map_err(|e| AdviseError::Internal(e.to_string()))?,
        plan.seed,
    );
    ev.extend(&[(r.stats.id, 2)], false)?;
    let runs = &ev.outcomes[r.stats.id as usize];
    Ok(runs[0] == runs[1])
}
