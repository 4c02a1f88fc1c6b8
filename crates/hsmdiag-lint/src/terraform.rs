//! Terraform: `terraform show -json` plans and configuration (HCL).

use std::collections::HashMap;

use serde_json::Value as Json;

use crate::arm::*;
use crate::model::*;

/// references) and which resources the plan creates.
/// `terraform show -json PLAN`: what the configuration declares (with its
pub(crate) fn plan(j: &Json, at: &dyn Fn(&str) -> Loc, model: &mut Model) {
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
pub(crate) fn tf_refs(e: &Json) -> Vec<String> {
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

pub(crate) enum TfAttrs {
    /// From HCL: the block's body as JSON (literals as strings, references as
    /// `${...}` strings).
    Hcl(Json),
    /// From a plan: the configuration's expressions (with their references)
    /// and the planned values (literals).
    Plan { expr: Json, values: Option<Json> },
}

pub(crate) struct TfBlock {
    pub(crate) ty: String,
    pub(crate) name: String,
    pub(crate) attrs: TfAttrs,
    pub(crate) depends: Vec<String>,
    pub(crate) loc: Loc,
}

impl TfBlock {
    pub(crate) fn address(&self) -> String {
        format!("{}.{}", self.ty, self.name).to_ascii_lowercase()
    }

    /// A nested attribute (`network_profile.subnet_id`) as literal text and
    /// the references it makes.
    pub(crate) fn get(&self, path: &[&str]) -> (Option<String>, Vec<String>) {
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

    pub(crate) fn all_text(&self) -> String {
        match &self.attrs {
            TfAttrs::Hcl(b) => b.to_string(),
            TfAttrs::Plan { expr, values, .. } => {
                format!("{expr} {}", values.clone().unwrap_or_default())
            }
        }
    }
}

/// A nested attribute of a block's body; blocks are arrays of bodies.
pub(crate) fn hcl_at<'j>(body: &'j Json, path: &[&str]) -> Option<&'j Json> {
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
pub(crate) fn hcl_refs(t: &str) -> Vec<String> {
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

pub(crate) fn looks_like_hcl(text: &str) -> bool {
    text.lines().any(|l| {
        let t = l.trim_start();
        t.starts_with("resource \"") || t.starts_with("module \"") || t.starts_with("provider \"")
    })
}

/// Terraform configuration: its `resource` blocks, each at its line.
pub(crate) fn hcl(d: &Doc<'_>, model: &mut Model) {
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
pub(crate) fn hcl_json(body: &hcl::Body) -> Json {
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

pub(crate) fn find_line(text: &str, needle: &str) -> u32 {
    let squeeze = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let want = squeeze(needle);
    text.lines()
        .position(|l| squeeze(l).starts_with(&want))
        .map_or(1, |i| i as u32 + 1)
}

/// Terraform's resources into the model: subnets (with their delegations),
/// gateways, HSMs, and ARM template deployments that hold HSMs.
pub(crate) fn terraform(blocks: Vec<TfBlock>, model: &mut Model) {
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
