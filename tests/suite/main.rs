//! Every integration test, in one binary: each used to be its own crate linking the whole
//! library, and a fresh clone's `cargo test` spent most of its time compiling and linking them.
//! One module per former file; run one with `cargo test --test suite MODULE::` (e.g.
//! `cargo test --test suite conformance_api::`).

mod advise;
mod architecture;
mod checker;
mod cli;
mod common;
mod conformance;
mod conformance_api;
mod conformance_decisions;
mod conformance_rollback_hooks;
mod conformance_surge_replace;
mod docs;
mod fit;
mod fuzz_regressions;
mod import;
mod memory_bounds;
mod properties;
mod readme_property;
mod report_html;
mod scenario_bounds;
mod scenario_fields;
mod scenarios;
mod serve;
mod serve_agrees_with_run;
mod serve_common;
mod serve_load;
mod serve_proxy;
mod serve_slow_clients;
mod serve_surface;
mod stream;
mod sweep;
