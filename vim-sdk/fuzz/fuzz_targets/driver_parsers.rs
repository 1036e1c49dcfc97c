//! The parsers of what OpenNebula and the administrator hand the drivers (driver-common): the
//! first byte chooses one, the rest is its input. 0: the `<VM>` document (deployment and
//! action data, `OneVm::from_xml`); 1: the same in base64 (`OneVm::from_base64`, the network
//! driver's argv); 2: the bounded base64 decoder of `DS_DRIVER_ACTION_DATA`
//! (`base64_arg::decode_text`); 3: `vmwarerc` (`VmwareRc::parse`).
#![no_main]

use std::path::Path;

use driver_common::base64_arg::decode_text;
use driver_common::config::VmwareRc;
use driver_common::one_vm::OneVm;
use libfuzzer_sys::fuzz_target;

#[global_allocator]
static ALLOC: vim_sdk_fuzz::CountingAlloc = vim_sdk_fuzz::CountingAlloc;

fuzz_target!(|data: &[u8]| {
    let [which, rest @ ..] = data else { return };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    vim_sdk_fuzz::bounded(rest.len(), || match which % 4 {
        0 => {
            if let Ok(vm) = OneVm::from_xml(text) {
                let _ = format!("{vm:?}");
            }
        }
        1 => {
            let _ = OneVm::from_base64(text).map(|vm| format!("{vm:?}"));
        }
        2 => {
            if let Ok(out) = decode_text(text, 1 << 16) {
                assert!(out.len() <= (1 << 16) + 3, "the bound holds");
            }
        }
        _ => {
            let _ =
                VmwareRc::parse(Path::new("/etc/one/vmwarerc"), text).map(|rc| format!("{rc:?}"));
        }
    });
});
