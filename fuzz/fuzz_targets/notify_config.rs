#![no_main]
//! Fuzz target: `rollcall::fuzz::notify_config`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| rollcall::fuzz::notify_config(data));
