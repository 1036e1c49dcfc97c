//! Nothing a driver prints, logs or dumps holds the password or a session cookie: runs with
//! `ONE_MAD_DEBUG=1` and a wire dump (`VIM_SDK_WIRE_DUMP`), successes and failures (a refused
//! login, SOAP faults, an HTML error page), everything they wrote grepped; and a driver
//! stalled by the fault proxy carries neither in its argv or environment and has no child
//! process.
#![cfg(feature = "vcsim")]

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use support::{sdk, Mode, OneEnv};
use vim_sdk::testing::fault_proxy::{CannedReply, Fault};
use vim_sdk::testing::vcsim::PASSWORD;
use vim_sdk::testing::Vcsim;

/// The password of the runs (the simulator accepts any, so it can be one nobody else uses).
const SECRET: &str = "Zq7-driver-Secret-pw";

fn fault_reply(detail: &str) -> CannedReply {
    let body = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>simulated failure</faultstring><detail>{detail}</detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"#
    );
    CannedReply {
        status: 500,
        ..CannedReply::xml(body)
    }
}

/// Every file under `dir`, as text.
fn read_tree(dir: &Path, out: &mut Vec<(String, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            read_tree(&p, out);
        } else if let Ok(bytes) = std::fs::read(&p) {
            out.push((
                p.display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            ));
        }
    }
}

/// The session cookies the drivers' cache holds (lines `cookie <value>`), with and without
/// their quotes.
fn cached_cookies(env: &OneEnv) -> Vec<String> {
    let mut files = Vec::new();
    read_tree(&env.session_cache(), &mut files);
    let mut out = Vec::new();
    for (_, text) in files {
        for line in text.lines() {
            if let Some(v) = line.strip_prefix("cookie ") {
                out.push(v.to_string());
                out.push(v.trim_matches('"').to_string());
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_password_or_cookie_in_output_logs_dumps_argv_or_environment() {
    let sim = Vcsim::builder()
        .esx()
        .tls(true)
        .strict_login(false)
        .start()
        .expect("the simulator must start (run scripts/setup)");
    let env = OneEnv::with_sim(sim, Mode::Esx).await;
    let rc = env.default_vmwarerc().replace(
        &format!(":password: \"{PASSWORD}\""),
        &format!(":password: \"{SECRET}\""),
    );
    assert!(rc.contains(SECRET));
    env.write_vmwarerc(&rc);
    let dump = env.root.join("wire-dump");
    let dump_env = dump.display().to_string();
    let debug = [
        ("ONE_MAD_DEBUG", "1"),
        ("VIM_SDK_WIRE_DUMP", dump_env.as_str()),
    ];
    let host = env.host(0).to_string();
    let s = env.sdk().await;
    sdk::adopt_vm(&s, &env, &host, 7).await;
    let mut printed = Vec::new();

    // Successes: a poll of a running VM and of a missing one, twice (cold, then cached).
    for _ in 0..2 {
        for vm in ["one-7", "one-1"] {
            let run = env.run_with_env("vmm/vmware/poll", &[vm, &host, "7", &host], &debug);
            run.assert_ok();
            printed.push(run);
        }
    }

    // Failures answered by the server, through a proxy in front of it (pinned TLS).
    let (proxy, via_proxy) = env.tls_fault_proxy(&rc).await;
    env.write_vmwarerc(&format!("{via_proxy}:session_cache: false\n"));
    let invalid_login = r#"<InvalidLoginFault xsi:type="InvalidLogin"/>"#;
    let system_error =
        r#"<SystemErrorFault xsi:type="SystemError"><reason>simulated</reason></SystemErrorFault>"#;
    for (op, fault, needle) in [
        (
            "Login",
            Fault::Reply(fault_reply(invalid_login)),
            "InvalidLogin",
        ),
        (
            "RetrievePropertiesEx",
            Fault::Reply(fault_reply(system_error)),
            "SystemError",
        ),
        (
            "RetrievePropertiesEx",
            Fault::Reply(CannedReply::html(503, "<html><body>down</body></html>")),
            "503",
        ),
    ] {
        proxy.inject(op, fault);
        let run = env.run_with_env("vmm/vmware/poll", &["one-7", &host, "7", &host], &debug);
        run.assert_failed(&[needle]);
        printed.push(run);
    }

    // A driver stalled by the proxy after its login: argv, environment, children.
    proxy.reset_counts();
    proxy.inject("RetrievePropertiesEx", Fault::StallBeforeReply);
    let mut child = env
        .command("vmm/vmware/poll", &["one-7", &host, "7", &host], &debug)
        .spawn()
        .expect("spawn the driver");
    let started = Instant::now();
    while proxy.count("RetrievePropertiesEx") == 0 && started.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(proxy.count("Login"), 1, "the stalled driver has logged in");
    assert_eq!(
        proxy.count("RetrievePropertiesEx"),
        1,
        "the driver is stalled"
    );
    let proc_dir = Path::new("/proc").join(child.id().to_string());
    let cmdline = std::fs::read(proc_dir.join("cmdline")).expect("cmdline");
    let environ = std::fs::read(proc_dir.join("environ")).expect("environ");
    let mut children = String::new();
    for task in std::fs::read_dir(proc_dir.join("task"))
        .expect("tasks")
        .flatten()
    {
        children
            .push_str(&std::fs::read_to_string(task.path().join("children")).unwrap_or_default());
    }
    let _ = child.kill();
    let _ = child.wait();
    let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
    let environ = String::from_utf8_lossy(&environ).replace('\0', "\n");
    assert!(cmdline.contains("one-7"), "{cmdline}");
    assert!(environ.contains("ONE_MAD_DEBUG=1"), "{environ}");
    assert_eq!(children.trim(), "", "the driver runs no child process");

    // Everything grepped: output, error blocks, dumps, argv and environment.
    let mut texts: Vec<(String, String)> = printed
        .iter()
        .map(|r| (r.command.clone(), format!("{}\n{}", r.stdout, r.stderr)))
        .collect();
    let mut dumped = Vec::new();
    read_tree(&dump, &mut dumped);
    assert!(
        dumped
            .iter()
            .any(|(_, t)| t.contains("RetrievePropertiesEx")),
        "the wire dump was written"
    );
    texts.extend(dumped);
    texts.push(("cmdline".into(), cmdline));
    texts.push(("environ".into(), environ));
    let mut secrets = vec![SECRET.to_string()];
    let cookies = cached_cookies(&env);
    assert!(!cookies.is_empty(), "the cache holds the drivers' session");
    secrets.extend(cookies);
    let sessions = s.session_list().await.expect("sessionList");
    secrets.extend(sessions.into_iter().map(|u| u.key));
    for (what, text) in &texts {
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "{what} holds a secret ({} chars):\n{text}",
                secret.len()
            );
        }
    }
    let _ = s.logout().await;
}
