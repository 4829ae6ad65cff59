//! Checker benchmarks. Run: `cargo bench --features bench --bench check`.
//!
//! `check/large_2000`: every invariant over the timeline of the bundled 2,000-instance, 20-batch
//! scenario (about 16k records) and its final Describe response — the work `refreshsim run`
//! adds after the run. Budget: < 30 ms (the checker is linear in the timeline: instant-level
//! checks only look at what the instant touched). Measured on the 2-core dev machine: ~8 ms
//! (16,442 records); before the incremental rewrite the same check took ~0.7 s of `refreshsim
//! run`'s 0.87 s CPU.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use refreshsim::check::replay::check_timeline_and_describe;
use refreshsim::run::run_scenario;
use refreshsim::scenario::load_scenario;
use std::hint::black_box;
use std::path::Path;

fn check(c: &mut Criterion) {
    let scenario = load_scenario(Path::new("scenarios/large-2000-probabilistic.toml"))
        .expect("bundled scenario");
    let run = run_scenario(&scenario, scenario.seed, true).expect("runs");
    let timeline = run.timeline.as_ref().expect("kept");
    let mut group = c.benchmark_group("check");
    group.throughput(Throughput::Elements(timeline.records.len() as u64));
    group.bench_function("large_2000", |b| {
        b.iter(|| {
            black_box(check_timeline_and_describe(
                black_box(timeline),
                Some(black_box(&run.describe)),
            ))
        })
    });
    group.finish();
}

criterion_group!(benches, check);
criterion_main!(benches);
