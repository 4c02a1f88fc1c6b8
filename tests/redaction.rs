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
