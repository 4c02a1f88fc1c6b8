//! The one model every input is read into: HSMs, subnets and gateways, each
//! with where it is declared.

use hsmdiag_parse::event::SourceId;

/// Where a thing is declared: the input, the 1-based line, the path in it.
#[derive(Debug, Clone)]
pub(crate) struct Loc {
    pub(crate) source: SourceId,
    pub(crate) line: u32,
    pub(crate) path: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Hsm {
    pub(crate) name: String,
    pub(crate) location: Option<String>,
    pub(crate) stamp: Option<String>,
    /// (vnet, subnet), lower case.
    pub(crate) subnet: Option<(String, String)>,
    pub(crate) ip: Option<(String, Loc)>,
    /// What it depends on, lower case (resource ids, names, Terraform addresses).
    pub(crate) depends: Vec<String>,
    /// Declared to be created (a template, a plan), not already there.
    pub(crate) planned: bool,
    pub(crate) terraform: bool,
    pub(crate) count: usize,
    pub(crate) loc: Loc,
}

#[derive(Debug, Clone)]
pub(crate) struct Subnet {
    /// Lower case, for matching; `shown` as the template writes them.
    pub(crate) vnet: String,
    pub(crate) name: String,
    pub(crate) shown: (String, String),
    pub(crate) prefixes: Vec<String>,
    pub(crate) delegated: bool,
    pub(crate) loc: Loc,
}

#[derive(Debug, Clone)]
pub(crate) struct Gateway {
    pub(crate) name: String,
    pub(crate) vnet: Option<String>,
    pub(crate) express_route: bool,
    pub(crate) planned: bool,
    /// Terraform address (`azurerm_virtual_network_gateway.er`), lower case.
    pub(crate) address: Option<String>,
    pub(crate) loc: Loc,
}

/// What the inputs declare or show.
#[derive(Debug, Default)]
pub(crate) struct Model {
    pub(crate) hsms: Vec<Hsm>,
    pub(crate) subnets: Vec<Subnet>,
    pub(crate) gateways: Vec<Gateway>,
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
