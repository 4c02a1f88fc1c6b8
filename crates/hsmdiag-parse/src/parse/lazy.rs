//! Patterns compiled on first use.
//!
//! hsmdiag carries a few hundred regular expressions (the catalogues, the
//! rules' conditions, the prose tables); compiling them all takes most of a
//! short run's time and memory, yet a given input touches few of them. A
//! [`LazyRegex`] keeps its source and compiles it the first time it is
//! matched. The built-in patterns are compiled by the test suite, so their
//! compilation cannot fail at run time; a user's file is compiled at load
//! ([`LazyRegex::compiled`]), so that its errors point at the file.

use std::sync::OnceLock;

use regex::{Regex, RegexBuilder};

/// The longest pattern, in bytes once its macros are expanded. The regex crate
/// matches in linear time whatever the pattern; this and [`MAX_COMPILED`]
/// keep a pattern's automaton (and so memory and typing cost) small.
pub const MAX_PATTERN: usize = 16 << 10;

/// The most memory one compiled pattern may take.
pub const MAX_COMPILED: usize = 2 << 20;

/// A regular expression compiled the first time it is used.
#[derive(Clone)]
pub struct LazyRegex {
    source: Box<str>,
    limits: Limits,
    cell: OnceLock<Regex>,
}

/// The compiler's limits a pattern is built with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most memory the compiled program may take.
    pub size: usize,
    /// The most memory its lazy DFA's cache may take.
    pub dfa: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            size: MAX_COMPILED,
            dfa: 2 << 20,
        }
    }
}

impl LazyRegex {
    /// A pattern to compile on first use. The caller vouches that it
    /// compiles (a built-in pattern, checked by the test suite).
    pub fn new(source: impl Into<Box<str>>, limits: Limits) -> LazyRegex {
        LazyRegex {
            source: source.into(),
            limits,
            cell: OnceLock::new(),
        }
    }

    /// A pattern compiled now (a user's file: its error is reported at load).
    ///
    /// # Errors
    /// The compiler's error when it does not compile within `limits`.
    pub fn compiled(
        source: impl Into<Box<str>>,
        limits: Limits,
    ) -> Result<LazyRegex, regex::Error> {
        let lazy = LazyRegex::new(source, limits);
        let regex = build(&lazy.source, limits)?;
        let _ = lazy.cell.set(regex);
        Ok(lazy)
    }

    /// The pattern's text.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The limits it is compiled with.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Whether it has been compiled yet.
    pub fn is_compiled(&self) -> bool {
        self.cell.get().is_some()
    }

    /// The compiled expression, compiled now if it was not yet.
    ///
    /// # Panics
    /// When a pattern made with [`LazyRegex::new`] does not compile: a
    /// built-in pattern the test suite did not check, a bug in hsmdiag.
    pub fn get(&self) -> &Regex {
        self.cell.get_or_init(|| {
            build(&self.source, self.limits)
                .unwrap_or_else(|e| panic!("a built-in pattern does not compile: {e}"))
        })
    }
}

fn build(source: &str, limits: Limits) -> Result<Regex, regex::Error> {
    RegexBuilder::new(source)
        .size_limit(limits.size)
        .dfa_size_limit(limits.dfa)
        .build()
}

impl std::ops::Deref for LazyRegex {
    type Target = Regex;

    fn deref(&self) -> &Regex {
        self.get()
    }
}

impl std::fmt::Display for LazyRegex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.source)
    }
}

impl std::fmt::Debug for LazyRegex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("LazyRegex").field(&&*self.source).finish()
    }
}

/// The names of a pattern's capture groups, in group order (group 0, the
/// whole match, first and unnamed), read from its text without compiling it:
/// the pattern's metadata (which fields its events carry) for a built-in
/// pattern that is not compiled yet. The test suite checks that it agrees
/// with the compiler on every built-in pattern; a user's patterns are
/// compiled at load and named by the compiler.
pub fn capture_names(pattern: &str) -> Vec<Option<String>> {
    let mut names = vec![None];
    let b = pattern.as_bytes();
    let mut i = 0;
    // Depth of nested character classes (`[a[b]]`).
    let mut class = 0usize;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'[' => {
                class += 1;
                // A `]` (or `^]`) right after the opening is a literal.
                let mut j = i + 1;
                if b.get(j) == Some(&b'^') {
                    j += 1;
                }
                if b.get(j) == Some(&b']') {
                    i = j;
                }
            }
            b']' if class > 0 => class -= 1,
            b'(' if class == 0 => {
                let rest = &pattern[i + 1..];
                if let Some(named) = rest.strip_prefix("?P<").or_else(|| rest.strip_prefix("?<")) {
                    let end = named.find('>').unwrap_or(named.len());
                    names.push(Some(named[..end].to_owned()));
                } else if !rest.starts_with('?') {
                    names.push(None);
                }
            }
            _ => {}
        }
        i += 1;
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_agree_with_the_compiler() {
        for p in [
            r"a(?P<x>b)(c)(?:d)(?i)(?<y>e)",
            r"[(?P<no>)]\((?P<z>[^]()]+)\)",
            r"[^]](?P<w>\[x\])[a[b(]](?P<v>.)",
        ] {
            let compiled: Vec<Option<String>> = Regex::new(p)
                .unwrap()
                .capture_names()
                .map(|n| n.map(str::to_owned))
                .collect();
            assert_eq!(capture_names(p), compiled, "{p}");
        }
    }

    #[test]
    fn a_lazy_pattern_compiles_when_first_matched() {
        let r = LazyRegex::new(r"NTLS\[\d+\]", Limits::default());
        assert!(!r.is_compiled());
        assert!(r.is_match("NTLS[42]"));
        assert!(r.is_compiled());
        assert!(LazyRegex::compiled("(", Limits::default()).is_err());
    }
}
