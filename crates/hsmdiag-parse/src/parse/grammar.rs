//! Message catalogues: data files that turn a message into an event kind with
//! typed fields.
//!
//! A catalogue (`grammars/formats/*.toml`) names the syslog programs whose
//! messages it types and lists message patterns in order; the first pattern
//! that matches wins. Patterns are regular expressions with grok-style macros
//! (`%{SOCKET:client}`) from `grammars/formats/patterns.toml`; a macro with a
//! field name becomes a capture group of the macro's type.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};

use miette::{Diagnostic, NamedSource, SourceSpan};
use regex::RegexSet;
use serde::Deserialize;
use toml::Spanned;

use super::documents::DocumentDef;
use super::lazy::{LazyRegex, Limits};
use crate::anchor::AnchorDef;
use crate::event::{EventKind, Field, Value};

/// The type a captured field is converted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FieldType {
    /// Kept as text.
    Text,
    /// A decimal integer, or a count word as Luna's warnings spell it: one to
    /// ten ("You have only TWO HSM Admin logins attempts left"), and `LAST`
    /// for one try left ("This is your LAST available ... login attempt").
    Int,
    /// A hexadecimal number, with or without `0x`.
    Hex,
    /// An IPv4 or IPv6 address.
    Ip,
    /// An address and port: `10.0.0.5/1792`, `10.0.0.5:1792`, `[fe80::1]:1792`.
    Socket,
    /// An Azure resource id.
    ResourceId,
}

impl FieldType {
    /// Converts captured text; text that does not convert is kept as text so no
    /// information is lost.
    pub fn convert(self, s: &str) -> Value {
        let typed = match self {
            FieldType::Text => None,
            FieldType::Int => s.parse().ok().or_else(|| number_word(s)).map(Value::Int),
            FieldType::Hex => {
                let digits = s
                    .strip_prefix("0x")
                    .or_else(|| s.strip_prefix("0X"))
                    .unwrap_or(s);
                u64::from_str_radix(digits, 16).ok().map(Value::Hex)
            }
            FieldType::Ip => s.parse::<IpAddr>().ok().map(Value::Ip),
            FieldType::Socket => parse_socket(s).map(Value::Socket),
            FieldType::ResourceId => {
                crate::azure::ResourceId::parse(s).map(|_| Value::ResourceId(s.to_owned()))
            }
        };
        typed.unwrap_or_else(|| Value::Text(s.to_owned()))
    }
}

/// `one` .. `ten`, and `last` (one left), in any letter case.
fn number_word(s: &str) -> Option<i64> {
    if s.eq_ignore_ascii_case("last") {
        return Some(1);
    }
    const WORDS: [&str; 10] = [
        "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    ];
    WORDS
        .iter()
        .position(|w| w.eq_ignore_ascii_case(s))
        .map(|i| i as i64 + 1)
}

/// Parses `ip/port` (Luna's form), `ip:port` and `[v6]:port`.
fn parse_socket(s: &str) -> Option<SocketAddr> {
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Some(a);
    }
    let (ip, port) = s.rsplit_once('/').or_else(|| s.rsplit_once(' '))?;
    let ip = ip.trim().trim_start_matches('[').trim_end_matches(']');
    Some(SocketAddr::new(ip.parse().ok()?, port.trim().parse().ok()?))
}

/// An error in a grammar file: where it is and what is wrong.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[non_exhaustive]
pub enum GrammarError {
    /// The file is not valid TOML or does not have the catalogue's shape.
    #[error("{file}: {message}")]
    #[diagnostic(
        code(hsmdiag::grammar::syntax),
        help("the built-in catalogues in grammars/formats/ show the format")
    )]
    Syntax {
        /// The file's name.
        file: String,
        /// What the TOML reader said.
        message: String,
        /// The file's text.
        #[source_code]
        src: NamedSource<Arc<str>>,
        /// Where.
        #[label("here")]
        span: Option<SourceSpan>,
    },
    /// A pattern is not a valid regular expression, names an unknown macro, or
    /// declares a field type for a group it does not have.
    #[error("{file}: {message}")]
    #[diagnostic(code(hsmdiag::grammar::pattern))]
    Pattern {
        /// The file's name.
        file: String,
        /// What is wrong.
        message: String,
        /// The file's text.
        #[source_code]
        src: NamedSource<Arc<str>>,
        /// The pattern.
        #[label("this pattern")]
        span: SourceSpan,
        /// How to fix it.
        #[help]
        help: Option<String>,
    },
    /// A pattern's sample line is not typed as the sample says.
    #[error("{file}: {message}")]
    #[diagnostic(code(hsmdiag::grammar::sample))]
    Sample {
        /// The file's name.
        file: String,
        /// What is wrong.
        message: String,
        /// The file's text.
        #[source_code]
        src: NamedSource<Arc<str>>,
        /// The pattern whose sample it is.
        #[label("the sample's pattern")]
        span: SourceSpan,
        /// How to fix it.
        #[help]
        help: Option<String>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatternsFile {
    patterns: BTreeMap<String, MacroDef>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct MacroDef {
    regex: String,
    #[serde(rename = "type", default = "text_type")]
    ty: FieldType,
}

fn text_type() -> FieldType {
    FieldType::Text
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    programs: Vec<String>,
    #[serde(default)]
    raw: bool,
    #[serde(default)]
    last_resort: bool,
    #[serde(default)]
    priority: i32,
    #[serde(default)]
    references: Vec<String>,
    #[serde(default)]
    message: Vec<MessageDef>,
    #[serde(default)]
    document: Vec<Spanned<DocumentDef>>,
    #[serde(default)]
    context: Vec<ContextDef>,
}

/// A catalogue's `[[context]]`: settings a Luna shell command prints that the
/// later output lines of the same session carry as fields. After an event of
/// kind `event`, whose field `key` holds a setting's name as printed and
/// `value` its value, the lines after get the field the setting maps to.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextDef {
    /// The event kind that shows a setting.
    pub event: String,
    /// Its field holding the setting's name.
    #[serde(default = "key_field")]
    pub key: String,
    /// Its field holding the value.
    #[serde(default = "value_field")]
    pub value: String,
    /// Setting name as printed → field name on the lines after.
    pub fields: BTreeMap<String, String>,
}

fn key_field() -> String {
    "key".into()
}

fn value_field() -> String {
    "value".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageDef {
    event: Spanned<String>,
    pattern: Spanned<String>,
    #[serde(default)]
    fields: BTreeMap<String, FieldType>,
    #[serde(default)]
    samples: Vec<SampleDef>,
    #[serde(default)]
    anchor: Option<Spanned<AnchorDef>>,
}

/// A sample line of a message pattern, with the fields it must yield.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SampleDef {
    /// The message text (after the syslog header).
    pub text: String,
    /// Field values the pattern must capture, as displayed.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
}

/// One message pattern of a catalogue.
#[derive(Debug)]
pub struct MessagePattern {
    /// The event kind it produces.
    pub event: EventKind,
    regex: LazyRegex,
    /// Capture group index → (field name, type).
    groups: Vec<(usize, Arc<str>, FieldType)>,
    /// Its sample lines.
    pub samples: Vec<SampleDef>,
    span: SourceSpan,
    /// Its kind's fields are read by no rule, and its catalogue is a syslog
    /// program's: lean typing skips its captures.
    unread: bool,
    /// Its kind gives connection anchors (clock skew between inputs).
    anchor: bool,
    /// How its events give connection anchors, if they do.
    anchor_def: Option<AnchorDef>,
}

impl MessagePattern {
    /// The field names this pattern captures.
    pub fn field_names(&self) -> impl Iterator<Item = &str> {
        self.groups.iter().map(|(_, n, _)| &**n)
    }

    /// The regular expression after macro expansion.
    pub fn regex(&self) -> &str {
        self.regex.as_str()
    }

    /// Compiles the pattern now (a built-in one is otherwise compiled on
    /// first use) and checks that the fields read from its text are the
    /// groups the compiler numbers.
    ///
    /// # Errors
    /// What does not hold, in a sentence.
    pub fn verify(&self) -> Result<(), String> {
        let compiled = LazyRegex::compiled(self.regex.as_str(), self.regex.limits())
            .map_err(|e| format!("`{}` does not compile: {e}", self.event))?;
        let names: Vec<(usize, &str)> = compiled
            .capture_names()
            .enumerate()
            .filter_map(|(i, n)| Some((i, n?)))
            .collect();
        let read: Vec<(usize, &str)> = self.groups.iter().map(|(i, n, _)| (*i, &**n)).collect();
        if names != read {
            return Err(format!(
                "`{}`: its text names the groups {read:?}, the compiler {names:?}",
                self.event
            ));
        }
        Ok(())
    }
}

/// A message catalogue: the patterns for one family of messages.
#[derive(Debug)]
pub struct Catalogue {
    /// The catalogue's name (`luna_ntls`).
    pub name: String,
    /// What it covers.
    pub description: String,
    /// Syslog programs (tags) whose messages it types; compared without case.
    pub programs: Vec<String>,
    /// Whether it also types lines that have no syslog header or whose program
    /// no catalogue claims (client tool output, pasted messages).
    pub raw: bool,
    /// Whether it types only what nothing else would: a raw catalogue tried
    /// after every other one and after the prose stages (a quoted Azure error,
    /// a sentence that reports a return code). Its events say what a text is
    /// about (a Luna client named in a ticket), not what happened.
    pub last_resort: bool,
    /// Among raw catalogues, a higher priority is tried first (default 0); among
    /// equal priorities the catalogue loaded last is tried first.
    pub priority: i32,
    /// Public documents the patterns are taken from.
    pub references: Vec<String>,
    /// The patterns, in match order.
    pub messages: Vec<MessagePattern>,
    /// Which pattern matches first, built on first use (at load for a user's
    /// catalogue, whose error then points at the file).
    matcher: OnceLock<Result<Matcher, String>>,
    /// For a last-resort catalogue, the texts one of which every match
    /// contains: most lines it is offered contain none, and skip the
    /// patterns. Built on first use.
    guard: OnceLock<Option<aho_corasick::AhoCorasick>>,
    builtin: bool,
    file: String,
    src: Arc<str>,
}

/// How a catalogue finds the first of its patterns that matches.
#[derive(Debug)]
enum Matcher {
    /// Every pattern is anchored at the start: all of them as one
    /// leftmost-first automaton, whose one anchored search finds the first
    /// pattern that matches (what a set finds, without tracking every pattern
    /// to the end of the message).
    First(regex_automata::meta::Regex),
    /// Otherwise (or too many for one automaton) a set.
    Set(RegexSet),
}

impl Matcher {
    fn build(messages: &[MessagePattern]) -> Result<Matcher, String> {
        let sources: Vec<&str> = messages.iter().map(|m| m.regex.as_str()).collect();
        if sources.iter().all(|s| anchored_at_start(s)) {
            let first = regex_automata::meta::Builder::new()
                .configure(
                    regex_automata::meta::Config::new()
                        .hybrid_cache_capacity(8 << 20)
                        .match_kind(regex_automata::MatchKind::LeftmostFirst),
                )
                .build_many(&sources);
            if let Ok(first) = first {
                return Ok(Matcher::First(first));
            }
        }
        regex::RegexSetBuilder::new(sources)
            .dfa_size_limit(64 << 20)
            .build()
            .map(Matcher::Set)
            .map_err(|e| format!("the patterns together are too large: {e}"))
    }

    /// The index of the first pattern that matches.
    fn first(&self, msg: &str) -> Option<usize> {
        match self {
            Matcher::First(first) => {
                let input = regex_automata::Input::new(msg).anchored(regex_automata::Anchored::Yes);
                Some(first.search(&input)?.pattern().as_usize())
            }
            Matcher::Set(set) => set.matches(msg).into_iter().next(),
        }
    }
}

impl Catalogue {
    fn matcher(&self) -> Option<&Matcher> {
        self.matcher
            .get_or_init(|| Matcher::build(&self.messages))
            .as_ref()
            .ok()
    }

    /// Whether a message may be one of a last-resort catalogue's: it holds
    /// one of the texts every match contains (always, for another catalogue).
    fn guarded(&self, msg: &str) -> bool {
        if !self.last_resort {
            return true;
        }
        self.guard
            .get_or_init(|| {
                self.messages
                    .iter()
                    .map(|m| super::literals::required_of(m.regex.as_str(), false))
                    .collect::<Option<Vec<_>>>()
                    .and_then(|sets| {
                        aho_corasick::AhoCorasick::builder()
                            .ascii_case_insensitive(true)
                            .build(sets.into_iter().flatten())
                            .ok()
                    })
            })
            .as_ref()
            .is_none_or(|g| g.is_match(msg))
    }

    /// Compiles every pattern and the catalogue's matcher now, as a user's
    /// catalogue is compiled at load (see [`MessagePattern::verify`]).
    ///
    /// # Errors
    /// The first thing that does not hold, in a sentence.
    pub fn verify(&self) -> Result<(), String> {
        for m in &self.messages {
            m.verify()?;
        }
        Matcher::build(&self.messages).map(drop)
    }

    /// Whether it is built into hsmdiag (its patterns are checked by the test
    /// suite and compiled on first use; a user's are compiled at load).
    pub fn is_builtin(&self) -> bool {
        self.builtin
    }

    /// The file it was loaded from.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Checks every pattern's sample lines: each must be typed by its own
    /// pattern (not shadowed by an earlier one) with the field values it lists.
    /// Returns one error per sample that is not.
    pub fn check_samples(&self) -> Vec<GrammarError> {
        let mut problems = Vec::new();
        for pat in &self.messages {
            let fail = |message: String, help: Option<String>| GrammarError::Sample {
                file: self.file.clone(),
                message,
                src: NamedSource::new(&self.file, self.src.clone()),
                span: pat.span,
                help,
            };
            if pat.samples.is_empty() {
                problems.push(fail(
                    format!("the pattern for `{}` has no sample line", pat.event),
                    Some("add samples = [{ text = \"a real line\" }]".into()),
                ));
            }
            for sample in &pat.samples {
                let Some((kind, fields)) = self.type_message(&sample.text, 0) else {
                    problems.push(fail(
                        format!("no pattern types the sample `{}`", sample.text),
                        None,
                    ));
                    continue;
                };
                if kind != pat.event {
                    problems.push(fail(
                        format!(
                            "the sample `{}` is typed as `{kind}` by an earlier pattern, not as `{}`",
                            sample.text, pat.event
                        ),
                        Some("make the earlier pattern stricter, or move this one before it".into()),
                    ));
                    continue;
                }
                for (name, want) in &sample.fields {
                    match fields.iter().find(|f| &*f.name == name) {
                        None => problems.push(fail(
                            format!("the sample `{}` has no field `{name}`", sample.text),
                            None,
                        )),
                        Some(got) if got.value.to_string() != *want => problems.push(fail(
                            format!(
                                "field `{name}` of the sample `{}` is `{}`, the sample says `{want}`",
                                sample.text, got.value
                            ),
                            None,
                        )),
                        Some(_) => {}
                    }
                }
            }
        }
        problems
    }
}

impl Catalogue {
    /// Types a message: the first matching pattern's kind and fields. `base` is
    /// the message's byte offset inside the event text, added to field ranges.
    pub fn type_message(&self, msg: &str, base: usize) -> Option<(EventKind, Vec<Field>)> {
        self.type_ref(msg, base, Typing::Full)
            .map(|(kind, fields)| (kind.clone(), fields))
    }

    /// Types a message, the kind by reference; lean typing leaves out the
    /// fields of kinds nobody reads.
    fn type_ref(&self, msg: &str, base: usize, typing: Typing) -> Option<(&EventKind, Vec<Field>)> {
        let idx = self.matcher()?.first(msg)?;
        let pat = &self.messages[idx];
        let skip = match typing {
            Typing::Full => false,
            Typing::Lean => pat.unread && !pat.anchor,
            Typing::LeanNoAnchors => pat.unread,
        };
        if skip {
            return Some((&pat.event, Vec::new()));
        }
        let caps = pat.regex.captures(msg)?;
        let mut fields = Vec::with_capacity(pat.groups.len());
        for (gi, name, ty) in &pat.groups {
            if let Some(m) = caps.get(*gi) {
                fields.push(Field {
                    name: name.clone(),
                    value: ty.convert(m.as_str().trim()),
                    range: base + m.start()..base + m.end(),
                });
            }
        }
        Some((&pat.event, fields))
    }
}

/// How much of a message typing captures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Typing {
    /// Every field of every message (the timeline, `hsmdiag events`).
    #[default]
    Full,
    /// No fields for a syslog program's messages of kinds no rule reads
    /// ([`Grammar::needed_fields`]), except connection anchors.
    Lean,
    /// As [`Typing::Lean`], and no fields for connection anchors either
    /// (one input: there is no other clock to compare with).
    LeanNoAnchors,
}

/// Every loaded catalogue plus the index from program name to catalogue.
#[derive(Debug, Default)]
pub struct Grammar {
    catalogues: Vec<Catalogue>,
    by_program: HashMap<String, usize>,
    raw: Vec<usize>,
    macros: BTreeMap<String, MacroDef>,
    /// Event kind → how its events give connection anchors.
    anchors: HashMap<String, AnchorDef>,
    /// JSON document types, with the file that declared each.
    documents: Vec<(String, DocumentDef)>,
    /// The document types alone, in the order the walker tries them.
    document_defs: Vec<DocumentDef>,
    /// Session context settings.
    contexts: Vec<ContextDef>,
}

/// The file of `%{NAME}` macros.
const PATTERNS_FILE: &str = "patterns.toml";

pub use super::embedded::BUILTIN_FORMATS;

impl Grammar {
    /// The grammar built into hsmdiag (`grammars/formats/`).
    ///
    /// # Panics
    /// Never in a released build: the built-in files are checked by the test
    /// suite, so a failure here is a bug in hsmdiag.
    pub fn builtin() -> Self {
        let mut g = Grammar::default();
        for (name, text) in BUILTIN_FORMATS {
            if *name == PATTERNS_FILE {
                g.add_macros(name, text)
                    .expect("built-in patterns.toml is checked by tests");
            }
        }
        // Raw catalogues added later take precedence (a user's over the built-in
        // ones); among the built-in files the first in name order wins, so they
        // are added in reverse: `annotations` before `azure_tools` before
        // `client_network`.
        for (name, text) in BUILTIN_FORMATS.iter().rev() {
            if *name != PATTERNS_FILE && *name != super::framing::FILE {
                g.add_catalogue_as(name, text, false)
                    .expect("built-in grammar files are checked by tests");
            }
        }
        // The built-in document types are tried in file-name order, each
        // file's in the order written; a user's come after.
        g.documents.sort_by(|a, b| a.0.cmp(&b.0));
        g.document_defs = g.documents.iter().map(|(_, d)| d.clone()).collect();
        g
    }

    /// The loaded catalogues.
    pub fn catalogues(&self) -> &[Catalogue] {
        &self.catalogues
    }

    /// Which catalogue types each syslog program's messages: (the program in
    /// lower case, the catalogue's index in [`catalogues`](Self::catalogues)).
    pub fn program_claims(&self) -> impl Iterator<Item = (&str, usize)> {
        self.by_program.iter().map(|(p, &i)| (p.as_str(), i))
    }

    /// The catalogues (indices) that type lines no program's catalogue claims.
    pub fn raw_catalogues(&self) -> &[usize] {
        &self.raw
    }

    /// Adds a user's grammar file: a patterns file (a `[patterns]` table of
    /// macros) or a catalogue.
    ///
    /// # Errors
    /// [`GrammarError`] pointing at the line that is wrong.
    pub fn add_file(&mut self, file: &str, text: &str) -> Result<(), GrammarError> {
        let is_patterns = text
            .parse::<toml::Table>()
            .is_ok_and(|t| t.contains_key("patterns") && !t.contains_key("message"));
        if is_patterns {
            self.add_macros(file, text)
        } else {
            self.add_catalogue(file, text)
        }
    }

    /// Adds `%{NAME}` macros from a patterns file.
    ///
    /// # Errors
    /// [`GrammarError`] when the file is not a valid patterns file.
    pub fn add_macros(&mut self, file: &str, text: &str) -> Result<(), GrammarError> {
        let parsed: PatternsFile =
            toml::from_str(text).map_err(|e| syntax_error(file, text, &e))?;
        self.macros.extend(parsed.patterns);
        Ok(())
    }

    /// Adds a catalogue. Its programs take precedence over earlier catalogues'
    /// (a user grammar overrides a built-in one).
    ///
    /// # Errors
    /// [`GrammarError`] pointing at the line that is wrong.
    pub fn add_catalogue(&mut self, file: &str, text: &str) -> Result<(), GrammarError> {
        self.add_catalogue_as(file, text, true)
    }

    /// Adds a catalogue, its patterns compiled now (`eager`: a user's file,
    /// whose errors then point at it) or on first use (a built-in one, which
    /// the test suite compiles).
    fn add_catalogue_as(
        &mut self,
        file: &str,
        text: &str,
        eager: bool,
    ) -> Result<(), GrammarError> {
        let parsed: CatalogueFile =
            toml::from_str(text).map_err(|e| syntax_error(file, text, &e))?;
        for d in &parsed.document {
            let problems = d.get_ref().problems();
            if let Some(p) = problems.into_iter().next() {
                return Err(GrammarError::Syntax {
                    file: file.to_owned(),
                    message: format!("document `{}`: {p}", d.get_ref().event),
                    src: NamedSource::new(file, Arc::from(text)),
                    span: Some(d.span().into()),
                });
            }
        }
        let mut messages = Vec::with_capacity(parsed.message.len());
        for m in parsed.message {
            let pat = self.compile(file, text, m, eager)?;
            if let Some(def) = &pat.anchor_def {
                self.anchors
                    .insert(pat.event.as_str().to_owned(), def.clone());
            }
            messages.push(pat);
        }
        let matcher = OnceLock::new();
        if eager {
            // A user's catalogue: built now, so that an error names the file.
            let built = Matcher::build(&messages).map_err(|message| GrammarError::Syntax {
                file: file.to_owned(),
                message,
                src: NamedSource::new(file, Arc::from(text)),
                span: None,
            })?;
            let _ = matcher.set(Ok(built));
        }
        for d in parsed.document {
            let d = d.into_inner();
            self.document_defs.push(d.clone());
            self.documents.push((file.to_owned(), d));
        }
        self.contexts.extend(parsed.context);
        let idx = self.catalogues.len();
        for p in &parsed.programs {
            self.by_program.insert(p.to_ascii_lowercase(), idx);
        }
        if parsed.last_resort && (!parsed.raw || !parsed.programs.is_empty()) {
            return Err(GrammarError::Syntax {
                file: file.to_owned(),
                message: "a `last_resort` catalogue types raw lines only: set `raw = true` and no `programs`".into(),
                src: NamedSource::new(file, Arc::from(text)),
                span: None,
            });
        }
        if parsed.raw {
            let at = self
                .raw
                .iter()
                .position(|&i| self.catalogues[i].priority <= parsed.priority)
                .unwrap_or(self.raw.len());
            self.raw.insert(at, idx);
        }
        self.catalogues.push(Catalogue {
            name: parsed.name,
            description: parsed.description,
            programs: parsed.programs,
            raw: parsed.raw,
            last_resort: parsed.last_resort,
            priority: parsed.priority,
            references: parsed.references,
            messages,
            matcher,
            guard: OnceLock::new(),
            builtin: !eager,
            file: file.to_owned(),
            src: Arc::from(text),
        });
        Ok(())
    }

    fn compile(
        &self,
        file: &str,
        text: &str,
        m: MessageDef,
        eager: bool,
    ) -> Result<MessagePattern, GrammarError> {
        let span: SourceSpan = m.pattern.span().into();
        let err = |message: String, help: Option<String>| GrammarError::Pattern {
            file: file.to_owned(),
            message,
            src: NamedSource::new(file, Arc::from(text)),
            span,
            help,
        };
        let (expanded, mut types) = self.expand(m.pattern.get_ref()).map_err(|name| {
            err(
                format!("unknown macro %{{{name}}}"),
                Some(format!(
                    "known macros: {}",
                    self.macros.keys().cloned().collect::<Vec<_>>().join(", ")
                )),
            )
        })?;
        let expanded = ascii_classes(&expanded);
        if expanded.len() > MAX_PATTERN {
            return Err(err(
                format!(
                    "the pattern is {} bytes once its macros are expanded; at most {MAX_PATTERN}",
                    expanded.len()
                ),
                Some("split it into several [[message]] patterns of the same event".into()),
            ));
        }
        let limits = Limits {
            size: MAX_COMPILED,
            dfa: 16 << 20,
        };
        let (regex, names) = if eager {
            let regex = LazyRegex::compiled(expanded, limits)
                .map_err(|e| err(format!("invalid pattern: {e}"), None))?;
            let names = regex
                .capture_names()
                .map(|n| n.map(str::to_owned))
                .collect();
            (regex, names)
        } else {
            let names = super::lazy::capture_names(&expanded);
            (LazyRegex::new(expanded, limits), names)
        };
        for (name, ty) in &m.fields {
            if names.iter().flatten().all(|n| n != name) {
                return Err(err(
                    format!("`fields` types `{name}`, which the pattern does not capture"),
                    Some("name the group with (?P<name>...) or %{MACRO:name}".into()),
                ));
            }
            types.insert(name.clone(), *ty);
        }
        let groups = names
            .iter()
            .enumerate()
            .filter_map(|(i, n)| {
                let n = n.as_deref()?;
                Some((
                    i,
                    Arc::from(n),
                    types.get(n).copied().unwrap_or(FieldType::Text),
                ))
            })
            .collect();
        let anchor_def = match m.anchor {
            Some(a) => {
                let span: SourceSpan = a.span().into();
                let def = a.into_inner();
                let captured = |f: &str| names.iter().flatten().any(|n| n == f);
                if let Some(missing) = def.fields().find(|f| !captured(f)) {
                    return Err(GrammarError::Pattern {
                        file: file.to_owned(),
                        message: format!("`anchor` reads `{missing}`, which the pattern does not capture"),
                        src: NamedSource::new(file, Arc::from(text)),
                        span,
                        help: Some("name a captured field: `client` (an address with its port), or `ip` and `port`".into()),
                    });
                }
                if !def.is_complete() {
                    return Err(GrammarError::Pattern {
                        file: file.to_owned(),
                        message:
                            "`anchor` needs the client's address: `client`, or `ip` and `port`"
                                .into(),
                        src: NamedSource::new(file, Arc::from(text)),
                        span,
                        help: Some("anchor = { side = \"server\", client = \"client\" }".into()),
                    });
                }
                Some(def)
            }
            None => None,
        };
        Ok(MessagePattern {
            event: EventKind::new(m.event.get_ref()),
            regex,
            groups,
            samples: m.samples,
            span,
            unread: false,
            anchor: false,
            anchor_def,
        })
    }

    /// Expands `%{NAME}` and `%{NAME:field}`; returns the regex and the field
    /// types the macros imply, or the name of an unknown macro.
    fn expand(&self, pattern: &str) -> Result<(String, HashMap<String, FieldType>), String> {
        let mut out = String::with_capacity(pattern.len() * 2);
        let mut types = HashMap::new();
        let mut rest = pattern;
        while let Some(at) = rest.find("%{") {
            out.push_str(&rest[..at]);
            let after = &rest[at + 2..];
            let Some(close) = after.find('}') else {
                out.push_str(&rest[at..]);
                rest = "";
                break;
            };
            let inner = &after[..close];
            let (name, field) = match inner.split_once(':') {
                Some((n, f)) => (n, Some(f)),
                None => (inner, None),
            };
            let def = self.macros.get(name).ok_or_else(|| name.to_owned())?;
            match field {
                Some(f) => {
                    out.push_str(&format!("(?P<{f}>{})", def.regex));
                    types.insert(f.to_owned(), def.ty);
                }
                None => out.push_str(&format!("(?:{})", def.regex)),
            }
            rest = &after[close + 1..];
        }
        out.push_str(rest);
        Ok((out, types))
    }

    /// The catalogue for a syslog program, if one claims it.
    pub fn for_program(&self, program: &str) -> Option<&Catalogue> {
        let key = program.to_ascii_lowercase();
        self.by_program.get(&key).map(|&i| &self.catalogues[i])
    }

    /// Types a message: by its program's catalogue if one claims the program,
    /// else by the raw catalogues (newest first).
    pub fn type_message(
        &self,
        program: Option<&str>,
        msg: &str,
        base: usize,
    ) -> Option<(EventKind, Vec<Field>)> {
        self.type_ref(program, msg, base, Typing::Full)
            .map(|(kind, fields)| (kind.clone(), fields))
    }

    /// Types a message as [`type_message`](Self::type_message) does, or
    /// leanly, its kind by reference (no reference count touched: lines are
    /// typed on one thread and their events made on another).
    pub(crate) fn type_ref(
        &self,
        program: Option<&str>,
        msg: &str,
        base: usize,
        typing: Typing,
    ) -> Option<(&EventKind, Vec<Field>)> {
        if let Some(cat) = program.and_then(|p| self.for_program(p)) {
            return cat.type_ref(msg, base, typing);
        }
        self.raw
            .iter()
            .filter(|&&i| !self.catalogues[i].last_resort)
            .find_map(|&i| self.catalogues[i].type_ref(msg, base, Typing::Full))
    }

    /// Types a message no other catalogue nor prose stage typed, by the
    /// last-resort catalogues.
    pub(crate) fn type_last_resort(
        &self,
        msg: &str,
        base: usize,
    ) -> Option<(EventKind, Vec<Field>)> {
        self.raw
            .iter()
            .filter(|&&i| self.catalogues[i].last_resort)
            .filter(|&&i| self.catalogues[i].guarded(msg))
            .find_map(|&i| self.catalogues[i].type_ref(msg, base, Typing::Full))
            .map(|(kind, fields)| (kind.clone(), fields))
    }

    /// Sets the event kinds whose fields rules read: with lean [`Typing`], a
    /// syslog program's message of any other kind is typed without its
    /// captures (most of the cost of typing; most appliance traffic is read by
    /// no rule). Messages without a program's catalogue always get their
    /// fields (the parser reads some of them itself).
    pub fn needed_fields(&mut self, kinds: impl IntoIterator<Item = String>) {
        let needed: std::collections::HashSet<String> = kinds.into_iter().collect();
        for cat in &mut self.catalogues {
            let claimed = !cat.programs.is_empty();
            for pat in &mut cat.messages {
                pat.unread = claimed && !needed.contains(pat.event.as_str());
                pat.anchor = self.anchors.contains_key(pat.event.as_str());
            }
        }
    }

    /// The event kinds that give connection anchors.
    pub fn anchor_kinds(&self) -> impl Iterator<Item = &str> {
        self.anchors.keys().map(String::as_str)
    }

    /// The connection anchor an event gives, if its kind's pattern declares
    /// one (`anchor = { ... }` in its catalogue).
    pub fn anchor_of(&self, ev: &crate::event::Event) -> Option<crate::anchor::Anchor> {
        self.anchors.get(ev.kind.as_str())?.anchor_of(ev)
    }

    /// The JSON document types, in the order the walker tries them.
    pub fn documents(&self) -> &[DocumentDef] {
        &self.document_defs
    }

    /// The session context settings that follow an event of this kind.
    pub fn contexts_of<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a ContextDef> {
        self.contexts.iter().filter(move |c| c.event == kind)
    }

    /// Every field a session context gives the lines after it.
    pub fn context_fields(&self) -> impl Iterator<Item = &str> {
        self.contexts
            .iter()
            .flat_map(|c| c.fields.values().map(String::as_str))
    }

    /// Every event kind any catalogue produces, with the fields it can carry.
    pub fn event_fields(&self) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (kind, fields) in super::json::walker_fields() {
            let e = out.entry(kind.to_owned()).or_default();
            e.extend(fields.iter().map(|f| (*f).to_owned()));
            e.extend(super::ids::ID_FIELDS.iter().map(|f| (*f).to_owned()));
        }
        for d in &self.document_defs {
            let e = out.entry(d.event.clone()).or_default();
            for f in d.field_names().chain(super::ids::ID_FIELDS.iter().copied()) {
                if !e.iter().any(|x| x == f) {
                    e.push(f.to_owned());
                }
            }
        }
        out.entry(crate::event::kind::RETURN_CODE.to_owned())
            .or_default()
            .push("message".to_owned());
        for k in super::framing::framing().lint.all() {
            out.entry(k.kind.clone())
                .or_default()
                .extend(k.fields.iter().cloned());
        }
        for c in &self.catalogues {
            for m in &c.messages {
                let e = out.entry(m.event.as_str().to_owned()).or_default();
                for f in m.field_names() {
                    if !e.iter().any(|x| x == f) {
                        e.push(f.to_owned());
                    }
                }
                for f in super::ids::ID_FIELDS {
                    if !e.iter().any(|x| x == f) {
                        e.push((*f).to_owned());
                    }
                }
            }
        }
        out
    }
}

pub use super::lazy::{MAX_COMPILED, MAX_PATTERN};

/// Whether every match of the pattern starts at the start of the text.
fn anchored_at_start(pattern: &str) -> bool {
    regex_syntax::parse(pattern).is_ok_and(|hir| {
        hir.properties()
            .look_set_prefix()
            .contains(regex_syntax::hir::Look::Start)
    })
}

/// Makes the shorthand classes `\d`, `\s`, `\w` (and their negations) ASCII.
/// Log lines are ASCII where these are used (numbers, separators, names), and
/// Unicode's versions make automata many times larger: `\w` alone is hundreds
/// of byte ranges, and every capture search pays for them.
fn ascii_classes(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 32);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('d') => out.push_str("[0-9]"),
            Some('D') => out.push_str("[^0-9]"),
            Some('s') => out.push_str("[\\t-\\r ]"),
            Some('S') => out.push_str("[^\\t-\\r ]"),
            Some('w') => out.push_str("[0-9A-Za-z_]"),
            Some('W') => out.push_str("[^0-9A-Za-z_]"),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

fn syntax_error(file: &str, text: &str, e: &toml::de::Error) -> GrammarError {
    GrammarError::Syntax {
        file: file.to_owned(),
        message: e.message().to_owned(),
        src: NamedSource::new(file, Arc::from(text)),
        span: e.span().map(Into::into),
    }
}
