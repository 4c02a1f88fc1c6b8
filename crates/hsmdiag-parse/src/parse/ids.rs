//! The Azure resources an event names: its resource ids, read from its
//! fields into fields of their own, and its error code classified.

use std::sync::Arc;

use crate::event::{Event, Field, Value};

/// Resource-id fields added to any event whose text names an Azure resource
/// (see [`add_ids`]).
pub const ID_FIELDS: &[&str] = &[
    "resource_id",
    "resource_group",
    "subscription",
    "subnet_id",
    "vnet_id",
    "gateway_id",
    "hsm_id",
    "nic_id",
    "deployment_id",
];

/// Adds `subnet_id`, `gateway_id`, `hsm_id`, ... for resource ids in the
/// event's message, target and resource fields.
pub(crate) fn add_ids(e: &mut Event) {
    super::codes::classify(e);
    let mut found: Vec<(&'static str, String)> = Vec::new();
    // The resource an event is about comes first; ids quoted in a message (an
    // operation's status URI, a resource that uses this one) after it.
    for field in [
        "target", "resource", "id", "url", "path", "message", "command",
    ] {
        for f in e.fields.iter().filter(|f| &*f.name == field) {
            let t = f.value.to_string();
            for (name, r) in crate::azure::ids_in(&t) {
                if !found.iter().any(|(n, _)| *n == name) {
                    found.push((name, t[r].to_owned()));
                }
            }
        }
    }
    if let Some((_, first)) = found.iter().find(|(n, _)| *n == "resource_id") {
        if let Some(rid) = crate::azure::ResourceId::parse(first) {
            let parts = [
                ("subscription", rid.part("subscription")),
                ("resource_group", rid.part("resource_group")),
            ];
            for (name, v) in parts {
                if let Some(v) = v {
                    if !e.fields.iter().any(|f| &*f.name == name) {
                        e.fields.push(Field {
                            name: Arc::from(name),
                            value: Value::Text(v),
                            range: 0..0,
                        });
                    }
                }
            }
        }
    }
    for (name, id) in found {
        if !e.fields.iter().any(|f| &*f.name == name) {
            e.fields.push(Field {
                name: Arc::from(name),
                value: Value::ResourceId(id),
                range: 0..0,
            });
        }
    }
}
