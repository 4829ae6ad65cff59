// Cargo.toml: [dev-dependencies] refreshsim = { version = "0.1", features = ["testing"] }, proptest = "1"
use proptest::prelude::*;
use refreshsim::testing::{SpecRun, arb_scenario, run_spec};

proptest! {
    #[test]
    fn a_reset_refresh_takes_at_most_one_batch_out_of_service(spec in arb_scenario()) {
        // Keep the generated group, timings and Start settings; drop faults, hooks and operators.
        let mut spec = spec.plain();
        spec.start.replace = false; // RESET: the batch in flight is out of service (OQ-10)
        let n = spec.instances.len() as u32;
        let batches = spec.start.batch_number as u32; // sometimes out of range: Start is refused
        match run_spec(&spec) {
            Ok(SpecRun::Finished(run)) => {
                prop_assert!(run.violations.is_empty(), "{:?}", run.violations);
                if let Some(min) = run.metrics.min_in_service {
                    // The largest batch holds ⌈n / BatchNumber⌉ instances (OQ-1).
                    let largest = n.div_ceil(batches.max(1));
                    prop_assert!(min + largest >= n, "{min} in service; replay:\n{}", spec.to_toml());
                }
            }
            // A run bound (D12) was hit: its partial timeline was checked, nothing more to see.
            Ok(SpecRun::Bounded(run)) => prop_assert!(run.violations.is_empty(), "{:?}", run.violations),
            Err(e) => prop_assert!(false, "{e}"),
        }
    }
}
