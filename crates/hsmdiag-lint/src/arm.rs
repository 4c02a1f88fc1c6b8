//! ARM templates (their expressions evaluated as far as names go), what-if
//! results and the state already there (az CLI, REST, Resource Explorer).

use std::collections::HashMap;

use serde_json::Value as Json;

use crate::model::*;

/// names go: parameters, variables, concat, format, resourceId, toLower.
/// Template expressions (`[parameters('vnetName')]`) evaluated as far as
pub(crate) struct Ctx<'a> {
    pub(crate) params: HashMap<String, Json>,
    pub(crate) vars: &'a serde_json::Map<String, Json>,
}

pub(crate) static EMPTY: std::sync::LazyLock<serde_json::Map<String, Json>> =
    std::sync::LazyLock::new(serde_json::Map::new);

impl<'a> Ctx<'a> {
    pub(crate) fn new(template: &'a Json, given: &HashMap<String, Json>) -> Self {
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
    pub(crate) fn eval(&self, v: &Json) -> Option<String> {
        match v {
            Json::String(s) => self.eval_str(s, 0),
            Json::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    pub(crate) fn eval_str(&self, s: &str, depth: usize) -> Option<String> {
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

    pub(crate) fn expr(&self, p: &mut Expr<'_>, depth: usize) -> Option<String> {
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

pub(crate) struct Expr<'a> {
    pub(crate) s: &'a [u8],
    pub(crate) i: usize,
}

impl Expr<'_> {
    pub(crate) fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    pub(crate) fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    pub(crate) fn ws(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }
    pub(crate) fn ident(&mut self) -> String {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.')
        {
            self.i += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }
    pub(crate) fn string(&mut self) -> Option<String> {
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
pub(crate) fn prop<'j>(obj: &'j Json, key: &str) -> Option<&'j Json> {
    obj.get("properties")
        .and_then(|p| get_ci(p, key))
        .or_else(|| get_ci(obj, key))
}

pub(crate) fn get_ci<'j>(obj: &'j Json, key: &str) -> Option<&'j Json> {
    obj.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

pub(crate) fn prop_path(obj: &Json, path: &str, key: &str) -> String {
    match obj.get("properties").and_then(|p| get_ci(p, key)) {
        Some(_) => format!("{path}.properties.{}", actual_key(&obj["properties"], key)),
        None => format!("{path}.{}", actual_key(obj, key)),
    }
}

pub(crate) fn actual_key(obj: &Json, key: &str) -> String {
    obj.as_object()
        .and_then(|o| o.keys().find(|k| k.eq_ignore_ascii_case(key)).cloned())
        .unwrap_or_else(|| key.to_owned())
}

/// `(vnet, subnet)` from a subnet reference: a resource id
/// (`.../virtualNetworks/v/subnets/s`) or an evaluated `resourceId(...)`
/// (`Microsoft.Network/virtualNetworks/subnets/v/s`).
pub(crate) fn subnet_ref(r: &str) -> Option<(String, String)> {
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

pub(crate) const HSM_TYPE: &str = "microsoft.hardwaresecuritymodules/dedicatedhsms";
pub(crate) const DELEGATION: &str = "microsoft.hardwaresecuritymodules/dedicatedhsms";

pub(crate) fn delegated(delegations: Option<&Json>, ctx: Option<&Ctx<'_>>) -> bool {
    delegations.and_then(Json::as_array).is_some_and(|ds| {
        ds.iter().any(|d| {
            prop(d, "serviceName")
                .and_then(|v| ctx.map_or_else(|| v.as_str().map(str::to_owned), |c| c.eval(v)))
                .is_some_and(|s| s.eq_ignore_ascii_case(DELEGATION))
        })
    })
}

pub(crate) fn strings(v: Option<&Json>) -> Vec<String> {
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
pub(crate) fn arm_resources(
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

pub(crate) fn arm_resource(
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

pub(crate) fn subnet_from(
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

pub(crate) fn gateway_from(
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
pub(crate) fn what_if(
    j: &Json,
    params: &HashMap<String, Json>,
    at: &dyn Fn(&str) -> Loc,
    model: &mut Model,
) {
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
pub(crate) fn state(j: &Json, path: &str, at: &dyn Fn(&str) -> Loc, model: &mut Model) {
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
