//! Per-instance duration distributions (the families `[timing]` supports, `sim::sample`) and
//! the likelihood of what Describe shows: a batch of k instances lasts the maximum of k draws
//! (CDF F(x)^k), seen as the difference of two whole-second times (OQ-80).
//!
//! Observation model (OQ-80): Describe truncates both StartTime and EndTime to whole seconds. With
//! the start's fraction uniform, the observed difference d of a true duration D is
//! ⌊D⌋ or ⌈D⌉ with weights giving P(d | D) = (1 − |D − d|)⁺, a triangle. So
//! P(d) = ∫ (1 − |x − d|)⁺ dG(x) = ∫_d^{d+1} G − ∫_{d−1}^d G, with G = F^k. Continuous families
//! integrate G by Simpson's rule on a quarter-second grid shared by all observations (F is
//! evaluated once per grid point, G = exp(k ln F)); constant and empirical are exact.

/// One group of identical observations: `count` batches of `k` instances whose observed
/// whole-second duration was `d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Obs {
    pub k: u32,
    pub d: i64,
    pub count: u32,
}

/// The families tried, in the order reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Family {
    Constant,
    Uniform,
    Normal,
    Lognormal,
    Empirical,
}

impl Family {
    pub const ALL: [Family; 5] = [
        Family::Constant,
        Family::Uniform,
        Family::Normal,
        Family::Lognormal,
        Family::Empirical,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Family::Constant => "constant",
            Family::Uniform => "uniform",
            Family::Normal => "normal",
            Family::Lognormal => "lognormal",
            Family::Empirical => "empirical",
        }
    }
}

/// z of the 95th percentile of a standard normal.
pub const Z95: f64 = 1.644_853_626_951_472_2;

/// The smallest scale (seconds) a continuous family may take: below it the whole-second data
/// cannot tell it from a constant, and the constant family (exact) is the model (OQ-80).
pub const MIN_SCALE_S: f64 = 0.5;

/// A per-instance distribution in seconds.
#[derive(Debug, Clone, PartialEq)]
pub enum Dist {
    Constant {
        value: f64,
    },
    Uniform {
        min: f64,
        max: f64,
    },
    /// Clamped at 0 below, as `sim::sample` clamps at `min` (0 by default).
    Normal {
        mean: f64,
        sd: f64,
    },
    Lognormal {
        mu: f64,
        sigma: f64,
    },
    /// A discrete distribution on whole seconds: `support[i]` has cumulative `cdf[i]`.
    Empirical {
        support: Vec<i64>,
        cdf: Vec<f64>,
    },
}

fn phi_upper(z: f64) -> f64 {
    0.5 * libm::erfc(z / core::f64::consts::SQRT_2)
}

impl Dist {
    pub fn family(&self) -> Family {
        match self {
            Dist::Constant { .. } => Family::Constant,
            Dist::Uniform { .. } => Family::Uniform,
            Dist::Normal { .. } => Family::Normal,
            Dist::Lognormal { .. } => Family::Lognormal,
            Dist::Empirical { .. } => Family::Empirical,
        }
    }

    /// Free parameters (for AIC).
    pub fn parameters(&self) -> usize {
        match self {
            Dist::Constant { .. } => 1,
            Dist::Uniform { .. } | Dist::Normal { .. } | Dist::Lognormal { .. } => 2,
            // s support points chosen from the data and s − 1 free probabilities (OQ-81).
            Dist::Empirical { support, .. } => (2 * support.len()).saturating_sub(1).max(1),
        }
    }

    /// Whether the scale is one the whole-second data can resolve (see [`MIN_SCALE_S`]).
    pub fn resolvable(&self) -> bool {
        match self {
            Dist::Constant { .. } | Dist::Empirical { .. } => true,
            Dist::Uniform { min, max } => max - min >= 2.0 * MIN_SCALE_S * 3f64.sqrt(),
            Dist::Normal { sd, .. } => *sd >= MIN_SCALE_S,
            Dist::Lognormal { mu, sigma } => libm::exp(*mu) * sigma >= MIN_SCALE_S,
        }
    }

    /// F(x).
    pub fn cdf(&self, x: f64) -> f64 {
        libm::exp(self.ln_cdf(x))
    }

    /// ln F(x) (−∞ where F = 0), accurate near F = 1 (from the upper tail).
    fn ln_cdf(&self, x: f64) -> f64 {
        let (lower, upper) = match self {
            Dist::Uniform { min, max } => {
                let u = ((x - min) / (max - min)).clamp(0.0, 1.0);
                (u, 1.0 - u)
            }
            Dist::Normal { mean, sd } => {
                if x < 0.0 {
                    (0.0, 1.0)
                } else {
                    let z = (x - mean) / sd;
                    (phi_upper(-z), phi_upper(z))
                }
            }
            Dist::Lognormal { mu, sigma } => {
                if x <= 0.0 {
                    (0.0, 1.0)
                } else {
                    let z = (libm::log(x) - mu) / sigma;
                    (phi_upper(-z), phi_upper(z))
                }
            }
            Dist::Constant { value } => {
                if x >= *value {
                    (1.0, 0.0)
                } else {
                    (0.0, 1.0)
                }
            }
            Dist::Empirical { support, cdf } => {
                let c = empirical_cdf(support, cdf, x);
                (c, 1.0 - c)
            }
        };
        if lower <= 0.0 {
            f64::NEG_INFINITY
        } else if lower < 0.5 {
            libm::log(lower)
        } else {
            libm::log1p(-upper)
        }
    }

    /// The per-instance quantile (seconds).
    pub fn quantile(&self, p: f64) -> f64 {
        match self {
            Dist::Constant { value } => *value,
            Dist::Uniform { min, max } => min + p * (max - min),
            Dist::Normal { mean, sd } => (mean + sd * inverse_phi(p)).max(0.0),
            Dist::Lognormal { mu, sigma } => libm::exp(mu + sigma * inverse_phi(p)),
            Dist::Empirical { support, cdf } => {
                let i = cdf
                    .iter()
                    .position(|c| *c >= p - 1e-12)
                    .unwrap_or(cdf.len() - 1);
                support[i] as f64
            }
        }
    }

    /// The quantile of the maximum of k draws: F⁻¹(p^{1/k}).
    pub fn max_quantile(&self, k: u32, p: f64) -> f64 {
        self.quantile(libm::pow(p, 1.0 / f64::from(k.max(1))))
    }

    /// Σ count · ln P(d | k) over the observations.
    pub fn log_likelihood(&self, obs: &[Obs]) -> f64 {
        match self {
            Dist::Constant { value } => obs
                .iter()
                .map(|o| f64::from(o.count) * ln_floor(1.0 - (value - o.d as f64).abs()))
                .sum(),
            Dist::Empirical { support, cdf } => obs
                .iter()
                .map(|o| {
                    let k = f64::from(o.k);
                    let i = support.partition_point(|s| *s < o.d);
                    let p = if i < support.len() && support[i] == o.d {
                        let below = if i == 0 { 0.0 } else { cdf[i - 1] };
                        libm::pow(cdf[i], k) - libm::pow(below, k)
                    } else {
                        0.0
                    };
                    f64::from(o.count) * ln_floor(p)
                })
                .sum(),
            Dist::Uniform { .. } | Dist::Normal { .. } | Dist::Lognormal { .. } => {
                self.continuous_log_likelihood(obs)
            }
        }
    }

    fn continuous_log_likelihood(&self, obs: &[Obs]) -> f64 {
        let Some(lo) = obs.iter().map(|o| o.d).min() else {
            return 0.0;
        };
        let hi = obs.iter().map(|o| o.d).max().unwrap_or(lo);
        // ln F on the grid lo-1, lo-1+1/4, ..., hi+1.
        let base = (lo - 1) as f64;
        let points = ((hi - lo + 2) * STEPS as i64 + 1) as usize;
        let ln_f: Vec<f64> = (0..points)
            .map(|j| self.ln_cdf(base + j as f64 / STEPS as f64))
            .collect();
        obs.iter()
            .map(|o| {
                let first = ((o.d - 1 - (lo - 1)) * STEPS as i64) as usize;
                let window = &ln_f[first..first + 2 * STEPS + 1];
                f64::from(o.count) * ln_floor(triangle_mass(window, f64::from(o.k)))
            })
            .sum()
    }
}

/// Grid points per second.
const STEPS: usize = 4;

/// ∫_d^{d+1} G − ∫_{d−1}^d G from ln F at d−1 … d+1 (2·STEPS+1 points), by Simpson's rule; in
/// survival form (1 − G) when G is near 1, so a likely duration is not lost to cancellation.
fn triangle_mass(ln_f: &[f64], k: f64) -> f64 {
    let mid = ln_f[STEPS];
    let g_mid = libm::exp(k * mid);
    let value = |j: usize| -> f64 {
        if g_mid < 0.5 {
            libm::exp(k * ln_f[j])
        } else {
            -libm::expm1(k * ln_f[j])
        }
    };
    let simpson = |from: usize| -> f64 {
        let h = 1.0 / STEPS as f64;
        let mut sum = value(from) + value(from + STEPS);
        for j in 1..STEPS {
            sum += value(from + j) * if j % 2 == 1 { 4.0 } else { 2.0 };
        }
        sum * h / 3.0
    };
    let (left, right) = (simpson(0), simpson(STEPS));
    if g_mid < 0.5 {
        right - left
    } else {
        // With S = 1 − G: ∫_d^{d+1} G − ∫_{d−1}^d G = ∫_{d−1}^d S − ∫_d^{d+1} S.
        left - right
    }
}

/// ln of a probability, floored so that an impossible observation is a large finite penalty.
fn ln_floor(p: f64) -> f64 {
    libm::log(p.max(1e-300))
}

fn empirical_cdf(support: &[i64], cdf: &[f64], x: f64) -> f64 {
    let i = support.partition_point(|s| (*s as f64) <= x);
    if i == 0 { 0.0 } else { cdf[i - 1] }
}

/// Φ⁻¹(p) (Acklam's rational approximation refined by one Halley step; |error| < 1e-12).
pub fn inverse_phi(p: f64) -> f64 {
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let low = 0.024_25;
    let x = if p < low {
        let q = libm::sqrt(-2.0 * libm::log(p));
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - low {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = libm::sqrt(-2.0 * libm::log(1.0 - p));
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    // One Halley step on Φ(x) − p.
    let e = (1.0 - phi_upper(x)) - p;
    let u = e * libm::sqrt(2.0 * core::f64::consts::PI) * libm::exp(x * x / 2.0);
    x - u / (1.0 + x * u / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pmf(dist: &Dist, k: u32, d: i64) -> f64 {
        libm::exp(dist.log_likelihood(&[Obs { k, d, count: 1 }]))
    }

    #[test]
    fn oq80_every_family_gives_a_probability_over_whole_seconds() {
        let dists = [
            Dist::Constant { value: 90.4 },
            Dist::Uniform {
                min: 60.0,
                max: 120.0,
            },
            Dist::Normal {
                mean: 90.0,
                sd: 10.0,
            },
            Dist::Lognormal {
                mu: libm::log(90.0),
                sigma: 0.2,
            },
            Dist::Empirical {
                support: vec![70, 90, 126],
                cdf: vec![0.25, 0.75, 1.0],
            },
        ];
        for dist in &dists {
            for k in [1, 2, 7, 100] {
                let total: f64 = (0..400).map(|d| pmf(dist, k, d)).sum();
                assert!((total - 1.0).abs() < 1e-3, "{dist:?} k={k}: {total}");
            }
        }
    }

    #[test]
    fn oq80_the_triangle_kernel_splits_a_constant_between_two_seconds() {
        let c = Dist::Constant { value: 90.25 };
        assert!((pmf(&c, 5, 90) - 0.75).abs() < 1e-12);
        assert!((pmf(&c, 5, 91) - 0.25).abs() < 1e-12);
        assert!(pmf(&c, 5, 92) < 1e-299);
    }

    #[test]
    fn oq80_the_maximum_of_k_moves_right_with_k() {
        let d = Dist::Lognormal {
            mu: libm::log(90.0),
            sigma: 0.2,
        };
        let mean = |k: u32| -> f64 { (0..400).map(|x| x as f64 * pmf(&d, k, x)).sum() };
        assert!(mean(1) < mean(10) && mean(10) < mean(100));
        // The median of the max of 10 is F^-1(0.5^(1/10)).
        let m10 = d.max_quantile(10, 0.5);
        let below: f64 = (0..m10.floor() as i64).map(|x| pmf(&d, 10, x)).sum();
        assert!((below - 0.5).abs() < 0.03, "{below}");
    }

    #[test]
    fn inverse_phi_matches_known_values() {
        assert!((inverse_phi(0.95) - Z95).abs() < 1e-9);
        assert!(inverse_phi(0.5).abs() < 1e-12);
        assert!((inverse_phi(0.001) + 3.090_232_306_167_813_5).abs() < 1e-9);
    }
}
