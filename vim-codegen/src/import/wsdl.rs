//! Reads WSDL 1.1 `<definitions>`: imported WSDL files, the schemas in `<types>`, messages and
//! the portType's operations. Bindings and services add nothing the model needs and are
//! skipped (each operation appears in the portType and again in the binding; only the portType
//! is read).

use super::error::ImportError;
use super::load::{Loader, WSDL_NS, XSD_NS};
use super::raw::{Place, RawPortOp};
use super::xml::{Element, ResolvedName};
use super::xsd;

/// Reads one `<definitions>` element of document `doc` into the loader's set.
pub fn read_definitions(
    loader: &mut Loader,
    doc: usize,
    defs: &Element,
) -> Result<(), ImportError> {
    let document = std::rc::Rc::clone(&loader.set.docs[doc]);
    let target = defs.attr("targetNamespace").unwrap_or("").to_string();
    for child in &defs.children {
        let place = Place {
            doc,
            pos: child.pos,
        };
        if child.name.ns != WSDL_NS {
            continue;
        }
        match child.name.local.as_str() {
            "import" => {
                let location = child.attr("location").ok_or_else(|| {
                    document.error(child.pos, "<import> without the `location` attribute")
                })?;
                loader.visit_relative(place, location)?;
            }
            "types" => {
                for schema in &child.children {
                    if schema.is(XSD_NS, "schema") {
                        xsd::read_schema(loader, doc, schema)?;
                    } else if !schema.is(WSDL_NS, "documentation") {
                        return Err(xsd::unsupported(&document, schema));
                    }
                }
            }
            "message" => {
                let name = name_in(&target, child, &document)?;
                let part = child
                    .children
                    .iter()
                    .find(|c| c.is(WSDL_NS, "part"))
                    .ok_or_else(|| document.error(child.pos, "message without a part"))?;
                let element = part.qname_attr("element").cloned().ok_or_else(|| {
                    document.error(
                        part.pos,
                        "only message parts with an `element` are supported",
                    )
                })?;
                loader.set.messages.insert(name, (element, place));
            }
            "portType" => {
                for op in &child.children {
                    if !op.is(WSDL_NS, "operation") {
                        continue;
                    }
                    let raw = read_port_operation(&document, doc, op)?;
                    if !loader.set.port_ops.iter().any(|o| o.name == raw.name) {
                        loader.set.port_ops.push(raw);
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn read_port_operation(
    document: &super::xml::Document,
    doc: usize,
    op: &Element,
) -> Result<RawPortOp, ImportError> {
    let name = op
        .attr("name")
        .ok_or_else(|| document.error(op.pos, "<operation> without a name"))?
        .to_string();
    let message = |el: &Element| {
        el.qname_attr("message")
            .cloned()
            .ok_or_else(|| document.error(el.pos, format!("<{}> without a message", el.name.local)))
    };
    let mut raw = RawPortOp {
        name,
        input: None,
        output: None,
        faults: Vec::new(),
        place: Place { doc, pos: op.pos },
    };
    for part in &op.children {
        if part.is(WSDL_NS, "input") {
            raw.input = Some(message(part)?);
        } else if part.is(WSDL_NS, "output") {
            raw.output = Some(message(part)?);
        } else if part.is(WSDL_NS, "fault") {
            raw.faults.push(message(part)?);
        }
    }
    Ok(raw)
}

fn name_in(
    target: &str,
    el: &Element,
    document: &super::xml::Document,
) -> Result<ResolvedName, ImportError> {
    let local = el
        .attr("name")
        .ok_or_else(|| document.error(el.pos, format!("<{}> without a name", el.name.local)))?;
    Ok(ResolvedName {
        ns: target.to_string(),
        local: local.to_string(),
    })
}
