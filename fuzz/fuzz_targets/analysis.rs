//! `cargo fuzz run analysis`: see `hsmdiag::fuzzing::analysis` for what it checks. A crash
//! found here goes into crates/hsmdiag/tests/fuzz_regressions/analysis/, which `cargo test` replays.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hsmdiag::fuzzing::analysis(data));
