//! The user's constraints (`--min-in-service`, `--deadline`, `--max-surge-cost`), what one run
//! says about each, and when a setting meets one at a confidence (OQ-85): the one-sided Wilson
//! lower bound on the fraction of its seeded runs that meet it must reach the confidence.

use super::AdviseError;
use crate::time::parse_duration_ms;

/// Most `--runs` accepted.
pub const MAX_RUNS: u32 = 100_000;
/// Confidence bounds: below 0.5 "holds" would mean "fails more often than not".
pub const MIN_CONFIDENCE: f64 = 0.5;
pub const MAX_CONFIDENCE: f64 = 0.9999;

/// The capacity floor the user needs during the refresh.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MinInService {
    /// At least this many instances in service (surge instances count, as in the metrics).
    Count(u32),
    /// At least this share of the in-service count before the refresh, in parts per million.
    Share { ppm: u32 },
}

impl MinInService {
    /// `90%`, `92.5%` or `1800`.
    pub fn parse(text: &str) -> Result<MinInService, AdviseError> {
        let bad = |message: String| AdviseError::Constraint {
            option: "--min-in-service",
            found: text.to_string(),
            message,
        };
        let t = text.trim();
        if let Some(pct) = t.strip_suffix('%') {
            let value: f64 = pct
                .trim()
                .parse()
                .map_err(|_| bad("expected a percentage like 90% or a count like 1800".into()))?;
            if !(0.0..=100.0).contains(&value) {
                return Err(bad(format!(
                    "a percentage must be between 0% and 100%, found {value}%"
                )));
            }
            return Ok(MinInService::Share {
                ppm: (value * 10_000.0).round() as u32,
            });
        }
        t.parse::<u32>()
            .map(MinInService::Count)
            .map_err(|_| bad("expected a percentage like 90% or a count like 1800".into()))
    }

    /// The least in-service count that meets it, given the count before the refresh.
    pub fn required(&self, before: u32) -> u32 {
        match *self {
            MinInService::Count(n) => n,
            MinInService::Share { ppm } => {
                (u64::from(before) * u64::from(ppm)).div_ceil(1_000_000) as u32
            }
        }
    }

    pub fn text(&self) -> String {
        match *self {
            MinInService::Count(n) => n.to_string(),
            MinInService::Share { ppm } => format!("{}%", f64::from(ppm) / 10_000.0),
        }
    }
}

/// Every constraint of one advice request.
#[derive(Debug, Clone, PartialEq)]
pub struct Constraints {
    pub min_in_service: MinInService,
    pub deadline_ms: Option<u64>,
    /// Surge instance-hours, in instance-milliseconds.
    pub max_surge_instance_ms: Option<u64>,
}

/// `--deadline DUR` (`4h`, `90m`).
pub fn parse_deadline(text: &str) -> Result<u64, AdviseError> {
    match parse_duration_ms(text) {
        Ok(0) => Err(AdviseError::Constraint {
            option: "--deadline",
            found: text.to_string(),
            message: "a deadline must be longer than 0s".into(),
        }),
        Ok(ms) => Ok(ms),
        Err(message) => Err(AdviseError::Constraint {
            option: "--deadline",
            found: text.to_string(),
            message,
        }),
    }
}

/// `--max-surge-cost INSTANCE_HOURS` (`0`, `12.5`) in instance-milliseconds.
pub fn parse_surge_cost(text: &str) -> Result<u64, AdviseError> {
    let bad = |message: &str| AdviseError::Constraint {
        option: "--max-surge-cost",
        found: text.to_string(),
        message: message.to_string(),
    };
    let hours: f64 = text
        .trim()
        .parse()
        .map_err(|_| bad("expected instance-hours like 0, 4 or 12.5"))?;
    if !hours.is_finite() || !(0.0..=1e9).contains(&hours) {
        return Err(bad("expected instance-hours between 0 and 1e9"));
    }
    Ok((hours * 3_600_000.0).round() as u64)
}

/// The constraints a run can break, in the order reports list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// Implicit (OQ-85): the first refresh activity ends `SUCCESSFUL` and every refresh ends.
    Completes,
    MinInService,
    Deadline,
    MaxSurgeCost,
}

impl Kind {
    pub const ALL: [Kind; 4] = [
        Kind::Completes,
        Kind::MinInService,
        Kind::Deadline,
        Kind::MaxSurgeCost,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Completes => "completes",
            Kind::MinInService => "min_in_service",
            Kind::Deadline => "deadline",
            Kind::MaxSurgeCost => "max_surge_cost",
        }
    }

    pub fn index(self) -> usize {
        match self {
            Kind::Completes => 0,
            Kind::MinInService => 1,
            Kind::Deadline => 2,
            Kind::MaxSurgeCost => 3,
        }
    }
}

/// One-sided z for confidence `p` (the inverse standard normal CDF; Acklam's rational
/// approximation, relative error below 1.2e-9, with `libm` for bit-stable results).
pub fn z_one_sided(p: f64) -> f64 {
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
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    let low = 0.024_25;
    if p < low {
        tail(libm::sqrt(-2.0 * libm::log(p)))
    } else if p <= 1.0 - low {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -tail(libm::sqrt(-2.0 * libm::log(1.0 - p)))
    }
}

/// The one-sided Wilson score lower bound on a success probability from `hits` of `n`, at
/// confidence `confidence`.
pub fn wilson_lower(hits: u32, n: u32, confidence: f64) -> f64 {
    if n == 0 || hits == 0 {
        return 0.0;
    }
    let z = z_one_sided(confidence);
    let n = f64::from(n);
    let p = f64::from(hits) / n;
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = z * libm::sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n)) / denom;
    (centre - half).max(0.0)
}

/// The one-sided Wilson score upper bound (for the chance of a failure pause).
pub fn wilson_upper(hits: u32, n: u32, confidence: f64) -> f64 {
    if n == 0 {
        return 1.0;
    }
    1.0 - wilson_lower(n - hits, n, confidence)
}

/// How a constraint is decided: from one run when the scenario is exact (no randomness), else
/// from the Wilson bound over `runs` runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    pub runs: u32,
    pub confidence: f64,
    pub exact: bool,
}

impl Rule {
    /// Checks that some outcome can be feasible: with too few runs even all of them meeting a
    /// constraint leaves the lower bound under the confidence.
    pub fn new(runs: u32, confidence: f64, exact: bool) -> Result<Rule, AdviseError> {
        if !(MIN_CONFIDENCE..=MAX_CONFIDENCE).contains(&confidence) {
            return Err(AdviseError::Option {
                option: "--confidence",
                message: format!(
                    "expected a probability between {MIN_CONFIDENCE} and {MAX_CONFIDENCE}, found {confidence}"
                ),
            });
        }
        if !(1..=MAX_RUNS).contains(&runs) {
            return Err(AdviseError::Option {
                option: "--runs",
                message: format!("expected 1..={MAX_RUNS}, found {runs}"),
            });
        }
        let rule = Rule {
            runs: if exact { 1 } else { runs },
            confidence,
            exact,
        };
        if rule.max_failures().is_none() {
            let needed = (1..=MAX_RUNS)
                .find(|n| wilson_lower(*n, *n, confidence) >= confidence)
                .unwrap_or(MAX_RUNS);
            return Err(AdviseError::Option {
                option: "--runs",
                message: format!(
                    "{runs} runs cannot show any constraint holding at confidence {confidence}: even {runs} of {runs} runs meeting it give a lower bound of {:.4}; use at least {needed} runs (or a lower --confidence)",
                    wilson_lower(runs, runs, confidence)
                ),
            });
        }
        Ok(rule)
    }

    /// Is `hits` of `self.runs` enough?
    pub fn holds(&self, hits: u32) -> bool {
        if self.exact {
            hits == self.runs
        } else {
            wilson_lower(hits, self.runs, self.confidence) >= self.confidence
        }
    }

    /// The most runs that may break a constraint with it still holding (`None`: not even 0).
    pub fn max_failures(&self) -> Option<u32> {
        (0..=self.runs)
            .take_while(|f| self.holds(self.runs - f))
            .last()
    }

    /// The lower bound reported next to a constraint: exact cases report the fraction itself.
    pub fn lower_bound(&self, hits: u32, n: u32) -> f64 {
        if self.exact {
            if n == 0 {
                0.0
            } else {
                f64::from(hits) / f64::from(n)
            }
        } else {
            wilson_lower(hits, n, self.confidence)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oq85_min_in_service_parses_shares_and_counts() {
        assert_eq!(
            MinInService::parse("90%").unwrap(),
            MinInService::Share { ppm: 900_000 }
        );
        assert_eq!(
            MinInService::parse(" 92.5% ").unwrap(),
            MinInService::Share { ppm: 925_000 }
        );
        assert_eq!(
            MinInService::parse("1800").unwrap(),
            MinInService::Count(1800)
        );
        for bad in ["", "ninety", "101%", "-1%", "-3", "1.5", "%"] {
            let err = MinInService::parse(bad).unwrap_err();
            assert!(err.to_string().contains("--min-in-service"), "{bad}: {err}");
        }
        // Shares round up: 90% of 1,999 is 1,799.1, so 1,800 are needed.
        assert_eq!(MinInService::parse("90%").unwrap().required(1999), 1800);
        assert_eq!(MinInService::parse("90%").unwrap().required(100), 90);
        assert_eq!(MinInService::Count(7).required(100), 7);
    }

    #[test]
    fn deadlines_and_costs_parse_or_say_what_was_expected() {
        assert_eq!(parse_deadline("4h").unwrap(), 4 * 3_600_000);
        assert_eq!(parse_deadline("90m").unwrap(), 90 * 60_000);
        assert!(
            parse_deadline("soon")
                .unwrap_err()
                .to_string()
                .contains("--deadline")
        );
        assert!(parse_deadline("0s").is_err());
        assert_eq!(parse_surge_cost("0").unwrap(), 0);
        assert_eq!(parse_surge_cost("12.5").unwrap(), 45_000_000);
        for bad in ["-1", "lots", "NaN", "inf"] {
            assert!(parse_surge_cost(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_normal_quantile_matches_tables() {
        for (p, z) in [
            (0.5, 0.0),
            (0.95, 1.644_853_626_951_472),
            (0.975, 1.959_963_984_540_054),
            (0.99, 2.326_347_874_040_841),
            (0.9999, 3.719_016_485_455_68),
            (0.01, -2.326_347_874_040_841),
        ] {
            assert!((z_one_sided(p) - z).abs() < 1e-8, "{p}: {}", z_one_sided(p));
        }
    }

    #[test]
    fn oq85_wilson_bounds_and_the_runs_a_verdict_needs() {
        // All of n: the bound is n / (n + z²); at 0.95 it reaches 0.95 from 52 runs.
        assert!(wilson_lower(51, 51, 0.95) < 0.95);
        assert!(wilson_lower(52, 52, 0.95) >= 0.95);
        let z = z_one_sided(0.95);
        assert!((wilson_lower(52, 52, 0.95) - 52.0 / (52.0 + z * z)).abs() < 1e-12);
        assert_eq!(wilson_lower(0, 10, 0.95), 0.0);
        assert!(wilson_upper(0, 10, 0.95) > 0.0 && wilson_upper(10, 10, 0.95) == 1.0);
        // 100 runs at 0.95: one failure is allowed, two are not.
        let rule = Rule::new(100, 0.95, false).unwrap();
        assert!(rule.holds(99) && !rule.holds(98));
        assert_eq!(rule.max_failures(), Some(1));
        let err = Rule::new(20, 0.95, false).unwrap_err().to_string();
        assert!(err.contains("at least 52 runs"), "{err}");
        // Exact cases need one run, whatever --runs says.
        let exact = Rule::new(20, 0.95, true).unwrap();
        assert_eq!((exact.runs, exact.max_failures()), (1, Some(0)));
        assert!(Rule::new(100, 0.3, false).is_err());
        assert!(Rule::new(0, 0.95, false).is_err());
    }
}
