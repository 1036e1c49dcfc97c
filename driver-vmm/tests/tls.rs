//! vmwarerc's TLS settings through the installed tree (poll of a VM the host lacks: a login,
//! a lookup, `STATE=d`): `:thumbprints:` in SHA-1 and SHA-256 forms, `no_verify=1`,
//! `:ca_file:`, and the refusals (self-signed without a pin, a wrong pin, a wrong host name,
//! an expired certificate), each an exit 1 whose error block says which check failed.
//! vcsim's own certificate is self-signed; the CA-issued, misnamed and expired ones are
//! served by a TLS-terminating `FaultProxy` in front of it.
#![cfg(feature = "vcsim")]

mod support;

use support::OneEnv;
use vim_sdk::testing::fault_proxy::{FaultProxy, Upstream};
use vim_sdk::testing::pki::{TestCa, Validity};
use vim_sdk::testing::vcsim::{PASSWORD, USERNAME};

const POLL: &str = "vmm/vmware/poll";
const ARGS: [&str; 4] = ["one-1", "127.0.0.1", "1", "127.0.0.1"];

/// A direct-ESX vmwarerc for the server on `port`, with `uri_query` after the URL's `/` and
/// `extra` lines (TLS keys); no session cache, so every run connects.
fn vmwarerc(port: u16, uri_query: &str, extra: &str) -> String {
    format!(
        ":libvirt_uri: \"esx://@HOST@:{port}/{uri_query}\"\n:username: \"{USERNAME}\"\n:password: \"{PASSWORD}\"\n:datacenter: \"ha-datacenter\"\n:session_cache: false\n{extra}"
    )
}

fn pin(tp: &str) -> String {
    format!(":thumbprints:\n  \"127.0.0.1\": \"{tp}\"\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vmwarerc_tls_settings_and_which_check_refused() {
    let env = OneEnv::esx().await;
    let port = env.vcsim.addr().port();
    let sha1 = env.vcsim.thumbprint_sha1().expect("TLS").to_string();
    let sha256 = env.vcsim.thumbprint_sha256().expect("TLS").to_string();

    // Pins in every written form are accepted.
    for tp in [
        sha1.clone(),
        sha1.replace(':', "").to_lowercase(),
        sha256.to_lowercase(),
        sha256.replace(':', ""),
    ] {
        env.write_vmwarerc(&vmwarerc(port, "", &pin(&tp)));
        let run = env.run(POLL, &ARGS);
        run.assert_ok();
        assert_eq!(run.stdout.trim(), "STATE=d", "{tp}: {run}");
    }
    // A wrong pin: refused, naming the pin check and the presented thumbprints.
    env.write_vmwarerc(&vmwarerc(port, "", &pin(&"AB".repeat(32))));
    env.run(POLL, &ARGS).assert_failed(&[
        "cannot log in",
        "matches none of the 1 pinned thumbprint",
        &sha256,
        &sha1,
    ]);
    // The self-signed certificate without a pin: refused by default.
    env.write_vmwarerc(&vmwarerc(port, "", ""));
    env.run(POLL, &ARGS).assert_failed(&[
        "cannot log in",
        "not signed by a trusted certificate authority",
        &sha256,
    ]);
    // no_verify=1 accepts it.
    env.write_vmwarerc(&vmwarerc(port, "?no_verify=1", ""));
    env.run(POLL, &ARGS).assert_ok();

    // Certificates from a CA of the test's own, served in front of the simulator.
    let ca = TestCa::new("vmwarerc test CA");
    let ca_file = env.root.join("test-ca.pem");
    std::fs::write(&ca_file, ca.pem()).expect("write CA file");
    let with_ca = format!(":ca_file: \"{}\"\n", ca_file.display());
    let serve = |names: &[&str], validity| {
        let cert = ca.issue(names, validity);
        FaultProxy::start_with(Upstream::Https(env.vcsim.addr()), Some(cert.server_config))
    };
    let good = serve(&["127.0.0.1"], Validity::Current)
        .await
        .expect("proxy");
    env.write_vmwarerc(&vmwarerc(good.addr().port(), "", &with_ca));
    env.run(POLL, &ARGS).assert_ok();
    env.write_vmwarerc(&vmwarerc(good.addr().port(), "", ""));
    env.run(POLL, &ARGS)
        .assert_failed(&["not signed by a trusted certificate authority"]);

    let misnamed = serve(&["esx.example.invalid"], Validity::Current)
        .await
        .expect("proxy");
    env.write_vmwarerc(&vmwarerc(misnamed.addr().port(), "", &with_ca));
    env.run(POLL, &ARGS).assert_failed(&[
        "certificate rejected",
        "not valid for name",
        "127.0.0.1",
    ]);

    let expired = serve(&["127.0.0.1"], Validity::Expired)
        .await
        .expect("proxy");
    env.write_vmwarerc(&vmwarerc(expired.addr().port(), "", &with_ca));
    env.run(POLL, &ARGS)
        .assert_failed(&["certificate rejected", "expired"]);

    // A CA file that does not exist is a configuration error naming the key.
    env.write_vmwarerc(&vmwarerc(port, "", ":ca_file: \"/nonexistent/ca.pem\"\n"));
    env.run(POLL, &ARGS)
        .assert_failed(&[":ca_file:", "/nonexistent/ca.pem"]);
}
