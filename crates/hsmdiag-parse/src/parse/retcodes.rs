//! Return codes as data (`grammars/return_codes.toml`): PKCS#11 `CKR_*`, Luna
//! firmware `LUNA_RET_*` and Luna client `RC_*` codes with their values and
//! meanings. Every event whose text names a code, or gives a value where a
//! code stands (`Command Result : 0xa0`, `rv = 0xe0`), gets the fields `ret`,
//! `ret_value`, `ret_meaning` and `ret_ckr` (the PKCS#11 code it amounts to),
//! so rules key on the code whatever wording surrounds it; a line no pattern
//! typed that reports a failing code becomes a `luna.return_code` event.

use std::collections::HashMap;
use std::sync::LazyLock;

use super::lazy::{LazyRegex, Limits};
use aho_corasick::AhoCorasick;
use serde::Deserialize;

use crate::event::{Event, EventKind, Field};

const TABLE_TEXT: &str = include_str!("../../data/return_codes.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    table: Vec<TableSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TableSpec {
    prefix: String,
    what: String,
    source: String,
    codes: Vec<Vec<String>>,
}

/// One return code.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReturnCode {
    /// Its name (`CKR_PIN_INCORRECT`).
    pub name: String,
    /// Its value, where a public source gives it.
    pub value: Option<u32>,
    /// What it means.
    pub meaning: String,
    /// The PKCS#11 code it amounts to (itself for a `CKR_*` code).
    pub ckr: Option<String>,
    /// The kind of code (`PKCS#11 return value`, `Luna firmware return code`).
    pub what: &'static str,
    /// Where its name and value come from.
    pub source: &'static str,
}

impl ReturnCode {
    /// Whether the code reports success.
    pub fn is_ok(&self) -> bool {
        self.name.ends_with("_OK") || self.value == Some(0) && self.name.starts_with("CKR_")
    }
}

struct Table {
    codes: Vec<ReturnCode>,
    by_name: HashMap<String, usize>,
    ckr_by_value: HashMap<u32, usize>,
    luna_by_value: HashMap<u32, usize>,
    /// Literals one of which a line must hold to be looked at further.
    prefilter: AhoCorasick,
    name: LazyRegex,
    value: LazyRegex,
    failure: LazyRegex,
    paired: LazyRegex,
    decimal: LazyRegex,
}

/// The regex crate's own limits; the patterns compile on first use.
const LIMITS: Limits = Limits {
    size: 10 << 20,
    dfa: 2 << 20,
};

/// A line naming a return code holds one of these (names or a hex value).
pub(crate) const PROSE_LITERALS: [&str; 4] = ["CKR_", "RET_", "RC_", "0x"];

static TABLE: LazyLock<Table> = LazyLock::new(|| {
    let file: File = toml::from_str(TABLE_TEXT).expect("grammars/return_codes.toml is valid");
    let mut codes = Vec::new();
    for t in file.table {
        let what: &'static str = Box::leak(t.what.into_boxed_str());
        let source: &'static str = Box::leak(t.source.into_boxed_str());
        assert!(!source.trim().is_empty(), "a table names its source");
        for row in t.codes {
            assert!(
                (3..=4).contains(&row.len()),
                "a code is [name, value, meaning] or [name, value, meaning, ckr]: {row:?}"
            );
            assert!(
                row[0].starts_with(&t.prefix),
                "{} lacks {}",
                row[0],
                t.prefix
            );
            let value = (!row[1].is_empty()).then(|| {
                u32::from_str_radix(row[1].trim_start_matches("0x"), 16)
                    .unwrap_or_else(|_| panic!("{}: bad value {}", row[0], row[1]))
            });
            codes.push(ReturnCode {
                name: row[0].clone(),
                value,
                meaning: row[2].clone(),
                ckr: row.get(3).cloned(),
                what,
                source,
            });
        }
    }
    let by_name = codes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.name.clone(), i))
        .collect();
    let mut ckr_by_value = HashMap::new();
    let mut luna_by_value = HashMap::new();
    for (i, c) in codes.iter().enumerate() {
        if let Some(v) = c.value {
            if c.name.starts_with("CKR_") {
                ckr_by_value.insert(v, i);
            } else if v != 0 {
                luna_by_value.insert(v, i);
            }
        }
    }
    // A code stands where a value follows one of these words (`rv = 0xa0`,
    // `Command Result : 0xa0`, `returned 0x000000A0`, `pkcs11: 0xE0:`).
    let value = LazyRegex::new(
        r"(?i)(?:\brv\s*[=:]?\s*|command result\s*:\s*|\breturn(?:ed|s)?(?:\s+(?:code|value))?\s*[=:]?\s*|\berror(?:\s+code)?\s*[=:]?\s*|\bfailed with\s+|\bpkcs11:\s*|\bresult\s*[=:]\s*|\bcode\s*[=:]\s*)\(?(0x[0-9a-f]{1,8})\b",
        LIMITS,
    );
    Table {
        codes,
        by_name,
        ckr_by_value,
        luna_by_value,
        prefilter: AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(PROSE_LITERALS)
            .expect("static literals"),
        name: LazyRegex::new(r"\b(?:CKR|LUNA_RET|RC)_[A-Z][A-Z0-9_]*[A-Z0-9]\b", LIMITS),
        value,
        paired: LazyRegex::new(
            r"\b(0x[0-9A-Fa-f]{1,8}):\s*([A-Z][A-Z0-9_]*[A-Z0-9])\b",
            LIMITS,
        ),
        decimal: LazyRegex::new(r"\b(CKR_[A-Z][A-Z0-9_]*[A-Z0-9]):(\d{1,10})\b", LIMITS),
        failure: LazyRegex::new(
            // Words that say something failed, an error class
            // (`Pkcs11Error:`, `IOException:`), a program's `err:`, or Go's
            // `pkcs11: 0x...` error value.
            r"(?i)\b(?:error|errors|fail\w*|exception|rv|return(?:ed|s)?|result|unable|cannot|could not|denied|refused|not\s+(?:present|found|available))\b|(?-i:[a-z0-9](?:Error|Exception)\b)|\berr\s*[:=]|\bpkcs11:\s*0x",
            LIMITS,
        ),
    }
});

/// Every code of the table, in the table's order.
pub fn all() -> &'static [ReturnCode] {
    &TABLE.codes
}

/// The code of this name (`CKR_PIN_INCORRECT`, `LUNA_RET_UM_PIN_INCORRECT`).
pub fn by_name(name: &str) -> Option<&'static ReturnCode> {
    TABLE.by_name.get(name).map(|&i| &TABLE.codes[i])
}

/// The code a user names: `CKR_PIN_INCORRECT` (any case), or a value with
/// its `0x` (`0xa0`, `0xa00000`) read as a PKCS#11 code first, then as a Luna
/// code. A bare number is not a code here (`101` is rule HSM101).
pub fn lookup(text: &str) -> Option<&'static ReturnCode> {
    let t = text.trim();
    let upper = t.to_ascii_uppercase();
    if let Some(c) = by_name(&upper) {
        return Some(c);
    }
    if !(t.starts_with("0x") || t.starts_with("0X")) || t.len() > 10 {
        return None;
    }
    let v = parse_hex(t)?;
    ckr_by_value(v).or_else(|| TABLE.luna_by_value.get(&v).map(|&i| &TABLE.codes[i]))
}

/// The PKCS#11 code with this value.
pub fn ckr_by_value(value: u32) -> Option<&'static ReturnCode> {
    TABLE.ckr_by_value.get(&value).map(|&i| &TABLE.codes[i])
}

/// What a code found in a line resolves to: its name, value, meaning and the
/// PKCS#11 code it amounts to.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Resolved {
    name: String,
    value: Option<u32>,
    meaning: String,
    ckr: Option<String>,
    ok: bool,
}

/// A Luna firmware value read through the PKCS#11 code in its upper 16 bits.
fn through_ckr(value: u32) -> Option<&'static ReturnCode> {
    let upper = value >> 16;
    (0x1_0000..0x8000_0000)
        .contains(&value)
        .then(|| ckr_by_value(upper))
        .flatten()
}

fn resolve_name(name: &str, value: Option<u32>) -> Resolved {
    if let Some(c) = by_name(name) {
        let value = c.value.or(value);
        let ckr = if c.name.starts_with("CKR_") {
            Some(c.name.clone())
        } else {
            c.ckr
                .clone()
                .or_else(|| value.and_then(through_ckr).map(|k| k.name.clone()))
        };
        return Resolved {
            name: c.name.clone(),
            value,
            meaning: c.meaning.clone(),
            ckr,
            ok: c.is_ok(),
        };
    }
    // A code the table does not list: a LUNA_RET value still says which
    // PKCS#11 code it amounts to.
    let via = value.and_then(through_ckr);
    Resolved {
        name: name.to_owned(),
        value,
        meaning: via.map_or_else(
            || "a code the table does not list".to_owned(),
            |k| {
                format!(
                    "a code the table does not list; it amounts to {} ({})",
                    k.name, k.meaning
                )
            },
        ),
        ckr: via.map(|k| k.name.clone()),
        ok: name.ends_with("_OK"),
    }
}

fn resolve_value(value: u32) -> Resolved {
    if let Some(c) = ckr_by_value(value) {
        return resolve_name(&c.name, Some(value));
    }
    if let Some(&i) = TABLE.luna_by_value.get(&value) {
        return resolve_name(&TABLE.codes[i].name, Some(value));
    }
    if let Some(k) = through_ckr(value) {
        return Resolved {
            name: format!("0x{value:08x}"),
            value: Some(value),
            meaning: format!(
                "a Luna code the table does not list; it amounts to {} ({})",
                k.name, k.meaning
            ),
            ckr: Some(k.name.clone()),
            ok: false,
        };
    }
    Resolved {
        name: format!("0x{value:08x}"),
        value: Some(value),
        meaning: if value >= 0x8000_0000 {
            "a vendor-defined (Luna) code the table does not list".to_owned()
        } else {
            "a code the table does not list".to_owned()
        },
        ckr: None,
        ok: value == 0,
    }
}

fn parse_hex(s: &str) -> Option<u32> {
    let digits = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    u32::from_str_radix(digits, 16).ok()
}

/// A value followed by its code's name without the `CKR_` prefix
/// (`0x00000101: USER_NOT_LOGGED_IN`, as jacknji11 prints a CKRException):
/// two spellings that agree are a code, and a report of it.
fn paired(message: &str) -> Option<u32> {
    TABLE.paired.captures_iter(message).find_map(|c| {
        let value = parse_hex(c.get(1)?.as_str())?;
        let code = ckr_by_value(value)?;
        (code.name.strip_prefix("CKR_") == Some(c.get(2)?.as_str())).then_some(value)
    })
}

/// The value of a code written `CKR_NAME:value` with its own value in decimal
/// (`CKR_ATTRIBUTE_VALUE_INVALID:19`): the message of the `Pkcs11Error` that
/// Node's graphene-pk11 and pkcs11js throw, a failure wherever it stands.
fn with_decimal(message: &str) -> Option<u32> {
    TABLE.decimal.captures_iter(message).find_map(|c| {
        let code = by_name(c.get(1)?.as_str())?;
        let value: u32 = c.get(2)?.as_str().parse().ok()?;
        (code.value == Some(value)).then_some(value)
    })
}

/// The first return code a message names or gives by value.
fn find(message: &str) -> Option<Resolved> {
    let t = &*TABLE;
    if !t.prefilter.is_match(message) {
        return None;
    }
    let value = || {
        t.value
            .captures(message)
            .and_then(|c| parse_hex(c.get(1)?.as_str()))
    };
    match t.name.find(message) {
        // A value printed beside the name (`CKR_PIN_INCORRECT (0xa0)`,
        // `(A00000 : LUNA_RET_UM_PIN_INCORRECT)`) is the name's own; the value
        // pattern runs only when there is none.
        Some(m) => {
            let beside = beside_value(message, m.start(), m.end()).or_else(value);
            Some(resolve_name(m.as_str(), beside))
        }
        None => value().or_else(|| paired(message)).map(resolve_value),
    }
}

/// A hex value in the parentheses around a code's name: `(A00000 : NAME)` or
/// `NAME (0xa0)`.
fn beside_value(message: &str, start: usize, end: usize) -> Option<u32> {
    let before = || {
        let before = message[..start].trim_end().strip_suffix(':')?.trim_end();
        let hex = before[before.rfind('(')? + 1..].trim();
        (!hex.is_empty() && hex.len() <= 8 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| u32::from_str_radix(hex, 16).ok())
            .flatten()
    };
    let after = || {
        let after = message[end..].trim_start().strip_prefix('(')?;
        parse_hex(after[..after.find(')')?].trim())
    };
    before().or_else(after)
}

fn push_fields(r: Resolved, fields: &mut Vec<Field>) {
    fields.push(Field::derived("ret", &r.name));
    if let Some(v) = r.value {
        fields.push(Field::derived("ret_value", &format!("0x{v:08x}")));
    }
    fields.push(Field::derived("ret_meaning", &r.meaning));
    if let Some(k) = r.ckr {
        fields.push(Field::derived("ret_ckr", &k));
    }
}

/// Gives a typed event the return code its message names.
pub(crate) fn annotate(e: &mut Event) {
    // A file's own comments (`# Source: ...`) quote codes without reporting them.
    if e.kind.as_str() == crate::event::kind::ANNOTATION || e.field("ret").is_some() {
        return;
    }
    let Some(r) = find(e.message()) else {
        return;
    };
    push_fields(r, &mut e.fields);
}

/// Types an untyped message that reports a failing return code (an
/// application's log line, a quoted error): a `luna.return_code` event with
/// the message and the code's fields. A code named in passing (a listing of
/// codes, `CKR_OK`) is left alone: the line must say something failed.
pub(crate) fn prose(message: &str) -> Option<(EventKind, Vec<Field>)> {
    let r = find(message)?;
    if r.ok
        || !(TABLE.failure.is_match(message)
            || paired(message).is_some()
            || with_decimal(message).is_some())
    {
        return None;
    }
    let mut fields = Vec::with_capacity(5);
    fields.push(Field::derived("message", message.trim()));
    push_fields(r, &mut fields);
    Some((EventKind::new(crate::event::kind::RETURN_CODE), fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ret(message: &str) -> Option<(String, Option<String>, Option<u32>)> {
        find(message).map(|r| (r.name, r.ckr, r.value))
    }

    #[test]
    fn table_is_whole() {
        let t = &*TABLE;
        for re in [&t.name, &t.value, &t.failure, &t.paired] {
            LazyRegex::compiled(re.as_str(), LIMITS).expect("compiles");
        }
        // Every PKCS#11 v3.0 code from CKR_OK to CKR_OPERATION_CANCEL_FAILED.
        assert!(all().iter().filter(|c| c.name.starts_with("CKR_")).count() >= 95);
        for c in all() {
            assert!(!c.meaning.is_empty(), "{} has a meaning", c.name);
        }
        assert_eq!(ckr_by_value(0xa0).unwrap().name, "CKR_PIN_INCORRECT");
        assert_eq!(ckr_by_value(0xe0).unwrap().name, "CKR_TOKEN_NOT_PRESENT");
        assert_eq!(ckr_by_value(0x3).unwrap().name, "CKR_SLOT_ID_INVALID");
    }

    #[test]
    fn names_values_and_luna_codes() {
        assert_eq!(
            ret("Error:  'hsm login' failed. (A00000 : LUNA_RET_UM_PIN_INCORRECT)"),
            Some((
                "LUNA_RET_UM_PIN_INCORRECT".into(),
                Some("CKR_PIN_INCORRECT".into()),
                Some(0xa0_0000)
            ))
        );
        // A Luna code the table does not list is read through its upper bits.
        assert_eq!(
            ret("Error: 'partition init' failed. (300013 : LUNA_RET_SOMETHING_NEW)"),
            Some((
                "LUNA_RET_SOMETHING_NEW".into(),
                Some("CKR_DEVICE_ERROR".into()),
                Some(0x30_0013)
            ))
        );
        assert_eq!(
            ret("Command Result : 0xa0 (CKR_PIN_INCORRECT)").map(|r| r.0),
            Some("CKR_PIN_INCORRECT".into())
        );
        assert_eq!(
            ret("C_OpenSession returned 0x000000E0").map(|r| r.0),
            Some("CKR_TOKEN_NOT_PRESENT".into())
        );
        assert_eq!(
            ret("error: PKCS11 function C_GetTokenInfo failed: rv = 0x3").map(|r| r.0),
            Some("CKR_SLOT_ID_INVALID".into())
        );
        // A value in parentheses after a name the table does not list.
        assert_eq!(
            ret("failed: LUNA_RET_NOT_LISTED (0x00300099)"),
            Some((
                "LUNA_RET_NOT_LISTED".into(),
                Some("CKR_DEVICE_ERROR".into()),
                Some(0x30_0099)
            ))
        );
        assert_eq!(ret("build 0x1f3 of the image"), None);
        assert_eq!(ret("nothing here"), None);
    }

    #[test]
    fn prose_needs_a_failure() {
        assert!(prose("CKR_TOKEN_NOT_PRESENT returned by C_OpenSession").is_some());
        assert!(prose("The call failed with CKR_SLOT_ID_INVALID").is_some());
        assert!(prose("C_Login rv = CKR_OK").is_none());
        assert!(prose("Flags: CKF_TOKEN_PRESENT CKF_HW_SLOT").is_none());
        assert!(prose("See CKR_TOKEN_NOT_PRESENT in the specification").is_none());
        assert!(prose("Pkcs11Error: CKR_DEVICE_ERROR").is_some());
        assert!(prose("err: CKR_DEVICE_ERROR").is_some());
        assert!(prose("pkcs11: 0x80000005").is_some());
        // A value and its name without the prefix agree: jacknji11's report.
        assert_eq!(
            prose("testDigest(org.pkcs11.jacknji11.CryptokiTest): 0x00000101: USER_NOT_LOGGED_IN")
                .map(|(_, f)| f
                    .iter()
                    .any(|f| f.value.to_string() == "CKR_USER_NOT_LOGGED_IN")),
            Some(true)
        );
        assert!(prose("offset 0x00000101: HEADER_START").is_none());
        assert!(prose("TypeError: CKR_DEVICE_ERROR is not a function").is_some());
        assert!(prose("CKR_DEVICE_ERROR (0x30) CKR_DEVICE_MEMORY (0x31)").is_none());
        // graphene-pk11's `Pkcs11Error` message: the name and its own value in
        // decimal; a value that is not the name's is not that message.
        assert!(prose("CKR_ATTRIBUTE_VALUE_INVALID:19").is_some());
        assert!(prose("CKR_ATTRIBUTE_VALUE_INVALID:20").is_none());
    }
}
