//! Prepares a simulator the way an OpenNebula installation looks to its VMware drivers, and
//! reads back what the simulator did (used by `scripts/tour` and `scripts/bench-drivers`):
//!
//! ```text
//! one_sim URL datastores DIR NAME...    datastores NAME... on every host (CreateLocalDatastore,
//!                                       backed by DIR/NAME), as OpenNebula's system and image
//!                                       datastores are named by their ids
//! one_sim URL disk DATACENTER DS VMID N [DS] VMID/disk.N/disk.vmdk, thin, 1 GB (MakeDirectory,
//!                                       CreateVirtualDisk_Task), as the TM would have made it
//! one_sim URL tasks [KEY]               the simulator's recent tasks after task KEY, one line
//!                                       each: key, name, entity, state, server-side time in ms
//! one_sim URL task-key                  the key of the newest recent task (`-` when none)
//! ```
//!
//! The user and password come from `VIM_SDK_USER` and `VIM_SDK_PASSWORD`, never from the
//! command line. An `https` URL is pinned with `VIM_SDK_THUMBPRINT` (SHA-256 or SHA-1) or,
//! without it, not verified (the project's own simulator on 127.0.0.1 only).

use std::process::ExitCode;

use vim_sdk::find::Finder;
use vim_sdk::mo;
use vim_sdk::ops::Managers;
use vim_sdk::session::{ConnectOptions, Session};
use vim_sdk::types::{
    Any, AnyData, AnyVirtualDiskSpec, FileBackedVirtualDiskSpec, TaskInfo, VirtualDiskSpec,
};
use vim_sdk::xml::ManagedObjectReference;
use vim_sdk::Client;

const USAGE: &str = "usage: one_sim URL datastores DIR NAME... | disk DATACENTER DS VMID N | tasks [KEY] | task-key\n\
(user and password from VIM_SDK_USER / VIM_SDK_PASSWORD; VIM_SDK_THUMBPRINT pins https)";

type Res<T> = Result<T, String>;

async fn connect(url: &str) -> Res<Session> {
    let user = std::env::var("VIM_SDK_USER").map_err(|_| "VIM_SDK_USER is not set".to_string())?;
    let password =
        std::env::var("VIM_SDK_PASSWORD").map_err(|_| "VIM_SDK_PASSWORD is not set".to_string())?;
    let mut options = ConnectOptions::new().credentials(user, password);
    if url.starts_with("https://") {
        options = match std::env::var("VIM_SDK_THUMBPRINT") {
            Ok(tp) => options.pin(tp.parse().map_err(|e| format!("VIM_SDK_THUMBPRINT: {e}"))?),
            Err(_) => options.insecure(),
        };
    }
    Client::connect(url, options)
        .await
        .map_err(|e| format!("cannot log in: {e}"))
}

async fn list<T: vim_sdk::find::Entity>(
    s: &Session,
    container: &ManagedObjectReference,
) -> Res<Vec<(String, T)>> {
    Finder::new(&Managers::from_content(s.content()))
        .list::<T>(s, container, true)
        .await
        .map_err(|e| e.to_string())
}

/// `CreateLocalDatastore` of each name on every host.
async fn datastores(s: &Session, dir: &str, names: &[String]) -> Res<()> {
    let hosts = list::<mo::HostSystem>(s, &s.content().root_folder).await?;
    for name in names {
        if name.is_empty() || name.contains('/') || name.starts_with('.') {
            return Err(format!("bad datastore name {name:?}"));
        }
        let path = std::path::Path::new(dir).join(name);
        std::fs::create_dir_all(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        for (host_name, host) in &hosts {
            let p = host
                .properties(s, &["configManager.datastoreSystem"])
                .await
                .map_err(|e| e.to_string())?;
            let dss = p
                .reference("configManager.datastoreSystem")
                .ok_or_else(|| format!("host {host_name} has no datastore system"))?;
            mo::HostDatastoreSystem::from_ref(dss.clone())
                .create_local_datastore(s, name, &path.to_string_lossy())
                .await
                .map_err(|e| format!("CreateLocalDatastore {name} on {host_name}: {e}"))?;
        }
        println!(
            "datastore {name} on {} hosts, backed by {}",
            hosts.len(),
            path.display()
        );
    }
    Ok(())
}

/// `[ds] vmid/disk.n/disk.vmdk`, made as the TM makes it.
async fn disk(s: &Session, datacenter: &str, ds: &str, vmid: &str, n: &str) -> Res<()> {
    if vmid.parse::<u64>().is_err() || n.parse::<u32>().is_err() {
        return Err(format!("VMID and N must be numbers, not {vmid:?} {n:?}"));
    }
    if ds.is_empty() || ds.contains(['[', ']', '/']) {
        return Err(format!("bad datastore name {ds:?}"));
    }
    let dc = list::<mo::Datacenter>(s, &s.content().root_folder)
        .await?
        .into_iter()
        .find(|(name, _)| name == datacenter)
        .map(|(_, dc)| dc)
        .ok_or_else(|| format!("no datacenter {datacenter}"))?;
    let folder = format!("[{ds}] {vmid}/disk.{n}");
    let fm = s
        .content()
        .file_manager
        .clone()
        .map(mo::FileManager::from_ref)
        .ok_or("the server has no FileManager")?;
    fm.make_directory(s, &folder, Some(dc.reference()), Some(true))
        .await
        .map_err(|e| format!("MakeDirectory {folder}: {e}"))?;
    let path = format!("{folder}/disk.vmdk");
    let vdm = s
        .content()
        .virtual_disk_manager
        .clone()
        .map(mo::VirtualDiskManager::from_ref)
        .ok_or("the server has no VirtualDiskManager")?;
    let spec = AnyVirtualDiskSpec::FileBackedVirtualDiskSpec(Box::new(FileBackedVirtualDiskSpec {
        base: VirtualDiskSpec {
            disk_type: "thin".into(),
            adapter_type: "lsiLogic".into(),
        },
        capacity_kb: 1024 * 1024,
        ..Default::default()
    }));
    vdm.create_virtual_disk_task(s, &path, Some(dc.reference()), &spec)
        .await
        .map_err(|e| format!("CreateVirtualDisk_Task {path}: {e}"))?
        .wait(s)
        .await
        .map_err(|e| format!("CreateVirtualDisk_Task {path}: {e}"))?;
    println!("{path}");
    Ok(())
}

/// Seconds since 1970 of an `xsd:dateTime` (`2026-11-29T21:40:01.123456789Z`, or with an
/// offset), with its fraction.
fn epoch_seconds(t: &str) -> Option<f64> {
    let (date, rest) = t.split_once('T')?;
    let mut d = date.splitn(3, '-');
    let (y, m, day): (i64, i64, i64) = (
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
    );
    // The offset, if any, follows the seconds.
    let split = rest.find(['Z', '+', '-']).unwrap_or(rest.len());
    let (clock, zone) = rest.split_at(split);
    let mut c = clock.splitn(3, ':');
    let (hh, mm): (i64, i64) = (c.next()?.parse().ok()?, c.next()?.parse().ok()?);
    let ss: f64 = c.next()?.parse().ok()?;
    let offset = match zone {
        "" | "Z" => 0,
        z => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let (oh, om) = z[1..].split_once(':')?;
            sign * (oh.parse::<i64>().ok()? * 3600 + om.parse::<i64>().ok()? * 60)
        }
    };
    // Days from the civil date (proleptic Gregorian), after H. Hinnant's algorithm.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + hh * 3600 + mm * 60 - offset) as f64 + ss)
}

/// The recent tasks (oldest first) with their info.
async fn recent_tasks(s: &Session) -> Res<Vec<TaskInfo>> {
    let tm = s
        .content()
        .task_manager
        .clone()
        .ok_or("the server has no TaskManager")?;
    let p = tm
        .properties(s, &["recentTask"])
        .await
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for task in p.references("recentTask") {
        let mut ti = task
            .properties(s, &["info"])
            .await
            .map_err(|e| e.to_string())?;
        if let Some(Any::Data(AnyData::TaskInfo(info))) = ti.take("info") {
            out.push(*info);
        }
    }
    Ok(out)
}

async fn tasks(s: &Session, after: Option<&str>) -> Res<()> {
    let all = recent_tasks(s).await?;
    let start = match after {
        Some(key) => all.iter().position(|t| t.key == key).map_or(0, |i| i + 1),
        None => 0,
    };
    for t in &all[start..] {
        let ms = match (
            t.start_time.as_deref().and_then(epoch_seconds),
            t.complete_time.as_deref().and_then(epoch_seconds),
        ) {
            (Some(a), Some(b)) => format!("{:.3}", (b - a) * 1000.0),
            _ => "-".to_string(),
        };
        let name = t.name.clone().unwrap_or_else(|| t.description_id.clone());
        let entity = t.entity_name.as_deref().unwrap_or("-");
        println!("{} {name} {entity} {} {ms}", t.key, t.state.as_str());
    }
    Ok(())
}

async fn run(args: &[String]) -> Res<()> {
    let [url, command, rest @ ..] = args else {
        return Err(USAGE.to_string());
    };
    if !(url.starts_with("http://127.0.0.1:") || url.starts_with("https://127.0.0.1:")) {
        return Err(format!(
            "one_sim only talks to a simulator on 127.0.0.1, not {url}"
        ));
    }
    let s = connect(url).await?;
    let r = match (command.as_str(), rest) {
        ("datastores", [dir, names @ ..]) if !names.is_empty() => datastores(&s, dir, names).await,
        ("disk", [dc, ds, vmid, n]) => disk(&s, dc, ds, vmid, n).await,
        ("tasks", []) => tasks(&s, None).await,
        ("tasks", [key]) => tasks(&s, Some(key)).await,
        ("task-key", []) => recent_tasks(&s).await.map(|all| {
            println!("{}", all.last().map_or("-", |t| t.key.as_str()));
        }),
        _ => Err(USAGE.to_string()),
    };
    let _ = s.logout().await;
    r
}

/// The `one_sim` program: parses its arguments, runs, and gives its exit code.
pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("one_sim: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(&args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("one_sim: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::epoch_seconds;

    #[test]
    fn date_times() {
        assert_eq!(epoch_seconds("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(epoch_seconds("2000-03-01T00:00:00Z"), Some(951_868_800.0));
        let a = epoch_seconds("2026-11-29T21:40:01.25Z").unwrap();
        let b = epoch_seconds("2026-11-29T22:40:01.5+01:00").unwrap();
        assert!((b - a - 0.25).abs() < 1e-6, "{a} {b}");
        assert_eq!(epoch_seconds("yesterday"), None);
        assert_eq!(epoch_seconds("2026-11-29T21:40"), None);
    }
}
