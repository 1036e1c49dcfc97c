//! Lists or sets a VM's extra configuration (`extraConfig`: the VMX's free-form keys, such as
//! `guestinfo.*` read by the guest through VMware Tools).
//!
//! ```text
//! extraconfig VM list [PREFIX]          # every key (starting with PREFIX), sorted
//! extraconfig VM set KEY=VALUE ...      # add or change keys; `KEY=` removes KEY on ESX
//! ```
//!
//! VM is a name or an inventory path. Shows reading `config.extraConfig` (an array of
//! `OptionValue` whose values are typed `anyType`) and changing keys with one
//! `ReconfigVM_Task` whose spec holds only `extraConfig` (keys not named keep their values),
//! waited for with a progress bar. vcsim appends instead of replacing, and keeps a key set
//! to an empty value; ESX replaces and removes.
//!
//! Output: a table `KEY VALUE`; with `--json`, `{"vm": NAME, "options": [{"key", "value"}]}`
//! (after the change for `set`; values as strings).

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde_json::json;
use vim_sdk::types::{Any, AnyArray, AnyOptionValue, OptionValue, VirtualMachineConfigSpec};

use crate::reconfig::reconfigure;
use crate::{output, rows, Common, Context as _, Result};

/// Lists or sets a VM's extraConfig keys.
#[derive(Parser)]
#[command(name = "extraconfig")]
struct Cli {
    #[command(flatten)]
    common: Common,
    /// The VM: a name or an inventory path.
    vm: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the keys and values, sorted by key.
    List {
        /// Only keys starting with this.
        prefix: Option<String>,
    },
    /// Set keys: KEY=VALUE ...
    Set {
        /// KEY=VALUE pairs.
        #[arg(required = true, value_parser = parse_pair)]
        pairs: Vec<(String, String)>,
    },
}

/// `KEY=VALUE`, KEY not empty.
fn parse_pair(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("{s:?} is not KEY=VALUE")),
    }
}

/// An option's value as text.
fn text(v: Option<&Any>) -> String {
    match v {
        None | Some(Any::Nil) => String::new(),
        Some(Any::String(s)) | Some(Any::DateTime(s)) | Some(Any::Uri(s)) => s.clone(),
        Some(Any::Boolean(b)) => b.to_string(),
        Some(Any::Byte(n)) => n.to_string(),
        Some(Any::Short(n)) => n.to_string(),
        Some(Any::Int(n)) => n.to_string(),
        Some(Any::Long(n)) => n.to_string(),
        Some(Any::Float(n)) => n.to_string(),
        Some(Any::Double(n)) => n.to_string(),
        Some(Any::Enum { value, .. }) => value.clone(),
        Some(other) => format!("<{}>", other.type_name()),
    }
}

async fn body(cli: Cli) -> Result<()> {
    let conn = cli.common.connect().await?;
    let client = &conn.session;
    let vm = conn.vm(&cli.vm).await?;
    let name = cli.vm.clone();
    let prefix = match cli.command {
        Command::List { prefix } => prefix.unwrap_or_default(),
        Command::Set { pairs } => {
            let spec = VirtualMachineConfigSpec {
                extra_config: pairs
                    .iter()
                    .map(|(k, v)| {
                        AnyOptionValue::OptionValue(Box::new(OptionValue {
                            key: k.clone(),
                            value: Some(Any::String(v.clone())),
                        }))
                    })
                    .collect(),
                ..Default::default()
            };
            reconfigure(&conn, &vm, &name, &spec).await?;
            String::new()
        }
    };
    let options = match vm
        .properties(client, &["config.extraConfig"])
        .await
        .with_context(|| format!("cannot read the extraConfig of VM {name}"))?
        .take("config.extraConfig")
    {
        Some(Any::Array(AnyArray::OptionValue(list))) => list,
        _ => Vec::new(),
    };
    let mut pairs: Vec<(String, String)> = options
        .iter()
        .map(AnyOptionValue::base)
        .filter(|o| o.key.starts_with(&prefix))
        .map(|o| (o.key.clone(), text(o.value.as_ref())))
        .collect();
    // Sorted by key; a key listed twice (vcsim appends) keeps its order of appearance.
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    if conn.json {
        let list: Vec<_> = pairs
            .iter()
            .map(|(k, v)| json!({"key": k, "value": v}))
            .collect();
        output::json(&json!({"vm": name, "options": list}))?;
    } else {
        let rows: Vec<Vec<String>> = pairs.into_iter().map(|(k, v)| vec![k, v]).collect();
        rows::print(&["KEY", "VALUE"], &rows, true)?;
    }
    conn.close().await
}

/// The `extraconfig` program: parses its arguments, runs, and gives its exit code.
pub fn main() -> ExitCode {
    crate::run(body)
}
