//! Reads the text form described in [`crate::text`] back into a [`Model`].

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::escape::unescape;
use super::TextError;
use crate::model::{
    ArrayType, ComplexType, EnumType, EnumValue, Field, ManagedObject, Model, Occurs, Operation,
    Origin, Property, Returns, TypeRef,
};

/// Reads the model written by [`super::write`] from directory `dir`.
pub fn read(dir: &Path) -> Result<Model, TextError> {
    let mut model = Model::default();
    read_release(&File::load(dir, "release.txt")?, &mut model)?;
    model.types = read_types(&File::load(dir, "types.txt")?)?;
    model.arrays = read_arrays(&File::load(dir, "arrays.txt")?)?;
    model.enums = read_enums(&File::load(dir, "enums.txt")?)?;
    model.operations = read_operations(&File::load(dir, "operations.txt")?)?;
    model.managed_objects = read_managed_objects(&File::load(dir, "managed-objects.txt")?)?;
    Ok(model)
}

struct File {
    path: PathBuf,
    text: String,
}

impl File {
    fn load(dir: &Path, name: &str) -> Result<File, TextError> {
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path).map_err(|e| TextError {
            file: path.clone(),
            line: 0,
            message: format!("cannot read: {e}"),
        })?;
        Ok(File { path, text })
    }

    fn error(&self, line: usize, message: impl Into<String>) -> TextError {
        TextError {
            file: self.path.clone(),
            line,
            message: message.into(),
        }
    }

    /// The entries: each entry line with the member lines under it.
    fn entries(&self) -> Result<Vec<(Line<'_>, Vec<Line<'_>>)>, TextError> {
        let mut out: Vec<(Line<'_>, Vec<Line<'_>>)> = Vec::new();
        for (i, raw) in self.text.lines().enumerate() {
            let no = i + 1;
            let trimmed = raw.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let line = Line::parse(self, no, trimmed);
            if raw.len() == trimmed.len() {
                out.push((line, Vec::new()));
            } else {
                match out.last_mut() {
                    Some((_, members)) => members.push(line),
                    None => return Err(self.error(no, "indented line before any entry")),
                }
            }
        }
        Ok(out)
    }
}

/// One line split into its keyword, positional tokens and `key=value` tokens.
struct Line<'f> {
    file: &'f File,
    no: usize,
    kw: &'f str,
    pos: Vec<&'f str>,
    kv: Vec<(&'f str, &'f str)>,
}

impl<'f> Line<'f> {
    fn parse(file: &'f File, no: usize, text: &'f str) -> Line<'f> {
        let mut tokens = text.split_ascii_whitespace();
        let kw = tokens.next().unwrap_or("");
        let mut pos = Vec::new();
        let mut kv = Vec::new();
        for t in tokens {
            match t.split_once('=') {
                Some(pair) => kv.push(pair),
                None => pos.push(t),
            }
        }
        Line {
            file,
            no,
            kw,
            pos,
            kv,
        }
    }

    fn error(&self, message: impl Into<String>) -> TextError {
        self.file.error(self.no, message)
    }

    fn text(&self, raw: &'f str) -> Result<Cow<'f, str>, TextError> {
        unescape(raw).ok_or_else(|| self.error(format!("bad escape in `{raw}`")))
    }

    /// Positional token `i` (unescaped); `what` names it in the error.
    fn at(&self, i: usize, what: &str) -> Result<String, TextError> {
        let raw = self
            .pos
            .get(i)
            .ok_or_else(|| self.error(format!("`{}` needs {what}", self.kw)))?;
        Ok(self.text(raw)?.into_owned())
    }

    /// The value of `key` (unescaped), if present.
    fn get(&self, key: &str) -> Result<Option<String>, TextError> {
        match self.kv.iter().find(|(k, _)| *k == key) {
            Some((_, v)) => Ok(Some(self.text(v)?.into_owned())),
            None => Ok(None),
        }
    }

    fn need(&self, key: &str) -> Result<String, TextError> {
        self.get(key)?
            .ok_or_else(|| self.error(format!("`{}` needs `{key}=`", self.kw)))
    }

    /// Fails unless the line has exactly `npos` positional tokens (besides `flags`) and only
    /// the keys in `keys`.
    fn expect(&self, npos: usize, flags: &[&str], keys: &[&str]) -> Result<(), TextError> {
        let extra_pos = self.pos.iter().skip(npos).find(|p| !flags.contains(p));
        if self.pos.len() < npos {
            return Err(self.error(format!("`{}` needs {npos} values", self.kw)));
        }
        if let Some(p) = extra_pos {
            return Err(self.error(format!("unexpected `{p}`")));
        }
        if let Some((k, _)) = self.kv.iter().find(|(k, _)| !keys.contains(k)) {
            return Err(self.error(format!("unknown key `{k}`")));
        }
        Ok(())
    }

    fn flag(&self, flag: &str) -> bool {
        self.pos.iter().skip(2).any(|p| *p == flag)
    }

    fn type_ref(&self, raw: String) -> Result<TypeRef, TextError> {
        TypeRef::from_text(&raw).ok_or_else(|| self.error(format!("bad type `{raw}`")))
    }

    fn origin(&self) -> Result<Origin, TextError> {
        let o = self.need("origin")?;
        Origin::from_text(&o).ok_or_else(|| self.error(format!("bad origin `{o}`")))
    }

    fn occurs(&self) -> Result<Occurs, TextError> {
        let min = match self.get("min")? {
            None => 1,
            Some(v) => v
                .parse()
                .map_err(|_| self.error(format!("bad min `{v}`")))?,
        };
        let max = match self.get("max")?.as_deref() {
            None => Some(1),
            Some("unbounded") => None,
            Some(v) => Some(
                v.parse()
                    .map_err(|_| self.error(format!("bad max `{v}`")))?,
            ),
        };
        Ok(Occurs { min, max })
    }

    fn since_or(&self, owner: &str) -> Result<String, TextError> {
        Ok(self.get("since")?.unwrap_or_else(|| owner.to_string()))
    }

    fn keyword(&self, kw: &str) -> Result<(), TextError> {
        if self.kw == kw {
            Ok(())
        } else {
            Err(self.error(format!("expected `{kw}`, found `{}`", self.kw)))
        }
    }
}

fn insert<T>(
    map: &mut BTreeMap<String, T>,
    line: &Line<'_>,
    name: String,
    value: T,
) -> Result<(), TextError> {
    if map.insert(name.clone(), value).is_some() {
        return Err(line.error(format!("`{name}` appears twice")));
    }
    Ok(())
}

fn no_members(members: &[Line<'_>]) -> Result<(), TextError> {
    match members.first() {
        Some(m) => Err(m.error("unexpected indented line")),
        None => Ok(()),
    }
}

fn read_release(file: &File, model: &mut Model) -> Result<(), TextError> {
    for (line, members) in file.entries()? {
        no_members(&members)?;
        match line.kw {
            "release" => {
                line.expect(1, &[], &[])?;
                model.release = line.at(0, "a release")?;
            }
            "compared" => {
                line.expect(line.pos.len(), &[], &[])?;
                model.compared = (0..line.pos.len())
                    .map(|i| line.at(i, "a release"))
                    .collect::<Result<_, _>>()?;
            }
            other => return Err(line.error(format!("unknown line `{other}`"))),
        }
    }
    if model.release.is_empty() {
        return Err(file.error(0, "no `release` line"));
    }
    Ok(())
}

fn field(line: &Line<'_>, owner_since: &str) -> Result<Field, TextError> {
    line.expect(2, &[], &["min", "max", "mo", "since"])?;
    Ok(Field {
        name: line.at(0, "a name")?,
        ty: line.type_ref(line.at(1, "a type")?)?,
        occurs: line.occurs()?,
        mo_type: line.get("mo")?,
        since: line.since_or(owner_since)?,
    })
}

fn returns(line: &Line<'_>) -> Result<Returns, TextError> {
    line.expect(1, &[], &["min", "max", "mo"])?;
    Ok(Returns {
        ty: line.type_ref(line.at(0, "a type")?)?,
        occurs: line.occurs()?,
        mo_type: line.get("mo")?,
    })
}

fn read_types(file: &File) -> Result<BTreeMap<String, ComplexType>, TextError> {
    let mut out = BTreeMap::new();
    for (line, members) in file.entries()? {
        line.keyword("type")?;
        line.expect(1, &[], &["base", "origin", "since"])?;
        let since = line.need("since")?;
        let fields = members
            .iter()
            .map(|m| m.keyword("field").and_then(|_| field(m, &since)))
            .collect::<Result<_, _>>()?;
        let name = line.at(0, "a name")?;
        let t = ComplexType {
            name: name.clone(),
            base: line.get("base")?,
            fields,
            origin: line.origin()?,
            since,
        };
        insert(&mut out, &line, name, t)?;
    }
    Ok(out)
}

fn read_arrays(file: &File) -> Result<BTreeMap<String, ArrayType>, TextError> {
    let mut out = BTreeMap::new();
    for (line, members) in file.entries()? {
        no_members(&members)?;
        line.keyword("array")?;
        line.expect(3, &[], &["origin", "since"])?;
        let name = line.at(0, "a name")?;
        let a = ArrayType {
            name: name.clone(),
            item_name: line.at(1, "an item name")?,
            item: line.type_ref(line.at(2, "an item type")?)?,
            origin: line.origin()?,
            since: line.need("since")?,
        };
        insert(&mut out, &line, name, a)?;
    }
    Ok(out)
}

fn read_enums(file: &File) -> Result<BTreeMap<String, EnumType>, TextError> {
    let mut out = BTreeMap::new();
    for (line, members) in file.entries()? {
        line.keyword("enum")?;
        line.expect(1, &[], &["origin", "since"])?;
        let since = line.need("since")?;
        let mut values = Vec::with_capacity(members.len());
        for m in &members {
            m.keyword("value")?;
            m.expect(1, &[], &["since"])?;
            values.push(EnumValue {
                name: m.at(0, "a value")?,
                since: m.since_or(&since)?,
            });
        }
        let name = line.at(0, "a name")?;
        let e = EnumType {
            name: name.clone(),
            values,
            origin: line.origin()?,
            since,
        };
        insert(&mut out, &line, name, e)?;
    }
    Ok(out)
}

fn read_operations(file: &File) -> Result<BTreeMap<String, Operation>, TextError> {
    let mut out = BTreeMap::new();
    for (line, members) in file.entries()? {
        line.keyword("operation")?;
        line.expect(1, &[], &["owner", "since"])?;
        let name = line.at(0, "a name")?;
        let mut op = Operation {
            name: name.clone(),
            params: Vec::new(),
            returns: None,
            faults: Vec::new(),
            owner: line.get("owner")?,
            task_result: None,
            since: line.need("since")?,
        };
        for m in &members {
            match m.kw {
                "param" => op.params.push(field(m, &op.since)?),
                "returns" if op.returns.is_none() => op.returns = Some(returns(m)?),
                "task-result" if op.task_result.is_none() => op.task_result = Some(returns(m)?),
                "fault" => {
                    m.expect(1, &[], &[])?;
                    op.faults.push(m.at(0, "a fault type")?);
                }
                other => return Err(m.error(format!("unexpected `{other}`"))),
            }
        }
        insert(&mut out, &line, name, op)?;
    }
    Ok(out)
}

fn read_managed_objects(file: &File) -> Result<BTreeMap<String, ManagedObject>, TextError> {
    let mut out = BTreeMap::new();
    for (line, members) in file.entries()? {
        line.keyword("managed-object")?;
        line.expect(1, &[], &["base", "since"])?;
        let since = line.need("since")?;
        let mut properties = Vec::with_capacity(members.len());
        for m in &members {
            m.keyword("property")?;
            m.expect(2, &["array", "optional"], &["mo", "since"])?;
            properties.push(Property {
                name: m.at(0, "a name")?,
                ty: m.type_ref(m.at(1, "a type")?)?,
                array: m.flag("array"),
                optional: m.flag("optional"),
                mo_type: m.get("mo")?,
                since: m.since_or(&since)?,
            });
        }
        let name = line.at(0, "a name")?;
        let mo = ManagedObject {
            name: name.clone(),
            base: line.get("base")?,
            properties,
            since,
        };
        insert(&mut out, &line, name, mo)?;
    }
    Ok(out)
}
