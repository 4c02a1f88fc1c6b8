//! An ordered sequence of events per key within a window (`kind =
//! "sequence"`): optional steps may be skipped, a cancelling event drops the
//! key's partial matches, and at most a few partial matches wait per key.
//!
//! A later step or a cancelling event that lacks an open key field (`key =
//! ["resource_group", "name?"]`: a resource group's delete names the group,
//! not each HSM in it) goes to every waiting key that agrees on the fields it
//! has.

use std::collections::{HashMap, VecDeque};

use super::super::{Fed, Hit, MAX_PARTIALS, Matched, Partial, key_of, next_step, within};
use crate::kb::{Cond, MatchSpec, Matcher};

/// Feeds one event to a sequence matcher.
pub(in crate::engine) fn step(
    (ri, si): (usize, usize),
    spec: &MatchSpec,
    map: &mut HashMap<String, VecDeque<Partial>>,
    ev: &Fed<'_>,
    hits: &mut Vec<Hit>,
) {
    let Matcher::Sequence { steps, cancel } = &spec.matcher else {
        return;
    };
    let partial = partial_key(spec, ev);
    if let Some(c) = cancel {
        if c.matches(ev) {
            match &partial {
                Some(parts) => map.retain(|k, _| !agrees(k, parts)),
                None => {
                    map.remove(&key_of(spec, ev));
                }
            }
            return;
        }
    }
    // Most events are no step of this sequence: skip them before any work.
    if !steps.iter().any(|s| s.accepts(ev.kind.as_str())) {
        return;
    }
    if let Some(parts) = partial {
        // A later step only: every waiting key that agrees advances.
        let keys: Vec<String> = map.keys().filter(|k| agrees(k, &parts)).cloned().collect();
        for key in keys {
            if let Some(partials) = map.get_mut(&key) {
                partials.retain(|p| within(spec, p.start, ev.time));
                advance(steps, partials, ev, (ri, si), hits);
                if partials.is_empty() {
                    map.remove(&key);
                }
            }
        }
        return;
    }
    let key = key_of(spec, ev);
    let partials = map.entry(key.clone()).or_default();
    partials.retain(|p| within(spec, p.start, ev.time));
    // Advance the oldest partial match that takes this event as a next
    // step: interleaved connections on one NTLS process complete in order.
    if !advance(steps, partials, ev, (ri, si), hits) {
        if let Some(j) = next_step(steps, 0, ev) {
            if j + 1 == steps.len() {
                // Every earlier step is optional and none was seen.
                hits.push(Hit {
                    rule: ri,
                    spec: si,
                    events: vec![Matched::new(ev, &steps[j])],
                    weight: 1,
                    streak: None,
                });
            } else {
                if partials.len() >= MAX_PARTIALS {
                    partials.pop_front();
                }
                partials.push_back(Partial {
                    next: j + 1,
                    start: ev.time,
                    events: vec![Matched::new(ev, &steps[j])],
                });
            }
        }
    }
    if partials.is_empty() {
        map.remove(&key);
    }
}

/// Advances the oldest partial match that takes the event as its next step;
/// a completed one is a hit. Says whether one took it.
fn advance(
    steps: &[Cond],
    partials: &mut VecDeque<Partial>,
    ev: &Fed<'_>,
    (ri, si): (usize, usize),
    hits: &mut Vec<Hit>,
) -> bool {
    let Some((i, j)) = partials
        .iter_mut()
        .enumerate()
        .find_map(|(i, p)| next_step(steps, p.next, ev).map(|j| (i, j)))
    else {
        return false;
    };
    let p = &mut partials[i];
    p.events.push(Matched::new(ev, &steps[j]));
    p.next = j + 1;
    if p.next == steps.len() {
        let p = partials.remove(i).expect("index found above");
        hits.push(Hit {
            rule: ri,
            spec: si,
            events: p.events,
            weight: 1,
            streak: None,
        });
    }
    true
}

/// The key's parts, when the event lacks some of the key's open fields
/// (`name?`) and has a value for another (`None` otherwise: the whole key,
/// missing values included, as one value).
fn partial_key(spec: &MatchSpec, ev: &Fed<'_>) -> Option<Vec<Option<String>>> {
    if spec.open_key.is_empty() {
        return None;
    }
    let parts: Vec<Option<String>> = spec
        .key
        .iter()
        .map(|f| ev.value(f).map(|v| v.to_string()))
        .collect();
    let lacks_open = spec
        .key
        .iter()
        .zip(&parts)
        .any(|(f, p)| p.is_none() && spec.open_key.contains(f));
    (lacks_open && parts.iter().any(Option::is_some)).then_some(parts)
}

/// Whether a waiting key has the values the event's partial key has.
fn agrees(key: &str, parts: &[Option<String>]) -> bool {
    key.split('\u{1f}')
        .zip(parts)
        .all(|(k, p)| p.as_deref().is_none_or(|p| p == k))
}
