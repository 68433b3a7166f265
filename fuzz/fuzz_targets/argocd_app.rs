#![no_main]
//! Fuzz target: `rollcall::fuzz::argocd_app`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| rollcall::fuzz::argocd_app(data));
