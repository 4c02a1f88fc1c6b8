//! The event kinds the framing stages make or react to, read from
//! `grammars/formats/framing.toml`: code names the part a kind plays (an
//! error record, a shell prompt), the file names the kind.

use std::sync::LazyLock;

use serde::Deserialize;

/// The built-in file.
pub(crate) const FILE: &str = "framing.toml";

/// The kinds, by the part they play.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Kinds {
    /// A message no pattern typed.
    pub unrecognized: String,
    /// An Azure error record.
    pub error: String,
    /// The same error seen again within a few lines.
    pub error_repeat: String,
    /// One `Key: value` line of an error record.
    pub error_field: String,
    /// A PowerShell error record.
    pub powershell_error: String,
    /// A line naming a Luna return code that no pattern typed.
    pub return_code: String,
    /// A JSON document in which nothing was typed.
    pub json_document: String,
    /// A file's own comment.
    pub annotation: String,
    /// A Luna shell prompt.
    pub prompt: String,
    /// A line read for its time alone (lines the prefilter let pass).
    pub clock: String,
}

/// Shell sessions.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Session {
    /// Kinds that end a Luna shell session.
    pub ends: Vec<String>,
}

/// Azure error records.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Errors {
    /// The kinds that carry an Azure error code or message.
    pub kinds: Vec<String>,
    /// Keys of an error line that give the record's code.
    pub code_keys: Vec<String>,
    /// Keys that give its message.
    pub message_keys: Vec<String>,
    /// Keys that give its target.
    pub target_keys: Vec<String>,
    /// Keys that give its HTTP status.
    pub status_keys: Vec<String>,
}

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Framing {
    /// The kinds by part.
    pub kinds: Kinds,
    /// Shell sessions.
    pub session: Session,
    /// Error records.
    pub errors: Errors,
}

/// The framing kinds built into hsmdiag.
///
/// # Panics
/// Never in a released build: the file is checked by the test suite.
pub fn framing() -> &'static Framing {
    static FRAMING: LazyLock<Framing> = LazyLock::new(|| {
        let text = super::grammar::BUILTIN_FORMATS
            .iter()
            .find(|(n, _)| *n == FILE)
            .map(|(_, t)| *t)
            .expect("framing.toml is built in");
        toml::from_str(text).expect("built-in framing.toml is checked by tests")
    });
    &FRAMING
}

/// The built-in kinds by part.
pub fn kinds() -> &'static Kinds {
    &framing().kinds
}
