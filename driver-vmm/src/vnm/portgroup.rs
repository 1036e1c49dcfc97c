//! Standard-switch port groups on one ESX host: what `pre` wants (`one-pg-<NETWORK_ID>` on
//! the vSwitch named by the NIC's `BRIDGE`, with its VLAN), the plan against the host's
//! `HostNetworkSystem.networkInfo` (add what is missing, update what differs, keep the rest),
//! and carrying it out with `AddPortGroup` / `UpdatePortGroup`.
//!
//! Names are compared exactly (legacy's `grep one-pg-1` also matched `one-pg-10`). Port
//! groups are shared by every VM of a network on the host, so nothing here ever removes one.

use std::fmt;

use vim_sdk::mo;
use vim_sdk::types::{
    Any, AnyData, AnyMethodFault, HostNetworkInfo, HostNetworkPolicy, HostPortGroupSpec,
};
use vim_sdk::Client;

/// The prefix of the port groups the dynamic network driver manages.
pub const PREFIX: &str = "one-pg-";

/// The highest VLAN id a standard port group takes (4095 means "all VLANs", a trunk).
pub const MAX_VLAN: i32 = 4095;

/// OpenNebula's `:start_vlan` of the legacy driver: a network without `VLAN_ID` gets VLAN
/// `2 + NETWORK_ID`.
pub const START_VLAN: u64 = 2;

/// The port group name of OpenNebula network `network_id`.
pub fn name(network_id: u64) -> String {
    format!("{PREFIX}{network_id}")
}

/// One port group a VM needs on its host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    /// `one-pg-<NETWORK_ID>`.
    pub name: String,
    /// The vSwitch (the NIC's `BRIDGE`).
    pub vswitch: String,
    /// The VLAN id, 0 for none.
    pub vlan: i32,
}

impl Wanted {
    /// What a NIC asks for: network `network_id` on `vswitch`; `vlan` is whether the NIC
    /// says `VLAN=YES`, `vlan_id` its `VLAN_ID`. VLAN_ID only counts with `VLAN=YES`, as in
    /// the legacy driver; without it the VLAN is `2 + NETWORK_ID`.
    pub fn for_nic(
        network_id: u64,
        vswitch: &str,
        vlan: bool,
        vlan_id: Option<u64>,
    ) -> Result<Wanted, String> {
        if vswitch.is_empty() {
            return Err(format!(
                "NIC of network {network_id} has no BRIDGE (the vSwitch of its port group)"
            ));
        }
        let vlan = if vlan {
            let id = vlan_id.unwrap_or(START_VLAN.saturating_add(network_id));
            match i32::try_from(id) {
                Ok(v) if (1..=MAX_VLAN).contains(&v) => v,
                _ => {
                    return Err(format!(
                        "network {network_id}: VLAN {id} is outside 1..{MAX_VLAN}{}",
                        if vlan_id.is_none() {
                            " (2 + NETWORK_ID, as no VLAN_ID is set)"
                        } else {
                            ""
                        }
                    ))
                }
            }
        } else {
            0
        };
        Ok(Wanted {
            name: name(network_id),
            vswitch: vswitch.to_string(),
            vlan,
        })
    }
}

/// What to do for one wanted port group.
#[derive(Debug, Clone)]
pub enum Step {
    /// It exists with the right vSwitch and VLAN.
    Keep(String),
    /// It is missing: `AddPortGroup(spec)`.
    Add(HostPortGroupSpec),
    /// It exists with another vSwitch or VLAN: `UpdatePortGroup(name, spec)`, keeping its
    /// other settings (policy).
    Update {
        /// The port group.
        name: String,
        /// What it was: (vSwitch, VLAN).
        was: (String, i32),
        /// The new spec.
        spec: HostPortGroupSpec,
    },
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Keep(n) => write!(f, "port group {n} is in place"),
            Step::Add(s) => write!(
                f,
                "adding port group {} on vSwitch {} (VLAN {})",
                s.name, s.vswitch_name, s.vlan_id
            ),
            Step::Update { name, was, spec } => write!(
                f,
                "updating port group {name}: vSwitch {} VLAN {} -> vSwitch {} VLAN {}",
                was.0, was.1, spec.vswitch_name, spec.vlan_id
            ),
        }
    }
}

/// Merges the wants of several NICs: one entry per port group name, in first-seen order.
/// Two NICs of one network asking for different vSwitches or VLANs is an error.
pub fn merge(wants: Vec<Wanted>) -> Result<Vec<Wanted>, String> {
    let mut out: Vec<Wanted> = Vec::new();
    for w in wants {
        match out.iter().find(|o| o.name == w.name) {
            None => out.push(w),
            Some(o) if *o == w => {}
            Some(o) => {
                return Err(format!(
                    "NICs of one network disagree on port group {}: vSwitch {} VLAN {} vs vSwitch {} VLAN {}",
                    w.name, o.vswitch, o.vlan, w.vswitch, w.vlan
                ))
            }
        }
    }
    Ok(out)
}

/// The steps that make the host's networking hold `wants`. A vSwitch the host lacks is an
/// error naming the ones it has (vSwitches are the administrator's; they are never made).
pub fn plan(info: &HostNetworkInfo, wants: &[Wanted]) -> Result<Vec<Step>, String> {
    let switches: Vec<&str> = info.vswitch.iter().map(|s| s.name.as_str()).collect();
    let mut steps = Vec::with_capacity(wants.len());
    for w in wants {
        if !switches.contains(&w.vswitch.as_str()) {
            return Err(format!(
                "vSwitch {} (BRIDGE of network port group {}) does not exist on the host; it has: {}",
                w.vswitch,
                w.name,
                if switches.is_empty() {
                    "none".to_string()
                } else {
                    switches.join(", ")
                }
            ));
        }
        let existing = info.portgroup.iter().find(|p| p.spec.name == w.name);
        steps.push(match existing {
            None => Step::Add(HostPortGroupSpec {
                name: w.name.clone(),
                vlan_id: w.vlan,
                vswitch_name: w.vswitch.clone(),
                policy: HostNetworkPolicy::default(),
            }),
            Some(p) if p.spec.vswitch_name == w.vswitch && p.spec.vlan_id == w.vlan => {
                Step::Keep(w.name.clone())
            }
            Some(p) => {
                let mut spec = p.spec.clone();
                spec.vswitch_name = w.vswitch.clone();
                spec.vlan_id = w.vlan;
                Step::Update {
                    name: w.name.clone(),
                    was: (p.spec.vswitch_name.clone(), p.spec.vlan_id),
                    spec,
                }
            }
        });
    }
    Ok(steps)
}

/// The host's `HostNetworkSystem` (`configManager.networkSystem`).
pub async fn network_system(
    client: &Client,
    host: &mo::HostSystem,
) -> Result<mo::HostNetworkSystem, String> {
    let props = host
        .properties(client, &["configManager.networkSystem"])
        .await
        .map_err(|e| e.to_string())?;
    props
        .reference("configManager.networkSystem")
        .cloned()
        .map(mo::HostNetworkSystem::from_ref)
        .ok_or_else(|| "the host has no network system (configManager.networkSystem)".into())
}

/// The network system's `networkInfo` (vSwitches, port groups), read once.
pub async fn network_info(
    client: &Client,
    ns: &mo::HostNetworkSystem,
) -> Result<HostNetworkInfo, String> {
    let mut props = ns
        .properties(client, &["networkInfo"])
        .await
        .map_err(|e| e.to_string())?;
    match props.take("networkInfo") {
        Some(Any::Data(AnyData::HostNetworkInfo(info))) => Ok(*info),
        None => Err("the host's network system reports no networkInfo".into()),
        Some(other) => Err(format!(
            "the host's networkInfo holds {}, not HostNetworkInfo",
            other.type_name()
        )),
    }
}

/// A step that failed, with the server's error.
#[derive(Debug)]
pub struct StepError {
    /// The step, as [`Step`]'s `Display` says it.
    pub step: String,
    /// What the server answered.
    pub error: vim_sdk::Error,
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.step, self.error)
    }
}

/// Carries out `steps` in order; the first failure stops.
pub async fn apply(
    client: &Client,
    ns: &mo::HostNetworkSystem,
    steps: &[Step],
) -> Result<(), StepError> {
    for step in steps {
        let r = match step {
            Step::Keep(_) => Ok(()),
            Step::Add(spec) => ns.add_port_group(client, spec).await,
            Step::Update { name, spec, .. } => ns.update_port_group(client, name, spec).await,
        };
        r.map_err(|error| StepError {
            step: step.to_string(),
            error,
        })?;
    }
    Ok(())
}

/// Makes `wants` hold on `host`: reads `networkInfo` once, plans, applies; returns the steps
/// taken. When an add meets `AlreadyExists` (another process added the port group in
/// between), the network information is read again and the plan redone once.
pub async fn ensure(
    client: &Client,
    host: &mo::HostSystem,
    wants: &[Wanted],
) -> Result<Vec<Step>, String> {
    let ns = network_system(client, host).await?;
    let info = network_info(client, &ns).await?;
    let steps = plan(&info, wants)?;
    match apply(client, &ns, &steps).await {
        Ok(()) => Ok(steps),
        Err(e)
            if matches!(
                e.error.fault().and_then(|f| f.detail.as_ref()),
                Some(AnyMethodFault::AlreadyExists(_))
            ) =>
        {
            let info = network_info(client, &ns).await?;
            let steps = plan(&info, wants)?;
            apply(client, &ns, &steps)
                .await
                .map_err(|e| e.to_string())?;
            Ok(steps)
        }
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vim_sdk::types::{HostPortGroup, HostVirtualSwitch};

    fn info(switches: &[&str], groups: &[(&str, &str, i32)]) -> HostNetworkInfo {
        HostNetworkInfo {
            vswitch: switches
                .iter()
                .map(|s| HostVirtualSwitch {
                    name: s.to_string(),
                    ..Default::default()
                })
                .collect(),
            portgroup: groups
                .iter()
                .map(|(n, s, v)| HostPortGroup {
                    spec: HostPortGroupSpec {
                        name: n.to_string(),
                        vswitch_name: s.to_string(),
                        vlan_id: *v,
                        ..Default::default()
                    },
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn vlan_rules() {
        let w = Wanted::for_nic(7, "vSwitch0", false, Some(99)).unwrap();
        assert_eq!((w.name.as_str(), w.vlan), ("one-pg-7", 0));
        assert_eq!(Wanted::for_nic(7, "vs", true, None).unwrap().vlan, 9);
        assert_eq!(Wanted::for_nic(7, "vs", true, Some(42)).unwrap().vlan, 42);
        assert!(Wanted::for_nic(7, "vs", true, Some(4096)).is_err());
        assert!(Wanted::for_nic(7, "vs", true, Some(0)).is_err());
        let e = Wanted::for_nic(4094, "vs", true, None).unwrap_err();
        assert!(e.contains("2 + NETWORK_ID"), "{e}");
        assert!(Wanted::for_nic(1, "", false, None).is_err());
    }

    #[test]
    fn names_match_exactly() {
        // one-pg-10 exists; one-pg-1 must still be added (legacy's grep skipped it).
        let host = info(&["vSwitch0"], &[("one-pg-10", "vSwitch0", 0)]);
        let wants = [Wanted::for_nic(1, "vSwitch0", false, None).unwrap()];
        let steps = plan(&host, &wants).unwrap();
        assert!(
            matches!(&steps[..], [Step::Add(s)] if s.name == "one-pg-1"),
            "{steps:?}"
        );
    }

    #[test]
    fn keep_add_update() {
        let host = info(
            &["vSwitch0", "vSwitch1"],
            &[
                ("one-pg-1", "vSwitch0", 0),
                ("one-pg-2", "vSwitch0", 0),
                ("one-pg-3", "vSwitch0", 5),
            ],
        );
        let wants = [
            Wanted::for_nic(1, "vSwitch0", false, None).unwrap(),
            Wanted::for_nic(2, "vSwitch0", true, Some(20)).unwrap(),
            Wanted::for_nic(3, "vSwitch1", true, Some(5)).unwrap(),
            Wanted::for_nic(4, "vSwitch1", false, None).unwrap(),
        ];
        let steps = plan(&host, &wants).unwrap();
        assert!(
            matches!(&steps[0], Step::Keep(n) if n == "one-pg-1"),
            "{steps:?}"
        );
        match &steps[1] {
            Step::Update { name, was, spec } => {
                assert_eq!(name, "one-pg-2");
                assert_eq!(was, &("vSwitch0".to_string(), 0));
                assert_eq!((spec.vswitch_name.as_str(), spec.vlan_id), ("vSwitch0", 20));
            }
            other => panic!("{other:?}"),
        }
        match &steps[2] {
            Step::Update { spec, .. } => {
                assert_eq!((spec.vswitch_name.as_str(), spec.vlan_id), ("vSwitch1", 5))
            }
            other => panic!("{other:?}"),
        }
        match &steps[3] {
            Step::Add(s) => assert_eq!(
                (s.name.as_str(), s.vswitch_name.as_str(), s.vlan_id),
                ("one-pg-4", "vSwitch1", 0)
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn missing_vswitch_is_an_error_naming_the_others() {
        let host = info(&["vSwitch0"], &[]);
        let e = plan(
            &host,
            &[Wanted::for_nic(1, "vSwitchX", false, None).unwrap()],
        )
        .unwrap_err();
        assert!(e.contains("vSwitchX") && e.contains("vSwitch0"), "{e}");
    }

    #[test]
    fn merge_dedups_and_refuses_conflicts() {
        let a = Wanted::for_nic(1, "vs", false, None).unwrap();
        let b = Wanted::for_nic(2, "vs", false, None).unwrap();
        assert_eq!(
            merge(vec![a.clone(), b.clone(), a.clone()]).unwrap(),
            vec![a.clone(), b]
        );
        let c = Wanted::for_nic(1, "other", false, None).unwrap();
        assert!(merge(vec![a, c]).is_err());
    }
}
