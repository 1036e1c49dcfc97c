//! Conn against the simulator: host resolution, exact-name VM lookup, another host's pool.

use driver_common::connect::Conn;
use vim_sdk::testing::vcsim::{PASSWORD, USERNAME};
use vim_sdk::testing::Vcsim;

#[tokio::test]
async fn open_find_vm_find_host_through_vcenter() {
    let sim = Vcsim::builder()
        .vpx()
        .clusters(1)
        .hosts(2)
        .standalone_hosts(1)
        .start()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("conn-vcsim-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rc = dir.join("vmwarerc");
    std::fs::write(
        &rc,
        format!(
            ":username: {USERNAME}\n:password: {PASSWORD}\n:vcenter: {}\n:datacenter: DC0\n:session_cache: false\n",
            sim.url()
        ),
    )
    .unwrap();
    let rc = driver_common::config::VmwareRc::load_from(&rc).unwrap();

    let conn = Conn::open_with(rc.clone(), "DC0_C0_H1").await.unwrap();
    assert!(conn.vcenter);
    let name = conn
        .host
        .reference()
        .properties(&conn.session, &["name"])
        .await
        .unwrap();
    assert_eq!(name.str("name"), Some("DC0_C0_H1"));
    // Exact names only.
    assert!(conn.find_vm("DC0_C0_RP0_VM0").await.unwrap().is_some());
    assert!(conn.find_vm("DC0_C0_RP0_VM").await.unwrap().is_none());
    assert!(conn.find_vm("C0_RP0_VM0").await.unwrap().is_none());
    // Another host of the datacenter, with its own compute resource's pool.
    let (h, pool) = conn.find_host("DC0_H0").await.unwrap();
    let p = h
        .reference()
        .properties(&conn.session, &["name", "parent"])
        .await
        .unwrap();
    assert_eq!(p.str("name"), Some("DC0_H0"));
    let cr = p.reference("parent").unwrap().clone();
    let crp = cr
        .properties(&conn.session, &["resourcePool"])
        .await
        .unwrap();
    assert_eq!(crp.reference("resourcePool"), Some(pool.reference()));
    // An address literal: FindByIp on the simulator, no DNS query.
    let e = conn.find_host("192.0.2.9").await;
    assert!(e.is_err());
    conn.close().await.unwrap();

    // A datacenter that is not there names the key and the file.
    let mut bad = rc.clone();
    bad.datacenter = Some("DC9".into());
    let e = Conn::open_with(bad, "DC0_H0")
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("DC9") && e.contains(":datacenter:"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}
