//! Findings from several inputs and about several subjects brought together:
//! the same rule and subject from two inputs is one finding ([`merge`]), and a
//! rule's findings that share one cause (many clients of one HSM at once) are
//! one finding listing the subjects ([`group_by_cause_bounded`]).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::overflow::{Omitted, max_opt, min_opt};
use crate::finding::{Finding, MAX_EVIDENCE, Step};
use crate::kb::Rule;

/// Merges findings of the same rule, host and subject from several inputs.
pub fn merge(findings: impl IntoIterator<Item = Finding>) -> Vec<Finding> {
    // Gathered per rule, host and subject first, so that what the merged
    // finding says cannot depend on the order the inputs were given in.
    let mut groups: Vec<Vec<Finding>> = Vec::new();
    let mut index: HashMap<(String, Option<String>, String), usize> = HashMap::new();
    for f in findings {
        let key = (f.id.clone(), f.host.clone(), f.subject.clone());
        match index.get(&key) {
            Some(&i) => groups[i].push(f),
            None => {
                index.insert(key, groups.len());
                groups.push(vec![f]);
            }
        }
    }
    let mut out: Vec<Finding> = groups.into_iter().map(merge_group).collect();
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| {
                let pos = |f: &Finding| {
                    f.evidence
                        .first()
                        .map(|e| (e.source.clone(), e.line, e.column))
                };
                pos(a).cmp(&pos(b))
            })
            .then_with(|| a.code.cmp(&b.code))
            .then_with(|| a.subject.cmp(&b.subject))
    });
    out
}

/// How many of a grouped finding's subjects its message names; the JSON
/// report's `affected` lists them all.
pub(crate) const AFFECTED_IN_TEXT: usize = 3;

/// Merges the findings of a rule with a [`Group`](crate::kb::Group) that
/// share one cause: those about different subjects (clients) that agree on
/// the group's fields (the same HSM) and follow each other within its window
/// become one, which lists the subjects in `affected` (first seen first), says
/// how many in its subject and names the first few in its message. The most
/// severe (then the latest) speaks for the group, as when merging inputs.
///
/// With the tallies of hits about subjects beyond the
/// bound ([`Engine::take_omitted`], from every input): a grouped rule's tally
/// is folded into the finding of its group whose time it falls within (its
/// subjects counted in `affected_omitted`); what no finding takes is returned,
/// one entry per rule, for the summary.
pub fn group_by_cause_bounded(
    findings: Vec<Finding>,
    omitted: Vec<Omitted>,
    rules: &[Rule],
) -> (Vec<Finding>, Vec<Omitted>) {
    // The tallies of one rule, group and window from several inputs are one.
    let mut tallies: Vec<Omitted> = Vec::new();
    for mut o in omitted {
        o.settle();
        let window = rules
            .get(o.rule)
            .and_then(|r| r.group.as_ref())
            .and_then(|g| chrono::Duration::from_std(g.within).ok());
        let near = |t: &Omitted| {
            t.rule == o.rule
                && t.by == o.by
                && match (window, t.first_seen, t.last_seen, o.first_seen, o.last_seen) {
                    (Some(w), Some(a0), Some(a1), Some(b0), Some(b1)) => {
                        b0 - a1 <= w && a0 - b1 <= w
                    }
                    _ => true,
                }
        };
        match tallies.iter_mut().find(|t| near(t)) {
            Some(t) => t.absorb(&o),
            None => tallies.push(o),
        }
    }
    let mut out = Vec::with_capacity(findings.len());
    let mut grouped: Vec<(usize, Vec<Finding>)> = Vec::new();
    for f in findings {
        match rules.iter().position(|r| r.id == f.id && r.group.is_some()) {
            Some(ri) => match grouped.iter_mut().find(|(r, _)| *r == ri) {
                Some((_, v)) => v.push(f),
                None => grouped.push((ri, vec![f])),
            },
            None => out.push(f),
        }
    }
    for (ri, mut fs) in grouped {
        let g = rules[ri]
            .group
            .as_ref()
            .expect("grouped rules have a group");
        // One host's findings are never grouped with another's.
        let by = |f: &Finding| -> Vec<Option<String>> {
            std::iter::once(f.host.clone())
                .chain(g.by.iter().map(|k| f.context.get(k).cloned()))
                .collect()
        };
        fs.sort_by(|a, b| {
            by(a)
                .cmp(&by(b))
                .then_with(|| a.first_seen.cmp(&b.first_seen))
                .then_with(|| a.subject.cmp(&b.subject))
        });
        let window = chrono::Duration::from_std(g.within).unwrap_or(chrono::Duration::MAX);
        let mut cluster: Vec<Finding> = Vec::new();
        // The cluster's latest time, kept as it grows (not searched for).
        let mut end: Option<DateTime<Utc>> = None;
        for f in fs {
            let joins = cluster.last().is_some_and(|last| {
                by(last) == by(&f)
                    && match (end, f.first_seen) {
                        (Some(end), Some(start)) => start - end <= window,
                        _ => true,
                    }
            });
            if !joins && !cluster.is_empty() {
                let extra = take_tallies(&mut tallies, ri, &by(&cluster[0]), &cluster, window);
                out.push(one_for_many(std::mem::take(&mut cluster), g, extra));
                end = None;
            }
            end = max_opt(end, f.last_seen);
            cluster.push(f);
        }
        if !cluster.is_empty() {
            let extra = take_tallies(&mut tallies, ri, &by(&cluster[0]), &cluster, window);
            out.push(one_for_many(cluster, g, extra));
        }
    }
    // What no group took: one entry per rule.
    let mut left: Vec<Omitted> = Vec::new();
    for t in tallies {
        match left.iter_mut().find(|l| l.rule == t.rule) {
            Some(l) => l.absorb(&t),
            None => left.push(t),
        }
    }
    for l in &mut left {
        l.by.clear();
    }
    (out, left)
}

/// Takes the tallies of rule `ri` and group `by` whose time falls within the
/// cluster's (its window either side), merged into one.
fn take_tallies(
    tallies: &mut Vec<Omitted>,
    ri: usize,
    by: &[Option<String>],
    cluster: &[Finding],
    window: chrono::Duration,
) -> Option<Omitted> {
    let start = cluster.iter().filter_map(|f| f.first_seen).min();
    let end = cluster.iter().filter_map(|f| f.last_seen).max();
    let mut taken: Option<Omitted> = None;
    let mut i = 0;
    while i < tallies.len() {
        let t = &tallies[i];
        let fits = t.rule == ri
            && t.by == by
            && match (start, end, t.first_seen, t.last_seen) {
                (Some(s), Some(e), Some(t0), Some(t1)) => t0 - e <= window && s - t1 <= window,
                _ => true,
            };
        if fits {
            let t = tallies.swap_remove(i);
            match &mut taken {
                Some(all) => all.absorb(&t),
                None => taken = Some(t),
            }
        } else {
            i += 1;
        }
    }
    taken
}

/// One finding for a cluster of a grouped rule's findings: the most severe,
/// then the first seen, speaks (its message and steps); counts, times and
/// evidence are the cluster's. Its steps name no single subject: the
/// subject's value becomes `<client>` and a last step lists who to do them for.
fn one_for_many(cluster: Vec<Finding>, g: &crate::kb::Group, extra: Option<Omitted>) -> Finding {
    if cluster.len() == 1 && extra.is_none() {
        return cluster.into_iter().next().expect("one finding");
    }
    let (more, more_times) = extra.map_or((0, 0), |o| (o.subjects, o.occurrences));
    let lead = cluster
        .iter()
        .min_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.first_seen.cmp(&b.first_seen))
                .then_with(|| a.subject.cmp(&b.subject))
        })
        .cloned()
        .expect("a cluster is not empty");
    let mut order: Vec<(Option<DateTime<Utc>>, String)> = cluster
        .iter()
        .map(|f| (f.first_seen, f.subject.clone()))
        .collect();
    order.sort();
    let mut affected: Vec<String> = Vec::with_capacity(order.len());
    let mut seen: HashSet<String> = HashSet::with_capacity(order.len());
    for (_, s) in order {
        if seen.insert(s.clone()) {
            affected.push(s);
        }
    }
    let place =
        g.by.iter()
            .filter_map(|k| lead.context.get(k).cloned())
            .collect::<Vec<_>>()
            .join(" ");
    let mut f = merge_group(cluster);
    f.count += more_times;
    // Beyond the bound the subjects are counted, not listed: "about".
    let about = if more > 0 { "about " } else { "" };
    let n = affected.len() as u64 + more;
    f.subject = if place.is_empty() {
        format!("{about}{n} {}", g.noun)
    } else {
        format!("{about}{n} {} on {place}", g.noun)
    };
    let list = |skip: Option<&str>| {
        let names: Vec<&str> = affected
            .iter()
            .map(String::as_str)
            .filter(|s| Some(*s) != skip)
            .collect();
        let shown = names
            .iter()
            .take(AFFECTED_IN_TEXT)
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
        let total = names.len() as u64 + more;
        match (
            names.len().saturating_sub(AFFECTED_IN_TEXT) as u64 + more,
            more,
        ) {
            (0, _) => (total, shown),
            (rest, 0) => (total, format!("{shown} and {rest} more")),
            (rest, _) => (total, format!("{shown} and about {rest} more")),
        }
    };
    let one = g.noun.strip_suffix('s').unwrap_or(&g.noun);
    let (others, named) = list(Some(&lead.subject));
    f.message = Some(format!(
        "{} (the same for {about}{others} other {}: {named})",
        lead.message.as_deref().unwrap_or(&lead.title),
        if others == 1 { one } else { g.noun.as_str() }
    ));
    let placeholder = format!("<{one}>");
    let general = |s: &str| s.replace(&lead.subject, &placeholder);
    let mut steps: Vec<Step> = lead
        .remediation_steps
        .iter()
        .map(|s| Step {
            step: general(&s.step),
            command: s.command.as_deref().map(general),
            destructive: s.destructive,
            skip_if: s.skip_if.clone(),
            only_if: s.only_if.clone(),
        })
        .collect();
    let (_, all) = list(None);
    steps.push(Step {
        step: format!("Do this for each of the {about}{n} {}: {all}", g.noun),
        command: None,
        destructive: false,
        skip_if: None,
        only_if: None,
    });
    f.remediation = steps.iter().map(Step::to_line).collect();
    f.remediation_steps = steps;
    f.context = lead.context;
    f.affected = affected;
    f.affected_omitted = more;
    f
}

/// One finding from those of one rule and subject in several inputs: the most
/// severe (then the latest) speaks for them, counts add up, and the evidence
/// is taken in time order (then input name and line), whatever the order of
/// the inputs.
fn merge_group(mut group: Vec<Finding>) -> Finding {
    if group.len() == 1 {
        return group.pop().expect("one finding");
    }
    group.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| b.last_seen.cmp(&a.last_seen))
            .then_with(|| a.message.cmp(&b.message))
            .then_with(|| {
                let src = |f: &Finding| f.evidence.first().map(|e| (e.source.clone(), e.line));
                src(a).cmp(&src(b))
            })
    });
    let mut rest = group.split_off(1);
    let mut g = group.pop().expect("the first of the group");
    let mut evidence = std::mem::take(&mut g.evidence);
    for f in &mut rest {
        g.count += f.count;
        g.first_seen = min_opt(g.first_seen, f.first_seen);
        g.last_seen = max_opt(g.last_seen, f.last_seen);
        evidence.append(&mut f.evidence);
    }
    evidence.sort_by(|a, b| {
        a.time
            .cmp(&b.time)
            .then_with(|| a.source.cmp(&b.source))
            .then_with(|| a.line.cmp(&b.line))
            .then_with(|| a.column.cmp(&b.column))
    });
    evidence.dedup_by(|a, b| a.source == b.source && a.line == b.line && a.column == b.column);
    evidence.truncate(MAX_EVIDENCE);
    g.evidence = evidence;
    g
}
