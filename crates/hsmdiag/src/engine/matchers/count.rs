//! A count of events per key within a window (`kind = "count"`): fires when
//! the threshold is reached, then once more per event while it holds.

use std::collections::HashMap;

use super::super::{CountState, Fed, Hit, Matched, key_of, within};
use crate::finding::MAX_EVIDENCE;
use crate::kb::{MatchSpec, Matcher};

/// Feeds one event to a count matcher.
pub(in crate::engine) fn step(
    (ri, si): (usize, usize),
    spec: &MatchSpec,
    map: &mut HashMap<String, CountState>,
    ev: &Fed<'_>,
    hits: &mut Vec<Hit>,
) {
    let Matcher::Count {
        cond,
        threshold,
        distinct,
    } = &spec.matcher
    else {
        return;
    };
    if !cond.matches(ev) {
        return;
    }
    let st = map.entry(key_of(spec, ev)).or_default();
    if let Some(d) = distinct {
        let v = ev.value(d).map_or(String::new(), |v| v.to_string());
        if !st.seen.insert(&v) {
            return;
        }
    }
    st.times.push_back(ev.time);
    // Only the latest `threshold` times decide whether it holds (the
    // threshold-th latest within the window): older ones are not kept.
    if st.times.len() > (*threshold as usize).max(1) {
        st.times.pop_front();
    }
    while st.times.len() > 1 && !within(spec, st.times.front().copied().flatten(), ev.time) {
        st.times.pop_front();
        if !st.first.is_empty() && !st.fired {
            st.first.remove(0);
        }
    }
    if st.times.len() < *threshold as usize {
        st.fired = false;
        if st.first.len() < MAX_EVIDENCE {
            st.first.push(Matched::new(ev, cond));
        }
        return;
    }
    if st.fired {
        hits.push(Hit::one((ri, si), Matched::new(ev, cond)));
    } else {
        st.fired = true;
        let mut events = std::mem::take(&mut st.first);
        events.truncate(MAX_EVIDENCE - 1);
        events.push(Matched::new(ev, cond));
        hits.push(Hit {
            rule: ri,
            spec: si,
            events,
            weight: u64::from(*threshold),
            streak: None,
        });
    }
}
