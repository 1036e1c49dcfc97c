//! A SOAP reply to any operation: the first two bytes choose the operation from
//! `meta::operation_returns()` (and how many results are read), the rest is the reply body,
//! decoded as that operation's result type through `soap::Response`, then printed and cloned.
#![no_main]

use std::cell::Cell;

use libfuzzer_sys::fuzz_target;
use vim_sdk::meta::operation_returns;
use vim_sdk::soap::Response;
use vim_sdk::types::Any;
use vim_sdk::xml::{Decode, DecodeError, XmlReader};

#[global_allocator]
static ALLOC: vim_sdk_fuzz::CountingAlloc = vim_sdk_fuzz::CountingAlloc;

thread_local! {
    /// The result type of the operation being fuzzed (`VirtualMachineConfigInfo`, `xsd:int`).
    static RESULT_TYPE: Cell<&'static str> = const { Cell::new("") };
}

/// One `returnval`, decoded as the result type: through `Any` with the type assumed where the
/// element states none, which reaches every data object, array, enum and reference decoder.
struct Reply(Any);

impl Decode for Reply {
    fn decode(r: &mut XmlReader<'_>) -> Result<Self, DecodeError> {
        let ty = RESULT_TYPE.get();
        if !ty.starts_with("xsd:") {
            r.assume_type(ty.as_bytes());
        }
        Any::decode(r).map(Reply)
    }
}

fuzz_target!(|data: &[u8]| {
    let [lo, hi, body @ ..] = data else { return };
    let pick = usize::from(u16::from_le_bytes([*lo, *hi]));
    let mut returns = operation_returns();
    let Some((op, ty)) = returns.nth((pick >> 2) % returns.len()) else {
        return;
    };
    RESULT_TYPE.set(ty);
    vim_sdk_fuzz::bounded(body.len(), || {
        let resp = Response::new(
            op,
            "Folder:group-d1".into(),
            bytes::Bytes::copy_from_slice(body),
        );
        let values: Result<Vec<Reply>, _> = match pick & 3 {
            0 => resp.one::<Reply>().map(|v| vec![v]),
            1 => resp.opt::<Reply>().map(|v| v.into_iter().collect()),
            2 => resp.empty().map(|()| Vec::new()),
            _ => resp.many::<Reply>(),
        };
        match values {
            Ok(values) => {
                for Reply(v) in &values {
                    let copy = v.clone();
                    let printed = format!("{v:?}");
                    assert_eq!(printed, format!("{copy:?}"), "a clone prints the same");
                }
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    });
});
