//! The SOAP fault path: the input is a reply body read as a fault (`soap::enter_body` and
//! `soap::read_fault` through `Response::empty`), its detail decoded into the typed faults;
//! the error is printed (its `Display` walks the fault and its `faultCause` chain).
#![no_main]

use libfuzzer_sys::fuzz_target;
use vim_sdk::soap::Response;
use vim_sdk::ErrorKind;

#[global_allocator]
static ALLOC: vim_sdk_fuzz::CountingAlloc = vim_sdk_fuzz::CountingAlloc;

fuzz_target!(|data: &[u8]| {
    vim_sdk_fuzz::bounded(data.len(), || {
        let resp = Response::new(
            "Login",
            "SessionManager:SessionManager".into(),
            bytes::Bytes::copy_from_slice(data),
        );
        if let Err(e) = resp.empty() {
            let _ = e.to_string();
            if let ErrorKind::Fault(f) = &e.kind {
                let copy = f.clone();
                let printed = format!("{f:?}");
                assert_eq!(printed, format!("{copy:?}"), "a clone prints the same");
            }
        }
    });
});
