//! Image registration benchmark (issue 10): `datastore/vmfs/cp` of a folder holding a 1 GiB
//! sparse flat extent, through the installed tree against vcsim (ESX model, TLS, loopback),
//! beside `curl -T` of the same extent to the same datastore HTTP interface, timed as whole
//! processes by `bench.py` (`/work/shared/peers/bench.py`, or `$BENCH_PY`). Ignored by
//! default (it writes several GiB); run it with
//!
//! ```text
//! cargo test -p driver-vmm --all-features --test storage_bench -- --ignored --nocapture
//! ```
//!
//! With `DRIVER_VMM_BIN=target/release/driver-vmm` the remotes tree is re-installed from that
//! binary first, so a release build is measured. It fails if a run fails or the driver's
//! peak memory exceeds 32 MiB.
#![cfg(feature = "vcsim")]

mod support;

use base64::Engine as _;
use support::OneEnv;

#[tokio::test]
#[ignore = "benchmark: writes several GiB; run with --ignored"]
async fn register_a_1gib_sparse_disk_beside_curl() {
    let env = OneEnv::esx().await;
    // `DRIVER_VMM_BIN=target/release/driver-vmm`: measure that build instead (installed over
    // the test's tree the way an operator upgrades).
    if let Some(bin) = std::env::var_os("DRIVER_VMM_BIN") {
        let st = std::process::Command::new(&bin)
            .args(["install", "--remotes"])
            .arg(&env.remotes)
            .status()
            .expect("run DRIVER_VMM_BIN install");
        assert!(st.success(), "install with {bin:?} failed");
        println!("measuring {bin:?}");
    }
    let dir = env.root.join("bench image");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let size: u64 = 1 << 30;
    std::fs::write(
        dir.join("disk.vmdk"),
        format!(
            "# Disk DescriptorFile\nversion=1\ncreateType=\"vmfs\"\nRW {} VMFS \"disk-flat.vmdk\"\n",
            size / 512
        ),
    )
    .expect("descriptor");
    let flat = dir.join("disk-flat.vmdk");
    std::fs::File::create(&flat)
        .and_then(|f| f.set_len(size))
        .expect("sparse extent");
    let xml = format!(
        "<DS_DRIVER_ACTION_DATA><IMAGE><ID>20</ID><TYPE>0</TYPE><PATH>{}</PATH></IMAGE>\
         <DATASTORE><ID>1</ID><BASE_PATH>/vmfs/volumes/1</BASE_PATH><TEMPLATE>\
         <BRIDGE_LIST>127.0.0.1</BRIDGE_LIST></TEMPLATE></DATASTORE></DS_DRIVER_ACTION_DATA>",
        dir.display()
    );
    let data = base64::engine::general_purpose::STANDARD.encode(xml);
    let base = env.vcsim.url().trim_end_matches("/sdk").to_string();
    let url = format!("{base}/folder/curl-flat.vmdk?dcPath=ha-datacenter&dsName=1");
    let bench =
        std::env::var("BENCH_PY").unwrap_or_else(|_| "/work/shared/peers/bench.py".to_string());
    let cp = env.remotes.join("datastore/vmfs/cp");
    let vs = format!("curl -sSk -o /dev/null -T '{}' '{url}'", flat.display());
    println!(
        "$ python3 {bench} -n 3 --warmup 0 --timeout 900 --vs \"{vs}\" -- {} <base64> 20",
        cp.display()
    );
    let out = std::process::Command::new("python3")
        .arg(&bench)
        .args([
            "-n",
            "3",
            "--warmup",
            "0",
            "--timeout",
            "900",
            "--vs",
            &vs,
            "--",
        ])
        .arg(&cp)
        .args([data.as_str(), "20"])
        .current_dir(&env.var)
        .env("HOME", &env.home)
        .env("VMWARERC", env.vmwarerc())
        .output()
        .expect("run bench.py");
    let text = String::from_utf8_lossy(&out.stdout);
    println!("{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success());
    for k in ["A", "B"] {
        let codes = text
            .lines()
            .find(|l| l.starts_with(&format!("{k} exit codes:")))
            .unwrap_or_else(|| panic!("no exit codes of {k}"));
        assert_eq!(codes, format!("{k} exit codes: [0, 0, 0]"), "{text}");
    }
    let peak: f64 = text
        .lines()
        .find(|l| l.starts_with("A peak MiB"))
        .and_then(|l| l.split_whitespace().nth(4))
        .and_then(|v| v.parse().ok())
        .expect("A peak MiB median");
    assert!(
        peak <= 32.0,
        "driver peak memory {peak} MiB > 32 MiB:\n{text}"
    );
}
