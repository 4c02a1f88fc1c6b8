//! Knowledge-base hygiene ("tidy"): every rule file is well formed, registered by
//! its file name, documented, and proven by its own examples through the real
//! parse + analyse path.

use std::collections::BTreeSet;
use std::path::PathBuf;

use hsmdiag::{AnalyzerBuilder, Report};

fn root() -> PathBuf {
    PathBuf::from(root!())
}

fn rule_files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("grammars/kb"))
        .expect("grammars/kb exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        // The retired rules' list is no rule.
        .filter(|p| !p.ends_with("retired.toml"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_built_in_condition_pattern_compiles() {
    // Built-in rules' patterns are compiled on first use; a user's at load.
    let analyzer = crate::analyzer();
    analyzer
        .knowledge_base()
        .verify()
        .expect("every built-in pattern compiles");
}

#[test]
fn retired_codes_are_never_reused_and_their_successors_exist() {
    let analyzer = crate::analyzer();
    let kb = analyzer.knowledge_base();
    for x in kb.retired() {
        assert!(
            kb.find(&x.code).is_none() && kb.find(&x.id).is_none(),
            "{} reused",
            x.code
        );
        if let Some(s) = &x.successor {
            assert!(kb.find(s).is_some(), "{}: successor {s} is no rule", x.code);
        }
    }
    // A retired code's rule file is refused.
    let mut kb2 = hsmdiag::KnowledgeBase::default();
    kb2.add_retired(
        "retired.toml",
        "[[retired]]\nid = \"ntls.unknown_ca\"\ncode = \"HSM101\"\ntitle = \"t\"\nretired = \"0.3.0\"\nwhy = \"w\"\n",
    )
    .unwrap();
    let text = std::fs::read_to_string("grammars/kb/HSM101.toml").unwrap();
    let err = kb2
        .add("HSM101.toml", &text, analyzer.grammar())
        .expect_err("a retired code is refused");
    assert!(err.to_string().contains("was retired in 0.3.0"), "{err}");
}

/// A rule's example as the rule reads it: a template through `lint`, a log
/// through the analysis; a file, or the text written inline in the rule.
fn example(r: &hsmdiag::Rule, ex: &hsmdiag::kb::Example) -> Report {
    let (name, text) = match &ex.text {
        Some(text) => (format!("{} (inline example)", r.code), text.clone()),
        None => {
            let path = root().join(&ex.input);
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path.display().to_string(), text)
        }
    };
    if r.is_lint() {
        crate::analyzer().lint_str(&name, &text)
    } else {
        crate::analyzer_2026().analyze_str(&name, &text)
    }
}

#[test]
fn every_rule_file_is_loaded_and_named_by_its_code() {
    let analyzer = crate::analyzer();
    let files = rule_files();
    assert_eq!(
        files.len(),
        analyzer.rules().len(),
        "each file in grammars/kb is one rule"
    );
    for r in analyzer.rules() {
        assert_eq!(
            r.file,
            format!("{}.toml", r.code),
            "{}: the file name is the code",
            r.id
        );
    }
}

#[test]
fn ids_and_codes_are_unique_and_in_their_family_block() {
    let analyzer = crate::analyzer();
    let mut ids = BTreeSet::new();
    let mut codes = BTreeSet::new();
    for r in analyzer.rules() {
        assert!(ids.insert(r.id.clone()), "duplicate id {}", r.id);
        assert!(codes.insert(r.code.clone()), "duplicate code {}", r.code);
        let family = r.id.split('.').next().unwrap_or_default();
        let block = match family {
            "ntls" | "net" | "client" => 1,
            "deploy" => 2,
            "auth" => 3,
            "ha" => 4,
            "hsm" => 5,
            "deprov" => 6,
            "lint" => 7,
            other => panic!("{}: unknown family `{other}`", r.id),
        };
        assert_eq!(
            r.code.block(),
            block,
            "{} {}: code outside its family's block",
            r.code,
            r.id
        );
        assert!(
            r.id.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.'),
            "{}: ids are lower-case dotted names",
            r.id
        );
    }
}

#[test]
fn duplicate_codes_are_rejected_at_load() {
    let text = std::fs::read_to_string(root().join("grammars/kb/HSM101.toml")).unwrap();
    let err = AnalyzerBuilder::new()
        .rule("copy.toml", text)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("already defined"), "{err}");
}

#[test]
fn text_fields_are_present_and_titles_follow_the_convention() {
    for r in crate::analyzer().rules() {
        for (name, text) in [
            ("meaning", &r.meaning),
            ("cause", &r.cause),
            ("confirm", &r.confirm),
            ("false_positives", &r.false_positives),
        ] {
            assert!(
                text.trim().len() >= 40,
                "{}: `{name}` is missing or too short",
                r.id
            );
        }
        assert!(!r.remediation.is_empty(), "{}: no remediation", r.id);
        assert!(!r.references.is_empty(), "{}: no references", r.id);
        let first = r.title.split_whitespace().next().unwrap_or_default();
        let is_name = first.len() >= 2
            && first
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        assert!(
            is_name || r.title.starts_with(|c: char| c.is_lowercase()),
            "{}: a title is lower-case unless it opens with a name: {}",
            r.id,
            r.title
        );
        assert!(
            !r.title.ends_with('.'),
            "{}: no final period in a title",
            r.id
        );
    }
}

#[test]
fn every_rule_has_examples_that_fire_and_that_stay_quiet() {
    for r in crate::analyzer().rules() {
        assert!(
            r.examples.iter().any(|e| e.fires),
            "{}: needs an example that fires",
            r.id
        );
        assert!(
            r.examples.iter().any(|e| !e.fires
                && e.input
                    .rsplit('/')
                    .next()
                    .is_some_and(|n| n.starts_with("healthy-"))),
            "{}: needs a healthy sample that stays quiet",
            r.id
        );
        for ex in &r.examples {
            let report = example(r, ex);
            let fired = report.findings.iter().any(|f| f.code == r.code);
            assert_eq!(
                fired, ex.fires,
                "{} on {}: fired = {fired}, expected {}",
                r.code, ex.input, ex.fires
            );
        }
    }
}

#[test]
fn remediation_is_filled_from_the_log() {
    // Every placeholder a finding needs is either captured or has a default, so
    // no `{name}` survives into a finding; `<name>` marks what the user fills in.
    // A literal brace is fine (a JMESPath `{name:name}` projection).
    let placeholder = regex::Regex::new(r"\{[A-Za-z_][A-Za-z0-9_.,]*(?:\||\})").unwrap();
    for r in crate::analyzer().rules() {
        for ex in r.examples.iter().filter(|e| e.fires) {
            for f in example(r, ex).findings.iter().filter(|f| f.code == r.code) {
                for line in f.remediation.iter().chain(f.message.iter()) {
                    assert!(
                        !placeholder.is_match(line),
                        "{}: unfilled template in `{line}`",
                        r.id
                    );
                }
            }
        }
    }
}

#[test]
fn the_rule_reference_page_is_current() {
    let page = hsmdiag::report::rules_markdown(crate::analyzer().rules());
    let path = root().join("docs/rules.md");
    if std::env::var_os("HSMDIAG_BLESS").is_some() {
        std::fs::write(&path, &page).unwrap();
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == page,
        "docs/rules.md is stale: run `cargo run -- rules --format markdown > docs/rules.md` (or HSMDIAG_BLESS=1 cargo test)"
    );
}

#[test]
fn precedence_names_existing_rules() {
    let analyzer = crate::analyzer();
    let rules = analyzer.rules();
    for r in rules {
        for other in r.yields_to.iter().chain(&r.defers_to) {
            assert!(
                rules.iter().any(|o| &o.id == other),
                "{}: yields or defers to unknown rule `{other}`",
                r.id
            );
            assert_ne!(&r.id, other, "{}: yields to itself", r.id);
        }
    }
}

#[test]
fn every_azure_code_row_names_a_rule() {
    let rules = crate::analyzer().rules();
    for r in hsmdiag_parse::parse::codes::rows() {
        assert!(
            rules.iter().any(|k| k.id == r.rule),
            "{:?} maps to unknown rule {}",
            r.code,
            r.rule
        );
    }
}
