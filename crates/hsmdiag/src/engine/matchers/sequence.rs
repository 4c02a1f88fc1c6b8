//! An ordered sequence of events per key within a window (`kind =
//! "sequence"`): optional steps may be skipped, a cancelling event drops the
//! key's partial matches, and at most a few partial matches wait per key.

use std::collections::{HashMap, VecDeque};

use super::super::{Fed, Hit, MAX_PARTIALS, Matched, Partial, key_of, next_step, within};
use crate::kb::{MatchSpec, Matcher};

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
    if let Some(c) = cancel {
        if c.matches(ev) {
            map.remove(&key_of(spec, ev));
            return;
        }
    }
    // Most events are no step of this sequence: skip them before any work.
    if !steps.iter().any(|s| s.accepts(ev.kind.as_str())) {
        return;
    }
    let key = key_of(spec, ev);
    let partials = map.entry(key.clone()).or_default();
    partials.retain(|p| within(spec, p.start, ev.time));
    // Advance the oldest partial match that takes this event as a next
    // step: interleaved connections on one NTLS process complete in order.
    let advanced = partials
        .iter_mut()
        .enumerate()
        .find_map(|(i, p)| next_step(steps, p.next, ev).map(|j| (i, j)));
    if let Some((i, j)) = advanced {
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
    } else if let Some(j) = next_step(steps, 0, ev) {
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
    if partials.is_empty() {
        map.remove(&key);
    }
}
