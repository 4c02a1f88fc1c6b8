//! Typed events: what the parser layer hands to the rules engine.
//!
//! Every event points back at the bytes it came from ([`Span`]) and carries the
//! time and host that its framing gave it, when the log had them. The message
//! itself is typed by a grammar catalogue (see `grammars/formats/`) into an
//! [`EventKind`] and a short list of typed [`Field`]s.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

/// Identifies one input of an analysis (a file, a file inside a directory, or stdin).
///
/// Ids are dense and ordered as the inputs were given, so they double as an index
/// into the report summary's list of sources.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct SourceId(pub u32);

/// Where an event came from: the input, the 1-based line number and the byte range
/// inside that input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Span {
    /// The input the bytes belong to.
    pub source: SourceId,
    /// 1-based line number of the line holding the event.
    pub line: u32,
    /// Byte offset of the event's first byte from the start of the input.
    pub start: u64,
    /// Byte offset of the event's first byte from the start of its line (not 0
    /// for the second and later messages of a run-together line).
    pub column: u32,
    /// Byte offset one past the event's last byte.
    pub end: u64,
}

/// The event kinds the parser itself makes or reacts to: its framing stages
/// (the JSON walker, the joiner of `Code:` / `Message:` lines, the shell-session
/// tracker, the return-code and Azure-code tables) rely on these names, so they
/// are code. Every other kind is a catalogue's. Rules read them by name.
pub mod kind {
    /// A message no pattern typed.
    pub const UNRECOGNIZED: &str = "unrecognized";
    /// An Azure error record, from JSON, the az CLI, PowerShell or Terraform.
    pub const ERROR: &str = "arm.error";
    /// The same error seen again within a few lines (the az CLI prints it twice).
    pub const ERROR_REPEAT: &str = "arm.error_repeat";
    /// One `Code: X` / `Message: Y` / `Target: Z` line of an error record.
    pub const ERROR_FIELD: &str = "arm.error_field";
    /// A PowerShell error record (`Cmdlet : message`, `CategoryInfo`, ...).
    pub const POWERSHELL_ERROR: &str = "azure.ps_error";
    /// A line naming a Luna return code no pattern typed (`LUNA_RET_...`, `CKR_...`).
    pub const RETURN_CODE: &str = "luna.return_code";
    /// A JSON document in which the walker found nothing to type.
    pub const JSON_DOCUMENT: &str = "json.document";
    /// A file's own comments (`# Source: ...`): never evidence of a return code.
    pub const ANNOTATION: &str = "annotation";
    /// A Luna shell prompt: starts a session whose output lines it names.
    pub const PROMPT: &str = "luna.prompt";
    /// A line only counted (no rule can read it), whose time tells how far the
    /// log runs: windows and absences close on it.
    pub const CLOCK: &str = "clock";
}

/// The kind of an event, as named by its grammar catalogue (for example
/// `ntls.incoming_connection`).
///
/// Kinds are data, not Rust variants: a user grammar (`--grammar`) can add new
/// kinds without recompiling, and rules refer to kinds by name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventKind(Arc<str>);

impl EventKind {
    /// The kind of a message that no grammar pattern typed
    /// ([`kind::UNRECOGNIZED`]).
    pub fn unrecognized() -> Self {
        EventKind::new(kind::UNRECOGNIZED)
    }

    /// Makes a kind from its name.
    pub fn new(name: &str) -> Self {
        EventKind(Arc::from(name))
    }

    /// The kind's name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is the kind of a file's own comments (`# Source: ...`).
    pub fn is_annotation(&self) -> bool {
        *self.0 == *kind::ANNOTATION
    }

    /// Whether this is the kind given to messages that no pattern typed.
    pub fn is_unrecognized(&self) -> bool {
        *self.0 == *kind::UNRECOGNIZED
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for EventKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// A typed field value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Value {
    /// Free text.
    Text(String),
    /// A decimal integer (counts, ports, pids, days).
    Int(i64),
    /// A hexadecimal code such as a Luna result code `0xc0000711` or an OpenSSL
    /// error code `14094418`.
    Hex(u64),
    /// An IPv4 or IPv6 address.
    Ip(IpAddr),
    /// An address with its port (Luna writes `192.168.50.2/59415`).
    Socket(SocketAddr),
    /// A point in time.
    Time(DateTime<Utc>),
    /// An Azure resource id (`/subscriptions/.../resourceGroups/...`); its parts
    /// (`subscription`, `resource_group`, `name`, `vnet`, `subnet`, ...) are
    /// derived fields.
    ResourceId(String),
}

impl Value {
    /// The value of a derived sub-field: `ip` and `port` of a socket address,
    /// `ip` of an address (itself).
    pub fn part(&self, name: &str) -> Option<Value> {
        match (self, name) {
            (Value::Socket(s), "ip") => Some(Value::Ip(s.ip())),
            (Value::Socket(s), "port") => Some(Value::Int(i64::from(s.port()))),
            (Value::Ip(ip), "ip") => Some(Value::Ip(*ip)),
            (Value::ResourceId(id), part) => crate::azure::ResourceId::parse(id)?
                .part(part)
                .map(Value::Text),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Text(s) | Value::ResourceId(s) => f.write_str(s),
            Value::Int(n) => write!(f, "{n}"),
            Value::Hex(n) => write!(f, "0x{n:08x}"),
            Value::Ip(ip) => write!(f, "{ip}"),
            Value::Socket(s) => write!(f, "{s}"),
            Value::Time(t) => write!(
                f,
                "{}",
                t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
            ),
        }
    }
}

/// One named, typed field of an event, with the byte range of its text inside
/// [`Event::text`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    /// The field's name, as the grammar pattern's capture group names it.
    pub name: Arc<str>,
    /// The typed value.
    pub value: Value,
    /// Byte range of the field's text inside [`Event::text`].
    #[serde(skip)]
    pub range: std::ops::Range<usize>,
}

impl Field {
    /// A text field derived from a table, not read from the event's text (its
    /// range is empty).
    pub fn derived(name: &str, value: &str) -> Self {
        Field {
            name: Arc::from(name),
            value: Value::Text(value.to_owned()),
            range: 0..0,
        }
    }
}

/// One typed event: a syslog message, a shell output line, an error record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Event {
    /// What the message is, as named by its grammar.
    pub kind: EventKind,
    /// Where it came from.
    pub span: Span,
    /// When it happened, in UTC, if the log said.
    pub time: Option<DateTime<Utc>>,
    /// The host that logged it (the syslog HOSTNAME), if the log said.
    pub host: Option<String>,
    /// The program or syslog tag (`NTLS`, `lunash`, ...), if the log said.
    pub program: Option<String>,
    /// The process id in the tag (`NTLS[8508]`), if the log said.
    pub pid: Option<u32>,
    /// The event's text as the log shows it: the syslog header and the message.
    /// For a line that holds several run-together messages, only this message.
    pub text: String,
    /// Byte offset inside `text` where the message (after the header) starts.
    pub message_start: usize,
    /// Typed fields captured from the message.
    pub fields: Vec<Field>,
}

impl Event {
    /// A placeholder for lines no pattern typed that are not tied to one line
    /// (a JSON document that neither parsed nor held a code).
    #[doc(hidden)]
    pub fn unrecognized_at(source: SourceId) -> Self {
        Event {
            kind: EventKind::unrecognized(),
            span: Span {
                source,
                line: 0,
                start: 0,
                end: 0,
                column: 0,
            },
            time: None,
            host: None,
            program: None,
            pid: None,
            text: String::new(),
            message_start: 0,
            fields: Vec::new(),
        }
    }

    /// The message without its syslog header.
    pub fn message(&self) -> &str {
        self.text.get(self.message_start..).unwrap_or("")
    }

    /// The value of a field, or of a derived part of it (`client.ip`), or of a
    /// framing attribute (`host`, `program`, `pid`).
    pub fn value(&self, name: &str) -> Option<Value> {
        if let Some(f) = self.fields.iter().find(|f| &*f.name == name) {
            return Some(f.value.clone());
        }
        match name {
            "host" => return self.host.clone().map(Value::Text),
            "program" => return self.program.clone().map(Value::Text),
            "pid" => return self.pid.map(|p| Value::Int(i64::from(p))),
            _ => {}
        }
        let (base, part) = name.rsplit_once('.')?;
        self.fields
            .iter()
            .find(|f| &*f.name == base)
            .and_then(|f| f.value.part(part))
    }

    /// The field with this name, if captured.
    pub fn field(&self, name: &str) -> Option<&Field> {
        let base = name.split_once('.').map_or(name, |(b, _)| b);
        self.fields.iter().find(|f| &*f.name == base)
    }
}

/// Framing attributes every event has besides its typed fields; rules may key on
/// them and templates may use them. `shell`, `in_command` and `role` are set on
/// the output lines of a Luna shell session: the shell (`lunash`, `lunacm`), the
/// command typed at the prompt they answer, and the role a `role login -name`
/// command named (the settings a command shows that its later lines carry,
/// such as `hagroup listgroups`' `ha_group`, are the catalogues' `[[context]]`).
/// `cause` is the known issue an Azure error's code or message maps to
/// (`grammars/azure_codes.toml`), `quoted` marks an error found quoted in prose,
/// `service` the service a missing subnet delegation is for (read by that table).
/// `ret`, `ret_value`, `ret_meaning` and `ret_ckr` are the return code a line
/// names or gives by value (`grammars/return_codes.toml`): its name, value,
/// meaning and the PKCS#11 code it amounts to. `alarm_meaning`,
/// `alarm_severity` and `alarm_from` are what an HSM card alarm's id means
/// (`grammars/alarm_codes.toml`).
pub const META_FIELDS: &[&str] = &[
    "ret",
    "alarm_meaning",
    "alarm_severity",
    "alarm_from",
    "ret_value",
    "ret_meaning",
    "ret_ckr",
    "cause",
    "quoted",
    "service",
    "host",
    "program",
    "pid",
    "source",
    "line",
    "shell",
    "in_command",
    "role",
];
