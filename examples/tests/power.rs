//! `power` against its own simulator (it changes the VMs): several VMs at once, by name and
//! by path, the state read back independently, and one error line per failing VM.
#![cfg(feature = "vcsim")]

mod support;

use support::{example, sdk, start};
use vim_sdk::mo;
use vim_sdk::testing::Vcsim;

const POWER: &str = env!("CARGO_BIN_EXE_power");

/// The power state of each of `names`.
fn states(sim: &Vcsim, names: &[String]) -> Vec<String> {
    sdk(sim, async |s| {
        let finder = vim_sdk::find::Finder::new(&vim_sdk::ops::Managers::from_content(s.content()));
        let all = finder
            .list::<mo::VirtualMachine>(s, &s.content().root_folder, true)
            .await
            .expect("VMs");
        let mut out = Vec::new();
        for n in names {
            let (_, vm) = all.iter().find(|(name, _)| name == n).expect("the VM");
            out.push(vm.power_state(s).await.expect("state").as_str().to_string());
        }
        out
    })
}

#[test]
fn power_many_vms_in_parallel() {
    let sim = start(Vcsim::builder().esx().vms(3));
    let (names, paths) = sdk(&sim, async |s| {
        let finder = vim_sdk::find::Finder::new(&vim_sdk::ops::Managers::from_content(s.content()));
        let mut names = Vec::new();
        let mut paths = Vec::new();
        for (n, vm) in finder
            .list::<mo::VirtualMachine>(s, &s.content().root_folder, true)
            .await
            .expect("VMs")
        {
            paths.push(
                finder
                    .inventory_path(s, vm.reference())
                    .await
                    .expect("path"),
            );
            names.push(n);
        }
        (names, paths)
    });
    assert_eq!(names.len(), 3);
    assert_eq!(states(&sim, &names), ["poweredOn"; 3]);

    // Two by name, one by path.
    let args = [names[0].clone(), names[1].clone(), paths[2].clone()];
    let run = example(POWER)
        .against(&sim)
        .arg("off")
        .args(args.clone())
        .run();
    let (header, rows) = run.ok().table();
    assert_eq!(header, ["VM", "Action", "Result"]);
    assert_eq!(rows.len(), 3, "{run}");
    for (row, arg) in rows.iter().zip(&args) {
        assert_eq!(
            row,
            &[arg.clone(), "power off".into(), "ok".into()],
            "{run}"
        );
    }
    assert_eq!(states(&sim, &names), ["poweredOff"; 3]);

    // Off again: each VM fails with the server's fault, one line each, exit 1.
    let run = example(POWER)
        .against(&sim)
        .arg("off")
        .args(&names[..2])
        .arg("--json")
        .run();
    assert_eq!(run.code, Some(1), "{run}");
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{run}");
    for l in &lines {
        assert!(l.starts_with("power: cannot power off "), "{run}");
        assert!(l.contains("InvalidPowerState"), "{run}");
    }
    let json = run.json();
    for o in json.as_array().expect("array") {
        assert_eq!(o["ok"], false);
        assert_eq!(o["action"], "off");
        assert!(
            o["error"]
                .as_str()
                .expect("error")
                .contains("InvalidPowerState"),
            "{run}"
        );
    }

    // On, then suspend one and reset another.
    example(POWER)
        .against(&sim)
        .arg("on")
        .args(names.clone())
        .run()
        .ok();
    assert_eq!(states(&sim, &names), ["poweredOn"; 3]);
    example(POWER)
        .against(&sim)
        .args(["suspend", &names[0]])
        .run()
        .ok();
    example(POWER)
        .against(&sim)
        .args(["reset", &names[1]])
        .run()
        .ok();
    assert_eq!(
        states(&sim, &names),
        ["suspended", "poweredOn", "poweredOn"]
    );

    // An unknown VM: nothing is done.
    let run = example(POWER)
        .against(&sim)
        .args(["off", &names[2], "no-such-vm"])
        .run();
    assert!(run.fails(1).ends_with("VM no-such-vm not found"), "{run}");
    assert_eq!(states(&sim, &names)[2], "poweredOn");

    // The same VM by name and by path: acted on once (twice would fail InvalidPowerState).
    let run = example(POWER)
        .against(&sim)
        .args(["off", &names[2], &paths[2]])
        .run();
    assert_eq!(run.ok().table().1.len(), 1, "{run}");
    assert_eq!(states(&sim, &names)[2], "poweredOff");
}
