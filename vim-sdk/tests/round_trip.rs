//! Every data object type of the bindings, through the wire and back, compared value by value.
//!
//! For each type a reference tree is built from the metadata (`vim_sdk::meta`): every field set
//! (inherited ones too, arrays with two items, nested objects, polymorphic members carrying the
//! declared type, each subtype in turn or a subtype the model does not know, `anyType` slots
//! carrying every kind of value), with values that are unique where they can be and the special
//! ones in turn (empty strings, 0, minimum and maximum integers, negative numbers, `INF` and
//! `NaN`, dates, empty and long base64, unicode, text needing escapes, CDATA, character
//! references, whitespace). The tree is written as XML and decoded into the bindings; the
//! decoded value is encoded again and that XML, parsed by quick-xml directly (not by the SDK's
//! reader), must equal the reference at every node: element name, effective type (`xsi:type`,
//! or the declared type where it is left out), `type` attribute, `xsi:nil`, text, and children
//! in order. The reference is the original, so a decoder that loses or alters anything fails.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use base64::Engine;
use quick_xml::events::Event;
use vim_sdk::meta::{FieldInfo, TypeInfo, ARRAYS, ENUMS, TYPES};
use vim_sdk::types::{Any, AnyData};
use vim_sdk::xml::{decode_document, encode_document};

/// Nested objects have every field down to this depth, only their required fields below it.
const FULL_DEPTH: usize = 3;
/// A chain of required nested objects deeper than this is a model the test does not expect.
const HARD_DEPTH: usize = 16;

/// One element: of the reference (built here) or of the re-encoding (parsed).
#[derive(Debug, Default)]
struct Node {
    name: String,
    /// `xsi:type` as written (`xsd:int`, `VirtualDisk`).
    xsi_type: Option<String>,
    /// The declared type of the slot (reference only): an encoder may leave out an `xsi:type`
    /// that states it.
    declared: Option<String>,
    /// The unqualified `type` attribute (a managed object reference's type).
    type_attr: Option<String>,
    nil: bool,
    /// The text content, unescaped.
    text: String,
    /// How the reference writes its text when that differs from the escaped text: whitespace
    /// around a number, `1` for `true`, CDATA, character references, base64 line breaks.
    raw: Option<String>,
    /// Attributes other than namespace declarations, `xsi:type`, `xsi:nil` and `type`.
    other_attrs: Vec<String>,
    children: Vec<Node>,
}

impl Node {
    fn leaf(name: &str, text: impl Into<String>) -> Node {
        Node {
            name: name.to_string(),
            text: text.into(),
            ..Node::default()
        }
    }

    fn raw(mut self, raw: impl Into<String>) -> Node {
        self.raw = Some(raw.into());
        self
    }

    fn typed(mut self, xsi_type: &str) -> Node {
        self.xsi_type = Some(xsi_type.to_string());
        self
    }
}

fn escape(s: &str, attr: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

/// Writes the reference as the input document.
fn write_node(out: &mut String, n: &Node, root: bool) {
    let _ = write!(out, "<{}", n.name);
    if root {
        out.push_str(
            " xmlns=\"urn:vim25\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
             xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\"",
        );
    }
    if let Some(t) = &n.xsi_type {
        let _ = write!(out, " xsi:type=\"{t}\"");
    }
    if let Some(t) = &n.type_attr {
        let _ = write!(out, " type=\"{}\"", escape(t, true));
    }
    if n.nil {
        out.push_str(" xsi:nil=\"true\"");
    }
    out.push('>');
    match &n.raw {
        Some(raw) => out.push_str(raw),
        None => out.push_str(&escape(&n.text, false)),
    }
    for c in &n.children {
        write_node(out, c, false);
    }
    let _ = write!(out, "</{}>", n.name);
}

/// Parses the re-encoding with quick-xml (independently of the SDK's reader).
fn parse(xml: &[u8]) -> Result<Node, String> {
    let mut r = quick_xml::Reader::from_reader(xml);
    r.config_mut().expand_empty_elements = true;
    r.config_mut().trim_text(false);
    let mut stack: Vec<Node> = Vec::new();
    loop {
        match r.read_event().map_err(|e| e.to_string())? {
            Event::Start(s) => {
                let mut n = Node {
                    name: String::from_utf8_lossy(s.name().as_ref()).into_owned(),
                    ..Node::default()
                };
                for a in s.attributes() {
                    let a = a.map_err(|e| e.to_string())?;
                    let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
                    let value = a.unescape_value().map_err(|e| e.to_string())?.into_owned();
                    match key.as_str() {
                        k if k == "xmlns" || k.starts_with("xmlns:") => {}
                        "xsi:type" => n.xsi_type = Some(value),
                        "xsi:nil" => n.nil = value == "true",
                        "type" => n.type_attr = Some(value),
                        _ => n.other_attrs.push(format!("{key}={value}")),
                    }
                }
                stack.push(n);
            }
            Event::End(_) => {
                let n = stack.pop().ok_or("unbalanced end tag")?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(n),
                    None => return Ok(n),
                }
            }
            Event::Text(t) => {
                let s = t.unescape().map_err(|e| e.to_string())?;
                stack.last_mut().ok_or("text outside the root")?.text += &s;
            }
            Event::CData(c) => {
                let s = String::from_utf8(c.to_vec()).map_err(|e| e.to_string())?;
                stack.last_mut().ok_or("CDATA outside the root")?.text += &s;
            }
            Event::Eof => return Err("no root element".into()),
            _ => {}
        }
    }
}

/// Compares the re-encoding `got` with the reference `want`, recording differences.
fn compare(want: &Node, got: &Node, path: &str, diffs: &mut Vec<String>) {
    let path = format!("{path}/{}", want.name);
    let mut note = |what: &str, w: &dyn std::fmt::Debug, g: &dyn std::fmt::Debug| {
        diffs.push(format!("{path}: {what}: want {w:?}, got {g:?}"));
    };
    if want.name != got.name {
        note("element", &want.name, &got.name);
        return;
    }
    let declared = want.declared.as_deref();
    let want_type = want.xsi_type.as_deref().or(declared);
    let got_type = got.xsi_type.as_deref().or(declared);
    if want_type != got_type {
        note("type", &want_type, &got_type);
    }
    if want.type_attr != got.type_attr {
        note("type attribute", &want.type_attr, &got.type_attr);
    }
    if want.nil != got.nil {
        note("xsi:nil", &want.nil, &got.nil);
    }
    if want.text != got.text {
        note("text", &want.text, &got.text);
    }
    if !got.other_attrs.is_empty() {
        note("attributes", &want.other_attrs, &got.other_attrs);
    }
    if want.children.len() != got.children.len() {
        let names = |v: &[Node]| v.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
        note("children", &names(&want.children), &names(&got.children));
    }
    for (w, g) in want.children.iter().zip(&got.children) {
        compare(w, g, &path, diffs);
    }
}

/// Builds reference values from the metadata. A counter makes values unique and walks each
/// slot through its special values and each polymorphic slot through its types.
struct Synth {
    types: HashMap<&'static str, &'static TypeInfo>,
    /// Every type's subtypes, direct and indirect, sorted.
    descendants: HashMap<&'static str, Vec<&'static str>>,
    enums: HashMap<&'static str, &'static [(&'static str, &'static str)]>,
    arrays: HashMap<&'static str, (&'static str, &'static str)>,
    /// Data types an `anyType` slot may carry, in turn.
    data_types: Vec<&'static str>,
    n: usize,
    /// How many values of each kind were written (to show what the run covered).
    kinds: BTreeMap<&'static str, usize>,
}

impl Synth {
    fn new() -> Self {
        let types: HashMap<_, _> = TYPES.iter().map(|t| (t.name, t)).collect();
        let mut descendants: HashMap<&'static str, Vec<&'static str>> = HashMap::new();
        for t in TYPES {
            let mut base = t.base;
            while let Some(b) = base {
                descendants.entry(b).or_default().push(t.name);
                base = types.get(b).and_then(|bt| bt.base);
            }
        }
        for d in descendants.values_mut() {
            d.sort_unstable();
        }
        Synth {
            types,
            descendants,
            enums: ENUMS.iter().map(|e| (e.name, e.values)).collect(),
            arrays: ARRAYS.iter().map(|a| (a.0, (a.1, a.2))).collect(),
            data_types: TYPES
                .iter()
                .map(|t| t.name)
                .filter(|n| *n != "ManagedObjectReference")
                .collect(),
            n: 0,
            kinds: BTreeMap::new(),
        }
    }

    fn next(&mut self, kind: &'static str) -> usize {
        self.n += 1;
        *self.kinds.entry(kind).or_default() += 1;
        self.n
    }

    /// The fields of `ty`, inherited ones first.
    fn fields(&self, ty: &str) -> Vec<&'static FieldInfo> {
        let mut chain = Vec::new();
        let mut cur = self.types.get(ty).copied();
        while let Some(t) = cur {
            chain.push(t);
            cur = t.base.and_then(|b| self.types.get(b).copied());
        }
        chain.iter().rev().flat_map(|t| t.fields.iter()).collect()
    }

    fn fields_into(&mut self, node: &mut Node, ty: &str, depth: usize) {
        assert!(
            depth <= HARD_DEPTH,
            "required fields nest deeper than {HARD_DEPTH} at {ty}"
        );
        for f in self.fields(ty) {
            if depth > FULL_DEPTH && (f.optional || f.array) {
                continue;
            }
            let count = if f.array { 2 } else { 1 };
            for _ in 0..count {
                // An `xsi:nil` required `anyType` decodes as `Any::Nil` and is written back as
                // nil; an optional or repeated one is dropped, so it is only sent where required.
                let nil_ok = !f.optional && !f.array;
                let v = self.value(f.name, f.ty, nil_ok, depth);
                node.children.push(v);
            }
        }
    }

    /// A value of wire type `ty` in element `name`.
    fn value(&mut self, name: &str, ty: &str, nil_ok: bool, depth: usize) -> Node {
        match ty {
            "xsd:anyType" => self.any(name, nil_ok, depth),
            "ManagedObjectReference" => self.reference(name),
            t if t.starts_with("xsd:") => self.primitive(name, t),
            t if self.enums.contains_key(t) => self.enum_value(name, t),
            t if self.arrays.contains_key(t) => self.array(name, t, depth),
            t if self.types.contains_key(t) => self.object(name, t, depth),
            t => panic!("field {name} has a type the test does not know: {t}"),
        }
    }

    fn primitive(&mut self, name: &str, ty: &str) -> Node {
        match ty {
            "xsd:string" => self.string(name),
            "xsd:anyURI" => {
                let k = self.next("anyURI");
                Node::leaf(name, format!("https://h{k}.example.invalid/p?a=1&b=<{k}>"))
            }
            "xsd:boolean" => {
                let k = self.next("boolean");
                match k % 4 {
                    0 => Node::leaf(name, "true"),
                    1 => Node::leaf(name, "false"),
                    2 => Node::leaf(name, "true").raw("1"),
                    _ => Node::leaf(name, "false").raw(" 0 "),
                }
            }
            "xsd:byte" => self.integer(name, "byte", i8::MIN.into(), i8::MAX.into()),
            "xsd:short" => self.integer(name, "short", i16::MIN.into(), i16::MAX.into()),
            "xsd:int" => self.integer(name, "int", i32::MIN.into(), i32::MAX.into()),
            "xsd:long" => self.integer(name, "long", i64::MIN, i64::MAX),
            "xsd:float" => {
                let k = self.next("float");
                // Texts as the encoder writes them (`{:?}` of the value as f64, or the XML
                // Schema names of the special values).
                match k % 6 {
                    0 => Node::leaf(name, "0.0"),
                    1 => Node::leaf(name, "-2.5").raw(" -2.5e0 "),
                    2 => Node::leaf(name, "1048576.5"),
                    3 => Node::leaf(name, "INF"),
                    4 => Node::leaf(name, "-INF"),
                    _ => Node::leaf(name, "NaN"),
                }
            }
            "xsd:double" => {
                let k = self.next("double");
                match k % 6 {
                    0 => Node::leaf(name, "0.0").raw("0"),
                    1 => Node::leaf(name, "-0.125"),
                    2 => Node::leaf(name, "1e300"),
                    3 => Node::leaf(name, "-1e-300"),
                    4 => Node::leaf(name, "NaN"),
                    _ => Node::leaf(name, format!("{k}.5")),
                }
            }
            "xsd:dateTime" => {
                let k = self.next("dateTime");
                let (mo, d, h, mi, s) = (1 + k % 12, 1 + k % 28, k % 24, k % 60, (k / 60) % 60);
                match k % 3 {
                    0 => Node::leaf(
                        name,
                        format!("20{:02}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z", k % 100),
                    ),
                    1 => Node::leaf(name, format!("1970-01-01T00:00:{s:02}.123456+02:00")),
                    _ => Node::leaf(name, format!("2038-01-19T03:14:{s:02}.5-05:30")),
                }
            }
            "xsd:base64Binary" => {
                let k = self.next("base64Binary");
                let bytes: Vec<u8> = match k % 4 {
                    0 => Vec::new(),
                    1 => vec![k as u8],
                    2 => (0..=255u8).cycle().skip(k % 256).take(200).collect(),
                    _ => vec![0xff, 0xfe, 0, (k >> 8) as u8, k as u8],
                };
                let text = base64::engine::general_purpose::STANDARD.encode(&bytes);
                // Long values arrive wrapped in lines.
                let raw: Vec<String> = text
                    .as_bytes()
                    .chunks(76)
                    .map(|c| String::from_utf8_lossy(c).into_owned())
                    .collect();
                Node::leaf(name, text.clone()).raw(raw.join("\r\n"))
            }
            t => panic!("unexpected primitive {t}"),
        }
    }

    fn string(&mut self, name: &str) -> Node {
        let k = self.next("string");
        match k % 8 {
            0 => Node::leaf(name, ""),
            1 => Node::leaf(name, format!("s{k}")),
            2 => Node::leaf(name, format!("s{k} a&b <c> \"q\" 'a' ]]> x")),
            3 => Node::leaf(name, format!("s{k} <cdata> & more"))
                .raw(format!("s{k} <![CDATA[<cdata> & more]]>")),
            4 => Node::leaf(name, format!("s{k} ünïcødé 日本語 🎉 é"))
                .raw(format!("s{k} ünïcødé 日本語 &#x1F389; &#233;")),
            5 => Node::leaf(name, format!("  s{k} spaced  ")),
            6 => Node::leaf(name, format!("s{k}\nline\ttab\r")),
            _ => Node::leaf(name, format!("0{k}")),
        }
    }

    fn integer(&mut self, name: &str, kind: &'static str, min: i64, max: i64) -> Node {
        let k = self.next(kind) as i64;
        let unique = 1 + k % max.min(100_000);
        match k % 5 {
            0 => Node::leaf(name, "0"),
            1 => Node::leaf(name, min.to_string()),
            2 => Node::leaf(name, max.to_string()),
            3 => Node::leaf(name, (-unique).to_string()),
            _ => Node::leaf(name, unique.to_string()).raw(format!(" {unique}\n")),
        }
    }

    fn reference(&mut self, name: &str) -> Node {
        let k = self.next("ManagedObjectReference");
        let ty = [
            "VirtualMachine",
            "HostSystem",
            "Folder",
            "FutureManagedThing",
        ][k % 4];
        let value = if k % 3 == 0 {
            format!("obj-{k} & <x>")
        } else {
            format!("obj-{k}")
        };
        Node {
            type_attr: Some(ty.to_string()),
            ..Node::leaf(name, value)
        }
    }

    fn enum_value(&mut self, name: &str, ty: &str) -> Node {
        let k = self.next("enum");
        let values = self.enums[ty];
        // Every value in turn, and one this model does not know (a newer server's).
        match values.get(k % (values.len() + 1)) {
            Some(v) => Node::leaf(name, v.0),
            None => Node::leaf(name, format!("futureValue{k}")),
        }
    }

    /// An `ArrayOf*` wrapper (only in `anyType` slots): two items.
    fn array(&mut self, name: &str, ty: &str, depth: usize) -> Node {
        self.next("ArrayOf");
        let (item_name, item_ty) = self.arrays[ty];
        let mut node = Node::leaf(name, "").typed(ty);
        node.declared = Some("xsd:anyType".into());
        for _ in 0..2 {
            let item = self.value(item_name, item_ty, false, depth + 1);
            node.children.push(item);
        }
        node
    }

    /// A data object declared as `declared`: the type itself, each of its subtypes in turn, or
    /// a subtype the model does not know (which carries the declared type's fields).
    fn object(&mut self, name: &str, declared: &str, depth: usize) -> Node {
        let k = self.next("data object");
        let subtypes = self.descendants.get(declared).cloned().unwrap_or_default();
        let mut node = Node::leaf(name, "");
        node.declared = Some(declared.to_string());
        let concrete = if subtypes.is_empty() {
            declared.to_string()
        } else {
            match k % (subtypes.len() + 3) {
                0 => declared.to_string(),
                1 => {
                    // The declared type stated explicitly.
                    node.xsi_type = Some(declared.to_string());
                    declared.to_string()
                }
                2 => {
                    self.next("unknown subtype");
                    node.xsi_type = Some(format!("Future{declared}"));
                    declared.to_string()
                }
                i => {
                    self.next("subtype");
                    let t = subtypes[i - 3];
                    node.xsi_type = Some(t.to_string());
                    t.to_string()
                }
            }
        };
        self.fields_into(&mut node, &concrete, depth + 1);
        node
    }

    /// The value of an `anyType` slot: each kind in turn.
    fn any(&mut self, name: &str, nil_ok: bool, depth: usize) -> Node {
        let k = self.next("anyType");
        let declared = |mut n: Node| {
            n.declared = Some("xsd:anyType".into());
            n
        };
        let scalar = |s: &mut Self, ty: &str| {
            let xsd = format!("xsd:{ty}");
            declared(s.primitive(name, &xsd).typed(&xsd))
        };
        match k % 17 {
            0 => declared(self.string(name).typed("xsd:string")),
            1 => scalar(self, "boolean"),
            2 => scalar(self, "byte"),
            3 => scalar(self, "short"),
            4 => scalar(self, "int"),
            5 => scalar(self, "long"),
            6 => scalar(self, "float"),
            7 => scalar(self, "double"),
            8 => scalar(self, "dateTime"),
            9 => scalar(self, "base64Binary"),
            10 => scalar(self, "anyURI"),
            11 => declared(self.reference(name).typed("ManagedObjectReference")),
            12 => {
                let e = &ENUMS[(k / 17) % ENUMS.len()];
                declared(self.enum_value(name, e.name).typed(e.name))
            }
            13 => {
                let t = self.data_types[(k / 17) % self.data_types.len()];
                self.next("anyType data object");
                let mut node = declared(Node::leaf(name, "").typed(t));
                self.fields_into(&mut node, t, depth + 1);
                node
            }
            14 => {
                let a = ARRAYS[(k / 17) % ARRAYS.len()].0;
                self.array(name, a, depth)
            }
            15 => {
                self.next("anyType unknown");
                declared(Node::leaf(name, format!("future {k} & text")).typed("FutureScalarType"))
            }
            _ if nil_ok => {
                self.next("anyType nil");
                declared(Node {
                    nil: true,
                    ..Node::leaf(name, "")
                })
            }
            _ => declared(self.string(name).typed("xsd:string")),
        }
    }

    /// The reference tree of a value of type `ty` in a root element `val`.
    fn document(&mut self, ty: &str) -> Node {
        let mut root = Node::leaf("val", "").typed(ty);
        self.fields_into(&mut root, ty, 1);
        root
    }
}

/// Decodes the reference, encodes the result and compares; the differences (at most a few).
fn round_trip(reference: &Node, ty: &str) -> Result<(), String> {
    let mut xml = String::new();
    write_node(&mut xml, reference, true);
    let decoded: Any = decode_document(xml.as_bytes()).map_err(|e| format!("decode: {e}"))?;
    match &decoded {
        Any::Data(d) if d.type_name() == ty && !matches!(d, AnyData::Unknown { .. }) => {}
        other => return Err(format!("decoded as {}", other.type_name())),
    }
    let encoded = encode_document(&decoded, "val");
    let got = parse(&encoded).map_err(|e| format!("re-encoding does not parse: {e}"))?;
    let mut diffs = Vec::new();
    compare(reference, &got, "", &mut diffs);
    if !diffs.is_empty() {
        let n = diffs.len();
        diffs.truncate(4);
        return Err(format!("{n} differences, first: {}", diffs.join("; ")));
    }
    // Encoding what was decoded from an encoding gives the same bytes.
    let again: Any = decode_document(&encoded).map_err(|e| format!("re-decode: {e}"))?;
    if encode_document(&again, "val") != encoded {
        return Err("encoding is not a fixpoint".into());
    }
    Ok(())
}

#[test]
fn every_data_type_round_trips_value_by_value() {
    let mut synth = Synth::new();
    let mut checked = 0;
    let mut failures = Vec::new();
    for t in TYPES {
        if t.name == "ManagedObjectReference" {
            continue;
        }
        let reference = synth.document(t.name);
        match round_trip(&reference, t.name) {
            Ok(()) => checked += 1,
            Err(e) => failures.push(format!("{}: {e}", t.name)),
        }
    }
    let total = failures.len();
    failures.truncate(20);
    assert!(
        failures.is_empty(),
        "{total} of {} types failed, the first {}:\n{}",
        TYPES.len(),
        failures.len(),
        failures.join("\n")
    );
    assert!(checked > 2800, "only {checked} types checked");
    println!("{checked} types; values by kind: {:?}", synth.kinds);
    // The run covered every kind of value (so none was silently left out of the comparison).
    let kinds = &synth.kinds;
    for kind in [
        "string",
        "anyURI",
        "boolean",
        "byte",
        "short",
        "int",
        "long",
        "float",
        "double",
        "dateTime",
        "base64Binary",
        "ManagedObjectReference",
        "enum",
        "ArrayOf",
        "data object",
        "subtype",
        "unknown subtype",
        "anyType",
        "anyType data object",
        "anyType unknown",
        "anyType nil",
    ] {
        assert!(
            kinds.get(kind).copied().unwrap_or(0) >= 2,
            "{kind}: {kinds:?}"
        );
    }
}

#[test]
fn the_comparison_reports_a_changed_text_type_or_element() {
    // The comparison itself: a re-encoding equal to the reference passes, one that differs
    // in a text, a type or an element name is reported where it differs.
    let mut synth = Synth::new();
    let reference = synth.document("UserSession");
    round_trip(&reference, "UserSession").expect("round trip");
    let mut xml = String::new();
    write_node(&mut xml, &reference, true);
    let decoded: Any = decode_document(xml.as_bytes()).unwrap();
    let encoded = String::from_utf8(encode_document(&decoded, "val")).unwrap();
    let diffs_of = |text: &str| {
        let mut diffs = Vec::new();
        compare(&reference, &parse(text.as_bytes()).unwrap(), "", &mut diffs);
        diffs
    };
    assert_eq!(diffs_of(&encoded), Vec::<String>::new());

    let diffs = diffs_of(&encoded.replacen("<key>", "<key>x", 1));
    assert_eq!(diffs.len(), 1, "{diffs:?}");
    assert!(diffs[0].starts_with("/val/key: text: want "), "{diffs:?}");

    let diffs = diffs_of(&encoded.replacen("xsi:type=\"UserSession\"", "xsi:type=\"Other\"", 1));
    assert_eq!(diffs.len(), 1, "{diffs:?}");
    assert!(diffs[0].starts_with("/val: type: want "), "{diffs:?}");

    let renamed =
        encoded
            .replacen("<userName>", "<other>", 1)
            .replacen("</userName>", "</other>", 1);
    let diffs = diffs_of(&renamed);
    assert!(
        diffs
            .iter()
            .any(|d| d.starts_with("/val/userName: element")),
        "{diffs:?}"
    );
}
