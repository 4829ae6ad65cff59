#![no_main]
//! Arbitrary bytes as one connection to `serve`: the HTTP reader and the router, in-process.
libfuzzer_sys::fuzz_target!(|data: &[u8]| refreshsim_fuzz::serve_http(data));
