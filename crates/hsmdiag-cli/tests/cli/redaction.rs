//! Redaction, proved on generated incidents: no address, id or name from the
//! input survives in any format; the same value gets the same pseudonym in every
//! format; SARIF fingerprints do not change; a secret planted after redaction is
//! caught by the leak check, and one in the log never reaches the output.

use std::collections::BTreeMap;

use hsmdiag::redact::{Redactor, redact_output};
use hsmdiag::{Analyzer, Report, TextOptions};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Incident {
    hsm: String,
    admin: String,
    clients: Vec<[u8; 4]>,
    subscription: String,
    group: String,
    vnet: String,
    secret: String,
}

fn incident() -> impl Strategy<Value = Incident> {
    (
        "[a-z]{3,6}[0-9]{2,3}",
        "[a-z]{3,5}[0-9]{2}",
        prop::collection::vec((11u8..=99, 0u8..=255, 0u8..=255, 1u8..=254), 1..4),
        "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
        "[a-z]{4,8}[0-9]{2}-rg",
        "[a-z]{4,8}[0-9]{2}-vnet",
        "[A-Za-z0-9]{12,20}",
    )
        .prop_map(
            |(hsm, admin, clients, subscription, group, vnet, secret)| Incident {
                hsm,
                admin,
                clients: clients
                    .into_iter()
                    .map(|(a, b, c, d)| [a, b, c, d])
                    .collect(),
                subscription,
                group,
                vnet,
                secret,
            },
        )
}

fn logs(i: &Incident) -> String {
    let h = &i.hsm;
    let mut s = format!(
        "2026 Mar 01 10:01:11 {h} local5 info lunash [3301]: info : 0 : Lush user login : {a} : 10.200.1.10/52210\n\
         2026 Mar 01 10:01:30 {h} local5 info lunash [3301]: info : 0 : Command: sysconf regenCert  : {a} : 10.200.1.10/52210\n\
         [{h}] lunash:>package update f.spkg -authcode {secret}\n",
        a = i.admin,
        secret = i.secret
    );
    for (n, c) in i.clients.iter().enumerate() {
        let ip = format!("{}.{}.{}.{}", c[0], c[1], c[2], c[3]);
        let port = 50000 + n;
        s.push_str(&format!(
            "2026 Mar 01 10:05:0{n} {h} local5 info NTLS [2490]: info : 0 : Incoming connection request... : {ip}/{port}\n\
             2026 Mar 01 10:05:0{n} {h} local5 info NTLS [2490]: Error message from SSLAccept is : error:14094418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca\n\
             2026 Mar 01 10:05:0{n} {h} local5 info NTLS [2490]: info : 0xc0000711 : Fail to establish a secure channel with client : {ip}/{port} : RC_SSL_FAILED_HANDSHAKE\n"
        ));
    }
    s.push_str(&format!(
        "ERROR: (AnotherOperationInProgress) Another operation on this or dependent resource is in progress.\nCode: AnotherOperationInProgress\nMessage: Another operation on this or dependent resource is in progress.\nTarget: /subscriptions/{}/resourceGroups/{}/providers/Microsoft.Network/virtualNetworks/{}/subnets/GatewaySubnet\n",
        i.subscription, i.group, i.vnet
    ));
    s
}

fn originals(i: &Incident) -> Vec<String> {
    let mut v = vec![
        i.hsm.clone(),
        i.admin.clone(),
        i.subscription.clone(),
        i.group.clone(),
        i.vnet.clone(),
        i.secret.clone(),
        "10.200.1.10".to_owned(),
    ];
    v.extend(
        i.clients
            .iter()
            .map(|c| format!("{}.{}.{}.{}", c[0], c[1], c[2], c[3])),
    );
    v
}

fn analyzer() -> &'static Analyzer {
    static A: std::sync::OnceLock<Analyzer> = std::sync::OnceLock::new();
    A.get_or_init(Analyzer::new)
}

fn render(report: &Report, format: &str) -> String {
    let mut out = Vec::new();
    let analyzer = analyzer();
    match format {
        "text" => hsmdiag::write_text(report, &mut out, TextOptions::new(false, 100)).unwrap(),
        "json" => hsmdiag::write_json(report, &mut out).unwrap(),
        "jsonl" => hsmdiag::write_jsonl(report, &mut out).unwrap(),
        "markdown" => hsmdiag::write_markdown(report, &mut out).unwrap(),
        "html" => hsmdiag::write_html(report, &[], &mut out).unwrap(),
        _ => hsmdiag::write_sarif(report, analyzer.rules(), &mut out).unwrap(),
    }
    String::from_utf8(out).unwrap()
}

fn pseudonyms(r: &Redactor, wanted: &[String]) -> BTreeMap<String, String> {
    r.mapping()
        .iter()
        .filter(|m| wanted.contains(&m.original))
        .map(|m| (m.original.clone(), m.pseudonym.clone()))
        .collect()
}

const FORMATS: [&str; 6] = ["text", "json", "jsonl", "markdown", "sarif", "html"];

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn nothing_from_the_input_survives_in_any_format(i in incident()) {
        let report = analyzer().analyze_str(&format!("{}-lunalogs.log", i.hsm), &logs(&i));
        prop_assert!(report.findings.iter().any(|f| f.id == "ntls.unknown_ca"));
        let wanted = originals(&i);
        let mut maps = Vec::new();
        for format in FORMATS {
            let out = render(&report, format);
            let (redacted, r) = redact_output(&report, &out).map_err(|e| TestCaseError::fail(e.to_string()))?;
            for o in &wanted {
                prop_assert!(!redacted.contains(o.as_str()), "{format}: `{o}` survived:\n{redacted}");
            }
            maps.push(pseudonyms(&r, &wanted));
        }
        // The same value, the same pseudonym, in every format.
        for m in &maps[1..] {
            for (k, v) in m {
                if let Some(first) = maps[0].get(k) {
                    prop_assert_eq!(first, v);
                }
            }
        }
        // Two clients in one /24 share a pseudonym network.
        let m = &maps[1];
        for a in &i.clients {
            for b in &i.clients {
                if a[..3] == b[..3] {
                    let pa = &m[&format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3])];
                    let pb = &m[&format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3])];
                    prop_assert_eq!(pa.rsplit_once('.').unwrap().0, pb.rsplit_once('.').unwrap().0);
                }
            }
        }
    }

    #[test]
    fn sarif_fingerprints_are_the_same_before_and_after(i in incident()) {
        let report = analyzer().analyze_str("a.log", &logs(&i));
        let out = render(&report, "sarif");
        let (redacted, _) = redact_output(&report, &out).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let prints = |s: &str| -> Vec<String> {
            let v: serde_json::Value = serde_json::from_str(s).unwrap();
            v["runs"][0]["results"].as_array().unwrap().iter()
                .map(|r| r["partialFingerprints"]["hsmdiag/v1"].as_str().unwrap().to_owned())
                .collect()
        };
        prop_assert_eq!(prints(&out), prints(&redacted));
    }

    #[test]
    fn a_planted_secret_is_caught(i in incident(), token in "[A-Za-z0-9]{16,32}") {
        let report = analyzer().analyze_str("a.log", &logs(&i));
        let out = render(&report, "markdown");
        let (redacted, r) = redact_output(&report, &out).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(r.check(&redacted).is_ok());
        let planted = format!("{redacted}\nAuthorization: Bearer {token}\n");
        prop_assert!(r.check(&planted).is_err());
        let original = format!("{redacted}\n{}\n", i.clients.iter().map(|c| format!("{}.{}.{}.{}", c[0], c[1], c[2], c[3])).collect::<Vec<_>>().join(" "));
        prop_assert!(r.check(&original).is_err(), "an original address put back is caught");
    }
}

// Planted secrets: identifiers and secrets of every class, in the places real
// inputs put them (an appliance's syslog, Azure CLI and PowerShell output, JSON
// with escaped Windows paths, a Luna client session on Windows), analysed with
// `--redact --unrecognized` in every format. Not one planted value may be left
// in the bytes written, in any letter case or escaped form, and the leak check
// must let the output through (no false refusal).

use std::path::{Path, PathBuf};
use std::process::Command;

/// A value planted in the inputs: its class, the placeholder it fills in the
/// inputs' templates, and the value the fixed corpus gives it.
struct Planted {
    class: &'static str,
    key: &'static str,
    value: &'static str,
}

const PLANTED: &[Planted] = &[
    Planted {
        class: "IPv4 client",
        key: "ip4a",
        value: "10.77.1.23",
    },
    Planted {
        class: "IPv4 in another /24",
        key: "ip4b",
        value: "10.77.9.41",
    },
    Planted {
        class: "IPv6 compressed",
        key: "ip6c",
        value: "fd12:3456:789a::23",
    },
    Planted {
        class: "IPv6 full",
        key: "ip6f",
        value: "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
    },
    Planted {
        class: "MAC",
        key: "mac",
        value: "00:1a:2b:3c:4d:5e",
    },
    Planted {
        class: "syslog host",
        key: "host",
        value: "hsmprod07",
    },
    Planted {
        class: "FQDN",
        key: "fqdn",
        value: "hsm07.corp.contoso.com",
    },
    Planted {
        class: "client name with a suffix",
        key: "client",
        value: "lunaclient07",
    },
    Planted {
        class: "subscription GUID",
        key: "sub",
        value: "3f2c8a61-7d4e-4b9a-9c1e-5a0d2b7e4f19",
    },
    Planted {
        class: "upper-case GUID",
        key: "guidu",
        value: "72F988BF-86F1-41AF-91AB-2D7CD011DB47",
    },
    Planted {
        class: "dashless GUID",
        key: "guidx",
        value: "c0ffee11deadbeef0123456789abcdef",
    },
    Planted {
        class: "resource group",
        key: "rg",
        value: "hsm-prod-rg",
    },
    Planted {
        class: "VNet",
        key: "vnet",
        value: "hsm-prod-vnet",
    },
    Planted {
        class: "subnet",
        key: "subnet",
        value: "hsmsubnet01",
    },
    Planted {
        class: "--name argument",
        key: "namearg",
        value: "prodhsm07",
    },
    Planted {
        class: "storage account",
        key: "acct",
        value: "prodlogsacct",
    },
    Planted {
        class: "SAS signature",
        key: "sig",
        value: "AbCdEf1234567890XyZ",
    },
    Planted {
        class: "account key",
        key: "key",
        value: "Zm9vYmFyYmF6cXV4cXV1eA==",
    },
    Planted {
        class: "certificate subject CN",
        key: "cn",
        value: "alice-laptop",
    },
    Planted {
        class: "certificate subject O",
        key: "org",
        value: "Contoso Ltd",
    },
    Planted {
        class: "Windows user in a path",
        key: "user",
        value: "alice",
    },
    Planted {
        class: "Windows user in a prompt",
        key: "puser",
        value: "bobsmith",
    },
    Planted {
        class: "e-mail",
        key: "mail",
        value: "ops.admin@contoso.com",
    },
    Planted {
        class: "JWT",
        key: "jwt",
        value: "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc123def456",
    },
    Planted {
        class: "bearer token",
        key: "bearer",
        value: "ya29.Gl2kBhQx7Lm3Vn9Rt5Wq",
    },
    Planted {
        class: "password option",
        key: "pw",
        value: "S3cr3tPa55w0rd",
    },
    Planted {
        class: "HA member serial",
        key: "serial",
        value: "1238700701509",
    },
    Planted {
        class: "HA group label",
        key: "label",
        value: "prodHA",
    },
];

/// The fixed corpus: every placeholder filled with its value.
fn fixed() -> BTreeMap<&'static str, String> {
    PLANTED
        .iter()
        .map(|p| (p.key, p.value.to_owned()))
        .collect()
}

/// The inputs' templates filled with `values`; `{SUB}` is the subscription
/// in upper case.
fn fill(values: &BTreeMap<&'static str, String>) -> Vec<(&'static str, String)> {
    TEMPLATES
        .iter()
        .map(|(name, text)| {
            let mut t = text.replace("{SUB}", &values["sub"].to_uppercase());
            for (k, v) in values {
                t = t.replace(&format!("{{{k}}}"), v);
            }
            (*name, t)
        })
        .collect()
}

fn inputs(dir: &Path) -> Vec<PathBuf> {
    fill(&fixed())
        .iter()
        .map(|(name, text)| {
            let p = dir.join(name);
            std::fs::write(&p, text).unwrap();
            p
        })
        .collect()
}

const TEMPLATES: &[(&str, &str)] = &[
    (
        "lunalogs",
        "2026 Mar 01 10:05:00 {host}  local5 info  NTLS [2490]: info : 0 : Incoming connection request... : {ip4a}/59415\n\
         2026 Mar 01 10:05:00 {host}  local5 info  NTLS [2490]: Error message from SSLAccept is : error:14094418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca\n\
         2026 Mar 01 10:05:00 {host}  local5 info  NTLS [2490]: Error during SSL accept ( RC_SSL_ERROR )\n\
         2026 Mar 01 10:05:00 {host}  local5 info  NTLS [2490]: info : 0xc0000711 : Fail to establish a secure channel with client : {ip4a}/59415 : RC_SSL_FAILED_HANDSHAKE\n\
         2026 Mar 01 10:06:10 {host}  local5 info  lunash [3301]: info : 0 : Command: hsm login -password {pw}  : tenantadmin : {ip4b}/52210\n\
         2026 Mar 01 10:06:12 {host}  local5 info  lunash [3301]: eth0 link {ip6c} hwaddr {mac} peer {ip6f}\n",
    ),
    (
        "az-deploy.txt",
        "PS C:\\Users\\{puser}> az dedicated-hsm create --resource-group {rg} --name {namearg} --subscription {SUB}\n\
         ERROR: (SubnetMissingRequiredDelegation) Subnet {subnet} in VNET {vnet} is missing a delegation to Microsoft.HardwareSecurityModules/dedicatedHSMs.\n\
         Code: SubnetMissingRequiredDelegation\n\
         Message: Subnet {subnet} in VNET {vnet} is missing a delegation to Microsoft.HardwareSecurityModules/dedicatedHSMs.\n\
         Target: /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks/{vnet}/subnets/{subnet}\n\
         upload log to https://{acct}.blob.core.windows.net/logs/run.txt?sv=2022-11-02&sig={sig}\n\
         DefaultEndpointsProtocol=https;AccountName={acct};AccountKey={key};EndpointSuffix=core.windows.net\n\
         {\"caller\": \"{mail}\", \"logFile\": \"C:\\\\Users\\\\{user}\\\\Documents\\\\deploy.log\", \"tenantId\": \"{guidu}\", \"objectId\": \"{guidx}\"}\n\
         Authorization: Bearer {bearer}\n\
         token: {jwt}\n",
    ),
    (
        "client-session.txt",
        "PS C:\\Users\\{user}\\luna> vtl createCert -n {client}\n\
         Private Key created and written to: C:\\Users\\{user}\\luna\\cert\\client\\{client}Key.pem\n\
         Certificate created and written to: C:\\Users\\{user}\\luna\\cert\\client\\{client}.pem\n\
         subject=CN={cn}, O={org}\n\
         PS C:\\Users\\{user}\\luna> vtl addServer -n {fqdn} -c server.pem\n\
         New server {fqdn} successfully added to server list.\n\
         lunacm:> hagroup listgroups\n\
         \x20\x20\x20\x20HA Group Label:  {label}\n\
         \x20\x20\x20\x20Slot #    Member S/N                      Member Label    Status\n\
         \x20\x20\x20\x20------    {serial}                   par7            down\n\
         Command Result : No Error\n",
    ),
];

fn leaks(out: &str) -> Vec<&'static str> {
    leaks_of(out, &fixed())
}

/// The classes of the values in `values` that are left in `out`, in any
/// letter case, raw or JSON-escaped, whatever follows them — where they start
/// a word (`pper` in "wrapper" is not the user `pper`).
fn leaks_of(out: &str, values: &BTreeMap<&'static str, String>) -> Vec<&'static str> {
    let lower = out.to_lowercase();
    let starts_word = |v: &str| {
        lower.match_indices(v).any(|(i, _)| {
            !v.starts_with(|c: char| c.is_alphanumeric())
                || !lower[..i].ends_with(|c: char| c.is_alphanumeric())
        })
    };
    PLANTED
        .iter()
        .filter(|p| {
            let v = values[p.key].to_lowercase();
            starts_word(&v) || starts_word(&v.replace('\\', "\\\\"))
        })
        .map(|p| p.class)
        .collect()
}

/// Runs hsmdiag; demands it wrote something and did not refuse.
fn run(what: &str, args: &[&std::ffi::OsStr]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_hsmdiag"))
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(
        out.status.code(),
        Some(2),
        "{what}: refused or failed: {stderr}"
    );
    stdout
}

/// Every file under `dir`, read as text.
fn read_tree(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(read_tree(&p));
        } else {
            out.push((
                p.clone(),
                String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned(),
            ));
        }
    }
    out
}

#[test]
fn planted_values_are_gone_from_every_format() {
    let dir = std::env::temp_dir().join(format!("hsmdiag-planted-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let input_dir = dir.join("in");
    std::fs::create_dir_all(&input_dir).unwrap();
    let files = inputs(&input_dir);
    let files: Vec<&std::ffi::OsStr> = files.iter().map(|p| p.as_os_str()).collect();
    let os = |s: &'static str| std::ffi::OsStr::new(s);
    let mut outputs: Vec<(String, String)> = Vec::new();
    for format in ["text", "json", "jsonl", "markdown", "sarif", "html"] {
        let mut args = vec![
            os("--redact"),
            os("--unrecognized"),
            os("--year"),
            os("2026"),
            os("--format"),
            std::ffi::OsStr::new(format),
        ];
        args.extend(&files);
        outputs.push((format.to_owned(), run(format, &args)));
    }
    // The timeline shows every line, not only the evidence.
    for (what, extra) in [("timeline", None), ("timeline --json", Some(os("--json")))] {
        let mut args = vec![os("timeline"), os("--redact"), os("--year"), os("2026")];
        args.extend(extra);
        args.extend(&files);
        outputs.push((what.to_owned(), run(what, &args)));
    }
    // diff: an unredacted JSON report before, the logs after.
    let before = dir.join("before.json");
    let mut args = vec![
        os("--format"),
        os("json"),
        os("--year"),
        os("2026"),
        os("-o"),
        before.as_os_str(),
    ];
    args.extend(&files);
    run("report for diff", &args);
    for format in ["text", "json"] {
        let what = format!("diff --format {format}");
        let args = [
            os("diff"),
            os("--redact"),
            os("--format"),
            std::ffi::OsStr::new(format),
            os("--year"),
            os("2026"),
            before.as_os_str(),
            input_dir.as_os_str(),
        ];
        outputs.push((what.clone(), run(&what, &args)));
    }
    // The bundle, every file in it (redacted by default).
    let bundle = dir.join("bundle");
    let mut args = vec![
        os("bundle"),
        os("--year"),
        os("2026"),
        os("-o"),
        bundle.as_os_str(),
    ];
    args.extend(&files);
    run("bundle", &args);
    for (path, text) in read_tree(&bundle) {
        let name = path.strip_prefix(&bundle).unwrap().display().to_string();
        outputs.push((format!("bundle {name}"), text));
    }
    let mut report = Vec::new();
    for (what, out) in &outputs {
        assert!(!out.is_empty(), "{what}: nothing written");
        let left = leaks(out);
        report.push(format!("{what}: {} leak(s) {left:?}", left.len()));
        assert!(left.is_empty(), "{what} leaks {left:?}:\n{out}");
    }
    assert!(outputs.len() >= 15, "{}", report.join("\n"));
    // The map holds them all, for the one who keeps it, and only for them.
    let map = dir.join("map.json");
    let status = Command::new(env!("CARGO_BIN_EXE_hsmdiag"))
        .args([
            "--redact",
            "--unrecognized",
            "--year",
            "2026",
            "--redact-map",
        ])
        .arg(&map)
        .args(&files)
        .output()
        .unwrap()
        .status;
    assert_ne!(status.code(), Some(2));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&map).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the map is the owner's alone");
        // Never written through a symbolic link.
        let link = dir.join("link.json");
        let target = dir.join("elsewhere.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_hsmdiag"))
            .args(["--redact", "--redact-map"])
            .arg(&link)
            .args(&files)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(!target.exists(), "written through the link");
    }
    eprintln!("{}", report.join("\n"));
    if std::env::var_os("HSMDIAG_TEST_KEEP").is_none() {
        std::fs::remove_dir_all(&dir).ok();
    }
}

/// Pseudonyms never wrap: 600 /24 networks keep 600 distinct networks, and no
/// pseudonym is a real value of the input.
#[test]
fn pseudonyms_never_collide() {
    let mut text = String::new();
    for k in 0..600u32 {
        text.push_str(&format!("client 10.{}.{}.7 failed\n", k / 256, k % 256));
    }
    // A real address in the pseudonym range itself.
    text.push_str("client 198.18.0.7 failed\n");
    let r = hsmdiag::redact::Redactor::discover([text.as_str()]);
    let mut seen = std::collections::HashSet::new();
    for m in r.mapping() {
        assert!(
            seen.insert(m.pseudonym.clone()),
            "{} given twice",
            m.pseudonym
        );
        assert_ne!(
            m.pseudonym, "198.18.0.7",
            "a pseudonym equal to a real address"
        );
    }
    let out = r.apply(&text);
    assert!(r.check(&out).is_ok());
}

/// Values of every planted class, drawn at random in the shapes real inputs
/// give them (addresses anywhere in the private and public ranges, GUIDs in
/// either case, names with digits and dashes, base64 keys, JWTs).
fn planted_values() -> impl Strategy<Value = BTreeMap<&'static str, String>> {
    let octet = || 1u8..=254;
    let ip4 = (11u8..=223, 0u8..=255, 0u8..=255, octet())
        .prop_filter("not loopback or 127/8", |(a, ..)| *a != 127)
        .prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}"));
    let hex4 = || "[0-9a-f]{4}";
    let guid = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}";
    let parts: Vec<BoxedStrategy<String>> = vec![
        ip4.clone().boxed(),
        ip4.boxed(),
        (hex4(), hex4(), hex4())
            .prop_map(|(a, b, c)| format!("fd{}:{b}:{c}::{}", &a[..2], &a[2..]))
            .boxed(),
        prop::collection::vec(hex4(), 8)
            .prop_map(|v| format!("2001:{}", v[1..].join(":")))
            .boxed(),
        prop::collection::vec("[0-9a-f]{2}", 6)
            .prop_map(|v| v.join(":"))
            .boxed(),
        "(hsm|luna|sa)[a-z]{2,6}[0-9]{2}".boxed(),
        "[a-z]{3,6}[0-9]{2}\\.[a-z]{3,6}\\.(corp|lab|int)\\.[a-z]{4,7}\\.(com|net|org)".boxed(),
        "(client|app|web)[a-z]{0,4}[0-9]{2}".boxed(),
        guid.boxed(),
        guid.prop_map(|g| g.to_uppercase()).boxed(),
        "[0-9a-f]{32}".boxed(),
        "[a-z]{3,8}-(prod|dev|test)-rg".boxed(),
        "[a-z]{3,8}-(prod|dev|test)-vnet".boxed(),
        "(hsm|sn)[a-z]{2,6}[0-9]{2}".boxed(),
        "(prod|dev)[a-z]{2,5}[0-9]{2}".boxed(),
        "[a-z]{6,10}(logs|store)[0-9]{0,3}".boxed(),
        "[A-Za-z0-9]{20,40}".boxed(),
        "[A-Za-z0-9+/]{28,40}==".boxed(),
        "[a-z]{3,7}-(laptop|build|jump)[0-9]{0,2}".boxed(),
        "[A-Z][a-z]{3,8} (Ltd|GmbH|Inc)".boxed(),
        "[a-z]{4,8}".boxed(),
        "[a-z]{4,8}[0-9]{0,2}".boxed(),
        "[a-z]{3,7}\\.[a-z]{3,7}@[a-z]{4,8}\\.(com|org)".boxed(),
        (
            "[A-Za-z0-9_-]{20,40}",
            "[A-Za-z0-9_-]{20,60}",
            "[A-Za-z0-9_-]{20,43}",
        )
            .prop_map(|(a, b, c)| format!("eyJ{a}.eyJ{b}.{c}"))
            .boxed(),
        "ya29\\.[A-Za-z0-9_-]{20,60}".boxed(),
        "[A-Za-z0-9!#%]{10,24}".boxed(),
        "[0-9]{6,13}".boxed(),
        "[a-z]{2,6}HA[0-9]{0,2}".boxed(),
    ];
    parts
        .prop_map(|values| {
            PLANTED
                .iter()
                .zip(values)
                .map(|(p, v)| (p.key, v))
                .collect::<BTreeMap<_, _>>()
        })
        // A value drawn as a word that the reports write themselves (`rank`,
        // a SARIF key) is no leak, but the check cannot tell: draw again.
        .prop_filter("no value is a word of the reports' own text", |m| {
            leaks_of(vocabulary(), m).is_empty()
        })
        .prop_filter("distinct values, none inside another", |m| {
            let v: Vec<&String> = m.values().collect();
            v.iter().enumerate().all(|(i, a)| {
                v.iter()
                    .enumerate()
                    .all(|(j, b)| i == j || !b.to_lowercase().contains(&a.to_lowercase()))
            })
        })
}

/// The filled templates written into `dir`, as inputs.
fn written(dir: &Path, values: &BTreeMap<&'static str, String>) -> Vec<hsmdiag::Input> {
    fill(values)
        .iter()
        .map(|(name, text)| {
            let p = dir.join(name);
            std::fs::write(&p, text).unwrap();
            hsmdiag::Input::file(p)
        })
        .collect()
}

/// The reports' own words: every format's redacted output of the fixed
/// planted corpus (rule texts, keys, the redactor's own names), in lower case.
fn vocabulary() -> &'static str {
    static WORDS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    WORDS.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("hsmdiag-vocabulary-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let inputs = written(&dir, &fixed());
        let (report, _) = analyzer().analyze(&inputs);
        let (ready, r) = hsmdiag::redact::prepare(&report);
        let words = FORMATS
            .iter()
            .map(|f| r.apply(&render(&ready, f)))
            .collect::<Vec<_>>()
            .join("\n")
            .to_lowercase();
        std::fs::remove_dir_all(&dir).ok();
        words
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    /// The planted corpus grown: every class drawn at random, in every input
    /// style, through every format with `--unrecognized`: nothing left, and the
    /// leak check lets the result through.
    #[test]
    fn planted_values_of_any_shape_are_gone(values in planted_values()) {
        static A: std::sync::OnceLock<Analyzer> = std::sync::OnceLock::new();
        let analyzer = A.get_or_init(|| {
            let mut b = hsmdiag::AnalyzerBuilder::new();
            b.unrecognized(true).year(Some(2026));
            b.build().unwrap()
        });
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "hsmdiag-grown-{}-{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let inputs = written(&dir, &values);
        let (report, errors) = analyzer.analyze(&inputs);
        prop_assert!(errors.is_empty());
        prop_assert!(report.findings.len() >= 3, "{} findings", report.findings.len());
        let (ready, r) = hsmdiag::redact::prepare(&report);
        for format in FORMATS {
            let out = render(&ready, format);
            let redacted = r.apply(&out);
            prop_assert!(r.check(&redacted).is_ok(), "{format}: refused: {:?}", r.check(&redacted).err().map(|l| l.to_string()));
            let left = leaks_of(&redacted, &values);
            prop_assert!(left.is_empty(), "{format} leaks {left:?}:\n{redacted}");
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}
