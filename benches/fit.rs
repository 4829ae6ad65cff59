//! `refreshsim fit` benchmarks. Run: `cargo bench --features bench --bench fit`.
//!
//! `fit/2000_instances_1000_batches`: the final Describe response of a 2,000-instance group
//! refreshed in 1,000 batches of 2 (lognormal reinstalls, median 90 s, p95 126 s), read and
//! fitted — all five families with their profile intervals, gaps, init delay, failure rate.
//! `fit/2000_instances_mixed`: four such groups' histories together (batches of 1, 2, 20 and
//! 100: 3,120 batches, 8,000 instances). Budget (issue 12): well under a second each.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use refreshsim::fit::{Input, fit};
use refreshsim::run::{final_describe, run_scenario};
use refreshsim::scenario::parse_scenario;
use std::hint::black_box;

fn history(batch_number: u32, seed: u64) -> Input {
    let text = format!(
        r#"
[scenario]
name = "bench-fit"
start_time = "2025-01-01T00:00:00Z"

[group]
id = "asg-bench001"
size = 2000
image_id = "img-old"

[launch_configuration]
image_id = "img-new"

[timing]
reinstall = {{ lognormal = {{ median = "90s", p95 = "126s" }} }}

[[actions]]
id = "start"
at = "0s"
action = "StartInstanceRefresh"
request = {{ RefreshSettings = {{ RollingUpdateSettings = {{ BatchNumber = {batch_number} }} }} }}
"#
    );
    let scenario = parse_scenario("bench-fit.toml", &text).expect("valid");
    let run = run_scenario(&scenario, seed, false).expect("runs");
    Input {
        file: format!("describe-{batch_number}.json"),
        text: final_describe(&run.world, seed).to_string(),
    }
}

fn bench(c: &mut Criterion) {
    let single = vec![history(1000, 1)];
    let mixed: Vec<Input> = [2000, 1000, 100, 20]
        .iter()
        .enumerate()
        .map(|(i, b)| history(*b, i as u64 + 1))
        .collect();
    let mut group = c.benchmark_group("fit");
    group.sample_size(10);
    group.throughput(Throughput::Elements(1000));
    group.bench_function("2000_instances_1000_batches", |b| {
        b.iter(|| black_box(fit(black_box(&single), &[]).expect("fits")))
    });
    group.throughput(Throughput::Elements(3120));
    group.bench_function("2000_instances_mixed", |b| {
        b.iter(|| black_box(fit(black_box(&mixed), &[]).expect("fits")))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
