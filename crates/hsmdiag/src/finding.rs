//! Findings: what the rules engine concluded, with the evidence that proves it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use std::collections::BTreeMap;

use crate::event::SourceId;
use crate::kb::{Owner, Relation, RuleCode, Severity};

/// The most evidence lines a finding keeps.
pub const MAX_EVIDENCE: usize = 5;

/// One line of evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[non_exhaustive]
pub struct Evidence {
    /// The input's index.
    #[serde(skip)]
    pub source_id: SourceId,
    /// The input's name, as given.
    pub source: String,
    /// 1-based line number.
    pub line: u32,
    /// The text of the message (for a run-together line, just this message).
    pub text: String,
    /// When the log says it happened.
    #[serde(skip)]
    pub time: Option<DateTime<Utc>>,
    /// Byte offset of the message inside the input.
    #[serde(skip)]
    pub offset: u64,
    /// Byte offset of the message inside its line.
    #[serde(skip)]
    pub column: u32,
    /// The part of `text` that shows the fault, and what to say about it.
    #[serde(skip)]
    pub label: Option<(std::ops::Range<usize>, Option<String>)>,
}

/// An event from any input that is the cause of a finding or an effect of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[non_exhaustive]
pub struct RelatedEvidence {
    /// Cause or effect.
    pub relation: Relation,
    /// What it means.
    pub note: String,
    /// The input's index.
    #[serde(skip)]
    pub source_id: SourceId,
    /// The input's name.
    pub source: String,
    /// 1-based line number.
    pub line: u32,
    /// The message.
    pub text: String,
    /// When it happened, on its own input's clock.
    pub time: Option<DateTime<Utc>>,
    /// The rule's name for this kind of related evidence (`skip_if` of steps).
    #[serde(skip)]
    pub tag: Option<String>,
}

/// One remediation step, filled with values from the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[non_exhaustive]
pub struct Step {
    /// What to do.
    pub step: String,
    /// The command to run, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Whether it destroys configuration or key material.
    pub destructive: bool,
    /// Left out when related evidence with this tag is found (the log shows
    /// the step already done).
    #[serde(skip)]
    pub skip_if: Option<String>,
    /// Kept only when related evidence with this tag is found (the step
    /// answers what that evidence shows).
    #[serde(skip)]
    pub only_if: Option<String>,
}

impl Step {
    /// The step as one line of text: the step, then its command.
    pub fn to_line(&self) -> String {
        let mut s = String::new();
        if self.destructive {
            s.push_str("DESTRUCTIVE: ");
        }
        s.push_str(&self.step);
        if let Some(c) = &self.command {
            s.push_str(": ");
            s.push_str(c);
        }
        s
    }
}

/// A known issue found in the inputs: one per rule, host and subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[non_exhaustive]
pub struct Finding {
    /// The rule's id (`ntls.unknown_ca`).
    pub id: String,
    /// The rule's code (`HSM101`).
    pub code: RuleCode,
    /// How bad.
    pub severity: Severity,
    /// The rule's title.
    pub title: String,
    /// What it is about: a client address, a certificate, a host; for a finding
    /// that speaks for many subjects with one cause, how many and where
    /// (`30 clients on hsm1`).
    pub subject: String,
    /// The host the finding is about: the syslog host (or appliance) of its
    /// events when they name one, `null` otherwise. With the rule and the
    /// subject it is what tells findings apart, so a fleet whose HSMs send to one
    /// collector gets one finding per host and can shard on this field.
    #[serde(default)]
    pub host: Option<String>,
    /// The subjects of a finding that speaks for many with one cause (thirty
    /// clients failing after one certificate regeneration), first seen first;
    /// empty when it is about one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub affected: Vec<String>,
    /// About how many further subjects share the cause beyond those listed in
    /// `affected` (an engine holds at most
    /// [`MAX_SUBJECTS_PER_RULE`](crate::MAX_SUBJECTS_PER_RULE) of a
    /// rule in full; the rest are counted, within about 1 %).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub affected_omitted: u64,
    /// One line about this occurrence, filled from the log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// How many times it happened.
    pub count: u64,
    /// When it first happened, if the log has times.
    pub first_seen: Option<DateTime<Utc>>,
    /// When it last happened, if the log has times.
    pub last_seen: Option<DateTime<Utc>>,
    /// Up to [`MAX_EVIDENCE`] lines that show it.
    pub evidence: Vec<Evidence>,
    /// What to do, one line per step.
    pub remediation: Vec<String>,
    /// What to do, with commands and destructive steps marked.
    pub remediation_steps: Vec<Step>,
    /// Documents.
    pub references: Vec<String>,
    /// Who can fix it.
    pub owner: Owner,
    /// Who to go to and how (a support request and its problem type,
    /// HSMrequest@microsoft.com, Thales support).
    pub channel: String,
    /// Events from any input that explain it (causes) or follow from it
    /// (effects), nearest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<RelatedEvidence>,
    /// The story in one line: causes → this finding → effects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain: Option<String>,
    /// The file of the rule that found it, when that rule is a user's
    /// (`--rules`, a configuration file, `HSMDIAG_RULES`), not hsmdiag's own:
    /// every format names it, so a finding's source is never in doubt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_file: Option<String>,
    /// Values of the finding's events that related evidence is joined on.
    #[serde(skip)]
    pub context: BTreeMap<String, String>,
    /// A stable key of the finding (as SARIF's `partialFingerprints`): the
    /// same for every update of it (`--follow` prints a finding again as its
    /// count or subjects grow) and in every run over the same problem — from
    /// the rule, the host and what the finding is about (a grouped rule's
    /// cause, else its subject). 16 hex digits. A redacted report keys it
    /// with a secret of the run instead, so that it cannot be traced back to
    /// the names it hides.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub fingerprint: String,
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The [`Finding::fingerprint`] of a rule's finding on `host` about `about`
/// (a grouped rule's cause values, else the subject).
pub fn fingerprint_of(id: &str, host: Option<&str>, about: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(id.as_bytes());
    h.update([0]);
    h.update(host.unwrap_or("").as_bytes());
    for a in about {
        h.update([0]);
        h.update(a.as_bytes());
    }
    h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
