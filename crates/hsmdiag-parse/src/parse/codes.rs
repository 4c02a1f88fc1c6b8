//! Azure error codes as data (`grammars/azure_codes.toml`): each error event
//! is looked up by its code and message and given the `cause` its row names,
//! the known issue the deployment rules read; a line no pattern typed that
//! quotes a known code or message is made an error event of its own.

use std::sync::{LazyLock, OnceLock};

use super::lazy::{LazyRegex, Limits};
use serde::Deserialize;

use crate::event::{Event, EventKind, Field};

const TABLE_TEXT: &str = include_str!("../../data/azure_codes.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    row: Vec<RowSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RowSpec {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    phrase: Option<String>,
    #[serde(default)]
    unless: Option<String>,
    #[serde(default)]
    parent: Option<String>,
    rule: String,
    #[serde(default)]
    prose: bool,
    #[serde(default)]
    capture: Option<String>,
    source: String,
}

/// One row of the table.
#[derive(Debug)]
pub struct CodeRow {
    /// The error code, if the row keys on one.
    pub code: Option<String>,
    /// The message phrase, if the row keys on one.
    pub phrase: Option<String>,
    phrase_re: Option<LazyRegex>,
    unless: Option<LazyRegex>,
    /// The code of the error this one must be the detail of, if any.
    parent: Option<LazyRegex>,
    /// The rule id the row maps to.
    pub rule: String,
    /// Whether the row is also looked for in untyped lines.
    pub prose: bool,
    /// Named groups read from the message into the event's fields (the
    /// service a missing delegation is for).
    capture: Option<LazyRegex>,
    /// The public source of the row.
    pub source: String,
}

struct Table {
    rows: Vec<CodeRow>,
    /// Every code of a `prose` row as a whole word, to find one quoted in a
    /// line or a message.
    prose_codes: LazyRegex,
    /// The `prose` rows without a code (their indices in `rows`), and the
    /// texts that pick which of them a line may match (built on first use).
    prose_phrases: (OnceLock<Picker>, Vec<usize>),
}

/// Which phrases a line may match: one multi-literal pass over the texts
/// every match of a phrase contains; a phrase without one is always tried.
/// Only the phrases a line may match are compiled and tried, in row order.
struct Picker {
    texts: aho_corasick::AhoCorasick,
    /// The literal's index → the phrases (positions in the row list) that
    /// need it.
    owners: Vec<Vec<usize>>,
    always: Vec<usize>,
}

impl Table {
    fn picker(&self) -> &Picker {
        self.prose_phrases.0.get_or_init(|| {
            let mut texts: Vec<Vec<u8>> = Vec::new();
            let mut owners: Vec<Vec<usize>> = Vec::new();
            let mut always = Vec::new();
            for (k, phrase) in self.phrase_patterns().enumerate() {
                match super::literals::required_of(phrase, false) {
                    Some(set) => {
                        for lit in set {
                            let at = texts.iter().position(|t| *t == lit).unwrap_or_else(|| {
                                texts.push(lit);
                                owners.push(Vec::new());
                                texts.len() - 1
                            });
                            owners[at].push(k);
                        }
                    }
                    None => always.push(k),
                }
            }
            Picker {
                texts: aho_corasick::AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .build(&texts)
                    .expect("code table texts build"),
                owners,
                always,
            }
        })
    }

    /// The first `prose` row without a code whose phrase the message
    /// matches (and its `unless` does not).
    fn phrase_row(&self, message: &str) -> Option<&CodeRow> {
        let picker = self.picker();
        // Most lines hold none of the texts: nothing to gather, nothing tried.
        if picker.always.is_empty() && !picker.texts.is_match(message.as_bytes()) {
            return None;
        }
        let mut candidates = picker.always.clone();
        for m in picker.texts.find_overlapping_iter(message.as_bytes()) {
            candidates.extend(&picker.owners[m.pattern().as_usize()]);
        }
        candidates.sort_unstable();
        candidates.dedup();
        candidates
            .into_iter()
            .map(|k| &self.rows[self.prose_phrases.1[k]])
            .find(|r| {
                r.phrase_re.as_ref().is_some_and(|p| p.is_match(message))
                    && !r.unless.as_ref().is_some_and(|u| u.is_match(message))
            })
    }

    fn phrase_patterns(&self) -> impl Iterator<Item = &str> {
        self.prose_phrases
            .1
            .iter()
            .filter_map(|&i| self.rows[i].phrase.as_deref())
    }
}

/// The limits a table's pattern is compiled with.
const LIMITS: Limits = Limits {
    size: 4 << 20,
    dfa: 2 << 20,
};

static TABLE: LazyLock<Table> = LazyLock::new(|| {
    let file: File = toml::from_str(TABLE_TEXT).expect("grammars/azure_codes.toml is valid");
    // Compiled on first use; the test suite compiles every one.
    let re = |p: &str| LazyRegex::new(p, LIMITS);
    let rows: Vec<CodeRow> = file
        .row
        .into_iter()
        .map(|r| {
            assert!(
                r.code.is_some() || r.phrase.is_some(),
                "a row needs a code or a phrase"
            );
            assert!(!r.source.trim().is_empty(), "a row names its source");
            CodeRow {
                phrase_re: r.phrase.as_deref().map(re),
                unless: r.unless.as_deref().map(re),
                parent: r.parent.as_deref().map(re),
                code: r.code,
                phrase: r.phrase,
                rule: r.rule,
                prose: r.prose,
                capture: r.capture.as_deref().map(re),
                source: r.source,
            }
        })
        .collect();
    let codes: Vec<String> = rows
        .iter()
        .filter(|r| r.prose)
        .filter_map(|r| r.code.as_deref().map(regex::escape))
        .collect();
    // The codes are ASCII words: an ASCII word boundary keeps the search a
    // DFA's.
    let prose_codes = re(&format!(r"(?-u:\b)(?:{})(?-u:\b)", codes.join("|")));
    let index: Vec<usize> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r.prose && r.code.is_none() && r.phrase.is_some())
        .map(|(i, _)| i)
        .collect();
    Table {
        rows,
        prose_codes,
        prose_phrases: (OnceLock::new(), index),
    }
});

/// The patterns [`prose`] types a message by: the codes (one alternation)
/// and the phrases of rows without a code.
pub(crate) fn prose_patterns() -> Vec<String> {
    let t = &*TABLE;
    std::iter::once(t.prose_codes.as_str().to_owned())
        .chain(t.phrase_patterns().map(str::to_owned))
        .collect()
}

/// Every row of the table, in file order.
pub fn rows() -> impl Iterator<Item = &'static CodeRow> {
    TABLE.rows.iter()
}

/// The codes and phrases that map to `rule`.
pub fn rows_for(rule: &str) -> impl Iterator<Item = &'static CodeRow> {
    TABLE.rows.iter().filter(move |r| r.rule == rule)
}

/// The first row matching an error with `code` (possibly empty) and
/// `message`, the detail of an error with the code `parent` (possibly empty).
fn lookup(code: &str, parent: &str, message: &str) -> Option<&'static CodeRow> {
    TABLE.rows.iter().find(|r| {
        r.code
            .as_deref()
            .is_none_or(|c| c.eq_ignore_ascii_case(code))
            && r.parent.as_ref().is_none_or(|p| p.is_match(parent))
            && r.phrase_re.as_ref().is_none_or(|p| p.is_match(message))
            && !r.unless.as_ref().is_some_and(|u| u.is_match(message))
    })
}

/// Gives an error event the `cause` its code or message maps to. An error
/// that carries no code of its own but quotes a known one (`Error: ...
/// AnotherOperationInProgress: ...`) is looked up by that code.
pub(crate) fn classify(e: &mut Event) {
    // The kinds that carry an Azure error: `framing.toml`'s `[errors] kinds`.
    let error_kinds = &super::framing::framing().errors.kinds;
    if !error_kinds.iter().any(|k| k == e.kind.as_str()) || e.field("cause").is_some() {
        return;
    }
    let message = e
        .value("message")
        .map(|v| v.to_string())
        .unwrap_or_default();
    let code = e.value("code").map(|v| v.to_string()).unwrap_or_default();
    let parent = e.value("parent").map(|v| v.to_string()).unwrap_or_default();
    let row = lookup(&code, &parent, &message).or_else(|| {
        let quoted = TABLE.prose_codes.find(&message)?;
        lookup(quoted.as_str(), &parent, &message)
    });
    if let Some(row) = row {
        e.fields.push(Field::derived("cause", &row.rule));
        captured(row, &message, &mut e.fields);
    }
}

/// Adds the row's named captures from `message` to `fields`.
fn captured(row: &CodeRow, message: &str, fields: &mut Vec<Field>) {
    let Some(re) = &row.capture else { return };
    let Some(caps) = re.captures(message) else {
        return;
    };
    for name in re.capture_names().flatten() {
        if let Some(m) = caps.name(name) {
            if !fields.iter().any(|f| &*f.name == name) {
                fields.push(Field::derived(name, m.as_str()));
            }
        }
    }
}

/// Types an untyped message that quotes a known code or message (a line of
/// an issue, a quote of an e-mail): an `arm.error` with the code (when the
/// line names one), the line as its message, `quoted` set, and its cause.
pub(crate) fn prose(message: &str) -> Option<(EventKind, Vec<Field>)> {
    let table = &*TABLE;
    let found = table.prose_codes.find(message);
    let row = match found {
        Some(c) => lookup(c.as_str(), "", message),
        None => table.phrase_row(message),
    }?;
    let mut fields = Vec::with_capacity(4);
    if let Some(c) = found {
        fields.push(Field::derived("code", c.as_str()));
    }
    fields.push(Field::derived("message", message.trim()));
    fields.push(Field::derived("quoted", "true"));
    fields.push(Field::derived("cause", &row.rule));
    captured(row, message, &mut fields);
    Some((EventKind::new(crate::event::kind::ERROR), fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_its_rows_and_every_pattern_compiles() {
        assert!(TABLE.rows.len() > 30);
        // Compiled on first use in a run: every one here.
        for r in &TABLE.rows {
            for re in [&r.phrase_re, &r.unless, &r.capture, &r.parent]
                .into_iter()
                .flatten()
            {
                LazyRegex::compiled(re.as_str(), LIMITS).expect("compiles");
            }
        }
        LazyRegex::compiled(TABLE.prose_codes.as_str(), LIMITS).expect("compiles");
        assert!(TABLE.prose_phrases.1.len() > 3);
    }

    #[test]
    fn codes_and_phrases() {
        let cause = |code: &str, msg: &str| lookup(code, "", msg).map(|r| r.rule.as_str());
        // Not found while a template deploys: a dependency not declared.
        assert_eq!(
            lookup(
                "ResourceNotFound",
                "DeploymentFailed",
                "The Resource 'x' was not found."
            )
            .map(|r| r.rule.as_str()),
            Some("deploy.race_condition")
        );
        assert_eq!(
            cause("AnotherOperationInProgress", "x"),
            Some("deploy.race_condition")
        );
        assert_eq!(
            cause("anotheroperationinprogress", "x"),
            Some("deploy.race_condition")
        );
        assert_eq!(cause("QuotaExceeded", "x"), Some("deploy.quota_exceeded"));
        assert_eq!(
            cause(
                "BadRequest",
                "Subnet s in VNET v is missing a delegation to Microsoft.Web/serverFarms."
            ),
            Some("deploy.subnet_delegation_missing")
        );
        // Removing a delegation that is in use is not a missing delegation.
        assert_eq!(
            cause("InUseSubnetCannotBeUpdated", "delegation"),
            Some("deploy.failed")
        );
        assert_eq!(
            cause(
                "BadRequest",
                "Cannot remove delegation from subnet s because it is in use"
            ),
            Some("deploy.failed")
        );
        assert_eq!(
            cause("ResourceNotFound", "The Resource 'x' was not found."),
            None
        );
        assert_eq!(cause("Conflict", "x"), None);
    }

    #[test]
    fn prose_lines() {
        let (_, f) = prose("AnotherOperationInProgress: Another operation on this or dependent resource is in progress.").unwrap();
        assert!(
            f.iter()
                .any(|f| &*f.name == "cause" && f.value.to_string() == "deploy.race_condition")
        );
        let (_, f) = prose("when trying to deploy a second gateway I get the error \"A virtual network can't be associated with more than one gateway.\"").unwrap();
        assert!(
            f.iter()
                .any(|f| f.value.to_string() == "deploy.one_gateway_per_vnet")
        );
        assert!(
            prose("The subnet has a delegation to Microsoft.HardwareSecurityModules/dedicatedHSMs")
                .is_none()
        );
        assert!(prose("Apply complete! Resources: 3 added, 0 changed, 0 destroyed.").is_none());
    }
}
