//! Datastore files against vcsim: a 5 MiB upload/download round trip over HTTP with
//! progress, folders, deletion and misses.
#![cfg(feature = "vcsim")]

use std::sync::atomic::Ordering;

use vim_sdk::datastore::http::counting_progress;
use vim_sdk::datastore::{DatastoreFiles, DatastoreLocation, PathProblem};
use vim_sdk::find::Finder;
use vim_sdk::mo;
use vim_sdk::testing::Vcsim;
use vim_sdk::transport::TransportError;
use vim_sdk::types::{HostDatastoreBrowserSearchResults, HostDatastoreBrowserSearchSpec};
use vim_sdk::ErrorKind;

#[path = "support/vcsim.rs"]
mod vcsim;
use vcsim::{connect, start};

const SIZE: usize = 5 * 1024 * 1024;

/// The files of the ESX simulator's datastore `LocalDS_0`.
async fn local_ds_files(c: &vim_sdk::Client, m: &vim_sdk::ops::Managers) -> DatastoreFiles {
    let dc: mo::Datacenter = Finder::new(m)
        .by_inventory_path(c, "ha-datacenter")
        .await
        .expect("find dc")
        .expect("ha-datacenter");
    DatastoreFiles::new(m, dc, DatastoreLocation::new("ha-datacenter", "LocalDS_0"))
}

#[tokio::test]
async fn five_mib_round_trip_with_progress() {
    let sim = start(Vcsim::builder().esx());
    let (c, m) = connect(&sim).await;
    let files = local_ds_files(&c, &m).await;

    let dir = std::env::temp_dir().join(format!("vim-sdk-ds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let local = dir.join("upload.bin");
    let data: Vec<u8> = (0..SIZE as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&local, &data).expect("write local file");

    files
        .make_directory(&c, "up loads/nested", true)
        .await
        .expect("mkdir");
    // Creating it again with parents is no error.
    files
        .make_directory(&c, "up loads/nested", true)
        .await
        .expect("mkdir again");
    let remote = "up loads/nested/data #1.bin";

    let (sent, progress) = counting_progress();
    files
        .upload_file(&c, &local, remote, progress)
        .await
        .expect("upload");
    assert_eq!(sent.load(Ordering::Relaxed), SIZE as u64);

    let back = dir.join("download.bin");
    let mut received = 0u64;
    let mut calls = 0usize;
    let n = files
        .download_file(&c, remote, &back, |k| {
            received += k;
            calls += 1;
        })
        .await
        .expect("download");
    assert_eq!(n, SIZE as u64);
    assert_eq!(received, SIZE as u64);
    assert!(calls > 1, "a 5 MiB body arrives in several chunks");
    let got = std::fs::read(&back).expect("read download");
    assert!(got == data, "downloaded bytes differ");

    // Into memory through AsyncWrite, too.
    let mut sink: Vec<u8> = Vec::new();
    let n = files
        .download(&c, remote, &mut sink, |_| {})
        .await
        .expect("to memory");
    assert_eq!(n as usize, SIZE);
    assert!(sink == data);

    files.delete(&c, "up loads").await.expect("delete folder");
    let err = files
        .download(&c, remote, &mut Vec::new(), |_| {})
        .await
        .unwrap_err();
    match &err.kind {
        ErrorKind::Transport(TransportError::Status { status, .. }) => {
            assert_eq!(status.as_u16(), 404)
        }
        other => panic!("expected a 404, got {other:?}"),
    }
    assert!(
        err.to_string()
            .contains("[LocalDS_0] up loads/nested/data #1.bin"),
        "{err}"
    );
    let err = files.delete(&c, "up loads").await.unwrap_err();
    assert_eq!(err.fault_type(), Some("FileNotFound"), "{err}");
    let err = files
        .download(&c, "../x", &mut Vec::new(), |_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(&err.kind, ErrorKind::DatastorePath(e) if e.problem == PathProblem::DotComponent),
        "{err:?}"
    );

    // Nothing but the downloaded file is left in the folder (no temporary file).
    let mut left: Vec<String> = std::fs::read_dir(&dir)
        .expect("list temp dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["download.bin", "upload.bin"]);

    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_failed_download_leaves_the_local_file_alone() {
    let sim = start(Vcsim::builder().esx());
    let (c, m) = connect(&sim).await;
    let files = local_ds_files(&c, &m).await;
    let dir = std::env::temp_dir().join(format!("vim-sdk-ds-keep-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let local = dir.join("precious.bin");
    std::fs::write(&local, b"the user's own bytes").expect("write local file");

    let err = files
        .download_file(&c, "no such folder/missing.bin", &local, |_| {})
        .await
        .unwrap_err();
    match &err.kind {
        ErrorKind::Transport(TransportError::Status { status, .. }) => {
            assert_eq!(status.as_u16(), 404)
        }
        other => panic!("expected a 404, got {other:?}"),
    }
    assert_eq!(
        std::fs::read(&local).expect("the file is still there"),
        b"the user's own bytes"
    );
    // A refused path does not touch it either.
    let err = files
        .download_file(&c, "../x", &local, |_| {})
        .await
        .unwrap_err();
    assert!(matches!(err.kind, ErrorKind::DatastorePath(_)), "{err:?}");
    let names: Vec<_> = std::fs::read_dir(&dir)
        .expect("list temp dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, ["precious.bin"], "no temporary file is left behind");

    // A download that succeeds replaces the file.
    files
        .upload(&c, "kept/new.bin", &b"new bytes"[..], 9, |_| {})
        .await
        .expect("upload");
    let n = files
        .download_file(&c, "kept/new.bin", &local, |_| {})
        .await
        .expect("download");
    assert_eq!(n, 9);
    assert_eq!(std::fs::read(&local).expect("read"), b"new bytes");
    files.delete(&c, "kept").await.expect("clean up");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_root_and_climbing_paths_are_never_sent() {
    let sim = start(Vcsim::builder().esx());
    let (c, m) = connect(&sim).await;
    let files = local_ds_files(&c, &m).await;
    files
        .make_directory(&c, "still-here", false)
        .await
        .expect("mkdir");
    for (bad, problem) in [
        ("", PathProblem::Root),
        ("/", PathProblem::Absolute),
        ("still-here/..", PathProblem::DotComponent),
        ("still-here/../../other", PathProblem::DotComponent),
        ("still-here\\..", PathProblem::Backslash),
        ("still-here\0", PathProblem::ControlCharacter),
    ] {
        let err = files.delete(&c, bad).await.unwrap_err();
        match &err.kind {
            ErrorKind::DatastorePath(e) => assert_eq!(e.problem, problem, "{bad:?}"),
            other => panic!("{bad:?}: expected a path error, got {other:?}"),
        }
        let err = files.make_directory(&c, bad, true).await.unwrap_err();
        assert!(matches!(err.kind, ErrorKind::DatastorePath(_)), "{bad:?}");
    }
    // The datastore's files are all still there.
    let err = files
        .make_directory(&c, "still-here", false)
        .await
        .unwrap_err();
    assert_eq!(err.fault_type(), Some("FileAlreadyExists"), "{err}");
    files.delete(&c, "still-here").await.expect("clean up");
}

#[tokio::test]
async fn datastore_searches_return_typed_task_results() {
    let sim = start(Vcsim::builder().esx());
    let (c, m) = connect(&sim).await;
    let files = local_ds_files(&c, &m).await;
    files
        .make_directory(&c, "searched/inner", true)
        .await
        .expect("mkdir");
    let ds: mo::Datastore = Finder::new(&m)
        .by_inventory_path(&c, "ha-datacenter/datastore/LocalDS_0")
        .await
        .expect("find datastore")
        .expect("LocalDS_0");
    let browser = ds.browser(&c).await.expect("browser");
    // vcsim dereferences the spec without checking it, and matches nothing without a pattern.
    let spec = HostDatastoreBrowserSearchSpec {
        match_pattern: vec!["*".into()],
        ..Default::default()
    };

    // A task whose result is a data object: `TaskOf<HostDatastoreBrowserSearchResults>`.
    let one: HostDatastoreBrowserSearchResults = browser
        .search_datastore_task(&c, "[LocalDS_0] searched", Some(&spec))
        .await
        .expect("search")
        .wait(&c)
        .await
        .expect("search result");
    let names: Vec<&str> = one.file.iter().map(|f| f.base().path.as_str()).collect();
    assert_eq!(names, ["inner"], "{one:?}");

    // A task whose result is an array of them: `TaskOf<Vec<HostDatastoreBrowserSearchResults>>`.
    let all: Vec<HostDatastoreBrowserSearchResults> = browser
        .search_datastore_sub_folders_task(&c, "[LocalDS_0]", Some(&spec))
        .await
        .expect("search sub folders")
        .wait(&c)
        .await
        .expect("sub folder results");
    assert!(
        all.iter().any(|r| r
            .folder_path
            .as_deref()
            .is_some_and(|p| p.trim_end_matches('/').ends_with("searched"))
            && r.file.iter().any(|f| f.base().path == "inner")),
        "{all:?}"
    );
    files.delete(&c, "searched").await.expect("clean up");
}
