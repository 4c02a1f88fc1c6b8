//! JSON documents inside a log stream: ARM errors, `az` command output,
//! Resource Explorer, deployment operations, activity-log records.
//!
//! A document starts on a line that opens an object or array (also after an
//! `ERROR: ` or `Deployment failed. Correlation ID: ….` prefix) and is gathered
//! until its brackets close. It is then walked into events:
//!
//! - `arm.error` for every `{code, message, …}` object, nested `details` and an
//!   inner error carried as escaped JSON inside a `message` string included,
//!   with its `depth`, its `parent` code, and `leaf` = whether nothing more
//!   specific sits beneath it (the root cause);
//! - `arm.operation` for a deployment operation (`properties.targetResource`);
//! - `azure.resource` for a resource with a provisioning state (or a feature
//!   registration state);
//! - `azure.activity` for an activity-log record (`operationName`, `status`).
//!
//! A document that is cut off or malformed (pasted from a ticket) is still
//! mined for its `code` and `message` pairs, which are marked `truncated`.

use std::sync::{Arc, LazyLock};

use chrono::{DateTime, Utc};
use regex::Regex;
use serde_json::{Map, Value as Json};

use super::documents::{DocumentDef, get, id_value};
use crate::event::kind;
use crate::event::{Event, EventKind, Field, SourceId, Span, Value};

/// The fields of an error object the walker types as `arm.error`.
const ERROR_FIELDS: &[&str] = &[
    "code",
    "message",
    "depth",
    "target",
    "parent",
    "resource",
    "leaf",
    "truncated",
];

/// The fields of the walker's own events (besides [`ID_FIELDS`](super::ids::ID_FIELDS)): the error
/// kinds' (an error and its repeat) and the empty document's. The document
/// types' are their catalogues'.
pub fn walker_fields() -> [(&'static str, &'static [&'static str]); 3] {
    [
        (kind::ERROR, ERROR_FIELDS),
        (kind::ERROR_REPEAT, ERROR_FIELDS),
        (kind::JSON_DOCUMENT, &[]),
    ]
}

/// The most lines one document may span before it is taken as cut off.
const MAX_LINES: usize = 50_000;
/// The most bytes one document may hold before it is taken as cut off.
const MAX_BYTES: usize = 16 << 20;

/// Whether the line holds an error's `"code": "X"` pair, plain or escaped.
pub(crate) fn has_code_pair(line: &str) -> bool {
    static PAIR: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"\\?"[Cc]ode\\?"\s*:\s*\\?"[A-Za-z]"#).expect("static regex is valid")
    });
    memchr::memmem::find(line.as_bytes(), b"ode").is_some() && PAIR.is_match(line)
}

/// Where a JSON document starts on this line, if it opens one.
pub(crate) fn json_start(line: &str) -> Option<usize> {
    let trimmed = line.trim_start();
    let lead = line.len() - trimmed.len();
    if opens_document(trimmed) {
        return Some(lead);
    }
    // `ERROR: {...}`, `Deployment failed. Correlation ID: <guid>. {...}`,
    // `Response content: {...}`, az's `Exception Details:\t(Conflict) {`,
    // PowerShell's `... failed with message '{`: a known prefix.
    // Both openings hold a brace: without one, no substring search.
    let braced = memchr::memchr(b'{', line.as_bytes()).is_some();
    let at = braced
        .then(|| {
            memchr::memmem::find(line.as_bytes(), b"{\"")
                .or_else(|| memchr::memmem::find(line.as_bytes(), b"[{"))
        })
        .flatten()
        .or_else(|| {
            let t = line.trim_end();
            (t.ends_with('{') || t.ends_with('[')).then(|| t.len() - 1)
        })?;
    let prefix = line[..at].trim_end();
    let known = prefix.starts_with("ERROR")
        || prefix.starts_with("Error")
        || prefix.contains("Correlation ID")
        || [
            "Response content:",
            "Body:",
            "Message:",
            "Details:",
            "message '",
            "message:",
        ]
        .iter()
        .any(|p| prefix.ends_with(p))
        || is_code_in_parens(prefix)
        || is_logger(prefix);
    let ends_well = prefix.ends_with(':')
        || prefix.ends_with('.')
        || prefix.ends_with(')')
        || prefix.ends_with('\'');
    (known && ends_well).then_some(at)
}

/// A debug trace's logger in front of a response body: `cli.azure.cli.core.sdk.policies:`,
/// `msrest.http_logger :`, Terraform's `[DEBUG] provider.terraform-provider-azurerm_v4.27.0_x5:`.
fn is_logger(prefix: &str) -> bool {
    let Some(p) = prefix.strip_suffix(':') else {
        return false;
    };
    let p = p.trim_end();
    let name = p.rsplit(char::is_whitespace).next().unwrap_or(p);
    name.contains('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && (p.len() == name.len() || p.contains("] ") || p.starts_with("DEBUG:"))
}

/// `... (Conflict)`: az's way of putting an error code before its JSON.
fn is_code_in_parens(prefix: &str) -> bool {
    let Some(open) = prefix.rfind('(') else {
        return false;
    };
    prefix.ends_with(')')
        && prefix[open + 1..prefix.len() - 1]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.')
        && prefix.len() > open + 2
}

fn opens_document(t: &str) -> bool {
    let mut chars = t.chars();
    let first = chars.next();
    let next = chars.as_str().trim_start().chars().next();
    match first {
        // `{'code': ...}` is a dict as Python prints it.
        Some('{') => matches!(next, None | Some('"') | Some('}') | Some('\'')),
        Some('[') => matches!(next, None | Some('{') | Some(']') | Some('"')),
        _ => false,
    }
}

/// Tracks brackets outside strings to find where a document ends.
#[derive(Debug, Default, Clone)]
struct Scanner {
    depth: usize,
    in_str: bool,
    esc: bool,
}

impl Scanner {
    /// Feeds text; the byte index just past the closing bracket, if it closed.
    fn feed(&mut self, s: &str) -> Option<usize> {
        for (i, b) in s.bytes().enumerate() {
            if self.in_str {
                match (self.esc, b) {
                    (true, _) => self.esc = false,
                    (false, b'\\') => self.esc = true,
                    (false, b'"') => self.in_str = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => self.in_str = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        return Some(i + 1);
                    }
                }
                _ => {}
            }
        }
        None
    }
}

#[derive(Debug, Clone)]
struct FrameLine {
    no: u32,
    offset: u64,
    text: String,
}

/// A JSON document being gathered.
#[derive(Debug, Clone)]
pub(crate) struct JsonFrame {
    lines: Vec<FrameLine>,
    /// Where the document starts on the first line.
    start: usize,
    /// Where it ends on the last line, once closed.
    end: Option<usize>,
    bytes: usize,
    scanner: Scanner,
}

impl JsonFrame {
    /// Starts a document at byte `start` of this line.
    pub(crate) fn start(line: &str, no: u32, offset: u64, start: usize) -> Self {
        let mut f = JsonFrame {
            lines: Vec::new(),
            start,
            end: None,
            bytes: 0,
            scanner: Scanner::default(),
        };
        f.lines.push(FrameLine {
            no,
            offset,
            text: line.to_owned(),
        });
        f.bytes = line.len();
        f.end = f.scanner.feed(&line[start..]).map(|e| e + start);
        f
    }

    /// A piece of a document on one line, pasted from the middle of an object
    /// (`...","details":[{"code":"SkuNotAvailable","message":"..."`): it
    /// cannot parse, so its code and message pairs are mined.
    pub(crate) fn fragment(line: &str, no: u32, offset: u64) -> Self {
        JsonFrame {
            lines: vec![FrameLine {
                no,
                offset,
                text: line.to_owned(),
            }],
            start: 0,
            end: Some(line.len()),
            bytes: line.len(),
            scanner: Scanner::default(),
        }
    }

    /// Adds a line; true once the document is closed (or too large to go on).
    pub(crate) fn push(&mut self, line: &str, no: u32, offset: u64) -> bool {
        self.lines.push(FrameLine {
            no,
            offset,
            text: line.to_owned(),
        });
        self.bytes += line.len() + 1;
        self.end = self.scanner.feed(line);
        self.is_done()
    }

    /// Whether `line` can go on the document. A string never spans lines in
    /// JSON (nor in a Python dict), so a line that ended inside one was cut;
    /// and a line of a document starts with one of its tokens, a number only
    /// as a whole token (`2026-11-20 09:41:07 ERROR ...` is a log record). A
    /// line that cannot go on means the paste was cut before it: the document
    /// ends there and the line is read on its own.
    pub(crate) fn continues(&self, line: &str) -> bool {
        if self.scanner.in_str {
            return false;
        }
        let t = line.trim_start();
        match t.chars().next() {
            None => true,
            Some('0'..='9' | '-') => {
                let rest = t.trim_start_matches(|c: char| {
                    c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-')
                });
                let rest = rest.trim();
                rest.is_empty() || rest.starts_with([',', ']', '}', ')'])
            }
            Some(c) => {
                matches!(
                    c,
                    '{' | '}' | '[' | ']' | '"' | '\'' | ',' | ':' | '(' | ')'
                ) || ["true", "false", "null", "True", "False", "None"]
                    .iter()
                    .any(|w| t.starts_with(w))
            }
        }
    }

    /// Whether the document is closed or has grown past the limits.
    pub(crate) fn is_done(&self) -> bool {
        self.end.is_some() || self.lines.len() >= MAX_LINES || self.bytes >= MAX_BYTES
    }

    /// Number of lines gathered.
    pub(crate) fn len(&self) -> usize {
        self.lines.len()
    }

    fn document(&self) -> String {
        let mut doc = String::with_capacity(self.bytes);
        let last = self.lines.len() - 1;
        for (i, l) in self.lines.iter().enumerate() {
            let from = if i == 0 { self.start } else { 0 };
            let to = if i == last {
                self.end.unwrap_or(l.text.len()).max(from)
            } else {
                l.text.len()
            };
            doc.push_str(l.text.get(from..to).unwrap_or(""));
            doc.push('\n');
        }
        doc
    }

    /// Whether each line is blank.
    pub(crate) fn blank_lines(&self) -> usize {
        self.lines
            .iter()
            .filter(|l| l.text.trim().is_empty())
            .count()
    }

    /// Turns the document into events. Returns whether anything was typed.
    pub(crate) fn into_events(
        self,
        docs: &[DocumentDef],
        source: SourceId,
        out: &mut Vec<Event>,
    ) -> bool {
        self.events(docs, source, out)
    }

    /// [`into_events`](Self::into_events), keeping the frame (its lines go
    /// back to the line parser when nothing in them was typed).
    pub(crate) fn events(
        &self,
        docs: &[DocumentDef],
        source: SourceId,
        out: &mut Vec<Event>,
    ) -> bool {
        let doc = self.document();
        let before = out.len();
        let mut w = Walker {
            frame: self,
            docs,
            source,
            cursor: 0,
            out,
        };
        let (parsed, mended) = match serde_json::from_str::<Json>(&doc) {
            Ok(v) => (Some(v), false),
            Err(_) => (repaired(&doc), true),
        };
        match parsed {
            Some(v) => {
                // Text before the document may name the error it details.
                let lead = self
                    .lines
                    .first()
                    .map_or("", |l| &l.text[..self.start.min(l.text.len())]);
                let ctx = Ctx {
                    parent: super::framing::framing()
                        .errors
                        .lead_code(lead)
                        .map(str::to_owned),
                    ..Ctx::default()
                };
                w.walk(&v, &ctx);
                // A mended document may have lost inner errors: say so.
                if mended {
                    for e in &mut w.out[before..] {
                        if e.kind.as_str() == kind::ERROR && e.field("truncated").is_none() {
                            e.fields.push(Field {
                                name: Arc::from("truncated"),
                                value: text("true"),
                                range: 0..0,
                            });
                        }
                    }
                }
                // A document with nothing we know is still a recognised JSON document.
                if w.out.len() == before {
                    let e = w.event(kind::JSON_DOCUMENT, 0, 0..0, Vec::new(), None);
                    w.out.push(e);
                }
                true
            }
            None => {
                w.mine(&doc);
                w.out.len() > before
            }
        }
    }
}

/// A document as people paste it, mended so it parses: cut off at the end
/// (open strings, a key without its value, a dangling comma and every open
/// bracket closed), with Python's literals (`True`, `False`, `None`, as a
/// dict printed by the Azure CLI's Python shows them) and a comma missing
/// between two members. `None` when even the mended text does not parse.
pub(crate) fn repaired(doc: &str) -> Option<Json> {
    #[derive(PartialEq, Clone, Copy)]
    enum Last {
        Open,
        Comma,
        Colon,
        Key,
        Value,
    }
    let mut out = String::with_capacity(doc.len() + 16);
    let mut stack: Vec<u8> = Vec::new();
    let mut last = Last::Open;
    // The quote of the string being read: `"`, or `'` for Python's strings.
    let mut quote: Option<char> = None;
    let mut esc = false;
    let mut word = String::new();
    // A bare word (a number, a literal, Python's `True`/`None`, or something
    // no JSON has, like `<ErrorResponse object at 0x10>`) ends at a
    // structural character; what is not JSON becomes `null`.
    let flush_word = |word: &mut String, out: &mut String, last: &mut Last| {
        let w = word.trim();
        if w.is_empty() {
            word.clear();
            return;
        }
        if *last == Last::Value {
            out.push(',');
        }
        let literal = match w {
            "True" | "true" => "true",
            "False" | "false" => "false",
            "None" | "null" => "null",
            _ if serde_json::from_str::<serde_json::Number>(w).is_ok() => w,
            _ => "null",
        };
        out.push_str(literal);
        word.clear();
        *last = Last::Value;
    };
    let key_or_value = |stack: &[u8], last: Last| {
        if stack.last() == Some(&b'{') && matches!(last, Last::Open | Last::Comma) {
            Last::Key
        } else {
            Last::Value
        }
    };
    for c in doc.chars() {
        if let Some(q) = quote {
            match (esc, c) {
                (true, _) => {
                    esc = false;
                    // `\'` means a quote only in Python's strings.
                    if c == '\'' {
                        out.pop();
                    }
                    out.push(c);
                }
                (false, '\\') => {
                    esc = true;
                    out.push(c);
                }
                (false, c) if c == q => {
                    quote = None;
                    out.push('"');
                    last = key_or_value(&stack, last);
                }
                (false, '"') => out.push_str("\\\""),
                (false, c) => out.push(c),
            }
            continue;
        }
        if !matches!(c, '{' | '}' | '[' | ']' | ',' | ':' | '"' | '\'') {
            if !(word.is_empty() && c.is_whitespace()) {
                word.push(c);
            }
            continue;
        }
        flush_word(&mut word, &mut out, &mut last);
        match c {
            '"' | '\'' | '{' | '[' if last == Last::Value => out.push(','),
            _ => {}
        }
        match c {
            '"' | '\'' => {
                quote = Some(c);
                out.push('"');
                continue;
            }
            '{' | '[' => {
                stack.push(c as u8);
                last = Last::Open;
            }
            '}' | ']' => {
                stack.pop();
                last = Last::Value;
            }
            ',' => last = Last::Comma,
            ':' => last = Last::Colon,
            _ => {}
        }
        out.push(c);
    }
    flush_word(&mut word, &mut out, &mut last);
    if quote.is_some() {
        if esc {
            out.pop();
        }
        out.push('"');
        last = if last == Last::Colon {
            Last::Value
        } else {
            key_or_value(&stack, last)
        };
    }
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    match last {
        Last::Comma => {
            out.pop();
        }
        Last::Colon => out.push_str("null"),
        Last::Key => out.push_str(":null"),
        _ => {}
    }
    while let Some(b) = stack.pop() {
        out.push(if b == b'{' { '}' } else { ']' });
    }
    serde_json::from_str(&out).ok()
}

/// What an object inherits from those around it.
#[derive(Debug, Clone, Default)]
struct Ctx {
    depth: i64,
    parent: Option<String>,
    resource: Option<String>,
    time: Option<DateTime<Utc>>,
}

struct Walker<'a, 'o> {
    frame: &'a JsonFrame,
    docs: &'a [DocumentDef],
    source: SourceId,
    cursor: usize,
    out: &'o mut Vec<Event>,
}

/// A member by its camelCase name, or by the PascalCase name that PowerShell's
/// `ConvertTo-Json` writes (`id` / `Id`, `provisioningState` / `ProvisioningState`).
fn s<'v>(m: &'v Map<String, Json>, k: &str) -> Option<&'v str> {
    get(m, k).and_then(Json::as_str)
}

fn text(v: &str) -> Value {
    Value::Text(v.to_owned())
}

impl Walker<'_, '_> {
    /// Finds the line holding `needle`, from the cursor on (then from the top).
    fn locate(&mut self, needle: &str) -> (usize, std::ops::Range<usize>) {
        let quoted = format!("\"{needle}\"");
        let lines = &self.frame.lines;
        let search = |from: usize, pat: &str| {
            lines
                .iter()
                .enumerate()
                .skip(from)
                .find_map(|(i, l)| l.text.find(pat).map(|at| (i, at)))
        };
        let found = search(self.cursor, &quoted)
            .map(|(i, at)| (i, at + 1))
            .or_else(|| search(self.cursor, needle))
            .or_else(|| search(0, needle));
        match found {
            Some((i, at)) if !needle.is_empty() => {
                self.cursor = i;
                (i, at..at + needle.len())
            }
            _ => (self.cursor.min(lines.len() - 1), 0..0),
        }
    }

    fn event(
        &self,
        kind: &str,
        line: usize,
        _range: std::ops::Range<usize>,
        fields: Vec<(&str, Value)>,
        time: Option<DateTime<Utc>>,
    ) -> Event {
        let l = &self.frame.lines[line];
        let mut fs: Vec<Field> = fields
            .into_iter()
            .map(|(n, v)| Field {
                name: Arc::from(n),
                value: v,
                range: 0..0,
            })
            .collect();
        fs.shrink_to_fit();
        Event {
            kind: EventKind::new(kind),
            span: Span {
                source: self.source,
                line: l.no,
                start: l.offset,
                end: l.offset + l.text.len() as u64,
                column: 0,
            },
            time,
            host: None,
            program: None,
            pid: None,
            text: l.text.clone(),
            message_start: 0,
            fields: fs,
        }
    }

    fn push(
        &mut self,
        kind: &str,
        needle: &str,
        label: &str,
        fields: Vec<(&str, Value)>,
        time: Option<DateTime<Utc>>,
    ) -> usize {
        let (line, range) = self.locate(needle);
        let mut e = self.event(kind, line, range.clone(), fields, time);
        if let Some(f) = e.fields.iter_mut().find(|f| &*f.name == label) {
            f.range = range;
        }
        super::ids::add_ids(&mut e);
        self.out.push(e);
        self.out.len() - 1
    }

    fn walk(&mut self, v: &Json, ctx: &Ctx) {
        match v {
            Json::Object(m) => self.object(m, ctx),
            Json::Array(a) => a.iter().for_each(|x| self.walk(x, ctx)),
            Json::String(st) => {
                if let Some(inner) = embedded_json(st) {
                    self.walk(&inner, ctx);
                }
            }
            _ => {}
        }
    }

    fn object(&mut self, m: &Map<String, Json>, ctx: &Ctx) {
        let mut ctx = ctx.clone();
        // The document types of the catalogues (`[[document]]`), in order.
        for doc in self.docs {
            let Some(read) = doc.read(m) else { continue };
            let time = read.time.or(ctx.time);
            let fields: Vec<(&str, Value)> = read
                .fields
                .iter()
                .map(|(n, v)| (n.as_str(), v.clone()))
                .collect();
            self.push(&doc.event, &read.needle, &read.label, fields, time);
            if let Some(r) = read.resource {
                ctx.resource = Some(r);
            }
            ctx.time = time;
        }
        // An error object; inside an error's details, a message without a
        // code is an error too (`"details":[{"message":"Subnet ... is missing a
        // delegation ..."}]`).
        // App Service's errors spell them `Code` and `Message`.
        let code_of = s(m, "code").or_else(|| s(m, "Code"));
        let message_of = s(m, "message").or_else(|| s(m, "Message"));
        let detail = ctx.parent.is_some() && code_of.is_none() && message_of.is_some();
        if let Some(code) = code_of.or(detail.then_some("")) {
            if message_of.is_some() || get(m, "details").is_some() {
                let message = message_of.unwrap_or_default();
                let mut fields = vec![
                    ("code", text(code)),
                    ("message", text(message)),
                    ("depth", Value::Int(ctx.depth)),
                ];
                // ARM puts the resource of a group-level error in its details'
                // targets (`ResourceGroupDeletionBlocked`): take the first.
                let detail_target = || {
                    get(m, "details")
                        .and_then(Json::as_array)?
                        .iter()
                        .filter_map(Json::as_object)
                        .filter(|d| s(d, "code").is_none())
                        .find_map(|d| s(d, "target"))
                };
                if let Some(t) = s(m, "target").or_else(detail_target) {
                    fields.push(("target", id_value(t)));
                }
                if let Some(p) = &ctx.parent {
                    fields.push(("parent", text(p)));
                }
                if let Some(r) = &ctx.resource {
                    fields.push(("resource", id_value(r)));
                }
                let idx = if code.is_empty() {
                    self.push(kind::ERROR, message, "message", fields, ctx.time)
                } else {
                    self.push(kind::ERROR, code, "code", fields, ctx.time)
                };
                let mut inner = ctx.clone();
                inner.depth += 1;
                inner.parent = Some(code.to_owned());
                let before = self.out.len();
                for (k, v) in m {
                    if k != "code" {
                        self.walk(v, &inner);
                    }
                }
                let leaf = !self.out[before..]
                    .iter()
                    .any(|e| e.kind.as_str() == kind::ERROR);
                self.out[idx].fields.push(Field {
                    name: Arc::from("leaf"),
                    value: text(if leaf { "true" } else { "false" }),
                    range: 0..0,
                });
                return;
            }
        }
        for v in m.values() {
            self.walk(v, &ctx);
        }
    }

    /// Mines a document that does not parse for its code and message pairs.
    fn mine(&mut self, doc: &str) {
        static PAIR: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r#"\\?"[Cc]ode\\?"\s*:\s*\\?"(?P<code>[A-Za-z0-9_.\-]+)\\?"(?:[^{}]*?\\?"[Mm]essage\\?"\s*:\s*\\?"(?P<message>(?:[^"\\]|\\[^"]|\\"(?:[^,}\]]))*))?"#)
                .expect("static regex is valid")
        });
        let caps: Vec<_> = PAIR.captures_iter(doc).collect();
        for (i, c) in caps.iter().enumerate() {
            let code = c.name("code").map_or("", |m| m.as_str());
            let message = c
                .name("message")
                .map_or("", |m| m.as_str())
                .replace("\\\"", "\"");
            let next = caps
                .get(i + 1)
                .and_then(|n| n.get(0))
                .map_or(doc.len(), |m| m.start());
            let tail = &doc[c.get(0).map_or(0, |m| m.end())..next];
            let leaf = !tail.contains("details") || i + 1 == caps.len();
            let mut fields = vec![
                ("code", text(code)),
                ("message", text(&message)),
                ("depth", Value::Int(i as i64)),
                ("leaf", text(if leaf { "true" } else { "false" })),
                ("truncated", text("true")),
            ];
            // The error object's `target`, before or after its code.
            static TARGET: LazyLock<Regex> = LazyLock::new(|| {
                Regex::new(r#"\\?"target\\?"\s*:\s*\\?"(?P<t>[^"\\]+)"#)
                    .expect("static regex is valid")
            });
            let start = c.get(0).map_or(0, |m| m.start());
            let open = doc[..start].rfind('{').unwrap_or(0);
            let close = tail
                .find(['{', '}'])
                .map_or(next, |p| next - tail.len() + p);
            if let Some(t) = TARGET.captures(&doc[open..close]).and_then(|c| c.name("t")) {
                fields.push(("target", id_value(t.as_str())));
            }
            self.push(kind::ERROR, code, "code", fields, None);
        }
    }
}

/// A string that holds a JSON object (an inner error inside a `message`).
fn embedded_json(s: &str) -> Option<Json> {
    let t = s.trim();
    if !(t.starts_with('{') && t.ends_with('}') && t.contains("\"code\"")) {
        return None;
    }
    serde_json::from_str(t).ok()
}

/// A JSON document is a framing stage. A `#` comment (a shell comment, a
/// sample's source note) quoting JSON does not open one.
pub(crate) const OPENER: super::stage::Opener = super::stage::Opener {
    opens: |line| {
        // A document opens at a brace, or at a bracket that starts or ends
        // the line: a line with neither is not searched further.
        let t = line.trim_start();
        let square = t.starts_with('[') || t.trim_end().ends_with('[');
        if !square && memchr::memchr(b'{', line.as_bytes()).is_none() || t.starts_with('#') {
            return None;
        }
        json_start(line)
    },
    open: |line, at, no, offset| Box::new(JsonFrame::start(line, no, offset, at)),
};

/// Whether a line inside an open JSON document is really the start of a new
/// log record, so the document was cut off.
fn breaks_document(line: &str) -> bool {
    let t = line.trim_start();
    if t.starts_with("ERROR:")
        || t.starts_with("$ ")
        || t.starts_with("PS ")
        || t.contains("lunash:>")
        || t.contains("lunacm:>")
    {
        return true;
    }
    let h = super::syslog::parse_header(line);
    h.stamp.is_some() && h.program.is_some()
}

impl super::stage::Stage for JsonFrame {
    fn push(&mut self, line: &str, no: u32, offset: u64) -> super::stage::Push {
        use super::stage::Push;
        // PowerShell's lines under a `NativeCommandError` stand inside the
        // JSON error the command printed: read on their own, the document
        // stays open. A new log record inside an open document means the
        // document was cut off.
        if super::powershell::record_line(line) {
            Push::Beside
        } else if breaks_document(line) || !self.continues(line) {
            Push::Ends
        } else if JsonFrame::push(self, line, no, offset) {
            Push::Done
        } else {
            Push::Taken
        }
    }

    fn is_done(&self) -> bool {
        JsonFrame::is_done(self)
    }

    fn close(
        self: Box<Self>,
        cx: &super::stage::Cx<'_>,
        out: &mut Vec<Event>,
    ) -> super::stage::Closed {
        use super::{counts::LineCounts, stage::Closed};
        let lines = self.len() as u64;
        let blank = self.blank_lines() as u64;
        if self.events(cx.docs, cx.source, out) {
            return Closed::Typed(LineCounts {
                blank,
                recognized: lines - blank,
                ..Default::default()
            });
        }
        Closed::Reread {
            lines: self
                .lines
                .into_iter()
                .map(|l| (l.no, l.offset, l.text))
                .collect(),
            blank,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pasted_documents_are_mended() {
        let cut = "{\n  \"name\": \"GWVPN\",\n  \"properties\": {\n    \"provisioningState\": \"Updating\",\n    \"sku\": {\n      \"name\": \"VpnGw1\",";
        let v = repaired(cut).expect("a cut-off document is mended");
        assert_eq!(v["properties"]["provisioningState"], "Updating");
        let cut_in_string =
            "{\"error\": {\"code\": \"QuotaExceeded\", \"message\": \"Operation could not be compl";
        let v = repaired(cut_in_string).unwrap();
        assert_eq!(v["error"]["code"], "QuotaExceeded");
        let cut_key = "{\"error\": {\"code\": \"X\", \"mess";
        assert_eq!(repaired(cut_key).unwrap()["error"]["code"], "X");
        let python = "{\"complete\": True, \"active\": False, \"last_success_end_time\": None}";
        let v = repaired(python).unwrap();
        assert_eq!(v["complete"], true);
        assert!(v["last_success_end_time"].is_null());
        let missing_comma = "{\n  \"code\": \"Conflict\"\n  \"message\": \"x\"\n}";
        assert_eq!(repaired(missing_comma).unwrap()["message"], "x");
        let dict = "{'additional_properties': {}, 'code': 'InvalidTemplateDeployment', 'message': \"The template deployment 'addstorage' is not valid.\", 'target': None, 'details': [&lt;azure.mgmt.resource.models.ErrorResponse object at 0x1083bfe80&gt;], 'complete': True}";
        let v = repaired(dict).expect("a Python dict is read");
        assert_eq!(v["code"], "InvalidTemplateDeployment");
        assert_eq!(
            v["message"],
            "The template deployment 'addstorage' is not valid."
        );
        assert!(v["target"].is_null());
        assert_eq!(v["complete"], true);
        assert_eq!(
            repaired("{'msg': 'it\\'s \"quoted\"'}").unwrap()["msg"],
            "it's \"quoted\""
        );
    }

    fn events(text: &str) -> Vec<Event> {
        let mut lines = text.lines();
        let first = lines.next().unwrap();
        let start = json_start(first).unwrap();
        let mut f = JsonFrame::start(first, 1, 0, start);
        for (i, l) in lines.enumerate() {
            if f.push(l, i as u32 + 2, 0) {
                break;
            }
        }
        let mut out = Vec::new();
        let grammar = crate::parse::grammar::Grammar::builtin();
        f.into_events(grammar.documents(), SourceId(0), &mut out);
        out
    }

    fn field(e: &Event, n: &str) -> String {
        e.value(n).map(|v| v.to_string()).unwrap_or_default()
    }

    #[test]
    fn nested_errors_find_the_leaf() {
        let ev = events(
            r#"{"status":"Failed","error":{"code":"DeploymentFailed","message":"At least one resource deployment operation failed.","details":[
  {"code":"Conflict","message":"{\"status\":\"Failed\",\"error\":{\"code\":\"ResourceDeploymentFailure\",\"message\":\"x\",\"details\":[{\"code\":\"SubnetNotDelegated\",\"message\":\"Subnet /subscriptions/0000-1111/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s is not delegated.\"}]}}"}
]}}"#,
        );
        let codes: Vec<String> = ev
            .iter()
            .map(|e| {
                format!(
                    "{}:{}:{}",
                    field(e, "code"),
                    field(e, "depth"),
                    field(e, "leaf")
                )
            })
            .collect();
        assert_eq!(
            codes,
            [
                "DeploymentFailed:0:false",
                "Conflict:1:false",
                "ResourceDeploymentFailure:2:false",
                "SubnetNotDelegated:3:true"
            ]
        );
        assert_eq!(field(&ev[3], "subnet_id.subnet"), "s");
        assert_eq!(field(&ev[3], "parent"), "ResourceDeploymentFailure");
        assert_eq!(ev[3].span.line, 2);
    }

    #[test]
    fn cut_off_documents_are_mined() {
        let ev = events(
            "ERROR: {\"error\":{\"code\":\"DeploymentFailed\",\"message\":\"m\",\"details\":[{\"code\":\"QuotaExceeded\",\"message\":\"Quota exceeded for",
        );
        let codes: Vec<String> = ev
            .iter()
            .map(|e| format!("{}:{}", field(e, "code"), field(e, "leaf")))
            .collect();
        assert_eq!(codes, ["DeploymentFailed:false", "QuotaExceeded:true"]);
        assert_eq!(field(&ev[1], "truncated"), "true");
    }

    #[test]
    fn starts() {
        assert_eq!(json_start("{"), Some(0));
        assert_eq!(json_start("  [ {"), Some(2));
        assert_eq!(json_start("ERROR: {\"error\": 1}"), Some(7));
        assert_eq!(
            json_start("Connection to 10.3.0.4 22 port [tcp/ssh] succeeded!"),
            None
        );
        assert_eq!(json_start("[hsm1] lunash:>hsm show"), None);
        assert_eq!(json_start("Exception Details:\t(Conflict) {"), Some(30));
        assert_eq!(json_start("\tMessage: {"), Some(10));
        assert_eq!(
            json_start("Resource x 'HSM1' failed with message '{"),
            Some(39)
        );
        assert_eq!(json_start("it failed: {"), None);
    }
}
