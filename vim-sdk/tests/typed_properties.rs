//! Managed object properties decoded straight into the generated typed property sets.

use vim_sdk::managed::{decode_object_content, TypedObject};
use vim_sdk::mo::{HostSystemProperties, VirtualMachineProperties};
use vim_sdk::soap::{enter_body, BodyContent};
use vim_sdk::types::{Any, AnyVirtualDevice, VirtualMachinePowerState};
use vim_sdk::xml::{DecodeError, XmlReader};

fn objects<P: vim_sdk::managed::PropertySet>(
    file: &str,
) -> Result<Vec<TypedObject<P>>, DecodeError> {
    let path = format!("{}/tests/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
    let body = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut r = XmlReader::from_slice(&body);
    assert!(matches!(enter_body(&mut r)?, BodyContent::Response));
    let mut out = Vec::new();
    while r.enter_child()? {
        // returnval
        while r.enter_child()? {
            if r.current_name() == b"objects" {
                out.push(decode_object_content::<P>(&mut r)?);
            } else {
                r.skip()?;
            }
        }
    }
    Ok(out)
}

#[test]
fn virtual_machine_properties_are_typed() {
    let vms =
        objects::<VirtualMachineProperties>("vcsim/esx-retrieve-vm-all.xml").expect("decodes");
    assert_eq!(vms.len(), 2);
    for vm in &vms {
        let p = &vm.props;
        // `name` is inherited from ManagedEntity, reached through Deref.
        let name = p.name.as_deref().expect("name");
        let config = p.config.as_ref().expect("config");
        assert_eq!(config.name, name);
        assert!(config
            .hardware
            .device
            .iter()
            .any(|d| matches!(d, AnyVirtualDevice::VirtualDisk(_))));
        let runtime = p.runtime.as_ref().expect("runtime");
        assert_eq!(runtime.power_state, VirtualMachinePowerState::PoweredOn);
        assert!(p.guest.is_some() && p.summary.is_some());
        assert!(p.snapshot.is_none(), "not retrieved");
        assert!(vm.other.is_empty() && vm.missing.is_empty());
    }
}

#[test]
fn host_properties_follow_references_and_keep_nested_paths() {
    let hosts = objects::<HostSystemProperties>("vcsim/vpx-retrieve-host.xml").expect("decodes");
    assert!(!hosts.is_empty());
    for h in &hosts {
        let ds = h.props.datastore.as_ref().expect("datastore");
        assert!(!ds.is_empty());
        assert!(
            ds.iter().all(|d| d.r#type == "Datastore"),
            "typed mo::Datastore handles"
        );
        assert!(h.props.vm.is_some());
        // `config.product` is a nested path: kept as an untyped value.
        let product = h
            .other
            .iter()
            .find(|p| p.name == "config.product")
            .expect("config.product");
        assert!(matches!(&product.val, Any::Data(_)));
    }
}

/// The `TaskInfo.result` of a task, decoded as the `anyType` it is on the wire.
fn task_result(result: &str) -> Any {
    let xml = format!(
        r#"<info xmlns="urn:vim25" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">{result}</info>"#
    );
    let info: vim_sdk::types::TaskInfo =
        vim_sdk::xml::decode_document(xml.as_bytes()).expect("decode TaskInfo");
    info.result.expect("a result")
}

#[test]
fn task_results_convert_to_their_declared_types() {
    use vim_sdk::types::{AnyDVSConfigSpec, FromAny, HostDatastoreBrowserSearchResults};

    // Declared `DVSConfigSpec` (a base type): the subtype the server sent is kept.
    let spec = task_result(r#"<result xsi:type="VMwareDVSConfigSpec"><name>dvs1</name></result>"#);
    match AnyDVSConfigSpec::from_any(spec) {
        Ok(AnyDVSConfigSpec::VMwareDVSConfigSpec(s)) => {
            assert_eq!(s.base.name.as_deref(), Some("dvs1"))
        }
        other => panic!("expected a VMwareDVSConfigSpec, got {other:?}"),
    }

    // Declared `HostDatastoreBrowserSearchResults[]`.
    let array = task_result(
        r#"<result xsi:type="ArrayOfHostDatastoreBrowserSearchResults"><HostDatastoreBrowserSearchResults><folderPath>[ds] a</folderPath></HostDatastoreBrowserSearchResults><HostDatastoreBrowserSearchResults><folderPath>[ds] b</folderPath></HostDatastoreBrowserSearchResults></result>"#,
    );
    let all = Vec::<HostDatastoreBrowserSearchResults>::from_any(array).expect("array");
    let paths: Vec<_> = all.iter().map(|r| r.folder_path.as_deref()).collect();
    assert_eq!(paths, [Some("[ds] a"), Some("[ds] b")]);

    // Something else is handed back unchanged.
    let other = task_result(
        r#"<result xsi:type="xsd:string" xmlns:xsd="http://www.w3.org/2001/XMLSchema">x</result>"#,
    );
    match HostDatastoreBrowserSearchResults::from_any(other) {
        Err(Any::String(s)) => assert_eq!(s, "x"),
        other => panic!("expected the string back, got {other:?}"),
    }
    let unrelated = task_result(r#"<result xsi:type="HostDatastoreBrowserSearchResults"/>"#);
    assert!(AnyDVSConfigSpec::from_any(unrelated).is_err());
}
