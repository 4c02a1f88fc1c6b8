//! What the framing stages read from `grammars/formats/framing.toml`: the
//! kinds that end a shell session, the kinds and keys of an Azure error
//! record, and the events of `hsmdiag lint`. The kinds the stages make are
//! code ([`crate::event::kind`]).

use std::sync::LazyLock;

use serde::Deserialize;

/// The built-in file.
pub(crate) const FILE: &str = "framing.toml";

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
    /// Text before a JSON document that names the error its errors are the
    /// detail of.
    #[serde(default)]
    pub leads: Vec<Lead>,
}

/// Text before a JSON document that stands for an outer error.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lead {
    /// The text, compared without case.
    pub text: String,
    /// The outer error's code: the `parent` of the document's outermost errors.
    pub code: String,
}

impl Errors {
    /// The outer error's code that the text before a document stands for.
    pub fn lead_code(&self, before: &str) -> Option<&str> {
        let before = before.to_ascii_lowercase();
        self.leads
            .iter()
            .find(|l| before.contains(&l.text.to_ascii_lowercase()))
            .map(|l| l.code.as_str())
    }
}

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Framing {
    /// Shell sessions.
    pub session: Session,
    /// Error records.
    pub errors: Errors,
    /// The events of `hsmdiag lint`.
    pub lint: LintKinds,
}

/// One event `hsmdiag lint` makes: its kind and fields.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LintKind {
    /// The event kind.
    pub kind: String,
    /// Its fields.
    pub fields: Vec<String>,
    /// The most of a thing a scope may hold before the check fires (the
    /// quota's: HSMs per `stamp` and per `region`).
    #[serde(default)]
    pub limits: Vec<Limit>,
}

/// A limit a lint check compares a count with.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    /// What is counted in: `stamp` or `region`.
    pub scope: String,
    /// The most allowed.
    pub most: usize,
}

/// The events of `hsmdiag lint`, by the check that makes them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LintKinds {
    /// An HSM's subnet without the Dedicated HSM delegation.
    pub subnet_not_delegated: LintKind,
    /// An HSM that does not wait for the gateway declared beside it.
    pub hsm_not_after_gateway: LintKind,
    /// A second gateway in a VNet.
    pub second_gateway: LintKind,
    /// More HSMs in a stamp or region than the quota.
    pub hsm_quota: LintKind,
    /// An explicit HSM address outside its subnet.
    pub hsm_ip_outside_subnet: LintKind,
    /// An HSM declared as a Terraform resource.
    pub hsm_in_terraform: LintKind,
}

impl LintKinds {
    /// Every one of them.
    pub fn all(&self) -> [&LintKind; 6] {
        [
            &self.subnet_not_delegated,
            &self.hsm_not_after_gateway,
            &self.second_gateway,
            &self.hsm_quota,
            &self.hsm_ip_outside_subnet,
            &self.hsm_in_terraform,
        ]
    }
}

/// The framing kinds built into hsmdiag.
///
/// # Panics
/// Never in a released build: the file is checked by the test suite.
pub fn framing() -> &'static Framing {
    static FRAMING: LazyLock<Framing> = LazyLock::new(|| {
        let text = super::embedded::BUILTIN_FORMATS
            .iter()
            .find(|(n, _)| *n == FILE)
            .map(|(_, t)| *t)
            .expect("framing.toml is built in");
        toml::from_str(text).expect("built-in framing.toml is checked by tests")
    });
    &FRAMING
}
