#![no_main]
//! Fuzz target: `rollcall::fuzz::policy`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| rollcall::fuzz::policy(data));
