//! Wrapper peeling, the parse layer's first stage: ANSI escapes, CI log
//! prefixes, quotes, gutters, code fences and exception prefixes are taken off
//! a line before its header is read and its message typed
//! (`grammars/wrappers.toml` lists the prefixes with their sources).
//!
//! Peeling only removes bytes; a [`Peel`] records which, so a position in the
//! peeled text maps back to the original line ([`Peel::original`]) and
//! evidence keeps pointing at the original file, line and bytes.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use super::lazy::{LazyRegex, Limits};
use serde::Deserialize;

use crate::event::EventKind;

const WRAPPERS: &str = include_str!("../../data/wrappers.toml");

/// How many prefixes one line may lose (a bound, not a limit met in practice:
/// `> > │ ` is three).
const MAX_PREFIXES: usize = 16;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    prefix: Vec<PrefixSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PrefixSpec {
    name: String,
    pattern: String,
    #[serde(default)]
    keep: bool,
    #[serde(default)]
    blank: bool,
    #[serde(default)]
    require: Option<String>,
    #[serde(default)]
    unless: Option<String>,
    #[serde(default)]
    max_indent: Option<usize>,
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    context: Option<String>,
    #[allow(dead_code, reason = "documentation in the table, checked to be there")]
    source: String,
}

struct Prefix {
    re: LazyRegex,
    keep: bool,
    blank: bool,
    require: Option<LazyRegex>,
    unless: Option<LazyRegex>,
    max_indent: Option<usize>,
    after: Option<usize>,
    context: Option<EventKind>,
}

struct Table {
    prefixes: Vec<Prefix>,
}

/// A cheap look at a line's first bytes: whether any prefix of the table can
/// start it. Most lines of an appliance log start with a date or a word and
/// are left as they are without trying the table.
fn may_be_wrapped(line: &str) -> bool {
    let t = line.trim_start_matches([' ', '\t']).as_bytes();
    match t.first() {
        None => false,
        Some(b'0'..=b'9') => t.get(4) == Some(&b'-') && t.get(10) == Some(&b'T'),
        Some(b'[' | b'#' | b':' | b'>' | b'`' | b'~' | 0xe2) => true,
        Some(b) if b.is_ascii_alphabetic() => exception_first(t),
        Some(_) => false,
    }
}

/// Whether the first word of a line, before `: `, names an exception class.
fn exception_first(t: &[u8]) -> bool {
    let word = t
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || *b == b'.' || *b == b'_'))
        .map_or(t, |n| &t[..n]);
    t.get(word.len()) == Some(&b':')
        && (word.ends_with(b"Error")
            || word.ends_with(b"Exception")
            || word.ends_with(b"SystemExit"))
}

/// Whether the line holds an SGR sequence that lost its ESC byte (`[31m`).
fn has_bare_sgr(line: &str) -> bool {
    let b = line.as_bytes();
    memchr::memchr_iter(b'[', b).any(|i| {
        let rest = &b[i + 1..];
        let n = rest
            .iter()
            .take(12)
            .position(|c| !(c.is_ascii_digit() || *c == b';'))
            .unwrap_or(rest.len().min(12));
        n > 0 && rest.get(n) == Some(&b'm') && rest[0].is_ascii_digit()
    })
}

/// The regex crate's own limits, which the table's patterns are compiled with.
const LIMITS: Limits = Limits {
    size: 10 << 20,
    dfa: 2 << 20,
};

static TABLE: LazyLock<Table> = LazyLock::new(|| {
    let file: File = toml::from_str(WRAPPERS).expect("grammars/wrappers.toml is valid");
    let names: Vec<&str> = file.prefix.iter().map(|p| p.name.as_str()).collect();
    // Compiled on first use; the test suite compiles every one.
    let anchored = |p: &str| LazyRegex::new(format!("^(?:{p})"), LIMITS);
    let prefixes = file
        .prefix
        .iter()
        .map(|p| Prefix {
            re: anchored(&p.pattern),
            keep: p.keep,
            blank: p.blank,
            require: p.require.as_deref().map(anchored),
            unless: p.unless.as_deref().map(anchored),
            max_indent: p.max_indent,
            context: p.context.as_deref().map(EventKind::new),
            after: p.after.as_deref().map(|a| {
                names
                    .iter()
                    .position(|n| *n == a)
                    .expect("`after` names a prefix of the table")
            }),
        })
        .collect();
    Table { prefixes }
});

/// ANSI escapes: CSI sequences (`ESC [ ... m`, cursor moves), OSC strings
/// (`ESC ] ... BEL`), two-byte escapes; and SGR sequences whose ESC byte was
/// lost on the way into an issue or a web page (`[31m`, `[0m`).
static ANSI: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]|\[[0-9]{1,3}(?:;[0-9]{1,3})*m",
    )
    .expect("ANSI pattern compiles")
});

/// What peeling took off one line: the byte ranges cut, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Peel {
    cuts: Vec<Range<usize>>,
    /// The line was nothing but a wrapper (a code fence, a box corner).
    blank: bool,
    /// The kind of the line if no pattern types it (set by its wrapper).
    context: Option<&'static EventKind>,
}

/// The kinds wrappers give the lines they wrap (`tf.context`).
pub fn context_kinds() -> impl Iterator<Item = &'static EventKind> {
    TABLE.prefixes.iter().filter_map(|p| p.context.as_ref())
}

impl Peel {
    /// Peels `line` (without its line ending).
    pub fn of(line: &str) -> Peel {
        let mut peel = Peel::default();
        let table = &*TABLE;
        let escaped = line.as_bytes().contains(&0x1b) || has_bare_sgr(line);
        if !escaped && !may_be_wrapped(line) {
            return peel;
        }
        if escaped {
            peel.cuts = ANSI
                .find_iter(line)
                .filter(|m| {
                    // `[1m30s elapsed]` is Terraform's clock, not a lost escape.
                    line.as_bytes()[m.start()] == 0x1b
                        || !line.as_bytes().get(m.end()).is_some_and(u8::is_ascii_digit)
                })
                .map(|m| m.range())
                .collect();
        }
        // Prefixes are read off the line with its escapes cut.
        let clean = peel.apply(line);
        let mut pos = 0;
        let mut prefix_cuts: Vec<Range<usize>> = Vec::new();
        let mut last: Option<usize> = None;
        'outer: for _ in 0..MAX_PREFIXES {
            let rest = &clean[pos..];
            let at = rest.len() - rest.trim_start_matches([' ', '\t']).len();
            let rest = &rest[at..];
            for (i, p) in table.prefixes.iter().enumerate() {
                if p.after.is_some() && p.after != last {
                    continue;
                }
                let Some(m) = p.re.find(rest) else { continue };
                if m.is_empty() {
                    continue;
                }
                if let Some(req) = &p.require {
                    if !req.is_match(&rest[m.end()..]) {
                        continue;
                    }
                }
                if p.unless
                    .as_ref()
                    .is_some_and(|u| u.is_match(&rest[m.end()..]))
                    || p.max_indent.is_some_and(|n| at > n)
                {
                    continue;
                }
                let from = pos + at;
                let to = from + m.end();
                if p.blank {
                    peel.blank = true;
                    prefix_cuts.push(pos..clean.len());
                    break 'outer;
                }
                if !p.keep {
                    // The blanks before a wrapper go with it, unless a kept
                    // header stands before them.
                    let cut_from = if last.is_some_and(|l| table.prefixes[l].keep) {
                        from
                    } else {
                        pos
                    };
                    prefix_cuts.push(cut_from..to);
                }
                if let Some(k) = &p.context {
                    peel.context = Some(k);
                }
                pos = to;
                last = Some(i);
                continue 'outer;
            }
            break;
        }
        // A code span closed at the end of the line.
        if prefix_cuts
            .iter()
            .any(|c| clean[c.clone()].trim_start().starts_with('`'))
        {
            let trimmed = clean.trim_end();
            let body = trimmed.trim_end_matches('`');
            if body.len() < trimmed.len() && body.len() >= pos {
                prefix_cuts.push(body.len()..trimmed.len());
            }
        }
        if prefix_cuts.is_empty() {
            return peel;
        }
        // Map the prefix cuts (positions in the escape-free text) back to the
        // original line and merge them with the escape cuts.
        let mapped: Vec<Range<usize>> = prefix_cuts
            .iter()
            .map(|c| peel.original(c.start)..peel.original_end(c.end))
            .collect();
        peel.cuts.extend(mapped);
        peel.cuts.sort_by_key(|c| c.start);
        let mut merged: Vec<Range<usize>> = Vec::with_capacity(peel.cuts.len());
        for c in peel.cuts.drain(..) {
            match merged.last_mut() {
                Some(m) if c.start <= m.end => m.end = m.end.max(c.end),
                _ => merged.push(c),
            }
        }
        peel.cuts = merged;
        peel
    }

    /// Whether nothing was cut.
    pub fn is_empty(&self) -> bool {
        self.cuts.is_empty()
    }

    /// Whether the line was nothing but a wrapper.
    pub fn is_blank(&self) -> bool {
        self.blank
    }

    /// The kind its wrapper gives the line when no pattern types it.
    pub fn context(&self) -> Option<&'static EventKind> {
        self.context
    }

    /// The length of the cut at the line's start (0 if none): the peeled text
    /// starts that many bytes into the line.
    pub fn lead(&self) -> usize {
        match self.cuts.first() {
            Some(c) if c.start == 0 => c.end,
            _ => 0,
        }
    }

    /// Whether the only cut is at the line's start, so the peeled text is a
    /// slice of the line.
    pub fn is_prefix_only(&self) -> bool {
        self.cuts.len() <= 1 && self.lead() > 0 || self.cuts.is_empty()
    }

    /// The line with the cuts taken out.
    pub fn apply<'a>(&self, line: &'a str) -> Cow<'a, str> {
        if self.cuts.is_empty() {
            return Cow::Borrowed(line);
        }
        if self.is_prefix_only() {
            return Cow::Borrowed(&line[self.lead()..]);
        }
        let mut out = String::with_capacity(line.len());
        let mut at = 0;
        for c in &self.cuts {
            out.push_str(&line[at..c.start]);
            at = c.end;
        }
        out.push_str(&line[at..]);
        Cow::Owned(out)
    }

    /// The position in the original line of byte `pos` of the peeled text.
    pub fn original(&self, pos: usize) -> usize {
        let mut orig = pos;
        for c in &self.cuts {
            if c.start <= orig {
                orig += c.len();
            } else {
                break;
            }
        }
        orig
    }

    /// Like [`original`](Self::original) for the end of a range: a range that
    /// ends where a cut starts ends before the cut.
    pub fn original_end(&self, pos: usize) -> usize {
        let mut orig = pos;
        for c in &self.cuts {
            if c.start < orig {
                orig += c.len();
            } else {
                break;
            }
        }
        orig
    }

    /// [`original`](Self::original) counted from [`lead`](Self::lead) bytes
    /// into the line, where the peeled text starts.
    pub fn past_lead(&self, pos: usize) -> usize {
        self.original(pos) - self.lead()
    }

    /// [`original_end`](Self::original_end) relative to [`lead`](Self::lead).
    pub fn past_lead_end(&self, pos: usize) -> usize {
        self.original_end(pos) - self.lead()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peeled(line: &str) -> String {
        Peel::of(line).apply(line).into_owned()
    }

    #[test]
    fn table_loads() {
        assert!(TABLE.prefixes.len() >= 10);
        // Compiled on first use in a run: every one here.
        for p in &TABLE.prefixes {
            for re in std::iter::once(&p.re).chain(&p.require).chain(&p.unless) {
                LazyRegex::compiled(re.as_str(), LIMITS).expect("compiles");
            }
        }
    }

    #[test]
    fn plain_lines_are_left_alone() {
        for line in [
            "2026 Mar 01 10:00:00 hsm1 local5 info NTLS[8508]: Error during SSL accept ( RC_SSL_ERROR )",
            "ERROR: (AnotherOperationInProgress) Another operation on this or dependent resource is in progress.",
            "    \"code\": \"DeploymentFailed\",",
            "lunash:>hsm login",
            "     | error(s). Showing 2 out of 2 error(s).",
            "# Source: https://github.com/Azure/azure-cli/issues/1",
            "Error: creating Virtual Network Gateway",
        ] {
            assert_eq!(Peel::of(line), Peel::default(), "{line}");
            assert_eq!(peeled(line), line);
        }
    }

    #[test]
    fn ansi_colour_is_cut_and_positions_map_back() {
        let line = "\x1b[31m│\x1b[0m \x1b[1m\x1b[31mError: \x1b[0m\x1b[0m\x1b[1mcreating Subnet: Code=\"X\"\x1b[0m";
        let p = Peel::of(line);
        let text = p.apply(line);
        assert_eq!(text, "Error: creating Subnet: Code=\"X\"");
        let at = text.find("Code=").unwrap();
        assert_eq!(&line[p.original(at)..p.original(at) + 5], "Code=");
        let end = text.len();
        assert_eq!(p.original_end(end), line.len() - "\x1b[0m".len());
    }

    #[test]
    fn escapes_lost_on_the_way_into_an_issue() {
        assert_eq!(
            peeled("[31m│[0m [0m[1m[31mError: [0m[0m[1mwaiting for creation[0m"),
            "Error: waiting for creation"
        );
    }

    #[test]
    fn ci_prefixes() {
        assert_eq!(
            peeled("2025-07-10T13:04:11.4050080Z ##[error]ERROR: (QuotaExceeded) Quota exceeded."),
            "2025-07-10T13:04:11.4050080Z ERROR: (QuotaExceeded) Quota exceeded."
        );
        assert_eq!(peeled("##[error]Deployment failed."), "Deployment failed.");
        assert_eq!(
            peeled("2024-03-05T10:00:01.123456Z 01E ERROR: (Conflict) x"),
            "2024-03-05T10:00:01.123456Z ERROR: (Conflict) x"
        );
        assert_eq!(
            peeled("[2025-07-10T13:04:11.405Z] │ Error: creating Subnet"),
            "Error: creating Subnet"
        );
        assert_eq!(
            peeled("::error::Code=QuotaExceeded; Message=x"),
            "Code=QuotaExceeded; Message=x"
        );
        // The timestamp stays: it is the line's time.
        let line = "2025-07-10T13:04:11.4050080Z │ Error: creating";
        let p = Peel::of(line);
        assert_eq!(p.lead(), 0);
        let text = p.apply(line);
        let at = text.find("Error").unwrap();
        assert_eq!(&line[p.original(at)..], "Error: creating");
    }

    #[test]
    fn quotes_gutters_and_fences() {
        assert_eq!(peeled("> > ERROR: (X) y"), "ERROR: (X) y");
        assert_eq!(peeled(">"), "");
        // A Luna shell's password echo is no quote.
        assert_eq!(peeled("  > ********"), "  > ********");
        assert_eq!(peeled("          > proceed"), "          > proceed");
        assert_eq!(
            peeled("│   with azurerm_subnet.hsm,"),
            "  with azurerm_subnet.hsm,"
        );
        assert!(Peel::of("╷").is_blank());
        assert!(Peel::of("```json").is_blank());
        assert!(Peel::of("> ```").is_blank());
        assert!(Peel::of("   ```").is_blank());
        assert_eq!(peeled("`ERROR: (X) y`"), "ERROR: (X) y");
        assert_eq!(peeled("  > {\"error\": {"), "{\"error\": {");
        let line = "> > │ Error: x";
        let p = Peel::of(line);
        assert!(p.is_prefix_only());
        assert_eq!(p.lead(), line.find("Error").unwrap());
    }

    #[test]
    fn exception_prefixes() {
        assert_eq!(
            peeled(
                "SystemExit: ERROR: (InvalidResourceType) The resource type could not be found."
            ),
            "ERROR: (InvalidResourceType) The resource type could not be found."
        );
        assert_eq!(
            peeled("azure.core.exceptions.HttpResponseError: (QuotaExceeded) x"),
            "(QuotaExceeded) x"
        );
        assert_eq!(
            peeled("msrestazure.azure_exceptions.CloudError: Azure Error: X"),
            "Azure Error: X"
        );
    }

    #[test]
    fn comments_only_when_they_quote_an_error() {
        assert_eq!(peeled("# ERROR: (X) y"), "ERROR: (X) y");
        assert_eq!(
            peeled("# The error: MissingSubscriptionRegistration"),
            "# The error: MissingSubscriptionRegistration"
        );
        assert_eq!(
            peeled("# Error: MissingSubscriptionRegistration, as quoted"),
            "Error: MissingSubscriptionRegistration, as quoted"
        );
    }
}
