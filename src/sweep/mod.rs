//! Capacity-planning sweeps: one scenario over a grid of settings and many seeds, in parallel,
//! reduced to per-run metrics (`runs.csv`), per-variant aggregates (`summary.csv`,
//! `summary.json`, a table) and charts.
//!
//! Data flow: `grid` expands the varied settings into variants; `plan` fixes the runs, their
//! seeds (common random numbers: run i of every variant has the same seed) and the chunks;
//! `exec` runs chunks on a rayon pool with the metrics-only sink, each chunk written
//! atomically under `chunks/` so an interrupted sweep resumes and shards merge; `store` reads
//! the chunks back and renders the outputs; `stats` aggregates.

pub mod charts;
pub mod exec;
pub mod grid;
pub mod plan;
pub mod progress;
pub mod row;
pub mod stats;
pub mod store;
pub mod summary;
pub mod tradeoff;

pub use plan::{Plan, Shard};

/// What the summary renderers and charts read: the plan and each variant's aggregates.
#[derive(Debug, Clone, Copy)]
pub struct Report<'a> {
    pub plan: &'a Plan,
    /// Indexed by variant id.
    pub stats: &'a [stats::VariantStats],
}
