//! The HSM card's alarm codes as data (`grammars/alarm_codes.toml`): each
//! `ALMnnnn` id with the wording it is logged with, what it means, how grave
//! it is and which part of the card raised it. The event kind the table names
//! (`luna.alarm`) gets the
//! fields `alarm_meaning`, `alarm_severity` and `alarm_from`, so rules key on
//! the id's severity, not on the wording (which Thales may revise).

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::Deserialize;

use crate::event::{Event, Field};

const TABLE_TEXT: &str = include_str!("../../data/alarm_codes.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    kind: String,
    table: Vec<TableSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TableSpec {
    from: String,
    digit: String,
    source: String,
    codes: Vec<[String; 4]>,
}

/// One alarm code.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AlarmCode {
    /// Its id (`ALM2006`).
    pub id: String,
    /// The wording it is logged with.
    pub message: String,
    /// What it means.
    pub meaning: String,
    /// `critical`, `error` or `warning`.
    pub severity: &'static str,
    /// The part that raises it: `host driver`, `boot loader`, `firmware`.
    pub from: &'static str,
    /// Where it comes from.
    pub source: &'static str,
}

struct Table {
    kind: String,
    codes: Vec<AlarmCode>,
    by_id: HashMap<String, usize>,
    from_digit: HashMap<char, &'static str>,
}

static TABLE: LazyLock<Table> = LazyLock::new(|| {
    let mut file: File = toml::from_str(TABLE_TEXT).expect("grammars/alarm_codes.toml is valid");
    let mut codes = Vec::new();
    let mut from_digit = HashMap::new();
    for t in std::mem::take(&mut file.table) {
        let from: &'static str = Box::leak(t.from.into_boxed_str());
        let source: &'static str = Box::leak(t.source.into_boxed_str());
        assert!(!source.trim().is_empty(), "a table names its source");
        let digit = t.digit.chars().next().expect("a table names its digit");
        from_digit.insert(digit, from);
        for [id, message, meaning, severity] in t.codes {
            assert!(
                id.len() == 7 && id.starts_with("ALM") && id[3..].starts_with(digit),
                "{id}: an id is ALM and four digits, the first {digit}"
            );
            let severity = match severity.as_str() {
                "critical" => "critical",
                "error" => "error",
                "warning" => "warning",
                other => panic!("{id}: severity `{other}` is not critical, error or warning"),
            };
            codes.push(AlarmCode {
                id,
                message,
                meaning,
                severity,
                from,
                source,
            });
        }
    }
    let by_id = codes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.clone(), i))
        .collect();
    Table {
        kind: file.kind,
        codes,
        by_id,
        from_digit,
    }
});

/// The event kind the table annotates, as `grammars/alarm_codes.toml` names it.
pub fn kind() -> &'static str {
    &TABLE.kind
}

/// Every alarm code of the table, in the table's order.
pub fn all() -> &'static [AlarmCode] {
    &TABLE.codes
}

/// The alarm code with this id (`ALM2006`, any case).
pub fn lookup(id: &str) -> Option<&'static AlarmCode> {
    TABLE
        .by_id
        .get(&id.trim().to_ascii_uppercase())
        .map(|&i| &TABLE.codes[i])
}

/// Gives a `luna.alarm` event its code's meaning, severity and origin. An id
/// the table does not list is still an alarm: severity `error`, its origin
/// read from its first digit, its meaning the wording it was logged with.
pub(crate) fn annotate(e: &mut Event) {
    if e.kind.as_str() != TABLE.kind || e.field("alarm_severity").is_some() {
        return;
    }
    let Some(id) = e.value("alarm").map(|v| v.to_string()) else {
        return;
    };
    let (meaning, severity, from) = match lookup(&id) {
        Some(c) => (c.meaning.clone(), c.severity, c.from),
        None => (
            e.value("message")
                .map(|v| v.to_string())
                .unwrap_or_else(|| format!("alarm {id}, not in the published list")),
            "error",
            id.chars()
                .nth(3)
                .and_then(|d| TABLE.from_digit.get(&d).copied())
                .unwrap_or("the HSM"),
        ),
    };
    e.fields.push(Field::derived("alarm_meaning", &meaning));
    e.fields.push(Field::derived("alarm_severity", severity));
    e.fields.push(Field::derived("alarm_from", from));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_reads_and_keys_by_id() {
        assert!(all().len() >= 23);
        let c = lookup("alm2006").expect("ALM2006 is listed");
        assert_eq!(c.severity, "critical");
        assert_eq!(c.from, "firmware");
        assert_eq!(lookup("ALM0014").map(|c| c.severity), Some("warning"));
        assert!(lookup("ALM9999").is_none());
        let mut ids: Vec<&str> = all().iter().map(|c| c.id.as_str()).collect();
        ids.dedup();
        assert_eq!(ids.len(), all().len(), "no id is listed twice");
    }
}
