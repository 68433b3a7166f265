#![no_main]
//! Fuzz target: `rollcall::fuzz::helm_history`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| rollcall::fuzz::helm_history(data));
