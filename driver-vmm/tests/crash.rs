//! Crash safety: a driver SIGKILLed at any request of deploy, save, attach_disk, migrate, an
//! image copy (TM clone), an image registration (datastore cp) or a disk moving between
//! datastores (TM mv) leaves a state that the next run completes or cleans up, with nothing
//! the user keeps deleted and no VM registered twice.
//!
//! A loopback proxy ([`support::kill_proxy`]) sits between the drivers and a plain-HTTP
//! vCenter simulator. For an action, a clean run counts its requests (N); then for each kill
//! point k (request k arrives: killed before it is forwarded; or request k's reply was passed
//! on: killed right after, before the driver could act on it) a fresh object gets the action
//! killed at k, the action is run again as OpenNebula would retry it, and the end state is
//! checked through an independent session. CI runs a sample of the kill points (`crash_points_sampled`); every point of every
//! action runs with `--ignored` (`crash_points_all`). Both print their counts
//! (`-- --nocapture`).

mod support;

use support::kill_proxy::{KillAt, KillProxy};
use support::{sdk, OneEnv, Run};
use vim_sdk::session::Session;
use vim_sdk::types::AnyVirtualDeviceBackingInfo;

/// The environment of a sweep: the simulator, the proxy the drivers go through, a checking
/// session and the next free VM id.
struct Lab {
    env: OneEnv,
    proxy: KillProxy,
    s: Session,
    next_vmid: u64,
}

/// What a sweep of one action did.
#[derive(Debug, Default)]
struct Tally {
    action: &'static str,
    clean_requests: u64,
    points: usize,
    killed: usize,
    /// Retries that failed because the killed run had finished the job (save: the VM was
    /// already unregistered), the next action (restore) completing it.
    retries_refused: usize,
}

impl Tally {
    /// Counts a kill point tried.
    fn count(&mut self, p: &Point) {
        self.points += 1;
        self.killed += usize::from(p.was_killed());
    }
}

/// Where a sweep stands: the action, the kill point and what the killed run did. Every
/// assertion of a sweep names it.
struct Point {
    action: &'static str,
    at: Option<KillAt>,
    /// Whether the kill landed, and the killed run's log lines.
    killed: Option<(bool, Vec<String>)>,
}

impl Point {
    /// The clean run of `action` (no kill).
    fn clean(action: &'static str) -> Point {
        Point {
            action,
            at: None,
            killed: None,
        }
    }

    /// Whether the kill landed.
    fn was_killed(&self) -> bool {
        matches!(self.killed, Some((true, _)))
    }
}

impl std::fmt::Display for Point {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.at {
            None => write!(f, "{}, clean run", self.action)?,
            Some(at) => write!(f, "{}, kill at {at:?}", self.action)?,
        }
        match &self.killed {
            Some((true, log)) => write!(f, " (killed; its log: {log:?})"),
            Some((false, log)) => write!(f, " (ended before the kill; its log: {log:?})"),
            None => Ok(()),
        }
    }
}

impl Lab {
    async fn new() -> Lab {
        let env = OneEnv::vcenter_plain().await;
        let proxy = KillProxy::start(env.vcsim.addr());
        env.write_vmwarerc(&env.plain_vmwarerc(proxy.addr()));
        let s = env.sdk().await;
        let lab = Lab {
            env,
            proxy,
            s,
            next_vmid: 1000,
        };
        // A warm session cache, as on a front-end that has been running.
        lab.run("vmm/vmware/poll", &["one-1", lab.host(0), "1", lab.host(0)])
            .assert_ok();
        lab
    }

    fn host(&self, i: usize) -> &str {
        self.env.host(i)
    }

    fn vmid(&mut self) -> u64 {
        self.next_vmid += 1;
        self.next_vmid
    }

    /// A run through the proxy, nothing armed.
    fn run(&self, script: &str, args: &[&str]) -> Run {
        self.proxy.reset();
        self.env.run(script, args)
    }

    /// A clean run (must succeed) and the number of requests it made.
    fn count(&self, script: &str, args: &[&str]) -> u64 {
        self.run(script, args).assert_ok();
        self.proxy.requests()
    }

    /// A run of `action` killed at `at`, and where that leaves the sweep (the run may end
    /// before the kill lands).
    fn killed(
        &self,
        action: &'static str,
        at: KillAt,
        script: &str,
        args: &[&str],
    ) -> (Run, Point) {
        self.proxy.reset();
        let run = self
            .env
            .run_observed(script, args, &[], |pid| self.proxy.arm(at, pid));
        let killed = self.proxy.killed();
        self.proxy.reset();
        let p = Point {
            action,
            at: Some(at),
            killed: Some((killed, run.log_lines.clone())),
        };
        if killed {
            assert_eq!(run.code, -1, "{p}: the proxy killed it, yet:\n{run}");
        } else {
            assert_eq!(run.code, 0, "{p}: not killed, yet:\n{run}");
        }
        (run, p)
    }

    /// The retry after the killed run at `p`, which must succeed.
    fn retry(&self, p: &Point, script: &str, args: &[&str]) -> Run {
        let retry = self.run(script, args);
        assert_eq!(retry.code, 0, "{p}: the retry failed:\n{retry}");
        retry
    }

    /// Deploys `one-<vmid>` on host `host` (disk made first) through the drivers.
    async fn deploy(&mut self, host: usize) -> u64 {
        let vmid = self.prepare_deploy().await;
        self.run("vmm/vmware/deploy", &strs(&self.deploy_args(vmid, host)))
            .assert_ok();
        vmid
    }

    /// A new VM id with its disk and deployment file, not deployed.
    async fn prepare_deploy(&mut self) -> u64 {
        let vmid = self.vmid();
        sdk::create_disk(&self.s, &self.env, "0", vmid, 0).await;
        let mac = format!("00:50:56:01:{:02x}:{:02x}", vmid / 256 % 256, vmid % 256);
        self.env
            .write_deployment(vmid, 0, &sdk::small_deployment(vmid, &mac));
        vmid
    }

    fn deploy_args(&self, vmid: u64, host: usize) -> Vec<String> {
        let dfile = self.env.var.join(format!("vms/{vmid}/deployment.0"));
        vec![
            dfile.to_string_lossy().into_owned(),
            self.host(host).to_string(),
            vmid.to_string(),
            self.host(host).to_string(),
        ]
    }

    /// Exactly one VM `one-<vmid>`, in `power` state, on host `host`, with its disk file.
    async fn check_vm(
        &self,
        p: &Point,
        vmid: u64,
        host: usize,
        power: &str,
    ) -> vim_sdk::mo::VirtualMachine {
        let name = format!("one-{vmid}");
        let mut found = sdk::vms_named(&self.s, &name).await;
        assert_eq!(
            found.len(),
            1,
            "{p}: {name} registered {} times",
            found.len()
        );
        let vm = found.pop().expect("one");
        let state = sdk::power_state(&self.s, &vm).await;
        assert_eq!(state, power, "{p}: {name} is {state}, not {power}");
        let props = sdk::props(&self.s, vm.reference(), &["runtime.host"]).await;
        let want = sdk::host(&self.s, self.host(host)).await;
        assert_eq!(
            props.reference("runtime.host"),
            Some(want.reference()),
            "{p}: {name} is not on {}",
            self.host(host)
        );
        self.check_disk(p, vmid, 0).await;
        vm
    }

    /// `[0] <vmid>/disk.<n>/disk.vmdk` is there.
    async fn check_disk(&self, p: &Point, vmid: u64, n: u32) {
        let files = sdk::datastore_files(&self.s, "0", &format!("{vmid}/disk.{n}")).await;
        assert!(
            files.iter().any(|f| f == "disk.vmdk"),
            "{p}: disk {n} of VM {vmid} lost, found {files:?}"
        );
    }
}

/// The kill points of an action whose clean run made `clean` requests: both kinds at every
/// request (`all`), or a sample: the first and last requests and every fifth between, taking
/// the two kinds in turn.
fn kill_points(clean: u64, all: bool) -> Vec<KillAt> {
    let mut points = Vec::new();
    for n in 1..=clean {
        if all {
            points.push(KillAt::Before(n));
            points.push(KillAt::AfterReply(n));
        } else if n == 1 || n == clean || n % 5 == 0 {
            points.push(if n % 2 == 0 {
                KillAt::AfterReply(n)
            } else {
                KillAt::Before(n)
            });
        }
    }
    points
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// deploy killed at each point, then deployed again: one VM, powered on, on its host.
async fn sweep_deploy(lab: &mut Lab, all: bool) -> Tally {
    let action = "deploy";
    let vmid = lab.prepare_deploy().await;
    let clean = lab.count("vmm/vmware/deploy", &strs(&lab.deploy_args(vmid, 1)));
    lab.check_vm(&Point::clean(action), vmid, 1, "poweredOn")
        .await;
    let mut t = Tally {
        action,
        clean_requests: clean,
        ..Tally::default()
    };
    for at in kill_points(clean, all) {
        let vmid = lab.prepare_deploy().await;
        let args = lab.deploy_args(vmid, 1);
        let (_, p) = lab.killed(action, at, "vmm/vmware/deploy", &strs(&args));
        t.count(&p);
        let retry = lab.retry(&p, "vmm/vmware/deploy", &strs(&args));
        assert_eq!(
            retry.stdout.trim(),
            format!("one-{vmid}"),
            "{p}: the retry printed another deploy id:\n{retry}"
        );
        lab.check_vm(&p, vmid, 1, "poweredOn").await;
    }
    t
}

/// save killed at each point, then saved again (or, when the kill came after the VM was
/// unregistered, the retried save fails saying so), then restored: one VM, powered on.
async fn sweep_save(lab: &mut Lab, all: bool) -> Tally {
    let action = "save";
    let save_args = |vmid: u64, h: &str| {
        vec![
            format!("one-{vmid}"),
            format!("/vmfs/volumes/0/{vmid}/checkpoint"),
            h.to_string(),
            vmid.to_string(),
            h.to_string(),
        ]
    };
    let restore_args = |vmid: u64, h: &str| {
        vec![
            format!("/vmfs/volumes/0/{vmid}/checkpoint"),
            h.to_string(),
            format!("one-{vmid}"),
            vmid.to_string(),
            h.to_string(),
        ]
    };
    let vmid = lab.deploy(2).await;
    let clean = lab.count("vmm/vmware/save", &strs(&save_args(vmid, lab.host(2))));
    let mut t = Tally {
        action,
        clean_requests: clean,
        ..Tally::default()
    };
    for at in kill_points(clean, all) {
        let vmid = lab.deploy(2).await;
        let h = lab.host(2).to_string();
        let (_, p) = lab.killed(action, at, "vmm/vmware/save", &strs(&save_args(vmid, &h)));
        t.count(&p);
        let retry = lab.run("vmm/vmware/save", &strs(&save_args(vmid, &h)));
        if retry.code != 0 {
            // Only acceptable when the killed save had got as far as unregistering.
            let block = retry.error_block.clone().unwrap_or_default();
            assert!(
                retry.code == 1
                    && block.contains(&format!("one-{vmid}"))
                    && block.contains("not found")
                    && retry.log_lines.iter().any(|l| l.starts_with("ERROR: ")),
                "{p}: the retry failed, and not because the VM was already saved:\n{retry}"
            );
            t.retries_refused += 1;
        }
        assert!(
            !sdk::registered(&lab.s, &format!("one-{vmid}")).await,
            "{p}: one-{vmid} still registered after the retried save"
        );
        lab.check_disk(&p, vmid, 0).await;
        let restore = lab.run("vmm/vmware/restore", &strs(&restore_args(vmid, &h)));
        assert_eq!(
            restore.code, 0,
            "{p}: the restore after it failed:\n{restore}"
        );
        lab.check_vm(&p, vmid, 2, "poweredOn").await;
    }
    t
}

/// attach_disk killed at each point, then run again: the disk attached once, the VM's own
/// disk still there.
async fn sweep_attach_disk(lab: &mut Lab, all: bool) -> Tally {
    let action = "attach_disk";
    let args = |vmid: u64, h: &str| {
        vec![
            format!("one-{vmid}"),
            format!("/vmfs/volumes/0/{vmid}/disk.1"),
            "sdb".to_string(),
            "1".to_string(),
            "drv_message".to_string(),
            vmid.to_string(),
            h.to_string(),
        ]
    };
    let h = lab.host(0).to_string();
    let attach = async |lab: &mut Lab| {
        let vmid = lab.deploy(0).await;
        sdk::create_disk(&lab.s, &lab.env, "0", vmid, 1).await;
        vmid
    };
    let vmid = attach(lab).await;
    let clean = lab.count("vmm/vmware/attach_disk", &strs(&args(vmid, &h)));
    let mut t = Tally {
        action,
        clean_requests: clean,
        ..Tally::default()
    };
    for at in kill_points(clean, all) {
        let vmid = attach(lab).await;
        let (_, p) = lab.killed(action, at, "vmm/vmware/attach_disk", &strs(&args(vmid, &h)));
        t.count(&p);
        lab.retry(&p, "vmm/vmware/attach_disk", &strs(&args(vmid, &h)));
        let vm = lab.check_vm(&p, vmid, 0, "poweredOn").await;
        let devices = vm.devices(&lab.s).await.expect("devices");
        let files: Vec<String> = devices
            .disks()
            .filter_map(|d| match d.base.backing.as_ref() {
                Some(AnyVirtualDeviceBackingInfo::VirtualDiskFlatVer2BackingInfo(b)) => {
                    Some(b.base.file_name.clone())
                }
                _ => None,
            })
            .collect();
        let want = |n: u32| format!("[0] {vmid}/disk.{n}/disk.vmdk");
        for n in 0..2 {
            assert_eq!(
                files.iter().filter(|f| **f == want(n)).count(),
                1,
                "{p}: disk {n} not attached once, found {files:?}"
            );
        }
        assert_eq!(files.len(), 2, "{p}: other disks attached, found {files:?}");
        lab.check_disk(&p, vmid, 1).await;
    }
    t
}

/// migrate killed at each point, then run again: one VM, on the destination, powered on.
async fn sweep_migrate(lab: &mut Lab, all: bool) -> Tally {
    let action = "migrate";
    let (src, dst) = (lab.host(0).to_string(), lab.host(1).to_string());
    let args = |vmid: u64| {
        vec![
            format!("one-{vmid}"),
            dst.clone(),
            src.clone(),
            vmid.to_string(),
            src.clone(),
        ]
    };
    let vmid = lab.deploy(0).await;
    let clean = lab.count("vmm/vmware/migrate", &strs(&args(vmid)));
    lab.check_vm(&Point::clean(action), vmid, 1, "poweredOn")
        .await;
    let mut t = Tally {
        action,
        clean_requests: clean,
        ..Tally::default()
    };
    for at in kill_points(clean, all) {
        let vmid = lab.deploy(0).await;
        let (_, p) = lab.killed(action, at, "vmm/vmware/migrate", &strs(&args(vmid)));
        t.count(&p);
        lab.retry(&p, "vmm/vmware/migrate", &strs(&args(vmid)));
        lab.check_vm(&p, vmid, 1, "poweredOn").await;
    }
    t
}

/// TM clone of a disk image killed at each point, then run again: the VM's copy complete
/// (descriptor and extent), the image untouched.
async fn sweep_clone(lab: &mut Lab, all: bool) -> Tally {
    let action = "tm clone";
    let image = "crashimg";
    sdk::create_disk_in(&lab.s, &lab.env, &format!("[1] {image}")).await;
    let image_files = sdk::datastore_files(&lab.s, "1", image).await;
    assert!(
        image_files.iter().any(|f| f == "disk.vmdk"),
        "{image_files:?}"
    );
    let h = lab.host(0).to_string();
    let args = |vmid: u64| {
        vec![
            format!("fe:/vmfs/volumes/1/{image}"),
            format!("{h}:/vmfs/volumes/0/{vmid}/disk.0"),
            vmid.to_string(),
            "1".to_string(),
        ]
    };
    let copied = async |lab: &Lab, p: &Point, vmid: u64| {
        let files = sdk::datastore_files(&lab.s, "0", &format!("{vmid}/disk.0")).await;
        assert_eq!(
            files,
            ["disk-flat.vmdk", "disk.vmdk"],
            "{p}: the copy of VM {vmid}"
        );
        let now = sdk::datastore_files(&lab.s, "1", image).await;
        assert_eq!(now, image_files, "{p}: the image changed");
    };
    let vmid = lab.vmid();
    let clean = lab.count("tm/vmfs/clone", &strs(&args(vmid)));
    copied(lab, &Point::clean(action), vmid).await;
    let mut t = Tally {
        action,
        clean_requests: clean,
        ..Tally::default()
    };
    for at in kill_points(clean, all) {
        let vmid = lab.vmid();
        let (_, p) = lab.killed(action, at, "tm/vmfs/clone", &strs(&args(vmid)));
        t.count(&p);
        lab.retry(&p, "tm/vmfs/clone", &strs(&args(vmid)));
        copied(lab, &p, vmid).await;
    }
    t
}

/// datastore cp of a user's `.vmdk` folder killed at each point, then run again: one new
/// image, complete; what the killed run left on the datastore removed; the user's folder as
/// it was.
async fn sweep_cp(lab: &mut Lab, all: bool) -> Tally {
    use support::storage::{ds_data, new_name, snapshot, user_folder};
    let action = "datastore cp";
    let folder = lab.env.root.join("crash folder");
    let extent: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    user_folder(&folder, "user disk", "vmfs", &extent);
    let before = snapshot(&folder);
    let data = ds_data(
        1,
        lab.host(0),
        Some(&format!("<ID>31</ID><PATH>{}</PATH>", folder.display())),
        "",
    );
    let args = [data.as_str(), "31"];
    // `r` (exit 0) made one new image, complete, and the datastore's root holds `root`
    // and that image only.
    let complete = async |lab: &Lab, p: &Point, r: &Run, root: &[String]| {
        assert_eq!(r.code, 0, "{p}: failed:\n{r}");
        let name = new_name(r, "1");
        let mut want = root.to_vec();
        want.push(name.clone());
        want.sort();
        let found = sdk::datastore_files(&lab.s, "1", "").await;
        assert_eq!(
            found, want,
            "{p}: datastore 1 should hold what it held and {name} only, after:\n{r}"
        );
        let files = sdk::datastore_files(&lab.s, "1", &name).await;
        assert_eq!(
            files,
            ["disk-flat.vmdk", "disk.vmdk"],
            "{p}: image {name} incomplete, after:\n{r}"
        );
        assert_eq!(snapshot(&folder), before, "{p}: the user's folder changed");
    };
    let clean = lab.count("datastore/vmfs/cp", &args);
    let mut t = Tally {
        action,
        clean_requests: clean,
        ..Tally::default()
    };
    let mut cleaned = 0;
    for at in kill_points(clean, all) {
        let root = sdk::datastore_files(&lab.s, "1", "").await;
        let (run, p) = lab.killed(action, at, "datastore/vmfs/cp", &args);
        t.count(&p);
        if !p.was_killed() {
            // The run made fewer requests than the point and ended first: its image is
            // OpenNebula's (SOURCE printed, exit 0), and a retry would rightly make another.
            complete(lab, &p, &run, &root).await;
            continue;
        }
        let retry = lab.run("datastore/vmfs/cp", &args);
        complete(lab, &p, &retry, &root).await;
        cleaned += usize::from(
            retry
                .stderr
                .contains("left by an image upload that was killed or failed"),
        );
    }
    // Some killed run had made its folder, which the retry removed.
    assert!(cleaned > 0, "{action}: no retry had a leftover to remove");
    t
}

/// TM mv of a disk (its folder and link record) from datastore 0 to 1 killed at each
/// point, then run again: everything on 1, the VM's other disk left on 0.
async fn sweep_mv(lab: &mut Lab, all: bool) -> Tally {
    let action = "tm mv";
    let (h0, h1) = (lab.host(0).to_string(), lab.host(1).to_string());
    let prepare = async |lab: &mut Lab| {
        let vmid = lab.vmid();
        sdk::create_disk(&lab.s, &lab.env, "0", vmid, 0).await;
        sdk::create_disk(&lab.s, &lab.env, "0", vmid, 1).await;
        let dir = sdk::datastore_dir(&lab.s, "0").await;
        std::fs::write(dir.join(format!("{vmid}/disk.1.link")), "{\"image\":\"x\"}")
            .expect("link record");
        vmid
    };
    let args = |vmid: u64| {
        vec![
            format!("{h0}:/vmfs/volumes/0/{vmid}/disk.1"),
            format!("{h1}:/vmfs/volumes/1/{vmid}/disk.1"),
            vmid.to_string(),
            "0".to_string(),
        ]
    };
    let moved = async |lab: &Lab, p: &Point, vmid: u64| {
        let dir = vmid.to_string();
        let on = |ds: &'static str| sdk::datastore_files(&lab.s, ds, &dir);
        let (on1, on0) = (on("1").await, on("0").await);
        assert_eq!(
            on1,
            ["disk.1", "disk.1.link"],
            "{p}: VM {vmid} on datastore 1"
        );
        assert_eq!(on0, ["disk.0"], "{p}: VM {vmid} on datastore 0");
        let disk = sdk::datastore_files(&lab.s, "1", &format!("{vmid}/disk.1")).await;
        assert_eq!(
            disk,
            ["disk-flat.vmdk", "disk.vmdk"],
            "{p}: VM {vmid}'s disk.1 on datastore 1"
        );
    };
    let vmid = prepare(lab).await;
    let clean = lab.count("tm/vmfs/mv", &strs(&args(vmid)));
    moved(lab, &Point::clean(action), vmid).await;
    let mut t = Tally {
        action,
        clean_requests: clean,
        ..Tally::default()
    };
    for at in kill_points(clean, all) {
        let vmid = prepare(lab).await;
        let (_, p) = lab.killed(action, at, "tm/vmfs/mv", &strs(&args(vmid)));
        t.count(&p);
        lab.retry(&p, "tm/vmfs/mv", &strs(&args(vmid)));
        moved(lab, &p, vmid).await;
    }
    t
}

async fn sweep_all(all: bool) {
    let mut lab = Lab::new().await;
    let tallies = [
        sweep_deploy(&mut lab, all).await,
        sweep_save(&mut lab, all).await,
        sweep_attach_disk(&mut lab, all).await,
        sweep_migrate(&mut lab, all).await,
        sweep_clone(&mut lab, all).await,
        sweep_cp(&mut lab, all).await,
        sweep_mv(&mut lab, all).await,
    ];
    for t in &tallies {
        eprintln!(
            "crash: {}: {} requests in a clean run, {} kill points tried, {} killed, {} retries refused",
            t.action, t.clean_requests, t.points, t.killed, t.retries_refused
        );
        assert!(t.killed > 0, "{}: no kill point was reached", t.action);
    }
    let _ = lab.s.logout().await;
}

#[tokio::test]
async fn crash_points_sampled() {
    sweep_all(false).await;
}

#[tokio::test]
#[ignore = "every kill point of every action: a few minutes"]
async fn crash_points_all() {
    sweep_all(true).await;
}
