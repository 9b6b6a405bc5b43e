//! The `perfaudit` binary: parse arguments, run the library, map the result to an exit code.

use clap::Parser;

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicPtr, Ordering};

use libmimalloc_sys::{
    mi_heap_malloc_aligned, mi_heap_new, mi_heap_realloc_aligned, mi_heap_t, mi_heap_zalloc_aligned,
};
use mimalloc::MiMalloc;

// Analysis allocates many small strings and vectors per module; mimalloc is markedly faster
// than the system allocator for that pattern, as ruff found too.
#[global_allocator]
static GLOBAL: Allocator = Allocator;

/// mimalloc, with what the library marks as kept for the rest of the run
/// (`perfaudit::lifetime::kept`: each module's facts, the interned names) placed in a heap of
/// its own. Otherwise those blocks land in the pages a module's source, tree and walk use and
/// free again, and each page a kept block sits in stays resident however empty it is: on the
/// standard library 12 MiB of the 84 MiB mimalloc held after the module stage were such free
/// blocks, 4 MiB with the kept heap (its pages are filled in order, and never freed from).
/// The default heap's pages now empty after each module and are purged (page faults 49 k ->
/// 103 k, system time +0.2 s), which the denser facts pay back in user time (1 thread: user +
/// system 2.94 s either way). Freeing and growing in place need nothing: `mi_free` finds any
/// block's heap.
struct Allocator;

/// The heap for kept blocks (`mi_heap_new`, made before any thread of ours starts; null
/// until then, when everything goes to the default heap).
static KEPT_HEAP: AtomicPtr<mi_heap_t> = AtomicPtr::new(std::ptr::null_mut());

/// The kept heap when the calling thread is inside `lifetime::kept`, else null.
#[inline]
fn kept_heap() -> *mut mi_heap_t {
    if perfaudit::lifetime::is_kept() {
        KEPT_HEAP.load(Ordering::Relaxed)
    } else {
        std::ptr::null_mut()
    }
}

// SAFETY: every block comes from mimalloc (the default heap through `MiMalloc`, or the kept
// heap with the same alignment rules), and `mi_free`, which `MiMalloc::dealloc` calls, frees a
// block of any heap.
unsafe impl GlobalAlloc for Allocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let heap = kept_heap();
        if heap.is_null() {
            // SAFETY: the caller's contract, passed on.
            unsafe { MiMalloc.alloc(layout) }
        } else {
            // SAFETY: `heap` is a live heap (never deleted); a non-zero size is the caller's.
            unsafe { mi_heap_malloc_aligned(heap, layout.size(), layout.align()).cast() }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let heap = kept_heap();
        if heap.is_null() {
            // SAFETY: the caller's contract, passed on.
            unsafe { MiMalloc.alloc_zeroed(layout) }
        } else {
            // SAFETY: as in `alloc`.
            unsafe { mi_heap_zalloc_aligned(heap, layout.size(), layout.align()).cast() }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on (`mi_free` frees a block of any heap).
        unsafe { MiMalloc.dealloc(ptr, layout) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let heap = kept_heap();
        if heap.is_null() {
            // SAFETY: the caller's contract, passed on.
            unsafe { MiMalloc.realloc(ptr, layout, new_size) }
        } else {
            // SAFETY: `ptr` is a mimalloc block (of either heap) with `layout`'s alignment.
            unsafe { mi_heap_realloc_aligned(heap, ptr.cast(), new_size, layout.align()).cast() }
        }
    }
}

/// `mi_option_purge_delay` in mimalloc v3's `mi_option_e` (`mimalloc.h` of the
/// `libmimalloc-sys` version in `Cargo.lock`; `MIMALLOC_VERBOSE=1` lists the options in order),
/// which the Rust bindings do not name.
const MI_OPTION_PURGE_DELAY: i32 = 15;

/// The audit keeps every module's facts while per-file syntax trees come and go: return freed
/// pages to the OS at once instead of a second later (peak RSS on the standard library falls
/// by about a fifth, at no measurable cost in time).
///
/// Transparent huge pages are turned off for the process: with them, a page that a freed tree
/// gave back is faulted in again as a whole 2 MiB page, zeroed by the kernel, and the facts
/// scattered over such pages keep every 2 MiB resident (on the standard library: peak RSS
/// −17 %, and the kernel's page zeroing, an eighth of the profile, mostly gone).
fn tune_allocator() {
    // SAFETY: `mi_option_set` only stores an integer option and `mi_heap_new` makes a heap;
    // both are called before any thread of ours is started.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0);
        KEPT_HEAP.store(mi_heap_new(), Ordering::Relaxed);
    }
    #[cfg(target_os = "linux")]
    // SAFETY: `PR_SET_THP_DISABLE` only sets a flag of this process's memory map, which the
    // kernel reads at later page faults; a kernel without it returns an error, ignored here.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

fn main() {
    tune_allocator();
    let cli = match perfaudit::cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                perfaudit::cli::EXIT_ERROR
            } else {
                0
            };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    // A bug that escapes the per-file guard (in linking or in a rule) ends the run with the
    // error exit code, never with a report that looks complete.
    let code = std::panic::catch_unwind(move || perfaudit::cli::run(cli)).unwrap_or_else(|_| {
        eprintln!(
            "perfaudit: error: internal error (a perfaudit bug; please report it with the \
             message above)"
        );
        perfaudit::cli::EXIT_ERROR
    });
    std::process::exit(code);
}
