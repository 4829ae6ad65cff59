#![no_main]
//! `check`'s input reader (timeline CSV/JSONL, Describe JSON, responses.jsonl) and checkers.
libfuzzer_sys::fuzz_target!(|data: &[u8]| refreshsim_fuzz::check(data));
