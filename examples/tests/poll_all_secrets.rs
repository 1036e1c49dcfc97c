//! `poll_all` takes its password from the environment, a file or a prompt, never from the
//! command line, and never repeats it.
#![cfg(feature = "vcsim")]

mod support;

use support::{example, sim, temp_dir};

const SECRET: &str = "s3cr3t-Pw-91";
const POLL_ALL: &str = env!("CARGO_BIN_EXE_poll_all");

/// The simulator's URL with `user@` in it.
fn url_with_user(url: &str, user: &str) -> String {
    url.replacen("://", &format!("://{user}@"), 1)
}

#[test]
fn a_password_on_the_command_line_is_refused_and_not_echoed() {
    for url in [
        format!("http://user:{SECRET}@127.0.0.1:1/sdk"),
        // Unparsable, with the secret in it.
        format!("http://user:{SECRET}@[::1/sdk"),
        format!("http://user:{SECRET}@127.0.0.1:99999999/sdk"),
    ] {
        let run = example(POLL_ALL).arg(&url).run();
        run.fails(2);
        assert!(!run.all().contains(SECRET), "the secret is echoed: {run}");
    }
    let run = example(POLL_ALL)
        .arg(format!("http://user:{SECRET}@127.0.0.1:1/sdk"))
        .run();
    assert!(run.fails(2).contains("GOVC_PASSWORD"), "{run}");
}

#[test]
fn without_a_password_and_without_a_terminal_it_says_where_to_put_one() {
    let run = example(POLL_ALL).arg("http://user@127.0.0.1:1/sdk").run();
    assert!(run.fails(2).contains("no password"), "{run}");
    let run = example(POLL_ALL)
        .arg("http://127.0.0.1:1/sdk")
        .env("VIM_SDK_PASSWORD", SECRET)
        .run();
    assert!(run.fails(2).contains("no user"), "{run}");
}

#[test]
fn the_password_comes_from_the_environment_or_a_file() {
    let sim = sim();
    let url = url_with_user(sim.url(), sim.username());

    let run = example(POLL_ALL)
        .args([url.as_str(), "name"])
        .env("VIM_SDK_PASSWORD", sim.password())
        .run();
    assert!(run.ok().stdout.starts_with("vms="), "{run}");

    // The user from the environment, the password from a file (first line only).
    let dir = temp_dir("pw");
    let file = dir.join("pw");
    std::fs::write(&file, format!("{}\nignored\n", sim.password())).expect("write");
    let run = example(POLL_ALL)
        .args([
            sim.url(),
            "name",
            "--password-file",
            file.to_str().expect("utf-8 path"),
        ])
        .env("VIM_SDK_USER", sim.username())
        .run();
    run.ok();

    // A wrong password fails the login, and the message does not show it.
    let run = example(POLL_ALL)
        .args([url.as_str(), "name"])
        .env("VIM_SDK_PASSWORD", SECRET)
        .run();
    assert!(run.fails(1).contains("InvalidLogin"), "{run}");
    assert!(!run.all().contains(SECRET), "{run}");
    let _ = std::fs::remove_dir_all(&dir);
}
