//! Runs the 2,000-instance scenario repeatedly, for profilers (`perf record`, callgrind).
fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "scenarios/large-2000-probabilistic.toml".into());
    let runs: u64 = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let scenario = refreshsim::scenario::load_scenario(std::path::Path::new(&path)).unwrap();
    let prepared = refreshsim::sim::Prepared::new(&scenario).unwrap();
    let (mut events, mut records) = (0, 0);
    let start = std::time::Instant::now();
    for _ in 0..runs {
        let d = refreshsim::run::run_digest(&prepared, scenario.seed, 800).unwrap();
        events += d.events;
        records += d.metrics.records;
    }
    let el = start.elapsed();
    eprintln!(
        "{runs} runs in {el:?}: {:?}/run, {} events/run, {} records/run, {:.2} M events/s",
        el / runs as u32,
        events / runs,
        records / runs,
        events as f64 / el.as_secs_f64() / 1e6
    );
}
