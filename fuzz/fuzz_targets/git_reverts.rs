#![no_main]
//! Fuzz target: `rollcall::fuzz::git_reverts`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| rollcall::fuzz::git_reverts(data));
