//! `cargo fuzz run header`: see `hsmdiag::fuzzing::header` for what it checks. A crash
//! found here goes into crates/hsmdiag/tests/fuzz_regressions/header/, which `cargo test` replays.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hsmdiag::fuzzing::header(data));
