//! What a sweep runs: the grid, the number of runs per variant, the seed of each run, and how
//! the (variant, run) space is cut into chunks and shards. The plan is written to `plan.json`
//! in the output directory; resuming and merging check that it is unchanged.

use super::grid::{Axis, Variant, expand};
use crate::scenario::overrides::Override;
use serde_json::{Value, json};

/// Runs per chunk: the unit of work, of progress on disk, of resumption and of sharding.
pub const CHUNK_RUNS: u32 = 32;
/// Most runs per variant.
pub const MAX_RUNS: u32 = 1_000_000;
/// Most runs in a whole sweep.
pub const MAX_TOTAL_RUNS: u64 = 100_000_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The scenario path as given (replay commands use it).
    pub scenario_path: String,
    pub scenario_name: String,
    pub scenario_sha256: String,
    pub version: String,
    pub axes: Vec<Axis>,
    pub variants: Vec<Variant>,
    pub runs: u32,
    pub seed: u64,
    pub floor_permille: u32,
    /// The scenario's own `capacity_floor` (what `run` uses without `--floor`).
    pub scenario_floor_permille: u32,
    pub baseline: u32,
}

/// A chunk: runs `first..first + count` of one variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    /// Position in the whole sweep (variant-major); shards take every N-th.
    pub number: u32,
    pub variant: u32,
    pub first: u32,
    pub count: u32,
}

impl Chunk {
    pub fn file_name(&self) -> String {
        format!("v{:05}-r{:07}.csv", self.variant, self.first / CHUNK_RUNS)
    }
}

/// `--shard K/N`: chunk numbers congruent to K−1 modulo N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    pub const WHOLE: Shard = Shard { index: 1, count: 1 };

    pub fn parse(text: &str) -> Result<Shard, String> {
        let parsed = text.split_once('/').and_then(|(k, n)| {
            Some(Shard {
                index: k.trim().parse().ok()?,
                count: n.trim().parse().ok()?,
            })
        });
        match parsed {
            Some(s) if s.count >= 1 && (1..=s.count).contains(&s.index) && s.count <= 100_000 => {
                Ok(s)
            }
            _ => Err(format!(
                "expected K/N with 1 ≤ K ≤ N ≤ 100000 (e.g. 2/8), found `{text}`"
            )),
        }
    }

    pub fn owns(&self, chunk: &Chunk) -> bool {
        chunk.number % self.count == self.index - 1
    }
}

impl Plan {
    pub fn total_runs(&self) -> u64 {
        u64::from(self.runs) * self.variants.len() as u64
    }

    pub fn keys(&self) -> Vec<String> {
        self.axes.iter().map(|a| a.key_text.clone()).collect()
    }

    /// Every chunk of the sweep, in order.
    pub fn chunks(&self) -> Vec<Chunk> {
        let per_variant = self.runs.div_ceil(CHUNK_RUNS);
        let mut chunks = Vec::with_capacity(per_variant as usize * self.variants.len());
        for variant in 0..self.variants.len() as u32 {
            for k in 0..per_variant {
                let first = k * CHUNK_RUNS;
                chunks.push(Chunk {
                    number: variant * per_variant + k,
                    variant,
                    first,
                    count: CHUNK_RUNS.min(self.runs - first),
                });
            }
        }
        chunks
    }

    /// The seed of run `run` of every variant (common random numbers): SplitMix64 of the
    /// sweep seed and the run index.
    pub fn run_seed(&self, run: u32) -> u64 {
        run_seed(self.seed, run)
    }

    /// The `--floor` a replay command needs: the sweep's floor when it is not the scenario's.
    pub fn replay_floor(&self) -> Option<u32> {
        (self.floor_permille != self.scenario_floor_permille).then_some(self.floor_permille)
    }

    /// `plan.json`: everything that determines the sweep's results.
    pub fn to_json(&self) -> Value {
        json!({
            "tool": "refreshsim",
            "version": self.version,
            "scenario": {
                "path": self.scenario_path,
                "name": self.scenario_name,
                "sha256": self.scenario_sha256,
                "capacity_floor": f64::from(self.scenario_floor_permille) / 1000.0,
            },
            "runs": self.runs,
            "seed": self.seed,
            "floor": f64::from(self.floor_permille) / 1000.0,
            "baseline": self.baseline,
            "chunk_runs": CHUNK_RUNS,
            "vary": self.axes.iter().map(|a| json!({
                "key": a.key_text,
                "values": a.options.iter().map(|o| json!({
                    "value": o.value_json(),
                    "text": o.value_text,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })
    }

    /// Reads `plan.json` back (for merging shards).
    pub fn from_json(value: &Value) -> Result<Plan, String> {
        let text = |v: &Value, what: &str| -> Result<String, String> {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("`{what}` is missing or not a string"))
        };
        let uint = |v: &Value, what: &str| -> Result<u64, String> {
            v.as_u64()
                .ok_or_else(|| format!("`{what}` is missing or not a whole number"))
        };
        if value["tool"] != "refreshsim" {
            return Err("not a refreshsim sweep plan".to_string());
        }
        if value["chunk_runs"].as_u64() != Some(u64::from(CHUNK_RUNS)) {
            return Err(format!(
                "written with {} runs per chunk; this refreshsim uses {CHUNK_RUNS}",
                value["chunk_runs"]
            ));
        }
        let mut axes = Vec::new();
        for (i, axis) in value["vary"]
            .as_array()
            .ok_or("`vary` is missing")?
            .iter()
            .enumerate()
        {
            let key = text(&axis["key"], &format!("vary[{i}].key"))?;
            let mut options = Vec::new();
            for v in axis["values"]
                .as_array()
                .ok_or_else(|| format!("`vary[{i}].values` is missing"))?
            {
                let mut o = Override::new(&key, v["value"].clone())?;
                o.value_text = text(&v["text"], &format!("vary[{i}].values[].text"))?;
                options.push(o);
            }
            axes.push(Axis {
                key_text: key,
                options,
            });
        }
        let variants = expand(&axes)?;
        let floor = value["floor"].as_f64().ok_or("`floor` is missing")?;
        let scenario_floor = value["scenario"]["capacity_floor"]
            .as_f64()
            .ok_or("`scenario.capacity_floor` is missing")?;
        let runs = uint(&value["runs"], "runs")?;
        let baseline = uint(&value["baseline"], "baseline")?;
        let plan = Plan {
            scenario_path: text(&value["scenario"]["path"], "scenario.path")?,
            scenario_name: text(&value["scenario"]["name"], "scenario.name")?,
            scenario_sha256: text(&value["scenario"]["sha256"], "scenario.sha256")?,
            version: text(&value["version"], "version")?,
            axes,
            runs: u32::try_from(runs)
                .ok()
                .filter(|r| (1..=MAX_RUNS).contains(r))
                .ok_or("`runs` is out of range")?,
            seed: uint(&value["seed"], "seed")?,
            floor_permille: (floor * 1000.0).round() as u32,
            scenario_floor_permille: (scenario_floor * 1000.0).round() as u32,
            baseline: u32::try_from(baseline)
                .ok()
                .filter(|b| (*b as usize) < variants.len())
                .ok_or("`baseline` is not a variant")?,
            variants,
        };
        if plan.to_json() != *value {
            return Err("the plan does not read back as written".to_string());
        }
        Ok(plan)
    }
}

/// SplitMix64 of `seed` advanced `run + 1` times: well-mixed, independent of the grid.
pub fn run_seed(seed: u64, run: u32) -> u64 {
    let mut z = seed.wrapping_add((u64::from(run) + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(runs: u32) -> Plan {
        let axes = vec![
            Axis::parse("BatchNumber=5,10").unwrap(),
            Axis::parse("MaxSurge=0,batch/2").unwrap(),
        ];
        Plan {
            scenario_path: "scenarios/x.toml".into(),
            scenario_name: "x".into(),
            scenario_sha256: "ab".into(),
            version: "0.1.0".into(),
            variants: expand(&axes).unwrap(),
            axes,
            runs,
            seed: 7,
            floor_permille: 800,
            scenario_floor_permille: 800,
            baseline: 1,
        }
    }

    #[test]
    fn chunks_cover_every_run_once_and_shards_partition_them() {
        let p = plan(70);
        let chunks = p.chunks();
        assert_eq!(chunks.len(), 4 * 3);
        assert_eq!(chunks[2].count, 6);
        assert_eq!(
            chunks.iter().map(|c| u64::from(c.count)).sum::<u64>(),
            p.total_runs()
        );
        let n = 5;
        for c in &chunks {
            let owners = (1..=n)
                .filter(|k| {
                    Shard {
                        index: *k,
                        count: n,
                    }
                    .owns(c)
                })
                .count();
            assert_eq!(owners, 1);
        }
        assert_eq!(chunks[4].file_name(), "v00001-r0000001.csv");
    }

    #[test]
    fn shards_parse_only_in_range() {
        assert_eq!(Shard::parse("2/8").unwrap(), Shard { index: 2, count: 8 });
        for bad in ["0/8", "9/8", "8", "a/b", "1/0"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn plans_round_trip_through_json() {
        let p = plan(70);
        assert_eq!(Plan::from_json(&p.to_json()).unwrap(), p);
        let mut changed = p.to_json();
        changed["chunk_runs"] = json!(16);
        assert!(Plan::from_json(&changed).is_err());
    }

    #[test]
    fn run_seeds_depend_on_the_run_only() {
        let p = plan(3);
        assert_ne!(p.run_seed(0), p.run_seed(1));
        assert_eq!(p.run_seed(2), run_seed(7, 2));
        assert_ne!(run_seed(7, 0), run_seed(8, 0));
    }
}
