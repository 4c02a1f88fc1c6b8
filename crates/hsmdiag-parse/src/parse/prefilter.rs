//! The prefilter: which lines can matter to the rules at all.
//!
//! Most lines of an appliance log are traffic no rule reads (connections
//! opened and closed, commands that succeed). Every pattern of a kind that
//! rules read, every framing stage's trigger and every prose table has some
//! text a line must contain for it to match; those texts are gathered into
//! one multi-literal automaton (Aho-Corasick, case-insensitive), built once.
//! A line with none of them, read while the parser holds no state open, gives
//! nothing any rule reads: it is counted and not typed.
//!
//! The required texts are found in the patterns themselves (their syntax
//! tree), so a site's own catalogue or rule needs no extra declaration. When
//! some pattern has no text every match must contain (`^\d+ \w+$`), no
//! prefilter is built and every line is typed, as with `--coverage`.

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use aho_corasick::AhoCorasick;

use super::grammar::Grammar;
pub use super::literals::required_of;
use super::{codes, peel, retcodes, syslog};

/// Texts the framing stages look for on their own (besides the per-line
/// checks of [`Prefilter::look`]): ANSI escapes, whose removal joins the text
/// around them, the two non-ASCII case variants of ASCII letters, and an
/// error's `"code"` pair, plain or escaped (`json::has_code_pair`).
const FRAMING: &[&str] = &["\x1b", "\u{212A}", "\u{17F}", "ode\"", "ode\\\""];

/// What the prefilter says of one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Look {
    /// The line may give an event a rule reads or open a framing stage: it
    /// must go through the parser.
    pub wanted: bool,
    /// The line is blank (after its wrappers are peeled): counted as blank.
    pub blank: bool,
    /// The line has a syslog header with a time (worth a
    /// [`clock`](super::LineParser::clock) when it ends a run of skipped lines).
    pub stamped: bool,
}

impl Look {
    /// What is said of every line when there is no prefilter: wanted.
    pub const WANTED: Look = Look {
        wanted: true,
        blank: false,
        stamped: false,
    };
}

/// Multi-literal automata over every text a wanted line must contain: one
/// for the lines a syslog program's catalogue types (its texts), one for the
/// others (the raw catalogues' texts), each with the texts that matter to
/// every line (framing, the code tables). Each automaton, and the texts it
/// gathers from the patterns, is built the first time a line needs it: a
/// short input pays only for the automata its lines use.
#[derive(Debug, Clone)]
pub struct Prefilter {
    /// Syslog program (lower case) → its automaton.
    programs: Vec<(String, usize)>,
    /// [`RAW`] for lines no program's catalogue claims, [`ALL`] for lines
    /// that may hold several messages, then one per claiming catalogue.
    automata: Vec<Automaton>,
    texts: Arc<Texts>,
}

/// One automaton: what it gathers, and itself once built (`None` when some
/// text could not be found: every line it is asked about is wanted).
#[derive(Debug, Clone)]
struct Automaton {
    recipe: Recipe,
    built: OnceLock<Option<AhoCorasick>>,
}

/// The texts an automaton gathers, besides those every one has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Recipe {
    /// The raw catalogues' words.
    Raw,
    /// The raw catalogues' words and every catalogue's texts.
    All,
    /// One catalogue's texts.
    Catalogue(usize),
}

/// The patterns the automata are gathered from, and what each gives once
/// read (on first need).
#[derive(Debug)]
struct Texts {
    /// The texts that matter to every line (framing, the code tables).
    global: OnceLock<Option<Vec<Vec<u8>>>>,
    catalogues: Vec<CatalogueTexts>,
}

#[derive(Debug)]
struct CatalogueTexts {
    /// The patterns of the kinds that are needed.
    patterns: Vec<Box<str>>,
    raw: bool,
    /// The texts one of which each pattern's matches contain, and (for a raw
    /// catalogue) the words, which hard-wrapped lines keep whole.
    read: OnceLock<Option<Read>>,
}

/// What one catalogue's patterns give: the texts one of which each match
/// contains, and (raw catalogues) their words.
#[derive(Debug)]
struct Read {
    own: Vec<Vec<u8>>,
    words: Vec<Vec<u8>>,
}

impl CatalogueTexts {
    fn read(&self) -> Option<&Read> {
        self.read
            .get_or_init(|| {
                let mut own = Vec::new();
                let mut words = Vec::new();
                for p in &self.patterns {
                    own.extend(required_of(p, false)?);
                    if self.raw {
                        words.extend(required_of(p, true)?);
                    }
                }
                Some(Read { own, words })
            })
            .as_ref()
    }
}

impl Texts {
    fn global(&self) -> Option<&Vec<Vec<u8>>> {
        self.global
            .get_or_init(|| {
                let mut global: Vec<Vec<u8>> =
                    FRAMING.iter().map(|s| s.as_bytes().to_vec()).collect();
                for pattern in codes::prose_patterns() {
                    global.extend(required_of(&pattern, false)?);
                }
                global.extend(
                    retcodes::PROSE_LITERALS
                        .iter()
                        .map(|s| s.as_bytes().to_vec()),
                );
                Some(global)
            })
            .as_ref()
    }

    /// The texts of one automaton, sorted and without repeats; `None` when a
    /// pattern among them has no required text.
    fn gather(&self, recipe: Recipe) -> Option<Vec<&[u8]>> {
        let mut lits: Vec<&[u8]> = self.global()?.iter().map(Vec::as_slice).collect();
        if !matches!(recipe, Recipe::Catalogue(_)) {
            for c in self.catalogues.iter().filter(|c| c.raw) {
                lits.extend(c.read()?.words.iter().map(Vec::as_slice));
            }
        }
        match recipe {
            Recipe::Raw => {}
            Recipe::All => {
                for c in &self.catalogues {
                    lits.extend(c.read()?.own.iter().map(Vec::as_slice));
                }
            }
            Recipe::Catalogue(i) => {
                lits.extend(self.catalogues[i].read()?.own.iter().map(Vec::as_slice))
            }
        }
        lits.sort_unstable();
        lits.dedup();
        Some(lits)
    }
}

impl Automaton {
    fn new(recipe: Recipe) -> Self {
        Automaton {
            recipe,
            built: OnceLock::new(),
        }
    }

    fn get(&self, texts: &Texts) -> Option<&AhoCorasick> {
        self.built
            .get_or_init(|| {
                AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .build(texts.gather(self.recipe)?)
                    .ok()
            })
            .as_ref()
    }
}

/// The automaton for lines no program's catalogue claims.
const RAW: usize = 0;
/// The automaton for lines that may run several messages together.
const ALL: usize = 1;

/// Why no prefilter could be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoPrefilter(pub String);

impl std::fmt::Display for NoPrefilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Prefilter {
    /// The prefilter for a grammar when the event kinds in `needed` are the
    /// ones that matter (those rules read, plus what the caller keeps).
    ///
    /// # Errors
    /// [`NoPrefilter`] naming the first pattern with no required text, or a
    /// wrapper that types lines of a needed kind.
    pub fn build(grammar: &Grammar, needed: &HashSet<String>) -> Result<Prefilter, NoPrefilter> {
        let mut needed = needed.clone();
        // The framing stages react to these kinds whoever reads them.
        use crate::event::kind;
        needed.extend(
            [
                kind::ERROR,
                kind::ERROR_FIELD,
                kind::POWERSHELL_ERROR,
                kind::PROMPT,
            ]
            .map(str::to_owned),
        );
        needed.extend(super::framing::framing().session.ends.iter().cloned());
        if let Some(kind) = peel::context_kinds().find(|c| needed.contains(c.as_str())) {
            return Err(NoPrefilter(format!(
                "a wrapper types lines as `{kind}`, which a rule reads"
            )));
        }
        // A user's catalogue is checked now (the built-in ones are checked by
        // the test suite); its texts, as every catalogue's, are read on first
        // need.
        let raws = grammar.raw_catalogues();
        let mut catalogues = Vec::new();
        for (i, cat) in grammar.catalogues().iter().enumerate() {
            let raw = raws.contains(&i);
            let mut patterns = Vec::new();
            for pat in cat
                .messages
                .iter()
                .filter(|p| needed.contains(p.event.as_str()))
            {
                let found = cat.is_builtin()
                    || (required_of(pat.regex(), false).is_some()
                        && (!raw || required_of(pat.regex(), true).is_some()));
                if !found {
                    return Err(NoPrefilter(format!(
                        "the pattern for `{}` in {} has no text every match contains",
                        pat.event,
                        cat.file()
                    )));
                }
                patterns.push(Box::from(pat.regex()));
            }
            catalogues.push(CatalogueTexts {
                patterns,
                raw,
                read: OnceLock::new(),
            });
        }
        let mut automata = vec![Automaton::new(Recipe::Raw), Automaton::new(Recipe::All)];
        let mut by_catalogue = std::collections::HashMap::new();
        let mut programs = Vec::new();
        for (program, i) in grammar.program_claims() {
            let at = *by_catalogue.entry(i).or_insert_with(|| {
                automata.push(Automaton::new(Recipe::Catalogue(i)));
                automata.len() - 1
            });
            programs.push((program.to_owned(), at));
        }
        Ok(Prefilter {
            programs,
            automata,
            texts: Arc::new(Texts {
                global: OnceLock::new(),
                catalogues,
            }),
        })
    }

    /// Builds every automaton now (each is otherwise built on first need).
    ///
    /// # Errors
    /// [`NoPrefilter`] naming the first pattern or code-table phrase with no
    /// required text.
    pub fn verify(&self) -> Result<(), NoPrefilter> {
        if self.texts.global().is_none() {
            let bad = codes::prose_patterns()
                .into_iter()
                .find(|p| required_of(p, false).is_none())
                .unwrap_or_default();
            return Err(NoPrefilter(format!(
                "the code table's phrase `{bad}` has no required text"
            )));
        }
        for c in &self.texts.catalogues {
            if c.read().is_none() {
                let bad = c
                    .patterns
                    .iter()
                    .find(|p| {
                        required_of(p, false).is_none() || (c.raw && required_of(p, true).is_none())
                    })
                    .map(|p| p.to_string())
                    .unwrap_or_default();
                return Err(NoPrefilter(format!(
                    "the pattern `{bad}` has no text every match contains"
                )));
            }
        }
        for a in &self.automata {
            if a.get(&self.texts).is_none() {
                return Err(NoPrefilter("the literal set does not build".into()));
            }
        }
        Ok(())
    }

    /// How many distinct texts it looks for (every automaton is built).
    pub fn len(&self) -> usize {
        self.texts.gather(Recipe::All).map_or(0, |l| l.len())
    }

    /// Whether it looks for nothing (never: the framing texts are always in).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The automaton for a message text: its program's, the raw one, or all
    /// where the line may hold several messages.
    /// Also says whether the text has a time.
    fn automaton(&self, text: &str) -> (Option<&AhoCorasick>, bool) {
        let header = syslog::parse_header(text);
        let stamped = header.stamp.is_some();
        let Some(program) = header.program else {
            let at = if text.contains("\t(") { ALL } else { RAW };
            return (self.automata[at].get(&self.texts), stamped);
        };
        if header.pid.is_some() && text[header.msg_start..].contains("]:") {
            return (self.automata[ALL].get(&self.texts), stamped);
        }
        let at = self
            .programs
            .iter()
            .find(|(p, _)| p.eq_ignore_ascii_case(program))
            .map_or(RAW, |&(_, at)| at);
        (self.automata[at].get(&self.texts), stamped)
    }

    /// Looks at one line (without its line ending), as the parser would see
    /// it in its idle state: wrappers peeled, then the framing stages' own
    /// checks (a JSON document or YAML scalar opening, a PowerShell gutter, an
    /// error's `"code"` pair), then the texts of the catalogue that would
    /// type it.
    pub fn look(&self, line: &str) -> Look {
        self.look_peeled(line, &peel::Peel::of(line))
    }

    /// What it says of `line`, whose wrappers `peel` already found (a line is
    /// peeled once, for the prefilter and the parser alike).
    pub fn look_peeled(&self, line: &str, peel: &peel::Peel) -> Look {
        if peel.is_blank() {
            return Look {
                wanted: false,
                blank: true,
                stamped: false,
            };
        }
        let text = peel.apply(line);
        if text.trim().is_empty() {
            return Look {
                wanted: false,
                blank: true,
                stamped: false,
            };
        }
        if super::stages::opens(&text) {
            return Look::WANTED;
        }
        let (automaton, stamped) = self.automaton(&text);
        Look {
            wanted: automaton.is_none_or(|a| a.is_match(text.as_bytes())),
            blank: false,
            stamped,
        }
    }

    /// Why a line is wanted: the framing stage that would open on it, or the
    /// text found in it; `None` when it is not.
    pub fn why(&self, line: &str) -> Option<String> {
        let peel = peel::Peel::of(line);
        let text = peel.apply(line);
        if super::stages::opens(&text) {
            return Some("a framing stage opens".to_owned());
        }
        let Some(automaton) = self.automaton(&text).0 else {
            return Some("no text is known for its catalogue".to_owned());
        };
        let m = automaton.find(text.as_bytes())?;
        Some(format!("`{}`", &text[m.range()]))
    }
}

/// Whether a skipped line could be one a hard-wrapped sentence continues
/// from: a message with no syslog header that ends in a letter or digit (the
/// parser keeps the last few such lines). Such lines, at the end of a run of
/// skipped ones, are read after all.
pub fn may_continue(line: &str) -> bool {
    let peel = peel::Peel::of(line);
    let text = peel.apply(line);
    let t = text.trim();
    if !t.ends_with(|c: char| c.is_alphanumeric()) {
        return false;
    }
    let h = syslog::parse_header(&text);
    h.stamp.is_none() && h.program.is_none()
}

/// Whether a line is a sentence a person wrote: unindented (after an e-mail or
/// Markdown quote marker), starting with a capital letter, at least five
/// words, nearly all of them plain words, the first not a label (`Error:`,
/// `Status Message:`) nor a shout (`WARNING`), and none of the characters
/// that mark code, markup or a tool's output. At the start of a paragraph it
/// separates what is pasted around it (see `Engine::paragraph`).
pub fn is_prose(line: &str) -> bool {
    let mut t = line.trim_end();
    while let Some(rest) = t.strip_prefix('>') {
        t = rest.strip_prefix(' ').unwrap_or(rest);
    }
    if !t.starts_with(|c: char| c.is_ascii_uppercase())
        || t.contains([
            '{', '}', '[', ']', '<', '=', '|', '\\', '`', '$', '@', '#', '│', '\t',
        ])
    {
        return false;
    }
    let words: Vec<&str> = t.split(' ').filter(|w| !w.is_empty()).collect();
    if words.len() < 5 {
        return false;
    }
    let first = words[0];
    if first.ends_with(':')
        || words[1].ends_with(':') && words.len() > 2
        || first.len() > 1 && !first.chars().any(|c| c.is_lowercase())
    {
        return false;
    }
    let plain = |w: &&str| {
        let core = w
            .trim_start_matches(['(', '"', '\''])
            .trim_end_matches([',', '.', ';', ':', '?', '!', ')', '"', '\'']);
        !core.is_empty()
            && core
                .chars()
                .all(|c| c.is_alphabetic() || c == '\'' || c == '-' || c == '’')
    };
    words.iter().filter(|w| plain(w)).count() * 5 >= words.len() * 4
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(p: &str, words: bool) -> Option<Vec<String>> {
        required_of(p, words).map(|s| {
            s.into_iter()
                .map(|l| String::from_utf8(l).unwrap())
                .collect()
        })
    }

    #[test]
    fn prose_is_a_sentence_a_person_wrote() {
        for yes in [
            "Hi team, we are stuck on this since this morning. Here is what we see:",
            "> Then a colleague ran the following, with this result:",
            "I don't think it's related to the gateway, but here's the log.",
        ] {
            assert!(is_prose(yes), "{yes}");
        }
        for no in [
            "Status Message: The resource write operation failed to complete successfully.",
            "ERROR: Deployment failed. Correlation ID: 0f4d2b8e-7c61-4a59-b3e2-9d8c7b6a5f41",
            "Error: creating Subnet: the subnet is in use by another resource",
            "  The deployment 'HSMonly' failed with error(s). Showing 1 out of 1 error(s).",
            "│ Original Error: Code=\"InUseSubnetCannotBeDeleted\" Message=\"Subnet is in use\"",
            "Dec  1 10:00:00 hsm1 NTLS[8508]: Fail to establish a secure channel with client",
            "New-AzResourceGroupDeployment : 9:41:52 AM - The deployment 'HSMonly' failed",
            "Any idea? Thanks.",
            "WARNING this HSM will be zeroized on the next failed attempt",
        ] {
            assert!(!is_prose(no), "{no}");
        }
    }

    #[test]
    fn literals_of_patterns() {
        assert_eq!(
            req(
                r"^Fail to establish a secure channel with client : (\S+)",
                false
            ),
            Some(vec![
                "Fail to establish a secure channel with client : ".into()
            ])
        );
        assert_eq!(
            req(r"(?i)incorrect password", false),
            Some(vec!["incorrect password".into()])
        );
        // (?i) with Unicode makes `k` a class of three (the Kelvin sign).
        assert_eq!(
            req(r"(?i)alert unknown ca", false),
            Some(vec!["alert unknown ca".into()])
        );
        assert_eq!(req(r"[abc]def", false), Some(vec!["def".into()]));
        assert_eq!(
            req(r"(?:foo|barbaz) \d+ quux", false),
            Some(vec![" quux".into()])
        );
        assert_eq!(
            req(r"HSM Admin Login: (?P<x>\w+) password", true),
            Some(vec!["password".into()])
        );
        assert_eq!(req(r"^\d+ \w+$", false), None);
        assert_eq!(req(r"(?:a|\d+)xyzw?", false), Some(vec!["xyz".into()]));
        assert_eq!(
            req(r"^(?:\$|PS [^>]*>)", false),
            Some(vec!["$".into(), "PS ".into()])
        );
    }

    #[test]
    fn the_builtin_grammar_has_one() {
        let g = Grammar::builtin();
        let kinds: HashSet<String> = ["ntls.ssl_accept_error".to_owned()].into();
        let p = Prefilter::build(&g, &kinds).expect("builds");
        assert!(p.len() > 10);
        // The built-in patterns are checked here (a user's when the
        // prefilter is built): those with a required text build their
        // automata; a kind whose pattern has none makes its automaton let
        // every line through.
        let raws = g.raw_catalogues();
        let (with, without): (Vec<_>, Vec<_>) = g
            .catalogues()
            .iter()
            .enumerate()
            .flat_map(|(i, c)| c.messages.iter().map(move |m| (raws.contains(&i), m)))
            .filter(|(_, m)| !peel::context_kinds().any(|c| c == &m.event))
            .partition(|(raw, m)| {
                required_of(m.regex(), false).is_some()
                    && (!raw || required_of(m.regex(), true).is_some())
            });
        let kinds = |v: &[(bool, &crate::parse::grammar::MessagePattern)]| -> HashSet<String> {
            v.iter().map(|(_, m)| m.event.as_str().to_owned()).collect()
        };
        let mut usable = kinds(&with);
        for k in kinds(&without) {
            usable.remove(&k);
        }
        Prefilter::build(&g, &usable)
            .expect("builds")
            .verify()
            .expect("every pattern of these kinds has a required text");
        assert!(
            without.len() < 10,
            "{} patterns have no required text",
            without.len()
        );
        let (_, bare) = without[0];
        let p = Prefilter::build(&g, &kinds(&[without[0]])).expect("builds");
        assert!(p.verify().is_err());
        for s in &bare.samples {
            assert!(p.look(&s.text).wanted, "{}", s.text);
        }
        let line = "2026 Mar 01 00:00:02 hsm1 local5 info NTLS [2490]: info : 0 : Incoming connection request... : 10.3.1.5/5000";
        assert_eq!(
            p.look(line),
            Look {
                wanted: false,
                blank: false,
                stamped: true
            }
        );
        assert!(p.look("ERROR: {\"code\":\"X\"").wanted);
        assert!(p.look("   ").blank);
        assert!(p.look("```").blank);
    }
}
