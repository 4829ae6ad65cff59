//! Runs the 2,000-instance scenario repeatedly, for profilers (`perf record`, callgrind).
fn main() {
    let path = std::env::args().nth(1).unwrap_or_else(|| "scenarios/large-2000-probabilistic.toml".into());
    let runs: u64 = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(200);
    let scenario = refreshsim::scenario::load_scenario(std::path::Path::new(&path)).unwrap();
    let mut events = 0;
    let start = std::time::Instant::now();
    for _ in 0..runs {
        let (m, _, _) = refreshsim::run::run_metrics(&scenario, scenario.seed).unwrap();
        events += m.records;
    }
    let el = start.elapsed();
    eprintln!("{runs} runs in {el:?}: {:?}/run, {} records/run", el / runs as u32, events / runs);
}
