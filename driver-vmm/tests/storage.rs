//! The storage drivers (`tm/vmfs`, `datastore/vmfs`) through the installed tree, as
//! OpenNebula runs them, against the simulator: every effect read back independently (the
//! datastore browser through a separate vim-sdk session, the simulator's datastore folder on
//! disk for the content of a link record), every failure checked for its exit code, error
//! block and the absence of side effects.
//!
//! vcsim 0.24 ignores a disk's capacity and type (its disks are empty files), so the
//! `CreateVirtualDisk_Task` each format sends is checked against the loopback SOAP fixture at
//! the end.
#![cfg(feature = "vcsim")]

mod soap_fixture;
mod support;

use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine as _;
use support::storage::{ds, ds_data, hp, make_image, new_name, snapshot, targz, tm, user_folder};
use support::{sdk, OneEnv};
use vim_sdk::mo;
use vim_sdk::session::Session;

/// Puts an ISO file `<name>` in the root of datastore `ds` (through the simulator's folder).
async fn make_iso(s: &Session, ds: &str, name: &str, bytes: &[u8]) -> PathBuf {
    let p = sdk::datastore_dir(s, ds).await.join(name);
    std::fs::write(&p, bytes).expect("write iso");
    p
}

/// The files of `folder` of `ds`, as the datastore browser lists them.
async fn files(s: &Session, ds: &str, folder: &str) -> Vec<String> {
    sdk::datastore_files(s, ds, folder).await
}

#[tokio::test]
async fn install_lays_out_every_storage_action_and_unbuilt_ones_fail_clearly() {
    let env = OneEnv::vcenter().await;
    for a in [
        "clone",
        "ln",
        "mkimage",
        "mkswap",
        "mvds",
        "cpds",
        "delete",
        "context",
        "mv",
        "premigrate",
        "postmigrate",
    ] {
        let link = env.remotes.join("tm/vmfs").join(a);
        let target = std::fs::read_link(&link).unwrap_or_else(|e| panic!("{link:?}: {e}"));
        assert_eq!(target, PathBuf::from("../../vmware-native/driver-vmm"));
    }
    for a in ["cp", "mkfs", "rm", "stat", "clone", "monitor"] {
        let link = env.remotes.join("datastore/vmfs").join(a);
        assert!(std::fs::read_link(&link).is_ok(), "{link:?}");
    }
    // Re-running install upgrades in place.
    env.install();
    let h = env.host(0);
    let dst = hp(h, "/vmfs/volumes/0/5/disk.0");
    tm(
        &env,
        "context",
        &["http://127.0.0.1:9/init.sh", &dst, "5", "0"],
    )
    .assert_failed(&["cannot download \"http://127.0.0.1:9/init.sh\""]);
    let data = ds_data(
        1,
        h,
        Some("<ID>3</ID><PATH>http://127.0.0.1:9/x.img</PATH>"),
        "",
    );
    ds(&env, "cp", &data, "3").assert_failed(&["cannot be registered on a vmfs datastore"]);
    // Nothing was made by any of them.
    let s = env.sdk().await;
    assert!(files(&s, "0", "5").await.is_empty());
}

#[tokio::test]
async fn mkimage_makes_each_format_and_refuses_what_it_cannot_make() {
    let env = OneEnv::vcenter().await;
    let s = env.sdk().await;
    let h = env.host(1);
    for (n, fmt) in ["vmdk_thin", "vmdk_zeroedthick", "vmdk_eagerzeroedthick"]
        .iter()
        .enumerate()
    {
        let dst = hp(h, &format!("/vmfs/volumes/0/50/disk.{n}"));
        let n_s = n.to_string();
        let r = tm(&env, "mkimage", &["64", fmt, &dst, "50", "0"]);
        r.assert_silent_ok("created");
        assert!(r.stderr.contains(&format!("disk.{n_s}/disk.vmdk")), "{r}");
        assert_eq!(
            files(&s, "0", &format!("50/disk.{n}")).await,
            ["disk-flat.vmdk", "disk.vmdk"],
            "{fmt}"
        );
    }
    // Again over an existing disk (OpenNebula retries): replaced, still one disk.
    let dst0 = hp(h, "/vmfs/volumes/0/50/disk.0");
    tm(&env, "mkimage", &["64", "vmdk_thin", &dst0, "50", "0"]).assert_ok();
    assert_eq!(
        files(&s, "0", "50/disk.0").await,
        ["disk-flat.vmdk", "disk.vmdk"]
    );
    // raw: the folder only.
    let dst3 = hp(h, "/vmfs/volumes/0/50/disk.3");
    tm(&env, "mkimage", &["64", "raw", &dst3, "50", "0"]).assert_silent_ok("folder only");
    assert!(files(&s, "0", "50").await.contains(&"disk.3".to_string()));
    assert!(files(&s, "0", "50/disk.3").await.is_empty());
    // mkswap: a blank thin disk.
    let dst6 = hp(h, "/vmfs/volumes/0/50/disk.6");
    tm(&env, "mkswap", &["16", &dst6, "50", "0"]).assert_silent_ok("thin");
    assert_eq!(
        files(&s, "0", "50/disk.6").await,
        ["disk-flat.vmdk", "disk.vmdk"]
    );

    let before = files(&s, "0", "50").await;
    let dst4 = hp(h, "/vmfs/volumes/0/50/disk.4");
    for (args, needles) in [
        (
            vec!["64", "ext3", dst4.as_str(), "50", "0"],
            vec!["ext3", "cannot be made on a VMFS datastore"],
        ),
        (
            vec!["0", "vmdk_thin", dst4.as_str(), "50", "0"],
            vec!["size"],
        ),
        (
            vec!["x", "vmdk_thin", dst4.as_str(), "50", "0"],
            vec!["size"],
        ),
        (
            vec!["64", "vmdk_thin", dst4.as_str(), "51", "0"],
            vec!["not VM 51's"],
        ),
        (
            vec!["64", "vmdk_thin", dst4.as_str(), "50", "1"],
            vec!["not on datastore 1"],
        ),
        (
            vec![
                "64",
                "vmdk_thin",
                "esx:/vmfs/volumes/0/50/../../1/x",
                "50",
                "0",
            ],
            vec!["'.' and '..' are not allowed"],
        ),
        (
            vec!["64", "vmdk_thin", "/vmfs/volumes/0/50/disk.4", "50", "0"],
            vec!["not <host>:<path>"],
        ),
        (
            vec!["64", "vmdk_thin", dst4.as_str(), "50"],
            vec!["bad arguments"],
        ),
    ] {
        tm(&env, "mkimage", &args).assert_failed(&needles);
    }
    // A datastore the host does not mount, a host that does not exist.
    let r = tm(
        &env,
        "mkimage",
        &[
            "64",
            "vmdk_thin",
            &hp(h, "/vmfs/volumes/7/50/disk.4"),
            "50",
            "7",
        ],
    );
    r.assert_failed(&["datastore \"7\" is not mounted on host", h]);
    let r = tm(
        &env,
        "mkimage",
        &[
            "64",
            "vmdk_thin",
            "no-such-host:/vmfs/volumes/0/50/disk.4",
            "50",
            "0",
        ],
    );
    r.assert_failed(&["no-such-host"]);
    assert_eq!(
        files(&s, "0", "50").await,
        before,
        "a refusal made something"
    );
}

#[tokio::test]
async fn clone_ln_and_delete_keep_linked_images() {
    let env = OneEnv::vcenter().await;
    let s = env.sdk().await;
    let h = env.host(0);
    make_image(&s, &env, "1", "img1").await;
    make_iso(&s, "1", "iso1", b"an ISO image").await;
    let img = "fe:/vmfs/volumes/1/img1";
    let iso = "fe:/vmfs/volumes/1/iso1";

    // clone: a thin copy of the disk, the ISO copied as disk.N.iso.
    tm(
        &env,
        "clone",
        &[img, &hp(h, "/vmfs/volumes/0/60/disk.0"), "60", "1"],
    )
    .assert_silent_ok("copied");
    assert_eq!(
        files(&s, "0", "60/disk.0").await,
        ["disk-flat.vmdk", "disk.vmdk"]
    );
    tm(
        &env,
        "clone",
        &[iso, &hp(h, "/vmfs/volumes/0/60/disk.1"), "60", "1"],
    )
    .assert_silent_ok("ISO");
    let sys_dir = sdk::datastore_dir(&s, "0").await;
    assert_eq!(
        std::fs::read(sys_dir.join("60/disk.1.iso")).expect("cloned iso"),
        b"an ISO image"
    );
    // A retried clone replaces its own copy.
    tm(
        &env,
        "clone",
        &[img, &hp(h, "/vmfs/volumes/0/60/disk.0"), "60", "1"],
    )
    .assert_ok();

    // ln: records, no copies.
    tm(
        &env,
        "ln",
        &[img, &hp(h, "/vmfs/volumes/0/60/disk.2"), "60", "1"],
    )
    .assert_silent_ok("in place");
    tm(
        &env,
        "ln",
        &[iso, &hp(h, "/vmfs/volumes/0/60/disk.3"), "60", "1"],
    )
    .assert_ok();
    let listing = files(&s, "0", "60").await;
    assert!(listing.contains(&"disk.2.link".to_string()), "{listing:?}");
    assert!(
        !listing.contains(&"disk.2".to_string()),
        "ln copied: {listing:?}"
    );
    let rec = std::fs::read_to_string(sys_dir.join("60/disk.2.link")).expect("record");
    assert!(
        rec.contains("KIND=disk\n") && rec.contains("SOURCE=[1] img1/disk.vmdk\n"),
        "{rec}"
    );
    let rec = std::fs::read_to_string(sys_dir.join("60/disk.3.link")).expect("record");
    assert!(
        rec.contains("KIND=cdrom\n") && rec.contains("SOURCE=[1] iso1\n"),
        "{rec}"
    );
    assert_eq!(
        driver_vmm::storage::link::LinkRecord::parse(&rec)
            .expect("parses")
            .source(),
        "[1] iso1"
    );

    // Failures: nothing made, nothing deleted.
    let before = files(&s, "0", "60").await;
    let dst5 = hp(h, "/vmfs/volumes/0/60/disk.5");
    for (action, args, needles) in [
        (
            "clone",
            vec!["fe:/vmfs/volumes/1/missing", dst5.as_str(), "60", "1"],
            vec!["image /vmfs/volumes/1/missing not found"],
        ),
        (
            "ln",
            vec!["fe:/vmfs/volumes/1/missing", dst5.as_str(), "60", "1"],
            vec!["not found"],
        ),
        (
            "clone",
            vec![img, dst5.as_str(), "60", "0"],
            vec!["not on datastore 0"],
        ),
        (
            "clone",
            vec!["fe:/vmfs/volumes/1/../0/60", dst5.as_str(), "60", "1"],
            vec!["'.' and '..'"],
        ),
        (
            "clone",
            vec![
                "fe:/vmfs/volumes/1/img1/disk.vmdk",
                dst5.as_str(),
                "60",
                "1",
            ],
            vec!["directly in its datastore"],
        ),
        (
            "clone",
            vec![img, &hp(h, "/vmfs/volumes/0/61/disk.5"), "60", "1"],
            vec!["not VM 60's"],
        ),
        (
            "ln",
            vec![img, &hp(h, "/vmfs/volumes/0/60"), "60", "1"],
            vec!["disk.<N>"],
        ),
        (
            "clone",
            vec![img, dst5.as_str(), "60"],
            vec!["bad arguments"],
        ),
    ] {
        tm(&env, action, &args).assert_failed(&needles);
    }
    assert_eq!(files(&s, "0", "60").await, before);

    // delete of a linked disk: the record goes, the image stays.
    tm(
        &env,
        "delete",
        &[&hp(h, "/vmfs/volumes/0/60/disk.2"), "60", "1"],
    )
    .assert_silent_ok("deleted");
    assert!(!files(&s, "0", "60")
        .await
        .contains(&"disk.2.link".to_string()));
    assert_eq!(
        files(&s, "1", "img1").await,
        ["disk-flat.vmdk", "disk.vmdk"]
    );
    // delete of one cloned disk.
    tm(
        &env,
        "delete",
        &[&hp(h, "/vmfs/volumes/0/60/disk.0"), "60", "0"],
    )
    .assert_ok();
    assert!(!files(&s, "0", "60").await.contains(&"disk.0".to_string()));

    // Refused deletes: the datastore root, climbing, another VM's directory.
    for (args, needles) in [
        (
            vec!["esx:/vmfs/volumes/0", "60", "0"],
            vec!["whole datastore"],
        ),
        (
            vec!["esx:/vmfs/volumes/0/60/../61", "60", "0"],
            vec!["'.' and '..'"],
        ),
        (
            vec!["esx:/vmfs/volumes/0/61", "60", "0"],
            vec!["not VM 60's"],
        ),
        (
            vec!["esx:/vmfs/volumes/0/60", "60", "1"],
            vec!["not on datastore 1"],
        ),
        (
            vec!["esx:/vmfs/volumes/0/60/disk.1.iso", "60", "0"],
            vec!["disk.<N>"],
        ),
    ] {
        tm(&env, "delete", &args).assert_failed(&needles);
    }
    assert!(!files(&s, "0", "60").await.is_empty());

    // delete of the VM directory: everything of the VM goes, the images stay; again: no error.
    tm(&env, "delete", &[&hp(h, "/vmfs/volumes/0/60"), "60", "0"]).assert_silent_ok("deleted");
    assert!(files(&s, "0", "60").await.is_empty());
    assert!(!files(&s, "0", "").await.contains(&"60".to_string()));
    assert_eq!(
        files(&s, "1", "img1").await,
        ["disk-flat.vmdk", "disk.vmdk"]
    );
    assert!(files(&s, "1", "").await.contains(&"iso1".to_string()));
    tm(&env, "delete", &[&hp(h, "/vmfs/volumes/0/60"), "60", "0"]).assert_silent_ok("already gone");

    // mv on the shared datastore, premigrate/postmigrate: nothing to do, arguments checked;
    // mv to another datastore of a VM whose folder is gone: refused (moves: see below).
    tm(
        &env,
        "mv",
        &[
            &hp(env.host(0), "/vmfs/volumes/0/60"),
            &hp(env.host(1), "/vmfs/volumes/0/60"),
            "60",
            "0",
        ],
    )
    .assert_silent_ok("stays in place");
    tm(
        &env,
        "mv",
        &[
            &hp(env.host(0), "/vmfs/volumes/0/60"),
            &hp(env.host(1), "/vmfs/volumes/1/60"),
            "60",
            "0",
        ],
    )
    .assert_failed(&["nothing there to move"]);
    tm(
        &env,
        "premigrate",
        &[
            env.host(0),
            env.host(1),
            "/vmfs/volumes/0/60",
            "60",
            "0",
            "PFZNLz4=",
        ],
    )
    .assert_silent_ok("nothing to do");
    tm(
        &env,
        "postmigrate",
        &[env.host(0), env.host(1), "/vmfs/volumes/0/61", "60", "0"],
    )
    .assert_failed(&["not VM 60's"]);
}

#[tokio::test]
async fn datastore_mkfs_clone_rm_monitor() {
    let env = OneEnv::vcenter().await;
    let s = env.sdk().await;
    let h = env.host(2);
    let root_before = files(&s, "1", "").await;

    // mkfs: a thin datablock, a save_as placeholder.
    let img = |id: u32, fstype: &str, size: &str| {
        format!("<ID>{id}</ID><TYPE>2</TYPE><SIZE>{size}</SIZE><FSTYPE>{fstype}</FSTYPE>")
    };
    let r = ds(
        &env,
        "mkfs",
        &ds_data(1, h, Some(&img(4, "vmdk_thin", "100")), ""),
        "4",
    );
    r.assert_ok();
    let dblock = new_name(&r, "1");
    assert_eq!(
        files(&s, "1", &dblock).await,
        ["disk-flat.vmdk", "disk.vmdk"]
    );
    let r = ds(
        &env,
        "mkfs",
        &ds_data(1, h, Some(&img(5, "save_as", "")), ""),
        "5",
    );
    r.assert_ok();
    let placeholder = new_name(&r, "1");
    assert!(files(&s, "1", &placeholder).await.is_empty());
    assert!(files(&s, "1", "").await.contains(&placeholder));

    // mkfs refusals: nothing made.
    let after_mkfs = files(&s, "1", "").await;
    // (datastore, bridge, FSTYPE, SIZE, image id argument, message).
    type Refusal<'a> = (u64, &'a str, &'a str, &'a str, &'a str, &'a [&'a str]);
    let refusals: [Refusal; 7] = [
        (1, h, "ext3", "100", "6", &["ext3"]),
        (1, h, "vmdk_thin", "0", "6", &["size"]),
        (
            1,
            h,
            "vmdk_eagerzeroedthick",
            "60000000",
            "6",
            &["MB free", "does not fit"],
        ),
        (1, "", "vmdk_thin", "10", "6", &["BRIDGE_LIST"]),
        (1, "no-such-host", "vmdk_thin", "10", "6", &["no-such-host"]),
        (1, h, "vmdk_thin", "10", "7", &["IMAGE/ID"]),
        (
            7,
            h,
            "vmdk_thin",
            "10",
            "6",
            &["datastore \"7\" is not mounted"],
        ),
    ];
    for (store, bridge, fstype, size, id, needles) in refusals {
        let data = ds_data(store, bridge, Some(&img(6, fstype, size)), "");
        ds(&env, "mkfs", &data, id).assert_failed(needles);
    }
    for (data, needles) in [
        ("bm90IHhtbA==", ["DS_DRIVER_ACTION_DATA"]),
        ("!", ["not base64"]),
    ] {
        ds(&env, "mkfs", data, "6").assert_failed(&needles);
    }
    assert_eq!(files(&s, "1", "").await, after_mkfs);
    // BASE_PATH not ending in the datastore id.
    let xml = "<DS_DRIVER_ACTION_DATA><IMAGE><ID>6</ID><SIZE>1</SIZE></IMAGE><DATASTORE><ID>1</ID><BASE_PATH>/vmfs/volumes/0</BASE_PATH></DATASTORE></DS_DRIVER_ACTION_DATA>";
    ds(
        &env,
        "mkfs",
        &base64::engine::general_purpose::STANDARD.encode(xml),
        "6",
    )
    .assert_failed(&["BASE_PATH"]);

    // clone: a disk image and an ISO.
    let src = format!("<ID>8</ID><PATH>/vmfs/volumes/1/{dblock}</PATH>");
    let r = ds(&env, "clone", &ds_data(1, h, Some(&src), ""), "8");
    r.assert_ok();
    let copy = new_name(&r, "1");
    assert_ne!(copy, dblock);
    assert_eq!(files(&s, "1", &copy).await, ["disk-flat.vmdk", "disk.vmdk"]);
    assert_eq!(
        files(&s, "1", &dblock).await,
        ["disk-flat.vmdk", "disk.vmdk"]
    );
    make_iso(&s, "1", "iso2", b"iso bytes").await;
    let r = ds(
        &env,
        "clone",
        &ds_data(
            1,
            h,
            Some("<ID>9</ID><TYPE>1</TYPE><PATH>/vmfs/volumes/1/iso2</PATH>"),
            "",
        ),
        "9",
    );
    r.assert_ok();
    let iso_copy = new_name(&r, "1");
    let ds1 = sdk::datastore_dir(&s, "1").await;
    assert_eq!(
        std::fs::read(ds1.join(&iso_copy)).expect("iso copy"),
        b"iso bytes"
    );
    let before = files(&s, "1", "").await;
    let refusals: [(&str, &[&str]); 2] = [
        ("/vmfs/volumes/1/missing", &["missing", "not found"]),
        ("/vmfs/volumes/1/../0/x", &["'.' and '..'"]),
    ];
    for (path, needles) in refusals {
        let image = format!("<ID>9</ID><PATH>{path}</PATH>");
        ds(&env, "clone", &ds_data(1, h, Some(&image), ""), "9").assert_failed(needles);
    }
    assert_eq!(files(&s, "1", "").await, before);

    // rm: the copy goes, its source stays; again: no error.
    let rm = |source: &str| {
        ds_data(
            1,
            h,
            Some(&format!("<ID>8</ID><SOURCE>{source}</SOURCE>")),
            "",
        )
    };
    ds(&env, "rm", &rm(&format!("/vmfs/volumes/1/{copy}")), "8").assert_silent_ok("deleted");
    assert!(!files(&s, "1", "").await.contains(&copy));
    assert_eq!(
        files(&s, "1", &dblock).await,
        ["disk-flat.vmdk", "disk.vmdk"]
    );
    ds(&env, "rm", &rm(&format!("/vmfs/volumes/1/{copy}")), "8").assert_silent_ok("already gone");
    ds(&env, "rm", &rm(&format!("/vmfs/volumes/1/{iso_copy}")), "8").assert_ok();
    assert!(ds1.join("iso2").exists(), "the source ISO was deleted");
    // Refused: the datastore root, another datastore, a file inside an image, climbing.
    let before = files(&s, "1", "").await;
    for (source, needles) in [
        (
            "/vmfs/volumes/1".to_string(),
            vec!["directly in its datastore"],
        ),
        (
            format!("/vmfs/volumes/0/{dblock}"),
            vec!["not on datastore 1"],
        ),
        (
            format!("/vmfs/volumes/1/{dblock}/disk.vmdk"),
            vec!["directly in its datastore"],
        ),
        ("/vmfs/volumes/1/../0".to_string(), vec!["'.' and '..'"]),
        ("/etc/passwd".to_string(), vec!["not under /vmfs/volumes/"]),
    ] {
        ds(&env, "rm", &rm(&source), "8").assert_failed(&needles);
    }
    assert_eq!(files(&s, "1", "").await, before);
    assert!(root_before.iter().all(|f| before.contains(f)));

    // monitor: the datastore's summary as the simulator reports it.
    let r = ds(
        &env,
        "monitor",
        &ds_data(1, &format!("no-such-host {h}"), None, ""),
        "1",
    );
    r.assert_ok();
    let store = sdk::list::<mo::Datastore>(&s, &s.content().root_folder)
        .await
        .into_iter()
        .find(|(n, _)| n == "1")
        .expect("datastore 1")
        .1;
    let p = sdk::props(
        &s,
        store.reference(),
        &["summary.capacity", "summary.freeSpace"],
    )
    .await;
    let (cap, free) = (
        p.int("summary.capacity").expect("capacity") / (1024 * 1024),
        p.int("summary.freeSpace").expect("freeSpace") / (1024 * 1024),
    );
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{r}");
    let val = |k: &str| -> i64 {
        lines
            .iter()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .unwrap_or_else(|| panic!("no {k}:\n{r}"))
            .parse()
            .expect("number")
    };
    // The simulator derives both from the host's file system, which other tests write to
    // meanwhile: allow a little drift.
    assert!((val("TOTAL_MB") - cap).abs() < 64, "{r} vs capacity {cap}");
    assert!((val("FREE_MB") - free).abs() < 64, "{r} vs free {free}");
    assert_eq!(val("USED_MB") + val("FREE_MB"), val("TOTAL_MB"));
    ds(&env, "monitor", &ds_data(1, h, None, ""), "2").assert_failed(&["DATASTORE/ID"]);
    ds(&env, "monitor", &ds_data(7, h, None, ""), "7").assert_failed(&["not mounted"]);
    ds(&env, "monitor", &ds_data(1, "", None, ""), "1").assert_failed(&["BRIDGE_LIST"]);
}

#[tokio::test]
async fn stat_sizes_local_paths_and_honours_restricted_dirs() {
    let env = OneEnv::vcenter().await;
    let h = env.host(0);
    let dir = env.root.join("images");
    let folder = dir.join("folder");
    std::fs::create_dir_all(&folder).expect("mkdir");
    std::fs::write(dir.join("one.iso"), vec![0u8; 3 * 1024 * 1024 + 1]).expect("write");
    std::fs::write(folder.join("disk.vmdk"), vec![1u8; 1024]).expect("write");
    std::fs::write(folder.join("disk-flat.vmdk"), vec![0u8; 2 * 1024 * 1024]).expect("write");
    std::fs::write(dir.join("empty"), b"").expect("write");
    let stat = |path: &std::path::Path, extra: &str| {
        let data = ds_data(
            1,
            h,
            Some(&format!("<ID>3</ID><PATH>{}</PATH>", path.display())),
            extra,
        );
        ds(&env, "stat", &data, "3")
    };
    let r = stat(&dir.join("one.iso"), "");
    r.assert_ok();
    assert_eq!(r.stdout, "4\n");
    let r = stat(&folder, "");
    r.assert_ok();
    assert_eq!(r.stdout, "3\n");
    let restricted = format!("<RESTRICTED_DIRS>{}</RESTRICTED_DIRS>", dir.display());
    stat(&folder, &restricted).assert_failed(&["restricted directory", "SAFE_DIRS"]);
    let safe = format!("{restricted}<SAFE_DIRS>{}</SAFE_DIRS>", folder.display());
    stat(&folder, &safe).assert_ok();
    stat(&dir.join("one.iso"), &safe).assert_failed(&["restricted directory"]);
    // The OpenNebula user's home is always restricted.
    std::fs::write(env.home.join("secret"), b"x").expect("write");
    stat(&env.home.join("secret"), "").assert_failed(&["restricted directory"]);
    stat(&dir.join("missing"), "").assert_failed(&["not readable"]);
    stat(&dir.join("empty"), "").assert_failed(&["empty"]);
    // A .tar.gz: the size of the disk it holds (2 MiB + 1 KiB: 3 MB rounded up), not its
    // own few kilobytes.
    let tar = dir.join("folder.tar.gz");
    targz(&dir, "folder", &tar);
    assert!(std::fs::metadata(&tar).expect("tar").len() < 64 * 1024);
    let r = stat(&tar, "");
    r.assert_ok();
    assert_eq!(r.stdout, "3\n");
}

#[tokio::test]
async fn direct_esx_mode_clones_and_deletes() {
    let env = OneEnv::esx().await;
    let s = env.sdk().await;
    let h = env.host(0);
    make_image(&s, &env, "1", "img").await;
    tm(
        &env,
        "clone",
        &[
            "fe:/vmfs/volumes/1/img",
            &hp(h, "/vmfs/volumes/0/70/disk.0"),
            "70",
            "1",
        ],
    )
    .assert_ok();
    assert_eq!(
        files(&s, "0", "70/disk.0").await,
        ["disk-flat.vmdk", "disk.vmdk"]
    );
    tm(
        &env,
        "mkimage",
        &[
            "8",
            "vmdk_thin",
            &hp(h, "/vmfs/volumes/0/70/disk.1"),
            "70",
            "0",
        ],
    )
    .assert_ok();
    tm(&env, "delete", &[&hp(h, "/vmfs/volumes/0/70"), "70", "0"]).assert_ok();
    assert!(files(&s, "0", "70").await.is_empty());
    assert_eq!(files(&s, "1", "img").await, ["disk-flat.vmdk", "disk.vmdk"]);
}

/// The `CreateVirtualDisk_Task` each format sends (vcsim ignores type and capacity), and a
/// fault from the server: against the loopback SOAP fixture.
#[tokio::test]
async fn each_format_sends_its_disk_type_and_capacity() {
    use driver_vmm::storage::format::{parse_format, DiskFormat};
    use driver_vmm::storage::site::{create_disk_with, disk_spec};
    use soap_fixture::{common, response_ref};

    let fx = soap_fixture::start(Arc::new(|method: String, _body: String| {
        Box::pin(async move {
            match method.as_str() {
                "CreateVirtualDisk_Task" => response_ref(&method, "Task", "task-1"),
                _ => common(&method),
            }
        })
    }))
    .await;
    let client = fx.client();
    let vdm = mo::VirtualDiskManager::from_ref(vim_sdk::xml::ManagedObjectReference::new(
        "VirtualDiskManager",
        "vdm",
    ));
    for (fmt, want) in [
        ("vmdk_thin", "thin"),
        ("vmdk_zeroedthick", "preallocated"),
        ("vmdk_eagerzeroedthick", "eagerZeroedThick"),
    ] {
        let DiskFormat::Vmdk(ty) = parse_format(fmt).expect("format") else {
            panic!("{fmt} is not a vmdk format");
        };
        let _ = create_disk_with(
            &client,
            &vdm,
            None,
            "[0] 1/disk.0/disk.vmdk",
            &disk_spec(64, ty),
        )
        .await;
        let body = fx
            .bodies()
            .into_iter()
            .rev()
            .find(|b| b.contains("CreateVirtualDisk_Task"))
            .expect("sent");
        assert!(
            body.contains(&format!("<diskType>{want}</diskType>")),
            "{fmt}: {body}"
        );
        assert!(
            body.contains("<capacityKb>65536</capacityKb>"),
            "{fmt}: {body}"
        );
        assert!(body.contains("FileBackedVirtualDiskSpec"), "{body}");
    }
}

#[tokio::test]
async fn cp_registers_a_vmdk_folder_and_an_iso_without_touching_the_source() {
    let env = OneEnv::vcenter().await;
    let s = env.sdk().await;
    let h = env.host(1);
    let src = env.root.join("images");
    let folder = src.join("my image");
    let extent: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    user_folder(&folder, "my disk", "vmfs", &extent);
    let before = snapshot(&folder);
    let cp = |path: &std::path::Path, ty: u32, extra: &str| {
        let data = ds_data(
            1,
            h,
            Some(&format!(
                "<ID>11</ID><TYPE>{ty}</TYPE><PATH><![CDATA[{}]]></PATH>",
                path.display()
            )),
            extra,
        );
        ds(&env, "cp", &data, "11")
    };

    // A folder: the copy holds disk.vmdk + disk-flat.vmdk, the user's folder is unchanged.
    let r = cp(&folder, 0, "");
    r.assert_ok();
    let name = new_name(&r, "1");
    assert_eq!(files(&s, "1", &name).await, ["disk-flat.vmdk", "disk.vmdk"]);
    let ds1 = sdk::datastore_dir(&s, "1").await;
    assert_eq!(
        std::fs::read(ds1.join(&name).join("disk-flat.vmdk")).expect("extent"),
        extent
    );
    let desc = std::fs::read_to_string(ds1.join(&name).join("disk.vmdk")).expect("descriptor");
    assert!(desc.contains("RW 2048 VMFS \"disk-flat.vmdk\""), "{desc}");
    assert!(desc.contains("ddb.adapterType = \"lsilogic\""), "{desc}");
    assert_eq!(snapshot(&folder), before, "the user's folder changed");
    // The registered image works as one: TM clone copies it.
    tm(
        &env,
        "clone",
        &[
            &format!("fe:/vmfs/volumes/1/{name}"),
            &hp(h, "/vmfs/volumes/0/80/disk.0"),
            "80",
            "1",
        ],
    )
    .assert_ok();
    assert_eq!(
        files(&s, "0", "80/disk.0").await,
        ["disk-flat.vmdk", "disk.vmdk"]
    );

    // An ISO.
    let iso = src.join("cd.iso");
    std::fs::write(&iso, b"CD001 image bytes").expect("iso");
    let r = cp(&iso, 1, "");
    r.assert_ok();
    let iso_name = new_name(&r, "1");
    assert_eq!(
        std::fs::read(ds1.join(&iso_name)).expect("iso copy"),
        b"CD001 image bytes"
    );

    // Refusals: nothing new on the datastore, the user's files unchanged.
    let root = files(&s, "1", "").await;
    let stream = src.join("ova disk");
    user_folder(&stream, "x", "streamOptimized", b"data");
    let sparse = src.join("sparse");
    std::fs::create_dir_all(&sparse).expect("mkdir");
    std::fs::write(sparse.join("w.vmdk"), b"KDMV\x01\x00\x00\x00binary header").expect("write");
    let missing_extent = src.join("no extent");
    user_folder(&missing_extent, "y", "vmfs", b"data");
    std::fs::remove_file(missing_extent.join("y-flat.vmdk")).expect("rm");
    let two = src.join("two");
    user_folder(&two, "a", "vmfs", b"a");
    user_folder(&two, "b", "vmfs", b"b");
    let escape = src.join("escape");
    std::fs::create_dir_all(&escape).expect("mkdir");
    std::fs::write(
        escape.join("e.vmdk"),
        "createType=\"vmfs\"\nRW 2048 VMFS \"../my image/my disk-flat.vmdk\"\n",
    )
    .expect("write");
    for (path, ty, extra, needles) in [
        (
            stream.clone(),
            0,
            String::new(),
            vec!["streamOptimized", "ESX cannot run"],
        ),
        (sparse.clone(), 0, String::new(), vec!["hosted sparse"]),
        (
            missing_extent.clone(),
            0,
            String::new(),
            vec!["not in the folder"],
        ),
        (
            two.clone(),
            0,
            String::new(),
            vec!["several VMDK descriptors"],
        ),
        (escape.clone(), 0, String::new(), vec!["outside its folder"]),
        (
            folder.clone(),
            0,
            format!("<RESTRICTED_DIRS>{}</RESTRICTED_DIRS>", src.display()),
            vec!["restricted directory"],
        ),
        (src.join("missing"), 0, String::new(), vec!["not readable"]),
        (
            src.join("cd.iso"),
            0,
            String::new(),
            vec!["not implemented yet"],
        ),
    ] {
        cp(&path, ty, &extra).assert_failed(&needles);
    }
    // An unknown datastore: refused before anything is uploaded.
    let data = ds_data(
        7,
        h,
        Some(&format!("<ID>11</ID><PATH>{}</PATH>", folder.display())),
        "",
    );
    ds(&env, "cp", &data, "11").assert_failed(&["datastore \"7\" is not mounted"]);
    assert_eq!(files(&s, "1", "").await, root);
    assert_eq!(snapshot(&folder), before);
}

#[tokio::test]
async fn mvds_saves_a_disk_back_and_leaves_linked_disks_and_cdroms_alone() {
    let env = OneEnv::vcenter().await;
    let s = env.sdk().await;
    let h = env.host(3);
    make_image(&s, &env, "1", "base").await;
    make_iso(&s, "1", "cd", b"cd").await;
    let sys = sdk::datastore_dir(&s, "0").await;
    let ds1 = sdk::datastore_dir(&s, "1").await;
    let base_flat = std::fs::read(ds1.join("base/disk-flat.vmdk")).expect("base extent");
    tm(
        &env,
        "clone",
        &[
            "fe:/vmfs/volumes/1/base",
            &hp(h, "/vmfs/volumes/0/90/disk.0"),
            "90",
            "1",
        ],
    )
    .assert_ok();
    tm(
        &env,
        "ln",
        &[
            "fe:/vmfs/volumes/1/base",
            &hp(h, "/vmfs/volumes/0/90/disk.1"),
            "90",
            "1",
        ],
    )
    .assert_ok();
    tm(
        &env,
        "clone",
        &[
            "fe:/vmfs/volumes/1/cd",
            &hp(h, "/vmfs/volumes/0/90/disk.2"),
            "90",
            "1",
        ],
    )
    .assert_ok();
    // What the VM wrote to its disk.
    std::fs::write(sys.join("90/disk.0/disk-flat.vmdk"), b"first save").expect("write");
    let disk0 = hp(h, "/vmfs/volumes/0/90/disk.0");

    // Into an empty save_as placeholder.
    std::fs::create_dir_all(ds1.join("saved")).expect("placeholder");
    tm(&env, "mvds", &[&disk0, "/vmfs/volumes/1/saved", "90", "1"]).assert_silent_ok("saved");
    assert_eq!(
        files(&s, "1", "saved").await,
        ["disk-flat.vmdk", "disk.vmdk"]
    );
    assert_eq!(
        std::fs::read(ds1.join("saved/disk-flat.vmdk")).expect("saved"),
        b"first save"
    );
    // Again, over the image's disk (cpds: the same): replaced, nothing left beside it.
    std::fs::write(sys.join("90/disk.0/disk-flat.vmdk"), b"second save").expect("write");
    tm(&env, "cpds", &[&disk0, "/vmfs/volumes/1/saved", "90", "1"]).assert_silent_ok("replacing");
    assert_eq!(
        files(&s, "1", "saved").await,
        ["disk-flat.vmdk", "disk.vmdk"]
    );
    assert_eq!(
        std::fs::read(ds1.join("saved/disk-flat.vmdk")).expect("saved"),
        b"second save"
    );

    // A linked disk and a CD-ROM: nothing copied, the images untouched.
    tm(
        &env,
        "mvds",
        &[
            &hp(h, "/vmfs/volumes/0/90/disk.1"),
            "/vmfs/volumes/1/base",
            "90",
            "1",
        ],
    )
    .assert_silent_ok("linked");
    assert_eq!(
        std::fs::read(ds1.join("base/disk-flat.vmdk")).expect("base"),
        base_flat
    );
    tm(
        &env,
        "mvds",
        &[
            &hp(h, "/vmfs/volumes/0/90/disk.2"),
            "/vmfs/volumes/1/cd",
            "90",
            "1",
        ],
    )
    .assert_silent_ok("CD-ROM");
    assert_eq!(std::fs::read(ds1.join("cd")).expect("cd"), b"cd");

    // Failures: the image keeps its disk.
    let root = files(&s, "1", "").await;
    let disk7 = hp(h, "/vmfs/volumes/0/90/disk.7");
    let other = hp(h, "/vmfs/volumes/0/91/disk.0");
    for (args, needles) in [
        (
            [disk7.as_str(), "/vmfs/volumes/1/saved", "90", "1"],
            "disk 7 of VM 90 not found",
        ),
        (
            [disk0.as_str(), "/vmfs/volumes/0/saved", "90", "1"],
            "not on datastore 1",
        ),
        (
            [disk0.as_str(), "/vmfs/volumes/1/../0/90", "90", "1"],
            "'.' and '..'",
        ),
        (
            [disk0.as_str(), "/vmfs/volumes/1/saved/disk.vmdk", "90", "1"],
            "directly in its datastore",
        ),
        (
            [other.as_str(), "/vmfs/volumes/1/saved", "90", "1"],
            "not VM 90's",
        ),
    ] {
        tm(&env, "mvds", &args).assert_failed(&[needles]);
    }
    assert_eq!(files(&s, "1", "").await, root);
    assert_eq!(
        std::fs::read(ds1.join("saved/disk-flat.vmdk")).expect("saved"),
        b"second save"
    );
}

/// `blkid -o export` of a file: its `KEY=VALUE` lines.
fn blkid(path: &std::path::Path) -> String {
    let out = std::process::Command::new("blkid")
        .args(["-p", "-o", "export"])
        .arg(path)
        .output()
        .expect("blkid (util-linux) must be installed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The Joliet names of the root directory of an ISO (read from its supplementary volume
/// descriptor, sector 17), to check what a guest sees.
fn joliet_names(iso: &[u8]) -> Vec<String> {
    let svd = &iso[17 * 2048..18 * 2048];
    assert_eq!(svd[0], 2, "no supplementary volume descriptor");
    assert_eq!(&svd[88..91], b"%/E", "not Joliet");
    let root = u32::from_le_bytes(svd[158..162].try_into().unwrap()) as usize;
    let size = u32::from_le_bytes(svd[166..170].try_into().unwrap()) as usize;
    let dir = &iso[root * 2048..root * 2048 + size];
    let mut names = Vec::new();
    let mut at = 0;
    while at < dir.len() {
        let len = dir[at] as usize;
        if len == 0 {
            at = (at / 2048 + 1) * 2048;
            continue;
        }
        let nl = dir[at + 32] as usize;
        let raw = &dir[at + 33..at + 33 + nl];
        if nl > 1 {
            let units: Vec<u16> = raw
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            names.push(String::from_utf16(&units).expect("UCS-2"));
        }
        at += len;
    }
    names
}

#[tokio::test]
async fn context_builds_a_labelled_iso_and_uploads_it() {
    let env = OneEnv::vcenter().await;
    let s = env.sdk().await;
    let h = env.host(0);
    let vmdir = env.var.join("vms/95");
    std::fs::create_dir_all(&vmdir).expect("mkdir");
    let ctx = vmdir.join("context.sh");
    std::fs::write(
        &ctx,
        "# Context variables generated by OpenNebula\nHOSTNAME='vm95'\n",
    )
    .expect("write");
    let files_dir = env.root.join("files");
    std::fs::create_dir_all(&files_dir).expect("mkdir");
    let init = files_dir.join("Init Script.sh");
    std::fs::write(&init, "#!/bin/sh\necho hello\n").expect("write");
    let key = files_dir.join("key.pub");
    std::fs::write(&key, vec![b'k'; 5000]).expect("write");
    let dst = hp(h, "/vmfs/volumes/0/95/disk.3");
    let renamed = format!("{}:id_rsa.pub", key.display());
    let r = tm(
        &env,
        "context",
        &[
            ctx.to_str().unwrap(),
            init.to_str().unwrap(),
            &renamed,
            &dst,
            "95",
            "0",
        ],
    );
    r.assert_silent_ok("CONTEXT ISO");
    assert!(files(&s, "0", "95")
        .await
        .contains(&"disk.3.iso".to_string()));
    let iso_path = sdk::datastore_dir(&s, "0").await.join("95/disk.3.iso");
    let ids = blkid(&iso_path);
    assert!(ids.contains("LABEL=CONTEXT"), "{ids}");
    assert!(ids.contains("TYPE=iso9660"), "{ids}");
    let iso = std::fs::read(&iso_path).expect("iso");
    let mut names = joliet_names(&iso);
    names.sort();
    assert_eq!(names, ["Init Script.sh", "context.sh", "id_rsa.pub"]);
    let find = |needle: &[u8]| iso.windows(needle.len()).any(|w| w == needle);
    assert!(find(b"HOSTNAME='vm95'"));
    assert!(find(b"echo hello"));
    assert!(find(&[b'k'; 5000]));
    // No temporary ISO left on the front-end (in the runs' own TMPDIR: a shared /tmp
    // would show another process's context action running at the same time).
    let leftovers: Vec<_> = std::fs::read_dir(&env.tmp)
        .expect("tmp")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("one-context-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // Refusals: nothing uploaded.
    let dst4 = hp(h, "/vmfs/volumes/0/95/disk.4");
    let ctx_s = ctx.to_str().unwrap().to_string();
    let missing = files_dir.join("missing").display().to_string();
    let clash = format!("{}:context.sh", key.display());
    for (args, needles) in [
        (
            vec![ctx_s.as_str(), missing.as_str(), &dst4, "95", "0"],
            vec!["cannot read context file"],
        ),
        (
            vec![ctx_s.as_str(), clash.as_str(), &dst4, "95", "0"],
            vec!["two files named"],
        ),
        (
            vec!["relative.sh", &dst4, "95", "0"],
            vec!["not an absolute path"],
        ),
        (vec![ctx_s.as_str(), &dst4, "96", "0"], vec!["not VM 96's"]),
        (
            vec![ctx_s.as_str(), &dst4, "95", "1"],
            vec!["not on datastore 1"],
        ),
        (vec![&dst4, "95", "0"], vec!["bad arguments"]),
    ] {
        tm(&env, "context", &args).assert_failed(&needles);
    }
    assert!(!files(&s, "0", "95")
        .await
        .contains(&"disk.4.iso".to_string()));
}

/// A cp whose upload is cut off midway removes its partial image and keeps its upload
/// record, so that when the server makes the image folder again after that delete (a real ESX
/// still handling the cut upload; here the test writes it into the simulator's datastore
/// folder) the next monitor, or the next cp, deletes it. Nothing else goes: not a 32-hex
/// folder without a record, not the image a later cp made.
#[tokio::test]
async fn cp_cut_off_midway_leaves_no_image_behind() {
    use support::kill_proxy::KillProxy;
    let env = OneEnv::vcenter_plain().await;
    let s = env.sdk().await;
    let h = env.host(0);
    let folder = env.root.join("big image");
    let extent: Vec<u8> = (0..4 * 1024 * 1024u32).map(|i| (i % 253) as u8).collect();
    user_folder(&folder, "big", "vmfs", &extent);
    let before = snapshot(&folder);
    let ds1 = sdk::datastore_dir(&s, "1").await;
    // A folder named like cp's images but recorded nowhere: not the drivers' to remove.
    let stranger = "fedcba9876543210fedcba9876543210";
    std::fs::create_dir(ds1.join(stranger)).expect("mkdir");
    let root = files(&s, "1", "").await;
    // The driver talks to the simulator through a proxy that cuts a request body off after
    // 1 MiB (the small SOAP calls go through).
    let proxy = KillProxy::start(env.vcsim.addr());
    env.write_vmwarerc(&env.plain_vmwarerc(proxy.addr()));
    let data = ds_data(
        1,
        h,
        Some(&format!("<ID>12</ID><PATH>{}</PATH>", folder.display())),
        "",
    );
    let monitor = || ds(&env, "monitor", &ds_data(1, h, None, ""), "1");
    // A cut cp; its image folder made again afterwards, as a server still handling the cut
    // upload would; the name of that image.
    let cut_and_remade = async || {
        proxy.cut_bodies_after(Some(1024 * 1024));
        let r = ds(&env, "cp", &data, "12");
        proxy.cut_bodies_after(None);
        r.assert_failed(&["cannot upload"]);
        assert!(r.stdout.is_empty());
        let name = r
            .stderr
            .split("removed the partial image [1] ")
            .nth(1)
            .and_then(|rest| rest.get(..32))
            .unwrap_or_else(|| panic!("no partial image removed:\n{r}"))
            .to_string();
        // Nothing left on the datastore, the user's folder as it was, the record kept.
        assert_eq!(files(&s, "1", "").await, root, "{r}");
        assert_eq!(snapshot(&folder), before);
        let record = env.home.join(format!(".one/vmware-uploads/{name}.upload"));
        assert!(record.is_file(), "the failed upload's record stays:\n{r}");
        std::fs::create_dir(ds1.join(&name)).expect("mkdir");
        std::fs::write(
            ds1.join(&name).join("disk-flat.vmdk"),
            &extent[..1024 * 1024],
        )
        .expect("write");
        (name, record)
    };
    let removed = |name: &str| {
        format!("removed [1] {name}, left by an image upload that was killed or failed")
    };

    // The next monitor removes the leftover and its record, and nothing else.
    let (name, record) = cut_and_remade().await;
    assert!(files(&s, "1", "").await.contains(&name));
    let r = monitor();
    r.assert_ok();
    assert!(r.stdout.contains("FREE_MB="), "{r}");
    assert!(r.stderr.contains(&removed(&name)), "{r}");
    assert_eq!(files(&s, "1", "").await, root, "{r}");
    assert!(!record.exists(), "{r}");

    // The next cp removes the leftover before making its own image, which a monitor after
    // it leaves alone.
    let (name, record) = cut_and_remade().await;
    let r = ds(&env, "cp", &data, "12");
    r.assert_ok();
    assert!(r.stderr.contains(&removed(&name)), "{r}");
    assert!(!record.exists(), "{r}");
    let mut want = root.clone();
    want.push(new_name(&r, "1"));
    want.sort();
    assert_eq!(files(&s, "1", "").await, want, "{r}");
    let r = monitor();
    r.assert_ok();
    assert!(!r.stderr.contains("left by an image upload"), "{r}");
    assert_eq!(files(&s, "1", "").await, want, "{r}");
    let records = std::fs::read_dir(env.home.join(".one/vmware-uploads"))
        .expect("records")
        .count();
    assert_eq!(records, 0, "{r}");
}

#[tokio::test]
async fn cp_unpacks_a_tarball_as_it_streams() {
    let env = OneEnv::vcenter().await;
    let s = env.sdk().await;
    let h = env.host(2);
    let src = env.root.join("tars");
    let extent: Vec<u8> = (0..700_000u32).map(|i| (i % 241) as u8).collect();
    user_folder(&src.join("vm disk"), "my disk", "vmfs", &extent);
    let good = src.join("good.tar.gz");
    targz(&src, "vm disk", &good);
    user_folder(&src.join("ova"), "ova", "streamOptimized", &extent);
    let ova = src.join("ova.tar.gz");
    targz(&src, "ova", &ova);
    let cp = |path: &std::path::Path| {
        let data = ds_data(
            1,
            h,
            Some(&format!("<ID>13</ID><PATH>{}</PATH>", path.display())),
            "",
        );
        ds(&env, "cp", &data, "13")
    };
    let r = cp(&good);
    r.assert_ok();
    assert!(r.stderr.contains("unpacked my disk-flat.vmdk"), "{r}");
    let name = new_name(&r, "1");
    assert_eq!(files(&s, "1", &name).await, ["disk-flat.vmdk", "disk.vmdk"]);
    let ds1 = sdk::datastore_dir(&s, "1").await;
    assert_eq!(
        std::fs::read(ds1.join(&name).join("disk-flat.vmdk")).expect("extent"),
        extent
    );
    let desc = std::fs::read_to_string(ds1.join(&name).join("disk.vmdk")).expect("descriptor");
    assert!(desc.contains("\"disk-flat.vmdk\""), "{desc}");
    // streamOptimized: refused after its extent was streamed; the partial image is removed.
    let root = files(&s, "1", "").await;
    let r = cp(&ova);
    r.assert_failed(&["streamOptimized", "ESX cannot run"]);
    assert!(r.stderr.contains("removed the partial image"), "{r}");
    // A corrupt archive.
    let bad = src.join("bad.tar.gz");
    std::fs::write(&bad, b"\x1f\x8b\x08\x00 not really gzip").expect("write");
    cp(&bad).assert_failed(&["tar.gz"]);
    assert_eq!(files(&s, "1", "").await, root);
}

#[tokio::test]
async fn cp_checks_the_images_checksums_before_uploading() {
    let env = OneEnv::vcenter().await;
    let s = env.sdk().await;
    let h = env.host(0);
    let iso = env.root.join("abc.iso");
    std::fs::write(&iso, b"abc").expect("write");
    let cp = |tmpl: &str| {
        let data = ds_data(
            1,
            h,
            Some(&format!(
                "<ID>14</ID><TYPE>CDROM</TYPE><PATH>{}</PATH><TEMPLATE>{tmpl}</TEMPLATE>",
                iso.display()
            )),
            "",
        );
        ds(&env, "cp", &data, "14")
    };
    // `md5sum`/`sha1sum` of "abc".
    let r = cp("<MD5>900150983cd24fb0d6963f7d28e17f72</MD5><SHA1>a9993e364706816aba3e25717850c26c9cd0d89d</SHA1>");
    r.assert_ok();
    new_name(&r, "1");
    let root = files(&s, "1", "").await;
    cp("<MD5>900150983cd24fb0d6963f7d28e17f73</MD5>").assert_failed(&["checksum mismatch", "MD5"]);
    cp("<SHA1>a9993e364706816aba3e25717850c26c9cd0d89e</SHA1>")
        .assert_failed(&["checksum mismatch", "SHA1"]);
    let folder = env.root.join("f");
    user_folder(&folder, "d", "vmfs", b"x");
    let data = ds_data(
        1,
        h,
        Some(&format!(
            "<ID>14</ID><PATH>{}</PATH><TEMPLATE><MD5>00</MD5></TEMPLATE>",
            folder.display()
        )),
        "",
    );
    ds(&env, "cp", &data, "14").assert_failed(&["is a folder", "MD5/SHA1"]);
    assert_eq!(files(&s, "1", "").await, root);
    // The upload cannot be recorded (the records' folder is a file): cp still registers,
    // saying what a kill would leave.
    let records = env.home.join(".one/vmware-uploads");
    // (Emptied by the runs above: each removed its record.)
    std::fs::remove_dir(&records).expect("the records' folder is empty");
    std::fs::write(&records, b"not a folder").expect("write");
    let r = cp("<MD5>900150983cd24fb0d6963f7d28e17f72</MD5>");
    r.assert_ok();
    assert!(r.stderr.contains("a kill midway would leave"), "{r}");
    new_name(&r, "1");
    std::fs::remove_file(&records).expect("rm");
}

/// A cp that fails after its image is complete (here: its SOURCE cannot be written, stdout
/// being `/dev/full`) exits 1 and keeps its upload record, so the next cp through that host
/// and datastore removes the image, and nothing else: not a 32-hex folder without a record,
/// not the next cp's own image.
#[tokio::test]
async fn cp_failing_after_its_upload_leaves_its_image_to_the_next_cp() {
    let env = OneEnv::vcenter().await;
    let s = env.sdk().await;
    let h = env.host(0);
    let iso = env.root.join("kept.iso");
    std::fs::write(&iso, b"an ISO image").expect("write");
    let data = ds_data(
        1,
        h,
        Some(&format!(
            "<ID>15</ID><TYPE>CDROM</TYPE><PATH>{}</PATH>",
            iso.display()
        )),
        "",
    );
    // A folder named like cp's images but recorded nowhere: not cp's to remove.
    let stranger = "0123456789abcdef0123456789abcdef";
    std::fs::create_dir(sdk::datastore_dir(&s, "1").await.join(stranger)).expect("mkdir");
    let root = files(&s, "1", "").await;
    assert!(root.iter().any(|f| f == stranger), "{root:?}");

    let out = env
        .command("datastore/vmfs/cp", &[&data, "15"], &[])
        .stdout(std::fs::File::create("/dev/full").expect("/dev/full"))
        .output()
        .expect("run cp");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let block = support::error_block(&stderr).unwrap_or_default();
    assert!(block.contains("cannot write the result"), "{stderr}");
    // Its image: the name it uploaded to, left with its record.
    let name = stderr
        .lines()
        .find_map(|l| l.split(" as [1] ").nth(1))
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("no upload line: {stderr}"))
        .to_string();
    let mut with_image = root.clone();
    with_image.push(name.clone());
    with_image.sort();
    assert_eq!(files(&s, "1", "").await, with_image, "{stderr}");
    let record = env.home.join(format!(".one/vmware-uploads/{name}.upload"));
    assert!(record.is_file(), "the record stays: {stderr}");

    let r = ds(&env, "cp", &data, "15");
    r.assert_ok();
    assert!(
        r.stderr.contains(&format!(
            "removed [1] {name}, left by an image upload that was killed or failed"
        )),
        "{r}"
    );
    let mut want = root.clone();
    want.push(new_name(&r, "1"));
    want.sort();
    assert_eq!(files(&s, "1", "").await, want, "{r}");
    assert!(!record.exists(), "{r}");
}

// Two workers: the loopback HTTP server keeps serving while a test thread waits for a
// driver process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cp_stat_and_context_stream_http_urls_from_a_loopback_server() {
    use support::storage::{FileServer, Served};
    let env = OneEnv::vcenter().await;
    let s = env.sdk().await;
    let h = env.host(1);
    let iso: Vec<u8> = (0..600_000u32).map(|i| (i % 239) as u8).collect();
    let src = env.root.join("served");
    user_folder(
        &src.join("vm disk"),
        "web disk",
        "vmfs",
        &vec![0u8; 3 * 1024 * 1024],
    );
    let tar = src.join("disk.tar.gz");
    targz(&src, "vm disk", &tar);
    let tar_bytes = std::fs::read(&tar).expect("tar");
    let read = |name: &str| std::fs::read(src.join("vm disk").join(name)).expect("read");
    let (descriptor, extent) = (read("web disk.vmdk"), read("web disk-flat.vmdk"));
    let server = FileServer::start(vec![
        Served::file("/cd.iso", iso.clone()),
        Served::file("/img/disk.tar.gz", tar_bytes.clone()),
        Served::file("/init.sh", b"#!/bin/sh\necho from the web\n".to_vec()),
        Served {
            length: false,
            ..Served::file("/unsized.iso", iso.clone())
        },
        Served {
            cut_at: Some(100_000),
            ..Served::file("/cut.iso", iso.clone())
        },
        // A descriptor and its extent beside it, the extent without Content-Length.
        Served::file("/vm/web%20disk.vmdk", descriptor),
        Served {
            length: false,
            ..Served::file("/vm/web%20disk-flat.vmdk", extent.clone())
        },
        Served::file("/mono.vmdk", b"KDMV\x01\x00\x00\x00binary header".to_vec()),
        // Redirects: a chain of three (relative, absolute, relative), and a loop.
        Served::redirect("/r1.iso", "r2.iso?step=2"),
        Served::redirect("/r2.iso", "/go/r3.iso"),
        Served::redirect("/go/r3.iso", "../cd.iso"),
        Served::redirect("/loop1.iso", "/loop2.iso"),
        Served::redirect("/loop2.iso", "/loop1.iso"),
        Served::redirect("/nowhere.iso", "/missing.iso"),
    ])
    .await;
    let run = |action: &str, url: &str, ty: &str, tmpl: &str| {
        let data = ds_data(
            1,
            h,
            Some(&format!(
                "<ID>21</ID><TYPE>{ty}</TYPE><PATH><![CDATA[{url}]]></PATH><TEMPLATE>{tmpl}</TEMPLATE>"
            )),
            "",
        );
        ds(&env, action, &data, "21")
    };
    let ds1 = sdk::datastore_dir(&s, "1").await;

    // stat: Content-Length of an ISO (or its bytes counted), the unpacked disk of a .tar.gz,
    // the extents of a descriptor.
    for (path, ty, mb) in [
        ("/cd.iso", "CDROM", "1\n"),
        ("/unsized.iso", "CDROM", "1\n"),
        ("/r1.iso", "CDROM", "1\n"),
        ("/img/disk.tar.gz?x=1", "OS", "4\n"),
        ("/vm/web%20disk.vmdk", "OS", "4\n"),
    ] {
        let r = run("stat", &server.url(path), ty, "");
        r.assert_ok();
        assert_eq!(r.stdout, mb, "stat of {path}: {r}");
    }

    // cp of an ISO with both checksums (md5sum / sha1sum of the bytes, computed here).
    let md5 = driver_vmm::storage::checksum::Md5::default();
    let md5 = {
        let mut m = md5;
        m.update(&iso);
        m.hex()
    };
    let sha1 = {
        use sha1::Digest as _;
        let d = sha1::Sha1::digest(&iso);
        d.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    let sums = format!("<MD5>{md5}</MD5><SHA1>{sha1}</SHA1>");
    let r = run("cp", &server.url("/cd.iso?token=secret"), "CDROM", &sums);
    r.assert_ok();
    assert!(
        !r.stderr.contains("secret"),
        "the query is never shown: {r}"
    );
    let name = new_name(&r, "1");
    assert_eq!(std::fs::read(ds1.join(&name)).expect("iso copy"), iso);

    // An ISO reached through three redirects, and one without Content-Length (spooled):
    // the same bytes, checksums checked; no cookie the server set is sent back.
    for (path, info) in [
        ("/r1.iso?token=secret", "uploaded"),
        ("/unsized.iso", "spooled"),
    ] {
        let r = run("cp", &server.url(path), "CDROM", &sums);
        r.assert_ok();
        assert!(r.stderr.contains(info), "{r}");
        assert!(!r.stderr.contains("secret"), "{r}");
        let name = new_name(&r, "1");
        assert_eq!(std::fs::read(ds1.join(&name)).expect("iso copy"), iso);
    }
    let heads = server.heads.lock().expect("heads").clone();
    assert!(heads.iter().any(|h| h.starts_with("GET /go/r3.iso ")));
    for head in &heads {
        let lower = head.to_ascii_lowercase();
        assert!(
            !lower.contains("cookie:") && !lower.contains("authorization:"),
            "{head}"
        );
    }

    // cp of a .tar.gz (unpacked as it streams) and of a descriptor URL (its extent fetched
    // from beside it).
    for path in ["/img/disk.tar.gz", "/vm/web%20disk.vmdk"] {
        let r = run("cp", &server.url(path), "OS", "");
        r.assert_ok();
        let name = new_name(&r, "1");
        assert_eq!(files(&s, "1", &name).await, ["disk-flat.vmdk", "disk.vmdk"]);
        assert_eq!(
            std::fs::read(ds1.join(&name).join("disk-flat.vmdk")).expect("extent"),
            extent,
            "{path}"
        );
        let desc = std::fs::read_to_string(ds1.join(&name).join("disk.vmdk")).expect("desc");
        assert!(desc.contains("\"disk-flat.vmdk\""), "{desc}");
    }

    // Failures leave nothing on the datastore.
    let root = files(&s, "1", "").await;
    let bad_md5 = format!("<MD5>{}</MD5>", "0".repeat(32));
    let bad_sha1 = format!("<SHA1>{}</SHA1>", "0".repeat(40));
    let url = |p: &str| server.url(p);
    let cases: Vec<(&str, String, &str, &str, Vec<&str>)> = vec![
        (
            "cp",
            url("/cd.iso"),
            "CDROM",
            &bad_md5,
            vec!["checksum mismatch", "MD5"],
        ),
        (
            "cp",
            url("/unsized.iso"),
            "CDROM",
            &bad_md5,
            vec!["checksum mismatch", "MD5"],
        ),
        (
            "cp",
            url("/img/disk.tar.gz"),
            "OS",
            &bad_sha1,
            vec!["checksum mismatch", "SHA1"],
        ),
        ("cp", url("/cut.iso"), "CDROM", "", vec!["cut.iso"]),
        (
            "cp",
            url("/missing.iso"),
            "CDROM",
            "",
            vec!["cannot download", "404"],
        ),
        (
            "cp",
            url("/loop1.iso?t=secret"),
            "CDROM",
            "",
            vec!["redirects in a loop"],
        ),
        (
            "stat",
            url("/loop1.iso"),
            "CDROM",
            "",
            vec!["redirects in a loop"],
        ),
        (
            "cp",
            url("/nowhere.iso"),
            "CDROM",
            "",
            vec!["nowhere.iso", "404"],
        ),
        (
            "cp",
            url("/mono.vmdk"),
            "OS",
            "",
            vec!["hosted sparse", "ESX cannot run"],
        ),
        (
            "cp",
            url("/x.qcow2"),
            "OS",
            "",
            vec!["cannot be registered", "qcow2"],
        ),
        (
            "stat",
            url("/x.tar.bz2"),
            "OS",
            "",
            vec!["cannot be registered"],
        ),
        (
            "cp",
            "ftp://127.0.0.1/x.iso".into(),
            "CDROM",
            "",
            vec!["not an absolute path"],
        ),
    ];
    for (action, u, ty, tmpl, needles) in &cases {
        let r = run(action, u, ty, tmpl);
        let block = r.assert_failed(needles);
        assert!(!block.contains("secret"), "{block}");
    }
    assert_eq!(files(&s, "1", "").await, root);

    // context: a URL among the files goes on the ISO under its own name.
    let ctx = env.root.join("context.sh");
    std::fs::write(&ctx, "HOSTNAME='vm97'\n").expect("write");
    let dst = hp(h, "/vmfs/volumes/0/97/disk.1");
    let init_url = server.url("/init.sh?sig=abc");
    tm(
        &env,
        "context",
        &[ctx.to_str().unwrap(), &init_url, &dst, "97", "0"],
    )
    .assert_silent_ok("CONTEXT ISO");
    let iso_copy = std::fs::read(sdk::datastore_dir(&s, "0").await.join("97/disk.1.iso"))
        .expect("context iso");
    let mut names = joliet_names(&iso_copy);
    names.sort();
    assert_eq!(names, ["context.sh", "init.sh"]);
    assert!(iso_copy.windows(13).any(|w| w == b"from the web\n"));
    let dst2 = hp(h, "/vmfs/volumes/0/97/disk.2");
    tm(
        &env,
        "context",
        &[
            ctx.to_str().unwrap(),
            &server.url("/gone.sh"),
            &dst2,
            "97",
            "0",
        ],
    )
    .assert_failed(&["cannot download", "gone.sh", "404"]);
    assert!(!files(&s, "0", "97")
        .await
        .contains(&"disk.2.iso".to_string()));
    assert!(server.requests.load(std::sync::atomic::Ordering::SeqCst) >= 12);
}

#[tokio::test]
async fn cp_of_one_vmdk_and_mv_between_datastores() {
    let env = OneEnv::vcenter().await;
    let s = env.sdk().await;
    let h = env.host(0);
    // One descriptor of a folder holding two disks: that disk alone is registered.
    let folder = env.root.join("two disks");
    let extent: Vec<u8> = (0..200_000u32).map(|i| (i % 247) as u8).collect();
    user_folder(&folder, "a", "vmfs", &extent);
    user_folder(&folder, "b", "vmfs", b"other disk");
    let before = snapshot(&folder);
    let cp = |path: &std::path::Path| {
        let data = ds_data(
            1,
            h,
            Some(&format!(
                "<ID>22</ID><PATH><![CDATA[{}]]></PATH>",
                path.display()
            )),
            "",
        );
        ds(&env, "cp", &data, "22")
    };
    let r = cp(&folder.join("a.vmdk"));
    r.assert_ok();
    let name = new_name(&r, "1");
    assert_eq!(files(&s, "1", &name).await, ["disk-flat.vmdk", "disk.vmdk"]);
    let ds1 = sdk::datastore_dir(&s, "1").await;
    assert_eq!(
        std::fs::read(ds1.join(&name).join("disk-flat.vmdk")).expect("extent"),
        extent
    );
    assert_eq!(snapshot(&folder), before, "the user's folder changed");
    // A single-file (monolithic sparse) disk, an extent alone: refused, nothing made.
    let root = files(&s, "1", "").await;
    let mono = env.root.join("mono.vmdk");
    std::fs::write(&mono, b"KDMV\x01\x00\x00\x00binary header").expect("write");
    cp(&mono).assert_failed(&["hosted sparse", "ESX cannot run"]);
    cp(&folder.join("a-flat.vmdk")).assert_failed(&["a-flat.vmdk"]);
    assert_eq!(files(&s, "1", "").await, root);

    // mv of a VM's directory from datastore 0 to 1, and back one disk at a time.
    sdk::create_disk(&s, &env, "0", 60, 0).await;
    sdk::create_disk(&s, &env, "0", 60, 1).await;
    let link = "{\"image\":\"x\"}";
    std::fs::write(
        sdk::datastore_dir(&s, "0").await.join("60/disk.1.link"),
        link,
    )
    .expect("record");
    let h1 = env.host(1);
    let mv = |from: &str, to: &str| tm(&env, "mv", &[&hp(h, from), &hp(h1, to), "60", "0"]);
    mv("/vmfs/volumes/0/60", "/vmfs/volumes/1/60").assert_ok();
    assert!(files(&s, "0", "60").await.is_empty());
    assert_eq!(
        files(&s, "1", "60").await,
        ["disk.0", "disk.1", "disk.1.link"]
    );
    assert_eq!(
        files(&s, "1", "60/disk.0").await,
        ["disk-flat.vmdk", "disk.vmdk"]
    );
    mv("/vmfs/volumes/1/60/disk.1", "/vmfs/volumes/0/60/disk.1").assert_ok();
    assert_eq!(files(&s, "0", "60").await, ["disk.1", "disk.1.link"]);
    assert_eq!(files(&s, "1", "60").await, ["disk.0"]);
    // Refusals: nothing moved, nothing deleted.
    sdk::create_disk(&s, &env, "0", 60, 0).await;
    mv("/vmfs/volumes/1/60/disk.0", "/vmfs/volumes/0/60/disk.0")
        .assert_failed(&["already exists", "nothing was moved"]);
    mv("/vmfs/volumes/1/60/disk.7", "/vmfs/volumes/0/60/disk.7")
        .assert_failed(&["nothing there to move"]);
    mv("/vmfs/volumes/1/60/disk.0", "/vmfs/volumes/0/60/disk.1").assert_failed(&["same name only"]);
    mv("/vmfs/volumes/1/60", "/vmfs/volumes/1/../0/60").assert_failed(&["'.' and '..'"]);
    assert_eq!(
        files(&s, "1", "60/disk.0").await,
        ["disk-flat.vmdk", "disk.vmdk"]
    );
    assert_eq!(
        files(&s, "0", "60").await,
        ["disk.0", "disk.1", "disk.1.link"]
    );
}
