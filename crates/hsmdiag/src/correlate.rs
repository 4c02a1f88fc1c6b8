//! Across inputs: each source's clock offset, estimated from connections both
//! ends logged, and the related evidence (causes and effects) that rules ask for.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

pub use hsmdiag_parse::Anchor;

use crate::event::{Event, SourceId, Value};
use crate::finding::{Finding, RelatedEvidence};
use crate::kb::{Relation, Rule};

/// The most related events a finding keeps per `[[related]]` entry.
pub const MAX_RELATED: usize = 3;

/// A source's clock offset against the reference source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[non_exhaustive]
pub struct ClockSkew {
    /// The input.
    pub source: String,
    /// The input whose clock the others are measured against.
    pub reference: String,
    /// How far this input's clock is ahead of the reference (negative: behind),
    /// in milliseconds.
    pub offset_ms: i64,
    /// How many connections both ends logged, directly between the two inputs
    /// or along the chain that links them.
    pub pairs: usize,
    /// The input index.
    #[serde(skip)]
    pub source_id: SourceId,
}

impl ClockSkew {
    /// `7m 11s ahead of client.txt (3 connections logged at both ends)`.
    pub fn describe(&self) -> String {
        format!(
            "{} {} {} ({} connection{} logged at both ends)",
            human_ms(self.offset_ms.abs()),
            if self.offset_ms >= 0 {
                "ahead of"
            } else {
                "behind"
            },
            self.reference,
            self.pairs,
            if self.pairs == 1 { "" } else { "s" }
        )
    }
}

/// Estimates each input's clock offset from connections logged at both ends: a
/// client's SYN to the HSM and the appliance's "Incoming connection request" for
/// the same client address and port. The reference is the input with the most
/// pairs; an input linked to it through other inputs gets the sum of the
/// offsets along the way. The offset of a pair of inputs is the median over
/// their connections (network latency is taken as nil).
pub fn estimate_skew(anchors: &[Anchor], names: &dyn Fn(SourceId) -> String) -> Vec<ClockSkew> {
    let mut servers: HashMap<SocketAddr, Vec<&Anchor>> = HashMap::new();
    for a in anchors.iter().filter(|a| !a.client_side) {
        servers.entry(a.client).or_default().push(a);
    }
    // (client source, server source) → server time − client time, per pair.
    let mut deltas: BTreeMap<(SourceId, SourceId), Vec<i64>> = BTreeMap::new();
    for c in anchors.iter().filter(|a| a.client_side) {
        let Some(cands) = servers.get(&c.client) else {
            continue;
        };
        let nearest = cands
            .iter()
            .filter(|s| s.source != c.source)
            .min_by_key(|s| (s.time - c.time).num_milliseconds().abs());
        if let Some(s) = nearest {
            deltas
                .entry((c.source, s.source))
                .or_default()
                .push((s.time - c.time).num_milliseconds());
        }
    }
    if deltas.is_empty() {
        return Vec::new();
    }
    let mut edges: HashMap<SourceId, Vec<(SourceId, i64, usize)>> = HashMap::new();
    let mut weight: HashMap<SourceId, usize> = HashMap::new();
    for ((c, s), mut d) in deltas {
        d.sort_unstable();
        let median = d[d.len() / 2];
        let n = d.len();
        edges.entry(c).or_default().push((s, median, n));
        edges.entry(s).or_default().push((c, -median, n));
        *weight.entry(c).or_default() += n;
        *weight.entry(s).or_default() += n;
    }
    let reference = *weight
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(s, _)| s)
        .expect("there is at least one pair");
    let mut offset: BTreeMap<SourceId, (i64, usize)> = BTreeMap::new();
    offset.insert(reference, (0, 0));
    let mut queue = VecDeque::from([reference]);
    while let Some(at) = queue.pop_front() {
        let (base, pairs) = offset[&at];
        for &(next, d, n) in edges.get(&at).into_iter().flatten() {
            if let std::collections::btree_map::Entry::Vacant(e) = offset.entry(next) {
                e.insert((base + d, if pairs == 0 { n } else { pairs.min(n) }));
                queue.push_back(next);
            }
        }
    }
    offset
        .into_iter()
        .filter(|(s, _)| *s != reference)
        .map(|(s, (ms, pairs))| ClockSkew {
            source: names(s),
            reference: names(reference),
            offset_ms: ms,
            pairs,
            source_id: s,
        })
        .collect()
}

/// A time on the reference clock: the input's own time minus its offset.
pub fn corrected(t: DateTime<Utc>, source: SourceId, skew: &[ClockSkew]) -> DateTime<Utc> {
    match skew.iter().find(|s| s.source_id == source) {
        Some(s) => t - TimeDelta::milliseconds(s.offset_ms),
        None => t,
    }
}

/// Values named through other events (`serial@host`): per (field, attribute),
/// each value of the field → the attribute's values on the events carrying it.
#[derive(Default)]
struct Resolved {
    maps: HashMap<(String, String), HashMap<String, Vec<String>>>,
}

impl Resolved {
    /// The one `attr` of the events whose `key` is `value`; none when no
    /// event or more than one distinct value says.
    fn one(&mut self, events: &[Event], key: &str, attr: &str, value: &str) -> Option<&String> {
        let map = self
            .maps
            .entry((key.to_owned(), attr.to_owned()))
            .or_insert_with(|| {
                let mut map: HashMap<String, Vec<String>> = HashMap::new();
                for ev in events {
                    let (Some(k), Some(a)) = (ev.value(key), ev.value(attr)) else {
                        continue;
                    };
                    let seen = map.entry(text(k)).or_default();
                    let a = text(a);
                    if !seen.contains(&a) {
                        seen.push(a);
                    }
                }
                map
            });
        match map.get(value).map(Vec::as_slice) {
            Some([one]) => Some(one),
            _ => None,
        }
    }
}

/// Leaves out the steps the related evidence makes moot (`skip_if`: a
/// certificate regenerated since) and those that answer evidence not found
/// (`only_if`).
fn prune_steps(f: &mut Finding) {
    let before = f.remediation_steps.len();
    let related = &f.related;
    let found = |t: &str| related.iter().any(|r| r.tag.as_deref() == Some(t));
    f.remediation_steps.retain(|s| {
        !s.skip_if.as_deref().is_some_and(found) && s.only_if.as_deref().is_none_or(found)
    });
    if f.remediation_steps.len() != before {
        f.remediation = f
            .remediation_steps
            .iter()
            .map(crate::finding::Step::to_line)
            .collect();
    }
}

fn text(v: Value) -> String {
    match v {
        Value::Text(s) => s,
        v => v.to_string(),
    }
}

/// Attaches related evidence to the findings whose rules ask for it, and writes
/// each such finding's chain (causes → the finding → effects). `events` are
/// the candidates gathered from every input; times are compared on the
/// reference clock.
pub fn relate(
    findings: &mut [Finding],
    rules: &[Rule],
    events: &[Event],
    skew: &[ClockSkew],
    names: &dyn Fn(SourceId) -> String,
) {
    let mut resolved = Resolved::default();
    for f in findings.iter_mut() {
        let Some(rule) = rules.iter().find(|r| r.id == f.id) else {
            continue;
        };
        if rule.related.is_empty() {
            continue;
        }
        let Some(first) = f.evidence.first().cloned() else {
            prune_steps(f);
            continue;
        };
        let last = f.evidence.last().cloned().unwrap_or_else(|| first.clone());
        let start = f.first_seen.map(|t| corrected(t, first.source_id, skew));
        let end = f.last_seen.map(|t| corrected(t, last.source_id, skew));
        for r in &rule.related {
            let mut picked: Vec<(i64, &Event)> = Vec::new();
            for ev in events.iter().filter(|e| r.cond.matches(e)) {
                if f.evidence
                    .iter()
                    .any(|e| e.source_id == ev.span.source && e.line == ev.span.line)
                {
                    continue;
                }
                let joined = r.same.iter().all(|(theirs, mine)| {
                    let want = match mine.split_once('@') {
                        Some((key, attr)) => f
                            .context
                            .get(key)
                            .and_then(|v| resolved.one(events, key, attr, v)),
                        None => f.context.get(mine),
                    };
                    let got = ev.value(theirs).map(text);
                    want.is_some() && got.as_ref() == want
                });
                if !joined {
                    continue;
                }
                let t = ev.time.map(|t| corrected(t, ev.span.source, skew));
                let distance = match (r.relation, t, start, end) {
                    (Relation::Cause, Some(t), Some(start), _) => {
                        let gap = start - t;
                        if gap < TimeDelta::zero()
                            || r.within.is_some_and(|w| gap.to_std().is_ok_and(|g| g > w))
                        {
                            continue;
                        }
                        gap.num_milliseconds()
                    }
                    (Relation::Effect, Some(t), _, Some(end)) => {
                        let gap = t - end;
                        if gap < TimeDelta::zero()
                            || r.within.is_some_and(|w| gap.to_std().is_ok_and(|g| g > w))
                        {
                            continue;
                        }
                        gap.num_milliseconds()
                    }
                    (Relation::During, Some(t), Some(start), Some(end)) => {
                        if t < start || t > end {
                            continue;
                        }
                        (t - start).num_milliseconds()
                    }
                    // No times to compare: in the same input the line order
                    // decides; across inputs only a join can vouch for it.
                    _ if ev.span.source == first.source_id => {
                        let (a, b) = match r.relation {
                            Relation::Cause => (ev.span.line, first.line),
                            Relation::Effect => (last.line, ev.span.line),
                            Relation::During => {
                                if ev.span.line < first.line || ev.span.line > last.line {
                                    continue;
                                }
                                (first.line, ev.span.line + 1)
                            }
                        };
                        if a >= b {
                            continue;
                        }
                        i64::from(b - a)
                    }
                    _ if !r.same.is_empty() => i64::MAX,
                    _ => continue,
                };
                picked.push((distance, ev));
            }
            picked.sort_by_key(|(d, e)| (*d, e.span.source, e.span.line));
            for (_, ev) in picked.into_iter().take(MAX_RELATED) {
                f.related.push(RelatedEvidence {
                    relation: r.relation,
                    note: r.note.clone(),
                    source_id: ev.span.source,
                    source: names(ev.span.source),
                    line: ev.span.line,
                    text: ev.text.clone(),
                    time: ev.time,
                    tag: r.tag.clone(),
                });
            }
        }
        prune_steps(f);
        if f.related.is_empty() {
            continue;
        }
        // Times on the reference clock, so that the order reads true.
        let at = |source: &str, id: SourceId, line: u32, time: Option<DateTime<Utc>>| match time {
            Some(t) => format!(
                "{source}:{line}, {}",
                corrected(t, id, skew).format("%Y-%m-%d %H:%M:%S")
            ),
            None => format!("{source}:{line}"),
        };
        let mut parts = Vec::new();
        let cause = f.related.iter().find(|r| r.relation == Relation::Cause);
        if let Some(c) = cause {
            parts.push(format!(
                "{} ({})",
                c.note,
                at(&c.source, c.source_id, c.line, c.time)
            ));
        }
        parts.push(format!(
            "{} ({})",
            f.message.as_deref().unwrap_or(&f.title),
            at(&first.source, first.source_id, first.line, first.time)
        ));
        if let Some(d) = f.related.iter().find(|r| r.relation == Relation::During) {
            parts.push(format!(
                "{} ({})",
                d.note,
                at(&d.source, d.source_id, d.line, d.time)
            ));
        }
        if let Some(e) = f.related.iter().find(|r| r.relation == Relation::Effect) {
            parts.push(format!(
                "{} ({})",
                e.note,
                at(&e.source, e.source_id, e.line, e.time)
            ));
        }
        f.chain = Some(parts.join(" → "));
    }
}

/// `7m 02s`, `450ms`, `1h 05m 00s`.
pub fn human_ms(ms: i64) -> String {
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let s = ms / 1000;
    let (h, m, s) = (s / 3600, (s / 60) % 60, s % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m {s:02}s"),
        _ => format!("{h}h {m:02}m {s:02}s"),
    }
}
