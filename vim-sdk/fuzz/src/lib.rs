//! What the fuzz targets share: an allocator that holds each input to a heap bound and checks
//! that what an input allocated is freed after it (the targets run without AddressSanitizer,
//! so this stands in for its leak check), and a small deterministic choice of sizes from the
//! input's bytes.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Live heap allowed whatever the input (libFuzzer's own buffers, the reader's, the floor of
/// the decoder's cost budget).
pub const HEAP_BASE: usize = 16 << 20;
/// Live heap allowed per input byte on top of [`HEAP_BASE`].
pub const HEAP_PER_BYTE: usize = 64;

/// Heap that inputs may leave allocated over a whole run (one-time caches); more is a leak.
pub const HEAP_KEPT: usize = 1 << 20;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static LIMIT: AtomicUsize = AtomicUsize::new(usize::MAX);
static KEPT: AtomicUsize = AtomicUsize::new(0);

/// Writes `msg` to stderr unbuffered (no allocation) and aborts: a crash libFuzzer records.
fn fail(msg: &[u8]) -> ! {
    let _ = std::io::Write::write_all(&mut std::io::stderr(), msg);
    std::process::abort();
}

/// The system allocator, counting live bytes and aborting once they pass the limit set by
/// [`bounded`]: an allocation beyond the stated bound is a crash libFuzzer records.
pub struct CountingAlloc;

impl CountingAlloc {
    fn add(&self, size: usize) {
        let live = LIVE.fetch_add(size, Ordering::Relaxed) + size;
        if live > LIMIT.load(Ordering::Relaxed) {
            fail(b"fuzz: live heap beyond the per-input bound\n");
        }
    }
}

// SAFETY: forwards to `System`, only counting.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.add(layout.size());
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.add(layout.size());
        System.alloc_zeroed(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            self.add(new_size - layout.size());
        } else {
            LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        System.realloc(ptr, layout, new_size)
    }
}

/// Runs one input with the heap bounded to what was live before plus
/// `HEAP_BASE + HEAP_PER_BYTE × len`; what the input leaves allocated counts towards
/// [`HEAP_KEPT`] for the whole run.
pub fn bounded(len: usize, f: impl FnOnce()) {
    let before = LIVE.load(Ordering::Relaxed);
    LIMIT.store(
        before + HEAP_BASE + HEAP_PER_BYTE.saturating_mul(len),
        Ordering::Relaxed,
    );
    f();
    LIMIT.store(usize::MAX, Ordering::Relaxed);
    let kept = LIVE.load(Ordering::Relaxed).saturating_sub(before);
    if KEPT.fetch_add(kept, Ordering::Relaxed) + kept > HEAP_KEPT {
        fail(b"fuzz: inputs left more heap allocated than the one-time allowance (a leak)\n");
    }
}

/// A small deterministic generator (xorshift) seeded from input bytes, for chunk sizes.
pub struct Choices(u64);

impl Choices {
    /// Seeds from up to eight bytes.
    pub fn new(seed: &[u8]) -> Self {
        let mut s = 0x9E37_79B9_7F4A_7C15u64;
        for &b in seed.iter().take(8) {
            s = (s ^ u64::from(b)).wrapping_mul(0x100_0000_01B3);
        }
        Choices(s | 1)
    }

    /// The next value in `1..=max`.
    pub fn size(&mut self, max: usize) -> usize {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (x % max as u64) as usize + 1
    }
}
