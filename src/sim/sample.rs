//! Sampling durations from distributions (D1, D6): two random words in, integer milliseconds
//! out, with `libm` for ln/exp/cos/sqrt and one rounding rule (round half away from zero).

use crate::scenario::Dist;

/// Upper bound of any sampled duration: 30 days. Keeps a heavy lognormal tail finite.
pub const MAX_SAMPLED_MS: u64 = 30 * 24 * 3600 * 1000;

fn unit(word: u64) -> f64 {
    (word >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A standard normal from two words (Box–Muller, cosine branch).
fn standard_normal(w1: u64, w2: u64) -> f64 {
    // 1 - u in (0, 1], so ln never sees 0.
    let u1 = 1.0 - unit(w1);
    let u2 = unit(w2);
    libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * core::f64::consts::PI * u2)
}

fn to_ms(x: f64) -> u64 {
    if x.is_nan() || x <= 0.0 {
        return 0;
    }
    let r = libm::round(x);
    if r >= MAX_SAMPLED_MS as f64 {
        MAX_SAMPLED_MS
    } else {
        r as u64
    }
}

/// Samples `dist` using exactly the words given, so its draws sit at fixed stream positions.
pub fn sample(dist: &Dist, w1: u64, w2: u64) -> u64 {
    match dist {
        Dist::Constant(ms) => *ms,
        Dist::Uniform { min_ms, max_ms } => {
            let span = max_ms - min_ms;
            // Multiply-shift over the inclusive span.
            min_ms + ((u128::from(w1) * (u128::from(span) + 1)) >> 64) as u64
        }
        Dist::Normal {
            mean_ms,
            sd_ms,
            min_ms,
            max_ms,
        } => to_ms(mean_ms + sd_ms * standard_normal(w1, w2)).clamp(*min_ms, *max_ms),
        Dist::LogNormal { mu, sigma } => to_ms(libm::exp(mu + sigma * standard_normal(w1, w2))),
        Dist::Empirical(values) => {
            let index = ((u128::from(w1) * values.len() as u128) >> 64) as usize;
            values[index]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::{Purpose, Streams};

    fn draws(n: u64) -> Vec<(u64, u64)> {
        let s = Streams::new(9);
        (0..n)
            .map(|i| {
                let mut st = s.stream(i, Purpose::Attempt, 1);
                (st.next_u64(), st.next_u64())
            })
            .collect()
    }

    #[test]
    fn uniform_stays_in_bounds_inclusive() {
        let d = Dist::Uniform {
            min_ms: 10,
            max_ms: 12,
        };
        let values: Vec<u64> = draws(1000)
            .into_iter()
            .map(|(a, b)| sample(&d, a, b))
            .collect();
        assert!(values.iter().all(|v| (10..=12).contains(v)));
        assert!(values.contains(&10) && values.contains(&12));
        assert_eq!(sample(&d, u64::MAX, 0), 12);
        assert_eq!(sample(&d, 0, 0), 10);
    }

    #[test]
    fn lognormal_median_and_p95_are_respected() {
        let mu = libm::log(90_000.0);
        let sigma = (libm::log(126_000.0) - mu) / 1.644_853_626_951_472_2;
        let d = Dist::LogNormal { mu, sigma };
        let mut values: Vec<u64> = draws(20_000)
            .into_iter()
            .map(|(a, b)| sample(&d, a, b))
            .collect();
        values.sort_unstable();
        let median = values[values.len() / 2];
        let p95 = values[values.len() * 95 / 100];
        assert!((85_000..95_000).contains(&median), "median {median}");
        assert!((118_000..134_000).contains(&p95), "p95 {p95}");
    }

    #[test]
    fn normal_is_truncated() {
        let d = Dist::Normal {
            mean_ms: 100.0,
            sd_ms: 1000.0,
            min_ms: 50,
            max_ms: 150,
        };
        assert!(
            draws(1000)
                .into_iter()
                .map(|(a, b)| sample(&d, a, b))
                .all(|v| (50..=150).contains(&v))
        );
    }

    #[test]
    fn empirical_picks_listed_values() {
        let d = Dist::Empirical(vec![72_000, 90_000, 126_000]);
        let values: Vec<u64> = draws(300)
            .into_iter()
            .map(|(a, b)| sample(&d, a, b))
            .collect();
        for v in [72_000, 90_000, 126_000] {
            assert!(values.contains(&v));
        }
        assert!(values.iter().all(|v| [72_000, 90_000, 126_000].contains(v)));
    }

    #[test]
    fn d1_sampling_is_a_pure_function_of_the_words() {
        let d = Dist::LogNormal {
            mu: 11.0,
            sigma: 0.3,
        };
        assert_eq!(sample(&d, 123, 456), sample(&d, 123, 456));
    }
}
