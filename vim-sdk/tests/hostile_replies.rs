//! Replies built to cost the decoder memory or stack: many tiny items of large types (bounded
//! relative to the input by `Limits::cost_per_byte`), and deeply nested values (bounded so that
//! whatever decodes can be printed, cloned and dropped on a 2 MiB thread in debug builds).

use vim_sdk::soap::enter_body;
use vim_sdk::types::{Any, LocalizedMethodFault, RetrieveResult, VirtualMachineSnapshotTree};
use vim_sdk::xml::{
    decode_document, items, Decode, DecodeError, DecodeErrorKind, Limits, XmlReader,
    DEFAULT_COST_PER_BYTE,
};

const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// A tokio worker's default stack, and std's default for spawned threads.
const SMALL_STACK: usize = 2 << 20;

fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// Decodes `doc` as a `T` under `limits`, with what the reader charged.
fn decode_with<T: Decode>(doc: &[u8], limits: Limits) -> (Result<T, DecodeError>, u64) {
    let mut r = XmlReader::from_slice(doc).with_limits(limits);
    let res = r.enter_root().and_then(|()| {
        let v = T::decode(&mut r)?;
        r.finish()?;
        Ok(v)
    });
    (res, r.charged())
}

/// An `anyType` value of type `array` holding `n` empty items (`<x></x>`, 7 bytes each).
fn empty_items(array: &str, n: usize) -> Vec<u8> {
    let mut doc = format!(r#"<val xmlns:xsi="{XSI}" xsi:type="{array}">"#);
    doc.push_str(&"<x></x>".repeat(n));
    doc.push_str("</val>");
    doc.into_bytes()
}

/// Only the cost budget: no floor, `per_byte` bytes per input byte.
fn budget(floor: u64, per_byte: u64) -> Limits {
    Limits {
        cost_floor: floor,
        cost_per_byte: per_byte,
        ..Limits::default()
    }
}

#[test]
fn empty_items_of_large_types_fail_early_under_the_default_limits() {
    for array in ["ArrayOfVirtualDevice", "ArrayOfObjectContent"] {
        // 7 MB of input: ~11 GB of decoded items before the budget existed.
        let doc = empty_items(array, 1_000_000);
        let (res, charged) = decode_with::<Any>(&doc, Limits::default());
        let e = res.expect_err("over budget");
        assert_eq!(
            e.kind,
            DecodeErrorKind::TooCostly {
                per_byte: DEFAULT_COST_PER_BYTE,
                floor: 1 << 20
            },
            "{array}: {e}"
        );
        assert_eq!(e.path, "/val/x", "{array}");
        // It stops as soon as the budget is passed, one item over it at most.
        let allowed = (1 << 20) + DEFAULT_COST_PER_BYTE * e.position;
        assert!(charged <= allowed + 4096, "{array}: {charged} > {allowed}");
        assert!(
            e.position < 100_000,
            "{array}: failed at byte {}",
            e.position
        );
    }
}

#[test]
fn the_budget_admits_exactly_its_floor_and_refuses_one_byte_less() {
    for array in [
        "ArrayOfVirtualDevice",
        "ArrayOfObjectContent",
        "ArrayOfString",
    ] {
        let doc = empty_items(array, 1000);
        let (res, charged) = decode_with::<Any>(&doc, Limits::default());
        match res.expect("under the default budget") {
            Any::Array(a) => assert_eq!(a.len(), 1000, "{array}"),
            other => panic!("{array}: {other:?}"),
        }
        assert!(charged >= 1000, "{array}: charged {charged}");
        let (res, again) = decode_with::<Any>(&doc, budget(charged, 0));
        assert!(res.is_ok(), "{array} at the bound: {:?}", res.err());
        assert_eq!(again, charged);
        let (res, _) = decode_with::<Any>(&doc, budget(charged - 1, 0));
        let e = res.expect_err("one byte over");
        assert_eq!(
            e.kind,
            DecodeErrorKind::TooCostly {
                per_byte: 0,
                floor: charged - 1
            },
            "{array}"
        );
    }
}

#[test]
fn real_replies_cost_a_fraction_of_the_default_budget() {
    for path in [
        "vcsim/vpx-retrieve-host.xml",
        "vcsim/esx-retrieve-vm-all.xml",
    ] {
        let body = fixture(path);
        let decode = |limits: Limits| {
            let mut r = XmlReader::from_slice(&body).with_limits(limits);
            let res = enter_body(&mut r).and_then(|_| items::<RetrieveResult>(&mut r));
            (res, r.charged())
        };
        let (res, charged) = decode(Limits::default());
        assert!(!res.expect(path).is_empty(), "{path}");
        let ratio = charged as f64 / body.len() as f64;
        println!(
            "{path}: {charged} bytes charged for {} ({ratio:.2} per byte)",
            body.len()
        );
        assert!(
            ratio < 2.0,
            "{path}: {charged} bytes charged for {}",
            body.len()
        );
        // A sixteenth of the default floor and a quarter of the default ratio still admit them.
        let (res, _) = decode(budget(64 << 10, DEFAULT_COST_PER_BYTE / 4));
        assert!(res.is_ok(), "{path}: {:?}", res.err());
    }
}

/// Runs `f` on a thread with a tokio worker's 2 MiB stack (a stack overflow aborts the test
/// binary).
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("no panic")
}

/// `levels` nested `anyType` values: `ArrayOfAnyType`s, each holding the next, and an int.
fn nested_arrays(levels: usize) -> Vec<u8> {
    let mut doc = format!(r#"<val xmlns:xsi="{XSI}" xsi:type="ArrayOfAnyType">"#);
    for _ in 2..levels {
        doc.push_str(r#"<anyType xsi:type="ArrayOfAnyType">"#);
    }
    doc.push_str(r#"<anyType xsi:type="xsd:int">7</anyType>"#);
    doc.push_str(&"</anyType>".repeat(levels - 2));
    doc.push_str("</val>");
    doc.into_bytes()
}

/// `levels` nested `anyType` values: `KeyAnyValue` data objects, each the `value` of the one
/// before, and an int.
fn nested_data(levels: usize) -> Vec<u8> {
    let mut doc = format!(r#"<val xmlns:xsi="{XSI}" xsi:type="KeyAnyValue"><key>k</key>"#);
    for _ in 2..levels {
        doc.push_str(r#"<value xsi:type="KeyAnyValue"><key>k</key>"#);
    }
    doc.push_str(r#"<value xsi:type="xsd:int">7</value>"#);
    doc.push_str(&"</value>".repeat(levels - 2));
    doc.push_str("</val>");
    doc.into_bytes()
}

/// A snapshot tree `depth` elements deep (one snapshot per level, the deepest without
/// children of its own).
fn snapshot_chain(depth: usize) -> Vec<u8> {
    let mut doc = "<t><name>s</name>".to_string();
    for level in 1..depth {
        doc.push_str("<childSnapshotList>");
        if level + 1 < depth {
            doc.push_str("<name>s</name>");
        }
    }
    doc.push_str(&"</childSnapshotList>".repeat(depth - 1));
    doc.push_str("</t>");
    doc.into_bytes()
}

/// A fault whose `faultCause` chain is `depth` elements deep (two per cause).
fn fault_chain(depth: usize) -> Vec<u8> {
    let mut doc = format!(r#"<f xmlns:xsi="{XSI}">"#);
    let levels = (depth - 1) / 2;
    for _ in 0..levels {
        doc.push_str(r#"<fault xsi:type="SystemError"><reason>r</reason><faultCause>"#);
    }
    doc.push_str(&"</faultCause></fault>".repeat(levels));
    doc.push_str("</f>");
    doc.into_bytes()
}

/// Decodes `doc` as a `T` on a 2 MiB stack and prints, clones and drops the value there:
/// the length of its `Debug` output, or the decoding error.
fn decode_print_clone_drop<T>(doc: Vec<u8>) -> Result<usize, DecodeError>
where
    T: Decode + Clone + std::fmt::Debug + Send + 'static,
{
    on_small_stack(move || {
        let v: T = decode_document(&doc)?;
        let copy = v.clone();
        let printed = format!("{v:?}");
        assert_eq!(printed, format!("{copy:?}"));
        drop(copy);
        drop(v);
        Ok(printed.len())
    })
}

#[test]
fn the_deepest_any_values_accepted_are_safe_on_a_small_stack_and_one_more_is_refused() {
    let max = Limits::default().max_any_depth;
    for (shape, build) in [
        ("ArrayOfAnyType", nested_arrays as fn(usize) -> Vec<u8>),
        ("KeyAnyValue", nested_data),
    ] {
        decode_print_clone_drop::<Any>(build(max)).unwrap_or_else(|e| panic!("{shape}: {e}"));
        let e = decode_print_clone_drop::<Any>(build(max + 1)).expect_err(shape);
        assert_eq!(
            e.kind,
            DecodeErrorKind::AnyTooDeep { limit: max },
            "{shape}"
        );
    }
}

#[test]
fn the_deepest_typed_values_accepted_are_safe_on_a_small_stack_and_one_more_is_refused() {
    let max = Limits::default().max_depth;
    let printed = decode_print_clone_drop::<VirtualMachineSnapshotTree>(snapshot_chain(max))
        .expect("snapshot tree");
    assert!(printed > max * 10);
    let e = decode_print_clone_drop::<VirtualMachineSnapshotTree>(snapshot_chain(max + 1))
        .expect_err("one level more");
    assert_eq!(e.kind, DecodeErrorKind::TooDeep { limit: max });

    // The deepest fault chain fits (`max` is odd or even: the chain ends a level short).
    decode_print_clone_drop::<LocalizedMethodFault>(fault_chain(max)).expect("fault chain");
    let e = decode_print_clone_drop::<LocalizedMethodFault>(fault_chain(max + 2))
        .expect_err("one cause more");
    assert_eq!(e.kind, DecodeErrorKind::TooDeep { limit: max });
}

/// Measures what a nesting costs on a 2 MiB stack: `HOSTILE_PROBE=kind:depth` with kind one of
/// `arrays`, `data`, `snapshots`, `faults`, under generous limits (an overflow aborts).
#[test]
#[ignore = "a probe for choosing the limits, run by hand"]
fn probe_nesting() {
    let probe = std::env::var("HOSTILE_PROBE").expect("HOSTILE_PROBE=kind:depth");
    let (kind, depth) = probe.split_once(':').expect("kind:depth");
    let depth: usize = depth.parse().expect("depth");
    let limits = Limits {
        max_depth: 100_000,
        max_any_depth: 100_000,
        ..Limits::default()
    };
    let doc = match kind {
        "arrays" => nested_arrays(depth),
        "data" => nested_data(depth),
        "snapshots" => snapshot_chain(depth),
        _ => fault_chain(depth),
    };
    let kind = kind.to_string();
    let n = on_small_stack(move || {
        let printed = match kind.as_str() {
            "arrays" | "data" => {
                let v = decode_with::<Any>(&doc, limits).0.expect("decodes");
                let s = format!("{:?}", v.clone());
                s.len()
            }
            "snapshots" => {
                let v = decode_with::<VirtualMachineSnapshotTree>(&doc, limits)
                    .0
                    .expect("decodes");
                let s = format!("{:?}", v.clone());
                s.len()
            }
            _ => {
                let v = decode_with::<LocalizedMethodFault>(&doc, limits)
                    .0
                    .expect("decodes");
                let s = format!("{:?}", v.clone());
                s.len()
            }
        };
        printed
    });
    println!("{probe} printed {n} bytes");
}
