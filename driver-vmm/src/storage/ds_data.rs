//! `DS_DRIVER_ACTION_DATA`: the base64 XML every datastore action gets (contract §8), with
//! `<IMAGE>` (absent for monitor) and `<DATASTORE>`. Untrusted: size and depth are bounded,
//! every value is checked where it is used.

use std::collections::HashMap;

use quick_xml::events::Event;
use quick_xml::Reader;

use driver_common::{DriverError, Result};

use super::location::{parse_id, plain_name, shown, VOLUMES};

/// Largest document accepted (bytes, decoded).
pub const MAX_LEN: usize = 4 * 1024 * 1024;
const MAX_DEPTH: usize = 32;

/// The `<DATASTORE>` part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatastoreInfo {
    /// `ID`.
    pub id: u64,
    /// `BASE_PATH` (`/vmfs/volumes/<id>`).
    pub base_path: String,
    /// The datastore's name on the ESX hosts: `BASE_PATH`'s last component, which must be
    /// the id (contract §2.3, §12.12).
    pub name: String,
    /// `TEMPLATE/BRIDGE_LIST`: the hosts that do the work.
    pub bridge_list: Vec<String>,
    /// `TEMPLATE/RESTRICTED_DIRS`.
    pub restricted_dirs: Vec<String>,
    /// `TEMPLATE/SAFE_DIRS`.
    pub safe_dirs: Vec<String>,
}

/// The `<IMAGE>` part.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageInfo {
    /// `ID`.
    pub id: Option<u64>,
    /// `SOURCE` (set once registered).
    pub source: String,
    /// `PATH` (what to register, or the source image of a clone).
    pub path: String,
    /// `TYPE` is CDROM (`1` in 4.4, `CDROM` later).
    pub cdrom: bool,
    /// `SIZE` (MB), as given.
    pub size: String,
    /// `FSTYPE` (4.4), else `FORMAT`.
    pub fstype: String,
    /// `TEMPLATE/MD5`.
    pub md5: String,
    /// `TEMPLATE/SHA1`.
    pub sha1: String,
}

/// The whole document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DsData {
    /// The datastore.
    pub datastore: DatastoreInfo,
    /// The image (absent for monitor).
    pub image: Option<ImageInfo>,
}

fn bad(why: impl std::fmt::Display) -> DriverError {
    DriverError::new(format!("bad DS_DRIVER_ACTION_DATA: {why}"))
}

/// The text of every leaf element, by its path below the root (`IMAGE/TEMPLATE/MD5`); the
/// first occurrence wins.
fn leaves(xml: &str) -> Result<HashMap<String, String>> {
    let mut reader = Reader::from_str(xml);
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut out = HashMap::new();
    loop {
        let ev = reader
            .read_event()
            .map_err(|e| bad(format_args!("at byte {}: {e}", reader.buffer_position())))?;
        match ev {
            Event::Start(e) => {
                if path.len() >= MAX_DEPTH {
                    return Err(bad("nested too deeply"));
                }
                path.push(String::from_utf8_lossy(e.local_name().as_ref()).into_owned());
                text.clear();
            }
            Event::Text(t) => {
                let s = t.unescape().map_err(|e| bad(format_args!("{e}")))?;
                text.push_str(&s);
            }
            Event::CData(c) => text.push_str(&String::from_utf8_lossy(&c.into_inner())),
            Event::End(_) => {
                if path.len() > 1 {
                    out.entry(path[1..].join("/"))
                        .or_insert_with(|| text.trim().to_string());
                }
                path.pop();
                text.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !path.is_empty() {
        return Err(bad("unterminated element"));
    }
    Ok(out)
}

/// Splits a blank-separated list (`BRIDGE_LIST`, `RESTRICTED_DIRS`).
fn list(v: Option<&String>) -> Vec<String> {
    v.map(|s| s.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

impl DsData {
    /// Decodes the base64 argument and parses it.
    pub fn from_base64(arg: &str) -> Result<Self> {
        let text = driver_common::base64_arg::decode_text(arg, MAX_LEN).map_err(bad)?;
        Self::from_xml(&text)
    }

    /// Parses the XML (`<DS_DRIVER_ACTION_DATA><IMAGE>…</IMAGE><DATASTORE>…</DATASTORE>…`).
    pub fn from_xml(xml: &str) -> Result<Self> {
        if xml.len() > MAX_LEN {
            return Err(bad("too large"));
        }
        let l = leaves(xml)?;
        let get = |k: &str| l.get(k).map(String::as_str).unwrap_or("");
        let id = parse_id("DATASTORE/ID", get("DATASTORE/ID")).map_err(bad)?;
        let base_path = get("DATASTORE/BASE_PATH").trim_end_matches('/').to_string();
        let name = base_path
            .strip_prefix(VOLUMES)
            .and_then(|r| r.strip_prefix('/'))
            .filter(|n| plain_name(n))
            .ok_or_else(|| {
                bad(format_args!(
                    "DATASTORE/BASE_PATH {} is not {VOLUMES}/<datastore>",
                    shown(&base_path)
                ))
            })?
            .to_string();
        if name != id.to_string() {
            return Err(bad(format_args!(
                "DATASTORE/BASE_PATH {} does not end in the datastore's id {id}: ESX hosts must mount datastore {id} as {VOLUMES}/{id}",
                shown(&base_path)
            )));
        }
        let datastore = DatastoreInfo {
            id,
            base_path,
            name,
            bridge_list: list(l.get("DATASTORE/TEMPLATE/BRIDGE_LIST")),
            restricted_dirs: list(l.get("DATASTORE/TEMPLATE/RESTRICTED_DIRS")),
            safe_dirs: list(l.get("DATASTORE/TEMPLATE/SAFE_DIRS")),
        };
        let has_image = l.keys().any(|k| k.starts_with("IMAGE/"));
        let image = has_image
            .then(|| -> Result<ImageInfo> {
                let ty = get("IMAGE/TYPE");
                Ok(ImageInfo {
                    id: match get("IMAGE/ID") {
                        "" => None,
                        v => Some(parse_id("IMAGE/ID", v).map_err(bad)?),
                    },
                    source: get("IMAGE/SOURCE").to_string(),
                    path: get("IMAGE/PATH").to_string(),
                    cdrom: ty == "1" || ty.eq_ignore_ascii_case("CDROM"),
                    size: get("IMAGE/SIZE").to_string(),
                    fstype: match get("IMAGE/FSTYPE") {
                        "" => get("IMAGE/FORMAT").to_string(),
                        v => v.to_string(),
                    },
                    md5: get("IMAGE/TEMPLATE/MD5").to_string(),
                    sha1: get("IMAGE/TEMPLATE/SHA1").to_string(),
                })
            })
            .transpose()?;
        Ok(DsData { datastore, image })
    }

    /// The image part, which the action needs.
    pub fn image(&self) -> Result<&ImageInfo> {
        self.image.as_ref().ok_or_else(|| bad("no IMAGE element"))
    }

    /// The host that does the work (contract §8): `BRIDGE_LIST[key mod N]`, `key` being the
    /// image id (or the datastore id for monitor). An empty list is an error, as in legacy.
    pub fn bridge(&self, key: u64) -> Result<&str> {
        let l = &self.datastore.bridge_list;
        if l.is_empty() {
            return Err(DriverError::new(format!(
                "Datastore template missing 'BRIDGE_LIST' attribute (datastore {}): it names the ESX host(s) or vCenter-managed host(s) that do the work",
                self.datastore.id
            )));
        }
        let h = &l[(key % l.len() as u64) as usize];
        if !plain_name(h) || h.contains(':') {
            return Err(DriverError::new(format!(
                "BRIDGE_LIST of datastore {} names an unusable host {}",
                self.datastore.id,
                shown(h)
            )));
        }
        Ok(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    const DOC: &str = "<DS_DRIVER_ACTION_DATA><IMAGE><ID>7</ID><SOURCE></SOURCE>\
        <PATH><![CDATA[/tmp/x y]]></PATH><TYPE>1</TYPE><SIZE>100</SIZE><FSTYPE>vmdk_thin</FSTYPE>\
        <TEMPLATE><MD5>abc</MD5></TEMPLATE></IMAGE><DATASTORE><ID>1</ID>\
        <BASE_PATH>/vmfs/volumes/1/</BASE_PATH><TEMPLATE><BRIDGE_LIST>esx1 esx2</BRIDGE_LIST>\
        <RESTRICTED_DIRS>/a /b</RESTRICTED_DIRS><SAFE_DIRS>/a/ok</SAFE_DIRS></TEMPLATE>\
        </DATASTORE></DS_DRIVER_ACTION_DATA>";

    #[test]
    fn reads_image_and_datastore() {
        let b64 = base64::engine::general_purpose::STANDARD.encode(DOC);
        let d = DsData::from_base64(&b64).unwrap();
        assert_eq!(d.datastore.id, 1);
        assert_eq!(d.datastore.name, "1");
        assert_eq!(d.datastore.bridge_list, ["esx1", "esx2"]);
        assert_eq!(d.datastore.restricted_dirs, ["/a", "/b"]);
        assert_eq!(d.datastore.safe_dirs, ["/a/ok"]);
        let i = d.image().unwrap();
        assert_eq!(i.id, Some(7));
        assert_eq!(i.path, "/tmp/x y");
        assert!(i.cdrom);
        assert_eq!((i.size.as_str(), i.fstype.as_str()), ("100", "vmdk_thin"));
        assert_eq!(i.md5, "abc");
        assert_eq!(d.bridge(7).unwrap(), "esx2");
        assert_eq!(d.bridge(8).unwrap(), "esx1");
    }

    #[test]
    fn refuses_bad_documents() {
        assert!(DsData::from_base64("!!!").is_err());
        assert!(DsData::from_xml("<A><DATASTORE><ID>1</ID></DATASTORE>").is_err());
        let wrong_base = DOC.replace("/vmfs/volumes/1/", "/vmfs/volumes/2");
        assert!(DsData::from_xml(&wrong_base).is_err());
        let escape = DOC.replace("/vmfs/volumes/1/", "/vmfs/volumes/..");
        assert!(DsData::from_xml(&escape).is_err());
        let no_bridge = DOC.replace("esx1 esx2", "");
        let d = DsData::from_xml(&no_bridge).unwrap();
        assert!(d.bridge(1).unwrap_err().message().contains("BRIDGE_LIST"));
        let monitor = "<DS_DRIVER_ACTION_DATA><DATASTORE><ID>0</ID><BASE_PATH>/vmfs/volumes/0</BASE_PATH></DATASTORE></DS_DRIVER_ACTION_DATA>";
        let d = DsData::from_xml(monitor).unwrap();
        assert!(d.image.is_none() && d.image().is_err());
    }
}
