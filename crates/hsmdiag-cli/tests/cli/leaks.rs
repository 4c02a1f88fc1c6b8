//! Redaction on text written the way people and tools write it: values of every
//! class a ticket can carry (Azure network and storage names in error messages
//! and prose, SAS signatures, account keys, passwords given to `az login`,
//! lunacm, Terraform and JSON, users and hosts in shell prompts and prose,
//! partition names and serials in free text, PEM bodies, a Crypto Officer PIN,
//! customer names in long file names, IPv6 addresses) planted in seven input
//! styles, run through every output hsmdiag writes — each format, `--unrecognized`,
//! `timeline`, `diff`, `bundle` as a folder and as a .tgz — at 80 and at 300
//! columns. No planted value may be left, in any case or escaped form; the leak
//! check must not refuse; IPv6 pseudonyms are valid addresses; and one bundle
//! gives one pseudonym per value in every file.
//!
//! `HSMDIAG_TEST_BIN` runs the same corpus through another build of hsmdiag (to
//! measure one against another); the counts per class are printed on failure.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A planted value: its class and the value.
const PLANTED: &[(&str, &str)] = &[
    ("VNet in an error message", "contosovnet7"),
    ("subnet in an error message", "hsmsubnet42"),
    ("gateway name", "prodergw9"),
    ("public IP name", "ergwpip31"),
    ("storage account in prose", "fabdiagstore88"),
    ("resource group", "fabrikam-hsm-rg"),
    ("HSM resource name", "fabhsm03"),
    ("subscription", "8d2f6a41-3c7e-4b19-a0d5-6e9b2c4f1a37"),
    ("SAS signature", "q8Yd0pLkR3mN5tV7wX9zA1cE4gH6jK8mP0rT2u%3D"),
    (
        "storage key after 'key' in prose",
        "Zm9vYmFyYmF6cXV4cXV1eHh5enp5MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1ub3BxcnN0dXY=",
    ),
    ("az login -p secret", "Xq9~sEcReT.vAlUe_123"),
    ("lunacm -p secret", "C0Pass!word77"),
    ("lunash -password secret", "ShPa55word-19"),
    ("Terraform admin_password", "TfAdm1nP@ss"),
    ("JSON password", "JsonPa55word!"),
    ("Crypto Officer PIN in prose", "Cr7ptoPIN2026"),
    ("user in a shell prompt", "opsjane"),
    ("host in a shell prompt", "lunaclient04"),
    ("user logged in as", "mkowalski"),
    ("user after 'user'", "tgarcia"),
    ("client register -client", "webfarm12"),
    ("partition name in prose", "payments_par"),
    ("HSM serial in prose", "1534567"),
    ("partition serial in prose", "1534567013"),
    (
        "PEM key body",
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7",
    ),
    ("PEM key last line", "Hq2vXw9QkPz3Lr8Tn"),
    (
        "PEM certificate body",
        "MIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQsw",
    ),
    ("customer in a long file name", "northwindtraders"),
    ("user in a Windows path", "jdoe_admin"),
    ("IPv6 ULA address", "fd00:61:7::19"),
    ("IPv4 client", "10.61.7.19"),
    ("syslog host", "nwhsm01"),
];

/// The seven input styles; `{name}` is the value of the class `name` above.
const INPUTS: &[(&str, &str)] = &[
    (
        // An appliance's syslog (NTLS and the LunaSH command log).
        "NORTHWIND/northwindtraders-hsm-appliance-ntls-export-2026-11-20-final.log",
        "2026 Nov 20 02:05:00 {syslog host} local5 info NTLS [2490]: info : 0 : Incoming connection request... : {IPv4 client}/59415\n\
         2026 Nov 20 02:05:00 {syslog host} local5 info NTLS [2490]: Error message from SSLAccept is : error:14094418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca\n\
         2026 Nov 20 02:05:00 {syslog host} local5 info NTLS [2490]: info : 0xc0000711 : Fail to establish a secure channel with client : {IPv4 client}/59415 : RC_SSL_FAILED_HANDSHAKE\n\
         2026 Nov 20 02:05:09 {syslog host} local5 info NTLS [2490]: info : 0 : Incoming connection request... : {IPv6 ULA address}/40112\n\
         2026 Nov 20 02:06:10 {syslog host} local5 info lunash [3301]: info : 0 : Command: hsm login -password {lunash -password secret}  : admin : {IPv4 client}/52210\n\
         2026 Nov 20 02:06:30 {syslog host} local5 info lunash [3301]: info : 0 : Command: client register -client {client register -client} -ip {IPv4 client}  : admin : {IPv4 client}/52210\n",
    ),
    (
        // Azure CLI: a gateway that cannot be created, a login, a SAS URL.
        "az-gateway.txt",
        "$ az login --service-principal -u 4a1c2d3e-0000-4000-8000-00000000abcd -p {az login -p secret} --tenant contoso.onmicrosoft.com\n\
         $ az network vnet-gateway create --resource-group {resource group} --name {gateway name} --vnet {VNet in an error message} --public-ip-addresses {public IP name} --gateway-type ExpressRoute --sku Standard\n\
         ERROR: (PublicIpWithBasicSkuNotAllowedOnExpressRouteGateways) Basic IP configuration for ExpressRoute Virtual Network Gateways is not supported. VNet {VNet in an error message} has a gateway {gateway name} referencing public IP {public IP name} with the Basic SKU.\n\
         Code: PublicIpWithBasicSkuNotAllowedOnExpressRouteGateways\n\
         Message: Basic IP configuration for ExpressRoute Virtual Network Gateways is not supported. VNet {VNet in an error message} has a gateway {gateway name} referencing public IP {public IP name} with the Basic SKU.\n\
         Uploading the debug log to https://{storage account in prose}.blob.core.windows.net/logs/az.txt?sv=2022-11-02&ss=b&srt=o&sp=rw&se=2026-12-01T00:00:00Z&sig={SAS signature}\n",
    ),
    (
        // PowerShell: the HSM's subnet has no delegation.
        "ps-hsm.txt",
        "PS C:\\Users\\{user in a Windows path}\\hsm> New-AzDedicatedHsm -Name {HSM resource name} -ResourceGroupName {resource group} -Location eastus -Sku SafeNet_Luna_Network_HSM_A790 -SubnetId /subscriptions/{subscription}/resourceGroups/{resource group}/providers/Microsoft.Network/virtualNetworks/{VNet in an error message}/subnets/{subnet in an error message}\n\
         New-AzDedicatedHsm : Subnet {subnet in an error message} in VNET {VNet in an error message} is missing a delegation to Microsoft.HardwareSecurityModules/dedicatedHSMs.\n\
         At line:1 char:1\n\
         + CategoryInfo          : CloseError: (:) [New-AzDedicatedHsm], ErrorResponseException\n\
         + FullyQualifiedErrorId : SubnetMissingRequiredDelegation\n",
    ),
    (
        // Terraform: the plan's variables and the apply's error.
        "terraform-apply.txt",
        "  + resource \"azurerm_linux_virtual_machine\" \"jump\" {\n\
         \x20     + admin_password = \"{Terraform admin_password}\"\n\
         \x20   }\n\
         azurerm_virtual_network_gateway.ergw: Creating...\n\
         \n\
         Error: creating Virtual Network Gateway (Subscription: \"{subscription}\"\n\
         Resource Group Name: \"{resource group}\"\n\
         Virtual Network Gateway Name: \"{gateway name}\"): performing CreateOrUpdate: unexpected status 400 (400 Bad Request) with error: PublicIpWithBasicSkuNotAllowedOnExpressRouteGateways: Basic IP configuration for ExpressRoute Virtual Network Gateways is not supported. Public IP {public IP name} is Basic.\n",
    ),
    (
        // JSON: a deployment's parameters and its failed operation.
        "deployment.json",
        "{\n  \"properties\": {\n    \"parameters\": {\n      \"adminUser\": { \"value\": \"{user after 'user'}\" },\n      \"password\": \"{JSON password}\"\n    },\n    \"provisioningState\": \"Failed\",\n    \"error\": {\n      \"code\": \"SubnetMissingRequiredDelegation\",\n      \"message\": \"Subnet {subnet in an error message} in VNET {VNet in an error message} is missing a delegation to Microsoft.HardwareSecurityModules/dedicatedHSMs.\"\n    }\n  }\n}\n",
    ),
    (
        // A Luna client session on Linux: prompts, a role login, vtl verify, PEM.
        "client-session.txt",
        "{user in a shell prompt}@{host in a shell prompt}:~$ /usr/safenet/lunaclient/bin/lunacm\n\
         lunacm:> role login -name co -p {lunacm -p secret}\n\
         Command Result : 0x5 (CKR_GENERAL_ERROR)\n\
         {user in a shell prompt}@{host in a shell prompt}:~$ vtl verify\n\
         Error: Unable to find any Luna SA slots/partitions.\n\
         {user in a shell prompt}@{host in a shell prompt}:~$ cat /usr/safenet/lunaclient/cert/client/{host in a shell prompt}Key.pem\n\
         -----BEGIN PRIVATE KEY-----\n\
         {PEM key body}\n\
         {PEM key last line}\n\
         -----END PRIVATE KEY-----\n\
         -----BEGIN CERTIFICATE-----\n\
         {PEM certificate body}\n\
         -----END CERTIFICATE-----\n",
    ),
    (
        // A pasted ticket: prose around a few lines.
        "ticket.txt",
        "Hello support,\n\
         I logged in as {user logged in as} on {host in a shell prompt} and the partition {partition name in prose} on our HSM (serial {HSM serial in prose}, partition serial {partition serial in prose}) is not listed any more.\n\
         My colleague, user {user after 'user'}, says the storage key is {storage key after 'key' in prose} for the account {storage account in prose}, in case you need the logs.\n\
         The Crypto Officer PIN is {Crypto Officer PIN in prose} until we rotate it.\n\
         NTLS[8508]: Error message from SSLAccept is : error:14094418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca\n\
         NTLS[8508]: info : 0xc0000711 : Fail to establish a secure channel with client : {IPv4 client}/59415 : RC_SSL_FAILED_HANDSHAKE\n\
         Thanks, {user logged in as}\n",
    ),
];

fn fill(text: &str) -> String {
    let mut t = text.to_owned();
    for (class, value) in PLANTED {
        t = t.replace(&format!("{{{class}}}"), value);
    }
    t
}

fn bin() -> PathBuf {
    std::env::var_os("HSMDIAG_TEST_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_hsmdiag")),
        PathBuf::from,
    )
}

/// Runs hsmdiag in `dir` at `columns`; the output and whether it refused (2).
fn run(dir: &Path, columns: usize, args: &[&str]) -> (String, bool) {
    let out = Command::new(bin())
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("COLUMNS", columns.to_string())
        .env("HSMDIAG_CONFIG", "")
        .args(args)
        .args(["--year", "2026"])
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code() == Some(2),
    )
}

/// The classes whose value is left in `out`: in any letter case, raw or
/// escaped as JSON (`\\`) or HTML (`&amp;`) writes it, where it starts a word.
fn left_in(out: &str) -> Vec<&'static str> {
    let lower = out
        .to_lowercase()
        .replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("\\\\", "\\")
        .replace("\\\"", "\"");
    PLANTED
        .iter()
        .filter(|(_, v)| {
            let v = v.to_lowercase();
            lower.match_indices(&v).any(|(i, _)| {
                !v.starts_with(|c: char| c.is_alphanumeric())
                    || !lower[..i].ends_with(|c: char| c.is_alphanumeric())
            })
        })
        .map(|(c, _)| *c)
        .collect()
}

/// Every file under `dir` as text.
fn files(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push((
                p.display().to_string(),
                String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned(),
            ));
        }
    }
    out
}

/// The members of a .tgz as text.
fn members(tgz: &Path) -> Vec<(String, String)> {
    use std::io::Read;
    let gz = flate2::read::GzDecoder::new(std::fs::File::open(tgz).unwrap());
    let mut tar = tar::Archive::new(gz);
    let mut out = Vec::new();
    for e in tar.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().display().to_string();
        let mut text = String::new();
        e.read_to_string(&mut text).unwrap();
        out.push((name, text));
    }
    out
}

#[test]
fn planted_values_of_every_class_leave_no_output() {
    let dir = crate::scratch("leaks");
    for (name, text) in INPUTS {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, fill(text)).unwrap();
    }
    let names: Vec<&str> = INPUTS.iter().map(|(n, _)| *n).collect();
    // Every output, at both widths.
    let mut outputs: Vec<(String, String, bool)> = Vec::new();
    for columns in [80, 300] {
        let with = |extra: &[&'static str]| -> Vec<&'static str> {
            let mut a: Vec<&'static str> = extra.to_vec();
            a.extend(&names);
            a
        };
        for format in ["text", "json", "jsonl", "markdown", "sarif", "html"] {
            let (out, refused) = run(
                &dir,
                columns,
                &with(&["--redact", "--unrecognized", "--format", format]),
            );
            outputs.push((format!("{format} @{columns}"), out, refused));
        }
        for format in ["text", "json"] {
            let (out, refused) = run(
                &dir,
                columns,
                &with(&["timeline", "--redact", "--format", format]),
            );
            outputs.push((format!("timeline {format} @{columns}"), out, refused));
        }
        let (out, refused) = run(
            &dir,
            columns,
            &["diff", "--redact", names[0], names[names.len() - 1]],
        );
        outputs.push((format!("diff @{columns}"), out, refused));
    }
    let bundle = dir.join("bundle");
    let mut args = vec!["bundle", "-o", "bundle"];
    args.extend(&names);
    let (_, refused) = run(&dir, 80, &args);
    let tgz_args: Vec<&str> = ["bundle", "-o", "bundle.tgz"]
        .into_iter()
        .chain(names.iter().copied())
        .collect();
    let (_, refused_tgz) = run(&dir, 80, &tgz_args);
    let mut bundle_files = Vec::new();
    if bundle.is_dir() {
        bundle_files = files(&bundle);
        for (name, text) in &bundle_files {
            outputs.push((format!("bundle {name}"), text.clone(), refused));
        }
    } else {
        outputs.push(("bundle (not written)".into(), String::new(), true));
    }
    if dir.join("bundle.tgz").is_file() {
        for (name, text) in members(&dir.join("bundle.tgz")) {
            outputs.push((format!("bundle.tgz {name}"), text, refused_tgz));
        }
    } else {
        outputs.push(("bundle.tgz (not written)".into(), String::new(), true));
    }

    let mut by_class: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut refusals = Vec::new();
    for (what, out, refused) in &outputs {
        if *refused {
            refusals.push(what.clone());
        }
        for class in left_in(out) {
            by_class.entry(class).or_default().push(what.clone());
        }
    }
    // IPv6 pseudonyms are addresses.
    let mut bad_v6 = Vec::new();
    for (what, out, _) in &outputs {
        for word in out.split(|c: char| !(c.is_ascii_hexdigit() || c == ':')) {
            if word.starts_with("2001:db8:") && word.parse::<std::net::Ipv6Addr>().is_err() {
                bad_v6.push(format!("{what}: {word}"));
            }
        }
    }
    // One bundle, one pseudonym per value: every evidence line of
    // findings.json stands as it is in report.md, report.html and the
    // evidence files.
    let file = |suffix: &str| {
        bundle_files
            .iter()
            .filter(|(n, _)| n.contains(suffix))
            .map(|(_, t)| t.clone())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let unescape = |t: &str| {
        t.replace("<mark>", "")
            .replace("</mark>", "")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&")
    };
    let (md, html, evidence) = (
        file("report.md"),
        unescape(&file("report.html")),
        file("evidence/"),
    );
    let mut differ = Vec::new();
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(&file("findings.json")) {
        for f in json["findings"].as_array().into_iter().flatten() {
            for e in f["evidence"].as_array().into_iter().flatten() {
                let text = e["text"].as_str().unwrap_or_default();
                for (name, body) in [
                    ("report.md", &md),
                    ("report.html", &html),
                    ("evidence", &evidence),
                ] {
                    if !body.contains(text) {
                        differ.push(format!("{name} lacks `{text}`"));
                    }
                }
            }
        }
    }

    let leaked: usize = by_class.len();
    let summary = format!(
        "{} of {} planted classes leaked; refused: {refusals:?}; invalid IPv6 pseudonyms: {bad_v6:?}\n{}",
        leaked,
        PLANTED.len(),
        by_class
            .iter()
            .map(|(c, w)| format!("  {c}: {} output(s), e.g. {}", w.len(), w[0]))
            .collect::<Vec<_>>()
            .join("\n")
    );
    std::fs::remove_dir_all(&dir).ok();
    assert!(by_class.is_empty(), "{summary}");
    assert!(refusals.is_empty(), "{summary}");
    assert!(bad_v6.is_empty(), "{summary}");
    assert!(differ.is_empty(), "one bundle, two pseudonyms: {differ:#?}");
}
