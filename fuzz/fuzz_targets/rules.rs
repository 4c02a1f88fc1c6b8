//! `cargo fuzz run rules`: see `hsmdiag::fuzzing::rules` for what it checks. A crash
//! found here goes into crates/hsmdiag/tests/fuzz_regressions/rules/, which `cargo test` replays.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hsmdiag::fuzzing::rules(data));
