//! The sweep's trade-off: p50 duration against mean surge instance-hours, and its Pareto
//! frontier computed among the variants whose worst run keeps the sweep's capacity floor
//! (`--floor`, else the scenario's `capacity_floor`). One computation for `tradeoff.svg` and
//! `report.html` (which draws it and marks it in the variant table), so they cannot disagree.

use super::Report;
use super::stats::Spread;
use serde_json::{Value, json};

/// Slack on the floor comparison: fractions are ratios of counts, the floor a per-mille value.
const FLOOR_EPSILON: f64 = 1e-12;

/// What the trade-off chart and the report need, by variant id.
#[derive(Debug, Clone, PartialEq)]
pub struct Tradeoff {
    /// The sweep's floor as a fraction of the pre-refresh in-service count.
    pub floor: f64,
    /// Whether each variant's worst run stayed at or above the floor (`false` without a value).
    pub meets_floor: Vec<bool>,
    /// Ids on the frontier among the variants that meet the floor and have both a p50 duration
    /// and a surge cost, in increasing surge.
    pub frontier: Vec<u32>,
}

pub(crate) fn metric<'r>(report: &'r Report<'_>, variant: u32, name: &str) -> Option<&'r Spread> {
    report
        .stats
        .get(variant as usize)?
        .metrics
        .iter()
        .find(|m| m.def == name)?
        .spread
        .as_ref()
}

/// `(mean surge instance-hours, p50 duration in minutes)` of a variant, when both are finite.
pub fn objectives(report: &Report<'_>, id: u32) -> Option<(f64, f64)> {
    let surge = metric(report, id, "surge_instance_s")?.mean / 3600.0;
    let duration = metric(report, id, "duration_s")?.p50 / 60.0;
    (surge.is_finite() && duration.is_finite()).then_some((surge, duration))
}

/// Whether a worst-run capacity fraction keeps the floor (given as per-mille).
pub fn keeps_floor(worst_fraction: Option<f64>, floor_permille: u32) -> bool {
    worst_fraction
        .is_some_and(|w| w.is_finite() && w + FLOOR_EPSILON >= f64::from(floor_permille) / 1000.0)
}

/// The trade-off of a sweep.
pub fn tradeoff(report: &Report<'_>) -> Tradeoff {
    let plan = report.plan;
    let meets_floor: Vec<bool> = plan
        .variants
        .iter()
        .map(|v| {
            let worst = metric(report, v.id, "min_in_service_fraction").map(|s| s.min);
            keeps_floor(worst, plan.floor_permille)
        })
        .collect();
    let eligible: Vec<(u32, f64, f64)> = plan
        .variants
        .iter()
        .filter(|v| meets_floor[v.id as usize])
        .filter_map(|v| objectives(report, v.id).map(|(s, d)| (v.id, s, d)))
        .collect();
    Tradeoff {
        floor: f64::from(plan.floor_permille) / 1000.0,
        frontier: pareto_frontier(&eligible),
        meets_floor,
    }
}

impl Tradeoff {
    /// For report.html's data: `{floor, meets_floor: [bool by id], frontier: [ids]}`.
    pub fn to_json(&self) -> Value {
        json!({
            "floor": self.floor,
            "meets_floor": self.meets_floor,
            "frontier": self.frontier,
            "rule": "Pareto set of (p50 duration, mean surge instance-hours) among the variants whose worst run keeps the floor",
        })
    }
}

/// Ids of the points no other point dominates (no more surge and no longer p50 duration, and
/// strictly better in one), in increasing surge. Equal points do not dominate each other.
pub fn pareto_frontier(points: &[(u32, f64, f64)]) -> Vec<u32> {
    let mut sorted = points.to_vec();
    sorted.sort_by(|a, b| {
        a.1.total_cmp(&b.1)
            .then(a.2.total_cmp(&b.2))
            .then(a.0.cmp(&b.0))
    });
    // Lowest duration among cheaper-or-equal points so far, and the surge where it was first
    // reached: a later point with that same duration is dominated unless it costs the same.
    let mut best: Option<(f64, f64)> = None;
    let mut frontier = Vec::new();
    for &(id, surge, duration) in &sorted {
        let on_frontier = match best {
            None => true,
            Some((best_duration, first_surge)) => {
                duration < best_duration || (duration == best_duration && surge == first_surge)
            }
        };
        if on_frontier {
            frontier.push(id);
        }
        if best.is_none_or(|(d, _)| duration < d) {
            best = Some((duration, surge));
        }
    }
    frontier
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Dominated: some other point has no more surge and no longer duration, and is strictly
    /// better in one.
    fn frontier_by_brute_force(points: &[(u32, f64, f64)]) -> Vec<u32> {
        let mut ids: Vec<(f64, f64, u32)> = points
            .iter()
            .filter(|p| {
                !points
                    .iter()
                    .any(|q| q.1 <= p.1 && q.2 <= p.2 && (q.1 < p.1 || q.2 < p.2))
            })
            .map(|p| (p.1, p.2, p.0))
            .collect();
        ids.sort_by(|a, b| {
            a.0.total_cmp(&b.0)
                .then(a.1.total_cmp(&b.1))
                .then(a.2.cmp(&b.2))
        });
        ids.into_iter().map(|p| p.2).collect()
    }

    #[test]
    fn the_frontier_keeps_exactly_the_undominated_points() {
        let points = [
            (0, 0.0, 30.0),
            (1, 1.0, 20.0),
            (2, 1.0, 25.0), // same cost as 1, slower
            (3, 2.0, 20.0), // as fast as 1, dearer
            (4, 3.0, 10.0),
            (5, 3.0, 10.0), // equal to 4: neither dominates the other
            (6, 4.0, 12.0),
        ];
        assert_eq!(pareto_frontier(&points), [0, 1, 4, 5]);
        assert_eq!(pareto_frontier(&[]), Vec::<u32>::new());
        // A fixed pseudo-random cloud on a coarse grid, so ties happen often.
        let mut state = 7u64;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            f64::from((state >> 60) as u32)
        };
        let cloud: Vec<(u32, f64, f64)> = (0..60).map(|id| (id, next(), next())).collect();
        assert_eq!(pareto_frontier(&cloud), frontier_by_brute_force(&cloud));
    }

    #[test]
    fn the_floor_rule_needs_a_value_at_or_above_it() {
        assert!(keeps_floor(Some(0.8), 800));
        assert!(keeps_floor(Some(0.8 - 1e-13), 800));
        assert!(!keeps_floor(Some(0.79), 800));
        assert!(!keeps_floor(None, 800));
        assert!(!keeps_floor(Some(f64::NAN), 0));
        assert!(keeps_floor(Some(0.0), 0));
    }
}
