#![no_main]
//! Fuzz target: `rollcall::fuzz::signed_note`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| rollcall::fuzz::signed_note(data));
