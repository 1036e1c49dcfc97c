//! Task waits with a deadline and a cancellation signal: against vcsim (a task left running
//! by a simulator panic), and against a loopback fixture whose task is cancelable, where the
//! wait must send `CancelTask` when it gives up.
#![cfg(feature = "helpers")]

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use vim_sdk::mo;
use vim_sdk::task::{TaskCancel, WaitLimits};
use vim_sdk::transport::{Transport, TransportConfig};
use vim_sdk::types::{Any, TaskInfoState};
use vim_sdk::xml::ManagedObjectReference;
use vim_sdk::{Client, ErrorKind};

fn envelope(inner: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>{inner}</soapenv:Body></soapenv:Envelope>"#
    )
}

const SERVICE_CONTENT: &str = r#"<RetrieveServiceContentResponse xmlns="urn:vim25"><returnval><rootFolder type="Folder">group-d1</rootFolder><propertyCollector type="PropertyCollector">propertyCollector</propertyCollector><about><name>VMware vCenter Server</name><fullName>VMware vCenter Server 8.0</fullName><vendor>VMware, Inc.</vendor><version>8.0.2</version><build>1</build><osType>linux-x64</osType><productLineId>vpx</productLineId><apiType>VirtualCenter</apiType><apiVersion>8.0.2.0</apiVersion></about></returnval></RetrieveServiceContentResponse>"#;

/// The fields of `task-7`'s `TaskInfo` in `state`: running, cancelable, at 40 %; or
/// ended with the result `vm-9`.
fn info_fields(state: &str) -> String {
    let tail = if state == "running" {
        "<cancelled>false</cancelled><cancelable>true</cancelable><progress>40</progress>"
    } else {
        r#"<cancelled>false</cancelled><cancelable>false</cancelable><result type="VirtualMachine" xsi:type="ManagedObjectReference">vm-9</result>"#
    };
    format!(
        r#"<key>task-7</key><task type="Task">task-7</task><name>CloneVM_Task</name><descriptionId>VirtualMachine.clone</descriptionId><entity type="VirtualMachine">vm-1</entity><state>{state}</state>{tail}<reason xsi:type="TaskReasonUser"><userName>user</userName></reason><queueTime>2024-01-01T00:00:00Z</queueTime><eventChainId>1</eventChainId>"#
    )
}

/// A `RetrievePropertiesEx` reply with `task-7`'s `info` in `state`.
fn read_reply(state: &str) -> String {
    format!(
        r#"<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval><objects><obj type="Task">task-7</obj><propSet><name>info</name><val xsi:type="TaskInfo">{}</val></propSet></objects></returnval></RetrievePropertiesExResponse>"#,
        info_fields(state)
    )
}

/// A `WaitForUpdatesEx` reply with `task-7`'s `info` in `state`.
fn update_reply(version: usize, state: &str) -> String {
    format!(
        r#"<WaitForUpdatesExResponse xmlns="urn:vim25"><returnval><version>{version}</version><filterSet><filter type="PropertyFilter">session[1]f</filter><objectSet><kind>enter</kind><obj type="Task">task-7</obj><changeSet><name>info</name><op>assign</op><val xsi:type="TaskInfo">{}</val></changeSet></objectSet></filterSet></returnval></WaitForUpdatesExResponse>"#,
        info_fields(state)
    )
}

/// The operations the fixture received, in order.
type Log = Arc<Mutex<Vec<String>>>;

/// A server whose task `task-7` runs forever (cancelable, 40 %): the first
/// `WaitForUpdatesEx` reports it, later ones hang past any test deadline.
async fn endless_task_server() -> (String, Log) {
    task_server("running", &["running"]).await
}

/// A server for `task-7`: `RetrievePropertiesEx` reports it in state `read`, the n-th
/// `WaitForUpdatesEx` in state `updates[n]`; a wait past those hangs past any test deadline.
async fn task_server(read: &'static str, updates: &'static [&'static str]) -> (String, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log: Log = Arc::default();
    let seen = log.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let seen = seen.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: Request<Incoming>| {
                    let seen = seen.clone();
                    async move {
                        let body = req.into_body().collect().await.unwrap().to_bytes();
                        let body = String::from_utf8_lossy(&body).into_owned();
                        let op = [
                            "RetrieveServiceContent",
                            "RetrievePropertiesEx",
                            "CreatePropertyCollector",
                            "CreateFilter",
                            "WaitForUpdatesEx",
                            "CancelTask",
                            "DestroyPropertyCollector",
                        ]
                        .into_iter()
                        .find(|op| {
                            body.contains(&format!("<{op} ")) || body.contains(&format!("<{op}>"))
                        })
                        .unwrap_or("?");
                        let waits = seen
                            .lock()
                            .unwrap()
                            .iter()
                            .filter(|o| *o == "WaitForUpdatesEx")
                            .count();
                        seen.lock().unwrap().push(op.to_string());
                        let inner = match op {
                            "RetrieveServiceContent" => SERVICE_CONTENT.to_string(),
                            "CreatePropertyCollector" => r#"<CreatePropertyCollectorResponse xmlns="urn:vim25"><returnval type="PropertyCollector">session[1]pc</returnval></CreatePropertyCollectorResponse>"#.to_string(),
                            "CreateFilter" => r#"<CreateFilterResponse xmlns="urn:vim25"><returnval type="PropertyFilter">session[1]f</returnval></CreateFilterResponse>"#.to_string(),
                            "RetrievePropertiesEx" => read_reply(read),
                            "WaitForUpdatesEx" if waits < updates.len() => {
                                update_reply(waits + 1, updates[waits])
                            }
                            "WaitForUpdatesEx" => {
                                tokio::time::sleep(Duration::from_secs(30)).await;
                                r#"<WaitForUpdatesExResponse xmlns="urn:vim25"></WaitForUpdatesExResponse>"#.to_string()
                            }
                            other => format!(r#"<{other}Response xmlns="urn:vim25"></{other}Response>"#),
                        };
                        let mut resp = Response::new(Full::new(Bytes::from(envelope(&inner))));
                        resp.headers_mut()
                            .insert("Content-Type", "text/xml; charset=utf-8".parse().unwrap());
                        Ok::<_, Infallible>(resp)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (format!("http://{addr}/sdk"), log)
}

fn task7() -> mo::TaskOf<Any> {
    mo::TaskOf::new(mo::Task::from_ref(ManagedObjectReference::new(
        "Task", "task-7",
    )))
}

fn ops(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

/// A task that has ended when the wait starts costs one `RetrievePropertiesEx`: no
/// collector, filter or `WaitForUpdatesEx`.
#[tokio::test]
async fn an_ended_task_is_read_once() {
    let (url, log) = task_server("success", &[]).await;
    let c = Client::new(Transport::new(TransportConfig::new(&url)).expect("transport"));
    let mut seen = Vec::new();
    let result = task7()
        .wait_with_progress(&c, |p| seen.push(p.state))
        .await
        .expect("an ended task");
    assert!(
        matches!(&result, Any::Reference(r) if *r == ManagedObjectReference::new("VirtualMachine", "vm-9")),
        "{result:?}"
    );
    assert_eq!(seen, [TaskInfoState::Success]);
    assert_eq!(
        ops(&log),
        ["RetrieveServiceContent", "RetrievePropertiesEx"]
    );
}

/// A task still running when read is followed with a collector until it ends, and the
/// collector is destroyed.
#[tokio::test]
async fn a_running_task_is_followed_until_it_ends() {
    let (url, log) = task_server("running", &["running", "success"]).await;
    let c = Client::new(Transport::new(TransportConfig::new(&url)).expect("transport"));
    let mut seen = Vec::new();
    let result = task7()
        .wait_with_progress(&c, |p| seen.push((p.state, p.progress)))
        .await
        .expect("the task ends");
    assert!(
        matches!(&result, Any::Reference(r) if *r == ManagedObjectReference::new("VirtualMachine", "vm-9")),
        "{result:?}"
    );
    // The first update repeats what the read saw: reported once.
    assert_eq!(
        seen,
        [
            (TaskInfoState::Running, Some(40)),
            (TaskInfoState::Success, None)
        ]
    );
    assert_eq!(
        ops(&log),
        [
            "RetrieveServiceContent",
            "RetrievePropertiesEx",
            "CreatePropertyCollector",
            "CreateFilter",
            "WaitForUpdatesEx",
            "WaitForUpdatesEx",
            "DestroyPropertyCollector"
        ]
    );
}

/// A task listed twice in one wait: its outcome at its first place, an error at the other.
#[tokio::test]
async fn a_task_listed_twice_is_waited_for_once() {
    let (url, log) = task_server("success", &[]).await;
    let c = Client::new(Transport::new(TransportConfig::new(&url)).expect("transport"));
    let outcomes = vim_sdk::task::wait_all(&c, &[task7(), task7()])
        .await
        .expect("the wait");
    assert!(outcomes[0].is_ok(), "{outcomes:?}");
    let err = outcomes[1].as_ref().expect_err("the second place");
    assert!(err.to_string().contains("listed more than once"), "{err}");
    assert_eq!(
        ops(&log),
        ["RetrieveServiceContent", "RetrievePropertiesEx"]
    );
}

#[tokio::test]
async fn deadline_cancels_a_cancelable_task() {
    let (url, log) = endless_task_server().await;
    let c = Client::new(Transport::new(TransportConfig::new(&url)).expect("transport"));
    let start = Instant::now();
    let err = task7()
        .wait_until(&c, Instant::now() + Duration::from_millis(1500))
        .await
        .expect_err("the task never ends");
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(1400) && took < Duration::from_secs(10),
        "{took:?}"
    );
    let ErrorKind::TaskTimeout(u) = &err.kind else {
        panic!("expected a TaskTimeout, got {err}");
    };
    assert_eq!(u.task, ManagedObjectReference::new("Task", "task-7"));
    assert_eq!(u.state, Some(TaskInfoState::Running));
    assert_eq!(u.progress, Some(40));
    assert_eq!(u.cancel, TaskCancel::Requested);
    assert!(err.to_string().contains("CancelTask sent"), "{err}");
    let ops = log.lock().unwrap().clone();
    assert!(ops.contains(&"CancelTask".to_string()), "{ops:?}");
    assert!(
        ops.contains(&"DestroyPropertyCollector".to_string()),
        "{ops:?}"
    );
}

#[tokio::test]
async fn cancellation_signal_ends_the_wait_and_can_leave_the_task_running() {
    let (url, log) = endless_task_server().await;
    let c = Client::new(Transport::new(TransportConfig::new(&url)).expect("transport"));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let _ = tx.send(());
    });
    let start = Instant::now();
    let limits = WaitLimits::new()
        .timeout(Duration::from_secs(60))
        .cancel_on(async move {
            let _ = rx.await;
        })
        .leave_running();
    let err = task7()
        .wait_with(&c, limits, |_| {})
        .await
        .expect_err("cancelled");
    assert!(start.elapsed() < Duration::from_secs(10));
    let ErrorKind::TaskWaitCancelled(u) = &err.kind else {
        panic!("expected TaskWaitCancelled, got {err}");
    };
    assert_eq!(u.cancel, TaskCancel::NotAsked);
    assert!(!log.lock().unwrap().contains(&"CancelTask".to_string()));
}

#[cfg(feature = "vcsim")]
#[path = "support/vcsim.rs"]
mod vcsim;

#[cfg(feature = "vcsim")]
mod sim {
    use super::*;
    use vim_sdk::testing::Vcsim;

    use super::vcsim::{all_vms, connect, start};

    /// A deadline on a task that ends in time returns its result. (vcsim has no task that
    /// stays running on demand: the never-ending case is the loopback fixture's.)
    #[tokio::test]
    async fn deadline_on_vcsim() {
        let sim = start(Vcsim::builder().esx());
        let (c, m) = connect(&sim).await;
        let vms = all_vms(&c, &m).await;
        let vm = &vms[0].1;
        let task = vm.power_off_vm_task(&c).await.expect("power off");
        task.wait_until(&c, Instant::now() + Duration::from_secs(30))
            .await
            .expect("an ended task within the deadline");

        // The session still works after the abandoned waits.
        assert!(vm.power_state(&c).await.is_ok());
    }
}
