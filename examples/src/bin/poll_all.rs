//! Reads properties of every VirtualMachine through a ContainerView, with
//! `RetrievePropertiesEx` paging (1000 objects a page), decoding each object as it arrives.
//!
//! `poll_all https://USER:PASSWORD@HOST/sdk [PROPS] [--insecure]`
//!
//! PROPS is a comma-separated list of property paths (default
//! `name,runtime.powerState,summary.quickStats.overallCpuUsage,summary.quickStats.guestMemoryUsage`).
//! Prints `vms=N values=M`, M being the number of property values received.

use std::process::ExitCode;

use clap::{Arg, ArgAction, Command};
use vim_sdk::mo;
use vim_sdk::property::{retrieve_each, view_spec, Paths, ViewGuard};
use vim_sdk::transport::{TlsMode, Transport, TransportConfig};
use vim_sdk::Client;

const DEFAULT_PROPS: &str =
    "name,runtime.powerState,summary.quickStats.overallCpuUsage,summary.quickStats.guestMemoryUsage";
const PAGE_OBJECTS: i32 = 1000;

struct Target {
    url: String,
    user: String,
    password: String,
}

/// Splits the credentials off the URL (percent-decoded) and defaults the path to `/sdk`.
fn split_url(raw: &str) -> Result<Target, String> {
    let mut url = url::Url::parse(raw).map_err(|e| format!("cannot parse URL {raw:?}: {e}"))?;
    let decode = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let user = decode(&url.username().replace('+', "%2B"));
    let password = decode(&url.password().unwrap_or("").replace('+', "%2B"));
    if user.is_empty() || password.is_empty() {
        return Err(
            "the URL must carry the user name and password: https://USER:PASSWORD@HOST/sdk".into(),
        );
    }
    let _ = url.set_username("");
    let _ = url.set_password(None);
    if url.path().is_empty() || url.path() == "/" {
        url.set_path("/sdk");
    }
    Ok(Target {
        url: url.to_string(),
        user,
        password,
    })
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
        .login(&client, &target.user, &target.password, None)
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
                .help("https://USER:PASSWORD@HOST/sdk"),
        )
        .arg(
            Arg::new("props")
                .default_value(DEFAULT_PROPS)
                .help("comma-separated property paths"),
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

    let target = match split_url(raw_url) {
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
