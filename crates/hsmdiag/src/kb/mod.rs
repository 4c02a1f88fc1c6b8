//! The knowledge base: one TOML file per known issue (`grammars/kb/HSMnnn.toml`),
//! loaded, validated against the grammar, and compiled into matchers.

pub mod template;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use hsmdiag_parse::parse::lazy::{LazyRegex, Limits};
use miette::{Diagnostic, NamedSource, SourceSpan};
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::event::META_FIELDS;
use crate::parse::grammar::Grammar;
pub use template::Template;

/// How bad a finding is.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// State worth knowing; nothing is wrong.
    Info,
    /// Something will go wrong or may have gone wrong.
    Warning,
    /// Something is broken.
    Error,
    /// Data or access is lost, or one more step loses it.
    Critical,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
            Severity::Critical => "critical",
        })
    }
}

/// Who can fix a known issue.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Owner {
    /// The customer, with the commands given.
    #[default]
    Customer,
    /// Microsoft, through an Azure support request.
    Microsoft,
    /// Thales, through Thales support.
    Thales,
}

impl Owner {
    /// The usual way to reach the owner (`grammars/owners.toml`).
    pub fn channel(self) -> &'static str {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Channels {
            customer: String,
            microsoft: String,
            thales: String,
        }
        static CHANNELS: std::sync::LazyLock<Channels> = std::sync::LazyLock::new(|| {
            toml::from_str(include_str!("../../data/owners.toml"))
                .expect("built-in owners.toml is checked by tests")
        });
        match self {
            Owner::Customer => &CHANNELS.customer,
            Owner::Microsoft => &CHANNELS.microsoft,
            Owner::Thales => &CHANNELS.thales,
        }
    }
}

/// A rule's stable code, `HSM` and three digits (`HSM101`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema)]
pub struct RuleCode(String);

impl<'de> Deserialize<'de> for RuleCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        RuleCode::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("`{s}` is not a rule code (HSMnnn)")))
    }
}

impl RuleCode {
    /// Checks and makes a code.
    pub fn parse(s: &str) -> Option<Self> {
        let digits = s.strip_prefix("HSM")?;
        (digits.len() == 3 && digits.bytes().all(|b| b.is_ascii_digit()))
            .then(|| RuleCode(s.to_owned()))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The hundred-block (1 for `HSM101`).
    pub fn block(&self) -> u32 {
        u32::from(self.0.as_bytes()[3] - b'0')
    }
}

impl fmt::Display for RuleCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One remediation step.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RemedyStep {
    /// What to do.
    pub step: Template,
    /// The command to run, if the step has one.
    pub command: Option<Template>,
    /// Whether the step destroys configuration or key material.
    pub destructive: bool,
    /// The matchers the step is for, by their `remedy` tag (`partition`: a
    /// partition role's counter, read with `role show`); empty: every matcher.
    pub only: Vec<String>,
    /// The tag of related evidence that makes the step moot (the log shows it
    /// done: a certificate already regenerated): with it found, the step is left out.
    pub skip_if: Option<String>,
    /// The tag of related evidence the step answers: without it found, the
    /// step is left out (recover an HA member only after trusting the new
    /// certificate of an HSM that regenerated it).
    pub only_if: Option<String>,
    /// The tool the step is done in (`terraform`): when the finding's evidence
    /// comes from that tool's output, its steps come first (a change made with
    /// `az` would drift back on the next `terraform apply`).
    pub tool: Option<String>,
}

impl RemedyStep {
    /// Whether the step applies to a finding of a matcher with this tag.
    pub fn applies(&self, tag: Option<&str>) -> bool {
        self.only.is_empty() || tag.is_some_and(|t| self.only.iter().any(|o| o == t))
    }
}

/// A rule's example input: a sample file that must (or must not) fire it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Example {
    /// Whether the rule must fire on it.
    pub fires: bool,
    /// A sample file: for built-in rules relative to the project root, for a
    /// user's rule file relative to that file's directory.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub input: String,
    /// Or the sample's text, inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// A condition on one event: its kind and field values.
#[derive(Debug, Clone)]
pub struct Cond {
    /// The event kind, or several separated by `|`
    /// (`arm.error|azure.cli_error`).
    pub event: String,
    /// The kinds `event` names.
    pub(crate) kinds: Vec<String>,
    pub(crate) where_: Vec<(String, LazyRegex)>,
    pub(crate) unless: Vec<(String, LazyRegex)>,
    /// The field whose text the evidence labels.
    pub label: Option<String>,
    /// The label's text.
    pub note: Option<String>,
    /// In a sequence: the step may be missing.
    pub optional: bool,
}

impl Cond {
    /// Whether the condition is about events of this kind.
    pub fn accepts(&self, kind: &str) -> bool {
        self.kinds.iter().any(|k| k == kind)
    }

    /// Whether an event meets the condition.
    pub fn matches(&self, ev: &crate::event::Event) -> bool {
        if !self.accepts(ev.kind.as_str()) {
            return false;
        }
        // `message` is the captured field when the pattern has one (an error's
        // message), else the whole message after the syslog header.
        let text_of = |name: &str| -> Option<String> {
            match ev.value(name) {
                Some(v) => Some(v.to_string()),
                None if name == "message" => Some(ev.message().to_owned()),
                None => None,
            }
        };
        self.where_
            .iter()
            .all(|(f, re)| text_of(f).is_some_and(|v| re.is_match(&v)))
            && !self
                .unless
                .iter()
                .any(|(f, re)| text_of(f).is_some_and(|v| re.is_match(&v)))
    }
}

impl Matcher {
    /// Every condition of the matcher, the ones that reset, cancel or abandon
    /// it included.
    pub(crate) fn conditions(&self) -> Vec<&Cond> {
        match self {
            Matcher::Single { cond } | Matcher::Count { cond, .. } => vec![cond],
            Matcher::Streak {
                cond,
                reset,
                observe,
                ..
            } => std::iter::once(cond)
                .chain(reset.as_ref())
                .chain(observe.as_ref())
                .collect(),
            Matcher::Sequence { steps, cancel } => steps.iter().chain(cancel.as_ref()).collect(),
            Matcher::Absence {
                trigger, expect, ..
            } => vec![trigger, expect],
        }
    }
}

/// How a related event stands to a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Relation {
    /// It came before the finding and explains it.
    Cause,
    /// It came after the finding and follows from it.
    Effect,
    /// It came between the finding's first and last event and keeps it going
    /// (a service restarting between failed logins).
    During,
}

impl std::fmt::Display for Relation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Relation::Cause => "cause",
            Relation::During => "during",
            Relation::Effect => "effect",
        })
    }
}

/// A `[[related]]` entry of a rule: events in any input that are the cause or
/// an effect of its findings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Related {
    /// Which events.
    pub cond: Cond,
    /// Cause (before the finding) or effect (after it).
    pub relation: Relation,
    /// How far before (cause) or after (effect) the finding it may be. Without
    /// it, any time.
    pub within: Option<Duration>,
    /// Fields of the related event that must equal fields of the finding's
    /// events: (related event's field, finding's field). With such a join, an
    /// event without a time is accepted (its order is then unknown).
    ///
    /// The finding's side may name a value through another event:
    /// `serial@host` is the `host` of the events that carry this finding's
    /// `serial` (the HSM that a LunaSH `partition show` of that partition ran
    /// on), used when exactly one such host is known.
    pub same: Vec<(String, String)>,
    /// The event kinds that carry a field named before an `@` in `same`: they
    /// are kept to resolve it.
    pub resolvers: Vec<String>,
    /// What the related event means, for the report.
    pub note: String,
    /// A name for it that remediation steps refer to (`skip_if`).
    pub tag: Option<String>,
}

/// Which way an absence looks for the expected event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The expected event must come before the trigger.
    Before,
    /// The expected event must follow the trigger.
    After,
}

/// The engine's closed vocabulary.
#[derive(Debug, Clone)]
#[non_exhaustive]
#[allow(
    clippy::large_enum_variant,
    reason = "matchers are built once when rules load and never moved per event"
)]
pub enum Matcher {
    /// Every event that meets the condition.
    Single {
        /// The condition.
        cond: Cond,
    },
    /// `threshold` events meeting the condition with the same key within `within`.
    Count {
        /// The condition.
        cond: Cond,
        /// How many.
        threshold: u32,
        /// When set, events count once per distinct value of this field (the
        /// same HSM listed twice is one HSM).
        distinct: Option<String>,
    },
    /// Steps in order, with the same key, the whole sequence within `within`.
    Sequence {
        /// The steps.
        steps: Vec<Cond>,
        /// An event that, arriving with the same key before the sequence
        /// completes, abandons it (the HSM was deleted before its resource
        /// group: no orphan).
        cancel: Option<Cond>,
    },
    /// Consecutive events meeting the condition with the same key, counted
    /// until a `reset` event; each one fires with how many tries are left
    /// before `limit` (a login failure streak before a lockout or zeroization).
    Streak {
        /// A failure.
        cond: Cond,
        /// A success, which starts the count again.
        reset: Option<Cond>,
        /// The number of consecutive failures that does the damage.
        limit: u32,
        /// A field that carries the device's own count of tries left, preferred
        /// over the computed one when an event has it.
        left_field: Option<String>,
        /// Severity by tries left: the first entry whose `left` is at least the
        /// tries left applies (`[[1, critical], [3, error]]`).
        escalate: Vec<(u32, Severity)>,
        /// An event that shows the device's own count (`hsm show`: "2 before
        /// HSM zeroization!") without being a failure: it sets the count, and
        /// fires when tries are already used up.
        observe: Option<Cond>,
        /// Fire only when the limit is reached (the damage), not before.
        at_limit: bool,
    },
    /// A trigger with no expected event with the same key within `within`
    /// before or after it.
    Absence {
        /// The event that needs its companion.
        trigger: Cond,
        /// The companion.
        expect: Cond,
        /// Where to look.
        direction: Direction,
    },
}

/// A matcher with its key, window and subject.
#[derive(Debug, Clone)]
pub struct MatchSpec {
    /// What to match.
    pub matcher: Matcher,
    /// Fields whose values must be equal across the matched events.
    pub key: Vec<String>,
    /// The key fields a later step or a cancelling event of a sequence may
    /// lack (written `name?` in `key`): such an event goes to every waiting
    /// key with the same other fields (a resource group's delete ends the
    /// wait of each HSM named in that group).
    pub open_key: Vec<String>,
    /// The time window, if any.
    pub within: Option<Duration>,
    /// What the finding is about (`{client.ip}`).
    pub subject: Template,
    /// This matcher's own one-line message, instead of the rule's.
    pub message: Option<Template>,
    /// A last resort: its findings are kept only when no other matcher of the
    /// rule found anything in the input (a tool's error line without a code
    /// gives way to the coded error beside it).
    pub fallback: bool,
    /// This matcher's own severity, instead of the rule's (a gateway not yet
    /// Succeeded is a warning on its own, an error once an HSM failed on it).
    pub severity: Option<Severity>,
    /// The tag of the remediation steps meant for this matcher's findings
    /// alone (a step's `only`).
    pub remedy: Option<String>,
    /// An event that must appear somewhere in the same input, before or after
    /// the matched ones, for this matcher's findings to count (a ticket that
    /// names a Luna client makes a bare PKCS#11 code a Luna client failure).
    /// Hits wait for it until the input ends; it joins their evidence.
    pub context: Option<Cond>,
    /// This matcher's own `defers_within`, instead of the rule's (an error
    /// with its own code wraps a specific one only when printed right beside
    /// it; a restatement without a code may stand a few lines away).
    pub defers_within: Option<u32>,
}

/// How a rule's findings about many subjects with one cause become one
/// finding: those that agree on `by` (the same HSM) and follow each other
/// within `within` are merged, listing their subjects (`Finding::affected`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Group {
    /// The fields the merged findings agree on (`host`: the same HSM).
    pub by: Vec<String>,
    /// The most time between one finding and the next of the same group.
    pub within: Duration,
    /// What the subjects are, in the plural (`clients`).
    pub noun: String,
}

/// A known issue.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Rule {
    /// Stable id (`ntls.unknown_ca`).
    pub id: String,
    /// Stable code (`HSM101`).
    pub code: RuleCode,
    /// One clause.
    pub title: String,
    /// How bad.
    pub severity: Severity,
    /// Who can fix it.
    pub owner: Owner,
    /// Who to go to and how: the rule's `channel`, else the owner's usual one.
    pub channel: String,
    /// The version that introduced it.
    pub since: String,
    /// One line about this occurrence, filled from the evidence.
    pub message: Option<Template>,
    /// What the log shows happened.
    pub meaning: String,
    /// Why it happens.
    pub cause: String,
    /// A read-only check that settles it.
    pub confirm: String,
    /// When the rule fires although nothing is wrong.
    pub false_positives: String,
    /// What to do.
    pub remediation: Vec<RemedyStep>,
    /// Documents.
    pub references: Vec<String>,
    /// Samples that must or must not fire it.
    pub examples: Vec<Example>,
    /// Events from any input that explain a finding (its cause) or follow from
    /// it (its effect), attached as related evidence.
    pub related: Vec<Related>,
    /// Any of these finds it.
    pub matches: Vec<MatchSpec>,
    /// Rules that take precedence when they fire on the same event.
    pub yields_to: Vec<String>,
    /// Rules whose finding about the same host (or, for both, about none)
    /// anywhere in the same input makes this rule's findings redundant (a
    /// generic finding that a specific one explains, a warning that the damage
    /// it warned of overtook).
    pub defers_to: Vec<String>,
    /// When set, `defers_to` applies only to a specific finding whose evidence
    /// lies within this many lines of this finding's (the same error record: a
    /// ticket may paste several failures, each with its own cause).
    pub defers_within: Option<u32>,
    /// How findings about many subjects with one cause are merged, if they are.
    pub group: Option<Group>,
    /// The file it was loaded from.
    pub file: String,
    /// Whether it is one of hsmdiag's own rules (`false`: a user's file,
    /// which every finding of it names).
    pub builtin: bool,
}

/// The fields a rule keys on when it reads a return code.
const CODE_FIELDS: &[&str] = &["ret", "ret_ckr", "code", "result", "reason", "rc"];

impl Rule {
    /// Whether the rule checks templates (`hsmdiag lint`): every event it reads
    /// is a `lint.*` event. Its examples are templates, read by
    /// [`Analyzer::lint`](crate::Analyzer::lint).
    pub fn is_lint(&self) -> bool {
        let conds: Vec<_> = self
            .matches
            .iter()
            .flat_map(|m| m.matcher.conditions())
            .collect();
        !conds.is_empty()
            && conds
                .iter()
                .all(|c| c.kinds.iter().all(|k| k.starts_with("lint.")))
    }

    /// Whether one of the rule's conditions reads this return code (by its name
    /// or the PKCS#11 code it amounts to): `hsmdiag explain CKR_PIN_INCORRECT`
    /// lists these rules.
    pub fn reads_code(&self, name: &str, ckr: Option<&str>) -> bool {
        let conds = self
            .matches
            .iter()
            .flat_map(|m| m.matcher.conditions())
            .chain(self.related.iter().map(|r| &r.cond));
        conds.into_iter().any(|c| {
            c.where_.iter().any(|(field, re)| {
                // A pattern that takes any code (`.`) reads none in particular.
                CODE_FIELDS.contains(&field.as_str())
                    && !re.is_match("ZZ_ANY_CODE")
                    && (re.is_match(name) || ckr.is_some_and(|k| re.is_match(k)))
            })
        })
    }
}

/// An error in a knowledge-base file.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{file}: {message}")]
#[diagnostic(code(hsmdiag::kb))]
#[non_exhaustive]
pub struct KbError {
    /// The file's name.
    pub file: String,
    /// What is wrong.
    pub message: String,
    #[source_code]
    src: NamedSource<Arc<str>>,
    #[label("here")]
    span: Option<SourceSpan>,
    #[help]
    help: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    id: Spanned<String>,
    code: Spanned<String>,
    title: Spanned<String>,
    severity: Severity,
    #[serde(default)]
    owner: Owner,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    since: String,
    subject: Spanned<String>,
    #[serde(default)]
    message: Option<Spanned<String>>,
    #[serde(default)]
    meaning: String,
    #[serde(default)]
    cause: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    false_positives: String,
    #[serde(rename = "match")]
    matches: Vec<MatchDef>,
    #[serde(default)]
    yields_to: Vec<Spanned<String>>,
    #[serde(default)]
    defers_to: Vec<Spanned<String>>,
    #[serde(default)]
    defers_within: Option<u32>,
    #[serde(default)]
    group: Option<GroupDef>,
    remediation: Vec<StepDef>,
    #[serde(default)]
    references: Vec<String>,
    #[serde(default)]
    examples: Vec<Example>,
    #[serde(default)]
    related: Vec<RelatedDef>,
}

/// A `[[related]]` table: an event that explains a finding or follows from it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RelatedDef {
    event: Spanned<String>,
    #[serde(default, rename = "where")]
    where_: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    unless: BTreeMap<String, Spanned<String>>,
    relation: Spanned<String>,
    #[serde(default)]
    within: Option<Spanned<String>>,
    #[serde(default)]
    same: BTreeMap<String, Spanned<String>>,
    note: String,
    #[serde(default)]
    tag: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepDef {
    step: Spanned<String>,
    #[serde(default)]
    command: Option<Spanned<String>>,
    #[serde(default)]
    destructive: bool,
    #[serde(default)]
    only: Vec<String>,
    #[serde(default)]
    skip_if: Option<String>,
    #[serde(default)]
    only_if: Option<String>,
    #[serde(default)]
    tool: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CondDef {
    event: Spanned<String>,
    #[serde(default, rename = "where")]
    where_: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    unless: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    label: Option<Spanned<String>>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    optional: bool,
}

/// A `[[match]]` table. The condition fields of `single`, `count` and
/// `absence` sit in the table itself (spelled as in [`CondDef`]): serde cannot
/// flatten them and still reject unknown keys, which user files need.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MatchDef {
    kind: Spanned<String>,
    #[serde(default)]
    event: Option<Spanned<String>>,
    #[serde(default, rename = "where")]
    where_: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    unless: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    label: Option<Spanned<String>>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    steps: Vec<CondDef>,
    #[serde(default)]
    expect: Option<CondDef>,
    #[serde(default)]
    cancel: Option<CondDef>,
    #[serde(default)]
    reset: Option<CondDef>,
    #[serde(default)]
    limit: Option<u32>,
    #[serde(default)]
    left_field: Option<Spanned<String>>,
    #[serde(default)]
    escalate: Vec<EscalateDef>,
    #[serde(default)]
    direction: Option<Spanned<String>>,
    #[serde(default)]
    key: Vec<Spanned<String>>,
    #[serde(default)]
    threshold: Option<u32>,
    #[serde(default)]
    distinct: Option<Spanned<String>>,
    #[serde(default)]
    within: Option<Spanned<String>>,
    #[serde(default)]
    subject: Option<Spanned<String>>,
    #[serde(default)]
    message: Option<Spanned<String>>,
    #[serde(default)]
    observe: Option<CondDef>,
    #[serde(default)]
    at_limit: bool,
    #[serde(default)]
    fallback: bool,
    #[serde(default)]
    severity: Option<Severity>,
    #[serde(default)]
    remedy: Option<String>,
    #[serde(default)]
    context: Option<CondDef>,
    #[serde(default)]
    defers_within: Option<u32>,
}

/// `{ left = 1, severity = "critical" }` in a streak's `escalate` list.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EscalateDef {
    left: u32,
    severity: Severity,
}

/// Placeholders the engine supplies for every finding.
pub const ENGINE_FIELDS: &[&str] = &[
    "count",
    "failures",
    "left",
    "limit",
    "first_seen",
    "last_seen",
    "threshold",
    "window",
    "source",
    "line",
];

/// Parses a duration as rules write it: `30s`, `10m`, `24h`, `2d` (or
/// `1h 30m`, `2days`: humantime's form).
pub fn parse_duration(s: &str) -> Option<Duration> {
    humantime::parse_duration(s.trim()).ok()
}

/// The rule files built into hsmdiag: (file name, text), sorted by name.
pub(crate) const BUILTIN_RULES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/kb.rs"));

/// The file of retired rules, among the built-in ones.
const RETIRED_FILE: &str = "retired.toml";

/// A rule no longer in the knowledge base (`grammars/kb/retired.toml`). Its id
/// and code are never given to another rule; `explain` still shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Retired {
    /// The id it had.
    pub id: String,
    /// The code it had.
    pub code: String,
    /// What it detected.
    pub title: String,
    /// The release it left in.
    pub retired: String,
    /// The rule (id or code) that covers it now, if any.
    #[serde(default)]
    pub successor: Option<String>,
    /// Why it left.
    pub why: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RetiredFile {
    retired: Vec<Retired>,
}

/// A `yields_to` / `defers_to` entry, checked once every rule is loaded.
#[derive(Debug, Clone)]
struct Reference {
    file: String,
    text: Arc<str>,
    key: &'static str,
    target: String,
    span: std::ops::Range<usize>,
}

/// A query by id or code: the query trimmed, and as a code (`101` and
/// `hsm101` are `HSM101`).
fn as_code(query: &str) -> (&str, String) {
    let q = query.trim();
    let code = if q.chars().all(|c| c.is_ascii_digit()) {
        format!("HSM{q}")
    } else {
        q.to_ascii_uppercase()
    };
    (q, code)
}

/// The loaded rules.
#[derive(Debug, Clone, Default)]
pub struct KnowledgeBase {
    rules: Vec<Rule>,
    retired: Vec<Retired>,
    references: Vec<Reference>,
}

struct Loader<'a> {
    file: &'a str,
    text: &'a str,
    fields: &'a BTreeMap<String, Vec<String>>,
    /// Fields a shell session's context gives its lines (`[[context]]`).
    context: &'a [String],
    /// Compile its patterns now (a user's file, whose errors then point at
    /// it), or on first use (a built-in one, compiled by the test suite).
    eager: bool,
}

impl Loader<'_> {
    fn err(
        &self,
        span: Option<std::ops::Range<usize>>,
        message: String,
        help: Option<String>,
    ) -> KbError {
        KbError {
            file: self.file.to_owned(),
            message,
            src: NamedSource::new(self.file, Arc::from(self.text)),
            span: span.map(Into::into),
            help,
        }
    }

    /// Refuses a `[[match]]` that carries a key of another kind of matcher (a
    /// `count` with `steps`, a `single` with `limit`): it would be ignored, and
    /// the rule would not do what its file says. The error points at the key.
    fn only_keys_of_its_kind(&self, m: &MatchDef) -> Result<(), KbError> {
        // Keys every kind takes, and those of each kind.
        const COMMON: &[&str] = &[
            "kind",
            "key",
            "within",
            "subject",
            "message",
            "fallback",
            "severity",
            "remedy",
            "context",
            "defers_within",
        ];
        const CONDITION: &[&str] = &["event", "where", "unless", "label", "note"];
        const OWN: &[(&str, &[&str])] = &[
            ("single", &[]),
            ("count", &["threshold", "distinct"]),
            ("sequence", &["steps", "cancel"]),
            (
                "streak",
                &[
                    "limit",
                    "reset",
                    "escalate",
                    "observe",
                    "left_field",
                    "at_limit",
                ],
            ),
            ("absence", &["expect", "direction"]),
        ];
        let kind = m.kind.get_ref().as_str();
        let Some(&(_, own)) = OWN.iter().find(|(k, _)| *k == kind) else {
            return Ok(());
        };
        let takes_condition = kind != "sequence";
        let present: [(&str, bool); 20] = [
            ("event", m.event.is_some()),
            ("where", !m.where_.is_empty()),
            ("unless", !m.unless.is_empty()),
            ("label", m.label.is_some()),
            ("note", m.note.is_some()),
            ("steps", !m.steps.is_empty()),
            ("expect", m.expect.is_some()),
            ("cancel", m.cancel.is_some()),
            ("reset", m.reset.is_some()),
            ("limit", m.limit.is_some()),
            ("left_field", m.left_field.is_some()),
            ("escalate", !m.escalate.is_empty()),
            ("direction", m.direction.is_some()),
            ("threshold", m.threshold.is_some()),
            ("distinct", m.distinct.is_some()),
            ("observe", m.observe.is_some()),
            ("at_limit", m.at_limit),
            ("fallback", m.fallback),
            ("context", m.context.is_some()),
            ("severity", m.severity.is_some()),
        ];
        let allowed = |key: &str| {
            COMMON.contains(&key)
                || own.contains(&key)
                || takes_condition && CONDITION.contains(&key)
        };
        let stray = present.iter().find(|&&(key, there)| there && !allowed(key));
        let Some((key, _)) = stray else {
            return Ok(());
        };
        let owners: Vec<&str> = OWN
            .iter()
            .filter(|(_, keys)| keys.contains(key))
            .map(|(k, _)| *k)
            .collect();
        let help = if owners.is_empty() {
            format!("a `{kind}` reads its condition from its steps, not from the table")
        } else {
            format!(
                "`{key}` belongs to a {} matcher; remove it or change `kind`",
                owners.join(" or ")
            )
        };
        Err(self.err(
            Some(self.key_span(&m.kind.span(), key).unwrap_or(m.kind.span())),
            format!("a `{kind}` matcher takes no `{key}`"),
            Some(help),
        ))
    }

    /// Where `key` is written in the `[[match]]` table whose `kind` value
    /// stands at `kind_span`.
    fn key_span(
        &self,
        kind_span: &std::ops::Range<usize>,
        key: &str,
    ) -> Option<std::ops::Range<usize>> {
        let doc = toml::de::DeTable::parse(self.text).ok()?;
        let (_, matches) = doc.get_ref().iter().find(|(k, _)| k.get_ref() == "match")?;
        let toml::de::DeValue::Array(items) = matches.get_ref() else {
            return None;
        };
        items.iter().find_map(|item| {
            let toml::de::DeValue::Table(t) = item.get_ref() else {
                return None;
            };
            let (_, kind) = t.iter().find(|(k, _)| k.get_ref() == "kind")?;
            if kind.span() != *kind_span {
                return None;
            }
            t.iter()
                .find(|(k, _)| k.get_ref() == key)
                .map(|(k, _)| k.span())
        })
    }

    /// A `within` window, if given.
    fn within(&self, w: Option<&Spanned<String>>) -> Result<Option<Duration>, KbError> {
        w.map(|w| {
            humantime::parse_duration(w.get_ref().trim()).map_err(|e| {
                self.err(
                    Some(w.span()),
                    format!("`{}` is not a duration: {e}", w.get_ref()),
                    Some("write e.g. 30s, 10m, 24h or 2d".into()),
                )
            })
        })
        .transpose()
    }

    fn regex(&self, s: &Spanned<String>) -> Result<LazyRegex, KbError> {
        let max = crate::parse::grammar::MAX_PATTERN;
        if s.get_ref().len() > max {
            return Err(self.err(
                Some(s.span()),
                format!("the regex is {} bytes; at most {max}", s.get_ref().len()),
                None,
            ));
        }
        if !self.eager {
            return Ok(LazyRegex::new(s.get_ref().as_str(), Limits::default()));
        }
        LazyRegex::compiled(s.get_ref().as_str(), Limits::default())
            .map_err(|e| self.err(Some(s.span()), format!("invalid regex: {e}"), None))
    }

    fn cond(&self, c: CondDef) -> Result<Cond, KbError> {
        let event = c.event.get_ref();
        let kinds: Vec<String> = event.split('|').map(|k| k.trim().to_owned()).collect();
        let mut known: Vec<String> = Vec::new();
        for kind in &kinds {
            let Some(fields) = self.fields.get(kind.as_str()) else {
                let near = nearest(kind, self.fields.keys().map(String::as_str));
                return Err(self.err(
                    Some(c.event.span()),
                    format!("no grammar produces the event `{kind}`"),
                    near.map(|n| format!("did you mean `{n}`?")),
                ));
            };
            for f in fields {
                if !known.contains(f) {
                    known.push(f.clone());
                }
            }
        }
        let check_field = |name: &str, span: std::ops::Range<usize>| -> Result<(), KbError> {
            let base = name.split('.').next().unwrap_or(name);
            if known.iter().any(|f| f == base)
                || META_FIELDS.contains(&base)
                || self.context.iter().any(|f| f == base)
                || base == "message"
            {
                Ok(())
            } else {
                Err(self.err(
                    Some(span),
                    format!("the event `{event}` has no field `{name}`"),
                    Some(format!("its fields: {}", known.join(", "))),
                ))
            }
        };
        let mut where_ = Vec::new();
        for (k, v) in &c.where_ {
            check_field(k, v.span())?;
            where_.push((k.clone(), self.regex(v)?));
        }
        let mut unless = Vec::new();
        for (k, v) in &c.unless {
            check_field(k, v.span())?;
            unless.push((k.clone(), self.regex(v)?));
        }
        if let Some(l) = &c.label {
            check_field(l.get_ref(), l.span())?;
        }
        Ok(Cond {
            event: event.clone(),
            kinds,
            where_,
            unless,
            label: c.label.map(Spanned::into_inner),
            note: c.note,
            optional: c.optional,
        })
    }

    fn matcher(
        &self,
        m: MatchDef,
        rule_subject: &Template,
    ) -> Result<(MatchSpec, BTreeSet<String>), KbError> {
        let kind_span = m.kind.span();
        self.only_keys_of_its_kind(&m)?;
        let single_cond = |m: &mut MatchDef| -> Result<Cond, KbError> {
            let event = m.event.take().ok_or_else(|| {
                self.err(
                    Some(kind_span.clone()),
                    "this kind of match needs `event`".into(),
                    None,
                )
            })?;
            self.cond(CondDef {
                event,
                where_: std::mem::take(&mut m.where_),
                unless: std::mem::take(&mut m.unless),
                label: m.label.take(),
                note: m.note.take(),
                optional: false,
            })
        };
        let mut m = m;
        let matcher = match m.kind.get_ref().as_str() {
            "single" => Matcher::Single {
                cond: single_cond(&mut m)?,
            },
            "count" => {
                let threshold = m.threshold.ok_or_else(|| {
                    self.err(
                        Some(kind_span.clone()),
                        "a count needs `threshold`".into(),
                        None,
                    )
                })?;
                if threshold == 0 {
                    return Err(self.err(
                        Some(kind_span.clone()),
                        "a count's `threshold` is at least 1".into(),
                        Some("a threshold of 0 would fire before anything happened".into()),
                    ));
                }
                Matcher::Count {
                    cond: single_cond(&mut m)?,
                    threshold,
                    distinct: m.distinct.take().map(Spanned::into_inner),
                }
            }
            "sequence" => {
                if m.steps.len() < 2 {
                    return Err(self.err(
                        Some(kind_span),
                        "a sequence needs at least two `steps`".into(),
                        None,
                    ));
                }
                let steps = std::mem::take(&mut m.steps)
                    .into_iter()
                    .map(|c| self.cond(c))
                    .collect::<Result<Vec<_>, _>>()?;
                if steps.last().is_some_and(|s| s.optional) {
                    return Err(self.err(
                        Some(kind_span),
                        "the last step of a sequence cannot be optional".into(),
                        None,
                    ));
                }
                let cancel = m.cancel.take().map(|c| self.cond(c)).transpose()?;
                Matcher::Sequence { steps, cancel }
            }
            "streak" => {
                let limit = m.limit.ok_or_else(|| {
                    self.err(
                        Some(kind_span.clone()),
                        "a streak needs `limit`".into(),
                        None,
                    )
                })?;
                let reset = m.reset.take().map(|c| self.cond(c)).transpose()?;
                let mut escalate: Vec<(u32, Severity)> =
                    m.escalate.drain(..).map(|e| (e.left, e.severity)).collect();
                escalate.sort_by_key(|(left, _)| *left);
                let observe = m.observe.take().map(|c| self.cond(c)).transpose()?;
                let left_field = m.left_field.take().map(Spanned::into_inner);
                if observe.is_some() && left_field.is_none() {
                    return Err(self.err(
                        Some(kind_span.clone()),
                        "`observe` needs `left_field`, the field with the tries left".into(),
                        None,
                    ));
                }
                Matcher::Streak {
                    cond: single_cond(&mut m)?,
                    reset,
                    observe,
                    limit,
                    left_field,
                    escalate,
                    at_limit: m.at_limit,
                }
            }
            "absence" => {
                let expect = m.expect.take().ok_or_else(|| {
                    self.err(
                        Some(kind_span.clone()),
                        "an absence needs `expect`".into(),
                        None,
                    )
                })?;
                let expect = self.cond(expect)?;
                let direction = match m.direction.as_ref().map(|d| d.get_ref().as_str()) {
                    None | Some("after") => Direction::After,
                    Some("before") => Direction::Before,
                    Some(other) => {
                        return Err(self.err(
                            m.direction.as_ref().map(Spanned::span),
                            format!("unknown direction `{other}`"),
                            Some("use `before` or `after`".into()),
                        ));
                    }
                };
                if direction == Direction::After && m.within.is_none() {
                    return Err(self.err(
                        Some(kind_span),
                        "an absence `after` needs `within`".into(),
                        None,
                    ));
                }
                Matcher::Absence {
                    trigger: single_cond(&mut m)?,
                    expect,
                    direction,
                }
            }
            other => {
                return Err(self.err(
                    Some(kind_span),
                    format!("unknown match kind `{other}`"),
                    Some("use single, count, sequence, streak or absence".into()),
                ));
            }
        };
        if let Some(c) = &m.cancel {
            return Err(self.err(
                Some(c.event.span()),
                "`cancel` applies only to a sequence".into(),
                None,
            ));
        }
        let context = m.context.take().map(|c| self.cond(c)).transpose()?;
        let within = self.within(m.within.as_ref())?;
        let subject = match &m.subject {
            Some(s) => self.template(s)?,
            None => rule_subject.clone(),
        };
        let message = m.message.as_ref().map(|t| self.template(t)).transpose()?;
        // What this matcher captures: fields of its events plus meta fields.
        let conds: Vec<&Cond> = match &matcher {
            Matcher::Single { cond } | Matcher::Count { cond, .. } => vec![cond],
            Matcher::Streak { cond, observe, .. } => std::iter::once(cond).chain(observe).collect(),
            Matcher::Sequence { steps, .. } => steps.iter().collect(),
            Matcher::Absence { trigger, .. } => vec![trigger],
        };
        let mut captured: BTreeSet<String> = META_FIELDS
            .iter()
            .chain(ENGINE_FIELDS)
            .map(|s| (*s).to_owned())
            .chain(self.context.iter().cloned())
            .collect();
        for c in &conds {
            for kind in &c.kinds {
                for f in self.fields.get(kind).into_iter().flatten() {
                    captured.insert(f.clone());
                }
            }
        }
        for k in &m.key {
            let base = k.get_ref().trim_end_matches('?');
            let base = base.split('.').next().unwrap_or_default();
            if !captured.contains(base) {
                return Err(self.err(
                    Some(k.span()),
                    format!(
                        "the key `{}` is not a field of the matched events",
                        k.get_ref()
                    ),
                    None,
                ));
            }
        }
        if let (Some(t), Some(span)) = (&message, m.message.as_ref().map(Spanned::span)) {
            self.check_captured(t, span, &captured)?;
        }
        let spec = MatchSpec {
            matcher,
            open_key: m
                .key
                .iter()
                .filter_map(|k| k.get_ref().strip_suffix('?').map(str::to_owned))
                .collect(),
            key: m
                .key
                .into_iter()
                .map(|k| k.into_inner().trim_end_matches('?').to_owned())
                .collect(),
            within,
            subject,
            message,
            fallback: m.fallback,
            severity: m.severity,
            remedy: m.remedy,
            context,
            defers_within: m.defers_within,
        };
        Ok((spec, captured))
    }

    fn template(&self, s: &Spanned<String>) -> Result<Template, KbError> {
        Template::parse(s.get_ref()).map_err(|(at, msg)| {
            let start = s.span().start + 1 + at;
            self.err(Some(start..start + 1), msg, None)
        })
    }

    fn check_captured(
        &self,
        t: &Template,
        span: std::ops::Range<usize>,
        captured: &BTreeSet<String>,
    ) -> Result<(), KbError> {
        for name in t.required() {
            let name = name
                .strip_prefix("list:")
                .map_or(name, |l| l.split_once('@').map_or(l, |(f, _)| f));
            let base = name.split('.').next().unwrap_or(name);
            if !captured.contains(base) {
                return Err(self.err(
                    Some(span),
                    format!(
                        "the placeholder `{{{name}}}` is not captured by every match of this rule"
                    ),
                    Some(
                        "capture it in the grammar pattern, or give a default: {name|text}".into(),
                    ),
                ));
            }
        }
        Ok(())
    }

    fn rule(&self) -> Result<(Rule, Vec<Reference>), KbError> {
        let f: RuleFile = toml::from_str(self.text)
            .map_err(|e| self.err(e.span(), e.message().to_owned(), None))?;
        let text: Arc<str> = Arc::from(self.text);
        let references = [("yields_to", &f.yields_to), ("defers_to", &f.defers_to)]
            .into_iter()
            .flat_map(|(key, list)| {
                let text = text.clone();
                list.iter().map(move |t| Reference {
                    file: self.file.to_owned(),
                    text: text.clone(),
                    key,
                    target: t.get_ref().clone(),
                    span: t.span(),
                })
            })
            .collect();
        let code = RuleCode::parse(f.code.get_ref()).ok_or_else(|| {
            self.err(
                Some(f.code.span()),
                format!("`{}` is not a rule code", f.code.get_ref()),
                Some("codes are HSM and three digits, e.g. HSM101".into()),
            )
        })?;
        let subject = self.template(&f.subject)?;
        let message = f.message.as_ref().map(|m| self.template(m)).transpose()?;
        let mut matches = Vec::new();
        // A placeholder must be captured by every match (any of them can fire).
        let mut captured_all: Option<BTreeSet<String>> = None;
        let mut captured_msg: Option<BTreeSet<String>> = None;
        if f.matches.is_empty() {
            return Err(self.err(None, "a rule needs at least one [[match]]".into(), None));
        }
        for m in f.matches {
            let subj_span = m.subject.as_ref().map_or(f.subject.span(), Spanned::span);
            let (spec, captured) = self.matcher(m, &subject)?;
            self.check_captured(&spec.subject, subj_span, &captured)?;
            // The rule's message serves only the matchers without their own.
            if spec.message.is_none() {
                captured_msg = Some(match captured_msg {
                    None => captured.clone(),
                    Some(prev) => prev.intersection(&captured).cloned().collect(),
                });
            }
            captured_all = Some(match captured_all {
                None => captured,
                Some(prev) => prev.intersection(&captured).cloned().collect(),
            });
            matches.push(spec);
        }
        let captured = captured_all.unwrap_or_default();
        if let (Some(t), Some(span)) = (&message, f.message.as_ref().map(Spanned::span)) {
            self.check_captured(t, span, captured_msg.as_ref().unwrap_or(&captured))?;
        }
        let mut remediation = Vec::new();
        for s in &f.remediation {
            let step = self.template(&s.step)?;
            self.check_captured(&step, s.step.span(), &captured)?;
            let command = match &s.command {
                Some(c) => {
                    let t = self.template(c)?;
                    self.check_captured(&t, c.span(), &captured)?;
                    Some(t)
                }
                None => None,
            };
            for tag in &s.only {
                if !matches
                    .iter()
                    .any(|m: &MatchSpec| m.remedy.as_deref() == Some(tag.as_str()))
                {
                    return Err(self.err(
                        Some(s.step.span()),
                        format!("no matcher of this rule has `remedy = \"{tag}\"`"),
                        Some(
                            "a step's `only` names the `remedy` tag of the matchers it is for"
                                .into(),
                        ),
                    ));
                }
            }
            for tag in s.skip_if.iter().chain(&s.only_if) {
                if !f
                    .related
                    .iter()
                    .any(|r| r.tag.as_deref() == Some(tag.as_str()))
                {
                    return Err(self.err(
                        Some(s.step.span()),
                        format!("no [[related]] of this rule has `tag = \"{tag}\"`"),
                        Some(
                            "a step's `skip_if` or `only_if` names the `tag` of related evidence"
                                .into(),
                        ),
                    ));
                }
            }
            remediation.push(RemedyStep {
                step,
                command,
                destructive: s.destructive,
                only: s.only.clone(),
                skip_if: s.skip_if.clone(),
                only_if: s.only_if.clone(),
                tool: s.tool.clone(),
            });
        }
        let mut related = Vec::new();
        for r in f.related {
            let relation = match r.relation.get_ref().as_str() {
                "cause" => Relation::Cause,
                "effect" => Relation::Effect,
                "during" => Relation::During,
                other => {
                    return Err(self.err(
                        Some(r.relation.span()),
                        format!("`{other}` is not a relation"),
                        Some("write relation = \"cause\", \"during\" or \"effect\"".into()),
                    ));
                }
            };
            let within = self.within(r.within.as_ref())?;
            let mut resolvers = Vec::new();
            for v in r.same.values() {
                let Some((key, _)) = v.get_ref().split_once('@') else {
                    continue;
                };
                let kinds: Vec<String> = self
                    .fields
                    .iter()
                    .filter(|(_, fields)| fields.iter().any(|f| f == key))
                    .map(|(kind, _)| kind.clone())
                    .collect();
                if kinds.is_empty() {
                    return Err(self.err(
                        Some(v.span()),
                        format!(
                            "no event carries the field `{key}` to resolve `{}`",
                            v.get_ref()
                        ),
                        None,
                    ));
                }
                resolvers.extend(kinds);
            }
            let same = r
                .same
                .into_iter()
                .map(|(k, v)| (k, v.into_inner()))
                .collect();
            let cond = self.cond(CondDef {
                event: r.event,
                where_: r.where_,
                unless: r.unless,
                label: None,
                note: None,
                optional: false,
            })?;
            related.push(Related {
                cond,
                relation,
                within,
                same,
                resolvers,
                note: r.note,
                tag: r.tag,
            });
        }
        for (i, ex) in f.examples.iter().enumerate() {
            if ex.input.is_empty() == ex.text.is_none() {
                return Err(self.err(
                    None,
                    format!(
                        "example {} needs either `input` (a sample file) or `text` (the sample inline), not both",
                        i + 1
                    ),
                    Some("[[examples]]\nfires = true\ntext = \"\"\"...the log lines...\"\"\"".into()),
                ));
            }
        }
        let group = match f.group {
            Some(g) => Some(Group {
                by: g.by,
                within: self.within(Some(&g.within))?.unwrap_or_default(),
                noun: g.noun,
            }),
            None => None,
        };
        Ok((
            Rule {
                id: f.id.into_inner(),
                code,
                title: f.title.into_inner(),
                severity: f.severity,
                owner: f.owner,
                channel: f.channel.unwrap_or_else(|| f.owner.channel().to_owned()),
                since: f.since,
                message,
                meaning: f.meaning,
                cause: f.cause,
                confirm: f.confirm,
                false_positives: f.false_positives,
                remediation,
                references: f.references,
                examples: f.examples,
                related,
                matches,
                yields_to: f.yields_to.into_iter().map(Spanned::into_inner).collect(),
                defers_to: f.defers_to.into_iter().map(Spanned::into_inner).collect(),
                defers_within: f.defers_within,
                group,
                file: self.file.to_owned(),
                builtin: false,
            },
            references,
        ))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupDef {
    by: Vec<String>,
    within: Spanned<String>,
    noun: String,
}

/// The candidate closest to `word` by edit distance, if any is close.
pub fn nearest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let w = word.to_ascii_lowercase();
    candidates
        .map(|c| (strsim::levenshtein(&w, &c.to_ascii_lowercase()), c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

impl KnowledgeBase {
    /// The rules built into hsmdiag, checked against `grammar`.
    ///
    /// # Panics
    /// Never in a released build: the built-in rules are checked by the test
    /// suite, so a failure here is a bug in hsmdiag.
    pub fn builtin(grammar: &Grammar) -> Self {
        let mut kb = KnowledgeBase::default();
        let fields = grammar.event_fields();
        let context: Vec<String> = grammar.context_fields().map(str::to_owned).collect();
        for (file, text) in BUILTIN_RULES {
            if *file == RETIRED_FILE {
                if let Err(e) = kb.add_retired(file, text) {
                    panic!("built-in {file} is invalid: {e}");
                }
            }
        }
        for (file, text) in BUILTIN_RULES {
            if *file == RETIRED_FILE {
                continue;
            }
            let loader = Loader {
                file,
                text,
                fields: &fields,
                context: &context,
                eager: false,
            };
            if let Err(e) = kb.add_loaded(&loader) {
                panic!("built-in rule {file} is invalid: {e}");
            }
        }
        if let Err(e) = kb.check_references() {
            panic!("built-in rules are invalid: {e}");
        }
        for r in &mut kb.rules {
            r.builtin = true;
        }
        kb
    }

    /// Adds a file of retired rules (the form of `grammars/kb/retired.toml`).
    ///
    /// # Errors
    /// [`KbError`] when the file is not valid, or retires a code or id a
    /// loaded rule still has.
    pub fn add_retired(&mut self, file: &str, text: &str) -> Result<(), KbError> {
        let err = |span: Option<std::ops::Range<usize>>, message: String| KbError {
            file: file.to_owned(),
            message,
            src: NamedSource::new(file, Arc::from(text)),
            span: span.map(Into::into),
            help: None,
        };
        let parsed: RetiredFile =
            toml::from_str(text).map_err(|e| err(e.span(), e.message().to_owned()))?;
        for r in parsed.retired {
            if let Some(live) = self
                .rules
                .iter()
                .find(|x| x.id == r.id || x.code.as_str() == r.code)
            {
                return Err(err(
                    None,
                    format!(
                        "{} / {} is retired but {} still defines {} / {}",
                        r.id, r.code, live.file, live.id, live.code
                    ),
                ));
            }
            self.retired.push(r);
        }
        Ok(())
    }

    /// Compiles every condition's pattern now, as a user's rule file is
    /// compiled at load (a built-in rule's are compiled on first use).
    ///
    /// # Errors
    /// The first pattern that does not compile, with its rule and field.
    pub fn verify(&self) -> Result<(), String> {
        for r in &self.rules {
            let conds = r
                .matches
                .iter()
                .flat_map(|m| m.matcher.conditions().into_iter().chain(m.context.as_ref()))
                .chain(r.related.iter().map(|x| &x.cond));
            for c in conds {
                for (field, re) in c.where_.iter().chain(&c.unless) {
                    LazyRegex::compiled(re.as_str(), re.limits())
                        .map_err(|e| format!("{}: `{field}`: {e}", r.id))?;
                }
            }
        }
        Ok(())
    }

    /// The retired rules.
    pub fn retired(&self) -> &[Retired] {
        &self.retired
    }

    /// A retired rule by id or code, in any case, with or without `HSM`.
    pub fn find_retired(&self, query: &str) -> Option<&Retired> {
        let (q, code) = as_code(query);
        self.retired
            .iter()
            .find(|r| r.id.eq_ignore_ascii_case(q) || r.code == code)
    }

    /// Checks every rule's `yields_to` and `defers_to`: each must name a
    /// loaded rule by id or code. Run once all rule files are added.
    ///
    /// # Errors
    /// [`KbError`] pointing at the first entry that names no rule, with the
    /// nearest id.
    pub fn check_references(&self) -> Result<(), KbError> {
        for r in &self.references {
            if self.find(&r.target).is_some() {
                continue;
            }
            let near = self.suggest(&r.target).map(|n| n.id.clone());
            let retired = self.find_retired(&r.target);
            let help = match (retired, near) {
                (Some(x), _) => Some(format!(
                    "{} was retired in {}{}",
                    x.code,
                    x.retired,
                    x.successor
                        .as_ref()
                        .map(|s| format!("; name {s} instead"))
                        .unwrap_or_default()
                )),
                (None, Some(n)) => Some(format!("did you mean `{n}`?")),
                (None, None) => Some("`hsmdiag rules` lists the ids".into()),
            };
            return Err(KbError {
                file: r.file.clone(),
                message: format!("`{}` names `{}`, which is no rule", r.key, r.target),
                src: NamedSource::new(&r.file, r.text.clone()),
                span: Some(r.span.clone().into()),
                help,
            });
        }
        Ok(())
    }

    /// Loads one rule file and adds it.
    ///
    /// # Errors
    /// [`KbError`] pointing at what is wrong: bad TOML, an unknown event or
    /// field, a placeholder the rule does not capture, or an id or code that
    /// is already taken.
    pub fn add(&mut self, file: &str, text: &str, grammar: &Grammar) -> Result<(), KbError> {
        let fields = grammar.event_fields();
        let context: Vec<String> = grammar.context_fields().map(str::to_owned).collect();
        let loader = Loader {
            file,
            text,
            fields: &fields,
            context: &context,
            eager: true,
        };
        self.add_loaded(&loader)
    }

    fn add_loaded(&mut self, loader: &Loader) -> Result<(), KbError> {
        let (rule, references) = loader.rule()?;
        if let Some(x) = self
            .retired
            .iter()
            .find(|x| x.id == rule.id || x.code == rule.code.as_str())
        {
            return Err(loader.err(
                None,
                format!(
                    "{} / {} was retired in {}; ids and codes are never reused",
                    x.id, x.code, x.retired
                ),
                Some("pick the next free code in the block and a new id".into()),
            ));
        }
        if let Some(other) = self
            .rules
            .iter()
            .find(|r| r.id == rule.id || r.code == rule.code)
        {
            return Err(loader.err(
                None,
                format!(
                    "{} / {} is already defined by {}",
                    rule.id, rule.code, other.file
                ),
                Some("ids and codes are unique; pick the next free code in the block".into()),
            ));
        }
        self.rules.push(rule);
        self.references.extend(references);
        Ok(())
    }

    /// The rules, ordered by code.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// A rule by id or code, in any case, with or without the `HSM` prefix.
    pub fn find(&self, query: &str) -> Option<&Rule> {
        let (q, code) = as_code(query);
        self.rules
            .iter()
            .find(|r| r.id.eq_ignore_ascii_case(q) || r.code.as_str() == code)
    }

    /// The id or code closest to `query`, for "did you mean".
    pub fn suggest(&self, query: &str) -> Option<&Rule> {
        let names: Vec<&str> = self
            .rules
            .iter()
            .flat_map(|r| [r.id.as_str(), r.code.as_str()])
            .collect();
        let n = nearest(query, names.into_iter())?;
        self.find(n)
    }
}
