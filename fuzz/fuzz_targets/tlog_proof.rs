#![no_main]
//! Fuzz target: `rollcall::fuzz::tlog_proof`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| rollcall::fuzz::tlog_proof(data));
