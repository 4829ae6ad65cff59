//! A setting's numbers from its whole runs, and the choices made from them: the recommendation
//! (best objective among feasible settings), the Pareto set, the closest setting when nothing is
//! feasible, and which constraint binds.

use super::constraint::{Constraints, Kind, Rule};
use super::search::Outcome;

/// What to minimise among feasible settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Objective {
    /// The p90 duration (then surge cost, then a higher floor).
    #[default]
    Duration,
    /// The mean surge instance-hours (then p90 duration, then a higher floor).
    SurgeCost,
}

impl Objective {
    pub fn parse(text: &str) -> Result<Objective, String> {
        match text.trim() {
            "duration" => Ok(Objective::Duration),
            "surge-cost" => Ok(Objective::SurgeCost),
            other => Err(format!("expected duration or surge-cost, found `{other}`")),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Objective::Duration => "duration",
            Objective::SurgeCost => "surge-cost",
        }
    }
}

/// One setting's numbers over its runs (whole runs; see `Evidence::complete`).
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    pub id: u32,
    pub runs: u32,
    /// Nearest-rank percentiles; `None` when that share of runs never ended.
    pub duration_p50_ms: Option<u64>,
    pub duration_p90_ms: Option<u64>,
    pub duration_p99_ms: Option<u64>,
    pub floor_p1: Option<u32>,
    pub floor_p50: Option<u32>,
    /// Sum of surge instance-milliseconds over the runs (the mean is exact from it).
    pub surge_ms_sum: u128,
    pub failure_pauses: u32,
    /// Runs meeting each constraint, by `Kind::index`.
    pub hits: [u32; 4],
    /// Each constraint's margin at the confidence quantile, as a share of its limit (negative:
    /// broken there); `None` for constraints not asked for.
    pub slack: [Option<f64>; 4],
    pub feasible: bool,
}

impl Stats {
    pub fn of(id: u32, outcomes: &[Outcome], c: &Constraints, rule: &Rule) -> Stats {
        let runs = outcomes.len() as u32;
        let mut durations: Vec<u64> = outcomes
            .iter()
            .map(|o| o.duration_ms.unwrap_or(u64::MAX))
            .collect();
        durations.sort_unstable();
        let mut floors: Vec<u32> = outcomes.iter().map(|o| o.floor.unwrap_or(0)).collect();
        floors.sort_unstable();
        let mut costs: Vec<u64> = outcomes.iter().map(|o| o.surge_ms).collect();
        costs.sort_unstable();
        let finite = |v: u64| (v != u64::MAX).then_some(v);
        let mut hits = [0u32; 4];
        for o in outcomes {
            for k in Kind::ALL {
                hits[k.index()] += u32::from(o.pass[k.index()]);
            }
        }
        let conf = rule.confidence;
        let required = outcomes
            .iter()
            .find_map(|o| o.before)
            .map(|b| c.min_in_service.required(b));
        let mut slack = [None; 4];
        slack[Kind::Completes.index()] = Some(f64::from(hits[0]) / f64::from(runs.max(1)) - conf);
        slack[Kind::MinInService.index()] = required.map(|req| {
            let low = f64::from(rank(&floors, 1.0 - conf));
            relative(low - f64::from(req), f64::from(req))
        });
        slack[Kind::Deadline.index()] = c.deadline_ms.map(|d| {
            let high = rank(&durations, conf);
            if high == u64::MAX {
                -1.0
            } else {
                relative(d as f64 - high as f64, d as f64)
            }
        });
        slack[Kind::MaxSurgeCost.index()] = c.max_surge_instance_ms.map(|cap| {
            let high = rank(&costs, conf);
            relative(cap as f64 - high as f64, cap as f64)
        });
        let feasible = runs == rule.runs && hits.iter().all(|h| rule.holds(*h));
        Stats {
            id,
            runs,
            duration_p50_ms: finite(rank(&durations, 0.5)),
            duration_p90_ms: finite(rank(&durations, 0.9)),
            duration_p99_ms: finite(rank(&durations, 0.99)),
            floor_p1: outcomes.first().map(|_| rank(&floors, 0.01)),
            floor_p50: outcomes.first().map(|_| rank(&floors, 0.5)),
            surge_ms_sum: costs.iter().map(|c| u128::from(*c)).sum(),
            failure_pauses: outcomes.iter().filter(|o| o.failed_pause).count() as u32,
            hits,
            slack,
            feasible,
        }
    }

    pub fn surge_hours_mean(&self) -> f64 {
        if self.runs == 0 {
            return 0.0;
        }
        self.surge_ms_sum as f64 / f64::from(self.runs) / 3_600_000.0
    }

    /// Sort key under `objective` (smaller is better); ties go to the earlier setting.
    pub fn key(&self, objective: Objective) -> (u128, u128, u32, u32) {
        let p90 = u128::from(self.duration_p90_ms.unwrap_or(u64::MAX));
        // The mean, in micro-instance-milliseconds (exact enough to order, integer: D3).
        let cost = self.surge_ms_sum * 1_000_000 / u128::from(self.runs.max(1));
        let floor = u32::MAX - self.floor_p1.unwrap_or(0);
        match objective {
            Objective::Duration => (p90, cost, floor, self.id),
            Objective::SurgeCost => (cost, p90, floor, self.id),
        }
    }

    /// The constraint with the least slack (ties in `Kind` order, the implicit one last).
    pub fn tightest(&self) -> Option<Kind> {
        let asked = [Kind::MinInService, Kind::Deadline, Kind::MaxSurgeCost];
        asked
            .into_iter()
            .filter_map(|k| self.slack[k.index()].map(|s| (k, s)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(k, _)| k)
    }

    /// The constraint furthest from holding: the most failing runs beyond what is allowed,
    /// then the least slack.
    pub fn worst_broken(&self, rule: &Rule) -> Kind {
        Kind::ALL
            .into_iter()
            .filter(|k| !rule.holds(self.hits[k.index()]) || self.runs < rule.runs)
            .min_by(|a, b| {
                let (sa, sb) = (
                    self.slack[a.index()].unwrap_or(0.0),
                    self.slack[b.index()].unwrap_or(0.0),
                );
                self.hits[a.index()]
                    .cmp(&self.hits[b.index()])
                    .then(sa.total_cmp(&sb))
            })
            .unwrap_or(Kind::Completes)
    }

    /// How far from feasible: the smallest slack over the constraints (more negative = further).
    fn shortfall(&self) -> f64 {
        self.slack
            .iter()
            .flatten()
            .copied()
            .fold(f64::INFINITY, f64::min)
    }
}

fn relative(margin: f64, limit: f64) -> f64 {
    if limit > 0.0 {
        margin / limit
    } else if margin >= 0.0 {
        0.0
    } else {
        -1.0
    }
}

/// Nearest-rank quantile at probability `p` of sorted values: the smallest value with at least
/// a `p` share of values at or below it (integer arithmetic on a millionth grid, D3).
pub fn rank<T: Copy>(sorted: &[T], p: f64) -> T {
    let n = sorted.len() as u64;
    let micro = (p.clamp(0.0, 1.0) * 1_000_000.0).round() as u64;
    let r = (micro * n).div_ceil(1_000_000).max(1);
    sorted[(r.min(n) - 1) as usize]
}

/// The recommendation among `stats` (feasible ones only), by objective.
pub fn best(stats: &[Stats], objective: Objective) -> Option<&Stats> {
    stats
        .iter()
        .filter(|s| s.feasible)
        .min_by_key(|s| s.key(objective))
}

/// The Pareto set over (p90 duration ↓, p1 floor ↑, mean surge cost ↓) among feasible
/// `stats`, sorted by the objective.
pub fn pareto(stats: &[Stats], objective: Objective) -> Vec<&Stats> {
    let feasible: Vec<&Stats> = stats.iter().filter(|s| s.feasible).collect();
    let point = |s: &Stats| {
        (
            s.duration_p90_ms.unwrap_or(u64::MAX),
            s.floor_p1.unwrap_or(0),
            s.surge_ms_sum,
        )
    };
    let mut front: Vec<&Stats> = feasible
        .iter()
        .copied()
        .filter(|b| {
            let (bd, bf, bc) = point(b);
            !feasible.iter().any(|a| {
                let (ad, af, ac) = point(a);
                let no_worse = ad <= bd && af >= bf && ac <= bc;
                let same = (ad, af, ac) == (bd, bf, bc);
                no_worse && (!same || a.id < b.id)
            })
        })
        .collect();
    front.sort_by_key(|s| s.key(objective));
    front
}

/// The setting that comes closest when none is feasible: the least shortfall, then objective.
pub fn closest(stats: &[Stats], objective: Objective) -> Option<&Stats> {
    stats.iter().min_by(|a, b| {
        b.shortfall()
            .total_cmp(&a.shortfall())
            .then(a.key(objective).cmp(&b.key(objective)))
    })
}

#[cfg(test)]
mod tests {
    use super::super::constraint::MinInService;
    use super::*;

    fn o(d: u64, floor: u32, surge: u64) -> Outcome {
        Outcome {
            cut: None,
            duration_ms: Some(d),
            floor: Some(floor),
            before: Some(100),
            surge_ms: surge,
            failed_pause: false,
            pass: [true, floor >= 90, d <= 1_000, surge == 0],
        }
    }

    fn constraints() -> Constraints {
        Constraints {
            min_in_service: MinInService::Share { ppm: 900_000 },
            deadline_ms: Some(1_000),
            max_surge_instance_ms: Some(0),
        }
    }

    #[test]
    fn nearest_rank_quantiles_on_an_integer_grid() {
        let v: Vec<u32> = (1..=100).collect();
        assert_eq!((rank(&v, 0.5), rank(&v, 0.9), rank(&v, 0.99)), (50, 90, 99));
        assert_eq!((rank(&v, 0.01), rank(&v, 0.05), rank(&v, 0.95)), (1, 5, 95));
        assert_eq!(rank(&[7u32], 0.9), 7);
    }

    #[test]
    fn stats_slack_and_the_binding_constraint() {
        let rule = Rule::new(1, 0.95, true).unwrap();
        let s = Stats::of(0, &[o(1_000, 90, 0)], &constraints(), &rule);
        assert!(s.feasible);
        assert_eq!(s.slack[1], Some(0.0));
        assert_eq!(s.slack[2], Some(0.0));
        assert_eq!(s.slack[3], Some(0.0));
        // Ties go to the first in Kind order: the floor.
        assert_eq!(s.tightest(), Some(Kind::MinInService));
        let slow = Stats::of(1, &[o(1_500, 95, 0)], &constraints(), &rule);
        assert!(!slow.feasible);
        assert_eq!(slow.worst_broken(&rule), Kind::Deadline);
        assert_eq!(slow.tightest(), Some(Kind::Deadline));
    }

    #[test]
    fn best_pareto_and_closest() {
        let rule = Rule::new(1, 0.95, true).unwrap();
        let c = Constraints {
            deadline_ms: None,
            max_surge_instance_ms: None,
            ..constraints()
        };
        let stats = vec![
            Stats::of(0, &[o(100, 80, 0)], &c, &rule), // infeasible floor
            Stats::of(1, &[o(200, 90, 0)], &c, &rule), // fastest feasible
            Stats::of(2, &[o(300, 95, 0)], &c, &rule), // slower, higher floor
            Stats::of(3, &[o(300, 95, 10)], &c, &rule), // dominated by 2
            Stats::of(4, &[o(200, 90, 0)], &c, &rule), // tie with 1
        ];
        assert_eq!(best(&stats, Objective::Duration).unwrap().id, 1);
        let front: Vec<u32> = pareto(&stats, Objective::Duration)
            .iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(front, [1, 2]);
        assert_eq!(best(&stats[..1], Objective::Duration), None);
        assert_eq!(closest(&stats[..1], Objective::Duration).unwrap().id, 0);
        assert_eq!(stats[0].worst_broken(&rule), Kind::MinInService);
        assert_eq!(
            Objective::parse("surge-cost").unwrap(),
            Objective::SurgeCost
        );
        assert!(Objective::parse("speed").is_err());
    }
}
