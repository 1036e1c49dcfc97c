//! Decodes a saved `RetrievePropertiesEx` response (a whole SOAP envelope) into typed values and
//! prints how many objects and properties it held, what the decoder charged to its cost budget
//! (`xml::Limits::cost_per_byte`) per input byte, and the decode speed.
//!
//! `cargo run --release -p vim-sdk --example decode_file -- FILE [ROUNDS]`

use std::time::Instant;

use vim_sdk::soap::{enter_body, BodyContent};
use vim_sdk::types::RetrieveResult;
use vim_sdk::xml::{opt, XmlReader};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: decode_file FILE [ROUNDS]");
        std::process::exit(2);
    };
    let rounds: u32 = args.next().and_then(|r| r.parse().ok()).unwrap_or(5);
    let body = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("cannot read {path}: {e}");
            std::process::exit(1);
        }
    };
    let mut best = f64::MAX;
    let (mut objects, mut props, mut charged) = (0, 0, 0);
    for _ in 0..rounds.max(1) {
        let start = Instant::now();
        let result = match decode(&body) {
            Ok((r, c)) => {
                charged = c;
                r
            }
            Err(e) => {
                eprintln!("decode failed: {e}");
                std::process::exit(1);
            }
        };
        let secs = start.elapsed().as_secs_f64();
        best = best.min(secs);
        objects = result.iter().map(|r| r.objects.len()).sum::<usize>();
        props = result
            .iter()
            .flat_map(|r| &r.objects)
            .map(|o| o.prop_set.len())
            .sum::<usize>();
        drop(result);
    }
    let mb = body.len() as f64 / 1e6;
    println!(
        "objects={objects} properties={props} bytes={} charged={charged} ({:.2} per byte) best={:.1} ms speed={:.1} MB/s",
        body.len(),
        charged as f64 / body.len() as f64,
        best * 1e3,
        mb / best
    );
}

/// The results and what the reader charged for them.
fn decode(body: &[u8]) -> Result<(Vec<RetrieveResult>, u64), Box<dyn std::error::Error>> {
    let mut r = XmlReader::from_slice(body);
    match enter_body(&mut r)? {
        BodyContent::Fault(f) => return Err(format!("SOAP fault: {f}").into()),
        BodyContent::Response => {}
    }
    let mut out = Vec::new();
    while r.enter_child()? {
        if r.current_name() == b"returnval" {
            if let Some(v) = opt::<RetrieveResult>(&mut r)? {
                out.push(v);
            }
        } else {
            r.skip()?;
        }
    }
    Ok((out, r.charged()))
}
