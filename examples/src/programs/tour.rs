//! A short guided tour of vim-sdk against a server: `tour URL [--insecure]`.
//!
//! Shows what the server is, logs in (user and password from `VIM_USER` / `VIM_PASSWORD`,
//! default `user` / `pass` as the project's simulator accepts), prints the inventory tree
//! (datacenters, folders, clusters and hosts, VMs), powers one VM off and on again with the
//! tasks' progress, and logs out.

use std::process::ExitCode;

use vim_sdk::find::Finder;
use vim_sdk::mo;
use vim_sdk::ops::{Managers, TaskProgress};
use vim_sdk::transport::{TlsMode, Transport, TransportConfig};
use vim_sdk::types::{TaskInfoState, VirtualMachinePowerState};
use vim_sdk::xml::ManagedObjectReference;
use vim_sdk::Client;

/// Deepest level of the tree printed.
const MAX_DEPTH: usize = 8;

fn progress_line(label: &'static str) -> impl FnMut(TaskProgress) {
    move |p| match (p.progress, p.state) {
        (Some(pct), _) => println!("    {label}: {pct:>3}%"),
        (None, TaskInfoState::Success) => println!("    {label}: 100%"),
        (None, TaskInfoState::Running) => println!("    {label}: running"),
        (None, state) => println!("    {label}: {}", state.as_str()),
    }
}

/// Prints `obj`'s subtree (resource pools left out: their VMs show under the VM folders)
/// and returns the VMs met.
async fn print_tree(
    client: &Client,
    finder: &Finder,
    obj: &ManagedObjectReference,
    depth: usize,
    vms: &mut Vec<(String, mo::VirtualMachine)>,
) -> Result<(), vim_sdk::Error> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    for (name, child) in finder.children(client, obj).await? {
        if child.r#type == "ResourcePool" || child.r#type == "VirtualApp" {
            continue;
        }
        println!("{}{name}  [{}]", "  ".repeat(depth + 1), child.r#type);
        if child.r#type == "VirtualMachine" {
            vms.push((name, mo::VirtualMachine::from_ref(child)));
        } else {
            Box::pin(print_tree(client, finder, &child, depth + 1, vms)).await?;
        }
    }
    Ok(())
}

async fn tour(url: &str, insecure: bool) -> Result<(), Box<dyn std::error::Error>> {
    let mut config = TransportConfig::new(url);
    if insecure {
        config = config.tls(TlsMode::Insecure);
    }
    let transport = Transport::new(config)?;
    let client = Client::new(transport);

    let m = Managers::retrieve(&client).await?;
    println!("== About");
    println!(
        "  {} (API {}, {})",
        m.about.full_name, m.about.api_version, m.about.api_type
    );

    let user = std::env::var("VIM_USER").unwrap_or_else(|_| "user".into());
    let password = std::env::var("VIM_PASSWORD").unwrap_or_else(|_| "pass".into());
    let sessions = m
        .session_manager
        .clone()
        .ok_or_else(|| vim_sdk::Error::missing_manager("Login", "SessionManager"))?;
    let session = sessions.login(&client, &user, &password, None).await?;
    println!("  logged in as {}", session.user_name);

    println!("== Inventory");
    let finder = Finder::new(&m);
    let mut vms = Vec::new();
    print_tree(&client, &finder, m.root_folder.reference(), 0, &mut vms).await?;
    println!("  {} VMs", vms.len());

    if let Some((name, vm)) = vms.first() {
        let path = finder.inventory_path(&client, vm.reference()).await?;
        println!("== Power cycle of {path}");
        let state = vm.power_state(&client).await?;
        println!("  state: {state}");
        if state != VirtualMachinePowerState::PoweredOff {
            println!("  powering off {name}");
            vm.power_off_with_progress(&client, progress_line("PowerOffVM_Task"))
                .await?;
            println!("  state: {}", vm.power_state(&client).await?);
        }
        println!("  powering on {name}");
        vm.power_on_with_progress(&client, progress_line("PowerOnVM_Task"))
            .await?;
        println!("  state: {}", vm.power_state(&client).await?);
    }

    sessions.logout(&client).await?;
    println!("== Logged out");
    Ok(())
}

/// The `tour` program: parses its arguments, runs, and gives its exit code.
pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let insecure = args.iter().any(|a| a == "--insecure");
    let urls: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let [url] = urls.as_slice() else {
        eprintln!("usage: tour URL [--insecure]   (e.g. tour https://127.0.0.1:8989/sdk)");
        return ExitCode::from(2);
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tour: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(tour(url, insecure)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tour: {e}");
            ExitCode::FAILURE
        }
    }
}
