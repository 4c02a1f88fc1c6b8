//! The framing stages' table (see [`stage`](super::stage)): which stages
//! there are, and in what order a line is offered to them. A PowerShell 7
//! error's gutter (`     | text`) is gathered *beside* the lines, which are
//! read as well: it is not a stage of its own, but its opening is in [`opens`]
//! too, so the prefilter reads its lines.

use super::stage::{Opener, Stage};
use super::{continued, json, powershell, yaml};

/// The stages, in the order a line with none open is offered to them.
pub(crate) const OPENERS: [Opener; 3] = [yaml::OPENER, continued::OPENER, json::OPENER];

/// The stage that opens on the line, started, if any.
pub(crate) fn open(line: &str, line_no: u32, offset: u64) -> Option<Box<dyn Stage>> {
    OPENERS
        .iter()
        .find_map(|o| (o.opens)(line).map(|at| (o.open)(line, at, line_no, offset)))
}

/// Whether a stage, or a PowerShell gutter, opens on the (peeled) line: the
/// parser must read it even when no pattern wants it.
pub(crate) fn opens(line: &str) -> bool {
    OPENERS.iter().any(|o| (o.opens)(line).is_some()) || powershell::gutter(line).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::stage::Push;

    #[test]
    fn each_stage_opens_on_its_own_first_line() {
        for (line, stage) in [
            ("  string: \"{\\\"error\\\": {", 0),
            ("az group delete \\", 1),
            ("ERROR: {\"error\": {\"code\": \"X\",", 2),
            ("{", 2),
        ] {
            let hits: Vec<usize> = OPENERS
                .iter()
                .enumerate()
                .filter(|(_, o)| (o.opens)(line).is_some())
                .map(|(i, _)| i)
                .collect();
            assert_eq!(hits.first(), Some(&stage), "{line}");
            assert!(opens(line));
        }
        assert!(opens("     | The resource was not found"));
        assert!(!opens("Nov 20 09:41:07 hsm1 NTLS[1234]: accepted"));
        // A comment quoting JSON opens nothing.
        assert!(!opens("# {\"code\": \"X\"}"));
    }

    #[test]
    fn a_stage_takes_lines_until_it_is_done() {
        let mut s = open("{", 1, 0).expect("a document opens");
        assert_eq!(s.push("  \"code\": \"X\"", 2, 2), Push::Taken);
        assert_eq!(s.push("}", 3, 17), Push::Done);
        let mut s = open("az group delete \\", 1, 0).expect("a command opens");
        assert_eq!(s.push("  --name rg \\", 2, 18), Push::Taken);
        assert_eq!(s.push("  --yes", 3, 32), Push::Done);
        let mut s = open("  string: '{\"a\":", 1, 0).expect("a scalar opens");
        assert_eq!(s.push("next: 1", 2, 17), Push::Ends);
    }
}
