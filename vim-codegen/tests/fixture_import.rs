//! The importer on small hand-written WSDL sets (`tests/fixtures/pets-*`): types, arrays,
//! enums, operations, prefix resolution, first-seen releases, managed-object facts, and errors
//! on malformed input.

use std::path::{Path, PathBuf};

use vim_codegen::import::{import_release_set, import_wsdl, ImportError};
use vim_codegen::model::{Occurs, Origin, Primitive, TypeRef};
use vim_codegen::text;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn named(n: &str) -> TypeRef {
    TypeRef::Named(n.to_string())
}

#[test]
fn reads_types_arrays_and_enums_of_one_set() {
    let m = import_wsdl(&fixture("pets-2.0"), "2.0").unwrap();
    assert_eq!(m.release, "2.0");
    assert_eq!(m.compared, vec!["2.0".to_string()]);
    let names: Vec<&str> = m.types.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "Animal",
            "Dog",
            "DynamicData",
            "InvalidState",
            "ManagedObjectReference",
            "MethodFault"
        ],
        "request types are not data types"
    );
    let dog = &m.types["Dog"];
    assert_eq!(dog.base.as_deref(), Some("Animal"));
    assert_eq!(dog.origin, Origin::Vim);
    assert_eq!(dog.fields[0].ty, named("DogBreed"));
    assert_eq!(
        dog.fields[1].occurs,
        Occurs {
            min: 0,
            max: Some(3)
        }
    );
    let animal = &m.types["Animal"];
    let fields: Vec<(&str, &TypeRef, Occurs)> = animal
        .fields
        .iter()
        .map(|f| (f.name.as_str(), &f.ty, f.occurs))
        .collect();
    assert_eq!(
        fields,
        [
            ("name", &TypeRef::Primitive(Primitive::String), Occurs::ONE),
            (
                "legs",
                &TypeRef::Primitive(Primitive::Int),
                Occurs {
                    min: 0,
                    max: Some(1)
                }
            ),
            (
                "tags",
                &TypeRef::Primitive(Primitive::String),
                Occurs { min: 0, max: None }
            ),
            (
                "owner",
                &named("ManagedObjectReference"),
                Occurs {
                    min: 0,
                    max: Some(1)
                }
            ),
            (
                "born",
                &TypeRef::Primitive(Primitive::DateTime),
                Occurs {
                    min: 0,
                    max: Some(1)
                }
            ),
        ]
    );
    let moref = &m.types["ManagedObjectReference"];
    assert_eq!((moref.base.as_ref(), moref.fields.len()), (None, 0));
    assert_eq!(moref.origin, Origin::Core);
    let array = &m.arrays["ArrayOfDog"];
    assert_eq!(
        (array.item_name.as_str(), &array.item),
        ("Dog", &named("Dog"))
    );
    assert_eq!(
        m.arrays["ArrayOfString"].item,
        TypeRef::Primitive(Primitive::String)
    );
    let values: Vec<&str> = m.enums["DogBreed"]
        .values
        .iter()
        .map(|v| v.name.as_str())
        .collect();
    assert_eq!(values, ["collie", "poodle", "beagle"]);
}

#[test]
fn reads_operations_with_params_results_and_faults() {
    let m = import_wsdl(&fixture("pets-2.0"), "2.0").unwrap();
    assert_eq!(
        m.operations.len(),
        3,
        "binding operations are not counted again"
    );
    let feed = &m.operations["FeedAnimal"];
    let params: Vec<&str> = feed.params.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(params, ["_this", "animal", "amount"]);
    assert_eq!(
        feed.params[2].occurs,
        Occurs {
            min: 1,
            max: Some(3)
        }
    );
    let ret = feed.returns.as_ref().unwrap();
    assert_eq!(
        (&ret.ty, ret.occurs),
        (&named("Dog"), Occurs { min: 0, max: None })
    );
    assert_eq!(feed.faults, ["InvalidState", "MethodFault"]);
    let sleep = &m.operations["Sleep"];
    assert_eq!(sleep.returns, None, "an empty response has no result");
    assert!(sleep.faults.is_empty());
    assert_eq!(sleep.owner, None);
}

#[test]
fn prefixes_are_resolved_not_matched_by_spelling() {
    // pets-2.0 binds urn:vim25 to `v`, `x` and `pets`, and XML Schema to the default
    // namespace and to `s`; pets-1.0 uses the usual `vim25`/`xsd`. Both must read the same.
    let new = import_wsdl(&fixture("pets-2.0"), "x").unwrap();
    let old = import_wsdl(&fixture("pets-1.0"), "x").unwrap();
    assert_eq!(new.types["InvalidState"], old.types["InvalidState"]);
    assert_eq!(new.types["MethodFault"], old.types["MethodFault"]);
    assert_eq!(new.arrays["ArrayOfString"], old.arrays["ArrayOfString"]);
}

#[test]
fn first_seen_releases_and_managed_object_facts_match_the_golden_text() {
    let model = import_release_set(
        &[
            ("1.0", fixture("pets-1.0").as_path()),
            ("2.0", fixture("pets-2.0").as_path()),
        ],
        Some(&fixture("pets-facts.json")),
    )
    .unwrap();
    let expected_dir = fixture("pets-expected");
    for (name, rendered) in text::render(&model) {
        let body: String = rendered
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect();
        let expected = std::fs::read_to_string(expected_dir.join(name)).unwrap();
        assert_eq!(
            body, expected,
            "{name} differs from tests/fixtures/pets-expected/{name}"
        );
    }
    // And the reader gets back the same model from the golden files plus no header.
    assert_eq!(text::read(&expected_dir).unwrap(), model);
}

#[test]
fn since_merge_without_facts_uses_only_compared_releases() {
    let model = import_release_set(
        &[
            ("1.0", fixture("pets-1.0").as_path()),
            ("2.0", fixture("pets-2.0").as_path()),
        ],
        None,
    )
    .unwrap();
    assert_eq!(model.compared, ["1.0", "2.0"]);
    assert_eq!(model.operations["FeedAnimal"].since, "1.0");
    assert_eq!(model.operations["FeedAnimal"].params[2].since, "2.0");
    assert_eq!(model.operations["Pet_Task"].since, "2.0");
    assert_eq!(model.arrays["ArrayOfDog"].since, "2.0");
    assert_eq!(model.arrays["ArrayOfString"].since, "1.0");
    assert_eq!(model.enums["DogBreed"].values[2].since, "2.0");
    assert!(model.managed_objects.is_empty());
    assert!(model.operations.values().all(|o| o.owner.is_none()));
}

/// A scratch WSDL set: `files` written into a fresh directory under the target dir.
fn scratch(test: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("importer-{test}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (name, body) in files {
        std::fs::write(dir.join(name), body).unwrap();
    }
    dir
}

const SERVICE: &str = r#"<definitions xmlns="http://schemas.xmlsoap.org/wsdl/">
<import location="vim.wsdl"/>
</definitions>"#;

fn one_type_set(test: &str, schema_body: &str) -> Result<vim_codegen::model::Model, ImportError> {
    let vim = format!(
        r#"<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" xmlns:vim25="urn:vim25">
<types>
<schema xmlns="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:vim25"
  xmlns:vim25="urn:vim25" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
{schema_body}
</schema>
</types>
</definitions>"#
    );
    let dir = scratch(test, &[("vimService.wsdl", SERVICE), ("vim.wsdl", &vim)]);
    import_wsdl(&dir, "1.0")
}

#[test]
fn an_undeclared_prefix_is_an_error_with_its_line() {
    let err = one_type_set(
        "prefix",
        "<complexType name=\"A\">\n<sequence>\n<element name=\"b\" type=\"nope:B\"/>\n</sequence>\n</complexType>",
    )
    .unwrap_err();
    assert!(err.file.ends_with("vim.wsdl"), "{err}");
    assert_eq!(err.line, Some(7), "{err}");
    assert!(err.message.contains("`nope`"), "{err}");
}

#[test]
fn an_undeclared_type_is_an_error() {
    let err = one_type_set(
        "undeclared",
        r#"<complexType name="A"><sequence><element name="b" type="vim25:Missing"/></sequence></complexType>"#,
    )
    .unwrap_err();
    assert!(err.message.contains("`Missing`"), "{err}");
    assert_eq!(err.line, Some(5), "{err}");
}

#[test]
fn unsupported_schema_constructs_are_errors() {
    let err = one_type_set(
        "choice",
        r#"<complexType name="A"><choice><element name="b" type="xsd:int"/></choice></complexType>"#,
    )
    .unwrap_err();
    assert!(err.message.contains("<choice>"), "{err}");
}

#[test]
fn a_missing_included_file_names_the_file_and_the_include() {
    let err = one_type_set("missing", r#"<include schemaLocation="gone.xsd"/>"#).unwrap_err();
    assert!(err.message.contains("gone.xsd"), "{err}");
    assert!(
        err.file.ends_with("vim.wsdl") && err.line == Some(5),
        "{err}"
    );
}

#[test]
fn malformed_xml_is_an_error_not_a_panic() {
    let dir = scratch(
        "malformed",
        &[
            ("vimService.wsdl", SERVICE),
            ("vim.wsdl", "<definitions><types></definitions>"),
        ],
    );
    let err = import_wsdl(&dir, "1.0").unwrap_err();
    assert!(err.file.ends_with("vim.wsdl"), "{err}");
    assert!(err.line.is_some(), "{err}");
}

#[test]
fn a_missing_entry_file_is_an_error() {
    let dir = scratch("empty", &[]);
    let err = import_wsdl(&dir, "1.0").unwrap_err();
    assert!(err.to_string().contains("vimService.wsdl"), "{err}");
}

#[test]
fn malformed_facts_are_an_error() {
    let dir = scratch(
        "facts",
        &[("facts.json", "{\"managed_objects\": [ {\"name\": 3} ]}")],
    );
    let mut model = import_wsdl(&fixture("pets-2.0"), "2.0").unwrap();
    let err = vim_codegen::import::apply_vmodl(&mut model, &dir.join("facts.json")).unwrap_err();
    assert!(err.message.contains("name"), "{err}");
    let dir = scratch(
        "facts-syntax",
        &[("facts.json", "{\n  \"managed_objects\": [,]\n}")],
    );
    let err = vim_codegen::import::apply_vmodl(&mut model, &dir.join("facts.json")).unwrap_err();
    assert_eq!(err.line, Some(2), "{err}");
}
