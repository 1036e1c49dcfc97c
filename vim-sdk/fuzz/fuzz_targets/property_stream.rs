//! The streamed property reader (`property::stream`): the input, less its first four bytes, is
//! a `RetrievePropertiesEx` page delivered in chunks whose sizes those four bytes choose (1 to
//! 64 bytes, or 1 to 4 KiB), decoded as `ObjectContent`s; the result must not depend on the
//! chunking (the same page in one chunk decodes to the same objects and token, or fails too).
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use vim_sdk::property::stream::{decode_page_chunks, Page};
use vim_sdk::types::ObjectContent;
use vim_sdk_fuzz::Choices;

#[global_allocator]
static ALLOC: vim_sdk_fuzz::CountingAlloc = vim_sdk_fuzz::CountingAlloc;

/// The reply cap the stream applies (`TransportConfig::max_body`'s default).
const MAX_BYTES: u64 = 1 << 30;

fn decode(body: &Bytes, mut size: impl FnMut() -> usize) -> Result<Page<ObjectContent>, String> {
    let mut at = 0;
    let body = body.clone();
    let next = Box::new(move || {
        if at >= body.len() {
            return Ok(None);
        }
        let end = (at + size()).min(body.len());
        let chunk = body.slice(at..end);
        at = end;
        Ok(Some(chunk))
    });
    decode_page_chunks(next, MAX_BYTES).map_err(|e| e.to_string())
}

fuzz_target!(|data: &[u8]| {
    let [a, b, c, d, body @ ..] = data else {
        return;
    };
    let mut choices = Choices::new(&[*a, *b, *c, *d]);
    let max = if a & 1 == 0 { 64 } else { 4096 };
    vim_sdk_fuzz::bounded(body.len(), || {
        let body = Bytes::copy_from_slice(body);
        let chunked = decode(&body, || choices.size(max));
        let whole = decode(&body, || usize::MAX / 2);
        match (&chunked, &whole) {
            (Ok(x), Ok(y)) => {
                assert_eq!(x.token, y.token, "same token whatever the chunks");
                assert_eq!(
                    format!("{:?}", x.objects),
                    format!("{:?}", y.objects),
                    "same objects whatever the chunks"
                );
            }
            (Err(_), Err(_)) => {}
            _ => panic!("chunking changed the outcome: {chunked:?} vs {whole:?}"),
        }
    });
});
