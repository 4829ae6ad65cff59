//! Aggregates of a sweep: per variant, each metric's mean (with a 95 % interval), extreme values
//! and percentiles, each probability with its Wilson interval, and the paired difference from
//! the baseline variant (common random numbers: run i of every variant shares a seed, so the
//! difference of run i's values isolates the effect of the settings).
//!
//! Sums run in run order and percentiles are order statistics, so the numbers do not depend on
//! how runs were spread over threads or shards. Only `+ - * /` and `sqrt` are used, all
//! correctly rounded by IEEE 754, so they are the same on every machine (D3).

use super::row::RunRow;

/// z for a two-sided 95 % interval.
const Z95: f64 = 1.959_963_984_540_054;

/// How a metric's values are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Seconds,
    Count,
    Fraction,
}

/// A numeric metric of a run.
#[derive(Debug, Clone, Copy)]
pub struct MetricDef {
    pub name: &'static str,
    pub unit: Unit,
    pub about: &'static str,
    pub value: fn(&RunRow) -> Option<f64>,
}

fn ms(v: u64) -> f64 {
    v as f64 / 1000.0
}

pub const METRICS: &[MetricDef] = &[
    MetricDef {
        name: "duration_s",
        unit: Unit::Seconds,
        about: "creation of the refresh to the end of the last refresh activity (runs that ended)",
        value: |r| r.duration_ms.map(ms),
    },
    MetricDef {
        name: "first_pause_s",
        unit: Unit::Seconds,
        about: "creation of the refresh to its first pause (runs that paused)",
        value: |r| r.first_pause_ms.map(ms),
    },
    MetricDef {
        name: "pauses",
        unit: Unit::Count,
        about: "transitions into any *_PAUSE status",
        value: |r| Some(f64::from(r.pauses)),
    },
    MetricDef {
        name: "failed_pauses",
        unit: Unit::Count,
        about: "transitions into FAILED_PAUSE",
        value: |r| Some(f64::from(r.failed_pauses)),
    },
    MetricDef {
        name: "min_in_service",
        unit: Unit::Count,
        about: "lowest in-service instance count during the refresh",
        value: |r| r.min_in_service.map(f64::from),
    },
    MetricDef {
        name: "min_in_service_fraction",
        unit: Unit::Fraction,
        about: "that count over the in-service count before the refresh",
        value: RunRow::min_in_service_fraction,
    },
    MetricDef {
        name: "below_floor_s",
        unit: Unit::Seconds,
        about: "time in service below the floor fraction of the pre-refresh count",
        value: |r| Some(ms(r.below_floor_ms)),
    },
    MetricDef {
        name: "surge_instance_s",
        unit: Unit::Seconds,
        about: "surge instance-seconds (pay-as-you-go cost driver)",
        value: |r| Some(ms(r.surge_instance_ms)),
    },
    MetricDef {
        name: "instances_successful",
        unit: Unit::Count,
        about: "instances of the first activity that ended SUCCESSFUL",
        value: |r| Some(f64::from(r.instances[0])),
    },
    MetricDef {
        name: "instances_failed",
        unit: Unit::Count,
        about: "… FAILED",
        value: |r| Some(f64::from(r.instances[1])),
    },
    MetricDef {
        name: "instances_not_found",
        unit: Unit::Count,
        about: "… NOT_FOUND",
        value: |r| Some(f64::from(r.instances[2])),
    },
    MetricDef {
        name: "instances_cancelled",
        unit: Unit::Count,
        about: "… CANCELLED",
        value: |r| Some(f64::from(r.instances[3])),
    },
    MetricDef {
        name: "api_errors",
        unit: Unit::Count,
        about: "API calls answered with an error",
        value: |r| Some(f64::from(r.api_errors)),
    },
];

/// A yes/no outcome of a run.
#[derive(Debug, Clone, Copy)]
pub struct ProbabilityDef {
    pub name: &'static str,
    pub about: &'static str,
    pub holds: fn(&RunRow) -> bool,
}

pub const PROBABILITIES: &[ProbabilityDef] = &[
    ProbabilityDef {
        name: "p_successful",
        about: "the first refresh activity ended SUCCESSFUL",
        holds: RunRow::successful,
    },
    ProbabilityDef {
        name: "p_operator_free",
        about: "SUCCESSFUL without any pause, so without operator action",
        holds: RunRow::operator_free,
    },
    ProbabilityDef {
        name: "p_failed_pause",
        about: "the refresh entered FAILED_PAUSE at least once",
        holds: |r| r.failed_pauses > 0,
    },
    ProbabilityDef {
        name: "p_ended",
        about: "every refresh activity reached a final status",
        holds: |r| r.duration_ms.is_some(),
    },
];

/// Distribution of a metric over a variant's runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Spread {
    pub n: u32,
    pub mean: f64,
    /// 95 % interval of the mean (Student t); `None` with fewer than two values.
    pub ci95: Option<(f64, f64)>,
    pub min: f64,
    pub p1: f64,
    pub p10: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

/// Mean paired difference from the baseline, over runs where both have a value.
#[derive(Debug, Clone, PartialEq)]
pub struct Paired {
    pub n: u32,
    pub mean: f64,
    pub ci95: Option<(f64, f64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MetricSummary {
    pub def: &'static str,
    /// `None` when no run had a value.
    pub spread: Option<Spread>,
    /// `None` for the baseline itself and when no pair exists.
    pub vs_baseline: Option<Paired>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProbabilitySummary {
    pub def: &'static str,
    pub n: u32,
    pub hits: u32,
    pub p: f64,
    /// Wilson score interval.
    pub ci95: (f64, f64),
    pub vs_baseline: Option<Paired>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VariantStats {
    pub metrics: Vec<MetricSummary>,
    pub probabilities: Vec<ProbabilitySummary>,
    /// Share of runs by the first activity's final status (or the status it was left in when a
    /// run bound stopped the run), one entry per status seen anywhere in the sweep.
    pub statuses: Vec<StatusShare>,
    /// API errors by code, one entry per code seen anywhere in the sweep.
    pub api_codes: Vec<CodeSummary>,
}

/// Runs of a variant whose first activity ended in `status`.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusShare {
    pub status: String,
    pub n: u32,
    pub hits: u32,
    pub p: f64,
    pub ci95: (f64, f64),
}

/// One API error code over a variant's runs.
#[derive(Debug, Clone, PartialEq)]
pub struct CodeSummary {
    pub code: String,
    /// Errors with this code over all runs.
    pub total: u64,
    /// Runs with at least one.
    pub runs_with: u32,
    /// Per-run count (zero for runs without it).
    pub spread: Option<Spread>,
    pub vs_baseline: Option<Paired>,
}

/// Order of statuses in the breakdown: the final ones first, then any other, `NONE` last.
fn status_rank(status: &str) -> (u8, &str) {
    match status {
        "SUCCESSFUL" => (0, ""),
        "FAILED" => (1, ""),
        "CANCELLED" => (2, ""),
        super::row::NO_ACTIVITY => (4, ""),
        other => (3, other),
    }
}

/// `Code:count;...` of a row, parsed.
pub fn code_counts(row: &RunRow) -> Vec<(&str, u32)> {
    row.api_error_codes
        .split(';')
        .filter(|c| !c.is_empty())
        .filter_map(|c| {
            let (code, n) = c.rsplit_once(':')?;
            Some((code, n.parse().ok()?))
        })
        .collect()
}

fn code_count(row: &RunRow, code: &str) -> u32 {
    code_counts(row)
        .into_iter()
        .find(|(c, _)| *c == code)
        .map_or(0, |(_, n)| n)
}

/// Aggregates every variant. `runs[v]` holds variant v's rows in run order.
pub fn aggregate(runs: &[Vec<RunRow>], baseline: usize) -> Vec<VariantStats> {
    let mut statuses: Vec<&str> = runs.iter().flatten().map(|r| r.status.as_str()).collect();
    statuses.sort_by_key(|s| status_rank(s));
    statuses.dedup();
    let mut codes: Vec<&str> = runs
        .iter()
        .flatten()
        .flat_map(|r| code_counts(r).into_iter().map(|(c, _)| c))
        .collect();
    codes.sort_unstable();
    codes.dedup();
    runs.iter()
        .enumerate()
        .map(|(v, rows)| {
            let base = (v != baseline).then(|| runs[baseline].as_slice());
            VariantStats {
                metrics: METRICS
                    .iter()
                    .map(|def| MetricSummary {
                        def: def.name,
                        spread: spread(&values(rows, def.value)),
                        vs_baseline: base.and_then(|b| paired(rows, b, def.value)),
                    })
                    .collect(),
                probabilities: PROBABILITIES
                    .iter()
                    .map(|def| {
                        let hits = rows.iter().filter(|r| (def.holds)(r)).count() as u32;
                        let n = rows.len() as u32;
                        let indicator = |r: &RunRow| Some(f64::from(u8::from((def.holds)(r))));
                        ProbabilitySummary {
                            def: def.name,
                            n,
                            hits,
                            p: if n == 0 {
                                0.0
                            } else {
                                f64::from(hits) / f64::from(n)
                            },
                            ci95: wilson(hits, n),
                            vs_baseline: base.and_then(|b| paired(rows, b, indicator)),
                        }
                    })
                    .collect(),
                statuses: statuses
                    .iter()
                    .map(|status| {
                        let n = rows.len() as u32;
                        let hits = rows.iter().filter(|r| r.status == *status).count() as u32;
                        StatusShare {
                            status: status.to_string(),
                            n,
                            hits,
                            p: if n == 0 {
                                0.0
                            } else {
                                f64::from(hits) / f64::from(n)
                            },
                            ci95: wilson(hits, n),
                        }
                    })
                    .collect(),
                api_codes: codes
                    .iter()
                    .map(|code| {
                        let count = |r: &RunRow| Some(f64::from(code_count(r, code)));
                        CodeSummary {
                            code: code.to_string(),
                            total: rows.iter().map(|r| u64::from(code_count(r, code))).sum(),
                            runs_with: rows.iter().filter(|r| code_count(r, code) > 0).count()
                                as u32,
                            spread: spread(&values(rows, count)),
                            vs_baseline: base.and_then(|b| paired(rows, b, count)),
                        }
                    })
                    .collect(),
            }
        })
        .collect()
}

fn values(rows: &[RunRow], value: impl Fn(&RunRow) -> Option<f64>) -> Vec<f64> {
    rows.iter().filter_map(value).collect()
}

/// Spread of `values` (in run order; sorted here for the order statistics).
pub fn spread(values: &[f64]) -> Option<Spread> {
    if values.is_empty() {
        return None;
    }
    let (mean, ci95) = mean_ci(values);
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let pct = |p: u32| nearest_rank(&sorted, p);
    Some(Spread {
        n: values.len() as u32,
        mean,
        ci95,
        min: sorted[0],
        p1: pct(1),
        p10: pct(10),
        p50: pct(50),
        p90: pct(90),
        p99: pct(99),
        max: sorted[sorted.len() - 1],
    })
}

/// The nearest-rank percentile: the smallest value with at least p % of values at or below it.
pub fn nearest_rank(sorted: &[f64], p: u32) -> f64 {
    let n = sorted.len();
    let rank = (p as usize * n).div_ceil(100).max(1);
    sorted[rank.min(n) - 1]
}

/// Mean and its 95 % Student-t interval.
fn mean_ci(values: &[f64]) -> (f64, Option<(f64, f64)>) {
    let n = values.len();
    let mean = values.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return (mean, None);
    }
    let ss: f64 = values.iter().map(|x| (x - mean) * (x - mean)).sum();
    let sd = (ss / (n - 1) as f64).sqrt();
    let half = t975(n - 1) * sd / (n as f64).sqrt();
    (mean, Some((mean - half, mean + half)))
}

fn paired(
    rows: &[RunRow],
    base: &[RunRow],
    value: impl Fn(&RunRow) -> Option<f64>,
) -> Option<Paired> {
    let diffs: Vec<f64> = rows
        .iter()
        .zip(base)
        .filter_map(|(r, b)| {
            debug_assert_eq!(r.seed, b.seed, "paired runs share their seed");
            Some(value(r)? - value(b)?)
        })
        .collect();
    if diffs.is_empty() {
        return None;
    }
    let (mean, ci95) = mean_ci(&diffs);
    Some(Paired {
        n: diffs.len() as u32,
        mean,
        ci95,
    })
}

/// Wilson score interval for `hits` of `n` at 95 %.
pub fn wilson(hits: u32, n: u32) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let n = f64::from(n);
    let p = f64::from(hits) / n;
    let z2 = Z95 * Z95;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    // At 0 and n hits the bounds are exactly 0 and 1; rounding must not move them.
    let lo = if hits == 0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let hi = if p == 1.0 {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    (lo, hi)
}

/// The 0.975 quantile of Student's t with `df` degrees of freedom: exact table values up to
/// 30, then the Cornish–Fisher expansion (error below 1e-4 from df 31).
pub fn t975(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706_204_736,
        4.302_652_730,
        3.182_446_305,
        2.776_445_105,
        2.570_581_836,
        2.446_911_851,
        2.364_624_252,
        2.306_004_135,
        2.262_157_163,
        2.228_138_852,
        2.200_985_160,
        2.178_812_830,
        2.160_368_656,
        2.144_786_688,
        2.131_449_546,
        2.119_905_299,
        2.109_815_578,
        2.100_922_040,
        2.093_024_054,
        2.085_963_447,
        2.079_613_845,
        2.073_873_068,
        2.068_657_610,
        2.063_898_562,
        2.059_538_553,
        2.055_529_439,
        2.051_830_516,
        2.048_407_142,
        2.045_229_642,
        2.042_272_456,
    ];
    match df {
        0 => f64::INFINITY,
        1..=30 => TABLE[df - 1],
        _ => {
            let (z, v) = (Z95, df as f64);
            let z3 = z * z * z;
            let z5 = z3 * z * z;
            z + (z3 + z) / (4.0 * v) + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * v * v)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(run: u32, status: &str, codes: &str) -> RunRow {
        RunRow {
            variant: 0,
            run,
            seed: u64::from(run),
            status: status.into(),
            start_error: String::new(),
            limit: String::new(),
            activities: 1,
            batch_number: Some(2),
            max_surge: Some(0),
            duration_ms: Some(1000),
            first_pause_ms: None,
            pauses: 0,
            failed_pauses: 0,
            in_service_before: Some(10),
            min_in_service: Some(5),
            below_floor_ms: 0,
            surge_instance_ms: 0,
            surge_peak: 0,
            instances: [10, 0, 0, 0, 0],
            api_errors: code_counts_of(codes),
            api_error_codes: codes.into(),
            events: 10,
            end_ms: 1000,
        }
    }

    fn code_counts_of(codes: &str) -> u32 {
        codes
            .split(';')
            .filter(|c| !c.is_empty())
            .map(|c| c.rsplit_once(':').unwrap().1.parse::<u32>().unwrap())
            .sum()
    }

    #[test]
    fn final_statuses_and_error_codes_are_broken_down_per_variant() {
        let runs = vec![
            vec![
                row(0, "SUCCESSFUL", ""),
                row(1, "FAILED_PAUSE", "RequestLimitExceeded:3"),
                row(2, "SUCCESSFUL", "RequestLimitExceeded:1;ResourceInUse.X:2"),
                row(3, "CANCELLED", ""),
            ],
            vec![
                row(0, "SUCCESSFUL", ""),
                row(1, "SUCCESSFUL", ""),
                row(2, "FAILED", ""),
                row(3, "SUCCESSFUL", ""),
            ],
        ];
        let stats = aggregate(&runs, 0);
        // Every variant lists every status seen in the sweep, final ones first.
        let names: Vec<&str> = stats[1]
            .statuses
            .iter()
            .map(|s| s.status.as_str())
            .collect();
        assert_eq!(names, ["SUCCESSFUL", "FAILED", "CANCELLED", "FAILED_PAUSE"]);
        let shares: Vec<(u32, f64)> = stats[0].statuses.iter().map(|s| (s.hits, s.p)).collect();
        assert_eq!(shares, [(2, 0.5), (0, 0.0), (1, 0.25), (1, 0.25)]);
        assert_eq!(stats[1].statuses[0].hits, 3);
        let codes: Vec<(&str, u64, u32)> = stats[0]
            .api_codes
            .iter()
            .map(|c| (c.code.as_str(), c.total, c.runs_with))
            .collect();
        assert_eq!(
            codes,
            [("RequestLimitExceeded", 4, 2), ("ResourceInUse.X", 2, 1)]
        );
        assert_eq!(stats[0].api_codes[0].spread.as_ref().unwrap().mean, 1.0);
        assert_eq!(stats[1].api_codes[0].total, 0);
        assert_eq!(
            stats[1].api_codes[0].vs_baseline.as_ref().unwrap().mean,
            -1.0
        );
    }

    #[test]
    fn nearest_rank_percentiles() {
        let sorted: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(nearest_rank(&sorted, 50), 50.0);
        assert_eq!(nearest_rank(&sorted, 99), 99.0);
        assert_eq!(nearest_rank(&sorted, 1), 1.0);
        let few = [3.0, 7.0, 9.0];
        assert_eq!(nearest_rank(&few, 50), 7.0);
        assert_eq!(nearest_rank(&few, 99), 9.0);
        assert_eq!(nearest_rank(&few, 10), 3.0);
    }

    #[test]
    fn spread_and_interval_of_known_values() {
        let s = spread(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap();
        assert_eq!(s.mean, 5.0);
        assert_eq!((s.min, s.p50, s.max), (2.0, 4.0, 9.0));
        // sd = sqrt(32/7); half-width = t(7) * sd / sqrt(8).
        let (lo, hi) = s.ci95.unwrap();
        let half = 2.364_624_252 * (32.0f64 / 7.0).sqrt() / 8.0f64.sqrt();
        assert!((hi - lo - 2.0 * half).abs() < 1e-12);
        assert!(spread(&[]).is_none());
        assert!(spread(&[1.0]).unwrap().ci95.is_none());
    }

    #[test]
    fn t_quantiles_join_the_expansion_smoothly() {
        assert!((t975(31) - 2.039_513_446).abs() < 1e-4);
        assert!((t975(100) - 1.983_971_519).abs() < 1e-4);
        assert!((t975(10_000) - 1.960_201_263).abs() < 1e-4);
        assert!(t975(30) > t975(31));
    }

    #[test]
    fn wilson_intervals_stay_inside_zero_one() {
        let (lo, hi) = wilson(0, 10);
        assert_eq!(lo, 0.0);
        assert!((hi - 0.277_532).abs() < 1e-5);
        let (lo, hi) = wilson(10, 10);
        assert!((lo - 0.722_468).abs() < 1e-5);
        assert_eq!(hi, 1.0);
        let (lo, hi) = wilson(50, 100);
        assert!((lo - 0.403_831).abs() < 1e-5 && (hi - 0.596_169).abs() < 1e-5);
    }
}
