//! What would fail, found in the model: each check makes `lint.*` events.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::Arc;

use hsmdiag_parse::event::{Event, EventKind, Field, Value};

use crate::model::*;

pub(crate) fn event(
    kind: &hsmdiag_parse::parse::framing::LintKind,
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
    let mut e = Event::unrecognized_at(loc.source);
    e.kind = EventKind::new(&kind.kind);
    e.span.line = loc.line;
    e.text = text;
    e.fields = fs;
    e
}

/// Whether an HSM's dependencies name a gateway.
pub(crate) fn waits_for(h: &Hsm, g: &Gateway) -> bool {
    let name = g.name.to_ascii_lowercase();
    h.depends.iter().any(|d| {
        d == &name
            || d.ends_with(&format!("/{name}"))
            || g.address.as_deref().is_some_and(|a| d == a)
    })
}

pub(crate) fn ipv4(s: &str) -> Option<Ipv4Addr> {
    s.trim().parse().ok()
}

pub(crate) fn in_prefix(ip: Ipv4Addr, prefix: &str) -> Option<bool> {
    let net: ipnet::Ipv4Net = prefix.trim().parse().ok()?;
    Some(net.contains(&ip))
}

pub(crate) fn checks(model: &Model, docs: &[Doc<'_>]) -> Vec<Vec<Event>> {
    let lk = &hsmdiag_parse::parse::framing::framing().lint;
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
    // The limits are data (framing.toml); a scope this code cannot place an
    // HSM in is a test failure, not a silent skip.
    for limit in &lk.hsm_quota.limits {
        let (scope, limit) = (limit.scope.as_str(), limit.most);
        let mut groups: BTreeMap<String, Vec<&Hsm>> = BTreeMap::new();
        for h in &all {
            if let Some(k) = place_in(scope, h) {
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

/// The place an HSM counts in for a quota's scope: its stamp, or its region
/// (written as Azure names it, without case or spaces). `None` for a scope
/// no HSM is placed in.
pub(crate) fn place_in(scope: &str, h: &Hsm) -> Option<String> {
    match scope {
        "stamp" => h.stamp.clone(),
        "region" => h
            .location
            .as_ref()
            .map(|l| l.to_ascii_lowercase().replace(' ', "")),
        _ => None,
    }
}
