//! A small generated multi-module project through the whole-program audit and every report.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| perfaudit::fuzzing::project(data));
