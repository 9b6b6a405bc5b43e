//! One Python file of arbitrary bytes through the per-module pipeline and every rule.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| perfaudit::fuzzing::module(data));
