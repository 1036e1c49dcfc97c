//! The streaming parser of the deployment file (quick-xml), element by element.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::{
    datavmx::parse_data_vmx, DatastorePath, Deployment, DeploymentError, Disk, DiskDevice,
    DiskType, Interface, RawScsiController, Vnc,
};
use crate::disk_target;

/// The largest deployment file accepted (real ones are a few KiB).
pub const MAX_DEPLOYMENT_BYTES: usize = 1 << 20;
/// The deepest element nesting accepted.
const MAX_DEPTH: usize = 32;
/// The most disks or interfaces accepted (a VM has at most 4 IDE + 60 SCSI slots).
const MAX_DEVICES: usize = 256;

fn err(msg: impl Into<String>) -> DeploymentError {
    DeploymentError(msg.into())
}

/// Text quoted in an error, kept short.
fn quote(s: &str) -> String {
    let mut q: String = s.chars().take(64).collect();
    if q.len() < s.len() {
        q.push('…');
    }
    format!("{q:?}")
}

#[derive(Default)]
struct DiskBuilder {
    kind: Option<String>,
    device: Option<String>,
    source: Option<String>,
    target: Option<String>,
    driver: Option<String>,
    readonly: bool,
}

#[derive(Default)]
struct InterfaceBuilder {
    bridge: Option<String>,
    mac: Option<String>,
    model: Option<String>,
}

#[derive(Default)]
struct State {
    d: Deployment,
    name: Option<String>,
    memory: Option<u64>,
    memory_unit: Option<String>,
    disk: Option<DiskBuilder>,
    iface: Option<InterfaceBuilder>,
    datavmx: Option<String>,
    metadata_text: String,
    /// Depth at which an ignored element started: its children are skipped silently.
    ignored_from: Option<usize>,
}

fn attr(e: &BytesStart<'_>, name: &str, elem: &str) -> Result<Option<String>, DeploymentError> {
    for a in e.attributes() {
        let a = a.map_err(|x| err(format!("<{elem}>: malformed attribute: {x}")))?;
        if a.key.local_name().as_ref() == name.as_bytes() {
            let v = a
                .unescape_value()
                .map_err(|x| err(format!("<{elem} {name}>: {x}")))?;
            return Ok(Some(v.into_owned()));
        }
    }
    Ok(None)
}

/// Parses a deployment file; see the module documentation of [`super`].
pub fn parse(xml: &str) -> Result<Deployment, DeploymentError> {
    if xml.len() > MAX_DEPLOYMENT_BYTES {
        return Err(err(format!(
            "{} bytes, more than the {} accepted",
            xml.len(),
            MAX_DEPLOYMENT_BYTES
        )));
    }
    let mut reader = Reader::from_str(xml);
    reader.config_mut().expand_empty_elements = true;
    let mut stack: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut st = State::default();
    let mut seen_root = false;
    loop {
        let event = reader.read_event().map_err(|e| {
            err(format!(
                "malformed XML at byte {} (inside {}): {e}",
                reader.error_position(),
                path_of(&stack)
            ))
        })?;
        match event {
            Event::Start(e) => {
                let local = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if stack.len() >= MAX_DEPTH {
                    return Err(err(format!(
                        "elements nested deeper than {MAX_DEPTH} levels at <{local}>"
                    )));
                }
                if stack.is_empty() {
                    if seen_root {
                        return Err(err(format!("a second root element <{local}>")));
                    }
                    seen_root = true;
                    if local != "domain" {
                        return Err(err(format!("the root element is <{local}>, not <domain>")));
                    }
                    match attr(&e, "type", "domain")? {
                        Some(t) if t == "vmware" => {}
                        other => st.d.warnings.push(format!(
                            "<domain type={}> is not 'vmware'; used anyway",
                            quote(other.as_deref().unwrap_or(""))
                        )),
                    }
                } else if st.ignored_from.is_none() {
                    start(&mut st, &stack[1..], &local, &e)?;
                    if st.ignored_from == Some(usize::MAX) {
                        st.ignored_from = Some(stack.len());
                    }
                }
                stack.push(local);
                text.clear();
            }
            Event::End(_) => {
                let Some(local) = stack.pop() else {
                    return Err(err("an end tag without a start tag"));
                };
                match st.ignored_from {
                    Some(depth) if stack.len() > depth => {}
                    Some(_) => st.ignored_from = None,
                    None if stack.is_empty() => {}
                    None => end(&mut st, &stack[1..], &local, &text)?,
                }
                text.clear();
            }
            Event::Text(t) => {
                let s = t
                    .unescape()
                    .map_err(|e| err(format!("text inside {}: {e}", path_of(&stack))))?;
                if stack.len() == 2 && stack[1] == "metadata" {
                    st.metadata_text.push_str(&s);
                }
                text.push_str(&s);
            }
            Event::CData(c) => {
                let raw = c.into_inner();
                let s = String::from_utf8_lossy(&raw);
                if stack.len() == 2 && stack[1] == "metadata" {
                    st.metadata_text.push_str(&s);
                }
                text.push_str(&s);
            }
            Event::DocType(_) => {
                return Err(err(
                    "a DOCTYPE declaration is not accepted (no entity definitions)",
                ))
            }
            Event::Eof => break,
            Event::Empty(_) | Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(err(format!("truncated: {} is not closed", path_of(&stack))));
    }
    if !seen_root {
        return Err(err("no <domain> element"));
    }
    finish(st)
}

fn path_of(stack: &[String]) -> String {
    if stack.is_empty() {
        "the document".into()
    } else {
        format!("<{}>", stack.join("><"))
    }
}

/// Marks the element starting now as ignored (with its children).
fn ignore(st: &mut State, warning: Option<String>) {
    if let Some(w) = warning {
        st.d.warnings.push(w);
    }
    st.ignored_from = Some(usize::MAX);
}

fn start(
    st: &mut State,
    parents: &[String],
    local: &str,
    e: &BytesStart<'_>,
) -> Result<(), DeploymentError> {
    let parents: Vec<&str> = parents.iter().map(String::as_str).collect();
    match (parents.as_slice(), local) {
        ([], "memory") => st.memory_unit = attr(e, "unit", "memory")?,
        ([], "name" | "vcpu" | "os" | "devices" | "metadata") => {}
        ([], other) => ignore(st, Some(format!("<domain><{other}> ignored"))),
        (["os"], "type") => {
            if let Some(arch) = attr(e, "arch", "os><type")? {
                st.d.arch = Some(arch);
            }
        }
        (["os"], "boot") => {
            if let Some(dev) = attr(e, "dev", "os><boot")? {
                st.d.boot.push(dev);
            }
        }
        (["os"], other) => ignore(st, Some(format!("<os><{other}> ignored"))),
        (["devices"], "disk") => {
            if st.d.disks.len() >= MAX_DEVICES {
                return Err(err(format!("more than {MAX_DEVICES} <disk> elements")));
            }
            st.disk = Some(DiskBuilder {
                kind: attr(e, "type", "disk")?,
                device: attr(e, "device", "disk")?,
                ..Default::default()
            });
        }
        (["devices"], "interface") => {
            if st.d.interfaces.len() >= MAX_DEVICES {
                return Err(err(format!("more than {MAX_DEVICES} <interface> elements")));
            }
            if let Some(t) = attr(e, "type", "interface")? {
                if t != "bridge" {
                    st.d.warnings.push(format!(
                        "<interface type={}> treated as a bridge",
                        quote(&t)
                    ));
                }
            }
            st.iface = Some(InterfaceBuilder::default());
        }
        (["devices"], "graphics") => graphics(st, e)?,
        (["devices"], "controller") => controller(st, e)?,
        (["devices"], other) => ignore(st, Some(format!("unknown device <{other}> ignored"))),
        (["devices", "disk"], "source") => {
            let disk = st.disk.get_or_insert_with(Default::default);
            disk.source = match attr(e, "file", "disk><source")? {
                Some(f) => Some(f),
                None => attr(e, "dev", "disk><source")?,
            };
        }
        (["devices", "disk"], "target") => {
            st.disk.get_or_insert_with(Default::default).target = attr(e, "dev", "disk><target")?
        }
        (["devices", "disk"], "driver") => {
            st.disk.get_or_insert_with(Default::default).driver = attr(e, "name", "disk><driver")?
        }
        (["devices", "disk"], "readonly") => {
            st.disk.get_or_insert_with(Default::default).readonly = true
        }
        (["devices", "interface"], "source") => {
            st.iface.get_or_insert_with(Default::default).bridge =
                attr(e, "bridge", "interface><source")?
        }
        (["devices", "interface"], "mac") => {
            st.iface.get_or_insert_with(Default::default).mac =
                attr(e, "address", "interface><mac")?
        }
        (["devices", "interface"], "model") => {
            st.iface.get_or_insert_with(Default::default).model =
                attr(e, "type", "interface><model")?
        }
        // <target>, <script> and the like: nothing on ESX.
        (["devices", _], _) => ignore(st, None),
        (["metadata"], "guestos" | "pcibridge" | "datavmx") => {}
        (["metadata"], other) => ignore(st, Some(format!("<metadata><{other}> ignored"))),
        _ => ignore(st, None),
    }
    Ok(())
}

fn graphics(st: &mut State, e: &BytesStart<'_>) -> Result<(), DeploymentError> {
    let kind = attr(e, "type", "graphics")?.unwrap_or_default();
    if kind != "vnc" {
        ignore(
            st,
            Some(format!(
                "<graphics type={}> ignored: only vnc",
                quote(&kind)
            )),
        );
        return Ok(());
    }
    if st.d.vnc.is_some() {
        ignore(st, Some("a second <graphics type='vnc'> ignored".into()));
        return Ok(());
    }
    let port = match attr(e, "port", "graphics")? {
        None => None,
        Some(p) => match p.trim().parse::<i32>() {
            // libvirt's "-1" means "pick one": ESX has no such choice, leave it unset.
            Ok(-1) => None,
            Ok(n) if (1..=65535).contains(&n) => Some(n as u16),
            _ => return Err(err(format!("<graphics port={}>: not a port", quote(&p)))),
        },
    };
    st.d.vnc = Some(Vnc {
        listen: attr(e, "listen", "graphics")?,
        port,
        passwd: attr(e, "passwd", "graphics")?,
        keymap: attr(e, "keymap", "graphics")?,
    });
    ignore(st, None); // <listen> children and the like
    Ok(())
}

fn controller(st: &mut State, e: &BytesStart<'_>) -> Result<(), DeploymentError> {
    let kind = attr(e, "type", "controller")?.unwrap_or_default();
    if kind != "scsi" {
        ignore(
            st,
            Some(format!("<controller type={}> ignored", quote(&kind))),
        );
        return Ok(());
    }
    let index = attr(e, "index", "controller")?.unwrap_or_else(|| "0".into());
    let index: u32 = index
        .trim()
        .parse()
        .ok()
        .filter(|i| *i < disk_target::SCSI_CONTROLLERS)
        .ok_or_else(|| {
            err(format!(
                "<controller type='scsi' index={}>: not 0-3",
                quote(&index)
            ))
        })?;
    let model = attr(e, "model", "controller")?;
    match st.d.scsi_controllers.iter_mut().find(|c| c.index == index) {
        Some(c) => c.model = model,
        None => {
            st.d.scsi_controllers
                .push(RawScsiController { index, model })
        }
    }
    ignore(st, None);
    Ok(())
}

fn end(st: &mut State, parents: &[String], local: &str, text: &str) -> Result<(), DeploymentError> {
    let parents: Vec<&str> = parents.iter().map(String::as_str).collect();
    let text = text.trim();
    match (parents.as_slice(), local) {
        ([], "name") => st.name = Some(text.to_string()),
        ([], "memory") => {
            let n: u64 = text
                .parse()
                .map_err(|_| err(format!("<memory>: {} is not a whole number", quote(text))))?;
            let factor: u64 = match st.memory_unit.as_deref() {
                None | Some("KiB" | "k" | "K") => 1,
                Some("MiB" | "M") => 1024,
                Some("GiB" | "G") => 1024 * 1024,
                Some(u) => return Err(err(format!("<memory unit={}>: unsupported", quote(u)))),
            };
            let kib = n
                .checked_mul(factor)
                .ok_or_else(|| err(format!("<memory>: {} is too large", quote(text))))?;
            st.memory = Some(kib);
        }
        ([], "vcpu") => {
            let n: u32 =
                text.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    err(format!("<vcpu>: {} is not a positive number", quote(text)))
                })?;
            st.d.vcpu = Some(n);
        }
        ([], "metadata") => {
            // 3.8/4.0: DATA_VMX as raw text directly inside <metadata>.
            let raw = std::mem::take(&mut st.metadata_text);
            if !raw.trim().is_empty() {
                let existing = st.datavmx.take().unwrap_or_default();
                st.datavmx = Some(if existing.is_empty() {
                    raw
                } else {
                    format!("{existing}\n{raw}")
                });
            }
        }
        (["devices"], "disk") => {
            let b = st.disk.take().unwrap_or_default();
            let n = st.d.disks.len();
            let Some(disk) = finish_disk(b, n, &mut st.d.warnings)? else {
                return Ok(());
            };
            if let Some(other) = st.d.disks.iter().find(|d| d.target == disk.target) {
                return Err(err(format!(
                    "<disk> {n}: target {} is also used by {} ({})",
                    quote(&disk.target_dev),
                    quote(&other.target_dev),
                    other.source
                )));
            }
            st.d.disks.push(disk);
        }
        (["devices"], "interface") => {
            let b = st.iface.take().unwrap_or_default();
            let n = st.d.interfaces.len();
            let bridge = b
                .bridge
                .filter(|s| !s.trim().is_empty())
                .ok_or_else(|| err(format!("<interface> {n}: no <source bridge='...'>")))?;
            let mac = match b.mac {
                None => None,
                Some(m) => Some(check_mac(&m).ok_or_else(|| {
                    err(format!(
                        "<interface> {n}: <mac address={}> is not a MAC",
                        quote(&m)
                    ))
                })?),
            };
            st.d.interfaces.push(Interface {
                bridge: bridge.trim().to_string(),
                mac,
                model: b
                    .model
                    .map(|m| m.trim().to_string())
                    .filter(|m| !m.is_empty()),
            });
        }
        (["metadata"], "guestos") if !text.is_empty() => st.d.guest_os = Some(text.to_string()),
        (["metadata"], "pcibridge") => {
            let n: u32 =
                text.parse().ok().filter(|n| *n <= 32).ok_or_else(|| {
                    err(format!("<pcibridge>: {} is not a number 0-32", quote(text)))
                })?;
            st.d.pci_bridge = Some(n);
        }
        (["metadata"], "datavmx") => {
            let existing = st.datavmx.take().unwrap_or_default();
            st.datavmx = Some(if existing.is_empty() {
                text.to_string()
            } else {
                format!("{existing}\n{text}")
            });
        }
        _ => {}
    }
    Ok(())
}

fn finish_disk(
    b: DiskBuilder,
    n: usize,
    warnings: &mut Vec<String>,
) -> Result<Option<Disk>, DeploymentError> {
    let target_dev = b
        .target
        .filter(|t| !t.is_empty())
        .ok_or_else(|| err(format!("<disk> {n}: no <target dev='...'>")))?;
    let what = format!("<disk> {n} (target {})", quote(&target_dev));
    let kind = match b.kind.as_deref() {
        None | Some("file") => DiskType::File,
        Some("block") => DiskType::Block,
        Some(t) => {
            return Err(err(format!(
                "{what}: type={} is not file or block",
                quote(t)
            )))
        }
    };
    let device = match b.device.as_deref() {
        None | Some("disk") => DiskDevice::Disk,
        Some("cdrom") => DiskDevice::Cdrom,
        Some(d) => {
            warnings.push(format!(
                "{what}: device={} ignored: only disk and cdrom",
                quote(d)
            ));
            return Ok(None);
        }
    };
    let source = b
        .source
        .ok_or_else(|| err(format!("{what}: no <source file='[ds] path'>")))?;
    let source = DatastorePath::parse(&source).ok_or_else(|| {
        err(format!(
            "{what}: <source file={}> is not a datastore path '[ds] path'",
            quote(&source)
        ))
    })?;
    let target = disk_target::parse(&target_dev).map_err(|e| err(format!("{what}: {e}")))?;
    Ok(Some(Disk {
        kind,
        device,
        source,
        target_dev,
        target,
        driver: b.driver.filter(|d| !d.is_empty()),
        readonly: b.readonly,
        linked: None,
    }))
}

/// A MAC `xx:xx:xx:xx:xx:xx` (hex digits, either case), lower-cased.
fn check_mac(m: &str) -> Option<String> {
    let m = m.trim();
    let parts: Vec<&str> = m.split(':').collect();
    let ok = parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()));
    ok.then(|| m.to_ascii_lowercase())
}

fn finish(mut st: State) -> Result<Deployment, DeploymentError> {
    let name = st.name.take().unwrap_or_default();
    if name.is_empty() {
        return Err(err("no <name>"));
    }
    st.d.name = name;
    st.d.memory_kib = match st.memory {
        None => return Err(err("no <memory> (the VM template defines no MEMORY)")),
        Some(0) => return Err(err("<memory> is 0")),
        Some(m) => m,
    };
    if let Some(raw) = st.datavmx.take() {
        let (pairs, warnings) = parse_data_vmx(&raw);
        st.d.data_vmx = pairs;
        st.d.warnings.extend(warnings);
    }
    Ok(st.d)
}
