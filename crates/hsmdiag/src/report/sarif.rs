//! SARIF 2.1.0: the report for tools that read static-analysis results (code
//! scanning dashboards, ticket systems). Every rule is in `tool.driver.rules`
//! with its descriptions, help (text and Markdown), help URI and default level;
//! each finding is a result pointing at the log file and line of its first
//! evidence, with the other evidence and the causes and effects as related
//! locations. `partialFingerprints` are computed from the rule and the position
//! of the first evidence (input, line, column), so they stay the same when the
//! values in the log are redacted.

use std::io::Write;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::error::RenderError;
use super::rules::rule_markdown;
use crate::Report;
use crate::finding::{Evidence, Finding};
use crate::kb::{Rule, Severity};

/// The SARIF version written.
pub const SARIF_VERSION: &str = "2.1.0";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// `ntls.unknown_ca` → `NtlsUnknownCa`.
fn pascal(id: &str) -> String {
    id.split(['.', '_', '-'])
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// One line, ending with a period.
fn sentence(s: &str) -> String {
    let mut t = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if !t.ends_with(['.', '!', '?']) {
        t.push('.');
    }
    t
}

/// Percent-encodes a path for a URI: `/` separators kept, reserved and
/// non-ASCII bytes encoded.
fn encoded(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The URI of an input: relative to the folder hsmdiag runs in (`SRCROOT`)
/// when the input is in it, else an absolute `file://` URI (an absolute
/// path is never passed off as a relative one).
fn uri(name: &str) -> String {
    if name == "-" || name == "<stdin>" || name == "stdin" {
        return "stdin".to_owned();
    }
    let name = name.replace('\\', "/");
    // An archive member (`logs.tgz!var/log/messages`) is placed by its archive.
    let (file, member) = match name.split_once('!') {
        Some((f, m)) => (f.to_owned(), Some(m)),
        None => (name.clone(), None),
    };
    let path = std::path::Path::new(&file);
    let windows_abs =
        file.as_bytes().get(1) == Some(&b':') && file.as_bytes().get(2) == Some(&b'/');
    let rel = if path.is_absolute() || windows_abs {
        let cwd = std::env::current_dir().ok();
        cwd.as_deref()
            .and_then(|c| path.strip_prefix(c).ok())
            .map(|r| r.to_string_lossy().replace('\\', "/"))
    } else {
        Some(file.trim_start_matches("./").to_owned())
    };
    let member = member
        .map(|m| format!("%21{}", encoded(m)))
        .unwrap_or_default();
    match rel {
        Some(r) => format!("{}{member}", encoded(&r)),
        None => {
            let lead = if file.starts_with('/') { "" } else { "/" };
            format!("file://{lead}{}{member}", encoded(&file))
        }
    }
}

/// Where a URI stands: relative ones on `SRCROOT`.
fn artifact_location(u: &str) -> Value {
    if u.starts_with("file://") {
        json!({ "uri": u })
    } else {
        json!({ "uri": u, "uriBaseId": "SRCROOT" })
    }
}

/// The positional fingerprint, and the finding's own key when it has one.
fn partial_fingerprints(f: &Finding) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("hsmdiag/v1".into(), Value::String(fingerprint(f)));
    if !f.fingerprint.is_empty() {
        m.insert(
            "hsmdiag/finding".into(),
            Value::String(f.fingerprint.clone()),
        );
    }
    Value::Object(m)
}

fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// The fingerprint of a finding that survives redaction: the rule, and the
/// input, line and column of its first evidence — none of which redaction
/// changes, unlike the addresses, names and ids in the text.
pub fn fingerprint(f: &Finding) -> String {
    let mut h = Sha256::new();
    h.update(f.code.as_str().as_bytes());
    h.update([0]);
    h.update(f.id.as_bytes());
    if let Some(e) = f.evidence.first() {
        h.update([0]);
        h.update(e.source_id.0.to_le_bytes());
        h.update(e.line.to_le_bytes());
        h.update(e.column.to_le_bytes());
    }
    let digest = h.finalize();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

fn region(e: &Evidence) -> Value {
    let (start, end) = match &e.label {
        Some((r, _))
            if r.end <= e.text.len()
                && e.text.is_char_boundary(r.start)
                && e.text.is_char_boundary(r.end) =>
        {
            (r.start, r.end)
        }
        _ => (0, e.text.len()),
    };
    let lead = e.column as usize;
    let start_col = 1 + lead + utf16_len(&e.text[..start]);
    let end_col = 1 + lead + utf16_len(&e.text[..end]);
    let mut r = json!({
        "startLine": e.line.max(1),
        "startColumn": start_col,
        "snippet": { "text": e.text },
    });
    if end_col > start_col {
        r["endColumn"] = json!(end_col);
    }
    r
}

fn location(artifacts: &[String], source: &str, region: Value) -> Value {
    let u = uri(source);
    let index = artifacts.iter().position(|a| *a == u);
    let mut art = artifact_location(&u);
    if let Some(i) = index {
        art["index"] = json!(i);
    }
    json!({ "physicalLocation": { "artifactLocation": art, "region": region } })
}

/// Where to learn about hsmdiag: the package's repository or home page, when
/// Cargo.toml names one.
fn information_uri() -> Option<&'static str> {
    [env!("CARGO_PKG_REPOSITORY"), env!("CARGO_PKG_HOMEPAGE")]
        .into_iter()
        .find(|u| !u.is_empty())
}

/// The SARIF log for a report, as a JSON value.
pub fn sarif(report: &Report, rules: &[Rule]) -> Value {
    let driver_rules: Vec<Value> = rules
        .iter()
        .map(|r| {
            let help_text = r
                .remediation
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let mut line = format!("{}. ", i + 1);
                    if s.destructive {
                        line.push_str("DESTRUCTIVE: ");
                    }
                    line.push_str(&s.step.render(|_| None));
                    if let Some(c) = &s.command {
                        line.push_str(&format!(" — `{}`", c.render(|_| None)));
                    }
                    line
                })
                .collect::<Vec<_>>()
                .join("\n");
            let mut rule = json!({
                "id": r.code.as_str(),
                "name": pascal(&r.id),
                "shortDescription": { "text": sentence(&r.title) },
                "fullDescription": { "text": sentence(if r.meaning.trim().is_empty() { &r.title } else { &r.meaning }) },
                "help": { "text": help_text, "markdown": rule_markdown(r, 2) },
                "defaultConfiguration": { "level": level(r.severity) },
                "properties": {
                    "id": r.id,
                    "owner": r.owner,
                    "tags": [r.id.split('.').next().unwrap_or_default()],
                },
            });
            let repository = option_env!("CARGO_PKG_REPOSITORY");
            if let Some(u) = super::rules::help_uri(r, repository, env!("CARGO_PKG_VERSION")) {
                rule["helpUri"] = json!(u);
            }
            rule
        })
        .collect();
    let artifacts: Vec<String> = report
        .summary
        .sources
        .iter()
        .map(|s| uri(&s.name))
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let rule_index = rules.iter().position(|r| r.code == f.code);
            let mut related = Vec::new();
            let mut id = 1;
            for e in f.evidence.iter().skip(1) {
                let mut l = location(&artifacts, &e.source, region(e));
                l["id"] = json!(id);
                l["message"] = json!({ "text": sentence(
                    e.label.as_ref().and_then(|(_, n)| n.as_deref()).unwrap_or("More evidence")
                ) });
                related.push(l);
                id += 1;
            }
            for r in &f.related {
                let reg = json!({
                    "startLine": r.line.max(1),
                    "startColumn": 1,
                    "snippet": { "text": r.text },
                });
                let mut l = location(&artifacts, &r.source, reg);
                l["id"] = json!(id);
                l["message"] = json!({ "text": sentence(&format!("{}: {}", r.relation, r.note)) });
                related.push(l);
                id += 1;
            }
            let message = f.message.as_deref().unwrap_or(&f.title);
            let mut res = json!({
                "ruleId": f.code.as_str(),
                "level": level(f.severity),
                "message": { "text": sentence(message) },
                "partialFingerprints": partial_fingerprints(f),
                "properties": {
                    "id": f.id,
                    "severity": f.severity,
                    "subject": f.subject,
                    "count": f.count,
                    "owner": f.owner,
                    "channel": f.channel,
                },
            });
            if let Some(i) = rule_index {
                res["ruleIndex"] = json!(i);
            }
            if let Some(e) = f.evidence.first() {
                res["locations"] = json!([location(&artifacts, &e.source, region(e))]);
            }
            if !related.is_empty() {
                res["relatedLocations"] = json!(related);
            }
            if let Some(t) = f.first_seen {
                res["properties"]["firstSeen"] = json!(t);
            }
            if let Some(t) = f.last_seen {
                res["properties"]["lastSeen"] = json!(t);
            }
            if let Some(c) = &f.chain {
                res["properties"]["chain"] = json!(c);
            }
            if let Some(file) = &f.rule_file {
                res["properties"]["ruleFile"] = json!(file);
            }
            res
        })
        .collect();
    let mut log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": SARIF_VERSION,
        "runs": [{
            "tool": { "driver": {
                "name": "hsmdiag",
                "fullName": "hsmdiag: Azure Dedicated HSM (Thales Luna 7) log diagnosis",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": driver_rules,
            } },
            "originalUriBaseIds": { "SRCROOT": { "description": { "text": "The directory hsmdiag was run in." } } },
            "artifacts": artifacts.iter().map(|u| json!({
                "location": artifact_location(u),
                "roles": ["analysisTarget"],
                "mimeType": "text/plain",
            })).collect::<Vec<_>>(),
            "columnKind": "utf16CodeUnits",
            "invocations": [{ "executionSuccessful": report.summary.unreadable.is_empty() }],
            "results": results,
        }],
    });
    if let Some(u) = information_uri() {
        log["runs"][0]["tool"]["driver"]["informationUri"] = json!(u);
    }
    log
}

/// Writes the report as SARIF 2.1.0.
///
/// # Errors
/// [`RenderError`] when writing fails.
pub fn write_sarif(report: &Report, rules: &[Rule], w: &mut dyn Write) -> Result<(), RenderError> {
    serde_json::to_writer_pretty(&mut *w, &sarif(report, rules))?;
    w.write_all(b"\n")?;
    w.flush()?;
    Ok(())
}
