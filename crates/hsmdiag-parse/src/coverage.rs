//! What the grammars miss: unrecognised lines grouped into templates, with the
//! variable parts (times, numbers, addresses, ids) masked, so a user sees which
//! message shapes are unknown and how often, and can write a pattern for them.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

/// The most distinct templates kept per analysis; lines of further templates
/// are counted in [`Coverage::other`].
pub const MAX_TEMPLATES: usize = 10_000;

/// One template of unrecognised lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[non_exhaustive]
pub struct UnrecognizedTemplate {
    /// The message with its variable parts masked (`<n>`, `<ip>`, `<time>` ...).
    pub template: String,
    /// How many messages had this shape.
    pub count: u64,
    /// The first one: its input's name.
    pub source: String,
    /// Its line.
    pub line: u32,
    /// Its text.
    pub example: String,
}

/// Unrecognised messages by template.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    by_template: HashMap<String, UnrecognizedTemplate>,
    /// Messages whose template did not fit under the limit of 10,000 templates.
    pub other: u64,
}

static MASKS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        // ISO 8601 and syslog times.
        (
            r"\d{4}[-/]\d{2}[-/]\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?",
            "<time>",
        ),
        (
            r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\d{1,2} \d{2}:\d{2}:\d{2}\b",
            "<time>",
        ),
        (r"\b\d{1,2}:\d{2}:\d{2}(?:\.\d+)?\b", "<time>"),
        // Azure resource ids and GUIDs.
        (r"(?i)/subscriptions/[^\s'\x22,;)\]]+", "<resource-id>"),
        (
            r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",
            "<uuid>",
        ),
        // Addresses, with a port in Luna's `/port` or the usual `:port`.
        (
            r"\b(?:\d{1,3}\.){3}\d{1,3}(?:[/:]\d{1,5})?\b",
            "<ip>",
        ),
        (
            r"(?i)\[?\b(?:[0-9a-f]{1,4}:){2,7}[0-9a-f]{0,4}\]?(?:[/:]\d{1,5})?",
            "<ip>",
        ),
        // Hex codes and long hex strings (fingerprints, serials, request ids).
        (r"\b0[xX][0-9A-Fa-f]+\b", "<hex>"),
        (r"\b[0-9A-Fa-f]*\d[0-9A-Fa-f]*[A-Fa-f][0-9A-Fa-f]*\b|\b[0-9A-Fa-f]*[A-Fa-f][0-9A-Fa-f]*\d[0-9A-Fa-f]*\b", "<hex>"),
        // Any other number.
        (r"\d+(?:\.\d+)*", "<n>"),
    ]
    .into_iter()
    .map(|(p, r)| (Regex::new(p).expect("static regex is valid"), r))
    .collect()
});

/// The template of a message: its variable parts masked, runs of spaces made one.
pub fn template(message: &str) -> String {
    let mut s = message.trim().to_owned();
    for (re, with) in MASKS.iter() {
        if re.is_match(&s) {
            s = re.replace_all(&s, *with).into_owned();
        }
    }
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            if !space {
                out.push(' ');
            }
            space = true;
        } else {
            out.push(c);
            space = false;
        }
    }
    out
}

impl Coverage {
    /// Counts one unrecognised message.
    pub fn add(
        &mut self,
        program: Option<&str>,
        message: &str,
        source: &str,
        line: u32,
        text: &str,
    ) {
        let mut t = template(message);
        if let Some(p) = program {
            t = format!("{p}: {t}");
        }
        let full = self.by_template.len() >= MAX_TEMPLATES;
        match self.by_template.get_mut(&t) {
            Some(e) => e.count += 1,
            None if full => self.other += 1,
            None => {
                self.by_template.insert(
                    t.clone(),
                    UnrecognizedTemplate {
                        template: t,
                        count: 1,
                        source: source.to_owned(),
                        line,
                        example: text.to_owned(),
                    },
                );
            }
        }
    }

    /// Adds another input's counts (the earlier input's example is kept).
    pub fn merge(&mut self, other: Coverage) {
        self.other += other.other;
        for (t, e) in other.by_template {
            let full = self.by_template.len() >= MAX_TEMPLATES;
            match self.by_template.get_mut(&t) {
                Some(mine) => mine.count += e.count,
                None if full => self.other += e.count,
                None => {
                    self.by_template.insert(t, e);
                }
            }
        }
    }

    /// The templates, most frequent first (then in order of first appearance by
    /// source and line).
    pub fn templates(&self) -> Vec<UnrecognizedTemplate> {
        let mut v: Vec<_> = self.by_template.values().cloned().collect();
        v.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then_with(|| a.source.cmp(&b.source))
                .then(a.line.cmp(&b.line))
        });
        v
    }
}

#[cfg(test)]
mod tests {
    use super::template;

    #[test]
    fn variable_parts_are_masked() {
        assert_eq!(
            template("info : 0 : Incoming connection request... : 10.3.1.4/50001"),
            "info : <n> : Incoming connection request... : <ip>"
        );
        assert_eq!(
            template("signed request 7f3a2c in 14 ms at 2026-11-20T02:10:00Z"),
            "signed request <hex> in <n> ms at <time>"
        );
        assert_eq!(
            template("deleted /subscriptions/0000/resourceGroups/rg/providers/X/y/z  now"),
            "deleted <resource-id> now"
        );
        assert_eq!(
            template("request 3f2504e0-4f89-11d3-9a0c-0305e82c3301 failed with 0xA0"),
            "request <uuid> failed with <hex>"
        );
        // Words made of hex letters stay words.
        assert_eq!(template("add a bad face"), "add a bad face");
    }
}
