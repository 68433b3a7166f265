#![no_main]
//! Fuzz target: `rollcall::fuzz::lockfile`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| rollcall::fuzz::lockfile(data));
