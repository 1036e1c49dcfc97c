//! The in-place readers of data-object fields (`req_obj`, `opt_obj`, `push_obj`, `boxed`):
//! nested values, `xsi:nil`, repeated elements and the cost budget.

use super::{decode_document, DecodeErrorKind, Limits, XmlReader};
use crate::types::{AnswerFileStatusError, Any, HostNatServiceSpec};

const XSI: &str = r#"xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema""#;

fn doc(body: &str) -> String {
    format!("<v {XSI}>{body}</v>")
}

#[test]
fn required_objects_are_read_with_their_nested_values() {
    let xml = doc(
        "<userInputPath><profilePath>net</profilePath><policyId>p1</policyId></userInputPath>\
         <errMsg><key>k</key><arg><key>n</key><value xsi:type=\"xsd:int\">7</value></arg>\
         <message>m</message></errMsg>",
    );
    let v: AnswerFileStatusError = decode_document(xml.as_bytes()).expect("decodes");
    assert_eq!(v.user_input_path.profile_path, "net");
    assert_eq!(v.user_input_path.policy_id.as_deref(), Some("p1"));
    assert_eq!(v.err_msg.key, "k");
    assert_eq!(v.err_msg.message.as_deref(), Some("m"));
    assert_eq!(v.err_msg.arg.len(), 1);
    assert_eq!(v.err_msg.arg[0].key, "n");
    assert!(matches!(v.err_msg.arg[0].value, Any::Int(7)));
}

#[test]
fn a_nil_required_object_stays_default_and_a_repeated_one_is_read_into_the_same_value() {
    let xml = doc("<errMsg xsi:nil=\"true\"/>\
         <userInputPath><profilePath>a</profilePath></userInputPath>\
         <userInputPath><policyId>p</policyId></userInputPath>");
    let v: AnswerFileStatusError = decode_document(xml.as_bytes()).expect("decodes");
    assert_eq!(v.err_msg.key, "");
    assert!(v.err_msg.message.is_none());
    assert_eq!(v.user_input_path.profile_path, "a");
    assert_eq!(v.user_input_path.policy_id.as_deref(), Some("p"));
}

#[test]
fn optional_objects_and_array_items_are_read_in_place_and_nil_drops_them() {
    let item = |port: u16| {
        format!("<portForward><type>tcp</type><name>n{port}</name><hostPort>{port}</hostPort></portForward>")
    };
    let xml = doc(&format!(
        "<virtualSwitch>vs</virtualSwitch>{}<portForward xsi:nil=\"true\"/>{}\
         <nameService><dnsRetries>3</dnsRetries></nameService>",
        item(80),
        item(443)
    ));
    let v: HostNatServiceSpec = decode_document(xml.as_bytes()).expect("decodes");
    assert_eq!(v.virtual_switch, "vs");
    let ports: Vec<_> = v
        .port_forward
        .iter()
        .map(|p| (p.name.as_str(), p.host_port))
        .collect();
    assert_eq!(ports, [("n80", 80), ("n443", 443)]);
    assert_eq!(v.name_service.as_ref().map(|n| n.dns_retries), Some(3));

    // A later `xsi:nil` clears an optional object read before it; a later value replaces it.
    let nil_last =
        doc("<nameService><dnsRetries>3</dnsRetries></nameService><nameService xsi:nil=\"true\"/>");
    let v: HostNatServiceSpec = decode_document(nil_last.as_bytes()).expect("decodes");
    assert!(v.name_service.is_none());
    let twice = doc("<nameService><dnsRetries>3</dnsRetries></nameService><nameService><dnsTimeout>9</dnsTimeout></nameService>");
    let v: HostNatServiceSpec = decode_document(twice.as_bytes()).expect("decodes");
    let ns = v.name_service.expect("second value");
    assert_eq!((ns.dns_retries, ns.dns_timeout), (0, 9));
}

#[test]
fn objects_read_in_place_are_charged_to_the_cost_budget() {
    // Each item costs its in-memory size twice (slot, object): with no allowance per byte
    // and a small floor, a few hundred empty items exceed the budget.
    let items = "<portForward/>".repeat(400);
    let xml = doc(&items);
    let limits = Limits {
        cost_per_byte: 0,
        cost_floor: 4096,
        ..Limits::default()
    };
    let mut r = XmlReader::from_slice(xml.as_bytes()).with_limits(limits);
    r.enter_root().expect("root");
    let err = <HostNatServiceSpec as super::Decode>::decode(&mut r).expect_err("over budget");
    assert!(
        matches!(err.kind, DecodeErrorKind::TooCostly { .. }),
        "{:?}",
        err.kind
    );
}
