//! The rules engine: feeds events one at a time through every rule's matchers
//! and aggregates the hits into findings.
//!
//! State is kept per rule and key (a client address, a host and pid) and is
//! pruned by each matcher's time window, so memory grows with the number of
//! distinct keys in play, not with the size of the input.

use std::collections::{HashMap, HashSet, VecDeque};

use chrono::{DateTime, Utc};

use crate::event::{Event, SourceId, Value};
use crate::finding::{Evidence, Finding, MAX_EVIDENCE, Step};

mod group;
mod matchers;
mod overflow;

use crate::kb::{Cond, Direction, KnowledgeBase, MatchSpec, Matcher, Rule, Severity};
pub use group::{group_by_cause_bounded, merge};
pub use overflow::{MAX_GROUPS_PER_RULE, MAX_SUBJECTS_PER_RULE, Omitted};
use overflow::{max_opt, min_opt};

/// Names the inputs so evidence can say where it came from.
pub trait SourceNames {
    /// The display name of an input.
    fn name(&self, id: SourceId) -> String;
}

impl<F: Fn(SourceId) -> String> SourceNames for F {
    fn name(&self, id: SourceId) -> String {
        self(id)
    }
}

fn within(spec: &MatchSpec, a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> bool {
    match (spec.within, a, b) {
        (Some(w), Some(a), Some(b)) => (b - a).to_std().map_or(true, |d| d <= w),
        _ => true,
    }
}

fn key_of(spec: &MatchSpec, ev: &Event) -> String {
    let mut k = String::new();
    for (i, name) in spec.key.iter().enumerate() {
        if i > 0 {
            k.push('\u{1f}');
        }
        if let Some(v) = ev.value(name) {
            k.push_str(&v.to_string());
        }
    }
    k
}

/// The most partial sequence matches kept per key; the oldest goes first.
const MAX_PARTIALS: usize = 32;

/// Hits a matcher holds while its context has not appeared in the input.
const MAX_AWAITING_CONTEXT: usize = 256;

/// A matcher's context (`context = { event = ... }`): the event that showed
/// it, or the hits that wait for it.
#[derive(Debug, Default)]
struct Gate {
    seen: Option<Matched>,
    awaiting: Vec<Hit>,
}

/// The event being fed, with the one shared copy every matcher that keeps it
/// holds: made when the first matcher keeps it, so the many partial
/// matches and counts that hold one event (one document's lines start
/// several rules' sequences) hold one copy, not one each.
pub(in crate::engine) struct Fed<'a> {
    event: &'a Event,
    kept: std::cell::OnceCell<std::sync::Arc<Event>>,
}

impl<'a> Fed<'a> {
    fn new(event: &'a Event) -> Self {
        Fed {
            event,
            kept: std::cell::OnceCell::new(),
        }
    }

    /// The shared copy of the event, made on first use.
    fn keep(&self) -> std::sync::Arc<Event> {
        self.kept
            .get_or_init(|| std::sync::Arc::new(self.event.clone()))
            .clone()
    }
}

impl std::ops::Deref for Fed<'_> {
    type Target = Event;
    fn deref(&self) -> &Event {
        self.event
    }
}

/// A matched event and the condition it met (for labelling).
#[derive(Debug, Clone)]
struct Matched {
    event: std::sync::Arc<Event>,
    label: Option<std::sync::Arc<str>>,
    note: Option<std::sync::Arc<str>>,
}

impl Matched {
    fn new(event: &Fed<'_>, cond: &Cond) -> Self {
        Matched {
            event: event.keep(),
            label: cond.label.as_deref().map(std::sync::Arc::from),
            note: cond.note.as_deref().map(std::sync::Arc::from),
        }
    }

    /// The event as evidence needs it: its text and place, and of its fields
    /// only the labelled one, the first one found in the text (where a label
    /// goes without one), and those a `{list:...}` placeholder reads.
    fn slim(self, listed: &[String]) -> Self {
        let ev = &self.event;
        let label = self.label.as_deref();
        let first_located = ev.fields.iter().position(|f| !f.range.is_empty());
        let mut slim = Event::clone(ev);
        let mut i = 0;
        slim.fields.retain(|f| {
            let keep = Some(i) == first_located
                || label == Some(&*f.name)
                || listed.iter().any(|l| l == &*f.name);
            i += 1;
            keep
        });
        slim.fields.shrink_to_fit();
        let event = std::sync::Arc::new(slim);
        Matched { event, ..self }
    }
}

/// The fields a rule's `{list:field}` and `{list:field@key=value}`
/// placeholders read, in any of its templates.
fn listed_fields(rule: &Rule) -> Vec<String> {
    let mut templates: Vec<&crate::kb::Template> = rule.message.iter().collect();
    for spec in &rule.matches {
        templates.push(&spec.subject);
        templates.extend(&spec.message);
    }
    for step in &rule.remediation {
        templates.push(&step.step);
        templates.extend(&step.command);
    }
    let mut out = Vec::new();
    for name in templates.iter().flat_map(|t| t.names()) {
        let Some(spec) = name.strip_prefix("list:") else {
            continue;
        };
        let (field, filter) = spec.split_once('@').unwrap_or((spec, ""));
        let key = filter.split_once('=').map_or("", |(k, _)| k);
        for f in [field, key] {
            let f = f.split('.').next().unwrap_or_default();
            if !f.is_empty() && !out.iter().any(|o| o == f) {
                out.push(f.to_owned());
            }
        }
    }
    out
}

#[derive(Debug)]
struct Partial {
    next: usize,
    start: Option<DateTime<Utc>>,
    events: Vec<Matched>,
}

/// Keys a matcher holds unfinished state for (a sequence waiting for its
/// next step, a trigger waiting for its companion, a count below its
/// threshold): past it the oldest quarter is let go, so memory stays bounded
/// on input that opens many and closes few (fresh resource ids in every
/// document). Past [`MAX_PER_KEY`] partial matches for one key, the oldest go.
const MAX_STATE_KEYS: usize = 256;

/// Partial matches or waiting triggers held for one key.
const MAX_PER_KEY: usize = 4;

/// Where the oldest event a piece of state holds stands: what is let go first.
fn age(events: &[Matched]) -> (u32, u64) {
    events
        .iter()
        .map(|m| (m.event.span.source.0, m.event.span.start))
        .min()
        .unwrap_or((u32::MAX, u64::MAX))
}

/// Keeps a matcher's state within [`MAX_STATE_KEYS`] and [`MAX_PER_KEY`].
fn bound_state(state: &mut State) {
    fn evict<V>(map: &mut HashMap<String, V>, age_of: impl Fn(&V) -> (u32, u64)) {
        if map.len() <= MAX_STATE_KEYS {
            return;
        }
        let mut ages: Vec<((u32, u64), String)> =
            map.iter().map(|(k, v)| (age_of(v), k.clone())).collect();
        ages.sort();
        for (_, k) in ages.into_iter().take(MAX_STATE_KEYS / 4) {
            map.remove(&k);
        }
    }
    match state {
        State::Count(m) => evict(m, |c| age(&c.first)),
        State::Sequence(m) => {
            for v in m.values_mut() {
                while v.len() > MAX_PER_KEY {
                    v.pop_front();
                }
            }
            evict(m, |v| {
                v.iter()
                    .map(|p| age(&p.events))
                    .min()
                    .unwrap_or((u32::MAX, u64::MAX))
            });
        }
        State::Pending(m) => {
            for v in m.values_mut() {
                if v.len() > MAX_PER_KEY {
                    v.drain(..v.len() - MAX_PER_KEY);
                }
            }
            evict(m, |v| age(v));
        }
        // A time or a number per key: small, but keys still bounded.
        State::Seen(m) => {
            if m.len() > MAX_STATE_KEYS * 4 {
                let mut keys: Vec<(Option<DateTime<Utc>>, String)> =
                    m.iter().map(|(k, v)| (*v, k.clone())).collect();
                keys.sort();
                for (_, k) in keys.into_iter().take(MAX_STATE_KEYS) {
                    m.remove(&k);
                }
            }
        }
        State::Streak(m) => {
            if m.len() > MAX_STATE_KEYS * 4 {
                let mut keys: Vec<String> = m.keys().cloned().collect();
                keys.sort();
                for k in keys.into_iter().take(MAX_STATE_KEYS) {
                    m.remove(&k);
                }
            }
        }
        State::Stateless => {}
    }
}

#[derive(Debug, Default)]
struct CountState {
    times: VecDeque<Option<DateTime<Utc>>>,
    /// Values of the `distinct` field already counted.
    seen: overflow::Seen,
    first: Vec<Matched>,
    fired: bool,
}

#[derive(Debug)]
enum State {
    Stateless,
    Count(HashMap<String, CountState>),
    Sequence(HashMap<String, VecDeque<Partial>>),
    /// Before: the time of the last expected event per key.
    Seen(HashMap<String, Option<DateTime<Utc>>>),
    /// After: triggers waiting for their companion, per key.
    Pending(HashMap<String, Vec<Matched>>),
    /// Consecutive failures per key.
    Streak(HashMap<String, u32>),
}

/// A rule matched: the events that prove it.
#[derive(Debug)]
struct Hit {
    rule: usize,
    spec: usize,
    events: Vec<Matched>,
    weight: u64,
    /// A streak's count: (failures, tries left, limit, severity).
    streak: Option<StreakState>,
}

impl Hit {
    /// A hit of rule `ri`'s matcher `si` by one event.
    fn one((ri, si): (usize, usize), m: Matched) -> Hit {
        Hit {
            rule: ri,
            spec: si,
            events: vec![m],
            weight: 1,
            streak: None,
        }
    }
}

/// Where a failure streak stands at a hit.
#[derive(Debug, Clone, Copy)]
struct StreakState {
    failures: u32,
    left: u32,
    limit: u32,
    severity: Option<Severity>,
    /// A success ended the streak after this finding's failures.
    reset: bool,
}

/// A finding's identity in one input: its rule, the host it is about (a fleet
/// sending to one collector is one stream) and its subject.
type AggKey = (usize, Option<String>, String);

#[derive(Debug, Clone)]
struct Agg {
    rule: usize,
    spec: usize,
    host: Option<String>,
    subject: String,
    count: u64,
    first_seen: Option<DateTime<Utc>>,
    last_seen: Option<DateTime<Utc>>,
    first_pos: (SourceId, u64),
    evidence: Vec<Matched>,
    /// The events of the first hit, for filling templates.
    binding: Vec<Matched>,
    /// A streak's latest count.
    streak: Option<StreakState>,
    /// The event that showed its matcher's context, shown after the evidence.
    context: Option<Matched>,
    /// Where its hits ended (each hit's last event: a sequence's earlier steps
    /// may stand far away), each with its matcher's `defers_within`: the
    /// finding gives way only when every one of them is explained.
    ends: Vec<(Line, Option<u32>)>,
}

/// A line of an input.
type Line = (SourceId, u32);

/// A streaming rules engine over one knowledge base.
#[derive(Debug)]
pub struct Engine<'kb> {
    kb: &'kb KnowledgeBase,
    /// Whether the input holds Terraform's output (its steps come first).
    terraform: bool,
    states: Vec<Vec<State>>,
    aggs: HashMap<AggKey, Agg>,
    /// Rules some other rule yields to, for the suppression check.
    yields: Vec<Vec<usize>>,
    /// For each event kind, the (rule, matcher) pairs whose conditions name it,
    /// in rule order.
    interested: HashMap<String, Vec<(usize, usize)>>,
    last_time: Option<DateTime<Utc>>,
    /// The input's name, for `{source}` in subjects.
    source_name: Option<String>,
    /// Findings that appeared since [`Engine::take_new`] last ran.
    fresh: Vec<AggKey>,
    /// The severity each finding had when [`take_new`](Self::take_new) last
    /// handed it out: a finding whose severity rises is handed out again.
    announced: HashMap<AggKey, Severity>,
    /// The (rule, matcher) pairs that wait for an absence.
    absences: Vec<(usize, usize)>,
    /// How many subjects of each rule are held in full.
    held: Vec<usize>,
    /// How many subjects of each rule's group (host, then a grouped rule's
    /// fields) are held in full.
    held_in: HashMap<(usize, Vec<Option<String>>), usize>,
    /// Tallies of the hits about subjects beyond the bound.
    omitted: Vec<Omitted>,
    /// The context of each (rule, matcher) that needs one.
    gates: HashMap<(usize, usize), Gate>,
    /// For each rule, the fields its `{list:...}` placeholders read from the
    /// evidence: all a later hit's evidence event keeps besides its text.
    listed: Vec<Vec<String>>,
    /// The lines where a paragraph of prose starts, in order (at most
    /// [`MAX_PARAGRAPHS`]): a generic finding gives way only to a specific one
    /// between the same two.
    paragraphs: Vec<u32>,
}

/// The most paragraph starts an engine keeps; past them, the rest of the
/// input is one paragraph (a ticket has a few dozen).
const MAX_PARAGRAPHS: usize = 4096;

impl<'kb> Engine<'kb> {
    /// Names the input, so that a subject can say `{source}` (an application
    /// log with no host name is told apart from another by its file).
    pub fn with_source_name(mut self, name: impl Into<String>) -> Self {
        self.source_name = Some(name.into());
        self
    }

    /// An engine with empty state.
    pub fn new(kb: &'kb KnowledgeBase) -> Self {
        let states: Vec<Vec<State>> = kb
            .rules()
            .iter()
            .map(|r| {
                r.matches
                    .iter()
                    .map(|m| match (&m.matcher, ()) {
                        (Matcher::Single { .. }, ()) => State::Stateless,
                        (Matcher::Count { .. }, ()) => State::Count(HashMap::new()),
                        (Matcher::Sequence { .. }, ()) => State::Sequence(HashMap::new()),
                        (Matcher::Streak { .. }, ()) => State::Streak(HashMap::new()),
                        (
                            Matcher::Absence {
                                direction: Direction::Before,
                                ..
                            },
                            (),
                        ) => State::Seen(HashMap::new()),
                        (
                            Matcher::Absence {
                                direction: Direction::After,
                                ..
                            },
                            (),
                        ) => State::Pending(HashMap::new()),
                    })
                    .collect()
            })
            .collect();
        let yields = kb
            .rules()
            .iter()
            .map(|r| {
                r.yields_to
                    .iter()
                    .filter_map(|id| kb.rules().iter().position(|o| &o.id == id))
                    .collect()
            })
            .collect();
        let absences = states
            .iter()
            .enumerate()
            .flat_map(|(ri, r)| {
                r.iter()
                    .enumerate()
                    .filter(|(_, st)| matches!(st, State::Pending(_)))
                    .map(move |(si, _)| (ri, si))
            })
            .collect();
        let mut interested: HashMap<String, Vec<(usize, usize)>> = HashMap::new();
        for (ri, rule) in kb.rules().iter().enumerate() {
            for (si, spec) in rule.matches.iter().enumerate() {
                for cond in spec.matcher.conditions().into_iter().chain(&spec.context) {
                    for kind in &cond.kinds {
                        let list = interested.entry(kind.clone()).or_default();
                        if !list.contains(&(ri, si)) {
                            list.push((ri, si));
                        }
                    }
                }
            }
        }
        Engine {
            terraform: false,
            kb,
            states,
            aggs: HashMap::new(),
            yields,
            interested,
            last_time: None,
            source_name: None,
            fresh: Vec::new(),
            announced: HashMap::new(),
            absences,
            held: vec![0; kb.rules().len()],
            held_in: HashMap::new(),
            omitted: Vec::new(),
            gates: HashMap::new(),
            paragraphs: Vec::new(),
            listed: kb.rules().iter().map(listed_fields).collect(),
        }
    }

    /// Says that a paragraph of prose starts at this line of the input being
    /// fed (a sentence a person wrote after a blank line): what a ticket pastes
    /// before it and after it are separate records, and a generic finding in
    /// one does not give way to a specific finding in another.
    pub fn paragraph(&mut self, line: u32) {
        if self.paragraphs.len() < MAX_PARAGRAPHS
            && self.paragraphs.last().is_none_or(|&l| l < line)
        {
            self.paragraphs.push(line);
        }
    }

    /// The rules with a streak that would count this event (one left out by
    /// `--since`): their findings may be missing earlier failures.
    pub fn streaks_counting(&self, ev: &Event) -> Vec<&str> {
        self.kb
            .rules()
            .iter()
            .filter(|r| {
                r.matches.iter().any(|m| match &m.matcher {
                    Matcher::Streak { cond, .. } => cond.matches(ev),
                    _ => false,
                })
            })
            .map(|r| r.id.as_str())
            .collect()
    }

    /// Feeds one event.
    pub fn feed(&mut self, ev: &Event) {
        if ev.kind.is_unrecognized() {
            return;
        }
        self.terraform |= ev.kind.as_str().starts_with("tf.");
        let ev = &Fed::new(ev);
        let mut hits = Vec::new();
        if let Some(t) = ev.time {
            self.last_time = Some(self.last_time.map_or(t, |l| l.max(t)));
            self.expire_pending(t, &mut hits);
        }
        // Only the matchers that name this event's kind can move.
        let rules = self.kb.rules();
        let mut released = Vec::new();
        if let Some(specs) = self.interested.get(ev.kind.as_str()) {
            for &(ri, si) in specs {
                let spec = &rules[ri].matches[si];
                if let Some(c) = spec.context.as_ref().filter(|c| c.matches(ev)) {
                    let gate = self.gates.entry((ri, si)).or_default();
                    if gate.seen.is_none() {
                        gate.seen = Some(Matched::new(ev, c));
                        released.append(&mut gate.awaiting);
                    }
                }
                step(ri, si, spec, &mut self.states[ri][si], ev, &mut hits);
                bound_state(&mut self.states[ri][si]);
            }
        }
        if hits.len() > 1 {
            let fired: Vec<usize> = hits.iter().map(|h| h.rule).collect();
            hits.retain(|h| !self.yields[h.rule].iter().any(|r| fired.contains(r)));
            // One event is one occurrence of a rule and subject, however many of
            // the rule's matchers it completes: keep the hit with the most evidence.
            let kb = self.kb;
            let subject = |h: &Hit| {
                kb.rules()[h.rule].matches[h.spec]
                    .subject
                    .render(|n| lookup(&h.events, n))
            };
            let mut keyed: Vec<(usize, String, Hit)> =
                hits.into_iter().map(|h| (h.rule, subject(&h), h)).collect();
            keyed.sort_by(|a, b| {
                (a.0, &a.1)
                    .cmp(&(b.0, &b.1))
                    .then(b.2.events.len().cmp(&a.2.events.len()))
            });
            keyed.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
            hits = keyed.into_iter().map(|(_, _, h)| h).collect();
            // Nor does one line that two of a rule's single-event matchers
            // read make two findings because the matchers name their subject
            // in other words: the matcher whose subject the line fills most
            // speaks for it, of equals the one written first. (Counts and
            // sequences on one event may be different occurrences: a region
            // and a stamp over their quotas.)
            let single = |h: &Hit| {
                matches!(
                    kb.rules()[h.rule].matches[h.spec].matcher,
                    crate::kb::Matcher::Single { .. }
                )
            };
            let said = |h: &Hit| {
                kb.rules()[h.rule].matches[h.spec]
                    .subject
                    .filled(|n| lookup(&h.events, n))
            };
            // Per rule: (rule, filled, spec) of the best.
            let mut best: Vec<(usize, usize, usize)> = Vec::new();
            for h in hits.iter().filter(|h| single(h)) {
                let (n, spec) = (said(h), h.spec);
                match best.iter_mut().find(|b| b.0 == h.rule) {
                    Some(b) if n > b.1 || (n == b.1 && spec < b.2) => *b = (h.rule, n, spec),
                    Some(_) => {}
                    None => best.push((h.rule, n, spec)),
                }
            }
            hits.retain(|h| !single(h) || best.iter().any(|b| (b.0, b.2) == (h.rule, h.spec)));
        }
        for h in released.into_iter().chain(hits) {
            let context = match self.kb.rules()[h.rule].matches[h.spec].context {
                None => None,
                Some(_) => {
                    let gate = self.gates.entry((h.rule, h.spec)).or_default();
                    match &gate.seen {
                        Some(seen) => Some(seen.clone()),
                        None => {
                            // Held until the input shows the context.
                            if gate.awaiting.len() < MAX_AWAITING_CONTEXT {
                                gate.awaiting.push(h);
                            }
                            continue;
                        }
                    }
                }
            };
            if let Some(key) = self.record(h) {
                if let Some(agg) = self.aggs.get_mut(&key) {
                    agg.context = agg.context.take().or(context);
                }
            }
        }
    }

    fn expire_pending(&mut self, now: DateTime<Utc>, hits: &mut Vec<Hit>) {
        let rules = self.kb.rules();
        for &(ri, si) in &self.absences {
            let spec = &rules[ri].matches[si];
            {
                if let State::Pending(map) = &mut self.states[ri][si] {
                    if map.is_empty() {
                        continue;
                    }
                    for waiting in map.values_mut() {
                        waiting.retain(|m| {
                            let expired =
                                m.event.time.is_some() && !within(spec, m.event.time, Some(now));
                            if expired {
                                hits.push(Hit {
                                    rule: ri,
                                    spec: si,
                                    events: vec![m.clone()],
                                    weight: 1,
                                    streak: None,
                                });
                            }
                            !expired
                        });
                    }
                    map.retain(|_, v| !v.is_empty());
                }
            }
        }
    }

    /// The group a hit's subject counts in: its host, then, for a rule that
    /// groups its findings, the group's fields (its cause).
    fn group_of(&self, hit: &Hit) -> Vec<Option<String>> {
        let rule = &self.kb.rules()[hit.rule];
        std::iter::once(lookup(&hit.events, "host"))
            .chain(
                rule.group
                    .iter()
                    .flat_map(|g| g.by.iter().map(|k| lookup(&hit.events, k))),
            )
            .collect()
    }

    /// Whether a new subject of this hit's rule is held in full: up to
    /// [`MAX_SUBJECTS_PER_RULE`] in its group, and the first of every group
    /// (a new host or cause always gets its finding) up to
    /// [`MAX_GROUPS_PER_RULE`] groups; the rest are tallied.
    fn holds(&mut self, hit: &Hit) -> bool {
        let key = (hit.rule, self.group_of(hit));
        let groups = &mut self.held_in;
        let in_group = groups.get(&key).copied().unwrap_or(0);
        let room = if in_group == 0 {
            groups.len() < MAX_GROUPS_PER_RULE * self.kb.rules().len().max(1)
        } else {
            in_group < MAX_SUBJECTS_PER_RULE && self.held[hit.rule] < MAX_SUBJECTS_PER_RULE * 8
        };
        if room {
            *groups.entry(key).or_insert(0) += 1;
            self.held[hit.rule] += 1;
        }
        room
    }

    /// Counts a hit about a subject beyond the bound: in the tally of its
    /// rule (and, for a grouped rule, of its group and window).
    fn tally(&mut self, hit: &Hit, subject: &str, time: Option<DateTime<Utc>>) {
        let rule = &self.kb.rules()[hit.rule];
        let (by, within) = match &rule.group {
            // As the findings are grouped: per host, then the group's fields.
            Some(g) => (
                self.group_of(hit),
                chrono::Duration::from_std(g.within).ok(),
            ),
            None => (Vec::new(), None),
        };
        let open = self
            .omitted
            .iter()
            .rposition(|o| o.rule == hit.rule && o.by == by);
        let fits = open.is_some_and(|i| match (within, self.omitted[i].last_seen, time) {
            (Some(w), Some(last), Some(t)) => t - last <= w,
            _ => true,
        });
        let i = match open {
            Some(i) if fits => i,
            _ => {
                self.omitted
                    .push(Omitted::new(hit.rule, &rule.id, rule.code.as_str(), by));
                self.omitted.len() - 1
            }
        };
        self.omitted[i].add(subject, hit.weight, time);
    }

    /// The tallies of hits about subjects beyond [`MAX_SUBJECTS_PER_RULE`]
    /// (call before [`finish`](Self::finish)).
    pub fn take_omitted(&mut self) -> Vec<Omitted> {
        std::mem::take(&mut self.omitted)
    }

    /// Adds a hit to its finding; gives the finding's key, unless the hit
    /// only ended a streak or its subject is beyond the bound.
    fn record(&mut self, hit: Hit) -> Option<AggKey> {
        let rule = &self.kb.rules()[hit.rule];
        let spec = &rule.matches[hit.spec];
        let subject = spec.subject.render(|n| match n {
            "source" => self.source_name.clone(),
            _ => lookup(&hit.events, n),
        });
        let host = lookup(&hit.events, "host");
        // A success after failures: the finding they made, if any, learns it.
        if hit.streak.is_some_and(|s| s.reset) {
            if let Some(agg) = self.aggs.get_mut(&(hit.rule, host, subject)) {
                if let Some(st) = agg.streak.as_mut() {
                    st.reset = true;
                }
                for m in hit.events {
                    if agg.evidence.len() < MAX_EVIDENCE {
                        agg.evidence.push(m);
                    }
                }
            }
            return None;
        }
        let times = hit.events.iter().filter_map(|m| m.event.time);
        let (lo, hi) = (times.clone().min(), times.max());
        let anchor = hit.events.last().map_or((SourceId(0), 0), |m| {
            (m.event.span.source, m.event.span.start)
        });
        let key = (hit.rule, host.clone(), subject.clone());
        if !self.aggs.contains_key(&key) {
            if !self.holds(&hit) {
                self.tally(&hit, &subject, lo.or(hi));
                return None;
            }
            self.fresh.push(key.clone());
        }
        let agg = self.aggs.entry(key.clone()).or_insert_with(|| Agg {
            rule: hit.rule,
            spec: hit.spec,
            host,
            subject,
            count: 0,
            first_seen: None,
            last_seen: None,
            first_pos: anchor,
            evidence: Vec::new(),
            binding: hit.events.clone(),
            streak: None,
            context: None,
            ends: Vec::new(),
        });
        agg.count += hit.weight;
        if let Some(m) = hit.events.last() {
            let rule = &self.kb.rules()[hit.rule];
            let within = rule.matches[hit.spec].defers_within.or(rule.defers_within);
            let end = ((m.event.span.source, m.event.span.line), within);
            if agg.ends.len() < MAX_EVIDENCE && !agg.ends.contains(&end) {
                agg.ends.push(end);
            }
        }
        // A streak's finding speaks of where the count stands now, and so
        // does its severity: the tries left as last counted, or as the
        // device last said (its own count wins over the failures counted).
        if let Some(st) = hit.streak {
            agg.binding = hit.events.clone();
            agg.streak = Some(st);
        }
        agg.first_seen = min_opt(agg.first_seen, lo);
        agg.last_seen = max_opt(agg.last_seen, hi);
        // Handed out already at a lower severity (one try left now): again.
        if let Some(&was) = self.announced.get(&key) {
            if severity_of(rule, agg) > was && !self.fresh.contains(&key) {
                self.fresh.push(key.clone());
            }
        }
        // The first hit's events in full, then the last line of later hits,
        // with only what evidence shows of it (a thousand findings of five
        // lines each stay small).
        let add: Vec<Matched> = if agg.evidence.is_empty() {
            hit.events
        } else {
            let listed = &self.listed[hit.rule];
            hit.events
                .into_iter()
                .last()
                .filter(|m| !agg.evidence.iter().any(|e| e.event.span == m.event.span))
                .map(|m| m.slim(listed))
                .into_iter()
                .collect()
        };
        for m in add {
            if agg.evidence.len() >= MAX_EVIDENCE {
                break;
            }
            if !agg.evidence.iter().any(|e| e.event.span == m.event.span) {
                agg.evidence.push(m);
            }
        }
        Some(key)
    }

    /// The findings that appeared since the last call, as they stand now (for
    /// following a growing log). A finding is handed out when its rule first
    /// fires for its subject, and again when its severity rises (a streak
    /// reaching its last try); other later occurrences only raise the count
    /// [`finish`](Self::finish) reports. An info finding of a rule that defers
    /// to more specific ones is held back until `finish`, since a specific
    /// finding may still come; a warning or worse is handed out at once.
    pub fn take_new(&mut self, names: &dyn SourceNames) -> Vec<Finding> {
        if self.fresh.is_empty() {
            return Vec::new();
        }
        let rules = self.kb.rules();
        let mut out = Vec::new();
        for key in std::mem::take(&mut self.fresh) {
            if let Some(a) = self.aggs.get(&key) {
                // A rule that defers to more specific ones waits for `finish`
                // (a specific finding may still come), unless it needs
                // attention now: tries running out cannot wait for the end.
                let deferring = !rules[key.0].defers_to.is_empty();
                if deferring && severity_of(&rules[key.0], a) < Severity::Warning {
                    continue;
                }
                let f = build_finding(&rules[a.rule], a.clone(), names, self.terraform);
                self.announced.insert(key, f.severity);
                out.push(f);
            }
        }
        out
    }

    /// Ends the input: absences still waiting fire, and the findings are built.
    /// An absence whose window was still open when the log ended (the log's last
    /// time is inside it) is not proven and does not fire.
    pub fn finish(mut self, names: &dyn SourceNames) -> Vec<Finding> {
        let mut hits = Vec::new();
        let last = self.last_time;
        for (ri, rule) in self.kb.rules().iter().enumerate() {
            for (si, spec) in rule.matches.iter().enumerate() {
                if let State::Pending(map) = &mut self.states[ri][si] {
                    for (_, waiting) in map.drain() {
                        for m in waiting {
                            if let (Some(w), Some(t), Some(last)) =
                                (spec.within, m.event.time, last)
                            {
                                if (last - t).to_std().is_ok_and(|d| d < w) {
                                    continue;
                                }
                            }
                            hits.push(Hit {
                                rule: ri,
                                spec: si,
                                events: vec![m],
                                weight: 1,
                                streak: None,
                            });
                        }
                    }
                }
            }
        }
        for h in hits {
            self.record(h);
        }
        let mut aggs: Vec<Agg> = self.aggs.into_values().collect();
        // A generic finding gives way to a specific one about the same host (or
        // both about none) in the same paragraph of the input (anywhere, in a
        // log with no prose), or, for a rule that says how near
        // (`defers_within`), with evidence that near its own.
        let rules = self.kb.rules();
        let mut fired: HashMap<(&str, Option<String>), Vec<Line>> = HashMap::new();
        for a in &aggs {
            fired
                .entry((rules[a.rule].id.as_str(), lookup(&a.binding, "host")))
                .or_default()
                .extend(a.ends.iter().map(|&(line, _)| line));
        }
        let paragraph = |line: u32| self.paragraphs.partition_point(|&p| p <= line);
        aggs.retain(|a| {
            let rule = &rules[a.rule];
            let host = lookup(&a.binding, "host");
            let theirs: Vec<&Vec<Line>> = rule
                .defers_to
                .iter()
                .filter_map(|d| fired.get(&(d.as_str(), host.clone())))
                .collect();
            if theirs.is_empty() {
                return true;
            }
            // Every hit of it must have its cause beside it: a wrapper seen
            // once beside its cause and once alone is still a failure.
            let explained = |&((source, line), within): &(Line, Option<u32>)| {
                theirs.iter().flat_map(|t| t.iter()).any(|&(s, l)| {
                    s == source
                        && paragraph(l) == paragraph(line)
                        && within.is_none_or(|n| l.abs_diff(line) <= n)
                })
            };
            !a.ends.iter().all(explained)
        });
        // A fallback matcher's findings give way to any other of its rule's.
        let firm: HashSet<usize> = aggs
            .iter()
            .filter(|a| !rules[a.rule].matches[a.spec].fallback)
            .map(|a| a.rule)
            .collect();
        aggs.retain(|a| !rules[a.rule].matches[a.spec].fallback || !firm.contains(&a.rule));
        aggs.sort_by(|a, b| a.first_pos.cmp(&b.first_pos).then(a.rule.cmp(&b.rule)));
        aggs.into_iter()
            .map(|a| build_finding(&self.kb.rules()[a.rule], a, names, self.terraform))
            .collect()
    }
}

/// The severity a finding has as its aggregate stands: a streak's, once reset
/// info; else its matcher's, else its rule's.
fn severity_of(rule: &Rule, a: &Agg) -> Severity {
    match a.streak {
        Some(s) if s.reset => Severity::Info,
        Some(s) => s.severity.unwrap_or(rule.severity),
        None => rule.matches[a.spec].severity.unwrap_or(rule.severity),
    }
}

/// Every event kind a rule's matchers or `[[related]]` entries name: the kinds
/// whose fields the engine may read.
pub(crate) fn kinds_read(kb: &KnowledgeBase) -> std::collections::HashSet<String> {
    let mut out = std::collections::HashSet::new();
    for rule in kb.rules() {
        for spec in &rule.matches {
            for cond in spec.matcher.conditions().into_iter().chain(&spec.context) {
                out.extend(cond.kinds.iter().cloned());
            }
        }
        for r in &rule.related {
            out.extend(r.cond.kinds.iter().cloned());
        }
    }
    out
}

/// Runs one matcher on one event.
fn step(
    ri: usize,
    si: usize,
    spec: &MatchSpec,
    state: &mut State,
    ev: &Fed<'_>,
    hits: &mut Vec<Hit>,
) {
    match (&spec.matcher, state) {
        (Matcher::Single { cond }, _) => {
            if cond.matches(ev) {
                hits.push(Hit::one((ri, si), Matched::new(ev, cond)));
            }
        }
        (Matcher::Count { .. }, State::Count(map)) => {
            matchers::count::step((ri, si), spec, map, ev, hits);
        }
        (Matcher::Streak { .. }, State::Streak(map)) => {
            matchers::streak::step((ri, si), spec, map, ev, hits);
        }
        (Matcher::Sequence { .. }, State::Sequence(map)) => {
            matchers::sequence::step((ri, si), spec, map, ev, hits);
        }
        (
            Matcher::Absence {
                trigger,
                expect,
                direction: Direction::Before,
            },
            State::Seen(map),
        ) => {
            matchers::absence::step_before((ri, si), spec, (trigger, expect), map, ev, hits);
        }
        (
            Matcher::Absence {
                trigger,
                expect,
                direction: Direction::After,
            },
            State::Pending(map),
        ) => {
            matchers::absence::step_after(spec, (trigger, expect), map, ev);
        }
        _ => unreachable!("each matcher is created with its own state kind"),
    }
}

/// The first step at or after `from` that the event meets, if every step
/// between is optional.
fn next_step(steps: &[Cond], from: usize, ev: &Event) -> Option<usize> {
    for (j, s) in steps.iter().enumerate().skip(from) {
        if s.matches(ev) {
            return Some(j);
        }
        if !s.optional {
            return None;
        }
    }
    None
}

/// `{list:field}` / `{list:field@key=value}`: the distinct values of a field
/// over the evidence, in order, of the events whose `key` is `value`; resource
/// ids are separated by spaces (for `--ids`), other values by commas.
fn list_values(evidence: &[Matched], spec: &str) -> Option<String> {
    let (field, filter) = match spec.split_once('@') {
        Some((f, cond)) => (f, cond.split_once('=')),
        None => (spec, None),
    };
    let mut out: Vec<String> = Vec::new();
    let mut ids = false;
    for m in evidence {
        if let Some((k, v)) = filter {
            let ok = m
                .event
                .value(k)
                .is_some_and(|x| x.to_string().eq_ignore_ascii_case(v));
            if !ok {
                continue;
            }
        }
        if let Some(x) = m.event.value(field) {
            ids |= matches!(x, Value::ResourceId(_));
            let x = x.to_string();
            if !out.contains(&x) {
                out.push(x);
            }
        }
    }
    // Resource ids go into commands (`--ids a b`), names into prose.
    (!out.is_empty()).then(|| out.join(if ids { " " } else { ", " }))
}

/// A placeholder's value from the matched events (latest first), framing, or
/// the engine.
fn lookup(events: &[Matched], name: &str) -> Option<String> {
    if name == "source" || name == "line" {
        return None;
    }
    events
        .iter()
        .rev()
        .find_map(|m| m.event.value(name))
        .map(|v| match v {
            Value::Text(s) => s,
            v => v.to_string(),
        })
}

fn build_finding(rule: &Rule, a: Agg, names: &dyn SourceNames, terraform: bool) -> Finding {
    let spec = &rule.matches[a.spec];
    let fmt_time = |t: Option<DateTime<Utc>>| {
        t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
    };
    let engine_value = |n: &str| -> Option<String> {
        match n {
            "count" => Some(a.count.to_string()),
            "failures" => a.streak.map(|s| s.failures.to_string()),
            "left" => a.streak.map(|s| s.left.to_string()),
            "limit" => a.streak.map(|s| s.limit.to_string()),
            n if n.starts_with("list:") => list_values(&a.evidence, &n["list:".len()..]),
            "first_seen" => fmt_time(a.first_seen),
            "last_seen" => fmt_time(a.last_seen),
            "threshold" => match &spec.matcher {
                Matcher::Count { threshold, .. } => Some(threshold.to_string()),
                _ => None,
            },
            "window" => spec.within.map(|w| humanize(w.as_secs())),
            "source" => a.binding.last().map(|m| names.name(m.event.span.source)),
            "line" => a.binding.last().map(|m| m.event.span.line.to_string()),
            _ => lookup(&a.binding, n),
        }
    };
    // A command is run as printed: a value the log names only through a
    // script's variable (`$env.resourceGroup`, `${RG}`, `%RG%`) means nothing
    // to the user's shell, so the step keeps its placeholder.
    let command_value = |n: &str| {
        engine_value(n).filter(|v| {
            !(v.starts_with('$') || v.len() > 2 && v.starts_with('%') && v.ends_with('%'))
        })
    };
    let tag = spec.remedy.as_deref();
    // Found in Terraform's output: the Terraform steps first.
    let terraform = terraform
        || a.evidence
            .iter()
            .chain(&a.binding)
            .any(|m| m.event.kind.as_str().starts_with("tf."));
    let mut order: Vec<&crate::kb::RemedyStep> =
        rule.remediation.iter().filter(|s| s.applies(tag)).collect();
    if terraform {
        order.sort_by_key(|s| s.tool.as_deref() != Some("terraform"));
    }
    let steps: Vec<Step> = order
        .into_iter()
        .map(|s| Step {
            step: s.step.render(engine_value),
            command: s.command.as_ref().map(|c| c.render(command_value)),
            destructive: s.destructive,
            skip_if: s.skip_if.clone(),
            only_if: s.only_if.clone(),
        })
        .collect();
    let context = a
        .context
        .as_ref()
        .filter(|c| !a.evidence.iter().any(|e| e.event.span == c.event.span));
    let evidence = a
        .evidence
        .iter()
        .chain(context)
        .map(|m| {
            let ev = &m.event;
            // The labelled field's text; a field derived from others (a resource
            // id found in a message, a state read from JSON) has none, so the
            // label goes under the first field that has, else the message.
            let located = |f: &crate::event::Field| (!f.range.is_empty()).then(|| f.range.clone());
            let range = m
                .label
                .as_deref()
                .and_then(|l| ev.field(l))
                .and_then(located)
                .or_else(|| ev.fields.iter().find_map(located))
                .unwrap_or_else(|| {
                    let msg = &ev.text[ev.message_start.min(ev.text.len())..];
                    let lead = msg.len() - msg.trim_start().len();
                    ev.message_start + lead..ev.text.len()
                });
            Evidence {
                source_id: ev.span.source,
                source: names.name(ev.span.source),
                line: ev.span.line,
                text: ev.text.clone(),
                time: ev.time,
                offset: ev.span.start,
                column: ev.span.column,
                label: Some((range, m.note.as_deref().map(str::to_string))),
            }
        })
        .collect();
    // A grouped rule's finding is about its cause (its subjects join it as
    // they come); any other about its subject.
    let about: Vec<String> = match &rule.group {
        Some(g) => {
            g.by.iter()
                .map(|f| lookup(&a.binding, f).unwrap_or_default())
                .collect()
        }
        None => vec![a.subject.clone()],
    };
    let about: Vec<&str> = about.iter().map(String::as_str).collect();
    let fingerprint = crate::finding::fingerprint_of(&rule.id, a.host.as_deref(), &about);
    Finding {
        id: rule.id.clone(),
        code: rule.code.clone(),
        severity: severity_of(rule, &a),
        title: rule.title.clone(),
        host: a.host,
        subject: a.subject,
        affected: Vec::new(),
        affected_omitted: 0,
        message: spec
            .message
            .as_ref()
            .or(rule.message.as_ref())
            .map(|t| t.render(engine_value))
            .map(|m| match a.streak {
                Some(s) if s.reset => format!("{m}; then a successful login reset the count"),
                _ => m,
            }),
        count: a.count,
        first_seen: a.first_seen,
        last_seen: a.last_seen,
        evidence,
        remediation: steps.iter().map(Step::to_line).collect(),
        remediation_steps: steps,
        references: rule.references.clone(),
        owner: rule.owner,
        channel: rule.channel.clone(),
        related: Vec::new(),
        chain: None,
        rule_file: (!rule.builtin).then(|| rule.file.clone()),
        context: rule
            .related
            .iter()
            .flat_map(|r| {
                r.same
                    .iter()
                    .map(|(_, mine)| mine.split('@').next().unwrap_or(mine))
            })
            .chain(
                rule.group
                    .iter()
                    .flat_map(|g| g.by.iter().map(String::as_str)),
            )
            .filter_map(|f| Some((f.to_owned(), lookup(&a.binding, f)?)))
            .collect(),
        fingerprint,
    }
}

/// `30 days`, `1 hour`, `10 minutes`, `45 seconds`.
pub(crate) fn humanize(secs: u64) -> String {
    let (n, unit) = match secs {
        s if s % 86_400 == 0 => (s / 86_400, "day"),
        s if s % 3600 == 0 => (s / 3600, "hour"),
        s if s % 60 == 0 => (s / 60, "minute"),
        s => (s, "second"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod bound_tests {
    use super::{MAX_PER_KEY, MAX_STATE_KEYS, Matched, Partial, State, bound_state};
    use std::collections::{HashMap, VecDeque};

    fn matched(offset: u64) -> Matched {
        let mut event = crate::event::Event::unrecognized_at(crate::event::SourceId(0));
        event.span.start = offset;
        Matched {
            event: std::sync::Arc::new(event),
            label: None,
            note: None,
        }
    }

    /// Unfinished state for ever new keys (fresh resource ids) stays bounded,
    /// the oldest let go first.
    #[test]
    fn matcher_state_is_bounded_and_keeps_the_newest() {
        let mut pending = State::Pending(HashMap::new());
        let mut sequences = State::Sequence(HashMap::new());
        for i in 0..(MAX_STATE_KEYS as u64 * 10) {
            if let State::Pending(m) = &mut pending {
                m.entry(format!("k{i}")).or_default().push(matched(i));
            }
            if let State::Sequence(m) = &mut sequences {
                let v: &mut VecDeque<Partial> = m.entry(format!("k{}", i % 3)).or_default();
                v.push_back(Partial {
                    next: 1,
                    start: None,
                    events: vec![matched(i)],
                });
            }
            bound_state(&mut pending);
            bound_state(&mut sequences);
        }
        let State::Pending(m) = &pending else {
            unreachable!()
        };
        assert!(m.len() <= MAX_STATE_KEYS, "{}", m.len());
        assert!(m.contains_key(&format!("k{}", MAX_STATE_KEYS as u64 * 10 - 1)));
        assert!(!m.contains_key("k0"), "the oldest went first");
        let State::Sequence(m) = &sequences else {
            unreachable!()
        };
        assert!(m.values().all(|v| v.len() <= MAX_PER_KEY));
    }
}
