//! The HTML report in a real browser: headless Chromium loads the page of
//! `samples/incident/`, the test reads the DOM it built (every finding there,
//! a lane per input), takes a screenshot (`target/html-report/incident.png`),
//! and sees no console message; the W3C validator (vnu) finds nothing wrong.
//! CI installs both (.ci/run); elsewhere each part says when its tool is
//! missing.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(root!())
}

/// The page and the JSON report of the same inputs.
fn render(dir: &Path) -> (PathBuf, serde_json::Value) {
    let page = dir.join("report.html");
    let json = dir.join("report.json");
    for (format, out) in [("html", &page), ("json", &json)] {
        let o = Command::new(env!("CARGO_BIN_EXE_hsmdiag"))
            .current_dir(root())
            .env("HSMDIAG_CONFIG", "")
            .args(["--format", format, "-o"])
            .arg(out)
            .arg("samples/incident")
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let report = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    (page, report)
}

fn find_on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|d| names.iter().map(move |n| d.join(n)))
        .find(|p| p.is_file())
}

fn chromium() -> Option<PathBuf> {
    std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| find_on_path(&["chromium", "chromium-browser", "google-chrome"]))
}

fn missing(what: &str, how: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must install {what} (see .ci/run)"
    );
    crate::skipped(&format!("{what} is not installed ({how})"));
}

#[test]
fn the_page_stands_alone() {
    let dir = crate::scratch("html-alone");
    let (page, report) = render(&dir);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    for outside in [
        "<script",
        "<link",
        " src=",
        "@import",
        "url(http",
        "@font-face",
    ] {
        assert!(
            !html.contains(outside),
            "the page refers outside itself: {outside}"
        );
    }
    for f in report["findings"].as_array().unwrap() {
        let code = f["code"].as_str().unwrap();
        assert!(html.contains(&format!("data-code=\"{code}\"")), "{code}");
    }
    // Destructive steps are marked, the checklist has a box per step.
    let steps: usize = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["remediation_steps"].as_array().unwrap().len())
        .sum();
    assert_eq!(html.matches("<input type=\"checkbox\">").count(), steps);
    assert!(html.contains("<span class=\"destructive\">DESTRUCTIVE</span>"));
    assert!(html.contains("@media print"));
}

#[test]
fn chromium_draws_every_finding_and_a_lane_per_input() {
    let Some(browser) = chromium() else {
        missing(
            "chromium",
            "apt-get install chromium, or name it in CHROMIUM",
        );
        return;
    };
    let dir = crate::scratch("html-browser");
    let (page, report) = render(&dir);
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    let headless = |extra: &[&str]| {
        Command::new(&browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--hide-scrollbars",
                "--enable-logging=stderr",
                "--v=0",
            ])
            .arg(format!("--user-data-dir={}", dir.join("profile").display()))
            .args(extra)
            .arg(&url)
            .output()
            .expect("chromium runs")
    };
    let dom = headless(&["--dump-dom"]);
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let dom_text = String::from_utf8_lossy(&dom.stdout);
    let findings = report["findings"].as_array().unwrap();
    let articles = dom_text.matches("<article class=\"finding").count();
    assert_eq!(articles, findings.len(), "one article per finding");
    for f in findings {
        let code = f["code"].as_str().unwrap();
        assert!(
            dom_text.contains(&format!(
                "<article class=\"finding {}\" id=",
                f["severity"].as_str().unwrap()
            )) && dom_text.contains(&format!(
                "data-code=\"{code}\" data-id=\"{}\"",
                f["id"].as_str().unwrap()
            )),
            "{code} is not in the page"
        );
    }
    let inputs = report["summary"]["inputs"].as_u64().unwrap() as usize;
    assert_eq!(
        dom_text.matches("class=\"lane-group\"").count(),
        inputs,
        "a lane per input"
    );
    assert!(dom_text.contains(&format!("data-lanes=\"{inputs}\"")));
    // A cause → effect arrow for the regenerated certificate and the
    // gateway, and failures counted per minute.
    assert!(
        dom_text.matches("class=\"arrow\"").count() >= 2,
        "cause arrows"
    );
    assert!(dom_text.contains("failures per minute"));
    let shots = root().join("target/html-report");
    std::fs::create_dir_all(&shots).unwrap();
    let png = shots.join("incident.png");
    let _ = std::fs::remove_file(&png);
    let shot = headless(&[
        "--window-size=1280,2400",
        &format!("--screenshot={}", png.display()),
    ]);
    assert!(
        shot.status.success(),
        "{}",
        String::from_utf8_lossy(&shot.stderr)
    );
    let bytes = std::fs::read(&png).expect("a screenshot");
    assert!(
        bytes.starts_with(b"\x89PNG") && bytes.len() > 20_000,
        "{} bytes",
        bytes.len()
    );
    // Printed: evidence in full (the print-only blocks), as a PDF.
    let pdf = shots.join("incident.pdf");
    let _ = std::fs::remove_file(&pdf);
    let printed = headless(&[
        "--no-pdf-header-footer",
        &format!("--print-to-pdf={}", pdf.display()),
    ]);
    assert!(
        printed.status.success(),
        "{}",
        String::from_utf8_lossy(&printed.stderr)
    );
    let bytes = std::fs::read(&pdf).expect("a PDF");
    assert!(
        bytes.starts_with(b"%PDF") && bytes.len() > 20_000,
        "{} bytes",
        bytes.len()
    );
    // No console message while the page loaded, any time.
    for stderr in [&dom.stderr, &shot.stderr, &printed.stderr] {
        let console: Vec<String> = String::from_utf8_lossy(stderr)
            .lines()
            .filter(|l| l.contains(":CONSOLE") || l.contains("Failed to load resource"))
            .map(str::to_owned)
            .collect();
        assert!(console.is_empty(), "console messages: {console:#?}");
    }
    eprintln!("screenshot: {}", png.display());
}

#[test]
fn the_w3c_validator_finds_nothing() {
    let jar = std::env::var_os("VNU_JAR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/vnu/node_modules/vnu-jar/build/dist/vnu.jar"));
    let java = find_on_path(&["java"]);
    let (true, Some(java)) = (jar.is_file(), java) else {
        missing(
            "the W3C validator (vnu.jar and java)",
            "npm install --prefix target/vnu vnu-jar, and a Java runtime",
        );
        return;
    };
    let dir = crate::scratch("html-vnu");
    let (page, _) = render(&dir);
    // A page with no finding and no times too.
    let empty = dir.join("empty.html");
    let o = Command::new(env!("CARGO_BIN_EXE_hsmdiag"))
        .current_dir(root())
        .env("HSMDIAG_CONFIG", "")
        .args(["--format", "html", "-o"])
        .arg(&empty)
        .arg("samples/azure/healthy-dedicated-hsm-show.json")
        .output()
        .unwrap();
    assert!(
        o.status.code().is_some(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let out = Command::new(java)
        .args(["-jar"])
        .arg(&jar)
        .args(["--format", "json"])
        .arg(&page)
        .arg(&empty)
        .output()
        .expect("the validator runs");
    let v: serde_json::Value = serde_json::from_slice(&out.stderr)
        .or_else(|_| serde_json::from_slice(&out.stdout))
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let messages = v["messages"].as_array().unwrap();
    assert!(messages.is_empty(), "{messages:#?}");
}
