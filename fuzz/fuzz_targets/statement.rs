#![no_main]
//! Fuzz target: `rollcall::fuzz::statement`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| rollcall::fuzz::statement(data));
