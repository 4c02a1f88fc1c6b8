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

const FORMATS: [&str; 5] = ["text", "json", "jsonl", "markdown", "sarif"];

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

/// A value planted in the inputs, and its class.
struct Planted {
    class: &'static str,
    value: &'static str,
}

const PLANTED: &[Planted] = &[
    Planted {
        class: "IPv4 client",
        value: "10.77.1.23",
    },
    Planted {
        class: "IPv4 in another /24",
        value: "10.77.9.41",
    },
    Planted {
        class: "IPv6 compressed",
        value: "fd12:3456:789a::23",
    },
    Planted {
        class: "IPv6 full",
        value: "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
    },
    Planted {
        class: "MAC",
        value: "00:1a:2b:3c:4d:5e",
    },
    Planted {
        class: "syslog host",
        value: "hsmprod07",
    },
    Planted {
        class: "FQDN",
        value: "hsm07.corp.contoso.com",
    },
    Planted {
        class: "client name with a suffix",
        value: "lunaclient07",
    },
    Planted {
        class: "subscription GUID",
        value: "3f2c8a61-7d4e-4b9a-9c1e-5a0d2b7e4f19",
    },
    Planted {
        class: "upper-case GUID",
        value: "72F988BF-86F1-41AF-91AB-2D7CD011DB47",
    },
    Planted {
        class: "dashless GUID",
        value: "c0ffee11deadbeef0123456789abcdef",
    },
    Planted {
        class: "resource group",
        value: "hsm-prod-rg",
    },
    Planted {
        class: "VNet",
        value: "hsm-prod-vnet",
    },
    Planted {
        class: "subnet",
        value: "hsmsubnet01",
    },
    Planted {
        class: "--name argument",
        value: "prodhsm07",
    },
    Planted {
        class: "storage account",
        value: "prodlogsacct",
    },
    Planted {
        class: "SAS signature",
        value: "AbCdEf1234567890XyZ",
    },
    Planted {
        class: "account key",
        value: "Zm9vYmFyYmF6cXV4cXV1eA==",
    },
    Planted {
        class: "certificate subject CN",
        value: "alice-laptop",
    },
    Planted {
        class: "certificate subject O",
        value: "Contoso Ltd",
    },
    Planted {
        class: "Windows user in a path",
        value: "alice",
    },
    Planted {
        class: "Windows user in a prompt",
        value: "bobsmith",
    },
    Planted {
        class: "e-mail",
        value: "ops.admin@contoso.com",
    },
    Planted {
        class: "JWT",
        value: "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc123def456",
    },
    Planted {
        class: "bearer token",
        value: "ya29.Gl2kBhQx7Lm3Vn9Rt5Wq",
    },
    Planted {
        class: "password option",
        value: "S3cr3tPa55w0rd",
    },
    Planted {
        class: "HA member serial",
        value: "1238700701509",
    },
    Planted {
        class: "HA group label",
        value: "prodHA",
    },
];

fn inputs(dir: &Path) -> Vec<PathBuf> {
    let files = [
        (
            "lunalogs",
            "2026 Mar 01 10:05:00 hsmprod07  local5 info  NTLS [2490]: info : 0 : Incoming connection request... : 10.77.1.23/59415\n\
             2026 Mar 01 10:05:00 hsmprod07  local5 info  NTLS [2490]: Error message from SSLAccept is : error:14094418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca\n\
             2026 Mar 01 10:05:00 hsmprod07  local5 info  NTLS [2490]: Error during SSL accept ( RC_SSL_ERROR )\n\
             2026 Mar 01 10:05:00 hsmprod07  local5 info  NTLS [2490]: info : 0xc0000711 : Fail to establish a secure channel with client : 10.77.1.23/59415 : RC_SSL_FAILED_HANDSHAKE\n\
             2026 Mar 01 10:06:10 hsmprod07  local5 info  lunash [3301]: info : 0 : Command: hsm login -password S3cr3tPa55w0rd  : tenantadmin : 10.77.9.41/52210\n\
             2026 Mar 01 10:06:12 hsmprod07  local5 info  lunash [3301]: eth0 link fd12:3456:789a::23 hwaddr 00:1a:2b:3c:4d:5e peer 2001:0db8:85a3:0000:0000:8a2e:0370:7334\n",
        ),
        (
            "az-deploy.txt",
            "PS C:\\Users\\bobsmith> az dedicated-hsm create --resource-group hsm-prod-rg --name prodhsm07 --subscription 3F2C8A61-7D4E-4B9A-9C1E-5A0D2B7E4F19\n\
             ERROR: (SubnetMissingRequiredDelegation) Subnet hsmsubnet01 in VNET hsm-prod-vnet is missing a delegation to Microsoft.HardwareSecurityModules/dedicatedHSMs.\n\
             Code: SubnetMissingRequiredDelegation\n\
             Message: Subnet hsmsubnet01 in VNET hsm-prod-vnet is missing a delegation to Microsoft.HardwareSecurityModules/dedicatedHSMs.\n\
             Target: /subscriptions/3f2c8a61-7d4e-4b9a-9c1e-5a0d2b7e4f19/resourceGroups/hsm-prod-rg/providers/Microsoft.Network/virtualNetworks/hsm-prod-vnet/subnets/hsmsubnet01\n\
             upload log to https://prodlogsacct.blob.core.windows.net/logs/run.txt?sv=2022-11-02&sig=AbCdEf1234567890XyZ\n\
             DefaultEndpointsProtocol=https;AccountName=prodlogsacct;AccountKey=Zm9vYmFyYmF6cXV4cXV1eA==;EndpointSuffix=core.windows.net\n\
             {\"caller\": \"ops.admin@contoso.com\", \"logFile\": \"C:\\\\Users\\\\alice\\\\Documents\\\\deploy.log\", \"tenantId\": \"72F988BF-86F1-41AF-91AB-2D7CD011DB47\", \"objectId\": \"c0ffee11deadbeef0123456789abcdef\"}\n\
             Authorization: Bearer ya29.Gl2kBhQx7Lm3Vn9Rt5Wq\n\
             token: eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc123def456\n",
        ),
        (
            "client-session.txt",
            "PS C:\\Users\\alice\\luna> vtl createCert -n lunaclient07\n\
             Private Key created and written to: C:\\Users\\alice\\luna\\cert\\client\\lunaclient07Key.pem\n\
             Certificate created and written to: C:\\Users\\alice\\luna\\cert\\client\\lunaclient07.pem\n\
             subject=CN=alice-laptop, O=Contoso Ltd\n\
             PS C:\\Users\\alice\\luna> vtl addServer -n hsm07.corp.contoso.com -c server.pem\n\
             New server hsm07.corp.contoso.com successfully added to server list.\n\
             lunacm:> hagroup listgroups\n\
             \x20\x20\x20\x20HA Group Label:  prodHA\n\
             \x20\x20\x20\x20Slot #    Member S/N                      Member Label    Status\n\
             \x20\x20\x20\x20------    1238700701509                   par7            down\n\
             Command Result : No Error\n",
        ),
    ];
    files
        .iter()
        .map(|(name, text)| {
            let p = dir.join(name);
            std::fs::write(&p, text).unwrap();
            p
        })
        .collect()
}

fn leaks(out: &str) -> Vec<&'static str> {
    let lower = out.to_lowercase();
    PLANTED
        .iter()
        .filter(|p| {
            let v = p.value.to_lowercase();
            lower.contains(&v) || lower.contains(&v.replace('\\', "\\\\"))
        })
        .map(|p| p.class)
        .collect()
}

#[test]
fn planted_values_are_gone_from_every_format() {
    let dir = std::env::temp_dir().join(format!("hsmdiag-planted-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let files = inputs(&dir);
    let mut report = Vec::new();
    for format in ["text", "json", "jsonl", "markdown", "sarif"] {
        let out = Command::new(env!("CARGO_BIN_EXE_hsmdiag"))
            .env("NO_COLOR", "1")
            .args([
                "--redact",
                "--unrecognized",
                "--year",
                "2026",
                "--format",
                format,
            ])
            .args(&files)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_ne!(
            out.status.code(),
            Some(2),
            "{format}: refused or failed: {stderr}"
        );
        assert!(!stdout.is_empty(), "{format}: nothing written");
        let left = leaks(&stdout);
        report.push(format!("{format}: {} leak(s) {left:?}", left.len()));
        assert!(left.is_empty(), "{format} leaks {left:?}:\n{stdout}");
    }
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
