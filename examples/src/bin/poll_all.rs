//! Reads properties of every VirtualMachine through a ContainerView, with
//! `RetrievePropertiesEx` paging (1000 objects a page), decoding each object as it arrives.
//!
//! `VIM_SDK_PASSWORD=... poll_all https://[USER@]HOST/sdk [PROPS] [--insecure]`
//!
//! The user: the URL's, else `--user`, else `VIM_SDK_USER`. The password never comes from the
//! command line (other users can read it there): it comes from `VIM_SDK_PASSWORD`, else the
//! first line of `--password-file FILE`, else a prompt when standard input is a terminal. A URL
//! carrying a password is refused, and no message repeats the URL's userinfo.
//!
//! PROPS is a comma-separated list of property paths (default
//! `name,runtime.powerState,summary.quickStats.overallCpuUsage,summary.quickStats.guestMemoryUsage`).
//! Prints `vms=N values=M`, M being the number of property values received.

use std::io::IsTerminal as _;
use std::path::Path;
use std::process::ExitCode;

use clap::{Arg, ArgAction, Command};
use vim_sdk::mo;
use vim_sdk::property::{retrieve_each, view_spec, Paths, ViewGuard};
use vim_sdk::session::Secret;
use vim_sdk::transport::{TlsMode, Transport, TransportConfig};
use vim_sdk::Client;

const DEFAULT_PROPS: &str =
    "name,runtime.powerState,summary.quickStats.overallCpuUsage,summary.quickStats.guestMemoryUsage";
const PAGE_OBJECTS: i32 = 1000;
/// The environment variable holding the password.
const PASSWORD_ENV: &str = "VIM_SDK_PASSWORD";
/// The environment variable holding the user, when neither the URL nor `--user` has one.
const USER_ENV: &str = "VIM_SDK_USER";

struct Target {
    url: String,
    user: String,
    password: Secret,
}

/// The URL without userinfo (path defaulted to `/sdk`) and its percent-decoded user, if any.
/// Errors never include the URL: it may hold a password.
fn split_url(raw: &str) -> Result<(String, Option<String>), String> {
    let mut url = url::Url::parse(raw).map_err(|e| format!("cannot parse the URL: {e}"))?;
    if url.password().is_some() {
        return Err(format!(
            "the URL must not carry a password (other users can read the command line): \
             set {PASSWORD_ENV}, use --password-file, or type it at the prompt"
        ));
    }
    let user =
        url::form_urlencoded::parse(format!("x={}", url.username().replace('+', "%2B")).as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .filter(|u| !u.is_empty());
    let _ = url.set_username("");
    if url.path().is_empty() || url.path() == "/" {
        url.set_path("/sdk");
    }
    Ok((url.to_string(), user))
}

/// The password from the environment, the file, or a prompt on the terminal.
fn password(file: Option<&Path>, user: &str) -> Result<Secret, String> {
    if let Some(p) = std::env::var_os(PASSWORD_ENV) {
        return p
            .into_string()
            .map(Secret::new)
            .map_err(|_| format!("{PASSWORD_ENV} is not UTF-8"));
    }
    if let Some(file) = file {
        let text = Secret::new(
            std::fs::read_to_string(file)
                .map_err(|e| format!("cannot read the password file {}: {e}", file.display()))?,
        );
        let line = text.expose().lines().next().unwrap_or("");
        return Ok(Secret::new(line));
    }
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password(format!("password for {user}: "))
            .map(Secret::new)
            .map_err(|e| format!("cannot read the password: {e}"));
    }
    Err(format!(
        "no password: set {PASSWORD_ENV}, use --password-file, or run on a terminal to be asked"
    ))
}

async fn poll(target: &Target, props: &str, insecure: bool) -> Result<(usize, usize), String> {
    let mut config = TransportConfig::new(&target.url);
    if insecure {
        config = config.tls(TlsMode::Insecure);
    }
    let transport = Transport::new(config).map_err(|e| format!("transport: {e}"))?;
    let client = Client::new(transport);
    let content = client
        .service_instance()
        .retrieve_service_content(&client)
        .await
        .map_err(|e| e.to_string())?;
    let sessions = content
        .session_manager
        .clone()
        .map(mo::SessionManager::from_ref)
        .ok_or_else(|| vim_sdk::Error::missing_manager("Login", "SessionManager").to_string())?;
    sessions
        .login(&client, &target.user, target.password.expose(), None)
        .await
        .map_err(|e| e.to_string())?;

    let result = async {
        let view = ViewGuard::container(
            &client,
            &content,
            &content.root_folder,
            &["VirtualMachine"],
            true,
        )
        .await?;
        let spec = view_spec(
            view.reference(),
            &["VirtualMachine"],
            &Paths::parse_list(props),
        );
        let collector = mo::PropertyCollector::from_ref(content.property_collector.clone());
        let mut values = 0;
        let vms = retrieve_each(&client, &collector, &[spec], Some(PAGE_OBJECTS), |o| {
            values += o.prop_set.len();
        })
        .await?;
        view.destroy().await?;
        Ok::<_, vim_sdk::Error>((vms, values))
    }
    .await;
    let logout = sessions.logout(&client).await;
    let counts = result.map_err(|e| e.to_string())?;
    logout.map_err(|e| e.to_string())?;
    Ok(counts)
}

fn main() -> ExitCode {
    let matches = Command::new("poll_all")
        .about("Reads properties of every VirtualMachine through a paged, streamed retrieval")
        .arg(
            Arg::new("url")
                .required(true)
                .help("https://[USER@]HOST/sdk (no password here)"),
        )
        .arg(
            Arg::new("props")
                .default_value(DEFAULT_PROPS)
                .help("comma-separated property paths"),
        )
        .arg(
            Arg::new("user")
                .long("user")
                .help(format!("the user, when the URL has none (else {USER_ENV})")),
        )
        .arg(
            Arg::new("password-file")
                .long("password-file")
                .value_name("FILE")
                .help(format!(
                    "read the password from the first line of FILE (when {PASSWORD_ENV} is unset)"
                )),
        )
        .arg(
            Arg::new("insecure")
                .long("insecure")
                .action(ArgAction::SetTrue)
                .help("accept any server certificate"),
        )
        .get_matches();
    let raw_url = matches
        .get_one::<String>("url")
        .map(String::as_str)
        .unwrap_or_default();
    let props = matches
        .get_one::<String>("props")
        .map(String::as_str)
        .unwrap_or(DEFAULT_PROPS);
    let insecure = matches.get_flag("insecure");
    let password_file = matches.get_one::<String>("password-file").map(Path::new);

    let target = match split_url(raw_url).and_then(|(url, user)| {
        let user = user
            .or_else(|| matches.get_one::<String>("user").cloned())
            .or_else(|| std::env::var(USER_ENV).ok().filter(|u| !u.is_empty()))
            .ok_or_else(|| {
                format!("no user: put it in the URL (https://USER@HOST/sdk), or use --user or {USER_ENV}")
            })?;
        let password = password(password_file, &user)?;
        Ok(Target {
            url,
            user,
            password,
        })
    }) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("poll_all: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("poll_all: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(poll(&target, props, insecure)) {
        Ok((vms, values)) => {
            println!("vms={vms} values={values}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("poll_all: {e}");
            ExitCode::FAILURE
        }
    }
}
