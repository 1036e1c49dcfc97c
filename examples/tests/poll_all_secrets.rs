//! `poll_all` takes its password from the environment, a file or a prompt, never from the
//! command line, and never repeats it.
#![cfg(feature = "vcsim")]

use std::process::{Command, Output, Stdio};

use vim_sdk::testing::Vcsim;

const SECRET: &str = "s3cr3t-Pw-91";

fn poll_all(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_poll_all"));
    cmd.args(args)
        .env_remove("VIM_SDK_PASSWORD")
        .env_remove("VIM_SDK_USER")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run poll_all")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The simulator's URL with `user@` in it.
fn url_with_user(sim: &Vcsim, user: &str) -> String {
    sim.url().replacen("://", &format!("://{user}@"), 1)
}

#[test]
fn a_password_on_the_command_line_is_refused_and_not_echoed() {
    for url in [
        format!("http://user:{SECRET}@127.0.0.1:1/sdk"),
        // Unparsable, with the secret in it.
        format!("http://user:{SECRET}@[::1/sdk"),
        format!("http://user:{SECRET}@127.0.0.1:99999999/sdk"),
    ] {
        let out = poll_all(&[&url], &[]);
        assert_eq!(out.status.code(), Some(2), "{url}: {}", text(&out));
        let all = text(&out);
        assert!(
            all.contains("poll_all: "),
            "{url}: an error is reported: {all}"
        );
        assert!(!all.contains(SECRET), "{url}: the secret is echoed: {all}");
    }
    let out = poll_all(&[&format!("http://user:{SECRET}@127.0.0.1:1/sdk")], &[]);
    assert!(text(&out).contains("VIM_SDK_PASSWORD"), "{}", text(&out));
}

#[test]
fn without_a_password_and_without_a_terminal_it_says_where_to_put_one() {
    let out = poll_all(&["http://user@127.0.0.1:1/sdk"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let all = text(&out);
    assert!(all.contains("no password"), "{all}");
    let out = poll_all(&["http://127.0.0.1:1/sdk"], &[("VIM_SDK_PASSWORD", SECRET)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("no user"), "{}", text(&out));
}

#[test]
fn the_password_comes_from_the_environment_or_a_file() {
    let sim = Vcsim::builder()
        .esx()
        .strict_login(true)
        .start()
        .expect("start vcsim (run scripts/setup)");
    let url = url_with_user(&sim, sim.username());

    let out = poll_all(&[&url, "name"], &[("VIM_SDK_PASSWORD", sim.password())]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).starts_with("vms="), "{}", text(&out));

    // The user from the environment, the password from a file (first line only).
    let dir = std::env::temp_dir().join(format!("poll-all-pw-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("pw");
    std::fs::write(&file, format!("{}\nignored\n", sim.password())).expect("write");
    let out = poll_all(
        &[
            sim.url(),
            "name",
            "--password-file",
            file.to_str().expect("utf-8 path"),
        ],
        &[("VIM_SDK_USER", sim.username())],
    );
    assert!(out.status.success(), "{}", text(&out));

    // A wrong password fails the login, and the message does not show it.
    let out = poll_all(&[&url, "name"], &[("VIM_SDK_PASSWORD", SECRET)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(!text(&out).contains(SECRET), "{}", text(&out));
    let _ = std::fs::remove_dir_all(&dir);
}
