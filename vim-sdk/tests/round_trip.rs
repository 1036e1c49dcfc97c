//! Every data object type of the bindings, through the wire and back: a value with every field
//! set (inherited ones too, arrays with two items, nested objects, polymorphic subtypes) is
//! decoded from XML, encoded, decoded again and encoded again.

use std::collections::HashMap;
use std::fmt::Write;

use vim_sdk::meta::{TypeInfo, ENUMS, TYPES};
use vim_sdk::types::{Any, AnyData};
use vim_sdk::xml::{decode_document, encode_document, XmlReader};

struct Synth {
    types: HashMap<&'static str, &'static TypeInfo>,
    enums: HashMap<&'static str, &'static str>,
    subtypes: HashMap<&'static str, &'static str>,
}

impl Synth {
    fn new() -> Self {
        let types: HashMap<_, _> = TYPES.iter().map(|t| (t.name, t)).collect();
        let enums = ENUMS
            .iter()
            .filter_map(|e| e.values.first().map(|v| (e.name, v.0)))
            .collect();
        let mut subtypes = HashMap::new();
        for t in TYPES {
            if let Some(b) = t.base {
                subtypes.entry(b).or_insert(t.name);
            }
        }
        Synth {
            types,
            enums,
            subtypes,
        }
    }

    /// The fields of `ty`, inherited ones first.
    fn fields(&self, ty: &str) -> Vec<&'static vim_sdk::meta::FieldInfo> {
        let mut chain = Vec::new();
        let mut cur = self.types.get(ty).copied();
        while let Some(t) = cur {
            chain.push(t);
            cur = t.base.and_then(|b| self.types.get(b).copied());
        }
        chain.iter().rev().flat_map(|t| t.fields.iter()).collect()
    }

    fn value(&self, out: &mut String, name: &str, ty: &str, depth: usize) {
        let simple = |out: &mut String, text: &str| {
            let _ = write!(out, "<{name}>{text}</{name}>");
        };
        match ty {
            "xsd:string" => simple(out, &format!("s-{name} &amp; &lt;x&gt;")),
            "xsd:boolean" => simple(out, "true"),
            "xsd:byte" | "xsd:short" | "xsd:int" => simple(out, "-7"),
            "xsd:long" => simple(out, "1234567890123"),
            "xsd:float" | "xsd:double" => simple(out, "1.5"),
            "xsd:dateTime" => simple(out, "2024-01-02T03:04:05Z"),
            "xsd:base64Binary" => simple(out, "AQID"),
            "xsd:anyURI" => simple(out, "https://example.invalid/x"),
            "xsd:anyType" => {
                let _ = write!(out, "<{name} xsi:type=\"xsd:int\">5</{name}>");
            }
            "ManagedObjectReference" => {
                let _ = write!(out, "<{name} type=\"Folder\">group-{depth}</{name}>");
            }
            t if self.enums.contains_key(t) => simple(out, self.enums[t]),
            t => {
                // A polymorphic field carries a subtype where there is one.
                let concrete = if depth == 1 {
                    self.subtypes.get(t).copied().unwrap_or(t)
                } else {
                    t
                };
                if concrete != t {
                    let _ = write!(out, "<{name} xsi:type=\"{concrete}\">");
                } else {
                    let _ = write!(out, "<{name}>");
                }
                if depth < 3 {
                    self.fields_of(out, concrete, depth + 1);
                }
                let _ = write!(out, "</{name}>");
            }
        }
    }

    fn fields_of(&self, out: &mut String, ty: &str, depth: usize) {
        for f in self.fields(ty) {
            let n = if f.array { 2 } else { 1 };
            for _ in 0..n {
                self.value(out, f.name, f.ty, depth);
            }
        }
    }

    fn document(&self, ty: &str) -> String {
        let mut out = String::from(
            "<val xmlns=\"urn:vim25\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
             xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xsi:type=\"",
        );
        out.push_str(ty);
        out.push_str("\">");
        self.fields_of(&mut out, ty, 1);
        out.push_str("</val>");
        out
    }
}

fn top_level_names(xml: &[u8]) -> Vec<String> {
    let mut r = XmlReader::from_slice(xml);
    r.enter_root().expect("root");
    let mut names = Vec::new();
    while r.enter_child().expect("child") {
        names.push(String::from_utf8_lossy(r.current_name()).into_owned());
        r.skip().expect("skip");
    }
    names
}

#[test]
fn every_data_type_round_trips() {
    let synth = Synth::new();
    let mut checked = 0;
    let mut failures = Vec::new();
    for t in TYPES {
        if t.name == "ManagedObjectReference" {
            continue;
        }
        let xml1 = synth.document(t.name);
        let v1: Any = match decode_document(xml1.as_bytes()) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("{}: decode: {e}", t.name));
                continue;
            }
        };
        match &v1 {
            Any::Data(d) if d.type_name() == t.name && !matches!(d, AnyData::Unknown { .. }) => {}
            other => {
                failures.push(format!("{}: decoded as {}", t.name, other.type_name()));
                continue;
            }
        }
        let xml2 = encode_document(&v1, "val");
        let v2: Any = decode_document(&xml2).expect("re-decode");
        let xml3 = encode_document(&v2, "val");
        if xml2 != xml3 {
            failures.push(format!("{}: encoding is not a fixpoint", t.name));
            continue;
        }
        let want = top_level_names(xml1.as_bytes());
        let got = top_level_names(&xml2);
        if want != got {
            failures.push(format!("{}: fields {want:?} came back as {got:?}", t.name));
            continue;
        }
        checked += 1;
    }
    assert!(
        failures.is_empty(),
        "{} of {} types failed:\n{}",
        failures.len(),
        TYPES.len(),
        failures.join("\n")
    );
    assert!(checked > 2800, "only {checked} types checked");
}
