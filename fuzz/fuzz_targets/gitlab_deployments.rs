#![no_main]
//! Fuzz target: `rollcall::fuzz::gitlab_deployments`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| rollcall::fuzz::gitlab_deployments(data));
