//! `{placeholder}` templates in rule text: subjects, messages and remediation
//! steps, filled with values from the evidence.
//!
//! `{client.ip}` takes a field (or a part of one); `{host|the HSM}` gives a
//! default for a value the log may not have; `{gateway_id.name,address|...}`
//! takes the first of several fields that has a value; `{list:name@state=Failed}`
//! lists the distinct values of a field over the finding's evidence (here: the
//! names of the events whose state is `Failed`); `{s:left}` is `s` unless the
//! field `left` is 1 (`password{s:left}`); `{{` and `}}` are literal braces.

use std::fmt::Write;

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    raw: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Lit(String),
    Var {
        name: String,
        default: Option<String>,
    },
    /// `{s:name}`: a plural ending, `s` unless the field is 1.
    Plural {
        name: String,
    },
}

impl Template {
    /// Parses a template.
    ///
    /// # Errors
    /// The byte offset and a description of an unclosed `{` or an empty name.
    pub fn parse(raw: &str) -> Result<Self, (usize, String)> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut chars = raw.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '{' if chars.peek().map(|p| p.1) == Some('{') => {
                    chars.next();
                    lit.push('{');
                }
                '}' if chars.peek().map(|p| p.1) == Some('}') => {
                    chars.next();
                    lit.push('}');
                }
                '{' => {
                    let rest = &raw[i + 1..];
                    let Some(end) = rest.find('}') else {
                        return Err((
                            i,
                            "`{` is never closed (write `{{` for a literal brace)".into(),
                        ));
                    };
                    let inner = &rest[..end];
                    if inner.contains('{') {
                        return Err((
                            i,
                            "a placeholder cannot hold another (write the default as plain text)"
                                .into(),
                        ));
                    }
                    let (name, default) = match inner.split_once('|') {
                        Some((n, d)) => (n.trim(), Some(d.to_owned())),
                        None => (inner.trim(), None),
                    };
                    if name.is_empty()
                        || !name.chars().all(|c| {
                            c.is_ascii_alphanumeric()
                                || matches!(c, '_' | '.' | ',' | ':' | '@' | '=' | '-')
                        })
                        || name.split(',').any(str::is_empty)
                    {
                        return Err((i, format!("`{{{inner}}}` is not a placeholder name")));
                    }
                    if !lit.is_empty() {
                        parts.push(Part::Lit(std::mem::take(&mut lit)));
                    }
                    parts.push(match name.strip_prefix("s:") {
                        Some(field) if default.is_none() && !field.is_empty() => Part::Plural {
                            name: field.to_owned(),
                        },
                        _ => Part::Var {
                            name: name.to_owned(),
                            default,
                        },
                    });
                    for _ in 0..inner.chars().count() + 1 {
                        chars.next();
                    }
                }
                c => lit.push(c),
            }
        }
        if !lit.is_empty() {
            parts.push(Part::Lit(lit));
        }
        Ok(Template {
            raw: raw.to_owned(),
            parts,
        })
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The placeholders that have no default, which the rule must capture
    /// (of alternatives, the first).
    pub fn required(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var {
                name,
                default: None,
            } => name.split(',').next(),
            _ => None,
        })
    }

    /// Every placeholder name, alternatives included.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.parts
            .iter()
            .filter_map(|p| match p {
                Part::Var { name, .. } | Part::Plural { name } => Some(name.split(',')),
                Part::Lit(_) => None,
            })
            .flatten()
    }

    /// How many of the placeholders the lookup has a value for: of two
    /// templates for one thing, the one that says more of it.
    pub fn filled(&self, lookup: impl Fn(&str) -> Option<String>) -> usize {
        self.parts
            .iter()
            .filter(|p| matches!(p, Part::Var { name, .. } if name.split(',').any(|n| lookup(n).is_some())))
            .count()
    }

    /// Fills the template; a value the lookup does not have becomes its
    /// default, or `<name>` so the reader sees what to put there.
    pub fn render(&self, lookup: impl Fn(&str) -> Option<String>) -> String {
        let mut out = String::with_capacity(self.raw.len() + 16);
        for p in &self.parts {
            match p {
                Part::Lit(s) => out.push_str(s),
                Part::Var { name, default } => match (name.split(',').find_map(&lookup), default) {
                    (Some(v), _) => out.push_str(&v),
                    (None, Some(d)) => out.push_str(d),
                    (None, None) => {
                        let _ = write!(out, "<{name}>");
                    }
                },
                Part::Plural { name } => {
                    let one = lookup(name).is_some_and(|v| matches!(v.trim(), "1" | "-1"));
                    if !one {
                        out.push('s');
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_the_first_alternative_with_a_value() {
        let t = Template::parse("{gateway_id.name,address|the gateway}").unwrap();
        assert_eq!(
            t.render(|n| (n == "address").then(|| "azurerm_x.er".to_owned())),
            "azurerm_x.er"
        );
        assert_eq!(t.render(|_| None), "the gateway");
        assert_eq!(
            t.names().collect::<Vec<_>>(),
            ["gateway_id.name", "address"]
        );
        assert!(Template::parse("{a,|x}").is_err());
    }

    #[test]
    fn fills_defaults_and_braces() {
        let t = Template::parse("vtl addServer -n {host|<HSM>} {{x}} {client.ip}").unwrap();
        assert_eq!(t.required().collect::<Vec<_>>(), ["client.ip"]);
        let s = t.render(|n| (n == "client.ip").then(|| "10.0.0.1".to_owned()));
        assert_eq!(s, "vtl addServer -n <HSM> {x} 10.0.0.1");
    }

    #[test]
    fn plural_endings_follow_their_field() {
        let t = Template::parse("{left} more password{s:left}").unwrap();
        assert_eq!(t.names().collect::<Vec<_>>(), ["left", "left"]);
        let one = t.render(|n| (n == "left").then(|| "1".to_owned()));
        let two = t.render(|n| (n == "left").then(|| "2".to_owned()));
        assert_eq!(one, "1 more password");
        assert_eq!(two, "2 more passwords");
    }

    #[test]
    fn rejects_unclosed() {
        assert!(Template::parse("a {b").is_err());
        assert!(Template::parse("a { b c }").is_err());
    }
}
