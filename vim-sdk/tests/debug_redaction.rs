//! Generated `Debug` never shows a secret: every data object type is built (from XML, through
//! the real decoder) with a distinct marker in every text field at every depth, and its
//! `Debug` output must hold the marker of every field that is not secret and of none that is.

use std::cell::Cell;
use std::collections::HashMap;
use std::fmt::Write;

use vim_sdk::meta::{FieldInfo, TypeInfo, ENUMS, OPERATIONS, TYPES};
use vim_sdk::types::{Any, AnyData};
use vim_sdk::xml::decode_document;

/// Writes a value of a type with markers in its text fields, remembering each marker and
/// whether its field is secret.
struct Synth {
    types: HashMap<&'static str, &'static TypeInfo>,
    enums: HashMap<&'static str, &'static str>,
    subtypes: HashMap<&'static str, &'static str>,
    next: Cell<usize>,
}

/// A marker written into a field: the text, the field (`Type.field`) and whether it is secret.
type Marker = (String, String, bool);

impl Synth {
    fn new() -> Self {
        let mut subtypes = HashMap::new();
        for t in TYPES {
            if let Some(b) = t.base {
                subtypes.entry(b).or_insert(t.name);
            }
        }
        Synth {
            types: TYPES.iter().map(|t| (t.name, t)).collect(),
            enums: ENUMS
                .iter()
                .filter_map(|e| e.values.first().map(|v| (e.name, v.0)))
                .collect(),
            subtypes,
            next: Cell::new(0),
        }
    }

    /// The fields of `ty` with the type declaring each, inherited ones first.
    fn fields(&self, ty: &str) -> Vec<(&'static str, &'static FieldInfo)> {
        let mut chain = Vec::new();
        let mut cur = self.types.get(ty).copied();
        while let Some(t) = cur {
            chain.push(t);
            cur = t.base.and_then(|b| self.types.get(b).copied());
        }
        chain
            .iter()
            .rev()
            .flat_map(|t| t.fields.iter().map(move |f| (t.name, f)))
            .collect()
    }

    fn marker(&self, owner: &str, f: &FieldInfo, out: &mut Vec<Marker>) -> String {
        let n = self.next.get();
        self.next.set(n + 1);
        let text = format!("mk{n}z");
        out.push((text.clone(), format!("{owner}.{}", f.name), f.secret));
        text
    }

    fn value(
        &self,
        xml: &mut String,
        owner: &str,
        f: &FieldInfo,
        depth: usize,
        markers: &mut Vec<Marker>,
    ) {
        let name = f.name;
        let simple = |xml: &mut String, text: &str| {
            let _ = write!(xml, "<{name}>{text}</{name}>");
        };
        match f.ty {
            "xsd:string" => {
                let m = self.marker(owner, f, markers);
                simple(xml, &m)
            }
            "xsd:boolean" => simple(xml, "true"),
            "xsd:byte" | "xsd:short" | "xsd:int" => simple(xml, "-7"),
            "xsd:long" => simple(xml, "1234567890123"),
            "xsd:float" | "xsd:double" => simple(xml, "1.5"),
            "xsd:dateTime" => simple(xml, "2024-01-02T03:04:05Z"),
            "xsd:base64Binary" => simple(xml, "AQID"),
            "xsd:anyURI" => simple(xml, "https://example.invalid/x"),
            "xsd:anyType" => {
                let m = self.marker(owner, f, markers);
                let _ = write!(xml, "<{name} xsi:type=\"xsd:string\">{m}</{name}>");
            }
            "ManagedObjectReference" => {
                let _ = write!(xml, "<{name} type=\"Folder\">group-{depth}</{name}>");
            }
            t if self.enums.contains_key(t) => simple(xml, self.enums[t]),
            t => {
                let concrete = if depth == 1 {
                    self.subtypes.get(t).copied().unwrap_or(t)
                } else {
                    t
                };
                if concrete != t {
                    let _ = write!(xml, "<{name} xsi:type=\"{concrete}\">");
                } else {
                    let _ = write!(xml, "<{name}>");
                }
                if depth < 3 {
                    self.fields_of(xml, concrete, depth + 1, markers);
                }
                let _ = write!(xml, "</{name}>");
            }
        }
    }

    fn fields_of(&self, xml: &mut String, ty: &str, depth: usize, markers: &mut Vec<Marker>) {
        for (owner, f) in self.fields(ty) {
            for _ in 0..if f.array { 2 } else { 1 } {
                self.value(xml, owner, f, depth, markers);
            }
        }
    }

    fn document(&self, ty: &str) -> (String, Vec<Marker>) {
        let mut xml = format!(
            "<val xmlns=\"urn:vim25\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
             xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xsi:type=\"{ty}\">"
        );
        let mut markers = Vec::new();
        self.fields_of(&mut xml, ty, 1, &mut markers);
        xml.push_str("</val>");
        (xml, markers)
    }
}

#[test]
fn debug_of_every_data_type_hides_secret_fields_and_only_those() {
    let synth = Synth::new();
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut secret_markers = 0;
    for t in TYPES {
        if t.name == "ManagedObjectReference" {
            continue;
        }
        let (xml, markers) = synth.document(t.name);
        let value: Any = match decode_document(xml.as_bytes()) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("{}: decode: {e}", t.name));
                continue;
            }
        };
        if !matches!(&value, Any::Data(d) if d.type_name() == t.name && !matches!(d, AnyData::Unknown { .. }))
        {
            failures.push(format!("{}: decoded as {}", t.name, value.type_name()));
            continue;
        }
        let shown = format!("{value:?}");
        for (marker, field, secret) in &markers {
            // Mind the marker's end: `mk1z` is no part of `mk11z`.
            let present = shown.contains(marker.as_str());
            if *secret && present {
                failures.push(format!("{}: secret {field} shown", t.name));
            } else if !*secret && !present {
                failures.push(format!("{}: {field} missing from Debug", t.name));
            }
            secret_markers += usize::from(*secret);
        }
        checked += 1;
    }
    failures.truncate(50);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked > 2800, "only {checked} types checked");
    // Every secret field was set at least once (in its own type), and there are secrets.
    let secret_fields = TYPES
        .iter()
        .flat_map(|t| t.fields.iter())
        .filter(|f| f.secret)
        .count();
    assert!(secret_fields >= 30, "only {secret_fields} secret fields");
    assert!(
        secret_markers >= secret_fields,
        "{secret_markers} secret values written for {secret_fields} secret fields"
    );
}

#[test]
fn the_known_secrets_are_flagged() {
    let field = |ty: &str, name: &str| -> &'static FieldInfo {
        TYPES
            .iter()
            .find(|t| t.name == ty)
            .and_then(|t| t.fields.iter().find(|f| f.name == name))
            .unwrap_or_else(|| panic!("{ty}.{name} is in the model"))
    };
    for (ty, name) in [
        ("UserSession", "key"),
        ("NamePasswordAuthentication", "password"),
        ("HostConnectSpec", "password"),
        ("HostConnectSpec", "vimAccountPassword"),
        ("CustomizationPassword", "value"),
        ("PasswordField", "value"),
        ("SessionManagerGenericServiceTicket", "id"),
        ("HostServiceTicket", "sessionId"),
        ("VirtualMachineTicket", "ticket"),
        ("VirtualMachineMksTicket", "ticket"),
        ("TicketedSessionAuthentication", "ticket"),
        ("SAMLTokenAuthentication", "token"),
        ("HostInternetScsiHbaAuthenticationProperties", "chapSecret"),
        ("CryptoKeyPlain", "keyData"),
    ] {
        assert!(field(ty, name).secret, "{ty}.{name} is secret");
    }
    for (ty, name) in [
        ("UserSession", "userName"),
        ("HostServiceTicket", "sslThumbprint"),
        ("SessionManagerLocalTicket", "passwordFilePath"),
        ("RetrieveResult", "token"),
        ("NamePasswordAuthentication", "username"),
    ] {
        assert!(!field(ty, name).secret, "{ty}.{name} is not secret");
    }
    let login = OPERATIONS
        .iter()
        .find(|o| o.name == "Login")
        .expect("Login");
    for p in login.params {
        assert_eq!(p.secret, p.name == "password", "Login.{}", p.name);
    }
    // Paging cursors are not credentials: they name a position in a result the server holds
    // for one session, useless without that session's (secret) cookie, and the reply that
    // hands them out (`RetrieveResult.token`) shows them anyway.
    for op in [
        "ContinueRetrievePropertiesEx",
        "CancelRetrievePropertiesEx",
        "FetchAuditRecords",
    ] {
        let o = OPERATIONS
            .iter()
            .find(|o| o.name == op)
            .unwrap_or_else(|| panic!("{op} is in the model"));
        let token = o
            .params
            .iter()
            .find(|p| p.name == "token")
            .unwrap_or_else(|| panic!("{op} has a token parameter"));
        assert!(!token.secret, "{op}.token is a paging cursor, not a secret");
    }
}

#[test]
fn a_user_session_shows_its_user_but_not_its_key() {
    let session = vim_sdk::types::UserSession {
        key: "52c3-session-key".into(),
        user_name: "root".into(),
        ..Default::default()
    };
    let shown = format!("{session:?}");
    assert!(shown.contains("key: <redacted>"), "{shown}");
    assert!(shown.contains("user_name: \"root\""), "{shown}");
    assert!(!shown.contains("52c3"), "{shown}");
    let password = vim_sdk::types::CustomizationPassword {
        value: "Adm1n!".into(),
        plain_text: true,
    };
    let spec = vim_sdk::types::CustomizationGuiUnattended {
        password: Some(password),
        ..Default::default()
    };
    let shown = format!("{spec:?}");
    assert!(shown.contains("value: <redacted>"), "{shown}");
    assert!(!shown.contains("Adm1n"), "{shown}");
}
