//! An expected event that never came (`kind = "absence"`): before a trigger
//! (the expected event did not precede it within the window) or after it
//! (the trigger waits for its companion; the wait's end is the engine's).

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::super::{Fed, Hit, Matched, key_of, within};
use crate::kb::{Cond, MatchSpec};

/// Feeds one event to an absence matcher whose expected event comes before.
pub(in crate::engine) fn step_before(
    (ri, si): (usize, usize),
    spec: &MatchSpec,
    (trigger, expect): (&Cond, &Cond),
    map: &mut HashMap<String, Option<DateTime<Utc>>>,
    ev: &Fed<'_>,
    hits: &mut Vec<Hit>,
) {
    if expect.matches(ev) {
        map.insert(key_of(spec, ev), ev.time);
    }
    if trigger.matches(ev) {
        let key = key_of(spec, ev);
        let seen = map.get(&key).is_some_and(|t| within(spec, *t, ev.time));
        if !seen {
            hits.push(Hit::one((ri, si), Matched::new(ev, trigger)));
        }
    }
}

/// Feeds one event to an absence matcher whose expected event comes after.
pub(in crate::engine) fn step_after(
    spec: &MatchSpec,
    (trigger, expect): (&Cond, &Cond),
    map: &mut HashMap<String, Vec<Matched>>,
    ev: &Fed<'_>,
) {
    if expect.matches(ev) {
        if let Some(waiting) = map.get_mut(&key_of(spec, ev)) {
            waiting.retain(|m| !within(spec, m.event.time, ev.time));
        }
    }
    if trigger.matches(ev) {
        map.entry(key_of(spec, ev))
            .or_default()
            .push(Matched::new(ev, trigger));
    }
}
