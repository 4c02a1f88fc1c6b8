//! PowerShell 7's "concise" error view: the message sits behind a `     | `
//! gutter and is wrapped at the console width, so no single line holds it.
//!
//! ```text
//! New-AzResourceGroupDeployment: /home/azureuser/hsm/deploy-hsm.ps1:27
//! Line |
//!   27 |  New-AzResourceGroupDeployment -ResourceGroupName hsm-rg -TemplateFile …
//!      |  ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
//!      | 10:32:11 - The deployment 'x' failed with error(s). Showing 2 out of 2
//!      | error(s). Status Message: ... (Code:PublicIpWithBasic...)  Status
//!      | Message: At least one resource deployment operation failed. ...
//! ```
//!
//! The gutter lines are gathered, unwrapped, and the message is typed once:
//! an `azure.ps_error` for the whole text and an `arm.error` for every
//! `<message> (Code:<code>)` inside it.

use std::sync::{Arc, LazyLock};

use regex::Regex;

use crate::event::{Event, EventKind, Field, SourceId, Span, Value};

static CODE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\(Code:\s*([A-Za-z][\w.]*)\)").expect("static regex is valid"));

/// Whether a line is one of the lines Windows PowerShell prints under an
/// error record (`At C:\deploy.ps1:173 char:25`, `+ ... $(az ...`, `+ ~~~~`,
/// `    + CategoryInfo : ...`, `    + FullyQualifiedErrorId : ...`): when a
/// native command's error output (the Azure CLI's JSON) is wrapped in a
/// `NativeCommandError`, these stand between its first line and the rest.
pub(crate) fn record_line(line: &str) -> bool {
    let t = line.trim_start();
    (t.starts_with("At ") && t.contains(" char:")) || t.starts_with("+ ") || t == "+"
}

/// The message text behind a gutter (`     | text`), or `None` for other
/// lines, the `Line |` header, the numbered source line and its `~~~` marker.
pub(crate) fn gutter(line: &str) -> Option<&str> {
    let rest = line.strip_prefix(' ')?.trim_start_matches(' ');
    let text = rest.strip_prefix('|')?;
    let text = text.strip_prefix(' ').unwrap_or(text);
    let t = text.trim();
    if t.is_empty() || t.chars().all(|c| c == '~') {
        return None;
    }
    Some(text)
}

/// A message being gathered from gutter lines.
#[derive(Debug)]
pub(crate) struct Block {
    line: u32,
    offset: u64,
    end: u64,
    text: String,
}

impl Block {
    pub(crate) fn new(line: u32, offset: u64, end: u64) -> Self {
        Block {
            line,
            offset,
            end,
            text: String::new(),
        }
    }

    /// Adds the next wrapped piece.
    pub(crate) fn push(&mut self, piece: &str, end: u64) {
        if !self.text.is_empty() && !self.text.ends_with(' ') && !piece.starts_with(' ') {
            self.text.push(' ');
        }
        self.text.push_str(piece.trim_end());
        self.end = end;
    }

    /// The events of the unwrapped message.
    pub(crate) fn into_events(self, source: SourceId, cmdlet: Option<&str>) -> Vec<Event> {
        let text = self.text.trim().to_owned();
        let span = Span {
            source,
            line: self.line,
            start: self.offset,
            end: self.end,
            column: 0,
        };
        let event = |kind: &str, fields: Vec<(&str, String)>| Event {
            kind: EventKind::new(kind),
            span,
            time: None,
            host: None,
            program: None,
            pid: None,
            text: text.clone(),
            message_start: 0,
            fields: fields
                .into_iter()
                .map(|(n, v)| Field {
                    name: Arc::from(n),
                    value: Value::Text(v),
                    range: 0..0,
                })
                .collect(),
        };
        let mut out = Vec::new();
        let mut fields = vec![("message", text.clone())];
        if let Some(c) = cmdlet {
            fields.insert(0, ("cmdlet", c.to_owned()));
        }
        use crate::event::kind;
        out.push(event(kind::POWERSHELL_ERROR, fields));
        for (code, message) in status_messages(&text) {
            out.push(event(
                kind::ERROR,
                vec![("code", code.to_owned()), ("message", message.to_owned())],
            ));
        }
        for e in &mut out {
            super::ids::add_ids(e);
        }
        out
    }
}

/// Every `<message> (Code:<code>)` in an Azure PowerShell deployment error: the
/// message starts after `Status Message:`, after ` - ` (a detail), or after the
/// previous code.
pub(crate) fn status_messages(text: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut from = 0;
    for m in CODE.captures_iter(text) {
        let whole = m.get(0).expect("group 0 always matches");
        let seg = &text[from..whole.start()];
        let start = seg
            .rfind("Status Message:")
            .map(|p| p + "Status Message:".len())
            .or_else(|| seg.rfind(" - ").map(|p| p + 3))
            .unwrap_or(0);
        let message = seg[start..].trim();
        if !message.is_empty() {
            out.push((m.get(1).expect("group 1 always matches").as_str(), message));
        }
        from = whole.end();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gutter_lines() {
        assert_eq!(gutter("     | error(s). Status"), Some("error(s). Status"));
        assert_eq!(gutter("     |  ~~~~~~~~~~"), None);
        assert_eq!(gutter("Line |"), None);
        assert_eq!(gutter("  27 |  New-AzResourceGroupDeployment"), None);
        assert_eq!(gutter("| a markdown table"), None);
    }

    #[test]
    fn splits_status_messages() {
        let t = "10:32:11 - The deployment 'x' failed with error(s). Showing 2 out of 2 error(s). \
                 Status Message: Basic IP configuration is not supported. (Code:PublicIpWithBasicSkuNotAllowedOnExpressRouteGateways)  \
                 Status Message: At least one resource deployment operation failed. (Code: DeploymentFailed)  \
                 - Basic IP configuration is not supported. (Code:PublicIpWithBasicSkuNotAllowedOnExpressRouteGateways) CorrelationId: 3858";
        let got = status_messages(t);
        assert_eq!(got.len(), 3);
        assert_eq!(
            got[0],
            (
                "PublicIpWithBasicSkuNotAllowedOnExpressRouteGateways",
                "Basic IP configuration is not supported."
            )
        );
        assert_eq!(
            got[1],
            (
                "DeploymentFailed",
                "At least one resource deployment operation failed."
            )
        );
        assert_eq!(got[2].1, "Basic IP configuration is not supported.");
    }
}
