//! `refreshsim fit` benchmarks. Run: `cargo bench --features bench --bench fit`.
//!
//! `fit/2000_instances_1000_batches`: the final Describe response of a 2,000-instance group
//! refreshed in 1,000 batches of 2 (lognormal reinstalls, median 90 s, p95 126 s), read and
//! fitted — all five families with their profile intervals, gaps, init delay, failure rate.
//! `fit/2000_instances_mixed`: four such groups' histories together (batches of 1, 2, 20 and
//! 100: 3,120 batches, 8,000 instances).
//! `import/2000_instances`: Tencent's example group, launch configuration and hooks with a
//! 2,000-instance DescribeAutoScalingInstances (20 pages of 100 as JSONL, the example instance
//! copied with distinct ids), read, mapped and rendered into a scenario.
//! Budget (issue 12): well under a second each.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use refreshsim::fit::{Input, fit};
use refreshsim::import::{ImportInputs, import};
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

fn account_fixture(action: &str) -> Input {
    let file = format!("tests/fixtures/account/{action}.response.json");
    let text =
        std::fs::read_to_string(format!("{}/{file}", env!("CARGO_MANIFEST_DIR"))).expect("fixture");
    Input { file, text }
}

/// 20 DescribeAutoScalingInstances pages of 100 instances, one response per JSONL line.
fn instance_pages() -> Input {
    let example: serde_json::Value =
        serde_json::from_str(&account_fixture("DescribeAutoScalingInstances").text).expect("json");
    let instance = &example["Response"]["AutoScalingInstanceSet"][0];
    let mut text = String::new();
    for page in 0..20 {
        let set: Vec<serde_json::Value> = (0..100)
            .map(|i| {
                let mut one = instance.clone();
                one["InstanceId"] = format!("ins-{:08x}", page * 100 + i).into();
                one
            })
            .collect();
        let response = serde_json::json!({"Response": {
            "TotalCount": 2000, "AutoScalingInstanceSet": set, "RequestId": format!("page-{page}")
        }});
        text.push_str(&response.to_string());
        text.push('\n');
    }
    Input {
        file: "instances.jsonl".into(),
        text,
    }
}

/// The example group, sized for 2,000 instances.
fn large_group() -> Input {
    let mut input = account_fixture("DescribeAutoScalingGroups");
    let mut groups: serde_json::Value = serde_json::from_str(&input.text).expect("json");
    let group = &mut groups["Response"]["AutoScalingGroupSet"][0];
    for field in [
        "InstanceCount",
        "MaxSize",
        "DesiredCapacity",
        "InServiceInstanceCount",
    ] {
        if group.get(field).is_some() {
            group[field] = 2000.into();
        }
    }
    input.text = groups.to_string();
    input
}

fn bench_import(c: &mut Criterion) {
    let inputs = ImportInputs {
        groups: Some(large_group()),
        instances: vec![instance_pages()],
        launch_configuration: Some(account_fixture("DescribeLaunchConfigurations")),
        hooks: Some(account_fixture("DescribeLifecycleHooks")),
        ..ImportInputs::default()
    };
    let mut group = c.benchmark_group("import");
    group.sample_size(10);
    group.throughput(Throughput::Elements(2000));
    group.bench_function("2000_instances", |b| {
        b.iter(|| black_box(import(black_box(&inputs)).expect("imports")))
    });
    group.finish();
}

criterion_group!(benches, bench, bench_import);
criterion_main!(benches);
