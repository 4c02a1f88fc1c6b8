//! `cargo fuzz run grammar`: see `hsmdiag::fuzzing::grammar` for what it checks. A crash
//! found here goes into crates/hsmdiag/tests/fuzz_regressions/grammar/, which `cargo test` replays.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hsmdiag::fuzzing::grammar(data));
