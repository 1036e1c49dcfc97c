//! OpenNebula's `<VM>` document: base64 in the network driver's argv (`pre <base64 VM>`),
//! and inside the VMM action data. Only what the drivers use is kept; everything else is
//! skipped. The input is untrusted: malformed XML, bad base64 or numbers out of range are
//! errors, never panics; size and depth are bounded.

use quick_xml::events::Event;
use quick_xml::Reader;

use crate::error::{DriverError, Result};

/// The largest document accepted (OpenNebula's VM documents are a few KB to a few hundred).
pub const MAX_LEN: usize = 16 * 1024 * 1024;
const MAX_DEPTH: usize = 64;

/// OpenNebula's `<VM>` document, the parts the drivers read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OneVm {
    /// `VM/ID`.
    pub id: u64,
    /// `VM/NAME`.
    pub name: Option<String>,
    /// `VM/DEPLOY_ID` (empty → `None`).
    pub deploy_id: Option<String>,
    /// `VM/TEMPLATE/NIC`, in document order.
    pub nics: Vec<Nic>,
    /// `HOSTNAME` of the last `VM/HISTORY_RECORDS/HISTORY` (the current or destination host).
    pub history_hostname: Option<String>,
}

/// One `VM/TEMPLATE/NIC`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Nic {
    /// `NIC_ID`.
    pub nic_id: Option<u64>,
    /// `NETWORK_ID`.
    pub network_id: Option<u64>,
    /// `NETWORK` (the virtual network's name).
    pub network: Option<String>,
    /// `BRIDGE` (the vSwitch in dynamic mode, the port group otherwise).
    pub bridge: Option<String>,
    /// `VLAN=YES`.
    pub vlan: bool,
    /// `VLAN_ID`.
    pub vlan_id: Option<u16>,
    /// `MAC`.
    pub mac: Option<String>,
    /// `MODEL`.
    pub model: Option<String>,
    /// `PHYDEV`.
    pub phydev: Option<String>,
    /// `ATTACH=YES` (the NIC being hot-plugged).
    pub attach: bool,
}

fn bad(what: impl std::fmt::Display) -> DriverError {
    DriverError::new(format!("malformed OpenNebula VM document: {what}"))
}

fn number<T: std::str::FromStr>(field: &str, v: &str) -> Result<T> {
    v.trim().parse().map_err(|_| {
        bad(format_args!(
            "{field} is not a number in range: '{}'",
            v.trim()
        ))
    })
}

fn yes(v: &str) -> bool {
    v.trim().eq_ignore_ascii_case("yes")
}

fn opt(v: &str) -> Option<String> {
    let t = v.trim();
    (!t.is_empty()).then(|| t.to_string())
}

impl OneVm {
    /// Decodes base64 (standard alphabet; line breaks tolerated) and parses the XML.
    pub fn from_base64(s: &str) -> Result<Self> {
        let text = crate::base64_arg::decode_text(s, MAX_LEN).map_err(bad)?;
        Self::from_xml(&text)
    }

    /// Parses the XML of a `<VM>` element (which may also sit inside another document, such as
    /// the VMM driver's action data).
    pub fn from_xml(s: &str) -> Result<Self> {
        if s.len() > MAX_LEN {
            return Err(bad("too large"));
        }
        let mut reader = Reader::from_str(s);
        let mut path: Vec<String> = Vec::new();
        let mut text = String::new();
        let mut vm = OneVm::default();
        let mut seen_vm = false;
        let mut seen_id = false;
        let mut nic: Option<Nic> = None;
        let mut history_host: Option<String> = None;
        // Index of the `VM` element in `path` (the document may wrap it).
        let mut vm_at: Option<usize> = None;
        loop {
            let ev = reader
                .read_event()
                .map_err(|e| bad(format_args!("at byte {}: {e}", reader.buffer_position())))?;
            match ev {
                Event::Start(e) => {
                    let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                    if path.len() >= MAX_DEPTH {
                        return Err(bad("nested too deeply"));
                    }
                    if vm_at.is_none() && name == "VM" {
                        if seen_vm {
                            return Err(bad("more than one VM element"));
                        }
                        seen_vm = true;
                        vm_at = Some(path.len());
                    }
                    path.push(name);
                    text.clear();
                    if let Some(at) = vm_at {
                        let rel: Vec<&str> = path[at..].iter().map(String::as_str).collect();
                        match rel.as_slice() {
                            ["VM", "TEMPLATE", "NIC"] => nic = Some(Nic::default()),
                            ["VM", "HISTORY_RECORDS", "HISTORY"] => history_host = None,
                            _ => {}
                        }
                    }
                }
                Event::Empty(e) => {
                    // An empty element carries no value; only an empty NIC matters.
                    if let Some(at) = vm_at {
                        let name = e.local_name();
                        let rel: Vec<&str> = path[at..].iter().map(String::as_str).collect();
                        if rel == ["VM", "TEMPLATE"] && name.as_ref() == b"NIC" {
                            vm.nics.push(Nic::default());
                        }
                    } else if e.local_name().as_ref() == b"VM" {
                        return Err(bad("empty VM element"));
                    }
                }
                Event::Text(t) => {
                    let v = t.unescape().map_err(bad)?;
                    text.push_str(&v);
                }
                Event::CData(c) => {
                    text.push_str(&String::from_utf8_lossy(&c.into_inner()));
                }
                Event::End(_) => {
                    if let Some(at) = vm_at {
                        let rel: Vec<&str> = path[at..].iter().map(String::as_str).collect();
                        match rel.as_slice() {
                            ["VM", "ID"] => {
                                vm.id = number("VM/ID", &text)?;
                                seen_id = true;
                            }
                            ["VM", "NAME"] => vm.name = opt(&text),
                            ["VM", "DEPLOY_ID"] => vm.deploy_id = opt(&text),
                            ["VM", "TEMPLATE", "NIC"] => {
                                if let Some(n) = nic.take() {
                                    vm.nics.push(n);
                                }
                            }
                            ["VM", "TEMPLATE", "NIC", field] => {
                                if let Some(n) = nic.as_mut() {
                                    match *field {
                                        "NIC_ID" => n.nic_id = Some(number("NIC/NIC_ID", &text)?),
                                        "NETWORK_ID" => {
                                            n.network_id = Some(number("NIC/NETWORK_ID", &text)?)
                                        }
                                        "NETWORK" => n.network = opt(&text),
                                        "BRIDGE" => n.bridge = opt(&text),
                                        "VLAN" => n.vlan = yes(&text),
                                        "VLAN_ID" => {
                                            n.vlan_id = match opt(&text) {
                                                Some(v) => Some(number("NIC/VLAN_ID", &v)?),
                                                None => None,
                                            }
                                        }
                                        "MAC" => n.mac = opt(&text),
                                        "MODEL" => n.model = opt(&text),
                                        "PHYDEV" => n.phydev = opt(&text),
                                        "ATTACH" => n.attach = yes(&text),
                                        _ => {}
                                    }
                                }
                            }
                            ["VM", "HISTORY_RECORDS", "HISTORY", "HOSTNAME"] => {
                                history_host = opt(&text);
                            }
                            ["VM", "HISTORY_RECORDS", "HISTORY"] if history_host.is_some() => {
                                vm.history_hostname = history_host.take();
                            }
                            ["VM"] => vm_at = None,
                            _ => {}
                        }
                    }
                    path.pop();
                    text.clear();
                }
                Event::Eof => break,
                _ => {}
            }
        }
        if !seen_vm {
            return Err(bad("no VM element"));
        }
        if !seen_id {
            return Err(bad("no VM/ID"));
        }
        Ok(vm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    const DOC: &str = r#"<VM><ID>42</ID><NAME>web</NAME><DEPLOY_ID/>
<TEMPLATE><NIC><BRIDGE><![CDATA[vSwitch0]]></BRIDGE><MAC>02:00:0a:00:00:01</MAC><NETWORK_ID>3</NETWORK_ID><VLAN>YES</VLAN><NIC_ID>0</NIC_ID></NIC>
<NIC><BRIDGE>vSwitch1</BRIDGE><NETWORK_ID>10</NETWORK_ID><VLAN>NO</VLAN><VLAN_ID>77</VLAN_ID><MODEL>vmxnet3</MODEL><ATTACH>YES</ATTACH></NIC></TEMPLATE>
<HISTORY_RECORDS><HISTORY><HOSTNAME>esx1</HOSTNAME></HISTORY><HISTORY><HOSTNAME>esx2</HOSTNAME></HISTORY></HISTORY_RECORDS></VM>"#;

    #[test]
    fn parses_nics_and_last_history() {
        let vm = OneVm::from_xml(DOC).unwrap();
        assert_eq!(vm.id, 42);
        assert_eq!(vm.name.as_deref(), Some("web"));
        assert_eq!(vm.deploy_id, None);
        assert_eq!(vm.history_hostname.as_deref(), Some("esx2"));
        assert_eq!(vm.nics.len(), 2);
        assert_eq!(vm.nics[0].bridge.as_deref(), Some("vSwitch0"));
        assert!(vm.nics[0].vlan);
        assert_eq!(vm.nics[0].network_id, Some(3));
        assert_eq!(vm.nics[0].nic_id, Some(0));
        assert_eq!(vm.nics[1].vlan_id, Some(77));
        assert!(!vm.nics[1].vlan);
        assert!(vm.nics[1].attach);
        assert_eq!(vm.nics[1].model.as_deref(), Some("vmxnet3"));
        let b64 = base64::engine::general_purpose::STANDARD.encode(DOC);
        assert_eq!(OneVm::from_base64(&b64).unwrap(), vm);
        // Wrapped in the VMM action data.
        let wrapped =
            format!("<VMM_DRIVER_ACTION_DATA><HOST>x</HOST>{DOC}</VMM_DRIVER_ACTION_DATA>");
        assert_eq!(OneVm::from_xml(&wrapped).unwrap(), vm);
    }

    #[test]
    fn hostile_input_is_an_error() {
        for bad in [
            "",
            "<VM>",
            "<VM><ID>x</ID></VM>",
            "<VM><NAME>a</NAME></VM>",
            "<VM><ID>1</ID><TEMPLATE><NIC><VLAN_ID>70000</VLAN_ID></NIC></TEMPLATE></VM>",
            "<VM><ID>1</ID></VM><VM><ID>2</ID></VM>",
            "<X/>",
        ] {
            assert!(OneVm::from_xml(bad).is_err(), "{bad}");
        }
        assert!(OneVm::from_base64("!!!").is_err());
        assert!(OneVm::from_base64(
            &base64::engine::general_purpose::STANDARD.encode([0xff, 0xfe])
        )
        .is_err());
        let deep = "<a>".repeat(100);
        assert!(OneVm::from_xml(&deep).is_err());
    }
}
