//! JSON document types as data: a catalogue's `[[document]]` tables say which
//! objects of a JSON document are what (a deployment operation, a resource, an
//! activity-log record, a Luna REST role) and which fields to read from them.
//! The walker (`json.rs`) tries every type on every object it meets; the form
//! of a table is described in `grammars/formats/json_azure.toml`.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value as Json};

use crate::event::Value;

/// One path or a list of alternatives, in the order they are tried.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum Paths {
    One(String),
    Many(Vec<String>),
}

impl Paths {
    fn iter(&self) -> impl Iterator<Item = &str> {
        let v: Vec<&str> = match self {
            Paths::One(p) => vec![p.as_str()],
            Paths::Many(ps) => ps.iter().map(String::as_str).collect(),
        };
        v.into_iter()
    }
}

/// How a field's value is typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub(crate) enum DocType {
    /// As the document shows it.
    #[default]
    Text,
    /// A number.
    Int,
    /// `true` or `false` (a JSON boolean only).
    Bool,
    /// An IP address.
    Ip,
    /// An RFC 3339 time.
    Time,
    /// An Azure resource id when it looks like one, else text.
    Id,
    /// Only an Azure resource id: anything else leaves the field out.
    ResourceId,
}

/// One field of a document type.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FieldDef {
    pub name: String,
    path: Paths,
    #[serde(default, rename = "type")]
    ty: DocType,
    /// The object is not this document without it.
    #[serde(default)]
    required: bool,
    /// The value when the path is absent.
    #[serde(default)]
    default: Option<String>,
    /// Read every element of the array at `path` (alternatives per element)
    /// and join them with commas.
    #[serde(default)]
    each: Option<Paths>,
    /// Keep the text before this marker (matched ignoring case); without the
    /// marker the field is left out.
    #[serde(default)]
    cut_at: Option<String>,
    /// Without a value of its own, the resource type of this other field's id.
    #[serde(default)]
    type_of: Option<String>,
}

/// One document type.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentDef {
    /// The event kind its objects give.
    pub event: String,
    /// Any one list of paths all present makes an object this document.
    when: Vec<Vec<String>>,
    /// No object with any of these paths is.
    #[serde(default)]
    unless: Vec<String>,
    /// The event's time (and that of everything nested in the object).
    #[serde(default)]
    time: Option<String>,
    /// The field whose id nested errors are about.
    #[serde(default)]
    resource: Option<String>,
    /// Values the evidence line is found by: the first present.
    #[serde(default)]
    locate: Vec<String>,
    /// Keys the evidence line is found by: the first present.
    #[serde(default)]
    locate_key: Vec<String>,
    /// The field whose text the evidence underlines.
    #[serde(default)]
    label: Option<String>,
    pub(crate) fields: Vec<FieldDef>,
}

/// What a document type read from one object.
pub(crate) struct Read {
    pub fields: Vec<(String, Value)>,
    pub needle: String,
    pub label: String,
    pub time: Option<DateTime<Utc>>,
    pub resource: Option<String>,
}

/// A key of an object, or its PascalCase spelling (PowerShell's).
pub(crate) fn get<'v>(m: &'v Map<String, Json>, k: &str) -> Option<&'v Json> {
    m.get(k).or_else(|| {
        let mut c = k.chars();
        let first = c.next()?;
        let pascal: String = first.to_uppercase().chain(c).collect();
        m.get(&pascal)
    })
}

/// The value at a dotted path (`0` indexes an array).
fn at<'v>(v: &'v Json, path: &str) -> Option<&'v Json> {
    path.split('.').try_fold(v, step)
}

fn step<'v>(v: &'v Json, seg: &str) -> Option<&'v Json> {
    match v {
        Json::Object(m) => get(m, seg),
        Json::Array(a) => a.get(seg.parse::<usize>().ok()?),
        _ => None,
    }
}

/// The value at a dotted path from an object.
fn at_obj<'v>(m: &'v Map<String, Json>, path: &str) -> Option<&'v Json> {
    let (first, rest) = path
        .split_once('.')
        .map_or((path, None), |(f, r)| (f, Some(r)));
    let v = get(m, first)?;
    match rest {
        Some(r) => at(v, r),
        None => Some(v),
    }
}

pub(crate) fn is_resource_id(s: &str) -> bool {
    s.len() > 15
        && s.get(..15)
            .is_some_and(|p| p.eq_ignore_ascii_case("/subscriptions/"))
}

pub(crate) fn id_value(v: &str) -> Value {
    if is_resource_id(v) {
        Value::ResourceId(v.to_owned())
    } else {
        Value::Text(v.to_owned())
    }
}

pub(crate) fn time_of(v: Option<&str>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(v?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

impl FieldDef {
    fn read(&self, obj: &Map<String, Json>, done: &[(String, Value)]) -> Option<Value> {
        let raw = self.path.iter().find_map(|p| {
            let v = at_obj(obj, p)?;
            match &self.each {
                Some(each) => {
                    let items = v.as_array()?;
                    let names: Vec<String> = items
                        .iter()
                        .filter_map(|x| each.iter().find_map(|e| at(x, e).and_then(Json::as_str)))
                        .map(str::to_owned)
                        .collect();
                    Some(names.join(","))
                }
                None => match self.ty {
                    DocType::Int => v.as_i64().map(|n| n.to_string()),
                    DocType::Bool => v.as_bool().map(|b| b.to_string()),
                    _ => v.as_str().map(str::to_owned),
                },
            }
        });
        let raw = match raw {
            Some(r) => r,
            None => {
                if let Some(of) = &self.type_of {
                    let id = done.iter().find(|(n, _)| n == of)?.1.to_string();
                    return crate::azure::ResourceId::parse(&id)?
                        .full_type()
                        .map(Value::Text);
                }
                self.default.clone()?
            }
        };
        let raw = match &self.cut_at {
            Some(marker) => {
                let cut = raw
                    .to_ascii_lowercase()
                    .find(&marker.to_ascii_lowercase())?;
                raw[..cut].to_owned()
            }
            None => raw,
        };
        Some(match self.ty {
            DocType::Text | DocType::Bool => Value::Text(raw),
            DocType::Int => Value::Int(raw.parse().ok()?),
            DocType::Ip => Value::Ip(raw.parse::<IpAddr>().ok()?),
            DocType::Time => Value::Time(time_of(Some(&raw))?),
            DocType::Id => id_value(&raw),
            DocType::ResourceId if is_resource_id(&raw) => Value::ResourceId(raw),
            DocType::ResourceId => return None,
        })
    }
}

impl DocumentDef {
    /// The paths and field names it reads, for checking the file.
    pub(crate) fn field_names(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|f| f.name.as_str())
    }

    /// The fields a check of the definition found wrong: `label`, `resource`
    /// and `type_of` must name fields of the document.
    pub(crate) fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let has = |n: &str| self.fields.iter().any(|f| f.name == n);
        for (what, name) in [("label", &self.label), ("resource", &self.resource)] {
            if let Some(n) = name.as_deref().filter(|n| !has(n)) {
                out.push(format!(
                    "`{what}` names `{n}`, which is not one of its fields"
                ));
            }
        }
        for f in &self.fields {
            if let Some(n) = f.type_of.as_deref().filter(|n| !has(n)) {
                out.push(format!(
                    "`{}`'s `type_of` names `{n}`, which is not one of its fields",
                    f.name
                ));
            }
        }
        if self.when.is_empty() || self.when.iter().any(Vec::is_empty) {
            out.push("`when` needs at least one non-empty list of paths".into());
        }
        out
    }

    /// Reads an object as this document, if it is one.
    pub(crate) fn read(&self, obj: &Map<String, Json>) -> Option<Read> {
        let present = |p: &String| at_obj(obj, p).is_some();
        if !self.when.iter().any(|all| all.iter().all(present)) || self.unless.iter().any(present) {
            return None;
        }
        let mut fields: Vec<(String, Value)> = Vec::with_capacity(self.fields.len());
        for f in &self.fields {
            match f.read(obj, &fields) {
                Some(v) => fields.push((f.name.clone(), v)),
                None if f.required => return None,
                None => {}
            }
        }
        let value_of = |name: &Option<String>| {
            let n = name.as_deref()?;
            fields
                .iter()
                .find(|(f, _)| f == n)
                .map(|(_, v)| v.to_string())
        };
        let needle = self
            .locate
            .iter()
            .find_map(|p| at_obj(obj, p).and_then(Json::as_str).map(str::to_owned))
            .or_else(|| {
                self.locate_key
                    .iter()
                    .find(|k| at_obj(obj, k).is_some())
                    .cloned()
            })
            .unwrap_or_default();
        Some(Read {
            needle,
            label: self.label.clone().unwrap_or_default(),
            time: self
                .time
                .as_deref()
                .and_then(|p| time_of(at_obj(obj, p)?.as_str())),
            resource: value_of(&self.resource).filter(|r| !r.is_empty()),
            fields,
        })
    }
}
