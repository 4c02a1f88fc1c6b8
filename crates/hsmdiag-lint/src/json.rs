//! JSON as templates and pasted sessions hold it: the document of a text
//! (comments allowed), and the line each value starts on.

use std::collections::HashMap;

use serde_json::Value as Json;

/// The JSON document of a text: all of it, or from the first line that opens
/// one (`{` or `[`), with that line's byte offset and the lines before it.
pub(crate) fn find_json(text: &str) -> Option<(Json, usize, u32)> {
    if let Some(j) = parse_json(text) {
        return Some((j, 0, 0));
    }
    let mut offset = 0;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        let t = line.trim_start();
        if t.starts_with('{') || t.starts_with('[') {
            let rest = &text[offset..];
            let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<Json>();
            if let Some(Ok(j)) = stream.next() {
                return Some((j, offset, n as u32));
            }
        }
        offset += line.len();
    }
    None
}

pub(crate) fn parse_json(text: &str) -> Option<Json> {
    let t = text.trim_start_matches('\u{feff}');
    serde_json::from_str(t)
        .ok()
        .or_else(|| serde_json::from_str(&strip_comments(t)).ok())
}

/// ARM templates may hold `//` and `/* */` comments: blanked, offsets and
/// line breaks kept (so every value keeps its line; `json_comments` blanks
/// the line breaks inside a block comment).
pub(crate) fn strip_comments(t: &str) -> String {
    let b = t.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let mut in_str = false;
    while i < b.len() {
        let c = b[i];
        if in_str {
            out.push(c);
            if c == b'\\' && i + 1 < b.len() {
                out.push(b[i + 1]);
                i += 2;
                continue;
            }
            in_str = c != b'"';
            i += 1;
            continue;
        }
        if c == b'"' {
            in_str = true;
        } else if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                out.push(b' ');
                i += 1;
            }
            continue;
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                out.push(if b[i] == b'\n' { b'\n' } else { b' ' });
                i += 1;
            }
            out.extend_from_slice(b"  ");
            i += 2;
            continue;
        }
        out.push(c);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_default()
}

pub(crate) fn is_parameters_file(j: &Json) -> bool {
    j.get("$schema")
        .and_then(Json::as_str)
        .is_some_and(|s| s.contains("deploymentParameters"))
        || (j.get("parameters").is_some()
            && j.get("resources").is_none()
            && j.get("contentVersion").is_some())
}

/// Where each JSON value starts: its path (`$.resources[2].properties.subnet`)
/// to its line.
pub(crate) struct Positions {
    pub(crate) lines: HashMap<String, u32>,
}

impl Positions {
    pub(crate) fn new(text: &str) -> Self {
        let text = strip_comments(text);
        let b = text.as_bytes();
        let mut lines = HashMap::new();
        // The path of the container being read and, in an object, the key
        // just read; in an array, the index of the next value.
        enum Frame {
            Obj(String, Option<String>),
            Arr(String, usize),
        }
        let mut stack: Vec<Frame> = Vec::new();
        let mut line = 1u32;
        let mut i = 0;
        let value_path = |stack: &Vec<Frame>| -> String {
            match stack.last() {
                None => "$".to_owned(),
                Some(Frame::Obj(p, Some(k))) => format!("{p}.{k}"),
                Some(Frame::Obj(p, None)) => p.clone(),
                Some(Frame::Arr(p, n)) => format!("{p}[{n}]"),
            }
        };
        let mut expect_key = false;
        while i < b.len() {
            let c = b[i];
            match c {
                b'\n' => line += 1,
                b'{' | b'[' => {
                    let p = value_path(&stack);
                    lines.entry(p.clone()).or_insert(line);
                    stack.push(if c == b'{' {
                        Frame::Obj(p, None)
                    } else {
                        Frame::Arr(p, 0)
                    });
                    expect_key = c == b'{';
                }
                b'}' | b']' => {
                    stack.pop();
                    expect_key = false;
                }
                b',' => match stack.last_mut() {
                    Some(Frame::Arr(_, n)) => *n += 1,
                    Some(Frame::Obj(_, k)) => {
                        *k = None;
                        expect_key = true;
                    }
                    None => {}
                },
                b':' => expect_key = false,
                b'"' => {
                    let start = i + 1;
                    i += 1;
                    while i < b.len() && b[i] != b'"' {
                        if b[i] == b'\\' {
                            i += 1;
                        }
                        i += 1;
                    }
                    let s = String::from_utf8_lossy(&b[start..i.min(b.len())]).into_owned();
                    if expect_key {
                        if let Some(Frame::Obj(_, k)) = stack.last_mut() {
                            *k = Some(s);
                        }
                    } else {
                        lines.entry(value_path(&stack)).or_insert(line);
                    }
                }
                c if !c.is_ascii_whitespace() && !expect_key => {
                    lines.entry(value_path(&stack)).or_insert(line);
                }
                _ => {}
            }
            i += 1;
        }
        Positions { lines }
    }

    /// The line of a path, or of its nearest parent that has one.
    pub(crate) fn line(&self, path: &str) -> u32 {
        let mut p = path.to_owned();
        loop {
            if let Some(l) = self.lines.get(&p) {
                return *l;
            }
            match p.rfind(['.', '[']) {
                Some(i) if i > 0 => p.truncate(i),
                _ => return 1,
            }
        }
    }
}
