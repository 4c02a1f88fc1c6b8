//! Fix commands laid out so that they paste whole: one command per line,
//! each with the shell it runs in, and a command wider than the terminal
//! broken only where its shell takes a continuation (` \` in a POSIX shell,
//! `` ` `` in PowerShell). The Luna shells have no continuation: their
//! commands are never broken.

/// Where a command runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Shell {
    /// LunaSH on the HSM appliance (`lunash:>`).
    LunaSh,
    /// LunaCM on the client (`lunacm:>`).
    LunaCm,
    /// A POSIX shell on the client or anywhere the Azure CLI runs.
    Posix,
    /// PowerShell (Azure PowerShell cmdlets).
    PowerShell,
    /// Terraform configuration (HCL) to put in a `.tf` file, not to run.
    Terraform,
}

impl Shell {
    /// The prompt shown before the command in a terminal.
    pub fn prompt(self) -> &'static str {
        match self {
            Shell::LunaSh => "lunash:> ",
            Shell::LunaCm => "lunacm:> ",
            Shell::Posix => "$ ",
            Shell::PowerShell => "PS> ",
            Shell::Terraform => "(in the .tf file) ",
        }
    }

    /// What continues a line of this shell, if anything does.
    fn continuation(self) -> Option<&'static str> {
        match self {
            Shell::Posix => Some(" \\"),
            Shell::PowerShell => Some(" `"),
            Shell::LunaSh | Shell::LunaCm | Shell::Terraform => None,
        }
    }
}

/// The commands of a step's `command` text, one per line, each with its
/// shell: a line that starts with `lunash:>` or `lunacm:>` runs there, one
/// that starts with `PS>` or looks like a cmdlet (`Get-AzVirtualNetwork`,
/// `$vnet = ...`) in PowerShell, any other in a POSIX shell. The prompt is
/// not part of the text returned.
pub fn split(command: &str) -> Vec<(Shell, &str)> {
    command
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            for (prompt, shell) in [
                ("lunash:>", Shell::LunaSh),
                ("lunacm:>", Shell::LunaCm),
                ("PS>", Shell::PowerShell),
            ] {
                if let Some(rest) = l.strip_prefix(prompt) {
                    return (shell, rest.trim_start());
                }
            }
            let l = l.strip_prefix("$ ").unwrap_or(l);
            if powershell_like(l) {
                (Shell::PowerShell, l)
            } else if hcl_like(l) {
                (Shell::Terraform, l)
            } else {
                (Shell::Posix, l)
            }
        })
        .collect()
}

/// Terraform configuration: a block (`delegation { ... }`) or an argument
/// (`depends_on = [...]`).
fn hcl_like(l: &str) -> bool {
    let first = l.split_whitespace().next().unwrap_or("");
    let ident = !first.is_empty() && first.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    ident
        && (l[first.len()..].trim_start().starts_with('{')
            || l[first.len()..].trim_start().starts_with("= ["))
}

/// A PowerShell statement: a `Verb-Noun` cmdlet or a `$variable =`.
fn powershell_like(l: &str) -> bool {
    let first = l.split_whitespace().next().unwrap_or("");
    let cmdlet = first.split_once('-').is_some_and(|(verb, noun)| {
        verb.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && verb.chars().all(|c| c.is_ascii_alphabetic())
            && noun.chars().next().is_some_and(|c| c.is_ascii_uppercase())
    });
    let assignment =
        first.starts_with('$') && first.len() > 1 && l.split_whitespace().nth(1) == Some("=");
    cmdlet || assignment
}

/// The words of a command, a quoted string or a `<placeholder>` (with its
/// spaces) one word.
fn words(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quote) = (None, None::<char>);
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'' | '<') => {
                quote = Some(if c == '<' { '>' } else { c });
                start.get_or_insert(i);
            }
            (None, c) if c.is_whitespace() => {
                if let Some(s) = start.take() {
                    out.push(&text[s..i]);
                }
            }
            (None, _) => {
                start.get_or_insert(i);
            }
        }
    }
    if let Some(s) = start {
        out.push(&text[s..]);
    }
    out
}

/// One command laid out at `width` columns after `indent`, with its prompt:
/// whole on one line when it fits (or when its shell has no continuation),
/// else broken between words with the shell's continuation at the end of
/// every line but the last, the later lines indented four more. A quoted
/// string is never broken.
pub fn layout(shell: Shell, text: &str, width: usize, indent: &str) -> Vec<String> {
    let first = format!("{indent}{}", shell.prompt());
    let whole = format!("{first}{text}");
    let Some(cont) = shell.continuation() else {
        return vec![whole];
    };
    if whole.chars().count() <= width {
        return vec![whole];
    }
    let rest = format!("{indent}    ");
    let mut lines: Vec<String> = Vec::new();
    let mut line = first.clone();
    let mut empty = true;
    for w in words(text) {
        let room = width.saturating_sub(cont.chars().count());
        if !empty && line.chars().count() + 1 + w.chars().count() > room {
            line.push_str(cont);
            lines.push(std::mem::replace(&mut line, rest.clone()));
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(w);
        empty = false;
    }
    lines.push(line);
    lines
}

/// Every command of a step's `command` text laid out ([`split`], [`layout`]).
pub fn layout_all(command: &str, width: usize, indent: &str) -> Vec<String> {
    split(command)
        .into_iter()
        .flat_map(|(shell, text)| layout(shell, text, width, indent))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{Shell, layout, layout_all, split};

    #[test]
    fn each_line_is_one_command_in_its_shell() {
        let c = "vtl createCert -n 10.0.0.4\nlunash:> client register -client web -ip 10.0.0.4\nGet-AzVirtualNetwork -Name v\n$vnet = Get-AzVirtualNetwork\nlunacm:> role login -name po";
        let shells: Vec<Shell> = split(c).into_iter().map(|(s, _)| s).collect();
        assert_eq!(
            shells,
            [
                Shell::Posix,
                Shell::LunaSh,
                Shell::PowerShell,
                Shell::PowerShell,
                Shell::LunaCm
            ]
        );
        assert_eq!(split(c)[1].1, "client register -client web -ip 10.0.0.4");
    }

    /// A wide shell command pastes as one: every broken line ends with the
    /// continuation, and the quoted query stays whole.
    #[test]
    fn a_wide_command_breaks_only_with_a_continuation() {
        let c = "az deployment operation group list --resource-group hsm-rg --name dep --query \"[?properties.provisioningState=='Failed'].{resource:properties.targetResource.id}\"";
        let lines = layout(Shell::Posix, c, 60, "  ");
        assert!(lines.len() > 2, "{lines:?}");
        for l in &lines[..lines.len() - 1] {
            assert!(l.ends_with(" \\"), "{l}");
        }
        let joined: String = lines
            .iter()
            .map(|l| l.trim_end_matches(" \\").trim())
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(joined, format!("$ {c}"));
        assert!(lines.iter().any(|l| l.contains(
            "\"[?properties.provisioningState=='Failed'].{resource:properties.targetResource.id}\""
        )));
        let ps = layout(
            Shell::PowerShell,
            "Get-AzResource -ResourceGroupName hsm-rg -ResourceType Microsoft.HardwareSecurityModules/dedicatedHSMs",
            50,
            "",
        );
        assert!(ps[0].ends_with(" `"), "{ps:?}");
        // LunaSH has no continuation: whole, however wide.
        let luna = layout_all(
            "lunash:> client assignPartition -client web-server-01 -partition payments",
            30,
            "",
        );
        assert_eq!(luna.len(), 1);
    }
}
