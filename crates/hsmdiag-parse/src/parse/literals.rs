//! The texts one of which every match of a pattern contains, read from the
//! pattern's syntax tree: a concatenation's longest run of literal
//! characters, an alternation's union, `(?i)` letters as their ASCII letter.
//! The prefilter gathers them into its automata; a last-resort catalogue and
//! the code table's phrases are gated by them.

use regex_syntax::hir::{Class, Hir, HirKind};

/// The most literals one alternation may contribute before it counts as
/// giving none (a long list of codes is still a good prefilter).
const MAX_SET: usize = 1024;

/// The characters outside ASCII that Unicode case folding gives ASCII
/// letters: the Kelvin sign (`k`) and the long s (`s`).
const FOLDS: [char; 2] = ['\u{212A}', '\u{17F}'];

/// The texts one of which every match of `pattern` contains, or `None` (also
/// when the best it has is blanks: every line would be wanted).
/// With `words`, each is a run without whitespace.
pub fn required_of(pattern: &str, words: bool) -> Option<Vec<Vec<u8>>> {
    let hir = regex_syntax::parse(pattern).ok()?;
    let set = analyse(&hir, words).required?;
    let useful = |l: &Vec<u8>| !l.iter().all(u8::is_ascii_whitespace);
    (!set.is_empty() && set.iter().all(useful)).then_some(set)
}

/// What a piece of a pattern says about the text it matches.
struct Info {
    /// It matches exactly this text (letters compared without case).
    exact: Option<Vec<u8>>,
    /// Every match contains one of these.
    required: Option<Vec<Vec<u8>>>,
}

impl Info {
    fn none() -> Self {
        Info {
            exact: None,
            required: None,
        }
    }
}

/// The longest whitespace-free run of `lit`.
fn longest_word(lit: &[u8]) -> Vec<u8> {
    lit.split(u8::is_ascii_whitespace)
        .max_by_key(|w| w.len())
        .unwrap_or_default()
        .to_vec()
}

/// A set's worth as a prefilter: its shortest member's length, then fewer
/// members.
fn score(set: &[Vec<u8>]) -> (usize, std::cmp::Reverse<usize>) {
    let shortest = set.iter().map(Vec::len).min().unwrap_or(0);
    (shortest, std::cmp::Reverse(set.len()))
}

fn candidate(lit: &[u8], words: bool) -> Option<Vec<Vec<u8>>> {
    let lit = if words {
        longest_word(lit)
    } else {
        lit.to_vec()
    };
    (!lit.is_empty()).then(|| vec![lit])
}

fn analyse(h: &Hir, words: bool) -> Info {
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => Info {
            exact: Some(Vec::new()),
            required: None,
        },
        HirKind::Literal(l) => Info {
            exact: Some(l.0.to_vec()),
            required: candidate(&l.0, words),
        },
        HirKind::Class(c) => match class_char(c) {
            Some(b) => Info {
                exact: Some(b.clone()),
                required: candidate(&b, words),
            },
            None => Info::none(),
        },
        HirKind::Capture(c) => analyse(&c.sub, words),
        HirKind::Repetition(r) => {
            let inner = analyse(&r.sub, words);
            if r.min == 1 && r.max == Some(1) {
                inner
            } else if r.min >= 1 {
                Info {
                    exact: None,
                    required: inner.required,
                }
            } else {
                Info::none()
            }
        }
        HirKind::Alternation(alts) => {
            let mut set = Vec::new();
            for a in alts {
                let Some(r) = analyse(a, words).required else {
                    return Info::none();
                };
                set.extend(r);
                if set.len() > MAX_SET {
                    return Info::none();
                }
            }
            set.sort();
            set.dedup();
            Info {
                exact: None,
                required: Some(set),
            }
        }
        HirKind::Concat(parts) => {
            let mut best: Option<Vec<Vec<u8>>> = None;
            let mut consider = |set: Option<Vec<Vec<u8>>>| {
                if let Some(set) = set.filter(|s| !s.is_empty()) {
                    if best.as_ref().is_none_or(|b| score(&set) > score(b)) {
                        best = Some(set);
                    }
                }
            };
            let mut run: Vec<u8> = Vec::new();
            let mut all_exact = true;
            let mut whole = Vec::new();
            for p in parts {
                let info = analyse(p, words);
                match info.exact {
                    Some(e) => {
                        run.extend_from_slice(&e);
                        whole.extend_from_slice(&e);
                    }
                    None => {
                        all_exact = false;
                        consider(candidate(&run, words));
                        run.clear();
                        consider(info.required);
                    }
                }
            }
            consider(candidate(&run, words));
            Info {
                exact: all_exact.then_some(whole),
                required: best,
            }
        }
    }
}

/// The one character a class matches, or the lower case of the two an ASCII
/// letter's cases are (`(?i)a` is `[Aa]`), as UTF-8.
fn class_char(c: &Class) -> Option<Vec<u8>> {
    let chars: Vec<(u32, u32)> = match c {
        Class::Unicode(u) => u
            .ranges()
            .iter()
            .map(|r| (r.start() as u32, r.end() as u32))
            .collect(),
        Class::Bytes(b) => b
            .ranges()
            .iter()
            .map(|r| (u32::from(r.start()), u32::from(r.end())))
            .collect(),
    };
    let single = |(a, b): (u32, u32)| (a == b).then_some(a);
    // `(?i)k` also matches the Kelvin sign and `(?i)s` the long s: lines
    // holding either are always wanted (see FRAMING), so the class counts as
    // its ASCII letter.
    let ascii: Vec<(u32, u32)> = chars
        .iter()
        .copied()
        .filter(|r| !FOLDS.iter().any(|f| single(*r) == Some(*f as u32)))
        .collect();
    let one = match ascii.as_slice() {
        [r] if ascii.len() == chars.len() => single(*r)?,
        [r1, r2] => {
            let (a, b) = (single(*r1)?, single(*r2)?);
            let (a, b) = (char::from_u32(a)?, char::from_u32(b)?);
            if a.is_ascii_alphabetic() && a.eq_ignore_ascii_case(&b) {
                a.to_ascii_lowercase() as u32
            } else {
                return None;
            }
        }
        _ => return None,
    };
    if matches!(c, Class::Bytes(_)) {
        return u8::try_from(one).ok().filter(u8::is_ascii).map(|b| vec![b]);
    }
    let ch = char::from_u32(one)?;
    let mut buf = [0u8; 4];
    Some(ch.encode_utf8(&mut buf).as_bytes().to_vec())
}
