//! Failure paths common to every action (configuration, login, host lookup, reachability),
//! shown through poll: exit code, error block, and no session left behind.

mod support;

use support::{sdk, OneEnv};
use vim_sdk::testing::fault_proxy::Fault;

/// Sessions on the server besides the checker's own.
async fn driver_sessions(env: &OneEnv) -> usize {
    let s = env.sdk().await;
    let n = sdk::session_count(&s).await;
    let _ = s.logout().await;
    n - 1
}

#[tokio::test]
async fn configuration_errors_name_the_file_and_the_key() {
    let env = OneEnv::vcenter().await;
    let host = env.host(0).to_string();
    let rc = env.vmwarerc().display().to_string();
    let args = ["one-1", host.as_str(), "1", host.as_str()];

    // Missing file.
    std::fs::remove_file(env.vmwarerc()).unwrap();
    let run = env.run("vmm/vmware/poll", &args);
    run.assert_failed(&[&rc, "cannot read"]);
    assert!(run.stdout.is_empty(), "{run}");

    // Unreadable (a directory where the file should be: tests run as root, so modes
    // would not stop the read).
    std::fs::create_dir(env.vmwarerc()).unwrap();
    env.run("vmm/vmware/poll", &args)
        .assert_failed(&[&rc, "cannot read"]);
    std::fs::remove_dir(env.vmwarerc()).unwrap();

    // Malformed YAML.
    env.write_vmwarerc(":username: [oops\n:password: x\n");
    env.run("vmm/vmware/poll", &args)
        .assert_failed(&[&rc, "malformed YAML", "line"]);

    // Missing keys.
    let good = env.default_vmwarerc();
    let without = |key: &str| -> String {
        good.lines()
            .filter(|l| !l.starts_with(key))
            .map(|l| format!("{l}\n"))
            .collect()
    };
    env.write_vmwarerc(&without(":password:"));
    env.run("vmm/vmware/poll", &args)
        .assert_failed(&[&rc, ":password:"]);
    env.write_vmwarerc(&without(":username:"));
    env.run("vmm/vmware/poll", &args)
        .assert_failed(&[&rc, ":username:"]);
    env.write_vmwarerc(&without(":datacenter:"));
    env.run("vmm/vmware/poll", &args)
        .assert_failed(&[&rc, ":datacenter:"]);
    // A bad pin.
    env.write_vmwarerc(&good.replace(":thumbprints:\n", ":thumbprints:\n  \"other\": \"zz\"\n"));
    env.run("vmm/vmware/poll", &args)
        .assert_failed(&[&rc, ":thumbprints:"]);

    // Nothing reached the server.
    assert_eq!(driver_sessions(&env).await, 0);

    // Bad arguments are refused before anything is sent.
    env.write_vmwarerc(&good);
    env.run("vmm/vmware/poll", &[])
        .assert_failed(&["poll", "bad arguments"]);
    env.run("vmm/vmware/poll", &["one-1"])
        .assert_failed(&["bad arguments"]);
    assert_eq!(driver_sessions(&env).await, 0);
}

#[tokio::test]
async fn bad_credentials_fail_without_a_session() {
    let env = OneEnv::vcenter().await;
    let host = env.host(0).to_string();
    env.write_vmwarerc(&env.default_vmwarerc().replace(
        &format!(":password: \"{}\"", vim_sdk::testing::vcsim::PASSWORD),
        ":password: \"wrong-secret-42\"",
    ));
    let run = env.run("vmm/vmware/poll", &["one-1", &host, "1", &host]);
    let block = run.assert_failed(&["cannot log in", "InvalidLogin"]);
    assert!(!run.stderr.contains("wrong-secret-42"), "{run}");
    assert!(!block.contains("wrong-secret-42"));
    assert_eq!(driver_sessions(&env).await, 0);
}

#[tokio::test]
async fn unknown_host_fails_and_sessions_are_reused_not_leaked() {
    let env = OneEnv::vcenter().await;
    // An address literal: looked up with FindByIp on the simulator, no DNS query.
    let run = env.run(
        "vmm/vmware/poll",
        &["one-1", "192.0.2.55", "1", "192.0.2.55"],
    );
    run.assert_failed(&["no host named 192.0.2.55", "DC0"]);
    // The login is kept in the cache (valid), not leaked: later runs reuse it.
    assert_eq!(driver_sessions(&env).await, 1);
    let host = env.host(1).to_string();
    for _ in 0..3 {
        env.run("vmm/vmware/poll", &["one-1", &host, "1", &host])
            .assert_ok();
    }
    assert_eq!(driver_sessions(&env).await, 1);

    // Without a cache every run logs out.
    env.write_vmwarerc(&format!(
        "{}:session_cache: false\n",
        env.default_vmwarerc()
    ));
    for _ in 0..2 {
        env.run("vmm/vmware/poll", &["one-1", &host, "1", &host])
            .assert_ok();
    }
    env.run(
        "vmm/vmware/poll",
        &["one-1", "192.0.2.55", "1", "192.0.2.55"],
    )
    .assert_failed(&["no host named"]);
    assert_eq!(
        driver_sessions(&env).await,
        1,
        "only the cached session of before"
    );
}

#[tokio::test]
async fn unreachable_host_fails() {
    let env = OneEnv::esx().await;
    // A loopback port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    env.write_vmwarerc(&env.default_vmwarerc().replace(
        &format!("@HOST@:{}/", env.vcsim.addr().port()),
        &format!("@HOST@:{port}/"),
    ));
    let run = env.run("vmm/vmware/poll", &["one-1", "127.0.0.1", "1", "127.0.0.1"]);
    run.assert_failed(&["cannot log in", &format!("127.0.0.1:{port}")]);
    assert!(
        run.stdout.is_empty(),
        "a poll that cannot connect prints nothing: {run}"
    );
    assert_eq!(driver_sessions(&env).await, 0);
}

/// A server that stops answering fails the action at vmwarerc's `:call_timeout:`, whether
/// it stalls before the reply's headers or in its body; the stalled call is not sent twice.
/// The probe's streamed `QueryPerf` stalled mid-body is reported as that timeout too.
/// (The proxy serves on a thread of its own: this one-thread test runtime blocks while each
/// driver runs.)
#[tokio::test]
async fn a_stalled_server_fails_the_action_at_the_call_timeout() {
    let env = OneEnv::esx().await;
    let (proxy, via_proxy) = env.tls_fault_proxy(&env.default_vmwarerc()).await;
    let host = env.host(0).to_string();
    env.write_vmwarerc(&format!(
        "{via_proxy}:session_cache: false\n:call_timeout: 2\n"
    ));
    for (fault, waiting_for) in [
        (Fault::StallBeforeReply, "response headers"),
        (Fault::StallMidBody, "response body"),
    ] {
        proxy.reset_counts();
        proxy.inject("RetrievePropertiesEx", fault);
        let run = env.run("vmm/vmware/poll", &["one-7", &host, "7", &host]);
        run.assert_failed(&["timed out after 2s", waiting_for, ":call_timeout:"]);
        assert_eq!(proxy.count("Login"), 1, "{run}");
        assert_eq!(proxy.count("RetrievePropertiesEx"), 1, "sent once: {run}");
        assert!(run.stdout.is_empty(), "{run}");
    }
    // The probe's streamed QueryPerf reply stalled mid-body: the probe reports the host
    // without network figures (as for any failed QueryPerf) and its debug line names the
    // timeout and the hint (the transport's error, not malformed XML); sent once.
    proxy.reset_counts();
    proxy.inject("QueryPerf", Fault::StallMidBody);
    let run = env.run_with_env(
        "im/vmware.d/probe",
        &["3", &host],
        &[("ONE_MAD_DEBUG", "1")],
    );
    run.assert_ok();
    assert!(run.stdout.contains("HYPERVISOR=vmware"), "{run}");
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains("network statistics unavailable"))
        .unwrap_or_else(|| panic!("no debug line for the failed QueryPerf: {run}"));
    for needle in ["timed out after 2s", "response body", ":call_timeout:"] {
        assert!(line.contains(needle), "{needle:?} not in {line:?}");
    }
    assert!(!line.contains("malformed"), "{line}");
    assert_eq!(proxy.count("QueryPerf"), 1, "sent once: {run}");
    // A bad value is refused, naming the key.
    env.write_vmwarerc(&format!("{via_proxy}:call_timeout: 0\n"));
    let run = env.run("vmm/vmware/poll", &["one-7", &host, "7", &host]);
    run.assert_failed(&[":call_timeout:", "vmwarerc"]);
}
