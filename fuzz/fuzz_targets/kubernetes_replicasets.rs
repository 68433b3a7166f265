#![no_main]
//! Fuzz target: `rollcall::fuzz::kubernetes_replicasets`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| rollcall::fuzz::kubernetes_replicasets(data));
