//! Connection anchors: one TCP connection as either end logged it. A client's
//! SYN in its packet capture and the appliance's "Incoming connection request"
//! for the same address and port date two logs against each other.
//!
//! Which events are anchors is data: a catalogue's `[[message]]` declares
//! `anchor = { side = "server", client = "client" }` (a field holding the
//! client's address and port) or `anchor = { side = "client", ip = "src_ip",
//! port = "src_port", when = { flags = "S" } }` (the address and port in two
//! fields, only when other fields have the given values).

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::event::{Event, SourceId, Value};

/// One end of a TCP connection, as a log saw it: the client's address and port,
/// and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anchor {
    /// The input that logged it.
    pub source: SourceId,
    /// The client's address and source port.
    pub client: SocketAddr,
    /// When, on that input's clock.
    pub time: DateTime<Utc>,
    /// Whether the client logged it (a packet capture) or the server did (NTLS's
    /// "Incoming connection request").
    pub client_side: bool,
}

/// Which end of the connection logs a pattern's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Side {
    Server,
    Client,
}

/// A pattern's `anchor` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AnchorDef {
    side: Side,
    /// The field holding the client's address with its port.
    #[serde(default)]
    client: Option<String>,
    /// The fields holding the client's address and port apart.
    #[serde(default)]
    ip: Option<String>,
    #[serde(default)]
    port: Option<String>,
    /// Fields that must show these values (as displayed) for the event to count.
    #[serde(default)]
    when: BTreeMap<String, String>,
}

impl AnchorDef {
    /// The fields it reads.
    pub(crate) fn fields(&self) -> impl Iterator<Item = &str> {
        [&self.client, &self.ip, &self.port]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .chain(self.when.keys().map(String::as_str))
    }

    /// Whether it names the client's address: `client`, or `ip` and `port`.
    pub(crate) fn is_complete(&self) -> bool {
        self.client.is_some() || (self.ip.is_some() && self.port.is_some())
    }

    /// The anchor an event of this pattern's kind gives, if it has a time and
    /// meets `when`.
    pub(crate) fn anchor_of(&self, ev: &Event) -> Option<Anchor> {
        let time = ev.time?;
        for (field, want) in &self.when {
            if ev.value(field)?.to_string() != *want {
                return None;
            }
        }
        let client = match (&self.client, &self.ip, &self.port) {
            (Some(f), _, _) => match ev.value(f)? {
                Value::Socket(s) => s,
                _ => return None,
            },
            (None, Some(ip), Some(port)) => {
                let ip: IpAddr = ev.value(ip)?.to_string().parse().ok()?;
                let port: u16 = ev.value(port)?.to_string().parse().ok()?;
                SocketAddr::new(ip, port)
            }
            _ => return None,
        };
        Some(Anchor {
            source: ev.span.source,
            client,
            time,
            client_side: self.side == Side::Client,
        })
    }
}
