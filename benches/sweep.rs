//! Sweep benchmark (the performance budget: docs/determinism.md): 10,000 runs of the bundled
//! 2,000-instance scenario (`large-2000-probabilistic`: 1,990 instances + MaxSurge 10, 20
//! batches, 2 % failures retried, CLB target health) through the whole `refreshsim sweep` path —
//! chunks on the rayon pool, chunk files, final outputs — with 1 and 2 worker threads. Budget:
//! ≤ 15 s on 2 cores, near-linear from 1 to 2 jobs.
//!
//! Run: `cargo bench --features bench --bench sweep` (about 5 minutes: 10 samples per job count).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use refreshsim::scenario::load_scenario;
use refreshsim::sweep::Shard;
use refreshsim::sweep::exec::{ExecOptions, GridArgs, Outcome, execute, setup};
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

const SCENARIO: &str = "scenarios/large-2000-probabilistic.toml";
const RUNS: u32 = 10_000;

fn sweep_10k(c: &mut Criterion) {
    let base = load_scenario(Path::new(SCENARIO)).expect("bundled scenario");
    let args = GridArgs {
        runs: Some(RUNS),
        ..GridArgs::default()
    };
    let setup = setup(SCENARIO, &base, &args).expect("valid sweep");
    let mut group = c.benchmark_group("sweep_10k_large_2000");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(120));
    group.throughput(Throughput::Elements(u64::from(RUNS)));
    for jobs in [1, 2] {
        group.bench_function(format!("jobs_{jobs}"), |b| {
            b.iter(|| {
                let out = tempfile::tempdir().expect("temp dir");
                let opts = ExecOptions {
                    out: out.path().to_path_buf(),
                    jobs,
                    shard: Shard::WHOLE,
                    resume: false,
                    quiet: true,
                    stop_after_chunks: None,
                };
                let outcome = execute(&setup, &opts, &AtomicBool::new(false)).expect("runs");
                assert!(matches!(outcome, Outcome::Finished { .. }));
            })
        });
    }
    group.finish();
}

criterion_group!(benches, sweep_10k);
criterion_main!(benches);
