#![no_main]
//! Fuzz target: `rollcall::fuzz::key_file`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| rollcall::fuzz::key_file(data));
