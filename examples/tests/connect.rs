//! The shared connection options, through `about`: govc's variables, `--url` forms, where the
//! password comes from (never argv, never echoed), TLS options, and the session cache.
#![cfg(feature = "vcsim")]

mod support;

use support::{example, sdk, sim, start, temp_dir};
use vim_sdk::testing::Vcsim;

const ABOUT: &str = env!("CARGO_BIN_EXE_about");
const SECRET: &str = "s3cr3t-Pw-27";

/// `url` with `userinfo@` inserted after the scheme.
fn with_userinfo(url: &str, userinfo: &str) -> String {
    url.replacen("://", &format!("://{userinfo}@"), 1)
}

#[test]
fn about_prints_what_the_server_says_about_itself() {
    let sim = sim();
    let about = sdk(sim, async |s| s.content().about.clone());
    let run = example(ABOUT).against(sim).arg("--json").run();
    let json = run.ok().json();
    assert_eq!(json["fullName"], about.full_name.as_str());
    assert_eq!(json["version"], about.version.as_str());
    assert_eq!(json["build"], about.build.as_str());
    assert_eq!(json["apiType"], about.api_type.as_str());
    assert_eq!(json["apiVersion"], about.api_version.as_str());
    assert_eq!(
        json["instanceUuid"],
        about.instance_uuid.as_deref().unwrap_or_default()
    );

    let run = example(ABOUT).against(sim).run();
    let (header, rows) = run.ok().table();
    assert_eq!(header, ["Field", "Value"]);
    let row = |f: &str| rows.iter().find(|r| r[0] == f).map(|r| r[1].clone());
    assert_eq!(row("Version"), Some(about.version.clone()), "{run}");
    assert_eq!(row("Build"), Some(about.build.clone()), "{run}");
    assert_eq!(row("API type"), Some(about.api_type.clone()), "{run}");
}

#[test]
fn the_url_forms_and_govc_variables() {
    let sim = sim();
    // The user in GOVC_URL, no GOVC_USERNAME.
    let run = example(ABOUT)
        .against(sim)
        .without("GOVC_USERNAME")
        .env("GOVC_URL", with_userinfo(sim.url(), sim.username()))
        .run();
    run.ok();
    // The password in GOVC_URL (the environment is private): accepted, never echoed.
    let run = example(ABOUT)
        .against(sim)
        .without("GOVC_PASSWORD")
        .env(
            "GOVC_URL",
            with_userinfo(sim.url(), &format!("{}:{}", sim.username(), sim.password())),
        )
        .arg("--json")
        .run();
    assert!(!run.ok().all().contains(sim.password()), "{run}");
    // --url wins over GOVC_URL; a host:port without scheme or path is not enough for plain
    // HTTP, so the full URL is given.
    let run = example(ABOUT)
        .against(sim)
        .env("GOVC_URL", "http://127.0.0.1:1/sdk")
        .args(["--url", sim.url()])
        .run();
    run.ok();
    // --user when the URL has none.
    let run = example(ABOUT)
        .against(sim)
        .without("GOVC_USERNAME")
        .args(["--user", sim.username()])
        .run();
    run.ok();
}

#[test]
fn configuration_mistakes_exit_2_with_one_line() {
    let run = example(ABOUT).run();
    assert!(run.fails(2).contains("no server"), "{run}");
    let run = example(ABOUT)
        .env("GOVC_URL", "http://127.0.0.1:1/sdk")
        .run();
    assert!(run.fails(2).contains("no user"), "{run}");
    let run = example(ABOUT)
        .env("GOVC_URL", "http://user@127.0.0.1:1/sdk")
        .run();
    assert!(run.fails(2).contains("no password"), "{run}");
    // A password on the command line is refused and not repeated.
    let run = example(ABOUT)
        .args(["--url", &format!("http://user:{SECRET}@127.0.0.1:1/sdk")])
        .run();
    assert!(run.fails(2).contains("must not carry a password"), "{run}");
    assert!(!run.all().contains(SECRET), "{run}");
    let run = example(ABOUT)
        .env("GOVC_URL", "http://user@127.0.0.1:1/sdk")
        .env("GOVC_PASSWORD", "x")
        .args(["--thumbprint", "not-hex"])
        .run();
    assert!(run.fails(2).contains("--thumbprint"), "{run}");
}

#[test]
fn failures_name_the_fault_and_never_show_the_password() {
    let sim = sim();
    let run = example(ABOUT)
        .against(sim)
        .env("GOVC_PASSWORD", SECRET)
        .run();
    let line = run.fails(1);
    assert!(line.starts_with("about: cannot log in to "), "{run}");
    assert!(line.contains("InvalidLogin: "), "{run}");
    assert!(!run.all().contains(SECRET), "{run}");
    // Nothing listens on port 1.
    let run = example(ABOUT)
        .against(sim)
        .env("GOVC_URL", "http://127.0.0.1:1/sdk")
        .run();
    assert!(
        run.fails(1)
            .contains("cannot log in to http://127.0.0.1:1/sdk"),
        "{run}"
    );
}

#[test]
fn a_cached_session_is_reused_without_the_password() {
    // A simulator of its own: the other tests' sessions would change the count.
    let sim = &start(Vcsim::builder().esx());
    let home = temp_dir("cache");
    let before = sdk(sim, async |s| {
        s.session_list().await.expect("sessionList").len()
    });
    example(ABOUT).against(sim).cache(&home).run().ok();
    let cached: Vec<_> = std::fs::read_dir(home.join(".cache/vim-sdk"))
        .expect("the cache directory")
        .filter_map(|e| e.ok())
        .collect();
    assert_eq!(cached.len(), 1, "one cached session");
    // No password now: the cached session does.
    for _ in 0..2 {
        example(ABOUT)
            .against(sim)
            .without("GOVC_PASSWORD")
            .cache(&home)
            .run()
            .ok();
    }
    // One session kept for the three runs (the checking session is logged out).
    let after = sdk(sim, async |s| {
        s.session_list().await.expect("sessionList").len()
    });
    assert_eq!(after, before + 1);
    // Without the cache the password is needed again, and the session is logged out.
    let run = example(ABOUT)
        .against(sim)
        .without("GOVC_PASSWORD")
        .cache(&home)
        .arg("--no-session-cache")
        .run();
    assert!(run.fails(2).contains("no password"), "{run}");
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn tls_insecure_thumbprint_and_ca_file() {
    let sim: Vcsim = start(Vcsim::builder().esx().tls(true));
    let sha256 = sim.thumbprint_sha256().expect("thumbprint").to_string();
    let cert = sim
        .cert_file()
        .expect("certificate")
        .to_str()
        .expect("utf-8")
        .to_string();
    // Verified against the system's roots: refused.
    let run = example(ABOUT).against(&sim).run();
    assert!(run.fails(1).contains("cannot log in"), "{run}");
    for extra in [
        vec!["--thumbprint", sha256.as_str()],
        vec!["--ca-file", cert.as_str()],
    ] {
        example(ABOUT).against(&sim).args(extra).run().ok();
    }
    // Without verification: it works, and vim-sdk says so on standard error.
    for run in [
        example(ABOUT).against(&sim).arg("-k").run(),
        example(ABOUT).against(&sim).env("GOVC_INSECURE", "1").run(),
    ] {
        assert_eq!(run.code, Some(0), "{run}");
        assert!(run.stderr.contains("verification is OFF"), "{run}");
        assert!(run.stdout.starts_with("Field"), "{run}");
    }
    // Only the CA file's certificates are trusted: another CA's file is refused.
    let other = vim_sdk::testing::pki::TestCa::new("not the simulator's CA");
    let other_file =
        std::env::temp_dir().join(format!("examples-other-ca-{}.pem", std::process::id()));
    std::fs::write(&other_file, other.pem()).expect("write the CA file");
    let run = example(ABOUT)
        .against(&sim)
        .args(["--ca-file", other_file.to_str().expect("utf-8")])
        .run();
    let _ = std::fs::remove_file(&other_file);
    assert!(run.fails(1).contains("not signed by a trusted"), "{run}");
    // A wrong pin is refused.
    let wrong = "AB:".repeat(32);
    let run = example(ABOUT)
        .against(&sim)
        .args(["--thumbprint", wrong.trim_end_matches(':')])
        .run();
    assert!(run.fails(1).contains("cannot log in"), "{run}");
}
