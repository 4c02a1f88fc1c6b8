//! Rule documentation: `hsmdiag explain` and the rule reference page
//! (`docs/rules.md`, written by `hsmdiag rules --format markdown`).

use crate::kb::{Matcher, Rule};

/// How the rule decides, in words.
pub fn rule_detection(r: &Rule) -> Vec<String> {
    r.matches
        .iter()
        .map(|m| {
            let cond = |c: &crate::kb::Cond| {
                let mut s = format!("`{}`", c.event);
                for (f, re) in &c.where_ {
                    s.push_str(&format!(" where {f} matches `{re}`"));
                }
                for (f, re) in &c.unless {
                    s.push_str(&format!(" unless {f} matches `{re}`"));
                }
                if c.optional {
                    s.push_str(" (optional)");
                }
                s
            };
            let within = m
                .within
                .map(|w| format!(" within {}s", w.as_secs()))
                .unwrap_or_default();
            let key = if m.key.is_empty() {
                String::new()
            } else {
                format!(" with the same {}", m.key.join(" and "))
            };
            match &m.matcher {
                Matcher::Single { cond: c } => format!("each {} event", cond(c)),
                Matcher::Count {
                    cond: c,
                    threshold,
                    distinct,
                } => {
                    let what = distinct
                        .as_ref()
                        .map_or(String::new(), |d| format!(" with distinct `{d}`"));
                    format!("{threshold} {} events{what}{key}{within}", cond(c))
                }
                Matcher::Sequence { steps, cancel } => format!(
                    "the sequence {}{key}{within}{}",
                    steps.iter().map(cond).collect::<Vec<_>>().join(" → "),
                    cancel
                        .as_ref()
                        .map_or(String::new(), |c| format!(", abandoned by {}", cond(c)))
                ),
                Matcher::Streak {
                    cond: c,
                    reset,
                    observe,
                    limit,
                    left_field,
                    escalate,
                    at_limit,
                } => {
                    let mut s = if *at_limit {
                        format!("the {limit}th {} in a row{key} (the damage)", cond(c))
                    } else {
                        format!(
                            "each {} in a row{key}, counting toward {limit} (the damage)",
                            cond(c)
                        )
                    };
                    if let Some(o) = observe {
                        s.push_str(&format!("; {} sets the count", cond(o)));
                    }
                    if let Some(r) = reset {
                        s.push_str(&format!("; {} starts the count again", cond(r)));
                    }
                    if let Some(f) = left_field {
                        s.push_str(&format!("; the device's own `{f}` wins when shown"));
                    }
                    for (left, sev) in escalate {
                        s.push_str(&format!("; {sev} when {left} or fewer tries are left"));
                    }
                    s
                }
                Matcher::Absence {
                    trigger,
                    expect,
                    direction,
                } => format!(
                    "{} with no {} {}{key}{within}",
                    cond(trigger),
                    cond(expect),
                    match direction {
                        crate::kb::Direction::Before => "before it",
                        crate::kb::Direction::After => "after it",
                    }
                ),
            }
        })
        .zip(&r.matches)
        .map(|(d, m)| match m.severity.filter(|s| *s != r.severity) {
            Some(sev) => format!("{d} (severity {sev})"),
            None => d,
        })
        .chain(rule_codes(r))
        .collect()
}

/// The Azure error codes and message phrases that map to the rule
/// (`grammars/azure_codes.toml`), each with its public source.
pub fn rule_codes(r: &Rule) -> Vec<String> {
    crate::parse::codes::rows_for(&r.id)
        .map(|row| {
            let what = match (&row.code, &row.phrase) {
                (Some(c), Some(p)) => {
                    format!("Azure error code `{c}` with a message matching `{p}`")
                }
                (Some(c), None) => format!("Azure error code `{c}`"),
                (None, Some(p)) => format!("an Azure error message matching `{p}`"),
                (None, None) => String::new(),
            };
            let prose = if row.prose {
                ", also quoted in prose"
            } else {
                ""
            };
            format!("{what}{prose} (source: {})", row.source)
        })
        .collect()
}

/// A rule's prose as Markdown: the lines of each paragraph joined, table rows
/// and list items kept on their own lines.
fn reflow(body: &str) -> String {
    let mut out = String::new();
    for block in body.split("\n\n").map(str::trim).filter(|b| !b.is_empty()) {
        if !out.is_empty() {
            out.push_str("\n\n");
        }
        let mut line = String::new();
        for l in block.lines().map(str::trim) {
            let own = l.starts_with('|') || l.starts_with("- ") || super::wrap::numbered(l);
            if own && !line.is_empty() {
                out.push_str(&line);
                out.push('\n');
                line.clear();
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(l);
            if l.starts_with('|') {
                out.push_str(&line);
                out.push('\n');
                line.clear();
            }
        }
        out.push_str(&line);
        while out.ends_with('\n') {
            out.pop();
        }
    }
    out
}

/// A rule as Markdown; `level` is the heading level of its title.
pub fn rule_markdown(r: &Rule, level: usize) -> String {
    let h = "#".repeat(level);
    let mut s = format!("{h} {} {}: {}\n\n", r.code, r.id, r.title);
    // A matcher may set its own severity (a gateway merely not ready yet is
    // a warning of a rule whose failures are errors): say so at the top.
    let mut others: Vec<String> = r
        .matches
        .iter()
        .filter_map(|m| m.severity.filter(|s| *s != r.severity))
        .map(|s| s.to_string())
        .collect();
    others.sort();
    others.dedup();
    let severity = if others.is_empty() {
        r.severity.to_string()
    } else {
        format!(
            "{} ({} for some matches: see Detection)",
            r.severity,
            others.join(", ")
        )
    };
    s.push_str(
        &format!(
            "Severity: {severity} · Who fixes it: {:?} · Since {}\n\n",
            r.owner, r.since
        )
        .replace("Customer", "the customer"),
    );
    for (head, body) in [
        ("What the log shows", r.meaning.trim()),
        ("Why it happens", r.cause.trim()),
        ("How to confirm", r.confirm.trim()),
        ("Known false positives", r.false_positives.trim()),
    ] {
        s.push_str(&format!("{h}# {head}\n\n{}\n\n", reflow(body)));
    }
    s.push_str(&format!("{h}# Remediation\n\n"));
    for (i, step) in r.remediation.iter().enumerate() {
        let mark = if step.destructive {
            "**DESTRUCTIVE:** "
        } else {
            ""
        };
        s.push_str(&format!(
            "{}. {mark}{}\n",
            i + 1,
            step.step.render(|_| None)
        ));
        if let Some(c) = &step.command {
            let c = c.render(|_| None).replace('\n', "\n   ");
            s.push_str(&format!("   ```\n   {c}\n   ```\n"));
        }
    }
    s.push_str(&format!("\n{h}# Detection\n\n"));
    for d in rule_detection(r) {
        s.push_str(&format!("- {d}\n"));
    }
    if !r.yields_to.is_empty() {
        s.push_str(&format!(
            "\nNot reported for an event that {} already reports (the more specific finding wins).\n",
            r.yields_to.iter().map(|y| format!("`{y}`")).collect::<Vec<_>>().join(" or ")
        ));
    }
    if !r.defers_to.is_empty() {
        s.push_str(&format!(
            "\nNot reported for an input in which {} is reported about the same host (that finding names the cause or the outcome).\n",
            r.defers_to
                .iter()
                .map(|y| format!("`{y}`"))
                .collect::<Vec<_>>()
                .join(" or ")
        ));
    }
    if !r.related.is_empty() {
        s.push_str(&format!("\n{h}# Related evidence, from any input\n\n"));
        for rel in &r.related {
            let mut when = match (rel.relation, rel.within) {
                (crate::Relation::Cause, Some(w)) => format!(
                    "before the finding, up to {} earlier",
                    crate::engine::humanize(w.as_secs())
                ),
                (crate::Relation::Cause, None) => "before the finding".to_owned(),
                (crate::Relation::Effect, Some(w)) => {
                    format!(
                        "after the finding, up to {} later",
                        crate::engine::humanize(w.as_secs())
                    )
                }
                (crate::Relation::Effect, None) => "after the finding".to_owned(),
                (crate::Relation::During, _) => {
                    "between the finding's first and last event".to_owned()
                }
            };
            if !rel.same.is_empty() {
                let joins: Vec<String> = rel
                    .same
                    .iter()
                    .map(|(theirs, mine)| format!("its `{theirs}` equal to the finding's `{mine}`"))
                    .collect();
                when.push_str(&format!(", with {}", joins.join(" and ")));
            }
            s.push_str(&format!(
                "- {}: {} — a `{}` event {when}\n",
                rel.relation, rel.note, rel.cond.event
            ));
        }
    }
    if !r.references.is_empty() {
        s.push_str(&format!("\n{h}# References\n\n"));
        for u in &r.references {
            s.push_str(&format!("- <{u}>\n"));
        }
    }
    s
}

/// The rule reference page: every rule, in code order.
pub fn rules_markdown(rules: &[Rule]) -> String {
    let mut s = String::from(
        "# hsmdiag rules\n\nGenerated by `hsmdiag rules --format markdown`; do not edit by hand.\n\n| code | id | severity | title |\n|---|---|---|---|\n",
    );
    for r in rules {
        s.push_str(&format!(
            "| [{}](#{}) | `{}` | {} | {} |\n",
            r.code,
            anchor(r),
            r.id,
            r.severity,
            r.title
        ));
    }
    for r in rules {
        // A stable anchor per code, for links (SARIF's helpUri) that outlive
        // a title's rewording.
        s.push_str(&format!("\n<a id=\"{}\"></a>\n\n", anchor(r)));
        s.push_str(&rule_markdown(r, 2));
    }
    s
}

/// A rule's anchor on the rules page: its code in lower case (`hsm101`).
pub fn anchor(r: &Rule) -> String {
    r.code.as_str().to_ascii_lowercase()
}

/// Where a rule's page is: its anchor on `docs/rules.md` in the repository
/// (at this version's tag) when the package names one, else the rule's first
/// reference.
pub fn help_uri(r: &Rule, repository: Option<&str>, version: &str) -> Option<String> {
    match repository.filter(|u| !u.is_empty()) {
        Some(repo) => Some(format!(
            "{}/blob/v{version}/docs/rules.md#{}",
            repo.trim_end_matches('/'),
            anchor(r)
        )),
        None => r.references.first().cloned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_uri_is_the_codes_anchor_in_the_repository() {
        let g = crate::Grammar::builtin();
        let kb = crate::KnowledgeBase::builtin(&g);
        let r = kb.find("HSM101").unwrap();
        assert_eq!(
            help_uri(r, Some("https://example.org/hsmdiag/"), "0.3.0").as_deref(),
            Some("https://example.org/hsmdiag/blob/v0.3.0/docs/rules.md#hsm101")
        );
        assert_eq!(help_uri(r, None, "0.3.0"), r.references.first().cloned());
        let page = rules_markdown(kb.rules());
        assert!(page.contains("<a id=\"hsm101\"></a>"));
        assert!(page.contains("| [HSM101](#hsm101) |"));
    }
}
