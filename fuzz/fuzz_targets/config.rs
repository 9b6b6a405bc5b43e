//! Arbitrary bytes as `perfaudit.toml` and `pyproject.toml` through the configuration loader.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| perfaudit::fuzzing::config(data));
