//! `driver-vmm install`: the remotes tree, relative links, examples, upgrades in place; and the
//! multi-call dispatch.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const BINARY: &str = env!("CARGO_BIN_EXE_driver-vmm");

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("drv-install-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn install(remotes: &Path, etc: &Path) -> std::process::Output {
    Command::new(BINARY)
        .args(["install", "--remotes"])
        .arg(remotes)
        .arg("--etc")
        .arg(etc)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn installs_relative_links_and_upgrades_in_place() {
    let root = tmp("tree");
    let (remotes, etc) = (root.join("remotes"), root.join("etc"));
    let out = install(&remotes, &etc);
    assert!(out.status.success(), "{out:?}");

    let bin = remotes.join("vmware-native/driver-vmm");
    assert_eq!(std::fs::read(&bin).unwrap(), std::fs::read(BINARY).unwrap());
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(
        std::fs::metadata(&bin).unwrap().permissions().mode() & 0o111,
        0o111
    );
    let mut links = 0;
    for (kind, actions) in [
        ("vmm", &driver_vmm::VMM_ACTIONS[..]),
        ("vnm", &driver_vmm::VNM_ACTIONS[..]),
    ] {
        for a in actions {
            let link = remotes.join(kind).join("vmware").join(a);
            let target = std::fs::read_link(&link).unwrap();
            assert_eq!(
                target,
                Path::new("../../vmware-native/driver-vmm"),
                "{}",
                link.display()
            );
            assert_eq!(
                std::fs::canonicalize(&link).unwrap(),
                std::fs::canonicalize(&bin).unwrap()
            );
            links += 1;
        }
    }
    assert_eq!(links, 19);
    // The example vmwarerc is private and parses.
    let rc = etc.join("vmwarerc");
    assert_eq!(
        std::fs::metadata(&rc).unwrap().permissions().mode() & 0o077,
        0
    );
    let parsed = driver_common::config::VmwareRc::load_from(&rc).unwrap();
    assert_eq!(parsed.username, "oneadmin");
    assert_eq!(parsed.shutdown_timeout, None, "commented out");
    // The documented shutdown timeout is valid once switched on.
    let on = std::fs::read_to_string(&rc)
        .unwrap()
        .replace("#:shutdown_timeout:", ":shutdown_timeout:");
    let parsed = driver_common::config::VmwareRc::parse(&rc, &on).unwrap();
    assert_eq!(
        parsed.shutdown_timeout,
        Some(std::time::Duration::from_secs(300))
    );
    assert!(etc.join("vmm_exec/vmm_exec_vmware.conf").is_file());

    // Operator edits are kept; a damaged tree is repaired; the tree still moves as a whole.
    std::fs::write(&rc, ":username: admin\n").unwrap();
    let deploy = remotes.join("vmm/vmware/deploy");
    std::fs::remove_file(&deploy).unwrap();
    std::fs::write(&deploy, "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::write(&bin, b"old binary").unwrap();
    let out = install(&remotes, &etc);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(std::fs::read_to_string(&rc).unwrap(), ":username: admin\n");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("kept"),
        "{out:?}"
    );
    assert!(std::fs::symlink_metadata(&deploy)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read(&bin).unwrap(), std::fs::read(BINARY).unwrap());
    let moved = root.join("moved");
    std::fs::rename(&remotes, &moved).unwrap();
    assert!(std::fs::canonicalize(moved.join("vnm/vmware/pre")).is_ok());
    // No temporary files left behind.
    let leftovers: Vec<_> = std::fs::read_dir(moved.join("vmware-native"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn install_needs_remotes() {
    let out = Command::new(BINARY)
        .arg("install")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--remotes"));
}

#[test]
fn dispatch_by_first_argument_and_unknown_actions() {
    let root = tmp("dispatch");
    // Through the first argument: poll's own argument check answers (no server needed).
    let out = Command::new(BINARY)
        .args(["vmm/vmware/poll"])
        .env("VMWARERC", root.join("none"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.contains("ERROR: poll: poll: bad arguments"), "{err}");
    assert!(err.contains("ERROR MESSAGE --8<------\n"), "{err}");
    assert!(err.ends_with("ERROR MESSAGE ------>8--\n"), "{err}");
    assert!(out.stdout.is_empty());
    for bad in [
        &["vmm/vmware/launch"][..],
        &[][..],
        &["vnm/vmware/deploy"][..],
    ] {
        let out = Command::new(BINARY)
            .args(bad)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{bad:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("usage: driver-vmm install"));
    }
    let _ = std::fs::remove_dir_all(&root);
}
