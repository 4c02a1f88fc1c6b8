//! Deployment templates read before anything is deployed (`hsmdiag lint`):
//! ARM templates with their parameters files, `az deployment ... what-if`
//! output, `terraform show -json` plans, Terraform configuration (HCL), and
//! the state already there (`az network vnet show`, `az dedicated-hsm list`,
//! `az network vnet-gateway list`). They are read into one model of HSMs,
//! subnets and gateways; what would fail becomes a `lint.*` event at the
//! template's file and line, with the JSON path (or HCL block) in `path`, for
//! the knowledge base's rules to report like any other event. The kinds and
//! their fields are data (`grammars/formats/framing.toml`, `[lint]`).

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;
use std::sync::Arc;

use serde_json::Value as Json;

use crate::event::{Event, EventKind, Field, SourceId, Span, Value};

/// Where a thing is declared: the input, the 1-based line, the path in it.
#[derive(Debug, Clone)]
struct Loc {
    source: SourceId,
    line: u32,
    path: String,
}

#[derive(Debug, Clone)]
struct Hsm {
    name: String,
    location: Option<String>,
    stamp: Option<String>,
    /// (vnet, subnet), lower case.
    subnet: Option<(String, String)>,
    ip: Option<(String, Loc)>,
    /// What it depends on, lower case (resource ids, names, Terraform addresses).
    depends: Vec<String>,
    /// Declared to be created (a template, a plan), not already there.
    planned: bool,
    terraform: bool,
    count: usize,
    loc: Loc,
}

#[derive(Debug, Clone)]
struct Subnet {
    /// Lower case, for matching; `shown` as the template writes them.
    vnet: String,
    name: String,
    shown: (String, String),
    prefixes: Vec<String>,
    delegated: bool,
    loc: Loc,
}

#[derive(Debug, Clone)]
struct Gateway {
    name: String,
    vnet: Option<String>,
    express_route: bool,
    planned: bool,
    /// Terraform address (`azurerm_virtual_network_gateway.er`), lower case.
    address: Option<String>,
    loc: Loc,
}

/// What the inputs declare or show.
#[derive(Debug, Default)]
struct Model {
    hsms: Vec<Hsm>,
    subnets: Vec<Subnet>,
    gateways: Vec<Gateway>,
}

/// One input to lint: its id, name and text.
#[derive(Debug, Clone, Copy)]
pub struct Doc<'a> {
    /// The input's id in the report.
    pub source: SourceId,
    /// Its name (a path).
    pub name: &'a str,
    /// Its whole text.
    pub text: &'a str,
}

/// Reads every input into one model and returns, per input (in the order
/// given), what it was read as and the `lint.*` events of what would fail.
/// Text that is neither a template nor state hsmdiag knows gives no events.
pub fn lint(docs: &[Doc<'_>]) -> Vec<Linted> {
    let mut model = Model::default();
    let mut kinds = Vec::with_capacity(docs.len());
    // Parameters files first: a template's values come from them.
    let mut params: HashMap<String, Json> = HashMap::new();
    // A pasted session (`$ az ... -o json` and comments before the JSON) is
    // read from its first line that opens a document; lines count from there.
    let found: Vec<Option<(Json, usize, u32)>> = docs.iter().map(|d| find_json(d.text)).collect();
    let parsed: Vec<Option<Json>> = found
        .iter()
        .map(|f| f.as_ref().map(|(j, _, _)| j.clone()))
        .collect();
    for j in parsed.iter().flatten() {
        if is_parameters_file(j) {
            if let Some(p) = j.get("parameters").and_then(Json::as_object) {
                for (k, v) in p {
                    if let Some(v) = v.get("value") {
                        params.insert(k.to_ascii_lowercase(), v.clone());
                    }
                }
            }
        }
    }
    for ((d, j), f) in docs.iter().zip(&parsed).zip(&found) {
        let (start, before) = f.as_ref().map_or((0, 0), |(_, s, b)| (*s, *b));
        let pos = Positions::new(&d.text[start..]);
        // An object (a resource, a subnet) is shown by its `name` line.
        let at = |path: &str| Loc {
            source: d.source,
            line: before
                + ["name", "type"]
                    .iter()
                    .find_map(|k| pos.lines.get(&format!("{path}.{k}")).copied())
                    .unwrap_or_else(|| pos.line(path)),
            path: path.to_owned(),
        };
        let kind = kind_of(j.as_ref(), d.text);
        match (kind, j) {
            (Some(Kind::Template), Some(j)) => {
                let ctx = Ctx::new(j, &params);
                arm_resources(j, "$.resources", &ctx, &at, true, &mut model);
            }
            (Some(Kind::WhatIf), Some(j)) => what_if(j, &params, &at, &mut model),
            (Some(Kind::Plan), Some(j)) => plan(j, &at, &mut model),
            (Some(Kind::State), Some(j)) => state(j, "$", &at, &mut model),
            (Some(Kind::Terraform), _) => hcl(d, &mut model),
            _ => {}
        }
        kinds.push(kind);
    }
    checks(&model, docs)
        .into_iter()
        .zip(kinds)
        .map(|(events, kind)| Linted {
            what: kind.map(Kind::name),
            events,
        })
        .collect()
}

/// What one input of [`lint`] was read as, and the events of what would fail.
#[derive(Debug)]
#[non_exhaustive]
pub struct Linted {
    /// What the text was read as (`an ARM template`, `a Terraform plan`, ...);
    /// `None` for text that is none of what `lint` checks (a log, a README).
    pub what: Option<&'static str>,
    /// The `lint.*` events.
    pub events: Vec<Event>,
}

/// The kinds of text `lint` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Parameters,
    Template,
    WhatIf,
    Plan,
    State,
    Terraform,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Parameters => "a parameters file",
            Kind::Template => "an ARM template",
            Kind::WhatIf => "a what-if result",
            Kind::Plan => "a Terraform plan",
            Kind::State => "resource state",
            Kind::Terraform => "a Terraform configuration",
        }
    }
}

/// What a text is: its JSON document (`j`) by shape, else Terraform's HCL;
/// any other JSON document is resource state (`az` output, Resource
/// Explorer, `terraform show -json`).
fn kind_of(j: Option<&Json>, text: &str) -> Option<Kind> {
    match j {
        Some(j) if is_parameters_file(j) => Some(Kind::Parameters),
        Some(j) if j.get("resources").is_some_and(Json::is_array) => Some(Kind::Template),
        Some(j) if j.get("changes").is_some_and(Json::is_array) => Some(Kind::WhatIf),
        Some(j) if j.get("format_version").is_some() && j.get("terraform_version").is_some() => {
            Some(Kind::Plan)
        }
        Some(_) => Some(Kind::State),
        None if looks_like_hcl(text) => Some(Kind::Terraform),
        None => None,
    }
}

/// The JSON document of a text: all of it, or from the first line that opens
/// one (`{` or `[`), with that line's byte offset and the lines before it.
fn find_json(text: &str) -> Option<(Json, usize, u32)> {
    if let Some(j) = parse_json(text) {
        return Some((j, 0, 0));
    }
    let mut offset = 0;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        let t = line.trim_start();
        if t.starts_with('{') || t.starts_with('[') {
            let rest = &text[offset..];
            let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<Json>();
            if let Some(Ok(j)) = stream.next() {
                return Some((j, offset, n as u32));
            }
        }
        offset += line.len();
    }
    None
}

fn parse_json(text: &str) -> Option<Json> {
    let t = text.trim_start_matches('\u{feff}');
    serde_json::from_str(t)
        .ok()
        .or_else(|| serde_json::from_str(&strip_comments(t)).ok())
}

/// ARM templates may hold `//` and `/* */` comments: blanked, offsets kept.
fn strip_comments(t: &str) -> String {
    let b = t.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let mut in_str = false;
    while i < b.len() {
        let c = b[i];
        if in_str {
            out.push(c);
            if c == b'\\' && i + 1 < b.len() {
                out.push(b[i + 1]);
                i += 2;
                continue;
            }
            in_str = c != b'"';
            i += 1;
            continue;
        }
        if c == b'"' {
            in_str = true;
        } else if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                out.push(b' ');
                i += 1;
            }
            continue;
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                out.push(if b[i] == b'\n' { b'\n' } else { b' ' });
                i += 1;
            }
            out.extend_from_slice(b"  ");
            i += 2;
            continue;
        }
        out.push(c);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_default()
}

fn is_parameters_file(j: &Json) -> bool {
    j.get("$schema")
        .and_then(Json::as_str)
        .is_some_and(|s| s.contains("deploymentParameters"))
        || (j.get("parameters").is_some()
            && j.get("resources").is_none()
            && j.get("contentVersion").is_some())
}

/// Where each JSON value starts: its path (`$.resources[2].properties.subnet`)
/// to its line.
struct Positions {
    lines: HashMap<String, u32>,
}

impl Positions {
    fn new(text: &str) -> Self {
        let text = strip_comments(text);
        let b = text.as_bytes();
        let mut lines = HashMap::new();
        // The path of the container being read and, in an object, the key
        // just read; in an array, the index of the next value.
        enum Frame {
            Obj(String, Option<String>),
            Arr(String, usize),
        }
        let mut stack: Vec<Frame> = Vec::new();
        let mut line = 1u32;
        let mut i = 0;
        let value_path = |stack: &Vec<Frame>| -> String {
            match stack.last() {
                None => "$".to_owned(),
                Some(Frame::Obj(p, Some(k))) => format!("{p}.{k}"),
                Some(Frame::Obj(p, None)) => p.clone(),
                Some(Frame::Arr(p, n)) => format!("{p}[{n}]"),
            }
        };
        let mut expect_key = false;
        while i < b.len() {
            let c = b[i];
            match c {
                b'\n' => line += 1,
                b'{' | b'[' => {
                    let p = value_path(&stack);
                    lines.entry(p.clone()).or_insert(line);
                    stack.push(if c == b'{' {
                        Frame::Obj(p, None)
                    } else {
                        Frame::Arr(p, 0)
                    });
                    expect_key = c == b'{';
                }
                b'}' | b']' => {
                    stack.pop();
                    expect_key = false;
                }
                b',' => match stack.last_mut() {
                    Some(Frame::Arr(_, n)) => *n += 1,
                    Some(Frame::Obj(_, k)) => {
                        *k = None;
                        expect_key = true;
                    }
                    None => {}
                },
                b':' => expect_key = false,
                b'"' => {
                    let start = i + 1;
                    i += 1;
                    while i < b.len() && b[i] != b'"' {
                        if b[i] == b'\\' {
                            i += 1;
                        }
                        i += 1;
                    }
                    let s = String::from_utf8_lossy(&b[start..i.min(b.len())]).into_owned();
                    if expect_key {
                        if let Some(Frame::Obj(_, k)) = stack.last_mut() {
                            *k = Some(s);
                        }
                    } else {
                        lines.entry(value_path(&stack)).or_insert(line);
                    }
                }
                c if !c.is_ascii_whitespace() && !expect_key => {
                    lines.entry(value_path(&stack)).or_insert(line);
                }
                _ => {}
            }
            i += 1;
        }
        Positions { lines }
    }

    /// The line of a path, or of its nearest parent that has one.
    fn line(&self, path: &str) -> u32 {
        let mut p = path.to_owned();
        loop {
            if let Some(l) = self.lines.get(&p) {
                return *l;
            }
            match p.rfind(['.', '[']) {
                Some(i) if i > 0 => p.truncate(i),
                _ => return 1,
            }
        }
    }
}

/// Template expressions (`[parameters('vnetName')]`) evaluated as far as
/// names go: parameters, variables, concat, format, resourceId, toLower.
struct Ctx<'a> {
    params: HashMap<String, Json>,
    vars: &'a serde_json::Map<String, Json>,
}

static EMPTY: std::sync::LazyLock<serde_json::Map<String, Json>> =
    std::sync::LazyLock::new(serde_json::Map::new);

impl<'a> Ctx<'a> {
    fn new(template: &'a Json, given: &HashMap<String, Json>) -> Self {
        let mut params = HashMap::new();
        if let Some(p) = template.get("parameters").and_then(Json::as_object) {
            for (k, v) in p {
                if let Some(d) = v.get("defaultValue") {
                    params.insert(k.to_ascii_lowercase(), d.clone());
                }
            }
        }
        for (k, v) in given {
            params.insert(k.clone(), v.clone());
        }
        Ctx {
            params,
            vars: template
                .get("variables")
                .and_then(Json::as_object)
                .unwrap_or(&EMPTY),
        }
    }

    /// A string value, evaluated when it is an expression; `None` when it
    /// cannot be known before deploying.
    fn eval(&self, v: &Json) -> Option<String> {
        match v {
            Json::String(s) => self.eval_str(s, 0),
            Json::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    fn eval_str(&self, s: &str, depth: usize) -> Option<String> {
        let t = s.trim();
        if t.starts_with("[[") || !(t.starts_with('[') && t.ends_with(']')) {
            return Some(
                t.strip_prefix('[')
                    .filter(|_| t.starts_with("[["))
                    .unwrap_or(t)
                    .to_owned(),
            );
        }
        if depth > 8 {
            return None;
        }
        let mut p = Expr {
            s: &t.as_bytes()[1..t.len() - 1],
            i: 0,
        };
        self.expr(&mut p, depth)
    }

    fn expr(&self, p: &mut Expr<'_>, depth: usize) -> Option<String> {
        p.ws();
        if p.peek() == Some(b'\'') {
            return p.string();
        }
        if p.peek().is_some_and(|c| c.is_ascii_digit()) {
            return Some(p.ident());
        }
        let name = p.ident().to_ascii_lowercase();
        p.ws();
        let mut args = Vec::new();
        if p.eat(b'(') {
            loop {
                p.ws();
                if p.eat(b')') {
                    break;
                }
                args.push(self.expr(p, depth));
                p.ws();
                if !p.eat(b',') {
                    p.ws();
                    p.eat(b')');
                    break;
                }
            }
        }
        let value = match name.as_str() {
            "parameters" | "variables" => {
                let key = args.first().cloned().flatten()?.to_ascii_lowercase();
                let v = if name == "parameters" {
                    self.params.get(&key).cloned()
                } else {
                    self.vars
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(&key))
                        .map(|(_, v)| v.clone())
                }?;
                match &v {
                    Json::String(s) => self.eval_str(s, depth + 1),
                    Json::Number(n) => Some(n.to_string()),
                    _ => None,
                }
            }
            "concat" => args
                .into_iter()
                .collect::<Option<Vec<_>>>()
                .map(|v| v.concat()),
            "format" => {
                let mut it = args.into_iter();
                let mut f = it.next().flatten()?;
                for (n, a) in it.enumerate() {
                    f = f.replace(&format!("{{{n}}}"), &a?);
                }
                Some(f)
            }
            // A copy loop's index: `#` in the name of each copy.
            "copyindex" => Some("#".to_owned()),
            "tolower" => args
                .into_iter()
                .next()
                .flatten()
                .map(|s| s.to_ascii_lowercase()),
            "string" => args.into_iter().next().flatten(),
            "resourceid" => {
                let args: Vec<String> = args.into_iter().collect::<Option<Vec<_>>>()?;
                // Optional subscription and group first: the type has a `/`.
                let at = args.iter().position(|a| a.contains('/'))?;
                Some(args[at..].join("/"))
            }
            _ => None,
        };
        // `.property` and `[index]` after a call: not followed.
        if p.peek() == Some(b'.') || p.peek() == Some(b'[') {
            return None;
        }
        value
    }
}

struct Expr<'a> {
    s: &'a [u8],
    i: usize,
}

impl Expr<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn ws(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }
    fn ident(&mut self) -> String {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.')
        {
            self.i += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }
    fn string(&mut self) -> Option<String> {
        self.i += 1;
        let mut out = Vec::new();
        while let Some(c) = self.peek() {
            self.i += 1;
            if c == b'\'' {
                if self.peek() == Some(b'\'') {
                    out.push(b'\'');
                    self.i += 1;
                    continue;
                }
                return String::from_utf8(out).ok();
            }
            out.push(c);
        }
        None
    }
}

/// A property of a resource object: under `properties` (templates, REST) or
/// flattened beside it (az CLI output).
fn prop<'j>(obj: &'j Json, key: &str) -> Option<&'j Json> {
    obj.get("properties")
        .and_then(|p| get_ci(p, key))
        .or_else(|| get_ci(obj, key))
}

fn get_ci<'j>(obj: &'j Json, key: &str) -> Option<&'j Json> {
    obj.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

fn prop_path(obj: &Json, path: &str, key: &str) -> String {
    match obj.get("properties").and_then(|p| get_ci(p, key)) {
        Some(_) => format!("{path}.properties.{}", actual_key(&obj["properties"], key)),
        None => format!("{path}.{}", actual_key(obj, key)),
    }
}

fn actual_key(obj: &Json, key: &str) -> String {
    obj.as_object()
        .and_then(|o| o.keys().find(|k| k.eq_ignore_ascii_case(key)).cloned())
        .unwrap_or_else(|| key.to_owned())
}

/// `(vnet, subnet)` from a subnet reference: a resource id
/// (`.../virtualNetworks/v/subnets/s`) or an evaluated `resourceId(...)`
/// (`Microsoft.Network/virtualNetworks/subnets/v/s`).
fn subnet_ref(r: &str) -> Option<(String, String)> {
    let l = r.to_ascii_lowercase();
    if let Some(rest) = l.split("virtualnetworks/subnets/").nth(1) {
        let mut it = rest.split('/');
        return Some((it.next()?.to_owned(), it.next()?.to_owned()));
    }
    let rest = l.split("/virtualnetworks/").nth(1)?;
    let mut it = rest.split('/');
    let vnet = it.next()?.to_owned();
    (it.next()? == "subnets").then_some(())?;
    Some((vnet, it.next()?.to_owned()))
}

const HSM_TYPE: &str = "microsoft.hardwaresecuritymodules/dedicatedhsms";
const DELEGATION: &str = "microsoft.hardwaresecuritymodules/dedicatedhsms";

fn delegated(delegations: Option<&Json>, ctx: Option<&Ctx<'_>>) -> bool {
    delegations.and_then(Json::as_array).is_some_and(|ds| {
        ds.iter().any(|d| {
            prop(d, "serviceName")
                .and_then(|v| ctx.map_or_else(|| v.as_str().map(str::to_owned), |c| c.eval(v)))
                .is_some_and(|s| s.eq_ignore_ascii_case(DELEGATION))
        })
    })
}

fn strings(v: Option<&Json>) -> Vec<String> {
    match v {
        Some(Json::String(s)) => vec![s.clone()],
        Some(Json::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// Resources of an ARM template (or of a nested deployment's template).
fn arm_resources(
    j: &Json,
    path: &str,
    ctx: &Ctx<'_>,
    at: &dyn Fn(&str) -> Loc,
    planned: bool,
    model: &mut Model,
) {
    let Some(resources) = j.get("resources").and_then(Json::as_array) else {
        return;
    };
    for (i, r) in resources.iter().enumerate() {
        let rp = format!("{path}[{i}]");
        arm_resource(r, &rp, ctx, at, planned, None, model);
    }
}

fn arm_resource(
    r: &Json,
    rp: &str,
    ctx: &Ctx<'_>,
    at: &dyn Fn(&str) -> Loc,
    planned: bool,
    parent: Option<&str>,
    model: &mut Model,
) {
    let ty = r
        .get("type")
        .and_then(|t| ctx.eval(t))
        .unwrap_or_default()
        .to_ascii_lowercase();
    let ty = match parent {
        Some(p) if !ty.contains('/') => format!("{p}/{ty}"),
        _ => ty,
    };
    let name = r.get("name").and_then(|n| ctx.eval(n)).unwrap_or_default();
    let depends: Vec<String> = strings(r.get("dependsOn"))
        .iter()
        .map(|d| {
            ctx.eval_str(d, 0)
                .unwrap_or_else(|| d.clone())
                .to_ascii_lowercase()
        })
        .collect();
    match ty.as_str() {
        HSM_TYPE => {
            let np = prop(r, "networkProfile");
            let subnet = np
                .and_then(|n| get_ci(n, "subnet"))
                .and_then(|s| get_ci(s, "id").or_else(|| get_ci(s, "resourceId")))
                .and_then(|v| ctx.eval(v))
                .and_then(|s| subnet_ref(&s));
            let np_path = prop_path(r, rp, "networkProfile");
            let ip = np
                .and_then(|n| get_ci(n, "networkInterfaces"))
                .and_then(Json::as_array)
                .and_then(|a| a.first())
                .and_then(|n| get_ci(n, "privateIpAddress"))
                .and_then(|v| ctx.eval(v))
                .filter(|s| !s.is_empty())
                .map(|ip| {
                    (
                        ip,
                        at(&format!("{np_path}.networkInterfaces[0].privateIpAddress")),
                    )
                });
            let count = r
                .get("copy")
                .and_then(|c| c.get("count"))
                .and_then(|c| ctx.eval(c))
                .and_then(|c| c.parse().ok())
                .unwrap_or(1);
            model.hsms.push(Hsm {
                name: name.clone(),
                location: r.get("location").and_then(|l| ctx.eval(l)),
                stamp: prop(r, "stampId").and_then(|s| ctx.eval(s)),
                subnet,
                ip,
                depends,
                planned,
                terraform: false,
                count,
                loc: at(rp),
            });
        }
        "microsoft.network/virtualnetworks" => {
            if let Some(subs) = prop(r, "subnets").and_then(Json::as_array) {
                let sp = prop_path(r, rp, "subnets");
                for (k, s) in subs.iter().enumerate() {
                    let path = format!("{sp}[{k}]");
                    subnet_from(s, &name, &path, Some(ctx), at, model);
                }
            }
        }
        "microsoft.network/virtualnetworks/subnets" => {
            let (vnet, sub) = match name.split_once('/') {
                Some((v, s)) => (v.to_owned(), s.to_owned()),
                // A child of a VNet resource: the VNet is filled in below.
                None => (String::new(), name.clone()),
            };
            let mut s = r.clone();
            if let Some(o) = s.as_object_mut() {
                o.insert("name".into(), Json::String(sub));
            }
            subnet_from(&s, &vnet, rp, Some(ctx), at, model);
        }
        "microsoft.network/virtualnetworkgateways" => {
            gateway_from(r, &name, rp, Some(ctx), at, planned, model);
        }
        "microsoft.resources/deployments" => {
            if let Some(t) = prop(r, "template") {
                let mut given: HashMap<String, Json> = HashMap::new();
                if let Some(ps) = prop(r, "parameters").and_then(Json::as_object) {
                    for (k, v) in ps {
                        if let Some(v) = v.get("value") {
                            let v = match v {
                                Json::String(s) => {
                                    ctx.eval_str(s, 0).map_or(v.clone(), Json::String)
                                }
                                _ => v.clone(),
                            };
                            given.insert(k.to_ascii_lowercase(), v);
                        }
                    }
                }
                let inner = Ctx::new(t, &given);
                let tp = prop_path(r, rp, "template");
                let before = model.hsms.len();
                arm_resources(t, &format!("{tp}.resources"), &inner, at, planned, model);
                // An HSM in a nested deployment waits for what the deployment waits for.
                for h in &mut model.hsms[before..] {
                    h.depends.extend(depends.iter().cloned());
                }
            }
        }
        _ => {}
    }
    if let Some(children) = r.get("resources").and_then(Json::as_array) {
        for (k, c) in children.iter().enumerate() {
            let cp = format!("{rp}.resources[{k}]");
            let before = model.subnets.len();
            arm_resource(c, &cp, ctx, at, planned, Some(&ty), model);
            for s in &mut model.subnets[before..] {
                if s.vnet.is_empty() {
                    s.vnet = name.to_ascii_lowercase();
                    s.shown.0 = name.clone();
                }
            }
        }
    }
}

fn subnet_from(
    s: &Json,
    vnet: &str,
    path: &str,
    ctx: Option<&Ctx<'_>>,
    at: &dyn Fn(&str) -> Loc,
    model: &mut Model,
) {
    let ev = |v: &Json| ctx.map_or_else(|| v.as_str().map(str::to_owned), |c| c.eval(v));
    let Some(name) = s.get("name").and_then(ev) else {
        return;
    };
    let mut prefixes: Vec<String> = prop(s, "addressPrefix").and_then(ev).into_iter().collect();
    if let Some(a) = prop(s, "addressPrefixes").and_then(Json::as_array) {
        prefixes.extend(a.iter().filter_map(ev));
    }
    model.subnets.push(Subnet {
        vnet: vnet.to_ascii_lowercase(),
        name: name.to_ascii_lowercase(),
        shown: (vnet.to_owned(), name.clone()),
        prefixes,
        delegated: delegated(prop(s, "delegations"), ctx),
        loc: at(path),
    });
}

fn gateway_from(
    g: &Json,
    name: &str,
    path: &str,
    ctx: Option<&Ctx<'_>>,
    at: &dyn Fn(&str) -> Loc,
    planned: bool,
    model: &mut Model,
) {
    let ev = |v: &Json| ctx.map_or_else(|| v.as_str().map(str::to_owned), |c| c.eval(v));
    let vnet = prop(g, "ipConfigurations")
        .and_then(Json::as_array)
        .and_then(|a| a.first())
        .and_then(|c| prop(c, "subnet"))
        .and_then(|s| get_ci(s, "id"))
        .and_then(ev)
        .and_then(|s| subnet_ref(&s))
        .map(|(v, _)| v);
    let express_route = prop(g, "gatewayType")
        .and_then(ev)
        .is_none_or(|t| t.eq_ignore_ascii_case("ExpressRoute"));
    model.gateways.push(Gateway {
        name: name.to_owned(),
        vnet,
        express_route,
        planned,
        address: None,
        loc: at(path),
    });
}

/// `az deployment group what-if --no-pretty-print`: the resources as they
/// will be after the deployment (`after`), those created or changed planned.
fn what_if(j: &Json, params: &HashMap<String, Json>, at: &dyn Fn(&str) -> Loc, model: &mut Model) {
    let ctx = Ctx::new(&Json::Null, params);
    for (i, c) in j["changes"].as_array().into_iter().flatten().enumerate() {
        let Some(after) = c.get("after").filter(|a| a.is_object()) else {
            continue;
        };
        let change = c.get("changeType").and_then(Json::as_str).unwrap_or("");
        let planned =
            !change.eq_ignore_ascii_case("NoChange") && !change.eq_ignore_ascii_case("Ignore");
        arm_resource(
            after,
            &format!("$.changes[{i}].after"),
            &ctx,
            at,
            planned,
            None,
            model,
        );
    }
}

/// State already there: az CLI or REST output (one resource, a list, or
/// `{"value": [...]}`); an HSM or gateway shown counts toward the limits.
fn state(j: &Json, path: &str, at: &dyn Fn(&str) -> Loc, model: &mut Model) {
    match j {
        Json::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                state(x, &format!("{path}[{i}]"), at, model);
            }
        }
        Json::Object(o) => {
            if let Some(v) = o.get("value").filter(|v| v.is_array()) {
                return state(v, &format!("{path}.value"), at, model);
            }
            let ty = o
                .get("type")
                .and_then(Json::as_str)
                .unwrap_or("")
                .to_ascii_lowercase();
            let name = o
                .get("name")
                .and_then(Json::as_str)
                .unwrap_or("")
                .to_owned();
            let ctx = Ctx::new(&Json::Null, &HashMap::new());
            match ty.as_str() {
                HSM_TYPE => {
                    let before = model.hsms.len();
                    arm_resource(j, path, &ctx, at, false, None, model);
                    let id = o.get("id").and_then(Json::as_str).unwrap_or("");
                    for h in &mut model.hsms[before..] {
                        if h.subnet.is_none() {
                            h.subnet = subnet_ref(id);
                        }
                    }
                }
                "microsoft.network/virtualnetworks"
                | "microsoft.network/virtualnetworks/subnets" => {
                    if ty.ends_with("subnets") {
                        let id = o.get("id").and_then(Json::as_str).unwrap_or("");
                        let vnet = subnet_ref(id).map(|(v, _)| v).unwrap_or_default();
                        subnet_from(j, &vnet, path, None, at, model);
                    } else {
                        arm_resource(j, path, &ctx, at, false, None, model);
                    }
                }
                "microsoft.network/virtualnetworkgateways" => {
                    gateway_from(j, &name, path, None, at, false, model);
                }
                _ => {}
            }
        }
        _ => {}
    }
}

/// `terraform show -json PLAN`: what the configuration declares (with its
/// references) and which resources the plan creates.
fn plan(j: &Json, at: &dyn Fn(&str) -> Loc, model: &mut Model) {
    let Some(resources) = j
        .pointer("/configuration/root_module/resources")
        .and_then(Json::as_array)
    else {
        return;
    };
    let planned_values: HashMap<String, &Json> = j
        .pointer("/planned_values/root_module/resources")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r: &Json| Some((r.get("address")?.as_str()?.to_owned(), r.get("values")?)))
        .collect();
    let mut blocks = Vec::new();
    for (i, r) in resources.iter().enumerate() {
        let (Some(ty), Some(name)) = (
            r.get("type").and_then(Json::as_str),
            r.get("name").and_then(Json::as_str),
        ) else {
            continue;
        };
        let address = format!("{ty}.{name}");
        let values = planned_values.get(&address).map(|v| (*v).clone());
        let expr = r.get("expressions").cloned().unwrap_or(Json::Null);
        let depends = strings(r.get("depends_on"))
            .into_iter()
            .map(|d| d.to_ascii_lowercase())
            .collect();
        blocks.push(TfBlock {
            ty: ty.to_owned(),
            name: name.to_owned(),
            attrs: TfAttrs::Plan { expr, values },
            depends,
            loc: at(&format!("$.configuration.root_module.resources[{i}]")),
        });
    }
    terraform(blocks, model);
}

/// The references (`azurerm_subnet.hsm.id`) an expression of a plan's
/// configuration holds, anywhere inside it.
fn tf_refs(e: &Json) -> Vec<String> {
    let mut out = Vec::new();
    match e {
        Json::Object(o) => {
            if let Some(r) = o.get("references").and_then(Json::as_array) {
                out.extend(
                    r.iter()
                        .filter_map(|x| x.as_str().map(str::to_ascii_lowercase)),
                );
            }
            for (k, v) in o {
                if k != "references" {
                    out.extend(tf_refs(v));
                }
            }
        }
        Json::Array(a) => a.iter().for_each(|x| out.extend(tf_refs(x))),
        _ => {}
    }
    out
}

enum TfAttrs {
    /// From HCL: the block's body as JSON (literals as strings, references as
    /// `${...}` strings).
    Hcl(Json),
    /// From a plan: the configuration's expressions (with their references)
    /// and the planned values (literals).
    Plan { expr: Json, values: Option<Json> },
}

struct TfBlock {
    ty: String,
    name: String,
    attrs: TfAttrs,
    depends: Vec<String>,
    loc: Loc,
}

impl TfBlock {
    fn address(&self) -> String {
        format!("{}.{}", self.ty, self.name).to_ascii_lowercase()
    }

    /// A nested attribute (`network_profile.subnet_id`) as literal text and
    /// the references it makes.
    fn get(&self, path: &[&str]) -> (Option<String>, Vec<String>) {
        match &self.attrs {
            TfAttrs::Hcl(body) => {
                let v = hcl_at(body, path);
                let text = v.and_then(|v| match v {
                    Json::String(s) => Some(s.clone()),
                    Json::Array(a) => a.first().and_then(|x| x.as_str().map(str::to_owned)),
                    _ => None,
                });
                let refs = text.iter().flat_map(|t| hcl_refs(t)).collect();
                (text.filter(|t| !t.contains("${")), refs)
            }
            TfAttrs::Plan { expr, values } => {
                let e = hcl_at(expr, path);
                let refs = e.map(tf_refs).unwrap_or_default();
                let text = values
                    .as_ref()
                    .and_then(|v| hcl_at(v, path))
                    .and_then(|x| match x {
                        Json::String(s) => Some(s.clone()),
                        Json::Array(a) => a.first().and_then(|x| x.as_str().map(str::to_owned)),
                        _ => None,
                    });
                (text, refs)
            }
        }
    }

    fn all_text(&self) -> String {
        match &self.attrs {
            TfAttrs::Hcl(b) => b.to_string(),
            TfAttrs::Plan { expr, values, .. } => {
                format!("{expr} {}", values.clone().unwrap_or_default())
            }
        }
    }
}

/// A nested attribute of a block's body; blocks are arrays of bodies.
fn hcl_at<'j>(body: &'j Json, path: &[&str]) -> Option<&'j Json> {
    let mut cur = body;
    for k in path {
        cur = match cur {
            Json::Array(a) => a.first()?.get(*k)?,
            _ => cur.get(*k)?,
        };
    }
    match cur {
        Json::Array(a) if a.first().is_some_and(Json::is_object) => a.first(),
        _ => Some(cur),
    }
}

/// `azurerm_subnet.hsm` from `${azurerm_subnet.hsm.id}`.
fn hcl_refs(t: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = t;
    while let Some(i) = rest.find("${") {
        let inner = &rest[i + 2..];
        let end = inner.find('}').unwrap_or(inner.len());
        let expr = &inner[..end];
        for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.')) {
            let parts: Vec<&str> = word.split('.').collect();
            if parts.len() >= 2 && parts[0].starts_with("azurerm_") {
                out.push(format!("{}.{}", parts[0], parts[1]).to_ascii_lowercase());
            }
        }
        rest = &inner[end..];
    }
    out
}

fn looks_like_hcl(text: &str) -> bool {
    text.lines().any(|l| {
        let t = l.trim_start();
        t.starts_with("resource \"") || t.starts_with("module \"") || t.starts_with("provider \"")
    })
}

/// Terraform configuration: its `resource` blocks, each at its line.
fn hcl(d: &Doc<'_>, model: &mut Model) {
    let Ok(body) = hcl::parse(d.text) else {
        return;
    };
    let mut blocks = Vec::new();
    for b in body.blocks().filter(|b| b.identifier() == "resource") {
        let labels: Vec<String> = b.labels().iter().map(|l| l.as_str().to_owned()).collect();
        let [ty, name] = labels.as_slice() else {
            continue;
        };
        let json = hcl_json(b.body());
        let line = find_line(d.text, &format!("resource \"{ty}\" \"{name}\""));
        let depends = json
            .get("depends_on")
            .map(|v| {
                let mut out = Vec::new();
                match v {
                    Json::String(s) => out.extend(hcl_refs(s)),
                    Json::Array(a) => a.iter().filter_map(Json::as_str).for_each(|s| {
                        out.extend(hcl_refs(s));
                        if !s.contains("${") {
                            out.push(s.to_ascii_lowercase());
                        }
                    }),
                    _ => {}
                }
                out
            })
            .unwrap_or_default();
        blocks.push(TfBlock {
            ty: ty.clone(),
            name: name.clone(),
            attrs: TfAttrs::Hcl(json),
            depends,
            loc: Loc {
                source: d.source,
                line,
                path: format!("resource \"{ty}\" \"{name}\""),
            },
        });
    }
    terraform(blocks, model);
}

/// A block's body as JSON: attributes by key (expressions as HCL's JSON
/// form, references as `${...}`), nested blocks as arrays of bodies.
fn hcl_json(body: &hcl::Body) -> Json {
    let mut o = serde_json::Map::new();
    for a in body.attributes() {
        o.insert(
            a.key().to_owned(),
            serde_json::to_value(a.expr()).unwrap_or(Json::Null),
        );
    }
    for b in body.blocks() {
        let e = o
            .entry(b.identifier().to_owned())
            .or_insert_with(|| Json::Array(Vec::new()));
        if let Json::Array(v) = e {
            v.push(hcl_json(b.body()));
        }
    }
    Json::Object(o)
}

fn find_line(text: &str, needle: &str) -> u32 {
    let squeeze = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let want = squeeze(needle);
    text.lines()
        .position(|l| squeeze(l).starts_with(&want))
        .map_or(1, |i| i as u32 + 1)
}

/// Terraform's resources into the model: subnets (with their delegations),
/// gateways, HSMs, and ARM template deployments that hold HSMs.
fn terraform(blocks: Vec<TfBlock>, model: &mut Model) {
    // A subnet's name and VNet, by its address.
    let mut subnet_at: HashMap<String, (String, String)> = HashMap::new();
    let vnet_name = |b: &TfBlock| -> String {
        let (lit, refs) = b.get(&["virtual_network_name"]);
        lit.or_else(|| {
            refs.first()
                .map(|r| r.split('.').nth(1).unwrap_or(r).to_owned())
        })
        .unwrap_or_default()
        .to_ascii_lowercase()
    };
    for b in &blocks {
        if b.ty == "azurerm_subnet" {
            let name = b.get(&["name"]).0.unwrap_or_else(|| b.name.clone());
            let vnet = vnet_name(b);
            subnet_at.insert(b.address(), (vnet.clone(), name.to_ascii_lowercase()));
            let text = b.all_text().to_ascii_lowercase();
            let prefixes = match &b.attrs {
                TfAttrs::Hcl(j) => strings(j.get("address_prefixes")),
                TfAttrs::Plan { values, .. } => {
                    strings(values.as_ref().and_then(|v| v.get("address_prefixes")))
                }
            }
            .into_iter()
            .filter(|p| !p.contains("${"))
            .collect();
            model.subnets.push(Subnet {
                shown: (vnet.clone(), name.clone()),
                vnet,
                name: name.to_ascii_lowercase(),
                prefixes,
                delegated: text.contains(DELEGATION),
                loc: b.loc.clone(),
            });
        }
    }
    for b in &blocks {
        match b.ty.as_str() {
            "azurerm_virtual_network_gateway" => {
                let (_, refs) = b.get(&["ip_configuration", "subnet_id"]);
                let vnet = refs
                    .iter()
                    .find_map(|r| subnet_at.get(r))
                    .map(|(v, _)| v.clone());
                let ty = b.get(&["type"]).0.unwrap_or_default();
                model.gateways.push(Gateway {
                    name: b.get(&["name"]).0.unwrap_or_else(|| b.name.clone()),
                    vnet,
                    express_route: ty.is_empty() || ty.eq_ignore_ascii_case("ExpressRoute"),
                    planned: true,
                    address: Some(b.address()),
                    loc: b.loc.clone(),
                });
            }
            "azurerm_dedicated_hardware_security_module" => {
                let (_, refs) = b.get(&["network_profile", "subnet_id"]);
                let subnet = refs.iter().find_map(|r| subnet_at.get(r)).cloned();
                let ip = b
                    .get(&["network_profile", "network_interface_private_ip_addresses"])
                    .0
                    .map(|ip| (ip, b.loc.clone()));
                model.hsms.push(Hsm {
                    name: b.get(&["name"]).0.unwrap_or_else(|| b.name.clone()),
                    location: b.get(&["location"]).0,
                    stamp: b.get(&["stamp_id"]).0,
                    subnet,
                    ip,
                    depends: b.depends.clone(),
                    planned: true,
                    terraform: true,
                    count: 1,
                    loc: b.loc.clone(),
                });
            }
            _ => {}
        }
    }
}

fn event(
    kind: &crate::parse::framing::LintKind,
    loc: &Loc,
    docs: &[Doc<'_>],
    fields: &[(&str, String)],
) -> Event {
    let text = docs
        .iter()
        .find(|d| d.source == loc.source)
        .and_then(|d| d.text.lines().nth(loc.line.saturating_sub(1) as usize))
        .unwrap_or("")
        .to_owned();
    let mut fs: Vec<Field> = fields
        .iter()
        .map(|(k, v)| Field {
            name: Arc::from(*k),
            value: Value::Text(v.clone()),
            range: 0..0,
        })
        .collect();
    fs.push(Field {
        name: Arc::from("path"),
        value: Value::Text(loc.path.clone()),
        range: 0..0,
    });
    Event {
        kind: EventKind::new(&kind.kind),
        span: Span {
            source: loc.source,
            line: loc.line,
            start: 0,
            end: 0,
            column: 0,
        },
        time: None,
        host: None,
        program: None,
        pid: None,
        message_start: 0,
        text,
        fields: fs,
    }
}

/// Whether an HSM's dependencies name a gateway.
fn waits_for(h: &Hsm, g: &Gateway) -> bool {
    let name = g.name.to_ascii_lowercase();
    h.depends.iter().any(|d| {
        d == &name
            || d.ends_with(&format!("/{name}"))
            || g.address.as_deref().is_some_and(|a| d == a)
    })
}

fn ipv4(s: &str) -> Option<Ipv4Addr> {
    s.trim().parse().ok()
}

fn in_prefix(ip: Ipv4Addr, prefix: &str) -> Option<bool> {
    let (net, bits) = prefix.trim().split_once('/')?;
    let net: Ipv4Addr = net.parse().ok()?;
    let bits: u32 = bits.parse().ok()?;
    if bits > 32 {
        return None;
    }
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    Some(u32::from(ip) & mask == u32::from(net) & mask)
}

fn checks(model: &Model, docs: &[Doc<'_>]) -> Vec<Vec<Event>> {
    let lk = &crate::parse::framing::framing().lint;
    let mut out: Vec<Vec<Event>> = docs.iter().map(|_| Vec::new()).collect();
    let mut push = |e: Event| {
        if let Some(i) = docs.iter().position(|d| d.source == e.span.source) {
            out[i].push(e);
        }
    };
    let planned: Vec<&Hsm> = model.hsms.iter().filter(|h| h.planned).collect();
    let subnet_of = |(v, s): &(String, String)| {
        model
            .subnets
            .iter()
            .rfind(|x| &x.name == s && (x.vnet == *v || x.vnet.is_empty()))
    };
    let mut reported_subnets = Vec::new();
    for h in &planned {
        if h.terraform {
            push(event(
                &lk.hsm_in_terraform,
                &h.loc,
                docs,
                &[("hsm", h.name.clone())],
            ));
        }
        if let Some(sref) = &h.subnet {
            if let Some(s) = subnet_of(sref) {
                if !s.delegated && !reported_subnets.contains(&(s.vnet.clone(), s.name.clone())) {
                    reported_subnets.push((s.vnet.clone(), s.name.clone()));
                    push(event(
                        &lk.subnet_not_delegated,
                        &s.loc,
                        docs,
                        &[
                            ("hsm", h.name.clone()),
                            ("subnet", s.shown.1.clone()),
                            ("vnet", s.shown.0.clone()),
                        ],
                    ));
                }
                if let Some((ip, loc)) = &h.ip {
                    if let Some(addr) = ipv4(ip) {
                        let known: Vec<bool> = s
                            .prefixes
                            .iter()
                            .filter_map(|p| in_prefix(addr, p))
                            .collect();
                        if !known.is_empty() && !known.iter().any(|x| *x) {
                            push(event(
                                &lk.hsm_ip_outside_subnet,
                                loc,
                                docs,
                                &[
                                    ("hsm", h.name.clone()),
                                    ("ip", ip.clone()),
                                    ("prefix", s.prefixes.join(", ")),
                                    ("subnet", s.shown.1.clone()),
                                ],
                            ));
                        }
                    }
                }
            }
        }
        // The ExpressRoute gateway of the HSM's VNet, declared beside it.
        let vnet = h.subnet.as_ref().map(|(v, _)| v.clone());
        if let Some(g) = model.gateways.iter().find(|g| {
            g.planned
                && g.express_route
                && g.loc.source == h.loc.source
                && (g.vnet.is_none() || vnet.is_none() || g.vnet == vnet)
        }) {
            if !waits_for(h, g) {
                push(event(
                    &lk.hsm_not_after_gateway,
                    &h.loc,
                    docs,
                    &[
                        ("hsm", h.name.clone()),
                        ("gateway", g.name.clone()),
                        ("vnet", g.vnet.clone().or(vnet).unwrap_or_default()),
                    ],
                ));
            }
        }
    }
    // One gateway per VNet: a planned one where another is, or will be.
    let mut by_vnet: BTreeMap<String, Vec<&Gateway>> = BTreeMap::new();
    for g in &model.gateways {
        if let Some(v) = &g.vnet {
            let list = by_vnet.entry(v.clone()).or_default();
            if !list.iter().any(|x| x.name.eq_ignore_ascii_case(&g.name)) {
                list.push(g);
            }
        }
    }
    for (vnet, gs) in &by_vnet {
        if gs.len() > 1 {
            if let Some(second) = gs.iter().rfind(|g| g.planned) {
                let other = gs
                    .iter()
                    .find(|g| !std::ptr::eq(**g, *second))
                    .map(|g| g.name.clone())
                    .unwrap_or_default();
                push(event(
                    &lk.second_gateway,
                    &second.loc,
                    docs,
                    &[
                        ("gateway", second.name.clone()),
                        ("other", other),
                        ("vnet", vnet.clone()),
                    ],
                ));
            }
        }
    }
    // At most 2 HSMs per stamp and 4 per region, those already there counted.
    let mut names_planned: Vec<String> = planned
        .iter()
        .map(|h| h.name.to_ascii_lowercase())
        .collect();
    names_planned.dedup();
    // One HSM per name: declared again (a what-if beside its template) or
    // shown as already there, it is still one device.
    let mut seen_names: Vec<String> = Vec::new();
    let all: Vec<&Hsm> = model
        .hsms
        .iter()
        .filter(|h| h.planned || !names_planned.contains(&h.name.to_ascii_lowercase()))
        .filter(|h| {
            let n = h.name.to_ascii_lowercase();
            if n.is_empty() || !seen_names.contains(&n) {
                seen_names.push(n);
                true
            } else {
                false
            }
        })
        .collect();
    for (scope, limit, key) in [
        (
            "stamp",
            2usize,
            (|h: &Hsm| h.stamp.clone()) as fn(&Hsm) -> Option<String>,
        ),
        ("region", 4usize, |h: &Hsm| {
            h.location
                .clone()
                .map(|l| l.to_ascii_lowercase().replace(' ', ""))
        }),
    ] {
        let mut groups: BTreeMap<String, Vec<&Hsm>> = BTreeMap::new();
        for h in &all {
            if let Some(k) = key(h) {
                groups.entry(k).or_default().push(h);
            }
        }
        for (place, hs) in groups {
            let count: usize = hs.iter().map(|h| h.count).sum();
            if count > limit {
                if let Some(first) = hs.iter().find(|h| h.planned) {
                    push(event(
                        &lk.hsm_quota,
                        &first.loc,
                        docs,
                        &[
                            ("scope", scope.to_owned()),
                            ("place", place.clone()),
                            ("hsm_count", count.to_string()),
                            ("hsm_limit", limit.to_string()),
                            (
                                "hsms",
                                hs.iter()
                                    .map(|h| match h.count {
                                        1 => h.name.clone(),
                                        n => format!("{} × {n}", h.name),
                                    })
                                    .collect::<Vec<_>>()
                                    .join(", "),
                            ),
                        ],
                    ));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_give_names() {
        let t: Json = serde_json::json!({
            "parameters": { "vnetName": { "defaultValue": "hsm-vnet" } },
            "variables": { "sub": "[concat(parameters('vnetName'), '-hsm')]" }
        });
        let ctx = Ctx::new(&t, &HashMap::new());
        assert_eq!(
            ctx.eval_str("[variables('sub')]", 0).as_deref(),
            Some("hsm-vnet-hsm")
        );
        assert_eq!(
            ctx.eval_str(
                "[resourceId('Microsoft.Network/virtualNetworks/subnets', parameters('vnetName'), 'hsmsubnet')]",
                0
            )
            .as_deref(),
            Some("Microsoft.Network/virtualNetworks/subnets/hsm-vnet/hsmsubnet")
        );
        assert_eq!(ctx.eval_str("[resourceGroup().location]", 0), None);
        assert_eq!(ctx.eval_str("plain", 0).as_deref(), Some("plain"));
    }

    #[test]
    fn positions_find_lines_by_path() {
        let text =
            "{\n  \"a\": [\n    {\"b\": 1},\n    {\"c\": {\n      \"d\": \"x\"\n    }}\n  ]\n}\n";
        let p = Positions::new(text);
        assert_eq!(p.line("$.a[0].b"), 3);
        assert_eq!(p.line("$.a[1].c.d"), 5);
        assert_eq!(p.line("$.a[1].c.zz"), 4);
    }

    fn kinds(text: &str) -> Vec<String> {
        let doc = Doc {
            source: SourceId(0),
            name: "x.json",
            text,
        };
        let mut k: Vec<String> = lint(&[doc])[0]
            .events
            .iter()
            .map(|e| e.kind.as_str().to_owned())
            .collect();
        k.sort();
        k
    }

    /// A plan in the shape `terraform show -json` documents (format_version,
    /// configuration with expressions and references, planned_values), built
    /// here: no public plan of a Dedicated HSM exists.
    #[test]
    fn a_terraform_plan_is_read_from_its_configuration() {
        let plan = serde_json::json!({
            "format_version": "1.2", "terraform_version": "1.9.5",
            "planned_values": { "root_module": { "resources": [
                { "address": "azurerm_subnet.hsm", "type": "azurerm_subnet", "name": "hsm",
                  "values": { "name": "hsmsubnet", "address_prefixes": ["10.2.1.0/24"], "delegation": [] } },
                { "address": "azurerm_dedicated_hardware_security_module.hsm", "type": "azurerm_dedicated_hardware_security_module", "name": "hsm",
                  "values": { "name": "hsm1", "stamp_id": "stamp1", "location": "westus" } }
            ] } },
            "configuration": { "root_module": { "resources": [
                { "address": "azurerm_subnet.hsm", "type": "azurerm_subnet", "name": "hsm",
                  "expressions": { "virtual_network_name": { "references": ["azurerm_virtual_network.hsm.name", "azurerm_virtual_network.hsm"] } } },
                { "address": "azurerm_virtual_network_gateway.er", "type": "azurerm_virtual_network_gateway", "name": "er",
                  "expressions": { "type": { "constant_value": "ExpressRoute" },
                    "ip_configuration": [ { "subnet_id": { "references": ["azurerm_subnet.gw.id", "azurerm_subnet.gw"] } } ] } },
                { "address": "azurerm_dedicated_hardware_security_module.hsm", "type": "azurerm_dedicated_hardware_security_module", "name": "hsm",
                  "expressions": { "network_profile": [ { "subnet_id": { "references": ["azurerm_subnet.hsm.id", "azurerm_subnet.hsm"] } } ] } }
            ] } }
        });
        let text = serde_json::to_string_pretty(&plan).unwrap();
        assert_eq!(
            kinds(&text),
            [
                "lint.hsm_in_terraform",
                "lint.hsm_not_after_gateway",
                "lint.subnet_not_delegated"
            ]
        );
    }

    /// `what-if --no-pretty-print` output: `changes[].after` are resources.
    #[test]
    fn what_if_changes_are_read_as_resources() {
        let w = serde_json::json!({ "status": "Succeeded", "changes": [
            { "changeType": "Create", "resourceId": "/subscriptions/x/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/v",
              "after": { "type": "Microsoft.Network/virtualNetworks", "name": "v",
                "properties": { "subnets": [ { "name": "hsmsubnet", "properties": { "addressPrefix": "10.2.1.0/24", "delegations": [] } } ] } } },
            { "changeType": "Create", "resourceId": "/subscriptions/x/resourceGroups/g/providers/Microsoft.HardwareSecurityModules/dedicatedHSMs/h",
              "after": { "type": "Microsoft.HardwareSecurityModules/dedicatedHSMs", "name": "h", "location": "westus",
                "properties": { "stampId": "stamp1", "networkProfile": {
                  "subnet": { "id": "/subscriptions/x/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/v/subnets/hsmsubnet" },
                  "networkInterfaces": [ { "privateIpAddress": "10.2.9.4" } ] } } } }
        ] });
        let text = serde_json::to_string_pretty(&w).unwrap();
        assert_eq!(
            kinds(&text),
            ["lint.hsm_ip_outside_subnet", "lint.subnet_not_delegated"]
        );
    }

    #[test]
    fn prefixes() {
        let ip = ipv4("10.2.1.8").unwrap();
        assert_eq!(in_prefix(ip, "10.2.1.0/24"), Some(true));
        assert_eq!(in_prefix(ip, "10.2.2.0/24"), Some(false));
        assert_eq!(in_prefix(ip, "junk"), None);
    }
}
