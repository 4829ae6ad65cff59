//! Engine benchmarks (the performance budget: docs/determinism.md).
//! Run: `cargo bench --features bench --bench refresh`.
//!
//! `large_2000/*`: the bundled 2,000-instance, 20-batch scenario (2 % reinstall failures retried,
//! lognormal reinstall times, CLB target health on). `metrics` uses the metrics-only sink (the
//! sweep path, from a prepared scenario); `full_timeline` keeps every record in memory (the `run`
//! path, including world construction).
//!
//! Two throughputs are reported: `queue_events` counts event-queue pops (timer firings and
//! scenario happenings); `state_changes` counts timeline records (one per state change or API
//! call/result). Budgets: ≤ 2 ms per run with the metrics sink; ≥ 8 M events/s (metrics sink) and
//! ≥ 3 M events/s (full timeline).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use refreshsim::run::{run_digest, run_scenario, run_streamed};
use refreshsim::scenario::load_scenario;
use refreshsim::sim::{Prepared, Simulation};
use refreshsim::timeline::{FullSink, MetricsSink};
use std::hint::black_box;
use std::path::Path;

fn large_2000(c: &mut Criterion) {
    let scenario = load_scenario(Path::new("scenarios/large-2000-probabilistic.toml"))
        .expect("bundled scenario");
    let prepared = Prepared::new(&scenario).expect("prepares");
    let probe = run_digest(&prepared, scenario.seed, 800).expect("runs");
    for (unit, count) in [
        ("queue_events", probe.events),
        ("state_changes", probe.metrics.records),
    ] {
        let mut group = c.benchmark_group(format!("large_2000/{unit}"));
        group.throughput(Throughput::Elements(count));
        group.bench_function("metrics", |b| {
            b.iter(|| {
                black_box(run_digest(black_box(&prepared), scenario.seed, 800).expect("runs"))
            })
        });
        group.bench_function("full_timeline", |b| {
            b.iter(|| {
                let mut sink = FullSink::new(MetricsSink::new(800));
                let mut sim =
                    Simulation::from_prepared(black_box(&prepared), scenario.seed, &mut sink);
                sim.run_until_idle(&mut sink).expect("runs");
                black_box(sink.records.len())
            })
        });
        group.finish();
    }
    // The whole `refreshsim run` path: parse-free, but world construction, the run with the full
    // timeline, the final Describe and the expectations.
    let mut group = c.benchmark_group("large_2000/run_command");
    group.throughput(Throughput::Elements(probe.metrics.records));
    group.bench_function("run_scenario", |b| {
        b.iter(|| black_box(run_scenario(black_box(&scenario), scenario.seed, true).expect("runs")))
    });
    group.finish();
}

/// The performance budget (docs/determinism.md): a 1,000,000-instance synthetic group, metrics
/// only ≤ 3 s, timeline streamed to a file ≤ 10 s. Both include building the world (a million instances); neither parses.
fn synthetic_1m(c: &mut Criterion) {
    let scenario = load_scenario(Path::new("benches/synthetic-1m.toml")).expect("bench scenario");
    let mut group = c.benchmark_group("synthetic_1m");
    group.sample_size(10);
    group.measurement_time(std::time::Duration::from_secs(60));
    group.bench_function("metrics", |b| {
        b.iter(|| {
            let prepared = Prepared::new(black_box(&scenario)).expect("prepares");
            black_box(run_digest(&prepared, scenario.seed, 800).expect("runs"))
        })
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("timeline.csv");
    group.bench_function("streamed_csv", |b| {
        b.iter(|| {
            let file = std::io::BufWriter::new(std::fs::File::create(&path).expect("creates"));
            let run = run_streamed(black_box(&scenario), scenario.seed, file, None).expect("runs");
            run.out.expect("writes");
            black_box(run.rows)
        })
    });
    group.finish();
}

/// A group whose desired capacity is far below its size (issue 10): the scale-in of 19,992
/// instances when the refresh ends, beside the same group at desired = size (no scale-in). Both
/// must grow linearly with the size (the scale-in was O(n²): 50,000 instances took 6 s).
fn desired_below_size(c: &mut Criterion) {
    let low = load_scenario(Path::new("benches/desired-below-size.toml")).expect("bench scenario");
    let mut full = low.clone();
    full.world.desired_capacity = full.world.instances.len() as u32;
    let mut group = c.benchmark_group("desired_below_size");
    group.sample_size(10);
    for (name, scenario) in [("desired_8", &low), ("desired_size", &full)] {
        let prepared = Prepared::new(scenario).expect("prepares");
        group.bench_function(name, |b| {
            b.iter(|| {
                black_box(run_digest(black_box(&prepared), scenario.seed, 800).expect("runs"))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, large_2000, synthetic_1m, desired_below_size);
criterion_main!(benches);
