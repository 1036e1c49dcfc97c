//! `datastore ls / upload / download` against the simulator, each checked through an
//! independent vim-sdk session: the bytes uploaded are the bytes the SDK downloads, the
//! listing is what `SearchDatastore_Task` says, errors are one line with exit code 1 or 2.
#![cfg(feature = "vcsim")]

mod support;

use support::{example, local_ds, sdk, sim, temp_dir};

const DATASTORE: &str = env!("CARGO_BIN_EXE_datastore");

/// Bytes that are not all alike (a transfer that reorders or drops chunks shows).
fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

/// What the SDK downloads from `path` of the simulator's datastore `LocalDS_0` of `DC0`.
fn sdk_download(path: &str) -> Vec<u8> {
    sdk(sim(), async |s| {
        let files = local_ds(s).await;
        let mut out = Vec::new();
        files
            .download(s, path, &mut out, |_| {})
            .await
            .expect("SDK download");
        out
    })
}

#[test]
fn upload_ls_and_download_move_the_same_bytes() {
    let sim = sim();
    let dir = temp_dir("datastore");
    let local = dir.join("blob.bin");
    let bytes = payload(3 * 1024 * 1024 + 17);
    std::fs::write(&local, &bytes).unwrap();

    // Upload: the JSON says how many bytes, the SDK reads them back unchanged.
    let run = example(DATASTORE)
        .against(sim)
        .args([
            "--json",
            "upload",
            local.to_str().unwrap(),
            "exdir/blob.bin",
        ])
        .run();
    let json = run.ok().json();
    assert_eq!(json["datastore"], "LocalDS_0");
    assert_eq!(json["path"], "exdir/blob.bin");
    assert_eq!(json["bytes"], bytes.len() as u64);
    assert!(
        sdk_download("exdir/blob.bin") == bytes,
        "uploaded bytes differ"
    );

    // ls: the file, its size and type, as SearchDatastore_Task reports them.
    let run = example(DATASTORE)
        .against(sim)
        .args(["--json", "ls", "exdir"])
        .run();
    let json = run.ok().json();
    assert_eq!(json["folder"], "exdir");
    let files = json["files"].as_array().expect("files");
    assert_eq!(files.len(), 1, "{run}");
    assert_eq!(files[0]["name"], "blob.bin");
    assert_eq!(files[0]["type"], "file");
    assert_eq!(files[0]["size"], bytes.len() as u64);
    // The root lists the folder as a folder; the table has the documented columns.
    let run = example(DATASTORE).against(sim).arg("ls").run();
    let (header, rows) = run.ok().table();
    assert_eq!(header, ["NAME", "TYPE", "SIZE", "MODIFIED"]);
    assert!(
        rows.iter().any(|r| r[0] == "exdir" && r[1] == "folder"),
        "{run}"
    );
    let run = example(DATASTORE).against(sim).args(["ls", "exdir"]).run();
    let (_, rows) = run.ok().table();
    assert_eq!(rows[0][..3], ["blob.bin", "file", "3.0MB"], "{run}");

    // Download to a file and to standard output: the same bytes.
    let back = dir.join("back.bin");
    let run = example(DATASTORE)
        .against(sim)
        .args(["download", "exdir/blob.bin", back.to_str().unwrap()])
        .run();
    run.ok();
    assert!(
        std::fs::read(&back).unwrap() == bytes,
        "downloaded bytes differ"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn download_to_standard_output_streams_the_file() {
    let sim = sim();
    let dir = temp_dir("datastore-stdout");
    let local = dir.join("text.txt");
    let text = "line one\nline two\n".repeat(5000);
    std::fs::write(&local, &text).unwrap();
    example(DATASTORE)
        .against(sim)
        .args(["upload", local.to_str().unwrap(), "exstdout/text.txt"])
        .run()
        .ok();
    let run = example(DATASTORE)
        .against(sim)
        .args(["download", "exstdout/text.txt", "-"])
        .run();
    run.ok();
    assert_eq!(run.stdout, text);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn failures_are_one_line_and_leave_local_files_alone() {
    let sim = sim();
    let dir = temp_dir("datastore-fail");
    let kept = dir.join("kept.txt");
    std::fs::write(&kept, "mine").unwrap();

    // A missing remote file: exit 1, one line naming it; the local file is untouched.
    let run = example(DATASTORE)
        .against(sim)
        .args(["download", "no/such.file", kept.to_str().unwrap()])
        .run();
    let line = run.fails(1);
    assert!(line.contains("[LocalDS_0] no/such.file"), "{run}");
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), "mine");
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "no temporary left"
    );

    // A path climbing out of the datastore is refused before anything is sent.
    let run = example(DATASTORE).against(sim).args(["ls", "../etc"]).run();
    let line = run.fails(2);
    assert!(line.contains(".."), "{run}");

    // An unknown datastore, a missing local file.
    let run = example(DATASTORE)
        .against(sim)
        .args(["--ds", "NoSuchDS", "ls"])
        .run();
    assert!(
        run.fails(1).contains("datastore NoSuchDS not found"),
        "{run}"
    );
    let run = example(DATASTORE)
        .against(sim)
        .args(["upload", "/nonexistent/file", "x/y"])
        .run();
    assert!(run.fails(1).contains("/nonexistent/file"), "{run}");
    // GOVC_DATASTORE names the datastore as --ds does.
    let run = example(DATASTORE)
        .against(sim)
        .env("GOVC_DATASTORE", "NoSuchDS")
        .arg("ls")
        .run();
    assert!(run.fails(1).contains("NoSuchDS"), "{run}");
    let _ = std::fs::remove_dir_all(&dir);
}
