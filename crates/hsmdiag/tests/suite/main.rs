//! The library's integration tests, as one test binary (one link, one
//! knowledge base built for all of them). Every test runs from the
//! workspace's root, so paths read as in the repository: `samples/...`.

/// The workspace root (where `samples/` and `grammars/` are).
macro_rules! root {
    () => {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../..")
    };
}

#[ctor::ctor]
fn from_the_workspace_root() {
    let root = root!();
    std::env::set_current_dir(root).expect("the workspace root exists");
}

/// The built-in analyzer, built once for every test that needs no options.
pub fn analyzer() -> &'static hsmdiag::Analyzer {
    static ANALYZER: std::sync::LazyLock<hsmdiag::Analyzer> =
        std::sync::LazyLock::new(hsmdiag::Analyzer::new);
    &ANALYZER
}

/// The built-in analyzer measuring coverage (every line typed), dating
/// year-less samples in 2026, built once.
pub fn analyzer_coverage() -> &'static hsmdiag::Analyzer {
    static ANALYZER: std::sync::LazyLock<hsmdiag::Analyzer> = std::sync::LazyLock::new(|| {
        hsmdiag::AnalyzerBuilder::new()
            .year(Some(2026))
            .coverage(true)
            .build()
            .expect("built-in files load")
    });
    &ANALYZER
}

/// The built-in analyzer dating year-less samples in 2026 (never by the
/// checkout's file times), built once.
pub fn analyzer_2026() -> &'static hsmdiag::Analyzer {
    static ANALYZER: std::sync::LazyLock<hsmdiag::Analyzer> = std::sync::LazyLock::new(|| {
        hsmdiag::AnalyzerBuilder::new()
            .year(Some(2026))
            .build()
            .expect("built-in files load")
    });
    &ANALYZER
}

mod archives;
mod engine;
mod foreign;
mod formats;
mod fuzz;
mod grammar;
mod junk;
mod kb;
mod lint;
mod markdown_injection;
mod modules;
mod order;
mod parallel;
mod real;
mod regression;
mod samples;
mod sarif;
mod schema;
mod wrappers;

/// Says that a check could not run and why, in `cargo test`'s normal output
/// (written to stderr directly, past the harness's capture of `eprintln!`).
fn skipped(what: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "SKIPPED: {what}");
}
