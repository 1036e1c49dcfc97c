//! The network driver's port groups: the SDK-level logic against vcsim (AddPortGroup, exact
//! names, unknown vSwitch) and, for UpdatePortGroup (which vcsim lacks), against a loopback
//! server answering hand-written SOAP.

mod soap_fixture;

use std::sync::Arc;

use soap_fixture::{fault, response, Answer, Fixture};
use vim_sdk::mo;
use vim_sdk::types::ServiceContent;
use vim_sdk::xml::ManagedObjectReference;
use vim_sdk::Client;

use driver_vmm::vnm::portgroup::{self, Step, Wanted};

// ---------------------------------------------------------------------------------------
// The loopback SOAP fixture with canned replies about one host's network.

fn props_reply(obj_type: &str, obj: &str, name: &str, val: &str) -> Answer {
    response(
        "RetrievePropertiesEx",
        Some(&format!(
            "<objects><obj type=\"{obj_type}\">{obj}</obj><propSet><name>{name}</name>{val}</propSet></objects>"
        )),
    )
}

/// The host's network: vSwitch0 and vSwitch1; one-pg-5 on vSwitch0 with VLAN 7 and a
/// traffic-shaping policy that an update must keep.
fn network_info_reply() -> Answer {
    props_reply(
        "HostNetworkSystem",
        "networkSystem-9",
        "networkInfo",
        "<val xsi:type=\"HostNetworkInfo\">\
<vswitch><name>vSwitch0</name><key>key-vim.host.VirtualSwitch-vSwitch0</key><numPorts>128</numPorts><numPortsAvailable>120</numPortsAvailable></vswitch>\
<vswitch><name>vSwitch1</name><key>key-vim.host.VirtualSwitch-vSwitch1</key><numPorts>128</numPorts><numPortsAvailable>120</numPortsAvailable></vswitch>\
<portgroup><key>key-vim.host.PortGroup-one-pg-5</key><computedPolicy></computedPolicy>\
<spec><name>one-pg-5</name><vlanId>7</vlanId><vswitchName>vSwitch0</vswitchName>\
<policy><shapingPolicy><enabled>true</enabled><averageBandwidth>1000</averageBandwidth></shapingPolicy></policy></spec></portgroup>\
<portgroup><key>key-vim.host.PortGroup-one-pg-50</key><computedPolicy></computedPolicy>\
<spec><name>one-pg-50</name><vlanId>0</vlanId><vswitchName>vSwitch0</vswitchName><policy></policy></spec></portgroup>\
</val>",
    )
}

fn answer(method: &str, request: &str) -> Answer {
    match method {
        "RetrievePropertiesEx" if request.contains("configManager.networkSystem") => props_reply(
            "HostSystem",
            "host-1",
            "configManager.networkSystem",
            "<val xsi:type=\"ManagedObjectReference\" type=\"HostNetworkSystem\">networkSystem-9</val>",
        ),
        "RetrievePropertiesEx" if request.contains("networkInfo") => network_info_reply(),
        "UpdatePortGroup" if request.contains("one-pg-5") => response("UpdatePortGroup", None),
        "UpdatePortGroup" => fault(
            "NotFound",
            "The object or item referred to could not be found.",
        ),
        _ => fault("InvalidRequest", "unexpected request"),
    }
}

async fn fixture_server() -> Fixture {
    soap_fixture::start(Arc::new(|method: String, body: String| {
        Box::pin(async move { answer(&method, &body) })
    }))
    .await
}

/// A client of `fx` that knows the property collector without asking (no ServiceContent in
/// this fixture).
fn fixture_client(fx: &Fixture) -> Client {
    let c = fx.client();
    c.remember_service_content(&ServiceContent {
        property_collector: ManagedObjectReference {
            r#type: "PropertyCollector".into(),
            value: "propertyCollector".into(),
        },
        ..Default::default()
    });
    c
}

fn host_ref() -> mo::HostSystem {
    mo::HostSystem::from_ref(ManagedObjectReference {
        r#type: "HostSystem".into(),
        value: "host-1".into(),
    })
}

/// A port group whose VLAN and vSwitch differ is updated with UpdatePortGroup, sending the
/// new vSwitch and VLAN and keeping its policy; one-pg-50 is left alone though one-pg-5 is
/// a prefix of it, and the missing one-pg-6 would be added.
#[tokio::test]
async fn update_port_group_on_fixture_server() {
    let fx = fixture_server().await;
    let c = fixture_client(&fx);
    let wants = vec![Wanted::for_nic(5, "vSwitch1", true, Some(42)).unwrap()];
    let steps = portgroup::ensure(&c, &host_ref(), &wants)
        .await
        .expect("update");
    assert!(
        matches!(&steps[..], [Step::Update { name, was, .. }] if name == "one-pg-5" && was == &("vSwitch0".to_string(), 7)),
        "{steps:?}"
    );
    let seen = fx.bodies();
    // One read of the network system, one of networkInfo, one update.
    assert_eq!(seen.len(), 3, "{seen:#?}");
    let update = &seen[2];
    assert!(update.contains("<UpdatePortGroup"), "{update}");
    assert!(
        update.contains("<_this type=\"HostNetworkSystem\">networkSystem-9</_this>"),
        "{update}"
    );
    assert!(update.contains("<pgName>one-pg-5</pgName>"), "{update}");
    let spec = &update[update.find("<portgrp").expect("portgrp")..];
    assert!(spec.contains("<name>one-pg-5</name>"), "{spec}");
    assert!(spec.contains("<vlanId>42</vlanId>"), "{spec}");
    assert!(
        spec.contains("<vswitchName>vSwitch1</vswitchName>"),
        "{spec}"
    );
    assert!(
        spec.contains("<averageBandwidth>1000</averageBandwidth>"),
        "the policy must be kept: {spec}"
    );
}

/// A fault of UpdatePortGroup fails with the step and the server's fault named.
#[tokio::test]
async fn update_fault_is_reported() {
    let fx = fixture_server().await;
    let c = fixture_client(&fx);
    let ns = mo::HostNetworkSystem::from_ref(ManagedObjectReference {
        r#type: "HostNetworkSystem".into(),
        value: "networkSystem-9".into(),
    });
    let step = Step::Update {
        name: "one-pg-77".into(),
        was: ("vSwitch0".into(), 0),
        spec: vim_sdk::types::HostPortGroupSpec {
            name: "one-pg-77".into(),
            vlan_id: 3,
            vswitch_name: "vSwitch0".into(),
            ..Default::default()
        },
    };
    let err = portgroup::apply(&c, &ns, &[step]).await.expect_err("fault");
    assert_eq!(err.error.fault_type(), Some("NotFound"), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("one-pg-77") && msg.contains("NotFound"),
        "{msg}"
    );
}

/// A wanted vSwitch the host lacks fails before any change (no UpdatePortGroup/AddPortGroup).
#[tokio::test]
async fn missing_vswitch_changes_nothing_on_fixture_server() {
    let fx = fixture_server().await;
    let c = fixture_client(&fx);
    let wants = vec![
        Wanted::for_nic(6, "vSwitch0", false, None).unwrap(),
        Wanted::for_nic(5, "vSwitch9", false, None).unwrap(),
    ];
    let e = portgroup::ensure(&c, &host_ref(), &wants)
        .await
        .expect_err("no vSwitch9");
    assert!(
        e.contains("vSwitch9") && e.contains("vSwitch0, vSwitch1"),
        "{e}"
    );
    let seen = fx.bodies();
    assert!(
        seen.iter()
            .all(|r| !r.contains("<AddPortGroup") && !r.contains("<UpdatePortGroup")),
        "{seen:#?}"
    );
}

// ---------------------------------------------------------------------------------------
// The installed `vnm/vmware/pre` against vcsim, as OpenNebula runs it.

#[cfg(feature = "vcsim")]
mod support;

/// Port groups (name, vSwitch, VLAN) of `host`, read through an independent session.
#[cfg(feature = "vcsim")]
async fn port_groups(env: &support::OneEnv, host: &str) -> Vec<(String, String, i32)> {
    let s = env.sdk().await;
    let h = support::sdk::host(&s, host).await;
    let ns = portgroup::network_system(&s, &h)
        .await
        .expect("network system");
    let info = portgroup::network_info(&s, &ns).await.expect("networkInfo");
    info.portgroup
        .into_iter()
        .map(|p| (p.spec.name, p.spec.vswitch_name, p.spec.vlan_id))
        .collect()
}

#[cfg(feature = "vcsim")]
#[tokio::test]
async fn pre_makes_port_groups_exactly_and_fails_cleanly() {
    use support::{NicDoc, OneEnv, VmDoc};
    let env = OneEnv::vcenter().await;
    env.install();
    let host = env.host(0).to_string();
    let nic = |id: u64, bridge: &str, vlan: bool, vlan_id: Option<u16>, mac: &str| NicDoc {
        network_id: id,
        bridge: bridge.into(),
        vlan,
        vlan_id,
        mac: Some(mac.into()),
        ..Default::default()
    };
    // one-pg-10 first: one-pg-1 must still be made (legacy's substring match skipped it).
    let doc = VmDoc::new(5, &host)
        .nic(nic(10, "vSwitch0", true, None, "02:00:0a:00:00:0a"))
        .nic(nic(1, "vSwitch0", false, None, "02:00:0a:00:00:01"))
        .nic(nic(12, "vSwitch0", true, Some(300), "02:00:0a:00:00:0c"));
    env.run("vnm/vmware/pre", &[&doc.base64()]).assert_ok();
    let pgs = port_groups(&env, &host).await;
    for want in [
        ("one-pg-10", "vSwitch0", 12),
        ("one-pg-1", "vSwitch0", 0),
        ("one-pg-12", "vSwitch0", 300),
    ] {
        let n = pgs
            .iter()
            .filter(|(n, s, v)| (n.as_str(), s.as_str(), *v) == want)
            .count();
        assert_eq!(n, 1, "{want:?} in {pgs:?}");
    }
    // The record for attach_nic.
    let rec = std::fs::read_to_string(env.var.join("vms/5/vnm-vmware-nics")).expect("record");
    assert!(rec.contains("02:00:0a:00:00:01 one-pg-1 vSwitch0"), "{rec}");
    // A re-run changes nothing and succeeds.
    env.run("vnm/vmware/pre", &[&doc.base64()]).assert_ok();
    assert_eq!(port_groups(&env, &host).await.len(), pgs.len());

    // An unknown vSwitch fails with an error block, and makes nothing.
    let bad = VmDoc::new(6, &host).nic(nic(20, "vSwitchX", false, None, "02:00:0a:00:00:14"));
    let run = env.run("vnm/vmware/pre", &[&bad.base64()]);
    run.assert_failed(&["vSwitchX"]);
    assert!(!port_groups(&env, &host)
        .await
        .iter()
        .any(|(n, _, _)| n == "one-pg-20"));
    // An unknown host, malformed base64, malformed XML, no argument: failures.
    let ghost =
        VmDoc::new(7, "no-such-host").nic(nic(21, "vSwitch0", false, None, "02:00:0a:00:00:15"));
    env.run("vnm/vmware/pre", &[&ghost.base64()])
        .assert_failed(&["no-such-host"]);
    env.run("vnm/vmware/pre", &["%%%not-base64"])
        .assert_failed(&["base64"]);
    env.run("vnm/vmware/pre", &["PFZNPjxJRD4x"])
        .assert_failed(&[]);
    env.run("vnm/vmware/pre", &[])
        .assert_failed(&["bad arguments"]);
    // post and clean succeed and remove nothing.
    env.run("vnm/vmware/post", &[&doc.base64(), "one-5"])
        .assert_ok();
    env.run("vnm/vmware/clean", &[&doc.base64()]).assert_ok();
    assert_eq!(port_groups(&env, &host).await.len(), pgs.len());
}
