//! Set-up the storage tests share (`tests/storage.rs`, `tests/persistent.rs`,
//! `tests/storage_url.rs`): images made through the simulator, runs of the TM and datastore
//! actions with OpenNebula's argument shapes, user folders of `.vmdk` files and tarballs on
//! the front-end, and a loopback HTTP server of image files.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use base64::Engine as _;
use vim_sdk::mo;
use vim_sdk::session::Session;

use super::{sdk, OneEnv, Run};

/// Makes the disk image `[<ds>] <name>/disk.vmdk` (+ `disk-flat.vmdk`, thin, 1 MB) through
/// the simulator, as a registered image is laid out.
pub async fn make_image(s: &Session, env: &OneEnv, ds: &str, name: &str) {
    let dc = sdk::datacenter(s, env).await;
    let fm = mo::FileManager::from_ref(s.content().file_manager.clone().expect("FileManager"));
    fm.make_directory(
        s,
        &format!("[{ds}] {name}"),
        Some(dc.reference()),
        Some(true),
    )
    .await
    .expect("MakeDirectory");
    let vdm = mo::VirtualDiskManager::from_ref(
        s.content()
            .virtual_disk_manager
            .clone()
            .expect("VirtualDiskManager"),
    );
    let spec = driver_vmm::storage::site::disk_spec(1, "thin");
    vdm.create_virtual_disk_task(
        s,
        &format!("[{ds}] {name}/disk.vmdk"),
        Some(dc.reference()),
        &spec,
    )
    .await
    .expect("CreateVirtualDisk_Task")
    .wait(s)
    .await
    .expect("create image disk");
}

/// Runs a TM action.
pub fn tm(env: &OneEnv, action: &str, args: &[&str]) -> Run {
    env.run(&format!("tm/vmfs/{action}"), args)
}

/// `host:path`.
pub fn hp(host: &str, path: &str) -> String {
    format!("{host}:{path}")
}

/// The base64 `DS_DRIVER_ACTION_DATA` of datastore `ds` with `bridge` and `image` (inner XML
/// of `<IMAGE>`, or `None` for monitor), plus extra datastore template XML.
pub fn ds_data(ds: u64, bridge: &str, image: Option<&str>, extra_template: &str) -> String {
    let img = image
        .map(|i| format!("<IMAGE>{i}</IMAGE>"))
        .unwrap_or_default();
    let xml = format!(
        "<DS_DRIVER_ACTION_DATA>{img}<DATASTORE><ID>{ds}</ID><NAME>ds{ds}</NAME>\
         <BASE_PATH>/vmfs/volumes/{ds}</BASE_PATH><TEMPLATE><BRIDGE_LIST><![CDATA[{bridge}]]></BRIDGE_LIST>\
         {extra_template}</TEMPLATE></DATASTORE></DS_DRIVER_ACTION_DATA>"
    );
    base64::engine::general_purpose::STANDARD.encode(xml)
}

/// Runs a datastore action with `data` and `id`.
pub fn ds(env: &OneEnv, action: &str, data: &str, id: &str) -> Run {
    env.run(&format!("datastore/vmfs/{action}"), &[data, id])
}

/// The new image's name from a `/vmfs/volumes/<ds>/<name>` SOURCE line.
pub fn new_name(run: &Run, ds: &str) -> String {
    let out = run.stdout.trim();
    let name = out
        .strip_prefix(&format!("/vmfs/volumes/{ds}/"))
        .unwrap_or_else(|| panic!("stdout is not a SOURCE in datastore {ds}:\n{run}"));
    assert_eq!(name.len(), 32, "{run}");
    assert!(name.bytes().all(|b| b.is_ascii_hexdigit()), "{run}");
    name.to_string()
}

/// A folder as a user registers it: descriptor `name.vmdk` and its extent `name-flat.vmdk`.
pub fn user_folder(dir: &Path, name: &str, create_type: &str, extent: &[u8]) {
    std::fs::create_dir_all(dir).expect("mkdir");
    std::fs::write(
        dir.join(format!("{name}.vmdk")),
        format!(
            "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"{create_type}\"\n\n# Extent description\nRW 2048 VMFS \"{name}-flat.vmdk\"\n\nddb.adapterType = \"lsilogic\"\n"
        ),
    )
    .expect("descriptor");
    std::fs::write(dir.join(format!("{name}-flat.vmdk")), extent).expect("extent");
}

/// The names in `dir` with their content, to show a folder was left as it was.
pub fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| {
            let e = e.expect("entry");
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap_or_default(),
            )
        })
        .collect();
    v.sort();
    v
}

/// `tar -C <parent> -czf <out> <folder>` (GNU tar).
pub fn targz(parent: &Path, folder: &str, out: &Path) {
    let st = std::process::Command::new("tar")
        .arg("-C")
        .arg(parent)
        .arg("-czf")
        .arg(out)
        .arg(folder)
        .status()
        .expect("tar must be installed");
    assert!(st.success());
}

/// A file the loopback HTTP server serves.
#[derive(Clone)]
pub struct Served {
    /// The request path (`/images/cd.iso`).
    pub path: String,
    /// The body.
    pub body: Vec<u8>,
    /// Whether the reply carries `Content-Length` (else the body ends with the connection).
    pub length: bool,
    /// Send only this many bytes of the body, then close (a transfer cut off midway).
    pub cut_at: Option<usize>,
    /// Answer `302 Found` with this `Location` instead of the body.
    pub redirect: Option<String>,
}

impl Served {
    /// A whole file with its `Content-Length`.
    pub fn file(path: &str, body: Vec<u8>) -> Served {
        Served {
            path: path.into(),
            body,
            length: true,
            cut_at: None,
            redirect: None,
        }
    }

    /// A `302 Found` at `path` pointing to `location`.
    pub fn redirect(path: &str, location: &str) -> Served {
        Served {
            redirect: Some(location.into()),
            ..Served::file(path, Vec::new())
        }
    }
}

/// A minimal HTTP/1.1 server on 127.0.0.1 serving `files` (404 for anything else), one
/// request per connection; counts the requests. Lives as long as the test's runtime.
pub struct FileServer {
    /// Its address.
    pub addr: std::net::SocketAddr,
    /// Requests answered so far.
    pub requests: Arc<AtomicUsize>,
    /// The heads of the requests received, in order.
    pub heads: Arc<std::sync::Mutex<Vec<String>>>,
}

impl FileServer {
    /// Starts the server.
    pub async fn start(files: Vec<Served>) -> FileServer {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let requests = Arc::new(AtomicUsize::new(0));
        let count = requests.clone();
        let heads = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = heads.clone();
        let files = Arc::new(files);
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let files = files.clone();
                let count = count.clone();
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match sock.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                        if head.len() > 64 * 1024 {
                            return;
                        }
                    }
                    count.fetch_add(1, Ordering::SeqCst);
                    let text = String::from_utf8_lossy(&head).into_owned();
                    seen.lock().expect("heads").push(text.clone());
                    let target = text.split_whitespace().nth(1).unwrap_or("").to_string();
                    let path = target.split('?').next().unwrap_or("").to_string();
                    let Some(f) = files.iter().find(|f| f.path == path) else {
                        let _ = sock
                            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                            .await;
                        return;
                    };
                    if let Some(location) = &f.redirect {
                        let reply = format!("HTTP/1.1 302 Found\r\nLocation: {location}\r\nSet-Cookie: track=1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                        let _ = sock.write_all(reply.as_bytes()).await;
                        return;
                    }
                    let mut reply = String::from("HTTP/1.1 200 OK\r\nConnection: close\r\n");
                    if f.length {
                        reply.push_str(&format!("Content-Length: {}\r\n", f.body.len()));
                    }
                    reply.push_str("\r\n");
                    let end = f.cut_at.unwrap_or(f.body.len()).min(f.body.len());
                    if sock.write_all(reply.as_bytes()).await.is_ok() {
                        let _ = sock.write_all(&f.body[..end]).await;
                    }
                    let _ = sock.shutdown().await;
                });
            }
        });
        FileServer {
            addr,
            requests,
            heads,
        }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}
