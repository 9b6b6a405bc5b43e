//! Helpers for developing perfaudit, not part of its interface: the fuzzing harnesses (shared
//! by `fuzz/` and the regression test that replays their crashes) and the test helpers that
//! audit snippets and fixture folders. Nothing in the pipeline may depend on this layer.

pub mod fuzzing;
pub mod testing;
