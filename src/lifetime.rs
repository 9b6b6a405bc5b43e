//! Which allocations are kept for the rest of the run: a thread-local flag the binary's global
//! allocator reads (`src/main.rs`), so that what a module leaves for the project stage is placed
//! apart from what its parse and walk free again.

use std::cell::Cell;

thread_local! {
    static KEPT: Cell<bool> = const { Cell::new(false) };
}

/// Whether the current thread is making allocations that are kept (inside [`kept`]).
pub fn is_kept() -> bool {
    KEPT.try_with(Cell::get).unwrap_or(false)
}

/// Runs `f` with its allocations marked as kept for the rest of the run.
pub fn kept<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            KEPT.with(|k| k.set(self.0));
        }
    }
    let _restore = Restore(KEPT.with(|k| k.replace(true)));
    f()
}
