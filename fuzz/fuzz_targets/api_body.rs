#![no_main]
//! Lines of `Action {json body}`: every action's request body parser, then a session's engine.
libfuzzer_sys::fuzz_target!(|data: &[u8]| refreshsim_fuzz::api_body(data));
