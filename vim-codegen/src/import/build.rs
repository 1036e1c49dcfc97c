//! Turns what was collected from a WSDL set ([`RawSet`]) into a [`Model`] of one release.
//!
//! - Operations come from the portType: parameters are the fields of the input element's type
//!   (the `XxxRequestType` complex type, first field `_this`); the result is the `returnval`
//!   element of the output element's inline type (none when that sequence is empty); faults are
//!   the types of the elements of the fault messages' parts, in portType order.
//! - Every other named complex type is a data type: an `ArrayOf*` wrapper (no base, one
//!   unbounded element) becomes an [`ArrayType`], the rest a [`ComplexType`].
//! - Every named simple type becomes an [`EnumType`].
//!
//! Every type reference must resolve to an `xsd:` primitive or to a type declared in the set.

use std::collections::{HashMap, HashSet};

use super::error::ImportError;
use super::load::XSD_NS;
use super::raw::{Place, RawContent, RawField, RawSet};
use super::xml::ResolvedName;
use crate::model::{
    ArrayType, ComplexType, EnumType, EnumValue, Field, Model, Occurs, Operation, Primitive,
    Returns, TypeRef,
};

/// Builds the model of `release` from `set`.
pub fn build_model(set: &RawSet, release: &str) -> Result<Model, ImportError> {
    let builder = Builder::new(set)?;
    let mut model = Model {
        release: release.to_string(),
        compared: vec![release.to_string()],
        ..Model::default()
    };
    let mut request_types = HashSet::new();
    for raw in &set.port_ops {
        let op = builder.operation(raw.name.as_str(), raw, release, &mut request_types)?;
        model.operations.insert(op.name.clone(), op);
    }
    for raw in &set.complex {
        if request_types.contains(&raw.name) {
            continue;
        }
        let name = raw.name.local.clone();
        let c = &raw.content;
        if is_array_wrapper(&name, c) {
            let item = &c.fields[0];
            model.arrays.insert(
                name.clone(),
                ArrayType {
                    name,
                    item_name: item.name.clone(),
                    item: builder.type_ref(&item.ty, item.place)?,
                    origin: raw.origin,
                    since: release.to_string(),
                },
            );
        } else {
            let base = match &c.base {
                Some(b) => Some(builder.named(b, raw.place)?),
                None => None,
            };
            model.types.insert(
                name.clone(),
                ComplexType {
                    name,
                    base,
                    fields: builder.fields(&c.fields, release)?,
                    origin: raw.origin,
                    since: release.to_string(),
                },
            );
        }
    }
    for raw in &set.enums {
        let values = raw
            .values
            .iter()
            .map(|v| EnumValue {
                name: v.clone(),
                since: release.to_string(),
            })
            .collect();
        model.enums.insert(
            raw.name.local.clone(),
            EnumType {
                name: raw.name.local.clone(),
                values,
                origin: raw.origin,
                since: release.to_string(),
            },
        );
    }
    Ok(model)
}

/// True for `ArrayOfXxx`: no base, plain content, exactly one unbounded element.
fn is_array_wrapper(name: &str, c: &RawContent) -> bool {
    name.starts_with("ArrayOf")
        && c.base.is_none()
        && !c.simple
        && c.fields.len() == 1
        && c.fields[0].max.is_none()
}

struct Builder<'s> {
    set: &'s RawSet,
    complex: HashMap<&'s ResolvedName, &'s RawContent>,
    enums: HashSet<&'s ResolvedName>,
}

impl<'s> Builder<'s> {
    fn new(set: &'s RawSet) -> Result<Builder<'s>, ImportError> {
        let mut complex = HashMap::new();
        let mut locals: HashMap<&str, Place> = HashMap::new();
        let mut enums = HashSet::new();
        let declared = set
            .complex
            .iter()
            .map(|c| (&c.name, c.place))
            .chain(set.enums.iter().map(|e| (&e.name, e.place)));
        for (name, place) in declared {
            if let Some(first) = locals.insert(name.local.as_str(), place) {
                let doc = &set.docs[first.doc];
                let (line, _) = super::error::line_column(&doc.text, first.pos);
                return Err(set.error(
                    place,
                    format!(
                        "type `{}` is declared again (first at {}:{line})",
                        name.local,
                        doc.path.display()
                    ),
                ));
            }
        }
        for c in &set.complex {
            complex.insert(&c.name, &c.content);
        }
        for e in &set.enums {
            enums.insert(&e.name);
        }
        Ok(Builder {
            set,
            complex,
            enums,
        })
    }

    /// A reference to a declared (non-primitive) type, by local name.
    fn named(&self, name: &ResolvedName, place: Place) -> Result<String, ImportError> {
        if self.complex.contains_key(name) || self.enums.contains(name) {
            Ok(name.local.clone())
        } else {
            Err(self.set.error(
                place,
                format!(
                    "type `{}` (namespace `{}`) is not declared in this WSDL set",
                    name.local, name.ns
                ),
            ))
        }
    }

    fn type_ref(&self, name: &ResolvedName, place: Place) -> Result<TypeRef, ImportError> {
        if name.ns == XSD_NS {
            Primitive::from_xsd_name(&name.local)
                .map(TypeRef::Primitive)
                .ok_or_else(|| {
                    self.set.error(
                        place,
                        format!("unsupported XML Schema type `{}`", name.local),
                    )
                })
        } else {
            self.named(name, place).map(TypeRef::Named)
        }
    }

    fn fields(&self, raw: &[RawField], release: &str) -> Result<Vec<Field>, ImportError> {
        raw.iter()
            .map(|f| {
                Ok(Field {
                    name: f.name.clone(),
                    ty: self.type_ref(&f.ty, f.place)?,
                    occurs: Occurs {
                        min: f.min,
                        max: f.max,
                    },
                    mo_type: None,
                    since: release.to_string(),
                })
            })
            .collect()
    }

    /// The content of the element that message `msg` carries, and that element's type name
    /// (`None` for an inline anonymous type).
    fn message_content(
        &self,
        msg: &ResolvedName,
        place: Place,
    ) -> Result<(&'s RawContent, Option<&'s ResolvedName>), ImportError> {
        let (element_name, msg_place) = self.set.messages.get(msg).ok_or_else(|| {
            self.set
                .error(place, format!("message `{}` is not declared", msg.local))
        })?;
        let element = self.set.elements.get(element_name).ok_or_else(|| {
            self.set.error(
                *msg_place,
                format!("element `{}` is not declared", element_name.local),
            )
        })?;
        if let Some(inline) = &element.inline {
            return Ok((inline, None));
        }
        let ty = element.ty.as_ref().ok_or_else(|| {
            self.set.error(
                element.place,
                "element has neither a type nor inline content",
            )
        })?;
        let content = self.complex.get(ty).ok_or_else(|| {
            self.set.error(
                element.place,
                format!("complex type `{}` is not declared", ty.local),
            )
        })?;
        Ok((content, Some(ty)))
    }

    fn operation(
        &self,
        name: &str,
        raw: &super::raw::RawPortOp,
        release: &str,
        request_types: &mut HashSet<ResolvedName>,
    ) -> Result<Operation, ImportError> {
        let input = raw.input.as_ref().ok_or_else(|| {
            self.set
                .error(raw.place, format!("operation `{name}` has no input"))
        })?;
        let (request, request_type) = self.message_content(input, raw.place)?;
        if let Some(t) = request_type {
            request_types.insert(t.clone());
        }
        let params = self.fields(&request.fields, release)?;
        let returns = match &raw.output {
            None => None,
            Some(output) => {
                let (response, _) = self.message_content(output, raw.place)?;
                match response.fields.iter().find(|f| f.name == "returnval") {
                    Some(f) => Some(Returns {
                        ty: self.type_ref(&f.ty, f.place)?,
                        occurs: Occurs {
                            min: f.min,
                            max: f.max,
                        },
                        mo_type: None,
                    }),
                    None if response.fields.is_empty() => None,
                    None => {
                        return Err(self.set.error(
                            raw.place,
                            format!("the response of `{name}` has elements but no `returnval`"),
                        ))
                    }
                }
            }
        };
        let mut faults = Vec::new();
        for msg in &raw.faults {
            let (element_name, msg_place) = self.set.messages.get(msg).ok_or_else(|| {
                self.set.error(
                    raw.place,
                    format!("message `{}` is not declared", msg.local),
                )
            })?;
            let element = self.set.elements.get(element_name).ok_or_else(|| {
                self.set.error(
                    *msg_place,
                    format!("element `{}` is not declared", element_name.local),
                )
            })?;
            let ty = element.ty.as_ref().ok_or_else(|| {
                self.set
                    .error(element.place, "a fault element must name its type")
            })?;
            faults.push(self.named(ty, element.place)?);
        }
        Ok(Operation {
            name: name.to_string(),
            params,
            returns,
            faults,
            owner: None,
            task_result: None,
            since: release.to_string(),
        })
    }
}
