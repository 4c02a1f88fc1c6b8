//! The real-world corpus: public texts the project did not write
//! (`samples/real/`), each labelled in `samples/real/cases.tsv` with the rule
//! ids a perfect diagnosis reports at warning or worse, before hsmdiag was run
//! on it. This test scores the whole corpus through the same path as the
//! command line and prints recall and false alarms, per wrapper too.
//!
//! Recall counts expected ids found among the findings at warning or worse. A
//! false alarm is a warning-or-worse finding whose id was not expected. A
//! failure case that gives no finding at all is silence, counted apart.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use hsmdiag::{AnalyzerBuilder, Input, Severity};

struct Case {
    file: String,
    expected: BTreeSet<String>,
    wrappers: Vec<String>,
    healthy: bool,
    /// Why a failure this case states is known to be beyond hsmdiag (the
    /// sixth column): it still counts as a miss, but its silence does not
    /// fail the test. A limit that no longer holds fails it.
    limit: Option<String>,
}

fn cases(dir: &Path) -> Vec<Case> {
    let text = std::fs::read_to_string(dir.join("cases.tsv")).expect("samples/real/cases.tsv");
    let mut out = Vec::new();
    for (no, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') || line.starts_with("file\t") {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        assert!(
            cols.len() >= 4,
            "cases.tsv:{}: want file, expected, wrapper, kind",
            no + 1
        );
        let expected: BTreeSet<String> = cols[1]
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty() && *s != "-")
            .map(str::to_owned)
            .collect();
        let healthy = match cols[3].trim() {
            "healthy" => true,
            "failure" => false,
            other => panic!("cases.tsv:{}: kind `{other}`", no + 1),
        };
        assert_eq!(
            healthy,
            expected.is_empty(),
            "cases.tsv:{}: a healthy case expects nothing, a failure something",
            no + 1
        );
        out.push(Case {
            file: cols[0].trim().to_owned(),
            expected,
            wrappers: cols[2]
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
            healthy,
            limit: cols
                .get(5)
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty()),
        });
    }
    out
}

#[derive(Default)]
struct Score {
    cases: usize,
    healthy: usize,
    expected: usize,
    found: usize,
    false_alarms: usize,
    healthy_alarms: usize,
    silent: usize,
    /// Silent failures with a stated limit.
    limited: usize,
}

impl Score {
    fn add(&mut self, o: &Score) {
        self.cases += o.cases;
        self.healthy += o.healthy;
        self.expected += o.expected;
        self.found += o.found;
        self.false_alarms += o.false_alarms;
        self.healthy_alarms += o.healthy_alarms;
        self.silent += o.silent;
        self.limited += o.limited;
    }

    fn recall(&self) -> f64 {
        if self.expected == 0 {
            100.0
        } else {
            100.0 * self.found as f64 / self.expected as f64
        }
    }
}

/// Scores one case: what hsmdiag reports at warning or worse against its label.
fn score(analyzer: &hsmdiag::Analyzer, dir: &Path, case: &Case, notes: &mut Vec<String>) -> Score {
    let path = dir.join(&case.file);
    assert!(
        path.is_file(),
        "cases.tsv names {} which is missing",
        case.file
    );
    let (report, errors) = analyzer.analyze(&[Input::file(&path)]);
    assert!(errors.is_empty(), "{}: {errors:?}", case.file);
    // Text nobody here wrote: the prefilter must not change what is found.
    let (full, _) = crate::analyzer_coverage().analyze(&[Input::file(&path)]);
    assert_eq!(
        full.findings, report.findings,
        "{}: the prefilter changed the findings",
        case.file
    );
    let got: BTreeSet<String> = report
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::Warning)
        .map(|f| f.id.clone())
        .collect();
    let found = case.expected.intersection(&got).count();
    let extra: Vec<&String> = got.difference(&case.expected).collect();
    if found < case.expected.len() {
        notes.push(format!(
            "miss: {}: expected {:?}, got {:?}",
            case.file, case.expected, got
        ));
    }
    if !extra.is_empty() {
        notes.push(format!(
            "false alarm: {}: not expected {extra:?}",
            case.file
        ));
    }
    let silent = !case.healthy && report.findings.is_empty();
    if let Some(why) = &case.limit {
        assert!(
            silent,
            "{}: stated as a known limit ({why}), but hsmdiag now reports {got:?}: drop the limit",
            case.file
        );
        notes.push(format!("known limit: {}: {why}", case.file));
    }
    Score {
        cases: 1,
        healthy: usize::from(case.healthy),
        expected: case.expected.len(),
        found,
        false_alarms: extra.len(),
        healthy_alarms: if case.healthy { extra.len() } else { 0 },
        silent: usize::from(silent && case.limit.is_none()),
        limited: usize::from(silent && case.limit.is_some()),
    }
}

fn print_score(name: &str, s: &Score) {
    println!(
        "{name}: {} cases ({} healthy), recall {}/{} = {:.1} %, false alarms {} ({} on healthy cases), silent failures {} (and {} of a stated limit)",
        s.cases,
        s.healthy,
        s.found,
        s.expected,
        s.recall(),
        s.false_alarms,
        s.healthy_alarms,
        s.silent,
        s.limited
    );
}

#[test]
fn real_world_corpus() {
    let dir = Path::new(root!()).join("samples/real");
    let cases = cases(&dir);
    assert!(!cases.is_empty(), "the corpus is empty");
    let analyzer = AnalyzerBuilder::new().build().expect("built-in files load");

    // Scored per corpus (the folder under samples/real/) and per wrapper.
    let mut by_corpus: BTreeMap<String, Score> = BTreeMap::new();
    let mut by_wrapper: BTreeMap<String, Score> = BTreeMap::new();
    let mut total = Score::default();
    let mut notes = Vec::new();
    let mut listed = BTreeSet::new();
    for case in &cases {
        listed.insert(case.file.clone());
        let s = score(&analyzer, &dir, case, &mut notes);
        let corpus = case.file.split('/').next().unwrap_or("").to_owned();
        by_corpus.entry(corpus).or_default().add(&s);
        for w in &case.wrappers {
            by_wrapper.entry(w.clone()).or_default().add(&s);
        }
        total.add(&s);
    }
    print_score("real corpus", &total);
    for (c, s) in &by_corpus {
        print_score(&format!("  {c}"), s);
    }
    println!(
        "{:<18} {:>5} {:>9} {:>6} {:>6}",
        "wrapper", "cases", "recall", "alarms", "silent"
    );
    for (w, s) in &by_wrapper {
        println!(
            "{w:<18} {:>5} {:>5}/{:<3} {:>6} {:>6}",
            s.cases, s.found, s.expected, s.false_alarms, s.silent
        );
    }
    for n in &notes {
        println!("{n}");
    }

    // Every file of the corpus is labelled.
    for sub in std::fs::read_dir(&dir).unwrap() {
        let sub = sub.unwrap().path();
        if !sub.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&sub).unwrap() {
            let f = f.unwrap().path();
            let rel = f.strip_prefix(&dir).unwrap().display().to_string();
            assert!(listed.contains(&rel), "{rel} is not in cases.tsv");
        }
    }
    assert!(
        total.healthy * 3 >= total.cases,
        "at least a third of the corpus must be healthy traps"
    );
    // Nowhere a warning-or-worse finding on a healthy case.
    assert_eq!(total.healthy_alarms, 0, "false alarms on healthy cases");
    // A stated limit is rare: a gap to close, not a place to park misses.
    assert!(
        total.limited * 50 <= total.cases,
        "{} cases of a stated limit in {}: more than one in fifty",
        total.limited,
        total.cases
    );
    // Recall (a stated limit counts as a miss) never falls below what it is:
    // the whole corpus 97 % (issue 33's target), the Azure texts 97 %, the
    // Luna texts 88 % (two of their 31 failures are stated limits, and the
    // newest appliance texts are the hardest). No failure is met with silence
    // anywhere.
    assert!(
        total.recall() >= 97.0,
        "recall {:.1} % is under 97 %",
        total.recall()
    );
    for (name, c) in &by_corpus {
        assert_eq!(c.silent, 0, "{name}: failures met with silence");
        let floor = if name == "luna" { 88.0 } else { 97.0 };
        assert!(
            c.recall() >= floor,
            "{name}: recall {:.1} % is under {floor} %",
            c.recall()
        );
    }
}

/// A corpus text as a person pastes it into a ticket: without the file's own
/// `# Source:` lines.
fn pasted(dir: &Path, case: &Case) -> String {
    let text = std::fs::read_to_string(dir.join(&case.file)).unwrap();
    let mut out = String::new();
    let mut header = true;
    for line in text.lines() {
        if header && line.starts_with('#') {
            continue;
        }
        header = false;
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn warning_ids(analyzer: &hsmdiag::Analyzer, text: &str) -> BTreeSet<String> {
    analyzer
        .analyze_str("ticket.txt", text)
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::Warning)
        .map(|f| f.id.clone())
        .collect()
}

/// Issue 33: tickets that paste several real texts, Azure's and Luna's, with
/// a person's prose between them (and, in every other ticket, each part
/// quoted as an e-mail reply quotes it) find what their parts find alone, and
/// a ticket of healthy parts stays quiet.
#[test]
fn mixed_tickets_lose_nothing_their_parts_find() {
    let dir = Path::new(root!()).join("samples/real");
    let cases = cases(&dir);
    let analyzer = AnalyzerBuilder::new().build().expect("built-in files load");
    let failures: Vec<&Case> = cases
        .iter()
        .filter(|c| !c.healthy && c.limit.is_none())
        .collect();
    let healthy: Vec<&Case> = cases.iter().filter(|c| c.healthy).collect();
    let prose = [
        "Hi team, we are stuck on this since this morning. Here is what we see:",
        "Then a colleague ran the following, with this result:",
        "We also found this in another window, not sure it is related.",
        "Any idea? Thanks in advance.",
    ];
    let mut lost = Vec::new();
    let mut tickets = 0;
    // Three failures and one healthy text per ticket, picked far apart in
    // the corpus so that Azure and Luna texts meet.
    let n = failures.len();
    for i in 0..n {
        let parts = [
            failures[i],
            failures[(i + n / 3) % n],
            healthy[i % healthy.len()],
            failures[(i + 2 * n / 3) % n],
        ];
        let quoted = i % 2 == 1;
        let mut ticket = String::new();
        let mut alone = BTreeSet::new();
        for (k, part) in parts.iter().enumerate() {
            let text = pasted(&dir, part);
            alone.extend(warning_ids(&analyzer, &text));
            ticket.push_str(prose[k]);
            ticket.push_str("\n\n");
            for line in text.lines() {
                if quoted {
                    ticket.push_str("> ");
                }
                ticket.push_str(line);
                ticket.push('\n');
            }
            ticket.push('\n');
        }
        ticket.push_str(prose[3]);
        ticket.push('\n');
        let mixed = warning_ids(&analyzer, &ticket);
        let missing: Vec<&String> = alone.difference(&mixed).collect();
        if !missing.is_empty() {
            let names: Vec<&str> = parts.iter().map(|p| p.file.as_str()).collect();
            lost.push(format!(
                "{}ticket of {names:?} loses {missing:?}",
                if quoted { "quoted " } else { "" }
            ));
        }
        tickets += 1;
    }
    // Healthy texts together stay quiet.
    let mut alarms = Vec::new();
    for chunk in healthy.chunks(4) {
        let mut ticket = String::new();
        for (k, part) in chunk.iter().enumerate() {
            ticket.push_str(prose[k]);
            ticket.push_str("\n\n");
            ticket.push_str(&pasted(&dir, part));
            ticket.push('\n');
        }
        let got = warning_ids(&analyzer, &ticket);
        if !got.is_empty() {
            let names: Vec<&str> = chunk.iter().map(|p| p.file.as_str()).collect();
            alarms.push(format!("healthy ticket of {names:?} gives {got:?}"));
        }
    }
    println!(
        "mixed tickets: {tickets} of failures, {} of healthy texts; {} lose a finding, {} give an alarm",
        healthy.len().div_ceil(4),
        lost.len(),
        alarms.len()
    );
    for l in lost.iter().chain(&alarms) {
        println!("{l}");
    }
    // A generic deployment failure gives way to a specific finding only in
    // its own paragraph: a wrapper in one pasted text is never explained away
    // by another text's cause (15 of 117 tickets lost one before).
    assert!(
        lost.is_empty(),
        "{} of {tickets} mixed tickets lose findings",
        lost.len()
    );
    assert!(
        alarms.is_empty(),
        "{} healthy tickets give alarms",
        alarms.len()
    );
}
