//! The committed text form: `read(write(m)) == m`, defaults omitted, and errors with line
//! numbers on malformed input.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use vim_codegen::model::{
    ArrayType, ComplexType, EnumType, EnumValue, Field, ManagedObject, Model, Occurs, Operation,
    Origin, Primitive, Property, Returns, TypeRef,
};
use vim_codegen::text;

fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("text-{test}"));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn field(name: &str, ty: TypeRef, occurs: Occurs, mo: Option<&str>, since: &str) -> Field {
    Field {
        name: name.into(),
        ty,
        occurs,
        mo_type: mo.map(str::to_string),
        since: since.into(),
    }
}

/// A small model touching every feature of the format, including values that need escaping.
fn sample() -> Model {
    let moref = TypeRef::Named("ManagedObjectReference".into());
    let mut m = Model {
        release: "8.0".into(),
        compared: vec!["4.1".into(), "5.5".into(), "8.0".into()],
        types: BTreeMap::new(),
        arrays: BTreeMap::new(),
        enums: BTreeMap::new(),
        operations: BTreeMap::new(),
        managed_objects: BTreeMap::new(),
    };
    m.types.insert(
        "Zeta".into(),
        ComplexType {
            name: "Zeta".into(),
            base: Some("DynamicData".into()),
            fields: vec![
                field(
                    "b",
                    TypeRef::Primitive(Primitive::Long),
                    Occurs::ONE,
                    None,
                    "4.1",
                ),
                field(
                    "a",
                    moref.clone(),
                    Occurs { min: 0, max: None },
                    Some("HostSystem"),
                    "8.0",
                ),
                field(
                    "c",
                    TypeRef::Primitive(Primitive::AnyType),
                    Occurs {
                        min: 2,
                        max: Some(7),
                    },
                    None,
                    "4.1",
                ),
            ],
            origin: Origin::Vim,
            since: "4.1".into(),
        },
    );
    m.types.insert(
        "Alpha".into(),
        ComplexType {
            name: "Alpha".into(),
            base: None,
            fields: vec![],
            origin: Origin::Reflect,
            since: "5.5".into(),
        },
    );
    m.arrays.insert(
        "ArrayOfZeta".into(),
        ArrayType {
            name: "ArrayOfZeta".into(),
            item_name: "Zeta".into(),
            item: TypeRef::Named("Zeta".into()),
            origin: Origin::Query,
            since: "8.0".into(),
        },
    );
    m.enums.insert(
        "Mode".into(),
        EnumType {
            name: "Mode".into(),
            values: vec![
                EnumValue {
                    name: "z=last".into(),
                    since: "4.1".into(),
                },
                EnumValue {
                    name: "a b".into(),
                    since: "8.0".into(),
                },
            ],
            origin: Origin::Core,
            since: "4.1".into(),
        },
    );
    m.operations.insert(
        "Do_Task".into(),
        Operation {
            name: "Do_Task".into(),
            params: vec![
                field("_this", moref.clone(), Occurs::ONE, Some("Thing"), "2.0"),
                field(
                    "n",
                    TypeRef::Primitive(Primitive::Int),
                    Occurs {
                        min: 0,
                        max: Some(1),
                    },
                    None,
                    "6.7",
                ),
            ],
            returns: Some(Returns {
                ty: moref.clone(),
                occurs: Occurs::ONE,
                mo_type: Some("Task".into()),
            }),
            faults: vec!["InvalidState".into(), "RuntimeFault".into()],
            owner: Some("Thing".into()),
            task_result: Some(Returns {
                ty: TypeRef::Named("Zeta".into()),
                occurs: Occurs { min: 0, max: None },
                mo_type: None,
            }),
            since: "2.0".into(),
        },
    );
    m.operations.insert(
        "Quiet".into(),
        Operation {
            name: "Quiet".into(),
            params: vec![field("_this", moref.clone(), Occurs::ONE, None, "4.1")],
            returns: None,
            faults: vec![],
            owner: None,
            task_result: None,
            since: "4.1".into(),
        },
    );
    m.managed_objects.insert(
        "Thing".into(),
        ManagedObject {
            name: "Thing".into(),
            base: Some("ManagedEntity".into()),
            properties: vec![
                Property {
                    name: "a".into(),
                    ty: moref,
                    array: true,
                    optional: true,
                    mo_type: Some("Datastore".into()),
                    since: "VMC M5".into(),
                },
                Property {
                    name: "b".into(),
                    ty: TypeRef::Primitive(Primitive::String),
                    array: false,
                    optional: false,
                    mo_type: None,
                    since: "".into(),
                },
            ],
            since: "2.0".into(),
        },
    );
    m
}

#[test]
fn write_then_read_gives_the_same_model() {
    let dir = scratch("round-trip");
    let model = sample();
    text::write(&model, &dir).unwrap();
    assert_eq!(text::read(&dir).unwrap(), model);
}

#[test]
fn the_empty_model_round_trips() {
    let dir = scratch("empty");
    let model = Model {
        release: "1.0".into(),
        ..Model::default()
    };
    text::write(&model, &dir).unwrap();
    assert_eq!(text::read(&dir).unwrap(), model);
}

#[test]
fn entries_are_sorted_members_keep_order_and_defaults_are_omitted() {
    let files: BTreeMap<&str, String> = text::render(&sample()).into_iter().collect();
    let body = |name: &str| -> Vec<String> {
        files[name]
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(
        body("types.txt"),
        [
            "type Alpha origin=reflect since=5.5",
            "type Zeta base=DynamicData origin=vim since=4.1",
            "  field b xsd:long",
            "  field a ManagedObjectReference min=0 max=unbounded mo=HostSystem since=8.0",
            "  field c xsd:anyType min=2 max=7",
        ]
    );
    assert_eq!(
        body("enums.txt"),
        [
            "enum Mode origin=core since=4.1",
            "  value z%3Dlast",
            "  value a%20b since=8.0"
        ]
    );
    assert_eq!(
        body("managed-objects.txt"),
        [
            "managed-object Thing base=ManagedEntity since=2.0",
            "  property a ManagedObjectReference array optional mo=Datastore since=VMC%20M5",
            "  property b xsd:string since=%",
        ]
    );
    assert!(files["release.txt"].contains("\nrelease 8.0\ncompared 4.1 5.5 8.0\n"));
    assert!(
        files["types.txt"].starts_with("# "),
        "files start with a header comment"
    );
}

fn broken(test: &str, file: &str, body: &str) -> text::TextError {
    let dir = scratch(test);
    text::write(&sample(), &dir).unwrap();
    std::fs::write(dir.join(file), body).unwrap();
    text::read(&dir).unwrap_err()
}

#[test]
fn malformed_lines_are_errors_with_file_and_line() {
    let err = broken(
        "bad-key",
        "types.txt",
        "# header\ntype A origin=vim since=1 colour=red\n",
    );
    assert!(err.file.ends_with("types.txt") && err.line == 2, "{err}");
    assert!(err.message.contains("colour"), "{err}");

    let err = broken("orphan", "enums.txt", "  value x\n");
    assert_eq!(err.line, 1, "{err}");

    let err = broken(
        "bad-max",
        "operations.txt",
        "operation X since=1\n  param _this ManagedObjectReference max=lots\n",
    );
    assert!(err.line == 2 && err.message.contains("lots"), "{err}");

    let err = broken(
        "dup",
        "arrays.txt",
        "array A a xsd:int origin=vim since=1\narray A a xsd:int origin=vim since=1\n",
    );
    assert!(err.line == 2 && err.message.contains("twice"), "{err}");

    let err = broken("no-release", "release.txt", "compared 1.0\n");
    assert!(err.message.contains("release"), "{err}");
}

#[test]
fn a_missing_file_is_an_error() {
    let dir = scratch("missing");
    text::write(&sample(), &dir).unwrap();
    std::fs::remove_file(dir.join("operations.txt")).unwrap();
    let err = text::read(&dir).unwrap_err();
    assert!(err.file.ends_with("operations.txt"), "{err}");
}
