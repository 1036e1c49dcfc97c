//! Finding objects anywhere below a path by name (a glob), type, or both, like `find`.
//!
//! `find [PATH] [-t TYPE] [-n NAME] [-l]`: every object below PATH (default: the root) whose
//! type is TYPE (`vm`, `host`, `ds`, `network`, `folder`, `dc`, `cluster`, `pool`, or a
//! vSphere type name such as `VirtualMachine`; repeatable) and whose name matches NAME (`*`
//! and `?` wildcards, whole name). Prints inventory paths; `-l` a table with type and state.
//!
//! `--json`: an array of `{"path", "name", "type", "ref", "state"}` as `ls` prints it.

use crate::inventory::{self, Item};
use crate::{Common, Failure, Result};
use clap::Parser;

/// Finds objects by name, type and path
#[derive(Parser)]
#[command(name = "find")]
struct Args {
    /// Where to look (an inventory path; default the root)
    #[arg(value_name = "PATH", default_value = "")]
    path: String,
    /// Object type: vm, host, ds, network, folder, dc, cluster, pool, or a vSphere type name
    #[arg(short = 't', long = "type", value_name = "TYPE")]
    types: Vec<String>,
    /// Name pattern (`*` any characters, `?` one)
    #[arg(short = 'n', long = "name", value_name = "NAME")]
    name: Option<String>,
    /// Long listing: type and state
    #[arg(short = 'l', long = "long")]
    long: bool,
    #[command(flatten)]
    common: Common,
}

/// The vSphere types a `-t` word stands for.
fn types_of(word: &str) -> Result<Vec<&'static str>> {
    Ok(match word {
        "vm" | "m" | "VirtualMachine" => vec!["VirtualMachine"],
        "host" | "h" | "HostSystem" => vec!["HostSystem"],
        "ds" | "s" | "datastore" | "Datastore" => vec!["Datastore"],
        "network" | "n" | "Network" => {
            vec!["Network", "OpaqueNetwork", "DistributedVirtualPortgroup"]
        }
        "folder" | "f" | "Folder" => vec!["Folder"],
        "dc" | "d" | "datacenter" | "Datacenter" => vec!["Datacenter"],
        "cluster" | "c" | "ClusterComputeResource" => vec!["ClusterComputeResource"],
        "ComputeResource" | "r" => vec!["ComputeResource", "ClusterComputeResource"],
        "pool" | "p" | "ResourcePool" => vec!["ResourcePool", "VirtualApp"],
        "vapp" | "a" | "VirtualApp" => vec!["VirtualApp"],
        "switch" | "DistributedVirtualSwitch" => vec!["VmwareDistributedVirtualSwitch"],
        "pod" | "StoragePod" => vec!["StoragePod"],
        other => {
            return Err(Failure::usage(format!(
                "unknown type {other}: use vm, host, ds, network, folder, dc, cluster, pool, \
                 vapp, switch, pod or a vSphere type name"
            )))
        }
    })
}

/// Whether `name` matches the glob `pattern` (`*`: any run of characters, `?`: one).
fn glob(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    // Classic two-pointer match with one backtrack point for the last `*`.
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

async fn body(args: Args) -> Result<()> {
    let mut wanted: Vec<&str> = Vec::new();
    for t in &args.types {
        wanted.extend(types_of(t)?);
    }
    let conn = args.common.connect().await?;
    let items: Vec<Item> = inventory::list(&conn, &args.path, true, args.long)
        .await?
        .into_iter()
        .filter(|i| wanted.is_empty() || wanted.contains(&i.kind.as_str()))
        .filter(|i| args.name.as_deref().is_none_or(|p| glob(p, &i.name)))
        .collect();
    inventory::print(&items, args.long, conn.json)?;
    conn.close().await
}

/// The `find` program: parses its arguments, runs, and gives its exit code.
pub fn main() -> std::process::ExitCode {
    crate::run(body)
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn globs() {
        assert!(glob("*", ""));
        assert!(glob("DC0_*", "DC0_H0_VM1"));
        assert!(glob("*VM?", "DC0_H0_VM1"));
        assert!(!glob("*VM?", "DC0_H0_VM12"));
        assert!(glob("a*b*c", "axxbyyc"));
        assert!(!glob("a*b*c", "axxbyy"));
        assert!(glob("exact", "exact"));
        assert!(!glob("exact", "exactly"));
    }
}
