//! YAML scalars that hold a JSON document, as recorded HTTP cassettes (the
//! Azure CLI's and SDKs' test recordings) and CI variables keep response
//! bodies: `string: "{\r\n  \"error\": {...` folded over many lines with
//! YAML's escapes, or `string: '{"error": ...}'` single-quoted. The scalar is
//! gathered, unescaped and folded as YAML reads it, and its value read as
//! JSON.

/// Lines one scalar may span before it is taken as cut off.
const MAX_LINES: usize = 20_000;

/// Where a quoted scalar holding JSON starts on this line: `key: "{` or
/// `key: '[` (after a `- ` list marker too). Returns the byte after the quote
/// and the quote.
pub(crate) fn scalar_start(line: &str) -> Option<(usize, char)> {
    let t = line.trim_start();
    let t = t.strip_prefix("- ").unwrap_or(t);
    let colon = t.find(": ")?;
    let key = &t[..colon];
    if key.is_empty()
        || !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return None;
    }
    let rest = &t[colon + 2..];
    let rest_trim = rest.trim_start();
    let quote = rest_trim
        .chars()
        .next()
        .filter(|c| *c == '"' || *c == '\'')?;
    let body = &rest_trim[1..];
    let first = body.trim_start_matches([' ', '\\']).chars().next();
    if !matches!(first, Some('{' | '[')) {
        return None;
    }
    let at = line.len() - body.len();
    Some((at, quote))
}

/// A quoted scalar being gathered.
#[derive(Debug, Clone)]
pub(crate) struct Scalar {
    quote: char,
    /// The line it starts on, and its offset.
    pub(crate) first: (u32, u64),
    /// The first line's length.
    pub(crate) first_len: usize,
    /// The raw text of each line, from just after the opening quote.
    raw: Vec<String>,
    closed: bool,
}

impl Scalar {
    /// Starts a scalar whose text begins at byte `at` of `line`.
    pub(crate) fn start(line: &str, no: u32, offset: u64, at: usize, quote: char) -> Self {
        let mut s = Scalar {
            quote,
            first: (no, offset),
            first_len: line.len(),
            raw: Vec::new(),
            closed: false,
        };
        s.add(&line[at..]);
        s
    }

    /// Adds a line; true once the scalar is closed (or too long to go on).
    pub(crate) fn push(&mut self, line: &str) -> bool {
        self.add(line);
        self.is_done()
    }

    /// Whether the closing quote came, or the scalar grew past the limit.
    pub(crate) fn is_done(&self) -> bool {
        self.closed || self.raw.len() >= MAX_LINES
    }

    /// Lines gathered.
    pub(crate) fn len(&self) -> usize {
        self.raw.len()
    }

    fn add(&mut self, text: &str) {
        // Find the closing quote, if this line holds it.
        let b = text.as_bytes();
        let mut i = 0;
        let mut end = None;
        while i < b.len() {
            match (self.quote, b[i]) {
                ('"', b'\\') => i += 1,
                ('"', b'"') => {
                    end = Some(i);
                    break;
                }
                ('\'', b'\'') if b.get(i + 1) == Some(&b'\'') => i += 1,
                ('\'', b'\'') => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
            i += 1;
        }
        match end {
            Some(e) => {
                self.raw.push(text[..e].to_owned());
                self.closed = true;
            }
            None => self.raw.push(text.to_owned()),
        }
    }

    /// The scalar's value: lines folded (a line break and the indentation
    /// after it become one space, an empty line a newline, a line ending in
    /// `\` joins the next without one) and escapes read (`\"`, `\\`, `\n`,
    /// `\r`, `\t`, `\/`, `\ `, `\uXXXX`; `''` in single quotes).
    pub(crate) fn value(&self) -> String {
        let mut folded = String::new();
        let last = self.raw.len().saturating_sub(1);
        for (i, line) in self.raw.iter().enumerate() {
            let mut piece = if i == 0 {
                line.as_str()
            } else {
                line.trim_start()
            };
            if i < last {
                piece = piece.trim_end();
            }
            if i > 0 {
                let prev_joined = folded.ends_with('\u{0}');
                if prev_joined {
                    folded.pop();
                } else if piece.is_empty() {
                    folded.push('\n');
                    continue;
                } else if !folded.ends_with('\n') {
                    folded.push(' ');
                }
            }
            if self.quote == '"' && i < last && piece.ends_with('\\') && !piece.ends_with("\\\\") {
                folded.push_str(&piece[..piece.len() - 1]);
                folded.push('\u{0}');
            } else {
                folded.push_str(piece);
            }
        }
        let folded = folded.replace('\u{0}', "");
        if self.quote == '\'' {
            return folded.replace("''", "'");
        }
        let mut out = String::with_capacity(folded.len());
        let mut chars = folded.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some('0') => out.push('\0'),
                Some('u') => {
                    let hex: String = chars.by_ref().take(4).collect();
                    match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                        Some(ch) => out.push(ch),
                        None => out.push_str(&hex),
                    }
                }
                Some(other) => out.push(other),
                None => {}
            }
        }
        out
    }
}

/// A quoted scalar holding JSON is a framing stage.
pub(crate) const OPENER: super::stage::Opener = super::stage::Opener {
    // The value starts with a brace or a bracket: a line without one is not
    // searched further.
    opens: |line| {
        memchr::memchr2(b'{', b'[', line.as_bytes())?;
        scalar_start(line).map(|(at, _)| at)
    },
    open: |line, at, no, offset| {
        // The quote is the byte before the scalar's text.
        let quote = char::from(line.as_bytes()[at - 1]);
        Box::new(Scalar::start(line, no, offset, at, quote))
    },
};

impl super::stage::Stage for Scalar {
    fn push(&mut self, line: &str, _no: u32, _offset: u64) -> super::stage::Push {
        use super::stage::Push;
        // A scalar's lines after its first are indented: a line that is not
        // ends a scalar whose closing quote never came.
        if !line.is_empty() && !line.starts_with([' ', '\t']) {
            Push::Ends
        } else if Scalar::push(self, line) {
            Push::Done
        } else {
            Push::Taken
        }
    }

    fn is_done(&self) -> bool {
        Scalar::is_done(self)
    }

    /// Reads the value as a JSON document. Its events point at the scalar's
    /// first line: the value's bytes are not the file's.
    fn close(
        self: Box<Self>,
        cx: &super::stage::Cx<'_>,
        out: &mut Vec<crate::event::Event>,
    ) -> super::stage::Closed {
        use super::counts::LineCounts;
        let lines = self.len() as u64;
        let (no, offset) = self.first;
        let from = out.len();
        let doc = self.value();
        let typed =
            super::json::JsonFrame::fragment(&doc, no, offset).into_events(cx.docs, cx.source, out);
        for e in &mut out[from..] {
            e.span.line = no;
            e.span.start = offset;
            e.span.column = 0;
            e.span.end = offset + self.first_len as u64;
            for f in &mut e.fields {
                f.range = 0..0;
            }
        }
        super::stage::Closed::Typed(if typed {
            LineCounts {
                recognized: lines,
                ..Default::default()
            }
        } else {
            out.truncate(from);
            out.push(crate::event::Event::unrecognized_at(cx.source));
            LineCounts {
                unrecognized: lines,
                ..Default::default()
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(lines: &[&str]) -> String {
        let (at, q) = scalar_start(lines[0]).expect("a scalar starts");
        let mut s = Scalar::start(lines[0], 1, 0, at, q);
        for l in &lines[1..] {
            if s.push(l) {
                break;
            }
        }
        assert!(s.is_done());
        s.value()
    }

    #[test]
    fn a_cassette_body_folded_over_lines() {
        // The layout of the Azure CLI's recordings (vcrpy cassettes).
        let v = read(&[
            r#"      string: "{\r\n  \"name\": \"testVnetGateway\",\r\n  \"type\":"#,
            r#"        \"Microsoft.Network/virtualNetworkGateways\",\r\n  \"etag\": \"W/\\\"cd56\\\"\",\r\n"#,
            r#"        \ \"properties\": {\r\n    \"provisioningState\": \"Updating\"\r\n  }\r\n}""#,
        ]);
        let json: serde_json::Value = serde_json::from_str(&v).expect("the value is JSON");
        assert_eq!(json["properties"]["provisioningState"], "Updating");
        assert_eq!(json["type"], "Microsoft.Network/virtualNetworkGateways");
        assert_eq!(json["etag"], "W/\"cd56\"");
    }

    #[test]
    fn single_quoted_on_one_line() {
        let v =
            read(&[r#"      string: '{"error":{"code":"QuotaExceeded","message":"it''s over"}}'"#]);
        let json: serde_json::Value = serde_json::from_str(&v).unwrap();
        assert_eq!(json["error"]["message"], "it's over");
    }

    #[test]
    fn only_scalars_that_hold_json() {
        assert!(scalar_start(r#"      string: "plain text""#).is_none());
        assert!(scalar_start(r#"    uri: https://management.azure.com/x"#).is_none());
        assert!(scalar_start(r#"  "code": "{not yaml""#).is_none());
        assert!(scalar_start(r#"      - '{"a": 1}'"#).is_none());
    }
}
