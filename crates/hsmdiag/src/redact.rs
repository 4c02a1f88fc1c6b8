//! Redaction: what leaves the customer's hands carries pseudonyms, not their
//! addresses, names, ids or secrets.
//!
//! The values to hide are found in the report itself (its JSON form holds every
//! text any format prints): IP addresses, GUIDs (subscription and tenant ids),
//! the resource group and resource names inside Azure resource ids, host names
//! from syslog headers and Luna prompts, user names (LunaSH logins and command
//! log, `-user`, sshd, e-mail style UPNs), HSM and partition serial numbers and
//! labels, certificate fingerprints; and secrets after password options and in
//! Authorization, bearer and secret headers, which become `[REDACTED]`.
//!
//! Pseudonyms are consistent: the values are sorted before they are numbered,
//! so one report gives the same pseudonym for a value in every format. An IPv4
//! address keeps its last octet and its /24 network gets one pseudonym network
//! in 198.18.0.0/15 (the benchmarking range), so two addresses in one subnet
//! stay in one subnet. After replacing, a leak check scans the output for every
//! original value and for secret patterns; if anything remains, the output is
//! refused.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

use crate::parse::syslog::parse_header;

/// What a pseudonym stands for, for the private map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Kind {
    /// An IPv4 or IPv6 address.
    Address,
    /// A GUID: subscription, tenant, correlation or object id.
    Guid,
    /// A resource group name.
    ResourceGroup,
    /// A resource name inside a resource id.
    Resource,
    /// A host name.
    Host,
    /// A user name.
    User,
    /// An HSM, partition or HA member serial number.
    Serial,
    /// An HSM, partition or HA group label.
    Label,
    /// A certificate fingerprint.
    Fingerprint,
    /// A name in a certificate subject (`CN=`, `O=`, `OU=`).
    Name,
    /// An input's name (its path may hold host and customer names).
    Input,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Kind::Address => "addr",
            Kind::Guid => "guid",
            Kind::ResourceGroup => "rg",
            Kind::Resource => "res",
            Kind::Host => "host",
            Kind::User => "user",
            Kind::Serial => "serial",
            Kind::Label => "label",
            Kind::Fingerprint => "fp",
            Kind::Name => "name",
            Kind::Input => "input",
        }
    }
}

/// One original value and its pseudonym.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mapping {
    /// What it is.
    pub kind: Kind,
    /// The value in the logs.
    pub original: String,
    /// What the output says instead.
    pub pseudonym: String,
}

/// Why redacted output was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
#[error(
    "redaction left {} value(s) in the output (first: {first}); nothing was written",
    count
)]
#[diagnostic(
    code(hsmdiag::redact::leak),
    help("report this: a value hsmdiag found and meant to hide is still in the output")
)]
pub struct Leak {
    /// How many.
    pub count: usize,
    /// The first, masked but for its first and last characters.
    pub first: String,
}

/// The pseudonyms for a set of texts.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    map: Vec<Mapping>,
    /// Every original in one automaton, built on first use.
    pattern: std::sync::OnceLock<Option<Matcher>>,
}

static IPV4: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\b(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}\b",
    )
    .expect("static regex is valid")
});
/// Runs of hex digits and colons that may be IPv6 addresses; each is kept only
/// when it parses as one ([`ipv6_in`]), so `fd00:61:7::19` is found whole and a
/// time (`02:05:00`) or a MAC address is not.
static IPV6: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)[0-9a-f:]{2,39}").expect("static regex is valid"));

/// The IPv6 addresses in a line: whole runs of hex digits and colons, not
/// inside a word or a dotted name, that parse as an address.
fn ipv6_in(line: &str) -> impl Iterator<Item = &str> {
    IPV6.find_iter(line).filter_map(move |m| {
        let before = line[..m.start()].chars().next_back();
        let after = line[m.end()..].chars().next();
        let edge =
            |c: Option<char>| c.is_none_or(|c| !(c.is_alphanumeric() || c == '.' || c == '_'));
        let a = m.as_str();
        (edge(before)
            && edge(after)
            && a.matches(':').count() >= 2
            && a.parse::<std::net::Ipv6Addr>().is_ok()
            && a.chars().any(|c| c != ':' && c != '0'))
        .then_some(a)
    })
}
static GUID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
        .expect("static regex is valid")
});
static RESOURCE_GROUP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)/resourceGroups/([^/\s'\x22,;)\]\\]+)").expect("static regex is valid")
});
/// `/providers/<Namespace>/<type>/<name>` and nested `/<type>/<name>` pairs.
static RESOURCE_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)/providers/[A-Za-z]+\.[A-Za-z.]+((?:/[A-Za-z]+/[^/\s'\x22,;)\]\\?]+)+)")
        .expect("static regex is valid")
});
static FINGERPRINT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\b(?:[0-9A-Fa-f]{2}:){15,63}[0-9A-Fa-f]{2}\b|\b[0-9A-Fa-f]{40}\b|\b[0-9A-Fa-f]{64}\b",
    )
    .expect("static regex is valid")
});
static UPN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+\b")
        .expect("static regex is valid")
});
/// User names in Luna's command log and login lines, `-user X`, sshd.
static USER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        Lush\ user\ login\ :\ ([A-Za-z0-9._-]+)
      | Command:\ .*?\ :\ ([A-Za-z0-9._-]+)\ :\ \S+\s*$
      | -user\ ([A-Za-z0-9._-]+)
      | \bfor\ (?:invalid\ user\ )?([A-Za-z0-9._-]+)\ from\ 
      | \bssh\ ([A-Za-z0-9._-]+)@
      | \b([A-Za-z0-9._-]+)@(?:[0-9]{1,3}\.){3}[0-9]{1,3}\b
      | \x22caller\x22:\s*\x22([^\x22@]+)\x22",
    )
    .expect("static regex is valid")
});
/// Luna serial numbers and labels in the places Luna prints them.
static SERIAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        (?:Serial\ \#|Serial\ Number|Partition\ SN|Member\ S/N|HA\ Group\ Number)\s*(?::|->)\s*(\d{5,})
      | ^\s*(?:-+|\d+)\s+(\d{6,})\s+\S+\s+(?:alive|down)\s*$
      | ^\s*\d+\s+(\d{6,})\s+\S+\s*$
      | Group\ Members:\s*(\d{6,})
      | Group\ Members:\s*\d{6,},\s*(\d{6,})
      | \bmember\ (\d{6,})\b
      | -serialnumber\ (\d{6,})",
    )
    .expect("static regex is valid")
});
static LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        (?:HSM\ Label|Partition\ Label|Partition\ Name|HA\ Group\ Label|Label)\s*(?::|->)\s*([A-Za-z0-9._-]+)
      | ^\s*(?:-+|\d+)\s+\d{6,}\s+([A-Za-z0-9._]+[A-Za-z0-9._-]*)\s+(?:alive|down)\s*$
      | ^\s*\d+\s+\d{6,}\s+(\S+)\s*$
      | -group\ ([A-Za-z0-9._-]+)
      | -client\ ([A-Za-z0-9._-]+)
      | -label\ ([A-Za-z0-9._-]+)
      | -partition\ ([A-Za-z0-9._-]+)
      | HA\ group\ ([A-Za-z0-9._-]+):",
    )
    .expect("static regex is valid")
});
/// Names in JSON documents (Resource Explorer, `az ... show`): `"name": "hsm-ergw"`.
static JSON_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)"(?P<key>name|resourceGroup|resourceName|computerName|vmName|hostName|hostname|fqdn|caller|userPrincipalName)"\s*:\s*"(?P<value>[^"]{2,})""#,
    )
    .expect("static regex is valid")
});

/// A Luna prompt's appliance name: `[myluna] lunash:>`.
static PROMPT_HOST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\[([A-Za-z0-9._-]+)\]\s*lunash:>").expect("static regex is valid")
});
/// GUIDs without dashes (`72F988BF86F141AF91AB2D7CD011DB47`).
static GUID32: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b[0-9A-Fa-f]{32}\b").expect("static regex is valid"));
/// MAC addresses.
static MAC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:[0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}\b").expect("static regex is valid")
});
/// Names by what they are, wherever they stand: Windows and Unix home folders
/// (`C:\Users\alice`, JSON-escaped `C:\\Users\\alice`, `/home/alice`), Azure
/// service host names (`acct.blob.core.windows.net`, `kv.vault.azure.net`),
/// certificate subjects, and the values of the name options of az, Azure
/// PowerShell, vtl and LunaSH commands.
static NAMES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?x)
        (?i:\b[A-Z]:(?:\\){1,2}Users(?:\\){1,2})(?P<user>[^\\/\s"':*?<>|]+)
      | (?:/home/|/Users/)(?P<user2>[A-Za-z0-9._-]+)
      | (?:^|[^.A-Za-z0-9-])(?P<account>[a-z0-9][a-z0-9-]{1,62})\.(?i:blob|file|queue|table|dfs|web|vault|azurecr|database|servicebus|documents|redis\.cache)\.(?i:core\.windows\.net|azure\.net|io|windows\.net|azure\.com)\b
      | \b(?:CN|O|OU)=(?P<subject>[^,/=\n"'\\]+?)\s*(?:,|/|$|"|')
      | (?:\s|^)(?:--(?:name|resource-group|vnet-name|subnet-name|subnet|vnet|gateway-name|hsm-name|workspace-name|vault-name|account-name|storage-account)|-(?:Name|ResourceGroupName|VirtualNetworkName|SubnetName|GatewayName|VaultName)|-[ng])\s+['"]?(?P<opt>[A-Za-z0-9][A-Za-z0-9._-]*)
      | (?i:\bsubnet\s+)(?P<subnet>[A-Za-z0-9][A-Za-z0-9._-]*)(?i:\s+in\s+vnet\s+)(?P<vnet>[A-Za-z0-9][A-Za-z0-9._-]*)
      | (?i:\b(?:subnet|virtual\ network|vnet|gateway|resource\ group)\s+)'(?P<quoted>[A-Za-z0-9][A-Za-z0-9._-]*)'"#,
    )
    .expect("static regex is valid")
});
/// Names by the word before them, in error messages and prose: `VNet
/// contosovnet7`, `has a gateway prodergw9 referencing public IP ergwpip31`,
/// `for the account fabdiagstore88`, `the partition payments_par`, a
/// Terraform error's `Virtual Network Gateway Name: "ergw"`, and ARM
/// parameters (`"adminUser": { "value": "alice" }`). Only words shaped like
/// names are taken ([`name_shaped`]), so `subnet is` or `gateway referencing`
/// stays prose.
static CONTEXT_NAMES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?x)
        (?i:\b(?:vnet|virtual\ network|subnet|gateway|public\ ip(?:\ address)?|ip\ address\ resource|storage\ account|account|resource\ group|key\ vault|vault|network\ interface|nic|nsg|network\ security\ group|dedicated\ hsm|hsm\ resource|connection|circuit|route\ table)\s+(?:(?:is|was|named|called)\s+)?)['"`(]?(?P<azure>[A-Za-z0-9][A-Za-z0-9._-]{2,79})
      | (?i:\bpartition\s+(?:(?:name|label|named|called|is|was)\s+)?)['"`(]?(?P<partition>[A-Za-z0-9][A-Za-z0-9._-]{2,31})
      | (?i:\b)(?P<caf>(?i:vnet|snet|kv|pip|nic|nsg|rg|vgw|ergw|lgw|st|afw|agw|law|sql|sqldb|cosmos|redis|aks|acr|pep)-[a-z0-9-]*[a-z][a-z0-9-]*)
      | (?i:\b(?:[a-z]+\ )*name:\s*)"(?P<tfname>[^"\s]{2,80})"
      | "(?P<armkey>(?i:[a-z]*(?:user|login|account|host|vnet|subnet|gateway|vault|storage|hsm|partition)[a-z]*(?:name)?))"\s*:\s*\{\s*"value"\s*:\s*"(?P<armvalue>[^"]{2,})""#,
    )
    .expect("static regex is valid")
});

/// Users and hosts of shell prompts (`opsjane@lunaclient04:~$`, `[root@web01
/// ~]#`), and users in prose (`logged in as mkowalski`, `user tgarcia`).
static PEOPLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?x)
        (?:^|\s)(?P<puser>[a-z_][a-z0-9_.-]{0,31})@(?P<phost>[A-Za-z0-9][A-Za-z0-9.-]{0,62}):[~/][^\s$\#]*\s?[$\#]
      | \[(?P<buser>[a-z_][a-z0-9_.-]{0,31})@(?P<bhost>[A-Za-z0-9][A-Za-z0-9.-]{0,62})\s[^\]]*\][$\#]
      | (?i:\b(?:logged\ in\ as|log\ in\ as|login\ as|signed\ in\ as|sign\ in\ as|as\ user|user(?:\ ?name)?|username|account\ name|colleague|thanks,|regards,|cheers,)(?:\s+(?:is|was))?\s*[:=]?\s*)['"]?(?P<user>[A-Za-z][A-Za-z0-9._-]{2,31})
      | (?i:\b[a-z_]*(?:user(?:_?name)?|user\ id|uid|login|account_?name|accountname|admin_?user(?:name)?)\s*[=:]\s*)['"]?(?P<kvuser>[A-Za-z0-9][A-Za-z0-9._@-]{1,63})
      | (?i:\b(?:machine|computer(?:_?name)?|host_?name|hostname|server_?name|workstation)\s*[=:]\s*)['"]?(?P<kvhost>[A-Za-z0-9][A-Za-z0-9.-]{1,62})"#,
    )
    .expect("static regex is valid")
});

/// Serial numbers in free text: `serial 1534567`, `partition serial
/// 1534567013`, `S/N: 1534567`, `partition 1534567013`.
static SERIAL_PROSE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:serial(?: number| no\.?| #)?|s/n|sn)\s*[:#]?\s*(\d{6,})\b|\b(?:hsm|partition|slot)\s+(\d{7,})\b",
    )
    .expect("static regex is valid")
});

/// Azure CLI command words shaped like resource names (`az network
/// vnet-gateway`).
const AZ_WORDS: &[&str] = &["vnet-gateway", "vnet-peering", "vnet-tap", "nsg-rule"];

/// Common words that follow the words [`CONTEXT_NAMES`] and [`PEOPLE`] look
/// for, and are no names.
const PROSE: &[&str] = &[
    "a",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "been",
    "before",
    "but",
    "by",
    "can",
    "cannot",
    "could",
    "did",
    "does",
    "doesn",
    "for",
    "from",
    "had",
    "has",
    "have",
    "here",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "may",
    "must",
    "no",
    "not",
    "now",
    "of",
    "on",
    "or",
    "our",
    "should",
    "so",
    "still",
    "than",
    "that",
    "the",
    "their",
    "then",
    "there",
    "these",
    "this",
    "those",
    "to",
    "too",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "will",
    "with",
    "would",
    "you",
    "your",
    "name",
    "names",
    "account",
    "accounts",
    "user",
    "users",
    "login",
    "logins",
    "role",
    "roles",
    "group",
    "groups",
    "resource",
    "resources",
    "configuration",
    "delegation",
    "address",
    "addresses",
    "interface",
    "settings",
    "setting",
    "id",
    "ids",
    "key",
    "keys",
    "list",
    "type",
    "types",
    "sku",
    "basic",
    "standard",
    "static",
    "dynamic",
    "sync",
    "server",
    "client",
    "clients",
    "partition",
    "partitions",
    "password",
    "credentials",
    "please",
    "also",
    "again",
    "already",
    "only",
    "just",
    "gatewaysubnet",
    "default",
    "first",
    "last",
    "new",
    "old",
    "same",
    "other",
    "creation",
    "deployment",
    "referencing",
    "referenced",
    "provisioning",
    "failed",
    "succeeded",
    "missing",
    "exists",
    "found",
    "created",
    "deleted",
    "updated",
    "init",
    "show",
    "list",
    "policy",
    "label",
    "serial",
    "logged",
    "permissions",
    "access",
    "principal",
    "identity",
    "mode",
    "level",
];

/// A word taken for a name by the word before it: not a common word, and
/// shaped like a name — a digit, a `-`, `_` or `.` in it, a capital after its
/// first letter (`myVnet`), or any word after a word that names a person
/// (`user`, `logged in as`), where names are plain words (`tgarcia`).
fn name_shaped(word: &str, person: bool) -> bool {
    let lower = word.to_ascii_lowercase();
    if PROSE.contains(&lower.as_str()) || NOT_NAMES.contains(&word) {
        return false;
    }
    person
        || word
            .chars()
            .any(|c| c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
        || word.chars().skip(1).any(|c| c.is_ascii_uppercase())
}

/// Fully qualified host names; public documentation hosts (those of the
/// report's references) are not the customer's.
static FQDN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:com|net|org|local|internal|corp|lan|io|cloud|de|uk|fr|nl|home)\b")
        .expect("static regex is valid")
});
/// Host names that are public and stay: documentation and service endpoints.
const PUBLIC_HOSTS: &[&str] = &[
    "microsoft.com",
    "azure.com",
    "azure.net",
    "windows.net",
    "microsoftonline.com",
    "aka.ms",
    "thalesdocs.com",
    "thalesgroup.com",
    "gemalto.com",
    "github.com",
    "oasis-open.org",
    "freedesktop.org",
    "openssl.org",
    "terraform.io",
    "hashicorp.com",
];

/// The domains under which an Azure service names a customer's resource by
/// its first label.
const SERVICE_DOMAINS: &[&str] = &[
    ".blob.core.windows.net",
    ".file.core.windows.net",
    ".queue.core.windows.net",
    ".table.core.windows.net",
    ".dfs.core.windows.net",
    ".web.core.windows.net",
    ".vault.azure.net",
    ".managedhsm.azure.net",
    ".database.windows.net",
    ".postgres.database.azure.com",
    ".mysql.database.azure.com",
    ".documents.azure.com",
    ".servicebus.windows.net",
    ".redis.cache.windows.net",
    ".azurewebsites.net",
    ".cloudapp.azure.com",
    ".cloudapp.net",
    ".azurecr.io",
    ".onmicrosoft.com",
];

/// First labels under those domains that are Microsoft's own endpoints.
const PUBLIC_LABELS: &[&str] = &["login", "management", "portal", "www", "graph"];

/// Secrets: the value after a password option, an auth code, or in an
/// Authorization / bearer / secret header or setting.
static SECRET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?imx)
        (?P<k1>(?:(?:^|\s)-{1,2}(?:password|passwd|pwd|authcode|secret|domain|domainpw|pin)(?:\s+|=)|(?:(?-u:\b)|_)(?:password|passwd|pwd|secret|client_secret|token|api[_-]?key)"?\s*[=:]\s*))(?P<v1>"[^"]*"|'[^']*'|[^\s"',;&]+)
      | (?P<k2>authorization\s*[:=]\s*"?(?:bearer|basic|sharedaccesssignature)?\s*)(?P<v2>[A-Za-z0-9._~+/=-]{8,})
      | (?P<k3>(?-u:\b)bearer\s+)(?P<v3>[A-Za-z0-9._~+/=-]{8,})
      | (?P<k4>[?&]sig=|(?:AccountKey|SharedAccessKey|SharedAccessSignature|SharedSecret)=)(?P<v4>[A-Za-z0-9%+/=._-]{8,})
      | (?P<k5>)(?P<v5>(?-u:\b)eyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]*)
      | (?P<k6>^\s*)(?P<v6>[A-Za-z0-9+/]{48,}={0,2})\s*$
      | (?P<k7>(?-u:\b)login(?-u:\b)[^\n]*?\s-(?:p|pw|pin)\s+)(?P<v7>"[^"]*"|'[^']*'|[^\s"',;]+)
      | (?P<k8>(?-u:\b)(?:key|secret|token|password|passphrase|passcode|pin|pwd|credential)s?\s+(?:is|was|=|:)\s+)(?P<v8>"[^"]*"|'[^']*'|[^\s"',;]+)
      | (?P<k9>)(?P<v9>(?-u:\b)MII[A-Za-z0-9+/]{20,}={0,2})
      | (?P<k10>^\s*)(?P<v10>[A-Za-z0-9+/]{16,}={0,2})\s*$
      | (?P<k11>)(?P<v11>(?-u:\b)[A-Za-z0-9+/]{40,}={0,2})"#,
    )
    .expect("static regex is valid")
});

/// The groups of [`SECRET`]: a key (kept) and its value (hidden).
const SECRET_GROUPS: [(&str, &str); 11] = [
    ("k1", "v1"),
    ("k2", "v2"),
    ("k3", "v3"),
    ("k4", "v4"),
    ("k5", "v5"),
    ("k6", "v6"),
    ("k7", "v7"),
    ("k8", "v8"),
    ("k9", "v9"),
    ("k10", "v10"),
    ("k11", "v11"),
];

/// Whether a value found by its place alone (after `key is`, or a line of
/// base64 by itself) looks like a secret rather than a word: a digit or a
/// sign in it, and six characters or more. `the password is incorrect` keeps
/// its last word; `the storage key is Zm9v…=` does not.
fn secret_shaped(value: &str) -> bool {
    let v = value.trim_matches(['"', '\'']);
    v.chars().count() >= 6
        && v.chars()
            .any(|c| c.is_ascii_digit() || !c.is_alphanumeric())
        && v.chars().any(char::is_alphabetic)
        && v != "[REDACTED]"
}

/// The secrets in a text: the byte range of each value. Searched line by
/// line: a secret never spans lines, and a short line keeps the search
/// linear however long the text.
fn secret_spans(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        out.extend(
            secret_spans_in_line(line)
                .into_iter()
                .map(|r| r.start + at..r.end + at),
        );
        at += line.len();
    }
    out
}

fn secret_spans_in_line(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    for c in SECRET.captures_iter(text) {
        for (k, v) in SECRET_GROUPS {
            if c.name(k).is_none() {
                continue;
            }
            if let Some(m) = c.name(v) {
                let value = m.as_str();
                // A line of base64 by itself: random bytes have all three.
                let base64 = || {
                    value.chars().any(|c| c.is_ascii_uppercase())
                        && value.chars().any(|c| c.is_ascii_lowercase())
                        && value.chars().any(|c| c.is_ascii_digit())
                };
                let keep = match v {
                    "v8" => secret_shaped(value),
                    "v6" | "v10" => base64(),
                    // Not a path or URL: a key has few slashes, none after a dot.
                    "v11" => {
                        base64()
                            && value.matches('/').count() * 16 <= value.len()
                            && !text[..m.start()].ends_with(['/', '.', ':'])
                    }
                    _ => true,
                };
                if keep {
                    out.push(m.range());
                }
            }
            break;
        }
    }
    out
}

/// Words that are never taken for names (they appear around names in Luna's
/// output and in every report).
const NOT_NAMES: &[&str] = &[
    "admin",
    "tenantadmin",
    "monitor",
    "operator",
    "root",
    "Public",
    "Default",
    "Console",
    "console",
    "the",
    "HSM",
    "hsm",
    "co",
    "cu",
    "po",
    "so",
    "au",
    "Unknown",
    "none",
    "<none>",
    "yes",
    "no",
    "alive",
    "down",
    "------------",
];

/// The pseudonym of the `k`-th /24 network seen, host part `last`: the
/// benchmarking range 198.18.0.0/15 for the first 512 networks, then the
/// reserved 240.0.0.0/4 (a million more), so two networks never share one.
fn pseudo_v4(k: u32, last: u8) -> String {
    if k < 512 {
        format!("198.{}.{}.{last}", 18 + k / 256, k % 256)
    } else {
        let k = k - 512;
        format!(
            "{}.{}.{}.{last}",
            240 + (k >> 16) % 16,
            (k >> 8) & 0xff,
            k & 0xff
        )
    }
}

/// Members of a report that hold hsmdiag's own text (its steps, titles and
/// links), filled with values of the logs: those values are found there, but
/// not names by the options they follow (`Add-AzDelegation -Name delegation`
/// is hsmdiag's own command).
const OWN_TEXT: &[&str] = &[
    "remediation",
    "remediation_steps",
    "references",
    "title",
    "channel",
];

/// Every string in a JSON value, each marked whether it is hsmdiag's own text.
fn strings(v: &serde_json::Value, own: bool, out: &mut Vec<(String, bool)>) {
    match v {
        serde_json::Value::String(s) => out.push((s.clone(), own)),
        serde_json::Value::Array(a) => a.iter().for_each(|x| strings(x, own, out)),
        serde_json::Value::Object(o) => o
            .iter()
            .for_each(|(k, x)| strings(x, own || OWN_TEXT.contains(&k.as_str()), out)),
        _ => {}
    }
}

/// The text of `s` with `_` for all but its first and last characters.
fn mask(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    match chars.len() {
        0..=2 => "_".repeat(chars.len()),
        n => format!("{}{}{}", chars[0], "_".repeat(n - 2), chars[n - 1]),
    }
}

/// Every original value in one Aho-Corasick automaton (ASCII letters in any
/// case; a value with a backslash also as JSON writes it, `C:\\Users\\alice`):
/// one pass over a text finds them all, however many there are, where a
/// regex of thousands of alternatives took time quadratic in their number.
#[derive(Debug, Clone)]
struct Matcher {
    ac: aho_corasick::AhoCorasick,
    /// The mapping each pattern stands for.
    of: Vec<usize>,
}

impl Matcher {
    fn new(map: &[Mapping]) -> Option<Matcher> {
        let mut patterns = Vec::with_capacity(map.len());
        let mut of = Vec::with_capacity(map.len());
        for (i, m) in map.iter().enumerate() {
            patterns.push(m.original.clone());
            of.push(i);
            if m.original.contains('\\') {
                patterns.push(m.original.replace('\\', "\\\\"));
                of.push(i);
            }
        }
        let ac = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(aho_corasick::MatchKind::Standard)
            .build(&patterns)
            .ok()?;
        Some(Matcher { ac, of })
    }

    /// The found values in a text, leftmost first and longest where two start
    /// together, none overlapping, each standing as a value: where it starts
    /// with a word character, none before it; where it ends with one, none
    /// after it for addresses, numbers and ids (10.0.0.1 is not in 10.0.0.12)
    /// and names shorter than four, but any letter after other names
    /// (`lunaclient07Key.pem`); and a name that ends in a digit is not in a
    /// longer number (`hsm1` is not in `hsm10`, nor in the rule code `HSM101`).
    fn find(&self, map: &[Mapping], text: &str) -> Vec<(std::ops::Range<usize>, usize)> {
        let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        let mut all: Vec<(usize, usize, usize)> = self
            .ac
            .find_overlapping_iter(text)
            .filter_map(|m| {
                let (start, end) = (m.start(), m.end());
                let i = self.of[m.pattern().as_usize()];
                let value = &map[i].original;
                let exact_end = matches!(
                    map[i].kind,
                    Kind::Address | Kind::Guid | Kind::Serial | Kind::Fingerprint | Kind::Input
                ) || value.chars().count() < 4;
                let before = text[..start].chars().next_back();
                let after = text[end..].chars().next();
                let first = text[start..end].chars().next();
                let last = text[start..end].chars().next_back();
                let inside_word = word(first) && word(before);
                let runs_on = exact_end && word(last) && word(after);
                let longer_number = last.is_some_and(|c| c.is_ascii_digit())
                    && after.is_some_and(|c| c.is_ascii_digit());
                let ok = !(inside_word || runs_on || longer_number);
                ok.then_some((start, end, i))
            })
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        let mut out = Vec::new();
        let mut last = 0;
        for (start, end, i) in all {
            if start >= last {
                out.push((start..end, i));
                last = end;
            }
        }
        out
    }
}

impl Redactor {
    /// Finds the values to hide in these texts (a report's JSON form, say) and
    /// numbers their pseudonyms.
    pub fn discover<'a>(texts: impl IntoIterator<Item = &'a str>) -> Self {
        let mut d = Discovery::default();
        for text in texts {
            d.text(text);
        }
        d.finish()
    }
}

/// The values to hide, found line by line: in the report (its JSON form),
/// the timeline's lines, and — through [`AnalyzerBuilder::observe_lines`](crate::AnalyzerBuilder::observe_lines)
/// — every line of every input, so that a name seen once in a prompt is
/// hidden wherever else it stands. [`finish`](Self::finish) numbers them.
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    found: BTreeMap<Kind, BTreeSet<String>>,
}

impl Discovery {
    /// Finds the values in a text: a JSON document (a report) string by
    /// string (its keys and hsmdiag's own text told apart), else line by line.
    pub fn text(&mut self, text: &str) {
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(v) => {
                let mut lines: Vec<(String, bool)> = Vec::new();
                strings(&v, false, &mut lines);
                for (t, own) in &lines {
                    for line in t.lines() {
                        self.line_of(line, *own);
                    }
                }
            }
            Err(_) => {
                for line in text.lines() {
                    self.line_of(line, false);
                }
            }
        }
    }

    /// Finds the values in one line of an input.
    pub fn line(&mut self, line: &str) {
        self.line_of(line, false);
    }

    /// `own`: the line is hsmdiag's own text filled with values (a step, a
    /// title), where option values are hsmdiag's own names.
    fn line_of(&mut self, line: &str, own: bool) {
        let own = &own;
        let found = &mut self.found;
        let mut add = |k: Kind, v: &str| {
            let v = v.trim();
            if v.len() >= 2
                && !NOT_NAMES.contains(&v)
                && !found.get(&k).is_some_and(|set| set.contains(v))
            {
                found.entry(k).or_default().insert(v.to_owned());
            }
        };
        for m in IPV4.find_iter(line) {
            add(Kind::Address, m.as_str());
        }
        for m in ipv6_in(line) {
            add(Kind::Address, m);
        }
        for m in GUID.find_iter(line) {
            add(Kind::Guid, m.as_str());
        }
        for c in RESOURCE_GROUP.captures_iter(line) {
            add(Kind::ResourceGroup, &c[1]);
        }
        for c in RESOURCE_NAME.captures_iter(line) {
            let pairs: Vec<&str> = c[1].split('/').filter(|s| !s.is_empty()).collect();
            for pair in pairs.chunks(2) {
                if let [kind, name] = pair {
                    // Regions and API operations are not the customer's names.
                    if !GUID.is_match(name)
                        && !kind.eq_ignore_ascii_case("locations")
                        && !kind.eq_ignore_ascii_case("operations")
                    {
                        add(Kind::Resource, name);
                    }
                }
            }
        }
        for c in JSON_NAME.captures_iter(line) {
            let kind = match c["key"].to_ascii_lowercase().as_str() {
                "resourcegroup" => Kind::ResourceGroup,
                "computername" | "hostname" | "fqdn" => Kind::Host,
                "caller" | "userprincipalname" => Kind::User,
                _ => Kind::Resource,
            };
            add(kind, &c["value"]);
        }
        for m in FINGERPRINT.find_iter(line) {
            add(Kind::Fingerprint, m.as_str());
        }
        for m in UPN.find_iter(line) {
            add(Kind::User, m.as_str());
        }
        // Each alternative of these captures its value in its own group.
        for (re, kind) in [
            (&*USER, Kind::User),
            (&*SERIAL, Kind::Serial),
            (&*LABEL, Kind::Label),
        ] {
            for c in re.captures_iter(line) {
                if let Some(v) = c.iter().skip(1).flatten().next() {
                    add(kind, v.as_str());
                }
            }
        }
        for c in PROMPT_HOST.captures_iter(line) {
            add(Kind::Host, &c[1]);
        }
        for m in GUID32.find_iter(line) {
            // Not a fingerprint or hash already taken, and not all digits.
            if !m.as_str().bytes().all(|b| b.is_ascii_digit()) {
                add(Kind::Guid, m.as_str());
            }
        }
        for m in MAC.find_iter(line) {
            add(Kind::Address, m.as_str());
        }
        for c in NAMES.captures_iter(line) {
            if *own && (c.name("opt").is_some() || c.name("quoted").is_some()) {
                continue;
            }
            for (group, kind) in [
                ("user", Kind::User),
                ("user2", Kind::User),
                ("account", Kind::Resource),
                ("subject", Kind::Name),
                ("opt", Kind::Resource),
                ("subnet", Kind::Resource),
                ("vnet", Kind::Resource),
                ("quoted", Kind::Resource),
            ] {
                if let Some(m) = c.name(group) {
                    add(kind, m.as_str());
                }
            }
        }
        if !*own {
            for c in CONTEXT_NAMES.captures_iter(line) {
                for (group, kind) in [
                    ("azure", Kind::Resource),
                    ("partition", Kind::Label),
                    ("tfname", Kind::Resource),
                    ("armvalue", Kind::Resource),
                    ("caf", Kind::Resource),
                ] {
                    if let Some(m) = c.name(group).filter(|m| !AZ_WORDS.contains(&m.as_str())) {
                        let v = m.as_str().trim_end_matches(['.', ',', ':', ';']);
                        if name_shaped(v, group == "armvalue") {
                            add(kind, v);
                        }
                    }
                }
            }
            for c in PEOPLE.captures_iter(line) {
                for (group, kind) in [
                    ("puser", Kind::User),
                    ("phost", Kind::Host),
                    ("buser", Kind::User),
                    ("bhost", Kind::Host),
                    ("user", Kind::User),
                    ("kvuser", Kind::User),
                    ("kvhost", Kind::Host),
                ] {
                    if let Some(m) = c.name(group) {
                        let v = m.as_str().trim_end_matches(['.', ',', ':', ';', '-']);
                        if name_shaped(v, true) && v.chars().any(char::is_alphabetic) {
                            add(kind, v);
                        }
                    }
                }
            }
            for c in SERIAL_PROSE.captures_iter(line) {
                if let Some(m) = c.iter().skip(1).flatten().next() {
                    add(Kind::Serial, m.as_str());
                }
            }
        }
        for m in FQDN.find_iter(line) {
            let h = m.as_str().to_ascii_lowercase();
            // A customer's own name under an Azure service's domain
            // (`pg-x.postgres.database.azure.com`, `kv1.vault.azure.net`,
            // `contoso.onmicrosoft.com`) is the customer's, whole and its
            // first label.
            if let Some(service) = SERVICE_DOMAINS.iter().find(|d| h.ends_with(*d)) {
                let own = &m.as_str()[..h.len() - service.len()];
                if !own.is_empty() && !PUBLIC_LABELS.contains(&own.to_ascii_lowercase().as_str()) {
                    add(Kind::Host, m.as_str());
                    if let Some(first) = own.split('.').next() {
                        add(Kind::Resource, first);
                    }
                }
                continue;
            }
            let public = PUBLIC_HOSTS
                .iter()
                .any(|p| h == *p || h.ends_with(&format!(".{p}")));
            // A file name (`server.pem`, `hsm.tf`) has no TLD of these;
            // a dotted Terraform address or a version is no host either.
            if !public && !h.starts_with("azurerm_") {
                add(Kind::Host, m.as_str());
            }
        }
        if let Some(h) = parse_header(line).host {
            if !IPV4.is_match(h) {
                add(Kind::Host, h);
            }
        }
    }

    /// Numbers the values found: the pseudonyms.
    pub fn finish(self) -> Redactor {
        let found = self.found;
        // A value found as two kinds keeps the first kind in this order; a
        // value is one whatever its letter case.
        let originals: BTreeSet<String> = found
            .values()
            .flatten()
            .map(|v| v.to_ascii_lowercase())
            .collect();
        let mut seen = BTreeSet::new();
        let mut map = Vec::new();
        let mut nets: BTreeMap<[u8; 3], u32> = BTreeMap::new();
        let mut taken: BTreeSet<String> = BTreeSet::new();
        for (kind, values) in found {
            let mut n = 0u64;
            for v in values {
                if !seen.insert(v.to_ascii_lowercase()) {
                    continue;
                }
                // The next pseudonym that is no real value and no other pseudonym.
                let pseudonym = loop {
                    n += 1;
                    let p = match kind {
                        Kind::Address => match v.parse::<Ipv4Addr>() {
                            Ok(ip) => {
                                let o = ip.octets();
                                let next = nets.len() as u32;
                                let k = *nets.entry([o[0], o[1], o[2]]).or_insert(next);
                                pseudo_v4(k, o[3])
                            }
                            Err(_)
                                if v.contains('-')
                                    || v.matches(':').count() == 5 && v.len() == 17 =>
                            {
                                format!(
                                    "02:00:5e:{:02x}:{:02x}:{:02x}",
                                    (n >> 16) & 0xff,
                                    (n >> 8) & 0xff,
                                    n & 0xff
                                )
                            }
                            Err(_) => format!("2001:db8::{n:x}"),
                        },
                        Kind::Guid => format!("00000000-0000-4000-8000-{n:012}"),
                        _ => format!("{}-{n}", kind.prefix()),
                    };
                    let key = p.to_ascii_lowercase();
                    if !originals.contains(&key) && taken.insert(key) {
                        break p;
                    }
                    // An address's pseudonym is fixed by its network: take the
                    // next network for it.
                    if kind == Kind::Address {
                        if let Ok(ip) = v.parse::<Ipv4Addr>() {
                            let o = ip.octets();
                            let next = nets.len() as u32;
                            nets.insert([o[0], o[1], o[2]], next);
                        }
                    }
                };
                map.push(Mapping {
                    kind,
                    original: v,
                    pseudonym,
                });
            }
        }
        Redactor {
            map,
            pattern: std::sync::OnceLock::new(),
        }
    }
}

impl Redactor {
    /// Adds the inputs' names: each becomes `input-N` with its extension kept
    /// (`input-2.log`).
    pub fn with_inputs<'a>(mut self, names: impl IntoIterator<Item = &'a str>) -> Self {
        self.pattern = std::sync::OnceLock::new();
        let mut names: Vec<&str> = names.into_iter().collect();
        names.sort_unstable();
        names.dedup();
        let mut n = 0;
        for name in names {
            if name == "-" || name == "<stdin>" || self.map.iter().any(|m| m.original == name) {
                continue;
            }
            n += 1;
            let ext = std::path::Path::new(name)
                .extension()
                .and_then(|e| e.to_str())
                .filter(|e| e.len() <= 8 && e.chars().all(|c| c.is_ascii_alphanumeric()))
                .map_or(String::new(), |e| format!(".{e}"));
            self.map.push(Mapping {
                kind: Kind::Input,
                original: name.to_owned(),
                pseudonym: format!("input-{n}{ext}"),
            });
        }
        self
    }

    /// The private map: what each pseudonym stands for.
    pub fn mapping(&self) -> &[Mapping] {
        &self.map
    }

    /// The text with every found value replaced by its pseudonym and every
    /// secret by `[REDACTED]`.
    pub fn apply(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for r in secret_spans(text) {
            if r.start < last {
                continue;
            }
            out.push_str(&text[last..r.start]);
            out.push_str("[REDACTED]");
            last = r.end;
        }
        out.push_str(&text[last..]);
        if let Some(matcher) = self.matcher() {
            let found = matcher.find(&self.map, &out);
            if !found.is_empty() {
                let mut done = String::with_capacity(out.len());
                let mut last = 0;
                for (r, i) in found {
                    done.push_str(&out[last..r.start]);
                    done.push_str(&self.map[i].pseudonym);
                    last = r.end;
                }
                done.push_str(&out[last..]);
                out = done;
            }
        }
        out
    }

    /// The automaton of every original value, built on first use.
    fn matcher(&self) -> Option<&Matcher> {
        self.pattern
            .get_or_init(|| {
                if self.map.is_empty() {
                    None
                } else {
                    Matcher::new(&self.map)
                }
            })
            .as_ref()
    }

    /// Checks redacted output: no original value as a word, no secret pattern
    /// with a value other than `[REDACTED]`.
    ///
    /// # Errors
    /// [`Leak`] naming (masked) what remains.
    pub fn check(&self, output: &str) -> Result<(), Leak> {
        // A value escaped by a format (`&amp;sig=`, `\"password\": \"…\"`)
        // is a value still: each form is checked.
        let html = unescape_html(output);
        let json = unescape_json(output);
        self.check_one(output)?;
        if html != output {
            self.check_one(&html)?;
        }
        if json != output {
            self.check_one(&json)?;
        }
        Ok(())
    }

    fn check_one(&self, output: &str) -> Result<(), Leak> {
        let mut left: Vec<String> = match self.matcher() {
            Some(m) => m
                .find(&self.map, output)
                .into_iter()
                .map(|(r, _)| mask(&output[r]))
                .collect(),
            // Values that cannot be searched for cannot be vouched for.
            None if !self.map.is_empty() => {
                return Err(Leak {
                    count: self.map.len(),
                    first: "(too many values to search for)".into(),
                });
            }
            None => Vec::new(),
        };
        for r in secret_spans(output) {
            let v = &output[r];
            if !v.starts_with("[REDACTED]") {
                left.push(mask(v));
            }
        }
        match left.first() {
            None => Ok(()),
            Some(first) => Err(Leak {
                count: left.len(),
                first: first.clone(),
            }),
        }
    }
}

/// Text with HTML's character references decoded (those hsmdiag writes).
fn unescape_html(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('&') {
        return s.into();
    }
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
        .into()
}

/// Text with JSON's escapes of quotes, slashes and backslashes decoded.
fn unescape_json(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('\\') {
        return s.into();
    }
    s.replace("\\\"", "\"")
        .replace("\\/", "/")
        .replace("\\\\", "\\")
        .into()
}

/// The redactor of a report, and the report made ready for it: the templates
/// of unrecognised lines (`--unrecognized`) are made again from their examples
/// once redacted, since masking a name's digits (`lunaclient<n>`) would hide
/// the name from the replacement and the leak check alike.
pub fn prepare(report: &crate::Report) -> (crate::Report, Redactor) {
    let redactor = for_report_and_lines(report, &[]);
    let mut ready = report.clone();
    for t in &mut ready.unrecognized {
        t.template = crate::coverage::template(&redactor.apply(&t.example));
    }
    (ready, redactor)
}

/// A report and the timeline lines shown with it, every value replaced by its
/// pseudonym and every secret by `[REDACTED]` in the model itself — before
/// any format escapes, shortens, wraps or aligns a text, so no layout can cut
/// a value in two or hide it behind an escape — and the redactor that did it
/// (for the leak check of what is written, and the private map).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Redacted {
    /// The report, redacted.
    pub report: crate::Report,
    /// The timeline's lines, redacted.
    pub entries: Vec<crate::timeline::Entry>,
    /// One set of pseudonyms for all of it: every format of one run gives a
    /// value the same pseudonym.
    pub redactor: Redactor,
}

/// Redacts a report and its timeline lines ([`Redacted`]). The templates of
/// unrecognised lines are made again from their redacted examples, since
/// masking a name's digits (`lunaclient<n>`) would hide it from the
/// replacement.
pub fn redact(report: &crate::Report, entries: &[crate::timeline::Entry]) -> Redacted {
    redact_with(for_report_and_lines(report, entries), report, entries)
}

/// [`redact`] with the values found in the inputs' lines as they were read
/// ([`Discovery::line`], fed by [`AnalyzerBuilder::observe_lines`](crate::AnalyzerBuilder::observe_lines)):
/// a value the report shows only where nothing marks it as a name (`on
/// lunaclient04` in prose) is still hidden, because a prompt elsewhere in the
/// inputs named it.
pub fn redact_found(
    mut found: Discovery,
    report: &crate::Report,
    entries: &[crate::timeline::Entry],
) -> Redacted {
    // The timeline's lines are lines of the inputs, already seen; the
    // report adds hsmdiag's own text filled with their values.
    found.text(&serde_json::to_string(report).unwrap_or_default());
    let redactor = found
        .finish()
        .with_inputs(report.summary.sources.iter().map(|s| s.name.as_str()));
    redact_with(redactor, report, entries)
}

/// [`redact`] with a redactor found elsewhere (one for both sides of `diff`).
pub fn redact_with(
    redactor: Redactor,
    report: &crate::Report,
    entries: &[crate::timeline::Entry],
) -> Redacted {
    let mut report = report.clone();
    let mut apply = |s: &str| redactor.apply(s);
    crate::report::map_texts(&mut report, &mut apply);
    // A fingerprint hashes the names it was made from: keyed with a secret
    // of this run, it still ties a finding's updates together but no longer
    // confirms a guessed host or subject.
    let secret = {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u8(0);
        h.finish().to_le_bytes()
    };
    for f in &mut report.findings {
        if !f.fingerprint.is_empty() {
            let keyed = format!("{:02x?}{}", secret, f.fingerprint);
            f.fingerprint = crate::finding::fingerprint_of("redacted", None, &[&keyed]);
        }
    }
    for t in &mut report.unrecognized {
        t.template = crate::coverage::template(&t.example);
    }
    let mut entries = entries.to_vec();
    for e in &mut entries {
        e.map_texts(&mut apply);
    }
    Redacted {
        report,
        entries,
        redactor,
    }
}

/// The redactor for a report and the timeline lines shown with it (`timeline`,
/// the HTML report, a bundle): values are found in both, since the lines hold
/// values no finding names.
pub fn for_report_and_lines(
    report: &crate::Report,
    entries: &[crate::timeline::Entry],
) -> Redactor {
    let found = serde_json::to_string(report).unwrap_or_default();
    let mut texts = vec![found];
    if !entries.is_empty() {
        texts.push(serde_json::to_string(entries).unwrap_or_default());
    }
    Redactor::discover(texts.iter().map(String::as_str))
        .with_inputs(report.summary.sources.iter().map(|s| s.name.as_str()))
}

/// Writes the private map (what each pseudonym stands for) readable by its
/// owner alone (0600), and never through a symbolic link: a link at `path` is
/// refused, not followed.
///
/// # Errors
/// When the file cannot be created, or `path` is a symbolic link.
pub fn write_map(redactor: &Redactor, path: &std::path::Path) -> std::io::Result<()> {
    use std::io::Write;
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "is a symbolic link; the map is not written through one",
        ));
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    let mut f = opts.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // An existing file keeps its mode on open: narrow it.
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    f.write_all(map_json(redactor).as_bytes())
}

/// The private map (what each pseudonym stands for) as the JSON
/// [`write_map`] writes: an array of `{kind, original, pseudonym}`.
pub fn map_json(redactor: &Redactor) -> String {
    let mut map = serde_json::to_string_pretty(redactor.mapping()).unwrap_or_default();
    map.push('\n');
    map
}

/// Redacts a report's rendered output (any format): the values are found in
/// the report, the inputs' names are mapped too, and the leak check runs on the
/// result.
///
/// # Errors
/// [`Leak`] when the check finds a value or secret left.
pub fn redact_output(report: &crate::Report, output: &str) -> Result<(String, Redactor), Leak> {
    // Found in the report only, so that every format of one report gets the
    // same pseudonyms (a format adds no value of the logs, only hsmdiag's text).
    let redactor = for_report_and_lines(report, &[]);
    let redacted = redactor.apply(output);
    redactor.check(&redacted)?;
    Ok((redacted, redactor))
}

#[cfg(test)]
mod tests {
    use super::Redactor;

    #[test]
    fn subnets_stay_together_and_names_are_consistent() {
        let text = "2026 Mar 01 10:05:00 hsm1 local5 info NTLS [2490]: client : 10.3.1.4/59415\n\
                    2026 Mar 01 10:05:01 hsm1 local5 info NTLS [2490]: client : 10.3.1.5/59416\n\
                    2026 Mar 01 10:05:02 hsm2 local5 info NTLS [2490]: client : 10.4.0.9/1\n";
        let r = Redactor::discover([text]);
        let out = r.apply(text);
        assert!(
            !out.contains("10.3.1.4") && !out.contains("hsm1") && !out.contains("hsm2"),
            "{out}"
        );
        let a = r
            .mapping()
            .iter()
            .find(|m| m.original == "10.3.1.4")
            .unwrap();
        let b = r
            .mapping()
            .iter()
            .find(|m| m.original == "10.3.1.5")
            .unwrap();
        let c = r
            .mapping()
            .iter()
            .find(|m| m.original == "10.4.0.9")
            .unwrap();
        let net = |p: &str| p.rsplit_once('.').unwrap().0.to_owned();
        assert_eq!(net(&a.pseudonym), net(&b.pseudonym));
        assert_ne!(net(&a.pseudonym), net(&c.pseudonym));
        assert!(r.check(&out).is_ok());
        assert_eq!(r.apply(text), out, "the same value, the same pseudonym");
    }

    #[test]
    fn a_host_name_is_not_found_inside_a_longer_number() {
        let text = "2026 Mar 01 10:05:00 hsm1 local5 info NTLS [2490]: client : 10.3.1.4/59415\n";
        let r = Redactor::discover([text]);
        let report = "HSM101 error on hsm1 (see hsm12 and hsm1.pem, HSM1)";
        let out = r.apply(report);
        assert_eq!(
            out,
            "HSM101 error on host-1 (see hsm12 and host-1.pem, host-1)"
        );
        assert!(r.check(&out).is_ok(), "HSM101 is no leak of hsm1");
    }

    #[test]
    fn secrets_go_and_a_planted_one_is_caught() {
        let text = "lunash:> package update f.spkg -authcode Hq7Kx3Vb2NpW9cTm\nAuthorization: Bearer eyJ0eXAiOiJKV1QiLCJhbGciOi\n";
        let r = Redactor::discover([text]);
        let out = r.apply(text);
        assert!(
            out.contains("-authcode [REDACTED]") && !out.contains("Hq7Kx3Vb2NpW9cTm"),
            "{out}"
        );
        assert!(!out.contains("eyJ0eXAi"), "{out}");
        assert!(r.check(&out).is_ok());
        let planted = format!("{out}\nclient_secret=s3cr3t-value\n");
        assert!(r.check(&planted).is_err());
    }

    #[test]
    fn fingerprints_users_serials_labels_and_json_names() {
        let text = "Certificate fingerprint: 4F:2A:9C:11:0B:7E:55:C3:9A:00:1D:EE:42:61:8B:93:7C:20:AB:CD\n\
                    \"caller\": \"ops.admin@contoso.com\",\n\
                    \"tenantId\": \"72f988bf-86f1-41af-91ab-2d7cd011db47\",\n\
                    \"name\": \"prod-ergw\",\n\
                    Serial #:                           572413\n\
                    HA Group Label:  prodHA\n\
                    ------  1238700701509                      par7     down\n\
                    sshd[811]: Accepted publickey for opsuser from 10.3.1.10 port 52210 ssh2\n";
        let r = Redactor::discover([text]);
        let out = r.apply(text);
        for gone in [
            "4F:2A:9C",
            "ops.admin@contoso.com",
            "72f988bf",
            "prod-ergw",
            "572413",
            "prodHA",
            "1238700701509",
            "par7",
            "opsuser",
            "10.3.1.10",
        ] {
            assert!(!out.contains(gone), "{gone} in {out}");
        }
        assert!(r.check(&out).is_ok());
    }
}
