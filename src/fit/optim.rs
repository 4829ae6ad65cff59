//! Small, bounded optimisers: Nelder–Mead in two dimensions, golden-section search, and
//! profile-likelihood intervals. Every loop has an iteration cap.

/// χ²₁(0.95) / 2: a 95 % profile interval is where the log-likelihood is within this of its
/// maximum.
pub const PROFILE_DROP: f64 = 1.920_729_410_347_062;

/// Maximises `f` over two coordinates from `start` with initial steps `step`.
pub fn nelder_mead(
    f: &dyn Fn([f64; 2]) -> f64,
    start: [f64; 2],
    step: [f64; 2],
) -> ([f64; 2], f64) {
    let mut simplex = [
        start,
        [start[0] + step[0], start[1]],
        [start[0], start[1] + step[1]],
    ];
    let mut values = simplex.map(f);
    for _ in 0..600 {
        // Order best (highest) first.
        let mut order = [0usize, 1, 2];
        order.sort_by(|a, b| values[*b].total_cmp(&values[*a]));
        simplex = order.map(|i| simplex[i]);
        values = order.map(|i| values[i]);
        let spread = (values[0] - values[2]).abs();
        let size = (simplex[0][0] - simplex[2][0]).abs() + (simplex[0][1] - simplex[2][1]).abs();
        if spread < 1e-8 && size < 1e-6 {
            break;
        }
        let centroid = [
            (simplex[0][0] + simplex[1][0]) / 2.0,
            (simplex[0][1] + simplex[1][1]) / 2.0,
        ];
        let along = |t: f64| {
            [
                centroid[0] + t * (simplex[2][0] - centroid[0]),
                centroid[1] + t * (simplex[2][1] - centroid[1]),
            ]
        };
        let reflected = along(-1.0);
        let fr = f(reflected);
        if fr > values[0] {
            let expanded = along(-2.0);
            let fe = f(expanded);
            if fe > fr {
                simplex[2] = expanded;
                values[2] = fe;
            } else {
                simplex[2] = reflected;
                values[2] = fr;
            }
        } else if fr > values[1] {
            simplex[2] = reflected;
            values[2] = fr;
        } else {
            let contracted = if fr > values[2] {
                along(-0.5)
            } else {
                along(0.5)
            };
            let fc = f(contracted);
            if fc > values[2].max(fr) {
                simplex[2] = contracted;
                values[2] = fc;
            } else {
                for i in 1..3 {
                    simplex[i] = [
                        (simplex[0][0] + simplex[i][0]) / 2.0,
                        (simplex[0][1] + simplex[i][1]) / 2.0,
                    ];
                    values[i] = f(simplex[i]);
                }
            }
        }
    }
    let best = (0..3)
        .max_by(|a, b| values[*a].total_cmp(&values[*b]))
        .unwrap_or(0);
    (simplex[best], values[best])
}

/// Maximises a unimodal `f` on `[lo, hi]` (golden section).
pub fn golden_max(f: &dyn Fn(f64) -> f64, mut lo: f64, mut hi: f64, iterations: u32) -> (f64, f64) {
    let ratio = (5f64.sqrt() - 1.0) / 2.0;
    let mut x1 = hi - ratio * (hi - lo);
    let mut x2 = lo + ratio * (hi - lo);
    let (mut f1, mut f2) = (f(x1), f(x2));
    for _ in 0..iterations {
        if f1 < f2 {
            lo = x1;
            x1 = x2;
            f1 = f2;
            x2 = lo + ratio * (hi - lo);
            f2 = f(x2);
        } else {
            hi = x2;
            x2 = x1;
            f2 = f1;
            x1 = hi - ratio * (hi - lo);
            f1 = f(x1);
        }
    }
    if f1 > f2 { (x1, f1) } else { (x2, f2) }
}

/// The 95 % profile interval of a parameter: the values t around `best` where
/// `profile(t) >= top - PROFILE_DROP`, searched outward from `best` in steps starting at `step`
/// and doubling, then narrowed by false position (Illinois); a side that never drops (within
/// `limit` of `best`) is `None`.
pub fn profile_interval(
    profile: &dyn Fn(f64) -> f64,
    best: f64,
    top: f64,
    step: f64,
    limit: f64,
) -> (Option<f64>, Option<f64>) {
    let target = top - PROFILE_DROP;
    let excess = |t: f64| profile(t) - target;
    let side = |direction: f64| -> Option<f64> {
        let mut inside = (best, top - target);
        let mut h = step;
        let mut outside = None;
        for _ in 0..40 {
            let t = best + direction * h;
            if h > limit {
                break;
            }
            let e = excess(t);
            if e < 0.0 {
                outside = Some((t, e));
                break;
            }
            inside = (t, e);
            h *= 2.0;
        }
        Some(narrow(&excess, inside, outside?, step * 1e-4))
    };
    (side(-1.0), side(1.0))
}

/// The crossing of a smooth `excess` (≥ 0 at `inside`, < 0 at `outside`), to within
/// `tolerance` or a ten-thousandth of a log-likelihood unit, in at most 40 evaluations. False
/// position with the Illinois halving: a smooth profile converges in a handful of steps where
/// bisection takes twenty (the profile's nuisance maximisation makes each one costly).
fn narrow(
    excess: &dyn Fn(f64) -> f64,
    mut inside: (f64, f64),
    mut outside: (f64, f64),
    tolerance: f64,
) -> f64 {
    let mut last_moved_inside = None;
    for _ in 0..40 {
        if (outside.0 - inside.0).abs() <= tolerance {
            break;
        }
        let secant = inside.0 - inside.1 * (outside.0 - inside.0) / (outside.1 - inside.1);
        // Fall back to the midpoint where the secant is not strictly inside the bracket.
        let (lo, hi) = (inside.0.min(outside.0), inside.0.max(outside.0));
        let t = if secant > lo && secant < hi {
            secant
        } else {
            (inside.0 + outside.0) / 2.0
        };
        let e = excess(t);
        if e.abs() < 1e-4 {
            return t;
        }
        if e < 0.0 {
            outside = (t, e);
            if last_moved_inside == Some(false) {
                inside.1 /= 2.0;
            }
            last_moved_inside = Some(false);
        } else {
            inside = (t, e);
            if last_moved_inside == Some(true) {
                outside.1 /= 2.0;
            }
            last_moved_inside = Some(true);
        }
    }
    (inside.0 + outside.0) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nelder_mead_finds_a_quadratic_top() {
        let f = |p: [f64; 2]| -((p[0] - 3.0).powi(2) + 2.0 * (p[1] + 1.0).powi(2));
        let (best, value) = nelder_mead(&f, [0.0, 0.0], [1.0, 1.0]);
        assert!((best[0] - 3.0).abs() < 1e-4 && (best[1] + 1.0).abs() < 1e-4);
        assert!(value > -1e-8);
    }

    #[test]
    fn profile_interval_of_a_normal_mean_is_mean_plus_minus_1_96_se() {
        // ln L(mu) = -(mu - 10)^2 / (2 se^2) with se = 0.5.
        let profile = |mu: f64| -(mu - 10.0f64).powi(2) / (2.0 * 0.25);
        let (lo, hi) = profile_interval(&profile, 10.0, 0.0, 0.01, 1e6);
        assert!((lo.unwrap() - (10.0 - 1.959_964 * 0.5)).abs() < 1e-4);
        assert!((hi.unwrap() - (10.0 + 1.959_964 * 0.5)).abs() < 1e-4);
        let flat = |_: f64| 0.0;
        assert_eq!(profile_interval(&flat, 1.0, 0.0, 0.1, 100.0), (None, None));
    }

    #[test]
    fn golden_max_finds_the_peak() {
        let (x, _) = golden_max(&|x: f64| -(x - 0.3).powi(2), -1.0, 2.0, 60);
        assert!((x - 0.3).abs() < 1e-6);
    }
}
