//! The importer on VMware's real WSDL sets (read from the shared directory, never committed):
//! counts checked against an independent text scan, facts about well-known operations and
//! types, and staleness of the committed model in `wsdl/vim25`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use vim_codegen::import::{import_release_set, import_wsdl};
use vim_codegen::model::{Model, Occurs, TypeRef};
use vim_codegen::{diff, text};

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared");
const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../wsdl/vim25");
const RELEASES: [&str; 3] = ["4.1", "5.5", "8.0"];

fn shared(rel: &str) -> PathBuf {
    let dir = Path::new(SHARED);
    assert!(
        dir.join("wsdl").is_dir() && dir.join("vmodl").is_dir(),
        "the shared WSDL sets are missing: expected {SHARED}/wsdl/vim25-{{4.1,5.5,8.0}} and \
         {SHARED}/vmodl/managed-objects.json next to the workspace"
    );
    dir.join(rel)
}

fn wsdl_dir(release: &str) -> PathBuf {
    shared(&format!("wsdl/vim25-{release}"))
}

/// The three releases merged, with managed-object facts: what `wsdl/vim25` should hold.
fn merged() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| {
        let dirs: Vec<(&str, PathBuf)> = RELEASES.iter().map(|r| (*r, wsdl_dir(r))).collect();
        let refs: Vec<(&str, &Path)> = dirs.iter().map(|(r, d)| (*r, d.as_path())).collect();
        import_release_set(&refs, Some(&shared("vmodl/managed-objects.json")))
            .unwrap_or_else(|e| panic!("import failed: {e}"))
    })
}

/// Counts found by plain text scanning of the raw files, independent of the importer.
struct Scan {
    complex: usize,
    arrays: usize,
    enums: usize,
    operations: usize,
}

fn count(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}

fn scan(dir: &Path) -> Scan {
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
    let types: String = ["core-types.xsd", "query-types.xsd", "vim-types.xsd"]
        .iter()
        .map(|f| read(f))
        .collect();
    let all_types: String = [
        "core-types.xsd",
        "query-types.xsd",
        "vim-types.xsd",
        "reflect-types.xsd",
    ]
    .iter()
    .map(|f| read(f))
    .collect();
    let wsdl = read("vim.wsdl");
    let ops: BTreeSet<&str> = wsdl
        .split("<operation name=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .collect();
    Scan {
        complex: count(&types, "<complexType name=\""),
        arrays: count(&types, "<complexType name=\"ArrayOf"),
        enums: count(&all_types, "<simpleType name=\""),
        operations: ops.len(),
    }
}

#[test]
fn counts_match_an_independent_scan_and_the_known_figures() {
    // (release, operations, enums, complex types in core-/query-/vim-types.xsd, of which ArrayOf*)
    let known = [
        ("4.1", 491, 197, 2232, 330),
        ("5.5", 615, 261, 2802, 420),
        ("8.0", 928, 393, 3438, 574),
    ];
    for (release, ops, enums, complex, arrays) in known {
        let dir = wsdl_dir(release);
        let s = scan(&dir);
        assert_eq!(
            (s.operations, s.enums, s.complex, s.arrays),
            (ops, enums, complex, arrays),
            "{release}: the raw files changed"
        );
        let m = import_wsdl(&dir, release).unwrap_or_else(|e| panic!("{e}"));
        // ManagedObjectReference is one of the complex types and sits in `types`.
        let non_reflect = |o: vim_codegen::model::Origin| o != vim_codegen::model::Origin::Reflect;
        let types = m.types.values().filter(|t| non_reflect(t.origin)).count();
        let arr = m.arrays.values().filter(|a| non_reflect(a.origin)).count();
        assert_eq!(m.operations.len(), ops, "{release} operations");
        assert_eq!(m.enums.len(), enums, "{release} enums");
        assert_eq!(arr, arrays, "{release} ArrayOf* wrappers");
        assert_eq!(types + arr, complex, "{release} complex types");
        assert!(m.types.contains_key("ManagedObjectReference"));
    }
}

#[test]
fn the_committed_model_is_up_to_date() {
    let fresh = merged();
    let dir = Path::new(COMMITTED);
    let regenerate = format!(
        "regenerate it with: cargo run -p vim-codegen -- import --wsdl 4.1={s}/wsdl/vim25-4.1 \
         --wsdl 5.5={s}/wsdl/vim25-5.5 --wsdl 8.0={s}/wsdl/vim25-8.0 \
         --vmodl {s}/vmodl/managed-objects.json --out wsdl/vim25",
        s = "../shared"
    );
    let committed = text::read(dir)
        .unwrap_or_else(|e| panic!("cannot read the committed model ({e}); {regenerate}"));
    let differences = diff::summarize(&committed, fresh);
    assert!(
        differences.is_empty(),
        "wsdl/vim25 is stale:\n  {}\n{regenerate}",
        differences.join("\n  ")
    );
    for (name, rendered) in text::render(fresh) {
        let on_disk = std::fs::read_to_string(dir.join(name)).unwrap_or_default();
        assert!(
            on_disk == rendered,
            "wsdl/vim25/{name} is not formatted as the writer would write it; {regenerate}"
        );
    }
}

#[test]
fn the_real_model_survives_a_text_round_trip() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("real-round-trip");
    let _ = std::fs::remove_dir_all(&dir);
    text::write(merged(), &dir).unwrap();
    assert_eq!(&text::read(&dir).unwrap(), merged());
}

#[test]
fn well_known_operations_have_owners_results_and_task_results() {
    let m = merged();
    let power_on = &m.operations["PowerOnVM_Task"];
    assert_eq!(power_on.owner.as_deref(), Some("VirtualMachine"));
    assert_eq!(power_on.params[0].name, "_this");
    assert_eq!(
        power_on.params[0].mo_type.as_deref(),
        Some("VirtualMachine")
    );
    assert_eq!(power_on.params[1].name, "host");
    assert_eq!(power_on.params[1].mo_type.as_deref(), Some("HostSystem"));
    assert_eq!(
        power_on.params[1].occurs,
        Occurs {
            min: 0,
            max: Some(1)
        }
    );
    let ret = power_on.returns.as_ref().unwrap();
    assert_eq!(ret.ty, TypeRef::Named("ManagedObjectReference".into()));
    assert_eq!(ret.mo_type.as_deref(), Some("Task"));
    assert!(power_on.faults.iter().any(|f| f == "InvalidState"));
    assert!(power_on.task_result.is_none());

    let clone = &m.operations["CloneVM_Task"];
    let tr = clone.task_result.as_ref().unwrap();
    assert_eq!(tr.mo_type.as_deref(), Some("VirtualMachine"));
    assert_eq!(tr.ty, TypeRef::Named("ManagedObjectReference".into()));

    let retrieve = &m.operations["RetrieveServiceContent"];
    assert_eq!(retrieve.owner.as_deref(), Some("ServiceInstance"));
    assert_eq!(
        retrieve.returns.as_ref().unwrap().ty,
        TypeRef::Named("ServiceContent".into())
    );
    assert!(m.operations["Logout"].returns.is_none());
}

#[test]
fn first_seen_releases_come_from_the_compared_sets() {
    let m = merged();
    assert_eq!(m.release, "8.0");
    assert_eq!(m.compared, RELEASES);
    assert_eq!(m.types["VirtualMachineConfigInfo"].since, "4.1");
    // AboutInfo.patchLevel is absent from 4.1 and 5.5 and present in 8.0.
    let patch = m.types["AboutInfo"]
        .fields
        .iter()
        .find(|f| f.name == "patchLevel")
        .unwrap();
    assert_eq!(patch.since, "8.0");
    // Some whole types are new in 5.5 and in 8.0.
    assert!(m.types.values().any(|t| t.since == "5.5"));
    assert!(m.types.values().any(|t| t.since == "8.0"));
    // Every since is one of the compared releases for WSDL-only items.
    assert!(m
        .types
        .values()
        .flat_map(|t| std::iter::once(&t.since).chain(t.fields.iter().map(|f| &f.since)))
        .all(|s| RELEASES.contains(&s.as_str())));
    // Managed-object facts refine operations: PowerOnVM_Task dates from 2.0, inside "4.1".
    assert_eq!(m.operations["PowerOnVM_Task"].since, "2.0");
}

#[test]
fn managed_objects_have_properties_with_reference_types() {
    let m = merged();
    let vm = &m.managed_objects["VirtualMachine"];
    assert_eq!(vm.base.as_deref(), Some("ManagedEntity"));
    let config = vm.properties.iter().find(|p| p.name == "config").unwrap();
    assert_eq!(config.ty, TypeRef::Named("VirtualMachineConfigInfo".into()));
    let ds = vm
        .properties
        .iter()
        .find(|p| p.name == "datastore")
        .unwrap();
    assert_eq!(ds.mo_type.as_deref(), Some("Datastore"));
    assert!(ds.array);
    // Managed objects the facts date after 8.0 (9.x) are left out: the facts do list some
    // (TransitGateway among them), and none of them is in the model.
    let facts: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(shared("vmodl/managed-objects.json")).unwrap(),
    )
    .unwrap();
    let later: Vec<&str> = facts["managed_objects"]
        .as_array()
        .expect("a list of managed objects")
        .iter()
        .filter(|mo| {
            let since = mo["since"].as_str().unwrap_or("");
            since.split('.').next().and_then(|v| v.parse::<u32>().ok()) > Some(8)
        })
        .filter_map(|mo| mo["name"].as_str())
        .collect();
    assert!(later.contains(&"TransitGateway"), "{later:?}");
    for name in &later {
        assert!(
            !m.managed_objects.contains_key(*name),
            "{name} is after 8.0"
        );
    }
    assert!(m.managed_objects.contains_key("HostSystem"));
}
