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
    /// Every original in one pattern, built on first use.
    pattern: std::sync::OnceLock<Option<Regex>>,
}

static IPV4: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\b(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}\b",
    )
    .expect("static regex is valid")
});
static IPV6: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:[0-9a-f]{1,4}:){2,7}[0-9a-f]{1,4}\b|(?i)\b(?:[0-9a-f]{1,4}:){1,6}:(?:[0-9a-f]{1,4})?\b")
        .expect("static regex is valid")
});
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
/// Secrets: the value after a password option, an auth code, or in an
/// Authorization / bearer / secret header or setting.
static SECRET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?ix)
        (?P<k1>(?:-{1,2}(?:password|passwd|pwd|authcode|secret)|(?:password|passwd|pwd|secret|client_secret|token|api[_-]?key)\s*[=:])\s*)(?P<v1>"[^"]*"|'[^']*'|[^\s"',;]+)
      | (?P<k2>authorization\s*[:=]\s*"?(?:bearer|basic|sharedaccesssignature)?\s*)(?P<v2>[A-Za-z0-9._~+/=-]{8,})
      | (?P<k3>\bbearer\s+)(?P<v3>[A-Za-z0-9._~+/=-]{8,})"#,
    )
    .expect("static regex is valid")
});

/// Words that are never taken for names (they appear around names in Luna's
/// output and in every report).
const NOT_NAMES: &[&str] = &[
    "admin",
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

/// Every string in a JSON value.
fn strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| strings(x, out)),
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

fn word_pattern(value: &str) -> String {
    // Word boundaries where the value itself starts or ends with a word character.
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    format!(
        "{}{}{}",
        if word(value.chars().next()) {
            r"\b"
        } else {
            ""
        },
        regex::escape(value),
        if word(value.chars().last()) {
            r"\b"
        } else {
            ""
        }
    )
}

impl Redactor {
    /// Finds the values to hide in these texts (a report's JSON form, say) and
    /// numbers their pseudonyms.
    pub fn discover<'a>(texts: impl IntoIterator<Item = &'a str>) -> Self {
        let mut found: BTreeMap<Kind, BTreeSet<String>> = BTreeMap::new();
        let mut add = |k: Kind, v: &str| {
            let v = v.trim();
            if v.len() >= 2 && !NOT_NAMES.contains(&v) {
                found.entry(k).or_default().insert(v.to_owned());
            }
        };
        // A JSON text (the report) is read string by string: each holds lines of
        // the logs as they were.
        let mut lines: Vec<String> = Vec::new();
        for text in texts {
            match serde_json::from_str::<serde_json::Value>(text) {
                Ok(v) => strings(&v, &mut lines),
                Err(_) => lines.extend(text.lines().map(str::to_owned)),
            }
        }
        for text in &lines {
            for line in text.lines() {
                for m in IPV4.find_iter(line) {
                    add(Kind::Address, m.as_str());
                }
                for m in IPV6.find_iter(line) {
                    if m.as_str().matches(':').count() >= 2
                        && !m.as_str().chars().all(|c| c.is_ascii_digit() || c == ':')
                    {
                        add(Kind::Address, m.as_str());
                    }
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
                if let Some(h) = parse_header(line).host {
                    if !IPV4.is_match(h) {
                        add(Kind::Host, h);
                    }
                }
            }
        }
        // A value found as two kinds keeps the first kind in this order.
        let mut seen = BTreeSet::new();
        let mut map = Vec::new();
        let mut nets: BTreeMap<[u8; 3], u32> = BTreeMap::new();
        for (kind, values) in found {
            let mut n = 0;
            for v in values {
                if !seen.insert(v.clone()) {
                    continue;
                }
                n += 1;
                let pseudonym = match kind {
                    Kind::Address => match v.parse::<Ipv4Addr>() {
                        Ok(ip) => {
                            let o = ip.octets();
                            let next = nets.len() as u32;
                            let k = *nets.entry([o[0], o[1], o[2]]).or_insert(next);
                            format!("198.{}.{}.{}", 18 + (k / 256) % 2, k % 256, o[3])
                        }
                        Err(_) => format!("2001:db8::{n:x}"),
                    },
                    Kind::Guid => format!("00000000-0000-4000-8000-{n:012}"),
                    _ => format!("{}-{n}", kind.prefix()),
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
        let mut out = SECRET
            .replace_all(text, |c: &regex::Captures<'_>| {
                let key = c
                    .name("k1")
                    .or_else(|| c.name("k2"))
                    .or_else(|| c.name("k3"))
                    .map_or("", |m| m.as_str());
                format!("{key}[REDACTED]")
            })
            .into_owned();
        if let Some(re) = self.combined() {
            let by: std::collections::HashMap<&str, &str> = self
                .map
                .iter()
                .map(|m| (m.original.as_str(), m.pseudonym.as_str()))
                .collect();
            out = re
                .replace_all(&out, |c: &regex::Captures<'_>| {
                    by.get(&c[0]).copied().unwrap_or(&c[0]).to_owned()
                })
                .into_owned();
        }
        out
    }

    /// One pattern for every original value, longest first (so a value inside
    /// a longer one is not cut apart), each with word boundaries where it
    /// starts or ends with a word character.
    fn combined(&self) -> Option<&Regex> {
        self.pattern
            .get_or_init(|| {
                if self.map.is_empty() {
                    return None;
                }
                let mut order: Vec<&str> = self.map.iter().map(|m| m.original.as_str()).collect();
                order.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
                let alts: Vec<String> = order.iter().map(|v| word_pattern(v)).collect();
                regex::RegexBuilder::new(&alts.join("|"))
                    .size_limit(64 << 20)
                    .build()
                    .ok()
            })
            .as_ref()
    }

    /// Checks redacted output: no original value as a word, no secret pattern
    /// with a value other than `[REDACTED]`.
    ///
    /// # Errors
    /// [`Leak`] naming (masked) what remains.
    pub fn check(&self, output: &str) -> Result<(), Leak> {
        let mut left: Vec<String> = match self.combined() {
            Some(re) => re.find_iter(output).map(|m| mask(m.as_str())).collect(),
            // Values that cannot be searched for cannot be vouched for.
            None if !self.map.is_empty() => {
                return Err(Leak {
                    count: self.map.len(),
                    first: "(too many values to search for)".into(),
                });
            }
            None => Vec::new(),
        };
        for c in SECRET.captures_iter(output) {
            let v = c
                .name("v1")
                .or_else(|| c.name("v2"))
                .or_else(|| c.name("v3"))
                .map_or("", |m| m.as_str());
            if v != "[REDACTED]" && !v.starts_with("[REDACTED]") {
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

/// Redacts a report's rendered output (any format): the values are found in
/// the report, the inputs' names are mapped too, and the leak check runs on the
/// result.
///
/// # Errors
/// [`Leak`] when the check finds a value or secret left.
pub fn redact_output(report: &crate::Report, output: &str) -> Result<(String, Redactor), Leak> {
    // Found in the report only, so that every format of one report gets the
    // same pseudonyms (a format adds no value of the logs, only hsmdiag's text).
    let json = serde_json::to_string(report).unwrap_or_default();
    let redactor = Redactor::discover([json.as_str()])
        .with_inputs(report.summary.sources.iter().map(|s| s.name.as_str()));
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
