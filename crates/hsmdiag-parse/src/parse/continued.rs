//! A shell command written over several lines: each line but the last ends in
//! the shell's line-continuation mark (` \` in POSIX shells, `` ` `` in
//! PowerShell), as documentation and runbooks print long `az` and Azure
//! PowerShell commands. The lines are joined back into the one command the
//! shell runs, and that is typed.

/// The most lines one command is joined from, and the longest command kept.
pub(crate) const MAX_LINES: u32 = 32;
pub(crate) const MAX_LEN: usize = 8 << 10;

/// The line without its continuation mark, when it ends in one: a blank
/// before a final `\` or `` ` `` (so a Windows path `C:\` or a `\` inside a
/// word does not count). A comment line never continues.
pub(crate) fn continues(line: &str) -> Option<&str> {
    let t = line.trim_end();
    if t.trim_start().starts_with('#') {
        return None;
    }
    let body = t.strip_suffix('\\').or_else(|| t.strip_suffix('`'))?;
    body.ends_with([' ', '\t'])
        .then(|| body.trim_end())
        .filter(|b| !b.trim().is_empty())
}

/// A command being joined from its lines.
#[derive(Debug)]
pub(crate) struct Continued {
    /// The command so far.
    pub(crate) text: String,
    /// Where its first line is.
    pub(crate) line_no: u32,
    pub(crate) offset: u64,
    /// How many lines it has taken.
    pub(crate) lines: u32,
}

impl Continued {
    /// Starts a command at its first line (without the mark).
    pub(crate) fn start(first: &str, line_no: u32, offset: u64) -> Self {
        Continued {
            text: first.to_owned(),
            line_no,
            offset,
            lines: 1,
        }
    }

    /// Adds a further line (without its mark, if it has one); says whether the
    /// command may go on.
    pub(crate) fn push(&mut self, piece: &str) -> bool {
        self.lines += 1;
        let piece = piece.trim();
        if self.text.len() + piece.len() < MAX_LEN {
            self.text.push(' ');
            self.text.push_str(piece);
        }
        self.lines < MAX_LINES
    }
}

/// A command joined from its lines is a framing stage: it opens where a
/// line ends in a continuation mark.
pub(crate) const OPENER: super::stage::Opener = super::stage::Opener {
    opens: |line| continues(line).map(str::len),
    open: |line, at, no, offset| Box::new(Continued::start(&line[..at], no, offset)),
};

impl super::stage::Stage for Continued {
    fn push(&mut self, line: &str, _no: u32, _offset: u64) -> super::stage::Push {
        use super::stage::Push;
        // A blank line ends the command; the line after the last marked one
        // is its last.
        if line.trim().is_empty() {
            return Push::Ends;
        }
        let piece = continues(line);
        let more = Continued::push(self, piece.unwrap_or(line));
        if piece.is_some() && more {
            Push::Taken
        } else {
            Push::Done
        }
    }

    fn is_done(&self) -> bool {
        false
    }

    fn close(
        self: Box<Self>,
        _cx: &super::stage::Cx<'_>,
        _out: &mut Vec<crate::event::Event>,
    ) -> super::stage::Closed {
        super::stage::Closed::Joined {
            text: self.text,
            line_no: self.line_no,
            offset: self.offset,
            lines: self.lines,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_of_a_continued_line() {
        assert_eq!(continues("az group delete \\"), Some("az group delete"));
        assert_eq!(
            continues("   --resource-group myRG `"),
            Some("   --resource-group myRG")
        );
        assert_eq!(continues("PS C:\\"), None);
        assert_eq!(continues("dir C:\\temp\\"), None);
        assert_eq!(continues("# az group delete \\"), None);
        assert_eq!(continues("echo `date`"), None);
        assert_eq!(continues(" \\"), None);
    }

    #[test]
    fn lines_join_into_one_command() {
        let mut c = Continued::start("az group delete", 7, 100);
        assert!(c.push("   --resource-group myRG"));
        assert!(c.push("   --verbose"));
        assert_eq!(c.text, "az group delete --resource-group myRG --verbose");
        assert_eq!(c.lines, 3);
    }
}
