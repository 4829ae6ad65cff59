//! Engine benchmarks (DESIGN.md §8). Run: `cargo bench --bench refresh`.
//!
//! - `large_2000/metrics`: the 2,000-instance, 20-batch scenario with the metrics-only sink.
//!   Budget: ≤ 2 ms per run and ≥ 8 M events/s.
//! - `large_2000/full_timeline`: the same keeping every record in memory. Budget ≥ 3 M events/s.
//!
//! Throughput is reported in engine events (queue pops) per second.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use refreshsim::run::{run_metrics, run_scenario};
use refreshsim::scenario::load_scenario;
use std::hint::black_box;
use std::path::Path;

fn large_2000(c: &mut Criterion) {
    let scenario = load_scenario(Path::new("scenarios/large-2000-probabilistic.toml")).expect("bundled scenario");
    let probe = run_scenario(&scenario, scenario.seed, false).expect("runs");
    let events = probe.events;
    let mut group = c.benchmark_group("large_2000");
    group.throughput(Throughput::Elements(events));
    group.bench_function("metrics", |b| {
        b.iter(|| black_box(run_metrics(black_box(&scenario), scenario.seed).expect("runs")))
    });
    group.bench_function("full_timeline", |b| {
        b.iter(|| black_box(run_scenario(black_box(&scenario), scenario.seed, true).expect("runs")))
    });
    group.finish();
}

criterion_group!(benches, large_2000);
criterion_main!(benches);
