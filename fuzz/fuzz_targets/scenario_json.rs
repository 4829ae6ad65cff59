#![no_main]
//! `parse_scenario` on arbitrary text read as JSON; a scenario that parses is run (bounded).
libfuzzer_sys::fuzz_target!(|data: &[u8]| refreshsim_fuzz::scenario("fuzz.json", data));
