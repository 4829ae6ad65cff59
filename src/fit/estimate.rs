//! Fitting one step's observations: every family by maximum likelihood, 95 % profile
//! intervals, the choice by AIC (OQ-80, OQ-81).

use super::dist::{Dist, Family, Obs, Z95};
use super::optim::{golden_max, nelder_mead, profile_interval};

/// A reported parameter with its 95 % profile interval (`None`: the data do not bound it).
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: &'static str,
    pub value: f64,
    pub low: Option<f64>,
    pub high: Option<f64>,
}

/// One family's fit.
#[derive(Debug, Clone, PartialEq)]
pub struct FamilyFit {
    pub family: Family,
    /// `None` when the family cannot explain the data (`note` says why).
    pub dist: Option<Dist>,
    pub log_likelihood: Option<f64>,
    pub aic: Option<f64>,
    pub params: Vec<Param>,
    pub note: Option<String>,
}

/// A step's fit: all families and the chosen one.
#[derive(Debug, Clone, PartialEq)]
pub struct StepFit {
    pub batches: u64,
    pub instances: u64,
    pub families: Vec<FamilyFit>,
    pub chosen: Family,
}

impl StepFit {
    pub fn chosen_fit(&self) -> &FamilyFit {
        self.families
            .iter()
            .find(|f| f.family == self.chosen)
            .expect("the chosen family is among those fitted")
    }

    pub fn chosen_dist(&self) -> &Dist {
        self.chosen_fit()
            .dist
            .as_ref()
            .expect("the chosen family has a fit")
    }
}

/// Fits every family to `obs` (grouped, sorted). `None` when there is no observation.
pub fn fit_step(obs: &[Obs]) -> Option<StepFit> {
    let batches: u64 = obs.iter().map(|o| u64::from(o.count)).sum();
    if batches == 0 {
        return None;
    }
    let instances = obs
        .iter()
        .map(|o| u64::from(o.count) * u64::from(o.k))
        .sum();
    let empirical = empirical(obs);
    let families = vec![
        constant(obs),
        uniform(obs, &empirical),
        normal(obs, &empirical),
        lognormal(obs, &empirical),
        empirical_fit(obs, empirical),
    ];
    // Lowest AIC; within 1e-6 of it (a tie up to rounding), fewer parameters, then the
    // simpler family (the order of `Family::ALL`, empirical last).
    let best = families
        .iter()
        .filter_map(|f| f.aic)
        .fold(f64::INFINITY, f64::min);
    let chosen = families
        .iter()
        .filter(|f| f.aic.is_some_and(|aic| aic <= best + 1e-6))
        .min_by(|a, b| {
            param_count(a)
                .cmp(&param_count(b))
                .then(a.family.cmp(&b.family))
        })
        .map(|f| f.family)
        .unwrap_or(Family::Empirical);
    Some(StepFit {
        batches,
        instances,
        families,
        chosen,
    })
}

fn param_count(f: &FamilyFit) -> usize {
    f.dist.as_ref().map(Dist::parameters).unwrap_or(usize::MAX)
}

fn finished(family: Family, dist: Dist, obs: &[Obs], params: Vec<Param>) -> FamilyFit {
    let ll = dist.log_likelihood(obs);
    FamilyFit {
        family,
        aic: Some(2.0 * dist.parameters() as f64 - 2.0 * ll),
        log_likelihood: Some(ll),
        dist: Some(dist),
        params,
        note: None,
    }
}

fn impossible(family: Family, note: String) -> FamilyFit {
    FamilyFit {
        family,
        dist: None,
        log_likelihood: None,
        aic: None,
        params: Vec::new(),
        note: Some(note),
    }
}

/// The empirical family: F at each observed whole second solves
/// Σ count·1{d ≤ x} = Σ count·F(x)^k (for one batch size, the k-th root of the ECDF) (OQ-81).
fn empirical(obs: &[Obs]) -> Dist {
    let mut support: Vec<i64> = obs.iter().map(|o| o.d).collect();
    support.sort_unstable();
    support.dedup();
    let total: f64 = obs.iter().map(|o| f64::from(o.count)).sum();
    let mut cdf = Vec::with_capacity(support.len());
    for &x in &support {
        let target: f64 = obs
            .iter()
            .filter(|o| o.d <= x)
            .map(|o| f64::from(o.count))
            .sum();
        if target >= total {
            cdf.push(1.0);
            continue;
        }
        let (mut lo, mut hi) = (0.0f64, 1.0f64);
        for _ in 0..60 {
            let mid = (lo + hi) / 2.0;
            let lhs: f64 = obs
                .iter()
                .map(|o| f64::from(o.count) * libm::pow(mid, f64::from(o.k)))
                .sum();
            if lhs < target {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        cdf.push((lo + hi) / 2.0);
    }
    Dist::Empirical { support, cdf }
}

fn empirical_fit(obs: &[Obs], dist: Dist) -> FamilyFit {
    let params = [0.5, 0.95]
        .iter()
        .zip(["median_s", "p95_s"])
        .map(|(p, name)| Param {
            name,
            value: dist.quantile(*p),
            low: None,
            high: None,
        })
        .collect();
    let mut fit = finished(Family::Empirical, dist, obs, params);
    fit.note = Some("a list of values, not parameters: no interval".into());
    fit
}

fn constant(obs: &[Obs]) -> FamilyFit {
    let lo = obs.iter().map(|o| o.d).min().unwrap_or(0) as f64;
    let hi = obs.iter().map(|o| o.d).max().unwrap_or(0) as f64;
    if hi - lo >= 2.0 {
        return impossible(
            Family::Constant,
            format!(
                "observed durations span {} s: no constant explains them",
                hi - lo
            ),
        );
    }
    // A duration is never negative: the constant lives in [max(hi − 1, 0), lo + 1].
    let floor = (hi - 1.0).max(0.0);
    let ll = |c: f64| {
        if c < floor {
            -1e300
        } else {
            Dist::Constant { value: c }.log_likelihood(obs)
        }
    };
    let (value, top) = golden_max(&ll, floor, lo + 1.0, 60);
    let (low, high) = profile_interval(&ll, value, top, 1e-3, 2.0);
    let params = vec![Param {
        name: "value_s",
        value,
        low: Some(low.unwrap_or(floor).max(floor)),
        high: high.map(|h| h.min(lo + 1.0)),
    }];
    finished(Family::Constant, Dist::Constant { value }, obs, params)
}

/// A log-likelihood that refuses scales the data cannot resolve.
fn guarded(dist: Dist, obs: &[Obs]) -> f64 {
    if dist.resolvable() {
        dist.log_likelihood(obs)
    } else {
        -1e300
    }
}

/// Maximises over two coordinates, from `start`, restarting once from the optimum.
fn maximise(f: &dyn Fn([f64; 2]) -> f64, start: [f64; 2], step: [f64; 2]) -> ([f64; 2], f64) {
    let (first, _) = nelder_mead(f, start, step);
    nelder_mead(f, first, [step[0] / 4.0, step[1] / 4.0])
}

/// The profile of coordinate `interest` (0 or 1) of `to_dist`'s coordinates, the other one
/// maximised by golden section within `span` of its optimum.
fn profile_param(
    f: &dyn Fn([f64; 2]) -> f64,
    best: [f64; 2],
    top: f64,
    interest: usize,
    span: f64,
    step: f64,
    limit: f64,
) -> (Option<f64>, Option<f64>) {
    let other = 1 - interest;
    let profile = |t: f64| -> f64 {
        let at = |n: f64| {
            let mut c = [0.0; 2];
            c[interest] = t;
            c[other] = n;
            f(c)
        };
        golden_max(&at, best[other] - span, best[other] + span, 20).1
    };
    profile_interval(&profile, best[interest], top, step, limit)
}

fn uniform(obs: &[Obs], start: &Dist) -> FamilyFit {
    // Coordinates (min, ln width) for min; (max, ln width) for max.
    let by_min = |c: [f64; 2]| {
        let w = libm::exp(c[1]);
        guarded(
            Dist::Uniform {
                min: c[0],
                max: c[0] + w,
            },
            obs,
        )
    };
    let by_max = |c: [f64; 2]| {
        let w = libm::exp(c[1]);
        guarded(
            Dist::Uniform {
                min: c[0] - w,
                max: c[0],
            },
            obs,
        )
    };
    let a0 = start.quantile(0.02) - 0.5;
    let w0 = (start.quantile(0.98) - a0 + 1.0).max(2.0);
    let (best, top) = maximise(&by_min, [a0, libm::log(w0)], [w0 / 10.0, 0.2]);
    let (min, max) = (best[0], best[0] + libm::exp(best[1]));
    let (min_low, min_high) = profile_param(&by_min, best, top, 0, 2.0, 0.05, 1e6);
    let (max_low, max_high) = profile_param(&by_max, [max, best[1]], top, 0, 2.0, 0.05, 1e6);
    let params = vec![
        Param {
            name: "min_s",
            value: min,
            low: min_low,
            high: min_high,
        },
        Param {
            name: "max_s",
            value: max,
            low: max_low,
            high: max_high,
        },
    ];
    finished(Family::Uniform, Dist::Uniform { min, max }, obs, params)
}

fn normal(obs: &[Obs], start: &Dist) -> FamilyFit {
    let f = |c: [f64; 2]| {
        guarded(
            Dist::Normal {
                mean: c[0],
                sd: libm::exp(c[1]),
            },
            obs,
        )
    };
    let mean0 = start.quantile(0.5);
    let sd0 = ((start.quantile(0.8413) - start.quantile(0.1587)) / 2.0).max(1.0);
    let (best, top) = maximise(&f, [mean0, libm::log(sd0)], [sd0 / 2.0, 0.2]);
    let sd = libm::exp(best[1]);
    let (mean_low, mean_high) = profile_param(&f, best, top, 0, 3.0, 0.02 * sd, 1e6);
    let (ln_low, ln_high) = profile_param(&f, best, top, 1, 10.0 * sd, 0.01, 30.0);
    let params = vec![
        Param {
            name: "mean_s",
            value: best[0],
            low: mean_low,
            high: mean_high,
        },
        Param {
            name: "sd_s",
            value: sd,
            low: ln_low.map(libm::exp),
            high: ln_high.map(libm::exp),
        },
    ];
    finished(
        Family::Normal,
        Dist::Normal { mean: best[0], sd },
        obs,
        params,
    )
}

fn lognormal(obs: &[Obs], start: &Dist) -> FamilyFit {
    // Coordinates (mu, ln sigma), and (psi = mu + z95 sigma, ln sigma) for the p95.
    let by_mu = |c: [f64; 2]| {
        guarded(
            Dist::Lognormal {
                mu: c[0],
                sigma: libm::exp(c[1]),
            },
            obs,
        )
    };
    let by_psi = |c: [f64; 2]| {
        let sigma = libm::exp(c[1]);
        guarded(
            Dist::Lognormal {
                mu: c[0] - Z95 * sigma,
                sigma,
            },
            obs,
        )
    };
    let median0 = start.quantile(0.5).max(1.0);
    let spread = start.quantile(0.8413).max(1.0) / start.quantile(0.1587).max(0.5);
    let sigma0 = (libm::log(spread) / 2.0).clamp(0.02, 3.0);
    let (best, top) = maximise(
        &by_mu,
        [libm::log(median0), libm::log(sigma0)],
        [sigma0 / 2.0, 0.2],
    );
    let sigma = libm::exp(best[1]);
    let psi = best[0] + Z95 * sigma;
    let (mu_low, mu_high) = profile_param(&by_mu, best, top, 0, 3.0, 0.002, 30.0);
    let (psi_low, psi_high) = profile_param(&by_psi, [psi, best[1]], top, 0, 3.0, 0.002, 30.0);
    let (ln_low, ln_high) = profile_param(&by_mu, best, top, 1, 3.0 * sigma + 0.1, 0.01, 30.0);
    let params = vec![
        Param {
            name: "median_s",
            value: libm::exp(best[0]),
            low: mu_low.map(libm::exp),
            high: mu_high.map(libm::exp),
        },
        Param {
            name: "p95_s",
            value: libm::exp(psi),
            low: psi_low.map(libm::exp),
            high: psi_high.map(libm::exp),
        },
        Param {
            name: "sigma",
            value: sigma,
            low: ln_low.map(libm::exp),
            high: ln_high.map(libm::exp),
        },
    ];
    finished(
        Family::Lognormal,
        Dist::Lognormal { mu: best[0], sigma },
        obs,
        params,
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::sim::rng::{Purpose, Streams};

    /// Batch observations drawn the way Describe shows them: the max of k draws, started at a
    /// random fraction of a second, both ends truncated.
    pub(crate) fn synthetic(
        dist: &crate::scenario::Dist,
        sizes: &[u32],
        batches: usize,
        seed: u64,
    ) -> Vec<Obs> {
        let streams = Streams::new(seed);
        let mut raw = Vec::new();
        for b in 0..batches {
            let k = sizes[b % sizes.len()];
            let mut stream = streams.stream(b as u64, Purpose::Attempt, 1);
            let start_ms = stream.next_u64() % 1000;
            let longest = (0..k)
                .map(|_| {
                    let (w1, w2) = (stream.next_u64(), stream.next_u64());
                    crate::sim::sample::sample(dist, w1, w2)
                })
                .max()
                .unwrap_or(0);
            let d = ((start_ms + longest) / 1000) as i64;
            raw.push((k, d));
        }
        group(raw)
    }

    pub(crate) fn group(raw: Vec<(u32, i64)>) -> Vec<Obs> {
        let mut map = std::collections::BTreeMap::new();
        for (k, d) in raw {
            *map.entry((k, d)).or_insert(0u32) += 1;
        }
        map.into_iter()
            .map(|((k, d), count)| Obs { k, d, count })
            .collect()
    }

    fn param(fit: &FamilyFit, name: &str) -> Param {
        fit.params.iter().find(|p| p.name == name).unwrap().clone()
    }

    #[test]
    fn oq80_lognormal_is_recovered_from_batch_maxima() {
        let mu = libm::log(90_000.0);
        let sigma = (libm::log(126_000.0) - mu) / Z95;
        let truth = crate::scenario::Dist::LogNormal { mu, sigma };
        let obs = synthetic(&truth, &[1, 4, 10, 25], 200, 7);
        let fit = fit_step(&obs).unwrap();
        assert_eq!(fit.chosen, Family::Lognormal, "{:#?}", fit.families);
        let l = fit.chosen_fit();
        let median = param(l, "median_s");
        let p95 = param(l, "p95_s");
        assert!((median.value / 90.0 - 1.0).abs() < 0.05, "{median:?}");
        assert!((p95.value / 126.0 - 1.0).abs() < 0.08, "{p95:?}");
        assert!(
            median.low.unwrap() < 90.0 && 90.0 < median.high.unwrap(),
            "{median:?}"
        );
        assert!(
            p95.low.unwrap() < 126.0 && 126.0 < p95.high.unwrap(),
            "{p95:?}"
        );
    }

    #[test]
    fn oq80_a_constant_is_recovered_and_chosen() {
        let truth = crate::scenario::Dist::Constant(90_400);
        let obs = synthetic(&truth, &[2, 3], 60, 3);
        let fit = fit_step(&obs).unwrap();
        assert_eq!(fit.chosen, Family::Constant, "{:#?}", fit.families);
        let c = param(fit.chosen_fit(), "value_s");
        assert!((c.value - 90.4).abs() < 0.15, "{c:?}");
        assert!(c.low.unwrap() <= 90.4 && 90.4 <= c.high.unwrap(), "{c:?}");
    }

    #[test]
    fn oq80_uniform_and_normal_are_recovered() {
        let truth = crate::scenario::Dist::Uniform {
            min_ms: 60_000,
            max_ms: 120_000,
        };
        let fit = fit_step(&synthetic(&truth, &[1, 2, 5], 300, 11)).unwrap();
        assert_eq!(fit.chosen, Family::Uniform, "{:#?}", fit.families);
        let u = fit.chosen_fit();
        assert!((param(u, "min_s").value - 60.0).abs() < 3.0);
        assert!((param(u, "max_s").value - 120.0).abs() < 2.0);
        let truth = crate::scenario::Dist::Normal {
            mean_ms: 100_000.0,
            sd_ms: 15_000.0,
            min_ms: 0,
            max_ms: 250_000,
        };
        let fit = fit_step(&synthetic(&truth, &[1, 3, 8], 300, 5)).unwrap();
        assert_eq!(fit.chosen, Family::Normal, "{:#?}", fit.families);
        let n = fit.chosen_fit();
        assert!((param(n, "mean_s").value - 100.0).abs() < 3.0);
        assert!((param(n, "sd_s").value / 15.0 - 1.0).abs() < 0.12);
    }

    #[test]
    fn oq81_empirical_of_single_instance_batches_is_the_ecdf() {
        let obs = group(vec![(1, 10), (1, 20), (1, 20), (1, 30)]);
        match empirical(&obs) {
            Dist::Empirical { support, cdf } => {
                assert_eq!(support, vec![10, 20, 30]);
                for (c, want) in cdf.iter().zip([0.25, 0.75, 1.0]) {
                    assert!((c - want).abs() < 1e-9);
                }
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn one_batch_gives_a_fit_with_honest_intervals() {
        let fit = fit_step(&group(vec![(3, 95)])).unwrap();
        assert_eq!(fit.batches, 1);
        assert_eq!(fit.instances, 3);
        assert_eq!(fit.chosen, Family::Constant);
        let l = fit
            .families
            .iter()
            .find(|f| f.family == Family::Lognormal)
            .unwrap();
        // One observation: the intervals are wide (sigma spans a factor of more than 5; the
        // median several seconds).
        let sigma = param(l, "sigma");
        assert!(
            sigma.high.unwrap_or(f64::INFINITY) > 5.0 * sigma.low.unwrap(),
            "{l:?}"
        );
        let median = param(l, "median_s");
        assert!(median.high.unwrap() - median.low.unwrap() > 4.0, "{l:?}");
        assert!(fit_step(&[]).is_none());
    }
}
