//! Deployment templates read before anything is deployed (`hsmdiag lint`):
//! ARM templates with their parameters files, `az deployment ... what-if`
//! output, `terraform show -json` plans, Terraform configuration (HCL), and
//! the state already there (`az network vnet show`, `az dedicated-hsm list`,
//! `az network vnet-gateway list`). They are read into one model of HSMs,
//! subnets and gateways; what would fail becomes a `lint.*` event at the
//! template's file and line, with the JSON path (or HCL block) in `path`, for
//! the knowledge base's rules to report like any other event. The kinds and
//! their fields are data (`grammars/formats/framing.toml`, `[lint]`, read
//! through `hsmdiag-parse`).

mod arm;
mod checks;
mod json;
mod model;
mod terraform;

pub use model::Doc;

/// This crate's README (its page on crates.io), run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

use std::collections::HashMap;

use hsmdiag_parse::event::Event;
use serde_json::Value as Json;

use crate::arm::*;
use crate::checks::*;
use crate::json::*;
use crate::model::*;
use crate::terraform::*;

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

#[cfg(test)]
mod tests {
    use super::*;
    use hsmdiag_parse::event::SourceId;

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

    /// The quota's limits are data: each names a scope an HSM is placed in.
    #[test]
    fn every_quota_limit_has_a_place() {
        let limits = &hsmdiag_parse::parse::framing::framing()
            .lint
            .hsm_quota
            .limits;
        assert_eq!(
            limits
                .iter()
                .map(|l| (l.scope.as_str(), l.most))
                .collect::<Vec<_>>(),
            [("stamp", 2), ("region", 4)]
        );
        let h = Hsm {
            name: "hsm1".into(),
            location: Some("East US".into()),
            stamp: Some("stamp1".into()),
            subnet: None,
            ip: None,
            depends: Vec::new(),
            planned: true,
            terraform: false,
            count: 1,
            loc: Loc {
                source: SourceId(0),
                line: 1,
                path: "$".into(),
            },
        };
        for l in limits {
            assert!(place_in(&l.scope, &h).is_some(), "{}", l.scope);
        }
        assert_eq!(place_in("region", &h).as_deref(), Some("eastus"));
    }

    #[test]
    fn prefixes() {
        let ip = ipv4("10.2.1.8").unwrap();
        assert_eq!(in_prefix(ip, "10.2.1.0/24"), Some(true));
        assert_eq!(in_prefix(ip, "10.2.2.0/24"), Some(false));
        assert_eq!(in_prefix(ip, "junk"), None);
    }
}
