//! The examples that watch: `events` (recent, and `--follow` seeing events posted after it
//! started), `tasks` (recent, and `--follow` seeing a new task), `perf` (counters, units
//! and interval as the SDK reads them). Checked through an independent vim-sdk session;
//! the power operations that make events and tasks run in one test, one after the other.
#![cfg(feature = "vcsim")]

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;

use serde_json::Value;
use support::canned::{self, Canned};
use support::{example, local_ds, on_vm, sdk, sim, temp_dir, RUN_TIMEOUT};
use vim_sdk::ops::Managers;
use vim_sdk::perf::PerfCounters;

const EVENTS: &str = env!("CARGO_BIN_EXE_events");
const TASKS: &str = env!("CARGO_BIN_EXE_tasks");
const PERF: &str = env!("CARGO_BIN_EXE_perf");

/// A following run: started with the simulator's credentials, its output read line by line.
struct Follower {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Follower {
    fn start(bin: &str, args: &[&str]) -> Self {
        let mut child = example(bin)
            .against(sim())
            .args(args.iter().copied())
            .command(&temp_dir("follow"))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the example");
        let out = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Follower { child, lines }
    }

    /// The next line as JSON; a run that prints nothing for [`RUN_TIMEOUT`] fails the test.
    fn next(&mut self) -> Value {
        match self.lines.recv_timeout(RUN_TIMEOUT) {
            Ok(line) => serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}")),
            Err(e) => {
                let _ = self.child.kill();
                panic!("no line from the follower: {e}")
            }
        }
    }

    /// Waits for the exit (the run stops by itself after `--max` lines); its code.
    fn exit(mut self) -> Option<i32> {
        self.child.wait().expect("wait").code()
    }
}

/// JSON lines of a run's standard output.
/// The simulator's task list is shared by this binary's tests: those that start tasks on it
/// (or whose calls could) and the one that reads its recent tasks take this lock, so that a
/// task of one test never shows up as the newest in another.
static TASK_LIST: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Holds [`TASK_LIST`] for the rest of the calling test (a failed test does not poison it
/// for the others).
fn own_task_list() -> std::sync::MutexGuard<'static, ()> {
    TASK_LIST
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn json_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Events name their entity from the event's arguments (the VM's name); tasks carry
/// `TaskInfo.entityName` (govc's "Target": the name on ESX and vCenter, the managed object id
/// on vcsim 0.24) and the id itself, both checked against what the SDK reads.
#[test]
fn events_and_tasks_recent_and_followed() {
    let _tasks = own_task_list();
    let sim = sim();
    const VM: &str = "DC0_H0_VM0";
    on_vm(VM, async |s, vm| vm.power_off(s).await.expect("power off"));

    // The two newest events of the VM: its power-off, oldest first, as the SDK's own
    // collector sees them.
    let run = example(EVENTS)
        .against(sim)
        .args(["--json", VM, "-n", "2"])
        .run();
    let events = json_lines(&run.ok().stdout);
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["VmStoppingEvent", "VmPoweredOffEvent"], "{run}");
    assert!(events.iter().all(|e| e["entity"] == VM), "{run}");
    assert!(events[0]["key"].as_i64() < events[1]["key"].as_i64());
    let newest: Vec<i64> = on_vm(VM, async |s, vm| {
        let m = Managers::from_content(s.content());
        let filter = vim_sdk::types::EventFilterSpec {
            entity: Some(vim_sdk::types::EventFilterSpecByEntity {
                entity: vm.reference().clone(),
                recursion: vim_sdk::types::EventFilterSpecRecursionOption::All,
            }),
            ..Default::default()
        };
        let c = m
            .event_manager
            .expect("event manager")
            .create_collector_for_events(s, &filter)
            .await
            .expect("collector");
        let page = vim_sdk::property::typed_one(s, &c, &["latestPage"])
            .await
            .expect("latestPage")
            .props
            .latest_page
            .unwrap_or_default();
        c.destroy_collector(s).await.expect("destroy");
        let mut keys: Vec<i64> = page.iter().map(|e| i64::from(e.base().key)).collect();
        keys.sort_unstable();
        keys.split_off(keys.len().saturating_sub(2))
    });
    let printed: Vec<i64> = events.iter().map(|e| e["key"].as_i64().unwrap()).collect();
    assert_eq!(printed, newest);

    // Following: the newest event first, then the two that powering on posts.
    let mut follow = Follower::start(EVENTS, &["--json", VM, "-n", "1", "--follow", "--max", "2"]);
    assert_eq!(follow.next()["type"], "VmPoweredOffEvent");
    on_vm(VM, async |s, vm| vm.power_on(s).await.expect("power on"));
    assert_eq!(follow.next()["type"], "VmStartingEvent");
    assert_eq!(follow.next()["type"], "VmPoweredOnEvent");
    assert_eq!(follow.exit(), Some(0));

    // Recent tasks: the power operations, as the SDK reads TaskManager.recentTask.
    let infos: Vec<vim_sdk::types::TaskInfo> = sdk(sim, async |s| {
        let m = Managers::from_content(s.content());
        let tm = m.task_manager.expect("task manager");
        let tasks = vim_sdk::property::typed_one(s, &tm, &["recentTask"])
            .await
            .expect("recentTask")
            .props
            .recent_task
            .unwrap_or_default();
        vim_sdk::property::typed_many(s, &tasks, &["info"])
            .await
            .expect("infos")
            .into_iter()
            .filter_map(|t| t.props.info)
            .collect()
    });
    let recent: Vec<(String, String)> = infos
        .iter()
        .map(|i| (i.task.value.clone(), i.description_id.clone()))
        .collect();
    let run = example(TASKS).against(sim).arg("--json").run();
    let tasks = json_lines(&run.ok().stdout);
    let mut listed: Vec<(String, String)> = tasks
        .iter()
        .map(|t| {
            (
                t["task"].as_str().unwrap().into(),
                t["name"].as_str().unwrap().into(),
            )
        })
        .collect();
    let mut expected = recent.clone();
    listed.sort();
    expected.sort();
    assert_eq!(listed, expected, "{run}");
    let off = tasks
        .iter()
        .find(|t| t["name"] == "VirtualMachine.powerOff")
        .expect("the power-off task");
    let info = infos
        .iter()
        .find(|i| off["task"] == i.task.value.as_str())
        .expect("the SDK sees the power-off task");
    let vm_id = on_vm(VM, async |_, vm| vm.reference().value.clone());
    assert_eq!(
        info.entity.as_ref().map(|e| e.value.as_str()),
        Some(vm_id.as_str())
    );
    assert_eq!(off["entity_id"], vm_id.as_str());
    assert_eq!(
        off["entity"],
        info.entity_name.as_deref().expect("an entity name")
    );
    assert_eq!(off["state"], "success");
    let run = example(TASKS).against(sim).run();
    let (header, rows) = run.ok().table();
    assert_eq!(header[..4], ["QUEUED", "TASK", "ENTITY", "STATE"]);
    assert_eq!(rows.len(), recent.len(), "{run}");

    // Following tasks: every recent one first, then the new power-off as it changes.
    let mut follow = Follower::start(TASKS, &["--json", "--follow", "--max", "1"]);
    for _ in 0..recent.len() {
        follow.next();
    }
    on_vm(VM, async |s, vm| vm.power_off(s).await.expect("power off"));
    let new = follow.next();
    assert_eq!(new["name"], "VirtualMachine.powerOff");
    assert!(
        !recent.iter().any(|(id, _)| new["task"] == id.as_str()),
        "a new task: {new}"
    );
    assert_eq!(follow.exit(), Some(0));
}

#[test]
fn perf_reads_counters_with_their_units() {
    let sim = sim();
    const VM: &str = "DC0_H0_VM1";
    let (interval, units) = on_vm(VM, async |s, vm| {
        let names = [
            "cpu.usage.average",
            "mem.usage.average",
            "net.usage.average",
        ];
        let counters = PerfCounters::resolve_default(s, &names)
            .await
            .expect("resolve");
        let ids: Vec<i32> = names.iter().map(|n| counters.id(n).unwrap()).collect();
        let infos = vim_sdk::property::typed_one(s, counters.manager(), &["perfCounter"])
            .await
            .expect("counter infos")
            .props
            .perf_counter
            .unwrap_or_default();
        let rate = counters
            .refresh_rate(s, vm.reference())
            .await
            .expect("refresh rate");
        let units: Vec<String> = ids
            .iter()
            .map(|id| {
                infos
                    .iter()
                    .find(|i| i.key == *id)
                    .unwrap()
                    .unit_info
                    .base()
                    .key
                    .clone()
            })
            .collect();
        (rate, units)
    });
    let run = example(PERF).against(sim).args(["--json", VM]).run();
    let json = run.ok().json();
    assert_eq!(json["type"], "VirtualMachine");
    assert_eq!(json["interval"], interval.expect("real-time statistics"));
    let counters = json["counters"].as_array().expect("counters");
    let names: Vec<&str> = counters
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "cpu.usage.average",
            "mem.usage.average",
            "net.usage.average"
        ]
    );
    for (c, unit) in counters.iter().zip(&units) {
        assert_eq!(c["unit"], unit.as_str(), "{c}");
        assert!(c["value"].is_null() || c["value"].is_i64(), "{c}");
        assert_eq!(c["value"].is_null(), c["time"].is_null(), "{c}");
    }
    assert_eq!(units[0], "percent");

    // A host counter in MHz, as a table.
    let run = example(PERF)
        .against(sim)
        .args(["DC0_H0", "cpu.usagemhz.average"])
        .run();
    let (header, rows) = run.ok().table();
    assert_eq!(header, ["COUNTER", "VALUE", "UNIT", "TIME"]);
    assert_eq!(rows[0][0], "cpu.usagemhz.average");
    assert_eq!(rows[0][2], "megaHertz", "{run}");
    assert!(rows[0][1] == "-" || rows[0][1].ends_with(" MHz"), "{run}");

    // A counter the server does not have: one line, exit 1.
    let run = example(PERF)
        .against(sim)
        .args([VM, "no.such.counter"])
        .run();
    assert!(
        run.fails(1)
            .contains("no performance counter no.such.counter"),
        "{run}"
    );
}

/// vcsim answers `MethodNotFound` to the `DiagnosticManager`'s calls and to
/// `CreateScreenshot_Task`: `logtail` and `screenshot` report the server's fault in one line
/// (their success paths run against the canned fixture below).
#[test]
fn logtail_and_screenshot_report_what_the_simulator_lacks() {
    let _tasks = own_task_list();
    let sim = sim();
    let run = example(env!("CARGO_BIN_EXE_logtail")).against(sim).run();
    assert!(
        run.fails(1).starts_with("logtail: cannot read log hostd: "),
        "{run}"
    );
    let run = example(env!("CARGO_BIN_EXE_logtail"))
        .against(sim)
        .arg("--list")
        .run();
    assert!(
        run.fails(1).starts_with("logtail: cannot list the logs: "),
        "{run}"
    );

    let dir = temp_dir("screenshot");
    let out = dir.join("shot.png");
    let run = example(env!("CARGO_BIN_EXE_screenshot"))
        .against(sim)
        .args(["DC0_H0_VM1", out.to_str().unwrap()])
        .run();
    let line = run.fails(1);
    assert!(
        line.starts_with("screenshot: cannot take a screenshot of VM DC0_H0_VM1: MethodNotFound"),
        "{run}"
    );
    assert!(!out.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A hostd log's last lines, as ESX sends them (markup escaped in the XML).
const HOSTD: [&str; 3] = [
    "2026-11-30T01:02:01.101Z info hostd[2099] [Originator@6876 sub=Vimsvc.TaskManager] Task Created : haTask-1-vim.VirtualMachine.powerOn-42",
    "2026-11-30T01:02:02.202Z warning hostd[2101] [Originator@6876 sub=Libs] <vm-1> \"quoted\" & more",
    "2026-11-30T01:02:03.303Z info hostd[2099] [Originator@6876 sub=Vimsvc.TaskManager] Task Completed : haTask-1-vim.VirtualMachine.powerOn-42 Status success",
];

/// A `BrowseDiagnosticLog` reply: lines `start..=end`, with `text` (none for a probe).
fn log_header(start: i32, end: i32, text: &[&str]) -> String {
    let lines: String = text
        .iter()
        .map(|t| {
            let t = t
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;");
            format!("<lineText>{t}</lineText>")
        })
        .collect();
    format!(
        r#"<BrowseDiagnosticLogResponse xmlns="urn:vim25"><returnval><lineStart>{start}</lineStart><lineEnd>{end}</lineEnd>{lines}</returnval></BrowseDiagnosticLogResponse>"#
    )
}

/// `logtail` against the canned fixture: the end probe (a start past the end) and the read
/// of the last N lines are the requests it must send (a request of another shape reaches the
/// simulator and fails); the lines come out as sent, numbered in `--json`; `--list` is the
/// table of `QueryDescriptions`.
#[test]
fn logtail_reads_the_last_lines_and_lists_the_logs() {
    let sim = sim();
    let fixture = Canned::start();
    for json in [true, false] {
        fixture.answer(
            "BrowseDiagnosticLog",
            "<start>999999999</start>",
            &log_header(250, 250, &[]),
        );
        fixture.answer(
            "BrowseDiagnosticLog",
            "<start>248</start><lines>3</lines>",
            &log_header(248, 250, &HOSTD),
        );
        let mut run = example(env!("CARGO_BIN_EXE_logtail"))
            .against(sim)
            .env("GOVC_URL", fixture.proxy.url())
            .args(["-n", "3"]);
        if json {
            run = run.arg("--json");
        }
        let run = run.run();
        run.ok();
        if json {
            let lines = json_lines(&run.stdout);
            let expected: Vec<Value> = (248..)
                .zip(HOSTD)
                .map(|(n, t)| serde_json::json!({"line": n, "text": t}))
                .collect();
            assert_eq!(lines, expected, "{run}");
        } else {
            assert_eq!(run.stdout, format!("{}\n", HOSTD.join("\n")), "{run}");
        }
    }
    assert_eq!(fixture.proxy.count("BrowseDiagnosticLog"), 4);

    fixture.answer(
        "QueryDescriptions",
        "",
        concat!(
            r#"<QueryDescriptionsResponse xmlns="urn:vim25">"#,
            "<returnval><key>hostd</key><fileName>/var/run/log/hostd.log</fileName>",
            "<creator>VMware</creator><format>plain</format><mimeType>text/plain</mimeType>",
            "<info><label>hostd</label><summary>Server log in 'plain' format</summary></info></returnval>",
            "<returnval><key>vmkernel</key><fileName>/var/run/log/vmkernel.log</fileName>",
            "<creator>VMware</creator><format>plain</format><mimeType>text/plain</mimeType>",
            "<info><label>vmkernel</label><summary>Server log in 'plain' format</summary></info></returnval>",
            "</QueryDescriptionsResponse>"
        ),
    );
    let run = example(env!("CARGO_BIN_EXE_logtail"))
        .against(sim)
        .env("GOVC_URL", fixture.proxy.url())
        .arg("--list")
        .run();
    let (header, rows) = run.ok().table();
    assert_eq!(header, ["KEY", "FILE", "CREATOR", "FORMAT"]);
    assert_eq!(
        rows,
        [
            ["hostd", "/var/run/log/hostd.log", "VMware", "plain"],
            ["vmkernel", "/var/run/log/vmkernel.log", "VMware", "plain"],
        ],
        "{run}"
    );
}

/// `screenshot` against the canned fixture: `CreateScreenshot_Task` and its task's `info`
/// are canned (the result names a PNG put on the simulator's datastore beforehand); the
/// example downloads those bytes from the simulator and deletes the remote file.
#[test]
fn screenshot_downloads_the_png_and_deletes_it() {
    let _tasks = own_task_list();
    let sim = sim();
    const VM: &str = "DC0_H0_VM1";
    const REMOTE: &str = "DC0_H0_VM1/DC0_H0_VM1-1.png";
    let png: Vec<u8> = b"\x89PNG\r\n\x1a\n"
        .iter()
        .copied()
        .chain((0..70_000u32).map(|i| (i * 31 % 251) as u8))
        .collect();
    let vm_id = on_vm(VM, async |s, vm| {
        let bytes = png.clone();
        let len = bytes.len() as u64;
        local_ds(s)
            .await
            .upload(s, REMOTE, std::io::Cursor::new(bytes), len, |_| {})
            .await
            .expect("put the PNG on the datastore");
        vm.reference().value.clone()
    });
    let fixture = Canned::start();
    fixture.answer(
        "CreateScreenshot_Task",
        &format!(">{vm_id}<"),
        r#"<CreateScreenshot_TaskResponse xmlns="urn:vim25"><returnval type="Task">task-shot1</returnval></CreateScreenshot_TaskResponse>"#,
    );
    fixture.answer(
        "RetrievePropertiesEx",
        ">task-shot1<",
        &canned::task_succeeded(
            "task-shot1",
            "VirtualMachine.createScreenshot",
            &vm_id,
            &format!("[LocalDS_0] {REMOTE}"),
        ),
    );
    let dir = temp_dir("screenshot");
    let out = dir.join("shot.png");
    let run = example(env!("CARGO_BIN_EXE_screenshot"))
        .against(sim)
        .env("GOVC_URL", fixture.proxy.url())
        .args(["--json", VM, out.to_str().unwrap()])
        .run();
    let json = run.ok().json();
    assert_eq!(json["remote"], format!("[LocalDS_0] {REMOTE}"));
    assert_eq!(json["bytes"], png.len() as u64);
    assert_eq!(json["kept"], false);
    assert!(
        std::fs::read(&out).unwrap() == png,
        "downloaded bytes differ"
    );
    assert_eq!(fixture.proxy.count("CreateScreenshot_Task"), 1);
    // The remote file is gone.
    let gone = sdk(sim, async |s| {
        let mut sink = Vec::new();
        local_ds(s)
            .await
            .download(s, REMOTE, &mut sink, |_| {})
            .await
            .is_err()
    });
    assert!(gone, "the remote screenshot is deleted");
    let _ = std::fs::remove_dir_all(&dir);
}
