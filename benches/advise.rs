//! Advise benchmark (issue 13): advice for the bundled 2,000-instance group
//! (`sweep-batch-surge`: 2 % reinstall failures retried after 5 minutes, lognormal reinstalls,
//! CLB target health, per-group quota 2,400) over BatchNumber 1–100 × every MaxSurge level
//! (0…the largest batch: 10,499 settings), in service ≥ 90 %, done within 8 hours, the
//! default confidence (0.95) and runs (100), on 2 worker threads. Budget: ≤ 20 s on 2 cores.
//! Before measuring it prints the search's counts: runs made (whole and stopped early) against
//! the 1,049,900 runs of the full grid.
//!
//! Run: `cargo bench --features bench --bench advise` (a few minutes: 10 samples).

use criterion::{Criterion, criterion_group, criterion_main};
use refreshsim::advise::{Request, advise, plan};
use refreshsim::scenario::load_scenario;
use std::path::Path;
use std::time::Duration;

const SCENARIO: &str = "scenarios/sweep-batch-surge.toml";

fn request() -> Request {
    let mut r = Request::new(SCENARIO, "90%");
    r.deadline = Some("8h".to_string());
    r.allow = vec!["BatchNumber=1..=100".to_string()];
    r.jobs = 2;
    r
}

fn advise_2000(c: &mut Criterion) {
    let base = load_scenario(Path::new(SCENARIO)).expect("bundled scenario");
    let checked = plan(&base, &request()).expect("valid request");
    let first = advise(&base, checked.clone()).expect("advice");
    let n = &first.counts;
    eprintln!(
        "advise {SCENARIO}: {} settings; {} runs ({} whole, {} stopped early) on {} settings, {} events; full grid {} runs; recommended: {}",
        checked.space.settings.len(),
        n.runs + n.runs_cut,
        n.runs,
        n.runs_cut,
        n.evaluated,
        n.events,
        first.full_grid_runs,
        first
            .recommended
            .as_ref()
            .map_or("none".to_string(), |r| checked.space.settings
                [r.stats.id as usize]
                .label())
    );
    let mut group = c.benchmark_group("advise_2000_bn1_100_all_surge");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(60));
    group.bench_function("jobs_2", |b| {
        b.iter(|| advise(&base, checked.clone()).expect("advice"))
    });
    group.finish();
}

criterion_group!(benches, advise_2000);
criterion_main!(benches);
