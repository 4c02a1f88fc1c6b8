//! Azure resource ids: parsing them, and finding them in error text so that
//! remediation can name the subscription, resource group, VNet, subnet, gateway
//! and HSM the log is about.

use std::sync::LazyLock;

use regex::Regex;

/// The parts of an Azure resource id such as
/// `/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceId<'a> {
    /// The id as written.
    pub id: &'a str,
    /// The subscription id.
    pub subscription: Option<&'a str>,
    /// The resource group.
    pub resource_group: Option<&'a str>,
    /// The resource provider namespace (`Microsoft.Network`).
    pub provider: Option<&'a str>,
    /// Type and name pairs after the provider, outermost first
    /// (`[("virtualNetworks", "vnet"), ("subnets", "hsmsubnet")]`).
    pub segments: Vec<(&'a str, &'a str)>,
}

impl<'a> ResourceId<'a> {
    /// Parses an id; `None` when it does not start with `/subscriptions/`.
    pub fn parse(id: &'a str) -> Option<Self> {
        let rest = strip_prefix_ci(id.trim(), "/subscriptions/")?;
        let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
        let mut r = ResourceId {
            id,
            subscription: parts.first().copied(),
            resource_group: None,
            provider: None,
            segments: Vec::new(),
        };
        let mut i = 1;
        while i + 1 < parts.len() {
            let key = parts[i];
            if key.eq_ignore_ascii_case("resourceGroups") {
                r.resource_group = Some(parts[i + 1]);
                i += 2;
            } else if key.eq_ignore_ascii_case("providers") {
                r.provider = Some(parts[i + 1]);
                i += 2;
                while i + 1 < parts.len() {
                    r.segments.push((parts[i], parts[i + 1]));
                    i += 2;
                }
            } else {
                i += 2;
            }
        }
        Some(r)
    }

    /// The full type (`Microsoft.Network/virtualNetworks/subnets`).
    pub fn full_type(&self) -> Option<String> {
        let p = self.provider?;
        let mut t = p.to_owned();
        for (ty, _) in &self.segments {
            t.push('/');
            t.push_str(ty);
        }
        Some(t)
    }

    /// The resource's own name (the last segment).
    pub fn name(&self) -> Option<&'a str> {
        self.segments.last().map(|(_, n)| *n)
    }

    /// The name of the segment of this type, in any case (`virtualNetworks`).
    pub fn segment(&self, ty: &str) -> Option<&'a str> {
        self.segments
            .iter()
            .find(|(t, _)| t.eq_ignore_ascii_case(ty))
            .map(|(_, n)| *n)
    }

    /// A named part, for templates: `subscription`, `resource_group`,
    /// `provider`, `type`, `name`, or a segment type (`virtualNetworks`).
    pub fn part(&self, name: &str) -> Option<String> {
        match name {
            "subscription" => self.subscription.map(str::to_owned),
            "resource_group" => self.resource_group.map(str::to_owned),
            "provider" => self.provider.map(str::to_owned),
            "type" => self.full_type(),
            "name" => self.name().map(str::to_owned),
            "vnet" => self.segment("virtualNetworks").map(str::to_owned),
            "subnet" => self.segment("subnets").map(str::to_owned),
            other => self.segment(other).map(str::to_owned),
        }
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    (s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix))
        .then(|| &s[prefix.len()..])
}

/// A resource id inside free text.
static ID_IN_TEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)/subscriptions/[0-9a-f-]{8,40}(?:/[A-Za-z0-9._()\-]+)*")
        .expect("static regex is valid")
});

/// What kind of resource an id names, for the fields an event gets.
fn role(id: &ResourceId<'_>) -> Option<&'static str> {
    let t = id.full_type()?.to_ascii_lowercase();
    Some(match t.as_str() {
        "microsoft.network/virtualnetworks/subnets" => "subnet_id",
        "microsoft.network/virtualnetworks" => "vnet_id",
        "microsoft.network/virtualnetworkgateways" => "gateway_id",
        "microsoft.hardwaresecuritymodules/dedicatedhsms" => "hsm_id",
        "microsoft.network/networkinterfaces" => "nic_id",
        "microsoft.resources/deployments" => "deployment_id",
        _ => return None,
    })
}

/// Finds resource ids in text and names them by what they point at:
/// `subnet_id`, `vnet_id`, `gateway_id`, `hsm_id`, `nic_id`, `deployment_id`
/// (the first of each kind), and `resource_id` (the first id of any kind).
/// Returns (field name, byte range in `text`).
pub fn ids_in(text: &str) -> Vec<(&'static str, std::ops::Range<usize>)> {
    let mut out: Vec<(&'static str, std::ops::Range<usize>)> = Vec::new();
    if !text.contains("/subscriptions/") && !text.contains("/SUBSCRIPTIONS/") {
        return out;
    }
    for m in ID_IN_TEXT.find_iter(text) {
        let s = m.as_str().trim_end_matches(['.', ')', '\'']);
        let range = m.start()..m.start() + s.len();
        let Some(id) = ResourceId::parse(s) else {
            continue;
        };
        // A long-running operation's status URI names no resource.
        let lower = s.to_ascii_lowercase();
        if lower.contains("/locations/")
            && ["/operations/", "/operationresults/", "/asyncoperations/"]
                .iter()
                .any(|p| lower.contains(p))
        {
            continue;
        }
        if !out.iter().any(|(n, _)| *n == "resource_id") {
            out.push(("resource_id", range.clone()));
        }
        if let Some(r) = role(&id) {
            if !out.iter().any(|(n, _)| *n == r) {
                out.push((r, range.clone()));
            }
            // A subnet id also names its VNet.
            if r == "subnet_id" && !out.iter().any(|(n, _)| *n == "vnet_id") {
                if let Some(cut) = s.to_ascii_lowercase().find("/subnets/") {
                    out.push(("vnet_id", m.start()..m.start() + cut));
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
    fn parses_subnet_ids() {
        let id = "/subscriptions/0000/resourceGroups/hsm-rg/providers/Microsoft.Network/virtualNetworks/hsm-vnet/subnets/hsmsubnet";
        let r = ResourceId::parse(id).unwrap();
        assert_eq!(r.resource_group, Some("hsm-rg"));
        assert_eq!(
            r.full_type().unwrap(),
            "Microsoft.Network/virtualNetworks/subnets"
        );
        assert_eq!(r.part("vnet").unwrap(), "hsm-vnet");
        assert_eq!(r.part("name").unwrap(), "hsmsubnet");
    }

    #[test]
    fn skips_operation_status_uris() {
        let t = "use uri: https://management.azure.com/subscriptions/00000000-1111-2222-3333-444444444444/providers/Microsoft.Network/locations/westus/operations/1f4b9c2e-6d3a-4e87-9b10-5c2d8e7f6a43?api-version=2023-09-01.";
        assert!(ids_in(t).is_empty());
    }

    #[test]
    fn finds_ids_in_text() {
        let t = "Subnet /subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s is not delegated.";
        let ids = ids_in(t);
        let names: Vec<_> = ids.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["resource_id", "subnet_id", "vnet_id"]);
        assert!(t[ids[1].1.clone()].ends_with("/subnets/s"));
        assert!(t[ids[2].1.clone()].ends_with("/virtualNetworks/v"));
    }
}
