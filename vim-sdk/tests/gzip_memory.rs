//! A gzip reply is inflated into one buffer as it arrives: reading it whole costs about its
//! inflated size in memory, not the compressed and the inflated body side by side. Measured
//! with a counting allocator (alone in this test binary, so nothing else allocates meanwhile).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use vim_sdk::transport::{Transport, TransportConfig};

#[path = "support/loopback.rs"]
mod loopback;
use loopback::{full, handler, TestServer};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Bytes that do not compress: a stored gzip stream is as large as its content.
fn noise(n: usize) -> Vec<u8> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[tokio::test]
async fn collecting_a_gzip_body_does_not_hold_it_twice() {
    const SIZE: usize = 16 << 20;
    let data = noise(SIZE);
    let packed = {
        use std::io::Write as _;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
        enc.write_all(&data).unwrap();
        bytes::Bytes::from(enc.finish().unwrap())
    };
    assert!(packed.len() > SIZE, "stored, not compressed");
    let server = TestServer::start(
        None,
        handler(move |_req| {
            let packed = packed.clone();
            async move {
                http::Response::builder()
                    .status(200)
                    .header("Content-Encoding", "gzip")
                    .body(full(packed))
                    .unwrap()
            }
        }),
    )
    .await;
    let transport = Transport::new(TransportConfig::new(server.http_url())).unwrap();
    let (_, body) = transport.get("/file", None).await.expect("get");

    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let got = body.collect(SIZE).await.expect("collect");
    let peak = PEAK.load(Ordering::Relaxed) - before;
    assert!(got == data, "the body inflates to what was sent");
    // The result itself, plus chunks in flight; holding the compressed body too would need
    // about twice the size.
    assert!(
        peak < SIZE + SIZE / 4,
        "collect peaked at {peak} bytes for a {SIZE}-byte body"
    );
}
