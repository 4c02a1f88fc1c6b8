//! `cargo fuzz run lines`: see `hsmdiag::fuzzing::lines` for what it checks. A crash
//! found here goes into crates/hsmdiag/tests/fuzz_regressions/lines/, which `cargo test` replays.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hsmdiag::fuzzing::lines(data));
