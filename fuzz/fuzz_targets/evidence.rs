#![no_main]
//! Fuzz target: `rollcall::fuzz::evidence`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| rollcall::fuzz::evidence(data));
